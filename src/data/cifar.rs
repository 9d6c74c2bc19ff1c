//! The official CIFAR-10 and CIFAR-100 binary releases.
//!
//! CIFAR-10 records: 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32, row-major).
//! CIFAR-100 records: coarse label byte, fine label byte, then the same 3072 pixel bytes.

use std::path::Path;

use super::DataError;

/// Width and height of a CIFAR image, in pixels.
pub const CIFAR_SIDE: usize = 32;
/// Pixel bytes per CIFAR record: 3 planes of 32x32 (3072).
pub const CIFAR_PIXELS: usize = 3 * CIFAR_SIDE * CIFAR_SIDE;

/// The five training batch files of the CIFAR-10 binary release (10,000 records each), in
/// the order they are read.
pub const CIFAR10_TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The test batch file of the CIFAR-10 binary release (10,000 records).
pub const CIFAR10_TEST_FILE: &str = "test_batch.bin";
/// The training file of the CIFAR-100 binary release (50,000 records).
pub const CIFAR100_TRAIN_FILE: &str = "train.bin";
/// The test file of the CIFAR-100 binary release (10,000 records).
pub const CIFAR100_TEST_FILE: &str = "test.bin";

/// CIFAR-10's class names, indexed by label byte (the published `batches.meta.txt`).
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// CIFAR-100's 20 superclass names, indexed by coarse label byte (the published
/// `coarse_label_names.txt`).
pub const CIFAR100_COARSE_CLASSES: [&str; 20] = [
    "aquatic_mammals",
    "fish",
    "flowers",
    "food_containers",
    "fruit_and_vegetables",
    "household_electrical_devices",
    "household_furniture",
    "insects",
    "large_carnivores",
    "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",
    "medium_mammals",
    "non-insect_invertebrates",
    "people",
    "reptiles",
    "small_mammals",
    "trees",
    "vehicles_1",
    "vehicles_2",
];

/// CIFAR-100's 100 class names, indexed by fine label byte (the published
/// `fine_label_names.txt`).
pub const CIFAR100_FINE_CLASSES: [&str; 100] = [
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
];

/// Which label a record's class is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CifarLabels {
    /// CIFAR-10: one label byte, 10 classes.
    Ten,
    /// CIFAR-100 fine labels (100 classes).
    Fine,
    /// CIFAR-100 coarse labels (20 superclasses).
    Coarse,
}

impl CifarLabels {
    fn label_bytes(self) -> usize {
        match self {
            CifarLabels::Ten => 1,
            CifarLabels::Fine | CifarLabels::Coarse => 2,
        }
    }

    /// Number of classes of this labelling: 10, 100 or 20.
    pub fn num_classes(self) -> usize {
        match self {
            CifarLabels::Ten => 10,
            CifarLabels::Fine => 100,
            CifarLabels::Coarse => 20,
        }
    }

    fn release(self) -> &'static str {
        match self {
            CifarLabels::Ten => "CIFAR-10",
            CifarLabels::Fine | CifarLabels::Coarse => "CIFAR-100",
        }
    }
}

/// Pixels (`[n, 3, 32, 32]`, planes as stored) and labels of one binary batch file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CifarRecords {
    /// `[n, 3, 32, 32]` u8: each record's R, G and B planes, rows top to bottom.
    pub pixels: Vec<u8>,
    /// `[n]` class indices, from the label byte chosen by [`CifarLabels`].
    pub labels: Vec<u32>,
}

