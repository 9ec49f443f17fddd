//! A bench binary whose benchmark stops making progress ends itself, saying where.
//!
//! The measured waits (a pipe read, a futex, a channel, a task's reply) have no deadline of
//! their own: a deadline inside the timed region would be part of what is timed. A partner
//! that deadlocks, a child that is stopped, or a runtime that never wakes a task would hang
//! `cargo bench` for good. Instead, the harness marks progress at the start of every sample
//! and of every phase around it ([`beat`]), and a watchdog thread ends the process when no
//! mark has come for longer than the run could need: it names the benchmark and what it was
//! doing, and exits with [`EXIT_STUCK`]. Forked partners die with it (they ask the kernel
//! for that when they start).

use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

/// The exit status of a run the watchdog ended, as `timeout(1)` uses for the same.
pub const EXIT_STUCK: i32 = 124;

/// The environment variable that overrides the bound, in whole seconds; 0 switches it off
/// (the count lane's instructions lane does).
pub const BOUND_VARIABLE: &str = criterion_gate::count::bench_process::WATCHDOG_VARIABLE;

/// The longest a benchmark may go without progress, whatever the times it is given: setup
/// (a thousand threads, a ballast of GiBs) and Criterion's analysis between benchmarks.
const SLACK: Duration = Duration::from_secs(60);

/// How many times its own warm-up, measurement and profile time a benchmark may take between
/// two marks: one sample is a fraction of the measurement time, a warm-up batch can overshoot
/// the warm-up time up to twofold.
const TIMES_GIVEN: u32 = 10;

/// The mark the watchdog reads: when, in which benchmark, doing what.
struct Progress {
    at: Instant,
    id: String,
    doing: &'static str,
}

static PROGRESS: Mutex<Option<Progress>> = Mutex::new(None);

/// Marks progress: benchmark `id` is now `doing` this (a phase of its life, not one
/// iteration: this takes a lock and is never called inside a timed region).
pub fn beat(id: &str, doing: &'static str) {
    let mut progress = PROGRESS.lock().unwrap_or_else(PoisonError::into_inner);
    match progress.as_mut() {
        Some(p) if p.id == id => {
            p.at = Instant::now();
            p.doing = doing;
        }
        _ => {
            *progress = Some(Progress {
                at: Instant::now(),
                id: id.to_string(),
                doing,
            })
        }
    }
}

/// The bound for a run given `times` (warm-up, measurement and profile time together), or
/// the one set in [`BOUND_VARIABLE`]; `None` when switched off.
pub fn bound(times: Duration, variable: Option<&str>) -> Result<Option<Duration>, String> {
    match variable {
        None => Ok(Some(SLACK + times * TIMES_GIVEN)),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(0) => Ok(None),
            Ok(seconds) => Ok(Some(Duration::from_secs(seconds))),
            Err(_) => Err(format!(
                "{BOUND_VARIABLE}={value:?}: expected whole seconds (0 switches the watchdog off)"
            )),
        },
    }
}

/// Starts the watchdog once per process; later calls do nothing.
pub fn start(bound: Duration) {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || watch(bound));
        if let Err(e) = spawned {
            eprintln!("watchdog: cannot start ({e}); a stuck benchmark will hang this run");
        }
    });
}

fn watch(bound: Duration) -> ! {
    let tick = (bound / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        std::thread::sleep(tick);
        if let Some(why) = stuck(bound) {
            eprintln!("{why}");
            // Not `exit`: a stuck thread may hold a lock that exit's handlers would wait on.
            // SAFETY: _exit ends the process at once; nothing of it is used afterwards.
            unsafe { libc::_exit(EXIT_STUCK) };
        }
    }
}

/// What to say if no mark has come for longer than `bound`.
fn stuck(bound: Duration) -> Option<String> {
    let progress = PROGRESS.lock().unwrap_or_else(PoisonError::into_inner);
    let p = progress.as_ref().filter(|p| p.at.elapsed() > bound)?;
    Some(format!(
        "watchdog: {} made no progress for {} s while {}; ending the run (exit {EXIT_STUCK}). \
         Set {BOUND_VARIABLE} to allow longer (0: never)",
        p.id,
        p.at.elapsed().as_secs(),
        p.doing
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_can_be_set_or_switched_off_and_nonsense_is_refused() {
        assert_eq!(
            bound(Duration::ZERO, Some("7")),
            Ok(Some(Duration::from_secs(7)))
        );
        assert_eq!(bound(Duration::ZERO, Some("0")), Ok(None));
        assert!(bound(Duration::ZERO, Some("soon")).is_err());
        assert!(bound(Duration::ZERO, Some("-1")).is_err());
        // A longer run is allowed longer between marks.
        let short = bound(Duration::from_secs(1), None).unwrap().unwrap();
        let long = bound(Duration::from_secs(100), None).unwrap().unwrap();
        assert!(long > short + Duration::from_secs(99));
    }
}
