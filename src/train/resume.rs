//! A run's checkpoints: what is saved (weights and running statistics in PyTorch's names;
//! η, step, epoch, the rule's state, the epoch's sums, the seconds so far and the options
//! that shape the run in the metadata; the optimizer's state and d(t−1) in a file beside
//! it), and how a run resumes from them exactly, refusing other options.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::args::TrainConfig;
use super::commit::{self, Committed};
use super::step::Stepper;
use crate::dist::Traffic;
use crate::gpu::{Gpu, Params};
use crate::models::Net;
use crate::rundir::checkpoint::{self, TrainingMeta};
use crate::schedule::Schedule;

/// Running sums of one epoch's training steps.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct EpochSums {
    pub loss: f64,
    pub correct: f64,
    pub samples: usize,
    /// Steps whose loss counts in the means.
    pub batches: usize,
    /// Batches of the epoch used up, skipped steps included: where the epoch resumes.
    #[serde(default)]
    pub consumed: usize,
}

/// Steps the run has discarded so far. Kept in checkpoints, so that a resumed run's
/// summary counts the whole run, not only its last process.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Discarded {
    /// Steps discarded for a non-finite loss (--on-nonfinite skip).
    pub skipped: usize,
    /// Steps discarded because the rule had the update before them undone.
    pub undone: usize,
    /// Times the rule had the run start again from its initial weights.
    pub restarts: usize,
}

/// Where a (possibly resumed) run starts.
pub(super) struct Start {
    pub step: usize,
    pub epoch: usize,
    pub sums: EpochSums,
    pub seconds: f64,
    pub discarded: Discarded,
    /// What data-parallel training spent communicating up to here (rank 0's).
    pub traffic: Traffic,
    /// The first step's batch is discarded ([`super::run::Trainer`]'s `discard_next`).
    pub discard_next: bool,
}

impl Start {
    pub fn fresh() -> Start {
        Start {
            step: 0,
            epoch: 0,
            sums: EpochSums::default(),
            seconds: 0.0,
            discarded: Discarded::default(),
            traffic: Traffic::default(),
            discard_next: false,
        }
    }
}

/// Writes the checkpoint of a run at `at`: where it resumes.
pub(super) fn save(
    t: &Stepper,
    out: &Path,
    args: &TrainConfig,
    schedule: &dyn Schedule,
    at: &Start,
    dataset_md5: &str,
) -> Result<()> {
    let values = t.params.download_all(&t.gpu)?;
    let buffers = t.params.download_buffers(&t.gpu)?;
    // Parameters, then running statistics, in PyTorch's state_dict names.
    let tensors: Vec<(String, Vec<usize>, &[f32])> = t
        .net
        .layout
        .slots
        .iter()
        .zip(&values)
        .chain(t.net.buffers.slots.iter().zip(&buffers))
        .map(|(s, v)| (s.name.clone(), s.shape.clone(), v.as_slice()))
        .collect();
    let mut meta = TrainingMeta {
        lr: schedule.lr(),
        step: at.step as u64,
        epoch: at.epoch as u64,
        seed: args.seed,
        schedule_state: schedule.state(),
    }
    .to_metadata();
    meta.insert(META_MODEL.into(), t.net.kind.cli_name().into());
    meta.insert(META_SUMS.into(), serde_json::to_string(&at.sums)?);
    meta.insert(META_SECONDS.into(), at.seconds.to_string());
    meta.insert(META_DISCARDED.into(), serde_json::to_string(&at.discarded)?);
    meta.insert(META_DISCARD_NEXT.into(), at.discard_next.to_string());
    if at.traffic != Traffic::default() {
        meta.insert(META_TRAFFIC.into(), serde_json::to_string(&at.traffic)?);
    }
    meta.insert(
        META_OPTIONS.into(),
        serde_json::to_string(&trajectory_options(args)?)?,
    );
    meta.insert(META_OPTIONS_VERSION.into(), OPTIONS_VERSION.into());
    meta.insert(META_DATASET_MD5.into(), dataset_md5.into());
    // The optimizer state, d(t−1) and the rule's vectors continue a resumed run exactly;
    // they live in a state file, so that the weights load into PyTorch as they are.
    let (state, state_meta) = state_tensors(t)?;
    let state: Vec<(String, Vec<usize>, &[f32])> = state
        .iter()
        .map(|(n, d)| (n.clone(), vec![d.len()], d.as_slice()))
        .collect();
    commit::write(out, at.step, &tensors, meta, &state, state_meta)
}

/// Tensors read back from the GPU, by name.
type NamedData = Vec<(String, Vec<f32>)>;

