//! tokio: the single-threaded and the work-stealing scheduler.

use super::serve::{
    Serves, Service, Shared, accept_loop, borrowing_tcp, serve_connection, server_thread,
};
use super::{AsyncRuntime, WORKERS};
use std::future::Future;
use std::io;
use std::net::TcpListener;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

impl Serves for Tokio {
    type Listener = tokio::net::TcpListener;
    fn sleep(wait: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(wait)
    }
    fn detach(connection: tokio::net::TcpStream, service: Shared) {
        tokio::spawn(serve_connection::<Tokio>(connection, service));
    }
}

borrowing_tcp!(tokio::net::TcpListener, tokio::net::TcpStream, |stream| {
    stream.set_nodelay(true)
});

/// Serves on the work-stealing scheduler, [`WORKERS`] workers.
pub fn serve_multi_thread(listener: TcpListener, service: &'static dyn Service) -> io::Result<()> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(WORKERS);
    serve_on(builder, listener, service)
}

/// Serves on the single-threaded scheduler: one event loop.
pub fn serve_current_thread(
    listener: TcpListener,
    service: &'static dyn Service,
) -> io::Result<()> {
    serve_on(
        tokio::runtime::Builder::new_current_thread(),
        listener,
        service,
    )
}

/// Builds the runtime with its I/O driver and timer and runs the accept loop in it as a task,
/// on a thread of its own.
fn serve_on(
    mut builder: tokio::runtime::Builder,
    listener: TcpListener,
    service: &'static dyn Service,
) -> io::Result<()> {
    let mut runtime = Tokio(builder.enable_all().build()?);
    listener.set_nonblocking(true)?;
    server_thread("tokio-server", move || {
        runtime.run(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            accept_loop::<Tokio>(listener, Shared(service)).await
        })
    })
}
