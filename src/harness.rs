//! What every bench binary shares: one Criterion configuration with the flamegraph profiler
//! attached, the environment printed once, and a benchmark group that knows how to skip a
//! variant with a reason and how to time a partner that lives across iterations.

use crate::environment::Environment;
use crate::flavours::{FLAVOURS, Flavour};
use crate::placement::{CpuPlan, Placement};
use crate::probe::{LatencySummary, PROBE_DEADLINE, record_summary};
use crate::provenance::{CRITERION_RUNS, Mode, Run};
use crate::results::{self, Kept};
use crate::ring::Partner;
use crate::skip::Skip;
use crate::tasks::{RingRun, TaskScheduler};
use crate::watchdog;
use criterion::measurement::WallTime;
use criterion::profiler::Profiler;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, PlottingBackend};
use criterion_gate::count::bench_process::{Hooks, Lane};
use hdrhistogram::Histogram;
use std::fs::File;
use std::hint::black_box;
use std::io;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

/// Sampling rate of the flamegraph profiler. Not a multiple of common timer rates, so samples
/// do not lock step with periodic work.
const PROFILE_HZ: i32 = 997;

/// Samples whose innermost frame is in these libraries are dropped. The default (DWARF)
/// unwinder can deadlock when it interrupts libc (malloc's lock against the loader lock it
/// takes), so libc is skipped, which also drops every sample taken inside a syscall. The
/// frame-pointer unwinder (`scripts/flamegraph.sh`) takes no lock, so only the vDSO, whose
/// unwind tables are unreliable, is skipped and syscall time shows.
#[cfg(not(feature = "frame-pointer"))]
const UNSAMPLED_LIBRARIES: &[&str] = &["libc", "libgcc", "pthread", "vdso"];
#[cfg(feature = "frame-pointer")]
const UNSAMPLED_LIBRARIES: &[&str] = &["vdso"];

/// Benchmarks that run code on a raw stackful-coroutine stack: sampling them with the
/// default unwinder crashes the process (SIGSEGV inside `_Unwind_Backtrace`), so without
/// frame pointers they are not profiled, and the reason is printed.
const NEEDS_FRAME_POINTERS: &[&str] = &["coroutine_switch/corosensei"];

/// Short defaults keep the whole suite within minutes; Criterion's command-line flags
/// (`--warm-up-time`, `--measurement-time`, `--sample-size`) still override them.
const WARM_UP: Duration = Duration::from_millis(500);
const MEASUREMENT: Duration = Duration::from_secs(2);
const SAMPLES: usize = 30;
/// Bootstrap resamples for the confidence intervals. Criterion's default (100,000) spends
/// about four seconds per benchmark on two cores, more than the measurement itself; 20,000
/// moves the interval bounds by well under a percent.
const RESAMPLES: usize = 20_000;

/// What the count lane needs from this suite: what valgrind cannot run, and the watchdog's
/// marks while a benchmark is counted.
const COUNT_HOOKS: Hooks<'static> = Hooks {
    cannot_count: &|id, lane| match lane {
        Lane::Instructions => crate::count_skips::under_valgrind(id).map(str::to_string),
        Lane::Kernel | Lane::Calibrate => None,
    },
    progress: &watchdog::beat,
};

/// The configuration every bench file uses. Prints the environment once per binary and
/// starts the watchdog that ends the binary if a benchmark stops making progress.
pub fn criterion() -> Criterion {
    static PRINTED: Once = Once::new();
    PRINTED.call_once(|| {
        eprintln!("environment: {}", Environment::capture().summary());
        crate::limits::raise_fd_soft_limit();
        start_watchdog();
        // After the watchdog, so that its wake-ups are not counted with the benchmarks'.
        criterion_gate::count::bench_process::start();
    });
    Criterion::default()
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT)
        .sample_size(SAMPLES)
        .nresamples(RESAMPLES)
        // The same charts on every machine, with no gnuplot to install.
        .plotting_backend(PlottingBackend::Plotters)
        .with_profiler(FlamegraphProfiler::default())
}

