//! The server side of a C10K run, one function per model. Each answers every 8-byte request
//! with the same 8 bytes after doing the workload's work the model's own way, and counts what
//! it accepted in memory shared with any worker processes, so that the process that started
//! it can read the counts when it is told to stop (its standard input closes).

use super::{BACKLOG, MESSAGE, Model, Step, Work, Workload};
use crate::offload::hash_job;
use crate::runtime::{AsyncRuntime, AsyncStd, Monoio, Smol, Tokio, WORKERS};
use crate::rusage::{Scope, switches};
use crate::tasks::on_rayon_from_may;
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// What a server counted, printed as `stats <json>` when it stops.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    pub accepted: u64,
    /// `accept` failed (out of fds, for instance); the connection waits or is lost.
    pub accept_errors: u64,
    /// A thread or process for a connection could not be started; the connection is closed.
    pub spawn_errors: u64,
    /// prefork only: times a worker slept inside `accept` (voluntary context switches across
    /// the call). A worker woken for a connection another worker took sleeps again, so more
    /// than one sleep per blocking accept is a wasted wake-up (claim C06).
    pub accept_sleeps: u64,
    /// prefork only: accepts that slept more than once, and the extra sleeps they took.
    pub wasted_wakeups: u64,
}

/// Counters in anonymous shared memory, so forked workers add to the same numbers.
#[repr(C)]
struct Counters {
    accepted: AtomicU64,
    accept_errors: AtomicU64,
    spawn_errors: AtomicU64,
    accept_sleeps: AtomicU64,
    wasted_wakeups: AtomicU64,
}

impl Counters {
    /// Maps the counters shared with any later fork; they live until the process exits.
    fn shared() -> &'static Counters {
        // SAFETY: a fresh anonymous mapping, zero-filled (a valid all-zero `Counters`), never
        // unmapped, so the reference is valid for the life of the process.
        unsafe {
            let page = libc::mmap(
                std::ptr::null_mut(),
                std::mem::size_of::<Counters>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert!(page != libc::MAP_FAILED, "cannot map the server's counters");
            &*(page as *const Counters)
        }
    }

    fn snapshot(&self) -> ServerStats {
        ServerStats {
            accepted: self.accepted.load(Relaxed),
            accept_errors: self.accept_errors.load(Relaxed),
            spawn_errors: self.spawn_errors.load(Relaxed),
            accept_sleeps: self.accept_sleeps.load(Relaxed),
            wasted_wakeups: self.wasted_wakeups.load(Relaxed),
        }
    }

    fn count_accept(&self, outcome: &io::Result<impl Sized>) {
        match outcome {
            Ok(_) => self.accepted.fetch_add(1, Relaxed),
            Err(_) => self.accept_errors.fetch_add(1, Relaxed),
        };
    }
}

/// A listening socket on loopback with the deep backlog the runs need; with `reuse_port`,
/// several such sockets can share `port` and the kernel spreads connections over them.
pub fn listen(port: u16, reuse_port: bool) -> io::Result<TcpListener> {
    let check = |rc: libc::c_int| {
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    };
    // SAFETY: plain socket calls on a descriptor owned by the returned listener.
    unsafe {
        let fd = check(libc::socket(
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
        ))?;
        let listener = TcpListener::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let options = [(libc::SO_REUSEADDR, true), (libc::SO_REUSEPORT, reuse_port)];
        for (option, _) in options.iter().filter(|(_, wanted)| *wanted) {
            check(libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                *option,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ))?;
        }
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(Ipv4Addr::LOCALHOST).to_be(),
            },
            sin_zero: [0; 8],
        };
        check(libc::bind(
            fd,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        ))?;
        check(libc::listen(fd, BACKLOG))?;
        Ok(listener)
    }
}

/// The buffer a CPU-bound request hashes, made once.
fn hash_input(bytes: usize) -> &'static [u8] {
    static INPUT: OnceLock<Vec<u8>> = OnceLock::new();
    INPUT.get_or_init(|| (0..bytes).map(|i| i as u8).collect())
}

fn hash_request(bytes: usize) {
    std::hint::black_box(hash_job(hash_input(bytes)));
}

