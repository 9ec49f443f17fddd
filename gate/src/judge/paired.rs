//! Paired verdicts (pull requests): base and head measured close together in time, many
//! times; each pair gives a log-ratio head/base, and the verdict rests on their median and its
//! 95% interval, a sign test, and confirmation by pairs measured after a change first showed.

use super::{Judgement, Verdict, mode_ratio, verdict_of};
use crate::stats::{self, Interval};
use serde::Serialize;

/// Noise floors in log units: no benchmark is treated as quieter than this.
const MIN_PAIRED_SIGMA: f64 = 0.002;
/// Same-mode pairs a bimodal benchmark needs before it is judged on them.
const MIN_SAME_MODE_PAIRS: usize = 4;
/// Pairs a benchmark needs before it can be called regressed or improved; with fewer, a
/// decisive-looking interval leaves it undecided, and it gets more pairs.
pub const MIN_DECISIVE_PAIRS: usize = 8;
/// A regression also needs its pairs to lean one way beyond chance: the sign test, which
/// heavy tails cannot fool, one-sided at this level (all 8 of 8 pairs, 10 of 11, 11 of 12…).
/// The interval alone once failed an A/A run on a benchmark whose 8 pairs ran 0.97 to 1.66.
const SIGN_TEST_P: f64 = 0.01;
/// A regression or improvement is confirmed by the pairs measured after it first appeared, on
/// their own: at least `CONFIRM_PAIRS` of them, their median past the threshold, and leaning
/// that way beyond chance, a one-sided sign test at `CONFIRM_SIGN_P` (4 of 4, 5 of 6, 6 of 7,
/// 7 of 8, 8 of 10…). Without this, a benchmark judged again after every round fails falsely
/// about once in seven to ten A/A runs of the whole suite (measured: resampling an A/A run's
/// pairs with random signs); with it, a false alarm must also be met by chance on pairs it did
/// not choose. Not "all four": with three real slowdowns of 11–14%, 2 of 16 and 1 of 14 single
/// pairs still came out below 1 (a shared host's burst on the head's side), so all 4 of 4
/// would miss about a third of them; one against is allowed on six. "3 of 4", the rule before
/// this one, passes nearly a third of noise-only suspects: in a model of the engine replaying
/// eight whole-suite runs' A/A pairs (Intel Xeon host), it erred in one A/A run in eight, this
/// rule in one in seventeen, at the cost of 2–3 of the 188 benchmarks a 10% or 5% slowdown
/// fails.
const CONFIRM_PAIRS: usize = 4;
const CONFIRM_SIGN_P: f64 = 0.11;
/// A suspect is measured again at once until this many pairs since, while one pair against
/// leaves it able to pass; after that, only the rounds add to it.
const CONFIRM_AT_ONCE: usize = 6;

/// One base-and-head pair, nanoseconds per iteration.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize, Serialize)]
pub struct Pair {
    pub base_ns: f64,
    pub head_ns: f64,
}

/// The log-ratios (head over base) a paired verdict rests on: all of them, or for a benchmark
/// whose processes switch between two speeds, only the pairs whose two figures share a mode.
#[derive(Clone, Debug)]
pub struct PairedEvidence {
    pub ratios: Vec<f64>,
    /// The index among the pairs of each ratio's pair.
    pub kept: Vec<usize>,
    /// Pairs measured, same-mode or not.
    pub measured: usize,
    /// Why only some pairs count, when they do.
    pub bimodal: Option<String>,
}

