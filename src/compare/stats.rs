//! Means and 95% confidence intervals over seeds, with Student's t-distribution: with a
//! handful of seeds the normal 1.96 would claim intervals several times too narrow.

/// A mean over `n` values with the half-width of its two-sided 95% confidence interval,
/// t(0.975, n−1)·s/√n (`None` for a single value: no spread to measure).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Number of values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// t(0.975, n−1)·s/√n; `None` for a single value.
    pub half_width: Option<f64>,
}

impl Estimate {
    /// The interval's ends.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.half_width.map(|h| (self.mean - h, self.mean + h))
    }
}

/// The mean of `values` and its 95% confidence interval; `None` when there is no value.
/// Non-finite values (a diverged run's NaN) make the mean non-finite: they are the caller's
/// to leave out and report.
pub fn estimate(values: &[f64]) -> Option<Estimate> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let half_width = (n >= 2).then(|| {
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        t95(n - 1) * (var / n as f64).sqrt()
    });
    Some(Estimate {
        n,
        mean,
        half_width,
    })
}

/// The median of `values` (the mean of the middle two for an even count); `None` for none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
    }
}

/// The 0.975 quantile of Student's t with `df` ≥ 1 degrees of freedom: the t of a
/// two-sided 95% interval (12.706 for df 1, 4.303 for 2, 2.776 for 4, → 1.960).
pub fn t95(df: usize) -> f64 {
    t_quantile_two_sided(0.95, df)
}

/// The t with P(|T| ≤ t) = `p` for `df` degrees of freedom, by bisection on the exact
/// finite series of the t-distribution for integer degrees of freedom.
pub fn t_quantile_two_sided(p: f64, df: usize) -> f64 {
    assert!(
        df >= 1,
        "the t-distribution needs at least one degree of freedom"
    );
    assert!(p > 0.0 && p < 1.0, "a probability in (0, 1)");
    // With θ = atan(t/√ν), P(|T| ≤ t) rises from 0 to 1 as θ goes from 0 to π/2.
    let (mut lo, mut hi) = (0.0f64, std::f64::consts::FRAC_PI_2);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if prob_within(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let theta = 0.5 * (lo + hi);
    (df as f64).sqrt() * theta.tan()
}

/// P(|T| ≤ √ν·tan θ) for T of Student's t with ν degrees of freedom (Abramowitz & Stegun
/// 26.7.3–4): for odd ν, (2/π)(θ + sin θ cos θ·(1 + 2/3·cos²θ + 2·4/(3·5)·cos⁴θ + …)),
/// the sum up to cos^(ν−3)θ; for even ν, sin θ·(1 + 1/2·cos²θ + 1·3/(2·4)·cos⁴θ + …) up
/// to cos^(ν−2)θ.
fn prob_within(theta: f64, nu: usize) -> f64 {
    let (s, c) = theta.sin_cos();
    let c2 = c * c;
    let mut term = 1.0;
    let mut sum = 1.0;
    if nu % 2 == 1 {
        for j in 1..=(nu.saturating_sub(3) / 2) {
            term *= (2 * j) as f64 / (2 * j + 1) as f64 * c2;
            sum += term;
        }
        let series = if nu >= 3 { s * c * sum } else { 0.0 };
        2.0 / std::f64::consts::PI * (theta + series)
    } else {
        for j in 1..=((nu - 2) / 2) {
            term *= (2 * j - 1) as f64 / (2 * j) as f64 * c2;
            sum += term;
        }
        s * sum
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Student's t, 0.975 quantiles, as printed in every table (3 decimals).
        let table = [
            (1, 12.706),
            (2, 4.303),
            (3, 3.182),
            (4, 2.776),
            (5, 2.571),
            (9, 2.262),
            (10, 2.228),
            (29, 2.045),
            (100, 1.984),
        ];
        for (df, want) in table {
            let got = t95(df);
            assert!((got - want).abs() < 5e-4, "df {df}: {got}, table {want}");
        }
        // The normal limit.
        assert!((t95(100_000) - 1.95996).abs() < 1e-4);
        // Closed forms: df 1 is tan(0.475π), df 2 is √(2p²/(1−p²)) with p = 0.95.
        let p: f64 = 0.95;
        assert!((t95(1) - (0.475 * std::f64::consts::PI).tan()).abs() < 1e-9);
        assert!((t95(2) - (2.0 * p * p / (1.0 - p * p)).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn the_interval_is_t_times_s_over_root_n() {
        // n = 2: 0.5 and 0.7: mean 0.6, s = 0.1414, half-width 12.706·0.1414/√2 = 1.2706.
        let e = estimate(&[0.5, 0.7]).unwrap();
        assert!((e.mean - 0.6).abs() < 1e-12);
        assert!(
            (e.half_width.unwrap() - 12.7062 * 0.1).abs() < 1e-3,
            "{e:?}"
        );
        // n = 3: 0.5, 0.6, 0.7: s = 0.1, half-width 4.303·0.1/√3 = 0.24843.
        let e = estimate(&[0.5, 0.6, 0.7]).unwrap();
        assert!((e.half_width.unwrap() - 4.3027 * 0.1 / 3f64.sqrt()).abs() < 1e-4);
        // n = 5: 1..5: mean 3, s = √2.5, half-width 2.776·√2.5/√5 = 1.9632.
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(e.mean, 3.0);
        assert!((e.half_width.unwrap() - 2.7764 * (0.5f64).sqrt()).abs() < 1e-3);
        assert_eq!(e.interval().map(|(a, b)| (a + b) / 2.0), Some(3.0));
        // One value: a mean and no interval; none: nothing.
        let e = estimate(&[0.42]).unwrap();
        assert_eq!((e.n, e.mean, e.half_width), (1, 0.42, None));
        assert!(estimate(&[]).is_none());
        // Equal values: a zero-width interval.
        assert_eq!(estimate(&[2.0, 2.0, 2.0]).unwrap().half_width, Some(0.0));
    }
}
