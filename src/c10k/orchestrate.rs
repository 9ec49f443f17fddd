//! Runs one model: starts its server and the client as processes of their own, samples the
//! server's memory and threads from outside while the client works, then stops both and reaps
//! them within bounds, whatever happened. Every wait here has a deadline.

use super::client::ClientReport;
use super::server::ServerStats;
use super::{Model, Workload, limits};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to listen, and either process to stop once asked.
const STARTUP: Duration = Duration::from_secs(20);
const GRACE: Duration = Duration::from_secs(10);
/// How often the server's memory and threads are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// The result of one model's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Measured(Box<Measured>),
    /// This machine cannot run it (limits, no io_uring); the reason says what is missing.
    Skipped {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub client: ClientReport,
    /// What the server counted; absent if it did not say before it was stopped.
    pub server: Option<ServerStats>,
    /// Peak resident memory of the server: its own high-water mark, or for several
    /// processes the peak of their summed proportional set sizes (shared pages split).
    pub server_peak_rss_bytes: u64,
    /// Peak threads of the server, over all its processes.
    pub server_peak_threads: u64,
    pub server_processes: u64,
    /// User + system CPU of the server and its reaped workers.
    pub server_cpu_s: f64,
    /// User + system CPU of the load generator, which shares the machine with the server:
    /// on few cores, its share bounds what the server can show.
    pub client_cpu_s: f64,
    /// Why the run is incomplete, when it is.
    pub partial: Option<String>,
    /// Connections still waiting in the server's accept queue when the client had opened
    /// them all: made, but not yet held by the server (read from the kernel's count for the
    /// listening sockets). Absent in results kept before it was counted.
    #[serde(default)]
    pub queued_when_held: Option<u64>,
}

impl Measured {
    /// Connections the server itself held once all were open: made, and accepted.
    pub fn held_by_server(&self) -> usize {
        let queued = self.queued_when_held.unwrap_or(0) as usize;
        self.client.established.saturating_sub(queued)
    }
}

/// Connections waiting in the accept queues of the loopback listeners on `port` (every
/// `SO_REUSEPORT` listener of it): for a listening socket `/proc/net/tcp` gives its accept
/// queue's length as `rx_queue`.
pub fn accept_queue(port: u16) -> Option<u64> {
    let mut queued = None;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(&"0A"), Some(queues)) =
                (fields.get(1), fields.get(3), fields.get(4))
            else {
                continue;
            };
            let listening_here = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                == Some(port);
            let waiting = queues
                .split_once(':')
                .and_then(|(_, rx)| u64::from_str_radix(rx, 16).ok());
            if let (true, Some(waiting)) = (listening_here, waiting) {
                *queued.get_or_insert(0) += waiting;
            }
        }
    }
    queued
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelRun {
    pub model: Model,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The run of `costs c10k` that measured this model: results kept for one scenario mix
    /// models from several runs when a later run measured only some of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<crate::provenance::Run>,
}

impl ModelRun {
    /// Whether the run finished: skipped runs say why and count as finished.
    pub fn finished(&self) -> bool {
        match &self.outcome {
            Outcome::Measured(m) => m.partial.is_none(),
            Outcome::Skipped { .. } => true,
            Outcome::Failed { .. } => false,
        }
    }

    /// What went wrong in a run that was not skipped: it failed or ended early, a request on
    /// an accepted connection was lost, or connections went missing that the model's own
    /// limit does not explain. `None` for a clean run, for a skip, and for a run that met its
    /// model's limit ([`ModelRun::limit`]), which is a result.
    pub fn trouble(&self, workload: &Workload) -> Option<String> {
        match &self.outcome {
            Outcome::Skipped { .. } => None,
            Outcome::Failed { reason } => Some(format!("failed: {reason}")),
            Outcome::Measured(m) => {
                let c = &m.client;
                let at_limit = self.limit(workload).is_some();
                let mut trouble = Vec::new();
                if let Some(why) = &m.partial {
                    trouble.push(format!("partial: {why}"));
                }
                if c.established < c.connections && !at_limit {
                    trouble.push(format!(
                        "{} of {} connections never made",
                        c.connections - c.established,
                        c.connections
                    ));
                }
                let refused = match at_limit {
                    true => c.connect_errors.saturating_sub(c.connect_timeouts),
                    false => c.connect_errors,
                };
                if refused > 0 {
                    trouble.push(format!("{refused} connect errors"));
                }
                if c.request_errors > 0 {
                    trouble.push(format!("{} request errors", c.request_errors));
                }
                let unanswered = c.requests.saturating_sub(c.completed + c.request_errors);
                if unanswered > 0 && m.partial.is_none() {
                    trouble.push(format!(
                        "{unanswered} requests on accepted connections never answered"
                    ));
                }
                (!trouble.is_empty()).then(|| trouble.join(", "))
            }
        }
    }

