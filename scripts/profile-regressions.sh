#!/usr/bin/env bash
# Flamegraphs for every benchmark a check called regressed, for whoever has to find the cause:
#   scripts/profile-regressions.sh [verdicts, default target/compare/check.json] [seconds]
# `costs regressed` reads the verdicts `costs compare --json` or `costs check --json` wrote,
# `costs which` names the bench holding each one, and scripts/flamegraph.sh profiles just it.
set -euo pipefail
cd "$(dirname "$0")/.."
verdicts=${1:-target/compare/check.json}
seconds=${2:-5}
cargo build --release --locked --quiet --bin costs
costs=target/release/costs

ids=$("$costs" regressed "$verdicts")
if [ -z "$ids" ]; then
  echo "no regressed benchmark in $verdicts: nothing to profile"
  exit 0
fi
for id in $ids; do
  bench=$("$costs" which "$id") || { echo "profile-regressions: no bench holds $id; skipped" >&2; continue; }
  scripts/flamegraph.sh "$bench" "^${id}\$" "$seconds"
done
