//! Running a sweep's cells: each one an `etaprobe train` child process of this same binary,
//! at most `--jobs` at a time, resumed from its checkpoint when an earlier sweep was
//! interrupted, skipped when finished.
//!
//! Ctrl-C or SIGTERM stops a sweep gracefully: it starts no new cell, its running cells
//! finish their current step, write a checkpoint and stop (they stay pending, to be resumed),
//! and the sweep exits with 130. A sweep can also be killed at any moment: its children
//! notice (their standard input is a pipe from the sweep, which closes when it dies) and stop
//! the same way; the next sweep on the same root waits for them to be gone, then resumes each
//! interrupted cell from its checkpoint or, when it had none yet, moves the cell's directory
//! aside and starts it again, so that no cell's records ever mix two runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::lock::{wait_for_orphans, Lock};
use super::manifest::{on_disk, CellRecord, Manifest, OnDisk, Status, CELL_LOG};
use super::root::{
    attempts_in_log, check_root_place, check_same_cells, check_same_data, is_ours_if_unusable,
    ATTEMPT_HEADER,
};
use super::spec::Spec;

/// Set on the runs a sweep starts: the run stops after its current step, with a checkpoint,
/// when its standard input closes.
pub const CHILD_ENV: &str = "ETAPROBE_SWEEP_CHILD";
/// Where interrupted attempts without a checkpoint, and retried failures, are moved.
pub const ASIDE_DIR: &str = ".aside";
/// The most cells a sweep runs at once.
const MAX_JOBS: usize = 1024;

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The sweep's root: the cells' run directories, the manifest and the lock go under it.
    pub root: PathBuf,
    /// Cells run at once, as child processes (at least 1).
    pub jobs: usize,
    /// Adapters for the jobs, in turn (job slot i uses adapter i mod len); none: the default.
    pub adapters: Vec<String>,
    /// Run again the cells whose run failed or stopped (diverged).
    pub retry_failed: bool,
    /// Print what would run and write nothing.
    pub dry_run: bool,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// Cells in the grid.
    pub cells: usize,
    /// Cells finished, by this sweep or an earlier one (in a dry run: those it would skip).
    pub finished: usize,
    /// Cells whose run failed: directory (relative to the root) and why.
    pub failed: Vec<(PathBuf, String)>,
    /// Cells whose run was stopped on request with a checkpoint: the next sweep resumes them.
    pub interrupted: Vec<PathBuf>,
    /// Whether the sweep was asked to stop (Ctrl-C, SIGTERM) before its last cell.
    pub stopped: bool,
    /// Tasks whose input a cell refused when it started: their other cells were not started.
    pub refused: Vec<Refusal>,
}

/// A task none of whose remaining cells was started, because one refused its input on a
/// fresh start (exit 2, having written nothing but its log): the data and options it shares
/// with them are at fault, not its run, and every other cell would fail the same way. Those
/// cells stay pending: the same command runs them once the input is fixed (the refused one
/// too: it left nothing to resume).
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The task.
    pub task: String,
    /// The cell that refused (relative to the root).
    pub cell: PathBuf,
    /// The cell's log, under the root.
    pub log: PathBuf,
    /// The cell's last `error:` line, if its log has one.
    pub error: Option<String>,
    /// The task's cells not started because of it.
    pub held_back: usize,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "task {}: {} refused its input{}; {} of the task not started (log: {})",
            self.task,
            self.cell.display(),
            match &self.error {
                Some(e) => format!(" ({e})"),
                None => String::new(),
            },
            crate::words::counted(self.held_back, "other cell"),
            self.log.display()
        )
    }
}

/// In a run started by a sweep: stop after the current step, with a checkpoint, when the
/// sweep is gone or asks it to stop (either closes our standard input, however the sweep
/// died), so that a killed sweep leaves no run behind to write into a cell the next sweep
/// resumes, and loses no step.
pub fn stop_with_sweep() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    std::thread::spawn(|| {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 64];
        loop {
            match std::io::Read::read(&mut stdin, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        eprintln!("the sweep stopped or is gone: stopping after this step with a checkpoint");
        crate::train::request_stop();
    });
}

/// What to do with a cell when the sweep starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Plan {
    Skip,
    /// Failed in an earlier sweep; kept (no --retry-failed).
    KeepFailed(String),
    Fresh,
    Resume,
    /// Move the directory aside, then start afresh.
    Restart(&'static str),
}

