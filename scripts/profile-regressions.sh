#!/usr/bin/env bash
# Flamegraphs for every benchmark a check called regressed, for whoever has to find the cause:
#   scripts/profile-regressions.sh [verdicts, default target/compare/check.json] [seconds]
# Reads the verdicts `costs compare --json` or `costs check --json` wrote, finds each regressed benchmark's bench file
# by its group name, and profiles just that benchmark with scripts/flamegraph.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
table=${1:-target/compare/check.json}
seconds=${2:-5}
[ -r "$table" ] || { echo "profile-regressions: no check table at $table; run scripts/compare-commits.sh or scripts/check.sh first" >&2; exit 2; }

ids=$(scripts/regressed-ids.sh "$table")
if [ -z "$ids" ]; then
  echo "no regressed benchmark in $table: nothing to profile"
  exit 0
fi
for id in $ids; do
  group=${id%%/*}
  bench=$(grep -l "\"$group\"" benches/*.rs | head -1 || true)
  if [ -z "$bench" ]; then
    echo "profile-regressions: no bench file defines group $group (of $id); skipped" >&2
    continue
  fi
  scripts/flamegraph.sh "$(basename "$bench" .rs)" "^${id}\$" "$seconds"
done
