//! A resume never loses what the run had: a finished run is left alone, a resume that fails
//! changes nothing, the checkpoint before the newest is kept and used when the newest is
//! damaged, and impossible checkpoint metadata is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use etaprobe::data::DatasetKind;
use etaprobe::rundir::checkpoint;

use crate::common::{etaprobe, fake, logreg_fm, ok, s};

/// Every file of a run directory and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// A logreg run on 64 generated images, batch 16 (4 steps an epoch).
fn args<'a>(data: &'a Path, out: &'a Path, more: &[&'a str]) -> Vec<&'a str> {
    let mut a = [
        &logreg_fm(data)[..],
        &[
            "--lr",
            "0.05",
            "--batch-size",
            "16",
            "--seed",
            "3",
            "--out",
            s(out),
        ],
    ]
    .concat();
    a.extend_from_slice(more);
    a
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn resuming_a_finished_run_changes_nothing_and_succeeds() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    // Finished on an epoch boundary, and stopped by --max-steps inside an epoch.
    for (name, limit) in [
        ("boundary", vec!["--epochs", "2"]),
        ("inside", vec!["--epochs", "2", "--max-steps", "6"]),
    ] {
        let out = runs.path().join(name);
        ok(&etaprobe(&args(&data, &out, &limit)));
        let before = snapshot(&out);
        let ckpt = out.join("checkpoint.safetensors");
        let mut again = args(&data, &out, &limit);
        again.extend(["--resume", s(&ckpt)]);
        let o = etaprobe(&again);
        ok(&o);
        assert!(
            stderr(&o).contains("already finished"),
            "{name}: {}",
            stderr(&o)
        );
        assert!(snapshot(&out) == before, "{name}: the finished run changed");
        // Asking for more continues it.
        let mut longer = args(&data, &out, &["--epochs", "3"]);
        longer.extend(["--resume", s(&ckpt)]);
        ok(&etaprobe(&longer));
        let epochs = std::fs::read_to_string(out.join("epochs.csv")).unwrap();
        assert_eq!(epochs.lines().count(), 1 + 3, "{name}: {epochs}");
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        assert_eq!(run["totals"]["steps"], 12, "{name}: {run}");
    }
}

/// A run killed between its final checkpoint and `run.json`: resumed, it has no step left,
/// and its `run.json` reports the run's last and best evaluations from its records.
#[test]
fn a_run_resumed_at_its_very_end_reports_its_recorded_results() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let two = ["--epochs", "2"];
    ok(&etaprobe(&args(&data, &out, &two)));
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap()
    };
    let before = read("run.json");
    std::fs::remove_file(out.join("run.json")).unwrap();
    let mut again = args(&data, &out, &two);
    again.extend(["--resume", s(&out)]);
    ok(&etaprobe(&again));
    let after = read("run.json");
    for key in [
        "final_test_acc",
        "final_train_loss",
        "best_test_acc",
        "final_test_loss",
    ] {
        assert!(after["totals"][key].is_number(), "{key}: {after}");
        assert_eq!(after["totals"][key], before["totals"][key], "{key}");
    }
}

