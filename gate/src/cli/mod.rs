//! The gate's command line: record, check, compare, count, regressed, which and export, as
//! thin glue over the library. `criterion-gate` is these commands alone; a suite's own tool
//! can include them beside its own.

use crate::criterion::{Estimate, read_criterion};
use crate::executables::{self, BenchBinary};
use crate::export::{ExportFormat, export};
use crate::host::Build;
use crate::judge::{self, Judgement, MIN_STORED_RUNS, Verdict};
use crate::store::{self, Machine};
use crate::{BadInput, report, suite_runs};
use clap::{Args, Parser, Subcommand};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub mod compare;
pub mod count_lane;

pub use compare::CompareArgs;

/// The gate's commands, for `criterion-gate` and for any suite's own tool to include
/// (`#[command(flatten)]`).
#[derive(Subcommand)]
pub enum Command {
    /// Record runs of the suite into this machine's stored baseline.
    ///
    /// Each --criterion-dir (default: Criterion's output directory) is one run.
    /// A baseline holds runs of one commit; a run of another commit starts a new set. `costs
    /// check` needs 5 runs of the set's commit.
    Record(RecordArgs),
    /// Judge a run against this machine's stored baseline (the nightly trend).
    ///
    /// The nightly gate is paired instead: `scripts/check.sh --paired` compares the head with
    /// the commit the baseline was recorded from (--print-commit), as `costs compare` does a
    /// pull request.
    ///
    /// Each --criterion-dir is one round of this run, fresh for it; --run-suite makes them. Per benchmark: improved, unchanged, regressed, bimodal, new or missing. A
    /// regression is a change of the median over the rounds from the median of the recorded
    /// runs beyond --threshold and beyond 5 robust sigmas of the noise of both. Exit 0: no
    /// regression; 1: regression; 2: bad input, including a benchmark of the baseline that this
    /// run lacks (see --allow-missing).
    Check(CheckArgs),
    /// Compare a base and a head build of the suite, paired and interleaved (pull requests).
    ///
    /// Every benchmark runs in short fresh processes, base and head in ABBA quads seconds
    /// apart, judged on the paired ratios; the budget left after the first quads goes to the
    /// benchmarks still undecided.
    /// A regression is a change whose whole 95% interval lies above --threshold. Exit 0: no
    /// regression; 1: regression; 2: bad input. scripts/compare-commits.sh wraps it; an
    /// option given twice takes its last value, so the caller's --json or --markdown wins.
    #[command(args_override_self = true)]
    Compare(CompareArgs),
    /// Count what one iteration of each benchmark costs in events the host cannot move.
    ///
    /// Instructions under callgrind (every thread of the bench process), and syscalls,
    /// voluntary and involuntary context switches and page faults counted by the kernel
    /// (natively, the process and its children), per iteration: the difference between N and
    /// 2N iterations, so setup is left out. Each lane counts every benchmark --repetitions
    /// times in fresh processes; a count whose repetitions differ by more than it could gate
    /// on says so. A lane this machine cannot count in (no valgrind, perf events refused) is
    /// skipped with one line.
    Count(count_lane::CountArgs),
    /// The benchmarks a check called regressed, one ID a line.
    ///
    /// Reads the verdicts `costs compare --json` or `costs check --json` wrote (either lane).
    Regressed {
        /// The verdicts file.
        #[arg(default_value = "target/compare/check.json")]
        verdicts: PathBuf,
    },
    /// Which bench holds a benchmark: its bench name, or with --executable the built file.
    ///
    /// Builds this tree's benches first (`cargo bench --no-run`), with --features when given
    /// and into $CARGO_TARGET_DIR when set. ID is a benchmark ID (group/function/parameter) or
    /// a bench's name.
    Which(WhichArgs),
    /// Write Criterion's latest results for other tools.
    ///
    /// Bencher Metric Format JSON, github-action-benchmark's customSmallerIsBetter JSON, or a
    /// markdown table.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Criterion's output directory (default: $CRITERION_HOME, else <target>/criterion).
        #[arg(long, value_name = "DIR")]
        criterion_dir: Option<PathBuf>,
        /// Write here instead of to standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Runs one of the gate's commands on the suite in the current directory, built as `build`
/// says; `program` prefixes a one-line error. Exit 0: nothing regressed; 1: something did;
/// 2: bad input.
pub fn run(command: Command, build: &Build, program: &str) -> ExitCode {
    let result = match command {
        Command::Record(args) => record(&args, build),
        Command::Check(args) => check(&args, build),
        Command::Compare(args) => compare::compare(&args),
        Command::Count(args) => count_lane::count(&args, build),
        Command::Regressed { verdicts } => regressed(&verdicts),
        Command::Which(args) => which(&args),
        Command::Export {
            format,
            criterion_dir,
            output,
        } => {
            let dir = criterion_dir.unwrap_or_else(default_criterion_dir);
            export_results(format, &dir, output.as_deref())
        }
    };
    result.unwrap_or_else(|bad| {
        eprintln!("{program}: {bad}");
        ExitCode::from(2)
    })
}

/// Parses the command line; on bad arguments prints one line prefixed with `program` and
/// returns exit status 2 (`--help` and `--version` print and exit 0).
pub fn parse<T: Parser>(program: &str) -> Result<T, ExitCode> {
    T::try_parse().map_err(|e| {
        if !e.use_stderr() {
            e.exit() // --help, --version
        }
        // clap's first line says what is wrong; the usage after it repeats `--help`.
        let message = e.to_string();
        let first = message.lines().next().unwrap_or("bad arguments");
        eprintln!("{program}: {}", first.trim_start_matches("error: "));
        ExitCode::from(2)
    })
}

/// A percentage given on the command line: a finite number, at least zero.
pub fn percentage(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!(
            "{text:?} is not a percentage (a finite number ≥ 0)"
        )),
    }
}

