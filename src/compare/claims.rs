//! The verdicts of docs/evaluation.md §7 on one task, from paired differences of final test
//! accuracy over shared seeds (d = judged − other, mean ± 95% CI):
//!
//! - **claim 1**, the judged rule from every η0 within 1 point of the reference (the best
//!   val-tuned schedule): reproduced if the CI's lower end is ≥ −1 point at every η0, not
//!   reproduced if its upper end is < −1 at some η0, partly otherwise;
//! - **claim 2**, the judged rule at least as good as every tuning-free rule: reproduced if
//!   no comparison's CI lies entirely below 0, not reproduced if one rule's does at half of
//!   the η0 compared or more, partly otherwise.
//!
//! A claim is judged only when every comparison has an interval (two shared seeds or more).
//! The tuning-free rules are the task's other rules that planned every η0 on two seeds or
//! more (a selection grid on seed 1 is not one), except the reference's candidates; one run
//! at a single η0 (DoG, D-Adaptation, Prodigy) is compared with the judged rule at each of
//! its η0, a rule with several η0 at the same η0.

use std::fmt::Write;

use super::stats::Estimate;
use super::{paired, Kind, LrGroup, SelectedOn, Task};

/// Claim 1's margin: one point of accuracy.
const MARGIN: f64 = 0.01;

/// Rounding in a difference of two accuracies (0.8523 − 0.8623 = −0.010000000000000009):
/// an interval end within this of a threshold is on it.
pub(crate) const TOLERANCE: f64 = 1e-9;

/// One paired comparison: the judged rule at `lr` against `against` (at `against_lr`).
#[derive(Clone, Debug)]
pub(crate) struct Comparison {
    pub lr: f64,
    pub against: String,
    pub against_lr: f64,
    pub d: Option<Estimate>,
    /// The same without the seeds that selected the other rule's η0 (claim 1: the
    /// reference's seed 1); reported, not judged.
    pub d_unseen: Option<Estimate>,
}

impl Comparison {
    /// Which way the interval lies from `threshold`: 1 at or above it (`at_or_above`) or
    /// strictly above, −1 strictly below, 0 across; None without an interval. Rounding
    /// within `TOLERANCE` counts as on the threshold.
    fn side(&self, threshold: f64, at_or_above: bool) -> Option<i8> {
        let (lo, hi) = self.d?.interval()?;
        if !(lo.is_finite() && hi.is_finite()) {
            return None;
        }
        let above = match at_or_above {
            true => lo >= threshold - TOLERANCE,
            false => lo > threshold + TOLERANCE,
        };
        Some(if above {
            1
        } else if hi < threshold - TOLERANCE {
            -1
        } else {
            0
        })
    }

    /// Claim 1: within (the lower end ≥ −1 point), below (the upper end < −1), across.
    fn first_side(&self) -> Option<i8> {
        self.side(-MARGIN, true)
    }

    /// Claim 2: better (the lower end > 0), worse (the upper end < 0), undistinguished.
    fn second_side(&self) -> Option<i8> {
        self.side(0.0, false)
    }
}

/// A claim's outcome with the reason in words.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Verdict {
    Reproduced(String),
    NotReproduced(String),
    Partly(String),
    NotJudged(String),
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Reproduced(_) => "reproduced",
            Verdict::NotReproduced(_) => "not reproduced",
            Verdict::Partly(_) => "partly",
            Verdict::NotJudged(_) => "not judged",
        }
    }

    fn why(&self) -> &str {
        match self {
            Verdict::Reproduced(w)
            | Verdict::NotReproduced(w)
            | Verdict::Partly(w)
            | Verdict::NotJudged(w) => w,
        }
    }
}

/// Both claims on one task.
#[derive(Clone, Debug)]
pub(crate) struct Claims {
    pub judged: String,
    pub reference: String,
    /// Whether the reference was named alone (not chosen among several).
    pub single_reference: bool,
    pub first: Vec<Comparison>,
    pub first_verdict: Verdict,
    pub second: Vec<Comparison>,
    pub second_verdict: Verdict,
    /// The task's other rules that claim 2 leaves out: (rule, why).
    pub not_compared: Vec<(String, String)>,
}

