//! `etaprobe train` determinism and resuming: the same seed, exact resume, refused changes.

use std::path::Path;

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, ok, s};

/// epochs.csv without the wall-time column.
fn epochs_without_time(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("epochs.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}
/// A run's `run.json`.
fn run_json(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap()
}

/// Runs `common` in `part` up to `--max-steps stop`, then resumes it from its checkpoint
/// to the end.
fn stop_and_resume(common: &[&str], part: &Path, stop: &str) {
    ok(&etaprobe(
        &[common, &["--out", s(part), "--max-steps", stop]].concat(),
    ));
    let ckpt = part.join("checkpoint.safetensors");
    ok(&etaprobe(&[common, &["--resume", s(&ckpt)]].concat()));
}

#[test]
fn the_same_seed_gives_the_same_epochs() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 96, 32);
    let runs = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for name in ["a", "b"] {
        let out = runs.path().join(name);
        ok(&etaprobe(&[
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
            "20",
            "--epochs",
            "2",
            "--seed",
            "5",
            "--out",
            s(&out),
        ]));
        for f in [
            "epochs.csv",
            "steps.csv",
            "run.json",
            "loss.png",
            "accuracy.png",
            "lr.png",
            "checkpoint.safetensors",
        ] {
            assert!(out.join(f).exists(), "{f} missing");
        }
        seen.push(epochs_without_time(&out));
    }
    assert_eq!(seen[0], seen[1]);
    // After the first epoch (which met every batch size once) steps only replay recorded
    // programs, and each step reads back a handful of scalars.
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs.path().join("a/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["totals"]["buffers_created_after_epoch_1"], 0, "{run}");
    assert!(
        run["totals"]["readback_bytes_per_step"].as_u64().unwrap() <= 64,
        "{run}"
    );
    assert_eq!(
        seen[0][0],
        "epoch,train_loss,train_acc,test_loss,test_acc,lr"
    );
    assert_eq!(seen[0].len(), 3);
}

#[test]
fn resuming_equals_an_uninterrupted_run() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 90, 30);
    let runs = tempfile::tempdir().unwrap();
    let full = runs.path().join("full");
    let part = runs.path().join("part");
    for (schedule, optimizer) in [
        ("basic", "sgd"),
        ("newton", "sgd"),
        ("first-order", "sgd"),
        ("newton", "momentum"),
        ("first-order", "adam"),
        ("secant", "momentum"),
        ("auto", "sgd"),
    ] {
        let common = [
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
            "3",
            "--seed",
            "3",
            "--schedule",
            schedule,
            "--optimizer",
            optimizer,
            // A step decay at the end of the epoch the first run stops inside.
            "--lr-milestones",
            "2",
            "--eval-every",
            "5",
            // auto probes back to w(t−1) at step 9, the first after the checkpoint: it
            // needs η(t−1) from the checkpoint.
            "--probe-every",
            "3",
        ];
        ok(&etaprobe(&[&common[..], &["--out", s(&full)]].concat()));
        // Stop inside the second epoch, resume with no step left (a no-op), then resume.
        ok(&etaprobe(
            &[&common[..], &["--out", s(&part), "--max-steps", "8"]].concat(),
        ));
        let first = run_json(&part);
        let ckpt = part.join("checkpoint.safetensors");
        ok(&etaprobe(
            &[&common[..], &["--resume", s(&ckpt), "--max-steps", "8"]].concat(),
        ));
        // A resume with nothing to do reads the records and writes none.
        assert_eq!(run_json(&part), first, "{schedule}");
        ok(&etaprobe(&[&common[..], &["--resume", s(&ckpt)]].concat()));
        // run.json describes the last sitting and keeps the earlier one whole (with its
        // configuration, which differs: --max-steps, --resume).
        let last = run_json(&part);
        assert_eq!(last["earlier_sittings"], serde_json::json!([first]));
        assert_eq!(last["resumed_from"]["step"], 8, "{schedule}");
        let absolute = std::path::absolute(&ckpt).unwrap();
        assert_eq!(last["resumed_from"]["checkpoint"], s(&absolute));
        assert!(first.get("resumed_from").is_none() && first.get("earlier_sittings").is_none());
        assert!(run_json(&full).get("earlier_sittings").is_none());
        let evals = |p: &Path| std::fs::read_to_string(p.join("evals.csv")).unwrap();
        assert_eq!(evals(&full), evals(&part), "{schedule}");
        assert_eq!(
            epochs_without_time(&full),
            epochs_without_time(&part),
            "{schedule}"
        );
        let steps = |p: &Path| std::fs::read_to_string(p.join("steps.csv")).unwrap();
        assert_eq!(steps(&full), steps(&part), "{schedule}");
        let rule = |p: &Path| std::fs::read_to_string(p.join("rule.csv")).ok();
        assert_eq!(rule(&full), rule(&part), "{schedule}");
        std::fs::remove_dir_all(&full).unwrap();
        std::fs::remove_dir_all(&part).unwrap();
    }
}