/// Criterion's output directory as Criterion itself chooses it.
pub fn default_criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| "target".into())
        .join("criterion")
}

/// Where `--run-suite` runs the suite.
const SUITE_RUNS: &str = "target/gate-runs";

#[derive(Args)]
pub struct BaselineArgs {
    /// Baseline name: baselines/<NAME>.json ([a-z0-9._-]). Default: this machine's slug.
    #[arg(long, value_name = "NAME")]
    baseline: Option<String>,
    /// Where baselines live.
    #[arg(long, value_name = "DIR", default_value = "baselines")]
    baselines_dir: PathBuf,
    /// Criterion's output directory of one run, fresh for that run (repeat for several
    /// runs or rounds). Default: $CRITERION_HOME, else <target dir>/criterion.
    #[arg(long = "criterion-dir", value_name = "DIR")]
    criterion_dirs: Vec<PathBuf>,
    /// Run the suite N times first (`cargo bench` with one fixed short measurement: 50 ms of
    /// warm-up, 150 ms, 10 samples), each into a fresh Criterion directory under
    /// target/gate-runs/, and take those as the runs or rounds.
    #[arg(long, value_name = "N", conflicts_with = "criterion_dirs", value_parser = clap::value_parser!(u16).range(1..))]
    run_suite: Option<u16>,
}

impl BaselineArgs {
    fn path(&self, machine: &Machine) -> Result<PathBuf, BadInput> {
        store::path(&self.baselines_dir, &self.name(machine))
    }

    pub fn name(&self, machine: &Machine) -> String {
        self.baseline.clone().unwrap_or_else(|| machine.slug())
    }

    pub fn dir(&self) -> &Path {
        &self.baselines_dir
    }

    /// One map of estimates per run or round directory.
    fn runs(&self) -> Result<Vec<BTreeMap<String, Estimate>>, BadInput> {
        let dirs = match (self.run_suite, self.criterion_dirs.is_empty()) {
            (Some(runs), _) => suite_runs::run(runs.into(), Path::new(SUITE_RUNS))?,
            (None, true) => vec![default_criterion_dir()],
            (None, false) => self.criterion_dirs.clone(),
        };
        dirs.iter().map(|d| read_criterion(d)).collect()
    }
}

