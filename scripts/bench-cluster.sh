#!/usr/bin/env bash
# `make bench-cluster`: Redis Cluster (issue 22), three measurements in one run
# (docs/benchmarks.md, *Redis Cluster*):
#
#  spread  100,000 users' main keys (row, info, token, friends, groups, the username
#          index) written through a 3-primary cluster in the partitioned layout (12
#          partitions, PartitionTags.evenlySpaced), then DBSIZE and used_memory per primary.
#  cpu     Redis CPU per message: lua/message_send_single.lua driven straight at Redis
#          (redis-benchmark, pipelined, as the ceiling of bench-chat) on one plain
#          redis-server with the plain names, then on a 3-primary cluster with the sender
#          and recipient in one partition (one partition per primary, one redis-benchmark
#          per primary); CPU seconds of every redis-server over the messages accepted
#          (XADDs counted by commandstats).
#  scale   messages/s with 1, 2 and 3 primaries, each pinned to a CPU of its own where the
#          machine has one (taskset; with fewer CPUs than primaries they share), driven by
#          three redis-benchmarks whatever the count (each in a partition of its own).
#
#   MESSAGES=100000 USERS=100000 CONNECTIONS=8 DEPTH=16 ROUNDS=3 PHASES="spread cpu scale" make bench-cluster
#
#  SEND_PAIRS=cross: the cpu phase compares, on one 3-primary cluster and in one run,
#          sends BETWEEN two partitions (the three steps of SingleSendSteps: the sender's,
#          the recipient's, the sender's again, each on its partition's primary) with sends
#          WITHIN one partition (one script run). The steps need the previous step's reply,
#          so redis-benchmark cannot drive them: `redis-bench --command send-steps` (the
#          Swift client and the ChatScripts contracts the bridge uses) drives both kinds:
#          3 × CONNECTIONS × DEPTH sends under way (as many as the three redis-benchmarks
#          keep in flight), each one step at a time, pipelined over CONNECTIONS connections
#          per primary; MESSAGES sends of each kind.
#
#   SEND_PAIRS=cross PHASES=cpu MESSAGES=100000 ROUNDS=3 make bench-cluster
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=scripts/redis-cluster.sh
source scripts/redis-cluster.sh

MESSAGES=${MESSAGES:-100000}   # per redis-benchmark (three at once)
USERS=${USERS:-100000}
CONNECTIONS=${CONNECTIONS:-8}  # per redis-benchmark
DEPTH=${DEPTH:-16}             # pipelined sends per connection
ROUNDS=${ROUNDS:-3}            # of cpu and scale; medians
PHASES=${PHASES:-spread cpu scale}
SEND_PAIRS=${SEND_PAIRS:-same}
PARTITIONS=12
for name in MESSAGES USERS CONNECTIONS DEPTH ROUNDS; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done
[[ $SEND_PAIRS =~ ^(same|cross)$ ]] || die "SEND_PAIRS: same or cross, not '$SEND_PAIRS'"

