//! The batch loader: splits, normalisation, shuffling, batching, augmentation, resuming.

use std::path::Path;

use etaprobe::data::synth::write_fake_dataset;
use etaprobe::data::{
    augment_params, epoch_order, Batch, Dataset, DatasetKind, LoadOptions, Which, AUGMENT_PAD,
};

fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("etaprobe-loader-")
        .tempdir()
        .expect("temporary folder")
}

fn fake(kind: DatasetKind, train: usize, test: usize) -> Dataset {
    fake_with(kind, train, test, &LoadOptions::default())
}

fn fake_with(kind: DatasetKind, train: usize, test: usize, options: &LoadOptions) -> Dataset {
    let dir = temp();
    let path = write_fake_dataset(kind, dir.path(), train, test, 42).unwrap();
    Dataset::open(kind, &path, options).unwrap()
}

fn boston(dir: &Path, rows: usize, split_seed: u64) -> Dataset {
    let path = write_fake_dataset(DatasetKind::Boston, dir, rows, 0, 42).unwrap();
    Dataset::open(
        DatasetKind::Boston,
        &path,
        &LoadOptions {
            split_seed,
            ..LoadOptions::default()
        },
    )
    .unwrap()
}

fn all_samples(batches: impl Iterator<Item = Batch>) -> Vec<u32> {
    batches.flat_map(|b| b.samples).collect()
}

#[test]
fn seeded_split_is_deterministic_and_seeds_differ() {
    let dir = temp();
    let a = boston(dir.path(), 100, 1);
    let b = boston(dir.path(), 100, 1);
    let c = boston(dir.path(), 100, 2);
    assert_eq!((a.train.len(), a.test.len()), (80, 20));
    assert_eq!(a.train, b.train);
    assert_eq!(a.test, b.test);
    assert_ne!(a.test.values(), c.test.values());
}

#[test]
fn standardisation_uses_train_statistics_only() {
    let dir = temp();
    let data = boston(dir.path(), 60, 3);
    let train = data.train.features().unwrap();
    let test = data.test.features().unwrap();
    let column_mean = |rows: &[f32], j: usize| {
        let column: Vec<f64> = rows.chunks_exact(13).map(|r| r[j] as f64).collect();
        column.iter().sum::<f64>() / column.len() as f64
    };
    for j in 0..13 {
        let mean = column_mean(train, j);
        assert!((data.normalization.mean[j] as f64 - mean).abs() < 1e-4 * mean.abs().max(1.0));
        let all_mean = (column_mean(train, j) * 48.0 + column_mean(test, j) * 12.0) / 60.0;
        assert_ne!(
            data.normalization.mean[j] as f64, all_mean,
            "feature {j} used the test rows"
        );
    }
    // Standardised training columns have mean 0 and (population) std 1; test columns are
    // shifted by the same train statistics, so they do not.
    let train_x: Vec<f32> = all_batches_x(data.ordered_batches(Which::Train, 7).unwrap());
    let test_x: Vec<f32> = all_batches_x(data.test_batches(7).unwrap());
    for j in 0..13 {
        let m = column_mean(&train_x, j);
        let var = train_x
            .chunks_exact(13)
            .map(|r| (r[j] as f64 - m).powi(2))
            .sum::<f64>()
            / 48.0;
        assert!(m.abs() < 1e-5, "feature {j}: train mean {m}");
        assert!(
            (var - 1.0).abs() < 1e-4,
            "feature {j}: train variance {var}"
        );
        let expected: Vec<f32> = test
            .chunks_exact(13)
            .map(|r| (r[j] - data.normalization.mean[j]) / data.normalization.std[j])
            .collect();
        let got: Vec<f32> = test_x.chunks_exact(13).map(|r| r[j]).collect();
        for (e, g) in expected.iter().zip(&got) {
            assert!((e - g).abs() < 1e-5);
        }
    }
    // Targets keep their units.
    let targets: Vec<f32> = data
        .test_batches(100)
        .unwrap()
        .flat_map(|b| b.y_value)
        .collect();
    assert_eq!(&targets[..], data.test.values().unwrap());
}

fn all_batches_x(batches: impl Iterator<Item = Batch>) -> Vec<f32> {
    batches.flat_map(|b| b.x).collect()
}

#[test]
fn shuffle_is_a_reproducible_permutation_that_changes_with_epoch_and_seed() {
    let data = fake(DatasetKind::Cifar10, 50, 5);
    let first = all_samples(data.train_batches(8, 5, 0, 0, false, false).unwrap());
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..50).collect::<Vec<u32>>());
    assert_ne!(first, sorted, "not shuffled");
    assert_eq!(
        first,
        all_samples(data.train_batches(8, 5, 0, 0, false, false).unwrap())
    );
    assert_eq!(first, epoch_order(50, 5, 0));
    assert_ne!(first, epoch_order(50, 5, 1));
    assert_ne!(first, epoch_order(50, 6, 0));
    // Labels travel with their samples.
    for batch in data.train_batches(8, 5, 0, 0, false, false).unwrap() {
        let labels: Vec<u32> = batch
            .samples
            .iter()
            .map(|&k| data.train.labels().unwrap()[k as usize])
            .collect();
        assert_eq!(batch.y_class, labels);
        assert!(batch.y_value.is_empty());
    }
}

