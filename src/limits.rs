//! What a benchmark needs from this machine beyond CPUs — descriptors, threads, memory — and
//! the limits a container or an older kernel sets on them that a laptop does not: the
//! open-file limit, the kernel's and the user's thread limits, and a cgroup's `pids.max` and
//! memory limit (v1 and v2). A variant that does not fit is skipped with the limit named,
//! before it starts, instead of dying halfway (or being killed by the OOM killer unexplained).

use crate::skip::Skip;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use std::path::{Path, PathBuf};

/// Descriptors a process keeps for itself beyond a benchmark's own (stdio, Criterion's files,
/// an epoll instance), so a set is only built when it fits with this margin to spare.
const FD_MARGIN: u64 = 64;

/// Threads a benchmark process runs beyond a variant's own (runtimes kept alive, the
/// watchdog), and that the rest of the machine may start meanwhile.
const THREAD_MARGIN: u64 = 64;

/// Raises the soft open-file limit to the hard one: every bench binary does, so that no
/// variant fails on a soft limit (1,024 on many systems) that it could have raised itself.
pub fn raise_fd_soft_limit() {
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
    {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}

/// Raises the soft open-file limit for as long as it lives, then restores it.
pub struct FdLimit {
    previous_soft: u64,
    hard: u64,
}

impl FdLimit {
    /// Makes room for `fds` more descriptors, or says why this machine cannot.
    pub fn raise_for(fds: u64) -> Result<FdLimit, Skip> {
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
            .map_err(|e| Skip(format!("cannot read the open-file limit: {e}")))?;
        let needed = fds + FD_MARGIN;
        if needed > hard {
            return Err(Skip(format!(
                "needs {needed} open files, the hard limit here is {hard} (ulimit -Hn) and \
                 cannot be raised"
            )));
        }
        if needed > soft {
            setrlimit(Resource::RLIMIT_NOFILE, needed, hard)
                .map_err(|e| Skip(format!("cannot raise the open-file limit: {e}")))?;
        }
        Ok(FdLimit {
            previous_soft: soft,
            hard,
        })
    }
}

impl Drop for FdLimit {
    fn drop(&mut self) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, self.previous_soft, self.hard);
    }
}

/// `Ok` when `threads` more threads can start now, or the limit that stops them.
pub fn room_for_threads(threads: u64) -> Result<(), Skip> {
    let needed = threads + THREAD_MARGIN;
    match thread_room().into_iter().find(|(_, room)| *room < needed) {
        Some((limit, room)) => Err(Skip(format!(
            "needs {needed} more threads, {limit} leaves room for {room}"
        ))),
        None => Ok(()),
    }
}

/// Every limit on new threads and the room it leaves now.
fn thread_room() -> Vec<(String, u64)> {
    let mut rooms = Vec::new();
    let running = threads_on_machine();
    for (name, path) in [
        ("kernel.threads-max", "/proc/sys/kernel/threads-max"),
        ("kernel.pid_max", "/proc/sys/kernel/pid_max"),
    ] {
        if let (Some(limit), Some(running)) = (read_number(Path::new(path)), running) {
            rooms.push((name.to_string(), limit.saturating_sub(running)));
        }
    }
    // Root is not held to RLIMIT_NPROC; anyone else is, counted over all their threads,
    // which the machine's total bounds from above.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0
        && let (Ok((soft, _)), Some(running)) = (getrlimit(Resource::RLIMIT_NPROC), running)
        && soft != libc::RLIM_INFINITY
    {
        rooms.push(("ulimit -u".to_string(), soft.saturating_sub(running)));
    }
    if let Some((dir, room)) = cgroup_room("pids", "pids.max", "pids.current", "pids.max") {
        rooms.push((format!("the cgroup's pids.max ({})", dir.display()), room));
    }
    rooms
}

/// Threads running on the whole machine (the fourth field of `/proc/loadavg`: running/total).
fn threads_on_machine() -> Option<u64> {
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    loadavg
        .split_whitespace()
        .nth(3)?
        .split('/')
        .nth(1)?
        .parse()
        .ok()
}

/// Bytes of memory this process can still take: the smaller of the machine's `MemAvailable`
/// and what its cgroup's memory limit leaves.
pub fn available_memory() -> Option<u64> {
    let machine = mem_available();
    let cgroup = cgroup_room(
        "memory",
        "memory.limit_in_bytes",
        "memory.usage_in_bytes",
        "memory.max",
    )
    .map(|(_, room)| room);
    match (machine, cgroup) {
        (Some(m), Some(c)) => Some(m.min(c)),
        (m, c) => m.or(c),
    }
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn mem_available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The tightest room any cgroup of this process leaves under `controller`, walking from its
/// own cgroup up to the hierarchy's root: limit minus current use, and where it is set.
/// `v1_limit`/`v1_current` name the files of a cgroup-v1 hierarchy, `v2_limit` the unified
/// one's (whose current use is `<controller>.current`).
fn cgroup_room(
    controller: &str,
    v1_limit: &str,
    v1_current: &str,
    v2_limit: &str,
) -> Option<(PathBuf, u64)> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let files = [v1_limit, v1_current, v2_limit];
    cgroup_room_in(Path::new("/sys/fs/cgroup"), &membership, controller, files)
}

