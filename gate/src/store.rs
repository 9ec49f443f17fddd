//! Stored baselines: one JSON file per machine, `baselines/<name>.json`, holding several runs
//! of **one commit** (per benchmark, one figure per run). Recording a run of another commit
//! starts a new set and keeps only a summary of the old one, so the noise the gate learns is
//! never mixed with real changes of the measured code.

use super::BadInput;
use super::criterion::Estimate;
use crate::host::{self, Build};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The schema this build reads and writes.
pub const SCHEMA: u32 = 3;
/// How long `record` waits for another `record` of the same baseline to finish.
const LOCK_WAIT: Duration = Duration::from_secs(30);

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
    /// This machine.
    pub fn here() -> Machine {
        let cpuinfo = host::cpuinfo();
        let release = host::kernel_release();
        Machine {
            cpu_model: host::cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cpu_id: host::cpu_id(&cpuinfo),
            cpus: host::cpus_online(),
            kernel: release.split('.').take(2).collect::<Vec<_>>().join("."),
            virtualised: host::virtualised(&cpuinfo),
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

/// One recorded run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub date: String,
}

/// Which figure of a run a baseline keeps per benchmark, ns per iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// The median of the run's samples: what sets recorded before `fastest` hold.
    #[default]
    Median,
    /// The mean of the run's three fastest samples ([`Estimate::fast_ns`]), which a shared
    /// host's bursts reach least.
    Fastest,
}

impl Figure {
    pub fn of(self, estimate: &Estimate) -> f64 {
        match self {
            Figure::Median => estimate.median_ns,
            Figure::Fastest => estimate.fast_ns,
        }
    }
}

/// One benchmark's figures: per recorded run, the set's [`Figure`] of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub runs_ns: Vec<f64>,
}

/// What is kept of a set when a new commit starts the next one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub commit: String,
    pub runs: usize,
    /// Per benchmark, the median over the set's runs.
    pub medians_ns: BTreeMap<String, f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub schema: u32,
    pub machine: Machine,
    pub toolchain: BTreeMap<String, String>,
    /// The commit every run of this set measured.
    pub commit: String,
    /// Which figure of each run the set keeps; a check reads its own runs the same way.
    #[serde(default)]
    pub figure: Figure,
    pub recorded: Vec<Recorded>,
    pub benchmarks: BTreeMap<String, Entry>,
    /// The set before this one, if a newer commit replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Summary>,
}

impl Baseline {
    fn summary(&self) -> Summary {
        Summary {
            commit: self.commit.clone(),
            runs: self.recorded.len(),
            medians_ns: self
                .benchmarks
                .iter()
                .filter_map(|(id, e)| Some((id.clone(), super::stats::median(&e.runs_ns)?)))
                .collect(),
        }
    }
}

/// A baseline name must be a plain file name: lower-case letters, digits, `.`, `_`, `-`.
pub fn check_name(name: &str) -> Result<(), BadInput> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if plain {
        Ok(())
    } else {
        Err(BadInput::BadName(name.to_string()))
    }
}

/// `<dir>/<name>.json`, once the name is known to be plain.
pub fn path(dir: &Path, name: &str) -> Result<PathBuf, BadInput> {
    check_name(name)?;
    Ok(dir.join(format!("{name}.json")))
}

/// Reads a baseline, refusing anything this build cannot trust.
pub fn load(path: &Path) -> Result<Baseline, BadInput> {
    #[derive(Deserialize)]
    struct Versioned {
        #[serde(default)]
        schema: u32,
    }
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BadInput::Missing(path.into()),
        _ => BadInput::Unreadable(path.into(), e),
    })?;
    let versioned: Versioned =
        serde_json::from_slice(&bytes).map_err(|e| BadInput::Corrupt(path.into(), e))?;
    if versioned.schema != SCHEMA {
        return Err(BadInput::UnknownSchema(path.into(), versioned.schema));
    }
    let baseline: Baseline =
        serde_json::from_slice(&bytes).map_err(|e| BadInput::Corrupt(path.into(), e))?;
    if baseline.benchmarks.is_empty() {
        return Err(BadInput::Empty(path.into()));
    }
    Ok(baseline)
}

/// Writes `baseline` to `path` whole or not at all.
pub fn save(path: &Path, baseline: &Baseline) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(baseline).map_err(std::io::Error::other)?;
    crate::durable::write_atomically(path, &json)
}

/// Merges one run into a baseline, or starts one. A run of another commit than the stored
/// set's starts a new set (the old one kept as a summary); a run of another machine is
/// refused, as is a build from a tree with uncommitted changes unless `allow_dirty`.
pub fn record(
    previous: Option<Baseline>,
    results: &BTreeMap<String, Estimate>,
    build: &Build,
    date: &str,
) -> Result<Baseline, BadInput> {
    let here = Machine::here();
    let mut baseline = match previous {
        Some(old) if old.machine != here => {
            return Err(BadInput::OtherMachine {
                path: PathBuf::new(),
                stored: old.machine.slug(),
                here: here.slug(),
            });
        }
        Some(old) if old.commit == build.commit => old,
        other => Baseline {
            schema: SCHEMA,
            machine: here,
            toolchain: BTreeMap::new(),
            commit: build.commit.clone(),
            figure: Figure::Fastest,
            recorded: Vec::new(),
            benchmarks: BTreeMap::new(),
            previous: other.map(|old| old.summary()),
        },
    };
    baseline
        .toolchain
        .insert("rustc".into(), build.rustc.clone());
    baseline.recorded.push(Recorded { date: date.into() });
    for (id, now) in results {
        let entry = baseline.benchmarks.entry(id.clone()).or_default();
        entry.runs_ns.push(baseline.figure.of(now));
    }
    Ok(baseline)
}

