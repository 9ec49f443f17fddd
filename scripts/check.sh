#!/usr/bin/env bash
# Runs the suite and judges it against this machine's stored baseline (stored-baseline mode):
#   scripts/check.sh [ROUNDS, default 3] [`costs check` options]
# Exit 0: no regression; 1: regression; 2: bad input (also: a benchmark of the baseline that
# this run did not produce). Verdicts in target/check/check.md and target/check/check.json.
# Each round is a pass of the suite into a fresh Criterion directory (`costs check
# --run-suite`), measured as the baseline's runs were.
#
# The nightly gate instead compares the working tree, paired and interleaved as for a pull
# request, with the commit this machine's baseline was recorded from:
#   scripts/check.sh --paired [`costs compare` options]
# Same exit statuses; verdicts in target/compare/check.md and check.json. Stored runs judge
# tonight's host against the recording's, and the host moves benchmarks by more than their
# own noise between occasions (docs/regression-gate.md); pairs seconds apart cancel that.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet --bin costs
if [ "${1:-}" = --paired ]; then
  shift
  exec scripts/compare-commits.sh "$(target/release/costs check --print-commit)" "$@"
fi
rounds=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
mkdir -p target/check
exec target/release/costs check --run-suite "$rounds" \
  --markdown target/check/check.md --json target/check/check.json "$@"
