//! The comparison as text: a Markdown report (accuracies in percent) and CSV tables
//! (fractions, as the run files store them; an interval as its half-width, empty for one
//! seed).

use std::fmt::Write;
use std::path::PathBuf;

use super::stats::Estimate;
use super::{Kind, Row, SelectedOn, Task};

/// How the report begins: `compare` knows its own folder by it.
pub(crate) const REPORT_TITLE: &str = "# Sweep comparison: ";

/// The report's head (each root with its sweep's jobs), then each task's section.
pub(crate) fn report(roots: &[(PathBuf, usize)], sections: &[String]) -> String {
    let names: Vec<String> = roots.iter().map(|(r, _)| r.display().to_string()).collect();
    let mut text = format!("{REPORT_TITLE}{}\n\n", names.join(", "));
    let from: Vec<String> = roots
        .iter()
        .map(|(root, jobs)| {
            format!(
                "`{}` (its last run had {} running at once)",
                root.join(crate::sweep::MANIFEST).display(),
                crate::words::counted(*jobs, "cell")
            )
        })
        .collect();
    let _ = writeln!(
        text,
        "Made by `etaprobe compare` {} from {}. Every interval is a mean ± 95% confidence \
         interval (95% CI) over seeds from the t-distribution: half-width t(0.975, n−1)·s/√n with s \
         the standard deviation of the n seeds (t = 12.71 for 2 seeds, 4.30 for 3, 2.78 for \
         5); one seed has no interval. Paired differences are taken seed by seed, on the \
         seeds both rules finished. Seconds compare within one sweep only.{}\n",
        env!("CARGO_PKG_VERSION"),
        from.join(", "),
        match sections.iter().any(|s| marked(s)) {
            true => format!(
                " {TWO_SEEDS} marks an interval over two values only (two seeds, or two runs \
                 where the others diverged and left none): for the same spread it is about \
                 seven times as wide as over five."
            ),
            false => String::new(),
        },
    );
    for s in sections {
        text.push_str(s);
        text.push('\n');
    }
    text
}

/// Names and units of the task's metric.
struct Metric {
    /// CSV column stem: "acc" or "loss".
    stem: &'static str,
    /// Markdown: "acc (%)" or "loss".
    shown: &'static str,
    kind: Kind,
}

fn metric(kind: Kind) -> Metric {
    match kind {
        Kind::Classification => Metric {
            stem: "acc",
            shown: "acc (%)",
            kind,
        },
        Kind::Regression => Metric {
            stem: "loss",
            shown: "loss",
            kind,
        },
    }
}

impl Metric {
    fn value(&self, x: f64) -> String {
        match self.kind {
            Kind::Classification => format!("{:.2}", 100.0 * x),
            Kind::Regression => significant(x, 4),
        }
    }

    fn estimate(&self, e: &Option<Estimate>) -> String {
        shown(e, |x| self.value(x))
    }

    /// A difference: points of accuracy, or loss.
    fn difference(&self, e: &Option<Estimate>) -> String {
        shown(e, |x| match self.kind {
            Kind::Classification => format!("{:+.2}", 100.0 * x),
            Kind::Regression => {
                let s = significant(x, 4);
                if x >= 0.0 {
                    format!("+{s}")
                } else {
                    s
                }
            }
        })
    }
}

/// `mean ± half-width` (marked [`TWO_SEEDS`] over two seeds), the mean alone for one
/// seed, "—" for none.
fn shown(e: &Option<Estimate>, f: impl Fn(f64) -> String) -> String {
    match e {
        None => "—".into(),
        Some(e) => match e.half_width {
            Some(h) => format!(
                "{} ± {}{}",
                f(e.mean),
                f(h).trim_start_matches('+'),
                two_seeds_mark(e)
            ),
            None => f(e.mean),
        },
    }
}

/// The mark of an interval over two seeds (docs/evaluation.md §7): with t = 12.71 it is
/// about seven times as wide as five seeds' for the same spread.
pub(crate) const TWO_SEEDS: char = '†';

/// Whether `text` holds an interval [`TWO_SEEDS`] marks: the mark right after a number or
/// a bracket (a rule's or a task's name may hold the character too).
fn marked(text: &str) -> bool {
    text.match_indices(TWO_SEEDS)
        .any(|(i, _)| text[..i].ends_with(|c: char| c.is_ascii_digit() || c == ']'))
}

