//! Plain f64 CPU versions of every GPU op: the oracle the kernels are tested against.
//! Deliberately naive loops that share nothing with the kernels. Finite differences live
//! in `tests/common/fd.rs`.

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

/// Output size of a sliding window along one axis, floored like PyTorch.
fn window_count(size: usize, kernel: usize, stride: usize, pad: usize) -> usize {
    (size + 2 * pad - kernel) / stride + 1
}

/// 2-D cross-correlation (PyTorch's `conv2d`) of NCHW `x` of shape `xs` with weights `w`
/// of shape `ws = [out, in, kh, kw]`, zero padding `pad` on every side; returns the
/// output and its shape `[batch, out, oh, ow]`.
pub fn conv2d(
    x: &[f64],
    xs: [usize; 4],
    w: &[f64],
    ws: [usize; 4],
    bias: Option<&[f64]>,
    stride: usize,
    pad: usize,
) -> (Vec<f64>, [usize; 4]) {
    let [n, c, h, wd] = xs;
    let [o, ci, kh, kw] = ws;
    assert_eq!(c, ci, "input channels differ");
    let (oh, ow) = (
        window_count(h, kh, stride, pad),
        window_count(wd, kw, stride, pad),
    );
    let mut y = vec![0.0; n * o * oh * ow];
    for b in 0..n {
        for f in 0..o {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = bias.map_or(0.0, |bias| bias[f]);
                    for ch in 0..c {
                        for i in 0..kh {
                            for j in 0..kw {
                                let iy = (oy * stride + i) as isize - pad as isize;
                                let ix = (ox * stride + j) as isize - pad as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xv = x[((b * c + ch) * h + iy as usize) * wd + ix as usize];
                                s += xv * w[((f * c + ch) * kh + i) * kw + j];
                            }
                        }
                    }
                    y[((b * o + f) * oh + oy) * ow + ox] = s;
                }
            }
        }
    }
    (y, [n, o, oh, ow])
}

/// Gradients of [`conv2d`] given `dy`: `(dx, dw, dbias)`, by the chain rule through the
/// same loops.
pub fn conv2d_backward(
    x: &[f64],
    xs: [usize; 4],
    w: &[f64],
    ws: [usize; 4],
    dy: &[f64],
    stride: usize,
    pad: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let [n, c, h, wd] = xs;
    let [o, _, kh, kw] = ws;
    let (oh, ow) = (
        window_count(h, kh, stride, pad),
        window_count(wd, kw, stride, pad),
    );
    let mut dx = vec![0.0; x.len()];
    let mut dw = vec![0.0; w.len()];
    let mut db = vec![0.0; o];
    for b in 0..n {
        for f in 0..o {
            for oy in 0..oh {
                for ox in 0..ow {
                    let g = dy[((b * o + f) * oh + oy) * ow + ox];
                    db[f] += g;
                    for ch in 0..c {
                        for i in 0..kh {
                            for j in 0..kw {
                                let iy = (oy * stride + i) as isize - pad as isize;
                                let ix = (ox * stride + j) as isize - pad as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xi = ((b * c + ch) * h + iy as usize) * wd + ix as usize;
                                let wi = ((f * c + ch) * kh + i) * kw + j;
                                dx[xi] += g * w[wi];
                                dw[wi] += g * x[xi];
                            }
                        }
                    }
                }
            }
        }
    }
    (dx, dw, db)
}

/// Max pooling of NCHW `x` over `kernel × kernel` windows `stride` apart, padded with −∞;
/// returns the output, its shape, and for each output the flat index into `x` of its
/// maximum (the first one in row-major window order on ties).
pub fn max_pool2d(
    x: &[f64],
    xs: [usize; 4],
    kernel: usize,
    stride: usize,
    pad: usize,
) -> (Vec<f64>, [usize; 4], Vec<usize>) {
    let [n, c, h, wd] = xs;
    let (oh, ow) = (
        window_count(h, kernel, stride, pad),
        window_count(wd, kernel, stride, pad),
    );
    let mut y = Vec::with_capacity(n * c * oh * ow);
    let mut arg = Vec::with_capacity(n * c * oh * ow);
    for plane in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best: Option<(f64, usize)> = None;
                for i in 0..kernel {
                    for j in 0..kernel {
                        let iy = (oy * stride + i) as isize - pad as isize;
                        let ix = (ox * stride + j) as isize - pad as isize;
                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                            continue;
                        }
                        let k = (plane * h + iy as usize) * wd + ix as usize;
                        if best.is_none_or(|(v, _)| x[k] > v) {
                            best = Some((x[k], k));
                        }
                    }
                }
                let (v, k) = best.expect("every window overlaps the input");
                y.push(v);
                arg.push(k);
            }
        }
    }
    (y, [n, c, oh, ow], arg)
}

/// Gradient of [`max_pool2d`]: each output's gradient goes to its maximum.
pub fn max_pool2d_backward(input_len: usize, argmax: &[usize], dy: &[f64]) -> Vec<f64> {
    let mut dx = vec![0.0; input_len];
    for (&k, &g) in argmax.iter().zip(dy) {
        dx[k] += g;
    }
    dx
}

