//! The held-out lane's spec scripts (`scripts/heldout-lane.sh`, docs/evaluation.md §2): on a
//! hand-made pass 1, `compare`, then `scripts/extend-grid.py`'s rounds while a val-tuned
//! baseline's selected η sits at its grid's edge, then `scripts/pass2-spec.py`. Every spec
//! they write is one `sweep` takes on the same root, pass 1's cells skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, ok, s};
use crate::hand_root::{hand_run, HandRoot};

/// Runs `python3 scripts/NAME ARGS...` from the repository.
fn script(name: &str, args: &[&Path]) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name);
    Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .expect("python3 (3.11 or later, for tomllib) runs the lane's scripts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The rules of a spec, as `sweep` reads them.
fn rules(spec: &str) -> Vec<toml::Table> {
    let table: toml::Table = spec.parse().unwrap_or_else(|e| panic!("{e}\n{spec}"));
    table["rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_table().unwrap().clone())
        .collect()
}

fn floats(v: &toml::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_float().or(x.as_integer().map(|i| i as f64)).unwrap())
        .collect()
}

/// `sweep SPEC --root ROOT --dry-run`: each cell's directory under ROOT, its `train`
/// arguments (without `--out` and what follows), and whether it would run.
fn dry_run(spec: &Path, root: &Path) -> Vec<(String, Vec<String>, bool)> {
    let o = etaprobe(&["sweep", s(spec), "--root", s(root), "--dry-run"]);
    ok(&o);
    let out_flag = format!("--out {}/", root.display());
    text(&o.stdout)
        .lines()
        .filter_map(|l| {
            let at = l.find(&out_flag)?;
            let dir = l[at + out_flag.len()..].split(' ').next().unwrap();
            // The binary's path, then the arguments.
            let args = l[..at]
                .split_whitespace()
                .skip(1)
                .map(String::from)
                .collect();
            Some((dir.to_string(), args, l.ends_with("[run]")))
        })
        .collect()
}

/// The cells `sweep SPEC --root ROOT` would run; every other cell it lists is kept.
fn to_run(spec: &Path, root: &Path) -> Vec<String> {
    let mut out: Vec<String> = dry_run(spec, root)
        .into_iter()
        .filter(|c| c.2)
        .map(|c| c.0)
        .collect();
    out.sort();
    out
}

/// Writes `text` to DIR/NAME and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_lane_extends_a_grid_at_its_edge_then_writes_pass_two() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let dir = tempfile::tempdir().unwrap();
    let pass1 = format!(
        r#"seeds = [1, 2, 3]

[[task]]
name = "t"
model = "logreg"
dataset = "fashion-mnist"
data = "{}"
batch-size = 32
epochs = 2
val-split = 0.2

[[rule]]
name = "auto"
lr = [0.01, 0.1]

[[rule]]
name = "basic"
label = "constant"
lr = [0.01, 0.03]
seeds = [1]

[[rule]]
name = "basic"
label = "cosine"
lr = [0.01, 0.03, 0.1]
seeds = [1]
options = {{ lr-decay = "cosine" }}

[[rule]]
name = "first-order"
label = "fo"
lr = [0.01]
seeds = [1]
grid = {{ alpha = [0.0001, 0.001] }}
"#,
        data.display()
    );
    let spec = write(dir.path(), "pass1.toml", &pass1);

    // Pass 1, by hand: each cell's final validation accuracy chosen. constant's best is
    // its largest η (an edge), cosine's is inside its grid, fo's α is 1e-3.
    let root = dir.path().join("root");
    // Every cell pass 1 and the later rounds plan, with its arguments as `sweep` has them.
    let mut planned = pass1.clone();
    for lr in [0.1, 0.3] {
        planned += &format!(
            "\n[[rule]]\nname = \"basic\"\nlabel = \"constant\"\nlr = [{lr}]\nseeds = [1]\n"
        );
    }
    let planned = write(dir.path(), "planned.toml", &planned);
    let args = dry_run(&planned, &root)
        .into_iter()
        .map(|(dir, args, _)| (dir, args))
        .collect();
    let mut hand = HandRoot::with_args(&root, args);
    let run = |hand: &mut HandRoot, rule: &str, schedule: &str, lr: f64, seed: u64, val| {
        let cell = hand.cell(rule, schedule, lr, seed);
        hand_run(&cell, &[(0.5, 0.5, 1.0), (val, val, 2.0)], None);
    };
    for lr in [0.01, 0.1] {
        for seed in 1..=3 {
            run(&mut hand, "auto", "auto", lr, seed, 0.8);
        }
    }
    run(&mut hand, "constant", "basic", 0.01, 1, 0.6);
    run(&mut hand, "constant", "basic", 0.03, 1, 0.8);
    for (lr, val) in [(0.01, 0.6), (0.03, 0.85), (0.1, 0.7)] {
        run(&mut hand, "cosine", "basic", lr, 1, val);
    }
    run(&mut hand, "fo-alpha=0.0001", "first-order", 0.01, 1, 0.5);
    run(&mut hand, "fo-alpha=0.001", "first-order", 0.01, 1, 0.7);
    hand.write_manifest();
    // The hand-made cells are the ones `sweep` names: none left to run.
    assert_eq!(to_run(&spec, &root), Vec::<String>::new());

    // Round 1: constant's 0.03 is at the edge, so 0.1 is added on seed 1.
    ok(&etaprobe(&["compare", s(&root)]));
    let o = script("extend-grid.py", &[&spec, &root]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stderr).trim(),
        "constant: selected η 0.03 is at its grid's edge: adds 0.1 on seed 1"
    );
    let ext_text = text(&o.stdout);
    assert!(ext_text.starts_with(&pass1), "the spec is kept whole");
    let ext = rules(&ext_text);
    assert_eq!(ext.len(), 5);
    let added = &ext[4];
    assert_eq!(added["name"].as_str(), Some("basic"));
    assert_eq!(added["label"].as_str(), Some("constant"));
    assert_eq!(floats(&added["lr"]), [0.1]);
    assert_eq!(floats(&added["seeds"]), [1.0]);
    let ext_spec = write(dir.path(), "ext.toml", &ext_text);
    assert_eq!(to_run(&ext_spec, &root), ["t/constant/lr0.1/seed1"]);

    // Round 2: 0.1 is better still, so 0.3 is added; the grid is the union of both
    // entries of the label.
    run(&mut hand, "constant", "basic", 0.1, 1, 0.9);
    hand.write_manifest();
    ok(&etaprobe(&["compare", s(&root)]));
    let o = script("extend-grid.py", &[&ext_spec, &root]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("selected η 0.1 is at its grid's edge: adds 0.3"));
    let ext_text = text(&o.stdout);
    assert_eq!(rules(&ext_text).len(), 6);
    let ext_spec = write(dir.path(), "ext.toml", &ext_text);
    assert_eq!(to_run(&ext_spec, &root), ["t/constant/lr0.3/seed1"]);

    // Round 3: 0.3 diverged, which scores chance (§2): 0.1 is inside, nothing to add.
    let cell = hand.cell("constant", "basic", 0.3, 1);
    hand_run(
        &cell,
        &[(0.1, 0.1, 1.0)],
        Some("training diverged at step 4"),
    );
    hand.write_manifest();
    ok(&etaprobe(&["compare", s(&root)]));
    let o = script("extend-grid.py", &[&ext_spec, &root]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());

    // Pass 2: each val-tuned baseline once, at its selected η on the other seeds; fo's α
    // from every η0 on every seed; auto is not tuned.
    let o = script("pass2-spec.py", &[&ext_spec, &root]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let pass2_text = text(&o.stdout);
    assert!(pass2_text.starts_with(&ext_text));
    let pass2 = rules(&pass2_text);
    assert_eq!(pass2.len(), 9, "{pass2_text}");
    let tail = &pass2[6..];
    let label = |r: &toml::Table| r["label"].as_str().unwrap().to_string();
    assert_eq!(
        tail.iter().map(label).collect::<Vec<_>>(),
        ["constant", "cosine", "first-order-tuned"]
    );
    assert_eq!(floats(&tail[0]["lr"]), [0.1]);
    assert_eq!(floats(&tail[0]["seeds"]), [2.0, 3.0]);
    assert_eq!(floats(&tail[1]["lr"]), [0.03]);
    assert_eq!(
        tail[1]["options"]["lr-decay"].as_str(),
        Some("cosine"),
        "a baseline keeps its options"
    );
    assert_eq!(floats(&tail[2]["lr"]), [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]);
    assert_eq!(tail[2]["options"]["alpha"].as_float(), Some(0.001));
    assert!(tail[2].get("seeds").is_none(), "every seed");
    let pass2_spec = write(dir.path(), "pass2.toml", &pass2_text);
    let cells = to_run(&pass2_spec, &root);
    assert_eq!(cells.len(), 2 + 2 + 6 * 3, "{cells:?}");
    for want in ["t/constant/lr0.1/seed2", "t/cosine/lr0.03/seed3"] {
        assert!(cells.iter().any(|c| c == want), "{want}: {cells:?}");
    }
}