fn lr_text(lr: f64) -> String {
    crate::sweep::spec::number_text(lr)
}

/// Comparisons without an interval, named; None when every one has one.
fn unjudged(comparisons: &[Comparison]) -> Option<Verdict> {
    let missing: Vec<String> = comparisons
        .iter()
        .filter(|c| c.second_side().is_none())
        .map(|c| {
            format!(
                "η0 {} vs `{}` ({})",
                lr_text(c.lr),
                c.against,
                crate::words::counted(c.d.map_or(0, |d| d.n), "shared seed")
            )
        })
        .collect();
    if comparisons.is_empty() {
        return Some(Verdict::NotJudged("nothing to compare".into()));
    }
    (!missing.is_empty()).then(|| {
        Verdict::NotJudged(format!(
            "no interval (fewer than 2 shared seeds) for {}",
            missing.join(", ")
        ))
    })
}

fn first_verdict(comparisons: &[Comparison]) -> Verdict {
    if let Some(v) = unjudged(comparisons) {
        return v;
    }
    let at = |side: i8| -> Vec<String> {
        comparisons
            .iter()
            .filter(|c| c.first_side() == Some(side))
            .map(|c| lr_text(c.lr))
            .collect()
    };
    let (below, across) = (at(-1), at(0));
    if !below.is_empty() {
        Verdict::NotReproduced(format!(
            "more than 1 point below the reference (the whole interval) from η0 {}",
            below.join(", ")
        ))
    } else if across.is_empty() {
        Verdict::Reproduced("within 1 point of the reference from every η0".into())
    } else {
        Verdict::Partly(format!(
            "the interval reaches below −1 point from η0 {}",
            across.join(", ")
        ))
    }
}

fn second_verdict(comparisons: &[Comparison]) -> Verdict {
    if let Some(v) = unjudged(comparisons) {
        return v;
    }
    let count = |side: i8| {
        comparisons
            .iter()
            .filter(|c| c.second_side() == Some(side))
            .count()
    };
    let mut rules: Vec<&str> = Vec::new();
    for c in comparisons {
        if !rules.contains(&c.against.as_str()) {
            rules.push(&c.against);
        }
    }
    let counts = format!(
        "{} better, {} worse, {} undistinguished of {} with {} ({})",
        count(1),
        count(-1),
        count(0),
        crate::words::counted(comparisons.len(), "comparison"),
        crate::words::counted(rules.len(), "rule"),
        rules.join(", ")
    );
    let mut beaten_by = Vec::new();
    for rule in rules {
        let of: Vec<&Comparison> = comparisons.iter().filter(|c| c.against == rule).collect();
        let worse = of.iter().filter(|c| c.second_side() == Some(-1)).count();
        if 2 * worse >= of.len() {
            beaten_by.push(format!("`{rule}` ({worse} of {} η0)", of.len()));
        }
    }
    let worse: Vec<String> = comparisons
        .iter()
        .filter(|c| c.second_side() == Some(-1))
        .map(|c| format!("η0 {} vs `{}`", lr_text(c.lr), c.against))
        .collect();
    if !beaten_by.is_empty() {
        Verdict::NotReproduced(format!(
            "worse than {} at half the η0 or more; {counts}",
            beaten_by.join(", ")
        ))
    } else if worse.is_empty() {
        Verdict::Reproduced(counts)
    } else {
        Verdict::Partly(format!("worse at {}; {counts}", worse.join(", ")))
    }
}

