#!/usr/bin/env bash
# `make bench-chat`: end-to-end single chat. PAIRS connected sender → recipient pairs;
# messages sent over the WebSocket send frame and over POST /api/chat/socket/sendmessage
# count when they arrive on the recipient's socket (Benchmarks/GatewayBench, `chat`).
# The baseline, measured in the same run against the same Redis and the same pairs: the
# ceiling, lua/message_send_single.lua driven straight at Redis with EVALSHA, pipelined
# (Benchmarks/RedisBench, `--command send-single`). Printed as ratios, with the bars of
# issue 4: WebSocket throughput ≥ 0.5 × the ceiling; p99 < 10 ms at half the WebSocket
# rate (open-loop pacing, latency from the scheduled send to the arrival).
#
#   PAIRS=100 WINDOW=4 HTTP_CONNECTIONS=32 WARMUP=2 MEASURE=5 ROUNDS=5 make bench-chat
#   CEILING_CONNECTIONS=16 CEILING_DEPTH=16 STREAM_MAX_LEN=100000 THREADS=1 CPU_WAKEUP_LATENCY=0 CPU_PINNING=servers
#
# KEEP_TMP=1 keeps the folder with the logs, the client's output and the pairs file;
# LATENCY_TRACE=1 also writes each phase's messages there (trace-PHASE-N.txt: µs from the
# window's start to the scheduled send, latency µs), to see where slow ones cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PAIRS=${PAIRS:-100}
# Send frames each WebSocket sender keeps unanswered (the bridge queues up to 64): with
# 2 or more the next frame already waits in the bridge when a send completes; more only
# adds queueing to the closed-loop latency (2 to 8 measured the same throughput).
WINDOW=${WINDOW:-4}
HTTP_CONNECTIONS=${HTTP_CONNECTIONS:-32}
WARMUP=${WARMUP:-2}
MEASURE=${MEASURE:-5}
# Rounds of (ceiling, ws, http), then of paced; medians. Even idle, these machines'
# speed drifts by ±25% from one phase to the next (the ceiling alone: 16k–30k/s).
ROUNDS=${ROUNDS:-5}
CEILING_CONNECTIONS=${CEILING_CONNECTIONS:-16}
CEILING_DEPTH=${CEILING_DEPTH:-16}
# The persister trims the message stream to what it has read, so a deployed stream stays
# short; without one, the bridge's hard cap (5,000,000) would let it grow by gigabytes.
STREAM_MAX_LEN=${STREAM_MAX_LEN:-100000}
# Event loop threads of each load generator (the client, the ceiling's redis-bench).
THREADS=${THREADS:-1}
# Before each round, up to QUIET_WAIT seconds for the machine to be idle (other work under
# 10% of its cores for 2 s in a row): on a shared 2-core machine another build running
# beside a phase halves it. 0: no wait. A phase other work disturbed anyway is marked *.
QUIET_WAIT=${QUIET_WAIT:-120}
# Idle CPUs' wake-up latency asked of the kernel for the run (PM QoS, microseconds):
# this VM halts an idle vCPU at once, and waking a halted vCPU from the other one costs
# ~25 µs (two threads passing a byte back and forth across the vCPUs: 50 µs a round trip
# halting, 5 µs polling). A message wakes 4–5 threads in turn: at the paced rate the halts
# cost the three programs ~0.15 core, and the closed loop idles while it waits (docs/benchmarks.md,
# *Wake-up latency*). 0: idle CPUs poll, as tuned's latency-performance profile sets it;
# `default`: leave the machine as it is.
CPU_WAKEUP_LATENCY=${CPU_WAKEUP_LATENCY:-0}
[[ $CPU_WAKEUP_LATENCY =~ ^([0-9]+|default)$ ]] || die "CPU_WAKEUP_LATENCY must be microseconds or 'default', not '$CPU_WAKEUP_LATENCY'"
# Where the servers run: `servers` pins Redis (all its threads) to the last CPU allowed and
# the bridge to the others, the client floats (one CPU: nothing pinned); `none` leaves all to
# the scheduler. This guest's scheduler packs busy tasks onto fewer vCPUs
# (sched_vcpu_pack): unpinned, Redis, the bridge and the client at times share one vCPU
# while the other idles, and the paced phase falls tens of ms behind (p99 at 8,000/s,
# alternating: pinned 5.4–9.1 ms in 6 rounds, unpinned 5.5–599 ms).
CPU_PINNING=${CPU_PINNING:-servers}
[[ $CPU_PINNING =~ ^(servers|none)$ ]] || die "CPU_PINNING must be 'servers' or 'none', not '$CPU_PINNING'"
for name in PAIRS WINDOW HTTP_CONNECTIONS WARMUP MEASURE ROUNDS CEILING_CONNECTIONS CEILING_DEPTH STREAM_MAX_LEN THREADS; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done
[[ $QUIET_WAIT =~ ^[0-9]+$ ]] || die "QUIET_WAIT must be a number of seconds, not '$QUIET_WAIT'"
[ "$WINDOW" -le 64 ] || die "WINDOW ($WINDOW) above 64: the bridge stops reading a connection with 64 sends waiting"

