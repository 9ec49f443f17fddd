//! What a count check tells people and tools: regressions first, then improvements, then the
//! whole table folded; JSON for scripts.

use super::judge::{CountJudgement, CountVerdict};
use serde::Serialize;

/// Counts by verdict.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub benchmarks: usize,
    pub regressed: usize,
    pub improved: usize,
    pub unchanged: usize,
    pub not_counted: usize,
}

impl Summary {
    pub fn of(judged: &[CountJudgement]) -> Summary {
        let count = |v| judged.iter().filter(|j| j.verdict == v).count();
        Summary {
            benchmarks: judged.len(),
            regressed: count(CountVerdict::Regressed),
            improved: count(CountVerdict::Improved),
            unchanged: count(CountVerdict::Unchanged),
            not_counted: count(CountVerdict::NotCounted),
        }
    }

    pub fn line(&self) -> String {
        format!(
            "counts: {} regressed, {} improved, {} unchanged, {} left to the time lane (no count that repeats) of {} benchmarks",
            self.regressed, self.improved, self.unchanged, self.not_counted, self.benchmarks
        )
    }
}

pub fn label(verdict: CountVerdict) -> &'static str {
    match verdict {
        CountVerdict::Regressed => "**REGRESSED**",
        CountVerdict::Improved => "improved",
        CountVerdict::Unchanged => "unchanged",
        CountVerdict::NotCounted => "not counted",
    }
}

pub fn markdown(judged: &[CountJudgement], heading: &str) -> String {
    let mut out = format!("### {heading}\n\n{}\n\n", Summary::of(judged).line());
    for (verdict, title) in [
        (CountVerdict::Regressed, "Regressions"),
        (CountVerdict::Improved, "Improvements"),
    ] {
        let rows: Vec<&CountJudgement> = judged.iter().filter(|j| j.verdict == verdict).collect();
        if !rows.is_empty() {
            out.push_str(&format!("#### {title}\n\n{}\n", table(&rows)));
        }
    }
    let all: Vec<&CountJudgement> = judged.iter().collect();
    out.push_str(&format!(
        "<details><summary>Every benchmark</summary>\n\n{}\n</details>\n",
        table(&all)
    ));
    out
}

fn table(rows: &[&CountJudgement]) -> String {
    let mut out = String::from(
        "| benchmark | verdict | count change | every count judged | note |\n|---|---|---|---|---|\n",
    );
    for j in rows {
        let every: Vec<String> = j.changes.iter().map(|c| c.describe()).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            j.id,
            label(j.verdict),
            j.shown_change().map_or("—".into(), |c| c.describe()),
            every.join("; "),
            j.note.as_deref().unwrap_or("")
        ));
    }
    out
}

/// `{"mode": "counts", "summary", "benchmarks": [{id, verdict, count, change_pct, changes}]}`.
pub fn json(judged: &[CountJudgement]) -> String {
    let rows: Vec<serde_json::Value> = judged
        .iter()
        .map(|j| {
            let shown = j.shown_change();
            serde_json::json!({
                "id": j.id,
                "verdict": j.verdict,
                "count": shown.map(|c| c.count.clone()),
                "change_pct": shown.map(|c| 100.0 * c.relative()).filter(|p| p.is_finite()),
                "changes": j.changes,
                "note": j.note,
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "mode": "counts",
        "summary": Summary::of(judged),
        "benchmarks": rows,
    }))
    .expect("serialisable")
}
