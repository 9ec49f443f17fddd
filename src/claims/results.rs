//! What the report reads: every result the suite and `costs` keep, and for each figure
//! computed from them, whether every result behind it may be judged.

use super::Measure;
use crate::c10k::Model;
use crate::c10k::orchestrate::{Measured, Outcome};
use crate::c10k::report::C10kReport;
use crate::footprint::Footprint;
use crate::herd::HerdSummary;
use crate::probe::LatencySummary;
use crate::provenance::{Run, read_criterion_runs, this_commit};
use criterion_gate::criterion::{Estimate, read_criterion};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

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
    pub(super) distrust: RefCell<Vec<String>>,
    /// What stands behind each result read for the figure being computed: its counts and run.
    pub(super) behind: RefCell<Vec<String>>,
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
            latencies: read_json(&costs_dir.join(crate::probe::LATENCY_FILE)),
            footprint: read_json(&costs_dir.join("footprint.json")),
            c10k: read_json(&costs_dir.join("c10k.json")),
            herd: read_json(&costs_dir.join("herd.json")),
            distrust: RefCell::default(),
            behind: RefCell::default(),
        }
    }

    /// Notes what stands behind a result just read (`counts`, and its run), and why it cannot
    /// be trusted if so: no run recorded behind it, a run that did not measure or of another
    /// commit, or `short` (a run that is not the full one).
    fn note(&self, counts: String, run: Option<&Run>, short: Option<String>) {
        let why = match run {
            None => Some("no record of the run that made it".to_string()),
            Some(run) => run.distrust(&self.commit),
        };
        self.distrust
            .borrow_mut()
            .extend(why.into_iter().chain(short));
        let made = run.map_or_else(
            || "run unrecorded".to_string(),
            |r| format!("{:?} run of {} at {}", r.mode, r.commit, r.at).to_lowercase(),
        );
        self.behind.borrow_mut().push(format!("{counts}; {made}"));
    }

    pub(super) fn mean(&self, id: &str) -> Option<f64> {
        let estimate = self.criterion.get(id)?;
        let counts = format!(
            "{id}: {} samples, {} iterations",
            estimate.samples,
            crate::units::grouped(estimate.iterations)
        );
        self.note(counts, self.criterion_runs.get(id), None);
        Some(estimate.mean_ns)
    }

    pub(super) fn latency(&self, id: &str) -> Option<&LatencySummary> {
        let summary = self.latencies.get(id)?;
        let short = (summary.probes < FULL_PROBES)
            .then(|| format!("{} probes behind it, not {FULL_PROBES}", summary.probes));
        let counts = format!(
            "{id}: {} probes",
            crate::units::grouped(summary.probes as f64)
        );
        self.note(counts, summary.run.as_ref(), short);
        Some(summary)
    }

    pub(super) fn footprint_of(&self, kind: &str) -> Option<&Footprint> {
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
        self.note(counts, row.run.as_ref(), short);
        Some(row)
    }

    pub(super) fn herd_of(&self, id: &str) -> Option<&HerdSummary> {
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
        self.note(counts, summary.run.as_ref(), short);
        Some(summary)
    }

    pub(super) fn c10k_run(&self, scenario: &str, model: Model) -> Option<&Measured> {
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
        self.note(format!("c10k {scenario}, {}", model.id()), made_by, partial);
        Some(measured)
    }

    /// Computes one figure, with why it cannot be trusted if any result it read cannot be,
    /// and what stands behind it.
    pub(super) fn figure(&self, measure: &Measure) -> Computed {
        self.distrust.borrow_mut().clear();
        self.behind.borrow_mut().clear();
        let value = measure(self).filter(|v| v.is_finite());
        let mut reasons = std::mem::take(&mut *self.distrust.borrow_mut());
        reasons.dedup();
        let mut behind = std::mem::take(&mut *self.behind.borrow_mut());
        behind.dedup();
        Computed {
            value,
            distrust: (!reasons.is_empty()).then(|| reasons.join("; ")),
            behind: behind.join("; "),
        }
    }
}
