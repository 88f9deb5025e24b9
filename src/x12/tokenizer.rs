//! The X12 tokenizer: the delimiters an ISA declares, and segments read one at
//! a time from buffered input, each with its ordinal and byte offset.
//!
//! Nothing is guessed: the element separator is the ISA's fourth byte, the
//! component separator ISA16, the segment terminator the byte after it, and
//! the repetition separator ISA11 when it is not alphanumeric. Between
//! segments, white space (CR LF, blank lines, indentation) is skipped; inside
//! one, every byte is data.

use std::io::{self, BufRead};

/// The separators of one interchange, from its ISA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delimiters {
    /// Between elements: the ISA's fourth byte (`*` in most files).
    pub element: u8,
    /// Between a composite's components: ISA16 (`:` in most files).
    pub component: u8,
    /// After each segment: the byte after ISA16 (`~` in most files).
    pub segment: u8,
    /// Between repeats of an element: ISA11 when it is not alphanumeric.
    pub repetition: Option<u8>,
}

impl Delimiters {
    /// The usual `*`, `:`, `~` and `^`, which the 837P writer uses.
    pub const USUAL: Delimiters = Delimiters {
        element: b'*',
        component: b':',
        segment: b'~',
        repetition: Some(b'^'),
    };
}

/// Where a segment lies: its bytes in the reader's buffer (terminator left
/// out), its 1-based ordinal in the input and its byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegPos {
    /// First byte in the buffer.
    pub start: usize,
    /// One past the last byte in the buffer.
    pub end: usize,
    /// 1-based position among the input's segments (the ISA is 1).
    pub ordinal: u64,
    /// Byte offset of the segment's first byte in the input.
    pub offset: u64,
    /// Where its element separators' positions lie among the transaction
    /// set's (`from`, `to`), as [`Tokenizer::read_transaction`] finds them;
    /// `(0, 0)` for a segment read alone.
    pub cuts: (u32, u32),
    /// Its id, packed ([`pack_id`]): what [`Tokenizer::read_transaction`]
    /// tells the envelope's segments (SE, ST, GE, GS, IEA, ISA) by.
    pub id: u32,
}

/// Why a segment could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The input failed.
    Io(io::Error),
    /// The input ended inside a segment (no terminator): the segment so far.
    Unterminated(SegPos),
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> ReadError {
        ReadError::Io(err)
    }
}

/// An ISA read from the input: the delimiters and the segment's bytes.
#[derive(Debug)]
pub struct Isa {
    /// What the ISA declares.
    pub delimiters: Delimiters,
    /// The ISA segment, without its terminator.
    pub text: Vec<u8>,
    /// Its ordinal and offset (`start`/`end` index `text`).
    pub pos: SegPos,
}

/// How a transaction set's segments ended.
#[derive(Debug)]
pub enum TxEnd {
    /// At its SE (the SE's place).
    Se(SegPos),
    /// At an envelope segment (ST, GS, GE, IEA, ISA) before any SE: the
    /// segment, read into the buffer but not handled.
    Envelope(SegPos),
    /// At the end of the input.
    Eof,
}

/// White space between segments.
fn is_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Why what should be an ISA is not one, and where it is.
pub type BadIsa = (String, SegPos);

/// The longest ISA read before giving up: 106 bytes when padded as the
/// standard says; companion guides print it with the padding collapsed.
const ISA_MAX: usize = 256;

/// Segments of one input, read one at a time.
pub struct Tokenizer<R> {
    input: R,
    delimiters: Delimiters,
    offset: u64,
    ordinal: u64,
}

impl<R: BufRead> Tokenizer<R> {
    /// A tokenizer over `input`, at byte `offset` (bytes a caller already took
    /// off, such as white space before the first segment).
    pub fn new(input: R, offset: u64) -> Tokenizer<R> {
        Tokenizer {
            input,
            delimiters: Delimiters::USUAL,
            offset,
            ordinal: 0,
        }
    }

