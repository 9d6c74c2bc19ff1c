//! `etaprobe train` on Boston-style data reaches the least-squares optimum, also from bad rates.

use std::path::Path;

use etaprobe::data::{DataArgs, DatasetKind, Which};
use etaprobe::rundir::checkpoint;

use crate::common::{etaprobe, fake, ok, s};

#[test]
fn linear_regression_reaches_the_least_squares_optimum() {
    let (_d, data) = fake(DatasetKind::Boston, 100, 25);
    check_least_squares(&data, "400");
}

/// The real Boston Housing table, `ETAPROBE_DATA/boston_housing.csv` (run with --ignored).
#[test]
#[ignore]
fn real_boston_reaches_the_least_squares_optimum() {
    let data = crate::data_real::data_root().join("boston_housing.csv");
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
        // Each recorded step's loss, by its number (a batch discarded after an undo or a
        // skipped step has no row).
        let by_step: std::collections::HashMap<usize, f64> = steps
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0].parse().unwrap(), c[2].parse().unwrap())
            })
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
            by_step.len() - skipped + 1,
            "one line per step that was not discarded"
        );
        if schedule == "auto" {
            let mut probed = 0;
            for line in rule.lines().skip(1) {
                let c: Vec<&str> = line.split(',').collect();
                let (Ok(step), Ok(start)) = (c[0].parse::<usize>(), c[5].parse::<f64>()) else {
                    continue;
                };
                // Step t−1's row: never a step discarded (after one, nothing is probed).
                let before = by_step
                    .get(&(step - 1))
                    .copied()
                    .unwrap_or_else(|| panic!("{lr}: step {step} probed after no step"));
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
