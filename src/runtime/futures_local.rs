//! The `futures` crate's single-threaded `LocalPool`.

use super::AsyncRuntime;
use std::cell::RefCell;
use std::future::Future;

thread_local! {
    static FUTURES_LOCAL: RefCell<Option<futures::executor::LocalSpawner>> =
        const { RefCell::new(None) };
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
