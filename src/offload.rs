//! Handing work from async code to a pool of threads (claims C22, C23): the round trip of one
//! trivial job per mechanism, CPU-bound jobs issued from an event loop, and the starvation of
//! a bounded pool whose threads all block.

use crate::flavours::{FLAVOURS, Flavour};
use crate::runtime::{AsyncRuntime, Tokio, rayon_offload};
use crate::skip::Skip;
use crate::tasks::{TaskScheduler, time_each, trivial_job};
use crossbeam_channel::{Receiver, Sender};
use std::hint::black_box;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed number of threads taking boxed jobs from one crossbeam channel: the classic
/// bounded pool (a servlet container's, a JDBC pool's shape).
pub struct FixedPool {
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl FixedPool {
    pub fn new(threads: usize) -> FixedPool {
        let (jobs, queue): (Sender<Job>, Receiver<Job>) = crossbeam_channel::unbounded();
        let threads = (0..threads)
            .map(|i| {
                let queue = queue.clone();
                std::thread::Builder::new()
                    .name(format!("pool-{i}"))
                    .spawn(move || queue.iter().for_each(|job| job()))
                    .expect("cannot start a pool thread")
            })
            .collect();
        FixedPool {
            jobs: Some(jobs),
            threads,
        }
    }

    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Box::new(job));
        }
    }

    /// Runs `job` on the pool; the future resolves to its result.
    pub fn offload<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static {
        let (done, result) = async_channel::bounded(1);
        self.submit(move || {
            let _ = done.send_blocking(job());
        });
        async move { result.recv().await.expect("the pool dropped a job") }
    }
}

impl Drop for FixedPool {
    fn drop(&mut self) {
        self.jobs = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Runs `job` on a thread of its own, awaits its result, and joins the thread.
async fn thread_per_job<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = async_channel::bounded(1);
    let thread = std::thread::spawn(move || {
        let _ = done.send_blocking(job());
    });
    let value = result.recv().await.expect("the thread dropped its job");
    let _ = thread.join();
    value
}

/// The ways of getting a closure off the event loop and its result back, with the runtime
/// each is called from.
#[derive(Clone, Copy)]
pub enum Mechanism {
    /// The control: the closure called directly in the task.
    Inline,
    /// A runtime's own pool for blocking work, called from that runtime: one for every
    /// flavour with a [`Flavour::pool`].
    RuntimePool(&'static Flavour),
    TokioBlockInPlace,
    RayonSpawn,
    CrossbeamPool,
    StdThreadPerJob,
}

/// Every mechanism with its benchmark parameter, in report order.
pub fn mechanisms() -> Vec<(&'static str, Mechanism)> {
    let runtime_pools = FLAVOURS
        .iter()
        .filter_map(|flavour| Some((flavour.pool?, Mechanism::RuntimePool(flavour))));
    std::iter::once(("inline", Mechanism::Inline))
        .chain(runtime_pools)
        .chain([
            ("tokio_block_in_place", Mechanism::TokioBlockInPlace),
            ("rayon_spawn", Mechanism::RayonSpawn),
            ("crossbeam_pool", Mechanism::CrossbeamPool),
            ("std_thread_per_job", Mechanism::StdThreadPerJob),
        ])
        .collect()
}

/// Threads of the fixed pool: one per CPU here, as a CPU-bound pool is sized.
pub const POOL_THREADS: usize = 2;

/// Times `n` round trips of a trivial job through a mechanism, from inside its runtime
/// (tokio's multi_thread runtime for every mechanism not tied to another runtime). Runtimes
/// are started once, outside the timed region, and kept for the next batch.
pub struct Offloader {
    tokio: Tokio,
    runtimes: Vec<(&'static str, Box<dyn TaskScheduler>)>,
    pool: Option<std::sync::Arc<FixedPool>>,
}

impl Default for Offloader {
    fn default() -> Self {
        Self::new()
    }
}

impl Offloader {
    pub fn new() -> Offloader {
        Offloader {
            tokio: Tokio::multi_thread(),
            runtimes: Vec::new(),
            pool: None,
        }
    }

    /// Starts what `mechanism` is called from, or says why it cannot start here.
    pub fn prepare(&mut self, mechanism: Mechanism) -> Result<(), Skip> {
        if let Mechanism::RuntimePool(flavour) = mechanism
            && !self.runtimes.iter().any(|(id, _)| *id == flavour.id)
        {
            self.runtimes.push((flavour.id, (flavour.start)()?));
        }
        Ok(())
    }

