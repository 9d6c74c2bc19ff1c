//! The data layer's command-line options ([`DataArgs`]) and the reading options they give.

use std::path::{Path, PathBuf};

use super::{default_cache_dir, download, locate, DataError, Dataset, DatasetKind, Source};

/// Command-line options of the data layer (flatten into a clap command).
#[derive(clap::Args, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DataArgs {
    /// Data set to train on.
    #[arg(long, value_enum, default_value_t = DatasetKind::Cifar10)]
    pub dataset: DatasetKind,

    /// Where the data is: a folder holding the data sets under their usual names
    /// (boston_housing.csv, fashion-mnist/, cifar-10-batches-bin/ or cifar10-jpeg/,
    /// cifar-100-binary/), or the data set's own file or folder. Searched before the cache.
    #[arg(value_parser = crate::values::Utf8Path, long, env = "ETAPROBE_DATA", value_name = "PATH")]
    pub data: Option<PathBuf>,

    /// Fetch the data set from its official source into the cache folder when it is not
    /// found (MD5-checked; not available for Boston Housing).
    #[arg(long)]
    pub download: bool,

    /// Cache folder for downloaded data [default: $XDG_CACHE_HOME/etaprobe or
    /// ~/.cache/etaprobe].
    #[arg(value_parser = crate::values::Utf8Path, long, env = "ETAPROBE_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Base URL to download from instead of the official servers: a mirror serving the same
    /// file names.
    #[arg(long, env = "ETAPROBE_DOWNLOAD_BASE", value_name = "URL")]
    pub download_base: Option<String>,

    /// Drop the last, partial training batch of each epoch.
    #[arg(long)]
    pub drop_last: bool,

    /// Random crop (zero padding 4) and horizontal flip of training images.
    #[arg(long)]
    pub augment: bool,

    /// Seed of the Boston train/test split [default: the run's seed].
    #[arg(long, value_name = "N")]
    pub split_seed: Option<u64>,

    /// Fraction of Boston Housing rows held out for testing (rounded up: 506 rows give
    /// 404/102).
    #[arg(value_parser = crate::values::open_fraction, long, default_value_t = 0.2, value_name = "F")]
    pub test_fraction: f64,

    /// CIFAR-100: train on the 20 coarse labels instead of the 100 fine ones.
    #[arg(long)]
    pub coarse_labels: bool,
}

crate::default_from_command_line!(DataArgs);