/// A run resumed just before a step whose update its rule undoes (a blow-up: back to the
/// weights before the previous update, which the checkpoint must keep), or just after
/// that undo (which owes the next batch), goes on exactly as the run that did not stop.
#[test]
fn resuming_just_before_an_undone_update_equals_an_uninterrupted_run() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 100, 25);
    let runs = tempfile::tempdir().unwrap();
    for schedule in ["secant", "auto"] {
        let (full, part) = (runs.path().join("full"), runs.path().join("part"));
        let common = [
            "train",
            "--model",
            "logreg",
            "--dataset",
            "fashion-mnist",
            "--data",
            s(&data),
            "--schedule",
            schedule,
            // Far too large: the loss blows up within the first steps.
            "--lr",
            "100",
            "--batch-size",
            "10",
            "--epochs",
            "2",
        ];
        ok(&etaprobe(&[&common[..], &["--out", s(&full)]].concat()));
        let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
        // The last blow-up after step 1, so that the stop comes after at least one step.
        let blow_up: usize = read(&full, "rule.csv")
            .lines()
            .filter(|l| l.ends_with(",blow-up") || l.contains(",blow-up,"))
            .filter_map(|l| l.split(',').next()?.parse().ok())
            .rfind(|&step| step > 1)
            .unwrap_or_else(|| panic!("{schedule}: no blow-up after step 1"));
        let undone = |p: &Path| {
            let run: serde_json::Value = serde_json::from_str(&read(p, "run.json")).unwrap();
            run["totals"]["undone_steps"].clone()
        };
        // Stopped just before the blow-up's step, and at it: then the checkpoint comes
        // after the undo, and owes the next batch.
        for stop in [blow_up - 1, blow_up] {
            let stop = stop.to_string();
            stop_and_resume(&common, &part, &stop);
            let at = format!("{schedule}, stopped at {stop}");
            assert_eq!(read(&full, "steps.csv"), read(&part, "steps.csv"), "{at}");
            assert_eq!(read(&full, "rule.csv"), read(&part, "rule.csv"), "{at}");
            assert_eq!(undone(&full), undone(&part), "{at}");
            std::fs::remove_dir_all(&part).unwrap();
        }
        std::fs::remove_dir_all(&full).unwrap();
    }
}

