#!/usr/bin/env bash
# `make bench-gateway`: the bridge against nginx with the nchan module (a C WebSocket
# pub/sub server), measured in the same run with the same clients, printed as ratios.
# Two phases (PHASES, both by default):
#   connections  what an idle WebSocket connection costs — resident memory per connection
#                and connections accepted per second (Benchmarks/GatewayBench, `connect`);
#   http         requests per second from `wrk` (Benchmarks/WrkScripts/requests.lua):
#                GET /nope (the HTTP layer alone), GET /healthz (one Redis PING), an
#                authenticated request with an empty result (chatGetmessageOffLine, no
#                queue), and HTTP sends (socket/sendmessage) to HTTP_PAIRS recipients
#                connected over WebSocket, against nchan publishing (Redis storage) to as
#                many WebSocket subscribers; every accepted message must arrive.
#
#   CONNECTIONS=10000 USERS=10000 CONCURRENCY=200 WARMUP=500 SETTLE=3 make bench-gateway
#   PHASES=http HTTP_CONNECTIONS=50 HTTP_PAIRS=50 HTTP_SECONDS=10 HTTP_ROUNDS=3 PROFILE=0 make bench-gateway
#
# PROFILE=1 (root, perf) adds a profile of the bridge while the connections open (a
# second, unreported run of them), under the authenticated empty request and under the sends (top frames by self time; KEEP_TMP=1 keeps perf.data).
#
# USERS below CONNECTIONS registers fewer accounts and reuses their tokens round-robin
# (the bridge keeps every connection of a token). KEEP_TMP=1 keeps the folder with the
# servers' logs and the client's output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

CONNECTIONS=${CONNECTIONS:-10000}
USERS=${USERS:-$CONNECTIONS}
CONCURRENCY=${CONCURRENCY:-200}
# Connections opened and closed before the baseline reading, so that pools and caches
# a server fills lazily on its first connections are not charged to the measured ones.
WARMUP=${WARMUP:-500}
# Seconds to wait before reading memory (after the warm-up, after the last accept).
SETTLE=${SETTLE:-3}
PHASES=${PHASES:-connections,http}
# wrk's keep-alive connections (one thread: the other core is the server's and Redis');
# the receivers of the send phases; seconds per wrk run; rounds (bridge and nchan
# alternate within a round; medians reported).
HTTP_CONNECTIONS=${HTTP_CONNECTIONS:-50}
HTTP_PAIRS=${HTTP_PAIRS:-50}
HTTP_SECONDS=${HTTP_SECONDS:-10}
HTTP_ROUNDS=${HTTP_ROUNDS:-3}
for name in CONNECTIONS USERS CONCURRENCY WARMUP SETTLE HTTP_CONNECTIONS HTTP_PAIRS HTTP_SECONDS HTTP_ROUNDS; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done
[ "$USERS" -le "$CONNECTIONS" ] || die "USERS ($USERS) must not exceed CONNECTIONS ($CONNECTIONS)"
phase_on() { [[ ",$PHASES," == *",$1,"* ]]; }
[[ $PHASES =~ ^(connections|http)(,(connections|http))*$ ]] || die "PHASES must list connections and/or http, not '$PHASES'"
# Only the http phase: the file and port checks below for its few connections.
phase_on connections || CONNECTIONS=$((HTTP_PAIRS * 2 + HTTP_CONNECTIONS))

