#!/usr/bin/env bash
# `make test`: starts a throwaway Redis and MariaDB on free loopback ports in a
# temporary folder, runs `swift test` against them, stops them and removes the
# folder whatever happens (success, failure, Ctrl-C, SIGTERM). Exits with
# swift test's status, or non-zero when anything else fails.
#
#   scripts/test.sh [SWIFT_TEST_ARG...]     e.g. make test ARGS="--filter RedisClientTests"
#
# Environment: KEEP_TMP=1 keeps the temporary folder (server logs) for a look;
# SKIP_RELEASE_BUILD=1 skips the release build that a run without arguments starts with;
# START_TIMEOUT / STOP_TIMEOUT (seconds) tune the waits; TEST_PARALLELISM (default 8)
# bounds the tests that run at once. With arguments, TEST_LAYOUT picks
# the Redis they run against: plain (default: one Redis, the names of the plain layout),
# partitioned (one Redis, REDIS_PARTITIONS=4) or cluster (a Redis Cluster, 12 partitions).
# Tests receive REDIS_URL, MARIADB_URL (database chat_test, created empty),
# REDIS_SERVER_BIN (for tests that start redis-server processes of their own),
# TEST_PYTHON (a python3 with the packages below) and, for the console's browser tests,
# BROWSER_PYTHON (the same python3), CHROMIUM_BIN and CHROMEDRIVER_BIN.
# After swift test, every entry of the public streams the tests left (the shared Redis,
# and each test's own Redis as it stopped: Tests/TestSupport/StreamCollection.swift) is
# validated against schemas/streams/; a violation fails the run (docs/testing.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=scripts/redis-cluster.sh
source scripts/redis-cluster.sh

# Throwaway data: trade durability for speed.
MARIADB_TEST_ARGS=(
    --innodb-flush-log-at-trx-commit=2 # no fsync at every commit
    --innodb-doublewrite=0             # no double write of pages
    --skip-log-bin                     # no binary log (and so no sync of it)
    --innodb-log-file-size=16M         # small redo log: quicker bootstrap, less disk
    --max-connections=500              # tests open many pools
)

