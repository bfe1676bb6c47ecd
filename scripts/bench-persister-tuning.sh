#!/usr/bin/env bash
# `make bench-persister-tuning`: the persister's throughput, lag and MariaDB load against
# --batch-size and --batch-delay-ms, at a steady load (docs/operations.md, *Tuning the
# persister*).
#
# One release bridge, one Redis, one MariaDB and one Benchmarks/GatewayBench `chat`
# client (PAIRS connected pairs) for the whole run. For each RATE and each cell of
# SIZES × DELAYS: a fresh database (`persister migrate`), the persister group moved to
# the end of the streams, a persister started with that batch size and delay, then the
# client sends RATE single-chat messages/s over WebSockets, paced, for WARMUP + MEASURE
# seconds. Over the MEASURE window: rows/s written (COUNT(*) in MariaDB), the lag
# (`persister status`, age of the oldest message not yet written, every 0.25 s),
# MariaDB's commits/s, and the CPU of the persister and of mariadbd (/proc). Commits are
# Handler_commit, not Com_commit: a batch of messages is one autocommitted multi-row
# INSERT, which Com_commit does not count (the CSV keeps both, and the persister's own
# batch count, persister_batch_size_count, to compare). Then that persister is stopped
# (SIGTERM: it commits what it holds). Only the persister and its database change
# between cells; everything else is warm.
#
#   RATES="1000 2500" SIZES="50 200 1000 5000" DELAYS="0 10 50 200" WARMUP=2 MEASURE=8 \
#   PAIRS=100 make bench-persister-tuning
#
# About 9 minutes with the defaults. Writes RESULTS (.build/persister-tuning)/
# persister-tuning.csv and .md (the table, also printed) and the chart CHART
# (docs/images/persister-tuning.png). KEEP_TMP=1 keeps the folder with the logs and the
# lag samples.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RATES=${RATES:-1000 2500}
SIZES=${SIZES:-50 200 1000 5000}
DELAYS=${DELAYS:-0 10 50 200}
WARMUP=${WARMUP:-2}
MEASURE=${MEASURE:-8}
PAIRS=${PAIRS:-100}
RESULTS=${RESULTS:-.build/persister-tuning}
CHART=${CHART:-docs/images/persister-tuning.png}
for name in WARMUP MEASURE PAIRS; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done
for value in $RATES $SIZES; do
    [[ $value =~ ^[1-9][0-9]*$ ]] || die "RATES and SIZES hold positive integers, not '$value'"
done
for value in $DELAYS; do
    [[ $value =~ ^[0-9]+$ ]] || die "DELAYS holds integers (ms), not '$value'"
done