#[test]
fn a_resume_that_fails_changes_no_record() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let first = ["--epochs", "3", "--max-steps", "6", "--schedule", "secant"];
    ok(&etaprobe(&args(&data, &out, &first)));
    let ckpt = out.join("checkpoint.safetensors");
    let resume = |out: &Path| {
        let mut a = args(&data, out, &["--epochs", "3", "--schedule", "secant"]);
        a.extend(["--resume", s(&ckpt)]);
        etaprobe(&a)
    };
    // A malformed steps.csv: epochs.csv, rule.csv and run.json must stay as they were.
    let steps = std::fs::read_to_string(out.join("steps.csv")).unwrap();
    let broken: String = steps.replacen("\n2,", "\nxx,", 1);
    assert_ne!(broken, steps);
    std::fs::write(out.join("steps.csv"), &broken).unwrap();
    let before = snapshot(&out);
    let o = resume(&out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("steps.csv line 3"), "{}", stderr(&o));
    assert!(snapshot(&out) == before, "a failed resume changed the run");
    std::fs::write(out.join("steps.csv"), &steps).unwrap();
    // Rows out of order before the checkpoint (step 6): resuming would keep the disorder.
    // (A step may have no row, when a rule discarded it after a blow-up.)
    let disordered = format!("{steps}{}\n", steps.lines().nth(2).unwrap());
    std::fs::write(out.join("steps.csv"), &disordered).unwrap();
    let before = snapshot(&out);
    let o = resume(&out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("step 2 comes after step 6"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("Restore the file"), "{}", stderr(&o));
    assert!(snapshot(&out) == before, "a failed resume changed the run");
    std::fs::write(out.join("steps.csv"), &steps).unwrap();
    // Rows lost from the start of steps.csv (metrics.jsonl still has them), or a record
    // file gone beside the others: resuming would keep the hole.
    let mut lines: Vec<&str> = steps.lines().collect();
    lines.drain(1..3);
    let cut = format!("{}\n", lines.join("\n"));
    for (file, damage, says) in [
        (
            "steps.csv",
            Some(cut.as_str()),
            "steps.csv has steps 3–6 (4 rows) up to the checkpoint",
        ),
        (
            "epochs.csv",
            None,
            "epochs.csv missing beside the run's other records",
        ),
    ] {
        let path = out.join(file);
        let kept = std::fs::read(&path).unwrap();
        match damage {
            Some(text) => std::fs::write(&path, text).unwrap(),
            None => std::fs::remove_file(&path).unwrap(),
        }
        let before = snapshot(&out);
        let o = resume(&out);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
        assert!(snapshot(&out) == before, "a failed resume changed the run");
        std::fs::write(&path, kept).unwrap();
    }
    // A malformed rule.csv line, the same.
    let rule = std::fs::read_to_string(out.join("rule.csv")).unwrap();
    std::fs::write(out.join("rule.csv"), format!("{rule}oops,1\n4,2\n")).unwrap();
    let before = snapshot(&out);
    let o = resume(&out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("rule.csv line"), "{}", stderr(&o));
    assert!(snapshot(&out) == before, "a failed resume changed the run");
    std::fs::write(out.join("rule.csv"), &rule).unwrap();
    // A state file that is gone, with no earlier checkpoint to fall back to.
    let previous = out.join("checkpoint.previous.safetensors");
    let kept_previous = std::fs::read(&previous).unwrap();
    std::fs::remove_file(&previous).unwrap();
    let meta = checkpoint::load_metadata(&ckpt).unwrap();
    let state = out.join(&meta["etaprobe.state_file"]);
    let kept = std::fs::read(&state).unwrap();
    std::fs::remove_file(&state).unwrap();
    let before = snapshot(&out);
    let o = resume(&out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("state file"), "{}", stderr(&o));
    assert!(snapshot(&out) == before, "a failed resume changed the run");
    std::fs::write(&state, kept).unwrap();
    std::fs::write(&previous, kept_previous).unwrap();
    ok(&resume(&out));
}

