//! Memory per concurrency unit: start N idle units (threads, tasks, coroutines), each parked on
//! something real, read this process's memory while every one of them is provably alive, then
//! release them and count them gone. `costs footprint` runs each kind in a fresh process so
//! that one kind's leftovers (allocator caches, runtime threads) never count for another.

use crate::results::Kept;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long units may take to start or to finish before the measurement gives up.
pub const UNIT_DEADLINE: Duration = Duration::from_secs(60);

/// This process's memory, and the machine's kernel stacks, at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// Resident set, bytes.
    pub rss: u64,
    /// Virtual size, bytes.
    pub virtual_size: u64,
    /// This process's page tables, bytes.
    pub page_tables: u64,
    /// Kernel stacks of every thread on the machine, bytes (the kernel's per-thread cost).
    pub kernel_stacks: u64,
    pub threads: u64,
}

impl Memory {
    pub fn read() -> Memory {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Memory {
            rss: kib_field(&status, "VmRSS:") * 1024,
            virtual_size: kib_field(&status, "VmSize:") * 1024,
            page_tables: kib_field(&status, "VmPTE:") * 1024,
            kernel_stacks: kib_field(&meminfo, "KernelStack:") * 1024,
            threads: kib_field(&status, "Threads:"),
        }
    }
}

/// The number after `name` in a `/proc` key-value file (kB fields are returned as written).
pub(crate) fn kib_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Memory before and while `units` units were parked, and what became of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedSample {
    pub units: usize,
    pub before: Memory,
    pub during: Memory,
    /// Units that had started and were parked when `during` was read.
    pub alive: usize,
    /// Units that ran to completion after being released.
    pub finished: usize,
}

impl ParkedSample {
    pub fn of(units: usize, before: Memory, during: Memory, alive: usize, finished: usize) -> Self {
        ParkedSample {
            units,
            before,
            during,
            alive,
            finished,
        }
    }
}

/// `costs footprint`'s complete rows, per unit kind.
pub const FOOTPRINTS: Kept<Footprint> = Kept::new("footprint.json");

/// One row of the footprint table: bytes per unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Footprint {
    pub unit: String,
    pub units: usize,
    pub alive: usize,
    pub finished: usize,
    pub rss_per_unit: f64,
    pub virtual_per_unit: f64,
    pub page_tables_per_unit: f64,
    pub kernel_stack_per_unit: f64,
    pub threads_added: i64,
    /// The run that kept it; none in files kept before runs were recorded.
    #[serde(default)]
    pub run: Option<crate::provenance::Run>,
}

impl Footprint {
    pub fn from_sample(unit: &str, s: &ParkedSample) -> Footprint {
        let per = |after: u64, before: u64| (after as f64 - before as f64) / s.units.max(1) as f64;
        Footprint {
            unit: unit.to_string(),
            units: s.units,
            alive: s.alive,
            finished: s.finished,
            rss_per_unit: per(s.during.rss, s.before.rss),
            virtual_per_unit: per(s.during.virtual_size, s.before.virtual_size),
            page_tables_per_unit: per(s.during.page_tables, s.before.page_tables),
            kernel_stack_per_unit: per(s.during.kernel_stacks, s.before.kernel_stacks),
            threads_added: s.during.threads as i64 - s.before.threads as i64,
            run: None,
        }
    }

    /// Every unit was alive when measured and finished when released.
    pub fn is_complete(&self) -> bool {
        self.alive == self.units && self.finished == self.units
    }
}

/// The memory reading once the thread count is back to `threads`: a joined thread leaves the
/// kernel's count a moment after `join` returns (it wakes the joiner before it is reaped), and
/// counted in the "before" reading it made one run here report 99 threads added for 100.
fn settled_thread_count(threads: u64) -> Memory {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let now = Memory::read();
        if now.threads <= threads || std::time::Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
}

/// Parks `units` OS threads with `stack` bytes of stack, each blocked on a shared channel.
pub fn parked_threads(units: usize, stack: usize) -> ParkedSample {
    let threads_before_warm = Memory::read().threads;
    let warm = std::thread::Builder::new().stack_size(stack).spawn(|| ());
    let _ = warm.map(|t| t.join());
    let before = settled_thread_count(threads_before_warm);
    let (release, parked) = crossbeam_channel::bounded::<()>(0);
    let (ready, started) = crossbeam_channel::unbounded::<()>();
    let threads: Vec<_> = (0..units)
        .map_while(|_| {
            let (parked, ready) = (parked.clone(), ready.clone());
            std::thread::Builder::new()
                .stack_size(stack)
                .spawn(move || {
                    let _ = ready.send(());
                    // Blocks until the sender is dropped; the timeout only bounds a bug.
                    let _ = parked.recv_timeout(UNIT_DEADLINE);
                })
                .ok()
        })
        .collect();
    let alive = (0..threads.len())
        .take_while(|_| started.recv_timeout(UNIT_DEADLINE).is_ok())
        .count();
    let during = Memory::read();
    drop(release);
    let finished = threads.into_iter().filter_map(|t| t.join().ok()).count();
    ParkedSample::of(units, before, during, alive, finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_fields_in_bytes() {
        let status = "VmRSS:\t    1960 kB\nThreads:\t3\n";
        assert_eq!(kib_field(status, "VmRSS:"), 1960);
        assert_eq!(kib_field(status, "Threads:"), 3);
        assert_eq!(kib_field(status, "VmPTE:"), 0);
        let now = Memory::read();
        assert!(now.rss > 0 && now.virtual_size >= now.rss && now.threads >= 1);
    }

    /// Only what tests running in parallel cannot disturb: process-wide thread and memory
    /// counts move with them, so those are checked in a fresh process (tests/footprint_cli.rs).
    #[test]
    fn parked_threads_are_all_alive_when_measured_and_all_gone_after() {
        let sample = parked_threads(50, 64 << 10);
        let row = Footprint::from_sample("thread", &sample);
        assert!(row.is_complete(), "{row:?}");
    }
}