    /// The model's own limit, when the run met it: the server held every connection its
    /// design serves at once, the accept queue filled behind them, and the attempts beyond
    /// that timed out (the kernel drops them) with no other connect error. What the
    /// documents predict for such a model, said as its result.
    pub fn limit(&self, workload: &Workload) -> Option<String> {
        let Outcome::Measured(m) = &self.outcome else {
            return None;
        };
        let most = self.model.serves_at_most(workload)?;
        let c = &m.client;
        let met = c.established < c.connections
            && c.connect_stalled
            && m.held_by_server() >= most
            && c.connect_errors == c.connect_timeouts;
        met.then(|| {
            format!(
                "at its limit: {} of {} connections made ({} served at once, {} waiting in \
                 the accept queue), the other {} dropped by the kernel",
                c.established,
                c.connections,
                m.held_by_server(),
                m.queued_when_held.unwrap_or(0),
                c.connections - c.established
            )
        })
    }
}

/// What the caller sees while a run goes on.
pub trait Progress {
    fn connecting(&self, model: Model, connections: u64);
    fn connected(&self, n: u64);
    fn requesting(&self, requests: u64);
    fn answered(&self, n: u64);
    fn done(&self);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn connecting(&self, _: Model, _: u64) {}
    fn connected(&self, _: u64) {}
    fn requesting(&self, _: u64) {}
    fn answered(&self, _: u64) {}
    fn done(&self) {}
}

/// A process of the run, in a process group of its own so that it and anything it forked
/// can be stopped together, and killed by the kernel if this process dies.
struct Partner {
    child: Child,
    lines: Receiver<String>,
}

impl Partner {
    fn start(exe: &Path, args: &[&str]) -> std::io::Result<Partner> {
        let mut command = Command::new(exe);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0);
        // SAFETY: prctl with integer arguments is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, lines) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Partner { child, lines })
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The rest of the first line starting with `prefix`, if one comes within `limit`.
    fn line_after(&self, prefix: &str, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return Some(rest.to_string());
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Closes its input: the signal to finish and report.
    fn ask_to_stop(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Reaps it within `limit`, killing its whole group if it is late, and then any member
    /// of the group still alive. Returns its CPU time (with its reaped children's).
    fn reap(mut self, limit: Duration) -> Option<Duration> {
        self.ask_to_stop();
        let pid = self.pid();
        let usage = reap_with_usage(pid, limit);
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        usage
    }
}

/// Waits for `pid` with `wait4`, so that the kernel's account of its CPU comes back too.
fn reap_with_usage(pid: i32, limit: Duration) -> Option<Duration> {
    let deadline = Instant::now() + limit;
    let cpu = |usage: &libc::rusage| {
        let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        time(usage.ru_utime) + time(usage.ru_stime)
    };
    loop {
        let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
        // SAFETY: wait4 writes only into the two locals.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        match reaped {
            0 if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            0 => {
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                // SAFETY: as above; SIGKILL makes this wait short.
                unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
                return Some(cpu(&usage));
            }
            r if r == pid => return Some(cpu(&usage)),
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
            _ => return None,
        }
    }
}

/// Memory and threads of a process and its descendants at one moment.
#[derive(Clone, Copy, Debug, Default)]
struct TreeSample {
    rss_bytes: u64,
    threads: u64,
    processes: u64,
}

fn status_field(pid: i32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

fn proportional_kib(pid: i32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = rollup.lines().find(|l| l.starts_with("Pss:"))?;
    line[4..].split_whitespace().next()?.parse().ok()
}

fn descendants(root: i32) -> Vec<i32> {
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        let pid = all[i];
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            all.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<i32>().ok()),
            );
        }
        i += 1;
    }
    all
}

