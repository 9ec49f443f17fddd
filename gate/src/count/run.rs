//! `costs count`: every selected benchmark counted in both lanes, each lane repeated in fresh
//! processes, one executable at a time.
//!
//! The kernel lane's first repetition calibrates N per benchmark (about 10 ms of work, at
//! least 16 iterations); the later ones, and the instructions lane, count the same N (the
//! instructions lane a sixteenth of it, at least 8: callgrind runs some fifty times slower,
//! and an exact count needs no long run).

use super::bench_process::{
    LANE_VARIABLE, Lane, Line, OUT_VARIABLE, PLAN_VARIABLE, WATCHDOG_VARIABLE,
};
use super::kernel::{Counters, Events};
use super::{Count, Counted, callgrind};
use crate::bounded::run_bounded;
use crate::executables::{self, BenchBinary};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The instructions lane counts this many times fewer iterations than the kernel lane...
const VALGRIND_DIVISOR: u64 = 16;
/// ...but never fewer than this: a one-off cost (a buffer grown once) in one iteration of
/// few would show as hundreds of instructions per iteration in one repetition only.
const VALGRIND_MIN_ITERATIONS: u64 = 8;

/// One executable's pass in the kernel lane may take this long (the whole blocked loop,
/// ring of 1,024 threads included, takes well under a minute).
const NATIVE_LIMIT: Duration = Duration::from_secs(600);
/// And under callgrind.
const VALGRIND_LIMIT: Duration = Duration::from_secs(1800);
/// The watchdog is off under callgrind (0): its thread's wake-ups would be counted with the
/// benchmark's instructions, more of them the longer a span takes. [`VALGRIND_LIMIT`] still
/// bounds the process.
const VALGRIND_WATCHDOG_SECS: &str = "0";

/// What to count, and how many times.
#[derive(Clone, Debug)]
pub struct Settings {
    pub repetitions: usize,
    /// Criterion's filter (a regular expression on the benchmark ID).
    pub filter: Option<String>,
    pub kernel: bool,
    pub instructions: bool,
    /// The N to count each benchmark at, where given (the other side of a comparison's);
    /// the rest are calibrated.
    pub iterations: BTreeMap<String, u64>,
}

/// Which lanes this machine can count in, each with why not where it cannot.
#[derive(Clone, Debug)]
pub struct Lanes {
    pub kernel: Result<(), String>,
    pub instructions: Result<String, String>,
}

impl Lanes {
    pub fn here() -> Lanes {
        Lanes {
            kernel: Counters::open().map(drop),
            instructions: callgrind::available(),
        }
    }
}

/// What a whole count found, with how long it took.
#[derive(Debug)]
pub struct CountRun {
    pub benchmarks: Vec<Counted>,
    pub seconds: f64,
}

