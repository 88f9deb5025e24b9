//! A progress line for long inputs (`eval`, `impact`): when stderr is a
//! terminal and the claims come from regular files, whose size says how far
//! the run is, `\r{pct}% {n} claims` is written on stderr every quarter of a
//! second and the line is cleared at the end. Nothing is written otherwise
//! (stderr piped or redirected, claims on stdin, `eval -q`), so logs and the
//! tests' captured stderr never hold it.
//!
//! The percentage is of the input's bytes read so far, counted by
//! [`Counted`] where the file is read (possibly on a reader thread, hence the
//! atomic); claims are counted by the command, or by [`Lines`] from the
//! decisions `eval` writes (one per line, whichever path decided them).

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::stdio::write_err;

/// How often the line is redrawn (and how long a run goes before it shows).
pub const INTERVAL: Duration = Duration::from_millis(250);

/// Claims between two looks at the clock: reading it for every claim would
/// cost more than a progress line is worth.
const CLAIMS_PER_LOOK: u64 = 64;

/// A reader that adds the bytes it reads to a shared count.
pub struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// When the line is next due.
#[derive(Debug)]
pub struct Throttle {
    next: Instant,
    every: Duration,
}

impl Throttle {
    /// Due first `every` after `start`, then every `every`.
    pub fn new(start: Instant, every: Duration) -> Throttle {
        Throttle {
            next: start + every,
            every,
        }
    }

    /// True (once) when `now` has reached the next time; the time after is
    /// counted from `now`, so that a stalled run does not draw a burst.
    pub fn due(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + self.every;
        true
    }
}

/// The progress line: `read` of `total` bytes as a whole percentage (at
/// most 100: a file may grow while it is read) and the claims so far.
pub fn line(read: u64, total: u64, claims: u64) -> String {
    // In 128 bits: `read * 100` cannot overflow.
    let pct = (u128::from(read) * 100)
        .checked_div(u128::from(total))
        .unwrap_or(100)
        .min(100);
    format!("\r{pct}% {claims} claims")
}

/// The progress of one run.
pub struct Progress {
    total: u64,
    read: Arc<AtomicU64>,
    claims: u64,
    throttle: Throttle,
    /// Whether a line is on the terminal (and must be cleared).
    shown: bool,
}

impl Progress {
    /// A progress line for claims read from `paths`, when stderr is a
    /// terminal and every path is a regular file (`-` is stdin: no size);
    /// `None` otherwise, or when the files are empty.
    pub fn for_files<P: AsRef<Path>>(paths: &[P]) -> Option<Progress> {
        if !io::stderr().is_terminal() || paths.is_empty() {
            return None;
        }
        let mut total = 0u64;
        for path in paths {
            let path = path.as_ref();
            if path.as_os_str() == "-" {
                return None;
            }
            let meta = std::fs::metadata(path).ok()?;
            if !meta.is_file() {
                return None;
            }
            total = total.saturating_add(meta.len());
        }
        (total > 0).then(|| Progress {
            total,
            read: Arc::new(AtomicU64::new(0)),
            claims: 0,
            throttle: Throttle::new(Instant::now(), INTERVAL),
            shown: false,
        })
    }

    /// `file`, counting what is read of it towards the percentage.
    pub fn count(&self, file: File) -> Counted<File> {
        Counted {
            inner: file,
            read: Arc::clone(&self.read),
        }
    }

    /// `n` more claims done; redraws the line when it is due.
    pub fn add(&mut self, n: u64) {
        let before = self.claims;
        self.claims += n;
        // The clock is read once per CLAIMS_PER_LOOK claims.
        if before / CLAIMS_PER_LOOK == self.claims / CLAIMS_PER_LOOK {
            return;
        }
        if self.throttle.due(Instant::now()) {
            let read = self.read.load(Ordering::Relaxed);
            write_err(format_args!("{}", line(read, self.total, self.claims)));
            self.shown = true;
        }
    }

    /// Clears the line, if one was drawn, before anything else is written.
    pub fn finish(&mut self) {
        if std::mem::take(&mut self.shown) {
            // Carriage return, then erase to the end of the line (ANSI).
            write_err(format_args!("\r\x1b[K"));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A writer of decisions, one per line, that counts them as claims done.
pub struct Lines<W> {
    inner: W,
    progress: Option<Progress>,
}

impl<W> Lines<W> {
    /// `inner`, counting its lines into `progress` when there is one.
    pub fn new(inner: W, progress: Option<Progress>) -> Lines<W> {
        Lines { inner, progress }
    }

    /// Clears the progress line (see [`Progress::finish`]).
    pub fn finish(&mut self) {
        if let Some(p) = &mut self.progress {
            p.finish();
        }
    }
}

impl<W: Write> Write for Lines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(p) = &mut self.progress {
            let lines = buf.get(..n).unwrap_or_default();
            p.add(lines.iter().filter(|&&b| b == b'\n').count() as u64);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_a_whole_percentage_and_the_claims() {
        assert_eq!(line(0, 1000, 0), "\r0% 0 claims");
        assert_eq!(line(505, 1000, 12), "\r50% 12 claims");
        assert_eq!(line(1000, 1000, 600), "\r100% 600 claims");
        // A file that grew while read, and a size of nothing, stay at 100.
        assert_eq!(line(1500, 1000, 7), "\r100% 7 claims");
        assert_eq!(line(3, 0, 1), "\r100% 1 claims");
        assert_eq!(line(u64::MAX, u64::MAX, 1), "\r100% 1 claims");
    }

    #[test]
    fn the_throttle_waits_a_quarter_second_then_each_quarter() {
        let start = Instant::now();
        let ms = |n| start + Duration::from_millis(n);
        let mut t = Throttle::new(start, INTERVAL);
        assert!(!t.due(start));
        assert!(!t.due(ms(249)));
        assert!(t.due(ms(250)));
        assert!(!t.due(ms(251)));
        assert!(!t.due(ms(499)));
        assert!(t.due(ms(500)));
        // After a stall, once, then a quarter second from then.
        assert!(t.due(ms(2000)));
        assert!(!t.due(ms(2100)));
        assert!(t.due(ms(2250)));
    }

    #[test]
    fn counted_reads_add_up_and_lines_count_claims() {
        let read = Arc::new(AtomicU64::new(0));
        let mut input = Counted {
            inner: &b"abc\ndef\n"[..],
            read: Arc::clone(&read),
        };
        let mut text = String::new();
        input.read_to_string(&mut text).unwrap_or_default();
        assert_eq!(read.load(Ordering::Relaxed), 8);
        let progress = Progress {
            total: 8,
            read,
            claims: 0,
            throttle: Throttle::new(Instant::now() + Duration::from_secs(3600), INTERVAL),
            shown: false,
        };
        let mut out = Lines::new(Vec::new(), Some(progress));
        out.write_all(b"{}\n{}\n{").unwrap_or_default();
        out.write_all(b"}\n").unwrap_or_default();
        assert_eq!(out.progress.as_ref().map(|p| p.claims), Some(3));
        assert_eq!(out.inner, b"{}\n{}\n{}\n");
    }
}
