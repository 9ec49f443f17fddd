//! The measurement core of concurrency-costs: placement, hand-off primitives, partners that
//! stay alive across iterations, child processes, context-switch counts, and the environment
//! every result is tied to. The benchmarks in `benches/` are lists of scenarios over these.

// Every cost measured here is a Linux kernel mechanism (epoll, futex, close_range, /proc,
// cgroups, io_uring): on another kernel the numbers would not mean what their IDs say.
#[cfg(not(target_os = "linux"))]
compile_error!("concurrency-costs measures Linux kernel mechanisms and builds only on Linux");

pub mod batch;
pub mod c10k;
pub mod claims;
pub mod coroutine;
pub mod count_skips;
pub mod environment;
pub mod flavours;
pub mod footprint;
pub mod fork_parent;
pub mod harness;
pub mod herd;
pub mod hosts;
pub mod limits;
pub mod link;
pub mod loaded_loop;
pub mod offload;
pub mod placement;
pub mod probe;
pub mod process;
pub mod provenance;
pub mod readiness;
pub mod results;
pub mod ring;
pub mod runtime;
pub mod rusage;
pub mod skip;
pub mod spawn;
pub mod tasks;
pub mod watchdog;

// The gate's small tools, shared: files written whole, figures printed alike.
pub use criterion_gate::{durable, units};
