#!/usr/bin/env python3
"""Waits until the `persister` group has read COUNT entries of chat:stream:messages and
has none pending, or until process PID has exited (status 1).

One connection, one script call every 10 ms: the timed phase is not slowed by the waiting
(a shell loop forking redis-cli, awk and ps took a tenth of the machine's two cores).

usage: wait_drained.py REDIS_PORT COUNT PID
"""
import os
import socket
import sys
import time

port, count, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

# entries-read and pending of the group, as one line
SCRIPT = b"""
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then return tostring(fields['entries-read']) .. ' ' .. tostring(fields['pending']) end
end
return 'none'
"""


def command(*args):
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


connection = socket.create_connection(("127.0.0.1", port))
reader = connection.makefile("rb")
request = command("EVAL", SCRIPT, 1, "chat:stream:messages", "persister")
expected = f"{count} 0"
while True:
    connection.sendall(request)
    header = reader.readline()
    if header.startswith(b"$"):
        line = reader.read(int(header[1:]) + 2)[:-2].decode()
    else:
        line = header.decode().strip()
    if line == expected:
        sys.exit(0)
    if not alive(pid):
        sys.exit(1)
    time.sleep(0.01)
