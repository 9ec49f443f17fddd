#!/usr/bin/env bash
# The benchmarks a check table calls regressed, one ID a line:
#   scripts/regressed-ids.sh [check table, default target/costs/check.md]
# The one place that reads the table `costs check --markdown` writes.
set -euo pipefail
table=${1:-target/costs/check.md}
[ -r "$table" ] || { echo "regressed-ids: no check table at $table; run a check first" >&2; exit 2; }
sed -n 's/^| `\([^`]*\)` | \*\*REGRESSED\*\* |.*/\1/p' "$table"
