//! The Boston CSV, IDX and CIFAR binary readers on small generated files, good and broken,
//! and the helpers that the other `data_*` files share.

use std::path::{Path, PathBuf};

use etaprobe::data::cifar::CIFAR10_CLASSES;
use etaprobe::data::idx::FASHION_MNIST_FILES;
use etaprobe::data::synth::{self, fake_split, split_seeds, write_fake_dataset, FakeSplit};
use etaprobe::data::{DataArgs, DataError, Dataset, DatasetKind, LoadOptions};

pub(crate) fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("etaprobe-data-")
        .tempdir()
        .expect("temporary folder")
}

/// Arguments that look only in `data` and in an empty cache folder of the test's own.
pub(crate) fn args(kind: DatasetKind, data: &Path, cache: &Path) -> DataArgs {
    DataArgs {
        dataset: kind,
        data: Some(data.to_path_buf()),
        cache_dir: Some(cache.to_path_buf()),
        ..DataArgs::default()
    }
}

pub(crate) fn load(kind: DatasetKind, data: &Path) -> Result<Dataset, DataError> {
    let cache = temp();
    args(kind, data, cache.path()).load(7)
}

pub(crate) fn open(kind: DatasetKind, path: &Path) -> Result<Dataset, DataError> {
    Dataset::open(kind, path, &LoadOptions::default())
}

/// Asserts the error message names `file` and contains every one of `words`.
pub(crate) fn assert_error(result: Result<Dataset, DataError>, file: &Path, words: &[&str]) {
    let error = match result {
        Ok(_) => panic!("expected an error about {}", file.display()),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains(&file.display().to_string()),
        "error does not name {}: {error}",
        file.display()
    );
    for word in words {
        assert!(error.contains(word), "error lacks `{word}`: {error}");
    }
}

fn labels_u32(split: &FakeSplit) -> Vec<u32> {
    split.labels.iter().map(|&l| u32::from(l)).collect()
}

// ---------------------------------------------------------------- Boston Housing CSV

#[test]
fn boston_csv_loads_with_seeded_404_102_style_split() {
    let dir = temp();
    let file = write_fake_dataset(DatasetKind::Boston, dir.path(), 40, 10, 3).unwrap();
    let data = load(DatasetKind::Boston, &file).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (40, 10));
    assert_eq!(data.input_shape, [13, 1, 1]);
    assert_eq!(data.num_classes, 0);
    assert!(data.class_names.is_empty());
    assert_eq!(data.source, file);
    // Every written row lands in exactly one split, unchanged.
    let (features, targets) = synth::fake_boston(50, 3);
    let mut loaded: Vec<(Vec<u32>, u32)> = Vec::new();
    for split in [&data.train, &data.test] {
        let f = split.features().unwrap();
        for (row, t) in f.chunks_exact(13).zip(split.values().unwrap()) {
            loaded.push((row.iter().map(|v| v.to_bits()).collect(), t.to_bits()));
        }
    }
    let mut written: Vec<(Vec<u32>, u32)> = features
        .chunks_exact(13)
        .zip(&targets)
        .map(|(row, t)| (row.iter().map(|v| v.to_bits()).collect(), t.to_bits()))
        .collect();
    loaded.sort();
    written.sort();
    assert_eq!(loaded, written);
}

#[test]
fn boston_columns_found_by_name_in_any_order() {
    let dir = temp();
    let file = dir.path().join("shuffled.csv");
    let mut text =
        String::from("\"\",MEDV,lstat,b,ptratio,tax,rad,dis,age,rm,nox,chas,indus,zn,crim\n");
    for i in 0..10 {
        text.push_str(&format!(
            "{i},{},{}",
            20 + i,
            (0..13)
                .map(|j| (i * 13 + j).to_string())
                .collect::<Vec<_>>()
                .join(",")
        ));
        text.push('\n');
    }
    std::fs::write(&file, text).unwrap();
    let data = open(DatasetKind::Boston, &file).unwrap();
    let all: Vec<f32> = [&data.train, &data.test]
        .iter()
        .flat_map(|s| {
            s.features()
                .unwrap()
                .chunks_exact(13)
                .map(|r| r[0])
                .collect::<Vec<_>>()
        })
        .collect();
    // crim is the last column of the file: values i*13 + 12.
    assert!(all.iter().all(|v| (*v as i64 - 12) % 13 == 0), "{all:?}");
}

