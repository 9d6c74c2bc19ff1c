//! Matrix products: both kernels, every operand layout, strided operands and the fused
//! epilogue against the f64 reference on shapes that are not multiples of the tile sizes;
//! the backward of a linear layer and of a product with a batch-shared weight against
//! finite differences.

use super::weighted;
use crate::common::{assert_close, f32s, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::matmul::{self, Epilogue, Mat, Variant};
use etaprobe::ops::{bias, relu};

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
                assert_close(
                    &got,
                    &want,
                    tol::Tol {
                        abs: 1e-5 * k as f64,
                        rel: 1e-5,
                    },
                    &what,
                );
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
        assert_close(
            &got,
            &want,
            tol::LONG_SUMS,
            &format!("{variant:?} in place"),
        );
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
            tol::LONG_SUMS,
            &format!("{variant:?} batched bias relu accumulate"),
        );
    }
}

#[test]
fn linear_layer_backward_matches_finite_differences() {
    // y = relu(x·W + b), L = Σ r ⊙ y: exercises matmul (both transposed products), the
    // bias gradient and the ReLU gradient in the order a layer chains them.
    let gpu = gpu();
    let mut g = rng(11);
    let (m, k, n) = (6, 5, 7);
    let x = random(&mut g, m * k, 1.0);
    let w = random(&mut g, k * n, 1.0);
    let b = random(&mut g, n, 0.5);
    let r = random(&mut g, m * n, 1.0);
    let forward = |x: &[f64], w: &[f64], b: &[f64]| {
        cpu::relu(&cpu::bias_add(&cpu::matmul(x, w, m, k, n), b, m, n))
    };

    let xt = gpu.upload("x", &[m * k], &f32s(&x)).unwrap();
    let wt = gpu.upload("w", &[k * n], &f32s(&w)).unwrap();
    let bt = gpu.upload("b", &[n], &f32s(&b)).unwrap();
    let rt = gpu.upload("r", &[m * n], &f32s(&r)).unwrap();
    let yt = gpu.zeros("y", &[m * n]).unwrap();
    let dz = gpu.zeros("dz", &[m * n]).unwrap();
    let dx = gpu.zeros("dx", &[m * k]).unwrap();
    let dw = gpu.zeros("dw", &[k * n]).unwrap();
    let db = gpu.zeros("db", &[n]).unwrap();
    let mut prog = Program::new();
    let epi = Epilogue {
        bias: Some((&bt, 0)),
        relu: true,
        accumulate: false,
        ..Default::default()
    };
    let (xm, wm, ym) = (
        Mat::new(&xt, m, k),
        Mat::new(&wt, k, n),
        Mat::new(&yt, m, n),
    );
    matmul::record(&mut prog, gpu, &xm, &wm, &ym, 1, epi).unwrap();
    relu::backward(&mut prog, gpu, &yt, &rt, &dz, false).unwrap();
    let dzm = Mat::new(&dz, m, n);
    let (dxm, dwm) = (Mat::new(&dx, m, k), Mat::new(&dw, k, n));
    matmul::backward(
        &mut prog,
        gpu,
        &xm,
        &wm,
        &dzm,
        1,
        Some((&dxm, false)),
        Some((&dwm, false)),
    )
    .unwrap();
    bias::backward(&mut prog, gpu, &dz, &db, m, n, false).unwrap();
    prog.run(gpu).unwrap();

    let fd_x = fd::gradient(&x, |x| weighted(&r, &forward(x, &w, &b)));
    let fd_w = fd::gradient(&w, |w| weighted(&r, &forward(&x, w, &b)));
    let fd_b = fd::gradient(&b, |b| weighted(&r, &forward(&x, &w, b)));
    assert_close(
        &gpu.read::<f32>(&dx).unwrap(),
        &fd_x,
        tol::GRADIENT,
        "dL/dx",
    );
    assert_close(
        &gpu.read::<f32>(&dw).unwrap(),
        &fd_w,
        tol::GRADIENT,
        "dL/dW",
    );
    assert_close(
        &gpu.read::<f32>(&db).unwrap(),
        &fd_b,
        tol::GRADIENT,
        "dL/db",
    );
}

#[test]
fn batched_matmul_with_shared_weight_sums_its_gradient_over_the_batch() {
    let gpu = gpu();
    let mut g = rng(12);
    let (batch, m, k, n) = (3, 4, 6, 5);
    let a = random(&mut g, batch * m * k, 1.0);
    let w = random(&mut g, k * n, 1.0);
    let r = random(&mut g, batch * m * n, 1.0);
    let forward = |a: &[f64], w: &[f64]| {
        (0..batch)
            .flat_map(|i| cpu::matmul(&a[i * m * k..(i + 1) * m * k], w, m, k, n))
            .collect::<Vec<f64>>()
    };
    let at = gpu.upload("a", &[batch * m * k], &f32s(&a)).unwrap();
    let wt = gpu.upload("w", &[k * n], &f32s(&w)).unwrap();
    let rt = gpu.upload("r", &[batch * m * n], &f32s(&r)).unwrap();
    let da = gpu.zeros("da", &[batch * m * k]).unwrap();
    let dw = gpu.zeros("dw", &[k * n]).unwrap();
    let mut prog = Program::new();
    let (am, wm) = (Mat::new(&at, m, k), Mat::new(&wt, k, n).shared());
    let (dam, dwm) = (Mat::new(&da, m, k), Mat::new(&dw, k, n));
    matmul::backward(
        &mut prog,
        gpu,
        &am,
        &wm,
        &Mat::new(&rt, m, n),
        batch,
        Some((&dam, false)),
        Some((&dwm, false)),
    )
    .unwrap();
    prog.run(gpu).unwrap();
    let fd_a = fd::gradient(&a, |a| weighted(&r, &forward(a, &w)));
    let fd_w = fd::gradient(&w, |w| weighted(&r, &forward(&a, w)));
    assert_close(
        &gpu.read::<f32>(&da).unwrap(),
        &fd_a,
        tol::GRADIENT,
        "dL/dA",
    );
    assert_close(
        &gpu.read::<f32>(&dw).unwrap(),
        &fd_w,
        tol::GRADIENT,
        "dL/dW",
    );
}
