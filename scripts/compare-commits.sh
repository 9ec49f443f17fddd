#!/usr/bin/env bash
# Compares the working tree (the head) with another commit (the base) on this machine:
#   scripts/compare-commits.sh BASE [ROUNDS, default 3] [extra `costs check` options]
# Exit 0: no regression; 1: regression; 2: bad input. Table in target/costs/check.md.
# CONFIRM_ROUNDS (default 4) sets how many more rounds the suspects get before the verdict.
#
# A shared host has slow spells that last minutes and move everything (a thread spawn 2.5x,
# a fork 2x), so measuring the base and then the head compares two spells, not two commits,
# and re-running suspects at once only re-measures the same spell. Here the quick suite of
# the base and of the head alternate, round after round, and the head's runs, as their median
# and their span, are judged against the base's. Three runs a side still put every head run
# above every base run for one benchmark in twenty by chance alone, so the suspects then get
# more alternating rounds of their own (cheap: only they run) and are judged on all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/compare-commits.sh BASE [ROUNDS] [costs check options]}
shift
git rev-parse --quiet --verify "$base^{commit}" >/dev/null \
  || { echo "compare-commits: $base is not a commit here; fetch it or name another" >&2; exit 2; }
rounds=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
confirm_rounds=${CONFIRM_ROUNDS:-4}

worktree=target/base-worktree
runs=$PWD/target/compare
rm -rf "$runs" && mkdir -p "$runs" target/costs
git worktree remove --force "$worktree" 2>/dev/null || rm -rf "$worktree"
git worktree add --detach "$worktree" "$base" >&2
trap 'git worktree remove --force "$worktree" 2>/dev/null || true' EXIT

costs() { cargo run --release --quiet --bin costs -- "$@"; }

# One alternating round: the base, then the head, each measured into a Criterion directory
# of its own and appended to its runs. Extra arguments go to Criterion (a filter).
measure_round() {
  local label=$1
  shift
  echo "== $label: base" >&2
  (cd "$worktree" && CRITERION_HOME="$runs/$label/base" cargo bench -- --quick --noplot "$@" >&2)
  costs record --baseline base --baselines-dir "$runs" --criterion-dir "$runs/$label/base" >&2
  echo "== $label: head" >&2
  CRITERION_HOME="$runs/$label/head" cargo bench -- --quick --noplot "$@" >&2
  costs record --baseline head --baselines-dir "$runs" --criterion-dir "$runs/$label/head" >&2
}

judge() {
  costs check --baseline base --baselines-dir "$runs" --runs-of head \
    --markdown target/costs/check.md "$@"
}

# A regex matching exactly the benchmarks the last check called regressed.
suspects_filter() {
  scripts/regressed-ids.sh target/costs/check.md \
    | sed 's/[][\.*^$+?(){}|]/\\&/g; s/.*/^&$/' | paste -sd'|'
}

(cd "$worktree" && cargo bench --no-run >&2)
cargo bench --no-run >&2
for round in $(seq 1 "$rounds"); do
  measure_round "round-$round"
done

status=0
judge "$@" >/dev/null || status=$?
if [ "$status" -eq 1 ] && [ "$confirm_rounds" -gt 0 ]; then
  filter=$(suspects_filter)
  echo "== suspects: $filter" >&2
  for round in $(seq 1 "$confirm_rounds"); do
    measure_round "confirm-$round" "$filter"
  done
fi
judge "$@"
