//! The sweep's spec file: TOML read through serde, checked whole before anything runs, and
//! turned into cells (one `etaprobe train` run each).
//!
//! Every error names the spec's line: toml's own errors carry a byte span, and the values a
//! check may refuse after parsing are kept as [`Spanned`] so that their line is known too.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};
use serde::Deserialize;
use toml::Spanned;

use crate::train::TrainConfig;

/// Steps between a cell's checkpoints when the spec does not say: a killed sweep loses at
/// most this many steps of each running cell, for one small checkpoint write each time.
pub const DEFAULT_CHECKPOINT_EVERY: usize = 100;

/// The most cells a spec may hold: far more than any machine runs, few enough that the
/// checks and the manifest of a grid written by mistake (a list of a million seeds) cost
/// seconds, not the memory.
pub const MAX_CELLS: usize = 100_000;

/// The longest folder name a cell may have: what common file systems allow (ext4, APFS,
/// NTFS in UTF-16 units).
const MAX_NAME_BYTES: usize = 255;

/// Options the sweep sets itself on every cell; a spec may not.
const RESERVED: &[(&str, &str)] = &[
    ("schedule", "a rule's `name`"),
    ("lr", "a rule's `lr` list"),
    ("seed", "`seeds`"),
    ("out", "the cell's directory under --root"),
    ("resume", "the sweep's own resuming"),
    ("checkpoint-every", "the top-level `checkpoint-every`"),
    ("adapter", "`etaprobe sweep --adapter`"),
    (
        "overwrite",
        "`etaprobe sweep --retry-failed` to run failed cells again",
    ),
    (
        "config",
        "the spec's own keys, so that each cell's options are checked",
    ),
    (
        "lr-from",
        "a rule's `lr` list: a cell's η0 names its directory",
    ),
];

/// A spec error: the message, and the line of the spec it is about when one is.
#[derive(Debug)]
pub struct SpecError {
    /// The spec file.
    pub file: PathBuf,
    /// The line (1-based) the error is about, when there is one.
    pub line: Option<usize>,
    /// What is wrong, phrased for the user.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for SpecError {}

/// The file as written (kebab-case keys; anything else is refused with its line).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SpecFile {
    seeds: Option<Spanned<Vec<Spanned<u64>>>>,
    checkpoint_every: Option<Spanned<i64>>,
    defaults: Option<OptionTable>,
    task: Option<Spanned<Vec<Spanned<TaskEntry>>>>,
    rule: Option<Spanned<Vec<Spanned<RuleEntry>>>>,
}

type OptionTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;
type GridTable = BTreeMap<Spanned<String>, Spanned<Vec<Spanned<toml::Value>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct TaskEntry {
    name: Spanned<String>,
    model: Spanned<String>,
    dataset: Spanned<String>,
    data: Option<Spanned<String>>,
    /// Fetch the data into the cache when it is not found (`--download`).
    download: Option<Spanned<toml::Value>>,
    batch_size: Option<Spanned<toml::Value>>,
    epochs: Option<Spanned<toml::Value>>,
    val_split: Option<Spanned<toml::Value>>,
    seeds: Option<Spanned<Vec<Spanned<u64>>>>,
    options: Option<OptionTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleEntry {
    /// The rule (`--schedule`).
    name: Spanned<String>,
    /// Its directory name; default: the name and its fixed options.
    label: Option<Spanned<String>>,
    lr: Spanned<Vec<Spanned<f64>>>,
    seeds: Option<Spanned<Vec<Spanned<u64>>>>,
    /// Only on these tasks (default: every task).
    tasks: Option<Spanned<Vec<Spanned<String>>>>,
    options: Option<OptionTable>,
    /// Options swept over: each list's values in turn, every combination.
    grid: Option<GridTable>,
}

/// A checked spec: its cells in the order they run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file as given.
    pub file: PathBuf,
    /// Steps between a cell's checkpoints: the spec's `checkpoint-every`, else
    /// [`DEFAULT_CHECKPOINT_EVERY`].
    pub checkpoint_every: usize,
    /// Every cell, task by task and seed by seed, so that a sweep stopped early has whole seeds
    /// of a task.
    pub cells: Vec<Cell>,
}

/// One run of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The task's name in the spec: the first component of `dir`.
    pub task: String,
    /// The rule's directory name (label and swept options).
    pub rule: String,
    /// The `--schedule` it runs.
    pub schedule: String,
    /// η0, its `--lr`.
    pub lr: f64,
    /// Its `--seed`.
    pub seed: u64,
    /// The options of this cell's rule variant (fixed and swept), as given to `train`.
    pub options: BTreeMap<String, String>,
    /// `task/rule/lr…/seed…`, relative to the sweep's root.
    pub dir: PathBuf,
    /// The `train` arguments that shape the run: everything but `--out` and
    /// `--checkpoint-every` (which the sweep adds), starting with "train".
    pub args: Vec<String>,
}

/// A task of the spec, checked.
struct CheckedTask {
    name: String,
    /// Where the task is, for the errors about it.
    span: Range<usize>,
    /// Its options over the defaults.
    options: BTreeMap<String, Given>,
    /// Its seeds, or the top-level ones (`None`: the rules must give theirs).
    seeds: Option<Vec<u64>>,
}

/// The grid as the rules add to it: each cell with its rule's span (for the errors of the
/// checks that follow), and each cell's folder with the line of the rule that made it.
#[derive(Default)]
struct Grid {
    cells: Vec<(Cell, Range<usize>)>,
    dirs: BTreeMap<PathBuf, usize>,
}

/// An option as the spec gave it: where, and its command-line text (`None`: a flag).
#[derive(Clone, Debug)]
struct Given {
    span: Range<usize>,
    text: Option<String>,
}

