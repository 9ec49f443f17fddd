//! The watchdog end to end: a benchmark whose forked partner is stopped mid-run
//! (`examples/stuck_partner.rs`) ends by itself, names the benchmark and what it was waiting
//! for, exits with the watchdog's status, and takes its child with it.

use criterion_gate::executables::beside_this_test as built;

use concurrency_costs::watchdog::{BOUND_VARIABLE, EXIT_STUCK};
use criterion_gate::bounded::run_bounded;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far beyond the two seconds the watchdog is given: only a watchdog that never fires hits it.
const LIMIT: Duration = Duration::from_secs(120);

fn stuck_run(bound: &str) -> (Option<i32>, String) {
    let log =
        std::env::temp_dir().join(format!("costs-watchdog-{}-{bound}.log", std::process::id()));
    let status = run_bounded(
        Command::new(built::example("stuck_partner"))
            .args([
                "--bench",
                "--warm-up-time",
                "0.2",
                "--measurement-time",
                "0.3",
            ])
            .env(BOUND_VARIABLE, bound)
            .env(
                "CRITERION_HOME",
                std::env::temp_dir().join("costs-watchdog-criterion"),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap()),
        LIMIT,
    )
    .expect("the stuck benchmark ended by itself");
    let stderr = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    (status.code(), stderr)
}

fn child_pid(stderr: &str) -> i32 {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("stuck partner: child "))
        .unwrap_or_else(|| panic!("no child pid printed:\n{stderr}"));
    line.trim().parse().unwrap()
}

/// Gone, or a zombie waiting for whoever adopted it: either way it runs no more.
fn ended(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        if state.as_deref().is_none_or(|s| s.contains(") Z ")) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_stuck_partner_ends_the_run_with_the_benchmark_named_and_the_child_killed() {
    let (code, stderr) = stuck_run("2");
    assert_eq!(code, Some(EXIT_STUCK), "{stderr}");
    assert!(
        stderr.contains("watchdog: stuck/echo made no progress")
            && stderr.contains("timing a sample"),
        "{stderr}"
    );
    assert!(
        ended(child_pid(&stderr)),
        "the stopped child outlived the run"
    );
}

#[test]
fn a_bound_that_is_not_a_number_is_refused_before_anything_runs() {
    let (code, stderr) = stuck_run("soon");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(BOUND_VARIABLE), "{stderr}");
    assert!(!stderr.contains("stuck partner: child"), "{stderr}");
}
