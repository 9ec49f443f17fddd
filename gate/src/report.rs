//! What a check tells people and tools: a markdown table that lists regressions first, then
//! improvements, with the whole table folded below, and JSON for scripts (which never scrape
//! the table).

use super::judge::{Judgement, Lane, Verdict};
use crate::count::judge::CountVerdict;
use crate::settings::Settings;
use crate::units::signed_pct;
use serde::Serialize;

/// Counts by verdict, and how the gate could see at this run's noise.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub benchmarks: usize,
    pub regressed: usize,
    pub improved: usize,
    pub unchanged: usize,
    pub inconclusive: usize,
    pub bimodal: usize,
    pub new: usize,
    pub missing: usize,
    pub failed: usize,
    /// The median over judged benchmarks of the smallest change each would be failed on.
    pub median_gates_on_pct: Option<f64>,
    /// Benchmarks that would be failed on a change of 5% or less, and of 10% or less: what
    /// this run could see.
    pub gates_within_5_pct: usize,
    pub gates_within_10_pct: usize,
    /// Benchmarks the count lane judged (a count that repeats on both sides), and verdicts
    /// it decided.
    pub counted: usize,
    pub decided_by_counts: usize,
}

/// Whether a benchmark was left undecided by a run that could not have failed it on a change
/// of `change`: its gate lies above it, or it has none (too few pairs in one mode).
fn blind_to(judgement: &Judgement, change: f64) -> bool {
    matches!(judgement.verdict, Verdict::Inconclusive | Verdict::Bimodal)
        && judgement.gates_on.is_none_or(|gate| gate > change)
}

impl Summary {
    pub fn of(judgements: &[Judgement]) -> Summary {
        let count = |v: Verdict| judgements.iter().filter(|j| j.verdict == v).count();
        let gates: Vec<f64> = judgements.iter().filter_map(|j| j.gates_on).collect();
        Summary {
            benchmarks: judgements.len(),
            regressed: count(Verdict::Regressed),
            improved: count(Verdict::Improved),
            unchanged: count(Verdict::Unchanged),
            inconclusive: count(Verdict::Inconclusive),
            bimodal: count(Verdict::Bimodal),
            new: count(Verdict::New),
            missing: count(Verdict::Missing),
            failed: count(Verdict::Failed),
            median_gates_on_pct: crate::stats::median(&gates).map(|g| g * 100.0),
            gates_within_5_pct: gates.iter().filter(|g| **g <= 0.05).count(),
            gates_within_10_pct: gates.iter().filter(|g| **g <= 0.10).count(),
            counted: judgements
                .iter()
                .filter(|j| {
                    j.counts
                        .as_ref()
                        .is_some_and(|c| c.verdict != CountVerdict::NotCounted)
                })
                .count(),
            decided_by_counts: judgements
                .iter()
                .filter(|j| j.decided_by() == Lane::Counts)
                .count(),
        }
    }

    pub fn line(&self) -> String {
        let mut line = format!(
            "{} regressed, {} improved, {} unchanged, {} inconclusive of {} benchmarks",
            self.regressed, self.improved, self.unchanged, self.inconclusive, self.benchmarks
        );
        for (n, what) in [
            (self.bimodal, "bimodal"),
            (self.new, "new"),
            (self.missing, "missing"),
            (self.failed, "failed"),
        ] {
            if n > 0 {
                line.push_str(&format!(", {n} {what}"));
            }
        }
        if let Some(gate) = self.median_gates_on_pct {
            line.push_str(&format!(
                "; the median benchmark gates on {gate:.1}% ({} on ≤ 5%, {} on ≤ 10%)",
                self.gates_within_5_pct, self.gates_within_10_pct
            ));
        }
        if self.counted > 0 {
            line.push_str(&format!(
                "; {} judged on counts too, {} verdicts decided by them",
                self.counted, self.decided_by_counts
            ));
        }
        line
    }
}

