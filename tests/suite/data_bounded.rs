//! Bounded inputs: every reader checks declared sizes before it allocates or decompresses,
//! and refuses what it cannot hold with an error naming the file (issue 21, items 4 and 6).

use std::path::Path;

use etaprobe::data::cifar::MAX_CIFAR_FILE_BYTES;
use etaprobe::data::idx::{parse_idx, FASHION_MNIST_FILES};
use etaprobe::data::image_folder::probe_image;
use etaprobe::data::synth::{self, write_fake_dataset, write_image_folder};
use etaprobe::data::DatasetKind;

use crate::data_images::CLASSES;
use crate::data_readers::{assert_error, load, open, temp};

// ---------------------------------------------------------------- IDX

#[test]
fn idx_two_member_gzip_loads() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 10, 4, 1).unwrap();
    let whole = load(DatasetKind::FashionMnist, dir.path()).unwrap();
    // The same labels file, compressed as two gzip members one after the other (what
    // `cat a.gz b.gz` or a parallel compressor writes).
    let classes: Vec<u8> = whole
        .train
        .labels()
        .unwrap()
        .iter()
        .map(|&l| l as u8)
        .collect();
    let labels = synth::idx_bytes(&[10], &classes, false);
    let mut two = synth::gzip_bytes(&labels[..7]);
    two.extend(synth::gzip_bytes(&labels[7..]));
    std::fs::write(folder.join(format!("{}.gz", FASHION_MNIST_FILES[1])), two).unwrap();
    let again = load(DatasetKind::FashionMnist, dir.path()).unwrap();
    assert_eq!(again.train.labels(), whole.train.labels());
}

#[test]
fn idx_header_beyond_the_cap_is_refused_before_the_body() {
    let path = Path::new("huge.gz");
    let mut bytes = synth::idx_bytes(&[65536, 65536, 2], &[], false);
    bytes.extend([0u8; 64]);
    let error = parse_idx(path, &synth::gzip_bytes(&bytes))
        .unwrap_err()
        .to_string();
    assert!(error.contains("huge.gz"), "{error}");
    assert!(error.contains("[65536, 65536, 2]"), "{error}");
    assert!(error.contains("more than the 2 GiB"), "{error}");
}

#[test]
fn idx_file_beyond_the_cap_is_refused_unread() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 10, 4, 1).unwrap();
    let images = folder.join(format!("{}.gz", FASHION_MNIST_FILES[0]));
    // Sparse: 3 GiB that cost no disk, and would cost 3 GiB of memory if read.
    std::fs::File::create(&images)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    assert_error(
        load(DatasetKind::FashionMnist, dir.path()),
        &images,
        &["more than the 2 GiB"],
    );
}

#[test]
fn idx_gzip_announcing_more_than_it_can_hold_is_refused() {
    let bytes = synth::idx_bytes(&[100_000, 28, 28], &[0; 784], false);
    let gz = synth::gzip_bytes(&bytes);
    let error = parse_idx(Path::new("t.gz"), &gz).unwrap_err().to_string();
    assert!(
        error.contains(&format!("{} compressed bytes cannot hold", gz.len())),
        "{error}"
    );
}

#[test]
fn idx_gzip_bomb_after_a_valid_header_stops_at_the_announced_size() {
    // 10 images of 28x28, then 64 MiB of zeros that compress to about 64 kB.
    let mut bytes = synth::idx_bytes(&[10, 28, 28], &[0; 7840], false);
    bytes.resize(bytes.len() + (64 << 20), 0);
    let gz = synth::gzip_bytes(&bytes);
    let error = parse_idx(Path::new("bomb.gz"), &gz)
        .unwrap_err()
        .to_string();
    assert!(error.contains("bytes after the data announced"), "{error}");
}

// ---------------------------------------------------------------- image folders

