#!/usr/bin/env bash
# `make bench-redis`: throughput of the Swift Redis client against redis-benchmark,
# same command, pipeline depth and connection count, on one throwaway redis-server,
# measured in the same run (alternating, median of ROUNDS) and printed as a ratio.
#
#   CONNECTIONS=50 ROUNDS=3 THREADS=1 make bench-redis
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-3}
# Event loop threads of the Swift client: one, as redis-benchmark runs on one thread
# (on two cores the other one belongs to redis-server).
THREADS=${THREADS:-1}

ensure_packages
ensure_swift
log "swift build -c release --product redis-bench"
swift build -c release --product redis-bench >&2
BENCH="$(swift build -c release --show-bin-path)/redis-bench"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX")
REDIS_PID=
cleanup() {
    hurry_on_signal
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    rm -rf "$TMP"
}
install_traps cleanup

PORT=$(free_port)
start_redis "$TMP/redis" "$PORT"
# The exact bytes the bridge loads: the file with its lua/lib includes (docs/scripts.md).
SHA=$("$BENCH" --print-script node_heartbeat | redis-cli -p "$PORT" -x script load)


redis_benchmark() { # depth requests command...
    local depth=$1 requests=$2
    shift 2
    redis-benchmark -p "$PORT" -c "$CONNECTIONS" -n "$requests" -P "$depth" --csv "$@" \
        | sed -n 2p | cut -d, -f2 | tr -d '"'
}

swift_client() { # workload depth requests [--on-event-loop]
    "$BENCH" --url "redis://127.0.0.1:$PORT/0" --command "$1" --depth "$2" --connections "$CONNECTIONS" \
        --requests "$3" --threads "$THREADS" "${@:4}"
}

printf '\nredis-server %s, %s connections, %s client event loop thread(s), median of %s rounds, %s cores\n\n' \
    "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" "$CONNECTIONS" "$THREADS" "$ROUNDS" "$(nproc)"
printf '%-8s %5s %15s %12s %6s %12s %6s %12s %6s\n' command depth redis-benchmark swift-async ratio async-loop ratio swift-nio ratio
for workload in set evalsha; do
    for depth in 1 32; do
        if [ "$depth" = 1 ]; then requests=200000; else requests=2000000; fi
        case $workload in
            set) args=(SET bench:key xxx) ;;
            evalsha) args=(EVALSHA "$SHA" 2 bench:nodes bench:nodes:deliveries node-1 1700000000000) ;;
        esac
        theirs=() async=() loop=() nio=()
        for _ in $(seq "$ROUNDS"); do
            theirs+=("$(redis_benchmark "$depth" "$requests" "${args[@]}")")
            async+=("$(swift_client "$workload" "$depth" "$requests")")
            loop+=("$(swift_client "$workload" "$depth" "$requests" --task-on-event-loop)")
            nio+=("$(swift_client "$workload" "$depth" "$requests" --on-event-loop)")
        done
        t=$(median_of "${theirs[@]}")
        row=$(printf '%-8s %5s %15.0f' "$workload" "$depth" "$t")
        for values in "${async[*]}" "${loop[*]}" "${nio[*]}"; do
            # shellcheck disable=SC2086 # the numbers of one column, split on purpose
            m=$(median_of $values)
            row+=$(printf ' %12.0f %6s' "$m" "$(ratio "$m" "$t")")
        done
        printf '%s\n' "$row"
    done
done
printf '\nencode-send (the client'"'"'s own work for one single-chat send, no Redis): %s\n' \
    "$("$BENCH" --command encode-send --requests 200000 | tail -1)"
cat <<'NOTE'

swift-async: RedisClient.send / pipeline awaited from Swift tasks on the global executor.
async-loop:  the same tasks started with an EventLoopTaskExecutor preference (the pool's
             event loop): continuations resume on the loop, no thread hop.
swift-nio:   RedisClient.pipeline(_:on:) driven from the pool's event loops (the
             EventLoopFuture API a channel handler uses: no task at all).
NOTE
