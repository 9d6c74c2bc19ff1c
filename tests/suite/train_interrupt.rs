//! Ctrl-C (SIGINT) stops a run after its current step with a checkpoint, its records and
//! figures, exit status 130 and the command that continues it; continuing it gives the
//! records of a run never stopped.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, logreg_fm, ok, s};

fn train_args<'a>(data: &'a Path, out: &'a Path) -> Vec<&'a str> {
    [
        &logreg_fm(data)[..],
        &[
            "--lr",
            "0.05",
            "--batch-size",
            "16",
            "--epochs",
            "150",
            "--schedule",
            "secant",
            "--seed",
            "4",
            "--out",
            s(out),
        ],
    ]
    .concat()
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn ctrl_c_leaves_a_resumable_checkpoint_and_figures_and_exits_130() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let straight = runs.path().join("straight");
    ok(&etaprobe(&train_args(&data, &straight)));

    let out = runs.path().join("stopped");
    let child = Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(train_args(&data, &out))
        .env_remove("ETAPROBE_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while lines(&out.join("steps.csv")) < 30 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the run never got going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let stopped = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(130), "{stderr}");
    let steps_done = lines(&out.join("steps.csv")) - 1;
    assert!(
        steps_done < lines(&straight.join("steps.csv")) - 1,
        "the run finished before the signal arrived"
    );
    assert!(stderr.contains("stopped on request"), "{stderr}");
    // Stopped while it trained: the handler says a checkpoint comes, not "nothing".
    assert!(
        stderr.contains("stopping after this step: writing a checkpoint"),
        "{stderr}"
    );
    let command = stderr
        .lines()
        .find_map(|l| l.strip_prefix("continue it with: "))
        .unwrap_or_else(|| panic!("no resume command: {stderr}"));
    assert!(command.contains("--resume"), "{command}");
    for f in ["checkpoint.safetensors", "loss.png", "lr.png", "run.json"] {
        assert!(out.join(f).exists(), "{f} missing after Ctrl-C");
    }
    let meta =
        etaprobe::rundir::checkpoint::load_metadata(out.join("checkpoint.safetensors")).unwrap();
    assert_eq!(meta["step"], steps_done.to_string());

    // The printed command continues it (its first word is the program): the run
    // directory's config.toml holds every option.
    let words: Vec<String> = command
        .split(' ')
        .skip(1)
        .map(|w| w.trim_matches('\'').to_string())
        .collect();
    assert_eq!(words, ["train", "--resume", s(&out)], "{command}");
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    ok(&etaprobe(&words));
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
    assert_eq!(read(&straight, "steps.csv"), read(&out, "steps.csv"));
    assert_eq!(read(&straight, "rule.csv"), read(&out, "rule.csv"));
    let step_lines = |p: &Path| -> Vec<String> {
        read(p, "metrics.jsonl")
            .lines()
            .filter(|l| l.contains("\"type\":\"step\""))
            .map(String::from)
            .collect()
    };
    assert_eq!(step_lines(&straight), step_lines(&out));
}

/// A stop that comes while the data loads (ETAPROBE_STOP_AT=setup stands in for the
/// Ctrl-C) ends the run before its folder is touched: exit 130, nothing written, and with
/// --overwrite the old run still there.
#[test]
fn a_stop_before_the_first_step_writes_nothing() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let stopped = |out: &Path, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_etaprobe"))
            .args([&train_args(&data, out)[..], extra].concat())
            .env_remove("ETAPROBE_DATA")
            .env("ETAPROBE_STOP_AT", "setup")
            .output()
            .unwrap()
    };
    let out = runs.path().join("never");
    let o = stopped(&out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!out.exists(), "{stderr}");

    let old = runs.path().join("old");
    ok(&etaprobe(
        &[&train_args(&data, &old)[..], &["--max-steps", "3"]].concat(),
    ));
    let before = std::fs::read(old.join("steps.csv")).unwrap();
    let o = stopped(&old, &["--overwrite"]);
    assert_eq!(o.status.code(), Some(130));
    assert_eq!(std::fs::read(old.join("steps.csv")).unwrap(), before);
    assert!(old.join("checkpoint.safetensors").is_file());
}
