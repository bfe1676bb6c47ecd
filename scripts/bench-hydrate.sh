#!/usr/bin/env bash
# `make bench-hydrate`: `persister hydrate` and `persister verify` of an imported eggjs-sized
# database (docs/benchmarks.md, *Hydrate and verify*).
#
# USERS users (legacy SHA-256 passwords, a user_info row each), FRIENDS friendship rows
# each (both directions: FRIENDS/2 neighbours on either side), every user a member of two
# groups of about GROUP_SIZE; generated inside MariaDB (its SEQUENCE engine), migrated,
# then hydrated into an empty Redis and verified (VERIFY_SAMPLE rows per entity), each
# under /usr/bin/time -v. Printed: rows, seconds, rows/s, peak resident memory of the
# persister, Redis' memory after hydrate, and each time against a baseline measured in the
# same run (the mariadb client reading the same rows).
#
#   USERS=100000 FRIENDS=10 GROUP_SIZE=100 VERIFY_SAMPLE=1000 make bench-hydrate
#   BIN=.build/debug make bench-hydrate    (an existing build instead of a release build)
#   KEEP_TMP=1 keeps the folder with the logs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

USERS=${USERS:-100000}
FRIENDS=${FRIENDS:-10}
GROUP_SIZE=${GROUP_SIZE:-100}
VERIFY_SAMPLE=${VERIFY_SAMPLE:-1000}
for name in USERS FRIENDS GROUP_SIZE VERIFY_SAMPLE; do
    [[ ${!name} =~ ^[0-9]+$ ]] || die "$name must be a non-negative integer, not '${!name}'"
done
[ $((FRIENDS % 2)) = 0 ] || die "FRIENDS must be even (neighbours on either side)"
[ "$USERS" -gt "$FRIENDS" ] && [ "$USERS" -ge "$GROUP_SIZE" ] && [ "$GROUP_SIZE" -gt 0 ] ||
    die "USERS must exceed FRIENDS and GROUP_SIZE"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (package time)"

if [ -z "${BIN:-}" ]; then
    ensure_packages
    ensure_swift
    log "swift build -c release --product persister"
    swift build -c release --product persister >&2
    BIN=$(swift build -c release --show-bin-path)
