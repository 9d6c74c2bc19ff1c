//! Data sets: readers, location/download, and the batch loader.
//!
//! - Readers: Boston Housing CSV ([`boston`]), MNIST-family IDX files ([`idx`]), the CIFAR-10
//!   and CIFAR-100 binary releases ([`cifar`]), and image folders ([`image_folder`]).
//! - [`DataArgs::load`] finds the data ([`locate`]: `--data` / `ETAPROBE_DATA`, then the cache
//!   folder), fetches it with `--download` ([`download`]), decodes it once and keeps it in
//!   memory: u8 pixels for images, f32 features for Boston.
//! - [`Dataset::train_batches`] / [`Dataset::test_batches`] turn a split into normalised f32
//!   batches on a background thread (see [`Batches`]).
//!
//! Conventions:
//! - Image inputs are `[c, h, w]` per sample and batches are NCHW. Boston's 13 features are
//!   treated as 13 channels of a 1x1 image: `input_shape == [13, 1, 1]`, so a batch is
//!   `[B, 13]` in memory and per-channel normalisation is per-feature standardisation.
//! - Normalisation statistics come from the training split only and are applied to both
//!   splits when batches are made: images `(p/255 - mean_c) / std_c`, Boston
//!   `(x_f - mean_f) / std_f` (population std; a constant feature gets std 1).
//!   Boston's target `medv` is left in its own units.
//! - Shuffling and augmentation derive all their randomness from `(seed, epoch)` and the
//!   sample index, so any batch of any epoch can be rebuilt without replaying the earlier ones.

pub mod boston;
pub mod cifar;
pub mod download;
mod error;
pub mod idx;
pub mod image_folder;
mod loader;
pub mod locate;
pub mod synth;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::DataError;
pub use loader::{
    augment_params, epoch_order, AugmentParams, Batch, Batches, AUGMENT_PAD, PREFETCH_DEPTH,
};
pub use locate::{default_cache_dir, Source};

use cifar::CifarLabels;

/// The supported data sets. CLI names: `boston`, `fashion-mnist`, `cifar10`, `cifar100`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    Boston,
    FashionMnist,
    Cifar10,
    Cifar100,
}

impl DatasetKind {
    /// The name used on the command line and in files.
    pub fn cli_name(self) -> &'static str {
        match self {
            DatasetKind::Boston => "boston",
            DatasetKind::FashionMnist => "fashion-mnist",
            DatasetKind::Cifar10 => "cifar10",
            DatasetKind::Cifar100 => "cifar100",
        }
    }

    /// The name people write.
    pub fn title(self) -> &'static str {
        match self {
            DatasetKind::Boston => "Boston Housing",
            DatasetKind::FashionMnist => "Fashion-MNIST",
            DatasetKind::Cifar10 => "CIFAR-10",
            DatasetKind::Cifar100 => "CIFAR-100",
        }
    }

    pub fn is_regression(self) -> bool {
        self == DatasetKind::Boston
    }
}

impl std::fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.cli_name())
    }
}

/// Command-line options of the data layer (flatten into a clap command).
#[derive(clap::Args, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataArgs {
    /// Data set to train on.
    #[arg(long, value_enum, default_value_t = DatasetKind::Cifar10)]
    pub dataset: DatasetKind,

    /// Where the data is: a folder holding the data sets under their usual names
    /// (boston_housing.csv, fashion-mnist/, cifar-10-batches-bin/ or cifar10-jpeg/,
    /// cifar-100-binary/), or the data set's own file or folder. Searched before the cache.
    #[arg(long, env = "ETAPROBE_DATA", value_name = "PATH")]
    pub data: Option<PathBuf>,

    /// Fetch the data set from its official source into the cache folder when it is not
    /// found (MD5-checked; not available for Boston Housing).
    #[arg(long)]
    pub download: bool,

    /// Cache folder for downloaded data [default: $XDG_CACHE_HOME/etaprobe or
    /// ~/.cache/etaprobe].
    #[arg(long, env = "ETAPROBE_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Base URL to download from instead of the official servers: a mirror serving the same
    /// file names.
    #[arg(long, env = "ETAPROBE_DOWNLOAD_BASE", value_name = "URL")]
    pub download_base: Option<String>,

    /// Drop the last, partial training batch of each epoch.
    #[arg(long)]
    pub drop_last: bool,

    /// Random crop (zero padding 4) and horizontal flip of training images.
    #[arg(long)]
    pub augment: bool,

    /// Seed of the Boston train/test split [default: the run's seed].
    #[arg(long, value_name = "N")]
    pub split_seed: Option<u64>,

    /// Fraction of Boston Housing rows held out for testing (rounded up: 506 rows give
    /// 404/102).
    #[arg(long, default_value_t = 0.2, value_name = "F")]
    pub test_fraction: f64,

    /// CIFAR-100: train on the 20 coarse labels instead of the 100 fine ones.
    #[arg(long)]
    pub coarse_labels: bool,
}