/// The claims for `judged` against `reference` (one of `candidates`, the rules named by
/// `--reference`), on a classification task; None on a regression task or when the
/// reference is the judged rule itself.
pub(crate) fn judge(
    task: &Task,
    judged: usize,
    reference: usize,
    candidates: &[usize],
) -> Option<Claims> {
    if task.kind != Kind::Classification || judged == reference {
        return None;
    }
    let rule = &task.rules[judged];
    let mut groups: Vec<&LrGroup> = rule.lrs.iter().collect();
    groups.sort_by(|a, b| a.lr.total_cmp(&b.lr));
    let reference_rule = &task.rules[reference];
    let pairing = Pairing {
        kind: task.kind,
        chose: reference_rule.selection_seeds(),
    };
    // Each claim's cells planned but not finished (or failed otherwise than by
    // diverging): no verdict on that claim until they are.
    let (mut first_missing, mut second_missing) = (Vec::new(), Vec::new());
    for g in &groups {
        note_missing(&rule.rule, g, &mut first_missing);
        note_missing(&rule.rule, g, &mut second_missing);
    }
    // Every cell of every candidate: each decides which η0 it runs at and which of them
    // is the reference.
    for &c in candidates {
        for g in &task.rules[c].lrs {
            note_missing(&task.rules[c].rule, g, &mut first_missing);
        }
    }
    let first_blocked = first_blocked(task, candidates);
    let first = match reference_rule.chosen() {
        Some(r) => groups
            .iter()
            .map(|g| pairing.against(g, &reference_rule.rule, r, true))
            .collect(),
        None => Vec::new(),
    };
    let TuningFree {
        second,
        not_compared,
        unpaired,
    } = tuning_free(
        task,
        judged,
        candidates,
        &groups,
        &pairing,
        &mut second_missing,
    );
    let verdict = |v: Verdict, unfinished: &[String]| match unfinished.is_empty() {
        true => v,
        false => Verdict::NotJudged(format!(
            "cells not finished (or failed otherwise than by diverging) for {}",
            unfinished.join(", ")
        )),
    };
    let first_verdict = match first_blocked.is_empty() {
        true => first_verdict(&first),
        false => Verdict::NotJudged(first_blocked.join("; ")),
    };
    let second_verdict = match unpaired.is_empty() {
        true => second_verdict(&second),
        false => Verdict::NotJudged(format!(
            "no run to pair `{}` with for {}",
            rule.rule,
            unpaired.join(", ")
        )),
    };
    Some(Claims {
        judged: rule.rule.clone(),
        reference: reference_rule.rule.clone(),
        single_reference: candidates.len() <= 1,
        first_verdict: verdict(first_verdict, &first_missing),
        second_verdict: verdict(second_verdict, &second_missing),
        first,
        second,
        not_compared,
    })
}

/// Adds "`name` at η0 …" to `into` (once) when `g` has cells planned but not finished.
fn note_missing(name: &str, g: &LrGroup, into: &mut Vec<String>) {
    let what = format!("`{name}` at η0 {}", lr_text(g.lr));
    if !g.missing.is_empty() && !into.contains(&what) {
        into.push(what);
    }
}

/// How the judged rule's runs are paired with another rule's.
struct Pairing {
    kind: Kind,
    /// The seeds that selected the reference's η0, left out of claim 1's `d_unseen`.
    chose: Vec<u64>,
}

impl Pairing {
    /// The judged rule at `g`'s η0 against `name` at `other`'s, seed by seed (`unseen`:
    /// also without the seeds that selected the reference's η0).
    fn against(&self, g: &LrGroup, name: &str, other: &LrGroup, unseen: bool) -> Comparison {
        let chose = &self.chose;
        Comparison {
            lr: g.lr,
            against: name.to_string(),
            against_lr: other.lr,
            d: paired(&g.runs, &other.runs, self.kind, &|_| true),
            d_unseen: (unseen && !chose.is_empty())
                .then(|| paired(&g.runs, &other.runs, self.kind, &|s| !chose.contains(&s)))
                .flatten(),
        }
    }
}

