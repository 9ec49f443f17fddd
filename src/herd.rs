//! The thundering herd (claim C06): N workers blocked on one listening socket, one
//! connection arrives; how many of them wake? Workers wait in `accept` itself (the kernel
//! queues them as exclusive waiters: one wakes), or each in an epoll instance of its own
//! watching the listener, with `EPOLLEXCLUSIVE` (one or a few wake) or without it (every
//! instance wakes: the herd).
//!
//! A wake-up is counted where it happens, in the kernel's per-thread count of voluntary
//! context switches (`/proc/self/task/<tid>/status`): every worker that wakes goes back to
//! sleep once, which is one switch. The count starts once every worker waits, and before
//! each connection every worker is waiting again (asleep, all in the same kernel function
//! where `/proc` names it), so a herd cannot hide in a worker that was elsewhere.

use crate::readiness::check;
use crate::results::Kept;
use serde::{Deserialize, Serialize};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the workers wait for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// Blocked in `accept(2)` on the shared listener.
    Accept,
    /// Each in `epoll_wait` on an epoll instance of its own; `exclusive`: `EPOLLEXCLUSIVE`.
    Epoll { exclusive: bool },
}

impl Waiting {
    pub const ALL: [(&'static str, Waiting); 3] = [
        ("accept", Waiting::Accept),
        ("epoll", Waiting::Epoll { exclusive: false }),
        ("epoll_exclusive", Waiting::Epoll { exclusive: true }),
    ];
}

/// How long anything here may take before it counts as stuck: a connection to be accepted,
/// the workers to be asleep again, the workers to stop.
const BOUND: Duration = Duration::from_secs(5);

/// N workers waiting on one loopback listener, alive across batches of connections.
pub struct Herd {
    addr: SocketAddr,
    listener: TcpListener,
    stop: OwnedFd,
    accepted: Arc<AtomicU64>,
    workers: Vec<(i32, JoinHandle<io::Result<()>>)>,
    connections: u64,
    /// Each worker's voluntary switches once all of them first waited.
    switches_at_start: Vec<u64>,
}

/// What a herd did over its life.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HerdReport {
    pub workers: usize,
    pub connections: u64,
    pub accepted: u64,
    /// Voluntary switches of all workers over the connections: one per wake-up.
    pub wakeups: u64,
}

impl HerdReport {
    pub fn wakeups_per_connection(&self) -> f64 {
        self.wakeups as f64 / self.connections.max(1) as f64
    }
}

/// Every herd benchmark's wake-ups per connection, for the claims report.
pub const HERD: Kept<HerdSummary> = Kept::new("herd.json");

/// What [`HERD`] keeps per benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HerdSummary {
    pub workers: usize,
    pub connections: u64,
    pub wakeups_per_connection: f64,
    #[serde(default)]
    pub run: Option<crate::provenance::Run>,
}

impl HerdSummary {
    /// A measuring run's summary of `report`.
    pub fn measured(report: &HerdReport) -> HerdSummary {
        HerdSummary {
            workers: report.workers,
            connections: report.connections,
            wakeups_per_connection: report.wakeups_per_connection(),
            run: Some(crate::provenance::Run::now(crate::provenance::Mode::Bench)),
        }
    }
}

