//! Tests of the scanner's claims: every field read as serde_json and
//! validation read it, on the contract's shape, its variations and mutations,
//! and the patient id found as serde_json finds it.

use proptest::prelude::*;

use std::borrow::Cow;

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
    let text = include_str!("../../../examples/claims.jsonl");
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
    let text = include_str!("../../../examples/claims.jsonl");
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
