//! Every WGSL kernel against the plain f64 CPU reference, on shapes that are not multiples
//! of the tile sizes, batch 1, and large logits.

use crate::common::{assert_close, f32s, gpu, random, rng};
use etaprobe::gpu::Program;
use etaprobe::ops::matmul::{self, Epilogue, Mat, Variant};
use etaprobe::ops::{axpy, bias, mse, reduce, relu, sgd, softmax_xent};
use etaprobe::reference as cpu;

const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (1, 7, 3),
    (5, 3, 9),
    (33, 65, 17),
    (70, 5, 130),
    (64, 64, 64),
    (3, 200, 1),
    (130, 9, 75),
];

#[test]
fn matmul_matches_reference_for_both_kernels_and_all_layouts() {
    let gpu = gpu();
    let mut r = rng(1);
    for variant in [Variant::Subgroup8, Variant::Tiled] {
        if variant == Variant::Subgroup8 && !matmul::uses_subgroup_kernel(gpu) {
            continue;
        }
        for &(m, k, n) in SHAPES {
            let a = random(&mut r, m * k, 1.0);
            let b = random(&mut r, k * n, 1.0);
            let want = cpu::matmul(&a, &b, m, k, n);
            // A and B stored transposed too: the backward passes read them that way.
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a_data = if ta {
                    cpu::transpose(&a, m, k)
                } else {
                    a.clone()
                };
                let b_data = if tb {
                    cpu::transpose(&b, k, n)
                } else {
                    b.clone()
                };
                let at = gpu.upload("a", &[m * k], &f32s(&a_data)).unwrap();
                let bt = gpu.upload("b", &[k * n], &f32s(&b_data)).unwrap();
                let ct = gpu.zeros("c", &[m * n]).unwrap();
                let am = if ta {
                    Mat::new(&at, k, m).transposed()
                } else {
                    Mat::new(&at, m, k)
                };
                let bm = if tb {
                    Mat::new(&bt, n, k).transposed()
                } else {
                    Mat::new(&bt, k, n)
                };
                let mut prog = Program::new();
                matmul::record_variant(
                    &mut prog,
                    gpu,
                    &am,
                    &bm,
                    &Mat::new(&ct, m, n),
                    1,
                    Epilogue::default(),
                    variant,
                )
                .unwrap();
                prog.run(gpu).unwrap();
                let got: Vec<f32> = gpu.read(&ct).unwrap();
                let what = format!("{variant:?} {m}x{k}x{n} ta={ta} tb={tb}");
                assert_close(&got, &want, 1e-5 * k as f64, 1e-5, &what);
            }
        }
    }
}

