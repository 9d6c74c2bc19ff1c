//! Image folders: `ROOT/{train,test}/<class>/*.{png,jpg,jpeg}`.
//!
//! Classes are the sorted folder names under `train/`; `test/` must have the same ones.
//! Every file's header is read before any pixel is decoded: the size most images share is
//! the data set's size, and a file of another size is an error naming it, so one odd file
//! cannot make the reader allocate for every image at its size. The channel count is the
//! data set's (3 for CIFAR, 1 for Fashion-MNIST), not any one file's: every image is
//! converted to it, and images that had another are counted in a warning.

use std::collections::HashMap;
use std::io::{BufRead, Cursor, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use image::{DynamicImage, ImageDecoder, ImageReader};

use super::DataError;

/// File extensions read as images (compared case-insensitively); other files are ignored.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Images handed to a decoding thread at a time: small enough to balance the threads,
/// large enough that the shared work queue is rarely touched.
const DECODE_CHUNK: usize = 64;

/// The longest side an image may declare: four times a large photo data set's crops, far
/// beyond what the models here train on.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// The most pixel bytes a whole image-folder split may decode to (32 GiB).
pub const MAX_DECODED_BYTES: u64 = 32 << 30;

/// One split, decoded: `[n, channels, height, width]` u8 pixels and class indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedImages {
    /// `[n, channels, height, width]` u8, planar (R, G, B planes for colour images).
    pub pixels: Vec<u8>,
    /// `[n]` class indices into [`ImageFolder::class_names`].
    pub labels: Vec<u32>,
}

/// A whole image-folder data set, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFolder {
    /// The images under `ROOT/train/`.
    pub train: DecodedImages,
    /// The images under `ROOT/test/`.
    pub test: DecodedImages,
    /// The class folder names, sorted; a label is an index into this list.
    pub class_names: Vec<String>,
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
}

/// Lists `(path, class index)` of every image of one split, classes in the given order and
/// files sorted by name within a class.
pub fn list_split(split_dir: &Path, classes: &[String]) -> Result<Vec<(PathBuf, u32)>, DataError> {
    let present = class_folders(split_dir)?;
    if present != classes {
        let missing: Vec<&str> = classes
            .iter()
            .filter(|c| !present.contains(c))
            .map(String::as_str)
            .collect();
        let extra: Vec<&str> = present
            .iter()
            .filter(|c| !classes.contains(c))
            .map(String::as_str)
            .collect();
        return Err(DataError::malformed(
            split_dir,
            format!(
                "class folders differ from train/ (missing: [{}], unexpected: [{}]); train/ and \
                 test/ must hold the same class folders",
                missing.join(", "),
                extra.join(", ")
            ),
        ));
    }
    let mut files = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        let dir = split_dir.join(class);
        let mut images: Vec<PathBuf> = read_dir_sorted(&dir)?
            .into_iter()
            .filter(|p| p.is_file() && has_image_extension(p))
            .collect();
        if images.is_empty() {
            return Err(DataError::malformed(
                &dir,
                format!(
                    "empty class folder: no .{} images; remove the folder or add images",
                    IMAGE_EXTENSIONS.join("/.")
                ),
            ));
        }
        images.sort();
        files.extend(images.into_iter().map(|p| (p, label as u32)));
    }
    Ok(files)
}

/// Sorted names of the non-hidden sub-folders of `dir`.
/// A folder whose name is not UTF-8 is refused, naming it: a class name is written into
/// the records, and leaving the folder out would drop its images silently.
pub fn class_folders(dir: &Path) -> Result<Vec<String>, DataError> {
    let mut names = Vec::new();
    for path in read_dir_sorted(dir)?.into_iter().filter(|p| p.is_dir()) {
        let Some(name) = path.file_name() else {
            continue;
        };
        let Some(name) = name.to_str() else {
            return Err(DataError::malformed(
                &path,
                "a class folder whose name is not UTF-8: rename it (class names are \
                 written into the run's records)",
            ));
        };
        if !name.starts_with('.') {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|e| DataError::io(dir, e))?.path());
    }
    paths.sort();
    Ok(paths)
}

