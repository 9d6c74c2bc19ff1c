//! Central finite differences in f64: the oracle of every gradient check.

/// The step of the gradient checks of single ops and small networks.
pub const STEP: f64 = 1e-6;

/// The step of the ResNet check, which samples the f64 loss of a whole network.
pub const NETWORK_STEP: f64 = 1e-5;

/// `(f(h) − f(−h)) / 2h`: the derivative at 0 of `f`, a function of the offset from the
/// point of interest.
pub fn central(h: f64, mut f: impl FnMut(f64) -> f64) -> f64 {
    let up = f(h);
    let down = f(-h);
    (up - down) / (2.0 * h)
}

/// Central differences of `f` at `x` along every coordinate, with step [`STEP`].
pub fn gradient(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let orig = x[i];
            let d = central(STEP, |delta| {
                xp[i] = orig + delta;
                f(&xp)
            });
            xp[i] = orig;
            d
        })
        .collect()
}
