//! The load generator of a C10K run: opens every connection first and holds them, then has
//! each send its requests, and times every request from when it was due to its reply.
//!
//! It runs on one tokio `current_thread` loop, so that it takes as little CPU from the server
//! as it can. It reports progress as `connected N`, `requesting N` and `answered N` lines and
//! ends with
//! `result <json>`; it stops early, reporting what it has, at the run's deadline or when its
//! standard input closes.

use super::{MESSAGE, Workload};
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Connection attempts in flight at once: enough to fill any backlog quickly, few enough not
/// to overflow the kernel's SYN queue (`tcp_max_syn_backlog`, 2048 here).
const CONNECTS_IN_FLIGHT: usize = 256;
/// One attempt may take this long (a full accept queue drops SYNs, and the retry waits 1 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connecting ends when no new connection has been established for this long: the server
/// holds no more (its accept queue is full), and the run goes on with those it has.
const CONNECT_STALL: Duration = Duration::from_secs(2);
/// How often progress is printed.
const TICK: Duration = Duration::from_millis(100);

/// Latency percentiles of the completed requests, from due time to reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    fn of(micros: &Histogram<u64>) -> Option<Latency> {
        let ms = |us: u64| us as f64 / 1e3;
        (!micros.is_empty()).then(|| Latency {
            p50_ms: ms(micros.value_at_quantile(0.50)),
            p99_ms: ms(micros.value_at_quantile(0.99)),
            max_ms: ms(micros.max()),
            mean_ms: micros.mean() / 1e3,
        })
    }
}

/// What the client saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientReport {
    /// Connections asked for.
    pub connections: usize,
    /// Connections established and held at once before the first request.
    pub established: usize,
    /// Attempts that failed or timed out.
    pub connect_errors: u64,
    /// Of those, the attempts that timed out: what a server whose accept queue is full
    /// makes of a connection (the kernel drops the SYN). Absent in results kept before they
    /// were told apart.
    #[serde(default)]
    pub connect_timeouts: u64,
    /// The first connect error, as the OS put it.
    pub connect_error: Option<String>,
    /// Connecting stopped making progress before every connection was made: the server held
    /// no more.
    pub connect_stalled: bool,
    pub connect_s: f64,
    /// Requests the established connections were to send.
    pub requests: u64,
    pub completed: u64,
    pub request_errors: u64,
    pub request_error: Option<String>,
    pub latency: Option<Latency>,
    /// From the first request due to the last reply.
    pub run_s: f64,
    pub throughput_rps: f64,
    /// Why the run did not finish, when it did not.
    pub partial: Option<String>,
}

/// Runs the client against `addr` and returns its report (also printed as `result <json>`).
pub fn run(addr: SocketAddr, workload: &Workload) -> io::Result<ClientReport> {
    crate::limits::raise_fd_soft_limit();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
            let _ = stop.send(true);
        })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(drive(addr, workload.clone(), stopped));
    emit(&format!(
        "result {}",
        serde_json::to_string(&report).expect("a report serialises")
    ));
    // Connections still open (a partial run) close with the runtime, without waiting for
    // any task that is stuck.
    runtime.shutdown_background();
    Ok(report)
}

fn emit(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Resolves with the reason when the run must stop: its deadline or its caller.
async fn stop_reason(deadline: Instant, mut stopped: tokio::sync::watch::Receiver<bool>) -> String {
    tokio::select! {
        _ = tokio::time::sleep_until(deadline) => "the run's deadline passed".to_string(),
        _ = stopped.wait_for(|&stop| stop) => "stopped by the caller".to_string(),
    }
}

async fn drive(
    addr: SocketAddr,
    workload: Workload,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> ClientReport {
    let start = Instant::now();
    let stop = stop_reason(start + workload.deadline(), stopped);
    tokio::pin!(stop);
    let mut report = ClientReport {
        connections: workload.connections,
        ..ClientReport::default()
    };
    let streams = tokio::select! {
        streams = connect_all(addr, workload.connections, &mut report) => streams,
        reason = &mut stop => {
            report.partial = Some(format!("{reason} while connecting"));
            return report;
        }
    };
    report.established = streams.len();
    report.connect_s = start.elapsed().as_secs_f64();
    report.requests = streams.len() as u64 * workload.requests_per_connection as u64;
    emit(&format!("connected {}", streams.len()));
    emit(&format!("requesting {}", report.requests));
    send_requests(streams, &workload, &mut report, stop).await;
    report
}

/// Opens up to `wanted` connections and holds them; returns those established.
async fn connect_all(addr: SocketAddr, wanted: usize, report: &mut ClientReport) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(wanted);
    let mut attempts = futures::stream::iter(0..wanted)
        .map(|_| tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)))
        .buffer_unordered(CONNECTS_IN_FLIGHT);
    let (mut last_progress, mut last_tick) = (Instant::now(), Instant::now());
    loop {
        let attempt = tokio::select! {
            attempt = attempts.next() => attempt,
            _ = tokio::time::sleep_until(last_progress + CONNECT_STALL) => {
                report.connect_stalled = true;
                break;
            }
        };
        let failure = match attempt {
            None => break,
            Some(Ok(Ok(stream))) => {
                let _ = stream.set_nodelay(true);
                streams.push(stream);
                last_progress = Instant::now();
                if last_tick.elapsed() >= TICK {
                    emit(&format!("connected {}", streams.len()));
                    last_tick = Instant::now();
                }
                continue;
            }
            Some(Ok(Err(e))) => e.to_string(),
            Some(Err(_)) => {
                report.connect_timeouts += 1;
                format!("connect timed out after {CONNECT_TIMEOUT:?}")
            }
        };
        report.connect_errors += 1;
        report.connect_error.get_or_insert(failure);
    }
    streams
}

