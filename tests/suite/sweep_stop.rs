//! A sweep asked to stop (SIGTERM, as Ctrl-C) starts no new cell, lets its running cell
//! finish its step and write a checkpoint, exits 130, and the same command goes on from
//! there; a sweep killed outright (SIGKILL) leaves its running cell to stop the same way.
//! Either way the records end as those of a sweep never stopped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, ok, s};

/// One rule, two seeds, each cell one epoch of about 1,000 steps (batch 2 of 2,000 training
/// samples). No periodic checkpoint: a checkpoint on disk is the stop's.
fn spec_text(data: &Path) -> String {
    format!(
        "seeds = [1, 2]\ncheckpoint-every = 100000\n\
         [[task]]\nname = \"t\"\nmodel = \"logreg\"\ndataset = \"fashion-mnist\"\n\
         data = \"{}\"\nbatch-size = 2\nepochs = 1\nval-split = 0.2\n\
         [[rule]]\nname = \"secant\"\nlr = [0.05]\n",
        data.display()
    )
}

const CELLS: [&str; 2] = ["t/secant/lr0.05/seed1", "t/secant/lr0.05/seed2"];

fn steps_done(run: &Path) -> usize {
    std::fs::read_to_string(run.join("steps.csv")).map_or(0, |t| t.lines().count().max(1) - 1)
}

fn sweep(spec: &Path, root: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(["sweep", s(spec), "--root", s(root), "--jobs", "1"])
        .env_remove("ETAPROBE_DATA")
        .env_remove("ETAPROBE_ADAPTER")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `run` has recorded 30 steps, while `child` still runs.
fn wait_for_steps(child: &mut Child, run: &Path) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while steps_done(run) < 30 {
        assert!(
            Instant::now() < deadline,
            "{} never got going",
            run.display()
        );
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The run stopped with a checkpoint of its last recorded step, before its `total`.
fn assert_stopped_with_checkpoint(run: &Path, total: usize) {
    let done = steps_done(run);
    assert!(done > 0 && done < total, "{}: {done} steps", run.display());
    let state = format!("checkpoint.state-{done:09}-");
    let has_state = std::fs::read_dir(run)
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(&state));
    assert!(has_state, "no {state}* in {}", run.display());
    assert!(run.join("checkpoint.safetensors").is_file());
}

fn statuses(root: &Path) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("sweep.json")).unwrap()).unwrap();
    manifest["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_stopped_or_killed_sweep_checkpoints_its_running_cell_and_goes_on_from_there() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 2500, 20);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("stop.toml");
    std::fs::write(&spec, spec_text(&data)).unwrap();
    let whole = dir.path().join("whole");
    ok(&etaprobe(&[
        "sweep",
        s(&spec),
        "--root",
        s(&whole),
        "--jobs",
        "2",
    ]));
    // About 1,000 steps (the validation split rounds).
    let total = steps_done(&whole.join(CELLS[0]));
    assert!((990..=1000).contains(&total), "{total}");

    // SIGTERM to the sweep alone: it passes the request on to its cell.
    let root = dir.path().join("stopped");
    let mut child = sweep(&spec, &root);
    wait_for_steps(&mut child, &root.join(CELLS[0]));
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{log}");
    assert!(log.contains("stop requested: no new cell starts"), "{log}");
    assert!(
        log.contains(&format!(
            "stopped {} with a checkpoint (resumable)",
            CELLS[0]
        )),
        "{log}"
    );
    assert!(
        log.contains(
            "sweep stopped on request: 0 of 2 cells finished, 1 stopped with a checkpoint"
        ),
        "{log}"
    );
    assert!(!log.contains("FAILED"), "{log}");
    assert_stopped_with_checkpoint(&root.join(CELLS[0]), total);
    assert!(
        !root.join(CELLS[1]).exists(),
        "a cell started after the stop"
    );
    assert_eq!(statuses(&root), ["pending", "pending"]);

    // The same command resumes the first cell; killed outright in the second, the sweep
    // leaves that cell's run to stop after its step with a checkpoint.
    let mut child = sweep(&spec, &root);
    wait_for_steps(&mut child, &root.join(CELLS[1]));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains(&format!("start {} (resumed from its checkpoint)", CELLS[0])),
        "{log}"
    );
    let second = root.join(CELLS[1]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(second.join("train.log"))
        .unwrap_or_default()
        .contains("stopped on request after step")
    {
        assert!(
            Instant::now() < deadline,
            "the orphaned run never stopped: {}",
            std::fs::read_to_string(second.join("train.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let cell_log = std::fs::read_to_string(second.join("train.log")).unwrap();
    assert!(
        cell_log.contains("the sweep stopped or is gone"),
        "{cell_log}"
    );
    assert_stopped_with_checkpoint(&second, total);

    let o = etaprobe(&["sweep", s(&spec), "--root", s(&root), "--jobs", "1"]);
    ok(&o);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains("1 finished earlier"), "{log}");
    assert!(
        log.contains(&format!("start {} (resumed from its checkpoint)", CELLS[1])),
        "{log}"
    );
    assert_eq!(statuses(&root), ["finished", "finished"]);
    for cell in CELLS {
        for file in ["steps.csv", "rule.csv"] {
            assert_eq!(
                std::fs::read_to_string(root.join(cell).join(file)).unwrap(),
                std::fs::read_to_string(whole.join(cell).join(file)).unwrap(),
                "{cell}/{file}"
            );
        }
    }
}
