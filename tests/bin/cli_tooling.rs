//! Integration tests of the policy tooling through the binary: `fmt` and the
//! diff and coverage parts of `test`.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::path::{Path, PathBuf};

mod common;

use common::{run, text};

/// A fresh directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    common::temp_dir("tooling", test)
}

fn write(path: &Path, content: &str) {
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

const UNFORMATTED: &str = "// A small policy.\npolicy p \"t\" { payer x version \"1\"\n effective 2024-01-01 .. source \"s\"\n\n\n  codes tpi=cpt 20552,20553 // the TPI codes\n  rule R1 { when line.procedure in tpi require line.units<=1 else deny CO-151 rarc N362 }\n}\n";

const FORMATTED: &str = "// A small policy.
policy p \"t\" {
  payer x
  version \"1\"
  effective 2024-01-01..
  source \"s\"

  codes tpi = cpt 20552, 20553 // the TPI codes
  rule R1 {
    when line.procedure in tpi
    require line.units <= 1
      else deny CO-151 rarc N362
  }
}
";

#[test]
fn fmt_check_shows_a_diff_writes_nothing_and_exits_1() {
    let dir = temp_dir("check");
    let file = dir.join("p.policy");
    write(&file, UNFORMATTED);
    let out = run(&["fmt", "--check", arg(&dir)]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("--- "), "{stdout}");
    assert!(stdout.contains("p.policy (formatted)"), "{stdout}");
    assert!(stdout.contains("@@ "), "{stdout}");
    assert!(
        stdout.contains("-  codes tpi=cpt 20552,20553 // the TPI codes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+  codes tpi = cpt 20552, 20553 // the TPI codes"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("1 need formatting"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(read(&file), UNFORMATTED, "--check must not write");
}

#[test]
fn fmt_rewrites_files_in_place_and_then_check_passes() {
    let dir = temp_dir("rewrite");
    let file = dir.join("p.policy");
    write(&file, UNFORMATTED);
    let out = run(&["fmt", arg(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(&file), FORMATTED);
    let out = run(&["fmt", "--check", arg(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(out.stdout.is_empty());
}

/// Copies a directory tree; returns the `*.policy` files copied.
fn copy_tree(from: &Path, to: &Path) -> Vec<PathBuf> {
    let mut policies = Vec::new();
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
    {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            policies.extend(copy_tree(&src, &dst));
        } else {
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("{e}"));
            if dst.extension().is_some_and(|e| e == "policy") {
                policies.push(dst);
            }
        }
    }
    policies
}

#[test]
fn fmt_is_idempotent_over_the_bundled_policies() {
    let dir = temp_dir("bundled");
    let files = copy_tree(&common::root("policies"), &dir);
    assert!(files.len() >= 2);
    let out = run(&["fmt", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let once: Vec<String> = files.iter().map(|f| read(f)).collect();
    let out = run(&["fmt", "--check", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(&["fmt", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let twice: Vec<String> = files.iter().map(|f| read(f)).collect();
    assert_eq!(once, twice);
    // The formatted policies still check clean and pass their cases.
    let out = run(&["check", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&["test", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn fmt_reports_syntax_errors_as_diagnostics_and_leaves_the_file() {
    let dir = temp_dir("syntax");
    let file = dir.join("broken.policy");
    let broken = "policy p {\n  rule R {\n    when line.units > \n    deny CO-1\n  }\n}\n";
    write(&file, broken);
    let out = run(&["fmt", arg(&file)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("PR001"), "{stderr}");
    assert!(stderr.contains("broken.policy:4:5"), "{stderr}");
    assert_eq!(read(&file), broken);
}

#[test]
fn fmt_on_a_missing_path_exits_2() {
    let out = run(&["fmt", "--check", "no/such/dir.policy"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot read"));
}

const POLICY: &str = "policy t \"T\" {
  payer p
  version \"1\"
  effective 2024-01-01..
  source \"s\"

  codes tpi = cpt 20552
  codes dn  = cpt 20560

  rule R1 \"one unit\" {
    when line.procedure in tpi
    require line.units <= 1
      else deny CO-151 rarc N362
  }

  rule R2 \"no dry needling\" {
    when line.procedure in dn
    deny CO-96
  }
}
";

fn case(name: &str, procedure: &str, units: u32, expect: &str) -> String {
    format!(
        "  - name: \"{name}\"\n    claims:\n      - {{id: C, payer: p, patient: {{id: P}}, diagnoses: [M79.18], lines: [{{date_of_service: 2025-01-01, procedure: \"{procedure}\", units: {units}}}]}}\n    expect:\n      - {expect}\n"
    )
}

/// A policy with two rules and cases that only exercise R1.
fn project(test: &str, cases: &[String]) -> PathBuf {
    let dir = temp_dir(test);
    write(&dir.join("t.policy"), POLICY);
    write(
        &dir.join("t.cases.yaml"),
        &format!("cases:\n{}", cases.concat()),
    );
    dir
}

#[test]
fn test_failure_shows_expected_against_actual() {
    let dir = project(
        "diff",
        &[case(
            "two units are denied",
            "20552",
            2,
            "{id: C, decision: allow, lines: [{line: 1, decision: allow, rules: [], carc: []}]}",
        )],
    );
    let out = run(&["test", arg(&dir)]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("  FAIL  two units are denied"), "{stdout}");
    for line in [
        "--- expected",
        "+++ actual",
        "  - id: C",
        "-   decision: allow",
        "+   decision: deny",
        "-     - {line: 1, decision: allow, rules: [], carc: []}",
        "+     - {line: 1, decision: deny, rules: [R1], carc: [CO-151]}",
    ] {
        assert!(stdout.contains(line), "no `{line}` in:\n{stdout}");
    }
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}

#[test]
fn test_coverage_lists_rules_cases_and_unexercised_rules() {
    let dir = project(
        "coverage",
        &[
            case(
                "two units",
                "20552",
                2,
                "{id: C, decision: deny, lines: [{line: 1, rules: [R1]}]}",
            ),
            case("three units", "20552", 3, "{id: C, decision: deny}"),
            case("one unit", "20552", 1, "{id: C, decision: allow}"),
        ],
    );
    let out = run(&["test", "--coverage", arg(&dir)]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("3 passed, 0 failed"), "{stdout}");
    assert!(
        stdout.contains("t (") && stdout.contains("1 of 2 rules exercised (50%)"),
        "{stdout}"
    );
    assert!(stdout.contains("  R1  2 cases"), "{stdout}");
    assert!(stdout.contains("  R2  0 cases"), "{stdout}");
    assert!(stdout.contains("not exercised: R2 ("), "{stdout}");
    assert!(stdout.contains("t.policy:16:3)"), "{stdout}");
}

#[test]
fn test_min_coverage_fails_below_and_passes_at_the_minimum() {
    let r1 = case(
        "two units",
        "20552",
        2,
        "{id: C, decision: deny, lines: [{line: 1, rules: [R1]}]}",
    );
    let dir = project("min-coverage", std::slice::from_ref(&r1));
    let out = run(&["test", "--min-coverage", "100", arg(&dir)]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("below the minimum coverage of 100%: t (50%)"),
        "{stdout}"
    );
    let out = run(&["test", "--min-coverage", "50", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let r2 = case(
        "dry needling",
        "20560",
        1,
        "{id: C, decision: deny, lines: [{line: 1, rules: [R2], carc: [CO-96]}]}",
    );
    let dir = project("full-coverage", &[r1, r2]);
    let out = run(&["test", "--min-coverage", "100", arg(&dir)]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("2 of 2 rules exercised (100%)"), "{stdout}");

    let out = run(&["test", "--min-coverage", "101", arg(&dir)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn test_coverage_counts_imported_rules_and_policies_without_cases() {
    let dir = project(
        "imports",
        &[case("two units", "20552", 2, "{id: C, decision: deny}")],
    );
    std::fs::create_dir_all(dir.join("lib")).unwrap_or_else(|e| panic!("{e}"));
    write(
        &dir.join("lib/shared.policy"),
        "library shared {\n  rule L1 {\n    when line.units > 5\n    deny CO-151\n  }\n}\n",
    );
    write(
        &dir.join("t.policy"),
        &format!("import \"lib/shared.policy\"\n\n{POLICY}"),
    );
    write(
        &dir.join("untested.policy"),
        "policy u {\n  payer q\n  version \"1\"\n  effective 2024-01-01..\n  source \"s\"\n}\n",
    );
    let out = run(&["test", "--coverage", "--min-coverage", "30", arg(&dir)]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("1 of 3 rules exercised (33%)"), "{stdout}");
    assert!(stdout.contains("  L1  0 cases"), "{stdout}");
    assert!(stdout.contains("shared.policy:2:3"), "{stdout}");
    assert!(
        stdout.contains("untested.policy: no test cases"),
        "{stdout}"
    );
    assert!(stdout.contains("untested.policy (no cases)"), "{stdout}");
}

#[test]
fn test_min_coverage_100_holds_for_the_bundled_policies() {
    let out = run(&["test", "--coverage", "--min-coverage", "100", "policies"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let unexercised: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("not exercised: "))
        .collect();
    assert!(unexercised.len() >= 2, "{stdout}");
    assert!(
        unexercised
            .iter()
            .all(|l| l.ends_with("not exercised: none")),
        "{stdout}"
    );
}
