//! Data-parallel training over MPI (`train --distributed`). Without the `mpi` feature the
//! flag is refused with a clear message; with it, and with `mpirun` on the PATH, two
//! ranks on the software adapter train as one process does on the same global batch, a
//! resumed job continues exactly, and a killed or hung rank stops the job promptly with
//! its last checkpoint intact.

use crate::common::etaprobe;

/// The training options every run here shares, with the data folder `data`, for
/// `epochs` epochs, in batches of 32.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
fn lenet_args(data: &str, epochs: usize) -> Vec<String> {
    lenet_args_in_batches(data, epochs, 32)
}

/// [`lenet_args`] in batches of `batch`.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
fn lenet_args_in_batches(data: &str, epochs: usize, batch: usize) -> Vec<String> {
    [
        "train",
        "--model",
        "lenet",
        "--dataset",
        "cifar10",
        "--data",
        data,
        "--lr",
        "0.01",
        "--eval-subset",
        "64",
        "--seed",
        "3",
        "-q",
    ]
    .map(String::from)
    .into_iter()
    .chain(["--epochs".into(), epochs.to_string()])
    .chain(["--batch-size".into(), batch.to_string()])
    .collect()
}

#[cfg(not(feature = "mpi"))]
#[test]
fn distributed_without_the_feature_is_refused() {
    let out = etaprobe(&["train", "--distributed", "--max-steps", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("built without MPI"), "{err}");
    assert!(err.contains("--features mpi"), "{err}");
}

#[cfg(feature = "mpi")]
#[test]
fn distributed_outside_a_launcher_is_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(["train", "--distributed", "--max-steps", "1"])
        .env_remove("OMPI_COMM_WORLD_SIZE")
        .env_remove("PMIX_RANK")
        .env_remove("PMI_RANK")
        .env_remove("PMI_SIZE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mpirun -np N"), "{err}");
}