/// Where a step's scalars are read (inside the next step, or before a checkpoint or an
/// evaluation) does not change the run: reading every step early, as `--checkpoint-every 1
/// --eval-every 1` do, gives the same records as reading each inside the step after, with
/// updates undone and steps discarded (secant and auto from a far too large η0, on
/// logreg and on ResNet-18 with its batch norm; linreg's non-finite steps with
/// --on-nonfinite skip).
#[test]
fn checkpoints_and_evaluations_do_not_change_the_trajectory() {
    let (_d, fm) = fake(DatasetKind::FashionMnist, 100, 25);
    let (_b, boston) = fake(DatasetKind::Boston, 100, 25);
    let runs = tempfile::tempdir().unwrap();
    let logreg = [
        "--model",
        "logreg",
        "--dataset",
        "fashion-mnist",
        "--data",
        s(&fm),
    ];
    let linreg = [
        "--model",
        "linreg",
        "--dataset",
        "boston",
        "--data",
        s(&boston),
    ];
    let (_c, cifar) = fake(DatasetKind::Cifar10, 100, 25);
    // Batch norm: the running statistics go back with the weights.
    let resnet = [
        "--model",
        "resnet18",
        "--width-mult",
        "0.0625",
        "--dataset",
        "cifar10",
        "--data",
        s(&cifar),
    ];
    let average = ["--average-gamma", "8"];
    let cases: [(&[&str], &[&str]); 6] = [
        (&logreg, &["--schedule", "secant", "--lr", "100"]),
        (&logreg, &["--schedule", "auto", "--lr", "100"]),
        (&linreg, &["--lr", "1e18", "--on-nonfinite", "skip"]),
        // The iterate average goes back with the rest, and is swapped in and out to
        // evaluate: with batch norm, the averaged statistics too.
        (
            &linreg,
            &[
                "--lr",
                "1e18",
                "--on-nonfinite",
                "skip",
                average[0],
                average[1],
            ],
        ),
        (&resnet, &["--schedule", "auto", "--lr", "100"]),
        (
            &resnet,
            &["--schedule", "auto", "--lr", "100", average[0], average[1]],
        ),
    ];
    for (task, rule) in cases {
        let (plain, early) = (runs.path().join("plain"), runs.path().join("early"));
        let common = [
            &["train", "--batch-size", "10", "--epochs", "2"][..],
            task,
            rule,
        ]
        .concat();
        ok(&etaprobe(&[&common[..], &["--out", s(&plain)]].concat()));
        let every = ["--checkpoint-every", "1", "--eval-every", "1"];
        ok(&etaprobe(
            &[&common[..], &every, &["--out", s(&early)]].concat(),
        ));
        let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).ok();
        let totals = |p: &Path| {
            let run: serde_json::Value =
                serde_json::from_str(&read(p, "run.json").unwrap()).unwrap();
            ["skipped_steps", "undone_steps", "restarts"].map(|k| run["totals"][k].clone())
        };
        let discarded = totals(&plain);
        assert!(
            discarded.iter().any(|n| n.as_u64() > Some(0)),
            "{rule:?}: nothing discarded, the case tests nothing"
        );
        assert_eq!(discarded, totals(&early), "{rule:?}");
        assert_eq!(
            read(&plain, "steps.csv"),
            read(&early, "steps.csv"),
            "{rule:?}"
        );
        assert_eq!(
            read(&plain, "rule.csv"),
            read(&early, "rule.csv"),
            "{rule:?}"
        );
        assert_eq!(
            epochs_without_time(&plain),
            epochs_without_time(&early),
            "{rule:?}"
        );
        std::fs::remove_dir_all(&plain).unwrap();
        std::fs::remove_dir_all(&early).unwrap();
    }
}

/// `train` of linear regression on a generated Boston of 100 samples: 10 steps an epoch,
/// two epochs.
/// The iterate average takes an undone or discarded update back out with its count: where
/// `--on-nonfinite skip` discards steps (linear regression at η 1e18) or `auto` undoes one
/// (logistic regression at η 100), the first update kept after them holds t = 1 and sets
/// x̄ = w, so the run is evaluated where the same run without the average is.
#[test]
fn undone_and_skipped_updates_leave_the_iterate_average() {
    let (_f, fm) = fake(DatasetKind::FashionMnist, 100, 25);
    let (_b, boston) = fake(DatasetKind::Boston, 100, 25);
    let runs = tempfile::tempdir().unwrap();
    #[rustfmt::skip]
    let logreg = [
        "--model", "logreg", "--dataset", "fashion-mnist", "--data", s(&fm),
        "--schedule", "auto", "--lr", "100", "--max-steps", "4",
    ];
    #[rustfmt::skip]
    let linreg = [
        "--model", "linreg", "--dataset", "boston", "--data", s(&boston),
        "--lr", "1e18", "--on-nonfinite", "skip", "--max-steps", "3",
    ];
    for case in [&logreg[..], &linreg[..]] {
        let (plain, averaged) = (runs.path().join("plain"), runs.path().join("averaged"));
        let common = [&["train", "--batch-size", "10"][..], case].concat();
        ok(&etaprobe(&[&common[..], &["--out", s(&plain)]].concat()));
        let average = ["--average-gamma", "8", "--out", s(&averaged)];
        ok(&etaprobe(&[&common[..], &average].concat()));
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(plain.join("run.json")).unwrap())
                .unwrap();
        let totals = ["skipped_steps", "undone_steps"].map(|k| run["totals"][k].clone());
        assert!(
            totals.iter().any(|n| n.as_u64() > Some(0)),
            "{case:?}: nothing discarded, the case tests nothing"
        );
        let state = crate::common::state_file(&averaged);
        assert_eq!(state.tensor("average.count").unwrap().1, [1.0], "{case:?}");
        assert_eq!(
            epochs_without_time(&plain),
            epochs_without_time(&averaged),
            "{case:?}: evaluated at x̄ = w"
        );
        std::fs::remove_dir_all(&plain).unwrap();
        std::fs::remove_dir_all(&averaged).unwrap();
    }
}

