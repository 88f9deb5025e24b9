//! Tests of the shape checks: NPI check digits, code shapes, codes written the
//! common way, and dates.

use super::shapes::{npi_check_digit, plain_diagnosis, plain_procedure};
use super::*;

/// The Luhn check digit as the NPI standard states it, digit by digit.
fn luhn_reference(body: &str) -> Option<u8> {
    let mut sum = 24;
    for (i, b) in body.as_bytes().iter().rev().enumerate() {
        let d = u32::from(b.checked_sub(b'0').filter(|d| *d <= 9)?);
        sum += if i % 2 == 0 {
            (d * 2) / 10 + (d * 2) % 10
        } else {
            d
        };
    }
    Some(b'0' + ((10 - sum % 10) % 10) as u8)
}

#[test]
fn npi_check_digit_is_luhn() {
    // A spread of 9-digit bodies, every digit at every position among them.
    let mut body = 123_456_789u64;
    let mut seen = [[false; 10]; 9];
    for _ in 0..20_000 {
        body = (body * 48_271 + 12_345) % 1_000_000_007 % 1_000_000_000;
        let text = format!("{body:09}");
        for (at, b) in text.bytes().enumerate() {
            seen[at][usize::from(b - b'0')] = true;
        }
        assert_eq!(npi_check_digit(&text), luhn_reference(&text), "{text}");
    }
    assert!(seen.iter().flatten().all(|s| *s));
    for text in ["000000000", "999999999", "12345678x", "1234"] {
        assert_eq!(
            npi_check_digit(text),
            luhn_reference(text).filter(|_| text.len() == 9),
            "{text}"
        );
    }
}

#[test]
fn npi_luhn_check() {
    for good in [
        "1234567893",
        "1999999992",
        "1000000004",
        "9876543213",
        "1111111112",
    ] {
        assert!(npi_is_valid(good), "{good}");
    }
    for bad in [
        "1234567890",
        "1234567894",
        "1999999991",
        "123456789",
        "12345678930",
        "123456789X",
        "",
        "１234567893",
    ] {
        assert!(!npi_is_valid(bad), "{bad}");
    }
}

#[test]
fn code_shapes() {
    for code in [
        "M79.18", "M7918", "m79.18", "A00", "U07.1", "S52.521A", "Z99.89",
    ] {
        assert!(is_icd10cm_shape(code), "{code}");
    }
    for code in [
        "M7",
        "7M9",
        "MM9",
        "M79.",
        "M7.918",
        "M79.18901",
        "M79181234",
        "M79 1",
        ".M79",
        "M79..1",
    ] {
        assert!(!is_icd10cm_shape(code), "{code}");
    }
    for code in [
        "20552", "00100", "0213T", "3008F", "0001U", "J3301", "A0425", "V2020", "g0283",
    ] {
        assert!(is_procedure_shape(code), "{code}");
    }
    for code in [
        "2055", "205520", "W1234", "J330", "J33011", "0213X", "T123F", "2055.", "ABCDE", "J 301",
    ] {
        assert!(!is_procedure_shape(code), "{code}");
    }
}

/// Rules whose errors are dropped: only what they accept is compared.
const TEST_CX: Cx<'static> = Cx {
    id: None,
    record: 1,
};

/// What the general rule makes of a code: trimmed, packed, and only when
/// it has `shape`.
fn packed_if(given: &str, shape: fn(&str) -> bool) -> Option<CodeKey> {
    let trimmed = trim(given);
    CodeKey::parse(trimmed).filter(|_| shape(trimmed))
}

#[test]
fn plain_procedures_read_as_the_general_rule_reads_them() {
    let cx = TEST_CX;
    let general =
        |given: &str| packed_if(given, is_procedure_shape).map(|key| (key, upper(trim(given))));
    let mut plain = 0;
    // Every code of five characters from an alphabet of the characters
    // each position's rule tells apart (digits, the letters A-V and the
    // F, T, U endings, a letter past V, lowercase, a dot, a space).
    let alphabet = b"09AFTUVZa. ";
    let mut code = [0u8; 5];
    for n in 0..alphabet.len().pow(5) {
        let mut rest = n;
        for slot in &mut code {
            *slot = alphabet[rest % alphabet.len()];
            rest /= alphabet.len();
        }
        let code = String::from_utf8(code.to_vec()).unwrap_or_default();
        plain += usize::from(plain_procedure(&code).is_some());
        assert_eq!(cx.procedure(0, &code).ok(), general(&code), "{code}");
    }
    for code in [
        "2055", "205521", " 20552", "20552 ", "", "J3301", "j3301", "0213T",
    ] {
        assert_eq!(cx.procedure(0, code).ok(), general(code), "{code}");
    }
    assert!(plain > 100, "{plain} codes on the plain path");
}

