//! Tests of the checker through whole policies: unknown names and their
//! suggestions, types, code systems, ranges, actions and import cycles.

use crate::diagnostic::DiagCode;
use crate::policies::Policies;

fn codes(rules: &str) -> Vec<(DiagCode, String)> {
    let text = format!(
        "policy t {{ payer p version \"1\" effective 2024-01-01.. source \"s\"\n codes tpi = cpt 20552, 20553\n{rules}\n}}"
    );
    Policies::from_source("t.policy", &text)
        .diagnostics
        .into_iter()
        .map(|d| (d.code, d.help.unwrap_or_default()))
        .collect()
}

#[test]
fn a_valid_rule_has_no_diagnostics() {
    assert!(codes(
        "rule A { when line.procedure in tpi require line.units <= 1 else deny CO-151 rarc N362 }"
    )
    .is_empty());
}

#[test]
fn unknown_names_suggest_the_nearest() {
    let d = codes("rule A { when line.procedure in tpj and line.unit > 1 deny CO-1 }");
    assert_eq!(
        d.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        [DiagCode::UnknownCodeSet, DiagCode::UnknownField]
    );
    assert!(d[0].1.contains("`tpi`"), "{}", d[0].1);
    assert!(d[1].1.contains("`line.units`"), "{}", d[1].1);
}

#[test]
fn near_misses_are_suggested_for_records_sets_fields_and_diagnoses() {
    let d = codes(
        "codes dx = icd10 M79.19\n rule A { when line.procedure in tip and lien.units > 1 and claim.place_of_servce == \"11\" and line.diagnoses any in dx deny CO-1 }",
    );
    let help = |code: DiagCode| -> Vec<String> {
        d.iter()
            .filter(|(c, _)| *c == code)
            .map(|(_, h)| h.clone())
            .collect()
    };
    assert_eq!(help(DiagCode::UnknownCodeSet), ["did you mean `tpi`?"]);
    assert_eq!(
        help(DiagCode::UnknownField),
        [
            "did you mean `line`?",
            "did you mean `claim.place_of_service`?"
        ]
    );
    // The nearest codes that exist and are billable, the closest first.
    let dx = help(DiagCode::UnknownDiagnosis);
    assert_eq!(dx.len(), 1);
    assert!(
        dx[0].starts_with("the nearest billable codes are `M79.18`"),
        "{}",
        dx[0]
    );
    for code in dx[0].split('`').skip(1).step_by(2) {
        let found = crate::codes::icd10::lookup(code);
        assert!(
            found.is_some_and(|c| c.kind != crate::codes::icd10::Icd10Kind::Header),
            "{code} is not billable"
        );
    }
}

#[test]
fn incompatible_comparisons_and_code_systems_are_errors() {
    let d = codes(
        "codes dx = icd10 M79.18\n rule A { when line.procedure in tpi and line.units > \"3\" and line.procedure in dx and line.diagnoses in dx deny CO-1 }",
    );
    let got: Vec<DiagCode> = d.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        got,
        [
            DiagCode::TypeMismatch,
            DiagCode::WrongCodeSystem,
            DiagCode::TypeMismatch
        ]
    );
}

#[test]
fn month_windows_have_their_own_range() {
    let ok = "rule A { when count(tpi within 1200 months) >= 1 limit tpi to 4 per 12 months per code else deny CO-151 }";
    assert!(codes(ok).is_empty(), "{:?}", codes(ok));
    let d = codes("rule A { when count(tpi within 1201 months) >= 1 interval tpi at least 0 months else deny CO-151 }");
    let got: Vec<DiagCode> = d.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        got,
        [DiagCode::NumberOutOfRange, DiagCode::NumberOutOfRange]
    );
}

#[test]
fn actions_need_well_formed_codes() {
    let d = codes("rule A { when line.procedure in tpi deny }\n rule B { when line.procedure in tpi deny XX-1 rarc n1 }");
    let got: Vec<DiagCode> = d.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        got,
        [
            DiagCode::InvalidCarc,
            DiagCode::InvalidCarc,
            DiagCode::InvalidRarc
        ]
    );
}