/// An exclusive hold on a baseline against a concurrent `record`, released on drop.
pub struct Lock(#[allow(dead_code)] Flock<std::fs::File>);

/// Takes the lock of the baselines' directory (the one `path` is in), waiting at most 30 s
/// for another holder. The directory itself is locked, not a file beside the baseline: a
/// lock file would be left in the user's tree by every record.
pub fn lock(path: &Path) -> Result<Lock, BadInput> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        let handle = std::fs::File::open(dir).map_err(|e| BadInput::Unwritable(dir.into(), e))?;
        match Flock::lock(handle, FlockArg::LockExclusiveNonblock) {
            Ok(held) => return Ok(Lock(held)),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err((_, errno)) => {
                return Err(BadInput::Busy(
                    path.into(),
                    format!("another `costs record` holds it ({errno}) for over {LOCK_WAIT:?}"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(median: f64) -> Estimate {
        Estimate {
            mean_ns: median,
            ci_low_ns: median - 1.0,
            ci_high_ns: median + 1.0,
            median_ns: median,
            fast_ns: median,
            samples: 10,
            iterations: 55.0,
        }
    }

    fn env(commit: &str) -> Build {
        Build {
            commit: commit.into(),
            rustc: "rustc 1.95.0".into(),
        }
    }

    fn run(values: &[(&str, f64)]) -> BTreeMap<String, Estimate> {
        values
            .iter()
            .map(|(id, v)| (id.to_string(), estimate(*v)))
            .collect()
    }

    #[test]
    fn runs_of_one_commit_accumulate_and_a_new_commit_starts_a_new_set() {
        let mut baseline = None;
        for v in [100.0, 102.0, 98.0] {
            baseline = Some(record(baseline, &run(&[("a", v)]), &env("c1"), "d").unwrap());
        }
        let first = baseline.clone().unwrap();
        assert_eq!(first.benchmarks["a"].runs_ns, vec![100.0, 102.0, 98.0]);
        assert_eq!(first.recorded.len(), 3);

        let second = record(baseline, &run(&[("a", 150.0)]), &env("c2"), "d").unwrap();
        assert_eq!(second.commit, "c2");
        assert_eq!(second.benchmarks["a"].runs_ns, vec![150.0]);
        assert_eq!(second.recorded.len(), 1);
        let previous = second.previous.unwrap();
        assert_eq!((previous.commit.as_str(), previous.runs), ("c1", 3));
        assert_eq!(previous.medians_ns["a"], 100.0);
    }

    #[test]
    fn a_new_set_keeps_the_fastest_samples_and_an_older_set_its_medians() {
        let sampled = |median: f64, fast: f64| {
            let mut e = estimate(median);
            e.fast_ns = fast;
            BTreeMap::from([("a".to_string(), e)])
        };
        let new = record(None, &sampled(100.0, 90.0), &env("c1"), "d").unwrap();
        assert_eq!(new.figure, Figure::Fastest);
        assert_eq!(new.benchmarks["a"].runs_ns, vec![90.0]);

        let mut json = serde_json::to_value(&new).unwrap();
        json.as_object_mut().unwrap().remove("figure");
        let older: Baseline = serde_json::from_value(json).unwrap();
        assert_eq!(older.figure, Figure::Median);
        let continued = record(Some(older), &sampled(110.0, 95.0), &env("c1"), "d").unwrap();
        assert_eq!(continued.benchmarks["a"].runs_ns, vec![90.0, 110.0]);
    }

    #[test]
    fn another_machines_baseline_is_never_merged_into() {
        let mut other = record(None, &run(&[("a", 1.0)]), &env("c1"), "d").unwrap();
        other.machine.cpus += 64;
        let refused = record(Some(other), &run(&[("a", 1.0)]), &env("c1"), "d");
        assert!(matches!(refused, Err(BadInput::OtherMachine { .. })));
    }

    #[test]
    fn only_plain_names_are_accepted() {
        for good in ["amd-epyc-f26m2s1-2cpu-linux6.18-vm", "base", "a_b.c"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "../etc/passwd", "a/b", ".hidden", "Upper", "a b", "x\n"] {
            assert!(
                matches!(check_name(bad), Err(BadInput::BadName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_second_record_waits_for_the_lock_and_no_lock_file_is_left() {
        let dir = std::env::temp_dir().join(format!("costs-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.json");
        let held = lock(&path).unwrap();
        let other = std::fs::File::open(&dir).unwrap();
        assert!(
            Flock::lock(other, FlockArg::LockExclusiveNonblock).is_err(),
            "the lock is not exclusive"
        );
        drop(held);
        assert!(lock(&path).is_ok());
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_machine_slug_is_a_plain_name() {
        let machine = Machine {
            cpu_model: "AMD EPYC 7B13 64-Core Processor".into(),
            cpu_id: "f25m1s1".into(),
            cpus: 2,
            kernel: "6.18".into(),
            virtualised: true,
        };
        let slug = machine.slug();
        assert_eq!(
            slug,
            "amd-epyc-7b13-64-core-processor-f25m1s1-2cpu-linux6.18-vm"
        );
        assert!(check_name(&slug).is_ok());
    }
}
