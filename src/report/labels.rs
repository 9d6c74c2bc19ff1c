//! What figures call a run: its task ("logreg on fashion-mnist") and its rule label
//! ("newton, η0=0.01"), made unique among the runs of a comparison.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::run::Run;
use crate::rundir::{RunInfo, RUN_JSON};

/// Configuration keys that differ between any two runs without making them different
/// experiments (where the files went, how the data was found).
const NOT_DISTINGUISHING: [&str; 8] = [
    "out",
    "resume",
    "overwrite",
    "data.data",
    "data.cache_dir",
    "data.download",
    "data.download_base",
    "checkpoint_every",
];
/// At most this many differing settings are added to equal labels.
const MAX_DISTINGUISHING_KEYS: usize = 3;

/// The label of a run in legends and titles: `"<schedule>, η0=<lr>"` from `run.json`'s
/// `config` (with the optimizer when not SGD and the decay when there is one), else
/// whichever of the two is there, else the directory name.
pub fn run_label(run_dir: impl AsRef<Path>) -> String {
    let dir = run_dir.as_ref();
    let from_config = RunInfo::read(dir.join(RUN_JSON)).ok().and_then(|info| {
        // The optimizer is named when it is not plain SGD: "adam + basic, η0=0.001".
        let optimizer = info
            .config
            .get("optimizer")
            .and_then(text)
            .filter(|o| o != "sgd");
        let schedule = info.config.get("schedule").and_then(text);
        let schedule = match (optimizer, schedule) {
            (Some(o), Some(s)) => Some(format!("{o} + {s}")),
            (o, s) => s.or(o),
        };
        // A decay of η0 is named too: "momentum + basic, cosine decay, η0=0.1".
        // (`none` with milestones is a step decay.)
        let milestones = info
            .config
            .get("lr_milestones")
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty());
        let decay = match info.config.get("lr_decay").and_then(text) {
            Some(d) if d == "none" && milestones => Some("step".to_string()),
            Some(d) if d == "none" => None,
            d => d,
        };
        let schedule = match (schedule, decay) {
            (Some(s), Some(d)) => Some(format!("{s}, {d} decay")),
            (s, _) => s,
        };
        let lr = info.config.get("lr").and_then(text);
        match (schedule, lr) {
            (Some(s), Some(lr)) => Some(format!("{s}, η0={lr}")),
            (Some(s), None) => Some(s),
            (None, Some(lr)) => Some(format!("η0={lr}")),
            (None, None) => None,
        }
    });
    from_config.unwrap_or_else(|| dir_name(dir))
}

