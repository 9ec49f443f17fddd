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

/// A count with its thousands grouped: `24,200`.
pub fn grouped(n: f64) -> String {
    let digits = format!("{:.0}", n.abs());
    let mut out = String::from(if n < 0.0 { "-" } else { "" });
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::grouped(5.0), "5");
        assert_eq!(super::grouped(24_200.0), "24,200");
        assert_eq!(super::grouped(1_234_567.0), "1,234,567");
        assert_eq!(super::grouped(-1000.0), "-1,000");
    }
}