    /// `n` round trips through `mechanism`, which [`Offloader::prepare`] has started.
    pub fn round_trips(&mut self, mechanism: Mechanism, n: u64) -> Duration {
        match mechanism {
            Mechanism::Inline => self.tokio.run(time_each(n, async || trivial_job())),
            Mechanism::RuntimePool(flavour) => self
                .runtimes
                .iter_mut()
                .find(|(id, _)| *id == flavour.id)
                .expect("a runtime pool's flavour is prepared before it is timed")
                .1
                .pool_round_trips(n),
            Mechanism::TokioBlockInPlace => self.tokio.run(time_each(n, async || {
                let result = tokio::task::block_in_place(trivial_job);
                // The call hands the worker's core to another thread; without a yield the
                // task goes on without a core and every later call returns at once (here
                // 10,000 calls ran on one thread with no hand-off, ~60 ns each). The yield
                // puts it back on a worker with a core, so each call hands off again; the
                // yield alone is `task_switch/yield/tokio_multi_thread_2w`.
                tokio::task::yield_now().await;
                result
            })),
            Mechanism::RayonSpawn => self
                .tokio
                .run(time_each(n, async || rayon_offload(trivial_job).await)),
            Mechanism::CrossbeamPool => {
                let pool = self
                    .pool
                    .get_or_insert_with(|| std::sync::Arc::new(FixedPool::new(POOL_THREADS)))
                    .clone();
                self.tokio
                    .run(time_each(n, async move || pool.offload(trivial_job).await))
            }
            Mechanism::StdThreadPerJob => self
                .tokio
                .run(time_each(n, async || thread_per_job(trivial_job).await)),
        }
    }
}

/// Bytes hashed per CPU-bound job.
pub const HASH_INPUT: usize = 64 << 10;

/// One CPU-bound job: SHA-256 of the input.
pub fn hash_job(input: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(input).into()
}

/// Where CPU-bound jobs issued from an event loop run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashStrategy {
    /// On the loop itself: a tokio current_thread runtime, each job in its own task.
    InlineCurrentThread,
    /// From a current_thread loop to tokio's blocking pool.
    TokioSpawnBlocking,
    /// From a current_thread loop to rayon's pool (one thread per CPU).
    Rayon,
    /// From a current_thread loop to a fixed pool of one thread per CPU.
    CrossbeamPool,
    /// Spread over a multi-threaded runtime's workers, each job in its own task.
    TokioMultiThread,
}

pub const HASH_STRATEGIES: [(&str, HashStrategy); 5] = [
    ("inline_current_thread", HashStrategy::InlineCurrentThread),
    ("tokio_spawn_blocking", HashStrategy::TokioSpawnBlocking),
    ("rayon", HashStrategy::Rayon),
    ("crossbeam_pool", HashStrategy::CrossbeamPool),
    ("tokio_multi_thread_2w", HashStrategy::TokioMultiThread),
];

/// Jobs in flight at once: enough to keep every pool thread busy.
pub const HASH_IN_FLIGHT: usize = 64;

/// Runs `n` hash jobs, `HASH_IN_FLIGHT` at a time, and returns the elapsed time and each
/// job's latency from being issued to its result being back on the loop.
pub struct HashJobs {
    input: std::sync::Arc<Vec<u8>>,
    current: Tokio,
    multi: Option<Tokio>,
    pool: Option<std::sync::Arc<FixedPool>>,
}

impl Default for HashJobs {
    fn default() -> Self {
        Self::new()
    }
}

impl HashJobs {
    pub fn new() -> HashJobs {
        HashJobs {
            input: std::sync::Arc::new((0..HASH_INPUT).map(|i| i as u8).collect()),
            current: Tokio::current_thread(),
            multi: None,
            pool: None,
        }
    }

    pub fn run(&mut self, strategy: HashStrategy, n: u64) -> (Duration, Vec<Duration>) {
        let input = self.input.clone();
        let pool = match strategy {
            HashStrategy::CrossbeamPool => Some(
                self.pool
                    .get_or_insert_with(|| std::sync::Arc::new(FixedPool::new(POOL_THREADS)))
                    .clone(),
            ),
            _ => None,
        };
        let body = async move {
            let mut latencies = Vec::with_capacity(n as usize);
            let start = Instant::now();
            let mut issued = 0;
            while issued < n {
                let wave = (n - issued).min(HASH_IN_FLIGHT as u64);
                let jobs: Vec<_> = (0..wave)
                    .map(|_| {
                        let input = input.clone();
                        let pool = pool.clone();
                        let issued_at = Instant::now();
                        tokio::spawn(async move {
                            let digest = match strategy {
                                HashStrategy::InlineCurrentThread
                                | HashStrategy::TokioMultiThread => hash_job(&input),
                                HashStrategy::TokioSpawnBlocking => {
                                    Tokio::offload(move || hash_job(&input)).await
                                }
                                HashStrategy::Rayon => {
                                    rayon_offload(move || hash_job(&input)).await
                                }
                                HashStrategy::CrossbeamPool => {
                                    pool.expect("a pool")
                                        .offload(move || hash_job(&input))
                                        .await
                                }
                            };
                            black_box(digest);
                            issued_at.elapsed()
                        })
                    })
                    .collect();
                for job in jobs {
                    latencies.push(job.await.expect("a hash job panicked"));
                }
                issued += wave;
            }
            (start.elapsed(), latencies)
        };
        match strategy {
            HashStrategy::TokioMultiThread => {
                self.multi.get_or_insert_with(Tokio::multi_thread).run(body)
            }
            _ => self.current.run(body),
        }
    }
}

/// How long each blocking job holds its pool thread in the starvation scenario.
pub const BLOCKING_JOB: Duration = Duration::from_millis(5);

/// A bounded pool of `POOL_THREADS` threads and, optionally, a separate one for blocking work.
pub struct Starvation {
    shared: FixedPool,
    blocking: Option<FixedPool>,
}

impl Starvation {
    pub fn new(separate_blocking_pool: bool) -> Starvation {
        Starvation {
            shared: FixedPool::new(POOL_THREADS),
            blocking: separate_blocking_pool.then(|| FixedPool::new(POOL_THREADS)),
        }
    }

