//! The scanner's cursor over one line and the JSON it reads token by token:
//! white space, punctuation, strings, objects, arrays and numbers, and values
//! skipped unread.

use super::keys::{field, Key};
use super::strings::string_length;
use crate::claims::read::Num;

/// 10^0 to 10^15, exact in an f64.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The value of eight ASCII digits in a little-endian word, the first
/// (most significant) in the lowest byte; zero bytes count as leading
/// zeros. Three multiplications instead of eight steps of a loop.
#[inline(always)]
pub(super) fn eight_digits(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let digits = word & (ONES * 0x0f);
    // Pairs of digits, then fours, then all eight (the classic SWAR parse):
    // each step adds ten, a hundred, ten thousand times each group to the
    // group after it, with one multiplication, and keeps every other group.
    let pairs = (digits.wrapping_mul(1 + (10 << 8)) >> 8) & 0x00ff_00ff_00ff_00ff;
    let fours = (pairs.wrapping_mul(1 + (100 << 16)) >> 16) & 0x0000_ffff_0000_ffff;
    fours.wrapping_mul(1 + (10_000 << 32)) >> 32
}

/// Deepest nesting an ignored value may have before the scanner leaves the line
/// to serde_json (whose own limit is 128).
const MAX_DEPTH: usize = 32;

/// A cursor over one line. What is left to read is a shrinking slice, not a
/// position in the line: looking at the next byte is then a test of the
/// slice's length, where a position cost an addition and a comparison with
/// the line's length at every byte (about 550 instructions per claim).
pub(super) struct Scanner<'a> {
    /// The whole line, for string bodies as `&str`.
    text: &'a str,
    /// What is left of `text`, as bytes.
    pub(super) rest: &'a [u8],
}

/// Marks fields as seen (by their position among at most 32 keys), so that a
/// field given twice (an error for serde's derived structs) sends the line to
/// the slow path.
pub(super) struct Seen(u32);

impl Seen {
    /// The fields before the `n`th, seen.
    fn before(n: usize) -> Seen {
        Seen(1u32.checked_shl(n as u32).map_or(u32::MAX, |bit| bit - 1))
    }

