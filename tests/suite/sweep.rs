//! `etaprobe sweep` and `etaprobe compare` on a tiny grid (logistic regression on a few
//! hundred generated samples, 2 rules × 2 seeds, 2 epochs): every cell runs; a sweep killed
//! after its first cell, run again, skips that cell untouched and ends with the records of
//! a sweep never killed; bad specs are refused with their line; compare's tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, ok, refused, s};
use crate::hand_root::{csv_rows, hand_run, set_config, HandRoot};

/// The tiny grid's spec, with `data` as given.
fn spec_text(data: &Path) -> String {
    format!(
        r#"# the tiny grid of the sweep tests
seeds = [1, 2]
checkpoint-every = 3

[[task]]
name = "logreg"
model = "logreg"
dataset = "fashion-mnist"
data = "{}"
batch-size = 32
epochs = 2
val-split = 0.2

[[rule]]
name = "basic"
lr = [0.05]

[[rule]]
name = "secant"
lr = [0.05]
"#,
        data.display()
    )
}

const CELLS: [&str; 4] = [
    "logreg/basic/lr0.05/seed1",
    "logreg/secant/lr0.05/seed1",
    "logreg/basic/lr0.05/seed2",
    "logreg/secant/lr0.05/seed2",
];

/// Every file of a directory tree with its contents and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                out.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    (bytes, modified),
                );
            }
        }
    }
    out
}

fn finished(run: &Path) -> bool {
    std::fs::read_to_string(run.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v["finished"].is_string() && v["totals"]["stopped"].is_null())
}

#[test]
fn a_killed_sweep_picks_up_where_it_stopped_and_compare_reports_it() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 300, 100);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("tiny.toml");
    std::fs::write(&spec, spec_text(&data)).unwrap();

    // A sweep never killed, two cells at a time.
    let whole = dir.path().join("whole");
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&whole), "--jobs", "2"]);
    ok(&o);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains("[4/4 done, 0 running, 0 failed]"), "{log}");
    for cell in CELLS {
        assert!(finished(&whole.join(cell)), "{cell}: {log}");
        let epochs = std::fs::read_to_string(whole.join(cell).join("epochs.csv")).unwrap();
        assert!(epochs.starts_with("epoch,") && epochs.contains(",val_loss,val_acc"));
        assert_eq!(epochs.lines().count(), 3, "{cell}: {epochs}");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("sweep.json")).unwrap()).unwrap();
    let cells = manifest["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    for (cell, want) in cells.iter().zip(CELLS) {
        assert_eq!(cell["dir"], want);
        assert_eq!(cell["status"], "finished");
        let command: Vec<&str> = cell["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(command[..2], ["etaprobe", "train"]);
        assert!(command.contains(&"--checkpoint-every"), "{command:?}");
        assert!(
            command.contains(&s(&whole.join(want))),
            "{command:?} has no --out {want}"
        );
    }

    // The same sweep, killed once its first cell has finished (one job: cells in order).
    let root = dir.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(["sweep", s(&spec), "--root", s(&root), "--jobs", "1"])
        .env_remove("ETAPROBE_DATA")
        .env_remove("ETAPROBE_ADAPTER")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = root.join(CELLS[0]);
    let deadline = Instant::now() + Duration::from_secs(300);
    // `train` says "done" once its run.json and figures are written.
    let done = |run: &Path| {
        std::fs::read_to_string(run.join("train.log")).is_ok_and(|log| log.contains("\ndone: "))
    };
    while !(finished(&first) && done(&first)) {
        assert!(Instant::now() < deadline, "the first cell never finished");
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = snapshot(&first);
    // The second cell was killed somewhere in its run. The third, as a kill would leave
    // it after a checkpoint: its own command stopped at step 5 (checkpoints every 3 steps),
    // run.json not finished, and a record past the checkpoint that the resume must drop.
    let third = root.join(CELLS[2]);
    if third.exists() {
        std::fs::remove_dir_all(&third).unwrap();
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("sweep.json")).unwrap()).unwrap();
    let command: Vec<&str> = manifest["cells"][2]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    ok(&etaprobe(&[&command[1..], &["--max-steps", "5"]].concat()));
    let run_json = third.join("run.json");
    let mut info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run_json).unwrap()).unwrap();
    info.as_object_mut().unwrap().remove("finished");
    std::fs::write(&run_json, info.to_string()).unwrap();
    let mut steps = std::fs::OpenOptions::new()
        .append(true)
        .open(third.join("steps.csv"))
        .unwrap();
    std::io::Write::write_all(&mut steps, b"6,1,9,9\n").unwrap();
    // The fourth, interrupted before its first checkpoint: the next sweep must not build
    // on it.
    let last = root.join(CELLS[3]);
    std::fs::create_dir_all(&last).unwrap();
    std::fs::write(last.join("steps.csv"), "step,epoch,loss,lr\n1,1,9,9\n").unwrap();
    let attempt = "== etaprobe sweep, 2026-12-07T00:00:00Z: etaprobe train …\n";
    std::fs::write(last.join("train.log"), attempt).unwrap();

    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root), "--jobs", "1"]);
    ok(&o);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains("1 finished earlier"), "{log}");
    assert!(
        log.contains(&format!("start {} (resumed from its checkpoint)", CELLS[2])),
        "{log}"
    );
    assert!(
        log.contains("its earlier attempt left no checkpoint"),
        "{log}"
    );
    assert!(!log.contains(&format!("start {}", CELLS[0])), "{log}");
    assert_eq!(snapshot(&first), before, "the finished cell was touched");
    for cell in CELLS {
        assert!(finished(&root.join(cell)), "{cell}: {log}");
        // steps.csv, and rule.csv where the rule writes one: the same bytes.
        let logs = std::fs::read_dir(whole.join(cell))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".csv") && f != "epochs.csv");
        for file in logs {
            assert_eq!(
                std::fs::read_to_string(root.join(cell).join(&file)).unwrap(),
                std::fs::read_to_string(whole.join(cell).join(&file)).unwrap(),
                "{cell}/{file}"
            );
        }
        let without_seconds = |run: &Path| -> Vec<String> {
            std::fs::read_to_string(run.join("epochs.csv"))
                .unwrap()
                .lines()
                .map(|l| {
                    let mut c: Vec<&str> = l.split(',').collect();
                    c.remove(6);
                    c.join(",")
                })
                .collect()
        };
        assert_eq!(
            without_seconds(&root.join(cell)),
            without_seconds(&whole.join(cell)),
            "{cell}/epochs.csv"
        );
    }
    // The bogus attempt was moved aside, whole (with the second cell's when the kill came
    // before its first checkpoint).
    let aside = root.join(".aside/logreg/secant/lr0.05");
    let moved: Vec<PathBuf> = std::fs::read_dir(&aside)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed2.")
        })
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(
        std::fs::read_to_string(moved[0].join("steps.csv")).unwrap(),
        "step,epoch,loss,lr\n1,1,9,9\n"
    );

    // Nothing left to do: every cell skipped.
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root)]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("4 finished earlier"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // A root made by another spec is refused before anything runs.
    let other = spec_text(&data).replace("epochs = 2", "epochs = 3");
    std::fs::write(&spec, other).unwrap();
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--epochs 2 (now 3)"), "{stderr}");

    // compare: a table per task, as Markdown and CSV, and the figures.
    let out = dir.path().join("compare");
    let o = etaprobe(&[
        "compare",
        s(&whole),
        "--reference",
        "secant",
        "--target-acc",
        "0.05",
        "--out",
        s(&out),
    ]);
    ok(&o);
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(md.contains("## logreg"), "{md}");
    // What each rule ran, read from the manifest's cells.
    assert!(
        md.contains("- `basic`: `--schedule basic`\n- `secant`: `--schedule secant`\n"),
        "{md}"
    );
    assert!(
        md.contains("95% CI") && md.contains("t-distribution"),
        "{md}"
    );
    let csv = std::fs::read_to_string(out.join("logreg.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "header + one row per rule: {csv}");
    assert!(
        rows[0].starts_with("rule,schedule,train_options,lr,"),
        "{csv}"
    );
    assert!(
        rows[1].starts_with("basic,basic,--schedule basic,0.05,"),
        "{csv}"
    );
    assert!(
        rows[2].starts_with("secant,secant,--schedule secant,0.05,"),
        "{csv}"
    );
    // The Markdown table: a header, its rule, and a row per rule.
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| rule"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(table.len(), 4, "{md}");
    for figure in [
        "logreg-accuracy-epochs.png",
        "logreg-accuracy-time.png",
        "logreg-loss-epochs.png",
    ] {
        let png = std::fs::read(out.join(figure)).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{figure}");
    }
}

/// Runs `etaprobe sweep --dry-run` on `text` and returns its exit code and stderr.
fn check_spec(dir: &Path, text: &str) -> (Option<i32>, String) {
    let spec = dir.join("bad.toml");
    std::fs::write(&spec, text).unwrap();
    let root = dir.join("bad-root");
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root)]);
    assert!(!root.exists(), "a bad spec wrote {}", root.display());
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_bad_spec_is_refused_naming_its_line() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let dir = tempfile::tempdir().unwrap();
    let good = spec_text(&data);
    // The spec as given runs (a dry run lists its cells without running them).
    let spec = dir.path().join("good.toml");
    std::fs::write(&spec, &good).unwrap();
    let o = etaprobe(&[
        "sweep",
        s(&spec),
        "--dry-run",
        "--root",
        s(&dir.path().join("r")),
    ]);
    ok(&o);
    let listing = String::from_utf8_lossy(&o.stdout);
    assert_eq!(listing.lines().count(), 5, "{listing}");
    assert!(!dir.path().join("r").exists());

    let cases: Vec<(String, &str, &str)> = vec![
        // A TOML syntax error.
        (good.replace("epochs = 2", "epochs = = 2"), "line 11", ""),
        // An unknown key in a task.
        (
            good.replace("epochs = 2", "epochs = 2\nepoch = 3"),
            "line 12",
            "unknown field `epoch`",
        ),
        // At the top.
        (
            format!("seed = [1]\n{good}"),
            "line 1",
            "unknown field `seed`",
        ),
        // An unknown rule.
        (
            good.replace("\"secant\"", "\"secnat\""),
            "line 19",
            "unknown rule",
        ),
        // An option train does not have, and a value it refuses.
        (
            good.replace(
                "lr = [0.05]\n\n[[rule]]",
                "lr = [0.05]\noptions = { momentun = 0.9 }\n\n[[rule]]",
            ),
            "line 17",
            "unknown option `momentun`",
        ),
        (
            good.replace(
                "lr = [0.05]\n\n[[rule]]",
                "lr = [0.05]\noptions = { lr-decay = \"sideways\" }\n\n[[rule]]",
            ),
            "line 17",
            "sideways",
        ),
        // Empty lists.
        (
            good.replace("seeds = [1, 2]", "seeds = []"),
            "line 2",
            "empty",
        ),
        (
            good.replace("lr = [0.05]\n\n[[rule]]", "lr = []\n\n[[rule]]"),
            "line 16",
            "empty",
        ),
        // An option the sweep sets itself.
        (
            good.replace("val-split = 0.2", "val-split = 0.2\noptions = { seed = 3 }"),
            "line 13",
            "set by the sweep",
        ),
        // Options that would undo the sweep's bookkeeping or escape its checks.
        (
            good.replace(
                "val-split = 0.2",
                "val-split = 0.2\noptions = { overwrite = true }",
            ),
            "line 13",
            "set by the sweep",
        ),
        (
            good.replace(
                "val-split = 0.2",
                "val-split = 0.2\noptions = { config = \"x.toml\" }",
            ),
            "line 13",
            "set by the sweep",
        ),
        (
            good.replace(
                "val-split = 0.2",
                "val-split = 0.2\noptions = { lr-from = \"runs/a\" }",
            ),
            "line 13",
            "set by the sweep",
        ),
        // Options that do not go together: a rule defined over plain SGD with momentum.
        (
            good.replace(
                "name = \"secant\"",
                "name = \"dog\"\noptions = { optimizer = \"momentum\" }",
            ),
            "line 18",
            "plain SGD",
        ),
        // A task named as what the root keeps beside the tasks: compare's report folder.
        (
            good.replace("name = \"logreg\"", "name = \"compare\""),
            "line 6",
            "task name \"compare\" is taken",
        ),
        // A batch whose buffer sizes would overflow.
        (
            good.replace("batch-size = 32", "batch-size = 9223372036854775807"),
            "line 10",
            "more than 16777216",
        ),
    ];
    for (text, line, message) in cases {
        let (code, stderr) = check_spec(dir.path(), &text);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("bad.toml {line}:")),
            "want {line}: {stderr}"
        );
        assert!(stderr.contains(message), "want {message:?}: {stderr}");
    }
    // --jobs out of its range, before anything is written.
    for (jobs, message) in [("0", "at least 1"), ("100000", "at most 1024")] {
        let root = dir.path().join("jobs");
        let o = etaprobe(&["sweep", s(&spec), "--root", s(&root), "--jobs", jobs]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!root.exists());
    }
}