    /// The delimiters of the interchange being read.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Skips white space; true when more input follows.
    fn skip_space(&mut self) -> io::Result<bool> {
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(false);
            }
            let n = buf
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .count();
            let more = n < buf.len();
            self.input.consume(n);
            self.offset += n as u64;
            if more {
                return Ok(true);
            }
        }
    }

    /// Reads an ISA: `Ok(None)` at the end of the input, `Err(why)` (with the
    /// segment's place) when what follows is not an ISA whose delimiters can
    /// be read. The delimiters become the tokenizer's.
    pub fn read_isa(&mut self) -> io::Result<Option<Result<Isa, BadIsa>>> {
        if !self.skip_space()? {
            return Ok(None);
        }
        let offset = self.offset;
        self.ordinal += 1;
        let mut text = Vec::with_capacity(128);
        let mut separators = 0;
        let mut element = 0u8;
        // Byte by byte from the buffer: the terminator is not known until
        // ISA16 has been read.
        let why = loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let Some(&b) = buf.first() else {
                break Some("the input ends inside the ISA".to_owned());
            };
            self.input.consume(1);
            self.offset += 1;
            text.push(b);
            let at = text.len();
            if at <= 3 {
                if Some(&b) != b"ISA".get(at - 1) {
                    break Some(format!(
                        "the input does not start with an ISA segment (found `{}`)",
                        String::from_utf8_lossy(&text).escape_debug()
                    ));
                }
                continue;
            }
            if at == 4 {
                if b.is_ascii_alphanumeric() || b.is_ascii_whitespace() {
                    break Some(format!(
                        "the ISA's element separator `{}` is a letter, digit or space",
                        char::from(b).escape_debug()
                    ));
                }
                element = b;
                separators = 1;
                continue;
            }
            if separators == 16 {
                // `b` is ISA16; the next byte ends the segment.
                if at > ISA_MAX {
                    break Some("the ISA is longer than 256 bytes".to_owned());
                }
                break None;
            }
            if b == element {
                separators += 1;
            }
            if at > ISA_MAX {
                break Some("the ISA has fewer than 16 elements".to_owned());
            }
        };
        let pos = SegPos {
            start: 0,
            end: text.len(),
            ordinal: self.ordinal,
            offset,
            cuts: (0, 0),
            id: pack_id(b"ISA"),
        };
        if let Some(why) = why {
            return Ok(Some(Err((why, pos))));
        }
        // The last byte read is ISA16; the terminator comes next.
        let Some(&component) = text.last() else {
            return Ok(Some(Err(("the ISA has no ISA16".to_owned(), pos))));
        };
        let segment = loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            break buf.first().copied();
        };
        let Some(segment) = segment else {
            return Ok(Some(Err((
                "the input ends before the ISA's segment terminator".to_owned(),
                pos,
            ))));
        };
        self.input.consume(1);
        self.offset += 1;
        if !(element.is_ascii() && component.is_ascii() && segment.is_ascii()) {
            return Ok(Some(Err((
                "the ISA declares a delimiter outside ASCII".to_owned(),
                pos,
            ))));
        }
        if component == element || segment == element || segment == component {
            return Ok(Some(Err((
                "the ISA declares the same byte for two delimiters".to_owned(),
                pos,
            ))));
        }
        if component.is_ascii_alphanumeric() || segment.is_ascii_alphanumeric() {
            return Ok(Some(Err((
                format!(
                    "the ISA declares a letter or digit as a delimiter (ISA16 `{}`, terminator `{}`)",
                    char::from(component).escape_debug(),
                    char::from(segment).escape_debug()
                ),
                pos,
            ))));
        }
        let repetition = text.split(|&b| b == element).nth(11).and_then(|e| match e {
            [b] if !b.is_ascii_alphanumeric() && ![element, component, segment].contains(b) => {
                Some(*b)
            }
            _ => None,
        });
        self.delimiters = Delimiters {
            element,
            component,
            segment,
            repetition,
        };
        Ok(Some(Ok(Isa {
            delimiters: self.delimiters,
            text,
            pos,
        })))
    }

    /// Reads the next segment into `buf` (appended); `Ok(None)` at the end of
    /// the input.
    pub fn next_segment(&mut self, buf: &mut Vec<u8>) -> Result<Option<SegPos>, ReadError> {
        if !self.skip_space()? {
            return Ok(None);
        }
        let start = buf.len();
        let offset = self.offset;
        self.ordinal += 1;
        let terminator = self.delimiters.segment;
        let n = self.input.read_until(terminator, buf)?;
        self.offset += n as u64;
        let mut pos = SegPos {
            start,
            end: buf.len(),
            ordinal: self.ordinal,
            offset,
            cuts: (0, 0),
            id: LONG_ID,
        };
        if buf.last() != Some(&terminator) {
            return Err(ReadError::Unterminated(pos));
        }
        buf.pop();
        // A file that ends segments with a line feed and was written with CR LF.
        if terminator == b'\n' && buf.last() == Some(&b'\r') && buf.len() > start {
            buf.pop();
        }
        pos.end = buf.len();
        let text = buf.get(start..).unwrap_or_default();
        pos.id = pack_id(segment_id(text, self.delimiters.element));
        Ok(Some(pos))
    }
}

