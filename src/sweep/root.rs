//! Whether a root's folders are this spec's cells: the checks a sweep makes before it
//! plans or writes anything, so that no cell's records are taken for another's (another
//! spec's options, a user's folder, a run trained on other data).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::manifest::{on_disk, Manifest, OnDisk, CELL_LOG};
use super::run::{fresh_command, Plan};
use super::spec::Spec;

/// Refuses a root the cells cannot be put in, before anything is planned or written: a
/// file; a folder inside a run directory or inside another sweep's root (its cells would
/// be taken for that run's files, or moved aside by that sweep); a file where a cell's
/// task or rule folder should be (every cell of it would fail to start).
pub(super) fn check_root_place(spec: &Spec, root: &Path) -> Result<()> {
    if root.exists() && !root.is_dir() {
        bail!("--root {}: a file, not a folder", root.display());
    }
    for (i, above) in resolved(root).ancestors().enumerate() {
        // A run's own pair of files, or a log of a sweep's attempt: not merely a file of a
        // common name (a project's `train.log`).
        let run = [crate::rundir::RUN_JSON, crate::train::CONFIG_TOML]
            .iter()
            .all(|f| above.join(f).is_file());
        if run || attempts_in_log(&above.join(CELL_LOG)) > 0 {
            bail!(
                "--root {} is inside the run directory {}: choose a root outside it",
                root.display(),
                above.display()
            );
        }
        if i > 0 && above.join(super::MANIFEST).is_file() {
            bail!(
                "--root {} is inside the sweep root {} (it holds {}), whose sweep would take \
                 its folders for its own cells': choose a root outside it",
                root.display(),
                above.display(),
                super::MANIFEST
            );
        }
    }
    for cell in &spec.cells {
        let dir = root.join(&cell.dir);
        let blocked = dir
            .ancestors()
            .take_while(|p| *p != root)
            .find(|p| p.exists() && !p.is_dir());
        if let Some(file) = blocked {
            bail!(
                "{} is a file where the sweep needs the folder of cell {}: move it away",
                file.display(),
                cell.dir.display()
            );
        }
    }
    Ok(())
}

/// `path` absolute, its existing part as the file system resolves it (links followed, then
/// `..`), the rest applied by name: `../d` from inside a folder is not inside it.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            part => {
                out.push(part);
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
            }
        }
    }
    out
}

/// How each attempt's part of a cell's log begins.
pub(super) const ATTEMPT_HEADER: &str = "== etaprobe sweep, ";

/// The attempts a cell's log records (none when it has no log). Attempts moved aside with
/// their directory took their log with them and are not counted.
pub(super) fn attempts_in_log(log: &Path) -> usize {
    let Ok(file) = crate::rundir::open_regular(log) else {
        return 0;
    };
    std::io::BufRead::split(std::io::BufReader::new(file), b'\n')
        .map_while(Result::ok)
        .filter(|line| line.starts_with(ATTEMPT_HEADER.as_bytes()))
        .count()
}

