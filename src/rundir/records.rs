//! `epochs.csv` and `steps.csv`: their records, writers and strict readers (see the
//! conventions in [`crate::rundir`]).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::{create_own, write_atomic, EPOCHS_HEADER, PROBE_COLUMNS, STEPS_HEADER, VAL_COLUMNS};
use crate::schedule::ProbeRecord;

/// One line of `epochs.csv` (read back by column name: see [`read_epochs`]).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
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
    #[serde(default)]
    pub val_loss: Option<f64>,
    /// Validation accuracy (fraction), for a classifier with a `--val-split`.
    #[serde(default)]
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
    out: Appender,
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
        let out = Appender::create_with_header(path.as_ref(), &epochs_header(val))?;
        Ok(Self { out, val })
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
        if !record_exists(path) {
            return Ok(None);
        }
        let records = read_epochs(path)?;
        let kept: Vec<&EpochRecord> = records.iter().filter(|r| r.epoch <= last_epoch).collect();
        check_unbroken(
            path,
            "epoch",
            kept.iter().map(|r| r.epoch),
            last_epoch,
            true,
        )?;
        let mut text = format!("{}\n", epochs_header(val));
        for r in kept {
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
        let out = Appender::continue_with(path, text)?;
        Ok(Self { out, val })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.out.path
    }

    /// Whether the file has the validation columns.
    pub fn val(&self) -> bool {
        self.val
    }

    /// Appends one record (one `write` call: never half a line from a crash of ours). A
    /// record's validation values are dropped in a file without validation columns.
    pub fn write(&mut self, r: &EpochRecord) -> Result<()> {
        self.out.append(&epoch_line(r, self.val))
    }

    /// Forces the records written so far to the disk.
    pub fn sync(&self) -> Result<()> {
        self.out.sync()
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
    out: Appender,
    /// The file has the probe columns.
    probes: bool,
}

impl StepWriter {
    /// Creates (or truncates) `path` and writes the header; `probes` (the run's schedule
    /// probes) adds the probe columns.
    pub fn create(path: impl AsRef<Path>, probes: bool) -> Result<Self> {
        let out = Appender::create_with_header(path.as_ref(), &steps_header(probes))?;
        Ok(Self { out, probes })
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
        if !record_exists(path) {
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
        let kept: Vec<&StepRecord> = records.iter().filter(|r| r.step <= last_step).collect();
        check_unbroken(path, "step", kept.iter().map(|r| r.step), last_step, false)?;
        let mut text = format!("{}\n", steps_header(probes));
        for r in kept {
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
        let out = Appender::continue_with(path, text)?;
        Ok(Self { out, probes })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.out.path
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
                self.out.path.display(),
                r.step
            );
        }
        self.out.append(&step_line(r, self.probes))
    }

    /// Forces the records written so far to the disk.
    pub fn sync(&self) -> Result<()> {
        self.out.sync()
    }
}

fn steps_header(probes: bool) -> String {
    if probes {
        format!("{STEPS_HEADER},{PROBE_COLUMNS}")
    } else {
        STEPS_HEADER.to_string()
    }
}

/// Refuses to resume from records out of order, and, with `every` (one row per epoch), from
/// records that skip one or stop short of the checkpoint's `last`: resuming would keep the
/// hole for good. Rows go missing only by a hand's edit, or by a machine that crashed with
/// rows not yet on the disk under an older etaprobe (checkpoints now push the records to
/// the disk first). The first row may be later than 1: a run resumed from a bare
/// checkpoint, with no records beside it, starts its records at the checkpoint (so rows
/// deleted from the very start pass). Steps have no `every`: a step discarded after a
/// blow-up (`auto`, `--on-nonfinite skip`) leaves no row of its own.
fn check_unbroken(
    path: &Path,
    what: &str,
    rows: impl Iterator<Item = usize>,
    last: usize,
    every: bool,
) -> Result<()> {
    let mut previous: Option<usize> = None;
    // One past the checkpoint closes the sequence: the last row must reach `last`.
    for n in rows.chain(std::iter::once(last.saturating_add(1))) {
        let gap = match previous {
            Some(p) if n <= p => bail!(
                "{}: {what} {n} comes after {what} {p}: the file was edited; resuming would \
                 keep the disorder. Restore the file, or start the run afresh",
                path.display()
            ),
            Some(p) if every && n > p + 1 => Some((p + 1, n - 1)),
            _ => None,
        };
        if let Some((from, to)) = gap {
            let missing = if from == to {
                format!("{what} {from}")
            } else {
                format!("{what}s {from}–{to}")
            };
            bail!(
                "{}: no row for {missing}, before the checkpoint's {what} {last}: the file \
                 was edited, or lost rows in a crash of the machine; resuming would leave the \
                 hole in the records. Restore the file, or start the run afresh",
                path.display()
            );
        }
        previous = Some(n);
    }
    Ok(())
}

