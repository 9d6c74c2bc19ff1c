//! `etaprobe train --model resnet18` end to end on small generated CIFAR files: training
//! with batch norm and dropout, exact resume, CIFAR-100, the checkpoint's PyTorch names,
//! and bad options.

use std::path::Path;
use std::process::Output;

use etaprobe::data::DatasetKind;
use etaprobe::rundir::checkpoint;

use crate::common::{etaprobe, fake, ok, s, state_file};

fn small_resnet<'a>(dataset: &'a str, data: &'a Path, schedule: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--model",
        "resnet18",
        "--width-mult",
        "0.125",
        "--dropout",
        "0.2",
        "--dataset",
        dataset,
        "--data",
        s(data),
        "--schedule",
        schedule,
        "--lr",
        "0.05",
        "--batch-size",
        "8",
        "--epochs",
        "2",
        "--seed",
        "5",
    ]
}

#[test]
fn resnet_trains_resumes_exactly_and_saves_torchvision_names() {
    let (_d, data) = fake(DatasetKind::Cifar10, 20, 10);
    let runs = tempfile::tempdir().unwrap();
    let (full, part) = (runs.path().join("full"), runs.path().join("part"));
    let common = small_resnet("cifar10", &data, "newton");
    ok(&etaprobe(&[&common[..], &["--out", s(&full)]].concat()));
    ok(&etaprobe(
        &[&common[..], &["--out", s(&part), "--max-steps", "4"]].concat(),
    ));
    let ckpt = part.join("checkpoint.safetensors");
    ok(&etaprobe(&[&common[..], &["--resume", s(&ckpt)]].concat()));
    // Resuming without the run's --dropout would silently change it.
    let mut no_dropout = common.clone();
    let i = no_dropout.iter().position(|a| *a == "--dropout").unwrap();
    no_dropout[i + 1] = "0";
    let o = etaprobe(&[&no_dropout[..], &["--resume", s(&ckpt)]].concat());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--dropout 0.2 (now 0)"), "{stderr}");
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
    assert_eq!(read(&full, "steps.csv"), read(&part, "steps.csv"));
    let no_time = |p: &Path| -> Vec<String> {
        read(p, "epochs.csv")
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(no_time(&full), no_time(&part));
    for line in read(&full, "steps.csv").lines().skip(1) {
        let loss: f64 = line.split(',').nth(2).unwrap().parse().unwrap();
        assert!(loss.is_finite(), "{line}");
    }

    let ckpt = checkpoint::load(full.join("checkpoint.safetensors")).unwrap();
    for (name, shape) in [
        ("conv1.weight", vec![8, 3, 3, 3]),
        ("bn1.running_mean", vec![8]),
        ("layer1.0.conv1.weight", vec![8, 8, 3, 3]),
        ("layer2.0.downsample.0.weight", vec![16, 8, 1, 1]),
        ("layer2.0.downsample.1.running_var", vec![16]),
        ("layer4.1.bn2.bias", vec![64]),
        ("fc.weight", vec![10, 64]),
    ] {
        let (got, _) = ckpt.tensor(name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(got, shape.as_slice(), "{name}");
    }
    // Training moved the running statistics away from their initial values.
    let (_, var) = ckpt.tensor("bn1.running_var").unwrap();
    assert!(var.iter().any(|&v| v != 1.0));
    let run: serde_json::Value = serde_json::from_str(&read(&full, "run.json")).unwrap();
    assert!(run["totals"]["gpu_bytes_allocated"].as_u64().unwrap() > 0);
    assert!(run["totals"]["probes_per_pass"].as_u64().is_some());
}

#[test]
fn iterate_average_leaves_training_alone_and_averages_weights_and_statistics() {
    let (_d, data) = fake(DatasetKind::Cifar10, 20, 10);
    let runs = tempfile::tempdir().unwrap();
    let dir = |name: &str| runs.path().join(name);
    let common = small_resnet("cifar10", &data, "basic");
    let train = |name: &str, extra: &[&str]| {
        let out = dir(name);
        ok(&etaprobe(
            &[&common[..], &["--out", s(&out)], extra].concat(),
        ));
    };
    train("one", &["--max-steps", "1"]);
    train("two", &["--max-steps", "2"]);
    // γ = 0: the plain mean, (w(1) + w(2))/2 after two steps.
    let average = ["--average-gamma", "0"];
    train("averaged", &[&["--max-steps", "2"][..], &average].concat());
    train("resumed", &[&["--max-steps", "1"][..], &average].concat());
    let resume = dir("resumed");
    ok(&etaprobe(&[
        "train",
        "--resume",
        s(&resume),
        "--max-steps",
        "2",
    ]));

    let read = |name: &str, f: &str| std::fs::read_to_string(dir(name).join(f)).unwrap();
    assert_eq!(read("two", "steps.csv"), read("averaged", "steps.csv"));
    assert_eq!(read("two", "steps.csv"), read("resumed", "steps.csv"));
    let weights = |name: &str| checkpoint::load(dir(name).join("checkpoint.safetensors")).unwrap();
    let (one, two, averaged) = (weights("one"), weights("two"), weights("averaged"));
    let net = etaprobe::models::Net::build_with(
        etaprobe::models::ModelKind::Resnet18,
        [3, 32, 32],
        10,
        etaprobe::models::ModelOptions {
            dropout: 0.2,
            width_mult: 0.125,
        },
    )
    .unwrap();
    let state = state_file(&dir("averaged"));
    for (flat, slots) in [
        ("average.weights", &net.layout.slots),
        ("average.buffers", &net.buffers.slots),
    ] {
        let (_, mean) = state.tensor(flat).unwrap_or_else(|| panic!("no {flat}"));
        let mut moved = 0;
        for slot in slots {
            let name = &slot.name;
            let (_, a) = one.tensor(name).unwrap();
            let (_, b) = two.tensor(name).unwrap();
            // The training weights are the unaveraged run's.
            assert_eq!(averaged.tensor(name).unwrap().1, b, "{name}");
            let got = &mean[slot.offset..slot.offset + slot.len()];
            for (i, ((&g, &x), &y)) in got.iter().zip(a).zip(b).enumerate() {
                moved += usize::from(x != y);
                let want = (f64::from(x) + f64::from(y)) / 2.0;
                let tolerance = 1e-6 * want.abs().max(1.0);
                assert!(
                    (f64::from(g) - want).abs() <= tolerance,
                    "{name}[{i}]: average {g}, want {want} (w1 {x}, w2 {y})"
                );
            }
        }
        // The second step moved what is averaged: the mean is neither iterate.
        assert!(moved > 0, "{flat}: the two steps' iterates are the same");
        let resumed = state_file(&resume);
        assert_eq!(resumed.tensor(flat).unwrap().1, mean, "resumed {flat}");
    }
}

#[test]
fn resnet_trains_on_cifar100_fine_labels() {
    let (_d, data) = fake(DatasetKind::Cifar100, 16, 8);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("c100");
    let common = small_resnet("cifar100", &data, "basic");
    ok(&etaprobe(
        &[&common[..], &["--out", s(&out), "--max-steps", "2"]].concat(),
    ));
    let ckpt = checkpoint::load(out.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ckpt.tensor("fc.weight").unwrap().0, [100, 64]);
    let epochs = std::fs::read_to_string(out.join("epochs.csv")).unwrap();
    assert_eq!(epochs.lines().count(), 2, "{epochs}");
}

#[test]
fn impossible_resnet_options_are_refused_before_training() {
    let (_d, data) = fake(DatasetKind::Cifar10, 10, 4);
    let runs = tempfile::tempdir().unwrap();
    let base = |extra: &[&str], out: &Path| -> Output {
        let mut args = vec![
            "train",
            "--dataset",
            "cifar10",
            "--data",
            s(&data),
            "--max-steps",
            "1",
            "--out",
            s(out),
        ];
        args.extend_from_slice(extra);
        etaprobe(&args)
    };
    for (extra, needle) in [
        (
            &["--model", "resnet18", "--dropout", "1.5"][..],
            "--dropout",
        ),
        (
            &["--model", "lenet", "--dropout", "0.2"][..],
            "resnet18 only",
        ),
        (
            &["--model", "resnet18", "--width-mult", "0"][..],
            "--width-mult",
        ),
    ] {
        let out = runs.path().join("bad");
        let o = base(extra, &out);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{extra:?} left a run directory");
    }
    // `bench memory` refuses them too, and prints no part of its table before the error.
    let o = etaprobe(&[
        "bench",
        "memory",
        "--model",
        "resnet18",
        "--width-mult",
        "0",
        "--batch-sizes",
        "2",
    ]);
    crate::common::refused(&o, "--width-mult");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Known before any data is looked for, and said as what it is, not as a model that
    // does not fit its data.
    let missing = runs.path().join("no-data");
    for (model, option, message) in [
        (
            "lenet",
            &["--width-mult", "0.5"][..],
            "--width-mult applies to --model resnet18 only, not to lenet",
        ),
        (
            "logreg",
            &["--dropout", "0.1", "--width-mult", "2"][..],
            "--dropout and --width-mult apply to --model resnet18 only, not to logreg",
        ),
    ] {
        let mut args = vec!["train", "--model", model, "--data", s(&missing)];
        args.extend_from_slice(option);
        let o = etaprobe(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(message), "{err}");
        assert!(
            !err.contains("does not fit") && !err.contains("not found"),
            "{err}"
        );
    }
}

/// A batch whose activations exceed one storage binding fails before the first step, with
/// the limit in the message (lavapipe allows 128 MiB; a GPU may allow more, then it runs).
#[test]
fn a_batch_too_big_for_the_adapter_fails_before_training() {
    let gpu = etaprobe::gpu::Gpu::open(None).unwrap();
    let limit = gpu.limits.max_storage_buffer_binding_size;
    // The stem's output: 64 channels of 32×32 per image.
    let batch = (limit / (4 * 64 * 1024) + 1) as usize;
    if batch > 2000 {
        eprintln!("skipped: this adapter binds {limit} bytes");
        return;
    }
    let (_d, data) = fake(DatasetKind::Cifar10, batch, 4);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("big");
    let o = etaprobe(&[
        "train",
        "--model",
        "resnet18",
        "--dataset",
        "cifar10",
        "--data",
        s(&data),
        "--batch-size",
        &batch.to_string(),
        "--max-steps",
        "1",
        "--out",
        s(&out),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot lay out resnet18"), "{err}");
    assert!(err.contains("allows at most"), "{err}");
    assert!(!out.exists(), "a run directory was left");
}