# --- open files and ports -------------------------------------------------------------
# RLIMIT_NOFILE counts per process: the client holds CONNECTIONS sockets, and so does the
# server (its worker), plus a few of its own (Redis pool, listener, logs). Both inherit
# the limit set here.
need_fds=$((CONNECTIONS + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need_fds" ]; then
    ulimit -Hn "$need_fds" 2>/dev/null ||
        die "$CONNECTIONS connections need $need_fds open files per process, but the hard limit is $hard and cannot be raised from here: raise it for the shell that runs make (ulimit -Hn $need_fds as root, docker run --ulimit nofile=$need_fds, systemd LimitNOFILE=, nofile in /etc/security/limits.conf) or run with CONNECTIONS=$((hard - 1024))"
fi
[ "$(ulimit -Sn)" = unlimited ] || [ "$(ulimit -Sn)" -ge "$need_fds" ] || ulimit -Sn "$need_fds"
# Every connection to one server address needs its own local port.
read -r port_low port_high </proc/sys/net/ipv4/ip_local_port_range
[ $((port_high - port_low)) -gt $((CONNECTIONS + WARMUP)) ] ||
    die "the ephemeral port range ($port_low-$port_high) is too small for $((CONNECTIONS + WARMUP)) connections to one address: widen net.ipv4.ip_local_port_range"

# --- software ---------------------------------------------------------------------------
ensure_packages
had_nginx=$(command -v nginx || true)
ensure_debian_packages nginx libnginx-mod-nchan curl
phase_on http && ensure_debian_packages wrk
# apt starts the system's nginx on port 80 on install; ours runs from a temp folder.
[ -n "$had_nginx" ] || stop_system_services nginx
NCHAN_MODULE=$(dpkg -L libnginx-mod-nchan | grep -m 1 '/ngx_nchan_module\.so$' || true)
[ -f "$NCHAN_MODULE" ] || die "ngx_nchan_module.so not found in libnginx-mod-nchan (dpkg -L libnginx-mod-nchan)"
build_release_products bridge gateway-bench
BENCH="$BIN/gateway-bench"
# Another build's bridge (a folder holding `bridge`), e.g. a copy of main's, to compare
# in one session: BRIDGE_BIN_DIR=/path/to/before make bench-gateway.
BRIDGE_BIN_DIR=${BRIDGE_BIN_DIR:-$BIN}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-gateway.XXXXXX")
REDIS_PID='' BRIDGE_PID='' NGINX_PID='' CLIENT_PID='' LISTEN_PIDS=()
cleanup() {
    hurry_on_signal
    exec 5>&- 6>&- # the receivers' stdin (EOF ends them)
    stop_tree '' "$CLIENT_PID" "${LISTEN_PIDS[@]}" "$BRIDGE_PID" "$NGINX_PID"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup

read -r REDIS_PORT BRIDGE_PORT NGINX_PORT <<<"$(free_ports 3)"

# --- helpers ----------------------------------------------------------------------------
# Sum of VmRSS (KiB) of the given processes.
rss_kib() {
    local pid total=0 kib
    for pid in "$@"; do
        kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status") || die "process $pid is gone"
        total=$((total + kib))
    done
    echo "$total"
}

# The processes whose memory a server is charged with: nginx's master and workers.
server_pids() { # name
    case $1 in
    bridge) echo "$BRIDGE_PID" ;;
    nginx) echo "$NGINX_PID" && ps -o pid= --ppid "$NGINX_PID" ;;
    esac
}

# CPU time (clock ticks, user + system) the given processes have used so far. The
# fields after the command name, which may hold spaces: utime and stime are 12 and 13.
cpu_ticks() {
    local pid total=0 ticks
    for pid in "$@"; do
        ticks=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }') || die "process $pid is gone"
        total=$((total + ticks))
    done
    echo "$total"
}
TICKS_PER_SECOND=$(getconf CLK_TCK)

value_of() { # key file: the value of key=value on the file's lines
    tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | tail -n 1
}


# Bytes Redis uses: the bridge's connections keep their online state there, outside
# the bridge's RSS.
redis_used() { redis-cli -p "$REDIS_PORT" info memory | tr -d '\r' | sed -n 's/^used_memory://p'; }