fn sample_tree(root: i32) -> TreeSample {
    let pids = descendants(root);
    let several = pids.len() > 1;
    let mut sample = TreeSample::default();
    for pid in pids {
        let kib = match several {
            true => proportional_kib(pid),
            false => status_field(pid, "VmRSS:"),
        };
        sample.rss_bytes += kib.unwrap_or(0) * 1024;
        sample.threads += status_field(pid, "Threads:").unwrap_or(0);
        sample.processes += 1;
    }
    sample
}

/// Runs `model` under `workload`, this program (`exe`) serving as server and client.
pub fn run_model(
    model: Model,
    workload: &Workload,
    exe: &Path,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> ModelRun {
    let outcome = match limits::check(model, workload) {
        Err(reason) => Outcome::Skipped {
            reason: format!("does not fit here: {reason}"),
        },
        Ok(()) => measure(model, workload, exe, progress, interrupted)
            .unwrap_or_else(|reason| Outcome::Failed { reason }),
    };
    ModelRun {
        model,
        outcome,
        run: None,
    }
}

fn measure(
    model: Model,
    workload: &Workload,
    exe: &Path,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<Outcome, String> {
    let json = serde_json::to_string(workload).expect("a workload serialises");
    let server = Partner::start(
        exe,
        &["c10k-server", "--model", model.id(), "--workload", &json],
    )
    .map_err(|e| format!("cannot start the server: {e}"))?;
    let Some(port) = server.line_after("ready ", STARTUP) else {
        server.reap(GRACE);
        return Err(format!("the server did not listen within {STARTUP:?}"));
    };
    let client = match Partner::start(exe, &["c10k-client", "--port", &port, "--workload", &json]) {
        Ok(client) => client,
        Err(e) => {
            server.reap(GRACE);
            return Err(format!("cannot start the client: {e}"));
        }
    };
    progress.connecting(model, workload.connections as u64);
    let port_number = port.parse::<u16>().ok();
    let (report, mut peak, client_cpu, queued_when_held) = watch(
        &server,
        client,
        port_number,
        workload,
        progress,
        interrupted,
    );
    progress.done();
    peak.rss_bytes = peak
        .rss_bytes
        .max(status_field(server.pid(), "VmHWM:").unwrap_or(0) * 1024);
    let mut server = server;
    server.ask_to_stop();
    let stats = server
        .line_after("stats ", GRACE)
        .and_then(|json| serde_json::from_str::<ServerStats>(&json).ok());
    let cpu = server.reap(GRACE).unwrap_or_default();
    let Some(client) = report else {
        return Err("the client ended without a report".into());
    };
    let partial = client.partial.clone().or_else(|| {
        stats
            .is_none()
            .then(|| "the server did not report its counts".into())
    });
    Ok(Outcome::Measured(Box::new(Measured {
        client,
        server: stats,
        server_peak_rss_bytes: peak.rss_bytes,
        server_peak_threads: peak.threads,
        server_processes: peak.processes,
        server_cpu_s: cpu.as_secs_f64(),
        client_cpu_s: client_cpu.as_secs_f64(),
        partial,
        queued_when_held,
    })))
}

/// Follows the client to its report, sampling the server meanwhile, and counting the
/// connections still in the server's accept queue on `port` once the client has opened
/// them all; stops the client at the deadline (plus grace) or on interruption, and always
/// reaps it.
fn watch(
    server: &Partner,
    mut client: Partner,
    port: Option<u16>,
    workload: &Workload,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> (Option<ClientReport>, TreeSample, Duration, Option<u64>) {
    let mut queued_when_held = None;
    let deadline = Instant::now() + workload.deadline() + GRACE;
    let mut peak = TreeSample::default();
    let mut report = None;
    let mut last_sample = Instant::now() - SAMPLE_EVERY;
    loop {
        match client.lines.recv_timeout(SAMPLE_EVERY) {
            Ok(line) => {
                let (word, rest) = line.split_once(' ').unwrap_or((&line, ""));
                let number = rest.parse::<u64>().unwrap_or(0);
                match word {
                    "connected" => progress.connected(number),
                    "requesting" => {
                        queued_when_held = port.and_then(accept_queue);
                        progress.requesting(number)
                    }
                    "answered" => progress.answered(number),
                    "result" => {
                        report = serde_json::from_str::<ClientReport>(rest).ok();
                        break;
                    }
                    _ => {}
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_sample.elapsed() >= SAMPLE_EVERY {
            let now = sample_tree(server.pid());
            peak.rss_bytes = peak.rss_bytes.max(now.rss_bytes);
            peak.threads = peak.threads.max(now.threads);
            peak.processes = peak.processes.max(now.processes);
            last_sample = Instant::now();
        }
        if interrupted.load(Ordering::Relaxed) {
            client.ask_to_stop();
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let client_cpu = client.reap(GRACE).unwrap_or_default();
    (report, peak, client_cpu, queued_when_held)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the client and the listener counted for one run of `model`: `made` of 10,000
    /// connections, `queued` of them still in the accept queue, `timeouts` of the
    /// `errors` attempts that failed.
    fn counted(model: Model, made: usize, queued: u64, errors: u64, timeouts: u64) -> ModelRun {
        ModelRun {
            model,
            outcome: Outcome::Measured(Box::new(Measured {
                client: ClientReport {
                    connections: 10_000,
                    established: made,
                    connect_errors: errors,
                    connect_timeouts: timeouts,
                    connect_stalled: made < 10_000,
                    requests: made as u64,
                    completed: made as u64,
                    ..ClientReport::default()
                },
                server: None,
                server_peak_rss_bytes: 0,
                server_peak_threads: 0,
                server_processes: 0,
                server_cpu_s: 0.0,
                client_cpu_s: 0.0,
                partial: None,
                queued_when_held: Some(queued),
            })),
            run: None,
        }
    }

    #[test]
    fn prefork_full_with_its_queue_full_is_its_limit_not_trouble() {
        let workload = Workload::default();
        // 100 workers busy, 4,097 waiting, 5,803 attempts dropped: as measured on 10,000.
        let run = counted(Model::Prefork, 4_197, 4_097, 5_803, 5_803);
        assert_eq!(run.trouble(&workload), None);
        let limit = run.limit(&workload).expect("prefork met its limit");
        assert!(
            limit.contains("4197 of 10000") && limit.contains("5803"),
            "{limit}"
        );
    }

    #[test]
    fn missing_connections_the_model_does_not_explain_are_trouble() {
        let workload = Workload::default();
        // A refused connection is not the kernel dropping an attempt on a full queue.
        let refused = counted(Model::Prefork, 4_197, 4_097, 5_803, 5_802);
        assert_eq!(refused.limit(&workload), None);
        assert!(
            refused
                .trouble(&workload)
                .unwrap()
                .contains("5803 of 10000")
        );
        // Fewer held than the workers: some worker was not serving.
        let idle_workers = counted(Model::Prefork, 4_150, 4_097, 5_850, 5_850);
        assert!(idle_workers.trouble(&workload).is_some());
        // Threads hold every connection by design: any missing one is trouble.
        let threads = counted(Model::ThreadPerConnection, 4_197, 0, 5_803, 5_803);
        assert_eq!(threads.limit(&workload), None);
        assert!(threads.trouble(&workload).is_some());
    }

    #[test]
    fn a_request_lost_on_an_accepted_connection_is_trouble_even_at_the_limit() {
        let workload = Workload::default();
        let mut run = counted(Model::Prefork, 4_197, 4_097, 5_803, 5_803);
        let Outcome::Measured(m) = &mut run.outcome else {
            unreachable!()
        };
        m.client.completed -= 3;
        let trouble = run.trouble(&workload).expect("three requests were lost");
        assert!(trouble.contains("3 requests"), "{trouble}");
    }
}
