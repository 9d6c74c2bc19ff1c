//! Finding a data set on disk: `--data PATH` / `ETAPROBE_DATA`, then the cache folder.

use std::path::{Path, PathBuf};

use super::cifar::{
    CIFAR100_TEST_FILE, CIFAR100_TRAIN_FILE, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES,
};
use super::download::{official_download, DownloadPlan};
use super::idx::FASHION_MNIST_FILES;
use super::{DataError, DatasetKind};

/// Where a data set was found, and in which format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A Boston Housing CSV file.
    BostonCsv(PathBuf),
    /// A folder with the four MNIST-style IDX files (gzip-compressed or raw).
    Idx(PathBuf),
    /// A folder of an official CIFAR binary release.
    CifarBinary(PathBuf),
    /// An image-folder tree `ROOT/{train,test}/<class>/*.{png,jpg,jpeg}`.
    ImageFolder(PathBuf),
}

impl Source {
    /// The file (Boston CSV) or folder (the other formats) the data set was found at.
    pub fn path(&self) -> &Path {
        match self {
            Source::BostonCsv(p)
            | Source::Idx(p)
            | Source::CifarBinary(p)
            | Source::ImageFolder(p) => p,
        }
    }
}

/// The default cache folder: `$XDG_CACHE_HOME/etaprobe`, else `~/.cache/etaprobe`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cache"))
    })?;
    Some(base.join("etaprobe"))
}

/// Conventional names of a data set's file or folder under a data root (and the cache).
pub fn conventional_names(kind: DatasetKind) -> &'static [&'static str] {
    match kind {
        DatasetKind::Boston => &["boston_housing.csv"],
        DatasetKind::FashionMnist => &["fashion-mnist"],
        DatasetKind::Cifar10 => &["cifar-10-batches-bin", "cifar10-jpeg"],
        DatasetKind::Cifar100 => &["cifar-100-binary"],
    }
}

fn binary_markers(kind: DatasetKind) -> Vec<String> {
    match kind {
        DatasetKind::Boston => Vec::new(),
        DatasetKind::FashionMnist => FASHION_MNIST_FILES
            .iter()
            .flat_map(|f| [format!("{f}.gz"), f.to_string()])
            .collect(),
        DatasetKind::Cifar10 => CIFAR10_TRAIN_FILES
            .iter()
            .chain([&CIFAR10_TEST_FILE])
            .map(|f| f.to_string())
            .collect(),
        DatasetKind::Cifar100 => vec![CIFAR100_TRAIN_FILE.into(), CIFAR100_TEST_FILE.into()],
    }
}

/// Recognises `path` as the data set's own file or folder: a CSV file for Boston; for the
/// image data sets a folder holding any of the release's files (binary format), or one
/// holding `train/` (image folder). Missing files of a recognised folder are reported by the
/// reader, which names them.
pub fn detect_own(kind: DatasetKind, path: &Path) -> Option<Source> {
    if kind == DatasetKind::Boston {
        return path
            .is_file()
            .then(|| Source::BostonCsv(path.to_path_buf()));
    }
    if !path.is_dir() {
        return None;
    }
    if binary_markers(kind).iter().any(|m| path.join(m).is_file()) {
        return Some(match kind {
            DatasetKind::FashionMnist => Source::Idx(path.to_path_buf()),
            _ => Source::CifarBinary(path.to_path_buf()),
        });
    }
    path.join("train")
        .is_dir()
        .then(|| Source::ImageFolder(path.to_path_buf()))
}

/// Looks for the data set as `root`'s own file/folder, then under its conventional names.
pub fn detect_under(kind: DatasetKind, root: &Path) -> Option<Source> {
    detect_own(kind, root).or_else(|| {
        conventional_names(kind)
            .iter()
            .find_map(|name| detect_own(kind, &root.join(name)))
    })
}

/// Finds the data set: in `data` (if given), then in `cache`. When absent, the error lists
/// every place looked at and how to get the data (`download_base` only changes the URLs it
/// quotes).
pub fn locate(
    kind: DatasetKind,
    data: Option<&Path>,
    cache: Option<&Path>,
    download_base: Option<&str>,
) -> Result<Source, DataError> {
    if let Some(data) = data {
        if !data.exists() {
            return Err(DataError::NotFound {
                message: format!(
                    "{}: no such file or folder (given by --data or ETAPROBE_DATA); point it at \
                     a data root holding {}, or at {}",
                    data.display(),
                    conventional_names(kind).join(" or "),
                    describe_own(kind)
                ),
            });
        }
        if data.is_file() && kind != DatasetKind::Boston {
            return Err(DataError::NotFound {
                message: format!(
                    "{}: a file, but {} is read from a folder; point --data at {}, or at a data \
                     root holding {}",
                    data.display(),
                    kind.title(),
                    describe_own(kind),
                    conventional_names(kind).join(" or ")
                ),
            });
        }
        if let Some(found) = detect_under(kind, data) {
            return Ok(found);
        }
    }
    if let Some(found) = cache.and_then(|c| detect_under(kind, c)) {
        // A data root without this data set (ETAPROBE_DATA holding others) falls back to the
        // cache; a --data folder in the wrong layout does too, so say which copy is read.
        if let Some(data) = data {
            log::warn!(
                "{} (--data or ETAPROBE_DATA) holds no {}; reading the copy in the cache, {}",
                data.display(),
                kind.title(),
                found.path().display()
            );
        }
        return Ok(found);
    }
    Err(not_found(kind, data, cache, download_base))
}

