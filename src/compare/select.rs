//! Choosing: each rule's η0 selected on validation (never on test), the reference and the
//! judged rule named by the options, and the main table's rows with their paired
//! differences.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};

use super::stats::{self, estimate, Estimate};
use super::{Kind, LrGroup, Row, RuleRuns, Run, SelectedOn, Task};

/// The η0 with the best mean score (of equals, the smallest η0: the more conservative rate on
/// the seeds not seen, docs/evaluation.md §2), over the seeds on which every η0 with a score
/// has one (all of them when the grid is complete; a diverged run scores chance on a
/// classification task and has no score on a regression task). A two-pass grid (η chosen on seed 1, then run on
/// the other seeds) so keeps its seed-1 choice: a mean over five seeds at the chosen η is
/// not compared with one seed's at the others. Without a common seed, each η0's own mean.
pub(super) fn select(lrs: &[LrGroup], kind: Kind, on: SelectedOn) -> Option<usize> {
    let scored = |g: &LrGroup| -> Vec<(u64, f64)> {
        g.runs
            .iter()
            .filter_map(|r| r.score(kind, on).map(|v| (r.seed, v)))
            .collect()
    };
    let per_lr: Vec<Vec<(u64, f64)>> = lrs.iter().map(scored).collect();
    let common = shared_seeds(
        per_lr
            .iter()
            .filter(|r| !r.is_empty())
            .map(|runs| runs.iter().map(|(s, _)| *s).collect()),
    );
    // Ranked by the runs without a score first (a diverged run where there is no chance
    // score: −∞), fewer is better, then by the mean of the others: one bad seed diverging
    // at every η0 must not hand the choice to the smallest.
    let mut best: Option<(usize, usize, f64)> = None;
    for (i, runs) in per_lr.iter().enumerate() {
        let scores: Vec<f64> = runs
            .iter()
            .filter(|(s, _)| common.as_ref().is_none_or(|c| c.contains(s)))
            .map(|(_, v)| *v)
            .collect();
        if scores.is_empty() {
            continue;
        }
        let lost = scores.iter().filter(|v| **v == f64::NEG_INFINITY).count();
        let kept: Vec<f64> = scores
            .into_iter()
            .filter(|v| *v != f64::NEG_INFINITY)
            .collect();
        let mean = estimate(&kept).map_or(f64::NEG_INFINITY, |e| e.mean);
        // A NaN score never wins (a diverged run scores chance instead).
        if mean.is_nan() {
            continue;
        }
        // Equal means (up to the rounding of sums in another order) go to the smaller η0.
        let better = |(j, l, b): (usize, usize, f64)| match (lost.cmp(&l), same_score(mean, b)) {
            (std::cmp::Ordering::Less, _) => true,
            (std::cmp::Ordering::Greater, _) => false,
            (_, true) => lrs[i].lr < lrs[j].lr,
            (_, false) => mean > b,
        };
        if best.is_none_or(better) {
            best = Some((i, lost, mean));
        }
    }
    best.map(|(i, _, _)| i)
}

/// The seeds every one of `sets` holds, in the first set's order; None when there is no set
/// or no seed in common.
fn shared_seeds(sets: impl IntoIterator<Item = Vec<u64>>) -> Option<Vec<u64>> {
    sets.into_iter()
        .reduce(|common, seeds| common.into_iter().filter(|s| seeds.contains(s)).collect())
        .filter(|c| !c.is_empty())
}

/// Whether two mean scores are equal up to rounding: the same accuracies summed in another
/// order (the seeds of two η0) differ in their last bits.
fn same_score(a: f64, b: f64) -> bool {
    a == b || (a.is_finite() && b.is_finite() && (a - b).abs() <= 1e-12 * a.abs().max(b.abs()))
}