#[test]
fn drop_last_versus_keep() {
    let data = fake(DatasetKind::Cifar10, 23, 5);
    assert_eq!(data.batches_per_epoch(5, false), 5);
    assert_eq!(data.batches_per_epoch(5, true), 4);
    let kept: Vec<Batch> = data
        .train_batches(5, 1, 0, 0, false, false)
        .unwrap()
        .collect();
    assert_eq!(
        kept.iter().map(|b| b.len).collect::<Vec<_>>(),
        [5, 5, 5, 5, 3]
    );
    assert_eq!(kept[4].x.len(), 3 * 3072);
    assert_eq!(
        kept.iter().map(|b| b.index).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    let dropped: Vec<Batch> = data
        .train_batches(5, 1, 0, 0, true, false)
        .unwrap()
        .collect();
    assert_eq!(
        dropped.iter().map(|b| b.len).collect::<Vec<_>>(),
        [5, 5, 5, 5]
    );
    assert_eq!(dropped[..], kept[..4]);
    let iterator = data.train_batches(5, 1, 0, 0, true, false).unwrap();
    assert_eq!(iterator.len(), 4);
    // Nothing left to make an epoch from: a clear error rather than an empty epoch.
    let error = data
        .train_batches(24, 1, 0, 0, true, false)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("batch size 24 exceeds the 23 training samples"),
        "{error}"
    );
    assert!(data.train_batches(0, 1, 0, 0, false, false).is_err());
}

#[test]
fn per_channel_normalisation_from_train_pixels() {
    let data = fake(DatasetKind::Cifar10, 40, 10);
    let pixels = data.train.pixels().unwrap();
    for c in 0..3 {
        let values: Vec<f64> = pixels
            .chunks_exact(3072)
            .flat_map(|s| {
                s[c * 1024..(c + 1) * 1024]
                    .iter()
                    .map(|&p| p as f64 / 255.0)
            })
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let std =
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
        assert!(
            (data.normalization.mean[c] as f64 - mean).abs() < 1e-6,
            "channel {c}"
        );
        assert!(
            (data.normalization.std[c] as f64 - std).abs() < 1e-6,
            "channel {c}"
        );
    }
    // The generated channels differ by 40 grey levels in mean.
    assert!(data.normalization.mean[1] - data.normalization.mean[0] > 0.1);
    // Test batches use the train statistics.
    let batch = data.test_batches(4).unwrap().next().unwrap();
    let raw = &data.test.pixels().unwrap()[..3072];
    for (i, (&x, &p)) in batch.x[..3072].iter().zip(raw).enumerate() {
        let c = i / 1024;
        let expected = (p as f32 / 255.0 - data.normalization.mean[c]) / data.normalization.std[c];
        assert!((x - expected).abs() < 1e-5);
    }
}

#[test]
fn test_batches_are_in_order_and_keep_the_last_partial_batch() {
    let data = fake(DatasetKind::FashionMnist, 10, 11);
    let batches: Vec<Batch> = data.test_batches(4).unwrap().collect();
    assert_eq!(batches.iter().map(|b| b.len).collect::<Vec<_>>(), [4, 4, 3]);
    assert_eq!(
        all_samples(batches.into_iter()),
        (0..11).collect::<Vec<u32>>()
    );
    assert_eq!(
        data.test_batches(4).unwrap().next().unwrap().x.len(),
        4 * 784
    );
}

/// `--eval-subset`: samples evenly spaced over the split, so that a folder listed class by
/// class still gives every class; all of them, in order, when the split has fewer.
#[test]
fn spread_batches_space_their_samples_over_the_split() {
    let data = fake(DatasetKind::FashionMnist, 10, 16);
    let spread = all_samples(data.spread_batches(Which::Test, 2, 5).unwrap());
    assert_eq!(spread, [0, 3, 6, 9, 12]);
    let all = all_samples(data.spread_batches(Which::Test, 4, 100).unwrap());
    assert_eq!(all, (0..16).collect::<Vec<u32>>());
}

