//! The count lane end to end: the suite's own benchmarks counted in their processes (the
//! counts are the evidence of what each measures: one syscall per getppid, a read and a write
//! and one switch per pipe hop), and `costs count`, `costs record --counts` and `costs check
//! --counts` on a harness whose work per iteration is set from outside
//! (`examples/count_fixture.rs`).
//!
//! The kernel's counters need root (or kernel.perf_event_paranoid <= -1) and tracefs, the
//! instructions lane valgrind: where this machine lacks them, a test says so and checks
//! nothing.

use criterion_gate::executables::beside_this_test as built;

use criterion_gate::count::bench_process::{LANE_VARIABLE, OUT_VARIABLE, PLAN_VARIABLE};
use criterion_gate::count::kernel::Counters;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("costs-count-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A directory holding the count fixture under the name of a bench.
    fn fixture_bins(&self) -> PathBuf {
        let bins = self.path("bins");
        std::fs::create_dir_all(&bins).unwrap();
        std::fs::copy(built::example("count_fixture"), bins.join("count_fixture")).unwrap();
        bins
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kernel_counters(test: &str) -> bool {
    match Counters::open() {
        Ok(_) => true,
        Err(why) => {
            eprintln!("{test}: skipped: {why}");
            false
        }
    }
}

fn valgrind(test: &str) -> bool {
    match criterion_gate::count::callgrind::available() {
        Ok(_) => true,
        Err(why) => {
            eprintln!("{test}: skipped: {why}");
            false
        }
    }
}

/// Per iteration, what the kernel counted for benchmark `id` of bench executable `bench`,
/// run in count mode over `iterations` (and twice that).
fn kernel_counts(scratch: &Scratch, bench: &Path, id: &str, iterations: u64) -> serde_json::Value {
    let (out, plan) = (scratch.path("lines.jsonl"), scratch.path("plan.json"));
    let _ = std::fs::remove_file(&out);
    std::fs::write(&plan, serde_json::json!({ id: iterations }).to_string()).unwrap();
    let status = Command::new(bench)
        .args(["--bench", "--test", "--exact", id])
        .env(LANE_VARIABLE, "kernel")
        .env(OUT_VARIABLE, &out)
        .env(PLAN_VARIABLE, &plan)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["id"], id);
    let [first, second] = [&line["events"][0], &line["events"][1]];
    let per = |name: &str| {
        (second[name].as_u64().unwrap() as f64 - first[name].as_u64().unwrap() as f64)
            / iterations as f64
    };
    serde_json::json!({
        "syscalls": per("syscalls"),
        "switches": per("context_switches"),
    })
}

#[test]
fn getppid_costs_exactly_one_syscall_an_iteration() {
    let (true, Some(bench)) = (kernel_counters("getppid"), built::bench("syscall")) else {
        return;
    };
    let scratch = Scratch::new("getppid");
    let counts = kernel_counts(&scratch, &bench, "syscall/getppid", 5000);
    assert_eq!(counts["syscalls"], 1.0, "{counts}");
}

#[test]
fn a_same_core_pipe_hop_is_a_write_a_read_and_one_switch() {
    let (true, Some(bench)) = (kernel_counters("pipe hop"), built::bench("context_switch")) else {
        return;
    };
    let scratch = Scratch::new("pipe");
    let counts = kernel_counts(
        &scratch,
        &bench,
        "context_switch/thread_pipe/same_core",
        2000,
    );
    let syscalls = counts["syscalls"].as_f64().unwrap();
    let switches = counts["switches"].as_f64().unwrap();
    // A stray syscall or switch of the process may land in one span: a few in thousands.
    assert!(
        (syscalls - 2.0).abs() < 0.01,
        "{counts}: a hop is one write and one read"
    );
    assert!(
        (switches - 1.0).abs() < 0.05,
        "{counts}: one CPU, so each hop switches"
    );
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn costs_count_writes_a_count_per_iteration_for_every_benchmark() {
    if !kernel_counters("costs count") {
        return;
    }
    let scratch = Scratch::new("json");
    let (bins, json) = (scratch.fixture_bins(), scratch.path("counts.json"));
    let lane = if valgrind("costs count, instructions") {
        "both"
    } else {
        "kernel"
    };
    let out = Command::new(env!("CARGO_BIN_EXE_costs"))
        .args(["count", "--lane", lane, "--repetitions", "2", "--bin-dir"])
        .arg(&bins)
        .arg("--json")
        .arg(&json)
        .env("COUNT_FIXTURE_SYSCALLS", "3")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", said(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rows = doc["benchmarks"].as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["fixture/steps", "fixture/syscalls"]);
    let syscalls = &rows[1];
    assert_eq!(syscalls["syscalls"], 3.0, "{syscalls}");
    assert!(
        syscalls["iterations"].as_u64().is_some_and(|n| n >= 16),
        "{syscalls}"
    );
    for field in [
        "voluntary_switches",
        "involuntary_switches",
        "minor_faults",
        "spread_pct",
    ] {
        assert!(syscalls[field].is_number(), "{field} missing: {syscalls}");
    }
    if lane == "both" {
        let steps = rows[0]["repetitions"]["instructions"]["values"]
            .as_array()
            .unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0], steps[1], "instructions repeat exactly: {steps:?}");
    }
}