ensure_packages
ensure_python
build_release_products persister bridge gateway-bench

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-persister-tuning.XXXXXX")
REDIS_PID='' MARIADB_PID='' BRIDGE_PID='' PERSISTER_PID='' CLIENT_PID='' SAMPLER_PID=''
cleanup() {
    hurry_on_signal
    exec 3>&- 2>/dev/null || true
    stop_tree '' "$SAMPLER_PID" "$CLIENT_PID" "$BRIDGE_PID" "$PERSISTER_PID"
    [ -n "$MARIADB_PID" ] && stop_pid "$MARIADB_PID"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    cleanup_mariadb_socket
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup

read -r REDIS_PORT MARIADB_PORT BRIDGE_PORT METRICS_PORT <<<"$(free_ports 4)"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
mariadb_url() { echo "mariadb://root@127.0.0.1:$MARIADB_PORT/$1"; }
now() { date +%s.%N; }
TICKS=$(getconf CLK_TCK)

start_redis "$TMP/redis" "$REDIS_PORT"
# MariaDB's default durability (a log flush at every commit), as in production.
start_mariadb "$TMP/mariadb" "$MARIADB_PORT"

migrate() { MARIADB_URL=$(mariadb_url "$1") LOG_LEVEL=warning "$BIN/persister" migrate >/dev/null; }
# start_persister DATABASE SIZE DELAY: `persister run` in the background (PERSISTER_PID),
# once its /metrics answers.
start_persister() {
    env REDIS_URL="$REDIS_URL" MARIADB_URL="$(mariadb_url "$1")" LOG_LEVEL=warning \
        PERSISTER_BATCH_SIZE="$2" PERSISTER_BATCH_DELAY_MS="$3" PERSISTER_METRICS_PORT="$METRICS_PORT" \
        PERSISTER_TRIM_INTERVAL_MS=2000 setsid "$BIN/persister" run 2>>"$TMP/persister.log" &
    PERSISTER_PID=$!
    wait_for_http persister "$PERSISTER_PID" "http://127.0.0.1:$METRICS_PORT/metrics" "$TMP/persister.log"
}
stop_persister() {
    stop_pid "$PERSISTER_PID"
    PERSISTER_PID=''
}
# cpu_seconds PID: user + system CPU time the process has used.
cpu_seconds() { awk -v t="$TICKS" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$1/stat"; }
# mariadb_status NAME: a counter of SHOW GLOBAL STATUS.
mariadb_status() { mariadb_sql "$MARIADB_PORT" "SHOW GLOBAL STATUS LIKE '$1'" | awk '{ print $2 }'; }
# metric NAME: the persister's own counter (no labels), from /metrics.
metric() { curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# snapshot DATABASE: time, rows, Handler_commit, Com_commit, the persister's batches, CPU.
snapshot() {
    local rows
    rows=$(mariadb_sql "$MARIADB_PORT" "SELECT COUNT(*) FROM $1.message")
    echo "$(now) $rows $(mariadb_status Handler_commit) $(mariadb_status Com_commit)" \
        "$(metric persister_batch_size_count) $(cpu_seconds "$PERSISTER_PID") $(cpu_seconds "$MARIADB_PID")"
}

# Accounts and connections first, with a persister writing the registrations elsewhere.
migrate setup
start_persister setup 2000 50
start_bench_bridge "$BIN" "$TMP" "$REDIS_PORT" "$BRIDGE_PORT" STREAM_MAX_LEN=1000000
mkfifo "$TMP/control"
exec 3<>"$TMP/control"
log "gateway-bench chat: $PAIRS pairs"
"$BIN/gateway-bench" chat --port "$BRIDGE_PORT" --pairs "$PAIRS" --http-connections 1 \
    --cpu "bridge=$BRIDGE_PID,redis=$REDIS_PID" \
    <"$TMP/control" >"$TMP/client.out" 2>"$TMP/client.err" &
CLIENT_PID=$!
until grep -q '^ready' "$TMP/client.out"; do
    running "$CLIENT_PID" || { cat "$TMP/client.err" >&2; die "gateway-bench chat failed"; }
    sleep 0.1
done
sleep 1
stop_persister

mkdir -p "$RESULTS" "$(dirname "$CHART")"
CSV=$RESULTS/persister-tuning.csv
echo 'rate,batch_size,delay_ms,sent_per_s,bridge_per_s,rows_per_s,lag_p50_ms,lag_p99_ms,lag_max_ms,lag_samples,commits_per_s,com_commit_per_s,batches_per_s,persister_cpu,mariadbd_cpu' >"$CSV"
cells=0
for rate in $RATES; do for size in $SIZES; do for delay in $DELAYS; do
    cells=$((cells + 1))
    cell="r${rate}_b${size}_d${delay}"
    migrate "$cell"
    # Every new cell starts at the streams' end: a cell that fell behind leaves no backlog.
    for stream in $(redis-cli -p "$REDIS_PORT" --scan --pattern 'chat:stream:*'); do
        redis-cli -p "$REDIS_PORT" XGROUP SETID "$stream" persister '$' >/dev/null 2>&1 || true
    done
    start_persister "$cell" "$size" "$delay"
    log "cell $cells: $rate messages/s, batch size $size, batch delay $delay ms"
    printf 'paced %s %s %s\n' "$WARMUP" "$MEASURE" "$rate" >&3
    sleep "$WARMUP"
    read -r -a before <<<"$(snapshot "$cell")"
    # The sampler: the persister group's lag on the messages stream, every 0.25 s.
    python3 Benchmarks/PersisterBench/sample_lag.py "$BIN/persister" "$REDIS_URL" 0.25 >"$TMP/lag-$cell.txt" &
    SAMPLER_PID=$!
    sleep "$MEASURE"
    read -r -a after <<<"$(snapshot "$cell")"
    stop_tree '' "$SAMPLER_PID"
    SAMPLER_PID=''
    until [ "$(grep -c '^phase=' "$TMP/client.out")" -ge "$cells" ]; do
        running "$CLIENT_PID" || { cat "$TMP/client.err" >&2; die "gateway-bench chat failed"; }
        sleep 0.2
    done
    phase=$(grep '^phase=' "$TMP/client.out" | tail -n 1)
    stop_persister
    sent=$(sed -n 's/.* sent_rate=\([0-9]*\).*/\1/p' <<<"$phase")
    took=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<<"$phase") # delivered by the bridge (its stream too)
    lost=$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<<"$phase")
    [ "$lost" = 0 ] || warn "cell $cell: the bridge lost $lost messages ($phase)"
    lag=$(sort -n "$TMP/lag-$cell.txt" | awk '{ v[NR] = $1 * 1000 } END {
        if (NR == 0) { print "nan nan nan 0"; exit }
        p99 = int(NR * 0.99); if (p99 < 1) p99 = 1
        printf "%.0f %.0f %.0f %d", v[int((NR + 1) / 2)], v[p99], v[NR], NR }')
    read -r p50 p99 max samples <<<"$lag"
    # before/after: 0 time, 1 rows, 2 Handler_commit, 3 Com_commit, 4 batches, 5 persister CPU, 6 mariadbd CPU.
    # Handler_commit also counts the snapshot's own SELECT (one per snapshot).
    awk -v r="$rate" -v b="$size" -v d="$delay" -v sent="$sent" -v took="$took" -v p50="$p50" -v p99="$p99" -v max="$max" -v n="$samples" \
        -v t0="${before[0]}" -v t1="${after[0]}" -v rows0="${before[1]}" -v rows1="${after[1]}" \
        -v h0="${before[2]}" -v h1="${after[2]}" -v c0="${before[3]}" -v c1="${after[3]}" \
        -v k0="${before[4]}" -v k1="${after[4]}" -v p0="${before[5]}" -v p1="${after[5]}" -v m0="${before[6]}" -v m1="${after[6]}" \
        'BEGIN { s = t1 - t0
            printf "%s,%s,%s,%s,%s,%.0f,%s,%s,%s,%s,%.1f,%.1f,%.1f,%.3f,%.3f\n", r, b, d, sent, took, (rows1 - rows0) / s, p50, p99, max, n,
                (h1 - h0 - 1) / s, (c1 - c0) / s, (k1 - k0) / s, (p1 - p0) / s, (m1 - m0) / s }' >>"$CSV"
    tail -n 1 "$CSV" >&2
done; done; done

"$TEST_PYTHON" Benchmarks/PersisterBench/tuning_report.py "$CSV" "$RESULTS/persister-tuning.md" "$CHART" \
    "$(nproc) cores, MariaDB $(mariadb --version | sed 's/.*Distrib \([^,]*\),.*/\1/'), MEASURE=${MEASURE}s per cell"
printf '\n'
cat "$RESULTS/persister-tuning.md"
printf '\ntable: %s, chart: %s, raw: %s\n' "$RESULTS/persister-tuning.md" "$CHART" "$CSV"
