#!/usr/bin/env python3
"""An analytics consumer of chat:stream:messages (docs/streams.md), with a group of its own.

On a partitioned deployment (`chat:meta partitions` a number: every Redis Cluster) the
stream is one shard per partition (docs/streams.md, *Shards*): the group is on every
shard, each shard is read and acknowledged on its own.

Reads every entry its consumer group has not yet read (first its own pending entries,
left by a run that stopped before acknowledging), counts messages per minute by chat
type, the most active senders and groups, and the revokes, saves a PNG chart, prints a
table, and only then acknowledges what it read (XACK): a run that dies before that reads
the same entries again (at-least-once), and an entry is never lost to it.

    python3 analytics.py --redis-url redis://127.0.0.1:6379/0 --start now --chart chart.png

The group (default `analytics-example`) is created when missing, at `--start`: `now` (only
entries added from then on), `beginning` (everything the stream still holds) or an entry
id. While the group exists, the persister keeps every entry the group has not
acknowledged: remove the group (XGROUP DESTROY) when the job is retired, or the stream
grows to its hard cap. See README.md next to this file.
"""
import argparse
import logging
import os
import sys
import time
import warnings
from collections import Counter, defaultdict

import redis

STREAM = "chat:stream:messages"
STARTS = {"now": "$", "beginning": "0"}
TAG_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def shard_tags(n):
    """Partition k's hash tag: the first of p{k}, p{k}.1, p{k}.2, ... (base 36) whose slot
    lies in [k * 16384 / n, (k + 1) * 16384 / n) (docs/streams.md, *Shards*)."""
    from redis.crc import key_slot

    tags = []
    for k in range(n):
        low, high, attempt = k * 16384 // n, (k + 1) * 16384 // n, 0
        while True:
            number, suffix = attempt, ""
            while number:
                number, digit = divmod(number, 36)
                suffix = TAG_DIGITS[digit] + suffix
            tag = f"p{k}.{suffix}" if attempt else f"p{k}"
            if low <= key_slot(tag.encode()) < high:
                tags.append(tag)
                break
            attempt += 1
    return tags


def shards(client):
    """The stream's shards: the stream itself on a plain deployment."""
    partitions = client.hget("chat:meta", "partitions")
    if partitions in (None, "plain"):
        return [STREAM]
    return [f"{STREAM}{{{tag}}}" for tag in shard_tags(int(partitions))]


def redis_client(url):
    """A client of the Redis at `url`; of the whole cluster for redis-cluster://host:port[,…]."""
    if url.startswith("redis-cluster://"):
        from redis.cluster import RedisCluster

        credentials, _, hosts = url[len("redis-cluster://"):].rpartition("@")
        first = hosts.split(",")[0].split("/")[0]
        return RedisCluster.from_url(f"redis://{credentials + '@' if credentials else ''}{first}", decode_responses=True)
    return redis.Redis.from_url(url, decode_responses=True)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--group", default="analytics-example")
    parser.add_argument("--consumer", default="analytics-1", help="this process's name within the group")
    parser.add_argument("--start", default="now", help="where a new group starts: now, beginning, or an entry id")
    parser.add_argument("--create-only", action="store_true", help="create the group (if missing) and exit")
    parser.add_argument("--chart", default="analytics.png", help="where the PNG chart goes")
    parser.add_argument("--top", type=int, default=5, help="how many senders and groups to list")
    parser.add_argument("--count", type=int, default=500, help="entries per XREADGROUP")
    return parser.parse_args()


def ensure_group(client, shard, group, start):
    """Creates the group on `shard` at `start` unless it exists (BUSYGROUP is not an error)."""
    try:
        client.xgroup_create(shard, group, id=STARTS.get(start, start), mkstream=True)
        return True
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
        return False


def read_all(client, shard, group, consumer, count):
    """Every entry of `shard` for this consumer: its pending ones (id 0), then the new ones (>)."""
    entries = []
    for start in ("0", ">"):
        while True:
            reply = client.xreadgroup(group, consumer, {shard: start}, count=count)
            batch = reply[0][1] if reply else []
            # Pending entries trimmed away come back as (id, None): nothing to count.
            batch = [(entry_id, fields) for entry_id, fields in batch if fields is not None]
            if not batch:
                break
            entries.extend(batch)
            if start == "0":
                start = batch[-1][0]  # the next pending after these
    return entries


