#!/usr/bin/env bash
# `make bench-persister`: the persister against the `mariadb` command-line client.
#
# 1. Backlog: COUNT messages (chat:stream:messages entries as the send script writes
#    them) waiting in Redis; `persister run` drains them into MariaDB. Two baselines,
#    in the same run, on the same server with the same settings, each writing the same
#    rows into a fresh database with the `mariadb` client, BATCH rows per statement and
#    one commit per statement (as the persister commits one transaction per batch of BATCH):
#    - INSERT: a file of multi-row INSERTs;
#    - LOAD DATA: one `LOAD DATA LOCAL INFILE` per batch, each of a tab-separated file
#      of its own (`--local-infile=1`), the fastest way into MariaDB.
#    The three tables are compared (CHECKSUM TABLE): the same rows.
#    Printed: rows/s of each, persister/INSERT (bar: >= 0.9) and persister/LOAD DATA
#    (bar: >= 0.8).
# 2. Steady load: the bridge takes RATE single-chat messages/s over WebSockets
#    (Benchmarks/GatewayBench `chat`, paced) for PACED_SECONDS while the persister drains;
#    its lag (age of the oldest message not yet written, `persister status`) is sampled
#    every 0.25 s. Bar: max < 1 s.
#
#   COUNT=200000 BATCH=2000 ROUNDS=5 RATE=5000 PAIRS=100 PACED_SECONDS=20 make bench-persister
#   (each round: the INSERTs, the LOAD DATAs, then the persister, each into a database of its own)
#   KEEP_TMP=1 keeps the folder with the logs and the generated backlog.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

COUNT=${COUNT:-200000}
BATCH=${BATCH:-2000}
RATE=${RATE:-5000}
PAIRS=${PAIRS:-100}
PACED_SECONDS=${PACED_SECONDS:-20}
ROUNDS=${ROUNDS:-5}
for name in COUNT BATCH RATE PAIRS PACED_SECONDS ROUNDS; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done

ensure_packages
build_release_products persister bridge gateway-bench

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-persister.XXXXXX")
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

start_redis "$TMP/redis" "$REDIS_PORT"
# MariaDB's default durability (a log flush at every commit), the same for both sides.
start_mariadb "$TMP/mariadb" "$MARIADB_PORT"

log "generating $COUNT messages (Redis entries and the same rows as SQL)"
python3 Benchmarks/PersisterBench/backlog.py "$COUNT" "$BATCH" "$TMP"