/// Reads and checks `path`. Every cell's command line is parsed and checked the way
/// `etaprobe train` would (no data read, no device opened), so a sweep that starts has no
/// cell that fails on its options.
pub fn load(path: &Path) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| SpecError {
        file: path.to_path_buf(),
        line: None,
        message: format!("cannot read the spec: {e}"),
    })?;
    parse(&text, path)
}

/// Checks a spec's text; `path` names it in errors and anchors its relative data paths.
pub fn parse(text: &str, path: &Path) -> Result<Spec, SpecError> {
    let cx = Context::new(text, path);
    let file: SpecFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| cx.line(s.start));
        cx.error_at_line(line, e.message().trim().to_string())
    })?;
    cx.build(file)
}

/// The spec's text and name, to turn spans into lines.
struct Context<'a> {
    text: &'a str,
    file: &'a Path,
    /// `train`'s command, whose options the spec's keys are.
    train: clap::Command,
}

impl<'a> Context<'a> {
    fn new(text: &'a str, file: &'a Path) -> Self {
        Context {
            text,
            file,
            train: train_command(),
        }
    }

    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn error_at_line(&self, line: Option<usize>, message: String) -> SpecError {
        SpecError {
            file: self.file.to_path_buf(),
            line,
            message,
        }
    }

    fn error(&self, span: &Range<usize>, message: impl Into<String>) -> SpecError {
        self.error_at_line(Some(self.line(span.start)), message.into())
    }

    fn build(&self, file: SpecFile) -> Result<Spec, SpecError> {
        let checkpoint_every = match &file.checkpoint_every {
            Some(n) if *n.get_ref() < 1 => {
                return Err(self.error(&n.span(), "checkpoint-every must be at least 1"));
            }
            Some(n) => *n.get_ref() as usize,
            None => DEFAULT_CHECKPOINT_EVERY,
        };
        let top_seeds = file
            .seeds
            .as_ref()
            .map(|s| self.seeds(s, "seeds"))
            .transpose()?;
        let mut defaults = BTreeMap::new();
        if let Some(table) = &file.defaults {
            self.options_into(table, &mut defaults)?;
        }
        let tasks = match &file.task {
            Some(t) if !t.get_ref().is_empty() => t,
            Some(t) => return Err(self.error(&t.span(), "`task` lists no task")),
            None => {
                return Err(self.error_at_line(
                    None,
                    "no [[task]]: a sweep needs at least one task (name, model, dataset)".into(),
                ))
            }
        };
        let rules = match &file.rule {
            Some(r) if !r.get_ref().is_empty() => r,
            Some(r) => return Err(self.error(&r.span(), "`rule` lists no rule")),
            None => {
                return Err(self.error_at_line(
                    None,
                    "no [[rule]]: a sweep needs at least one rule (name, lr)".into(),
                ))
            }
        };
        // Tasks: their options over the defaults.
        let mut task_lines: BTreeMap<String, usize> = BTreeMap::new();
        let mut checked_tasks = Vec::new();
        for task in tasks.get_ref() {
            checked_tasks.push(self.task(task, &mut task_lines, &defaults, &top_seeds)?);
        }
        // Rules: their variants, checked against the tasks they run on.
        let mut grid = Grid::default();
        for rule in rules.get_ref() {
            self.rule_cells(rule, &checked_tasks, &task_lines, &mut grid)?;
        }
        if grid.cells.is_empty() {
            return Err(self.error_at_line(None, "the grid has no cell".into()));
        }
        self.check_cells(&grid.cells)?;
        let mut cells: Vec<Cell> = grid.cells.into_iter().map(|(c, _)| c).collect();
        // Task by task, seed by seed: a sweep stopped early has whole seeds of a task.
        let order = |c: &Cell| {
            let task = checked_tasks.iter().position(|t| t.name == c.task);
            (task, c.seed)
        };
        cells.sort_by_key(order);
        Ok(Spec {
            file: self.file.to_path_buf(),
            checkpoint_every,
            cells,
        })
    }

    /// A task checked: its name free and unique (`task_lines` gains it, with its line),
    /// its options over the defaults, its seeds (the top-level ones unless it has its own),
    /// its data found.
    fn task(
        &self,
        task: &Spanned<TaskEntry>,
        task_lines: &mut BTreeMap<String, usize>,
        defaults: &BTreeMap<String, Given>,
        top_seeds: &Option<Vec<u64>>,
    ) -> Result<CheckedTask, SpecError> {
        let t = task.get_ref();
        let name = self.task_name(&t.name, task_lines)?;
        if let Some(earlier) = task_lines.insert(name.clone(), self.line(task.span().start)) {
            return Err(self.error(
                &t.name.span(),
                format!("task {name:?} is already defined at line {earlier}"),
            ));
        }
        let mut options = defaults.clone();
        self.task_options(t, &mut options)?;
        let seeds = match &t.seeds {
            Some(s) => Some(self.seeds(s, "seeds")?),
            None => top_seeds.clone(),
        };
        self.check_task_data(&name, t, &task.span(), &options)?;
        Ok(CheckedTask {
            name,
            span: task.span(),
            options,
            seeds,
        })
    }

