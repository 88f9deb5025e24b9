//! Hostile and odd claims input through the binary (issue 23: C1, C2, C4,
//! R2): each bad record costs itself, and input that is lost as a whole makes
//! the exit status say so.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

mod common;

use common::{bin, lines_json, root, run, run_stdin, temp_dir, text};

/// The first `n` example claims, one per line.
fn examples(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(root("examples/claims.jsonl")).unwrap_or_default();
    text.lines().take(n).map(str::to_owned).collect()
}

fn is_error(v: &serde_json::Value) -> bool {
    v.get("error").is_some()
}

#[test]
fn a_bad_first_line_is_one_error_record_and_the_batch_goes_on() {
    // The first 4 example claims are all decided (the 5th is a payer's with no policy).
    let good = examples(4);
    let input = format!("oops not json\n{}\n", good.join("\n"));
    let db = temp_dir("hostile", "first-line").join("h.db");
    let db = db.to_string_lossy().into_owned();
    for args in [
        vec!["eval", "-q", "-"],
        vec!["eval", "-q", "-j", "2", "-"],
        vec!["eval", "-q", "--db", &db, "-"],
    ] {
        let out = run_stdin(&args, &input);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let outcomes = lines_json(&out);
        assert_eq!(outcomes.len(), 5, "{args:?}");
        assert!(is_error(&outcomes[0]));
        assert_eq!(outcomes[0]["record"], 1);
        assert!(
            outcomes[1..].iter().all(|o| o.get("decision").is_some()),
            "{args:?}"
        );
    }
}

#[test]
fn the_file_name_decides_the_format() {
    let dir = temp_dir("hostile", "extension");
    // A JSON Lines file whose first line looks like a YAML list item.
    let jsonl = dir.join("claims.jsonl");
    let good = examples(2);
    std::fs::write(&jsonl, format!("- not a claim\n{}\n", good.join("\n")))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = run(&["eval", "-q", &jsonl.to_string_lossy()]);
    let outcomes = lines_json(&out);
    assert_eq!(outcomes.len(), 3, "{}", text(&out.stdout));
    assert!(is_error(&outcomes[0]) && !is_error(&outcomes[1]) && !is_error(&outcomes[2]));
    // A YAML file whose claim starts with `{`, flow style.
    let yaml = dir.join("claims.yaml");
    std::fs::write(&yaml, format!("{}\n", good[0])).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&["eval", "-q", &yaml.to_string_lossy()]);
    let outcomes = lines_json(&out);
    assert_eq!(outcomes.len(), 1);
    assert!(!is_error(&outcomes[0]), "{}", text(&out.stdout));
}

#[test]
fn an_array_element_that_is_not_json_costs_itself() {
    let good = examples(3);
    let input = format!(
        "[{},\n{{\"id\": \"X\" \"payer\": 1}},\n{}]",
        good[0], good[2]
    );
    let out = run_stdin(&["eval", "-q", "-"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let outcomes = lines_json(&out);
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[1]["id"], "X");
    assert!(outcomes[1]["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("line 2 column")));
    assert!(!is_error(&outcomes[2]));
}

#[test]
fn an_array_that_cannot_be_split_exits_2_after_the_claims_before() {
    let good = examples(2);
    let input = format!("[{},\n{{\"id\":\"X\",\n{}]", good[0], good[1]);
    let out = run_stdin(&["eval", "-q", "-"], &input);
    assert_eq!(out.status.code(), Some(2));
    let outcomes = lines_json(&out);
    assert_eq!(outcomes.len(), 2);
    assert!(!is_error(&outcomes[0]));
    let message = outcomes[1]["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 3 column"), "{message}");
    assert!(text(&out.stderr).contains("could not be read whole"));
}

#[test]
fn a_directory_or_a_device_as_input_exits_2() {
    for input in ["tests", "/dev/zero"] {
        let out = run(&["eval", "-q", input]);
        assert_eq!(out.status.code(), Some(2), "{input}");
        assert!(out.stdout.is_empty(), "{input}");
        assert!(text(&out.stderr).contains("cannot read claims"), "{input}");
    }
    // /dev/zero on stdin too.
    let out = bin()
        .args(["eval", "-q", "-"])
        .stdin(std::fs::File::open("/dev/zero").unwrap_or_else(|e| panic!("{e}")))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_closed_stdout_is_not_success() {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' eval -q examples/claims.jsonl >&-",
            env!("CARGO_BIN_EXE_payer-rules")
        ))
        .current_dir(root("."))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("stdout is closed"));
    // `>/dev/null` is a place to write to.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' eval -q examples/claims.jsonl >/dev/null",
            env!("CARGO_BIN_EXE_payer-rules")
        ))
        .current_dir(root("."))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_huge_line_and_a_claim_of_too_many_lines_are_error_records() {
    let good = examples(1);
    let claim: serde_json::Value = serde_json::from_str(&good[0]).unwrap_or_default();
    let mut many = claim.clone();
    let line = claim["lines"][0].clone();
    many["lines"] = serde_json::Value::Array(vec![line; 51]);
    let huge = format!("{{\"id\":\"H\",\"pad\":\"{}\"}}", "x".repeat(3 << 20));
    let input = format!("{}\n{huge}\n{many}\n{}\n", good[0], good[0]);
    for jobs in ["1", "2"] {
        let out = run_stdin(&["eval", "-q", "-j", jobs, "-"], &input);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let outcomes = lines_json(&out);
        assert_eq!(outcomes.len(), 4);
        assert!(outcomes[1]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("longer than")));
        assert_eq!(outcomes[2]["error"]["path"], "lines");
        assert_eq!(outcomes[2]["record"], 3);
        assert!(!is_error(&outcomes[3]));
    }
}

#[test]
fn records_are_line_numbers_in_every_mode() {
    // Two blank lines first: claim 55 (CLM-0000054, a payer with no policy, an
    // error the engine gives) is on line 57.
    let input = format!("\n \n{}\n", examples(60).join("\n"));
    let db = temp_dir("hostile", "records").join("r.db");
    let db = db.to_string_lossy().into_owned();
    for args in [
        vec!["eval", "-q", "-"],
        vec!["eval", "-q", "-j", "2", "-"],
        vec!["eval", "-q", "--db", &db, "-"],
    ] {
        let out = run_stdin(&args, &input);
        let outcomes = lines_json(&out);
        assert_eq!(outcomes.len(), 60, "{args:?}");
        assert_eq!(outcomes[54]["error"]["kind"], "no_policy", "{args:?}");
        assert_eq!(outcomes[54]["record"], 57, "{args:?}");
    }
}
