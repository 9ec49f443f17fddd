//! Serving TCP on a runtime, for the whole-server runs of `costs c10k`. A runtime's serve hook
//! takes a listening socket and a [`Service`] and from then on accepts for ever, serving each
//! connection in a task of its own: read a request, do its work, write the request back as
//! the reply. The accept loop and the connection loop are written once here; a runtime adds
//! its socket types ([`Accept`], [`Exchange`]), its timer and a way to detach a task
//! ([`Serves`]), and how it starts its server threads.

use super::AsyncRuntime;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::FromRawFd;
use std::time::Duration;

/// Bytes of a request and of its reply.
pub const MESSAGE: usize = 8;

/// Listen backlog asked for; the kernel caps it at `net.core.somaxconn`. Connections wait
/// here until a server accepts them, so it bounds how many a server that accepts slowly (a
/// fixed set of prefork workers) can have established at once.
pub const BACKLOG: i32 = 4096;

/// Pauses an accept loop briefly after an error such as EMFILE, which would otherwise spin.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(1);

/// One request's work as a server carries it out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// Simulated I/O: wait, the server's own way (a sleeping thread, a timer).
    Wait(Duration),
    /// CPU-bound work where the request was read.
    Compute,
    /// CPU-bound work on the runtime's pool for blocking work, off the loop.
    ComputeOnPool,
}

/// What a server does, as the runtime serving it sees it.
pub trait Service: Sync {
    /// Counts one `accept`: a connection, or an error (out of fds, for instance).
    fn count_accept(&self, accepted: bool);
    /// What each request asks for.
    fn step(&self) -> Step;
    /// The CPU-bound work of one request.
    fn compute(&self);
}

