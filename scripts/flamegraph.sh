#!/usr/bin/env bash
# Flamegraphs for the benchmarks of one bench file that match a filter:
#   scripts/flamegraph.sh <bench> [filter] [seconds, default 5]
# e.g. scripts/flamegraph.sh context_switch thread_pipe
#
# Builds with frame pointers, and pprof walking them, in a target dir of its own: pprof's
# default unwinder can crash on stackful-coroutine stacks, and the flags would otherwise force
# a rebuild of the ordinary target dir. The SVGs still land in target/criterion/<id>/profile/.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${1:?usage: scripts/flamegraph.sh <bench> [filter] [seconds]}
filter=${2:-}
seconds=${3:-5}

export CARGO_TARGET_DIR=target/frame-pointer
export RUSTFLAGS="${RUSTFLAGS:-} -C force-frame-pointers=yes"
export CRITERION_HOME="$PWD/target/criterion"
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT
cargo bench --features frame-pointer --bench "$bench" -- --profile-time "$seconds" ${filter:+"$filter"}
echo "flamegraphs:"
find "$CRITERION_HOME" -name flamegraph.svg -newer "$marker" | sort
