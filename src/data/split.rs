//! One split in memory ([`Split`]), which split to iterate, and its normalisation statistics.

use std::sync::Arc;

use super::DataError;

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
    /// The samples' inputs, `sample_size` values each.
    pub inputs: Inputs,
    /// One target per sample.
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

    /// An MD5 of the split's shape, inputs and targets.
    pub fn fingerprint(&self) -> [u8; 16] {
        use md5::Digest;
        let mut digest = md5::Md5::new();
        self.digest_into(&mut digest);
        digest.finalize().into()
    }

    /// Feeds the split's shape, inputs and targets, as little-endian bytes, to `digest`.
    pub(crate) fn digest_into(&self, digest: &mut md5::Md5) {
        use crate::rundir::checkpoint::update_f32_le;
        use md5::Digest;
        digest.update((self.len as u64).to_le_bytes());
        digest.update((self.sample_size as u64).to_le_bytes());
        match &self.inputs {
            Inputs::Pixels(p) => digest.update(p),
            Inputs::Features(f) => update_f32_le(digest, f),
        }
        match &self.targets {
            Targets::Classes(t) => t.iter().for_each(|c| digest.update(c.to_le_bytes())),
            Targets::Values(t) => update_f32_le(digest, t),
        }
    }

    /// Whether the split holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Values per sample (`c * h * w`).
    pub fn sample_size(&self) -> usize {
        self.sample_size
    }

    /// The raw pixels (`[n, c, h, w]` u8) of an image split; `None` for features.
    pub fn pixels(&self) -> Option<&[u8]> {
        match &self.inputs {
            Inputs::Pixels(p) => Some(p),
            Inputs::Features(_) => None,
        }
    }

    /// The raw features (`[n, features]` f32, row-major) of a Boston split; `None` for images.
    pub fn features(&self) -> Option<&[f32]> {
        match &self.inputs {
            Inputs::Features(f) => Some(f),
            Inputs::Pixels(_) => None,
        }
    }

    /// The class indices (`[n]`) of a classification split; `None` for regression.
    pub fn labels(&self) -> Option<&[u32]> {
        match &self.targets {
            Targets::Classes(c) => Some(c),
            Targets::Values(_) => None,
        }
    }

    /// The target values (`[n]`) of a regression split; `None` for classification.
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
    /// The training split.
    Train,
    /// The test split.
    Test,
}

/// Per-channel statistics of the training split (per feature for Boston). Image statistics
/// are on the `[0, 1]` pixel scale (`p / 255`), feature statistics in the feature's units.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Mean of each channel (feature), `[channels]`.
    pub mean: Vec<f32>,
    /// Population standard deviation of each channel (feature), `[channels]`; 1 for a
    /// constant channel.
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
