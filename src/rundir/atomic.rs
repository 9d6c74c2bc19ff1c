//! Atomic writes: a reader sees the old file or the new one, never a part.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file next to it, fsync, rename over the
/// target, fsync of the directory. Readers see the old file or the new one, never a part.
/// On error the temporary file is removed and an existing `path` is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] for content produced piece by piece (large checkpoints are streamed
/// instead of assembled in memory). If `fill` fails, nothing is renamed and the temporary
/// file is removed.
pub fn write_atomic_with<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file path", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // In the target's directory (same file system: the rename is atomic), hidden, and
    // named after the target so that a crash's leftovers say whose they are.
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // The mode a plain File::create gives (0o666 less the umask), or the replaced file's:
    // a temporary file's own 0o600 would make the run's files unreadable to the group and
    // others the umask lets read the rest of the folder.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o666, |m| m.permissions().mode() & 0o777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    let mut w = BufWriter::new(tmp.as_file_mut());
    fill(&mut w)?;
    w.flush()?;
    drop(w);
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Makes the rename itself durable. Best effort: not every platform or file system allows
/// opening a directory, and the data is already safe in the renamed file.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_gets_the_mode_file_create_gives_and_a_replaced_one_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let atomic = dir.path().join("atomic");
        write_atomic(&atomic, b"one").unwrap();
        assert_eq!(mode(&atomic), mode(&plain));
        std::fs::set_permissions(&atomic, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&atomic, b"two").unwrap();
        assert_eq!(mode(&atomic), 0o640);
        assert_eq!(std::fs::read(&atomic).unwrap(), b"two");
    }
}
