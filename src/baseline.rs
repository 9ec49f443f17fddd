//! Stored baselines and the regression decision. A baseline is one JSON file per machine
//! holding, per benchmark ID, the latest recorded mean with its confidence interval and the
//! means of the last runs, from which the noise of each benchmark on that machine is learned.
//!
//! A run is compared with the median of the recorded means. A change counts as a regression
//! only when it exceeds the threshold, *and* the fences learned from that benchmark's own
//! history (rustc-perf's interquartile fence over its past run-to-run changes, and twice the
//! widest recorded deviation from the median), *and* the run's confidence interval lies above
//! every recorded mean. Criterion's own comparison exits 0 on a regression; this is the part
//! that can fail a job.

use crate::environment::Environment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The schema this build reads and writes.
pub const SCHEMA: u32 = 2;
/// Recorded runs whose means are kept per benchmark.
pub const HISTORY: usize = 10;
/// Fewer past changes than this and the fence is not trusted: the threshold alone applies.
const MIN_CHANGES_FOR_FENCE: usize = 4;
/// How far beyond the widest recorded deviation a change must go; see [`spread_fence`].
const SPREAD_FACTOR: f64 = 2.0;

/// What identifies a machine for comparison: numbers from another are not comparable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu_model: String,
    /// Family, model and stepping: the model name alone can hide a change of host CPU.
    pub cpu_id: String,
    pub cpus: usize,
    /// Kernel major.minor.
    pub kernel: String,
    pub virtualised: bool,
}

impl Machine {
    pub fn of(env: &Environment) -> Machine {
        let kernel = env.kernel.split('.').take(2).collect::<Vec<_>>().join(".");
        Machine {
            cpu_model: env.cpu_model.clone(),
            cpu_id: env.cpu_id.clone(),
            cpus: env.cpus_online,
            kernel,
            virtualised: env.virtualised,
        }
    }

    /// The default baseline name: a slug of the fingerprint.
    pub fn slug(&self) -> String {
        let raw = format!(
            "{}-{}-{}cpu-linux{}{}",
            self.cpu_model,
            self.cpu_id,
            self.cpus,
            self.kernel,
            if self.virtualised { "-vm" } else { "" }
        );
        let mut slug = String::new();
        for c in raw.to_lowercase().chars() {
            let c = if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            };
            if !(c == '-' && slug.ends_with('-')) {
                slug.push(c);
            }
        }
        slug.trim_matches('-').to_string()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub commit: String,
    pub date: String,
}

/// One benchmark's stored figures, nanoseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub mean_ns: f64,
    pub ci_low_ns: f64,
    pub ci_high_ns: f64,
    /// Means of the last recorded runs, oldest first.
    pub history_ns: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub schema: u32,
    pub machine: Machine,
    pub toolchain: BTreeMap<String, String>,
    pub recorded: Vec<Recorded>,
    pub benchmarks: BTreeMap<String, Entry>,
}

/// One benchmark's latest result, as Criterion estimated it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean_ns: f64,
    pub ci_low_ns: f64,
    pub ci_high_ns: f64,
}