/// Hidden files are skipped: `._name.jpg` files left by macOS are not images.
fn has_image_extension(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    !hidden
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Reads and decodes a whole image-folder tree into images of `channels` channels (1: grey,
/// 3: colour).
pub fn read_image_folder(root: &Path, channels: usize) -> Result<ImageFolder, DataError> {
    let train_dir = root.join("train");
    let test_dir = root.join("test");
    for dir in [&train_dir, &test_dir] {
        if !dir.is_dir() {
            return Err(DataError::malformed(
                root,
                format!(
                    "image-folder data set without a {} folder (expected \
                     ROOT/train/<class>/*.png|jpg and ROOT/test/<class>/*.png|jpg)",
                    dir.file_name().and_then(|n| n.to_str()).unwrap_or("split")
                ),
            ));
        }
    }
    let class_names = class_folders(&train_dir)?;
    if class_names.is_empty() {
        return Err(DataError::malformed(
            &train_dir,
            "no class folders (expected train/<class>/*.png|jpg, one folder per class)",
        ));
    }
    // One class would train a classifier to 100% on nothing to tell apart.
    if class_names.len() == 1 {
        return Err(DataError::malformed(
            &train_dir,
            format!(
                "one class folder ({}): a classifier needs at least two",
                class_names[0]
            ),
        ));
    }
    let train_files = list_split(&train_dir, &class_names)?;
    let test_files = list_split(&test_dir, &class_names)?;

    let train_headers = probe_files(&train_files)?;
    let test_headers = probe_files(&test_files)?;
    let format = common_format(&train_files, &train_headers, channels)?;
    warn_converted(
        root,
        train_files.iter().chain(&test_files),
        train_headers.iter().chain(&test_headers),
        channels,
    );
    for (files, headers) in [(&train_files, &train_headers), (&test_files, &test_headers)] {
        check_sizes(files, headers, &format)?;
        check_total(root, files.len(), format.shape)?;
    }
    let shape = format.shape;

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let decode = |files: &[(PathBuf, u32)]| -> Result<DecodedImages, DataError> {
        let paths: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
        Ok(DecodedImages {
            pixels: decode_parallel(&paths, &format, threads)?,
            labels: files.iter().map(|&(_, l)| l).collect(),
        })
    };
    Ok(ImageFolder {
        train: decode(&train_files)?,
        test: decode(&test_files)?,
        class_names,
        shape,
    })
}

/// What every image of a data set must look like, and the file that decided it.
pub struct ImageFormat<'a> {
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    /// The first training image of that size, named in errors about images of another
    /// size.
    pub first: &'a Path,
}

/// Decodes `paths` on `threads` threads into one `[n, c, h, w]` buffer.
pub fn decode_parallel(
    paths: &[&Path],
    format: &ImageFormat,
    threads: usize,
) -> Result<Vec<u8>, DataError> {
    let sample = format.shape.iter().product::<usize>();
    let mut out = vec![0u8; paths.len() * sample];
    if paths.is_empty() {
        return Ok(out);
    }
    let threads = threads.clamp(1, paths.len().div_ceil(DECODE_CHUNK));
    let work = Mutex::new(
        out.chunks_mut(DECODE_CHUNK * sample)
            .zip(paths.chunks(DECODE_CHUNK)),
    );
    let failed = AtomicBool::new(false);
    let worker = || -> Result<(), DataError> {
        while !failed.load(Ordering::Relaxed) {
            let next = work.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some((dst, chunk)) = next else {
                return Ok(());
            };
            for (dst, path) in dst.chunks_mut(sample).zip(chunk) {
                if let Err(e) = decode_into(path, format, dst) {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        let mut result = Ok(());
        for handle in handles {
            match handle.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    if result.is_ok() {
                        result = Err(e);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        result
    })?;
    Ok(out)
}

/// What an image file declares in its header, read without decoding its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageHeader {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 for grey images, 3 for anything else.
    pub channels: usize,
}

/// Reads the header of the image `bytes` (the content decides the format, not the name)
/// and checks its sides against [`MAX_IMAGE_SIDE`]; `path` only names the file in errors.
pub fn probe_image(path: &Path, bytes: &[u8]) -> Result<ImageHeader, DataError> {
    probe_reader(path, ImageReader::new(Cursor::new(bytes)))
}

fn probe_file(path: &Path) -> Result<ImageHeader, DataError> {
    let reader = ImageReader::open(path).map_err(|e| DataError::io(path, e))?;
    probe_reader(path, reader)
}

fn probe_reader<R: BufRead + Seek>(
    path: &Path,
    reader: ImageReader<R>,
) -> Result<ImageHeader, DataError> {
    let image_error = |error| DataError::Image {
        path: path.to_path_buf(),
        error,
    };
    let decoder = reader
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?
        .into_decoder()
        .map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    if width.max(height) > MAX_IMAGE_SIDE {
        return Err(DataError::malformed(
            path,
            format!(
                "image declares {width}x{height} pixels, more than the {MAX_IMAGE_SIDE} a side \
                 may have; the file is corrupt or not meant for training at this size"
            ),
        ));
    }
    let channels = if decoder.color_type().has_color() {
        3
    } else {
        1
    };
    Ok(ImageHeader {
        width,
        height,
        channels,
    })
}

/// The header of every file, in order.
fn probe_files(files: &[(PathBuf, u32)]) -> Result<Vec<ImageHeader>, DataError> {
    files.iter().map(|(path, _)| probe_file(path)).collect()
}

/// Says how many images have another channel count than the data set's, naming the first:
/// they are converted (a grey one repeated into three planes, a colour one to its luma).
fn warn_converted<'a>(
    root: &Path,
    files: impl Iterator<Item = &'a (PathBuf, u32)>,
    headers: impl Iterator<Item = &'a ImageHeader>,
    channels: usize,
) {
    let (mut other, mut total) = (Vec::new(), 0usize);
    for ((path, _), header) in files.zip(headers) {
        total += 1;
        if header.channels != channels {
            other.push(path);
        }
    }
    if let Some(first) = other.first() {
        let (they, read_as) = match channels {
            1 => ("in colour", "grey, the data set's images"),
            _ => ("grey", "colour, the data set's images"),
        };
        log::warn!(
            "{} of {total} images under {} are {they} (the first: {}); read as {read_as}",
            other.len(),
            root.display(),
            first.display()
        );
    }
}

/// The data set's format: the size most training images have (the first file's on a tie),
/// and the data set's channel count.
fn common_format<'a>(
    files: &'a [(PathBuf, u32)],
    headers: &[ImageHeader],
    channels: usize,
) -> Result<ImageFormat<'a>, DataError> {
    let mut counts: HashMap<(u32, u32), usize> = HashMap::new();
    for h in headers {
        *counts.entry((h.width, h.height)).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    let (at, header) = headers
        .iter()
        .enumerate()
        .find(|(_, h)| counts[&(h.width, h.height)] == most)
        .ok_or_else(|| DataError::Invalid("an image-folder split without images".into()))?;
    Ok(ImageFormat {
        shape: [channels, header.height as usize, header.width as usize],
        first: &files[at].0,
    })
}

/// Every file must have the data set's size.
fn check_sizes(
    files: &[(PathBuf, u32)],
    headers: &[ImageHeader],
    format: &ImageFormat,
) -> Result<(), DataError> {
    let [_, height, width] = format.shape;
    match files
        .iter()
        .zip(headers)
        .find(|(_, h)| (h.width as usize, h.height as usize) != (width, height))
    {
        Some(((path, _), h)) => Err(wrong_size(path, h.width, h.height, format)),
        None => Ok(()),
    }
}

fn wrong_size(path: &Path, found_width: u32, found_height: u32, format: &ImageFormat) -> DataError {
    let [_, height, width] = format.shape;
    DataError::malformed(
        path,
        format!(
            "image is {found_width}x{found_height} but the data set's images are \
             {width}x{height} (the size of {} and most other images); all images of a data \
             set must have the same size",
            format.first.display()
        ),
    )
}

/// The decoded split must fit [`MAX_DECODED_BYTES`].
fn check_total(root: &Path, count: usize, shape: [usize; 3]) -> Result<(), DataError> {
    let bytes = shape
        .iter()
        .try_fold(count as u64, |acc, &d| acc.checked_mul(d as u64));
    match bytes {
        Some(b) if b <= MAX_DECODED_BYTES => Ok(()),
        _ => Err(DataError::malformed(
            root,
            format!(
                "{count} images of {}x{}x{} would decode to more than the {} GiB a split may \
                 hold in memory",
                shape[0],
                shape[1],
                shape[2],
                MAX_DECODED_BYTES >> 30
            ),
        )),
    }
}

/// Decodes the image `bytes` into `dst` as planar `[c, h, w]`; `path` only names the file
/// in errors.
pub fn decode_image(
    path: &Path,
    bytes: &[u8],
    format: &ImageFormat,
    dst: &mut [u8],
) -> Result<(), DataError> {
    let image = image::load_from_memory(bytes).map_err(|error| DataError::Image {
        path: path.to_path_buf(),
        error,
    })?;
    convert_into(path, image, format, dst)
}

/// Decodes one file into `dst` as planar `[c, h, w]`.
pub fn decode_into(path: &Path, format: &ImageFormat, dst: &mut [u8]) -> Result<(), DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode_image(path, &bytes, format, dst)
}

/// Writes `image` into `dst` as planar `[c, h, w]` after checking its size, which the file
/// may have changed since its header was read.
fn convert_into(
    path: &Path,
    image: DynamicImage,
    format: &ImageFormat,
    dst: &mut [u8],
) -> Result<(), DataError> {
    let [channels, height, width] = format.shape;
    if (image.width() as usize, image.height() as usize) != (width, height) {
        return Err(wrong_size(path, image.width(), image.height(), format));
    }
    let plane = width * height;
    if channels == 1 {
        dst.copy_from_slice(image.into_luma8().as_raw());
    } else {
        let rgb = image.into_rgb8();
        let (r, rest) = dst.split_at_mut(plane);
        let (g, b) = rest.split_at_mut(plane);
        for (i, px) in rgb.as_raw().chunks_exact(3).enumerate() {
            r[i] = px[0];
            g[i] = px[1];
            b[i] = px[2];
        }
    }
    Ok(())
}