/// What the data set's own file or folder must hold.
pub fn describe_own(kind: DatasetKind) -> String {
    let image_folder = "an image-folder tree {train,test}/<class>/*.{png,jpg,jpeg}";
    match kind {
        DatasetKind::Boston => "a CSV file with the header \
            crim,zn,indus,chas,nox,rm,age,dis,rad,tax,ptratio,b,lstat,medv"
            .into(),
        DatasetKind::FashionMnist => format!(
            "a folder holding {}.gz (or uncompressed), or {image_folder}",
            FASHION_MNIST_FILES.join(".gz, ")
        ),
        DatasetKind::Cifar10 => format!(
            "a folder holding data_batch_1.bin .. data_batch_5.bin and test_batch.bin, or \
             {image_folder}"
        ),
        DatasetKind::Cifar100 => {
            format!("a folder holding train.bin and test.bin, or {image_folder}")
        }
    }
}

/// What a data set looks like under `root`, one line per accepted layout.
pub fn describe_layout(kind: DatasetKind, root: &Path) -> Vec<String> {
    let r = root.display();
    match kind {
        DatasetKind::Boston => vec![format!(
            "{r}/boston_housing.csv (CSV with header crim,zn,indus,chas,nox,rm,age,dis,rad,tax,ptratio,b,lstat,medv)"
        )],
        DatasetKind::FashionMnist => vec![format!(
            "{r}/fashion-mnist/{{{}}}.gz (or uncompressed)",
            FASHION_MNIST_FILES.join(",")
        )],
        DatasetKind::Cifar10 => vec![
            format!("{r}/cifar-10-batches-bin/{{data_batch_1..5.bin,test_batch.bin}}"),
            format!("{r}/cifar10-jpeg/{{train,test}}/<class>/*.{{png,jpg,jpeg}}"),
        ],
        DatasetKind::Cifar100 => vec![format!("{r}/cifar-100-binary/{{train.bin,test.bin}}")],
    }
}

fn not_found(
    kind: DatasetKind,
    data: Option<&Path>,
    cache: Option<&Path>,
    download_base: Option<&str>,
) -> DataError {
    let mut message = format!("{} data set not found. Looked for:\n", kind.title());
    let mut places: Vec<(PathBuf, &str)> = Vec::new();
    if let Some(d) = data {
        places.push((d.to_path_buf(), "--data / ETAPROBE_DATA"));
    } else {
        message.push_str("  (no --data PATH or ETAPROBE_DATA given)\n");
    }
    match cache {
        Some(c) => places.push((c.to_path_buf(), "cache folder")),
        None => message.push_str("  (no cache folder: set --cache-dir, XDG_CACHE_HOME or HOME)\n"),
    }
    for (root, origin) in &places {
        for line in describe_layout(kind, root) {
            message.push_str(&format!("  - {line}   [{origin}]\n"));
        }
    }
    let cache_text = cache.map_or_else(
        || "the cache folder".to_string(),
        |c| c.display().to_string(),
    );
    match official_download(kind) {
        Some(plan) => {
            let plan = match download_base {
                Some(base) => plan.with_base(base),
                None => plan,
            };
            message.push_str(&format!(
                "To get it, rerun with --download, which fetches into {cache_text} and checks \
                 the published MD5:\n{}Or download {} yourself and pass --data PATH.",
                describe_plan(&plan),
                if plan.files.len() == 1 {
                    "and unpack that archive"
                } else {
                    "those files"
                }
            ));
        }
        None => message.push_str(&boston_advice()),
    }
    DataError::NotFound { message }
}

fn describe_plan(plan: &DownloadPlan) -> String {
    plan.files
        .iter()
        .map(|f| format!("  {}  (MD5 {})\n", plan.url(f), f.md5))
        .collect()
}

/// Why `--download` cannot fetch Boston Housing, and where to find it.
pub fn boston_advice() -> String {
    "Boston Housing has no official CSV with a published checksum, so --download does not \
     fetch it. The classic Harrison & Rubinfeld (1978) table (506 rows) is in the StatLib \
     archive at http://lib.stat.cmu.edu/datasets/boston (whitespace-separated, each record on \
     two lines) and is redistributed as CSV by many public repositories and libraries. Save it \
     as a CSV with the header crim,zn,indus,chas,nox,rm,age,dis,rad,tax,ptratio,b,lstat,medv \
     and pass --data FILE (or put it at DATA_ROOT/boston_housing.csv)."
        .to_string()
}
