//! `etaprobe train` end to end on small generated data sets: convergence, determinism,
//! resuming, every schedule, and bad input.

use std::path::Path;

use etaprobe::data::{DataArgs, DatasetKind, Which};
use etaprobe::rundir::checkpoint;

use crate::common::{etaprobe, fake, ok, s};

/// epochs.csv without the wall-time column.
fn epochs_without_time(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("epochs.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

#[test]
fn linear_regression_reaches_the_least_squares_optimum() {
    let (_d, data) = fake(DatasetKind::Boston, 100, 25);
    check_least_squares(&data, "400");
}

/// The real Boston Housing table from ../shared/data (run with --ignored).
#[test]
#[ignore]
fn real_boston_reaches_the_least_squares_optimum() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/boston_housing.csv");
    check_least_squares(&data, "3000");
}

fn check_least_squares(data: &Path, epochs: &str) {
    // Full-batch gradient descent: the batch is larger than the training split.
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let args = ["--lr", "0.1", "--batch-size", "1000", "--epochs", epochs];
    check_least_squares_with(data, &out, &args);
}

/// Trains linreg on `data` with `args` into `out` and checks the final weights against the
/// least-squares optimum of the same split.
fn check_least_squares_with(data: &Path, out: &Path, args: &[&str]) {
    let data = data.to_path_buf();
    let common = [
        "train",
        "--model",
        "linreg",
        "--dataset",
        "boston",
        "--data",
        s(&data),
        "--out",
        s(out),
    ];
    ok(&etaprobe(&[&common[..], args].concat()));
    // The same split and standardisation, in f64 on the CPU.
    let args = DataArgs {
        dataset: DatasetKind::Boston,
        data: Some(data.clone()),
        test_fraction: 0.2,
        ..Default::default()
    };
    let dataset = args.load(0).unwrap();
    let batch = dataset
        .ordered_batches(Which::Train, 10_000)
        .unwrap()
        .next()
        .unwrap();
    let n = batch.len;
    let x: Vec<f64> = batch.x.iter().map(|&v| v as f64).collect();
    let y: Vec<f64> = batch.y_value.iter().map(|&v| v as f64).collect();
    let ckpt = checkpoint::load(out.join("checkpoint.safetensors")).unwrap();
    let w = ckpt.tensor("fc.weight").unwrap().1.to_vec();
    let b = ckpt.tensor("fc.bias").unwrap().1[0];
    let mse = |w: &[f64], b: f64| {
        (0..n)
            .map(|i| {
                let p: f64 = (0..13).map(|j| x[i * 13 + j] * w[j]).sum::<f64>() + b;
                (p - y[i]).powi(2)
            })
            .sum::<f64>()
            / n as f64
    };
    let trained = mse(&w.iter().map(|&v| v as f64).collect::<Vec<_>>(), b as f64);
    let (w_opt, b_opt) = least_squares(&x, &y, n, 13);
    let optimum = mse(&w_opt, b_opt);
    eprintln!("train MSE {trained}, least-squares optimum {optimum}, {n} rows");
    assert!(
        trained <= optimum * 1.02,
        "train MSE {trained} vs least-squares {optimum}"
    );
}

/// Normal equations [X 1]ᵀ[X 1] β = [X 1]ᵀ y by Gaussian elimination with pivoting.
fn least_squares(x: &[f64], y: &[f64], n: usize, f: usize) -> (Vec<f64>, f64) {
    let m = f + 1;
    let row = |i: usize, j: usize| if j < f { x[i * f + j] } else { 1.0 };
    let mut a = vec![vec![0.0; m + 1]; m];
    for (r, ar) in a.iter_mut().enumerate() {
        for (c, v) in ar.iter_mut().take(m).enumerate() {
            *v = (0..n).map(|i| row(i, r) * row(i, c)).sum();
        }
        ar[m] = (0..n).map(|i| row(i, r) * y[i]).sum();
    }
    for col in 0..m {
        let pivot = (col..m)
            .max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        for r in 0..m {
            if r != col {
                let factor = a[r][col] / a[col][col];
                let pivot_row = a[col].clone();
                for (v, p) in a[r].iter_mut().zip(&pivot_row) {
                    *v -= factor * p;
                }
            }
        }
    }
    let beta: Vec<f64> = (0..m).map(|r| a[r][m] / a[r][r]).collect();
    (beta[..f].to_vec(), beta[f])
}

/// The rules that learn η reach the least-squares optimum from rates far too small and far
/// too large, without a negative or non-finite η; auto's probe back to w(t−1) sees, on the
/// full batch, exactly the previous step's loss.
#[test]
fn secant_and_auto_reach_least_squares_from_any_starting_rate() {
    let (_d, data) = fake(DatasetKind::Boston, 100, 25);
    let runs = tempfile::tempdir().unwrap();
    for (schedule, lr) in [
        ("auto", "0.0001"),
        ("auto", "3"),
        ("secant", "0.01"),
        ("secant", "3"),
    ] {
        let out = runs.path().join(format!("{schedule}-{lr}"));
        let args = [
            "--schedule",
            schedule,
            "--lr",
            lr,
            "--batch-size",
            "1000",
            "--epochs",
            "400",
            "--probe-every",
            "1",
            "--on-nonfinite",
            "skip",
        ];
        check_least_squares_with(&data, &out, &args);
        let steps = std::fs::read_to_string(out.join("steps.csv")).unwrap();
        let losses: Vec<f64> = steps
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
            .collect();
        for l in steps.lines().skip(1) {
            let eta: f64 = l.split(',').nth(3).unwrap().parse().unwrap();
            assert!(eta.is_finite() && eta > 0.0, "{schedule} from {lr}: {l}");
        }
        let rule = std::fs::read_to_string(out.join("rule.csv")).unwrap();
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        let skipped = run["totals"]["skipped_steps"].as_u64().unwrap() as usize;
        assert_eq!(
            rule.lines().count(),
            losses.len() - skipped + 1,
            "one line per step that was not discarded"
        );
        if schedule == "auto" {
            let mut probed = 0;
            for line in rule.lines().skip(1) {
                let c: Vec<&str> = line.split(',').collect();
                let (Ok(step), Ok(start)) = (c[0].parse::<usize>(), c[5].parse::<f64>()) else {
                    continue;
                };
                let before = losses[step - 2];
                assert!(
                    (start - before).abs() <= 1e-5 * before.abs() + 1e-9,
                    "{lr}: step {step} probed {start} at w(t−1), whose loss was {before}"
                );
                probed += 1;
            }
            assert!(probed >= 300, "only {probed} probes");
        }
    }
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
        ];
        ok(&etaprobe(&[&common[..], &["--out", s(&full)]].concat()));
        // Stop inside the second epoch, resume with no step left (a no-op), then resume.
        ok(&etaprobe(
            &[&common[..], &["--out", s(&part), "--max-steps", "8"]].concat(),
        ));
        let ckpt = part.join("checkpoint.safetensors");
        ok(&etaprobe(
            &[&common[..], &["--resume", s(&ckpt), "--max-steps", "8"]].concat(),
        ));
        ok(&etaprobe(&[&common[..], &["--resume", s(&ckpt)]].concat()));
        let evals = |p: &Path| std::fs::read_to_string(p.join("evals.csv")).unwrap();
        assert_eq!(evals(&full), evals(&part), "{schedule}");
        assert_eq!(
            epochs_without_time(&full),
            epochs_without_time(&part),
            "{schedule}"
        );
        let steps = |p: &Path| std::fs::read_to_string(p.join("steps.csv")).unwrap();
        assert_eq!(steps(&full), steps(&part), "{schedule}");
    }
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
    // How long it runs and how often it evaluates may change.
    ok(&run(
        with(&[("--epochs", "3")]),
        &["--resume", s(&ckpt), "--eval-every", "3"],
    ));
    assert_eq!(epochs_without_time(&out).len(), 1 + 3);
}

