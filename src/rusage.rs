//! Context-switch counts from `getrusage(2)`: the evidence that a benchmark really switched as
//! often as it claims, rather than spinning.
//!
//! Both kinds matter. When a thread wakes a partner on its own CPU, the scheduler often lets
//! the partner preempt the waker at once: that switch is counted as *involuntary* for the waker,
//! which then finds its reply already there and never blocks. A same-core ping-pong therefore
//! shows about one switch per hop in total, split between the two kinds.

use nix::sys::resource::{UsageWho, getrusage};
use std::ops::Sub;

/// Whose switches to count.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Every thread of this process, including threads that have exited.
    Process,
    /// The calling thread only.
    Thread,
}

/// Context switches counted by the kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Switches {
    /// The thread blocked and gave up the CPU.
    pub voluntary: u64,
    /// The thread was preempted while runnable.
    pub involuntary: u64,
}

impl Switches {
    pub fn total(self) -> u64 {
        self.voluntary + self.involuntary
    }
}

impl Sub for Switches {
    type Output = Switches;
    fn sub(self, earlier: Switches) -> Switches {
        Switches {
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }
}

impl std::ops::Add for Switches {
    type Output = Switches;
    fn add(self, other: Switches) -> Switches {
        Switches {
            voluntary: self.voluntary + other.voluntary,
            involuntary: self.involuntary + other.involuntary,
        }
    }
}

/// Context switches so far. A bare syscall, so it is safe in a freshly forked child.
pub fn switches(scope: Scope) -> Switches {
    let who = match scope {
        Scope::Process => UsageWho::RUSAGE_SELF,
        Scope::Thread => UsageWho::RUSAGE_THREAD,
    };
    getrusage(who)
        .map(|u| Switches {
            voluntary: u.voluntary_context_switches().max(0) as u64,
            involuntary: u.involuntary_context_switches().max(0) as u64,
        })
        .unwrap_or_default()
}

/// CPU time used so far by every thread of this process, to the nanosecond. Work that two
/// threads do in parallel counts twice here, once on a wall clock.
pub fn process_cpu_time() -> std::time::Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time used so far by the calling thread: unlike a wall clock, it stands still while the
/// thread waits for a CPU.
pub fn thread_cpu_time() -> std::time::Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn cpu_clock(clock: libc::clockid_t) -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock ID and a valid out-pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lower bound only: tests running in parallel add their own CPU time to the process.
    /// The work is counted on this thread's own clock, not a wall clock, which on a loaded
    /// machine runs on while the thread waits for a CPU.
    #[test]
    fn cpu_time_counts_at_least_the_work_done() {
        let work = std::time::Duration::from_millis(20);
        let start = process_cpu_time();
        let thread_start = thread_cpu_time();
        while thread_cpu_time() - thread_start < work {
            std::hint::spin_loop();
        }
        let used = process_cpu_time() - start;
        assert!(used >= work, "{used:?}");
    }

    #[test]
    fn sleeping_is_counted_as_a_voluntary_switch() {
        let before = switches(Scope::Thread);
        for _ in 0..3 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!((switches(Scope::Thread) - before).voluntary >= 3);
    }
}
