//! `metrics.jsonl`: the run's steps and epochs as a stream of JSON objects, one per line,
//! for tools that read JSON more readily than CSV (`jq`, pandas' `read_json(lines=True)`,
//! dashboards tailing the file). Each line has `"type": "step"` or `"type": "epoch"` and the
//! fields of the matching CSV record; a non-finite number is written `null`. JSON lines
//! rather than TensorBoard event files: serde_json is already here and well kept, and the
//! stream stays readable with no viewer at all.

use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;

use super::records::{read_text, Appender};
use super::{EpochRecord, StepRecord};

/// The file name inside a run directory.
pub const METRICS_JSONL: &str = "metrics.jsonl";

/// Appends step and epoch records to `metrics.jsonl`.
#[derive(Debug)]
pub struct MetricsWriter {
    out: Appender,
}

#[derive(Serialize)]
struct StepLine<'a> {
    r#type: &'static str,
    step: usize,
    epoch: usize,
    loss: f64,
    lr: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    probe: Option<ProbeLine<'a>>,
}

#[derive(Serialize)]
struct ProbeLine<'a> {
    losses: &'a [f64; 5],
    numerator: f64,
    denominator: f64,
    safeguarded: bool,
}

#[derive(Serialize)]
struct EpochLine {
    r#type: &'static str,
    epoch: usize,
    train_loss: f64,
    train_acc: Option<f64>,
    test_loss: Option<f64>,
    test_acc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    val_loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    val_acc: Option<f64>,
    lr: f64,
    seconds: f64,
}

impl MetricsWriter {
    /// A new, empty stream at `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let out = Appender::create(path)?;
        Ok(Self { out })
    }

    /// The lines a run resumed after `last_epoch` epochs and `last_step` steps keeps
    /// (`None`: no file), read and checked without changing the file. A line that is not a
    /// step or epoch object is an error naming it, but for an unterminated last line (a
    /// record a crash cut in the middle), which is dropped.
    pub fn kept(path: &Path, last_epoch: usize, last_step: usize) -> Result<Option<String>> {
        if !super::records::record_exists(path) {
            return Ok(None);
        }
        let text = read_text(path)?;
        let mut kept = String::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let torn = !line.ends_with('\n');
            let parsed: Option<serde_json::Value> = serde_json::from_str(line).ok();
            let field = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_u64());
            let keep = match parsed
                .as_ref()
                .and_then(|v| v.get("type")?.as_str().map(|t| (t, v)))
            {
                Some(("step", v)) if field(v, "step").is_some() => {
                    field(v, "step").is_some_and(|s| s as usize <= last_step)
                }
                Some(("epoch", v)) if field(v, "epoch").is_some() => {
                    field(v, "epoch").is_some_and(|e| e as usize <= last_epoch)
                }
                _ if torn || line.trim().is_empty() => false,
                _ => bail!(
                    "{} line {}: not a step or epoch record",
                    path.display(),
                    i + 1
                ),
            };
            if keep {
                kept.push_str(line);
            }
        }
        Ok(Some(kept))
    }

    /// Replaces `path` with `kept` (see [`MetricsWriter::kept`]; `None`: a new file)
    /// atomically and appends from there.
    pub fn continue_with(path: &Path, kept: Option<&str>) -> Result<Self> {
        let Some(text) = kept else {
            return Self::create(path);
        };
        let out = Appender::continue_with(path, text)?;
        Ok(Self { out })
    }

    /// Forces the lines written so far to the disk.
    pub fn sync(&self) -> Result<()> {
        self.out.sync()
    }

    /// Appends a step's line.
    pub fn step(&mut self, r: &StepRecord) -> Result<()> {
        let probe = r.probe.as_ref().map(|p| ProbeLine {
            losses: &p.f,
            numerator: p.numerator,
            denominator: p.denominator,
            safeguarded: p.safeguarded,
        });
        self.line(&StepLine {
            r#type: "step",
            step: r.step,
            epoch: r.epoch,
            loss: r.loss,
            lr: r.lr,
            probe,
        })
    }

    /// Appends an epoch's line.
    pub fn epoch(&mut self, r: &EpochRecord) -> Result<()> {
        self.line(&EpochLine {
            r#type: "epoch",
            epoch: r.epoch,
            train_loss: r.train_loss,
            train_acc: r.train_acc,
            test_loss: r.test_loss,
            test_acc: r.test_acc,
            val_loss: r.val_loss,
            val_acc: r.val_acc,
            lr: r.lr,
            seconds: r.seconds,
        })
    }

    /// One line, in one write (a crash leaves whole lines, or a torn last one).
    fn line(&mut self, record: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        self.out.append(&line)
    }
}