impl PairedEvidence {
    /// `slowdown` multiplies every head figure (1.0: as measured).
    pub fn of(pairs: &[Pair], slowdown: f64) -> PairedEvidence {
        let logs: Vec<(f64, f64)> = pairs
            .iter()
            .map(|p| (p.base_ns.ln(), p.head_ns.ln() + slowdown.ln()))
            .collect();
        let mut used: Vec<(usize, (f64, f64))> = logs.iter().copied().enumerate().collect();
        let mut bimodal = None;
        let all: Vec<f64> = logs.iter().flat_map(|&(a, b)| [a, b]).collect();
        if let Some(split) = stats::mode_split(&all) {
            let fast = |v: f64| v < split;
            let both_sides_in_both_modes = [true, false].iter().all(|&mode| {
                logs.iter().any(|&(a, _)| fast(a) == mode)
                    && logs.iter().any(|&(_, b)| fast(b) == mode)
            });
            if both_sides_in_both_modes {
                used.retain(|&(_, (a, b))| fast(a) == fast(b));
                bimodal = Some(format!(
                    "bimodal: both sides switch between speeds {:.1}× apart; {} of {} pairs in one mode",
                    mode_ratio(&all, split),
                    used.len(),
                    logs.len()
                ));
            }
        }
        PairedEvidence {
            ratios: used.iter().map(|(_, (a, b))| b - a).collect(),
            kept: used.iter().map(|(index, _)| *index).collect(),
            measured: pairs.len(),
            bimodal,
        }
    }

    /// Whether too few pairs share a mode to judge on them.
    pub fn too_few_in_one_mode(&self) -> bool {
        self.bimodal.is_some() && self.ratios.len() < MIN_SAME_MODE_PAIRS
    }

    /// The share of pairs that count: more pairs buy this share of usable ones.
    pub fn usable_share(&self) -> f64 {
        self.ratios.len() as f64 / self.measured.max(1) as f64
    }
}

/// How many pairs would, at the centre and spread of these, put the interval wholly past the
/// threshold or wholly inside it: a forecast from the pairs so far, for spending more of them.
/// `None` with fewer than two usable pairs, when there is nothing to forecast from.
pub fn pairs_to_settle(evidence: &PairedEvidence, threshold: f64) -> Option<f64> {
    if evidence.ratios.len() < 2 {
        return None;
    }
    let centre = stats::median(&evidence.ratios)?;
    let sigma = stats::robust_sigma(&evidence.ratios)?.max(MIN_PAIRED_SIGMA);
    let margin = (centre.abs() - threshold.ln_1p()).abs();
    // The t quantile of a settled benchmark's pairs, about 16 of them.
    let half_width_per_root_pair = stats::t_95(15) * stats::MEDIAN_EFFICIENCY * sigma;
    let usable = (half_width_per_root_pair / margin).powi(2);
    Some(usable / evidence.usable_share())
}

/// Judges paired measurements; `slowdown` multiplies every head figure (1.0: as measured).
pub fn paired(id: &str, pairs: &[Pair], threshold: f64, slowdown: f64) -> Judgement {
    let evidence = PairedEvidence::of(pairs, slowdown);
    let undecided = |verdict, note| {
        let mut judgement = Judgement::without_figures(id, verdict, note);
        judgement.measurements = pairs.len();
        judgement
    };
    if evidence.too_few_in_one_mode() {
        return undecided(Verdict::Bimodal, evidence.bimodal);
    }
    let gate = (1.0 + threshold).ln();
    let Some((verdict, interval)) = decide(&evidence.ratios, gate) else {
        return undecided(Verdict::Inconclusive, evidence.bimodal);
    };
    let mut note = evidence.bimodal.clone();
    let verdict = match verdict {
        Verdict::Regressed | Verdict::Improved => {
            let confirmation = Confirmation::of(pairs, &evidence, verdict, gate, slowdown);
            if confirmation.confirmed {
                verdict
            } else {
                let why = confirmation.pending(verdict);
                note = Some(note.map_or(why.clone(), |bimodal| format!("{bimodal}; {why}")));
                Verdict::Inconclusive
            }
        }
        verdict => verdict,
    };
    Judgement {
        id: id.into(),
        verdict,
        change: Some(interval.centre.exp_m1()),
        interval: Some((interval.low.exp_m1(), interval.high.exp_m1())),
        gates_on: Some((gate + interval.half_width()).exp_m1()),
        measurements: pairs.len(),
        note,
        counts: None,
    }
}

/// Where the fixed-look rule stops judging, and how many benchmarks the comparison holds: they
/// share the always-valid rule's chance of a false verdict.
#[derive(Clone, Copy, Debug)]
pub struct Stages {
    pub fixed_pairs: usize,
    pub benchmarks: usize,
}