#[test]
fn compare_selects_on_validation_pairs_seeds_and_names_missing_cells() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    // auto at one η0; basic at two, the second with a diverged and a missing seed.
    let mut hand = HandRoot::new(&root);
    let mut cell = |rule: &str, lr: f64, seed: u64| hand.cell(rule, rule, lr, seed);
    let auto_test = [0.50, 0.60, 0.70];
    let basic_test = [0.55, 0.60, 0.62];
    for seed in 1..=3u64 {
        let i = seed as usize - 1;
        let s = seed as f64;
        hand_run(
            &cell("auto", 0.1, seed),
            &[(0.4, 0.75, 1.0 + s), (auto_test[i], 0.8, 2.0 + s)],
            None,
        );
        hand_run(
            &cell("basic", 0.01, seed),
            &[(0.3, 0.6, 1.0), (basic_test[i], 0.8, 2.0 + 0.2 * s)],
            None,
        );
    }
    hand_run(
        &cell("basic", 0.1, 1),
        &[(0.9, 0.5, 1.0), (0.9, 0.5, 2.0)],
        None,
    );
    hand_run(
        &cell("basic", 0.1, 2),
        &[(0.1, 0.1, 1.0)],
        Some("training diverged at step 12"),
    );
    let _never_run = cell("basic", 0.1, 3);
    hand.write_manifest();
    // The basic cells ran with options, as a spec's `options` gives them ("" for a flag).
    let manifest_path = root.join("sweep.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    // One of them (η0 0.1, seed 1) without: a rule directory two spec rules shared.
    for cell in manifest["cells"].as_array_mut().unwrap() {
        if cell["rule"] == "basic" && cell["dir"] != "t/basic/lr0.1/seed1" {
            cell["options"] = serde_json::json!({
                "optimizer": "momentum",
                "nesterov": "",
                "lr-milestones": "1, 2"
            });
        }
    }
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();

    let out = dir.path().join("report");
    let o = etaprobe(&["compare", s(&root), "--target-acc", "0.7", "--out", s(&out)]);
    ok(&o);
    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    assert_eq!(rows.len(), 2);
    let num = |row: &BTreeMap<String, String>, key: &str| -> f64 {
        row[key]
            .parse()
            .unwrap_or_else(|_| panic!("{key}: {:?}", row[key]))
    };
    let close = |got: f64, want: f64, what: &str| {
        assert!((got - want).abs() < 1e-6, "{what}: {got}, want {want}");
    };
    // t(0.975, 2), for three seeds.
    let t2 = 4.302652729911275;
    let (auto, basic) = (&rows[0], &rows[1]);
    assert_eq!(auto["rule"], "auto");
    // Three seeds 0.5, 0.6, 0.7: mean 0.6, s = 0.1, half-width t·0.1/√3.
    close(num(auto, "final_test_acc"), 0.6, "auto mean");
    close(
        num(auto, "final_test_acc_ci"),
        t2 * 0.1 / 3f64.sqrt(),
        "auto CI",
    );
    assert_eq!(auto["reference"], "auto", "auto is the default reference");
    assert_eq!(auto["paired_diff"], "");
    // Validation reached 0.7 at the first epoch: 10 steps, seconds 2, 3, 4 (median 3).
    close(num(auto, "steps_to_target_median"), 10.0, "steps");
    close(num(auto, "seconds_to_target_median"), 3.0, "seconds");
    // basic: η0 0.01 chosen on validation (0.8 against 0.5), whatever its test accuracy.
    assert_eq!(basic["lr"], "0.01");
    assert_eq!(basic["lr_grid"], "0.01 0.1");
    assert_eq!(basic["selected_on"], "val_acc");
    assert_eq!(
        (basic["seeds"].as_str(), basic["missing"].as_str()),
        ("3", "0")
    );
    close(num(basic, "final_test_acc"), 0.59, "basic mean");
    // Paired on seeds 1-3: 0.05, 0, -0.08.
    let d = [0.05, 0.0, -0.08];
    let mean = d.iter().sum::<f64>() / 3.0;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    close(num(basic, "paired_diff"), mean, "paired mean");
    close(
        num(basic, "paired_diff_ci"),
        t2 * sd / 3f64.sqrt(),
        "paired CI",
    );
    assert_eq!(basic["paired_n"], "3");
    close(num(basic, "steps_to_target_median"), 20.0, "basic steps");
    // Seconds per step: each run's seconds over its 20 steps.
    close(
        num(basic, "seconds_per_step"),
        0.12,
        "s/step: 2.2, 2.4, 2.6 s over 20 steps",
    );

    // The options in one quoted cell, as the Markdown list gives them (without its code).
    let ran = "--schedule basic --lr-milestones '1, 2' --nesterov --optimizer momentum; \
               --schedule basic";
    assert_eq!(basic["train_options"], ran);
    assert_eq!(auto["train_options"], "--schedule auto");

    let grid = csv_rows(&std::fs::read_to_string(out.join("t-grid.csv")).unwrap());
    assert_eq!(grid.len(), 3, "a row per rule and η0");
    assert_eq!(grid[2]["train_options"], ran);
    assert_eq!(
        (grid[1]["lr"].as_str(), grid[1]["selected"].as_str()),
        ("0.01", "1")
    );
    assert_eq!(
        (grid[2]["lr"].as_str(), grid[2]["seeds"].as_str()),
        ("0.1", "1")
    );
    assert_eq!(grid[2]["missing"], "2");

    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(md.contains("| `auto` | 0.1 | 3 | 60.00 ± 24.84 |"), "{md}");
    assert!(
        md.contains("0.01 (of 0.01, 0.1; the smallest of its grid)"),
        "{md}"
    );
    assert!(
        md.contains("`t/basic/lr0.1/seed2`: failed: training diverged at step 12"),
        "{md}"
    );
    assert!(md.contains("`t/basic/lr0.1/seed3`: missing"), "{md}");
    assert!(
        md.contains(
            "- `auto`: `--schedule auto`\n- `basic`: `--schedule basic --lr-milestones '1, 2' \
             --nesterov --optimizer momentum`; some cells: `--schedule basic`\n"
        ),
        "{md}"
    );
    // An unknown reference is an error naming the rules.
    let o = etaprobe(&["compare", s(&root), "--reference", "sgd", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("rules: auto, basic"));
}

#[test]
fn compare_leaves_out_damaged_records_and_says_why() {
    // Seed 1 is sound; seed 2's epochs.csv lost its rows, seed 3 holds a NaN validation
    // accuracy, seed 4 an accuracy of 5 and seed 5 a run.json cut short: each is left out,
    // named with its reason, instead of read as a result (or as an unfinished run).
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    let header = "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,val_loss,val_acc\n";
    for (seed, epochs) in [
        (1, None),
        (2, Some(header.to_string())),
        (
            3,
            Some(format!("{header}1,1.5,0.5,1.4,0.7,0.1,1,1.3,NaN\n")),
        ),
        (4, Some(format!("{header}1,1.5,0.5,1.4,0.7,0.1,1,1.3,5\n"))),
        (5, None),
    ] {
        let run_dir = hand.cell("basic", "basic", 0.1, seed);
        hand_run(&run_dir, &[(0.7, 0.8, 1.0)], None);
        if let Some(text) = epochs {
            std::fs::write(run_dir.join("epochs.csv"), text).unwrap();
        }
        if seed == 5 {
            let json = run_dir.join("run.json");
            let text = std::fs::read_to_string(&json).unwrap();
            std::fs::write(&json, &text[..text.len() / 2]).unwrap();
        }
    }
    hand.write_manifest();
    let out = dir.path().join("report");
    ok(&etaprobe(&["compare", s(&root), "--out", s(&out)]));
    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    assert_eq!(rows[0]["seeds"], "1", "{rows:?}");
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    // Into a folder holding a user's file of a table's name: refused, the file kept; the
    // report's own folder is written over.
    ok(&etaprobe(&["compare", s(&root), "--out", s(&out)]));
    let mine = dir.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("t.csv"), "mine").unwrap();
    let o = etaprobe(&["compare", s(&root), "--out", s(&mine)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("holds t.csv that this command would write over"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(mine.join("t.csv")).unwrap(), "mine");
    // The cell without rows does not make the task one without a validation split.
    assert!(!md.contains("no validation split"), "{md}");
    for says in [
        "`t/basic/lr0.1/seed2`: unreadable: ",
        "epochs.csv: no epoch rows, though run.json says the run finished",
        "epochs.csv: epoch 1: val_acc NaN is not an accuracy",
        "epochs.csv: epoch 1: val_acc 5 is not an accuracy",
        "`t/basic/lr0.1/seed5`: unreadable: ",
    ] {
        assert!(md.contains(says), "{says}: {md}");
    }
}

/// What a cell's run.json says is held against its other records: an epochs.csv cut short
/// (fewer rows than the epochs run.json counts) and a run that is not the cell's (another
/// command recorded) are left out and named; an epoch that trained on no batch (every step
/// undone: training accuracy NaN, written by the trainer) is a result like any other.
#[test]
fn compare_holds_a_cells_records_against_its_run_json() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let args = |seed: u64| {
        let words = format!("train --schedule basic --lr 0.1 --seed {seed} --model logreg");
        words.split(' ').map(String::from).collect::<Vec<_>>()
    };
    let mut hand = HandRoot::with_args(
        &root,
        (1..=4)
            .map(|seed| (format!("t/basic/lr0.1/seed{seed}"), args(seed)))
            .collect(),
    );
    for seed in 1..=4 {
        let run_dir = hand.cell("basic", "basic", 0.1, seed);
        hand_run(&run_dir, &[(0.6, 0.7, 1.0), (0.7, 0.8, 2.0)], None);
        let json = run_dir.join("run.json");
        let mut run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        // As `train` records it: the program, a global option, the cell's words, its folder.
        let mut command = vec!["etaprobe".to_string(), "--adapter".into(), "0".into()];
        command.extend(args(if seed == 3 { 9 } else { seed }));
        command.extend(["--out".to_string(), run_dir.to_string_lossy().into_owned()]);
        run["command"] = command.into();
        run["totals"]["epochs"] = 2.into();
        std::fs::write(&json, run.to_string()).unwrap();
    }
    let epochs = |seed: u64| root.join(format!("t/basic/lr0.1/seed{seed}/epochs.csv"));
    // Seed 2's last row lost; seed 4's second epoch trained on nothing.
    let text = std::fs::read_to_string(epochs(2)).unwrap();
    std::fs::write(
        epochs(2),
        text.lines().take(2).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let text = std::fs::read_to_string(epochs(4)).unwrap();
    std::fs::write(epochs(4), text.replace("2,1.5,0.5,", "2,NaN,NaN,")).unwrap();
    hand.write_manifest();
    let out = dir.path().join("report");
    ok(&etaprobe(&["compare", s(&root), "--out", s(&out)]));
    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    assert_eq!(rows[0]["seeds"], "2", "{rows:?}");
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    for says in [
        "`t/basic/lr0.1/seed2`: unreadable: ",
        "epochs.csv: its last row is epoch 1, but run.json says the run ended after epoch 2",
        "`t/basic/lr0.1/seed3`: unreadable: ",
        "its run.json records another run (`train --schedule basic --lr 0.1 --seed 9",
    ] {
        assert!(md.contains(says), "{says}: {md}");
    }
    assert!(!md.contains("seed4`"), "{md}");
}

#[test]
fn compare_counts_a_diverged_run_at_chance() {
    // One rule, two seeds: seed 1 finished (test 0.7), seed 2 diverged on CIFAR-10, so
    // it scores 1/10 on validation and test and the mean is 0.4 (docs/evaluation.md §2).
    // Seed 3 stopped on request: not a divergence, left out as unfinished (the sweep
    // resumes such a run).
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    for seed in 1..=3u64 {
        let run_dir = hand.cell("basic", "basic", 0.1, seed);
        let stopped = match seed {
            1 => None,
            2 => Some("η became NaN at step 12"),
            _ => Some("stopped on request after step 5"),
        };
        hand_run(&run_dir, &[(0.6, 0.7, 1.0), (0.7, 0.8, 2.0)], stopped);
        // As the trainer writes it: the data options nested under `data`.
        let data = serde_json::json!({"dataset": "cifar10", "coarse_labels": false});
        set_config(&run_dir, serde_json::json!({ "data": data }));
    }
    hand.write_manifest();
    let out = dir.path().join("report");
    ok(&etaprobe(&["compare", s(&root), "--out", s(&out)]));
    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    assert_eq!(rows[0]["seeds"], "2", "{rows:?}");
    let mean: f64 = rows[0]["final_test_acc"].parse().unwrap();
    assert!((mean - 0.4).abs() < 1e-9, "final test mean {mean}");
    let grid = csv_rows(&std::fs::read_to_string(out.join("t-grid.csv")).unwrap());
    let val: f64 = grid[0]["final_val_acc"].parse().unwrap();
    assert!((val - 0.45).abs() < 1e-9, "final validation mean {val}");
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(md.contains("Diverged, counted at chance"), "{md}");
    assert!(
        md.contains("`t/basic/lr0.1/seed2`: diverged: η became NaN at step 12"),
        "{md}"
    );
    assert!(md.contains("`t/basic/lr0.1/seed3`: unfinished"), "{md}");
}

#[test]
fn a_failed_cell_is_recorded_and_the_sweep_goes_on() {
    let (_d, data) = fake(DatasetKind::Boston, 64, 16);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("diverge.toml");
    // Linear regression at η0 = 1e10 overflows within its first steps: the run stops,
    // diverged; the cell after it runs.
    let text = format!(
        "seeds = [1, 2]\n[[task]]\nname = \"t\"\nmodel = \"linreg\"\ndataset = \"boston\"\n\
         data = \"{}\"\nbatch-size = 16\nepochs = 2\n[[rule]]\nname = \"basic\"\n\
         lr = [1e10, 0.001]\n",
        data.display()
    );
    std::fs::write(&spec, text).unwrap();
    let root = dir.path().join("root");
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("FAILED t/basic/lr1e10/seed1"), "{stderr}");
    assert!(
        stderr.contains("[2/4 done, 0 running, 2 failed]"),
        "{stderr}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("sweep.json")).unwrap()).unwrap();
    let bad = &manifest["cells"][0];
    assert_eq!(bad["status"], "failed", "{manifest}");
    assert_eq!(bad["exit_code"], 1, "{manifest}");
    assert!(
        bad["error"].as_str().unwrap().contains("diverged"),
        "{manifest}"
    );
    let log = std::fs::read_to_string(root.join(bad["log"].as_str().unwrap())).unwrap();
    assert!(log.contains("diverged"), "{log}");
    assert_eq!(manifest["cells"][1]["status"], "finished");

    // Run again: the failures are kept, not retried, and still fail the sweep.
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("2 failed earlier"), "{stderr}");
    assert!(!stderr.contains(" start "), "{stderr}");

    // compare on a regression task without validation split: η0 chosen on the training
    // loss, the diverged cells named.
    let out = dir.path().join("report");
    let o = etaprobe(&["compare", s(&root), "--out", s(&out)]);
    ok(&o);
    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["lr"], "0.001");
    assert_eq!(
        rows[0]["lr_grid"], "0.001 1e10",
        "in order, whatever the spec's"
    );
    assert_eq!(rows[0]["selected_on"], "train_loss");
    assert!(rows[0]["final_test_loss"].parse::<f64>().unwrap() > 0.0);
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(md.contains("no validation split"), "{md}");
    assert!(
        md.contains("`t/basic/lr1e10/seed2`: diverged: training diverged at step"),
        "{md}"
    );
    assert!(
        md.contains(
            "(a regression has no chance score: in no mean, and counted against its η0 in the selection)"
        ),
        "{md}"
    );
    assert!(out.join("t-loss-time.png").is_file());

    // --retry-failed runs them again, after moving the failed attempts aside.
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root), "--retry-failed"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("retrying a failed run"), "{stderr}");
    assert!(root.join(".aside/t/basic/lr1e10").is_dir());
}

