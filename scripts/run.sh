#!/usr/bin/env bash
# `make run`: installs what is missing, builds in release mode, starts Redis and
# MariaDB with their data under ./data/, runs `persister migrate`, then runs the
# bridge, the persister and the operators' console in the foreground of this
# script (the console's first admin `admin` is created on the first run, its
# generated password in data/console-admin-password). Ctrl-C or SIGTERM stops
# everything (the programs first, then the databases); when any of the five
# processes exits on its own, the others are stopped too and the script exits
# non-zero.
#
# Environment: REDIS_PORT (6379), MARIADB_PORT (3306), BRIDGE_PORT (7001),
# BRIDGE_METRICS_PORT (7004, the bridge's /metrics), PERSISTER_METRICS_PORT (7002, the persister's /metrics),
# CONSOLE_PORT (7003, the operators' console), CONSOLE_METRICS_PORT (7005, the console's /metrics),
# MARIADB_DATABASE (chat), UPLOAD_DIR (data/uploads), JWT_SECRET (default: generated once, kept in
# data/jwt-secret), START_TIMEOUT / STOP_TIMEOUT (seconds).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

REDIS_PORT=${REDIS_PORT:-6379}
MARIADB_PORT=${MARIADB_PORT:-3306}
BRIDGE_PORT=${BRIDGE_PORT:-7001}
PERSISTER_METRICS_PORT=${PERSISTER_METRICS_PORT:-7002}
BRIDGE_METRICS_PORT=${BRIDGE_METRICS_PORT:-7004}
CONSOLE_PORT=${CONSOLE_PORT:-7003}
CONSOLE_METRICS_PORT=${CONSOLE_METRICS_PORT:-7005}
MARIADB_DATABASE=${MARIADB_DATABASE:-chat}
DATA_DIR=$PWD/data
LOG_DIR=$DATA_DIR/logs
BIN_DIR=$PWD/.build/release

# Redis keeps its data across restarts (append-only file under data/redis):
# tokens live in Redis, and stream entries not yet persisted must survive.
REDIS_RUN_ARGS=(--appendonly yes --appendfsync everysec)

REDIS_PID=
MARIADB_PID=
BRIDGE_PID=
PERSISTER_PID=
CONSOLE_PID=
# In the environment of the bridge, the persister and all they start; unique
# to this run (pid of this script), so cleanup never touches another run's.
APP_MARKER="CHAT_RUN=$$:$DATA_DIR"
APPS_STARTED=0

cleanup() {
    local rc=$?
    set +e
    hurry_on_signal
    local -a apps=() databases=()
    [ -n "$BRIDGE_PID" ] && apps+=("$BRIDGE_PID")
    [ -n "$PERSISTER_PID" ] && apps+=("$PERSISTER_PID")
    [ -n "$CONSOLE_PID" ] && apps+=("$CONSOLE_PID")
    [ -n "$MARIADB_PID" ] && databases+=("$MARIADB_PID")
    [ -n "$REDIS_PID" ] && databases+=("$REDIS_PID")
    if [ "$((${#apps[@]} + ${#databases[@]}))" -gt 0 ]; then
        log "stopping (Ctrl-C again: kill what is not stopped within 1s)"
    fi
    # The programs (and anything they started) first, then the databases.
    [ "$APPS_STARTED" -eq 0 ] || stop_tree "$APP_MARKER" "${apps[@]}"
    [ "${#databases[@]}" -eq 0 ] || stop_pids "${databases[@]}"
    cleanup_mariadb_socket
    exit "$rc"
}

check_settings() {
    local name
    for name in REDIS_PORT MARIADB_PORT BRIDGE_PORT BRIDGE_METRICS_PORT PERSISTER_METRICS_PORT CONSOLE_PORT CONSOLE_METRICS_PORT; do
        if ! [[ "${!name}" =~ ^[0-9]{1,5}$ ]] || [ "${!name}" -lt 1 ] || [ "${!name}" -gt 65535 ]; then
            die "$name must be a port number (1-65535), not '${!name}'"
        fi
    done
    [[ "$MARIADB_DATABASE" =~ ^[A-Za-z0-9_]+$ ]] ||
        die "MARIADB_DATABASE must be letters, digits and '_', not '$MARIADB_DATABASE'"
    [ "$(printf '%s\n' "$REDIS_PORT" "$MARIADB_PORT" "$BRIDGE_PORT" "$BRIDGE_METRICS_PORT" "$PERSISTER_METRICS_PORT" \
        "$CONSOLE_PORT" "$CONSOLE_METRICS_PORT" | sort -u | wc -l)" -eq 7 ] ||
        die "REDIS_PORT, MARIADB_PORT, BRIDGE_PORT, BRIDGE_METRICS_PORT, PERSISTER_METRICS_PORT, CONSOLE_PORT and CONSOLE_METRICS_PORT must differ"
    require_free_port "$REDIS_PORT" REDIS_PORT
    require_free_port "$MARIADB_PORT" MARIADB_PORT
    require_free_port "$BRIDGE_PORT" BRIDGE_PORT
    require_free_port "$BRIDGE_METRICS_PORT" BRIDGE_METRICS_PORT
    require_free_port "$PERSISTER_METRICS_PORT" PERSISTER_METRICS_PORT
    require_free_port "$CONSOLE_PORT" CONSOLE_PORT
    require_free_port "$CONSOLE_METRICS_PORT" CONSOLE_METRICS_PORT
}