impl Task {
    /// A rule's index by directory name, or by schedule when one rule runs it.
    pub(super) fn rule_index(&self, name: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.rule == name).or_else(|| {
            let same: Vec<usize> = (0..self.rules.len())
                .filter(|&i| self.rules[i].schedule == name)
                .collect();
            (same.len() == 1).then(|| same[0])
        })
    }

    fn no_such_rule(&self, option: &str, name: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "{option} {name}: task {} has no such rule (rules: {})",
            self.name,
            self.rules
                .iter()
                .map(|r| r.rule.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// The reference rule's index: `wanted` by directory name, or by schedule when one rule
    /// runs it; of several (comma-separated), the best by mean final validation score at
    /// its selected η0 (ties: the earlier named); by default `auto`, else the first rule.
    pub fn reference(&self, wanted: Option<&str>) -> Result<Option<usize>> {
        let Some(wanted) = wanted else {
            return Ok(self
                .rule_index("auto")
                .or((!self.rules.is_empty()).then_some(0)));
        };
        let mut best: Option<(usize, f64)> = None;
        let names: Vec<&str> = wanted.split(',').map(str::trim).collect();
        let mut candidates = Vec::new();
        for name in &names {
            let i = self
                .rule_index(name)
                .ok_or_else(|| self.no_such_rule("--reference", name))?;
            if names.len() == 1 {
                return Ok(Some(i));
            }
            candidates.push(i);
        }
        // Ranked on the seeds that every candidate's selected η0 has a run for, so that a
        // one-seed score is never set against a five-seed mean (claim 1 waits for equal
        // seeds anyway); without any in common, each on its own.
        let shared = shared_seeds(candidates.iter().filter_map(|&i| {
            let g = self.rules[i].chosen()?;
            Some(g.runs.iter().map(|r| r.seed).collect())
        }));
        for i in candidates {
            let Some(score) = self.rules[i].selected_val(self.kind, shared.as_deref()) else {
                continue;
            };
            // Equal scores go to the first listed.
            if best.is_none_or(|(_, b)| score > b && !same_score(score, b)) {
                best = Some((i, score));
            }
        }
        match best {
            Some((i, _)) => Ok(Some(i)),
            None => bail!(
                "--reference {wanted}: on task {}, none of these rules has a validation score \
                 to choose the best by (runs with --val-split)",
                self.name
            ),
        }
    }

    /// The judged rule's index (`wanted`, default `auto`); None when the task lacks it.
    pub fn judged(&self, wanted: Option<&str>) -> Result<Option<usize>> {
        match wanted {
            Some(name) => self
                .rule_index(name)
                .map(Some)
                .ok_or_else(|| self.no_such_rule("--judge", name)),
            None => Ok(self.rule_index("auto")),
        }
    }

    /// The main table: each rule at its selected η0.
    pub fn rows(
        &self,
        reference: Option<usize>,
        judged: Option<usize>,
        target: Option<f64>,
    ) -> Vec<Row> {
        let kind = self.kind;
        let chosen_runs = |i: Option<usize>| -> &[Run] {
            i.and_then(|i| self.rules[i].chosen())
                .map_or(&[], |g| g.runs.as_slice())
        };
        let (reference_runs, judged_runs) = (chosen_runs(reference), chosen_runs(judged));
        self.rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let group = rule.chosen();
                let runs: &[Run] = group.map_or(&[], |g| &g.runs);
                let values = |f: &dyn Fn(&Run) -> Option<f64>| {
                    let v: Vec<f64> = runs.iter().filter_map(f).collect();
                    estimate(&v)
                };
                let against = |other: &[Run], also: bool, seeds: &dyn Fn(u64) -> bool| {
                    also.then(|| paired(runs, other, kind, seeds)).flatten()
                };
                // Seeds that chose this rule's η0 or the reference's on a one-seed grid.
                let mut chose = rule.selection_seeds();
                chose.extend(reference.map_or(Vec::new(), |r| self.rules[r].selection_seeds()));
                // Every run timed on the task's metric, one that never reached the target at
                // +∞: the median over the seeds (docs/evaluation.md §7), none when half of
                // them or more never did. On validation, a run without a split has no time.
                let timed = |r: &&Run| {
                    !self.timed_on_val || r.diverged.is_some() || r.final_val(kind).is_some()
                };
                let hits: Vec<Option<(usize, f64)>> = match target {
                    Some(t) => (runs.iter().filter(timed))
                        .map(|r| r.to_target(kind, t, self.timed_on_val))
                        .collect(),
                    None => Vec::new(),
                };
                let median = |of: &dyn Fn(&(usize, f64)) -> f64| {
                    let v: Vec<f64> = (hits.iter())
                        .map(|h| h.as_ref().map_or(f64::INFINITY, of))
                        .collect();
                    stats::median(&v).filter(|m| m.is_finite())
                };
                let mut decisions = BTreeMap::new();
                for (d, n) in runs.iter().flat_map(|r| &r.decisions) {
                    *decisions.entry(d.clone()).or_insert(0) += n;
                }
                Row {
                    rule: rule.rule.clone(),
                    schedule: rule.schedule.clone(),
                    lr: group.map(|g| g.lr),
                    at_grid_edge: rule.at_grid_edge(),
                    lr_grid: {
                        // In order, with a grid's extensions (§2) among the rest.
                        let mut grid: Vec<f64> = rule.lrs.iter().map(|g| g.lr).collect();
                        grid.sort_by(f64::total_cmp);
                        grid
                    },
                    lr_unscored: {
                        let mut none: Vec<f64> = (rule.lrs.iter())
                            .filter(|g| g.runs.is_empty())
                            .map(|g| g.lr)
                            .collect();
                        none.sort_by(f64::total_cmp);
                        none
                    },
                    seeds: runs.len(),
                    // With no η0 chosen (no run finished), every seed of the rule lacks one.
                    missing: group.map_or_else(
                        || {
                            let mut seeds: Vec<u64> = (rule.lrs.iter())
                                .flat_map(|g| {
                                    g.runs.iter().map(|r| r.seed).chain(g.missing.clone())
                                })
                                .collect();
                            seeds.sort_unstable();
                            seeds.dedup();
                            seeds.len()
                        },
                        |g| g.missing.len(),
                    ),
                    diverged: runs.iter().filter(|r| r.diverged.is_some()).count(),
                    final_test: values(&|r| r.final_test(kind)),
                    val_stopped_test: values(&|r| r.val_stopped_test(kind)),
                    final_val: values(&|r| r.final_val(kind)),
                    paired: against(reference_runs, Some(i) != reference, &|_| true),
                    paired_unseen: against(
                        reference_runs,
                        Some(i) != reference && !chose.is_empty(),
                        &|s| !chose.contains(&s),
                    ),
                    paired_judged: against(judged_runs, Some(i) != judged, &|_| true),
                    steps_to_target: median(&|h| h.0 as f64),
                    seconds_to_target: median(&|h| h.1),
                    reached: (hits.iter().flatten().count(), hits.len()),
                    seconds_per_step: values(&|r| r.seconds_per_step()),
                    decisions,
                }
            })
            .collect()
    }
}

