//! A whole training step of a two-layer perceptron, recorded once into one program with
//! parameters and gradients in flat buffers, replayed step after step: one submission and
//! one read-back of the loss partials per step. Checked against an f64 CPU step.

use crate::common;

use crate::common::{f32s, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::{ParamLayout, Params, Program, ReadBack};
use etaprobe::ops::matmul::{self, Epilogue, Mat};
use etaprobe::ops::{bias, reduce, relu, sgd, softmax_xent};

#[test]
fn mlp_training_step_matches_cpu_and_learns() {
    let gpu = gpu();
    let mut g = rng(21);
    let (batch, inputs, hidden, classes) = (16, 10, 12, 3);
    let x = random(&mut g, batch * inputs, 1.0);
    let labels: Vec<u32> = (0..batch).map(|i| (i % classes) as u32).collect();
    let mut layout = ParamLayout::new();
    let w1 = layout.add("fc1.weight", &[inputs, hidden]);
    let b1 = layout.add("fc1.bias", &[hidden]);
    let w2 = layout.add("fc2.weight", &[hidden, classes]);
    let b2 = layout.add("fc2.bias", &[classes]);
    let params = Params::new(gpu, layout).unwrap();
    let init: Vec<Vec<f64>> = [
        (inputs * hidden, 0.5),
        (hidden, 0.1),
        (hidden * classes, 0.5),
        (classes, 0.1),
    ]
    .iter()
    .map(|&(n, s)| random(&mut g, n, s))
    .collect();
    params.upload_all(gpu, &init.iter().map(|v| f32s(v)).collect::<Vec<_>>());

    let xt = gpu.upload("x", &[batch * inputs], &f32s(&x)).unwrap();
    let yt = gpu.upload("labels", &[batch], &labels).unwrap();
    let h = gpu.zeros("h", &[batch * hidden]).unwrap();
    let logits = gpu.zeros("logits", &[batch * classes]).unwrap();
    let losses = gpu.zeros("losses", &[batch]).unwrap();
    let correct = gpu.zeros("correct", &[batch]).unwrap();
    let partials = gpu
        .zeros("partials", &[reduce::partial_count(batch)])
        .unwrap();
    let dlogits = gpu.zeros("dlogits", &[batch * classes]).unwrap();
    let dh = gpu.zeros("dh", &[batch * hidden]).unwrap();
    let dz = gpu.zeros("dz", &[batch * hidden]).unwrap();
    let lr_value = 0.5f32;
    let lr = gpu.upload("lr", &[1], &[lr_value]).unwrap();

    let mut step = Program::new();
    let (v1, v2) = (params.value(w1), params.value(w2));
    let (c1, c2) = (params.value(b1), params.value(b2));
    let xm = Mat::new(&xt, batch, inputs);
    let hm = Mat::new(&h, batch, hidden);
    let w1m = Mat::new(&v1, inputs, hidden);
    let w2m = Mat::new(&v2, hidden, classes);
    let lm = Mat::new(&logits, batch, classes);
    let relu_epi = Epilogue {
        bias: Some((&c1, 0)),
        relu: true,
        accumulate: false,
        ..Default::default()
    };
    matmul::record(&mut step, gpu, &xm, &w1m, &hm, 1, relu_epi).unwrap();
    let out_epi = Epilogue {
        bias: Some((&c2, 0)),
        relu: false,
        accumulate: false,
        ..Default::default()
    };
    matmul::record(&mut step, gpu, &hm, &w2m, &lm, 1, out_epi).unwrap();
    softmax_xent::forward(
        &mut step, gpu, &logits, &yt, &losses, &correct, batch, classes,
    )
    .unwrap();
    reduce::sum(&mut step, gpu, &losses, &partials).unwrap();
    softmax_xent::backward(&mut step, gpu, &logits, &yt, &dlogits, batch, classes, 1.0).unwrap();
    let (gw1, gw2) = (params.grad(w1), params.grad(w2));
    let (gb1, gb2) = (params.grad(b1), params.grad(b2));
    let dlm = Mat::new(&dlogits, batch, classes);
    let (dhm, gw2m) = (
        Mat::new(&dh, batch, hidden),
        Mat::new(&gw2, hidden, classes),
    );
    matmul::backward(
        &mut step,
        gpu,
        &hm,
        &w2m,
        &dlm,
        1,
        Some((&dhm, false)),
        Some((&gw2m, false)),
    )
    .unwrap();
    bias::backward(&mut step, gpu, &dlogits, &gb2, batch, classes, false).unwrap();
    relu::backward(&mut step, gpu, &h, &dh, &dz, false).unwrap();
    let gw1m = Mat::new(&gw1, inputs, hidden);
    matmul::backward(
        &mut step,
        gpu,
        &xm,
        &w1m,
        &Mat::new(&dz, batch, hidden),
        1,
        None,
        Some((&gw1m, false)),
    )
    .unwrap();
    bias::backward(&mut step, gpu, &dz, &gb1, batch, hidden, false).unwrap();
    sgd::step(&mut step, gpu, &params.values, &params.grads, &lr).unwrap();

    let readback = ReadBack::new(gpu, "loss", partials.len());
    let run_step = || {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        step.encode(&mut encoder);
        readback.copy_from(&mut encoder, &partials, 0);
        gpu.queue.submit([encoder.finish()]);
        reduce::combine(&readback.fetch::<f32>(gpu).unwrap()) / batch as f64
    };

    // One step against the CPU in f64.
    let first = run_step();
    let cpu_forward = |p: &[Vec<f64>]| {
        let h = cpu::relu(&cpu::bias_add(
            &cpu::matmul(&x, &p[0], batch, inputs, hidden),
            &p[1],
            batch,
            hidden,
        ));
        let z = cpu::bias_add(
            &cpu::matmul(&h, &p[2], batch, hidden, classes),
            &p[3],
            batch,
            classes,
        );
        (h, z)
    };
    let (hc, z) = cpu_forward(&init);
    let (l, _) = cpu::softmax_xent(&z, &labels, batch, classes);
    let want_loss = l.iter().sum::<f64>() / batch as f64;
    assert!(
        (first - want_loss).abs() < 1e-5,
        "loss {first} vs {want_loss}"
    );
    let dz = cpu::softmax_xent_backward(&z, &labels, batch, classes);
    let gw2c = cpu::matmul(
        &cpu::transpose(&hc, batch, hidden),
        &dz,
        hidden,
        batch,
        classes,
    );
    let gb2c = cpu::column_sums(&dz, batch, classes);
    let dhc = cpu::relu_backward(
        &hc,
        &cpu::matmul(
            &dz,
            &cpu::transpose(&init[2], hidden, classes),
            batch,
            classes,
            hidden,
        ),
    );
    let gw1c = cpu::matmul(
        &cpu::transpose(&x, batch, inputs),
        &dhc,
        inputs,
        batch,
        hidden,
    );
    let gb1c = cpu::column_sums(&dhc, batch, hidden);
    let after = params.download_all(gpu).unwrap();
    for (i, grad) in [gw1c, gb1c, gw2c, gb2c].iter().enumerate() {
        let want = cpu::sgd(&init[i], grad, lr_value as f64);
        common::assert_close(
            &after[i],
            &want,
            tol::GRADIENT,
            &format!("parameter slot {i} after one step"),
        );
    }

    // Replaying the same program keeps learning this batch.
    let mut last = first;
    for _ in 0..30 {
        last = run_step();
    }
    assert!(last < 0.5 * first, "loss did not fall: {first} -> {last}");
}
