//! `count`, `record --counts` and `check --counts`: the count lane's commands, as glue over
//! [`crate::count`].

use crate::count::baseline::{self, Dependencies, StoredCounts};
use crate::count::judge::{CountJudgement, CountVerdict, judge};
use crate::count::run::{self, CountRun, Lanes, Settings};
use crate::count::{COUNTS, Counted};
use crate::criterion::read_criterion;
use crate::executables::{self, BenchBinary};
use crate::host::Build;
use crate::units::human_ns;
use crate::{BadInput, builds};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LaneChoice {
    Both,
    Kernel,
    Instructions,
}

#[derive(Args, Clone)]
pub struct CountArgs {
    /// Count only the benchmarks whose ID matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,
    /// Also write one object per benchmark as JSON: `id`, each count per iteration,
    /// `spread_pct`, or `skipped` with the reason.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// How many times each lane counts every benchmark, in fresh processes (at least 2: the
    /// spread is what says whether a count repeats).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(2..))]
    pub repetitions: u16,
    /// Which lanes to count in.
    #[arg(long, value_enum, default_value_t = LaneChoice::Both)]
    pub lane: LaneChoice,
    /// Count the bench executables in DIR (file name = bench name, as `costs compare
    /// --base` leaves them) instead of building this tree's.
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
}

impl CountArgs {
    fn settings(&self) -> Settings {
        Settings {
            repetitions: self.repetitions as usize,
            filter: self.filter.clone(),
            kernel: self.lane != LaneChoice::Instructions,
            instructions: self.lane != LaneChoice::Kernel,
            iterations: BTreeMap::new(),
        }
    }
}

/// How `costs record --counts` and `costs check --counts` count.
#[derive(Args, Clone)]
pub struct StoredCountArgs {
    /// With --counts: how many times each lane counts every benchmark.
    #[arg(long, default_value_t = 3, requires = "counts", value_parser = clap::value_parser!(u16).range(2..))]
    pub repetitions: u16,
    /// With --counts: count the bench executables in DIR (file name = bench name) instead of
    /// building this tree's.
    #[arg(long, value_name = "DIR", requires = "counts")]
    pub bin_dir: Option<PathBuf>,
}

/// How `costs compare` counts both builds.
#[derive(Args, Clone)]
pub struct CompareCountArgs {
    /// Time only: leave out the count lane (instructions under valgrind; syscalls, switches
    /// and faults from the kernel), which otherwise counts both builds first.
    #[arg(long)]
    pub no_counts: bool,
    /// The smallest growth of a count, in percent, that fails (more where the count's spread
    /// is larger: three times it).
    #[arg(long, default_value_t = 1.0, value_parser = super::percentage)]
    pub count_threshold: f64,
    /// How many times each lane counts every benchmark of each build.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(2..))]
    pub count_repetitions: u16,
}

/// Where the processes' output lives while a count runs.
fn scratch() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    target
        .join("count")
        .join(format!("scratch-{}", std::process::id()))
}

/// Says, one line each, which lanes this machine cannot count in.
fn say_missing_lanes(lanes: &Lanes, settings: &Settings) {
    if let (Err(why), true) = (&lanes.kernel, settings.kernel) {
        eprintln!("count: kernel lane skipped: {why}");
    }
    if let (Err(why), true) = (&lanes.instructions, settings.instructions) {
        eprintln!("count: instructions lane skipped: {why}");
    }
}

/// Counts the executables `binaries` as `args` say; each benchmark `like` holds is counted
/// at the same N, so that both sides of a comparison do the same work.
pub fn count_binaries(
    binaries: &[BenchBinary],
    args: &CountArgs,
    like: &[Counted],
) -> Result<CountRun, BadInput> {
    let settings = Settings {
        iterations: like
            .iter()
            .filter_map(|c| Some((c.id.clone(), c.iterations?)))
            .collect(),
        ..args.settings()
    };
    let lanes = Lanes::here();
    say_missing_lanes(&lanes, &settings);
    let scratch = scratch();
    std::fs::create_dir_all(&scratch).map_err(|e| BadInput::Unwritable(scratch.clone(), e))?;
    let counted = run::count(binaries, &settings, &lanes, &scratch, &mut |l| {
        eprintln!("{l}")
    });
    let _ = std::fs::remove_dir_all(&scratch);
    let counted = counted.map_err(BadInput::Cannot)?;
    if counted.benchmarks.is_empty() {
        return Err(BadInput::Cannot(match &args.filter {
            Some(f) => format!("no benchmark matches --filter {f:?}"),
            None => "no benchmarks to count".into(),
        }));
    }
    Ok(counted)
}

