//! tokio: the single-threaded and the work-stealing scheduler.

use super::{AsyncRuntime, WORKERS};
use std::future::Future;

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
