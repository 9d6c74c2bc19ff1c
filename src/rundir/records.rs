//! `epochs.csv` and `steps.csv`: their records, writers and strict readers (see the
//! conventions in [`crate::rundir`]).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::{write_atomic, EPOCHS_HEADER, PROBE_COLUMNS, STEPS_HEADER, VAL_COLUMNS};
use crate::schedule::ProbeRecord;

/// One line of `epochs.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// From 1.
    pub epoch: usize,
    /// The mean of the epoch's step losses (each at the weights its step started from).
    pub train_loss: f64,
    /// Fraction in [0, 1]; `None` for regression.
    pub train_acc: Option<f64>,
    /// `None` when the epoch had no evaluation.
    pub test_loss: Option<f64>,
    /// Fraction in [0, 1]; `None` for regression or without evaluation.
    pub test_acc: Option<f64>,
    /// η at the end of the epoch.
    pub lr: f64,
    /// Wall time since the start of the run.
    pub seconds: f64,
    /// Validation loss, for a run with a `--val-split` (the `val_loss` column).
    pub val_loss: Option<f64>,
    /// Validation accuracy (fraction), for a classifier with a `--val-split`.
    pub val_acc: Option<f64>,
}

/// One line of `steps.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    /// From 1.
    pub step: usize,
    /// From 1.
    pub epoch: usize,
    /// The batch loss at w(t), before the step's update.
    pub loss: f64,
    /// η(t), the rate the step's update used.
    pub lr: f64,
    /// `None` for schedules that do not probe, or for a step of a probing run that did not.
    pub probe: Option<ProbeRecord>,
}

/// Appends records to `epochs.csv`.
#[derive(Debug)]
pub struct EpochWriter {
    path: PathBuf,
    file: File,
    /// The file has the validation columns.
    val: bool,
}

impl EpochWriter {
    /// Creates (or truncates) `path` and writes the header, without validation columns.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::create_with(path, false)
    }

    /// Creates (or truncates) `path` and writes the header; `val` (the run evaluates a
    /// validation split) adds the `val_loss,val_acc` columns.
    pub fn create_with(path: impl AsRef<Path>, val: bool) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = create_with_header(&path, &epochs_header(val))?;
        Ok(Self { path, file, val })
    }

    /// Continues an existing `epochs.csv` for `--resume`: keeps the records with
    /// `epoch <= last_epoch` (later ones were written after the checkpoint being resumed),
    /// rewrites the file atomically with the file's own columns and appends from there. A
    /// missing file is created without validation columns.
    pub fn resume(path: impl AsRef<Path>, last_epoch: usize) -> Result<Self> {
        let path = path.as_ref();
        let val = path.exists() && epochs_have_val(path)?;
        Self::resume_with(path, val, last_epoch)
    }

    /// [`EpochWriter::resume`] into a file with (`val`) or without the validation columns,
    /// whichever the file had before.
    pub fn resume_with(path: impl AsRef<Path>, val: bool, last_epoch: usize) -> Result<Self> {
        let path = path.as_ref();
        let kept = Self::kept(path, val, last_epoch)?;
        Self::continue_with(path, val, kept.as_deref())
    }

    /// The text `epochs.csv` keeps for a run resumed after `last_epoch` epochs (`None`: no
    /// file), read and checked without changing the file.
    pub fn kept(path: &Path, val: bool, last_epoch: usize) -> Result<Option<String>> {
        if !path.exists() {
            return Ok(None);
        }
        let mut text = format!("{}\n", epochs_header(val));
        for r in read_epochs(path)?.iter().filter(|r| r.epoch <= last_epoch) {
            text.push_str(&epoch_line(r, val));
        }
        Ok(Some(text))
    }

    /// Replaces `path` with `kept` (see [`EpochWriter::kept`]; `None`: a new file)
    /// atomically and appends from there.
    pub fn continue_with(path: &Path, val: bool, kept: Option<&str>) -> Result<Self> {
        let Some(text) = kept else {
            return Self::create_with(path, val);
        };
        write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot rewrite {}", path.display()))?;
        let file = open_append(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            val,
        })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file has the validation columns.
    pub fn val(&self) -> bool {
        self.val
    }

    /// Appends one record (one `write` call: never half a line from a crash of ours). A
    /// record's validation values are dropped in a file without validation columns.
    pub fn write(&mut self, r: &EpochRecord) -> Result<()> {
        self.file
            .write_all(epoch_line(r, self.val).as_bytes())
            .and_then(|_| self.file.flush())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }

    /// Forces the records written so far to the disk.
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .with_context(|| format!("cannot sync {}", self.path.display()))
    }
}

