//! `costs footprint`: memory per concurrency unit, each kind measured in a child process of
//! its own so that one kind's leftovers never count against another.

use concurrency_costs::flavours::{FLAVOURS, Flavour};
use concurrency_costs::footprint::{FOOTPRINTS, Footprint, parked_threads};
use concurrency_costs::provenance::{Mode, Run};
use concurrency_costs::results;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Threads are measured with Rust's default stack and with glibc's default (C04's 8 MiB).
const THREAD_UNITS: [(&str, usize); 2] = [
    ("thread_2mib_stack", 2 << 20),
    ("thread_8mib_stack", 8 << 20),
];

/// How long one kind may take, start to finish, before its process is killed.
const CHILD_DEADLINE: Duration = Duration::from_secs(180);

pub fn unit_kinds() -> Vec<&'static str> {
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

/// In the child process: measure one kind and print its row.
pub fn measure_here(kind: &str, units: usize) -> ExitCode {
    let row = if let Some((_, stack)) = THREAD_UNITS.iter().find(|(name, _)| *name == kind) {
        match concurrency_costs::limits::room_for_threads(units as u64) {
            Ok(()) => Row::Measured(Footprint::from_sample(kind, &parked_threads(units, *stack))),
            Err(why) => Row::Skipped {
                unit: kind.into(),
                reason: why.to_string(),
            },
        }
    } else if let Some(flavour) = Flavour::by_id(kind) {
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

pub fn footprint(units: usize, only: Vec<String>, json: bool) -> ExitCode {
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
        eprintln!(
            "costs: cannot keep the results in {}: {e}",
            results::dir().display()
        );
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

/// Keeps the complete rows (unit kind → row) for the claims report.
fn keep_footprints(rows: &[Row]) -> std::io::Result<std::path::PathBuf> {
    FOOTPRINTS.update(&results::dir(), |kept| {
        // A kind that fell short (not every unit alive) is reported, never kept over a whole one.
        for row in rows {
            if let Row::Measured(f) = row
                && f.is_complete()
            {
                let run = Some(Run::now(Mode::Tool));
                kept.insert(f.unit.clone(), Footprint { run, ..f.clone() });
            }
        }
    })
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