# Suites asserting wall-clock bounds (see main).
TIMING_SUITES='RedisClientTests\.FailureTests|BridgeTests\.HealthAndMetricsTests|BridgeTests\.VideoScreenshotTests'
# The browser suite: each test a whole system (Chromium, two bridges, a persister, the
# console) that takes both cores while it runs (see main).
BROWSER_SUITES='ConsoleTests\.'
# The suites that start Redis Clusters of their own (six redis-server processes each,
# replication and failovers timed in seconds), and the layout suites that take the
# machine beside them: two persisters draining 20,000 entries over four partitions, and
# a dozen bridges started one after another. Beside everything else they pushed other
# suites' bridge start-ups past their one-minute bounds (see main).
OWN_CLUSTER_SUITES='RedisClientTests\.ClusterClientTests|RedisClientTests\.PartitionTagsTests|BridgeTests\.(ClusterFailoverTests|ClusterSystemFailoverTests|AccountClusterTests|SingleSendStepTests|FriendStepTests|KeyLayoutCheckTests)|PersisterTests\.(ClusterDrainTests|ShardedDrainTests)'
# The suites that use the shared Redis and also run on the partitioned layout: first on
# one Redis with REDIS_PARTITIONS=4 (user ids 1…4 fall into four partitions: every
# cross-partition step runs, without a cluster), then on a Redis Cluster (three
# primaries, one replica each) with its 12 partitions, where the client refuses any
# command or script run whose keys are in two slots (docs/testing.md, *Partitions and
# the cluster*). Every suite that uses the shared Redis is on both lists; not on them:
# the suites without Redis, those run alone above, OperatorStepTests (a partitioned
# Redis of its own in the main phase), and on the cluster PipeliningTests (200,000
# commands against one connection: a stress test of the connection, which beside every
# other suite on one cluster stalled the machine), run on the same cluster after them,
# alone (CLUSTER_ALONE_SUITES).
PARTITIONED_SUITES='ModelTests\.|ChatScriptsTests\.|ConsoleRouteTests\.|BridgeTests\.(KeyLayoutCheckTests|AccountTests|UserTests|VisitorTests|TokenVerificationTests|ChatAuthenticationTests|RevocationTests|AccountStepsTests|DeliveryTests|ChatDeliveryTests|GatewayTests|NodeStreamTests|FriendTests|AskAnswerTests|AutoReplyTests|BackPressureTests|BackgroundWorkTests|SecretStreamTests|SecurityTests|RequestConventionsTests|FileTests|GuidanceTemplateTests|BridgeExecutableTests|APIDocumentationTests|EventLoopCountTests|FailureMiddlewareTests|ComplaintTests|OperatorScriptTests|RateLimitTests|BlockTests|RedisSafetyTests|GroupChangeStepTests|AvatarNoticeTests|DashboardStatisticsTests|GroupDeliveryTests|GroupSendStepTests|GroupTests|HistoryIndexTests|MessageTests|OfflineQueueTests|OperatorEffectsTests|QuotaTests|SpoofingTests|StreamContractTests|QRCodeTests|SetPasswordTests)|PersisterTests\.(DrainTests|MessageRowsTests|ConsolePersistenceTests|BatchWriterTests|MigrationTests|PersisterOptionsTests|HydrateTests|CutoverTests|RedisACLTests|StoredLimitsTests)|RedisClientTests\.(ScriptTests|ReplyParsingTests|ConfigurationTests|BackoffTests|ClusterRoutingTests|EventLoopTaskExecutorTests|ReplicaAcknowledgementTests|PipeliningTests|PubSubTests)'
CLUSTER_SUITES='ModelTests\.|ChatScriptsTests\.|ConsoleRouteTests\.|BridgeTests\.(KeyLayoutCheckTests|AccountTests|UserTests|VisitorTests|TokenVerificationTests|ChatAuthenticationTests|RevocationTests|AccountStepsTests|DeliveryTests|ChatDeliveryTests|GatewayTests|NodeStreamTests|FriendTests|AskAnswerTests|AutoReplyTests|BackPressureTests|BackgroundWorkTests|SecretStreamTests|SecurityTests|RequestConventionsTests|FileTests|GuidanceTemplateTests|BridgeExecutableTests|APIDocumentationTests|EventLoopCountTests|FailureMiddlewareTests|ComplaintTests|OperatorScriptTests|GroupChangeStepTests|AvatarNoticeTests|BlockTests|RateLimitTests|RedisSafetyTests|DashboardStatisticsTests|GroupDeliveryTests|GroupSendStepTests|GroupTests|HistoryIndexTests|MessageTests|OfflineQueueTests|OperatorEffectsTests|QuotaTests|SpoofingTests|StreamContractTests|QRCodeTests|SetPasswordTests)|PersisterTests\.(DrainTests|MessageRowsTests|ConsolePersistenceTests|BatchWriterTests|MigrationTests|PersisterOptionsTests|HydrateTests|CutoverTests|RedisACLTests|StoredLimitsTests)|RedisClientTests\.(ScriptTests|ReplyParsingTests|ConfigurationTests|BackoffTests|ClusterRoutingTests|EventLoopTaskExecutorTests|ReplicaAcknowledgementTests|PubSubTests)'
CLUSTER_ALONE_SUITES='RedisClientTests\.PipeliningTests'
# REDIS_PARTITIONS of the partitioned phase.
PARTITIONED_COUNT=4
TMP_DIR=
REDIS_PID=
PARTITIONED_REDIS_PID=
MARIADB_PID=
TEST_PID=
TEST_MARKER= # CHAT_TEST_RUN=<temp dir>: in the environment of everything swift test starts
PHASE_RESULTS=() # "<status> <phase>" for each swift test run, for the summary
# phase_log [N]: the output of phase N (default: the one starting now).
phase_log() { printf '%s/phase-%s.log' "$TMP_DIR" "${1:-${#PHASE_RESULTS[@]}}"; }