/// Operands inside larger buffers (offset, row stride past the row, batch stride) with
/// k % 4 = 0 are read in place by the subgroup kernel, padding and all: NaN in every gap
/// must not reach the result.
#[test]
fn matmul_reads_strided_operands_in_place_without_leaking_the_gaps() {
    let gpu = gpu();
    let mut r = rng(3);
    // m < n, so that the subgroup kernel keeps the orientation (it transposes tall products).
    let (batch, m, k, n) = (3, 20, 12, 70);
    let (a_off, a_rs, b_off, b_rs) = (8, k + 4, 4, n + 6);
    let (a_bs, b_bs) = (m * a_rs + 4, k * b_rs + 8);
    let a = random(&mut r, batch * m * k, 1.0);
    let b = random(&mut r, batch * k * n, 1.0);
    let mut a_buf = vec![f64::NAN; a_off + batch * a_bs];
    let mut b_buf = vec![f64::NAN; b_off + batch * b_bs];
    for i in 0..batch {
        for row in 0..m {
            for j in 0..k {
                a_buf[a_off + i * a_bs + row * a_rs + j] = a[(i * m + row) * k + j];
            }
        }
        for row in 0..k {
            for j in 0..n {
                b_buf[b_off + i * b_bs + row * b_rs + j] = b[(i * k + row) * n + j];
            }
        }
    }
    for variant in [Variant::Auto, Variant::Tiled] {
        let at = gpu.upload("a", &[a_buf.len()], &f32s(&a_buf)).unwrap();
        let bt = gpu.upload("b", &[b_buf.len()], &f32s(&b_buf)).unwrap();
        let ct = gpu.zeros("c", &[batch * m * n]).unwrap();
        let am = Mat {
            t: &at,
            off: a_off,
            rows: m,
            cols: k,
            rs: a_rs,
            cs: 1,
            bs: a_bs,
        };
        let bm = Mat {
            t: &bt,
            off: b_off,
            rows: k,
            cols: n,
            rs: b_rs,
            cs: 1,
            bs: b_bs,
        };
        let mut prog = Program::new();
        let cm = Mat::new(&ct, m, n);
        let epi = Epilogue::default();
        matmul::record_variant(&mut prog, gpu, &am, &bm, &cm, batch, epi, variant).unwrap();
        // Only the product itself: no pass copied the operands.
        if variant == Variant::Auto && matmul::uses_subgroup_kernel(gpu) {
            assert_eq!(prog.len(), 1, "the operands were packed");
        }
        prog.run(gpu).unwrap();
        let got: Vec<f32> = gpu.read(&ct).unwrap();
        let mut want = Vec::new();
        for i in 0..batch {
            let (ai, bi) = (
                &a[i * m * k..(i + 1) * m * k],
                &b[i * k * n..(i + 1) * k * n],
            );
            want.extend(cpu::matmul(ai, bi, m, k, n));
        }
        assert_close(&got, &want, 1e-4, 1e-5, &format!("{variant:?} in place"));
    }
}

#[test]
fn matmul_epilogue_bias_relu_accumulate_and_batches() {
    // Wide and tall outputs: the subgroup kernel computes the tall one transposed, with
    // the bias then running along its rows.
    for (batch, m, k, n) in [(3, 19, 11, 70), (2, 404, 13, 1), (1, 130, 9, 7)] {
        epilogue_case(batch, m, k, n);
    }
}

fn epilogue_case(batch: usize, m: usize, k: usize, n: usize) {
    let gpu = gpu();
    let mut r = rng(2);
    let a = random(&mut r, batch * m * k, 1.0);
    let b = random(&mut r, k * n, 1.0);
    let bias_v = random(&mut r, n, 1.0);
    let c0 = random(&mut r, batch * m * n, 1.0);
    for variant in [Variant::Auto, Variant::Tiled] {
        let at = gpu.upload("a", &[batch * m * k], &f32s(&a)).unwrap();
        let bt = gpu.upload("b", &[k * n], &f32s(&b)).unwrap();
        let biast = gpu.upload("bias", &[n], &f32s(&bias_v)).unwrap();
        let ct = gpu.upload("c", &[batch * m * n], &f32s(&c0)).unwrap();
        let mut prog = Program::new();
        let epi = Epilogue {
            bias: Some((&biast, 0)),
            relu: true,
            accumulate: true,
            ..Default::default()
        };
        matmul::record_variant(
            &mut prog,
            gpu,
            &Mat::new(&at, m, k),
            &Mat::new(&bt, k, n).shared(),
            &Mat::new(&ct, m, n),
            batch,
            epi,
            variant,
        )
        .unwrap();
        prog.run(gpu).unwrap();
        let got: Vec<f32> = gpu.read(&ct).unwrap();
        let mut want = Vec::new();
        for i in 0..batch {
            let y = cpu::matmul(&a[i * m * k..(i + 1) * m * k], &b, m, k, n);
            let y = cpu::relu(&cpu::bias_add(&y, &bias_v, m, n));
            want.extend(y.iter().zip(&c0[i * m * n..]).map(|(a, b)| a + b));
        }
        assert_close(
            &got,
            &want,
            1e-4,
            1e-5,
            &format!("{variant:?} batched bias relu accumulate"),
        );
    }
}

