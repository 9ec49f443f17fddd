#!/usr/bin/env bash
# The benchmarks a check called regressed, one ID a line:
#   scripts/regressed-ids.sh [verdicts, default target/compare/check.json]
# Reads the JSON that `costs compare --json` and `costs check --json` write (one key a line).
set -euo pipefail
verdicts=${1:-target/compare/check.json}
[ -r "$verdicts" ] || { echo "regressed-ids: no verdicts at $verdicts; run a check first" >&2; exit 2; }
sed -n '/"id": /{s/.*"id": "\(.*\)",/\1/;h;}; /"verdict": "regressed"/{g;p;}' "$verdicts"