/// Whether the directory `dir` of a cell its manifest does not list is the cell's own: one
/// the sweep would move aside before running it (no checkpoint and no finished run: nothing
/// of it is taken), or one run by the cell's fresh `command`, which its `run.json` records
/// for the last attempt: with `--resume` and the cell's own checkpoint after it when the
/// sweep resumed the cell, `--adapter A` before it when the sweep gave one, and any
/// `--checkpoint-every` (it changes no record).
fn started_by(dir: &Path, cell_dir: &Path, command: &[String]) -> bool {
    if on_disk(dir) == OnDisk::Unusable {
        return an_attempt_of_ours(dir);
    }
    let recorded = crate::rundir::read_regular(&dir.join(crate::rundir::RUN_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["command"].as_array().and_then(|words| {
                let words = words.iter().map(|w| w.as_str().map(String::from));
                words.collect::<Option<Vec<String>>>()
            })
        });
    let Some(mut words) = recorded.filter(|w| !w.is_empty()) else {
        return false;
    };
    words.remove(0);
    if words.len() >= 2 && words[0] == "--adapter" {
        words.drain(..2);
    }
    if words.len() >= 2 && words[words.len() - 2] == "--resume" {
        // Only the cell's own checkpoint: a run directory there would lend the run its
        // config.toml's options, which the words here do not show.
        let from = Path::new(&words[words.len() - 1]);
        let own = from.file_name() == Some(std::ffi::OsStr::new(crate::train::CHECKPOINT))
            && from
                .parent()
                .is_some_and(|p| is_cell_folder(p, dir, cell_dir));
        if !own {
            return false;
        }
        words.truncate(words.len() - 2);
    }
    // The folder it wrote to: this one, however the path was spelled (a relative one is
    // the cell's path under the root, from wherever that sweep ran).
    let out = words
        .iter()
        .position(|w| w == "--out")
        .and_then(|i| words.get(i + 1));
    if !out.is_some_and(|o| is_cell_folder(Path::new(o), dir, cell_dir)) {
        return false;
    }
    let rest = |words: &[String]| -> Vec<String> {
        let kept = super::without_options(words, &["--checkpoint-every", "--out"], &[]);
        kept.into_iter().map(String::from).collect()
    };
    same_args(&rest(&words), &rest(&command[1..]))
}

/// Whether `path`, recorded by a cell's run, named the cell's folder `dir` (`cell_dir`
/// under the root): the same folder, or a relative path ending in the cell's own.
fn is_cell_folder(path: &Path, dir: &Path, cell_dir: &Path) -> bool {
    same_file(&path.to_string_lossy(), &dir.to_string_lossy())
        || (path.is_relative() && path.ends_with(cell_dir))
}

/// Whether an unusable cell folder (no checkpoint, no finished run) is this sweep's own
/// attempt, which may be moved aside and started again: its log records an attempt, or it
/// is empty (made just before a kill). Any other folder is a user's, which the sweep
/// refuses to touch.
fn an_attempt_of_ours(dir: &Path) -> bool {
    if attempts_in_log(&dir.join(CELL_LOG)) > 0 {
        return true;
    }
    // Nothing, or only an empty log: killed (or out of disk) between making the folder
    // and writing the attempt's first line.
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().all(|e| {
            e.file_name() == std::ffi::OsStr::new(CELL_LOG)
                && e.metadata().is_ok_and(|m| m.is_file() && m.len() == 0)
        })
    })
}

