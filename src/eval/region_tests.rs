//! Tests of regions (`region NAME = SET`): `per region` on limits,
//! intervals and counts, `line.region` and `other.region`, regions from an
//! imported library and from each of several policies, and the counts of a
//! history long enough to be indexed.

use std::path::Path;

use super::*;

/// The epidural codes by spinal region (CPT descriptors: 62320-62321 and
/// 64479-64480 cervical or thoracic, 62322-62323 and 64483-64484 lumbar or
/// sacral), 77003 (fluoroscopic guidance) and the TPI codes in no region.
const REGIONS: &str = "codes esi = cpt 62320, 62321, 62322, 62323, 64479, 64480, 64483, 64484\n \
     codes guidance = cpt 77003\n \
     codes tpi = cpt 20552, 20553\n \
     region cervical_thoracic = cpt 62320, 62321, 64479, 64480\n \
     region lumbar_sacral = cpt 62322, 62323, 64483, 64484\n";

fn policy(id: &str, body: &str) -> String {
    format!(
        "policy {id} \"test\" {{\n payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n{body}\n}}\n"
    )
}

fn engine_of(files: &[(&str, String)]) -> Engine {
    // Every diagnostic but the unused sets of the shared header and the
    // warning about codes in no region, which a test counts on purpose.
    Engine::new(support_tests::load_files(files, |d| {
        support_tests::unused_sets(d) || d.code == crate::diagnostic::DiagCode::CodesInNoRegion
    }))
}

/// A policy of payer `p` with the regions above and `rules`.
fn engine(rules: &str) -> Engine {
    engine_of(&[("t.policy", policy("t", &format!("{REGIONS}{rules}")))])
}

/// A claim of patient `patient`: lines of (date, code, extra line fields).
fn claim(id: &str, patient: &str, lines: &[(&str, &str, &str)]) -> Claim {
    let lines: Vec<String> = lines
        .iter()
        .map(|(date, code, extra)| {
            format!(r#"{{"date_of_service":"{date}","procedure":"{code}"{extra}}}"#)
        })
        .collect();
    let json = format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"{patient}"}},"diagnoses":["M54.16"],"lines":[{}]}}"#,
        lines.join(",")
    );
    support_tests::read_claim(&json)
}

/// Each line's fired rule ids.
fn fired(engine: &mut Engine, claim: &Claim) -> Vec<Vec<String>> {
    match engine.evaluate(claim, 1) {
        Outcome::Decision(d) => support_tests::rules_fired(&d),
        other => panic!("no decision: {other:?}"),
    }
}

fn none() -> Vec<String> {
    Vec::new()
}

const ONE_A_DAY: &str =
    "rule E1 { when line.procedure in esi limit esi to 1 per day per region else deny CO-151 }";

#[test]
fn a_cervical_and_a_lumbar_injection_on_one_day_pass_two_cervical_ones_do_not() {
    let mut e = engine(ONE_A_DAY);
    let c = claim(
        "A",
        "P1",
        &[("2025-03-03", "62321", ""), ("2025-03-03", "62323", "")],
    );
    assert_eq!(fired(&mut e, &c), [none(), none()], "two regions");
    let c = claim(
        "B",
        "P2",
        &[("2025-03-03", "62321", ""), ("2025-03-03", "64479", "")],
    );
    assert_eq!(
        fired(&mut e, &c),
        [none(), vec!["E1".to_string()]],
        "one region"
    );
    // Without `per region` the lumbar injection is the second of the day.
    let mut plain =
        engine("rule E1 { when line.procedure in esi limit esi to 1 per day else deny CO-151 }");
    let c = claim(
        "A",
        "P1",
        &[("2025-03-03", "62321", ""), ("2025-03-03", "62323", "")],
    );
    assert_eq!(fired(&mut plain, &c), [none(), vec!["E1".to_string()]]);
}