/// [`TWO_SEEDS`] after an interval over two seeds, nothing otherwise.
pub(crate) fn two_seeds_mark(e: &Estimate) -> &'static str {
    match (e.n, e.half_width) {
        (2, Some(_)) => "†",
        _ => "",
    }
}

/// `x` with `digits` significant digits, without an exponent for everyday magnitudes.
fn significant(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{:.*e}", (digits - 1) as usize, x);
    }
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

fn lr_text(lr: f64) -> String {
    crate::sweep::spec::number_text(lr)
}

/// What a task's rows are measured against.
pub(crate) struct Against<'a> {
    /// The reference rule of the paired differences.
    pub reference: Option<&'a str>,
    /// The judged rule, when it is not the reference: a second paired column.
    pub judged: Option<&'a str>,
    /// The accuracy (or loss) whose first crossing is timed.
    pub target: Option<f64>,
    /// Whether `target` is the default (the reference's mean final validation − 1 point).
    pub default_target: bool,
}

/// `k` runs of `seeds`, with the diverged and missing ones named.
fn seeds_text(seeds: usize, diverged: usize, missing: usize) -> String {
    let mut notes = Vec::new();
    if diverged > 0 {
        notes.push(format!("{diverged} diverged"));
    }
    if missing > 0 {
        notes.push(format!("{missing} missing"));
    }
    match notes.is_empty() {
        true => seeds.to_string(),
        false => format!("{seeds} ({})", notes.join(", ")),
    }
}

/// Decisions other than `keep`, e.g. "blow-up 2, plateau 1"; "—" for none.
fn decisions_text(decisions: &std::collections::BTreeMap<String, usize>) -> String {
    let shown: Vec<String> = decisions
        .iter()
        .filter(|(d, _)| d.as_str() != "keep")
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    match shown.is_empty() {
        true => "—".into(),
        false => shown.join(", "),
    }
}

/// A paired difference with its number of seeds.
fn paired_text(m: &Metric, e: &Option<Estimate>) -> String {
    match e.map_or(0, |p| p.n) {
        0 => "—".into(),
        n => format!("{} (n={n})", m.difference(e)),
    }
}

/// A task's Markdown section: the main table, what each rule ran, `extra` (the claims, the
/// ablation), every η0, the cells counted at chance or left out, the figures.
pub(crate) fn markdown(
    task: &Task,
    against: &Against,
    rows: &[Row],
    extra: Option<&str>,
    figures: &[String],
) -> String {
    let m = metric(task.kind);
    let mut s = format!("## {}\n\n", task.name);
    let finished = task.rules.iter().flat_map(|r| &r.lrs).map(|g| g.runs.len());
    if finished.sum::<usize>() == 0 {
        // Nothing to say of its kind or of a selection: no cell has a run to read.
        let _ = writeln!(
            s,
            "No cell of this task has a run to read yet (not run, or its folder was \
             removed): nothing was selected or compared."
        );
        list_cells(&mut s, "Not read", &task.left_out);
        return s;
    }
    lead(&mut s, task, against, &m);
    let target_text = against.target.map(|t| match task.kind {
        Kind::Classification => format!("{}%", m.value(t)),
        Kind::Regression => format!("loss {}", significant(t, 4)),
    });
    main_table(&mut s, against, rows, &m, target_text.as_deref());
    if let Some(t) = &target_text {
        target_note(&mut s, task, against, t);
    }
    let _ = writeln!(
        s,
        "\nWhat each rule ran: `train`'s options besides the task's, η0 and the seed:\n"
    );
    for rule in &task.rules {
        let _ = writeln!(s, "- `{}`: {}", rule.rule, rule_options(rule));
    }
    if let Some(c) = extra {
        s.push_str(c);
    }
    every_lr_table(&mut s, task, &m);
    left_out_lists(&mut s, task);
    if !figures.is_empty() {
        let _ = writeln!(
            s,
            "\nMean curves with their 95% bands (each rule at its selected η0; against time: \
             the mean seconds at each epoch's end), and the claims' paired differences by \
             η0 when judged:\n"
        );
        for name in figures {
            let _ = writeln!(s, "![{name}]({name})");
        }
    }
    s
}

