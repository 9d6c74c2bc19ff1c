//! The ablation table of docs/evaluation.md §6: each variant of the judged rule (the rules
//! of an ablation sweep, and `secant`, which is `auto` without its line probe, from the
//! base sweep) against the frozen rule of the base sweep, paired on every (η0, seed) both
//! ran, **on final validation accuracy** (test beside it, never judged):
//!
//! - **flat**: the 95% CI of Δ lies within [−1, +1] point and the variant diverges nowhere
//!   the frozen rule does not;
//! - **sharp**: the CI lies entirely below −1 or above +1, or the variant diverges where the
//!   frozen rule does not;
//! - **inconclusive** otherwise; **not judged** with fewer than two pairs, or while a
//!   planned pair is not complete (a variant's cell or its frozen counterpart unfinished:
//!   the missing pairs could hold the divergences that make a variant sharp).
//!
//! A component switched off whose runs equal the frozen rule's on every pair (Δ = 0) while
//! the frozen runs never took its decision is "unused on this task", not "unneeded".

use std::collections::BTreeMap;
use std::fmt::Write;

use super::claims::TOLERANCE;
use super::stats::{estimate, Estimate};
use super::{Kind, Run, Task};

/// Half the width of the flat band: one point of accuracy.
const BAND: f64 = 0.01;

/// The decision of `rule.csv` that a switched-off component would take (`secant` is `auto`
/// without its line probe). Named through the rule's own types, so that a renamed variant
/// or decision cannot part from this table.
fn switched_off(variant: &str) -> Option<&'static str> {
    use crate::schedule::{Decision, Rule, Secant, Variant as AutoVariant};
    if variant == Secant::NAME {
        return Some(Decision::LineRise.name());
    }
    let decision = match <AutoVariant as clap::ValueEnum>::from_str(variant, false).ok()? {
        AutoVariant::NoPlateau => Decision::Plateau,
        AutoVariant::NoStall => Decision::Stalled,
        AutoVariant::NoBlowUp => Decision::BlowUp,
        _ => return None,
    };
    Some(decision.name())
}

/// One variant's comparison with the frozen rule.
#[derive(Clone, Debug)]
pub(crate) struct Variant {
    /// The variant's name (`--auto-variant`'s value, or `secant`).
    pub name: String,
    /// Its rule in the sweep that ran it.
    pub rule: String,
    pub val: Option<Estimate>,
    pub test: Option<Estimate>,
    /// Mean Δ of validation accuracy at each η0.
    pub by_lr: Vec<(f64, f64)>,
    /// Pairs where the variant diverged and the frozen rule did not.
    pub new_divergences: usize,
    /// The frozen runs' decisions of the kind the variant switches off, over the pairs.
    pub frozen_decisions: Option<usize>,
    /// The variant's decisions over the pairs.
    pub decisions: BTreeMap<String, usize>,
    /// Planned pairs not complete, each named with what it lacks.
    pub incomplete: Vec<String>,
    /// `rule.csv` files of the pairs that could not be read (their counts are unknown),
    /// each relative to its root: the base sweep's (true) or the ablation's.
    pub unreadable_logs: Vec<(bool, std::path::PathBuf)>,
    pub verdict: &'static str,
}

