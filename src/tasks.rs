//! The task scenarios every runtime flavour is measured with: spawn-and-await, spawn in
//! batches, two tasks yielding, and a token around a ring of tasks. Each scenario runs inside
//! the runtime and times itself there, after its setup; [`TaskScheduler`] is what the bench
//! files call, implemented once for every [`AsyncRuntime`] and once for may's coroutines.

use crate::footprint::{Memory, ParkedSample};
use crate::loaded_loop::{LoadedLoop, load_async, load_may};
use crate::placement::Skip;
use crate::probe::Latencies;
use crate::ring::scaled;
use crate::runtime::{AsyncRuntime, WORKERS};
use crate::rusage::process_cpu_time;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one run of a ring did, beside its time: the evidence that it hopped as claimed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingRun {
    /// Time for the hops asked, scaled from the whole laps run.
    pub elapsed: Duration,
    /// Hops made, counted as tokens arrived, the untimed warm-up lap included.
    pub hops: u64,
    /// Hops whose receiver ran on a different OS thread than its sender.
    pub crossed: u64,
}

/// The scenarios, as the bench files see them. Every method runs inside the runtime and
/// returns the time its measured part took, setup excluded.
pub trait TaskScheduler {
    /// `n` empty tasks spawned one after another, each awaited before the next.
    fn spawn_await(&mut self, n: u64) -> SpawnRun;
    /// Tasks spawned `batch` at a time, then the batch awaited; the time for `n` tasks.
    fn spawn_batch(&mut self, batch: usize, n: u64) -> SpawnRun;
    /// Two runnable tasks each yielding in a loop; the process CPU time for `n` yields in all.
    /// CPU time, not wall time: on a multi-threaded runtime the two tasks may yield in
    /// parallel on two workers, and a wall clock would count each yield at half its cost.
    fn yield_switches(&mut self, n: u64) -> Duration;
    /// A token passed around a ring of `members` tasks (the measuring task is one of them),
    /// started and given one untimed lap first; the time for `hops` hops.
    fn ring(&mut self, members: usize, hops: u64) -> RingRun;
    /// Which of two yielding tasks ran each turn, `turns` turns each: the proof that yields
    /// interleave.
    fn yield_order(&mut self, turns: usize) -> Vec<u8>;
    /// Parks `units` tasks, each waiting on a shared channel, reads memory while all are
    /// alive, then releases them: the footprint of one idle task.
    fn parked_footprint(&mut self, units: usize) -> ParkedSample;
    /// Puts the runtime under load until [`TaskScheduler::unload`]: a responder task for
    /// probes and a hog task burning `work` of CPU per round, inline on the runtime or
    /// offloaded to its blocking pool. No hog at all when `work` is zero: the idle control.
    fn load(&mut self, work: Duration, offloaded: bool) -> LoadedLoop;
    /// Sends `probes` fixed-rate probes to the loaded loop's responder, running the runtime
    /// meanwhile; their latencies.
    fn probe(&mut self, loaded: &LoadedLoop, probes: u64) -> Latencies;
    /// Stops the hog and the responder and waits for both to exit.
    fn unload(&mut self, loaded: LoadedLoop);
    /// Whether yielding lets the other task run on this runtime, or why not.
    fn yield_switches_tasks(&self) -> Result<(), Skip> {
        Ok(())
    }
    /// Whether probes from outside are answered while an inline hog runs, or why not.
    fn answers_under_inline_load(&self) -> Result<(), Skip> {
        Ok(())
    }
}

/// Tasks spawned and awaited: the time for the tasks asked, and how many ran to completion
/// (each returns 1 to its awaiter), the proof that every spawn was a task that ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnRun {
    pub elapsed: Duration,
    pub completed: u64,
}

/// An address unique to the calling OS thread, cheap enough to read on every hop. Never
/// inlined, for the reason given at [`on_rayon_from_may`].
#[inline(never)]
pub fn thread_tag() -> usize {
    thread_local!(static TAG: u8 = const { 0 });
    TAG.with(|t| t as *const u8 as usize)
}

/// Any async runtime, measured with the shared async scenarios below.
pub struct Async<R>(pub R);