/// Serves one connection on a thread (or coroutine) that may block: read a request, do the
/// work, reply, until the client closes.
fn serve_blocking<S: Read + Write>(mut stream: S, mut work: impl FnMut()) {
    let mut request = [0u8; MESSAGE];
    while stream.read_exact(&mut request).is_ok() {
        work();
        if stream.write_all(&request).is_err() {
            break;
        }
    }
}

/// The work of one request on an OS thread: sleep, or hash where it is.
fn blocking_work(work: Work) -> impl FnMut() {
    move || match work.step() {
        Step::Wait(wait) => std::thread::sleep(wait),
        Step::Hash(bytes) | Step::HashOnPool(bytes) => hash_request(bytes),
    }
}

/// The work of one request on an async runtime `R`, waiting with the runtime's own timer.
async fn async_work<R, T>(work: Work, timer: impl FnOnce(Duration) -> T)
where
    R: AsyncRuntime,
    T: Future,
{
    match work.step() {
        Step::Wait(wait) => {
            timer(wait).await;
        }
        Step::Hash(bytes) => hash_request(bytes),
        Step::HashOnPool(bytes) => R::offload(move || hash_request(bytes)).await,
    }
}

/// Serves one connection of a futures-io runtime (async-std, smol).
async fn serve_futures_io<R, S, T>(mut stream: S, work: Work, timer: fn(Duration) -> T)
where
    R: AsyncRuntime,
    S: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin,
    T: Future,
{
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let mut request = [0u8; MESSAGE];
    while stream.read_exact(&mut request).await.is_ok() {
        async_work::<R, T>(work, timer).await;
        if stream.write_all(&request).await.is_err() {
            break;
        }
    }
}

/// Runs the server for `model` on this process: prints `ready <port>` once it listens, serves
/// until standard input closes, then prints `stats <json>` and returns. Worker processes and
/// threads end with the process.
pub fn serve(model: Model, workload: &Workload) -> io::Result<()> {
    crate::limits::raise_fd_soft_limit();
    let counters = Counters::shared();
    let listener = listen(0, model == Model::Monoio)?;
    let port = listener.local_addr()?.port();
    let work = workload.work;
    let mut workers = Vec::new();
    match model {
        Model::ThreadPerConnection => thread_per_connection(listener, work, counters),
        Model::ThreadPool => thread_pool(listener, work, workload.pool_threads, counters),
        Model::Prefork => workers = prefork(listener, work, workload.prefork_workers, counters)?,
        Model::TokioMultiThread => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(WORKERS);
            tokio_server(builder, listener, work, counters)
        }
        Model::TokioCurrentThread => {
            let builder = tokio::runtime::Builder::new_current_thread();
            tokio_server(builder, listener, work, counters)
        }
        Model::AsyncStd => async_std_server(listener, work, counters),
        Model::Smol => smol_server(listener, work, counters),
        Model::May => may_server(listener, work, counters),
        Model::Monoio => monoio_server(listener, port, work, counters)?,
    }
    println!("ready {port}");
    io::stdout().flush()?;
    // Serve until the starting process closes our input (or dies).
    let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
    stop_workers(&workers);
    let stats = counters.snapshot();
    println!(
        "stats {}",
        serde_json::to_string(&stats).expect("stats serialise")
    );
    io::stdout().flush()
}

fn spawn_thread(name: &str, body: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .expect("cannot start a server thread");
}

/// Pauses `accept` loops briefly after an error such as EMFILE, which would otherwise spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(1);

/// Accepts on a thread of its own, handing each connection (with Nagle off) to `handle`.
fn blocking_acceptor(
    listener: TcpListener,
    counters: &'static Counters,
    mut handle: impl FnMut(TcpStream) + Send + 'static,
) {
    spawn_thread("acceptor", move || {
        loop {
            let accepted = listener.accept();
            counters.count_accept(&accepted);
            match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    handle(stream);
                }
                Err(_) => std::thread::sleep(ACCEPT_BACKOFF),
            }
        }
    });
}

fn thread_per_connection(listener: TcpListener, work: Work, counters: &'static Counters) {
    blocking_acceptor(listener, counters, move |stream| {
        let spawned =
            std::thread::Builder::new().spawn(move || serve_blocking(stream, blocking_work(work)));
        if spawned.is_err() {
            counters.spawn_errors.fetch_add(1, Relaxed);
        }
    });
}