/// Counts every benchmark of `binaries` that the filter selects. `scratch` holds the
/// processes' output while they run; `progress` hears one line per pass.
///
/// The kernel lane's passes run one at a time: another process beside them would preempt
/// their threads and show as involuntary switches. The instructions lane's run side by side,
/// one per CPU: callgrind runs a process's threads one at a time, and what it counts does not
/// depend on what else the machine is doing.
pub fn count(
    binaries: &[BenchBinary],
    settings: &Settings,
    lanes: &Lanes,
    scratch: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<CountRun, String> {
    let started = Instant::now();
    let filter = match &settings.filter {
        Some(f) => Some(regex::Regex::new(f).map_err(|e| format!("--filter {f:?}: {e}"))?),
        None => None,
    };
    let kernel = lane_wanted(lanes.kernel.as_ref().err(), settings.kernel);
    let instructions = lane_wanted(lanes.instructions.as_ref().err(), settings.instructions);
    let mut all: BTreeMap<String, Counted> = BTreeMap::new();
    let mut callgrind_passes = Vec::new();
    let mut plans = Vec::new();
    'binaries: for binary in binaries {
        let ids: Vec<String> = executables::list(&binary.path)?
            .into_iter()
            .filter(|id| filter.as_ref().is_none_or(|f| f.is_match(id)))
            .collect();
        if ids.is_empty() {
            continue;
        }
        for id in &ids {
            all.insert(
                id.clone(),
                Counted {
                    id: id.clone(),
                    ..Counted::default()
                },
            );
        }
        let mut plan: BTreeMap<String, u64> = ids
            .iter()
            .filter_map(|id| Some((id.clone(), *settings.iterations.get(id)?)))
            .collect();
        match &kernel {
            Ok(()) => {
                for repetition in 1..=settings.repetitions {
                    let pass = Pass {
                        binary,
                        lane: Lane::Kernel,
                        repetition,
                        plan: plan.clone(),
                    };
                    let found = pass.run(settings, scratch)?;
                    progress(&found.said);
                    if repetition == 1 {
                        if found.is_silent() {
                            uninstrumented(&mut all, &ids);
                            continue 'binaries;
                        }
                        plan = found.iterations();
                    }
                    found.merge_into(&mut all);
                }
            }
            Err(why) => {
                not_counted(&mut all, &ids, "kernel", why);
                if instructions.is_ok() {
                    // The instructions lane counts the N a native run finds.
                    let pass = Pass {
                        binary,
                        lane: Lane::Calibrate,
                        repetition: 1,
                        plan: plan.clone(),
                    };
                    let found = pass.run(settings, scratch)?;
                    progress(&found.said);
                    if found.is_silent() {
                        uninstrumented(&mut all, &ids);
                        continue 'binaries;
                    }
                    plan = found.iterations();
                }
            }
        }
        for (id, n) in &plan {
            if let Some(counted) = all.get_mut(id) {
                counted.iterations = Some(*n);
            }
        }
        match &instructions {
            Ok(()) => plans.push((binary, plan)),
            Err(why) => not_counted(&mut all, &ids, "instructions", why),
        }
    }
    for (binary, plan) in plans {
        let plan: BTreeMap<String, u64> = plan
            .iter()
            .map(|(id, n)| {
                (
                    id.clone(),
                    (n / VALGRIND_DIVISOR).max(VALGRIND_MIN_ITERATIONS),
                )
            })
            .collect();
        for repetition in 1..=settings.repetitions {
            callgrind_passes.push(Pass {
                binary,
                lane: Lane::Instructions,
                repetition,
                plan: plan.clone(),
            });
        }
    }
    for found in side_by_side(callgrind_passes, settings, scratch, progress)? {
        found.merge_into(&mut all);
    }
    Ok(CountRun {
        benchmarks: all.into_values().collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Whether to count in a lane: `Ok` when asked for and not `refused`, else why not.
fn lane_wanted(refused: Option<&String>, asked: bool) -> Result<(), String> {
    match (refused, asked) {
        (_, false) => Err("not asked for".into()),
        (None, true) => Ok(()),
        (Some(why), true) => Err(why.clone()),
    }
}

/// Runs `passes` one per CPU at a time, in order of completion.
fn side_by_side(
    passes: Vec<Pass<'_>>,
    settings: &Settings,
    scratch: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Found>, String> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let queue = std::sync::Mutex::new(passes.into_iter());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (queue, sender) = (&queue, sender.clone());
            scope.spawn(move || {
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .next();
                    let Some(pass) = next else { break };
                    if sender.send(pass.run(settings, scratch)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut found = Vec::new();
        for result in receiver {
            let result = result?;
            progress(&result.said);
            found.push(result);
        }
        Ok(found)
    })
}

/// Marks `ids` as not counted in either lane: their executable ran its benchmarks without
/// reporting a count, so its harness does not call the count hooks (a suite of its own).
fn uninstrumented(all: &mut BTreeMap<String, Counted>, ids: &[String]) {
    const WHY: &str = "its harness does not count (it calls no criterion_gate::count hooks)";
    for lane in ["kernel", "instructions"] {
        not_counted(all, ids, lane, WHY);
    }
}

fn not_counted(all: &mut BTreeMap<String, Counted>, ids: &[String], lane: &str, why: &str) {
    for id in ids {
        if let Some(c) = all.get_mut(id) {
            c.not_counted.insert(lane.into(), why.into());
        }
    }
}

/// One process of one executable in one lane.
struct Pass<'a> {
    binary: &'a BenchBinary,
    lane: Lane,
    repetition: usize,
    plan: BTreeMap<String, u64>,
}

/// What one pass reported: a line per benchmark it reached, and the benchmarks it skipped
/// before counting (a runtime that cannot start here) with why.
struct Found {
    lane: Lane,
    lines: Vec<Line>,
    skipped: Vec<(String, String)>,
    failed: Option<String>,
    dir: std::path::PathBuf,
    /// One line for the progress report.
    said: String,
}

impl Pass<'_> {
    fn run(&self, settings: &Settings, scratch: &Path) -> Result<Found, String> {
        let repetition = self.repetition;
        let lane = self.lane.name();
        let dir = scratch.join(format!("{}-{lane}-{repetition}", self.binary.name));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let (out, plan, log) = (
            dir.join("lines.jsonl"),
            dir.join("plan.json"),
            dir.join("stderr.log"),
        );
        let write = |path: &Path, bytes: &[u8]| {
            std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
        };
        write(&plan, &serde_json::to_vec(&self.plan).expect("a map"))?;
        let (mut command, limit) = match self.lane {
            Lane::Kernel | Lane::Calibrate => {
                (std::process::Command::new(&self.binary.path), NATIVE_LIMIT)
            }
            Lane::Instructions => {
                let mut c = callgrind::command(&self.binary.path, &dir);
                c.env(WATCHDOG_VARIABLE, VALGRIND_WATCHDOG_SECS);
                (c, VALGRIND_LIMIT)
            }
        };
        command
            .args(["--bench", "--test"])
            .args(settings.filter.iter())
            .env(LANE_VARIABLE, lane)
            .env(OUT_VARIABLE, &out)
            .env(PLAN_VARIABLE, &plan)
            .stdout(Stdio::null())
            .stderr(File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?);
        let started = Instant::now();
        let status = run_bounded(&mut command, limit);
        let failed = match status {
            Ok(s) if s.success() => None,
            Ok(s) => Some(format!(
                "the process failed ({s}); its output: {}",
                log.display()
            )),
            Err(e) => Some(format!("the process did not finish: {e}")),
        };
        let lines = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect::<Vec<Line>>();
        let skipped = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("skipped "))
            .filter_map(|l| l.split_once(": "))
            .map(|(id, why)| (id.to_string(), why.to_string()))
            .collect();
        let said = format!(
            "{}: {lane} lane, repetition {repetition}: {} benchmarks in {:.1} s{}",
            self.binary.name,
            lines.len(),
            started.elapsed().as_secs_f64(),
            failed
                .as_deref()
                .map_or(String::new(), |f| format!("; {f}"))
        );
        Ok(Found {
            lane: self.lane,
            lines,
            skipped,
            failed,
            dir,
            said,
        })
    }
}

impl Found {
    /// A pass that ran to its end and said nothing of any benchmark it was given.
    fn is_silent(&self) -> bool {
        self.lines.is_empty() && self.skipped.is_empty() && self.failed.is_none()
    }

    /// The N each benchmark was counted at.
    fn iterations(&self) -> BTreeMap<String, u64> {
        self.lines
            .iter()
            .filter_map(|l| Some((l.id.clone(), l.iterations?)))
            .collect()
    }

    /// Adds each benchmark's values per iteration, and every reason one was not counted.
    fn merge_into(self, all: &mut BTreeMap<String, Counted>) {
        let lane = self.lane.name();
        let mut reached = std::collections::BTreeSet::new();
        for line in &self.lines {
            reached.insert(line.id.clone());
            let Some(counted) = all.get_mut(&line.id) else {
                continue;
            };
            match per_iteration(line, &self.dir) {
                Ok(values) => {
                    for (name, value) in values {
                        counted
                            .counts
                            .entry(name.to_string())
                            .or_default()
                            .values
                            .push(value);
                    }
                }
                Err(why) => {
                    counted.not_counted.insert(lane.into(), why);
                }
            }
        }
        for (id, why) in self.skipped {
            if let Some(c) = all.get_mut(&id) {
                c.not_counted.insert(lane.into(), why);
            }
        }
        if let Some(why) = &self.failed {
            for c in all.values_mut().filter(|c| !reached.contains(&c.id)) {
                c.not_counted
                    .entry(lane.into())
                    .or_insert_with(|| why.clone());
            }
        }
        // Dump files are large; the lines and the log stay for a failed pass.
        if self.failed.is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A line's counts per iteration: the difference between 2N and N iterations, over N.
fn per_iteration(line: &Line, dir: &Path) -> Result<Vec<(&'static str, f64)>, String> {
    if let Some(why) = &line.skipped {
        return Err(why.clone());
    }
    let n = line.iterations.ok_or("no iteration count")? as f64;
    let per = |first: u64, second: u64| (second as f64 - first as f64) / n;
    if let Some([first, second]) = line.events {
        let [a, b]: [Events; 2] = [first, second];
        return Ok(vec![
            ("syscalls", per(a.syscalls, b.syscalls)),
            (
                "voluntary_switches",
                per(a.voluntary_switches(), b.voluntary_switches()),
            ),
            (
                "involuntary_switches",
                per(a.involuntary_switches, b.involuntary_switches),
            ),
            ("minor_faults", per(a.minor_faults, b.minor_faults)),
            ("major_faults", per(a.major_faults, b.major_faults)),
        ]);
    }
    if let Some([first, second]) = line.dumps {
        let first = callgrind::dump_total(dir, line.pid, first)?;
        let second = callgrind::dump_total(dir, line.pid, second)?;
        return Ok(vec![("instructions", per(first, second))]);
    }
    Err("the line holds no counts".into())
}

/// Counted: one object per benchmark, as `costs count --json` writes them.
pub fn json(run: &CountRun, provenance: serde_json::Value) -> String {
    let rows: Vec<serde_json::Value> = run.benchmarks.iter().map(Counted::to_json).collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "run": provenance,
        "seconds": run.seconds,
        "benchmarks": rows,
    }))
    .expect("serialisable")
}

/// A value per iteration for the table: whole numbers as such, fractions to three places.
pub fn shown(count: Option<&Count>) -> String {
    match count.map(Count::median) {
        None => "—".into(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.3}"),
    }
}