# --- software ---------------------------------------------------------------------------
ensure_packages
ensure_debian_packages curl
build_release_products bridge gateway-bench redis-bench

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-chat.XXXXXX")
REDIS_PID='' BRIDGE_PID='' CLIENT_PID='' CPU_LATENCY_HOLDER=''
cleanup() {
    hurry_on_signal
    exec 3>&- 4<&- # the client's stdin (EOF ends it) and output
    stop_tree '' "$CLIENT_PID" "$BRIDGE_PID"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    [ -n "$CPU_LATENCY_HOLDER" ] && stop_pid "$CPU_LATENCY_HOLDER"
    if [ "${KEEP_TMP:-0}" = 1 ] || [ "${LATENCY_TRACE:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup

read -r REDIS_PORT BRIDGE_PORT <<<"$(free_ports 2)"

# --- helpers ----------------------------------------------------------------------------
value_of() { # key line: the value of key=value in the line
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | tail -n 1
}


# Percent of all cores busy over the next second (/proc/stat: all but idle and iowait).
machine_busy() {
    local -a a b
    read -ra a </proc/stat
    sleep 1
    read -ra b </proc/stat
    awk -v a="${a[*]:1:8}" -v b="${b[*]:1:8}" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ")
        for (i = 1; i <= n; i++) { d = y[i] - x[i]; total += d; if (i == 4 || i == 5) idle += d }
        printf "%d", (total > 0) ? 100 * (total - idle) / total : 0 }'
}

# Waits up to QUIET_WAIT s until the machine is idle for 2 s in a row (ours are idle here).
wait_for_quiet() {
    [ "$QUIET_WAIT" -gt 0 ] || return 0
    local deadline=$((SECONDS + QUIET_WAIT)) calm=0 busy
    while [ "$calm" -lt 2 ]; do
        busy=$(machine_busy)
        if [ "$busy" -lt 10 ]; then calm=$((calm + 1)); else calm=0; fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            warn "the machine stayed busy ($busy% of its cores) for ${QUIET_WAIT}s; measuring anyway"
            return 0
        fi
    done
}

client_failed() {
    cat "$TMP/client.out" "$TMP/client.err" >&2
    print_log_tail "$TMP/bridge.log"
    die "gateway-bench chat failed (above)"
}

# client_line: the client's next output line (kept in client.out for the logs), read from
# its pipe: waiting costs nothing, where polling a file forked grep and ps ten times a
# second (7% of the machine, in the measured window). EOF: the client died.
client_line() {
    IFS= read -r CLIENT_LINE <&4 || client_failed
    printf '%s\n' "$CLIENT_LINE" >>"$TMP/client.out"
}

# phase WORDS...: one phase of the client (a line on its stdin); prints its phase= line.
phase() {
    printf '%s\n' "$*" >&3
    client_line
    until [[ $CLIENT_LINE == phase=* ]]; do client_line; done
    printf '%s\n' "$CLIENT_LINE"
}

# The ceiling: the send script straight at Redis for the same pairs, while they are
# connected (so that it routes to the bridge's node, as end to end); prints its line.
ceiling() {
    local line
    line=$("$BIN/redis-bench" --url "redis://127.0.0.1:$REDIS_PORT/0" --command send-single --pairs "$TMP/pairs" \
        --connections "$CEILING_CONNECTIONS" --depth "$CEILING_DEPTH" --threads "$THREADS" \
        --warmup "$WARMUP" --seconds "$MEASURE" --redis-pid "$REDIS_PID" --stream-cap "$STREAM_MAX_LEN" \
        2>>"$TMP/ceiling.err") || { cat "$TMP/ceiling.err" >&2; die "the ceiling (redis-bench --command send-single) failed"; }
    echo "phase=ceiling $line"
}

# Checks a phase line: nothing lost, duplicated, misrouted, refused or unanswered.
PROBLEMS=0
check() {
    local key value
    for key in failed unanswered lost duplicates misrouted; do
        value=$(value_of "$key" "$1")
        if [ -n "$value" ] && [ "$value" != 0 ]; then
            warn "$(value_of phase "$1"): $key=$value"
            PROBLEMS=$((PROBLEMS + 1))
        fi
    done
}

# --- servers and the client -------------------------------------------------------------
WAKEUP="the machine's default"
if [ "$CPU_WAKEUP_LATENCY" != default ]; then
    if hold_cpu_wakeup_latency "$CPU_WAKEUP_LATENCY"; then
        WAKEUP="$CPU_WAKEUP_LATENCY µs (PM QoS, /dev/cpu_dma_latency)"
    fi
fi
start_redis "$TMP/redis" "$REDIS_PORT"
start_bench_bridge "$BIN" "$TMP" "$REDIS_PORT" "$BRIDGE_PORT" STREAM_MAX_LEN="$STREAM_MAX_LEN"
PLACEMENT="the scheduler's"
mapfile -t CPUS < <(allowed_cpus)
if [ "$CPU_PINNING" = servers ] && [ "${#CPUS[@]}" -ge 2 ]; then
    redis_cpu=${CPUS[-1]}
    bridge_cpus=$(IFS=,; echo "${CPUS[*]:0:${#CPUS[@]}-1}")
    taskset -a -p -c "$redis_cpu" "$REDIS_PID" >/dev/null
    taskset -a -p -c "$bridge_cpus" "$BRIDGE_PID" >/dev/null
    PLACEMENT="Redis on CPU $redis_cpu, the bridge on CPU $bridge_cpus, the client unpinned"
fi

# The client reads its phases from a FIFO held open here (fd 3): no EOF between phases.
mkfifo "$TMP/control"
exec 3<>"$TMP/control"
log "gateway-bench chat: $PAIRS pairs (registration, chatsets, $((2 * PAIRS)) WebSockets, $HTTP_CONNECTIONS HTTP connections)"
# Its output comes through a FIFO opened here (fd 4) once it has started.
mkfifo "$TMP/output"
TRACE_ARGS=()
[ "${LATENCY_TRACE:-0}" = 1 ] && TRACE_ARGS=(--latency-trace "$TMP/trace-")
"$BIN/gateway-bench" chat --port "$BRIDGE_PORT" --pairs "$PAIRS" --http-connections "$HTTP_CONNECTIONS" \
    --threads "$THREADS" --cpu "bridge=$BRIDGE_PID,redis=$REDIS_PID" --pairs-out "$TMP/pairs" "${TRACE_ARGS[@]}" \
    <"$TMP/control" >"$TMP/output" 2>"$TMP/client.err" &
CLIENT_PID=$!
exec 4<"$TMP/output"
: >"$TMP/client.out"
client_line
until [[ $CLIENT_LINE == ready* ]]; do client_line; done

# --- the phases -------------------------------------------------------------------------
# A warm-up of each kind first, not reported: it fills the history lists to their cap
# (so every measured send trims, as in a long-running deployment) and the stream to its.
log "warm-up: ceiling, WebSocket and HTTP sends (not reported)"
{ ceiling; phase ws 1 "$MEASURE" "$WINDOW"; phase http 1 "$MEASURE"; } >"$TMP/warmup.out"

declare -a CEIL=() WS=() HTTP=() PACED=()
for round in $(seq "$ROUNDS"); do
    wait_for_quiet
    log "round $round of $ROUNDS: ceiling, WebSocket sends, HTTP sends"
    CEIL+=("$(ceiling)")
    WS+=("$(phase ws "$WARMUP" "$MEASURE" "$WINDOW")")
    HTTP+=("$(phase http "$WARMUP" "$MEASURE")")
done
rates() { local line; for line in "$@"; do value_of rate "$line"; done; }
# True when other work took more than a quarter of a core in the phase's window.
disturbed() { awk -v o="$(value_of cpu_other "$1")" 'BEGIN { exit !(o > 0.25) }'; }
# A phase's figure, with * when it was disturbed.
marked() { # key line
    printf '%s' "$(value_of "$1" "$2")"
    if disturbed "$2"; then printf '*'; fi
}
DISTURBED=0
for line in "${CEIL[@]}" "${WS[@]}" "${HTTP[@]}" "${PACED[@]}"; do
    if disturbed "$line"; then DISTURBED=1; fi
done
mapfile -t ceil_rates < <(rates "${CEIL[@]}")
mapfile -t ws_rates < <(rates "${WS[@]}")
mapfile -t http_rates < <(rates "${HTTP[@]}")
WS_MEDIAN=$(median_of "${ws_rates[@]}")
HALF=$(awk -v r="$WS_MEDIAN" 'BEGIN { printf "%.0f", r / 2 }')
for round in $(seq "$ROUNDS"); do
    wait_for_quiet
    log "round $round of $ROUNDS: WebSocket sends paced at $HALF/s"
    PACED+=("$(phase paced "$WARMUP" "$MEASURE" "$HALF")")
done
for line in "${CEIL[@]}" "${WS[@]}" "${HTTP[@]}" "${PACED[@]}"; do check "$line"; done

# --- report -----------------------------------------------------------------------------
printf '\nsingle chat end to end: %s pairs, %s cores, redis-server %s; %s s warm-up + %s s measured per phase\n' \
    "$PAIRS" "$(nproc)" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" "$WARMUP" "$MEASURE"
printf 'idle CPU wake-up latency asked for: %s; placement: %s\n' "$WAKEUP" "$PLACEMENT"
printf 'ceiling: message_send_single.lua via EVALSHA, %s connections × %s pipelined, local route, 1 client thread\n' \
    "$CEILING_CONNECTIONS" "$CEILING_DEPTH"
printf 'ws: %s send frames unanswered per sender; http: %s keep-alive connections, one request each\n\n' \
    "$WINDOW" "$HTTP_CONNECTIONS"
row() { printf '%-7s %10s %10s %9s %10s %9s %9s %9s\n' "$@"; }
row round ceiling/s ws/s ws/ceil http/s http/ceil 'ws p50' 'ws p99'
for i in $(seq 0 $((ROUNDS - 1))); do
    row "$((i + 1))" "$(marked rate "${CEIL[i]}")" "$(marked rate "${WS[i]}")" "$(ratio "${ws_rates[i]}" "${ceil_rates[i]}")" \
        "$(marked rate "${HTTP[i]}")" "$(ratio "${http_rates[i]}" "${ceil_rates[i]}")" \
        "$(value_of p50_ms "${WS[i]}")" "$(value_of p99_ms "${WS[i]}")"
done
mapfile -t ws_ratios < <(for i in $(seq 0 $((ROUNDS - 1))); do ratio "${ws_rates[i]}" "${ceil_rates[i]}"; echo; done)
mapfile -t http_ratios < <(for i in $(seq 0 $((ROUNDS - 1))); do ratio "${http_rates[i]}" "${ceil_rates[i]}"; echo; done)
WS_RATIO=$(median_of "${ws_ratios[@]}")
row median "$(median_of "${ceil_rates[@]}")" "$WS_MEDIAN" "$WS_RATIO" \
    "$(median_of "${http_rates[@]}")" "$(median_of "${http_ratios[@]}")" '' ''

printf '\npaced WebSocket sends at %s/s (half the median ws/s), latency scheduled send → arrival:\n' "$HALF"
row2() { printf '%-7s %10s %9s %9s %9s %9s %9s %11s\n' "$@"; }
row2 round delivered/s p50_ms p99_ms p999_ms max_ms samples lag_p99_ms
declare -a p99s=()
for i in $(seq 0 $((ROUNDS - 1))); do
    line=${PACED[i]}
    p99s+=("$(value_of p99_ms "$line")")
    row2 "$((i + 1))" "$(marked rate "$line")" "$(value_of p50_ms "$line")" "$(value_of p99_ms "$line")" \
        "$(value_of p999_ms "$line")" "$(value_of max_ms "$line")" "$(value_of samples "$line")" \
        "$(value_of lag_p99_ms "$line")"
done
P99=$(median_of "${p99s[@]}")

printf '\nCPU in the measured window, cores (2 = both), per round:\n'
row3() { printf '%-8s %-22s %-22s %-22s %-22s\n' "$@"; }
row3 phase bridge redis client other
for kind in ceiling ws http paced; do
    case $kind in
    ceiling) lines=("${CEIL[@]}") ;;
    ws) lines=("${WS[@]}") ;;
    http) lines=("${HTTP[@]}") ;;
    paced) lines=("${PACED[@]}") ;;
    esac
    cols=()
    for process in bridge redis client other; do
        values=()
        for line in "${lines[@]}"; do values+=("$(value_of "cpu_$process" "$line")"); done
        cols+=("$(printf '%s ' "${values[@]:-}")")
    done
    [ "$kind" = ceiling ] && cols[0]='-'
    row3 "$kind" "${cols[@]}"