#[test]
fn bias_forward_and_backward() {
    let gpu = gpu();
    let mut r = rng(3);
    for &(rows, cols) in &[(1, 1), (1, 10), (37, 5), (300, 129)] {
        let x = random(&mut r, rows * cols, 2.0);
        let bv = random(&mut r, cols, 2.0);
        let xt = gpu.upload("x", &[rows * cols], &f32s(&x)).unwrap();
        let bt = gpu.upload("b", &[cols], &f32s(&bv)).unwrap();
        let db0 = random(&mut r, cols, 1.0);
        let dbt = gpu.upload("db", &[cols], &f32s(&db0)).unwrap();
        let dbt2 = gpu.zeros("db2", &[cols]).unwrap();
        let mut prog = Program::new();
        bias::forward(&mut prog, gpu, &xt, &bt, rows, cols).unwrap();
        // The gradient of a bias is the column sum of its incoming gradient (here x).
        bias::backward(&mut prog, gpu, &xt, &dbt, rows, cols, true).unwrap();
        bias::backward(&mut prog, gpu, &xt, &dbt2, rows, cols, false).unwrap();
        prog.run(gpu).unwrap();
        let y = cpu::bias_add(&x, &bv, rows, cols);
        assert_close(
            &gpu.read::<f32>(&xt).unwrap(),
            &y,
            1e-6,
            1e-6,
            "bias forward",
        );
        let sums = cpu::column_sums(&y, rows, cols);
        let acc: Vec<f64> = sums.iter().zip(&db0).map(|(a, b)| a + b).collect();
        assert_close(
            &gpu.read::<f32>(&dbt).unwrap(),
            &acc,
            1e-4,
            1e-5,
            "bias backward accumulate",
        );
        assert_close(
            &gpu.read::<f32>(&dbt2).unwrap(),
            &sums,
            1e-4,
            1e-5,
            "bias backward",
        );
    }
}

#[test]
fn relu_forward_and_backward() {
    let gpu = gpu();
    let mut r = rng(4);
    // Lengths of whole vec4s take the vec4 backward: 12 and 1000 end inside an
    // invocation's four vec4s.
    for &len in &[1, 12, 63, 64, 65, 1000, 10_007] {
        let x = random(&mut r, len, 1.0);
        let dy = random(&mut r, len, 1.0);
        let prior = random(&mut r, len, 1.0);
        let xt = gpu.upload("x", &[len], &f32s(&x)).unwrap();
        let dyt = gpu.upload("dy", &[len], &f32s(&dy)).unwrap();
        let yt = gpu.zeros("y", &[len]).unwrap();
        let dxt = gpu.zeros("dx", &[len]).unwrap();
        let acc = gpu.upload("acc", &[len], &f32s(&prior)).unwrap();
        let mut prog = Program::new();
        relu::forward(&mut prog, gpu, &xt, &yt).unwrap();
        relu::backward(&mut prog, gpu, &xt, &dyt, &dxt, false).unwrap();
        relu::backward(&mut prog, gpu, &xt, &dyt, &acc, true).unwrap();
        prog.run(gpu).unwrap();
        let accumulated: Vec<f64> = cpu::relu_backward(&x, &dy)
            .iter()
            .zip(&prior)
            .map(|(g, p)| g + p)
            .collect();
        assert_close(
            &gpu.read::<f32>(&acc).unwrap(),
            &accumulated,
            1e-7,
            1e-7,
            "relu backward accumulated",
        );
        assert_close(
            &gpu.read::<f32>(&yt).unwrap(),
            &cpu::relu(&x),
            0.0,
            0.0,
            "relu",
        );
        assert_close(
            &gpu.read::<f32>(&dxt).unwrap(),
            &cpu::relu_backward(&x, &dy),
            0.0,
            0.0,
            "relu backward",
        );
    }
}

