//! IDX files of the MNIST family (MNIST, Fashion-MNIST, ...), raw or gzip-compressed.
//!
//! Layout: magic `00 00 08 NDIMS` (0x08 = unsigned bytes), NDIMS big-endian u32 sizes, then
//! the bytes in row-major order.

use std::io::Read;
use std::path::Path;

use super::DataError;

/// A decoded IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Grey images `[n, rows, cols]` from an `idx3-ubyte` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// The four files of Fashion-MNIST (and MNIST), without the `.gz` suffix.
pub const FASHION_MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UNSIGNED_BYTE: u8 = 0x08;

/// Reads an IDX file; gzip compression is detected from the content, not the file name.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bytes = if raw.starts_with(&GZIP_MAGIC) {
        // The gzip trailer holds the uncompressed size (mod 2^32): a capacity hint only.
        let hint = raw.len().checked_sub(4).map_or(0, |at| {
            u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]])
        });
        let mut out = Vec::with_capacity((hint as usize).min(1 << 30));
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| {
                DataError::malformed(
                    path,
                    format!("corrupt or truncated gzip data ({e}); download the file again"),
                )
            })?;
        out
    } else {
        raw
    };
    parse_idx(path, bytes)
}

fn parse_idx(path: &Path, mut bytes: Vec<u8>) -> Result<IdxArray, DataError> {
    if bytes.len() < 4 {
        return Err(DataError::malformed(
            path,
            format!(
                "truncated: {} bytes, shorter than the 4-byte IDX magic number",
                bytes.len()
            ),
        ));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if bytes[0] != 0 || bytes[1] != 0 || bytes[3] == 0 {
        return Err(DataError::malformed(
            path,
            format!(
                "wrong magic number 0x{magic:08x}: not an IDX file (expected 0x00000801 for \
                 labels or 0x00000803 for images)"
            ),
        ));
    }
    if bytes[2] != UNSIGNED_BYTE {
        return Err(DataError::malformed(
            path,
            format!(
                "IDX element type 0x{:02x} is not supported (magic 0x{magic:08x}); only \
                 unsigned bytes (0x08) are",
                bytes[2]
            ),
        ));
    }
    let ndims = bytes[3] as usize;
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(DataError::malformed(
            path,
            format!(
                "truncated: {} bytes, shorter than the {header_len}-byte header of a \
                 {ndims}-dimensional IDX file",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| DataError::malformed(path, format!("absurd IDX dimensions {dims:?}")))?;
    let found = bytes.len() - header_len;
    if found < expected {
        return Err(DataError::malformed(
            path,
            format!(
                "truncated: the header announces dimensions {dims:?} ({expected} bytes of \
                 data) but the file holds {found}; download it again"
            ),
        ));
    }
    if found > expected {
        return Err(DataError::malformed(
            path,
            format!(
                "{} bytes after the data announced by the header (dimensions {dims:?}); the \
                 file is corrupt or not an IDX file",
                found - expected
            ),
        ));
    }
    bytes.drain(..header_len);
    Ok(IdxArray { dims, data: bytes })
}

/// Reads an `idx3-ubyte` image file.
pub fn read_idx_images(path: &Path) -> Result<IdxImages, DataError> {
    let array = read_idx(path)?;
    match array.dims[..] {
        [count, rows, cols] => Ok(IdxImages {
            count,
            rows,
            cols,
            pixels: array.data,
        }),
        _ => Err(DataError::malformed(
            path,
            format!(
                "expected a 3-dimensional image array (idx3), found {} dimensions {:?}; is \
                 this a label file?",
                array.dims.len(),
                array.dims
            ),
        )),
    }
}

/// Reads an `idx1-ubyte` label file and checks every label is below `num_classes`.
pub fn read_idx_labels(path: &Path, num_classes: usize) -> Result<Vec<u32>, DataError> {
    let array = read_idx(path)?;
    if array.dims.len() != 1 {
        return Err(DataError::malformed(
            path,
            format!(
                "expected a 1-dimensional label array (idx1), found {} dimensions {:?}; is \
                 this an image file?",
                array.dims.len(),
                array.dims
            ),
        ));
    }
    if let Some((i, &label)) = array
        .data
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= num_classes)
    {
        return Err(DataError::malformed(
            path,
            format!(
                "label {label} of item {i} is out of range (the data set has {num_classes} \
                 classes, 0..={})",
                num_classes - 1
            ),
        ));
    }
    Ok(array.data.into_iter().map(u32::from).collect())
}

/// Finds `name.gz`, else the uncompressed `name`, in `dir`.
pub fn find_idx_file(dir: &Path, name: &str) -> Result<std::path::PathBuf, DataError> {
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    Err(DataError::NotFound {
        message: format!(
            "{}: missing {name}.gz (or uncompressed {name}); the folder must hold all of {}.gz",
            dir.display(),
            FASHION_MNIST_FILES.join(".gz, ")
        ),
    })
}

/// Both splits of an MNIST-style folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxDataset {
    pub train_images: IdxImages,
    pub train_labels: Vec<u32>,
    pub test_images: IdxImages,
    pub test_labels: Vec<u32>,
}

/// Reads the four files of an MNIST-style folder and checks that they agree.
pub fn read_idx_folder(dir: &Path, num_classes: usize) -> Result<IdxDataset, DataError> {
    let paths = FASHION_MNIST_FILES
        .iter()
        .map(|name| find_idx_file(dir, name))
        .collect::<Result<Vec<_>, _>>()?;
    let read_pair = |images: &Path, labels: &Path| -> Result<(IdxImages, Vec<u32>), DataError> {
        let pixels = read_idx_images(images)?;
        let classes = read_idx_labels(labels, num_classes)?;
        if pixels.count != classes.len() {
            return Err(DataError::malformed(
                labels,
                format!(
                    "{} labels, but {} holds {} images; the two files must come from the same \
                     release",
                    classes.len(),
                    images.display(),
                    pixels.count
                ),
            ));
        }
        Ok((pixels, classes))
    };
    let (train_images, train_labels) = read_pair(&paths[0], &paths[1])?;
    let (test_images, test_labels) = read_pair(&paths[2], &paths[3])?;
    if (test_images.rows, test_images.cols) != (train_images.rows, train_images.cols) {
        return Err(DataError::malformed(
            &paths[2],
            format!(
                "images are {}x{} but the training images ({}) are {}x{}",
                test_images.cols,
                test_images.rows,
                paths[0].display(),
                train_images.cols,
                train_images.rows
            ),
        ));
    }
    Ok(IdxDataset {
        train_images,
        train_labels,
        test_images,
        test_labels,
    })
}
