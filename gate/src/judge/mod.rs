//! The verdict on one benchmark, in either mode.
//!
//! **Paired** (pull requests): base and head measured close together in time, many times;
//! each pair gives a log-ratio head/base, and the verdict rests on their median and its 95%
//! interval. A regression is declared only when the whole interval lies above the threshold,
//! the pairs lean that way beyond chance (sign test, one-sided p < 0.01), and never on fewer
//! than 8 pairs: the spread of four or six pairs, outliers and all, is not
//! known well enough (four pairs, three alike and one 20% off, once made an A/A run fail).
//! That rule judges at most `max_pairs` pairs, the cap its false-alarm rate was measured at;
//! a benchmark still undecided there, when the budget allows, is judged on further pairs by
//! an always-valid confidence sequence ([`sequential`]), honest at any number of looks.
//!
//! **Stored** (nightly): this run's rounds against the recorded runs of one commit. The noise
//! is the pooled robust sigma of both (deviations of each from its own median), so it does not
//! grow as runs are recorded; the gate is `K` such sigmas of the difference of two medians, and
//! never less than the threshold.

mod paired;
pub mod sequential;
mod stored;

pub use self::paired::{
    MIN_DECISIVE_PAIRS, Pair, PairedEvidence, Stages, awaiting_confirmation, paired, paired_staged,
    pairs_to_settle,
};
pub use self::stored::{MIN_STORED_RUNS, stored};

use super::stats::{self, Interval};
use crate::count::judge::{CountJudgement, CountVerdict};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Regressed,
    Improved,
    /// The interval lies inside ± the threshold.
    Unchanged,
    /// The interval straddles the threshold: neither a regression nor shown to be none.
    Inconclusive,
    /// Two speeds from one run to the next, too few same-mode measurements to judge.
    Bimodal,
    New,
    Missing,
    /// The benchmark did not run to the end (the note says why).
    Failed,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regressed => "**REGRESSED**",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Bimodal => "bimodal",
            Verdict::New => "new",
            Verdict::Missing => "missing",
            Verdict::Failed => "FAILED",
        }
    }
}

/// The decision for one benchmark, with what it rests on. Changes are fractions (0.05 = 5%).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Judgement {
    pub id: String,
    pub verdict: Verdict,
    /// The estimated change, head over base (or run over baseline), minus one.
    pub change: Option<f64>,
    /// Its interval (paired: 95% confidence; stored: ± the gate's sigmas).
    pub interval: Option<(f64, f64)>,
    /// The smallest change this benchmark would be failed on at this run's noise.
    pub gates_on: Option<f64>,
    /// Pairs (paired mode) or this run's rounds (stored mode) behind the verdict.
    pub measurements: usize,
    pub note: Option<String>,
    /// The count lane's judgement of the same benchmark, where the counts were taken.
    pub counts: Option<CountJudgement>,
}

/// Which of the two lanes decided a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Time,
    Counts,
}

impl Judgement {
    pub fn without_figures(id: &str, verdict: Verdict, note: Option<String>) -> Judgement {
        Judgement {
            id: id.into(),
            verdict,
            change: None,
            interval: None,
            gates_on: None,
            measurements: 0,
            note,
            counts: None,
        }
    }

    /// Joins the count lane's judgement to this (the time lane's). A count beyond its
    /// tolerance decides: counts are exact where they repeat, so a regression they show is
    /// one, whatever the clock says; the time lane decides everything else, a slowdown with
    /// the same counts (the kernel, the scheduler, the memory system) included.
    pub fn with_counts(mut self, counts: CountJudgement) -> Judgement {
        match (counts.verdict, self.verdict) {
            (CountVerdict::Regressed, _) => self.verdict = Verdict::Regressed,
            (CountVerdict::Improved, v) if v != Verdict::Regressed => {
                self.verdict = Verdict::Improved
            }
            _ => {}
        }
        self.counts = Some(counts);
        self
    }

    /// The lane whose word the verdict is.
    pub fn decided_by(&self) -> Lane {
        match (&self.counts, self.verdict) {
            (Some(c), Verdict::Regressed) if c.verdict == CountVerdict::Regressed => Lane::Counts,
            (Some(c), Verdict::Improved) if c.verdict == CountVerdict::Improved => Lane::Counts,
            _ => Lane::Time,
        }
    }

    /// Whether more measurements could still change the verdict: an interval that straddles
    /// the threshold, or a bimodal benchmark with too few pairs in one mode yet.
    pub fn undecided(&self) -> bool {
        matches!(self.verdict, Verdict::Inconclusive | Verdict::Bimodal)
    }
}

pub(super) fn verdict_of(interval: &Interval, gate: f64) -> Verdict {
    if interval.low > gate {
        Verdict::Regressed
    } else if interval.high < -gate {
        Verdict::Improved
    } else if interval.low >= -gate && interval.high <= gate {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// How many times slower the slow mode is than the fast one.
pub(super) fn mode_ratio(logs: &[f64], split: f64) -> f64 {
    let fast: Vec<f64> = logs.iter().copied().filter(|v| *v < split).collect();
    let slow: Vec<f64> = logs.iter().copied().filter(|v| *v >= split).collect();
    match (stats::median(&fast), stats::median(&slow)) {
        (Some(f), Some(s)) => (s - f).exp(),
        _ => 1.0,
    }
}

/// Deterministic noise for the tests: a fixed pseudo-random sequence, roughly normal (the sum
/// of twelve uniforms).
#[cfg(test)]
pub(crate) fn noise(seed: u64, n: usize, sigma: f64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            let sum: f64 = (0..12)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 11) as f64 / (1u64 << 53) as f64
                })
                .sum();
            (sum - 6.0) * sigma
        })
        .collect()
}