/// Judges a benchmark's pairs in two stages: the fixed-look rule ([`paired`]) on the first
/// `fixed_pairs`, whose false-alarm rate was measured at that cap; when it leaves the
/// benchmark undecided and more pairs were measured, the always-valid rule
/// ([`super::sequential`]) on all of them, whose false-alarm rate holds at any number of looks.
/// A false verdict needs one of the two to err: at most the fixed rule's measured rate plus
/// [`super::sequential::RUN_ALPHA`] per comparison.
pub fn paired_staged(
    id: &str,
    pairs: &[Pair],
    threshold: f64,
    slowdown: f64,
    stages: Stages,
) -> Judgement {
    let fixed = paired(
        id,
        &pairs[..pairs.len().min(stages.fixed_pairs)],
        threshold,
        slowdown,
    );
    if pairs.len() <= stages.fixed_pairs || !fixed.undecided() {
        return fixed;
    }
    let evidence = PairedEvidence::of(pairs, slowdown);
    if evidence.too_few_in_one_mode() {
        let mut judgement = Judgement::without_figures(id, Verdict::Bimodal, evidence.bimodal);
        judgement.measurements = pairs.len();
        return judgement;
    }
    let each_way = super::sequential::RUN_ALPHA / (2.0 * stages.benchmarks.max(1) as f64);
    let gate = (1.0 + threshold).ln();
    let mut judgement =
        super::sequential::judgement(id, &evidence.ratios, pairs.len(), gate, each_way);
    if let Some(bimodal) = evidence.bimodal {
        judgement.note = judgement.note.map(|n| format!("{bimodal}; {n}"));
    }
    judgement
}

/// The verdict the log-ratios alone support, with their interval: a regression or an
/// improvement needs enough pairs, an interval wholly past the gate, and a sign test.
fn decide(ratios: &[f64], gate: f64) -> Option<(Verdict, Interval)> {
    let interval = stats::paired_interval(ratios, MIN_PAIRED_SIGMA)?;
    let up = ratios.iter().filter(|r| **r > 0.0).count();
    let down = ratios.iter().filter(|r| **r < 0.0).count();
    let verdict = match verdict_of(&interval, gate) {
        Verdict::Regressed | Verdict::Improved if ratios.len() < MIN_DECISIVE_PAIRS => {
            Verdict::Inconclusive
        }
        Verdict::Regressed if stats::sign_test_p(up, ratios.len()) >= SIGN_TEST_P => {
            Verdict::Inconclusive
        }
        Verdict::Improved if stats::sign_test_p(down, ratios.len()) >= SIGN_TEST_P => {
            Verdict::Inconclusive
        }
        verdict => verdict,
    };
    Some((verdict, interval))
}

/// Whether the pairs show a regression or an improvement that the pairs measured since have
/// not yet had the numbers to confirm or refute: the engine measures it again at once.
pub fn awaiting_confirmation(pairs: &[Pair], threshold: f64, slowdown: f64) -> bool {
    let evidence = PairedEvidence::of(pairs, slowdown);
    let gate = (1.0 + threshold).ln();
    if evidence.too_few_in_one_mode() {
        return false;
    }
    match decide(&evidence.ratios, gate) {
        Some((verdict @ (Verdict::Regressed | Verdict::Improved), _)) => {
            Confirmation::of(pairs, &evidence, verdict, gate, slowdown).awaiting()
        }
        _ => false,
    }
}

/// A change seen on the pairs up to `first`, and what the pairs measured after it say: they
/// must bear it out on their own, independent of the pairs that raised it.
struct Confirmation {
    first: usize,
    since: usize,
    leaning: usize,
    confirmed: bool,
}

