//! The rules' own logic on the CPU: auto's parabola fit, secant's statistical decisions,
//! and the registry of rules.

use crate::common;

#[test]
fn auto_fits_the_parabola_of_the_last_update_and_flags_far_overshoots() {
    use etaprobe::schedule::{Auto, AUTO_DOWN, AUTO_UP, LINE_MIN_PROBES};
    // φ(s) = 3 − 2s + 5s²: curvature 10, minimum at 0.2; measured at s = 0.5.
    let phi = |s: f64| 3.0 - 2.0 * s + 5.0 * s * s;
    let slope = |s: f64| -2.0 + 10.0 * s;
    let fit = Auto::fit(0.5, phi(0.0), phi(0.5), -slope(0.5));
    assert!((fit.curvature - 10.0).abs() < 1e-12, "{fit:?}");
    assert!((fit.minimum - 0.2).abs() < 1e-12, "{fit:?}");
    // A concave line, or a curvature below the losses' rounding with a visible drop,
    // says: step further.
    let concave = Auto::fit(0.5, 1.0, 0.9, 1.0);
    assert_eq!(concave.minimum, 0.5 * AUTO_UP);
    let flat = Auto::fit(1e-4, 500.0, 500.0 - 1e-4 * 50.0, 50.0 + 1e-9);
    assert_eq!(flat.minimum, 1e-4 * AUTO_UP);
    // At a minimum neither the drop nor the curvature is resolved: no verdict.
    let still = Auto::fit(0.3, 0.0615, 0.0615 + 1e-10, 1e-9);
    assert_eq!(still.minimum, 0.3);
    // The loss rose by 10 with the slope at s = 1 still rising: the minimum is behind 0.
    let far = Auto::fit(1.0, 10.0, 20.0, -15.0);
    assert_eq!(far.minimum, 1.0 / AUTO_DOWN);
    // Only a significant mean rise of the fresh batches' loss over many probes counts as
    // overshooting; most probes showing a small rise (noise around a falling mean) does not.
    let rise = |k: usize| 0.01 + 0.001 * (k % 3) as f64;
    let rises: Vec<f64> = (0..LINE_MIN_PROBES).map(rise).collect();
    assert!(!Auto::line_overshoots(&rises[..LINE_MIN_PROBES - 1]));
    assert!(Auto::line_overshoots(&rises));
    let mut mixed: Vec<f64> = (0..3 * LINE_MIN_PROBES).map(|k| 1e-4 * rise(k)).collect();
    mixed.extend([-0.05, -0.04]);
    assert!(
        !Auto::line_overshoots(&mixed),
        "a small rise in most probes"
    );
}

