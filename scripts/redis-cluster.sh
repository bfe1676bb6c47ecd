# A Redis Cluster on loopback for `make test` and `make bench-cluster`, started the way
# Tests/TestSupport/RedisClusterProcess.swift starts one: each node a redis-server with
# `--cluster-enabled yes`, a low node timeout, replicas that take over however long they
# were cut off and sync at once; node folders in /dev/shm (nodes.conf is fsynced at every
# change of the cluster's state). Sourced after scripts/lib.sh.
#
#   start_redis_cluster DIR PRIMARIES REPLICAS_EACH [REDIS_ARG...]
#       Sets CLUSTER_PORTS (primaries first), CLUSTER_PIDS, CLUSTER_URL
#       (redis-cluster://127.0.0.1:p1,…) and CLUSTER_DIR. Three primaries or more are
#       joined by `redis-cli --cluster create` (what the issue and the tests use); one or
#       two, which `--cluster create` refuses, by hand: each primary takes an even share of
#       the 16384 slots (CLUSTER ADDSLOTSRANGE), then CLUSTER MEET and CLUSTER REPLICATE.
#   stop_redis_cluster
#       Stops every node and removes CLUSTER_DIR.
#   cluster_primary_ports
#       The ports of the primaries as the cluster sees them now, one per line.
#   cluster_cpu_seconds PORT
#       used_cpu_sys + used_cpu_user of the node on PORT (INFO cpu).

CLUSTER_PORTS=()
CLUSTER_PIDS=()
CLUSTER_URL=
CLUSTER_DIR=

# A port whose cluster bus (port + 10000) is free too, both below the kernel's ephemeral
# range (a port from it may be taken by an outgoing connection before the node binds).
cluster_port_pair() {
    local low port
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    while :; do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 20000)))
        [[ " ${CLUSTER_PORTS[*]} " == *" $port "* ]] && continue
        port_is_free "$port" && port_is_free "$((port + 10000))" && break
    done
    echo "$port"
}

cluster_cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

start_redis_cluster() {
    local dir=$1 primaries=$2 replicas=$3
    shift 3
    local parent=/dev/shm
    [ -w "$parent" ] || parent=${TMPDIR:-/tmp}
    CLUSTER_DIR=$(mktemp -d "$parent/chat-cluster-${dir//\//_}.XXXXXX")
    CLUSTER_PORTS=()
    CLUSTER_PIDS=()
    local total=$((primaries * (1 + replicas))) attempt port
    # start_redis sets REDIS_PID: the node's, not the caller's (make test stops its shared
    # Redis by it).
    local REDIS_PID
    while [ "${#CLUSTER_PORTS[@]}" -lt "$total" ]; do
        for attempt in 1 2 3; do
            port=$(cluster_port_pair)
            if LOG_DIR="$CLUSTER_DIR/$port" start_redis "$CLUSTER_DIR/$port" "$port" \
                --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
                --cluster-replica-validity-factor 0 --repl-diskless-sync-delay 0 "$@"; then
                CLUSTER_PORTS+=("$port")
                CLUSTER_PIDS+=("$REDIS_PID")
                break
            fi
            [ "$attempt" = 3 ] && die "a cluster node did not start (three ports lost)"
        done
    done
    local -a addresses=()
    for port in "${CLUSTER_PORTS[@]}"; do addresses+=("127.0.0.1:$port"); done
    if [ "$primaries" -ge 3 ]; then
        local out
        out=$(redis-cli --cluster create "${addresses[@]}" --cluster-replicas "$replicas" --cluster-yes 2>&1) ||
            die "redis-cli --cluster create failed: $out"
        [[ $out == *"[OK] All 16384 slots covered"* ]] || die "redis-cli --cluster create: $out"
    else
        local index first last
        for ((index = 0; index < primaries; index++)); do
            first=$((index * 16384 / primaries))
            last=$(((index + 1) * 16384 / primaries - 1))
            cluster_cli "${CLUSTER_PORTS[$index]}" CLUSTER ADDSLOTSRANGE "$first" "$last" >/dev/null
        done
        for port in "${CLUSTER_PORTS[@]:1}"; do
            cluster_cli "${CLUSTER_PORTS[0]}" CLUSTER MEET 127.0.0.1 "$port" >/dev/null
        done
        wait_for_cluster_nodes "$total"
        local replica primary_id
        for ((index = primaries; index < total; index++)); do
            primary_id=$(cluster_cli "${CLUSTER_PORTS[$(((index - primaries) % primaries))]}" CLUSTER MYID)
            replica=${CLUSTER_PORTS[$index]}
            until cluster_cli "$replica" CLUSTER REPLICATE "$primary_id" 2>/dev/null | grep -q OK; do sleep 0.2; done
        done
    fi
    wait_for_healthy_cluster "$primaries" "$total"
    CLUSTER_URL="redis-cluster://$(IFS=,; echo "${addresses[*]}")"
    log "Redis Cluster up: $primaries primaries, $replicas replica(s) each, $CLUSTER_URL (files in $CLUSTER_DIR)"
}

# Every node knows TOTAL nodes.
wait_for_cluster_nodes() {
    local total=$1 deadline=$((SECONDS + ${START_TIMEOUT:-60})) port known
    for port in "${CLUSTER_PORTS[@]}"; do
        while :; do
            known=$(cluster_cli "$port" CLUSTER INFO | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')
            [ "$known" = "$total" ] && break
            [ "$SECONDS" -ge "$deadline" ] && die "cluster node $port knows $known of $total nodes"
            sleep 0.2
        done
    done
}

# Every node: cluster_state:ok, all slots served; PRIMARIES primaries and TOTAL nodes seen
# by each; every replica's link up.
wait_for_healthy_cluster() {
    local primaries=$1 total=$2 deadline=$((SECONDS + ${START_TIMEOUT:-60})) port info nodes problem
    while :; do
        problem=
        for port in "${CLUSTER_PORTS[@]}"; do
            info=$(cluster_cli "$port" CLUSTER INFO | tr -d '\r')
            [[ $info == *cluster_state:ok* && $info == *cluster_slots_ok:16384* ]] || { problem="node $port: $info"; break; }
            nodes=$(cluster_cli "$port" CLUSTER NODES)
            [ "$(grep -c master <<<"$nodes")" = "$primaries" ] || { problem="node $port sees other primaries"; break; }
            [ "$(grep -c . <<<"$nodes")" = "$total" ] || { problem="node $port sees other nodes"; break; }
            if cluster_cli "$port" INFO replication | grep -q '^role:slave'; then
                cluster_cli "$port" INFO replication | grep -q 'master_link_status:up' || { problem="replica $port: link down"; break; }
            fi
        done
        [ -z "$problem" ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && die "the cluster did not become healthy: $problem"
        sleep 0.2
    done
}

stop_redis_cluster() {
    [ "${#CLUSTER_PIDS[@]}" -gt 0 ] && stop_pids "${CLUSTER_PIDS[@]}"
    CLUSTER_PIDS=()
    CLUSTER_PORTS=()
    [ -n "$CLUSTER_DIR" ] && rm -rf -- "$CLUSTER_DIR"
    CLUSTER_DIR=
}

cluster_primary_ports() {
    cluster_cli "${CLUSTER_PORTS[0]}" CLUSTER NODES | awk '$3 ~ /master/ && $3 !~ /fail/ { split($2, a, "[:@]"); print a[2] }' | sort -n
}

cluster_cpu_seconds() {
    cluster_cli "$1" INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.3f", s }'
}
