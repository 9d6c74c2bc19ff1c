//! The basic rule's decay schedules against PyTorch's closed forms (f64), across a
//! checkpoint, end to end, and their option checks.

use std::f64::consts::PI;
use std::path::Path;

use etaprobe::data::DatasetKind;
use etaprobe::schedule::{Basic, BasicOptions, Decay, Observation, Rule, RunShape, Schedule};

use crate::common::{etaprobe, fake, logreg_fm, ok, s};

fn options(decay: Decay, warmup_steps: usize, floor: f64) -> BasicOptions {
    BasicOptions {
        lr_decay: decay,
        lr_milestones: Vec::new(),
        lr_gamma: 0.1,
        lr_floor: floor,
        warmup_steps,
        warmup_epochs: 0,
    }
}

/// The η a rule gives each step of a run, observing the steps one by one (0-based index i
/// is step i + 1), with an epoch of `per_epoch` steps.
fn rates(rule: &mut Basic, steps: usize, per_epoch: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for step in 1..=steps {
        out.push(rule.lr());
        rule.observe(&Observation {
            step,
            epoch: (step - 1) / per_epoch,
            ..Observation::default()
        });
        if step % per_epoch == 0 {
            rule.end_epoch(step / per_epoch - 1);
        }
    }
    out
}

/// Equal up to f64 rounding of the same formula written in another order (relative to the
/// largest η, as the decay's differences cancel near its end).
fn close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-14 * scale, "step {}: {g} != {w}", i + 1);
    }
}

#[test]
fn cosine_and_linear_decay_follow_pytorchs_closed_forms_after_warmup() {
    let run = RunShape {
        lr0: 0.1,
        steps_per_epoch: 5,
        planned_steps: 12,
    };
    let (warmup, floor, span) = (2, 1e-3, 10.0);
    // LinearLR(start_factor = 1/W, total_iters = W − 1), then CosineAnnealingLR(T_max = 10,
    // eta_min = floor) or LinearLR(1, floor/η0, 10), stepped once per step.
    let warm = |i: usize| 0.1 * (i + 1) as f64 / warmup as f64;
    let cosine: Vec<f64> = (0..12)
        .map(|i| match i {
            0..=1 => warm(i),
            _ => floor + (0.1 - floor) * (1.0 + (PI * (i - 2) as f64 / span).cos()) / 2.0,
        })
        .collect();
    let linear: Vec<f64> = (0..12)
        .map(|i| match i {
            0..=1 => warm(i),
            _ => 0.1 + (floor - 0.1) * (i - 2) as f64 / span,
        })
        .collect();
    let mut rule = Basic::build(&run, &options(Decay::Cosine, warmup, floor));
    close(&rates(&mut rule, 12, 5), &cosine);
    let mut rule = Basic::build(&run, &options(Decay::Linear, warmup, floor));
    close(&rates(&mut rule, 12, 5), &linear);
    // Past the planned steps (a resumed run given more epochs) η stays at the floor.
    assert_eq!(rule.rate(40), floor);
}

#[test]
fn step_decay_with_warmup_multiplies_the_warmed_rate_at_each_milestone() {
    let run = RunShape {
        lr0: 0.2,
        steps_per_epoch: 3,
        planned_steps: 9,
    };
    let mut o = options(Decay::None, 4, 0.0);
    o.lr_milestones = vec![1, 2];
    o.lr_gamma = 0.5;
    let mut rule = Basic::build(&run, &o);
    // Epoch 1: warmup steps 1..3 at 0.2·i/4; after epoch 1 ×0.5; step 4 is still warming.
    let want = [0.05, 0.1, 0.15, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05];
    close(&rates(&mut rule, 9, 3), &want);
    // Without warmup the paper's basic method is unchanged: η only changes at epoch ends.
    let mut plain = Basic::build(
        &run,
        &BasicOptions {
            warmup_steps: 0,
            ..o.clone()
        },
    );
    close(
        &rates(&mut plain, 9, 3),
        &[0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05],
    );
}