    /// Submits `POOL_THREADS` jobs that block for [`BLOCKING_JOB`] (to the blocking pool if
    /// there is one), then one quick job to the shared pool, and returns how long the quick
    /// job waited to start. Waits for the blocking jobs to end before returning.
    pub fn wait_of_next_job(&self) -> Duration {
        self.next_job_wait(|| std::thread::sleep(BLOCKING_JOB))
    }

    /// [`Starvation::wait_of_next_job`] with `hold` as the blocking work.
    /// Returns once the blocking jobs have ended too, so that none is left in the pool for the
    /// next iteration; that wait is not part of the result.
    fn next_job_wait(&self, hold: impl Fn() + Clone + Send + 'static) -> Duration {
        let (done, all_done) = crossbeam_channel::unbounded();
        let hold_then_report = move || {
            hold();
            let _ = done.send(());
        };
        let waited = self
            .block_then_submit_quick_job(hold_then_report)
            .recv_timeout(Duration::from_secs(10))
            .expect("the quick job never ran");
        for _ in 0..POOL_THREADS {
            let _ = all_done.recv_timeout(Duration::from_secs(10));
        }
        waited
    }

    /// Fills the pool (or the blocking pool) with jobs running `hold`, waits until each holds
    /// its thread, then submits a quick job to the shared pool; the channel yields how long
    /// the quick job waited to start.
    fn block_then_submit_quick_job(
        &self,
        hold: impl Fn() + Clone + Send + 'static,
    ) -> Receiver<Duration> {
        let (started, blocking_started) = crossbeam_channel::unbounded::<()>();
        for _ in 0..POOL_THREADS {
            let (started, hold) = (started.clone(), hold.clone());
            let job = move || {
                let _ = started.send(());
                hold();
            };
            match &self.blocking {
                Some(pool) => pool.submit(job),
                None => self.shared.submit(job),
            }
        }
        // Every blocking job holds its thread before the quick one is submitted.
        for _ in 0..POOL_THREADS {
            let _ = blocking_started.recv_timeout(Duration::from_secs(10));
        }
        let (quick_started, quick_start) = crossbeam_channel::bounded(1);
        let submitted = Instant::now();
        self.shared.submit(move || {
            let _ = quick_started.send(submitted.elapsed());
        });
        quick_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mechanism_completes_its_round_trips() {
        let mut offloader = Offloader::new();
        for (name, mechanism) in mechanisms() {
            offloader.prepare(mechanism).expect(name);
            assert!(
                offloader.round_trips(mechanism, 20) > Duration::ZERO,
                "{name}"
            );
        }
    }

    #[test]
    fn every_hash_strategy_runs_every_job() {
        let mut hasher = HashJobs::new();
        for (_, strategy) in HASH_STRATEGIES {
            let (_, latencies) = hasher.run(strategy, 100);
            assert_eq!(latencies.len(), 100, "{strategy:?}");
        }
        assert_eq!(hash_job(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf]);
    }

    /// Blocking jobs that hold their threads until the test opens the gate.
    fn gated() -> (impl Fn() + Clone + Send + 'static, Sender<()>) {
        let (open, gate) = crossbeam_channel::unbounded::<()>();
        let hold = move || {
            let _ = gate.recv_timeout(Duration::from_secs(10));
        };
        (hold, open)
    }

    #[test]
    fn a_full_pool_makes_the_next_job_wait_until_a_thread_frees_up() {
        let scenario = Starvation::new(false);
        let (hold, open) = gated();
        let quick = scenario.block_then_submit_quick_job(hold);
        // Every pool thread is held: the quick job cannot have started.
        assert!(quick.try_recv().is_err());
        for _ in 0..POOL_THREADS {
            let _ = open.send(());
        }
        assert!(quick.recv_timeout(Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn a_separate_blocking_pool_lets_the_next_job_run_at_once() {
        let scenario = Starvation::new(true);
        let (hold, open) = gated();
        let quick = scenario.block_then_submit_quick_job(hold);
        // The blocking jobs still hold their threads, yet the quick job runs.
        assert!(quick.recv_timeout(Duration::from_secs(10)).is_ok());
        for _ in 0..POOL_THREADS {
            let _ = open.send(());
        }
    }
}
