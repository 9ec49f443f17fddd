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

pub use crate::runtime::serve::{BACKLOG, MESSAGE};

use crate::flavours::{FLAVOURS, Flavour, Server};
use crate::runtime::serve::Step;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// A concurrency model: how a server waits for many connections at once.
#[derive(Clone, Copy)]
pub enum Model {
    /// One OS thread per connection, blocking reads and sleeps (Rust's 2 MiB default stack).
    ThreadPerConnection,
    /// A fixed pool of OS threads; a connection holds a thread while it is open.
    ThreadPool,
    /// Worker processes forked before any thread exists, each in a blocking accept loop on
    /// the shared listener and serving one connection at a time.
    Prefork,
    /// A runtime flavour's server: an event loop per worker, or may's coroutines; one for
    /// every flavour in [`FLAVOURS`] that has a [`Server`].
    Runtime(&'static Flavour),
}

impl Model {
    /// Every model, the blocking ones first, then the runtimes' in flavour order.
    pub fn all() -> Vec<Model> {
        let runtimes = FLAVOURS.iter().filter(|f| f.server.is_some());
        [
            Model::ThreadPerConnection,
            Model::ThreadPool,
            Model::Prefork,
        ]
        .into_iter()
        .chain(runtimes.map(Model::Runtime))
        .collect()
    }

    /// The model's stable ID, as `--model` takes it and the JSON reports it.
    pub fn id(self) -> &'static str {
        match self {
            Model::ThreadPerConnection => "thread_per_connection",
            Model::ThreadPool => "thread_pool",
            Model::Prefork => "prefork",
            Model::Runtime(flavour) => flavour.server.as_ref().map_or(flavour.id, |s| s.model),
        }
    }

    pub fn from_id(id: &str) -> Option<Model> {
        Model::all().into_iter().find(|m| m.id() == id)
    }

    /// The runtime's server, for the models that are one.
    pub fn server(self) -> Option<&'static Server> {
        match self {
            Model::Runtime(flavour) => flavour.server.as_ref(),
            _ => None,
        }
    }

    /// Connections the model serves at once by its design, when that is fewer than a run
    /// may open: each prefork worker holds one connection, the next ones wait in the accept
    /// queue, and once that is full the kernel drops further attempts. A run that meets this
    /// bound has measured the model (claim C32 predicts it), not failed.
    pub fn serves_at_most(self, workload: &Workload) -> Option<usize> {
        match self {
            Model::Prefork => Some(workload.prefork_workers),
            _ => None,
        }
    }

    /// Whether the model serves connections on threads or processes that may block, so that
    /// a CPU-bound request runs where it is (there is no event loop to keep free).
    pub fn blocks_per_connection(self) -> bool {
        self.server().is_none()
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Model) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Model {}

impl std::hash::Hash for Model {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state)
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Model {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Model, D::Error> {
        let id = String::deserialize(deserializer)?;
        Model::from_id(&id)
            .ok_or_else(|| serde::de::Error::custom(format!("no c10k model \"{id}\"")))
    }
}

/// Where a CPU-bound request's hash runs on the async models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuPlacement {
    /// On the event loop (or coroutine) that read the request.
    Inline,
    /// On the runtime's own pool for blocking work: tokio and async-std `spawn_blocking`,
    /// smol's `blocking::unblock`; monoio and may have none, so rayon's.
    Pool,
}

/// What the server does for each request.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// Simulated I/O: wait this long, the model's own way (a sleeping thread, a timer).
    Io { ms: f64 },
    /// CPU-bound: SHA-256 of a buffer of this many bytes.
    Cpu {
        bytes: usize,
        placement: CpuPlacement,
    },
}

impl Work {
    /// What each request asks of a server.
    pub fn step(&self) -> Step {
        match *self {
            Work::Io { ms } => Step::Wait(Duration::from_secs_f64(ms / 1e3)),
            Work::Cpu {
                placement: CpuPlacement::Inline,
                ..
            } => Step::Compute,
            Work::Cpu {
                placement: CpuPlacement::Pool,
                ..
            } => Step::ComputeOnPool,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Work::Io { ms } => format!("{ms} ms of simulated I/O per request"),
            Work::Cpu { bytes, placement } => format!(
                "SHA-256 of {} KiB per request, {} on the async models",
                bytes >> 10,
                match placement {
                    CpuPlacement::Inline => "inline",
                    CpuPlacement::Pool => "offloaded to the runtime's pool",
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
        for model in Model::all() {
            let id = model.id();
            assert!(id.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert_eq!(Model::from_id(id), Some(model));
            let json = serde_json::to_string(&model).unwrap();
            assert_eq!(json, format!("\"{id}\""));
        }
        assert_eq!(Model::from_id("threads"), None);
    }

    #[test]
    fn every_flavour_that_serves_is_a_model_under_its_server_id() {
        let servers: Vec<&str> = FLAVOURS
            .iter()
            .filter_map(|f| Some(f.server.as_ref()?.model))
            .collect();
        let models = Model::all();
        assert_eq!(models.len(), 3 + servers.len());
        for id in servers {
            let model = Model::from_id(id).unwrap();
            assert!(
                model.server().is_some() && !model.blocks_per_connection(),
                "{id}"
            );
        }
        assert!(Model::Prefork.blocks_per_connection());
    }

    #[test]
    fn a_workload_survives_its_trip_through_json() {
        let workload = Workload {
            rate: Some(5000.0),
            work: Work::Cpu {
                bytes: 4096,
                placement: CpuPlacement::Pool,
            },
            ..Workload::default()
        };
        let back: Workload =
            serde_json::from_str(&serde_json::to_string(&workload).unwrap()).unwrap();
        assert_eq!(back, workload);
        assert_eq!(Workload::default().requests(), 10_000);
    }
}