fn thread_pool(listener: TcpListener, work: Work, threads: usize, counters: &'static Counters) {
    let (queue, connections) = crossbeam_channel::unbounded::<TcpStream>();
    for i in 0..threads {
        let connections = connections.clone();
        spawn_thread(&format!("pool-{i}"), move || {
            for stream in connections {
                serve_blocking(stream, blocking_work(work));
            }
        });
    }
    blocking_acceptor(listener, counters, move |stream| {
        let _ = queue.send(stream);
    });
}

/// Forks `workers` processes, each a blocking accept loop that serves one connection at a
/// time. Must run before this process starts any thread.
fn prefork(
    listener: TcpListener,
    work: Work,
    workers: usize,
    counters: &'static Counters,
) -> io::Result<Vec<nix::unistd::Pid>> {
    use nix::unistd::{ForkResult, fork, getpid};
    let master = getpid();
    let mut pids = Vec::with_capacity(workers);
    for _ in 0..workers {
        // SAFETY: this process is still single-threaded (no server thread has started), so
        // the child may run ordinary Rust code.
        match unsafe { fork() }.map_err(io::Error::from)? {
            ForkResult::Child => {
                crate::process::die_with_parent(master);
                // The master's stdin and stdout belong to the starting process's pipes.
                crate::process::detach_stdin_stdout();
                prefork_worker(&listener, work, counters)
            }
            ForkResult::Parent { child } => pids.push(child),
        }
    }
    Ok(pids)
}

fn prefork_worker(listener: &TcpListener, work: Work, counters: &'static Counters) -> ! {
    loop {
        let before = switches(Scope::Thread).voluntary;
        let accepted = listener.accept();
        let sleeps = switches(Scope::Thread).voluntary - before;
        counters.count_accept(&accepted);
        counters.accept_sleeps.fetch_add(sleeps, Relaxed);
        counters
            .wasted_wakeups
            .fetch_add(sleeps.saturating_sub(1), Relaxed);
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                serve_blocking(stream, blocking_work(work));
            }
            Err(_) => std::thread::sleep(ACCEPT_BACKOFF),
        }
    }
}

fn stop_workers(workers: &[nix::unistd::Pid]) {
    use nix::sys::signal::{Signal, kill};
    for &pid in workers {
        let _ = kill(pid, Signal::SIGKILL);
    }
    for &pid in workers {
        let _ = crate::process::reap_within(pid, crate::process::EXIT_GRACE);
    }
}

fn tokio_server(
    mut builder: tokio::runtime::Builder,
    listener: TcpListener,
    work: Work,
    counters: &'static Counters,
) {
    let runtime = builder
        .enable_all()
        .build()
        .expect("cannot build a tokio runtime");
    let mut runtime = Tokio::from(runtime);
    spawn_thread("tokio-server", move || {
        runtime.run(async move {
            listener
                .set_nonblocking(true)
                .expect("nonblocking listener");
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let accepted = listener.accept().await;
                counters.count_accept(&accepted);
                match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(serve_tokio(stream, work));
                    }
                    Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
                }
            }
        })
    });
}

async fn serve_tokio(mut stream: tokio::net::TcpStream, work: Work) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.set_nodelay(true);
    let mut request = [0u8; MESSAGE];
    while stream.read_exact(&mut request).await.is_ok() {
        async_work::<Tokio, _>(work, tokio::time::sleep).await;
        if stream.write_all(&request).await.is_err() {
            break;
        }
    }
}

fn async_std_server(listener: TcpListener, work: Work, counters: &'static Counters) {
    let mut runtime = AsyncStd::new();
    spawn_thread("async-std-server", move || {
        runtime.run(async move {
            let listener = async_std::net::TcpListener::from(listener);
            loop {
                let accepted = listener.accept().await;
                counters.count_accept(&accepted);
                match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        async_std::task::spawn(serve_futures_io::<AsyncStd, _, _>(
                            stream,
                            work,
                            async_std::task::sleep,
                        ));
                    }
                    Err(_) => async_std::task::sleep(ACCEPT_BACKOFF).await,
                }
            }
        })
    });
}