done

verdict() { if awk -v v="$1" -v b="$2" -v op="$3" 'BEGIN { exit !(op == ">=" ? v >= b : v < b) }'; then echo pass; else echo FAIL; fi; }
printf '\nbars: ws/ceiling %s >= 0.50: %s; p99 at half rate %s ms < 10 ms: %s\n' \
    "$WS_RATIO" "$(verdict "$WS_RATIO" 0.5 '>=')" "$P99" "$(verdict "$P99" 10 '<')"
[ "$DISTURBED" = 0 ] ||
    printf '* disturbed: other work on the machine used more than a quarter of a core in that window\n'
if [ "$PROBLEMS" -eq 0 ]; then
    printf 'delivery: every message answered ok arrived exactly once, on its recipient'"'"'s socket (no failure, loss, duplicate)\n'
else
    printf 'delivery: %s problems (warnings above)\n' "$PROBLEMS"
fi
cat <<'NOTE'

rate: messages delivered per second at the recipients' sockets in the measured window
(ceiling: script replies per second). Latency: arrival − send on the client's monotonic
clock; the ws phase is closed-loop (its latency is mostly queueing), the paced phase is
open-loop; lag: how late the client itself sent (counted in the latency). CPU: user +
system time from /proc/PID/stat between the window's edges; other: the rest of the
machine's busy time (/proc/stat), i.e. other work disturbing the run.
NOTE
[ "$PROBLEMS" -eq 0 ] || exit 1