#[test]
fn a_task_whose_data_is_refused_starts_no_more_cells_and_the_others_run() {
    let (_d, good) = fake(DatasetKind::Boston, 64, 16);
    let dir = tempfile::tempdir().unwrap();
    // Found where the spec says (the spec's check locates data, it does not read it), but
    // not a Boston table: the first cell to read it refuses it (exit 2).
    let bad = dir.path().join("broken.csv");
    std::fs::write(&bad, "crim,zn\n0.1,oops\n").unwrap();
    let spec = dir.path().join("two.toml");
    let task = |name: &str, data: &Path| {
        format!(
            "[[task]]\nname = \"{name}\"\nmodel = \"linreg\"\ndataset = \"boston\"\n\
             data = \"{}\"\nbatch-size = 16\nepochs = 1\n",
            data.display()
        )
    };
    let text = format!(
        "seeds = [1, 2]\n{}{}[[rule]]\nname = \"basic\"\nlr = [0.001, 0.01]\n",
        task("bad", &bad),
        task("good", &good)
    );
    std::fs::write(&spec, text).unwrap();
    let root = dir.path().join("root");
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches(" start bad/").count(), 1, "{stderr}");
    assert_eq!(stderr.matches(" start good/").count(), 4, "{stderr}");
    assert!(
        stderr.contains("task bad: bad/basic/lr0.001/seed1 refused its input ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 other cells of the task not started"),
        "{stderr}"
    );
    assert!(
        stderr.contains("broken.csv"),
        "the data's own error: {stderr}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("sweep.json")).unwrap()).unwrap();
    let status = |dir: &str| {
        let cells = manifest["cells"].as_array().unwrap();
        let cell = cells.iter().find(|c| c["dir"] == dir).unwrap();
        (cell["status"].clone(), cell["exit_code"].clone())
    };
    assert_eq!(
        status("bad/basic/lr0.001/seed1"),
        ("failed".into(), 2.into())
    );
    for held in ["bad/basic/lr0.01/seed1", "bad/basic/lr0.001/seed2"] {
        assert_eq!(status(held).0, "pending", "{manifest}");
        assert!(!root.join(held).exists());
    }
    assert_eq!(status("good/basic/lr0.01/seed2").0, "finished");

    // An adapter that matches none is refused before any cell starts.
    let elsewhere = dir.path().join("elsewhere");
    let o = etaprobe(&[
        "sweep",
        s(&spec),
        "--root",
        s(&elsewhere),
        "--adapter",
        "0,nomatch",
    ]);
    let said = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{said}");
    assert!(said.contains("'nomatch' matches no adapter"), "{said}");
    assert!(!elsewhere.exists(), "{said}");

    // The data fixed, the same command runs the task's cells, the refused one afresh.
    std::fs::copy(&good, &bad).unwrap();
    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("4 finished earlier"), "{stderr}");
    assert_eq!(stderr.matches(" start bad/").count(), 4, "{stderr}");
}