/// What keeps claim 1 from a verdict besides unfinished cells: a reference candidate
/// selected otherwise than on validation, or at its grid's edge (the best may lie beyond
/// it), or candidates whose selected η0 ran on unequal seeds.
fn first_blocked(task: &Task, candidates: &[usize]) -> Vec<String> {
    let mut blocked = Vec::new();
    let mut seed_sets: Vec<(&str, Vec<u64>)> = Vec::new();
    for &c in candidates {
        let r = &task.rules[c];
        if r.selected_on == SelectedOn::TrainLoss {
            blocked.push(format!(
                "`{}` was selected on the training loss (runs without a validation split)",
                r.rule
            ));
        }
        if let (Some(_), Some(g)) = (r.at_grid_edge(), r.chosen()) {
            blocked.push(format!(
                "`{}`'s η0 {} is at its grid's edge (extend the grid, docs/evaluation.md §2)",
                r.rule,
                lr_text(g.lr)
            ));
        }
        if r.chosen().is_some() {
            seed_sets.push((&r.rule, r.chosen_seeds()));
        }
    }
    if seed_sets.windows(2).any(|w| w[0].1 != w[1].1) {
        let sets: Vec<String> = (seed_sets.iter())
            .map(|(rule, seeds)| {
                let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
                let word = if seeds.len() == 1 { "seed" } else { "seeds" };
                format!("`{rule}` on {word} {}", list.join(", "))
            })
            .collect();
        blocked.push(format!(
            "the candidates' selected η0 ran on different seeds ({}): the reference is chosen \
             once every candidate's η0 has run on every seed",
            sets.join("; ")
        ));
    }
    blocked
}

/// Claim 2's comparisons, against the tuning-free rules.
struct TuningFree {
    /// The judged rule at each of its η0 against each tuning-free rule.
    second: Vec<Comparison>,
    /// The other rules that are not tuning-free (an η0 planned on fewer than two seeds: a
    /// selection grid), and why; the reference's candidates are not listed.
    not_compared: Vec<(String, String)>,
    /// The judged rule's η0 a tuning-free rule has no run at.
    unpaired: Vec<String>,
}

/// The judged rule (its η0 `groups`) against every other rule that is not a reference
/// candidate and planned each of its η0 on two seeds or more: a rule at one η0 at each of
/// the judged rule's, a rule with several at the same η0. Their cells planned but not
/// finished, at the η0 paired with the judged rule's, go into `missing`.
fn tuning_free(
    task: &Task,
    judged: usize,
    candidates: &[usize],
    groups: &[&LrGroup],
    pairing: &Pairing,
    missing: &mut Vec<String>,
) -> TuningFree {
    let mut second = Vec::new();
    let mut not_compared = Vec::new();
    let mut unpaired = Vec::new();
    for (j, other) in task.rules.iter().enumerate() {
        let planned = |g: &LrGroup| g.runs.len() + g.missing.len();
        if j == judged || candidates.contains(&j) {
            continue;
        }
        if let Some(g) = other.lrs.iter().find(|g| planned(g) < 2) {
            not_compared.push((
                other.rule.clone(),
                format!(
                    "η0 {} planned on {}: a selection grid, not a tuning-free rule",
                    lr_text(g.lr),
                    crate::words::counted(planned(g), "seed")
                ),
            ));
            continue;
        }
        for g in groups {
            let at = match other.lrs.as_slice() {
                [one] => Some(one),
                many => many.iter().find(|o| o.lr == g.lr),
            };
            match at {
                Some(o) => {
                    note_missing(&other.rule, o, missing);
                    second.push(pairing.against(g, &other.rule, o, false));
                }
                None => unpaired.push(format!("`{}` at η0 {}", other.rule, lr_text(g.lr))),
            }
        }
    }
    TuningFree {
        second,
        not_compared,
        unpaired,
    }
}

/// One claim across tasks (docs/evaluation.md §7): not reproduced if not reproduced on at
/// least one task (the claims are universal: one clear failure refutes them, whatever the
/// tasks not judged yet show); else not judged while any task is not judged; reproduced if
/// reproduced on every task; partly otherwise.
pub(crate) fn combine(verdicts: &[&str]) -> &'static str {
    let any = |w: &str| verdicts.contains(&w);
    if verdicts.is_empty() {
        "not judged"
    } else if any("not reproduced") {
        "not reproduced"
    } else if any("not judged") {
        "not judged"
    } else if verdicts.iter().all(|v| *v == "reproduced") {
        "reproduced"
    } else {
        "partly"
    }
}