#[test]
fn a_set_defined_through_itself_is_an_error_not_a_crash() {
    let d =
        codes("codes a = b + tpi\n codes b = a\n rule R { when line.procedure in a deny CO-1 }");
    let got: Vec<DiagCode> = d.iter().map(|(c, _)| *c).collect();
    assert_eq!(got, [DiagCode::UnknownCodeSet, DiagCode::UnknownCodeSet]);
}

/// The file and code of each diagnostic of a workspace whose roots are
/// `files` (path, text), in that order.
fn workspace_codes(files: &[(&str, &str)]) -> Vec<(String, DiagCode)> {
    use std::path::PathBuf;
    let map = files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.to_string()))
        .collect();
    let roots: Vec<PathBuf> = files.iter().map(|(path, _)| PathBuf::from(path)).collect();
    let (ws, _) = crate::workspace::Workspace::from_memory(&map, &roots);
    super::check_workspace(&ws)
        .iter()
        .map(|d| (d.file.path.clone(), d.code))
        .collect()
}

#[test]
fn an_import_cycle_is_reported_by_each_file_in_it() {
    let got = workspace_codes(&[
        ("a.policy", "import \"b.policy\"\nlibrary a { }"),
        ("b.policy", "import \"a.policy\"\nlibrary b { }"),
    ]);
    assert_eq!(
        got,
        [
            ("a.policy".to_string(), DiagCode::ImportCycle),
            ("b.policy".to_string(), DiagCode::ImportCycle)
        ]
    );
}

#[test]
fn regions_are_procedure_sets_that_share_no_code_and_are_used_by_name() {
    let regions = "codes lumbar = cpt 62322, 62323\n codes esi = cpt 62320-62323\n \
                   region upper = cpt 62320, 62321\n region lower = lumbar\n";
    let got = |rules: &str| -> Vec<DiagCode> {
        codes(&format!("{regions}{rules}"))
            .into_iter()
            .map(|(c, _)| c)
            // The shared header's `tpi` is used by no rule here.
            .filter(|c| *c != DiagCode::UnusedCodeSet)
            .collect()
    };
    // A range in the counted set holds longer keys the regions' single
    // codes leave out: no code, so no warning.
    assert_eq!(
        got("rule A { when line.procedure in esi limit esi to 1 per day per region else deny CO-1 }\n \
             rule B { when line.procedure in esi and count(esi on same day per region) >= 1 \
               require some other line (other.region == line.region and other.region != \"upper\") else deny CO-1 }"),
        []
    );
    assert_eq!(
        got("rule A { when some other line (other.region == \"uper\") deny CO-1 }"),
        [DiagCode::UnknownRegion]
    );
    assert_eq!(
        got("codes dx = icd10 M54.16\n region d = dx\n region e = nothere\n rule A { when line.procedure in esi deny CO-1 }"),
        [DiagCode::RegionNotProcedures, DiagCode::UnknownCodeSet]
    );
    assert_eq!(
        got("region both = cpt 62321, 62322\n rule A { when line.procedure in esi deny CO-1 }"),
        [DiagCode::OverlappingRegions, DiagCode::OverlappingRegions]
    );
}

#[test]
fn a_library_rule_needs_regions_of_its_own() {
    let got = workspace_codes(&[
        (
            "p.policy",
            "import \"lib.policy\"\npolicy p { payer p version \"1\" effective 2024-01-01.. source \"s\" region r = cpt 62320 }",
        ),
        (
            "lib.policy",
            "library l { rule L { when line.procedure in cpt 62320 limit cpt 62320 to 1 per day per region else deny CO-1 } }",
        ),
    ]);
    assert_eq!(got, [("lib.policy".to_string(), DiagCode::NoRegions)]);
}