#[derive(Args)]
pub struct RecordArgs {
    #[command(flatten)]
    baseline: BaselineArgs,
    /// Record a build with uncommitted changes (its runs then belong to no one commit).
    #[arg(long)]
    allow_dirty: bool,
    /// Record this tree's counts instead (`costs count`, every benchmark, both lanes) into
    /// baselines/<NAME>.counts.json, with what they depend on.
    #[arg(long, conflicts_with_all = ["criterion_dirs", "run_suite"])]
    counts: bool,
    #[command(flatten)]
    stored_counts: count_lane::StoredCountArgs,
}

#[derive(Args, Clone)]
pub struct Outputs {
    /// Also write the table as markdown (for a job summary or a PR comment).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Also write the verdicts as JSON: per benchmark {id, verdict, change_pct, ci_pct,
    /// gates_on_pct, pairs}, and a summary.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// List benchmarks that one side lacks (renamed, removed, filtered out) as missing
    /// instead of failing with exit status 2.
    #[arg(long)]
    allow_missing: bool,
    /// Measure the gate instead: make every figure of this run (the head) this many percent
    /// slower before judging, to see which benchmarks a slowdown of that size would fail.
    #[arg(long, value_name = "PCT", value_parser = percentage)]
    simulate_slowdown: Option<f64>,
}

impl Outputs {
    fn slowdown(&self) -> f64 {
        1.0 + self.simulate_slowdown.unwrap_or(0.0) / 100.0
    }

    /// Writes the table and the JSON where the arguments asked for them.
    pub fn write(&self, markdown: &str, json: &str) -> Result<(), BadInput> {
        for (file, text) in [(&self.markdown, markdown), (&self.json, json)] {
            if let Some(file) = file {
                crate::durable::write_atomically(file, text.as_bytes())
                    .map_err(|e| BadInput::Unwritable(file.clone(), e))?;
            }
        }
        Ok(())
    }
}

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    baseline: BaselineArgs,
    #[command(flatten)]
    outputs: Outputs,
    /// The smallest slowdown, in percent, that may count as a regression.
    #[arg(long, default_value_t = 5.0, value_parser = percentage)]
    threshold: f64,
    /// Compare with a baseline recorded on a different machine fingerprint.
    #[arg(long)]
    allow_other_machine: bool,
    /// Print the commit the baseline's runs measured, and judge nothing: the base that the
    /// nightly gate compares the head with, paired (`scripts/check.sh --paired`).
    #[arg(long)]
    print_commit: bool,
    /// Judge this tree's counts against baselines/<NAME>.counts.json instead (`costs record
    /// --counts`); where what they depend on differs here, count their commit instead.
    #[arg(long, conflicts_with_all = ["criterion_dirs", "print_commit", "run_suite"])]
    counts: bool,
    /// With --counts: the smallest growth of a count, in percent, that fails (more where the
    /// count's spread is larger: three times it).
    #[arg(long, default_value_t = 1.0, requires = "counts", value_parser = percentage)]
    count_threshold: f64,
    #[command(flatten)]
    stored_counts: count_lane::StoredCountArgs,
}

/// Whether a build's commit stamp says it has uncommitted changes.
fn is_dirty(commit: &str) -> bool {
    commit.ends_with("-dirty")
}

