#!/usr/bin/env bash
# Measures everything the claims report reads, then writes the report and this host's file:
#   scripts/claims.sh [--quick] [--skip-bench] [--publish]
# --quick runs the benches with fewer samples; --skip-bench keeps Criterion's latest results.
# Writes target/costs/claims.md and target/costs/ladder.svg and prints the table; writes this
# host's results file into results/hosts/ and every host side by side into docs/hosts.md
# (adding a host: run this, commit the new file and the page). --publish writes the report
# and ladder as the project machine's committed ones instead (docs/claims.md, docs/ladder.svg)
# and rewrites the README's table.
set -euo pipefail
cd "$(dirname "$0")/.."
bench_flags=(--noplot)
run_bench=1
publish=0
for arg in "$@"; do
  case "$arg" in
    --quick) bench_flags+=(--quick) ;;
    --skip-bench) run_bench=0 ;;
    --publish) publish=1 ;;
    *) echo "usage: scripts/claims.sh [--quick] [--skip-bench] [--publish]" >&2; exit 2 ;;
  esac
done
cargo build --release --bin costs
costs=target/release/costs
if [[ $run_bench == 1 ]]; then
  cargo bench -- "${bench_flags[@]}"
fi
# A step that falls short (a partial run) is reported and the rest still run.
status=0
step() { "$@" || { echo "scripts/claims.sh: '$*' fell short (exit $?)" >&2; status=1; }; }
step "$costs" footprint
# The documents' tables: 10,000 clients with 10 ms of I/O (C30, C33, C06, C13, C14, C23),
# 5,000 with 50 ms (C32), and 10,000 CPU-bound requests inline and offloaded (C22, C31).
step "$costs" c10k
step "$costs" c10k --connections 5000 --io-ms 50
step "$costs" c10k --cpu-work
step "$costs" c10k --cpu-work --placement pool
reports=(--markdown target/costs/claims.md --svg target/costs/ladder.svg)
if [[ $publish == 1 ]]; then
  reports=(--markdown docs/claims.md --svg docs/ladder.svg --readme README.md)
fi
"$costs" claims "${reports[@]}" --host-results results/hosts
"$costs" hosts
exit "$status"
