//! One live run per run directory: a lock file holding the owner's process id, created
//! atomically, removed when the run ends. A lock left by a process that no longer exists
//! (a `kill -9`, a power cut) is reported and taken over.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The lock's file name inside a run directory.
pub const LOCK: &str = ".etaprobe.lock";

/// A held lock; dropping it removes the file (if it is still ours).
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    pid: u32,
}

impl RunLock {
    /// Takes the lock of `dir` (which must exist) for this process.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let path = dir.join(LOCK);
        let pid = std::process::id();
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(format!("{pid}\n").as_bytes())
                        .with_context(|| format!("cannot write the lock {}", path.display()))?;
                    return Ok(RunLock { path, pid });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = read_lock(&path);
                    let owner = text.trim().parse::<u32>().ok();
                    match owner {
                        Some(owner) if process_exists(owner) => bail!(
                            "another etaprobe run (pid {owner}) is writing to {}; wait for it \
                             to end or stop it (if no run is active, delete {})",
                            dir.display(),
                            path.display()
                        ),
                        _ => {
                            log::warn!(
                                "{}: removing a stale lock ({}: no such process)",
                                dir.display(),
                                owner.map_or("unreadable".into(), |p| format!("pid {p}"))
                            );
                            fs::remove_file(&path).with_context(|| {
                                format!("cannot remove the stale lock {}", path.display())
                            })?;
                        }
                    }
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot create the lock {}", path.display()))
                }
            }
        }
        bail!(
            "{}: the lock keeps being taken by another run",
            dir.display()
        )
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let ours = read_lock(&self.path).trim().parse::<u32>().ok() == Some(self.pid);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A lock file's text, empty when it cannot be read or is not a regular file (a FIFO there
/// would block the read; a link to a device would never end).
fn read_lock(path: &Path) -> String {
    super::read_regular(path)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// Whether a process `pid` exists. Where the system has no /proc to ask, every owner
/// counts as alive: refusing wrongly is recoverable (delete the lock), mixing two runs is not.
fn process_exists(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}