class Figures:
    def __init__(self):
        self.per_minute = defaultdict(Counter)  # "YYYY-MM-DD HH:MM" -> chat_type -> messages
        self.senders = Counter()  # from_id -> messages
        self.sender_names = {}
        self.groups = Counter()  # gid -> messages
        self.group_names = {}
        self.revokes = Counter()  # chat_type -> revokes
        self.messages = 0
        self.other = 0  # entries of a kind this job does not know (a newer contract)

    def add(self, fields):
        if fields.get("v") != "1":
            self.other += 1  # a version this job was not written for: docs/streams.md
            return
        kind, chat = fields.get("kind"), fields.get("chat_type")
        if kind == "revoke":
            self.revokes[chat] += 1
        elif kind == "message":
            self.messages += 1
            minute = time.strftime("%Y-%m-%d %H:%M", time.gmtime(int(fields["create_time"]) / 1000))
            self.per_minute[minute][chat] += 1
            sender = int(fields["from_id"])
            self.senders[sender] += 1
            self.sender_names[sender] = fields["from_name"]
            if chat == "group":
                gid = int(fields["to_id"])
                self.groups[gid] += 1
                self.group_names[gid] = fields["to_name"]  # the group's name when it was sent
        else:
            self.other += 1


def ranked(counter, top):
    """Most first; ties by id, so the report is the same every run."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:top]


def table(figures, top):
    lines = ["messages per minute (UTC)", f"{'minute':<18}{'single':>8}{'group':>8}{'total':>8}"]
    for minute in sorted(figures.per_minute):
        counts = figures.per_minute[minute]
        single, group = counts["single"], counts["group"]
        lines.append(f"{minute:<18}{single:>8}{group:>8}{single + group:>8}")
    lines += ["", "most active senders", f"{'sender':<10}{'messages':>8}  name"]
    lines += [f"{sender:<10}{count:>8}  {figures.sender_names[sender]}" for sender, count in ranked(figures.senders, top)]
    lines += ["", "most active groups", f"{'group':<10}{'messages':>8}  name"]
    lines += [f"{gid:<10}{count:>8}  {figures.group_names[gid]}" for gid, count in ranked(figures.groups, top)]
    revokes = figures.revokes
    lines += ["", f"revokes: {sum(revokes.values())} (single {revokes['single']}, group {revokes['group']})"]
    return lines


def chart(figures, top, path):
    """Messages per minute by chat type (stacked bars) and the top senders, as a PNG."""
    warnings.filterwarnings("ignore")
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = sorted(figures.per_minute)
    single = [figures.per_minute[m]["single"] for m in minutes]
    group = [figures.per_minute[m]["group"] for m in minutes]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=100)
    labels = [m[11:] for m in minutes]  # HH:MM
    left.bar(labels, single, label="single", color="#4C72B0")
    left.bar(labels, group, bottom=single, label="group", color="#DD8452")
    left.set_title("messages per minute (UTC)")
    left.set_xlabel("minute")
    left.set_ylabel("messages")
    left.legend()
    senders = ranked(figures.senders, top)
    right.barh([f"user {sender}" for sender, _ in senders][::-1], [count for _, count in senders][::-1], color="#55A868")
    right.set_title(f"top {top} senders")
    right.set_xlabel("messages")
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def main():
    options = arguments()
    client = redis_client(options.redis_url)
    stream_shards = shards(client)
    created = [ensure_group(client, shard, options.group, options.start) for shard in stream_shards]
    if options.create_only:
        where = STREAM if len(stream_shards) == 1 else f"{STREAM} ({len(stream_shards)} shards)"
        print(f"group {options.group} on {where}: {'created at ' + options.start if any(created) else 'exists'}")
        return 0
    read = {shard: read_all(client, shard, options.group, options.consumer, options.count) for shard in stream_shards}
    entries = [entry for shard in stream_shards for entry in read[shard]]
    figures = Figures()
    for _, fields in entries:
        figures.add(fields)
    if entries:
        chart(figures, options.top, options.chart)
    for line in table(figures, options.top):
        print(line)
    # Acknowledged once the figures are out: a crash before this reads them again.
    acknowledged = 0
    for shard in stream_shards:
        ids = [entry_id for entry_id, _ in read[shard]]
        for start in range(0, len(ids), 1000):
            acknowledged += client.xack(shard, options.group, *ids[start : start + 1000])
    revokes = sum(figures.revokes.values())
    print(f"read {len(entries)} entries ({figures.messages} messages, {revokes} revokes), acknowledged {acknowledged}")
    if figures.other:
        print(f"skipped {figures.other} entries of an unknown kind or version")
    print(f"chart: {options.chart}" if entries else "chart: none (nothing read)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
