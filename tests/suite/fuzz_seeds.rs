//! The fuzz targets' seed inputs (fuzz/seeds/<target>/) through the same reader functions
//! as the targets, in the ordinary test run: every input is read or refused, never a
//! panic, and the inputs named `regression-*` (crashes the fuzzing found or that were
//! crafted for it) are refused.

use std::path::{Path, PathBuf};

use etaprobe::data::boston::parse_boston_csv;
use etaprobe::data::cifar::{parse_cifar_bin, CifarLabels, CifarRecords};
use etaprobe::data::idx::parse_idx;
use etaprobe::data::image_folder::{decode_image, probe_image, ImageFormat};
use etaprobe::rundir::checkpoint;

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Checks `read(seed)` for every seed of `target`: regressions must be errors, the others
/// must read.
fn check<T, E: std::fmt::Display>(target: &str, read: impl Fn(&Path, &[u8]) -> Result<T, E>) {
    for (path, bytes) in seeds(target) {
        let regression = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("regression-"));
        match read(&path, &bytes) {
            Ok(_) => assert!(!regression, "{} was read", path.display()),
            Err(e) => assert!(regression, "{}: {e}", path.display()),
        }
    }
}

#[test]
fn idx_seeds() {
    check("idx", parse_idx);
}

#[test]
fn boston_csv_seeds() {
    check("boston_csv", parse_boston_csv);
}

#[test]
fn cifar_bin_seeds() {
    check("cifar_bin", |path, bytes| {
        let labels = if bytes.len() % 3073 == 0 {
            CifarLabels::Ten
        } else {
            CifarLabels::Fine
        };
        parse_cifar_bin(path, bytes, labels, &mut CifarRecords::default())
    });
}

#[test]
fn image_file_seeds() {
    check("image_file", |path, bytes| {
        let header = probe_image(path, bytes)?;
        let format = ImageFormat {
            shape: [
                header.channels,
                header.height as usize,
                header.width as usize,
            ],
            first: path,
        };
        let mut pixels = vec![0u8; format.shape.iter().product()];
        decode_image(path, bytes, &format, &mut pixels)
    });
}

#[test]
fn checkpoint_seeds() {
    check("checkpoint", checkpoint::load_bytes);
}