/// A spec of one val-tuned baseline over `grid` and its grid CSV with `selected` chosen,
/// as `compare` writes it; returns (spec, root).
fn one_baseline(dir: &Path, grid: &[f64], selected: f64) -> (PathBuf, PathBuf) {
    let lrs: Vec<String> = grid.iter().map(f64::to_string).collect();
    let spec = write(
        dir,
        "one.toml",
        &format!(
            "seeds = [1, 2]\n\n[[task]]\nname = \"t\"\nmodel = \"logreg\"\nepochs = 1\n\n\
             [[rule]]\nname = \"basic\"\nlr = [{}]\nseeds = [1]\n",
            lrs.join(", ")
        ),
    );
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("compare")).unwrap();
    let mut csv = String::from("rule,schedule,lr,selected,final_val_acc\n");
    for lr in grid {
        csv += &format!("basic,basic,{lr},{},0.5\n", u8::from(*lr == selected));
    }
    std::fs::write(root.join("compare/t-grid.csv"), csv).unwrap();
    (spec, root)
}

#[test]
fn a_grid_is_extended_downwards_and_not_past_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    // The smallest η selected: the next value of the 1–3 pattern below it.
    let (spec, root) = one_baseline(dir.path(), &[0.01, 0.03], 0.01);
    let o = script("extend-grid.py", &[&spec, &root]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(floats(&rules(&text(&o.stdout))[1]["lr"]), [0.003]);
    // An interior selection: nothing to add.
    let (spec, root) = one_baseline(dir.path(), &[0.01, 0.03, 0.1], 0.03);
    let o = script("extend-grid.py", &[&spec, &root]);
    assert_eq!(o.status.code(), Some(3));
    // 300 is past the limit (100): the edge stays, and the log says why.
    let (spec, root) = one_baseline(dir.path(), &[30.0, 100.0], 100.0);
    let o = script("extend-grid.py", &[&spec, &root]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("past the limits"),
        "{}",
        text(&o.stderr)
    );
    // A grid off the 1–3 pattern is left to a person, with a failing exit.
    let (spec, root) = one_baseline(dir.path(), &[0.02, 0.05], 0.05);
    let o = script("extend-grid.py", &[&spec, &root]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("not on the 1–3 pattern"));
    assert!(o.stdout.is_empty());
}