# measure NAME CLIENT_ARG...: a warm-up of WARMUP connections, the baseline readings, then
# CONNECTIONS held open while they are read again. Sets ACCEPTED RATE BASE WITH (RSS),
# REDIS_BASE REDIS_WITH, and CPU and REDIS_CPU: ticks used while the connections opened.
measure() {
    local name=$1 out
    shift
    log "$name: warm-up, $WARMUP connections opened and closed"
    "$BENCH" connect --connections "$WARMUP" --concurrency "$CONCURRENCY" "$@" >"$TMP/$name-warmup.out" 2>&1 ||
        { cat "$TMP/$name-warmup.out" >&2; die "$name: warm-up failed"; }
    sleep "$SETTLE"
    # shellcheck disable=SC2046 # one pid per word
    BASE=$(rss_kib $(server_pids "$name"))
    REDIS_BASE=$(redis_used)
    log "$name: $CONNECTIONS connections, $CONCURRENCY handshakes in flight"
    out="$TMP/$name.out"
    # shellcheck disable=SC2046
    CPU=$(cpu_ticks $(server_pids "$name"))
    REDIS_CPU=$(cpu_ticks "$REDIS_PID")
    # Held long enough for the reading below; the client then closes them and exits.
    "$BENCH" connect --connections "$CONNECTIONS" --concurrency "$CONCURRENCY" --hold $((SETTLE + 5)) "$@" \
        >"$out" 2>"$TMP/$name.err" &
    CLIENT_PID=$!
    until grep -q '^accepted=' "$out"; do
        running "$CLIENT_PID" || { cat "$out" "$TMP/$name.err" >&2; die "$name: the client failed"; }
        sleep 0.1
    done
    # shellcheck disable=SC2046
    CPU=$(($(cpu_ticks $(server_pids "$name")) - CPU))
    REDIS_CPU=$(($(cpu_ticks "$REDIS_PID") - REDIS_CPU))
    sleep "$SETTLE"
    # shellcheck disable=SC2046
    WITH=$(rss_kib $(server_pids "$name"))
    REDIS_WITH=$(redis_used)
    if ! wait "$CLIENT_PID"; then
        CLIENT_PID=
        cat "$out" "$TMP/$name.err" >&2
        die "$name: connections failed or were dropped (above)"
    fi
    CLIENT_PID=
    ACCEPTED=$(value_of accepted "$out")
    RATE=$(value_of rate "$out")
}

per_conn() { awk -v w="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.2f", (w - b) / n }'; }
# CPU microseconds per connection from clock ticks.
cpu_us() { awk -v t="$1" -v hz="$TICKS_PER_SECOND" -v n="$2" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }'; }

# --- the servers ------------------------------------------------------------------------
start_redis "$TMP/redis" "$REDIS_PORT"
# The send rate's bucket stays on (issue 21: measured with issue 10's checks, not without
# them), at a rate no sender reaches: every send reads and books it, none is refused.
BRIDGE_LIMITS=(SEND_RATE=100000 SEND_BURST=100000)
start_bench_bridge "$BRIDGE_BIN_DIR" "$TMP" "$REDIS_PORT" "$BRIDGE_PORT" "${BRIDGE_LIMITS[@]}"

start_nginx() {
    mkdir -p "$TMP/nginx"
    cat >"$TMP/nginx/nginx.conf" <<EOF
load_module $NCHAN_MODULE;
daemon off;
master_process on;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
worker_rlimit_nofile $need_fds;
events { worker_connections $need_fds; }
http {
    access_log off;
    upstream chat_redis { nchan_redis_server redis://127.0.0.1:$REDIS_PORT; }
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /up { return 204; }
        # One channel per connection, as the bridge has one delivery target per user.
        location ~ ^/sub/(\w+)$ { nchan_subscriber websocket; nchan_channel_id \$1; }
        # The http phase: messages kept in Redis, as the bridge keeps its own.
        location ~ ^/rsub/(\w+)$ { nchan_subscriber websocket; nchan_channel_id \$1; nchan_redis_pass chat_redis; }
        location ~ ^/pub/(\w+)$ { nchan_publisher; nchan_channel_id \$1; nchan_redis_pass chat_redis; }
    }
}
EOF
    setsid nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" \
        </dev/null >"$TMP/nginx/stdout.log" 2>&1 &
    NGINX_PID=$!
    wait_for_http nginx "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT/up" "$TMP/nginx/error.log"
    log "nginx $(nginx -v 2>&1 | sed 's|.*/||') + nchan up on 127.0.0.1:$NGINX_PORT (master pid $NGINX_PID)"
}

