//! monoio: a thread-per-core io_uring runtime.

use super::serve::{
    Accept, Exchange, MESSAGE, Serves, Service, Shared, accept_loop, listen, serve_connection,
    server_thread,
};
use super::{AsyncRuntime, WORKERS};
use crate::skip::Skip;
use monoio::io::{AsyncReadRentExt, AsyncWriteRentExt};
use std::future::Future;
use std::io;
use std::net::TcpListener;
use std::time::Duration;

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

impl Serves for Monoio {
    type Listener = monoio::net::TcpListener;
    fn sleep(wait: Duration) -> impl Future<Output = ()> {
        monoio::time::sleep(wait)
    }
    fn detach(connection: Connection, service: Shared) {
        monoio::spawn(serve_connection::<Monoio>(connection, service));
    }
}

impl Accept for monoio::net::TcpListener {
    type Connection = Connection;
    async fn accept(self) -> (Self, io::Result<Connection>) {
        let accepted = monoio::net::TcpListener::accept(&self).await;
        let connection = accepted.map(|(stream, _)| {
            let _ = stream.set_nodelay(true);
            Connection {
                stream,
                buffer: vec![0; MESSAGE],
            }
        });
        (self, connection)
    }
}

/// A monoio stream with the buffer its reads and writes lend to the ring (io_uring owns a
/// buffer while an operation is in flight), made once per connection.
pub struct Connection {
    stream: monoio::net::TcpStream,
    buffer: Vec<u8>,
}

impl Exchange for Connection {
    async fn read_request(mut self) -> (Self, io::Result<[u8; MESSAGE]>) {
        let (read, buffer) = self.stream.read_exact(self.buffer).await;
        let request = read.map(|_| {
            let mut request = [0; MESSAGE];
            request.copy_from_slice(&buffer[..MESSAGE]);
            request
        });
        self.buffer = buffer;
        (self, request)
    }
    async fn write_reply(mut self, reply: [u8; MESSAGE]) -> (Self, io::Result<()>) {
        self.buffer.clear();
        self.buffer.extend_from_slice(&reply);
        let (written, buffer) = self.stream.write_all(self.buffer).await;
        self.buffer = buffer;
        (self, written.map(drop))
    }
}

/// One monoio runtime per CPU, each on its own thread with its own `SO_REUSEPORT` listener on
/// the port of `first` (which must have been opened with `SO_REUSEPORT` too).
pub fn serve(first: TcpListener, service: &'static dyn Service) -> io::Result<()> {
    let port = first.local_addr()?.port();
    let mut listeners = vec![first];
    for _ in 1..WORKERS {
        listeners.push(listen(port, true)?);
    }
    // Each worker builds its own ring, and any of them can be refused (a memlock limit that
    // fits one ring, not four): each says so before the server counts as started.
    let (built_tx, built) = std::sync::mpsc::channel();
    for (i, listener) in listeners.into_iter().enumerate() {
        let built_tx = built_tx.clone();
        server_thread(&format!("monoio-{i}"), move || {
            let runtime = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                .enable_timer()
                .build();
            let _ = built_tx.send(runtime.as_ref().map(drop).map_err(|e| e.to_string()));
            if let Ok(mut runtime) = runtime {
                runtime.block_on(async move {
                    let listener = monoio::net::TcpListener::from_std(listener).expect("listener");
                    accept_loop::<Monoio>(listener, Shared(service)).await
                })
            }
        })?;
    }
    for i in 0..WORKERS {
        match built.recv_timeout(WORKER_START) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(io::Error::other(format!(
                    "io_uring is unavailable for monoio worker {i} of {WORKERS}: {e}"
                )));
            }
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("monoio worker {i} did not start within {WORKER_START:?}"),
                ));
            }
        }
    }
    Ok(())
}

/// How long a server worker may take to build its runtime.
const WORKER_START: Duration = Duration::from_secs(10);
