//! `compare`: a base and a head build of the suite, built from git or given, counted, then
//! timed in pairs by the engine, and judged; or kept pairs judged again or replayed.

use super::{Outputs, binaries_in, conclude, count, count_lane, percentage};
use crate::engine::{self, Measured, Plan, Settings};
use crate::executables;
use crate::judge::{Judgement, Verdict};
use crate::{BadInput, builds, replay};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Clone)]
pub struct CompareArgs {
    /// Compare the working tree (the head: edits and untracked files included) with commit
    /// REV (the base): both are built here, one after the other in one worktree
    /// (target/compare/tree, removed afterwards) and one target directory
    /// (target/compare/tree-target, kept for the next build), into target/compare/base-bin
    /// and head-bin.
    #[arg(long, value_name = "REV", conflicts_with_all = ["base_bin", "head_bin", "rejudge", "replay"])]
    pub base: Option<String>,
    /// Put a dependency at another version on the base side only: after checking the base
    /// out, `cargo update -p NAME --precise VERSION` in its worktree. With `--base HEAD` and
    /// a clean tree, the one difference between the sides is that dependency's version: did
    /// its upgrade (the head's version) make the suite slower? Repeatable, one per crate.
    #[arg(long, value_name = "NAME@VERSION", requires = "base", value_parser = builds::Pin::parse)]
    pub base_dependency: Vec<builds::Pin>,
    /// The base build's bench executables (file name = bench name), as --base leaves them.
    #[arg(long, value_name = "DIR", requires = "head_bin", required_unless_present_any = ["rejudge", "base", "replay"])]
    pub base_bin: Option<PathBuf>,
    /// The head build's bench executables.
    #[arg(long, value_name = "DIR", requires = "base_bin")]
    pub head_bin: Option<PathBuf>,
    /// Compare only the benchmarks whose ID matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,
    /// Wall-clock minutes to spend measuring; the undecided get the time left after the
    /// first quads.
    #[arg(long, value_name = "MIN", default_value_t = Settings::DEFAULT.budget.as_secs_f64() / 60.0, value_parser = percentage)]
    budget_min: f64,
    /// The smallest slowdown, in percent, that may count as a regression: the whole 95%
    /// interval of the paired change (8 pairs or more) must lie above it, and the pairs
    /// measured after it first showed must confirm it.
    #[arg(long, default_value_t = Settings::DEFAULT.threshold * 100.0, value_parser = percentage)]
    threshold: f64,
    /// Quads (ABBA, two pairs each) every benchmark gets before any is judged.
    #[arg(long, default_value_t = Settings::DEFAULT.first_quads)]
    first_quads: usize,
    /// Pairs the fixed-look rule judges: its false-alarm rate was measured at this cap (more
    /// looks, more false verdicts).
    #[arg(long, default_value_t = Settings::DEFAULT.max_pairs)]
    max_pairs: usize,
    /// No benchmark gets more pairs than this. A benchmark still undecided at --max-pairs,
    /// with budget left, takes more and is judged on all of them by an always-valid
    /// confidence sequence, whose false-alarm rate (5% per comparison, shared among its
    /// benchmarks) holds however often it is looked at: a run of a few benchmarks spends the
    /// minutes it was given. Equal to --max-pairs: no pairs past the cap.
    #[arg(long, default_value_t = Settings::DEFAULT.pair_limit)]
    pair_limit: usize,
    /// Each benchmark's warm-up per process, in milliseconds. Measured on this project's
    /// machine, pairs of processes scatter about as much with 25/75 ms as with 50/150 ms
    /// (the noise is between processes, not within them), and cost 0.31 s instead of 0.50 s.
    #[arg(long, default_value_t = Settings::DEFAULT.warm_up_ms)]
    warm_up_ms: u64,
    /// Each benchmark's measurement time per process, in milliseconds.
    #[arg(long, default_value_t = Settings::DEFAULT.measurement_ms)]
    measurement_ms: u64,
    /// Criterion samples per process.
    #[arg(long, default_value_t = Settings::DEFAULT.sample_size)]
    sample_size: usize,
    /// Benchmarks of one bench binary measured in one process: fewer keep base and head of a
    /// benchmark closer in time, more spread the cost of starting a process.
    #[arg(long, default_value_t = Settings::DEFAULT.batch)]
    batch: usize,
    /// Where the measured pairs are kept (to judge again with --rejudge).
    #[arg(long, value_name = "FILE", default_value = "target/compare/pairs.json")]
    pairs: PathBuf,
    /// Judge the pairs kept in FILE instead of measuring (with another --threshold or
    /// --simulate-slowdown): the time lane only, counts are not kept with the pairs.
    #[arg(long, value_name = "FILE")]
    rejudge: Option<PathBuf>,
    /// Estimate the gate instead of measuring: run the engine --runs times on pairs drawn at
    /// random from those kept by comparisons of identical builds (A/A runs), with this
    /// command's --budget-min, --threshold, --simulate-slowdown and the like, and print how
    /// many benchmarks the runs failed. A replay cannot show what lasts longer than a pair (a
    /// slow spell of the host, an effect of one build): live A/A runs remain the test.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["rejudge", "base"])]
    replay: Vec<PathBuf>,
    /// How many runs --replay makes.
    #[arg(long, default_value_t = 100, requires = "replay")]
    runs: usize,
    #[command(flatten)]
    pub counting: count_lane::CompareCountArgs,
    #[command(flatten)]
    outputs: Outputs,
}