/// Bounds the time between two marks of progress by the times this run was given; a bad
/// bound in the environment ends the binary with one line, before anything is measured.
fn start_watchdog() {
    let given = |flag| given_seconds(std::env::args(), flag);
    let times = given("--warm-up-time").unwrap_or(WARM_UP)
        + given("--measurement-time").unwrap_or(MEASUREMENT)
        + given("--profile-time").unwrap_or(Duration::ZERO);
    let variable = std::env::var(watchdog::BOUND_VARIABLE).ok();
    match watchdog::bound(times, variable.as_deref()) {
        Ok(Some(bound)) => watchdog::start(bound),
        Ok(None) => eprintln!("watchdog: off ({}=0)", watchdog::BOUND_VARIABLE),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}

/// Writes `<benchmark dir>/flamegraph.svg` when a bench runs with `--profile-time N`.
#[derive(Default)]
pub struct FlamegraphProfiler {
    guard: Option<pprof::ProfilerGuard<'static>>,
}

impl Profiler for FlamegraphProfiler {
    fn start_profiling(&mut self, benchmark_id: &str, _dir: &Path) {
        if !cfg!(feature = "frame-pointer") && NEEDS_FRAME_POINTERS.contains(&benchmark_id) {
            eprintln!(
                "{benchmark_id}: not profiled: it runs on a coroutine stack that the default \
                 unwinder cannot walk; use scripts/flamegraph.sh, which builds with frame pointers"
            );
            return;
        }
        match pprof::ProfilerGuardBuilder::default()
            .frequency(PROFILE_HZ)
            .blocklist(UNSAMPLED_LIBRARIES)
            .build()
        {
            Ok(guard) => self.guard = Some(guard),
            Err(e) => eprintln!("{benchmark_id}: cannot start the profiler: {e}"),
        }
    }

    fn stop_profiling(&mut self, benchmark_id: &str, dir: &Path) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        let path = dir.join("flamegraph.svg");
        let written = std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|()| guard.report().build().map_err(|e| e.to_string()))
            .and_then(|report| {
                let file = File::create(&path).map_err(|e| e.to_string())?;
                report.flamegraph(file).map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => eprintln!("{benchmark_id}: flamegraph written to {}", path.display()),
            Err(e) => eprintln!("{benchmark_id}: no flamegraph: {e}"),
        }
    }
}

/// Whether a bench binary was started to measure: Criterion measures under `--bench`
/// (`cargo bench`) unless also told `--test`, `--list` or `--profile-time`; `cargo test`
/// starts it without `--bench`, in test mode.
pub fn measuring(mut args: impl Iterator<Item = String>) -> bool {
    let mut bench = false;
    for arg in args.by_ref() {
        match arg.as_str() {
            "--bench" => bench = true,
            "--test" | "--list" | "--profile-time" => return false,
            a if a.starts_with("--profile-time=") => return false,
            _ => {}
        }
    }
    bench
}

/// Criterion's flags that take a value: the word after one of them is not the filter.
const FLAGS_WITH_A_VALUE: [&str; 19] = [
    "-c",
    "--color",
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--format",
    "--profile-time",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--plotting-backend",
    "--confidence-level",
    "--significance-level",
    "--output-format",
];

/// Whether Criterion, given `args`, would run benchmark `id`: its filter (the first word that
/// is no flag, a regex, or the whole ID with `--exact`), for a measurement that a bench runs
/// beside Criterion's rather than through it. `--ignored` runs none; a filter that is no
/// regex selects nothing, as Criterion refuses it.
pub fn selects(args: impl Iterator<Item = String>, id: &str) -> bool {
    let (mut filter, mut exact, mut takes_value) = (None, false, false);
    for arg in args.skip(1) {
        if std::mem::take(&mut takes_value) {
            continue;
        }
        match arg.as_str() {
            "--exact" => exact = true,
            "--ignored" => return false,
            a if FLAGS_WITH_A_VALUE.contains(&a) => takes_value = true,
            a if a.starts_with('-') => {}
            a if filter.is_none() => filter = Some(a.to_string()),
            _ => {}
        }
    }
    match (filter, exact) {
        (None, _) => true,
        (Some(filter), true) => filter == id,
        (Some(filter), false) => regex::Regex::new(&filter).is_ok_and(|r| r.is_match(id)),
    }
}

