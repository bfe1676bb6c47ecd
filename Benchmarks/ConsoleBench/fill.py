#!/usr/bin/env python3
"""Writes a chat-bridge data set as Redis commands (RESP) on stdout, for `redis-cli --pipe`.

The rows and indexes are those the scripts write (docs/architecture.md, *Redis keys*):
`user_register` (the `user` hash, `user_info`, the username/uuid indexes, `chat:users`,
`chat:user:names`, `chat:user:nicknames`), `group_update` op create (the `group` hash,
members as JSON rows, `chat:user:{uid}:groups`, `chat:groups`), `complaint_change` op
create and `complaint_reply` (the `chat_complaint` hash, `chat:complaints`,
`chat:complaints:status:{n}`, `chat:user:{uid}:complaints`), the persister's dead
letters, the bridges' heartbeat statistics and the console's audit list. No entity
events: the console reads rows and indexes, and the streams only for their lengths, so
each stream gets a few thousand entries and a `persister` group that lags behind.

Deterministic (--seed). The facts the timing client needs (ids that exist, prefixes that
match, the largest group, the last pages) go to --facts as JSON.

usage: fill.py --users 100000 --groups 10000 --complaints 10000 --facts FILE | redis-cli -p PORT --pipe
"""
import argparse
import json
import random
import sys
import time