#[test]
fn compare_judges_the_claims_against_the_best_of_several_references() {
    // docs/evaluation.md §2 and §7 on a hand-made task: `auto` at two η0, three val-tuned
    // schedules (the reference is the best on validation), DoG at one η0.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    let mut cell = |rule: &str, lr: f64, seed: u64| hand.cell(rule, rule, lr, seed);
    // Two epochs: (test, validation) at the end; the first at half the test, val 0.5.
    let two = |test: f64, val: f64| [(test / 2.0, 0.5, 1.0), (test, val, 2.0)];
    // step: 0.3 listed first and tied with 0.1 on seed 1's validation: the smaller wins.
    // Each selected η0 inside its grid: at an edge claim 1 would wait for the grid to grow.
    hand_run(&cell("step", 0.3, 1), &two(0.9, 0.7), None);
    hand_run(&cell("step", 0.03, 1), &two(0.9, 0.6), None);
    for (seed, test) in [(1, 0.60), (2, 0.61), (3, 0.62)] {
        hand_run(&cell("step", 0.1, seed), &two(test, 0.7), None);
    }
    hand_run(&cell("cosine", 0.3, 1), &two(0.5, 0.6), None);
    hand_run(&cell("cosine", 0.03, 1), &two(0.5, 0.6), None);
    for (seed, test) in [(1, 0.70), (2, 0.72), (3, 0.74)] {
        hand_run(&cell("cosine", 0.1, seed), &two(test, 0.85), None);
    }
    // A candidate run at every η0 on every seed, as a tuning-free rule would be: a
    // candidate is never one of claim 2's baselines.
    for (lr, val) in [(0.01, 0.6), (0.1, 0.65), (1.0, 0.6)] {
        for seed in 1..=3 {
            hand_run(&cell("schedule-free", lr, seed), &two(0.5, val), None);
        }
    }
    // auto from 0.01: within a point of cosine; seed 1's validation peaked at epoch 1.
    let auto_low = cell("auto", 0.01, 1);
    hand_run(&auto_low, &[(0.5, 0.9, 1.0), (0.695, 0.8, 2.0)], None);
    for (seed, test) in [(2, 0.718), (3, 0.741)] {
        hand_run(&cell("auto", 0.01, seed), &two(test, 0.8), None);
    }
    // auto from 1: about 10 points below cosine and 4 below DoG.
    for (seed, test) in [(1, 0.60), (2, 0.625), (3, 0.64)] {
        let d = cell("auto", 1.0, seed);
        hand_run(&d, &two(test, 0.75), None);
        match seed {
            1 => std::fs::write(
                d.join("rule.csv"),
                "step,rho,decision\n1,,keep\n2,,blow-up\n3,0.5,plateau\n",
            )
            .unwrap(),
            // Kept records hold rule.csv.gz.
            2 => {
                use std::io::Write;
                let f = std::fs::File::create(d.join("rule.csv.gz")).unwrap();
                let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
                gz.write_all(b"step,decision\n4,blow-up\n").unwrap();
                gz.finish().unwrap();
            }
            _ => {}
        }
    }
    for (seed, test) in [(1, 0.65), (2, 0.66), (3, 0.67)] {
        hand_run(&cell("dog", 1.0, seed), &two(test, 0.7), None);
    }
    hand.write_manifest();
    let out = dir.path().join("report");
    let o = etaprobe(&[
        "compare",
        s(&root),
        "--reference",
        "step,cosine,schedule-free",
        "--out",
        s(&out),
    ]);
    ok(&o);

    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    let row = |rule: &str| rows.iter().find(|r| r["rule"] == rule).unwrap().clone();
    assert_eq!(row("step")["lr"], "0.1", "a tie goes to the smaller η0");
    assert_eq!(
        row("cosine")["reference"],
        "cosine",
        "the better on validation"
    );
    assert_eq!(row("auto")["lr"], "0.01");
    // Val-stopped: seed 1's test at its best validation epoch (0.5), the others' last.
    let stopped: f64 = row("auto")["val_stopped_test_acc"].parse().unwrap();
    assert!(
        (stopped - (0.5 + 0.718 + 0.741) / 3.0).abs() < 1e-9,
        "{stopped}"
    );
    // The default target: cosine's mean final validation 0.85 − 1 point; of auto's
    // runs only seed 1 reached 0.84, at the end of epoch 1 (auto's own 0.8 would give 3):
    // one of three seeds has no median (the others count as never).
    let target: f64 = row("auto")["target"].parse().unwrap();
    assert!((target - 0.84).abs() < 1e-12, "{target}");
    assert_eq!(
        row("auto")["steps_to_target_median"],
        "",
        "{:?}",
        row("auto")
    );
    assert_eq!(row("auto")["reached"], "1");
    // cosine's seeds all reached it, at the end of epoch 2 (10 steps an epoch).
    assert_eq!(row("cosine")["steps_to_target_median"], "20");
    // DoG against auto at 0.01, seed by seed: 0.65 − 0.695, 0.66 − 0.718, 0.67 − 0.741.
    let judged: f64 = row("dog")["judged_diff"].parse().unwrap();
    assert!(
        (judged - (-0.045 - 0.058 - 0.071) / 3.0).abs() < 1e-9,
        "{judged}"
    );
    // cosine chose its η on seed 1: auto against it without seed 1 as well.
    assert_eq!(row("auto")["paired_unseen_n"], "2");
    let unseen: f64 = row("auto")["paired_unseen_diff"].parse().unwrap();
    assert!((unseen - (-0.002 + 0.001) / 2.0).abs() < 1e-9, "{unseen}");

    let claims = csv_rows(&std::fs::read_to_string(out.join("t-claims.csv")).unwrap());
    let outcome = |claim: &str, lr: &str, against: &str| {
        claims
            .iter()
            .find(|c| c["claim"] == claim && c["lr"] == lr && c["against"] == against)
            .map(|c| {
                if claim == "1" {
                    assert_eq!(c["unseen_n"], "2", "seeds 2 and 3: {c:?}");
                }
                (c["outcome"].clone(), c["verdict"].clone())
            })
            .unwrap_or_else(|| panic!("no claim {claim} {lr} {against}: {claims:?}"))
    };
    let both = |o: &str, v: &str| (o.to_string(), v.to_string());
    assert_eq!(
        outcome("1", "0.01", "cosine"),
        both("within", "not reproduced")
    );
    assert_eq!(outcome("1", "1", "cosine"), both("below", "not reproduced"));
    assert_eq!(
        outcome("2", "0.01", "dog"),
        both("better", "not reproduced")
    );
    assert_eq!(outcome("2", "1", "dog"), both("worse", "not reproduced"));
    assert_eq!(
        claims.len(),
        4,
        "the candidates are not tuning-free baselines: {claims:?}"
    );

    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(md.contains("**not reproduced**: more than 1 point below the reference (the whole interval) from η0 1"), "{md}");
    assert!(md.contains("worse than `dog` (1 of 2 η0)"), "{md}");
    assert!(md.contains("steps to 84.00%"), "{md}");
    assert!(
        md.contains("| blow-up 2, plateau 1 |"),
        "decisions of rule.csv and rule.csv.gz: {md}"
    );
    // Two roots in one report: the claims judged across their tasks. The second is a copy
    // of the first under another task name.
    let copy = dir.path().join("copy");
    let status = Command::new("cp")
        .arg("-r")
        .arg(&root)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(copy.join("sweep.json")).unwrap();
    std::fs::write(
        copy.join("sweep.json"),
        text.replace("\"task\":\"t\"", "\"task\":\"u\""),
    )
    .unwrap();
    let both = dir.path().join("both");
    let references = "step,cosine,schedule-free";
    ok(&etaprobe(&[
        "compare",
        s(&root),
        s(&copy),
        "--reference",
        references,
        "--out",
        s(&both),
    ]));
    let md = std::fs::read_to_string(both.join("compare.md")).unwrap();
    assert!(md.contains("## Across tasks"), "{md}");
    assert!(
        md.contains("| u | `auto` | `cosine` | not reproduced | not reproduced |"),
        "{md}"
    );
    assert!(md.contains("Claim 1, \"from any η0 within 1 point of the best val-tuned schedule\": **not reproduced**"), "{md}");
    assert!(both.join("u-claims.csv").is_file());
    assert!(both.join("u-claims.png").is_file(), "the claims' figure");
    // Several roots need --out; one task in two roots is refused.
    let o = etaprobe(&["compare", s(&root), s(&copy)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("give --out"));
    let o = etaprobe(&["compare", s(&root), s(&root), "--out", s(&both)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("compare each root on its own"));
    // A cell planned but not finished: no verdict yet.
    hand.cell_with_status("dog", "dog", 1.0, 4, "pending");
    hand.write_manifest();
    let partial = dir.path().join("partial");
    ok(&etaprobe(&[
        "compare",
        s(&root),
        "--reference",
        "step,cosine,schedule-free",
        "--out",
        s(&partial),
    ]));
    let md = std::fs::read_to_string(partial.join("compare.md")).unwrap();
    // Only claim 2 needs DoG's cells; claim 1 keeps its verdict.
    let unfinished = "cells not finished (or failed otherwise than by diverging) for `dog` at η0 1";
    assert!(
        md.contains(&format!("**not judged**: {unfinished}")),
        "{md}"
    );
    assert!(md.contains("(`cosine`): **not reproduced**"), "{md}");
    // A candidate that is not a rule is an error naming the rules.
    let o = etaprobe(&[
        "compare",
        s(&root),
        "--reference",
        "step,sgd",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--reference sgd"));
}

#[test]
fn compare_reads_an_ablation_against_the_frozen_rule() {
    // docs/evaluation.md §6 on hand-made roots: a base sweep with `auto` and `secant` at
    // η0 0.01 and 10, seeds 1-3, and an ablation sweep with four variants.
    let dir = tempfile::tempdir().unwrap();
    // A cell: rule, η0, seed, final validation accuracy, why it stopped, its rule.csv.
    type Cell<'a> = (&'a str, f64, u64, f64, Option<&'a str>, &'a str);
    let write_root = |root: &Path, runs: &[Cell]| {
        let mut hand = HandRoot::new(root);
        for (rule, lr, seed, val, stopped, rule_csv) in runs {
            let run_dir = hand.cell(rule, "auto", *lr, *seed);
            hand_run(
                &run_dir,
                &[(0.5, 0.5, 1.0), (*val - 0.1, *val, 2.0)],
                *stopped,
            );
            std::fs::write(run_dir.join("rule.csv"), rule_csv).unwrap();
            set_config(
                &run_dir,
                serde_json::json!({"data": {"dataset": "cifar10"}}),
            );
        }
        hand.write_manifest();
    };
    let (base, ablation) = (dir.path().join("base"), dir.path().join("ablation"));
    let pairs: Vec<(f64, u64, f64)> = [0.01, 10.0]
        .iter()
        .flat_map(|&lr| {
            // Validation depends on η0 too, so that a pairing that ignored it would show.
            let at_lr = if lr == 10.0 { 0.05 } else { 0.0 };
            (1..=3u64).map(move |seed| (lr, seed, 0.80 + 0.01 * seed as f64 + at_lr))
        })
        .collect();
    let plain = "step,decision\n1,keep\n";
    let mut runs = Vec::new();
    for &(lr, seed, val) in &pairs {
        // The frozen rule took one blow-up on seed 1; secant is auto to the last bit.
        let frozen = if seed == 1 {
            "step,decision\n1,blow-up\n"
        } else {
            plain
        };
        runs.push(("auto", lr, seed, val, None, frozen));
        runs.push(("secant", lr, seed, val, None, plain));
    }
    write_root(&base, &runs);
    let mut runs = Vec::new();
    for (i, &(lr, seed, val)) in pairs.iter().enumerate() {
        let wiggle = [0.001, -0.002, 0.0, 0.002, -0.001, 0.001][i];
        runs.push(("auto-auto-variant=no-plateau", lr, seed, val, None, plain));
        runs.push(("auto-auto-variant=no-blow-up", lr, seed, val, None, plain));
        runs.push((
            "auto-auto-variant=clip-half",
            lr,
            seed,
            val + 0.03 + wiggle,
            None,
            plain,
        ));
        runs.push((
            "auto-auto-variant=clip-double",
            lr,
            seed,
            val + wiggle,
            None,
            plain,
        ));
        let stop = (seed == 2 && lr == 10.0).then_some("training diverged at step 5");
        runs.push((
            "auto-auto-variant=loss-t-half",
            lr,
            seed,
            val + wiggle,
            stop,
            plain,
        ));
    }
    // One point below on every pair, to the rounding of the subtraction: on the band's
    // edge, which is flat.
    for &(lr, seed, val) in &pairs {
        runs.push((
            "auto-auto-variant=line-double",
            lr,
            seed,
            val - 0.01,
            None,
            plain,
        ));
    }
    // One cell only, diverged where the frozen rule did not: sharp without an interval.
    let stop = Some("training diverged at step 3");
    runs.push(("auto-auto-variant=line-half", 0.01, 1, 0.1, stop, plain));
    write_root(&ablation, &runs);
    let out = dir.path().join("report");
    let o = etaprobe(&[
        "compare",
        s(&ablation),
        "--ablation-base",
        s(&base),
        "--out",
        s(&out),
    ]);
    ok(&o);
    let rows = csv_rows(&std::fs::read_to_string(out.join("t-ablation.csv")).unwrap());
    let verdict = |v: &str| -> String {
        let row = rows
            .iter()
            .find(|r| r["variant"] == v)
            .unwrap_or_else(|| panic!("{v}: {rows:?}"));
        let pairs = if v == "line-half" { "1" } else { "6" };
        assert_eq!(row["n"], pairs, "{row:?}");
        row["verdict"].clone()
    };
    assert_eq!(verdict("line-half"), "sharp");
    // Equal on every pair, and the frozen runs never took a plateau decision: unused.
    assert_eq!(verdict("no-plateau"), "unused on this task");
    assert_eq!(verdict("secant"), "unused on this task");
    // Equal too, but the frozen rule did take blow-ups: the band decides, flat.
    assert_eq!(verdict("no-blow-up"), "flat");
    assert_eq!(
        verdict("clip-half"),
        "sharp",
        "3 points above on every pair"
    );
    assert_eq!(verdict("clip-double"), "flat");
    assert_eq!(verdict("line-double"), "flat", "−1 point to the last bit");
    assert_eq!(
        verdict("loss-t-half"),
        "sharp",
        "a divergence the frozen rule did not have"
    );
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(md.contains("### Ablation"), "{md}");
    assert!(
        md.contains(
            "3 flat, 3 sharp (`clip-half`, `loss-t-half`, `line-half`), 0 inconclusive, 2 unused on this task"
        ),
        "{md}"
    );
    // A base without the frozen rule (here, another copy of the variants) is refused,
    // naming it, before anything is written: the previous report stays whole. So is the
    // root itself given as its base.
    let before = snapshot(&out);
    let variants_again = dir.path().join("variants-again");
    write_root(&variants_again, &runs);
    let o = etaprobe(&[
        "compare",
        s(&ablation),
        "--ablation-base",
        s(&variants_again),
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("has no rule auto"));
    let o = etaprobe(&[
        "compare",
        s(&ablation),
        "--ablation-base",
        s(&ablation),
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the root"));
    assert_eq!(
        snapshot(&out),
        before,
        "a refused compare changed the report"
    );

    // A planned pair not finished: that variant waits for it (the missing pair could be a
    // new divergence). A frozen run's decision log unreadable: its counts are unknown, so
    // the component is never "unused" on them.
    let manifest = ablation.join("sweep.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let mut pending = m["cells"][0].clone();
    assert_eq!(pending["rule"], "auto-auto-variant=no-plateau");
    let d = "t/auto-auto-variant=no-plateau/lr0.01/seed4";
    pending["dir"] = d.into();
    pending["seed"] = 4.into();
    pending["status"] = "pending".into();
    m["cells"].as_array_mut().unwrap().push(pending);
    std::fs::write(&manifest, m.to_string()).unwrap();
    std::fs::write(
        base.join("t/secant/lr0.01/seed2/rule.csv"),
        "step,decision\n1,keep,extra\n",
    )
    .unwrap();
    let out2 = dir.path().join("report2");
    ok(&etaprobe(&[
        "compare",
        s(&ablation),
        "--ablation-base",
        s(&base),
        "--out",
        s(&out2),
    ]));
    let rows = csv_rows(&std::fs::read_to_string(out2.join("t-ablation.csv")).unwrap());
    let verdict = |v: &str| rows.iter().find(|r| r["variant"] == v).unwrap()["verdict"].clone();
    assert_eq!(verdict("no-plateau"), "not judged");
    assert_eq!(
        verdict("secant"),
        "flat",
        "equal on every pair, its log unread"
    );
    assert_eq!(
        verdict("no-blow-up"),
        "flat",
        "the other variants keep theirs"
    );
    let md = std::fs::read_to_string(out2.join("compare.md")).unwrap();
    assert!(
        md.contains(
            "`no-plateau`: 1 planned pair not complete: η0 0.01 seed 4: the variant's cell \
             unfinished."
        ),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "`secant`: decision counts unknown, unreadable: `{}`",
            base.join("t/secant/lr0.01/seed2/rule.csv").display()
        )),
        "{md}"
    );
}

/// Two η0 whose validation accuracies over five seeds have the same total (counts out of
/// 6,000) but whose means, summed in another order, differ in the last bit: a tie, which
/// goes to the smaller η0.
#[test]
fn compare_breaks_a_tie_in_the_last_bit_towards_the_smaller_lr() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    let counts = [
        (0.01, [5287, 5065, 5169, 5224, 5012]),
        (0.1, [5033, 5090, 5122, 5203, 5309]),
    ];
    for (lr, of) in counts {
        for (seed, count) in (1..=5u64).zip(of) {
            let val = count as f64 / 6000.0;
            hand_run(
                &hand.cell("basic", "basic", lr, seed),
                &[(0.5, val, 1.0)],
                None,
            );
        }
    }
    hand.write_manifest();
    let out = dir.path().join("report");
    ok(&etaprobe(&["compare", s(&root), "--out", s(&out)]));
    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    assert_eq!(rows[0]["lr"], "0.01", "{rows:?}");
}

#[test]
fn compare_judges_claim_1_only_on_a_complete_interior_reference_and_names_what_it_skips() {
    // docs/evaluation.md §2 and §7: the reference is chosen on validation, inside its grid,
    // once every candidate's η0 has run on every seed; claim 2 names every rule it leaves
    // out and waits for every pair it needs.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    let two = |test: f64, val: f64| [(test / 2.0, 0.5, 1.0), (test, val, 2.0)];
    for lr in [0.01, 0.1] {
        for seed in 1..=3 {
            hand_run(&hand.cell("auto", "auto", lr, seed), &two(0.60, 0.8), None);
        }
    }
    for (seed, test) in [(1, 0.71), (2, 0.72), (3, 0.73)] {
        hand_run(
            &hand.cell("cosine", "basic", 0.1, seed),
            &two(test, 0.85),
            None,
        );
    }
    for lr in [0.03, 0.3] {
        hand_run(&hand.cell("cosine", "basic", lr, 1), &two(0.5, 0.6), None);
    }
    // constant: η0 0.03 has no validation split (selected on the training loss, a tie
    // that goes to the smaller η0, the edge of its grid), on seed 1 only.
    let no_val = hand.cell("constant", "basic", 0.03, 1);
    hand_run(&no_val, &two(0.5, 0.6), None);
    std::fs::write(
        no_val.join("epochs.csv"),
        "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds\n1,1.5,0.5,1.4,0.25,0.1,1\n\
         2,1.5,0.5,1.4,0.5,0.1,2\n",
    )
    .unwrap();
    hand_run(
        &hand.cell("constant", "basic", 0.1, 1),
        &two(0.6, 0.7),
        None,
    );
    // hypergradient lacks auto's η0 0.1; a seed-1 selection grid is no tuning-free rule.
    for lr in [0.01, 1.0] {
        for seed in 1..=3 {
            hand_run(
                &hand.cell("hd", "hypergradient", lr, seed),
                &two(0.6, 0.7),
                None,
            );
        }
    }
    hand_run(
        &hand.cell("fo-alpha=0.001", "first-order", 0.01, 1),
        &two(0.6, 0.7),
        None,
    );
    hand.write_manifest();
    let out = dir.path().join("report");
    let compare = |extra: &[&str]| {
        let base = ["compare", s(&root), "--out", s(&out)];
        etaprobe(&[&base[..], extra].concat())
    };
    ok(&compare(&["--reference", "constant,cosine"]));
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    for expected in [
        "except `constant`, on the lowest mean final training loss: `t/constant/lr0.03/seed1` \
         has no validation split",
        "0.03 (of 0.03, 0.1; the smallest of its grid)",
        "(`cosine`): **not judged**: `constant` was selected on the training loss (runs \
         without a validation split); `constant`'s η0 0.03 is at its grid's edge (extend the \
         grid, docs/evaluation.md §2); the candidates' selected η0 ran on different seeds \
         (`constant` on seed 1; `cosine` on seeds 1, 2, 3)",
        "**not judged**: no run to pair `auto` with for `hd` at η0 0.1.",
        "Not compared: `fo-alpha=0.001` (η0 0.01 planned on 1 seed: a selection grid, not a \
         tuning-free rule).",
    ] {
        assert!(md.contains(expected), "{expected}\n{md}");
    }
    // The CSV names the rule claim 2 left out, and why.
    let claims = std::fs::read_to_string(out.join("t-claims.csv")).unwrap();
    assert!(
        claims.lines().any(|l| l.starts_with(
            "2,auto,,fo-alpha=0.001,,0,,,,\"not compared: \
             η0 0.01 planned on 1 seed: a selection grid, not a tuning-free rule\",not compared,0,,,"
        )),
        "{claims}"
    );

    // constant on validation, inside its grid, its η0 on every seed: claim 1 is judged.
    hand_run(&no_val, &two(0.5, 0.6), None);
    hand_run(
        &hand.cell("constant", "basic", 0.3, 1),
        &two(0.5, 0.6),
        None,
    );
    for seed in [2, 3] {
        hand_run(
            &hand.cell("constant", "basic", 0.1, seed),
            &two(0.6, 0.7),
            None,
        );
    }
    hand.write_manifest();
    ok(&compare(&["--reference", "constant,cosine"]));
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(
        md.contains("(`cosine`): **not reproduced**: more than 1 point below"),
        "{md}"
    );
    assert!(!md.contains("training loss"), "{md}");

    // A report without claims in the same folder: the earlier claims go, and are named.
    let o = compare(&["--reference", "cosine", "--judge", "cosine"]);
    ok(&o);
    assert!(!out.join("t-claims.csv").exists() && !out.join("t-claims.png").exists());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("t-claims.csv: an earlier report's, not in this one"),
        "{stderr}"
    );

    // A cell listed twice would count its seed twice: refused, naming it.
    let manifest = root.join("sweep.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let first = m["cells"][0].clone();
    m["cells"].as_array_mut().unwrap().push(first);
    std::fs::write(&manifest, m.to_string()).unwrap();
    let o = compare(&[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("lists the cell t/auto/lr0.01/seed1 twice"),
        "{stderr}"
    );

    // Cells of one task on two data sets: refused, naming both. A rule that sets a task
    // option itself (here the epochs) is not a mix.
    let mixed = dir.path().join("mixed");
    let args = |rule: &str, dataset: &str, epochs: &str| {
        let words = ["train", "--schedule", "basic", "--lr", "0.1", "--seed", "1"];
        let more = ["--dataset", dataset, "--epochs", epochs];
        let args: Vec<String> = words.iter().chain(&more).map(|w| w.to_string()).collect();
        (format!("t/{rule}/lr0.1/seed1"), args)
    };
    let mut hand = HandRoot::with_args(
        &mixed,
        [
            args("a", "cifar10", "2"),
            args("b", "cifar10", "2"),
            args("c", "cifar10", "3"),
        ]
        .into(),
    );
    hand.rule_options("c", &[("epochs", "3")]);
    for rule in ["a", "b", "c"] {
        hand_run(&hand.cell(rule, "basic", 0.1, 1), &two(0.6, 0.7), None);
    }
    hand.write_manifest();
    ok(&etaprobe(&["compare", s(&mixed)]));
    std::fs::remove_dir_all(mixed.join("compare")).unwrap();
    let mut hand = HandRoot::with_args(
        &mixed,
        [args("a", "cifar10", "2"), args("b", "fashion-mnist", "2")].into(),
    );
    for rule in ["a", "b"] {
        hand.cell(rule, "basic", 0.1, 1);
    }
    hand.write_manifest();
    let o = etaprobe(&["compare", s(&mixed)]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "task t mixes set-ups: t/a/lr0.1/seed1 ran with --dataset cifar10, \
             t/b/lr0.1/seed1 with --dataset fashion-mnist"
        ),
        "{stderr}"
    );
    assert!(!mixed.join("compare").exists());
}

/// A task none of whose cells has a run (all still to run, or their folders removed) is
/// said to be so, not reported as a regression without a validation split.
#[test]
fn compare_says_when_a_task_has_no_run_to_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    for seed in 1..=2u64 {
        hand.cell_with_status("basic", "basic", 0.1, seed, "pending");
    }
    hand.write_manifest();
    let o = etaprobe(&["compare", s(&root)]);
    ok(&o);
    let md = std::fs::read_to_string(root.join("compare").join("compare.md")).unwrap();
    assert!(
        md.contains("No cell of this task has a run to read yet"),
        "{md}"
    );
    assert!(
        md.contains("`t/basic/lr0.1/seed2`: missing: not run"),
        "{md}"
    );
    assert!(!md.contains("no validation split"), "{md}");
    assert!(!md.contains("Regression"), "{md}");
}

/// The same spec run from another working directory, or named another way, is the same
/// sweep: its finished cells are skipped, not refused as "other options" (the cells used
/// to record a relative `data` path as the working directory saw it).
#[test]
fn a_spec_named_from_elsewhere_resumes_the_same_cells() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    etaprobe::data::synth::write_fake_dataset(DatasetKind::FashionMnist, &specs, 40, 10, 1)
        .unwrap();
    let text = "seeds = [1]\n[[task]]\nname = \"t\"\nmodel = \"logreg\"\n\
                dataset = \"fashion-mnist\"\ndata = \"fashion-mnist\"\nbatch-size = 20\n\
                epochs = 1\n[[rule]]\nname = \"basic\"\nlr = [0.1]\n";
    std::fs::write(specs.join("s.toml"), text).unwrap();
    let root = dir.path().join("root");
    let sweep = |cwd: &Path, spec: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
            .args(["sweep", spec, "--root", s(&root)])
            .current_dir(cwd)
            .output()
            .unwrap()
    };
    ok(&sweep(&specs, "s.toml"));
    for (cwd, spec) in [
        (dir.path(), "specs/s.toml"),
        (dir.path(), "./specs/../specs/s.toml"),
    ] {
        let o = sweep(cwd, spec);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{spec}: {stderr}");
        assert!(stderr.contains("1 finished earlier"), "{spec}: {stderr}");
    }
}

/// Two tasks whose report files would share a name (`t`'s `t-grid.csv`, the table of a
/// task `t-grid` from another root) are refused before anything is written.
#[test]
fn compare_refuses_tasks_whose_files_would_share_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let roots: Vec<PathBuf> = ["a", "b"].iter().map(|r| dir.path().join(r)).collect();
    for root in &roots {
        let mut hand = HandRoot::new(root);
        let run_dir = hand.cell("basic", "basic", 0.1, 1);
        hand_run(&run_dir, &[(0.7, 0.8, 1.0)], None);
        hand.write_manifest();
    }
    let manifest = roots[1].join("sweep.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("\"task\":\"t\"", "\"task\":\"t-grid\""),
    )
    .unwrap();
    let out = dir.path().join("report");
    let o = etaprobe(&["compare", s(&roots[0]), s(&roots[1]), "--out", s(&out)]);
    refused(&o, "tasks \"t\" and \"t-grid\" would both write t-grid.csv");
    assert!(!out.exists());
}