impl Confirmation {
    fn of(
        pairs: &[Pair],
        evidence: &PairedEvidence,
        verdict: Verdict,
        gate: f64,
        slowdown: f64,
    ) -> Confirmation {
        let first = (MIN_DECISIVE_PAIRS..=pairs.len())
            .find(|&k| {
                let prefix = PairedEvidence::of(&pairs[..k], slowdown);
                !prefix.too_few_in_one_mode()
                    && decide(&prefix.ratios, gate).is_some_and(|(v, _)| v == verdict)
            })
            .unwrap_or(pairs.len());
        let lean = if verdict == Verdict::Regressed {
            1.0
        } else {
            -1.0
        };
        let since: Vec<f64> = evidence
            .kept
            .iter()
            .zip(&evidence.ratios)
            .filter(|(index, _)| **index >= first)
            .map(|(_, ratio)| lean * ratio)
            .collect();
        let leaning = since.iter().filter(|r| **r > 0.0).count();
        let confirmed = since.len() >= CONFIRM_PAIRS
            && stats::sign_test_p(leaning, since.len()) <= CONFIRM_SIGN_P
            && stats::median(&since).is_some_and(|m| m > gate);
        Confirmation {
            first,
            since: since.len(),
            leaning,
            confirmed,
        }
    }

    /// Whether the pairs since are too few yet to say: fewer than `CONFIRM_PAIRS`, or fewer
    /// than `CONFIRM_AT_ONCE` with at most one against.
    fn awaiting(&self) -> bool {
        !self.confirmed
            && (self.since < CONFIRM_PAIRS
                || (self.since < CONFIRM_AT_ONCE && self.since - self.leaning <= 1))
    }

