//! The report as text for the terminal and as a markdown table.

use super::catalogue::claims;
use super::{Range, Row, Standing, Unit};
use crate::provenance::this_commit;

fn measured_text(row: &Row) -> String {
    row.value.map_or("—".into(), |v| row.unit.format(v))
}

/// A range as the report prints it: `≥ x`, `≤ x`, or `low – high`.
pub fn range_text(range: Range, unit: Unit) -> String {
    match (range.low, range.high) {
        (low, high) if high.is_infinite() => format!("≥ {}", unit.format(low)),
        (low, high) if low <= 0.0 => format!("≤ {}", unit.format(high)),
        (low, high) => format!("{} – {}", unit.format(low), unit.format(high)),
    }
}

/// How many figures were judged, and how many were not and why: the report's first line.
pub fn judged_summary(rows: &[Row]) -> String {
    let count = |pick: fn(&Standing) -> bool| rows.iter().filter(|r| pick(&r.verdict)).count();
    let untrusted = count(|v| matches!(v, Standing::NotTrusted { .. }));
    let missing = count(|v| matches!(v, Standing::NotMeasured { .. }));
    format!(
        "{} of {} figures judged, each on a measuring run of this build ({}); {untrusted} not \
         judged (a test or profile run, another commit, a short or partial run, or no record \
         of the run), {missing} not measured",
        rows.len() - untrusted - missing,
        rows.len(),
        this_commit()
    )
}

/// The report as a markdown table.
pub fn markdown(rows: &[Row], machine: &str) -> String {
    let mut out = format!(
        "Measured on: {machine}\n\n{}.\n\n| claim | the documents | measured | range read | here | from | verdict | behind it |\n|---|---|---|---|---|---|---|---|\n",
        judged_summary(rows)
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | `{}` | {} | {} |\n",
            row.claim,
            row.docs,
            row.label,
            range_text(row.range, row.unit),
            measured_text(row),
            row.source,
            row.verdict.describe(),
            row.behind
        ));
    }
    let claims = claims();
    let readings: Vec<String> = claims
        .iter()
        .flat_map(|claim| {
            let own = claim
                .reading
                .iter()
                .map(|r| format!("- {}: {r}.", claim.id));
            let figures = claim.figures.iter().filter_map(|f| {
                let r = f.reading.as_ref()?;
                Some(format!("- {}, {}: {r}.", claim.id, f.label))
            });
            own.chain(figures).collect::<Vec<_>>()
        })
        .collect();
    if !readings.is_empty() {
        out.push_str("\nHow some ranges were read from the documents' words:\n");
        for reading in readings {
            out.push_str(&format!("\n{reading}"));
        }
        out.push('\n');
    }
    for claim in &claims {
        if let Some(beyond) = &claim.beyond_this_machine {
            out.push_str(&format!("\n- {}: {beyond}.", claim.id));
        }
    }
    out.push('\n');
    out
}

/// The report as a plain-text table for the terminal.
pub fn text(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<5} {:<52} {:>14} {:>26}  verdict\n",
        "claim", "measured", "here", "range read"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<5} {:<52} {:>14} {:>26}  {}\n",
            row.claim,
            row.label,
            measured_text(row),
            range_text(row.range, row.unit),
            row.verdict.describe()
        ));
    }
    out
}
