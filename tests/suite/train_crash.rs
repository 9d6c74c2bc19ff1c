//! A crash at any point of a checkpoint loses nothing: the run resumes from the last
//! committed checkpoint and writes the same records as a run never interrupted. The crash
//! is injected with `ETAPROBE_CRASH_AT` (debug builds), which aborts the process at a named
//! point of the second checkpoint: after its state file is written, after the checkpoint it
//! replaces is kept as the previous one (the weights file, the commit, not yet), and after
//! the commit (before the cleanup); and right after the first one's commit, whose step also
//! has an evaluation (`evals.csv` must not lose it). A crash inside each atomic write leaves a temporary,
//! planted here too.

use std::path::Path;

use etaprobe::data::DatasetKind;

use crate::common::{fake, ok, s};

fn train(args: &[&str], crash: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"));
    command
        .args(args)
        .env_remove("ETAPROBE_DATA")
        .env_remove("ETAPROBE_ADAPTER");
    match crash {
        Some(point) => command.env("ETAPROBE_CRASH_AT", point),
        None => command.env_remove("ETAPROBE_CRASH_AT"),
    };
    command.output().expect("run etaprobe")
}

#[test]
fn a_crash_inside_a_checkpoint_resumes_as_if_none_happened() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    for (schedule, optimizer) in [
        ("basic", "sgd"),
        ("basic", "momentum"),
        ("basic", "adam"),
        ("first-order", "sgd"),
        ("auto", "sgd"),
        ("dadapt", "sgd"),
    ] {
        let case = format!("{schedule}-{optimizer}");
        let common = |out: &Path| -> Vec<String> {
            [
                "train",
                "--model",
                "logreg",
                "--dataset",
                "fashion-mnist",
                "--data",
                s(&data),
                "--lr",
                "0.05",
                "--batch-size",
                "16",
                "--epochs",
                "2",
                "--seed",
                "5",
                "--checkpoint-every",
                "3",
                // An evaluation on every checkpoint's step: a crash after the commit must
                // not lose it.
                "--eval-every",
                "3",
                "--probe-every",
                "2",
                "--schedule",
                schedule,
                "--optimizer",
                optimizer,
                "--out",
                s(out),
            ]
            .map(String::from)
            .to_vec()
        };
        let straight = runs.path().join(format!("{case}-straight"));
        let a = common(&straight);
        ok(&train(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            None,
        ));
        let steps = |p: &Path| std::fs::read_to_string(p.join("steps.csv")).unwrap();
        let rule = |p: &Path| std::fs::read_to_string(p.join("rule.csv")).ok();
        let evals = |p: &Path| std::fs::read_to_string(p.join("evals.csv")).unwrap();
        // The second checkpoint (step 4, an epoch's end), and the first right after its
        // commit (step 3, which also has an evaluation).
        for point in [
            "checkpoint-state-written@2",
            "checkpoint-previous-kept@2",
            "checkpoint-committed@2",
            "checkpoint-committed@1",
        ] {
            let dir = runs.path().join(format!("{case}-{point}"));
            let a = common(&dir);
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let crashed = train(&a, Some(point));
            assert!(!crashed.status.success(), "{case} {point}: did not crash");
            assert!(
                String::from_utf8_lossy(&crashed.stderr).contains("crashing at"),
                "{case} {point}: {}",
                String::from_utf8_lossy(&crashed.stderr)
            );
            // Debris a crash inside a write can also leave: a temporary and an orphan state.
            std::fs::write(dir.join(".checkpoint.safetensors.Ab12Cd.tmp"), b"partial").unwrap();
            std::fs::write(dir.join("checkpoint.state-000000099.safetensors"), b"x").unwrap();
            let ckpt = dir.join("checkpoint.safetensors");
            let mut resume = a.clone();
            resume.extend(["--resume", s(&ckpt)]);
            let resumed = train(&resume, None);
            ok(&resumed);
            assert!(
                String::from_utf8_lossy(&resumed.stderr).contains("stale lock"),
                "{case} {point}: the crashed run's lock was not reported"
            );
            assert_eq!(steps(&straight), steps(&dir), "{case} {point}: steps.csv");
            assert_eq!(rule(&straight), rule(&dir), "{case} {point}: rule.csv");
            assert_eq!(evals(&straight), evals(&dir), "{case} {point}: evals.csv");
            let names: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(
                !names
                    .iter()
                    .any(|n| n.contains(".tmp") || n.contains("000000099")),
                "{case} {point}: debris left: {names:?}"
            );
            // At most the state files of the newest checkpoint and the one before it.
            let states = names
                .iter()
                .filter(|n| n.starts_with("checkpoint.state-"))
                .count();
            assert!(states <= 2, "{case} {point}: {names:?}");
        }
    }
}

/// A run that --max-steps ends inside an epoch, killed after its checkpoint on that last
/// step (before the epoch's record and the run's totals): resumed, it writes what it owed
/// instead of taking the checkpoint for the finished run's.
#[test]
fn a_crash_at_the_last_step_inside_an_epoch_is_finished_by_the_resume() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    // 4 steps an epoch: step 6 is inside the second; checkpoints at 4 (the epoch's end)
    // and 6.
    let args = |out: &Path| -> Vec<String> {
        [
            "train",
            "--model",
            "logreg",
            "--dataset",
            "fashion-mnist",
            "--data",
            s(&data),
            "--batch-size",
            "16",
            "--epochs",
            "3",
            "--max-steps",
            "6",
            "--checkpoint-every",
            "6",
            "--schedule",
            "secant",
            "--out",
            s(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let straight = runs.path().join("straight");
    let a = args(&straight);
    ok(&train(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    ));
    let dir = runs.path().join("crashed");
    let a = args(&dir);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let crashed = train(&a, Some("checkpoint-committed@2"));
    assert!(!crashed.status.success(), "did not crash");
    let epochs = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p.join("epochs.csv"))
            .unwrap()
            .lines()
            .map(|l| l.split(',').take(6).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(
        epochs(&dir).len(),
        2,
        "the crash came before the second row"
    );
    let mut resume = a.clone();
    let ckpt = dir.join("checkpoint.safetensors");
    resume.extend(["--resume", s(&ckpt)]);
    let resumed = train(&resume, None);
    ok(&resumed);
    assert!(
        !String::from_utf8_lossy(&resumed.stderr).contains("already finished"),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(epochs(&dir), epochs(&straight));
    let steps = |p: &Path| std::fs::read_to_string(p.join("steps.csv")).unwrap();
    assert_eq!(steps(&dir), steps(&straight));
    let totals = |p: &Path| -> serde_json::Value {
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p.join("run.json")).unwrap()).unwrap();
        run["totals"]["steps"].clone()
    };
    assert_eq!(totals(&dir), totals(&straight));
    // Resumed again: now it is the finished run's, and nothing changes.
    let again = train(&resume, None);
    ok(&again);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already finished"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(epochs(&dir), epochs(&straight));
}
