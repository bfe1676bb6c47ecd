#!/usr/bin/env python3
"""Times every console page and search, against consoles on data sets of different sizes.

Each console (--console NAME URL FACTS REDIS_PORT PASSWORD_FILE, from fill.py) is logged
in through `POST /api/login`; then for every route, after --warmup requests, --requests
requests alternate between the consoles (ABAB…: a drift of the shared machine hits both
alike), each on one keep-alive connection, timed from the request's first byte to the
body's last. Per route and console: p50, p99, max in ms, the console's CPU per request,
the Redis commands per request (INFO commandstats before and after: the indexes at work,
no full scans) and the verdict against the bar. The floor is the console's cheapest
answers (/healthz, its CSS file): what any HTTP round trip costs in the same run.

Standard library only. Exit status 1 when a route fails (a status other than 200, an
error reply, a page without what it must show) or misses the bar.
"""
import argparse
import http.client
import json
import os
import re
import socket
import sys
import time
import urllib.parse

BAR_MS = 200.0
PAGE_SIZE = 20
SCANS = {"scan", "keys", "zscan", "hscan", "sscan"}


class Redis:
    """One connection, enough RESP for INFO."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = self.sock.makefile("rb")

    def command(self, *args):
        args = [arg if isinstance(arg, bytes) else str(arg).encode() for arg in args]
        self.sock.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return self.reply()

    def reply(self):
        header = self.reader.readline()
        kind, rest = header[:1], header[1:-2]
        if kind == b"$":
            return None if rest == b"-1" else self.reader.read(int(rest) + 2)[:-2]
        if kind == b"*":
            return None if rest == b"-1" else [self.reply() for _ in range(int(rest))]
        if kind == b":":
            return int(rest)
        if kind == b"-":
            sys.exit(f"Redis: {rest.decode()}")
        return rest

    def info(self, section):
        return self.command("INFO", section).decode()

    def commandstats(self):
        calls = {}
        for line in self.info("commandstats").splitlines():
            match = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
            if match:
                calls[match.group(1)] = int(match.group(2))
        return calls

    def heartbeat(self, nodes):
        """The bridges' heartbeat, so that the dashboard counts the filled nodes as live
        (it ignores a node silent for 15 s)."""
        now = int(time.time() * 1000)
        self.command("ZADD", "chat:nodes", *[item for node in nodes for item in (now, node)])

    def deadletter_before(self, page):
        """The id the page before `page` ends with: what the page's own next link carries."""
        entries = self.command("XREVRANGE", "chat:stream:deadletter", "+", "-", "COUNT", (page - 1) * PAGE_SIZE)
        return entries[-1][0].decode()


def cpu_seconds(pid):
    """User + system time of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """CPU time the whole machine spent busy (all but idle and iowait), from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    times = os.times()
    return times.user + times.system


def percentile(sorted_values, fraction):
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


class Console:
    def __init__(self, name, url, facts, redis_port, password_file):
        self.name = name
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port
        with open(facts) as source:
            self.facts = json.load(source)
        self.redis = Redis(int(redis_port))
        self.redis_pid = int(re.search(r"process_id:(\d+)", self.redis.info("server")).group(1))
        with open(password_file) as source:
            self.password = source.read().strip()
        self.connection = None
        self.cookie = None
        self.pid = None

    def connect(self):
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.connection.connect()
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The console's process: the one listening on our port's peer end.
        self.pid = listener_pid(self.port)

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            # The console closed the keep-alive connection: once more on a new one.
            self.connect()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.connect()
        return response, data

    def login(self, admin):
        body = json.dumps({"username": admin, "password": self.password})
        response, data = self.request("POST", "/api/login", body=body)
        reply = json.loads(data)
        if response.status != 200 or reply.get("msg") != "ok":
            sys.exit(f"{self.name}: POST /api/login answered {response.status} {data[:300]!r}")
        cookies = [value.split(";", 1)[0] for key, value in response.getheaders() if key.lower() == "set-cookie"]
        session = [cookie for cookie in cookies if cookie.startswith("console_session=")]
        if not session:
            sys.exit(f"{self.name}: POST /api/login set no console_session cookie ({cookies})")
        self.cookie = session[0]


def listener_pid(port):
    """The pid of the process listening on 127.0.0.1:port (from /proc/net/tcp and the fds)."""
    inode = None
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                inode = fields[9]
    if inode is None:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return int(pid)
        except OSError:
            continue
    return None


