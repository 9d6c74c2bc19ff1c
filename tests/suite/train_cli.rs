//! `etaprobe train` end to end on small generated data sets: every schedule, bad input,
//! divergence, warm starts, validation probing and optimiser defaults.

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, logreg_fm, ok, s};

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
        (
            vec!["--batch-size", "0"],
            "--batch-size <N>': must be at least 1",
        ),
        (vec!["--lr", "nan"], "--lr <F>': must be finite"),
        (
            vec!["--lr-min", "-1"],
            "--lr-min <F>': must be a finite non-negative number",
        ),
        (
            vec!["--lr-max", "0"],
            "--lr-max <F>': must be a finite positive number",
        ),
        (
            vec!["--lr", "1e39"],
            "--lr <F>': too large for an f32 (at most 3.4028235e38)",
        ),
        (
            vec!["--lr-min", "1e308"],
            "--lr-min <F>': too large for an f32",
        ),
        (
            vec!["--lr", "0.01", "--lr-min", "0.1"],
            "--lr-min 0.1 is above η0 (--lr 0.01)",
        ),
        (
            vec!["--lr", "1e-50"],
            "--lr <F>': 1e-50 is below 1.1754944e-38, the smallest normal f32",
        ),
        (
            vec!["--lr-milestones", "0,2"],
            "--lr-milestones <E1,E2>': must be at least 1",
        ),
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
    // A failed training, not a usage error.
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("training diverged at step"), "{stderr}");
    assert!(out.join("steps.csv").exists() && out.join("run.json").exists());
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(run["totals"]["stopped"]
        .as_str()
        .unwrap()
        .contains("diverged"));

    // η itself made non-finite by the rule (first-order's step on η overflows): also a
    // divergence, with the same status.
    let out = runs.path().join("eta");
    let mut args = base.to_vec();
    assert_eq!(base[7], "--lr");
    args[8] = "0.001";
    args.extend([
        "--schedule",
        "first-order",
        "--alpha",
        "1e300",
        "--out",
        s(&out),
    ]);
    let o = etaprobe(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("η became NaN at step"), "{stderr}");
    assert!(out.join("steps.csv").exists());

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
    // Skipping goes on: every epoch runs, and the last one's loss is over the steps it
    // kept (NaN only for an epoch that kept none).
    assert_eq!(run["totals"]["epochs"], 2, "{run}");
    let loss = run["totals"]["final_train_loss"].as_f64().unwrap();
    assert!(loss.is_finite(), "{run}");

    // Stopped after its first epoch and resumed, the run counts the steps its first process
    // skipped too (the checkpoint keeps the count).
    let split = runs.path().join("skip-resumed");
    let skip = |epochs: &'static str| {
        let mut args = [&base[..], &["--out", s(&split), "--on-nonfinite", "skip"]].concat();
        args[12] = epochs;
        args
    };
    assert_eq!(base[11], "--epochs");
    ok(&etaprobe(&skip("1")));
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(split.join("run.json")).unwrap()).unwrap();
    assert!(
        first["totals"]["skipped_steps"].as_u64().unwrap() > 0,
        "{first}"
    );
    ok(&etaprobe(&[
        "train",
        "--resume",
        s(&split),
        "--epochs",
        "2",
    ]));
    let resumed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(split.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        resumed["totals"]["skipped_steps"], run["totals"]["skipped_steps"],
        "{resumed}"
    );
    // And it goes on exactly as the run that did not stop: the checkpoint keeps the weights
    // from before its last update, which a bad loss on the first step after sends it back to.
    let steps = |dir: &std::path::Path| std::fs::read_to_string(dir.join("steps.csv")).unwrap();
    assert_eq!(steps(&split), steps(&out));
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
    // --lr-from-stat says which η of --lr-from's run: alone it means nothing.
    let o = etaprobe(&[&base[..], &["--lr-from-stat", "median", "--out", s(&third)]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--lr-from <RUN_DIR>"));
    // A resume continues at its checkpoint's η: --lr-from is ignored there, as the
    // warning says, and does not make the resume refused as a change of --lr.
    let short = runs.path().join("short");
    ok(&etaprobe(
        &[&base[..], &["--max-steps", "2", "--out", s(&short)]].concat(),
    ));
    let o = etaprobe(&[
        "train",
        "--resume",
        s(&short),
        "--lr-from",
        s(&first),
        "--max-steps",
        "4",
    ]);
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("is ignored: --resume continues at the checkpoint's η"),
        "{stderr}"
    );
    let steps = std::fs::read_to_string(short.join("steps.csv")).unwrap();
    assert_eq!(steps.lines().count(), 1 + 4, "{steps}");
    // An η that would be infinite on the GPU is refused, as on the command line.
    let huge = runs.path().join("huge");
    std::fs::create_dir(&huge).unwrap();
    let mut lines: Vec<String> = epochs.lines().map(String::from).collect();
    let last = lines.last_mut().unwrap();
    let mut fields: Vec<&str> = last.split(',').collect();
    fields[5] = "1e39";
    *last = fields.join(",");
    std::fs::write(huge.join("epochs.csv"), lines.join("\n") + "\n").unwrap();
    let fourth = runs.path().join("fourth");
    let o = etaprobe(&[&base[..], &["--lr-from", s(&huge), "--out", s(&fourth)]].concat());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("too large for an f32"), "{stderr}");
    assert!(!fourth.exists());
}