/// Whether the bench binary was started only to list its benchmarks.
pub fn listing(mut args: impl Iterator<Item = String>) -> bool {
    args.any(|a| a == "--list")
}

/// Whether the bench binary was started to profile (`--profile-time`).
pub fn profiling(mut args: impl Iterator<Item = String>) -> bool {
    args.any(|a| a == "--profile-time" || a.starts_with("--profile-time="))
}

/// The measurement time this run was given on the command line (Criterion's
/// `--measurement-time`, seconds), if any. For benchmarks whose samples are a span of wall
/// time rather than a number of iterations.
pub fn given_measurement_time(args: impl Iterator<Item = String>) -> Option<Duration> {
    given_seconds(args, "--measurement-time")
}

/// A time in seconds given to Criterion on the command line as `flag`, if any.
fn given_seconds(mut args: impl Iterator<Item = String>, flag: &str) -> Option<Duration> {
    let mut given = None;
    let joined = format!("{flag}=");
    while let Some(arg) = args.next() {
        if arg == flag {
            given = args.next();
        } else if let Some(value) = arg.strip_prefix(&joined) {
            given = Some(value.to_string());
        }
    }
    given.and_then(|seconds| Duration::try_from_secs_f64(seconds.parse().ok()?).ok())
}

fn micros(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1000.0)
}

/// Runs a benchmark's iterations: Criterion's bencher when timing, exactly a given number
/// when counting (`costs count`). Bench files call `iter` and `iter_custom` on it as on
/// Criterion's own.
pub enum Bencher<'b, 'c> {
    Timed(&'b mut criterion::Bencher<'c>),
    Counted(u64),
}

impl Bencher<'_, '_> {
    /// Times `routine`, once per iteration.
    pub fn iter<O>(&mut self, mut routine: impl FnMut() -> O) {
        match self {
            Bencher::Timed(b) => b.iter(routine),
            Bencher::Counted(n) => (0..*n).for_each(|_| {
                black_box(routine());
            }),
        }
    }

    /// Hands `routine` the number of iterations to run; it returns the time they took.
    pub fn iter_custom(&mut self, mut routine: impl FnMut(u64) -> Duration) {
        match self {
            Bencher::Timed(b) => b.iter_custom(routine),
            Bencher::Counted(n) => {
                black_box(routine(*n));
            }
        }
    }
}

/// A Criterion group whose benchmark IDs are `group/function/parameter`.
pub struct Group<'a> {
    name: String,
    inner: BenchmarkGroup<'a, WallTime>,
    /// Iterations run in whole steps of this many (a batch, a lap of a ring).
    step: u64,
}

impl<'a> Group<'a> {
    pub fn new(c: &'a mut Criterion, name: &str) -> Group<'a> {
        Group {
            name: name.to_string(),
            inner: c.benchmark_group(name),
            step: 1,
        }
    }

    /// Says that this group's benchmarks run their iterations in whole steps of `step` (tasks
    /// spawned a batch at a time, hops a lap at a time): a count over a part-filled step would
    /// not be per iteration, so counting runs use multiples of it. Timing needs nothing: the
    /// routines scale their time to the iterations asked for.
    pub fn in_steps_of(&mut self, step: u64) -> &mut Self {
        self.step = step.max(1);
        self
    }

    /// Criterion's own group, for settings such as the sampling mode.
    pub fn criterion_group(&mut self) -> &mut BenchmarkGroup<'a, WallTime> {
        &mut self.inner
    }

