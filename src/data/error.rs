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
        path: PathBuf,
        error: std::io::Error,
    },

    /// A file was read but its content is not what the format requires.
    #[error("{}: {problem}", path.display())]
    Malformed { path: PathBuf, problem: String },

    /// An image file that the `image` crate cannot decode.
    #[error("cannot decode image {}: {error}", path.display())]
    Image {
        path: PathBuf,
        error: image::ImageError,
    },

    /// The data set is not where it was looked for; the message lists the places and how to
    /// get the data.
    #[error("{message}")]
    NotFound { message: String },

    /// The transfer itself failed (connection, HTTP status, truncated body, disk).
    #[error("download of {url} failed: {problem}")]
    Download { url: String, problem: String },

    /// The downloaded bytes do not have the published MD5; nothing was kept.
    #[error(
        "download of {url}: MD5 checksum mismatch (expected {expected}, got {actual}); the \
         file was discarded. The transfer was corrupted or the server sent a different file: \
         try again, or fetch it by hand and check its MD5"
    )]
    Checksum {
        url: String,
        expected: String,
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

    pub(crate) fn malformed(path: &Path, problem: impl Into<String>) -> Self {
        DataError::Malformed {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}
