#!/usr/bin/env bash
# Independent reference figures for the kernel-level benches, to compare with
# `cargo bench --bench context_switch --bench fork --bench thread_spawn --bench syscall`:
#   - perf bench sched pipe (Debian package linux-perf; without it these rows are skipped
#     and the install command printed, or installed with --install-perf), pinned with
#     taskset; perf reports per round trip, this prints per one-way hop too;
#   - scripts/reference/kernel_costs.c, the same operations in a few lines of C.
# Usage: scripts/reference.sh [--install-perf]
set -euo pipefail
cd "$(dirname "$0")/.."

have_perf() { perf bench sched pipe -l 1 >/dev/null 2>&1; }
if ! have_perf && [ "${1:-}" = "--install-perf" ]; then
  echo "installing linux-perf: apt-get install linux-perf" >&2
  apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null
fi

out=target/reference
mkdir -p "$out"
cc -O2 -pthread -o "$out/kernel_costs" scripts/reference/kernel_costs.c

loops=200000
perf_pipe() { # $1 label, rest: taskset CPU list and perf flags
  local label=$1; shift
  local cpus=$1; shift
  local usecs
  usecs=$(taskset -c "$cpus" perf bench sched pipe -l "$loops" "$@" 2>/dev/null | awk '/usecs\/op/ {print $1}')
  awk -v l="$label" -v u="$usecs" 'BEGIN { printf "%-44s %12.1f ns per hop (%s us per round trip)\n", l, u * 500, u }'
}

echo "== perf bench sched pipe ($loops round trips; one round trip = two hops)"
if ! have_perf; then
  echo "skipped: perf is not installed (Debian: apt-get install linux-perf, or rerun with --install-perf)"
else
  perf_pipe "perf: processes, one CPU (taskset -c 0)" 0
  perf_pipe "perf: threads, one CPU (taskset -c 0 -T)" 0 -T
  if [ "$(nproc)" -ge 2 ]; then
    perf_pipe "perf: processes, two CPUs (taskset -c 0,1)" 0,1
    perf_pipe "perf: threads, two CPUs (taskset -c 0,1 -T)" 0,1 -T
  else
    echo "skipped two-CPU runs: this machine has one CPU"
  fi
fi
echo
echo "== scripts/reference/kernel_costs.c (per operation)"
"$out/kernel_costs"
# The fork rows in a fresh process: its parent holds the heap it names and little else.
"$out/kernel_costs" fork
