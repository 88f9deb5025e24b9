//! The element values' readers.

use super::values::{d8_iso, decimal, fact_value, iso_text};
use crate::claims::RawFact;

#[test]
fn decimals_are_x12_decimals() {
    assert_eq!(decimal("182.5"), Some(182.5));
    assert_eq!(decimal("-1"), Some(-1.0));
    assert_eq!(decimal("1.00"), Some(1.0));
    for bad in ["", "-", ".", "1e5", "inf", "NaN", "1.2.3", "+1"] {
        assert_eq!(decimal(bad), None, "{bad}");
    }
}

#[test]
fn dates_and_facts() {
    assert_eq!(
        d8_iso("20260304").as_ref().map(iso_text),
        Some("2026-03-04")
    );
    assert_eq!(d8_iso("2026034"), None);
    assert_eq!(d8_iso("2026O304"), None);
    assert!(matches!(fact_value("true"), RawFact::Bool(true)));
    assert!(matches!(fact_value("120"), RawFact::Integer(120)));
    assert!(matches!(
        fact_value("-9007199254740993"),
        RawFact::Integer(-9007199254740993)
    ));
    assert!(matches!(fact_value("120.0"), RawFact::Number(n) if n == 120.0));
    assert!(matches!(fact_value("+120"), RawFact::Text(_)));
    assert!(matches!(fact_value("\"120\""), RawFact::Text(t) if t == "120"));
    assert!(matches!(fact_value("2026-01-02"), RawFact::Text(t) if t == "2026-01-02"));
}

/// The decimals `decimal` reads itself are the values `str::parse` gives:
/// every shape of up to 20 digits, a point anywhere, a minus or not.
#[test]
fn decimals_read_as_the_standard_parser_reads_them() {
    let plain = |text: &str| {
        let digits = text.strip_prefix('-').unwrap_or(text);
        !digits.is_empty()
            && digits.bytes().any(|b| b.is_ascii_digit())
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && digits.bytes().filter(|&b| b == b'.').count() <= 1
    };
    // A fixed pseudo-random sequence (xorshift), so that a failure repeats.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..200_000 {
        let len = (next() % 21) as usize;
        let mut text: String = (0..len)
            .map(|_| char::from(b'0' + (next() % 10) as u8))
            .collect();
        if next() % 2 == 0 {
            let at = (next() as usize) % (len + 1);
            text.insert(at, '.');
        }
        if next() % 3 == 0 {
            text.insert(0, '-');
        }
        let want = plain(&text).then(|| text.parse::<f64>().ok()).flatten();
        let got = decimal(&text);
        assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{text}");
    }
}
