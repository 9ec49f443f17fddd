//! What the report reads: every result the suite and `costs` keep, and for each figure
//! computed from them, whether every result behind it may be judged.

use super::Measure;
use crate::c10k::Model;
use crate::c10k::orchestrate::{Measured, Outcome};
use crate::c10k::report::{C10K_REPORTS, C10kReport};
use crate::footprint::{FOOTPRINTS, Footprint};
use crate::herd::{HERD, HerdSummary};
use crate::probe::{BLOCKED_LOOP, LatencySummary};
use crate::provenance::{CRITERION_RUNS, Run, this_commit};
use criterion_gate::criterion::{Estimate, read_criterion};
use std::collections::BTreeMap;
use std::path::Path;

/// Everything measured so far, read from where the suite writes it.
#[derive(Clone, Debug, Default)]
pub struct Results {
    /// Criterion's latest mean per benchmark ID.
    pub criterion: BTreeMap<String, Estimate>,
    /// The run behind each of Criterion's means ([`CRITERION_RUNS`]).
    pub criterion_runs: BTreeMap<String, Run>,
    /// The commit whose results the report judges: its own build's.
    pub commit: String,
    /// Latency percentiles per benchmark ID ([`BLOCKED_LOOP`]).
    pub latencies: BTreeMap<String, LatencySummary>,
    /// `costs footprint` rows per unit kind ([`FOOTPRINTS`]).
    pub footprint: BTreeMap<String, Footprint>,
    /// `costs c10k` reports per scenario ([`C10K_REPORTS`]).
    pub c10k: BTreeMap<String, C10kReport>,
    /// Wake-ups per connection of each herd benchmark ([`HERD`]).
    pub herd: BTreeMap<String, HerdSummary>,
}

/// A value read from the results, or computed from such values, with every result behind it.
pub(crate) struct Traced<T> {
    pub value: T,
    behind: Vec<Behind>,
}

/// One result a value rests on: its sample or probe counts and the run that made it, and why
/// it cannot be judged, if it cannot.
struct Behind {
    made: String,
    distrust: Vec<String>,
}

impl<T> Traced<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Traced<U> {
        Traced {
            value: f(self.value),
            behind: self.behind,
        }
    }

    pub fn and_then<U>(self, f: impl FnOnce(T) -> Option<U>) -> Option<Traced<U>> {
        Some(Traced {
            value: f(self.value)?,
            behind: self.behind,
        })
    }

    /// A value computed from this one and `other`, resting on what both rest on.
    pub fn with<U, V>(self, other: Traced<U>, f: impl FnOnce(T, U) -> V) -> Traced<V> {
        let mut behind = self.behind;
        behind.extend(other.behind);
        Traced {
            value: f(self.value, other.value),
            behind,
        }
    }
}

/// What a figure rests on: its value, why it cannot be judged (if so), and the results behind
/// it, each with its sample or probe counts and the run that made it.
pub(super) struct Computed {
    pub value: Option<f64>,
    pub distrust: Option<String>,
    pub behind: String,
}

/// Fewer probes than this behind a percentile, or fewer units behind a footprint, and the
/// figure is not the run the documents describe.
const FULL_PROBES: u64 = 10_000;
const FULL_UNITS: usize = 10_000;
/// Fewer connections than this behind a herd's wake-ups per connection: a test run's.
const FULL_CONNECTIONS: u64 = 1_000;

impl Results {
    pub fn load(criterion_dir: &Path, costs_dir: &Path) -> Results {
        Results {
            criterion: read_criterion(criterion_dir).unwrap_or_default(),
            criterion_runs: CRITERION_RUNS.load(costs_dir),
            commit: this_commit().to_string(),
            latencies: BLOCKED_LOOP.load(costs_dir),
            footprint: FOOTPRINTS.load(costs_dir),
            c10k: C10K_REPORTS.load(costs_dir),
            herd: HERD.load(costs_dir),
        }
    }

