//! Shared helpers of the GPU tests: one device per test binary, seeded random data,
//! tolerance checks and finite differences.
#![allow(dead_code)]

pub mod fd;
pub mod tol;

use std::sync::OnceLock;

use etaprobe::gpu::Gpu;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tol::Tol;

pub fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| {
        Gpu::open(None).expect("the tests need a wgpu adapter (mesa-vulkan-drivers)")
    })
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Values in [-scale, scale), exactly representable in f32.
pub fn random(rng: &mut ChaCha8Rng, len: usize, scale: f64) -> Vec<f64> {
    (0..len)
        .map(|_| (rng.random::<f64>() * 2.0 - 1.0) * scale)
        .map(|v| v as f32 as f64)
        .collect()
}

pub fn f32s(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

/// Asserts |got − want| ≤ abs + rel·|want| element-wise.
pub fn assert_close(got: &[f32], want: &[f64], tol: Tol, what: &str) {
    let Tol { abs, rel } = tol;
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= abs + rel * w.abs(),
            "{what}: element {i}: got {g}, want {w} (error {err:.3e}, tolerance {abs:.1e} + {rel:.1e}·|want|)"
        );
    }
}

/// Runs the etaprobe binary without the environment's data or adapter choice.
pub fn etaprobe(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(args)
        .env_remove("ETAPROBE_DATA")
        .env_remove("ETAPROBE_ADAPTER")
        .output()
        .expect("run etaprobe")
}

/// Asserts that a run of the binary succeeded, showing its stderr when not.
pub fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "etaprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts that a run of the binary refused its input (exit 2) saying `says`.
pub fn refused(out: &std::process::Output, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(says), "expected {says:?} in: {stderr}");
}

/// A generated data set of `kind` in a temporary folder (kept alive by the returned guard).
pub fn fake(
    kind: etaprobe::data::DatasetKind,
    train: usize,
    test: usize,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = etaprobe::data::synth::write_fake_dataset(kind, dir.path(), train, test, 7).unwrap();
    (dir, path)
}

/// The state file of the checkpoint in run directory `dir` (the newest: they are named by
/// their step).
pub fn state_file(dir: &std::path::Path) -> etaprobe::rundir::checkpoint::Checkpoint {
    let newest = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("checkpoint.state-")
        })
        .max()
        .expect("a state file");
    etaprobe::rundir::checkpoint::load(newest).unwrap()
}

/// A path as a command-line argument.
pub fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// The words that start a `train` of logistic regression on the Fashion-MNIST at `data`.
pub fn logreg_fm(data: &std::path::Path) -> [&str; 7] {
    [
        "train",
        "--model",
        "logreg",
        "--dataset",
        "fashion-mnist",
        "--data",
        s(data),
    ]
}