# --- connections ------------------------------------------------------------------------
if phase_on connections; then
    log "registering $USERS accounts through POST /api/regChat"
    "$BENCH" register --port "$BRIDGE_PORT" --users "$USERS" --out "$TMP/tokens" >"$TMP/register.out" ||
        die "registration failed"
    REGISTERED_SECONDS=$(value_of seconds "$TMP/register.out")
    REGISTERED_RATE=$(value_of rate "$TMP/register.out")

    # The welcome is {"type":"system",…}; a refused token would get {"msg":"fail",…} first.
    measure bridge --port "$BRIDGE_PORT" --path '/ws?token={token}' --tokens "$TMP/tokens" \
        --ready first-frame --expect '"type":"system"'
    BRIDGE=("$ACCEPTED" "$RATE" "$BASE" "$WITH" "$CPU")
    redis_cpu=$REDIS_CPU
    redis_per_conn=$(awk -v w="$REDIS_WITH" -v b="$REDIS_BASE" -v n="$CONNECTIONS" 'BEGIN { printf "%.0f", (w - b) / n }')
    if [ "${PROFILE:-0}" = 1 ]; then
        # The same connections opened once more, not reported, under `perf record`.
        command -v perf >/dev/null 2>&1 || die "PROFILE=1 needs perf (apt-get install linux-perf)"
        log "bridge: profiling $CONNECTIONS connections opening (perf record, not reported)"
        perf record -F 1999 -g -p "$BRIDGE_PID" -o "$TMP/perf-open.data" >"$TMP/perf-open.log" 2>&1 &
        perf_pid=$!
        sleep 1
        "$BENCH" connect --connections "$CONNECTIONS" --concurrency "$CONCURRENCY" --port "$BRIDGE_PORT" \
            --path '/ws?token={token}' --tokens "$TMP/tokens" --ready first-frame --expect '"type":"system"' \
            >"$TMP/bridge-profiled.out" 2>&1 || { cat "$TMP/bridge-profiled.out" >&2; die "bridge: the profiled run failed"; }
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
        perf report -i "$TMP/perf-open.data" --stdio --no-children --sort symbol -g none --percent-limit 1 2>/dev/null |
            grep -v '^#' | grep -v '^$' | sed 's/ \+- \+- *$//' | head -n 30 | swift demangle --simplified >"$TMP/perf-open.top"
    fi
    # Stopped before nginx starts: the two never share the machine.
    stop_tree '' "$BRIDGE_PID"
    BRIDGE_PID=
    start_nginx

    # nchan sends nothing when a subscriber connects: the 101 is the acceptance.
    measure nginx --port "$NGINX_PORT" --path '/sub/c{i}' --ready upgrade
    NGINX=("$ACCEPTED" "$RATE" "$BASE" "$WITH" "$CPU")
fi

