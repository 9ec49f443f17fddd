//! Partners and spawned children leave nothing behind: no file descriptor, no thread, no
//! child process (not even a zombie). These counts are process-wide, so the tests in this
//! file take turns.

use concurrency_costs::limits::FdLimit;
use concurrency_costs::link::{Channel, Condvar, Futex, Link, Pipe};
use concurrency_costs::placement::Placement;
use concurrency_costs::readiness::ReadySet;
use concurrency_costs::ring::{Partner, ProcessPingPong, ThreadRing};
use concurrency_costs::spawn::{Ballast, Program, fork_exit_wait};
use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, waitpid};
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, PartialEq)]
struct Footprint {
    fds: usize,
    /// Threads a ring started (named `ring-N`); libtest's own threads come and go.
    ring_threads: usize,
}

fn footprint() -> Footprint {
    let ring_threads = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("ring-"))
        .count();
    Footprint {
        fds: std::fs::read_dir("/proc/self/fd").unwrap().count(),
        ring_threads,
    }
}

/// The footprint once it matches `before`, or after a second if it never does. A joined
/// thread can still be listed in /proc/self/task for a moment: `pthread_join` returns when
/// the kernel clears the thread's tid, before it removes the exiting task. A leak stays.
fn footprint_once_settled(before: &Footprint) -> Footprint {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let now = footprint();
        if now == *before || std::time::Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn no_children_left() -> bool {
    waitpid(None, Some(WaitPidFlag::WNOHANG)) == Err(Errno::ECHILD)
}

fn ring_leaves_nothing<L: Link>(members: usize, finish: bool) {
    let before = footprint();
    let mut ring = ThreadRing::<L>::spawn(members, &Placement::Unpinned.plan().unwrap()).unwrap();
    assert_eq!(footprint().ring_threads, members - 1);
    ring.time_hops(100).unwrap();
    if finish {
        assert!(ring.finish().unwrap().is_complete());
    } else {
        drop(ring);
    }
    assert_eq!(footprint_once_settled(&before), before);
}

#[test]
fn thread_rings_close_every_fd_and_join_every_thread() {
    let _turn = take_turn();
    for finish in [true, false] {
        ring_leaves_nothing::<Pipe>(2, finish);
        ring_leaves_nothing::<Pipe>(64, finish);
        ring_leaves_nothing::<Futex>(4, finish);
        ring_leaves_nothing::<Condvar>(4, finish);
        ring_leaves_nothing::<Channel>(4, finish);
    }
}

#[test]
fn process_partner_closes_every_fd_and_is_reaped() {
    let _turn = take_turn();
    for finish in [true, false] {
        let before = footprint();
        let mut partner = ProcessPingPong::spawn(&Placement::Unpinned.plan().unwrap()).unwrap();
        partner.time_hops(100).unwrap();
        if finish {
            assert_eq!(partner.finish().unwrap().forwarded, vec![50]);
        } else {
            drop(partner);
        }
        assert_eq!(footprint_once_settled(&before), before);
        assert!(no_children_left());
    }
}

#[test]
fn spawning_reaps_every_child() {
    let _turn = take_turn();
    let before = footprint();
    let _ballast = Ballast::touched(8 << 20);
    let program = Program::true_binary().unwrap();
    for _ in 0..20 {
        fork_exit_wait().unwrap();
        program.fork_exec_wait().unwrap();
        program.posix_spawn_wait().unwrap();
    }
    assert!(no_children_left());
    assert_eq!(footprint_once_settled(&before), before);
}

#[test]
fn descriptor_sets_close_every_fd_and_the_limit_is_restored() {
    let _turn = take_turn();
    let before = footprint();
    let limit_before = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE);
    {
        let _limit = FdLimit::raise_for(5000).unwrap();
        let mut set = ReadySet::new(5000, 1).unwrap();
        assert_eq!(set.epoll_wait().unwrap(), 1);
        assert_eq!(footprint().fds, before.fds + 5001);
    }
    assert_eq!(footprint_once_settled(&before), before);
    let limit_after = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE);
    assert_eq!(limit_after, limit_before);
}