    /// A task's name, refused where it would take a folder or a file the root keeps for
    /// something else, or share a file of `compare`'s report with an earlier task's.
    fn task_name(
        &self,
        name: &Spanned<String>,
        task_lines: &BTreeMap<String, usize>,
    ) -> Result<String, SpecError> {
        let span = name.span();
        let name = self.component(name, "task name")?;
        // A task is a folder of the root, beside what the sweep and compare keep there.
        let taken = [
            (crate::compare::REPORT_DIR, "comparison report (`compare`)"),
            (super::manifest::MANIFEST, "manifest"),
            (super::lock::LOCK, "lock"),
        ];
        if let Some((_, what)) = taken.iter().find(|(taken, _)| *taken == name) {
            return Err(self.error(
                &span,
                format!("task name {name:?} is taken: the sweep's root keeps its {what} there"),
            ));
        }
        // Nor may two tasks share a file of `compare`'s report (`fm`'s `fm-grid.csv`).
        let table_of = |task: &str, other: &str| {
            crate::compare::TABLE_SUFFIXES
                .iter()
                .find(|suffix| task == format!("{other}-{suffix}"))
                .map(|_| format!("{task}.csv"))
        };
        for other in task_lines.keys() {
            if let Some(file) = table_of(&name, other).or_else(|| table_of(other, &name)) {
                return Err(self.error(
                    &span,
                    format!(
                        "tasks {name:?} and {other:?} would share {file} in `compare`'s \
                         report: give one of them another name"
                    ),
                ));
            }
        }
        Ok(name)
    }

    /// A rule's cells on every task it runs on: each variant of its options, each η0,
    /// each seed, added to `grid`.
    fn rule_cells(
        &self,
        rule: &Spanned<RuleEntry>,
        tasks: &[CheckedTask],
        task_lines: &BTreeMap<String, usize>,
        grid: &mut Grid,
    ) -> Result<(), SpecError> {
        let r = rule.get_ref();
        let schedule = self.rule_name(&r.name)?;
        let lrs = self.lrs(&r.lr)?;
        let seeds = match &r.seeds {
            Some(s) => Some(self.seeds(s, "seeds")?),
            None => None,
        };
        let only = self.only_tasks(r, task_lines)?;
        let mut fixed = BTreeMap::new();
        if let Some(table) = &r.options {
            self.options_into(table, &mut fixed)?;
        }
        let variants = self.variants(r, &fixed)?;
        let label = match &r.label {
            Some(l) => self.component(l, "rule label")?,
            None => auto_label(&schedule, &fixed),
        };
        for task in tasks {
            if only.as_ref().is_some_and(|o| !o.contains(&task.name)) {
                continue;
            }
            let seeds = match seeds.as_ref().or(task.seeds.as_ref()) {
                Some(s) => s,
                None => {
                    return Err(self.error(
                        &task.span,
                        format!(
                            "task {:?} has no seeds for rule {label:?}: give `seeds = [...]` \
                             at the top, in the task or in the rule",
                            task.name
                        ),
                    ))
                }
            };
            for variant in &variants {
                let rule_dir = variant_dir(&label, &variant.swept);
                let mut options = task.options.clone();
                for (k, v) in fixed.iter().chain(&variant.swept) {
                    options.insert(k.clone(), v.clone());
                }
                // The variant's own options (fixed and swept), as the cells record them.
                let variant_options: BTreeMap<String, String> = (fixed.iter())
                    .chain(&variant.swept)
                    .map(|(k, v)| (k.clone(), v.text.clone().unwrap_or_default()))
                    .collect();
                for &lr in &lrs {
                    if grid.cells.len() + seeds.len() > MAX_CELLS {
                        return Err(self.error(
                            &rule.span(),
                            format!(
                                "with this rule the grid has more than {MAX_CELLS} cells: \
                                 split the spec, or give fewer η, seeds or options"
                            ),
                        ));
                    }
                    for &seed in seeds {
                        let dir = PathBuf::from(&task.name)
                            .join(&rule_dir)
                            .join(format!("lr{}", number_text(lr)))
                            .join(format!("seed{seed}"));
                        self.claim_dir(rule, &dir, &mut grid.dirs)?;
                        let args = self.cell_args(&schedule, lr, seed, &options);
                        let cell = Cell {
                            task: task.name.clone(),
                            rule: rule_dir.clone(),
                            schedule: schedule.clone(),
                            lr,
                            seed,
                            options: variant_options.clone(),
                            dir,
                            args,
                        };
                        grid.cells.push((cell, rule.span()));
                    }
                }
            }
        }
        Ok(())
    }