#[test]
fn a_service_in_history_counts_in_its_own_region_only() {
    let mut e = engine(ONE_A_DAY);
    e.record_prior(&claim("H", "P", &[("2025-03-03", "64483", "")]));
    // The same day: a cervical injection passes, a lumbar one does not; a
    // lumbar one the next day passes.
    assert_eq!(
        fired(&mut e, &claim("C", "P", &[("2025-03-03", "62320", "")])),
        [none()]
    );
    assert_eq!(
        fired(&mut e, &claim("L", "P", &[("2025-03-03", "62322", "")])),
        [vec!["E1".to_string()]]
    );
    assert_eq!(
        fired(&mut e, &claim("N", "P", &[("2025-03-04", "62322", "")])),
        [none()]
    );
}

#[test]
fn codes_in_no_region_are_a_region_of_their_own() {
    let mut e = engine(
        "rule G { when line.procedure in (esi + guidance + tpi) limit (esi + guidance + tpi) to 1 per day per region else deny CO-151 }",
    );
    // 77003 and 20552 are both in no region: the second is over; the
    // cervical injection between them is in a region of its own.
    let c = claim(
        "A",
        "P",
        &[
            ("2025-03-03", "77003", ""),
            ("2025-03-03", "62321", ""),
            ("2025-03-03", "20552", ""),
        ],
    );
    assert_eq!(fired(&mut e, &c), [none(), none(), vec!["G".to_string()]]);
}

#[test]
fn intervals_and_counts_per_region() {
    let mut e = engine(
        "rule I { when line.procedure in esi interval esi at least 14 days per region else deny CO-151 }\n \
         rule K { when line.procedure in esi and count(esi within 30 days before per region) >= 1 allow }\n \
         rule S { when line.procedure in esi and count(esi on same day per region) >= 1 allow }",
    );
    e.record_prior(&claim("H", "P", &[("2025-03-01", "62323", "")]));
    // Ten days later: a cervical injection is the first of its region, a
    // lumbar one is 10 days after the last of its own.
    let c = claim(
        "C",
        "P",
        &[("2025-03-11", "62321", ""), ("2025-03-11", "64483", "")],
    );
    assert_eq!(
        fired(&mut e, &c),
        [none(), vec!["I".to_string(), "K".to_string()]]
    );
    // The claim's own earlier line counts on the same day, in its region.
    let c = claim(
        "D",
        "Q",
        &[("2025-03-11", "64479", ""), ("2025-03-11", "64480", "")],
    );
    assert_eq!(fired(&mut e, &c), [none(), vec!["S".to_string()]]);
}

#[test]
fn line_region_is_the_region_of_the_code_and_missing_outside_every_region() {
    let mut e = engine(
        "rule C { when line.region == \"cervical_thoracic\" allow }\n \
         rule L { when line.region in [\"lumbar_sacral\"] allow }\n \
         rule M { when line.region is missing allow }\n \
         rule N { when line.region != \"lumbar_sacral\" allow }",
    );
    let c = claim(
        "A",
        "P",
        &[
            ("2025-03-03", "64480", ""),
            ("2025-03-03", "62322", ""),
            ("2025-03-03", "20552", ""),
        ],
    );
    assert_eq!(
        fired(&mut e, &c),
        [
            vec!["C".to_string(), "N".to_string()],
            vec!["L".to_string()],
            // Missing: `!=` is false on it, as on any missing value.
            vec!["M".to_string()],
        ]
    );
}

#[test]
fn other_region_reads_the_other_lines_region() {
    let mut e = engine(
        "rule A { when line.procedure in cpt 64480, 64484 \
           require some other line (other.procedure in cpt 64479, 64483 and other.region == line.region) \
           else deny CO-B15 rarc N122 }",
    );
    let c = claim(
        "A",
        "P",
        &[
            ("2025-03-03", "64479", ""),
            ("2025-03-03", "64484", ""),
            ("2025-03-03", "64480", ""),
        ],
    );
    assert_eq!(fired(&mut e, &c), [none(), vec!["A".to_string()], none()]);
}

