//! Each bundled policy's own test cases, run through the library: every case of
//! every `policies/*.cases.yaml` must pass, and every policy must have cases.

use std::path::Path;

use payer_rules::testing::{cases_for, run_file};

#[test]
fn every_bundled_policy_passes_its_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut policies: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "policy"))
        .collect();
    policies.sort();
    assert!(policies.len() >= 2);
    let mut failures = Vec::new();
    let mut total = 0;
    for policy in &policies {
        let Some(cases) = cases_for(policy) else {
            failures.push(format!("{} has no test cases beside it", policy.display()));
            continue;
        };
        let results = run_file(&cases).unwrap_or_else(|e| panic!("{e}"));
        assert!(!results.is_empty(), "{} has no cases", cases.display());
        total += results.len();
        for r in results.iter().filter(|r| !r.passed()) {
            failures.push(format!(
                "{}: {}\n    {}",
                cases.display(),
                r.name,
                r.failures.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_of_the_reference_policies_fires_in_some_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for (file, rules) in [
        (
            "medicare-tpi.cases.yaml",
            &[
                "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "M10", "M11",
            ][..],
        ),
        ("emblemhealth-tpi.cases.yaml", &["E1", "E2", "E3", "E4"][..]),
    ] {
        let results = run_file(&dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
        for rule in rules {
            assert!(
                results.iter().any(|r| r.fired.contains_key(*rule)),
                "{file}: no case makes {rule} fire"
            );
        }
    }
}
