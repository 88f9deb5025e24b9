//! The start of an input and its lines: the bytes skipped before the first
//! real one (a byte-order mark, white space), and JSON Lines split into lines
//! whatever the reader's buffer.

use super::*;

pub(super) struct Prefix {
    /// Bytes taken off the input while looking for the first real one; YAML and
    /// JSON arrays are parsed with them put back, since YAML indentation counts.
    pub(super) consumed: Vec<u8>,
    pub(super) first_byte: Option<u8>,
}

/// Takes off what [`ClaimReader`] takes off the start of JSON Lines before the
/// first record in `format` (`Auto` or `JsonLines`): a UTF-8 byte order mark
/// and, when detecting the format, the white space before the first record. For
/// readers of JSON Lines other than `ClaimReader` (parallel evaluation), so that
/// both number and read the same records.
pub fn skip_json_lines_start<R: BufRead>(
    input: &mut R,
    format: InputFormat,
) -> std::io::Result<()> {
    skip_start(input, format == InputFormat::Auto).map(drop)
}

/// Splits buffered input into lines. A line the input's buffer holds whole is
/// handed out in place; only one that straddles the buffer's end is gathered
/// into a buffer of its own. Copying every line out of the input buffer (as
/// `read_until` does) was a tenth of reading a claim.
#[derive(Debug, Default)]
pub struct LineSplitter {
    straddling: Vec<u8>,
}

impl LineSplitter {
    /// Calls `f` with the next line, its newline included when it has one;
    /// `Ok(None)` at the end of the input.
    pub fn next<R: BufRead, T>(
        &mut self,
        input: &mut R,
        f: impl FnOnce(&[u8]) -> T,
    ) -> std::io::Result<Option<T>> {
        loop {
            let buffered = match input.fill_buf() {
                Ok(buffered) => buffered,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buffered.is_empty() {
                return Ok(None);
            }
            // `memchr` gives the index of a byte of `buffered`.
            if let Some(line) = memchr::memchr(b'\n', buffered).and_then(|end| buffered.get(..=end))
            {
                let n = line.len();
                let out = f(line);
                input.consume(n);
                return Ok(Some(out));
            }
            self.straddling.clear();
            self.straddling.extend_from_slice(buffered);
            let n = buffered.len();
            input.consume(n);
            input.read_until(b'\n', &mut self.straddling)?;
            return Ok(Some(f(&self.straddling)));
        }
    }
}

/// True for a line of white space only, which JSON Lines readers skip.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Drops a UTF-8 byte order mark and, when detecting, reads up to the first
/// non-whitespace byte without consuming it.
pub(super) fn skip_start<R: BufRead>(input: &mut R, detect: bool) -> std::io::Result<Prefix> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut consumed = Vec::new();
    let buf = input.fill_buf()?;
    if buf.starts_with(BOM) {
        input.consume(BOM.len());
    }
    if !detect {
        return Ok(Prefix {
            consumed,
            first_byte: None,
        });
    }
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(Prefix {
                consumed,
                first_byte: None,
            });
        }
        let spaces = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let first_byte = buf.get(spaces).copied();
        consumed.extend_from_slice(buf.get(..spaces).unwrap_or_default());
        input.consume(spaces);
        if first_byte.is_some() {
            return Ok(Prefix {
                consumed,
                first_byte,
            });
        }
    }
}