impl<R: AsyncRuntime + 'static> TaskScheduler for Async<R> {
    fn spawn_await(&mut self, n: u64) -> SpawnRun {
        self.0.run(async move {
            let mut completed = 0;
            let start = Instant::now();
            for _ in 0..n {
                completed += R::spawn(async { 1 }).await;
            }
            SpawnRun {
                elapsed: start.elapsed(),
                completed,
            }
        })
    }

    fn spawn_batch(&mut self, batch: usize, n: u64) -> SpawnRun {
        self.0.run(async move {
            let rounds = n.div_ceil(batch as u64);
            let mut pending = Vec::with_capacity(batch);
            let start = Instant::now();
            let mut completed = 0;
            for _ in 0..rounds {
                pending.extend((0..batch).map(|_| R::spawn(async { 1 })));
                for task in pending.drain(..) {
                    completed += task.await;
                }
            }
            SpawnRun {
                elapsed: scaled(start.elapsed(), n, rounds * batch as u64),
                completed,
            }
        })
    }

    fn yield_switches(&mut self, n: u64) -> Duration {
        self.0.run(async move {
            let turns = n.div_ceil(2);
            let other = R::spawn(async move {
                for _ in 0..turns {
                    R::yield_now().await;
                }
            });
            let start = process_cpu_time();
            for _ in 0..turns {
                R::yield_now().await;
            }
            other.await;
            scaled(process_cpu_time() - start, n, turns * 2)
        })
    }

    fn ring(&mut self, members: usize, hops: u64) -> RingRun {
        self.0.run(async_ring::<R>(members, hops))
    }

    fn yield_switches_tasks(&self) -> Result<(), Skip> {
        R::yield_switches_tasks()
    }

    fn answers_under_inline_load(&self) -> Result<(), Skip> {
        R::wakes_from_outside_under_load()
    }

    fn load(&mut self, work: Duration, offloaded: bool) -> LoadedLoop {
        self.0.run(async move { load_async::<R>(work, offloaded) })
    }

    fn probe(&mut self, loaded: &LoadedLoop, probes: u64) -> Latencies {
        let (done, finished) = async_channel::bounded::<()>(1);
        let probes = loaded.probes(probes, move || {
            let _ = done.send_blocking(());
        });
        // A single-threaded runtime runs its tasks only while something runs on it.
        self.0.run(async move {
            let _ = finished.recv().await;
            probes.join()
        })
    }

    fn unload(&mut self, loaded: LoadedLoop) {
        self.0.run(loaded.stop_async());
    }

    fn parked_footprint(&mut self, units: usize) -> ParkedSample {
        self.0.run(async move {
            // One task first, so the allocator and the runtime's queues are warm.
            R::spawn(async {}).await;
            let before = Memory::read();
            let (release, parked) = async_channel::bounded::<()>(1);
            let (ready, started) = async_channel::unbounded::<()>();
            let tasks: Vec<_> = (0..units)
                .map(|_| {
                    let (parked, ready) = (parked.clone(), ready.clone());
                    R::spawn(async move {
                        let _ = ready.send(()).await;
                        let _ = parked.recv().await;
                    })
                })
                .collect();
            let mut alive = 0;
            while alive < units && started.recv().await.is_ok() {
                alive += 1;
            }
            let during = Memory::read();
            drop(release);
            let mut finished = 0;
            for task in tasks {
                task.await;
                finished += 1;
            }
            ParkedSample {
                units,
                before,
                during,
                alive,
                finished,
            }
        })
    }

    fn yield_order(&mut self, turns: usize) -> Vec<u8> {
        self.0.run(async move {
            let log = Arc::new(Mutex::new(Vec::with_capacity(turns * 2)));
            let other_log = log.clone();
            let other = R::spawn(async move {
                for _ in 0..turns {
                    other_log.lock().unwrap().push(1);
                    R::yield_now().await;
                }
            });
            for _ in 0..turns {
                log.lock().unwrap().push(0);
                R::yield_now().await;
            }
            other.await;
            log.lock().unwrap().clone()
        })
    }
}

/// A ring member: forwards the token, tagged with its thread, until its inbox closes; returns
/// how many tokens arrived from another thread.
async fn forward_tokens(
    inbox: async_channel::Receiver<usize>,
    next: async_channel::Sender<usize>,
) -> Arrivals {
    let mut arrivals = Arrivals::default();
    while let Ok(from) = inbox.recv().await {
        arrivals.count(from);
        if next.send(thread_tag()).await.is_err() {
            break;
        }
    }
    arrivals
}

/// Tokens one ring member received, counted as they arrive: the hops the ring really made.
#[derive(Clone, Copy, Default)]
struct Arrivals {
    hops: u64,
    /// Tokens sent from another OS thread than the one receiving them.
    crossed: u64,
}

impl Arrivals {
    fn count(&mut self, from: usize) {
        self.hops += 1;
        self.crossed += u64::from(from != thread_tag());
    }

    fn add(&mut self, other: Arrivals) {
        self.hops += other.hops;
        self.crossed += other.crossed;
    }
}

