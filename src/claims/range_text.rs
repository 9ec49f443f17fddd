//! The documents' ranges as the catalogue writes them, read by the rule each states: "about
//! X" is X/2 … 2X, "A – B", "at least X", "at most X"; quantities with their units.

use super::{Range, Unit};

/// A quantity with its unit: "100 µs", "8 MiB", "50 %", "10000".
pub(crate) fn read_quantity(text: &str) -> Result<(f64, Unit), String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || ".,eE+-".contains(c)))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .replace(',', "")
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number with a unit"))?;
    let (scale, unit) = match unit.trim() {
        "" => (1.0, Unit::Number),
        "ns" => (1.0, Unit::Nanoseconds),
        "µs" | "us" => (1e3, Unit::Nanoseconds),
        "ms" => (1e6, Unit::Nanoseconds),
        "s" => (1e9, Unit::Nanoseconds),
        "B" => (1.0, Unit::Bytes),
        "KiB" => (1024.0, Unit::Bytes),
        "MiB" => (1024.0 * 1024.0, Unit::Bytes),
        "GiB" => (1024.0 * 1024.0 * 1024.0, Unit::Bytes),
        "kB" => (1e3, Unit::Bytes),
        "MB" => (1e6, Unit::Bytes),
        "GB" => (1e9, Unit::Bytes),
        "%" => (1.0, Unit::PercentOfCore),
        other => return Err(format!("\"{other}\" is not a unit the catalogue knows")),
    };
    Ok((value * scale, unit))
}

/// A range by its rule: "about X" (X/2 … 2X), "A – B", "at least X", "at most X".
pub fn read_range(text: &str) -> Result<(Range, Unit), String> {
    let text = text.trim();
    if let Some(x) = text.strip_prefix("about ") {
        let (x, unit) = read_quantity(x)?;
        return Ok((Range::about(x), unit));
    }
    if let Some(x) = text.strip_prefix("at least ") {
        let (x, unit) = read_quantity(x)?;
        return Ok((Range::at_least(x), unit));
    }
    if let Some(x) = text.strip_prefix("at most ") {
        let (x, unit) = read_quantity(x)?;
        return Ok((Range::at_most(x), unit));
    }
    let Some((low, high)) = text.split_once(" – ") else {
        return Err(format!(
            "range \"{text}\" is none of \"about X\", \"A – B\", \"at least X\", \"at most X\""
        ));
    };
    let ((low, low_unit), (high, high_unit)) = (read_quantity(low)?, read_quantity(high)?);
    if low_unit != high_unit || low > high {
        return Err(format!(
            "range \"{text}\" does not run from low to high in one unit"
        ));
    }
    Ok((Range::between(low, high), low_unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_by_their_stated_rule() {
        let ms = 1e6;
        assert_eq!(
            read_range("about 10 ms").unwrap(),
            (Range::between(5.0 * ms, 20.0 * ms), Unit::Nanoseconds)
        );
        assert_eq!(
            read_range("100 µs – 1000 µs").unwrap(),
            (Range::between(1e5, 1e6), Unit::Nanoseconds)
        );
        assert_eq!(
            read_range("at least 10 GB").unwrap(),
            (Range::at_least(1e10), Unit::Bytes)
        );
        assert_eq!(
            read_range("at most 50 %").unwrap(),
            (Range::at_most(50.0), Unit::PercentOfCore)
        );
        assert_eq!(
            read_range("about 64 KiB").unwrap(),
            (Range::between(32.0 * 1024.0, 128.0 * 1024.0), Unit::Bytes)
        );
        assert_eq!(
            read_range("at least 10,000").unwrap(),
            (Range::at_least(1e4), Unit::Number)
        );
        for bad in [
            "roughly 10 ms",
            "10 ms – 5 ms",
            "1 ms – 10 MiB",
            "about ten ms",
            "about 3 fortnights",
        ] {
            assert!(read_range(bad).is_err(), "{bad} was read");
        }
    }
}