/// A record file (`epochs.csv`, `steps.csv`, `metrics.jsonl`) that lines are appended to,
/// each in one `write` call, so a crash of ours never leaves half a line.
#[derive(Debug)]
pub(super) struct Appender {
    pub(super) path: PathBuf,
    file: File,
}

impl Appender {
    /// Creates (or truncates) `path`, empty; a link there is replaced ([`create_own`]).
    pub(super) fn create(path: &Path) -> Result<Self> {
        let file = create_own(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Creates (or truncates) `path` with `header` as its first line.
    fn create_with_header(path: &Path, header: &str) -> Result<Self> {
        let mut out = Self::create(path)?;
        out.append(&format!("{header}\n"))?;
        Ok(out)
    }

    /// Replaces `path` with `text` atomically and appends from there.
    pub(super) fn continue_with(path: &Path, text: &str) -> Result<Self> {
        write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot rewrite {}", path.display()))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} for appending", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    pub(super) fn append(&mut self, line: &str) -> Result<()> {
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }

    pub(super) fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .with_context(|| format!("cannot sync {}", self.path.display()))
    }
}

/// A float cell in Rust's `{}` text (the shortest that parses back; the csv crate's own
/// float text would write `1e-5` where every earlier record has `0.00001`).
fn num<S: serde::Serializer>(v: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// An optional float cell: empty when `None`.
fn opt_num<S: serde::Serializer>(v: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(x) => s.collect_str(x),
        None => s.serialize_none(),
    }
}

/// The cells of `epochs.csv` every file has.
#[derive(serde::Serialize)]
struct EpochCells {
    epoch: usize,
    #[serde(serialize_with = "num")]
    train_loss: f64,
    #[serde(serialize_with = "opt_num")]
    train_acc: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    test_loss: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    test_acc: Option<f64>,
    #[serde(serialize_with = "num")]
    lr: f64,
    #[serde(serialize_with = "num")]
    seconds: f64,
}

/// The validation cells of `epochs.csv` ([`VAL_COLUMNS`]).
#[derive(serde::Serialize)]
struct ValCells {
    #[serde(serialize_with = "opt_num")]
    val_loss: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    val_acc: Option<f64>,
}

/// The cells of `steps.csv` every file has.
#[derive(serde::Serialize)]
struct StepCells {
    step: usize,
    epoch: usize,
    #[serde(serialize_with = "num")]
    loss: f64,
    #[serde(serialize_with = "num")]
    lr: f64,
}

/// The probe cells of `steps.csv` ([`PROBE_COLUMNS`]), all empty for a step that did not
/// probe.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct ProbeCells {
    #[serde(serialize_with = "opt_num")]
    f_m2: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    f_m1: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    f_0: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    f_p1: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    f_p2: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    numerator: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    denominator: Option<f64>,
    safeguarded: Option<String>,
}

impl ProbeCells {
    fn new(p: &ProbeRecord) -> Self {
        let [f_m2, f_m1, f_0, f_p1, f_p2] = p.f.map(Some);
        Self {
            f_m2,
            f_m1,
            f_0,
            f_p1,
            f_p2,
            numerator: Some(p.numerator),
            denominator: Some(p.denominator),
            safeguarded: Some(u8::from(p.safeguarded).to_string()),
        }
    }