# Surnames with their pinyin: nicknames start with the character, usernames with the pinyin.
SURNAMES = [
    ("张", "zhang"), ("王", "wang"), ("李", "li"), ("赵", "zhao"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
    ("胡", "hu"), ("朱", "zhu"), ("高", "gao"), ("林", "lin"), ("何", "he"), ("郭", "guo"),
    ("马", "ma"), ("罗", "luo"),
]
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红玉春晓雪梅飞鹏宇浩然欣怡子轩"
LATIN_NICKNAMES = ["Lucky", "Sunny", "Tom", "Alice", "小猫咪", "追风少年", "🌸花开", "Kevin", "阿杰", "momo"]
REASONS = ["发布违法信息", "骚扰信息", "诈骗", "色情低俗", "虚假广告", "其他"]
REPLIES = ["已核实，已处理", "正在核实中", "证据不足，已关闭", "已警告该用户"]
GROUP_WORDS = ["读书会", "家长群", "同学群", "户外徒步", "摄影交流", "工作群", "羽毛球", "老乡会"]
ACTIONS = ["user.edit", "user.disable", "user.enable", "user.password", "complaint.reply", "group.disable",
           "deadletter.replay", "deadletter.drop"]
BCRYPT = "$2b$10$" + "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"[:53]
STREAMS = ["chat:stream:messages", "chat:stream:entities", "chat:stream:private"]


class Pipe:
    """RESP commands buffered and written to stdout in large blocks."""

    def __init__(self, out):
        self.out, self.parts, self.size, self.count = out, [], 0, 0

    def __call__(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        block = b"".join(parts)
        self.parts.append(block)
        self.size += len(block)
        self.count += 1
        if self.size >= 1 << 20:
            self.flush()

    def flush(self):
        self.out.write(b"".join(self.parts))
        self.parts, self.size = [], 0


def row_time(seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def iso_time(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))


def uuid4(rng):
    text = "%032x" % rng.getrandbits(128)
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


def hset_row(pipe, key, row):
    """A row as the scripts store it: its non-null columns as text, plus `_v`."""
    fields = []
    for column, value in row.items():
        if value is not None:
            fields += [column, value]
    pipe("HSET", key, *fields)


def encode_row(row):
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def fill_users(pipe, rng, count, now, facts):
    nicknames, usernames = {}, {}
    for uid in range(1, count + 1):
        surname, pinyin = SURNAMES[rng.randrange(len(SURNAMES))]
        username = f"{pinyin}{uid}"
        usernames[uid] = username
        roll = rng.random()
        if roll < 0.80:
            nickname = surname + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        elif roll < 0.92:
            nickname = rng.choice(LATIN_NICKNAMES) + str(rng.randrange(1000))
        else:
            nickname = ""  # as registered: the nickname is set later, if ever
        created = now - rng.randrange(3 * 365 * 86400)
        status, deleted = (0, 0) if rng.random() < 0.03 else (1, 0)
        if rng.random() < 0.01:
            status, deleted = 0, 1
        role = "visitor" if rng.random() < 0.1 else "user"
        uuid = uuid4(rng)
        hset_row(pipe, f"chat:user:{uid}", {
            "_v": 1, "id": uid, "uuid": uuid, "username": username, "password": BCRYPT, "nickname": nickname,
            "avatar": f"http://img.example.com/avatar/{uid % 500}.png", "uniplatform": "", "devicemodel": "",
            "deviceos": "", "devicebrand": "", "invite_confirm": 0, "status": status,
            "register_time": iso_time(created), "is_deleted": deleted, "role": role, "order": 50,
            "create_time": row_time(created), "update_time": row_time(created),
        })
        hset_row(pipe, f"chat:userinfo:{uid}", {
            "_v": 1, "id": uid, "user_id": uid, "gender": "unknown", "bio": "", "location": "", "website": "",
            "order": 50, "create_time": row_time(created), "update_time": row_time(created),
        })
        pipe("SET", f"chat:user:name:{username}", uid)
        pipe("SET", f"chat:user:uuid:{uuid}", uid)
        pipe("ZADD", "chat:user:names", 0, username)
        pipe("ZADD", "chat:users", uid, uid)
        if nickname:
            pipe("ZADD", "chat:user:nicknames", 0, nickname.encode() + b"\0" + str(uid).encode())
            nicknames[uid] = nickname
    pipe("SET", "chat:id:user", count)
    pipe("SET", "chat:id:user_info", count)
    # A user in the middle, and prefixes: a broad one (a twentieth of the users) and a
    # narrow one (a few users), of usernames and of nicknames.
    probe = count // 2 + 7
    while probe not in nicknames or not '\u4e00' <= nicknames[probe][0] <= '\u9fff':
        probe += 1
    facts["user_id"] = probe
    facts["username_prefix_broad"] = "zhang"
    facts["username_prefix_narrow"] = usernames[probe][:-1]
    facts["nickname_prefix_broad"] = "张"
    facts["nickname_prefix_narrow"] = nicknames[probe]


def fill_groups(pipe, rng, count, users, big, now, facts):
    """Groups of 3–30 members, and the first one with `big` (the largest a group may be)."""
    row_id = 0
    for gid in range(1, count + 1):
        size = min(users, big if gid == 1 else rng.randint(3, 30))
        members = rng.sample(range(1, users + 1), size)
        owner = members[0]
        created = row_time(now - rng.randrange(365 * 86400))
        word = rng.choice(GROUP_WORDS)
        hset_row(pipe, f"chat:group:{gid}", {
            "id": gid, "uuid": uuid4(rng), "user_id": owner, "name": f"{word}{gid}",
            "avatar": f"http://img.example.com/group/{gid % 300}.png", "invite_confirm": 0,
            "status": 0 if rng.random() < 0.02 else 1, "order": 50, "create_time": created, "update_time": created,
            "_v": 1,
        })
        fields = []
        for uid in members:
            row_id += 1
            fields += [uid, encode_row({
                "id": row_id, "group_id": gid, "user_id": uid, "nickname": "", "avatar": "", "status": 1,
                "order": 50, "create_time": created, "update_time": created, "_v": 1,
            })]
            pipe("ZADD", f"chat:user:{uid}:groups", gid, gid)
        pipe("HSET", f"chat:group:{gid}:members", *fields)
        pipe("SET", f"chat:group:{gid}:members:v", f"{now}000000{len(members)}")
        pipe("ZADD", "chat:groups", gid, gid)
    pipe("SET", "chat:id:group", count)
    pipe("SET", "chat:id:group_user", row_id)
    facts["big_group_id"] = 1
    facts["big_group_members"] = min(users, big)
    facts["group_id"] = count // 2 + 3
    facts["member_rows"] = row_id


def fill_complaints(pipe, rng, count, users, groups, now, facts):
    by_status = [0, 0, 0, 0]
    for cid in range(1, count + 1):
        reporter = rng.randint(1, users)
        single = rng.random() < 0.8 or groups == 0
        target = rng.randint(1, users) if single else rng.randint(1, groups)
        status = rng.choices([0, 1, 2, 3], weights=[40, 10, 40, 10])[0]
        deleted = 1 if rng.random() < 0.02 else 0
        created = now - rng.randrange(180 * 86400)
        row = {
            "_v": 1 if status == 0 else 2, "id": cid, "user_id": reporter, "target_id": target,
            "target_type": "single" if single else "group", "target_name": None,
            "reason": rng.choice(REASONS), "content": f"投诉内容：第{cid}条，对方多次发送广告链接。",
            "images": None, "complaint_chatinfo": None, "status": status,
            "admin_reply": rng.choice(REPLIES) if status else None,
            "create_time": row_time(created), "update_time": row_time(created + (3600 if status else 0)),
            "is_deleted": deleted,
        }
        hset_row(pipe, f"chat:complaint:{cid}", row)
        if not deleted:
            pipe("ZADD", f"chat:user:{reporter}:complaints", cid, cid)
        pipe("ZADD", "chat:complaints", cid, cid)
        pipe("ZADD", f"chat:complaints:status:{status}", cid, cid)
        by_status[status] += 1
    pipe("SET", "chat:id:complaint", count)
    facts["complaint_id"] = count // 2 + 5
    facts["complaints_by_status"] = by_status


def fill_deadletters(pipe, rng, count, facts):
    for n in range(count):
        stream = rng.choice(STREAMS[:2])
        pipe("XADD", "chat:stream:deadletter", "*", "stream", stream, "entry", f"{1700000000000 + n}-0",
             "attempts", 5, "error", "MariaDB 1406: Data too long for column 'content' at row 1",
             "consumer", "persister-1", "field.v", 1, "field.entity", "complaint", "field.op", "upsert",
             "field.id", n + 1, "field.version", 1, "field.row", encode_row({"id": n + 1, "reason": "其他"}))
    facts["deadletters"] = count


def fill_streams(pipe, rng, entries):
    """Each stream with a `persister` group that has read some and acknowledged fewer."""
    for stream in STREAMS:
        pipe("XGROUP", "CREATE", stream, "persister", "$", "MKSTREAM")
        for n in range(entries):
            pipe("XADD", stream, "*", "v", 1, "entity", "user", "op", "upsert", "id", n + 1, "version", 1, "row", "{}")
        pipe("XREADGROUP", "GROUP", "persister", "persister-1", "COUNT", entries // 2, "STREAMS", stream, ">")


def fill_dashboard(pipe, rng, now_ms, facts):
    """Two bridges' heartbeat statistics and an hour of message counters (node_heartbeat)."""
    minute = now_ms // 60000
    for m in range(minute - 60, minute + 1):
        pipe("SET", f"chat:stats:messages:{m}", rng.randint(800, 4000), "EX", 7200)
    for node, sockets in (("bench-node-a", 1800), ("bench-node-b", 1500)):
        pipe("ZADD", "chat:nodes", now_ms, node)
        pipe("HSET", "chat:nodes:stats", node, json.dumps({"sockets": sockets, "users": sockets - 100, "at": now_ms}))
    facts["nodes"] = ["bench-node-a", "bench-node-b"]


def fill_audit(pipe, rng, count, now, facts):
    for aid in range(1, count + 1):
        action = rng.choice(ACTIONS)
        kind = action.split(".")[0]
        pipe("LPUSH", "chat:admin:audit", encode_row({
            "id": aid, "admin": rng.choice(["ops", "alice", "bob"]), "action": action, "target_type": kind,
            "target_id": rng.randint(1, 1000), "detail": "{}", "address": "127.0.0.1",
            "create_time": row_time(now - (count - aid) * 30),
        }))
    pipe("LTRIM", "chat:admin:audit", 0, 9999)
    pipe("SET", "chat:id:admin_audit", count)
    facts["audit"] = min(count, 10000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100000)
    parser.add_argument("--groups", type=int, default=10000)
    parser.add_argument("--complaints", type=int, default=10000)
    parser.add_argument("--big-group", type=int, default=500, help="members of the largest group (--group-max-members)")
    parser.add_argument("--deadletters", type=int, default=3000)
    parser.add_argument("--audit", type=int, default=10000)
    parser.add_argument("--stream-entries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--facts", required=True, help="where the facts for the timing client go (JSON)")
    args = parser.parse_args()
    if args.users < 100:
        parser.error("--users: at least 100")

    rng = random.Random(args.seed)
    now = int(time.time())
    facts = {"users": args.users, "groups": args.groups, "complaints": args.complaints}
    pipe = Pipe(sys.stdout.buffer)
    fill_users(pipe, rng, args.users, now, facts)
    fill_groups(pipe, rng, args.groups, args.users, args.big_group, now, facts)
    fill_complaints(pipe, rng, args.complaints, args.users, args.groups, now, facts)
    fill_deadletters(pipe, rng, args.deadletters, facts)
    fill_streams(pipe, rng, args.stream_entries)
    fill_dashboard(pipe, rng, now * 1000, facts)
    fill_audit(pipe, rng, args.audit, now, facts)
    pipe.flush()
    facts["commands"] = pipe.count
    with open(args.facts, "w") as out:
        json.dump(facts, out, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