cleanup() {
    local rc=$?
    set +e
    hurry_on_signal
    if [ -n "$TEST_PID" ]; then
        log "stopping swift test (pid $TEST_PID)"
        stop_tree "$TEST_MARKER" "$TEST_PID"
    elif [ -n "$TEST_MARKER" ]; then
        stop_tree "$TEST_MARKER" # what the tests left behind
    fi
    [ -n "$MARIADB_PID" ] && stop_pid "$MARIADB_PID"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    [ -n "$PARTITIONED_REDIS_PID" ] && stop_pid "$PARTITIONED_REDIS_PID"
    stop_redis_cluster
    cleanup_mariadb_socket
    if [ -n "$TMP_DIR" ]; then
        if [ "$rc" -ne 0 ] && [ "${CI:-}" = true ]; then
            print_log_tail "$TMP_DIR/redis/redis.log"
            print_log_tail "$TMP_DIR/mariadb/mariadb.log"
        fi
        print_summary
        if [ "${KEEP_TMP:-0}" = 1 ]; then
            log "kept $TMP_DIR"
        else
            rm -rf -- "$TMP_DIR"
        fi
    fi
    exit "$rc"
}

# A port found free may be taken before the server binds it (another run):
# start_* then fail fast, and we try again with a new port.
start_test_redis() {
    local dir=${1:-$TMP_DIR/redis} attempt port
    for attempt in 1 2 3; do
        port=$(free_port)
        if start_redis "$dir" "$port"; then
            TEST_REDIS_PORT=$port
            return 0
        fi
        warn "Redis did not start (attempt $attempt of 3)"
    done
    die "could not start a throwaway Redis"
}

start_test_mariadb() {
    local attempt port
    for attempt in 1 2 3; do
        port=$(free_port)
        rm -rf -- "$TMP_DIR/mariadb"
        if start_mariadb "$TMP_DIR/mariadb" "$port" "${MARIADB_TEST_ARGS[@]}"; then
            TEST_MARIADB_PORT=$port
            return 0
        fi
        warn "MariaDB did not start (attempt $attempt of 3)"
    done
    die "could not start a throwaway MariaDB"
}

# The stream contract (docs/streams.md): every entry of the shared Redis's public streams
# (read in pages) and of those the tests collected from their own servers is validated
# against schemas/streams/. Fails on any violation, printing the entry and the reason.
check_streams() {
    mkdir -p "$TMP_DIR/streams"
    log "validating the public streams' entries against schemas/streams/"
    local rc=0
    "$TEST_PYTHON" schemas/streams/validate.py --redis "$REDIS_URL" "$TMP_DIR/streams" \
        > >(tee "$(phase_log)") 2>&1 || rc=$?
    PHASE_RESULTS+=("$rc the stream contract")
    return "$rc"
}

# The console's browser tests (Tests/ConsoleTests) drive a headless Chromium through
# Selenium: Debian's chromium and chromium-driver (a CJK font for readable screenshots),
# selenium from TEST_PYTHON. Fails, never skips, when the browser cannot start.
ensure_browser() {
    ensure_debian_packages chromium chromium-driver fonts-wqy-zenhei
    CHROMIUM_BIN=$(command -v chromium) || die "chromium is not on PATH after apt-get install chromium"
    CHROMEDRIVER_BIN=$(command -v chromedriver) || die "chromedriver is not on PATH after apt-get install chromium-driver"
    BROWSER_PYTHON=$TEST_PYTHON
    export BROWSER_PYTHON CHROMIUM_BIN CHROMEDRIVER_BIN
    # Start it once: a browser that cannot start fails the run here, with its reason.
    "$BROWSER_PYTHON" Tests/ConsoleTests/Browser/console_browser.py smoke >/dev/null ||
        die "headless Chromium did not start through Selenium ($CHROMIUM_BIN, $CHROMEDRIVER_BIN, $BROWSER_PYTHON)"
}

