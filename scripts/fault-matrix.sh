#!/usr/bin/env bash
# The fault matrix: the quick suite, `costs footprint` and `costs c10k --connections 1000`
# under each limit a user's machine or container can impose, and two faults (a stuck
# partner, an interrupt). For every row it records how each command ended, how long it took,
# what was skipped, and what was left behind: processes, zombies or threads still counted in
# the row's pids cgroup, temporary files, JSON that no longer parses, git worktrees.
#
# Needs root and the cgroup-v1 pids and memory controllers (as on this project's machines);
# a row whose condition cannot be set up here is reported as not run, with the reason. Every
# setting changed (a sysctl, transparent huge pages) is restored on exit.
#
# Usage: scripts/fault-matrix.sh [ROW...]      (default: every row)
# Rows: baseline one_cpu fds_256 fds_1024 pids_300 memory_512m no_io_uring thp_always
#       stuck_partner interrupted
# Prints a Markdown table; each command's output is kept in target/fault-matrix/<row>/.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=(baseline one_cpu fds_256 fds_1024 pids_300 memory_512m no_io_uring thp_always stuck_partner interrupted)
[ $# -gt 0 ] && ROWS=("$@")

SUITE_ARGS=(--warm-up-time 0.05 --measurement-time 0.1 --sample-size 10 --noplot)
SUITE_LIMIT=1800 # seconds; the quick suite takes under a minute on 2 vCPUs
TOOL_LIMIT=300
OUT=target/fault-matrix
PIDS_ROOT=/sys/fs/cgroup/pids
MEMORY_ROOT=/sys/fs/cgroup/memory
GROUP=costs-fault-matrix

die() { echo "fault-matrix: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (cgroups, sysctl)"
[ -d "$PIDS_ROOT" ] || die "needs the cgroup-v1 pids controller at $PIDS_ROOT"

echo "building..." >&2
cargo bench --no-run -q >&2
cargo build --release -q --bin costs >&2
COSTS=$PWD/target/release/costs
worktrees_before=$(git worktree list | wc -l)

# Restored on every exit path: the settings a row changes and the cgroups it made.
restore=()
cleanup() {
  local r
  for r in "${restore[@]}"; do eval "$r" || true; done
  rmdir "$PIDS_ROOT/$GROUP" "$MEMORY_ROOT/$GROUP" 2>/dev/null || true
}
trap cleanup EXIT

# Runs "$@" inside this row's cgroups, under a bound; prints "exit seconds".
# The pids cgroup is how leftovers are found: once the command ends it must count nothing.
bounded() {
  local limit=$1 log=$2; shift 2
  local start=$SECONDS rc=0
  timeout --verbose -k 10 "$limit" bash -c '
    echo $$ > "'"$PIDS_ROOT/$GROUP"'/cgroup.procs"
    if [ -d "'"$MEMORY_ROOT/$GROUP"'" ]; then echo $$ > "'"$MEMORY_ROOT/$GROUP"'/cgroup.procs"; fi
    exec "$@"' bash "$@" > "$log.out" 2> "$log.err" || rc=$?
  if grep -q '^timeout: sending signal' "$log.err"; then rc=timeout; fi
  echo "$rc $((SECONDS - start))"
}

# What is still counted in the row's pids cgroup once its commands have ended (after a
# moment for the kernel to finish reaping), killed afterwards so the next row starts clean.
leftovers() {
  local i pids
  for i in $(seq 50); do
    [ "$(cat "$PIDS_ROOT/$GROUP/pids.current")" = 0 ] && { echo none; return; }
    sleep 0.1
  done
  pids=$(tr '\n' ' ' < "$PIDS_ROOT/$GROUP/cgroup.procs")
  echo "$(cat "$PIDS_ROOT/$GROUP/pids.current") tasks: $(ps -o pid=,stat=,comm= -p "${pids// /,}" 2>/dev/null | tr -s ' ' | paste -sd ';')"
  kill -9 $pids 2>/dev/null || true
}

# Temporary files left by an interrupted write, and JSON results that no longer parse.
broken_files() {
  local dir=$1 found=()
  while IFS= read -r f; do found+=("tmp:${f##*/}"); done < <(find "$dir" -name '.*.tmp' 2>/dev/null)
  if command -v python3 >/dev/null; then
    while IFS= read -r f; do
      python3 -m json.tool "$f" >/dev/null 2>&1 || found+=("unparsable:${f##*/}")
    done < <(find "$dir/costs" -name '*.json' 2>/dev/null)
  fi
  [ ${#found[@]} = 0 ] && echo none || echo "${found[*]}"
}

# Sets up the condition of row $1 and sets PREFIX to the command that applies it to a command;
# fails with the reason on stderr where this machine cannot set it up.
setup() {
  PREFIX=""
  case $1 in
    baseline | stuck_partner | interrupted) ;;
    one_cpu) PREFIX="taskset -c 0" ;;
    fds_256) PREFIX="prlimit --nofile=256:256" ;;
    fds_1024) PREFIX="prlimit --nofile=1024:1024" ;;
    pids_300) echo 300 > "$PIDS_ROOT/$GROUP/pids.max" ;;
    memory_512m)
      [ -d "$MEMORY_ROOT" ] || { echo "no cgroup-v1 memory controller" >&2; return 1; }
      mkdir -p "$MEMORY_ROOT/$GROUP"
      echo $((512 << 20)) > "$MEMORY_ROOT/$GROUP/memory.limit_in_bytes"
      ;;
    no_io_uring)
      local f=/proc/sys/kernel/io_uring_disabled old
      [ -w $f ] || { echo "kernel.io_uring_disabled is not settable here" >&2; return 1; }
      old=$(cat $f)
      restore+=("echo $old > $f")
      echo 2 > $f
      ;;
    thp_always)
      local f=/sys/kernel/mm/transparent_hugepage/enabled old
      [ -w $f ] || { echo "transparent huge pages are not settable here" >&2; return 1; }
      old=$(sed 's/.*\[\(.*\)\].*/\1/' $f)
      restore+=("echo $old > $f")
      echo always > $f
      ;;
    *) echo "unknown row $1" >&2; return 1 ;;
  esac
}

