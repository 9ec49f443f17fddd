//! How a figure is read from the results: the helpers the catalogue builds its figures with.

use super::results::Results;
use super::{Figure, Range, Unit};
use crate::c10k::Model;
use crate::c10k::orchestrate::Measured;
use crate::probe::LatencySummary;

pub(super) const KIB: f64 = 1024.0;
pub(super) const MIB: f64 = 1024.0 * 1024.0;
pub(super) const US: f64 = 1e3;
pub(super) const MS: f64 = 1e6;

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

pub(super) fn bench(label: &str, id: &'static str, unit: Unit, range: Range) -> Figure {
    Figure {
        label: label.into(),
        source: id.into(),
        unit,
        range,
        command: BENCH,
        measure: Box::new(move |r| r.mean(id)),
    }
}

/// Wake-ups per new connection with the workers of benchmark `id` waiting on one listener.
pub(super) fn herd(label: &str, id: &'static str) -> Figure {
    Figure {
        label: format!("wake-ups per connection, {label}"),
        source: format!("{id} (voluntary switches of the workers ÷ connections)"),
        unit: Unit::Number,
        range: Range::about(1.0),
        command: BENCH,
        measure: Box::new(move |r| r.herd_of(id).map(|h| h.wakeups_per_connection)),
    }
}

/// How much dearer one wait with one ready fd is with `n` registered than with 1.
pub(super) fn growth(api: &str, function: &str, n: u32, range: Range) -> Figure {
    let (many, one) = (
        format!("epoll_wait/{function}/{n}"),
        format!("epoll_wait/{function}/1"),
    );
    Figure {
        label: format!("{api}, 1 ready: {n} fds ÷ 1 fd"),
        source: format!("{many} ÷ {one}"),
        unit: Unit::Number,
        range,
        command: BENCH,
        measure: Box::new(move |r| Some(r.mean(&many)? / r.mean(&one)?)),
    }
}

/// Benchmark means (label, ID) that all test the same range of times.
pub(super) fn benches(rows: &[(&str, &'static str)], range: Range) -> Vec<Figure> {
    rows.iter()
        .map(|(label, id)| bench(label, id, Unit::Nanoseconds, range))
        .collect()
}

pub(super) fn footprint(
    label: &str,
    unit_kind: &'static str,
    virtual_size: bool,
    range: Range,
) -> Figure {
    let field = if virtual_size { "virtual" } else { "RSS" };
    Figure {
        label: label.into(),
        source: format!("costs footprint: {unit_kind}, {field} per unit"),
        unit: Unit::Bytes,
        range,
        command: FOOTPRINT,
        measure: Box::new(move |r| {
            let f = r.footprint_of(unit_kind)?;
            Some(match virtual_size {
                true => f.virtual_per_unit,
                false => f.rss_per_unit,
            })
        }),
    }
}

/// A figure of one model's c10k run in one scenario.
pub(super) fn c10k(
    label: &str,
    scenario: &'static str,
    model: Model,
    what: &str,
    unit: Unit,
    range: Range,
    measure: fn(&Measured) -> Option<f64>,
) -> Figure {
    let command = match scenario {
        IO_5K_50MS => C10K_C32,
        CPU_INLINE => C10K_CPU,
        CPU_POOL => C10K_CPU_POOL,
        _ => C10K_IO,
    };
    Figure {
        label: label.into(),
        source: format!("costs c10k {scenario}: {}, {what}", model.id()),
        unit,
        range,
        command,
        measure: Box::new(move |r| r.c10k_run(scenario, model).and_then(measure)),
    }
}

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
/// p50 and p99 of one model's run beside one row of the documents' table, in ms.
pub(super) fn percentiles(
    who: &str,
    scenario: &'static str,
    model: Model,
    docs_ms: (f64, f64),
) -> Vec<Figure> {
    let (docs_p50, docs_p99) = docs_ms;
    vec![
        c10k(
            &format!("{who}: p50"),
            scenario,
            model,
            "p50",
            Unit::Nanoseconds,
            Range::about(docs_p50 * MS),
            p50,
        ),
        c10k(
            &format!("{who}: p99"),
            scenario,
            model,
            "p99",
            Unit::Nanoseconds,
            Range::about(docs_p99 * MS),
            p99,
        ),
    ]
}

/// Little's law: requests in flight = throughput × time each spends in service.
pub(super) fn in_flight(m: &Measured, service_s: f64) -> Option<f64> {
    Some(m.client.throughput_rps * service_s)
}

/// Thread-per-connection ÷ an async model, both at 10,000 connections.
pub(super) fn threads_over_async(
    r: &Results,
    async_model: Model,
    of: fn(&Measured) -> f64,
) -> Option<f64> {
    let threads = r.c10k_run(IO_10K, Model::ThreadPerConnection)?;
    let tasks = r.c10k_run(IO_10K, async_model)?;
    Some(of(threads) / of(tasks).max(f64::MIN_POSITIVE))
}

/// One figure per flavour from its blocked loop's probe latencies with 10 ms blocks inline:
/// `what` names it and the percentile `pick` takes.
pub(super) fn blocked_loop_figures(
    flavours: &[&str],
    (what, percentile): (&str, &str),
    range: Range,
    pick: fn(&LatencySummary) -> u64,
) -> Vec<Figure> {
    flavours
        .iter()
        .map(|flavour| {
            let id = format!("blocked_loop/{flavour}_inline/10ms");
            Figure {
                label: format!("{what}, 10 ms blocks, {flavour}"),
                source: format!("{id} ({percentile} probe latency)"),
                unit: Unit::Nanoseconds,
                range,
                command: BENCH,
                measure: Box::new(move |r| r.latency(&id).map(|s| pick(s) as f64)),
            }
        })
        .collect()
}