#[test]
fn the_checkpoint_before_the_newest_is_kept_and_used_when_the_newest_is_damaged() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let straight = runs.path().join("straight");
    let full = [
        "--epochs",
        "3",
        "--schedule",
        "auto",
        "--optimizer",
        "sgd",
        "--checkpoint-every",
        "3",
    ];
    ok(&etaprobe(&args(&data, &straight, &full)));
    // The newest checkpoint is the final one (step 12), the one before it step 12's
    // periodic one; the state files they name are there, and no other.
    let meta = |p: &Path| checkpoint::load_metadata(p).unwrap();
    let step = |p: &Path| meta(p)["step"].clone();
    let (newest, previous) = (
        straight.join("checkpoint.safetensors"),
        straight.join("checkpoint.previous.safetensors"),
    );
    assert_eq!(step(&newest), "12");
    assert_eq!(step(&previous), "12");
    assert_ne!(meta(&newest)["epoch"], meta(&previous)["epoch"]);
    let mut named = vec![
        meta(&newest)["etaprobe.state_file"].clone(),
        meta(&previous)["etaprobe.state_file"].clone(),
    ];
    named.sort();
    named.dedup();
    let mut states: Vec<String> = std::fs::read_dir(&straight)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("checkpoint.state-"))
        .collect();
    states.sort();
    assert_eq!(states, named);

    // A run stopped at step 8: its checkpoints are of steps 8 and 6. Damage the newest.
    let out = runs.path().join("damaged");
    let mut stopped = args(&data, &out, &full);
    stopped.extend(["--max-steps", "8"]);
    ok(&etaprobe(&stopped));
    let ckpt = out.join("checkpoint.safetensors");
    assert_eq!(step(&out.join("checkpoint.previous.safetensors")), "6");
    let mut bytes = std::fs::read(&ckpt).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x40;
    std::fs::write(&ckpt, bytes).unwrap();
    // One set aside by an earlier resume stays.
    let earlier = out.join("checkpoint.damaged.safetensors");
    std::fs::write(&earlier, "earlier").unwrap();
    let mut resume = args(&data, &out, &full);
    resume.extend(["--resume", s(&ckpt)]);
    let o = etaprobe(&resume);
    ok(&o);
    let err = stderr(&o);
    assert!(err.contains("damaged") && err.contains("(step 6)"), "{err}");
    assert_eq!(std::fs::read_to_string(&earlier).unwrap(), "earlier");
    assert!(out.join("checkpoint.damaged-2.safetensors").exists());
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
    assert_eq!(read(&straight, "steps.csv"), read(&out, "steps.csv"));
    assert_eq!(read(&straight, "rule.csv"), read(&out, "rule.csv"));
}

/// A metadata key set to a value, or removed.
type Change<'a> = (&'a str, Option<&'a str>);

#[test]
fn impossible_checkpoint_metadata_is_refused_and_changes_nothing() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    ok(&etaprobe(&args(
        &data,
        &out,
        &["--epochs", "3", "--max-steps", "5"],
    )));
    let ckpt = out.join("checkpoint.safetensors");
    let original = checkpoint::load(&ckpt).unwrap();
    let tensors: Vec<(String, Vec<usize>, &[f32])> = original
        .tensors
        .iter()
        .map(|(n, sh, d)| (n.clone(), sh.clone(), d.as_slice()))
        .collect();
    let sums = r#"{"loss":1.0,"correct":1.0,"samples":16,"batches":1,"consumed":1}"#;
    let huge = usize::MAX.to_string();
    let too_many = sums.replace("\"samples\":16", &format!("\"samples\":{huge}"));
    let right_more_than_seen = sums.replace("\"correct\":1.0", "\"correct\":17.0");
    let negative_loss = sums.replace("\"loss\":1.0", "\"loss\":-1.0");
    let discarded = format!("{{\"skipped\":{huge},\"undone\":0,\"restarts\":0}}");
    let cases: [(&[Change], &str); 9] = [
        // Consistent position, but past the run's --epochs.
        (
            &[("epoch", Some("99")), ("step", Some("397"))],
            "past --epochs 3",
        ),
        (&[("step", Some("18446744073709551615"))], "is not epoch"),
        (
            &[(
                "etaprobe.epoch_sums",
                Some(&sums.replace("\"batches\":1", "\"batches\":7")),
            )],
            "impossible",
        ),
        (&[("etaprobe.options", None)], "does not record the options"),
        (&[("etaprobe.seconds", Some("-5"))], "impossible"),
        // Sums no epoch can reach (the first panicked on its next step in a debug build).
        (&[("etaprobe.epoch_sums", Some(&too_many))], "impossible"),
        (
            &[("etaprobe.epoch_sums", Some(&right_more_than_seen))],
            "impossible",
        ),
        (
            &[("etaprobe.epoch_sums", Some(&negative_loss))],
            "impossible",
        ),
        (
            &[("etaprobe.discarded", Some(&discarded))],
            "more discarded steps",
        ),
    ];
    for (changes, message) in cases {
        let mut meta = original.metadata.clone();
        for (key, value) in changes {
            match value {
                Some(v) => meta.insert(key.to_string(), v.to_string()),
                None => meta.remove(*key),
            };
        }
        checkpoint::save(&ckpt, &tensors, meta).unwrap();
        let before = snapshot(&out);
        let mut resume = args(&data, &out, &["--epochs", "3"]);
        resume.extend(["--resume", s(&ckpt)]);
        let o = etaprobe(&resume);
        assert_eq!(o.status.code(), Some(2), "{changes:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{changes:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert!(
            snapshot(&out) == before,
            "{changes:?}: the refused resume changed the run"
        );
    }
    // A flipped bit in the weights is caught by their checksum.
    let mut meta = original.metadata.clone();
    meta.remove("etaprobe.data_md5");
    checkpoint::save(&ckpt, &tensors, meta).unwrap();
    let mut bytes = std::fs::read(&ckpt).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&ckpt, &bytes).unwrap();
    std::fs::remove_file(out.join("checkpoint.previous.safetensors")).ok();
    let mut resume = args(&data, &out, &["--epochs", "3"]);
    resume.extend(["--resume", s(&ckpt)]);
    let o = etaprobe(&resume);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("damaged"), "{}", stderr(&o));
}