pub fn record(args: &RecordArgs, build: &Build) -> Result<ExitCode, BadInput> {
    let here = Machine::here();
    if args.counts {
        let path = count_lane::counts_path(&args.baseline, &here)?;
        std::fs::create_dir_all(args.baselines_dir())
            .map_err(|e| BadInput::Unwritable(path.clone(), e))?;
        return count_lane::record(
            &path,
            &count_lane::counting(
                args.stored_counts.repetitions,
                None,
                args.stored_counts.bin_dir.clone(),
            ),
            build,
            args.allow_dirty,
        );
    }
    if build.is_dirty() && !args.allow_dirty {
        return Err(BadInput::Dirty(build.commit.clone()));
    }
    let path = args.baseline.path(&here)?;
    let runs = args.baseline.runs()?;
    std::fs::create_dir_all(args.baselines_dir())
        .map_err(|e| BadInput::Unwritable(path.clone(), e))?;
    let _lock = store::lock(&path)?;
    let mut baseline = match store::load(&path) {
        Ok(previous) => Some(previous),
        Err(BadInput::Missing(_)) => None,
        // Never overwrite a file we could not read: it may hold good data.
        Err(other) => return Err(other),
    };
    for run in &runs {
        baseline = Some(
            store::record(baseline, run, build, &today()).map_err(|e| match e {
                BadInput::OtherMachine { stored, here, .. } => BadInput::OtherMachine {
                    path: path.clone(),
                    stored,
                    here,
                },
                other => other,
            })?,
        );
    }
    let updated = baseline.expect("at least one run was read");
    store::save(&path, &updated).map_err(|e| BadInput::Unwritable(path.clone(), e))?;
    let benchmarks: BTreeSet<&String> = runs.iter().flat_map(|r| r.keys()).collect();
    println!(
        "recorded {} of {} into {} ({} of commit {} so far{})",
        count(runs.len(), "run"),
        count(benchmarks.len(), "benchmark"),
        path.display(),
        count(updated.recorded.len(), "run"),
        updated.commit,
        match updated.recorded.len() {
            n if n < MIN_STORED_RUNS => format!("; `costs check` needs {MIN_STORED_RUNS}"),
            _ => String::new(),
        }
    );
    Ok(ExitCode::SUCCESS)
}

impl RecordArgs {
    fn baselines_dir(&self) -> &Path {
        &self.baseline.baselines_dir
    }
}

pub fn check(args: &CheckArgs, build: &Build) -> Result<ExitCode, BadInput> {
    let here = Machine::here();
    if args.counts {
        let path = count_lane::counts_path(&args.baseline, &here)?;
        let counting = count_lane::counting(
            args.stored_counts.repetitions,
            None,
            args.stored_counts.bin_dir.clone(),
        );
        return count_lane::check(
            &path,
            &counting,
            args.count_threshold / 100.0,
            &args.outputs,
            build,
        );
    }
    let path = args.baseline.path(&here)?;
    let stored = store::load(&path)?;
    if stored.machine != here && !args.allow_other_machine {
        return Err(BadInput::OtherMachine {
            path,
            stored: stored.machine.slug(),
            here: here.slug(),
        });
    }
    if args.print_commit {
        return print_commit(&path, &stored.commit);
    }
    if stored.recorded.len() < MIN_STORED_RUNS {
        return Err(BadInput::TooFewRuns {
            path,
            runs: stored.recorded.len(),
        });
    }
    let rounds = args.baseline.runs()?;
    let threshold = args.threshold / 100.0;
    let slowdown = args.outputs.slowdown();
    let mut judgements: Vec<Judgement> = stored
        .benchmarks
        .iter()
        .map(|(id, entry)| {
            let run: Vec<f64> = rounds
                .iter()
                .filter_map(|r| r.get(id).map(|e| stored.figure.of(e)))
                .collect();
            match run.is_empty() {
                true => Judgement::without_figures(id, Verdict::Missing, None),
                false => judge::stored(id, &entry.runs_ns, &run, threshold, slowdown),
            }
        })
        .collect();
    let new: BTreeSet<&String> = rounds
        .iter()
        .flat_map(|r| r.keys())
        .filter(|id| !stored.benchmarks.contains_key(*id))
        .collect();
    judgements.extend(
        new.into_iter()
            .map(|id| Judgement::without_figures(id, Verdict::New, None)),
    );
    let heading = format!(
        "Against {} ({} runs of {})",
        path.display(),
        stored.recorded.len(),
        stored.commit
    );
    conclude(
        &judgements,
        &heading,
        "stored",
        &args.outputs,
        &path.display().to_string(),
    )
}

/// Prints the baseline's commit for a paired comparison, which must be able to check it out:
/// runs of a build with uncommitted changes belong to no commit.
fn print_commit(path: &Path, commit: &str) -> Result<ExitCode, BadInput> {
    if is_dirty(commit) || commit == "unknown" {
        return Err(BadInput::Cannot(format!(
            "{}: recorded from {commit}, which no commit holds; record it from a clean checkout",
            path.display()
        )));
    }
    println!("{commit}");
    Ok(ExitCode::SUCCESS)
}