impl DataArgs {
    /// The cache folder in use: `--cache-dir`, else the default one.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.cache_dir.clone().or_else(default_cache_dir)
    }

    /// Reading options derived from these arguments and the run's seed.
    pub fn load_options(&self, seed: u64) -> LoadOptions {
        LoadOptions {
            split_seed: self.split_seed.unwrap_or(seed),
            test_fraction: self.test_fraction,
            coarse_labels: self.coarse_labels,
        }
    }

    /// Checks option combinations that cannot work, before any file is touched.
    pub fn validate(&self) -> Result<(), DataError> {
        let kind = self.dataset;
        if self.augment && kind.is_regression() {
            return Err(DataError::Invalid(
                "--augment crops and flips images; Boston Housing has no images".into(),
            ));
        }
        if self.coarse_labels && kind != DatasetKind::Cifar100 {
            return Err(DataError::Invalid(format!(
                "--coarse-labels applies to cifar100 only, not {kind}"
            )));
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(DataError::Invalid(format!(
                "--test-fraction {} must lie strictly between 0 and 1",
                self.test_fraction
            )));
        }
        Ok(())
    }

    /// The mirror to download from: `--download-base` / ETAPROBE_DOWNLOAD_BASE, an empty one
    /// (a variable emptied to unset it) standing for none.
    fn base(&self) -> Option<&str> {
        self.download_base.as_deref().filter(|b| !b.is_empty())
    }

    /// Where the data set is, downloading it first if asked to and needed.
    pub fn locate(&self) -> Result<Source, DataError> {
        let cache = self.cache_dir();
        let base = self.base();
        let found = locate::locate(self.dataset, self.data.as_deref(), cache.as_deref(), base);
        // A download interrupted between its files left some of them in the cache, which
        // `locate` takes for the data set: --download fetches the rest.
        let found = match found {
            Ok(source) if self.download && self.partly_downloaded(&source, cache.as_deref()) => {
                Err(DataError::NotFound {
                    message: format!(
                        "{} holds part of an earlier download",
                        source.path().display()
                    ),
                })
            }
            other => other,
        };
        match found {
            Err(DataError::NotFound { message }) if self.download => {
                let (plan, cache) = self.download_plan(message)?;
                // One download at a time into a cache (a sweep's cells start together): the
                // others wait, then find the data set there.
                let _lock = download::lock_cache(&cache)?;
                if let Ok(found) = locate::locate(self.dataset, None, Some(&cache), base) {
                    if !self.partly_downloaded(&found, Some(&cache)) {
                        return Ok(found);
                    }
                }
                let folder = download::download(&plan, &cache)?;
                locate::detect_own(self.dataset, &folder).ok_or_else(|| {
                    DataError::malformed(
                        &folder,
                        "the download completed but the folder does not hold the expected files",
                    )
                })
            }
            other => other,
        }
    }

    /// Whether [`DataArgs::locate`] would find the data set, or with `--download` could fetch
    /// it, without fetching anything: for checks made before any run starts (a sweep's
    /// spec, whose cells download).
    pub fn check_available(&self) -> Result<(), DataError> {
        let look = DataArgs {
            download: false,
            ..self.clone()
        };
        match look.locate() {
            Err(DataError::NotFound { message }) if self.download => {
                self.download_plan(message).map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }

    /// What a download would fetch and into which cache, or why none can: `message` says
    /// where the data set was looked for.
    fn download_plan(
        &self,
        message: String,
    ) -> Result<(download::DownloadPlan, PathBuf), DataError> {
        let Some(plan) = download::official_download(self.dataset) else {
            return Err(DataError::NotFound {
                message: format!(
                    "{message}\n(a download was asked for, but {} has no official source to \
                     download from)",
                    self.dataset
                ),
            });
        };
        let plan =
            match self.base() {
                Some(base) => plan.with_base(&http_url(base).map_err(|why| {
                    DataError::Invalid(format!("--download-base {base:?}: {why}"))
                })?),
                None => plan,
            };
        let Some(cache) = self.cache_dir() else {
            return Err(DataError::Invalid(
                "--download needs a cache folder: pass --cache-dir DIR (or set XDG_CACHE_HOME \
                 or HOME)"
                    .into(),
            ));
        };
        Ok((plan, cache))
    }

    /// Whether `source` is this data set's download folder in `cache` with some of the
    /// download's files missing (data sets downloaded file by file: Fashion-MNIST). A file
    /// the reader takes uncompressed in place of the `.gz` counts as there, and a folder
    /// of another layout (an image folder) is no download's.
    fn partly_downloaded(&self, source: &Source, cache: Option<&Path>) -> bool {
        let (Some(plan), Some(cache)) = (download::official_download(self.dataset), cache) else {
            return false;
        };
        let folder = cache.join(&plan.folder);
        let there = |name: &str| {
            folder.join(name).is_file()
                || name
                    .strip_suffix(".gz")
                    .is_some_and(|raw| folder.join(raw).is_file())
        };
        !plan.unpack
            && matches!(source, Source::Idx(_))
            && source.path() == folder
            && plan.files.iter().any(|f| !there(&f.name))
    }

    /// Finds (and with `--download` fetches) the data set, then reads it. `seed` is the run's
    /// seed, used for the Boston split unless `--split-seed` is given.
    pub fn load(&self, seed: u64) -> Result<Dataset, DataError> {
        self.validate()?;
        let source = self.locate()?;
        Dataset::read(self.dataset, &source, &self.load_options(seed))
    }
}

/// Options of the readers.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// Seed of the Boston train/test split.
    pub split_seed: u64,
    /// Fraction of Boston rows held out for testing.
    pub test_fraction: f64,
    /// CIFAR-100 coarse labels instead of fine ones.
    pub coarse_labels: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            split_seed: 0,
            test_fraction: 0.2,
            coarse_labels: false,
        }
    }
}

/// An http:// or https:// URL: the only schemes the downloader speaks. Checked only when a
/// download is to happen: a stray ETAPROBE_DOWNLOAD_BASE does not stop runs that download
/// nothing.
fn http_url(s: &str) -> Result<String, String> {
    let scheme = s
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("http" | "https") => Ok(s.to_string()),
        _ => Err("not an http:// or https:// URL (the only ones the downloader fetches)".into()),
    }
}