def last_page(count, size=PAGE_SIZE):
    return max(1, (count + size - 1) // size)


def routes(facts, css, before):
    """(name, path, check) for every page and its JSON twin; check(text) -> None or a problem."""
    q = urllib.parse.quote
    users, groups, complaints = facts["users"], facts["groups"], facts["complaints"]
    uid, gid, cid, big = facts["user_id"], facts["group_id"], facts["complaint_id"], facts["big_group_id"]

    def has(*needles):
        return lambda text: next((f"no {needle!r}" for needle in needles if needle not in text), None)

    def rows(attribute, least):
        def check(text):
            found = text.count(attribute if '"' in attribute else attribute + "=")
            return None if found >= least else f"{found} {attribute} rows, expected at least {least}"
        return check

    any_row = lambda attribute: rows(attribute, 1)

    def listed_json(least=1, key="list"):
        def check(text):
            found = len(json.loads(text)["data"][key])
            return None if found >= least else f"{found} rows in data.{key}, expected at least {least}"
        return check

    def listed_id(wanted):
        def check(text):
            ids = [row.get("id") for row in json.loads(text)["data"]["list"]]
            return None if wanted in ids else f"no id {wanted} in data.list ({ids[:5]}…)"
        return check

    def dashboard_json(nodes):
        def check(text):
            found = json.dumps(json.loads(text)["data"]).count("bench-node-")
            return None if found >= nodes else f"{found} of the {nodes} live nodes"
        return check

    def row_id(wanted):
        def check(text):
            found = json.loads(text)["data"].get("id")
            return None if found == wanted else f"data.id {found}, expected {wanted}"
        return check

    nickname, broad_name, broad_nick = facts["nickname_prefix_narrow"], facts["username_prefix_broad"], facts["nickname_prefix_broad"]
    members = facts["big_group_members"]
    listed = [
        ("dashboard", "/", "", rows('class="node"', len(facts["nodes"])), dashboard_json(len(facts["nodes"]))),
        ("users", "/users", "", rows("data-user-id", PAGE_SIZE), listed_json(PAGE_SIZE)),
        ("users, middle page", "/users", f"page={last_page(users) // 2}", rows("data-user-id", PAGE_SIZE),
         listed_json(PAGE_SIZE)),
        ("users, last page", "/users", f"page={last_page(users)}", any_row("data-user-id"), listed_json()),
        ("users, q=id", "/users", f"q={uid}", has(f'data-user-id="{uid}"'), listed_id(uid)),
        ("users, q=username prefix (broad)", "/users", f"q={broad_name}", rows("data-user-id", PAGE_SIZE),
         listed_json(PAGE_SIZE)),
        ("users, q=username prefix (narrow)", "/users", f"q={facts['username_prefix_narrow']}",
         any_row("data-user-id"), listed_json()),
        ("users, q=nickname prefix 张 (broad)", "/users", f"q={q(broad_nick)}", rows("data-user-id", PAGE_SIZE),
         listed_json(PAGE_SIZE)),
        ("users, q=nickname (narrow)", "/users", f"q={q(nickname)}", has(f'data-user-id="{uid}"'), listed_id(uid)),
        ("users, q=no match", "/users", "q=nosuchname", None, None),
        ("user", f"/users/{uid}", "", has(nickname), row_id(uid)),
        ("complaints", "/complaints", "", rows("data-complaint-id", PAGE_SIZE), listed_json(PAGE_SIZE)),
        ("complaints, last page", "/complaints", f"page={last_page(complaints)}", any_row("data-complaint-id"),
         listed_json()),
        ("complaints, status=0", "/complaints", "status=0", any_row("data-complaint-id"), listed_json()),
        ("complaints, status=3, last page", "/complaints",
         f"status=3&page={last_page(facts['complaints_by_status'][3])}", any_row("data-complaint-id"), listed_json()),
        ("complaint", f"/complaints/{cid}", "", has("complaint-content"), row_id(cid)),
        ("groups", "/groups", "", rows("data-group-id", PAGE_SIZE), listed_json(PAGE_SIZE)),
        ("groups, last page", "/groups", f"page={last_page(groups)}", any_row("data-group-id"), listed_json()),
        ("groups, q=id", "/groups", f"q={gid}", has(f'data-group-id="{gid}"'), listed_id(gid)),
        (f"group of {members}", f"/groups/{big}", "", rows("data-user-id", members),
         listed_json(members, "member_list")),
        ("dead letters", "/deadletters", "", rows("data-entry-id", PAGE_SIZE), listed_json(PAGE_SIZE)),
        ("dead letters, last page", "/deadletters", f"page={last_page(facts['deadletters'])}", any_row("data-entry-id"),
         listed_json()),
        ("dead letters, last page by cursor", "/deadletters",
         f"page={last_page(facts['deadletters'])}&before={q(before)}", any_row("data-entry-id"), listed_json()),
        ("audit", "/audit", "", rows("data-audit-id", PAGE_SIZE), listed_json(PAGE_SIZE)),
        ("audit, last page", "/audit", f"page={last_page(facts['audit'])}", any_row("data-audit-id"), listed_json()),
    ]
    out = [("floor: /healthz", "/healthz", None, "floor")]
    if css:
        out.append(("floor: " + css, css, None, "floor"))
    for name, path, query, html_check, json_check in listed:
        suffix = "?" + query if query else ""
        out.append((name, path + suffix, html_check, "html"))
        api = "/api/dashboard" if path == "/" else "/api" + path
        out.append((name, api + suffix, json_check, "json"))
    return out


def checked(kind, check, response, data):
    """None when the answer is what the page must be, else the problem."""
    if response.status != 200:
        return f"HTTP {response.status}"
    text = data.decode("utf-8", "replace")
    if kind == "json":
        try:
            reply = json.loads(text)
        except ValueError:
            return "not JSON"
        if reply.get("msg") != "ok":
            return f"reply {text[:200]}"
    elif kind == "html" and 'id="admin-name"' not in text:
        return "not a page of a logged-in admin (no #admin-name)"
    return check(text) if check else None


def measure(consoles, specs, kind, warmup, count):
    """Per console: (sorted latencies in ms, problem or None, CPU s, Redis calls by command).
    specs: console name -> (path, check), each console's own page of the route."""
    problems = {}
    for console in consoles:
        console.redis.heartbeat(console.facts["nodes"])
        path, check = specs[console.name]
        for _ in range(warmup):
            response, data = console.request("GET", path)
            problems.setdefault(console.name, checked(kind, check, response, data))
    before = {c.name: (c.redis.commandstats(), cpu_seconds(c.pid)) for c in consoles}
    ours = [pid for c in consoles for pid in (c.pid, c.redis_pid)]
    machine_before, ours_before, started = machine_busy_seconds(), own_cpu_seconds() + sum(map(cpu_seconds, ours)), time.perf_counter()
    latencies = {c.name: [] for c in consoles}
    for _ in range(count):
        for console in consoles:
            path = specs[console.name][0]
            start = time.perf_counter()
            response, data = console.request("GET", path)
            latencies[console.name].append((time.perf_counter() - start) * 1000)
            if response.status != 200 and not problems.get(console.name):
                problems[console.name] = f"HTTP {response.status}"
    # Other work on the machine in the window, in cores: what disturbed the figures.
    other = ((machine_busy_seconds() - machine_before) - (own_cpu_seconds() + sum(map(cpu_seconds, ours)) - ours_before)) \
        / (time.perf_counter() - started)
    results = {"other": max(0.0, other)}
    for console in consoles:
        calls_before, cpu_before = before[console.name]
        calls = console.redis.commandstats()
        delta = {name: calls[name] - calls_before.get(name, 0) for name in calls}
        # INFO itself is counted once per snapshot.
        delta["info"] = delta.get("info", 0) - 1
        delta = {name: value for name, value in delta.items() if value > 0}
        results[console.name] = (sorted(latencies[console.name]), problems.get(console.name),
                                 cpu_seconds(console.pid) - cpu_before, delta)
    return results


def calls_text(delta, count):
    total = sum(delta.values()) / count
    top = sorted(delta.items(), key=lambda item: (-item[1], item[0]))[:6]
    parts = " ".join(f"{name}×{value / count:.3g}" for name, value in top)
    return f"{total:.3g}", parts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--console", nargs=5, action="append", required=True,
                        metavar=("NAME", "URL", "FACTS", "REDIS_PORT", "PASSWORD_FILE"),
                        help="the first is the measured data set, the others its baselines")
    parser.add_argument("--admin", default="bench")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--only", default="", help="only routes whose name contains this")
    args = parser.parse_args()

    consoles = [Console(*spec) for spec in args.console]
    for console in consoles:
        console.connect()
        if console.pid is None:
            sys.exit(f"{console.name}: no process listens on port {console.port}")
        console.login(args.admin)
    # The CSS file the pages link to (one small local file under /static/).
    response, data = consoles[0].request("GET", "/")
    match = re.search(rb'<link[^>]+href="(/static/[^"]+\.css)"', data)
    css = match.group(1).decode() if match else None

    big = consoles[0]
    table = []
    failed = []
    before = {c.name: c.redis.deadletter_before(last_page(c.facts["deadletters"])) for c in consoles}
    own_routes = {c.name: {(n, k): (p, chk) for n, p, chk, k in routes(c.facts, css, before[c.name])} for c in consoles}
    for name, path, check, kind in routes(big.facts, css, before[big.name]):
        if args.only and args.only not in name and kind != "floor":
            continue
        # The same route in each data set: ids and last pages differ, so each its own path.
        specs = {c.name: own_routes[c.name][(name, kind)] for c in consoles}
        results = measure(consoles, specs, kind, args.warmup, args.requests)
        table.append((name, kind, specs, results))
        line = " ".join(f"{c.name}: p50 {percentile(results[c.name][0], 0.5):.2f} ms" for c in consoles)
        print(f"  {kind:5} {name}: {line}", file=sys.stderr)

    floor = min(percentile(results[big.name][0], 0.5) for name, kind, _, results in table if kind == "floor")
    print(f"\ntiming: {args.requests} requests per route and data set after {args.warmup} "
          f"warm-up, one keep-alive connection, sequential; bar: p99 < {BAR_MS:.0f} ms")
    for console in consoles:
        facts = console.facts
        print(f"  {console.name}: {facts['users']} users, {facts['groups']} groups "
              f"({facts['member_rows']} member rows), {facts['complaints']} complaints, "
              f"{facts['deadletters']} dead letters")
    others = consoles[1:]
    header = (f"{'route':<36} {'kind':<5} {'p50':>7} {'p99':>7} {'max':>7} {'×floor':>7} "
              + "".join(f"{'×' + c.name:>9}" for c in others)
              + f" {'cpu ms':>7} {'other':>6} {'redis':>6}  {'verdict':<7} commands per request")
    print("\n" + header)
    print("-" * len(header))
    for name, kind, specs, results in table:
        latencies, problem, cpu, delta = results[big.name]
        p50, p99, top = percentile(latencies, 0.5), percentile(latencies, 0.99), latencies[-1]
        ratios = "".join(
            f"{p50 / percentile(results[c.name][0], 0.5):>9.2f}" for c in others)
        total, parts = calls_text(delta, args.requests)
        scans = SCANS & set(delta)
        verdict = "pass"
        if problem:
            verdict = "FAIL"
            failed.append(f"{kind} {specs[big.name][0]}: {problem}")
        for console in others:
            if results[console.name][1]:
                failed.append(f"{console.name}: {kind} {specs[console.name][0]}: {results[console.name][1]}")
        if kind != "floor" and p99 >= BAR_MS:
            verdict = "SLOW"
            failed.append(f"{kind} {specs[big.name][0]}: p99 {p99:.1f} ms")
        if scans:
            failed.append(f"{kind} {specs[big.name][0]}: scans ({', '.join(sorted(scans))})")
            verdict = "SCAN"
        print(f"{name[:36]:<36} {kind:<5} {p50:>7.2f} {p99:>7.2f} {top:>7.2f} {p50 / floor:>7.1f}{ratios} "
              f"{cpu * 1000 / args.requests:>7.2f} {results['other']:>6.2f} {total:>6}  {verdict:<7} {parts}")
    print(f"\nfloor (the cheapest answer, p50): {floor:.2f} ms; ×{others[0].name if others else ''}: "
          "p50 in the measured set / p50 in the baseline set (the same route)"
          if others else f"\nfloor: {floor:.2f} ms")
    print("cpu ms: the console's CPU time per request; other: cores busy with other work on the machine "
          "in the route's window (not the consoles, Redis or this client); redis: Redis commands per request "
          "(scripts' commands included), from INFO commandstats")
    if failed:
        print("\nproblems:")
        for problem in failed:
            print("  " + problem)
        sys.exit(1)


if __name__ == "__main__":
    main()