#[test]
fn secant_changes_eta_only_on_statistical_evidence() {
    use etaprobe::schedule::{Decision, Dots, Schedule, Secant};
    use rand::Rng;
    // Whether the last run's decision asked the trainer to start again from w(0).
    let restarted = std::cell::Cell::new(false);
    let mut r = common::rng(5);
    let noise = |r: &mut rand_chacha::ChaCha8Rng| r.random::<f64>() * 2.0 - 1.0;
    /// One simulated run: ρ is `rho` plus noise (and `spike` every 20th step), Pflug's
    /// statistic w·d − (η/2)|d|² is `pflug` times its scale plus noise, and the step loss
    /// falls by `fall` per step for `fall_steps` steps, plus noise.
    struct Sim {
        rho: f64,
        spike: f64,
        pflug: f64,
        fall: f64,
        fall_steps: usize,
    }
    const NONE: Sim = Sim {
        rho: 0.0,
        spike: 0.0,
        pflug: 5.0,
        fall: 0.0,
        fall_steps: usize::MAX,
    };
    // Returns the first decision that is not Keep, and its step.
    let mut run = |sim: Sim, steps: usize| {
        let mut s = Secant::new(0.1);
        for step in 0..steps {
            let (own, norm) = (1.0, 1.0);
            let half = 0.1 / 2.0 * norm;
            let spike = if step % 20 == 19 { sim.spike } else { 0.0 };
            let dots = Dots {
                own,
                cross: Some((sim.rho + spike + 0.2 * noise(&mut r)) * own),
                weights: half * (1.0 + sim.pflug + 0.05 * noise(&mut r)),
                norm,
            };
            let loss = 2.0 - sim.fall * step.min(sim.fall_steps) as f64 + 0.1 * noise(&mut r);
            let d = s.learn(&dots, 0.1, loss);
            if d != Decision::Keep {
                restarted.set(s.take_restart());
                assert!(!s.take_restart(), "a restart is asked for once");
                return (d, step);
            }
        }
        (Decision::Keep, steps)
    };
    let falling = 3e-3;
    assert_eq!(
        run(Sim { rho: 0.5, ..NONE }, 500).0,
        Decision::Up,
        "the slope keeps its sign"
    );
    assert_eq!(run(Sim { rho: -0.8, ..NONE }, 500).0, Decision::Overshoot);
    assert!(!restarted.get(), "only a stall restarts");
    // Rare huge negative ρ (loss spikes) swamp a plain t-statistic; clipped, the mostly
    // negative steps are evidence of overshooting.
    let spiky = Sim {
        rho: -0.4,
        spike: -30.0,
        ..NONE
    };
    let (d, at) = run(spiky, 500);
    assert_eq!(d, Decision::Overshoot);
    assert!(at < 60, "clipped spikes decide early, not at {at}");
    // Pflug's stationarity statistic is logged, not tested: it never fired in a recorded run.
    let stationary = Sim {
        pflug: 0.0,
        fall: falling,
        ..NONE
    };
    assert_eq!(run(stationary, 500).0, Decision::Keep);
    // Noisy slopes around zero while the loss falls: no evidence, η stays. A moderately
    // negative mean is not an overshoot: the one-step optimum is not the target.
    for rho in [0.0, -0.05, -0.2] {
        let sim = Sim {
            rho,
            fall: falling,
            ..NONE
        };
        assert_eq!(run(sim, 1500).0, Decision::Keep, "ρ {rho}");
    }
    // The same with a loss that never fell below the run's first steps, and ρ significantly
    // negative: no progress at all (a network stuck at chance by a huge η), η is cut to a
    // sixteenth.
    let (d, at) = run(Sim { rho: -0.05, ..NONE }, 1500);
    assert_eq!(d, Decision::Stalled);
    assert_eq!(d.factor(), 0.0625);
    assert!(
        restarted.get(),
        "a stall starts again from the initial weights"
    );
    assert!(
        (59..200).contains(&at),
        "a stall needs a window of 60 steps, decided at {at}"
    );
    // A loss that fell, then flattened, is progress made, not a stall; once the newer half
    // of a long window is no lower than the older half, it is a plateau, and η halves.
    let plateau = Sim {
        rho: -0.05,
        fall: 2.0 * falling,
        fall_steps: 100,
        ..NONE
    };
    let (d, at) = run(plateau, 3000);
    assert_eq!(d, Decision::Plateau);
    assert!(
        at >= 499,
        "a plateau needs a window of 500 steps, decided at {at}"
    );
    // Each plateau halving doubles the window the next one needs, so that annealing slows
    // as the rate falls (a flat loss halves η at most after 500 steps, then 1000, 2000...).
    let mut r = common::rng(6);
    let mut s = Secant::new(0.1);
    let mut halvings = Vec::new();
    for step in 0..10_000 {
        let dots = Dots {
            own: 1.0,
            cross: Some(-0.05 + 0.2 * noise(&mut r)),
            weights: 0.05 * (6.0 + 0.05 * noise(&mut r)),
            norm: 1.0,
        };
        let loss = 1.0 - 0.01 * step.min(100) as f64 + 0.1 * noise(&mut r);
        let d = s.learn(&dots, 0.1, loss);
        assert!(matches!(d, Decision::Keep | Decision::Plateau), "{d:?}");
        if d == Decision::Plateau {
            halvings.push(step);
        }
    }
    assert!(halvings.len() >= 3, "plateau halvings at {halvings:?}");
    for k in 1..halvings.len() {
        let gap = halvings[k] - halvings[k - 1];
        assert!(
            gap >= 500 << k,
            "halving {k} after {gap} steps: {halvings:?}"
        );
    }
    assert_eq!(s.plateau_steps(), 500 << halvings.len());
    // A no-progress cut makes the cut rate a ceiling: steps that then fall short do not
    // double η back towards the rate that stalled at once. The ceiling is evidence, not a
    // verdict: each doubling it blocks raises it instead, so η passes the old ceiling after
    // two windows of significantly positive ρ. A flat loss with ρ > 0 is no plateau.
    let mut capped = Secant::new(0.1);
    let mut decisions = Vec::new();
    for step in 0..600 {
        let rho = if step < 100 { -0.05 } else { 0.5 };
        let dots = Dots {
            own: 1.0,
            cross: Some(rho + 0.2 * noise(&mut r)),
            weights: 0.05 * (6.0 + 0.05 * noise(&mut r)),
            norm: 1.0,
        };
        let d = capped.learn(&dots, 0.1, 2.0 + 0.1 * noise(&mut r));
        // `learn` decides; the caller applies the factor (as `observe` does).
        let lr = etaprobe::schedule::Schedule::lr(&capped) * d.factor();
        etaprobe::schedule::Schedule::set_lr(&mut capped, lr);
        if d != Decision::Keep {
            decisions.push(d);
        }
    }
    assert!(decisions.len() >= 5, "{decisions:?}");
    assert_eq!(
        decisions[..5],
        [
            Decision::Stalled,
            Decision::Lift,
            Decision::Up,
            Decision::Lift,
            Decision::Up
        ],
        "the ceiling lifts on evidence, one window at a time"
    );
    assert!(
        decisions[1..]
            .iter()
            .all(|d| matches!(d, Decision::Lift | Decision::Up)),
        "{decisions:?}"
    );
    // A run resumed from the capped one keeps the ceiling: with the same steps after it,
    // both decide alike (without it, short steps would double η at once).
    let mut again = Secant::new(1.0);
    etaprobe::schedule::Schedule::restore(
        &mut again,
        &etaprobe::schedule::Schedule::state(&capped),
    )
    .unwrap();
    for step in 0..300 {
        let dots = Dots {
            own: 1.0,
            cross: Some(0.5 + 0.2 * noise(&mut r)),
            weights: 0.05 * (6.0 + 0.05 * noise(&mut r)),
            norm: 1.0,
        };
        let loss = 2.0 + 0.1 * noise(&mut r);
        let (a, b) = (
            again.learn(&dots, 0.1, loss),
            capped.learn(&dots, 0.1, loss),
        );
        assert_eq!(a, b, "step {step} after resuming");
    }
    // A resumed run keeps the longer window.
    let mut resumed = Secant::new(1.0);
    etaprobe::schedule::Schedule::restore(&mut resumed, &etaprobe::schedule::Schedule::state(&s))
        .unwrap();
    assert_eq!(resumed.plateau_steps(), s.plateau_steps());
    // A flat loss while the steps fall short (ρ > 0, not yet significant) is neither a
    // stall nor a plateau: ρ's evidence accumulates until η doubles, even when its mean is
    // too small to be significant for a long window (a too small η's, +0.035 on LeNet).
    assert_eq!(run(Sim { rho: 0.02, ..NONE }, 1500).0, Decision::Up);
    assert_ne!(run(Sim { rho: 0.01, ..NONE }, 1500).0, Decision::Stalled);
    // A plateau at the first steps' loss while ρ's mean is at or below zero, too weakly for
    // the stall's ρ bound (a network dead at chance: ρ is noise around zero), is a stall:
    // the run starts again from w(0) at a sixteenth of the rate.
    let (d, at) = run(
        Sim {
            rho: -0.005,
            ..NONE
        },
        3000,
    );
    assert_eq!(d, Decision::Stalled);
    assert!(restarted.get(), "the plateau's stall restarts too");
    assert!(at >= 499, "seen by the plateau test's window, at {at}");
    assert_eq!(
        Secant::rho(None, &Dots::default()),
        None,
        "no previous step"
    );
}

