//! Paired, interleaved measurement of two builds of the suite (pull-request mode).
//!
//! A shared host has slow and fast spells that last minutes, and some benchmarks settle into
//! one of two speeds per process; whole-suite runs of the base and then of the head compare
//! two spells, not two commits. Here every benchmark is measured in short processes of its
//! own, base and head in quads, ABBA then BAAB, seconds apart, so a spell or a drift lands on
//! both sides of every pair and cancels in the pair's ratio. Every benchmark gets a few quads;
//! the rest of the wall-clock budget goes, round by round, to the benchmarks still undecided
//! whose pairs so far say that a few more would settle them, so the effort lands where it can
//! buy a verdict.

use super::criterion;
use super::judge::{self, Judgement, Pair, Verdict};
pub use super::settings::Settings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which build runs first in a quad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    Base,
    Head,
}

/// One benchmark to compare: its ID and the executable of each build that holds it.
#[derive(Clone, Debug)]
pub struct Plan {
    pub id: String,
    pub base: PathBuf,
    pub head: PathBuf,
}

/// What was measured of one benchmark.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Record {
    pub pairs: Vec<Pair>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// Everything measured in one comparison, kept so that it can be judged again
/// (`costs compare --rejudge`) with another threshold or a simulated slowdown.
#[derive(Debug, Serialize, Deserialize)]
pub struct Measured {
    pub settings: Settings,
    pub seconds: f64,
    pub benchmarks: BTreeMap<String, Record>,
}

/// Criterion's filter matching exactly `ids`.
fn exact_filter(ids: &[&str]) -> String {
    let alternatives: Vec<String> = ids.iter().map(|id| regex::escape(id)).collect();
    format!("^({})$", alternatives.join("|"))
}

