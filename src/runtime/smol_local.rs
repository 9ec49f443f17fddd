//! smol's single-threaded `LocalExecutor`.

use super::AsyncRuntime;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

thread_local! {
    static SMOL_LOCAL: RefCell<Option<Rc<async_executor::LocalExecutor<'static>>>> =
        const { RefCell::new(None) };
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
