//! A C10K run's results: the table in the shape of the documents' tables, the JSON for tools,
//! and the copy kept in `target/costs/c10k.json` for the claims report.

use super::orchestrate::{ModelRun, Outcome};
use super::{CpuPlacement, Work, Workload};
use crate::results::{self, Kept};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// One invocation's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct C10kReport {
    /// The machine line (`Environment::summary`).
    pub machine: String,
    pub workload: Workload,
    pub runs: Vec<ModelRun>,
    /// The run of `costs c10k` that made it; none in files kept before runs were recorded.
    #[serde(default)]
    pub run: Option<crate::provenance::Run>,
}

/// The key a workload's results are kept under: the kind of work and the connections, so
/// that the documents' different tables (10,000 × 10 ms, 5,000 × 50 ms) are kept side by side.
pub fn scenario(workload: &Workload) -> String {
    let connections = workload.connections;
    let default = Workload::default();
    let mut key = match workload.work {
        Work::Io { ms } => format!("io_{connections}c_{ms}ms"),
        Work::Cpu {
            placement: CpuPlacement::Inline,
            ..
        } => format!("cpu_inline_{connections}c"),
        Work::Cpu {
            placement: CpuPlacement::Pool,
            ..
        } => format!("cpu_pool_{connections}c"),
    };
    // Every other parameter that changes the figures, where it differs from the default,
    // so that a different run never replaces another's row.
    if let Work::Cpu { bytes, .. } = workload.work
        && bytes != DEFAULT_HASH_BYTES
    {
        key += &format!("_hash{}k", bytes >> 10);
    }
    if workload.requests_per_connection != default.requests_per_connection {
        key += &format!("_{}req", workload.requests_per_connection);
    }
    if let Some(rate) = workload.rate {
        key += &format!("_at{rate}rps");
    }
    if workload.pool_threads != default.pool_threads {
        key += &format!("_pool{}", workload.pool_threads);
    }
    if workload.prefork_workers != default.prefork_workers {
        key += &format!("_prefork{}", workload.prefork_workers);
    }
    key
}

/// The buffer a CPU-bound request hashes unless told otherwise (`costs c10k --hash-kib`).
const DEFAULT_HASH_BYTES: usize = 64 << 10;

/// The latest results of every scenario, per scenario key.
pub const C10K_REPORTS: Kept<C10kReport> = Kept::new("c10k.json");

/// Merges `report` into the kept results, atomically: a run of some models replaces those
/// models' rows if the workload is the same, and the whole scenario if it is not.
pub fn keep(report: &C10kReport) -> std::io::Result<PathBuf> {
    C10K_REPORTS.update(&results::dir(), |all| merge(all, report))
}

/// Puts `report`'s model runs into the kept results of its scenario, each stamped with the
/// run that made it; a run of another workload under the same key replaces the entry.
fn merge(all: &mut BTreeMap<String, C10kReport>, report: &C10kReport) {
    let mut report = report.clone();
    for run in &mut report.runs {
        run.run.clone_from(&report.run);
    }
    let entry = all
        .entry(scenario(&report.workload))
        .or_insert_with(|| report.clone());
    if entry.workload != report.workload {
        *entry = report.clone();
        return;
    }
    entry.machine.clone_from(&report.machine);
    entry.run.clone_from(&report.run);
    for run in &report.runs {
        entry.runs.retain(|kept| kept.model != run.model);
        entry.runs.push(run.clone());
    }
    entry
        .runs
        .sort_by_key(|run| super::Model::all().iter().position(|m| *m == run.model));
}