/// The tensors of the optimizer, d(t−1), the rule and, when the run keeps them, the states
/// saved before the last updates (which the steps after may put back), read from the GPU,
/// by their names in the state file, with the state file's metadata.
fn state_tensors(t: &Stepper) -> Result<(NamedData, BTreeMap<String, String>)> {
    let mut named: Vec<(String, &crate::gpu::Tensor)> = t
        .optimizer
        .state
        .iter()
        .map(|(n, t)| (format!("optimizer.{n}"), t))
        .collect();
    named.extend(rule_tensors(t));
    for slot in (0..2).filter(|&slot| t.can_restore_before(slot)) {
        named.extend(t.saved_state(slot));
    }
    let mut meta = BTreeMap::new();
    if let Some(previous) = t.measure.previous_direction() {
        named.push(("previous_direction".to_string(), previous));
        meta.insert(
            "have_previous".to_string(),
            t.measure.have_previous().to_string(),
        );
        // The back probe to w(t−1) steps back by η(t−1) as the GPU used it.
        if let Some(lr) = t.previous_lr() {
            meta.insert("previous_lr".to_string(), lr.to_string());
        }
    }
    let tensors = named
        .into_iter()
        .map(|(n, x)| Ok((n, t.gpu.read(x)?)))
        .collect::<Result<_>>()?;
    Ok((tensors, meta))
}

/// The vectors of the rule's own update, the iterate average and the run's w(0), by their
/// names in the file beside the checkpoint.
fn rule_tensors(t: &Stepper) -> Vec<(String, &crate::gpu::Tensor)> {
    let own = t.rule_update.iter().flat_map(|u| &u.state);
    let average = t.average.iter().flat_map(|a| &a.state);
    own.map(|(n, x)| (format!("rule.{n}"), x))
        .chain(average.map(|(n, x)| (format!("average.{n}"), x)))
        .chain(t.origin.iter().map(|x| ("origin".to_string(), x)))
        .collect()
}

/// Loads the optimizer state, d(t−1), the rule's vectors and the states saved before the
/// last updates from a checkpoint's state file. Checkpoints written before they kept those
/// resume without them: the first steps after cannot go back.
pub(super) fn restore_state(t: &mut Stepper, ckpt: &Committed) -> Result<()> {
    let mut wanted: Vec<(String, crate::gpu::Tensor)> = t
        .optimizer
        .state
        .iter()
        .map(|(n, x)| (format!("optimizer.{n}"), x.clone()))
        .collect();
    if let Some(previous) = t.measure.previous_direction() {
        wanted.push(("previous_direction".to_string(), previous.clone()));
    }
    wanted.extend(rule_tensors(t).into_iter().map(|(n, x)| (n, x.clone())));
    let state = match &ckpt.state {
        Some(state) => state,
        // A run that keeps nothing else had no state file before checkpoints kept saved
        // states.
        None if wanted.is_empty() => return Ok(()),
        None => commit::state_of(ckpt)?,
    };
    for slot in 0..2 {
        let saved: Vec<(String, crate::gpu::Tensor)> = (t.saved_state(slot).into_iter())
            .map(|(n, x)| (n, x.clone()))
            .collect();
        if saved
            .first()
            .is_some_and(|(n, _)| state.tensor(n).is_some())
        {
            wanted.extend(saved);
            t.loaded_saved_state(slot);
        }
    }
    let path = &state.path;
    for (name, tensor) in &wanted {
        let (shape, data) = state
            .tensor(name)
            .with_context(|| format!("{} has no {name}", path.display()))?;
        if shape != [tensor.len()] {
            bail!(
                "{}: {name} has shape {shape:?}, the model needs [{}]",
                path.display(),
                tensor.len()
            );
        }
        t.gpu.write(tensor, data);
    }
    if t.measure.previous_direction().is_some() {
        t.measure
            .set_have_previous(state.meta("have_previous")? == "true");
        // Checkpoints written before η(t−1) was kept resume without the first back probe.
        if state.metadata.contains_key("previous_lr") {
            t.set_previous_lr(state.meta_parse::<f32>("previous_lr")?);
        }
    }
    Ok(())
}