/// What can be wrong with the input; every variant is a one-line message and exit status 2.
#[derive(Debug)]
pub enum BadInput {
    Missing(PathBuf),
    Unreadable(PathBuf, std::io::Error),
    Unwritable(PathBuf, std::io::Error),
    Corrupt(PathBuf, serde_json::Error),
    UnknownSchema(PathBuf, u32),
    Empty(PathBuf),
    NoResults(PathBuf),
    /// Benchmarks of the baseline with no result in this run: renamed, removed or not run.
    NotRun {
        path: PathBuf,
        ids: Vec<String>,
        regressed: usize,
    },
    OtherMachine {
        path: PathBuf,
        stored: String,
        here: String,
    },
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadInput::Missing(p) => write!(
                f,
                "{}: no such baseline; record one with `costs record`",
                p.display()
            ),
            BadInput::Unreadable(p, e) => write!(f, "{}: cannot read it: {e}", p.display()),
            BadInput::Unwritable(p, e) => write!(
                f,
                "{}: cannot write it: {e}; nothing was changed",
                p.display()
            ),
            BadInput::Corrupt(p, e) => write!(
                f,
                "{}: not valid baseline JSON ({e}); restore it from git",
                p.display()
            ),
            BadInput::UnknownSchema(p, s) => write!(
                f,
                "{}: schema {s}, this build reads schema {SCHEMA}; use the build that wrote it or record anew",
                p.display()
            ),
            BadInput::Empty(p) => write!(
                f,
                "{}: holds no benchmarks; record some with `costs record`",
                p.display()
            ),
            BadInput::NoResults(p) => write!(
                f,
                "{}: no Criterion results found; run `cargo bench` first",
                p.display()
            ),
            BadInput::NotRun {
                path,
                ids,
                regressed,
            } => write!(
                f,
                "{}: {} of its benchmarks have no result in this run (first: {}), so it cannot vouch for them{}; run the whole suite, or if they were renamed or removed (their IDs are public), re-record the baseline, or pass --allow-missing",
                path.display(),
                ids.len(),
                ids.first().map_or("", String::as_str),
                match regressed {
                    0 => String::new(),
                    n => format!(", and {n} of the rest regressed"),
                }
            ),
            BadInput::OtherMachine { path, stored, here } => write!(
                f,
                "{}: recorded on {stored}, this is {here}; compare on the same machine or pass --allow-other-machine",
                path.display()
            ),
        }
    }
}

impl std::error::Error for BadInput {}

/// Reads a baseline, refusing anything this build cannot trust.
pub fn load(path: &Path) -> Result<Baseline, BadInput> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BadInput::Missing(path.into()),
        _ => BadInput::Unreadable(path.into(), e),
    })?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| BadInput::Corrupt(path.into(), e))?;
    let schema = value.get("schema").and_then(|s| s.as_u64()).unwrap_or(0) as u32;
    if schema != SCHEMA {
        return Err(BadInput::UnknownSchema(path.into(), schema));
    }
    let baseline: Baseline =
        serde_json::from_value(value).map_err(|e| BadInput::Corrupt(path.into(), e))?;
    if baseline.benchmarks.is_empty() {
        return Err(BadInput::Empty(path.into()));
    }
    Ok(baseline)
}

/// Writes `baseline` to `path` through a temporary file renamed over it: a failed write never
/// destroys the old file.
pub fn save(path: &Path, baseline: &Baseline) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(baseline).map_err(std::io::Error::other)?;
    write_atomically(path, &json)
}

/// Writes `bytes` to `path` through a temporary file in the same directory renamed over it,
/// so that a reader never sees half a file and a failed write leaves the old one intact.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Every benchmark's latest estimate under Criterion's output directory, keyed by ID.
pub fn read_criterion(dir: &Path) -> Result<BTreeMap<String, Estimate>, BadInput> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.ends_with("new/estimates.json") {
                if let Some((id, estimate)) = read_estimate(&path) {
                    found.insert(id, estimate);
                }
            }
        }
    }
    if found.is_empty() {
        return Err(BadInput::NoResults(dir.into()));
    }
    Ok(found)
}

fn read_estimate(estimates: &Path) -> Option<(String, Estimate)> {
    let benchmark: serde_json::Value =
        serde_json::from_slice(&std::fs::read(estimates.with_file_name("benchmark.json")).ok()?)
            .ok()?;
    let estimate: serde_json::Value =
        serde_json::from_slice(&std::fs::read(estimates).ok()?).ok()?;
    let mean = estimate.get("mean")?;
    let ci = mean.get("confidence_interval")?;
    Some((
        benchmark.get("full_id")?.as_str()?.to_string(),
        Estimate {
            mean_ns: mean.get("point_estimate")?.as_f64()?,
            ci_low_ns: ci.get("lower_bound")?.as_f64()?,
            ci_high_ns: ci.get("upper_bound")?.as_f64()?,
        },
    ))
}