fn linreg_boston(data: &Path) -> Vec<&str> {
    let words = "train --model linreg --dataset boston --batch-size 10 --epochs 2";
    let mut args: Vec<&str> = words.split(' ').collect();
    args.extend(["--data", s(data)]);
    args
}

/// A rule's state that met an infinite gradient (DoG's Σ‖g‖², with --on-nonfinite skip
/// keeping the run going) is kept in the checkpoint and read back: stopped at any of the
/// first steps, the run resumes as it went on.
#[test]
fn a_non_finite_rule_state_resumes() {
    let (_d, data) = fake(DatasetKind::Boston, 100, 25);
    let runs = tempfile::tempdir().unwrap();
    let mut common = linreg_boston(&data);
    common.extend([
        "--schedule",
        "dog",
        "--dog-scale",
        "1e12",
        "--on-nonfinite",
        "skip",
    ]);
    let full = runs.path().join("full");
    ok(&etaprobe(&[&common[..], &["--out", s(&full)]].concat()));
    let read = |p: &Path| std::fs::read_to_string(p.join("steps.csv")).unwrap();
    for stop in ["2", "3", "4", "5", "6"] {
        let part = runs.path().join(format!("stop{stop}"));
        stop_and_resume(&common, &part, stop);
        assert_eq!(read(&full), read(&part), "stopped at {stop}");
    }
}

/// A checkpoint given by its bare file name, from inside the run's folder, resumes the run
/// there: its figures are drawn (the folder was an empty path, and the finished run exited
/// 2 on "run directory  does not exist").
#[test]
fn a_checkpoint_named_from_inside_its_folder_resumes_there() {
    let (_d, data) = fake(DatasetKind::Boston, 100, 25);
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("run");
    let common = linreg_boston(&data);
    ok(&etaprobe(
        &[&common[..], &["--out", s(&run), "--max-steps", "5"]].concat(),
    ));
    let figure = run.join("loss.png");
    let before = std::fs::read(&figure).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args([&common[..], &["--resume", "checkpoint.safetensors"]].concat())
        .current_dir(&run)
        .output()
        .unwrap();
    ok(&o);
    let steps = std::fs::read_to_string(run.join("steps.csv")).unwrap();
    assert_eq!(steps.lines().count(), 1 + 20, "{steps}");
    assert_ne!(
        std::fs::read(&figure).unwrap(),
        before,
        "the figures were not drawn again"
    );

    // A checkpoint without the records beside it resumes, and says where they now begin.
    let bare = runs.path().join("bare");
    ok(&etaprobe(
        &[&common[..], &["--out", s(&bare), "--max-steps", "5"]].concat(),
    ));
    for record in ["epochs.csv", "steps.csv", "metrics.jsonl"] {
        std::fs::remove_file(bare.join(record)).unwrap();
    }
    let o = etaprobe(&["train", "--resume", s(&bare), "--max-steps", "10"]);
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "holds none of epochs.csv, steps.csv, metrics.jsonl: the run's records \
             start again at the checkpoint, step 6"
        ),
        "{stderr}"
    );
    let steps = std::fs::read_to_string(bare.join("steps.csv")).unwrap();
    assert!(steps.lines().nth(1).unwrap().starts_with("6,"), "{steps}");
    // Resumed again, it has nothing to do, and says what ends it and where it is.
    let elsewhere = runs.path().join("elsewhere");
    let o = etaprobe(&["train", "--resume", s(&bare), "--out", s(&elsewhere)]);
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("{} already finished: 10 steps", bare.display()))
            && stderr.contains("its --max-steps 10 ends it there"),
        "{stderr}"
    );
    assert!(!elsewhere.exists());
}