/// Runs (or, with `dry_run`, lists) the spec's cells under `opts.root`.
pub fn run_sweep(spec: &Spec, opts: &SweepOptions) -> Result<SweepOutcome> {
    check_options(opts)?;
    let root = &opts.root;
    check_root_place(spec, root)?;
    let exe = std::env::current_exe().context("cannot find the etaprobe binary to run cells")?;
    let old = Manifest::read(root)?;
    check_same_cells(spec, root, old.as_ref())?;
    let plans = plan_cells(spec, root, opts.retry_failed);
    check_same_data(spec, root, &plans)?;
    if opts.dry_run {
        print_plan(spec, opts, &plans, &exe);
        return Ok(SweepOutcome {
            cells: spec.cells.len(),
            finished: plans.iter().filter(|p| **p == Plan::Skip).count(),
            failed: Vec::new(),
            interrupted: Vec::new(),
            stopped: false,
            refused: Vec::new(),
        });
    }
    std::fs::create_dir_all(root)
        .with_context(|| format!("cannot create the sweep's root {}", root.display()))?;
    let _lock = Lock::take(root)?;
    if let Some(old) = &old {
        wait_for_orphans(root, old)?;
    }
    // Plans again: an orphan may have written until it stopped.
    let plans = plan_cells(spec, root, opts.retry_failed);
    draw_missing_figures(spec, root, &plans)?;
    let mut manifest = new_manifest(spec, opts, old.as_ref(), &plans);
    manifest.write(root)?;
    let mut sweep = Running::new(spec, opts, &plans, manifest);
    let queue: Vec<usize> = (0..spec.cells.len())
        .filter(|&i| matches!(plans[i], Plan::Fresh | Plan::Resume | Plan::Restart(_)))
        .collect();
    log::info!(
        "sweep: {} under {} ({} finished earlier, {} failed earlier{}, {} to run) with {}",
        crate::words::counted(spec.cells.len(), "cell"),
        root.display(),
        sweep.progress.done,
        sweep.progress.failed,
        if sweep.progress.failed > 0 && !opts.retry_failed {
            ": --retry-failed runs them again"
        } else {
            ""
        },
        queue.len(),
        crate::words::counted(opts.jobs, "job")
    );
    sweep.run(&exe, queue)?;
    Ok(summarise(
        root,
        &sweep.manifest.cells[..spec.cells.len()],
        sweep.interrupted,
        sweep.stopping,
        sweep.refused,
    ))
}

/// Refuses options no sweep can run with: no job or too many, a root whose path the
/// cells' command lines cannot carry, an adapter that matches none.
fn check_options(opts: &SweepOptions) -> Result<()> {
    if opts.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    if opts.jobs > MAX_JOBS {
        bail!(
            "--jobs {}: at most {MAX_JOBS} cells run at once (each is a process with its own \
             adapter memory)",
            opts.jobs
        );
    }
    // Each cell's `--out` is the root joined with its directory, passed on as text: a root
    // that is not UTF-8 would reach the cells rewritten, and they would train elsewhere.
    if opts.root.to_str().is_none() {
        bail!(
            "--root {}: the path is not valid UTF-8, which the cells' command lines need; \
             choose a root whose path is",
            opts.root.display()
        );
    }
    // An adapter that matches none would fail every cell it is given, as a refused input.
    if !opts.adapters.is_empty() {
        let adapters = crate::gpu::enumerate_adapters();
        for a in &opts.adapters {
            crate::gpu::choose_adapter(&adapters, Some(a))
                .with_context(|| format!("--adapter {}", opts.adapters.join(",")))?;
        }
    }
    Ok(())
}

/// What to do with each cell, from what its folder holds.
fn plan_cells(spec: &Spec, root: &Path, retry_failed: bool) -> Vec<Plan> {
    (spec.cells.iter())
        .map(|c| plan(&root.join(&c.dir), retry_failed))
        .collect()
}

/// A sweep while its cells run: which job slots are busy, the manifest as it changes,
/// and what the summary will say.
struct Running<'a> {
    spec: &'a Spec,
    opts: &'a SweepOptions,
    plans: &'a [Plan],
    manifest: Manifest,
    progress: Progress,
    /// Whether each job slot has a running cell.
    slots: Vec<bool>,
    /// The write end of each running child's standard input: dropping it asks the child to
    /// stop after its current step.
    pipes: Vec<Option<ChildStdin>>,
    /// A stop was requested: no new cell starts.
    stopping: bool,
    /// The cells stopped on request, to be resumed.
    interrupted: Vec<PathBuf>,
    /// The tasks whose input a new cell refused: they start no more cells.
    refused: Vec<Refusal>,
}