impl Herd {
    /// Starts `workers` threads waiting the given way, and returns once all of them sleep.
    pub fn start(waiting: Waiting, workers: usize) -> io::Result<Herd> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(matches!(waiting, Waiting::Epoll { .. }))?;
        // SAFETY: eventfd returns a new descriptor or -1.
        let stop = unsafe { OwnedFd::from_raw_fd(check(libc::eventfd(0, libc::EFD_CLOEXEC))?) };
        let accepted = Arc::new(AtomicU64::new(0));
        let (tids_tx, tids) = std::sync::mpsc::channel();
        let mut herd = Herd {
            addr: listener.local_addr()?,
            stop,
            accepted: accepted.clone(),
            workers: Vec::with_capacity(workers),
            connections: 0,
            switches_at_start: Vec::new(),
            listener,
        };
        for i in 0..workers {
            let (listen_fd, stop_fd) = (herd.listener.as_raw_fd(), herd.stop.as_raw_fd());
            let (accepted, tids_tx) = (accepted.clone(), tids_tx.clone());
            let thread = std::thread::Builder::new()
                .name(format!("herd-{i}"))
                .spawn(move || {
                    // SAFETY: gettid has no preconditions.
                    let _ = tids_tx.send(unsafe { libc::gettid() });
                    match waiting {
                        Waiting::Accept => wait_in_accept(listen_fd, &accepted),
                        Waiting::Epoll { exclusive } => {
                            wait_in_epoll(listen_fd, stop_fd, exclusive, &accepted)
                        }
                    }
                })?;
            let tid = tids
                .recv_timeout(BOUND)
                .map_err(|_| stuck("a worker to start"))?;
            herd.workers.push((tid, thread));
        }
        herd.until_all_asleep()?;
        herd.switches_at_start = herd.voluntary_switches()?;
        Ok(herd)
    }

    fn voluntary_switches(&self) -> io::Result<Vec<u64>> {
        self.workers
            .iter()
            .map(|(tid, _)| voluntary_switches(*tid))
            .collect()
    }

    /// Opens `n` connections one at a time, each once every worker sleeps; the time from
    /// connecting to the connection being accepted, summed.
    pub fn connect(&mut self, n: u64) -> io::Result<Duration> {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            self.until_all_asleep()?;
            let target = self.accepted.load(Ordering::Acquire) + 1;
            let start = Instant::now();
            let stream = TcpStream::connect(self.addr)?;
            let deadline = start + BOUND;
            while self.accepted.load(Ordering::Acquire) < target {
                if Instant::now() > deadline {
                    return Err(stuck("a connection to be accepted"));
                }
                std::hint::spin_loop();
            }
            total += start.elapsed();
            drop(stream);
            self.connections += 1;
        }
        Ok(total)
    }

    /// Waits until every worker waits for a connection: asleep, and where the kernel names
    /// the function a thread sleeps in, all in the same one (a worker still starting may
    /// sleep elsewhere, on a lock). The next connection meets the whole herd.
    fn until_all_asleep(&self) -> io::Result<()> {
        let deadline = Instant::now() + BOUND;
        let all_waiting = || {
            let places: Option<Vec<String>> = self
                .workers
                .iter()
                .map(|(tid, _)| sleeping_in(*tid))
                .collect();
            places.is_some_and(|p| p.iter().all(|place| *place == p[0]))
        };
        while !all_waiting() {
            if Instant::now() > deadline {
                return Err(stuck("the workers to sleep again"));
            }
            std::thread::yield_now();
        }
        Ok(())
    }

    /// Counts what the workers did, then stops them.
    pub fn finish(mut self) -> io::Result<HerdReport> {
        let workers = self.workers.len();
        self.until_all_asleep()?;
        let wakeups = self
            .voluntary_switches()?
            .iter()
            .zip(&self.switches_at_start)
            .map(|(now, start)| now - start)
            .sum();
        self.stop_workers()?;
        Ok(HerdReport {
            workers,
            connections: self.connections,
            accepted: self.accepted.load(Ordering::Acquire),
            wakeups,
        })
    }

    /// Wakes every worker for good and joins it.
    fn stop_workers(&mut self) -> io::Result<()> {
        // A blocked accept returns EINVAL once the listener is shut down; epoll waiters see
        // the stop eventfd, which none watches exclusively.
        // SAFETY: shutdown and write on descriptors this herd owns.
        unsafe {
            libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR);
            let one: u64 = 1;
            libc::write(self.stop.as_raw_fd(), (&one as *const u64).cast(), 8);
        }
        let deadline = Instant::now() + BOUND;
        for (_, thread) in self.workers.drain(..) {
            while !thread.is_finished() {
                if Instant::now() > deadline {
                    return Err(stuck("the workers to stop"));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            thread
                .join()
                .map_err(|_| io::Error::other("a herd worker panicked"))??;
        }
        Ok(())
    }
}