#[test]
fn a_restored_decay_continues_where_it_stopped_and_refuses_another_length() {
    let run = RunShape {
        lr0: 0.1,
        steps_per_epoch: 4,
        planned_steps: 8,
    };
    let o = options(Decay::Cosine, 1, 0.0);
    let mut whole = Basic::build(&run, &o);
    let all = rates(&mut whole, 8, 4);
    let mut first = Basic::build(&run, &o);
    let head = rates(&mut first, 3, 4);
    // Resumed with twice the epochs, the decay would end at step 8 and stay at the floor.
    let longer = RunShape {
        planned_steps: 16,
        ..run
    };
    let refused = Basic::build(&longer, &o)
        .restore(&first.state())
        .unwrap_err();
    assert!(
        refused.contains("planned for 8 steps, the run now has 16"),
        "{refused}"
    );
    let mut resumed = Basic::build(&run, &o);
    resumed.restore(&first.state()).unwrap();
    let mut tail = Vec::new();
    for step in 4..=8 {
        tail.push(resumed.lr());
        resumed.observe(&Observation {
            step,
            ..Observation::default()
        });
    }
    close(&[head, tail].concat(), &all);
    // A checkpoint of a plain run (η alone) does not restore a decay.
    assert!(resumed.restore(&serde_json::json!({ "lr": 0.1 })).is_err());
}

/// The `lr` column of steps.csv.
fn lr_column(run: &Path) -> Vec<f64> {
    std::fs::read_to_string(run.join("steps.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn cosine_decay_trains_end_to_end_and_resumes_exactly() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 60, 20);
    let runs = tempfile::tempdir().unwrap();
    let (full, part) = (runs.path().join("full"), runs.path().join("part"));
    let common = [
        &logreg_fm(&data)[..],
        &[
            "--lr",
            "0.05",
            "--batch-size",
            "20",
            "--epochs",
            "3",
            "--optimizer",
            "momentum",
            "--lr-decay",
            "cosine",
            "--warmup-steps",
            "2",
            "--lr-floor",
            "0.001",
        ],
    ]
    .concat();
    ok(&etaprobe(&[&common[..], &["--out", s(&full)]].concat()));
    // 3 steps an epoch, 9 planned; the GPU's η is f32, the recorded one f64.
    let want: Vec<f64> = (0..9)
        .map(|i: usize| match i {
            0..=1 => 0.05 * (i + 1) as f64 / 2.0,
            _ => 0.001 + 0.049 * (1.0 + (PI * (i - 2) as f64 / 7.0).cos()) / 2.0,
        })
        .collect();
    close(&lr_column(&full), &want);
    ok(&etaprobe(
        &[&common[..], &["--out", s(&part), "--max-steps", "4"]].concat(),
    ));
    let ckpt = part.join("checkpoint.safetensors");
    ok(&etaprobe(&[&common[..], &["--resume", s(&ckpt)]].concat()));
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
    assert_eq!(read(&full, "steps.csv"), read(&part, "steps.csv"));
}

#[test]
fn impossible_decay_options_are_refused() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 20, 10);
    let runs = tempfile::tempdir().unwrap();
    for (extra, message) in [
        (
            &["--lr-decay", "step"][..],
            "--lr-decay step needs --lr-milestones",
        ),
        (
            &["--lr-decay", "cosine", "--lr-milestones", "2"],
            "do not combine with --lr-decay cosine",
        ),
        (
            &["--lr-floor", "0.01"],
            "--lr-floor is where cosine or linear decay ends",
        ),
        (
            &["--lr-decay", "linear", "--lr-floor=-1"],
            "--lr-floor <F>': must be",
        ),
        (&["--warmup-steps", "2", "--warmup-epochs", "1"], "not both"),
    ] {
        let out = runs.path().join("run");
        let o = etaprobe(&[&logreg_fm(&data)[..], &["--out", s(&out)], extra].concat());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?} left a run folder");
    }
}

#[test]
fn a_milestone_at_or_past_the_runs_end_is_named_in_a_warning() {
    let (_d, data) = fake(DatasetKind::FashionMnist, 20, 10);
    let runs = tempfile::tempdir().unwrap();
    let train = |milestones: &str, name: &str| {
        let o = etaprobe(
            &[
                &logreg_fm(&data)[..],
                &[
                    "--epochs",
                    "2",
                    "--lr-milestones",
                    milestones,
                    "--out",
                    s(&runs.path().join(name)),
                ],
            ]
            .concat(),
        );
        ok(&o);
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // It may apply once the run is resumed with more epochs: trained, with a warning.
    let late = train("1,2,5", "late");
    assert!(
        late.contains("--lr-milestones 2,5 at or past the run's end (--epochs 2)"),
        "{late}"
    );
    let within = train("1", "within");
    assert!(!within.contains("at or past the run's end"), "{within}");
}