# One `make run` per checkout: a second one would share ./data/. The lock is
# held through fd 9, which the servers and programs inherit.
lock_data_dir() {
    mkdir -p "$DATA_DIR" "$LOG_DIR"
    exec 9>"$DATA_DIR/.run.lock"
    flock -n 9 ||
        die "another 'make run' (or a server left over from one) uses $DATA_DIR; see: fuser -v $DATA_DIR/.run.lock"
}

# Prints the JWT secret: JWT_SECRET if set, else the one in data/jwt-secret,
# generated on the first run (so tokens stay valid across restarts).
jwt_secret() {
    local file=$DATA_DIR/jwt-secret
    if [ -n "${JWT_SECRET:-}" ]; then
        printf '%s\n' "$JWT_SECRET"
        return
    fi
    if [ ! -s "$file" ]; then
        (
            umask 077
            od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file.tmp"
            mv -f "$file.tmp" "$file"
        )
        log "generated a JWT secret in $file"
    fi
    cat "$file"
}

start_databases() {
    start_redis "$DATA_DIR/redis" "$REDIS_PORT" "${REDIS_RUN_ARGS[@]}" ||
        die "Redis did not start (log: $LOG_DIR/redis.log)"
    start_mariadb "$DATA_DIR/mariadb" "$MARIADB_PORT" ||
        die "MariaDB did not start (log: $LOG_DIR/mariadb.log)"
    mariadb_sql "$MARIADB_PORT" "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
}

# The bridge and the persister in sessions of their own: only our trap signals
# them, so a Ctrl-C stops them before the databases they use.
start_programs() {
    APPS_STARTED=1
    log "persister migrate"
    env "$APP_MARKER" "$BIN_DIR/persister" migrate
    log "starting the bridge on port $BRIDGE_PORT"
    env "$APP_MARKER" UPLOAD_DIR="${UPLOAD_DIR:-$DATA_DIR/uploads}" setsid "$BIN_DIR/bridge" &
    BRIDGE_PID=$!
    log "starting the persister"
    env "$APP_MARKER" setsid "$BIN_DIR/persister" run &
    PERSISTER_PID=$!
    first_admin
    log "starting the operators' console on http://127.0.0.1:$CONSOLE_PORT/"
    env "$APP_MARKER" setsid "$BIN_DIR/console" serve &
    CONSOLE_PID=$!
}

# The console's first operator, `admin`, when there is none yet: its generated
# password goes to data/console-admin-password (mode 0600), never to the terminal.
first_admin() {
    local file=$DATA_DIR/console-admin-password
    if [ -n "$(redis-cli -p "$REDIS_PORT" zrange chat:admins 0 0)" ]; then
        [ -s "$file" ] && log "console: log in as admin, password in $file"
        return
    fi
    env "$APP_MARKER" "$BIN_DIR/console" admin create admin --password-file "$file" >/dev/null
    log "console: created the admin 'admin'; its password is in $file"
}

# Returns when any of the five processes exits; never returns 0.
wait_for_any_exit() {
    local exited='' rc=0
    wait -n -p exited "$REDIS_PID" "$MARIADB_PID" "$BRIDGE_PID" "$PERSISTER_PID" "$CONSOLE_PID" || rc=$?
    local name=process
    case "$exited" in
    "$REDIS_PID") name=redis-server REDIS_PID= ;;
    "$MARIADB_PID") name=mariadbd MARIADB_PID= ;;
    "$BRIDGE_PID") name=bridge BRIDGE_PID= ;;
    "$PERSISTER_PID") name=persister PERSISTER_PID= ;;
    "$CONSOLE_PID") name=console CONSOLE_PID= ;;
    esac
    warn "$name (pid ${exited:-?}) exited with status $rc; stopping everything"
    [ "$rc" -ne 0 ] || rc=1
    return "$rc"
}

main() {
    install_traps cleanup
    lock_data_dir
    check_settings
    build_release 9>&- # apt may start daemons: they must not hold the lock
    local program
    for program in bridge persister console; do
        [ -x "$BIN_DIR/$program" ] || die "the build did not produce $BIN_DIR/$program"
    done
    check_settings # again: the build takes a while
    start_databases

    JWT_SECRET=$(jwt_secret)
    export JWT_SECRET BRIDGE_PORT BRIDGE_METRICS_PORT PERSISTER_METRICS_PORT CONSOLE_PORT CONSOLE_METRICS_PORT
    export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    export MARIADB_URL="mariadb://root@127.0.0.1:$MARIADB_PORT/$MARIADB_DATABASE"
    log "REDIS_URL=$REDIS_URL"
    log "MARIADB_URL=$MARIADB_URL"
    log "logs of Redis and MariaDB: $LOG_DIR/"

    start_programs
    log "running; press Ctrl-C to stop"
    wait_for_any_exit
}

main "$@"
