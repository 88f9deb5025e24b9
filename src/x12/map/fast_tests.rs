//! The fast path against the general one: on every file of `tests/data/x12/`,
//! on the bundled batch written as 837P, and on a part of it changed one
//! element (or one segment id) at a time, reading with the fast path gives
//! the very records and warnings the general path alone gives. And the fast
//! path is the one taken: for every claim of the bundled batch.

use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;

use super::fast::{FAST_CLAIMS, GENERAL_ONLY};
use crate::claims::{read_claims_str, Claim, ClaimError, InputFormat, Warning};
use crate::x12::{write_837p, PayerIds, X12Reader};

/// What an input reads to, and how many claims the fast path built.
type Read = (Vec<Result<Claim, ClaimError>>, Vec<Warning>, usize);

fn read(bytes: &[u8], general_only: bool) -> Read {
    GENERAL_ONLY.with(|g| g.set(general_only));
    FAST_CLAIMS.with(|n| n.set(0));
    let ids = Arc::new(PayerIds::parse("00882 medicare\n").unwrap());
    let mut reader = X12Reader::new(bytes, 0, Some(ids));
    let (mut records, mut warnings) = (Vec::new(), Vec::new());
    while let Some(record) = reader.next() {
        records.push(record);
        warnings.extend(reader.take_warnings());
    }
    warnings.extend(reader.take_warnings());
    GENERAL_ONLY.with(|g| g.set(false));
    (records, warnings, FAST_CLAIMS.with(Cell::get))
}

/// Reads `bytes` both ways; they must agree. How many claims went the fast
/// way.
fn assert_same(bytes: &[u8], what: &str) -> usize {
    let (records, warnings, fast) = read(bytes, false);
    let (general, general_warnings, none) = read(bytes, true);
    assert_eq!(none, 0);
    assert_eq!(records, general, "{what}");
    assert_eq!(warnings, general_warnings, "{what}");
    fast
}

fn bundled() -> Vec<Claim> {
    let text = include_str!("../../../examples/claims.jsonl");
    read_claims_str(text, InputFormat::JsonLines)
        .into_iter()
        .filter_map(Result::ok)
        .collect()
}

#[test]
fn every_test_file_reads_the_same_either_way() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/x12");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert_same(&bytes, &path.display().to_string());
        files += 1;
    }
    assert!(files > 20, "{files} files in {}", dir.display());
}

#[test]
fn the_bundled_batch_takes_the_fast_path_and_reads_the_same() {
    let claims = bundled();
    assert!(claims.len() > 500);
    let x12 = write_837p(&claims, Vec::new(), None).unwrap();
    let fast = assert_same(&x12, "the bundled batch");
    assert_eq!(fast, claims.len(), "claims the fast path left");
    let (records, _, _) = read(&x12, false);
    let read: Vec<Claim> = records.into_iter().map(Result::unwrap).collect();
    assert_eq!(read, claims);
}

/// The values an element is changed to: empty, not a number, numbers of
/// every kind, dates, qualifiers and codes the mapper reads.
const VALUES: &[&str] = &[
    "",
    "X",
    "0",
    "1",
    "2",
    "-1",
    "1.5",
    "99999999999",
    "20240230",
    "19000101",
    "D8",
    "RD8",
    "UN",
    "MJ",
    "HC:20552:25",
    "ABK:Z9989",
    "BK:7231",
    "FACT x=1",
    "SITE ",
    "MUSCLES x",
    "XX",
    "F8",
    "82",
    "PE",
];

/// Segment ids a segment is changed to (the count of segments stays, so the
/// transaction set's SE01 still holds).
const IDS: &[&str] = &[
    "LX", "SV1", "DTP", "K3", "HI", "NM1", "REF", "LIN", "SBR", "PRV", "CLM",
];

#[test]
fn changed_claims_read_the_same_either_way() {
    // Twelve claims of the batch (those with facts, sites and several
    // lines among them), written alone: each change is read whole.
    let claims: Vec<Claim> = bundled().into_iter().take(12).collect();
    let x12 = String::from_utf8(write_837p(&claims, Vec::new(), None).unwrap()).unwrap();
    let segments: Vec<&str> = x12.split_terminator('~').collect();
    let envelope = ["ISA", "GS", "ST", "BHT", "SE", "GE", "IEA"];
    let mut changes = 0;
    for (at, segment) in segments.iter().enumerate() {
        let elements: Vec<&str> = segment.trim().split('*').collect();
        if envelope.contains(&elements[0]) {
            continue;
        }
        let mut variants: Vec<String> = Vec::new();
        for e in 1..elements.len() {
            for value in VALUES {
                let mut changed = elements.clone();
                changed[e] = value;
                variants.push(changed.join("*"));
            }
        }
        for id in IDS {
            let mut changed = elements.clone();
            changed[0] = id;
            variants.push(changed.join("*"));
        }
        for variant in variants {
            let mut text: Vec<&str> = segments.clone();
            text[at] = &variant;
            let input = text.join("~") + "~";
            assert_same(input.as_bytes(), &format!("segment {at} as `{variant}`"));
            changes += 1;
        }
    }
    assert!(changes > 1000, "{changes}");
}
