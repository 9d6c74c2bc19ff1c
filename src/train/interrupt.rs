//! Stopping a run on request (Ctrl-C, SIGTERM): the first request lets the current step
//! finish, then the run writes a checkpoint, its records and figures and stops with
//! [`Interrupted`]; a second request ends the process at once.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Whether a request is now honoured after a step, with a checkpoint ([`stop_at_steps`]);
/// before that a run stops before it writes anything.
static AT_STEPS: AtomicBool = AtomicBool::new(false);

/// The exit status of a run stopped on request: 128 + SIGINT, as shells report Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handler of Ctrl-C and SIGTERM for this process. Call it once, from the
/// program's `main` (a library user who handles signals calls [`request_stop`] instead).
pub fn install_handler() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopping now, without a checkpoint");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        match AT_STEPS.load(Ordering::SeqCst) {
            true => eprintln!(
                "\nstopping after this step: writing a checkpoint and the records (press \
                 Ctrl-C again to stop at once)"
            ),
            false => eprintln!(
                "\nstopping before the run starts: nothing is written (press Ctrl-C again to \
                 stop at once)"
            ),
        }
    })
    .map_err(|e| anyhow::anyhow!("cannot install the Ctrl-C handler: {e}"))
}

/// Asks a running training loop to stop after its current step, as Ctrl-C does.
pub fn request_stop() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// From now on a stop request is honoured after a step, with a checkpoint (the handler's
/// message says so): called when set-up no longer stops at once on a request, and by a
/// sweep, whose runs stop so, and a data-parallel job, whose ranks agree on a stop at a
/// step.
pub fn stop_at_steps() {
    AT_STEPS.store(true, Ordering::SeqCst);
}

/// Whether a stop was requested (Ctrl-C, SIGTERM, or [`request_stop`]).
pub fn stop_requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// A run stopped on request after `step` steps, its checkpoint written.
#[derive(Debug)]
pub struct Interrupted {
    /// Steps done, all recorded and in the checkpoint.
    pub step: usize,
    /// The checkpoint to resume from.
    pub checkpoint: PathBuf,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stopped on request after step {}; checkpoint {}",
            self.step,
            self.checkpoint.display()
        )
    }
}

impl std::error::Error for Interrupted {}

/// A run stopped on request before it started training (while its data loaded or its
/// adapter was set up): nothing was written.
#[derive(Debug)]
pub struct StoppedBeforeStart;

impl std::fmt::Display for StoppedBeforeStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stopped on request before the run started: nothing was written"
        )
    }
}

impl std::error::Error for StoppedBeforeStart {}

/// The exit status of a run that diverged: the training failed, which is not a usage error
/// (2) and not a stop on request (130).
pub const EXIT_DIVERGED: u8 = 1;

/// The exit status of a command that refused its input (options, files, data), which the
/// same command refuses again until the input is fixed; also that of any other failure that
/// is not a divergence or a stop on request (GPU memory, a full disk).
pub const EXIT_REFUSED: u8 = 2;

/// A run that stopped at a non-finite loss, probe or η (without `--on-nonfinite skip`); what
/// it measured up to the step before is kept.
#[derive(Debug)]
pub struct Diverged(pub String);

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Diverged {}