impl Default for DataArgs {
    fn default() -> Self {
        DataArgs {
            dataset: DatasetKind::Cifar10,
            data: None,
            download: false,
            cache_dir: None,
            download_base: None,
            drop_last: false,
            augment: false,
            split_seed: None,
            test_fraction: 0.2,
            coarse_labels: false,
        }
    }
}

impl DataArgs {
    /// The cache folder in use: `--cache-dir`, else the default one.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.cache_dir.clone().or_else(default_cache_dir)
    }

    /// Reading options derived from these arguments and the run's seed.
    pub fn load_options(&self, seed: u64) -> LoadOptions {
        LoadOptions {
            split_seed: self.split_seed.unwrap_or(seed),
            test_fraction: self.test_fraction,
            coarse_labels: self.coarse_labels,
        }
    }

    /// Checks option combinations that cannot work, before any file is touched.
    pub fn validate(&self) -> Result<(), DataError> {
        let kind = self.dataset;
        if self.augment && kind.is_regression() {
            return Err(DataError::Invalid(
                "--augment crops and flips images; Boston Housing has no images".into(),
            ));
        }
        if self.coarse_labels && kind != DatasetKind::Cifar100 {
            return Err(DataError::Invalid(format!(
                "--coarse-labels applies to cifar100 only, not {kind}"
            )));
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(DataError::Invalid(format!(
                "--test-fraction {} must lie strictly between 0 and 1",
                self.test_fraction
            )));
        }
        Ok(())
    }

    /// Where the data set is, downloading it first if asked to and needed.
    pub fn locate(&self) -> Result<Source, DataError> {
        let cache = self.cache_dir();
        let base = self.download_base.as_deref();
        let found = locate::locate(self.dataset, self.data.as_deref(), cache.as_deref(), base);
        match found {
            Err(DataError::NotFound { message }) if self.download => {
                let Some(plan) = download::official_download(self.dataset) else {
                    return Err(DataError::NotFound {
                        message: format!(
                            "{message}\n(--download was given, but see above: there is no \
                             official source to download from)"
                        ),
                    });
                };
                let plan = match base {
                    Some(base) => plan.with_base(base),
                    None => plan,
                };
                let Some(cache) = cache else {
                    return Err(DataError::Invalid(
                        "--download needs a cache folder: pass --cache-dir DIR (or set \
                         XDG_CACHE_HOME or HOME)"
                            .into(),
                    ));
                };
                let folder = download::download(&plan, &cache)?;
                locate::detect_own(self.dataset, &folder).ok_or_else(|| {
                    DataError::malformed(
                        &folder,
                        "the download completed but the folder does not hold the expected files",
                    )
                })
            }
            other => other,
        }
    }

    /// Finds (and with `--download` fetches) the data set, then reads it. `seed` is the run's
    /// seed, used for the Boston split unless `--split-seed` is given.
    pub fn load(&self, seed: u64) -> Result<Dataset, DataError> {
        self.validate()?;
        let source = self.locate()?;
        Dataset::read(self.dataset, &source, &self.load_options(seed))
    }
}

/// Options of the readers.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// Seed of the Boston train/test split.
    pub split_seed: u64,
    /// Fraction of Boston rows held out for testing.
    pub test_fraction: f64,
    /// CIFAR-100 coarse labels instead of fine ones.
    pub coarse_labels: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            split_seed: 0,
            test_fraction: 0.2,
            coarse_labels: false,
        }
    }
}

/// Inputs of a split, shared cheaply between the loader threads.
#[derive(Clone, Debug, PartialEq)]
pub enum Inputs {
    /// `[n, c, h, w]` raw pixels.
    Pixels(Arc<[u8]>),
    /// `[n, features]` raw (unstandardised) values.
    Features(Arc<[f32]>),
}

/// Targets of a split.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Class indices, each below `num_classes`.
    Classes(Arc<[u32]>),
    /// Regression values.
    Values(Arc<[f32]>),
}

/// One split (train or test), held in memory. Cloning is cheap (shared buffers).
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub inputs: Inputs,
    pub targets: Targets,
    len: usize,
    sample_size: usize,
}

