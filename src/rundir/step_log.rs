//! Per-step logs whose first column is the step: `rule.csv` (what a rule decided) and
//! `evals.csv` (test-set evaluations every `--eval-every` steps).

use std::path::Path;

use anyhow::{bail, Context, Result};

/// Opens a per-step CSV log for appending: a new file with `header` unless `resumed` and
/// the file exists (a resume has already cut it back with `kept_step_log`).
pub fn open_step_log(path: &Path, header: &str, resumed: bool) -> Result<std::fs::File> {
    use std::io::Write;
    if resumed && path.exists() {
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} for appending", path.display()));
    }
    let mut f =
        super::create_own(path).with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(f, "{header}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(f)
}

/// The text of a per-step log for a run resumed at `first_step`: its header and the lines of
/// the steps before it (later ones were written after the checkpoint). `None` when there is
/// no such file. A line whose step does not parse is an error naming it, except an
/// unterminated last line (a record a crash cut in the middle), which is dropped.
pub fn kept_step_log(path: &Path, first_step: usize) -> Result<Option<String>> {
    if !super::records::record_exists(path) {
        return Ok(None);
    }
    let text = super::records::read_text(path)?;
    let mut lines = text.split_inclusive('\n');
    let Some(header) = lines.next().filter(|h| h.ends_with('\n')) else {
        bail!("{}: no complete header line", path.display());
    };
    let mut kept = header.to_string();
    for (i, line) in lines.enumerate() {
        let torn = !line.ends_with('\n');
        let step = line.split(',').next().unwrap_or("").trim();
        match step.parse::<usize>() {
            Ok(step) if !torn => {
                if step < first_step {
                    kept.push_str(line);
                }
            }
            _ if torn => {}
            _ if line.trim().is_empty() => {}
            _ => bail!(
                "{} line {}: {step:?} is not a step number",
                path.display(),
                i + 2
            ),
        }
    }
    Ok(Some(kept))
}