/// The bench executables to count: those in `--bin-dir`, or this tree's, built.
fn binaries(args: &CountArgs) -> Result<Vec<BenchBinary>, BadInput> {
    match &args.bin_dir {
        Some(dir) => super::binaries_in(dir),
        None => executables::build(Path::new("."), None, None).map_err(BadInput::Cannot),
    }
}

/// What a count depends on, for this tree.
fn dependencies_here(build: &Build) -> Dependencies {
    let valgrind = crate::count::callgrind::available().ok();
    Dependencies::here(Path::new("Cargo.lock"), valgrind.as_deref(), &build.rustc)
}

pub fn count(args: &CountArgs, build: &Build) -> Result<ExitCode, BadInput> {
    let counted = count_binaries(&binaries(args)?, args, &[])?;
    let times = read_criterion(&super::default_criterion_dir()).unwrap_or_default();
    print!(
        "{}",
        table(&counted, &|id| times.get(id).map(|e| e.mean_ns))
    );
    if let Some(file) = &args.json {
        let provenance = serde_json::json!({
            "commit": build.commit,
            "dependencies": dependencies_here(build),
        });
        let json = run::json(&counted, provenance);
        crate::durable::write_atomically(file, json.as_bytes())
            .map_err(|e| BadInput::Unwritable(file.clone(), e))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The counts per iteration beside Criterion's latest time, a row per benchmark.
fn table(run: &CountRun, time_ns: &dyn Fn(&str) -> Option<f64>) -> String {
    let mut out = String::from(
        "| benchmark | time (latest) | instructions | syscalls | voluntary sw | involuntary sw | minor faults | major faults | spread | note |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in &run.benchmarks {
        let cells: Vec<String> = COUNTS
            .iter()
            .map(|name| run::shown(c.count(name)))
            .collect();
        let spread = c.spread_pct().map_or("—".into(), |s| format!("{s:.2}%"));
        let not_repeating: Vec<String> = c
            .counts
            .iter()
            .filter(|(name, n)| !n.values.is_empty() && !n.repeats(name))
            .map(|(name, n)| format!("{name} does not repeat ({:.0}%)", n.spread_pct()))
            .collect();
        let skipped = c
            .not_counted
            .iter()
            .map(|(lane, why)| format!("{lane}: {why}"));
        let note: Vec<String> = not_repeating.into_iter().chain(skipped).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {spread} | {} |\n",
            c.id,
            time_ns(&c.id).map_or("—".into(), human_ns),
            cells.join(" | "),
            note.join("; ")
        ));
    }
    out.push_str(&format!(
        "\n{} benchmarks counted in {:.1} min; per iteration, the median of the repetitions.\n",
        run.benchmarks.len(),
        run.seconds / 60.0
    ));
    out
}

/// `baselines/<NAME>.counts.json`: the count baseline beside the timing one of that name.
pub fn counts_path(
    args: &super::BaselineArgs,
    machine: &crate::store::Machine,
) -> Result<PathBuf, BadInput> {
    baseline::path(args.dir(), &args.name(machine))
}

/// `costs record --counts`: counts this tree and stores the counts with what they depend on.
pub fn record(
    path: &Path,
    args: &CountArgs,
    build: &Build,
    allow_dirty: bool,
) -> Result<ExitCode, BadInput> {
    let commit = build.commit.clone();
    if build.is_dirty() && !allow_dirty {
        return Err(BadInput::Dirty(commit));
    }
    if args.filter.is_some() {
        return Err(BadInput::Cannot(
            "a stored count baseline holds the whole suite: record it without --filter".into(),
        ));
    }
    let counted = count_binaries(&binaries(args)?, args, &[])?;
    let stored = StoredCounts {
        schema: baseline::SCHEMA,
        commit,
        recorded: super::today(),
        dependencies: dependencies_here(build),
        benchmarks: counted.benchmarks,
    };
    baseline::save(path, &stored)?;
    println!(
        "recorded the counts of {} benchmarks of {} into {} ({:.1} min)",
        stored.benchmarks.len(),
        stored.commit,
        path.display(),
        counted.seconds / 60.0
    );
    Ok(ExitCode::SUCCESS)
}

/// `costs check --counts`: this tree's counts against the stored ones, or against a fresh
/// count of the stored commit when what the stored counts depend on differs here.
pub fn check(
    path: &Path,
    args: &CountArgs,
    threshold: f64,
    outputs: &super::Outputs,
    build: &Build,
) -> Result<ExitCode, BadInput> {
    let stored = baseline::load(path)?;
    let here = dependencies_here(build);
    let differences = stored.dependencies.differences(&here);
    let (base, head) = match differences.is_empty() {
        true => {
            let head = count_binaries(&binaries(args)?, args, &stored.benchmarks)?;
            (stored.benchmarks, head.benchmarks)
        }
        false => {
            eprintln!(
                "count: {} was counted with other dependencies ({}); counting its commit {} here instead",
                path.display(),
                differences.join("; "),
                stored.commit
            );
            // Both sides built in one worktree and target directory, as a comparison builds
            // them: a build's path goes into its symbols and code layout.
            let sides = builds::base_and_working_tree(&stored.commit, &[])?;
            let base = count_binaries(&super::binaries_in(&sides.base)?, args, &[])?;
            let head = count_binaries(&super::binaries_in(&sides.head)?, args, &base.benchmarks)?;
            (base.benchmarks, head.benchmarks)
        }
    };
    let judged = judge_all(&base, &head, threshold, args.filter.as_deref())?;
    let heading = format!("Counts against {} ({})", path.display(), stored.commit);
    conclude_counts(&judged, &heading, outputs)
}

