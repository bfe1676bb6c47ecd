#!/usr/bin/env bash
# `make bench-hostile`: what hostile or stalled users cost (docs/benchmarks.md, *Hostile
# load*). Two measurements against a release bridge on a throwaway Redis
# (Benchmarks/HostileBench/hostile.py):
#
#  1. Redis bytes per group message to MEMBERS offline members (10, 100, 1000), beside
#     the message itself as Redis holds it (one value: the allocator rounds it up to its
#     size class). Bar: ≤ 2 × the message + 200 B per member, not counting the messages
#     stream (trimmed once the persister wrote it; shown apart).
#  2. Bridge RSS under a steady send load (RATE messages/s of BYTES to RECIPIENTS connected
#     recipients, DURATION seconds long) whose recipients read everything, then — on a fresh bridge
#     process — the same load whose recipients stopped reading (stalled phones). Bar: the
#     stalled run's RSS ≤ 1.25 × the reading run's.
#
#   MEMBERS=10,100,1000 MESSAGES=10 MESSAGE_BYTES=16000 RECIPIENTS=100 RATE=300 DURATION=30 STALL_BYTES=16000 make bench-hostile
#
# KEEP_TMP=1 keeps the folder with the logs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

MEMBERS=${MEMBERS:-10,100,1000}
MESSAGES=${MESSAGES:-10}
MESSAGE_BYTES=${MESSAGE_BYTES:-16000}
RECIPIENTS=${RECIPIENTS:-100}
SENDERS=${SENDERS:-20}
RATE=${RATE:-300}
DURATION=${DURATION:-30}
STALL_BYTES=${STALL_BYTES:-16000}
[[ $MEMBERS =~ ^[0-9]+(,[0-9]+)*$ ]] || die "MEMBERS: comma-separated counts, not '$MEMBERS'"
for name in MESSAGES MESSAGE_BYTES RECIPIENTS SENDERS RATE DURATION STALL_BYTES; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done

ensure_packages
ensure_swift
log "swift build -c release --product bridge"
swift build -c release --product bridge >&2
BIN=$(swift build -c release --show-bin-path)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-hostile.XXXXXX")
REDIS_PID='' BRIDGE=''
cleanup() {
    hurry_on_signal
    stop_tree '' "$BRIDGE"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup
value_of() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | tail -n 1; }
# Senders well under any per-user rate quota: the load is many users', not one abuser's.
BRIDGE_ENV=(LOG_LEVEL=error)

read -r REDIS_PORT PORT <<<"$(free_ports 2)"
start_redis "$TMP/redis" "$REDIS_PORT"

# 1. fan-out
mkdir -p "$TMP/fanout"
start_bench_bridge "$BIN" "$TMP/fanout" "$REDIS_PORT" "$PORT" "${BRIDGE_ENV[@]}"
BRIDGE=$BRIDGE_PID
python3 Benchmarks/HostileBench/hostile.py fanout --port "$PORT" --redis-port "$REDIS_PORT" \
    --members "$MEMBERS" --messages "$MESSAGES" --bytes "$MESSAGE_BYTES" >"$TMP/fanout.out" ||
    { print_log_tail "$TMP/fanout/bridge.log"; die "hostile.py fanout failed"; }
stop_pid "$BRIDGE"
BRIDGE=''

# 2. stalled sockets: reading first, then stalled, each on a fresh bridge process
for stall in 0 1; do
    mkdir -p "$TMP/stall-$stall"
    start_bench_bridge "$BIN" "$TMP/stall-$stall" "$REDIS_PORT" "$PORT" "${BRIDGE_ENV[@]}"
    BRIDGE=$BRIDGE_PID
    python3 Benchmarks/HostileBench/hostile.py stalled --port "$PORT" --pid "$BRIDGE" --stall "$stall" \
        --recipients "$RECIPIENTS" --senders "$SENDERS" --rate "$RATE" --seconds "$DURATION" \
        --bytes "$STALL_BYTES" >"$TMP/stall-$stall.out" ||
        { print_log_tail "$TMP/stall-$stall/bridge.log"; die "hostile.py stalled failed"; }
    stop_pid "$BRIDGE"
    BRIDGE=''
done

FAILED=0
printf '\nhostile load: %s cores, redis-server %s\n' "$(nproc)" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
printf '\nRedis bytes per group message (a text of %s bytes) to offline members, %s messages each\n' "$MESSAGE_BYTES" "$MESSAGES"
printf '%8s %10s %10s %12s %10s %12s %10s %7s\n' members 'message' 'stored' 'per message' stream 'without it' bar ratio
while read -r line; do
    members=$(value_of members "$line") without=$(value_of without_stream "$line") bar=$(value_of bar "$line")
    printf '%8s %10s %10s %12s %10s %12s %10s %7s\n' "$members" "$(value_of message_bytes "$line")" \
        "$(value_of message_stored "$line")" "$(value_of per_message "$line")" "$(value_of stream "$line")" \
        "$without" "$bar" "$(ratio "$without" "$bar")"
    awk -v a="$without" -v b="$bar" 'BEGIN { exit !(a > b) }' && FAILED=1
done < <(grep '^phase=fanout' "$TMP/fanout.out")

READING=$(grep '^phase=stalled' "$TMP/stall-0.out")
STALLED=$(grep '^phase=stalled' "$TMP/stall-1.out")
printf '\nbridge RSS, %s recipients, %s msgs/s of %s bytes for %s s\n' "$RECIPIENTS" "$RATE" "$STALL_BYTES" "$DURATION"
printf '%-22s %12s %12s %12s %10s %9s\n' '' 'start KiB' 'peak KiB' 'end KiB' 'sent/s' refused
for line in "$READING" "$STALLED"; do
    name=reading; [ "$(value_of stall "$line")" = 1 ] && name=stalled
    printf '%-22s %12s %12s %12s %10s %9s\n' "$name" "$(value_of rss_start_kib "$line")" "$(value_of rss_peak_kib "$line")" \
        "$(value_of rss_end_kib "$line")" "$(value_of rate "$line")" "$(value_of refused "$line")"
done
PEAK_RATIO=$(ratio "$(value_of rss_peak_kib "$STALLED")" "$(value_of rss_peak_kib "$READING")")
printf 'stalled / reading, peak RSS: %s (bar 1.25)\n' "$PEAK_RATIO"
awk -v a="$PEAK_RATIO" 'BEGIN { exit !(a > 1.25) }' && FAILED=1
[ "$FAILED" -eq 0 ] || { warn "a bar was missed (above)"; exit 1; }