/// The table: regressions, then improvements, each by size of change; the whole table folded.
pub fn markdown(judgements: &[Judgement], heading: &str) -> String {
    let summary = Summary::of(judgements);
    let mut out = format!("### {heading}\n\n{}\n\n", summary.line());
    for (verdict, title) in [
        (Verdict::Regressed, "Regressions"),
        (Verdict::Failed, "Failed to run"),
        (Verdict::Missing, "Missing from this run"),
        (Verdict::Improved, "Improvements"),
    ] {
        let mut rows: Vec<&Judgement> =
            judgements.iter().filter(|j| j.verdict == verdict).collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by(|a, b| {
            b.change
                .unwrap_or(0.0)
                .abs()
                .total_cmp(&a.change.unwrap_or(0.0).abs())
        });
        out.push_str(&format!("#### {title}\n\n"));
        out.push_str(&table(&rows));
        out.push('\n');
    }
    let mut blind: Vec<&Judgement> = judgements
        .iter()
        .filter(|j| blind_to(j, Settings::EXPECTED_TO_SEE))
        .collect();
    if !blind.is_empty() {
        blind.sort_by(|a, b| {
            let gate = |j: &Judgement| j.gates_on.unwrap_or(f64::INFINITY);
            gate(b).total_cmp(&gate(a))
        });
        out.push_str(&format!(
            "<details><summary>Blind spots: {} benchmarks this run could not have failed on a {:.0}% change</summary>\n\n",
            blind.len(),
            Settings::EXPECTED_TO_SEE * 100.0
        ));
        out.push_str(&table(&blind));
        out.push_str("\n</details>\n\n");
    }
    let all: Vec<&Judgement> = judgements.iter().collect();
    out.push_str("<details><summary>Every benchmark</summary>\n\n");
    out.push_str(&table(&all));
    out.push_str("\n</details>\n");
    out
}

fn table(rows: &[&Judgement]) -> String {
    let mut out = String::from(
        "| benchmark | verdict | lane | change | 95% interval | gates on | n | count change | note |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for j in rows {
        let change = j.change.map_or("—".into(), signed_pct);
        let interval = j.interval.map_or("—".into(), |(lo, hi)| {
            format!("{} … {}", signed_pct(lo), signed_pct(hi))
        });
        let gate = j
            .gates_on
            .map_or("—".into(), |g| format!("≥ {:.1}%", g * 100.0));
        let lane = match j.decided_by() {
            Lane::Time => "time",
            Lane::Counts => "counts",
        };
        let counts = j.counts.as_ref().map_or("—".into(), |c| match c.verdict {
            CountVerdict::NotCounted => format!("not counted: {}", c.note.as_deref().unwrap_or("")),
            _ => c
                .shown_change()
                .map(|change| change.describe())
                .unwrap_or_default(),
        });
        out.push_str(&format!(
            "| `{}` | {} | {lane} | {change} | {interval} | {gate} | {} | {counts} | {} |\n",
            j.id,
            j.verdict.label(),
            j.measurements,
            j.note.as_deref().unwrap_or("")
        ));
    }
    out
}

/// One benchmark as tools read it; percentages, not fractions.
#[derive(Serialize)]
struct JsonRow<'a> {
    id: &'a str,
    verdict: Verdict,
    change_pct: Option<f64>,
    ci_pct: Option<[f64; 2]>,
    gates_on_pct: Option<f64>,
    /// Pairs (pull-request mode) or rounds (stored-baseline mode).
    pairs: usize,
    note: Option<&'a str>,
    /// Which lane decided the verdict.
    lane: Lane,
    /// The count lane's verdict and the count it shows, where counts were taken.
    count_verdict: Option<crate::count::judge::CountVerdict>,
    count: Option<&'a str>,
    count_change_pct: Option<f64>,
}

/// `{"mode", "summary", "benchmarks": [{id, verdict, lane, change_pct, ci_pct, gates_on_pct,
/// pairs, count_verdict, count, count_change_pct}]}`.
/// The IDs a verdict file (as [`json`] or the count lane's report writes it) calls regressed,
/// in its order.
pub fn regressed_in(verdicts: &str) -> Result<Vec<String>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Verdicts {
        benchmarks: Vec<Row>,
    }
    #[derive(serde::Deserialize)]
    struct Row {
        id: String,
        verdict: String,
    }
    let doc: Verdicts = serde_json::from_str(verdicts)?;
    Ok(doc
        .benchmarks
        .into_iter()
        .filter(|row| row.verdict == "regressed")
        .map(|row| row.id)
        .collect())
}

