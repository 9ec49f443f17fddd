//! Human-readable quantities for tables and reports.

/// A duration in nanoseconds, in the unit that reads best.
pub fn human_ns(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

/// A relative change as a signed percentage: `+4.2%`.
pub fn signed_pct(fraction: f64) -> String {
    format!("{:+.1}%", fraction * 100.0)
}
