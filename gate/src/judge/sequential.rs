//! The always-valid rule: a verdict that stays honest however many times the pairs are looked
//! at, for benchmarks that take more pairs than the fixed-look rule was measured with.
//!
//! The fixed-look rule ([`super::paired`]) judges after every round, and each look is another
//! chance for noise to cross the line; its false-alarm rate was measured at its cap of pairs,
//! and a higher cap raised it (replayed on kept pairs, Intel Xeon host: 32 and 40 pairs
//! doubled its false verdicts). A run of a few benchmarks with minutes to spend would stop at
//! that cap. Past it, a benchmark is judged by a confidence sequence for the median of its
//! log-ratios, valid at every number of pairs at once, so the budget can buy pairs until the
//! verdict settles.
//!
//! The sequence rests on signs, as the fixed-look rule's sign test does: whether each pair's
//! log-ratio lies above a candidate median `m`. If at most half the pairs of the benchmark's
//! distribution lie above `m`, the likelihood ratio of "a share `p` lie above" against "half
//! do", mixed over `p` uniform on [½, 1], is a nonnegative supermartingale starting at 1, and
//! by Ville's inequality it ever reaches `1/a` with chance at most `a` (Howard et al., "Time-
//! uniform, nonparametric, nonasymptotic confidence sequences", 2021). No assumption on the
//! shape of the noise: heavy tails and outliers, which a shared host gives, move no sign more
//! than one. The mixture has a closed form: with `S` of `n` pairs above `m`,
//! `M = 2^(n+1) · P(Binomial(n+1, ½) ≤ S) / ((n+1) · C(n, S))`.

use super::{Judgement, Verdict};

/// The chance, over a whole comparison and however long it looks, that the always-valid rule
/// gives any false verdict: shared among the benchmarks compared and between the two ways
/// (slower, faster).
pub const RUN_ALPHA: f64 = 0.05;

/// The fewest pairs above (or below) a candidate median that rule it out at `n` pairs, each
/// way at chance `alpha`: `None` when not even all `n` would.
pub fn critical_count(n: usize, alpha: f64) -> Option<usize> {
    let needed = (1.0 / alpha).ln();
    (n / 2..=n).find(|&s| log_mixture(s, n) >= needed)
}

/// The natural log of the mixture martingale with `s` of `n` pairs above the candidate.
fn log_mixture(s: usize, n: usize) -> f64 {
    let ln2 = std::f64::consts::LN_2;
    (n as f64 + 1.0) * ln2 + log_binomial_cdf_half(s, n + 1)
        - (n as f64 + 1.0).ln()
        - log_choose(n, s)
}

/// ln C(n, k).
fn log_choose(n: usize, k: usize) -> f64 {
    (0..k)
        .map(|i| ((n - i) as f64).ln() - ((i + 1) as f64).ln())
        .sum()
}

/// ln P(Binomial(n, ½) ≤ s), summed in logs so that hundreds of pairs do not overflow.
fn log_binomial_cdf_half(s: usize, n: usize) -> f64 {
    let mut terms = Vec::with_capacity(s.min(n) + 1);
    let mut log_c = 0.0; // ln C(n, k), from k = 0
    for k in 0..=s.min(n) {
        terms.push(log_c);
        log_c += ((n - k) as f64).ln() - ((k + 1) as f64).ln();
    }
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
        - n as f64 * std::f64::consts::LN_2
}

/// The confidence sequence's interval for the median log-ratio at these ratios: the order
/// statistics `critical_count` in from either end; `None` while the pairs are too few for any.
pub fn interval(ratios: &[f64], alpha: f64) -> Option<(f64, f64)> {
    let c = critical_count(ratios.len(), alpha)?;
    let mut sorted = ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some((sorted[ratios.len() - c], sorted[c - 1]))
}