/// PyTorch's SGD-momentum direction: `buf = μ·buf + g′` (g′ = g + λw), `d = buf` or
/// `g′ + μ·buf` (Nesterov). Returns (new buf, d).
pub fn momentum_direction(
    w: &[f64],
    g: &[f64],
    buf: &[f64],
    mu: f64,
    nesterov: bool,
    wd: f64,
) -> (Vec<f64>, Vec<f64>) {
    let mut nb = Vec::with_capacity(w.len());
    let mut d = Vec::with_capacity(w.len());
    for i in 0..w.len() {
        let gi = g[i] + wd * w[i];
        let b = mu * buf[i] + gi;
        nb.push(b);
        d.push(if nesterov { gi + mu * b } else { b });
    }
    (nb, d)
}

/// PyTorch's Adam direction at step `t` (1-based): returns (m, v, d = m̂/(√v̂ + eps)).
#[allow(clippy::too_many_arguments)]
pub fn adam_direction(
    w: &[f64],
    g: &[f64],
    m: &[f64],
    v: &[f64],
    t: i32,
    betas: (f64, f64),
    eps: f64,
    wd: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (b1, b2) = betas;
    let (mut nm, mut nv, mut d) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..w.len() {
        let gi = g[i] + wd * w[i];
        let mi = b1 * m[i] + (1.0 - b1) * gi;
        let vi = b2 * v[i] + (1.0 - b2) * gi * gi;
        nm.push(mi);
        nv.push(vi);
        d.push((mi / (1.0 - b1.powi(t))) / ((vi / (1.0 - b2.powi(t))).sqrt() + eps));
    }
    (nm, nv, d)
}

/// Per-channel batch mean and biased variance of NCHW `x` (`[batch, channels, hw]`).
pub fn channel_stats(x: &[f64], batch: usize, channels: usize, hw: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (batch * hw) as f64;
    let mut mean = vec![0.0; channels];
    let mut var = vec![0.0; channels];
    for c in 0..channels {
        for b in 0..batch {
            for p in 0..hw {
                mean[c] += x[(b * channels + c) * hw + p];
            }
        }
        mean[c] /= n;
        for b in 0..batch {
            for p in 0..hw {
                let d = x[(b * channels + c) * hw + p] - mean[c];
                var[c] += d * d;
            }
        }
        var[c] /= n;
    }
    (mean, var)
}

/// `y = γ·(x − mean)/√(var + eps) + β` per channel of NCHW `x`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_with(
    x: &[f64],
    batch: usize,
    channels: usize,
    hw: usize,
    gamma: &[f64],
    beta: &[f64],
    mean: &[f64],
    var: &[f64],
    eps: f64,
) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for b in 0..batch {
        for c in 0..channels {
            for p in 0..hw {
                let i = (b * channels + c) * hw + p;
                y[i] = gamma[c] * (x[i] - mean[c]) / (var[c] + eps).sqrt() + beta[c];
            }
        }
    }
    y
}

/// Training-mode batch normalisation (PyTorch's `BatchNorm2d`): normalises with the batch
/// mean and biased variance of each channel.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_train(
    x: &[f64],
    batch: usize,
    channels: usize,
    hw: usize,
    gamma: &[f64],
    beta: &[f64],
    eps: f64,
) -> Vec<f64> {
    let (mean, var) = channel_stats(x, batch, channels, hw);
    batch_norm_with(x, batch, channels, hw, gamma, beta, &mean, &var, eps)
}

/// PyTorch's running-statistics update after a training-mode batch norm over `count`
/// values per channel: `r ← (1 − m)·r + m·stat`, with the unbiased variance.
pub fn batch_norm_running(
    running_mean: &[f64],
    running_var: &[f64],
    mean: &[f64],
    var: &[f64],
    count: usize,
    momentum: f64,
) -> (Vec<f64>, Vec<f64>) {
    let n = count as f64;
    let rm = (0..mean.len())
        .map(|c| (1.0 - momentum) * running_mean[c] + momentum * mean[c])
        .collect();
    let rv = (0..var.len())
        .map(|c| (1.0 - momentum) * running_var[c] + momentum * var[c] * n / (n - 1.0))
        .collect();
    (rm, rv)
}

/// Global average pooling of `planes` consecutive planes of `hw` values each.
pub fn global_avg_pool(x: &[f64], planes: usize, hw: usize) -> Vec<f64> {
    (0..planes)
        .map(|o| x[o * hw..(o + 1) * hw].iter().sum::<f64>() / hw as f64)
        .collect()
}

/// Chris Wellons' "lowbias32" integer hash.
fn mix32(v: u32) -> u32 {
    let mut h = v;
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

/// The random word of element `index` of the dropout mask for `(seed, step)`, as
/// `shaders/dropout.wgsl` draws it.
pub fn dropout_hash(seed: u32, step: u32, index: u32) -> u32 {
    let mut h = mix32(seed ^ 0x9e37_79b9);
    h = mix32(h ^ step);
    h = mix32(h ^ index);
    mix32(h.wrapping_add(0x6a09_e667))
}

/// The dropout mask of `len` elements for `(seed, step)`, bit for bit as the GPU draws it:
/// an element is kept when the top 24 bits of its hash, as a uniform in [0, 1), are at
/// least `p`, and then holds 1/(1 − p) (in f32), else 0.
pub fn dropout_mask(seed: u32, step: u32, len: usize, p: f32) -> Vec<f32> {
    let scale = if p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 };
    (0..len)
        .map(|i| {
            let u = (dropout_hash(seed, step, i as u32) >> 8) as f32 / 16_777_216.0;
            if u >= p {
                scale
            } else {
                0.0
            }
        })
        .collect()
}
