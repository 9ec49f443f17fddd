//! One-way hand-offs of a token from one thread (or process) to another: the primitive that
//! ping-pongs and rings are built from. Each kind blocks the receiver in a different kernel
//! or library mechanism, which is what the context-switch benches compare.
//!
//! Closing is part of the protocol: dropping a sender makes the receiver's `take` return
//! `false`, so a ring shuts down by a cascade of closes and no thread waits forever.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar as StdCondvar, Mutex};
use std::time::Duration;

/// The sending side of a hand-off.
pub trait TokenSender: Send + 'static {
    /// Hands the token to the receiver.
    fn pass(&mut self) -> io::Result<()>;
}

/// The receiving side of a hand-off.
pub trait TokenReceiver: Send + 'static {
    /// Blocks until the token arrives (`true`) or the sender is gone (`false`).
    fn take(&mut self) -> io::Result<bool>;
}

/// A kind of hand-off: opens connected sender/receiver pairs.
pub trait Link: 'static {
    type Sender: TokenSender;
    type Receiver: TokenReceiver;
    fn open() -> io::Result<(Self::Sender, Self::Receiver)>;
}

/// A one-byte write to a pipe; the receiver blocks in `read`. Works across processes.
pub struct Pipe;

pub struct PipeSender(File);
pub struct PipeReceiver(File);

impl Link for Pipe {
    type Sender = PipeSender;
    type Receiver = PipeReceiver;
    fn open() -> io::Result<(PipeSender, PipeReceiver)> {
        let (reader, writer) = std::io::pipe()?;
        Ok((
            PipeSender(File::from(OwnedFd::from(writer))),
            PipeReceiver(File::from(OwnedFd::from(reader))),
        ))
    }
}

