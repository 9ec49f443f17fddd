//! Partners that stay alive across Criterion iterations and pass a token around: a ring of
//! threads over any [`Link`], and a forked process over pipes. The calling thread is member 0
//! of the ring and times whole laps from its own side.
//!
//! One hop is one one-way hand-off; a two-member ring is a ping-pong, where a round trip is
//! two hops. Benchmarks report time per hop.

use crate::batch::scaled;
use crate::link::{Link, Pipe, PipeReceiver, PipeSender, TokenReceiver, TokenSender, forward};
use crate::placement::{CpuPlan, PinGuard, pin_current_thread, set_thread_affinity};
use crate::process::{EXIT_GRACE, close_fds_except, die_with_parent, expect_success, reap_within};
use crate::rusage::{Scope, Switches, switches};
use nix::unistd::{ForkResult, Pid, fork, getpid};
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Stack for ring member threads: they run one small loop, and a thousand of them should not
/// cost gigabytes of address space.
const MEMBER_STACK: usize = 128 * 1024;

/// How long member threads may take to start, or to stop once their input closes.
const MEMBER_GRACE: Duration = Duration::from_secs(10);

/// A partner that hands a token back and forth with the calling thread.
pub trait Partner {
    /// Drives at least `hops` one-way hand-offs from the calling thread and returns the time
    /// per `hops`: whole laps are run and the elapsed time is scaled to the hops asked for.
    fn time_hops(&mut self, hops: u64) -> io::Result<Duration>;
    /// Stops the partner, waits for every thread or process of it, and says what happened.
    fn finish(self) -> io::Result<ExchangeReport>;
}

/// What a partner really did over its life: the evidence behind a timing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeReport {
    /// Members in the ring, the driving thread included.
    pub members: usize,
    /// Full laps the driver completed; each is `members` hops.
    pub laps: u64,
    /// Tokens each non-driving member forwarded.
    pub forwarded: Vec<u64>,
    /// Context switches of the ring's threads or processes during its life.
    pub switches: Switches,
}

impl ExchangeReport {
    pub fn hops(&self) -> u64 {
        self.laps * self.members as u64
    }

    /// Every member forwarded exactly one token per lap: no token lost or invented.
    pub fn is_complete(&self) -> bool {
        self.forwarded.len() + 1 == self.members && self.forwarded.iter().all(|&f| f == self.laps)
    }

    /// Context switches of either kind per hop: about 1 when every hand-off switched.
    pub fn switches_per_hop(&self) -> f64 {
        self.switches.total() as f64 / self.hops().max(1) as f64
    }

    /// Times per lap some member blocked: at least 1 when the ring really waited in the kernel.
    pub fn blocks_per_lap(&self) -> f64 {
        self.switches.voluntary as f64 / self.laps.max(1) as f64
    }
}

impl fmt::Display for ExchangeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} hops, {}; {:.2} context switches per hop ({:.2} voluntary)",
            self.hops(),
            if self.is_complete() {
                "every token accounted for"
            } else {
                "TOKENS LOST"
            },
            self.switches_per_hop(),
            self.switches.voluntary as f64 / self.hops().max(1) as f64,
        )
    }
}

/// Runs enough whole laps of `members` hops to cover `hops`, timing them as one batch, and
/// returns the time scaled to `hops` with the number of laps run.
fn time_laps(
    members: usize,
    hops: u64,
    mut lap: impl FnMut() -> io::Result<()>,
) -> io::Result<(Duration, u64)> {
    let laps = hops.div_ceil(members as u64);
    let start = Instant::now();
    for _ in 0..laps {
        lap()?;
    }
    Ok((scaled(start.elapsed(), hops, laps * members as u64), laps))
}

fn pin_driver(plan: &CpuPlan) -> io::Result<Option<PinGuard>> {
    plan.cpu_for(0).map(pin_current_thread).transpose()
}

fn broken(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, what.to_string())
}