# --- http -------------------------------------------------------------------------------
WRK_SCRIPT=$PWD/Benchmarks/WrkScripts/requests.lua
# listen NAME ARG...: gateway-bench listen in the background, its stdin a FIFO held open on
# a descriptor (fd 5 for the bridge's, 6 for nchan's), its output in NAME.listen.
listen() {
    local name=$1 fd=$2
    shift 2
    mkfifo "$TMP/$name.control"
    eval "exec $fd<>\"\$TMP/\$name.control\""
    "$BENCH" listen "$@" <"$TMP/$name.control" >"$TMP/$name.listen" 2>"$TMP/$name.listen.err" &
    LISTEN_PIDS+=($!)
    until grep -q '^ready' "$TMP/$name.listen"; do
        running "${LISTEN_PIDS[-1]}" || { cat "$TMP/$name.listen.err" >&2; die "gateway-bench listen ($name) failed"; }
        sleep 0.2
    done
}
# frames NAME FD: the data frames NAME's receivers have had so far.
frames() {
    local before
    before=$(grep -c '^frames=' "$TMP/$1.listen" || true)
    echo count >&"$2"
    until [ "$(grep -c '^frames=' "$TMP/$1.listen" || true)" -gt "$before" ]; do sleep 0.05; done
    grep '^frames=' "$TMP/$1.listen" | tail -n 1 | cut -d= -f2
}
# http_run NAME URL KIND SERVER_PIDS: one wrk run; its summary line plus the CPU (µs per
# request) of the server's processes and of Redis, and, for sends, the frames delivered.
http_run() {
    local name=$1 url=$2 kind=$3 pids=$4 line server_ticks redis_ticks receivers='' fd='' before=0 after
    case $kind in
    send) receivers=bridge fd=5 ;;
    publish) receivers=nchan fd=6 ;;
    esac
    [ -z "$receivers" ] || before=$(frames "$receivers" "$fd")
    # shellcheck disable=SC2086 # one pid per word
    server_ticks=$(cpu_ticks $pids)
    redis_ticks=$(cpu_ticks "$REDIS_PID")
    line=$(wrk -t1 -c"$HTTP_CONNECTIONS" -d"${HTTP_SECONDS}s" --latency -s "$WRK_SCRIPT" "$url" -- "$kind" "$TMP/pairs" 2>&1 |
        grep '^wrk ') || die "$name: wrk failed"
    # shellcheck disable=SC2086
    server_ticks=$(($(cpu_ticks $pids) - server_ticks))
    redis_ticks=$(($(cpu_ticks "$REDIS_PID") - redis_ticks))
    local requests
    requests=$(value_of_line requests "$line")
    line+=" server_us=$(cpu_us "$server_ticks" "$requests") redis_us=$(cpu_us "$redis_ticks" "$requests")"
    if [ -n "$receivers" ]; then
        # Requests wrk had in flight when it stopped are served too: up to one per connection more.
        local deadline=$((SECONDS + 10))
        after=$(frames "$receivers" "$fd")
        while [ $((after - before)) -lt "$requests" ] && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.2
            after=$(frames "$receivers" "$fd")
        done
        # ... and then the ones still in flight: not counted in the next run.
        sleep 1
        after=$(frames "$receivers" "$fd")
        line+=" delivered=$((after - before))"
    fi
    echo "phase=$name $line"
}
value_of_line() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | tail -n 1; }

