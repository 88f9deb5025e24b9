//! The fast path of the JSON Lines reader: one claim read straight from the
//! line's bytes into a [`Claim`], every string borrowed from the line until
//! it is kept, every field checked by the contract's rule as it is read.
//!
//! It reads the shape clients send (the contract's fields, in any order but
//! with the diagnoses before the lines, no escapes in strings, plain numbers)
//! and gives up, returning `None`, at anything else: an escape, a duplicate
//! field, a negative number, a value of an unexpected type, malformed JSON, a
//! field that breaks a rule. The caller then reads the line with serde_json
//! and [`validate`](super::validate::validate), which builds the same claim or
//! names the first error in contract order. So the one invariant is: **when
//! this returns `Some`, the claim equals what serde_json and validation would
//! have built from the same line** (tested against them on generated and
//! mutated lines). It never has to produce an error message, and it holds no
//! rule of its own: each is a method of [`Cx`], which validation calls too.
//!
//! Why not serde: serde_json spent about 20,000 instructions on a 560-byte
//! claim (allocating every string, validating UTF-8 string by string, matching
//! field names through generic visitors); this reads the same line in a few
//! thousand. Why straight into the claim: an intermediate raw claim cost a
//! second walk over every field, five lists and the moves of 300-byte
//! structures, about a fifth of reading a claim.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::model::{
    Claim, Diagnoses, FactValue, Facts, Frequency, Line, Modifiers, Patient, Pointers, Provider,
    Text,
};
use super::read::{Num, RawFact};
use super::slot::blank_line;
use super::validate::{or_all, text, Cx};

/// Reads one JSON Lines record, or `None` to leave it to serde_json and
/// validation.
#[cfg(test)]
pub(super) fn scan_claim(line: &[u8]) -> Option<Claim> {
    let mut claim = super::slot::empty_claim();
    scan_claim_into(line, &mut claim)?;
    Some(claim)
}

/// Reads one JSON Lines record into `claim`, overwriting every field (its
/// lines keep their room), or `None` to leave it to serde_json and
/// validation; `claim` then holds any mix of old and new fields.
pub(super) fn scan_claim_into(line: &[u8], claim: &mut Claim) -> Option<()> {
    // One UTF-8 check of the whole line makes every slice between two quotes a
    // valid `&str`; `simdutf8` checks 32 bytes at a time where the processor
    // can (the standard library's check, a word at a time, was a tenth of
    // reading a claim).
    let text = simdutf8::basic::from_utf8(line).ok()?;
    let mut s = Scanner::new(text);
    // Errors are dropped (the slow path names them), so they need neither the
    // claim's id nor its position.
    let cx = Cx {
        id: None,
        record: 0,
    };
    s.claim(&cx, claim)
}

/// The patient id of one JSON Lines record, found without reading the rest of
/// the claim: what parallel evaluation shards by. `None` when the line is not
/// of the plain shape the scanner reads; the caller then asks serde_json.
pub(super) fn scan_patient_id(line: &[u8]) -> Option<&str> {
    // The patient comes early in a claim as clients write it: the start of the
    // line is checked and read first (the reader thread's share of the work,
    // which `--jobs` cannot spread). An id found there is the one the whole
    // line holds, since it ends within the start; else the whole line is read.
    let start = line.get(..PATIENT_WITHIN).unwrap_or(line);
    let text = match simdutf8::compat::from_utf8(start) {
        Ok(text) => text,
        // Invalid, or a character the cut went through: what is before it.
        Err(e) => std::str::from_utf8(start.get(..e.valid_up_to())?).ok()?,
    };
    if let Some(id) = patient_id_in(text) {
        return Some(id);
    }
    if start.len() == line.len() {
        return None;
    }
    patient_id_in(simdutf8::basic::from_utf8(line).ok()?)
}

/// Bytes at the start of a line where [`scan_patient_id`] looks first.
const PATIENT_WITHIN: usize = 256;

/// The patient id of the claim that `text` is, or begins: read up to the id
/// and no further.
fn patient_id_in(text: &str) -> Option<&str> {
    let mut s = Scanner::new(text);
    let mut found = None;
    s.object(|s, key| {
        if key != "patient" {
            return s.skip_value(1);
        }
        s.fields(&PATIENT_FIELDS, 2, |s, at| {
            let value = s.opt_str(Some)?;
            if at == 0 {
                found = value;
                // Stop here: the id is all that is needed.
                return None;
            }
            Some(())
        });
        // Stop here too. A second `patient` field, which serde_json refuses,
        // would make the claim an error record on whichever worker gets it.
        None
    });
    found
}

/// The length of the string body at the start of `rest` (up to its closing
/// quote), or `None` when it holds an escape or a control character (an escape
/// needs decoding, a control character is an error: both are serde_json's to
/// handle) or does not end.
#[inline]
fn string_length(rest: &[u8]) -> Option<usize> {
    // Sixteen bytes at a time where SSE2 is there (always on x86_64): a claim's
    // strings are nearly all shorter, so one step finds the end.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if let Some(chunk) = rest.first_chunk::<16>() {
        return match stop_mask_16(chunk) {
            0 => string_length_16(rest),
            found => stop_at(rest, found.trailing_zeros() as usize),
        };
    }
    string_length_8(rest, 0)
}

/// Whether the byte where a string body stops is its closing quote.
#[inline(always)]
fn stop_at(rest: &[u8], end: usize) -> Option<usize> {
    (*rest.get(end)? == b'"').then_some(end)
}

/// A bit for each byte of `chunk` that stops a string body: a quote, a
/// backslash or a control character.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn stop_mask_16(chunk: &[u8; 16]) -> u32 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
    let bytes = load_unaligned_m128i(chunk);
    let quote = cmp_eq_mask_i8_m128i(bytes, splat(b'"'));
    let backslash = cmp_eq_mask_i8_m128i(bytes, splat(b'\\'));
    // A byte is at most 0x1f when the unsigned minimum with 0x1f leaves it as is.
    let control = cmp_eq_mask_i8_m128i(min_u8_m128i(bytes, splat(0x1f)), bytes);
    let stops = bitor_m128i(bitor_m128i(quote, backslash), control);
    // Sixteen mask bits (the sign bits of the sixteen bytes): never negative.
    move_mask_i8_m128i(stops) as u32
}

/// [`string_length`] of a body longer than its first sixteen bytes: kept out
/// of line, as it is rare.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(never)]
fn string_length_16(rest: &[u8]) -> Option<usize> {
    let mut at = 16;
    while let Some(chunk) = rest.get(at..).and_then(<[u8]>::first_chunk::<16>) {
        let found = stop_mask_16(chunk);
        if found != 0 {
            return stop_at(rest, at + found.trailing_zeros() as usize);
        }
        at += 16;
    }
    string_length_8(rest, at)
}

