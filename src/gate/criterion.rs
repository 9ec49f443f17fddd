//! What Criterion writes, read as typed records: per benchmark `benchmark.json` (its ID) and
//! `new/estimates.json` (the latest run's estimates), under one output directory.
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
    /// The median of the run's samples (each sample's time over its iterations): what the
    /// gate compares, being untouched by a few preempted samples.
    pub median_ns: f64,
}

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
    Some((
        benchmark.full_id,
        Estimate {
            mean_ns: figures.mean.point_estimate,
            ci_low_ns: figures.mean.confidence_interval.lower_bound,
            ci_high_ns: figures.mean.confidence_interval.upper_bound,
            median_ns: figures.median.point_estimate,
        },
    ))
}