/// The across-tasks section: every task given, those without claims (no judged rule, the
/// judged rule as reference, a regression) as not judged. The caller passes held-out tasks
/// only: design tasks do not count.
pub(crate) fn across(tasks: &[(String, Option<Claims>)]) -> String {
    let mut s = String::from("## Across tasks (docs/evaluation.md §7)\n\n");
    let _ = writeln!(
        s,
        "Each claim is not reproduced if not reproduced on at least one task below (whatever \
         the others show); otherwise not judged while any task is not judged, reproduced if \
         reproduced on every task, partly otherwise (design tasks must not be among them).\n"
    );
    let _ = writeln!(s, "| task | judged | reference | claim 1 | claim 2 |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    let mut first = Vec::new();
    let mut second = Vec::new();
    for (task, c) in tasks {
        match c {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "| {task} | `{}` | `{}` | {} | {} |",
                    c.judged,
                    c.reference,
                    c.first_verdict.word(),
                    c.second_verdict.word()
                );
                first.push(c.first_verdict.word());
                second.push(c.second_verdict.word());
            }
            None => {
                let _ = writeln!(
                    s,
                    "| {task} | — | — | not judged (no claims) | not judged |"
                );
                first.push("not judged");
                second.push("not judged");
            }
        }
    }
    let _ = writeln!(
        s,
        "\nClaim 1, \"from any η0 within 1 point of the best val-tuned schedule\": **{}**. \
         Claim 2, \"at least as good as every tuning-free baseline\": **{}**.",
        combine(&first),
        combine(&second)
    );
    s
}

/// A difference in points with its interval, e.g. `−0.42 [−0.91, +0.07]`.
fn points(d: &Option<Estimate>) -> String {
    match d {
        None => "—".into(),
        Some(e) => match e.interval() {
            Some((lo, hi)) => format!(
                "{:+.2} [{:+.2}, {:+.2}]{}",
                100.0 * e.mean,
                100.0 * lo,
                100.0 * hi,
                super::table::two_seeds_mark(e)
            ),
            None => format!("{:+.2}", 100.0 * e.mean),
        },
    }
}

/// Claim 1's reading of one comparison: the interval above −1 point, below it, or across.
fn first_outcome(c: &Comparison) -> &'static str {
    match c.first_side() {
        Some(1) => "within",
        Some(-1) => "below",
        Some(_) => "across",
        None => "no interval",
    }
}

/// Claim 2's: the interval above 0, below it, or across.
fn second_outcome(c: &Comparison) -> &'static str {
    match c.second_side() {
        Some(1) => "better",
        Some(-1) => "worse",
        Some(_) => "undistinguished",
        None => "no interval",
    }
}

/// The claims' Markdown section.
pub(crate) fn markdown(c: &Claims) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n### Claims (docs/evaluation.md §7): `{}` judged\n",
        c.judged
    );
    let _ = writeln!(
        s,
        "Claim 1, \"`{}` from any η0 within 1 point of the best val-tuned schedule\" \
         (`{}`): **{}**: {}.\n",
        c.judged,
        c.reference,
        c.first_verdict.word(),
        c.first_verdict.why()
    );
    let _ = writeln!(
        s,
        "| η0 | Δ final test vs `{}` (points, 95% CI) | seeds | against −1 | without the \
         seeds that chose its η (reported, not judged) |",
        c.reference
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for x in &c.first {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            lr_text(x.lr),
            points(&x.d),
            x.d.map_or(0, |d| d.n),
            first_outcome(x),
            match x.d_unseen {
                Some(u) => format!("{} (n={})", points(&x.d_unseen), u.n),
                None => "—".into(),
            }
        );
    }
    let _ = writeln!(
        s,
        "\nClaim 2, \"`{}` at least as good as every tuning-free baseline\": **{}**: {}.\n",
        c.judged,
        c.second_verdict.word(),
        c.second_verdict.why()
    );
    if !c.not_compared.is_empty() {
        let named: Vec<String> = c
            .not_compared
            .iter()
            .map(|(rule, why)| format!("`{rule}` ({why})"))
            .collect();
        let _ = writeln!(s, "Not compared: {}.\n", named.join("; "));
    }
    let _ = writeln!(
        s,
        "| against | its η0 | η0 | Δ final test (points, 95% CI) | seeds | outcome |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for x in &c.second {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} |",
            x.against,
            lr_text(x.against_lr),
            lr_text(x.lr),
            points(&x.d),
            x.d.map_or(0, |d| d.n),
            second_outcome(x)
        );
    }
    s
}