/// Whether two paths name the same existing file or directory.
fn same_file(x: &str, y: &str) -> bool {
    match (Path::new(x).canonicalize(), Path::new(y).canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Whether two cells' `train` arguments are the same, a `--data` or `--out` path also when
/// spelled otherwise for the same file (`sw/a.csv` and `./sw/a.csv`, or a relative path a
/// spec of before 2026-12-06 recorded and the absolute one it records now; a root given as
/// `./root` or by its absolute path). `--download` is left out: where the data comes from
/// shapes no run (a resume may change it too).
fn same_args(a: &[String], b: &[String]) -> bool {
    let shaping = |args: &[String]| -> Vec<String> {
        let kept = super::without_options(args, &[], &["--download"]);
        kept.into_iter().map(String::from).collect()
    };
    let (a, b) = (&shaping(a), &shaping(b));
    let path_of = |i: usize| {
        i > 0 && a[i - 1] == b[i - 1] && ["--data", "--out"].contains(&a[i - 1].as_str())
    };
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .enumerate()
            .all(|(i, (x, y))| x == y || (path_of(i) && same_file(x, y)))
}

/// Refuses a root whose existing cells were made by another spec (other options), or are
/// not in its manifest at all and were not started by this spec's command for them: their
/// records would be taken for this spec's.
pub(super) fn check_same_cells(spec: &Spec, root: &Path, old: Option<&Manifest>) -> Result<()> {
    let mut foreign = Vec::new();
    for cell in &spec.cells {
        if !root.join(&cell.dir).exists() {
            continue;
        }
        let before = old.and_then(|m| m.cells.iter().find(|c| c.dir == cell.dir));
        match before {
            Some(b) if !same_args(&b.args, &cell.args) => foreign.push(format!(
                "{}: {}",
                cell.dir.display(),
                differences(
                    &super::without_options(&b.args, &[], &["--download"]),
                    &super::without_options(&cell.args, &[], &["--download"])
                )
            )),
            // A folder in the manifest's cell's place that no attempt of the sweep left.
            Some(_) if !is_ours_if_unusable(&root.join(&cell.dir)) => foreign.push(format!(
                "{}: holds files that no attempt of a sweep wrote (no {CELL_LOG} of one)",
                cell.dir.display()
            )),
            Some(_) => {}
            // A manifest lost or moved aside: the cell's own run.json says what ran it.
            None if started_by(
                &root.join(&cell.dir),
                &cell.dir,
                &fresh_command(spec, root, cell),
            ) => {}
            None => foreign.push(format!(
                "{}: not a cell of {}'s manifest, and its run.json does not record this \
                 cell's command",
                cell.dir.display(),
                root.display()
            )),
        }
    }
    if !foreign.is_empty() {
        let more = foreign.len().saturating_sub(5);
        let mut list = foreign.into_iter().take(5).collect::<Vec<_>>().join("\n  ");
        if more > 0 {
            list.push_str(&format!("\n  and {more} more"));
        }
        bail!(
            "{} holds folders that are not this spec's cells as it would run them:\n  {list}\n\
             use another --root, or move those directories out of it",
            root.display()
        );
    }
    Ok(())
}

/// Refuses a root whose cells would read their data from another place than its finished
/// cells did (a spec without `data` reads ETAPROBE_DATA, which may have changed between two
/// sweeps): a task's cells still to run must not mix with finished ones trained on other
/// data. Compared by where the data was read (`run.json`'s `data_source`; cells recorded
/// before it are not compared) and where it would be now, as files. A place that is gone
/// (the records moved to another machine) is said, not refused: a resumed cell's data is
/// checked against its checkpoint's MD5 anyway.
pub(super) fn check_same_data(spec: &Spec, root: &Path, plans: &[Plan]) -> Result<()> {
    let mut now_by_task: Vec<(&str, Option<PathBuf>)> = Vec::new();
    let mut refused = Vec::new();
    let mut gone = 0usize;
    for task in spec.cells.iter().map(|c| c.task.as_str()) {
        if now_by_task.iter().any(|(t, _)| *t == task) {
            continue;
        }
        let cells: Vec<usize> = (0..spec.cells.len())
            .filter(|&i| spec.cells[i].task == task)
            .collect();
        let to_run = cells
            .iter()
            .any(|&i| matches!(plans[i], Plan::Fresh | Plan::Resume | Plan::Restart(_)));
        let now = to_run
            .then(|| data_place(&spec.cells[cells[0]].args))
            .flatten();
        now_by_task.push((task, now.clone()));
        let Some(now) = now else { continue };
        for &i in cells.iter().filter(|&&i| plans[i] == Plan::Skip) {
            let dir = root.join(&spec.cells[i].dir);
            let Some(was) = data_source(&dir) else {
                continue;
            };
            if !was.exists() {
                gone += 1;
            } else if !same_file(&was.to_string_lossy(), &now.to_string_lossy()) {
                refused.push(format!(
                    "{}: trained on {}, while its task's cells to run would read {}",
                    spec.cells[i].dir.display(),
                    was.display(),
                    now.display()
                ));
            }
        }
    }
    if gone > 0 {
        log::warn!(
            "{} of {} trained on data whose place is gone (records moved here?): not compared \
             with the data its cells to run read",
            crate::words::counted(gone, "finished cell"),
            root.display()
        );
    }
    if let Some(first) = refused.first() {
        bail!(
            "{} holds cells trained on other data than this sweep would give the rest of \
             their task ({} in all):\n  {first}\n(a spec without `data` reads ETAPROBE_DATA): \
             give the task's `data`, or use another --root",
            root.display(),
            refused.len()
        );
    }
    Ok(())
}

/// Where a finished run read its data (`run.json`'s `data_source`), if it says.
fn data_source(dir: &Path) -> Option<PathBuf> {
    let info = crate::rundir::RunInfo::read(dir.join(crate::rundir::RUN_JSON)).ok()?;
    let source = info.extra.get("data_source")?.as_str()?;
    Some(PathBuf::from(source))
}

/// Where a cell with these `train` words would read its data now (its `--data`, else
/// ETAPROBE_DATA, else the cache), without downloading; `None` when it is not there yet.
fn data_place(args: &[String]) -> Option<PathBuf> {
    use clap::FromArgMatches;
    let matches = super::spec::train_command()
        .try_get_matches_from(args)
        .ok()?;
    let config = crate::train::TrainConfig::from_arg_matches(&matches).ok()?;
    let look = crate::data::DataArgs {
        download: false,
        ..config.data
    };
    let source = look.locate().ok()?;
    Some(std::path::absolute(source.path()).unwrap_or_else(|_| source.path().to_path_buf()))
}

/// What differs between a cell's earlier `train` words and this spec's, option by option:
/// `--epochs 2 (now 3)`, `--nesterov given (now not given)`.
fn differences(was: &[&str], now: &[&str]) -> String {
    fn options<'a>(words: &[&'a str]) -> Vec<(&'a str, String)> {
        let mut out: Vec<(&str, String)> = Vec::new();
        for &w in words {
            match (w.starts_with("--"), out.last_mut()) {
                (true, _) | (false, None) => out.push((w, String::new())),
                (false, Some((_, value))) => {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(w);
                }
            }
        }
        out
    }
    let (was, now) = (options(was), options(now));
    let text = |value: Option<&String>| match value {
        None => "not given".to_string(),
        Some(v) if v.is_empty() => "given".to_string(),
        Some(v) => v.clone(),
    };
    let mut names: Vec<&str> = was.iter().chain(&now).map(|(o, _)| *o).collect();
    names.dedup();
    let mut seen = Vec::new();
    let mut said = Vec::new();
    for name in names {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let a = was.iter().find(|(o, _)| *o == name).map(|(_, v)| v);
        let b = now.iter().find(|(o, _)| *o == name).map(|(_, v)| v);
        if a != b {
            said.push(format!("{name} {} (now {})", text(a), text(b)));
        }
    }
    match said.is_empty() {
        // Only a path spelled otherwise, or the order of the words.
        true => format!("was `{}`, now `{}`", was_text(&was), was_text(&now)),
        false => said.join(", "),
    }
}

fn was_text(options: &[(&str, String)]) -> String {
    (options.iter())
        .map(|(o, v)| {
            if v.is_empty() {
                o.to_string()
            } else {
                format!("{o} {v}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `dir`, when it is a folder without a checkpoint or a finished run, is one of this
/// sweep's attempts (else a user's).
pub(super) fn is_ours_if_unusable(dir: &Path) -> bool {
    on_disk(dir) != OnDisk::Unusable || an_attempt_of_ours(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_asked_for_or_not_is_the_same_cell() {
        let args = |words: &str| -> Vec<String> { words.split(' ').map(String::from).collect() };
        let plain = args("train --lr 0.1 --dataset cifar10 --seed 1");
        let fetched = args("train --lr 0.1 --dataset cifar10 --download --seed 1");
        assert!(same_args(&plain, &fetched));
        assert!(same_args(&fetched, &plain));
        assert!(!same_args(
            &plain,
            &args("train --lr 0.2 --dataset cifar10 --seed 1")
        ));
        assert!(!same_args(
            &fetched,
            &args("train --lr 0.1 --dataset cifar10 --download")
        ));
    }
}
