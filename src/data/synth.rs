//! Small generated data sets in every supported format, for tests and examples.
//!
//! Content is a deterministic function of the seed: pseudo-random pixels whose channel
//! means differ (so per-channel statistics are testable) and labels spread over all classes.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::boston::{BOSTON_FEATURES, BOSTON_TARGET};
use super::cifar::{
    CIFAR100_TEST_FILE, CIFAR100_TRAIN_FILE, CIFAR10_CLASSES, CIFAR10_TEST_FILE,
    CIFAR10_TRAIN_FILES, CIFAR_PIXELS,
};
use super::idx::FASHION_MNIST_FILES;
use super::{mix_seed, splitmix64, DatasetKind};

/// Generated pixels and labels of one split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeSplit {
    /// `[n, c, h, w]`.
    pub pixels: Vec<u8>,
    /// One class index per sample (CIFAR-100: the fine label; its coarse label is `fine / 5`).
    pub labels: Vec<u8>,
}

/// `n` samples of `shape = [c, h, w]` with labels in `0..classes`. Channel `c` draws from
/// `40*c ..= 40*c + 127`, so channel means differ by 40 levels.
pub fn fake_split(seed: u64, n: usize, shape: [usize; 3], classes: usize) -> FakeSplit {
    let size = shape.iter().product::<usize>();
    let plane = shape[1] * shape[2];
    let mut pixels = Vec::with_capacity(n * size);
    let mut state = mix_seed(seed, 0x5049_5845_4c53);
    for _ in 0..n {
        for c in 0..shape[0] {
            for _ in 0..plane {
                state = splitmix64(state);
                pixels.push((40 * c as u64 % 128 + (state >> 57)) as u8);
            }
        }
    }
    let labels = (0..n)
        .map(|i| ((i as u64 + splitmix64(seed) % classes as u64) % classes as u64) as u8)
        .collect();
    FakeSplit { pixels, labels }
}

/// Seeds of the train and test splits written by [`write_fake_dataset`].
pub fn split_seeds(seed: u64) -> (u64, u64) {
    (mix_seed(seed, 1), mix_seed(seed, 2))
}

/// Bytes of an IDX file of unsigned bytes, gzip-compressed if asked.
pub fn idx_bytes(dims: &[usize], data: &[u8], gzip: bool) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    if gzip {
        gzip_bytes(&out)
    } else {
        out
    }
}

/// `data` compressed as one gzip member (fast compression level).
pub fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// Records of a CIFAR binary batch: `label_bytes` (1 for CIFAR-10, 2 for CIFAR-100) label
/// bytes from `labels` per record, then the 3072 pixels.
pub fn cifar_bin_bytes(split: &FakeSplit, label_bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(split.labels.len() * (label_bytes + CIFAR_PIXELS));
    for (&label, pixels) in split
        .labels
        .iter()
        .zip(split.pixels.chunks_exact(CIFAR_PIXELS))
    {
        if label_bytes == 2 {
            out.push(label / 5);
        }
        out.push(label);
        out.extend_from_slice(pixels);
    }
    out
}

