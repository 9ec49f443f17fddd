//! The claims report: every figure the documents cite (`CLAIMS.md`, IDs C01…), the figures
//! measured here that test it, and a verdict for each.
//!
//! A claim's figure becomes a range: "a–b" is taken as written; "about x" (or a single number
//! from a table of one run on another machine) as x/2 to 2x; "x+" as x and up. A measured
//! figure inside the range agrees with the documents; outside, the verdict says by how many
//! times it is cheaper or dearer. Architectural claims (C06, C07, C13, C33) are derived from
//! measured parts, and each figure says how.

use crate::c10k::Model;
use crate::c10k::orchestrate::{Measured, Outcome};
use crate::c10k::report::C10kReport;
use crate::footprint::Footprint;
use crate::gate::criterion::{Estimate, read_criterion};
use crate::herd::HerdSummary;
use crate::probe::LatencySummary;
use crate::provenance::{Run, read_criterion_runs, this_commit};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

/// What a figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Nanoseconds,
    Bytes,
    /// A plain number: a ratio, a count per event.
    Number,
    /// Percent of one CPU core.
    PercentOfCore,
}

impl Unit {
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Nanoseconds => crate::units::human_ns(value),
            Unit::Bytes => match value {
                v if v >= (1u64 << 30) as f64 => format!("{:.2} GiB", v / (1u64 << 30) as f64),
                v if v >= (1 << 20) as f64 => format!("{:.1} MiB", v / (1 << 20) as f64),
                v if v >= 1024.0 => format!("{:.1} KiB", v / 1024.0),
                v => format!("{v:.0} B"),
            },
            Unit::Number => match value {
                v if v >= 100.0 => format!("{v:.0}"),
                v => format!("{v:.2}"),
            },
            Unit::PercentOfCore => format!("{value:.1}% of a core"),
        }
    }
}

/// The documents' figure as a closed range (`high` may be infinite).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub low: f64,
    pub high: f64,
}

impl Range {
    pub const fn between(low: f64, high: f64) -> Range {
        Range { low, high }
    }
    /// "About x": within a factor of two either way.
    pub const fn about(x: f64) -> Range {
        Range {
            low: x / 2.0,
            high: x * 2.0,
        }
    }
    pub const fn at_least(low: f64) -> Range {
        Range {
            low,
            high: f64::INFINITY,
        }
    }
    pub const fn at_most(high: f64) -> Range {
        Range { low: 0.0, high }
    }
}

/// How a measured figure compares with the documents'.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Inside the documents' range.
    Within,
    /// Below it: cheaper (smaller, fewer) by this factor.
    Below { factor: f64 },
    /// Above it: dearer (larger, more) by this factor.
    Above { factor: f64 },
    /// No result yet; the command produces one.
    NotMeasured { command: String },
    /// A result exists but is not one to judge: why, and the command that makes one.
    NotTrusted { why: String, command: String },
}

impl Verdict {
    pub fn of(value: f64, range: Range) -> Verdict {
        if value < range.low {
            Verdict::Below {
                factor: range.low / value.max(f64::MIN_POSITIVE),
            }
        } else if value > range.high {
            Verdict::Above {
                // Above a range that ends at zero, there is no meaningful factor.
                factor: if range.high > 0.0 {
                    value / range.high
                } else {
                    f64::INFINITY
                },
            }
        } else {
            Verdict::Within
        }
    }