    /// The tasks a rule's `tasks` list names (`None`: every task), each one of the spec's.
    fn only_tasks(
        &self,
        r: &RuleEntry,
        task_lines: &BTreeMap<String, usize>,
    ) -> Result<Option<BTreeSet<String>>, SpecError> {
        let Some(list) = &r.tasks else {
            return Ok(None);
        };
        if list.get_ref().is_empty() {
            return Err(self.error(&list.span(), "`tasks` is empty"));
        }
        let mut names = BTreeSet::new();
        for n in list.get_ref() {
            if !task_lines.contains_key(n.get_ref()) {
                return Err(self.error(
                    &n.span(),
                    format!(
                        "no task called {:?} (tasks: {})",
                        n.get_ref(),
                        task_lines.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            names.insert(n.get_ref().clone());
        }
        Ok(Some(names))
    }

    /// Claims a cell's folder for `rule` in `dirs` (folder → the line of the rule that
    /// made it): refused when a component is too long for a file system, or when another
    /// rule's cell has it.
    fn claim_dir(
        &self,
        rule: &Spanned<RuleEntry>,
        dir: &Path,
        dirs: &mut BTreeMap<PathBuf, usize>,
    ) -> Result<(), SpecError> {
        if let Some(long) = dir.iter().find(|c| c.len() > MAX_NAME_BYTES) {
            return Err(self.error(
                &rule.span(),
                format!(
                    "its cell folder {:?} is {} bytes long, more than the {MAX_NAME_BYTES} a \
                     file system allows a name: give the task or rule a shorter name or `label`",
                    long.to_string_lossy(),
                    long.len()
                ),
            ));
        }
        let rule_line = self.line(rule.span().start);
        if let Some(earlier) = dirs.insert(dir.to_path_buf(), rule_line) {
            return Err(self.error(
                &rule.span(),
                format!(
                    "its cell {} is also a cell of the rule at line {earlier}: give one of \
                     them another `label`",
                    dir.display()
                ),
            ));
        }
        Ok(())
    }

    /// Every cell as `train` would parse and check it; an error names the rule's line (the
    /// rule's options are the last word on a cell's) and the task.
    fn check_cells(&self, cells: &[(Cell, Range<usize>)]) -> Result<(), SpecError> {
        let mut data_checked = std::collections::HashSet::new();
        for (cell, span) in cells {
            let args = self.check_cell(cell, span)?;
            // A rule's options may give a task other data: found there before the grid
            // starts, as the task's own (each distinct place once).
            let data = serde_json::to_string(&args.data).unwrap_or_default();
            if data_checked.insert(data) {
                (args.data.validate())
                    .and_then(|()| args.data.check_available())
                    .map_err(|e| {
                        self.error(
                            span,
                            format!("cell {} ({}): {e}", cell.dir.display(), cell.task),
                        )
                    })?;
            }
        }
        Ok(())
    }

    /// A task's fields and options over the defaults; a key set twice in the task is refused.
    fn task_options(
        &self,
        t: &TaskEntry,
        options: &mut BTreeMap<String, Given>,
    ) -> Result<(), SpecError> {
        let mut own = BTreeMap::new();
        let strings = [
            ("model", Some(&t.model)),
            ("dataset", Some(&t.dataset)),
            ("data", t.data.as_ref()),
        ];
        for (key, value) in strings {
            if let Some(v) = value {
                let text = match key {
                    "data" => self.data_path(v.get_ref()),
                    _ => v.get_ref().clone(),
                };
                own.insert(
                    key.to_string(),
                    Given {
                        span: v.span(),
                        text: Some(text),
                    },
                );
            }
        }
        let values = [
            ("download", &t.download),
            ("batch-size", &t.batch_size),
            ("epochs", &t.epochs),
            ("val-split", &t.val_split),
        ];
        for (key, value) in values {
            if let Some(v) = value {
                let given = self.option(key, v)?;
                own.insert(key.to_string(), given);
            }
        }
        if let Some(table) = &t.options {
            for (key, value) in table {
                if own.contains_key(key.get_ref()) {
                    return Err(self.error(
                        &key.span(),
                        format!(
                            "{} is also a field of this task: give it once",
                            key.get_ref()
                        ),
                    ));
                }
                let given = self.option(key.get_ref(), value)?;
                let given = self.relative_data(key.get_ref(), given);
                own.insert(key.get_ref().clone(), given);
            }
        }
        for (key, given) in own {
            self.check_key(&key, &given.span)?;
            options.insert(key, given);
        }
        Ok(())
    }

    /// Checks a table of options and adds them to `into`.
    fn options_into(
        &self,
        table: &OptionTable,
        into: &mut BTreeMap<String, Given>,
    ) -> Result<(), SpecError> {
        for (key, value) in table {
            self.check_key(key.get_ref(), &key.span())?;
            let given = self.option(key.get_ref(), value)?;
            let given = self.relative_data(key.get_ref(), given);
            into.insert(key.get_ref().clone(), given);
        }
        Ok(())
    }

    /// `data` paths are relative to the spec file's folder, so that a committed spec means
    /// the same from any working directory.
    fn relative_data(&self, key: &str, given: Given) -> Given {
        match (key, &given.text) {
            ("data", Some(text)) => Given {
                text: Some(self.data_path(text)),
                ..given
            },
            _ => given,
        }
    }

    /// Absolute, so that a cell's arguments do not depend on the working directory the
    /// sweep was started from (the same spec from elsewhere resumes the same cells).
    fn data_path(&self, text: &str) -> String {
        let path = Path::new(text);
        if path.is_absolute() {
            return text.to_string();
        }
        let joined = self.file.parent().unwrap_or(Path::new("")).join(path);
        std::path::absolute(&joined)
            .unwrap_or(joined)
            .to_string_lossy()
            .into_owned()
    }

    /// Refuses keys that are not `train` options, and those the sweep sets itself.
    fn check_key(&self, key: &str, span: &Range<usize>) -> Result<(), SpecError> {
        if let Some((_, instead)) = RESERVED.iter().find(|(k, _)| *k == key) {
            return Err(self.error(
                span,
                format!("`{key}` is set by the sweep for each cell (use {instead})"),
            ));
        }
        if self.train_arg(key).is_none() {
            let hint = if self.train_arg(&key.replace('_', "-")).is_some() {
                format!(" (did you mean `{}`?)", key.replace('_', "-"))
            } else {
                String::new()
            };
            return Err(self.error(
                span,
                format!("unknown option `{key}`: not an option of `etaprobe train`{hint}"),
            ));
        }
        Ok(())
    }

    fn train_arg(&self, key: &str) -> Option<&clap::Arg> {
        self.train
            .get_arguments()
            .find(|a| a.get_long() == Some(key))
    }

    /// One option's command-line text, checked by `train`'s own parser: a flag must be a
    /// boolean, any other option a number, a string or a list (comma-joined).
    fn option(&self, key: &str, value: &Spanned<toml::Value>) -> Result<Given, SpecError> {
        let span = value.span();
        let Some(arg) = self.train_arg(key) else {
            return Err(self.error(
                &span,
                format!("unknown option `{key}`: not an option of `etaprobe train`"),
            ));
        };
        let flag = !arg.get_action().takes_values();
        let text = match (flag, value.get_ref()) {
            (true, toml::Value::Boolean(true)) => None,
            (true, toml::Value::Boolean(false)) => {
                return Err(self.error(
                    &span,
                    format!("`{key}` is a flag, off unless given: drop `{key} = false`"),
                ))
            }
            (true, _) => {
                return Err(self.error(&span, format!("`{key}` is a flag: write `{key} = true`")))
            }
            (false, toml::Value::Boolean(_)) => {
                return Err(self.error(&span, format!("`{key}` takes a value, not true/false")))
            }
            (false, v) => Some(self.value_text(key, v, &span)?),
        };
        // Parsed alone, so that a bad value is pinned to its own line.
        let mut argv = vec!["train".to_string(), format!("--{key}")];
        argv.extend(text.clone());
        if let Err(e) = self.parse_train(&argv) {
            return Err(self.error(&span, e));
        }
        Ok(Given { span, text })
    }

    fn value_text(
        &self,
        key: &str,
        value: &toml::Value,
        span: &Range<usize>,
    ) -> Result<String, SpecError> {
        Ok(match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => number_text(*f),
            toml::Value::Array(items) => {
                let mut parts = Vec::new();
                for item in items {
                    match item {
                        toml::Value::Array(_) | toml::Value::Table(_) => {
                            return Err(self.error(
                                span,
                                format!(
                                    "`{key}`: a list of lists or tables is not an option value"
                                ),
                            ))
                        }
                        v => parts.push(self.value_text(key, v, span)?),
                    }
                }
                if parts.is_empty() {
                    return Err(self.error(span, format!("`{key}` is an empty list")));
                }
                parts.join(",")
            }
            _ => {
                return Err(self.error(
                    span,
                    format!("`{key}` must be a number, a string or a list"),
                ))
            }
        })
    }

    /// `train`'s parser and option checks on `argv` ("train" first).
    fn parse_train(&self, argv: &[String]) -> Result<TrainConfig, String> {
        let matches = self
            .train
            .clone()
            .try_get_matches_from(argv)
            .map_err(|e| clap_message(&e))?;
        TrainConfig::from_arg_matches(&matches).map_err(|e| clap_message(&e))
    }

    /// A rule's variants: one per combination of its grid's values.
    fn variants(
        &self,
        r: &RuleEntry,
        fixed: &BTreeMap<String, Given>,
    ) -> Result<Vec<Variant>, SpecError> {
        let mut variants = vec![Variant::default()];
        let Some(grid) = &r.grid else {
            return Ok(variants);
        };
        for (key, values) in grid {
            self.check_key(key.get_ref(), &key.span())?;
            if fixed.contains_key(key.get_ref()) {
                return Err(self.error(
                    &key.span(),
                    format!(
                        "`{}` is both a fixed option and swept: give it once",
                        key.get_ref()
                    ),
                ));
            }
            if values.get_ref().is_empty() {
                return Err(self.error(
                    &values.span(),
                    format!("`{}` sweeps over an empty list", key.get_ref()),
                ));
            }
            let mut texts: Vec<Given> = Vec::new();
            for v in values.get_ref() {
                let given = self.option(key.get_ref(), v)?;
                if texts.iter().any(|t| t.text == given.text) {
                    return Err(self.error(
                        &v.span(),
                        format!("`{}` lists this value twice", key.get_ref()),
                    ));
                }
                texts.push(given);
            }
            // Counted before the combinations are built: a grid of millions would be
            // built whole before the count of cells refused it.
            if variants.len().saturating_mul(texts.len()) > MAX_CELLS {
                return Err(self.error(
                    &key.span(),
                    format!(
                        "with `{}` the grid has more than {MAX_CELLS} combinations of options: \
                         split the spec, or give fewer values",
                        key.get_ref()
                    ),
                ));
            }
            variants = variants
                .into_iter()
                .flat_map(|v| {
                    texts.iter().map(move |t| {
                        let mut v = v.clone();
                        v.swept.insert(key.get_ref().clone(), t.clone());
                        v
                    })
                })
                .collect();
        }
        Ok(variants)
    }

    fn rule_name(&self, name: &Spanned<String>) -> Result<String, SpecError> {
        let n = name.get_ref();
        if crate::schedule::RULES.iter().any(|(r, _)| r == n) {
            return Ok(n.clone());
        }
        let known: Vec<&str> = crate::schedule::RULES.iter().map(|(r, _)| *r).collect();
        Err(self.error(
            &name.span(),
            format!("unknown rule {n:?} (rules: {})", known.join(", ")),
        ))
    }

    fn lrs(&self, list: &Spanned<Vec<Spanned<f64>>>) -> Result<Vec<f64>, SpecError> {
        if list.get_ref().is_empty() {
            return Err(self.error(&list.span(), "`lr` is an empty list: give η0 values"));
        }
        let mut out: Vec<f64> = Vec::new();
        for v in list.get_ref() {
            // −0 is 0: the cell's folder and command line say `0`, which train reads.
            let x = *v.get_ref() + 0.0;
            if !(x.is_finite() && x >= 0.0) {
                return Err(self.error(
                    &v.span(),
                    format!("η0 {} is not a finite non-negative number", number_text(x)),
                ));
            }
            if out.contains(&x) {
                return Err(self.error(&v.span(), format!("η0 {} is listed twice", number_text(x))));
            }
            out.push(x);
        }
        Ok(out)
    }

    fn seeds(&self, list: &Spanned<Vec<Spanned<u64>>>, key: &str) -> Result<Vec<u64>, SpecError> {
        if list.get_ref().is_empty() {
            return Err(self.error(&list.span(), format!("`{key}` is an empty list")));
        }
        let mut out = Vec::new();
        for s in list.get_ref() {
            if out.contains(s.get_ref()) {
                return Err(self.error(&s.span(), format!("seed {} is listed twice", s.get_ref())));
            }
            out.push(*s.get_ref());
        }
        Ok(out)
    }

    /// A name that becomes a directory: readable, one path component, not hidden.
    fn component(&self, name: &Spanned<String>, what: &str) -> Result<String, SpecError> {
        let n = name.get_ref();
        let ok = !n.is_empty()
            && !n.starts_with('.')
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+=-".contains(c));
        if !ok {
            return Err(self.error(
                &name.span(),
                format!(
                    "{what} {n:?} must be a plain directory name: letters, digits and . _ + = - \
                     (not first: .)"
                ),
            ));
        }
        Ok(n.clone())
    }

    fn cell_args(
        &self,
        schedule: &str,
        lr: f64,
        seed: u64,
        options: &BTreeMap<String, Given>,
    ) -> Vec<String> {
        let mut args = vec![
            "train".to_string(),
            "--schedule".into(),
            schedule.into(),
            "--lr".into(),
            number_text(lr),
            "--seed".into(),
            seed.to_string(),
        ];
        for (key, given) in options {
            args.push(format!("--{key}"));
            args.extend(given.text.clone());
        }
        args
    }

    /// The task's data options, and its data there before a grid starts (a download is
    /// left to the cells); an error names the task's `data` line, else its first line.
    fn check_task_data(
        &self,
        name: &str,
        t: &TaskEntry,
        task_span: &Range<usize>,
        options: &BTreeMap<String, Given>,
    ) -> Result<(), SpecError> {
        let span = t.data.as_ref().map_or(task_span.clone(), |d| d.span());
        let argv = self.cell_args("basic", 0.0, 0, options);
        let args = self
            .parse_train(&argv)
            .map_err(|e| self.error(task_span, format!("task {name:?}: {e}")))?;
        let found = (args.data.validate()).and_then(|()| args.data.check_available());
        found.map_err(|e| {
            // The advice names train's flags; a spec says the same with its keys.
            let spec_advice = match e {
                crate::data::DataError::NotFound { .. } => {
                    "\nIn a spec: `download = true` (in [defaults] or the task) fetches it; \
                     `data = \"PATH\"` (relative to the spec) or ETAPROBE_DATA points to a copy."
                }
                _ => "",
            };
            self.error(&span, format!("task {name:?}: {e}{spec_advice}"))
        })?;
        model_fits(&args).map_err(|e| self.error(task_span, format!("task {name:?}: {e}")))
    }

    /// A cell's whole command line through `train`'s parser and checks.
    fn check_cell(&self, cell: &Cell, span: &Range<usize>) -> Result<TrainConfig, SpecError> {
        let what = format!(
            "cell {} (task {}, lr {}, seed {})",
            cell.dir.display(),
            cell.task,
            number_text(cell.lr),
            cell.seed
        );
        let args = self
            .parse_train(&cell.args)
            .map_err(|e| self.error(span, format!("{what}: {e}")))?;
        args.check()
            .map_err(|e| self.error(span, format!("{what}: {e:#}")))?;
        model_fits(&args).map_err(|e| self.error(span, format!("{what}: {e}")))?;
        Ok(args)
    }
}

/// `train`'s parser as a cell's words go through it. Negative numbers parse, so that
/// `epochs = -3` gets the option's own message.
pub(crate) fn train_command() -> clap::Command {
    TrainConfig::augment_args(clap::Command::new("train")).allow_negative_numbers(true)
}

/// A number as a cell's directory and command line show it: as Rust writes it (0.001),
/// in scientific notation beyond 10⁻⁴..10⁶ (1e-5, not 0.00001; 1e10, not 10000000000).
pub fn number_text(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && a.is_finite() && !(1e-4..1e6).contains(&a) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// Whether the model fits the data set: built on the host from the shape the data set has
/// in its official format (which the generated test sets copy), without reading it.
fn model_fits(args: &TrainConfig) -> Result<(), String> {
    let (shape, classes) = args.data.dataset.sample_shape();
    let options = crate::models::ModelOptions {
        dropout: args.dropout,
        width_mult: args.width_mult,
    };
    crate::models::Net::build_with(args.model, shape, classes, options)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A rule variant: the values of its swept options.
#[derive(Clone, Debug, Default)]
struct Variant {
    swept: BTreeMap<String, Given>,
}

/// A rule's directory name when it has no label: its name and fixed options.
fn auto_label(schedule: &str, fixed: &BTreeMap<String, Given>) -> String {
    variant_dir(schedule, fixed)
}

/// `label-key=value…` for the given options, as a directory name.
fn variant_dir(label: &str, options: &BTreeMap<String, Given>) -> String {
    let mut dir = label.to_string();
    for (key, given) in options {
        dir.push('-');
        dir.push_str(key);
        if let Some(text) = &given.text {
            dir.push('=');
            dir.push_str(&dir_text(text));
        }
    }
    dir
}

/// A value as part of a directory name: anything but letters, digits and `._+-` becomes `_`.
fn dir_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A clap error as one readable message, without clap's "error:" and usage lines.
fn clap_message(e: &clap::Error) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:")
        })
        .collect();
    lines.join(" ").trim_start_matches("error: ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{synth::write_fake_dataset, DatasetKind};

    /// A spec in a folder that holds a generated Fashion-MNIST, which the spec names by a
    /// path relative to itself.
    fn checked(text: &str) -> (tempfile::TempDir, Result<Spec, SpecError>) {
        let dir = tempfile::tempdir().unwrap();
        write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 40, 10, 1).unwrap();
        let path = dir.path().join("spec.toml");
        let spec = parse(text, &path);
        (dir, spec)
    }

    const GRID: &str = r#"
seeds = [1, 2]

[defaults]
batch-size = 16
val-split = 0.25

[[task]]
name = "fm"
model = "logreg"
dataset = "fashion-mnist"
data = "fashion-mnist"
epochs = 2

[[task]]
name = "fm-b8"
model = "logreg"
dataset = "fashion-mnist"
data = "fashion-mnist"
batch-size = 8
seeds = [3]

[[rule]]
name = "basic"
label = "momentum-cosine"
lr = [0.1, 0.01]
options = { optimizer = "momentum", lr-decay = "cosine", nesterov = true }

[[rule]]
name = "gen"
lr = [0.01]
tasks = ["fm"]
grid = { gen-damping = [0.05, 0.2] }
"#;

    #[test]
    fn tasks_that_would_share_a_file_of_the_report_are_refused() {
        let task = |name: &str| {
            format!(
                "[[task]]\nname = \"{name}\"\nmodel = \"logreg\"\n\
                 dataset = \"fashion-mnist\"\ndata = \"fashion-mnist\"\n\n"
            )
        };
        let rule = "[[rule]]\nname = \"basic\"\nlr = [0.1]\n";
        for (first, second) in [("fm", "fm-grid"), ("fm-claims", "fm")] {
            let text = format!("seeds = [1]\n\n{}{}{rule}", task(first), task(second));
            let (_dir, spec) = checked(&text);
            let error = spec.unwrap_err().to_string();
            assert!(
                error.contains("line 10: tasks") && error.contains("would share fm-"),
                "{error}"
            );
        }
        let text = format!("seeds = [1]\n\n{}{}{rule}", task("fm"), task("fm-gridded"));
        checked(&text).1.unwrap();
    }

    /// One task and one rule whose entries are `rule` (after `name = "basic"`).
    fn one_rule(rule: &str) -> String {
        format!(
            "seeds = [1]\n\n[[task]]\nname = \"fm\"\nmodel = \"logreg\"\n\
             dataset = \"fashion-mnist\"\ndata = \"fashion-mnist\"\n\n[[rule]]\n\
             name = \"basic\"\n{rule}\n"
        )
    }

    #[test]
    fn a_grid_of_options_too_large_is_refused_before_it_is_built() {
        // 10⁷ combinations: refused at once, naming the option that passes the limit.
        let values: Vec<String> = (1..=10).map(|i| format!("{i}e-3")).collect();
        let keys = [
            "gen-damping",
            "alpha",
            "sps-c",
            "hd-beta",
            "delta",
            "eps",
            "lr-min",
        ];
        let grid: Vec<String> = keys
            .iter()
            .map(|k| format!("{k} = [{}]", values.join(", ")))
            .collect();
        let text = one_rule(&format!("lr = [0.1]\ngrid = {{ {} }}", grid.join(", ")));
        let started = std::time::Instant::now();
        let error = checked(&text).1.unwrap_err().to_string();
        assert!(error.contains("more than 100000 combinations"), "{error}");
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }

    #[test]
    fn names_and_numbers_a_cell_cannot_have_are_refused_naming_the_line() {
        let long = "x".repeat(300);
        let text = one_rule(&format!("label = \"{long}\"\nlr = [0.1]"));
        let error = checked(&text).1.unwrap_err().to_string();
        assert!(
            error.contains("is 300 bytes long, more than the 255"),
            "{error}"
        );
        // −0 is 0; 1e-50 would be 0 on the GPU while the folder says otherwise.
        let spec = checked(&one_rule("lr = [-0.0]")).1.unwrap();
        assert_eq!(spec.cells[0].dir, Path::new("fm/basic/lr0/seed1"));
        let error = checked(&one_rule("lr = [1e-50]"))
            .1
            .unwrap_err()
            .to_string();
        assert!(error.contains("smallest normal f32"), "{error}");
        let error = checked(&one_rule("lr = [0.1]\noptions = { epochs = -3 }"))
            .1
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("invalid value '-3' for '--epochs"),
            "{error}"
        );
        // A rule's own data is looked for before anything runs, naming the rule's line.
        let error = checked(&one_rule("lr = [0.1]\noptions = { data = \"nowhere\" }"))
            .1
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 9") && error.contains("nowhere"),
            "{error}"
        );
    }

