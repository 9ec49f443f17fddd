//! `costs c10k`: the command line of the whole-server runs, and its progress bar.

use concurrency_costs::c10k::orchestrate::{self, ModelRun, Outcome, Progress, Quiet};
use concurrency_costs::c10k::report::{self, C10kReport};
use concurrency_costs::c10k::{CpuPlacement, Model, Work, Workload, client, server};
use concurrency_costs::environment::Environment;
use concurrency_costs::provenance::{Mode, Run};
use indicatif::{ProgressBar, ProgressStyle};
use std::cell::RefCell;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(clap::Args)]
pub struct C10kArgs {
    /// Run this model (repeatable). Without --model, every model runs; `--list` shows them.
    #[arg(long = "model", value_name = "MODEL")]
    models: Vec<String>,
    /// Run every model in turn (the default when no --model is given).
    #[arg(long, conflicts_with = "models")]
    all: bool,
    /// List the models and exit.
    #[arg(long)]
    list: bool,
    /// Connections opened and held at once before any request is sent.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    connections: usize,
    /// Requests each connection sends, one after another.
    #[arg(long, default_value_t = 1, value_name = "N")]
    requests: u32,
    /// Send at this many requests per second in total, each timed from when it was due;
    /// without it every connection sends at once.
    #[arg(long, value_name = "PER_SECOND", allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Simulated I/O per request, waited the model's own way.
    #[arg(
        long,
        default_value_t = 10.0,
        value_name = "MS",
        allow_negative_numbers = true
    )]
    io_ms: f64,
    /// CPU-bound requests instead: each hashes a buffer (SHA-256) of --hash-kib.
    #[arg(long)]
    cpu_work: bool,
    /// The buffer each CPU-bound request hashes.
    #[arg(long, default_value_t = 64, value_name = "KIB")]
    hash_kib: usize,
    /// With --cpu-work: where the async models hash, on the loop or on the runtime's pool.
    #[arg(long, value_enum, default_value_t = PlacementArg::Inline)]
    placement: PlacementArg,
    /// Threads of the thread_pool model.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pool_threads: usize,
    /// Worker processes of the prefork model.
    #[arg(long, default_value_t = 100, value_name = "N")]
    prefork_workers: usize,
    /// Each model's run must end within this; what is unfinished is reported as partial.
    #[arg(
        long,
        default_value_t = 120.0,
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    deadline: f64,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PlacementArg {
    Inline,
    Pool,
}

/// The longest run `--deadline` may ask for: a day, far beyond any run of this tool, and
/// short of the durations that overflow the clock.
const LONGEST_DEADLINE_S: f64 = 86_400.0;

impl C10kArgs {
    /// Every value checked before a server or client starts: the first one out of range.
    fn check(&self) -> Result<(), String> {
        let counts = [
            ("--connections", self.connections),
            ("--requests", self.requests as usize),
            ("--hash-kib", self.hash_kib),
            ("--pool-threads", self.pool_threads),
            ("--prefork-workers", self.prefork_workers),
        ];
        if let Some((flag, _)) = counts.iter().find(|(_, n)| *n == 0) {
            return Err(format!("{flag} must be at least 1"));
        }
        if let Some(rate) = self.rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
            return Err(format!(
                "--rate {rate}: must be a number of requests per second above 0"
            ));
        }
        if !(self.io_ms.is_finite() && self.io_ms >= 0.0) {
            return Err(format!(
                "--io-ms {}: must be 0 or more milliseconds",
                self.io_ms
            ));
        }
        if !(self.deadline > 0.0 && self.deadline <= LONGEST_DEADLINE_S) {
            return Err(format!(
                "--deadline {}: must be above 0 and at most {LONGEST_DEADLINE_S} seconds",
                self.deadline
            ));
        }
        Ok(())
    }

    fn workload(&self) -> Workload {
        let work = match self.cpu_work {
            false => Work::Io { ms: self.io_ms },
            true => Work::Cpu {
                bytes: self.hash_kib << 10,
                placement: match self.placement {
                    PlacementArg::Inline => CpuPlacement::Inline,
                    PlacementArg::Pool => CpuPlacement::Pool,
                },
            },
        };
        Workload {
            connections: self.connections,
            requests_per_connection: self.requests,
            rate: self.rate,
            work,
            pool_threads: self.pool_threads,
            prefork_workers: self.prefork_workers,
            deadline_s: self.deadline,
        }
    }

    fn chosen_models(&self) -> Result<Vec<Model>, String> {
        if self.models.is_empty() {
            return Ok(Model::all());
        }
        self.models
            .iter()
            .map(|id| {
                Model::from_id(id).ok_or_else(|| {
                    format!("unknown model {id:?}; `costs c10k --list` shows the models")
                })
            })
            .collect()
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Ctrl-C stops the run in progress (its partial result is reported) and the runs after it.
fn catch_interrupt() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        let _ = sigaction(Signal::SIGINT, &action);
        let _ = sigaction(Signal::SIGTERM, &action);
    }
}