async fn async_ring<R: AsyncRuntime + 'static>(members: usize, hops: u64) -> RingRun {
    assert!(members >= 2, "a ring needs at least two members");
    let (to_first, mut inbox) = async_channel::bounded::<usize>(1);
    let mut tasks = Vec::with_capacity(members - 1);
    for _ in 1..members {
        let (next, next_inbox) = async_channel::bounded(1);
        let own_inbox = std::mem::replace(&mut inbox, next_inbox);
        tasks.push(R::spawn(forward_tokens(own_inbox, next)));
    }
    let from_last = inbox;
    let mut arrivals = Arrivals::default();
    let mut lap = async || {
        to_first.send(thread_tag()).await.expect("ring broken");
        arrivals.count(from_last.recv().await.expect("ring broken"));
    };
    // The first lap polls every task for the first time: not a switch, so not timed.
    lap().await;
    let laps = hops.div_ceil(members as u64);
    let start = Instant::now();
    for _ in 0..laps {
        lap().await;
    }
    let elapsed = start.elapsed();
    drop(to_first);
    for task in tasks {
        arrivals.add(task.await);
    }
    RingRun {
        elapsed: scaled(elapsed, hops, laps * members as u64),
        hops: arrivals.hops,
        crossed: arrivals.crossed,
    }
}

/// may's stackful coroutines on [`WORKERS`] worker threads: the goroutine model in Rust.
/// may's scheduler is process-wide; it is configured once, before its first coroutine.
pub struct MaySchedulers(());

impl MaySchedulers {
    pub fn start() -> Self {
        static CONFIGURED: std::sync::Once = std::sync::Once::new();
        CONFIGURED.call_once(|| {
            may::config().set_workers(WORKERS);
        });
        MaySchedulers(())
    }
}

/// Runs `job` on rayon's pool from a may coroutine and waits for it without blocking the
/// coroutine's worker: the coroutine sleeps in steps of [`MAY_POLL`] until the job is done.
///
/// Not a may channel that the rayon thread sends on: a channel made and dropped per job, sent
/// on from a foreign thread while the coroutine waited, corrupted the heap here about once in
/// six runs of `blocked_loop/may_2w_offloaded` (glibc: "malloc(): unaligned tcache chunk
/// detected"). Under glibc's checking allocator (`libc_malloc_debug.so`, `malloc.check=3`,
/// `malloc.perturb`) that version crashed in 2 of 7 runs, each time in may's event loop:
/// `sleep::subscribe` → `CancelImpl::set_co` dropping the coroutine handle held in its cancel
/// slot, already freed. A coroutine parked on a may channel and unparked by a thread may does
/// not run races with may's own bookkeeping of its next sleep: a may bug, not one of ours.
/// Polling an atomic shares nothing with may but the flag; under the same allocator this
/// version ran all eight may blocked-loop rows clean in six runs out of six. Never inlined,
/// so that no thread-local address computed before a wait (after which the coroutine may run
/// on another OS thread) is used after it.
#[inline(never)]
pub fn on_rayon_from_may(job: impl FnOnce() + Send + 'static) {
    let done = Arc::new(AtomicBool::new(false));
    let finished = done.clone();
    rayon::spawn(move || {
        job();
        finished.store(true, Ordering::Release);
    });
    while !done.load(Ordering::Acquire) {
        may::coroutine::sleep(MAY_POLL);
    }
}

/// How often a may coroutine looks whether its rayon job is done.
pub const MAY_POLL: Duration = Duration::from_micros(20);

/// Runs `f` in a may coroutine and waits for its result.
///
/// `may::go!` is `unsafe` underneath for two reasons, both kept here: a coroutine must not
/// use thread-local storage across a point where it may move to another OS thread (every
/// coroutine of this file touches thread-locals only through out-of-line calls that compute
/// their addresses afresh: [`thread_tag`], [`on_rayon_from_may`]), and it must not overflow
/// its stack (may's default, 0x1000 words, 32 KiB here: the scenarios' coroutines keep a
/// few counters and call nothing deep).
fn in_coroutine<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    may::go!(f).join().expect("a coroutine panicked")
}

impl TaskScheduler for MaySchedulers {
    fn spawn_await(&mut self, n: u64) -> SpawnRun {
        in_coroutine(move || {
            let mut completed = 0;
            let start = Instant::now();
            for _ in 0..n {
                completed += may::go!(|| 1).join().expect("a coroutine panicked");
            }
            SpawnRun {
                elapsed: start.elapsed(),
                completed,
            }
        })
    }