/// Over the last fifth of the planned steps η falls linearly towards zero and no test
/// decides; a checkpoint taken in the cooldown resumes on the same line, and the clamps'
/// override (`set_lr`) sets the step's η, not the rule's rate before the cooldown.
#[test]
fn secant_cools_down_over_the_last_fifth_of_the_run() {
    use etaprobe::schedule::{Cooldown, Decision, Dots, Observation, Schedule, Secant, COOLDOWN};
    let c = Cooldown::of(100, COOLDOWN).unwrap();
    assert_eq!((c.first, c.last), (81, 100));
    assert_eq!([c.factor(1), c.factor(80), c.factor(81)], [1.0; 3]);
    assert!((c.factor(90) - 0.55).abs() < 1e-15);
    assert_eq!([c.factor(100), c.factor(10_000)], [0.05; 2], "never zero");
    assert_eq!(
        Cooldown::of(3, COOLDOWN).map(|c| c.first),
        Some(3),
        "one step at least"
    );
    assert_eq!(Cooldown::of(0, COOLDOWN), None);
    assert_eq!(Cooldown::of(100, 0.0), None);
    // Steps that fall short all along: η doubles every window before the cooldown, and
    // never in it.
    let mut s = Secant::for_run(0.1, 100);
    let mut base = Vec::new();
    let mut ups = Vec::new();
    let mut resumed = None;
    for step in 1..=100 {
        let obs = Observation {
            step,
            loss: 2.0,
            lr: s.lr(),
            dots: Some(Dots {
                own: 1.0,
                cross: Some(0.5 + 0.01 * (step % 3) as f64),
                weights: 0.0,
                norm: 1.0,
            }),
            ..Observation::default()
        };
        s.observe(&obs);
        if s.last_decision() == Some(Decision::Up) {
            ups.push(step);
        }
        base.push(s.lr() / c.factor(step + 1));
        if step == 90 {
            let mut r = Secant::for_run(0.1, 100);
            r.restore(&s.state()).unwrap();
            resumed = Some(r);
        }
    }
    assert!(ups.len() >= 2 && ups.iter().all(|&t| t < 80), "{ups:?}");
    let held = base[79];
    assert!(
        base[79..].iter().all(|b| (b - held).abs() < 1e-12 * held),
        "the rule's rate rests in the cooldown"
    );
    assert!(
        (s.lr() - held * 0.05).abs() < 1e-12 * held,
        "{} vs {held}",
        s.lr()
    );
    let r = resumed.unwrap();
    assert!(
        (r.lr() - held * c.factor(91)).abs() < 1e-12 * held,
        "resumed mid-cooldown"
    );
    // Another horizon (a resume with other --epochs) would move the cooldown: refused.
    let err = Secant::for_run(0.1, 200).restore(&s.state()).unwrap_err();
    assert!(err.contains("--epochs"), "{err}");
    let err = Secant::new(0.1).restore(&s.state()).unwrap_err();
    assert!(err.contains("none"), "{err}");
    // A checkpoint written by e10f169 (no horizon stored) still resumes.
    let mut older = s.state();
    older.as_object_mut().unwrap().remove("cooldown_last");
    Secant::for_run(0.1, 100).restore(&older).unwrap();
    let mut clamped = r;
    clamped.set_lr(1e-3);
    assert!((clamped.lr() - 1e-3).abs() < 1e-15, "{}", clamped.lr());
    // Without a horizon (a rule built outside a run) there is no cooldown.
    let mut free = Secant::new(0.1);
    free.observe(&Observation {
        step: 10_000,
        ..Observation::default()
    });
    assert_eq!(free.lr(), 0.1);
}

