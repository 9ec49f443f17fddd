//! Runtime adapters: each runs a measured body *inside* its runtime, as a task (on a worker
//! thread, for multi-threaded runtimes), and hands back what the body returns. One `run` per
//! Criterion batch: entering the runtime and parking the caller stay outside whatever the
//! body times, unlike a `block_on` per iteration, which measures mostly those.
//!
//! Every flavour has an explicit worker count, carried in its ID, so numbers compare across
//! machines. Adding a runtime means one adapter here and one line in [`FLAVOURS`]; the bench
//! files only iterate over that list.

use crate::placement::Skip;
use crate::tasks::{MaySchedulers, TaskScheduler};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

/// Worker threads of every multi-threaded flavour; the `_2w` in their IDs says so.
pub const WORKERS: usize = 2;
const _: () = assert!(WORKERS == 2, "the flavour IDs below name the worker count");

/// A runtime that can run a body as a task and spawn and yield from inside it.
pub trait AsyncRuntime {
    /// Runs `body` as a task inside the runtime and returns its output.
    fn run<F>(&mut self, body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `task` on the runtime the caller is running in; the returned future resolves to
    /// its output. Call only from inside [`AsyncRuntime::run`].
    fn spawn<F>(task: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Gives the other runnable tasks a turn, the runtime's own way.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Whether a yield lets another task run here, or why not.
    fn yield_switches_tasks() -> Result<(), Skip> {
        Ok(())
    }

    /// Whether a task woken from another thread still runs while a task on the same thread
    /// stays runnable (computes, yields, computes again), or why not.
    fn wakes_from_outside_under_load() -> Result<(), Skip> {
        Ok(())
    }

    /// Runs `job` off the runtime's threads, on the runtime's own pool for blocking work
    /// where it has one and on rayon's where it has not; the future resolves to its result.
    fn offload<T, J>(job: J) -> impl Future<Output = T> + Send + 'static
    where
        J: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        rayon_offload(job)
    }
}

/// Runs `job` on rayon's global pool and hands the result back through a channel.
pub fn rayon_offload<T, J>(job: J) -> impl Future<Output = T> + Send + 'static
where
    J: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (done, result) = async_channel::bounded(1);
    rayon::spawn(move || {
        let _ = done.send_blocking(job());
    });
    async move { result.recv().await.expect("rayon dropped a job") }
}

/// A runtime flavour as the benches see it: a stable ID, the OS threads its tasks run on,
/// and a way to start it here.
pub struct Flavour {
    pub id: &'static str,
    /// OS threads that run its tasks: 1 for a single-threaded scheduler, where two yielding
    /// tasks must alternate and a ring never crosses threads.
    pub workers: usize,
    pub start: fn() -> Result<Box<dyn TaskScheduler>, Skip>,
}

fn boxed<R: AsyncRuntime + 'static>(rt: R) -> Result<Box<dyn TaskScheduler>, Skip> {
    Ok(Box::new(crate::tasks::Async(rt)))
}

/// Every flavour the task benches measure, in report order.
pub const FLAVOURS: &[Flavour] = &[
    Flavour {
        id: "tokio_current_thread",
        workers: 1,
        start: || boxed(Tokio::current_thread()),
    },
    Flavour {
        id: "tokio_multi_thread_2w",
        workers: WORKERS,
        start: || boxed(Tokio::multi_thread()),
    },
    Flavour {
        id: "async_std_2w",
        workers: WORKERS,
        start: || boxed(AsyncStd::new()),
    },
    Flavour {
        id: "smol_2w",
        workers: WORKERS,
        start: || boxed(Smol::new()),
    },
    Flavour {
        id: "smol_local",
        workers: 1,
        start: || boxed(SmolLocal::new()),
    },
    Flavour {
        id: "futures_local",
        workers: 1,
        start: || boxed(FuturesLocal::new()),
    },
    Flavour {
        id: "may_2w",
        workers: WORKERS,
        start: || Ok(Box::new(MaySchedulers::start())),
    },
    Flavour {
        id: "monoio",
        workers: 1,
        start: || boxed(Monoio::new()?),
    },
];

