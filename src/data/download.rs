//! `--download`: fetch the official files into the cache folder, check their published MD5,
//! and unpack archives.
//!
//! Every file is written to a temporary name beside its destination and renamed only once
//! its checksum matches; archives are unpacked into a temporary folder that is renamed into
//! place once complete. An interrupted or corrupted download therefore never leaves a file
//! that a later run could take for the real one.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};

use super::{DataError, DatasetKind};

/// One file to fetch and its published MD5 (lowercase hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name on the server, also the name it is saved under (e.g.
    /// `cifar-10-binary.tar.gz`).
    pub name: String,
    /// The published MD5 of the file, lowercase hex.
    pub md5: String,
}

/// What to fetch for one data set and where it ends up in the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadPlan {
    /// The data set this plan fetches.
    pub kind: DatasetKind,
    /// Files are fetched from `{base_url}/{name}`.
    pub base_url: String,
    /// The files to fetch, each checked against its MD5.
    pub files: Vec<RemoteFile>,
    /// The data set's folder in the cache (for archives: the folder the archive holds).
    pub folder: String,
    /// Whether the files are `.tar.gz` archives to unpack (else kept as they are, in `folder`).
    pub unpack: bool,
}

impl DownloadPlan {
    /// The URL `file` is fetched from: `{base_url}/{name}` (a trailing `/` of the base is
    /// not doubled).
    pub fn url(&self, file: &RemoteFile) -> String {
        format!("{}/{}", self.base_url.trim_end_matches('/'), file.name)
    }

    /// The same plan fetching from `base_url` instead (a mirror serving the same file names,
    /// `--download-base`); names and checksums are unchanged.
    pub fn with_base(mut self, base_url: &str) -> Self {
        self.base_url = base_url.to_string();
        self
    }
}

fn remote(name: &str, md5: &str) -> RemoteFile {
    RemoteFile {
        name: name.to_string(),
        md5: md5.to_string(),
    }
}

/// The official sources and their published checksums; `None` for Boston Housing, which has
/// no official CSV with a checksum.
pub fn official_download(kind: DatasetKind) -> Option<DownloadPlan> {
    let toronto = "https://www.cs.toronto.edu/~kriz";
    let plan = match kind {
        DatasetKind::Boston => return None,
        DatasetKind::FashionMnist => DownloadPlan {
            kind,
            base_url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com".into(),
            files: vec![
                remote(
                    "train-images-idx3-ubyte.gz",
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                ),
                remote(
                    "train-labels-idx1-ubyte.gz",
                    "25c81989df183df01b3e8a0aad5dffbe",
                ),
                remote(
                    "t10k-images-idx3-ubyte.gz",
                    "bef4ecab320f06d8554ea6380940ec79",
                ),
                remote(
                    "t10k-labels-idx1-ubyte.gz",
                    "bb300cfdad3c16e7a12a480ee83cd310",
                ),
            ],
            folder: "fashion-mnist".into(),
            unpack: false,
        },
        DatasetKind::Cifar10 => DownloadPlan {
            kind,
            base_url: toronto.into(),
            files: vec![remote(
                "cifar-10-binary.tar.gz",
                "c32a1d4ab5d03f1284b67883e8d87530",
            )],
            folder: "cifar-10-batches-bin".into(),
            unpack: true,
        },
        DatasetKind::Cifar100 => DownloadPlan {
            kind,
            base_url: toronto.into(),
            files: vec![remote(
                "cifar-100-binary.tar.gz",
                "03b5dce01913d631647c71ecec9e9cb8",
            )],
            folder: "cifar-100-binary".into(),
            unpack: true,
        },
    };
    Some(plan)
}

/// Runs a plan: fetches (skipping kept files whose MD5 already matches), verifies, unpacks.
/// Returns the data set's folder in `cache_dir`.
pub fn download(plan: &DownloadPlan, cache_dir: &Path) -> Result<PathBuf, DataError> {
    let folder = cache_dir.join(&plan.folder);
    let created = NewFolders::before_creating(&folder);
    create_folder(cache_dir)?;
    for file in &plan.files {
        let url = plan.url(file);
        if plan.unpack {
            let archive = cache_dir.join(&file.name);
            if !file_has_md5(&archive, &file.md5)? {
                fetch_verified(&url, &archive, &file.md5)?;
            }
            unpack_tar_gz(&archive, cache_dir, &plan.folder)?;
            // The unpacked folder is what is used; the archive would only double the space.
            std::fs::remove_file(&archive).map_err(|e| DataError::write(&archive, e))?;
        } else {
            let dest = folder.join(&file.name);
            if !file_has_md5(&dest, &file.md5)? {
                fetch_verified(&url, &dest, &file.md5)?;
            }
        }
    }
    created.keep();
    Ok(folder)
}

/// The lock file that keeps two downloads out of one cache folder.
pub const DOWNLOAD_LOCK: &str = ".etaprobe-download.lock";

