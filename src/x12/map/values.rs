//! The values of 837P elements as the claim shape takes them: X12 decimals
//! (R), whole numbers, `CCYYMMDD` dates and K3 fact values.

use std::borrow::Cow;

use crate::claims::{Num, RawFact};

/// An X12 decimal (R): an optional minus, digits, an optional point and
/// digits. Exponents, `inf` and `NaN`, which Rust's parser takes, are not X12.
pub(super) fn decimal(text: &str) -> Option<f64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plain = !digits.is_empty()
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1;
    plain.then(|| text.parse().ok()).flatten()
}

/// A whole number (K3 counts).
pub(super) fn number(text: &str) -> Option<Num> {
    text.parse::<u64>()
        .map(Num::Unsigned)
        .ok()
        .or_else(|| decimal(text).map(Num::Float))
}

/// `CCYYMMDD` as `CCYY-MM-DD`; validation checks it is a date.
pub(super) fn d8(text: &str) -> Option<String> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = text.split_at_checked(4)?;
    let (month, day) = rest.split_at_checked(2)?;
    // Not `format!`: this runs for every line of every claim.
    let mut iso = String::with_capacity(10);
    iso.push_str(year);
    iso.push('-');
    iso.push_str(month);
    iso.push('-');
    iso.push_str(day);
    Some(iso)
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
