//! may: stackful coroutines on [`WORKERS`] worker threads, the goroutine model in Rust. It
//! is not an async runtime: its coroutines block, and may switches them underneath, so the
//! task scenarios are written for it on their own (`tasks::may`). Here is what they and a
//! server share: starting its scheduler, handing work to a pool, and serving TCP.

use super::WORKERS;
use super::serve::{Blocking, Service, blocking_accept_loop, serve_blocking};
use std::io;
use std::net::TcpListener;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Fixes may's worker count. Its scheduler is process-wide and takes its configuration once,
/// before its first coroutine; later calls change nothing.
pub fn configure() {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    CONFIGURED.call_once(|| {
        may::config().set_workers(WORKERS);
    });
}

/// Runs `job` on rayon's pool from a may coroutine and waits for it without blocking the
/// coroutine's worker: the coroutine sleeps in steps of [`MAY_POLL`] until the job is done.
///
/// Not a may channel that the rayon thread sends on: a channel made and dropped per job, sent
/// on from a foreign thread while the coroutine waited, corrupted the heap here about once in
/// six runs of `blocked_loop/may_2w_offloaded` (glibc: "malloc(): unaligned tcache chunk
/// detected"). Under glibc's checking allocator (`libc_malloc_debug.so`, `malloc.check=3`,
/// `malloc.perturb`) that version crashed in 2 of 7 runs, each time in may's event loop:
/// `sleep::subscribe` → `CancelImpl::set_co` dropping the coroutine handle held in its cancel
/// slot, already freed. A coroutine parked on a may channel and unparked by a thread may does
/// not run races with may's own bookkeeping of its next sleep: a may bug, not one of ours.
/// Polling an atomic shares nothing with may but the flag; under the same allocator this
/// version ran all eight may blocked-loop rows clean in six runs out of six. Never inlined,
/// so that no thread-local address computed before a wait (after which the coroutine may run
/// on another OS thread) is used after it.
#[inline(never)]
pub fn on_rayon_from_may(job: impl FnOnce() + Send + 'static) {
    let done = Arc::new(AtomicBool::new(false));
    let finished = done.clone();
    rayon::spawn(move || {
        job();
        finished.store(true, Ordering::Release);
    });
    while !done.load(Ordering::Acquire) {
        may::coroutine::sleep(MAY_POLL);
    }
}

/// How often a may coroutine looks whether its rayon job is done.
pub const MAY_POLL: Duration = Duration::from_micros(20);

/// How a server's coroutine waits and offloads: a coroutine sleep, and rayon's pool, since
/// may has no pool of its own.
const COROUTINE: Blocking = Blocking {
    sleep: may::coroutine::sleep,
    on_pool: |service| on_rayon_from_may(move || service.compute()),
};

/// Serves with one coroutine per connection, accepted by a coroutine of its own.
pub fn serve(listener: TcpListener, service: &'static dyn Service) -> io::Result<()> {
    configure();
    // SAFETY: the descriptor comes from a listener we own and give up here.
    let listener = unsafe { may::net::TcpListener::from_raw_fd(listener.into_raw_fd()) };
    may::go!(move || {
        blocking_accept_loop(
            || listener.accept().map(|(stream, _)| stream),
            |stream| drop(stream.set_nodelay(true)),
            service,
            may::coroutine::sleep,
            |stream| {
                drop(may::go!(move || serve_blocking(
                    stream, service, &COROUTINE
                )))
            },
        )
    });
    Ok(())
}
