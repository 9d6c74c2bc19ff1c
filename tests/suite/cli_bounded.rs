//! The command line on input beyond its bounds and on options that would pass silently
//! (issue 21, items 4 and 6): a clear error with exit code 2 and no run folder, or one
//! warning line.

use etaprobe::data::DatasetKind;

use crate::common::{etaprobe, fake, logreg_fm, ok, s};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn epochs_whose_step_count_would_overflow_are_refused() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 16, 8);
    let runs = tempfile::tempdir().unwrap();
    let out_dir = runs.path().join("run");
    let out = etaprobe(
        &[
            &logreg_fm(&data)[..],
            &[
                "--batch-size",
                "8",
                "--epochs",
                "1418980313362273202",
                "--out",
                s(&out_dir),
            ],
        ]
        .concat(),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("'1418980313362273202' for '--epochs <N>': more than"),
        "{err}"
    );
    assert!(!out_dir.exists());
}

#[test]
fn csv_value_beyond_f32_range_is_a_data_error_before_any_run_folder() {
    let (_d, csv) = fake(DatasetKind::Boston, 20, 5);
    let text = std::fs::read_to_string(&csv).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let (first, rest) = rows.split_once(',').unwrap();
    assert!(!first.is_empty());
    std::fs::write(&csv, format!("{header}\n-4e38,{rest}")).unwrap();
    let runs = tempfile::tempdir().unwrap();
    let out_dir = runs.path().join("run");
    let out = etaprobe(&[
        "train",
        "--model",
        "linreg",
        "--dataset",
        "boston",
        "--data",
        s(&csv),
        "--out",
        s(&out_dir),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 2, column `"), "{err}");
    assert!(err.contains("beyond the range of a 32-bit float"), "{err}");
    assert!(!err.contains("diverged"), "{err}");
    assert!(!out_dir.exists());
}

#[test]
fn options_the_run_ignores_are_warned_about_once_each() {
    let runs = tempfile::tempdir().unwrap();
    let missing = runs.path().join("no-data");
    // A checkpoint file that --resume finds (the run then stops at the missing data, after
    // the warnings).
    let ckpt = runs.path().join("old/checkpoint.safetensors");
    std::fs::create_dir_all(ckpt.parent().unwrap()).unwrap();
    std::fs::write(&ckpt, b"").unwrap();
    let cases: [(&[&str], &str); 14] = [
        (
            &["--nesterov"],
            "warning: --nesterov is ignored: it applies to --optimizer momentum, not sgd",
        ),
        (
            &["--momentum", "0.5", "--nesterov"],
            "warning: --momentum, --nesterov are ignored: they apply to --optimizer momentum, \
             not sgd",
        ),
        (
            &["--optimizer", "momentum", "--adam-eps", "1e-6"],
            "warning: --adam-eps is ignored: it applies to --optimizer adam, not momentum",
        ),
        (
            &["--schedule", "newton", "--lr-milestones", "3,5"],
            "warning: --lr-milestones is ignored: an option of --schedule basic, and this \
             run's rule is newton",
        ),
        (
            &["--alpha", "0.01"],
            "warning: --alpha is ignored: an option of --schedule first-order, and this run's \
             rule is basic",
        ),
        (
            &[
                "--schedule",
                "auto",
                "--dog-eps",
                "1e-6",
                "--dog-scale",
                "2",
            ],
            "warning: --dog-eps, --dog-scale are ignored: options of --schedule dog, and this \
             run's rule is auto",
        ),
        (
            &["--lr-from", s(runs.path()), "--resume", s(&ckpt)],
            "is ignored: --resume continues at the checkpoint's η",
        ),
        (
            &["--lr", "0.5", "--lr-from", s(runs.path())],
            "warning: --lr 0.5 is ignored: --lr-from",
        ),
        (
            &["--schedule", "dog", "--lr", "0.5"],
            "warning: --lr 0.5 is ignored: --schedule dog sets η from its own measurements",
        ),
        (
            &["--test-fraction", "0.5", "--split-seed", "4"],
            "warning: --test-fraction, --split-seed are ignored: they apply to --dataset boston",
        ),
        (
            &["--bn-recompute-batches", "7"],
            "warning: --bn-recompute-batches is ignored: it applies to --schedule \
             schedule-free on a model with batch norm",
        ),
        (
            &["--lr-gamma", "0.3", "--lr-decay", "cosine"],
            "warning: --lr-gamma is ignored: it is the factor of the step decay",
        ),
        (
            &["--lr", "0", "--schedule", "auto"],
            "warning: --lr 0: the weights do not move until the rule raises η",
        ),
        (
            &["--warmup-epochs", "3", "--epochs", "2"],
            "warning: --warmup-epochs 3 lasts the whole run (--epochs 2)",
        ),
    ];
    for (options, warning) in cases {
        let mut args = logreg_fm(&missing).to_vec();
        args.extend(options);
        let out = etaprobe(&args);
        let err = stderr(&out);
        assert_eq!(err.matches(warning).count(), 1, "{options:?}: {err}");
        assert_eq!(err.matches("warning:").count(), 1, "{options:?}: {err}");
    }
    // The same options where they apply: no warning.
    let out = etaprobe(
        &[
            &logreg_fm(&missing)[..],
            &[
                "--optimizer",
                "momentum",
                "--momentum",
                "0.5",
                "--nesterov",
                "--lr-milestones",
                "3,5",
            ],
        ]
        .concat(),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("warning:"), "{err}");
}

#[test]
fn newton_with_probes_that_cannot_see_eps_says_so_once() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 64, 16);
    let runs = tempfile::tempdir().unwrap();
    let out = etaprobe(
        &[
            &logreg_fm(&data)[..],
            &[
                "--batch-size",
                "16",
                "--epochs",
                "1",
                "--schedule",
                "newton",
                "--eps",
                "1e-12",
                "--out",
                s(&runs.path().join("run")),
            ],
        ]
        .concat(),
    );
    ok(&out);
    let err = stderr(&out);
    assert_eq!(
        err.matches("newton's five probes are all equal").count(),
        1,
        "{err}"
    );
    assert!(err.contains("give a larger --eps"), "{err}");
}

#[test]
fn bench_matmul_size_beyond_the_adapter_is_refused_before_allocating() {
    let out = etaprobe(&["bench", "matmul", "--sizes", "100000"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("square 100000"), "{err}");
    assert!(err.contains("100000×100000 f32"), "{err}");
    assert!(!err.contains("memory allocation"), "{err}");
    // Past u64, the bytes are counted, not saturated.
    let out = etaprobe(&["bench", "matmul", "--sizes", "99999999999"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs 39999999999200000000004 bytes"), "{err}");
    // Past u128 too.
    let out = etaprobe(&["bench", "matmul", "--sizes", "18446744073709551615"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs more than 2^128 bytes"), "{err}");
}