/// Merges a run into a baseline (or starts one): latest figures replace the old, and the
/// mean joins each benchmark's history.
pub fn record(
    previous: Option<Baseline>,
    results: &BTreeMap<String, Estimate>,
    env: &Environment,
    date: &str,
) -> Baseline {
    let mut baseline = previous.unwrap_or_else(|| Baseline {
        schema: SCHEMA,
        machine: Machine::of(env),
        toolchain: BTreeMap::new(),
        recorded: Vec::new(),
        benchmarks: BTreeMap::new(),
    });
    baseline.toolchain.insert("rustc".into(), env.rustc.clone());
    baseline.recorded.push(Recorded {
        commit: env.commit.clone(),
        date: date.to_string(),
    });
    for (id, now) in results {
        let entry = baseline
            .benchmarks
            .entry(id.clone())
            .or_insert_with(|| Entry {
                mean_ns: now.mean_ns,
                ci_low_ns: now.ci_low_ns,
                ci_high_ns: now.ci_high_ns,
                history_ns: Vec::new(),
            });
        entry.mean_ns = now.mean_ns;
        entry.ci_low_ns = now.ci_low_ns;
        entry.ci_high_ns = now.ci_high_ns;
        entry.history_ns.push(now.mean_ns);
        let excess = entry.history_ns.len().saturating_sub(HISTORY);
        entry.history_ns.drain(..excess);
    }
    baseline
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Improved,
    Unchanged,
    Regressed,
    New,
    Missing,
}

/// The decision for one benchmark, with what it rests on.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub id: String,
    pub verdict: Verdict,
    /// Relative change of the mean, e.g. 0.2 for 20% slower.
    pub change: Option<f64>,
    /// The smallest relative change this benchmark can be gated on here: the larger of the
    /// threshold and its learned noise fence.
    pub gate: f64,
}

/// rustc-perf's fence: Q3 + 1.5 × IQR of the absolute relative changes between consecutive
/// recorded means; `None` while there is too little history to learn from.
pub fn noise_fence(history: &[f64]) -> Option<f64> {
    let mut changes: Vec<f64> = history
        .windows(2)
        .filter(|w| w[0] > 0.0)
        .map(|w| (w[1] / w[0] - 1.0).abs())
        .collect();
    if changes.len() < MIN_CHANGES_FOR_FENCE {
        return None;
    }
    changes.sort_by(f64::total_cmp);
    let quartile = |q: f64| {
        let pos = q * (changes.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        changes[lo] + (changes[hi] - changes[lo]) * (pos - lo as f64)
    };
    let (q1, q3) = (quartile(0.25), quartile(0.75));
    Some(q3 + 1.5 * (q3 - q1))
}

/// What a run is compared with: the median of the recorded means. One slow or fast recorded
/// run (a busy host, a lucky boot) moves the median little and the latest mean a lot.
pub fn reference(stored: &Entry) -> f64 {
    let mut means: Vec<f64> = stored
        .history_ns
        .iter()
        .copied()
        .filter(|m| *m > 0.0)
        .collect();
    if means.is_empty() {
        return stored.mean_ns;
    }
    means.sort_by(f64::total_cmp);
    let mid = means.len() / 2;
    if means.len() % 2 == 1 {
        means[mid]
    } else {
        (means[mid - 1] + means[mid]) / 2.0
    }
}

/// Twice the widest deviation of a recorded mean from the median. The interquartile fence
/// needs many runs to see a benchmark's tail; on a shared 2-vCPU VM one run in five can land
/// 40% off, and a handful of runs shows the width of the spread before it shows its shape.
pub fn spread_fence(stored: &Entry) -> Option<f64> {
    if stored.history_ns.len() < 2 {
        return None;
    }
    let median = reference(stored);
    let widest = stored
        .history_ns
        .iter()
        .map(|m| (m / median - 1.0).abs())
        .fold(0.0, f64::max);
    Some(SPREAD_FACTOR * widest)
}

/// The smallest relative change `stored` can be gated on: the threshold, or wider where the
/// benchmark's own history says it is noisier than that.
pub fn gate(stored: &Entry, threshold: f64) -> f64 {
    [
        Some(threshold),
        noise_fence(&stored.history_ns),
        spread_fence(stored),
    ]
    .into_iter()
    .flatten()
    .fold(f64::NEG_INFINITY, f64::max)
}

/// The span a new run must clear to be called different: every recorded mean and the latest
/// recorded confidence interval.
fn recorded_span(stored: &Entry) -> (f64, f64) {
    stored
        .history_ns
        .iter()
        .fold((stored.ci_low_ns, stored.ci_high_ns), |(lo, hi), m| {
            (lo.min(*m), hi.max(*m))
        })
}

/// Several recorded runs as one result: the median of their means, and the span of those
/// means as its interval. Used to compare interleaved runs of two commits, where a run's own
/// confidence interval says nothing of the minutes-long slow spells of a shared host.
pub fn runs_as_estimates(runs: &Baseline) -> BTreeMap<String, Estimate> {
    runs.benchmarks
        .iter()
        .map(|(id, entry)| {
            let (lowest, highest) = entry
                .history_ns
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), m| {
                    (lo.min(*m), hi.max(*m))
                });
            let estimate = if entry.history_ns.is_empty() {
                Estimate {
                    mean_ns: entry.mean_ns,
                    ci_low_ns: entry.ci_low_ns,
                    ci_high_ns: entry.ci_high_ns,
                }
            } else {
                Estimate {
                    mean_ns: reference(entry),
                    ci_low_ns: lowest,
                    ci_high_ns: highest,
                }
            };
            (id.clone(), estimate)
        })
        .collect()
}