#[test]
fn per_region_combines_with_per_code_and_per_site() {
    let mut e = engine(
        "rule C { when line.procedure in esi limit esi to 1 per day per code per region else deny CO-151 }\n \
         rule S { when line.procedure in esi limit esi to 1 per day per region per site else deny CO-151 }",
    );
    let left = r#","site":"left""#;
    let right = r#","site":"right""#;
    let c = claim(
        "A",
        "P",
        &[
            ("2025-03-03", "64483", left),
            // Another code of the region, at the other site: neither fires.
            ("2025-03-03", "62323", right),
            // The first code again, at the first site: both fire.
            ("2025-03-03", "64483", left),
        ],
    );
    assert_eq!(
        fired(&mut e, &c),
        [none(), none(), vec!["C".to_string(), "S".to_string()]]
    );
}

#[test]
fn regions_come_from_an_imported_library() {
    let lib = "library esi-regions {\n \
         codes esi = cpt 62320, 62321, 62322, 62323, 64479, 64480, 64483, 64484\n \
         region cervical_thoracic = cpt 62320, 62321, 64479, 64480\n \
         region lumbar_sacral = cpt 62322, 62323, 64483, 64484\n}\n";
    let mut e = engine_of(&[
        ("lib/esi.policy", lib.to_string()),
        (
            "a.policy",
            format!(
                "import \"lib/esi.policy\"\n{}",
                policy(
                    "a",
                    &format!(
                        "{ONE_A_DAY}\n rule R {{ when line.region == \"lumbar_sacral\" allow }}"
                    )
                )
            ),
        ),
    ]);
    let c = claim(
        "A",
        "P",
        &[
            ("2025-03-03", "62321", ""),
            ("2025-03-03", "62323", ""),
            ("2025-03-03", "64483", ""),
        ],
    );
    assert_eq!(
        fired(&mut e, &c),
        [
            none(),
            vec!["R".to_string()],
            vec!["E1".to_string(), "R".to_string()]
        ]
    );
}

#[test]
fn each_policy_of_a_line_reads_its_own_regions() {
    // Two policies of one payer: `a` puts 62321 in region `upper`, `b` in
    // none. The line's region is looked up once per policy, not once per
    // line.
    let mut e = engine_of(&[
        (
            "a.policy",
            policy(
                "a",
                "region upper = cpt 62320, 62321\n rule A { when line.region == \"upper\" allow }",
            ),
        ),
        (
            "b.policy",
            policy(
                "b",
                "region lower = cpt 62322, 62323\n rule B { when line.region is missing allow }",
            ),
        ),
    ]);
    let c = claim("A", "P", &[("2025-03-03", "62321", "")]);
    assert_eq!(fired(&mut e, &c), [vec!["A".to_string(), "B".to_string()]]);
}

#[test]
fn a_long_history_counts_per_region_as_a_short_one_does() {
    // Past `CodeIndex::FROM` services a member's counts read the index by
    // procedure and site: the same counts, region by region.
    let rules = "rule L { when line.procedure in esi limit esi to 400 per 3650 days per region else deny CO-151 }";
    let mut e = engine(rules);
    let mut day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    // 300 lumbar and 400 cervical services, one a day.
    for i in 0..700 {
        let code = if i % 7 < 3 { "62323" } else { "64479" };
        let date = day.format("%Y-%m-%d").to_string();
        e.record_prior(&claim("H", "P", &[(date.as_str(), code, "")]));
        day = day.succ_opt().unwrap_or(day);
    }
    let date = day.format("%Y-%m-%d").to_string();
    // The 301st lumbar service passes, the 401st cervical one does not.
    assert_eq!(
        fired(&mut e, &claim("L", "P", &[(date.as_str(), "64483", "")])),
        [none()]
    );
    assert_eq!(
        fired(&mut e, &claim("C", "P", &[(date.as_str(), "62320", "")])),
        [vec!["L".to_string()]]
    );
}

#[test]
fn the_test_payer_of_tests_data_regions_passes_its_cases() {
    let cases =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/regions/esi-example.cases.yaml");
    let report = crate::testing::run_cases(&cases).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.cases.len() >= 5, "{}", report.cases.len());
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !c.passed())
        .map(|c| format!("{}: {}", c.name, c.failures.join("; ")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    for coverage in report.coverage() {
        assert_eq!(
            coverage.unexercised().count(),
            0,
            "every rule fires in a case"
        );
    }
}