    /// The probe back: all cells filled, or none (a step that did not probe).
    fn record(self) -> Result<Option<ProbeRecord>> {
        let nums = [
            self.f_m2,
            self.f_m1,
            self.f_0,
            self.f_p1,
            self.f_p2,
            self.numerator,
            self.denominator,
        ];
        let filled =
            nums.iter().filter(|v| v.is_some()).count() + usize::from(self.safeguarded.is_some());
        match filled {
            0 => Ok(None),
            8 => {
                let v = nums.map(Option::unwrap_or_default);
                let safeguarded = match self.safeguarded.as_deref().unwrap_or_default() {
                    "1" | "true" | "True" => true,
                    "0" | "false" | "False" => false,
                    s => bail!("column safeguarded: {s:?} is not 0 or 1"),
                };
                Ok(Some(ProbeRecord {
                    f: [v[0], v[1], v[2], v[3], v[4]],
                    numerator: v[5],
                    denominator: v[6],
                    safeguarded,
                }))
            }
            _ => bail!("probe columns are partly empty (all or none must be filled)"),
        }
    }
}

/// One record as a `\n`-terminated line, written by the csv crate.
fn csv_line(row: &impl serde::Serialize) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Numbers and empty cells only: serializing them into memory cannot fail.
    w.serialize(row).expect("a record of numbers serializes");
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("numbers are ASCII")
}

fn epoch_line(r: &EpochRecord, val: bool) -> String {
    let cells = EpochCells {
        epoch: r.epoch,
        train_loss: r.train_loss,
        train_acc: r.train_acc,
        test_loss: r.test_loss,
        test_acc: r.test_acc,
        lr: r.lr,
        seconds: r.seconds,
    };
    if val {
        let v = ValCells {
            val_loss: r.val_loss,
            val_acc: r.val_acc,
        };
        csv_line(&(cells, v))
    } else {
        csv_line(&cells)
    }
}

fn step_line(r: &StepRecord, probes: bool) -> String {
    let cells = StepCells {
        step: r.step,
        epoch: r.epoch,
        loss: r.loss,
        lr: r.lr,
    };
    if probes {
        let p = r.probe.as_ref().map(ProbeCells::new).unwrap_or_default();
        csv_line(&(cells, p))
    } else {
        csv_line(&cells)
    }
}

/// A line of `steps.csv`, its cells found by column name (the probe cells are absent from
/// a file without probe columns).
#[derive(serde::Deserialize)]
struct StepRow {
    step: usize,
    epoch: usize,
    loss: f64,
    lr: f64,
    #[serde(default)]
    f_m2: Option<f64>,
    #[serde(default)]
    f_m1: Option<f64>,
    #[serde(default)]
    f_0: Option<f64>,
    #[serde(default)]
    f_p1: Option<f64>,
    #[serde(default)]
    f_p2: Option<f64>,
    #[serde(default)]
    numerator: Option<f64>,
    #[serde(default)]
    denominator: Option<f64>,
    #[serde(default)]
    safeguarded: Option<String>,
}

/// Reads `epochs.csv` back, with or without the validation columns (files written before
/// they existed, or by runs without `--val-split`, have none: their records have `None`).
pub fn read_epochs(path: impl AsRef<Path>) -> Result<Vec<EpochRecord>> {
    let (_, rows) = read_rows(
        path.as_ref(),
        EPOCHS_HEADER,
        VAL_COLUMNS,
        |r: EpochRecord| Ok(r),
    )?;
    Ok(rows)
}

/// Whether an existing `epochs.csv` has the validation columns.
pub fn epochs_have_val(path: impl AsRef<Path>) -> Result<bool> {
    let path = path.as_ref();
    has_optional_columns(path, &read_text(path)?, EPOCHS_HEADER, VAL_COLUMNS)
}

/// How often each decision of a rule's `rule.csv` (its `decision` column) was taken; `None`
/// when the run has no `rule.csv` (kept records: `rule.csv.gz`) or it has no such column.
pub fn read_decisions(path: impl AsRef<Path>) -> Result<Option<BTreeMap<String, usize>>> {
    let path = path.as_ref();
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    if !path.is_file() && !Path::new(&gz).is_file() {
        return Ok(None);
    }
    let text = read_text(path)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .with_context(|| format!("{}: no header", path.display()))?;
    let Some(column) = header.iter().position(|h| h == "decision") else {
        return Ok(None);
    };
    let mut counts = BTreeMap::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("cannot read {}", path.display()))?;
        if let Some(d) = record.get(column).filter(|d| !d.is_empty()) {
            *counts.entry(d.to_string()).or_insert(0) += 1;
        }
    }
    Ok(Some(counts))
}

