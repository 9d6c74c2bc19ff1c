//! `--resume A --out B`: B is made from A's records and checkpoint before it trains. A
//! marker in B, written first and removed once B's `run.json` is written, tells an
//! interrupted copy (a kill while A's records were copied) from a run of B's own: the same
//! command makes it again, and `--resume B` says so, where B would otherwise be a folder
//! of records that neither command takes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The marker: the absolute path of the folder B continues, then the command that made
/// B (shell-quoted), each on its line.
pub(super) const MARKER: &str = ".continuation-of";

/// What an interrupted copy's marker says.
pub(super) struct Unfinished {
    /// The folder whose records were being copied.
    pub from: PathBuf,
    /// The command that was making it, as typed.
    pub command: String,
}

/// Marks `out` as being made from `from`'s records by this process's command.
pub(super) fn begin(out: &Path, from: &Path) -> Result<()> {
    let from = std::path::absolute(from).unwrap_or_else(|_| from.to_path_buf());
    let command: Vec<String> = std::env::args_os()
        .map(|a| crate::words::shell_word(&a.to_string_lossy()))
        .collect();
    let text = format!("{}\n{}\n", from.to_string_lossy(), command.join(" "));
    let path = out.join(MARKER);
    crate::rundir::write_atomic(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `out` is a run of its own now (its `run.json` is written), or was never touched.
pub(super) fn end(out: &Path) -> Result<()> {
    let path = out.join(MARKER);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// What `out` was being made from, when that was interrupted before `out` became a run of
/// its own (no `run.json` yet).
pub(super) fn unfinished(out: &Path) -> Option<Unfinished> {
    if out.join(crate::rundir::RUN_JSON).symlink_metadata().is_ok() {
        return None;
    }
    // A path that is not UTF-8 reads back as another path: B is then refused, not taken.
    let bytes = crate::rundir::read_regular(&out.join(MARKER)).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    Some(Unfinished {
        from: PathBuf::from(lines.next()?),
        command: lines.next().unwrap_or_default().to_string(),
    })
}