/// The verdict of the always-valid rule on `ratios` (log head/base) against the gate (log
/// 1 + threshold), each way at chance `alpha`: regressed when the whole interval lies above
/// the gate, improved below minus the gate, unchanged inside both, inconclusive otherwise.
pub fn decide(ratios: &[f64], gate: f64, alpha: f64) -> Verdict {
    let Some(c) = critical_count(ratios.len(), alpha) else {
        return Verdict::Inconclusive;
    };
    let above = |m: f64| ratios.iter().filter(|r| **r > m).count();
    let below = |m: f64| ratios.iter().filter(|r| **r < m).count();
    if above(gate) >= c {
        Verdict::Regressed
    } else if below(-gate) >= c {
        Verdict::Improved
    } else if below(gate) >= c && above(-gate) >= c {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// The judgement of the always-valid rule, with its interval and what it gates on; `alpha`
/// is each way's share of [`RUN_ALPHA`] for this benchmark, `measured` the pairs behind the
/// ratios (a bimodal benchmark's ratios are its same-mode pairs only).
pub fn judgement(id: &str, ratios: &[f64], measured: usize, gate: f64, alpha: f64) -> Judgement {
    let verdict = decide(ratios, gate, alpha);
    let interval = interval(ratios, alpha);
    let note = format!(
        "{measured} pairs, past the fixed-look rule's: always-valid sign interval (a false verdict in at most {:.0}% of runs)",
        RUN_ALPHA * 100.0
    );
    Judgement {
        id: id.into(),
        verdict,
        change: super::stats::median(ratios).map(f64::exp_m1),
        interval: interval.map(|(low, high)| (low.exp_m1(), high.exp_m1())),
        gates_on: interval.map(|(low, high)| (gate + (high - low) / 2.0).exp_m1()),
        measurements: measured,
        note: Some(note),
        counts: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mixture_is_its_integral_in_closed_form() {
        // All n of n above: 2^(n+1) (1 - 2^-(n+1)) / (n+1), the integral of 2 (2p)^n over
        // [½, 1] done by hand.
        for n in [1usize, 5, 16, 40] {
            let by_hand = (2f64.powi(n as i32 + 1) - 1.0) / (n as f64 + 1.0);
            assert!((log_mixture(n, n) - by_hand.ln()).abs() < 1e-9, "{n}");
        }
        // Half above: below 1, no evidence either way (numerically integrated: 0.5096 at 10).
        let midpoint = |f: &dyn Fn(f64) -> f64| {
            let steps = 100_000;
            (0..steps)
                .map(|i| f(0.5 + (i as f64 + 0.5) * 0.5 / steps as f64))
                .sum::<f64>()
                * 0.5
                / steps as f64
        };
        let numeric = midpoint(&|p| 2.0 * (2.0 * p).powi(5) * (2.0 * (1.0 - p)).powi(5));
        assert!(
            (log_mixture(5, 10).exp() - numeric).abs() < 1e-6,
            "{numeric}"
        );
    }

    #[test]
    fn critical_counts_need_more_pairs_for_a_smaller_chance() {
        // 1/alpha = 20: all of 6 reach 2^7/7 = 18.1, too few; all of 7 reach 255/8 = 31.9.
        assert_eq!(critical_count(6, 0.05), None);
        assert_eq!(critical_count(7, 0.05), Some(7));
        let (loose, strict) = (critical_count(100, 0.05), critical_count(100, 0.0001));
        assert!(loose < strict, "{loose:?} {strict:?}");
        assert!(critical_count(100, 0.0001).unwrap() < 100);
        // Hundreds of pairs do not overflow.
        assert!(critical_count(2000, 0.0001).is_some_and(|c| c > 1000 && c < 1200));
    }

    #[test]
    fn a_clear_shift_is_a_verdict_and_noise_about_zero_is_unchanged() {
        let gate = 0.02f64.ln_1p();
        let alpha = RUN_ALPHA / 12.0;
        let wobble = super::super::noise(7, 120, 0.03);
        let slower: Vec<f64> = wobble.iter().map(|w| w + 0.10).collect();
        assert_eq!(decide(&slower, gate, alpha), Verdict::Regressed);
        let faster: Vec<f64> = wobble.iter().map(|w| w - 0.10).collect();
        assert_eq!(decide(&faster, gate, alpha), Verdict::Improved);
        let quiet: Vec<f64> = super::super::noise(8, 120, 0.005);
        assert_eq!(decide(&quiet, gate, alpha), Verdict::Unchanged);
        // Noisy and centred on the threshold itself: no verdict.
        let on_the_mark: Vec<f64> = wobble.iter().map(|w| w + gate).collect();
        assert_eq!(decide(&on_the_mark, gate, alpha), Verdict::Inconclusive);
    }

    #[test]
    fn outliers_move_the_interval_no_more_than_any_other_pair() {
        let alpha = RUN_ALPHA / 12.0;
        let mut ratios = super::super::noise(9, 60, 0.01);
        let before = interval(&ratios, alpha).unwrap();
        ratios[0] = 5.0;
        ratios[1] = -5.0;
        let after = interval(&ratios, alpha).unwrap();
        assert!((after.0 - before.0).abs() < 0.01 && (after.1 - before.1).abs() < 0.01);
    }

    #[test]
    fn identical_builds_are_falsely_failed_no_more_often_than_alpha_however_often_looked_at() {
        // Fair coins for signs, looked at after every pair up to 400: Ville's bound says a
        // path ever crosses with chance at most alpha each way. 2,000 paths at 5%: the count
        // of crossings is at most about 100 by the bound, and a rule that ignored the looks
        // (a fixed 95% interval at every look) would cross on most paths.
        let alpha = 0.05;
        let critical: Vec<Option<usize>> = (0..=400).map(|n| critical_count(n, alpha)).collect();
        let mut rng = fastrand::Rng::with_seed(11);
        let mut crossed = 0;
        for _ in 0..2000 {
            let mut above = 0;
            for critical_now in &critical[1..] {
                above += usize::from(rng.bool());
                if critical_now.is_some_and(|c| above >= c) {
                    crossed += 1;
                    break;
                }
            }
        }
        assert!(crossed <= 100, "{crossed} of 2000 paths crossed");
        assert!(crossed > 0, "the bound is not vacuous: some paths do cross");
    }
}
