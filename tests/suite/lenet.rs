//! A whole LeNet-5 on 3×32×32 images, PyTorch layout: its gradients against an f64 CPU
//! LeNet (itself spot-checked by finite differences), and a replay bit for bit.

use crate::common::{assert_close, f32s, fd, gpu, random, rng, tol};
use crate::ops::conv::conv_shape;
use crate::reference as cpu;
use etaprobe::gpu::{Gpu, ParamLayout, Params, Program, Tensor};
use etaprobe::ops::conv::{Conv2d, ConvGrads, ConvShape};
use etaprobe::ops::matmul::{self, Epilogue, Mat};
use etaprobe::ops::maxpool::{self, PoolShape};
use etaprobe::ops::{bias, relu, softmax_xent};

const BATCH: usize = 2;
const CLASSES: usize = 10;
/// Parameter shapes in PyTorch's order.
const LENET: [(&str, &[usize]); 10] = [
    ("conv1.weight", &[6, 3, 5, 5]),
    ("conv1.bias", &[6]),
    ("conv2.weight", &[16, 6, 5, 5]),
    ("conv2.bias", &[16]),
    ("fc1.weight", &[120, 400]),
    ("fc1.bias", &[120]),
    ("fc2.weight", &[84, 120]),
    ("fc2.bias", &[84]),
    ("fc3.weight", &[10, 84]),
    ("fc3.bias", &[10]),
];

fn lenet_convs() -> (ConvShape, PoolShape, ConvShape, PoolShape) {
    (
        conv_shape([BATCH, 3, 32, 32, 6, 5, 5, 1, 0]),
        PoolShape::two_by_two(BATCH, 6, 28, 28),
        conv_shape([BATCH, 6, 14, 14, 16, 5, 5, 1, 0]),
        PoolShape::two_by_two(BATCH, 16, 10, 10),
    )
}

/// `x·Wᵀ + b`: a PyTorch linear layer.
fn linear(x: &[f64], w: &[f64], b: &[f64], rows: usize, inp: usize, out: usize) -> Vec<f64> {
    let wt = cpu::transpose(w, out, inp);
    cpu::bias_add(&cpu::matmul(x, &wt, rows, inp, out), b, rows, out)
}

/// The CPU LeNet's mean loss and, when `grads`, its analytic gradients.
fn cpu_lenet(p: &[Vec<f64>], x: &[f64], labels: &[u32], grads: bool) -> (f64, Vec<Vec<f64>>) {
    let b = BATCH;
    let c1 = cpu::conv2d(x, [b, 3, 32, 32], &p[0], [6, 3, 5, 5], Some(&p[1]), 1, 0).0;
    let a1 = cpu::relu(&c1);
    let (p1, s1, arg1) = cpu::max_pool2d(&a1, [b, 6, 28, 28], 2, 2, 0);
    let c2 = cpu::conv2d(&p1, s1, &p[2], [16, 6, 5, 5], Some(&p[3]), 1, 0).0;
    let a2 = cpu::relu(&c2);
    let (p2, _, arg2) = cpu::max_pool2d(&a2, [b, 16, 10, 10], 2, 2, 0);
    let h1 = cpu::relu(&linear(&p2, &p[4], &p[5], b, 400, 120));
    let h2 = cpu::relu(&linear(&h1, &p[6], &p[7], b, 120, 84));
    let z = linear(&h2, &p[8], &p[9], b, 84, CLASSES);
    let (losses, _) = cpu::softmax_xent(&z, labels, b, CLASSES);
    let loss = losses.iter().sum::<f64>() / b as f64;
    if !grads {
        return (loss, Vec::new());
    }
    // Linear layer backward: dW = dyᵀ·x, db = Σ_rows dy, dx = dy·W.
    let linear_back = |x: &[f64], w: &[f64], dy: &[f64], inp: usize, out: usize| {
        let dw = cpu::matmul(&cpu::transpose(dy, b, out), x, out, b, inp);
        let db = cpu::column_sums(dy, b, out);
        let dx = cpu::matmul(dy, w, b, out, inp);
        (dx, dw, db)
    };
    let dz = cpu::softmax_xent_backward(&z, labels, b, CLASSES);
    let (dh2, dw5, db5) = linear_back(&h2, &p[8], &dz, 84, CLASSES);
    let dh2 = cpu::relu_backward(&h2, &dh2);
    let (dh1, dw4, db4) = linear_back(&h1, &p[6], &dh2, 120, 84);
    let dh1 = cpu::relu_backward(&h1, &dh1);
    let (dp2, dw3, db3) = linear_back(&p2, &p[4], &dh1, 400, 120);
    let da2 = cpu::max_pool2d_backward(a2.len(), &arg2, &dp2);
    let dc2 = cpu::relu_backward(&a2, &da2);
    let (dp1, dw2, db2) = cpu::conv2d_backward(&p1, s1, &p[2], [16, 6, 5, 5], &dc2, 1, 0);
    let da1 = cpu::max_pool2d_backward(a1.len(), &arg1, &dp1);
    let dc1 = cpu::relu_backward(&a1, &da1);
    let (_, dw1, db1) = cpu::conv2d_backward(x, [b, 3, 32, 32], &p[0], [6, 3, 5, 5], &dc1, 1, 0);
    (loss, vec![dw1, db1, dw2, db2, dw3, db3, dw4, db4, dw5, db5])
}

