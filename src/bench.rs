//! `etaprobe bench`: throughput of the kernels, measured on the chosen adapter.

use std::time::Instant;

use crate::gpu::{Gpu, GpuError, Program};
use crate::ops::matmul::{self, Epilogue, Mat};

/// One matmul shape to time: `m × k` times `k × n`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MatmulResult {
    pub label: String,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub ms: f64,
    pub gflops: f64,
}

/// The square sizes of the issue and the shapes LeNet-5 and ResNet-18 use at batch 256
/// (convolutions as implicit GEMMs: rows = batch·out_h·out_w, k = in_c·kh·kw).
pub fn matmul_shapes() -> Vec<(String, usize, usize, usize)> {
    let mut v: Vec<(String, usize, usize, usize)> = [256, 512, 1024, 2048]
        .iter()
        .map(|&s| (format!("square {s}"), s, s, s))
        .collect();
    v.extend([
        ("lenet conv1 (b256)".to_string(), 256 * 28 * 28, 6, 75),
        ("lenet conv2 (b256)".to_string(), 256 * 10 * 10, 16, 150),
        ("lenet fc1 (b256)".to_string(), 256, 120, 400),
        ("lenet fc2 (b256)".to_string(), 256, 84, 120),
        (
            "resnet18 layer1 conv (b32)".to_string(),
            32 * 32 * 32,
            64,
            576,
        ),
        (
            "resnet18 layer3 conv (b32)".to_string(),
            32 * 8 * 8,
            256,
            2304,
        ),
        (
            "resnet18 layer4 conv (b32)".to_string(),
            32 * 4 * 4,
            512,
            4608,
        ),
    ]);
    v
}

/// Times `C = A·B` for each shape: one warm-up, then enough repetitions for ~0.5 s.
pub fn bench_matmul(
    gpu: &Gpu,
    shapes: &[(String, usize, usize, usize)],
) -> Result<Vec<MatmulResult>, GpuError> {
    let mut out = Vec::new();
    for (label, m, n, k) in shapes {
        let (m, n, k) = (*m, *n, *k);
        let a = gpu.upload("a", &[m, k], &pseudo_random(m * k, 1))?;
        let b = gpu.upload("b", &[k, n], &pseudo_random(k * n, 2))?;
        let c = gpu.zeros("c", &[m, n])?;
        let mut prog = Program::new();
        matmul::record(
            &mut prog,
            gpu,
            &Mat::new(&a, m, k),
            &Mat::new(&b, k, n),
            &Mat::new(&c, m, n),
            1,
            Epilogue::default(),
        )?;
        prog.run(gpu)?;
        let t = Instant::now();
        prog.run(gpu)?;
        let once = t.elapsed().as_secs_f64();
        let reps = ((0.5 / once.max(1e-6)) as usize).clamp(1, 200);
        let t = Instant::now();
        for _ in 0..reps {
            prog.submit(gpu);
        }
        gpu.wait()?;
        let s = t.elapsed().as_secs_f64() / reps as f64;
        out.push(MatmulResult {
            label: label.clone(),
            m,
            n,
            k,
            ms: s * 1e3,
            gflops: 2.0 * (m * n * k) as f64 / s / 1e9,
        });
    }
    Ok(out)
}

/// Deterministic values in [-1, 1) without a generator dependency in the hot loop.
fn pseudo_random(len: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}
