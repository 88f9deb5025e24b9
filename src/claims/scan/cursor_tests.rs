//! Tests of the scanner's cursor: string bodies, keys, white space and numbers
//! read as serde_json reads them.

use proptest::prelude::*;

use super::cursor::eight_digits;
use super::keys::{field, Key, CLAIM_FIELDS, LINE_FIELDS, PATIENT_FIELDS, PROVIDER_FIELDS};
use super::strings::string_length;
use super::*;
use crate::claims::read::Num;

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
            assert_eq!(field(name, keys), u32::try_from(i).ok(), "{name}");
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
        assert_eq!(field("", keys), None);
        assert_eq!(field("nope", keys), None);
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