#[test]
fn boston_non_numeric_cell_is_reported_with_line_and_column() {
    let dir = temp();
    let file = write_fake_dataset(DatasetKind::Boston, dir.path(), 8, 2, 1).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<&str> = lines[3].split(',').collect();
    cells[5] = "abc";
    lines[3] = cells.join(",");
    std::fs::write(&file, lines.join("\n")).unwrap();
    assert_error(
        open(DatasetKind::Boston, &file),
        &file,
        &["line 4", "`rm`", "`abc`", "not a finite number"],
    );
}

#[test]
fn boston_missing_column_is_named() {
    let dir = temp();
    let file = dir.path().join("boston_housing.csv");
    std::fs::write(&file, "crim,zn,indus,chas,nox,rm,age,dis,rad,tax,ptratio,b,lstat\n1,2,3,4,5,6,7,8,9,10,11,12,13\n").unwrap();
    assert_error(
        open(DatasetKind::Boston, &file),
        &file,
        &["missing column `medv`"],
    );
    std::fs::write(
        &file,
        "crim,zn,indus,nox,rm,age,dis,rad,tax,ptratio,b,lstat,medv\n",
    )
    .unwrap();
    assert_error(
        open(DatasetKind::Boston, &file),
        &file,
        &["missing column `chas`"],
    );
    // A column named twice: which one holds the data cannot be told.
    std::fs::write(
        &file,
        "crim,zn,indus,chas,nox,rm,age,dis,rad,tax,ptratio,b,lstat,medv,CRIM\n\
         1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n",
    )
    .unwrap();
    assert_error(
        open(DatasetKind::Boston, &file),
        &file,
        &["names column `crim` twice"],
    );
    // Another separator: said, not only the one long column name.
    for (separator, says) in [(";", "semicolons"), ("\t", "tabs"), (" ", "spaces")] {
        let names = "crim,zn,indus,chas,nox,rm,age,dis,rad,tax,ptratio,b,lstat,medv";
        let header = names.replace(',', separator);
        std::fs::write(&file, format!("{header}\n1{separator}2\n")).unwrap();
        assert_error(
            open(DatasetKind::Boston, &file),
            &file,
            &[&format!("separated by {says}"), "read as comma-separated"],
        );
    }
}

#[test]
fn boston_ragged_row_and_empty_file() {
    let dir = temp();
    let file = write_fake_dataset(DatasetKind::Boston, dir.path(), 8, 2, 1).unwrap();
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("1,2,3\n");
    std::fs::write(&file, &text).unwrap();
    assert_error(
        open(DatasetKind::Boston, &file),
        &file,
        &["line 12", "3 cells", "14 columns"],
    );
    std::fs::write(&file, "").unwrap();
    assert_error(open(DatasetKind::Boston, &file), &file, &["empty file"]);
}

// ---------------------------------------------------------------- IDX (Fashion-MNIST)

#[test]
fn idx_gzip_files_load_exactly() {
    let dir = temp();
    write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 30, 12, 5).unwrap();
    // The data root holds fashion-mnist/ under its conventional name.
    let data = load(DatasetKind::FashionMnist, dir.path()).unwrap();
    let (train_seed, test_seed) = split_seeds(5);
    let train = fake_split(train_seed, 30, [1, 28, 28], 10);
    let test = fake_split(test_seed, 12, [1, 28, 28], 10);
    assert_eq!(data.input_shape, [1, 28, 28]);
    assert_eq!(data.num_classes, 10);
    assert_eq!(data.class_names[0], "T-shirt/top");
    assert_eq!(data.train.pixels().unwrap(), &train.pixels[..]);
    assert_eq!(data.train.labels().unwrap(), &labels_u32(&train)[..]);
    assert_eq!(data.test.pixels().unwrap(), &test.pixels[..]);
    assert_eq!(data.test.labels().unwrap(), &labels_u32(&test)[..]);
    assert_eq!(data.source, dir.path().join("fashion-mnist"));
}

