//! The measurement core of concurrency-costs: placement, hand-off primitives, partners that
//! stay alive across iterations, child processes, context-switch counts, and the environment
//! every result is tied to. The benchmarks in `benches/` are lists of scenarios over these.

pub mod c10k;
pub mod claims;
pub mod coroutine;
pub mod durable;
pub mod environment;
pub mod footprint;
pub mod gate;
pub mod harness;
pub mod herd;
pub mod limits;
pub mod link;
pub mod loaded_loop;
pub mod offload;
pub mod placement;
pub mod probe;
pub mod process;
pub mod provenance;
pub mod readiness;
pub mod ring;
pub mod runtime;
pub mod rusage;
pub mod spawn;
pub mod tasks;
pub mod units;
pub mod watchdog;