if phase_on http; then
    [ -n "$NGINX_PID" ] || start_nginx
    [ -n "$BRIDGE_PID" ] || start_bench_bridge "$BRIDGE_BIN_DIR" "$TMP" "$REDIS_PORT" "$BRIDGE_PORT" "${BRIDGE_LIMITS[@]}"
    log "http: $HTTP_PAIRS pairs registered, their recipients connected to the bridge; as many nchan subscribers"
    listen bridge 5 --port "$BRIDGE_PORT" --bridge --pairs "$HTTP_PAIRS" --pairs-out "$TMP/pairs"
    listen nchan 6 --port "$NGINX_PORT" --path '/rsub/c{i}' --pairs "$HTTP_PAIRS"
    # shellcheck disable=SC2046
    NGINX_PIDS=$(echo $(server_pids nginx))
    BRIDGE_URL="http://127.0.0.1:$BRIDGE_PORT"
    log "http: warm-up (not reported)"
    HTTP_SECONDS=2 http_run warmup "$BRIDGE_URL/api/chat/socket/sendmessage" send "$BRIDGE_PID" >/dev/null
    HTTP_SECONDS=2 http_run warmup "http://127.0.0.1:$NGINX_PORT/pub/c0" publish "$NGINX_PIDS" >/dev/null
    declare -a NOPE=() HEALTH=() OFFLINE=() SEND=() PUBLISH=()
    for round in $(seq "$HTTP_ROUNDS"); do
        log "http round $round of $HTTP_ROUNDS: /nope, /healthz, chatGetmessageOffLine, sendmessage, nchan publish (${HTTP_SECONDS}s each)"
        NOPE+=("$(http_run nope "$BRIDGE_URL/nope" get "$BRIDGE_PID")")
        HEALTH+=("$(http_run healthz "$BRIDGE_URL/healthz" get "$BRIDGE_PID")")
        OFFLINE+=("$(http_run offline "$BRIDGE_URL/api/chat/chatGetmessageOffLine" offline "$BRIDGE_PID")")
        SEND+=("$(http_run send "$BRIDGE_URL/api/chat/socket/sendmessage" send "$BRIDGE_PID")")
        PUBLISH+=("$(http_run publish "http://127.0.0.1:$NGINX_PORT/pub/c0" publish "$NGINX_PIDS")")
    done
    for line in "${NOPE[@]}" "${HEALTH[@]}" "${OFFLINE[@]}" "${SEND[@]}" "${PUBLISH[@]}"; do
        [[ $line == *" requests="* ]] || die "an http run failed (above)"
    done
    if [ "${PROFILE:-0}" = 1 ]; then
        # One more, unreported, run of each under `perf record` (its sampling slows them).
        command -v perf >/dev/null 2>&1 || die "PROFILE=1 needs perf (apt-get install linux-perf)"
        for kind in offline send; do
            log "http: profiling the bridge under $kind (perf record, not reported)"
            perf record -F 1999 -g -p "$BRIDGE_PID" -o "$TMP/perf-$kind.data" -- sleep "$HTTP_SECONDS" \
                >"$TMP/perf-$kind.log" 2>&1 &
            perf_pid=$!
            case $kind in
            offline) http_run offline "$BRIDGE_URL/api/chat/chatGetmessageOffLine" offline "$BRIDGE_PID" >/dev/null ;;
            send) http_run send "$BRIDGE_URL/api/chat/socket/sendmessage" send "$BRIDGE_PID" >/dev/null ;;
            esac
            wait "$perf_pid" || true
            perf report -i "$TMP/perf-$kind.data" --stdio --no-children --sort symbol -g none --percent-limit 1 2>/dev/null |
                grep -v '^#' | grep -v '^$' | sed 's/ \+- \+- *$//' | head -n 25 | swift demangle --simplified >"$TMP/perf-$kind.top"
        done
    fi
fi