impl<'a> Running<'a> {
    fn new(spec: &'a Spec, opts: &'a SweepOptions, plans: &'a [Plan], manifest: Manifest) -> Self {
        let progress = Progress {
            total: spec.cells.len(),
            done: plans.iter().filter(|p| **p == Plan::Skip).count(),
            failed: plans
                .iter()
                .filter(|p| matches!(p, Plan::KeepFailed(_)))
                .count(),
            running: 0,
            jobs: opts.jobs,
            ended: Vec::new(),
        };
        Running {
            spec,
            opts,
            plans,
            manifest,
            progress,
            slots: vec![false; opts.jobs],
            pipes: (0..opts.jobs).map(|_| None).collect(),
            stopping: false,
            interrupted: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// Runs the cells of `queue`, at most `--jobs` at once, until all have ended or a stop
    /// was requested and the running ones have stopped.
    fn run(&mut self, exe: &Path, queue: Vec<usize>) -> Result<()> {
        let (tx, rx) = mpsc::channel::<Done>();
        let mut next = queue.into_iter();
        loop {
            if !self.stopping && crate::train::stop_requested() {
                self.stopping = true;
                log::warn!(
                    "{} stop requested: no new cell starts; the {} running stop after \
                     their current step with a checkpoint (Ctrl-C again stops them at once)",
                    self.progress,
                    self.progress.running
                );
                self.pipes.iter_mut().for_each(|p| drop(p.take()));
            }
            self.start_cells(exe, &mut next, &tx)?;
            if self.progress.running == 0 {
                return Ok(());
            }
            // Woken now and then to see whether a stop was requested.
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(done) => self.ended(done)?,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => bail!("a cell's job thread vanished"),
            }
        }
    }

    /// Starts cells from `next` in the free job slots (none once stopping), each watched by
    /// a thread that sends its end on `tx`.
    fn start_cells(
        &mut self,
        exe: &Path,
        next: &mut impl Iterator<Item = usize>,
        tx: &mpsc::Sender<Done>,
    ) -> Result<()> {
        let root = &self.opts.root;
        while let Some(slot) = self.slots.iter().position(|busy| !busy) {
            if self.stopping {
                break;
            }
            // A task whose input was refused starts no more cells: each is counted once,
            // as the queue passes it, and stays pending.
            let mut chosen = None;
            for i in next.by_ref() {
                let task = &self.spec.cells[i].task;
                match self.refused.iter_mut().find(|r| &r.task == task) {
                    Some(r) => r.held_back += 1,
                    None => {
                        chosen = Some(i);
                        break;
                    }
                }
            }
            let Some(i) = chosen else { break };
            let adapters = &self.opts.adapters;
            let adapter = match adapters.is_empty() {
                true => None,
                false => Some(adapters[slot % adapters.len()].as_str()),
            };
            let record = &mut self.manifest.cells[i];
            match start(exe, root, record, &self.plans[i], adapter) {
                Ok((mut child, how)) => {
                    self.slots[slot] = true;
                    self.pipes[slot] = child.stdin.take();
                    self.progress.running += 1;
                    record.status = Status::Running;
                    record.pid = Some(child.id());
                    record.attempts += 1;
                    log::info!("{} start {} ({how})", self.progress, record.dir.display());
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        let started = Instant::now();
                        let mut child = child;
                        let status = child.wait();
                        let _ = tx.send(Done {
                            index: i,
                            slot,
                            status,
                            seconds: started.elapsed().as_secs_f64(),
                        });
                    });
                }
                Err(e) => {
                    record.status = Status::Failed;
                    record.error = Some(format!("{e:#}"));
                    self.progress.failed += 1;
                    log::warn!(
                        "{} FAILED to start {}: {e:#}",
                        self.progress,
                        record.dir.display()
                    );
                }
            }
            self.manifest.write(root)?;
        }
        Ok(())
    }

    /// A cell's process ended: stopped on request (to be resumed), finished, or failed.
    fn ended(&mut self, done: Done) -> Result<()> {
        let root = &self.opts.root;
        self.slots[done.slot] = false;
        self.pipes[done.slot] = None;
        self.progress.running -= 1;
        let record = &mut self.manifest.cells[done.index];
        record.pid = None;
        let dir = root.join(&record.dir);
        if stopped_on_request(&done.status, &dir) {
            // Not an end: the next sweep resumes it.
            record.status = Status::Pending;
            log::info!(
                "{} stopped {} {}",
                self.progress,
                record.dir.display(),
                match on_disk(&dir) {
                    OnDisk::Resumable => "with a checkpoint (resumable)",
                    _ => "before its first checkpoint (to be started again)",
                }
            );
            self.interrupted.push(record.dir.clone());
            return self.manifest.write(root);
        }
        self.progress.ended.push(done.seconds);
        let (ok, why) = outcome(&done.status, &dir);
        if ok {
            record.status = Status::Finished;
            record.exit_code = None;
            record.error = None;
            self.progress.done += 1;
            log::info!(
                "{} finished {} in {:.1} s",
                self.progress,
                record.dir.display(),
                done.seconds
            );
        } else {
            self.failed(&done, &dir, why);
        }
        self.manifest.write(root)
    }

    /// A cell failed: recorded and said with its log's last error; a new cell that refused
    /// its input holds back its task's other cells.
    fn failed(&mut self, done: &Done, dir: &Path, why: String) {
        let root = &self.opts.root;
        let record = &mut self.manifest.cells[done.index];
        record.status = Status::Failed;
        record.exit_code = done.status.as_ref().ok().and_then(|s| s.code());
        record.error = Some(why.clone());
        self.progress.failed += 1;
        let log = root.join(&record.log);
        let error = last_error(&log);
        let said = match &error {
            Some(e) if !why.contains(e.as_str()) => format!("{why}: {e}"),
            _ => why,
        };
        log::warn!(
            "{} FAILED {}: {said}; log: {}",
            self.progress,
            record.dir.display(),
            log.display()
        );
        let task = &self.spec.cells[done.index].task;
        // Exit 2 is also a failure of the machine (GPU memory, a full disk); a refused
        // input is one that stopped the run before it wrote anything but the cell's log.
        if record.exit_code == Some(i32::from(crate::train::EXIT_REFUSED))
            && matches!(self.plans[done.index], Plan::Fresh | Plan::Restart(_))
            && left_only_its_log(dir)
            && !self.refused.iter().any(|r| &r.task == task)
        {
            log::error!(
                "{} task {task}: a new cell refused its input, so the task's other cells, \
                 which read the same data and options, start no more; those running go on",
                self.progress
            );
            self.refused.push(Refusal {
                task: task.clone(),
                cell: record.dir.clone(),
                log,
                error,
                held_back: 0,
            });
        }
    }
}

