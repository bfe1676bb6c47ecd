#!/usr/bin/env bash
# `make bench-group`: a message to a MEMBERS-member group with every member connected over
# WebSocket, alternately to two bridge processes on one Redis (Benchmarks/GatewayBench,
# `group`). Measured: member deliveries per second (MESSAGES group messages, WINDOW in
# flight) and the time until the LAST member has a message (one at a time, ROUNDS times).
# The baseline, in the same run, from the same sender to the same connected members: the
# same deliveries as single-chat messages (HTTP_CONNECTIONS requests in flight), and one
# single-chat message to every member at once (the time until the last one arrives).
# Every message is sent over keep-alive HTTP (POST /api/chat/socket/sendmessage) in both,
# so the ratios compare the fan-out with one script call and one push per member.
#
#   MEMBERS=500 MESSAGES=40 WINDOW=4 ROUNDS=20 HTTP_CONNECTIONS=16 make bench-group
#
# KEEP_TMP=1 keeps the folder with the logs and the client's output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

MEMBERS=${MEMBERS:-500}
MESSAGES=${MESSAGES:-40}
WINDOW=${WINDOW:-4}
ROUNDS=${ROUNDS:-20}
HTTP_CONNECTIONS=${HTTP_CONNECTIONS:-16}
STREAM_MAX_LEN=${STREAM_MAX_LEN:-100000}
for name in MEMBERS MESSAGES WINDOW ROUNDS HTTP_CONNECTIONS STREAM_MAX_LEN; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done
[ "$MEMBERS" -ge 2 ] || die "MEMBERS must be at least 2"

ensure_packages
ensure_debian_packages curl
build_release_products bridge gateway-bench

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-group.XXXXXX")
REDIS_PID='' BRIDGE_A='' BRIDGE_B='' CLIENT_PID=''
cleanup() {
    hurry_on_signal
    stop_tree '' "$CLIENT_PID" "$BRIDGE_A" "$BRIDGE_B"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup

read -r REDIS_PORT PORT_A PORT_B <<<"$(free_ports 3)"
value_of() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | tail -n 1; }

start_redis "$TMP/redis" "$REDIS_PORT"
mkdir -p "$TMP/a" "$TMP/b"
# One deployment: both processes verify the same tokens.
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
start_bench_bridge "$BIN" "$TMP/a" "$REDIS_PORT" "$PORT_A" STREAM_MAX_LEN="$STREAM_MAX_LEN" NODE_ID=bench-a JWT_SECRET="$SECRET"
BRIDGE_A=$BRIDGE_PID
start_bench_bridge "$BIN" "$TMP/b" "$REDIS_PORT" "$PORT_B" STREAM_MAX_LEN="$STREAM_MAX_LEN" NODE_ID=bench-b JWT_SECRET="$SECRET"
BRIDGE_B=$BRIDGE_PID

log "gateway-bench group: $MEMBERS members (registration, joins, $MEMBERS WebSockets over two processes)"
"$BIN/gateway-bench" group --ports "$PORT_A,$PORT_B" --members "$MEMBERS" --messages "$MESSAGES" --window "$WINDOW" \
    --rounds "$ROUNDS" --connections "$HTTP_CONNECTIONS" --cpu "bridge_a=$BRIDGE_A,bridge_b=$BRIDGE_B,redis=$REDIS_PID" \
    >"$TMP/client.out" 2>"$TMP/client.err" &
CLIENT_PID=$!
if ! wait "$CLIENT_PID"; then
    CLIENT_PID=''
    cat "$TMP/client.out" "$TMP/client.err" >&2
    print_log_tail "$TMP/a/bridge.log"
    print_log_tail "$TMP/b/bridge.log"
    die "gateway-bench group failed (above)"
fi
CLIENT_PID=''

LATENCY=$(grep '^phase=latency' "$TMP/client.out")
BURST=$(grep '^phase=single-burst' "$TMP/client.out")
GROUP=$(grep '^phase=group' "$TMP/client.out")
SINGLE=$(grep '^phase=single ' "$TMP/client.out")
PROBLEMS=0
for line in "$LATENCY" "$BURST" "$GROUP" "$SINGLE"; do
    for key in lost duplicates echoes; do
        value=$(value_of "$key" "$line")
        if [ -n "$value" ] && [ "$value" != 0 ]; then
            warn "$(value_of phase "$line"): $key=$value"
            PROBLEMS=$((PROBLEMS + 1))
        fi
    done
done

printf '\ngroup fan-out: %s members on 2 bridge processes, %s cores, redis-server %s\n' \
    "$MEMBERS" "$(nproc)" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
printf '%-44s %14s %14s %8s\n' '' group single-chat ratio
printf '%-44s %14s %14s %8s\n' "deliveries/s ($MESSAGES msgs × $((MEMBERS - 1)) vs the same as singles)" \
    "$(value_of rate "$GROUP")" "$(value_of rate "$SINGLE")" "$(ratio "$(value_of rate "$GROUP")" "$(value_of rate "$SINGLE")")"
printf '%-44s %14s %14s %8s\n' "ms until the last member has it (p50 of $ROUNDS)" \
    "$(value_of last_p50_ms "$LATENCY")" "$(value_of last_ms "$BURST")" \
    "$(ratio "$(value_of last_p50_ms "$LATENCY")" "$(value_of last_ms "$BURST")")"
printf 'latency of one group message to the last member: min %s ms, p50 %s ms, max %s ms\n' \
    "$(value_of last_min_ms "$LATENCY")" "$(value_of last_p50_ms "$LATENCY")" "$(value_of last_max_ms "$LATENCY")"
printf 'CPU, cores: group   %s\n           singles %s\n' \
    "$(tr ' ' '\n' <<<"$GROUP" | grep '^cpu_' | tr '\n' ' ')" "$(tr ' ' '\n' <<<"$SINGLE" | grep '^cpu_' | tr '\n' ' ')"
if [ "$PROBLEMS" -eq 0 ]; then
    printf 'delivery: every member but the sender got every message exactly once; the sender none\n'
else
    printf 'delivery: %s problems (warnings above)\n' "$PROBLEMS"
    exit 1
fi
