#!/usr/bin/env bash
# Records this machine's baseline from several full runs of the suite, so that the regression
# check can learn each benchmark's noise: scripts/update-baseline.sh [RUNS, default 3]
# Run it on a quiet machine: every run is merged into baselines/<machine>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
for i in $(seq 1 "$runs"); do
  echo "== run $i of $runs" >&2
  cargo bench -- --noplot
  cargo run --release --quiet --bin costs -- record
done
