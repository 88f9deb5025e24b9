//! The values of 837P elements as the claim shape takes them: X12 decimals
//! (R), whole numbers, `CCYYMMDD` dates and K3 fact values; and the X12-only
//! readings (SV101's `HC`, SV103's basis, HI's qualifiers, NM108's `XX`),
//! which both paths of the mapper take from here.

use std::borrow::Cow;

use crate::claims::{Num, RawFact};

use arrayvec::ArrayVec;

use super::super::transaction::{pieces, split_once};

/// An X12 decimal (R): an optional minus, digits, an optional point and
/// digits. Exponents, `inf` and `NaN`, which Rust's parser takes, are not X12.
pub(super) fn decimal(text: &str) -> Option<f64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, text),
    };
    // One pass: the digits as a whole number, and how many follow the point.
    let (mut whole, mut count, mut point) = (0u64, 0u32, None);
    for (at, b) in digits.bytes().enumerate() {
        match b {
            b'0'..=b'9' => {
                whole = whole.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                count = count.saturating_add(1);
            }
            b'.' if point.is_none() => point = Some(at),
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    let after = point.map_or(0, |at| digits.len() - at - 1);
    // Up to 15 digits the whole number and the power of ten are exact
    // doubles, and one division of exact doubles is correctly rounded: the
    // value `str::parse` gives (which cost some 110 instructions an amount,
    // read three times a line).
    match POWERS.get(after) {
        Some(&power) if count <= 15 => {
            let value = whole as f64 / power;
            Some(if negative { -value } else { value })
        }
        _ => text.parse().ok(),
    }
}

/// Powers of ten that doubles hold exactly, for [`decimal`].
const POWERS: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A whole number (K3 counts).
pub(super) fn number(text: &str) -> Option<Num> {
    text.parse::<u64>()
        .map(Num::Unsigned)
        .ok()
        .or_else(|| decimal(text).map(Num::Float))
}

/// `CCYYMMDD` as the bytes of `CCYY-MM-DD` (validation checks it is a
/// date), on the stack: the fast path reads every line's date and the
/// patient's birth date without allocating.
pub(super) fn d8_iso(text: &str) -> Option<[u8; 10]> {
    let &[y1, y2, y3, y4, m1, m2, d1, d2] = <&[u8; 8]>::try_from(text.as_bytes()).ok()?;
    let iso = [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2];
    [y1, y2, y3, y4, m1, m2, d1, d2]
        .iter()
        .all(u8::is_ascii_digit)
        .then_some(iso)
}

/// The text of a date [`d8_iso`] made (ASCII digits and dashes).
pub(super) fn iso_text(iso: &[u8; 10]) -> &str {
    std::str::from_utf8(iso).unwrap_or_default()
}

/// DTP*472's date of service: D8, or the start of an RD8 range.
pub(super) fn service_date(format: &str, value: &str) -> Option<[u8; 10]> {
    match format {
        "D8" => d8_iso(value),
        "RD8" => split_once(value, b'-').and_then(|(start, _)| d8_iso(start)),
        _ => None,
    }
}

/// DMG's birth date (DMG02, in the format DMG01 names): `Ok(None)` when not
/// given, `Err` when not D8.
pub(super) fn birth_date(format: &str, born: &str) -> Result<Option<[u8; 10]>, ()> {
    if born.is_empty() {
        return Ok(None);
    }
    d8_iso(born).filter(|_| format == "D8").map(Some).ok_or(())
}

/// SV101 read: the procedure, and the modifiers given.
pub(super) struct Sv101<'a> {
    /// The code when SV101-1 is `HC` (CPT/HCPCS), else the qualifier given.
    pub(super) procedure: Result<&'a str, &'a str>,
    /// SV101-3 to SV101-6, those not empty.
    pub(super) modifiers: ArrayVec<&'a str, 4>,
}