/// --probe-on fresh (GeN's own probe batch): another training batch per probed step, drawn
/// from a stream of its own, so the probes differ from those on the step's batch while the
/// steps' gradients do not; a stopped run resumes to the same bits; bad options refused.
#[test]
fn probing_on_a_fresh_training_batch_trains_resumes_and_checks_its_options() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 96, 16);
    let runs = tempfile::tempdir().unwrap();
    let rule = [
        "--batch-size",
        "16",
        "--epochs",
        "2",
        "--lr",
        "0.05",
        "--schedule",
        "gen",
        "--gen-every",
        "1",
        "--gen-fit",
        "three-point",
        "--gen-clamp",
        "2",
        "-q",
    ];
    let base = [&logreg_fm(&data)[..], &rule[..]].concat();
    let run = |name: &str, extra: &[&str]| {
        let out = runs.path().join(name);
        ok(&etaprobe(&[&base[..], extra, &["--out", s(&out)]].concat()));
        out
    };
    let probes = |dir: &std::path::Path| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
        text.lines().skip(1).map(str::to_string).collect()
    };
    let own = run("own", &[]);
    let fresh = run("fresh", &["--probe-on", "fresh"]);
    let (own_steps, fresh_steps) = (probes(&own), probes(&fresh));
    // 96 samples of 16: 6 steps an epoch, 12 in all.
    assert_eq!(fresh_steps.len(), 12, "{fresh_steps:?}");
    // Step 1 trains on the same batch at the same η: the same loss; its probes (the
    // columns after step, epoch, loss and η) score another batch.
    let cells = |line: &str| line.split(',').map(str::to_string).collect::<Vec<_>>();
    let (a, b) = (cells(&own_steps[0]), cells(&fresh_steps[0]));
    assert_eq!(a[..4], b[..4], "step 1: {a:?} vs {b:?}");
    assert_ne!(a[4..], b[4..], "step 1's probes: {a:?} vs {b:?}");
    // On the step's own batch the three-point probes at −η, −η/2, 0, η/2, η fall along
    // −g, and f(0) is the step's loss at w(t).
    let probes_of =
        |line: &[String]| -> Vec<f64> { line[2..9].iter().map(|v| v.parse().unwrap()).collect() };
    let v = probes_of(&a);
    let (loss, f) = (v[0], &v[2..]);
    assert!(f.windows(2).all(|w| w[0] > w[1]), "step 1's probes: {f:?}");
    assert!(
        (f[2] - loss).abs() <= 1e-5 * loss,
        "f(0) {} vs loss {loss}",
        f[2]
    );
    // The three-point fit's probes are at −η, −η/2, 0, η/2, η: rule.csv records its fits.
    let rule = std::fs::read_to_string(fresh.join("rule.csv")).unwrap();
    assert_eq!(rule.lines().count(), 13, "{rule}");
    // Stopped after step 5 and resumed: the same steps, the same bits.
    let resumed = run("resumed", &["--probe-on", "fresh", "--max-steps", "5"]);
    let checkpoint = resumed.join("checkpoint.safetensors");
    ok(&etaprobe(
        &[
            &base[..],
            &["--probe-on", "fresh", "--resume", s(&checkpoint)],
        ]
        .concat(),
    ));
    assert_eq!(probes(&resumed), fresh_steps);
    // Each with --schedule gen but the first; later options override the base's.
    for (schedule, extra, message) in [
        (
            "basic",
            vec!["--probe-on", "fresh"],
            "--probe-on fresh needs a schedule that probes: --schedule newton or gen",
        ),
        (
            "gen",
            vec!["--probe-on", "fresh", "--batch-size", "128"],
            "--probe-on fresh draws whole batches of 128 from the training set, which holds 96",
        ),
        (
            "gen",
            vec!["--gen-clamp", "0.5"],
            "must be a finite number ≥ 1",
        ),
        ("gen", vec!["--gen-fit", "two-point"], "'two-point'"),
    ] {
        let bad = runs.path().join("bad");
        let mut args: Vec<&str> = base.clone();
        let at = args.iter().position(|a| *a == "--schedule").unwrap();
        args[at + 1] = schedule;
        for pair in extra.chunks(2) {
            match args.iter().position(|a| *a == pair[0]) {
                Some(i) => args[i + 1] = pair[1],
                None => args.extend(pair),
            }
        }
        args.extend(["--out", s(&bad)]);
        let o = etaprobe(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(!bad.exists(), "{extra:?} wrote a run");
    }
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
            "'1.5' for '--val-split <F>'",
        ),
        // 8 samples left to train on: no whole batch of 16.
        (
            vec!["--schedule", "basic", "--val-split", "0.9", "--drop-last"],
            "fewer than one batch of 16 with --drop-last",
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
        assert!(!runs.path().join("bad").exists(), "{extra:?} wrote a run");
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

/// An existing run is never overwritten silently: a new run into its folder is refused
/// (exit 2, naming --resume and --overwrite) and leaves every file as it was; --overwrite
/// replaces it whole, and removes nothing that is not the run's; a live run's lock refuses a second run; a dead one's is taken over.
#[test]
fn an_existing_run_folder_is_kept_unless_overwrite_is_given() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    let train = |extra: &[&str]| {
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
            "1",
            "--out",
            s(&out),
        ];
        etaprobe(&[&common[..], extra].concat())
    };
    ok(&train(&["--schedule", "newton", "--eval-every", "2"]));
    let files = |dir: &std::path::Path| {
        let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                let bytes = if e.path().is_file() {
                    std::fs::read(e.path()).unwrap()
                } else {
                    Vec::new()
                };
                (name, bytes)
            })
            .collect();
        all.sort();
        all
    };
    let before = files(&out);
    let o = train(&["--schedule", "basic"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("already holds a run")
            && stderr.contains("--resume")
            && stderr.contains("--overwrite"),
        "{stderr}"
    );
    assert_eq!(files(&out), before, "a refused run changed the folder");
    // --overwrite replaces the run whole: newton's rule-free logs and evals.csv are gone,
    // and a write a crash left half done; what is not the run's own stays.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join(".evals.csv.x1Yz.tmp"), "half").unwrap();
    // A kept record, gzipped: a resume of the new run would read it back as its own.
    std::fs::write(out.join("rule.csv.gz"), "newton's, kept").unwrap();
    std::fs::create_dir_all(out.join("older")).unwrap();
    std::fs::write(out.join("older").join("steps.csv"), "kept").unwrap();
    ok(&train(&["--schedule", "basic", "--overwrite"]));
    let names: Vec<String> = files(&out).into_iter().map(|(n, _)| n).collect();
    assert!(!names.iter().any(|n| n == "evals.csv"), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    assert!(!names.iter().any(|n| n == "rule.csv.gz"), "{names:?}");
    assert!(names.iter().any(|n| n == "steps.csv"), "{names:?}");
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(
        std::fs::read(out.join("older").join("steps.csv")).unwrap(),
        b"kept"
    );
    assert!(
        !names.iter().any(|n| n == etaprobe::rundir::LOCK),
        "the lock outlives the run"
    );
    let o = train(&[
        "--overwrite",
        "--resume",
        s(&out.join("checkpoint.safetensors")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // A live owner (this test process) holds the lock of a fresh folder: refused.
    let other = runs.path().join("locked");
    std::fs::create_dir_all(&other).unwrap();
    let lock = other.join(etaprobe::rundir::LOCK);
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    let mut args = vec![
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
        "--out",
        s(&other),
    ];
    let o = etaprobe(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another etaprobe run"), "{stderr}");
    assert!(!other.join("steps.csv").exists());
    // A dead owner's lock is reported and taken over.
    std::fs::write(&lock, "4194303\n").unwrap();
    args.push("--seed");
    args.push("1");
    let o = etaprobe(&args);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("stale lock"));
    assert!(!lock.exists());
}

#[test]
fn a_validation_split_is_held_out_and_evaluated_every_epoch() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 80, 16);
    let runs = tempfile::tempdir().unwrap();
    let (full, part) = (runs.path().join("full"), runs.path().join("part"));
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
        "2",
        "--lr",
        "0.05",
        "--val-split",
        "0.25",
    ];
    ok(&etaprobe(&[&base[..], &["--out", s(&full)]].concat()));
    let epochs = std::fs::read_to_string(full.join("epochs.csv")).unwrap();
    let lines: Vec<&str> = epochs.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,val_loss,val_acc"
    );
    assert_eq!(lines.len(), 3, "{epochs}");
    for r in etaprobe::rundir::read_epochs(full.join("epochs.csv")).unwrap() {
        let acc = r.val_acc.unwrap();
        assert!(r.val_loss.unwrap().is_finite() && (0.0..=1.0).contains(&acc));
        // 20 validation samples: accuracy in twentieths.
        assert!((acc * 20.0 - (acc * 20.0).round()).abs() < 1e-9, "{acc}");
    }
    // 80 training samples less the 20 held out: 4 steps of 16 an epoch.
    let steps = std::fs::read_to_string(full.join("steps.csv")).unwrap();
    assert_eq!(steps.lines().count(), 9, "{steps}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(full.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["config"]["val_split"], 0.25);
    assert!(run["totals"]["final_val_acc"].is_number(), "{run}");

    // Stopped inside the second epoch and resumed: the same records.
    ok(&etaprobe(
        &[&base[..], &["--out", s(&part), "--max-steps", "5"]].concat(),
    ));
    let ckpt = part.join("checkpoint.safetensors");
    // The split shapes the run: resuming without it is refused.
    let o = etaprobe(&[&base[..13], &["--resume", s(&ckpt)]].concat());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--val-split 0.25 (now unset)"), "{stderr}");
    ok(&etaprobe(&[&base[..], &["--resume", s(&ckpt)]].concat()));
    let without_seconds = |dir: &std::path::Path| -> Vec<(usize, f64, Option<f64>, Option<f64>)> {
        etaprobe::rundir::read_epochs(dir.join("epochs.csv"))
            .unwrap()
            .iter()
            .map(|r| (r.epoch, r.train_loss, r.val_loss, r.val_acc))
            .collect()
    };
    assert_eq!(without_seconds(&full), without_seconds(&part));
    assert_eq!(
        std::fs::read_to_string(part.join("steps.csv")).unwrap(),
        steps
    );
}

/// A folder without a run but with a file the run would write (a hand-written
/// `config.toml` the run was started from, a figure of the user's) is refused, the files
/// as they were; --overwrite replaces them.
#[test]
fn a_users_file_with_a_runs_name_is_not_written_over() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("myexp");
    std::fs::create_dir_all(&out).unwrap();
    let config = out.join("config.toml");
    let mine = format!(
        "# my experiment, tuned by hand\nmodel = \"logreg\"\ndataset = \"fashion-mnist\"\n\
         data = {:?}\nbatch-size = 16\nepochs = 1\n",
        s(&data)
    );
    std::fs::write(&config, &mine).unwrap();
    std::fs::write(out.join("loss.svg"), "my figure").unwrap();
    let run = |extra: &[&str]| {
        let args = [
            &["train", "--config", s(&config), "--out", s(&out)][..],
            extra,
        ]
        .concat();
        etaprobe(&args)
    };
    let o = run(&[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("holds config.toml, loss.svg, which the run would write over"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), mine);
    assert_eq!(std::fs::read(out.join("loss.svg")).unwrap(), b"my figure");
    assert!(!out.join("steps.csv").exists());
    // Asked for: the run replaces them (its own config.toml holds every option).
    ok(&run(&["--overwrite"]));
    assert!(out.join("steps.csv").exists());
    assert!(
        !out.join("loss.svg").exists(),
        "a PNG run's folder keeps no SVG of before"
    );
    assert!(std::fs::read_to_string(&config)
        .unwrap()
        .contains("batch-size = 16"));
}

/// Values that run, but not as their names say, are said: a batch larger than the training
/// set, an evaluation subset as large as the test set.
#[test]
fn a_batch_or_subset_larger_than_the_data_is_said() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 40, 10);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("r");
    let options = [
        "--batch-size",
        "100",
        "--eval-subset",
        "1000",
        "--epochs",
        "1",
        "--out",
        s(&out),
    ];
    let o = etaprobe(&[&logreg_fm(&data)[..], &options].concat());
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--batch-size 100 is more than the 40 training samples"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--eval-subset 1000 is not less than the 10 test samples"),
        "{stderr}"
    );
}

/// A run resumed with another --figure-format ends with that format's figures only (the
/// earlier sitting's stopped where it stopped); a warmup is given in whole epochs.
#[test]
fn a_resume_in_another_figure_format_leaves_no_stale_figures() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("r");
    let base = [
        &logreg_fm(&data)[..],
        &["--batch-size", "16", "--epochs", "2"],
    ]
    .concat();
    ok(&etaprobe(
        &[&base[..], &["--max-steps", "5", "--out", s(&out)]].concat(),
    ));
    assert!(out.join("loss.png").is_file());
    ok(&etaprobe(&[
        "train",
        "--resume",
        s(&out),
        "--figure-format",
        "svg",
        "--max-steps",
        "8",
    ]));
    assert!(out.join("loss.svg").is_file());
    assert!(
        !out.join("loss.png").exists(),
        "the first sitting's PNG stayed"
    );
    let o = etaprobe(&[&base[..], &["--warmup-epochs", "0.5"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"0.5\" is not a whole number"));
}
