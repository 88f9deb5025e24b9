//! The fast path of the JSON Lines reader: one claim read straight from the
//! line's bytes, every string borrowed from the line.
//!
//! It reads the shape clients send (the contract's fields, in any order, with
//! no escapes in strings and plain numbers) and gives up, returning `None`, at
//! anything else: an escape, a duplicate field, a negative number, a value of an
//! unexpected type, malformed JSON. The caller then reads the line with
//! serde_json, which builds the same [`RawClaim`] or reports the error with its
//! path. So the one invariant is: **when this returns `Some`, the value equals
//! what serde_json would have built from the same line** (tested against it on
//! generated and mutated lines). It never has to produce an error message.
//!
//! Why not serde: serde_json spent about 20,000 instructions on a 560-byte
//! claim (allocating every string, validating UTF-8 string by string, matching
//! field names through generic visitors); this reads the same line in a few
//! thousand.

use std::borrow::Cow;

use super::read::{Code, Num, Obj, RawClaim, RawFact, RawFacts, RawLine, RawPatient, RawProvider};

/// Reads one JSON Lines record, or `None` to leave it to serde_json.
pub(super) fn scan_claim(line: &[u8]) -> Option<RawClaim<'_>> {
    // One UTF-8 check of the whole line makes every slice between two quotes a
    // valid `&str`; `simdutf8` checks 32 bytes at a time where the processor
    // can (the standard library's check, a word at a time, was a tenth of
    // reading a claim).
    let text = simdutf8::basic::from_utf8(line).ok()?;
    let mut s = Scanner {
        text,
        bytes: line,
        at: 0,
    };
    let claim = s.claim()?;
    s.skip_ws();
    (s.at == line.len()).then_some(claim)
}

/// The patient id of one JSON Lines record, found without reading the rest of
/// the claim: what parallel evaluation shards by. `None` when the line is not
/// of the plain shape the scanner reads; the caller then asks serde_json.
pub(super) fn scan_patient_id(line: &[u8]) -> Option<&str> {
    let text = simdutf8::basic::from_utf8(line).ok()?;
    let mut s = Scanner {
        text,
        bytes: line,
        at: 0,
    };
    let mut found = None;
    s.object(|s, key| {
        if key != "patient" {
            return s.skip_value(1);
        }
        let Obj(patient) = s.patient()?;
        found = Some(patient.id);
        // Stop here: the id is all that is needed. A second `patient` field,
        // which serde_json refuses, would make the claim an error record on
        // whichever worker gets it.
        None
    });
    match found? {
        Some(Cow::Borrowed(id)) => Some(id),
        _ => None,
    }
}

/// The length of the string body at the start of `rest` (up to its closing
/// quote), or `None` when it holds an escape or a control character (an escape
/// needs decoding, a control character is an error: both are serde_json's to
/// handle) or does not end.
#[inline]
fn string_length(rest: &[u8]) -> Option<usize> {
    // Eight bytes at a time: a byte-by-byte loop was the scanner's largest cost.
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = rest.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        // The classic "has a zero byte" / "has a byte below n" tests; the lowest
        // flagged byte is always a true one, which is the one that matters.
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word);
        let found = found & HIGH;
        if found != 0 {
            let end = at + (found.trailing_zeros() / 8) as usize;
            return (rest[end] == b'"').then_some(end);
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

/// The position of `key` in `names`, comparing lengths first: a `match` on
/// strings compares each arm in turn with a call to `memcmp`, which was most of
/// the cost of reading a service line.
fn field(key: &str, names: &[&str]) -> Option<u32> {
    let first = *key.as_bytes().first()?;
    let at = names
        .iter()
        .position(|n| n.len() == key.len() && n.as_bytes()[0] == first && *n == key)?;
    u32::try_from(at).ok()
}

/// Byte equality of two short slices with a few word compares instead of a
/// call to `memcmp`: the scanner compares every key it meets with the one it
/// expects.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(s: &[u8], at: usize) -> Option<[u8; N]> {
        s.get(at..at + N)?.try_into().ok()
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Two overlapping words cover lengths from one word to two.
    match n {
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        _ => a == b,
    }
}

