//! Whole runs of the suite for the stored-baseline mode: `cargo bench` with one fixed, short
//! measurement ([`Settings::STORED_RUN_ARGS`]), each run into a fresh Criterion directory, so
//! that only what a run produced is recorded or judged, and a slow spell of the host lands on
//! one run, not on the verdict.

use crate::BadInput;
use crate::bounded::run_bounded;
use crate::executables::committed_lock;
use crate::settings::Settings;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A whole run of a suite may take this long (concurrency-costs' takes about three minutes).
const RUN_LIMIT: Duration = Duration::from_secs(2 * 3600);

/// Runs the suite of the current directory `runs` times into `<under>/run-<i>/` and returns
/// those directories. The suite's other results go to `<under>/costs` (`COSTS_DIR`), never
/// into the user's. Criterion's report goes to standard error, keeping standard output for
/// the verdicts.
pub fn run(runs: usize, under: &Path) -> Result<Vec<PathBuf>, BadInput> {
    let locked = committed_lock(Path::new("."));
    (1..=runs)
        .map(|i| {
            eprintln!("== run {i} of {runs}");
            let dir = under.join(format!("run-{i}"));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| BadInput::Unwritable(dir.clone(), e))?;
            let report = std::io::stderr()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| BadInput::Cannot(format!("standard error: {e}")))?;
            let mut cargo =
                Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
            cargo
                .arg("bench")
                .args(locked.then_some("--locked"))
                .arg("--")
                .args(Settings::STORED_RUN_ARGS)
                .env("CRITERION_HOME", &dir)
                .env("COSTS_DIR", under.join("costs"))
                .stdin(Stdio::null())
                .stdout(Stdio::from(report));
            let cannot = |why: String| BadInput::Cannot(format!("run {i} of the suite: {why}"));
            match run_bounded(&mut cargo, RUN_LIMIT) {
                Ok(status) if status.success() => Ok(dir),
                Ok(status) => Err(cannot(format!("cargo bench {status}"))),
                Err(e) => Err(cannot(e.to_string())),
            }
        })
        .collect()
}
