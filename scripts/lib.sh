# shellcheck shell=bash
# Helpers shared by scripts/*.sh. Source it; it defines functions only.
#
#   ensure_packages            install what is missing (apt-get, Debian 12)
#   ensure_debian_packages PKG...  install those of PKG that dpkg does not list
#   ensure_swift               find swift (PATH, else /opt/swift) or fail clearly
#   ensure_python              TEST_PYTHON: a python3 with the project's PyPI packages
#   free_port / free_ports N   1 / N distinct free loopback TCP ports, chosen by the kernel
#   require_free_port PORT NAME  fail with a clear message when PORT is taken
#   port_is_free PORT          true when 127.0.0.1:PORT can be bound
#   start_redis DIR PORT [ARG...]    redis-server in the background; sets REDIS_PID
#   start_mariadb DIR PORT [ARG...]  mariadbd in the background; sets MARIADB_PID
#   mariadb_sql PORT SQL       run SQL as root over TCP
#   stop_pid PID               TERM, wait up to STOP_TIMEOUT s (20), then KILL
#   stop_pids PID...           the same for several processes at once
#   stop_tree NAME=VALUE PID...  stop_pid for the PIDs, their descendants and the
#                              processes whose environment holds NAME=VALUE
#
# Servers are started with setsid: a Ctrl-C in the terminal reaches only the
# script, whose trap then stops everything in order. Do not source this file in
# a shell with job control (set -m): the recorded pids would be wrong.
#
# Variables read: LOG_DIR (where redis.log/mariadb.log go; default: DIR),
# START_TIMEOUT (seconds to wait for a server; default 60), STOP_TIMEOUT (20).

# mariadbd and friends live in /usr/sbin, which is not on every user's PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' and sudo is not installed"
    fi
}

# Prints the Debian packages that are missing, one per line (may repeat).
missing_packages() {
    command -v redis-server >/dev/null 2>&1 || echo redis-server
    command -v redis-cli >/dev/null 2>&1 || echo redis-tools
    local tool
    for tool in mariadbd mariadb-install-db; do
        command -v "$tool" >/dev/null 2>&1 || echo mariadb-server
    done
    for tool in mariadb mariadb-admin; do
        command -v "$tool" >/dev/null 2>&1 || echo mariadb-client
    done
    command -v ps >/dev/null 2>&1 || echo procps
    command -v setsid >/dev/null 2>&1 || echo util-linux
    command -v ffmpeg >/dev/null 2>&1 || echo ffmpeg
    if command -v pkg-config >/dev/null 2>&1; then
        pkg-config --exists hiredis || echo libhiredis-dev
        pkg-config --exists libmariadb || echo libmariadb-dev
        pkg-config --exists libcrypt || echo libcrypt-dev
        pkg-config --exists libqrencode || echo libqrencode-dev
        pkg-config --exists libpng || echo libpng-dev
    else
        echo pkg-config
        dpkg -s libhiredis-dev >/dev/null 2>&1 || echo libhiredis-dev
        dpkg -s libmariadb-dev >/dev/null 2>&1 || echo libmariadb-dev
        dpkg -s libcrypt-dev >/dev/null 2>&1 || echo libcrypt-dev
        dpkg -s libqrencode-dev >/dev/null 2>&1 || echo libqrencode-dev
        dpkg -s libpng-dev >/dev/null 2>&1 || echo libpng-dev
    fi
}

# apt-get starts the system's own redis-server/mariadb services on install; they
# would take ports 6379/3306 away from `make run`. Stop the ones we just caused.
stop_system_services() {
    local service
    for service in "$@"; do
        if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
            as_root systemctl disable --now "$service" >/dev/null 2>&1 || true
        elif command -v service >/dev/null 2>&1; then
            as_root service "$service" stop >/dev/null 2>&1 || true
        fi
    done
}

ensure_packages() {
    local -a missing
    mapfile -t missing < <(missing_packages | sort -u)
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing missing Debian packages: ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
    local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
    as_root "${apt[@]}" update -q || die "apt-get update failed"
    as_root "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed: ${missing[*]}"
    local -a services=()
    [[ " ${missing[*]} " == *" redis-server "* ]] && services+=(redis-server)
    [[ " ${missing[*]} " == *" mariadb-server "* ]] && services+=(mariadb)
    if [ "${#services[@]}" -gt 0 ]; then
        log "stopping the system services apt just started (${services[*]}); ours run from the checkout"
        stop_system_services "${services[@]}"
    fi
    local still
    still=$(missing_packages | sort -u | tr '\n' ' ')
    [ -z "$still" ] || die "still missing after apt-get install: $still"
}