fi
[ -x "$BIN/persister" ] || die "$BIN/persister is not built"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-hydrate.XXXXXX")
REDIS_PID='' MARIADB_PID=''
cleanup() {
    hurry_on_signal
    [ -n "$MARIADB_PID" ] && stop_pid "$MARIADB_PID"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    cleanup_mariadb_socket
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup

read -r REDIS_PORT MARIADB_PORT <<<"$(free_ports 2)"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export MARIADB_URL="mariadb://root@127.0.0.1:$MARIADB_PORT/chat"
start_redis "$TMP/redis" "$REDIS_PORT"
start_mariadb "$TMP/mariadb" "$MARIADB_PORT" --innodb-buffer-pool-size=1G
sql() { mariadb_sql "$MARIADB_PORT" "$1"; }

LOG_LEVEL=warning "$BIN/persister" migrate >/dev/null
GROUP_COUNT=$(((USERS + GROUP_SIZE - 1) / GROUP_SIZE))
HALF=$((FRIENDS / 2))
log "generating $USERS users, $((USERS * FRIENDS)) friend rows, $GROUP_COUNT groups with two memberships per user"
T='2021-05-06 07:08:09'
sql "
USE chat;
INSERT INTO user (id, uuid, username, password, nickname, avatar, role, create_time, update_time)
  SELECT seq, CONCAT('00000000-0000-4000-8000-', LPAD(seq, 12, '0')), CONCAT('user', seq), SHA2(CONCAT('pw', seq), 256),
         CONCAT('昵称', seq), CONCAT('https://example.com/a/', seq, '.png'), IF(seq % 1000 = 0, 'admin', 'user'), '$T', '$T'
  FROM seq_1_to_$USERS;
INSERT INTO user_info (id, user_id, gender, bio, create_time, update_time)
  SELECT seq, seq, 'unknown', '', '$T', '$T' FROM seq_1_to_$USERS;
INSERT INTO goodfriend (user_id, friend_id, nickname, create_time, update_time)
  SELECT u.seq, (u.seq - 1 + k.k) % $USERS + 1, '', '$T', '$T'
  FROM seq_1_to_$USERS u JOIN (SELECT seq AS k FROM seq_1_to_$HALF UNION ALL SELECT $USERS - seq FROM seq_1_to_$HALF) k
  ORDER BY u.seq;
INSERT INTO \`group\` (id, uuid, user_id, name, avatar, create_time, update_time)
  SELECT seq, CONCAT('group-', seq), (seq - 1) * $GROUP_SIZE % $USERS + 1, CONCAT('群', seq), '', '$T', '$T' FROM seq_1_to_$GROUP_COUNT;
INSERT IGNORE INTO group_user (group_id, user_id, nickname, create_time, update_time)
  SELECT (seq - 1) DIV $GROUP_SIZE + 1, seq, '', '$T', '$T' FROM seq_1_to_$USERS
  UNION ALL SELECT (seq - 1) % $GROUP_COUNT + 1, seq, '', '$T', '$T' FROM seq_1_to_$USERS;
"
ROWS=$(sql "SELECT (SELECT COUNT(*) FROM chat.user) + (SELECT COUNT(*) FROM chat.user_info) + (SELECT COUNT(*) FROM chat.goodfriend)
  + (SELECT COUNT(*) FROM chat.\`group\`) + (SELECT COUNT(*) FROM chat.group_user)")
log "$ROWS rows"

# timed NAME ARGS...: the persister under /usr/bin/time -v; sets SECONDS_TAKEN, PEAK_KB, OUT.
timed() {
    local name=$1
    shift
    local rc=0
    LOG_LEVEL=warning /usr/bin/time -v -o "$TMP/$name.time" "$BIN/persister" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
    OUT=$(cat "$TMP/$name.out")
    [ "$rc" = 0 ] || { cat "$TMP/$name.err" "$TMP/$name.out" >&2; die "persister $* exited with $rc"; }
    PEAK_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/$name.time")
    SECONDS_TAKEN=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/$name.time")
}

# The baseline, in the same run: the mariadb client reading every row hydrate reads
# (`--quick`, rows streamed, to /dev/null): the floor of MariaDB's side of the work.
log "baseline: mariadb --quick reads the same tables"
BASELINE_START=$(date +%s.%N)
for table in user user_info goodfriend '`group`' group_user; do
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$MARIADB_PORT" -uroot --quick --batch --skip-column-names \
        -e "SELECT * FROM chat.$table" >/dev/null
done
BASELINE_SECONDS=$(awk -v a="$BASELINE_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

log "persister hydrate"
timed hydrate hydrate
HYDRATE_SECONDS=$SECONDS_TAKEN HYDRATE_PEAK=$PEAK_KB HYDRATE_OUT=$OUT
REDIS_MEMORY=$(redis-cli -p "$REDIS_PORT" INFO memory | awk -F: '/^used_memory_human/ { print $2 }' | tr -d '\r')
log "persister verify --sample $VERIFY_SAMPLE"
timed verify verify --sample "$VERIFY_SAMPLE"
VERIFY_SECONDS=$SECONDS_TAKEN VERIFY_PEAK=$PEAK_KB VERIFY_OUT=$OUT
grep -q '^verify: Redis matches MariaDB' <<<"$VERIFY_OUT" || { echo "$VERIFY_OUT" >&2; die "verify found differences"; }

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
printf '\nhydrate and verify: %s cores, %s, redis-server %s, persister from %s\n' "$(nproc)" \
    "$(mariadb --version | sed 's/.*Distrib \([^,]*\),.*/\1/')" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" "$BIN"
printf '%s users, %s friend rows each, groups of %s (two per user); %s rows\n' "$USERS" "$FRIENDS" "$GROUP_SIZE" "$ROWS"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f×", (b > 0 ? a / b : 0) }'; }
printf '%-26s %9s %10s %14s %12s\n' command seconds rows/s 'peak RSS MiB' 'vs baseline'
printf '%-26s %9s %10s %14s %12s\n' "baseline: mariadb --quick" "$BASELINE_SECONDS" "$(rate "$ROWS" "$BASELINE_SECONDS")" - 1.0×
printf '%-26s %9s %10s %14s %12s\n' hydrate "$HYDRATE_SECONDS" "$(rate "$ROWS" "$HYDRATE_SECONDS")" "$((HYDRATE_PEAK / 1024))" "$(ratio "$HYDRATE_SECONDS" "$BASELINE_SECONDS")"
printf '%-26s %9s %10s %14s %12s\n' "verify --sample $VERIFY_SAMPLE" "$VERIFY_SECONDS" "$(rate "$ROWS" "$VERIFY_SECONDS")" "$((VERIFY_PEAK / 1024))" "$(ratio "$VERIFY_SECONDS" "$BASELINE_SECONDS")"
printf 'Redis used_memory after hydrate: %s\n' "$REDIS_MEMORY"
printf 'hydrate: %s\n' "$(tail -n 1 <<<"$HYDRATE_OUT")"
printf '%s\n' "$(tail -n 1 <<<"$VERIFY_OUT")"