/// Decides one benchmark present in the baseline and in this run.
pub fn decide(id: &str, stored: &Entry, now: &Estimate, threshold: f64) -> Decision {
    let gate = gate(stored, threshold);
    let change = now.mean_ns / reference(stored) - 1.0;
    let (lowest, highest) = recorded_span(stored);
    let separated_up = now.ci_low_ns > highest;
    let separated_down = now.ci_high_ns < lowest;
    let verdict = if change > gate && separated_up {
        Verdict::Regressed
    } else if -change > gate && separated_down {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    Decision {
        id: id.to_string(),
        verdict,
        change: Some(change),
        gate,
    }
}

/// Decides every benchmark of the baseline and of the run.
pub fn compare(
    baseline: &Baseline,
    results: &BTreeMap<String, Estimate>,
    threshold: f64,
) -> Vec<Decision> {
    let mut decisions: Vec<Decision> = baseline
        .benchmarks
        .iter()
        .map(|(id, stored)| match results.get(id) {
            Some(now) => decide(id, stored, now, threshold),
            None => Decision {
                id: id.clone(),
                verdict: Verdict::Missing,
                change: None,
                gate: gate(stored, threshold),
            },
        })
        .collect();
    decisions.extend(
        results
            .keys()
            .filter(|id| !baseline.benchmarks.contains_key(*id))
            .map(|id| Decision {
                id: id.clone(),
                verdict: Verdict::New,
                change: None,
                gate: threshold,
            }),
    );
    decisions
}

/// Formats for handing results to other tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Bencher Metric Format: `{id: {"latency": {value, lower_value, upper_value}}}`, ns.
    Bmf,
    /// github-action-benchmark's `customSmallerIsBetter`: `[{name, unit, value, range}]`.
    GithubActionBenchmark,
    /// A markdown table for a job summary or a PR comment.
    Markdown,
}