#[test]
fn units_charges_and_sums_check_what_they_add_up() {
    let ok = "rule A { when line.procedure in tpi and count(tpi units within 30 days bilateral as 2) >= 4 and sum(tpi charges on same day per code per site) <= 2410.00 and sum(tpi charges within 12 months) != line.charge limit tpi units to 6 per 12 months bilateral as 1 else deny CO-151 rarc N362 }\n                   rule B { when line.procedure in tpi limit tpi charges to 2410 per 365 days per code else deny CO-119 rarc N640 }\n                   rule C { when line.procedure in tpi limit tpi charges to 99999999999999.99 per day else deny CO-119 rarc N640 }";
    assert!(codes(ok).is_empty(), "{:?}", codes(ok));
    let cases: &[(&str, &[DiagCode])] = &[
        ("limit tpi units to 2.5 per day", &[DiagCode::LimitNotWhole]),
        ("limit tpi to 0.5 per day", &[DiagCode::LimitNotWhole]),
        (
            "limit tpi units to 100001 per day",
            &[DiagCode::NumberOutOfRange],
        ),
        (
            "limit tpi units to 99999999999 per day",
            &[DiagCode::NumberOutOfRange],
        ),
        ("limit tpi units to 0 per day", &[DiagCode::ZeroLimit]),
        (
            "limit tpi charges to 0.00 per day",
            &[DiagCode::ChargesLimitOfZero],
        ),
        (
            "limit tpi charges to 0 per day",
            &[DiagCode::ChargesLimitOfZero],
        ),
        (
            "limit tpi charges to 1.00000000000000000000000000001 per day",
            &[DiagCode::NumberOutOfRange],
        ),
        (
            "limit tpi to 6 per day bilateral as 1",
            &[DiagCode::BilateralWithoutUnits],
        ),
        (
            "limit tpi charges to 6 per day bilateral as 2",
            &[DiagCode::BilateralWithoutUnits],
        ),
        (
            "limit tpi units to 6 per day bilateral as 3",
            &[DiagCode::NumberOutOfRange],
        ),
        (
            "limit tpi units to 6 per day bilateral as 0",
            &[DiagCode::NumberOutOfRange],
        ),
    ];
    for (check, want) in cases {
        let rule =
            format!("rule A {{ when line.procedure in tpi {check} else deny CO-151 rarc N362 }}");
        let got: Vec<DiagCode> = codes(&rule).iter().map(|(c, _)| *c).collect();
        assert_eq!(&got, want, "{check}");
    }
    let conditions: &[(&str, &[DiagCode])] = &[
        (
            "count(tpi charges within 30 days) > 1",
            &[DiagCode::MeasureMismatch],
        ),
        ("sum(tpi within 30 days) > 1", &[DiagCode::MeasureMismatch]),
        (
            "sum(tpi units within 30 days) > 1",
            &[DiagCode::MeasureMismatch],
        ),
        (
            "count(tpi within 30 days bilateral as 2) > 1",
            &[DiagCode::BilateralWithoutUnits],
        ),
        (
            "sum(tpi charges within 30 days bilateral as 2) > 1",
            &[DiagCode::BilateralWithoutUnits],
        ),
        (
            "count(tpi units within 30 days bilateral as 9) > 1",
            &[DiagCode::NumberOutOfRange],
        ),
        (
            "sum(tpi charges within 30 days) == \"5\"",
            &[DiagCode::TypeMismatch],
        ),
        (
            "sum(tpi charges within 0 days) > 1",
            &[DiagCode::NumberOutOfRange],
        ),
        (
            "sum(tpi charges within 30 days)",
            &[DiagCode::NotACondition],
        ),
        (
            "sum(dx charges within 30 days) > 1",
            &[DiagCode::WrongCodeSystem],
        ),
    ];
    for (cond, want) in conditions {
        let rule = format!("codes dx = icd10 M79.18\n rule A {{ when line.procedure in tpi and line.diagnoses any in dx and {cond} deny CO-151 rarc N362 }}");
        let got: Vec<DiagCode> = codes(&rule).iter().map(|(c, _)| *c).collect();
        assert_eq!(&got, want, "{cond}");
    }
    let help = codes("rule A { when sum(tpi charges within 30 days) deny CO-151 rarc N362 }");
    assert!(help[0].1.contains("> 2410.00"), "{help:?}");
    let help = codes("rule A { when count(tpi charges within 30 days) > 1 deny CO-151 rarc N362 }");
    assert!(help[0].1.contains("`sum(tpi charges ...)`"), "{help:?}");
}
