#!/usr/bin/env bash
# Runs the suite and compares it with this machine's stored baseline:
#   scripts/check.sh [--quick] [extra `costs check` options]
# Exit 0: no regression; 1: a regression confirmed by re-running it twice; 2: bad input.
# The table is also written to target/costs/check.md (for a job summary).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
if [ "${1:-}" = "--quick" ]; then quick+=(--quick); shift; fi
cargo bench -- --noplot "${quick[@]}"
mkdir -p target/costs
cargo run --release --quiet --bin costs -- check --confirm 2 \
  --rerun "cargo bench -- --noplot ${quick[*]}" --markdown target/costs/check.md "$@"
