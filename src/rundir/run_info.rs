//! `run.json`, and the UTC time stamps it carries.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::records::read_text;
use super::write_atomic;

/// The key of `run.json` that lists a resumed run's earlier sittings
/// ([`RunInfo::earlier_sittings`]).
pub const EARLIER_SITTINGS: &str = "earlier_sittings";

/// `run.json`: what a run was (configuration, adapter, program version, seed) and what it
/// did (totals). The three JSON values are free-form so that the trainer can grow them
/// without touching this type; [`RunInfo::extra`] keeps any other top-level key a newer
/// version wrote. The top-level keys describe the last sitting (a resume writes the file
/// anew); a resumed run's `resumed_from` says at which checkpoint it went on, and its
/// `earlier_sittings` keeps the sittings before it.
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

    /// What a resumed run's `run.json` keeps of the sittings before its own, oldest first,
    /// as `earlier_sittings`: the list `earlier` (the `run.json` of the run resumed, as
    /// read by [`RunInfo::read_whole`]) kept, then `earlier` itself, whole but for its own
    /// list, and without its `config` when that equals `config`, the configuration of the
    /// sitting after it (a run resumed again and again by the same command, as a sweep
    /// does); a sitting listed without `config` had the next one's. An `earlier` that
    /// cannot be read is kept as `{"unreadable": why}`, so that the list says a record
    /// was lost.
    pub fn earlier_sittings(
        earlier: Result<serde_json::Map<String, serde_json::Value>>,
        config: &serde_json::Value,
    ) -> Vec<serde_json::Value> {
        let mut earlier = match earlier {
            Ok(map) => map,
            Err(e) => return vec![serde_json::json!({ "unreadable": format!("{e:#}") })],
        };
        let mut sittings = match earlier.remove(EARLIER_SITTINGS) {
            Some(serde_json::Value::Array(list)) => list,
            Some(_) => {
                let why = format!("its {EARLIER_SITTINGS} was not a list");
                vec![serde_json::json!({ "unreadable": why })]
            }
            None => Vec::new(),
        };
        if earlier.get("config") == Some(config) {
            earlier.remove("config");
        }
        sittings.push(serde_json::Value::Object(earlier));
        sittings
    }

    /// Reads a `run.json` as the JSON object it holds, whatever keys it has (one of an
    /// older version, or edited by hand); an error names the file.
    pub fn read_whole(
        path: impl AsRef<Path>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let path = path.as_ref();
        let text = read_text(path)?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JSON object", path.display()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sitting(started: &str, config: serde_json::Value) -> RunInfo {
        RunInfo {
            version: "0.1.0".into(),
            git_commit: Some("abc".into()),
            command: vec!["etaprobe".into(), "train".into()],
            seed: 1,
            config,
            adapter: serde_json::json!({ "name": "llvmpipe" }),
            totals: serde_json::json!({ "interrupted": true }),
            started: started.into(),
            finished: None,
            extra: BTreeMap::new(),
        }
    }

    #[test]
    fn earlier_sittings_keep_each_sitting_once_in_order() {
        let config = serde_json::json!({ "lr": 0.1 });
        let first = sitting("2026-01-01T00:00:00Z", serde_json::json!({ "lr": 0.2 }));
        let whole = |info: &RunInfo| match serde_json::to_value(info) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            _ => unreachable!("a RunInfo is an object"),
        };
        let one = RunInfo::earlier_sittings(whole(&first), &config);
        // Another configuration is kept; the list itself is not nested.
        assert_eq!(one, vec![serde_json::to_value(&first).unwrap()]);
        let mut second = sitting("2026-01-02T00:00:00Z", config.clone());
        second
            .extra
            .insert(EARLIER_SITTINGS.into(), one.clone().into());
        let two = RunInfo::earlier_sittings(whole(&second), &config);
        assert_eq!(two.len(), 2);
        assert_eq!(two[0], one[0]);
        assert_eq!(two[1]["started"], "2026-01-02T00:00:00Z");
        // This sitting's configuration is not repeated.
        assert!(two[1].get("config").is_none() && two[1].get(EARLIER_SITTINGS).is_none());
        assert_eq!(two[1]["totals"]["interrupted"], true);
    }

    #[test]
    fn an_unreadable_earlier_sitting_is_listed_as_lost() {
        let lost = RunInfo::earlier_sittings(Err(anyhow::anyhow!("no run.json")), &().into());
        assert_eq!(
            lost,
            vec![serde_json::json!({ "unreadable": "no run.json" })]
        );
        // Kept whole: keys this version does not know, and none of those it requires.
        let old = serde_json::json!({ "started": "x", "note": "hand-written" });
        let map = old.as_object().unwrap().clone();
        assert_eq!(RunInfo::earlier_sittings(Ok(map), &().into()), vec![old]);
        // A list that is not one says so, and the sitting itself is still kept.
        let odd = serde_json::json!({ "started": "y", EARLIER_SITTINGS: 3 });
        let kept = RunInfo::earlier_sittings(Ok(odd.as_object().unwrap().clone()), &().into());
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0]["unreadable"], "its earlier_sittings was not a list");
        assert_eq!(kept[1], serde_json::json!({ "started": "y" }));
    }

    #[test]
    fn a_record_that_is_not_a_json_object_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        std::fs::write(&path, "[1, 2]").unwrap();
        let e = RunInfo::read_whole(&path).unwrap_err();
        assert!(format!("{e:#}").contains("not a JSON object"), "{e:#}");
        std::fs::write(&path, r#"{"started": "x"}"#).unwrap();
        assert_eq!(RunInfo::read_whole(&path).unwrap()["started"], "x");
    }
}