/// Reads `steps.csv` back (with or without probe columns).
pub fn read_steps(path: impl AsRef<Path>) -> Result<Vec<StepRecord>> {
    Ok(read_steps_with_header(path.as_ref())?.1)
}

/// Whether an existing `steps.csv` has the probe columns.
pub fn steps_have_probes(path: impl AsRef<Path>) -> Result<bool> {
    let path = path.as_ref();
    has_optional_columns(path, &read_text(path)?, STEPS_HEADER, PROBE_COLUMNS)
}

fn read_steps_with_header(path: &Path) -> Result<(bool, Vec<StepRecord>)> {
    read_rows(path, STEPS_HEADER, PROBE_COLUMNS, |r: StepRow| {
        let probe = ProbeCells {
            f_m2: r.f_m2,
            f_m1: r.f_m1,
            f_0: r.f_0,
            f_p1: r.f_p1,
            f_p2: r.f_p2,
            numerator: r.numerator,
            denominator: r.denominator,
            safeguarded: r.safeguarded,
        }
        .record()?;
        Ok(StepRecord {
            step: r.step,
            epoch: r.epoch,
            loss: r.loss,
            lr: r.lr,
            probe,
        })
    })
}

/// A reader of this module's CSV conventions: trimmed cells, `\n` or `\r\n` lines.
fn csv_reader(text: &str, has_headers: bool) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(has_headers)
        // Column counts are checked here, to name them in the error.
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// The file's header, checked: the `base` columns (comma-separated), and the `optional`
/// ones all or none, in any order, nothing else. Returns the header and whether the
/// optional columns are there.
fn header_columns(
    path: &Path,
    reader: &mut csv::Reader<&[u8]>,
    base: &str,
    optional: &str,
) -> Result<(csv::StringRecord, bool)> {
    let header = reader
        .headers()
        .with_context(|| format!("{} line 1: cannot read the header", path.display()))?
        .clone();
    let names: Vec<&str> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}'))
        .collect();
    if names.iter().all(|h| h.is_empty()) {
        bail!("{}: empty file (no header line)", path.display());
    }
    let has = |group: &str| group.split(',').filter(|c| names.contains(c)).count();
    let (base_n, opt_n) = (base.split(',').count(), optional.split(',').count());
    let (found_base, found_opt) = (has(base), has(optional));
    let unknown = names.len() != found_base + found_opt;
    if unknown || found_base != base_n || (found_opt != 0 && found_opt != opt_n) {
        bail!(
            "{} line 1: header is {:?}, expected the columns {base:?}, optionally followed by \
             {optional:?}",
            path.display(),
            names.join(",")
        );
    }
    let header: csv::StringRecord = names.into_iter().collect();
    Ok((header, found_opt == opt_n))
}

fn has_optional_columns(path: &Path, text: &str, base: &str, optional: &str) -> Result<bool> {
    Ok(header_columns(path, &mut csv_reader(text, true), base, optional)?.1)
}

/// Reads a CSV file of these conventions into records: each line is deserialized by the
/// csv crate into `Row` by column name and turned into a record by `convert`. A malformed
/// line is an error naming the file, the line and the column; an unterminated last line
/// that does not parse is dropped (a record a crash cut short). Returns whether the
/// `optional` columns are there, and the records.
fn read_rows<Row: serde::de::DeserializeOwned, T>(
    path: &Path,
    base: &str,
    optional: &str,
    convert: impl Fn(Row) -> Result<T>,
) -> Result<(bool, Vec<T>)> {
    let text = read_text(path)?;
    let (body, torn) = match text.rfind('\n') {
        Some(i) => text.split_at(i + 1),
        None => (text.as_str(), ""),
    };
    let mut reader = csv_reader(body, true);
    let (header, has_optional) = header_columns(path, &mut reader, base, optional)?;
    let parse = |record: &csv::StringRecord| row(record, &header).and_then(&convert);
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => bail!("{}: {e}", path.display()),
        }
        let line = record.position().map_or(0, |p| p.line());
        out.push(parse(&record).map_err(|e| anyhow!("{} line {line}: {e:#}", path.display()))?);
    }
    if !torn.trim().is_empty() {
        if let Some(Ok(record)) = csv_reader(torn, false).records().next() {
            if let Ok(r) = parse(&record) {
                out.push(r);
            }
        }
    }
    Ok((has_optional, out))
}

