//! `costs record` and `costs check` end to end, on Criterion output written by the test:
//! a baseline from several runs, an unchanged run passes, a 20% slowdown fails naming the
//! benchmark, and bad input gets one line, exit status 2, and no file overwritten.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Mutex;

/// The end-to-end test times a real benchmark: the others must not run beside it, or their
/// CPU use shows up as noise in its history and widens the fence it learns.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("costs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes Criterion's two files for one benchmark, as `cargo bench` would.
    fn criterion_result(&self, id: &str, mean: f64, half_ci: f64) {
        let dir = self
            .0
            .join("criterion")
            .join(id.replace('/', "_"))
            .join("new");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("benchmark.json"),
            format!(r#"{{"full_id": "{id}"}}"#),
        )
        .unwrap();
        let estimates = format!(
            r#"{{"mean": {{"point_estimate": {mean}, "confidence_interval": {{"lower_bound": {}, "upper_bound": {}}}}}}}"#,
            mean - half_ci,
            mean + half_ci
        );
        std::fs::write(dir.join("estimates.json"), estimates).unwrap();
    }

    fn costs(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_costs"))
            .args(args)
            .args(["--baseline", "test", "--baselines-dir"])
            .arg(self.path("baselines"))
            .arg("--criterion-dir")
            .arg(self.path("criterion"))
            .output()
            .unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn baseline(&self) -> PathBuf {
        self.0.join("baselines").join("test.json")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stderr_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

/// Five recorded runs whose median is the last: 100 ns and 5 µs.
fn recorded(scratch: &Scratch) {
    for i in 0..5 {
        let wobble = [0.5, -0.5, 0.3, -0.2, 0.0][i];
        scratch.criterion_result("group/fast/1", 100.0 + wobble, 0.5);
        scratch.criterion_result("group/slow/1", 5000.0 + wobble * 10.0, 5.0);
        let out = scratch.costs(&["record"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_unchanged_run_passes_and_a_slowdown_fails_naming_the_benchmark() {
    let _serial = serial();
    let scratch = Scratch::new("check");
    recorded(&scratch);
    let unchanged = scratch.costs(&["check"]);
    assert_eq!(
        unchanged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&unchanged.stdout)
    );

    scratch.criterion_result("group/slow/1", 6000.0, 5.0);
    let markdown = scratch.0.join("summary.md");
    let slower = scratch.costs(&["check", "--markdown", markdown.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&slower.stdout);
    assert_eq!(slower.status.code(), Some(1), "{table}");
    assert!(
        table.contains("`group/slow/1` | **REGRESSED** | +20.0%"),
        "{table}"
    );
    assert!(table.contains("`group/fast/1` | unchanged"), "{table}");
    assert_eq!(std::fs::read_to_string(markdown).unwrap(), table);
}

#[test]
fn a_simulated_slowdown_shows_what_the_gate_would_catch_without_touching_the_results() {
    let _serial = serial();
    let scratch = Scratch::new("simulate");
    recorded(&scratch);
    let caught = scratch.costs(&["check", "--simulate-slowdown", "20"]);
    let table = String::from_utf8_lossy(&caught.stdout);
    assert_eq!(caught.status.code(), Some(1), "{table}");
    assert!(
        table.contains("`group/fast/1` | **REGRESSED** | +20.0%"),
        "{table}"
    );
    assert!(table.contains("`group/slow/1` | **REGRESSED**"), "{table}");
    let missed = scratch.costs(&["check", "--simulate-slowdown", "1"]);
    assert_eq!(missed.status.code(), Some(0));
    // The results on disk are as measured: a plain check still passes.
    assert_eq!(scratch.costs(&["check"]).status.code(), Some(0));
}

#[test]
fn bad_input_gets_one_line_exit_2_and_loses_nothing() {
    let _serial = serial();
    let scratch = Scratch::new("bad");
    let missing = scratch.costs(&["check"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr_line(&missing).contains("no such baseline"));

    let no_results = scratch.costs(&["record"]);
    assert_eq!(no_results.status.code(), Some(2));
    assert!(stderr_line(&no_results).contains("no Criterion results"));

    recorded(&scratch);
    let good = std::fs::read_to_string(scratch.baseline()).unwrap();

    let renamed = scratch.path("criterion").join("group_fast_1");
    std::fs::rename(&renamed, scratch.path("renamed")).unwrap();
    let not_run = scratch.costs(&["check"]);
    assert_eq!(not_run.status.code(), Some(2));
    assert!(
        stderr_line(&not_run)
            .contains("1 of its benchmarks have no result in this run (first: group/fast/1)")
    );
    let allowed = scratch.costs(&["check", "--allow-missing"]);
    assert_eq!(allowed.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&allowed.stdout).contains("`group/fast/1` | missing"));
    std::fs::rename(scratch.path("renamed"), &renamed).unwrap();
    assert_eq!(std::fs::read_to_string(scratch.baseline()).unwrap(), good);

    let other = good
        .replace("\"cpus\": 2", "\"cpus\": 64")
        .replace("\"cpus\": 1,", "\"cpus\": 64,");
    std::fs::write(scratch.baseline(), &other).unwrap();
    let refused = scratch.costs(&["check"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr_line(&refused).contains("--allow-other-machine"));
    assert_eq!(
        scratch
            .costs(&["check", "--allow-other-machine"])
            .status
            .code(),
        Some(0)
    );

    let truncated = &good[..good.len() / 2];
    std::fs::write(scratch.baseline(), truncated).unwrap();
    for command in ["check", "record"] {
        let out = scratch.costs(&[command]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(
            stderr_line(&out).contains("not valid baseline JSON"),
            "{command}"
        );
        assert_eq!(
            std::fs::read_to_string(scratch.baseline()).unwrap(),
            truncated,
            "{command} overwrote it"
        );
    }
}

/// A re-run command: records the filter it was given, then copies `replacement` over the slow
/// benchmark's estimates (as a re-run that measured that would).
fn rerun_script(scratch: &Scratch, replacement: &str) -> String {
    let estimates = scratch.0.join("criterion/group_slow_1/new/estimates.json");
    let saved = scratch.0.join("replacement.json");
    std::fs::write(&saved, replacement).unwrap();
    let script = scratch.0.join("rerun.sh");
    let filter_log = scratch.0.join("filter.txt");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{}'\ncp '{}' '{}'\n",
            filter_log.display(),
            saved.display(),
            estimates.display()
        ),
    )
    .unwrap();
    format!("sh {}", script.display())
}

fn estimates_json(mean: f64, half_ci: f64) -> String {
    format!(
        r#"{{"mean": {{"point_estimate": {mean}, "confidence_interval": {{"lower_bound": {}, "upper_bound": {}}}}}}}"#,
        mean - half_ci,
        mean + half_ci
    )
}

#[test]
fn confirm_reruns_only_the_suspects_and_drops_a_slowdown_that_does_not_repeat() {
    let _serial = serial();
    let scratch = Scratch::new("confirm");
    recorded(&scratch);
    scratch.criterion_result("group/slow/1", 6000.0, 5.0);

    let noise = rerun_script(&scratch, &estimates_json(5001.0, 5.0));
    let out = scratch.costs(&["check", "--confirm", "1", "--rerun", &noise]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let filter = std::fs::read_to_string(scratch.0.join("filter.txt")).unwrap();
    assert_eq!(filter, "^group/slow/1$");

    scratch.criterion_result("group/slow/1", 6000.0, 5.0);
    let real = rerun_script(&scratch, &estimates_json(6010.0, 5.0));
    let out = scratch.costs(&["check", "--confirm", "2", "--rerun", &real]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A real Criterion run of the fixture benchmark, `work` loop iterations per iteration.
fn fixture_run(scratch: &Scratch, work: u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_costs"))
        .args([
            "fixture-bench",
            "--work",
            &work.to_string(),
            "--criterion-dir",
        ])
        .arg(scratch.path("criterion"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn end_to_end_a_real_benchmark_passes_unchanged_and_fails_with_20_percent_more_work() {
    let _serial = serial();
    const WORK: u64 = 20_000;
    let scratch = Scratch::new("fixture");
    for _ in 0..5 {
        fixture_run(&scratch, WORK);
        assert!(scratch.costs(&["record"]).status.success());
    }
    fixture_run(&scratch, WORK);
    let unchanged = scratch.costs(&["check"]);
    assert_eq!(
        unchanged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&unchanged.stdout)
    );

    fixture_run(&scratch, WORK * 6 / 5);
    let slower = scratch.costs(&["check"]);
    let table = String::from_utf8_lossy(&slower.stdout);
    assert_eq!(slower.status.code(), Some(1), "{table}");
    assert!(
        table.contains("`fixture/spin/1` | **REGRESSED**"),
        "{table}"
    );
}

#[test]
fn a_read_only_baselines_dir_gets_one_line_exit_2_and_keeps_the_old_file() {
    use std::os::unix::fs::PermissionsExt;
    let _serial = serial();
    let scratch = Scratch::new("read-only");
    recorded(&scratch);
    let good = std::fs::read_to_string(scratch.baseline()).unwrap();
    let dir = scratch.path("baselines");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let writable_anyway = std::fs::write(dir.join("probe"), b"").is_ok();
    let out = scratch.costs(&["record"]);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if writable_anyway {
        eprintln!(
            "skipped: permission bits do not stop this user (root) from writing; \
             the read-only case is exercised where the tests run unprivileged"
        );
        return;
    }
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("cannot write it"));
    assert_eq!(std::fs::read_to_string(scratch.baseline()).unwrap(), good);
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "a temporary file was left behind: {left:?}");
}