#[test]
fn a_bad_collective_timeout_is_refused() {
    // 1e20 s is more than a Duration holds: refused, not a panic.
    for timeout in ["0", "NaN", "inf", "1e20"] {
        let out = etaprobe(&["train", "--distributed", "--collective-timeout", timeout]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{timeout}: {err}");
        assert!(
            err.contains("--collective-timeout must be a positive"),
            "{timeout}: {err}"
        );
        assert!(!err.contains("panicked"), "{timeout}: {err}");
    }
}

#[test]
fn download_with_distributed_is_refused() {
    // Refused before the job is joined: no launcher, no MPI build needed, no download.
    let out = etaprobe(&["train", "--distributed", "--download", "--max-steps", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--download cannot be combined with --distributed"),
        "{err}"
    );
    assert!(err.contains("one-process run first"), "{err}");
}

#[cfg(feature = "mpi")]
mod with_mpi {
    use std::io::Read;
    use std::path::Path;
    use std::process::{Child, Command, ExitStatus, Output, Stdio};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use etaprobe::data::DatasetKind;

    use super::{lenet_args, lenet_args_in_batches};
    use crate::common::{fake, ok, s};

    /// Whether `mpirun` is Open MPI's (the options and environment these tests use are
    /// its own); the tests that need it say so and return when not.
    fn have_mpirun() -> bool {
        let found = Command::new("mpirun")
            .arg("--version")
            .output()
            .is_ok_and(|o| {
                let text = [o.stdout, o.stderr].concat();
                o.status.success() && String::from_utf8_lossy(&text).contains("Open MPI")
            });
        if !found {
            eprintln!("no Open MPI mpirun (`mpirun --version`): skipping the MPI test");
        }
        found
    }

    /// `mpirun`, as root too, on any core count, without the data or adapter of the
    /// environment the tests run in.
    fn launcher() -> Command {
        let mut command = Command::new("mpirun");
        command
            .arg("--oversubscribe")
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .env_remove("ETAPROBE_DATA")
            .env_remove("ETAPROBE_ADAPTER");
        command
    }

    /// `mpirun -np 2 etaprobe ARGS --distributed`.
    fn mpirun(args: &[String]) -> Command {
        let mut command = launcher();
        command
            .args(["-np", "2"])
            .arg(env!("CARGO_BIN_EXE_etaprobe"))
            .args(args)
            .arg("--distributed");
        command
    }

    /// [`mpirun`]'s job, waited for (10 minutes at most).
    fn job(args: &[String]) -> Output {
        Job::start(&mut mpirun(args)).wait(Duration::from_secs(600))
    }

    fn single(args: &[String]) -> Output {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::common::etaprobe(&words)
    }

    fn with(args: &[String], more: &[&str]) -> Vec<String> {
        args.iter()
            .cloned()
            .chain(more.iter().map(|w| w.to_string()))
            .collect()
    }

    /// The measured columns of steps.csv per step: the loss, η, and newton's five probe
    /// losses and safeguard flag (not its numerator and denominator, differences of
    /// nearly equal probes whose relative rounding is large by construction).
    fn step_values(dir: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
        const MEASURED: [&str; 8] = [
            "loss",
            "lr",
            "f_m2",
            "f_m1",
            "f_0",
            "f_p1",
            "f_p2",
            "safeguarded",
        ];
        let text = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let columns: Vec<usize> = (0..header.len())
            .filter(|&i| MEASURED.contains(&header[i]))
            .collect();
        let rows = lines
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                // A step that did not probe leaves its probe cells empty: NaN here.
                (columns.iter())
                    .map(|&i| match cells[i] {
                        "" => f64::NAN,
                        v => v.parse().unwrap(),
                    })
                    .collect()
            })
            .collect();
        (
            columns.iter().map(|&i| header[i].to_string()).collect(),
            rows,
        )
    }

    /// newton's probe columns, which steps.csv has when the run probed: without them the
    /// comparison would say nothing about the probes.
    fn assert_probes_compared(header: &[String], rule: &str) {
        for column in ["f_m2", "f_m1", "f_0", "f_p1", "f_p2", "safeguarded"] {
            assert!(
                header.iter().any(|h| h == column),
                "{rule}: steps.csv has no {column}: {header:?}"
            );
        }
    }

    /// Trains `args` with one process into `one` and with two ranks into `two`, and
    /// returns how far apart their steps.csv and checkpoints are; the ranks' weights must
    /// be the same bits, and a probing rule's probes must be among the values compared.
    fn one_and_two(args: &[String], one: &Path, two: &Path, rule: &str) -> (f64, f64) {
        ok(&single(&with(args, &["--out", s(one)])));
        let job = job(&with(args, &["--out", s(two)]));
        ok(&job);
        // Every checkpoint compares the ranks' weights: the same bits everywhere.
        let err = String::from_utf8_lossy(&job.stderr);
        assert!(!err.contains("weights differ"), "{err}");
        if rule.starts_with("newton") {
            assert_probes_compared(&step_values(two).0, rule);
        }
        let steps = steps_difference(one, two);
        let weights = checkpoint_difference(one, two);
        eprintln!(
            "{rule}: steps.csv max relative difference {steps:.2e}, checkpoint {weights:.2e}"
        );
        (steps, weights)
    }

    fn relative(a: f64, b: f64) -> f64 {
        (a - b).abs() / a.abs().max(b.abs()).max(1e-30)
    }

    /// The largest relative difference of any value of steps.csv.
    fn steps_difference(a: &Path, b: &Path) -> f64 {
        let ((ha, ra), (hb, rb)) = (step_values(a), step_values(b));
        assert_eq!(ha, hb);
        assert_eq!(
            ra.len(),
            rb.len(),
            "steps in {} and {}",
            a.display(),
            b.display()
        );
        let mut worst = 0f64;
        for (x, y) in ra.iter().zip(&rb) {
            for (u, v) in x.iter().zip(y) {
                worst = match (u.is_nan(), v.is_nan()) {
                    (true, true) => worst,
                    (false, false) => worst.max(relative(*u, *v)),
                    // Probed in one run and not in the other.
                    _ => f64::INFINITY,
                };
            }
        }
        worst
    }

    /// Every tensor of the checkpoint's weights and state files, by name.
    fn checkpoint_tensors(dir: &Path) -> Vec<(String, Vec<f32>)> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        // The newest state file (named by its step) is the checkpoint's; an older one is
        // the previous checkpoint's.
        let state = names
            .iter()
            .rfind(|n| n.starts_with("checkpoint.state-"))
            .cloned();
        let mut out = Vec::new();
        for name in ["checkpoint.safetensors".to_string()]
            .into_iter()
            .chain(state)
        {
            let path = dir.join(&name);
            let bytes = std::fs::read(&path).unwrap();
            let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            let prefix = if name == "checkpoint.safetensors" {
                ""
            } else {
                "state."
            };
            for (tensor, view) in file.tensors() {
                let values = view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect();
                out.push((format!("{prefix}{tensor}"), values));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The largest difference of any tensor's values, relative to the tensor's largest
    /// magnitude.
    fn checkpoint_difference(a: &Path, b: &Path) -> f64 {
        let (ta, tb) = (checkpoint_tensors(a), checkpoint_tensors(b));
        let names = |t: &[(String, Vec<f32>)]| t.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&ta), names(&tb));
        assert!(!ta.is_empty());
        let mut worst = 0f64;
        for ((name, x), (_, y)) in ta.iter().zip(&tb) {
            assert_eq!(x.len(), y.len(), "{name}");
            let scale = x.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
            for (u, v) in x.iter().zip(y) {
                worst = worst.max(f64::from((u - v).abs() / scale));
            }
        }
        worst
    }

    #[test]
    fn two_ranks_train_as_one_process_does() {
        if !have_mpirun() {
            return;
        }
        // 640 samples: 20 steps of 32, 16 per rank.
        let (_d, data) = fake(DatasetKind::Cifar10, 640, 64);
        let runs = tempfile::tempdir().unwrap();
        // newton's faithful ε = 1e-5 puts its second difference below the f32 loss's
        // rounding, so its η follows rounding (the order of any sum moves it by 1e-2; see
        // docs/distributed.md); at ε = 1e-2 the probes resolve the curvature, and the
        // clamps keep the rule from diverging on this random data.
        // auto from η0 = 10 blows the loss up at once: every rank must put the same
        // weights back at the same step, and the same iterate average with its count.
        let rules: [&[&str]; 3] = [
            &["--schedule", "auto"],
            &["--schedule", "auto", "--lr", "10", "--average-gamma", "8"],
            &[
                "--schedule",
                "newton",
                "--eps",
                "1e-2",
                "--lr-min",
                "1e-3",
                "--lr-max",
                "5e-2",
            ],
        ];
        for rule in rules {
            let mut base = lenet_args(s(&data), 1);
            if let Some(i) = rule.iter().position(|a| *a == "--lr") {
                // The rule's η0 in place of the default one.
                let at = base.iter().position(|a| a == "--lr").unwrap();
                base[at + 1] = rule[i + 1].to_string();
            }
            let lr_at = rule.iter().position(|a| *a == "--lr");
            let rule_args: Vec<&str> = (0..rule.len())
                .filter(|&k| lr_at.is_none_or(|i| k != i && k != i + 1))
                .map(|k| rule[k])
                .collect();
            let base = with(&base, &rule_args);
            let run = |name: &str| runs.path().join(format!("{}-{name}", rule[1..].join("")));
            let (one, two) = (run("single"), run("two"));
            let twenty = with(&base, &["--max-steps", "20"]);
            let (steps, weights) = one_and_two(&twenty, &one, &two, rule[1]);
            if rule.contains(&"10") {
                let decisions = std::fs::read_to_string(two.join("rule.csv")).unwrap();
                assert!(
                    decisions.contains("blow-up"),
                    "no update undone: {decisions}"
                );
            }
            assert!(steps <= 1e-5, "{}: steps.csv differs by {steps:e}", rule[1]);
            assert!(
                weights <= 1e-5,
                "{}: checkpoint differs by {weights:e}",
                rule[1]
            );
            // Stopped at step 10 and resumed, the job writes what the straight one wrote.
            let resumed = run("resumed");
            let first = with(&base, &["--max-steps", "10", "--out", s(&resumed)]);
            ok(&job(&first));
            let rest =
                ["train", "--resume", s(&resumed), "--max-steps", "20", "-q"].map(String::from);
            ok(&job(&rest));
            let (_, straight) = step_values(&two);
            let (_, again) = step_values(&resumed);
            assert_eq!(straight, again, "{}: the resumed job's steps.csv", rule[1]);
            assert_eq!(checkpoint_difference(&two, &resumed), 0.0);
            // The resumed job's communication totals count both sittings.
            let communication = |dir: &Path| {
                let info: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap())
                        .unwrap();
                let c = &info["totals"]["communication"];
                (c["gradients"].as_u64(), c["bytes_sent"].as_u64())
            };
            let straight_total = communication(&two);
            assert!(
                straight_total.0.is_some_and(|n| n > 0),
                "{straight_total:?}"
            );
            assert_eq!(communication(&resumed), straight_total, "{}", rule[1]);
        }
    }

    #[test]
    fn uneven_shards_and_a_short_last_batch_train_as_one_process_does() {
        if !have_mpirun() {
            return;
        }
        let runs = tempfile::tempdir().unwrap();
        let newton = [
            "--schedule",
            "newton",
            "--eps",
            "1e-2",
            "--lr-min",
            "1e-3",
            "--lr-max",
            "5e-2",
        ];
        // 650 samples in batches of 33: 19 batches split 17/16, then one of 23 split 12/11;
        // 20 steps are the epoch. newton probes the ranks' uneven shards.
        // 651 samples with --probe-on val and a tenth held out: 586 to train on, 17 batches
        // and one of 25 split 13/12; 20 steps reach into the second epoch, and the probes
        // of the short batch are on the first 25 samples of a val batch of 33 (sharded
        // before being cut, they differed from one process's by 1e-2). On the val batches
        // ε = 1e-2 leaves some second differences within a few roundings of the loss (one
        // flipped the safeguard); ε = 0.1 resolves them.
        let mut newton_val = newton.to_vec();
        newton_val[3] = "0.1";
        newton_val.extend(["--probe-on", "val", "--val-split", "0.1"]);
        // gen probing a fresh training batch every second step (GeN's own settings; every
        // step, the fits' differences of probes carry the ranks' other summation order
        // into η, and the weights drift 2e-5 apart in 20 steps): the short
        // batch's probes are on the first 23 samples of a fresh batch of 33, sharded after
        // the cut as one process's are.
        let gen_fresh = [
            "--schedule",
            "gen",
            "--gen-every",
            "2",
            "--gen-fit",
            "three-point",
            "--gen-clamp",
            "2",
            "--probe-on",
            "fresh",
            "--lr-max",
            "5e-2",
        ];
        let cases: [(&str, usize, Vec<&str>); 4] = [
            ("auto", 650, vec!["--schedule", "auto"]),
            ("newton", 650, newton.to_vec()),
            ("newton-val", 651, newton_val),
            ("gen-fresh", 650, gen_fresh.to_vec()),
        ];
        for (name, samples, rule) in cases {
            let (_d, data) = fake(DatasetKind::Cifar10, samples, 64);
            let args = with(&lenet_args_in_batches(s(&data), 2, 33), &rule);
            let args = with(&args, &["--max-steps", "20"]);
            let run = |what: &str| runs.path().join(format!("{name}-{what}"));
            let (steps, weights) = one_and_two(&args, &run("single"), &run("two"), name);
            let (_, rows) = step_values(&run("two"));
            assert_eq!(rows.len(), 20, "{name}");
            assert!(steps <= 1e-5, "{name}: steps.csv differs by {steps:e}");
            assert!(weights <= 1e-5, "{name}: checkpoint differs by {weights:e}");
        }
    }

    #[test]
    fn a_batch_without_a_sample_for_every_rank_is_refused() {
        if !have_mpirun() {
            return;
        }
        // 65 samples in batches of 32: the epoch's last batch holds one.
        let (_d, data) = fake(DatasetKind::Cifar10, 65, 16);
        let runs = tempfile::tempdir().unwrap();
        let out = runs.path().join("run");
        let args = with(&lenet_args(s(&data), 1), &["--out", s(&out)]);
        let job = job(&args);
        let err = String::from_utf8_lossy(&job.stderr);
        assert_eq!(job.status.code(), Some(2), "{err}");
        assert!(
            err.contains("an epoch's last batch holds 1 (65 samples"),
            "{err}"
        );
        assert!(
            err.contains("give --drop-last, or a --batch-size that leaves at least 2"),
            "{err}"
        );
        let line = err
            .lines()
            .find(|l| l.contains("--distributed over"))
            .unwrap();
        assert!(!line.contains("  "), "stray spaces: {line}");
        assert!(!out.exists(), "the refused job made its run directory");
    }

    #[test]
    fn ranks_reading_different_data_are_refused_before_anything_is_written() {
        if !have_mpirun() {
            return;
        }
        // Two copies of the same shape, drawn from different seeds: rank 1 reads the other.
        let (_a, ours) = fake(DatasetKind::Cifar10, 64, 16);
        let other = tempfile::tempdir().unwrap();
        let theirs = etaprobe::data::synth::write_fake_dataset(
            DatasetKind::Cifar10,
            other.path(),
            64,
            16,
            8,
        )
        .unwrap();
        let runs = tempfile::tempdir().unwrap();
        let out = runs.path().join("run");
        let rank = |data: &Path| {
            with(
                &lenet_args(s(data), 1),
                &["--out", s(&out), "--distributed"],
            )
        };
        // One program per rank (MPMD): rank 0 reads ours, rank 1 theirs.
        let mut mpmd = launcher();
        for (i, data) in [ours, theirs].iter().enumerate() {
            if i > 0 {
                mpmd.arg(":");
            }
            mpmd.args(["-np", "1", env!("CARGO_BIN_EXE_etaprobe")])
                .args(rank(data));
        }
        let job = Job::start(&mut mpmd).wait(Duration::from_secs(300));
        let err = String::from_utf8_lossy(&job.stderr);
        assert_eq!(job.status.code(), Some(2), "{err}");
        assert!(
            err.contains("the ranks do not hold the same data: rank 1 reads different samples"),
            "{err}"
        );
        assert!(!out.exists(), "the refused job made its run directory");
    }

    #[test]
    fn ranks_given_different_options_are_refused_before_anything_is_written() {
        if !have_mpirun() {
            return;
        }
        let (_d, data) = fake(DatasetKind::Cifar10, 64, 16);
        let runs = tempfile::tempdir().unwrap();
        let out = runs.path().join("run");
        // One program per rank (MPMD): rank 1 is given another batch size and epoch count.
        let mut mpmd = launcher();
        for (i, (epochs, batch)) in [(1, 32), (2, 16)].into_iter().enumerate() {
            if i > 0 {
                mpmd.arg(":");
            }
            mpmd.args(["-np", "1", env!("CARGO_BIN_EXE_etaprobe")])
                .args(with(
                    &lenet_args_in_batches(s(&data), epochs, batch),
                    &["--out", s(&out), "--distributed"],
                ));
        }
        let job = Job::start(&mut mpmd).wait(Duration::from_secs(300));
        let err = String::from_utf8_lossy(&job.stderr);
        assert_eq!(job.status.code(), Some(2), "{err}");
        assert!(
            err.contains(
                "the ranks were not given the same options: rank 1's --batch-size, --epochs \
                 differ from rank 0's"
            ),
            "{err}"
        );
        assert!(!out.exists(), "the refused job made its run directory");
    }

    #[test]
    fn a_slow_setup_or_run_directory_does_not_count_against_the_collective_timeout() {
        if !have_mpirun() {
            return;
        }
        if !cfg!(debug_assertions) {
            eprintln!(
                "ETAPROBE_SLOW_SETUP and ETAPROBE_SLOW_RUN_DIR are a debug build's: skipping \
                 the slow set-up test"
            );
            return;
        }
        // Rank 1 takes 16 s longer to set up than rank 0, which would wait for it in its
        // first exchange twice the 8 s allowed an exchange: the ranks meet at the end of
        // set-up, which waits up to 30 minutes, and then train. The same for rank 0
        // opening the run directory after that meeting (a resume's records read back or
        // copied), which rank 1 used to wait for in its first step.
        let (_d, data) = fake(DatasetKind::Cifar10, 64, 16);
        let runs = tempfile::tempdir().unwrap();
        for (hook, slow) in [
            ("ETAPROBE_SLOW_SETUP", "1@16"),
            ("ETAPROBE_SLOW_RUN_DIR", "0@16"),
        ] {
            let out = runs.path().join(hook);
            let args = with(
                &lenet_args(s(&data), 1),
                &["--collective-timeout", "8", "--out", s(&out)],
            );
            let mut command = mpirun(&args);
            command.env(hook, slow);
            let started = Instant::now();
            let job = Job::start(&mut command).wait(Duration::from_secs(300));
            ok(&job);
            assert!(started.elapsed() >= Duration::from_secs(16), "{hook}");
            assert_eq!(step_values(&out).1.len(), 2, "{hook}: two steps of 32");
        }
    }

    #[test]
    fn a_panicking_rank_stops_the_job_at_once() {
        if !have_mpirun() {
            return;
        }
        let (_d, data) = fake(DatasetKind::Cifar10, 640, 64);
        let runs = tempfile::tempdir().unwrap();
        let out = runs.path().join("run");
        // A timeout far beyond the test's deadline: only the panic hook's MPI_Abort can end
        // the job in time (unwinding would finalize MPI and wait for rank 0, which waits in
        // its next exchange).
        let args = with(
            &lenet_args(s(&data), 1),
            &["--collective-timeout", "600", "--out", s(&out)],
        );
        let started = Instant::now();
        let mut command = mpirun(&args);
        command.env("ETAPROBE_PANIC_AT", "1@5");
        let job = Job::start(&mut command).wait(Duration::from_secs(240));
        let took = started.elapsed();
        let err = String::from_utf8_lossy(&job.stderr);
        eprintln!("the job ended {:.1} s after it started", took.as_secs_f64());
        assert!(!job.status.success(), "{err}");
        assert!(
            err.contains("error: rank 1 of 2: thread 'main' panicked at"),
            "{err}"
        );
        assert!(err.contains("panicking at step 5"), "{err}");
        assert!(took < Duration::from_secs(120), "took {took:?}");
    }

    /// A job started under `mpirun`, its output read as it comes (a full pipe cannot stall
    /// it). Dropped before it ended (a failed assertion), it kills mpirun and its ranks, so
    /// that no rank is left running, or stopped, after the test.
    struct Job {
        child: Child,
        /// The threads reading stdout and stderr, each returning what it read.
        output: Option<(Reader, Reader)>,
        ended: bool,
    }

    type Reader = JoinHandle<Vec<u8>>;

    impl Job {
        fn start(command: &mut Command) -> Job {
            let mut child = command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let read = |mut pipe: Box<dyn Read + Send>| {
                std::thread::spawn(move || {
                    let mut bytes = Vec::new();
                    let _ = pipe.read_to_end(&mut bytes);
                    bytes
                })
            };
            let stdout = read(Box::new(child.stdout.take().unwrap()));
            let stderr = read(Box::new(child.stderr.take().unwrap()));
            Job {
                child,
                output: Some((stdout, stderr)),
                ended: false,
            }
        }

        fn id(&self) -> u32 {
            self.child.id()
        }

        /// The job's exit status if it has ended.
        fn ended(&mut self) -> Option<ExitStatus> {
            let status = self.child.try_wait().unwrap();
            self.ended = status.is_some();
            status
        }

        /// Waits for the job to end; past `deadline` kills it and fails the test.
        fn wait(mut self, deadline: Duration) -> Output {
            let started = Instant::now();
            let status = loop {
                if let Some(status) = self.ended() {
                    break status;
                }
                if started.elapsed() > deadline {
                    self.kill();
                    // What it printed, unless a process outside the job holds the pipe.
                    let (_, stderr) = self.output.take().unwrap();
                    let killed = Instant::now();
                    while !stderr.is_finished() && killed.elapsed() < Duration::from_secs(5) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let err = match stderr.is_finished() {
                        true => String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
                        false => "(still open)".into(),
                    };
                    panic!("the job did not end within {deadline:?}: killed; stderr: {err}");
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            let (stdout, stderr) = self.output.take().unwrap();
            Output {
                status,
                stdout: stdout.join().unwrap(),
                stderr: stderr.join().unwrap(),
            }
        }

        /// Kills the ranks (a stopped one too), then mpirun, and reaps mpirun.
        fn kill(&mut self) {
            for rank in [0, 1] {
                if let Some(pid) = rank_pid(self.child.id(), rank) {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                }
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.ended = true;
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            if !self.ended {
                self.kill();
            }
        }
    }

    #[test]
    fn bench_dist_refuses_a_batch_smaller_than_the_ranks_and_no_step() {
        if !have_mpirun() {
            return;
        }
        let cases: [(&[&str], &str); 2] = [
            (
                &["--batch-size", "1"],
                "--batch-size 1 leaves a rank without a sample: give at least 2",
            ),
            (&["--steps", "0"], "'--steps <N>': must be at least 1"),
        ];
        for (options, message) in cases {
            let mut command = Command::new("mpirun");
            command
                .args(["--oversubscribe", "-np", "2"])
                .arg(env!("CARGO_BIN_EXE_etaprobe"))
                .args(["bench", "dist", "--models", "lenet"])
                .args(options)
                .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
                .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
            let job = Job::start(&mut command).wait(Duration::from_secs(120));
            let err = String::from_utf8_lossy(&job.stderr);
            assert_eq!(job.status.code(), Some(2), "{options:?}: {err}");
            assert!(err.contains(message), "{options:?}: {err}");
        }
    }

    /// The pids of the job's rank `rank` among the children of `mpirun`.
    fn rank_pid(mpirun: u32, rank: usize) -> Option<u32> {
        let children = std::fs::read_to_string(format!("/proc/{mpirun}/task/{mpirun}/children"))
            .unwrap_or_default();
        children
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
            .find(|pid| {
                let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
                let wanted = format!("OMPI_COMM_WORLD_RANK={rank}");
                environ.split(|&b| b == 0).any(|v| v == wanted.as_bytes())
            })
    }

    /// Starts a long job with a checkpoint every 5 steps, waits for its first checkpoint,
    /// sends `signal` to rank 1, and returns how long the job took to end, its output, and
    /// the run directory (in a folder that also holds the data).
    fn stop_rank_one(signal: &str, timeout: &str) -> (Duration, Output, tempfile::TempDir) {
        let (data_dir, data) = fake(DatasetKind::Cifar10, 640, 64);
        let run = data_dir.path().join("run");
        let args = with(
            &lenet_args(s(&data), 1000),
            &[
                "--checkpoint-every",
                "5",
                "--collective-timeout",
                timeout,
                "--out",
                s(&run),
            ],
        );
        let mut job = Job::start(&mut mpirun(&args));
        let checkpoint = run.join("checkpoint.safetensors");
        let waited = Instant::now();
        while !checkpoint.exists() {
            assert!(waited.elapsed() < Duration::from_secs(300), "no checkpoint");
            if job.ended().is_some() {
                let out = job.wait(Duration::ZERO);
                panic!("the job ended: {}", String::from_utf8_lossy(&out.stderr));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let ranks = [0, 1].map(|rank| rank_pid(job.id(), rank).expect("a rank's process"));
        let stopped = Instant::now();
        let status = Command::new("kill")
            .args([signal, &ranks[1].to_string()])
            .status();
        assert!(status.unwrap().success());
        // Well past the 60 s the tests allow: a job that does not end fails the test.
        let out = job.wait(Duration::from_secs(120));
        // The job has ended when no rank is left (reaped, not only exited).
        while ranks
            .iter()
            .any(|pid| Path::new(&format!("/proc/{pid}")).exists())
        {
            assert!(
                stopped.elapsed() < Duration::from_secs(120),
                "ranks left running"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        (stopped.elapsed(), out, data_dir)
    }

    /// The run in `dir` resumes from its last checkpoint (one process) and trains on.
    fn resumes(dir: &Path) {
        let steps = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
        let last = steps.lines().count() - 1;
        let more = (last + 5).to_string();
        let args = ["train", "--resume", s(dir), "--max-steps", &more];
        ok(&crate::common::etaprobe(&args));
    }

    #[test]
    fn a_killed_rank_stops_the_job_and_the_checkpoint_survives() {
        if !have_mpirun() {
            return;
        }
        let (took, out, run) = stop_rank_one("-KILL", "120");
        eprintln!(
            "the job ended {:.1} s after rank 1 was killed",
            took.as_secs_f64()
        );
        assert!(!out.status.success());
        assert!(took < Duration::from_secs(60), "took {took:?}");
        resumes(&run.path().join("run"));
    }

    #[test]
    fn a_terminated_rank_stops_every_rank_after_the_same_step_with_a_checkpoint() {
        if !have_mpirun() {
            return;
        }
        let (took, out, run) = stop_rank_one("-TERM", "120");
        let err = String::from_utf8_lossy(&out.stderr);
        eprintln!(
            "the job stopped {:.1} s after rank 1 was asked to",
            took.as_secs_f64()
        );
        // Rank 0 learned the request through the step's readings and checkpointed there.
        assert_eq!(out.status.code(), Some(130), "{err}");
        assert!(err.contains("stopped on request after step"), "{err}");
        assert!(err.contains("continue it with"), "{err}");
        assert!(!err.contains("did not join"), "{err}");
        assert!(took < Duration::from_secs(60), "took {took:?}");
        let dir = run.path().join("run");
        let steps = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
        let last = steps.lines().count() - 1;
        assert!(
            err.contains(&format!("after step {last};")),
            "the checkpoint is at the last recorded step {last}: {err}"
        );
        resumes(&dir);
    }

    #[test]
    fn a_hung_rank_stops_the_job_at_the_timeout() {
        if !have_mpirun() {
            return;
        }
        // 15 s: long enough that the dist tests running side by side on a slow 2-core
        // machine do not set it off before the hang (5 s did, on a 2.0 GHz Zen), short
        // enough that the job must end well within the 60 s allowed.
        let (took, out, run) = stop_rank_one("-STOP", "15");
        let err = String::from_utf8_lossy(&out.stderr);
        eprintln!(
            "the job ended {:.1} s after rank 1 hung",
            took.as_secs_f64()
        );
        assert!(!out.status.success());
        assert!(took < Duration::from_secs(60), "took {took:?}");
        assert!(
            err.contains("rank 0 of 2: the other ranks did not join"),
            "{err}"
        );
        resumes(&run.path().join("run"));
    }
}
