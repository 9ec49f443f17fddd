#!/usr/bin/env bash
# Compares the working tree (the head) with another commit (the base) on this machine:
#   scripts/compare-commits.sh BASE [--filter REGEX] [--budget-min N] [--simulate-slowdown PCT]
#                                   [other `costs compare` options]
# Exit 0: no regression; 1: regression; 2: bad input. Verdicts in target/compare/check.md
# (a job summary) and target/compare/check.json; the pairs behind them in pairs.json.
#
# The base is checked out in a worktree of its own and built into target/compare/base-target,
# kept between runs so the next build is incremental. `costs compare` then measures every
# benchmark of both builds in short processes, paired and interleaved (see `costs compare
# --help` and docs/regression-gate.md).
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/compare-commits.sh BASE [costs compare options]}
shift
git rev-parse --quiet --verify "$base^{commit}" >/dev/null \
  || { echo "compare-commits: $base is not a commit here; fetch it or name another" >&2; exit 2; }

worktree=target/compare/base-worktree
mkdir -p target/compare
git worktree remove --force "$worktree" 2>/dev/null || rm -rf "$worktree"
git worktree prune
git worktree add --quiet --detach "$worktree" "$base"
trap 'git worktree remove --force "$worktree" 2>/dev/null || true' EXIT

cargo build --release --locked --quiet --bin costs
target/release/costs compare --base-tree "$worktree" \
  --markdown target/compare/check.md --json target/compare/check.json "$@"
