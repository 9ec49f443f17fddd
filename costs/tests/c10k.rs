//! `costs c10k` at small scale, every model: every request answered, no process or descriptor
//! left behind, and the JSON parses. Runs are serialised: they count this process's children
//! and descriptors.

use concurrency_costs::c10k::orchestrate::{ModelRun, Outcome, Quiet, run_model};
use concurrency_costs::c10k::report::C10kReport;
use concurrency_costs::c10k::{CpuPlacement, Model, Work, Workload};
use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, waitpid};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

const COSTS: &str = env!("CARGO_BIN_EXE_costs");

fn small(work: Work) -> Workload {
    Workload {
        connections: 100,
        requests_per_connection: 2,
        work,
        pool_threads: 8,
        prefork_workers: 8,
        deadline_s: 60.0,
        ..Workload::default()
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Makes this process adopt orphaned descendants, so that a server or worker process that
/// outlived its run would show up as our child.
fn adopt_orphans() {
    // SAFETY: prctl with integer arguments.
    assert_eq!(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) }, 0);
}

/// Fails if any process started by a run is still alive or unreaped.
fn model(id: &str) -> Model {
    Model::from_id(id).unwrap_or_else(|| panic!("no c10k model {id}"))
}

fn assert_no_process_left(model: Model) {
    match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        Err(Errno::ECHILD) => {}
        other => panic!("{}: a process was left behind: {other:?}", model.id()),
    }
}

/// The stdout reader threads close their pipes once the partners exit; give them a moment.
fn assert_fds_back_to(before: usize, model: Model) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Fewer than before is no leak of this run: a reader thread of an earlier run in this
    // process may close its pipe a moment late.
    let now = open_fds();
    assert!(
        now <= before,
        "{}: {} descriptors left open",
        model.id(),
        now - before
    );
}

/// Runs `model` in this process and checks that every request was answered.
fn run_and_check(model: Model, workload: &Workload) -> ModelRun {
    let before = open_fds();
    let run = run_model(
        model,
        workload,
        Path::new(COSTS),
        &Quiet,
        &AtomicBool::new(false),
    );
    assert_no_process_left(model);
    assert_fds_back_to(before, model);
    match &run.outcome {
        Outcome::Measured(m) => {
            let c = &m.client;
            assert_eq!(m.partial, None, "{}", model.id());
            assert_eq!(c.established, workload.connections, "{}: {c:?}", model.id());
            assert_eq!(c.completed, workload.requests(), "{}: {c:?}", model.id());
            assert_eq!(c.connect_errors + c.request_errors, 0, "{}", model.id());
            let server = m.server.as_ref().expect("the server reported its counts");
            assert_eq!(
                server.accepted,
                workload.connections as u64,
                "{}",
                model.id()
            );
            assert!(m.server_peak_threads >= 1 && m.server_peak_rss_bytes > 0);
            if model == Model::Prefork {
                assert_eq!(m.server_processes, 1 + workload.prefork_workers as u64);
            }
        }
        Outcome::Skipped { reason } if model.id() == "monoio" => {
            assert!(reason.contains("io_uring"), "{reason}");
        }
        other => panic!("{}: {other:?}", model.id()),
    }
    run
}

#[test]
fn every_model_answers_every_request_and_leaves_nothing_behind() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    adopt_orphans();
    let workload = small(Work::Io { ms: 1.0 });
    for model in Model::all() {
        run_and_check(model, &workload);
    }
}

#[test]
fn cpu_bound_requests_are_answered_inline_and_on_each_pool() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    adopt_orphans();
    for placement in [CpuPlacement::Inline, CpuPlacement::Pool] {
        let workload = small(Work::Cpu {
            bytes: 4096,
            placement,
        });
        for model in Model::all()
            .into_iter()
            .filter(|m| !m.blocks_per_connection())
        {
            run_and_check(model, &workload);
        }
    }
}

#[test]
fn requests_at_a_fixed_rate_are_all_answered() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    adopt_orphans();
    let workload = Workload {
        rate: Some(2000.0),
        ..small(Work::Io { ms: 1.0 })
    };
    run_and_check(model("tokio_multi_thread"), &workload);
}