/// Every benchmark of `head` against the same ID in `base`; a stored benchmark this count
/// lacks is missing, unless the filter left it out.
fn judge_all(
    base: &[Counted],
    head: &[Counted],
    threshold: f64,
    filter: Option<&str>,
) -> Result<Vec<CountJudgement>, BadInput> {
    let filter = match filter {
        Some(f) => Some(
            regex::Regex::new(f).map_err(|e| BadInput::Cannot(format!("--filter {f:?}: {e}")))?,
        ),
        None => None,
    };
    let base: BTreeMap<&str, &Counted> = base
        .iter()
        .filter(|c| filter.as_ref().is_none_or(|f| f.is_match(&c.id)))
        .map(|c| (c.id.as_str(), c))
        .collect();
    let mut judged: Vec<CountJudgement> = head
        .iter()
        .map(|h| match base.get(h.id.as_str()) {
            Some(b) => judge(b, h, threshold),
            None => CountJudgement::alone(&h.id, "new: the base has no counts for it"),
        })
        .collect();
    let heads: std::collections::BTreeSet<&str> = head.iter().map(|c| c.id.as_str()).collect();
    judged.extend(
        base.keys()
            .filter(|id| !heads.contains(*id))
            .map(|id| CountJudgement::alone(id, "missing: this count has no result for it")),
    );
    Ok(judged)
}

/// The count verdicts as the time lane's: `costs compare` joins the two.
pub fn by_id(judged: Vec<CountJudgement>) -> BTreeMap<String, CountJudgement> {
    judged.into_iter().map(|j| (j.id.clone(), j)).collect()
}

/// Counts both builds of a comparison, and judges the head's counts against the base's.
pub fn compare_builds(
    base: &[BenchBinary],
    head: &[BenchBinary],
    args: &CountArgs,
    threshold: f64,
) -> Result<(Vec<CountJudgement>, f64), BadInput> {
    let base = count_binaries(base, args, &[])?;
    let head = count_binaries(head, args, &base.benchmarks)?;
    let seconds = base.seconds + head.seconds;
    Ok((
        judge_all(
            &base.benchmarks,
            &head.benchmarks,
            threshold,
            args.filter.as_deref(),
        )?,
        seconds,
    ))
}

/// Whether the count lane decided anything against the head.
pub fn regressed(judged: &[CountJudgement]) -> usize {
    judged
        .iter()
        .filter(|j| j.verdict == CountVerdict::Regressed)
        .count()
}

/// The count settings of a gate command: every lane, the whole suite (or `filter`), this
/// tree's executables (or those in `bin_dir`).
pub fn counting(repetitions: u16, filter: Option<String>, bin_dir: Option<PathBuf>) -> CountArgs {
    CountArgs {
        filter,
        json: None,
        repetitions,
        lane: LaneChoice::Both,
        bin_dir,
    }
}

/// Prints and writes the count lane's verdicts, and turns them into the exit status.
pub fn conclude_counts(
    judged: &[CountJudgement],
    heading: &str,
    outputs: &super::Outputs,
) -> Result<ExitCode, BadInput> {
    use crate::count::report;
    let table = report::markdown(judged, heading);
    print!("{table}");
    outputs.write(&table, &report::json(judged))?;
    Ok(match regressed(judged) {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

/// The count lane of a comparison: both builds counted, the head judged against the base;
/// `None` without both builds.
pub fn compare_lane(
    args: &super::CompareArgs,
) -> Result<Option<BTreeMap<String, CountJudgement>>, BadInput> {
    let (Some(base), Some(head)) = (&args.base_bin, &args.head_bin) else {
        return Ok(None);
    };
    let counting = counting(args.counting.count_repetitions, args.filter.clone(), None);
    let (judged, seconds) = compare_builds(
        &super::binaries_in(base)?,
        &super::binaries_in(head)?,
        &counting,
        args.counting.count_threshold / 100.0,
    )?;
    eprintln!(
        "{} ({:.1} min)",
        crate::count::report::Summary::of(&judged).line(),
        seconds / 60.0
    );
    Ok(Some(by_id(judged)))
}