    /// `value`, read from a result of `counts` made by `run`; it cannot be trusted if no run
    /// is recorded behind it, if that run did not measure or built another commit, or if it
    /// was `short` (not the full run).
    fn traced<T>(
        &self,
        value: T,
        counts: String,
        run: Option<&Run>,
        short: Option<String>,
    ) -> Traced<T> {
        let why = match run {
            None => Some("no record of the run that made it".to_string()),
            Some(run) => run.distrust(&self.commit),
        };
        let made = run.map_or_else(
            || "run unrecorded".to_string(),
            |r| format!("{:?} run of {} at {}", r.mode, r.commit, r.at).to_lowercase(),
        );
        Traced {
            value,
            behind: vec![Behind {
                made: format!("{counts}; {made}"),
                distrust: why.into_iter().chain(short).collect(),
            }],
        }
    }

    pub(crate) fn mean(&self, id: &str) -> Option<Traced<f64>> {
        let estimate = self.criterion.get(id)?;
        let counts = format!(
            "{id}: {} samples, {} iterations",
            estimate.samples,
            crate::units::grouped(estimate.iterations)
        );
        Some(self.traced(estimate.mean_ns, counts, self.criterion_runs.get(id), None))
    }

    pub(super) fn latency(&self, id: &str) -> Option<Traced<&LatencySummary>> {
        let summary = self.latencies.get(id)?;
        let short = (summary.probes < FULL_PROBES)
            .then(|| format!("{} probes behind it, not {FULL_PROBES}", summary.probes));
        let counts = format!(
            "{id}: {} probes",
            crate::units::grouped(summary.probes as f64)
        );
        Some(self.traced(summary, counts, summary.run.as_ref(), short))
    }

    pub(super) fn footprint_of(&self, kind: &str) -> Option<Traced<&Footprint>> {
        let row = self.footprint.get(kind)?;
        let short = (row.units < FULL_UNITS || !row.is_complete()).then(|| {
            format!(
                "{} of {} units alive, not {FULL_UNITS}",
                row.alive, row.units
            )
        });
        let counts = format!(
            "footprint {kind}: {} units",
            crate::units::grouped(row.units as f64)
        );
        Some(self.traced(row, counts, row.run.as_ref(), short))
    }

    pub(super) fn herd_of(&self, id: &str) -> Option<Traced<&HerdSummary>> {
        let summary = self.herd.get(id)?;
        let short = (summary.connections < FULL_CONNECTIONS).then(|| {
            format!(
                "{} connections behind it, not {FULL_CONNECTIONS}",
                summary.connections
            )
        });
        let counts = format!(
            "{id}: {} workers, {} connections",
            summary.workers,
            crate::units::grouped(summary.connections as f64)
        );
        Some(self.traced(summary, counts, summary.run.as_ref(), short))
    }

    pub(super) fn c10k_run(&self, scenario: &str, model: Model) -> Option<Traced<&Measured>> {
        let report = self.c10k.get(scenario)?;
        let (measured, made_by) = report.runs.iter().find_map(|run| match &run.outcome {
            Outcome::Measured(m) if run.model == model => Some((m.as_ref(), run.run.as_ref())),
            _ => None,
        })?;
        let partial = measured
            .partial
            .as_ref()
            .map(|why| format!("a partial run: {why}"));
        // Kept before each model's run was recorded: the scenario's run, the latest of them.
        let made_by = made_by.or(report.run.as_ref());
        let counts = format!("c10k {scenario}, {}", model.id());
        Some(self.traced(measured, counts, made_by, partial))
    }

    /// Computes one figure, with why it cannot be trusted if any result behind it cannot be,
    /// and what stands behind it.
    pub(super) fn figure(&self, measure: &Measure) -> Computed {
        let Some(traced) = measure(self).filter(|t| t.value.is_finite()) else {
            return Computed {
                value: None,
                distrust: None,
                behind: String::new(),
            };
        };
        let mut reasons: Vec<String> = traced
            .behind
            .iter()
            .flat_map(|b| b.distrust.iter().cloned())
            .collect();
        reasons.dedup();
        let mut behind: Vec<String> = traced.behind.into_iter().map(|b| b.made).collect();
        behind.dedup();
        Computed {
            value: Some(traced.value),
            distrust: (!reasons.is_empty()).then(|| reasons.join("; ")),
            behind: behind.join("; "),
        }
    }
}