/// Takes the cache folder's download lock, waiting while another process holds it (the
/// operating system releases it when that process ends, however it ends). The folder is
/// created if needed; the lock file stays in it.
pub fn lock_cache(cache_dir: &Path) -> Result<File, DataError> {
    create_folder(cache_dir)?;
    let path = cache_dir.join(DOWNLOAD_LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| DataError::write(&path, e))?;
    if file.try_lock().is_err() {
        log::info!("waiting for another download into {}", cache_dir.display());
        file.lock().map_err(|e| DataError::write(&path, e))?;
    }
    remove_stale_temporaries(cache_dir);
    Ok(file)
}

/// Removes what downloads killed outright left in the cache folder and its data set folders:
/// partial files (`.NAME.part-PID`) and unpack folders (`.NAME.unpack-PID`). Called with the
/// cache's lock held, so no download of this program is writing them.
fn remove_stale_temporaries(cache_dir: &Path) {
    let temporary = |name: &str| {
        name.starts_with('.')
            && ["part", "unpack"].iter().any(|what| {
                name.rsplit_once(&format!(".{what}-"))
                    .is_some_and(|(_, pid)| {
                        !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
                    })
            })
    };
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return;
    };
    let mut folders = vec![cache_dir.to_path_buf()];
    folders.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            if !temporary(&entry.file_name().to_string_lossy()) {
                continue;
            }
            let path = entry.path();
            let removed = match path.is_dir() {
                true => std::fs::remove_dir_all(&path),
                false => std::fs::remove_file(&path),
            };
            match removed {
                Ok(()) => log::info!(
                    "removed {}, left by an interrupted download",
                    path.display()
                ),
                Err(e) => log::warn!("cannot remove {}: {e}", path.display()),
            }
        }
    }
}

/// Creates `dir` and the folders above it. A file where one of them should be is named as
/// such (the system only says that it exists).
fn create_folder(dir: &Path) -> Result<(), DataError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        match dir.ancestors().find(|p| p.exists() && !p.is_dir()) {
            Some(file) => DataError::malformed(
                file,
                "a file where the cache needs a folder: move it away, or choose another \
                 --cache-dir",
            ),
            None => DataError::write(dir, e),
        }
    })
}

/// The folders on the way to a path that do not exist yet: dropped without [`Self::keep`]
/// (a failed download), it removes those of them that are still empty, so a failure leaves
/// no empty cache folder behind. Folders that held something before are never touched.
struct NewFolders {
    /// Deepest first.
    missing: Vec<PathBuf>,
}

impl NewFolders {
    fn before_creating(path: &Path) -> Self {
        let missing = path
            .ancestors()
            .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
            .map(Path::to_path_buf)
            .collect();
        NewFolders { missing }
    }

    fn keep(mut self) {
        self.missing.clear();
    }
}

impl Drop for NewFolders {
    fn drop(&mut self) {
        for dir in &self.missing {
            // remove_dir only removes an empty folder: anything written stays.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn file_has_md5(path: &Path, md5: &str) -> Result<bool, DataError> {
    if !path.is_file() {
        return Ok(false);
    }
    let mut file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()) == md5.to_ascii_lowercase())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deletes a temporary path when dropped, unless disarmed once the work succeeded.
struct TempPath {
    path: PathBuf,
    armed: bool,
}

impl TempPath {
    fn new(path: PathBuf) -> Self {
        TempPath { path, armed: true }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.armed {
            if self.path.is_dir() {
                let _ = std::fs::remove_dir_all(&self.path);
            } else {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

fn temp_sibling(dest: &Path, what: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map_or_else(|| "download".into(), |n| n.to_string_lossy().into_owned());
    dest.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

fn agent_for(url: &str) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)));
    let host = url.split("://").nth(1).unwrap_or(url);
    // A local mirror (or a test server) must not be routed through a proxy from the
    // environment.
    if ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| host.starts_with(h))
    {
        config = config.proxy(None);
    }
    config.build().into()
}

/// Downloads `url` to `dest`, checking `expected_md5`. Bytes go to a temporary file next to
/// `dest`, renamed only when the transfer is complete and the checksum matches; on any
/// failure nothing is left behind.
pub fn fetch_verified(url: &str, dest: &Path, expected_md5: &str) -> Result<(), DataError> {
    let fail = |problem: String| DataError::Download {
        url: url.to_string(),
        problem,
    };
    let created = dest.parent().map(NewFolders::before_creating);
    if let Some(parent) = dest.parent() {
        create_folder(parent)?;
    }
    let mut response = agent_for(url).get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(code) => fail(format!("the server answered HTTP status {code}")),
        other => fail(other.to_string()),
    })?;
    let total = response.body().content_length();
    let tmp = TempPath::new(temp_sibling(dest, "part"));
    let mut file = File::create(&tmp.path).map_err(|e| DataError::write(&tmp.path, e))?;
    let mut reader = response.body_mut().as_reader();
    let mut hasher = Md5::new();
    let mut progress = Progress::start(url, total);
    let mut buf = vec![0u8; 1 << 16];
    let mut received: u64 = 0;
    let of_total = |received: u64| match total {
        Some(t) => format!("{received} of {t} bytes"),
        None => format!("{received} bytes"),
    };
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                progress.abandon();
                return Err(fail(format!(
                    "transfer broken off after {} ({e}); nothing was kept, try again",
                    of_total(received)
                )));
            }
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| DataError::write(&tmp.path, e))?;
        received += n as u64;
        progress.advance(received);
        // Ctrl-C: a download may take minutes, and the run has not started.
        if crate::train::stop_requested() {
            progress.abandon();
            return Err(DataError::Stopped {
                url: url.to_string(),
            });
        }
    }
    progress.finish(received);
    if let Some(total) = total {
        if received != total {
            return Err(fail(format!(
                "truncated transfer: received {}; nothing was kept, try again",
                of_total(received)
            )));
        }
    }
    file.sync_all()
        .map_err(|e| DataError::write(&tmp.path, e))?;
    drop(file);
    let actual = hex(&hasher.finalize());
    if actual != expected_md5.to_ascii_lowercase() {
        return Err(DataError::Checksum {
            url: url.to_string(),
            expected: expected_md5.to_ascii_lowercase(),
            actual,
        });
    }
    std::fs::rename(&tmp.path, dest).map_err(|e| DataError::write(dest, e))?;
    tmp.disarm();
    if let Some(created) = created {
        created.keep();
    }
    Ok(())
}