#[test]
fn a_head_is_counted_at_the_n_its_base_was_counted_at() {
    use criterion_gate::count::run::{self, Lanes, Settings};
    use criterion_gate::executables::BenchBinary;
    if !kernel_counters("counting at a given N") {
        return;
    }
    let scratch = Scratch::new("given-n");
    let binary = BenchBinary {
        name: "count_fixture".into(),
        path: scratch.fixture_bins().join("count_fixture"),
    };
    let lanes = Lanes {
        instructions: Err("not asked for".into()),
        ..Lanes::here()
    };
    let settings = Settings {
        repetitions: 1,
        filter: Some("^fixture/syscalls$".into()),
        kernel: true,
        instructions: false,
        // Not a power of two: calibration would never choose it.
        iterations: [("fixture/syscalls".to_string(), 3000)].into(),
    };
    let counted = run::count(
        &[binary],
        &settings,
        &lanes,
        &scratch.path("scratch"),
        &mut |_| {},
    )
    .unwrap();
    let syscalls = &counted.benchmarks[0];
    assert_eq!(syscalls.id, "fixture/syscalls");
    assert_eq!(syscalls.iterations, Some(3000), "{syscalls:?}");
    assert_eq!(syscalls.count("syscalls").unwrap().values, [1.0]);
}

#[test]
fn without_valgrind_the_instructions_lane_is_skipped_in_one_line() {
    if !kernel_counters("no valgrind") {
        return;
    }
    let scratch = Scratch::new("novalgrind");
    let bins = scratch.fixture_bins();
    let empty = scratch.path("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_costs"))
        .args([
            "count",
            "--repetitions",
            "2",
            "--filter",
            "syscalls",
            "--bin-dir",
        ])
        .arg(&bins)
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", said(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let skipped: Vec<&str> = err.lines().filter(|l| l.contains("lane skipped")).collect();
    assert_eq!(skipped.len(), 1, "{err}");
    assert!(
        skipped[0].contains("instructions lane skipped: no valgrind"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("| `fixture/syscalls` |"));
}

/// `costs COMMAND --counts` on the fixture in `bins`, against the scratch's baselines.
fn gate(scratch: &Scratch, command: &str, bins: &Path, envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_costs"));
    c.args([
        command,
        "--counts",
        "--repetitions",
        "2",
        "--baseline",
        "fixture",
    ])
    .arg("--baselines-dir")
    .arg(scratch.path("baselines"))
    .arg("--bin-dir")
    .arg(bins);
    if command == "record" {
        c.arg("--allow-dirty");
    } else {
        c.arg("--json").arg(scratch.path("verdicts.json"));
    }
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn stored_counts_pass_the_same_work_and_fail_one_more_syscall_and_more_instructions() {
    if !kernel_counters("stored counts") {
        return;
    }
    let scratch = Scratch::new("stored");
    let bins = scratch.fixture_bins();
    let recorded = gate(&scratch, "record", &bins, &[]);
    assert!(recorded.status.success(), "{}", said(&recorded));
    assert!(scratch.path("baselines/fixture.counts.json").exists());

    let same = gate(&scratch, "check", &bins, &[]);
    assert_eq!(same.status.code(), Some(0), "{}", said(&same));

    let one_more = gate(&scratch, "check", &bins, &[("COUNT_FIXTURE_SYSCALLS", "2")]);
    assert_eq!(one_more.status.code(), Some(1), "{}", said(&one_more));
    let verdicts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scratch.path("verdicts.json")).unwrap()).unwrap();
    let regressed: Vec<(&str, &str)> = verdicts["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["verdict"] == "regressed")
        .map(|b| (b["id"].as_str().unwrap(), b["count"].as_str().unwrap()))
        .collect();
    assert_eq!(regressed, [("fixture/syscalls", "syscalls")]);

    if valgrind("stored counts, instructions") {
        // 5% more additions: the instruction count shows it, nothing else moves.
        let more = gate(&scratch, "check", &bins, &[("COUNT_FIXTURE_STEPS", "1050")]);
        assert_eq!(more.status.code(), Some(1), "{}", said(&more));
        let verdicts: serde_json::Value =
            serde_json::from_slice(&std::fs::read(scratch.path("verdicts.json")).unwrap()).unwrap();
        let steps = verdicts["benchmarks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == "fixture/steps")
            .unwrap();
        assert_eq!(steps["verdict"], "regressed", "{steps}");
        assert_eq!(steps["count"], "instructions", "{steps}");
    }
}

#[test]
fn a_check_without_stored_counts_says_so_in_one_line_and_exits_2() {
    let scratch = Scratch::new("nobaseline");
    let out = gate(&scratch, "check", &scratch.path("bins"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no stored counts"), "{err}");
}