impl Drop for Herd {
    fn drop(&mut self) {
        if !self.workers.is_empty()
            && let Err(e) = self.stop_workers()
        {
            eprintln!("warning: the herd did not stop cleanly: {e}");
        }
    }
}

fn stuck(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("waited {BOUND:?} for {what}"),
    )
}

/// Where thread `tid` of this process sleeps (its `wchan`, or "" where the kernel does not
/// say), or `None` while it is not asleep (state `S` in its stat line).
fn sleeping_in(tid: i32) -> Option<String> {
    let task = format!("/proc/self/task/{tid}");
    let stat = std::fs::read_to_string(format!("{task}/stat")).ok()?;
    let (_, state) = stat.rsplit_once(") ")?;
    if !state.starts_with('S') {
        return None;
    }
    let place = std::fs::read_to_string(format!("{task}/wchan")).unwrap_or_default();
    Some(if place == "0" { String::new() } else { place })
}

/// The voluntary context switches of thread `tid` of this process so far.
fn voluntary_switches(tid: i32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no switch count for thread {tid}")))
}

fn take(listen_fd: RawFd, accepted: &AtomicU64) -> io::Result<bool> {
    // SAFETY: accept4 returns a new descriptor, closed at once, or -1.
    let fd = unsafe {
        libc::accept4(
            listen_fd,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_CLOEXEC,
        )
    };
    if fd >= 0 {
        // SAFETY: the descriptor was just accepted and is ours.
        unsafe { libc::close(fd) };
        accepted.fetch_add(1, Ordering::Release);
        return Ok(true);
    }
    Err(io::Error::last_os_error())
}

fn wait_in_accept(listen_fd: RawFd, accepted: &AtomicU64) -> io::Result<()> {
    loop {
        match take(listen_fd, accepted) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // EINVAL: the listener was shut down, the herd is stopping.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

fn wait_in_epoll(
    listen_fd: RawFd,
    stop_fd: RawFd,
    exclusive: bool,
    accepted: &AtomicU64,
) -> io::Result<()> {
    // SAFETY: epoll_create1 returns a new descriptor or -1.
    let epoll = unsafe { OwnedFd::from_raw_fd(check(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
    let watch = |fd: RawFd, flags: u32| {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32 | flags,
            u64: fd as u64,
        };
        // SAFETY: registers a descriptor this herd owns in this worker's epoll instance.
        check(unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) })
    };
    watch(
        listen_fd,
        if exclusive {
            libc::EPOLLEXCLUSIVE as u32
        } else {
            0
        },
    )?;
    watch(stop_fd, 0)?;
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; 2];
    loop {
        // SAFETY: `events` has room for the 2 events asked for.
        let n = unsafe { libc::epoll_wait(epoll.as_raw_fd(), events.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let ready = &events[..n as usize];
        if ready.iter().any(|event| event.u64 == stop_fd as u64) {
            return Ok(());
        }
        // Another worker may have taken it first: EAGAIN, back to waiting.
        match take(listen_fd, accepted) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // The listener was shut down: the herd is stopping.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connection_is_accepted_once_and_every_worker_stops() {
        for (name, waiting) in Waiting::ALL {
            let mut herd = Herd::start(waiting, 4).unwrap();
            herd.connect(20).unwrap();
            let report = herd.finish().unwrap();
            assert_eq!((report.connections, report.accepted), (20, 20), "{name}");
            // At least the worker that took each connection woke for it.
            assert!(report.wakeups >= 20, "{name}: {report:?}");
        }
    }

    #[test]
    fn epoll_without_exclusive_wakes_the_herd_and_accept_does_not() {
        let run = |waiting| {
            let mut herd = Herd::start(waiting, 4).unwrap();
            herd.connect(50).unwrap();
            herd.finish().unwrap().wakeups_per_connection()
        };
        let (accept, epoll) = (
            run(Waiting::Accept),
            run(Waiting::Epoll { exclusive: false }),
        );
        // Four epoll instances watch the listener, and each is woken.
        assert!(epoll > 3.0, "epoll: {epoll} wake-ups per connection");
        assert!(accept < 1.5, "accept: {accept} wake-ups per connection");
    }
}