    /// Marks field `bit`; `None` when it was seen before.
    fn first(&mut self, bit: u32) -> Option<()> {
        let mask = 1 << bit;
        if self.0 & mask != 0 {
            return None;
        }
        self.0 |= mask;
        Some(())
    }
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`.
    pub(super) fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            text,
            rest: text.as_bytes(),
        }
    }

    /// The position of the cursor in the line.
    #[inline(always)]
    pub(super) fn at(&self) -> usize {
        self.text.len() - self.rest.len()
    }

    /// Moves past `n` bytes (at most what is left).
    #[inline(always)]
    pub(super) fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// Moves past white space. Compact JSON has none between tokens, and every
    /// token starts above the space character: one comparison of the byte at
    /// the cursor says so, and only a byte at or below it takes the loop.
    #[inline(always)]
    pub(super) fn skip_ws(&mut self) {
        if self.rest.first().is_some_and(|&b| b > b' ') {
            return;
        }
        self.skip_ws_slowly();
    }

    /// [`Self::skip_ws`] past a byte at or below the space character: out of
    /// line, so that the scanner's many inlined calls stay one comparison.
    #[cold]
    #[inline(never)]
    fn skip_ws_slowly(&mut self) {
        while let Some((b' ' | b'\t' | b'\n' | b'\r', rest)) = self.rest.split_first() {
            self.rest = rest;
        }
    }

    /// The next significant byte, not consumed.
    #[inline(always)]
    pub(super) fn peek(&mut self) -> Option<u8> {
        match self.rest.first() {
            Some(&b) if b > b' ' => Some(b),
            _ => {
                self.skip_ws_slowly();
                self.rest.first().copied()
            }
        }
    }

    /// The next significant byte, consumed: after a value, where any byte
    /// other than the one expected makes the scanner step aside anyway.
    #[inline(always)]
    pub(super) fn token(&mut self) -> Option<u8> {
        match self.rest.split_first() {
            Some((&b, rest)) if b > b' ' => {
                self.rest = rest;
                Some(b)
            }
            _ => {
                self.skip_ws_slowly();
                let (&b, rest) = self.rest.split_first()?;
                self.rest = rest;
                Some(b)
            }
        }
    }

    /// Consumes `byte` (a token, above the space character) after any white
    /// space. The byte is compared first: in compact JSON it is right there.
    #[inline(always)]
    pub(super) fn eat(&mut self, byte: u8) -> Option<()> {
        if let Some((&b, rest)) = self.rest.split_first() {
            if b == byte {
                self.rest = rest;
                return Some(());
            }
        }
        (self.peek()? == byte).then(|| self.advance(1))
    }

    /// Consumes `word` (`null`, `true`, `false`) at the current position.
    pub(super) fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(word)?;
        Some(())
    }

    /// `null` (consumed) or anything else (not consumed).
    fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(true);
        }
        Some(false)
    }

    /// A string without escapes, borrowed.
    #[inline]
    pub(super) fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        self.str_body()
    }

    /// The rest of a string whose opening quote the cursor has passed.
    #[inline(always)]
    fn str_body(&mut self) -> Option<&'a str> {
        let len = string_length(self.rest)?;
        let start = self.at();
        let body = self.text.get(start..start + len)?;
        // Past the body and its closing quote.
        self.rest = self.rest.get(len + 1..)?;
        Some(body)
    }

    /// `null` as `None`, else a string given to `read`: [`Self::opt`] of a
    /// string with one look at the next byte instead of two (most of a
    /// claim's values are strings).
    #[inline]
    pub(super) fn opt_str<T>(
        &mut self,
        read: impl FnOnce(&'a str) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.peek()? {
            b'"' => {
                self.advance(1);
                self.str_body().and_then(read).map(Some)
            }
            b'n' => self.literal(b"null").map(|()| None),
            _ => None,
        }
    }

    /// `null` as `None`, else what `read` reads: serde's `Option<T>`.
    pub(super) fn opt<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.null()? {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    /// An object, calling `field` with each key positioned at its value.
    pub(super) fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.advance(1);
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.token()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// An object of the known fields `keys`, calling `read` with each field's
    /// position in `keys` and the cursor at its value; an unknown field's value
    /// is skipped (serde ignores it), at nesting `depth`.
    ///
    /// Clients write fields in one order, usually the contract's: the key after
    /// field `k` is tried as field `k + 1` by comparing bytes in place, before
    /// reading it as a string and looking it up. Keys were most of the strings a
    /// claim holds. A known field given twice is `None`.
    pub(super) fn fields(
        &mut self,
        keys: &[Key],
        depth: usize,
        mut read: impl FnMut(&mut Self, u32) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.advance(1);
            return Some(());
        }
        let mut guess = 0;
        // While every key so far was the one expected, the fields read are
        // exactly those before `guess`, each once; at the first other key
        // `seen` starts marking them, so that one given twice (an error for
        // serde's derived structs) sends the line to the slow path.
        let mut seen = None::<Seen>;
        loop {
            self.skip_ws();
            let known = match self.expected_key(keys, guess) {
                Some(at) => Some(at),
                None => {
                    let key = self.str()?;
                    self.eat(b':')?;
                    seen.get_or_insert(Seen::before(guess));
                    field(key, keys)
                }
            };
            match known {
                Some(at) => {
                    if let Some(seen) = &mut seen {
                        seen.first(at)?;
                    }
                    read(self, at)?;
                    guess = at as usize + 1;
                }
                None => self.skip_value(depth)?,
            }
            match self.token()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// When the input holds the key `keys[guess]` at the cursor, moves past it.
    #[inline(always)]
    pub(super) fn expected_key(&mut self, keys: &[Key], guess: usize) -> Option<u32> {
        let key = keys.get(guess)?.written();
        let (written, rest) = self.rest.split_at_checked(key.len())?;
        if !crate::bytes::same(written, key) {
            return None;
        }
        self.rest = rest;
        u32::try_from(guess).ok()
    }

    /// An array, calling `item` with the cursor at each element.
    pub(super) fn items(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.advance(1);
            return Some(());
        }
        loop {
            item(self)?;
            match self.token()? {
                b',' => {}
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// A non-negative number as serde_json reports it: integers as `u64`, anything
    /// with a fraction or exponent as `f64`, rounded as serde_json rounds it.
    /// Negative numbers are left to serde_json.
    #[inline(always)]
    pub(super) fn number(&mut self) -> Option<Num> {
        // One digit alone, as counts, line numbers and pointers nearly always
        // are: no loop, and no call (which cost as much as reading the digit).
        if let Some(&[d, next]) = self.rest.first_chunk() {
            if d.is_ascii_digit() && !matches!(next, b'0'..=b'9' | b'.' | b'e' | b'E') {
                self.advance(1);
                return Some(Num::Unsigned(u64::from(d - b'0')));
            }
        }
        // Charges (`182.5`, `12.0`) and two- or three-digit counts: their
        // bytes at once, without a loop (the general reader cost some 127
        // instructions a number).
        if let Some(n) = self.short_number() {
            return Some(n);
        }
        self.longer_number()
    }

    /// The next eight bytes as a little-endian word (the first in the lowest
    /// byte), zero bytes past the line's end; `None` when the line is
    /// shorter than eight bytes.
    #[inline(always)]
    fn word(&self) -> Option<u64> {
        if let Some(chunk) = self.rest.first_chunk::<8>() {
            return Some(u64::from_le_bytes(*chunk));
        }
        // A claim nearly always ends in a number (`"charge":12.0}]}`): the
        // line's last eight bytes, shifted down to start where `rest` does
        // (`rest` is always the end of the line).
        let last = u64::from_le_bytes(*self.text.as_bytes().last_chunk::<8>()?);
        let missing = 8 - self.rest.len() as u32;
        Some(last.checked_shr(8 * missing).unwrap_or(0))
    }

    /// [`Self::number`] of the shapes that fit in eight bytes with the byte
    /// after them: one to seven digits, or one to six digits with a point
    /// somewhere among them, followed by anything but a digit, a point or an
    /// exponent. `None` leaves the number to [`Self::longer_number`] (which
    /// reads these shapes to the same values): any other shape, white space
    /// before it, a leading zero before more digits (which serde_json
    /// refuses), a point without digits after it.
    #[inline(always)]
    pub(super) fn short_number(&mut self) -> Option<Num> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        let word = self.word()?;
        let zeroed = word ^ (ONES * u64::from(b'0'));
        // The high bit of each byte that is not a digit.
        let stops = crate::bytes::over_nine(zeroed);
        // Whole digits: 0 to 8 (no stop at all).
        let whole = stops.trailing_zeros() / 8;
        if whole == 0 || whole == 8 || (whole > 1 && word as u8 == b'0') {
            return None;
        }
        let (digits, count, places, end) = match (word >> (8 * whole)) as u8 {
            b'.' => {
                // The next stop ends the fraction: 8 when there is none.
                let end = (stops & (stops - 1)).trailing_zeros() / 8;
                if end == 8 || matches!((word >> (8 * end)) as u8, b'e' | b'E') {
                    return None;
                }
                let places = end - whole - 1;
                if places == 0 {
                    return None;
                }
                // The digits either side of the point, made one run.
                let before = word & ((1 << (8 * whole)) - 1);
                let after = (word >> (8 * (whole + 1))) & ((1 << (8 * places)) - 1);
                (before | after << (8 * whole), whole + places, places, end)
            }
            b'e' | b'E' => return None,
            _ => (word, whole, 0, whole),
        };
        let value = eight_digits(digits << (8 * (8 - count)));
        self.advance(end as usize);
        if places == 0 {
            return Some(Num::Unsigned(value));
        }
        // At most six digits: exact, as is the power of ten, so one division
        // rounds as serde_json does (see `longer_number`).
        let power = POWERS_OF_TEN.get(places as usize)?;
        Some(Num::Float(value as f64 / power))
    }

    /// [`Self::number`] of any other shape, white space before it included.
    #[inline(never)]
    pub(super) fn longer_number(&mut self) -> Option<Num> {
        self.skip_ws();
        let start = self.at();
        // The digits' value while there are at most 19 of them (any 19 digits fit
        // a u64); `digits` counts them all.
        let mut value = 0u64;
        let mut digits = 0u32;
        match *self.rest.first()? {
            b'0' => {
                self.advance(1);
                digits = 1;
            }
            b'1'..=b'9' => self.digits(&mut value, &mut digits),
            _ => return None,
        }
        let mut fraction = None;
        if self.rest.first() == Some(&b'.') {
            self.advance(1);
            let before = digits;
            self.digits(&mut value, &mut digits);
            fraction = Some(digits.checked_sub(before).filter(|n| *n > 0)?);
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.rest.first() {
            self.advance(1);
            if let Some(b'+' | b'-') = self.rest.first() {
                self.advance(1);
            }
            // The exponent's value is serde_json's to apply; only its digits count.
            let (mut power, mut power_digits) = (0, 0);
            self.digits(&mut power, &mut power_digits);
            if power_digits == 0 {
                return None;
            }
            exponent = true;
        }
        match (fraction, exponent) {
            (None, false) if digits <= 19 => return Some(Num::Unsigned(value)),
            // At most 15 digits are below 2^53, so both the digits and the power
            // of ten are exact f64s, and one division rounds correctly: what
            // serde_json computes for these (and any correct parser gives).
            (Some(places), false) if digits <= 15 => {
                let power = POWERS_OF_TEN.get(places as usize)?;
                return Some(Num::Float(value as f64 / power));
            }
            _ => {}
        }
        let text = self.text.get(start..self.at())?;
        if fraction.is_some() || exponent {
            serde_json::from_str::<f64>(text).ok().map(Num::Float)
        } else {
            // Past u64, serde_json reads the integer as a float; rare enough to
            // leave to it.
            text.parse::<u64>().ok().map(Num::Unsigned)
        }
    }

    /// Moves past a run of digits, adding them to `value` (wrapping past 19
    /// digits, when `count` says the value is no longer to be used).
    #[inline]
    fn digits(&mut self, value: &mut u64, count: &mut u32) {
        while let Some((&b, rest)) = self.rest.split_first() {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            *value = value.wrapping_mul(10).wrapping_add(u64::from(d));
            *count += 1;
            self.rest = rest;
        }
    }

    /// Skips a value of a field the engine does not read, checking it is valid
    /// JSON (serde_json would reject the line otherwise).
    pub(super) fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.str().map(drop),
            b'{' => self.object(|s, _| s.skip_value(depth + 1)),
            b'[' => self.items(|s| s.skip_value(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }
}