/// What the sweep did to the spec's own cells `own` (not those of an earlier spec kept
/// after them in the manifest), said on the log.
fn summarise(
    root: &Path,
    own: &[CellRecord],
    interrupted: Vec<PathBuf>,
    stopping: bool,
    refused: Vec<Refusal>,
) -> SweepOutcome {
    let total = own.len();
    let failed: Vec<(PathBuf, String)> = own
        .iter()
        .filter(|c| c.status == Status::Failed)
        .map(|c| (c.dir.clone(), c.error.clone().unwrap_or_default()))
        .collect();
    let finished = own.iter().filter(|c| c.status == Status::Finished).count();
    log::info!(
        "sweep: {finished} of {} finished, {} failed; manifest in {}",
        crate::words::counted(total, "cell"),
        failed.len(),
        root.join(super::MANIFEST).display()
    );
    for (dir, why) in &failed {
        log::warn!("  failed: {} ({why})", dir.display());
    }
    if stopping {
        let resumable = (interrupted.iter())
            .filter(|d| on_disk(&root.join(d)) == OnDisk::Resumable)
            .count();
        log::warn!(
            "sweep stopped on request: {finished} of {total} cells finished, {resumable} \
             stopped with a checkpoint, {} before their first; the same command goes on from \
             there",
            interrupted.len() - resumable
        );
    }
    SweepOutcome {
        cells: total,
        finished,
        failed,
        interrupted,
        stopped: stopping,
        refused,
    }
}

