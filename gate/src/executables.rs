//! The bench executables of a build: building them, and the benchmark IDs each one holds.

use crate::bounded::{output_bounded, run_bounded};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One bench executable of a build.
#[derive(Clone, Debug)]
pub struct BenchBinary {
    pub name: String,
    pub path: PathBuf,
}

/// Listing a bench executable's benchmarks takes well under a second.
const LIST_LIMIT: Duration = Duration::from_secs(60);

/// A clean build of the benches takes about five minutes on two cores; one waiting on another
/// cargo's lock of the same target directory would wait for ever.
const BUILD_LIMIT: Duration = Duration::from_secs(60 * 60);

/// The newest file in `dir` named `name`, or `name-<suffix>` with no extension where
/// `suffix_ok` accepts the suffix: cargo names a test-profile build `<name>-<hash>`, and
/// keeps older builds beside it.
pub fn newest(dir: &Path, name: &str, suffix_ok: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let prefix = format!("{name}-");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().unwrap_or_default().to_string_lossy();
            let suffix = file.strip_prefix(&prefix);
            (file == name || suffix.is_some_and(&suffix_ok)) && p.extension().is_none()
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// Executables that `cargo test --all-targets` builds beside the test that is running, for
/// tests that run them (any package of the workspace).
pub mod beside_this_test {
    use super::newest;
    use std::path::PathBuf;

    /// `target/<profile>/deps`, where the running test was built.
    fn deps() -> PathBuf {
        let exe = std::env::current_exe().expect("the running test has a path");
        exe.parent().expect("a file in a directory").to_path_buf()
    }

    /// The newest build of example `name` (`target/<profile>/examples`); panics, saying how
    /// to build it, where there is none.
    pub fn example(name: &str) -> PathBuf {
        let examples = deps()
            .parent()
            .expect("deps is in a profile")
            .join("examples");
        newest(&examples, name, |_| true).unwrap_or_else(|| {
            panic!(
                "no {name} in {}: run the tests with --all-targets (or --examples)",
                examples.display()
            )
        })
    }

    /// The newest test-profile build of bench `name` (`deps/<name>-<hash>`); `None`, said on
    /// stderr, where there is none.
    pub fn bench(name: &str) -> Option<PathBuf> {
        let deps = deps();
        let found = newest(&deps, name, |hash| {
            hash.chars().all(|c| c.is_ascii_hexdigit())
        });
        if found.is_none() {
            eprintln!(
                "no build of bench {name} in {}: run the tests with --all-targets",
                deps.display()
            );
        }
        found
    }
}

/// The benchmark IDs an executable holds (`--bench --list`).
pub fn list(binary: &Path) -> Result<Vec<String>, String> {
    let (status, stdout) = output_bounded(
        Command::new(binary)
            .args(["--bench", "--list"])
            .stderr(Stdio::null()),
        LIST_LIMIT,
    )
    .map_err(|e| format!("{} --list: {e}", binary.display()))?;
    if !status.success() {
        return Err(format!("{} --list failed ({status})", binary.display()));
    }
    Ok(listed_ids(&String::from_utf8_lossy(&stdout)))
}

/// The IDs in a `--list` output: Criterion 0.5 and later end each line `: benchmark`, 0.4
/// and earlier `: bench`.
fn listed_ids(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| {
            l.strip_suffix(": benchmark")
                .or_else(|| l.strip_suffix(": bench"))
        })
        .map(str::to_string)
        .collect()
}

/// Whether git tracks the lock file of `tree` (outside git: whether there is one).
pub fn committed_lock(tree: &Path) -> bool {
    let tracked = run_bounded(
        Command::new("git")
            .current_dir(tree)
            .args(["ls-files", "--error-unmatch", "Cargo.lock"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        LIST_LIMIT,
    );
    match tracked {
        Ok(status) if status.code() == Some(0) => true,
        // 1: git knows the tree, but not the file.
        Ok(status) if status.code() == Some(1) => false,
        _ => tree.join("Cargo.lock").exists(),
    }
}

/// Builds the bench executables of the crate at `tree` (`cargo bench --no-run`), into
/// `target_dir` and with cargo `features` if given, and returns them by bench name.
pub fn build(
    tree: &Path,
    target_dir: Option<&Path>,
    features: Option<&str>,
) -> Result<Vec<BenchBinary>, String> {
    #[derive(Deserialize)]
    struct Message {
        reason: String,
        #[serde(default)]
        target: Option<Target>,
        #[serde(default)]
        executable: Option<PathBuf>,
    }
    #[derive(Deserialize)]
    struct Target {
        name: String,
        kind: Vec<String>,
    }
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(tree)
        // The artifacts as JSON on stdout; the compiler's errors rendered on stderr, for the
        // reader (plain JSON would carry them on stdout, where no one sees them).
        .args([
            "bench",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit());
    // A committed lock file is what the suite measures with: building must not move it. A
    // library that commits none gets its dependencies resolved here.
    if committed_lock(tree) {
        cargo.arg("--locked");
    } else {
        eprintln!(
            "{} commits no Cargo.lock: its dependencies are resolved now",
            tree.display()
        );
    }
    if let Some(dir) = target_dir {
        cargo.env("CARGO_TARGET_DIR", dir);
    }
    if let Some(features) = features {
        cargo.args(["--features", features]);
    }
    let (status, stdout) = output_bounded(&mut cargo, BUILD_LIMIT)
        .map_err(|e| format!("cargo bench --no-run in {}: {e}", tree.display()))?;
    if !status.success() {
        return Err(format!(
            "building the benches in {} failed (the compiler's errors are above; old code that \
             denies warnings builds with RUSTFLAGS=--cap-lints=warn)",
            tree.display()
        ));
    }
    Ok(String::from_utf8_lossy(&stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|m| m.reason == "compiler-artifact")
        .filter_map(|m| {
            let target = m.target?;
            target
                .kind
                .iter()
                .any(|k| k == "bench")
                .then_some(BenchBinary {
                    name: target.name,
                    path: m.executable?,
                })
        })
        .collect())
}

/// The executable of `binaries` that holds benchmark `id`, if one does.
pub fn holding<'a>(
    binaries: &'a [BenchBinary],
    id: &str,
) -> Result<Option<&'a BenchBinary>, String> {
    for binary in binaries {
        if list(&binary.path)?.iter().any(|listed| listed == id) {
            return Ok(Some(binary));
        }
    }
    Ok(None)
}

/// Every benchmark ID of a build, with the executable that holds it.
pub fn catalogue(binaries: &[BenchBinary]) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut ids = BTreeMap::new();
    for binary in binaries {
        for id in list(&binary.path)? {
            ids.insert(id, binary.path.clone());
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_listed_as_every_criterion_version_prints_them() {
        let listing = "a/b/1: benchmark\nc/d: bench\nWarning: something else\n";
        assert_eq!(listed_ids(listing), ["a/b/1", "c/d"]);
    }
}
