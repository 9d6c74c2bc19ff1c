//! Keeping one sweep per root: the root's lock, and waiting for the runs a killed sweep
//! left to stop before their cells are resumed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::manifest::{Manifest, Status};

/// The lock that keeps two sweeps off one root.
pub(crate) const LOCK: &str = "sweep.lock";

/// How long a sweep waits for the runs of a killed one to stop: each ends its current step
/// (an epoch's evaluation, on a slow adapter, may come first) and writes a checkpoint.
const ORPHAN_WAIT: Duration = Duration::from_secs(600);

/// Waits until the runs a killed sweep left are gone (they stop as soon as they see it
/// died), so that none writes into a cell this sweep resumes.
pub(super) fn wait_for_orphans(root: &Path, old: &Manifest) -> Result<()> {
    let deadline = Instant::now() + ORPHAN_WAIT;
    for cell in old.cells.iter().filter(|c| c.status == Status::Running) {
        let Some(pid) = cell.pid else { continue };
        let out = root.join(&cell.dir);
        let mut said = false;
        while runs_in(pid, &out) {
            if !said {
                log::info!(
                    "waiting for the run of {} (pid {pid}), left by a sweep that was killed, \
                     to stop after its current step",
                    out.display()
                );
                said = true;
            }
            // Ctrl-C while waiting: nothing of this sweep has started.
            if crate::train::stop_requested() {
                return Err(crate::train::StoppedBeforeStart.into());
            }
            if Instant::now() > deadline {
                bail!(
                    "the run of {} (pid {pid}) from an earlier sweep is still going: stop it, \
                     then start the sweep again",
                    out.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

/// Whether process `pid` is alive and is a run writing to `out` (Linux's /proc; where there
/// is none, runs stop on their own when their sweep dies and this cannot check).
fn runs_in(pid: u32, out: &Path) -> bool {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // A zombie has exited (only its parent has not collected it).
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, r)| r.trim_start().chars().next());
    if matches!(state, Some('Z' | 'X')) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    // Its --out as it spelled it, from its own working directory: the same folder however
    // this sweep's --root is spelled.
    let cwd = std::fs::read_link(proc_dir.join("cwd")).ok();
    let want = out.canonicalize().ok();
    let words: Vec<String> = (cmdline.split(|&b| b == 0))
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    words.windows(2).filter(|w| w[0] == "--out").any(|w| {
        let path = Path::new(&w[1]);
        path == out
            || want.is_some()
                && cwd
                    .as_ref()
                    .and_then(|cwd| cwd.join(path).canonicalize().ok())
                    == want
    })
}

/// `ROOT/sweep.lock`: one sweep per root at a time. Held as the operating system's lock
/// on the file for the sweep's life (released however the process ends), and holding its
/// pid for the message another sweep prints. A file of that name that holds anything else
/// (a user's) is refused, not replaced.
pub(super) struct Lock {
    path: PathBuf,
    _file: std::fs::File,
}

impl Lock {
    pub(super) fn take(root: &Path) -> Result<Lock> {
        let path = root.join(LOCK);
        loop {
            let recorded = match path.symlink_metadata() {
                Ok(meta) if !meta.is_file() => bail!(
                    "{} is {}, not a sweep's lock: move it away",
                    path.display(),
                    crate::rundir::file_kind(&meta.file_type())
                ),
                Ok(_) => {
                    let text = crate::rundir::read_regular(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let text = String::from_utf8_lossy(&text).trim().to_string();
                    if !text.is_empty() && text.parse::<u32>().is_err() {
                        bail!(
                            "{} is not a sweep's lock (it holds something else than a pid): \
                             move it away",
                            path.display()
                        );
                    }
                    text.parse::<u32>().ok()
                }
                Err(_) => None,
            };
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let busy = |pid: Option<u32>| {
                anyhow::anyhow!(
                    "another sweep{} is running on {}",
                    pid.map_or(String::new(), |p| format!(" (pid {p})")),
                    root.display()
                )
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Err(busy(recorded)),
                // A file system without locks (NFS mounted nolock): the pid alone decides.
                Err(std::fs::TryLockError::Error(e)) => {
                    log::warn!(
                        "cannot lock {} ({e}): only the pid it holds keeps another sweep off",
                        path.display()
                    );
                }
            }
            // A sweep of an earlier version held the root by the pid alone.
            if let Some(pid) = recorded.filter(|&p| p != std::process::id() && is_sweep(p)) {
                return Err(busy(Some(pid)));
            }
            // Removed by a sweep that ended between the open and the lock: this lock is on a
            // file no other sweep sees any more; take the one there now.
            if !same_inode(&file, &path) {
                continue;
            }
            let mut writer = &file;
            file.set_len(0)?;
            writeln!(writer, "{}", std::process::id())?;
            return Ok(Lock { path, _file: file });
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held: a sweep that opened it meanwhile finds it gone.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the open `file` is the one at `path` now.
fn same_inode(file: &std::fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.is_file()
    }
}

/// Whether `pid` is a live `etaprobe sweep` (Linux's /proc; elsewhere it cannot be told,
/// and the operating system's lock alone decides).
fn is_sweep(pid: u32) -> bool {
    let etaprobe = std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| {
        exe.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("etaprobe"))
    });
    process_alive(pid)
        && etaprobe
        && std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.split(|&b| b == 0).any(|w| w == b"sweep"))
}

/// Whether `pid` is a live process (not a zombie). Without /proc this cannot be told, and a
/// lock is taken as stale.
fn process_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, r)| r.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X'))
}