/// Draws the figures of finished cells that lack them, as `train` would have, in the run's
/// own format: a run killed between its run.json and its figures. Records kept without
/// figures (gzipped by `scripts/keep-records.sh`) are left as they are.
fn draw_missing_figures(spec: &Spec, root: &Path, plans: &[Plan]) -> Result<()> {
    for (cell, plan) in spec.cells.iter().zip(plans) {
        let dir = root.join(&cell.dir);
        if *plan != Plan::Skip || !dir.join(crate::rundir::STEPS_CSV).is_file() {
            continue;
        }
        let format = figure_format(&dir);
        let figures = crate::report::FIGURES_PNG.map(|f| format.file_name(f));
        if figures.iter().any(|f| !dir.join(f).exists()) {
            crate::report::run_figures_with(&dir, format)
                .with_context(|| format!("drawing the figures of {}", dir.display()))?;
        }
    }
    Ok(())
}

/// The manifest this sweep starts with: the spec's cells with their plans (finished,
/// failed, or to run), their attempts so far, then the cells of an earlier spec that this
/// one lacks.
fn new_manifest(
    spec: &Spec,
    opts: &SweepOptions,
    old: Option<&Manifest>,
    plans: &[Plan],
) -> Manifest {
    let root = &opts.root;
    let mut manifest = Manifest {
        spec: spec.file.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        checkpoint_every: spec.checkpoint_every,
        jobs: opts.jobs,
        adapters: opts.adapters.clone(),
        started: crate::rundir::utc_now(),
        updated: String::new(),
        cells: Vec::new(),
    };
    let previous = |dir: &Path| old.and_then(|m| m.cells.iter().find(|c| c.dir == dir));
    for (cell, plan) in spec.cells.iter().zip(plans) {
        let mut record = CellRecord::new(cell, fresh_command(spec, root, cell));
        match previous(&cell.dir) {
            Some(p) => {
                record.attempts = p.attempts;
                record.exit_code = p.exit_code;
            }
            // Not in sweep.json (lost, or the spec grew): the attempts its log holds.
            None => record.attempts = attempts_in_log(&root.join(&record.log)),
        }
        match plan {
            Plan::Skip => record.status = Status::Finished,
            Plan::KeepFailed(why) => {
                record.status = Status::Failed;
                record.error = Some(why.clone());
            }
            _ => record.exit_code = None,
        }
        manifest.cells.push(record);
    }
    // Cells of an earlier spec that this one lacks stay in the manifest as they were (after
    // the spec's own, whose places the sweep counts on), so that their runs are not
    // orphaned: `compare` still reads them, and the earlier spec still finds them its own.
    let lacked: Vec<CellRecord> = old
        .iter()
        .flat_map(|m| &m.cells)
        .filter(|c| spec.cells.iter().all(|s| s.dir != c.dir) && root.join(&c.dir).exists())
        .map(|c| {
            let mut c = c.clone();
            if c.status == Status::Running {
                // Its sweep was killed (and its run is gone: `run_sweep` waited for it).
                c.status = Status::Pending;
                c.pid = None;
            }
            c
        })
        .collect();
    if let Some(first) = lacked.first() {
        log::warn!(
            "{} holds {} this spec lacks ({}{}): kept in its manifest as they are, and read \
             by compare",
            root.display(),
            crate::words::counted(lacked.len(), "cell"),
            first.dir.display(),
            if lacked.len() > 1 { ", …" } else { "" }
        );
    }
    manifest.cells.extend(lacked);
    manifest
}

/// A job's end.
struct Done {
    index: usize,
    slot: usize,
    status: std::io::Result<ExitStatus>,
    seconds: f64,
}

/// Cells done, running and failed, in front of each line the sweep prints; once a cell
/// has ended in this run, the time the rest should take at the pace so far.
struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    running: usize,
    jobs: usize,
    /// Seconds of each cell that ended (finished or failed) in this run.
    ended: Vec<f64>,
}

impl Progress {
    /// The cells not ended yet (running included) times the mean seconds of those that
    /// ended in this run, over the jobs; None before the first ends. A rough guide: cells
    /// differ (rules, resumed cells), and the machine may be shared.
    fn seconds_left(&self) -> Option<f64> {
        let left = self.total.saturating_sub(self.done + self.failed);
        if self.ended.is_empty() || left == 0 {
            return None;
        }
        let mean = self.ended.iter().sum::<f64>() / self.ended.len() as f64;
        Some(mean * left as f64 / self.jobs.max(1).min(left) as f64)
    }
}