/// An η0 chosen while others of its grid have no finished run says which were not seen.
#[test]
fn compare_says_which_eta0_the_selection_did_not_see() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    hand.cell_with_status("basic", "basic", 0.01, 1, "pending");
    let run_dir = hand.cell("basic", "basic", 0.1, 1);
    hand_run(&run_dir, &[(0.7, 0.8, 1.0)], None);
    // Seed 2's folder is gone, though the manifest says it finished.
    hand.cell("basic", "basic", 0.1, 2);
    hand.write_manifest();
    let out = dir.path().join("report");
    let o = etaprobe(&["compare", s(&root), "--out", s(&out), "--target-loss", "1"]);
    ok(&o);
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(
        md.contains("| 0.1 (of 0.01, 0.1; no run finished at 0.01) |"),
        "{md}"
    );
    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    assert_eq!(rows[0]["lr_unscored"], "0.01");
    assert_eq!(rows[0]["at_grid_edge"], "", "one η0 with a run: no edge");
    assert!(
        md.contains("missing: its folder is gone, though sweep.json says it finished"),
        "{md}"
    );
    // A target of a regression task, given for a classification one: said.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: task t: a classification, which --target-loss does not apply to"),
        "{err}"
    );
    // The root as its own ablation base: refused.
    let o = etaprobe(&["compare", s(&root), "--ablation-base", s(&root.join("."))]);
    refused(&o, "is the root");
}