/// The paragraph above the main table: the task's kind, how each rule's η0 was selected,
/// what "val-stopped" and Δ mean.
fn lead(s: &mut String, task: &Task, against: &Against, m: &Metric) {
    let _ = writeln!(
        s,
        "{}; {}. Val-stopped: the test {} at the epoch of best validation \
         (reported, never judged).{}\n",
        match task.kind {
            Kind::Classification => "Classification",
            Kind::Regression => "Regression (test loss: lower is better)",
        },
        selection_text(task, m),
        m.stem.replace("acc", "accuracy"),
        match against.reference {
            Some(r) => format!(
                " Δ: final test {} minus `{r}`'s{} on the same seed{}; \"unseen\": without the \
                 seeds that selected the rule's or the reference's η0 on a one-seed grid.",
                m.stem.replace("acc", "accuracy"),
                (against.judged).map_or(String::new(), |j| format!(" (or `{j}`'s)")),
                match task.kind {
                    Kind::Classification => ", in points",
                    Kind::Regression => "",
                }
            ),
            None => String::new(),
        }
    );
}

/// How each rule's η0 was selected: on validation, or on the training loss where runs
/// have no validation split (all of them, or the rules named).
fn selection_text(task: &Task, m: &Metric) -> String {
    // The rules that chose among several η0 with a run, and those of them that chose on
    // the training loss (some run without a validation split).
    let choosing: Vec<&super::RuleRuns> = (task.rules.iter())
        .filter(|r| r.lrs.iter().filter(|g| !g.runs.is_empty()).count() > 1)
        .collect();
    let on_loss: Vec<&super::RuleRuns> = (choosing.iter().copied())
        .filter(|r| r.selected_on == SelectedOn::TrainLoss)
        .collect();
    let all_on_loss = match choosing.is_empty() {
        true => !task.timed_on_val,
        false => on_loss.len() == choosing.len(),
    };
    let mut selection = match all_on_loss {
        false => format!(
            "each rule at the η0 of its grid with the best mean final validation {} over the \
             seeds every η0 of the rule has a result for{} (a grid run on seed 1, its choice \
             then on the others, keeps its seed-1 choice; of equals, the smallest η0; the \
             test set chose nothing)",
            m.stem.replace("acc", "accuracy"),
            match task.kind {
                Kind::Classification => ", a diverged run at chance",
                Kind::Regression => ", a diverged run the worst",
            }
        ),
        true => "each rule at the η0 of its grid with the lowest mean final \
             training loss: these runs have no validation split (`--val-split`), and the test \
             set must not choose"
            .to_string(),
    };
    if !on_loss.is_empty() && !all_on_loss {
        let names: Vec<String> = on_loss.iter().map(|r| format!("`{}`", r.rule)).collect();
        let runs: Vec<String> = (on_loss.iter())
            .flat_map(|r| r.runs_without_val(task.kind))
            .map(|d| format!("`{}`", d.display()))
            .collect();
        const SHOWN: usize = 5;
        let more = match runs.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        let _ = write!(
            selection,
            "; except {}, on the lowest mean final training loss: {}{more} {} no validation \
             split (`--val-split`), and the test set must not choose",
            names.join(", "),
            runs[..runs.len().min(SHOWN)].join(", "),
            if runs.len() == 1 { "has" } else { "have" }
        );
    }
    selection
}