fn epochs_header(val: bool) -> String {
    if val {
        format!("{EPOCHS_HEADER},{VAL_COLUMNS}")
    } else {
        EPOCHS_HEADER.to_string()
    }
}

/// Appends records to `steps.csv`.
#[derive(Debug)]
pub struct StepWriter {
    path: PathBuf,
    file: File,
    probes: bool,
}

impl StepWriter {
    /// Creates (or truncates) `path` and writes the header; `probes` (the run's schedule
    /// probes) adds the probe columns.
    pub fn create(path: impl AsRef<Path>, probes: bool) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = create_with_header(&path, &steps_header(probes))?;
        Ok(Self { path, file, probes })
    }

    /// Continues an existing `steps.csv` for `--resume`: keeps the records with
    /// `step <= last_step`, rewrites the file atomically and appends from there. The file's
    /// header must agree with `probes` (a resumed run keeps its schedule). A missing file is
    /// created.
    pub fn resume(path: impl AsRef<Path>, probes: bool, last_step: usize) -> Result<Self> {
        let path = path.as_ref();
        let kept = Self::kept(path, probes, last_step)?;
        Self::continue_with(path, probes, kept.as_deref())
    }

    /// The text `steps.csv` keeps for a run resumed after `last_step` steps (`None`: no
    /// file), read and checked without changing the file.
    pub fn kept(path: &Path, probes: bool, last_step: usize) -> Result<Option<String>> {
        if !path.exists() {
            return Ok(None);
        }
        let (file_probes, records) = read_steps_with_header(path)?;
        if file_probes != probes {
            bail!(
                "{}: {} probe columns but the resumed schedule {}",
                path.display(),
                if file_probes { "has" } else { "has no" },
                if probes { "probes" } else { "does not probe" }
            );
        }
        let mut text = format!("{}\n", steps_header(probes));
        for r in records.iter().filter(|r| r.step <= last_step) {
            text.push_str(&step_line(r, probes));
        }
        Ok(Some(text))
    }

    /// Replaces `path` with `kept` (see [`StepWriter::kept`]; `None`: a new file)
    /// atomically and appends from there.
    pub fn continue_with(path: &Path, probes: bool, kept: Option<&str>) -> Result<Self> {
        let Some(text) = kept else {
            return Self::create(path, probes);
        };
        write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot rewrite {}", path.display()))?;
        let file = open_append(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            probes,
        })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file has the probe columns.
    pub fn probes(&self) -> bool {
        self.probes
    }

    /// Appends one record. A record with a probe in a file without probe columns is an
    /// error (the probes would be lost); a record without one in a probing file gets empty
    /// probe cells.
    pub fn write(&mut self, r: &StepRecord) -> Result<()> {
        if r.probe.is_some() && !self.probes {
            bail!(
                "{}: step {} has probe losses but the file was created without probe columns",
                self.path.display(),
                r.step
            );
        }
        self.file
            .write_all(step_line(r, self.probes).as_bytes())
            .and_then(|_| self.file.flush())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }

    /// Forces the records written so far to the disk.
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .with_context(|| format!("cannot sync {}", self.path.display()))
    }
}

fn steps_header(probes: bool) -> String {
    if probes {
        format!("{STEPS_HEADER},{PROBE_COLUMNS}")
    } else {
        STEPS_HEADER.to_string()
    }
}

