//! Counts of one commit stored in `baselines/`, with everything they depend on, so that a
//! later build is gated against them without building the commit again.
//!
//! Instruction counts are exact for one executable, but another compiler, another libc,
//! other dependency versions, or a CPU on which libc picks another `memcpy` make other
//! executables: the stored counts hold only while all of these match. When they do not, the
//! check says which differs, and the caller counts the stored commit itself instead.

use super::Counted;
use crate::BadInput;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The layout of a stored count baseline; a file of another schema is refused.
pub const SCHEMA: u32 = 1;

/// The CPU features glibc's string and memory functions dispatch on (x86-64 and arm64).
const DISPATCHED_ON: &[&str] = &[
    "sse2", "ssse3", "sse4_1", "sse4_2", "popcnt", "avx", "avx2", "fma", "bmi1", "bmi2", "lzcnt",
    "movbe", "erms", "fsrm", "rtm", "avx512f", "avx512bw", "avx512vl", "avx512dq", "evex", "asimd",
    "atomics", "sve", "sve2", "mte",
];

/// What a count of the same source depends on, besides the source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependencies {
    pub arch: String,
    pub rustc: String,
    pub libc: String,
    /// SHA-256 of Cargo.lock: every dependency's version.
    pub cargo_lock: String,
    pub cpu_features: Vec<String>,
    /// The valgrind that counted instructions (its version), if any did.
    pub valgrind: Option<String>,
}

impl Dependencies {
    /// This machine's, for the tree whose lock file is `cargo_lock`.
    pub fn here(cargo_lock: &Path, valgrind: Option<&str>, rustc: &str) -> Dependencies {
        use sha2::Digest;
        let lock = std::fs::read(cargo_lock).unwrap_or_default();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Dependencies {
            arch: std::env::consts::ARCH.to_string(),
            rustc: rustc.to_string(),
            libc: libc_version(),
            cargo_lock: format!("{:x}", sha2::Sha256::digest(&lock)),
            cpu_features: cpu_features(&cpuinfo),
            valgrind: valgrind.map(str::to_string),
        }
    }

    /// What differs between `self` (stored) and `here`, one phrase each.
    pub fn differences(&self, here: &Dependencies) -> Vec<String> {
        let mut found = Vec::new();
        let mut compare = |what: &str, stored: String, now: String| {
            if stored != now {
                found.push(format!("{what} {stored} stored, {now} here"));
            }
        };
        compare("arch", self.arch.clone(), here.arch.clone());
        compare("rustc", self.rustc.clone(), here.rustc.clone());
        compare("libc", self.libc.clone(), here.libc.clone());
        compare(
            "Cargo.lock",
            short(&self.cargo_lock),
            short(&here.cargo_lock),
        );
        compare(
            "CPU features",
            self.cpu_features.join(","),
            here.cpu_features.join(","),
        );
        compare(
            "valgrind",
            self.valgrind.clone().unwrap_or_else(|| "none".into()),
            here.valgrind.clone().unwrap_or_else(|| "none".into()),
        );
        found
    }
}

fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

fn libc_version() -> String {
    // SAFETY: returns a pointer to a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    format!("glibc {}", version.to_string_lossy())
}

/// The features of [`DISPATCHED_ON`] that the first CPU reports, sorted.
fn cpu_features(cpuinfo: &str) -> Vec<String> {
    let flags = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags") || l.starts_with("Features"))
        .and_then(|l| l.split_once(':'))
        .map_or("", |(_, f)| f);
    let mut found: Vec<String> = flags
        .split_whitespace()
        .filter(|f| DISPATCHED_ON.contains(f))
        .map(str::to_string)
        .collect();
    found.sort();
    found
}

/// Counts of one commit, stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredCounts {
    pub schema: u32,
    pub commit: String,
    pub recorded: String,
    pub dependencies: Dependencies,
    pub benchmarks: Vec<Counted>,
}

/// `DIR/NAME.counts.json`, for a name of the same form as a timing baseline's.
pub fn path(dir: &Path, name: &str) -> Result<PathBuf, BadInput> {
    let timing = crate::store::path(dir, name)?;
    Ok(timing.with_extension("counts.json"))
}

pub fn load(path: &Path) -> Result<StoredCounts, BadInput> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BadInput::Cannot(format!(
            "{}: no stored counts; record them with `costs record --counts`",
            path.display()
        )),
        _ => BadInput::Unreadable(path.into(), e),
    })?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| BadInput::Corrupt(path.into(), e))?;
    let schema = value["schema"].as_u64().unwrap_or(0) as u32;
    if schema != SCHEMA {
        return Err(BadInput::Cannot(format!(
            "{}: count schema {schema}, this build reads schema {SCHEMA}; record anew with `costs record --counts`",
            path.display()
        )));
    }
    serde_json::from_value(value).map_err(|e| BadInput::Corrupt(path.into(), e))
}

pub fn save(path: &Path, stored: &StoredCounts) -> Result<(), BadInput> {
    let json = serde_json::to_vec_pretty(stored).expect("serialisable");
    crate::durable::write_atomically(path, &json).map_err(|e| BadInput::Unwritable(path.into(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_features_libc_dispatches_on_are_kept_and_sorted() {
        let cpuinfo = "processor\t: 0\nflags\t\t: fpu vme sse2 avx2 erms hypervisor avx\n";
        assert_eq!(cpu_features(cpuinfo), ["avx", "avx2", "erms", "sse2"]);
    }

    #[test]
    fn each_difference_is_named() {
        let here = Dependencies::here(
            Path::new("Cargo.lock"),
            Some("valgrind-3.19.0"),
            "rustc 1.95.0",
        );
        assert!(here.differences(&here).is_empty());
        let stored = Dependencies {
            rustc: "rustc 1.80.0".into(),
            valgrind: None,
            ..here.clone()
        };
        let said = stored.differences(&here);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].starts_with("rustc rustc 1.80.0 stored"), "{said:?}");
        assert!(said[1].starts_with("valgrind none stored"), "{said:?}");
    }
}
