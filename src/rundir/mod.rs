//! A run directory (DESIGN.md §5): `epochs.csv`, `steps.csv`, the per-step logs
//! (`rule.csv`, `evals.csv`), the same steps and epochs as JSON lines (`metrics.jsonl`),
//! `run.json`, checkpoints, and the atomic writes everything in it
//! goes through. Below both the trainer, which writes it, and `report`, which reads it.
//!
//! CSV conventions (so that pandas, spreadsheets and `awk -F,` read the files as they are):
//! - one header line, then one record per line, `\n` terminated, no quoting (every cell is a
//!   number or empty);
//! - floats are written with Rust's `{}` for `f64`, the shortest text that parses back to
//!   the same value, so a resumed run or a figure sees exactly what the trainer had;
//!   non-finite values are written `NaN`, `inf`, `-inf` (a diverged loss stays visible);
//! - a missing value is an empty cell;
//! - `safeguarded` is `1` when δ was added to the Newton denominator, else `0`.
//!
//! Writers write each record with a single `write` of the whole line and no buffering, so a
//! run that crashes keeps every record up to its last step (the page cache survives the
//! process). [`EpochWriter::sync`] / [`StepWriter::sync`] also push them to the disk, for
//! when a checkpoint is taken.
//!
//! Both `epochs.csv` and `steps.csv` are written and read with the `csv` crate and serde,
//! cells found by column name (a file whose columns another tool reordered reads the same).
//! Readers are strict (a malformed line is an error naming the file, the line and the
//! column) with one exception: an unterminated last line that does not parse is dropped,
//! because it is a record that a crash cut in the middle, never a complete one.

#![warn(missing_docs)]

mod atomic;
pub mod checkpoint;
mod files;
mod lock;
mod metrics_log;
mod records;
mod run_info;
mod step_log;

pub(crate) use atomic::create_own;
pub use atomic::{
    file_kind, open_regular, read_regular, stage_with, write_atomic, write_atomic_with, Staged,
};

/// Whether two paths name the same existing folder (or file), however spelled.
pub fn same_folder(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The folder a file is in: `.` for a bare file name (`Path::parent` gives an empty path
/// there, which names no folder to write figures into or to resume from).
pub fn folder_of(file: &std::path::Path) -> std::path::PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}
pub use files::RunFiles;
pub use lock::{RunLock, LOCK};
pub use metrics_log::{MetricsWriter, METRICS_JSONL};
pub use records::{
    epochs_have_val, read_decisions, read_epochs, read_steps, record_exists, steps_have_probes,
    EpochRecord, EpochWriter, StepRecord, StepWriter,
};
pub use run_info::{format_utc, utc_now, RunInfo, EARLIER_SITTINGS};
pub use step_log::open_step_log;

/// One line per epoch: losses, accuracies, η, seconds.
pub const EPOCHS_CSV: &str = "epochs.csv";
/// One line per step: the batch loss, η, and a probing rule's probes.
pub const STEPS_CSV: &str = "steps.csv";
/// What the run was and what it did.
pub const RUN_JSON: &str = "run.json";
/// What the rule decided at each step it logs (its own columns).
pub const RULE_CSV: &str = "rule.csv";
/// The test evaluations of `--eval-every`.
pub const EVALS_CSV: &str = "evals.csv";

/// Header of `epochs.csv` (a user-facing contract: DESIGN.md §5).
pub const EPOCHS_HEADER: &str = "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds";
/// Columns appended to [`EPOCHS_HEADER`] when the run evaluates a validation split
/// (`--val-split`): its loss and, for a classifier, its accuracy at the epoch's end.
pub const VAL_COLUMNS: &str = "val_loss,val_acc";
/// Header of `steps.csv` for a schedule that does not probe.
pub const STEPS_HEADER: &str = "step,epoch,loss,lr";
/// Columns appended to [`STEPS_HEADER`] when the schedule probes (newton, gen): the five
/// losses in the order of its probe steps (named after newton's η + kε, k = −2..2; gen's
/// are η·(1 + j/2) or η·j/2), and the pieces of its update ([`crate::schedule::ProbeRecord`]).
pub const PROBE_COLUMNS: &str = "f_m2,f_m1,f_0,f_p1,f_p2,numerator,denominator,safeguarded";
