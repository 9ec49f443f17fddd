//! A runtime held under load for the whole of one benchmark (claims C20, C21, C22): a
//! responder task answers probes sent from outside the runtime, while a hog task burns a fixed
//! amount of CPU per round, inline on the runtime or offloaded to its blocking pool, and then
//! gives the other tasks a turn, the way a request handler computes and then awaits.
//!
//! Both tasks start once and live until the loop is unloaded, so every batch of probes sees
//! the loop in its steady state, never the hog's start-up. An async hog rests between
//! batches (smol's executor looks at whoever waits on it only every 200 tasks it runs, so a
//! hog that never rests keeps the batch's end from being seen for 200 rounds). The hog counts
//! its rounds: the proof that a batch of probes spanned the blocking it claims to measure.

use crate::probe::{Probe, Probes, burn};
use crate::runtime::AsyncRuntime;
use crate::runtime::may::on_rayon_from_may;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The blocking work of one hog, and what it shares with the benchmark.
#[derive(Clone)]
struct Hog {
    work: Duration,
    offloaded: bool,
    stop: Arc<AtomicBool>,
    rounds: Arc<AtomicU64>,
    /// Set once a batch of probes is over: an async hog then waits for `resume`.
    resting: Arc<AtomicBool>,
    resume: (async_channel::Sender<()>, async_channel::Receiver<()>),
}

impl Hog {
    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    /// Wakes a resting hog for the next batch (or keeps a busy one from resting).
    fn wake(&self) {
        self.resting.store(false, Ordering::Relaxed);
        let _ = self.resume.0.try_send(());
    }

    /// Lets the hog rest after its current round, until the next [`Hog::wake`].
    fn rest(&self) {
        self.resting.store(true, Ordering::Relaxed);
    }

    async fn rest_if_told(&self) {
        if self.resting.load(Ordering::Relaxed) && self.running() {
            let _ = self.resume.1.recv().await;
        }
    }

    fn finished_round(&self) {
        self.rounds.fetch_add(1, Ordering::Relaxed);
    }
}

/// The responder and the hog, to be waited for once stopped. Kept, never dropped: some
/// runtimes cancel a task whose handle is dropped.
enum Tasks {
    Async(Vec<Pin<Box<dyn Future<Output = ()> + Send>>>),
    May(Vec<may::coroutine::JoinHandle<()>>),
}

/// The handle the benchmark keeps: where probes go, the hog's round count, and its tasks.
pub struct LoadedLoop {
    send: Arc<dyn Fn(Probe) -> bool + Send + Sync>,
    hog: Hog,
    tasks: Tasks,
}

impl LoadedLoop {
    /// Rounds of blocking work the hog has finished so far (none without a hog).
    pub fn rounds(&self) -> u64 {
        self.hog.rounds.load(Ordering::Relaxed)
    }

    /// Starts `count` probes to the responder; `finished` fires once all are answered or
    /// given up on. The hog runs from before the first probe until after the last.
    pub fn probes(&self, count: u64, finished: impl FnOnce() + Send + 'static) -> Probes {
        let send = self.send.clone();
        let hog = self.hog.clone();
        hog.wake();
        Probes::start(
            count,
            move |probe| send(probe),
            move || {
                hog.rest();
                finished();
            },
        )
    }

    /// Tells the hog to stop after its current round and closes the responder's inbox; the
    /// future resolves once both async tasks have exited. Await it on the runtime.
    pub fn stop_async(self) -> impl Future<Output = ()> + Send {
        self.hog.stop.store(true, Ordering::Relaxed);
        self.hog.wake();
        drop(self.send);
        let tasks = match self.tasks {
            Tasks::Async(tasks) => tasks,
            Tasks::May(_) => unreachable!("may coroutines are stopped with stop_may"),
        };
        async move {
            for task in tasks {
                task.await;
            }
        }
    }

    /// [`LoadedLoop::stop_async`] for may coroutines; waits for both to exit.
    pub fn stop_may(self) {
        self.hog.stop.store(true, Ordering::Relaxed);
        drop(self.send);
        let Tasks::May(coroutines) = self.tasks else {
            unreachable!("async tasks are stopped with stop_async");
        };
        for coroutine in coroutines {
            let _ = coroutine.join();
        }
    }
}

fn new_hog(work: Duration, offloaded: bool) -> Hog {
    Hog {
        work,
        offloaded,
        stop: Arc::new(AtomicBool::new(false)),
        rounds: Arc::new(AtomicU64::new(0)),
        resting: Arc::new(AtomicBool::new(true)),
        resume: async_channel::bounded(1),
    }
}

/// Starts the responder and, unless `work` is zero, the hog on the async runtime the caller
/// is running in.
pub fn load_async<R: AsyncRuntime + 'static>(work: Duration, offloaded: bool) -> LoadedLoop {
    let (to_loop, requests) = async_channel::unbounded::<Probe>();
    let hog = new_hog(work, offloaded);
    let mut tasks: Vec<Pin<Box<dyn Future<Output = ()> + Send>>> =
        vec![Box::pin(R::spawn(async move {
            while let Ok(probe) = requests.recv().await {
                probe.answer();
            }
        }))];
    if !work.is_zero() {
        tasks.push(Box::pin(R::spawn(async_hog::<R>(hog.clone()))));
    }
    LoadedLoop {
        send: Arc::new(move |probe| to_loop.send_blocking(probe).is_ok()),
        hog,
        tasks: Tasks::Async(tasks),
    }
}

/// Burns a round, then yields the runtime's own way, until told to stop.
async fn async_hog<R: AsyncRuntime + 'static>(hog: Hog) {
    loop {
        hog.rest_if_told().await;
        if !hog.running() {
            break;
        }
        let work = hog.work;
        if hog.offloaded {
            R::offload(move || burn(work)).await;
        } else {
            burn(work);
        }
        hog.finished_round();
        R::yield_now().await;
    }
}

/// Starts the responder and, unless `work` is zero, the hog as may coroutines.
pub fn load_may(work: Duration, offloaded: bool) -> LoadedLoop {
    let (to_loop, requests) = may::sync::mpsc::channel::<Probe>();
    // may's sender is not `Sync`; only the probe driver sends, so the lock is uncontended.
    let to_loop = std::sync::Mutex::new(to_loop);
    let hog = new_hog(work, offloaded);
    let mut coroutines = vec![may::go!(move || {
        while let Ok(probe) = requests.recv() {
            probe.answer();
        }
    })];
    if !work.is_zero() {
        let hog = hog.clone();
        coroutines.push(may::go!(move || may_hog(hog)));
    }
    LoadedLoop {
        send: Arc::new(move |probe| {
            let to_loop = to_loop
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            to_loop.send(probe).is_ok()
        }),
        hog,
        tasks: Tasks::May(coroutines),
    }
}

fn may_hog(hog: Hog) {
    while hog.running() {
        let work = hog.work;
        if hog.offloaded {
            // may has no blocking pool of its own: rayon's, as elsewhere.
            on_rayon_from_may(move || burn(work));
        } else {
            burn(work);
        }
        hog.finished_round();
        // Not yield_now: with a coroutine yielding in a loop, may never ran the responder
        // that a probe from another thread had woken (the benchmark hung). A 1 µs sleep
        // really gives the worker away.
        may::coroutine::sleep(Duration::from_micros(1));
    }
}