/// Measures `ids` (all of one binary) once in a fresh process with a Criterion directory of
/// its own under `scratch`, and returns each one's fast figure ([`criterion::Estimate::fast_ns`]),
/// ns per iteration.
fn measure(
    binary: &Path,
    ids: &[&str],
    settings: &Settings,
    scratch: &Path,
) -> Result<BTreeMap<String, f64>, String> {
    let home = scratch.join("run");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
    let log = scratch.join("stderr.log");
    let stderr = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let seconds = |ms: u64| format!("{}", ms as f64 / 1000.0);
    let mut command = Command::new(binary);
    command
        .args(["--bench", "--noplot", "--nresamples", "1000"])
        .args(["--warm-up-time", &seconds(settings.warm_up_ms)])
        .args(["--measurement-time", &seconds(settings.measurement_ms)])
        .args(["--sample-size", &settings.sample_size.to_string()])
        .arg(exact_filter(ids))
        .env("CRITERION_HOME", &home)
        // The benches' own latency files are the user's results: keep these runs out of them.
        .env("COSTS_DIR", scratch.join("costs"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    let limit = settings.process_limit * ids.len() as u32;
    let started = Instant::now();
    let status = crate::bounded::run_bounded(&mut command, limit)
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    say_if_slower_than_asked(binary, ids.len(), started.elapsed(), settings);
    if !status.success() {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        let last = said
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("{} exited with {status}: {last}", binary.display()));
    }
    let found = criterion::read_criterion(&home).unwrap_or_default();
    Ok(found
        .into_iter()
        .map(|(id, e)| (id, e.fast_ns))
        .filter(|(_, ns)| ns.is_finite() && *ns > 0.0)
        .collect())
}

/// A process this many times longer than the time asked of it (and a second more, for
/// starting it) spends the budget on something the command line does not set.
const SLOWER_THAN_ASKED: u32 = 10;

/// Says, once per run, that a process took far longer than its benchmarks were asked to: a
/// suite that sets its groups' warm-up or measurement time in code overrides the command line
/// (Criterion applies the group's settings last), and each process then takes that long.
fn say_if_slower_than_asked(binary: &Path, benchmarks: usize, took: Duration, settings: &Settings) {
    static SAID: std::sync::Once = std::sync::Once::new();
    let asked =
        Duration::from_millis(settings.warm_up_ms + settings.measurement_ms) * benchmarks as u32;
    if took > asked * SLOWER_THAN_ASKED + Duration::from_secs(1) {
        SAID.call_once(|| {
            eprintln!(
                "{}: {benchmarks} benchmarks took {:.1} s in one process, not the {:.1} s asked: \
                 the suite sets its own warm-up or measurement time in code, which overrides the \
                 command line; --filter fewer benchmarks or give --budget-min more minutes",
                binary.display(),
                took.as_secs_f64(),
                asked.as_secs_f64()
            )
        });
    }
}

/// Measures one quad of a batch of plans sharing both binaries (ABBA or BAAB) and appends
/// two pairs to each one's record.
fn quad(
    batch: &[&Plan],
    first: Side,
    settings: &Settings,
    scratch: &Path,
    records: &mut BTreeMap<String, Record>,
) {
    let order = match first {
        Side::Base => [Side::Base, Side::Head, Side::Head, Side::Base],
        Side::Head => [Side::Head, Side::Base, Side::Base, Side::Head],
    };
    let ids: Vec<&str> = batch.iter().map(|p| p.id.as_str()).collect();
    let mut figures = Vec::with_capacity(4);
    for side in order {
        let binary = if side == Side::Base {
            &batch[0].base
        } else {
            &batch[0].head
        };
        match measure(binary, &ids, settings, scratch) {
            Ok(found) => figures.push((side, found)),
            Err(why) => {
                for id in &ids {
                    records.get_mut(*id).expect("planned").failure = Some(why.clone());
                }
                return;
            }
        }
    }
    for id in ids {
        let record = records.get_mut(id).expect("planned");
        // The first two pair up, and the last two (A B | B A): a linear drift across the
        // quad moves the two pairs' ratios by equal and opposite amounts.
        for (x, y) in [(&figures[0], &figures[1]), (&figures[2], &figures[3])] {
            let (Some(&a), Some(&b)) = (x.1.get(id), y.1.get(id)) else {
                record.failure = Some(format!("{id}: a run wrote no estimate for it"));
                break;
            };
            let (base_ns, head_ns) = if x.0 == Side::Base { (a, b) } else { (b, a) };
            record.pairs.push(Pair { base_ns, head_ns });
        }
    }
}

/// The benchmarks the next round measures: all of them in the first rounds; after that, the
/// open ones under the fixed-look rule's cap whose pairs say a few more would settle them
/// ([`settles_soon`]); when none is left, every open one under the cap that could still gate
/// usefully ([`could_gate_usefully`]); and when none of those is left either, every open one
/// that could gate usefully with pairs up to the limit, judged past the cap by the
/// always-valid rule. So the budget is not left unspent while an interval can still narrow,
/// and a filtered run of a few benchmarks spends the minutes its user gave.
fn due<'a>(
    plans: &'a [Plan],
    records: &BTreeMap<String, Record>,
    settings: &Settings,
    round: usize,
) -> Vec<&'a Plan> {
    if round < settings.first_quads {
        return plans
            .iter()
            .filter(|p| records[&p.id].failure.is_none())
            .collect();
    }
    let stages = settings.stages(plans.len());
    let open: Vec<(&Plan, judge::PairedEvidence)> = plans
        .iter()
        .filter(|p| still_open(&p.id, &records[&p.id], settings, stages))
        .map(|p| {
            (
                p,
                judge::PairedEvidence::of(&records[&p.id].pairs, settings.slowdown),
            )
        })
        .collect();
    let under_cap = |plan: &Plan| records[&plan.id].pairs.len() < settings.max_pairs;
    let chosen = |keep: &dyn Fn(&Plan, &judge::PairedEvidence) -> bool| -> Vec<&'a Plan> {
        open.iter()
            .filter(|(p, evidence)| keep(p, evidence))
            .map(|(p, _)| *p)
            .collect()
    };
    let settling = chosen(&|p, e| under_cap(p) && settles_soon(e, settings));
    if !settling.is_empty() {
        return settling;
    }
    let useful =
        chosen(&|p, e| under_cap(p) && could_gate_usefully(e, settings, settings.max_pairs));
    if !useful.is_empty() {
        return useful;
    }
    chosen(&|_, e| could_gate_usefully(e, settings, settings.pair_limit()))
}

