//! Figures: a run's own (in its directory, DESIGN.md §5; see [`run_figures_with`]) and
//! `etaprobe plot RUN_DIR... --out DIR`, which compares runs ([`compare_runs`]).
//!
//! - Inputs are the run's `epochs.csv`, `steps.csv` (loss and η per step, optional) and
//!   `run.json` (model, data set and rule for titles and labels, optional), read with
//!   [`crate::rundir`].
//! - Figures are PNG or SVG ([`FigureFormat`]). Every figure is rendered in memory and only
//!   then written, atomically: a bad input produces an error and no figure at all, and a
//!   reader never sees half a file.
//! - Accuracy is stored as a fraction and drawn in percent.
//! - A run directory always gets the same figures, so that no stale one survives from an
//!   earlier run: one without accuracy (regression) or without `steps.csv` gets figures
//!   that say so. In a comparison, runs without accuracy are left out of the accuracy
//!   panels (the legend shows which runs are there).
//! - Per-step losses are drawn faint under a centred moving average whose width (about
//!   1/40 of the run) the legend gives.
//! - Losses and η go on a log axis when they are all positive and span more than two
//!   decades; non-finite values (a diverged run) are gaps in the line. An axis of whole
//!   numbers (epochs, steps) has whole-number ticks.
//! - Text uses DejaVu Sans compiled into the binary: no system font or fontconfig needed.

#![warn(missing_docs)]

pub(crate) mod chart;
mod labels;
mod plot;
mod run;
mod single;
mod ticks;
pub mod written;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use labels::run_label;
pub use plot::{compare_runs, Comparison};
pub use single::{run_figures, run_figures_with};

/// Train and test loss per epoch.
pub const LOSS_PNG: &str = "loss.png";
/// Train and test accuracy per epoch.
pub const ACCURACY_PNG: &str = "accuracy.png";
/// η per step (per epoch without `steps.csv`).
pub const LR_PNG: &str = "lr.png";
/// The training loss of each step.
pub const STEPS_PNG: &str = "loss-steps.png";
/// Loss and accuracy against seconds.
pub const WALL_CLOCK_PNG: &str = "wall-clock.png";
/// Every figure of a run (and of a comparison), in PNG.
pub const FIGURES_PNG: [&str; 5] = [LOSS_PNG, ACCURACY_PNG, LR_PNG, STEPS_PNG, WALL_CLOCK_PNG];

/// Pixel size of a one-panel figure (a run's own figures, and η in a comparison).
pub const FIGURE_SIZE: (u32, u32) = (1024, 720);
/// Pixel size of a two-panel figure (train | test in a comparison).
pub const WIDE_FIGURE_SIZE: (u32, u32) = (1800, 720);

/// The file format of figures.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FigureFormat {
    /// Bitmap, 1024×720 (1800×720 with two panels; wider where a long legend goes beside
    /// the axes).
    #[default]
    Png,
    /// Vector graphics of the same layout; text is left to the viewer's sans-serif font.
    Svg,
}

impl FigureFormat {
    /// `png_name` (one of the `*_PNG` names) in this format: `loss.png` -> `loss.svg`.
    pub fn file_name(self, png_name: &str) -> String {
        let stem = png_name.strip_suffix(".png").unwrap_or(png_name);
        match self {
            FigureFormat::Png => format!("{stem}.png"),
            FigureFormat::Svg => format!("{stem}.svg"),
        }
    }

    /// Removes from the run directory `dir` its figures in the other formats: a run resumed
    /// with another `--figure-format` would otherwise keep the earlier sitting's, which stop
    /// where it stopped. Best effort: what cannot be removed stays.
    pub fn remove_others(self, dir: &Path) {
        use clap::ValueEnum;
        for other in FigureFormat::value_variants()
            .iter()
            .filter(|f| **f != self)
        {
            for png in FIGURES_PNG {
                let path = dir.join(other.file_name(png));
                if path.symlink_metadata().is_ok_and(|m| m.is_file()) {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
    }

    /// Whether `name` is one of a run's figures in any format (`loss.svg`).
    pub fn is_figure(name: &str) -> bool {
        use clap::ValueEnum;
        FigureFormat::value_variants()
            .iter()
            .any(|f| FIGURES_PNG.iter().any(|png| f.file_name(png) == name))
    }
}

/// A figure: its size, its title above the panels (`None`: the panel's own), its panels
/// side by side.
pub(crate) type Figure = ((u32, u32), Option<String>, Vec<chart::Panel>);

/// Each figure rendered as a `format` file: its file name (the PNG name given, in
/// `format`) and bytes.
pub(crate) fn render_figures(
    format: FigureFormat,
    figures: impl IntoIterator<Item = (&'static str, Figure)>,
) -> Result<Vec<(String, Vec<u8>)>> {
    figures
        .into_iter()
        .map(|(name, (size, title, panels))| {
            let bytes = chart::render(format, size, title.as_deref(), &panels)?;
            Ok((format.file_name(name), bytes))
        })
        .collect()
}

/// Writes the files named in `dir` as one set: each is written in full beside its place
/// before any is put there, so that a failure while writing (a full disk, a folder under a
/// file's name) leaves the folder's old files, not a mix of two reports.
pub(crate) fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    let staged = files
        .iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            let staged = crate::rundir::stage_with(&path, |w| w.write_all(bytes))
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok((path, staged))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut written = Vec::with_capacity(files.len());
    for (path, staged) in staged {
        staged
            .commit()
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_of_figures_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.png"), "old a").unwrap();
        // A folder where the second file goes: its write fails before any file is replaced.
        std::fs::create_dir(d.join("b.png")).unwrap();
        let files = [
            ("a.png".to_string(), b"new a".to_vec()),
            ("b.png".to_string(), b"new b".to_vec()),
        ];
        let e = write_all(d, &files).unwrap_err();
        assert!(format!("{e:#}").contains("b.png is a folder"), "{e:#}");
        assert_eq!(std::fs::read(d.join("a.png")).unwrap(), b"old a");
        let left: Vec<_> = std::fs::read_dir(d).unwrap().collect();
        assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
        std::fs::remove_dir(d.join("b.png")).unwrap();
        write_all(d, &files).unwrap();
        assert_eq!(std::fs::read(d.join("b.png")).unwrap(), b"new b");
        assert_eq!(std::fs::read(d.join("a.png")).unwrap(), b"new a");
    }
}
