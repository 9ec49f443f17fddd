//! C10K: whole-server runs that reproduce the documents' tables (claims C06, C30–C33). A
//! server per concurrency model runs in its own process and a load generator in another (a
//! process here may hold at most 20,000 fds, so one cannot hold both ends of 10,000 loopback
//! connections); the `costs c10k` process starts both, samples the server from outside and
//! reports one row per model.
//!
//! The protocol is the smallest that has a request and a reply: the client writes an 8-byte
//! request, the server does the work (waits `io_ms` its own way, or hashes a buffer) and
//! echoes the 8 bytes back. The client times each request from when it was due to when its
//! reply arrived.

pub mod client;
pub mod limits;
pub mod orchestrate;
pub mod report;
pub mod server;

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Bytes of a request and of its reply.
pub const MESSAGE: usize = 8;

/// Listen backlog asked for; the kernel caps it at `net.core.somaxconn`. Connections wait
/// here until a model accepts them, so it bounds how many a model that accepts slowly (a
/// fixed set of prefork workers) can have established at once.
pub const BACKLOG: i32 = 4096;

/// A concurrency model: how a server waits for many connections at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// One OS thread per connection, blocking reads and sleeps (Rust's 2 MiB default stack).
    ThreadPerConnection,
    /// A fixed pool of OS threads; a connection holds a thread while it is open.
    ThreadPool,
    /// Worker processes forked before any thread exists, each in a blocking accept loop on
    /// the shared listener and serving one connection at a time.
    Prefork,
    /// tokio's work-stealing scheduler, 2 workers.
    TokioMultiThread,
    /// tokio's single-threaded scheduler: one event loop.
    TokioCurrentThread,
    /// async-std's global executor, 2 threads.
    AsyncStd,
    /// smol: one `async_executor::Executor` driven by 2 threads, as `smol::spawn` runs it.
    Smol,
    /// may: a stackful coroutine per connection on 2 workers (the goroutine model).
    May,
    /// monoio: thread-per-core io_uring runtimes, one per CPU of the 2, each with its own
    /// `SO_REUSEPORT` listener.
    Monoio,
}

impl Model {
    pub const ALL: [Model; 9] = [
        Model::ThreadPerConnection,
        Model::ThreadPool,
        Model::Prefork,
        Model::TokioMultiThread,
        Model::TokioCurrentThread,
        Model::AsyncStd,
        Model::Smol,
        Model::May,
        Model::Monoio,
    ];

    /// The model's stable ID, as `--model` takes it and the JSON reports it.
    pub fn id(self) -> &'static str {
        match self {
            Model::ThreadPerConnection => "thread_per_connection",
            Model::ThreadPool => "thread_pool",
            Model::Prefork => "prefork",
            Model::TokioMultiThread => "tokio_multi_thread",
            Model::TokioCurrentThread => "tokio_current_thread",
            Model::AsyncStd => "async_std",
            Model::Smol => "smol",
            Model::May => "may",
            Model::Monoio => "monoio",
        }
    }

    pub fn from_id(id: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.id() == id)
    }

    /// Whether the model serves connections on threads or processes that may block, so that
    /// a CPU-bound request runs where it is (there is no event loop to keep free).
    pub fn blocks_per_connection(self) -> bool {
        matches!(
            self,
            Model::ThreadPerConnection | Model::ThreadPool | Model::Prefork
        )
    }
}

/// Where a CPU-bound request's hash runs on the async models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// On the event loop (or coroutine) that read the request.
    Inline,
    /// On the runtime's own pool for blocking work: tokio and async-std `spawn_blocking`,
    /// smol's and monoio's `blocking::unblock`; may has none, so rayon's.
    Pool,
}

/// What the server does for each request.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// Simulated I/O: wait this long, the model's own way (a sleeping thread, a timer).
    Io { ms: f64 },
    /// CPU-bound: SHA-256 of a buffer of this many bytes.
    Cpu { bytes: usize, placement: Placement },
}

/// One request's work as a server carries it out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    Wait(Duration),
    /// Hash this many bytes where the request was read.
    Hash(usize),
    /// Hash this many bytes on a pool, off the loop.
    HashOnPool(usize),
}

impl Work {
    pub fn step(&self) -> Step {
        match *self {
            Work::Io { ms } => Step::Wait(Duration::from_secs_f64(ms / 1e3)),
            Work::Cpu {
                bytes,
                placement: Placement::Inline,
            } => Step::Hash(bytes),
            Work::Cpu {
                bytes,
                placement: Placement::Pool,
            } => Step::HashOnPool(bytes),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Work::Io { ms } => format!("{ms} ms of simulated I/O per request"),
            Work::Cpu { bytes, placement } => format!(
                "SHA-256 of {} KiB per request, {} on the async models",
                bytes >> 10,
                match placement {
                    Placement::Inline => "inline",
                    Placement::Pool => "offloaded to the runtime's pool",
                }
            ),
        }
    }
}

/// One run's load, shared by the server and the client (passed to both as JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Connections opened and held at once before any request is sent.
    pub connections: usize,
    /// Requests each connection sends, one after another, before it closes.
    pub requests_per_connection: u32,
    /// Requests per second over all connections, each due at a fixed time and timed from
    /// then (no coordinated omission); `None`: every connection sends at once.
    pub rate: Option<f64>,
    pub work: Work,
    /// OS threads of the `thread_pool` model.
    pub pool_threads: usize,
    /// Worker processes of the `prefork` model.
    pub prefork_workers: usize,
    /// The whole run, connecting included, must end within this; what is unfinished then is
    /// reported as a partial result.
    pub deadline_s: f64,
}

impl Workload {
    pub fn deadline(&self) -> Duration {
        Duration::from_secs_f64(self.deadline_s)
    }

    pub fn requests(&self) -> u64 {
        self.connections as u64 * self.requests_per_connection as u64
    }
}

impl Default for Workload {
    fn default() -> Workload {
        Workload {
            connections: 10_000,
            requests_per_connection: 1,
            rate: None,
            work: Work::Io { ms: 10.0 },
            pool_threads: 200,
            prefork_workers: 100,
            deadline_s: 120.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_id_is_lower_snake_case_and_round_trips() {
        for model in Model::ALL {
            let id = model.id();
            assert!(id.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert_eq!(Model::from_id(id), Some(model));
            let json = serde_json::to_string(&model).unwrap();
            assert_eq!(json, format!("\"{id}\""));
        }
        assert_eq!(Model::from_id("threads"), None);
    }

    #[test]
    fn a_workload_survives_its_trip_through_json() {
        let workload = Workload {
            rate: Some(5000.0),
            work: Work::Cpu {
                bytes: 4096,
                placement: Placement::Pool,
            },
            ..Workload::default()
        };
        let back: Workload =
            serde_json::from_str(&serde_json::to_string(&workload).unwrap()).unwrap();
        assert_eq!(back, workload);
        assert_eq!(Workload::default().requests(), 10_000);
    }
}
