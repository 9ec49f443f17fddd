//! The task scenarios every runtime flavour is measured with: spawn-and-await, spawn in
//! batches, two tasks yielding, and a token around a ring of tasks. Each scenario runs inside
//! the runtime and times itself there, after its setup; [`TaskScheduler`] is what the bench
//! files call, implemented once for every [`AsyncRuntime`] and once for may's coroutines.

mod may;

pub use self::may::MaySchedulers;

use crate::batch::scaled;
use crate::footprint::{Memory, ParkedSample};
use crate::loaded_loop::{LoadedLoop, load_async};
use crate::probe::Latencies;
use crate::runtime::AsyncRuntime;
use crate::rusage::process_cpu_time;
use crate::skip::Skip;
use std::hint::black_box;
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
    /// `n` round trips of a trivial job from a task to the runtime's pool for blocking work
    /// and back, one after another; the time they took.
    fn pool_round_trips(&mut self, n: u64) -> Duration;
}

/// The job of a pool round trip: as little as can be handed over and back.
pub fn trivial_job() -> u64 {
    black_box(1)
}

/// Awaits `op` `n` times in a row and returns the time they took.
pub async fn time_each<T>(n: u64, mut op: impl AsyncFnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(op().await);
    }
    start.elapsed()
}

/// Tasks spawned and awaited: the time for the tasks asked, and how many ran to completion
/// (each returns 1 to its awaiter), the proof that every spawn was a task that ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnRun {
    pub elapsed: Duration,
    pub completed: u64,
}

/// An address unique to the calling OS thread, cheap enough to read on every hop. Never
/// inlined, for the reason given at [`crate::runtime::may::on_rayon_from_may`].
#[inline(never)]
pub fn thread_tag() -> usize {
    thread_local!(static TAG: u8 = const { 0 });
    TAG.with(|t| t as *const u8 as usize)
}

/// Any async runtime, measured with the shared async scenarios below.
pub struct Async<R>(pub R);

impl<R: AsyncRuntime + 'static> TaskScheduler for Async<R> {
    fn pool_round_trips(&mut self, n: u64) -> Duration {
        self.0
            .run(time_each(n, async || R::offload(trivial_job).await))
    }

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
            ParkedSample::of(units, before, during, alive, finished)
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