/// A crash right after the checkpoint of the run's last step, before that epoch's
/// evaluation: the resume has no step left but still owes the epoch's records.
#[test]
fn a_crash_after_the_last_steps_checkpoint_resumes_into_the_last_evaluation() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let more = ["--epochs", "2", "--checkpoint-every", "4"];
    let straight = runs.path().join("straight");
    ok(&etaprobe(&args(&data, &straight, &more)));
    let out = runs.path().join("crashed");
    let crashed = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(args(&data, &out, &more))
        .env_remove("ETAPROBE_DATA")
        .env("ETAPROBE_CRASH_AT", "checkpoint-committed@2")
        .output()
        .unwrap();
    assert!(!crashed.status.success(), "{}", stderr(&crashed));
    let epochs = |p: &Path| {
        std::fs::read_to_string(p.join("epochs.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        epochs(&out).len(),
        2,
        "the crash came before epoch 2's record"
    );
    let mut resume = args(&data, &out, &more);
    let ckpt = out.join("checkpoint.safetensors");
    resume.extend(["--resume", s(&ckpt)]);
    ok(&etaprobe(&resume));
    assert_eq!(epochs(&straight), epochs(&out));
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
    assert_eq!(read(&straight, "steps.csv"), read(&out, "steps.csv"));
}

#[test]
fn a_resume_with_nothing_to_resume_says_so_before_looking_for_data() {
    // No --data and no ETAPROBE_DATA: the folder is judged first, not the default data set.
    let dir = tempfile::tempdir().unwrap();
    let refused = |path: &Path, says: &str| {
        let out = etaprobe(&["train", "--resume", s(path)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("data set not found"), "{err}");
    };
    refused(
        &dir.path().join("missing"),
        "no such run directory or checkpoint file",
    );
    refused(
        dir.path(),
        "not a run directory (it holds neither config.toml nor",
    );
    // A run that stopped before its first checkpoint: its configuration and nothing else.
    std::fs::write(dir.path().join("config.toml"), "epochs = 1\n").unwrap();
    refused(dir.path(), "the run there has no checkpoint");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("config.toml")).unwrap(),
        "epochs = 1\n"
    );
    // A checkpoint without the options: defaults would stand in for them.
    std::fs::remove_file(dir.path().join("config.toml")).unwrap();
    std::fs::write(dir.path().join("checkpoint.safetensors"), "x").unwrap();
    refused(
        dir.path(),
        "the run there has no config.toml, which holds its options",
    );
    // Emptied, the same.
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    refused(
        dir.path(),
        "config.toml is empty, though it holds the run's options",
    );
}

