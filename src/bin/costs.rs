//! `costs`: the suite's command-line tool. Benchmarks live in `cargo bench`; this binary
//! measures what Criterion cannot (memory per unit) and reads what Criterion writes.

#[path = "costs/c10k.rs"]
mod c10k;

use clap::{Parser, Subcommand};
use concurrency_costs::baseline::{self, BadInput, Decision, Machine, Verdict};
use concurrency_costs::environment::Environment;
use concurrency_costs::footprint::{Footprint, parked_threads};
use concurrency_costs::runtime::FLAVOURS;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Measured costs of concurrency on this machine. Benchmarks: `cargo bench`.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Merge Criterion's latest results (target/criterion/**/new/estimates.json) into this
    /// machine's baseline, appending each mean to that benchmark's history.
    Record {
        #[command(flatten)]
        baseline: BaselineArgs,
    },
    /// Compare Criterion's latest results with the baseline: per benchmark improved,
    /// unchanged, regressed, new or missing, by the change from the median of the recorded
    /// means. A regression needs a change beyond --threshold, beyond the noise fences learned
    /// from the benchmark's own history, and a confidence interval above every recorded mean.
    /// Exit 0: no regression; 1: regression; 2: bad input, including a benchmark of the
    /// baseline that this run lacks (see --allow-missing).
    Check {
        #[command(flatten)]
        baseline: BaselineArgs,
        /// The smallest slowdown, in percent, that may count as a regression.
        #[arg(long, default_value_t = 5.0)]
        threshold: f64,
        /// Also write the table as markdown (for a job summary or a PR comment).
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
        /// Compare with a baseline recorded on a different machine fingerprint.
        #[arg(long)]
        allow_other_machine: bool,
        /// List benchmarks of the baseline that this run lacks (renamed, removed, filtered
        /// out) as missing instead of failing with exit status 2.
        #[arg(long)]
        allow_missing: bool,
        /// Re-run each suspected regression this many times (through Criterion's filter)
        /// before deciding; it stays a regression only if every re-run confirms it.
        #[arg(long, value_name = "N", default_value_t = 0)]
        confirm: u32,
        /// Measure the gate instead: make every latest result this many percent slower before
        /// deciding (no re-runs), to see which benchmarks a slowdown of that size would fail.
        #[arg(long, value_name = "PCT")]
        simulate_slowdown: Option<f64>,
        /// Judge the runs recorded in baselines/<NAME>.json (their median, and the span of
        /// their means) instead of Criterion's latest results: for commits measured in
        /// interleaved rounds (scripts/compare-commits.sh). Suspects are not re-run.
        #[arg(long, value_name = "NAME", conflicts_with = "confirm")]
        runs_of: Option<String>,
        /// The command that re-runs benchmarks; the filter is appended as its last argument.
        #[arg(
            long,
            value_name = "COMMAND",
            default_value = "cargo bench -- --noplot"
        )]
        rerun: String,
    },
    /// Write Criterion's latest results for other tools: Bencher Metric Format JSON,
    /// github-action-benchmark's customSmallerIsBetter JSON, or a markdown table.
    Export {
        #[arg(long, value_enum)]
        format: Format,
        /// Criterion's output directory.
        #[arg(long, value_name = "DIR", default_value = "target/criterion")]
        criterion_dir: PathBuf,
        /// Write here instead of to standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Internal: a real Criterion benchmark whose work is set from outside, for testing the
    /// regression gate end to end (`fixture/spin/1`: one iteration = WORK ns of busy work,
    /// timed by the clock so that its length does not depend on code alignment or clock
    /// speed, which move a plain loop by several percent from one process to the next).
    #[command(hide = true)]
    FixtureBench {
        #[arg(long)]
        work: u64,
        #[arg(long, value_name = "DIR")]
        criterion_dir: PathBuf,
    },
    /// Whole-server runs (claims C06, C30–C33): for each concurrency model, a server in its
    /// own process and a load generator in another hold C loopback connections at once, each
    /// sending requests that wait --io-ms (or hash, with --cpu-work). Reports per model:
    /// connections held, requests done, errors, p50/p99/max latency from due time to reply,
    /// throughput, and the server's peak RSS, peak threads and CPU seconds.
    C10k(c10k::C10kArgs),
    /// Internal: the server of one c10k run.
    #[command(hide = true)]
    C10kServer {
        #[arg(long)]
        model: String,
        #[arg(long)]
        workload: String,
    },
    /// Internal: the load generator of one c10k run.
    #[command(hide = true)]
    C10kClient {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        workload: String,
    },
    /// The claims report: every figure the documents cite (C01…), the figures measured here
    /// that test it (Criterion's latest results, target/costs/*.json from the benches,
    /// `costs footprint` and `costs c10k`), and a verdict: within the claimed range, cheaper
    /// or dearer by ×N, or not measured yet with the command that measures it.
    Claims {
        /// Criterion's output directory.
        #[arg(long, value_name = "DIR", default_value = "target/criterion")]
        criterion_dir: PathBuf,
        /// Where the suite's own results are (default: <target dir>/costs).
        #[arg(long, value_name = "DIR")]
        costs_dir: Option<PathBuf>,
        /// Also write the table as markdown (for the README or a job summary).
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
        /// Also write the cost ladder: one bar per measured cost on a log scale, as SVG.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Print JSON rows for tools instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Memory per concurrency unit (claims C04, C12, C13): for each kind of unit, start N idle
    /// units in a fresh process, each parked on a channel, and report resident and virtual
    /// bytes per unit while all are alive, plus page tables and kernel stack per unit.
    Footprint {
        /// Units to start per kind.
        #[arg(long, default_value_t = 10_000)]
        units: usize,
        /// Measure only these kinds (repeatable); `--list` shows them all.
        #[arg(long = "unit", value_name = "KIND")]
        only: Vec<String>,
        /// List the kinds of unit and exit.
        #[arg(long)]
        list: bool,
        /// Print JSON rows for tools instead of a table.
        #[arg(long)]
        json: bool,
        /// Internal: measure one kind in this process and print its row as JSON.
        #[arg(long, hide = true, value_name = "KIND")]
        child: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Bmf,
    GithubActionBenchmark,
    Markdown,
}

#[derive(clap::Args)]
struct BaselineArgs {
    /// Baseline name: baselines/<NAME>.json. Default: this machine's fingerprint slug.
    #[arg(long, value_name = "NAME")]
    baseline: Option<String>,
    /// Where baselines live.
    #[arg(long, value_name = "DIR", default_value = "baselines")]
    baselines_dir: PathBuf,
    /// Criterion's output directory.
    #[arg(long, value_name = "DIR", default_value = "target/criterion")]
    criterion_dir: PathBuf,
}

impl BaselineArgs {
    fn path(&self, machine: &Machine) -> PathBuf {
        let name = self.baseline.clone().unwrap_or_else(|| machine.slug());
        self.baselines_dir.join(format!("{name}.json"))
    }
}

/// Threads are measured with Rust's default stack and with glibc's default (C04's 8 MiB).
const THREAD_UNITS: [(&str, usize); 2] = [
    ("thread_2mib_stack", 2 << 20),
    ("thread_8mib_stack", 8 << 20),
];

/// How long one kind may take, start to finish, before its process is killed.
const CHILD_DEADLINE: Duration = Duration::from_secs(180);

fn unit_kinds() -> Vec<&'static str> {
    THREAD_UNITS
        .iter()
        .map(|(name, _)| *name)
        .chain(FLAVOURS.iter().map(|f| f.id))
        .collect()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum Row {
    Measured(Footprint),
    Skipped { unit: String, reason: String },
    Failed { unit: String, reason: String },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Commands::Record { baseline } => exit_on_bad_input(record(&baseline)),
        Commands::Check {
            baseline,
            threshold,
            markdown,
            allow_other_machine,
            allow_missing,
            confirm,
            simulate_slowdown,
            runs_of,
            rerun,
        } => {
            let confirmation = Confirmation {
                runs_of,
                runs: if simulate_slowdown.is_some() {
                    0
                } else {
                    confirm
                },
                command: rerun,
                slowdown: simulate_slowdown.map_or(1.0, |pct| 1.0 + pct / 100.0),
            };
            let gate = threshold / 100.0;
            let checked = check(
                &baseline,
                gate,
                markdown.as_deref(),
                Tolerance {
                    other_machine: allow_other_machine,
                    missing: allow_missing,
                },
                &confirmation,
            );
            exit_on_bad_input(checked)
        }
        Commands::FixtureBench {
            work,
            criterion_dir,
        } => {
            fixture_bench(work, &criterion_dir);
            ExitCode::SUCCESS
        }
        Commands::Export {
            format,
            criterion_dir,
            output,
        } => exit_on_bad_input(export(format, &criterion_dir, output.as_deref())),
        Commands::C10k(args) => c10k::c10k(&args),
        Commands::Claims {
            criterion_dir,
            costs_dir,
            markdown,
            svg,
            json,
        } => claims(
            &criterion_dir,
            &costs_dir.unwrap_or_else(concurrency_costs::probe::costs_dir),
            markdown.as_deref(),
            svg.as_deref(),
            json,
        ),
        Commands::C10kServer { model, workload } => c10k::serve(&model, &workload),
        Commands::C10kClient { port, workload } => c10k::load(port, &workload),
        Commands::Footprint {
            units,
            only,
            list,
            json,
            child,
        } => {
            if list {
                unit_kinds().iter().for_each(|k| println!("{k}"));
                return ExitCode::SUCCESS;
            }
            if let Some(kind) = child {
                return measure_here(&kind, units);
            }
            footprint(units, only, json)
        }
    }
}

/// In the child process: measure one kind and print its row.
fn measure_here(kind: &str, units: usize) -> ExitCode {
    let row = if let Some((_, stack)) = THREAD_UNITS.iter().find(|(name, _)| *name == kind) {
        Row::Measured(Footprint::from_sample(kind, &parked_threads(units, *stack)))
    } else if let Some(flavour) = FLAVOURS.iter().find(|f| f.id == kind) {
        match (flavour.start)() {
            Ok(mut scheduler) => Row::Measured(Footprint::from_sample(
                kind,
                &scheduler.parked_footprint(units),
            )),
            Err(why) => Row::Skipped {
                unit: kind.into(),
                reason: why.to_string(),
            },
        }
    } else {
        eprintln!("costs: unknown unit kind {kind:?}");
        return ExitCode::from(2);
    };
    println!("{}", serde_json::to_string(&row).expect("a row serialises"));
    ExitCode::SUCCESS
}

fn footprint(units: usize, only: Vec<String>, json: bool) -> ExitCode {
    let known = unit_kinds();
    if let Some(unknown) = only.iter().find(|k| !known.contains(&k.as_str())) {
        eprintln!("costs: unknown unit kind {unknown:?}; `costs footprint --list` shows the kinds");
        return ExitCode::from(2);
    }
    let kinds: Vec<&str> = match only.is_empty() {
        true => known,
        false => known
            .into_iter()
            .filter(|k| only.iter().any(|o| o == k))
            .collect(),
    };
    let rows: Vec<Row> = kinds
        .iter()
        .map(|kind| {
            eprintln!("measuring {units} × {kind} ...");
            measure_in_child(kind, units)
        })
        .collect();
    if json {
        for row in &rows {
            println!("{}", serde_json::to_string(row).expect("a row serialises"));
        }
    } else {
        print_table(&rows);
    }
    if let Err(e) = keep_footprints(&rows) {
        eprintln!("costs: cannot keep the results in target/costs: {e}");
    }
    let all_complete = rows.iter().all(|row| match row {
        Row::Measured(f) => f.is_complete(),
        Row::Skipped { .. } => true,
        Row::Failed { .. } => false,
    });
    if all_complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Merges the measured rows into `target/costs/footprint.json` (unit → row), atomically, for
/// the claims report.
fn keep_footprints(rows: &[Row]) -> std::io::Result<()> {
    let dir = concurrency_costs::probe::costs_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("footprint.json");
    let mut kept: std::collections::BTreeMap<String, Footprint> = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    for row in rows {
        if let Row::Measured(f) = row {
            kept.insert(f.unit.clone(), f.clone());
        }
    }
    baseline::write_atomically(&path, &serde_json::to_vec_pretty(&kept)?)
}

/// Prints the claims report and writes its markdown and SVG where asked.
fn claims(
    criterion_dir: &Path,
    costs_dir: &Path,
    markdown: Option<&Path>,
    svg: Option<&Path>,
    json: bool,
) -> ExitCode {
    use concurrency_costs::claims::{Results, evaluate, ladder_svg};
    let results = Results::load(criterion_dir, costs_dir);
    let rows = evaluate(&results);
    let machine = Environment::capture().summary();
    if json {
        for row in &rows {
            println!("{}", serde_json::to_string(row).expect("a row serialises"));
        }
    } else {
        println!("machine: {machine}");
        print!("{}", concurrency_costs::claims::text(&rows));
    }
    let outputs = [
        (
            markdown,
            concurrency_costs::claims::markdown(&rows, &machine),
        ),
        (svg, ladder_svg(&results, &machine)),
    ];
    for (path, contents) in outputs {
        let Some(path) = path else { continue };
        if let Err(e) = baseline::write_atomically(path, contents.as_bytes()) {
            eprintln!("costs: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("costs: wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

/// Runs `costs footprint --child KIND` and reads its row, killing it past the deadline.
fn measure_in_child(kind: &str, units: usize) -> Row {
    let failed = |reason: String| Row::Failed {
        unit: kind.into(),
        reason,
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return failed(format!("cannot find this program: {e}")),
    };
    let mut child = match Command::new(exe)
        .args(["footprint", "--child", kind, "--units", &units.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return failed(format!("cannot start the measuring process: {e}")),
    };
    let deadline = Instant::now() + CHILD_DEADLINE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return failed(format!("did not finish within {CHILD_DEADLINE:?}; killed"));
            }
            Err(e) => return failed(format!("cannot wait for the measuring process: {e}")),
        }
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    if !status.success() {
        return failed(format!("the measuring process failed ({status})"));
    }
    serde_json::from_str(out.trim()).unwrap_or_else(|e| failed(format!("unreadable row: {e}")))
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<24} {:>7} {:>13} {:>14} {:>13} {:>13}  all alive, all gone",
        "unit", "units", "RSS/unit", "virtual/unit", "page tables", "kernel stack"
    );
    for row in rows {
        match row {
            Row::Measured(f) => println!(
                "{:<24} {:>7} {:>13} {:>14} {:>13} {:>13}  {}",
                f.unit,
                f.units,
                kib(f.rss_per_unit),
                kib(f.virtual_per_unit),
                kib(f.page_tables_per_unit),
                kib(f.kernel_stack_per_unit),
                match f.is_complete() {
                    true => "yes".to_string(),
                    false => format!("NO: {} alive, {} finished", f.alive, f.finished),
                }
            ),
            Row::Skipped { unit, reason } => println!("{unit:<24} skipped: {reason}"),
            Row::Failed { unit, reason } => println!("{unit:<24} FAILED: {reason}"),
        }
    }
}

fn exit_on_bad_input(result: Result<ExitCode, BadInput>) -> ExitCode {
    result.unwrap_or_else(|bad| {
        eprintln!("costs: {bad}");
        ExitCode::from(2)
    })
}

fn today() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn record(args: &BaselineArgs) -> Result<ExitCode, BadInput> {
    let env = Environment::capture();
    let path = args.path(&Machine::of(&env));
    let results = baseline::read_criterion(&args.criterion_dir)?;
    let previous = match baseline::load(&path) {
        Ok(previous) => Some(previous),
        Err(BadInput::Missing(_)) => None,
        // Never overwrite a file we could not read: it may hold good data.
        Err(other) => return Err(other),
    };
    let updated = baseline::record(previous, &results, &env, &today());
    if let Err(e) =
        std::fs::create_dir_all(&args.baselines_dir).and_then(|()| baseline::save(&path, &updated))
    {
        return Err(BadInput::Unwritable(path, e));
    }
    println!(
        "recorded {} into {} ({} so far)",
        count(results.len(), "benchmark"),
        path.display(),
        count(updated.recorded.len(), "run")
    );
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

/// What `check` accepts that it would otherwise refuse as bad input.
struct Tolerance {
    other_machine: bool,
    missing: bool,
}

/// How suspected regressions are re-run before they fail a job.
struct Confirmation {
    /// Judge these recorded runs instead of Criterion's latest results (nothing re-run).
    runs_of: Option<String>,
    runs: u32,
    command: String,
    /// Every latest result is multiplied by this before deciding (1: as measured).
    slowdown: f64,
}

/// How long one re-run may take before it is stopped.
const RERUN_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// A regex matching exactly `id`, for Criterion's filter.
fn exact_filter(id: &str) -> String {
    let mut filter = String::from("^");
    for c in id.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            filter.push('\\');
        }
        filter.push(c);
    }
    filter.push('$');
    filter
}

/// Runs the re-run command for the suspects; `Err` says why it could not.
fn rerun(command: &str, suspects: &[&str]) -> Result<(), String> {
    let mut words = command.split_whitespace();
    let program = words.next().ok_or("empty --rerun command")?;
    let filter = suspects
        .iter()
        .map(|id| exact_filter(id))
        .collect::<Vec<_>>()
        .join("|");
    let mut child = Command::new(program)
        .args(words)
        .arg(&filter)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let deadline = Instant::now() + RERUN_DEADLINE;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("the re-run failed ({status})")),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the re-run took longer than {RERUN_DEADLINE:?}; stopped"
                ));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn check(
    args: &BaselineArgs,
    threshold: f64,
    markdown: Option<&Path>,
    tolerance: Tolerance,
    confirmation: &Confirmation,
) -> Result<ExitCode, BadInput> {
    let here = Machine::of(&Environment::capture());
    let path = args.path(&here);
    let stored = baseline::load(&path)?;
    if stored.machine != here && !tolerance.other_machine {
        return Err(BadInput::OtherMachine {
            path,
            stored: stored.machine.slug(),
            here: here.slug(),
        });
    }
    let mut results = match &confirmation.runs_of {
        None => baseline::read_criterion(&args.criterion_dir)?,
        Some(name) => {
            let runs_path = args.baselines_dir.join(format!("{name}.json"));
            let runs = baseline::load(&runs_path)?;
            if runs.machine != stored.machine {
                return Err(BadInput::OtherMachine {
                    path: runs_path,
                    stored: runs.machine.slug(),
                    here: stored.machine.slug(),
                });
            }
            baseline::runs_as_estimates(&runs)
        }
    };
    for estimate in results.values_mut() {
        estimate.mean_ns *= confirmation.slowdown;
        estimate.ci_low_ns *= confirmation.slowdown;
        estimate.ci_high_ns *= confirmation.slowdown;
    }
    let mut decisions = baseline::compare(&stored, &results, threshold);
    for round in 1..=confirmation.runs {
        let suspects: Vec<&str> = decisions
            .iter()
            .filter(|d| d.verdict == Verdict::Regressed)
            .map(|d| d.id.as_str())
            .collect();
        if suspects.is_empty() {
            break;
        }
        eprintln!(
            "confirming {} suspected regressions ({round}/{})",
            suspects.len(),
            confirmation.runs
        );
        if let Err(why) = rerun(&confirmation.command, &suspects) {
            eprintln!("costs: {why}; deciding on the results at hand");
            break;
        }
        let rerun_results = baseline::read_criterion(&args.criterion_dir)?;
        let confirmed = baseline::compare(&stored, &rerun_results, threshold);
        for decision in decisions
            .iter_mut()
            .filter(|d| d.verdict == Verdict::Regressed)
        {
            if let Some(again) = confirmed.iter().find(|c| c.id == decision.id) {
                if again.verdict != Verdict::Regressed {
                    *decision = again.clone();
                }
            }
        }
    }
    let table = decision_table(&decisions);
    print!("{table}");
    if let Some(file) = markdown {
        if let Err(e) = std::fs::write(file, &table) {
            eprintln!("costs: cannot write {}: {e}", file.display());
        }
    }
    let regressed = decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Regressed)
        .count();
    let not_run: Vec<String> = decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Missing)
        .map(|d| d.id.clone())
        .collect();
    if !not_run.is_empty() && !tolerance.missing {
        return Err(BadInput::NotRun {
            path,
            ids: not_run,
            regressed,
        });
    }
    Ok(if regressed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A markdown table, readable as plain text too.
fn decision_table(decisions: &[Decision]) -> String {
    let mut out = String::from("| benchmark | verdict | change | gates on |\n|---|---|---|---|\n");
    for d in decisions {
        let verdict = match d.verdict {
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Regressed => "**REGRESSED**",
            Verdict::New => "new",
            Verdict::Missing => "missing",
        };
        let change = d
            .change
            .map_or("—".to_string(), |c| format!("{:+.1}%", c * 100.0));
        out.push_str(&format!(
            "| `{}` | {verdict} | {change} | ≥ {:.1}% |\n",
            d.id,
            d.gate * 100.0
        ));
    }
    let regressed = decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Regressed)
        .count();
    out.push_str(&format!(
        "\n{regressed} regressed of {} benchmarks\n",
        decisions.len()
    ));
    out
}

fn export(
    format: Format,
    criterion_dir: &Path,
    output: Option<&Path>,
) -> Result<ExitCode, BadInput> {
    let results = baseline::read_criterion(criterion_dir)?;
    let format = match format {
        Format::Bmf => baseline::ExportFormat::Bmf,
        Format::GithubActionBenchmark => baseline::ExportFormat::GithubActionBenchmark,
        Format::Markdown => baseline::ExportFormat::Markdown,
    };
    let text = baseline::export(&results, format);
    match output {
        None => println!("{text}"),
        Some(file) => {
            std::fs::write(file, text + "\n").map_err(|e| BadInput::Unwritable(file.into(), e))?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Criterion, configured in-process, measuring `work` iterations of a loop the optimiser
/// cannot remove.
fn fixture_bench(work: u64, criterion_dir: &Path) {
    let mut criterion = criterion::Criterion::default()
        .output_directory(criterion_dir)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(600))
        .sample_size(20)
        .without_plots();
    criterion
        .benchmark_group("fixture")
        .bench_function("spin/1", |b| {
            b.iter(|| concurrency_costs::probe::burn(Duration::from_nanos(work)))
        });
}