/// `TASK-claims.csv`: every comparison, as fractions.
pub(crate) fn csv(c: &Claims) -> String {
    let header = super::table::columns(
        "claim,judged,lr,against,against_lr,n,diff,diff_ci_low,\
         diff_ci_high,outcome,verdict,unseen_n,unseen_diff,unseen_diff_ci_low,\
         unseen_diff_ci_high",
        "",
    );
    let rows = c
        .first
        .iter()
        .map(|x| (1, x, first_outcome(x), &c.first_verdict))
        .chain(
            c.second
                .iter()
                .map(|x| (2, x, second_outcome(x), &c.second_verdict)),
        );
    // n, mean, interval ends; empty cells for none.
    let cells = |e: &Option<Estimate>| -> [String; 4] {
        let (lo, hi) = e
            .and_then(|d| d.interval())
            .map_or((String::new(), String::new()), |(l, h)| {
                (l.to_string(), h.to_string())
            });
        [
            e.map_or(0, |d| d.n).to_string(),
            e.map(|d| d.mean.to_string()).unwrap_or_default(),
            lo,
            hi,
        ]
    };
    let mut table: Vec<Vec<String>> = rows
        .map(|(claim, x, out, verdict)| {
            let mut row = vec![
                claim.to_string(),
                c.judged.clone(),
                lr_text(x.lr),
                x.against.clone(),
                lr_text(x.against_lr),
            ];
            row.extend(cells(&x.d));
            row.push(out.to_string());
            row.push(verdict.word().to_string());
            row.extend(cells(&x.d_unseen));
            row
        })
        .collect();
    // The rules claim 2 leaves out, one row each: no η0, no numbers, and why.
    for (rule, why) in &c.not_compared {
        let mut row = vec!["2".into(), c.judged.clone(), String::new(), rule.clone()];
        row.push(String::new());
        row.extend(cells(&None));
        row.push(format!("not compared: {why}"));
        // Not claim 2's verdict: a filter on it must not count rules never compared.
        row.push("not compared".into());
        row.extend(cells(&None));
        table.push(row);
    }
    super::table::csv_table(&header, &table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(lr: f64, against: &str, mean: f64, half_width: Option<f64>) -> Comparison {
        Comparison {
            lr,
            against: against.into(),
            against_lr: lr,
            d: Some(Estimate {
                n: if half_width.is_some() { 5 } else { 1 },
                mean,
                half_width,
            }),
            d_unseen: None,
        }
    }

    #[test]
    fn a_two_seed_difference_is_marked() {
        let d = |n| {
            Some(Estimate {
                n,
                mean: -0.0042,
                half_width: Some(0.0049),
            })
        };
        assert_eq!(points(&d(2)), "-0.42 [-0.91, +0.07]†");
        assert_eq!(points(&d(5)), "-0.42 [-0.91, +0.07]");
    }

    #[test]
    fn claim_1_reads_each_interval_against_minus_one_point() {
        let within = vs(0.01, "cosine", -0.002, Some(0.005));
        let across = vs(1.0, "cosine", -0.009, Some(0.004));
        let below = vs(10.0, "cosine", -0.02, Some(0.005));
        let word = |c: &[Comparison]| first_verdict(c).word();
        assert_eq!(word(std::slice::from_ref(&within)), "reproduced");
        assert_eq!(word(&[within.clone(), across.clone()]), "partly");
        assert!(matches!(
            first_verdict(&[within.clone(), across.clone()]),
            Verdict::Partly(w) if w.contains("η0 1")
        ));
        assert_eq!(word(&[within.clone(), across, below]), "not reproduced");
        // One seed: no interval, no verdict.
        assert_eq!(word(&[within, vs(0.1, "cosine", 0.0, None)]), "not judged");
        // Exactly one point below on every seed, as two accuracies' difference rounds it:
        // on the threshold, so within (§7: the lower end ≥ −1).
        let on_it = vs(1.0, "cosine", 0.8523 - 0.8623, Some(0.0));
        assert!(
            on_it.d.unwrap().mean < -0.01,
            "the rounding this guards against"
        );
        assert_eq!(word(&[on_it]), "reproduced");
        assert_eq!(word(&[]), "not judged");
    }

    #[test]
    fn claim_2_fails_only_when_one_rule_wins_at_half_the_eta0() {
        let better = |lr| vs(lr, "dog", 0.01, Some(0.005));
        let level = |lr| vs(lr, "dog", 0.0, Some(0.005));
        let worse = |lr, rule| vs(lr, rule, -0.01, Some(0.005));
        let word = |c: &[Comparison]| second_verdict(c).word();
        assert_eq!(word(&[better(1.0), level(10.0)]), "reproduced");
        // `secant` equal to `auto` on every seed: a zero-width interval at 0, rounded
        // either way, is neither better nor worse.
        assert_eq!(
            second_outcome(&vs(1.0, "secant", 1e-17, Some(0.0))),
            "undistinguished"
        );
        assert_eq!(
            second_outcome(&vs(1.0, "secant", -1e-17, Some(0.0))),
            "undistinguished"
        );
        assert_eq!(word(&[vs(1.0, "secant", -1e-17, Some(0.0))]), "reproduced");
        // A NaN interval is no interval.
        assert_eq!(
            second_outcome(&vs(1.0, "dog", f64::NAN, Some(0.01))),
            "no interval"
        );
        // One worse comparison of three for DoG: partly.
        let three = [better(0.1), level(1.0), worse(10.0, "dog")];
        assert_eq!(word(&three), "partly");
        // Two of four: half the η0, not reproduced.
        let four = [
            better(0.1),
            level(1.0),
            worse(10.0, "dog"),
            worse(0.01, "dog"),
        ];
        assert_eq!(word(&four), "not reproduced");
        // Two worse, each against another rule of two η0 each... one of two is half.
        let spread = [
            level(1.0),
            worse(10.0, "dog"),
            worse(1.0, "sps"),
            better(10.0),
        ];
        assert!(
            matches!(second_verdict(&spread), Verdict::NotReproduced(w) if w.contains("`sps` (1 of 1 η0)"))
        );
        assert!(second_verdict(&three)
            .why()
            .contains("1 better, 1 worse, 1 undistinguished of 3"));
    }

    #[test]
    fn across_tasks_one_failure_refutes_and_otherwise_an_unjudged_task_waits() {
        let r = "reproduced";
        let nr = "not reproduced";
        let p = "partly";
        let nj = "not judged";
        assert_eq!(combine(&[r, r, r]), r);
        assert_eq!(combine(&[r, r, nr]), nr);
        assert_eq!(combine(&[r, p]), p);
        assert_eq!(combine(&[p, p]), p);
        assert_eq!(combine(&[p, nr]), nr);
        assert_eq!(combine(&[r, nj]), nj);
        assert_eq!(combine(&[p, nj]), nj);
        assert_eq!(
            combine(&[nr, nj]),
            nr,
            "one failure refutes, whatever is not judged"
        );
        assert_eq!(combine(&[]), nj);
    }
}
