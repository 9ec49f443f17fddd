//! The claims report: every figure the documents cite (IDs C01…), the figures measured here
//! that test it, and a verdict for each.
//!
//! The claims are data, in `claims/claims.toml`: each with the documents' figure in their
//! words and the range read from it by a rule stated there ("about x" is x/2 to 2x, "a – b" as
//! written, "at least x", "at most x"). A measured figure inside the range agrees with the
//! documents; outside, the verdict says by how many times it is cheaper or dearer.
//! Architectural claims (C06, C07, C13, C33) are derived from measured parts, and each figure
//! says how.

mod catalogue;
mod figures;
mod ladder;
mod range_text;
mod report;
mod results;

pub use catalogue::{claims, read as read_catalogue};
pub use figures::{CPU_INLINE, CPU_POOL, IO_5K_50MS, IO_10K};
pub use ladder::{LADDER, ladder_svg};
pub(crate) use ladder::{claimed_range, xml_escape};
pub(crate) use range_text::read_quantity;
pub use report::{judged_summary, markdown, range_text, text};
pub use results::Results;

use serde::{Deserialize, Serialize};

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
    /// Infinite for "at least X".
    #[serde(with = "unbounded")]
    pub high: f64,
}

/// JSON has no infinity: an unbounded value is written as `null` and read back as infinite.
mod unbounded {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        match value.is_finite() {
            true => serializer.serialize_f64(*value),
            false => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::INFINITY))
    }
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
pub enum Standing {
    /// Inside the documents' range.
    Within,
    /// Below it: cheaper (smaller, fewer) by this factor.
    Below {
        #[serde(with = "unbounded")]
        factor: f64,
    },
    /// Above it: dearer (larger, more) by this factor (infinite above a range that ends at
    /// zero).
    Above {
        #[serde(with = "unbounded")]
        factor: f64,
    },
    /// No result yet; the command produces one.
    NotMeasured { command: String },
    /// A result exists but is not one to judge: why, and the command that makes one.
    NotTrusted { why: String, command: String },
}

impl Standing {
    pub fn of(value: f64, range: Range) -> Standing {
        if value < range.low {
            Standing::Below {
                factor: range.low / value.max(f64::MIN_POSITIVE),
            }
        } else if value > range.high {
            Standing::Above {
                // Above a range that ends at zero, there is no meaningful factor.
                factor: if range.high > 0.0 {
                    value / range.high
                } else {
                    f64::INFINITY
                },
            }
        } else {
            Standing::Within
        }
    }

