//! How a checkpoint reaches the disk as one commit, how the last two are kept, and how a
//! resume finds a whole one.
//!
//! A checkpoint is two files: the weights (`checkpoint.safetensors`, which loads into
//! PyTorch as is) and the state file of its step (`checkpoint.state-STEP-HASH.safetensors`,
//! HASH the first 12 hex digits of its data MD5: the optimizer's state, d(t−1), a rule's
//! vectors). Each file carries the MD5 of its tensor data. The state file is written first;
//! the weights file, written last, names it and holds its MD5: the atomic rename of the
//! weights file is the one commit, so a reader sees the previous complete checkpoint or the
//! new one, never a mix. Just before the commit the checkpoint it replaces is hard-linked to
//! `checkpoint.previous.safetensors` (its state file is kept too), so that a resume whose
//! newest checkpoint turns out damaged on the disk continues from the one before.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::rundir::checkpoint::{self, Checkpoint, META_DATA_MD5, META_STEP};

/// The newest checkpoint's weights, in the run directory.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The checkpoint before the newest.
pub const PREVIOUS: &str = "checkpoint.previous.safetensors";
/// Where a damaged newest checkpoint is moved by [`set_aside_damaged`].
const DAMAGED: &str = "checkpoint.damaged.safetensors";
/// In the weights file: the name of its state file and that file's data MD5. In the state
/// file: its step.
const META_STATE_FILE: &str = "etaprobe.state_file";
const META_STATE_MD5: &str = "etaprobe.state_md5";
const META_STATE_STEP: &str = "etaprobe.state_step";
/// The state file of checkpoints written before the weights named it.
const LEGACY_STATE_FILE: &str = "checkpoint.schedule.safetensors";

/// Named tensors as [`checkpoint::save`] takes them.
pub(super) type Tensors<'a> = [(String, Vec<usize>, &'a [f32])];

/// A checkpoint as loaded for a resume: its weights and its state file, if it has one.
pub(super) struct Committed {
    pub weights: Checkpoint,
    pub state: Option<Checkpoint>,
    /// The newest checkpoint was damaged and this is the one before it.
    pub fell_back: bool,
}

impl Committed {
    /// An MD5 of what the resume restores: both files' metadata (position, η, the rule's
    /// fields) and tensors. Data-parallel ranks compare theirs with their data's.
    pub fn fingerprint(&self) -> [u8; 16] {
        use md5::Digest;
        let mut digest = md5::Md5::new();
        for file in std::iter::once(&self.weights).chain(&self.state) {
            for (key, value) in &file.metadata {
                digest.update(key.as_bytes());
                digest.update([0]);
                digest.update(value.as_bytes());
                digest.update([0]);
            }
            for (name, shape, data) in &file.tensors {
                digest.update(name.as_bytes());
                shape
                    .iter()
                    .for_each(|d| digest.update((*d as u64).to_le_bytes()));
                checkpoint::update_f32_le(&mut digest, data);
            }
        }
        digest.finalize().into()
    }
}

/// Commits the checkpoint of `step` into `dir`: the state tensors (none: the run has no
/// state) first, then the weights with `meta`. Keeps the checkpoint it replaces as
/// [`PREVIOUS`] and removes older state files.
pub(super) fn write(
    dir: &Path,
    step: usize,
    weights: &Tensors,
    mut meta: BTreeMap<String, String>,
    state: &Tensors,
    mut state_meta: BTreeMap<String, String>,
) -> Result<()> {
    if !state.is_empty() {
        // Named by content as well as step: two checkpoints of one step (an epoch's last
        // step, then the run's end) never write over each other's state file, unless it is
        // the same file.
        let digest = checkpoint::data_md5(state);
        let name = format!("checkpoint.state-{step:09}-{}.safetensors", &digest[..12]);
        state_meta.insert(META_STATE_STEP.into(), step.to_string());
        let md5 = checkpoint::save(dir.join(&name), state, state_meta)?;
        meta.insert(META_STATE_FILE.into(), name);
        meta.insert(META_STATE_MD5.into(), md5);
    }
    crash_point("checkpoint-state-written");
    keep_previous(dir)?;
    crash_point("checkpoint-previous-kept");
    checkpoint::save(dir.join(CHECKPOINT), weights, meta)?;
    crash_point("checkpoint-committed");
    remove_stale(dir);
    Ok(())
}

/// Whether `name` is a checkpoint file a run writes in its directory: the newest, the one
/// before it, a damaged one set aside, or a state file. Only these are the run's: a user's
/// `checkpoint.best.safetensors` beside them is left alone by `--overwrite` and the
/// stale-file sweep.
pub(super) fn is_checkpoint_file(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let damaged_n = name
        .strip_prefix("checkpoint.damaged-")
        .and_then(|n| n.strip_suffix(".safetensors"))
        .is_some_and(digits);
    [CHECKPOINT, PREVIOUS, DAMAGED, LEGACY_STATE_FILE].contains(&name)
        || damaged_n
        || is_state_file(name)
}

