//! A regression gate for any Criterion suite: whether a change made any benchmark slower,
//! said only when the measurements can carry it, on a noisy shared machine. It runs a suite's
//! bench executables and reads what Criterion writes; nothing in it knows which suite.
//!
//! - [`engine`]: pull-request mode. Base and head, built side by side, measured in
//!   interleaved short processes and judged on paired ratios ([`judge::paired`]); [`replay`]
//!   runs the engine on kept pairs, to estimate false alarms and power without measuring.
//! - [`store`]: stored-baseline mode. Several runs of one commit per machine, against which a
//!   later run's rounds are judged ([`judge::stored`]); [`suite_runs`] makes those runs.
//! - [`count`]: the count lane. Instructions, syscalls, switches and faults per iteration,
//!   which the host cannot move, for a suite whose harness hands its benchmarks to
//!   [`count::bench_process`].
//! - [`builds`] builds both sides of a comparison from git (a commit, the working tree, a
//!   dependency at another version); [`executables`] builds a tree's benches and lists what
//!   each holds; [`criterion`] reads what Criterion writes; [`stats`] holds the robust
//!   statistics every judge uses; [`report`] and [`export`] say what was found, to people and
//!   to tools; [`cli`] is the command line, shared by `criterion-gate` and any suite's tool.
//! - [`settings`] holds the gate's defaults, each with why; [`host`] names the machine and
//!   the build; [`bounded`] runs commands within a bound;
//!   [`durable`] writes files whole or not at all; [`units`] prints figures.

pub mod bounded;
pub mod builds;
pub mod cli;
pub mod count;
pub mod criterion;
pub mod durable;
pub mod engine;
pub mod executables;
pub mod export;
pub mod host;
pub mod judge;
pub mod replay;
pub mod report;
pub mod settings;
pub mod stats;
pub mod store;
pub mod suite_runs;
pub mod units;

use std::fmt;
use std::path::PathBuf;

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
    BadName(String),
    Busy(PathBuf, String),
    /// A stored set with too few runs of its commit to learn the noise from.
    TooFewRuns {
        path: PathBuf,
        runs: usize,
    },
    /// A build from a tree with uncommitted changes: its runs would not be of one commit.
    Dirty(String),
    /// Benchmarks of the baseline with no result in this run: renamed, removed or not run.
    NotRun {
        what: String,
        ids: Vec<String>,
        regressed: usize,
    },
    OtherMachine {
        path: PathBuf,
        stored: String,
        here: String,
    },
    /// Anything else that stops a check before a verdict (a build, a benchmark list).
    Cannot(String),
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadInput::Missing(p) => write!(
                f,
                "{}: no such baseline; record one with `record`",
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
                "{}: schema {s}, this build reads schema {}; record anew",
                p.display(),
                store::SCHEMA
            ),
            BadInput::Empty(p) => write!(
                f,
                "{}: holds no benchmarks; record some with `record`",
                p.display()
            ),
            BadInput::NoResults(p) => write!(
                f,
                "{}: no Criterion results found; run `cargo bench` first",
                p.display()
            ),
            BadInput::BadName(name) => write!(
                f,
                "{name:?} is not a baseline name: use lower-case letters, digits, '.', '_' and '-'"
            ),
            BadInput::Busy(p, why) => write!(f, "{}: {why}; nothing was changed", p.display()),
            BadInput::TooFewRuns { path, runs } => write!(
                f,
                "{}: {runs} recorded runs of its commit, fewer than the {} the noise is learned from; record more runs of it",
                path.display(),
                judge::MIN_STORED_RUNS
            ),
            BadInput::Dirty(commit) => write!(
                f,
                "this build ({commit}) has uncommitted changes, so its runs are of no one commit; commit first, or pass --allow-dirty"
            ),
            BadInput::NotRun {
                what,
                ids,
                regressed,
            } => write!(
                f,
                "{what}: {} of its benchmarks have no result in this run (first: {}), so it cannot vouch for them{}; run the whole suite, or if they were renamed or removed (their IDs are public), pass --allow-missing",
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
            BadInput::Cannot(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for BadInput {}
