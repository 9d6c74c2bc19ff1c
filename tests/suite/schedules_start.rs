//! The start of training (issue 25): from a rate far too small `auto` and `secant` raise η,
//! from one far too large they lower it, both within their first decision window (steps,
//! not epochs). Least squares on generated Boston-like data, where "too small" and "too
//! large" are checked on the same data with constant-η runs, not assumed.

use std::path::Path;

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, ok, s};

/// A good constant rate for this problem: plain SGD converges from it within a few epochs.
const GOOD: f64 = 0.1;
/// Steps every run takes: the first decision window (30 ρ's) and a margin.
const STEPS: usize = 45;
/// The step by which the first decision must have fired: ρ needs 30 steps after the first.
const FIRST_WINDOW: usize = 32;

/// One step's record: (loss before the update, η the update used).
fn steps(run: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(run.join("steps.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[2].parse().unwrap(), c[3].parse().unwrap())
        })
        .collect()
}

/// `rule.csv`'s decisions other than "keep", as (step, decision).
fn decisions(run: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(run.join("rule.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let d = c[3];
            (!d.is_empty() && d != "keep").then(|| (c[0].parse().unwrap(), d.to_string()))
        })
        .collect()
}

/// Trains linreg on `data` for `STEPS` steps of `batch` samples with `schedule` from `lr`.
fn run(data: &Path, root: &Path, schedule: &str, lr: f64, batch: usize) -> Vec<(f64, f64)> {
    let out = root.join(format!("{schedule}-{lr}-{batch}"));
    let steps_arg = STEPS.to_string();
    let horizon = [
        "--epochs",
        "100",
        "--max-steps",
        &steps_arg,
        "--on-nonfinite",
        "skip",
    ];
    train_linreg(data, &out, schedule, lr, batch, &horizon)
}

/// Trains linreg on `data` into `out` with `schedule` from `lr` at `batch` samples a step,
/// `horizon` giving the epochs (and any other options); returns its steps.
fn train_linreg(
    data: &Path,
    out: &Path,
    schedule: &str,
    lr: f64,
    batch: usize,
    horizon: &[&str],
) -> Vec<(f64, f64)> {
    let (lr, batch) = (lr.to_string(), batch.to_string());
    let common = [
        "train",
        "--model",
        "linreg",
        "--dataset",
        "boston",
        "--data",
        s(data),
        "--schedule",
        schedule,
        "--lr",
        &lr,
        "--batch-size",
        &batch,
        "--out",
        s(out),
    ];
    ok(&etaprobe(&[&common[..], horizon].concat()));
    steps(out)
}

/// The mean loss over the last 5 of `steps`.
fn final_loss(steps: &[(f64, f64)]) -> f64 {
    steps[steps.len() - 5..].iter().map(|s| s.0).sum::<f64>() / 5.0
}

#[test]
fn auto_and_secant_move_a_bad_starting_rate_the_right_way_within_the_first_window() {
    let (_d, data) = fake(DatasetKind::Boston, 500, 25);
    let root = tempfile::tempdir().unwrap();
    for batch in [1000, 16] {
        // The premises, on the same data and batches: GOOD learns, GOOD/100 barely moves
        // the loss, 10·GOOD makes it grow.
        let good = run(&data, root.path(), "basic", GOOD, batch);
        let start = good[0].0;
        assert!(final_loss(&good) < 0.05 * start, "{batch}: {good:?}");
        let small = run(&data, root.path(), "basic", GOOD / 100.0, batch);
        assert!(final_loss(&small) > 0.5 * start, "{batch}: {small:?}");
        let large = run(&data, root.path(), "basic", GOOD * 10.0, batch);
        let grew = large
            .iter()
            .skip(5)
            .any(|s| !s.0.is_finite() || s.0 > start);
        assert!(grew, "{batch}: {large:?}");

        for schedule in ["auto", "secant"] {
            let what = format!("{schedule}, batch {batch}");
            let dir = root
                .path()
                .join(format!("{schedule}-{}-{batch}", GOOD / 100.0));
            let from_small = run(&data, root.path(), schedule, GOOD / 100.0, batch);
            let first = decisions(&dir);
            assert!(
                first
                    .first()
                    .is_some_and(|(t, d)| *t <= FIRST_WINDOW && d == "up"),
                "{what} from GOOD/100: decisions {first:?}"
            );
            let (_, last_lr) = *from_small.last().unwrap();
            assert!(last_lr > GOOD / 100.0, "{what}: η {last_lr}");
            assert!(
                final_loss(&from_small) < final_loss(&small),
                "{what}: raising η learns faster than GOOD/100"
            );

            let dir = root
                .path()
                .join(format!("{schedule}-{}-{batch}", GOOD * 10.0));
            let from_large = run(&data, root.path(), schedule, GOOD * 10.0, batch);
            let first = decisions(&dir);
            let lowers = ["blow-up", "overshoot", "stalled"];
            assert!(
                first
                    .first()
                    .is_some_and(|(t, d)| *t <= FIRST_WINDOW && lowers.contains(&d.as_str())),
                "{what} from 10·GOOD: decisions {first:?}"
            );
            let (loss, last_lr) = *from_large.last().unwrap();
            assert!(last_lr < GOOD * 10.0, "{what}: η {last_lr}");
            assert!(loss.is_finite() && loss < start, "{what}: loss {loss}");
        }
    }
}

