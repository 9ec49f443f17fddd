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
//! control, once per runtime (`_inline/0`; offloading nothing would be the same run again).
//!
//! One iteration = one probe; its time is from when the probe was *due* to go out to when its
//! reply came back, so a stall counts against every probe queued behind it rather than
//! delaying the next one (no coordinated omission). Every measured probe goes into an HDR
//! histogram (ten spans of 2,200 by default, after one discarded span that warms the loaded
//! loop: 22,000, and 24,200 for a Criterion row, whose warm-up sample counts too), whose p50,
//! p99 and max per ID are printed and written to
//! `target/costs/blocked_loop.json` with the hog's fewest rounds in a span; the claims read
//! those.
//!
//! Criterion times only the configurations whose figure is the stall itself: a
//! single-threaded loop with the hog inline (`tokio_current_thread`, `smol_local`,
//! `futures_local`; monoio's is skipped with its reason), where the hog and the responder
//! share the one thread and every probe that arrives during a round waits out the rest of
//! it. One sample is one span of probes (220 ms by default, 21–23 rounds of a 10 ms hog), and
//! its figure the *median* probe's latency: on a shared VM the host stops a vCPU for
//! milliseconds now and then, every probe queued behind such a stop counts it, and the mean
//! moved with those stops. In three identical runs these rows repeated within 4%.
//!
//! The other configurations (the idle controls, offloaded hogs, several workers) are
//! measured in the same run, over the same spans, as distributions only, with no Criterion
//! figure: nothing makes their probes wait for the hog, so their median is how long the host
//! takes to wake a parked thread, which moved up to 1.5× between identical runs (and the
//! several-worker rows up to 8×, as the hog and the responder met on a worker or did not).
//! They honour Criterion's filter, run in test mode with a handful of probes, and `--list`
//! names them as `<id>: distribution`.
//!
//! A probe not answered within 1 s of its due time is given up on and counted at 1 s (a lower
//! bound), and the count is printed: a loop that never turns to its other tasks shows as such
//! instead of hanging the suite.
//!
//! Blocks of 1 ms and 10 ms: 100 µs blocks, as long as the probe interval, were neither a
//! stall nor idle, and no statistic of them repeated between identical runs.
//!
//! Criterion IDs: `blocked_loop/{tokio_current_thread,smol_local,futures_local}_inline/
//! {1ms,10ms}`. Latency-file IDs: `blocked_loop/<runtime>_inline/{0,1ms,10ms}` and
//! `blocked_loop/<runtime>_offloaded/{1ms,10ms}`.
//!
//! Run with: `cargo bench --bench blocked_loop`

use concurrency_costs::flavours::{FLAVOURS, Flavour};
use concurrency_costs::harness::{self, Group};
use concurrency_costs::loaded_loop::LoadedLoop;
use concurrency_costs::probe::{BLOCKED_LOOP, Latencies, PROBE_INTERVAL, new_histogram};
use concurrency_costs::tasks::TaskScheduler;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use std::time::Duration;