/// Whether a benchmark can still take pairs and its verdict is still open.
fn still_open(id: &str, record: &Record, settings: &Settings, stages: judge::Stages) -> bool {
    record.failure.is_none()
        && record.pairs.len() < settings.pair_limit()
        && judge::paired_staged(
            id,
            &record.pairs,
            settings.threshold,
            settings.slowdown,
            stages,
        )
        .undecided()
}

/// Whether a benchmark's pairs so far, at their centre and spread, say that two thirds of
/// `max_pairs` would put the interval clear of the threshold, one way or the other. The
/// default budget buys about fourteen pairs a benchmark, so pairs spent on a benchmark that
/// needs forty are pairs a quieter one lacks at its verdict. In a model of the engine
/// replaying eight whole-suite runs' A/A pairs (Intel Xeon host) with simulated slowdowns,
/// under the confirmation rule of the time, spending on these first failed 85 of 188
/// benchmarks at 10% and 84 at 5%, where spending on every benchmark that could gate usefully
/// failed 63 and 62.
/// A bimodal benchmark's prospects are those of its same-mode pairs.
fn settles_soon(evidence: &judge::PairedEvidence, settings: &Settings) -> bool {
    judge::pairs_to_settle(evidence, settings.threshold)
        .is_none_or(|pairs| pairs <= settings.max_pairs as f64 * 2.0 / 3.0)
}

/// Whether `pairs` pairs at this spread could gate the benchmark on less than
/// [`Settings::USEFUL_GATE`];
/// a bimodal benchmark's prospects are those of its same-mode pairs: their spread, and the
/// share of further pairs that will land in one mode.
fn could_gate_usefully(
    evidence: &judge::PairedEvidence,
    settings: &Settings,
    pairs: usize,
) -> bool {
    let Some(sigma) =
        super::stats::robust_sigma(&evidence.ratios).filter(|_| evidence.ratios.len() >= 2)
    else {
        return true;
    };
    let usable = (pairs as f64 * evidence.usable_share()).max(2.0);
    let best_half_width =
        super::stats::t_95(usable as usize - 1) * super::stats::MEDIAN_EFFICIENCY * sigma
            / usable.sqrt();
    (settings.threshold.ln_1p() + best_half_width).exp_m1() < Settings::USEFUL_GATE
}