#[test]
fn idx_raw_files_load_and_need_not_be_28x28() {
    let dir = temp();
    let split = fake_split(1, 6, [1, 5, 4], 10);
    for (images, labels) in [(0, 1), (2, 3)] {
        std::fs::write(
            dir.path().join(FASHION_MNIST_FILES[images]),
            synth::idx_bytes(&[6, 5, 4], &split.pixels, false),
        )
        .unwrap();
        std::fs::write(
            dir.path().join(FASHION_MNIST_FILES[labels]),
            synth::idx_bytes(&[6], &split.labels, false),
        )
        .unwrap();
    }
    let data = open(DatasetKind::FashionMnist, dir.path()).unwrap();
    assert_eq!(data.input_shape, [1, 5, 4]);
    assert_eq!(data.test.pixels().unwrap(), &split.pixels[..]);
}

/// Writes a good Fashion-MNIST folder and returns the path of file `which` (0..4).
fn fashion_with(dir: &Path, which: usize, bytes: Vec<u8>) -> PathBuf {
    let folder = write_fake_dataset(DatasetKind::FashionMnist, dir, 10, 4, 1).unwrap();
    let path = folder.join(format!("{}.gz", FASHION_MNIST_FILES[which]));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn idx_wrong_magic_number() {
    let dir = temp();
    let mut bytes = synth::idx_bytes(&[10, 28, 28], &vec![0; 7840], false);
    bytes[0] = 0x12;
    let path = fashion_with(dir.path(), 0, synth::gzip_bytes(&bytes));
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["wrong magic number 0x12000803", "not an IDX file"],
    );
}

#[test]
fn idx_truncated_data_and_truncated_gzip() {
    let dir = temp();
    let bytes = synth::idx_bytes(&[10, 28, 28], &vec![0; 7000], false);
    let path = fashion_with(dir.path(), 0, synth::gzip_bytes(&bytes));
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["truncated", "7840 bytes", "holds 7000"],
    );

    let gz = synth::gzip_bytes(&synth::idx_bytes(&[10, 28, 28], &vec![7; 7840], false));
    let path = fashion_with(dir.path(), 0, gz[..gz.len() / 2].to_vec());
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["gzip"],
    );

    let path = fashion_with(dir.path(), 1, vec![0, 0]);
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["truncated"],
    );
}

#[test]
fn idx_images_without_pixels_are_named() {
    let dir = temp();
    let path = fashion_with(dir.path(), 0, synth::idx_bytes(&[10, 0, 28], &[], false));
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["images of 0×28 pixels"],
    );
}

#[test]
fn idx_label_out_of_range() {
    let dir = temp();
    let mut labels = vec![3u8; 4];
    labels[2] = 10;
    let path = fashion_with(dir.path(), 3, synth::idx_bytes(&[4], &labels, true));
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["label 10 of item 2 is out of range", "10 classes"],
    );
}

#[test]
fn idx_count_mismatch_and_wrong_rank() {
    let dir = temp();
    let path = fashion_with(dir.path(), 1, synth::idx_bytes(&[9], &[1; 9], true));
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["9 labels", "10 images"],
    );
    // Labels where the images belong, and the reverse: named from the magic number, not
    // from the header's sizes read as what they are not.
    let path = fashion_with(dir.path(), 0, synth::idx_bytes(&[10], &[1; 10], true));
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["a label file (idx1) where an image file (idx3) belongs"],
    );
    let dir = temp();
    let path = fashion_with(
        dir.path(),
        1,
        synth::idx_bytes(&[10, 28, 28], &vec![0; 7840], true),
    );
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &path,
        &["an image file (idx3) where a label file (idx1) belongs"],
    );
}