#[test]
fn every_schedule_trains_and_logs_what_it_measured() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    for (schedule, probes) in [("basic", false), ("first-order", false), ("newton", true)] {
        let out = runs.path().join(schedule);
        ok(&etaprobe(&[
            "train",
            "--model",
            "logreg",
            "--dataset",
            "fashion-mnist",
            "--data",
            s(&data),
            "--lr",
            "0.01",
            "--batch-size",
            "16",
            "--epochs",
            "1",
            "--schedule",
            schedule,
            "--out",
            s(&out),
        ]));
        let steps = std::fs::read_to_string(out.join("steps.csv")).unwrap();
        assert_eq!(
            steps.lines().next().unwrap().contains("safeguarded"),
            probes,
            "{schedule}"
        );
        assert_eq!(steps.lines().count(), 5, "{schedule}: header + 4 steps");
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        assert_eq!(run["config"]["schedule"], schedule);
        assert_eq!(run["totals"]["steps"], 4);
    }
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 16, 8);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let file = runs.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("run");
    let missing = runs.path().join("no-such-data");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--model", "resnet9"], "invalid value 'resnet9'"),
        (vec!["--dataset", "mnist"], "invalid value 'mnist'"),
        (vec!["--model", "linreg"], "linreg is a regression model"),
        (vec!["--batch-size", "0"], "--batch-size must be at least 1"),
        (vec!["--lr", "nan"], "--lr must be"),
        (
            vec!["--out", s(&under_file)],
            "cannot create the run directory",
        ),
        (vec!["--data", s(&missing)], "no-such-data"),
        (vec!["--resume", s(&missing)], "no-such-data"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["train"];
        for (flag, default) in [
            ("--dataset", "fashion-mnist"),
            ("--data", s(&data)),
            ("--model", "logreg"),
            ("--out", s(&out)),
        ] {
            if !extra.contains(&flag) {
                args.extend([flag, default]);
            }
        }
        args.extend(extra.iter());
        let o = etaprobe(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "{extra:?}: expected '{message}' in: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?} left a run directory behind");
    }
}