/// A state file's name: `checkpoint.state-STEP-HASH.safetensors`, STEP at least 9 digits,
/// HASH 12 hex digits of its data's MD5 (`checkpoint.state-STEP.safetensors` before the
/// hash was added).
fn is_state_file(name: &str) -> bool {
    let Some(n) = name
        .strip_prefix("checkpoint.state-")
        .and_then(|n| n.strip_suffix(".safetensors"))
    else {
        return false;
    };
    let (step, hash) = n.split_once('-').unwrap_or((n, ""));
    step.len() >= 9
        && step.bytes().all(|b| b.is_ascii_digit())
        && (hash.is_empty() || hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Links the committed checkpoint to [`PREVIOUS`] (replacing the one there atomically), so
/// that the commit after it keeps it. A file system without hard links gets a copy.
fn keep_previous(dir: &Path) -> Result<()> {
    let current = dir.join(CHECKPOINT);
    if !current.exists() {
        return Ok(());
    }
    let link = dir.join(format!(".{PREVIOUS}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&link);
    link_or_copy(&current, &link)?;
    std::fs::rename(&link, dir.join(PREVIOUS))
        .with_context(|| format!("cannot keep {} as {PREVIOUS}", current.display()))
}

/// The state files the kept checkpoints need, by name.
fn needed_state_files(dir: &Path) -> Vec<String> {
    [CHECKPOINT, PREVIOUS]
        .iter()
        .filter_map(|name| checkpoint::load_metadata(dir.join(name)).ok())
        .map(|meta| {
            meta.get(META_STATE_FILE)
                .cloned()
                .unwrap_or_else(|| LEGACY_STATE_FILE.to_string())
        })
        .collect()
}

/// Removes the state files no kept checkpoint names and the temporaries of interrupted
/// writes, in `dir`. Best effort: a file left over is only disk. Call it only while this
/// process holds the run directory's lock.
pub(super) fn remove_stale(dir: &Path) {
    let keep = needed_state_files(dir);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let state = is_state_file(&name) || name == LEGACY_STATE_FILE;
        // The atomic writes' and keep_previous's temporaries: ".checkpoint….tmp…".
        let temporary = name.starts_with(".checkpoint") && name.contains(".tmp");
        if (state && !keep.contains(&name)) || temporary {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Loads the checkpoint at `path` with its state file. When that checkpoint is damaged or
/// its state file is missing or not its own, and `path` is a run's newest checkpoint whose
/// previous one is whole, says so and loads the previous one.
pub(super) fn load(path: &Path) -> Result<Committed> {
    let newest = match load_pair(path) {
        Ok(pair) => return Ok(pair),
        Err(e) => e,
    };
    let previous = path.with_file_name(PREVIOUS);
    let is_newest = path.file_name().is_some_and(|n| n == CHECKPOINT);
    if !is_newest || !previous.exists() || !path.exists() {
        return Err(newest);
    }
    match load_pair(&previous) {
        Ok(mut pair) => {
            pair.fell_back = true;
            log::warn!(
                "{newest:#}; resuming from the checkpoint before it, {} (step {})",
                previous.display(),
                pair.weights.meta(META_STEP).unwrap_or("?")
            );
            Ok(pair)
        }
        Err(_) => Err(newest),
    }
}

fn load_pair(path: &Path) -> Result<Committed> {
    let weights = checkpoint::load(path)?;
    let Some(name) = weights.metadata.get(META_STATE_FILE) else {
        // Written before the weights named their state file: the fixed name, if present.
        let legacy = path.with_file_name(LEGACY_STATE_FILE);
        let state = legacy
            .exists()
            .then(|| checkpoint::load(&legacy))
            .transpose()?;
        return Ok(Committed {
            weights,
            state,
            fell_back: false,
        });
    };
    if name.contains(['/', '\\']) || name.starts_with('.') {
        bail!("{}: names the state file {name:?}", path.display());
    }
    let state_path = path.with_file_name(name);
    let state = checkpoint::load(&state_path)
        .with_context(|| format!("reading the state file that {} names", path.display()))?;
    let (want, got) = (weights.meta(META_STEP)?, state.meta(META_STATE_STEP)?);
    if want != got {
        bail!(
            "{} holds the state of step {got}, {} is of step {want}",
            state_path.display(),
            path.display()
        );
    }
    if let (Some(want), Some(got)) = (
        weights.metadata.get(META_STATE_MD5),
        state.metadata.get(META_DATA_MD5),
    ) {
        if want != got {
            bail!(
                "{} is not the state file {} was written with (MD5 {got}, not {want})",
                state_path.display(),
                path.display()
            );
        }
    }
    Ok(Committed {
        weights,
        state: Some(state),
        fell_back: false,
    })
}

/// After a resume fell back to the previous checkpoint: moves the damaged newest one aside
/// (to `checkpoint.damaged.safetensors`, or `checkpoint.damaged-N.safetensors` beside an
/// earlier one, which stays for a look too) and makes the previous the newest, so that
/// the next commit keeps it as the one before. Call it only under the run's lock.
pub(super) fn set_aside_damaged(dir: &Path) -> Result<()> {
    let (newest, previous) = (dir.join(CHECKPOINT), dir.join(PREVIOUS));
    // Linked aside, then replaced by the previous one in one rename: at no point is there
    // no `checkpoint.safetensors` to resume from.
    let aside = (1..)
        .map(|n| match n {
            1 => dir.join(DAMAGED),
            n => dir.join(DAMAGED.replace(".damaged.", &format!(".damaged-{n}."))),
        })
        // Free: nothing there, not even a link (a dangling one would lead the copy out of
        // the run directory).
        .find(|p| p.symlink_metadata().is_err())
        .expect("an unbounded range of names has a free one");
    link_or_copy(&newest, &aside)?;
    let link = dir.join(format!(".{CHECKPOINT}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&link);
    link_or_copy(&previous, &link)?;
    std::fs::rename(&link, &newest)
        .with_context(|| format!("cannot make {} the newest checkpoint", previous.display()))
}

/// A hard link of `from` at `to`, or a copy where the file system refuses links. `to` is
/// a new name: the copy never follows a link there.
fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if std::fs::hard_link(from, to).is_err() {
        let copy = || -> std::io::Result<()> {
            let mut source = std::fs::File::open(from)?;
            let mut target = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(to)?;
            std::io::copy(&mut source, &mut target)?;
            target.sync_all()
        };
        copy().with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// Writes the checkpoint a run resumes from into `dir`, another run directory, as its
/// newest: a run continued there (`--resume A --out B`) can be resumed from B alone, even
/// when it is killed before its first checkpoint of its own. Written from what the resume
/// loaded (state file first, under its own name; the weights, which name it, last), so that
/// it is the checkpoint restored even if A's files change meanwhile.
pub(super) fn carry_into(c: &Committed, dir: &Path) -> Result<()> {
    fn borrowed(file: &Checkpoint) -> Vec<(String, Vec<usize>, &[f32])> {
        (file.tensors.iter())
            .map(|(n, shape, data)| (n.clone(), shape.clone(), data.as_slice()))
            .collect()
    }
    if let Some(state) = &c.state {
        let name = state
            .path
            .file_name()
            .with_context(|| format!("{} has no file name", state.path.display()))?;
        checkpoint::save(dir.join(name), &borrowed(state), state.metadata.clone())?;
    }
    checkpoint::save(
        dir.join(CHECKPOINT),
        &borrowed(&c.weights),
        c.weights.metadata.clone(),
    )?;
    crash_point("resumed-checkpoint-carried");
    Ok(())
}

/// The state file of a loaded checkpoint, or an error saying the resume needs one.
pub(super) fn state_of(c: &Committed) -> Result<&Checkpoint> {
    c.state.as_ref().with_context(|| {
        format!(
            "resuming this optimizer and schedule needs the state file beside {}, and there \
             is none",
            c.weights.path.display()
        )
    })
}

/// Crashes the process at a named point of a checkpoint, for the crash-and-resume tests:
/// `ETAPROBE_CRASH_AT=POINT` or `POINT@N` (the N-th time the point is reached). Debug
/// builds only.
pub(super) fn crash_point(point: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static SEEN: AtomicUsize = AtomicUsize::new(0);
        let Ok(spec) = std::env::var("ETAPROBE_CRASH_AT") else {
            return;
        };
        let (name, nth) = match spec.split_once('@') {
            Some((name, n)) => (name.to_string(), n.parse().unwrap_or(1)),
            None => (spec, 1),
        };
        if name == point && SEEN.fetch_add(1, Ordering::SeqCst) + 1 == nth {
            eprintln!("ETAPROBE_CRASH_AT: crashing at {point}");
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

#[cfg(test)]
mod tests {
    use super::is_checkpoint_file;

    #[test]
    fn only_the_names_a_run_writes_are_its_checkpoint_files() {
        for name in [
            "checkpoint.safetensors",
            "checkpoint.previous.safetensors",
            "checkpoint.damaged.safetensors",
            "checkpoint.damaged-12.safetensors",
            "checkpoint.schedule.safetensors",
            "checkpoint.state-000000099.safetensors",
            "checkpoint.state-000001200-0123456789ab.safetensors",
            "checkpoint.state-12345678901-0123456789ab.safetensors",
        ] {
            assert!(is_checkpoint_file(name), "{name}");
        }
        for name in [
            "checkpoint.best.safetensors",
            "checkpoint.safetensors.bak",
            "checkpoint.damaged-.safetensors",
            "checkpoint.damaged-x.safetensors",
            "checkpoint.state-99.safetensors",
            "checkpoint.state-000000099-mine.safetensors",
            "checkpoint.state-000000099-0123456789ab.bin",
            "checkpoints.safetensors",
        ] {
            assert!(!is_checkpoint_file(name), "{name}");
        }
    }
}
