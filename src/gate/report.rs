//! What a check tells people and tools: a markdown table that lists regressions first, then
//! improvements, with the whole table folded below, and JSON for scripts (which never scrape
//! the table).

use super::judge::{Judgement, Verdict};
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
            median_gates_on_pct: crate::gate::stats::median(&gates).map(|g| g * 100.0),
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
            line.push_str(&format!("; the median benchmark gates on {gate:.1}%"));
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
    let all: Vec<&Judgement> = judgements.iter().collect();
    out.push_str("<details><summary>Every benchmark</summary>\n\n");
    out.push_str(&table(&all));
    out.push_str("\n</details>\n");
    out
}

fn table(rows: &[&Judgement]) -> String {
    let mut out = String::from(
        "| benchmark | verdict | change | 95% interval | gates on | n | note |\n|---|---|---|---|---|---|---|\n",
    );
    for j in rows {
        let change = j.change.map_or("—".into(), signed_pct);
        let interval = j.interval.map_or("—".into(), |(lo, hi)| {
            format!("{} … {}", signed_pct(lo), signed_pct(hi))
        });
        let gate = j
            .gates_on
            .map_or("—".into(), |g| format!("≥ {:.1}%", g * 100.0));
        out.push_str(&format!(
            "| `{}` | {} | {change} | {interval} | {gate} | {} | {} |\n",
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
}

/// `{"mode", "summary", "benchmarks": [{id, verdict, change_pct, ci_pct, gates_on_pct, pairs}]}`.
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
        assert_eq!(doc["mode"], "paired");
    }
}