/// Unpacks a `.tar.gz` archive that holds `folder` into `into/folder`, replacing any earlier
/// incomplete copy. Entries that would land outside the unpack folder are refused by `tar`.
pub fn unpack_tar_gz(archive: &Path, into: &Path, folder: &str) -> Result<PathBuf, DataError> {
    let file = File::open(archive).map_err(|e| DataError::io(archive, e))?;
    let staging = TempPath::new(temp_sibling(&into.join(folder), "unpack"));
    std::fs::create_dir_all(&staging.path).map_err(|e| DataError::write(&staging.path, e))?;
    tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
        .unpack(&staging.path)
        .map_err(|e| {
            // tar's own message leaves out the I/O error under it (a full disk, say).
            let cause = std::error::Error::source(&e).map_or(String::new(), |c| format!(": {c}"));
            DataError::malformed(
                archive,
                format!(
                    "cannot unpack the archive into {} ({e}{cause}); it passed its MD5 check \
                     and is kept: free space there, or fix the folder's permissions, and run \
                     again",
                    into.display()
                ),
            )
        })?;
    let unpacked = staging.path.join(folder);
    if !unpacked.is_dir() {
        return Err(DataError::malformed(
            archive,
            format!("the archive does not contain the expected folder `{folder}/`"),
        ));
    }
    let dest = into.join(folder);
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| DataError::write(&dest, e))?;
    }
    std::fs::rename(&unpacked, &dest).map_err(|e| DataError::write(&dest, e))?;
    Ok(dest)
}

/// Progress of one transfer: an indicatif bar on a terminal, a few plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: Option<u64>,
    next_report: u64,
    started: Instant,
}

const PLAIN_REPORT_STEP: u64 = 16 << 20;

impl Progress {
    fn start(url: &str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(t) => indicatif::ProgressBar::new(t),
                None => indicatif::ProgressBar::new_spinner(),
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg}\n[{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(format!("downloading {url}"));
            bar
        });
        if bar.is_none() {
            match total {
                Some(t) => log::info!("downloading {url} ({} MB)", mb(t)),
                None => log::info!("downloading {url}"),
            }
        }
        Progress {
            bar,
            total,
            next_report: total.map_or(PLAIN_REPORT_STEP, |t| (t / 10).max(1)),
            started: Instant::now(),
        }
    }

    fn advance(&mut self, received: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(received),
            None if received >= self.next_report => {
                let step = self.total.map_or(PLAIN_REPORT_STEP, |t| (t / 10).max(1));
                self.next_report = received + step;
                match self.total {
                    Some(t) => log::info!(
                        "  {:>3}%  {} of {} MB",
                        received * 100 / t.max(1),
                        mb(received),
                        mb(t)
                    ),
                    None => log::info!("  {} MB", mb(received)),
                }
            }
            None => {}
        }
    }

    fn finish(&mut self, received: u64) {
        let seconds = self.started.elapsed().as_secs_f64();
        match self.bar.take() {
            Some(bar) => bar.finish_and_clear(),
            None => log::info!("  done: {} MB in {seconds:.1} s", mb(received)),
        }
    }

    fn abandon(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}
