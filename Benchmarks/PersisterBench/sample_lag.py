#!/usr/bin/env python3
"""Prints the `persister` group's lag on chat:stream:messages, in seconds, one line every
INTERVAL seconds until killed, as an operator sees it: `persister status --json` (the age
of the oldest message not yet written; 0 when up to date).

A loop in Python rather than in the shell: one process forked per sample, not three.

usage: sample_lag.py PERSISTER_BIN REDIS_URL INTERVAL
"""
import json
import os
import subprocess
import sys
import time

binary, redis_url, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
environment = dict(os.environ, REDIS_URL=redis_url, LOG_LEVEL="warning")

while True:
    started = time.monotonic()
    result = subprocess.run([binary, "status", "--json"], env=environment, capture_output=True, text=True)
    if result.returncode == 0:
        for stream in json.loads(result.stdout)["streams"]:
            if stream["stream"] == "chat:stream:messages":
                for group in stream["groups"]:
                    if group["name"] == "persister":
                        print(group["lag_seconds"], flush=True)
    time.sleep(max(0.0, interval - (time.monotonic() - started)))
