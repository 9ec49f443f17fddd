#!/usr/bin/env bash
# Runs the suite and judges it against this machine's stored baseline (stored-baseline mode):
#   scripts/check.sh [ROUNDS, default 3] [`costs check` options]
# Exit 0: no regression; 1: regression; 2: bad input (also: a benchmark of the baseline that
# this run did not produce). Verdicts in target/check/check.md and target/check/check.json.
#
# The nightly gate instead compares the working tree, paired and interleaved as for a pull
# request, with the commit this machine's baseline was recorded from:
#   scripts/check.sh --paired [`costs compare` options]
# Same exit statuses; verdicts in target/compare/check.md and check.json. Stored runs judge
# tonight's host against the recording's, and the host moves benchmarks by more than their
# own noise between occasions (docs/regression-gate.md); pairs seconds apart cancel that.
#
# One run is ROUNDS passes of the suite, each into a fresh Criterion directory, so a slow
# spell of the host lands on one round, not on the verdict, and only results this run
# produced are judged. BENCH_ARGS goes to every pass; it must match what the baseline was
# recorded with (scripts/update-baseline.sh). Its default is a short measurement
# (50 ms of warm-up, 150 ms, 10 samples per benchmark): measured against
# Criterion's --quick on five recorded runs of one commit, the runs' spread was the same
# (median robust sigma 1.8% against 2.1%) and a pass took 44 s instead of ~113 s.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --paired ]; then
  shift
  cargo build --release --locked --quiet --bin costs
  base=$(target/release/costs check --print-commit)
  exec scripts/compare-commits.sh "$base" "$@"
fi
rounds=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
read -r -a bench_args <<< "${BENCH_ARGS:---warm-up-time 0.05 --measurement-time 0.15 --sample-size 10 --nresamples 1000 --noplot}"
cargo build --release --locked --quiet --bin costs
rm -rf target/check && mkdir -p target/check
dirs=()
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds" >&2
  dir=target/check/round-$round
  CRITERION_HOME=$dir COSTS_DIR=target/check/costs cargo bench --locked -- "${bench_args[@]}" >&2
  dirs+=(--criterion-dir "$dir")
done
target/release/costs check "${dirs[@]}" \
  --markdown target/check/check.md --json target/check/check.json "$@"
