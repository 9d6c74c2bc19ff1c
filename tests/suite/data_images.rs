//! Image-folder data sets (PNG, JPEG, grey) on generated files, good and broken.

use etaprobe::data::synth::{self, write_image_folder};
use etaprobe::data::DatasetKind;

use crate::data_readers::{assert_error, load, open, temp};

pub(crate) const CLASSES: [&str; 3] = ["cat", "airplane", "dog"];

#[test]
fn png_image_folder_loads_exactly_with_sorted_classes() {
    let dir = temp();
    let root = dir.path().join("cifar10-jpeg");
    write_image_folder(&root, &CLASSES, (4, 2), [3, 8, 6], "png", 11).unwrap();
    // Found under its conventional name in a data root.
    let data = load(DatasetKind::Cifar10, dir.path()).unwrap();
    assert_eq!(data.source, root);
    assert_eq!(data.class_names, ["airplane", "cat", "dog"]);
    assert_eq!(data.num_classes, 3);
    assert_eq!(data.input_shape, [3, 8, 6]);
    assert_eq!((data.train.len(), data.test.len()), (12, 6));
    let labels = data.train.labels().unwrap();
    assert_eq!(labels, &[0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    // Sorted class "airplane" was written as class index 1 of CLASSES.
    let expected = synth::image_folder_pixels(11, false, 1, 4, [3, 8, 6]);
    assert_eq!(
        &data.train.pixels().unwrap()[..expected.len()],
        &expected[..]
    );
    let expected = synth::image_folder_pixels(11, true, 2, 2, [3, 8, 6]);
    assert_eq!(&data.test.pixels().unwrap()[4 * 144..], &expected[..]);
}

#[test]
fn jpeg_and_grey_image_folders() {
    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (3, 1), [3, 32, 32], "jpg", 1).unwrap();
    let data = open(DatasetKind::Cifar10, dir.path()).unwrap();
    assert_eq!(data.input_shape, [3, 32, 32]);
    assert_eq!(data.train.len(), 9);

    let grey = temp();
    write_image_folder(grey.path(), &CLASSES, (2, 2), [1, 28, 28], "png", 1).unwrap();
    let data = open(DatasetKind::FashionMnist, grey.path()).unwrap();
    assert_eq!(data.input_shape, [1, 28, 28]);
    assert_eq!(
        &data.train.pixels().unwrap()[..784 * 2],
        &synth::image_folder_pixels(1, false, 1, 2, [1, 28, 28])[..]
    );
}

/// The channel count is the data set's, not the first image's: one grey image first in
/// a CIFAR-10 folder is read as colour (its grey in the three planes), one colour image
/// first in a Fashion-MNIST folder as grey.
#[test]
fn one_image_does_not_decide_the_channels() {
    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (3, 1), [3, 8, 8], "png", 1).unwrap();
    let first = dir.path().join("train/airplane/0000.png");
    let grey: Vec<u8> = (0..64).map(|i| i * 3).collect();
    synth::save_chw(&first, &grey, [1, 8, 8]).unwrap();
    let data = open(DatasetKind::Cifar10, dir.path()).unwrap();
    assert_eq!(data.input_shape, [3, 8, 8]);
    let pixels = data.train.pixels().unwrap();
    assert_eq!(
        &pixels[..192],
        &[&grey[..], &grey[..], &grey[..]].concat()[..]
    );
    // The other images keep their colour.
    let second = synth::image_folder_pixels(1, false, 1, 3, [3, 8, 8]);
    assert_eq!(&pixels[192..192 * 3], &second[192..]);

    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (2, 1), [1, 8, 8], "png", 1).unwrap();
    let first = dir.path().join("train/airplane/0000.png");
    synth::save_chw(&first, &[200; 3 * 64], [3, 8, 8]).unwrap();
    let data = open(DatasetKind::FashionMnist, dir.path()).unwrap();
    assert_eq!(data.input_shape, [1, 8, 8]);
    assert_eq!(&data.train.pixels().unwrap()[..64], &[200; 64]);
}

/// A class folder whose name is not UTF-8 is refused by name, not dropped with its images.
#[cfg(unix)]
#[test]
fn a_class_folder_named_in_another_encoding_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (2, 1), [3, 8, 8], "png", 1).unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"d\xe9j\xe0");
    for split in ["train", "test"] {
        let folder = dir.path().join(split).join(odd);
        std::fs::create_dir(&folder).unwrap();
        synth::save_chw(&folder.join("0000.png"), &[9; 192], [3, 8, 8]).unwrap();
    }
    assert_error(
        open(DatasetKind::Cifar10, dir.path()),
        &dir.path().join("train"),
        &["not UTF-8"],
    );
}

#[test]
fn image_of_the_wrong_size_is_named() {
    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (3, 2), [3, 8, 8], "png", 1).unwrap();
    let bad = dir.path().join("test/dog/0001.png");
    synth::save_chw(&bad, &[9; 3 * 8 * 7], [3, 8, 7]).unwrap();
    assert_error(
        open(DatasetKind::Cifar10, dir.path()),
        &bad,
        &["image is 7x8", "8x8", "same size"],
    );
}

#[test]
fn a_single_class_is_refused() {
    let dir = temp();
    write_image_folder(dir.path(), &CLASSES[..1], (2, 1), [3, 8, 8], "png", 1).unwrap();
    assert_error(
        open(DatasetKind::Cifar10, dir.path()),
        &dir.path().join("train"),
        &["one class folder", "at least two"],
    );
}

#[test]
fn empty_class_folder_is_named() {
    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (2, 1), [3, 8, 8], "png", 1).unwrap();
    let empty = dir.path().join("train/zebra");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not an image").unwrap();
    std::fs::write(empty.join("._0000.jpg"), "macOS metadata").unwrap();
    assert_error(
        open(DatasetKind::Cifar10, dir.path()),
        &empty,
        &["empty class folder"],
    );
}

#[test]
fn undecodable_image_and_class_mismatch() {
    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (2, 1), [3, 8, 8], "png", 1).unwrap();
    let bad = dir.path().join("train/cat/0001.png");
    std::fs::write(&bad, b"definitely not a png").unwrap();
    assert_error(
        open(DatasetKind::Cifar10, dir.path()),
        &bad,
        &["cannot decode image"],
    );

    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (2, 1), [3, 8, 8], "png", 1).unwrap();
    std::fs::rename(dir.path().join("test/dog"), dir.path().join("test/wolf")).unwrap();
    assert_error(
        open(DatasetKind::Cifar10, dir.path()),
        &dir.path().join("test"),
        &["missing: [dog]", "unexpected: [wolf]"],
    );

    std::fs::remove_dir_all(dir.path().join("test")).unwrap();
    assert_error(
        open(DatasetKind::Cifar10, dir.path()),
        dir.path(),
        &["without a test folder"],
    );
}