/// The paper's first-order rule is unguarded: a step on η may take it below 0, and a run
/// stopped there resumes as any other (a checkpoint's η is refused only when not finite).
#[test]
fn a_run_stopped_at_a_negative_rate_resumes_exactly() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 100, 25);
    let runs = tempfile::tempdir().unwrap();
    let (full, part) = (runs.path().join("full"), runs.path().join("part"));
    let common = [
        "train",
        "--model",
        "logreg",
        "--dataset",
        "fashion-mnist",
        "--data",
        s(&data),
        "--schedule",
        "first-order",
        "--lr",
        "0.01",
        "--alpha",
        "1",
        "--batch-size",
        "10",
        "--epochs",
        "2",
    ];
    ok(&etaprobe(&[&common[..], &["--out", s(&full)]].concat()));
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
    // The first step that trains at η < 0: stopped just before it, the checkpoint keeps it.
    let negative: usize = read(&full, "steps.csv")
        .lines()
        .skip(1)
        .find_map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[3].parse::<f64>().ok()? < 0.0).then(|| cols[0].parse().ok())?
        })
        .expect("η goes below 0");
    assert!(negative > 1, "η is below 0 from the first step");
    let stop = (negative - 1).to_string();
    stop_and_resume(&common, &part, &stop);
    assert_eq!(read(&full, "steps.csv"), read(&part, "steps.csv"));
}

#[test]
fn resume_refuses_options_that_would_change_the_run() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let ckpt = out.join("checkpoint.safetensors");
    let with = |changes: &[(&'static str, &'static str)]| -> Vec<String> {
        let mut args = vec![
            ("--model", "logreg"),
            ("--dataset", "fashion-mnist"),
            ("--lr", "0.05"),
            ("--batch-size", "16"),
            ("--epochs", "2"),
            ("--schedule", "first-order"),
            ("--alpha", "0.001"),
        ];
        for &(flag, value) in changes {
            match args.iter_mut().find(|(f, _)| *f == flag) {
                Some(arg) => arg.1 = value,
                None => args.push((flag, value)),
            }
        }
        let mut v = vec!["train".to_string(), "--data".into(), s(&data).into()];
        v.extend(
            args.iter()
                .flat_map(|&(f, x)| [f.to_string(), x.to_string()]),
        );
        v
    };
    let run = |args: Vec<String>, extra: &[&str]| {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(extra);
        etaprobe(&all)
    };
    ok(&run(with(&[]), &["--out", s(&out), "--max-steps", "2"]));
    let records = |p: &Path| {
        ["epochs.csv", "steps.csv", "run.json"].map(|f| std::fs::read(p.join(f)).unwrap())
    };
    let before = records(&out);
    for (change, message) in [
        (("--lr", "0.1"), "--lr 0.05 (now 0.1)"),
        (("--alpha", "0.01"), "--alpha 0.001 (now 0.01)"),
        (
            ("--schedule", "newton"),
            "--schedule first-order (now newton)",
        ),
        (("--batch-size", "8"), "--batch-size 16 (now 8)"),
        (
            ("--weight-decay", "0.0001"),
            "--weight-decay 0 (now 0.0001)",
        ),
    ] {
        let o = run(with(&[change]), &["--resume", s(&ckpt)]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{change:?}: {stderr}");
        assert!(stderr.contains(message), "{change:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            records(&out) == before,
            "{change:?} touched the run's records"
        );
    }
    // The checkpoint alone, its options not given: refused for them, not for the default
    // data set missing, and told where they are.
    let o = etaprobe(&["train", "--resume", s(&ckpt)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--dataset fashion-mnist (now cifar10)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("`--resume {}` reads", out.display())),
        "{stderr}"
    );
    assert!(records(&out) == before);
    // How long it runs and how often it evaluates may change.
    ok(&run(
        with(&[("--epochs", "3")]),
        &["--resume", s(&ckpt), "--eval-every", "3"],
    ));
    assert_eq!(epochs_without_time(&out).len(), 1 + 3);
}

