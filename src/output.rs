//! A command's output on stdout. A reader that stops reading (`etaprobe compare ROOT | head`)
//! ends the process quietly, as other command-line tools do, instead of the panic of
//! `println!` on a closed pipe: whatever the command writes to files was written before.

use std::io::Write;

/// Writes `args` (and a newline) to stdout; a closed pipe exits with code 0, any other
/// write error (a full disk under a redirection) with code 2, as every other failure.
pub fn write(args: std::fmt::Arguments, newline: bool) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(args)
        .and_then(|()| {
            if newline {
                stdout.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: cannot write to the standard output: {e}");
            std::process::exit(2);
        }
    }
}

/// `print!` through [`write`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*), false)
    };
}

/// `println!` through [`write`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*), true)
    };
}
