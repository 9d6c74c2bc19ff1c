//! The statistics rules decide on: means and t-statistics of what steps measured.

/// The mean of x (0 for none).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

/// The t-statistic of x's mean: ±∞ when x is a constant other than 0 (clipped values
/// that all hit the clip are the strongest evidence there is), 0 for none or all zeros.
pub fn t_statistic(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let m = mean(x);
    let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    if var > 0.0 {
        m / (var / n).sqrt()
    } else if x.len() > 1 && m != 0.0 {
        m.signum() * f64::INFINITY
    } else {
        0.0
    }
}

/// Welch's t-statistic of mean(a) − mean(b).
pub fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let var = |x: &[f64]| {
        let m = mean(x);
        x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0).max(1.0)
    };
    let se = (var(a) / a.len() as f64 + var(b) / b.len() as f64).sqrt();
    if se > 0.0 && se.is_finite() {
        (mean(a) - mean(b)) / se
    } else {
        0.0
    }
}