#[test]
fn axpy_and_scale() {
    let gpu = gpu();
    let mut r = rng(5);
    for &len in &[1, 100, 70_001] {
        let x = random(&mut r, len, 1.0);
        let y = random(&mut r, len, 1.0);
        let xt = gpu.upload("x", &[len], &f32s(&x)).unwrap();
        let yt = gpu.upload("y", &[len], &f32s(&y)).unwrap();
        let st = gpu.zeros("s", &[len]).unwrap();
        let mut prog = Program::new();
        axpy::axpy(&mut prog, gpu, -0.375, &xt, &yt).unwrap();
        axpy::scale(&mut prog, gpu, 2.5, &xt, &st).unwrap();
        prog.run(gpu).unwrap();
        assert_close(
            &gpu.read::<f32>(&yt).unwrap(),
            &cpu::axpy(-0.375, &x, &y),
            1e-6,
            1e-6,
            "axpy",
        );
        assert_close(
            &gpu.read::<f32>(&st).unwrap(),
            &cpu::scale(2.5, &x),
            1e-6,
            1e-6,
            "scale",
        );
    }
}

#[test]
fn sum_and_dot_partials_combine_in_f64() {
    let gpu = gpu();
    let mut r = rng(6);
    for &len in &[1, 64, 4097, 1_000_003] {
        let x = random(&mut r, len, 1.0);
        let y = random(&mut r, len, 1.0);
        let xt = gpu.upload("x", &[len], &f32s(&x)).unwrap();
        let yt = gpu.upload("y", &[len], &f32s(&y)).unwrap();
        let n = reduce::partial_count(len);
        let ps = gpu.zeros("ps", &[n]).unwrap();
        let pd = gpu.zeros("pd", &[n]).unwrap();
        let mut prog = Program::new();
        reduce::sum(&mut prog, gpu, &xt, &ps).unwrap();
        reduce::dot(&mut prog, gpu, &xt, &yt, &pd).unwrap();
        prog.run(gpu).unwrap();
        let s = reduce::combine(&gpu.read::<f32>(&ps).unwrap());
        let d = reduce::combine(&gpu.read::<f32>(&pd).unwrap());
        // f32 products and per-chunk f32 sums: error grows like sqrt(chunk)·ulp·|terms|.
        let tol = 1e-6 * (len as f64).sqrt() * 4.0 + 1e-6;
        assert!(
            (s - cpu::sum(&x)).abs() <= tol,
            "sum of {len}: {s} vs {}",
            cpu::sum(&x)
        );
        assert!(
            (d - cpu::dot(&x, &y)).abs() <= tol,
            "dot of {len}: {d} vs {}",
            cpu::dot(&x, &y)
        );
    }
}