#[test]
fn a_run_past_its_deadline_is_stopped_and_reported_as_partial() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    adopt_orphans();
    let workload = Workload {
        deadline_s: 0.5,
        ..small(Work::Io { ms: 5_000.0 })
    };
    let before = open_fds();
    let run = run_model(
        Model::ThreadPerConnection,
        &workload,
        Path::new(COSTS),
        &Quiet,
        &AtomicBool::new(false),
    );
    assert_no_process_left(Model::ThreadPerConnection);
    assert_fds_back_to(before, Model::ThreadPerConnection);
    assert!(!run.finished());
    let Outcome::Measured(m) = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert!(m.partial.unwrap().contains("deadline"));
    assert_eq!(m.client.completed, 0);
}

fn temp_target(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("c10k-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_cli_prints_json_that_parses_and_keeps_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    adopt_orphans();
    let target = temp_target("cli");
    let output = Command::new(COSTS)
        .args([
            "c10k",
            "--model",
            "smol",
            "--model",
            "prefork",
            "--prefork-workers",
            "4",
            "--connections",
            "100",
            "--io-ms",
            "1",
            "--json",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_no_process_left(model("smol"));
    let report: C10kReport = serde_json::from_slice(&output.stdout).unwrap();
    let models: Vec<Model> = report.runs.iter().map(|r| r.model).collect();
    assert_eq!(models, [model("smol"), Model::Prefork]);
    assert!(report.runs.iter().all(ModelRun::finished));
    let kept = std::fs::read(target.join("costs/c10k.json")).unwrap();
    let kept: std::collections::BTreeMap<String, C10kReport> =
        serde_json::from_slice(&kept).unwrap();
    // The key names every parameter off its default: here the four prefork workers.
    assert_eq!(kept["io_100c_1ms_prefork4"].runs.len(), 2);
    let _ = std::fs::remove_dir_all(&target);
}

#[test]
fn an_unknown_model_is_a_usage_error_in_one_line() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let output = Command::new(COSTS)
        .args(["c10k", "--model", "threads"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--list"), "{stderr}");
}

#[test]
fn out_of_range_arguments_are_refused_in_one_line_before_anything_starts() {
    // Its children would count as left behind by a run beside it.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let target = temp_target("bad-arguments");
    for bad in [
        ["--deadline", "-1"],
        ["--deadline", "NaN"],
        ["--deadline", "1e30"],
        ["--deadline", "0"],
        ["--rate", "0"],
        ["--rate", "-5"],
        ["--rate", "inf"],
        ["--io-ms", "-1"],
        ["--io-ms", "NaN"],
        ["--connections", "0"],
        ["--requests", "0"],
        ["--pool-threads", "0"],
        ["--connections", "lots"],
    ] {
        let output = Command::new(COSTS)
            .args(["c10k", "--model", "smol"])
            .args(bad)
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad:?}: {stderr}");
        assert!(
            stderr.contains(bad[0]) || stderr.contains(bad[1]),
            "{bad:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{bad:?}: a run started");
    }
    assert!(!target.join("costs").exists(), "a refused run kept results");
    let _ = std::fs::remove_dir_all(&target);
}

#[test]
fn a_run_cut_short_by_its_deadline_is_not_a_success() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    adopt_orphans();
    let target = temp_target("short");
    // Requests that wait five seconds, in a run allowed one.
    let output = Command::new(COSTS)
        .args(["c10k", "--model", "smol", "--connections", "10"])
        .args(["--io-ms", "5000", "--deadline", "1", "--json"])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert_no_process_left(model("smol"));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: C10kReport = serde_json::from_slice(&output.stdout).unwrap();
    let trouble = report.runs[0]
        .trouble(&report.workload)
        .expect("the run was cut short");
    assert!(
        stderr.contains(&format!("costs: smol: {trouble}")),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&target);
}

#[test]
fn connections_waiting_in_the_accept_queue_are_not_counted_as_held() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    adopt_orphans();
    // Two prefork workers each take one connection and serve it for 100 ms: the other 58
    // wait in the listener's accept queue when the client has opened them all.
    let workload = Workload {
        connections: 60,
        requests_per_connection: 1,
        work: Work::Io { ms: 100.0 },
        prefork_workers: 2,
        deadline_s: 60.0,
        ..Workload::default()
    };
    let run = run_and_check(Model::Prefork, &workload);
    let Outcome::Measured(m) = &run.outcome else {
        panic!("{run:?}")
    };
    let queued = m.queued_when_held.expect("the accept queue was read");
    assert!(queued >= 40, "only {queued} of 60 were queued");
    assert_eq!(m.held_by_server(), 60 - queued as usize);
}