/// The plans, in batches of up to `batch` that share both binaries.
fn batches<'a>(plans: &[&'a Plan], batch: usize) -> Vec<Vec<&'a Plan>> {
    let mut by_binary: BTreeMap<(&Path, &Path), Vec<&Plan>> = BTreeMap::new();
    for plan in plans {
        by_binary
            .entry((plan.base.as_path(), plan.head.as_path()))
            .or_default()
            .push(plan);
    }
    by_binary
        .into_values()
        .flat_map(|group| {
            group
                .chunks(batch.max(1))
                .map(<[_]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Compares every plan within the budget: first quads for all, then more for the undecided.
/// `progress` hears one line per round.
pub fn run(
    plans: &[Plan],
    settings: &Settings,
    scratch: &Path,
    progress: &mut dyn FnMut(&str),
) -> Measured {
    let start = Instant::now();
    let benchmarks = spend_budget(
        plans,
        settings,
        &|| start.elapsed(),
        progress,
        &mut |batch, first, records| quad(batch, first, settings, scratch, records),
    );
    Measured {
        settings: settings.clone(),
        seconds: start.elapsed().as_secs_f64(),
        benchmarks,
    }
}

/// The engine of [`run`], measuring through `measure_quad` and timing by `elapsed`, so that a
/// replay of kept pairs ([`super::replay`]) spends its budget exactly as a live run would.
pub(super) fn spend_budget(
    plans: &[Plan],
    settings: &Settings,
    elapsed: &dyn Fn() -> Duration,
    progress: &mut dyn FnMut(&str),
    measure_quad: &mut QuadOf,
) -> BTreeMap<String, Record> {
    let mut records: BTreeMap<String, Record> = plans
        .iter()
        .map(|p| (p.id.clone(), Record::default()))
        .collect();
    let over_budget = || elapsed() >= settings.budget;
    let mut round = 0;
    loop {
        let due = due(plans, &records, settings, round);
        if due.is_empty() || over_budget() {
            break;
        }
        progress(&format!(
            "round {}: {} benchmarks to measure, {:.1} of {:.1} min spent",
            round + 1,
            due.len(),
            elapsed().as_secs_f64() / 60.0,
            settings.budget.as_secs_f64() / 60.0
        ));
        let first = if round % 2 == 0 {
            Side::Base
        } else {
            Side::Head
        };
        for batch in batches(&due, settings.batch) {
            if over_budget() {
                break;
            }
            measure_quad(&batch, first, &mut records);
        }
        confirm_at_once(
            plans,
            settings,
            &mut records,
            &over_budget,
            progress,
            measure_quad,
        );
        round += 1;
    }
    records
}

/// Measures one quad of a batch into the records (a closure, so tests can stand in for it).
pub(super) type QuadOf<'a> = dyn FnMut(&[&Plan], Side, &mut BTreeMap<String, Record>) + 'a;

/// Measures every suspected change again at once, until the pairs since it appeared can
/// confirm or refute it: seconds now, where waiting for the next rounds would cost minutes of
/// the budget. Depth first: a batch's suspects are settled (a head-first quad, then a
/// base-first one, and so on) before the next batch starts, so a budget that runs out leaves
/// some suspects settled rather than every one half-measured. Measured with a simulated 10%
/// slowdown, breadth first (a quad for every suspect, then another) confirmed 29 of 103
/// suspects before the budget ran out and left 68 one quad short.
fn confirm_at_once(
    plans: &[Plan],
    settings: &Settings,
    records: &mut BTreeMap<String, Record>,
    over_budget: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(&str),
    measure_quad: &mut QuadOf,
) {
    let awaiting = |records: &BTreeMap<String, Record>, plan: &Plan| {
        let record = &records[&plan.id];
        record.failure.is_none()
            && record.pairs.len() < settings.max_pairs
            && judge::awaiting_confirmation(&record.pairs, settings.threshold, settings.slowdown)
    };
    let suspects: Vec<&Plan> = plans.iter().filter(|p| awaiting(records, p)).collect();
    if suspects.is_empty() || over_budget() {
        return;
    }
    progress(&format!(
        "confirming {} suspected changes with pairs of their own",
        suspects.len()
    ));
    for batch in batches(&suspects, settings.batch) {
        for first in [Side::Head, Side::Base].into_iter().cycle() {
            let open: Vec<&Plan> = batch
                .iter()
                .copied()
                .filter(|p| awaiting(records, p))
                .collect();
            if open.is_empty() || over_budget() {
                break;
            }
            measure_quad(&open, first, records);
        }
    }
}

/// Judges what was measured; `slowdown` multiplies every head figure (1.0: as measured).
pub fn judge(measured: &Measured, threshold: f64, slowdown: f64) -> Vec<Judgement> {
    let stages = measured.settings.stages(measured.benchmarks.len());
    measured
        .benchmarks
        .iter()
        .map(|(id, record)| match &record.failure {
            Some(why) => {
                let mut j = Judgement::without_figures(id, Verdict::Failed, Some(why.clone()));
                j.measurements = record.pairs.len();
                j
            }
            None => judge::paired_staged(id, &record.pairs, threshold, slowdown, stages),
        })
        .collect()
}

/// The settings the engine's tests and the replay's start from.
#[cfg(test)]
pub(super) fn test_settings() -> Settings {
    Settings {
        warm_up_ms: 50,
        measurement_ms: 150,
        sample_size: 10,
        first_quads: 2,
        max_pairs: 24,
        pair_limit: 24,
        budget: Duration::from_secs(60),
        process_limit: Duration::from_secs(10),
        threshold: 0.02,
        slowdown: 1.0,
        batch: 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspects_are_confirmed_a_batch_at_a_time_so_a_short_budget_settles_some() {
        let settings = Settings {
            batch: 2,
            ..test_settings()
        };
        let plans: Vec<Plan> = ["a/1", "a/2", "b/1", "b/2"]
            .iter()
            .map(|id| Plan {
                id: id.to_string(),
                base: PathBuf::from(format!("base/{}", &id[..1])),
                head: PathBuf::from(format!("head/{}", &id[..1])),
            })
            .collect();
        let slower = vec![(100.0, 110.0); 8];
        let mut records: BTreeMap<String, Record> = plans
            .iter()
            .map(|p| (p.id.clone(), record(&slower)))
            .collect();
        let quads = std::cell::Cell::new(0);
        let mut measured_orders = Vec::new();
        confirm_at_once(
            &plans,
            &settings,
            &mut records,
            &|| quads.get() >= 2,
            &mut |_| {},
            &mut |batch, first, records| {
                quads.set(quads.get() + 1);
                measured_orders.push(first);
                for plan in batch {
                    let pairs = &mut records.get_mut(&plan.id).unwrap().pairs;
                    pairs.extend(
                        [Pair {
                            base_ns: 100.0,
                            head_ns: 110.0,
                        }; 2],
                    );
                }
            },
        );
        let pairs = |id: &str| records[id].pairs.len();
        assert_eq!(
            (pairs("a/1"), pairs("a/2")),
            (12, 12),
            "the first batch is settled"
        );
        assert_eq!(
            (pairs("b/1"), pairs("b/2")),
            (8, 8),
            "the budget ran out before the second"
        );
        assert_eq!(measured_orders, [Side::Head, Side::Base]);
        for id in ["a/1", "a/2"] {
            let verdict = judge::paired(id, &records[id].pairs, 0.02, 1.0).verdict;
            assert_eq!(verdict, Verdict::Regressed, "{id}");
        }
    }

    /// Spends a budget of `quads` quads on one benchmark whose head is `ratio` times its base,
    /// each pair's ratio scattered by ±`scatter` (log units), and returns what it measured.
    fn spend_on_one(ratio: f64, scatter: f64, settings: &Settings, quads: usize) -> Record {
        let plans = [Plan {
            id: "a/1".into(),
            base: PathBuf::from("base"),
            head: PathBuf::from("head"),
        }];
        let wobble = crate::judge::noise(5, 4 * settings.pair_limit(), scatter);
        let spent = std::cell::Cell::new(0);
        let mut records = spend_budget(
            &plans,
            settings,
            &|| Duration::from_secs(spent.get() as u64),
            &mut |_| {},
            &mut |_, _, records| {
                let pairs = &mut records.get_mut("a/1").unwrap().pairs;
                for _ in 0..2 {
                    let w = wobble[pairs.len()];
                    pairs.push(Pair {
                        base_ns: 1000.0,
                        head_ns: 1000.0 * ratio * w.exp(),
                    });
                }
                spent.set(spent.get() + 1);
            },
        );
        assert!(spent.get() <= quads, "{} quads", spent.get());
        records.remove("a/1").unwrap()
    }

    #[test]
    fn budget_left_at_the_cap_buys_pairs_judged_by_the_always_valid_rule() {
        // 6% slower, pairs scattered 8%: 24 pairs cannot settle it, and with the cap as the
        // limit the run stops there with most of its budget unspent.
        let capped = Settings {
            budget: Duration::from_secs(200),
            ..test_settings()
        };
        let record = spend_on_one(1.06, 0.08, &capped, 200);
        assert_eq!(record.pairs.len(), 24);
        let verdict = |r: &Record, s: &Settings| {
            judge::paired_staged("a/1", &r.pairs, s.threshold, s.slowdown, s.stages(1)).verdict
        };
        assert_eq!(verdict(&record, &capped), Verdict::Inconclusive);
        // With pairs allowed past the cap, the budget buys them until the verdict settles.
        let extended = Settings {
            pair_limit: 240,
            ..capped
        };
        let record = spend_on_one(1.06, 0.08, &extended, 200);
        assert!(
            record.pairs.len() > 24 && record.pairs.len() < 240,
            "{}",
            record.pairs.len()
        );
        assert_eq!(verdict(&record, &extended), Verdict::Regressed);
        // Identical builds at half the scatter: past the cap, the pairs settle on unchanged.
        let record = spend_on_one(1.0, 0.04, &extended, 200);
        assert!(record.pairs.len() > 24, "{}", record.pairs.len());
        assert_eq!(verdict(&record, &extended), Verdict::Unchanged);
        // At the full scatter, signs cannot show a change under 2% in 240 pairs: the run
        // stops at the limit, undecided, rather than calling it unchanged.
        let record = spend_on_one(1.0, 0.08, &extended, 200);
        assert_eq!(record.pairs.len(), 240);
        assert_eq!(verdict(&record, &extended), Verdict::Inconclusive);
    }

    fn record(figures: &[(f64, f64)]) -> Record {
        Record {
            pairs: figures
                .iter()
                .map(|&(base_ns, head_ns)| Pair { base_ns, head_ns })
                .collect(),
            failure: None,
        }
    }

    /// The IDs the round after the first quads measures, of benchmarks with these records.
    fn due_after_first_quads(records: &[(&str, &Record)]) -> Vec<String> {
        let plans: Vec<Plan> = records
            .iter()
            .map(|(id, _)| Plan {
                id: id.to_string(),
                base: PathBuf::from("base"),
                head: PathBuf::from("head"),
            })
            .collect();
        let records: BTreeMap<String, Record> = records
            .iter()
            .map(|(id, r)| (id.to_string(), (*r).clone()))
            .collect();
        let settings = test_settings();
        due(&plans, &records, &settings, settings.first_quads)
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }

    #[test]
    fn a_bimodal_benchmark_with_tight_modes_gets_more_pairs() {
        // Processes land at ~45 µs or ~450 µs, either side: four pairs, one in a single mode.
        let bimodal = record(&[(47e3, 470e3), (46e3, 45e3), (460e3, 44e3), (45e3, 455e3)]);
        let verdict = judge::paired("a", &bimodal.pairs, 0.02, 1.0).verdict;
        assert_eq!(verdict, Verdict::Bimodal);
        assert_eq!(due_after_first_quads(&[("a", &bimodal)]), ["a"]);
        // Four pairs in one mode, tight, leaning up by about 4%, not yet decisive: worth more,
        // although all six pairs together scatter far beyond any useful gate.
        let more = record(&[
            (47e3, 470e3),
            (46e3, 47.4e3),
            (460e3, 44e3),
            (45e3, 47.7e3),
            (450e3, 468e3),
            (44e3, 46.2e3),
        ]);
        let judged = judge::paired("a", &more.pairs, 0.02, 1.0);
        assert_eq!(judged.verdict, Verdict::Inconclusive, "{judged:?}");
        assert_eq!(due_after_first_quads(&[("a", &more)]), ["a"]);
    }

    #[test]
    fn a_benchmark_too_noisy_to_gate_usefully_gets_no_more_pairs() {
        // One speed, pairs scattered ±50%: even 24 pairs could not gate it under 15%, and the
        // round measures nothing though the budget is not spent.
        let noisy = record(&[(100.0, 160.0), (100.0, 62.0), (100.0, 140.0), (100.0, 75.0)]);
        assert!(due_after_first_quads(&[("a", &noisy)]).is_empty());
    }

    #[test]
    fn more_pairs_go_first_where_they_can_settle_a_verdict() {
        // Quiet and clearly slower, but four pairs cannot make a verdict: a few more settle it.
        let slower = record(&[
            (100.0, 110.2),
            (100.0, 109.8),
            (100.0, 110.1),
            (100.0, 109.9),
        ]);
        let judged = judge::paired("a", &slower.pairs, 0.02, 1.0);
        assert_eq!(judged.verdict, Verdict::Inconclusive, "{judged:?}");
        // Just as quiet, centred on the threshold itself: no number of pairs puts the interval
        // clear of it, so the pairs go to the other first.
        let on_the_mark = record(&[
            (100.0, 102.5),
            (100.0, 101.5),
            (100.0, 102.3),
            (100.0, 101.7),
        ]);
        let judged = judge::paired("b", &on_the_mark.pairs, 0.02, 1.0);
        assert_eq!(judged.verdict, Verdict::Inconclusive, "{judged:?}");
        let both = [("a", &slower), ("b", &on_the_mark)];
        assert_eq!(due_after_first_quads(&both), ["a"]);
        // With nothing about to settle, the budget narrows its interval all the same.
        assert_eq!(due_after_first_quads(&[("b", &on_the_mark)]), ["b"]);
    }
}
