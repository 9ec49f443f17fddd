//! smol's multi-threaded executor, owned.

use super::{AsyncRuntime, WORKERS};
use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

thread_local! {
    static SMOL_EXECUTOR: RefCell<Option<Arc<async_executor::Executor<'static>>>> =
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