/// A commit's first twelve hex digits.
fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

pub fn compare(args: &CompareArgs) -> Result<ExitCode, BadInput> {
    if let Some(base) = &args.base {
        let built = builds::base_and_working_tree(base, &args.base_dependency)?;
        eprintln!(
            "base {}{} against head {}{}",
            short(&built.base_commit),
            args.base_dependency
                .iter()
                .map(|pin| format!(" with {pin}"))
                .collect::<String>(),
            short(&built.head_commit),
            if built.head_commit == built.base_commit && args.base_dependency.is_empty() {
                " (the same commit)"
            } else {
                ""
            }
        );
        return compare(&CompareArgs {
            base: None,
            base_bin: Some(built.base),
            head_bin: Some(built.head),
            ..args.clone()
        });
    }
    let threshold = args.threshold / 100.0;
    if !args.replay.is_empty() {
        return replay_kept(args, threshold);
    }
    let (measured, mut extra, counted) = match &args.rejudge {
        Some(file) => {
            let bytes = std::fs::read(file).map_err(|e| BadInput::Unreadable(file.clone(), e))?;
            let measured: Measured =
                serde_json::from_slice(&bytes).map_err(|e| BadInput::Corrupt(file.clone(), e))?;
            (measured, Vec::new(), None)
        }
        None => {
            let counted = match args.counting.no_counts {
                true => None,
                false => count_lane::compare_lane(args)?,
            };
            let (measured, extra) = measure(args, threshold)?;
            (measured, extra, counted)
        }
    };
    let mut judgements = engine::judge(&measured, threshold, args.outputs.slowdown());
    if let Some(counted) = counted {
        judgements = judgements
            .into_iter()
            .map(|j| match counted.get(&j.id) {
                Some(c) => j.with_counts(c.clone()),
                None => j,
            })
            .collect();
    }
    judgements.append(&mut extra);
    let heading = format!(
        "Head against base: {} measured in {:.1} min, threshold {}%",
        count(measured.benchmarks.len(), "benchmark"),
        measured.seconds / 60.0,
        args.threshold
    );
    conclude(&judgements, &heading, "paired", &args.outputs, "the base")
}

/// How the engine measures and spends, as the arguments say.
fn settings(args: &CompareArgs, threshold: f64) -> Settings {
    Settings {
        warm_up_ms: args.warm_up_ms,
        measurement_ms: args.measurement_ms,
        sample_size: args.sample_size,
        first_quads: args.first_quads,
        max_pairs: args.max_pairs,
        pair_limit: args.pair_limit,
        budget: Duration::from_secs_f64(args.budget_min * 60.0),
        threshold,
        slowdown: args.outputs.slowdown(),
        batch: args.batch,
        ..Settings::DEFAULT
    }
    .workable()
}