    fn spawn_batch(&mut self, batch: usize, n: u64) -> SpawnRun {
        in_coroutine(move || {
            let rounds = n.div_ceil(batch as u64);
            let mut pending = Vec::with_capacity(batch);
            let start = Instant::now();
            let mut completed = 0;
            for _ in 0..rounds {
                pending.extend((0..batch).map(|_| may::go!(|| 1)));
                for co in pending.drain(..) {
                    completed += co.join().expect("a coroutine panicked");
                }
            }
            SpawnRun {
                elapsed: scaled(start.elapsed(), n, rounds * batch as u64),
                completed,
            }
        })
    }

    fn yield_switches(&mut self, n: u64) -> Duration {
        in_coroutine(move || {
            let turns = n.div_ceil(2);
            let other = may::go!(move || {
                for _ in 0..turns {
                    may::coroutine::yield_now();
                }
            });
            let start = process_cpu_time();
            for _ in 0..turns {
                may::coroutine::yield_now();
            }
            other.join().expect("a coroutine panicked");
            scaled(process_cpu_time() - start, n, turns * 2)
        })
    }

    fn ring(&mut self, members: usize, hops: u64) -> RingRun {
        in_coroutine(move || may_ring(members, hops))
    }

    fn load(&mut self, work: Duration, offloaded: bool) -> LoadedLoop {
        load_may(work, offloaded)
    }

    fn probe(&mut self, loaded: &LoadedLoop, probes: u64) -> Latencies {
        // may's workers run on their own threads: nothing to drive from here.
        loaded.probes(probes, || {}).join()
    }

    fn unload(&mut self, loaded: LoadedLoop) {
        loaded.stop_may();
    }

    fn parked_footprint(&mut self, units: usize) -> ParkedSample {
        in_coroutine(move || {
            may::go!(|| ()).join().expect("a coroutine panicked");
            let before = Memory::read();
            let parked = Arc::new(may::sync::Semphore::new(0));
            let (ready, started) = may::sync::mpsc::channel::<()>();
            let coroutines: Vec<_> = (0..units)
                .map(|_| {
                    let (parked, ready) = (parked.clone(), ready.clone());
                    may::go!(move || {
                        let _ = ready.send(());
                        parked.wait();
                    })
                })
                .collect();
            let alive = (0..units)
                .take_while(|_| {
                    started
                        .recv_timeout(crate::footprint::UNIT_DEADLINE)
                        .is_ok()
                })
                .count();
            let during = Memory::read();
            (0..units).for_each(|_| parked.post());
            let finished = coroutines.into_iter().filter_map(|c| c.join().ok()).count();
            ParkedSample {
                units,
                before,
                during,
                alive,
                finished,
            }
        })
    }

    fn yield_order(&mut self, turns: usize) -> Vec<u8> {
        in_coroutine(move || {
            let log = Arc::new(Mutex::new(Vec::with_capacity(turns * 2)));
            let other_log = log.clone();
            let other = may::go!(move || {
                for _ in 0..turns {
                    other_log.lock().unwrap().push(1);
                    may::coroutine::yield_now();
                }
            });
            for _ in 0..turns {
                log.lock().unwrap().push(0);
                may::coroutine::yield_now();
            }
            other.join().expect("a coroutine panicked");
            log.lock().unwrap().clone()
        })
    }
}

fn may_ring(members: usize, hops: u64) -> RingRun {
    use may::sync::mpsc::channel;
    assert!(members >= 2, "a ring needs at least two members");
    let (to_first, mut inbox) = channel::<usize>();
    let mut coroutines = Vec::with_capacity(members - 1);
    for _ in 1..members {
        let (next, next_inbox) = channel();
        let own_inbox = std::mem::replace(&mut inbox, next_inbox);
        coroutines.push(may::go!(move || {
            let mut arrivals = Arrivals::default();
            while let Ok(from) = own_inbox.recv() {
                arrivals.count(from);
                if next.send(thread_tag()).is_err() {
                    break;
                }
            }
            arrivals
        }));
    }
    let from_last = inbox;
    let mut arrivals = Arrivals::default();
    let mut lap = || {
        to_first.send(thread_tag()).expect("ring broken");
        arrivals.count(from_last.recv().expect("ring broken"));
    };
    lap();
    let laps = hops.div_ceil(members as u64);
    let start = Instant::now();
    for _ in 0..laps {
        lap();
    }
    let elapsed = start.elapsed();
    drop(to_first);
    for co in coroutines {
        arrivals.add(co.join().expect("a coroutine panicked"));
    }
    RingRun {
        elapsed: scaled(elapsed, hops, laps * members as u64),
        hops: arrivals.hops,
        crossed: arrivals.crossed,
    }
}
