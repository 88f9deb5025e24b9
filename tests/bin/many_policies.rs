//! Several policies of one payer (issue 25), through the built binary: the
//! fixture `tests/data/many-policies/` has two policies of payer `medicare`
//! in effect on the same dates, one of them in two versions.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

mod common;

use common::{lines_json, run, temp_dir, text};
use serde_json::{json, Value};

const POLICIES: &str = "tests/data/many-policies";
const CLAIMS: &str = "tests/data/many-policies/claims.jsonl";

/// The bundled trigger point injection rulebook alone, one policy per payer (the
/// `*-tpi.policy` files and `lib/`), copied into `dir`: the bundled directory has
/// held several policies per payer since the ESI, SI joint, acupuncture and
/// therapy policies (issue 19), so the tests of the one-policy path load this.
fn tpi_rulebook(dir: &std::path::Path) -> String {
    let lib = dir.join("lib");
    std::fs::create_dir_all(&lib).unwrap_or_else(|e| panic!("{e}"));
    for (from, to, suffix) in [
        (common::root("policies"), dir, "-tpi.policy"),
        (common::root("policies/lib"), lib.as_path(), ".policy"),
    ] {
        for entry in std::fs::read_dir(&from).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.ends_with(suffix) {
                std::fs::copy(&path, to.join(name)).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    dir.to_str().unwrap_or_default().to_string()
}

/// Each line's reasons as `policy@version:rule`.
fn reasons(d: &Value) -> Vec<Vec<String>> {
    d["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines: {d}"))
        .iter()
        .map(|l| {
            l["reasons"]
                .as_array()
                .unwrap_or_else(|| panic!("no reasons: {l}"))
                .iter()
                .map(|r| {
                    format!(
                        "{}@{}:{}",
                        r["policy"].as_str().unwrap_or("?"),
                        r["policy_version"].as_str().unwrap_or("?"),
                        r["rule"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn two_medicare_policies_in_effect_on_one_line_both_fire() {
    let out = run(&["eval", "--policies", POLICIES, CLAIMS]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let d = &lines_json(&out)[0];
    assert_eq!(d["id"], "MP-1");
    assert_eq!(
        reasons(d),
        [vec![
            "medicare-tpi-drug@2017.1:D1",
            "medicare-tpi-units@2024.1:U1"
        ]]
    );
    // The most severe action of both policies' rules.
    assert_eq!(d["lines"][0]["decision"], "deny");
    assert_eq!(d["decision"], "deny");
    assert_eq!(
        d["policies"],
        json!([
            {"id": "medicare-tpi-drug", "version": "2017.1"},
            {"id": "medicare-tpi-units", "version": "2024.1"}
        ])
    );
    // The claim's policy is the first of `policies`.
    assert_eq!(d["policy"], "medicare-tpi-drug");
    assert_eq!(d["policy_version"], "2017.1");
    // And the fields in the contract's order.
    let first = text(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        first.starts_with(r#"{"id":"MP-1","payer":"medicare","policy":"medicare-tpi-drug","policy_version":"2017.1","policies":[{"id":"medicare-tpi-drug","version":"2017.1"},{"id":"medicare-tpi-units","version":"2024.1"}],"decision":"deny","#),
        "{first}"
    );
    assert!(
        first.contains(r#""at":"tests/data/many-policies/drug.policy:16:3","policy":"medicare-tpi-drug","policy_version":"2017.1"}"#),
        "{first}"
    );
}

#[test]
fn lines_on_each_side_of_a_version_change_get_their_own_version() {
    let out = run(&["eval", "--policies", POLICIES, CLAIMS]);
    let outcomes = lines_json(&out);
    let d = &outcomes[1];
    assert_eq!(d["id"], "MP-2");
    assert_eq!(
        reasons(d),
        [
            vec!["medicare-tpi-units@2017.1:U1"],
            vec!["medicare-tpi-units@2024.1:U1"],
            vec![]
        ]
    );
    assert_eq!(
        d["lines"][0]["reasons"][0]["message"],
        "TPI units exceed 1 (2017 version)"
    );
    assert_eq!(d["lines"][1]["reasons"][0]["message"], "TPI units exceed 1");
    assert_eq!(
        d["policies"],
        json!([
            {"id": "medicare-tpi-drug", "version": "2017.1"},
            {"id": "medicare-tpi-units", "version": "2017.1"},
            {"id": "medicare-tpi-units", "version": "2024.1"}
        ])
    );
    assert_eq!(d["decision"], "partial");
    // Both policies applied and none fired: still listed.
    assert_eq!(outcomes[2]["decision"], "allow");
    assert_eq!(outcomes[2]["policies"].as_array().map(Vec::len), Some(2));
    // No policy of the payer on the line's date.
    assert_eq!(outcomes[3]["error"]["kind"], "no_policy");
    assert_eq!(outcomes[3]["error"]["path"], "lines[0].date_of_service");
}

#[test]
fn the_summary_names_each_rules_policy() {
    let out = run(&["eval", "--policies", POLICIES, CLAIMS]);
    let err = text(&out.stderr);
    for want in [
        "  medicare-tpi-drug    D1           review  1",
        "  medicare-tpi-units   U1           deny    3",
    ] {
        assert!(err.contains(want), "{want:?} in\n{err}");
    }
}

#[test]
fn explain_traces_name_each_rules_policy() {
    let out = run(&["eval", "--explain", "--policies", POLICIES, CLAIMS]);
    let d = &lines_json(&out)[0];
    assert_eq!(
        d["lines"][0]["trace"],
        json!([
            {"rule": "D1", "outcome": "fired", "detail": "check #1: the required condition is false", "policy": "medicare-tpi-drug"},
            {"rule": "U1", "outcome": "fired", "detail": "check #1: the required condition is false", "policy": "medicare-tpi-units"}
        ]),
        "{d}"
    );
}

#[test]
fn a_stored_decision_of_several_policies_is_given_back_byte_for_byte() {
    let dir = temp_dir("many-policies", "stored");
    let db = dir.join("history.db");
    let db = db.to_str().unwrap_or_default();
    let first = run(&["eval", "--policies", POLICIES, "--db", db, CLAIMS]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let again = run(&["eval", "--policies", POLICIES, "--db", db, CLAIMS]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("3 claims were sent before with the same content"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(text(&again.stdout), text(&first.stdout));
    // And in memory: the same input twice in one run.
    let input = std::fs::read_to_string(common::root(CLAIMS)).unwrap_or_default();
    let twice = dir.join("twice.jsonl");
    std::fs::write(&twice, format!("{input}{input}")).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&[
        "eval",
        "--policies",
        POLICIES,
        twice.to_str().unwrap_or_default(),
    ]);
    let all = text(&out.stdout);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[..3], lines[4..7], "replayed from the memory store");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_reports_no_overlap_between_different_policies_of_a_payer() {
    let out = run(&["check", POLICIES]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("0 errors, 0 warnings"),
        "{}",
        text(&out.stderr)
    );
}

/// Removes the reasons' `policy` and `policy_version` (a reason's last two
/// fields, so followed by `}`), leaving the claim's.
fn strip_reason_policies(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(r#","policy":""#) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let end = from
            .find(r#"","policy_version":""#)
            .and_then(|v| from[v + 20..].find('"').map(|q| v + 20 + q + 1));
        match end {
            Some(end) if from[end..].starts_with('}') => rest = &from[end..],
            _ => {
                out.push_str(&from[..1]);
                rest = &from[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn single_policy_decisions_change_only_by_the_reasons_policy_fields() {
    // The bundled claims' decisions against the TPI rulebook (one policy per
    // payer), hashed (FNV-1a 64) without the reasons' policy fields. First
    // recorded at commit cee15ec, before several policies per payer, on the
    // batch of then; recorded again when the batch gained the claims of the
    // policies beyond TPI (issue 19), with the TPI rulebook unchanged: the
    // bundled directory holds more policies per payer since, so the test
    // loads the TPI policies alone.
    const BEFORE: u64 = 0x0fa1_1d73_6137_7649;
    let dir = temp_dir("many-policies", "single-policy");
    tpi_rulebook(&dir.join("policies"));
    // Run from `dir`, so that the rules' locations read `policies/...` as before.
    let claims = common::root("examples/claims.jsonl");
    let out = common::bin()
        .current_dir(&dir)
        .args(["eval", "--policies", "policies"])
        .arg(&claims)
        .output()
        .unwrap_or_else(|e| panic!("cannot run payer-rules: {e}"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let all = text(&out.stdout);
    let mut stripped = String::new();
    let mut reasons = 0;
    for line in all.lines() {
        reasons += line.matches(r#","policy_version":"#).count()
            - usize::from(line.contains(r#""payer":"#));
        assert!(
            !line.contains(r#""policies":"#),
            "one policy per payer: {line}"
        );
        stripped.push_str(&strip_reason_policies(line));
        stripped.push('\n');
    }
    assert!(reasons > 100, "{reasons}");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in stripped.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    assert_eq!(hash, BEFORE, "{hash:#x}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_history_file_written_before_reasons_named_their_policy_still_answers() {
    let dir = temp_dir("many-policies", "old-rows");
    // Rows an earlier release wrote came from one policy per payer.
    let policies = tpi_rulebook(&dir.join("policies"));
    let db = dir.join("history.db");
    let db_arg = db.to_str().unwrap_or_default();
    let claims = dir.join("claims.jsonl");
    let bundled =
        std::fs::read_to_string(common::root("examples/claims.jsonl")).unwrap_or_default();
    // Forty claims that are decided: no malformed claim, no payer without a policy.
    let some: String = bundled
        .lines()
        .filter(|l| !l.contains(r#""units":0"#) && !l.contains(r#""payer":"humana""#))
        .take(40)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&claims, some).unwrap_or_else(|e| panic!("{e}"));
    let claims = claims.to_str().unwrap_or_default();
    let first = run(&["eval", "--policies", &policies, "--db", db_arg, claims]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains(r#","policy_version":"2024.1"}"#));
    // The reasons as an earlier release stored them: without the two fields.
    let conn = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
    let changed = conn
        .execute(
            r#"UPDATE texts SET text = substr(text, 1, instr(text, ',"policy":"') - 1) || '}'
               WHERE text LIKE '{"rule":%' AND instr(text, ',"policy":"') > 0"#,
            [],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(changed > 3, "{changed}");
    drop(conn);
    let again = run(&["eval", "--policies", &policies, "--db", db_arg, claims]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("40 claims were sent before"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        text(&again.stdout),
        text(&first.stdout),
        "filled in from the row's policy"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_names_each_rules_policy_and_version_where_several_are_loaded() {
    let out = run(&["explain", "--policies", POLICIES, "U1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    for want in [
        "medicare-tpi-units (2017.1) U1: TPI is billed as one unit",
        "medicare-tpi-units (2024.1) U1: TPI is billed as one unit",
    ] {
        assert!(shown.contains(want), "{want:?} in\n{shown}");
    }
    let out = run(&["explain", "--policies", POLICIES, "D1"]);
    assert!(
        text(&out.stdout).starts_with("medicare-tpi-drug D1: the injected drug is on the claim"),
        "{}",
        text(&out.stdout)
    );
}