/// A tokio runtime: the single-threaded scheduler (every task on the calling thread) or the
/// work-stealing one with [`WORKERS`] workers.
pub struct Tokio(tokio::runtime::Runtime);

impl Tokio {
    pub fn current_thread() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("cannot build a tokio current_thread runtime");
        Tokio(rt)
    }

    pub fn multi_thread() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .build()
            .expect("cannot build a tokio multi_thread runtime");
        Tokio(rt)
    }
}

/// A runtime built elsewhere, for instance with the I/O driver the benches do not enable.
impl From<tokio::runtime::Runtime> for Tokio {
    fn from(runtime: tokio::runtime::Runtime) -> Tokio {
        Tokio(runtime)
    }
}

impl AsyncRuntime for Tokio {
    fn offload<T, J>(job: J) -> impl Future<Output = T> + Send + 'static
    where
        J: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let handle = tokio::task::spawn_blocking(job);
        async move { handle.await.expect("a blocking job panicked") }
    }
    fn run<F>(&mut self, body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.block_on(async {
            tokio::spawn(body)
                .await
                .expect("the measured task panicked")
        })
    }
    fn spawn<F>(task: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(task);
        async move { handle.await.expect("a task panicked") }
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

/// async-std's global executor, fixed at [`WORKERS`] threads. Discontinued upstream (its
/// authors point to smol) but still widely deployed, so it stays a measured row. Its runtime
/// is process-wide: its threads live until the process exits.
pub struct AsyncStd(());

impl AsyncStd {
    pub fn new() -> Self {
        // async-std configures the same global executor on first use; whoever configures it
        // first wins, so this fixes the worker count without touching the environment.
        async_global_executor::init_with_config(
            async_global_executor::GlobalExecutorConfig::default()
                .with_min_threads(WORKERS)
                .with_max_threads(WORKERS),
        );
        AsyncStd(())
    }
}

impl Default for AsyncStd {
    fn default() -> Self {
        Self::new()
    }
}

impl AsyncRuntime for AsyncStd {
    fn offload<T, J>(job: J) -> impl Future<Output = T> + Send + 'static
    where
        J: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        async_std::task::spawn_blocking(job)
    }
    fn run<F>(&mut self, body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        async_std::task::block_on(async_std::task::spawn(body))
    }
    fn spawn<F>(task: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        async_std::task::spawn(task)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        async_std::task::yield_now()
    }
}

thread_local! {
    static SMOL_EXECUTOR: RefCell<Option<Arc<async_executor::Executor<'static>>>> =
        const { RefCell::new(None) };
    static SMOL_LOCAL: RefCell<Option<Rc<async_executor::LocalExecutor<'static>>>> =
        const { RefCell::new(None) };
    static FUTURES_LOCAL: RefCell<Option<futures::executor::LocalSpawner>> =
        const { RefCell::new(None) };
}

