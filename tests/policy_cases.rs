//! Each bundled policy's own test cases, run through the library: every case of
//! every `policies/**/*.cases.yaml` must pass, every policy must have cases, and
//! every rule of a policy (the rules it imports included) must fire in some case.
//!
//! Libraries (`policies/lib/`) have no cases of their own: they are never selected
//! for claims, so their rules are exercised through the cases of the policies that
//! import them, and every library must be imported by some bundled policy, or
//! (an optional library that no bundled payer adopts) by an example payer under
//! `tests/data/` with cases of its own.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use payer_rules::internal::ast::ModuleKind;
use payer_rules::internal::Workspace;
use payer_rules::tooling::{cases_for, run_cases, run_cases_within, run_file};

fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

/// Example payers that adopt the optional libraries, each with its cases.
fn adopters() -> Vec<PathBuf> {
    vec![Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/session-limits/session-limits-example.policy")]
}

/// Every `.policy` file below `policies/` with its module kind, in path order.
fn bundled() -> Vec<(PathBuf, ModuleKind)> {
    let (ws, diags) = Workspace::load(&[policies_dir()]);
    assert!(diags.is_empty(), "{diags:?}");
    let mut files: Vec<(PathBuf, ModuleKind)> = ws
        .units
        .iter()
        .filter(|u| u.root)
        .filter_map(|u| Some((PathBuf::from(&u.file.path), u.module()?.kind)))
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn policy_files() -> Vec<PathBuf> {
    bundled()
        .into_iter()
        .filter(|(_, kind)| *kind == ModuleKind::Policy)
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn every_bundled_policy_passes_its_cases() {
    let policies = policy_files();
    assert!(policies.len() >= 5, "{policies:?}");
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
fn every_rule_of_every_bundled_policy_fires_in_some_case() {
    let mut missing = Vec::new();
    for policy in policy_files() {
        let Some(cases) = cases_for(&policy) else {
            continue; // reported by the test above
        };
        let report = run_cases(&cases).unwrap_or_else(|e| panic!("{e}"));
        assert!(!report.rules.is_empty(), "{}", policy.display());
        for coverage in report.coverage() {
            for rule in coverage.unexercised() {
                missing.push(format!(
                    "{}: no case makes {} fire",
                    cases.display(),
                    rule.id
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_library_rule_is_exercised_through_an_importing_policy() {
    let mut roots = vec![policies_dir()];
    roots.extend(adopters());
    let (ws, _) = Workspace::load(&roots);
    let mut fired: BTreeSet<String> = BTreeSet::new();
    for policy in policy_files().into_iter().chain(adopters()) {
        if let Some(cases) = cases_for(&policy) {
            let report =
                run_cases_within(&cases, &[policies_dir()]).unwrap_or_else(|e| panic!("{e}"));
            for r in &report.cases {
                fired.extend(r.fired.keys().cloned());
            }
        }
    }
    let mut libraries = 0;
    for unit in ws
        .units
        .iter()
        .filter(|u| u.root && Path::new(&u.file.path).starts_with(policies_dir()))
    {
        let Some(module) = unit.module() else {
            continue;
        };
        if module.kind != ModuleKind::Library {
            continue;
        }
        libraries += 1;
        assert!(
            cases_for(Path::new(&unit.file.path)).is_none(),
            "{}: a library is never selected for claims; test it through the policies that import it",
            unit.file.path
        );
        let imported = ws.units.iter().any(|other| {
            other.module().is_some_and(|m| m.kind == ModuleKind::Policy)
                && other
                    .imports
                    .iter()
                    .flatten()
                    .any(|&i| ws.units[i].file.path == unit.file.path)
        });
        let rules: Vec<&str> = module
            .items
            .iter()
            .filter_map(|item| match item {
                payer_rules::internal::ast::Item::Rule(r) => Some(r.id.node.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            imported || rules.is_empty(),
            "{}: no bundled policy imports this library, so its rules never run",
            unit.file.path
        );
        for rule in rules {
            assert!(
                fired.contains(rule),
                "{}: no case of an importing policy makes {rule} fire",
                unit.file.path
            );
        }
    }
    assert!(libraries >= 3, "expected the libraries of policies/lib/");
}

#[test]
fn every_rule_of_the_reference_policies_fires_in_some_case() {
    let dir = policies_dir();
    for (file, rules) in [
        (
            "medicare-tpi.cases.yaml",
            &[
                "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "M10", "M11", "M12",
            ][..],
        ),
        ("emblemhealth-tpi.cases.yaml", &["E1", "E2", "E4", "E5"][..]),
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
