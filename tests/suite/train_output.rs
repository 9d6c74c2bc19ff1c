//! What a run says while it trains: `--quiet`, `--verbose`, and `--eval-subset` for quick
//! runs.

use std::path::Path;

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, logreg_fm, ok, s};

fn run(data: &Path, out: &Path, more: &[&str]) -> String {
    let mut args = [
        &logreg_fm(data)[..],
        &["--batch-size", "8", "--epochs", "2", "--out", s(out)],
    ]
    .concat();
    args.extend_from_slice(more);
    let o = etaprobe(&args);
    ok(&o);
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn quiet_says_only_the_end_and_verbose_every_step() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 32, 16);
    let runs = tempfile::tempdir().unwrap();
    let normal = run(&data, &runs.path().join("normal"), &[]);
    assert!(normal.contains("epoch 1/2 train loss"), "{normal}");
    assert!(normal.contains("using adapter"), "{normal}");
    let quiet = run(&data, &runs.path().join("quiet"), &["-q"]);
    assert!(!quiet.contains("epoch 1/2"), "{quiet}");
    assert!(!quiet.contains("using adapter"), "{quiet}");
    assert!(quiet.contains("done: 8 steps"), "{quiet}");
    let verbose = run(&data, &runs.path().join("verbose"), &["--verbose"]);
    for step in 1..=8 {
        assert!(
            verbose.contains(&format!(" step {step}/8 loss ")),
            "step {step}: {verbose}"
        );
    }
    assert!(verbose.contains("left"), "no time left: {verbose}");
    let both = etaprobe(&[
        "train",
        "--quiet",
        "--verbose",
        "--out",
        s(&runs.path().join("both")),
    ]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn a_validation_split_is_shown_before_the_test_set() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 40, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("val");
    let said = run(
        &data,
        &out,
        &["--val-split", "0.2", "--figure-format", "svg"],
    );
    let epochs = std::fs::read_to_string(out.join("epochs.csv")).unwrap();
    let last: Vec<&str> = epochs.lines().last().unwrap().split(',').collect();
    let header: Vec<&str> = epochs.lines().next().unwrap().split(',').collect();
    let column = |name: &str| {
        let at = header.iter().position(|h| *h == name).unwrap();
        last[at].parse::<f64>().unwrap()
    };
    let line = said
        .lines()
        .find(|l| l.starts_with("epoch 2/2 train loss"))
        .unwrap_or_else(|| panic!("{said}"));
    let (val, test) = (
        line.find(" val acc ").unwrap(),
        line.find(" test acc ").unwrap(),
    );
    assert!(val < test, "{line}");
    let val_text = format!(" val acc {:.2}%", 100.0 * column("val_acc"));
    assert!(line.contains(&val_text), "{val_text} not in {line}");
    assert!(
        line.contains(&format!(" val loss {:.5}", column("val_loss"))),
        "{line}"
    );
    let done = said.lines().find(|l| l.starts_with("done: ")).unwrap();
    assert!(
        done.contains(&format!(
            ", validation accuracy {:.2}%",
            100.0 * column("val_acc")
        )),
        "{done}"
    );
    // The run's figures draw the validation split beside train and test.
    for figure in ["loss.svg", "accuracy.svg", "wall-clock.svg"] {
        let svg = std::fs::read_to_string(out.join(figure)).unwrap();
        assert!(svg.contains("\nvalidation\n"), "{figure}");
    }
    // Without one, nothing of it is said or drawn.
    let plain = runs.path().join("plain");
    let said = run(&data, &plain, &["--figure-format", "svg"]);
    assert!(
        !said.contains("val ") && !said.contains("validation"),
        "{said}"
    );
    let svg = std::fs::read_to_string(plain.join("loss.svg")).unwrap();
    assert!(!svg.contains("validation"));
}

#[test]
fn eval_subset_evaluates_part_of_the_test_set() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 32, 16);
    let runs = tempfile::tempdir().unwrap();
    let test_columns = |dir: &Path| -> Vec<String> {
        std::fs::read_to_string(dir.join("epochs.csv"))
            .unwrap()
            .lines()
            .map(|l| l.split(',').skip(3).take(2).collect::<Vec<_>>().join(","))
            .collect()
    };
    let (full, all, part) = (
        runs.path().join("full"),
        runs.path().join("all"),
        runs.path().join("part"),
    );
    run(&data, &full, &[]);
    run(&data, &all, &["--eval-subset", "16"]);
    run(&data, &part, &["--eval-subset", "5"]);
    assert_eq!(test_columns(&full), test_columns(&all));
    assert_ne!(test_columns(&full), test_columns(&part));
    // The training itself is the same.
    let steps = |d: &Path| std::fs::read_to_string(d.join("steps.csv")).unwrap();
    assert_eq!(steps(&full), steps(&part));
}

#[test]
fn metrics_jsonl_holds_every_step_and_epoch_of_the_csvs() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 32, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = runs.path().join("run");
    run(&data, &out, &["--schedule", "newton"]);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps = etaprobe::rundir::read_steps(out.join("steps.csv")).unwrap();
    let epochs = etaprobe::rundir::read_epochs(out.join("epochs.csv")).unwrap();
    let of = |t: &str| lines.iter().filter(|l| l["type"] == t).collect::<Vec<_>>();
    assert_eq!(of("step").len(), steps.len());
    assert_eq!(of("epoch").len(), epochs.len());
    for (line, step) in of("step").iter().zip(&steps) {
        assert_eq!(line["step"], step.step);
        assert_eq!(line["loss"].as_f64(), Some(step.loss));
        assert_eq!(line["lr"].as_f64(), Some(step.lr));
        let probe = step.probe.as_ref().map(|p| p.f.to_vec());
        let losses = line["probe"]["losses"]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>());
        assert_eq!(losses, probe);
    }
    for (line, epoch) in of("epoch").iter().zip(&epochs) {
        assert_eq!(line["epoch"], epoch.epoch);
        assert_eq!(line["test_acc"].as_f64(), epoch.test_acc);
    }
}
