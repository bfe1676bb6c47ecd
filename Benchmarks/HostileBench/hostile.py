#!/usr/bin/env python3
"""Hostile-load measurements against a running bridge (scripts/bench-hostile.sh).

  hostile.py fanout  --port P --redis-port R --members 10,100,1000 --messages 5 --bytes N
      Redis bytes per group message to offline members, beside the message's own bytes.
      For each member count: a fresh group whose members never connect; MESSAGES group
      messages of BYTES of text; Redis' used_memory before and after, and the messages
      stream's own growth (trimmed by the persister once persisted, so reported apart).
      The message itself is measured as Redis holds it (MEMORY USAGE of a key with it).
      One line per member count: `phase=fanout members=… per_message=… stream=… …`.

  hostile.py stalled --port P --pid PID --recipients 100 --stall 0|1 --rate R --seconds S
      Bridge RSS under a steady send load to RECIPIENTS connected recipients, which read
      everything (--stall 0) or stop reading after the handshake (--stall 1, with a small
      receive buffer: a stalled phone). Samples /proc/PID/status every 100 ms; prints
      `phase=stalled stall=… rss_start_kib=… rss_peak_kib=… rss_end_kib=… sent=… refused=…`.

Standard library only: plain sockets for HTTP/1.1 keep-alive and the WebSocket handshake
(the recipients never need to decode a frame). Accounts are registered with random names.
"""
import argparse
import base64
import json
import os
import random
import selectors
import socket
import string
import sys
import threading
import time
import http.client

PASSWORD = "bench-password"
USERSET = json.dumps({"chatset": {"visitor": {"sendCount": 2, "needFollow": False},
                                  "user": {"sendCount": 2, "needFollow": False}}})


def progress(text):
    print(f"==> {text}", file=sys.stderr, flush=True)


class Session:
    """One keep-alive HTTP/1.1 connection to the bridge."""

    def __init__(self, port):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["token"] = token
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                reply = self.connection.getresponse()
                text = reply.read().decode()
                return json.loads(text) if text else {}
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 1:
                    raise

    def ok(self, method, path, body=None, token=None):
        reply = self.call(method, path, body, token)
        if reply.get("msg") != "ok":
            raise SystemExit(f"{method} {path}: {json.dumps(reply, ensure_ascii=False)[:300]}")
        return reply.get("data")


def in_parallel(items, work, workers=4):
    """`work(item)` for every item, over `workers` threads (each with its own items)."""
    def lane(index):
        for item in items[index::workers]:
            work(item)
    threads = [threading.Thread(target=lane, args=(index,)) for index in range(min(workers, len(items)))]
    for thread in threads: thread.start()
    for thread in threads: thread.join()


def register(port, count, workers=4):
    """`count` fresh accounts as (id, token), registered over `workers` connections."""
    stem = "hb" + "".join(random.choices(string.ascii_lowercase, k=6))
    accounts = [None] * count
    sessions = threading.local()

    def work(index):
        if not hasattr(sessions, "session"):
            sessions.session = Session(port)
        data = sessions.session.ok("POST", "/api/regChat", {"username": f"{stem}{index:05d}", "password": PASSWORD})
        accounts[index] = (int(data["id"]), data["token"])

    in_parallel(list(range(count)), work, workers)
    if any(account is None for account in accounts):
        raise SystemExit("registration failed (see above)")
    return accounts


class Redis:
    """Just enough RESP for INFO and MEMORY USAGE."""

    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port))
        self.file = self.socket.makefile("rb")

    def command(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            arg = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        self.socket.sendall(b"".join(parts))
        return self.reply()

    def reply(self):
        line = self.file.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            length = int(rest)
            return None if length < 0 else self.file.read(length + 2)[:-2].decode()
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")

    def used_memory(self):
        info = self.command("INFO", "memory")
        return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("used_memory:")))

    def usage(self, key):
        value = self.command("MEMORY", "USAGE", key, "SAMPLES", "0")
        return int(value) if value is not None else 0


def make_group(port, accounts):
    """A group of every account, the first one its owner; the group's id."""
    owner, first = accounts[0], accounts[1]
    session = Session(port)
    session.ok("POST", "/api/chat/autoAddFriendAndAgree", {"friend_id": first[0]}, owner[1])
    friends = session.ok("GET", "/api/chat/goodfriendlist/1", token=owner[1])
    row = friends["rows"]["newList"][0]["list"][0]["id"]
    session.ok("POST", "/api/chat/group/create", {"userIds": [row]}, owner[1])
    groups = session.ok("GET", "/api/chat/grouplist/1", token=owner[1])
    group = int(groups[0]["id"])

    def join(account):
        Session(port).ok("POST", "/api/chat/groupInviteUser", {"group_id": group, "user_id": account[0]}, account[1])
    in_parallel(accounts[2:], join)
    return group


