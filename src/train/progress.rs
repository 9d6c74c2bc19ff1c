//! Progress on the terminal: a bar with the epoch, the step, the smoothed loss, η, images
//! per second and the time left; off a terminal (a log file, CI) a plain line every 30 s
//! and one per epoch. `--quiet` says nothing but the end; `--verbose` adds a line per step.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How much a run says while it trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Off a terminal: the time between two progress lines.
const LINE_EVERY: Duration = Duration::from_secs(30);
/// The weight of the past in the smoothed loss: about the last 50 steps.
const SMOOTHING: f64 = 0.98;

/// A run's progress: where it is, and the loss smoothed over recent steps.
pub(super) struct Progress {
    bar: Option<ProgressBar>,
    verbosity: Verbosity,
    total: usize,
    epochs: usize,
    /// Steps this process started at, and when: the time left is estimated from its pace.
    first: usize,
    started: Instant,
    last_line: Instant,
    /// The bias-corrected exponential moving average of the step losses, and its weight.
    smoothed: f64,
    weight: f64,
}

/// Seconds as `1h02m`, `4m05s` or `12s`.
fn duration_text(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

impl Progress {
    /// Progress of a run of `total` steps over `epochs` epochs, `done` of them already.
    pub(super) fn new(total: usize, epochs: usize, done: usize, verbosity: Verbosity) -> Progress {
        let terminal = std::io::stderr().is_terminal() && verbosity != Verbosity::Quiet;
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(total as u64).with_position(done as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} {bar:25} {pos}/{len} steps  {msg}  {elapsed} elapsed, {eta} left",
                )
                .expect("valid template"),
            );
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            verbosity,
            total,
            epochs,
            first: done,
            started: now,
            last_line: now,
            smoothed: 0.0,
            weight: 0.0,
        }
    }

    /// The estimated time to the run's end from this process's pace, once it has one.
    fn time_left(&self, step: usize) -> Option<f64> {
        let done = step.checked_sub(self.first).filter(|&d| d > 0)?;
        let per_step = self.started.elapsed().as_secs_f64() / done as f64;
        Some(per_step * self.total.saturating_sub(step) as f64)
    }

    pub(super) fn step(
        &mut self,
        step: usize,
        epoch: usize,
        loss: f64,
        lr: f64,
        images_per_s: f64,
    ) {
        if loss.is_finite() {
            self.smoothed = SMOOTHING * self.smoothed + (1.0 - SMOOTHING) * loss;
            self.weight = SMOOTHING * self.weight + (1.0 - SMOOTHING);
        }
        let due = self.bar.is_none() && self.last_line.elapsed() >= LINE_EVERY;
        let say = match self.verbosity {
            Verbosity::Quiet => false,
            Verbosity::Normal => due,
            Verbosity::Verbose => true,
        };
        // Off a terminal most steps say nothing: build no text for them.
        if self.bar.is_none() && !say {
            return;
        }
        let smoothed = self.smoothed / self.weight.max(f64::MIN_POSITIVE);
        let status = format!("loss {smoothed:.4}  η {lr:.3e}  {images_per_s:.0} img/s");
        let epoch_text = format!("epoch {}/{}", epoch + 1, self.epochs);
        if let Some(bar) = &self.bar {
            bar.set_prefix(epoch_text.clone());
            bar.set_position(step as u64);
            bar.set_message(status.clone());
        }
        if say {
            self.last_line = Instant::now();
            let left = self
                .time_left(step)
                .map_or(String::new(), |s| format!(", {} left", duration_text(s)));
            self.println(format!(
                "{epoch_text} step {step}/{} {status} (loss smoothed over ~50 steps){left}",
                self.total
            ));
        }
    }

    /// The epoch's line: training loss, then the validation split's loss and accuracy (what
    /// a choice should read, so it comes first) when --val-split evaluates one, then the
    /// test set's.
    pub(super) fn epoch_line(&self, epoch: usize, train_loss: f64, held: &[Scored], lr: f64) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let held: String = held.iter().map(Scored::text).collect();
        self.println(format!(
            "epoch {}/{} train loss {train_loss:.5}{held} lr {lr:.5e}",
            epoch + 1,
            self.epochs
        ));
    }

    fn println(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One held-out split's numbers for [`Progress::epoch_line`]: its name ("val", "test"),
/// its loss, and its accuracy for a classification run.
pub(super) struct Scored {
    pub name: &'static str,
    pub loss: f64,
    pub acc: Option<f64>,
}

impl Scored {
    fn text(&self) -> String {
        let acc = self.acc.map_or(String::new(), |a| {
            format!(" {} acc {:.2}%", self.name, 100.0 * a)
        });
        format!(" {} loss {:.5}{acc}", self.name, self.loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(duration_text(4.4), "4s");
        assert_eq!(duration_text(245.0), "4m05s");
        assert_eq!(duration_text(3720.0), "1h02m");
    }

    #[test]
    fn the_smoothed_loss_starts_at_the_first_loss_and_skips_non_finite_ones() {
        let mut p = Progress::new(10, 1, 0, Verbosity::Quiet);
        p.step(1, 0, 2.0, 0.1, 1.0);
        assert!((p.smoothed / p.weight - 2.0).abs() < 1e-12);
        p.step(2, 0, f64::NAN, 0.1, 1.0);
        p.step(3, 0, 1.0, 0.1, 1.0);
        let s = p.smoothed / p.weight;
        assert!(s > 1.0 && s < 2.0, "{s}");
    }
}
