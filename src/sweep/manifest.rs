//! `sweep.json`: every cell of a sweep, its command line and where it stands. Rewritten
//! atomically at each change, so that it is whole whenever the sweep is killed; `compare`
//! reads it to know the grid, missing cells included.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::spec::Cell;
use crate::rundir::{write_atomic, RunInfo, RUN_JSON};

/// The manifest's file name in the sweep's root.
pub const MANIFEST: &str = "sweep.json";
/// A cell's log (its run's standard output and error, every attempt appended).
pub const CELL_LOG: &str = "train.log";

/// `sweep.json`: what the sweep was run with, and every cell with its command and where it
/// stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The spec file as given on the command line.
    pub spec: PathBuf,
    /// etaprobe's version.
    pub version: String,
    /// Steps between a cell's checkpoints (the spec's `checkpoint-every`).
    pub checkpoint_every: usize,
    /// Cells run at once: their seconds per step are measured under that load.
    pub jobs: usize,
    /// Adapters the jobs use in turn (`--adapter`); empty: the default adapter.
    #[serde(default)]
    pub adapters: Vec<String>,
    /// UTC, when this sweep process started.
    pub started: String,
    /// UTC, when the manifest was last written.
    pub updated: String,
    /// Every cell of the grid, in the order they run.
    pub cells: Vec<CellRecord>,
}

/// Where a cell stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not run yet, or interrupted: the sweep will (re)start or resume it.
    Pending,
    /// Started and not yet ended. Read by a later sweep, it means the sweep that started it was
    /// killed: the later one waits for `pid` to be gone.
    Running,
    /// Its run.json says it finished.
    Finished,
    /// Its run exited with an error (or stopped, e.g. diverged): kept, not retried unless
    /// `--retry-failed`.
    Failed,
}

/// One cell in the manifest: what it runs, and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellRecord {
    /// The run directory, relative to the root.
    pub dir: PathBuf,
    /// The task's name in the spec.
    pub task: String,
    /// The rule's directory name (its label and swept options).
    pub rule: String,
    /// The `--schedule` it runs.
    pub schedule: String,
    /// η0, its `--lr`.
    pub lr: f64,
    /// Its `--seed`.
    pub seed: u64,
    /// The rule variant's own options (fixed and swept).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// `train`'s arguments that shape the run (all but --out and --checkpoint-every): a
    /// later sweep on the same root must agree with them.
    pub args: Vec<String>,
    /// The command line that starts the cell afresh (a resume adds `--resume`).
    pub command: Vec<String>,
    /// Where the cell stands.
    pub status: Status,
    /// The last attempt's exit code, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The run's log, relative to the root.
    pub log: PathBuf,
    /// Attempts this sweep and earlier ones made (a resume is an attempt); for a cell that
    /// `sweep.json` did not list (lost, or a spec grown), those in its log.
    #[serde(default)]
    pub attempts: usize,
    /// The running process, while running (a later sweep waits for it to be gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

impl CellRecord {
    /// The record of `cell`, pending and not yet attempted, started afresh by `command`.
    pub fn new(cell: &Cell, command: Vec<String>) -> CellRecord {
        CellRecord {
            dir: cell.dir.clone(),
            task: cell.task.clone(),
            rule: cell.rule.clone(),
            schedule: cell.schedule.clone(),
            lr: cell.lr,
            seed: cell.seed,
            options: cell.options.clone(),
            args: cell.args.clone(),
            command,
            status: Status::Pending,
            exit_code: None,
            error: None,
            log: cell.dir.join(CELL_LOG),
            attempts: 0,
            pid: None,
        }
    }
}

impl Manifest {
    /// Reads `sweep.json` under `root`: `None` when there is none, an error when it cannot be
    /// read or is not a manifest.
    pub fn read(root: &Path) -> Result<Option<Manifest>> {
        let path = root.join(MANIFEST);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = crate::rundir::read_regular(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{}: not UTF-8 text", path.display()))?;
        let manifest = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a sweep manifest; move it aside and run the sweep again: it takes \
                 back each cell whose run.json records the cell's command",
                path.display()
            )
        })?;
        Ok(Some(manifest))
    }

    /// Writes the manifest atomically to `sweep.json` under `root`, stamping `updated` with the
    /// current UTC time.
    pub fn write(&mut self, root: &Path) -> Result<()> {
        self.updated = crate::rundir::utc_now();
        let path = root.join(MANIFEST);
        let mut text = serde_json::to_vec_pretty(self)?;
        text.push(b'\n');
        write_atomic(&path, &text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// What a cell's directory says about its run.
#[derive(Debug, Clone, PartialEq)]
pub enum OnDisk {
    /// No directory.
    Absent,
    /// run.json says it finished.
    Finished,
    /// run.json says the run stopped with an error (e.g. diverged).
    Stopped(String),
    /// Interrupted with a checkpoint to resume from.
    Resumable,
    /// A directory without a finished run.json or a checkpoint: nothing to resume.
    Unusable,
}

/// Reads a cell's directory.
pub fn on_disk(dir: &Path) -> OnDisk {
    if !dir.exists() {
        return OnDisk::Absent;
    }
    if let Ok(info) = RunInfo::read(dir.join(RUN_JSON)) {
        // A run stopped on request wrote a checkpoint to go on from.
        if info.finished.is_some() && !info.interrupted() {
            return match info.totals.get("stopped").and_then(|s| s.as_str()) {
                Some(why) => OnDisk::Stopped(why.to_string()),
                None => OnDisk::Finished,
            };
        }
    }
    if dir.join(crate::train::CHECKPOINT).is_file() {
        OnDisk::Resumable
    } else {
        OnDisk::Unusable
    }
}
