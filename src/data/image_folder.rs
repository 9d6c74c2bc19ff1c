//! Image folders: `ROOT/{train,test}/<class>/*.{png,jpg,jpeg}`.
//!
//! Classes are the sorted folder names under `train/`; `test/` must have the same ones.
//! The first training image fixes the size and the channel count (grey images give 1
//! channel, anything else 3); every other image must have that size and is converted to
//! that channel count.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use image::DynamicImage;

use super::DataError;

pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Images handed to a decoding thread at a time: small enough to balance the threads,
/// large enough that the shared work queue is rarely touched.
const DECODE_CHUNK: usize = 64;

/// One split, decoded: `[n, channels, height, width]` u8 pixels and class indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedImages {
    pub pixels: Vec<u8>,
    pub labels: Vec<u32>,
}

/// A whole image-folder data set, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFolder {
    pub train: DecodedImages,
    pub test: DecodedImages,
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
pub fn class_folders(dir: &Path) -> Result<Vec<String>, DataError> {
    let mut names: Vec<String> = read_dir_sorted(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(String::from))
        .filter(|n| !n.starts_with('.'))
        .collect();
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

/// Reads and decodes a whole image-folder tree.
pub fn read_image_folder(root: &Path) -> Result<ImageFolder, DataError> {
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
    let train_files = list_split(&train_dir, &class_names)?;
    let test_files = list_split(&test_dir, &class_names)?;

    let first = &train_files[0].0;
    let first_image = decode_file(first)?;
    let channels = if first_image.color().has_color() {
        3
    } else {
        1
    };
    let shape = [
        channels,
        first_image.height() as usize,
        first_image.width() as usize,
    ];
    let format = ImageFormat { shape, first };

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

fn decode_file(path: &Path) -> Result<DynamicImage, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    image::load_from_memory(&bytes).map_err(|error| DataError::Image {
        path: path.to_path_buf(),
        error,
    })
}

/// Decodes one file into `dst` as planar `[c, h, w]`.
pub fn decode_into(path: &Path, format: &ImageFormat, dst: &mut [u8]) -> Result<(), DataError> {
    let image = decode_file(path)?;
    let [channels, height, width] = format.shape;
    if (image.width() as usize, image.height() as usize) != (width, height) {
        return Err(DataError::malformed(
            path,
            format!(
                "image is {}x{} but the data set's images are {width}x{height} (the size of \
                 {}); all images of a data set must have the same size",
                image.width(),
                image.height(),
                format.first.display()
            ),
        ));
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