const META_MODEL: &str = "etaprobe.model";
const META_SUMS: &str = "etaprobe.epoch_sums";
const META_SECONDS: &str = "etaprobe.seconds";
/// [`Discarded`] as JSON; checkpoints written before it was kept resume counting from 0.
const META_DISCARDED: &str = "etaprobe.discarded";
/// "true" when the first step after the checkpoint discards its batch; absent (older
/// checkpoints) as "false".
const META_DISCARD_NEXT: &str = "etaprobe.discard_next";
/// [`Traffic`] as JSON, in checkpoints of data-parallel runs (absent: none, or a checkpoint
/// written before it was kept).
const META_TRAFFIC: &str = "etaprobe.communication";
const META_OPTIONS: &str = "etaprobe.options";
/// How to read [`META_OPTIONS`]. Version 2: `val_split` is the fraction held out of the
/// training set, null when none is. Checkpoints without the key stored --val-split's old
/// default 0.1 for every run, which held nothing out unless it probed on validation.
const META_OPTIONS_VERSION: &str = "etaprobe.options_version";
const OPTIONS_VERSION: &str = "2";
/// The data set's fingerprint ([`crate::data::Dataset::fingerprint`]; not
/// `etaprobe.data_md5`, the MD5 of the checkpoint's own tensors); checkpoints written before
/// it was kept resume without the check.
const META_DATASET_MD5: &str = "etaprobe.dataset_md5";

/// Refuses to continue a run on data other than those it trained on: `--data` may move,
/// but what it holds (and the validation carving) must be the same.
pub(super) fn check_same_data(ckpt: &checkpoint::Checkpoint, dataset_md5: &str) -> Result<()> {
    match ckpt.metadata.get(META_DATASET_MD5) {
        Some(stored) if stored != dataset_md5 => bail!(
            "{}: the run trained on other data (MD5 {stored} of what it read, {dataset_md5} \
             now): resume it with the data set it used, the same --val-split and \
             --split-seed, or start a new run",
            ckpt.path.display()
        ),
        Some(_) => Ok(()),
        None => {
            log::warn!(
                "{}: written before checkpoints kept the data's MD5, so the data cannot be \
                 checked: resume it only with the data set it trained on",
                ckpt.path.display()
            );
            Ok(())
        }
    }
}

/// Options a resumed run may change: how long it goes on, what and where it writes, and
/// where the data comes from. Every other option shapes the trajectory.
const RESUME_MAY_CHANGE: &[&str] = &[
    "overwrite",
    "epochs",
    "max_steps",
    "out",
    "resume",
    "config",
    "quiet",
    "verbose",
    "eval_subset",
    "figure_format",
    "checkpoint_every",
    "eval_every",
    "lr_from",
    "lr_from_stat",
    "on_nonfinite",
    "data",
    "download",
    "cache_dir",
    "download_base",
];

/// The options that shape a run's trajectory, by field name (the data options flattened,
/// η0 resolved), as stored in its checkpoints.
pub(super) fn trajectory_options(
    args: &TrainConfig,
) -> Result<BTreeMap<String, serde_json::Value>> {
    let serde_json::Value::Object(all) = serde_json::to_value(args)? else {
        bail!("the training options do not serialize to a map");
    };
    let mut options = BTreeMap::new();
    for (key, value) in all {
        match value {
            serde_json::Value::Object(group) if key == "data" => options.extend(group),
            value => {
                options.insert(key, value);
            }
        }
    }
    options.retain(|key, _| !RESUME_MAY_CHANGE.contains(&key.as_str()));
    options.insert("lr".into(), args.lr0().into());
    // What shapes the run is the split held out, not whether it is also evaluated.
    options.insert("val_split".into(), args.val_fraction().into());
    Ok(options)
}

/// Options every rank of a data-parallel job shares besides the trajectory's: how long the
/// job goes on, and the steps at which it checkpoints, evaluates and stops on a bad step
/// (the ranks meet there: a rank that went on alone would wait for the others for ever).
const RANKS_SHARE_TOO: &[&str] = &[
    "epochs",
    "max_steps",
    "checkpoint_every",
    "eval_every",
    "eval_subset",
    "on_nonfinite",
];

/// The options every rank of a data-parallel job must be given alike, by field name: all
/// but where each writes and reads (`--out`, `--data`, ...), which may differ from host to
/// host (the data read is compared by its fingerprints instead).
pub(super) fn rank_options(args: &TrainConfig) -> Result<BTreeMap<String, serde_json::Value>> {
    let mut options = trajectory_options(args)?;
    let all = serde_json::to_value(args)?;
    for key in RANKS_SHARE_TOO {
        if let Some(value) = all.get(*key) {
            options.insert(key.to_string(), value.clone());
        }
    }
    Ok(options)
}