# For what only one script needs (nginx for the gateway benchmark): the packages
# given that dpkg does not list as installed, with apt-get as ensure_packages does.
# Stopping a service apt may have started is the caller's business.
ensure_debian_packages() {
    local -a missing=()
    local package
    for package in "$@"; do
        [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = 'install ok installed' ] ||
            missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing missing Debian packages: ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
    local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
    as_root "${apt[@]}" update -q || die "apt-get update failed"
    as_root "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed: ${missing[*]}"
}

# ensure_python: sets and exports TEST_PYTHON, a python3 with the Python packages the
# project uses, from PyPI, in one place: jsonschema (the stream contract's check), redis
# and matplotlib (examples/analytics, the persister tuning chart), selenium (the console's
# browser tests). Into python3's site-packages, or a venv under .build when the system's
# pip refuses (Debian's python is "externally managed"). Quick when everything imports.
ensure_python() {
    local -a packages=(jsonschema redis matplotlib selenium)
    local imports='import jsonschema, redis, matplotlib, selenium' venv=.build/test-venv
    command -v python3 >/dev/null 2>&1 || ensure_debian_packages python3 python3-venv
    TEST_PYTHON=$(command -v python3) || die "python3 is not on PATH"
    if ! "$TEST_PYTHON" -c "$imports" 2>/dev/null; then
        if [ -x "$venv/bin/python3" ] && "$venv/bin/python3" -c "$imports" 2>/dev/null; then
            TEST_PYTHON=$PWD/$venv/bin/python3
        else
            log "installing ${packages[*]} (PyPI)"
            if ! "$TEST_PYTHON" -m pip install -q "${packages[@]}"; then
                log "pip refused the system's python; installing into $venv"
                python3 -c 'import ensurepip' 2>/dev/null || ensure_debian_packages python3-venv
                python3 -m venv "$venv" || die "python3 -m venv $venv failed"
                TEST_PYTHON=$PWD/$venv/bin/python3
                "$TEST_PYTHON" -m pip install -q "${packages[@]}" || die "pip install ${packages[*]} failed"
            fi
            "$TEST_PYTHON" -c "$imports" || die "${packages[*]} do not import after pip install"
        fi
    fi
    export TEST_PYTHON
}

ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 ||
        die "swift not found on PATH; install a Swift 6 toolchain (https://swift.org/install) and add its usr/bin to PATH"
}

# Prints N distinct free ports (space separated). All N sockets are held open
# until every port is chosen, so the N are distinct; the kernel picks them from
# the ephemeral range, so concurrent callers get different ports. A server may
# still lose a race for its port: start_* then fail fast and callers can retry.
free_ports() {
    local count=${1:-1}
    if command -v python3 >/dev/null 2>&1; then
        python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "$count"
        return
    fi
    # No python3: random ports below the ephemeral range that nothing listens on.
    local -a ports=()
    local port
    while [ "${#ports[@]}" -lt "$count" ]; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        [[ " ${ports[*]} " == *" $port "* ]] && continue
        port_is_free "$port" && ports+=("$port")
    done
    echo "${ports[*]}"
}

free_port() { free_ports 1; }

