#!/usr/bin/env bash
# Compares the working tree (the head) with another commit (the base) on this machine:
#   scripts/compare-commits.sh BASE [--filter REGEX] [--budget-min N] [--simulate-slowdown PCT]
#                                   [other `costs compare` options]
# Exit 0: no regression; 1: regression; 2: bad input. Verdicts in target/compare/check.md
# (a job summary) and target/compare/check.json, unless --markdown or --json name other files;
# the pairs behind them in pairs.json. `costs compare --base BASE` builds both sides and
# measures them (see `costs compare --help` and docs/regression-gate.md).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/compare-commits.sh BASE [costs compare options]" >&2; exit 2; }
base=$1
shift
cargo build --release --locked --quiet --bin costs
exec target/release/costs compare --base "$base" \
  --markdown target/compare/check.md --json target/compare/check.json "$@"
