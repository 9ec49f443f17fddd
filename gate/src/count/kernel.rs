//! Events the kernel counts for this process and everything it starts: syscalls, context
//! switches (and which of them were involuntary), and page faults.
//!
//! Each counter is opened with `perf_event_open(2)` on the calling thread with `inherit`
//! set, so every thread and child process started after it is counted too, and reading it
//! sums them all (live and exited). Open them before the benchmark starts its partners.
//! Only software events and tracepoints are used: a VM without hardware counters has these.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Read};
use std::ops::Sub;
use std::os::fd::{FromRawFd, OwnedFd};

/// What the kernel counted over some span, summed over the process and its descendants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Events {
    pub syscalls: u64,
    pub context_switches: u64,
    /// Switches out of a task that was still runnable (preempted, or yielded): what
    /// `getrusage` calls involuntary. The rest are voluntary (the task blocked).
    pub involuntary_switches: u64,
    pub minor_faults: u64,
    pub major_faults: u64,
}

impl Events {
    pub fn voluntary_switches(&self) -> u64 {
        self.context_switches
            .saturating_sub(self.involuntary_switches)
    }
}

impl Sub for Events {
    type Output = Events;
    fn sub(self, earlier: Events) -> Events {
        Events {
            syscalls: self.syscalls - earlier.syscalls,
            context_switches: self.context_switches - earlier.context_switches,
            involuntary_switches: self.involuntary_switches - earlier.involuntary_switches,
            minor_faults: self.minor_faults - earlier.minor_faults,
            major_faults: self.major_faults - earlier.major_faults,
        }
    }
}

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_COUNT_SW_CONTEXT_SWITCHES: u64 = 3;
const PERF_COUNT_SW_PAGE_FAULTS_MIN: u64 = 5;
const PERF_COUNT_SW_PAGE_FAULTS_MAJ: u64 = 6;
/// `_IOW('$', 6, char *)`.
const PERF_EVENT_IOC_SET_FILTER: libc::c_ulong = 0x4008_2406;
/// perf_event_open's flag for a close-on-exec descriptor.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
/// attr.flags bits.
const INHERIT: u64 = 1 << 1;
const EXCLUDE_HV: u64 = 1 << 6;

/// Where the kernel publishes tracepoint IDs (tracefs, or its older home under debugfs).
const TRACEFS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// `sched_switch`'s `prev_state` for a task switched out while runnable: 0 when it yielded,
/// `TASK_REPORT_MAX` (0x100) when it was preempted.
const RUNNABLE_FILTER: &str = "prev_state == 0 || prev_state == 256";

/// `struct perf_event_attr` up to `config1` (PERF_ATTR_SIZE_VER0, 64 bytes): every field a
/// counting (not sampling) event needs; the kernel accepts the short form.
#[repr(C)]
#[derive(Default)]
struct Attr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

/// The five counters, open and counting.
pub struct Counters {
    syscalls: File,
    switches: File,
    involuntary: File,
    minor_faults: File,
    major_faults: File,
}

impl Counters {
    /// Opens every counter on the calling thread, inherited by what it starts from now on.
    /// Fails with the reason when the kernel refuses (no perf events, not permitted, no
    /// tracefs): the caller says so and counts nothing.
    pub fn open() -> Result<Counters, String> {
        let tracepoint = |name: &str| {
            tracepoint_id(name).ok_or_else(|| {
                format!("no tracepoint {name} (tracefs is not mounted or not readable)")
            })
        };
        let syscalls = open(PERF_TYPE_TRACEPOINT, tracepoint("raw_syscalls/sys_enter")?)
            .map_err(|e| refused("raw_syscalls:sys_enter", e))?;
        let involuntary = open(PERF_TYPE_TRACEPOINT, tracepoint("sched/sched_switch")?)
            .map_err(|e| refused("sched:sched_switch", e))?;
        set_filter(&involuntary, RUNNABLE_FILTER)
            .map_err(|e| format!("cannot filter sched:sched_switch: {e}"))?;
        let software =
            |config, name| open(PERF_TYPE_SOFTWARE, config).map_err(|e| refused(name, e));
        Ok(Counters {
            syscalls,
            involuntary,
            switches: software(PERF_COUNT_SW_CONTEXT_SWITCHES, "context-switches")?,
            minor_faults: software(PERF_COUNT_SW_PAGE_FAULTS_MIN, "minor-faults")?,
            major_faults: software(PERF_COUNT_SW_PAGE_FAULTS_MAJ, "major-faults")?,
        })
    }