/// A loss at w(t) more than twice the largest before it (or not finite) means step t−1's
/// update blew the loss up: η is cut to a quarter, the cut rate becomes a ceiling, and the
/// trainer puts w(t−1) back. A too small η cannot raise the loss, so the test never fires
/// on one.
#[test]
fn secant_undoes_an_update_that_blew_the_loss_up() {
    use etaprobe::schedule::{Decision, Dots, Schedule, Secant};
    let mut s = Secant::new(10.0);
    let needs = s.needs();
    assert!(needs.undo, "every step keeps a backup");
    assert!(
        !needs.gradient.any(),
        "the loss is read one step late: no wait"
    );
    for loss in [2.3, 3.0, 5.9] {
        assert!(!s.blown_up(loss), "{loss}");
    }
    assert!(s.blown_up(15.9));
    assert_eq!(s.lr(), 0.625);
    assert_eq!(s.last_decision(), Some(Decision::BlowUp));
    // The discarded loss does not raise the bar: 12 is still more than twice 5.9.
    assert!(s.blown_up(12.0));
    assert!(s.blown_up(f64::NAN));
    assert_eq!(s.lr(), 0.625 / 16.0 / 16.0);
    // Falling short after the cut lifts the ceiling before η doubles.
    let dots = |c: f64| Dots {
        own: 1.0,
        cross: Some(c),
        weights: 0.0,
        norm: 1.0,
    };
    let mut first = Decision::Keep;
    for step in 0..40 {
        let d = s.learn(&dots(0.5 + 0.01 * (step % 3) as f64), s.lr(), 2.0);
        if d != Decision::Keep {
            first = d;
            break;
        }
    }
    assert_eq!(first, Decision::Lift);
    // A loss that only falls, or rises slowly, never fires.
    let mut calm = Secant::new(1e-4);
    for step in 0..60 {
        assert!(!calm.blown_up(2.3 - 0.001 * step as f64 + 0.05 * (step % 2) as f64));
    }
    assert_eq!(calm.lr(), 1e-4);
}

