//! How a figure is read from the results: the commands that make them, and what the catalogue
//! reads of a c10k run.

use crate::c10k::orchestrate::Measured;

const MS: f64 = 1e6;

pub(super) const BENCH: &str = "cargo bench";
pub(super) const FOOTPRINT: &str = "cargo run --release --bin costs -- footprint";
pub(super) const C10K_IO: &str = "cargo run --release --bin costs -- c10k";
pub(super) const C10K_C32: &str =
    "cargo run --release --bin costs -- c10k --connections 5000 --io-ms 50";
pub(super) const C10K_CPU: &str = "cargo run --release --bin costs -- c10k --cpu-work";
pub(super) const C10K_CPU_POOL: &str =
    "cargo run --release --bin costs -- c10k --cpu-work --placement pool";

/// The c10k scenarios the claims read, as `costs c10k` keys them.
pub const IO_10K: &str = "io_10000c_10ms";
pub const IO_5K_50MS: &str = "io_5000c_50ms";
pub const CPU_INLINE: &str = "cpu_inline_10000c";
pub const CPU_POOL: &str = "cpu_pool_10000c";

pub(super) fn p50(m: &Measured) -> Option<f64> {
    m.client.latency.as_ref().map(|l| l.p50_ms * MS)
}
pub(super) fn p99(m: &Measured) -> Option<f64> {
    m.client.latency.as_ref().map(|l| l.p99_ms * MS)
}
pub(super) fn rss(m: &Measured) -> Option<f64> {
    Some(m.server_peak_rss_bytes as f64)
}
pub(super) fn rss_per_connection(m: &Measured) -> Option<f64> {
    Some(m.server_peak_rss_bytes as f64 / m.held_by_server().max(1) as f64)
}
pub(super) fn all_served(m: &Measured) -> Option<f64> {
    let served = m.client.completed == m.client.requests && m.partial.is_none();
    Some(if served {
        m.held_by_server() as f64
    } else {
        0.0
    })
}
/// Little's law: requests in flight = throughput × time each spends in service.
pub(super) fn in_flight(m: &Measured, service_s: f64) -> Option<f64> {
    Some(m.client.throughput_rps * service_s)
}
