//! Runtime adapters: each runs a measured body *inside* its runtime, as a task (on a worker
//! thread, for multi-threaded runtimes), and hands back what the body returns. One `run` per
//! Criterion batch: entering the runtime and parking the caller stay outside whatever the
//! body times, unlike a `block_on` per iteration, which measures mostly those.
//!
//! One file per runtime: its [`AsyncRuntime`] adapter and, where it can serve TCP, its
//! [`serve::Serves`] and serve hook. Which flavours are measured, and how each is started,
//! is the one list in [`crate::flavours`].

pub mod async_std;
mod futures_local;
pub mod may;
pub mod monoio;
pub mod serve;
pub mod smol;
mod smol_local;
pub mod tokio;

pub use self::async_std::AsyncStd;
pub use self::futures_local::FuturesLocal;
pub use self::monoio::Monoio;
pub use self::smol::Smol;
pub use self::smol_local::SmolLocal;
pub use self::tokio::Tokio;

use crate::skip::Skip;
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