impl Split {
    /// Checks that the inputs hold `sample_size` values per target.
    pub fn new(inputs: Inputs, targets: Targets, sample_size: usize) -> Result<Self, DataError> {
        let len = match &targets {
            Targets::Classes(t) => t.len(),
            Targets::Values(t) => t.len(),
        };
        let values = match &inputs {
            Inputs::Pixels(p) => p.len(),
            Inputs::Features(f) => f.len(),
        };
        if sample_size == 0 || values != len * sample_size || len > u32::MAX as usize {
            return Err(DataError::Invalid(format!(
                "split with {len} targets but {values} input values ({sample_size} per sample \
                 expected)"
            )));
        }
        Ok(Split {
            inputs,
            targets,
            len,
            sample_size,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Values per sample (`c * h * w`).
    pub fn sample_size(&self) -> usize {
        self.sample_size
    }

    pub fn pixels(&self) -> Option<&[u8]> {
        match &self.inputs {
            Inputs::Pixels(p) => Some(p),
            Inputs::Features(_) => None,
        }
    }

    pub fn features(&self) -> Option<&[f32]> {
        match &self.inputs {
            Inputs::Features(f) => Some(f),
            Inputs::Pixels(_) => None,
        }
    }

    pub fn labels(&self) -> Option<&[u32]> {
        match &self.targets {
            Targets::Classes(c) => Some(c),
            Targets::Values(_) => None,
        }
    }

    pub fn values(&self) -> Option<&[f32]> {
        match &self.targets {
            Targets::Values(v) => Some(v),
            Targets::Classes(_) => None,
        }
    }
}

/// Which split to iterate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Train,
    Test,
}

/// Per-channel statistics of the training split (per feature for Boston). Image statistics
/// are on the `[0, 1]` pixel scale (`p / 255`), feature statistics in the feature's units.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalization {
    /// Statistics of a split, accumulated exactly (pixel histograms) or in f64 (features).
    pub fn of(split: &Split, channels: usize) -> Normalization {
        let mut mean = vec![0f64; channels];
        let mut var = vec![0f64; channels];
        match &split.inputs {
            Inputs::Pixels(pixels) => {
                let plane = split.sample_size / channels;
                let mut histogram = vec![[0u64; 256]; channels];
                for sample in pixels.chunks_exact(split.sample_size) {
                    for (c, values) in sample.chunks_exact(plane).enumerate() {
                        for &v in values {
                            histogram[c][v as usize] += 1;
                        }
                    }
                }
                for (c, h) in histogram.iter().enumerate() {
                    let count = h.iter().sum::<u64>().max(1) as f64;
                    let (sum, sum_sq) =
                        h.iter().enumerate().fold((0u64, 0u64), |(s, q), (v, &n)| {
                            (s + v as u64 * n, q + (v * v) as u64 * n)
                        });
                    let m = sum as f64 / count;
                    mean[c] = m / 255.0;
                    var[c] = (sum_sq as f64 / count - m * m).max(0.0) / (255.0 * 255.0);
                }
            }
            Inputs::Features(features) => {
                let rows = features.chunks_exact(channels);
                let n = rows.len().max(1) as f64;
                for row in rows.clone() {
                    for (m, &x) in mean.iter_mut().zip(row) {
                        *m += x as f64 / n;
                    }
                }
                for row in rows {
                    for ((v, m), &x) in var.iter_mut().zip(&mean).zip(row) {
                        *v += (x as f64 - m).powi(2) / n;
                    }
                }
            }
        }
        let std = var
            .iter()
            .map(|&v| {
                let s = v.sqrt();
                // A constant channel carries no information; dividing by ~0 would only blow
                // up rounding noise.
                if s > 1e-12 {
                    s as f32
                } else {
                    1.0
                }
            })
            .collect();
        Normalization {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }
}

/// A data set in memory, ready for batching.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub kind: DatasetKind,
    pub train: Split,
    pub test: Split,
    /// 0 for regression (Boston).
    pub num_classes: usize,
    /// `[channels, height, width]` of one sample; Boston: `[13, 1, 1]`.
    pub input_shape: [usize; 3],
    /// Names of the classes by index; empty for regression.
    pub class_names: Vec<String>,
    /// The file or folder the data was read from.
    pub source: PathBuf,
    /// Training-split statistics used to normalise both splits.
    pub normalization: Normalization,
}

impl Dataset {
    /// Assembles a data set from splits (for instance generated ones) and computes the
    /// normalisation statistics from `train`.
    pub fn new(
        kind: DatasetKind,
        train: Split,
        test: Split,
        input_shape: [usize; 3],
        class_names: Vec<String>,
        source: PathBuf,
    ) -> Result<Dataset, DataError> {
        let sample_size = input_shape.iter().product::<usize>();
        if train.sample_size() != sample_size || test.sample_size() != sample_size {
            return Err(DataError::Invalid(format!(
                "input shape {input_shape:?} does not match the splits ({} and {} values per \
                 sample)",
                train.sample_size(),
                test.sample_size()
            )));
        }
        if train.is_empty() {
            return Err(DataError::malformed(&source, "the training split is empty"));
        }
        let num_classes = class_names.len();
        for split in [&train, &test] {
            if let Some(&bad) = split
                .labels()
                .and_then(|labels| labels.iter().find(|&&l| l as usize >= num_classes))
            {
                return Err(DataError::malformed(
                    &source,
                    format!("label {bad} is out of range ({num_classes} classes)"),
                ));
            }
        }
        let normalization = Normalization::of(&train, input_shape[0]);
        Ok(Dataset {
            kind,
            train,
            test,
            num_classes,
            input_shape,
            class_names,
            source,
            normalization,
        })
    }

