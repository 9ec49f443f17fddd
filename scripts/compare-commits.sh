#!/usr/bin/env bash
# Compares the working tree (the head) with another commit (the base) on this machine:
#   scripts/compare-commits.sh BASE [--filter REGEX] [--budget-min N] [--simulate-slowdown PCT]
#                                   [other `costs compare` options]
# Exit 0: no regression; 1: regression; 2: bad input. Verdicts in target/compare/check.md
# (a job summary) and target/compare/check.json, unless --markdown or --json name other files;
# the pairs behind them in pairs.json.
#
# Both sides are built in one worktree (target/compare/tree) and one target directory
# (target/compare/tree-target, kept so the next build is incremental), the base first, then
# the head, committed as a snapshot of the working tree (untracked files included): a
# build's path goes into its symbols and code layout, and two builds of the same source at
# two paths differed by 5% on a 10 ns benchmark. `costs compare` then measures every
# benchmark of both builds in short processes, paired and interleaved (see `costs compare
# --help` and docs/regression-gate.md).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/compare-commits.sh BASE [costs compare options]" >&2; exit 2; }
given=$1
shift
base=$(git rev-parse --quiet --verify "$given^{commit}") \
  || { echo "compare-commits: $given is not a commit here; fetch it or name another" >&2; exit 2; }

# The head: the working tree as a commit of its own, or HEAD itself when they do not differ.
index=$(mktemp)
trap 'rm -f "$index"' EXIT
GIT_INDEX_FILE=$index git read-tree HEAD
GIT_INDEX_FILE=$index git add -A
tree=$(GIT_INDEX_FILE=$index git write-tree)
if [ "$tree" = "$(git rev-parse 'HEAD^{tree}')" ]; then
  head=$(git rev-parse HEAD)
else
  head=$(git commit-tree "$tree" -p HEAD -m "compare-commits: working tree")
fi

worktree=target/compare/tree
mkdir -p target/compare
git worktree remove --force "$worktree" 2>/dev/null || rm -rf "$worktree"
git worktree prune
git worktree add --quiet --detach "$worktree" "$base"
trap 'rm -f "$index"; git worktree remove --force "$worktree" 2>/dev/null || true' EXIT

cargo build --release --locked --quiet --bin costs
costs=target/release/costs
"$costs" compare --collect "$worktree" --into target/compare/base-bin
git -C "$worktree" checkout --quiet --detach "$head"
"$costs" compare --collect "$worktree" --into target/compare/head-bin
"$costs" compare --base-bin target/compare/base-bin --head-bin target/compare/head-bin \
  --markdown target/compare/check.md --json target/compare/check.json "$@"
