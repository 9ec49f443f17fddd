#!/usr/bin/env bash
# Flamegraphs for the benchmarks of one bench file that match a filter:
#   scripts/flamegraph.sh <bench> [filter] [seconds, default 5]
# e.g. scripts/flamegraph.sh context_switch thread_pipe
#
# Where `perf record` works, each benchmark is profiled by perf, kernel frames included, and
# drawn by `costs flamegraph`: target/criterion/<id>/profile/flamegraph-perf.svg. The run also
# writes pprof's in-process graph, flamegraph.svg, which has no kernel frames: a context
# switch or a fork spends its time where only perf sees it. Without perf, pprof's graphs are
# all there is, and the script says so.
#
# Builds with frame pointers, which both unwinders walk, in a target dir of its own: pprof's
# default unwinder can crash on stackful-coroutine stacks, and the flags would otherwise force
# a rebuild of the ordinary target dir.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/flamegraph.sh <bench> [filter] [seconds]" >&2; exit 2; }
bench=$1
filter=${2:-}
seconds=${3:-5}

cargo build --release --quiet --bin costs
costs=$PWD/target/release/costs
export CARGO_TARGET_DIR=target/frame-pointer
export RUSTFLAGS="${RUSTFLAGS:-} -C force-frame-pointers=yes"
export CRITERION_HOME="$PWD/target/criterion"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

binary=$("$costs" which "$bench" --executable --features frame-pointer 2>/dev/null) ||
  { echo "flamegraph.sh: no bench executable for $bench" >&2; exit 2; }

if perf record -q -e cpu-clock -o "$scratch/probe.data" -- true >/dev/null 2>&1; then
  ids=$("$binary" --bench --list ${filter:+"$filter"} 2>/dev/null | sed -n 's/: benchmark$//p')
  [ -n "$ids" ] || { echo "flamegraph.sh: no benchmark of $bench matches '$filter'" >&2; exit 2; }
  echo "flamegraphs (perf, kernel and user stacks):"
  for id in $ids; do
    dir=$CRITERION_HOME/$id/profile
    mkdir -p "$dir"
    perf record -q -e cpu-clock -F 997 -g -o "$scratch/perf.data" -- \
      "$binary" --bench --profile-time "$seconds" "^${id}\$" >/dev/null 2>"$scratch/run.err" ||
      { echo "flamegraph.sh: $id: the profiled run failed:" >&2; tail -3 "$scratch/run.err" >&2; continue; }
    perf script -i "$scratch/perf.data" 2>/dev/null |
      "$costs" flamegraph -o "$dir/flamegraph-perf.svg" --title "$id (perf: kernel and user stacks)" 2>/dev/null
    echo "$dir/flamegraph-perf.svg"
  done
else
  echo "perf cannot record here (not installed, or kernel.perf_event_paranoid forbids it):" \
    "pprof's in-process graphs only, without kernel frames" >&2
  marker=$scratch/marker
  touch "$marker"
  "$binary" --bench --profile-time "$seconds" ${filter:+"$filter"} >/dev/null
  echo "flamegraphs (pprof, user stacks):"
  find "$CRITERION_HOME" -name flamegraph.svg -newer "$marker" | sort
fi
