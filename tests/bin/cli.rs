//! Integration tests through the built `payer-rules` binary.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

mod common;

use common::{lines_json, run, run_stdin, text};

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("payer-rules-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap_or_else(|e| panic!("{e}"));
    path
}

#[test]
fn check_accepts_the_bundled_policies() {
    let out = run(&["check", "policies"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("0 errors, 0 warnings"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_reports_errors_with_code_file_and_line_and_exits_1() {
    let path = temp_file(
        "broken.policy",
        "policy p \"t\" {\n  payer x\n  version \"1\"\n  effective 2024-01-01..\n  source \"s\"\n  rule R1 {\n    when line.procedure in nope\n    deny CO-50\n  }\n}\n",
    );
    let out = run(&["check", path.to_str().unwrap_or_default()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("PR103"), "{err}");
    assert!(err.contains("unknown code set `nope`"), "{err}");
    assert!(err.contains("broken.policy:7:28"), "{err}");
    assert!(err.contains("1 error"), "{err}");
}

#[test]
fn check_on_a_missing_path_is_a_usage_error() {
    let out = run(&["check", "no/such/file.policy"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("PR005"));
}

#[test]
fn eval_writes_one_outcome_per_claim_in_input_order() {
    let out = run(&["eval", "--policies", "policies", "tests/data/mixed.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let outcomes = lines_json(&out);
    let ids: Vec<String> = outcomes
        .iter()
        .map(|o| o["id"].as_str().unwrap_or("null").to_string())
        .collect();
    assert_eq!(ids, ["A1", "A2", "A3", "A4", "A5", "A6", "null", "A8"]);
    assert_eq!(outcomes[0]["decision"], "allow");
    assert_eq!(outcomes[1]["decision"], "deny");
    assert_eq!(outcomes[3]["error"]["kind"], "no_policy");
    assert_eq!(outcomes[4]["error"]["kind"], "invalid_claim");
    assert_eq!(outcomes[4]["error"]["path"], "lines[0].units");
    // E3 (a drug line required) is gone; E4 still denies the dry needling line.
    assert_eq!(outcomes[5]["decision"], "partial");
    assert_eq!(outcomes[6]["error"]["kind"], "invalid_claim");
    assert_eq!(outcomes[6]["record"], 7);
    assert_eq!(outcomes[7]["error"]["kind"], "no_policy");
    assert_eq!(outcomes[7]["error"]["path"], "lines[0].date_of_service");
    let err = text(&out.stderr);
    assert!(err.contains("evaluated 8 claims"), "{err}");
    assert!(err.contains("invalid_claim 2"), "{err}");
    assert!(err.contains("medicare-tpi") && err.contains("M1"), "{err}");
}

#[test]
fn eval_decisions_match_the_golden_file() {
    let out = run(&[
        "eval",
        "-q",
        "--policies",
        "policies",
        "tests/data/mixed.jsonl",
    ]);
    insta::assert_snapshot!("mixed_decisions", text(&out.stdout));
}

#[test]
fn eval_reads_stdin_and_every_input_format_alike() {
    let jsonl = std::fs::read_to_string(common::root("tests/data/mixed.jsonl")).unwrap_or_default();
    let valid: Vec<serde_json::Value> = jsonl
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let as_array = serde_json::to_string(&valid).unwrap_or_default();
    let as_yaml = serde_yaml_ng::to_string(&valid).unwrap_or_default();
    let one_per_line: String = valid.iter().map(|v| format!("{v}\n")).collect();
    let from_jsonl = run_stdin(&["eval", "-q", "-"], &one_per_line);
    let from_array = run_stdin(&["eval", "-q"], &as_array);
    let from_yaml = run_stdin(&["eval", "-q", "--format", "yaml"], &as_yaml);
    assert_eq!(lines_json(&from_jsonl).len(), valid.len());
    // Error records carry the record number, which is the same in all three.
    assert_eq!(text(&from_jsonl.stdout), text(&from_array.stdout));
    assert_eq!(text(&from_jsonl.stdout), text(&from_yaml.stdout));
}

#[test]
fn eval_history_counts_towards_limits() {
    let claim = |id: &str, date: &str| {
        format!(
            r#"{{"id":"{id}","payer":"medicare","patient":{{"id":"P9"}},"diagnoses":["M79.18"],"facts":{{"relief_percent":80,"relief_weeks":10}},"lines":[{{"date_of_service":"{date}","procedure":"20552"}},{{"date_of_service":"{date}","procedure":"J3301"}}]}}"#
        )
    };
    let history = temp_file(
        "history.jsonl",
        &format!(
            "{}\n{}\n{}\n",
            claim("H1", "2025-01-02"),
            claim("H2", "2025-03-01"),
            claim("H3", "2025-05-01")
        ),
    );
    let input = claim("N1", "2025-07-01");
    let without = run_stdin(&["eval", "-q"], &input);
    assert_eq!(lines_json(&without)[0]["decision"], "allow");
    let with = run_stdin(
        &[
            "eval",
            "-q",
            "--history",
            history.to_str().unwrap_or_default(),
        ],
        &input,
    );
    let d = &lines_json(&with)[0];
    assert_eq!(d["decision"], "partial", "{d}");
    assert_eq!(d["lines"][0]["reasons"][0]["rule"], "M4");
}

#[test]
fn eval_explain_adds_a_trace_per_line() {
    let out = run(&["eval", "-q", "--explain", "tests/data/mixed.jsonl"]);
    let first = &lines_json(&out)[0];
    let all = first["lines"][0]["trace"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Every Medicare policy in effect traces its rules, each naming its policy.
    let of = |policy: &str| -> Vec<serde_json::Value> {
        all.iter()
            .filter(|t| t["policy"] == policy)
            .cloned()
            .collect()
    };
    let trace = of("medicare-tpi");
    assert_eq!(trace.len(), 12, "{first}");
    assert_eq!(trace[0]["rule"], "M1");
    assert_eq!(trace[0]["outcome"], "passed");
    assert_eq!(trace[8]["outcome"], "not_applicable");
    let acupuncture = of("medicare-acupuncture");
    assert!(!acupuncture.is_empty(), "{first}");
    assert!(
        acupuncture.iter().all(|t| t["outcome"] == "not_applicable"),
        "{first}"
    );
    let plain = run(&["eval", "-q", "tests/data/mixed.jsonl"]);
    assert!(lines_json(&plain)[0]["lines"][0].get("trace").is_none());
}

#[test]
fn eval_refuses_broken_policies_and_writes_nothing() {
    let path = temp_file("bad.policy", "policy p {\n  payer x\n  rule R {\n}\n");
    let out = run_stdin(
        &["eval", "--policies", path.to_str().unwrap_or_default()],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("nothing was evaluated"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn eval_on_an_unreadable_input_is_a_usage_error() {
    let out = run(&["eval", "no/such/claims.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read claims"));
}

#[test]
fn test_command_runs_the_policy_cases() {
    let out = run(&["test", "policies"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

#[test]
fn codes_lookup_shows_headers_children_and_near_misses() {
    let out = run(&["codes", "lookup", "M79.1"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("header"), "{stdout}");
    for child in ["M79.10", "M79.11", "M79.12", "M79.18"] {
        assert!(stdout.contains(child), "{stdout}");
    }
    // The years: M54.5 became a header on 2021-10-01.
    let out = run(&["codes", "lookup", "M54.5"]);
    assert_eq!(
        text(&out.stdout).lines().nth(1),
        Some("  years: billable in FY2019, FY2021; header in FY2025, FY2026 (of the shipped FY2019, FY2021, FY2025, FY2026)")
    );
    let out = run(&["codes", "lookup", "H81.41"]);
    assert!(
        text(&out.stdout).contains("years: billable in FY2019; not in FY2021, FY2025, FY2026"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["codes", "lookup", "M79.19"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("M79.18"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn explain_shows_a_rule_with_its_doc_location_and_text() {
    let out = run(&["explain", "M5"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout.contains("medicare-tpi M5: at least 6 weeks between TPI sessions at the same site"),
        "{stdout}"
    );
    assert!(
        stdout.contains("at policies/medicare-tpi.policy:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("A line without a site matches every site."),
        "{stdout}"
    );
    assert!(
        stdout.contains("at least 42 days since the last service per site or unsited"),
        "{stdout}"
    );
    assert!(
        stdout.contains("interval tpi at least 42 days per site or unsited"),
        "{stdout}"
    );
    let out = run(&["explain", "NOPE"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_regions_example_checks_clean_passes_its_cases_and_explains_per_region() {
    let dir = "tests/data/regions";
    let out = run(&["check", "--deny-warnings", dir]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&["test", "--min-coverage", "100", dir]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(&["explain", "--policies", dir, "E2"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout.contains("at most 4 per 12 months per region, this service included"),
        "{stdout}"
    );
}

#[test]
fn eval_jobs_read_the_start_of_the_input_as_one_job_does() {
    let claims = std::fs::read_to_string(common::root("examples/claims.jsonl")).unwrap_or_default();
    // A byte order mark with the format given; white space (a form feed among
    // it) before the first record with the format detected.
    let cases = [
        ("\u{FEFF}".to_owned() + &claims, "jsonl"),
        ("\n \u{c}\n".to_owned() + &claims, "auto"),
    ];
    for (input, format) in cases {
        // A file, not stdin: the output would fill its pipe before the input
        // is all written.
        let file = temp_file(&format!("start-{format}.jsonl"), &input);
        let file = file.to_string_lossy();
        let args = |jobs| {
            [
                "eval",
                "-q",
                "--policies",
                "policies",
                "--format",
                format,
                "--jobs",
                jobs,
                &file,
            ]
        };
        let one = run(&args("1"));
        let two = run(&args("2"));
        assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
        let decided = lines_json(&one);
        assert!(decided.len() >= 600, "{}", decided.len());
        assert_eq!(
            decided[0]["id"], "CLM-0000000",
            "{format}: the first record reads"
        );
        assert!(
            text(&one.stdout) == text(&two.stdout),
            "{format}: --jobs 2 differs"
        );
    }
}

#[test]
fn eval_summary_is_the_same_with_any_number_of_jobs() {
    let summary = |jobs: &str| {
        let out = run(&[
            "eval",
            "--policies",
            "policies",
            "--jobs",
            jobs,
            "examples/claims.jsonl",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        // The first line has timings; the counts follow its colon.
        let mut lines = stderr.lines();
        let first = lines.next().unwrap_or_default();
        let counts = first.rsplit("): ").next().unwrap_or_default().to_owned();
        (counts, lines.map(str::to_owned).collect::<Vec<_>>())
    };
    let (counts, rest) = summary("1");
    assert!(counts.contains("allow"), "{counts}");
    assert!(
        rest.iter()
            .any(|l| l.contains("medicare-tpi") && l.contains("M1")),
        "{rest:?}"
    );
    for jobs in ["2", "3"] {
        assert_eq!(
            summary(jobs),
            (counts.clone(), rest.clone()),
            "--jobs {jobs}"
        );
    }
}

/// Diagnoses are checked against the ICD-10-CM code set of each line's date:
/// M54.5 is billable on 2021-09-30 and a header from 2021-10-01 (FY2022, read
/// with FY2025: FY2022 is not shipped), refused as `invalid_claim` at
/// `diagnoses[0]`; the summary says once that dates fell in a missing year and
/// once that some came after the newest.
#[test]
fn eval_checks_diagnoses_against_the_year_of_service() {
    let claim = |id: &str, dx: &str, date: &str| {
        format!(
            r#"{{"id":"{id}","payer":"medicare","patient":{{"id":"P-{id}"}},"diagnoses":["{dx}"],"lines":[{{"line":1,"date_of_service":"{date}","procedure":"20553"}}]}}"#
        )
    };
    let input = [
        claim("OLD", "M54.5", "2021-09-30"),
        claim("NEW", "M54.5", "2021-10-01"),
        claim("GAP", "M54.50", "2022-06-01"),
        claim("LATE", "M54.50", "2027-01-04"),
        claim("LATE2", "M54.50", "2028-01-04"),
    ]
    .join("\n");
    let out = run_stdin(&["eval", "--policies", "policies", "-"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let records = lines_json(&out);
    let by_id = |id: &str| {
        records
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no record for {id}: {records:?}"))
    };
    // Before 2021-10-01 M54.5 is a valid diagnosis: the claim is decided (the
    // TPI policy starts 2024-04-01, but the acupuncture NCD applies to every
    // Medicare line from 2020-01-21, and none of its rules to a TPI).
    assert_eq!(by_id("OLD")["decision"], "allow", "{:?}", by_id("OLD"));
    let new = by_id("NEW");
    assert_eq!(new["error"]["kind"], "invalid_claim", "{new:?}");
    assert_eq!(new["error"]["path"], "diagnoses[0]");
    assert_eq!(
        new["error"]["message"],
        "diagnosis `M54.5` is not a billable ICD-10-CM code on 2021-10-01 \
         (lines[0].date_of_service, fiscal year FY2022): it is a header in FY2025, read with \
         the FY2025 code set (FY2022 is not shipped): report one of the billable codes under it"
    );
    assert_eq!(by_id("GAP")["decision"], "allow", "{:?}", by_id("GAP"));
    assert!(
        by_id("LATE").get("decision").is_some(),
        "{:?}",
        by_id("LATE")
    );
    let stderr = text(&out.stderr);
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("ICD-10-CM:"))
        .collect();
    assert_eq!(
        notes,
        [
            "ICD-10-CM: dates of service in FY2020, FY2022, FY2023, FY2024, whose code sets are not shipped, were checked against the next shipped year (shipped: FY2019, FY2021, FY2025, FY2026)",
            "ICD-10-CM: dates of service after 2026-09-30 were checked against FY2026, the newest shipped code set (shipped: FY2019, FY2021, FY2025, FY2026)",
        ],
        "{stderr}"
    );
}
