//! Run configurations: every run directory's config.toml reproduces its run through
//! `--config`, the command line overrides a configuration, `--resume RUN_DIR` continues a
//! run from its own configuration, and a bad configuration names its line.

use std::path::Path;

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, ok, s};

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

fn config_of(dir: &Path) -> serde_json::Value {
    let mut run: serde_json::Value = serde_json::from_str(&read(dir, "run.json")).unwrap();
    run["config"]["out"] = serde_json::Value::Null;
    run["config"]["config"] = serde_json::Value::Null;
    run["config"].take()
}

#[test]
fn a_runs_config_toml_reproduces_it_and_the_command_line_overrides_it() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 80, 16);
    let runs = tempfile::tempdir().unwrap();
    let first = runs.path().join("first");
    ok(&etaprobe(&[
        "train",
        "--model",
        "logreg",
        "--dataset",
        "fashion-mnist",
        "--data",
        s(&data),
        "--lr",
        "0.03",
        "--batch-size",
        "12",
        "--epochs",
        "2",
        "--seed",
        "9",
        "--schedule",
        "secant",
        "--weight-decay",
        "0.0001",
        "--val-split",
        "0.25",
        "--drop-last",
        "--out",
        s(&first),
    ]));
    let config = first.join("config.toml");
    let text = read(&first, "config.toml");
    assert!(text.contains("batch-size = 12"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("out ")), "{text}");

    let again = runs.path().join("again");
    ok(&etaprobe(&[
        "train",
        "--config",
        s(&config),
        "--out",
        s(&again),
    ]));
    assert_eq!(read(&first, "steps.csv"), read(&again, "steps.csv"));
    assert_eq!(read(&first, "rule.csv"), read(&again, "rule.csv"));
    assert_eq!(config_of(&first), config_of(&again));
    assert_eq!(text, read(&again, "config.toml"));
    // run.json says what started the run and from which code.
    let run: serde_json::Value = serde_json::from_str(&read(&again, "run.json")).unwrap();
    let command: Vec<&str> = run["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(
        command[1..],
        ["train", "--config", s(&config), "--out", s(&again)]
    );
    assert!(!run["git_commit"].as_str().unwrap().is_empty(), "{run}");

    let other = runs.path().join("other");
    ok(&etaprobe(&[
        "train",
        "--config",
        s(&config),
        "--seed",
        "10",
        "--out",
        s(&other),
    ]));
    assert_eq!(config_of(&other)["seed"], 10);
    assert_eq!(config_of(&other)["batch_size"], 12);
    assert_ne!(read(&first, "steps.csv"), read(&other, "steps.csv"));
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn resume_run_dir_continues_from_its_own_configuration() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let common = |out: &Path| -> Vec<String> {
        [
            "train",
            "--model",
            "logreg",
            "--dataset",
            "fashion-mnist",
            "--data",
            s(&data),
            "--schedule",
            "auto",
            "--lr",
            "0.2",
            "--batch-size",
            "16",
            "--epochs",
            "3",
            "--out",
            s(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let straight = runs.path().join("straight");
    ok(&etaprobe(&strs(&common(&straight))));
    let out = runs.path().join("stopped");
    let mut stopped = common(&out);
    stopped.extend(["--max-steps".into(), "5".into()]);
    ok(&etaprobe(&strs(&stopped)));
    ok(&etaprobe(&[
        "train",
        "--resume",
        s(&out),
        "--max-steps",
        "8",
    ]));
    // A --config beside it goes over the run's own configuration, not in its place.
    let more = runs.path().join("more.toml");
    std::fs::write(&more, "max-steps = 12\n").unwrap();
    ok(&etaprobe(&[
        "train",
        "--resume",
        s(&out),
        "--config",
        s(&more),
    ]));
    assert_eq!(read(&straight, "steps.csv"), read(&out, "steps.csv"));
    assert_eq!(read(&straight, "rule.csv"), read(&out, "rule.csv"));
}

#[test]
fn a_run_started_with_a_relative_data_path_resumes_from_anywhere() {
    let (d, _data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    // Started from the data's folder with `--data .`, stopped after 3 steps.
    let started = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .current_dir(d.path())
        .args([
            "train",
            "--model",
            "logreg",
            "--dataset",
            "fashion-mnist",
            "--data",
            ".",
        ])
        .args([
            "--batch-size",
            "16",
            "--epochs",
            "1",
            "--max-steps",
            "3",
            "--out",
            s(&out),
        ])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    ok(&started);
    let config = read(&out, "config.toml");
    let data = toml::from_str::<toml::Table>(&config).unwrap()["data"].clone();
    let recorded = Path::new(data.as_str().unwrap()).canonicalize().unwrap();
    assert_eq!(recorded, d.path().canonicalize().unwrap(), "{config}");
    // Continued from elsewhere (the tests' own directory), past where it stopped.
    ok(&etaprobe(&[
        "train",
        "--resume",
        s(&out),
        "--max-steps",
        "4",
    ]));
    assert_eq!(read(&out, "steps.csv").lines().count(), 1 + 4);
    // The data moved: the resume says where it looked and how to name the new place.
    let moved = runs.path().join("moved");
    std::fs::rename(d.path(), &moved).unwrap();
    let more = ["--epochs", "2", "--max-steps", "5"];
    let o = etaprobe(&[&["train", "--resume", s(&out)][..], &more].concat());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("resume with --data PATH"), "{stderr}");
    ok(&etaprobe(
        &[
            &["train", "--resume", s(&out), "--data", s(&moved)][..],
            &more,
        ]
        .concat(),
    ));
    assert_eq!(read(&out, "steps.csv").lines().count(), 1 + 5);
}

#[test]
fn a_bad_configuration_is_refused_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.toml");
    for (text, message) in [
        (
            "model = \"logreg\"\nbatch-sise = 3\n",
            "line 2: \"batch-sise\" is not an option",
        ),
        (
            "# a comment\n\nbatch-size = \"many\"\n",
            "line 3: invalid value 'many' for '--batch-size",
        ),
        (
            "epochs = 0\n",
            "line 1: invalid value '0' for '--epochs <N>': must be at least 1",
        ),
        ("lr = 1e39\n", "too large for an f32"),
        ("model = [1, {a = 2}]\n", "line 1"),
        ("this is not toml\n", "run.toml"),
        ("out = \"x\"\n", "line 1: --out goes on the command line"),
        ("lr-from = \"runs/a\"\n", "line 1: --lr-from goes on the command line"),
        // A flag is true or false, and only a flag is.
        ("lr = false\n", "line 1: lr = false: --lr takes a value, not true or false"),
        (
            "epochs = 2\naugment = \"yes\"\n",
            "line 2: augment = \"yes\": --augment is a flag: write augment = true or augment = false",
        ),
        // A table: named at its header's line.
        ("epochs = 2\n\n[lr]\nx = 1\n", "line 3: lr = "),
        (
            "epochs = 2\n[[lr]] # a list of tables\nx = 1\n",
            "line 2: lr = ",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let o = etaprobe(&[
            "train",
            "--config",
            s(&file),
            "--out",
            s(&dir.path().join("never")),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(message), "{text}: {stderr}");
        assert!(!dir.path().join("never").exists(), "{text}");
    }
}

#[test]
fn default_run_names_differ_for_configurations_that_differ() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 32, 16);
    let cwd = tempfile::tempdir().unwrap();
    let run_in = |cwd: &std::path::Path, more: &[&str]| {
        let mut args = vec![
            "train",
            "--model",
            "logreg",
            "--dataset",
            "fashion-mnist",
            "--data",
            s(&data),
            "--epochs",
            "1",
        ];
        args.extend_from_slice(more);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
            .args(&args)
            .current_dir(cwd)
            .env_remove("ETAPROBE_DATA")
            .output()
            .unwrap();
        ok(&o);
    };
    let run = |more: &[&str]| run_in(cwd.path(), more);
    run(&[]);
    run(&["--batch-size", "16"]);
    run(&["--batch-size", "16", "--drop-last"]);
    run(&["--weight-decay", "0.001", "--optimizer", "momentum"]);
    let mut names: Vec<String> = std::fs::read_dir(cwd.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "logreg-fashion-mnist-basic-lr0.01-seed0-epochs1",
            "logreg-fashion-mnist-basic-lr0.01-seed0-epochs1-optimizermomentum-weight-decay0.001",
            "logreg-fashion-mnist-basic-lr0.01-seed0-batch-size16-drop-last-epochs1",
            "logreg-fashion-mnist-basic-lr0.01-seed0-batch-size16-epochs1",
        ]
        .map(String::from)
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    // Options this run ignores (another rule's, another optimizer's) do not shape it, nor
    // its name.
    let other = tempfile::tempdir().unwrap();
    run_in(other.path(), &["--gen-damping", "0.2", "--momentum", "0.5"]);
    let names: Vec<String> = std::fs::read_dir(other.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["logreg-fashion-mnist-basic-lr0.01-seed0-epochs1"]);
}

#[test]
fn train_config_has_the_command_lines_defaults_and_deserializes_partially() {
    use etaprobe::train::TrainConfig;
    let defaults = TrainConfig::default();
    assert_eq!((defaults.batch_size, defaults.epochs), (32, 10));
    assert_eq!(defaults.schedule, "basic");
    // Only the fields given; the rule's and the optimizer's flattened options by name.
    let config: TrainConfig = toml::from_str(
        "epochs = 3\nschedule = \"auto\"\nmomentum = 0.5\nhd_beta = 0.1\n\n[data]\ndataset = \"fashion-mnist\"\n",
    )
    .unwrap();
    assert_eq!(config.epochs, 3);
    assert_eq!(config.schedule, "auto");
    assert_eq!(config.optim.momentum, 0.5);
    assert_eq!(config.rule.hypergradient.hd_beta, 0.1);
    assert_eq!(config.data.dataset, DatasetKind::FashionMnist);
    assert_eq!(config.batch_size, 32);
    // What run.json stores reads back as the same configuration.
    let stored = serde_json::to_value(&config).unwrap();
    let back: TrainConfig = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), stored);
    // The builder sets what it says.
    let built = TrainConfig::default()
        .schedule("secant")
        .lr(0.2)
        .epochs(4)
        .batch_size(8)
        .seed(3);
    assert_eq!(
        (
            built.schedule.as_str(),
            built.lr,
            built.epochs,
            built.batch_size,
            built.seed
        ),
        ("secant", Some(0.2), 4, 8, 3)
    );
}

/// `--config` reads any readable file: `--config <(...)` and `--config /dev/stdin` are
/// pipes.
#[cfg(unix)]
#[test]
fn a_configuration_may_come_through_a_pipe() {
    use std::io::Write;
    let (_d, data) = crate::common::fake(etaprobe::data::DatasetKind::FashionMnist, 32, 8);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args([
            "train",
            "--config",
            "/dev/stdin",
            "--data",
            s(&data),
            "--out",
            s(&out),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let config = "model = \"logreg\"\ndataset = \"fashion-mnist\"\nepochs = 1\nbatch-size = 8\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(config.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    crate::common::ok(&o);
    let written = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(written.contains("batch-size = 8"), "{written}");
}
