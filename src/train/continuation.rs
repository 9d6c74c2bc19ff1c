//! `--resume A --out B`: B is made from A's records and checkpoint before it trains. A
//! marker in B, written first and removed once B's `run.json` is written, tells an
//! interrupted copy (a kill while A's records were copied) from a run of B's own: the same
//! command makes it again, and `--resume B` says so, where B would otherwise be a folder
//! of records that neither command takes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The marker: the absolute path of the folder B continues.
const MARKER: &str = ".continuation-of";

/// Marks `out` as being made from `from`'s records.
pub(super) fn begin(out: &Path, from: &Path) -> Result<()> {
    let from = std::path::absolute(from).unwrap_or_else(|_| from.to_path_buf());
    let path = out.join(MARKER);
    crate::rundir::write_atomic(&path, from.to_string_lossy().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `out` is a run of its own now (its `run.json` is written).
pub(super) fn end(out: &Path) -> Result<()> {
    let path = out.join(MARKER);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// The folder `out` was being made from, when that was interrupted before `out` became a
/// run of its own (no `run.json` yet).
pub(super) fn unfinished(out: &Path) -> Option<PathBuf> {
    if out.join(crate::rundir::RUN_JSON).symlink_metadata().is_ok() {
        return None;
    }
    // A path that is not UTF-8 reads back as another path: B is then refused, not taken.
    let bytes = crate::rundir::read_regular(&out.join(MARKER)).ok()?;
    Some(PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()))
}
