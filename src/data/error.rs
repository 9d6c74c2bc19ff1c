//! The one error type of the data layer.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while locating, downloading, reading or batching a data set.
///
/// Each message names the file (or URL) and the problem and, where there is one, the fix.
/// Underlying errors are folded into the message rather than exposed through `source()`,
/// so that `anyhow`'s `{:#}` and `Debug` output do not print them twice.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder exists (or should) but cannot be read.
    #[error("cannot read {}: {error}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },

    /// A file or folder cannot be created, written, renamed or removed (a full disk, a
    /// read-only cache folder).
    #[error("cannot write {}: {error}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },

    /// A download stopped on request (Ctrl-C, SIGTERM): its partial file was removed.
    #[error("the download of {url} was stopped on request; nothing was kept")]
    Stopped {
        /// What was being downloaded.
        url: String,
    },

    /// A file was read but its content is not what the format requires.
    #[error("{}: {problem}", path.display())]
    Malformed {
        /// The file (or folder) whose content is wrong.
        path: PathBuf,
        /// What is wrong and, where known, where in the file and what to do.
        problem: String,
    },

    /// An image file that the `image` crate cannot decode.
    #[error("cannot decode image {}: {error}", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// The decoder's error.
        error: image::ImageError,
    },

    /// The data set is not where it was looked for; the message lists the places and how to
    /// get the data.
    #[error("{message}")]
    NotFound {
        /// The whole message: what was looked for, where, and how to get it.
        message: String,
    },

    /// The transfer itself failed (connection, HTTP status, truncated body, disk).
    #[error("download of {url} failed: {problem}")]
    Download {
        /// The URL being fetched.
        url: String,
        /// What went wrong.
        problem: String,
    },

    /// The downloaded bytes do not have the published MD5; nothing was kept.
    #[error(
        "download of {url}: MD5 checksum mismatch (expected {expected}, got {actual}); the \
         file was discarded. The transfer was corrupted or the server sent a different file: \
         try again, or fetch it by hand and check its MD5"
    )]
    Checksum {
        /// The URL the file came from.
        url: String,
        /// The published MD5, lowercase hex.
        expected: String,
        /// The MD5 of the bytes received, lowercase hex.
        actual: String,
    },

    /// A request that cannot be honoured (bad option combination, batch size 0, ...).
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        DataError::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn write(path: &Path, error: std::io::Error) -> Self {
        DataError::Write {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn malformed(path: &Path, problem: impl Into<String>) -> Self {
        DataError::Malformed {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}