/// smol's multi-threaded model: one `async_executor::Executor` run by [`WORKERS`] threads,
/// exactly as `smol::spawn`'s global executor runs it (there sized by `SMOL_THREADS`, here
/// fixed), but owned, so its threads stop when it is dropped.
pub struct Smol {
    executor: Arc<async_executor::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Smol {
    pub fn new() -> Self {
        let executor = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let workers = (0..WORKERS)
            .map(|i| {
                let (executor, stopped) = (executor.clone(), stopped.clone());
                std::thread::Builder::new()
                    .name(format!("smol-{i}"))
                    .spawn(move || {
                        SMOL_EXECUTOR.with(|e| *e.borrow_mut() = Some(executor.clone()));
                        // Runs tasks until the stop channel closes.
                        let _ = futures_lite::future::block_on(executor.run(stopped.recv()));
                    })
                    .expect("cannot start a smol worker")
            })
            .collect();
        Smol {
            executor,
            stop: Some(stop),
            workers,
        }
    }
}

impl Default for Smol {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        self.stop = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

impl AsyncRuntime for Smol {
    /// smol's way: `smol::unblock`, the `blocking` crate's thread pool.
    fn offload<T, J>(job: J) -> impl Future<Output = T> + Send + 'static
    where
        J: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        blocking::unblock(job)
    }
    fn run<F>(&mut self, body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        futures_lite::future::block_on(self.executor.spawn(body))
    }
    fn spawn<F>(task: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL_EXECUTOR.with(|e| {
            e.borrow()
                .as_ref()
                .expect("spawn called outside a smol worker")
                .spawn(task)
        })
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

/// smol's single-threaded `LocalExecutor`, run on the calling thread.
pub struct SmolLocal(Rc<async_executor::LocalExecutor<'static>>);

impl SmolLocal {
    pub fn new() -> Self {
        SmolLocal(Rc::new(async_executor::LocalExecutor::new()))
    }
}

impl Default for SmolLocal {
    fn default() -> Self {
        Self::new()
    }
}

impl AsyncRuntime for SmolLocal {
    /// smol's way: `smol::unblock`, the `blocking` crate's thread pool.
    fn offload<T, J>(job: J) -> impl Future<Output = T> + Send + 'static
    where
        J: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        blocking::unblock(job)
    }
    fn run<F>(&mut self, body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL_LOCAL.with(|e| *e.borrow_mut() = Some(self.0.clone()));
        let output = futures_lite::future::block_on(self.0.run(self.0.spawn(body)));
        SMOL_LOCAL.with(|e| *e.borrow_mut() = None);
        output
    }
    fn spawn<F>(task: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL_LOCAL.with(|e| {
            e.borrow()
                .as_ref()
                .expect("spawn called outside a smol LocalExecutor")
                .spawn(task)
        })
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

/// The `futures` crate's single-threaded `LocalPool`, run on the calling thread.
pub struct FuturesLocal(futures::executor::LocalPool);

impl FuturesLocal {
    pub fn new() -> Self {
        FuturesLocal(futures::executor::LocalPool::new())
    }
}

impl Default for FuturesLocal {
    fn default() -> Self {
        Self::new()
    }
}

impl AsyncRuntime for FuturesLocal {
    fn run<F>(&mut self, body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        use futures::task::LocalSpawnExt;
        let spawner = self.0.spawner();
        FUTURES_LOCAL.with(|s| *s.borrow_mut() = Some(spawner.clone()));
        let handle = spawner
            .spawn_local_with_handle(body)
            .expect("the LocalPool is shut down");
        let output = self.0.run_until(handle);
        FUTURES_LOCAL.with(|s| *s.borrow_mut() = None);
        output
    }
    fn spawn<F>(task: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        use futures::task::LocalSpawnExt;
        FUTURES_LOCAL.with(|s| {
            s.borrow()
                .as_ref()
                .expect("spawn called outside a LocalPool")
                .spawn_local_with_handle(task)
                .expect("the LocalPool is shut down")
        })
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

/// monoio, a thread-per-core io_uring runtime: one runtime on the calling thread.
pub struct Monoio(monoio::Runtime<monoio::IoUringDriver>);

impl Monoio {
    /// Fails with the reason where io_uring is unavailable (old kernel, disabled by sysctl,
    /// blocked by a seccomp filter, or a memlock limit too low for its rings).
    pub fn new() -> Result<Self, Skip> {
        monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .build()
            .map(Monoio)
            .map_err(|e| Skip(format!("io_uring is unavailable here: {e}")))
    }
}

impl AsyncRuntime for Monoio {
    fn run<F>(&mut self, body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.block_on(async { monoio::spawn(body).await })
    }
    fn spawn<F>(task: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        monoio::spawn(task)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
    fn wakes_from_outside_under_load() -> Result<(), Skip> {
        Err(Skip(
            "monoio takes in wake-ups from other threads only once no task is runnable, so \
             while an inline hog stays runnable a probe from outside is never answered (here \
             the benchmark hung, with the hog yielding or awaiting an empty task)"
                .into(),
        ))
    }
    fn yield_switches_tasks() -> Result<(), Skip> {
        Err(Skip(
            "monoio runs a task that wakes itself again before any other (it is pushed to the \
             front of the queue), so a yield never switches tasks; see ping_pong and ring"
                .into(),
        ))
    }
}
