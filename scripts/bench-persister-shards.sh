#!/usr/bin/env bash
# The persister's reading of sharded streams (docs/streams.md, *Shards*): what a round of
# non-blocking XREADGROUPs over the partitions, with a short blocking read on one
# partition at a time while all are empty, costs against the plain layout's one blocking
# XREADGROUP — on one Redis, each layout in turn (LAYOUTS), same run:
#
# 1. idle: Redis commands/s and CPU (its used_cpu_*), the persister's CPU, over IDLE s;
# 2. latency while idle: one message appended to the shard of partition i mod N, SAMPLES
#    times, until its group has acknowledged it (written to MariaDB): median and max ms;
# 3. backlog: COUNT messages dealt out over the shards (pipelined XADDs), appended and
#    drained: entries/s from the first append to the last acknowledgement, and the CPU
#    time per entry of Redis (the appends included, the same in every layout) and of the
#    persister — steadier than the rate on a machine others share.
#
#   LAYOUTS="plain 4 12" IDLE=10 SAMPLES=40 COUNT=100000 scripts/bench-persister-shards.sh
#   PERF_DIR=folder: `perf record -g` of the persister during each backlog, into
#   folder/persister-{layout}.data (`perf report -i …`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

LAYOUTS=${LAYOUTS:-plain 4 12}
IDLE=${IDLE:-10}
SAMPLES=${SAMPLES:-40}
COUNT=${COUNT:-100000}
for name in IDLE SAMPLES COUNT; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done

ensure_packages
ensure_python
build_release_products persister

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-shards.XXXXXX")
REDIS_PID='' MARIADB_PID='' PERSISTER_PID=''
cleanup() {
    hurry_on_signal
    stop_tree '' "$PERSISTER_PID"
    [ -n "$MARIADB_PID" ] && stop_pid "$MARIADB_PID"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    cleanup_mariadb_socket
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
install_traps cleanup

read -r REDIS_PORT MARIADB_PORT METRICS_PORT <<<"$(free_ports 3)"
start_redis "$TMP/redis" "$REDIS_PORT"
start_mariadb "$TMP/mariadb" "$MARIADB_PORT"

printf '%-7s %12s %10s %14s %12s %10s %12s %14s %16s\n' layout "idle cmd/s" "redis cpu" "persister cpu" "latency p50" "max" "backlog/s" "redis µs/entry" "persister µs/entry"
for layout in $LAYOUTS; do
    redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null
    database="shards_${layout}"
    url="mariadb://root@127.0.0.1:$MARIADB_PORT/$database"
    MARIADB_URL="$url" LOG_LEVEL=warning "$BIN/persister" migrate >/dev/null
    env REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" MARIADB_URL="$url" REDIS_PARTITIONS="$layout" LOG_LEVEL=warning \
        PERSISTER_METRICS_PORT="$METRICS_PORT" NODE_ID=bench \
        setsid "$BIN/persister" run 2>>"$TMP/persister.log" &
    PERSISTER_PID=$!
    "$TEST_PYTHON" - "$REDIS_PORT" "$PERSISTER_PID" "$layout" "$IDLE" "$SAMPLES" "$COUNT" "${PERF_DIR:-}" <<'PYTHON'
import os, signal, statistics, subprocess, sys, time
import redis
from redis.crc import key_slot

port, pid, layout, idle, samples, count = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
perf_dir = sys.argv[7]
r = redis.Redis(port=port, decode_responses=True)

def tags(n):  # docs/streams.md, *Shards*
    digits, out = "0123456789abcdefghijklmnopqrstuvwxyz", []
    for k in range(n):
        low, high, attempt = k * 16384 // n, (k + 1) * 16384 // n, 0
        while True:
            number, suffix = attempt, ""
            while number:
                number, digit = divmod(number, 36)
                suffix = digits[digit] + suffix
            tag = f"p{k}.{suffix}" if attempt else f"p{k}"
            if low <= key_slot(tag.encode()) < high:
                out.append(tag)
                break
            attempt += 1
    return out

shards = ["chat:stream:messages"] if layout == "plain" else [f"chat:stream:messages{{{t}}}" for t in tags(int(layout))]

def group(shard):
    for g in r.xinfo_groups(shard):
        if g["name"] == "persister":
            return g
    return None

deadline = time.time() + 60
while not all(r.exists(s) and group(s) for s in shards):
    if time.time() > deadline:
        sys.exit("the persister did not create its groups")
    time.sleep(0.1)
time.sleep(1)

def cpu_seconds_of(process):
    fields = open(f"/proc/{process}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def redis_cpu():
    info = r.info("cpu")
    return info["used_cpu_sys"] + info["used_cpu_user"]

r.config_resetstat()
c0, p0, t0 = redis_cpu(), cpu_seconds_of(pid), time.time()
time.sleep(idle)
elapsed = time.time() - t0
commands = r.info("stats")["total_commands_processed"]
c1, p1 = redis_cpu(), cpu_seconds_of(pid)

fields = {"v": "1", "kind": "message", "chat_type": "single", "type": "text", "from_id": "1", "to_id": "2", "from_name": "a",
          "from_avatar": "", "to_name": "b", "to_avatar": "", "data": '{"data":"x"}', "options": "{}",
          "create_time": "1700000000000", "isremove": "0"}
latencies = []
for i in range(samples):
    shard = shards[i % len(shards)]
    before = int(group(shard)["entries-read"] or 0)
    start = time.perf_counter()
    r.xadd(shard, dict(fields, id=f"lat-{layout}-{i}"))
    while True:
        g = group(shard)
        if int(g["entries-read"] or 0) > before and g["pending"] == 0:
            break
        time.sleep(0.0005)
    latencies.append((time.perf_counter() - start) * 1000)
    time.sleep(0.2 + (i % 7) * 0.037)

total_before = sum(int(group(s)["entries-read"] or 0) for s in shards)
start = time.perf_counter()  # the appends are timed too: the persister reads while they go on
c2, p2 = redis_cpu(), cpu_seconds_of(pid)
perf = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(pid), "-o", f"{perf_dir}/persister-{layout}.data"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if perf_dir else None
pipe = r.pipeline(transaction=False)
for i in range(count):
    pipe.xadd(shards[i % len(shards)], dict(fields, id=f"bl-{layout}-{i}"))
    if i % 5000 == 4999:
        pipe.execute()
pipe.execute()
while True:
    gs = [group(s) for s in shards]
    if sum(int(g["entries-read"] or 0) for g in gs) - total_before >= count and all(g["pending"] == 0 for g in gs):
        break
    time.sleep(0.01)
rate = count / (time.perf_counter() - start)
c3, p3 = redis_cpu(), cpu_seconds_of(pid)
if perf:
    perf.send_signal(signal.SIGINT)
    perf.wait()
print(f"{layout:<7} {commands / elapsed:12.1f} {100 * (c1 - c0) / elapsed:9.2f}% {100 * (p1 - p0) / elapsed:13.2f}% "
      f"{statistics.median(latencies):10.1f}ms {max(latencies):8.1f}ms {rate:12.0f} {1e6 * (c3 - c2) / count:14.1f} {1e6 * (p3 - p2) / count:16.1f}")
PYTHON
    stop_pid "$PERSISTER_PID"
    PERSISTER_PID=''
done
