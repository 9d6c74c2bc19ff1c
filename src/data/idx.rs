//! IDX files of the MNIST family (MNIST, Fashion-MNIST, ...), raw or gzip-compressed.
//!
//! Layout: magic `00 00 08 NDIMS` (0x08 = unsigned bytes), NDIMS big-endian u32 sizes, then
//! the bytes in row-major order.

use std::io::Read;
use std::path::Path;

/// The fix for a damaged file: `--download` reads a file already there, so it must go
/// first.
const FETCH_AGAIN: &str =
    "delete it and run again with --download to fetch it again (or put a good copy there)";

use flate2::read::MultiGzDecoder;

use super::DataError;

/// A decoded IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The sizes the header announces, outermost first (`[n]` for labels, `[n, rows, cols]`
    /// for images).
    pub dims: Vec<usize>,
    /// The elements in row-major order; exactly the product of `dims` bytes.
    pub data: Vec<u8>,
}

/// Grey images `[n, rows, cols]` from an `idx3-ubyte` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Height of each image, in pixels.
    pub rows: usize,
    /// Width of each image, in pixels.
    pub cols: usize,
    /// `[count, rows, cols]` u8 grey levels, row-major, as stored in the file.
    pub pixels: Vec<u8>,
}

/// The four files of Fashion-MNIST (and MNIST), without the `.gz` suffix.
pub const FASHION_MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Fashion-MNIST's class names, indexed by label.
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

/// The largest IDX body read: 2 GiB, four times EMNIST ByClass (the largest MNIST-family
/// release). A header announcing more is refused before anything is decompressed.
pub const MAX_IDX_BYTES: u64 = 2 << 30;

/// Deflate's largest possible expansion (a 258-byte match in each ~2-bit code), so a gzip
/// stream of `n` bytes never holds more than `n * MAX_DEFLATE_RATIO` bytes.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Reads an IDX file; gzip compression is detected from the content, not the file name.
/// The file's size is checked before it is read.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    read_idx_of(path, None)
}

/// [`read_idx`] of a file that must hold `dims` dimensions, when given: a file of another
/// kind (labels where images belong) is named as such from its magic number, before its
/// header's sizes are read as what they are not.
fn read_idx_of(path: &Path, dims: Option<usize>) -> Result<IdxArray, DataError> {
    let len = std::fs::metadata(path)
        .map_err(|e| DataError::io(path, e))?
        .len();
    // The longest header: 255 dimensions.
    if len > MAX_IDX_BYTES + 4 + 4 * 255 {
        return Err(DataError::malformed(
            path,
            format!(
                "{len} bytes, more than the {} GiB an IDX file may hold here; the file is \
                 corrupt or not an IDX file",
                MAX_IDX_BYTES >> 30
            ),
        ));
    }
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_idx_of(path, &raw, dims)
}

/// Parses the bytes of an IDX file, raw or gzip-compressed (one member or several
/// concatenated); `path` only names the file in errors.
///
/// The header is read and checked first; only then is the body decompressed, and never
/// beyond the size the header announces, so a gzip bomb costs no more memory than the
/// array it claims to hold.
pub fn parse_idx(path: &Path, raw: &[u8]) -> Result<IdxArray, DataError> {
    parse_idx_of(path, raw, None)
}

