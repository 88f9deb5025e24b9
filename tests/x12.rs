//! X12 837P input: the hand-written files of `tests/data/x12/`, one per
//! envelope and mapping rule, read into claims and error records that are
//! snapshotted (with the reader's warnings); the kinds each file must give are
//! also asserted, so that a rejection cannot silently disappear.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::path::Path;
use std::sync::Arc;

use payer_rules::internal::write_837p;
use payer_rules::{
    Claim, ClaimError, ClaimReader, Engine, InputFormat, Outcome, PayerIds, Policies, Warning,
};

const DIR: &str = "tests/data/x12";

fn payer_ids() -> Arc<PayerIds> {
    Arc::new(PayerIds::parse("00882 medicare\n").unwrap())
}

/// Everything a file reads to: each record, then the warnings.
fn read(bytes: &[u8], format: InputFormat) -> (Vec<Result<Claim, ClaimError>>, Vec<Warning>) {
    let mut reader = ClaimReader::new(bytes, format).with_payer_ids(payer_ids());
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    while let Some(record) = reader.next() {
        records.push(record);
        warnings.extend(reader.take_warnings());
    }
    warnings.extend(reader.take_warnings());
    (records, warnings)
}

fn render(records: &[Result<Claim, ClaimError>], warnings: &[Warning]) -> String {
    let mut out = String::new();
    for record in records {
        let line = match record {
            Ok(claim) => serde_json::to_string(claim).unwrap(),
            Err(err) => serde_json::to_string(&Outcome::from(err.clone())).unwrap(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    for warning in warnings {
        out.push_str(&format!("warning: {warning}\n"));
    }
    out
}

/// What each file must give, record by record: `ok` for a claim, else the
/// error kind (and for `invalid_claim`, the path).
const EXPECT: &[(&str, &[&str])] = &[
    ("valid.837", &["ok", "ok"]),
    ("tolerated-layout.837", &["ok", "ok"]),
    ("other-delimiters.837", &["ok", "ok"]),
    ("not-x12.837", &["x12_syntax"]),
    ("se01-count.837", &["x12_segment_count", "ok"]),
    ("se02-control.837", &["x12_control_number"]),
    ("hl-sequence.837", &["x12_hierarchy"]),
    ("hl-parent.837", &["x12_hierarchy"]),
    ("hl-parent-level.837", &["x12_hierarchy"]),
    ("segment-before-clm.837", &["x12_segment_order"]),
    ("version.837", &["x12_version"]),
    ("version-gs08.837", &["x12_version"]),
    ("ge-count.837", &["x12_transaction_count"]),
    ("ge-control.837", &["x12_control_number"]),
    ("iea-count.837", &["x12_group_count"]),
    ("iea-control.837", &["x12_control_number"]),
    (
        "missing-se.837",
        &["x12_envelope", "x12_envelope", "x12_envelope"],
    ),
    ("unterminated.837", &["x12_envelope", "x12_syntax"]),
    (
        "wrong-component-separator.837",
        &["invalid_claim lines[0].procedure", "ok"],
    ),
    ("icd9.837", &["invalid_claim diagnoses[1]", "ok"]),
    ("hi-qualifier.837", &["invalid_claim diagnoses[1]", "ok"]),
    (
        "sv101-not-hc.837",
        &["invalid_claim lines[0].procedure", "ok"],
    ),
    (
        "units-fraction.837",
        &["invalid_claim lines[0].units", "ok"],
    ),
    ("unit-basis.837", &["invalid_claim lines[0].units", "ok"]),
    (
        "no-date-of-service.837",
        &["invalid_claim lines[0].date_of_service", "ok"],
    ),
    ("frequency.837", &["invalid_claim frequency_code", "ok"]),
    ("replaces-original.837", &["invalid_claim replaces", "ok"]),
    ("replacement.837", &["ok", "ok"]),
    (
        "rendering-not-npi.837",
        &["invalid_claim provider.npi", "ok"],
    ),
    ("npi-check-digit.837", &["invalid_claim provider.npi", "ok"]),
    (
        "pointer-out-of-range.837",
        &["invalid_claim lines[0].diagnosis_pointers[0]", "ok"],
    ),
    ("unmapped-payer.837", &["ok"]),
    ("dependent-with-id.837", &["ok"]),
    ("anesthesia-hi.837", &["ok"]),
];

fn summary(record: &Result<Claim, ClaimError>) -> String {
    match record {
        Ok(_) => "ok".to_owned(),
        Err(err) => match &err.path {
            Some(path) if err.kind == payer_rules::ErrorKind::InvalidClaim => {
                format!("{} {path}", err.kind)
            }
            _ => err.kind.to_string(),
        },
    }
}

#[test]
fn every_file_reads_as_expected_and_as_snapshotted() {
    let mut files: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "837"))
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECT.iter().map(|(f, _)| *f).collect();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            listed.contains(&name),
            "{name} has no expectation in EXPECT"
        );
    }
    for (name, expected) in EXPECT {
        let bytes = std::fs::read(Path::new(DIR).join(name)).unwrap();
        // A file that is not X12 is only read as X12 when told so.
        let format = if *name == "not-x12.837" {
            InputFormat::X12
        } else {
            InputFormat::Auto
        };
        let (records, warnings) = read(&bytes, format);
        let got: Vec<String> = records.iter().map(summary).collect();
        assert_eq!(&got, expected, "{name}");
        // Record numbers are input positions, as the CLI numbers them.
        for (i, record) in records.iter().enumerate() {
            if let Err(err) = record {
                assert_eq!(err.record, i + 1, "{name}: {err}");
            }
        }
        let snapshot = name.trim_end_matches(".837");
        insta::assert_snapshot!(snapshot, render(&records, &warnings));
    }
}