/// A ring of threads, each forwarding the token to the next over `L`.
pub struct ThreadRing<L: Link> {
    members: usize,
    to_next: Option<L::Sender>,
    from_last: L::Receiver,
    threads: Vec<JoinHandle<io::Result<(u64, Switches)>>>,
    exited: crossbeam_channel::Receiver<()>,
    laps: u64,
    switches_at_start: Switches,
    _pin: Option<PinGuard>,
}

/// Tells the ring a member thread has ended, even if it panicked.
struct ExitSignal(crossbeam_channel::Sender<()>);

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

impl<L: Link> ThreadRing<L> {
    /// Starts `members - 1` threads placed by `plan`; the calling thread is member 0 and is
    /// pinned by `plan` until the ring is finished or dropped.
    pub fn spawn(members: usize, plan: &CpuPlan) -> io::Result<Self> {
        assert!(members >= 2, "a ring needs at least two members");
        // Counted per thread, the ring's own: the process's count would take in whatever
        // else runs in it (other tests, the harness).
        let switches_at_start = switches(Scope::Thread);
        let (to_next, mut prev_rx) = L::open()?;
        let (ready_tx, ready_rx) = crossbeam_channel::unbounded();
        let (exited_tx, exited) = crossbeam_channel::unbounded();
        let mut threads = Vec::with_capacity(members - 1);
        for index in 1..members {
            let (tx, next_rx) = L::open()?;
            let rx = std::mem::replace(&mut prev_rx, next_rx);
            let cpu = plan.cpu_for(index);
            let ready = ready_tx.clone();
            let exit_signal = ExitSignal(exited_tx.clone());
            let thread = std::thread::Builder::new()
                .name(format!("ring-{index}"))
                .stack_size(MEMBER_STACK)
                .spawn(move || {
                    let _exit_signal = exit_signal;
                    let (mut rx, mut tx) = (rx, tx);
                    let pinned = cpu.map(set_thread_affinity).transpose();
                    let _ = ready.send(());
                    pinned?;
                    let before = switches(Scope::Thread);
                    let forwarded = forward(&mut rx, &mut tx)?;
                    Ok((forwarded, switches(Scope::Thread) - before))
                })?;
            threads.push(thread);
        }
        let mut ring = ThreadRing {
            members,
            to_next: Some(to_next),
            from_last: prev_rx,
            threads,
            exited,
            laps: 0,
            switches_at_start,
            _pin: None,
        };
        // Pinned only once the ring exists, so that on failure its Drop stops every member.
        ring._pin = pin_driver(plan)?;
        for _ in 1..members {
            ready_rx.recv_timeout(MEMBER_GRACE).map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, "ring members did not start")
            })?;
        }
        Ok(ring)
    }

    fn lap(to_next: &mut Option<L::Sender>, from_last: &mut L::Receiver) -> io::Result<()> {
        to_next
            .as_mut()
            .ok_or_else(|| broken("ring closed"))?
            .pass()?;
        if from_last.take()? {
            Ok(())
        } else {
            Err(broken("a ring member stopped"))
        }
    }

    /// Closes the ring and waits, within a bound, for every member thread: what each
    /// forwarded and its own context switches.
    fn stop(&mut self) -> io::Result<Vec<(u64, Switches)>> {
        self.to_next = None;
        let deadline = Instant::now() + MEMBER_GRACE;
        for _ in 0..self.threads.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            self.exited.recv_timeout(left).map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, "ring members did not stop")
            })?;
        }
        self.threads
            .drain(..)
            .map(|t| {
                t.join()
                    .map_err(|_| io::Error::other("a ring member panicked"))?
            })
            .collect()
    }
}

impl<L: Link> Partner for ThreadRing<L> {
    fn time_hops(&mut self, hops: u64) -> io::Result<Duration> {
        let (to_next, from_last) = (&mut self.to_next, &mut self.from_last);
        let (elapsed, laps) = time_laps(self.members, hops, || Self::lap(to_next, from_last))?;
        self.laps += laps;
        Ok(elapsed)
    }

    /// Called on the thread that spawned and drove the ring: its switches are counted there.
    fn finish(mut self) -> io::Result<ExchangeReport> {
        let driver = switches(Scope::Thread) - self.switches_at_start;
        let members = self.stop()?;
        Ok(ExchangeReport {
            members: self.members,
            laps: self.laps,
            forwarded: members.iter().map(|(forwarded, _)| *forwarded).collect(),
            switches: members.iter().fold(driver, |all, (_, own)| all + *own),
        })
    }
}