    /// The full ID: `group/function/parameter`, or `group/function` without a parameter.
    pub fn id(&self, function: &str, parameter: &str) -> String {
        match parameter {
            "" => format!("{}/{function}", self.name),
            _ => format!("{}/{function}/{parameter}", self.name),
        }
    }

    fn criterion_id(function: &str, parameter: &str) -> BenchmarkId {
        match parameter {
            "" => BenchmarkId::from_parameter(function),
            _ => BenchmarkId::new(function, parameter),
        }
    }

    /// Says why a variant has no number on this machine, instead of dropping it silently.
    pub fn skip(&self, function: &str, parameter: &str, why: &Skip) {
        eprintln!("skipped {}: {why}", self.id(function, parameter));
    }

    /// Tells the watchdog that benchmark `function`/`parameter` is now `doing` this.
    pub fn mark(&self, function: &str, parameter: &str, doing: &'static str) {
        watchdog::beat(&self.id(function, parameter), doing);
    }

    /// A benchmark with no state kept across iterations. A measuring run records itself as
    /// the run behind the benchmark's result; a counting run counts it instead of timing it.
    pub fn bench(
        &mut self,
        function: &str,
        parameter: &str,
        mut f: impl FnMut(&mut Bencher<'_, '_>),
    ) {
        let id = self.id(function, parameter);
        let mut ran = false;
        let counting = criterion_gate::count::bench_process::mode();
        let step = self.step;
        self.inner
            .bench_function(Self::criterion_id(function, parameter), |b| {
                // Criterion calls this once per warm-up batch and per sample, and not at all
                // for a benchmark the filter leaves out.
                ran = true;
                watchdog::beat(&id, "timing a sample");
                match counting {
                    Some(mode) => {
                        mode.count(
                            &id,
                            step,
                            &mut |n| f(&mut Bencher::Counted(n)),
                            &COUNT_HOOKS,
                        );
                        // Criterion's test mode wants its own bencher to have run.
                        b.iter(|| ())
                    }
                    None => f(&mut Bencher::Timed(b)),
                }
            });
        if ran && measuring(std::env::args()) {
            let run = Run::now(Mode::Bench);
            if let Err(e) = CRITERION_RUNS.keep(&results::dir(), &id, run) {
                eprintln!("{id}: cannot record the run behind the result: {e}");
            }
        }
    }

    /// A benchmark whose state is built on first use, only if the filter selects it, and
    /// kept across every warm-up and sample; `run` times iterations with that state.
    pub fn bench_with_state<S>(
        &mut self,
        function: &str,
        parameter: &str,
        state: &mut Option<S>,
        mut make: impl FnMut() -> S,
        mut run: impl FnMut(&mut Bencher<'_, '_>, &mut S),
    ) {
        let id = self.id(function, parameter);
        self.bench(function, parameter, |b| {
            if state.is_none() {
                watchdog::beat(&id, "setting up (starting partners, filling memory)");
            }
            let s = state.get_or_insert_with(&mut make);
            watchdog::beat(&id, "timing a sample");
            run(b, s)
        });
    }

    /// Times hops with a partner started on first use and kept alive across iterations;
    /// afterwards prints what the partner did (tokens, context switches), the proof that
    /// the number is what the ID says.
    pub fn partner<P: Partner>(
        &mut self,
        function: &str,
        parameter: &str,
        mut start: impl FnMut() -> io::Result<P>,
    ) {
        let id = self.id(function, parameter);
        let mut partner = None;
        self.bench_with_state(
            function,
            parameter,
            &mut partner,
            || start().unwrap_or_else(|e| panic!("{id}: cannot start the partner: {e}")),
            |b, p| b.iter_custom(|hops| p.time_hops(hops).expect("the partner broke")),
        );
        if let Some(p) = partner {
            watchdog::beat(&id, "stopping the partner and waiting for it to exit");
            match p.finish() {
                Ok(report) => eprintln!("{id}: {report}"),
                Err(e) => panic!("{id}: the partner did not finish cleanly: {e}"),
            }
        }
    }

