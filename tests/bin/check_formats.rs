//! `check --format json|github|sarif` and the exit codes, through the binary.
//! The SARIF log is validated against the official SARIF 2.1.0 JSON schema
//! (`tests/data/sarif-schema-2.1.0.json`, see its `.LICENSE.md`).

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::process::Output;

use serde_json::Value;

/// Two files: an error in the first, warnings in the second (lints that need a
/// file without errors).
const DIR: &str = "tests/data/check-formats";
const ERRORS: &str = "tests/data/check-formats/a-unknown-code.policy";
const WARNINGS: &str = "tests/data/check-formats/b-lints.policy";

mod common;

use common::run;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (code, severity, file, line, column) of what the fixtures report, in order.
const EXPECTED: &[(&str, &str, &str, u64, u64)] = &[
    ("PR206", "error", ERRORS, 8, 20),
    ("PR401", "warning", WARNINGS, 9, 33),
    ("PR402", "warning", WARNINGS, 10, 9),
    ("PR403", "warning", WARNINGS, 14, 29),
];

#[test]
fn json_is_one_object_per_line_with_every_field() {
    let out = run(&["check", "--format", "json", DIR]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let objects: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let got: Vec<(&str, &str, &str, u64, u64)> = objects
        .iter()
        .map(|o| {
            (
                o["code"].as_str().unwrap_or(""),
                o["severity"].as_str().unwrap_or(""),
                o["file"].as_str().unwrap_or(""),
                o["line"].as_u64().unwrap_or(0),
                o["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, EXPECTED);
    let first = stdout(&out).lines().next().unwrap_or("").to_string();
    assert!(
        first.starts_with(r#"{"code":"PR206","severity":"error","file":"#),
        "fields in the documented order: {first}"
    );
    let dup = &objects[1];
    assert_eq!(
        (dup["end_line"].as_u64(), dup["end_column"].as_u64()),
        (Some(9), Some(38))
    );
    assert_eq!(dup["message"], "`20552` is listed twice");
    assert_eq!(dup["help"], "remove the second `20552`");
    assert_eq!(dup["related"][0]["line"], 9);
    assert_eq!(dup["related"][0]["column"], 19);
    let dx = &objects[0];
    assert!(
        dx["help"].as_str().is_some_and(|h| h.contains("`M79.18`")),
        "{dx}"
    );
    assert!(
        stderr(&out).contains("1 error, 3 warnings"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn github_writes_escaped_workflow_commands() {
    let out = run(&["check", "--format", "github", DIR]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), EXPECTED.len(), "{text}");
    assert_eq!(
        lines[1],
        format!("::warning file={WARNINGS},line=9,col=33,endLine=9,endColumn=38,title=PR401::`20552` is listed twice%0Ahelp: remove the second `20552`")
    );
    assert!(lines[0].starts_with("::error file="), "{}", lines[0]);
    assert!(lines[0].contains(",title=PR206::"), "{}", lines[0]);
    for line in &lines {
        assert!(!line.contains('\r'), "{line}");
    }
}

#[test]
fn github_escapes_properties_and_data() {
    // A path with a comma and a colon, and a message with a percent sign.
    let dir = std::env::temp_dir().join(format!("payer-rules-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("a,b:c.policy");
    std::fs::write(
        &path,
        "policy p { payer x version \"1\" effective 2024-01-01.. }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = run(&[
        "check",
        "--format",
        "github",
        path.to_str().unwrap_or_default(),
    ]);
    let text = stdout(&out);
    assert!(text.contains("a%2Cb%3Ac.policy,line=1"), "{text}");
    assert!(text.starts_with("::warning file="), "{text}");
    assert_eq!(out.status.code(), Some(0), "PR109 is a warning");
    let denied = run(&[
        "check",
        "--deny-warnings",
        path.to_str().unwrap_or_default(),
    ]);
    assert_eq!(denied.status.code(), Some(1), "{}", stderr(&denied));
}

fn sarif() -> Value {
    let out = run(&[
        "check",
        "--format",
        "sarif",
        "--docs-url",
        "https://example.org/payer-rules/docs/lints/",
        DIR,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON: {e}\n{}", stdout(&out)))
}

/// The official schema, as vendored, with one fix-up.
///
/// A pattern in it (on `language`, twice: `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`) has
/// a stray `]`, which ECMA-262 regular expressions read as a literal `]` but the
/// Rust engine rejects, so the schema would not compile. It is escaped here,
/// which is the ECMA reading; the file itself is left as published.
fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/sarif-schema-2.1.0.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    let escaped = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#;
    assert!(
        text.contains(stray),
        "the schema changed: review this fix-up"
    );
    let text = text.replace(stray, escaped);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn schema_errors(log: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema())
        .unwrap_or_else(|e| panic!("the SARIF schema does not compile: {e}"));
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let log = sarif();
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "{errors:#?}\n{log:#}");

    // The schema is really checked: a broken log fails it.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    broken["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "not a uri".into();
    assert_eq!(
        schema_errors(&broken).len(),
        2,
        "{:#?}",
        schema_errors(&broken)
    );
}

#[test]
fn sarif_lists_every_code_as_a_rule_and_every_diagnostic_as_a_result() {
    let log = sarif();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "payer-rules");
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let all: Vec<&str> = payer_rules::DiagCode::ALL
        .iter()
        .map(|c| c.code())
        .collect();
    assert_eq!(ids, all);
    for (rule, code) in rules.iter().zip(payer_rules::DiagCode::ALL) {
        assert_eq!(
            rule["helpUri"],
            format!(
                "https://example.org/payer-rules/docs/lints/{}.md",
                code.code()
            )
        );
        assert_eq!(
            rule["defaultConfiguration"]["level"],
            code.severity().as_str()
        );
        assert_eq!(rule["shortDescription"]["text"], code.summary());
    }
    let results = run["results"].as_array().cloned().unwrap_or_default();
    let got: Vec<(&str, &str, &str, u64, u64)> = results
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            let region = &location["region"];
            (
                r["ruleId"].as_str().unwrap_or(""),
                r["level"].as_str().unwrap_or(""),
                location["artifactLocation"]["uri"].as_str().unwrap_or(""),
                region["startLine"].as_u64().unwrap_or(0),
                region["startColumn"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, EXPECTED);
    for r in &results {
        let index = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
    let dead = &results[3];
    assert_eq!(
        dead["relatedLocations"][0]["physicalLocation"]["region"]["startColumn"],
        10
    );
}

#[test]
fn sarif_of_a_clean_run_validates_too() {
    let out = run(&["check", "--format", "sarif", "policies"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(log["runs"][0]["results"], Value::Array(Vec::new()));
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "{errors:#?}");
    let uri = log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"]
        .as_str()
        .unwrap_or("");
    assert!(
        uri.starts_with("file://") && uri.ends_with("/docs/lints/PR001.md"),
        "{uri}"
    );
}

#[test]
fn exit_codes_are_0_clean_1_errors_or_denied_warnings_2_unreadable() {
    assert_eq!(run(&["check", "policies"]).status.code(), Some(0));
    assert_eq!(
        run(&["check", "--deny-warnings", "policies"]).status.code(),
        Some(0)
    );
    assert_eq!(run(&["check", DIR]).status.code(), Some(1));
    assert_eq!(run(&["check", WARNINGS]).status.code(), Some(0));
    assert_eq!(
        run(&["check", "--deny-warnings", WARNINGS]).status.code(),
        Some(1)
    );
    assert_eq!(run(&["check", "no/such/dir"]).status.code(), Some(2));
    assert_eq!(
        run(&["check", "--format", "xml", WARNINGS]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["check"]).status.code(), Some(2));
}
