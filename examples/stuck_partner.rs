//! A stand-in for a benchmark whose partner gets stuck, for testing the watchdog end to end:
//! `stuck/echo` exchanges one-byte tokens with a forked child over two pipes, and stops the
//! child (SIGSTOP) after the first batch, so the next batch waits for a reply that never
//! comes. Run with `--bench`; it prints the child's pid. In Criterion's test mode (what
//! `cargo test --all-targets` runs) there is one batch only, and it finishes cleanly. Not
//! part of `cargo bench`.

use concurrency_costs::harness::{self, Group};
use concurrency_costs::process::{EXIT_GRACE, close_fds_except, die_with_parent, reap_within};
use concurrency_costs::ring::{ExchangeReport, Partner};
use concurrency_costs::rusage::Switches;
use criterion::{Criterion, criterion_group, criterion_main};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

struct Echo {
    child: Pid,
    to_child: Option<File>,
    from_child: File,
    batches: u64,
    laps: u64,
}

impl Echo {
    fn spawn() -> io::Result<Echo> {
        let (child_rx, to_child) = pipe()?;
        let (from_child, child_tx) = pipe()?;
        let parent = getpid();
        // SAFETY: the child runs only reads, writes and _exit.
        match unsafe { fork() }? {
            ForkResult::Child => {
                die_with_parent(parent);
                // The parent's ends too: held here, the child's input would never close.
                close_fds_except(&[child_rx.as_raw_fd(), child_tx.as_raw_fd()]);
                let (mut rx, mut tx) = (File::from(child_rx), File::from(child_tx));
                let mut token = [0u8];
                while rx.read_exact(&mut token).is_ok() && tx.write_all(&token).is_ok() {}
                // SAFETY: ends the child without running the parent's destructors.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Parent { child } => {
                eprintln!("stuck partner: child {child}");
                Ok(Echo {
                    child,
                    to_child: Some(File::from(to_child)),
                    from_child: File::from(from_child),
                    batches: 0,
                    laps: 0,
                })
            }
        }
    }
}

impl Partner for Echo {
    fn time_hops(&mut self, hops: u64) -> io::Result<Duration> {
        self.batches += 1;
        if self.batches == 2 {
            kill(self.child, Signal::SIGSTOP)?;
        }
        let to_child = self.to_child.as_mut().expect("open until finish");
        let start = Instant::now();
        let mut token = [1u8];
        for _ in 0..hops.div_ceil(2) {
            to_child.write_all(&token)?;
            self.from_child.read_exact(&mut token)?;
            self.laps += 1;
        }
        Ok(start.elapsed())
    }

    fn finish(mut self) -> io::Result<ExchangeReport> {
        self.to_child = None;
        reap_within(self.child, EXIT_GRACE)?;
        Ok(ExchangeReport {
            members: 2,
            laps: self.laps,
            forwarded: vec![self.laps],
            switches: Switches::default(),
        })
    }
}

fn stuck(c: &mut Criterion) {
    let mut group = Group::new(c, "stuck");
    group.partner("echo", "", Echo::spawn);
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = stuck
}
criterion_main!(benches);
