//! The start of an input and its lines: the bytes skipped before the first
//! real one (a byte-order mark, white space), and JSON Lines split into lines
//! whatever the reader's buffer.

use super::*;

/// The most bytes one JSON Lines record (its newline included) or one
/// element of a JSON array may take: 1 MiB. A longer record is an error record
/// of its own and the rest of the input goes on, so that memory stays bounded
/// whatever the input (`/dev/zero` has no newline at all).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Takes a UTF-8 byte order mark off the start of the input: what
/// [`ClaimReader`] does before the first record, for readers of JSON Lines
/// other than `ClaimReader` (parallel evaluation), so that both number and
/// read the same records. Nothing else is consumed: blank lines count in the
/// records' line numbers.
pub fn skip_json_lines_start<R: BufRead>(input: &mut R) -> std::io::Result<()> {
    skip_bom(input)
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
            // The line goes on past the buffer: gathered, up to one byte more
            // than a record may hold (so that the reader sees it is too long),
            // and the rest of a longer one read and dropped.
            self.straddling.clear();
            gather_line(input, &mut self.straddling, MAX_RECORD_BYTES + 1)?;
            return Ok(Some(f(&self.straddling)));
        }
    }
}

/// Appends the rest of the current line (its newline included) to `into`,
/// keeping at most `keep` bytes in it; the bytes past that are read and
/// dropped. Memory stays bounded by `keep` however long the line.
pub(crate) fn gather_line<R: BufRead>(
    input: &mut R,
    into: &mut Vec<u8>,
    keep: usize,
) -> std::io::Result<()> {
    loop {
        let buffered = match input.fill_buf() {
            Ok(buffered) => buffered,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffered.is_empty() {
            return Ok(());
        }
        let (taken, done) = match memchr::memchr(b'\n', buffered) {
            Some(end) => (end + 1, true),
            None => (buffered.len(), false),
        };
        let room = keep.saturating_sub(into.len()).min(taken);
        into.extend_from_slice(buffered.get(..room).unwrap_or_default());
        input.consume(taken);
        if done {
            return Ok(());
        }
    }
}

/// True for a line of white space only, which JSON Lines readers skip.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Drops a UTF-8 byte order mark at the start of `input`.
pub(super) fn skip_bom<R: BufRead>(input: &mut R) -> std::io::Result<()> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let buf = loop {
        match input.fill_buf() {
            Ok(buf) => break buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if buf.starts_with(BOM) {
        input.consume(BOM.len());
    }
    Ok(())
}

/// True for a line that starts a YAML mapping with a plain key (`id: C1`,
/// `lines:`): a claim written as one YAML document.
fn starts_yaml_mapping(line: &[u8]) -> bool {
    let key = line
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    key > 0
        && line.first().is_some_and(u8::is_ascii_alphabetic)
        && matches!(
            line.get(key..),
            Some([b':']) | Some([b':', b' ' | b'\t', ..])
        )
}

/// The format of an input whose first buffered bytes are `start` (a byte
/// order mark already taken off): a JSON array when the first byte that is
/// not white space is `[`; YAML when the first line that is neither blank nor a
/// `#` comment starts a YAML document (`---`), a list item (`- `) or a
/// mapping (`id: C1`); X12 when the first bytes that are not white space are
/// `ISA` (or, in a buffer shorter than that, begin it); JSON Lines
/// otherwise. A bad first line of JSON Lines is then one bad record, never a
/// whole batch read as one YAML error.
pub(super) fn sniff(start: &[u8]) -> InputFormat {
    let spaces = start.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let rest = start.get(spaces..).unwrap_or_default();
    if rest.first() == Some(&b'[') {
        return InputFormat::JsonArray;
    }
    // An interchange starts with `ISA` (a buffer shorter than that must at
    // least begin it).
    if !rest.is_empty() && b"ISA".starts_with(rest.get(..3).unwrap_or(rest)) {
        return InputFormat::X12;
    }
    for line in start.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let yaml = line.starts_with(b"---")
            || line.starts_with(b"- ")
            || line == b"-"
            || starts_yaml_mapping(line);
        return if yaml {
            InputFormat::Yaml
        } else {
            InputFormat::JsonLines
        };
    }
    InputFormat::JsonLines
}