#[test]
fn softmax_cross_entropy_is_stable_and_matches() {
    let gpu = gpu();
    let mut r = rng(7);
    for &(rows, classes, scale) in &[
        (1, 10, 1.0),
        (5, 3, 5.0),
        (130, 10, 3.0),
        (7, 100, 1.0),
        (4, 10, 1e4),
    ] {
        let mut logits = random(&mut r, rows * classes, scale);
        if scale > 100.0 {
            // Large equal offsets must not overflow exp().
            for v in &mut logits {
                *v += 3e4;
            }
        }
        let labels: Vec<u32> = (0..rows).map(|i| ((i * 7 + 3) % classes) as u32).collect();
        let lt = gpu
            .upload("logits", &[rows * classes], &f32s(&logits))
            .unwrap();
        let yt = gpu.upload("labels", &[rows], &labels).unwrap();
        let losses = gpu.zeros("losses", &[rows]).unwrap();
        let correct = gpu.zeros("correct", &[rows]).unwrap();
        let dl = gpu.zeros("dlogits", &[rows * classes]).unwrap();
        let mut prog = Program::new();
        softmax_xent::forward(&mut prog, gpu, &lt, &yt, &losses, &correct, rows, classes).unwrap();
        softmax_xent::backward(&mut prog, gpu, &lt, &yt, &dl, rows, classes, 1.0).unwrap();
        prog.run(gpu).unwrap();
        let logits32: Vec<f64> = f32s(&logits).iter().map(|&v| v as f64).collect();
        let (want, want_correct) = cpu::softmax_xent(&logits32, &labels, rows, classes);
        let what = format!("softmax xent {rows}x{classes} scale {scale}");
        // Logits near 3e4 carry an f32 rounding of ~2e-3 each.
        let abs = if scale > 100.0 { 1e-2 } else { 1e-5 };
        let got: Vec<f32> = gpu.read(&losses).unwrap();
        assert!(got.iter().all(|v| v.is_finite()), "{what}: non-finite loss");
        assert_close(&got, &want, abs, 1e-5, &what);
        let c: Vec<f32> = gpu.read(&correct).unwrap();
        let wc: Vec<f64> = want_correct
            .iter()
            .map(|&b| if b { 1.0 } else { 0.0 })
            .collect();
        assert_close(&c, &wc, 0.0, 0.0, &format!("{what} correct"));
        let grad = cpu::softmax_xent_backward(&logits32, &labels, rows, classes);
        assert_close(
            &gpu.read::<f32>(&dl).unwrap(),
            &grad,
            abs / rows as f64 + 1e-7,
            1e-4,
            &format!("{what} grad"),
        );
    }
}

#[test]
fn mse_forward_and_backward() {
    let gpu = gpu();
    let mut r = rng(8);
    for &len in &[1, 13, 5000] {
        let p = random(&mut r, len, 3.0);
        let t = random(&mut r, len, 3.0);
        let pt = gpu.upload("p", &[len], &f32s(&p)).unwrap();
        let tt = gpu.upload("t", &[len], &f32s(&t)).unwrap();
        let sq = gpu.zeros("sq", &[len]).unwrap();
        let dp = gpu.zeros("dp", &[len]).unwrap();
        let partials = gpu
            .zeros("partials", &[reduce::partial_count(len)])
            .unwrap();
        let mut prog = Program::new();
        mse::forward(&mut prog, gpu, &pt, &tt, &sq).unwrap();
        reduce::sum(&mut prog, gpu, &sq, &partials).unwrap();
        mse::backward(&mut prog, gpu, &pt, &tt, &dp, 1.0).unwrap();
        prog.run(gpu).unwrap();
        let loss = reduce::combine(&gpu.read::<f32>(&partials).unwrap()) / len as f64;
        let want = cpu::mse(&p, &t);
        assert!(
            (loss - want).abs() <= 1e-5 * want.max(1.0),
            "mse {loss} vs {want}"
        );
        assert_close(
            &gpu.read::<f32>(&dp).unwrap(),
            &cpu::mse_backward(&p, &t),
            1e-6,
            1e-5,
            "mse grad",
        );
    }
}

#[test]
fn sgd_step_reads_the_rate_from_the_gpu() {
    let gpu = gpu();
    let mut r = rng(9);
    let len = 1000;
    let w = random(&mut r, len, 1.0);
    let g = random(&mut r, len, 1.0);
    let wt = gpu.upload("w", &[len], &f32s(&w)).unwrap();
    let gt = gpu.upload("g", &[len], &f32s(&g)).unwrap();
    let lr = gpu.upload("lr", &[1], &[0.25f32]).unwrap();
    let mut prog = Program::new();
    sgd::step(&mut prog, gpu, &wt, &gt, &lr).unwrap();
    prog.run(gpu).unwrap();
    // A new rate takes effect without re-recording.
    gpu.write(&lr, &[0.5f32]);
    prog.run(gpu).unwrap();
    let want = cpu::sgd(&cpu::sgd(&w, &g, 0.25), &g, 0.5);
    assert_close(&gpu.read::<f32>(&wt).unwrap(), &want, 1e-6, 1e-6, "sgd");
}