fn parse_idx_of(path: &Path, raw: &[u8], want: Option<usize>) -> Result<IdxArray, DataError> {
    let gzip = raw.starts_with(&GZIP_MAGIC);
    let (most_body, mut reader): (u64, Box<dyn Read + '_>) = if gzip {
        let most = (raw.len() as u64).saturating_mul(MAX_DEFLATE_RATIO);
        (most, Box::new(MultiGzDecoder::new(raw)))
    } else {
        (raw.len() as u64, Box::new(raw))
    };
    let corrupt = |e: std::io::Error| {
        DataError::malformed(
            path,
            format!("corrupt or truncated gzip data ({e}); {FETCH_AGAIN}"),
        )
    };
    let magic = read_at_most(&mut reader, 4).map_err(corrupt)?;
    let Ok(magic) = <[u8; 4]>::try_from(magic.as_slice()) else {
        return Err(DataError::malformed(
            path,
            format!(
                "truncated: {} bytes, shorter than the 4-byte IDX magic number",
                magic.len()
            ),
        ));
    };
    let ndims = check_magic(path, magic)?;
    if let Some(want) = want.filter(|&w| w != ndims) {
        let kind = |n: usize| match n {
            1 => "a label file (idx1)".to_string(),
            3 => "an image file (idx3)".to_string(),
            n => format!("a {n}-dimensional IDX file"),
        };
        return Err(DataError::malformed(
            path,
            format!(
                "{} where {} belongs (magic 0x{:08x}, expected 0x{:08x}); are the files' \
                 names swapped?",
                kind(ndims),
                kind(want),
                u32::from_be_bytes(magic),
                0x0800 | want as u32
            ),
        ));
    }
    let header_len = 4 + 4 * ndims;
    let dim_bytes = read_at_most(&mut reader, 4 * ndims as u64).map_err(corrupt)?;
    if dim_bytes.len() < 4 * ndims {
        return Err(DataError::malformed(
            path,
            format!(
                "truncated: {} bytes, shorter than the {header_len}-byte header of a \
                 {ndims}-dimensional IDX file",
                4 + dim_bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&bytes| bytes <= MAX_IDX_BYTES)
        .ok_or_else(|| {
            DataError::malformed(
                path,
                format!(
                    "the header announces dimensions {dims:?}, more than the {} GiB an IDX \
                     file may hold here; the file is corrupt or not an IDX file",
                    MAX_IDX_BYTES >> 30
                ),
            )
        })?;
    if expected > most_body {
        let what = if gzip {
            format!("{} compressed bytes cannot hold that much", raw.len())
        } else {
            format!("the file has {} bytes", raw.len())
        };
        return Err(DataError::malformed(
            path,
            format!(
                "truncated: the header announces dimensions {dims:?} ({expected} bytes of \
                 data) but {what}; {FETCH_AGAIN}"
            ),
        ));
    }
    // One byte more than announced is read to find trailing data without decompressing it.
    let data = read_at_most(&mut reader, expected + 1).map_err(corrupt)?;
    let found = data.len() as u64;
    if found < expected {
        return Err(DataError::malformed(
            path,
            format!(
                "truncated: the header announces dimensions {dims:?} ({expected} bytes of \
                 data) but the file holds {found}; {FETCH_AGAIN}"
            ),
        ));
    }
    if found > expected {
        return Err(DataError::malformed(
            path,
            format!(
                "bytes after the data announced by the header (dimensions {dims:?}); the \
                 file is corrupt or not an IDX file"
            ),
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Checks the 4-byte magic number and returns the number of dimensions.
fn check_magic(path: &Path, magic: [u8; 4]) -> Result<usize, DataError> {
    let number = u32::from_be_bytes(magic);
    if magic[0] != 0 || magic[1] != 0 || magic[3] == 0 {
        return Err(DataError::malformed(
            path,
            format!(
                "wrong magic number 0x{number:08x}: not an IDX file (expected 0x00000801 for \
                 labels or 0x00000803 for images)"
            ),
        ));
    }
    if magic[2] != UNSIGNED_BYTE {
        return Err(DataError::malformed(
            path,
            format!(
                "IDX element type 0x{:02x} is not supported (magic 0x{number:08x}); only \
                 unsigned bytes (0x08) are",
                magic[2]
            ),
        ));
    }
    Ok(magic[3] as usize)
}

/// The next `most` bytes of `reader`, fewer only where it ends; allocates no more than that.
fn read_at_most(reader: &mut dyn Read, most: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(most.min(MAX_IDX_BYTES) as usize);
    reader.take(most).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads an `idx3-ubyte` image file.
pub fn read_idx_images(path: &Path) -> Result<IdxImages, DataError> {
    let array = read_idx_of(path, Some(3))?;
    match array.dims[..] {
        [_, rows, cols] if rows == 0 || cols == 0 => Err(DataError::malformed(
            path,
            format!("images of {rows}×{cols} pixels: the header's dimensions hold no pixel"),
        )),
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
    // One dimension: read_idx_of has checked the magic number.
    let array = read_idx_of(path, Some(1))?;
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
            "{}: missing {name}.gz (or uncompressed {name}); the folder must hold all of {}.gz \
             (the cache's copy, cut short, is completed by --download)",
            dir.display(),
            FASHION_MNIST_FILES.join(".gz, ")
        ),
    })
}

/// Both splits of an MNIST-style folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxDataset {
    /// The training images (`train-images-idx3-ubyte`).
    pub train_images: IdxImages,
    /// One class index per training image (`train-labels-idx1-ubyte`).
    pub train_labels: Vec<u32>,
    /// The test images (`t10k-images-idx3-ubyte`), the same size as the training images.
    pub test_images: IdxImages,
    /// One class index per test image (`t10k-labels-idx1-ubyte`).
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