#[test]
fn divergence_stops_with_the_step_and_keeps_the_metrics_or_is_skipped_when_asked() {
    let (_d, data) = fake(DatasetKind::Boston, 100, 25);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("diverge");
    let base = [
        "train",
        "--model",
        "linreg",
        "--dataset",
        "boston",
        "--data",
        s(&data),
        "--lr",
        "1e18",
        "--batch-size",
        "10",
        "--epochs",
        "2",
    ];
    let o = etaprobe(&[&base[..], &["--out", s(&out)]].concat());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("training diverged at step"), "{stderr}");
    assert!(out.join("steps.csv").exists() && out.join("run.json").exists());
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(run["totals"]["stopped"]
        .as_str()
        .unwrap()
        .contains("diverged"));

    let out = runs.path().join("skip");
    ok(&etaprobe(
        &[&base[..], &["--out", s(&out), "--on-nonfinite", "skip"]].concat(),
    ));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(
        run["totals"]["skipped_steps"].as_u64().unwrap() > 0,
        "{run}"
    );
    assert!(run["totals"]["lr"].as_f64().unwrap() < 1e18);
    // Skipping recovers: every epoch runs and the last one trains at a finite loss.
    assert_eq!(run["totals"]["epochs"], 2, "{run}");
    let loss = run["totals"]["final_train_loss"].as_f64().unwrap();
    assert!(loss.is_finite(), "{run}");
}

#[test]
fn warm_start_begins_at_the_rate_another_run_ended_with() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let (first, second, third) = (
        runs.path().join("a"),
        runs.path().join("b"),
        runs.path().join("c"),
    );
    let base = [
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
        "1",
    ];
    ok(&etaprobe(
        &[
            &base[..],
            &["--schedule", "newton", "--eps", "1e-3", "--out", s(&first)],
        ]
        .concat(),
    ));
    let epochs = std::fs::read_to_string(first.join("epochs.csv")).unwrap();
    let last_lr: f64 = epochs
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(5)
        .unwrap()
        .parse()
        .unwrap();
    ok(&etaprobe(
        &[&base[..], &["--lr-from", s(&first), "--out", s(&second)]].concat(),
    ));
    let steps = std::fs::read_to_string(second.join("steps.csv")).unwrap();
    let used: f64 = steps
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(used, last_lr);
    ok(&etaprobe(
        &[
            &base[..],
            &[
                "--lr-from",
                s(&first),
                "--lr-from-stat",
                "median",
                "--out",
                s(&third),
            ],
        ]
        .concat(),
    ));
    let o = etaprobe(
        &[
            &base[..],
            &[
                "--lr-from",
                s(&runs.path().join("nope")),
                "--out",
                s(&third),
            ],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a run directory"));
}

#[test]
fn probing_on_a_validation_split_trains_and_checks_its_options() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 80, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("val");
    let base = [
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
        "1",
    ];
    ok(&etaprobe(
        &[
            &base[..],
            &[
                "--schedule",
                "newton",
                "--probe-on",
                "val",
                "--val-split",
                "0.25",
                "--out",
                s(&out),
            ],
        ]
        .concat(),
    ));
    // 80 training samples less the 20 held out: 4 steps of 16 (the last one partial).
    let steps = std::fs::read_to_string(out.join("steps.csv")).unwrap();
    assert_eq!(steps.lines().count(), 5, "{steps}");
    for (extra, message) in [
        (
            vec!["--schedule", "basic", "--probe-on", "val"],
            "needs a schedule that probes",
        ),
        (
            vec![
                "--schedule",
                "newton",
                "--probe-on",
                "val",
                "--val-split",
                "0.1",
            ],
            "fewer than one batch",
        ),
        (
            vec![
                "--schedule",
                "newton",
                "--probe-on",
                "val",
                "--val-split",
                "1.5",
            ],
            "--val-split 1.5",
        ),
    ] {
        let o = etaprobe(
            &[
                &base[..],
                &extra[..],
                &["--out", s(&runs.path().join("bad"))],
            ]
            .concat(),
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
    }
}

#[test]
fn adam_defaults_to_pytorchs_learning_rate() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 32, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("adam");
    ok(&etaprobe(&[
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
        "1",
        "--optimizer",
        "adam",
        "--out",
        s(&out),
    ]));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["config"]["lr"], 0.001);
    assert_eq!(run["config"]["optimizer"], "adam");
}
