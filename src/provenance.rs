//! The run that made a result: which build of this crate, when, and in which mode. Every
//! result the suite or `costs` keeps carries one, so that a report can refuse to judge a
//! figure from a test-mode run, from another commit, or from a run cut short.

use crate::results::Kept;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// How the result was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `cargo bench`: a measuring run.
    Bench,
    /// Criterion's test mode (`cargo test --benches`): each benchmark once, not a measurement.
    Test,
    /// Criterion's profile mode: timed under a sampling profiler.
    Profile,
    /// A `costs` tool (`footprint`, `c10k`) measuring for real.
    Tool,
}

impl Mode {
    /// Whether a figure from a run of this mode can be judged at all.
    pub fn measures(self) -> bool {
        matches!(self, Mode::Bench | Mode::Tool)
    }
}

/// The run behind one result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// The crate's commit at build time, `-dirty` when the build held uncommitted edits.
    pub commit: String,
    /// When the result was kept, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    pub mode: Mode,
}

impl Run {
    /// A result of this build, kept now.
    pub fn now(mode: Mode) -> Run {
        Run {
            commit: this_commit().to_string(),
            at: utc_now(),
            mode,
        }
    }

    /// Why a figure from this run must not be judged by a report built at `commit`, if so.
    pub fn distrust(&self, commit: &str) -> Option<String> {
        if !self.mode.measures() {
            return Some(format!("from a {:?} run", self.mode).to_lowercase());
        }
        if self.commit != commit {
            return Some(format!("from commit {}, not {commit}", self.commit));
        }
        None
    }
}

/// The commit this build was made from (`build.rs`), with `-dirty` for edited sources.
pub fn this_commit() -> &'static str {
    env!("COSTS_GIT_COMMIT")
}

/// The runs behind Criterion's results, per benchmark ID: Criterion's own files carry none,
/// so the harness keeps them beside the suite's other results.
pub const CRITERION_RUNS: Kept<Run> = Kept::new("criterion_runs.json");

fn utc_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(seconds)
}

/// Seconds since 1970 as a UTC timestamp (the proleptic Gregorian calendar).
fn utc(seconds: u64) -> String {
    let (days, rest) = ((seconds / 86_400) as i64, seconds % 86_400);
    // Howard Hinnant's days-to-civil: eras of 400 years, March-based years.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_795_392_000 + 3_723), "2026-11-23T01:02:03Z");
    }

    #[test]
    fn only_measuring_runs_of_the_same_commit_are_trusted() {
        let run = |commit: &str, mode| Run {
            commit: commit.into(),
            at: String::new(),
            mode,
        };
        assert_eq!(run("abc", Mode::Bench).distrust("abc"), None);
        assert_eq!(run("abc", Mode::Tool).distrust("abc"), None);
        assert!(
            run("abc", Mode::Test)
                .distrust("abc")
                .unwrap()
                .contains("test")
        );
        assert!(run("abc", Mode::Profile).distrust("abc").is_some());
        let other = run("abc", Mode::Bench).distrust("def").unwrap();
        assert!(other.contains("abc") && other.contains("def"), "{other}");
    }

    #[test]
    fn criterion_runs_are_kept_per_benchmark() {
        let dir = std::env::temp_dir().join(format!("costs-runs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(CRITERION_RUNS.load(&dir).is_empty());
        let bench = Run::now(Mode::Bench);
        CRITERION_RUNS.keep(&dir, "a/b", bench.clone()).unwrap();
        CRITERION_RUNS
            .keep(&dir, "a/c", Run::now(Mode::Profile))
            .unwrap();
        let runs = CRITERION_RUNS.load(&dir);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs["a/b"], bench);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
