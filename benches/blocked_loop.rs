//! What synchronous work on an event loop does to everything else on it (claims C20: a stall
//! as long as the blocking work, >1 ms already hurts; C21: loop lag above 50 ms is an alert),
//! and what offloading does about it (C22).
//!
//! For each runtime flavour, the loop is put under load once per benchmark and kept so: a
//! responder task answers probes that a thread outside the runtime sends on a fixed 100 µs
//! schedule, while a hog task burns B of CPU per round and then yields the runtime's own way,
//! as a handler computes and then awaits. The hog burns inline (on the runtime's threads) or
//! offloaded (awaiting the runtime's own blocking pool: tokio's and async-std's
//! `spawn_blocking`, smol's `unblock`; rayon for the rest). B = 0 runs no hog: the idle
//! control.
//!
//! One iteration = one probe; its time is from when the probe was *due* to go out to when its
//! reply came back, so a stall counts against every probe queued behind it rather than
//! delaying the next one (no coordinated omission). One sample = the probes of one span of
//! the schedule, the run's measurement time over the sample count (220 ms by default: 2,200
//! probes, 21–23 counted rounds of a 10 ms hog); its time is their mean latency times the iterations
//! Criterion asked for. Before the first sample, one span of probes warms the loaded loop and
//! is discarded, so no sample sees the hog start. Every measured probe also goes into an HDR
//! histogram (24,200 by default): p50, p99 and max per ID are printed and written to
//! `target/costs/blocked_loop.json`, with the hog's fewest rounds in a sample.
//!
//! A probe not answered within 1 s of its due time is given up on and counted at 1 s (a
//! lower bound), and the count is printed: a loop that never turns to its other tasks shows
//! as such instead of hanging the suite.
//!
//! IDs: `blocked_loop/<runtime>_inline/<B>` and `blocked_loop/<runtime>_offloaded/<B>`.
//!
//! Run with: `cargo bench --bench blocked_loop`

use concurrency_costs::batch::scaled;
use concurrency_costs::flavours::FLAVOURS;
use concurrency_costs::harness::{self, Group};
use concurrency_costs::loaded_loop::LoadedLoop;
use concurrency_costs::probe::{BLOCKED_LOOP, Latencies, PROBE_INTERVAL, new_histogram};
use concurrency_costs::tasks::TaskScheduler;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use std::time::Duration;

/// Blocking work per hog round: none, a short parse, a slow query's CPU, a serious stall.
const WORK: [(&str, Duration); 4] = [
    ("0", Duration::ZERO),
    ("100us", Duration::from_micros(100)),
    ("1ms", Duration::from_millis(1)),
    ("10ms", Duration::from_millis(10)),
];

/// Ten samples of 2,200 probes by default: more than 10,000 probes behind every p99.
const SAMPLES: usize = 10;

/// Unless the run is given another: samples of 220 ms, 22 rounds of a 10 ms inline hog and at
/// least 20 of an offloaded one, whose rounds also wait for the hand-off to the pool.
const MEASUREMENT: Duration = Duration::from_millis(2200);

/// What a benchmark's probes saw, kept beside Criterion's mean.
struct Observed {
    histogram: Histogram<u64>,
    unanswered: u64,
    fewest_rounds: Option<u64>,
}

impl Observed {
    fn new() -> Observed {
        Observed {
            histogram: new_histogram(),
            unanswered: 0,
            fewest_rounds: None,
        }
    }

    fn add(&mut self, latencies: &Latencies, rounds: u64) {
        let _ = self.histogram.add(&latencies.histogram);
        self.unanswered += latencies.unanswered;
        self.fewest_rounds = Some(self.fewest_rounds.map_or(rounds, |r| r.min(rounds)));
    }
}

/// Probes of one sample in a measuring run: one span of the schedule.
fn probes_per_sample() -> u64 {
    let measurement = harness::given_measurement_time(std::env::args()).unwrap_or(MEASUREMENT);
    let span = measurement / SAMPLES as u32;
    (span.as_nanos() / PROBE_INTERVAL.as_nanos()).max(1) as u64
}

/// Starts the hog and the responder, then lets them settle for one sample's worth of probes.
fn load(
    scheduler: &mut dyn TaskScheduler,
    work: Duration,
    offloaded: bool,
    warm: u64,
) -> LoadedLoop {
    let loaded = scheduler.load(work, offloaded);
    if warm > 0 {
        scheduler.probe(&loaded, warm);
    }
    loaded
}

fn blocked_loop(c: &mut Criterion) {
    let measuring = harness::measuring(std::env::args());
    let span = probes_per_sample();
    let mut group = Group::new(c, "blocked_loop");
    group
        .criterion_group()
        .sampling_mode(SamplingMode::Flat)
        .sample_size(SAMPLES)
        // A sample's length is fixed by the schedule, not by Criterion's estimate; the loop
        // is warmed before the first, so Criterion's warm-up is one sample.
        .warm_up_time(Duration::from_nanos(1));
    for offloaded in [false, true] {
        let mode = if offloaded { "offloaded" } else { "inline" };
        for (label, work) in WORK {
            for flavour in FLAVOURS {
                let function = format!("{}_{mode}", flavour.id);
                let Some(mut scheduler) = group.start_flavour(flavour, &function, label) else {
                    continue;
                };
                if let (false, false, Err(why)) = (
                    offloaded,
                    work.is_zero(),
                    scheduler.answers_under_inline_load(),
                ) {
                    group.skip(&function, label, &why);
                    continue;
                }
                let (mut loaded, mut observed) = (None, Observed::new());
                group.bench(&function, label, |b| {
                    let warm = if measuring { span } else { 0 };
                    let loaded = loaded
                        .get_or_insert_with(|| load(scheduler.as_mut(), work, offloaded, warm));
                    b.iter_custom(|iters| {
                        // A test or profile run probes as many times as it is asked to.
                        let probes = if measuring { span } else { iters };
                        let rounds = loaded.rounds();
                        let latencies = scheduler.probe(loaded, probes);
                        observed.add(&latencies, loaded.rounds() - rounds);
                        scaled(latencies.total, iters, probes)
                    })
                });
                if let Some(loaded) = loaded {
                    group.mark(&function, label, "stopping the hog and the responder");
                    scheduler.unload(loaded);
                }
                group.mark(&function, label, "shutting the runtime down");
                drop(scheduler);
                let id = group.id(&function, label);
                if let (true, false, Some(fewest)) =
                    (measuring, work.is_zero(), observed.fewest_rounds)
                {
                    eprintln!("{id}: the hog ran at least {fewest} rounds in every sample");
                }
                group.report_latencies(
                    &BLOCKED_LOOP,
                    &function,
                    label,
                    &observed.histogram,
                    observed.unanswered,
                );
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