#[test]
fn the_valid_file_maps_as_the_contract_says() {
    let bytes = std::fs::read(Path::new(DIR).join("valid.837")).unwrap();
    let (records, warnings) = read(&bytes, InputFormat::Auto);
    let first = records[0].as_ref().unwrap();
    assert_eq!(first.id, "TPI-1");
    // 2010BB, mapped; never the receiver (1000B) or the other payer (2330B).
    assert_eq!(first.payer, "medicare");
    assert_eq!(first.patient.id, "MBI0001");
    // 2310B rendering provider and its PRV*PE.
    let provider = first.provider.as_ref().unwrap();
    assert_eq!(provider.npi.as_deref(), Some("1245319599"));
    assert_eq!(provider.taxonomy.as_deref(), Some("208VP0014X"));
    // REF*F8 of 2330B is not the claim's.
    assert_eq!(first.replaces, None);
    assert_eq!(first.diagnoses.len(), 2, "HI*BG is skipped");
    assert_eq!(first.lines[0].modifiers.as_slice(), ["59"]);
    assert_eq!(first.lines[0].site.as_deref(), Some("cervical"));
    assert_eq!(first.lines[1].units, 1, "1.00 is 1");
    assert_eq!(first.lines[1].date_of_service.to_string(), "2026-03-04");
    let second = records[1].as_ref().unwrap();
    // A dependent with no id of their own: never the subscriber's.
    assert_eq!(second.patient.id, "MBI0001/DOE/JIM/20100101");
    assert_eq!(second.patient.sex.map(|s| s.as_str()), Some("M"));
    // No 2310B: the billing provider and its PRV*BI.
    let provider = second.provider.as_ref().unwrap();
    assert_eq!(provider.npi.as_deref(), Some("1234567893"));
    assert_eq!(provider.taxonomy.as_deref(), Some("207Q00000X"));
    assert_eq!(second.lines[1].units, 1, "MJ minutes count as 1 unit");
    let said: Vec<String> = warnings.iter().map(|w| w.message.clone()).collect();
    assert!(said.iter().any(|m| m.contains("MJ")), "{said:?}");
    assert!(said.iter().any(|m| m.contains("CLM02")), "{said:?}");
}

#[test]
fn a_dependent_with_an_id_of_their_own_is_that_patient() {
    let bytes = std::fs::read(Path::new(DIR).join("dependent-with-id.837")).unwrap();
    let (records, _) = read(&bytes, InputFormat::Auto);
    let claim = records[0].as_ref().unwrap();
    // 2010CA NM109, not the subscriber's id nor one made from it.
    assert_eq!(claim.patient.id, "DEP0002");
    assert_eq!(
        claim.patient.birth_date.map(|d| d.to_string()).as_deref(),
        Some("2010-01-01")
    );
    assert_eq!(claim.payer, "medicare");
}