/// Renders results in `format`.
pub fn export(results: &BTreeMap<String, Estimate>, format: ExportFormat) -> String {
    match format {
        ExportFormat::Bmf => {
            let bmf: BTreeMap<&String, serde_json::Value> = results
                .iter()
                .map(|(id, e)| {
                    let latency = serde_json::json!({
                        "value": e.mean_ns, "lower_value": e.ci_low_ns, "upper_value": e.ci_high_ns
                    });
                    (id, serde_json::json!({ "latency": latency }))
                })
                .collect();
            serde_json::to_string_pretty(&bmf).expect("serialisable")
        }
        ExportFormat::GithubActionBenchmark => {
            let entries: Vec<serde_json::Value> = results
                .iter()
                .map(|(id, e)| {
                    let range = (e.ci_high_ns - e.ci_low_ns) / 2.0;
                    serde_json::json!({
                        "name": id, "unit": "ns", "value": e.mean_ns, "range": format!("± {range:.3}")
                    })
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

/// A duration in nanoseconds, in the unit that reads best.
pub fn human_ns(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(mean: f64, half_ci: f64, history: &[f64]) -> Entry {
        Entry {
            mean_ns: mean,
            ci_low_ns: mean - half_ci,
            ci_high_ns: mean + half_ci,
            history_ns: history.to_vec(),
        }
    }

    fn estimate(mean: f64, half_ci: f64) -> Estimate {
        Estimate {
            mean_ns: mean,
            ci_low_ns: mean - half_ci,
            ci_high_ns: mean + half_ci,
        }
    }

    const QUIET: [f64; 6] = [100.0, 101.0, 100.0, 99.0, 100.0, 101.0];
    const NOISY: [f64; 6] = [100.0, 130.0, 95.0, 125.0, 90.0, 120.0];

    #[test]
    fn a_clear_slowdown_beyond_threshold_and_fence_is_a_regression() {
        let d = decide("a", &entry(100.0, 1.0, &QUIET), &estimate(120.0, 1.0), 0.05);
        assert_eq!(d.verdict, Verdict::Regressed);
        assert!((d.change.unwrap() - 0.2).abs() < 1e-9);
    }

    #[test]
    fn a_slowdown_inside_a_noisy_benchmarks_fence_is_not() {
        let d = decide("a", &entry(100.0, 1.0, &NOISY), &estimate(120.0, 1.0), 0.05);
        assert_eq!(d.verdict, Verdict::Unchanged);
        assert!(
            d.gate > 0.2,
            "the fence learned from the history: {}",
            d.gate
        );
    }

    #[test]
    fn overlapping_confidence_intervals_are_not_a_regression() {
        let d = decide(
            "a",
            &entry(100.0, 15.0, &QUIET),
            &estimate(120.0, 15.0),
            0.05,
        );
        assert_eq!(d.verdict, Verdict::Unchanged);
    }

    #[test]
    fn a_clear_speed_up_is_an_improvement() {
        let d = decide("a", &entry(100.0, 1.0, &QUIET), &estimate(70.0, 1.0), 0.05);
        assert_eq!(d.verdict, Verdict::Improved);
    }

    #[test]
    fn the_threshold_alone_applies_until_there_is_history() {
        assert_eq!(noise_fence(&[100.0, 150.0]), None);
        let d = decide(
            "a",
            &entry(100.0, 1.0, &[100.0]),
            &estimate(104.0, 1.0),
            0.05,
        );
        assert_eq!((d.verdict, d.gate), (Verdict::Unchanged, 0.05));
    }

    #[test]
    fn a_run_is_compared_with_the_median_not_the_latest_recorded_run() {
        let lucky_last = [100.0, 101.0, 99.0, 100.0, 80.0];
        let stored = entry(80.0, 1.0, &lucky_last);
        assert_eq!(reference(&stored), 100.0);
        let d = decide("a", &stored, &estimate(100.0, 1.0), 0.05);
        assert_eq!(d.verdict, Verdict::Unchanged);
        assert!(d.change.unwrap().abs() < 1e-9);
    }

    #[test]
    fn one_wide_recorded_run_widens_the_gate_to_twice_its_deviation() {
        let one_slow_run = [100.0, 100.0, 140.0, 100.0, 100.0];
        let stored = entry(100.0, 1.0, &one_slow_run);
        let d = decide("a", &stored, &estimate(150.0, 1.0), 0.05);
        assert_eq!(d.verdict, Verdict::Unchanged);
        assert!((d.gate - 0.8).abs() < 1e-9, "gate {}", d.gate);
        let d = decide("a", &stored, &estimate(200.0, 1.0), 0.05);
        assert_eq!(d.verdict, Verdict::Regressed);
    }

    #[test]
    fn interleaved_runs_count_as_their_median_within_their_span() {
        let env = Environment::capture();
        let mut runs = None;
        for mean in [120.0, 100.0, 110.0] {
            let results = BTreeMap::from([("a".to_string(), estimate(mean, 1.0))]);
            runs = Some(record(runs, &results, &env, "2026-11-23"));
        }
        let summary = runs_as_estimates(&runs.unwrap());
        assert_eq!(
            summary["a"],
            Estimate {
                mean_ns: 110.0,
                ci_low_ns: 100.0,
                ci_high_ns: 120.0
            }
        );
    }

    #[test]
    fn new_and_missing_benchmarks_are_named() {
        let env = Environment::capture();
        let mut results = BTreeMap::new();
        results.insert("kept".to_string(), estimate(100.0, 1.0));
        results.insert("gone".to_string(), estimate(100.0, 1.0));
        let baseline = record(None, &results, &env, "2026-11-22");
        results.remove("gone");
        results.insert("added".to_string(), estimate(100.0, 1.0));
        let verdicts: BTreeMap<String, Verdict> = compare(&baseline, &results, 0.05)
            .into_iter()
            .map(|d| (d.id, d.verdict))
            .collect();
        assert_eq!(verdicts["kept"], Verdict::Unchanged);
        assert_eq!(verdicts["gone"], Verdict::Missing);
        assert_eq!(verdicts["added"], Verdict::New);
    }

    #[test]
    fn recording_keeps_only_the_last_runs_in_history() {
        let env = Environment::capture();
        let mut baseline = None;
        for i in 0..(HISTORY + 3) {
            let results = BTreeMap::from([("a".to_string(), estimate(100.0 + i as f64, 1.0))]);
            baseline = Some(record(baseline, &results, &env, "2026-11-22"));
        }
        let baseline = baseline.unwrap();
        let history = &baseline.benchmarks["a"].history_ns;
        assert_eq!(history.len(), HISTORY);
        assert_eq!(*history.last().unwrap(), 100.0 + (HISTORY + 2) as f64);
        assert_eq!(baseline.recorded.len(), HISTORY + 3);
    }

    #[test]
    fn bad_baselines_are_refused_with_a_reason_and_left_untouched() {
        let dir = std::env::temp_dir().join(format!("costs-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases = [
            (
                "truncated.json",
                "{\"schema\": 1, \"machine\": {",
                "not valid baseline JSON",
            ),
            ("future.json", "{\"schema\": 9}", "schema 9"),
            ("older.json", "{\"schema\": 1}", "schema 1"),
            (
                "empty.json",
                r#"{"schema":2,"machine":{"cpu_model":"x","cpu_id":"f1m2s3","cpus":2,"kernel":"6.18","virtualised":true},"toolchain":{},"recorded":[],"benchmarks":{}}"#,
                "holds no benchmarks",
            ),
        ];
        for (name, text, says) in cases {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            let err = load(&path).unwrap_err().to_string();
            assert!(err.contains(says) && !err.contains('\n'), "{name}: {err}");
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                text,
                "{name} was changed"
            );
        }
        assert!(
            load(&dir.join("absent.json"))
                .unwrap_err()
                .to_string()
                .contains("no such baseline")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn saving_is_atomic_and_round_trips() {
        let dir = std::env::temp_dir().join(format!("costs-save-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("machine.json");
        let results = BTreeMap::from([("a".to_string(), estimate(100.0, 1.0))]);
        let baseline = record(None, &results, &Environment::capture(), "2026-11-22");
        save(&path, &baseline).unwrap();
        assert_eq!(load(&path).unwrap(), baseline);
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "a temporary file was left behind");
        // A write that cannot happen leaves the old file as it was.
        assert!(save(&dir.join("no-such-dir").join("x.json"), &baseline).is_err());
        assert_eq!(load(&path).unwrap(), baseline);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn exports_parse_as_the_formats_other_tools_read() {
        let results = BTreeMap::from([("g/f/1".to_string(), estimate(1500.0, 10.0))]);
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

    #[test]
    fn the_machine_slug_is_a_safe_file_name() {
        let machine = Machine {
            cpu_model: "AMD EPYC 7B13 64-Core Processor".into(),
            cpu_id: "f25m1s1".into(),
            cpus: 2,
            kernel: "6.18".into(),
            virtualised: true,
        };
        assert_eq!(
            machine.slug(),
            "amd-epyc-7b13-64-core-processor-f25m1s1-2cpu-linux6.18-vm"
        );
    }
}
