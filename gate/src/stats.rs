//! The statistics the gate rests on. Everything is done on logarithms of times, so that a
//! change is a ratio, symmetric up and down, and a benchmark's noise is relative.
//!
//! Robust on purpose: medians and the median absolute deviation (MAD) rather than means and
//! standard deviations, because a shared VM adds rare, huge outliers (a preempted process,
//! a slow spell of the host) that would dominate a mean or a widest-deviation fence.

/// MAD × this estimates the standard deviation of normally distributed values.
pub const MAD_TO_SIGMA: f64 = 1.4826;
/// The standard error of a median is this many times that of a mean (normal values).
pub const MEDIAN_EFFICIENCY: f64 = 1.2533;

/// The median; `None` for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// The spread of `values` about their median, as a standard deviation would read
/// (1.4826 × MAD); `None` for no values.
pub fn robust_sigma(values: &[f64]) -> Option<f64> {
    let centre = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|v| (v - centre).abs()).collect();
    Some(MAD_TO_SIGMA * median(&deviations)?)
}

/// Deviations of each group from its own median, pooled: the noise of several groups whose
/// centres may differ (a baseline's runs and this run's rounds), as one robust sigma.
/// In a group of odd size the median deviates from itself by exactly zero; that zero is left
/// out, or small groups would read as quieter than they are (five runs by about 30%) and the
/// estimate would creep up as runs are added.
pub fn pooled_robust_sigma(groups: &[&[f64]]) -> Option<f64> {
    let mut deviations = Vec::new();
    for group in groups {
        let Some(centre) = median(group) else {
            continue;
        };
        let mut own: Vec<f64> = group.iter().map(|v| (v - centre).abs()).collect();
        if own.len() % 2 == 1 && own.len() > 1 {
            let zero = own
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .expect("not empty");
            own.swap_remove(zero);
        }
        deviations.extend(own);
    }
    Some(MAD_TO_SIGMA * median(&deviations)?)
}

/// Two-sided 95% quantile of Student's t with `df` degrees of freedom (`df` ≥ 1).
pub fn t_95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        d if d <= TABLE.len() => TABLE[d - 1],
        d if d <= 60 => 2.000,
        _ => 1.960,
    }
}

/// Where sorted log values split into two modes, if they do: the widest gap between
/// neighbours with at least two values on each side, when that gap is over 10% and more than
/// twice the spread inside either side. Some benchmarks settle, per process, into one of two
/// speeds (a scheduler's placement, a cache layout), 3× apart on this project's machines.
pub fn mode_split(logs: &[f64]) -> Option<f64> {
    const MIN_GAP: f64 = 0.0953; // ln 1.10
    let mut sorted = logs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n < 4 {
        return None;
    }
    let (i, gap) = (1..n - 2)
        .map(|i| (i, sorted[i + 1] - sorted[i]))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let spread_low = sorted[i] - sorted[0];
    let spread_high = sorted[n - 1] - sorted[i + 1];
    (gap > MIN_GAP && gap > 2.0 * spread_low.max(spread_high))
        .then(|| (sorted[i] + sorted[i + 1]) / 2.0)
}

/// One-sided p-value of the sign test: the chance that `above` or more of `n` pairs land on
/// one side of zero when each is equally likely to land on either (exact binomial tail).
pub fn sign_test_p(above: usize, n: usize) -> f64 {
    let mut coefficient = 1.0_f64; // C(n, k), from k = 0
    let mut tail = 0.0;
    for k in 0..=n {
        if k >= above {
            tail += coefficient;
        }
        coefficient = coefficient * (n - k) as f64 / (k + 1) as f64;
    }
    tail / 2f64.powi(n as i32)
}

/// A centre and a confidence interval, all in log units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub centre: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn half_width(&self) -> f64 {
        (self.high - self.low) / 2.0
    }
}

/// The median of paired log-ratios with its 95% interval: median ± t × 1.2533 × σ / √n,
/// σ the robust sigma of the ratios, floored at `min_sigma` (identical ratios do not make a
/// benchmark noiseless). `None` with fewer than two ratios.
pub fn paired_interval(log_ratios: &[f64], min_sigma: f64) -> Option<Interval> {
    let n = log_ratios.len();
    if n < 2 {
        return None;
    }
    let centre = median(log_ratios)?;
    let sigma = robust_sigma(log_ratios)?.max(min_sigma);
    let half = t_95(n - 1) * MEDIAN_EFFICIENCY * sigma / (n as f64).sqrt();
    Some(Interval {
        centre,
        low: centre - half,
        high: centre + half,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_robust_sigma_ignore_one_wild_value() {
        let values = [1.0, 2.0, 3.0, 4.0, 1000.0];
        assert_eq!(median(&values), Some(3.0));
        assert!((robust_sigma(&values).unwrap() - MAD_TO_SIGMA).abs() < 1e-12);
        assert_eq!(median(&[1.0, 3.0]), Some(2.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn pooled_sigma_measures_spread_inside_groups_not_between_them() {
        let a = [0.0, 0.01, -0.01];
        let b = [1.0, 1.01, 0.99];
        let pooled = pooled_robust_sigma(&[&a, &b]).unwrap();
        assert!(pooled < 0.02, "{pooled}");
    }

    #[test]
    fn two_well_separated_modes_are_found_and_one_spread_cloud_is_not() {
        let bimodal: Vec<f64> = [392.0, 400.0, 1350.0, 1340.0, 395.0, 1360.0]
            .iter()
            .map(|v: &f64| v.ln())
            .collect();
        let split = mode_split(&bimodal).expect("two modes");
        assert!(split > 400f64.ln() && split < 1340f64.ln());
        let cloud: Vec<f64> = [100.0, 104.0, 97.0, 110.0, 93.0, 101.0]
            .iter()
            .map(|v: &f64| v.ln())
            .collect();
        assert_eq!(mode_split(&cloud), None);
        // One stray value is an outlier, not a mode.
        let stray: Vec<f64> = [100.0, 101.0, 99.0, 100.0, 300.0]
            .iter()
            .map(|v: &f64| v.ln())
            .collect();
        assert_eq!(mode_split(&stray), None);
    }

    #[test]
    fn the_sign_test_is_the_binomial_tail() {
        assert!((sign_test_p(8, 8) - 1.0 / 256.0).abs() < 1e-12);
        assert!((sign_test_p(7, 8) - 9.0 / 256.0).abs() < 1e-12);
        assert_eq!(sign_test_p(0, 8), 1.0);
        assert!((sign_test_p(11, 12) - 13.0 / 4096.0).abs() < 1e-12);
    }

    #[test]
    fn the_paired_interval_narrows_as_pairs_are_added() {
        let ratios = [0.01, -0.01, 0.02, 0.0, -0.02, 0.01, 0.0, -0.01];
        let four = paired_interval(&ratios[..4], 0.0).unwrap();
        let eight = paired_interval(&ratios, 0.0).unwrap();
        assert!(eight.half_width() < four.half_width() * 0.75);
        assert!(paired_interval(&ratios[..1], 0.0).is_none());
        let identical = paired_interval(&[0.05; 6], 0.002).unwrap();
        assert!(identical.half_width() > 0.0, "the floor keeps it open");
    }
}