pub fn json(judgements: &[Judgement], mode: &str) -> String {
    let rows: Vec<JsonRow> = judgements
        .iter()
        .map(|j| JsonRow {
            id: &j.id,
            verdict: j.verdict,
            change_pct: j.change.map(|c| c * 100.0),
            ci_pct: j.interval.map(|(lo, hi)| [lo * 100.0, hi * 100.0]),
            gates_on_pct: j.gates_on.map(|g| g * 100.0),
            pairs: j.measurements,
            note: j.note.as_deref(),
            lane: j.decided_by(),
            count_verdict: j.counts.as_ref().map(|c| c.verdict),
            count: j
                .counts
                .as_ref()
                .and_then(|c| c.shown_change())
                .map(|c| c.count.as_str()),
            count_change_pct: j
                .counts
                .as_ref()
                .and_then(|c| c.shown_change())
                .map(|c| 100.0 * c.relative())
                .filter(|p| p.is_finite()),
        })
        .collect();
    let doc = serde_json::json!({
        "mode": mode,
        "summary": Summary::of(judgements),
        "benchmarks": rows,
    });
    serde_json::to_string_pretty(&doc).expect("serialisable")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(id: &str, verdict: Verdict, change: f64) -> Judgement {
        Judgement {
            id: id.into(),
            verdict,
            change: Some(change),
            interval: Some((change - 0.01, change + 0.01)),
            gates_on: Some(0.03),
            measurements: 8,
            note: None,
            counts: None,
        }
    }

    #[test]
    fn regressions_come_first_then_improvements_and_the_whole_table_is_folded() {
        let rows = [
            judged("a/quiet", Verdict::Unchanged, 0.0),
            judged("b/faster", Verdict::Improved, -0.2),
            judged("c/small", Verdict::Regressed, 0.06),
            judged("d/large", Verdict::Regressed, 0.3),
        ];
        let md = markdown(&rows, "check");
        let at = |s: &str| md.find(s).unwrap_or_else(|| panic!("{s} missing:\n{md}"));
        assert!(at("#### Regressions") < at("`d/large`"));
        assert!(at("`d/large`") < at("`c/small`"), "largest first");
        assert!(at("`c/small`") < at("#### Improvements"));
        assert!(at("#### Improvements") < at("<details>"));
        assert!(md.contains("2 regressed, 1 improved, 1 unchanged, 0 inconclusive of 4"));
    }

    #[test]
    fn the_benchmarks_a_run_was_blind_to_are_listed_apart_and_counted() {
        let gated_on = |id: &str, verdict, gate: Option<f64>| Judgement {
            gates_on: gate,
            ..judged(id, verdict, 0.0)
        };
        let rows = [
            gated_on("a/quiet", Verdict::Inconclusive, Some(0.04)),
            gated_on("b/middling", Verdict::Inconclusive, Some(0.08)),
            gated_on("c/noisy", Verdict::Inconclusive, Some(0.25)),
            gated_on("d/switching", Verdict::Bimodal, None),
            gated_on("e/slower", Verdict::Regressed, Some(0.30)),
            gated_on("f/same", Verdict::Unchanged, Some(0.03)),
        ];
        let md = markdown(&rows, "check");
        let blind =
            &md[md.find("Blind spots: 2 benchmarks").expect(&md)..md.find("Every").unwrap()];
        for listed in ["`c/noisy`", "`d/switching`"] {
            assert!(blind.contains(listed), "{listed} not listed:\n{blind}");
        }
        for not_listed in ["`a/quiet`", "`b/middling`", "`e/slower`", "`f/same`"] {
            assert!(!blind.contains(not_listed), "{not_listed} listed:\n{blind}");
        }
        assert!(
            blind.find("`d/switching`") < blind.find("`c/noisy`"),
            "no gate first"
        );
        let summary = Summary::of(&rows);
        assert_eq!(
            (summary.gates_within_5_pct, summary.gates_within_10_pct),
            (2, 3)
        );
        assert!(md.contains("(2 on ≤ 5%, 3 on ≤ 10%)"), "{md}");
    }

    #[test]
    fn a_run_that_could_see_everything_has_no_blind_spots() {
        let md = markdown(&[judged("a/quiet", Verdict::Inconclusive, 0.0)], "check");
        assert!(!md.contains("Blind spots"), "{md}");
    }

    #[test]
    fn a_count_beyond_its_tolerance_fails_an_inconclusive_time_and_says_which_lane_decided() {
        use crate::count::judge::{CountChange, CountJudgement};
        let instructions = CountChange {
            count: "instructions".into(),
            base: 200.0,
            head: 204.0,
            tolerance: 2.0,
        };
        let counts = |verdict| CountJudgement {
            id: "a/more_work".into(),
            verdict,
            decided_by: (verdict == CountVerdict::Regressed).then(|| instructions.clone()),
            changes: vec![instructions.clone()],
            note: None,
        };
        let more_work = judged("a/more_work", Verdict::Inconclusive, 0.01)
            .with_counts(counts(CountVerdict::Regressed));
        let same_work = Judgement {
            id: "b/same_work".into(),
            ..judged("b/same_work", Verdict::Inconclusive, 0.0)
        }
        .with_counts(counts(CountVerdict::Unchanged));
        assert_eq!(more_work.verdict, Verdict::Regressed);
        assert_eq!(
            same_work.verdict,
            Verdict::Inconclusive,
            "counts never clear time"
        );
        let md = markdown(&[more_work.clone(), same_work.clone()], "check");
        assert!(
            md.contains("| `a/more_work` | **REGRESSED** | counts | +1.0%"),
            "{md}"
        );
        assert!(md.contains("instructions +2.0% (200 → 204)"), "{md}");
        assert!(
            md.contains("| `b/same_work` | inconclusive | time |"),
            "{md}"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&json(&[more_work, same_work], "paired")).unwrap();
        assert_eq!(doc["benchmarks"][0]["lane"], "counts");
        assert_eq!(doc["benchmarks"][0]["count"], "instructions");
        assert_eq!(doc["benchmarks"][1]["lane"], "time");
        assert_eq!(doc["summary"]["decided_by_counts"], 1);
        assert_eq!(doc["summary"]["counted"], 2);
    }

    #[test]
    fn json_carries_every_field_scripts_need() {
        let doc: serde_json::Value = serde_json::from_str(&json(
            &[judged("c/small", Verdict::Regressed, 0.06)],
            "paired",
        ))
        .unwrap();
        let row = &doc["benchmarks"][0];
        assert_eq!(row["id"], "c/small");
        assert_eq!(row["verdict"], "regressed");
        assert!((row["change_pct"].as_f64().unwrap() - 6.0).abs() < 1e-9);
        assert_eq!(row["ci_pct"].as_array().unwrap().len(), 2);
        assert_eq!(row["pairs"], 8);
        assert_eq!(doc["summary"]["regressed"], 1);
        assert_eq!(doc["summary"]["gates_within_10_pct"], 1);
        assert_eq!(doc["mode"], "paired");
    }

    #[test]
    fn the_regressed_are_read_back_from_either_lane_s_verdicts() {
        let time = json(
            &[
                judged("a/quiet", Verdict::Unchanged, 0.0),
                judged("d/large", Verdict::Regressed, 0.3),
                judged("b/faster", Verdict::Improved, -0.2),
                judged("c/small", Verdict::Regressed, 0.06),
            ],
            "paired",
        );
        assert_eq!(regressed_in(&time).unwrap(), ["d/large", "c/small"]);
        let counts = r#"{"mode": "counts", "benchmarks": [
            {"id": "x/y", "verdict": "not_counted", "note": "regressed elsewhere"},
            {"id": "x/z", "verdict": "regressed"}]}"#;
        assert_eq!(regressed_in(counts).unwrap(), ["x/z"]);
        assert!(regressed_in("{\"rows\": []}").is_err());
    }
}
