//! The gate's settings in one place: how each side's process measures in a comparison, how
//! much there is to spend, what counts as a useful gate, and how stored-baseline runs measure.
//! Why each value, measured, is in docs/regression-gate.md.

use super::judge;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How each side's process measures, and how much there is to spend.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub warm_up_ms: u64,
    pub measurement_ms: u64,
    pub sample_size: usize,
    /// Quads every benchmark gets before any is judged (two pairs each).
    pub first_quads: usize,
    /// Pairs the fixed-look rule judges (its false-alarm rate was measured at this cap).
    pub max_pairs: usize,
    /// No benchmark gets more pairs than this; past `max_pairs`, only the always-valid rule
    /// judges them. Pairs kept before it was a setting had none past the cap (0 reads so).
    #[serde(default)]
    pub pair_limit: usize,
    pub budget: Duration,
    /// How long one process may take before it is killed and its benchmark counted failed.
    pub process_limit: Duration,
    pub threshold: f64,
    /// Every head figure is multiplied by this when deciding where pairs go, as the verdict
    /// will multiply it (`--simulate-slowdown`), so a simulation spends its pairs as a real
    /// slowdown of that size would; 1.0 as measured.
    #[serde(default = "as_measured")]
    pub slowdown: f64,
    /// Benchmarks of one binary measured in one process: enough to spread the cost of
    /// starting a process, few enough that base and head of a benchmark stay close in time.
    #[serde(default = "batch_before_it_was_set")]
    pub batch: usize,
}

/// Pairs kept before the batch was a setting were measured eight benchmarks to a process.
fn batch_before_it_was_set() -> usize {
    8
}

fn as_measured() -> f64 {
    1.0
}

impl Settings {
    /// The defaults of `compare`; why each, measured, is in docs/regression-gate.md and
    /// beside the option in `compare --help`.
    pub const DEFAULT: Settings = Settings {
        warm_up_ms: 25,
        measurement_ms: 75,
        sample_size: 10,
        first_quads: 2,
        max_pairs: 24,
        pair_limit: 240,
        budget: Duration::from_secs(14 * 60),
        process_limit: Duration::from_secs(120),
        threshold: 0.02,
        slowdown: 1.0,
        batch: 2,
    };

    /// These settings, made workable: Criterion's ten samples at least, a quad before any
    /// verdict, two pairs, one benchmark a process, and a limit no lower than the cap.
    pub fn workable(self) -> Settings {
        let max_pairs = self.max_pairs.max(2);
        Settings {
            sample_size: self.sample_size.max(10),
            first_quads: self.first_quads.max(1),
            max_pairs,
            pair_limit: self.pair_limit.max(max_pairs),
            batch: self.batch.max(1),
            ..self
        }
    }

    /// A benchmark whose noise would leave it unable to fail on less than this, even with all
    /// the pairs it may get, gets no pairs beyond the first quads.
    pub const USEFUL_GATE: f64 = 0.15;

    /// The change a guard is expected to see; an undecided benchmark that could not be failed
    /// on it is listed apart, so a reader knows what a run was blind to.
    pub const EXPECTED_TO_SEE: f64 = 0.10;

    /// How each run of the stored-baseline mode measures ([`crate::suite_runs`]): a recording
    /// and the checks against it must measure alike, so this is fixed rather than given per
    /// call. Measured against Criterion's `--quick` on five recorded runs of one commit of
    /// concurrency-costs, the runs' spread was the same (median robust sigma 1.8% against
    /// 2.1%) and a pass of that suite took 44 s instead of ~113 s.
    pub const STORED_RUN_ARGS: [&str; 9] = [
        "--warm-up-time",
        "0.05",
        "--measurement-time",
        "0.15",
        "--sample-size",
        "10",
        "--nresamples",
        "1000",
        "--noplot",
    ];

    /// The most pairs any benchmark gets.
    pub fn pair_limit(&self) -> usize {
        self.pair_limit.max(self.max_pairs)
    }

    /// How a comparison of `benchmarks` judges: the fixed-look rule up to the cap, the
    /// always-valid rule past it.
    pub fn stages(&self, benchmarks: usize) -> judge::Stages {
        judge::Stages {
            fixed_pairs: self.max_pairs,
            benchmarks,
        }
    }
}
