//! The command line on good and bad input.

use std::process::Command;

fn etaprobe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(args)
        .env_remove("ETAPROBE_ADAPTER")
        .output()
        .expect("run etaprobe")
}

#[test]
fn devices_lists_an_adapter_and_marks_the_chosen_one() {
    let out = etaprobe(&["devices"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "devices failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().any(|l| l.starts_with('*')),
        "no adapter marked:\n{stdout}"
    );
}

#[test]
fn unknown_adapter_is_a_clear_error_with_exit_code_2() {
    for (args, says) in [
        (
            &["--adapter", "nonexistent", "devices"][..],
            "'nonexistent' matches no adapter",
        ),
        (
            &["--adapter", "99", "bench", "matmul", "--sizes", "8"],
            "there is no adapter 99",
        ),
    ] {
        let out = etaprobe(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn adapter_from_the_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .arg("devices")
        .env("ETAPROBE_ADAPTER", "no-such-gpu")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_matmul_runs_on_a_small_size() {
    let out = etaprobe(&["bench", "matmul", "--sizes", "40", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["m"], 40);
    assert!(v["results"][0]["gflops"].as_f64().unwrap() > 0.0);
    // The numbers name the adapter they were measured on.
    assert!(v["adapter"].as_str().unwrap().contains("Vulkan"), "{v}");
}

#[test]
fn bench_probe_times_every_schedule_in_rounds() {
    let out = etaprobe(&[
        "bench",
        "probe",
        "--model",
        "logreg",
        "--batch-size",
        "4",
        "--steps",
        "1",
        "--rounds",
        "2",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One timed step (step 3) holds none of a 4-step rule's probes: said.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--steps 1 is not a multiple of 4")
            && said.contains("holding 0 of their probe steps"),
        "{said}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rounds"], 2);
    let results = v["results"].as_array().unwrap();
    let names: Vec<&str> = results.iter().map(|r| r[0].as_str().unwrap()).collect();
    let registered: Vec<&str> = etaprobe::schedule::RULES.iter().map(|r| r.0).collect();
    assert_eq!(names, registered);
    let basic = results.iter().find(|r| r[0] == "basic").unwrap();
    assert_eq!(basic[2], 1.0, "basic is the reference");
    assert!(results.iter().all(|r| r[1].as_f64().unwrap() > 0.0));
    let bad = etaprobe(&["bench", "probe", "--model", "logreg", "--rounds", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--rounds"));
}

#[test]
fn bench_memory_names_the_width_and_dropout_it_measured() {
    let out = etaprobe(&[
        "bench",
        "memory",
        "--model",
        "resnet18",
        "--width-mult",
        "0.0625",
        "--dropout",
        "0.2",
        "--batch-sizes",
        "1",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("of resnet18 (width ×0.0625, dropout 0.2) on "),
        "{said}"
    );
    // As JSON, in exact bytes: the probes hold more, a larger batch more.
    let out = etaprobe(&[
        "bench",
        "memory",
        "--model",
        "logreg",
        "--batch-sizes",
        "2,8",
        "--json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["model"].as_str().unwrap().starts_with("logreg"), "{v}");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["batch_size"], 8);
    let bytes = |r: &serde_json::Value, k: &str| r[k].as_u64().unwrap();
    assert!(bytes(&rows[0], "probing_bytes") > bytes(&rows[0], "basic_bytes"));
    assert!(bytes(&rows[1], "basic_bytes") > bytes(&rows[0], "basic_bytes"));
    assert!(!v["adapter"].as_str().unwrap().is_empty(), "{v}");
    assert!(
        rows.iter()
            .all(|r| r["probes_per_pass"].as_u64().unwrap() >= 1),
        "{v}"
    );
}

#[test]
fn bench_kernels_times_every_dispatch_of_a_step() {
    let out = etaprobe(&[
        "bench",
        "kernels",
        "--model",
        "lenet",
        "--batch-size",
        "2",
        "--rounds",
        "1",
        "--all",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kernels = v["kernels"].as_array().unwrap();
    let every = v["slowest"].as_array().unwrap();
    // With --all, one row per dispatch, and the per-kernel counts add up to them.
    let count: u64 = kernels.iter().map(|k| k[1].as_u64().unwrap()).sum();
    assert_eq!(count as usize, every.len());
    let labels: Vec<&str> = kernels.iter().map(|k| k[0].as_str().unwrap()).collect();
    // LeNet on CIFAR-10's 32×32 images: on 8-lane subgroups both convolutions read their
    // input directly, forward and weight gradient; else the first im2col moves vec4s
    // (taps up to 4 pixels right) and the second (14-pixel rows) takes one (column quad,
    // channel) per invocation; the 2×2 pools tile their inputs.
    let first: &[&str] = if etaprobe::ops::matmul::uses_subgroup_kernel(crate::common::gpu()) {
        &[
            "conv/direct5x5::conv5x5_c3_p0",
            "conv/direct5x5_grad::weight_grad5x5_p0",
            "conv/direct5x5::conv5x5_c6_p0_o16",
            "conv/direct5x5_grad::weight_grad5x5_p0_o16",
        ]
    } else {
        &["conv/im2col::im2col_s1", "conv/im2col::im2col_channel"]
    };
    let others = ["maxpool::forward", "maxpool::backward_tiled", "sgd::step"];
    for &expected in first.iter().chain(&others) {
        assert!(labels.contains(&expected), "{expected} missing: {labels:?}");
    }
    let phases: Vec<&str> = every.iter().map(|d| d[0].as_str().unwrap()).collect();
    assert_eq!(phases.first(), Some(&"forward"));
    assert_eq!(phases.last(), Some(&"update"));
    assert!(kernels.iter().all(|k| k[2].as_f64().unwrap() >= 0.0));
    assert!(v["step_ms"].as_f64().unwrap() > 0.0);

    // As text, the table's columns line up whatever the length of a kernel's name
    // (`conv/direct5x5_input_grad::input_grad5x5_c6_o16` is longer than the default).
    let out = etaprobe(&[
        "bench",
        "kernels",
        "--model",
        "lenet",
        "--batch-size",
        "2",
        "--rounds",
        "1",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("kernel "))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(table.len(), kernels.len() + 1, "{text}");
    let width = table[0].chars().count();
    for row in &table {
        assert_eq!(row.chars().count(), width, "{row:?} in\n{text}");
    }

    let bad = etaprobe(&["bench", "kernels", "--batch-size", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--batch-size"));

    // --dataset: the step on another data set's samples, named in the output.
    let fashion = etaprobe(&[
        "bench",
        "kernels",
        "--model",
        "lenet",
        "--dataset",
        "fashion-mnist",
        "--batch-size",
        "2",
        "--rounds",
        "1",
        "--json",
    ]);
    assert!(fashion.status.success());
    let v: serde_json::Value = serde_json::from_slice(&fashion.stdout).unwrap();
    assert_eq!(v["model"], "lenet on fashion-mnist");
    let bad = etaprobe(&[
        "bench",
        "kernels",
        "--model",
        "lenet",
        "--dataset",
        "boston",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("regression"));
}

#[test]
fn unknown_subcommand_is_rejected() {
    let out = etaprobe(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_usable_adapter_names_the_fix_and_exits_2() {
    // Restricting wgpu to a backend this machine lacks leaves no adapter.
    let backend = if cfg!(target_os = "macos") {
        "dx12"
    } else {
        "metal"
    };
    let out = Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .arg("devices")
        .env("WGPU_BACKEND", backend)
        .env_remove("ETAPROBE_ADAPTER")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("mesa-vulkan-drivers"), "{stderr}");
}

/// Without XDG_RUNTIME_DIR, etaprobe gives the Vulkan driver a private one: Mesa's
/// "XDG_RUNTIME_DIR is invalid or not set" no longer precedes every command's output.
#[test]
fn a_missing_xdg_runtime_dir_is_provided() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .arg("devices")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("run etaprobe");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
}

/// A negative number is a value, rejected by the option's value parser with its domain.
#[test]
fn negative_numbers_get_the_options_own_message() {
    let (_d, data) = crate::common::fake(etaprobe::data::DatasetKind::FashionMnist, 32, 8);
    for (flag, value, message) in [
        (
            "--lr",
            "-1",
            "--lr <F>': must be a finite non-negative number",
        ),
        ("--sps-c", "-0.5", "--sps-c <F>': must be"),
        ("--momentum", "-0.9", "--momentum <F>': must be in [0, 1)"),
    ] {
        let out = etaprobe(&[&crate::common::logreg_fm(&data)[..], &[flag, value]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(message), "{flag} {value}: {stderr}");
    }
}

/// Every option of `etaprobe train` says what it does.
#[test]
fn every_train_option_has_help() {
    use clap::Args;
    let command = etaprobe::train::TrainConfig::augment_args(clap::Command::new("train"));
    let silent: Vec<String> = command
        .get_arguments()
        .filter(|a| a.get_help().is_none() && a.get_long_help().is_none())
        .map(|a| format!("--{}", a.get_long().unwrap_or(a.get_id().as_str())))
        .collect();
    assert!(silent.is_empty(), "options without help: {silent:?}");
}

/// The help writes placeholders and defaults one way: a value is `<N>`, `<F>` or a word
/// for what it is (never clap's field name, `<LR_FROM_STAT>`), and a default clap cannot
/// print is written as clap writes its own, `[default: …]`.
#[test]
fn train_help_writes_placeholders_and_defaults_one_way() {
    use clap::Args;
    let command = etaprobe::train::TrainConfig::augment_args(clap::Command::new("train"));
    let mut odd = Vec::new();
    for a in command
        .get_arguments()
        .filter(|a| a.get_action().takes_values())
    {
        let long = a.get_long().unwrap_or(a.get_id().as_str());
        // Without a value name clap prints the field's: fine for `<MODEL>`, not for
        // `<LR_FROM_STAT>`.
        if a.get_value_names().is_none() && a.get_id().as_str().contains('_') {
            odd.push(format!("--{long} <{}>", a.get_id().as_str().to_uppercase()));
        }
        let help = a.get_long_help().or(a.get_help()).map(|h| h.to_string());
        if help.is_some_and(|h| h.contains("(default")) {
            odd.push(format!("--{long}: a default written as (default …)"));
        }
    }
    assert!(odd.is_empty(), "{odd:#?}");
}

/// Values that parse but mean nothing, refused before any data is read: a batch beyond any
/// buffer (its sizes used to overflow: a panic), δ = 0 (a division by zero), a cosine
/// floor above η0 (η would rise to it), milestones out of order.
#[test]
fn values_without_a_meaning_are_refused_before_the_data() {
    let missing = tempfile::tempdir().unwrap();
    let missing = missing.path().join("no-data");
    let cases: [(&[&str], &str); 6] = [
        (
            &["--batch-size", "18446744073709551615"],
            "--batch-size <N>': more than 16777216",
        ),
        (
            &["--config", "BATCH"],
            "big.toml line 1: invalid value '9223372036854775807' for '--batch-size <N>'",
        ),
        (
            &["--schedule", "newton", "--delta", "0"],
            "--delta must be positive",
        ),
        (
            &["--lr", "0.01", "--lr-decay", "cosine", "--lr-floor", "5"],
            "--lr-floor 5 is above η0 0.01",
        ),
        (
            &["--lr-milestones", "3,1"],
            "--lr-milestones must increase, each epoch once: got 3,1",
        ),
        (&["--resume", "DATAFILE"], "not a checkpoint"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("big.toml");
    std::fs::write(&config, "batch-size = 9223372036854775807\n").unwrap();
    let datafile = dir.path().join("boston.csv");
    std::fs::write(&datafile, "crim,medv\n1,2\n").unwrap();
    for (options, message) in cases {
        let mut args = crate::common::logreg_fm(&missing).to_vec();
        for &o in options {
            args.push(match o {
                "BATCH" => crate::common::s(&config),
                "DATAFILE" => crate::common::s(&datafile),
                o => o,
            });
        }
        let out = etaprobe(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{options:?}: {stderr}");
        assert!(stderr.contains(message), "{options:?}: {stderr}");
        assert!(!stderr.contains("not found"), "{options:?}: {stderr}");
    }
    // The benches' batch sizes too (their buffer sizes overflowed the same way).
    for args in [
        &["bench", "kernels", "--batch-size", "18446744073709551615"][..],
        &["bench", "memory", "--batch-sizes", "32,4611686018427387904"][..],
    ] {
        let out = etaprobe(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("more than 16777216"), "{args:?}: {stderr}");
    }
    // Counts that would time for days, and a negative width read as the option's value
    // (it was taken for an unexpected argument).
    for (args, message) in [
        (
            &["bench", "probe", "--steps", "18446744073709551615"][..],
            "more than 100000",
        ),
        (
            &["bench", "kernels", "--rounds", "100001"][..],
            "more than 100000",
        ),
        (
            &[
                "bench",
                "memory",
                "--batch-sizes",
                "2",
                "--width-mult",
                "-1",
            ][..],
            "--width-mult must be in (0, 16], got -1",
        ),
    ] {
        let out = etaprobe(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

/// compare's targets must be numbers it can reach, checked before any root is read.
#[test]
fn compare_refuses_targets_that_are_not_numbers_it_can_reach() {
    let dir = tempfile::tempdir().unwrap();
    let root = crate::common::s(dir.path());
    for (flag, value, message) in [
        ("--target-acc", "2", "--target-acc 2 is not an accuracy"),
        ("--target-loss", "nan", "--target-loss NaN is not a loss"),
        ("--target-loss", "inf", "--target-loss inf is not a loss"),
    ] {
        let out = etaprobe(&["compare", root, flag, value]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(message), "{flag} {value}: {stderr}");
    }
}

/// compare's root is named for what it is: missing, a file (the manifest given for its
/// folder), or a folder without a sweep.
#[test]
fn compare_says_what_is_wrong_with_its_root() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sweep.json");
    std::fs::write(&manifest, "{}").unwrap();
    let missing = dir.path().join("missing");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for (root, message) in [
        (&missing, "missing: no such folder"),
        (&manifest, "sweep.json is a file: give the sweep's root"),
        (&empty, "empty is not a sweep's root: it has no sweep.json"),
    ] {
        crate::common::refused(&etaprobe(&["compare", crate::common::s(root)]), message);
    }
}
