#!/usr/bin/env bash
# `make bench-wakeup`: what waking a sleeping thread costs on this machine, the reason
# `make bench-chat` asks for idle CPUs that wake at once (CPU_WAKEUP_LATENCY). Two threads
# pass a byte back and forth (Benchmarks/WakeupPingPong): on one CPU (the baseline), across
# two CPUs as the machine is, and across two CPUs while a PM QoS request for 0 µs wake-up
# latency is held (/dev/cpu_dma_latency; root). Medians of ROUNDS; microseconds a round trip.
#
#   ROUNDS=5 TRIPS=50000 make bench-wakeup
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ROUNDS=${ROUNDS:-5}
TRIPS=${TRIPS:-50000}
for name in ROUNDS TRIPS; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
done
command -v cc >/dev/null 2>&1 || ensure_debian_packages gcc libc6-dev

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-wakeup.XXXXXX")
CPU_LATENCY_HOLDER=''
cleanup() {
    [ -n "$CPU_LATENCY_HOLDER" ] && stop_pid "$CPU_LATENCY_HOLDER"
    rm -rf "$TMP"
}
install_traps cleanup
cc -O2 -pthread -o "$TMP/pingpong" Benchmarks/WakeupPingPong/pingpong.c

mapfile -t CPUS < <(allowed_cpus)
[ "${#CPUS[@]}" -ge 2 ] || die "two CPUs are needed (this script may use ${#CPUS[@]})"
A=${CPUS[0]} B=${CPUS[1]}

measure() { # CPU CPU: the median round trip of ROUNDS runs
    local i
    for i in $(seq "$ROUNDS"); do "$TMP/pingpong" "$1" "$2" "$TRIPS"; done | median
}

same=$(measure "$A" "$A")
across=$(measure "$A" "$B")
held=n/a
if hold_cpu_wakeup_latency 0; then
    sleep 0.2
    held=$(measure "$A" "$B")
    stop_pid "$CPU_LATENCY_HOLDER"
    CPU_LATENCY_HOLDER=''
fi

printf '\nwake-up round trips (two wake-ups each), %s × %s trips, median µs:\n' "$ROUNDS" "$TRIPS"
row() { printf '  %-40s %8s%s\n' "$@"; }
row "one CPU ($A):" "$same" ''
row "across CPUs $A and $B:" "$across" "   ($(ratio "$across" "$same") × one CPU)"
if [ "$held" != n/a ]; then
    row 'across, idle CPUs polling (PM QoS 0):' "$held" "   ($(ratio "$held" "$same") × one CPU)"
fi