#[test]
fn anesthesia_hi_segments_are_not_diagnoses() {
    let bytes = std::fs::read(Path::new(DIR).join("anesthesia-hi.837")).unwrap();
    let (records, warnings) = read(&bytes, InputFormat::Auto);
    let claim = records[0].as_ref().unwrap();
    let diagnoses: Vec<String> = claim.diagnoses.iter().map(|d| d.to_string()).collect();
    assert_eq!(diagnoses, ["M7918", "M5450"], "HI*BP and HI*BO skipped");
    assert_eq!(claim.lines[0].diagnosis_pointers.as_slice(), [1, 2]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn layouts_and_delimiters_read_to_the_same_claims() {
    let read_ok = |name: &str| {
        let bytes = std::fs::read(Path::new(DIR).join(name)).unwrap();
        read(&bytes, InputFormat::Auto)
            .0
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
    };
    let valid = read_ok("valid.837");
    assert_eq!(read_ok("tolerated-layout.837"), valid);
    assert_eq!(read_ok("other-delimiters.837"), valid);
}

#[test]
fn an_unmapped_payer_id_is_no_policy_naming_the_id() {
    let policies = Policies::load(&["policies".into()]).into_result().unwrap();
    let mut engine = Engine::new(policies);
    let bytes = std::fs::read(Path::new(DIR).join("unmapped-payer.837")).unwrap();
    let (records, _) = read(&bytes, InputFormat::Auto);
    let claim = records[0].as_ref().unwrap();
    let Outcome::Error(record) = engine.evaluate(claim, 1) else {
        panic!("not an error");
    };
    assert_eq!(record.error.kind, payer_rules::ErrorKind::NoPolicy);
    assert!(
        record.error.message.contains("`77777`"),
        "{}",
        record.error.message
    );
}

#[test]
fn answers_wait_for_the_iea_up_to_a_bound_then_stream() {
    // 5000 claims in one interchange whose IEA02 is wrong: the answers held
    // (4096 at most) are rejected with it, the ones released early are counted.
    let text = include_str!("../examples/claims.jsonl");
    let claims: Vec<Claim> = ClaimReader::new(text.as_bytes(), InputFormat::JsonLines)
        .filter_map(Result::ok)
        .collect();
    let many: Vec<Claim> = claims.iter().cycle().take(5000).cloned().collect();
    let out = write_837p(&many, Vec::new(), None).unwrap();
    let good = read(&out, InputFormat::Auto).0;
    assert_eq!(good.len(), 5000);
    assert!(good.iter().all(Result::is_ok));
    let text = String::from_utf8(out).unwrap();
    let bad = text.replace("IEA*1*000000001~", "IEA*1*000000002~");
    let (records, _) = read(bad.as_bytes(), InputFormat::Auto);
    assert_eq!(records.len(), 5000);
    let rejected: Vec<&ClaimError> = records.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        !rejected.is_empty() && rejected.len() < 5000,
        "{}",
        rejected.len()
    );
    assert!(
        rejected[0].message.contains("had already been released"),
        "{}",
        rejected[0].message
    );
    assert!(rejected
        .iter()
        .all(|e| e.kind == payer_rules::ErrorKind::X12ControlNumber));
}

#[test]
fn no_mutation_of_a_valid_file_panics_and_what_reads_writes_back() {
    // Every byte deleted, or replaced by a delimiter or a digit; every
    // truncation. The fuzz target (fuzz/fuzz_targets/x12.rs) goes further.
    let bytes = std::fs::read(Path::new(DIR).join("valid.837")).unwrap();
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for i in 0..bytes.len() {
        let mut cut = bytes.clone();
        cut.remove(i);
        inputs.push(cut);
        for b in [b'*', b'~', b':', b'^', b'0', b'\n'] {
            let mut changed = bytes.clone();
            changed[i] = b;
            inputs.push(changed);
        }
        inputs.push(bytes[..i].to_vec());
    }
    for input in &inputs {
        let (records, _) = read(input, InputFormat::X12);
        assert!(!records.is_empty());
        let claims: Vec<Claim> = records.into_iter().filter_map(Result::ok).collect();
        if let Ok(out) = write_837p(&claims, Vec::new(), Some(payer_ids())) {
            let again: Vec<Claim> = read(&out, InputFormat::X12)
                .0
                .into_iter()
                .filter_map(Result::ok)
                .collect();
            assert_eq!(again, claims, "{}", String::from_utf8_lossy(input));
        }
    }
}

#[test]
fn buffers_of_any_size_read_the_same() {
    // Segments straddle the reader's buffer anywhere.
    for name in [
        "valid.837",
        "tolerated-layout.837",
        "other-delimiters.837",
        "se01-count.837",
    ] {
        let bytes = std::fs::read(Path::new(DIR).join(name)).unwrap();
        let whole = render(&read(&bytes, InputFormat::Auto).0, &[]);
        // From 4: a byte-order mark is only recognized whole in the buffer.
        for size in (4..80).chain([127, 128, 129, 500]) {
            let input = std::io::BufReader::with_capacity(size, bytes.as_slice());
            let records: Vec<_> = ClaimReader::new(input, InputFormat::Auto)
                .with_payer_ids(payer_ids())
                .collect();
            assert_eq!(
                render(&records, &[]),
                whole,
                "{name} with a buffer of {size}"
            );
        }
    }
}