impl<L: Link> Drop for ThreadRing<L> {
    fn drop(&mut self) {
        if !self.threads.is_empty()
            && let Err(e) = self.stop()
        {
            eprintln!("warning: thread ring did not shut down cleanly: {e}");
        }
    }
}

/// A forked child that echoes the token back over a pair of pipes: the process ping-pong.
pub struct ProcessPingPong {
    child: Option<Pid>,
    to_child: Option<PipeSender>,
    from_child: PipeReceiver,
    laps: u64,
    switches_at_start: Switches,
    _pin: Option<PinGuard>,
}

/// What the child writes back when its input closes: tokens forwarded, then its voluntary and
/// involuntary context switches, as little-endian u64s.
const CHILD_REPORT_LEN: usize = 24;

impl ProcessPingPong {
    /// Forks the partner, placed by `plan` (the calling thread is pinned as member 0).
    pub fn spawn(plan: &CpuPlan) -> io::Result<Self> {
        let (to_child, mut child_rx) = Pipe::open()?;
        let (mut child_tx, from_child) = Pipe::open()?;
        let parent = getpid();
        let child_cpu = plan.cpu_for(1);
        // SAFETY: the child runs only syscalls (no allocation, no locks) and ends in _exit.
        match unsafe { fork() }.map_err(io::Error::from)? {
            ForkResult::Child => {
                die_with_parent(parent);
                close_fds_except(&[child_rx.raw_fd(), child_tx.raw_fd()]);
                let code = if child_cpu.map(set_thread_affinity).transpose().is_err() {
                    3
                } else {
                    Self::echo(&mut child_rx, &mut child_tx)
                };
                // SAFETY: ends the child without running the parent's destructors.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                let mut partner = ProcessPingPong {
                    child: Some(child),
                    to_child: Some(to_child),
                    from_child,
                    laps: 0,
                    switches_at_start: switches(Scope::Thread),
                    _pin: None,
                };
                // Pinned only once the partner exists, so that on failure Drop reaps the child.
                partner._pin = pin_driver(plan)?;
                Ok(partner)
            }
        }
    }

    /// The child's life: forward tokens until the parent closes, then report and exit.
    fn echo(rx: &mut PipeReceiver, tx: &mut PipeSender) -> i32 {
        let switches_at_start = switches(Scope::Process);
        let Ok(forwarded) = forward(rx, tx) else {
            return 2;
        };
        let used = switches(Scope::Process) - switches_at_start;
        let mut report = [0u8; CHILD_REPORT_LEN];
        for (i, word) in [forwarded, used.voluntary, used.involuntary]
            .iter()
            .enumerate()
        {
            report[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
        }
        if tx.file().write_all(&report).is_ok() {
            0
        } else {
            2
        }
    }

    fn read_child_report(&mut self) -> io::Result<(u64, Switches)> {
        wait_readable(self.from_child.file().as_raw_fd(), EXIT_GRACE)?;
        let mut report = [0u8; CHILD_REPORT_LEN];
        self.from_child.file().read_exact(&mut report)?;
        let word = |i: usize| u64::from_le_bytes(report[i..i + 8].try_into().unwrap());
        let used = Switches {
            voluntary: word(8),
            involuntary: word(16),
        };
        Ok((word(0), used))
    }

    fn stop(&mut self) -> io::Result<(u64, Switches)> {
        self.to_child = None;
        let report = self.read_child_report();
        let child = self.child.take().expect("stopped twice");
        expect_success(reap_within(child, EXIT_GRACE)?)?;
        report
    }

    /// The partner's process ID, while it runs.
    pub fn child(&self) -> Option<Pid> {
        self.child
    }
}