fn create_with_header(path: &Path, header: &str) -> Result<File> {
    let mut file =
        File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(format!("{header}\n").as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(file)
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {} for appending", path.display()))
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn epoch_line(r: &EpochRecord, val: bool) -> String {
    let mut line = format!(
        "{},{},{},{},{},{},{}",
        r.epoch,
        r.train_loss,
        opt(r.train_acc),
        opt(r.test_loss),
        opt(r.test_acc),
        r.lr,
        r.seconds
    );
    if val {
        line.push_str(&format!(",{},{}", opt(r.val_loss), opt(r.val_acc)));
    }
    line.push('\n');
    line
}

fn step_line(r: &StepRecord, probes: bool) -> String {
    let mut line = format!("{},{},{},{}", r.step, r.epoch, r.loss, r.lr);
    if probes {
        match &r.probe {
            Some(p) => {
                for v in p.f {
                    line.push_str(&format!(",{v}"));
                }
                line.push_str(&format!(
                    ",{},{},{}",
                    p.numerator,
                    p.denominator,
                    u8::from(p.safeguarded)
                ));
            }
            None => line.push_str(",,,,,,,,"),
        }
    }
    line.push('\n');
    line
}

/// Reads `epochs.csv` back, with or without the validation columns (files written before
/// they existed, or by runs without `--val-split`, have none: their records have `None`).
pub fn read_epochs(path: impl AsRef<Path>) -> Result<Vec<EpochRecord>> {
    let path = path.as_ref();
    let text = read_text(path)?;
    let mut lines = Lines::new(path, &text);
    let val = val_header(path, lines.header()?)?;
    let header = epochs_header(val);
    let names: Vec<&str> = header.split(',').collect();
    let mut out = Vec::new();
    while let Some(line) = lines.next_record() {
        let parsed = (|| {
            let c = line.cells(&names)?;
            let (val_loss, val_acc) = if val {
                (c.opt_f64(7)?, c.opt_f64(8)?)
            } else {
                (None, None)
            };
            Ok(EpochRecord {
                epoch: c.usize(0)?,
                train_loss: c.f64(1)?,
                train_acc: c.opt_f64(2)?,
                test_loss: c.opt_f64(3)?,
                test_acc: c.opt_f64(4)?,
                lr: c.f64(5)?,
                seconds: c.f64(6)?,
                val_loss,
                val_acc,
            })
        })();
        if let Some(r) = lines.accept(parsed)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// Whether an existing `epochs.csv` has the validation columns.
pub fn epochs_have_val(path: impl AsRef<Path>) -> Result<bool> {
    let path = path.as_ref();
    let text = read_text(path)?;
    let header = Lines::new(path, &text).header()?;
    val_header(path, header)
}

fn val_header(path: &Path, header: &str) -> Result<bool> {
    if header == EPOCHS_HEADER {
        Ok(false)
    } else if header == epochs_header(true) {
        Ok(true)
    } else {
        bail!(
            "{} line 1: header is {header:?}, expected {EPOCHS_HEADER:?} or {:?}",
            path.display(),
            epochs_header(true)
        )
    }
}

/// Reads `steps.csv` back (with or without probe columns).
pub fn read_steps(path: impl AsRef<Path>) -> Result<Vec<StepRecord>> {
    Ok(read_steps_with_header(path.as_ref())?.1)
}

/// Whether an existing `steps.csv` has the probe columns.
pub fn steps_have_probes(path: impl AsRef<Path>) -> Result<bool> {
    let path = path.as_ref();
    let text = read_text(path)?;
    let header = Lines::new(path, &text).header()?;
    probe_header(path, header)
}

fn probe_header(path: &Path, header: &str) -> Result<bool> {
    if header == STEPS_HEADER {
        Ok(false)
    } else if header == steps_header(true) {
        Ok(true)
    } else {
        bail!(
            "{} line 1: header is {header:?}, expected {STEPS_HEADER:?} or {:?}",
            path.display(),
            steps_header(true)
        )
    }
}

fn read_steps_with_header(path: &Path) -> Result<(bool, Vec<StepRecord>)> {
    let text = read_text(path)?;
    let mut lines = Lines::new(path, &text);
    let header = lines.header()?;
    let probes = probe_header(path, header)?;
    let header = steps_header(probes);
    let names: Vec<&str> = header.split(',').collect();
    let mut out = Vec::new();
    while let Some(line) = lines.next_record() {
        let parsed = (|| {
            let c = line.cells(&names)?;
            let probe = if probes {
                let filled = (4..12).filter(|&i| !c.cell(i).is_empty()).count();
                match filled {
                    0 => None,
                    8 => Some(ProbeRecord {
                        f: [c.f64(4)?, c.f64(5)?, c.f64(6)?, c.f64(7)?, c.f64(8)?],
                        numerator: c.f64(9)?,
                        denominator: c.f64(10)?,
                        safeguarded: c.flag(11)?,
                    }),
                    _ => bail!("probe columns are partly empty (all or none must be filled)"),
                }
            } else {
                None
            };
            Ok(StepRecord {
                step: c.usize(0)?,
                epoch: c.usize(1)?,
                loss: c.f64(2)?,
                lr: c.f64(3)?,
                probe,
            })
        })();
        if let Some(r) = lines.accept(parsed)? {
            out.push(r);
        }
    }
    Ok((probes, out))
}

pub(super) fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8 text", path.display()))
}

/// Line iterator that knows the file name, the 1-based line number and whether the current
/// line is an unterminated last line (a torn write).
struct Lines<'a> {
    path: &'a Path,
    rest: &'a str,
    lineno: usize,
    torn: bool,
}

struct Line<'a> {
    text: &'a str,
}

struct Cells<'a> {
    cells: Vec<&'a str>,
    names: &'a [&'a str],
}

