#!/usr/bin/env bash
# Runs the whole suite: scripts/bench.sh [--quick] [FILTER]
#   --quick  fewer samples per benchmark (a few minutes in all)
# Results: target/criterion/ (Criterion's report), target/costs/ (latency percentiles).
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
if [ "${1:-}" = "--quick" ]; then args+=(--quick); shift; fi
cargo bench -- "${args[@]}" "$@"
