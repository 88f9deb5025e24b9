//! Writing to stdout and stderr without panicking (finding R1).
//!
//! `println!` and `eprintln!` panic when the write fails: a closed pipe
//! (`payer-rules test | head -1`) or a full device gave exit 101 and a panic
//! message. Every line the commands print goes through [`outln!`], [`out!`]
//! and [`errln!`] instead, which follow one convention:
//!
//! - **stdout closed** (`EPIPE`): nothing more the command prints can be read,
//!   so the process ends at once, quietly, with status 0, as `| head` expects.
//! - **stdout failing otherwise** (`/dev/full`, a full disk): one line on
//!   stderr and exit status 2 at once; what was printed is incomplete.
//! - **stderr closed**: diagnostics and summaries are dropped from then on;
//!   the command runs to its end and exits with its own status (stdout and
//!   the status still tell the result).
//! - **stderr failing otherwise**: the same, but a run that would exit 0 exits
//!   2 (see [`finish`]), since a message it meant to give was lost.
//!
//! Commands that write stdout through a buffer of their own (`eval`) hand its
//! errors to [`stdout_failed`].

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

use crate::commands::{EXIT_OK, EXIT_USAGE};

/// stderr works (as far as anyone knows).
const ERR_OPEN: u8 = 0;
/// stderr was closed: further messages are dropped; the status is unchanged.
const ERR_CLOSED: u8 = 1;
/// stderr failed otherwise: further messages are dropped; a 0 becomes 2.
const ERR_FAILED: u8 = 2;

/// What became of stderr; a static because messages are written from
/// anywhere in the commands, and only ever get worse.
static STDERR: AtomicU8 = AtomicU8::new(ERR_OPEN);

/// Writes to stdout; ends the process when stdout is gone (see the module).
pub fn write_out(args: fmt::Arguments<'_>) {
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args) {
        stdout_failed(&e);
    }
}

/// Writes to stderr unless it already failed; a failure is remembered.
pub fn write_err(args: fmt::Arguments<'_>) {
    if STDERR.load(Ordering::Relaxed) != ERR_OPEN {
        return;
    }
    if let Err(e) = io::stderr().lock().write_fmt(args) {
        let state = if e.kind() == io::ErrorKind::BrokenPipe {
            ERR_CLOSED
        } else {
            ERR_FAILED
        };
        STDERR.fetch_max(state, Ordering::Relaxed);
    }
}

/// Ends the process after stdout failed: quietly with 0 for a closed pipe,
/// with a message and 2 otherwise.
pub fn stdout_failed(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(EXIT_OK));
    }
    write_err(format_args!("cannot write to standard output: {e}\n"));
    std::process::exit(i32::from(EXIT_USAGE));
}

/// The exit status of a command that returned `code`: stdout is flushed (a
/// failure ends the process as [`stdout_failed`] says), and a run that would
/// succeed fails with 2 when stderr could not be written.
pub fn finish(code: u8) -> u8 {
    if let Err(e) = io::stdout().lock().flush() {
        stdout_failed(&e);
    }
    if code == EXIT_OK && STDERR.load(Ordering::Relaxed) == ERR_FAILED {
        return EXIT_USAGE;
    }
    code
}

/// `print!` that never panics: see [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdio::write_out(format_args!($($arg)*))
    };
}

/// `println!` that never panics: see [`write_out`].
macro_rules! outln {
    () => {
        $crate::stdio::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdio::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics: see [`write_err`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::stdio::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};