async fn smol_timer(wait: Duration) {
    async_io::Timer::after(wait).await;
}

/// smol's model as `smol::spawn` runs it: one executor, its threads driving async-io's
/// reactor through `async_io::block_on` (which the benches' `Smol` adapter does not need).
fn smol_server(listener: TcpListener, work: Work, counters: &'static Counters) {
    let executor: &'static async_executor::Executor<'static> =
        Box::leak(Box::new(async_executor::Executor::new()));
    for i in 0..WORKERS {
        spawn_thread(&format!("smol-{i}"), move || {
            async_io::block_on(executor.run(std::future::pending::<()>()))
        });
    }
    executor
        .spawn(async move {
            let listener = async_io::Async::new(listener).expect("smol listener");
            loop {
                let accepted = listener.accept().await;
                counters.count_accept(&accepted);
                match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.get_ref().set_nodelay(true);
                        executor
                            .spawn(serve_futures_io::<Smol, _, _>(stream, work, smol_timer))
                            .detach();
                    }
                    Err(_) => smol_timer(ACCEPT_BACKOFF).await,
                }
            }
        })
        .detach();
}

fn may_server(listener: TcpListener, work: Work, counters: &'static Counters) {
    may::config().set_workers(WORKERS);
    // SAFETY: the descriptor comes from a listener we own and give up here.
    let listener = unsafe { may::net::TcpListener::from_raw_fd(listener.into_raw_fd()) };
    may::go!(move || {
        loop {
            let accepted = listener.accept();
            counters.count_accept(&accepted);
            match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    may::go!(move || serve_blocking(stream, may_work(work)));
                }
                Err(_) => may::coroutine::sleep(ACCEPT_BACKOFF),
            }
        }
    });
}

/// The work of one request on a may coroutine: a coroutine sleep, or a hash inline or on
/// rayon's pool (may has no pool of its own), waited for on a may channel.
fn may_work(work: Work) -> impl FnMut() {
    move || match work.step() {
        Step::Wait(wait) => may::coroutine::sleep(wait),
        Step::Hash(bytes) => hash_request(bytes),
        Step::HashOnPool(bytes) => on_rayon_from_may(move || hash_request(bytes)),
    }
}

/// One monoio runtime per CPU, each on its own thread with its own `SO_REUSEPORT` listener
/// on `port` (the first is `first`).
fn monoio_server(
    first: TcpListener,
    port: u16,
    work: Work,
    counters: &'static Counters,
) -> io::Result<()> {
    let mut listeners = vec![first];
    for _ in 1..WORKERS {
        listeners.push(listen(port, true)?);
    }
    // Each worker builds its own ring, and any of them can be refused (a memlock limit that
    // fits one ring, not four): each says so before the server counts as started.
    let (built_tx, built) = std::sync::mpsc::channel();
    for (i, listener) in listeners.into_iter().enumerate() {
        let built_tx = built_tx.clone();
        spawn_thread(&format!("monoio-{i}"), move || {
            let runtime = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                .enable_timer()
                .build();
            let _ = built_tx.send(runtime.as_ref().map(|_| ()).map_err(|e| e.to_string()));
            let Ok(mut runtime) = runtime else {
                return;
            };
            runtime.block_on(async move {
                let listener = monoio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    let accepted = listener.accept().await;
                    counters.count_accept(&accepted);
                    match accepted {
                        Ok((stream, _)) => {
                            let _ = stream.set_nodelay(true);
                            monoio::spawn(serve_monoio(stream, work));
                        }
                        Err(_) => monoio::time::sleep(ACCEPT_BACKOFF).await,
                    }
                }
            })
        });
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

async fn serve_monoio(mut stream: monoio::net::TcpStream, work: Work) {
    use monoio::io::{AsyncReadRentExt, AsyncWriteRentExt};
    let mut request = vec![0u8; MESSAGE];
    loop {
        let (read, buf) = stream.read_exact(request).await;
        if read.is_err() {
            break;
        }
        async_work::<Monoio, _>(work, monoio::time::sleep).await;
        let (written, buf) = stream.write_all(buf).await;
        if written.is_err() {
            break;
        }
        request = buf;
    }
}

/// The address a server for this run listens on.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}
