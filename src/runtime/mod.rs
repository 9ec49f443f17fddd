//! Runtime adapters: each runs a measured body *inside* its runtime, as a task (on a worker
//! thread, for multi-threaded runtimes), and hands back what the body returns. One `run` per
//! Criterion batch: entering the runtime and parking the caller stay outside whatever the
//! body times, unlike a `block_on` per iteration, which measures mostly those.
//!
//! Every flavour has an explicit worker count, carried in its ID, so numbers compare across
//! machines. Adding a runtime means one adapter, a file of its own in this module, and one
//! line in [`FLAVOURS`]; the bench files only iterate over that list.

mod async_std;
mod futures_local;
mod monoio;
mod smol;
mod smol_local;
mod tokio;

pub use self::async_std::AsyncStd;
pub use self::futures_local::FuturesLocal;
pub use self::monoio::Monoio;
pub use self::smol::Smol;
pub use self::smol_local::SmolLocal;
pub use self::tokio::Tokio;

use crate::placement::Skip;
use crate::tasks::{MaySchedulers, TaskScheduler};
use std::future::Future;

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