/// `--replay`: the engine run on draws from kept A/A pairs, summarised.
fn replay_kept(args: &CompareArgs, threshold: f64) -> Result<ExitCode, BadInput> {
    let mut kept = Vec::new();
    for file in &args.replay {
        let bytes = std::fs::read(file).map_err(|e| BadInput::Unreadable(file.clone(), e))?;
        let measured: Measured =
            serde_json::from_slice(&bytes).map_err(|e| BadInput::Corrupt(file.clone(), e))?;
        kept.push(measured);
    }
    let pool = replay::Pool::of(&kept).map_err(BadInput::Cannot)?;
    let settings = settings(args, threshold);
    eprintln!(
        "replaying {} runs on {}, budget {} min, threshold {}%, slowdown {}%",
        args.runs,
        pool.describe(),
        args.budget_min,
        args.threshold,
        args.outputs.simulate_slowdown.unwrap_or(0.0)
    );
    let runs = replay::replay(&pool, &settings, args.runs);
    println!("{}", replay::summary(&runs));
    Ok(ExitCode::SUCCESS)
}

/// Builds or finds both sides, pairs their benchmarks and measures them; also returns the
/// verdicts on benchmarks only one side has.
fn measure(args: &CompareArgs, threshold: f64) -> Result<(Measured, Vec<Judgement>), BadInput> {
    let filter = match &args.filter {
        Some(f) => Some(
            regex::Regex::new(f).map_err(|e| BadInput::Cannot(format!("--filter {f:?}: {e}")))?,
        ),
        None => None,
    };
    let wanted = |id: &String| filter.as_ref().is_none_or(|f| f.is_match(id));
    let (Some(base), Some(head)) = (&args.base_bin, &args.head_bin) else {
        return Err(BadInput::Cannot(
            "--base-bin and --head-bin name the builds to compare".into(),
        ));
    };
    let (base, head) = (binaries_in(base)?, binaries_in(head)?);
    let base = executables::catalogue(&base).map_err(BadInput::Cannot)?;
    let head = executables::catalogue(&head).map_err(BadInput::Cannot)?;
    let plans: Vec<Plan> = head
        .iter()
        .filter(|(id, _)| wanted(id))
        .filter_map(|(id, head)| {
            Some(Plan {
                id: id.clone(),
                base: base.get(id)?.clone(),
                head: head.clone(),
            })
        })
        .collect();
    let one_sided: Vec<Judgement> = head
        .keys()
        .filter(|id| wanted(id) && !base.contains_key(*id))
        .map(|id| Judgement::without_figures(id, Verdict::New, None))
        .chain(
            base.keys()
                .filter(|id| wanted(id) && !head.contains_key(*id))
                .map(|id| Judgement::without_figures(id, Verdict::Missing, None)),
        )
        .collect();
    if plans.is_empty() {
        return Err(BadInput::Cannot(
            "no benchmark is in both builds (and matches --filter)".into(),
        ));
    }
    let settings = settings(args, threshold);
    let scratch = args
        .pairs
        .parent()
        .unwrap_or(Path::new("."))
        .join("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| BadInput::Unwritable(scratch.clone(), e))?;
    eprintln!(
        "comparing {} benchmarks within {} min",
        plans.len(),
        args.budget_min
    );
    let measured = engine::run(&plans, &settings, &scratch, &mut |line| eprintln!("{line}"));
    let _ = std::fs::remove_dir_all(&scratch);
    let json = serde_json::to_vec_pretty(&measured).expect("serialisable");
    crate::durable::write_atomically(&args.pairs, &json)
        .map_err(|e| BadInput::Unwritable(args.pairs.clone(), e))?;
    Ok((measured, one_sided))
}
