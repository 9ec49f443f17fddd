//! `costs`: the suite's command-line tool. Benchmarks live in `cargo bench`; this binary
//! measures what Criterion cannot (memory per unit, whole servers), reads what Criterion
//! writes, and guards it against regressions. Each command's glue lives in a file of its own.

#[path = "costs/c10k.rs"]
mod c10k;
#[path = "costs/claims.rs"]
mod claims;
#[path = "costs/count.rs"]
mod count;
#[path = "costs/flamegraph.rs"]
mod flamegraph;
#[path = "costs/footprint.rs"]
mod footprint;
#[path = "costs/gate.rs"]
mod gate;

use clap::{Parser, Subcommand};
use concurrency_costs::gate::BadInput;
use concurrency_costs::gate::export::ExportFormat;
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  costs compare --base origin/main                         (or: scripts/compare-commits.sh BASE)
  costs record --criterion-dir target/criterion            (or: scripts/update-baseline.sh)
  costs check --criterion-dir round-1 --criterion-dir round-2 --json verdicts.json
  costs claims --markdown claims.md --svg ladder.svg
  costs footprint --units 1000 --unit tokio_multi_thread_2w
  costs c10k --connections 1000 --model tokio_current_thread";

#[derive(Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Record runs of the suite into this machine's stored baseline.
    ///
    /// Each --criterion-dir (default: Criterion's output directory) is one run.
    /// A baseline holds runs of one commit; a run of another commit starts a new set. `costs
    /// check` needs 5 runs of the set's commit.
    Record(gate::RecordArgs),
    /// Judge a run against this machine's stored baseline (the nightly trend).
    ///
    /// The nightly gate is paired instead: `scripts/check.sh --paired` compares the head with
    /// the commit the baseline was recorded from (--print-commit), as `costs compare` does a
    /// pull request.
    ///
    /// Each --criterion-dir is one round of this run, fresh for it (scripts/check.sh makes
    /// them). Per benchmark: improved, unchanged, regressed, bimodal, new or missing. A
    /// regression is a change of the median over the rounds from the median of the recorded
    /// runs beyond --threshold and beyond 5 robust sigmas of the noise of both. Exit 0: no
    /// regression; 1: regression; 2: bad input, including a benchmark of the baseline that this
    /// run lacks (see --allow-missing).
    Check(gate::CheckArgs),
    /// Compare a base and a head build of the suite, paired and interleaved (pull requests).
    ///
    /// Every benchmark runs in short fresh processes, base and head in ABBA quads seconds
    /// apart, judged on the paired ratios; the budget left after the first quads goes to the
    /// benchmarks still undecided.
    /// A regression is a change whose whole 95% interval lies above --threshold. Exit 0: no
    /// regression; 1: regression; 2: bad input. scripts/compare-commits.sh wraps it; an
    /// option given twice takes its last value, so the caller's --json or --markdown wins.
    #[command(args_override_self = true)]
    Compare(gate::CompareArgs),
    /// Count what one iteration of each benchmark costs in events the host cannot move.
    ///
    /// Instructions under callgrind (every thread of the bench process), and syscalls,
    /// voluntary and involuntary context switches and page faults counted by the kernel
    /// (natively, the process and its children), per iteration: the difference between N and
    /// 2N iterations, so setup is left out. Each lane counts every benchmark --repetitions
    /// times in fresh processes; a count whose repetitions differ by more than it could gate
    /// on says so. A lane this machine cannot count in (no valgrind, perf events refused) is
    /// skipped with one line.
    Count(count::CountArgs),
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
    Which(gate::WhichArgs),
    /// Write Criterion's latest results for other tools.
    ///
    /// Bencher Metric Format JSON, github-action-benchmark's customSmallerIsBetter JSON, or a
    /// markdown table.
    Export {
        #[arg(long, value_enum)]
        format: Format,
        /// Criterion's output directory (default: $CRITERION_HOME, else <target>/criterion).
        #[arg(long, value_name = "DIR")]
        criterion_dir: Option<PathBuf>,
        /// Write here instead of to standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Whole servers holding thousands of connections, per concurrency model (C13, C14, C30–C33).
    ///
    /// For each model, a server in its own process and a load generator in another hold C
    /// loopback connections at once, each sending requests that wait --io-ms (or hash, with
    /// --cpu-work).
    /// Reports per model: connections held, requests done, errors, p50/p99/max latency from due
    /// time to reply, throughput, and the server's peak RSS, peak threads and CPU seconds.
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
    /// The documents' figures beside the ones measured here, with a verdict each.
    ///
    /// Every figure the documents cite (C01…), the figures measured here that test it
    /// (Criterion's latest results, target/costs/*.json from the benches, `costs footprint` and
    /// `costs c10k`), and a verdict: within the claimed range, cheaper or dearer by ×N, or not
    /// measured yet with the command that measures it.
    Claims {
        /// Criterion's output directory (default: $CRITERION_HOME, else <target>/criterion).
        #[arg(long, value_name = "DIR")]
        criterion_dir: Option<PathBuf>,
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
    /// Memory per concurrency unit: threads, tasks, coroutines (C04, C12, C13).
    ///
    /// For each kind of unit, start N idle units in a fresh process, each parked on a channel,
    /// and report resident and virtual bytes per unit while all are alive, plus page tables and
    /// kernel stack per unit.
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
    /// A flamegraph with kernel frames from `perf script` output (scripts/flamegraph.sh).
    ///
    /// Folds the stacks of `perf record -g` as printed by `perf script` and draws them: the
    /// time a context switch or a fork spends in the kernel shows, which the in-process
    /// profiler of `--profile-time` cannot sample.
    Flamegraph {
        /// `perf script` output (default: standard input).
        input: Option<PathBuf>,
        /// Where to write the SVG.
        #[arg(long, short)]
        output: PathBuf,
        /// The title drawn above the graph.
        #[arg(long, default_value = "perf: kernel and user stacks")]
        title: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Bmf,
    GithubActionBenchmark,
    Markdown,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // clap's first line says what is wrong; the usage after it repeats `--help`.
            let message = e.to_string();
            let first = message.lines().next().unwrap_or("bad arguments");
            eprintln!("costs: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Commands::Record(args) => exit_on_bad_input(gate::record(&args)),
        Commands::Check(args) => exit_on_bad_input(gate::check(&args)),
        Commands::Compare(args) => exit_on_bad_input(gate::compare(&args)),
        Commands::Count(args) => exit_on_bad_input(count::count(&args)),
        Commands::Regressed { verdicts } => exit_on_bad_input(gate::regressed(&verdicts)),
        Commands::Which(args) => exit_on_bad_input(gate::which(&args)),
        Commands::Export {
            format,
            criterion_dir,
            output,
        } => {
            let format = match format {
                Format::Bmf => ExportFormat::Bmf,
                Format::GithubActionBenchmark => ExportFormat::GithubActionBenchmark,
                Format::Markdown => ExportFormat::Markdown,
            };
            let dir = criterion_dir.unwrap_or_else(gate::default_criterion_dir);
            exit_on_bad_input(gate::export_results(format, &dir, output.as_deref()))
        }
        Commands::C10k(args) => c10k::c10k(&args),
        Commands::Claims {
            criterion_dir,
            costs_dir,
            markdown,
            svg,
            json,
        } => claims::claims(
            &criterion_dir.unwrap_or_else(gate::default_criterion_dir),
            &costs_dir.unwrap_or_else(concurrency_costs::provenance::costs_dir),
            markdown.as_deref(),
            svg.as_deref(),
            json,
        ),
        Commands::Flamegraph {
            input,
            output,
            title,
        } => flamegraph::flamegraph(input.as_deref(), &output, &title),
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
                footprint::unit_kinds().iter().for_each(|k| println!("{k}"));
                return ExitCode::SUCCESS;
            }
            if let Some(kind) = child {
                return footprint::measure_here(&kind, units);
            }
            footprint::footprint(units, only, json)
        }
    }
}

fn exit_on_bad_input(result: Result<ExitCode, BadInput>) -> ExitCode {
    result.unwrap_or_else(|bad| {
        eprintln!("costs: {bad}");
        ExitCode::from(2)
    })
}