/// What the request tasks share.
struct Tally {
    micros: Mutex<Histogram<u64>>,
    completed: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Tally {
    fn fail(&self, why: String) {
        self.errors.fetch_add(1, Relaxed);
        self.first_error.lock().unwrap().get_or_insert(why);
    }
}

async fn send_requests(
    streams: Vec<TcpStream>,
    workload: &Workload,
    report: &mut ClientReport,
    mut stop: std::pin::Pin<&mut impl Future<Output = String>>,
) {
    let tally = Arc::new(Tally {
        micros: Mutex::new(
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
        ),
        completed: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        first_error: Mutex::new(None),
    });
    let connections = streams.len() as u64;
    let first_due = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, stream) in streams.into_iter().enumerate() {
        let schedule = Schedule {
            first_due,
            rate: workload.rate,
            connection: index as u64,
            connections,
        };
        let requests = workload.requests_per_connection;
        tasks.spawn(converse(stream, schedule, requests, tally.clone()));
    }
    let mut ticker = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            joined = tasks.join_next() => if joined.is_none() { break },
            _ = ticker.tick() => emit(&format!("answered {}", tally.completed.load(Relaxed))),
            reason = &mut stop => {
                report.partial = Some(format!("{reason} with requests outstanding"));
                tasks.abort_all();
                break;
            }
        }
    }
    report.run_s = first_due.elapsed().as_secs_f64();
    report.completed = tally.completed.load(Relaxed);
    report.request_errors = tally.errors.load(Relaxed);
    report.request_error = tally.first_error.lock().unwrap().clone();
    report.latency = Latency::of(&tally.micros.lock().unwrap());
    report.throughput_rps = report.completed as f64 / report.run_s.max(1e-9);
}

/// When each request of one connection is due.
#[derive(Clone, Copy)]
struct Schedule {
    first_due: Instant,
    rate: Option<f64>,
    connection: u64,
    connections: u64,
}

impl Schedule {
    /// When request `k` of this connection is due, the previous one answered at
    /// `previous_reply`. With a rate, the requests of all connections interleave at fixed
    /// intervals. Without one, every connection's first request is due at the same instant
    /// (all send at once) and each later one the moment the previous reply arrived: never
    /// when the client got round to it, which would leave its own queueing out of the time.
    fn due(&self, k: u32, previous_reply: Option<Instant>) -> Instant {
        match (self.rate, previous_reply) {
            (Some(rate), _) => {
                let slot = k as u64 * self.connections + self.connection;
                self.first_due + Duration::from_secs_f64(slot as f64 / rate)
            }
            (None, Some(reply)) => reply,
            (None, None) => self.first_due,
        }
    }
}

/// One connection's requests, one after another; the connection closes when it returns.
async fn converse(mut stream: TcpStream, schedule: Schedule, requests: u32, tally: Arc<Tally>) {
    let mut previous_reply = None;
    for k in 0..requests {
        let due = schedule.due(k, previous_reply);
        tokio::time::sleep_until(due).await;
        let request = (schedule.connection << 32 | k as u64).to_le_bytes();
        let mut reply = [0u8; MESSAGE];
        if let Err(e) = stream.write_all(&request).await {
            return tally.fail(format!("send: {e}"));
        }
        if let Err(e) = stream.read_exact(&mut reply).await {
            return tally.fail(format!("reply: {e}"));
        }
        if reply != request {
            return tally.fail("a reply did not echo its request".into());
        }
        let replied = Instant::now();
        previous_reply = Some(replied);
        let micros = replied.duration_since(due).as_micros().max(1) as u64;
        tally.micros.lock().unwrap().saturating_record(micros);
        tally.completed.fetch_add(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_at_a_rate_interleave_across_connections() {
        let first_due = Instant::now();
        let at = |connection, k| {
            Schedule {
                first_due,
                rate: Some(100.0),
                connection,
                connections: 4,
            }
            .due(k, None)
                - first_due
        };
        assert_eq!(at(0, 0), Duration::ZERO);
        assert_eq!(at(3, 0), Duration::from_millis(30));
        assert_eq!(at(1, 2), Duration::from_millis(90));
        // Without a rate: all first requests at once, each later one when its previous
        // reply came, however late the client itself gets to it.
        let burst = Schedule {
            first_due,
            rate: None,
            connection: 7,
            connections: 10,
        };
        assert_eq!(burst.due(0, None), first_due);
        let reply = first_due + Duration::from_millis(12);
        assert_eq!(burst.due(1, Some(reply)), reply);
    }

    #[test]
    fn no_completed_request_means_no_latency() {
        let empty = Histogram::<u64>::new(3).unwrap();
        assert_eq!(Latency::of(&empty), None);
    }
}