    #[test]
    fn a_grid_too_large_to_run_is_refused_naming_the_rule() {
        let lrs: Vec<String> = (1..=400).map(|i| format!("{i}e-4")).collect();
        let lrs = lrs.join(", ");
        let seeds: Vec<String> = (1..=300).map(|s| s.to_string()).collect();
        let text = format!(
            "seeds = [{}]\n\n[[task]]\nname = \"fm\"\nmodel = \"logreg\"\n\
             dataset = \"fashion-mnist\"\ndata = \"fashion-mnist\"\n\n[[rule]]\n\
             name = \"basic\"\nlr = [{lrs}]\n",
            seeds.join(", ")
        );
        let (_dir, spec) = checked(&text);
        let error = spec.unwrap_err().to_string();
        assert!(
            error.contains("line 9: with this rule the grid has more than 100000 cells"),
            "{error}"
        );
    }

    #[test]
    fn a_download_of_a_data_set_without_an_official_source_is_refused_before_any_cell() {
        let text = "seeds = [1]\n\n[[task]]\nname = \"b\"\nmodel = \"linreg\"\n\
                    dataset = \"boston\"\ndata = \"no-such-folder\"\ndownload = true\n\n\
                    [[rule]]\nname = \"basic\"\nlr = [0.1]\n";
        let (_dir, spec) = checked(text);
        let error = spec.unwrap_err().to_string();
        assert!(error.contains("no official source"), "{error}");
    }

