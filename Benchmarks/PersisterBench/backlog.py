#!/usr/bin/env python3
"""Writes the backlog of `make bench-persister` twice, with the same rows:

  messages.resp  XADD commands for `redis-cli --pipe`: chat:stream:messages entries exactly
                 as lua/message_send_single.lua appends them
  messages.sql   the same rows as multi-row INSERTs into `message` for the `mariadb` client
                 (the first baseline), ROWS_PER_INSERT rows per statement
  loaddata.sql   the same rows again for the second baseline: one `LOAD DATA LOCAL INFILE`
                 per ROWS_PER_INSERT rows, each of a file of its own (loaddata/NNNNN.tsv,
                 tab-separated in LOAD DATA's default format), so each statement is one
                 commit of one batch as in the other two

usage: backlog.py COUNT ROWS_PER_INSERT DIR
"""
import os
import random
import sys
import uuid

count, per_insert, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
random.seed(42)
words = ["你好", "在吗", "今天开会", "ok", "收到 👍", "明天见", "hello world", "图片稍后发"]


def resp(*args):
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def sql_quote(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"}


def tsv_field(text):
    """A value in LOAD DATA's default format (FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\')."""
    return "".join(TSV_ESCAPES.get(c, c) for c in text)


columns = "(`id`, `chat_type`, `type`, `from_id`, `to_id`, `from_name`, `from_avatar`, `to_name`, `to_avatar`, `data`, `options`, `create_time`, `isremove`, `version`)"
os.makedirs(f"{out}/loaddata", exist_ok=True)
with open(f"{out}/messages.resp", "wb") as redis_out, open(f"{out}/messages.sql", "w", encoding="utf-8") as sql_out, \
        open(f"{out}/loaddata.sql", "w", encoding="utf-8") as load_out:
    rows = []
    lines = []

    def flush():
        if rows:
            sql_out.write(f"INSERT INTO `message` {columns} VALUES " + ",".join(rows) + ";\n")
            rows.clear()
        if lines:
            path = f"{os.path.abspath(out)}/loaddata/{flush.files:05d}.tsv"
            flush.files += 1
            with open(path, "w", encoding="utf-8", newline="") as tsv:
                tsv.write("".join(lines))
            load_out.write(f"LOAD DATA LOCAL INFILE {sql_quote(path)} INTO TABLE `message` CHARACTER SET utf8mb4 {columns};\n")
            lines.clear()
    flush.files = 0

    for index in range(count):
        message_id = str(uuid.UUID(int=random.getrandbits(128), version=4))
        sender, recipient = random.randint(1, 1000), random.randint(1, 1000)
        data = '{"data":"%s %d"}' % (random.choice(words), index)
        created = 1_763_700_000_000 + index
        fields = [
            ("v", "1"), ("kind", "message"), ("id", message_id), ("chat_type", "single"), ("type", "text"),
            ("from_id", str(sender)), ("to_id", str(recipient)), ("from_name", f"用户{sender}"),
            ("from_avatar", f"https://img.example.com/a/{sender}.png"), ("to_name", f"用户{recipient}"),
            ("to_avatar", f"https://img.example.com/a/{recipient}.png"), ("data", data), ("options", "{}"),
            ("create_time", str(created)), ("isremove", "0"),
        ]
        redis_out.write(resp("XADD", "chat:stream:messages", "*", *[x for pair in fields for x in pair]))
        values = dict(fields)
        rows.append("(" + ",".join([
            sql_quote(message_id), "'single'", "'text'", sql_quote(values["from_id"]), values["to_id"],
            sql_quote(values["from_name"]), sql_quote(values["from_avatar"]), sql_quote(values["to_name"]),
            sql_quote(values["to_avatar"]), sql_quote(data), "'{}'", str(created), "0", "1",
        ]) + ")")
        lines.append("\t".join(tsv_field(v) for v in [
            message_id, "single", "text", values["from_id"], values["to_id"], values["from_name"],
            values["from_avatar"], values["to_name"], values["to_avatar"], data, "{}", str(created), "0", "1",
        ]) + "\n")
        if len(rows) == per_insert:
            flush()
    flush()
