#!/usr/bin/env python3
"""Writes the backlog of `make bench-persister` twice, with the same rows:

  messages.resp  XADD commands for `redis-cli --pipe`: chat:stream:messages entries exactly
                 as lua/message_send_single.lua appends them
  messages.sql   the same rows as multi-row INSERTs into `message` for the `mariadb` client
                 (the baseline), ROWS_PER_INSERT rows per statement

usage: backlog.py COUNT ROWS_PER_INSERT DIR
"""
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


columns = "(`id`, `chat_type`, `type`, `from_id`, `to_id`, `from_name`, `from_avatar`, `to_name`, `to_avatar`, `data`, `options`, `create_time`, `isremove`, `version`)"
with open(f"{out}/messages.resp", "wb") as redis_out, open(f"{out}/messages.sql", "w", encoding="utf-8") as sql_out:
    rows = []

    def flush():
        if rows:
            sql_out.write(f"INSERT INTO `message` {columns} VALUES " + ",".join(rows) + ";\n")
            rows.clear()

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
        if len(rows) == per_insert:
            flush()
    flush()