/// The registry is the one list of rules: each name is unique, builds from its default
/// options at the given η0, is offered by `etaprobe train --help`, and an unknown name
/// builds nothing.
#[test]
fn every_registered_rule_builds_and_is_offered_on_the_command_line() {
    use etaprobe::schedule::{RuleOptions, RunShape, Update, RULES};
    let defaults = RuleOptions::default();
    let run = RunShape {
        lr0: 0.0125,
        steps_per_epoch: 10,
        planned_steps: 30,
    };
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_etaprobe"))
        .args(["train", "--help"])
        .output()
        .expect("run etaprobe");
    let help = String::from_utf8_lossy(&help.stdout);
    let mut seen = std::collections::HashSet::new();
    for (name, about) in RULES {
        assert!(seen.insert(name), "{name} is registered twice");
        assert!(!about.is_empty(), "{name} has no help line");
        let rule = defaults
            .build(name, &run)
            .expect("a registered rule builds");
        if rule.needs().update == Update::Direction {
            assert_eq!(rule.lr(), 0.0125, "{name} starts at η0");
        } else {
            // D-Adaptation and Prodigy start from their own small distance estimate.
            assert!(rule.lr().is_finite() && rule.lr() >= 0.0, "{name}");
        }
        assert!(
            help.contains(name),
            "`train --help` does not offer {name}:\n{help}"
        );
    }
    assert!(defaults.build("no-such-rule", &run).is_none());
    assert!(
        defaults.check().is_ok(),
        "the defaults pass every rule's checks"
    );
}

/// One observation of `gen`'s probes `f` at `steps`, taken at η 0.1 on step `step`.
fn gen_fit_at(
    rule: &mut etaprobe::schedule::Gen,
    step: usize,
    steps: [f64; 5],
    f: [f64; 5],
) -> Option<etaprobe::schedule::ProbeRecord> {
    use etaprobe::schedule::{Observation, Schedule};
    rule.observe(&Observation {
        step,
        lr: 0.1,
        probes: Some(f),
        probe_steps: Some(steps),
        ..Observation::default()
    })
}

