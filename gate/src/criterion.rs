//! What Criterion writes, read as typed records: per benchmark `benchmark.json` (its ID),
//! `new/estimates.json` (the latest run's estimates) and `new/sample.json` (how many samples
//! and iterations stand behind them), under one output directory.
//!
//! A directory stands for one run only if it was fresh when the run began: Criterion leaves
//! every earlier benchmark's `new/` in place, so a benchmark filtered out of this run would be
//! read as if it had run. The scripts give every run a `CRITERION_HOME` of its own.

use super::BadInput;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One benchmark's figures from one run, nanoseconds per iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean_ns: f64,
    pub ci_low_ns: f64,
    pub ci_high_ns: f64,
    /// The median of the run's samples (each sample's time over its iterations): what stored
    /// baselines recorded before [`Estimate::fast_ns`] kept.
    pub median_ns: f64,
    /// The mean of the run's three fastest samples (each sample's time over its
    /// iterations): what the pull-request gate compares. A shared host's bursts only ever
    /// slow a sample down, and the fastest samples are the ones no burst reached; measured
    /// here, pairs of processes compared this way scattered a third less than by their
    /// medians. The median where `sample.json` is missing.
    pub fast_ns: f64,
    /// Samples behind the estimates, and iterations in all of them (0 where Criterion's
    /// `sample.json` is missing).
    pub samples: usize,
    pub iterations: f64,
}

/// How many of a run's fastest samples [`Estimate::fast_ns`] averages.
const FASTEST: usize = 3;

#[derive(Deserialize)]
struct BenchmarkFile {
    full_id: String,
}

#[derive(Deserialize)]
struct EstimatesFile {
    mean: PointEstimate,
    median: PointEstimate,
}

#[derive(Deserialize)]
struct SampleFile {
    iters: Vec<f64>,
    times: Vec<f64>,
}

/// The mean time per iteration of the fastest `FASTEST` samples.
fn fastest_mean(sample: &SampleFile) -> Option<f64> {
    let mut per_iteration: Vec<f64> = sample
        .times
        .iter()
        .zip(&sample.iters)
        .filter(|(_, iters)| **iters > 0.0)
        .map(|(time, iters)| time / iters)
        .collect();
    per_iteration.sort_by(f64::total_cmp);
    let fastest = &per_iteration[..per_iteration.len().min(FASTEST)];
    (!fastest.is_empty()).then(|| fastest.iter().sum::<f64>() / fastest.len() as f64)
}

#[derive(Deserialize)]
struct PointEstimate {
    point_estimate: f64,
    confidence_interval: ConfidenceInterval,
}

#[derive(Deserialize)]
struct ConfidenceInterval {
    lower_bound: f64,
    upper_bound: f64,
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
            } else if path.ends_with("new/estimates.json")
                && let Some((id, estimate)) = read_estimate(&path)
            {
                found.insert(id, estimate);
            }
        }
    }
    if found.is_empty() {
        return Err(BadInput::NoResults(dir.into()));
    }
    Ok(found)
}

/// The one benchmark a fresh single-benchmark run wrote under `dir`, if it wrote it.
pub fn read_one(dir: &Path, id: &str) -> Option<Estimate> {
    read_criterion(dir).ok()?.remove(id)
}

fn read_estimate(estimates: &Path) -> Option<(String, Estimate)> {
    let benchmark: BenchmarkFile =
        serde_json::from_slice(&std::fs::read(estimates.with_file_name("benchmark.json")).ok()?)
            .ok()?;
    let figures: EstimatesFile = serde_json::from_slice(&std::fs::read(estimates).ok()?).ok()?;
    let sample: Option<SampleFile> = std::fs::read(estimates.with_file_name("sample.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let fast_ns = sample.as_ref().and_then(fastest_mean);
    let iters = sample.map(|s| s.iters).unwrap_or_default();
    Some((
        benchmark.full_id,
        Estimate {
            mean_ns: figures.mean.point_estimate,
            ci_low_ns: figures.mean.confidence_interval.lower_bound,
            ci_high_ns: figures.mean.confidence_interval.upper_bound,
            median_ns: figures.median.point_estimate,
            fast_ns: fast_ns.unwrap_or(figures.median.point_estimate),
            samples: iters.len(),
            iterations: iters.iter().sum(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_benchmark(root: &Path, id: &str, iters: Option<&[f64]>) {
        let new = root.join(id.replace('/', "_")).join("new");
        std::fs::create_dir_all(&new).unwrap();
        let estimate = r#"{"point_estimate": 100.0,
            "confidence_interval": {"lower_bound": 99.0, "upper_bound": 101.0}}"#;
        std::fs::write(
            new.join("estimates.json"),
            format!(r#"{{"mean": {estimate}, "median": {estimate}}}"#),
        )
        .unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            format!(r#"{{"full_id": "{id}"}}"#),
        )
        .unwrap();
        if let Some(iters) = iters {
            let times: Vec<f64> = iters.iter().map(|i| i * 100.0).collect();
            std::fs::write(
                new.join("sample.json"),
                serde_json::json!({"sampling_mode": "Linear", "iters": iters, "times": times})
                    .to_string(),
            )
            .unwrap();
        }
    }

    #[test]
    fn the_samples_and_iterations_behind_an_estimate_are_counted() {
        let root = std::env::temp_dir().join(format!("costs-criterion-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        write_benchmark(&root, "g/sampled/1", Some(&[2.0, 4.0, 6.0]));
        write_benchmark(&root, "g/unsampled/1", None);
        let found = read_criterion(&root).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        let sampled = found["g/sampled/1"];
        assert_eq!((sampled.samples, sampled.iterations), (3, 12.0));
        let unsampled = found["g/unsampled/1"];
        assert_eq!((unsampled.samples, unsampled.iterations), (0, 0.0));
        assert_eq!(unsampled.fast_ns, unsampled.median_ns);
    }

    #[test]
    fn the_fast_figure_is_the_mean_of_the_three_fastest_samples_per_iteration() {
        // Per iteration: 10, 12, 11, 30 (a burst), 13, 50 (another).
        let sample = SampleFile {
            iters: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            times: vec![10.0, 24.0, 33.0, 120.0, 65.0, 300.0],
        };
        assert_eq!(fastest_mean(&sample), Some(11.0));
        let empty = SampleFile {
            iters: vec![],
            times: vec![],
        };
        assert_eq!(fastest_mean(&empty), None);
    }
}