    /// [`Group::partner`] for one placement, skipped with a reason where the machine lacks
    /// the CPUs it needs. The placement is the parameter of the ID.
    pub fn placed_partner<P: Partner>(
        &mut self,
        function: &str,
        placement: Placement,
        start: impl Fn(&CpuPlan) -> io::Result<P>,
    ) {
        match placement.plan() {
            Ok(plan) => self.partner(function, placement.id(), || start(&plan)),
            Err(why) => self.skip(function, placement.id(), &why),
        }
    }

    /// Starts a runtime flavour, or says why it cannot start on this machine.
    pub fn start_flavour(
        &self,
        flavour: &Flavour,
        function: &str,
        parameter: &str,
    ) -> Option<Box<dyn TaskScheduler>> {
        match (flavour.start)() {
            Ok(scheduler) => Some(scheduler),
            Err(why) => {
                self.skip(function, parameter, &why);
                None
            }
        }
    }

    /// One benchmark per runtime flavour; `id` maps a flavour's ID to the benchmark's function
    /// and parameter, and `applies` says whether the scenario means anything on that runtime
    /// (or why not). The runtime is started once and kept across all iterations.
    pub fn per_flavour(
        &mut self,
        id: impl Fn(&str) -> (String, String),
        applies: impl Fn(&dyn TaskScheduler) -> Result<(), Skip>,
        bench: impl FnMut(&mut Bencher<'_, '_>, &mut dyn TaskScheduler),
    ) {
        self.per_flavour_verified(id, applies, bench, |_| None)
    }

    /// [`Group::per_flavour`], then, on the same runtime and after each benchmark that ran,
    /// `verify`: what it says is printed beside the benchmark, the proof that it measured
    /// what its ID says.
    pub fn per_flavour_verified(
        &mut self,
        id: impl Fn(&str) -> (String, String),
        applies: impl Fn(&dyn TaskScheduler) -> Result<(), Skip>,
        mut bench: impl FnMut(&mut Bencher<'_, '_>, &mut dyn TaskScheduler),
        mut verify: impl FnMut(&mut dyn TaskScheduler) -> Option<String>,
    ) {
        for flavour in FLAVOURS {
            let (function, parameter) = id(flavour.id);
            let Some(mut scheduler) = self.start_flavour(flavour, &function, &parameter) else {
                continue;
            };
            match applies(scheduler.as_ref()) {
                Ok(()) => {
                    let mut ran = false;
                    self.bench(&function, &parameter, |b| {
                        ran = true;
                        bench(b, scheduler.as_mut())
                    });
                    if let Some(proof) = verify(scheduler.as_mut()).filter(|_| ran) {
                        eprintln!("{}: {proof}", self.id(&function, &parameter));
                    }
                }
                Err(why) => self.skip(&function, &parameter, &why),
            }
            self.mark(&function, &parameter, "shutting the runtime down");
            drop(scheduler);
        }
    }

    /// A token around a ring of `members` tasks on every flavour, per hop; afterwards prints
    /// how many hops crossed OS threads (on a single-threaded runtime: none).
    pub fn task_ring(&mut self, function: &str, members: usize, size_in_id: bool) {
        let parameter = |flavour: &str| match size_in_id {
            true => format!("{flavour}/{members}"),
            false => flavour.to_string(),
        };
        for flavour in FLAVOURS {
            let parameter = parameter(flavour.id);
            let Some(mut scheduler) = self.start_flavour(flavour, function, &parameter) else {
                continue;
            };
            let mut total = RingRun::default();
            // Hops run a lap of the ring at a time.
            self.in_steps_of(members as u64);
            self.bench(function, &parameter, |b| {
                b.iter_custom(|hops| {
                    let run = scheduler.ring(members, hops);
                    total.hops += run.hops;
                    total.crossed += run.crossed;
                    run.elapsed
                })
            });
            self.in_steps_of(1);
            self.mark(function, &parameter, "shutting the runtime down");
            drop(scheduler);
            if total.hops > 0 {
                eprintln!(
                    "{}: {} hops, {:.1}% of them crossed to another OS thread",
                    self.id(function, &parameter),
                    total.hops,
                    100.0 * total.crossed as f64 / total.hops as f64
                );
            }
        }
    }

