//! ResNet-18 on the GPU against a plain f64 evaluation of the same layer graph: the loss,
//! every gradient by finite differences (BasicBlocks with and without projection, batch
//! norm, dropout), the running statistics, the evaluation mode, and the five-point probe
//! with batch statistics and the step's dropout mask, in one pass or one probe at a time.

use crate::common;
use crate::common::{assert_close, fd, gpu, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Params;
use etaprobe::models::{
    Add, AvgPool, BatchNorm, Convolution, Dropout, Layer, Linear, ModelKind, ModelOptions, Net,
    Plan, PROBES,
};
use rand::Rng;

const BN_EPS: f64 = 1e-5;
const MOMENTUM: f64 = 0.1;

/// ResNet-18 at 1/16 width (4 to 32 channels) on 3×8×8 images: every kind of block, small.
fn tiny(dropout: f32) -> Net {
    let opts = ModelOptions {
        dropout,
        width_mult: 1.0 / 16.0,
    };
    Net::build_with(ModelKind::Resnet18, [3, 8, 8], 5, opts).unwrap()
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Train,
    Eval,
}

/// (node, mean, variance) of one batch norm's batch.
type BatchStats = (usize, Vec<f64>, Vec<f64>);

/// Mean cross-entropy of the net in f64, and the batch statistics each batch norm saw.
#[allow(clippy::too_many_arguments)]
fn cpu_loss(
    net: &Net,
    w: &[Vec<f64>],
    buffers: &[Vec<f64>],
    x: &[f64],
    labels: &[u32],
    batch: usize,
    mode: Mode,
    masks: &[Option<Vec<f64>>],
) -> (f64, Vec<BatchStats>) {
    let mut acts: Vec<Vec<f64>> = Vec::new();
    let mut stats = Vec::new();
    for (i, node) in net.nodes.iter().enumerate() {
        let src = node.input.map_or(x, |s| acts[s].as_slice());
        let relu = |v: Vec<f64>, on: bool| if on { cpu::relu(&v) } else { v };
        let y = match &node.layer {
            Layer::Conv2d(Convolution {
                geom,
                relu: r,
                weight,
                bias,
            }) => {
                let (y, _) = cpu::conv2d(
                    src,
                    [batch, geom.in_c, geom.in_h, geom.in_w],
                    &w[*weight],
                    [geom.out_c, geom.in_c, geom.kernel, geom.kernel],
                    bias.map(|b| w[b].as_slice()),
                    geom.stride,
                    geom.pad,
                );
                relu(y, *r)
            }
            Layer::BatchNorm(BatchNorm {
                channels,
                hw,
                relu: r,
                weight,
                bias,
                running_mean,
                running_var,
            }) => {
                let (mean, var) = match mode {
                    Mode::Train => cpu::channel_stats(src, batch, *channels, *hw),
                    Mode::Eval => (
                        buffers[*running_mean].clone(),
                        buffers[*running_var].clone(),
                    ),
                };
                let y = cpu::batch_norm_with(
                    src,
                    batch,
                    *channels,
                    *hw,
                    &w[*weight],
                    &w[*bias],
                    &mean,
                    &var,
                    BN_EPS,
                );
                stats.push((i, mean, var));
                relu(y, *r)
            }
            Layer::Add(Add { other, relu: r, .. }) => {
                let y: Vec<f64> = src.iter().zip(&acts[*other]).map(|(a, b)| a + b).collect();
                relu(y, *r)
            }
            Layer::AvgPool(AvgPool { channels, hw }) => {
                cpu::global_avg_pool(src, batch * channels, *hw)
            }
            Layer::Dropout(Dropout { .. }) => match mode {
                Mode::Train => {
                    let m = masks[i].as_ref().expect("a mask per dropout layer");
                    src.iter().zip(m).map(|(a, b)| a * b).collect()
                }
                Mode::Eval => src.to_vec(),
            },
            Layer::Linear(Linear {
                inputs,
                outputs,
                relu: r,
                weight,
                bias,
            }) => {
                let wt = cpu::transpose(&w[*weight], *outputs, *inputs);
                let y = cpu::matmul(src, &wt, batch, *inputs, *outputs);
                relu(cpu::bias_add(&y, &w[*bias], batch, *outputs), *r)
            }
            Layer::MaxPool2(_) => unreachable!("ResNet has no max-pooling"),
        };
        acts.push(y);
    }
    let (losses, _) = cpu::softmax_xent(acts.last().unwrap(), labels, batch, net.outputs());
    (losses.iter().sum::<f64>() / batch as f64, stats)
}

fn f64s(v: &[Vec<f32>]) -> Vec<Vec<f64>> {
    v.iter()
        .map(|s| s.iter().map(|&x| x as f64).collect())
        .collect()
}

/// The dropout masks the GPU draws for (seed, step), per node.
fn masks(net: &Net, batch: usize, seed: u64, step: u64) -> Vec<Option<Vec<f64>>> {
    let mixed = (seed ^ (seed >> 32)) as u32;
    net.nodes
        .iter()
        .map(|n| match n.layer {
            Layer::Dropout(Dropout { p, size }) => Some(
                cpu::dropout_mask(mixed, step as u32, batch * size, p)
                    .into_iter()
                    .map(f64::from)
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

struct Setup {
    net: Net,
    params: Params,
    x: Vec<f64>,
    labels: Vec<u32>,
    batch: usize,
}

fn setup(dropout: f32, batch: usize, seed: u64) -> Setup {
    let gpu = gpu();
    let net = tiny(dropout);
    let params = Params::with_buffers(gpu, net.layout.clone(), net.buffers.clone()).unwrap();
    let mut init = net.init(seed);
    // Batch-norm affine parameters away from 1 and 0, so that their gradients matter.
    let mut r = rng(seed + 1);
    for node in &net.nodes {
        if let Layer::BatchNorm(BatchNorm { weight, bias, .. }) = node.layer {
            for v in &mut init[weight] {
                *v = r.random_range(0.5..1.5);
            }
            for v in &mut init[bias] {
                *v = r.random_range(-0.3..0.3);
            }
        }
    }
    params.upload_all(gpu, &init);
    let mut stats = net.init_buffers();
    for s in &mut stats {
        for v in s.iter_mut() {
            *v += r.random_range(0.0..0.5);
        }
    }
    params.upload_buffers(gpu, &stats);
    let x = common::random(&mut r, batch * net.sample_size(), 1.0);
    let labels = (0..batch).map(|_| r.random_range(0..5u32)).collect();
    Setup {
        net,
        params,
        x,
        labels,
        batch,
    }
}

#[test]
fn resnet_gradients_match_finite_differences_of_the_f64_graph() {
    let gpu = gpu();
    let s = setup(0.3, 3, 5);
    let plan = Plan::new(gpu, &s.net, &s.params, s.batch, None).unwrap();
    let (seed, step) = (11u64, 4u64);
    plan.write_batch(gpu, &common::f32s(&s.x), &s.labels, &[]);
    plan.set_dropout_seed(gpu, seed, step);
    let w = f64s(&s.params.download_all(gpu).unwrap());
    let buffers = f64s(&s.params.download_buffers(gpu).unwrap());
    let mut e = gpu.device.create_command_encoder(&Default::default());
    plan.forward.encode(&mut e);
    plan.backward.encode(&mut e);
    plan.copy_outputs(&mut e);
    let sub = gpu.queue.submit([e.finish()]);
    let out = plan.fetch_outputs_after(gpu, Some(sub)).unwrap();
    let m = masks(&s.net, s.batch, seed, step);
    let (want, stats) = cpu_loss(
        &s.net,
        &w,
        &buffers,
        &s.x,
        &s.labels,
        s.batch,
        Mode::Train,
        &m,
    );
    assert!(
        (out.loss - want).abs() <= 1e-4 * want.abs(),
        "loss {} against f64 {want}",
        out.loss
    );

    // The running statistics moved once, as PyTorch moves them.
    let after = f64s(&s.params.download_buffers(gpu).unwrap());
    for (i, mean, var) in &stats {
        let Layer::BatchNorm(BatchNorm {
            running_mean,
            running_var,
            hw,
            ..
        }) = s.net.nodes[*i].layer
        else {
            unreachable!()
        };
        let (rm, rv) = cpu::batch_norm_running(
            &buffers[running_mean],
            &buffers[running_var],
            mean,
            var,
            s.batch * hw,
            MOMENTUM,
        );
        let got = |t: &[f64]| t.iter().map(|&v| v as f32).collect::<Vec<_>>();
        assert_close(
            &got(&after[running_mean]),
            &rm,
            tol::GRADIENT,
            "running mean",
        );
        assert_close(&got(&after[running_var]), &rv, tol::GRADIENT, "running var");
    }

    // Finite differences of the f64 loss on a sample of every parameter tensor.
    let grads = gpu.read::<f32>(&s.params.grads).unwrap();
    let mut r = rng(99);
    let mut checked = 0;
    for (slot, info) in s.net.layout.slots.iter().enumerate() {
        for _ in 0..3 {
            let j = r.random_range(0..info.len());
            let loss_at = |delta: f64| {
                let mut wp = w.clone();
                wp[slot][j] += delta;
                cpu_loss(
                    &s.net,
                    &wp,
                    &buffers,
                    &s.x,
                    &s.labels,
                    s.batch,
                    Mode::Train,
                    &m,
                )
                .0
            };
            let fd = fd::central(fd::NETWORK_STEP, loss_at);
            let got = grads[info.offset + j] as f64;
            assert!(
                (got - fd).abs() <= 2e-4 + 2e-2 * fd.abs(),
                "{}[{j}]: GPU gradient {got}, finite differences {fd}",
                info.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 3 * 60, "checked {checked} gradients");
}

#[test]
fn evaluation_mode_uses_the_running_statistics_and_no_dropout() {
    let gpu = gpu();
    let s = setup(0.5, 4, 6);
    let plan = Plan::new(gpu, &s.net, &s.params, s.batch, None).unwrap();
    plan.write_batch(gpu, &common::f32s(&s.x), &s.labels, &[]);
    let before = s.params.download_buffers(gpu).unwrap();
    let w = f64s(&s.params.download_all(gpu).unwrap());
    plan.eval_forward().run(gpu).unwrap();
    let mut e = gpu.device.create_command_encoder(&Default::default());
    plan.copy_outputs(&mut e);
    gpu.queue.submit([e.finish()]);
    let out = plan.fetch_outputs(gpu).unwrap();
    let (want, _) = cpu_loss(
        &s.net,
        &w,
        &f64s(&before),
        &s.x,
        &s.labels,
        s.batch,
        Mode::Eval,
        &[],
    );
    assert!(
        (out.loss - want).abs() <= 1e-4 * want.abs(),
        "eval loss {} against f64 {want}",
        out.loss
    );
    assert_eq!(
        before,
        s.params.download_buffers(gpu).unwrap(),
        "evaluation changed the running statistics"
    );
}

/// The five probe losses of a newton step, with the probes in one pass (`chunk` 5) or
/// one at a time (1).
fn probe_losses(s: &Setup, chunk: usize, steps: [f32; PROBES]) -> [f64; PROBES] {
    let gpu = gpu();
    let weights = gpu
        .zeros("probe weights", &[chunk, s.params.values.len()])
        .unwrap();
    let plan = Plan::new(gpu, &s.net, &s.params, s.batch, Some(&weights)).unwrap();
    assert_eq!(plan.probe.as_ref().unwrap().chunk, chunk);
    plan.write_batch(gpu, &common::f32s(&s.x), &s.labels, &[]);
    plan.set_dropout_seed(gpu, 3, 7);
    let stats = s.params.buffers.clone();
    let saved = gpu.read::<f32>(&stats).unwrap();
    let probe = plan.probe.as_ref().unwrap();
    gpu.write(&probe.steps, &steps);
    let mut e = gpu.device.create_command_encoder(&Default::default());
    plan.forward.encode(&mut e);
    plan.backward.encode(&mut e);
    gpu.queue.submit([e.finish()]);
    let after_step = gpu.read::<f32>(&stats).unwrap();
    let mut e = gpu.device.create_command_encoder(&Default::default());
    probe.program.encode(&mut e);
    probe.copy_outputs(&mut e);
    let sub = gpu.queue.submit([e.finish()]);
    let f = probe.fetch(gpu, Some(sub)).unwrap();
    assert_eq!(
        after_step,
        gpu.read::<f32>(&stats).unwrap(),
        "the probes changed the running statistics"
    );
    // Put the statistics back for the next caller.
    gpu.write(&stats, &saved);
    f.try_into().unwrap()
}

#[test]
fn probes_use_batch_statistics_and_the_steps_dropout_mask_in_any_chunking() {
    let gpu = gpu();
    let s = setup(0.3, 2, 8);
    let steps = [0.02f32, 0.05, 0.1, 0.15, 0.2];
    let w = f64s(&s.params.download_all(gpu).unwrap());
    let buffers = f64s(&s.params.download_buffers(gpu).unwrap());
    let all = probe_losses(&s, PROBES, steps);
    // Gradient at w from the same (training-mode) pass, for the CPU's perturbed weights.
    let g = gpu.read::<f32>(&s.params.grads).unwrap();
    let one = probe_losses(&s, 1, steps);
    let m = masks(&s.net, s.batch, 3, 7);
    let loss_at = |w: &[Vec<f64>]| {
        let mode = Mode::Train;
        cpu_loss(&s.net, w, &buffers, &s.x, &s.labels, s.batch, mode, &m).0
    };
    for (k, &step) in steps.iter().enumerate() {
        let wk: Vec<Vec<f64>> = s
            .net
            .layout
            .slots
            .iter()
            .zip(&w)
            .map(|(info, v)| {
                v.iter()
                    .enumerate()
                    .map(|(j, &x)| {
                        // The GPU forms w − s·g in f32.
                        (x as f32 - step * g[info.offset + j]) as f64
                    })
                    .collect()
            })
            .collect();
        let want = loss_at(&wk);
        // With two images per batch norm, the loss can hinge on the sign of a difference
        // of two nearly equal activations; there, f32 rounding alone moves it far. The
        // spread of the f64 loss under weight noise of a few f32 ulps measures that.
        let spread = (0..3u64)
            .map(|trial| {
                let mut r = rng(1000 + trial);
                let noisy: Vec<Vec<f64>> = wk
                    .iter()
                    .map(|v| {
                        v.iter()
                            .map(|&x| x * (1.0 + 3e-7 * r.random_range(-1.0..1.0)))
                            .collect()
                    })
                    .collect();
                (loss_at(&noisy) - want).abs()
            })
            .fold(0.0, f64::max);
        for (what, got) in [("five per pass", all[k]), ("one per pass", one[k])] {
            assert!(
                // The first layer by linearity rounds differently from a pass at w − s·g.
                (got - want).abs() <= 1e-5 + 2e-4 * want.abs() + 4.0 * spread,
                "probe {k} ({what}): {got} against f64 {want} (spread under f32 noise {spread:e})"
            );
        }
    }
}

/// ResNet-18 as published (11M parameters) at batch 2: a training step and its probes run
/// on the adapter, and the probe at η equals the step's loss.
#[test]
fn full_size_resnet18_trains_and_probes_at_batch_two() {
    let gpu = gpu();
    let net = Net::build(ModelKind::Resnet18, [3, 32, 32], 10).unwrap();
    assert_eq!(
        net.layout.count(),
        11_173_962,
        "torchvision's parameter count"
    );
    let params = Params::with_buffers(gpu, net.layout.clone(), net.buffers.clone()).unwrap();
    params.upload_all(gpu, &net.init(1));
    params.upload_buffers(gpu, &net.init_buffers());
    let chunk = etaprobe::models::probe_chunk(gpu, &net, 2).unwrap();
    let weights = gpu
        .zeros("probe weights", &[chunk, params.values.len()])
        .unwrap();
    let plan = Plan::new(gpu, &net, &params, 2, Some(&weights)).unwrap();
    let mut r = rng(3);
    let x = common::f32s(&common::random(&mut r, 2 * 3 * 32 * 32, 1.0));
    plan.write_batch(gpu, &x, &[1, 7], &[]);
    let probe = plan.probe.as_ref().unwrap();
    gpu.write(&probe.steps, &[0.0f32, 0.0, 0.0, 1e-3, 2e-3]);
    let mut e = gpu.device.create_command_encoder(&Default::default());
    plan.forward.encode(&mut e);
    plan.backward.encode(&mut e);
    probe.program.encode(&mut e);
    plan.copy_outputs(&mut e);
    probe.copy_outputs(&mut e);
    let sub = gpu.queue.submit([e.finish()]);
    let out = plan.fetch_outputs_after(gpu, Some(sub.clone())).unwrap();
    let f = probe.fetch(gpu, Some(sub)).unwrap();
    assert!(out.loss.is_finite() && out.loss > 0.0);
    for (k, fk) in f.iter().enumerate().take(3) {
        assert!(
            (fk - out.loss).abs() <= 1e-5 * out.loss,
            "probe {k} at η = 0: {fk} against the step's loss {}",
            out.loss
        );
    }
    // A small step along the gradient lowers the batch loss.
    assert!(
        f[4] < f[0],
        "f(2e-3) = {} is not below f(0) = {}",
        f[4],
        f[0]
    );
    let g = gpu.read::<f32>(&params.grads).unwrap();
    assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|&v| v != 0.0));
}