    /// What the note says of a change not (yet) confirmed.
    fn pending(&self, verdict: Verdict) -> String {
        let way = if verdict == Verdict::Regressed {
            "slower"
        } else {
            "faster"
        };
        format!(
            "{way} on the first {} pairs, to be confirmed: {} of {} pairs since lean that way (4 of 4, 5 of 6 or the like needed, their median past the threshold)",
            self.first, self.leaning, self.since
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::noise;

    fn pairs(base: f64, ratio: f64, wobble: &[f64]) -> Vec<Pair> {
        wobble
            .chunks(2)
            .map(|w| Pair {
                base_ns: base * (1.0 + w[0]),
                head_ns: base * ratio * (1.0 + w[1]),
            })
            .collect()
    }

    #[test]
    fn a_clear_paired_slowdown_is_a_regression_and_none_is_unchanged() {
        let wobble = noise(1, 24, 0.005);
        let slower = paired("a", &pairs(100.0, 1.10, &wobble), 0.02, 1.0);
        assert_eq!(slower.verdict, Verdict::Regressed, "{slower:?}");
        assert!((slower.change.unwrap() - 0.10).abs() < 0.01);
        let same = paired("a", &pairs(100.0, 1.0, &wobble), 0.02, 1.0);
        assert_eq!(same.verdict, Verdict::Unchanged, "{same:?}");
        let faster = paired("a", &pairs(100.0, 0.8, &wobble), 0.02, 1.0);
        assert_eq!(faster.verdict, Verdict::Improved);
    }

    #[test]
    fn a_regression_waits_for_pairs_it_did_not_choose_to_confirm_it() {
        // Eight pairs all up: on their own, a regression.
        let judge = |ratios: &[f64]| {
            let pairs = from_ratios(1000.0, ratios);
            (
                paired("a", &pairs, 0.02, 1.0),
                awaiting_confirmation(&pairs, 0.02, 1.0),
            )
        };
        let raised = [1.05, 1.06, 1.04, 1.07, 1.05, 1.06, 1.05, 1.04];
        let (j, awaiting) = judge(&raised);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
        assert!(j.note.unwrap().contains("to be confirmed: 0 of 0"));
        assert!(awaiting);
        // Four more that lean the same way past the threshold confirm it.
        let (j, awaiting) = judge(&[&raised[..], &[1.05, 1.04, 1.06, 1.05]].concat());
        assert_eq!(j.verdict, Verdict::Regressed, "{j:?}");
        assert!(j.note.is_none() && !awaiting);
        // One of four against: two more pairs are measured at once, and five of six confirm.
        let one_against = [&raised[..], &[1.06, 0.97, 1.05, 1.04]].concat();
        let (j, awaiting) = judge(&one_against);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
        assert!(j.note.unwrap().contains("3 of 4 pairs since"));
        assert!(awaiting);
        let (j, awaiting) = judge(&[&one_against[..], &[1.05, 1.06]].concat());
        assert_eq!(j.verdict, Verdict::Regressed, "{j:?}");
        assert!(!awaiting);
        // Eight that do not bear it out, two of them against, as identical builds give: not a
        // regression, though the sixteen together pass the interval and the sign test (14 of
        // 16 up); and no longer measured at once, only with the rounds.
        let refuted = [
            &raised[..],
            &[1.03, 0.99, 1.04, 0.995, 1.03, 1.04, 1.035, 1.03],
        ]
        .concat();
        let together = decide(
            &PairedEvidence::of(&from_ratios(1000.0, &refuted), 1.0).ratios,
            0.02f64.ln_1p(),
        );
        assert_eq!(together.map(|(v, _)| v), Some(Verdict::Regressed));
        let (j, awaiting) = judge(&refuted);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
        assert!(j.note.unwrap().contains("6 of 8 pairs since"));
        assert!(!awaiting);
        // Two against in the first four: no longer measured at once.
        let (_, awaiting) = judge(&[&raised[..], &[1.03, 0.99, 1.04, 0.995]].concat());
        assert!(!awaiting);
        // Four that all lean up but whose median falls short of the threshold: not yet.
        let (j, _) = judge(&[&raised[..], &[1.01, 1.015, 1.005, 1.012]].concat());
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
    }

    #[test]
    fn a_change_the_noise_cannot_resolve_is_inconclusive_not_a_regression() {
        let wobble = noise(2, 8, 0.10);
        let j = paired("a", &pairs(100.0, 1.05, &wobble), 0.02, 1.0);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
        assert!(j.undecided());
        assert!(j.gates_on.unwrap() > 0.05);
    }

    /// Pairs with exactly these head/base ratios.
    fn from_ratios(base_ns: f64, ratios: &[f64]) -> Vec<Pair> {
        ratios
            .iter()
            .map(|r| Pair {
                base_ns,
                head_ns: base_ns * r,
            })
            .collect()
    }

    #[test]
    fn too_few_pairs_never_make_a_verdict_however_tight() {
        // Three pairs alike and one far off: the robust spread ignores the odd one out.
        let pairs = from_ratios(60_000.0, &[1.056, 1.070, 0.86, 1.069]);
        let j = paired("a", &pairs, 0.02, 1.0);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
    }

    #[test]
    fn a_heavy_tailed_benchmark_does_not_fail_on_an_interval_alone() {
        // The A/A pairs that failed a run: identical binaries, ratios 0.97 to 1.66.
        let ratios = [1.331, 1.409, 1.658, 0.974, 1.531, 1.274, 1.067, 1.125];
        let pairs = from_ratios(110_000.0, &ratios);
        let j = paired("a", &pairs, 0.02, 1.0);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
    }

    #[test]
    fn a_simulated_slowdown_shifts_every_head_figure() {
        let wobble = noise(3, 24, 0.005);
        let j = paired("a", &pairs(100.0, 1.0, &wobble), 0.02, 1.10);
        assert_eq!(j.verdict, Verdict::Regressed);
    }

    #[test]
    fn a_bimodal_benchmark_does_not_fail_on_a_mode_switch() {
        // Both sides land in either mode at random: 400 ns or 1350 ns.
        let modes = [
            (400.0, 1350.0),
            (1350.0, 400.0),
            (400.0, 400.0),
            (1350.0, 1350.0),
            (400.0, 1350.0),
            (1350.0, 1350.0),
        ];
        let pairs: Vec<Pair> = modes
            .iter()
            .map(|&(b, h)| Pair {
                base_ns: b,
                head_ns: h,
            })
            .collect();
        let j = paired("a", &pairs, 0.02, 1.0);
        assert_eq!(j.verdict, Verdict::Bimodal, "{j:?}");
        assert!(j.note.unwrap().contains("3.4×"));
    }

    #[test]
    fn a_benchmark_whose_head_moved_wholly_to_the_slow_mode_is_a_regression() {
        let wobble = noise(4, 24, 0.005);
        let j = paired("a", &pairs(400.0, 3.4, &wobble), 0.02, 1.0);
        assert_eq!(j.verdict, Verdict::Regressed, "{j:?}");
    }
}