/// One line's cells deserialized by column name, with an error that names the column.
fn row<Row: serde::de::DeserializeOwned>(
    record: &csv::StringRecord,
    header: &csv::StringRecord,
) -> Result<Row> {
    if record.len() != header.len() {
        let names: Vec<&str> = header.iter().collect();
        bail!(
            "{} columns, expected {} ({})",
            record.len(),
            header.len(),
            names.join(",")
        );
    }
    record.deserialize(Some(header)).map_err(|e| {
        let csv::ErrorKind::Deserialize { err, .. } = e.kind() else {
            return anyhow!("{e}");
        };
        let Some(i) = err
            .field()
            .map(|i| i as usize)
            .filter(|&i| i < header.len())
        else {
            return anyhow!("{err}");
        };
        let (name, cell) = (&header[i], &record[i]);
        match err.kind() {
            _ if cell.is_empty() => anyhow!("column {name} is empty"),
            csv::DeserializeErrorKind::ParseInt(_) => {
                anyhow!("column {name}: {cell:?} is not a non-negative integer")
            }
            csv::DeserializeErrorKind::ParseFloat(_) => {
                anyhow!("column {name}: {cell:?} is not a number")
            }
            kind => anyhow!("column {name}: {cell:?}: {kind}"),
        }
    })
}

/// Whether a record file is there, as itself or as `FILE.gz` (records kept by
/// `scripts/keep-records.sh`), which [`read_text`] reads in its place.
/// Whether a record is there: `FILE` or, kept (scripts/keep-records.sh), `FILE.gz`.
pub fn record_exists(path: &Path) -> bool {
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    path.exists() || Path::new(&gz).is_file()
}

pub(super) fn read_text(path: &Path) -> Result<String> {
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    let gz = Path::new(&gz);
    let (bytes, read) = match super::read_regular(path) {
        Ok(bytes) => (bytes, path),
        // Kept records (scripts/keep-records.sh, docs/runs/) hold FILE.gz in place of FILE.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && gz.is_file() => {
            let mut bytes = Vec::new();
            super::read_regular(gz)
                .and_then(|z| {
                    std::io::Read::read_to_end(
                        &mut flate2::read::MultiGzDecoder::new(&*z),
                        &mut bytes,
                    )
                })
                .with_context(|| format!("cannot read {}", gz.display()))?;
            (bytes, gz)
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8 text", read.display()))
}

#[cfg(test)]
mod tests {
    use super::check_unbroken;
    use std::path::Path;

    fn check(rows: &[usize], last: usize) -> Result<(), String> {
        let path = Path::new("epochs.csv");
        check_unbroken(path, "epoch", rows.iter().copied(), last, true).map_err(|e| e.to_string())
    }

    #[test]
    fn records_resume_only_without_a_hole_before_the_checkpoint() {
        assert_eq!(check(&[1, 2, 3], 3), Ok(()));
        // None kept: a run resumed into a new directory starts its records there.
        assert_eq!(check(&[], 3), Ok(()));
        assert_eq!(check(&[4, 5], 5), Ok(()));
        let says = |rows: &[usize], last, what: &str| {
            let e = check(rows, last).unwrap_err();
            assert!(e.contains(what), "{rows:?} up to {last}: {e}");
        };
        says(
            &[1, 3],
            3,
            "no row for epoch 2, before the checkpoint's epoch 3",
        );
        says(&[1, 2], 4, "no row for epochs 3–4,");
        says(&[1, 2, 2], 2, "epoch 2 comes after epoch 2");
        says(&[2, 1], 2, "epoch 1 comes after epoch 2");
        // Steps: a discarded step has no row, so only the order is checked.
        let steps = |rows: &[usize], last| {
            let path = Path::new("steps.csv");
            check_unbroken(path, "step", rows.iter().copied(), last, false)
        };
        assert!(steps(&[1, 2, 4, 5], 7).is_ok());
        assert!(steps(&[1, 2, 4, 4], 7).is_err());
    }
}