#[test]
fn gen_fits_a_parabola_through_its_probes_and_rejects_concave_or_noisy_lines() {
    use etaprobe::schedule::{Fit, Gen, GenOptions, Rule, RunShape, Schedule};
    let options = GenOptions {
        gen_every: 2,
        gen_damping: 0.5,
        gen_min_r2: 0.9,
        ..GenOptions::default()
    };
    let run = RunShape {
        lr0: 0.1,
        steps_per_epoch: 10,
        planned_steps: 10,
    };
    let mut rule = Gen::build(&run, &options);
    // Probes at η·(1 + j/2): 0, 0.05, 0.1, 0.15, 0.2.
    let steps = rule.probe_steps();
    for (s, want) in steps.iter().zip([0.0, 0.05, 0.1, 0.15, 0.2]) {
        assert!((s - want).abs() < 1e-15, "{steps:?}");
    }
    assert!(!rule.probe_at(1) && rule.probe_at(2));
    // f(a) = 2 − 3a + 5a²: minimum at 0.3, exactly recovered (R² = 1).
    let f = steps.map(|a| 2.0 - 3.0 * a + 5.0 * a * a);
    let fit = Fit::through(steps, f, 0.1);
    assert!(
        (fit.a - 5.0).abs() < 1e-9 && (fit.b + 3.0).abs() < 1e-9,
        "{fit:?}"
    );
    assert!((fit.minimum.unwrap() - 0.3).abs() < 1e-12 && fit.r2 > 1.0 - 1e-12);
    let observe = |rule: &mut Gen, f: [f64; 5]| gen_fit_at(rule, 2, steps, f);
    observe(&mut rule, f);
    // Half way from 0.1 to 0.3.
    assert!((rule.lr() - 0.2).abs() < 1e-12, "{}", rule.lr());
    // A concave line, and losses that no parabola explains, leave η and count as rejected.
    let mut rule = Gen::build(&run, &options);
    observe(&mut rule, steps.map(|a| 2.0 + 3.0 * a - 5.0 * a * a));
    observe(&mut rule, [1.0, 3.0, 1.0, 3.0, 1.0]);
    assert_eq!(rule.lr(), 0.1);
    assert_eq!(rule.safeguarded(), 2);
    // A minimum far beyond the probes is clamped to 4η before the damped move.
    let mut rule = Gen::build(&run, &options);
    observe(&mut rule, steps.map(|a| 2.0 - 30.0 * a + 5.0 * a * a));
    assert!(
        (rule.lr() - (0.1 + 0.5 * (0.4 - 0.1))).abs() < 1e-12,
        "{}",
        rule.lr()
    );
}