/// A regression task timed to a `--target-loss` says so: the default target (the
/// reference's validation accuracy − 1 point) is a classification task's.
#[test]
fn compare_names_a_regression_tasks_target_loss_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    for seed in 1..=2 {
        let run_dir = hand.cell("basic", "basic", 0.1, seed);
        hand_run(&run_dir, &[(0.0, 0.0, 1.0), (0.0, 0.0, 2.0)], None);
        let rows = "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,val_loss,val_acc\n\
                    1,300,,250,,0.1,1,260,\n2,150,,120,,0.1,2,130,\n";
        std::fs::write(run_dir.join("epochs.csv"), rows).unwrap();
    }
    hand.write_manifest();
    let out = dir.path().join("report");
    ok(&etaprobe(&[
        "compare",
        s(&root),
        "--out",
        s(&out),
        "--target-loss",
        "200",
    ]));
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("Steps and seconds to"))
        .unwrap();
    assert!(line.starts_with("Steps and seconds to loss 200"), "{line}");
    assert!(!line.contains("validation accuracy"), "{line}");
}

/// An empty path (`--out "$OUT"` with the variable unset) is refused, not taken for the
/// current folder; and a reader that stops reading the output (`| head`) ends it quietly,
/// with no panic.
#[test]
fn an_empty_path_is_refused_and_a_closed_pipe_ends_the_output_quietly() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let cwd = tempfile::tempdir().unwrap();
    let in_cwd = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_etaprobe"))
            .args(args)
            .current_dir(cwd.path())
            .output()
            .unwrap()
    };
    for args in [
        &["compare", "root", "--out", ""][..],
        &["plot", "run", "--out", ""],
        &["train", "--out", ""],
        &["sweep", "spec.toml", "--root", ""],
    ] {
        refused(&in_cwd(args), "an empty path was given for --");
    }
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);

    // A dry run's listing of 2,000 cells, far more than a pipe holds, to a closed pipe.
    let seeds: Vec<String> = (1..=1000).map(|s| s.to_string()).collect();
    let text =
        spec_text(&data).replace("seeds = [1, 2]", &format!("seeds = [{}]", seeds.join(", ")));
    let spec = cwd.path().join("many.toml");
    std::fs::write(&spec, text).unwrap();
    let root = cwd.path().join("root");
    let mut child = Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(["sweep", s(&spec), "--dry-run", "--root", s(&root)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A path that is not UTF-8 is refused as the command line is read (exit 2, nothing
/// written): a run records its paths as text, and a sweep passes its cells' on as text.
#[cfg(unix)]
#[test]
fn a_path_that_is_not_utf8_is_refused_before_anything_is_written() {
    use std::os::unix::ffi::OsStrExt;
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let dir = tempfile::tempdir().unwrap();
    let odd = |name: &[u8]| dir.path().join(std::ffi::OsStr::from_bytes(name));
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
            .args(args)
            .env_remove("ETAPROBE_DATA")
            .output()
            .unwrap()
    };
    let out = odd(b"run-\xff");
    let o = run(&[
        "train".as_ref(),
        "--model".as_ref(),
        "logreg".as_ref(),
        "--dataset".as_ref(),
        "fashion-mnist".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--epochs".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("given for --out <DIR> is not valid UTF-8"),
        "{err}"
    );
    assert!(!out.exists());

    let spec = dir.path().join("grid.toml");
    std::fs::write(&spec, spec_text(&data)).unwrap();
    let root = odd(b"root-\xff");
    let o = run(&[
        "sweep".as_ref(),
        spec.as_os_str(),
        "--root".as_ref(),
        root.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not valid UTF-8"), "{err}");
    assert!(!root.exists());
}

/// A spec with fewer cells than the root's manifest (seed 1 of a two-seed sweep) runs, and
/// keeps the cells it lacks in the manifest: compare still reads them, and the full spec
/// then finds them its own instead of refusing them as "not a cell of the manifest".
#[test]
fn a_smaller_spec_keeps_the_cells_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    etaprobe::data::synth::write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 40, 10, 1)
        .unwrap();
    let spec = |seeds: &str| {
        let path = dir.path().join(format!("s{}.toml", seeds.len()));
        let text = format!(
            "seeds = [{seeds}]\n[[task]]\nname = \"t\"\nmodel = \"logreg\"\n\
             dataset = \"fashion-mnist\"\ndata = \"{}\"\nbatch-size = 20\nepochs = 1\n\
             val-split = 0.25\n[[rule]]\nname = \"basic\"\nlr = [0.1]\n",
            dir.path().join("fashion-mnist").display()
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let (both, one) = (spec("1, 2"), spec("1"));
    let root = dir.path().join("root");
    ok(&etaprobe(&["sweep", s(&both), "--root", s(&root)]));
    let o = etaprobe(&["sweep", s(&one), "--root", s(&root)]);
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("holds 1 cell this spec lacks (t/basic/lr0.1/seed2)"),
        "{err}"
    );
    // Its count is of its own cells.
    assert!(
        err.contains("sweep: 1 of 1 cell finished, 0 failed"),
        "{err}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("sweep.json")).unwrap()).unwrap();
    let cells: Vec<(&str, &str)> = manifest["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["dir"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        cells,
        [
            ("t/basic/lr0.1/seed1", "finished"),
            ("t/basic/lr0.1/seed2", "finished")
        ]
    );
    ok(&etaprobe(&["compare", s(&root)]));
    let rows = csv_rows(&std::fs::read_to_string(root.join("compare/t.csv")).unwrap());
    assert_eq!(rows[0]["seeds"], "2", "{rows:?}");
    let o = etaprobe(&["sweep", s(&both), "--root", s(&root)]);
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2 finished earlier"), "{err}");
}

/// A manifest that is damaged is refused, saying how to go on; moved aside, the sweep takes
/// back each cell whose run.json records the cell's command (also as the sweep resumed
/// it), skips the finished ones, and still refuses a directory another command made.
#[test]
fn a_lost_manifest_is_rebuilt_from_the_cells_own_records() {
    let dir = tempfile::tempdir().unwrap();
    etaprobe::data::synth::write_fake_dataset(DatasetKind::FashionMnist, dir.path(), 40, 10, 1)
        .unwrap();
    let spec = dir.path().join("s.toml");
    let text = format!(
        "seeds = [1, 2]\n[[task]]\nname = \"t\"\nmodel = \"logreg\"\n\
         dataset = \"fashion-mnist\"\ndata = \"{}\"\nbatch-size = 20\nepochs = 1\n\
         [[rule]]\nname = \"basic\"\nlr = [0.1]\n",
        dir.path().join("fashion-mnist").display()
    );
    std::fs::write(&spec, text).unwrap();
    let root = dir.path().join("root");
    let sweep_at = |root: &Path| etaprobe(&["sweep", s(&spec), "--root", s(root)]);
    let sweep = || sweep_at(&root);
    ok(&sweep());
    let manifest = root.join("sweep.json");
    let kept = std::fs::read(&manifest).unwrap();
    // Damaged: refused, with the way on.
    std::fs::write(&manifest, &kept[..kept.len() / 2]).unwrap();
    let o = sweep();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("move it aside"), "{err}");
    // Moved aside: rebuilt from the cells. Seed 2's run.json as a resume writes it; the
    // root spelled otherwise.
    std::fs::remove_file(&manifest).unwrap();
    let seed2 = root.join("t/basic/lr0.1/seed2/run.json");
    let original = std::fs::read_to_string(&seed2).unwrap();
    let resumed_from = |from: &Path| {
        let mut info: serde_json::Value = serde_json::from_str(&original).unwrap();
        let command = info["command"].as_array_mut().unwrap();
        command.push("--resume".into());
        command.push(s(from).into());
        std::fs::write(&seed2, serde_json::to_string(&info).unwrap()).unwrap();
    };
    resumed_from(&root.join("t/basic/lr0.1/seed2/checkpoint.safetensors"));
    let cells = snapshot(&root.join("t"));
    let o = sweep_at(&root.join("."));
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2 finished earlier"), "{err}");
    assert!(
        snapshot(&root.join("t")) == cells,
        "a taken-back cell was run again"
    );
    let rebuilt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let statuses: Vec<&str> = rebuilt["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["finished", "finished"]);
    // Each cell ran once: its log says so, and the rebuilt record counts it.
    for cell in rebuilt["cells"].as_array().unwrap() {
        assert_eq!(cell["attempts"], 1, "{cell}");
    }
    // A directory another command made is still refused: other options, or a resume from
    // another run's folder (whose config.toml would have lent it its options).
    for other in [original.replace("\"0.1\"", "\"0.2\""), original.clone()] {
        std::fs::remove_file(&manifest).unwrap();
        std::fs::write(&seed2, &other).unwrap();
        if other == original {
            resumed_from(dir.path());
        }
        let o = sweep();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("does not record this cell's command"), "{err}");
        std::fs::write(&manifest, &kept).unwrap();
    }
    // A cell's folder with no run.json and no checkpoint (a task whose data was refused) is
    // taken back: the sweep moves it aside and runs the cell.
    std::fs::write(&seed2, &original).unwrap();
    let seed1 = root.join("t/basic/lr0.1/seed1");
    std::fs::remove_dir_all(&seed1).unwrap();
    std::fs::create_dir_all(&seed1).unwrap();
    let attempt = "== etaprobe sweep, 2026-12-07T00:00:00Z: etaprobe train …\nerror: no data\n";
    std::fs::write(seed1.join("train.log"), attempt).unwrap();
    std::fs::remove_file(&manifest).unwrap();
    ok(&sweep());
    assert!(finished(&seed1));
    // A user's folder in a cell's place, which no attempt of a sweep made (no log of one):
    // refused and left where it is, with or without a manifest, not moved aside.
    let seed3 = root.join("t/basic/lr0.1/seed3");
    std::fs::create_dir_all(&seed3).unwrap();
    std::fs::write(seed3.join("my-results.csv"), "precious").unwrap();
    let three = spec.with_file_name("s3.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&three, text.replace("seeds = [1, 2]", "seeds = [1, 2, 3]")).unwrap();
    for lost in [false, true] {
        if lost {
            std::fs::remove_file(&manifest).unwrap();
        }
        let o = etaprobe(&["sweep", s(&three), "--root", s(&root)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("t/basic/lr0.1/seed3"), "{err}");
        assert_eq!(
            std::fs::read_to_string(seed3.join("my-results.csv")).unwrap(),
            "precious"
        );
    }
    // Also where the manifest lists the cell: run, then replaced by a user's folder.
    std::fs::write(&manifest, &kept).unwrap();
    let mine = dir.path().join("mine");
    std::fs::rename(&seed3, &mine).unwrap();
    ok(&etaprobe(&["sweep", s(&three), "--root", s(&root)]));
    std::fs::remove_dir_all(&seed3).unwrap();
    std::fs::rename(&mine, &seed3).unwrap();
    let o = etaprobe(&["sweep", s(&three), "--root", s(&root)]);
    refused(
        &o,
        "t/basic/lr0.1/seed3: holds files that no attempt of a sweep wrote",
    );
    assert!(seed3.join("my-results.csv").is_file());
}

/// Roots the cells cannot go in are refused before anything is planned or written: a file;
/// a file where a task's folder goes; a folder inside a run directory or another sweep's
/// root. So is a `sweep.lock` that is not a sweep's (a user's file, kept), and a root whose
/// lock another process holds.
#[test]
fn a_root_the_cells_cannot_go_in_or_a_lock_not_a_sweeps_is_refused() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 96, 32);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(&spec, spec_text(&data)).unwrap();
    let sweep = |root: &Path, dry: bool| {
        let mut args = vec!["sweep", s(&spec), "--root", s(root)];
        if dry {
            args.push("--dry-run");
        }
        etaprobe(&args)
    };
    let file = dir.path().join("rootfile");
    std::fs::write(&file, "mine").unwrap();
    refused(&sweep(&file, true), "a file, not a folder");
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(&blocked).unwrap();
    std::fs::write(blocked.join("logreg"), "mine").unwrap();
    refused(
        &sweep(&blocked, true),
        "is a file where the sweep needs the folder",
    );
    let run = dir.path().join("run");
    std::fs::create_dir_all(run.join("inner")).unwrap();
    std::fs::write(run.join("run.json"), "{}").unwrap();
    // A run.json alone (or a project's train.log) does not make a run directory.
    std::fs::write(run.join("train.log"), "my notes").unwrap();
    ok(&sweep(&run.join("inner"), true));
    std::fs::write(run.join("config.toml"), "").unwrap();
    refused(
        &sweep(&run.join("inner"), true),
        "is inside the run directory",
    );
    let other = dir.path().join("other");
    std::fs::create_dir_all(other.join("inner")).unwrap();
    std::fs::write(other.join("sweep.json"), "{}").unwrap();
    refused(
        &sweep(&other.join("inner"), true),
        "is inside the sweep root",
    );

    let mine = dir.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("sweep.lock"), "notes").unwrap();
    refused(&sweep(&mine, false), "is not a sweep's lock");
    assert_eq!(
        std::fs::read_to_string(mine.join("sweep.lock")).unwrap(),
        "notes"
    );
    let held = dir.path().join("held");
    std::fs::create_dir_all(&held).unwrap();
    let lock = std::fs::File::create(held.join("sweep.lock")).unwrap();
    lock.lock().unwrap();
    refused(&sweep(&held, false), "another sweep is running");
    assert!(
        !held.join("logreg").exists(),
        "a cell ran beside the lock's holder"
    );
}

/// A root's cells do not mix data read from two places: a spec without `data` reads
/// ETAPROBE_DATA, and a cell run on one copy refuses another. A finished cell of SVG
/// figures gets no PNG ones on the next sweep, and options that changed are named.
#[test]
fn a_roots_cells_keep_their_data_and_their_figures() {
    let (_a, first) = fake(DatasetKind::FashionMnist, 96, 32);
    let (_b, second) = fake(DatasetKind::FashionMnist, 96, 32);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    let text = |epochs: u32, seeds: &str| {
        format!(
            "seeds = [{seeds}]\n[[task]]\nname = \"t\"\nmodel = \"logreg\"\ndataset = \
             \"fashion-mnist\"\nbatch-size = 32\nepochs = {epochs}\n\
             options = {{ figure-format = \"svg\" }}\n\
             [[rule]]\nname = \"basic\"\nlr = [0.05]\n"
        )
    };
    std::fs::write(&spec, text(1, "1")).unwrap();
    let root = dir.path().join("root");
    let sweep = |data: &Path| {
        Command::new(env!("CARGO_BIN_EXE_etaprobe"))
            .args(["sweep", s(&spec), "--root", s(&root)])
            .env("ETAPROBE_DATA", data)
            .env_remove("ETAPROBE_ADAPTER")
            .output()
            .unwrap()
    };
    ok(&sweep(&first));
    let cell = root.join("t/basic/lr0.05/seed1");
    assert!(cell.join("loss.svg").is_file());
    ok(&sweep(&first));
    assert!(
        !cell.join("loss.png").exists(),
        "PNG figures drawn into a finished cell"
    );
    // Finished alone, the task may be read from anywhere; with a cell to run, not.
    ok(&sweep(&second));
    std::fs::write(&spec, text(1, "1, 2")).unwrap();
    refused(
        &sweep(&second),
        "trained on other data than this sweep would give",
    );
    assert!(!root.join("t/basic/lr0.05/seed2").exists());
    std::fs::write(&spec, text(2, "1")).unwrap();
    refused(&sweep(&first), "--epochs 1 (now 2)");
}

/// A rule none of whose cells has finished counts every seed as missing in the main table,
/// as the grid's table does (it said 0).
#[test]
fn compare_counts_the_seeds_of_a_rule_with_no_finished_run_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut hand = HandRoot::new(&root);
    for seed in [1, 2] {
        let run_dir = hand.cell("basic", "basic", 0.1, seed);
        hand_run(&run_dir, &[(0.7, 0.8, 1.0)], None);
        hand.cell_with_status("secant", "secant", 0.05, seed, "pending");
    }
    hand.write_manifest();
    let out = dir.path().join("report");
    ok(&etaprobe(&["compare", s(&root), "--out", s(&out)]));
    let rows = csv_rows(&std::fs::read_to_string(out.join("t.csv")).unwrap());
    let secant = rows.iter().find(|r| r["rule"] == "secant").unwrap();
    assert_eq!(
        (secant["seeds"].as_str(), secant["missing"].as_str()),
        ("0", "2"),
        "{rows:?}"
    );
}
