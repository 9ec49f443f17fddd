//! What synchronous work on an event loop does to everything else on it (claims C20: a stall
//! as long as the blocking work, >1 ms already hurts; C21: loop lag above 50 ms is an alert),
//! and what offloading does about it (C22).
//!
//! For each runtime flavour, a responder task on the runtime answers probes that a thread
//! outside it sends on a fixed 100 µs schedule, while a hog task on the same runtime burns B
//! of CPU in a loop, yielding between rounds: inline (on the runtime's threads) or offloaded
//! (awaiting the runtime's own blocking pool: tokio's and async-std's `spawn_blocking`,
//! smol's `unblock`; rayon for the rest). B = 0 runs no hog: the idle control.
//!
//! One iteration = one probe; its time is from when the probe was *due* to go out to when its
//! reply came back, so a stall counts against every probe queued behind it rather than
//! delaying the next one (no coordinated omission). Criterion reports the mean; every probe
//! also goes into an HDR histogram, and p50, p99 and max per ID are printed and written to
//! `target/costs/blocked_loop.json`.
//!
//! A probe not answered within 1 s of its due time is given up on and counted at 1 s (a
//! lower bound), and the count is printed: a loop that never turns to its other tasks shows
//! as such instead of hanging the suite.
//!
//! IDs: `blocked_loop/<runtime>_inline/<B>` and `blocked_loop/<runtime>_offloaded/<B>`.
//!
//! Run with: `cargo bench --bench blocked_loop`

use concurrency_costs::harness::{self, Group};
use concurrency_costs::probe::new_histogram;
use concurrency_costs::runtime::FLAVOURS;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use std::time::Duration;

/// Blocking work per hog round: none, a short parse, a slow query's CPU, a serious stall.
const WORK: [(&str, Duration); 4] = [
    ("0", Duration::ZERO),
    ("100us", Duration::from_micros(100)),
    ("1ms", Duration::from_millis(1)),
    ("10ms", Duration::from_millis(10)),
];

/// Latency sums reach Criterion's targets fast, but the probes run on a fixed schedule: a
/// short measurement keeps the wall-clock time of the group bounded.
const MEASUREMENT: Duration = Duration::from_millis(500);

fn blocked_loop(c: &mut Criterion) {
    let mut group = Group::new(c, "blocked_loop");
    group
        .criterion_group()
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(MEASUREMENT);
    for offloaded in [false, true] {
        let mode = if offloaded { "offloaded" } else { "inline" };
        for (label, work) in WORK {
            for flavour in FLAVOURS {
                let function = format!("{}_{mode}", flavour.id);
                let Some(mut scheduler) = group.start_flavour(flavour, &function, label) else {
                    continue;
                };
                let (mut histogram, mut unanswered) = (new_histogram(), 0);
                group.bench(&function, label, |b| {
                    b.iter_custom(|probes| {
                        let latencies = scheduler.blocked_loop(work, offloaded, probes);
                        let _ = histogram.add(&latencies.histogram);
                        unanswered += latencies.unanswered;
                        latencies.total
                    })
                });
                let file = "blocked_loop.json";
                group.report_latencies(file, &function, label, &histogram, unanswered);
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = blocked_loop
}
criterion_main!(benches);
