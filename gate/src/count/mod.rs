//! The count lane: what one iteration of a benchmark costs in events the host cannot move.
//!
//! Wall time on a shared VM moves with the neighbours; counts do not. Per iteration, each
//! benchmark's user-space instructions are counted under callgrind (every thread of the
//! bench process), and its syscalls, context switches and page faults by the kernel itself
//! (natively, the process and everything it starts). Each count is taken several times in
//! fresh processes; a count that does not repeat (work stealing, spinning, timers) says so
//! with its spread and is not gated on.
//!
//! - [`bench_process`]: what a bench executable does when it is started to count.
//! - [`kernel`]: the kernel's counters; [`callgrind`]: running under callgrind and reading it.
//! - [`run`]: `costs count`, every executable in every lane, repeated.
//! - [`judge`] and [`report`]: a base's counts against a head's; [`baseline`]: counts stored with what they
//!   depend on.

pub mod baseline;
pub mod bench_process;
pub mod callgrind;
pub mod judge;
pub mod kernel;
pub mod report;
pub mod run;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The counts, by the names the JSON gives them.
pub const COUNTS: [&str; 6] = [
    "instructions",
    "syscalls",
    "voluntary_switches",
    "involuntary_switches",
    "minor_faults",
    "major_faults",
];

/// Whether a count may fail a benchmark. Involuntary switches are shown but never gated on:
/// they are preemptions, and how often a thread is preempted depends on how long it runs and
/// on what else the host runs. Measured (AMD EPYC host), identical code counted in two
/// sittings: `herd/epoll/32` went from 1.06 to 1.62 an iteration, each sitting's three
/// counts within 5% of each other.
pub fn gates(count: &str) -> bool {
    count != "involuntary_switches"
}

/// Below this many events per iteration a kernel count is a fraction of an event (a fault
/// every thousand iterations): a change smaller than half an event per iteration is not
/// one the gate can stand on, and none larger is missed.
pub const KERNEL_FLOOR: f64 = 0.5;

/// A count repeats when three times its spread is within this share of its value (or of
/// [`KERNEL_FLOOR`] for a kernel count): it could then gate on a change of that size.
pub const REPEATS_WITHIN: f64 = 0.05;

/// The smallest change a count must show, per iteration, before any threshold.
pub fn floor(count: &str) -> f64 {
    match count {
        "instructions" => 0.0,
        _ => KERNEL_FLOOR,
    }
}

/// One count of one benchmark: its value per iteration in each repetition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub values: Vec<f64>,
}

impl Count {
    pub fn median(&self) -> f64 {
        crate::stats::median(&self.values).unwrap_or(f64::NAN)
    }

    /// Largest minus smallest value.
    pub fn spread(&self) -> f64 {
        let max = self.values.iter().copied().fold(f64::MIN, f64::max);
        let min = self.values.iter().copied().fold(f64::MAX, f64::min);
        if self.values.is_empty() {
            0.0
        } else {
            max - min
        }
    }

    /// The spread in percent of the median (0 when every value is the same).
    pub fn spread_pct(&self) -> f64 {
        match self.spread() {
            0.0 => 0.0,
            s => 100.0 * s / self.median().abs(),
        }
    }

    /// Whether `count` repeats closely enough to gate on (see [`REPEATS_WITHIN`]).
    pub fn repeats(&self, count: &str) -> bool {
        self.values.len() >= 2
            && 3.0 * self.spread() <= (REPEATS_WITHIN * self.median().abs()).max(floor(count))
    }
}

/// Every count of one benchmark, or why it was not counted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counted {
    pub id: String,
    /// Per count (by the names in [`COUNTS`]), the value per iteration in each repetition.
    pub counts: BTreeMap<String, Count>,
    /// Why a lane did not count this benchmark, by lane.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_counted: BTreeMap<String, String>,
    /// N, the iterations counted natively (the instructions lane counts a sixteenth of them).
    /// A comparison counts its head at its base's N: some benchmarks' counts per iteration
    /// depend on N (a queue or buffer grown once per run is amortised over it), and an N
    /// calibrated on time would move with the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
}

impl Counted {
    pub fn count(&self, name: &str) -> Option<&Count> {
        self.counts.get(name).filter(|c| !c.values.is_empty())
    }

    /// The largest spread, in percent, of the counts of at least one event per iteration (a
    /// fraction of an event per iteration has no meaningful relative spread).
    pub fn spread_pct(&self) -> Option<f64> {
        self.counts
            .values()
            .filter(|c| c.median().abs() >= 1.0)
            .map(Count::spread_pct)
            .reduce(f64::max)
    }

    /// One object for tools: `id`, each count per iteration (median of the repetitions),
    /// `spread_pct`, the counts that do not repeat, and `skipped` where nothing was counted.
    pub fn to_json(&self) -> serde_json::Value {
        let mut row = serde_json::Map::new();
        row.insert("id".into(), self.id.clone().into());
        if self.counts.values().all(|c| c.values.is_empty()) {
            let why: Vec<String> = self
                .not_counted
                .iter()
                .map(|(l, w)| format!("{l}: {w}"))
                .collect();
            row.insert("skipped".into(), why.join("; ").into());
            return row.into();
        }
        for name in COUNTS {
            let value = self.count(name).map(Count::median);
            row.insert(
                name.into(),
                value.map_or(serde_json::Value::Null, Into::into),
            );
        }
        row.insert(
            "spread_pct".into(),
            self.spread_pct()
                .map_or(serde_json::Value::Null, Into::into),
        );
        if let Some(n) = self.iterations {
            row.insert("iterations".into(), n.into());
        }
        let unrepeatable: serde_json::Map<String, serde_json::Value> = self
            .counts
            .iter()
            .filter(|(name, c)| !c.values.is_empty() && !c.repeats(name))
            .map(|(name, c)| {
                (
                    name.clone(),
                    format!("spread {:.1}%", c.spread_pct()).into(),
                )
            })
            .collect();
        if !unrepeatable.is_empty() {
            row.insert("not_repeating".into(), unrepeatable.into());
        }
        if !self.not_counted.is_empty() {
            row.insert(
                "not_counted".into(),
                serde_json::to_value(&self.not_counted).expect("a map"),
            );
        }
        row.insert(
            "repetitions".into(),
            serde_json::to_value(&self.counts).expect("a map"),
        );
        row.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(values: &[f64]) -> Count {
        Count {
            values: values.to_vec(),
        }
    }

    #[test]
    fn an_exact_count_repeats_and_a_scattered_one_does_not() {
        assert!(count(&[1000.0, 1000.0, 1000.0]).repeats("instructions"));
        assert!(
            count(&[1000.0, 1010.0, 1005.0]).repeats("instructions"),
            "1% spread"
        );
        assert!(
            !count(&[1000.0, 1100.0, 1000.0]).repeats("instructions"),
            "10% spread"
        );
        assert!(
            !count(&[1000.0]).repeats("instructions"),
            "one value shows no spread"
        );
    }

    #[test]
    fn a_kernel_count_under_one_event_an_iteration_repeats_within_the_floor() {
        // A fault every few hundred iterations: the spread is huge in percent, tiny in events.
        assert!(count(&[0.002, 0.004, 0.003]).repeats("minor_faults"));
        // Two switches an iteration one time, one the next: not a count to gate on.
        assert!(!count(&[1.0, 2.0, 1.0]).repeats("voluntary_switches"));
    }
}