    /// Prints p50, p99 and max of a benchmark's latency histogram (nanoseconds) beside
    /// Criterion's mean, and records them in `target/costs/<file>`.
    pub fn report_latencies(
        &self,
        file: &Kept<LatencySummary>,
        function: &str,
        parameter: &str,
        histogram: &Histogram<u64>,
        unanswered: u64,
    ) {
        if histogram.is_empty() {
            return;
        }
        let id = self.id(function, parameter);
        let summary = LatencySummary::of(histogram, unanswered);
        eprintln!(
            "{id}: p50 {}, p99 {}, max {} over {} probes{}",
            micros(summary.p50_ns),
            micros(summary.p99_ns),
            micros(summary.max_ns),
            summary.probes,
            match unanswered {
                0 => String::new(),
                n => format!(
                    "; {n} NEVER ANSWERED within {:?} (counted at that)",
                    PROBE_DEADLINE
                ),
            }
        );
        if !measuring(std::env::args()) {
            // `cargo test` runs each bench once in Criterion's test mode: a handful of probes
            // that must never replace a measured run's figures in the user's results.
            return;
        }
        if let Err(e) = record_summary(file, &id, &summary) {
            eprintln!("{id}: cannot record the percentiles: {e}");
        }
    }

    pub fn finish(self) {
        self.inner.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_is_read_as_criterion_reads_it() {
        let selects = |a: &[&str], id: &str| {
            let args = ["bench"].iter().chain(a).map(|s| s.to_string());
            selects(args.collect::<Vec<_>>().into_iter(), id)
        };
        let id = "blocked_loop/smol_2w_inline/0";
        assert!(selects(&["--bench"], id));
        assert!(selects(&["--bench", "smol_2w"], id));
        assert!(!selects(&["--bench", "tokio"], id));
        assert!(selects(&["--bench", "^blocked_loop/.*_inline/0$"], id));
        // The value of a flag is not the filter.
        assert!(selects(
            &["--bench", "--measurement-time", "5", "--noplot"],
            id
        ));
        assert!(!selects(&["--bench", "--save-baseline", "x", "fork"], id));
        assert!(selects(&["--bench", "--exact", id], id));
        assert!(!selects(&["--bench", "--exact", "smol_2w"], id));
        assert!(!selects(&["--bench", "--ignored"], id));
        assert!(!selects(&["--bench", "("], id));
    }

    #[test]
    fn only_a_measuring_run_counts_as_measuring() {
        let args = |a: &[&str]| {
            a.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert!(measuring(args(&["bench", "--bench"])));
        assert!(measuring(args(&["bench", "--bench", "--quick", "epoll"])));
        assert!(!measuring(args(&["bench"])), "cargo test --benches");
        assert!(!measuring(args(&["bench", "--bench", "--test"])));
        assert!(!measuring(args(&["bench", "--bench", "--list"])));
        assert!(!measuring(args(&[
            "bench",
            "--bench",
            "--profile-time",
            "5"
        ])));
    }

    #[test]
    fn the_measurement_time_given_is_read_in_either_spelling() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let time = |a: &[&str]| given_measurement_time(args(a).into_iter());
        assert_eq!(time(&["bench", "--bench"]), None);
        let given = ["bench", "--bench", "--measurement-time", "0.15"];
        assert_eq!(time(&given), Some(Duration::from_millis(150)));
        let joined = ["bench", "--measurement-time=3"];
        assert_eq!(time(&joined), Some(Duration::from_secs(3)));
        assert_eq!(time(&["bench", "--measurement-time", "soon"]), None);
    }
}