impl CifarRecords {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The largest batch file read: 1 GiB, seven times CIFAR-100's `train.bin`.
pub const MAX_CIFAR_FILE_BYTES: u64 = 1 << 30;

/// Reads one binary batch file, appending its records to `into`. The file's size is checked
/// before it is read.
pub fn read_cifar_bin(
    path: &Path,
    labels: CifarLabels,
    into: &mut CifarRecords,
) -> Result<(), DataError> {
    let len = std::fs::metadata(path)
        .map_err(|e| DataError::io(path, e))?
        .len();
    check_size(path, len, labels)?;
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_cifar_bin(path, &bytes, labels, into)?;
    warn_if_not_official(path, len / (labels.label_bytes() + CIFAR_PIXELS) as u64);
    Ok(())
}

/// A file of the release's name holding another number of records than the release's
/// (10,000 a file, CIFAR-100's `train.bin` 50,000) is read, and said: a copy cut short at
/// a record's end would otherwise read as a smaller data set without a word.
fn warn_if_not_official(path: &Path, records: u64) {
    let official = match path.file_name().and_then(|n| n.to_str()) {
        Some(CIFAR100_TRAIN_FILE) => 50_000,
        Some(name) if CIFAR10_TRAIN_FILES.contains(&name) => 10_000,
        Some(CIFAR10_TEST_FILE | CIFAR100_TEST_FILE) => 10_000,
        _ => return,
    };
    if records != official {
        log::warn!(
            "{} holds {records} records, the official file {official}: cut short, or a \
             subset of its own",
            path.display()
        );
    }
}

/// A batch file of `len` bytes must hold whole records and fit [`MAX_CIFAR_FILE_BYTES`].
fn check_size(path: &Path, len: u64, labels: CifarLabels) -> Result<(), DataError> {
    let record = (labels.label_bytes() + CIFAR_PIXELS) as u64;
    let layout = match labels {
        CifarLabels::Ten => "1 label byte + 3072 pixel bytes",
        _ => "coarse and fine label bytes + 3072 pixel bytes",
    };
    if len == 0 {
        return Err(DataError::malformed(
            path,
            format!(
                "empty file; a {} batch holds {record}-byte records ({layout})",
                labels.release()
            ),
        ));
    }
    if !len.is_multiple_of(record) {
        return Err(DataError::malformed(
            path,
            format!(
                "size {len} bytes is not a multiple of the {record}-byte {} record ({layout}): \
                 the file is truncated or not a {} binary batch (cut short: delete it and \
                 run again with --download to fetch it again, or put a good copy there)",
                labels.release(),
                labels.release()
            ),
        ));
    }
    if len > MAX_CIFAR_FILE_BYTES {
        return Err(DataError::malformed(
            path,
            format!(
                "size {len} bytes is more than the {} GiB a {} batch file may have here; the \
                 file is not a {} binary batch",
                MAX_CIFAR_FILE_BYTES >> 30,
                labels.release(),
                labels.release()
            ),
        ));
    }
    Ok(())
}

/// Parses the bytes of one binary batch file, appending its records to `into`; `path` only
/// names the file in errors.
pub fn parse_cifar_bin(
    path: &Path,
    bytes: &[u8],
    labels: CifarLabels,
    into: &mut CifarRecords,
) -> Result<(), DataError> {
    check_size(path, bytes.len() as u64, labels)?;
    let label_bytes = labels.label_bytes();
    let record = label_bytes + CIFAR_PIXELS;
    let count = bytes.len() / record;
    into.pixels.reserve(count * CIFAR_PIXELS);
    into.labels.reserve(count);
    for (i, rec) in bytes.chunks_exact(record).enumerate() {
        let checks: &[(u8, usize, &str)] = match labels {
            CifarLabels::Ten => &[(rec[0], 10, "label")],
            _ => &[(rec[0], 20, "coarse label"), (rec[1], 100, "fine label")],
        };
        for &(value, classes, what) in checks {
            if value as usize >= classes {
                return Err(DataError::malformed(
                    path,
                    format!(
                        "record {i} (byte offset {}): {what} {value} is out of range ({} has \
                         {classes} classes, 0..={}); the file is corrupt or not a {} batch",
                        i * record,
                        labels.release(),
                        classes - 1,
                        labels.release()
                    ),
                ));
            }
        }
        let label = match labels {
            CifarLabels::Ten | CifarLabels::Coarse => rec[0],
            CifarLabels::Fine => rec[1],
        };
        into.labels.push(u32::from(label));
        into.pixels.extend_from_slice(&rec[label_bytes..]);
    }
    Ok(())
}

/// Class names from the release's text file (`batches.meta.txt`, `fine_label_names.txt`,
/// `coarse_label_names.txt`) when it is there and well formed, else the published list.
pub fn class_names(folder: &Path, labels: CifarLabels) -> Vec<String> {
    let (file, builtin): (&str, &[&str]) = match labels {
        CifarLabels::Ten => ("batches.meta.txt", &CIFAR10_CLASSES),
        CifarLabels::Fine => ("fine_label_names.txt", &CIFAR100_FINE_CLASSES),
        CifarLabels::Coarse => ("coarse_label_names.txt", &CIFAR100_COARSE_CLASSES),
    };
    let from_file: Option<Vec<String>> =
        std::fs::read_to_string(folder.join(file)).ok().map(|text| {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        });
    match from_file {
        Some(names) if names.len() == builtin.len() => names,
        _ => builtin.iter().map(|s| s.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lists_have_published_sizes() {
        assert_eq!(CIFAR100_FINE_CLASSES.len(), 100);
        let mut sorted = CIFAR100_FINE_CLASSES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 100);
        assert_eq!(CIFAR100_COARSE_CLASSES.len(), 20);
    }
}
