//! What a bench executable does when the count lane starts it to count instead of time: the
//! half of the lane that a suite's harness links. A suite opts in by calling [`start`] once
//! before its first benchmark and, per benchmark, handing [`mode`]'s [`CountMode::count`] a
//! routine that runs a given number of iterations.
//!
//! The count lane runs each executable in Criterion's test mode (which calls every selected
//! benchmark once) with [`LANE_VARIABLE`] set. The harness then hands each benchmark here,
//! as a routine that runs a given number of iterations, instead of timing it. A benchmark is run once to build its state (partners, runtimes,
//! ballast), then calibrated or told its iteration count N, run N times to warm, and then
//! counted over N iterations and over 2N: the difference of the two is N iterations with
//! everything paid once per call (starting a batch, reading the clock) cancelled.
//!
//! - The `kernel` lane reads the kernel's counters ([`super::kernel`]), opened when the
//!   process starts so that every partner thread and child is counted.
//! - The `instructions` lane runs under callgrind, which is told to zero its counts on
//!   entering [`costs_count_zero`] and to dump them on entering [`costs_count_dump`]:
//!   user-space instructions of every thread, in numbered dump files.
//!
//! One JSON line per benchmark goes to the file named by [`OUT_VARIABLE`].

use super::kernel::{Counters, Events};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Which lane to count in: `kernel` or `instructions`.
pub const LANE_VARIABLE: &str = "COSTS_COUNT_LANE";
/// Where to append one JSON line per benchmark.
pub const OUT_VARIABLE: &str = "COSTS_COUNT_OUT";
/// A JSON map of benchmark ID to N, so that every repetition counts the same iterations.
pub const PLAN_VARIABLE: &str = "COSTS_COUNT_PLAN";
/// Whole seconds a watchdog in the bench process may wait for progress; `0` switches it off.
/// The instructions lane sets it: under callgrind a watchdog's wake-ups would be counted with
/// the benchmark, and everything runs tens of times slower.
pub const WATCHDOG_VARIABLE: &str = "COSTS_WATCHDOG_SECS";

/// What the suite adds to counting one benchmark.
pub struct Hooks<'a> {
    /// Why a benchmark cannot be counted in a lane (valgrind cannot run it, say), if it cannot.
    pub cannot_count: &'a dyn Fn(&str, Lane) -> Option<String>,
    /// Told each phase of a benchmark as it starts, for a watchdog.
    pub progress: &'a dyn Fn(&str, &'static str),
}

/// A calibrated N takes about this long: long enough that a call's own cost is small beside
/// it, short enough that the whole suite counts in about a minute.
const CALIBRATION_TARGET: Duration = Duration::from_millis(10);
/// No benchmark is counted over fewer iterations than this, however slow: the first calls
/// of a ring of a thousand threads take longer than later ones, and one iteration is no
/// average.
const MIN_ITERATIONS: u64 = 16;
/// No benchmark is counted over more iterations than this.
const MAX_ITERATIONS: u64 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Kernel,
    Instructions,
    /// Only find each benchmark's N, natively, for an instructions lane without a kernel lane.
    Calibrate,
}

impl Lane {
    pub fn name(self) -> &'static str {
        match self {
            Lane::Kernel => "kernel",
            Lane::Instructions => "instructions",
            Lane::Calibrate => "calibrate",
        }
    }
}

/// What the bench process reports for one benchmark.
#[derive(Debug, Serialize, Deserialize)]
pub struct Line {
    pub id: String,
    /// The process that counted it: under valgrind, whose dump files to read.
    #[serde(default)]
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
    /// Kernel lane: what N iterations, then 2N, counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<[Events; 2]>,
    /// Instructions lane: callgrind's dump numbers after N iterations and after 2N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dumps: Option<[u32; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// This process's count mode, set once when the harness starts.
pub struct CountMode {
    lane: Lane,
    out: Mutex<File>,
    plan: BTreeMap<String, u64>,
    counters: Option<Mutex<Counters>>,
    counters_refused: Option<String>,
    dumps: Mutex<u32>,
}

static MODE: OnceLock<Option<CountMode>> = OnceLock::new();

/// Starts count mode if `costs count` asked for it: opens the output and, for the kernel
/// lane, the counters (before any benchmark starts a thread). A bad request ends the process
/// with one line and exit status 2.
pub fn start() {
    MODE.get_or_init(|| match CountMode::from_environment() {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("count mode: {e}");
            std::process::exit(2);
        }
    });
}

/// The count mode, if this process counts instead of timing.
pub fn mode() -> Option<&'static CountMode> {
    MODE.get().and_then(Option::as_ref)
}

