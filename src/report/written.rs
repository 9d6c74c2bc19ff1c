//! The folder a report command (`compare`, `plot`) writes into: it writes over the files it
//! wrote there before, and never over a user's file that happens to bear one of their
//! names. What it wrote is listed in [`WRITTEN`], beside the files.

use std::path::{Path, PathBuf};

use std::io::ErrorKind;

use anyhow::{bail, Context, Result};

use crate::rundir::write_atomic;

/// The list of the files the report commands wrote in a folder, one name a line.
pub const WRITTEN: &str = ".etaprobe-written";

/// Refuses when `dir` holds a file that the command would write (`would_write` says which
/// names it may) and that no report command wrote there: not listed in [`WRITTEN`], or, in
/// a folder without that list (written before it existed), in a folder that
/// `made_before` does not recognise as the command's own.
pub fn check_ours(
    dir: &Path,
    would_write: impl Fn(&str) -> bool,
    made_before: impl Fn(&Path) -> bool,
) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // No folder yet (or none to read: writing will say why).
        return Ok(());
    };
    let listed = listed(dir)?;
    let mut foreign: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| would_write(name) && !listed.contains(name))
        .collect();
    if foreign.is_empty() || (listed.is_empty() && made_before(dir)) {
        return Ok(());
    }
    foreign.sort();
    bail!(
        "{} holds {} that this command would write over, which no report of etaprobe \
         wrote there: give --out another folder, or move {} away",
        dir.display(),
        foreign.join(", "),
        if foreign.len() == 1 { "it" } else { "them" }
    );
}

/// Creates the report's folder `dir` (and its parents); a link there that leads nowhere is
/// said as such, not as the "File exists" the system gives.
pub fn create_folder(dir: &Path) -> Result<()> {
    if dir.symlink_metadata().is_ok_and(|m| m.is_symlink()) && !dir.exists() {
        bail!(
            "{} is a link to {}, which does not exist: create that folder, or give --out \
             another one",
            dir.display(),
            std::fs::read_link(dir).unwrap_or_default().display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))
}

/// Adds `names` to the folder's [`WRITTEN`] list (written atomically).
pub fn record(dir: &Path, names: impl IntoIterator<Item = String>) -> Result<()> {
    let mut all = listed(dir)?;
    all.extend(names);
    all.sort();
    all.dedup();
    let text: String = all.iter().map(|n| format!("{n}\n")).collect();
    let path = dir.join(WRITTEN);
    write_atomic(&path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// Removes the files of the folder's [`WRITTEN`] list that `remove` names, and returns
/// them (best effort: what cannot be removed stays); a file not listed, a user's, is never
/// touched. The names removed leave the list, so that a user's file later put under one
/// of them is not taken for the report's.
pub fn remove_listed(dir: &Path, remove: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    let names = listed(dir).unwrap_or_default();
    let mut forgotten = false;
    for name in &names {
        // A report's files lie in its folder: a listed path elsewhere is no name of ours.
        let plain = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']);
        let path = dir.join(name);
        let meta = path.symlink_metadata();
        if plain && remove(name) && meta.as_ref().is_ok_and(|m| m.is_file()) {
            if std::fs::remove_file(&path).is_ok() {
                removed.push(path);
                continue;
            }
        } else if plain && remove(name) && meta.is_err_and(|e| e.kind() == ErrorKind::NotFound) {
            // Gone already (removed by hand): forgotten too, so that a user's file later
            // saved under the name is not taken for the report's.
            forgotten = true;
            continue;
        }
        kept.push(name.as_str());
    }
    if !removed.is_empty() || forgotten {
        let text: String = kept.iter().map(|n| format!("{n}\n")).collect();
        // Best effort: a list that keeps a removed name only makes a later report bolder.
        let _ = write_atomic(&dir.join(WRITTEN), text.as_bytes());
    }
    removed
}

/// The names listed in the folder's [`WRITTEN`] (none when there is no list).
fn listed(dir: &Path) -> Result<Vec<String>> {
    let path = dir.join(WRITTEN);
    match crate::rundir::read_regular(&path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_to_nothing_is_said_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("out");
        std::os::unix::fs::symlink(dir.path().join("gone"), &link).unwrap();
        let e = create_folder(&link).unwrap_err().to_string();
        assert!(
            e.contains("is a link to") && e.contains("gone, which does not exist"),
            "{e}"
        );
        create_folder(&dir.path().join("new/deeper")).unwrap();
        assert!(dir.path().join("new/deeper").is_dir());
    }

    #[test]
    fn a_users_file_is_refused_and_the_commands_own_are_written_over() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let csv = |n: &str| n.ends_with(".csv");
        let never = |_: &Path| false;
        std::fs::write(d.join("notes.txt"), "mine").unwrap();
        check_ours(d, csv, never).unwrap();
        std::fs::write(d.join("t.csv"), "mine").unwrap();
        let e = check_ours(d, csv, never).unwrap_err().to_string();
        assert!(
            e.contains("holds t.csv that this command would write over"),
            "{e}"
        );
        // Written by a report command, it is its own.
        record(d, ["t.csv".to_string()]).unwrap();
        check_ours(d, csv, never).unwrap();
        std::fs::write(d.join("u.csv"), "mine").unwrap();
        assert!(check_ours(d, csv, never).is_err());
        // Beside the list, a recognised report does not vouch for an unlisted file.
        assert!(check_ours(d, csv, |_: &Path| true).is_err());
        // A folder written before the list existed, recognised by its report.
        std::fs::remove_file(d.join(WRITTEN)).unwrap();
        check_ours(d, csv, |_: &Path| true).unwrap();
    }

    #[test]
    fn a_removed_file_leaves_the_list_and_a_users_file_of_its_name_is_then_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in ["a.csv", "b.csv"] {
            std::fs::write(d.join(name), "report").unwrap();
        }
        record(d, ["a.csv".to_string(), "b.csv".to_string()]).unwrap();
        let removed = remove_listed(d, |n| n == "b.csv");
        assert_eq!(removed, vec![d.join("b.csv")]);
        assert!(d.join("a.csv").is_file() && !d.join("b.csv").exists());
        assert_eq!(listed(d).unwrap(), vec!["a.csv".to_string()]);
        std::fs::write(d.join("b.csv"), "mine").unwrap();
        let csv = |n: &str| n.ends_with(".csv");
        assert!(check_ours(d, csv, |_: &Path| false).is_err());
        assert!(remove_listed(d, |_| true)
            .iter()
            .all(|p| p != &d.join("b.csv")));
        assert_eq!(std::fs::read_to_string(d.join("b.csv")).unwrap(), "mine");
        // A listed file removed by hand is forgotten; a listed path outside the folder is
        // never touched.
        let outside = dir.path().parent().unwrap().join("outside-of-report.csv");
        std::fs::write(d.join("c.csv"), "report").unwrap();
        record(
            d,
            ["c.csv".to_string(), "../outside-of-report.csv".to_string()],
        )
        .unwrap();
        std::fs::remove_file(d.join("c.csv")).unwrap();
        let existed = outside.exists();
        assert!(remove_listed(d, |_| true).is_empty());
        assert_eq!(outside.exists(), existed);
        assert!(!listed(d).unwrap().contains(&"c.csv".to_string()));
        std::fs::write(d.join("c.csv"), "mine").unwrap();
        assert!(check_ours(d, csv, |_: &Path| false).is_err());
    }
}
