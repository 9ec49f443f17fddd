//! Replays of kept pairs: how often the pull-request gate would fail identical builds, and how
//! many benchmarks a slowdown of a given size would fail, estimated from pairs already measured
//! instead of hours of new runs.
//!
//! The pairs of earlier comparisons of identical builds (A/A runs of `costs compare`, kept with
//! `--pairs`) are pooled per benchmark. One replayed run is the engine itself
//! (`engine::spend_budget`), with its budget and its rules, where measuring a quad draws two
//! pairs of each benchmark from its pool, each pair's two figures in random order (on
//! identical builds, which one is the head is a coin toss), and where time passes by the
//! seconds a pair cost in the kept runs. Draws are independent of each other, so a replay
//! cannot show what lasts longer than a pair: a slow spell of the host, an effect of one build.
//! Live A/A runs remain the test; a replay compares rules on the same pairs, many times over.

use super::judge::{Judgement, Pair, Verdict};
use crate::engine::{self, Measured, Plan, Record, Settings, Side};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Every kept pair of each benchmark, and what a pair cost to measure.
pub struct Pool {
    pairs: BTreeMap<String, Vec<Pair>>,
    seconds_per_pair: f64,
    comparisons: usize,
}

impl Pool {
    /// Pools the pairs of comparisons of identical builds. They must have measured alike
    /// (warm-up, measurement time, samples, batch): a pair's noise and cost depend on it.
    pub fn of(kept: &[Measured]) -> Result<Pool, String> {
        let how = |m: &Measured| {
            let s = &m.settings;
            (s.warm_up_ms, s.measurement_ms, s.sample_size, s.batch)
        };
        let first = kept.first().map(how);
        if let Some(other) = kept.iter().map(how).find(|h| Some(*h) != first) {
            return Err(format!(
                "the kept pairs were measured differently: (warm-up ms, measurement ms, samples, batch) {:?} and {other:?}",
                first.expect("a first, since another differs")
            ));
        }
        let mut pairs: BTreeMap<String, Vec<Pair>> = BTreeMap::new();
        for measured in kept {
            for (id, record) in &measured.benchmarks {
                pairs.entry(id.clone()).or_default().extend(&record.pairs);
            }
        }
        pairs.retain(|_, p| !p.is_empty());
        let count: usize = pairs.values().map(Vec::len).sum();
        let seconds: f64 = kept.iter().map(|m| m.seconds).sum();
        if count == 0 {
            return Err("the kept comparisons hold no pairs".into());
        }
        Ok(Pool {
            pairs,
            seconds_per_pair: seconds / count as f64,
            comparisons: kept.len(),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "{} benchmarks, {} pairs kept by {} comparisons, {:.2} s a pair",
            self.pairs.len(),
            self.pairs.values().map(Vec::len).sum::<usize>(),
            self.comparisons,
            self.seconds_per_pair
        )
    }
}

/// Runs the engine `runs` times on draws from `pool` and judges each run as a live comparison
/// with these settings would be judged. Run `i` draws with seed `i`, so a replay repeats.
pub fn replay(pool: &Pool, settings: &Settings, runs: usize) -> Vec<Vec<Judgement>> {
    let plans: Vec<Plan> = pool
        .pairs
        .keys()
        .map(|id| {
            // Batches group a bench executable's benchmarks; the ID's group stands in for it.
            let group = PathBuf::from(id.split('/').next().unwrap_or(id));
            Plan {
                id: id.clone(),
                base: group.clone(),
                head: group,
            }
        })
        .collect();
    (0..runs)
        .map(|run| {
            let mut rng = fastrand::Rng::with_seed(run as u64);
            let clock = Cell::new(0.0);
            let mut draw = |batch: &[&Plan], _: Side, records: &mut BTreeMap<String, Record>| {
                for plan in batch {
                    let pool = &pool.pairs[&plan.id];
                    let record = records.get_mut(&plan.id).expect("planned");
                    for _ in 0..2 {
                        let pair = pool[rng.usize(..pool.len())];
                        record.pairs.push(if rng.bool() {
                            pair
                        } else {
                            Pair {
                                base_ns: pair.head_ns,
                                head_ns: pair.base_ns,
                            }
                        });
                    }
                }
                clock.set(clock.get() + 2.0 * batch.len() as f64 * pool.seconds_per_pair);
            };
            let benchmarks = engine::spend_budget(
                &plans,
                settings,
                &|| Duration::from_secs_f64(clock.get()),
                &mut |_| {},
                &mut draw,
            );
            let measured = Measured {
                settings: settings.clone(),
                seconds: clock.get(),
                benchmarks,
            };
            engine::judge(&measured, settings.threshold, settings.slowdown)
        })
        .collect()
}

/// What the replayed runs found: per run, how many benchmarks each way, and which benchmarks
/// were failed most often.
pub fn summary(runs: &[Vec<Judgement>]) -> String {
    let per_run = |verdict: Verdict| -> Vec<usize> {
        runs.iter()
            .map(|run| run.iter().filter(|j| j.verdict == verdict).count())
            .collect()
    };
    let spread = |counts: &[usize]| {
        let mut sorted = counts.to_vec();
        sorted.sort_unstable();
        let with_any = counts.iter().filter(|c| **c > 0).count();
        format!(
            "median {}, {}–{} per run; in {with_any} of {} runs",
            sorted.get(sorted.len() / 2).copied().unwrap_or(0),
            sorted.first().copied().unwrap_or(0),
            sorted.last().copied().unwrap_or(0),
            counts.len()
        )
    };
    let gates: Vec<f64> = runs
        .iter()
        .filter_map(|run| {
            let gates: Vec<f64> = run.iter().filter_map(|j| j.gates_on).collect();
            super::stats::median(&gates)
        })
        .collect();
    let pairs: Vec<f64> = runs
        .iter()
        .map(|run| run.iter().map(|j| j.measurements).sum::<usize>() as f64)
        .collect();
    let mut failed: BTreeMap<&str, usize> = BTreeMap::new();
    for judgement in runs.iter().flatten() {
        if matches!(judgement.verdict, Verdict::Regressed | Verdict::Improved) {
            *failed.entry(&judgement.id).or_default() += 1;
        }
    }
    let mut most: Vec<(&str, usize)> = failed.into_iter().collect();
    most.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let most: Vec<String> = most
        .iter()
        .take(5)
        .map(|(id, n)| format!("{id} ({n})"))
        .collect();
    format!(
        "regressed: {}\nimproved: {}\nthe median benchmark gates on {:.1}% (median of runs)\npairs a run: median {:.0}\nmost often regressed or improved: {}",
        spread(&per_run(Verdict::Regressed)),
        spread(&per_run(Verdict::Improved)),
        super::stats::median(&gates).unwrap_or(f64::NAN) * 100.0,
        super::stats::median(&pairs).unwrap_or(0.0),
        if most.is_empty() {
            "none".to_string()
        } else {
            most.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(budget_s: u64, slowdown: f64) -> Settings {
        Settings {
            budget: Duration::from_secs(budget_s),
            slowdown,
            batch: 2,
            ..engine::test_settings()
        }
    }

    /// Two benchmarks' A/A pairs, each within ±0.5% of even, a second a pair.
    fn quiet_pool() -> Pool {
        Pool::of(&[quiet_pool_kept()]).expect("pairs kept, measured alike")
    }

    fn quiet_pool_kept() -> Measured {
        let pairs = |base: f64| -> Vec<Pair> {
            [1.0, 0.995, 1.005, 1.002, 0.998, 1.004]
                .iter()
                .map(|r| Pair {
                    base_ns: base,
                    head_ns: base * r,
                })
                .collect()
        };
        Measured {
            settings: settings(60, 1.0),
            seconds: 12.0,
            benchmarks: [("a/x", 100.0), ("a/y", 5000.0)]
                .iter()
                .map(|(id, base)| {
                    (
                        id.to_string(),
                        Record {
                            pairs: pairs(*base),
                            failure: None,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn a_replayed_slowdown_fails_quiet_benchmarks_and_identical_builds_fail_none() {
        let pool = quiet_pool();
        for run in replay(&pool, &settings(600, 1.10), 5) {
            let regressed = run
                .iter()
                .filter(|j| j.verdict == Verdict::Regressed)
                .count();
            assert_eq!(regressed, 2, "{run:?}");
        }
        for run in replay(&pool, &settings(600, 1.0), 5) {
            assert!(
                run.iter().all(|j| j.verdict == Verdict::Unchanged),
                "{run:?}"
            );
        }
    }

    #[test]
    fn pairs_measured_with_other_settings_are_not_pooled() {
        let mut other = quiet_pool_kept();
        other.settings.measurement_ms = 75;
        let err = Pool::of(&[quiet_pool_kept(), other])
            .err()
            .expect("refused");
        assert!(err.contains("measured differently"), "{err}");
    }

    #[test]
    fn a_replay_spends_its_budget_at_the_kept_cost_of_a_pair() {
        // A pair cost a second; one quad of both benchmarks is four pair-seconds, and a
        // four-second budget stops after it: two pairs each.
        let runs = replay(&quiet_pool(), &settings(4, 1.0), 1);
        assert!(runs[0].iter().all(|j| j.measurements == 2), "{runs:?}");
    }
}