    /// Whether the documents are wrong about this figure here.
    pub fn disagrees(&self) -> bool {
        matches!(self, Standing::Below { .. } | Standing::Above { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Standing::Within => "within the claimed range".into(),
            Standing::Below { factor } => format!("cheaper than claimed, ×{}", times(*factor)),
            Standing::Above { factor } => format!("dearer than claimed, ×{}", times(*factor)),
            Standing::NotMeasured { command } => format!("not measured yet: {command}"),
            Standing::NotTrusted { why, command } => {
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

/// Where a figure comes from and how it is computed from the results.
pub(crate) type Measure = Box<dyn Fn(&Results) -> Option<results::Traced<f64>>>;

/// One measured figure that tests a claim.
pub struct Figure {
    /// What is measured, in a few words.
    pub label: String,
    /// The benchmark IDs or tool results it comes from, and how it is derived.
    pub source: String,
    pub unit: Unit,
    pub range: Range,
    /// Why the range is what it is, where its rule alone does not say.
    pub reading: Option<String>,
    /// The command that measures it.
    pub command: &'static str,
    /// The benchmarks it reads, by ID.
    pub benchmarks: Vec<String>,
    pub(crate) measure: Measure,
}

/// A claim of the documents and the figures that test it.
pub struct Claim {
    pub id: String,
    pub claim: String,
    /// The documents' figure, as they give it.
    pub docs: String,
    /// Why the claim's range is what it is, where its rule alone does not say.
    pub reading: Option<String>,
    pub figures: Vec<Figure>,
    /// What this machine cannot show of the claim, and why.
    pub beyond_this_machine: Option<String>,
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
    pub verdict: Standing,
    /// The results behind the value: sample or probe counts, and the run that made each.
    #[serde(default)]
    pub behind: String,
}

impl Claim {
    pub fn rows(&self, results: &Results) -> Vec<Row> {
        self.figures
            .iter()
            .map(|f| {
                let computed = results.figure(&f.measure);
                Row {
                    claim: self.id.clone(),
                    docs: self.docs.clone(),
                    label: f.label.clone(),
                    source: f.source.clone(),
                    unit: f.unit,
                    range: f.range,
                    value: computed.value,
                    verdict: match (computed.value, computed.distrust) {
                        (Some(_), Some(why)) => Standing::NotTrusted {
                            why,
                            command: f.command.into(),
                        },
                        (Some(v), None) => Standing::of(v, f.range),
                        (None, _) => Standing::NotMeasured {
                            command: f.command.into(),
                        },
                    },
                    behind: computed.behind,
                }
            })
            .collect()
    }
}

/// The benchmark groups of the suite, one per bench file.
pub const GROUPS: [&str; 12] = [
    "blocked_loop",
    "context_switch",
    "coroutine_switch",
    "epoll_wait",
    "fork",
    "herd",
    "offload",
    "syscall",
    "task_spawn",
    "task_spawn_batch",
    "task_switch",
    "thread_spawn",
];

/// Every benchmark ID the claims and the ladder read.
pub fn benchmark_ids() -> Vec<String> {
    let mut ids: Vec<String> = claims()
        .into_iter()
        .flat_map(|claim| claim.figures)
        .flat_map(|figure| figure.benchmarks)
        .chain(LADDER.iter().map(|(_, id)| id.to_string()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The report's rows for every claim.
pub fn evaluate(results: &Results) -> Vec<Row> {
    claims().iter().flat_map(|c| c.rows(results)).collect()
}

#[cfg(test)]
mod tests {
    use super::figures::C10K_IO;
    use super::*;
    use crate::probe::LatencySummary;
    use crate::provenance::{Run, this_commit};
    use criterion_gate::criterion::Estimate;

    #[test]
    fn a_value_inside_below_or_above_the_range_gets_its_verdict() {
        let range = Range::between(100.0, 200.0);
        assert_eq!(Standing::of(150.0, range), Standing::Within);
        assert_eq!(Standing::of(100.0, range), Standing::Within);
        assert_eq!(Standing::of(25.0, range), Standing::Below { factor: 4.0 });
        assert_eq!(Standing::of(600.0, range), Standing::Above { factor: 3.0 });
        assert_eq!(Standing::of(1e12, Range::at_least(5.0)), Standing::Within);
        assert_eq!(Standing::of(0.0, Range::at_most(0.0)), Standing::Within);
        assert!(Standing::of(600.0, range).disagrees());
        assert!(!Standing::Within.disagrees());
    }

    #[test]
    fn an_unbounded_range_and_factor_survive_json() {
        let open = Range::at_least(100.0);
        let json = serde_json::to_string(&open).unwrap();
        assert_eq!(json, r#"{"low":100.0,"high":null}"#);
        assert_eq!(serde_json::from_str::<Range>(&json).unwrap(), open);
        let none_allowed = Standing::of(3.0, Range::at_most(0.0));
        let json = serde_json::to_string(&none_allowed).unwrap();
        assert_eq!(
            serde_json::from_str::<Standing>(&json).unwrap(),
            none_allowed
        );
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
                    fast_ns: *mean,
                    samples: 100,
                    iterations: 5050.0,
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
                .all(|r| matches!(r.verdict, Standing::NotMeasured { .. }))
        );
        let c30 = rows.iter().find(|r| r.claim == "C30").unwrap();
        assert_eq!(
            c30.verdict,
            Standing::NotMeasured {
                command: C10K_IO.into()
            }
        );
    }

    #[test]
    fn the_benchmarks_the_claims_read_are_found_in_their_sources() {
        let ids = benchmark_ids();
        for id in [
            "context_switch/thread_pipe/same_core",
            "epoll_wait/epoll/10000",
            "epoll_wait/epoll/1",
            "herd/accept/32",
            "blocked_loop/tokio_current_thread_inline/10ms",
            "fork/fork_exit_wait/1GiB",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} not among {ids:?}");
        }
        assert!(ids.iter().all(|id| !id.contains(' ')), "{ids:?}");
    }

    #[test]
    fn every_claim_of_the_documents_has_a_figure() {
        let claims = claims();
        let ids: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
        for id in [
            "C01", "C02", "C03", "C04", "C05", "C06", "C07", "C10", "C11", "C12", "C13", "C14",
            "C20", "C21", "C22", "C23", "C30", "C31", "C32", "C33",
        ] {
            assert!(ids.contains(&id), "{id} has no figure");
        }
        assert!(claims.iter().all(|c| !c.figures.is_empty()));
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
            Standing::Within
        );
        assert_eq!(find("epoll_wait, 1 ready").value, Some(1.1));
        assert_eq!(
            find("may coroutine switch").verdict,
            Standing::Below { factor: 2.0 }
        );
        let c07 = find("50,000 switches/s");
        assert_eq!(c07.value, Some(7.5));
        assert!(matches!(c07.verdict, Standing::Below { .. }));
    }

    #[test]
    fn every_figure_says_what_stands_behind_it() {
        let results = results_with(&[("context_switch/thread_pipe/same_core", 1500.0)]);
        let rows = evaluate(&results);
        let row = rows
            .iter()
            .find(|r| r.label.starts_with("thread switch, pipe, same core"))
            .unwrap();
        assert!(
            row.behind.contains("100 samples, 5,050 iterations")
                && row.behind.contains("bench run"),
            "{}",
            row.behind
        );
        let unmeasured = rows.iter().find(|r| r.claim == "C30").unwrap();
        assert_eq!(unmeasured.behind, "");
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
                Standing::NotTrusted { why, .. } => why.clone(),
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
            matches!(&row.verdict, Standing::NotTrusted { why, .. } if why.contains("200 probes")),
            "{row:?}"
        );
        assert!(judged_summary(&rows).contains("not judged"));
    }

    #[test]
    fn the_ladder_is_well_formed_svg_with_one_bar_per_measured_cost() {
        // Listed on the ladder dearest first here; drawn cheapest first.
        let results = results_with(&[
            ("fork/fork_exit_wait/1GiB", 22e6),
            ("syscall/getppid", 96.0),
            ("coroutine_switch/function_call", 1.8),
        ]);
        let svg = ladder_svg(&results, "a <test> machine");
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let bars: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("bar"))
            .filter_map(|bar| bar.descendants().find(|n| n.has_tag_name("title"))?.text())
            .collect();
        assert_eq!(
            bars,
            [
                "coroutine_switch/function_call",
                "syscall/getppid",
                "fork/fork_exit_wait/1GiB"
            ]
        );
        // The documents claim a range for the call (C11) and the fork (C01), none for getppid.
        let claimed = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("claimed"))
            .count();
        assert_eq!(claimed, 2);
        assert!(svg.contains("a &lt;test&gt; machine"));
    }
}
