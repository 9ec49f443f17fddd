//! monoio: a thread-per-core io_uring runtime.

use super::AsyncRuntime;
use crate::placement::Skip;
use std::future::Future;

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
