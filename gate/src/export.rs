//! Results handed to other tools: Bencher Metric Format, github-action-benchmark's
//! `customSmallerIsBetter`, or a markdown table.

use super::criterion::Estimate;
use crate::units::human_ns;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Bencher Metric Format: `{id: {"latency": {value, lower_value, upper_value}}}`, ns.
    Bmf,
    /// github-action-benchmark's `customSmallerIsBetter`: `[{name, unit, value, range}]`.
    GithubActionBenchmark,
    /// A markdown table for a job summary or a PR comment.
    Markdown,
}

#[derive(Serialize)]
struct BmfMetric {
    value: f64,
    lower_value: f64,
    upper_value: f64,
}

#[derive(Serialize)]
struct BmfEntry {
    latency: BmfMetric,
}

#[derive(Serialize)]
struct GabEntry<'a> {
    name: &'a str,
    unit: &'static str,
    value: f64,
    range: String,
}

/// Renders results in `format`.
pub fn export(results: &BTreeMap<String, Estimate>, format: ExportFormat) -> String {
    match format {
        ExportFormat::Bmf => {
            let bmf: BTreeMap<&String, BmfEntry> = results
                .iter()
                .map(|(id, e)| {
                    let latency = BmfMetric {
                        value: e.mean_ns,
                        lower_value: e.ci_low_ns,
                        upper_value: e.ci_high_ns,
                    };
                    (id, BmfEntry { latency })
                })
                .collect();
            serde_json::to_string_pretty(&bmf).expect("serialisable")
        }
        ExportFormat::GithubActionBenchmark => {
            let entries: Vec<GabEntry> = results
                .iter()
                .map(|(id, e)| GabEntry {
                    name: id,
                    unit: "ns",
                    value: e.mean_ns,
                    range: format!("± {:.3}", (e.ci_high_ns - e.ci_low_ns) / 2.0),
                })
                .collect();
            serde_json::to_string_pretty(&entries).expect("serialisable")
        }
        ExportFormat::Markdown => {
            let mut out = String::from("| benchmark | mean | 95% CI |\n|---|---|---|\n");
            for (id, e) in results {
                out.push_str(&format!(
                    "| `{id}` | {} | {} – {} |\n",
                    human_ns(e.mean_ns),
                    human_ns(e.ci_low_ns),
                    human_ns(e.ci_high_ns)
                ));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_parse_as_the_formats_other_tools_read() {
        let e = Estimate {
            mean_ns: 1500.0,
            ci_low_ns: 1490.0,
            ci_high_ns: 1510.0,
            median_ns: 1500.0,
            fast_ns: 1490.0,
            samples: 100,
            iterations: 5050.0,
        };
        let results = BTreeMap::from([("g/f/1".to_string(), e)]);
        let bmf: serde_json::Value =
            serde_json::from_str(&export(&results, ExportFormat::Bmf)).unwrap();
        assert_eq!(bmf["g/f/1"]["latency"]["value"], 1500.0);
        assert_eq!(bmf["g/f/1"]["latency"]["lower_value"], 1490.0);
        let gab: serde_json::Value =
            serde_json::from_str(&export(&results, ExportFormat::GithubActionBenchmark)).unwrap();
        assert_eq!(
            (gab[0]["name"].as_str(), gab[0]["unit"].as_str()),
            (Some("g/f/1"), Some("ns"))
        );
        assert_eq!(gab[0]["value"], 1500.0);
        let markdown = export(&results, ExportFormat::Markdown);
        assert!(
            markdown.contains("| `g/f/1` | 1.50 µs | 1.49 µs – 1.51 µs |"),
            "{markdown}"
        );
    }
}
