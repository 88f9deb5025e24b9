//! Calendar windows through the binary: `per calendar year` and `per 12 months
//! from first` decide the claims of `tests/data/calendar/` on their
//! boundaries, the same in one run and across runs over a `--db` history, and
//! `explain` says the period as the policy does.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

mod common;

use common::{lines_json, root, run, run_stdin, temp_dir, text};

const POLICIES: &str = "tests/data/calendar";
const CLAIMS: &str = "tests/data/calendar/claims.jsonl";

/// Each claim's id, decision, and its lines' decisions with the rules that
/// gave reasons: `V3 deny [deny B1 B2]`.
fn summary(out: &std::process::Output) -> Vec<String> {
    lines_json(out)
        .iter()
        .map(|d| {
            let lines: Vec<String> = d["lines"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|l| {
                    let mut words = vec![l["decision"].as_str().unwrap_or("?").to_string()];
                    for r in l["reasons"].as_array().cloned().unwrap_or_default() {
                        words.push(r["rule"].as_str().unwrap_or("?").to_string());
                    }
                    words.join(" ")
                })
                .collect();
            format!(
                "{} {} [{}]",
                d["id"].as_str().unwrap_or("?"),
                d["decision"].as_str().unwrap_or("?"),
                lines.join(", ")
            )
        })
        .collect()
}

#[test]
fn calendar_years_and_anchored_periods_decide_their_boundaries() {
    let out = run(&["eval", "-q", "--policies", POLICIES, CLAIMS]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        summary(&out),
        [
            "T1 allow [allow]",
            // 2025-12-31 is in 2025: the second line is the third TPI of the year.
            "T2 partial [allow, deny Y1]",
            // 2026-01-01 starts 2026.
            "T3 allow [allow]",
            // The anchor, on a leap day: its 12 months end on 2029-02-28.
            "V1 allow [allow]",
            "V2 allow [allow]",
            "V3 deny [deny B1 B2]",
            // 2029-03-01 starts a new period, anchored on it.
            "V4 allow [allow]",
            "V5 allow [allow]",
        ]
    );
}

#[test]
fn an_anchor_in_a_database_history_is_found_by_the_next_run() {
    let dir = temp_dir("calendar", "db");
    let db = dir.join("history.db");
    let db = db.to_str().unwrap_or_default();
    let all = std::fs::read_to_string(root(CLAIMS)).unwrap_or_default();
    let lines: Vec<&str> = all.lines().collect();
    let (first, second) = lines.split_at(5);
    let one_run = run(&["eval", "-q", "--policies", POLICIES, CLAIMS]);
    let mut runs = Vec::new();
    for part in [first, second] {
        let input = part.iter().map(|l| format!("{l}\n")).collect::<String>();
        let out = run_stdin(
            &["eval", "-q", "--policies", POLICIES, "--db", db, "-"],
            &input,
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        runs.push(text(&out.stdout));
    }
    // Byte for byte the decisions of one run in memory: the second run finds
    // V1's anchor and V2 in the file.
    assert_eq!(runs.concat(), text(&one_run.stdout));
    assert!(runs[1].contains(r#""rule":"B1""#), "{}", runs[1]);
}

#[test]
fn explain_says_the_period_as_the_policy_does() {
    for (rule, says) in [
        ("Y1", "at most 2 per calendar year, this service included"),
        (
            "B1",
            "at most 2 per 12 months from first, this service included",
        ),
    ] {
        let out = run(&["explain", "--policies", POLICIES, rule]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains(says), "{}", text(&out.stdout));
    }
}

#[test]
fn the_fixtures_cases_pass_with_every_rule_exercised() {
    let out = run(&["test", "--min-coverage", "100", POLICIES]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("3 passed, 0 failed"),
        "{}",
        text(&out.stdout)
    );
}
