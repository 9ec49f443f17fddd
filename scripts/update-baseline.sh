#!/usr/bin/env bash
# Records this machine's baseline from several runs of the suite at the current commit:
#   scripts/update-baseline.sh [RUNS, default 5]
# Every run goes into a fresh Criterion directory and is recorded into baselines/<machine>.json;
# then the counts of the same commit go into baselines/<machine>.counts.json (`costs record
# --counts`), which a later build is gated against without building this commit again.
# A baseline holds runs of one commit: recording at a new commit starts a new set, and
# `costs check` needs 5 runs of it. BENCH_ARGS as for scripts/check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[[ "$runs" =~ ^[0-9]+$ ]] || { echo "update-baseline: RUNS must be a number, not $runs" >&2; exit 2; }
read -r -a bench_args <<< "${BENCH_ARGS:---warm-up-time 0.05 --measurement-time 0.15 --sample-size 10 --nresamples 1000 --noplot}"
cargo build --release --locked --quiet --bin costs
for i in $(seq 1 "$runs"); do
  echo "== run $i of $runs" >&2
  dir=target/baseline-runs/run-$i
  rm -rf "$dir"
  CRITERION_HOME=$dir COSTS_DIR=target/baseline-runs/costs cargo bench --locked -- "${bench_args[@]}" >&2
  target/release/costs record --criterion-dir "$dir"
done
echo "== counts" >&2
target/release/costs record --counts
