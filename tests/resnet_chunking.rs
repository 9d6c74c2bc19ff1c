//! Convolutions split over the batch (when their scratch would exceed the binding limit)
//! and sharing one scratch compute the same step as the unsplit ones. A test binary of its
//! own: it sets the process-wide ETAPROBE_CONV_SCRATCH_BYTES.

mod common;

use common::{gpu, rng};
use etaprobe::gpu::Params;
use etaprobe::models::{ModelKind, ModelOptions, Net, Plan, PROBES};

#[test]
fn batch_chunked_shared_scratch_convolutions_give_the_same_step() {
    let gpu = gpu();
    let opts = ModelOptions {
        dropout: 0.2,
        width_mult: 1.0 / 16.0,
    };
    let net = Net::build_with(ModelKind::Resnet18, [3, 8, 8], 5, opts).unwrap();
    let params = Params::with_buffers(gpu, net.layout.clone(), net.buffers.clone()).unwrap();
    params.upload_all(gpu, &net.init(2));
    let batch = 5;
    let mut r = rng(4);
    let x = common::f32s(&common::random(&mut r, batch * net.sample_size(), 1.0));
    let labels = [0u32, 1, 2, 3, 4];
    let weights = gpu
        .zeros("probe weights", &[PROBES, params.values.len()])
        .unwrap();
    let run = |plan: &Plan| {
        params.upload_buffers(gpu, &net.init_buffers());
        plan.write_batch(gpu, &x, &labels, &[]);
        plan.set_dropout_seed(gpu, 1, 2);
        let probe = plan.probe.as_ref().unwrap();
        gpu.write(&probe.steps, &[0.01f32, 0.02, 0.03, 0.04, 0.05]);
        let mut e = gpu.device.create_command_encoder(&Default::default());
        plan.forward.encode(&mut e);
        plan.backward.encode(&mut e);
        probe.program.encode(&mut e);
        plan.copy_outputs(&mut e);
        probe.copy_outputs(&mut e);
        let sub = gpu.queue.submit([e.finish()]);
        let out = plan.fetch_outputs_after(gpu, Some(sub.clone())).unwrap();
        let f = probe.fetch(gpu, Some(sub)).unwrap();
        let g = gpu.read::<f32>(&params.grads).unwrap();
        let stats = gpu.read::<f32>(&params.buffers).unwrap();
        (out.loss, f, g, stats)
    };
    let whole = Plan::new(gpu, &net, &params, batch, Some(&weights)).unwrap();
    let a = run(&whole);
    // The stem's patches, padded to 64 rows, take 16 KiB per image: chunks of 2, 2 and 1.
    std::env::set_var("ETAPROBE_CONV_SCRATCH_BYTES", "40000");
    let chunked = Plan::new(gpu, &net, &params, batch, Some(&weights)).unwrap();
    std::env::remove_var("ETAPROBE_CONV_SCRATCH_BYTES");
    let b = run(&chunked);
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-5 * (1.0 + x.abs());
    assert!(close(a.0, b.0), "loss {} against {}", a.0, b.0);
    for k in 0..PROBES {
        assert!(
            close(a.1[k], b.1[k]),
            "probe {k}: {} against {}",
            a.1[k],
            b.1[k]
        );
    }
    let scale = a.2.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.2.iter().zip(&b.2).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * scale,
            "gradient {i}: {x} unchunked, {y} chunked"
        );
    }
    for (i, (x, y)) in a.3.iter().zip(&b.3).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * (1.0 + x.abs()),
            "statistic {i}: {x} against {y}"
        );
    }
}
