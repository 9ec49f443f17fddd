//! The server side of a C10K run. Each model answers every 8-byte request with the same 8
//! bytes after doing the workload's work its own way, and counts what it accepted in memory
//! shared with any worker processes, so that the process that started it can read the counts
//! when it is told to stop (its standard input closes). The models that block (threads,
//! processes) are here; each runtime's server is its adapter's serve hook
//! ([`crate::runtime::serve`]), given this run's [`Service`].

use super::{Model, Work, Workload};
use crate::offload::hash_job;
use crate::runtime::serve::{
    Blocking, Service, Step, blocking_accept_loop, listen, serve_blocking, server_thread,
};
use crate::rusage::{Scope, switches};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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
}

/// The buffer a CPU-bound request hashes, made once.
fn hash_input(bytes: usize) -> &'static [u8] {
    static INPUT: OnceLock<Vec<u8>> = OnceLock::new();
    INPUT.get_or_init(|| (0..bytes).map(|i| i as u8).collect())
}

/// A run's server as the runtimes see it: its work and its counters.
struct C10kService {
    work: Work,
    counters: &'static Counters,
}

impl Service for C10kService {
    fn count_accept(&self, accepted: bool) {
        let counter = match accepted {
            true => &self.counters.accepted,
            false => &self.counters.accept_errors,
        };
        counter.fetch_add(1, Relaxed);
    }
    fn step(&self) -> Step {
        self.work.step()
    }
    fn compute(&self) {
        if let Work::Cpu { bytes, .. } = self.work {
            std::hint::black_box(hash_job(hash_input(bytes)));
        }
    }
}

/// How an OS thread waits and computes: it sleeps, and hashes where it is (the models that
/// block have no loop to keep free, so "offloaded" requests are hashed in place too).
const THREAD: Blocking = Blocking {
    sleep: std::thread::sleep,
    on_pool: |service| service.compute(),
};

/// Runs the server for `model` on this process: prints `ready <port>` once it listens, serves
/// until standard input closes, then prints `stats <json>` and returns. Worker processes and
/// threads end with the process.
pub fn serve(model: Model, workload: &Workload) -> io::Result<()> {
    crate::limits::raise_fd_soft_limit();
    let counters = Counters::shared();
    let service: &'static C10kService = Box::leak(Box::new(C10kService {
        work: workload.work,
        counters,
    }));
    // SO_REUSEPORT on every listener, so that a server may open one per worker on its port.
    let listener = listen(0, true)?;
    let port = listener.local_addr()?.port();
    let mut workers = Vec::new();
    match model {
        Model::ThreadPerConnection => thread_per_connection(listener, service)?,
        Model::ThreadPool => thread_pool(listener, workload.pool_threads, service)?,
        Model::Prefork => workers = prefork(listener, workload.prefork_workers, service)?,
        Model::Runtime(flavour) => {
            let server = flavour
                .server
                .as_ref()
                .ok_or_else(|| io::Error::other(format!("{} has no server", flavour.id)))?;
            (server.serve)(listener, service)?
        }
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

/// Accepts on a thread of its own, handing each connection (with Nagle off) to `handle`.
fn blocking_acceptor(
    listener: TcpListener,
    service: &'static C10kService,
    handle: impl FnMut(TcpStream) + Send + 'static,
) -> io::Result<()> {
    server_thread("acceptor", move || {
        blocking_accept_loop(
            || listener.accept().map(|(stream, _)| stream),
            |stream| drop(stream.set_nodelay(true)),
            service,
            std::thread::sleep,
            handle,
        )
    })
}

fn thread_per_connection(listener: TcpListener, service: &'static C10kService) -> io::Result<()> {
    blocking_acceptor(listener, service, move |stream| {
        let spawned =
            std::thread::Builder::new().spawn(move || serve_blocking(stream, service, &THREAD));
        if spawned.is_err() {
            service.counters.spawn_errors.fetch_add(1, Relaxed);
        }
    })
}

fn thread_pool(
    listener: TcpListener,
    threads: usize,
    service: &'static C10kService,
) -> io::Result<()> {
    let (queue, connections) = crossbeam_channel::unbounded::<TcpStream>();
    for i in 0..threads {
        let connections = connections.clone();
        server_thread(&format!("pool-{i}"), move || {
            for stream in connections {
                serve_blocking(stream, service, &THREAD);
            }
        })?;
    }
    blocking_acceptor(listener, service, move |stream| {
        let _ = queue.send(stream);
    })
}

/// Forks `workers` processes, each a blocking accept loop that serves one connection at a
/// time. Must run before this process starts any thread.
fn prefork(
    listener: TcpListener,
    workers: usize,
    service: &'static C10kService,
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
                prefork_worker(&listener, service)
            }
            ForkResult::Parent { child } => pids.push(child),
        }
    }
    Ok(pids)
}

/// A blocking accept loop that serves each connection itself, counting the sleeps each
/// `accept` took.
fn prefork_worker(listener: &TcpListener, service: &'static C10kService) -> ! {
    let counters = service.counters;
    let accept_counting_sleeps = || {
        let before = switches(Scope::Thread).voluntary;
        let accepted = listener.accept();
        let sleeps = switches(Scope::Thread).voluntary - before;
        counters.accept_sleeps.fetch_add(sleeps, Relaxed);
        counters
            .wasted_wakeups
            .fetch_add(sleeps.saturating_sub(1), Relaxed);
        accepted.map(|(stream, _)| stream)
    };
    blocking_accept_loop(
        accept_counting_sleeps,
        |stream| drop(stream.set_nodelay(true)),
        service,
        std::thread::sleep,
        |stream| serve_blocking(stream, service, &THREAD),
    )
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

/// The address a server for this run listens on.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}