/// A checkpoint whose position does not fit the run (a tampered step, data of another
/// size) or whose rule state does not read back is refused before the run directory changes.
#[test]
fn a_tampered_checkpoint_is_refused_and_changes_nothing() {
    use etaprobe::rundir::checkpoint;
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let common = [
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
        "5",
        "--out",
        s(&out),
    ];
    ok(&etaprobe(&common));
    let ckpt = out.join("checkpoint.safetensors");
    let original = checkpoint::load(&ckpt).unwrap();
    let steps_before = std::fs::read_to_string(out.join("steps.csv")).unwrap();
    let tamper = |key: &str, value: &str| {
        let mut meta = original.metadata.clone();
        meta.insert(key.to_string(), value.to_string());
        let tensors: Vec<(String, Vec<usize>, &[f32])> = original
            .tensors
            .iter()
            .map(|(n, sh, d)| (n.clone(), sh.clone(), d.as_slice()))
            .collect();
        checkpoint::save(&ckpt, &tensors, meta).unwrap();
    };
    for (key, value, message) in [
        ("step", "999", "is not epoch"),
        ("epoch", "7", "is not epoch"),
        (
            "schedule_state",
            r#"{"lr": "fast"}"#,
            "schedule state lacks the number 'lr'",
        ),
    ] {
        tamper(key, value);
        let mut args = common.to_vec();
        args.truncate(args.len() - 4);
        args.extend(["--resume", s(&ckpt)]);
        let o = etaprobe(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{key}: {stderr}");
        assert!(stderr.contains(message), "{key}: {stderr}");
        let steps = std::fs::read_to_string(out.join("steps.csv")).unwrap();
        assert_eq!(
            steps, steps_before,
            "{key}: the refused resume changed steps.csv"
        );
    }
}

#[test]
fn checkpoints_from_before_validation_splits_still_resume() {
    use etaprobe::rundir::checkpoint;
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let ckpt = out.join("checkpoint.safetensors");
    let args = [
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
        "2",
    ];
    ok(&etaprobe(
        &[&args[..], &["--out", s(&out), "--max-steps", "2"]].concat(),
    ));
    // Rewrites the checkpoint's stored options as an older etaprobe wrote them: --val-split's
    // default 0.1 for every run, and no options version.
    let rewrite = |version: bool| {
        let c = checkpoint::load(&ckpt).unwrap();
        let mut meta = c.metadata.clone();
        let mut options: serde_json::Value =
            serde_json::from_str(&meta["etaprobe.options"]).unwrap();
        options["val_split"] = 0.1.into();
        meta.insert("etaprobe.options".into(), options.to_string());
        if !version {
            meta.remove("etaprobe.options_version");
        }
        let tensors: Vec<(String, Vec<usize>, &[f32])> = c
            .tensors
            .iter()
            .map(|(n, shape, d)| (n.clone(), shape.clone(), d.as_slice()))
            .collect();
        checkpoint::save(&ckpt, &tensors, meta).unwrap();
    };
    // A run without --val-split stores none held out.
    let stored = checkpoint::load(&ckpt).unwrap().metadata["etaprobe.options"].clone();
    assert!(stored.contains("\"val_split\":null"), "{stored}");
    // With the version, 0.1 means a split was held out: resuming without one is refused.
    rewrite(true);
    let o = etaprobe(&[&args[..], &["--resume", s(&ckpt), "--max-steps", "3"]].concat());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--val-split 0.1 (now unset)"), "{stderr}");
    // Without it (an old checkpoint), 0.1 held nothing out: the run resumes.
    rewrite(false);
    ok(&etaprobe(&[&args[..], &["--resume", s(&ckpt)]].concat()));
    assert_eq!(epochs_without_time(&out).len(), 1 + 2);
}

/// `--resume A --out B` continues A's run in B: B ends with the records of an uninterrupted
/// run, A is left as it was, a B killed before its first checkpoint of its own resumes by
/// itself, and a B holding a run of its own is refused.
#[test]
fn resuming_into_another_folder_copies_the_records_and_leaves_the_original() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 90, 30);
    let runs = tempfile::tempdir().unwrap();
    let args_for = |out: &Path, extra: &[&str]| -> Vec<String> {
        let mut args = vec![
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
            "3",
            "--schedule",
            "secant",
            "--out",
            s(out),
        ];
        args.extend(extra);
        args.into_iter().map(String::from).collect()
    };
    let common = |out: &Path, extra: &[&str]| {
        let args = args_for(out, extra);
        etaprobe(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let full = runs.path().join("full");
    ok(&common(&full, &[]));
    let part = runs.path().join("part");
    ok(&common(&part, &["--max-steps", "8"]));
    let before: Vec<(String, Vec<u8>)> = ["epochs.csv", "steps.csv", "rule.csv", "run.json"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(part.join(f)).unwrap()))
        .collect();
    let ckpt = part.join("checkpoint.safetensors");
    let fork = runs.path().join("fork");
    ok(&common(&fork, &["--resume", s(&ckpt)]));
    // B's run.json keeps A's sitting, read where the checkpoint was.
    let part_info: serde_json::Value = serde_json::from_slice(&before[3].1).unwrap();
    assert_eq!(
        run_json(&fork)["earlier_sittings"],
        serde_json::json!([part_info])
    );
    for (f, bytes) in &before {
        assert_eq!(
            &std::fs::read(part.join(f)).unwrap(),
            bytes,
            "part/{f} changed"
        );
    }
    for f in ["steps.csv", "rule.csv"] {
        assert_eq!(
            std::fs::read_to_string(fork.join(f)).unwrap(),
            std::fs::read_to_string(full.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(epochs_without_time(&fork), epochs_without_time(&full));
    // Killed in the other folder before its first checkpoint of its own: that folder
    // resumes by itself, and ends as the uninterrupted run.
    let killed = runs.path().join("killed");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(args_for(&killed, &["--resume", s(&ckpt)]))
        .env_remove("ETAPROBE_DATA")
        .env_remove("ETAPROBE_ADAPTER")
        .env("ETAPROBE_CRASH_AT", "resumed-checkpoint-carried")
        .output()
        .unwrap();
    assert!(!o.status.success(), "the crash point was not reached");
    ok(&etaprobe(&["train", "--resume", s(&killed)]));
    // Killed before its run.json: the sittings before it are those of the run it continues.
    assert_eq!(
        run_json(&killed)["earlier_sittings"],
        serde_json::json!([part_info])
    );
    for f in ["steps.csv", "rule.csv"] {
        assert_eq!(
            std::fs::read_to_string(killed.join(f)).unwrap(),
            std::fs::read_to_string(full.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(epochs_without_time(&killed), epochs_without_time(&full));
    // Killed while the records were copied, before the checkpoint was: `--resume` of that
    // folder says how it is made again, and the same command makes it, to the same end.
    let halfway = runs.path().join("halfway");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(args_for(&halfway, &["--resume", s(&ckpt)]))
        .env_remove("ETAPROBE_DATA")
        .env_remove("ETAPROBE_ADAPTER")
        .env("ETAPROBE_CRASH_AT", "continuation-records-copied")
        .output()
        .unwrap();
    assert!(!o.status.success(), "the crash point was not reached");
    assert!(halfway.join("epochs.csv").is_file() && !halfway.join("run.json").exists());
    let o = etaprobe(&["train", "--resume", s(&halfway)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    // The command as it was given, the checkpoint file and the other options included.
    for again in [
        "make it again with the command that made it".to_string(),
        format!("--resume {}", ckpt.display()),
        format!("--out {}", halfway.display()),
    ] {
        assert!(stderr.contains(&again), "{again}: {stderr}");
    }
    ok(&common(&halfway, &["--resume", s(&ckpt)]));
    for f in ["steps.csv", "rule.csv"] {
        assert_eq!(
            std::fs::read_to_string(halfway.join(f)).unwrap(),
            std::fs::read_to_string(full.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(epochs_without_time(&halfway), epochs_without_time(&full));
    assert!(!halfway.join(".continuation-of").exists());
    // A's records refused (a hole in its steps): B is left without a marker.
    let damaged = runs.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    for entry in std::fs::read_dir(&part).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, damaged.join(path.file_name().unwrap())).unwrap();
        }
    }
    let steps = std::fs::read_to_string(damaged.join("steps.csv")).unwrap();
    let kept: Vec<&str> = steps.lines().take(3).collect();
    std::fs::write(damaged.join("steps.csv"), kept.join("\n") + "\n").unwrap();
    let into = runs.path().join("from-damaged");
    let o = common(
        &into,
        &["--resume", s(&damaged.join("checkpoint.safetensors"))],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!into.join(".continuation-of").exists());
    // Made from another run, such a folder is refused like any that holds a run.
    let other = runs.path().join("other-halfway");
    std::fs::create_dir(&other).unwrap();
    std::fs::copy(full.join("epochs.csv"), other.join("epochs.csv")).unwrap();
    std::fs::write(other.join(".continuation-of"), s(&full)).unwrap();
    let o = common(&other, &["--resume", s(&ckpt)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("already holds a run"), "{stderr}");
    // Into a folder that holds a run: refused, nothing changed.
    let o = common(&full, &["--resume", s(&ckpt)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("already holds a run"), "{stderr}");
    assert_eq!(epochs_without_time(&fork), epochs_without_time(&full));
}
