//! Per-step logs whose first column is the step: `rule.csv` (what a rule decided) and
//! `evals.csv` (test-set evaluations every `--eval-every` steps).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Opens a per-step CSV log for appending. A run resumed at `first_step` keeps the lines of
/// the steps before it; a fresh run starts it anew.
pub fn open_step_log(path: &Path, header: &str, first_step: usize) -> Result<std::fs::File> {
    let kept: Vec<String> = if first_step > 1 {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .filter(|l| {
                l.split(',')
                    .next()
                    .and_then(|v| v.parse::<usize>().ok())
                    .is_some_and(|s| s < first_step)
            })
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    let mut f =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(f, "{header}")?;
    for line in kept {
        writeln!(f, "{line}")?;
    }
    Ok(f)
}
