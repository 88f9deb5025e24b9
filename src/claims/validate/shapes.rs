//! The shapes of the contract's values, public so that other parts of the
//! engine (policy code lists, fixtures) use the same definitions: limits,
//! dates, NPIs and code shapes, and the fast reading of codes written the
//! common way.

use super::*;

/// Most diagnoses a claim may carry (the 837P limit).
pub const MAX_DIAGNOSES: usize = 12;
/// Most modifiers a line may carry.
pub const MAX_MODIFIERS: usize = 4;
/// Most diagnosis pointers a line may carry.
pub const MAX_POINTERS: usize = 4;
/// Most service lines a claim may carry (the 837P limit, loop 2400). It also
/// bounds the work one claim makes: rules that look at the claim's other
/// lines look at no more than 49.
pub const MAX_LINES: usize = 50;

/// Reads a strict ISO `YYYY-MM-DD` date: four-digit year, two-digit month and
/// day, and a day that exists (`2026-02-30` does not).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    // Two dates a claim: the shape is checked and the fields read from one
    // eight-byte word and the two bytes after it, where a byte at a time
    // cost some sixty instructions a date.
    let (head, day) = text.as_bytes().split_first_chunk::<8>()?;
    let &[d1, d2] = day else {
        return None;
    };
    const ONES: u64 = 0x0101_0101_0101_0101;
    // `0` where a digit goes, `-` where a dash does (bytes 4 and 7).
    const DASHES: u64 = 0xff00_00ff_0000_0000;
    const SHAPE: u64 = ((ONES * b'0' as u64) & !DASHES) | ((ONES * b'-' as u64) & DASHES);
    let values = u64::from_le_bytes(*head) ^ SHAPE;
    // Every byte below 10 (the seven-bit addition carries into no other
    // byte), and the dashes exactly so.
    let over_nine = crate::bytes::over_nine(values);
    let (d1, d2) = (d1.wrapping_sub(b'0'), d2.wrapping_sub(b'0'));
    if over_nine != 0 || values & DASHES != 0 || d1 > 9 || d2 > 9 {
        return None;
    }
    let digit = |at: u32| (values >> (8 * at)) as u32 & 0xff;
    let year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
    let month = digit(5) * 10 + digit(6);
    let day = u32::from(d1) * 10 + u32::from(d2);
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// True when `text` has the `dddd-dd-dd` form, whether or not the date exists.
pub(super) fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// The check digit the first 9 digits of `npi` call for, as an ASCII digit.
#[expect(
    clippy::indexing_slicing,
    reason = "`DOUBLED` has 10 entries and is indexed by digits, `v <= 9` (checked above)"
)]
pub(super) fn npi_check_digit(npi: &str) -> Option<u8> {
    // Luhn: the 80840 prefix contributes a fixed 24 to the sum; doubling starts
    // from the rightmost body digit because the check digit will follow it.
    // A doubled digit's digit sum, from a table: the loop it replaces was most
    // of checking a provider.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    let body: [u8; 9] = npi.as_bytes().get(..9)?.try_into().ok()?;
    let d = body.map(|b| b.wrapping_sub(b'0'));
    if d.iter().any(|&v| v > 9) {
        return None;
    }
    let doubled = |v: u8| DOUBLED[usize::from(v)];
    let sum = 24
        + doubled(d[8])
        + doubled(d[6])
        + doubled(d[4])
        + doubled(d[2])
        + doubled(d[0])
        + [d[7], d[5], d[3], d[1]]
            .iter()
            .map(|&v| u32::from(v))
            .sum::<u32>();
    Some(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// True for an ICD-10-CM code shape: a letter, a digit, a letter or digit, then
/// up to 4 letters or digits, optionally after a dot (`M79.18`, `M7918`, `U07.1`).
pub fn is_icd10cm_shape(code: &str) -> bool {
    let b = code.as_bytes();
    let [first, second, third, rest @ ..] = b else {
        return false;
    };
    if !(first.is_ascii_alphabetic() && second.is_ascii_digit() && third.is_ascii_alphanumeric()) {
        return false;
    }
    let rest = match rest {
        [b'.', after @ ..] if !after.is_empty() => after,
        [b'.', ..] => return false,
        _ => rest,
    };
    rest.len() <= 4 && rest.iter().all(u8::is_ascii_alphanumeric)
}

/// True for a CPT or HCPCS Level II code shape: 5 digits (`20552`), 4 digits and
/// `F`, `T` or `U` (CPT category II, III and PLA codes: `0213T`), or a letter A-V
/// and 4 digits (`J3301`). Letters may be either case.
pub fn is_procedure_shape(code: &str) -> bool {
    let [first, middle @ .., last] = code.as_bytes() else {
        return false;
    };
    if code.len() != 5 || !middle.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (first, last) = (first.to_ascii_uppercase(), last.to_ascii_uppercase());
    (first.is_ascii_digit() && (last.is_ascii_digit() || matches!(last, b'F' | b'T' | b'U')))
        || ((b'A'..=b'V').contains(&first) && last.is_ascii_digit())
}

/// The packed key of a procedure code written the common way: five
/// characters, uppercase, no white space. `None` leaves the code to the general
/// rule, which says the same of these codes (tested) at twice the cost.
pub(super) fn plain_procedure(given: &str) -> Option<CodeKey> {
    let b: [u8; 5] = given.as_bytes().try_into().ok()?;
    let [first, .., last] = b;
    let middle = b[1..4].iter().all(u8::is_ascii_digit);
    let shape = if first.is_ascii_digit() {
        last.is_ascii_digit() || matches!(last, b'F' | b'T' | b'U')
    } else {
        (b'A'..=b'V').contains(&first) && last.is_ascii_digit()
    };
    (middle && shape).then(|| CodeKey(u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], 0, 0, 0])))
}

/// The packed key of an ICD-10-CM code written the common way: uppercase, no
/// white space, with or without its dot. `None` leaves the code to the general
/// rule, which says the same of these codes (tested).
pub(super) fn plain_diagnosis(code: &str) -> Option<CodeKey> {
    let upper_or_digit = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let b = code.as_bytes();
    let (head, rest) = b.split_first_chunk::<3>()?;
    let body = match rest {
        [b'.', after @ ..] if !after.is_empty() => after,
        _ => rest,
    };
    let plain = head[0].is_ascii_uppercase()
        && head[1].is_ascii_digit()
        && upper_or_digit(&head[2])
        && body.len() <= 4
        && body.iter().all(upper_or_digit);
    plain.then(|| {
        let mut packed = [0u8; 8];
        for (slot, &c) in packed.iter_mut().zip(head.iter().chain(body)) {
            *slot = c;
        }
        CodeKey(u64::from_be_bytes(packed))
    })
}