/// A Boston-like table: `(features [rows, 13], medv)` with medv a noisy linear function of
/// the features.
pub fn fake_boston(rows: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut state = mix_seed(seed, 0x424f_5354_4f4e);
    let mut uniform = || {
        state = splitmix64(state);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let scale = [
        10.0, 100.0, 30.0, 1.0, 0.5, 8.0, 100.0, 12.0, 24.0, 700.0, 22.0, 400.0, 38.0,
    ];
    let mut features = Vec::with_capacity(rows * scale.len());
    let mut targets = Vec::with_capacity(rows);
    for _ in 0..rows {
        let mut medv = 22.0;
        for (j, s) in scale.iter().enumerate() {
            let u = uniform();
            features.push((u * s) as f32);
            medv += (u - 0.5) * (j as f64 - 6.0);
        }
        targets.push((medv + uniform() - 0.5) as f32);
    }
    (features, targets)
}

/// A Boston Housing CSV: the header row (the 13 [`BOSTON_FEATURES`], then
/// [`BOSTON_TARGET`]) and one row per target, from row-major `features` `[rows, 13]` and
/// `targets` `[rows]` (as [`fake_boston`] returns them).
pub fn boston_csv_text(features: &[f32], targets: &[f32]) -> String {
    let mut text = BOSTON_FEATURES.join(",");
    text.push(',');
    text.push_str(BOSTON_TARGET);
    text.push('\n');
    for (row, target) in features.chunks_exact(BOSTON_FEATURES.len()).zip(targets) {
        for v in row {
            text.push_str(&format!("{v},"));
        }
        text.push_str(&format!("{target}\n"));
    }
    text
}

fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

/// Writes a small data set of `kind` under `root` with its conventional name, in the
/// official format (Boston: `train + test` rows; CIFAR-10: the training samples spread over
/// the five batch files). Returns the data set's own file or folder.
pub fn write_fake_dataset(
    kind: DatasetKind,
    root: &Path,
    train: usize,
    test: usize,
    seed: u64,
) -> std::io::Result<PathBuf> {
    let (shape, classes) = kind.sample_shape();
    let (train_seed, test_seed) = split_seeds(seed);
    let train_split = fake_split(train_seed, train, shape, classes.max(1));
    let test_split = fake_split(test_seed, test, shape, classes.max(1));
    match kind {
        DatasetKind::Boston => {
            let (features, targets) = fake_boston(train + test, seed);
            let path = root.join("boston_housing.csv");
            write(&path, boston_csv_text(&features, &targets).as_bytes())?;
            Ok(path)
        }
        DatasetKind::FashionMnist => {
            let dir = root.join("fashion-mnist");
            let [_, h, w] = shape;
            for (split, [images, labels]) in [(&train_split, [0, 1]), (&test_split, [2, 3])] {
                let n = split.labels.len();
                write(
                    &dir.join(format!("{}.gz", FASHION_MNIST_FILES[images])),
                    &idx_bytes(&[n, h, w], &split.pixels, true),
                )?;
                write(
                    &dir.join(format!("{}.gz", FASHION_MNIST_FILES[labels])),
                    &idx_bytes(&[n], &split.labels, true),
                )?;
            }
            Ok(dir)
        }
        DatasetKind::Cifar10 => {
            let dir = root.join("cifar-10-batches-bin");
            let per_file = train.div_ceil(CIFAR10_TRAIN_FILES.len()).max(1);
            for (i, name) in CIFAR10_TRAIN_FILES.iter().enumerate() {
                let lo = (i * per_file).min(train);
                let hi = ((i + 1) * per_file).min(train);
                let part = FakeSplit {
                    pixels: train_split.pixels[lo * CIFAR_PIXELS..hi * CIFAR_PIXELS].to_vec(),
                    labels: train_split.labels[lo..hi].to_vec(),
                };
                write(&dir.join(name), &cifar_bin_bytes(&part, 1))?;
            }
            write(
                &dir.join(CIFAR10_TEST_FILE),
                &cifar_bin_bytes(&test_split, 1),
            )?;
            write(
                &dir.join("batches.meta.txt"),
                (CIFAR10_CLASSES.join("\n") + "\n").as_bytes(),
            )?;
            Ok(dir)
        }
        DatasetKind::Cifar100 => {
            let dir = root.join("cifar-100-binary");
            write(
                &dir.join(CIFAR100_TRAIN_FILE),
                &cifar_bin_bytes(&train_split, 2),
            )?;
            write(
                &dir.join(CIFAR100_TEST_FILE),
                &cifar_bin_bytes(&test_split, 2),
            )?;
            Ok(dir)
        }
    }
}

/// Writes `ROOT/{train,test}/<class>/NNNN.<ext>` images (`ext`: png, jpg or jpeg) of
/// `shape = [c, h, w]` (c = 1 or 3), `per_class = (train, test)` images per class. PNG keeps
/// the pixels of [`fake_split`] exactly; JPEG is lossy.
pub fn write_image_folder(
    root: &Path,
    classes: &[&str],
    per_class: (usize, usize),
    shape: [usize; 3],
    ext: &str,
    seed: u64,
) -> Result<(), image::ImageError> {
    let (train_seed, test_seed) = split_seeds(seed);
    for (split, count, split_seed) in [
        ("train", per_class.0, train_seed),
        ("test", per_class.1, test_seed),
    ] {
        for (c, class) in classes.iter().enumerate() {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir)?;
            let images = fake_split(mix_seed(split_seed, c as u64), count, shape, 1);
            let size = shape.iter().product::<usize>();
            for (i, chw) in images.pixels.chunks_exact(size).enumerate() {
                save_chw(&dir.join(format!("{i:04}.{ext}")), chw, shape)?;
            }
        }
    }
    Ok(())
}

/// Saves planar `[c, h, w]` pixels (c = 1 or 3) as an image; the format follows the
/// extension.
pub fn save_chw(path: &Path, chw: &[u8], shape: [usize; 3]) -> Result<(), image::ImageError> {
    let [c, h, w] = shape;
    let plane = h * w;
    let interleaved: Vec<u8> = (0..plane)
        .flat_map(|i| (0..c).map(move |ch| chw[ch * plane + i]))
        .collect();
    let color = if c == 1 {
        image::ColorType::L8
    } else {
        image::ColorType::Rgb8
    };
    image::save_buffer(path, &interleaved, w as u32, h as u32, color)
}

/// The pixels [`write_image_folder`] writes for class `class` of a split (`test` selects the
/// test split), as `[n, c, h, w]`.
pub fn image_folder_pixels(
    seed: u64,
    test: bool,
    class: usize,
    count: usize,
    shape: [usize; 3],
) -> Vec<u8> {
    let (train_seed, test_seed) = split_seeds(seed);
    let split_seed = if test { test_seed } else { train_seed };
    fake_split(mix_seed(split_seed, class as u64), count, shape, 1).pixels
}