/// GeN's own fit (`--gen-fit three-point`, the authors' `lr_parabola`): probes at −η..η, the
/// exact parabola through f(−η), f(0), f(η), its minimum clamped to [η/c, c·η].
#[test]
fn gen_three_point_fits_the_authors_parabola_and_clamps_by_gen_clamp() {
    use etaprobe::schedule::{Fit, Gen, GenFit, GenOptions, GenScale, Rule, RunShape, Schedule};
    let options = GenOptions {
        gen_every: 1,
        gen_damping: 0.5,
        gen_min_r2: 0.99,
        gen_fit: GenFit::ThreePoint,
        gen_clamp: 2.0,
        gen_scale: GenScale::Constant,
    };
    let run = RunShape {
        lr0: 0.1,
        steps_per_epoch: 10,
        planned_steps: 10,
    };
    let mut rule = Gen::build(&run, &options);
    let steps = rule.probe_steps();
    for (s, want) in steps.iter().zip([-0.1, -0.05, 0.0, 0.05, 0.1]) {
        assert!((s - want).abs() < 1e-15, "{steps:?}");
    }
    // f(a) = 2 − 3a + 5a²: gHg = 10, Gg = 3, a* = 0.3; the probes at ±η/2 are not fitted
    // (here off the parabola, and the fit is still exact).
    let mut f = steps.map(|a| 2.0 - 3.0 * a + 5.0 * a * a);
    f[1] += 1.0;
    f[3] -= 1.0;
    let fit = Fit::three_point(steps, f);
    assert!(
        (fit.a - 5.0).abs() < 1e-9 && (fit.b + 3.0).abs() < 1e-9 && fit.r2 == 1.0,
        "{fit:?}"
    );
    assert!((fit.minimum.unwrap() - 0.3).abs() < 1e-12);
    // The fit takes the steps as given, any x1 < 0 < x2.
    let uneven = [-0.1, -0.05, 0.0, 0.05, 0.12];
    let g = uneven.map(|a| 1.0 - 2.0 * a + 4.0 * a * a);
    let fit = Fit::three_point(uneven, g);
    assert!((fit.minimum.unwrap() - 0.25).abs() < 1e-12, "{fit:?}");
    let observe = |rule: &mut Gen, f: [f64; 5]| gen_fit_at(rule, 1, steps, f);
    // a* = 0.3 is clamped to 2η = 0.2, then half way: 0.15.
    observe(&mut rule, f);
    assert!((rule.lr() - 0.15).abs() < 1e-12, "{}", rule.lr());
    // Concave, rising at 0 (Gg < 0: the minimum behind), or flat: rejected, η stays.
    for bad in [
        steps.map(|a| 2.0 - 3.0 * a - 5.0 * a * a),
        steps.map(|a| 2.0 + 3.0 * a + 5.0 * a * a),
        [2.0; 5],
    ] {
        let mut rule = Gen::build(&run, &options);
        observe(&mut rule, bad);
        assert_eq!(rule.lr(), 0.1, "{bad:?}");
        assert_eq!(rule.safeguarded(), 1, "{bad:?}");
    }
    // The clamp also bounds a fall: a* = 0.01 is raised to η/2.
    let mut rule = Gen::build(&run, &options);
    observe(&mut rule, steps.map(|a| 2.0 - 1.0 * a + 50.0 * a * a));
    assert!((rule.lr() - 0.075).abs() < 1e-12, "{}", rule.lr());
    // --gen-scale linear: the target times 1 − epoch/epochs (3 epochs of 10 steps here,
    // the epoch counted from 0), as the authors' linspace(1, 0, epochs + 1)[epoch].
    let linear = GenOptions {
        gen_scale: GenScale::Linear,
        ..options.clone()
    };
    let three = RunShape {
        planned_steps: 30,
        ..run
    };
    let rule = Gen::build(&three, &linear);
    for (step, want) in [
        (1, 1.0),
        (10, 1.0),
        (11, 2.0 / 3.0),
        (21, 1.0 / 3.0),
        (30, 1.0 / 3.0),
    ] {
        assert!((rule.scale_at(step) - want).abs() < 1e-15, "step {step}");
    }
    assert_eq!(Gen::build(&three, &options).scale_at(21), 1.0);
    // At step 11 the clamped 0.2 counts 2/3: half way from 0.1 to 0.1333….
    let mut rule = Gen::build(&three, &linear);
    gen_fit_at(&mut rule, 11, steps, f);
    let want = 0.1 + 0.5 * (0.2 * 2.0 / 3.0 - 0.1);
    assert!((rule.lr() - want).abs() < 1e-12, "{}", rule.lr());
    // A resume keeps the scale's horizon: another --epochs is refused, the same restores;
    // the constant scale records none (old checkpoints alike) and restores anywhere.
    let six = RunShape {
        planned_steps: 60,
        ..run
    };
    let refused = Gen::build(&six, &linear)
        .restore(&rule.state())
        .unwrap_err();
    assert!(
        refused.contains("planned over 3 epochs, the run now has 6"),
        "{refused}"
    );
    let mut same = Gen::build(&three, &linear);
    same.restore(&rule.state()).unwrap();
    assert_eq!(same.lr(), rule.lr());
    let constant = Gen::build(&three, &options).state();
    assert!(constant.get("epochs").is_none(), "{constant}");
    Gen::build(&six, &options).restore(&constant).unwrap();
}