const CLAIM_FIELDS: [&str; 10] = [
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
];
const PATIENT_FIELDS: [&str; 3] = ["id", "birth_date", "sex"];
const PROVIDER_FIELDS: [&str; 2] = ["npi", "taxonomy"];
const LINE_FIELDS: [&str; 10] = [
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
];

/// 10^0 to 10^15, exact in an f64.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Deepest nesting an ignored value may have before the scanner leaves the line
/// to serde_json (whose own limit is 128).
const MAX_DEPTH: usize = 32;

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Marks fields as seen, so that a field given twice (an error for serde's derived
/// structs) sends the line to the slow path.
#[derive(Default)]
struct Seen(u32);

impl Seen {
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
    #[inline]
    fn skip_ws(&mut self) {
        // Compact JSON has no white space between tokens, and every token
        // starts above the space character: one comparison says so.
        while let Some(&b) = self.bytes.get(self.at) {
            if b > b' ' || !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return;
            }
            self.at += 1;
        }
    }

    /// The next significant byte, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Consumes `word` (`null`, `true`, `false`) at the current position.
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
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
        let start = self.at;
        let end = start + string_length(self.bytes.get(start..)?)?;
        self.at = end + 1;
        self.text.get(start..end)
    }

    fn text(&mut self) -> Option<Cow<'a, str>> {
        self.str().map(Cow::Borrowed)
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
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An object of the known fields `names`, calling `read` with each field's
    /// position in `names` and the cursor at its value; an unknown field's value
    /// is skipped (serde ignores it), at nesting `depth`.
    ///
    /// Clients write fields in one order, usually the contract's: the key after
    /// field `k` is tried as field `k + 1` by comparing bytes in place, before
    /// reading it as a string and looking it up. Keys were most of the strings a
    /// claim holds.
    fn fields(
        &mut self,
        names: &[&str],
        depth: usize,
        mut read: impl FnMut(&mut Self, u32) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        let mut guess = 0;
        loop {
            self.skip_ws();
            let known = match self.expected_key(names, guess) {
                Some(at) => Some(at),
                None => {
                    let key = self.str()?;
                    self.eat(b':')?;
                    field(key, names)
                }
            };
            match known {
                Some(at) => {
                    read(self, at)?;
                    guess = at as usize + 1;
                }
                None => self.skip_value(depth)?,
            }
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// When the input holds `"names[guess]":` at the cursor, moves past it.
    #[inline]
    fn expected_key(&mut self, names: &[&str], guess: usize) -> Option<u32> {
        let name = names.get(guess)?.as_bytes();
        let start = self.at + 1;
        let end = start + name.len();
        let fits = self.bytes.get(self.at) == Some(&b'"')
            && self
                .bytes
                .get(start..end)
                .is_some_and(|key| same(key, name))
            && self.bytes.get(end..end + 2) == Some(b"\":");
        if !fits {
            return None;
        }
        self.at = end + 2;
        u32::try_from(guess).ok()
    }

    /// An array of what `item` reads.
    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.eat(b'[')?;
        // Lists in claims are short; growing from empty cost three reallocations.
        let mut out = Vec::with_capacity(4);
        if self.peek()? == b']' {
            self.at += 1;
            return Some(out);
        }
        loop {
            out.push(item(self)?);
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    /// A non-negative number as serde_json reports it: integers as `u64`, anything
    /// with a fraction or exponent as `f64`, rounded as serde_json rounds it.
    /// Negative numbers are left to serde_json.
    fn number(&mut self) -> Option<Num> {
        self.skip_ws();
        let start = self.at;
        // The digits' value while there are at most 19 of them (any 19 digits fit
        // a u64); `digits` counts them all.
        let mut value = 0u64;
        let mut digits = 0u32;
        match *self.bytes.get(self.at)? {
            b'0' => {
                self.at += 1;
                digits = 1;
            }
            b'1'..=b'9' => self.digits(&mut value, &mut digits),
            _ => return None,
        }
        let mut fraction = None;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            let before = digits;
            self.digits(&mut value, &mut digits);
            fraction = Some(digits.checked_sub(before).filter(|n| *n > 0)?);
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
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
        let text = self.text.get(start..self.at)?;
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
        while let Some(&b) = self.bytes.get(self.at) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            *value = value.wrapping_mul(10).wrapping_add(u64::from(d));
            *count += 1;
            self.at += 1;
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
            b'[' => self.array(|s| s.skip_value(depth + 1)).map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    fn claim(&mut self) -> Option<RawClaim<'a>> {
        let mut raw = RawClaim::default();
        let mut seen = Seen::default();
        self.fields(&CLAIM_FIELDS, 1, |s, at| {
            seen.first(at)?;
            match at {
                0 => raw.id = s.opt(Self::text)?,
                1 => raw.payer = s.opt(Self::text)?,
                2 => raw.patient = s.opt(Self::patient)?,
                3 => raw.provider = s.opt(Self::provider)?,
                4 => raw.place_of_service = s.opt(Self::text)?,
                5 => raw.diagnoses = s.opt(|s| s.array(Self::text))?,
                6 => raw.facts = s.opt(Self::facts)?,
                7 => raw.lines = s.opt(|s| s.array(Self::line))?,
                8 => raw.frequency_code = s.opt(Self::code)?,
                _ => raw.replaces = s.opt(Self::text)?,
            }
            Some(())
        })?;
        Some(raw)
    }

    /// An object whose known fields are all text (`patient`, `provider`): their
    /// values in the order of `names`.
    fn text_fields<const N: usize>(
        &mut self,
        names: &[&str; N],
    ) -> Option<[Option<Cow<'a, str>>; N]> {
        let mut values: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
        let mut seen = Seen::default();
        self.fields(names, 2, |s, at| {
            seen.first(at)?;
            *values.get_mut(at as usize)? = s.opt(Self::text)?;
            Some(())
        })?;
        Some(values)
    }

    fn patient(&mut self) -> Option<Obj<RawPatient<'a>>> {
        let [id, birth_date, sex] = self.text_fields(&PATIENT_FIELDS)?;
        Some(Obj(RawPatient {
            id,
            birth_date,
            sex,
        }))
    }

    fn provider(&mut self) -> Option<Obj<RawProvider<'a>>> {
        let [npi, taxonomy] = self.text_fields(&PROVIDER_FIELDS)?;
        Some(Obj(RawProvider { npi, taxonomy }))
    }

    fn line(&mut self) -> Option<Obj<RawLine<'a>>> {
        let mut raw = RawLine::default();
        let mut seen = Seen::default();
        self.fields(&LINE_FIELDS, 3, |s, at| {
            seen.first(at)?;
            match at {
                0 => raw.line = s.opt(Self::number)?,
                1 => raw.date_of_service = s.opt(Self::text)?,
                2 => raw.procedure = s.opt(Self::text)?,
                3 => raw.modifiers = s.opt(|s| s.array(Self::text))?,
                4 => raw.units = s.opt(Self::number)?,
                5 => raw.diagnosis_pointers = s.opt(|s| s.array(Self::number))?,
                6 => raw.site = s.opt(Self::text)?,
                7 => raw.muscles = s.opt(Self::number)?,
                8 => raw.injections = s.opt(Self::number)?,
                _ => raw.charge = s.opt(Self::number)?,
            }
            Some(())
        })?;
        Some(Obj(raw))
    }

    /// Facts in input order, repeats kept (validation refuses them by name).
    fn facts(&mut self) -> Option<RawFacts<'a>> {
        let mut facts = Vec::new();
        self.object(|s, name| {
            let value = match s.peek()? {
                b'"' => RawFact::Text(s.text()?),
                b't' => s.literal(b"true").map(|()| RawFact::Bool(true))?,
                b'f' => s.literal(b"false").map(|()| RawFact::Bool(false))?,
                b'n' => s.literal(b"null").map(|()| RawFact::Other("null"))?,
                // Objects and arrays are refused by validation; serde_json names them.
                b'{' | b'[' => return None,
                _ => RawFact::Number(s.number()?.as_f64()),
            };
            facts.push((Cow::Borrowed(name), value));
            Some(())
        })?;
        Some(RawFacts(facts))
    }

    /// `frequency_code` as a string or a whole number.
    fn code(&mut self) -> Option<Code> {
        if self.peek()? == b'"' {
            return self.str().map(|s| Code(s.to_owned()));
        }
        match self.number()? {
            Num::Unsigned(n) => Some(Code(n.to_string())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::claims::read::Obj;

    /// What serde_json builds from `line`, or `None` when it refuses the line.
    fn serde(line: &str) -> Option<RawClaim<'_>> {
        serde_json::from_str::<Obj<RawClaim>>(line)
            .ok()
            .map(|Obj(raw)| raw)
    }

    /// The fast path either leaves the line to serde_json or agrees with it.
    fn agrees(line: &str) -> bool {
        match scan_claim(line.as_bytes()) {
            None => true,
            Some(fast) => serde(line).as_ref() == Some(&fast),
        }
    }

    const FULL: &str = r#"{"id":"CLM-1","payer":"medicare","patient":{"id":"P-1","birth_date":"1957-06-30","sex":"F"},"provider":{"npi":"1234567893","taxonomy":"208VP0014X"},"place_of_service":"11","diagnoses":["M79.18","M54.50"],"facts":{"symptom_duration_days":120,"trigger_points_palpated":true,"relief_percent":50.5,"note":"ok","last":"2026-01-02","gone":null},"lines":[{"line":1,"date_of_service":"2026-03-04","procedure":"20553","modifiers":["25"],"units":1,"diagnosis_pointers":[1,2],"site":"cervical","muscles":3,"injections":4,"charge":182.5}],"frequency_code":"7","replaces":"CLM-0"}"#;

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

    #[test]
    fn same_compares_bytes() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "diagnosis_pointers",
        ];
        for x in words {
            for y in words {
                assert_eq!(same(x.as_bytes(), y.as_bytes()), x == y, "{x} {y}");
            }
            for i in 0..x.len() {
                let mut changed = x.as_bytes().to_vec();
                changed[i] ^= 1;
                assert!(!same(x.as_bytes(), &changed), "{x} at {i}");
            }
        }
    }

    /// What the scanner reads from `text` as a number, if it reads it.
    fn scanned_number(text: &str) -> Option<Num> {
        let mut s = Scanner {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        s.number().filter(|_| s.at == text.len())
    }

    /// A number read by the scanner is bit for bit what serde_json reads.
    fn number_agrees(text: &str) -> bool {
        let want = serde_json::from_str::<serde_json::Number>(text).ok();
        match (scanned_number(text), want) {
            (None, _) => true,
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
        // The fast path is taken where it should be.
        assert_eq!(scanned_number("182.5"), Some(Num::Float(182.5)));
        assert_eq!(scanned_number("42"), Some(Num::Unsigned(42)));
        for bad in ["01", "1.", ".5", "1e", "-1", "1.e3"] {
            assert!(scanned_number(bad).is_none(), "{bad}");
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
    }

    #[test]
    fn reads_every_field_of_the_contract_like_serde() {
        let fast = scan_claim(FULL.as_bytes());
        assert!(
            fast.is_some(),
            "the full contract shape takes the fast path"
        );
        assert_eq!(fast, serde(FULL));
    }

    #[test]
    fn reads_bundled_claims_like_serde() {
        let text = include_str!("../../examples/claims.jsonl");
        let mut fast = 0;
        for line in text.lines() {
            assert!(agrees(line), "disagrees with serde_json on {line}");
            fast += usize::from(scan_claim(line.as_bytes()).is_some());
        }
        // Every well-formed example line takes the fast path (the file holds a few
        // deliberately broken claims, which serde_json must explain).
        let parsed = text.lines().filter(|l| serde(l).is_some()).count();
        assert_eq!(fast, parsed);
    }

    #[test]
    fn leaves_what_it_does_not_read_to_serde() {
        for line in [
            r#"{"id":"a\"b","payer":"x"}"#,
            r#"{"id":"a","id":"b"}"#,
            r#"{"id":"a",}"#,
            r#"{"lines":[{"units":-1}]}"#,
            r#"{"lines":[{"units":01}]}"#,
            r#"{"lines":[{"units":1e400}]}"#,
            r#"{"lines":[{"units":18446744073709551616}]}"#,
            r#"{"patient":["P1"]}"#,
            r#"{"facts":{"a":[1]}}"#,
            r#"{"frequency_code":7.0}"#,
            r#"{"id":"a"} x"#,
            r#"{"id":"a"}{"id":"b"}"#,
            "{\"id\":\"a\tb\"}",
            r#"{"extra":{"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}"#,
        ] {
            assert!(scan_claim(line.as_bytes()).is_none(), "{line}");
        }
    }

    #[test]
    fn takes_what_serde_takes_in_the_common_variations() {
        for line in [
            "  {\"id\" : \"a\" , \"payer\":null }\r\n",
            r#"{"extra":{"x":[1,2.5,"s",true,false,null,{}]},"id":"a"}"#,
            r#"{"lines":[{"units":2.0,"charge":0,"diagnosis_pointers":[]}],"diagnoses":[]}"#,
            r#"{"frequency_code":8,"facts":{"n":1e2,"m":0.1}}"#,
            r#"{"id":"é","payer":"日本"}"#,
            r#"{}"#,
        ] {
            let fast = scan_claim(line.as_bytes());
            assert!(fast.is_some(), "{line}");
            assert_eq!(fast, serde(line), "{line}");
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

    /// An object whose keys are drawn from `names` plus an unknown one, in any
    /// order and possibly repeated, with values from `value`.
    fn object_of(
        names: &'static [&'static str],
        value: BoxedStrategy<String>,
    ) -> BoxedStrategy<String> {
        let key = prop_oneof![
            proptest::sample::select(names).prop_map(str::to_owned),
            Just("extra".to_owned()),
        ];
        proptest::collection::vec((key, value, proptest::bool::ANY), 0..8)
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

    fn claim_line() -> impl Strategy<Value = String> {
        let line = object_of(&LINE_FIELDS, value());
        let lines =
            proptest::collection::vec(line, 0..3).prop_map(|l| format!("[{}]", l.join(",")));
        let patient = object_of(&PATIENT_FIELDS, value());
        let field_value = prop_oneof![value(), lines.boxed(), patient].boxed();
        object_of(&CLAIM_FIELDS, field_value)
    }

    #[test]
    fn generated_claims_often_take_the_fast_path() {
        // The property below is only worth something if the scanner accepts a
        // fair share of what is generated, not just steps aside.
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = claim_line();
        let (mut fast, mut total) = (0, 0);
        for _ in 0..500 {
            let Ok(tree) = strategy.new_tree(&mut runner) else {
                continue;
            };
            total += 1;
            let line = proptest::strategy::ValueTree::current(&tree);
            fast += usize::from(scan_claim(line.as_bytes()).is_some());
        }
        assert!(
            total == 500 && fast > 50,
            "{fast} of {total} on the fast path"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// The invariant of the module on generated claims: fields in any
        /// order, repeated, unknown, of the wrong type, with escapes and odd
        /// numbers.
        #[test]
        fn generated_claims_read_like_serde(line in claim_line()) {
            prop_assert!(agrees(&line), "{}", line);
        }
    }
}
