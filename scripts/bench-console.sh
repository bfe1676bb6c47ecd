#!/usr/bin/env bash
# `make bench-console`: the operators' console at size (docs/benchmarks.md, *Console at
# size*). Two throwaway Redis servers, filled by Benchmarks/ConsoleBench/fill.py through
# `redis-cli --pipe` in the layout the scripts write: the measured set (USERS users,
# GROUP_COUNT groups with their members, COMPLAINTS complaints, dead letters, an audit list,
# the dashboard's statistics) and a baseline set a hundredth of its size (SMALL). A
# release `console` on each, an admin made with `console admin create`, then
# Benchmarks/ConsoleBench/bench.py times every page and search and its JSON twin,
# alternating between the two consoles: p50/p99/max, the ratio to the floor (/healthz,
# the CSS file) and to the same route on the baseline set, Redis commands per request.
# Bar: p99 < 200 ms for every route; no SCAN/KEYS of any kind.
#
#   USERS=100000 GROUP_COUNT=10000 COMPLAINTS=10000 DEADLETTERS=3000 SMALL=100 REQUESTS=200 WARMUP=20 make bench-console
#   ONLY=users make bench-console    (only the routes whose name contains it; the floor always)
#
# KEEP_TMP=1 keeps the folder (logs, facts, passwords).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

USERS=${USERS:-100000}
# (not GROUPS: bash owns that name and ignores assignments to it)
GROUP_COUNT=${GROUP_COUNT:-10000}
COMPLAINTS=${COMPLAINTS:-10000}
DEADLETTERS=${DEADLETTERS:-3000}
SMALL=${SMALL:-100}
REQUESTS=${REQUESTS:-200}
WARMUP=${WARMUP:-20}
ONLY=${ONLY:-}
for name in USERS GROUP_COUNT COMPLAINTS DEADLETTERS SMALL REQUESTS WARMUP; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done
[ "$((USERS / SMALL))" -ge 100 ] || die "USERS / SMALL must leave at least 100 users in the baseline set"

ensure_packages
ensure_debian_packages curl
ensure_swift
log "swift build -c release --product console"
swift build -c release --product console >&2
BIN=$(swift build -c release --show-bin-path)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-console.XXXXXX")
declare -A REDIS_PIDS=() CONSOLE_PIDS=()
cleanup() {
    hurry_on_signal
    stop_tree '' "${CONSOLE_PIDS[@]}"
    local pid
    for pid in "${REDIS_PIDS[@]}"; do stop_pid "$pid"; done
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup

read -r BIG_REDIS SMALL_REDIS BIG_PORT SMALL_PORT <<<"$(free_ports 4)"

# fill NAME REDIS_PORT USERS GROUPS COMPLAINTS DEADLETTERS AUDIT: a Redis of its own,
# filled; prints the fill's time and what Redis holds.
fill() {
    local name=$1 port=$2 users=$3 groups=$4 complaints=$5 deadletters=$6 audit=$7
    LOG_DIR="$TMP/$name" start_redis "$TMP/$name/redis" "$port"
    REDIS_PIDS[$name]=$REDIS_PID
    local start=$SECONDS started
    started=$(date +%s.%N)
    python3 Benchmarks/ConsoleBench/fill.py --users "$users" --groups "$groups" --complaints "$complaints" \
        --deadletters "$deadletters" --audit "$audit" --facts "$TMP/$name/facts.json" |
        redis-cli -p "$port" --pipe >"$TMP/$name/fill.log" 2>&1 ||
        { cat "$TMP/$name/fill.log" >&2; die "filling the $name set failed"; }
    grep -q 'errors: 0,' "$TMP/$name/fill.log" || { cat "$TMP/$name/fill.log" >&2; die "redis-cli --pipe reported errors ($name)"; }
    FILL_SECONDS[$name]=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    FILL_KEYS[$name]=$(redis-cli -p "$port" dbsize)
    FILL_MEMORY[$name]=$(redis-cli -p "$port" info memory | tr -d '\r' | sed -n 's/^used_memory_human://p')
    FILL_COMMANDS[$name]=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["commands"])' "$TMP/$name/facts.json")
    log "$name set: ${FILL_COMMANDS[$name]} commands in ${FILL_SECONDS[$name]} s (${FILL_KEYS[$name]} keys, ${FILL_MEMORY[$name]}) [$((SECONDS - start)) s]"
}
declare -A FILL_SECONDS=() FILL_KEYS=() FILL_MEMORY=() FILL_COMMANDS=()
fill big "$BIG_REDIS" "$USERS" "$GROUP_COUNT" "$COMPLAINTS" "$DEADLETTERS" 10000
fill small "$SMALL_REDIS" "$((USERS / SMALL))" "$(((GROUP_COUNT + SMALL - 1) / SMALL))" "$(((COMPLAINTS + SMALL - 1) / SMALL))" \
    "$(((DEADLETTERS + SMALL - 1) / SMALL))" "$(((10000 + SMALL - 1) / SMALL))"

# start_console NAME REDIS_PORT PORT: an admin `bench` (its password in NAME/password),
# then `console serve` on 127.0.0.1:PORT (no /metrics listener).
start_console() {
    local name=$1 redis_port=$2 port=$3
    local url="redis://127.0.0.1:$redis_port/0"
    env REDIS_URL="$url" LOG_LEVEL=warning "$BIN/console" admin create bench --password-file "$TMP/$name/password" \
        >"$TMP/$name/admin.log" 2>&1 || { cat "$TMP/$name/admin.log" >&2; die "console admin create failed ($name)"; }
    env REDIS_URL="$url" CONSOLE_HOST=127.0.0.1 CONSOLE_PORT="$port" CONSOLE_METRICS_PORT=0 LOG_LEVEL=warning \
        setsid "$BIN/console" serve </dev/null >"$TMP/$name/console.log" 2>&1 &
    CONSOLE_PIDS[$name]=$!
    wait_for_http "console ($name)" "${CONSOLE_PIDS[$name]}" "http://127.0.0.1:$port/healthz" "$TMP/$name/console.log"
    log "console ($name set) up on 127.0.0.1:$port (pid ${CONSOLE_PIDS[$name]})"
}
start_console big "$BIG_REDIS" "$BIG_PORT"
start_console small "$SMALL_REDIS" "$SMALL_PORT"

printf '\nconsole at size: %s cores, redis-server %s\n' "$(nproc)" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
for name in big small; do
    printf 'fill, %s set: %s commands through redis-cli --pipe in %s s: %s keys, %s\n' \
        "$name" "${FILL_COMMANDS[$name]}" "${FILL_SECONDS[$name]}" "${FILL_KEYS[$name]}" "${FILL_MEMORY[$name]}"
done
python3 Benchmarks/ConsoleBench/bench.py --requests "$REQUESTS" --warmup "$WARMUP" --only "$ONLY" \
    --console big "http://127.0.0.1:$BIG_PORT" "$TMP/big/facts.json" "$BIG_REDIS" "$TMP/big/password" \
    --console small "http://127.0.0.1:$SMALL_PORT" "$TMP/small/facts.json" "$SMALL_REDIS" "$TMP/small/password" ||
    { print_log_tail "$TMP/big/console.log"; die "a route failed or missed the bar (above)"; }