/// Refuses to resume a checkpoint with options that would change the run it continues
/// (e.g. a forgotten `--dropout`), naming each difference; one that does not record them
/// (written before they were, or edited) is refused too.
/// `metadata` is the checkpoint file `path`'s.
pub(super) fn check_same_options(
    path: &Path,
    metadata: &BTreeMap<String, String>,
    args: &TrainConfig,
) -> Result<()> {
    let Some(stored) = metadata.get(META_OPTIONS) else {
        bail!(
            "{} does not record the options of its run ({META_OPTIONS}): written by an older \
             etaprobe, or edited; start a new run",
            path.display()
        );
    };
    let mut stored: BTreeMap<String, serde_json::Value> = serde_json::from_str(stored)
        .with_context(|| format!("{}: unreadable {META_OPTIONS}", path.display()))?;
    if !metadata.contains_key(META_OPTIONS_VERSION)
        && stored.get("probe_on").and_then(|v| v.as_str()) != Some("val")
    {
        stored.insert("val_split".into(), serde_json::Value::Null);
    }
    let now = trajectory_options(args)?;
    // An option newer than the checkpoint counts as unchanged at its default.
    let defaults = trajectory_options(&TrainConfig::default())?;
    let null = serde_json::Value::Null;
    let differences: Vec<String> = stored
        .keys()
        .chain(now.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|key| {
            let is = now.get(key).unwrap_or(&null);
            let was = stored
                .get(key)
                .or_else(|| defaults.get(key).filter(|d| *d == is))
                .unwrap_or(&null);
            (was != is).then(|| {
                format!(
                    "--{} {} (now {})",
                    key.replace('_', "-"),
                    option_text(was),
                    option_text(is)
                )
            })
        })
        .collect();
    if !differences.is_empty() {
        bail!(
            "{} was written by a run with other options: {}; resume with the run's options, or \
             start a new run",
            path.display(),
            differences.join(", ")
        );
    }
    Ok(())
}

/// An option's value as typed on the command line: f32 options without their widening
/// noise, lists comma-separated, unset ones as "unset".
pub(super) fn option_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "unset".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match (n.as_f64(), n.is_f64()) {
            (Some(x), true) if (x as f32) as f64 == x => (x as f32).to_string(),
            _ => n.to_string(),
        },
        serde_json::Value::Array(items) => {
            items.iter().map(option_text).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    }
}

pub(super) fn restore(
    net: &Net,
    params: &Params,
    gpu: &Gpu,
    ckpt: &checkpoint::Checkpoint,
    schedule: &mut dyn Schedule,
) -> Result<Start> {
    let path = &ckpt.path;
    let model = ckpt.meta(META_MODEL)?;
    if model != net.kind.cli_name() {
        bail!(
            "{} is a checkpoint of {model}, not of {}",
            path.display(),
            net.kind.cli_name()
        );
    }
    let mut values = Vec::new();
    for slot in net.layout.slots.iter().chain(&net.buffers.slots) {
        let (shape, data) = ckpt
            .tensor(&slot.name)
            .with_context(|| format!("{} has no tensor {}", path.display(), slot.name))?;
        if shape != slot.shape.as_slice() {
            bail!(
                "{}: {} has shape {shape:?}, the model needs {:?}",
                path.display(),
                slot.name,
                slot.shape
            );
        }
        values.push(data.to_vec());
    }
    let buffers = values.split_off(net.layout.slots.len());
    params.upload_all(gpu, &values);
    params.upload_buffers(gpu, &buffers);
    let meta = ckpt.training_meta()?;
    schedule
        .restore(&meta.schedule_state)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    position(ckpt)
}

/// Where the run of a checkpoint resumes, as its metadata says.
pub(super) fn position(ckpt: &checkpoint::Checkpoint) -> Result<Start> {
    let too_large = |what: &str, n: u64| {
        anyhow::anyhow!(
            "{}: its {what} {n} is too large for this machine",
            ckpt.path.display()
        )
    };
    let (step, epoch) = (ckpt.step()?, ckpt.epoch()?);
    Ok(Start {
        step: usize::try_from(step).map_err(|_| too_large("step", step))?,
        epoch: usize::try_from(epoch).map_err(|_| too_large("epoch", epoch))?,
        sums: ckpt.meta_json(META_SUMS)?,
        seconds: ckpt.meta_parse(META_SECONDS)?,
        discarded: match ckpt.metadata.contains_key(META_DISCARDED) {
            true => ckpt.meta_json(META_DISCARDED)?,
            false => Discarded::default(),
        },
        discard_next: match ckpt.metadata.contains_key(META_DISCARD_NEXT) {
            true => ckpt.meta_parse(META_DISCARD_NEXT)?,
            false => false,
        },
        traffic: match ckpt.metadata.contains_key(META_TRAFFIC) {
            true => ckpt.meta_json(META_TRAFFIC)?,
            false => Traffic::default(),
        },
    })
}