impl<'a> Lines<'a> {
    fn new(path: &'a Path, text: &'a str) -> Self {
        Self {
            path,
            rest: text,
            lineno: 0,
            torn: false,
        }
    }

    fn next_line(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        self.lineno += 1;
        let (line, rest, torn) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..], false),
            None => (self.rest, "", true),
        };
        self.rest = rest;
        self.torn = torn;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    fn header(&mut self) -> Result<&'a str> {
        match self.next_line() {
            Some(h) => Ok(h.trim_start_matches('\u{feff}')),
            None => bail!("{}: empty file (no header line)", self.path.display()),
        }
    }

    /// The next non-blank line.
    fn next_record(&mut self) -> Option<Line<'a>> {
        loop {
            let text = self.next_line()?;
            if !text.trim().is_empty() {
                return Some(Line { text });
            }
        }
    }

    /// Turns a line's parse result into a record, an error naming file and line, or `None`
    /// for a torn last line.
    fn accept<T>(&self, parsed: Result<T>) -> Result<Option<T>> {
        match parsed {
            Ok(r) => Ok(Some(r)),
            Err(_) if self.torn => Ok(None),
            Err(e) => bail!("{} line {}: {e:#}", self.path.display(), self.lineno),
        }
    }
}

impl<'a> Line<'a> {
    fn cells(&self, names: &'a [&'a str]) -> Result<Cells<'a>> {
        let cells: Vec<&str> = self.text.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            bail!(
                "{} columns, expected {} ({})",
                cells.len(),
                names.len(),
                names.join(",")
            );
        }
        Ok(Cells { cells, names })
    }
}

impl Cells<'_> {
    fn cell(&self, i: usize) -> &str {
        self.cells[i]
    }

    fn nonempty(&self, i: usize) -> Result<&str> {
        let s = self.cells[i];
        if s.is_empty() {
            bail!("column {} is empty", self.names[i]);
        }
        Ok(s)
    }

    fn usize(&self, i: usize) -> Result<usize> {
        let s = self.nonempty(i)?;
        s.parse().with_context(|| {
            format!(
                "column {}: {s:?} is not a non-negative integer",
                self.names[i]
            )
        })
    }

    fn f64(&self, i: usize) -> Result<f64> {
        let s = self.nonempty(i)?;
        s.parse()
            .with_context(|| format!("column {}: {s:?} is not a number", self.names[i]))
    }

    fn opt_f64(&self, i: usize) -> Result<Option<f64>> {
        if self.cells[i].is_empty() {
            Ok(None)
        } else {
            self.f64(i).map(Some)
        }
    }

    fn flag(&self, i: usize) -> Result<bool> {
        match self.nonempty(i)? {
            "1" | "true" | "True" => Ok(true),
            "0" | "false" | "False" => Ok(false),
            s => bail!("column {}: {s:?} is not 0 or 1", self.names[i]),
        }
    }
}