/// A stall (no progress at all since the first steps) puts the run back at its initial
/// weights: LeNet-5 at η0 = 1 on generated CIFAR-10 with labels unrelated to the pixels
/// stays at chance, and the first step trained after the stall sees the loss that the
/// initial weights give on its batch, which a run at η = 0 (never moving from w(0), same
/// seed and batches) measures.
#[test]
fn a_stalled_run_starts_again_from_its_initial_weights() {
    let (_d, data) = fake(DatasetKind::Cifar10, 100, 25);
    let root = tempfile::tempdir().unwrap();
    let train_with = |schedule: &str, lr: &str, name: &str, steps: &str, extra: &[&str]| {
        let out = root.path().join(name);
        let base = [
            "train",
            "--model",
            "lenet",
            "--dataset",
            "cifar10",
            "--data",
            s(&data),
            "--schedule",
            schedule,
            "--lr",
            lr,
            "--batch-size",
            "10",
            "--epochs",
            "10",
            "--max-steps",
            steps,
            "--out",
            s(&out),
        ];
        ok(&etaprobe(&[&base[..], extra].concat()));
        out
    };
    let train = |schedule: &str, lr: &str, name: &str| train_with(schedule, lr, name, "66", &[]);
    let stalled = train("auto", "1", "auto");
    let at_w0 = train("basic", "0", "w0");
    let stall = decisions(&stalled)
        .into_iter()
        .find(|(_, d)| d == "stalled")
        .map(|(t, _)| t)
        .expect("η0 = 1 stalls");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stalled.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["totals"]["restarts"], 1);
    // Each step's number and loss in steps.csv.
    let losses = |run: &Path| -> Vec<(usize, f64)> {
        let text = std::fs::read_to_string(run.join("steps.csv")).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .map(|c| (c[0].parse().unwrap(), c[2].parse().unwrap()))
            .collect()
    };
    let loss = |run: &Path, step: usize| -> f64 {
        let found = losses(run).into_iter().find(|&(t, _)| t == step);
        found
            .unwrap_or_else(|| panic!("no step {step} in {}", run.display()))
            .1
    };
    // Before the stall the weights had moved; the first step after it is at w(0) again.
    let (moved, start) = (loss(&stalled, stall), loss(&at_w0, stall));
    assert!(
        (moved - start).abs() > 1e-4,
        "step {stall}: {moved} vs {start}"
    );
    // The batch read while the stall was found is discarded (its gradient was taken at the
    // weights left behind): the first step recorded after the stall is the next one.
    let after = (losses(&stalled).into_iter())
        .map(|(t, _)| t)
        .find(|&t| t > stall)
        .expect("steps after the stall");
    assert_eq!(after, stall + 2, "the step after the stall is discarded");
    let (restarted, start) = (loss(&stalled, after), loss(&at_w0, after));
    assert!(
        (restarted - start).abs() <= 1e-6 * start,
        "step {after}: {restarted} after the restart, {start} at w(0)"
    );

    // The iterate average starts over with the restart, as its authors' `reset()`: after
    // the first update trained after the stall it holds one update, and is the weights.
    let average = ["--average-gamma", "8"];
    let averaged = train_with("auto", "1", "averaged", &after.to_string(), &average);
    assert_eq!(
        std::fs::read_to_string(averaged.join("steps.csv")).unwrap(),
        std::fs::read_to_string(stalled.join("steps.csv"))
            .unwrap()
            .lines()
            .take_while(|l| !l.starts_with(&format!("{},", after + 1)))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
        "the average leaves training alone"
    );
    let state = crate::common::state_file(&averaged);
    assert_eq!(state.tensor("average.count").unwrap().1, [1.0]);
    let weights =
        etaprobe::rundir::checkpoint::load(averaged.join("checkpoint.safetensors")).unwrap();
    let net = etaprobe::models::Net::build_with(
        etaprobe::models::ModelKind::Lenet,
        [3, 32, 32],
        10,
        etaprobe::models::ModelOptions::default(),
    )
    .unwrap();
    let (_, mean) = state.tensor("average.weights").unwrap();
    for slot in &net.layout.slots {
        let (_, w) = weights.tensor(&slot.name).unwrap();
        let got = &mean[slot.offset..slot.offset + slot.len()];
        assert_eq!(got, w, "{}: the average after the restart", slot.name);
    }
}

/// The end of training: over the last fifth of the planned steps (`epochs` × steps per
/// epoch) `auto` and `secant` let η fall linearly to 1/n of the rate they had reached, n
/// being the cooldown's steps; before it, η is the rule's. Least squares on generated data
/// (17 steps an epoch at batch 25), 5 epochs.
#[test]
fn auto_and_secant_cool_down_over_the_last_fifth_of_the_planned_steps() {
    let (_d, data) = fake(DatasetKind::Boston, 500, 25);
    let root = tempfile::tempdir().unwrap();
    for schedule in ["auto", "secant"] {
        let out = root.path().join(schedule);
        let steps = train_linreg(&data, &out, schedule, 0.01, 25, &["--epochs", "5"]);
        let lrs: Vec<f64> = steps.iter().map(|s| s.1).collect();
        let planned = lrs.len();
        assert!(planned >= 50, "{schedule}: {planned} steps");
        let n = (planned as f64 * 0.2).round() as usize;
        let first = planned - n;
        let held = lrs[first - 1];
        for (k, lr) in lrs[first..].iter().enumerate() {
            let want = held * (n - k) as f64 / n as f64;
            assert!(
                (lr - want).abs() <= 1e-12 * held,
                "{schedule}, step {}: η {lr}, want {want}",
                first + k + 1
            );
        }
        assert!(
            lrs[..first].iter().any(|&lr| lr != 0.01),
            "{schedule}: the rule moved η before the cooldown: {:?}",
            &lrs[..first]
        );
    }
}