/// `--auto-variant`: each ablation moves its own group of constants and nothing else, and
/// the frozen variant is the rule itself.
#[test]
fn auto_variants_move_one_group_of_constants() {
    use clap::ValueEnum;
    use etaprobe::schedule::{Decision, Tuning, Variant};
    let frozen = Tuning::FROZEN;
    assert_eq!(Tuning::of(Variant::Frozen, 2), (frozen, 2));
    let mut moved = std::collections::BTreeSet::new();
    for &v in Variant::value_variants() {
        let (t, every) = Tuning::of(v, 2);
        if v == Variant::Frozen {
            continue;
        }
        // What differs from the frozen rule, by field name.
        let fields = [
            ("overshoot", t.overshoot_mean != frozen.overshoot_mean),
            ("short", t.rho_min_steps != frozen.rho_min_steps),
            ("evidence", t.evidence_t != frozen.evidence_t),
            ("long", t.max_window != frozen.max_window),
            ("clip", t.rho_clip != frozen.rho_clip),
            ("loss-t", t.stall_t != frozen.stall_t),
            ("long", t.plateau_min_steps != frozen.plateau_min_steps),
            ("short", t.stall_min_steps != frozen.stall_min_steps),
            ("blow-up", t.blow_up != frozen.blow_up),
            ("factors", t.up != frozen.up),
            (
                "line",
                t.line_min_probes != frozen.line_min_probes || every != 2,
            ),
            ("no-plateau", !t.plateau),
            ("no-stall", !t.stall),
            ("no-blow-up", !t.blow_up_test),
            ("no-cooldown", t.cooldown == 0.0),
            (
                "cooldown",
                t.cooldown != 0.0 && t.cooldown != frozen.cooldown,
            ),
        ];
        let groups: std::collections::BTreeSet<&str> =
            fields.iter().filter(|f| f.1).map(|f| f.0).collect();
        assert_eq!(groups.len(), 1, "{v:?} moves {groups:?}");
        let name = v.to_possible_value().unwrap().get_name().to_string();
        let group = *groups.iter().next().unwrap();
        assert!(name.starts_with(group), "{name} moved {group}");
        moved.insert(name);
    }
    assert_eq!(
        moved.len(),
        24,
        "four tests off (the cooldown one) and ten groups ×½, ×2"
    );
    let (long, _) = Tuning::of(Variant::CooldownDouble, 2);
    assert_eq!(long.cooldown, 0.4);
    // Factors scale in their logarithm.
    let (half, _) = Tuning::of(Variant::FactorsHalf, 2);
    assert!((half.up - 2f64.sqrt()).abs() < 1e-12 && half.cut == 0.25);
    assert_eq!(half.factor(Decision::Overshoot), 0.5f64.sqrt());
    let (double, every) = Tuning::of(Variant::LineDouble, 2);
    assert_eq!((double.line_min_probes, every), (16, 4));
}

/// `--dadapt-decay cosine`: the horizon is the run's steps, kept in the state, so that a
/// resume with another --epochs is refused and one with the same goes on where it was;
/// the constant decay records none (old checkpoints alike).
#[test]
fn dadapt_cosine_keeps_its_horizon_across_a_resume() {
    use etaprobe::schedule::{
        DAdapt, DAdaptDecay, DAdaptOptions, GradientReadings, Observation, Rule, RunShape, Schedule,
    };
    let cosine = DAdaptOptions {
        dadapt_decay: DAdaptDecay::Cosine,
        ..DAdaptOptions::default()
    };
    let run = |planned_steps| RunShape {
        lr0: 1.0,
        steps_per_epoch: 4,
        planned_steps,
    };
    let mut rule = DAdapt::build(&run(8), &cosine);
    rule.observe_gradient(&GradientReadings {
        norm: Some(4.0),
        ..GradientReadings::default()
    });
    // λ = d0·lr/‖g0‖ with lr at 1, then at (1 + cos(π·2/8))/2 after two steps.
    assert!((rule.lr() - 1e-6 / 2.0).abs() < 1e-18, "{}", rule.lr());
    for step in 1..=2 {
        rule.observe(&Observation {
            step,
            sums: vec![0.0, 0.0],
            ..Observation::default()
        });
    }
    let factor = (1.0 + (std::f64::consts::PI / 4.0).cos()) / 2.0;
    assert!(
        (rule.lr() - 1e-6 / 2.0 * factor).abs() < 1e-18,
        "{}",
        rule.lr()
    );
    let refused = DAdapt::build(&run(16), &cosine)
        .restore(&rule.state())
        .unwrap_err();
    assert!(
        refused.contains("planned for 8 steps, the run now has 16"),
        "{refused}"
    );
    let mut same = DAdapt::build(&run(8), &cosine);
    same.restore(&rule.state()).unwrap();
    assert_eq!(same.lr(), rule.lr());
    let constant = DAdapt::build(&run(8), &DAdaptOptions::default()).state();
    assert!(constant.get("planned").is_none(), "{constant}");
    DAdapt::build(&run(16), &DAdaptOptions::default())
        .restore(&constant)
        .unwrap();
}
