//! The real data sets, under `ETAPROBE_DATA` (the folder that holds them): counts and
//! training statistics. Ignored by default; run with
//! `cargo test --release --test data_real -- --ignored --nocapture`.

use std::path::PathBuf;
use std::time::Instant;

use etaprobe::data::{DataArgs, Dataset, DatasetKind};

pub(crate) fn data_root() -> PathBuf {
    std::env::var_os("ETAPROBE_DATA")
        .map(PathBuf::from)
        .expect("set ETAPROBE_DATA to the folder that holds the real data sets")
}

fn load(kind: DatasetKind) -> Dataset {
    let cache = tempfile::tempdir().expect("temporary folder");
    let args = DataArgs {
        dataset: kind,
        data: Some(data_root()),
        cache_dir: Some(cache.path().to_path_buf()),
        ..DataArgs::default()
    };
    let started = Instant::now();
    let data = args.load(0).unwrap_or_else(|e| panic!("{e}"));
    let n = &data.normalization;
    println!(
        "{}: {} train + {} test from {} in {:.2} s; shape {:?}; {} classes\n  train mean {:?}\n  train std  {:?}",
        kind.title(),
        data.train.len(),
        data.test.len(),
        data.source.display(),
        started.elapsed().as_secs_f64(),
        data.input_shape,
        data.num_classes,
        n.mean,
        n.std
    );
    data
}

#[test]
#[ignore = "needs the real data sets"]
fn boston_housing() {
    let data = load(DatasetKind::Boston);
    assert_eq!((data.train.len(), data.test.len()), (404, 102));
    assert_eq!(data.input_shape, [13, 1, 1]);
    let medv: Vec<f32> = data
        .train
        .values()
        .unwrap()
        .iter()
        .chain(data.test.values().unwrap())
        .copied()
        .collect();
    let mean = medv.iter().map(|&v| v as f64).sum::<f64>() / medv.len() as f64;
    println!("  medv mean over all 506 rows {mean:.3}");
    assert!((mean - 22.53).abs() < 0.01);
}

#[test]
#[ignore = "needs the real data sets"]
fn fashion_mnist() {
    let data = load(DatasetKind::FashionMnist);
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    assert_eq!(data.input_shape, [1, 28, 28]);
    let mean_pixel = data.normalization.mean[0] as f64 * 255.0;
    println!("  mean pixel {mean_pixel:.2} / 255");
    assert!((mean_pixel - 72.94).abs() < 0.01);
}

#[test]
#[ignore = "needs the real data sets"]
fn cifar10_jpeg() {
    let data = load(DatasetKind::Cifar10);
    assert_eq!((data.train.len(), data.test.len()), (50_000, 10_000));
    assert_eq!(data.input_shape, [3, 32, 32]);
    assert_eq!(data.class_names[0], "airplane");
    for (got, want) in data.normalization.mean.iter().zip([0.491, 0.482, 0.447]) {
        assert!((got - want).abs() < 0.01, "{got} vs {want}");
    }
}
