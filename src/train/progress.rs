//! Progress on the terminal: a bar on a terminal, plain lines otherwise, and a line per epoch.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on a terminal, plain lines otherwise.
pub(super) struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
}

impl Progress {
    pub(super) fn new(total: usize, done: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} steps {elapsed_precise} {msg}")
                    .expect("valid template"),
            );
            bar.set_position(done as u64);
            bar
        });
        Progress { bar, total }
    }

    pub(super) fn step(&self, step: usize, epoch: usize, loss: f64, lr: f64, images_per_s: f64) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(step as u64);
                bar.set_message(format!(
                    "epoch {} loss {loss:.4} η {lr:.4e} {images_per_s:.0} img/s",
                    epoch + 1
                ));
            }
            None => {
                let every = (self.total / 20).max(1);
                if step.is_multiple_of(every) {
                    eprintln!(
                        "step {step}/{} epoch {} loss {loss:.5} lr {lr:.5e} {images_per_s:.0} images/s",
                        self.total,
                        epoch + 1
                    );
                }
            }
        }
    }

    pub(super) fn epoch_line(
        &self,
        epoch: usize,
        train_loss: f64,
        test: Option<(f64, Option<f64>)>,
        lr: f64,
    ) {
        let test = test.map_or(String::new(), |(l, a)| {
            let acc = a.map_or(String::new(), |a| format!(" test acc {:.2}%", 100.0 * a));
            format!(" test loss {l:.5}{acc}")
        });
        let line = format!(
            "epoch {} train loss {train_loss:.5}{test} lr {lr:.5e}",
            epoch + 1
        );
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
