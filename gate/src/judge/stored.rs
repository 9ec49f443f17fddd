//! Stored-baseline verdicts (nightly): this run's rounds against the recorded runs of one
//! commit, with a noise fence that does not grow as runs are recorded.

use super::{Judgement, Verdict, mode_ratio};
use crate::stats;

/// Below this many recorded runs of one commit, a stored baseline cannot vouch for a
/// benchmark's noise.
pub const MIN_STORED_RUNS: usize = 5;
/// How many sigmas of the difference of medians a stored-mode change must exceed. With five
/// runs the robust sigma is itself uncertain, so this is wide of the ~4 that 185 benchmarks
/// with no false alarm would need if sigma were known.
const STORED_SIGMAS: f64 = 5.0;
const MIN_STORED_SIGMA: f64 = 0.005;
/// A bimodal benchmark is judged on its fast mode only when the mode holds this many recorded
/// runs and this many of this run's rounds: fewer leave its noise to one or two deviations.
/// Chosen on two A/A checks (16 passes of one commit, Intel Xeon host), whose two false
/// verdicts on bimodal benchmarks were both judged on two recorded runs and one round; a
/// third check, made after, came out the same under this rule and the one before it.
const MIN_MODE_RECORDED: usize = 3;
const MIN_MODE_ROUNDS: usize = 2;

