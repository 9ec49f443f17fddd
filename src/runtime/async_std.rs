//! async-std's global executor.

use super::serve::{
    Serves, Service, Shared, accept_loop, borrowing_tcp, serve_connection, server_thread,
};
use super::{AsyncRuntime, WORKERS};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::future::Future;
use std::io;
use std::net::TcpListener;
use std::time::Duration;

/// async-std's global executor, fixed at [`WORKERS`] threads. Discontinued upstream (its
/// authors point to smol; advisory RUSTSEC-2025-0052, acknowledged in `deny.toml`) but still
/// widely deployed, so it stays a measured row. Its runtime is process-wide: its threads live
/// until the process exits.
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

impl Serves for AsyncStd {
    type Listener = async_std::net::TcpListener;
    fn sleep(wait: Duration) -> impl Future<Output = ()> {
        async_std::task::sleep(wait)
    }
    fn detach(connection: async_std::net::TcpStream, service: Shared) {
        async_std::task::spawn(serve_connection::<AsyncStd>(connection, service));
    }
}

borrowing_tcp!(
    async_std::net::TcpListener,
    async_std::net::TcpStream,
    |stream| { stream.set_nodelay(true) }
);

/// Serves on async-std's global executor, [`WORKERS`] threads.
pub fn serve(listener: TcpListener, service: &'static dyn Service) -> io::Result<()> {
    let mut runtime = AsyncStd::new();
    server_thread("async-std-server", move || {
        runtime.run(accept_loop::<AsyncStd>(listener.into(), Shared(service)))
    })
}