/// [`cgroup_room`] for hierarchies mounted under `base`, membership as `/proc/self/cgroup`
/// lists it.
fn cgroup_room_in(
    base: &Path,
    membership: &str,
    controller: &str,
    [v1_limit, v1_current, v2_limit]: [&str; 3],
) -> Option<(PathBuf, u64)> {
    let v2_current = format!("{controller}.current");
    let mut tightest: Option<(PathBuf, u64)> = None;
    for (root, path, limit_file, current_file) in hierarchies(base, membership, controller)
        .into_iter()
        .map(|(root, path, v2)| match v2 {
            false => (root, path, v1_limit, v1_current),
            true => (root, path, v2_limit, v2_current.as_str()),
        })
    {
        for dir in own_and_ancestors(&root, &path) {
            let Some(limit) = read_number(&dir.join(limit_file)) else {
                continue;
            };
            let current = read_number(&dir.join(current_file)).unwrap_or(0);
            let room = limit.saturating_sub(current);
            if tightest.as_ref().is_none_or(|(_, r)| room < *r) {
                tightest = Some((dir, room));
            }
        }
    }
    tightest
}

/// The mounted hierarchies that hold `controller` for this process, from the lines of
/// `/proc/self/cgroup`: (mount point, cgroup path, whether it is the unified v2 one).
fn hierarchies(base: &Path, membership: &str, controller: &str) -> Vec<(PathBuf, String, bool)> {
    let mut found = Vec::new();
    for line in membership.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            // Unified: at the base itself (v2 only) or under `unified` (hybrid).
            for root in [base.to_path_buf(), base.join("unified")] {
                let enabled = std::fs::read_to_string(root.join("cgroup.controllers"))
                    .is_ok_and(|c| c.split_whitespace().any(|c| c == controller));
                if enabled {
                    found.push((root, path.to_string(), true));
                }
            }
        } else if controllers.split(',').any(|c| c == controller) {
            found.push((base.join(controller), path.to_string(), false));
        }
    }
    found
}

/// `root/path` and each of its parents up to `root` that exist. A container that hides the
/// host's cgroup names mounts its own cgroup as `root`: then only `root` exists.
fn own_and_ancestors(root: &Path, path: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut relative = PathBuf::from(path.trim_start_matches('/'));
    loop {
        let dir = root.join(&relative);
        if dir.is_dir() {
            dirs.push(dir);
        }
        if !relative.pop() {
            break;
        }
    }
    dirs
}

/// A number in a file, or `None` for "max" (no limit) and for anything unreadable.
fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: PathBuf, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_tightest_cgroup_limit_on_the_way_up_is_the_room_left() {
        let base = std::env::temp_dir().join(format!("costs-cgroups-{}", std::process::id()));
        // v1: no limit on the process's own group, 100 tasks on its parent with 40 running.
        write(base.join("pids/a/b/pids.max"), "max\n");
        write(base.join("pids/a/b/pids.current"), "3\n");
        write(base.join("pids/a/pids.max"), "100\n");
        write(base.join("pids/a/pids.current"), "40\n");
        // v2 (hybrid, under `unified`): 1,000 bytes allowed, 300 used.
        write(base.join("unified/cgroup.controllers"), "memory pids\n");
        write(base.join("unified/x/memory.max"), "1000\n");
        write(base.join("unified/x/memory.current"), "300\n");
        let membership = "8:pids:/a/b\n4:memory:/a\n0::/x\n";
        let pids = ["pids.max", "pids.current", "pids.max"];
        assert_eq!(
            cgroup_room_in(&base, membership, "pids", pids),
            Some((base.join("pids/a"), 60))
        );
        let memory = [
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
            "memory.max",
        ];
        assert_eq!(
            cgroup_room_in(&base, membership, "memory", memory),
            Some((base.join("unified/x"), 700))
        );
        assert_eq!(cgroup_room_in(&base, membership, "cpu", pids), None);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn own_and_ancestors_lists_what_exists_from_the_leaf_up() {
        let root = std::env::temp_dir().join(format!("costs-cgroup-{}", std::process::id()));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        let dirs = own_and_ancestors(&root, "/a/b");
        assert_eq!(dirs, [root.join("a/b"), root.join("a"), root.clone()]);
        // A path the container hides: only the mount point itself exists.
        assert_eq!(
            own_and_ancestors(&root, "/host/slice"),
            std::slice::from_ref(&root)
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_impossible_thread_count_is_refused_with_the_limit_named() {
        let why = room_for_threads(u64::MAX / 2).unwrap_err();
        assert!(why.0.contains("threads"), "{why}");
        assert!(room_for_threads(1).is_ok());
        let skip = FdLimit::raise_for(u64::MAX / 2).err().unwrap();
        assert!(skip.0.contains("hard limit"), "{skip}");
    }
}