/// A folder holding a run's files but nothing to resume from (a user's `rule.csv`) is not
/// sent to `--resume`, which would refuse it in turn.
#[test]
fn a_folder_with_a_runs_files_and_no_checkpoint_is_not_sent_to_resume() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("rule.csv"), "mine").unwrap();
    let o = etaprobe(&args(&data, &out, &["--epochs", "1"]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds a run's files but no checkpoint and config.toml"),
        "{err}"
    );
    assert!(!err.contains("--resume"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("rule.csv")).unwrap(),
        "mine"
    );
}

/// A run continued on other data (`--data` moved to a folder holding different images) is
/// refused, and nothing changes; moved to a copy of the same data, it continues.
#[test]
fn a_resume_on_other_data_is_refused() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let other_dir = tempfile::tempdir().unwrap();
    let other = etaprobe::data::synth::write_fake_dataset(
        DatasetKind::FashionMnist,
        other_dir.path(),
        64,
        16,
        8,
    )
    .unwrap();
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    ok(&etaprobe(&args(
        &data,
        &out,
        &["--epochs", "2", "--max-steps", "5"],
    )));
    let before = snapshot(&out);
    let mut again = args(&other, &out, &["--epochs", "2"]);
    again.extend(["--resume", s(&out)]);
    let o = etaprobe(&again);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the run trained on other data"),
        "{}",
        stderr(&o)
    );
    assert!(snapshot(&out) == before, "a refused resume changed the run");
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = etaprobe::data::synth::write_fake_dataset(
        DatasetKind::FashionMnist,
        copy_dir.path(),
        64,
        16,
        7,
    )
    .unwrap();
    let mut same = args(&copy, &out, &["--epochs", "2"]);
    same.extend(["--resume", s(&out)]);
    ok(&etaprobe(&same));
}

/// A resume refused for its records (here a `steps.csv` that lost rows) after falling back
/// from a damaged newest checkpoint changes nothing: the damaged one is set aside only by a
/// resume that goes ahead.
#[test]
fn a_resume_refused_after_falling_back_leaves_the_damaged_checkpoint_in_place() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    // Momentum: its checkpoints have state files, which a refused resume must not remove.
    let full = [
        "--epochs",
        "3",
        "--checkpoint-every",
        "3",
        "--optimizer",
        "momentum",
    ];
    let mut stopped = args(&data, &out, &full);
    stopped.extend(["--max-steps", "8"]);
    ok(&etaprobe(&stopped));
    // Cut short, so that even its metadata (which names its state file) is unreadable.
    let ckpt = out.join("checkpoint.safetensors");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..100]).unwrap();
    let steps = out.join("steps.csv");
    let text = std::fs::read_to_string(&steps).unwrap();
    let kept: Vec<&str> = text.lines().take(3).collect();
    std::fs::write(&steps, kept.join("\n") + "\n").unwrap();
    let before = snapshot(&out);
    assert!(before
        .keys()
        .any(|p| p.to_string_lossy().contains("checkpoint.state-")));
    let mut resume = args(&data, &out, &full);
    resume.extend(["--resume", s(&ckpt)]);
    let o = etaprobe(&resume);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("steps.csv"), "{}", stderr(&o));
    assert!(
        snapshot(&out) == before,
        "the refused resume changed the run"
    );
    assert!(!out.join("checkpoint.damaged.safetensors").exists());
    // Continued into another folder, the same records are refused before any is copied.
    let other = runs.path().join("other");
    let mut elsewhere = args(&data, &other, &full);
    elsewhere.extend(["--resume", s(&ckpt)]);
    let o = etaprobe(&elsewhere);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        snapshot(&out) == before,
        "the refused resume changed the run"
    );
    assert!(
        !other.exists() || snapshot(&other).is_empty(),
        "the refused resume left files in {}",
        other.display()
    );
}