/// Judges this run's rounds (`run_ns`, one figure per round) against the recorded runs of
/// one commit (`recorded_ns`); `slowdown` multiplies this run's figures.
pub fn stored(
    id: &str,
    recorded_ns: &[f64],
    run_ns: &[f64],
    threshold: f64,
    slowdown: f64,
) -> Judgement {
    let mut recorded: Vec<f64> = recorded_ns.iter().map(|v| v.ln()).collect();
    let mut run: Vec<f64> = run_ns.iter().map(|v| v.ln() + slowdown.ln()).collect();
    let mut note = None;
    if let Some(split) = stats::mode_split(&recorded) {
        // Compare within the fast mode, which a mode switch cannot fake.
        let why = format!(
            "bimodal: recorded runs switch between speeds {:.1}× apart; judged on the fast mode",
            mode_ratio(&recorded, split)
        );
        recorded.retain(|v| *v < split);
        run.retain(|v| *v < split);
        let not_gateable = match (recorded.len(), run.len()) {
            (_, 0) => Some(format!("{why}, which this run never reached")),
            (r, n) if r < MIN_MODE_RECORDED || n < MIN_MODE_ROUNDS => Some(format!(
                "{why}, which holds too few figures to judge on ({r} recorded runs and {n} of \
                 this run's rounds; {MIN_MODE_RECORDED} and {MIN_MODE_ROUNDS} needed)"
            )),
            _ => None,
        };
        if let Some(why) = not_gateable {
            let mut judgement = Judgement::without_figures(id, Verdict::Bimodal, Some(why));
            judgement.measurements = run_ns.len();
            return judgement;
        }
        note = Some(why);
    }
    let (Some(reference), Some(now)) = (stats::median(&recorded), stats::median(&run)) else {
        return Judgement::without_figures(id, Verdict::Missing, None);
    };
    let sigma = stats::pooled_robust_sigma(&[&recorded, &run])
        .unwrap_or(0.0)
        .max(MIN_STORED_SIGMA);
    let spread = STORED_SIGMAS
        * stats::MEDIAN_EFFICIENCY
        * sigma
        * (1.0 / run.len() as f64 + 1.0 / recorded.len() as f64).sqrt();
    let gate = (1.0 + threshold).ln().max(spread);
    let change = now - reference;
    let verdict = if change > gate {
        Verdict::Regressed
    } else if change < -gate {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    Judgement {
        id: id.into(),
        verdict,
        change: Some(change.exp_m1()),
        interval: Some(((change - spread).exp_m1(), (change + spread).exp_m1())),
        gates_on: Some(gate.exp_m1()),
        measurements: run_ns.len(),
        note,
        counts: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::noise;

    #[test]
    fn stored_a_clear_slowdown_fails_and_noise_does_not() {
        let recorded: Vec<f64> = noise(5, 5, 0.01)
            .iter()
            .map(|w| 100.0 * (1.0 + w))
            .collect();
        let same: Vec<f64> = noise(6, 3, 0.01)
            .iter()
            .map(|w| 100.0 * (1.0 + w))
            .collect();
        assert_eq!(
            stored("a", &recorded, &same, 0.05, 1.0).verdict,
            Verdict::Unchanged
        );
        let slower: Vec<f64> = same.iter().map(|v| v * 1.25).collect();
        assert_eq!(
            stored("a", &recorded, &slower, 0.05, 1.0).verdict,
            Verdict::Regressed
        );
    }

    #[test]
    fn stored_gate_does_not_widen_as_runs_of_the_same_commit_are_recorded() {
        // Many synthetic histories: gate after 5 runs against after 6, 7, … 10 runs drawn from
        // the same distribution. A widest-deviation fence only ever grows; this one must not.
        let mut wider = 0;
        let mut widest_rule_wider = 0;
        let mut ratio_sum = 0.0;
        let histories = 200;
        // The rule this replaced: twice the widest deviation of a run from the median.
        let widest = |h: &[f64]| {
            let m = stats::median(h).unwrap();
            h.iter().map(|v| (v / m).ln().abs()).fold(0.0, f64::max)
        };
        for seed in 0..histories {
            let history: Vec<f64> = noise(100 + seed, 10, 0.03)
                .iter()
                .map(|w| 1000.0 * (1.0 + w))
                .collect();
            let run: Vec<f64> = noise(5000 + seed, 3, 0.03)
                .iter()
                .map(|w| 1000.0 * (1.0 + w))
                .collect();
            let gate_at = |n: usize| stored("a", &history[..n], &run, 0.0, 1.0).gates_on.unwrap();
            let at_five = gate_at(5);
            for n in 6..=10 {
                ratio_sum += gate_at(n) / at_five;
            }
            if gate_at(10) > at_five * 1.25 {
                wider += 1;
            }
            if widest(&history) > widest(&history[..5]) * 1.25 {
                widest_rule_wider += 1;
            }
        }
        let mean_ratio = ratio_sum / (histories as f64 * 5.0);
        assert!(mean_ratio < 1.0, "the gate grows on average: {mean_ratio}");
        assert!(
            wider * 3 < widest_rule_wider,
            "{wider} of {histories} gates widened by a quarter, against {widest_rule_wider} \
             under the widest-deviation rule"
        );
    }

    #[test]
    fn stored_a_bimodal_history_does_not_open_the_gate() {
        // Runs near 1,350 ns and three near 392 ns: twice the widest deviation from the median
        // would let almost any change through. Judged on the fast mode, which this run did not
        // reach: reported as bimodal; a run in the fast mode is judged against it alone.
        let recorded = [1350.0, 1340.0, 392.0, 1360.0, 1355.0, 395.0, 1345.0, 390.0];
        let slow_run = [1352.0, 1348.0, 1350.0];
        assert_eq!(
            stored("a", &recorded, &slow_run, 0.05, 1.0).verdict,
            Verdict::Bimodal
        );
        let fast_regressed = [470.0, 1350.0, 468.0];
        assert_eq!(
            stored("a", &recorded, &fast_regressed, 0.05, 1.0).verdict,
            Verdict::Regressed
        );
    }

    #[test]
    fn stored_a_mode_of_too_few_figures_is_not_judged() {
        // Two recorded runs in the fast mode, or one round of this run: not gateable, however
        // far the figures moved, and the note says how many there were.
        let two_fast = [1350.0, 392.0, 1360.0, 1355.0, 395.0];
        let judged = stored("a", &two_fast, &[470.0, 468.0, 1350.0], 0.05, 1.0);
        assert_eq!(judged.verdict, Verdict::Bimodal);
        assert!(judged.note.unwrap().contains("2 recorded runs and 2"));
        let three_fast = [1350.0, 392.0, 390.0, 1355.0, 395.0];
        let one_round = stored("a", &three_fast, &[470.0, 1352.0, 1350.0], 0.05, 1.0);
        assert_eq!(one_round.verdict, Verdict::Bimodal);
        assert!(one_round.note.unwrap().contains("3 recorded runs and 1 of"));
        let judged = stored("a", &three_fast, &[470.0, 468.0, 1350.0], 0.05, 1.0);
        assert_eq!(judged.verdict, Verdict::Regressed);
    }
}