/// Prints and writes the verdicts, and turns them into the exit status.
fn conclude(
    judgements: &[Judgement],
    heading: &str,
    mode: &str,
    outputs: &Outputs,
    what: &str,
) -> Result<ExitCode, BadInput> {
    let table = report::markdown(judgements, heading);
    print!("{table}");
    outputs.write(&table, &report::json(judgements, mode))?;
    let regressed = judgements
        .iter()
        .filter(|j| j.verdict == Verdict::Regressed)
        .count();
    let missing: Vec<String> = judgements
        .iter()
        .filter(|j| j.verdict == Verdict::Missing)
        .map(|j| j.id.clone())
        .collect();
    if !missing.is_empty() && !outputs.allow_missing {
        return Err(BadInput::NotRun {
            what: what.into(),
            ids: missing,
            regressed,
        });
    }
    if let Some(failed) = judgements.iter().find(|j| j.verdict == Verdict::Failed) {
        return Err(BadInput::Cannot(format!(
            "{} failed to run ({}); fix it, or leave it out with --filter",
            failed.id,
            failed.note.as_deref().unwrap_or("no reason given")
        )));
    }
    Ok(if regressed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The bench executables in `dir` (file name = bench name).
pub fn binaries_in(dir: &Path) -> Result<Vec<BenchBinary>, BadInput> {
    let entries = std::fs::read_dir(dir).map_err(|e| BadInput::Unreadable(dir.to_path_buf(), e))?;
    Ok(entries
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| BenchBinary {
            name: e.file_name().to_string_lossy().into_owned(),
            path: e.path(),
        })
        .collect())
}

pub fn export_results(
    format: ExportFormat,
    criterion_dir: &Path,
    output: Option<&Path>,
) -> Result<ExitCode, BadInput> {
    let text = export(&read_criterion(criterion_dir)?, format);
    match output {
        None => println!("{text}"),
        Some(file) => crate::durable::write_atomically(file, (text + "\n").as_bytes())
            .map_err(|e| BadInput::Unwritable(file.into(), e))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `n` followed by `noun`, plural unless `n` is 1.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub fn today() -> String {
    crate::bounded::output_bounded(
        std::process::Command::new("date").arg("+%Y-%m-%d"),
        std::time::Duration::from_secs(5),
    )
    .map(|(_, out)| String::from_utf8_lossy(&out).trim().to_string())
    .unwrap_or_default()
}

/// `costs regressed`: the IDs a verdicts file calls regressed.
pub fn regressed(verdicts: &Path) -> Result<ExitCode, BadInput> {
    let text =
        std::fs::read_to_string(verdicts).map_err(|e| BadInput::Unreadable(verdicts.into(), e))?;
    let ids = report::regressed_in(&text).map_err(|e| BadInput::Corrupt(verdicts.into(), e))?;
    ids.iter().for_each(|id| println!("{id}"));
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct WhichArgs {
    /// A benchmark ID, or a bench's name.
    id: String,
    /// Print the path of the built executable instead of the bench's name.
    #[arg(long)]
    executable: bool,
    /// Build the benches with these cargo features.
    #[arg(long, value_name = "FEATURES")]
    features: Option<String>,
}

/// `costs which`: the bench holding a benchmark ID (or named so), built here.
pub fn which(args: &WhichArgs) -> Result<ExitCode, BadInput> {
    let built = executables::build(Path::new("."), None, args.features.as_deref())
        .map_err(BadInput::Cannot)?;
    let found = match args.id.contains('/') {
        true => executables::holding(&built, &args.id).map_err(BadInput::Cannot)?,
        false => built.iter().find(|b| b.name == args.id),
    };
    let Some(bench) = found else {
        return Err(BadInput::Cannot(format!("no bench here holds {}", args.id)));
    };
    match args.executable {
        true => println!("{}", bench.path.display()),
        false => println!("{}", bench.name),
    }
    Ok(ExitCode::SUCCESS)
}