    /// Everything counted since the counters were opened.
    pub fn read(&mut self) -> io::Result<Events> {
        Ok(Events {
            syscalls: read_count(&mut self.syscalls)?,
            context_switches: read_count(&mut self.switches)?,
            involuntary_switches: read_count(&mut self.involuntary)?,
            minor_faults: read_count(&mut self.minor_faults)?,
            major_faults: read_count(&mut self.major_faults)?,
        })
    }
}

fn refused(event: &str, e: io::Error) -> String {
    format!(
        "the kernel refused to count {event}: {e} (needs root or kernel.perf_event_paranoid <= -1)"
    )
}

fn tracepoint_id(name: &str) -> Option<u64> {
    TRACEFS.iter().find_map(|root| {
        std::fs::read_to_string(format!("{root}/events/{name}/id"))
            .ok()?
            .trim()
            .parse()
            .ok()
    })
}

/// A counting event on this thread (and, inherited, on everything it starts), user and
/// kernel side alike, enabled at once.
fn open(kind: u32, config: u64) -> io::Result<File> {
    let attr = Attr {
        kind,
        size: std::mem::size_of::<Attr>() as u32,
        config,
        flags: INHERIT | EXCLUDE_HV,
        ..Attr::default()
    };
    // SAFETY: attr is a valid perf_event_attr of the size it declares; pid 0 and cpu -1 mean
    // this thread on any CPU; no group, no flags.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const Attr,
            0,
            -1,
            -1,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor, owned by nothing else.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}

fn set_filter(counter: &File, filter: &str) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let text = std::ffi::CString::new(filter).expect("the filter has no NUL");
    // SAFETY: the descriptor is a perf event; the argument is a NUL-terminated string that
    // outlives the call.
    let rc = unsafe {
        libc::ioctl(
            counter.as_raw_fd(),
            PERF_EVENT_IOC_SET_FILTER,
            text.as_ptr(),
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// A counter's value: with no read format, one u64, summed over inherited children.
fn read_count(counter: &mut File) -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    counter.read_exact(&mut bytes)?;
    Ok(u64::from_ne_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counters need root (or a permissive perf_event_paranoid) and tracefs; where the
    /// kernel refuses, say so and test nothing.
    fn counters_or_skip(test: &str) -> Option<Counters> {
        match Counters::open() {
            Ok(c) => Some(c),
            Err(why) => {
                eprintln!("{test}: skipped: {why}");
                None
            }
        }
    }

    #[test]
    fn a_thread_started_after_opening_has_its_syscalls_counted() {
        let Some(mut counters) = counters_or_skip("inherit") else {
            return;
        };
        let before = counters.read().unwrap();
        std::thread::spawn(|| {
            for _ in 0..1000 {
                // SAFETY: getppid takes no arguments and cannot fail.
                unsafe { libc::syscall(libc::SYS_getppid) };
            }
        })
        .join()
        .unwrap();
        let counted = counters.read().unwrap() - before;
        // The thread's 1,000 getppid calls, plus the few that starting and joining it take.
        assert!(
            (1000..1100).contains(&counted.syscalls),
            "{} syscalls",
            counted.syscalls
        );
    }

    #[test]
    fn a_blocking_read_is_a_voluntary_switch() {
        let Some(mut counters) = counters_or_skip("switches") else {
            return;
        };
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let before = counters.read().unwrap();
        let sleeper = std::thread::spawn(move || {
            for _ in 0..50 {
                let _ = rx.recv();
            }
        });
        for _ in 0..50 {
            std::thread::sleep(std::time::Duration::from_micros(200));
            tx.send(()).unwrap();
        }
        sleeper.join().unwrap();
        let counted = counters.read().unwrap() - before;
        // Each sleep and each wait for a message blocks: about 100 voluntary switches.
        assert!(
            counted.voluntary_switches() >= 90,
            "{counted:?}: fewer voluntary switches than blocking waits"
        );
    }
}