migrate() { MARIADB_URL=$(mariadb_url "$1") LOG_LEVEL=warning "$BIN/persister" migrate >/dev/null; }
count_rows() { mariadb_sql "$MARIADB_PORT" "SELECT COUNT(*) FROM $1.message"; }
# start_persister DATABASE: `persister run` in the background (PERSISTER_PID).
start_persister() {
    env REDIS_URL="$REDIS_URL" MARIADB_URL="$(mariadb_url "$1")" LOG_LEVEL=warning \
        PERSISTER_BATCH_SIZE="$BATCH" PERSISTER_METRICS_PORT="$METRICS_PORT" PERSISTER_TRIM_INTERVAL_MS=2000 \
        setsid "$BIN/persister" run 2>>"$TMP/persister.log" &
    PERSISTER_PID=$!
}
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# --- 1. backlog, ROUNDS times (this machine's speed drifts: medians) -------------------
declare -a CLI_RATES=() LOAD_RATES=() PERSISTER_RATES=() RATIOS=() LOAD_RATIOS=()
rate() { awk -v n="$COUNT" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
checksum() { mariadb_sql "$MARIADB_PORT" "CHECKSUM TABLE $1.message" | cut -f2; }
client() {
    mariadb --no-defaults --default-character-set=utf8mb4 --protocol=tcp -h127.0.0.1 -P"$MARIADB_PORT" -uroot "$@" 2>&1 |
        cut -c1-300
}
for round in $(seq "$ROUNDS"); do
    migrate "cli_$round"
    migrate "load_$round"
    migrate "persister_$round"
    log "round $round of $ROUNDS: mariadb < messages.sql ($((COUNT / BATCH)) INSERTs of $BATCH rows)"
    start=$(now)
    client "cli_$round" <"$TMP/messages.sql"
    cli_seconds=$(seconds_since "$start")
    [ "$(count_rows "cli_$round")" = "$COUNT" ] || die "the INSERT baseline wrote $(count_rows "cli_$round") rows, not $COUNT"

    log "round $round of $ROUNDS: mariadb --local-infile=1 < loaddata.sql ($((COUNT / BATCH)) LOAD DATA of $BATCH rows)"
    start=$(now)
    client --local-infile=1 "load_$round" <"$TMP/loaddata.sql"
    load_seconds=$(seconds_since "$start")
    [ "$(count_rows "load_$round")" = "$COUNT" ] || die "the LOAD DATA baseline wrote $(count_rows "load_$round") rows, not $COUNT"

    redis-cli -p "$REDIS_PORT" DEL chat:stream:messages chat:stream:entities >/dev/null
    redis-cli -p "$REDIS_PORT" --pipe <"$TMP/messages.resp" >/dev/null
    [ "$(redis-cli -p "$REDIS_PORT" XLEN chat:stream:messages)" = "$COUNT" ] || die "the stream does not hold $COUNT entries"
    log "round $round of $ROUNDS: persister run draining $COUNT entries (batch $BATCH)"
    start=$(now)
    start_persister "persister_$round"
    python3 Benchmarks/PersisterBench/wait_drained.py "$REDIS_PORT" "$COUNT" "$PERSISTER_PID" ||
        { cat "$TMP/persister.log" >&2; die "the persister exited"; }
    persister_seconds=$(seconds_since "$start")
    stop_pid "$PERSISTER_PID"
    PERSISTER_PID=''
    [ "$(count_rows "persister_$round")" = "$COUNT" ] || die "the persister wrote $(count_rows "persister_$round") rows, not $COUNT"
    sums="$(checksum "cli_$round") $(checksum "load_$round") $(checksum "persister_$round")"
    read -r a b c <<<"$sums"
    [ "$a" = "$b" ] && [ "$a" = "$c" ] || die "the tables differ (CHECKSUM TABLE INSERT, LOAD DATA, persister: $sums)"
    CLI_RATES+=("$(rate "$cli_seconds")")
    LOAD_RATES+=("$(rate "$load_seconds")")
    PERSISTER_RATES+=("$(rate "$persister_seconds")")
    RATIOS+=("$(ratio "${PERSISTER_RATES[-1]}" "${CLI_RATES[-1]}")")
    LOAD_RATIOS+=("$(ratio "${PERSISTER_RATES[-1]}" "${LOAD_RATES[-1]}")")
    log "round $round: INSERT ${cli_seconds}s, LOAD DATA ${load_seconds}s, persister ${persister_seconds}s," \
        "ratios ${RATIOS[-1]} / ${LOAD_RATIOS[-1]}"
done
CLI_RATE=$(median_of "${CLI_RATES[@]}")
LOAD_RATE=$(median_of "${LOAD_RATES[@]}")
PERSISTER_RATE=$(median_of "${PERSISTER_RATES[@]}")
RATIO=$(median_of "${RATIOS[@]}")
LOAD_RATIO=$(median_of "${LOAD_RATIOS[@]}")

# --- 2. steady load through the bridge -----------------------------------------------------
migrate steady
start_persister steady
start_bench_bridge "$BIN" "$TMP" "$REDIS_PORT" "$BRIDGE_PORT" STREAM_MAX_LEN=1000000
mkfifo "$TMP/control"
exec 3<>"$TMP/control"
log "gateway-bench chat: $PAIRS pairs"
"$BIN/gateway-bench" chat --port "$BRIDGE_PORT" --pairs "$PAIRS" --http-connections 4 \
    --cpu "bridge=$BRIDGE_PID,redis=$REDIS_PID,persister=$PERSISTER_PID" \
    <"$TMP/control" >"$TMP/client.out" 2>"$TMP/client.err" &
CLIENT_PID=$!
until grep -q '^ready' "$TMP/client.out"; do
    running "$CLIENT_PID" || { cat "$TMP/client.err" >&2; die "gateway-bench chat failed"; }
    sleep 0.1
done
before=$(count_rows steady)
# The sampler: the persister group's lag on the messages stream, every 0.25 s.
(
    while true; do
        REDIS_URL="$REDIS_URL" "$BIN/persister" status --json 2>/dev/null | python3 -c '
import json, sys
report = json.load(sys.stdin)
for stream in report["streams"]:
    if stream["stream"] == "chat:stream:messages":
        for group in stream["groups"]:
            if group["name"] == "persister":
                print(group["lag_seconds"], flush=True)
' || true
        sleep 0.25
    done
) >"$TMP/lag.txt" &
SAMPLER_PID=$!
log "paced: $RATE messages/s for $PACED_SECONDS s"
printf 'paced 2 %s %s\n' "$PACED_SECONDS" "$RATE" >&3
until grep -q '^phase=' "$TMP/client.out"; do
    running "$CLIENT_PID" || { cat "$TMP/client.err" >&2; die "gateway-bench chat failed"; }
    sleep 0.2
done
sleep 1
stop_tree '' "$SAMPLER_PID"
SAMPLER_PID=''
PACED_LINE=$(grep '^phase=' "$TMP/client.out" | tail -n 1)
after=$(count_rows steady)
LAG=$(sort -n "$TMP/lag.txt" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "none"; exit }
    p99 = int(NR * 0.99); if (p99 < 1) p99 = 1
    printf "samples=%d p50=%.3f p99=%.3f max=%.3f", NR, v[int((NR + 1) / 2)], v[p99], v[NR] }')
