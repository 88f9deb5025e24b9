//! X12 837P agrees with JSON: claims written as 837P (the library's writer,
//! which the generator uses) read back to the very claims the JSON reader
//! built, and the engine's decisions are the same either way. Over the
//! bundled batch and over generated claims (proptest).

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use payer_rules::internal::write_837p;
use payer_rules::{Claim, ClaimReader, Engine, InputFormat, Policies};

fn policies() -> &'static Policies {
    static POLICIES: OnceLock<Policies> = OnceLock::new();
    POLICIES.get_or_init(|| Policies::load(&["policies".into()]).into_result().unwrap())
}

fn read(bytes: &[u8], format: InputFormat) -> Vec<Claim> {
    ClaimReader::new(bytes, format)
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// Each claim's decision (or error record) as JSON, in order, from a fresh
/// in-memory history.
fn decide(claims: &[Claim]) -> Vec<String> {
    let mut engine = Engine::new(policies().clone());
    claims
        .iter()
        .enumerate()
        .map(|(i, c)| serde_json::to_string(&engine.evaluate(c, i + 1)).unwrap())
        .collect()
}

/// JSON claims -> 837P -> claims: the same claims, the same decisions.
fn assert_round_trip(json_claims: &[Claim]) {
    let x12 = write_837p(json_claims, Vec::new(), None).unwrap();
    let again = read(&x12, InputFormat::Auto);
    assert_eq!(again.len(), json_claims.len());
    for (a, b) in json_claims.iter().zip(&again) {
        assert_eq!(a, b, "claim {} differs after 837P", a.id);
    }
    assert_eq!(decide(json_claims), decide(&again));
}

#[test]
fn the_bundled_batch_reads_back_from_837p_with_the_same_decisions() {
    let text = include_str!("../examples/claims.jsonl");
    let claims: Vec<Claim> = ClaimReader::new(text.as_bytes(), InputFormat::JsonLines)
        .filter_map(Result::ok)
        .collect();
    assert!(claims.len() > 500);
    assert_round_trip(&claims);
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

fn fact() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (-1000i64..100_000).prop_map(Value::from),
        (-1000.0f64..1000.0).prop_map(|f| json!((f * 100.0).round() / 100.0)),
        "[a-z][a-z ]{0,8}".prop_map(Value::from),
        "[0-9]{1,4}".prop_map(Value::from),
        Just(json!("true")),
        (2020u32..2027, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| json!(format!("{y}-{m:02}-{d:02}"))),
    ]
}

fn line() -> impl Strategy<Value = Map<String, Value>> {
    (
        pick(&[
            "20552", "20553", "J3301", "99213", "76942", "0213T", "20560",
        ]),
        proptest::collection::vec(pick(&["25", "59", "50", "LT", "RT"]), 0..3),
        proptest::option::of(1u32..4),
        proptest::option::of(proptest::sample::subsequence(vec![1u32, 2, 3], 1..3)),
        proptest::option::of("[a-z][a-z-]{0,10}"),
        proptest::option::of(0u32..6),
        proptest::option::of(0u32..8),
        proptest::option::of((0u32..100_000).prop_map(|c| f64::from(c) / 100.0)),
        (1u32..29),
    )
        .prop_map(
            |(procedure, modifiers, units, pointers, site, muscles, injections, charge, day)| {
                let mut l = Map::new();
                l.insert("date_of_service".into(), json!(format!("2026-03-{day:02}")));
                l.insert("procedure".into(), json!(procedure));
                l.insert("modifiers".into(), json!(modifiers));
                if let Some(u) = units {
                    l.insert("units".into(), json!(u));
                }
                if let Some(p) = pointers {
                    l.insert("diagnosis_pointers".into(), json!(p));
                }
                if let Some(s) = site {
                    l.insert("site".into(), json!(s));
                }
                if let Some(m) = muscles {
                    l.insert("muscles".into(), json!(m));
                }
                if let Some(i) = injections {
                    l.insert("injections".into(), json!(i));
                }
                if let Some(c) = charge {
                    l.insert("charge".into(), json!(c));
                }
                l
            },
        )
}

fn claim() -> impl Strategy<Value = Value> {
    (
        "[A-Z]{1,3}-[0-9]{1,6}",
        pick(&[
            "medicare",
            "aetna",
            "bcbsa",
            "cigna",
            "emblemhealth",
            "humana",
        ]),
        "[A-Z0-9]{1,10}",
        proptest::option::of((1930u32..2020, 1u32..13, 1u32..29)),
        proptest::option::of(pick(&["F", "M", "U"])),
        proptest::option::of((
            proptest::option::of(pick(&["1234567893", "1245319599", "1987654328"])),
            proptest::option::of(pick(&["208VP0014X", "207Q00000X"])),
        )),
        proptest::option::of(pick(&["11", "22", "49"])),
        proptest::collection::vec(
            pick(&["M79.18", "M54.50", "M79.12", "G44.209", "M60.811"]),
            3..5,
        ),
        proptest::collection::btree_map("[a-z_]{1,12}", fact(), 0..4),
        proptest::collection::vec(line(), 1..4),
        prop_oneof![Just(None), Just(Some("7")), Just(Some("8"))],
        proptest::option::of("[A-Z]{1,3}-[0-9]{1,4}"),
    )
        .prop_map(
            |(id, payer, patient, born, sex, provider, pos, dx, facts, lines, freq, replaces)| {
                let mut p = Map::new();
                p.insert("id".into(), json!(patient));
                if let Some((y, m, d)) = born {
                    p.insert("birth_date".into(), json!(format!("{y}-{m:02}-{d:02}")));
                }
                if let Some(s) = sex {
                    p.insert("sex".into(), json!(s));
                }
                let mut c = Map::new();
                c.insert("id".into(), json!(id));
                c.insert("payer".into(), json!(payer));
                c.insert("patient".into(), Value::Object(p));
                // An empty provider object has no 837P form (no NPI and no
                // taxonomy to write); the writer leaves it out.
                if let Some((npi, taxonomy)) = provider.filter(|(n, t)| n.is_some() || t.is_some())
                {
                    let mut v = Map::new();
                    if let Some(n) = npi {
                        v.insert("npi".into(), json!(n));
                    }
                    if let Some(t) = taxonomy {
                        v.insert("taxonomy".into(), json!(t));
                    }
                    c.insert("provider".into(), Value::Object(v));
                }
                if let Some(pos) = pos {
                    c.insert("place_of_service".into(), json!(pos));
                }
                c.insert("diagnoses".into(), json!(dx));
                if !facts.is_empty() {
                    c.insert("facts".into(), json!(facts));
                }
                c.insert("lines".into(), json!(lines));
                if let Some(f) = freq {
                    c.insert("frequency_code".into(), json!(f));
                    if let Some(r) = replaces {
                        c.insert("replaces".into(), json!(r));
                    }
                }
                Value::Object(c)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn generated_claims_read_back_from_837p_with_the_same_decisions(
        claims in proptest::collection::vec(claim(), 1..12)
    ) {
        let text: String = claims.iter().map(|c| format!("{c}\n")).collect();
        // Claims JSON validation refuses (a repeated line number...) have no
        // 837P form; the rest must come back unchanged.
        let valid: Vec<Claim> = ClaimReader::new(text.as_bytes(), InputFormat::JsonLines)
            .filter_map(Result::ok)
            .collect();
        assert_round_trip(&valid);
    }
}