/// The GPU LeNet's training step without the update, recorded once: forward, loss, and
/// backward into the flat gradient buffer.
struct GpuLenet {
    prog: Program,
    params: Params,
    losses: Tensor,
}

fn gpu_lenet(gpu: &Gpu, init: &[Vec<f64>], x: &[f64], labels: &[u32]) -> GpuLenet {
    let (s1, q1, s2, q2) = lenet_convs();
    let mut layout = ParamLayout::new();
    for (name, shape) in LENET {
        layout.add(name, shape);
    }
    let params = Params::new(gpu, layout).unwrap();
    params.upload_all(gpu, &init.iter().map(|v| f32s(v)).collect::<Vec<_>>());
    let v: Vec<Tensor> = (0..10).map(|i| params.value(i)).collect();
    let d: Vec<Tensor> = (0..10).map(|i| params.grad(i)).collect();
    let z = |label: &str, len: usize| gpu.zeros(label, &[len]).unwrap();
    let xt = gpu.upload("x", &[x.len()], &f32s(x)).unwrap();
    let yt = gpu.upload("labels", &[BATCH], labels).unwrap();
    let (c1, a1i, p1) = (
        z("c1", s1.output_len()),
        z("argmax1", q1.output_len()),
        z("p1", q1.output_len()),
    );
    let (c2, a2i, p2) = (
        z("c2", s2.output_len()),
        z("argmax2", q2.output_len()),
        z("p2", q2.output_len()),
    );
    let (h1, h2, logits) = (
        z("h1", BATCH * 120),
        z("h2", BATCH * 84),
        z("z", BATCH * 10),
    );
    let (losses, correct) = (z("losses", BATCH), z("correct", BATCH));
    let conv1 = Conv2d::new(gpu, s1).unwrap();
    let conv2 = Conv2d::new(gpu, s2).unwrap();
    let mut prog = Program::new();
    let pg = &mut prog;

    conv1
        .forward(pg, gpu, &xt, &v[0], Some(&v[1]), &c1, true)
        .unwrap();
    maxpool::forward(pg, gpu, &q1, &c1, &p1, &a1i).unwrap();
    conv2
        .forward(pg, gpu, &p1, &v[2], Some(&v[3]), &c2, true)
        .unwrap();
    maxpool::forward(pg, gpu, &q2, &c2, &p2, &a2i).unwrap();
    // Linear layers: x · Wᵀ with W stored [out, in].
    let fc = [
        (&p2, 400, 120, &h1),
        (&h1, 120, 84, &h2),
        (&h2, 84, 10, &logits),
    ];
    for (i, &(inp, n_in, n_out, out)) in fc.iter().enumerate() {
        let epi = Epilogue {
            bias: Some((&v[5 + 2 * i], 0)),
            relu: i < 2,
            ..Default::default()
        };
        let w = Mat::new(&v[4 + 2 * i], n_out, n_in).transposed();
        let (a, c) = (Mat::new(inp, BATCH, n_in), Mat::new(out, BATCH, n_out));
        matmul::record(pg, gpu, &a, &w, &c, 1, epi).unwrap();
    }
    softmax_xent::forward(pg, gpu, &logits, &yt, &losses, &correct, BATCH, CLASSES).unwrap();

    let dlogits = z("dlogits", BATCH * 10);
    softmax_xent::backward(pg, gpu, &logits, &yt, &dlogits, BATCH, CLASSES, 1.0).unwrap();
    let (dh2, dh1, dp2) = (
        z("dh2", BATCH * 84),
        z("dh1", BATCH * 120),
        z("dp2", BATCH * 400),
    );
    let (dz2, dz1) = (z("dz2", BATCH * 84), z("dz1", BATCH * 120));
    // (input, its gradient, n_in, n_out, output gradient, layer)
    let back = [
        (&h2, &dh2, 84, 10, &dlogits, 2),
        (&h1, &dh1, 120, 84, &dz2, 1),
        (&p2, &dp2, 400, 120, &dz1, 0),
    ];
    for (inp, dinp, n_in, n_out, dout, layer) in back {
        let w = Mat::new(&v[4 + 2 * layer], n_out, n_in).transposed();
        let dw = Mat::new(&d[4 + 2 * layer], n_out, n_in).transposed();
        let (a, da) = (Mat::new(inp, BATCH, n_in), Mat::new(dinp, BATCH, n_in));
        let dc = Mat::new(dout, BATCH, n_out);
        matmul::backward(
            pg,
            gpu,
            &a,
            &w,
            &dc,
            1,
            Some((&da, false)),
            Some((&dw, false)),
        )
        .unwrap();
        bias::backward(pg, gpu, dout, &d[5 + 2 * layer], BATCH, n_out, false).unwrap();
        if layer == 2 {
            relu::backward(pg, gpu, &h2, &dh2, &dz2, false).unwrap();
        } else if layer == 1 {
            relu::backward(pg, gpu, &h1, &dh1, &dz1, false).unwrap();
        }
    }
    let (dc2, dc2_pre) = (z("dc2", s2.output_len()), z("dc2 pre", s2.output_len()));
    maxpool::backward(pg, gpu, &q2, &a2i, &dp2, &dc2, false).unwrap();
    relu::backward(pg, gpu, &c2, &dc2, &dc2_pre, false).unwrap();
    let dp1 = z("dp1", q1.output_len());
    let grads = ConvGrads {
        dx: Some((&dp1, false)),
        dw: Some((&d[2], false)),
        dbias: Some((&d[3], false)),
    };
    // On 8-lane subgroups both convolutions read their input directly and keep no patches.
    let x2 = (!conv2.keeps_patches(gpu)).then_some(&p1);
    conv2.backward(pg, gpu, x2, &v[2], &dc2_pre, grads).unwrap();
    let (dc1, dc1_pre) = (z("dc1", s1.output_len()), z("dc1 pre", s1.output_len()));
    maxpool::backward(pg, gpu, &q1, &a1i, &dp1, &dc1, false).unwrap();
    relu::backward(pg, gpu, &c1, &dc1, &dc1_pre, false).unwrap();
    let grads = ConvGrads {
        dx: None,
        dw: Some((&d[0], false)),
        dbias: Some((&d[1], false)),
    };
    let x1 = (!conv1.keeps_patches(gpu)).then_some(&xt);
    conv1.backward(pg, gpu, x1, &v[0], &dc1_pre, grads).unwrap();
    GpuLenet {
        prog,
        params,
        losses,
    }
}