impl TokenSender for PipeSender {
    fn pass(&mut self) -> io::Result<()> {
        loop {
            match self.0.write(&[1]) {
                Ok(1) => return Ok(()),
                Ok(_) => return Err(io::ErrorKind::WriteZero.into()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl TokenReceiver for PipeReceiver {
    fn take(&mut self) -> io::Result<bool> {
        let mut byte = [0u8; 1];
        loop {
            match self.0.read(&mut byte) {
                Ok(n) => return Ok(n == 1),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl PipeSender {
    pub fn raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
    /// The underlying file, for writing a final report after the token protocol ends.
    pub fn file(&mut self) -> &mut File {
        &mut self.0
    }
}

impl PipeReceiver {
    pub fn raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
    /// The underlying file, for reading a final report after the token protocol ends.
    pub fn file(&mut self) -> &mut File {
        &mut self.0
    }
}

/// A shared word and the raw `futex(2)` syscall: FUTEX_WAKE to hand over, FUTEX_WAIT to block.
/// The floor under every blocking primitive in glibc and std.
pub struct Futex;

const EMPTY: u32 = 0;
const TOKEN: u32 = 1;
const CLOSED: u32 = 2;

/// How long one FUTEX_WAIT may sleep before it re-checks the word: a bound, never hit in a
/// healthy ring, so a lost wake-up cannot hang a benchmark.
const FUTEX_RECHECK: Duration = Duration::from_millis(200);

pub struct FutexSender(Arc<AtomicU32>);
pub struct FutexReceiver(Arc<AtomicU32>);

impl Link for Futex {
    type Sender = FutexSender;
    type Receiver = FutexReceiver;
    fn open() -> io::Result<(FutexSender, FutexReceiver)> {
        let word = Arc::new(AtomicU32::new(EMPTY));
        Ok((FutexSender(word.clone()), FutexReceiver(word)))
    }
}

fn futex_wake(word: &AtomicU32) {
    // SAFETY: the address is a live, aligned u32 for the duration of the call.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

fn futex_wait(word: &AtomicU32, expected: u32) {
    let timeout = libc::timespec {
        tv_sec: FUTEX_RECHECK.as_secs() as libc::time_t,
        tv_nsec: FUTEX_RECHECK.subsec_nanos() as libc::c_long,
    };
    // SAFETY: as above; the kernel only reads the word and the timespec. EAGAIN, EINTR and
    // ETIMEDOUT all mean "look at the word again", which the caller does.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &timeout as *const libc::timespec,
        );
    }
}

impl TokenSender for FutexSender {
    fn pass(&mut self) -> io::Result<()> {
        self.0.store(TOKEN, Ordering::Release);
        futex_wake(&self.0);
        Ok(())
    }
}

impl Drop for FutexSender {
    fn drop(&mut self) {
        self.0.store(CLOSED, Ordering::Release);
        futex_wake(&self.0);
    }
}

impl TokenReceiver for FutexReceiver {
    fn take(&mut self) -> io::Result<bool> {
        loop {
            match self
                .0
                .compare_exchange(TOKEN, EMPTY, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => return Ok(true),
                Err(CLOSED) => return Ok(false),
                Err(_) => futex_wait(&self.0, EMPTY),
            }
        }
    }
}

/// std's `Mutex` + `Condvar`: the textbook blocking hand-off.
pub struct Condvar;

#[derive(Default)]
struct Slot {
    state: Mutex<u32>,
    changed: StdCondvar,
}

pub struct CondvarSender(Arc<Slot>);
pub struct CondvarReceiver(Arc<Slot>);

impl Link for Condvar {
    type Sender = CondvarSender;
    type Receiver = CondvarReceiver;
    fn open() -> io::Result<(CondvarSender, CondvarReceiver)> {
        let slot = Arc::new(Slot::default());
        Ok((CondvarSender(slot.clone()), CondvarReceiver(slot)))
    }
}

impl CondvarSender {
    fn set(&self, value: u32) {
        *self.0.state.lock().unwrap_or_else(|p| p.into_inner()) = value;
        self.0.changed.notify_one();
    }
}

impl TokenSender for CondvarSender {
    fn pass(&mut self) -> io::Result<()> {
        self.set(TOKEN);
        Ok(())
    }
}

impl Drop for CondvarSender {
    fn drop(&mut self) {
        self.set(CLOSED);
    }
}

impl TokenReceiver for CondvarReceiver {
    fn take(&mut self) -> io::Result<bool> {
        let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match *state {
                TOKEN => {
                    *state = EMPTY;
                    return Ok(true);
                }
                CLOSED => return Ok(false),
                _ => {
                    state = self
                        .0
                        .changed
                        .wait_timeout(state, FUTEX_RECHECK)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            }
        }
    }
}

/// A crossbeam bounded channel of capacity one. It spins briefly before parking, so across
/// CPUs a hand-off may complete without any context switch: the switch count shows which.
pub struct Channel;

pub struct ChannelSender(crossbeam_channel::Sender<()>);
pub struct ChannelReceiver(crossbeam_channel::Receiver<()>);

impl Link for Channel {
    type Sender = ChannelSender;
    type Receiver = ChannelReceiver;
    fn open() -> io::Result<(ChannelSender, ChannelReceiver)> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        Ok((ChannelSender(tx), ChannelReceiver(rx)))
    }
}

impl TokenSender for ChannelSender {
    fn pass(&mut self) -> io::Result<()> {
        self.0
            .send(())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "receiver gone"))
    }
}

impl TokenReceiver for ChannelReceiver {
    fn take(&mut self) -> io::Result<bool> {
        Ok(self.0.recv().is_ok())
    }
}

/// A ring member's whole life: take the token, hand it on, until the link behind closes.
/// Returns how many tokens it forwarded. Allocates nothing, so a forked child may run it.
pub fn forward<R: TokenReceiver, S: TokenSender>(rx: &mut R, tx: &mut S) -> io::Result<u64> {
    let mut forwarded = 0;
    while rx.take()? {
        tx.pass()?;
        forwarded += 1;
    }
    Ok(forwarded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-party ping-pong over two links, then a close that must reach the far side.
    fn ping_pongs_then_closes<L: Link>() {
        let (mut ping, mut ping_rx) = L::open().unwrap();
        let (mut pong_tx, mut pong) = L::open().unwrap();
        let partner = std::thread::spawn(move || forward(&mut ping_rx, &mut pong_tx).unwrap());
        for _ in 0..100 {
            ping.pass().unwrap();
            assert!(pong.take().unwrap());
        }
        drop(ping);
        assert!(!pong.take().unwrap(), "close did not travel back");
        assert_eq!(partner.join().unwrap(), 100);
    }

    #[test]
    fn every_link_kind_hands_over_and_closes() {
        ping_pongs_then_closes::<Pipe>();
        ping_pongs_then_closes::<Futex>();
        ping_pongs_then_closes::<Condvar>();
        ping_pongs_then_closes::<Channel>();
    }

    #[test]
    fn forward_counts_tokens_until_close() {
        let (mut in_tx, mut in_rx) = Pipe::open().unwrap();
        let (mut out_tx, mut out_rx) = Pipe::open().unwrap();
        for _ in 0..5 {
            in_tx.pass().unwrap();
        }
        drop(in_tx);
        assert_eq!(forward(&mut in_rx, &mut out_tx).unwrap(), 5);
        drop(out_tx);
        let mut seen = 0;
        while out_rx.take().unwrap() {
            seen += 1;
        }
        assert_eq!(seen, 5);
    }
}