# --- report -----------------------------------------------------------------------------
if phase_on connections; then
    bridge_kib=$(per_conn "${BRIDGE[3]}" "${BRIDGE[2]}" "$CONNECTIONS")
    nginx_kib=$(per_conn "${NGINX[3]}" "${NGINX[2]}" "$CONNECTIONS")
    if [ "$USERS" -eq "$CONNECTIONS" ]; then
        tokens="one account and token per connection"
    else
        tokens="$USERS accounts, tokens reused round-robin (up to $(((CONNECTIONS + USERS - 1) / USERS)) connections per token)"
    fi
    printf '\n%s idle WebSocket connections, %s handshakes in flight, %s cores; client: gateway-bench, one event loop thread\n' \
        "$CONNECTIONS" "$CONCURRENCY" "$(nproc)"
    printf 'bridge: %s; accepted at its welcome frame\n' "$tokens"
    printf 'nginx %s + nchan: 1 worker, one channel per connection; accepted at the 101\n' "$(nginx -v 2>&1 | sed 's|.*/||')"
    printf 'registration: %s accounts in %s s (%s/s, POST /api/regChat, bcrypt cost 4)\n\n' "$USERS" "$REGISTERED_SECONDS" "$REGISTERED_RATE"
    bridge_cpu=$(cpu_us "${BRIDGE[4]}" "$CONNECTIONS")
    nginx_cpu=$(cpu_us "${NGINX[4]}" "$CONNECTIONS")
    row() { printf '%-12s %9s %10s %14s %14s %9s %12s\n' "$@"; }
    row server accepted accepts/s 'RSS base KiB' 'RSS open KiB' KiB/conn 'CPU us/conn'
    row bridge "${BRIDGE[0]}" "${BRIDGE[1]}" "${BRIDGE[2]}" "${BRIDGE[3]}" "$bridge_kib" "$bridge_cpu"
    row nginx+nchan "${NGINX[0]}" "${NGINX[1]}" "${NGINX[2]}" "${NGINX[3]}" "$nginx_kib" "$nginx_cpu"
    printf '\nbridge / nginx+nchan: KiB per connection %s, accepts per second %s, CPU per connection %s\n' \
        "$(ratio "$bridge_kib" "$nginx_kib")" "$(ratio "${BRIDGE[1]}" "${NGINX[1]}")" "$(ratio "$bridge_cpu" "$nginx_cpu")"
    if awk -v k="$bridge_kib" 'BEGIN { exit !(k <= 20) }'; then verdict=within; else verdict=OVER; fi
    printf 'bridge: %s KiB per connection, %s the bar of 20 KiB\n' "$bridge_kib" "$verdict"
    printf 'Redis, not counted above: %s bytes and %s µs of CPU per connection (online_{uid}, its token id)\n' \
        "$redis_per_conn" "$(cpu_us "$redis_cpu" "$CONNECTIONS")"
    cat <<'NOTE'