/// Links and odd files under a run file's name: the run never writes through a link into
/// a file elsewhere, reads no device, and refuses a directory before it changes anything;
/// `--overwrite` leaves a user's own `checkpoint.*` files alone.
#[cfg(unix)]
#[test]
fn a_run_never_writes_through_links_or_reads_odd_files() {
    use std::os::unix::fs::symlink;
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let elsewhere = runs.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let full = ["--epochs", "2", "--checkpoint-every", "3"];

    // --overwrite over records that are links to the user's files.
    let out = runs.path().join("linked");
    ok(&etaprobe(&args(&data, &out, &full)));
    let precious = elsewhere.join("precious.txt");
    std::fs::write(&precious, "precious").unwrap();
    for name in ["steps.csv", "epochs.csv", "metrics.jsonl"] {
        std::fs::remove_file(out.join(name)).unwrap();
        symlink(&precious, out.join(name)).unwrap();
    }
    let mine = out.join("checkpoint.best.safetensors");
    std::fs::write(&mine, "mine").unwrap();
    let mut again = args(&data, &out, &full);
    again.push("--overwrite");
    ok(&etaprobe(&again));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious");
    assert!(!out
        .join("steps.csv")
        .symlink_metadata()
        .unwrap()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine");

    // A dangling link where a damaged checkpoint would be set aside.
    let out = runs.path().join("dangling");
    let mut stopped = args(&data, &out, &full);
    stopped.extend(["--max-steps", "5"]);
    ok(&etaprobe(&stopped));
    let ckpt = out.join("checkpoint.safetensors");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..100]).unwrap();
    let target = elsewhere.join("nothing-here");
    symlink(&target, out.join("checkpoint.damaged.safetensors")).unwrap();
    let mut resume = args(&data, &out, &full);
    resume.extend(["--resume", s(&ckpt)]);
    ok(&etaprobe(&resume));
    assert!(
        !target.exists(),
        "the damaged checkpoint was copied out of the run"
    );
    assert!(out.join("checkpoint.damaged-2.safetensors").is_file());

    // A directory or a device under a run file's name: refused before anything changes.
    for (name, odd) in [
        ("run.json", "a directory"),
        ("loss.png", "a directory"),
        ("steps.csv", "a device"),
    ] {
        let out = runs.path().join(format!("odd-{name}"));
        let mut stopped = args(&data, &out, &full);
        stopped.extend(["--max-steps", "5"]);
        ok(&etaprobe(&stopped));
        let path = out.join(name);
        std::fs::remove_file(&path).unwrap();
        match odd {
            "a directory" => std::fs::create_dir(&path).unwrap(),
            _ => symlink("/dev/zero", &path).unwrap(),
        }
        let before = snapshot(&out);
        let ckpt = out.join("checkpoint.safetensors");
        let mut resume = args(&data, &out, &full);
        resume.extend(["--resume", s(&ckpt)]);
        let o = etaprobe(&resume);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(odd) && stderr(&o).contains(name),
            "{name}: {}",
            stderr(&o)
        );
        assert!(
            snapshot(&out) == before,
            "{name}: the refused resume changed the run"
        );
    }
}

