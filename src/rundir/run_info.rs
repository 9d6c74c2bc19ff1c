//! `run.json`, and the UTC time stamps it carries.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::records::read_text;
use super::write_atomic;

/// `run.json`: what a run was (configuration, adapter, program version, seed) and what it
/// did (totals). The three JSON values are free-form so that the trainer can grow them
/// without touching this type; [`RunInfo::extra`] keeps any other top-level key a newer
/// version wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Program version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The git commit the program was built from ("…-modified" when its sources differed
    /// from it, "unknown" outside a git checkout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// The command line that started the run, word by word.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// The run's seed.
    pub seed: u64,
    /// The full configuration (the parsed command line). `plot` labels a run from its
    /// `schedule` and `lr` keys.
    pub config: serde_json::Value,
    /// Adapter info: name, backend, type, driver.
    #[serde(default)]
    pub adapter: serde_json::Value,
    /// Totals: steps, epochs, seconds, safeguarded steps, best test accuracy, ...
    #[serde(default)]
    pub totals: serde_json::Value,
    /// UTC, RFC 3339 (see [`utc_now`]).
    pub started: String,
    /// UTC, RFC 3339; `None` while the run is going or when it crashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    /// Any other top-level key (written by a newer etaprobe), kept as it was.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl RunInfo {
    /// Whether the run was stopped on request (Ctrl-C, SIGTERM, its sweep gone) after a
    /// checkpoint to go on from: `totals.interrupted` (records older than that field say so
    /// in `totals.stopped`).
    pub fn interrupted(&self) -> bool {
        self.totals.get("interrupted") == Some(&serde_json::Value::Bool(true))
            || self
                .totals
                .get("stopped")
                .and_then(|s| s.as_str())
                .is_some_and(|s| s.starts_with("stopped on request after step "))
    }

    /// Writes the file atomically, pretty-printed.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut text = serde_json::to_vec_pretty(self)
            .with_context(|| format!("cannot serialise {}", path.display()))?;
        text.push(b'\n');
        write_atomic(path, &text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Reads a `run.json`; an error names the file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = read_text(path)?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid run.json", path.display()))
    }
}

/// The current time as UTC RFC 3339 with seconds, e.g. `2026-03-21T09:30:05Z`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_utc(secs)
}

/// Formats unix seconds as UTC RFC 3339 with seconds.
pub fn format_utc(unix_secs: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_secs);
    humantime::format_rfc3339_seconds(time).to_string()
}