#[test]
fn augmentation_keeps_shape_is_reproducible_and_crops_with_zero_padding() {
    let data = fake(DatasetKind::Cifar10, 30, 5);
    let plain: Vec<Batch> = data
        .train_batches(8, 3, 2, 0, false, false)
        .unwrap()
        .collect();
    let augmented: Vec<Batch> = data
        .train_batches(8, 3, 2, 0, false, true)
        .unwrap()
        .collect();
    let again: Vec<Batch> = data
        .train_batches(8, 3, 2, 0, false, true)
        .unwrap()
        .collect();
    assert_eq!(augmented, again);
    assert_ne!(augmented, plain);
    for (a, p) in augmented.iter().zip(&plain) {
        assert_eq!(a.x.len(), p.x.len());
        assert_eq!(a.samples, p.samples);
        assert_eq!(a.y_class, p.y_class);
    }
    let next_epoch: Vec<Batch> = data
        .train_batches(8, 3, 3, 0, false, true)
        .unwrap()
        .collect();
    assert_ne!(next_epoch[0].x, augmented[0].x);

    // Every output pixel is the padded input at the drawn offset, mirrored when flipped.
    let norm = &data.normalization;
    let value = |c: usize, p: u8| (p as f32 / 255.0 - norm.mean[c]) / norm.std[c];
    let mut flips = 0;
    for batch in &augmented {
        for (slot, &k) in batch.samples.iter().enumerate() {
            let params = augment_params(3, 2, k);
            flips += params.flip as usize;
            let src = &data.train.pixels().unwrap()[k as usize * 3072..][..3072];
            let out = &batch.x[slot * 3072..][..3072];
            for c in 0..3 {
                for y in 0..32 {
                    for x in 0..32 {
                        let cx = if params.flip { 31 - x } else { x };
                        let sy = y as isize + params.dy as isize - AUGMENT_PAD as isize;
                        let sx = cx as isize + params.dx as isize - AUGMENT_PAD as isize;
                        let p = if (0..32).contains(&sy) && (0..32).contains(&sx) {
                            src[c * 1024 + sy as usize * 32 + sx as usize]
                        } else {
                            0
                        };
                        assert!((out[c * 1024 + y * 32 + x] - value(c, p)).abs() < 1e-5);
                    }
                }
            }
        }
    }
    assert!(flips > 0 && flips < 30, "{flips} flips of 30");
    let offsets: std::collections::HashSet<(usize, usize)> = (0..1000)
        .map(|k| augment_params(1, 0, k))
        .map(|p| (p.dy, p.dx))
        .collect();
    assert_eq!(offsets.len(), 81, "all 9x9 crop offsets occur");
}

#[test]
fn jumping_to_epoch_and_batch_reproduces_the_same_batches() {
    let data = fake(DatasetKind::Cifar10, 37, 5);
    for augment in [false, true] {
        for epoch in [0, 4] {
            let full: Vec<Batch> = data
                .train_batches(6, 11, epoch, 0, false, augment)
                .unwrap()
                .collect();
            assert_eq!(full.len(), 7);
            for start in [1, 3, 6, 7] {
                let resumed: Vec<Batch> = data
                    .train_batches(6, 11, epoch, start, false, augment)
                    .unwrap()
                    .collect();
                assert_eq!(
                    resumed[..],
                    full[start..],
                    "epoch {epoch}, start {start}, augment {augment}"
                );
            }
            for (i, batch) in full.iter().enumerate() {
                assert_eq!(
                    &data.train_batch(6, 11, epoch, i, false, augment).unwrap(),
                    batch
                );
            }
        }
    }
    let error = data
        .train_batches(6, 11, 0, 8, false, false)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("an epoch has 7 batches"), "{error}");
}

#[test]
fn dropping_the_iterator_early_stops_the_thread() {
    let data = fake(DatasetKind::Cifar10, 100, 5);
    for _ in 0..20 {
        let mut batches = data.train_batches(2, 0, 0, 0, false, false).unwrap();
        assert!(batches.next().is_some());
    }
    // The iterator owns what it needs: it may outlive the data set.
    let batches = data.train_batches(10, 0, 0, 0, false, false).unwrap();
    drop(data);
    assert_eq!(batches.count(), 10);
}

#[test]
fn boston_batches_are_rows_of_13_with_values_and_refuse_augmentation() {
    let dir = temp();
    let data = boston(dir.path(), 50, 1);
    assert_eq!(data.batches_per_epoch(16, false), 3);
    let batch = data
        .train_batches(16, 0, 0, 0, false, false)
        .unwrap()
        .next()
        .unwrap();
    assert_eq!(batch.x.len(), 16 * 13);
    assert_eq!(batch.y_value.len(), 16);
    assert!(batch.y_class.is_empty());
    assert!(data.train_batches(16, 0, 0, 0, false, true).is_err());
}

#[test]
fn cifar100_and_image_folder_batches() {
    let data = fake(DatasetKind::Cifar100, 12, 4);
    let batch = data
        .train_batches(12, 0, 0, 0, false, true)
        .unwrap()
        .next()
        .unwrap();
    assert_eq!(batch.x.len(), 12 * 3072);
    assert!(batch.y_class.iter().all(|&l| l < 100));
    assert!(batch.x.iter().all(|v| v.is_finite()));
}