impl RuleRuns {
    /// The runs at the selected η0.
    pub fn chosen(&self) -> Option<&LrGroup> {
        self.selected.map(|i| &self.lrs[i])
    }

    /// The seeds that selected this rule's η0 when it was chosen on some seeds and then run
    /// on more (a two-pass grid: seed 1), so that differences can be given without them
    /// (docs/evaluation.md §2); empty for a rule run at one η0 or at every η0 on every seed.
    pub fn selection_seeds(&self) -> Vec<u64> {
        let Some(chosen) = self.chosen() else {
            return Vec::new();
        };
        let planned = |g: &LrGroup| -> Vec<u64> {
            g.runs
                .iter()
                .map(|r| r.seed)
                .chain(g.missing.iter().copied())
                .collect()
        };
        let all = planned(chosen);
        let mut others: Vec<u64> = self
            .lrs
            .iter()
            .filter(|g| !std::ptr::eq(*g, chosen))
            .flat_map(planned)
            .collect();
        others.sort();
        others.dedup();
        let fewer = others.len() < all.len() && others.iter().all(|s| all.contains(s));
        if fewer {
            others
        } else {
            Vec::new()
        }
    }

    /// The mean final validation score at the selected η0 (higher is better), over
    /// `seeds` when given.
    pub(super) fn selected_val(&self, kind: Kind, seeds: Option<&[u64]>) -> Option<f64> {
        let scores: Vec<f64> = self
            .chosen()?
            .runs
            .iter()
            .filter(|r| seeds.is_none_or(|s| s.contains(&r.seed)))
            .filter_map(|r| r.score(kind, SelectedOn::Validation))
            .collect();
        estimate(&scores).map(|e| e.mean)
    }

    /// The directories of the finished runs without a validation split (a diverged one
    /// stands in at chance).
    pub fn runs_without_val(&self, kind: Kind) -> Vec<&Path> {
        (self.lrs.iter().flat_map(|g| &g.runs))
            .filter(|r| r.diverged.is_none() && r.final_val(kind).is_none())
            .map(|r| r.dir.as_path())
            .collect()
    }

    /// The seeds planned at the selected η0: finished or not.
    pub fn chosen_seeds(&self) -> Vec<u64> {
        let Some(g) = self.chosen() else {
            return Vec::new();
        };
        let mut seeds: Vec<u64> = g
            .runs
            .iter()
            .map(|r| r.seed)
            .chain(g.missing.clone())
            .collect();
        seeds.sort_unstable();
        seeds.dedup();
        seeds
    }

    /// Whether the selected η0 is the smallest or the largest of those with a run: the
    /// best may lie beyond the grid (docs/evaluation.md §2 extends it then).
    pub fn at_grid_edge(&self) -> Option<&'static str> {
        let chosen = self.chosen()?;
        let scored: Vec<f64> = (self.lrs.iter())
            .filter(|g| !g.runs.is_empty())
            .map(|g| g.lr)
            .collect();
        if scored.len() < 2 {
            None
        } else if scored.iter().all(|&lr| lr >= chosen.lr) {
            Some("smallest")
        } else if scored.iter().all(|&lr| lr <= chosen.lr) {
            Some("largest")
        } else {
            None
        }
    }
}

/// Final test of `runs` minus `other`'s, seed by seed, over the seeds both have that `keep`
/// accepts; None when there is none.
pub(crate) fn paired(
    runs: &[Run],
    other: &[Run],
    kind: Kind,
    keep: &dyn Fn(u64) -> bool,
) -> Option<Estimate> {
    let diffs: Vec<f64> = runs
        .iter()
        .filter(|r| keep(r.seed))
        .filter_map(|r| {
            let o = other.iter().find(|o| o.seed == r.seed)?;
            Some(r.final_test(kind)? - o.final_test(kind)?)
        })
        .collect();
    estimate(&diffs)
}