/// Seconds as a rough duration: "less than a minute", "40 min", "3.5 h", "2.1 days".
fn rough(seconds: f64) -> String {
    match seconds {
        s if s < 60.0 => "less than a minute".to_string(),
        s if s < 3600.0 => format!("{:.0} min", s / 60.0),
        s if s < 48.0 * 3600.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} days", s / 86400.0),
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}/{} done, {} running, {} failed]",
            self.done, self.total, self.running, self.failed
        )?;
        match self.seconds_left() {
            Some(s) if s < 60.0 => write!(f, " ({} left)", rough(s)),
            Some(s) => write!(f, " (~{} left)", rough(s)),
            None => Ok(()),
        }
    }
}

/// The command line that starts a cell afresh.
pub(super) fn fresh_command(spec: &Spec, root: &Path, cell: &super::spec::Cell) -> Vec<String> {
    let mut command = vec!["etaprobe".to_string()];
    command.extend(cell.args.iter().cloned());
    command.extend([
        "--out".to_string(),
        root.join(&cell.dir).to_string_lossy().into_owned(),
        "--checkpoint-every".to_string(),
        spec.checkpoint_every.to_string(),
    ]);
    command
}

/// The figure format a finished run's `run.json` records (PNG when it records none).
fn figure_format(dir: &Path) -> crate::report::FigureFormat {
    use clap::ValueEnum;
    crate::rundir::RunInfo::read(dir.join(crate::rundir::RUN_JSON))
        .ok()
        .and_then(|info| {
            let name = info.config.get("figure_format")?.as_str()?.to_string();
            crate::report::FigureFormat::from_str(&name, true).ok()
        })
        .unwrap_or(crate::report::FigureFormat::Png)
}

/// What a cell's directory calls for.
fn plan(dir: &Path, retry_failed: bool) -> Plan {
    match on_disk(dir) {
        OnDisk::Absent => Plan::Fresh,
        OnDisk::Finished => Plan::Skip,
        OnDisk::Stopped(_) if retry_failed => Plan::Restart("retrying a failed run"),
        OnDisk::Stopped(why) => Plan::KeepFailed(why),
        OnDisk::Resumable => Plan::Resume,
        OnDisk::Unusable => Plan::Restart("its earlier attempt left no checkpoint"),
    }
}

