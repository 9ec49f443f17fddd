//! smol's multi-threaded executor, owned.

use super::serve::{
    Serves, Service, Shared, accept_loop, borrowing_tcp, serve_connection, server_thread,
};
use super::{AsyncRuntime, WORKERS};
use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

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

impl Serves for Smol {
    type Listener = Async<TcpListener>;
    async fn sleep(wait: Duration) {
        async_io::Timer::after(wait).await;
    }
    fn detach(connection: Async<TcpStream>, service: Shared) {
        SMOL_EXECUTOR.with(|e| {
            e.borrow()
                .as_ref()
                .expect("a connection accepted outside a smol worker")
                .spawn(serve_connection::<Smol>(connection, service))
                .detach()
        })
    }
}

borrowing_tcp!(Async<TcpListener>, Async<TcpStream>, |stream| {
    stream.get_ref().set_nodelay(true)
});

/// smol's model as `smol::spawn` runs it: one executor, its [`WORKERS`] threads driving
/// async-io's reactor through `async_io::block_on` (which the benches' adapter, doing no
/// I/O, does not need). The server runs until the process exits.
pub fn serve(listener: TcpListener, service: &'static dyn Service) -> io::Result<()> {
    let executor = Arc::new(async_executor::Executor::new());
    for i in 0..WORKERS {
        let executor = executor.clone();
        server_thread(&format!("smol-{i}"), move || {
            SMOL_EXECUTOR.with(|e| *e.borrow_mut() = Some(executor.clone()));
            async_io::block_on(executor.run(std::future::pending::<()>()))
        })?;
    }
    let listener = Async::new(listener)?;
    executor
        .spawn(accept_loop::<Smol>(listener, Shared(service)))
        .detach();
    Ok(())
}