/// The main table: each rule at its selected η0, with the paired columns against the
/// reference and the judged rule, and the time to `target` when one is set.
fn main_table(s: &mut String, against: &Against, rows: &[Row], m: &Metric, target: Option<&str>) {
    let Against {
        reference, judged, ..
    } = *against;
    let unseen = rows.iter().any(|r| r.paired_unseen.is_some());
    let mut header = vec![
        "rule".to_string(),
        "η0".into(),
        "seeds".into(),
        format!("final test {}", m.shown),
        format!("val-stopped test {}", m.shown),
        format!("final val {}", m.shown),
    ];
    if let Some(r) = reference {
        header.push(format!("Δ vs {r}"));
        if unseen {
            header.push(format!("Δ vs {r}, unseen"));
        }
    }
    if let Some(j) = judged {
        header.push(format!("Δ vs {j}"));
    }
    if let Some(t) = target {
        header.push(format!("steps to {t}"));
        header.push(format!("seconds to {t}"));
        header.push("reached".into());
    }
    header.push("s/step".into());
    let _ = writeln!(s, "| {} |", header.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let mut cells = vec![
            format!("`{}`", row.rule),
            lr_cell(row),
            seeds_text(row.seeds, row.diverged, row.missing),
            m.estimate(&row.final_test),
            m.estimate(&row.val_stopped_test),
            m.estimate(&row.final_val),
        ];
        if let Some(r) = reference {
            let is_reference = row.rule == r;
            cells.push(match is_reference {
                true => "(reference)".into(),
                false => paired_text(m, &row.paired),
            });
            if unseen {
                cells.push(paired_text(m, &row.paired_unseen));
            }
        }
        if let Some(j) = judged {
            cells.push(match row.rule == j {
                true => "(judged)".into(),
                false => paired_text(m, &row.paired_judged),
            });
        }
        if target.is_some() {
            cells.push(
                row.steps_to_target
                    .map_or("—".into(), |x| format!("{x:.0}")),
            );
            cells.push(
                row.seconds_to_target
                    .map_or("—".into(), |x| significant(x, 3)),
            );
            cells.push(format!("{} of {}", row.reached.0, row.reached.1));
        }
        cells.push(shown(&row.seconds_per_step, |x| significant(x, 3)));
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
}

/// A row's η0: the selected one, its grid, the η0 no run finished at, and whether the
/// choice lies at the grid's edge.
fn lr_cell(row: &Row) -> String {
    let texts = |lrs: &[f64]| {
        lrs.iter()
            .map(|&x| lr_text(x))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (row.lr, row.lr_grid.len()) {
        (Some(lr), 1) => lr_text(lr),
        (Some(lr), _) => format!(
            "{} (of {}{}{})",
            lr_text(lr),
            texts(&row.lr_grid),
            match row.lr_unscored.as_slice() {
                [] => String::new(),
                none => format!("; no run finished at {}", texts(none)),
            },
            row.at_grid_edge
                .map_or(String::new(), |edge| format!("; the {edge} of its grid")),
        ),
        (None, _) => "—".into(),
    }
}

/// What "steps and seconds to `target`" mean, under the main table.
fn target_note(s: &mut String, task: &Task, against: &Against, target: &str) {
    let _ = writeln!(
        s,
        "\nSteps and seconds to {target}{}: medians over the seeds, a run that never reached \
         it counting as never (— when half of them or more did not), at the end of the \
         first epoch where the {} reaches it.",
        match (against.default_target, against.reference) {
            (true, Some(r)) => format!(" (`{r}`'s mean final validation accuracy − 1 point)"),
            _ => String::new(),
        },
        if !task.timed_on_val {
            "test set (no validation split)"
        } else if task
            .rules
            .iter()
            .any(|r| !r.runs_without_val(task.kind).is_empty())
        {
            "validation split (of the runs that have one; the others have no time)"
        } else {
            "validation split"
        }
    );
}

/// The table of every η0 of every rule, its selected one marked, with the decisions the
/// rule took.
fn every_lr_table(s: &mut String, task: &Task, m: &Metric) {
    let _ = writeln!(s, "\n### Every η0\n");
    let _ = writeln!(
        s,
        "| rule | η0 | seeds | final val {0} | final train loss | final test {0} | \
         val-stopped test {0} | decisions (all seeds, but keep) |",
        m.shown
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for rule in &task.rules {
        for (i, g) in rule.lrs.iter().enumerate() {
            let v = |f: &dyn Fn(&super::Run) -> Option<f64>| {
                let values: Vec<f64> = g.runs.iter().filter_map(f).collect();
                super::stats::estimate(&values)
            };
            let mark = if rule.selected == Some(i) && rule.lrs.len() > 1 {
                " (selected)"
            } else {
                ""
            };
            let diverged = g.runs.iter().filter(|r| r.diverged.is_some()).count();
            let mut decisions = std::collections::BTreeMap::new();
            for (d, n) in g.runs.iter().flat_map(|r| &r.decisions) {
                *decisions.entry(d.clone()).or_insert(0) += n;
            }
            let _ = writeln!(
                s,
                "| `{}` | {}{mark} | {} | {} | {} | {} | {} | {} |",
                rule.rule,
                lr_text(g.lr),
                seeds_text(g.runs.len(), diverged, g.missing.len()),
                m.estimate(&v(&|r| r.final_val(task.kind))),
                shown(&v(&|r| r.last().map(|e| e.train_loss)), |x| significant(
                    x, 4
                )),
                m.estimate(&v(&|r| r.final_test(task.kind))),
                m.estimate(&v(&|r| r.val_stopped_test(task.kind))),
                decisions_text(&decisions),
            );
        }
    }
}

/// The cells counted at chance, those left out of every mean, and the runs whose
/// decisions could not be read.
fn left_out_lists(s: &mut String, task: &Task) {
    list_cells(
        s,
        "Diverged, counted at chance in every mean and drawn in no curve",
        &task.at_chance,
    );
    list_cells(s, "Left out of every mean", &task.left_out);
    let unreadable: Vec<(std::path::PathBuf, String)> = (task.rules.iter())
        .flat_map(|r| r.lrs.iter().flat_map(|g| &g.runs))
        .filter_map(|r| Some((r.dir.clone(), r.decisions_unreadable.clone()?)))
        .collect();
    list_cells(
        s,
        "Decision counts unknown (`rule.csv` unreadable; the runs are in every mean, their \
         decisions in no count)",
        &unreadable,
    );
}

/// A CSV table as text, written by the csv crate: a cell holding a comma, a quote or a
/// line break (an option value such as `--lr-milestones '5, 8'`) is quoted; lines end in
/// `\n`.
pub(crate) fn csv_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Into memory, with as many cells in every row as in the header (each writer's test
    // reads its table back): neither can fail.
    for record in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        w.write_record(record)
            .expect("every row has the header's columns");
    }
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the cells are UTF-8")
}

/// Column names, comma-separated, with the task's metric (`acc` or `mse`) for `{x}`.
pub(crate) fn columns(names: &str, x: &str) -> Vec<String> {
    names.split(',').map(|n| n.replace("{x}", x)).collect()
}

/// Two CSV cells of an estimate: mean and half-width (empty when there is none).
fn csv_pair(e: &Option<Estimate>) -> [String; 2] {
    match e {
        None => Default::default(),
        Some(e) => [
            e.mean.to_string(),
            e.half_width.map(|h| h.to_string()).unwrap_or_default(),
        ],
    }
}

/// `TASK.csv`: the main table.
pub(crate) fn main_csv(
    task: &Task,
    rows: &[Row],
    reference: Option<&str>,
    judged: Option<&str>,
    target: Option<f64>,
) -> String {
    let header = columns(
        "rule,schedule,train_options,lr,lr_grid,lr_unscored,selected_on,at_grid_edge,seeds,missing,\
         diverged,\
         final_test_{x},final_test_{x}_ci,val_stopped_test_{x},val_stopped_test_{x}_ci,\
         final_val_{x},final_val_{x}_ci,reference,paired_diff,paired_diff_ci,paired_n,\
         paired_unseen_diff,paired_unseen_diff_ci,paired_unseen_n,judged,judged_diff,\
         judged_diff_ci,judged_n,target,steps_to_target_median,seconds_to_target_median,reached,timed,\
         seconds_per_step,seconds_per_step_ci,decisions",
        metric(task.kind).stem,
    );
    let on = |rule: &str| match task.rules.iter().find(|r| r.rule == rule) {
        Some(r) if r.selected_on == SelectedOn::TrainLoss => "train_loss".into(),
        _ => format!("val_{}", metric(task.kind).stem),
    };
    let median = |m: Option<f64>| m.map(|v| v.to_string()).unwrap_or_default();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let grid: Vec<String> = row.lr_grid.iter().map(|&l| lr_text(l)).collect();
            let decisions: Vec<String> = row
                .decisions
                .iter()
                .map(|(d, n)| format!("{d}={n}"))
                .collect();
            let options = task
                .rules
                .iter()
                .find(|r| r.rule == row.rule)
                .map(|r| command_lines(r).join("; "))
                .unwrap_or_default();
            let mut cells = vec![
                row.rule.clone(),
                row.schedule.clone(),
                options,
                row.lr.map(lr_text).unwrap_or_default(),
                grid.join(" "),
                (row.lr_unscored.iter())
                    .map(|&l| lr_text(l))
                    .collect::<Vec<_>>()
                    .join(" "),
                if row.lr_grid.len() > 1 {
                    on(&row.rule)
                } else {
                    String::new()
                },
                row.at_grid_edge.unwrap_or_default().to_string(),
                row.seeds.to_string(),
                row.missing.to_string(),
                row.diverged.to_string(),
            ];
            cells.extend(csv_pair(&row.final_test));
            cells.extend(csv_pair(&row.val_stopped_test));
            cells.extend(csv_pair(&row.final_val));
            cells.push(reference.unwrap_or_default().into());
            cells.extend(csv_pair(&row.paired));
            cells.push(row.paired.map_or(0, |p| p.n).to_string());
            cells.extend(csv_pair(&row.paired_unseen));
            cells.push(row.paired_unseen.map_or(0, |p| p.n).to_string());
            cells.push(judged.unwrap_or_default().into());
            cells.extend(csv_pair(&row.paired_judged));
            cells.push(row.paired_judged.map_or(0, |p| p.n).to_string());
            cells.push(target.map(|t| t.to_string()).unwrap_or_default());
            cells.push(median(row.steps_to_target));
            cells.push(median(row.seconds_to_target));
            cells.push(row.reached.0.to_string());
            cells.push(row.reached.1.to_string());
            cells.extend(csv_pair(&row.seconds_per_step));
            cells.push(decisions.join(" "));
            cells
        })
        .collect();
    csv_table(&header, &table)
}