# True when a server could listen on 127.0.0.1:PORT (what our servers do).
port_is_free() {
    local port=$1
    if command -v python3 >/dev/null 2>&1; then
        python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
' "$port"
    else
        ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

# Fails with a message naming the port and its variable when it is taken.
require_free_port() {
    local port=$1 name=$2
    port_is_free "$port" && return 0
    die "port $port ($name) is already in use on 127.0.0.1. Stop what listens there (see: ss -ltnp 'sport = :$port') or pick another port, e.g. $name=$((port + 1)) make run"
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Alive and not a zombie (an exited child counts for kill -0 until reaped).
running() {
    pid_alive "$1" && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

print_log_tail() {
    local file=$1
    [ -f "$file" ] || return 0
    printf -- '--- last lines of %s ---\n' "$file" >&2
    tail -n 30 "$file" >&2 || true
    printf -- '---\n' >&2
}

# wait_for_http NAME PID URL LOG: until URL answers 2xx; dies (with LOG's tail) when PID
# exits or START_TIMEOUT (60 s) passes.
wait_for_http() {
    local deadline=$((SECONDS + ${START_TIMEOUT:-60}))
    until curl -fsS -o /dev/null "$3" 2>/dev/null; do
        running "$2" || { print_log_tail "$4"; die "$1 exited while starting"; }
        [ "$SECONDS" -lt "$deadline" ] || { print_log_tail "$4"; die "$1 did not answer $3 within ${START_TIMEOUT:-60}s"; }
        sleep 0.1
    done
}

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# median: the median of the numbers on stdin, one per line; median_of N...: of its arguments.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
median_of() { printf '%s\n' "$@" | median; }

# start_bench_bridge BIN DIR REDIS_PORT BRIDGE_PORT [VAR=VALUE...]: a release bridge for a
# benchmark (random JWT secret, cheap bcrypt, warnings only, no send rate quota: one
# benchmark account sends thousands a second; no limits per client address and a deep
# bcrypt queue: thousands of accounts register from 127.0.0.1 at once; no /metrics
# listener, so that several bridges share a machine; extra environment after),
# logging to DIR/bridge.log, in a session of its own. Sets BRIDGE_PID; returns once
# /healthz answers.
start_bench_bridge() {
    local bin=$1 dir=$2 redis_port=$3 port=$4
    shift 4
    env REDIS_URL="redis://127.0.0.1:$redis_port/0" BRIDGE_PORT="$port" \
        JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" BCRYPT_COST=4 LOG_LEVEL=warning SEND_RATE=0 BRIDGE_METRICS_PORT=0 \
        REGISTRATIONS_PER_IP=0 LOGIN_FAILURES_PER_IP=0 VISITOR_CALLS_PER_IP=0 BCRYPT_QUEUE=100000 "$@" \
        setsid "$bin/bridge" </dev/null >"$dir/bridge.log" 2>&1 &
    BRIDGE_PID=$!
    wait_for_http bridge "$BRIDGE_PID" "http://127.0.0.1:$port/healthz" "$dir/bridge.log"
    log "bridge up on 127.0.0.1:$port (pid $BRIDGE_PID)"
}

# allowed_cpus: the CPUs this shell may run on, one per line (a cpuset need not start at 0).
allowed_cpus() {
    local part
    local -a parts
    IFS=, read -ra parts <<<"$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
    for part in "${parts[@]}"; do
        if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
    done
}

# hold_cpu_wakeup_latency US: asks the kernel, through PM QoS (/dev/cpu_dma_latency), for
# idle CPUs that wake within US microseconds for as long as a holder process keeps the
# device open (what tuned's latency-performance profile does). With 0 an idle CPU polls
# instead of halting, so a wake-up from the other CPU needs no interrupt to a halted vCPU.
# Sets CPU_LATENCY_HOLDER (stop it to give the request back). Warns and returns 1,
# holding nothing, when the device is not writable (not root, or no PM QoS).
hold_cpu_wakeup_latency() {
    CPU_LATENCY_HOLDER=
    if [ ! -w /dev/cpu_dma_latency ]; then
        warn "/dev/cpu_dma_latency is not writable (not root?): idle CPUs keep the machine's wake-up latency"
        return 1
    fi
    # Four bytes would be read as a binary integer; anything longer as hex text.
    { printf '0x%08x' "$1"; exec sleep infinity; } >/dev/cpu_dma_latency &
    CPU_LATENCY_HOLDER=$!
}

# start_redis DIR PORT [REDIS_ARG...]: runs redis-server on 127.0.0.1:PORT with
# its files in DIR and no config file; the defaults keep nothing on disk
# (--save '' --appendonly no); extra args override them. Sets REDIS_PID.
# Returns 1 (after stopping what it started) when Redis does not come up.
start_redis() {
    local dir=$1 port=$2
    shift 2
    local logfile="${LOG_DIR:-$dir}/redis.log"
    mkdir -p "$dir" "$(dirname "$logfile")"
    REDIS_PID=
    setsid redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" \
        --save '' --appendonly no --daemonize no \
        "$@" </dev/null >>"$logfile" 2>&1 &
    REDIS_PID=$!
    local deadline=$((SECONDS + ${START_TIMEOUT:-60}))
    until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; do
        if ! pid_alive "$REDIS_PID"; then
            wait "$REDIS_PID" 2>/dev/null || true
            printf 'error: redis-server exited while starting on port %s\n' "$port" >&2
            print_log_tail "$logfile"
            REDIS_PID=
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            printf 'error: redis-server on port %s did not answer PING within %ss\n' "$port" "${START_TIMEOUT:-60}" >&2
            print_log_tail "$logfile"
            stop_pid "$REDIS_PID"
            REDIS_PID=
            return 1
        fi
        sleep 0.1
    done
    # The answer must come from our process, not from another server on the port.
    local served_by
    served_by=$(redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
    if [ "$served_by" != "$REDIS_PID" ]; then
        printf 'error: port %s is served by another Redis (pid %s)\n' "$port" "${served_by:-?}" >&2
        stop_pid "$REDIS_PID"
        REDIS_PID=
        return 1
    fi
    log "redis-server up on 127.0.0.1:$port (pid $REDIS_PID, files in $dir)"
}

mariadb_root_args() {
    if [ "$(id -u)" -eq 0 ]; then echo --user=root; fi
}

# A unix socket path must fit in 108 bytes; a deep checkout can exceed that.
mariadb_socket_path() {
    local dir=$1
    if [ "${#dir}" -lt 90 ]; then
        echo "$dir/mysqld.sock"
    else
        echo "$(mktemp -d "${TMPDIR:-/tmp}/chat-mariadb.XXXXXX")/mysqld.sock"
    fi
}

# start_mariadb DIR PORT [MARIADBD_ARG...]: MariaDB on 127.0.0.1:PORT, data in
# DIR/db (initialized when empty: root without password), reading no option
# files; utf8mb4 by default. Extra args go to mariadbd (and to the initial
# bootstrap). Sets MARIADB_PID. Returns 1 when MariaDB does not come up.
start_mariadb() {
    local dir=$1 port=$2
    shift 2
    local datadir="$dir/db"
    local logfile="${LOG_DIR:-$dir}/mariadb.log"
    local -a user_arg
    mapfile -t user_arg < <(mariadb_root_args)
    mkdir -p "$datadir" "$(dirname "$logfile")"
    MARIADB_PID=
    if [ -z "$(ls -A "$datadir")" ]; then
        log "initializing MariaDB data directory $datadir"
        if ! mariadb-install-db --no-defaults --datadir="$datadir" \
            --auth-root-authentication-method=normal --skip-test-db \
            --skip-name-resolve "${user_arg[@]}" "$@" >"$dir/install-db.log" 2>&1; then
            printf 'error: mariadb-install-db failed; its errors (full log: %s):\n' "$dir/install-db.log" >&2
            grep -F '[ERROR]' "$dir/install-db.log" >&2 || head -n 20 "$dir/install-db.log" >&2
            rm -rf -- "$datadir" # half initialized: start from scratch next time
            return 1
        fi
    fi
    MARIADB_SOCKET=$(mariadb_socket_path "$dir")
    setsid mariadbd --no-defaults --datadir="$datadir" \
        --socket="$MARIADB_SOCKET" --pid-file="$dir/mariadbd.pid" \
        --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
        --log-error="$logfile" "${user_arg[@]}" \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        "$@" </dev/null >>"$logfile" 2>&1 &
    MARIADB_PID=$!
    local deadline=$((SECONDS + ${START_TIMEOUT:-60}))
    until mariadb-admin --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot \
        --connect-timeout=2 ping >/dev/null 2>&1; do
        if ! pid_alive "$MARIADB_PID"; then
            wait "$MARIADB_PID" 2>/dev/null || true
            printf 'error: mariadbd exited while starting on port %s\n' "$port" >&2
            print_log_tail "$logfile"
            MARIADB_PID=
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            printf 'error: mariadbd on port %s did not answer ping within %ss\n' "$port" "${START_TIMEOUT:-60}" >&2
            print_log_tail "$logfile"
            stop_pid "$MARIADB_PID"
            MARIADB_PID=
            return 1
        fi
        sleep 0.2
    done
    # The answer must come from our server, not from another one on the port.
    local served_by
    served_by=$(mariadb_sql "$port" 'SELECT @@socket' 2>/dev/null || true)
    if [ "$served_by" != "$MARIADB_SOCKET" ]; then
        printf 'error: port %s is served by another MariaDB (socket %s)\n' "$port" "${served_by:-?}" >&2
        stop_pid "$MARIADB_PID"
        MARIADB_PID=
        return 1
    fi
    log "mariadbd up on 127.0.0.1:$port (pid $MARIADB_PID, data in $datadir)"
}

# Removes the socket directory mariadb_socket_path had to create, if any.
cleanup_mariadb_socket() {
    case "${MARIADB_SOCKET:-}" in
    */chat-mariadb.*/mysqld.sock) rm -rf -- "$(dirname "$MARIADB_SOCKET")" ;;
    esac
}

mariadb_sql() {
    local port=$1 sql=$2
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot \
        --batch --skip-column-names -e "$sql"
}

# stop_pid PID: TERM, wait up to STOP_TIMEOUT seconds (default 20), then KILL.
# STOP_TIMEOUT is read on every poll, so a trap may shorten a wait under way.
stop_pid() {
    stop_pids "$1"
}

stop_pids() {
    local -a pids=("$@")
    local started=$SECONDS pid
    local -a left
    kill -TERM "${pids[@]}" 2>/dev/null || true
    while :; do
        left=()
        for pid in "${pids[@]}"; do
            running "$pid" && left+=("$pid")
        done
        [ "${#left[@]}" -eq 0 ] && break
        if [ "$SECONDS" -ge "$((started + ${STOP_TIMEOUT:-20}))" ]; then
            warn "pid ${left[*]} still running after ${STOP_TIMEOUT:-20}s; sending KILL"
            kill -KILL "${left[@]}" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}

# Prints PID and all its descendants.
process_tree() {
    local -a queue=("$1")
    local pid child
    while [ "${#queue[@]}" -gt 0 ]; do
        pid=${queue[0]}
        queue=("${queue[@]:1}")
        echo "$pid"
        for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
            queue+=("$child")
        done
    done
}

# Pids of the processes whose environment holds exactly NAME=VALUE: a marker a
# command and all its descendants inherit, even those that left its process
# group or were orphaned (re-parented) when it exited.
pids_with_env() {
    local entry=$1 file
    grep -lzxF -- "$entry" /proc/[0-9]*/environ 2>/dev/null | while read -r file; do
        file=${file#/proc/}
        echo "${file%/environ}"
    done
}

# stop_tree MARKER PID...: stop_pids on the PIDs, all their descendants
# (collected before signalling) and every process whose environment holds
# MARKER (NAME=VALUE; empty for none), all at once.
stop_tree() {
    local marker=$1 root
    shift
    local -a pids=()
    for root in "$@"; do
        running "$root" || continue
        mapfile -t -O "${#pids[@]}" pids < <(process_tree "$root")
    done
    if [ -n "$marker" ]; then
        mapfile -t -O "${#pids[@]}" pids < <(pids_with_env "$marker")
    fi
    if [ "${#pids[@]}" -gt 0 ]; then
        mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -un)
        stop_pids "${pids[@]}"
    fi
    for root in "$@"; do
        wait "$root" 2>/dev/null || true
    done
}

# swift build -c release, after installing what the build needs.
build_release() {
    ensure_packages
    ensure_swift
    log "swift build -c release"
    swift build -c release
}

# A benchmark's release products: builds each (its output on standard error, where the
# scripts log; standard output is their report) and sets BIN to their folder.
build_release_products() {
    ensure_swift
    local product
    for product in "$@"; do
        log "swift build -c release --product $product"
        swift build -c release --product "$product" >&2
    done
    BIN=$(swift build -c release --show-bin-path)
}

# Installs the traps of a script whose cleanup function is named CLEANUP: the
# EXIT trap runs it; a signal exits with 128+signal, which runs it too.
install_traps() {
    local cleanup=$1
    # shellcheck disable=SC2064 # expand the function name now
    trap "$cleanup" EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Called first in a cleanup function: a signal during cleanup (a second Ctrl-C)
# cuts the grace of stop_* to 1 s, after which they KILL.
hurry_on_signal() {
    trap 'STOP_TIMEOUT=1' HUP INT TERM
}