# run_swift_test PHASE ARG...: swift test in a session of its own, so only our trap
# signals it (and its whole process tree); `wait` keeps the script responsive to
# signals. Its output also goes to the phase's log, for the summary.
run_swift_test() {
    local phase=$1
    shift
    log "swift test $* ($phase)"
    TEST_MARKER="CHAT_TEST_RUN=$TMP_DIR"
    env "$TEST_MARKER" "${PHASE_ENV[@]}" setsid swift test "$@" > >(tee "$(phase_log)") 2>&1 &
    TEST_PID=$!
    local rc=0
    wait "$TEST_PID" || rc=$?
    TEST_PID=
    PHASE_RESULTS+=("$rc $phase")
    return "$rc"
}

# The last thing a run prints (CI shows the end of the output): each phase's status and,
# for a failed one, its failing tests and crashes.
print_summary() {
    [ "${#PHASE_RESULTS[@]}" -gt 0 ] || return 0
    local i status phase failures
    printf -- '--- summary of swift test ---\n' >&2
    for i in "${!PHASE_RESULTS[@]}"; do
        status=${PHASE_RESULTS[$i]%% *} phase=${PHASE_RESULTS[$i]#* }
        if [ "$status" = 0 ]; then
            printf 'passed: %s\n' "$phase" >&2
            continue
        fi
        printf 'FAILED (exit %s): %s\n' "$status" "$phase" >&2
        # Its failures; failing that (a crash of another kind), the end of its output.
        # (Anchored: the processes' own log lines carry "error: " inside, by the hundred.)
        failures=$(grep -E '^✘ Test|Fatal error|unexpected signal|^error: |\.swift:[0-9]+:[0-9]+: error: |^INVALID |^  reason: |^NOT COLLECTED' \
            "$(phase_log "$i")" 2>/dev/null | cut -c1-400 | head -n 40) || true
        [ -n "$failures" ] || failures=$(tail -n 15 "$(phase_log "$i")" 2>/dev/null | cut -c1-400) || true
        printf '%s\n' "$failures" >&2
    done
    printf -- '---\n' >&2
}

# The environment of a phase's swift test (on top of the exported one): the partitioned
# phase's own Redis and REDIS_PARTITIONS, the cluster phase's URL and partitions.
PHASE_ENV=()

# partitioned: a Redis of its own (chat:meta records each Redis' layout, and the shared
# one's is plain), REDIS_PARTITIONS=$PARTITIONED_COUNT. Started once.
enter_partitioned_phase() {
    if [ -z "$PARTITIONED_REDIS_PID" ]; then
        start_test_redis "$TMP_DIR/redis-partitioned"
        PARTITIONED_REDIS_PID=$REDIS_PID PARTITIONED_REDIS_PORT=$TEST_REDIS_PORT
        REDIS_PID=$SHARED_REDIS_PID
    fi
    PHASE_ENV=(REDIS_URL="redis://127.0.0.1:$PARTITIONED_REDIS_PORT/0" REDIS_PARTITIONS="$PARTITIONED_COUNT")
    log "REDIS_URL=${PHASE_ENV[0]#REDIS_URL=} REDIS_PARTITIONS=$PARTITIONED_COUNT"
}

# cluster: three primaries with a replica each (redis-cli --cluster create), and
# REDIS_PARTITIONS=12 said out loud, so that a test's own single Redis and the processes
# it starts use the layout the test's key names (testKeys) use. Started once.
enter_cluster_phase() {
    [ "${#CLUSTER_PIDS[@]}" -gt 0 ] || start_redis_cluster test 3 1
    PHASE_ENV=(REDIS_URL="$CLUSTER_URL" REDIS_PARTITIONS=12)
    log "REDIS_URL=$CLUSTER_URL REDIS_PARTITIONS=12"
}

leave_phase() { PHASE_ENV=(); }

main() {
    install_traps cleanup
    ensure_packages
    ensure_python
    ensure_browser
    ensure_swift
    # `make run` builds release, and the compiler has crashed on release builds only
    # (docs/architecture.md, *Modules*): build it here too, so CI catches that.
    # SKIP_RELEASE_BUILD=1 skips it (a quick local run).
    if [ "${SKIP_RELEASE_BUILD:-0}" != 1 ] && [ "$#" -eq 0 ]; then
        log "swift build -c release (what make run builds)"
        swift build -c release
    fi
    TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/chat-test.XXXXXX")
    start_test_redis
    SHARED_REDIS_PID=$REDIS_PID
    start_test_mariadb
    mariadb_sql "$TEST_MARIADB_PORT" \
        'CREATE DATABASE chat_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci'

    export REDIS_URL="redis://127.0.0.1:$TEST_REDIS_PORT/0"
    # At most this many tests at once: Swift Testing otherwise starts every test of every
    # suite, with their processes, at once (docs/testing.md, *Conventions*).
    export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${TEST_PARALLELISM:-8}"
    export MARIADB_URL="mariadb://root@127.0.0.1:$TEST_MARIADB_PORT/chat_test"
    REDIS_SERVER_BIN=$(command -v redis-server)
    export REDIS_SERVER_BIN
    log "REDIS_URL=$REDIS_URL"
    log "MARIADB_URL=$MARIADB_URL"
    local rc=0
    if [ "$#" -gt 0 ]; then
        case "${TEST_LAYOUT:-plain}" in
            plain) ;;
            partitioned) enter_partitioned_phase ;;
            cluster) enter_cluster_phase ;;
            *) die "TEST_LAYOUT is plain, partitioned or cluster, not '$TEST_LAYOUT'" ;;
        esac
        run_swift_test "${TEST_LAYOUT:-plain} layout" "$@" || rc=$?
        check_streams || rc=1
        return "$rc"
    fi
    # The suites that assert wall-clock bounds (timeouts fire within their budget) run
    # first, alone: beside every other suite, whose real processes load both cores, a
    # 300 ms timeout was seen answering in 2-7 s. Then the browser suite alone (beside
    # everything else it starved bridges past their 10 s start and a 100,000-command
    # pipeline past its minute), then the suites with clusters of their own alone (their
    # failovers are bounded below the command timeout), then everything else; then the
    # partitioned suites on one Redis with REDIS_PARTITIONS=4, then on a Redis Cluster.
    # The exit status is the worst.
    run_swift_test "the wall-clock suites, alone" --filter "$TIMING_SUITES" || rc=$?
    run_swift_test "the browser suite, alone" --filter "$BROWSER_SUITES" || rc=$?
    run_swift_test "Redis Clusters of their own and the other layout suites, alone" --filter "$OWN_CLUSTER_SUITES" || rc=$?
    run_swift_test "everything else" --skip "$TIMING_SUITES|$BROWSER_SUITES|$OWN_CLUSTER_SUITES" || rc=$?
    # The stream contract is checked on the plain layout's single stream of each kind.
    check_streams || rc=1
    enter_partitioned_phase
    run_swift_test "one Redis, REDIS_PARTITIONS=$PARTITIONED_COUNT" --filter "$PARTITIONED_SUITES" || rc=$?
    enter_cluster_phase
    run_swift_test "a Redis Cluster: three primaries, one replica each" --filter "$CLUSTER_SUITES" || rc=$?
    run_swift_test "PipeliningTests on the same cluster, alone" --filter "$CLUSTER_ALONE_SUITES" || rc=$?
    leave_phase
    return "$rc"
}

main "$@"