/// A FIFO where a run reads a file is refused at once, never waited on: a checkpoint
/// resumed into another folder, and a lock (taken over as stale).
#[cfg(unix)]
#[test]
fn a_fifo_in_a_run_directory_is_refused_not_waited_on() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let full = ["--epochs", "2", "--checkpoint-every", "3"];
    let mkfifo = |p: &Path| {
        let made = std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo {}", p.display());
    };
    // Runs the command, killing it (and failing) if it has not ended in 60 s.
    let bounded = |a: &[&str]| -> std::process::Output {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
            .args(a)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let (done, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(child.wait_with_output().unwrap()));
        match wait.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(o) => o,
            Err(_) => {
                let kill = ["-9", &pid.to_string()].map(String::from);
                let _ = std::process::Command::new("kill").args(kill).status();
                panic!("{a:?} was still waiting after 60 s");
            }
        }
    };
    let out = runs.path().join("run");
    let mut stopped = args(&data, &out, &full);
    stopped.extend(["--max-steps", "5"]);
    ok(&etaprobe(&stopped));
    // The lock: a FIFO there is no live run's, so it is taken over.
    mkfifo(&out.join(".etaprobe.lock"));
    let ckpt = out.join("checkpoint.safetensors");
    let mut resume = args(&data, &out, &full);
    resume.extend(["--resume", s(&ckpt), "--max-steps", "6"]);
    ok(&bounded(&resume));
    // The checkpoint (and the one before it), resumed into another folder.
    for name in ["checkpoint.safetensors", "checkpoint.previous.safetensors"] {
        std::fs::remove_file(out.join(name)).unwrap();
        mkfifo(&out.join(name));
    }
    let other = runs.path().join("other");
    let mut elsewhere = args(&data, &other, &full);
    elsewhere.extend(["--resume", s(&ckpt)]);
    let o = bounded(&elsewhere);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("a FIFO"), "{}", stderr(&o));
}

/// Records kept gzipped (`FILE.gz` in place of `FILE`, as `scripts/keep-records.sh` leaves
/// them) are read by the resume like the plain files: the resumed run's records are those
/// of a run never stopped, not a history that starts at the checkpoint.
#[test]
fn a_run_whose_records_were_gzipped_resumes_with_its_whole_history() {
    use std::io::Write;
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let full = [
        "--epochs",
        "3",
        "--schedule",
        "secant",
        "--eval-every",
        "2",
        "--checkpoint-every",
        "3",
    ];
    let straight = runs.path().join("straight");
    ok(&etaprobe(&args(&data, &straight, &full)));
    let out = runs.path().join("kept");
    let mut stopped = args(&data, &out, &full);
    stopped.extend(["--max-steps", "7"]);
    ok(&etaprobe(&stopped));
    let names = [
        "epochs.csv",
        "steps.csv",
        "metrics.jsonl",
        "rule.csv",
        "evals.csv",
    ];
    for name in names {
        let plain = out.join(name);
        let bytes = std::fs::read(&plain).unwrap();
        let file = std::fs::File::create(out.join(format!("{name}.gz"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        gz.write_all(&bytes).unwrap();
        gz.finish().unwrap();
        std::fs::remove_file(&plain).unwrap();
    }
    let ckpt = out.join("checkpoint.safetensors");
    let mut resume = args(&data, &out, &full);
    resume.extend(["--resume", s(&ckpt)]);
    ok(&etaprobe(&resume));
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
    for name in ["steps.csv", "rule.csv", "evals.csv"] {
        assert_eq!(read(&straight, name), read(&out, name), "{name}");
    }
    let epochs = |p: &Path| read(p, "epochs.csv").lines().count();
    assert_eq!(epochs(&straight), epochs(&out));
}

/// Two runs started into one folder: the one that reaches it second, after the other has
/// written its run there (here: finished it), is refused, and the other's files stay as
/// they are. (The folder was empty when both looked at it before loading their data.)
#[test]
fn a_run_that_reaches_its_folder_after_another_is_refused() {
    if !cfg!(debug_assertions) {
        eprintln!("ETAPROBE_SLOW_RUN_DIR is a debug build's: skipping");
        return;
    }
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let slow = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(args(&data, &out, &["--epochs", "1"]))
        .env_remove("ETAPROBE_DATA")
        .env_remove("ETAPROBE_ADAPTER")
        .env("ETAPROBE_SLOW_RUN_DIR", "0@30")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    ok(&etaprobe(&args(&data, &out, &["--epochs", "1"])));
    let finished = snapshot(&out);
    let o = slow.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already holds a run"), "{}", stderr(&o));
    assert_eq!(snapshot(&out), finished, "the first run's files changed");
}