/// Each distinct set of `train` options a rule's cells ran, as a command line writes it
/// (`--schedule basic --lr-decay cosine`), in the order the cells gave them.
fn command_lines(rule: &super::RuleRuns) -> Vec<String> {
    let line = |options: &std::collections::BTreeMap<String, String>| {
        let mut words = vec![format!("--schedule {}", rule.schedule)];
        for (key, value) in options {
            words.push(match value.as_str() {
                "" => format!("--{key}"),
                v if v.contains(' ') => format!("--{key} '{v}'"),
                v => format!("--{key} {v}"),
            });
        }
        words.join(" ")
    };
    if rule.options.is_empty() {
        return vec![line(&Default::default())];
    }
    rule.options.iter().map(line).collect()
}

/// What a rule's cells ran, as Markdown: each distinct set of `train` options as a
/// command line writes it (`--schedule basic --lr-decay cosine`), in code, the sets joined
/// by "; some cells: " when cells of one rule directory ran different ones.
fn rule_options(rule: &super::RuleRuns) -> String {
    command_lines(rule)
        .iter()
        .map(|l| code(l))
        .collect::<Vec<_>>()
        .join("; some cells: ")
}

/// `text` as a Markdown code span: delimited by more backticks than it holds in a row.
fn code(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let ticks = "`".repeat(longest + 1);
    let pad = if longest > 0 { " " } else { "" };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// A titled list of cells, each with why, when there are any.
fn list_cells(s: &mut String, title: &str, cells: &[(std::path::PathBuf, String)]) {
    if cells.is_empty() {
        return;
    }
    let count = crate::words::counted(cells.len(), "cell");
    let _ = writeln!(s, "\n{title} ({count}):\n");
    for (dir, why) in cells {
        let _ = writeln!(s, "- `{}`: {}", dir.display(), why.replace('\n', " "));
    }
}

/// `TASK-grid.csv`: every η0 of every rule.
pub(crate) fn grid_csv(task: &Task) -> String {
    let header = columns(
        "rule,schedule,train_options,lr,selected,seeds,missing,final_val_{x},final_val_{x}_ci,\
         final_train_loss,final_train_loss_ci,final_test_{x},final_test_{x}_ci,\
         val_stopped_test_{x},val_stopped_test_{x}_ci,diverged",
        metric(task.kind).stem,
    );
    let mut table = Vec::new();
    for rule in &task.rules {
        let options = command_lines(rule).join("; ");
        for (i, g) in rule.lrs.iter().enumerate() {
            let v = |f: &dyn Fn(&super::Run) -> Option<f64>| {
                let values: Vec<f64> = g.runs.iter().filter_map(f).collect();
                super::stats::estimate(&values)
            };
            let mut cells = vec![
                rule.rule.clone(),
                rule.schedule.clone(),
                options.clone(),
                lr_text(g.lr),
                u8::from(rule.selected == Some(i)).to_string(),
                g.runs.len().to_string(),
                g.missing.len().to_string(),
            ];
            cells.extend(csv_pair(&v(&|r| r.final_val(task.kind))));
            cells.extend(csv_pair(&v(&|r| r.last().map(|e| e.train_loss))));
            cells.extend(csv_pair(&v(&|r| r.final_test(task.kind))));
            cells.extend(csv_pair(&v(&|r| r.val_stopped_test(task.kind))));
            cells.push(
                g.runs
                    .iter()
                    .filter(|r| r.diverged.is_some())
                    .count()
                    .to_string(),
            );
            table.push(cells);
        }
    }
    csv_table(&header, &table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_options_read_as_its_command_line() {
        let rule = |sets: &[&[(&str, &str)]]| super::super::RuleRuns {
            rule: "r".into(),
            schedule: "basic".into(),
            options: sets
                .iter()
                .map(|set| {
                    set.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .collect(),
            lrs: Vec::new(),
            selected: None,
            selected_on: SelectedOn::Validation,
        };
        assert_eq!(rule_options(&rule(&[])), "`--schedule basic`");
        assert_eq!(rule_options(&rule(&[&[]])), "`--schedule basic`");
        assert_eq!(
            rule_options(&rule(&[&[("optimizer", "momentum"), ("nesterov", "")]])),
            "`--schedule basic --nesterov --optimizer momentum`"
        );
        // Cells of one rule directory that ran different options, one of them none.
        assert_eq!(
            rule_options(&rule(&[&[("alpha", "1e-5")], &[]])),
            "`--schedule basic --alpha 1e-5`; some cells: `--schedule basic`"
        );
        // A value with a space is quoted; one with a backtick gets a longer delimiter.
        assert_eq!(
            rule_options(&rule(&[&[("lr-milestones", "5, 8")]])),
            "`--schedule basic --lr-milestones '5, 8'`"
        );
        assert_eq!(code("a`b"), "`` a`b ``");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(significant(0.012346, 4), "0.01235");
        assert_eq!(significant(25.3, 4), "25.30");
        assert_eq!(significant(1234.7, 3), "1235");
        assert_eq!(significant(3e-7, 2), "3.0e-7");
        let e = Some(Estimate {
            n: 3,
            mean: 0.6,
            half_width: Some(0.2484),
        });
        assert_eq!(metric(Kind::Classification).estimate(&e), "60.00 ± 24.84");
        assert_eq!(
            metric(Kind::Classification).difference(&e),
            "+60.00 ± 24.84"
        );
        assert_eq!(csv_pair(&e), ["0.6", "0.2484"]);
        assert_eq!(csv_pair(&None), ["", ""]);
        // A cell with a comma or a quote is quoted, and the quote doubled.
        let header = ["a".to_string(), "b".to_string()];
        let row = vec![
            "--lr-milestones '5, 8'".to_string(),
            "say \"x\"".to_string(),
        ];
        assert_eq!(
            csv_table(&header, &[row]),
            "a,b\n\"--lr-milestones '5, 8'\",\"say \"\"x\"\"\"\n"
        );
    }

    #[test]
    fn two_seed_intervals_are_marked() {
        let two = Estimate {
            n: 2,
            mean: 0.6,
            half_width: Some(1.2706),
        };
        let m = metric(Kind::Classification);
        assert_eq!(m.estimate(&Some(two)), "60.00 ± 127.06†");
        assert_eq!(m.difference(&Some(two)), "+60.00 ± 127.06†");
        // Three seeds, one seed and a two-seed estimate without an interval are not.
        let three = Estimate { n: 3, ..two };
        assert_eq!(m.estimate(&Some(three)), "60.00 ± 127.06");
        let one = Estimate {
            n: 1,
            mean: 0.6,
            half_width: None,
        };
        assert_eq!(m.estimate(&Some(one)), "60.00");
        let head = |s: &str| report(&[(PathBuf::from("root"), 1)], &[s.to_string()]);
        assert!(head(&m.estimate(&Some(two))).contains("† marks an interval over two values only"));
        assert!(!head(&m.estimate(&Some(three))).contains("† marks"));
        // A name with the character is not a mark.
        assert!(!head("| `rule†` | 60.00 |").contains("† marks"));
        assert!(head("| `rule` | +1.00 [−2.00, +4.00]† (n=2) |").contains("† marks"));
    }
}