/// SV101's procedure and modifiers, its components read in one pass.
pub(super) fn sv101(sv101: &str, component: char) -> Sv101<'_> {
    let mut components = pieces(sv101, component);
    let qualifier = components.next().unwrap_or_default();
    let code = components.next().unwrap_or_default();
    let mut modifiers = ArrayVec::new();
    // SV101-3 to SV101-6; SV101-7, a description, is not read.
    for modifier in components.take(4).filter(|m| !m.is_empty()) {
        // Four at most: `take(4)`.
        if modifiers.try_push(modifier).is_err() {
            break;
        }
    }
    Sv101 {
        procedure: if qualifier == "HC" {
            Ok(code)
        } else {
            Err(qualifier)
        },
        modifiers,
    }
}

/// SV102: the line's charge, when given; `Err` when it is not an amount.
pub(super) fn charge(sv102: &str) -> Result<Option<f64>, ()> {
    match sv102 {
        "" => Ok(None),
        text => decimal(text).map(Some).ok_or(()),
    }
}

/// A whole number: LX01 (the line number), an SV107 component (a diagnosis
/// pointer).
pub(super) fn whole(text: &str) -> Option<u64> {
    text.parse().ok()
}

/// SV103 and SV104 read together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Units {
    /// `UN` and a quantity.
    Count(f64),
    /// `MJ` (minutes): counted as one unit, with a warning.
    Minutes,
    /// `UN` and no quantity that is a number.
    BadQuantity,
    /// Neither `UN` nor `MJ`.
    BadBasis,
}

/// The units SV103 (the basis) and SV104 (the quantity) give.
pub(super) fn units(basis: &str, quantity: &str) -> Units {
    match basis {
        "UN" => decimal(quantity).map_or(Units::BadQuantity, Units::Count),
        "MJ" => Units::Minutes,
        _ => Units::BadBasis,
    }
}

/// Whether an HI element's qualifier is ICD-10-CM (ABK principal, ABF other).
pub(super) fn icd10_qualifier(qualifier: &str) -> bool {
    matches!(qualifier, "ABK" | "ABF")
}

/// Whether an HI segment, by its first qualifier, is skipped: anesthesia
/// procedures (BP, BO) and condition codes (BG) are not diagnoses.
pub(super) fn skipped_hi(first: &str) -> bool {
    matches!(first, "BP" | "BO" | "BG")
}

/// K3's text as payer-rules' convention reads it: the key (`FACT`, `SITE`,
/// `MUSCLES`, `INJECTIONS`) and the rest after a space.
pub(super) fn k3_parts(text: &str) -> (&str, &str) {
    split_once(text, b' ').unwrap_or((text, ""))
}

/// A `K3*FACT` value's name and value, around `=`.
pub(super) fn fact_parts(value: &str) -> (&str, &str) {
    split_once(value, b'=').unwrap_or((value, ""))
}

/// A provider's NM108 and NM109: `Ok(Some(npi))` for an NPI (`XX`),
/// `Ok(None)` when neither is given, `Err` for another kind of id.
pub(super) fn npi<'a>(qualifier: &str, id: &'a str) -> Result<Option<&'a str>, ()> {
    match (qualifier, id) {
        ("", "") => Ok(None),
        ("XX", id) => Ok(Some(id)),
        _ => Err(()),
    }
}

/// A fact's value as written after `=`: `true`/`false`, a number (exact when
/// whole, without a decimal point, and within 64 bits), a quoted text, else
/// text (which validation reads as a date when it is one).
pub(super) fn fact_value(text: &str) -> RawFact<'_> {
    match text {
        "true" => RawFact::Bool(true),
        "false" => RawFact::Bool(false),
        _ => {
            if let Some(quoted) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                return RawFact::Text(Cow::Borrowed(quoted));
            }
            match decimal(text) {
                // A whole number kept exact, as JSON's is (`1.0` is a float).
                Some(n) => text
                    .parse::<i64>()
                    .map_or(RawFact::Number(n), RawFact::Integer),
                None => RawFact::Text(Cow::Borrowed(text)),
            }
        }
    }
}