#[test]
fn idx_missing_file_is_named() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 10, 4, 1).unwrap();
    std::fs::remove_file(folder.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &folder,
        &["missing t10k-labels-idx1-ubyte.gz"],
    );
}

// ---------------------------------------------------------------- CIFAR binary

#[test]
fn cifar10_binary_loads_exactly() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::Cifar10, dir.path(), 23, 7, 9).unwrap();
    let data = load(DatasetKind::Cifar10, dir.path()).unwrap();
    let (train_seed, test_seed) = split_seeds(9);
    let train = fake_split(train_seed, 23, [3, 32, 32], 10);
    let test = fake_split(test_seed, 7, [3, 32, 32], 10);
    assert_eq!(data.source, folder);
    assert_eq!((data.train.len(), data.test.len()), (23, 7));
    assert_eq!(data.input_shape, [3, 32, 32]);
    assert_eq!(data.class_names, CIFAR10_CLASSES);
    assert_eq!(data.train.pixels().unwrap(), &train.pixels[..]);
    assert_eq!(data.train.labels().unwrap(), &labels_u32(&train)[..]);
    assert_eq!(data.test.pixels().unwrap(), &test.pixels[..]);
    assert_eq!(data.test.labels().unwrap(), &labels_u32(&test)[..]);
}

#[test]
fn cifar100_fine_by_default_coarse_as_option() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::Cifar100, dir.path(), 120, 30, 2).unwrap();
    let fine = load(DatasetKind::Cifar100, &folder).unwrap();
    let (train_seed, _) = split_seeds(2);
    let expected = fake_split(train_seed, 120, [3, 32, 32], 100);
    assert_eq!(fine.num_classes, 100);
    assert_eq!(fine.class_names[99], "worm");
    assert_eq!(fine.train.labels().unwrap(), &labels_u32(&expected)[..]);
    assert_eq!(fine.train.pixels().unwrap(), &expected.pixels[..]);

    let cache = temp();
    let coarse = DataArgs {
        coarse_labels: true,
        ..args(DatasetKind::Cifar100, &folder, cache.path())
    }
    .load(0)
    .unwrap();
    assert_eq!(coarse.num_classes, 20);
    let coarse_expected: Vec<u32> = expected.labels.iter().map(|&l| u32::from(l / 5)).collect();
    assert_eq!(coarse.train.labels().unwrap(), &coarse_expected[..]);
}

#[test]
fn cifar_truncated_file() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::Cifar10, dir.path(), 10, 3, 1).unwrap();
    let path = folder.join("data_batch_2.bin");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    assert_error(
        load(DatasetKind::Cifar10, dir.path()),
        &path,
        &["not a multiple of the 3073-byte", "truncated"],
    );
    std::fs::write(&path, b"").unwrap();
    assert_error(
        load(DatasetKind::Cifar10, dir.path()),
        &path,
        &["empty file"],
    );
}

#[test]
fn cifar_label_out_of_range() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::Cifar10, dir.path(), 10, 3, 1).unwrap();
    let path = folder.join("test_batch.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[3073] = 10;
    std::fs::write(&path, &bytes).unwrap();
    assert_error(
        load(DatasetKind::Cifar10, dir.path()),
        &path,
        &["record 1", "label 10 is out of range"],
    );

    let folder = write_fake_dataset(DatasetKind::Cifar100, dir.path(), 10, 3, 1).unwrap();
    let path = folder.join("train.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[1] = 100;
    std::fs::write(&path, &bytes).unwrap();
    assert_error(
        load(DatasetKind::Cifar100, dir.path()),
        &path,
        &["record 0", "fine label 100 is out of range"],
    );
}

#[test]
fn cifar_missing_batch_file_is_named() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::Cifar10, dir.path(), 10, 3, 1).unwrap();
    let path = folder.join("data_batch_3.bin");
    std::fs::remove_file(&path).unwrap();
    assert_error(
        load(DatasetKind::Cifar10, dir.path()),
        &path,
        &["missing file", "data_batch_1.bin"],
    );
}