impl CountMode {
    fn from_environment() -> Result<Option<CountMode>, String> {
        let Ok(lane) = std::env::var(LANE_VARIABLE) else {
            return Ok(None);
        };
        let lane = match lane.as_str() {
            "kernel" => Lane::Kernel,
            "instructions" => Lane::Instructions,
            other => {
                return Err(format!(
                    "{LANE_VARIABLE}={other}: not kernel or instructions"
                ));
            }
        };
        let out = std::env::var(OUT_VARIABLE).map_err(|_| format!("{OUT_VARIABLE} is not set"))?;
        let out = File::options()
            .create(true)
            .append(true)
            .open(&out)
            .map_err(|e| format!("{out}: {e}"))?;
        let plan = match std::env::var(PLAN_VARIABLE) {
            Ok(path) => {
                let text = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
                serde_json::from_slice(&text).map_err(|e| format!("{path}: {e}"))?
            }
            Err(_) => BTreeMap::new(),
        };
        let (counters, counters_refused) = match lane {
            Lane::Kernel => match Counters::open() {
                Ok(c) => (Some(Mutex::new(c)), None),
                Err(why) => (None, Some(why)),
            },
            Lane::Instructions | Lane::Calibrate => (None, None),
        };
        Ok(Some(CountMode {
            lane,
            out: Mutex::new(out),
            plan,
            counters,
            counters_refused,
            dumps: Mutex::new(0),
        }))
    }

    /// Counts one benchmark, whose iterations come in whole steps of `step`, and reports
    /// it, or reports why it was not counted.
    pub fn count(&self, id: &str, step: u64, run: &mut dyn FnMut(u64), hooks: &Hooks<'_>) {
        let refused = self.counters_refused.clone();
        let line = match refused.or_else(|| (hooks.cannot_count)(id, self.lane)) {
            Some(why) => Line::skipped(id, why),
            None => self.counted(id, step.max(1), run, hooks.progress),
        };
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let json = serde_json::to_string(&line).expect("serialisable");
        if let Err(e) = writeln!(out, "{json}") {
            eprintln!("{id}: cannot write its counts: {e}");
        }
    }

    fn counted(
        &self,
        id: &str,
        step: u64,
        run: &mut dyn FnMut(u64),
        progress: &dyn Fn(&str, &'static str),
    ) -> Line {
        progress(id, "counting: setting up");
        run(step);
        let n = match self.plan.get(id) {
            Some(&n) => n.max(1),
            None => calibrate(step, run),
        };
        // Whole steps: a part-filled batch or lap would be counted as if full.
        let n = n.div_ceil(step) * step;
        progress(id, "counting: warming");
        run(n);
        progress(id, "counting");
        let mut line = Line {
            id: id.to_string(),
            pid: std::process::id(),
            iterations: Some(n),
            events: None,
            dumps: None,
            skipped: None,
        };
        match self.lane {
            Lane::Kernel => {
                let mut counters = self
                    .counters
                    .as_ref()
                    .expect("the kernel lane has counters")
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let mut span = |iterations| -> Result<Events, String> {
                    let before = counters.read().map_err(|e| e.to_string())?;
                    run(iterations);
                    Ok(counters.read().map_err(|e| e.to_string())? - before)
                };
                match (span(n), span(2 * n)) {
                    (Ok(first), Ok(second)) => line.events = Some([first, second]),
                    (Err(e), _) | (_, Err(e)) => {
                        line.skipped = Some(format!("reading a counter failed: {e}"))
                    }
                }
            }
            Lane::Calibrate => {}
            Lane::Instructions => {
                let mut dumps = self.dumps.lock().unwrap_or_else(PoisonError::into_inner);
                costs_count_zero();
                run(n);
                costs_count_dump();
                run(2 * n);
                costs_count_dump();
                line.dumps = Some([*dumps + 1, *dumps + 2]);
                *dumps += 2;
            }
        }
        line
    }
}

impl Line {
    fn skipped(id: &str, why: String) -> Line {
        Line {
            id: id.to_string(),
            pid: std::process::id(),
            iterations: None,
            events: None,
            dumps: None,
            skipped: Some(why),
        }
    }
}

/// The smallest power of two of iterations, from [`MIN_ITERATIONS`], that takes
/// [`CALIBRATION_TARGET`] (or the most allowed), in whole steps of `step`. The runs it makes
/// warm the benchmark too.
fn calibrate(step: u64, run: &mut dyn FnMut(u64)) -> u64 {
    let mut n = MIN_ITERATIONS.div_ceil(step) * step;
    loop {
        let start = Instant::now();
        run(n);
        if start.elapsed() >= CALIBRATION_TARGET || n >= MAX_ITERATIONS {
            return n;
        }
        n *= 2;
    }
}

/// Callgrind zeroes its counts on entering this function (`--zero-before`).
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn costs_count_zero() {
    // Bodies that differ, so that the optimiser cannot fold the two markers into one.
    std::hint::black_box(0u32);
}

/// Callgrind dumps its counts on entering this function (`--dump-before`), then zeroes them.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn costs_count_dump() {
    std::hint::black_box(1u32);
}