teardown() {
  echo max > "$PIDS_ROOT/$GROUP/pids.max"
  rmdir "$MEMORY_ROOT/$GROUP" 2>/dev/null || true
  local r
  for r in "${restore[@]}"; do eval "$r" || true; done
  restore=()
}

# The skipped variants a suite run printed: how many, and each distinct reason (shortened).
skips() {
  local n reasons
  n=$(grep -c '^skipped ' "$1" || true)
  reasons=$(grep '^skipped ' "$1" | sed 's/^skipped [^:]*: //; s/[0-9][0-9]*/N/g' | cut -c1-48 |
    sort | uniq -c | sort -rn | awk '{c=$1; $1=""; printf "%s%d×%s", (NR>1?"; ":""), c, $0}')
  [ "$n" = 0 ] && echo 0 || echo "$n: $reasons"
}

# A stuck partner: a process_pipe partner stopped mid-measurement; the watchdog must end it.
stuck_partner() {
  local log=$1 bench child i
  COSTS_WATCHDOG_SECS=15 CRITERION_HOME=$OUT/criterion COSTS_DIR=$OUT/costs \
    bounded 300 "$log" cargo bench -q --bench context_switch -- \
    --warm-up-time 1 --measurement-time 60 process_pipe/same_core &
  local runner=$!
  for i in $(seq 100); do
    bench=$(pgrep -f 'deps/context_switch-.*process_pipe' | head -1 || true)
    child=${bench:+$(pgrep -P "$bench" | head -1 || true)}
    [ -n "$child" ] && break
    sleep 0.2
  done
  sleep 3
  [ -n "$child" ] && kill -STOP "$child" && echo "stopped $child" >> "$log.note"
  wait $runner
}

# Ctrl-C as a terminal sends it: to the whole process group of the command, mid-run. The
# command leads a session of its own: the process of the row's cgroup whose session is its
# own pid.
interrupted() {
  local log=$1 after=$2 leader="" p; shift 2
  bounded 300 "$log" setsid --wait "$@" &
  local runner=$!
  sleep "$after"
  for p in $(cat "$PIDS_ROOT/$GROUP/cgroup.procs"); do
    [ "$(ps -o sid= -p "$p" | tr -d ' ')" = "$p" ] && leader=$p
  done
  [ -n "$leader" ] && kill -INT -- "-$leader" 2>/dev/null
  wait $runner
}

mkdir -p "$PIDS_ROOT/$GROUP" "$OUT"
echo "| condition | suite: exit, s, skipped | footprint: exit, s | c10k 1000: exit, s | left behind |"
echo "|---|---|---|---|---|"
for row in "${ROWS[@]}"; do
  dir=$OUT/$row
  rm -rf "$dir" "$OUT/criterion" "$OUT/costs"
  mkdir -p "$dir"
  if ! setup "$row" 2> "$dir/setup.err"; then
    echo "| $row | not run: $(cat "$dir/setup.err") | | | |"
    teardown
    continue
  fi
  export CRITERION_HOME=$OUT/criterion COSTS_DIR=$OUT/costs
  case $row in
    stuck_partner)
      read -r rc s <<< "$(stuck_partner "$dir/suite" | tail -1)"
      why=$(grep -m1 '^watchdog:' "$dir/suite.err" | cut -c1-90 || echo "no watchdog line")
      suite="$rc, $s, $(cat "$dir/suite.note" 2>/dev/null || echo 'no partner found to stop'); $why"
      foot="-"; c10k="-"
      ;;
    interrupted)
      read -r rc s <<< "$(interrupted "$dir/suite" 20 cargo bench -q -- "${SUITE_ARGS[@]}" | tail -1)"
      suite="$rc, $s, SIGINT after 20 s"
      foot="-"
      read -r rc s <<< "$(interrupted "$dir/c10k" 3 "$COSTS" c10k --connections 1000 --io-ms 1000 | tail -1)"
      c10k="$rc, $s, SIGINT after 3 s"
      ;;
    *)
      read -r rc s <<< "$(bounded $SUITE_LIMIT "$dir/suite" $PREFIX cargo bench -q -- "${SUITE_ARGS[@]}")"
      suite="$rc, $s, $(skips "$dir/suite.err")"
      read -r rc s <<< "$(bounded $TOOL_LIMIT "$dir/footprint" $PREFIX "$COSTS" footprint)"
      foot="$rc, $s"
      read -r rc s <<< "$(bounded $TOOL_LIMIT "$dir/c10k" $PREFIX "$COSTS" c10k --connections 1000)"
      c10k="$rc, $s"
      ;;
  esac
  left="processes: $(leftovers); files: $(broken_files "$OUT")"
  echo "| $row | $suite | $foot | $c10k | $left |"
  teardown
done
worktrees_after=$(git worktree list | wc -l)
[ "$worktrees_after" = "$worktrees_before" ] || echo "git worktrees left: $((worktrees_after - worktrees_before))"