def fanout(args):
    redis = Redis(args.redis_port)
    text = "".join(random.choices(string.ascii_letters, k=args.bytes))
    counts = [int(value) for value in args.members.split(",")]
    # A first group, not measured: whatever Redis allocates once (script cache, the
    # shared hashes' first buckets, buffers for a command of this size) is not charged
    # to the first member count.
    for warm_up, members in [(True, counts[0])] + [(False, count) for count in counts]:
        progress(f"fanout: registering {members} accounts, one group, members offline" + (" (warm-up)" if warm_up else ""))
        accounts = register(args.port, members)
        group = make_group(args.port, accounts)
        sender = Session(args.port)
        # One message of the size first: the group's recipients cached, the stream's node
        # allocated, Redis' buffers for a command of this size grown.
        sender.ok("POST", "/api/chat/socket/sendmessage",
                  {"sendto_id": group, "chatType": "group", "type": "text", "data": text}, accounts[0][1])
        if warm_up:
            continue
        time.sleep(0.5)
        before, stream_before = redis.used_memory(), redis.usage("chat:stream:messages")
        for _ in range(args.messages):
            sender.ok("POST", "/api/chat/socket/sendmessage",
                      {"sendto_id": group, "chatType": "group", "type": "text", "data": text}, accounts[0][1])
        time.sleep(0.5)
        after, stream_after = redis.used_memory(), redis.usage("chat:stream:messages")
        # The message itself: its JSON bytes, and what Redis takes to hold it as one value
        # (a string key with it: the allocator rounds a 16 KB value up to its 20 KB class).
        message = redis.command("LINDEX", f"chatlog:group_{group}", -1)
        redis.command("SET", "hostile-bench:message", message)
        stored = redis.usage("hostile-bench:message")
        redis.command("DEL", "hostile-bench:message")
        total = (after - before) / args.messages
        stream = (stream_after - stream_before) / args.messages
        offline = members - 1
        bar = 2 * stored + 200 * offline
        print(f"phase=fanout members={members} offline={offline} message_bytes={len(message.encode())} message_stored={stored} "
              f"per_message={total:.0f} stream={stream:.0f} without_stream={total - stream:.0f} bar={bar} "
              f"per_member={(total - stream - 2 * stored) / offline:.0f}", flush=True)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit(f"no VmRSS for pid {pid}")


def websocket(port, token, stall):
    """An open /ws connection (after the 101); stalled ones get a small receive buffer first."""
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if stall:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    connection.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    connection.sendall((f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = connection.recv(1)
        if not chunk:
            raise SystemExit("the bridge closed a WebSocket handshake")
        head += chunk
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise SystemExit(f"WebSocket handshake refused: {head[:200]!r}")
    return connection


def stalled(args):
    progress(f"stalled={args.stall}: {args.recipients} recipients, {args.senders} senders")
    recipients = register(args.port, args.recipients)
    senders = register(args.port, args.senders)
    in_parallel(recipients, lambda account: Session(args.port).ok(
        "POST", "/api/chat/userset", {"userset": USERSET}, account[1]))
    sockets = [websocket(args.port, token, args.stall) for _, token in recipients]

    stop = threading.Event()
    reading = selectors.DefaultSelector()
    if not args.stall:
        for connection in sockets:
            connection.setblocking(False)
            reading.register(connection, selectors.EVENT_READ)

        def read_all():
            while not stop.is_set():
                for key, _ in reading.select(timeout=0.1):
                    try:
                        key.fileobj.recv(1 << 16)
                    except BlockingIOError:
                        pass
        reader = threading.Thread(target=read_all)
        reader.start()

    text = "".join(random.choices(string.ascii_letters, k=args.bytes))
    counts = {"sent": 0, "refused": 0}
    lock = threading.Lock()
    interval = args.senders / args.rate  # each sender's pace

    def send(lane):
        session, (_, token) = Session(args.port), senders[lane]
        deadline = time.monotonic() + args.seconds
        next_send, index = time.monotonic(), lane
        while time.monotonic() < deadline:
            recipient = recipients[index % len(recipients)][0]
            index += args.senders
            reply = session.call("POST", "/api/chat/socket/sendmessage",
                                 {"sendto_id": recipient, "chatType": "single", "type": "text", "data": text}, token)
            with lock:
                counts["sent" if reply.get("msg") == "ok" else "refused"] += 1
            next_send += interval
            pause = next_send - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    start_rss, peak = rss_kib(args.pid), 0
    workers = [threading.Thread(target=send, args=(lane,)) for lane in range(args.senders)]
    for worker in workers: worker.start()
    while any(worker.is_alive() for worker in workers):
        peak = max(peak, rss_kib(args.pid))
        time.sleep(0.1)
    time.sleep(1)
    end_rss = rss_kib(args.pid)
    stop.set()
    if not args.stall:
        reader.join()
    print(f"phase=stalled stall={args.stall} recipients={args.recipients} rss_start_kib={start_rss} "
          f"rss_peak_kib={max(peak, end_rss)} rss_end_kib={end_rss} sent={counts['sent']} refused={counts['refused']} "
          f"rate={counts['sent'] / args.seconds:.0f}", flush=True)
    for connection in sockets:
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("fanout")
    one.add_argument("--port", type=int, required=True)
    one.add_argument("--redis-port", type=int, required=True)
    one.add_argument("--members", default="10,100,1000")
    one.add_argument("--messages", type=int, default=10)
    one.add_argument("--bytes", type=int, default=16000)
    two = commands.add_parser("stalled")
    two.add_argument("--port", type=int, required=True)
    two.add_argument("--pid", type=int, required=True)
    two.add_argument("--recipients", type=int, default=100)
    two.add_argument("--senders", type=int, default=20)
    two.add_argument("--stall", type=int, choices=(0, 1), default=1)
    two.add_argument("--rate", type=float, default=400)
    two.add_argument("--seconds", type=float, default=20)
    two.add_argument("--bytes", type=int, default=4000)
    args = parser.parse_args()
    fanout(args) if args.command == "fanout" else stalled(args)


if __name__ == "__main__":
    main()