    #[test]
    fn a_task_may_ask_for_its_data_to_be_downloaded() {
        let task = |download: &str| {
            format!(
                "seeds = [1]\n\n[[task]]\nname = \"fm\"\nmodel = \"logreg\"\ndataset = \"fashion-mnist\"\n\
                 data = \"fashion-mnist\"\n{download}\n\n[[rule]]\nname = \"basic\"\nlr = [0.1]\n"
            )
        };
        let (_dir, spec) = checked(&task("download = true"));
        let cell = &spec.unwrap().cells[0];
        assert!(
            cell.args.iter().any(|a| a == "--download"),
            "{:?}",
            cell.args
        );
        let (_dir, spec) = checked(&task("download = false"));
        let error = spec.unwrap_err().to_string();
        assert!(
            error.contains("line 8") && error.contains("drop `download = false`"),
            "{error}"
        );
    }

    #[test]
    fn cells_are_the_grid_with_readable_unique_names() {
        let (dir, spec) = checked(GRID);
        let spec = spec.unwrap();
        assert_eq!(spec.checkpoint_every, DEFAULT_CHECKPOINT_EVERY);
        let dirs: Vec<String> = spec
            .cells
            .iter()
            .map(|c| c.dir.to_string_lossy().into_owned())
            .collect();
        // Task by task, seed by seed, then rule, variant and η0 as written.
        assert_eq!(
            dirs,
            [
                "fm/momentum-cosine/lr0.1/seed1",
                "fm/momentum-cosine/lr0.01/seed1",
                "fm/gen-gen-damping=0.05/lr0.01/seed1",
                "fm/gen-gen-damping=0.2/lr0.01/seed1",
                "fm/momentum-cosine/lr0.1/seed2",
                "fm/momentum-cosine/lr0.01/seed2",
                "fm/gen-gen-damping=0.05/lr0.01/seed2",
                "fm/gen-gen-damping=0.2/lr0.01/seed2",
                "fm-b8/momentum-cosine/lr0.1/seed3",
                "fm-b8/momentum-cosine/lr0.01/seed3",
            ]
        );
        let cell = &spec.cells[9];
        let data = dir.path().join("fashion-mnist");
        let want: Vec<String> = [
            "train",
            "--schedule",
            "basic",
            "--lr",
            "0.01",
            "--seed",
            "3",
            "--batch-size",
            "8",
            "--data",
            data.to_str().unwrap(),
            "--dataset",
            "fashion-mnist",
            "--lr-decay",
            "cosine",
            "--model",
            "logreg",
            "--nesterov",
            "--optimizer",
            "momentum",
            "--val-split",
            "0.25",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(cell.args, want);
        assert_eq!(cell.rule, "momentum-cosine");
        assert_eq!(cell.options["optimizer"], "momentum");
        assert_eq!(cell.options["nesterov"], "");
        let gen = &spec.cells[3];
        assert_eq!(gen.schedule, "gen");
        assert_eq!(gen.options["gen-damping"], "0.2");
        assert!(gen.args.windows(2).any(|w| w == ["--gen-damping", "0.2"]));
    }

    #[test]
    fn numbers_read_as_they_were_written() {
        let texts: Vec<String> = [0.001, 0.05, 1.0, 10.0, 1e-5, 2.5e-7, 1e10, 0.0]
            .map(number_text)
            .to_vec();
        assert_eq!(
            texts,
            ["0.001", "0.05", "1", "10", "1e-5", "2.5e-7", "1e10", "0"]
        );
        for t in &texts {
            assert!(t.parse::<f64>().is_ok(), "{t}");
        }
    }

    #[test]
    fn clashes_and_impossible_cells_name_their_line() {
        // Two rules whose cells would share directories.
        let twice = "seeds = [1]\n[[task]]\nname = \"t\"\nmodel = \"logreg\"\n\
                     dataset = \"fashion-mnist\"\ndata = \"fashion-mnist\"\n\
                     [[rule]]\nname = \"basic\"\nlr = [0.1]\n\
                     [[rule]]\nname = \"basic\"\nlr = [0.1, 0.2]\n";
        let e = checked(twice).1.unwrap_err();
        assert_eq!(e.line, Some(10), "{e}");
        assert!(
            e.message.contains("also a cell of the rule at line 7"),
            "{e}"
        );
        // A task given a field twice, a flag given a value, a missing data set.
        let cases = [
            (
                GRID.replace("epochs = 2", "epochs = 2\noptions = { epochs = 3 }"),
                14,
                "also a field",
            ),
            (
                GRID.replace("nesterov = true", "nesterov = 1"),
                27,
                "is a flag",
            ),
            (
                GRID.replacen("data = \"fashion-mnist\"", "data = \"nowhere\"", 1),
                12,
                "nowhere",
            ),
            (
                GRID.replace("label = \"momentum-cosine\"", "label = \"a/b\""),
                25,
                "plain",
            ),
            (
                GRID.replace("tasks = [\"fm\"]", "tasks = [\"fn\"]"),
                32,
                "no task",
            ),
            (GRID.replace("[0.05, 0.2]", "[0.05, 0.05]"), 33, "twice"),
            (GRID.replace("lr = [0.1, 0.01]", "lr = [0.1, -1]"), 26, "-1"),
            (GRID.replace("seeds = [1, 2]", "seeds = [1, 1]"), 2, "twice"),
            // A model that does not fit the data set: the task's line, or the rule's when
            // its options make it so.
            (
                GRID.replacen("model = \"logreg\"", "model = \"linreg\"", 1),
                8,
                "regression model",
            ),
            (
                GRID.replace("nesterov = true", "nesterov = true, dropout = 0.5"),
                23,
                "resnet18 only",
            ),
            (
                GRID.replace("seeds = [1, 2]", "checkpoint-every = 0"),
                2,
                "at least 1",
            ),
            (
                GRID.replace("val-split = 0.25", "out = \"x\""),
                6,
                "set by the sweep",
            ),
        ];
        for (text, line, message) in cases {
            let e = checked(&text).1.unwrap_err();
            assert_eq!(e.line, Some(line), "{e}");
            assert!(e.to_string().contains(message), "{message:?}: {e}");
        }
    }
}