/// [`string_length`] from `at` (a position inside the body), eight bytes at a
/// time, then a byte at a time for the last few.
fn string_length_8(rest: &[u8], mut at: usize) -> Option<usize> {
    // A byte-by-byte loop was the scanner's largest cost.
    while let Some(chunk) = rest.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let found = crate::bytes::json_stops(u64::from_le_bytes(*chunk));
        if found != 0 {
            return stop_at(rest, at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    for (i, &b) in rest.get(at..)?.iter().enumerate() {
        match b {
            b'"' => return Some(at + i),
            b'\\' | 0..=0x1f => return None,
            _ => {}
        }
    }
    None
}

/// The position of `key` in `keys`, comparing lengths first: a `match` on
/// strings compares each arm in turn with a call to `memcmp`, which was most of
/// the cost of reading a service line.
fn field(key: &str, keys: &[Key]) -> Option<u32> {
    let key = key.as_bytes();
    let first = *key.first()?;
    let at = keys.iter().position(|k| {
        let name = k.name();
        name.len() == key.len() && name.first() == Some(&first) && name == key
    })?;
    u32::try_from(at).ok()
}

/// A field's key as compact JSON writes it, `"name":`, so that the key
/// expected next is compared in place as one run of bytes (quotes and colon
/// included) instead of three.
#[derive(Clone, Copy)]
struct Key {
    written: [u8; Key::ROOM],
    len: usize,
}

impl Key {
    /// Room for the longest name and its quotes and colon.
    const ROOM: usize = 32;

    /// The keys of the fields `names`, in their order.
    const fn all<const N: usize>(names: [&str; N]) -> [Key; N] {
        let mut keys = [Key {
            written: [0; Key::ROOM],
            len: 0,
        }; N];
        let mut i = 0;
        while i < N {
            let name = names[i].as_bytes();
            // Checked when compiling: a longer name fails the build.
            assert!(name.len() + 3 <= Key::ROOM);
            let key = &mut keys[i];
            key.written[0] = b'"';
            let mut j = 0;
            while j < name.len() {
                key.written[j + 1] = name[j];
                j += 1;
            }
            key.written[name.len() + 1] = b'"';
            key.written[name.len() + 2] = b':';
            key.len = name.len() + 3;
            i += 1;
        }
        keys
    }

    /// `"name":`.
    #[inline(always)]
    fn written(&self) -> &[u8] {
        self.written.get(..self.len).unwrap_or_default()
    }

    /// The field's name.
    fn name(&self) -> &[u8] {
        self.written
            .get(1..self.len.saturating_sub(2))
            .unwrap_or_default()
    }
}

const CLAIM_FIELDS: [Key; 10] = Key::all([
    "id",
    "payer",
    "patient",
    "provider",
    "place_of_service",
    "diagnoses",
    "facts",
    "lines",
    "frequency_code",
    "replaces",
]);
const PATIENT_FIELDS: [Key; 3] = Key::all(["id", "birth_date", "sex"]);
const PROVIDER_FIELDS: [Key; 2] = Key::all(["npi", "taxonomy"]);
const LINE_FIELDS: [Key; 10] = Key::all([
    "line",
    "date_of_service",
    "procedure",
    "modifiers",
    "units",
    "diagnosis_pointers",
    "site",
    "muscles",
    "injections",
    "charge",
]);

/// 10^0 to 10^15, exact in an f64.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The value of eight ASCII digits in a little-endian word, the first
/// (most significant) in the lowest byte; zero bytes count as leading
/// zeros. Three multiplications instead of eight steps of a loop.
#[inline(always)]
fn eight_digits(word: u64) -> u64 {
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
struct Scanner<'a> {
    /// The whole line, for string bodies as `&str`.
    text: &'a str,
    /// What is left of `text`, as bytes.
    rest: &'a [u8],
}

/// Marks fields as seen (by their position among at most 32 keys), so that a
/// field given twice (an error for serde's derived structs) sends the line to
/// the slow path.
struct Seen(u32);

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
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            text,
            rest: text.as_bytes(),
        }
    }

    /// The position of the cursor in the line.
    #[inline(always)]
    fn at(&self) -> usize {
        self.text.len() - self.rest.len()
    }

    /// Moves past `n` bytes (at most what is left).
    #[inline(always)]
    fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// Moves past white space. Compact JSON has none between tokens, and every
    /// token starts above the space character: one comparison of the byte at
    /// the cursor says so, and only a byte at or below it takes the loop.
    #[inline(always)]
    fn skip_ws(&mut self) {
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
    fn peek(&mut self) -> Option<u8> {
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
    fn token(&mut self) -> Option<u8> {
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
    fn eat(&mut self, byte: u8) -> Option<()> {
        if let Some((&b, rest)) = self.rest.split_first() {
            if b == byte {
                self.rest = rest;
                return Some(());
            }
        }
        (self.peek()? == byte).then(|| self.advance(1))
    }

    /// Consumes `word` (`null`, `true`, `false`) at the current position.
    fn literal(&mut self, word: &[u8]) -> Option<()> {
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
    fn str(&mut self) -> Option<&'a str> {
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
    fn opt_str<T>(&mut self, read: impl FnOnce(&'a str) -> Option<T>) -> Option<Option<T>> {
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
    fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null()? {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    /// An object, calling `field` with each key positioned at its value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
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
    fn fields(
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
    fn expected_key(&mut self, keys: &[Key], guess: usize) -> Option<u32> {
        let key = keys.get(guess)?.written();
        let (written, rest) = self.rest.split_at_checked(key.len())?;
        if !crate::bytes::same(written, key) {
            return None;
        }
        self.rest = rest;
        u32::try_from(guess).ok()
    }

    /// An array, calling `item` with the cursor at each element.
    fn items(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
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
    fn number(&mut self) -> Option<Num> {
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
    fn short_number(&mut self) -> Option<Num> {
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
    fn longer_number(&mut self) -> Option<Num> {
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
    fn skip_value(&mut self, depth: usize) -> Option<()> {
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

    /// The claim, each field checked by the contract's rule as it is read,
    /// into `out`; `None` at anything the scanner does not read or any rule
    /// that fails. The line must end with it (white space aside). The
    /// diagnoses and lines are read straight into `out`, the lines into the
    /// room the last claim left; the other fields are assigned once at the
    /// end, when every rule has passed.
    fn claim(&mut self, cx: &Cx<'_>, out: &mut Claim) -> Option<()> {
        let (mut id, mut payer, mut patient, mut provider, mut place_of_service) =
            (None, None, None, None, None);
        let (mut facts, mut frequency, mut replaces) = (None, None, None);
        let (mut diagnoses, mut lines) = (None, None);
        let (out_diagnoses, out_lines) = (&mut out.diagnoses, &mut out.lines);
        // The facts go into the room the last claim's left.
        let mut room = std::mem::take(&mut out.facts).into_room();
        self.fields(&CLAIM_FIELDS, 1, |s, at| {
            match at {
                0 => id = s.opt_str(Some)?,
                1 => payer = s.opt_str(Some)?,
                2 => patient = s.opt(|s| s.patient(cx))?,
                3 => provider = s.opt(|s| s.provider(cx))?,
                4 => place_of_service = s.opt_str(|t| cx.place_of_service(t).ok())?,
                5 => diagnoses = s.opt(|s| s.diagnoses(cx, out_diagnoses))?,
                6 => facts = s.opt(|s| s.facts(cx, &mut room))?,
                // Pointers are checked against the diagnoses, so lines given
                // before them are left to serde_json (clients send them after).
                7 => {
                    diagnoses?;
                    let count = out_diagnoses.len();
                    lines = s.opt(|s| s.lines(cx, count, out_lines))?;
                }
                8 => frequency = s.opt(|s| s.frequency(cx))?,
                _ => replaces = s.opt_str(Some)?,
            }
            Some(())
        })?;
        self.skip_ws();
        if !self.rest.is_empty() {
            return None;
        }
        let ((), (), frequency) = (diagnoses?, lines?, frequency.unwrap_or_default());
        out.id = cx.required_text(id, "id").ok()?;
        out.payer = cx.required_text(payer, "payer").ok()?;
        out.patient = patient?;
        out.replaces = replaces
            .map(|r| cx.replaces(r, frequency))
            .transpose()
            .ok()?;
        out.provider = provider;
        out.place_of_service = place_of_service;
        out.facts = facts.unwrap_or_else(|| Facts::from_sorted(room));
        out.frequency = frequency;
        Some(())
    }

    /// An object whose known fields are all text (`patient`, `provider`): their
    /// values in the order of `names`.
    // Out of line: inlined into the claim's reader, its copies cost more
    // than the calls (about 130 instructions per claim).
    #[inline(never)]
    fn text_fields<const N: usize>(&mut self, keys: &[Key; N]) -> Option<[Option<&'a str>; N]> {
        let mut values = [None; N];
        self.fields(keys, 2, |s, at| {
            *values.get_mut(at as usize)? = s.opt_str(Some)?;
            Some(())
        })?;
        Some(values)
    }

    fn patient(&mut self, cx: &Cx<'_>) -> Option<Patient> {
        let [id, birth_date, sex] = self.text_fields(&PATIENT_FIELDS)?;
        cx.patient(id, birth_date, sex).ok()
    }

    fn provider(&mut self, cx: &Cx<'_>) -> Option<Provider> {
        let [npi, taxonomy] = self.text_fields(&PROVIDER_FIELDS)?;
        cx.provider(npi, taxonomy).ok()
    }

    /// The diagnoses, into `codes` (emptied first).
    fn diagnoses(&mut self, cx: &Cx<'_>, codes: &mut Diagnoses) -> Option<()> {
        codes.clear();
        self.items(|s| {
            let code = cx.diagnosis(codes.len(), s.str()?).ok()?;
            // More than the most a claim may have: the count's rule says so.
            codes.try_push(code).ok()
        })?;
        cx.diagnosis_count(codes.len()).ok()
    }

    /// The lines, into `lines`: each written over an old line where one is
    /// left (the room and contents the last claim left), the rest cut off.
    fn lines(&mut self, cx: &Cx<'_>, diagnoses: usize, lines: &mut Vec<Line>) -> Option<()> {
        // A line built aside and pushed was a 216-byte copy (a `memcpy` call);
        // filled where it lies, each field is stored once.
        let mut count = 0;
        // The lines of a claim nearly always share their date: the last date
        // read is kept with its text, and the same text is not read again.
        let mut last_date = None;
        self.items(|s| {
            if count == lines.len() {
                // Only while the slot's lines grow: claims have one to three.
                lines.push(blank_line());
            }
            let (earlier, rest) = lines.split_at_mut(count);
            let line = rest.first_mut()?;
            s.line(cx, count, diagnoses, earlier, line, &mut last_date)?;
            count += 1;
            Some(())
        })?;
        lines.truncate(count);
        cx.line_count(count).ok()
    }

    /// Line `i`, into `out` (every field overwritten); `earlier` are the lines
    /// before it, for unique numbers; `last_date` the last date of service
    /// read, with its text.
    fn line(
        &mut self,
        cx: &Cx<'_>,
        i: usize,
        diagnoses: usize,
        earlier: &[Line],
        out: &mut Line,
        last_date: &mut Option<(&'a str, NaiveDate)>,
    ) -> Option<()> {
        let (mut number, mut date, mut procedure, mut units) = (None, None, None, None);
        let (mut pointers, mut site, mut muscles, mut injections, mut charge) =
            (None, None, None, None, None);
        // Read straight into the line: absent or `null`, they stay empty.
        let modifiers = &mut out.modifiers;
        modifiers.clear();
        self.fields(&LINE_FIELDS, 3, |s, at| {
            match at {
                0 => number = s.opt(Self::number)?,
                1 => {
                    date = s.opt_str(|t| match *last_date {
                        Some((text, date)) if text == t => Some(date),
                        _ => {
                            let date = cx.date_of_service(i, t).ok()?;
                            *last_date = Some((t, date));
                            Some(date)
                        }
                    })?;
                }
                2 => procedure = s.opt_str(|t| cx.procedure(i, t).ok())?,
                3 => {
                    s.opt(|s| s.modifiers(cx, i, modifiers))?;
                }
                4 => units = s.opt(Self::number)?,
                5 => pointers = s.opt(|s| s.pointers(cx, i, diagnoses))?,
                6 => site = s.opt_str(Some)?,
                7 => muscles = s.opt(|s| cx.tally(i, "muscles", s.number()?).ok())?,
                8 => injections = s.opt(|s| cx.tally(i, "injections", s.number()?).ok())?,
                _ => charge = s.opt(|s| cx.charge(i, s.number()?).ok())?,
            }
            Some(())
        })?;
        let (procedure, procedure_text) = procedure?;
        out.line = cx.line_number(i, number, earlier).ok()?;
        out.date_of_service = date?;
        out.procedure = procedure;
        out.procedure_text = procedure_text;
        out.units = cx.units(i, units).ok()?;
        out.diagnosis_pointers = or_all(pointers, diagnoses);
        out.site = site.map(text);
        out.muscles = muscles;
        out.injections = injections;
        out.charge = charge;
        Some(())
    }

    /// Line `i`'s modifiers, into `modifiers` (empty).
    fn modifiers(&mut self, cx: &Cx<'_>, i: usize, modifiers: &mut Modifiers) -> Option<()> {
        self.items(|s| {
            let given = s.str()?;
            cx.modifier_count(i, modifiers.len() + 1).ok()?;
            let modifier = cx.modifier(i, modifiers.len(), given).ok()?;
            modifiers.try_push(modifier).ok()
        })
    }

    fn pointers(&mut self, cx: &Cx<'_>, i: usize, diagnoses: usize) -> Option<Pointers> {
        let mut pointers = Pointers::new();
        self.items(|s| {
            let n = s.number()?;
            cx.pointer_count(i, pointers.len() + 1).ok()?;
            let pointer = cx
                .pointer(i, pointers.len(), n, diagnoses, &pointers)
                .ok()?;
            pointers.try_push(pointer).ok()
        })?;
        Some(pointers)
    }

    /// Facts, each value checked; then their names. They are gathered in
    /// `room` (emptied first), which the claim's facts then keep.
    fn facts(&mut self, cx: &Cx<'_>, room: &mut Vec<(Text, FactValue)>) -> Option<Facts> {
        room.clear();
        let facts = room;
        self.object(|s, name| {
            let value = match s.peek()? {
                b'"' => RawFact::Text(Cow::Borrowed(s.str()?)),
                b't' => s.literal(b"true").map(|()| RawFact::Bool(true))?,
                b'f' => s.literal(b"false").map(|()| RawFact::Bool(false))?,
                // Refused by the fact rule, whose message serde_json's path gives.
                b'n' | b'{' | b'[' => return None,
                _ => RawFact::Number(s.number()?.as_f64()),
            };
            facts.push((text(name), cx.fact(name, value).ok()?));
            Some(())
        })?;
        cx.fact_names(std::mem::take(facts)).ok()
    }

    /// `frequency_code`, as a string or a whole number.
    fn frequency(&mut self, cx: &Cx<'_>) -> Option<Frequency> {
        if self.peek()? == b'"' {
            return cx.frequency(self.str()?).ok();
        }
        match self.number()? {
            Num::Unsigned(n) => cx.frequency_number(n).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::claims::read::{Obj, RawClaim};
    use crate::claims::validate::validate;

    /// The claim serde_json and validation build from `line`, or `None` when
    /// either refuses it.
    fn slow(line: &str) -> Option<Claim> {
        let Obj(raw) = serde_json::from_str::<Obj<RawClaim>>(line).ok()?;
        validate(raw, 1).ok()
    }

    /// The fast path either leaves the line to the slow one or agrees with it.
    fn agrees(line: &str) -> bool {
        match scan_claim(line.as_bytes()) {
            None => true,
            Some(fast) => slow(line).as_ref() == Some(&fast),
        }
    }

    const FULL: &str = r#"{"id":"CLM-1","payer":"medicare","patient":{"id":"P-1","birth_date":"1957-06-30","sex":"F"},"provider":{"npi":"1234567893","taxonomy":"208VP0014X"},"place_of_service":"11","diagnoses":["M79.18","M54.50"],"facts":{"symptom_duration_days":120,"trigger_points_palpated":true,"relief_percent":50.5,"note":"ok","last":"2026-01-02"},"lines":[{"line":1,"date_of_service":"2026-03-04","procedure":"20553","modifiers":["25"],"units":1,"diagnosis_pointers":[1,2],"site":"cervical","muscles":3,"injections":4,"charge":182.5}],"frequency_code":"7","replaces":"CLM-0"}"#;

    /// [`FULL`] read, every optional field set: what a used claim may hold.
    static FULL_CLAIM: std::sync::LazyLock<Claim> =
        std::sync::LazyLock::new(|| slow(FULL).unwrap_or_else(super::super::slot::empty_claim));

    /// [`FULL`] with `from` replaced by `to` (which must occur).
    fn full_with(from: &str, to: &str) -> String {
        assert!(FULL.contains(from), "{from}");
        FULL.replacen(from, to, 1)
    }

    #[test]
    fn string_length_stops_at_the_first_quote_escape_or_control() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b"\"", Some(0)),
            (b"abc\"", Some(3)),
            (b"abcdefgh\"", Some(8)),
            (b"abcdefghijklmnopq\"rest", Some(17)),
            (b"abcdefg\\\"", None),
            (b"ab\tcdefghij\"", None),
            (b"abcdefghijkl", None),
            (b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"", Some(8)),
            (b"\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x1f\"", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                string_length(input),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// [`string_length`] a byte at a time, as JSON defines a string body.
    fn string_length_reference(rest: &[u8]) -> Option<usize> {
        let end = rest
            .iter()
            .position(|&b| matches!(b, b'"' | b'\\' | 0..=0x1f))?;
        (rest[end] == b'"').then_some(end)
    }

    #[test]
    fn string_length_finds_every_stop_at_every_position_and_length() {
        // Each stopping byte and its near misses, at each position of bodies
        // long and short enough to take each step (16 bytes, 8, one at a time).
        let marks = [
            b'"', b'\\', 0, 0x1f, b' ', 0x7f, 0x80, 0x9f, 0xa2, 0xdc, 0xff,
        ];
        for len in 0..48 {
            for at in 0..len {
                for &mark in &marks {
                    let mut body = vec![b'a'; len];
                    body[at] = mark;
                    assert_eq!(
                        string_length(&body),
                        string_length_reference(&body),
                        "{mark:#x} at {at} of {len}"
                    );
                }
            }
            let mut body = vec![b'a'; len];
            body.push(b'"');
            assert_eq!(string_length(&body), Some(len), "{len}");
        }
    }

    #[test]
    fn keys_are_written_as_compact_json_writes_them() {
        let tables: [&[Key]; 4] = [
            &CLAIM_FIELDS,
            &PATIENT_FIELDS,
            &PROVIDER_FIELDS,
            &LINE_FIELDS,
        ];
        for keys in tables {
            for (i, key) in keys.iter().enumerate() {
                let name = std::str::from_utf8(key.name()).ok();
                assert!(name.is_some_and(|n| !n.is_empty()), "{i}");
                let name = name.unwrap_or_default();
                let written = format!("{}:", serde_json::json!(name));
                assert_eq!(key.written(), written.as_bytes(), "{name}");
                assert_eq!(super::field(name, keys), u32::try_from(i).ok(), "{name}");
                let mut s = scanner(&written);
                assert_eq!(s.expected_key(keys, i), u32::try_from(i).ok(), "{name}");
                assert_eq!(s.at(), written.len(), "{name}");
                // One byte short, or one byte off, is not the key.
                let mut s = scanner(&written[..written.len() - 1]);
                assert_eq!(s.expected_key(keys, i), None, "{name}");
                let off = written.replacen(':', ";", 1);
                let mut s = scanner(&off);
                assert_eq!(s.expected_key(keys, i), None, "{name}");
                assert_eq!(s.at(), 0, "{name}");
            }
            assert_eq!(super::field("", keys), None);
            assert_eq!(super::field("nope", keys), None);
        }
    }

    #[test]
    fn a_known_field_given_twice_is_refused_in_any_order() {
        const KEYS: [Key; 3] = Key::all(["a", "b", "c"]);
        /// The fields `fields` reads from `text`, in order, or `None`.
        fn read(text: &str) -> Option<Vec<u32>> {
            let mut s = scanner(text);
            let mut read = Vec::new();
            s.fields(&KEYS, 1, |s, at| {
                read.push(at);
                s.number().map(drop)
            })?;
            Some(read)
        }
        for (text, want) in [
            (r#"{"a":1,"b":2,"c":3}"#, Some(vec![0, 1, 2])),
            (r#"{"b":1,"a":2,"c":3}"#, Some(vec![1, 0, 2])),
            (r#"{"c":1,"a":2,"b":3}"#, Some(vec![2, 0, 1])),
            (r#"{"a":1,"x":2,"b":3,"x":4}"#, Some(vec![0, 1])),
            (r#"{ "a":1, "b":2}"#, Some(vec![0, 1])),
            (r#"{"a":1,"b":2,"a":3}"#, None),
            (r#"{"a":1,"a":2}"#, None),
            (r#"{"b":1,"a":2,"b":3}"#, None),
            (r#"{"a":1,"c":2,"b":3,"c":4}"#, None),
            (r#"{"a":1, "a":2}"#, None),
            (r#"{"a":1,"b":2,"c":3,"c":4}"#, None),
        ] {
            assert_eq!(read(text), want, "{text}");
        }
    }

    /// A scanner at the start of `text`.
    fn scanner(text: &str) -> Scanner<'_> {
        Scanner::new(text)
    }

    #[test]
    fn white_space_is_skipped_before_tokens_and_nothing_else_is() {
        // JSON's four white space characters, and bytes that look like them.
        for (text, next) in [
            ("{", Some(b'{')),
            (" \t\r\n{", Some(b'{')),
            ("  ", None),
            ("", None),
            ("\x0b{", Some(0x0b)),
            (" \x0c{", Some(0x0c)),
            ("\x00", Some(0)),
        ] {
            let mut s = scanner(text);
            assert_eq!(s.peek(), next, "{text:?}");
            let skipped = text.len() - text.trim_start_matches([' ', '\t', '\r', '\n']).len();
            assert_eq!(s.at(), skipped, "{text:?}");
            let mut s = scanner(text);
            s.skip_ws();
            assert_eq!(s.at(), skipped, "{text:?}");
            let mut s = scanner(text);
            assert_eq!(s.eat(b'{').is_some(), next == Some(b'{'), "{text:?}");
            assert_eq!(
                s.at(),
                skipped + usize::from(next == Some(b'{')),
                "{text:?}"
            );
        }
        let mut s = scanner("\n:");
        assert_eq!(s.eat(b','), None);
        assert_eq!(s.eat(b':'), Some(()));
        assert_eq!(s.at(), 2);
        // `token` consumes the byte it returns, white space before it too.
        let mut s = scanner(",\r\n} ]\x01");
        let mut tokens = Vec::new();
        while let Some(b) = s.token() {
            tokens.push((b, s.at()));
        }
        assert_eq!(tokens, [(b',', 1), (b'}', 4), (b']', 6), (1, 7)]);
        assert_eq!(s.at(), 7);
        let mut s = scanner(" \t ");
        assert_eq!((s.token(), s.at()), (None, 3));
    }

    /// What the scanner reads from `text` as a number, if it reads it.
    fn scanned_number(text: &str) -> Option<Num> {
        let mut s = Scanner::new(text);
        s.number().filter(|_| s.at() == text.len())
    }

    /// A number read by the scanner is bit for bit what serde_json reads.
    fn number_agrees(text: &str) -> bool {
        let want = serde_json::from_str::<serde_json::Number>(text).ok();
        match scanned_number(text) {
            None => true,
            read => same_number(read, want.as_ref()),
        }
    }

    /// The scanner's number is serde_json's, bit for bit and of the same kind.
    fn same_number(read: Option<Num>, want: Option<&serde_json::Number>) -> bool {
        match (read, want) {
            (Some(Num::Unsigned(n)), Some(w)) => w.as_u64() == Some(n),
            (Some(Num::Float(f)), Some(w)) => {
                w.as_f64().map(f64::to_bits) == Some(f.to_bits()) && !w.is_u64()
            }
            _ => false,
        }
    }

    #[test]
    fn numbers_read_as_serde_reads_them() {
        let cases = [
            "0",
            "7",
            "10",
            "0.5",
            "0.05",
            "182.5",
            "125.00",
            "1.1",
            "0.1",
            "0.3",
            "2.675",
            "9007199254740993",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "123456789012345.6",
            "1234567890123456.7",
            "0.000000000000001",
            "1e3",
            "1.5E-2",
            "4.35",
            "1234.5678",
            "999999999999999",
        ];
        for text in cases {
            assert!(number_agrees(text), "{text}");
        }
        // Followed by what ends a value, as in a claim (the one-digit path).
        for text in cases.iter().chain(&["5", "9", "0"]) {
            for end in [",", "}", "]", " "] {
                let line = format!("{text}{end}");
                let mut s = Scanner::new(&line);
                let read = s.number();
                if ["5", "9", "0", "7"].contains(text) {
                    assert!(read.is_some(), "{line}");
                }
                if read.is_some() {
                    assert_eq!(s.at(), text.len(), "{line}");
                }
                let want = serde_json::from_str::<serde_json::Number>(text).ok();
                assert!(
                    read.is_none() || same_number(read, want.as_ref()),
                    "{line}: {read:?} against {want:?}"
                );
            }
        }
        for bad in ["01,", "-1,", "1.,", "1e,"] {
            let mut s = Scanner::new(bad);
            assert!(s.number().is_none_or(|_| s.at() != bad.len() - 1), "{bad}");
        }
        // White space before a number is skipped, one digit or more.
        for (text, want) in [
            (" 7,", Num::Unsigned(7)),
            ("\n\t0]", Num::Unsigned(0)),
            ("  42}", Num::Unsigned(42)),
            ("\r182.5,", Num::Float(182.5)),
        ] {
            let mut s = scanner(text);
            assert_eq!(s.number(), Some(want), "{text:?}");
            assert_eq!(s.at(), text.len() - 1, "{text:?}");
        }
        // The fast path is taken where it should be.
        assert_eq!(scanned_number("182.5"), Some(Num::Float(182.5)));
        assert_eq!(scanned_number("42"), Some(Num::Unsigned(42)));
        for bad in ["01", "1.", ".5", "1e", "-1", "1.e3"] {
            assert!(scanned_number(bad).is_none(), "{bad}");
        }
    }

    /// A number as bits, so that floats compare bit for bit.
    fn bits(n: Num) -> (u8, u64) {
        match n {
            Num::Unsigned(n) => (0, n),
            Num::Signed(n) => (1, n as u64),
            Num::Float(f) => (2, f.to_bits()),
        }
    }

    /// The short path read `line` to a number and position that the general
    /// path and serde_json agree with, or left it to the general path.
    fn short_number_agrees(line: &str) -> Result<bool, String> {
        let mut short = scanner(line);
        let Some(read) = short.short_number() else {
            // Left as it was found, for the general path.
            return if short.at() == 0 {
                Ok(false)
            } else {
                Err(format!("{line:?}: moved and refused"))
            };
        };
        let mut general = scanner(line);
        let want = general.longer_number();
        if want.map(bits) != Some(bits(read)) || general.at() != short.at() {
            return Err(format!(
                "{line:?}: {read:?} to {}, general path {want:?} to {}",
                short.at(),
                general.at()
            ));
        }
        let serde = serde_json::from_str::<serde_json::Number>(&line[..short.at()]).ok();
        if !same_number(Some(read), serde.as_ref()) {
            return Err(format!("{line:?}: {read:?} against serde's {serde:?}"));
        }
        Ok(true)
    }

    #[test]
    fn short_numbers_are_read_at_once_in_a_line_and_at_its_end() {
        for (line, taken) in [
            ("182.5},{", true),
            ("182.5}]}", true),
            // The last bytes of a line, fewer than eight.
            ("12.0}]}", true),
            ("59}", true),
            ("59,", true),
            ("0.5,", true),
            ("0.05,", true),
            ("125.00,", true),
            ("1234567,", true),
            ("12345.6,", true),
            ("123456.7,", false),
            ("1.234567,", false),
            ("1234567", false),
            ("12345678,", false),
            ("1234567.8,", false),
            ("12.5e3,", false),
            ("12e3,", false),
            ("12.,", false),
            ("01,", false),
            ("00.5,", false),
            (" 12,", false),
            ("-12,", false),
            ("12", false),
            ("", false),
        ] {
            // A line shorter than eight bytes (no claim is) has no word to read.
            let whole = taken && line.len() >= 8;
            assert_eq!(short_number_agrees(line), Ok(whole), "{line:?}");
            // Not at the start of the line: `rest` is its end, as in a claim.
            let later = format!("{{\"charge\":{line}");
            let mut s = scanner(&later);
            s.advance(10);
            let mut general = scanner(&later);
            general.advance(10);
            let read = s.short_number();
            // At the very end of the line, zero bytes stop the number too:
            // `12` and `1234567` are read there (and the claim then refused).
            assert!(read.is_some() || !taken, "{later:?}");
            if read.is_none() {
                assert_eq!(s.at(), 10, "{later:?}");
            } else {
                assert_eq!(
                    read.map(bits),
                    general.longer_number().map(bits),
                    "{later:?}"
                );
                assert_eq!(s.at(), general.at(), "{later:?}");
            }
        }
    }

    #[test]
    fn eight_digits_reads_every_count_of_digits() {
        for text in [
            "0", "7", "42", "105", "9999", "31415", "271828", "1000001", "99999999",
        ] {
            let mut word = [0u8; 8];
            word[8 - text.len()..].copy_from_slice(text.as_bytes());
            assert_eq!(
                eight_digits(u64::from_le_bytes(word)),
                text.parse::<u64>().unwrap_or(u64::MAX),
                "{text}"
            );
        }
    }

    proptest! {
        #[test]
        fn generated_numbers_read_as_serde_reads_them(
            int in "(0|[1-9][0-9]{0,21})",
            frac in proptest::option::of("[0-9]{1,18}"),
            exp in proptest::option::of("[eE][+-]?[0-9]{1,3}"),
        ) {
            let text = format!(
                "{int}{}{}",
                frac.map(|f| format!(".{f}")).unwrap_or_default(),
                exp.unwrap_or_default()
            );
            prop_assert!(number_agrees(&text), "{}", text);
        }

        /// The short path on numbers of every shape near the ones it reads,
        /// in the middle of a line and at its end, after white space.
        #[test]
        fn short_numbers_read_as_the_general_path_and_serde_read_them(
            ws in "( |\n)?",
            int in "(0|[1-9][0-9]{0,8}|0[0-9]{1,2})",
            frac in proptest::option::of("[0-9]{0,8}"),
            exp in proptest::option::of("[eE][+-]?[0-9]{0,2}"),
            after in "[,}\\].eE0-9x ]?[,}\\]]{0,8}",
        ) {
            let line = format!(
                "{ws}{int}{}{}{after}",
                frac.map(|f| format!(".{f}")).unwrap_or_default(),
                exp.unwrap_or_default()
            );
            let agreed = short_number_agrees(&line);
            prop_assert!(agreed.is_ok(), "{:?}", agreed);
        }
    }

    #[test]
    fn reads_every_field_of_the_contract_like_serde() {
        let fast = scan_claim(FULL.as_bytes());
        assert!(
            fast.is_some(),
            "the full contract shape takes the fast path"
        );
        assert_eq!(fast, slow(FULL));
    }

    #[test]
    fn reads_bundled_claims_like_serde() {
        let text = include_str!("../../examples/claims.jsonl");
        let mut fast = 0;
        for line in text.lines() {
            assert!(agrees(line), "disagrees with serde_json on {line}");
            fast += usize::from(scan_claim(line.as_bytes()).is_some());
        }
        // Every valid example claim takes the fast path (the file holds a few
        // deliberately broken claims, which the slow path must explain).
        let valid = text.lines().filter(|l| slow(l).is_some()).count();
        assert_eq!(fast, valid);
    }

    #[test]
    fn leaves_what_it_does_not_read_to_serde() {
        // Valid claims of a shape the scanner does not read.
        for line in [
            full_with(r#""id":"CLM-1""#, r#""id":"CLM\u002D1""#),
            full_with(r#""payer":"medicare""#, r#""payer":"medi\"care""#),
            // Lines before the diagnoses their pointers name.
            full_with(r#""diagnoses":["M79.18","M54.50"],"#, "").replacen(
                r#""frequency_code""#,
                r#""diagnoses":["M79.18","M54.50"],"frequency_code""#,
                1,
            ),
            full_with(r#""note":"ok""#, r#""n\u006fte":"ok""#),
            // serde reads 7.0 as the code "7"; the scanner leaves floats to it.
            full_with(r#""frequency_code":"7""#, r#""frequency_code":7.0"#),
            // Deeper than the scanner follows (serde_json goes to 128).
            full_with(
                r#""id":"CLM-1""#,
                &format!(r#""x":{}1{},"id":"CLM-1""#, "[".repeat(40), "]".repeat(40)),
            ),
        ] {
            assert!(slow(&line).is_some(), "valid: {line}");
            assert!(scan_claim(line.as_bytes()).is_none(), "{line}");
        }
        // Lines serde_json or validation refuse: left to them to explain.
        for line in [
            full_with(r#""id":"CLM-1""#, r#""id":"CLM-1","id":"CLM-2""#),
            full_with(r#""replaces":"CLM-0""#, r#""replaces":"CLM-0","#),
            full_with(r#""units":1"#, r#""units":-1"#),
            full_with(r#""units":1"#, r#""units":01"#),
            full_with(r#""units":1"#, r#""units":0"#),
            full_with(r#""units":1"#, r#""units":1e400"#),
            full_with(r#""units":1"#, r#""units":18446744073709551616"#),
            full_with(r#""patient":{"id":"P-1","#, r#""patient":["P-1"],"x":{"#),
            full_with(r#""relief_percent":50.5"#, r#""relief_percent":[1]"#),
            full_with(r#""note":"ok""#, r#""note":null"#),
            full_with(r#""note":"ok""#, r#""note":1,"note":2"#),
            full_with(r#""frequency_code":"7""#, r#""frequency_code":"1""#),
            full_with(
                r#""diagnosis_pointers":[1,2]"#,
                r#""diagnosis_pointers":[1,3]"#,
            ),
            full_with(
                r#""diagnosis_pointers":[1,2]"#,
                r#""diagnosis_pointers":[1,1]"#,
            ),
            full_with(
                r#""diagnosis_pointers":[1,2]"#,
                r#""diagnosis_pointers":[1,2,1,2,1]"#,
            ),
            full_with(
                r#""modifiers":["25"]"#,
                r#""modifiers":["25","59","76","77","91"]"#,
            ),
            full_with(r#""modifiers":["25"]"#, r#""modifiers":["2"]"#),
            full_with(
                r#""date_of_service":"2026-03-04""#,
                r#""date_of_service":"2026-02-30""#,
            ),
            full_with(r#""procedure":"20553""#, r#""procedure":"2055""#),
            full_with(r#""npi":"1234567893""#, r#""npi":"1234567890""#),
            full_with(r#""sex":"F""#, r#""sex":"X""#),
            full_with(r#""place_of_service":"11""#, r#""place_of_service":"1""#),
            full_with(r#""diagnoses":["M79.18","M54.50"]"#, r#""diagnoses":[]"#),
            full_with(r#""lines":[{"#, r#""lines":[],"x":[{"#),
            full_with(r#""id":"CLM-1""#, r#""id":" ""#),
            format!("{FULL} x"),
            format!("{FULL}{FULL}"),
            full_with(r#""id":"CLM-1""#, "\"id\":\"CLM\t1\""),
        ] {
            assert!(slow(&line).is_none(), "refused: {line}");
            assert!(scan_claim(line.as_bytes()).is_none(), "{line}");
        }
    }

    #[test]
    fn takes_what_serde_takes_in_the_common_variations() {
        for line in [
            format!("  {}\r\n", FULL.replace(':', " : ").replace(',', " , ")),
            full_with(
                r#""id":"CLM-1""#,
                r#""extra":{"x":[1,2.5,"s",true,false,null,{}]},"id":"CLM-1""#,
            ),
            full_with(r#""units":1"#, r#""units":2.0"#),
            full_with(r#""charge":182.5"#, r#""charge":0"#),
            full_with(
                r#""diagnosis_pointers":[1,2]"#,
                r#""diagnosis_pointers":[]"#,
            ),
            full_with(
                r#""diagnosis_pointers":[1,2]"#,
                r#""diagnosis_pointers":null"#,
            ),
            full_with(r#""frequency_code":"7""#, r#""frequency_code":8"#),
            full_with(
                r#""relief_percent":50.5"#,
                r#""relief_percent":1e2,"m":0.1"#,
            ),
            full_with(
                r#""id":"CLM-1","payer":"medicare""#,
                r#""id":"é","payer":"日本""#,
            ),
            full_with(
                r#""procedure":"20553","modifiers":["25"]"#,
                r#""procedure":" j3301 ","modifiers":["xs"]"#,
            ),
            full_with(r#","frequency_code":"7","replaces":"CLM-0""#, ""),
            full_with(
                r#""provider":{"npi":"1234567893","taxonomy":"208VP0014X"},"#,
                r#""provider":null,"#,
            ),
        ] {
            let fast = scan_claim(line.as_bytes());
            assert!(fast.is_some(), "{line}");
            assert_eq!(fast, slow(&line), "{line}");
        }
    }

    /// The patient id serde_json reads from `line`, when it reads the whole claim.
    fn serde_patient(line: &str) -> Option<String> {
        let Obj(raw) = serde_json::from_str::<Obj<RawClaim>>(line).ok()?;
        raw.patient?.0.id.map(Cow::into_owned)
    }

    #[test]
    fn finds_the_patient_id_serde_finds() {
        let text = include_str!("../../examples/claims.jsonl");
        let mut found = 0;
        for line in text.lines().chain([
            FULL,
            r#"{"x":[{"patient":{"id":"no"}}],"patient":{"sex":"F","id":"yes"}}"#,
        ]) {
            if let Some(id) = scan_patient_id(line.as_bytes()) {
                found += 1;
                if let Some(serde) = serde_patient(line) {
                    assert_eq!(id, serde, "{line}");
                }
            }
        }
        assert!(found > 590, "{found}");
        assert_eq!(
            scan_patient_id(br#"{"x":[{"patient":{"id":"no"}}],"patient":{"id":"yes"}}"#),
            Some("yes")
        );
        for line in [
            r#"{"patient":{"id":"a\"b"}}"#,
            r#"{"patient":{"id":null}}"#,
            r#"{"id":"x"}"#,
        ] {
            assert_eq!(scan_patient_id(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn finds_the_patient_id_wherever_the_lines_start_is_cut() {
        // Padding before the patient moves it across the end of the start
        // that is read first: the id is found whole, never cut short, also
        // when the cut goes through a character of several bytes or through
        // the id itself, and past the start when it lies beyond.
        for pad in 0..PATIENT_WITHIN + 40 {
            for filler in ["x", "é", "\u{1F600}"] {
                let payer = filler.repeat(pad / filler.len());
                let line = format!(
                    r#"{{"id":"C1","payer":"{payer}","patient":{{"id":"P-123456789","sex":"F"}},"lines":[]}}"#
                );
                assert_eq!(
                    scan_patient_id(line.as_bytes()),
                    Some("P-123456789"),
                    "{pad} {filler}"
                );
            }
        }
        // Invalid UTF-8 after the id does not hide it; before it, it does.
        let mut line = br#"{"patient":{"id":"P1"},"x":""#.to_vec();
        line.extend_from_slice(&[0xff, b'"', b'}']);
        assert_eq!(scan_patient_id(&line), Some("P1"));
        let mut line = br#"{"x":""#.to_vec();
        line.extend_from_slice(&[0xff]);
        line.extend_from_slice(br#"","patient":{"id":"P1"}}"#);
        assert_eq!(scan_patient_id(&line), None);
    }

    #[test]
    fn agrees_with_serde_on_every_mutation_of_a_claim() {
        // Each single-byte deletion, and each insertion of a byte that matters to
        // JSON, at every position of a full claim.
        let bytes = FULL.as_bytes();
        let inserts = b" \",:{}[]0-.e\\n1";
        let mut checked = 0;
        for at in 0..bytes.len() {
            let mut cut = bytes.to_vec();
            cut.remove(at);
            if let Ok(line) = std::str::from_utf8(&cut) {
                assert!(agrees(line), "deleting byte {at}: {line}");
                checked += 1;
            }
            for &b in inserts {
                let mut grown = bytes.to_vec();
                grown.insert(at, b);
                if let Ok(line) = std::str::from_utf8(&grown) {
                    assert!(agrees(line), "inserting {:?} at {at}: {line}", b as char);
                    checked += 1;
                }
            }
        }
        assert!(checked > 10 * bytes.len());
    }

    /// A JSON value of the kinds a claim field may hold, or may wrongly hold.
    fn value() -> BoxedStrategy<String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            (0u64..2000).prop_map(|n| n.to_string()),
            Just("-3".to_string()),
            Just("2.50".to_string()),
            Just("1e2".to_string()),
            Just("18446744073709551616".to_string()),
            "[A-Za-z0-9 .é-]{0,12}".prop_map(|s| format!("\"{s}\"")),
            Just("\"a\\u0041\"".to_string()),
            Just("\"2026-03-04\"".to_string()),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec(("[a-z_]{1,8}", inner), 0..4).prop_map(|fields| {
                    let body: Vec<String> =
                        fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", body.join(","))
                }),
            ]
        })
        .boxed()
    }

    /// A field's value: mostly one of `valid`, sometimes one of `invalid` (for
    /// validation to refuse), now and then any JSON value at all.
    fn field(
        valid: &'static [&'static str],
        invalid: &'static [&'static str],
    ) -> BoxedStrategy<String> {
        prop_oneof![
            100 => proptest::sample::select(valid).prop_map(str::to_owned),
            1 => proptest::sample::select(invalid).prop_map(str::to_owned),
            1 => value(),
        ]
        .boxed()
    }

    /// An object of `fields`, each nearly always there, mostly in the order
    /// given (the contract's), sometimes shuffled, sometimes with an unknown
    /// or repeated key; keys with or without white space around them.
    fn object_of(fields: Vec<(&'static str, BoxedStrategy<String>)>) -> BoxedStrategy<String> {
        let names: Vec<&'static str> = fields.iter().map(|(k, _)| *k).collect();
        let entries: Vec<BoxedStrategy<Option<(String, String, bool)>>> = fields
            .into_iter()
            .map(|(k, v)| {
                proptest::option::weighted(0.97, (v, proptest::bool::weighted(0.1)))
                    .prop_map(move |o| o.map(|(v, spaced)| (k.to_owned(), v, spaced)))
                    .boxed()
            })
            .collect();
        let key = prop_oneof![
            Just("extra".to_owned()),
            proptest::sample::select(names).prop_map(str::to_owned),
        ];
        let extra = proptest::option::weighted(0.08, (key, value()));
        (entries, extra, proptest::bool::weighted(0.2))
            .prop_flat_map(|(entries, extra, shuffled)| {
                let mut list: Vec<(String, String, bool)> = entries.into_iter().flatten().collect();
                if let Some((k, v)) = extra {
                    list.push((k, v, false));
                }
                if shuffled {
                    Just(list).prop_shuffle().boxed()
                } else {
                    Just(list).boxed()
                }
            })
            .prop_map(|fields| {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v, spaced)| {
                        if *spaced {
                            format!(" \"{k}\" : {v} ")
                        } else {
                            format!("\"{k}\":{v}")
                        }
                    })
                    .collect();
                format!("{{{}}}", body.join(","))
            })
            .boxed()
    }

    /// A claim line of the contract's fields, mostly valid.
    fn claim_line() -> impl Strategy<Value = String> {
        let line = object_of(vec![
            (
                "date_of_service",
                field(
                    &["\"2026-03-04\"", "\"2025-12-31\""],
                    &["\"2026-02-30\"", "\"2026-3-4\""],
                ),
            ),
            (
                "procedure",
                field(
                    &["\"20553\"", "\"20552\"", "\" j3301 \""],
                    &["\"2055\"", "\"W1234\""],
                ),
            ),
            (
                "modifiers",
                field(
                    &["[]", "[\"25\"]", "[\"59\",\"xs\"]"],
                    &["[\"x\"]", "[\"25\",\"59\",\"76\",\"77\",\"91\"]"],
                ),
            ),
            ("units", field(&["1", "3", "2.0"], &["0", "1.5"])),
            (
                "diagnosis_pointers",
                field(
                    &["[]", "[1]", "null"],
                    &["[2,1]", "[1,1]", "[3]", "[1,2,3,4,5]", "[0]"],
                ),
            ),
            ("site", field(&["\"cervical\"", "\"lumbar\""], &["\"\""])),
            ("muscles", field(&["3", "0"], &["-2"])),
            ("injections", field(&["4", "1"], &["1.5"])),
            ("charge", field(&["182.5", "0", "125.00"], &["-1"])),
        ]);
        // Line numbers by position (or none), unless an odd one is drawn.
        let number = prop_oneof![
            8 => Just(None),
            8 => Just(Some(String::new())),
            1 => field(&["7"], &["0", "2.5", "-1"]).prop_map(Some),
        ];
        let lines = proptest::collection::vec((line, number), 1..4).prop_map(|lines| {
            let lines: Vec<String> = lines
                .iter()
                .enumerate()
                .map(|(i, (line, number))| match number {
                    None => line.clone(),
                    Some(n) => {
                        let n = if n.is_empty() {
                            (i + 1).to_string()
                        } else {
                            n.clone()
                        };
                        let rest = line.strip_prefix("{}").map_or(&line[1..], |_| "}");
                        let sep = if rest == "}" { "" } else { "," };
                        format!("{{\"line\":{n}{sep}{rest}")
                    }
                })
                .collect();
            format!("[{}]", lines.join(","))
        });
        let patient = object_of(vec![
            ("id", field(&["\"P-1\"", "\"P-2\""], &["\" \""])),
            (
                "birth_date",
                field(&["\"1957-06-30\""], &["\"1957-02-30\""]),
            ),
            ("sex", field(&["\"F\"", "\"m\""], &["\"X\""])),
        ]);
        let provider = object_of(vec![
            (
                "npi",
                field(&["\"1234567893\""], &["\"1234567890\"", "\"123\""]),
            ),
            ("taxonomy", field(&["\"208VP0014X\""], &["1"])),
        ]);
        object_of(vec![
            (
                "id",
                field(&["\"CLM-1\"", "\"CLM-2\""], &["\"\"", "\"  \""]),
            ),
            ("payer", field(&["\"medicare\"", "\"bcbsa\""], &["\"\""])),
            ("patient", prop_oneof![60 => patient, 1 => value()].boxed()),
            (
                "provider",
                prop_oneof![60 => provider, 1 => value()].boxed(),
            ),
            (
                "place_of_service",
                field(&["\"11\"", "\"22\""], &["\"1\"", "\"1a\""]),
            ),
            (
                "diagnoses",
                field(
                    &["[\"M79.18\"]", "[\"M79.18\",\" m5450 \"]"],
                    &["[]", "[\"bad\"]"],
                ),
            ),
            (
                "facts",
                field(
                    &[
                        "{}",
                        "{\"a\":1,\"b\":true}",
                        "{\"d\":\"2026-01-02\",\"t\":\"x\"}",
                    ],
                    &[
                        "{\"a\":1,\"a\":2}",
                        "{\"d\":\"2026-02-30\"}",
                        "{\"n\":null}",
                    ],
                ),
            ),
            ("lines", prop_oneof![60 => lines, 1 => value()].boxed()),
            (
                "frequency_code",
                field(&["\"7\"", "8", "\" 7\""], &["\"9\"", "7.5", "\"1\""]),
            ),
            ("replaces", field(&["\"CLM-0\""], &["\"\""])),
        ])
    }

    #[test]
    fn lines_written_over_older_ones_keep_nothing_of_them() {
        let line = |fields: &str| format!("{{{fields}}}");
        let claim = |lines: &[String]| {
            full_with(
                &FULL[FULL.find(r#""lines":"#).unwrap_or(0)
                    ..FULL.find(r#","frequency_code""#).unwrap_or(0)],
                &format!(r#""lines":[{}]"#, lines.join(",")),
            )
        };
        let every = r#""line":1,"date_of_service":"2026-03-04","procedure":"20553","modifiers":["25","59"],"units":2,"diagnosis_pointers":[2],"site":"cervical","muscles":3,"injections":4,"charge":182.5"#;
        let numbered = |n: u32| line(&every.replacen("\"line\":1", &format!("\"line\":{n}"), 1));
        let befores = [
            claim(&[numbered(1), numbered(2), numbered(3)]),
            // Stepped aside from at the third line, the first two written.
            claim(&[numbered(1), numbered(2), line("\"procedure\":1")]),
        ];
        let afters = [
            // Fewer lines, and fields left out that the old lines had.
            claim(&[line(
                r#""date_of_service":"2026-03-05","procedure":"97110""#,
            )]),
            // Numbers the old lines held, in another order: only this claim's
            // earlier lines count for uniqueness.
            claim(&[numbered(3), numbered(1)]),
            claim(&[numbered(2), numbered(1), numbered(3), numbered(4)]),
            // `null` modifiers over modifiers.
            claim(&[line(
                r#""date_of_service":"2026-03-04","procedure":"20553","modifiers":null"#,
            )]),
        ];
        for before in &befores {
            for after in &afters {
                let fresh = scan_claim(after.as_bytes());
                assert!(fresh.is_some(), "{after}");
                assert_eq!(fresh, slow(after), "{after}");
                let mut used = FULL_CLAIM.clone();
                let _ = scan_claim_into(before.as_bytes(), &mut used);
                let used = scan_claim_into(after.as_bytes(), &mut used).map(|()| used);
                assert_eq!(used, fresh, "{after} after {before}");
            }
        }
    }

    #[test]
    fn generated_claims_often_take_the_fast_path() {
        // The property below is only worth something if the scanner accepts a
        // fair share of what is generated, not just steps aside.
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = claim_line();
        let (mut fast, mut refused, mut total) = (0, 0, 0);
        for _ in 0..500 {
            let Ok(tree) = strategy.new_tree(&mut runner) else {
                continue;
            };
            total += 1;
            let line = proptest::strategy::ValueTree::current(&tree);
            fast += usize::from(scan_claim(line.as_bytes()).is_some());
            refused += usize::from(slow(&line).is_none());
        }
        // And the slow path must refuse a fair share too, or the rules the
        // scanner applies go untested.
        assert!(
            total == 500 && fast > 100 && refused > 100,
            "{fast} of {total} on the fast path, {refused} refused"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// The invariant of the module on generated claims: fields in any
        /// order, repeated, unknown, of the wrong type, breaking a rule, with
        /// escapes and odd numbers.
        #[test]
        fn generated_claims_read_like_serde(line in claim_line()) {
            prop_assert!(agrees(&line), "{}", line);
        }

        /// A claim read into one that held another (read whole, or left half
        /// read when the scanner stepped aside) is the claim read afresh:
        /// every field is overwritten, none kept from before.
        #[test]
        fn a_used_claim_reads_like_a_fresh_one(
            before in claim_line(),
            line in claim_line(),
        ) {
            let mut claim = FULL_CLAIM.clone();
            let _ = scan_claim_into(before.as_bytes(), &mut claim);
            let used = scan_claim_into(line.as_bytes(), &mut claim).map(|()| claim);
            prop_assert_eq!(used, scan_claim(line.as_bytes()), "{} after {}", line, before);
        }
    }
}