/// Waits until `fd` has data or its writer closed, at most `limit`.
fn wait_readable(fd: i32, limit: Duration) -> io::Result<()> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    match unsafe { libc::poll(&mut pfd, 1, limit.as_millis() as libc::c_int) } {
        1 => Ok(()),
        0 => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "partner sent no report",
        )),
        _ => Err(io::Error::last_os_error()),
    }
}

impl Partner for ProcessPingPong {
    fn time_hops(&mut self, hops: u64) -> io::Result<Duration> {
        let (to_child, from_child) = (&mut self.to_child, &mut self.from_child);
        let (elapsed, laps) = time_laps(2, hops, || {
            to_child.as_mut().ok_or_else(|| broken("closed"))?.pass()?;
            if from_child.take()? {
                Ok(())
            } else {
                Err(broken("the partner process stopped"))
            }
        })?;
        self.laps += laps;
        Ok(elapsed)
    }

    fn finish(mut self) -> io::Result<ExchangeReport> {
        let (forwarded, child_switches) = self.stop()?;
        let own = switches(Scope::Thread) - self.switches_at_start;
        Ok(ExchangeReport {
            members: 2,
            laps: self.laps,
            forwarded: vec![forwarded],
            switches: own + child_switches,
        })
    }
}

impl Drop for ProcessPingPong {
    fn drop(&mut self) {
        if self.child.is_some()
            && let Err(e) = self.stop()
        {
            eprintln!("warning: partner process did not shut down cleanly: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{Channel, Condvar, Futex};
    use crate::placement::Placement;

    fn unpinned() -> CpuPlan {
        Placement::Unpinned.plan().unwrap()
    }

    #[test]
    fn time_laps_runs_whole_laps_and_scales_to_the_hops_asked() {
        let mut laps_run = 0;
        let (_, laps) = time_laps(4, 10, || {
            laps_run += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((laps, laps_run), (3, 3));
        assert_eq!(time_laps(2, 0, || Ok(())).unwrap(), (Duration::ZERO, 0));
    }

    fn exchanges_exactly<L: Link>(members: usize) {
        let mut ring = ThreadRing::<L>::spawn(members, &unpinned()).unwrap();
        ring.time_hops(1000).unwrap();
        ring.time_hops(1).unwrap();
        let report = ring.finish().unwrap();
        let laps = 1000u64.div_ceil(members as u64) + 1;
        assert_eq!(report.laps, laps);
        assert_eq!(report.forwarded, vec![laps; members - 1]);
        assert!(report.is_complete());
    }

    #[test]
    fn rings_of_every_link_kind_exchange_exactly_the_tokens_asked() {
        exchanges_exactly::<Pipe>(2);
        exchanges_exactly::<Pipe>(16);
        exchanges_exactly::<Futex>(2);
        exchanges_exactly::<Futex>(3);
        exchanges_exactly::<Condvar>(3);
        exchanges_exactly::<Channel>(3);
    }

    #[test]
    fn process_ping_pong_exchanges_exactly_and_reaps_its_child() {
        let mut pp = ProcessPingPong::spawn(&unpinned()).unwrap();
        let child = pp.child().unwrap();
        pp.time_hops(500).unwrap();
        let report = pp.finish().unwrap();
        assert_eq!(report.laps, 250);
        assert_eq!(report.forwarded, vec![250]);
        assert!(crate::process::is_gone(child), "child left as a zombie");
    }

    #[test]
    fn same_core_pipe_ring_switches_at_least_once_per_hop() {
        let plan = Placement::SameCore.plan().unwrap();
        std::thread::spawn(move || {
            let mut ring = ThreadRing::<Pipe>::spawn(2, &plan).unwrap();
            ring.time_hops(2000).unwrap();
            let report = ring.finish().unwrap();
            // Every hop switched (a woken partner often preempts the waker: involuntary), and
            // every lap some thread blocked in read (voluntary), so nothing spun.
            assert!(report.switches.total() >= report.hops(), "{report}");
            assert!(report.blocks_per_lap() >= 1.0, "{report}");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn dropping_a_ring_mid_use_stops_every_member() {
        let mut ring = ThreadRing::<Futex>::spawn(8, &unpinned()).unwrap();
        ring.time_hops(80).unwrap();
        drop(ring);
    }
}
