//! Knowing when reading the input may wait (finding H1): claims streamed one
//! at a time must be answered one at a time, so whoever reads hands on what
//! it has before a read that may block, instead of waiting for a full chunk
//! or the end of the input.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

/// A buffered input that keeps count of the bytes it holds: when none are
/// left, the next read goes to the operating system and may wait for the
/// writer. Conservative: a buffer it did not see filled counts as empty.
pub struct Watched<R> {
    inner: R,
    held: Rc<Cell<usize>>,
}

/// Tells whether a [`Watched`] input may wait on its next read.
#[derive(Clone)]
pub struct Stall(Rc<Cell<usize>>);

impl Stall {
    /// True when no buffered byte is known: reading next may block.
    pub fn may_wait(&self) -> bool {
        self.0.get() == 0
    }
}

impl<R: BufRead> Watched<R> {
    /// The input, watched, and the handle that tells about it.
    pub fn new(inner: R) -> (Watched<R>, Stall) {
        let held = Rc::new(Cell::new(0));
        (
            Watched {
                inner,
                held: Rc::clone(&held),
            },
            Stall(held),
        )
    }
}

impl<R: BufRead> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.held.set(self.held.get().saturating_sub(n));
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Watched<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let buf = self.inner.fill_buf()?;
        self.held.set(buf.len());
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.held.set(self.held.get().saturating_sub(amt));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_buffer_may_wait_and_a_held_one_does_not() {
        let (mut input, stall) = Watched::new(io::BufReader::with_capacity(4, &b"abcdef"[..]));
        assert!(stall.may_wait());
        assert_eq!(input.fill_buf().unwrap(), b"abcd");
        assert!(!stall.may_wait());
        input.consume(3);
        assert!(!stall.may_wait());
        input.consume(1);
        assert!(stall.may_wait());
        let mut rest = String::new();
        input.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "ef");
        assert!(stall.may_wait());
    }
}
