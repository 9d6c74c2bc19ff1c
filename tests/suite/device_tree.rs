//! `scripts/device-tree.sh` (docs/gpu.md): `shrink` takes docs/runs out of the index and
//! the working tree for a device call, without committing anything; `restore` gives back
//! exactly what was there. Run on a throwaway git repository.

use std::path::Path;
use std::process::{Command, Output};

fn git(repo: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn device_tree(repo: &Path, verb: &str) -> Output {
    Command::new("bash")
        .arg(repo.join("scripts/device-tree.sh"))
        .arg(verb)
        .output()
        .expect("bash runs")
}

/// A repository with the script, a kept record under docs/runs and another file.
fn repo(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join("scripts")).unwrap();
    std::fs::create_dir_all(repo.join("docs/runs/task/cell")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/device-tree.sh"),
        repo.join("scripts/device-tree.sh"),
    )
    .unwrap();
    std::fs::write(repo.join("docs/runs/task/cell/run.json"), "{}\n").unwrap();
    std::fs::write(repo.join("docs/notes.md"), "notes\n").unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "start"]);
    repo
}

#[test]
fn shrink_sets_docs_runs_aside_and_restore_gives_back_the_same_tree_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());
    let aside = dir.path().join("docs-runs-aside");

    let out = device_tree(&repo, "shrink");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!repo.join("docs/runs").exists());
    assert!(aside.join("task/cell/run.json").is_file());
    // Neither tracked nor untracked-and-unignored: nothing under docs/runs travels.
    let files = stdout(&git(
        &repo,
        &["ls-files", "--cached", "--others", "--exclude-standard"],
    ));
    assert!(!files.contains("docs/runs"), "{files}");
    assert!(files.contains("docs/notes.md"), "{files}");
    // Nothing was committed.
    assert_eq!(
        stdout(&git(&repo, &["rev-list", "--count", "HEAD"])).trim(),
        "1"
    );

    // A second shrink refuses: the records are already aside.
    assert_eq!(device_tree(&repo, "shrink").status.code(), Some(2));

    let out = device_tree(&repo, "restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(repo.join("docs/runs/task/cell/run.json").is_file());
    assert!(!aside.exists());
    assert_eq!(stdout(&git(&repo, &["status", "--porcelain"])), "");
    let exclude = std::fs::read_to_string(repo.join(".git/info/exclude")).unwrap_or_default();
    assert!(!exclude.lines().any(|l| l == "/docs/runs/"), "{exclude}");

    // Nothing to restore now.
    assert_eq!(device_tree(&repo, "restore").status.code(), Some(2));
}

#[test]
fn shrink_refuses_staged_changes_and_uncommitted_records() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path());

    std::fs::write(repo.join("docs/notes.md"), "changed\n").unwrap();
    git(&repo, &["add", "docs/notes.md"]);
    let out = device_tree(&repo, "shrink");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("staged"));
    git(&repo, &["commit", "-q", "-m", "notes"]);

    std::fs::write(repo.join("docs/runs/task/cell/epochs.csv"), "epoch\n").unwrap();
    let out = device_tree(&repo, "shrink");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("commit it first"));
    // Refused: the tree is as it was.
    assert!(repo.join("docs/runs/task/cell/run.json").is_file());
    assert!(!dir.path().join("docs-runs-aside").exists());

    assert_eq!(device_tree(&repo, "bogus").status.code(), Some(2));
}
