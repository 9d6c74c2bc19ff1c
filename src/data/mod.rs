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

mod args;
mod dataset;
mod split;

pub use args::{DataArgs, LoadOptions};
pub use dataset::Dataset;
pub use error::DataError;
pub use loader::{
    augment_params, epoch_order, AugmentParams, Batch, Batches, Shard, AUGMENT_PAD, PREFETCH_DEPTH,
};
pub use locate::{default_cache_dir, Source};
pub use split::{Inputs, Normalization, Split, Targets, Which};

/// The supported data sets. CLI names: `boston`, `fashion-mnist`, `cifar10`, `cifar100`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// Boston Housing: regression of `medv` from 13 features, read from a CSV file.
    Boston,
    /// Fashion-MNIST: 28x28 grey images, 10 classes (IDX files or an image folder).
    FashionMnist,
    /// CIFAR-10: 32x32 colour images, 10 classes (binary release or an image folder).
    Cifar10,
    /// CIFAR-100: 32x32 colour images, 100 fine or 20 coarse classes (binary release or an
    /// image folder).
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

    /// `[channels, height, width]` of one sample, and the class count (0: regression;
    /// CIFAR-100: its 100 fine classes).
    pub fn sample_shape(self) -> ([usize; 3], usize) {
        let side = cifar::CIFAR_SIDE;
        match self {
            DatasetKind::Boston => ([boston::BOSTON_FEATURES.len(), 1, 1], 0),
            DatasetKind::FashionMnist => ([1, 28, 28], 10),
            DatasetKind::Cifar10 => ([3, side, side], 10),
            DatasetKind::Cifar100 => ([3, side, side], 100),
        }
    }

    /// Whether the task is regression (Boston: one real target, no classes) rather than
    /// classification.
    pub fn is_regression(self) -> bool {
        self == DatasetKind::Boston
    }
}

impl std::fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.cli_name())
    }
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