/// A server's [`Service`], shared by all its tasks for the life of the process. A type of its
/// own, without a lifetime parameter: a bare `&'static dyn Service` held across an await
/// makes the compiler ask for `Send` at every lifetime, which it cannot show.
#[derive(Clone, Copy)]
pub struct Shared(pub &'static dyn Service);

impl std::ops::Deref for Shared {
    type Target = dyn Service;
    fn deref(&self) -> &(dyn Service + 'static) {
        self.0
    }
}

/// Starts a server on this process: its threads accept on the listener and serve until the
/// process exits. Returns once it accepts, or why it could not start.
pub type ServeHook = fn(TcpListener, &'static dyn Service) -> io::Result<()>;

/// A runtime's listening socket. It is moved into each call and handed back with the
/// result, as the sockets are in [`Exchange`].
pub trait Accept: Sized {
    type Connection: Exchange;
    /// Accepts one connection, with Nagle's algorithm off (every reply is one small write).
    fn accept(self) -> impl Future<Output = (Self, io::Result<Self::Connection>)>;
}

/// A runtime's connected socket. Each call takes the socket and hands it back with the
/// result: a future that borrowed it would carry a lifetime, and the compiler then cannot
/// show that the connection loop written once below is `Send` for the runtimes that need it.
pub trait Exchange: Sized {
    fn read_request(self) -> impl Future<Output = (Self, io::Result<[u8; MESSAGE]>)>;
    fn write_reply(self, reply: [u8; MESSAGE]) -> impl Future<Output = (Self, io::Result<()>)>;
}

/// Implements [`Accept`] and [`Exchange`] for a runtime's listener and stream whose
/// `accept`, `read_exact` and `write_all` borrow (tokio's, async-std's, async-io's): the
/// traits that give `read_exact` and `write_all` must be in scope where it is used, and
/// `$nodelay` turns Nagle's algorithm off on `$stream`.
macro_rules! borrowing_tcp {
    ($listener:ty, $connection:ty, |$stream:ident| $nodelay:expr) => {
        impl $crate::runtime::serve::Accept for $listener {
            type Connection = $connection;
            async fn accept(self) -> (Self, ::std::io::Result<$connection>) {
                let accepted = <$listener>::accept(&self).await;
                let connection = accepted.map(|($stream, _)| {
                    let _ = $nodelay;
                    $stream
                });
                (self, connection)
            }
        }

        impl $crate::runtime::serve::Exchange for $connection {
            async fn read_request(
                mut self,
            ) -> (
                Self,
                ::std::io::Result<[u8; $crate::runtime::serve::MESSAGE]>,
            ) {
                let mut request = [0; $crate::runtime::serve::MESSAGE];
                let read = self.read_exact(&mut request).await;
                (self, read.map(|_| request))
            }
            async fn write_reply(
                mut self,
                reply: [u8; $crate::runtime::serve::MESSAGE],
            ) -> (Self, ::std::io::Result<()>) {
                let written = self.write_all(&reply).await;
                (self, written)
            }
        }
    };
}
pub(crate) use borrowing_tcp;

/// What a runtime adds to [`AsyncRuntime`] to host a TCP server.
pub trait Serves: AsyncRuntime {
    type Listener: Accept;
    /// Waits `wait` on the runtime's own timer.
    fn sleep(wait: Duration) -> impl Future<Output = ()>;
    /// Serves `connection` in a task of its own, not awaited: [`serve_connection`] spawned
    /// the runtime's way.
    fn detach(connection: <Self::Listener as Accept>::Connection, service: Shared);
}

/// Accepts on `listener` for ever, each connection served in a detached task.
pub async fn accept_loop<R: Serves>(mut listener: R::Listener, service: Shared) {
    loop {
        let (back, accepted) = listener.accept().await;
        listener = back;
        service.count_accept(accepted.is_ok());
        match accepted {
            Ok(connection) => R::detach(connection, service),
            Err(_) => R::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

/// Serves one connection until the client closes it.
pub async fn serve_connection<R: Serves>(
    mut connection: <R::Listener as Accept>::Connection,
    service: Shared,
) {
    loop {
        let (back, read) = connection.read_request().await;
        let Ok(request) = read else { break };
        match service.step() {
            Step::Wait(wait) => R::sleep(wait).await,
            Step::Compute => service.compute(),
            Step::ComputeOnPool => R::offload(move || service.compute()).await,
        }
        let (back, written) = back.write_reply(request).await;
        if written.is_err() {
            break;
        }
        connection = back;
    }
}

/// The blocking counterparts, for servers whose threads (or coroutines) may block: how they
/// wait, and how they hand CPU-bound work to a pool and wait for it.
pub struct Blocking {
    pub sleep: fn(Duration),
    pub on_pool: fn(&'static dyn Service),
}

/// Accepts for ever with a blocking `accept`, handing each connection (Nagle off) to
/// `handle`.
pub fn blocking_accept_loop<S>(
    mut accept: impl FnMut() -> io::Result<S>,
    nodelay: impl Fn(&S),
    service: &'static dyn Service,
    sleep: fn(Duration),
    mut handle: impl FnMut(S),
) -> ! {
    loop {
        let accepted = accept();
        service.count_accept(accepted.is_ok());
        match accepted {
            Ok(stream) => {
                nodelay(&stream);
                handle(stream);
            }
            Err(_) => sleep(ACCEPT_BACKOFF),
        }
    }
}

/// Serves one connection on a thread (or coroutine) that may block, until the client closes.
pub fn serve_blocking<S: Read + Write>(
    mut stream: S,
    service: &'static dyn Service,
    how: &Blocking,
) {
    let mut request = [0u8; MESSAGE];
    while stream.read_exact(&mut request).is_ok() {
        match service.step() {
            Step::Wait(wait) => (how.sleep)(wait),
            Step::Compute => service.compute(),
            Step::ComputeOnPool => (how.on_pool)(service),
        }
        if stream.write_all(&request).is_err() {
            break;
        }
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

/// Starts a named server thread.
pub fn server_thread(name: &str, body: impl FnOnce() + Send + 'static) -> io::Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map(drop)
}