/// Blocking work per hog round: none, a slow query's CPU, a serious stall.
const WORK: [(&str, Duration); 3] = [
    ("0", Duration::ZERO),
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

/// The median latency of a batch of probes (what its middle probe waited), as the time of
/// `iterations` such probes.
fn median_probe(latencies: &Latencies, iterations: u64) -> Duration {
    let median = latencies.histogram.value_at_quantile(0.5);
    Duration::from_nanos(median.saturating_mul(iterations))
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

/// Whether a configuration's figure is the stall itself: on a single-threaded loop an inline
/// hog and the responder share the one thread, so every probe that arrives during a round
/// waits out the rest of it, whatever the host does. Everywhere else nothing makes a probe
/// wait for the hog: its median is how long the host takes to wake a parked thread.
fn the_stall_is_the_figure(flavour: &Flavour, offloaded: bool, work: Duration) -> bool {
    flavour.workers == 1 && !offloaded && !work.is_zero()
}

/// Probes of a configuration measured as a distribution only, in a test run: enough to see
/// the loaded loop answer.
const TEST_PROBES: u64 = 10;

/// A configuration whose median is not the stall: its probes go into the latency file only,
/// the same spans a timed row's samples take, and no Criterion figure is made of them.
fn distribution(
    scheduler: &mut dyn TaskScheduler,
    work: Duration,
    offloaded: bool,
    measuring: bool,
    span: u64,
) -> Observed {
    let (spans, probes, warm) = match measuring {
        true => (SAMPLES, span, span),
        false => (1, TEST_PROBES, 0),
    };
    let loaded = load(scheduler, work, offloaded, warm);
    let mut observed = Observed::new();
    for _ in 0..spans {
        let rounds = loaded.rounds();
        let latencies = scheduler.probe(&loaded, probes);
        observed.add(&latencies, loaded.rounds() - rounds);
    }
    scheduler.unload(loaded);
    observed
}

fn blocked_loop(c: &mut Criterion) {
    let measuring = harness::measuring(std::env::args());
    // A distribution is measured only where Criterion would run a benchmark: not when
    // listing, profiling or counting, and only for IDs the filter selects.
    let listing = harness::listing(std::env::args());
    let distributions = !listing
        && !harness::profiling(std::env::args())
        && criterion_gate::count::bench_process::mode().is_none();
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
            if offloaded && work.is_zero() {
                continue;
            }
            for flavour in FLAVOURS {
                let function = format!("{}_{mode}", flavour.id);
                let id = group.id(&function, label);
                let timed = the_stall_is_the_figure(flavour, offloaded, work);
                let selected = harness::selects(std::env::args(), &id);
                if !timed && listing && selected {
                    // Beside Criterion's list: what a run of this filter measures besides.
                    println!("{id}: distribution");
                }
                let measured = timed || distributions && selected;
                if !measured {
                    continue;
                }
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
                let observed = match timed {
                    true => timed_by_criterion(
                        &mut group,
                        &function,
                        label,
                        scheduler.as_mut(),
                        work,
                        measuring,
                        span,
                    ),
                    false => {
                        group.mark(&function, label, "probing the loaded loop (a distribution)");
                        distribution(scheduler.as_mut(), work, offloaded, measuring, span)
                    }
                };
                group.mark(&function, label, "shutting the runtime down");
                drop(scheduler);
                if let (true, false, Some(fewest)) =
                    (measuring, work.is_zero(), observed.fewest_rounds)
                {
                    eprintln!("{id}: the hog ran at least {fewest} rounds in every sample");
                }
                if !timed && !observed.histogram.is_empty() {
                    eprintln!(
                        "{id}: a distribution, not a Criterion figure: its median is not the stall (the bench file says why)"
                    );
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

/// A configuration whose median is the stall: Criterion's samples, each one span of probes.
fn timed_by_criterion(
    group: &mut Group<'_>,
    function: &str,
    label: &str,
    scheduler: &mut dyn TaskScheduler,
    work: Duration,
    measuring: bool,
    span: u64,
) -> Observed {
    let (mut loaded, mut observed) = (None, Observed::new());
    group.bench(function, label, |b| {
        let warm = if measuring { span } else { 0 };
        let loaded = loaded.get_or_insert_with(|| load(scheduler, work, false, warm));
        b.iter_custom(|iters| {
            // A test or profile run probes as many times as it is asked to.
            let probes = if measuring { span } else { iters };
            let rounds = loaded.rounds();
            let latencies = scheduler.probe(loaded, probes);
            observed.add(&latencies, loaded.rounds() - rounds);
            median_probe(&latencies, iters)
        })
    });
    if let Some(loaded) = loaded {
        group.mark(function, label, "stopping the hog and the responder");
        scheduler.unload(loaded);
    }
    observed
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = blocked_loop
}
criterion_main!(benches);
