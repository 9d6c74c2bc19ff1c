//! The in-memory [`Dataset`]: assembling, reading from a located source, validation carving.

use std::path::{Path, PathBuf};

use super::cifar::{self, CifarLabels};
use super::{
    boston, epoch_order, idx, image_folder, locate, DataError, DatasetKind, Inputs, LoadOptions,
    Normalization, Source, Split, Targets, Which,
};

/// A data set in memory, ready for batching.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Which data set this is.
    pub kind: DatasetKind,
    /// The training split (raw values; see `normalization`).
    pub train: Split,
    /// The test split (raw values; see `normalization`).
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
        // An empty test split would be "evaluated" to a loss and an accuracy of 0.
        if test.is_empty() {
            return Err(DataError::malformed(
                &source,
                "the test split is empty: there is nothing to evaluate the model on",
            ));
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
                let channels = match kind {
                    DatasetKind::FashionMnist => 1,
                    _ => 3,
                };
                let folder = image_folder::read_image_folder(root, channels)?;
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

    /// An MD5 of what training reads: the kind, the sample shape, both splits (after any
    /// validation carving) and the normalisation. Data-parallel ranks compare theirs
    /// before the first step.
    pub fn fingerprint(&self) -> [u8; 16] {
        use md5::Digest;
        let mut digest = md5::Md5::new();
        digest.update(self.kind.cli_name().as_bytes());
        for d in self.input_shape {
            digest.update((d as u64).to_le_bytes());
        }
        digest.update((self.num_classes as u64).to_le_bytes());
        self.train.digest_into(&mut digest);
        self.test.digest_into(&mut digest);
        let statistics = self
            .normalization
            .mean
            .iter()
            .chain(&self.normalization.std);
        statistics.for_each(|x| digest.update(x.to_le_bytes()));
        digest.finalize().into()
    }

    /// Values per sample (`c * h * w`).
    pub fn sample_size(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// The training or the test split.
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