/// Every variant of `task` (an ablation sweep's task) against `judged` of `base` (the
/// same task in the base sweep); None when `base` lacks the judged rule.
pub(crate) fn compare(task: &Task, base: &Task, judged: &str) -> Option<Vec<Variant>> {
    let frozen = base.rules.iter().find(|r| r.rule == judged)?;
    let frozen_run = |lr: f64, seed: u64| -> Option<&Run> {
        frozen
            .lrs
            .iter()
            .find(|g| g.lr == lr)?
            .runs
            .iter()
            .find(|r| r.seed == seed)
    };
    let lrs_of_task: Vec<f64> = {
        let mut v: Vec<f64> = task
            .rules
            .iter()
            .flat_map(|r| r.lrs.iter().map(|g| g.lr))
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let seeds_of_task: Vec<u64> = {
        let mut v: Vec<u64> = task
            .rules
            .iter()
            .flat_map(|r| r.lrs.iter())
            .flat_map(|g| {
                g.runs
                    .iter()
                    .map(|r| r.seed)
                    .chain(g.missing.iter().copied())
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    // `secant` from the base sweep, on the ablation's η0 and seeds only.
    let secant = base.rules.iter().find(|r| r.rule == "secant");
    let variants = task
        .rules
        .iter()
        .map(|r| {
            let name = r
                .rule
                .split_once("auto-variant=")
                .map_or(r.rule.as_str(), |(_, v)| v);
            (name.to_string(), r)
        })
        .chain(secant.map(|r| ("secant".to_string(), r)));
    let kind = Kind::Classification;
    let mut out = Vec::new();
    for (name, rule) in variants {
        let mut val = Vec::new();
        let mut test = Vec::new();
        let mut by_lr: BTreeMap<u64, (f64, usize, f64)> = BTreeMap::new();
        let mut new_divergences = 0;
        let mut frozen_decisions = 0;
        let mut decisions = BTreeMap::new();
        let mut incomplete = Vec::new();
        let mut unreadable_logs = Vec::new();
        for g in rule.lrs.iter().filter(|g| lrs_of_task.contains(&g.lr)) {
            let lr = crate::sweep::spec::number_text(g.lr);
            for seed in g.missing.iter().filter(|s| seeds_of_task.contains(s)) {
                incomplete.push(format!(
                    "η0 {lr} seed {seed}: the variant's cell unfinished"
                ));
            }
            for run in g.runs.iter().filter(|r| seeds_of_task.contains(&r.seed)) {
                let Some(f) = frozen_run(g.lr, run.seed) else {
                    incomplete.push(format!(
                        "η0 {lr} seed {}: no finished run of the frozen rule",
                        run.seed
                    ));
                    continue;
                };
                let (Some(v), Some(fv)) = (run.final_val(kind), f.final_val(kind)) else {
                    incomplete.push(format!(
                        "η0 {lr} seed {}: no validation score to pair",
                        run.seed
                    ));
                    continue;
                };
                // `secant` is the base sweep's own rule.
                for (r, in_base) in [(run, name == "secant"), (f, true)] {
                    if r.decisions_unreadable.is_some() {
                        unreadable_logs.push((in_base, r.dir.join(crate::rundir::RULE_CSV)));
                    }
                }
                val.push(v - fv);
                if let (Some(t), Some(ft)) = (run.final_test(kind), f.final_test(kind)) {
                    test.push(t - ft);
                }
                let e = by_lr.entry(g.lr.to_bits()).or_insert((g.lr, 0, 0.0));
                e.1 += 1;
                e.2 += v - fv;
                if run.diverged.is_some() && f.diverged.is_none() {
                    new_divergences += 1;
                }
                if let Some(k) = switched_off(&name) {
                    frozen_decisions += f.decisions.get(k).copied().unwrap_or(0);
                }
                for (d, n) in &run.decisions {
                    *decisions.entry(d.clone()).or_insert(0) += n;
                }
            }
        }
        let off = switched_off(&name);
        let val_estimate = estimate(&val);
        let unused = off.is_some()
            && !val.is_empty()
            && val.iter().all(|d| *d == 0.0)
            && new_divergences == 0
            && frozen_decisions == 0
            && unreadable_logs.is_empty()
            && incomplete.is_empty();
        let verdict = match val_estimate.and_then(|e| e.interval()) {
            _ if unused => "unused on this task",
            // A divergence the frozen rule did not have is sharp whatever the interval.
            _ if new_divergences > 0 => "sharp",
            _ if !incomplete.is_empty() => "not judged",
            None => "not judged",
            // Within TOLERANCE of ±1 point counts as on it, as in the claims: a difference
            // of exactly 60 samples in 6000 must not read as beyond it by rounding.
            Some((lo, hi)) if hi < -BAND - TOLERANCE || lo > BAND + TOLERANCE => "sharp",
            Some((lo, hi)) if lo >= -BAND - TOLERANCE && hi <= BAND + TOLERANCE => "flat",
            Some(_) => "inconclusive",
        };
        let mut by_lr: Vec<(f64, f64)> = by_lr
            .into_values()
            .map(|(lr, n, sum)| (lr, sum / n as f64))
            .collect();
        by_lr.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.push(Variant {
            name,
            rule: rule.rule.clone(),
            val: val_estimate,
            test: estimate(&test),
            by_lr,
            new_divergences,
            frozen_decisions: off.map(|_| frozen_decisions),
            decisions,
            incomplete,
            unreadable_logs,
            verdict,
        });
    }
    Some(out)
}

fn points(e: &Option<Estimate>) -> String {
    match e {
        None => "—".into(),
        Some(e) => match e.interval() {
            Some((lo, hi)) => format!(
                "{:+.2} [{:+.2}, {:+.2}]{} (n={})",
                100.0 * e.mean,
                100.0 * lo,
                100.0 * hi,
                super::table::two_seeds_mark(e),
                e.n
            ),
            None => format!("{:+.2} (n=1)", 100.0 * e.mean),
        },
    }
}

/// The ablation's Markdown section.
pub(crate) fn markdown(variants: &[Variant], judged: &str, base: &std::path::Path) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n### Ablation (docs/evaluation.md §6): each variant against the frozen `{judged}` of \
         `{}`\n",
        base.display()
    );
    let _ = writeln!(
        s,
        "Δ: final validation accuracy (test beside it, never judged) of the variant minus the \
         frozen rule's on the same η0 and seed, in points, mean [95% CI]; flat: the CI within \
         [−1, +1] and no new divergence; sharp: the CI beyond ±1 or a divergence the frozen \
         rule did not have.\n"
    );
    let mut lrs: Vec<f64> = variants
        .iter()
        .flat_map(|v| v.by_lr.iter().map(|x| x.0))
        .collect();
    lrs.sort_by(f64::total_cmp);
    lrs.dedup();
    let mut header = vec!["variant".to_string(), "Δ val".into()];
    header.extend(
        lrs.iter()
            .map(|&lr| format!("Δ val at η0 {}", crate::sweep::spec::number_text(lr))),
    );
    header.extend([
        "Δ test".into(),
        "new divergences".into(),
        "its decision in the frozen runs".into(),
        "decisions (but keep)".into(),
        "verdict".into(),
    ]);
    let _ = writeln!(s, "| {} |", header.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(header.len()));
    for v in variants {
        let mut cells = vec![format!("`{}`", v.name), points(&v.val)];
        for lr in &lrs {
            cells.push(
                v.by_lr
                    .iter()
                    .find(|x| x.0 == *lr)
                    .map_or("—".into(), |x| format!("{:+.2}", 100.0 * x.1)),
            );
        }
        let decisions: Vec<String> = v
            .decisions
            .iter()
            .filter(|(d, _)| d.as_str() != "keep")
            .map(|(d, n)| format!("{d} {n}"))
            .collect();
        cells.extend([
            points(&v.test),
            v.new_divergences.to_string(),
            match (switched_off(&v.name), v.frozen_decisions) {
                (Some(k), Some(n)) => format!("{k} {n}"),
                _ => "—".into(),
            },
            if decisions.is_empty() {
                "—".into()
            } else {
                decisions.join(", ")
            },
            format!("**{}**", v.verdict),
        ]);
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    let count = |w: &str| variants.iter().filter(|v| v.verdict == w).count();
    let sharp: Vec<String> = variants
        .iter()
        .filter(|v| v.verdict == "sharp")
        .map(|v| format!("`{}`", v.name))
        .collect();
    let _ = writeln!(
        s,
        "\n{} flat, {} sharp{}, {} inconclusive, {} unused on this task, {} not judged, of {} \
         variants.",
        count("flat"),
        count("sharp"),
        if sharp.is_empty() {
            String::new()
        } else {
            format!(" ({})", sharp.join(", "))
        },
        count("inconclusive"),
        count("unused on this task"),
        count("not judged"),
        variants.len()
    );
    for v in variants {
        if !v.incomplete.is_empty() {
            let _ = writeln!(
                s,
                "\n`{}`: {} not complete: {}.",
                v.name,
                crate::words::counted(v.incomplete.len(), "planned pair"),
                v.incomplete.join("; ")
            );
        }
        if !v.unreadable_logs.is_empty() {
            let logs: Vec<String> = (v.unreadable_logs.iter())
                .map(|(in_base, p)| match in_base {
                    true => format!("`{}`", base.join(p).display()),
                    false => format!("`{}`", p.display()),
                })
                .collect();
            let _ = writeln!(
                s,
                "\n`{}`: decision counts unknown, unreadable: {} (so never \"unused\").",
                v.name,
                logs.join(", ")
            );
        }
    }
    s
}

/// `TASK-ablation.csv`: one row per variant, as fractions.
pub(crate) fn csv(variants: &[Variant]) -> String {
    let header = super::table::columns(
        "variant,rule,n,val_diff,val_diff_ci_low,val_diff_ci_high,\
         test_diff,test_diff_ci_low,test_diff_ci_high,new_divergences,frozen_decisions,verdict",
        "",
    );
    // Mean and interval ends; empty cells for none.
    let cells = |e: &Option<Estimate>| -> [String; 3] {
        match e {
            None => Default::default(),
            Some(e) => {
                let (lo, hi) = e
                    .interval()
                    .map_or((String::new(), String::new()), |(l, h)| {
                        (l.to_string(), h.to_string())
                    });
                [e.mean.to_string(), lo, hi]
            }
        }
    };
    let table: Vec<Vec<String>> = variants
        .iter()
        .map(|v| {
            let mut row = vec![
                v.name.clone(),
                v.rule.clone(),
                v.val.map_or(0, |e| e.n).to_string(),
            ];
            row.extend(cells(&v.val));
            row.extend(cells(&v.test));
            row.push(v.new_divergences.to_string());
            row.push(
                v.frozen_decisions
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            );
            row.push(v.verdict.to_string());
            row
        })
        .collect();
    super::table::csv_table(&header, &table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_seed_difference_is_marked() {
        let d = |n| {
            Some(Estimate {
                n,
                mean: 0.0042,
                half_width: Some(0.0049),
            })
        };
        assert_eq!(points(&d(2)), "+0.42 [-0.07, +0.91]† (n=2)");
        assert_eq!(points(&d(3)), "+0.42 [-0.07, +0.91] (n=3)");
    }

    #[test]
    fn each_switched_off_component_names_the_decision_it_would_take() {
        // The words of `rule.csv` and of `--auto-variant` (docs/evaluation.md §6).
        let table = [
            ("no-plateau", Some("plateau")),
            ("no-stall", Some("stalled")),
            ("no-blow-up", Some("blow-up")),
            ("secant", Some("line-rise")),
            ("no-cooldown", None),
            ("frozen", None),
            ("no-such-variant", None),
        ];
        for (variant, decision) in table {
            assert_eq!(switched_off(variant), decision, "{variant}");
        }
    }
}
