//! Plain f64 CPU versions of every GPU op: the oracle the kernels are tested against.
//! Deliberately naive loops that share nothing with the kernels.

/// `C = A·B` for row-major `A: m×k`, `B: k×n`.
pub fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for t in 0..k {
                s += a[i * k + t] * b[t * n + j];
            }
            c[i * n + j] = s;
        }
    }
    c
}

pub fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = a[i * cols + j];
        }
    }
    t
}

/// `x[i, j] + bias[j]`.
pub fn bias_add(x: &[f64], bias: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut y = x.to_vec();
    for i in 0..rows {
        for j in 0..cols {
            y[i * cols + j] += bias[j];
        }
    }
    y
}

/// Column sums: the bias gradient.
pub fn column_sums(dy: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut s = vec![0.0; cols];
    for i in 0..rows {
        for j in 0..cols {
            s[j] += dy[i * cols + j];
        }
    }
    s
}

pub fn relu(x: &[f64]) -> Vec<f64> {
    x.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect()
}

pub fn relu_backward(x: &[f64], dy: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(dy)
        .map(|(&v, &g)| if v > 0.0 { g } else { 0.0 })
        .collect()
}

pub fn axpy(alpha: f64, x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter().zip(y).map(|(&a, &b)| b + alpha * a).collect()
}

pub fn scale(alpha: f64, x: &[f64]) -> Vec<f64> {
    x.iter().map(|&a| alpha * a).collect()
}

pub fn sum(x: &[f64]) -> f64 {
    x.iter().sum()
}

pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// Per-row softmax cross-entropy losses and arg-max correctness.
pub fn softmax_xent(
    logits: &[f64],
    labels: &[u32],
    rows: usize,
    classes: usize,
) -> (Vec<f64>, Vec<bool>) {
    let mut losses = Vec::with_capacity(rows);
    let mut correct = Vec::with_capacity(rows);
    for r in 0..rows {
        let z = &logits[r * classes..(r + 1) * classes];
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let label = labels[r] as usize;
        losses.push(lse - z[label]);
        let mut best = 0;
        for j in 1..classes {
            if z[j] > z[best] {
                best = j;
            }
        }
        correct.push(best == label);
    }
    (losses, correct)
}

/// Gradient of `mean(losses)` with respect to the logits.
pub fn softmax_xent_backward(
    logits: &[f64],
    labels: &[u32],
    rows: usize,
    classes: usize,
) -> Vec<f64> {
    let mut d = vec![0.0; rows * classes];
    for r in 0..rows {
        let z = &logits[r * classes..(r + 1) * classes];
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = z.iter().map(|v| (v - m).exp()).sum();
        for j in 0..classes {
            let p = (z[j] - m).exp() / total;
            let onehot = if j == labels[r] as usize { 1.0 } else { 0.0 };
            d[r * classes + j] = (p - onehot) / rows as f64;
        }
    }
    d
}

/// Mean of squared differences.
pub fn mse(pred: &[f64], target: &[f64]) -> f64 {
    let n = pred.len() as f64;
    pred.iter()
        .zip(target)
        .map(|(p, t)| (p - t) * (p - t))
        .sum::<f64>()
        / n
}

pub fn mse_backward(pred: &[f64], target: &[f64]) -> Vec<f64> {
    let n = pred.len() as f64;
    pred.iter()
        .zip(target)
        .map(|(p, t)| 2.0 * (p - t) / n)
        .collect()
}

/// `w − η·g`.
pub fn sgd(w: &[f64], g: &[f64], lr: f64) -> Vec<f64> {
    w.iter().zip(g).map(|(a, b)| a - lr * b).collect()
}

/// Central finite differences of `f` at `x` for every coordinate, in f64.
pub fn finite_differences(x: &[f64], h: f64, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let orig = xp[i];
            xp[i] = orig + h;
            let up = f(&xp);
            xp[i] = orig - h;
            let down = f(&xp);
            xp[i] = orig;
            (up - down) / (2.0 * h)
        })
        .collect()
}
