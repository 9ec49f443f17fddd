#!/usr/bin/env bash
# Compares the working tree (the head) with another commit (the base) on this machine:
#   scripts/compare-commits.sh BASE [ROUNDS, default 3] [extra `costs check` options]
# Exit 0: no regression; 1: regression; 2: bad input. Table in target/costs/check.md.
#
# A shared host has slow spells that last minutes and move everything (a thread spawn 2.5x,
# a fork 2x), so measuring the base and then the head compares two spells, not two commits,
# and re-running suspects at once only re-measures the same spell. Here the quick suite of
# the base and of the head alternate, round after round, and the head's runs, as their median
# and their span, are judged against the base's.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/compare-commits.sh BASE [ROUNDS] [costs check options]}
shift
rounds=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi

worktree=target/base-worktree
runs=$PWD/target/compare
rm -rf "$runs" && mkdir -p "$runs" target/costs
git worktree remove --force "$worktree" 2>/dev/null || rm -rf "$worktree"
git worktree add --detach "$worktree" "$base" >&2
trap 'git worktree remove --force "$worktree" 2>/dev/null || true' EXIT

costs() { cargo run --release --quiet --bin costs -- "$@"; }
(cd "$worktree" && cargo bench --no-run >&2)
cargo bench --no-run >&2
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds: base" >&2
  (cd "$worktree" && CRITERION_HOME="$runs/base-criterion" cargo bench -- --quick --noplot >&2)
  costs record --baseline base --baselines-dir "$runs" --criterion-dir "$runs/base-criterion" >&2
  echo "== round $round of $rounds: head" >&2
  CRITERION_HOME="$runs/head-criterion" cargo bench -- --quick --noplot >&2
  costs record --baseline head --baselines-dir "$runs" --criterion-dir "$runs/head-criterion" >&2
done
costs check --baseline base --baselines-dir "$runs" --runs-of head \
  --markdown target/costs/check.md "$@"