    /// Reads a data set from its own file or folder: detects the format, then reads it.
    pub fn open(
        kind: DatasetKind,
        path: &Path,
        options: &LoadOptions,
    ) -> Result<Dataset, DataError> {
        let source = locate::detect_own(kind, path).ok_or_else(|| DataError::NotFound {
            message: format!(
                "{}: not a {} data set; expected {}",
                path.display(),
                kind.title(),
                locate::describe_own(kind)
            ),
        })?;
        Dataset::read(kind, &source, options)
    }

    /// Reads a located data set.
    pub fn read(
        kind: DatasetKind,
        source: &Source,
        options: &LoadOptions,
    ) -> Result<Dataset, DataError> {
        if options.coarse_labels
            && !matches!(
                (kind, source),
                (DatasetKind::Cifar100, Source::CifarBinary(_))
            )
        {
            return Err(DataError::Invalid(format!(
                "coarse labels exist only in the CIFAR-100 binary release, not in {}",
                source.path().display()
            )));
        }
        let path = source.path().to_path_buf();
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match (kind, source) {
            (DatasetKind::Boston, Source::BostonCsv(file)) => read_boston(file, options),
            (DatasetKind::FashionMnist, Source::Idx(dir)) => {
                let classes = idx::FASHION_MNIST_CLASSES.len();
                let data = idx::read_idx_folder(dir, classes)?;
                let shape = [1, data.train_images.rows, data.train_images.cols];
                let split = |images: idx::IdxImages, labels: Vec<u32>| {
                    Split::new(
                        Inputs::Pixels(images.pixels.into()),
                        Targets::Classes(labels.into()),
                        shape.iter().product(),
                    )
                };
                let train = split(data.train_images, data.train_labels)?;
                let test = split(data.test_images, data.test_labels)?;
                Dataset::new(
                    kind,
                    train,
                    test,
                    shape,
                    names(&idx::FASHION_MNIST_CLASSES),
                    path,
                )
            }
            (DatasetKind::Cifar10 | DatasetKind::Cifar100, Source::CifarBinary(dir)) => {
                let (labels, train_files, test_file): (CifarLabels, &[&str], &str) = match kind {
                    DatasetKind::Cifar10 => (
                        CifarLabels::Ten,
                        &cifar::CIFAR10_TRAIN_FILES,
                        cifar::CIFAR10_TEST_FILE,
                    ),
                    _ if options.coarse_labels => (
                        CifarLabels::Coarse,
                        &[cifar::CIFAR100_TRAIN_FILE],
                        cifar::CIFAR100_TEST_FILE,
                    ),
                    _ => (
                        CifarLabels::Fine,
                        &[cifar::CIFAR100_TRAIN_FILE],
                        cifar::CIFAR100_TEST_FILE,
                    ),
                };
                let read_all = |files: &[&str]| -> Result<Split, DataError> {
                    let mut records = cifar::CifarRecords::default();
                    for file in files {
                        let file = dir.join(file);
                        if !file.is_file() {
                            return Err(DataError::NotFound {
                                message: format!(
                                    "{}: missing file of the {} binary release (expected {} and {} in {})",
                                    file.display(),
                                    kind.title(),
                                    train_files.join(", "),
                                    test_file,
                                    dir.display()
                                ),
                            });
                        }
                        cifar::read_cifar_bin(&file, labels, &mut records)?;
                    }
                    Split::new(
                        Inputs::Pixels(records.pixels.into()),
                        Targets::Classes(records.labels.into()),
                        cifar::CIFAR_PIXELS,
                    )
                };
                let train = read_all(train_files)?;
                let test = read_all(&[test_file])?;
                let shape = [3, cifar::CIFAR_SIDE, cifar::CIFAR_SIDE];
                Dataset::new(
                    kind,
                    train,
                    test,
                    shape,
                    cifar::class_names(dir, labels),
                    path,
                )
            }
            (
                DatasetKind::FashionMnist | DatasetKind::Cifar10 | DatasetKind::Cifar100,
                Source::ImageFolder(root),
            ) => {
                let folder = image_folder::read_image_folder(root)?;
                let size = folder.shape.iter().product();
                let split = |d: image_folder::DecodedImages| {
                    Split::new(
                        Inputs::Pixels(d.pixels.into()),
                        Targets::Classes(d.labels.into()),
                        size,
                    )
                };
                let train = split(folder.train)?;
                let test = split(folder.test)?;
                Dataset::new(kind, train, test, folder.shape, folder.class_names, path)
            }
            (kind, source) => Err(DataError::Invalid(format!(
                "{} cannot be read as {}; expected {}",
                source.path().display(),
                kind.title(),
                locate::describe_own(kind)
            ))),
        }
    }