impl<R: BufRead> Tokenizer<R> {
    /// Reads a transaction set's segments after its ST into `buf`, their
    /// places into `segs` and their element separators' into `cuts`, up to
    /// its SE (or an envelope segment, or the end).
    ///
    /// The same segments as [`Tokenizer::next_segment`] one at a time, read a
    /// buffer at a time: one pass over each buffer, a word (eight bytes) at a
    /// time, finds the terminators and the element separators together,
    /// instead of a call into the reader per segment and a search per segment
    /// for its separators (the tokenizer and the cuts were two fifths of
    /// reading an 837P claim). Each segment's [`SegPos::cuts`] are its share
    /// of `cuts`, and its [`SegPos::id`] is read as its first separator is
    /// found.
    pub fn read_transaction(
        &mut self,
        buf: &mut Vec<u8>,
        segs: &mut Vec<SegPos>,
        cuts: &mut Vec<u32>,
    ) -> Result<TxEnd, ReadError> {
        let terminator = self.delimiters.segment;
        let element = self.delimiters.element;
        let (terminators, elements) = (splat(terminator), splat(element));
        // The segment being read, from its first byte that is not white
        // space (it may have begun in an earlier buffer): where it starts in
        // `buf`, its offset in the input, where its separators start in
        // `cuts`, and its id once known.
        let mut open: Option<Open> = None;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Io(e)),
            };
            if chunk.is_empty() {
                let Some(open) = open else {
                    return Ok(TxEnd::Eof);
                };
                self.ordinal += 1;
                let start = open.start;
                return Err(ReadError::Unterminated(SegPos {
                    start,
                    end: buf.len(),
                    ordinal: self.ordinal,
                    offset: open.offset,
                    cuts: share(open.first, cuts.len()),
                    id: open
                        .id
                        .unwrap_or_else(|| id_at(buf, &[], buf.len(), start, 0)),
                }));
            }
            // The buffer is copied whole up to the last segment ended in it
            // (one copy, not one per segment); segments are ranges of it, the
            // white space and terminators between them left out.
            let base = buf.len();
            let mut from = 0;
            let mut end = None;
            // Opens the segment at the first byte from `from` that is not
            // white space, up to `upto` (where the segment is known to go on,
            // or end: a terminator may be white space).
            let chunk_offset = self.offset;
            let begin = |from: usize, upto: usize, cuts: &[u32]| {
                let gap = chunk.get(from..upto).unwrap_or_default();
                let from = from + gap.iter().take_while(|b| is_space(b)).count();
                Open {
                    start: base + from,
                    offset: chunk_offset + from as u64,
                    first: cuts.len(),
                    id: None,
                }
            };
            let mut word_at = 0;
            'words: while word_at < chunk.len() {
                let word = word_of(chunk, word_at, !terminator);
                let mut ends = zeros(word ^ terminators);
                let mut separators = zeros(word ^ elements);
                loop {
                    // The separators before the word's next terminator (all
                    // of them when it has none), in a loop of a few
                    // instructions each.
                    let next_end = ends & ends.wrapping_neg();
                    let before = match next_end {
                        0 => separators,
                        _ => separators & (next_end - 1),
                    };
                    if before != 0 {
                        separators ^= before;
                        let at = word_at + (before.trailing_zeros() / 8) as usize;
                        let seg = open.get_or_insert_with(|| begin(from, at, cuts));
                        if seg.id.is_none() {
                            // The first separator ends the id.
                            seg.id = Some(id_at(buf, chunk, base, seg.start, at));
                        }
                        push_cuts(cuts, before, base + word_at, seg.start);
                    }
                    if next_end == 0 {
                        break;
                    }
                    ends ^= next_end;
                    let at = word_at + (next_end.trailing_zeros() / 8) as usize;
                    let seg = open.take().unwrap_or_else(|| begin(from, at, cuts));
                    let start = seg.start;
                    let mut stop = base + at;
                    if terminator == b'\n'
                        && stop > start
                        && chunk.get(at.wrapping_sub(1)) == Some(&b'\r')
                    {
                        stop -= 1;
                    }
                    self.ordinal += 1;
                    let pos = SegPos {
                        start,
                        end: stop,
                        ordinal: self.ordinal,
                        offset: seg.offset,
                        cuts: share(seg.first, cuts.len()),
                        // Without separators, the id is the whole segment.
                        id: seg.id.unwrap_or_else(|| id_at(buf, chunk, base, start, at)),
                    };
                    from = at + 1;
                    match pos.id {
                        SE => {
                            end = Some(TxEnd::Se(pos));
                            break 'words;
                        }
                        ST | GE | GS | IEA | ISA => {
                            end = Some(TxEnd::Envelope(pos));
                            break 'words;
                        }
                        _ => segs.push(pos),
                    }
                }
                word_at += 8;
            }
            if end.is_none() && open.is_none() {
                // The rest of the buffer begins a segment (or is white space).
                let seg = begin(from, chunk.len(), cuts);
                if seg.start < base + chunk.len() {
                    open = Some(seg);
                }
            }
            if end.is_none() {
                from = chunk.len();
            }
            buf.extend_from_slice(chunk.get(..from).unwrap_or_default());
            self.input.consume(from);
            self.offset += from as u64;
            if let Some(end) = end {
                return Ok(end);
            }
        }
    }
}