fn ms(value: f64) -> String {
    match value {
        v if v >= 100.0 => format!("{v:.0} ms"),
        v if v >= 10.0 => format!("{v:.1} ms"),
        v => format!("{v:.2} ms"),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

/// Remarks that explain a row: why it is partial, why connections are missing, what the
/// prefork workers' wake-ups were.
fn notes(run: &ModelRun, workload: &Workload) -> String {
    let Outcome::Measured(m) = &run.outcome else {
        return String::new();
    };
    let mut notes = Vec::new();
    if let Some(why) = &m.partial {
        notes.push(format!("PARTIAL: {why}"));
    }
    let c = &m.client;
    if let Some(limit) = run.limit(workload) {
        notes.push(limit);
    } else if c.connect_stalled {
        notes.push(format!(
            "{} never connected: no progress once {} were made (accept queue full)",
            c.connections - c.established,
            c.established
        ));
    }
    let at_limit = run.limit(workload).is_some();
    if let Some(queued) = m.queued_when_held.filter(|&q| q > 0 && !at_limit) {
        notes.push(format!(
            "{queued} of the {} made waited in the accept queue, not yet the server's",
            c.established
        ));
    }
    if let Some(e) = &c.connect_error {
        notes.push(format!("connect: {e}"));
    }
    if let Some(e) = &c.request_error {
        notes.push(format!("request: {e}"));
    }
    if let Some(s) = m.server.as_ref().filter(|s| s.accept_sleeps > 0) {
        notes.push(format!(
            "{:.2} sleeps per accept, {} wasted wake-ups",
            s.accept_sleeps as f64 / s.accepted.max(1) as f64,
            s.wasted_wakeups
        ));
    }
    if let Some(s) = m
        .server
        .as_ref()
        .filter(|s| s.spawn_errors + s.accept_errors > 0)
    {
        notes.push(format!(
            "server: {} accept errors, {} spawn errors",
            s.accept_errors, s.spawn_errors
        ));
    }
    notes.join("; ")
}

/// The table, one row per model, as the documents print theirs.
pub fn table(report: &C10kReport) -> String {
    let w = &report.workload;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} connections held, {} request(s) each{}; {}",
        w.connections,
        w.requests_per_connection,
        w.rate.map_or(String::new(), |r| format!(" at {r} req/s")),
        w.work.describe()
    );
    let _ = writeln!(out, "machine: {}", report.machine);
    let _ = writeln!(
        out,
        "{:<22} {:>6} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7} {:>7} {:>8}  notes",
        "model",
        "held",
        "done",
        "errors",
        "p50",
        "p99",
        "max",
        "req/s",
        "peak RSS",
        "threads",
        "CPU s",
        "client s"
    );
    for run in &report.runs {
        let id = run.model.id();
        match &run.outcome {
            Outcome::Measured(m) => {
                let c = &m.client;
                let errors = c.connect_errors + c.request_errors;
                let (p50, p99, max) = c
                    .latency
                    .as_ref()
                    .map_or(("-".to_string(), "-".to_string(), "-".to_string()), |l| {
                        (ms(l.p50_ms), ms(l.p99_ms), ms(l.max_ms))
                    });
                let _ = writeln!(
                    out,
                    "{:<22} {:>6} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9.0} {:>10} {:>7} {:>7.2} {:>8.2}  {}",
                    id,
                    m.held_by_server(),
                    c.completed,
                    errors,
                    p50,
                    p99,
                    max,
                    c.throughput_rps,
                    mib(m.server_peak_rss_bytes),
                    m.server_peak_threads,
                    m.server_cpu_s,
                    m.client_cpu_s,
                    notes(run, w)
                );
            }
            Outcome::Skipped { reason } => {
                let _ = writeln!(out, "{id:<22} skipped: {reason}");
            }
            Outcome::Failed { reason } => {
                let _ = writeln!(out, "{id:<22} FAILED: {reason}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::c10k::Model;
    use crate::c10k::client::{ClientReport, Latency};
    use crate::c10k::orchestrate::Measured;

    fn smol() -> Model {
        Model::from_id("smol").expect("smol serves c10k")
    }

    fn monoio() -> Model {
        Model::from_id("monoio").expect("monoio serves c10k")
    }

    fn measured(model: Model) -> ModelRun {
        ModelRun {
            model,
            outcome: Outcome::Measured(Box::new(Measured {
                client: ClientReport {
                    connections: 100,
                    established: 100,
                    completed: 100,
                    requests: 100,
                    latency: Some(Latency {
                        p50_ms: 1.2,
                        p99_ms: 3.4,
                        max_ms: 5.6,
                        mean_ms: 1.5,
                    }),
                    ..ClientReport::default()
                },
                server: None,
                server_peak_rss_bytes: 3 << 20,
                server_peak_threads: 4,
                server_processes: 1,
                server_cpu_s: 0.25,
                client_cpu_s: 0.5,
                partial: None,
                queued_when_held: Some(0),
            })),
            run: None,
        }
    }

    #[test]
    fn each_kept_model_run_carries_the_run_that_made_it() {
        use crate::provenance::{Mode, Run};
        let run_of = |commit: &str| Run {
            commit: commit.into(),
            ..Run::now(Mode::Tool)
        };
        let report = |models: &[Model], commit: &str| C10kReport {
            machine: "test machine".into(),
            run: Some(run_of(commit)),
            workload: Workload::default(),
            runs: models.iter().map(|m| measured(*m)).collect(),
        };
        let mut all = BTreeMap::new();
        merge(&mut all, &report(&[smol(), monoio()], "aaaaaaaaaaaa"));
        // A later run of one model replaces that model's row only, and says so.
        merge(&mut all, &report(&[smol()], "bbbbbbbbbbbb"));
        let kept = &all[&scenario(&Workload::default())];
        let commit_of = |model: Model| {
            let run = kept.runs.iter().find(|r| r.model == model).unwrap();
            run.run.as_ref().unwrap().commit.clone()
        };
        assert_eq!(commit_of(smol()), "bbbbbbbbbbbb");
        assert_eq!(commit_of(monoio()), "aaaaaaaaaaaa");
        assert_eq!(kept.run.as_ref().unwrap().commit, "bbbbbbbbbbbb");
        assert_eq!(kept.runs.len(), 2);
    }

    #[test]
    fn the_table_has_a_row_per_model_and_says_why_one_was_skipped() {
        let report = C10kReport {
            machine: "test machine".into(),
            run: None,
            workload: Workload::default(),
            runs: vec![
                measured(smol()),
                ModelRun {
                    model: monoio(),
                    outcome: Outcome::Skipped {
                        reason: "no io_uring".into(),
                    },
                    run: None,
                },
            ],
        };
        let table = table(&report);
        let smol = table.lines().find(|l| l.starts_with("smol ")).unwrap();
        assert!(
            smol.contains("1.20 ms") && smol.contains("3.0 MiB"),
            "{smol}"
        );
        assert!(table.contains("monoio                 skipped: no io_uring"));
        let json = serde_json::to_string(&report).unwrap();
        let back: C10kReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn scenarios_are_told_apart_by_their_work_and_connections() {
        let with = |work| Workload {
            work,
            ..Workload::default()
        };
        assert_eq!(scenario(&with(Work::Io { ms: 10.0 })), "io_10000c_10ms");
        let cpu = |placement| {
            with(Work::Cpu {
                bytes: DEFAULT_HASH_BYTES,
                placement,
            })
        };
        assert_eq!(scenario(&cpu(CpuPlacement::Inline)), "cpu_inline_10000c");
        assert_eq!(scenario(&cpu(CpuPlacement::Pool)), "cpu_pool_10000c");
    }

    #[test]
    fn every_parameter_that_differs_from_the_default_is_in_the_key() {
        let keys: Vec<String> = [
            Workload::default(),
            Workload {
                rate: Some(5000.0),
                ..Workload::default()
            },
            Workload {
                requests_per_connection: 3,
                ..Workload::default()
            },
            Workload {
                pool_threads: 8,
                ..Workload::default()
            },
            Workload {
                prefork_workers: 4,
                ..Workload::default()
            },
            Workload {
                work: Work::Cpu {
                    bytes: 1 << 10,
                    placement: CpuPlacement::Inline,
                },
                ..Workload::default()
            },
        ]
        .iter()
        .map(scenario)
        .collect();
        let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        assert_eq!(keys[1], "io_10000c_10ms_at5000rps");
    }
}
