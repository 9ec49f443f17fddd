//! `costs`: the suite's command-line tool. Benchmarks live in `cargo bench`; this binary
//! measures what Criterion cannot (memory per unit, whole servers), reads what Criterion
//! writes, and guards it against regressions. Each command's glue lives in a file of its own.

mod c10k;
mod claims;
mod flamegraph;
mod footprint;
mod hosts;

use clap::{Parser, Subcommand};
use criterion_gate::cli::default_criterion_dir;
use criterion_gate::host::Build;
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  costs compare --base origin/main                         (or: scripts/compare-commits.sh BASE)
  costs record --criterion-dir target/criterion            (or: scripts/update-baseline.sh)
  costs check --criterion-dir round-1 --criterion-dir round-2 --json verdicts.json
  costs claims --markdown claims.md --svg ladder.svg --host-results results/hosts
  costs hosts                                              (every host side by side: docs/hosts.md)
  costs fresh docs/claims.md README.md                     (exit 1: a report is behind the code)
  costs footprint --units 1000 --unit tokio_multi_thread_2w
  costs c10k --connections 1000 --model tokio_current_thread";

#[derive(Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per process; clap cannot flatten a boxed subcommand"
)]
enum Commands {
    #[command(flatten)]
    Gate(criterion_gate::cli::Command),
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
        /// Also write this host's results file (every figure, the ladder, the host and the
        /// build) into this directory, for `costs hosts`.
        #[arg(long, value_name = "DIR")]
        host_results: Option<PathBuf>,
        /// Also rewrite the generated table between the markers of this README.
        #[arg(long, value_name = "FILE")]
        readme: Option<PathBuf>,
    },
    /// Every host's figures side by side: a page and a ladder from the host files.
    ///
    /// Reads every host file (`costs claims --host-results`, or `scripts/claims.sh`) and writes
    /// one table with a column per host and the documents' claim beside, and the cost ladder
    /// with a bar per host on every rung.
    Hosts {
        /// Where the host files are.
        #[arg(long, value_name = "DIR", default_value = concurrency_costs::hosts::HOSTS_DIR)]
        dir: PathBuf,
        #[arg(long, value_name = "FILE", default_value = "docs/hosts.md")]
        markdown: PathBuf,
        #[arg(long, value_name = "FILE", default_value = "docs/hosts-ladder.svg")]
        svg: PathBuf,
        /// First import an earlier results page (its "Measured on:" line and its claims
        /// table) as a host file.
        #[arg(long, value_name = "PAGE")]
        import: Option<PathBuf>,
        /// With --import: the CPU's family/model/stepping (`f26m2s1`), where the page's line
        /// does not give it.
        #[arg(long, value_name = "ID", requires = "import")]
        cpu_id: Option<String>,
    },
    /// Whether committed reports measured the code as it is now (exit 1 when one is behind).
    ///
    /// Compares the build each report names on its "Measured on:" line (or a host file's)
    /// with this build's: the last commit that changed measured code.
    Fresh {
        /// The reports to check.
        #[arg(default_values = ["docs/claims.md", "README.md"])]
        reports: Vec<PathBuf>,
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

fn main() -> ExitCode {
    let cli: Cli = match criterion_gate::cli::parse("costs") {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match cli.command {
        Commands::Gate(command) => criterion_gate::cli::run(command, &this_build(), "costs"),
        Commands::C10k(args) => c10k::c10k(&args),
        Commands::Claims {
            criterion_dir,
            costs_dir,
            markdown,
            svg,
            json,
            host_results,
            readme,
        } => claims::claims(
            &criterion_dir.unwrap_or_else(default_criterion_dir),
            &costs_dir.unwrap_or_else(concurrency_costs::results::dir),
            claims::Outputs {
                markdown: markdown.as_deref(),
                svg: svg.as_deref(),
                host_results: host_results.as_deref(),
                readme: readme.as_deref(),
            },
            json,
        ),
        Commands::Hosts {
            dir,
            markdown,
            svg,
            import,
            cpu_id,
        } => hosts::hosts(&dir, &markdown, &svg, import.as_deref(), cpu_id.as_deref()),
        Commands::Fresh { reports } => hosts::fresh(&reports),
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

/// What built the benches this tool runs: the last commit that changed measured code (a
/// commit of documents alone leaves every result standing), and the compiler.
fn this_build() -> Build {
    Build {
        commit: concurrency_costs::provenance::this_commit().to_string(),
        rustc: concurrency_costs::environment::Environment::capture().rustc,
    }
}
