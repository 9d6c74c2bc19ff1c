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
    stage_with(path, fill)?.commit()
}

/// A file written in full beside its target, not yet in its place: several files are
/// staged before any is committed, so that a failure while writing them (a full disk)
/// leaves every old file as it was. Dropped uncommitted, it is removed.
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    path: std::path::PathBuf,
}

impl Staged {
    /// Renames the file over its target and syncs the folder.
    pub fn commit(self) -> io::Result<()> {
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        sync_dir(dir);
        Ok(())
    }
}

/// [`write_atomic_with`]'s first half: the content written and synced beside `path`; a
/// folder in `path`'s place, which the rename could not replace, is refused here.
pub fn stage_with<F>(path: &Path, fill: F) -> io::Result<Staged>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    if path.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("{} is a folder", path.display()),
        ));
    }
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
    Ok(Staged {
        tmp,
        path: path.to_path_buf(),
    })
}

/// Creates (or truncates) a run's file at `path`. A link there is replaced, never written
/// through: the record is the run's own file, not the one the link leads to (a dangling
/// link would create a file outside the run directory). Anything but a regular file under
/// the name (a FIFO, a device) is an error, not an open that waits for a reader.
pub(crate) fn create_own(path: &Path) -> io::Result<File> {
    match open_own(path) {
        Err(_) if is_link(path) => {
            std::fs::remove_file(path)?;
            // A link made again since the removal fails this open too: refused, not followed.
            open_own(path)
        }
        opened => opened,
    }
}

/// Opens `path` for writing, truncated, refusing a link in its last component (on Unix the
/// open itself refuses it, so that no link made after a check is followed) and anything
/// but a regular file, without waiting on a FIFO.
fn open_own(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    if let Some(m) = path.symlink_metadata().ok().filter(|m| m.is_symlink()) {
        return Err(not_regular(&m.file_type()));
    }
    let file = options.open(path).map_err(|e| {
        // A FIFO without a reader fails the open (ENXIO): say what is there instead.
        match path.symlink_metadata() {
            Ok(m) if !m.is_file() => not_regular(&m.file_type()),
            _ => e,
        }
    })?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(not_regular(&kind));
    }
    Ok(file)
}

/// The error for a name that holds something other than a regular file.
fn not_regular(kind: &std::fs::FileType) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file ({})", file_kind(kind)),
    )
}

fn is_link(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

/// Opens a file for reading, refusing anything but a regular file (a link to one is
/// followed): a run's file replaced by a directory, a FIFO or a link to `/dev/zero` is an
/// error, not an open or a read that blocks or fills the memory. Checked before the open
/// (opening a FIFO waits for a writer) and again on what was opened.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let before = std::fs::metadata(path)?;
    if !before.is_file() {
        return Err(not_regular(&before.file_type()));
    }
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    Ok(file)
}

/// Reads a whole regular file ([`open_regular`]); a file too large for the memory is an
/// error, not an abort.
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = open_regular(path)?;
    let len = file.metadata()?.len();
    let mut bytes = Vec::new();
    usize::try_from(len)
        .ok()
        .and_then(|n| bytes.try_reserve_exact(n).ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("{len} bytes do not fit in memory"),
            )
        })?;
    io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

/// What a file that is not a regular one is, for errors.
pub fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
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

    #[test]
    fn create_own_replaces_a_link_and_refuses_what_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, b"the user's").unwrap();
        let record = dir.path().join("steps.csv");
        std::os::unix::fs::symlink(&elsewhere, &record).unwrap();
        create_own(&record).unwrap().write_all(b"step\n").unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"the user's");
        assert!(std::fs::symlink_metadata(&record).unwrap().is_file());
        assert_eq!(std::fs::read(&record).unwrap(), b"step\n");

        // A dangling link: nothing is created where it leads.
        let nowhere = dir.path().join("nowhere");
        let log = dir.path().join("train.log");
        std::os::unix::fs::symlink(&nowhere, &log).unwrap();
        create_own(&log).unwrap();
        assert!(!nowhere.exists());

        // A FIFO with no reader: an error at once, not an open that waits for one.
        let fifo = dir.path().join("rule.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opened on a thread, so that an open that waits fails the test instead of hanging it.
        let (sent, opened) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || sent.send(create_own(&path).map(|_| ())));
        let error = opened
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("create_own waited on a FIFO without a reader")
            .unwrap_err();
        assert!(error.to_string().contains("a FIFO"), "{error}");
        let error = create_own(dir.path()).unwrap_err();
        assert!(error.to_string().contains("directory"), "{error}");
    }
}
