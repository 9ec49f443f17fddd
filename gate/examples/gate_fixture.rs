//! A stand-in for a bench executable, for testing the regression gate end to end: a real
//! Criterion harness whose work per iteration is set from outside.
//!
//! `fixture/spin/1` and `fixture/spin/2`: one iteration = `GATE_FIXTURE_NS_1` (or `_2`)
//! nanoseconds of busy work, default 20,000. Both the work and Criterion's measurement are
//! the measuring thread's CPU time, not a wall clock: the tests that run this judge the gate's
//! verdicts, and on a loaded machine (tests in parallel, a busy CI runner) time spent waiting
//! for a CPU would hide a 10% change in noise. Not part of `cargo bench`.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn work(variable: &str) -> Duration {
    let ns = std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    Duration::from_nanos(ns)
}

/// Spins until this thread has had `work` of CPU.
fn burn_cpu(work: Duration) {
    let start = thread_cpu_time();
    while thread_cpu_time() - start < work {
        std::hint::spin_loop();
    }
}

/// Criterion's clock here: the measuring thread's CPU time, in nanoseconds like its own.
struct ThreadCpuTime;

/// Lends its formatter: the values are durations in nanoseconds, as Criterion's own.
static WALL_TIME: WallTime = WallTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time() - start
    }
    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}

fn spin(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("fixture");
    for (function, variable) in [
        ("spin/1", "GATE_FIXTURE_NS_1"),
        ("spin/2", "GATE_FIXTURE_NS_2"),
    ] {
        let work = work(variable);
        group.bench_function(function, |b| b.iter(|| burn_cpu(work)));
    }
    group.finish();
}

criterion_group! {
    name = fixture;
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(10)
        .without_plots();
    targets = spin
}
criterion_main!(fixture);

/// CPU time used so far by the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock ID and a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