    /// Values per sample (`c * h * w`).
    pub fn sample_size(&self) -> usize {
        self.input_shape.iter().product()
    }

    pub fn split(&self, which: Which) -> &Split {
        match which {
            Which::Train => &self.train,
            Which::Test => &self.test,
        }
    }
}

fn read_boston(file: &Path, options: &LoadOptions) -> Result<Dataset, DataError> {
    let table = boston::read_boston_csv(file)?;
    let width = boston::BOSTON_FEATURES.len();
    let (train_rows, test_rows) =
        boston::split_rows(table.rows(), options.test_fraction, options.split_seed);
    let gather = |rows: &[usize]| -> Result<Split, DataError> {
        let features: Vec<f32> = rows
            .iter()
            .flat_map(|&r| table.features[r * width..(r + 1) * width].iter().copied())
            .collect();
        let targets: Vec<f32> = rows.iter().map(|&r| table.targets[r]).collect();
        Split::new(
            Inputs::Features(features.into()),
            Targets::Values(targets.into()),
            width,
        )
    };
    let train = gather(&train_rows)?;
    let test = gather(&test_rows)?;
    Dataset::new(
        DatasetKind::Boston,
        train,
        test,
        [width, 1, 1],
        Vec::new(),
        file.to_path_buf(),
    )
}

/// Derives an independent 64-bit seed from two values (SplitMix64 finaliser).
pub(crate) fn mix_seed(a: u64, b: u64) -> u64 {
    splitmix64(splitmix64(a) ^ b)
}

pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Split {
    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[u32]) -> Result<Split, DataError> {
        let n = self.sample_size;
        let inputs = match &self.inputs {
            Inputs::Pixels(p) => Inputs::Pixels(
                indices
                    .iter()
                    .flat_map(|&i| p[i as usize * n..(i as usize + 1) * n].iter().copied())
                    .collect(),
            ),
            Inputs::Features(f) => Inputs::Features(
                indices
                    .iter()
                    .flat_map(|&i| f[i as usize * n..(i as usize + 1) * n].iter().copied())
                    .collect(),
            ),
        };
        let targets = match &self.targets {
            Targets::Classes(t) => {
                Targets::Classes(indices.iter().map(|&i| t[i as usize]).collect())
            }
            Targets::Values(t) => Targets::Values(indices.iter().map(|&i| t[i as usize]).collect()),
        };
        Split::new(inputs, targets, n)
    }
}

impl Dataset {
    /// Carves a seeded validation set of `fraction` of the training samples out of the
    /// training split: returns (this data set without them, a data set whose training
    /// split is the validation samples). Both keep this data set's normalisation.
    pub fn carve_validation(
        &self,
        fraction: f64,
        seed: u64,
    ) -> Result<(Dataset, Dataset), DataError> {
        let len = self.train.len();
        let n_val = (len as f64 * fraction).round() as usize;
        if !(fraction > 0.0 && fraction < 1.0) || n_val == 0 || n_val >= len {
            return Err(DataError::Invalid(format!(
                "--val-split {fraction} leaves no validation or no training sample out of {len}"
            )));
        }
        let order = epoch_order(len, seed ^ 0x5641_4c49_4441_5445, 0);
        let (val, train) = order.split_at(n_val);
        let make = |split: Split| -> Result<Dataset, DataError> {
            let mut d = Dataset::new(
                self.kind,
                split,
                self.test.clone(),
                self.input_shape,
                self.class_names.clone(),
                self.source.clone(),
            )?;
            d.normalization = self.normalization.clone();
            Ok(d)
        };
        Ok((
            make(self.train.subset(train)?)?,
            make(self.train.subset(val)?)?,
        ))
    }
}