RSS: VmRSS of /proc/PID/status; the bridge is one process, nginx is its master plus its
worker (all growth is the worker's). Base: after the warm-up, SETTLE s after it closed.
Open: SETTLE s after the last connection was accepted, all of them idle and open.
accepts/s: connections accepted / seconds from the first connect to the last acceptance.
CPU: user + system time of the server's processes while the connections opened.
NOTE
    if [ "${PROFILE:-0}" = 1 ]; then
        printf '\nbridge, top frames while connections open (perf record -g, self time; %s):\n' "$TMP/perf-open.data"
        cat "$TMP/perf-open.top"
    fi
fi

if phase_on http; then
    printf '\nHTTP: wrk %s, 1 thread, %s connections, %s s per run, %s rounds; %s cores\n' \
        "$(wrk --version 2>&1 | head -n 1 | awk '{ print $2 }')" "$HTTP_CONNECTIONS" "$HTTP_SECONDS" "$HTTP_ROUNDS" "$(nproc)"
    printf 'sends: %s senders → %s recipients connected over WebSocket (bridge); nchan: POST /pub/cN to %s WebSocket subscribers, Redis storage\n\n' \
        "$HTTP_PAIRS" "$HTTP_PAIRS" "$HTTP_PAIRS"
    hrow() { printf '%-26s %-30s %9s %9s %8s %8s %10s %9s %s\n' "$@"; }
    hrow request rounds 'median/s' 'p50 ms' 'p99 ms' errors 'server µs' 'Redis µs' 'delivered/answered'
    HTTP_PROBLEMS=0
    hline() { # label lines...
        local label=$1 line rates=() p50s=() p99s=() errs=0 srv=() rds=() delivered=() value
        shift
        for line in "$@"; do
            rates+=("$(value_of_line rate "$line")")
            p50s+=("$(value_of_line p50_ms "$line")")
            p99s+=("$(value_of_line p99_ms "$line")")
            srv+=("$(value_of_line server_us "$line")")
            rds+=("$(value_of_line redis_us "$line")")
            # /nope is answered 404 on purpose: only its socket errors count.
            [ "$label" = "$NOPE_LABEL" ] || errs=$((errs + $(value_of_line status_errors "$line")))
            errs=$((errs + $(value_of_line socket_errors "$line")))
            value=$(value_of_line delivered "$line")
            if [ -n "$value" ]; then
                delivered+=("$value/$(value_of_line requests "$line")")
                # Fewer is a loss. More: wrk does not count the answers it had in flight
                # when it stopped, nor requests it had to send again (exactly once per
                # message is bench-chat's check, which knows every message).
                [ "$value" -ge "$(value_of_line requests "$line")" ] ||
                    { warn "$label: $value delivered for $(value_of_line requests "$line") answered"; HTTP_PROBLEMS=$((HTTP_PROBLEMS + 1)); }
            fi
        done
        [ "$errs" -eq 0 ] || HTTP_PROBLEMS=$((HTTP_PROBLEMS + 1))
        hrow "$label" "$(IFS=' '; echo "${rates[*]}")" "$(median_of "${rates[@]}")" "$(median_of "${p50s[@]}")" \
            "$(median_of "${p99s[@]}")" "$errs" "$(median_of "${srv[@]}")" "$(median_of "${rds[@]}")" "${delivered[*]:-}"
        HLINE_MEDIAN=$(median_of "${rates[@]}")
    }
    NOPE_LABEL='GET /nope (404)'
    hline "$NOPE_LABEL" "${NOPE[@]}"; nope=$HLINE_MEDIAN
    hline 'GET /healthz (PING)' "${HEALTH[@]}"; health=$HLINE_MEDIAN
    hline 'offline (auth, empty)' "${OFFLINE[@]}"; offline=$HLINE_MEDIAN
    hline 'send, delivered' "${SEND[@]}"; send=$HLINE_MEDIAN
    hline 'nchan publish, delivered' "${PUBLISH[@]}"; publish=$HLINE_MEDIAN
    mapfile -t offline_ratios < <(for i in $(seq 0 $((HTTP_ROUNDS - 1))); do ratio "$(value_of_line rate "${OFFLINE[i]}")" "$(value_of_line rate "${HEALTH[i]}")"; echo; done)
    mapfile -t send_ratios < <(for i in $(seq 0 $((HTTP_ROUNDS - 1))); do ratio "$(value_of_line rate "${SEND[i]}")" "$(value_of_line rate "${PUBLISH[i]}")"; echo; done)
    offline_ratio=$(median_of "${offline_ratios[@]}")
    send_ratio=$(median_of "${send_ratios[@]}")
    hverdict() { if awk -v v="$1" -v b="$2" 'BEGIN { exit !(v >= b) }'; then echo pass; else echo FAIL; fi; }
    printf '\nratios (median of the rounds'"'"' ratios): /healthz / /nope %s; offline / /healthz %s (%s) — bar 0.7: %s; send / nchan publish %s (%s) — bar 1.0: %s\n' \
        "$(ratio "$health" "$nope")" "$offline_ratio" "${offline_ratios[*]}" "$(hverdict "$offline_ratio" 0.7)" \
        "$send_ratio" "${send_ratios[*]}" "$(hverdict "$send_ratio" 1.0)"
    if [ "$HTTP_PROBLEMS" -eq 0 ]; then
        printf 'every run: no error answer, no message answered ok missing at the receivers'"'"' sockets\n'
    else
        printf '%s problems (warnings above)\n' "$HTTP_PROBLEMS"
    fi
    cat <<'NOTE'
median/s: requests per second answered (wrk's count / its duration); sends are 200s with
the message; delivered: data frames at the receivers / requests answered (a run may also
deliver requests wrk had in flight when it stopped, not counted). server µs: user +
system CPU of the bridge (nginx: master and worker) per request, Redis µs the same of
redis-server, over the whole wrk run.
NOTE
    if [ "${PROFILE:-0}" = 1 ]; then
        for kind in offline send; do
            printf '\nbridge, top frames under %s (perf record -g, self time; %s):\n' "$kind" "$TMP/perf-$kind.data"
            cat "$TMP/perf-$kind.top"
        done
    fi
    [ "$HTTP_PROBLEMS" -eq 0 ] || exit 1
fi
