//! Child processes that a benchmark starts: reaping within a bound, tying a child's life to
//! its parent, and giving a forked child only the file descriptors it needs.

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// How long a partner process may take to exit after its input closes before it is killed.
pub const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Waits for `child` to exit, killing it if it has not within `limit`. The child is always
/// reaped when this returns, so it never lingers as a zombie.
pub fn reap_within(child: Pid, limit: Duration) -> io::Result<WaitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Ok(WaitStatus::StillAlive) => {
                let _ = kill(child, Signal::SIGKILL);
                let status = waitpid(child, None).map_err(io::Error::from)?;
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("child {child} did not exit within {limit:?}; killed ({status:?})"),
                ));
            }
            Ok(status) => return Ok(status),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// `Ok` when the child exited normally with status 0.
pub fn expect_success(status: WaitStatus) -> io::Result<()> {
    match status {
        WaitStatus::Exited(_, 0) => Ok(()),
        other => Err(io::Error::other(format!(
            "child did not succeed: {other:?}"
        ))),
    }
}

/// In a freshly forked child: have the kernel kill it if the parent dies, so a crashed
/// benchmark never leaves a partner behind. Async-signal-safe.
pub fn die_with_parent(parent: Pid) {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    if nix::unistd::getppid() != parent {
        // The parent died before the prctl took effect.
        // SAFETY: _exit is async-signal-safe and never returns.
        unsafe { libc::_exit(1) };
    }
}

/// In a freshly forked child: close every descriptor above stderr except `keep`. Without
/// this, a child would hold copies of other partners' pipe ends and keep them from closing.
/// Async-signal-safe (one `close_range(2)` per gap).
pub fn close_fds_except(keep: &[RawFd; 2]) {
    close_fds_except_with(keep, close_range);
}

fn close_range(first: u32, last: u32) -> bool {
    // SAFETY: close_range only closes descriptors; those we keep are outside the range.
    unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) == 0 }
}

fn close_fds_except_with(keep: &[RawFd; 2], close_range: impl Fn(u32, u32) -> bool) {
    let (low, high) = (keep[0].min(keep[1]) as u32, keep[0].max(keep[1]) as u32);
    let gaps = [
        (3, low.saturating_sub(1)),
        (low + 1, high.saturating_sub(1)),
        (high + 1, u32::MAX),
    ];
    for (first, last) in gaps {
        let first = first.max(3);
        if first <= last && !close_range(first, last) {
            close_each(first, last);
        }
    }
}

/// Where `close_range` is refused (kernels before 5.9, older seccomp profiles): one close(2)
/// per descriptor that can be open, below the open-file limit. Async-signal-safe.
fn close_each(first: u32, last: u32) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into `limit`.
    let below = match unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } {
        0 => limit.rlim_cur.min(u64::from(u32::MAX)) as u32,
        _ => 1 << 20,
    };
    for fd in first..=last.min(below.saturating_sub(1)) {
        // SAFETY: closing a descriptor the child does not keep; EBADF for one never open.
        unsafe { libc::close(fd as RawFd) };
    }
}

/// In a forked child: lets go of standard input and output (the parent's pipes) and puts
/// /dev/null in their place, so that a descriptor the child opens later (an accepted socket)
/// never lands on 0 or 1, where a stray print would write into it. Async-signal-safe.
pub fn detach_stdin_stdout() {
    // SAFETY: open/dup2/close on descriptors this process owns.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null < 0 {
            libc::close(0);
            libc::close(1);
            return;
        }
        libc::dup2(null, 0);
        libc::dup2(null, 1);
        if null > 1 {
            libc::close(null);
        }
    }
}

/// Whether `pid` no longer exists at all (exited *and* reaped; a zombie still exists).
pub fn is_gone(pid: Pid) -> bool {
    kill(pid, None) == Err(Errno::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::{ForkResult, fork};
    use std::os::fd::{AsRawFd, OwnedFd};

    #[test]
    fn a_child_that_hangs_is_killed_and_reaped() {
        // SAFETY: the child only calls async-signal-safe functions.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => loop {
                unsafe { libc::pause() };
            },
            ForkResult::Parent { child } => {
                let err = reap_within(child, Duration::from_millis(50)).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::TimedOut);
                assert!(is_gone(child));
            }
        }
    }

    /// own): whether `keep` survive and every other descriptor above stderr is closed.
    fn child_closes_all_but_kept(close_range: fn(u32, u32) -> bool) -> bool {
        let pipes: Vec<(OwnedFd, OwnedFd)> = (0..4).map(|_| nix::unistd::pipe().unwrap()).collect();
        let keep = [pipes[1].0.as_raw_fd(), pipes[2].1.as_raw_fd()];
        let others: Vec<RawFd> = pipes
            .iter()
            .flat_map(|(r, w)| [r.as_raw_fd(), w.as_raw_fd()])
            .filter(|fd| !keep.contains(fd))
            .collect();
        // SAFETY: the child only calls async-signal-safe functions.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                close_fds_except_with(&keep, close_range);
                // SAFETY: fcntl(F_GETFD) only reads the descriptor's flags.
                let open = |fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1;
                let right = keep.iter().all(|&fd| open(fd)) && others.iter().all(|&fd| !open(fd));
                unsafe { libc::_exit(if right { 0 } else { 1 }) }
            }
            ForkResult::Parent { child } => {
                expect_success(reap_within(child, EXIT_GRACE).unwrap()).is_ok()
            }
        }
    }

    #[test]
    fn a_child_keeps_only_its_own_descriptors_with_or_without_close_range() {
        assert!(child_closes_all_but_kept(close_range), "with close_range");
        let refused = |_: u32, _: u32| false;
        assert!(child_closes_all_but_kept(refused), "close_range refused");
    }

    #[test]
    fn a_detached_child_opens_nothing_on_stdin_or_stdout() {
        // SAFETY: the child only calls async-signal-safe functions.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                detach_stdin_stdout();
                // SAFETY: a descriptor the child opens and checks, then _exit.
                let fd = unsafe { libc::eventfd(0, 0) };
                unsafe { libc::_exit(if fd > 2 { 0 } else { 1 }) }
            }
            ForkResult::Parent { child } => {
                let status = reap_within(child, EXIT_GRACE).unwrap();
                assert!(
                    expect_success(status).is_ok(),
                    "a new descriptor took 0 or 1"
                );
            }
        }
    }

    #[test]
    fn a_clean_exit_is_success_and_a_failure_is_not() {
        for code in [0, 3] {
            // SAFETY: the child only calls _exit.
            match unsafe { fork() }.unwrap() {
                ForkResult::Child => unsafe { libc::_exit(code) },
                ForkResult::Parent { child } => {
                    let status = reap_within(child, EXIT_GRACE).unwrap();
                    assert_eq!(expect_success(status).is_ok(), code == 0);
                    assert!(is_gone(child));
                }
            }
        }
    }
}