#[test]
fn odd_sized_first_image_is_named_not_allocated_for() {
    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (3, 2), [3, 8, 8], "png", 1).unwrap();
    // The first training image (classes sort to airplane, cat, dog) is the odd one.
    let odd = dir.path().join("train/airplane/0000.png");
    synth::save_chw(&odd, &[9; 3 * 64 * 48], [3, 64, 48]).unwrap();
    assert_error(
        open(DatasetKind::Cifar10, dir.path()),
        &odd,
        &["image is 48x64", "images are 8x8", "same size"],
    );
}

/// A PNG that declares `width` x `height` grey pixels and holds a few bytes of image data.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00]);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn image_declaring_huge_sides_is_refused_from_its_header() {
    let error = probe_image(Path::new("big.png"), &png_declaring(9000, 9000))
        .unwrap_err()
        .to_string();
    assert!(error.contains("big.png"), "{error}");
    assert!(error.contains("declares 9000x9000"), "{error}");
    let small = probe_image(Path::new("small.png"), &png_declaring(5, 3)).unwrap();
    assert_eq!((small.width, small.height, small.channels), (5, 3, 1));

    let dir = temp();
    write_image_folder(dir.path(), &CLASSES, (2, 1), [1, 8, 8], "png", 1).unwrap();
    let big = dir.path().join("test/cat/0000.png");
    std::fs::write(&big, png_declaring(9000, 9000)).unwrap();
    assert_error(
        open(DatasetKind::FashionMnist, dir.path()),
        &big,
        &["declares 9000x9000"],
    );
}

// ---------------------------------------------------------------- CIFAR and Boston

#[test]
fn cifar_file_beyond_the_cap_is_refused_unread() {
    let dir = temp();
    let folder = write_fake_dataset(DatasetKind::Cifar10, dir.path(), 10, 4, 1).unwrap();
    let batch = folder.join("data_batch_1.bin");
    // Whole records, one more than the cap holds; sparse, so it costs no disk.
    let records = MAX_CIFAR_FILE_BYTES / 3073 + 1;
    std::fs::File::create(&batch)
        .unwrap()
        .set_len(records * 3073)
        .unwrap();
    assert_error(
        open(DatasetKind::Cifar10, &folder),
        &batch,
        &["more than the 1 GiB"],
    );
}

#[test]
fn boston_csv_beyond_the_cap_is_refused_unread() {
    let dir = temp();
    let file = dir.path().join("boston.csv");
    std::fs::File::create(&file)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    assert_error(
        open(DatasetKind::Boston, &file),
        &file,
        &["more than the 64 MiB"],
    );
}

#[test]
fn boston_value_beyond_f32_range_is_a_data_error_naming_the_cell() {
    let dir = temp();
    let file = write_fake_dataset(DatasetKind::Boston, dir.path(), 8, 2, 1).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let column = lines[0].split(',').position(|c| c == "rm").unwrap();
    let mut cells: Vec<&str> = lines[2].split(',').collect();
    cells[column] = "1e39";
    lines[2] = cells.join(",");
    std::fs::write(&file, lines.join("\n")).unwrap();
    assert_error(
        open(DatasetKind::Boston, &file),
        &file,
        &[
            "line 3, column `rm`",
            "`1e39`",
            "beyond the range of a 32-bit float",
        ],
    );
}

// ---------------------------------------------------------------- splits

#[test]
fn empty_test_split_is_refused_as_nothing_to_evaluate() {
    let dir = temp();
    let split = synth::fake_split(1, 6, [1, 5, 4], 10);
    let files = [
        synth::idx_bytes(&[6, 5, 4], &split.pixels, false),
        synth::idx_bytes(&[6], &split.labels, false),
        synth::idx_bytes(&[0, 5, 4], &[], false),
        synth::idx_bytes(&[0], &[], false),
    ];
    for (name, bytes) in FASHION_MNIST_FILES.iter().zip(files) {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    assert_error(
        open(DatasetKind::FashionMnist, dir.path()),
        dir.path(),
        &["the test split is empty", "nothing to evaluate"],
    );
}