/// Downloads every gradient slot.
fn gradients(gpu: &Gpu, params: &Params) -> Vec<Vec<f32>> {
    let all: Vec<f32> = gpu.read(&params.grads).unwrap();
    params
        .layout
        .slots
        .iter()
        .map(|s| all[s.offset..s.offset + s.len()].to_vec())
        .collect()
}

#[test]
fn lenet_gradients_match_the_cpu_reference() {
    let gpu = gpu();
    let mut g = rng(105);
    // PyTorch's default initialisation: U(±1/√fan_in) for weights and biases.
    let fan_in = [75, 75, 150, 150, 400, 400, 120, 120, 84, 84];
    let init: Vec<Vec<f64>> = LENET
        .iter()
        .zip(fan_in)
        .map(|((_, shape), f)| {
            let len = shape.iter().product();
            random(&mut g, len, 1.0 / (f as f64).sqrt())
        })
        .collect();
    let x = random(&mut g, BATCH * 3 * 32 * 32, 1.0);
    let labels = [3u32, 7];
    let (want_loss, want) = cpu_lenet(&init, &x, &labels, true);

    let net = gpu_lenet(gpu, &init, &x, &labels);
    net.prog.run(gpu).unwrap();
    let losses: Vec<f32> = gpu.read(&net.losses).unwrap();
    let loss = losses.iter().map(|&l| l as f64).sum::<f64>() / BATCH as f64;
    assert!(
        (loss - want_loss).abs() < 1e-5,
        "loss {loss} vs {want_loss}"
    );
    let got = gradients(gpu, &net.params);
    for (i, (name, _)) in LENET.iter().enumerate() {
        // Relative to the largest gradient of the tensor: f32 sums over many terms.
        let scale = want[i].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 1e-6, "{name}: gradient vanished");
        assert_close(
            &got[i],
            &want[i],
            tol::Tol {
                abs: 1e-4 * scale,
                rel: 1e-4,
            },
            name,
        );
    }

    // Spot checks of the analytic gradient by finite differences of the CPU loss.
    let mut p = init.clone();
    for (i, (name, _)) in LENET.iter().enumerate() {
        let len = init[i].len();
        for k in [0, len / 3, len - 1] {
            let orig = p[i][k];
            let fd = fd::central(fd::STEP, |delta| {
                p[i][k] = orig + delta;
                cpu_lenet(&p, &x, &labels, false).0
            });
            p[i][k] = orig;
            let what = format!("{name}[{k}] by finite differences");
            assert_close(
                &[got[i][k]],
                &[fd],
                tol::Tol {
                    abs: 1e-5,
                    rel: 1e-3,
                },
                &what,
            );
            assert_close(
                &[want[i][k] as f32],
                &[fd],
                tol::Tol {
                    abs: 1e-7,
                    rel: 1e-5,
                },
                &what,
            );
        }
    }

    // Replaying the recorded program gives the same gradients bit for bit: the scratch the
    // backward overwrites is rebuilt by the next forward, and no kernel uses atomics.
    net.prog.run(gpu).unwrap();
    assert_eq!(gradients(gpu, &net.params), got, "replay differs");
}