    /// Whether the documents are wrong about this figure here.
    pub fn disagrees(&self) -> bool {
        matches!(self, Verdict::Below { .. } | Verdict::Above { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Verdict::Within => "within the claimed range".into(),
            Verdict::Below { factor } => format!("cheaper than claimed, ×{}", times(*factor)),
            Verdict::Above { factor } => format!("dearer than claimed, ×{}", times(*factor)),
            Verdict::NotMeasured { command } => format!("not measured yet: {command}"),
            Verdict::NotTrusted { why, command } => {
                format!("not judged ({why}); measure again: {command}")
            }
        }
    }
}

fn times(factor: f64) -> String {
    match factor {
        f if f.is_infinite() => "∞ (the claim allows none)".into(),
        f if f >= 10.0 => format!("{f:.0}"),
        f => format!("{f:.1}"),
    }
}

/// Everything measured so far, read from where the suite writes it.
#[derive(Clone, Debug, Default)]
pub struct Results {
    /// Criterion's latest mean per benchmark ID.
    pub criterion: BTreeMap<String, Estimate>,
    /// The run behind each of Criterion's means (`target/costs/criterion_runs.json`).
    pub criterion_runs: BTreeMap<String, Run>,
    /// The commit whose results the report judges: its own build's.
    pub commit: String,
    /// Latency percentiles per benchmark ID (`target/costs/blocked_loop.json`).
    pub latencies: BTreeMap<String, LatencySummary>,
    /// `costs footprint` rows per unit kind (`target/costs/footprint.json`).
    pub footprint: BTreeMap<String, Footprint>,
    /// `costs c10k` reports per scenario (`target/costs/c10k.json`).
    pub c10k: BTreeMap<String, C10kReport>,
    /// Wake-ups per connection of each herd benchmark (`target/costs/herd.json`).
    pub herd: BTreeMap<String, HerdSummary>,
    /// Why each result read for the figure being computed cannot be trusted, if it cannot.
    distrust: RefCell<Vec<String>>,
}

/// Fewer probes than this behind a percentile, or fewer units behind a footprint, and the
/// figure is not the run the documents describe.
const FULL_PROBES: u64 = 10_000;
const FULL_UNITS: usize = 10_000;
/// Fewer connections than this behind a herd's wake-ups per connection: a test run's.
const FULL_CONNECTIONS: u64 = 1_000;

fn read_json<T: serde::de::DeserializeOwned + Default>(path: &Path) -> T {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

impl Results {
    pub fn load(criterion_dir: &Path, costs_dir: &Path) -> Results {
        Results {
            criterion: read_criterion(criterion_dir).unwrap_or_default(),
            criterion_runs: read_criterion_runs(costs_dir),
            commit: this_commit().to_string(),
            latencies: read_json(&costs_dir.join("blocked_loop.json")),
            footprint: read_json(&costs_dir.join("footprint.json")),
            c10k: read_json(&costs_dir.join("c10k.json")),
            herd: read_json(&costs_dir.join("herd.json")),
            distrust: RefCell::default(),
        }
    }

    /// Notes why a result just read cannot be trusted: no run recorded behind it, a run that
    /// did not measure or of another commit, or `short` (a run that is not the full one).
    fn note(&self, run: Option<&Run>, short: Option<String>) {
        let why = match run {
            None => Some("no record of the run that made it".to_string()),
            Some(run) => run.distrust(&self.commit),
        };
        self.distrust
            .borrow_mut()
            .extend(why.into_iter().chain(short));
    }

    fn mean(&self, id: &str) -> Option<f64> {
        let mean = self.criterion.get(id)?.mean_ns;
        self.note(self.criterion_runs.get(id), None);
        Some(mean)
    }

    fn latency(&self, id: &str) -> Option<&LatencySummary> {
        let summary = self.latencies.get(id)?;
        let short = (summary.probes < FULL_PROBES)
            .then(|| format!("{} probes behind it, not {FULL_PROBES}", summary.probes));
        self.note(summary.run.as_ref(), short);
        Some(summary)
    }

    fn footprint_of(&self, kind: &str) -> Option<&Footprint> {
        let row = self.footprint.get(kind)?;
        let short = (row.units < FULL_UNITS || !row.is_complete()).then(|| {
            format!(
                "{} of {} units alive, not {FULL_UNITS}",
                row.alive, row.units
            )
        });
        self.note(row.run.as_ref(), short);
        Some(row)
    }

    fn herd_of(&self, id: &str) -> Option<&HerdSummary> {
        let summary = self.herd.get(id)?;
        let short = (summary.connections < FULL_CONNECTIONS).then(|| {
            format!(
                "{} connections behind it, not {FULL_CONNECTIONS}",
                summary.connections
            )
        });
        self.note(summary.run.as_ref(), short);
        Some(summary)
    }

    fn c10k_run(&self, scenario: &str, model: Model) -> Option<&Measured> {
        let report = self.c10k.get(scenario)?;
        let measured = report.runs.iter().find_map(|run| match &run.outcome {
            Outcome::Measured(m) if run.model == model => Some(m.as_ref()),
            _ => None,
        })?;
        let partial = measured
            .partial
            .as_ref()
            .map(|why| format!("a partial run: {why}"));
        self.note(report.run.as_ref(), partial);
        Some(measured)
    }

    /// Computes one figure, and why it cannot be trusted if any result it read cannot be.
    fn figure(&self, measure: &Measure) -> (Option<f64>, Option<String>) {
        self.distrust.borrow_mut().clear();
        let value = measure(self).filter(|v| v.is_finite());
        let mut reasons = std::mem::take(&mut *self.distrust.borrow_mut());
        reasons.dedup();
        (value, (!reasons.is_empty()).then(|| reasons.join("; ")))
    }
}

/// Where a figure comes from and how it is computed from the results.
type Measure = Box<dyn Fn(&Results) -> Option<f64>>;

/// One measured figure that tests a claim.
pub struct Figure {
    /// What is measured, in a few words.
    pub label: String,
    /// The benchmark IDs or tool results it comes from, and how it is derived.
    pub source: String,
    pub unit: Unit,
    pub range: Range,
    /// The command that measures it.
    pub command: &'static str,
    measure: Measure,
}

/// A claim of the documents and the figures that test it.
pub struct Claim {
    pub id: &'static str,
    pub claim: &'static str,
    /// The documents' figure, as they give it.
    pub docs: &'static str,
    pub figures: Vec<Figure>,
    /// What this machine cannot show of the claim, and why.
    pub beyond_this_machine: Option<&'static str>,
}

/// A figure's line in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub claim: String,
    pub docs: String,
    pub label: String,
    pub source: String,
    pub unit: Unit,
    pub range: Range,
    pub value: Option<f64>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl Claim {
    pub fn rows(&self, results: &Results) -> Vec<Row> {
        self.figures
            .iter()
            .map(|f| {
                let (value, distrust) = results.figure(&f.measure);
                Row {
                    claim: self.id.into(),
                    docs: self.docs.into(),
                    label: f.label.clone(),
                    source: f.source.clone(),
                    unit: f.unit,
                    range: f.range,
                    value,
                    verdict: match (value, distrust) {
                        (Some(_), Some(why)) => Verdict::NotTrusted {
                            why,
                            command: f.command.into(),
                        },
                        (Some(v), None) => Verdict::of(v, f.range),
                        (None, _) => Verdict::NotMeasured {
                            command: f.command.into(),
                        },
                    },
                }
            })
            .collect()
    }
}

const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * 1024.0;
const US: f64 = 1e3;
const MS: f64 = 1e6;

const BENCH: &str = "cargo bench";
const FOOTPRINT: &str = "cargo run --release --bin costs -- footprint";
const C10K_IO: &str = "cargo run --release --bin costs -- c10k";
const C10K_C32: &str = "cargo run --release --bin costs -- c10k --connections 5000 --io-ms 50";
const C10K_CPU: &str = "cargo run --release --bin costs -- c10k --cpu-work";
const C10K_CPU_POOL: &str = "cargo run --release --bin costs -- c10k --cpu-work --placement pool";

/// The c10k scenarios the claims read, as `costs c10k` keys them.
pub const IO_10K: &str = "io_10000c_10ms";
pub const IO_5K_50MS: &str = "io_5000c_50ms";
pub const CPU_INLINE: &str = "cpu_inline_10000c";
pub const CPU_POOL: &str = "cpu_pool_10000c";

fn bench(label: &str, id: &'static str, unit: Unit, range: Range) -> Figure {
    Figure {
        label: label.into(),
        source: id.into(),
        unit,
        range,
        command: BENCH,
        measure: Box::new(move |r| r.mean(id)),
    }
}

/// Wake-ups per new connection with the workers of benchmark `id` waiting on one listener.
fn herd(label: &str, id: &'static str) -> Figure {
    Figure {
        label: format!("wake-ups per connection, {label}"),
        source: format!("{id} (voluntary switches of the workers ÷ connections)"),
        unit: Unit::Number,
        range: Range::about(1.0),
        command: BENCH,
        measure: Box::new(move |r| r.herd_of(id).map(|h| h.wakeups_per_connection)),
    }
}

/// How much dearer one wait with one ready fd is with `n` registered than with 1.
fn growth(api: &str, function: &str, n: u32, range: Range) -> Figure {
    let (many, one) = (
        format!("epoll_wait/{function}/{n}"),
        format!("epoll_wait/{function}/1"),
    );
    Figure {
        label: format!("{api}, 1 ready: {n} fds ÷ 1 fd"),
        source: format!("{many} ÷ {one}"),
        unit: Unit::Number,
        range,
        command: BENCH,
        measure: Box::new(move |r| Some(r.mean(&many)? / r.mean(&one)?)),
    }
}

/// Benchmark means (label, ID) that all test the same range of times.
fn benches(rows: &[(&str, &'static str)], range: Range) -> Vec<Figure> {
    rows.iter()
        .map(|(label, id)| bench(label, id, Unit::Nanoseconds, range))
        .collect()
}

fn footprint(label: &str, unit_kind: &'static str, virtual_size: bool, range: Range) -> Figure {
    let field = if virtual_size { "virtual" } else { "RSS" };
    Figure {
        label: label.into(),
        source: format!("costs footprint: {unit_kind}, {field} per unit"),
        unit: Unit::Bytes,
        range,
        command: FOOTPRINT,
        measure: Box::new(move |r| {
            let f = r.footprint_of(unit_kind)?;
            Some(match virtual_size {
                true => f.virtual_per_unit,
                false => f.rss_per_unit,
            })
        }),
    }
}

/// A figure of one model's c10k run in one scenario.
fn c10k(
    label: &str,
    scenario: &'static str,
    model: Model,
    what: &str,
    unit: Unit,
    range: Range,
    measure: fn(&Measured) -> Option<f64>,
) -> Figure {
    let command = match scenario {
        IO_5K_50MS => C10K_C32,
        CPU_INLINE => C10K_CPU,
        CPU_POOL => C10K_CPU_POOL,
        _ => C10K_IO,
    };
    Figure {
        label: label.into(),
        source: format!("costs c10k {scenario}: {}, {what}", model.id()),
        unit,
        range,
        command,
        measure: Box::new(move |r| r.c10k_run(scenario, model).and_then(measure)),
    }
}

fn p50(m: &Measured) -> Option<f64> {
    m.client.latency.as_ref().map(|l| l.p50_ms * MS)
}
fn p99(m: &Measured) -> Option<f64> {
    m.client.latency.as_ref().map(|l| l.p99_ms * MS)
}
fn rss(m: &Measured) -> Option<f64> {
    Some(m.server_peak_rss_bytes as f64)
}
fn rss_per_connection(m: &Measured) -> Option<f64> {
    Some(m.server_peak_rss_bytes as f64 / m.client.established.max(1) as f64)
}
fn all_served(m: &Measured) -> Option<f64> {
    let served = m.client.completed == m.client.requests && m.partial.is_none();
    Some(if served {
        m.client.established as f64
    } else {
        0.0
    })
}
/// p50 and p99 of one model's run beside one row of the documents' table, in ms.
fn percentiles(
    who: &str,
    scenario: &'static str,
    model: Model,
    docs_ms: (f64, f64),
) -> Vec<Figure> {
    let (docs_p50, docs_p99) = docs_ms;
    vec![
        c10k(
            &format!("{who}: p50"),
            scenario,
            model,
            "p50",
            Unit::Nanoseconds,
            Range::about(docs_p50 * MS),
            p50,
        ),
        c10k(
            &format!("{who}: p99"),
            scenario,
            model,
            "p99",
            Unit::Nanoseconds,
            Range::about(docs_p99 * MS),
            p99,
        ),
    ]
}

/// Little's law: requests in flight = throughput × time each spends in service.
fn in_flight(m: &Measured, service_s: f64) -> Option<f64> {
    Some(m.client.throughput_rps * service_s)
}

/// Thread-per-connection ÷ an async model, both at 10,000 connections.
fn threads_over_async(r: &Results, async_model: Model, of: fn(&Measured) -> f64) -> Option<f64> {
    let threads = r.c10k_run(IO_10K, Model::ThreadPerConnection)?;
    let tasks = r.c10k_run(IO_10K, async_model)?;
    Some(of(threads) / of(tasks).max(f64::MIN_POSITIVE))
}

/// One figure per flavour from its blocked loop's probe latencies with 10 ms blocks inline:
/// `what` names it and the percentile `pick` takes.
fn blocked_loop_figures(
    flavours: &[&str],
    (what, percentile): (&str, &str),
    range: Range,
    pick: fn(&LatencySummary) -> u64,
) -> Vec<Figure> {
    flavours
        .iter()
        .map(|flavour| {
            let id = format!("blocked_loop/{flavour}_inline/10ms");
            Figure {
                label: format!("{what}, 10 ms blocks, {flavour}"),
                source: format!("{id} ({percentile} probe latency)"),
                unit: Unit::Nanoseconds,
                range,
                command: BENCH,
                measure: Box::new(move |r| r.latency(&id).map(|s| pick(s) as f64)),
            }
        })
        .collect()
}

/// Every claim of `CLAIMS.md` and the figures that test it.
pub fn claims() -> Vec<Claim> {
    use Unit::*;
    vec![
        Claim {
            id: "C01",
            claim: "fork() is expensive and grows with the parent's memory",
            docs: "hundreds of µs per fork",
            figures: benches(
                &[
                    ("fork+exit+wait, 1 MiB parent", "fork/fork_exit_wait/1MiB"),
                    ("fork+exit+wait, 64 MiB parent", "fork/fork_exit_wait/64MiB"),
                    ("fork+exit+wait, 1 GiB parent", "fork/fork_exit_wait/1GiB"),
                    ("fork+exec+wait, 1 MiB parent", "fork/fork_exec_wait/1MiB"),
                ],
                Range::between(100.0 * US, 1000.0 * US),
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C02",
            claim: "creating a thread is much cheaper than forking",
            docs: "tens of µs, not hundreds",
            figures: benches(
                &[
                    ("spawn+join, 2 MiB stack", "thread_spawn/spawn_join/2MiB"),
                    ("spawn+join, 64 KiB stack", "thread_spawn/spawn_join/64KiB"),
                    (
                        "spawn to first instruction",
                        "thread_spawn/first_instruction/2MiB",
                    ),
                ],
                Range::between(10.0 * US, 100.0 * US),
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C03",
            claim: "an OS thread context switch",
            docs: "1–10 µs (~5 µs)",
            figures: benches(
                &[
                    (
                        "thread switch, pipe, same core",
                        "context_switch/thread_pipe/same_core",
                    ),
                    (
                        "thread switch, pipe, cross core",
                        "context_switch/thread_pipe/cross_core",
                    ),
                    (
                        "thread switch, pipe, unpinned",
                        "context_switch/thread_pipe/unpinned",
                    ),
                    (
                        "thread switch, futex, same core",
                        "context_switch/thread_futex/same_core",
                    ),
                    (
                        "process switch, pipe, same core",
                        "context_switch/process_pipe/same_core",
                    ),
                ],
                Range::between(1.0 * US, 10.0 * US),
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C04",
            claim: "a thread's stack: 8 MiB virtual, ~64 KiB resident",
            docs: "8 MiB virtual / ~64 KiB RSS",
            figures: vec![
                footprint(
                    "virtual per parked thread, 8 MiB stack",
                    "thread_8mib_stack",
                    true,
                    Range::about(8.0 * MIB),
                ),
                footprint(
                    "RSS per parked thread, 8 MiB stack",
                    "thread_8mib_stack",
                    false,
                    Range::about(64.0 * KIB),
                ),
                footprint(
                    "RSS per parked thread, 2 MiB stack",
                    "thread_2mib_stack",
                    false,
                    Range::about(64.0 * KIB),
                ),
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C05",
            claim: "epoll_wait costs O(ready fds), select/poll O(registered fds)",
            docs: "flat vs linear in N",
            figures: vec![
                growth("epoll_wait", "epoll", 10_000, Range::about(1.0)),
                growth("poll", "poll", 10_000, Range::at_least(100.0)),
                growth("select", "select", 1_000, Range::at_least(10.0)),
            ],
            beyond_this_machine: Some(
                "select cannot watch fds above 1,023 (FD_SETSIZE), so it stops at 1,000",
            ),
        },
        Claim {
            id: "C06",
            claim: "prefork workers on one listener: one wake-up per new connection",
            docs: "1 wake-up per connection",
            figures: vec![
                herd("32 workers blocked in accept", "herd/accept/32"),
                herd(
                    "32 workers in epoll, EPOLLEXCLUSIVE",
                    "herd/epoll_exclusive/32",
                ),
                herd("32 workers in epoll, no EPOLLEXCLUSIVE", "herd/epoll/32"),
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C07",
            claim: "50,000 thread switches per second at 10 µs cost half a core",
            docs: "50% of a core",
            figures: vec![Figure {
                label: "50,000 switches/s × measured switch".into(),
                source: "50,000 × context_switch/thread_pipe/same_core".into(),
                unit: PercentOfCore,
                range: Range::about(50.0),
                command: BENCH,
                measure: Box::new(|r| {
                    Some(50_000.0 * r.mean("context_switch/thread_pipe/same_core")? / 1e9 * 100.0)
                }),
            }],
            beyond_this_machine: None,
        },
        Claim {
            id: "C10",
            claim: "a goroutine / green-thread switch (no kernel, no TLB flush)",
            docs: "100–200 ns",
            figures: benches(
                &[
                    ("may coroutine switch", "coroutine_switch/may"),
                    ("may yield, 2 workers", "task_switch/yield/may_2w"),
                    (
                        "bare stackful switch (corosensei)",
                        "coroutine_switch/corosensei",
                    ),
                ],
                Range::between(100.0, 200.0),
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C11",
            claim: "an async task switch; a callback dispatch",
            docs: "~100 ns / ~50 ns",
            figures: benches(
                &[
                    (
                        "task switch (yield), tokio current_thread",
                        "task_switch/yield/tokio_current_thread",
                    ),
                    (
                        "task switch (yield), tokio multi_thread",
                        "task_switch/yield/tokio_multi_thread_2w",
                    ),
                    (
                        "task switch (yield), async-std",
                        "task_switch/yield/async_std_2w",
                    ),
                    ("task switch (yield), smol", "task_switch/yield/smol_2w"),
                    (
                        "task switch (yield), smol local",
                        "task_switch/yield/smol_local",
                    ),
                    (
                        "task wake-and-switch, tokio current_thread",
                        "task_switch/ping_pong/tokio_current_thread",
                    ),
                    (
                        "task wake-and-switch, monoio",
                        "task_switch/ping_pong/monoio",
                    ),
                ],
                Range::about(100.0),
            )
            .into_iter()
            .chain(benches(
                &[(
                    "callback dispatch (indirect call)",
                    "coroutine_switch/function_call",
                )],
                Range::about(50.0),
            ))
            .collect(),
            beyond_this_machine: None,
        },
        Claim {
            id: "C12",
            claim: "a lightweight task or coroutine needs about 2 KiB",
            docs: "~2 KiB (goroutine 2–8 KiB)",
            figures: [
                "tokio_current_thread",
                "tokio_multi_thread_2w",
                "async_std_2w",
                "smol_2w",
                "monoio",
                "may_2w",
            ]
            .into_iter()
            .map(|unit| {
                footprint(
                    &format!("RSS per parked task, {unit}"),
                    unit,
                    false,
                    Range::between(1.0 * KIB, 8.0 * KIB),
                )
            })
            .collect(),
            beyond_this_machine: None,
        },
        Claim {
            id: "C13",
            claim: "async at 10,000 connections: far less memory and CPU than thread-per-connection",
            docs: "500× less memory / 100× less CPU",
            figures: vec![
                Figure {
                    label: "peak RSS, thread_per_connection ÷ tokio_multi_thread".into(),
                    source: format!("costs c10k {IO_10K}: peak RSS ratio"),
                    unit: Number,
                    range: Range::about(500.0),
                    command: C10K_IO,
                    measure: Box::new(|r| {
                        threads_over_async(r, Model::TokioMultiThread, |m| {
                            m.server_peak_rss_bytes as f64
                        })
                    }),
                },
                Figure {
                    label: "server CPU, thread_per_connection ÷ tokio_multi_thread".into(),
                    source: format!("costs c10k {IO_10K}: server CPU seconds ratio"),
                    unit: Number,
                    range: Range::about(100.0),
                    command: C10K_IO,
                    measure: Box::new(|r| {
                        threads_over_async(r, Model::TokioMultiThread, |m| m.server_cpu_s)
                    }),
                },
                Figure {
                    label: "RSS per unit, parked thread ÷ parked tokio task".into(),
                    source: "costs footprint: thread_2mib_stack ÷ tokio_multi_thread_2w".into(),
                    unit: Number,
                    range: Range::about(500.0),
                    command: FOOTPRINT,
                    measure: Box::new(|r| {
                        Some(
                            r.footprint_of("thread_2mib_stack")?.rss_per_unit
                                / r.footprint_of("tokio_multi_thread_2w")?.rss_per_unit,
                        )
                    }),
                },
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C14",
            claim: "memory per connection of an event loop",
            docs: "~10 KiB per connection; Node ~2 KiB",
            figures: [
                Model::TokioCurrentThread,
                Model::TokioMultiThread,
                Model::Smol,
                Model::Monoio,
            ]
            .into_iter()
            .map(|m| {
                c10k(
                    &format!("server peak RSS ÷ connections, {}", m.id()),
                    IO_10K,
                    m,
                    "peak RSS ÷ connections held",
                    Bytes,
                    Range::between(1.0 * KIB, 20.0 * KIB),
                    rss_per_connection,
                )
            })
            .collect(),
            beyond_this_machine: None,
        },
        Claim {
            id: "C20",
            claim: "synchronous work on the loop stalls every other connection for its whole length",
            docs: "stall = block length",
            figures: blocked_loop_figures(
                &[
                    "tokio_current_thread",
                    "smol_local",
                    "futures_local",
                    "tokio_multi_thread_2w",
                    "smol_2w",
                ],
                ("worst probe stall", "max"),
                Range::about(10.0 * MS),
                |s| s.max_ns,
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C21",
            claim: "event-loop lag above 50 ms is an alert",
            docs: "50 ms",
            figures: blocked_loop_figures(
                &[
                    "tokio_current_thread",
                    "smol_local",
                    "tokio_multi_thread_2w",
                ],
                ("p99 lag (under the alert?)", "p99"),
                Range::at_most(50.0 * MS),
                |s| s.p99_ns,
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C22",
            claim: "CPU-bound work must be offloaded; offloading restores latency",
            docs: "p50 120 → 28–35 ms",
            figures: vec![
                c10k(
                    "p50, hashes inline on one loop",
                    CPU_INLINE,
                    Model::TokioCurrentThread,
                    "p50",
                    Nanoseconds,
                    Range::about(120.0 * MS),
                    p50,
                ),
                c10k(
                    "p50, hashes offloaded (spawn_blocking)",
                    CPU_POOL,
                    Model::TokioMultiThread,
                    "p50",
                    Nanoseconds,
                    Range::between(28.0 * MS, 35.0 * MS),
                    p50,
                ),
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C23",
            claim: "a bounded pool whose threads all block makes the next job wait; pool size caps in-flight work",
            docs: "pool of N → N in flight",
            figures: vec![
                bench(
                    "next job's wait, shared pool all blocked 5 ms",
                    "offload/starvation/shared_pool",
                    Nanoseconds,
                    Range::about(5.0 * MS),
                ),
                c10k(
                    "requests in flight, thread_pool of 200",
                    IO_10K,
                    Model::ThreadPool,
                    "throughput × 10 ms (Little's law)",
                    Number,
                    Range::between(100.0, 200.0),
                    |m| in_flight(m, 0.010),
                ),
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C30",
            claim: "10,000 clients, 10 ms simulated I/O each",
            docs: "threads 14/95 ms, 10 GB+; asyncio 11/18 ms, 25 MB; goroutines 11/15 ms, 22 MB; Node 11/17 ms, 80 MB",
            figures: [
                percentiles("threads", IO_10K, Model::ThreadPerConnection, (14.0, 95.0)),
                vec![c10k(
                    "threads: server memory",
                    IO_10K,
                    Model::ThreadPerConnection,
                    "peak RSS",
                    Bytes,
                    Range::at_least(10e9),
                    rss,
                )],
                percentiles(
                    "one event loop (asyncio's peer)",
                    IO_10K,
                    Model::TokioCurrentThread,
                    (11.0, 18.0),
                ),
                vec![c10k(
                    "one event loop (asyncio's peer): memory",
                    IO_10K,
                    Model::TokioCurrentThread,
                    "peak RSS",
                    Bytes,
                    Range::about(25e6),
                    rss,
                )],
                percentiles(
                    "coroutines (goroutines' peer)",
                    IO_10K,
                    Model::May,
                    (11.0, 15.0),
                ),
                vec![c10k(
                    "coroutines (goroutines' peer): memory",
                    IO_10K,
                    Model::May,
                    "peak RSS",
                    Bytes,
                    Range::about(22e6),
                    rss,
                )],
            ]
            .into_iter()
            .flatten()
            .collect(),
            beyond_this_machine: Some(
                "Node's row has no peer here beyond the one-loop row (asyncio's)",
            ),
        },
        Claim {
            id: "C31",
            claim: "10,000 CPU-bound (hash) requests",
            docs: "one loop 120/200 ms; process pool 35/55 ms; goroutines 28/45 ms; worker threads 32/50 ms (4 cores)",
            figures: [
                percentiles(
                    "one loop, inline",
                    CPU_INLINE,
                    Model::TokioCurrentThread,
                    (120.0, 200.0),
                ),
                percentiles(
                    "process pool (prefork)",
                    CPU_INLINE,
                    Model::Prefork,
                    (35.0, 55.0),
                ),
                percentiles("coroutines (may)", CPU_INLINE, Model::May, (28.0, 45.0)),
                percentiles(
                    "worker threads (spawn_blocking)",
                    CPU_POOL,
                    Model::TokioMultiThread,
                    (32.0, 50.0),
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
            beyond_this_machine: Some(
                "the documents used 4 cores; this machine has 2, so parallel rows cannot halve as theirs did",
            ),
        },
        Claim {
            id: "C32",
            claim: "5,000 connections, 50 ms query each",
            docs: "threads ~500 MB; prefork of 100 caps at 100 in flight; event loop ~50 MB; goroutines ~100 MB",
            figures: vec![
                c10k(
                    "threads: server memory",
                    IO_5K_50MS,
                    Model::ThreadPerConnection,
                    "peak RSS",
                    Bytes,
                    Range::about(500e6),
                    rss,
                ),
                c10k(
                    "prefork of 100: requests in flight",
                    IO_5K_50MS,
                    Model::Prefork,
                    "throughput × 50 ms (Little's law)",
                    Number,
                    Range::between(50.0, 100.0),
                    |m| in_flight(m, 0.050),
                ),
                c10k(
                    "event loop: server memory",
                    IO_5K_50MS,
                    Model::TokioCurrentThread,
                    "peak RSS",
                    Bytes,
                    Range::about(50e6),
                    rss,
                ),
                c10k(
                    "coroutines (may): server memory",
                    IO_5K_50MS,
                    Model::May,
                    "peak RSS",
                    Bytes,
                    Range::about(100e6),
                    rss,
                ),
            ],
            beyond_this_machine: Some(
                "process-per-request (~5 GB, falls over) is not a model here; fork's cost is C01",
            ),
        },
        Claim {
            id: "C33",
            claim: "one event-loop thread serves 10K+ connections; async 100,000+ on one core",
            docs: "10K / 100K",
            figures: vec![c10k(
                "connections one loop held and served",
                IO_10K,
                Model::TokioCurrentThread,
                "connections held with every request answered",
                Number,
                Range::at_least(10_000.0),
                all_served,
            )],
            beyond_this_machine: Some(
                "100,000 connections need 100,000 fds per process; the hard limit here is 20,000",
            ),
        },
    ]
}

/// The report's rows for every claim.
pub fn evaluate(results: &Results) -> Vec<Row> {
    claims().iter().flat_map(|c| c.rows(results)).collect()
}

fn measured_text(row: &Row) -> String {
    row.value.map_or("—".into(), |v| row.unit.format(v))
}

fn range_text(row: &Row) -> String {
    let r = row.range;
    match (r.low, r.high) {
        (low, high) if high.is_infinite() => format!("≥ {}", row.unit.format(low)),
        (low, high) if low <= 0.0 => format!("≤ {}", row.unit.format(high)),
        (low, high) => format!("{} – {}", row.unit.format(low), row.unit.format(high)),
    }
}

/// How many figures were judged, and how many were not and why: the report's first line.
pub fn judged_summary(rows: &[Row]) -> String {
    let count = |pick: fn(&Verdict) -> bool| rows.iter().filter(|r| pick(&r.verdict)).count();
    let untrusted = count(|v| matches!(v, Verdict::NotTrusted { .. }));
    let missing = count(|v| matches!(v, Verdict::NotMeasured { .. }));
    format!(
        "{} of {} figures judged, each on a measuring run of this build ({}); {untrusted} not \
         judged (a test or profile run, another commit, a short or partial run, or no record \
         of the run), {missing} not measured",
        rows.len() - untrusted - missing,
        rows.len(),
        this_commit()
    )
}

/// The report as a markdown table.
pub fn markdown(rows: &[Row], machine: &str) -> String {
    let mut out = format!(
        "Measured on: {machine}\n\n{}.\n\n| claim | the documents | measured | range read | here | from | verdict |\n|---|---|---|---|---|---|---|\n",
        judged_summary(rows)
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | `{}` | {} |\n",
            row.claim,
            row.docs,
            row.label,
            range_text(row),
            measured_text(row),
            row.source,
            row.verdict.describe()
        ));
    }
    for claim in claims() {
        if let Some(beyond) = claim.beyond_this_machine {
            out.push_str(&format!("\n- {}: {beyond}.", claim.id));
        }
    }
    out.push('\n');
    out
}

/// The report as a plain-text table for the terminal.
pub fn text(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<5} {:<52} {:>14} {:>26}  verdict\n",
        "claim", "measured", "here", "range read"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<5} {:<52} {:>14} {:>26}  {}\n",
            row.claim,
            row.label,
            measured_text(row),
            range_text(row),
            row.verdict.describe()
        ));
    }
    out
}

/// The costs on the ladder: label and benchmark ID, cheapest first as the documents order
/// them.
pub const LADDER: [(&str, &str); 16] = [
    ("function call", "coroutine_switch/function_call"),
    (
        "coroutine switch (corosensei)",
        "coroutine_switch/corosensei",
    ),
    (
        "task switch, tokio current_thread",
        "task_switch/yield/tokio_current_thread",
    ),
    ("task switch, smol", "task_switch/yield/smol_2w"),
    ("task switch, async-std", "task_switch/yield/async_std_2w"),
    ("coroutine switch, may", "coroutine_switch/may"),
    ("syscall (getppid)", "syscall/getppid"),
    ("epoll_wait, 1 ready of 10,000", "epoll_wait/epoll/10000"),
    (
        "task spawn, tokio multi_thread",
        "task_spawn/tokio_multi_thread_2w",
    ),
    (
        "thread switch, same core",
        "context_switch/thread_pipe/same_core",
    ),
    (
        "thread switch, cross core",
        "context_switch/thread_pipe/cross_core",
    ),
    ("thread spawn + join", "thread_spawn/spawn_join/2MiB"),
    ("fork, 1 MiB parent", "fork/fork_exit_wait/1MiB"),
    ("poll, 10,000 fds", "epoll_wait/poll/10000"),
    ("fork, 64 MiB parent", "fork/fork_exit_wait/64MiB"),
    ("fork, 1 GiB parent", "fork/fork_exit_wait/1GiB"),
];

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The cost ladder: one horizontal bar per measured cost on a log scale from 1 ns to 100 ms,
/// labelled with its value, titled with the machine. Self-contained SVG: no fonts to embed,
/// the viewer's sans-serif draws the text.
pub fn ladder_svg(results: &Results, machine: &str) -> String {
    const LEFT: f64 = 250.0;
    const WIDTH: f64 = 560.0;
    const ROW: f64 = 24.0;
    const TOP: f64 = 50.0;
    const DECADES: f64 = 8.0; // 1 ns .. 100 ms
    let bars: Vec<(&str, &str, f64)> = LADDER
        .iter()
        .filter_map(|(label, id)| Some((*label, *id, results.mean(id)?)))
        .collect();
    let height = TOP + ROW * bars.len() as f64 + 40.0;
    let x = |ns: f64| LEFT + WIDTH * (ns.max(1.0).log10() / DECADES).min(1.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">The cost ladder, measured (log scale)</text>\n\
         <text x=\"10\" y=\"38\" font-size=\"10\" fill=\"#555\">{}</text>\n",
        xml_escape(machine),
        w = LEFT + WIDTH + 120.0,
    );
    for decade in 0..=DECADES as u32 {
        let ns = 10f64.powi(decade as i32);
        let gx = x(ns);
        let bottom = TOP + ROW * bars.len() as f64;
        svg.push_str(&format!(
            "<line x1=\"{gx:.1}\" y1=\"{TOP}\" x2=\"{gx:.1}\" y2=\"{bottom}\" stroke=\"#ddd\"/>\n\
             <text x=\"{gx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{}</text>\n",
            bottom + 14.0,
            crate::units::human_ns(ns).replace(".0 ", " ").replace(".00 ", " ")
        ));
    }
    for (i, (label, id, ns)) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        svg.push_str(&format!(
            "<g class=\"bar\"><title>{id}</title>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LEFT}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4a7ab7\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>\n",
            LEFT - 8.0,
            y + ROW * 0.65,
            xml_escape(label),
            y + 3.0,
            (x(*ns) - LEFT).max(1.0),
            ROW - 6.0,
            x(*ns) + 6.0,
            y + ROW * 0.65,
            xml_escape(&crate::units::human_ns(*ns)),
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_inside_below_or_above_the_range_gets_its_verdict() {
        let range = Range::between(100.0, 200.0);
        assert_eq!(Verdict::of(150.0, range), Verdict::Within);
        assert_eq!(Verdict::of(100.0, range), Verdict::Within);
        assert_eq!(Verdict::of(25.0, range), Verdict::Below { factor: 4.0 });
        assert_eq!(Verdict::of(600.0, range), Verdict::Above { factor: 3.0 });
        assert_eq!(Verdict::of(1e12, Range::at_least(5.0)), Verdict::Within);
        assert_eq!(Verdict::of(0.0, Range::at_most(0.0)), Verdict::Within);
        assert!(Verdict::of(600.0, range).disagrees());
        assert!(!Verdict::Within.disagrees());
    }

    #[test]
    fn about_means_within_a_factor_of_two() {
        assert_eq!(Range::about(64.0), Range::between(32.0, 128.0));
    }

    fn results_with(means: &[(&str, f64)]) -> Results {
        let mut results = Results {
            commit: this_commit().into(),
            ..Results::default()
        };
        for (id, mean) in means {
            results
                .criterion_runs
                .insert(id.to_string(), Run::now(crate::provenance::Mode::Bench));
            results.criterion.insert(
                id.to_string(),
                Estimate {
                    mean_ns: *mean,
                    ci_low_ns: *mean,
                    ci_high_ns: *mean,
                    median_ns: *mean,
                },
            );
        }
        results
    }

    #[test]
    fn a_missing_result_says_which_command_measures_it() {
        let rows = evaluate(&Results::default());
        assert!(!rows.is_empty());
        assert!(
            rows.iter()
                .all(|r| matches!(r.verdict, Verdict::NotMeasured { .. }))
        );
        let c30 = rows.iter().find(|r| r.claim == "C30").unwrap();
        assert_eq!(
            c30.verdict,
            Verdict::NotMeasured {
                command: C10K_IO.into()
            }
        );
    }

    #[test]
    fn every_claim_of_the_documents_has_a_figure() {
        let ids: Vec<&str> = claims().iter().map(|c| c.id).collect();
        for id in [
            "C01", "C02", "C03", "C04", "C05", "C06", "C07", "C10", "C11", "C12", "C13", "C14",
            "C20", "C21", "C22", "C23", "C30", "C31", "C32", "C33",
        ] {
            assert!(ids.contains(&id), "{id} has no figure");
        }
        assert!(claims().iter().all(|c| !c.figures.is_empty()));
    }

    #[test]
    fn measured_figures_are_judged_and_ratios_derived() {
        let results = results_with(&[
            ("context_switch/thread_pipe/same_core", 1500.0),
            ("epoll_wait/epoll/1", 180.0),
            ("epoll_wait/epoll/10000", 198.0),
            ("coroutine_switch/may", 50.0),
        ]);
        let rows = evaluate(&results);
        let find = |label: &str| rows.iter().find(|r| r.label.starts_with(label)).unwrap();
        assert_eq!(
            find("thread switch, pipe, same core").verdict,
            Verdict::Within
        );
        assert_eq!(find("epoll_wait, 1 ready").value, Some(1.1));
        assert_eq!(
            find("may coroutine switch").verdict,
            Verdict::Below { factor: 2.0 }
        );
        let c07 = find("50,000 switches/s");
        assert_eq!(c07.value, Some(7.5));
        assert!(matches!(c07.verdict, Verdict::Below { .. }));
    }

    #[test]
    fn a_figure_from_a_run_that_did_not_measure_this_build_is_not_judged() {
        use crate::provenance::Mode;
        let same = "context_switch/thread_pipe/same_core";
        let why = |results: &Results| {
            let rows = evaluate(results);
            let row = rows
                .iter()
                .find(|r| r.label.starts_with("thread switch, pipe, same core"))
                .unwrap();
            match &row.verdict {
                Verdict::NotTrusted { why, .. } => why.clone(),
                other => panic!("judged: {other:?}"),
            }
        };
        let mut results = results_with(&[(same, 1500.0)]);
        results
            .criterion_runs
            .insert(same.into(), Run::now(Mode::Test));
        assert!(why(&results).contains("test"));
        results.criterion_runs.insert(
            same.into(),
            Run {
                commit: "0123456789ab".into(),
                ..Run::now(Mode::Bench)
            },
        );
        assert!(why(&results).contains("0123456789ab"));
        results.criterion_runs.remove(same);
        assert!(why(&results).contains("no record"));

        // A blocked loop's percentiles over a test run's handful of probes.
        let id = "blocked_loop/tokio_current_thread_inline/10ms";
        let mut results = results_with(&[]);
        let summary = LatencySummary {
            probes: 200,
            unanswered: 0,
            mean_ns: 5e6,
            p50_ns: 5_000_000,
            p99_ns: 10_000_000,
            max_ns: 10_000_000,
            run: Some(Run::now(Mode::Bench)),
        };
        results.latencies.insert(id.into(), summary);
        let rows = evaluate(&results);
        let row = rows.iter().find(|r| r.source.starts_with(id)).unwrap();
        assert!(
            matches!(&row.verdict, Verdict::NotTrusted { why, .. } if why.contains("200 probes")),
            "{row:?}"
        );
        assert!(judged_summary(&rows).contains("not judged"));
    }

    #[test]
    fn the_ladder_is_well_formed_svg_with_one_bar_per_measured_cost() {
        let results = results_with(&[
            ("coroutine_switch/function_call", 1.8),
            ("syscall/getppid", 96.0),
            ("fork/fork_exit_wait/1GiB", 22e6),
        ]);
        let svg = ladder_svg(&results, "a <test> machine");
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let bars = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("bar"))
            .count();
        assert_eq!(bars, 3);
        assert!(svg.contains("a &lt;test&gt; machine"));
    }
}