MAX_LAG=$(sort -n "$TMP/lag.txt" | tail -n 1)

# --- report -----------------------------------------------------------------------------
verdict() { if awk -v v="$1" -v b="$2" -v op="$3" 'BEGIN { exit !(op == ">=" ? v >= b : v < b) }'; then echo pass; else echo FAIL; fi; }
printf '\npersister: %s cores, %s, redis-server %s\n' "$(nproc)" "$(mariadb --version | sed 's/.*Distrib \([^,]*\),.*/\1/')" \
    "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
printf 'backlog of %s messages, batches / statements of %s rows, MariaDB defaults (innodb_flush_log_at_trx_commit=1)\n' "$COUNT" "$BATCH"
row() { printf '%-7s %12s %12s %14s %12s %16s\n' "$@"; }
row round insert/s 'load data/s' persister/s '/insert' '/load data'
for i in $(seq 0 $((ROUNDS - 1))); do
    row "$((i + 1))" "${CLI_RATES[i]}" "${LOAD_RATES[i]}" "${PERSISTER_RATES[i]}" "${RATIOS[i]}" "${LOAD_RATIOS[i]}"
done
row median "$CLI_RATE" "$LOAD_RATE" "$PERSISTER_RATE" "$RATIO" "$LOAD_RATIO"
printf 'rows/s: COUNT / seconds; the persister timed from its process start to the last acknowledgement\n'
printf 'ratio persister/INSERT (median of the rounds): %s (bar >= 0.90: %s)\n' "$RATIO" "$(verdict "$RATIO" 0.9 '>=')"
printf 'ratio persister/LOAD DATA (median of the rounds): %s (bar >= 0.80: %s)\n' "$LOAD_RATIO" "$(verdict "$LOAD_RATIO" 0.8 '>=')"
printf '\nsteady load: %s\n' "$PACED_LINE"
printf 'rows written meanwhile: %s\n' "$((after - before))"
printf 'persister lag on chat:stream:messages (s): %s (bar max < 1 s: %s)\n' "$LAG" "$(verdict "${MAX_LAG:-99}" 1 '<')"
