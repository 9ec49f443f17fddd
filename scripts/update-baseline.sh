#!/usr/bin/env bash
# Records this machine's baseline from several runs of the suite at the current commit:
#   scripts/update-baseline.sh [RUNS, default 5]
# Every run goes into a fresh Criterion directory and is recorded into baselines/<machine>.json
# (`costs record --run-suite`); then the counts of the same commit go into
# baselines/<machine>.counts.json (`costs record --counts`), which a later build is gated
# against without building this commit again. A baseline holds runs of one commit: recording
# at a new commit starts a new set, and `costs check` needs 5 runs of it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[[ "$runs" =~ ^[0-9]+$ ]] || { echo "update-baseline: RUNS must be a number, not $runs" >&2; exit 2; }
cargo build --release --locked --quiet --bin costs
target/release/costs record --run-suite "$runs"
echo "== counts" >&2
target/release/costs record --counts