pub fn c10k(args: &C10kArgs) -> ExitCode {
    if args.list {
        Model::all().iter().for_each(|m| println!("{}", m.id()));
        return ExitCode::SUCCESS;
    }
    let models = match args.check().and_then(|()| args.chosen_models()) {
        Ok(models) => models,
        Err(why) => {
            eprintln!("costs: {why}");
            return ExitCode::from(2);
        }
    };
    let workload = args.workload();
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("costs: cannot find this program to start servers with: {e}");
            return ExitCode::from(2);
        }
    };
    catch_interrupt();
    let bar = Bar::new();
    let mut runs: Vec<ModelRun> = Vec::new();
    for model in models {
        if INTERRUPTED.load(Ordering::Relaxed) {
            eprintln!("costs: interrupted; {} not run", model.id());
            continue;
        }
        let progress: &dyn Progress = match args.json {
            true => &Quiet,
            false => &bar,
        };
        runs.push(orchestrate::run_model(
            model,
            &workload,
            &exe,
            progress,
            &INTERRUPTED,
        ));
    }
    let report = C10kReport {
        machine: Environment::capture().summary(),
        workload,
        runs,
        run: Some(Run::now(Mode::Tool)),
    };
    match args.json {
        true => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serialises")
        ),
        false => print!("{}", report::table(&report)),
    }
    match report::keep(&report) {
        Ok(path) => eprintln!("costs: results kept in {}", path.display()),
        Err(e) => eprintln!(
            "costs: cannot keep the results in {}: {e}",
            concurrency_costs::results::dir().display()
        ),
    }
    exit_status(
        &report.runs,
        &report.workload,
        INTERRUPTED.load(Ordering::Relaxed),
    )
}

/// Success only when some model ran and every run was clean or met its model's own limit;
/// each one that was not gets a line saying what went wrong, and each limit a line saying
/// it is the model's result.
fn exit_status(runs: &[ModelRun], workload: &Workload, interrupted: bool) -> ExitCode {
    let mut clean = !interrupted;
    for run in runs {
        if let Some(trouble) = run.trouble(workload) {
            eprintln!("costs: {}: {trouble}", run.model.id());
            clean = false;
        } else if let Some(limit) = run.limit(workload) {
            eprintln!("costs: {}: {limit} (the model's result)", run.model.id());
        }
    }
    if runs
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Skipped { .. }))
    {
        eprintln!("costs: no model could run on this machine (the table says why)");
        clean = false;
    }
    match clean {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    }
}

/// The server half of a run, in its own process.
pub fn serve(model: &str, workload: &str) -> ExitCode {
    let (Some(model), Ok(workload)) = (Model::from_id(model), serde_json::from_str(workload))
    else {
        eprintln!("costs: c10k-server needs a known --model and a --workload in JSON");
        return ExitCode::from(2);
    };
    match server::serve(model, &workload) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("costs: the {} server failed: {e}", model.id());
            ExitCode::from(1)
        }
    }
}

/// The client half of a run, in its own process.
pub fn load(port: u16, workload: &str) -> ExitCode {
    let Ok(workload) = serde_json::from_str::<Workload>(workload) else {
        eprintln!("costs: c10k-client needs a --workload in JSON");
        return ExitCode::from(2);
    };
    match client::run(server::loopback(port), &workload) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("costs: the client failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// A progress bar on standard error (hidden when it is not a terminal), a new one per model.
struct Bar(RefCell<ProgressBar>);

impl Bar {
    fn new() -> Bar {
        Bar(RefCell::new(ProgressBar::hidden()))
    }
}

impl Progress for Bar {
    fn connecting(&self, model: Model, connections: u64) {
        let bar = ProgressBar::new(connections).with_style(
            ProgressStyle::with_template("{prefix:>22} {msg:<10} [{bar:40}] {pos}/{len} {elapsed}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(model.id());
        bar.set_message("connecting");
        *self.0.borrow_mut() = bar;
    }
    fn connected(&self, n: u64) {
        self.0.borrow().set_position(n);
    }
    fn requesting(&self, requests: u64) {
        let bar = self.0.borrow();
        bar.set_message("requests");
        bar.set_length(requests);
        bar.set_position(0);
    }
    fn answered(&self, n: u64) {
        self.0.borrow().set_position(n);
    }
    fn done(&self) {
        self.0.borrow().finish_and_clear();
    }
}