/// `scripts/keep-records.sh` keeps the cells whose own `run.json` says they ended, not
/// those stopped on request to be resumed, nor a resumed run still going whose earlier
/// sittings ended (their keys are nested in `earlier_sittings`).
#[test]
fn keep_records_keeps_the_cells_that_ended() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let cells = [
        ("ended", r#"{"finished": "t1", "totals": {"steps": 4}}"#),
        (
            "diverged",
            r#"{"finished": "t1", "totals": {"stopped": "training diverged at step 3"}}"#,
        ),
        (
            "stopped",
            r#"{"finished": "t1", "totals": {"interrupted": true}}"#,
        ),
        (
            "older-stop",
            r#"{"finished": "t1", "totals": {"stopped": "stopped on request after step 2"}}"#,
        ),
        (
            "going",
            r#"{"started": "t2", "earlier_sittings": [{"finished": "t1", "totals": {}}]}"#,
        ),
    ];
    for (name, json) in cells {
        std::fs::create_dir_all(root.join(name)).unwrap();
        write(&root.join(name), "run.json", json);
        write(&root.join(name), "epochs.csv", "epoch\n");
    }
    write(&root, "sweep.json", "{}");
    let dest = dir.path().join("kept");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/keep-records.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&root)
        .arg(&dest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (name, _) in cells {
        let kept = dest.join(name).join("run.json").is_file();
        assert_eq!(kept, ["ended", "diverged"].contains(&name), "{name}");
    }
}