/// Starts a cell's run: resumes it, or (after moving an unusable directory aside) starts
/// it afresh. Returns the child and how it started.
fn start(
    exe: &Path,
    root: &Path,
    record: &CellRecord,
    plan: &Plan,
    adapter: Option<&str>,
) -> Result<(Child, String)> {
    let dir = root.join(&record.dir);
    let mut how = match plan {
        Plan::Resume => "resumed from its checkpoint".to_string(),
        Plan::Restart(why) => {
            // Made since the spec was checked (another sweep's root, a user's folder).
            if !is_ours_if_unusable(&dir) {
                bail!(
                    "{} holds files that no attempt of this sweep wrote: move them out of the \
                     root, then start the sweep again",
                    dir.display()
                );
            }
            let aside = move_aside(root, &record.dir)?;
            format!(
                "restarted, {why}: the earlier attempt is in {}",
                aside.display()
            )
        }
        _ => "new".to_string(),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the cell's directory {}", dir.display()))?;
    let mut args: Vec<String> = record.command[1..].to_vec();
    if *plan == Plan::Resume {
        args.push("--resume".into());
        args.push(
            dir.join(crate::train::CHECKPOINT)
                .to_string_lossy()
                .into_owned(),
        );
    }
    if let Some(a) = adapter {
        // A global option: before the subcommand.
        args.insert(0, a.to_string());
        args.insert(0, "--adapter".to_string());
        how.push_str(&format!(", adapter {a}"));
    }
    let log_path = dir.join(CELL_LOG);
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    writeln!(
        log,
        "{ATTEMPT_HEADER}{}: {}",
        crate::rundir::utc_now(),
        shell_words(exe, &args)
    )?;
    let child = Command::new(exe)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(log.try_clone()?)
        .stderr(log)
        .env(CHILD_ENV, "1")
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    Ok((child, how))
}

/// A command line as one could type it (arguments with spaces quoted).
fn shell_words(exe: &Path, args: &[String]) -> String {
    std::iter::once(exe.to_string_lossy().into_owned())
        .chain(args.iter().cloned())
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Moves a cell's directory under `ROOT/.aside/`, keeping its path and adding the time, so
/// that a restarted cell's records never mix with an earlier attempt's.
fn move_aside(root: &Path, dir: &Path) -> Result<PathBuf> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = root.join(ASIDE_DIR).join(dir);
    let parent = base.parent().unwrap_or(root);
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut target = parent.join(format!("{name}.{secs}"));
    let mut n = 1;
    while target.exists() {
        target = parent.join(format!("{name}.{secs}.{n}"));
        n += 1;
    }
    std::fs::rename(root.join(dir), &target).with_context(|| {
        format!(
            "cannot move {} aside to {}",
            root.join(dir).display(),
            target.display()
        )
    })?;
    Ok(target)
}

/// Whether a cell's run stopped on request (Ctrl-C, SIGTERM, or its sweep gone), with a
/// checkpoint to resume from or before it started (the next sweep starts it again).
fn stopped_on_request(status: &std::io::Result<ExitStatus>, dir: &Path) -> bool {
    let code = status.as_ref().ok().and_then(|s| s.code());
    code == Some(i32::from(crate::train::EXIT_INTERRUPTED))
        && matches!(on_disk(dir), OnDisk::Resumable | OnDisk::Unusable)
}

/// Whether a cell's run succeeded, and why not.
fn outcome(status: &std::io::Result<ExitStatus>, dir: &Path) -> (bool, String) {
    let disk = on_disk(dir);
    match status {
        Ok(s) if s.success() && disk == OnDisk::Finished => (true, String::new()),
        Ok(s) if s.success() => (
            false,
            "the run exited without finishing its run.json".to_string(),
        ),
        Ok(s) => {
            let code = match s.code() {
                Some(c) => format!("exit code {c}"),
                None => format!("killed ({s})"),
            };
            match disk {
                OnDisk::Stopped(why) => (false, format!("{code}: {why}")),
                _ => (false, code),
            }
        }
        Err(e) => (false, format!("cannot wait for the run: {e}")),
    }
}

/// Whether a cell's directory holds nothing but its log: the run stopped before writing
/// anything of its own.
fn left_only_its_log(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(|e| e.ok())
            .all(|e| e.file_name() == std::ffi::OsStr::new(CELL_LOG))
    })
}

/// A cell log's last `error: ...` line (what the run said when it failed), without the
/// prefix.
fn last_error(log: &Path) -> Option<String> {
    let text = String::from_utf8_lossy(&crate::rundir::read_regular(log).ok()?).into_owned();
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .map(|e| e.trim().to_string())
}

fn print_plan(spec: &Spec, opts: &SweepOptions, plans: &[Plan], exe: &Path) {
    crate::outln!(
        "{} cells under {} (checkpoint every {} steps):",
        spec.cells.len(),
        opts.root.display(),
        spec.checkpoint_every
    );
    for (cell, plan) in spec.cells.iter().zip(plans) {
        let what = match plan {
            Plan::Skip => "finished: skip".to_string(),
            Plan::KeepFailed(why) => format!("failed earlier ({why}): keep"),
            Plan::Fresh => "run".to_string(),
            Plan::Resume => "resume from its checkpoint".to_string(),
            Plan::Restart(why) => format!("restart ({why})"),
        };
        let command = fresh_command(spec, &opts.root, cell);
        crate::outln!("{}  [{what}]", shell_words(exe, &command[1..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_is_the_pace_so_far_over_the_jobs() {
        let mut p = Progress {
            total: 10,
            done: 2,
            failed: 1,
            running: 2,
            jobs: 2,
            ended: Vec::new(),
        };
        assert_eq!(p.seconds_left(), None, "nothing ended yet");
        assert_eq!(p.to_string(), "[2/10 done, 2 running, 1 failed]");
        p.ended = vec![100.0, 300.0];
        // 7 cells left at 200 s, two at a time.
        assert_eq!(p.seconds_left(), Some(700.0));
        assert_eq!(
            p.to_string(),
            "[2/10 done, 2 running, 1 failed] (~12 min left)"
        );
        p.jobs = 8;
        assert_eq!(
            p.seconds_left(),
            Some(200.0),
            "no more jobs than cells left"
        );
        assert_eq!(rough(5.0 * 3600.0), "5.0 h");
        assert_eq!(rough(3.0 * 86400.0), "3.0 days");
    }
}