ensure_packages
ensure_python
build_release_products redis-bench

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-cluster.XXXXXX")
REDIS_PID=''
cleanup() {
    hurry_on_signal
    stop_redis_cluster
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup

# The assembled send script (its --@include lines expanded), as the processes load it.
"$BIN/redis-bench" --print-script message_send_single >"$TMP/send.lua"
mapfile -t CPUS < <(allowed_cpus)

# The partitions' tags, the users of each partition and the names of their keys: the
# python half (the spread phase writes through redis-py's cluster client).
cat >"$TMP/layout.py" <<'EOF'
import sys

def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc

def slot(key):
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return crc16(key.encode()) % 16384

def base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while n:
        n, r = divmod(n, 36)
        text = digits[r] + text
    return text or "0"

def tags(count):
    """PartitionTags.evenlySpaced(count:), Sources/RedisClient/Cluster/PartitionTags.swift."""
    result = []
    for k in range(count):
        low, high = k * 16384 // count, (k + 1) * 16384 // count
        attempt = 0
        while True:
            tag = f"p{k}" if attempt == 0 else f"p{k}.{base36(attempt)}"
            if low <= slot(tag) < high:
                result.append(tag)
                break
            attempt += 1
    return result

if __name__ == "__main__":
    print(" ".join(tags(int(sys.argv[1]))))
EOF
read -ra TAGS <<<"$("$TEST_PYTHON" "$TMP/layout.py" "$PARTITIONS")"

# --- the send ---------------------------------------------------------------------------
# send_args SUFFIX SENDER RECIPIENT: EVALSHA's arguments for one single send between two
# users of the partition whose suffix is SUFFIX ('' on the plain layout), as
# SendSingleMessage names them: no token to check (the bridge checked it), no client id,
# the recipient online on the caller's process (the `local` route, as in bench-chat's
# ceiling), a history cap of 1000 and a stream cap of 100,000.
send_args() {
    local s=$1 me=$2 to=$3
    printf '%s\n' "$SEND_SHA" 18 \
        "chat_user_$me$s" "chat:user:$me$s" "chat:user:$to$s" "chat:friends:$to$s" "chat:friends:$me$s" \
        "chat:quota:$me$s" "chatlog:chatlog_${me}_single_$to$s" "chatlog:chatlog_${to}_single_$me$s" \
        "chat:stream:messages$s" "online_$to$s" "chat_getmessage_$to$s" "chat:nodes$s" "chat:sent:$me:$s" \
        "chat:nodes:deliveries$s" "chat:rate:$me$s" "chat:offline:bodies$s" "chat:offline:bytes$s" "chat:blocks:$to$s" \
        "m-__rand_int__" "$me" "$to" text '"bench message __rand_int__"' null '' '' 300 1000 100000 bench 15000 5000 \
        chat:node: 0 1 16777216 ''
}

# setup_pair PORT SUFFIX SENDER RECIPIENT: the two accounts, friends, the recipient online
# on the `bench` process; the send script loaded.
setup_pair() {
    local port=$1 s=$2 me=$3 to=$4 user
    for user in "$me" "$to"; do
        cluster_cli "$port" HSET "chat:user:$user$s" status 1 role user nickname "n$user" username "u$user" avatar '' uuid "uuid-$user" _v 1 >/dev/null
    done
    cluster_cli "$port" HSET "chat:friends:$to$s" "$me" "{\"user_id\":$to,\"friend_id\":$me,\"status\":1,\"isblack\":0}" >/dev/null
    cluster_cli "$port" HSET "chat:friends:$me$s" "$to" "{\"user_id\":$me,\"friend_id\":$to,\"status\":1,\"isblack\":0}" >/dev/null
    cluster_cli "$port" SET "online_$to$s" bench:1 >/dev/null
    cluster_cli "$port" ZADD "chat:nodes$s" 99999999999999 bench >/dev/null
    local sha
    sha=$(cluster_cli "$port" -x SCRIPT LOAD <"$TMP/send.lua")
    [ "$sha" = "$SEND_SHA" ] || die "SCRIPT LOAD on $port: $sha"
}

SEND_SHA=$(sha1sum "$TMP/send.lua" | cut -d' ' -f1)

# drive INDEX PORT SUFFIX SENDER RECIPIENT [CPU]: MESSAGES sends with redis-benchmark
# (pinned to CPU when given), in the background; its -q output goes to drive-INDEX.out.
drive() {
    local index=$1 port=$2 s=$3 me=$4 to=$5 cpu=${6:-}
    local -a pin=() args=()
    [ -n "$cpu" ] && pin=(taskset -c "$cpu")
    mapfile -t args < <(send_args "$s" "$me" "$to")
    "${pin[@]}" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CONNECTIONS" -P "$DEPTH" -n "$MESSAGES" -r 1000000000000 -q \
        EVALSHA "${args[@]}" >"$TMP/drive-$index.out" 2>&1 &
    DRIVERS+=($!)
}

# accepted PORT: XADDs the node ran since CONFIG RESETSTAT (one per accepted send); dies
# when a send was refused or failed.
accepted() {
    local stats failed
    stats=$(cluster_cli "$1" INFO commandstats | tr -d '\r')
    failed=$(sed -n 's/^cmdstat_evalsha:.*failed_calls=\([0-9]*\).*/\1/p' <<<"$stats")
    [ "${failed:-0}" = 0 ] || die "node $1: $failed sends failed: $(cluster_cli "$1" INFO errorstats | tr -d '\r' | tail -n +2)"
    sed -n 's/^cmdstat_xadd:calls=\([0-9]*\),.*/\1/p' <<<"$stats"
}

# rate_of INDEX: messages/s redis-benchmark INDEX reported.
rate_of() { tr '\r' '\n' <"$TMP/drive-$1.out" | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -n 1; }

sum() { awk '{ s += $1 } END { printf "%.2f", s }'; }

# run_load SPEC...: one redis-benchmark per "PORT:SUFFIX:CPU:SENDER:RECIPIENT", together;
# sets LOAD_RATE (their messages/s, summed), LOAD_CPU (CPU seconds of the redis-servers
# over the run) and LOAD_ACCEPTED.
run_load() {
    local spec port s cpu me to index pid
    local -a ports=()
    for spec in "$@"; do
        IFS=: read -r port s cpu me to <<<"$spec"
        setup_pair "$port" "$s" "$me" "$to"
        [[ " ${ports[*]} " == *" $port "* ]] || ports+=("$port")
    done
    for port in "${ports[@]}"; do cluster_cli "$port" CONFIG RESETSTAT >/dev/null; done
    local before after
    before=$(for port in "${ports[@]}"; do cluster_cpu_seconds "$port"; echo; done | sum)
    DRIVERS=()
    index=0
    for spec in "$@"; do
        IFS=: read -r port s cpu me to <<<"$spec"
        drive "$index" "$port" "$s" "$me" "$to" "$cpu"
        index=$((index + 1))
    done
    for pid in "${DRIVERS[@]}"; do wait "$pid" || die "redis-benchmark failed: $(cat "$TMP"/drive-*.out)"; done
    after=$(for port in "${ports[@]}"; do cluster_cpu_seconds "$port"; echo; done | sum)
    LOAD_CPU=$(awk -v a="$before" -v b="$after" 'BEGIN { print b - a }')
    LOAD_RATE=$(for ((index = 0; index < $#; index++)); do rate_of "$index"; done | sum)
    LOAD_ACCEPTED=0
    for port in "${ports[@]}"; do LOAD_ACCEPTED=$((LOAD_ACCEPTED + $(accepted "$port"))); done
    [ "$LOAD_ACCEPTED" -eq $((MESSAGES * $#)) ] || die "accepted $LOAD_ACCEPTED of $((MESSAGES * $#)) sends"
}

# pin_primaries: each primary's redis-server (all its threads) on a CPU of its own, in
# turn over the CPUs allowed; prints the CPU of each primary, in CLUSTER_PORTS order.
pin_primaries() {
    local index=0 pid
    PRIMARY_CPUS=()
    for pid in "${CLUSTER_PIDS[@]}"; do
        local cpu=${CPUS[$((index % ${#CPUS[@]}))]}
        taskset -a -cp "$cpu" "$pid" >/dev/null
        PRIMARY_CPUS+=("$cpu")
        index=$((index + 1))
    done
}

# The partition of primary i of K (0-based): the first of its 12/K partitions.
partition_of_primary() { echo $(($1 * PARTITIONS / $2)); }

# --- spread -----------------------------------------------------------------------------
phase_spread() {
    log "spread: $USERS users' main keys through a 3-primary cluster, $PARTITIONS partitions"
    start_redis_cluster bench-spread 3 0
    local seed=${CLUSTER_PORTS[0]}
    "$TEST_PYTHON" - "$seed" "$USERS" "$PARTITIONS" "$TMP" <<'EOF'
import sys
sys.path.insert(0, sys.argv[4])
from layout import tags, slot
from redis.cluster import RedisCluster

seed, users, partitions = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
cluster = RedisCluster(host="127.0.0.1", port=seed)
names = tags(partitions)
for k, tag in enumerate(names):
    assert cluster.execute_command("CLUSTER KEYSLOT", tag, target_nodes=RedisCluster.RANDOM) == slot(tag)
    assert k * 16384 // partitions <= slot(tag) < (k + 1) * 16384 // partitions
pipe = cluster.pipeline(transaction=False)
for user in range(1, users + 1):
    s = "{" + names[user % partitions] + "}"
    pipe.hset(f"chat:user:{user}{s}", mapping={
        "id": user, "username": f"user{user:06d}", "nickname": f"nick{user}", "status": 1, "role": "user",
        "avatar": "", "uuid": f"{user:032x}", "create_time": "2026-12-07 12:00:00", "_v": 1})
    pipe.hset(f"chat:userinfo:{user}{s}", mapping={"user_id": user, "sex": "unknown", "age": 0, "_v": 1})
    pipe.set(f"chat_user_{user}{s}", "e" * 160)
    pipe.hset(f"chat:friends:{user}{s}", mapping={str(user + 1): '{"status":1,"isblack":0}', "_v": 1})
    pipe.zadd(f"chat:user:{user}:groups{s}", {str(user % 500 + 1): 1})
    # The unique index stays keyed by the name (no partition: looked up before the id is known).
    pipe.set(f"chat:user:name:user{user:06d}", user)
    if user % 5000 == 0:
        pipe.execute()
pipe.execute()
EOF
    local port size memory total=0
    local -a sizes=()
    for port in $(cluster_primary_ports); do
        size=$(cluster_cli "$port" DBSIZE)
        memory=$(cluster_cli "$port" INFO memory | tr -d '\r' | sed -n 's/^used_memory_dataset:\([0-9]*\)/\1/p')
        sizes+=("$size")
        total=$((total + size))
        printf 'spread primary %s: %s keys, dataset %s bytes\n' "$port" "$size" "$memory"
    done
    printf 'spread total %s keys (6 per user); per primary %s; max/mean %s\n' "$total" "${sizes[*]}" \
        "$(printf '%s\n' "${sizes[@]}" | awk -v t="$total" '{ if ($1 > m) m = $1 } END { printf "%.4f", m / (t / NR) }')"
    stop_redis_cluster
}

# --- cpu per message --------------------------------------------------------------------
phase_cpu() {
    local round single_rate single_cpu cluster_rate cluster_cpu
    local -a single_per=() cluster_per=() single_rates=() cluster_rates=()
    for ((round = 1; round <= ROUNDS; round++)); do
        # One plain redis-server, the plain names, one partition; three redis-benchmarks as
        # on the cluster (three pairs), so that the client side is the same.
        local port
        port=$(free_port)
        start_redis "$TMP/single" "$port"
        run_load "$port:::12:24" "$port:::13:25" "$port:::14:26"
        single_rate=$LOAD_RATE single_cpu=$LOAD_CPU
        single_per+=("$(awk -v c="$single_cpu" -v n="$LOAD_ACCEPTED" 'BEGIN { printf "%.2f", c / n * 1e6 }')")
        single_rates+=("$single_rate")
        stop_pid "$REDIS_PID"
        REDIS_PID=
        rm -rf "$TMP/single"

        start_redis_cluster bench-cpu 3 0
        local -a specs=()
        local index k
        for index in 0 1 2; do
            k=$(partition_of_primary "$index" 3)
            specs+=("${CLUSTER_PORTS[$index]}:{${TAGS[$k]}}::$((12 + k)):$((24 + k))")
        done
        run_load "${specs[@]}"
        cluster_rate=$LOAD_RATE cluster_cpu=$LOAD_CPU
        cluster_per+=("$(awk -v c="$cluster_cpu" -v n="$LOAD_ACCEPTED" 'BEGIN { printf "%.2f", c / n * 1e6 }')")
        cluster_rates+=("$cluster_rate")
        stop_redis_cluster
        printf 'cpu round %s: one redis-server %s µs/message (%s msg/s); 3-primary cluster %s µs/message (%s msg/s)\n' \
            "$round" "${single_per[-1]}" "$single_rate" "${cluster_per[-1]}" "$cluster_rate"
    done
    local a b
    a=$(median_of "${single_per[@]}") b=$(median_of "${cluster_per[@]}")
    printf 'cpu median: one redis-server %s µs of Redis CPU per message, 3-primary cluster %s µs (%s ×), sends within one partition\n' \
        "$a" "$b" "$(ratio "$b" "$a")"
}

# --- cpu per message, within against between partitions (SEND_PAIRS=cross) ---------------
# xadds PORT: XADDs the node ran since CONFIG RESETSTAT (one per accepted send, on the
# partition that accepted it: the recipient's between partitions).
xadds() { cluster_cli "$1" INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_xadd:calls=\([0-9]*\),.*/\1/p'; }

# steps_load PAIRS: MESSAGES sends of redis-bench send-steps for PAIRS ("s:r,…") on the
# running cluster; sets LOAD_RATE, LOAD_CPU (CPU seconds of the primaries) and LOAD_ACCEPTED.
steps_load() {
    local pairs=$1 port output before after
    local -a ports
    mapfile -t ports < <(cluster_primary_ports)
    local url="redis-cluster://$(printf '127.0.0.1:%s,' "${ports[@]}")"
    # The accounts first (a run of 3 sends writes them), then the stats from zero.
    "$BIN/redis-bench" --url "${url%,}" --command send-steps --send-pairs "$pairs" --partitions "$PARTITIONS" \
        --requests 3 --connections 1 >/dev/null
    for port in "${ports[@]}"; do cluster_cli "$port" CONFIG RESETSTAT >/dev/null; done
    before=$(for port in "${ports[@]}"; do cluster_cpu_seconds "$port"; echo; done | sum)
    output=$("$BIN/redis-bench" --url "${url%,}" --command send-steps --send-pairs "$pairs" --partitions "$PARTITIONS" \
        --requests "$MESSAGES" --connections "$CONNECTIONS" --depth $((3 * DEPTH)))
    after=$(for port in "${ports[@]}"; do cluster_cpu_seconds "$port"; echo; done | sum)
    [[ $output == *"accepted=$MESSAGES refused=0"* ]] || die "send-steps $pairs: $output"
    LOAD_RATE=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$output")
    LOAD_CPU=$(awk -v a="$before" -v b="$after" 'BEGIN { print b - a }')
    LOAD_ACCEPTED=0
    for port in "${ports[@]}"; do LOAD_ACCEPTED=$((LOAD_ACCEPTED + $(xadds "$port"))); done
    [ "$LOAD_ACCEPTED" -eq "$MESSAGES" ] || die "send-steps $pairs: $LOAD_ACCEPTED XADDs for $MESSAGES sends"
}

phase_cpu_cross() {
    local round index k next within="" between=""
    local -a within_per=() between_per=() within_rates=() between_rates=()
    # Pair i within partition k_i of primary i; between: sender in k_i, recipient in the
    # next primary's k_(i+1) (each primary runs one pair's steps A and C and another's B).
    for index in 0 1 2; do
        k=$(partition_of_primary "$index" 3)
        next=$(partition_of_primary $(((index + 1) % 3)) 3)
        within+="$((12 + k)):$((24 + k)),"
        between+="$((36 + k)):$((48 + next)),"
    done
    for ((round = 1; round <= ROUNDS; round++)); do
        start_redis_cluster bench-cross 3 0
        steps_load "${within%,}"
        within_per+=("$(awk -v c="$LOAD_CPU" -v n="$LOAD_ACCEPTED" 'BEGIN { printf "%.2f", c / n * 1e6 }')")
        within_rates+=("$LOAD_RATE")
        steps_load "${between%,}"
        between_per+=("$(awk -v c="$LOAD_CPU" -v n="$LOAD_ACCEPTED" 'BEGIN { printf "%.2f", c / n * 1e6 }')")
        between_rates+=("$LOAD_RATE")
        stop_redis_cluster
        printf 'cross round %s: within one partition %s µs/message (%s msg/s); between partitions %s µs/message (%s msg/s)\n' \
            "$round" "${within_per[-1]}" "${within_rates[-1]}" "${between_per[-1]}" "${between_rates[-1]}"
    done
    local a b
    a=$(median_of "${within_per[@]}") b=$(median_of "${between_per[@]}")
    printf 'cross median: within one partition %s µs of Redis CPU per message (%s msg/s), between partitions %s µs (%s ×, %s msg/s), 3-primary cluster, redis-bench send-steps\n' \
        "$a" "$(median_of "${within_rates[@]}")" "$b" "$(ratio "$b" "$a")" "$(median_of "${between_rates[@]}")"
}

# --- scale ------------------------------------------------------------------------------
phase_scale() {
    local primaries round
    declare -A rates=()
    for ((round = 1; round <= ROUNDS; round++)); do
        for primaries in 1 2 3; do
            start_redis_cluster "bench-scale-$primaries" "$primaries" 0
            pin_primaries
            # Three redis-benchmarks whatever the primaries (the same client side): driver
            # i sends in a partition of primary i mod K, a partition of its own.
            local -a specs=()
            local index k primary
            for index in 0 1 2; do
                primary=$((index % primaries))
                k=$(($(partition_of_primary "$primary" "$primaries") + index / primaries))
                specs+=("${CLUSTER_PORTS[$primary]}:{${TAGS[$k]}}::$((12 + k)):$((24 + k))")
            done
            run_load "${specs[@]}"
            rates[$primaries]+="$LOAD_RATE "
            printf 'scale round %s: %s primaries (CPUs %s): %s msg/s, Redis %.2f cores\n' "$round" "$primaries" \
                "${PRIMARY_CPUS[*]}" "$LOAD_RATE" "$(awk -v c="$LOAD_CPU" -v n="$LOAD_ACCEPTED" -v r="$LOAD_RATE" 'BEGIN { print c / (n / r) }')"
            stop_redis_cluster
        done
    done
    local one
    # shellcheck disable=SC2086 # the rates, split
    one=$(median_of ${rates[1]})
    for primaries in 1 2 3; do
        # shellcheck disable=SC2086
        local median
        median=$(median_of ${rates[$primaries]})
        printf 'scale median: %s primaries %s msg/s (%s × one primary) on %s CPUs\n' "$primaries" "$median" "$(ratio "$median" "$one")" "${#CPUS[@]}"
    done
}

for phase in $PHASES; do
    case $phase in
        spread) phase_spread ;;
        cpu) if [ "$SEND_PAIRS" = cross ]; then phase_cpu_cross; else phase_cpu; fi ;;
        scale) phase_scale ;;
        *) die "PHASES: spread, cpu or scale, not '$phase'" ;;
    esac
done