#[test]
fn plain_diagnoses_read_as_the_general_rule_reads_them() {
    let cx = TEST_CX;
    let general = |given: &str| packed_if(given, is_icd10cm_shape);
    let alphabet = ["M", "m", "7", "9", ".", "A", " ", "-"];
    let mut plain = 0;
    // Codes of up to 8 characters from the alphabet, first three fixed
    // in turn to shapes that pass and fail.
    for head in ["M79", "m79", "M7A", "U07", "7M9", "MM9", "M7.", "M7"] {
        let mut tails = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = tails
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            tails.extend(longer.into_iter().filter(|t| t.len() <= 5));
            tails.sort();
            tails.dedup();
        }
        for tail in &tails {
            let code = format!("{head}{tail}");
            plain += usize::from(plain_diagnosis(&code).is_some());
            assert_eq!(cx.diagnosis(0, &code).ok(), general(&code), "{code}");
        }
    }
    assert!(plain > 100, "{plain} codes on the plain path");
}

#[test]
fn dates_are_strict_iso() {
    assert_eq!(
        parse_date("2024-02-29"),
        NaiveDate::from_ymd_opt(2024, 2, 29)
    );
    for bad in [
        "2026-02-30",
        "2025-02-29",
        "2026-3-04",
        "26-03-04",
        "2026/03/04",
        "2026-03-04T00:00",
        "+2026-03-04",
        "",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
    // Every month and day number, around leap years and the ends of the range.
    for year in [0, 1, 1900, 1999, 2000, 2023, 2024, 2100, 9999] {
        for month in 0..=13 {
            for day in 0..=32 {
                let text = format!("{year:04}-{month:02}-{day:02}");
                assert_eq!(
                    parse_date(&text),
                    NaiveDate::from_ymd_opt(year, month, day),
                    "{text}"
                );
            }
        }
    }
    // A byte other than a digit (or the dashes) anywhere is refused: the
    // bytes either side of the digits and the dash, and those a dash or
    // a digit differs from in one bit.
    for at in 0..10 {
        let near = (0..8).flat_map(|bit| [b'-' ^ (1 << bit), b'0' ^ (1 << bit), b'9' ^ (1 << bit)]);
        for c in [b'/', b':', b'a', b' ', b'-', b'0', 0, 0x7f, 0x80, 0xff]
            .into_iter()
            .chain(near)
        {
            let mut bytes = *b"2024-02-29";
            bytes[at] = c;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let digit_at_digit = c.is_ascii_digit() && at != 4 && at != 7;
            let dash_at_dash = c == b'-' && (at == 4 || at == 7);
            if !(digit_at_digit || dash_at_dash) {
                assert_eq!(parse_date(&text), None, "{text:?}");
            }
        }
    }
}

/// The date reader the word-at-once one replaced: a byte at a time.
fn parse_date_bytewise(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
}

proptest::proptest! {
    /// Dates and near misses of every length read as a byte at a time.
    #[test]
    fn dates_read_as_a_byte_at_a_time(text in "[0-9]{0,4}[-0-9/. ]?[0-9]{0,2}[-0-9/ ]?[0-9]{0,3}") {
        proptest::prop_assert_eq!(parse_date(&text), parse_date_bytewise(&text), "{:?}", text);
    }
}

/// True for a National Provider Identifier: 10 digits whose last is the Luhn
/// check digit of the first 9 prefixed with `80840` (e.g. `1234567893`).
fn npi_is_valid(npi: &str) -> bool {
    npi.len() == 10
        && npi.bytes().all(|b| b.is_ascii_digit())
        && npi_check_digit(npi) == npi.bytes().last()
}