/// A segment being read by [`Tokenizer::read_transaction`].
#[derive(Clone, Copy, Debug)]
struct Open {
    /// Where it starts in the buffer, and in the input.
    start: usize,
    offset: u64,
    /// Where its separators start among the transaction set's.
    first: usize,
    /// Its id, read at its first separator.
    id: Option<u32>,
}

/// Adds the positions of the separators flagged in `found` to `cuts`, from
/// the start of their segment (at `start` in the buffer; the word is at
/// `word`). The word may begin before the segment (which starts inside it,
/// before its separators): the distance is taken modulo 2^64, and the
/// separator's own is then exact. Separators past 4 GiB into a segment are
/// not cut (the elements they end read as one).
#[inline]
fn push_cuts(cuts: &mut Vec<u32>, mut found: u64, word: usize, start: usize) {
    let at = word.wrapping_sub(start);
    while found != 0 {
        let cut = at.wrapping_add((found.trailing_zeros() / 8) as usize);
        if let Ok(cut) = u32::try_from(cut) {
            cuts.push(cut);
        }
        found &= found - 1;
    }
}

/// The packed id ([`pack_id`]) of the segment that starts at `start` and
/// whose id ends at `at` in `chunk`; the segment's first bytes are in `buf`
/// when it began before the chunk (at `base` in the buffer).
#[inline]
fn id_at(buf: &[u8], chunk: &[u8], base: usize, start: usize, at: usize) -> u32 {
    if let Some(here) = start.checked_sub(base) {
        return pack_id(chunk.get(here..at).unwrap_or_default());
    }
    let len = (base + at).saturating_sub(start);
    if len > 3 {
        return LONG_ID;
    }
    let mut head = [0u8; 3];
    let earlier = buf.get(start..).unwrap_or_default();
    let here = chunk
        .get(start.saturating_sub(base)..at)
        .unwrap_or_default();
    for (slot, &b) in head.iter_mut().zip(earlier.iter().chain(here)) {
        *slot = b;
    }
    pack_id(head.get(..len).unwrap_or_default())
}

/// A segment id of up to three bytes packed in a word, its length in the
/// high byte: what the tokenizer and the mapper match ids by, one compare
/// each. Longer ids are all [`LONG_ID`].
pub const fn pack_id(id: &[u8]) -> u32 {
    match *id {
        [] => 0,
        [a] => u32::from_le_bytes([a, 0, 0, 1]),
        [a, b] => u32::from_le_bytes([a, b, 0, 2]),
        [a, b, c] => u32::from_le_bytes([a, b, c, 3]),
        _ => LONG_ID,
    }
}

/// The packed id of every id longer than three bytes.
pub const LONG_ID: u32 = u32::MAX;

const SE: u32 = pack_id(b"SE");
const ST: u32 = pack_id(b"ST");
const GE: u32 = pack_id(b"GE");
const GS: u32 = pack_id(b"GS");
const IEA: u32 = pack_id(b"IEA");
const ISA: u32 = pack_id(b"ISA");

/// A segment's share of a transaction's cuts, from index `first` to `end`.
fn share(first: usize, end: usize) -> (u32, u32) {
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    (index(first), index(end))
}

