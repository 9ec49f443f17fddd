//! A stand-in for a bench executable, for testing the regression gate end to end: a real
//! Criterion harness whose work per iteration is set from outside.
//!
//! `fixture/spin/1` and `fixture/spin/2`: one iteration = `GATE_FIXTURE_NS_1` (or `_2`)
//! nanoseconds of busy work, default 20,000, timed by the clock so that its length does not
//! depend on code alignment or clock speed. Not part of `cargo bench`.

use concurrency_costs::probe::burn;
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn work(variable: &str) -> Duration {
    let ns = std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    Duration::from_nanos(ns)
}

fn spin(c: &mut Criterion) {
    let mut group = c.benchmark_group("fixture");
    for (function, variable) in [
        ("spin/1", "GATE_FIXTURE_NS_1"),
        ("spin/2", "GATE_FIXTURE_NS_2"),
    ] {
        let work = work(variable);
        group.bench_function(function, |b| b.iter(|| burn(work)));
    }
    group.finish();
}

criterion_group! {
    name = fixture;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(10)
        .without_plots();
    targets = spin
}
criterion_main!(fixture);
