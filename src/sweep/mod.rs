//! `etaprobe sweep SPEC.toml`: a grid of tasks × rules × η0 × seeds (and rule options), each
//! cell a normal run directory (what `etaprobe train --out CELL` writes) under one root,
//! `ROOT/task/rule/lr…/seed…`.
//!
//! - `spec`: the TOML spec, checked whole (every cell's command line through `train`'s own
//!   parser and checks, the data located) before anything runs; errors name the line.
//! - `run`: the cells as child processes of this binary, `--jobs` at a time; finished cells
//!   skipped, interrupted ones resumed from their checkpoint, a killed sweep picked up.
//! - `root`: whether the folders already under a root are this spec's cells, checked before
//!   anything is planned or written.
//! - `lock`: one sweep per root; the runs of a killed sweep waited for.
//! - `manifest`: `sweep.json`, every cell's command line and status, which `compare` reads.

#![warn(missing_docs)]

mod lock;
mod manifest;
mod root;
mod run;
pub mod spec;

pub use manifest::{on_disk, CellRecord, Manifest, OnDisk, Status, CELL_LOG, MANIFEST};
pub use run::{
    run_sweep, stop_with_sweep, Refusal, SweepOptions, SweepOutcome, ASIDE_DIR, CHILD_ENV,
};
pub use spec::{number_text, Cell, Spec, SpecError, DEFAULT_CHECKPOINT_EVERY};

/// A `train` command line's words without some options: each of `valued` with the word
/// after it, and each of `flags`. How a recorded command is told the same as a cell's,
/// leaving out what changes no record (which differs: the sweep compares paths as files
/// on this machine, `compare` drops them so that records moved elsewhere still match).
pub fn without_options<'a>(words: &'a [String], valued: &[&str], flags: &[&str]) -> Vec<&'a str> {
    let mut kept = Vec::new();
    let mut it = words.iter().map(String::as_str);
    while let Some(w) = it.next() {
        if valued.contains(&w) {
            it.next();
        } else if !flags.contains(&w) {
            kept.push(w);
        }
    }
    kept
}