/// `byte` in each of the eight bytes of a word.
fn splat(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// The eight bytes of `bytes` from `at`, little-endian, the bytes past its
/// end taken as `pad`.
#[inline]
fn word_of(bytes: &[u8], at: usize, pad: u8) -> u64 {
    match bytes.get(at..at + 8) {
        Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) => {
            u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
        }
        _ => {
            let mut word = [pad; 8];
            for (slot, &b) in word.iter_mut().zip(bytes.get(at..).unwrap_or_default()) {
                *slot = b;
            }
            u64::from_le_bytes(word)
        }
    }
}

/// The high bit of each byte of `x` that is zero. The addition on seven bits
/// sets the high bit of every byte whose low seven bits are not all zero,
/// carrying into no other byte, so each byte is flagged exactly (the classic
/// test that a word has a zero byte flags some bytes above a zero wrongly).
#[inline(always)]
fn zeros(x: u64) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW) + LOW) | x) & !LOW
}

/// The segment id: the bytes before the first element separator.
pub fn segment_id(segment: &[u8], element: u8) -> &[u8] {
    match memchr::memchr(element, segment) {
        Some(at) => segment.get(..at).unwrap_or_default(),
        None => segment,
    }
}

/// The positions of `byte` in `bytes`, in order, a word at a time (the
/// ST's separators; a transaction's other segments have theirs found as
/// they are read).
pub(super) fn positions(bytes: &[u8], byte: u8) -> impl Iterator<Item = usize> + '_ {
    let target = splat(byte);
    (0..bytes.len()).step_by(8).flat_map(move |at| {
        let mut found = zeros(word_of(bytes, at, !byte) ^ target);
        std::iter::from_fn(move || {
            let bit = found & found.wrapping_neg();
            found ^= bit;
            (bit != 0).then(|| at + (bit.trailing_zeros() / 8) as usize)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] = b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260304*1200*^*00501*000000001*0*P*:~";

    #[test]
    fn reads_the_delimiters_from_the_isa() {
        let mut t = Tokenizer::new(ISA, 0);
        let isa = t.read_isa().unwrap().unwrap().unwrap();
        assert_eq!(isa.delimiters, Delimiters::USUAL);
        assert_eq!(isa.text.len(), 105);
    }

    #[test]
    fn other_delimiters_and_collapsed_padding() {
        let text = b"ISA|00||00||ZZ|S|ZZ|R|260304|1200|U|00501|000000001|0|P|>\nGS|HC\n";
        let mut t = Tokenizer::new(&text[..], 0);
        let isa = t.read_isa().unwrap().unwrap().unwrap();
        assert_eq!(
            isa.delimiters,
            Delimiters {
                element: b'|',
                component: b'>',
                segment: b'\n',
                repetition: None
            }
        );
        let mut buf = Vec::new();
        let pos = t.next_segment(&mut buf).unwrap().unwrap();
        assert_eq!(&buf[pos.start..pos.end], b"GS|HC");
        assert_eq!(pos.ordinal, 2);
        assert_eq!(pos.offset, 58);
    }

    #[test]
    fn skips_white_space_between_segments_and_reports_a_missing_terminator() {
        let mut text = ISA.to_vec();
        text.extend_from_slice(b"\r\n\r\n   GS*HC~\r\n  ST*837");
        let mut t = Tokenizer::new(&text[..], 0);
        t.read_isa().unwrap().unwrap().unwrap();
        let mut buf = Vec::new();
        let gs = t.next_segment(&mut buf).unwrap().unwrap();
        assert_eq!(&buf[gs.start..gs.end], b"GS*HC");
        assert_eq!(gs.offset, 106 + 7);
        assert!(matches!(
            t.next_segment(&mut buf),
            Err(ReadError::Unterminated(_))
        ));
    }

    #[test]
    fn a_transaction_reads_the_same_a_buffer_at_a_time() {
        let mut text = ISA.to_vec();
        text.extend_from_slice(b"\r\n  BHT*1~\r\n\r\nHL*1**20*1~ NM1*85~SE*4*0001~GE*1*1~");
        // Buffers of every size, so that segments straddle them anywhere.
        for size in 1..40 {
            let input = std::io::BufReader::with_capacity(size, &text[..]);
            let mut t = Tokenizer::new(input, 0);
            t.read_isa().unwrap().unwrap().unwrap();
            let (mut buf, mut segs, mut cuts) = (Vec::new(), Vec::new(), Vec::new());
            let TxEnd::Se(se) = t.read_transaction(&mut buf, &mut segs, &mut cuts).unwrap() else {
                panic!("no SE");
            };
            let texts: Vec<&[u8]> = segs.iter().map(|p| &buf[p.start..p.end]).collect();
            assert_eq!(texts, [&b"BHT*1"[..], b"HL*1**20*1", b"NM1*85"], "{size}");
            assert_eq!(&buf[se.start..se.end], b"SE*4*0001");
            assert_eq!(segs[1].offset, 106 + 4 + 6 + 4, "{size}");
            assert_eq!(segs[1].ordinal, 3);
            // Each segment's separators, from its first byte.
            let cut =
                |cuts: &[u32], p: &SegPos| cuts[p.cuts.0 as usize..p.cuts.1 as usize].to_vec();
            let found: Vec<Vec<u32>> = segs.iter().chain([&se]).map(|p| cut(&cuts, p)).collect();
            assert_eq!(
                found,
                [vec![3], vec![2, 4, 5, 8], vec![3], vec![2, 4]],
                "{size}"
            );
            let TxEnd::Envelope(ge) = t.read_transaction(&mut buf, &mut segs, &mut cuts).unwrap()
            else {
                panic!("no GE");
            };
            assert_eq!(&buf[ge.start..ge.end], b"GE*1*1");
            assert_eq!(cut(&cuts, &ge), [2, 4], "{size}");
            assert!(matches!(
                t.read_transaction(&mut buf, &mut segs, &mut cuts),
                Ok(TxEnd::Eof)
            ));
        }
    }

    #[test]
    fn an_unterminated_segment_keeps_its_separators() {
        for size in 1..20 {
            let mut text = ISA.to_vec();
            text.extend_from_slice(b"BHT*1~ NM1*85*2");
            let input = std::io::BufReader::with_capacity(size, &text[..]);
            let mut t = Tokenizer::new(input, 0);
            t.read_isa().unwrap().unwrap().unwrap();
            let (mut buf, mut segs, mut cuts) = (Vec::new(), Vec::new(), Vec::new());
            let Err(ReadError::Unterminated(pos)) =
                t.read_transaction(&mut buf, &mut segs, &mut cuts)
            else {
                panic!("not unterminated");
            };
            assert_eq!(&buf[pos.start..pos.end], b"NM1*85*2", "{size}");
            assert_eq!(
                &cuts[pos.cuts.0 as usize..pos.cuts.1 as usize],
                [3, 6],
                "{size}"
            );
        }
    }

    #[test]
    fn positions_are_those_of_the_byte() {
        let text = b"SV1*HC:20552*182.5*UN*1***1:2:3:4*";
        for len in 0..=text.len() {
            let bytes = &text[..len];
            let want: Vec<usize> = (0..len).filter(|&i| bytes[i] == b'*').collect();
            assert_eq!(positions(bytes, b'*').collect::<Vec<_>>(), want, "{len}");
        }
        // The padding of the last word is not the byte, whatever it is.
        for byte in 0..=255u8 {
            let bytes = [b'a', byte, byte];
            let want: Vec<usize> = (0..3).filter(|&i| bytes[i] == byte).collect();
            assert_eq!(positions(&bytes, byte).collect::<Vec<_>>(), want, "{byte}");
        }
    }

    #[test]
    fn zeros_flags_exactly_the_zero_bytes() {
        for b in 0..=255u8 {
            for at in 0..8 {
                // Every byte but one is 0x01 or 0x80 (neighbours a borrow or
                // a carry could reach), the one at `at` is `b`.
                for other in [0x01u8, 0x80] {
                    let mut word = [other; 8];
                    word[at] = b;
                    let flags = zeros(u64::from_le_bytes(word));
                    let want = if b == 0 { 0x80u64 << (8 * at) } else { 0 };
                    assert_eq!(flags, want, "{b} at {at} among {other}");
                }
            }
        }
    }

    #[test]
    fn refuses_what_is_not_an_isa() {
        for text in [&b"GS*HC~"[..], b"ISA", b"ISA1", b"ISA*00*:*~"] {
            let mut t = Tokenizer::new(text, 0);
            assert!(matches!(t.read_isa(), Ok(Some(Err(_)))), "{text:?}");
        }
    }

    #[test]
    fn segment_ids() {
        assert_eq!(segment_id(b"SV1*HC:20553", b'*'), b"SV1");
        assert_eq!(segment_id(b"IEA", b'*'), b"IEA");
    }
}