/// "model on data set" from a run's configuration (the data set under `data` or at the
/// top level); `None` when neither is recorded.
pub(super) fn task_of(config: &Value) -> Option<String> {
    let model = config.get("model").and_then(text);
    let data = config.get("data").filter(|d| d.is_object());
    let dataset = data
        .and_then(|d| d.get("dataset"))
        .or_else(|| config.get("dataset"))
        .and_then(text);
    let coarse = data
        .and_then(|d| d.get("coarse_labels"))
        .or_else(|| config.get("coarse_labels"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let dataset = dataset.map(|d| {
        if coarse {
            format!("{d} (coarse labels)")
        } else {
            d
        }
    });
    match (model, dataset) {
        (Some(m), Some(d)) => Some(format!("{m} on {d}")),
        (m, d) => m.or(d),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn dir_name(dir: &Path) -> String {
    // `canonicalize` turns "." or "runs/a/" into a real name.
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// The warning `plot` gives when its runs are of more than one task: their losses (and
/// often accuracies) are not comparable. Runs without a recorded task are listed too.
pub(super) fn mixed_tasks_warning(runs: &[Run]) -> Option<String> {
    let mut by_task: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for run in runs {
        let task = run.task.as_deref().unwrap_or("unknown task (no run.json)");
        by_task.entry(task).or_default().push(dir_name(&run.dir));
    }
    let known = runs
        .iter()
        .filter_map(|r| r.task.as_deref())
        .collect::<BTreeSet<_>>();
    if known.len() < 2 {
        return None;
    }
    let groups: Vec<String> = by_task
        .iter()
        .map(|(task, dirs)| format!("{task} ({})", dirs.join(", ")))
        .collect();
    Some(format!(
        "these runs are of {} different tasks, whose losses and accuracies are not \
         comparable: {}; each label names its task",
        known.len(),
        groups.join("; ")
    ))
}

/// Makes every label unique. Runs of different tasks get the task in their label; runs
/// whose labels are still equal get the settings that tell them apart (e.g. `seed=1`),
/// then their directory name, then their path, then their position in the list (the same
/// directory given twice).
pub(super) fn disambiguate_labels(runs: &mut [Run]) {
    let tasks: BTreeSet<Option<&str>> = runs.iter().map(|r| r.task.as_deref()).collect();
    if tasks.len() > 1 {
        for run in runs.iter_mut() {
            if let Some(task) = &run.task {
                run.label = format!("{task}: {}", run.label);
            }
        }
    }
    add_to_equal_labels(runs, distinguishing_settings);
    add_to_equal_labels(runs, |run, _| Some(dir_name(&run.dir)));
    add_to_equal_labels(runs, |run, _| Some(run.dir.display().to_string()));
    add_to_equal_labels(runs, |run, _| Some(format!("#{}", run.index + 1)));
}

/// Appends `suffix(run, its equals)` in parentheses to each label shared by several runs.
fn add_to_equal_labels(runs: &mut [Run], suffix: impl Fn(&Run, &[&Run]) -> Option<String>) {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, run) in runs.iter().enumerate() {
        groups.entry(run.label.clone()).or_default().push(i);
    }
    let mut new_labels = Vec::new();
    for members in groups.values().filter(|m| m.len() > 1) {
        let equals: Vec<&Run> = members.iter().map(|&i| &runs[i]).collect();
        let suffixes: Vec<Option<String>> = equals.iter().map(|r| suffix(r, &equals)).collect();
        // A suffix all of them share (two "runs/*/a") tells nothing apart.
        if suffixes.iter().all(|s| *s == suffixes[0]) {
            continue;
        }
        for (&i, s) in members.iter().zip(suffixes) {
            if let Some(s) = s {
                new_labels.push((i, format!("{} ({s})", runs[i].label)));
            }
        }
    }
    for (i, label) in new_labels {
        runs[i].label = label;
    }
}

/// "seed=1, batch_size=64": this run's values of the settings in which `equals` differ.
fn distinguishing_settings(run: &Run, equals: &[&Run]) -> Option<String> {
    let flat: Vec<BTreeMap<String, String>> = equals.iter().map(|r| flatten(&r.config)).collect();
    let keys: BTreeSet<&String> = flat.iter().flat_map(|f| f.keys()).collect();
    let differing: Vec<&String> = keys
        .into_iter()
        .filter(|k| !NOT_DISTINGUISHING.contains(&k.as_str()))
        .filter(|k| flat.iter().any(|f| f.get(*k) != flat[0].get(*k)))
        .collect();
    let mine = flatten(&run.config);
    let parts: Vec<String> = differing
        .iter()
        .take(MAX_DISTINGUISHING_KEYS)
        .map(|k| {
            let short = k.rsplit('.').next().unwrap_or(k);
            let value = mine.get(*k).map_or("none", String::as_str);
            format!("{short}={value}")
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Leaf values by dotted path: `{"data": {"dataset": "boston"}}` -> `data.dataset: boston`.
fn flatten(config: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Null => {
                out.insert(prefix.to_string(), "none".into());
            }
            other => {
                out.insert(prefix.to_string(), text(other).unwrap_or(other.to_string()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", config, &mut out);
    out
}
