//! `payer-rules impact` through the binary: directories and git revisions as
//! the two sides, the JSON figures, `--fail-on`, and the HTML page rendered in
//! a real headless Chromium.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, run, temp_dir, text};

const POLICY: &str = "policy t \"test\" {\n  payer p\n  version \"1\"\n  effective 2024-01-01..\n  source \"a test\"\n\n  codes tpi = cpt 20552, 20553\n\n  rule S \"one session a day\" {\n    when line.procedure in tpi\n    limit tpi to 1 per day\n      else deny CO-119 rarc N640\n  }\n}\n";

/// The candidate: 20553 denied outright.
fn candidate_policy() -> String {
    POLICY.replace(
        "\n}\n",
        "\n\n  rule Z \"no 20553\" {\n    when line.procedure in (cpt 20553)\n    deny CO-50 rarc N115\n  }\n}\n",
    )
}

fn claim(id: &str, patient: &str, code: &str, charge: &str) -> String {
    format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"{patient}"}},"diagnoses":["M79.18"],"lines":[{{"date_of_service":"2024-05-01","procedure":"{code}","charge":{charge}}}]}}"#
    )
}

/// Base and candidate directories and a claims file in a fresh directory.
fn setup(test: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = temp_dir("impact", test);
    let (base, cand) = (dir.join("base"), dir.join("candidate"));
    for (d, text) in [(&base, POLICY.to_string()), (&cand, candidate_policy())] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(d.join("t.policy"), text).unwrap_or_else(|e| panic!("{e}"));
    }
    let claims = dir.join("claims.jsonl");
    let lines = [
        claim("A", "P1", "20553", "100.10"),
        claim("B", "P1", "20552", "20"),
        claim("C", "P2", "20552", "0.2"),
    ];
    std::fs::write(&claims, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    (base, cand, claims)
}

fn s(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("not UTF-8: {}", p.display()))
}

#[test]
fn impact_reports_the_changed_decisions_as_json() {
    let (base, cand, claims) = setup("json");
    let out = run(&[
        "impact",
        "--base",
        s(&base),
        "--candidate",
        s(&cand),
        "--format",
        "json",
        s(&claims),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    // A is now denied by Z, so B (same patient, same day) is no longer the
    // second session: B goes deny -> allow. C is unchanged.
    assert_eq!(report["claims"], 3);
    assert_eq!(report["changed_claims"], 2);
    assert_eq!(report["changed_lines"], 2);
    assert_eq!(report["line_transitions"]["allow"]["deny"], 1);
    assert_eq!(report["line_transitions"]["deny"]["allow"], 1);
    assert_eq!(report["line_transitions"]["allow"]["allow"], 1);
    assert_eq!(report["charges_moved"], "120.10");
    assert_eq!(report["by_rule"][0]["rule"], "S");
    assert_eq!(report["by_rule"][0]["stops_firing"], 1);
    assert_eq!(report["by_rule"][1]["rule"], "Z");
    assert!(report["by_rule"][1]["text_after"]
        .as_str()
        .is_some_and(|t| t.contains("no 20553")));
    assert_eq!(report["by_procedure"][0]["key"], "20552");
}

#[test]
fn fail_on_conditions_set_the_exit_status() {
    let (base, cand, claims) = setup("fail-on");
    let fail_on = |conds: &[&str]| {
        let mut cmd = bin();
        cmd.args([
            "impact",
            "--base",
            s(&base),
            "--candidate",
            s(&cand),
            s(&claims),
        ]);
        for c in conds {
            cmd.args(["--fail-on", c]);
        }
        cmd.output().unwrap_or_else(|e| panic!("{e}"))
    };
    let met = fail_on(&["allow->deny"]);
    assert_eq!(met.status.code(), Some(1));
    assert!(
        text(&met.stderr).contains("1 lines went allow -> deny"),
        "{}",
        text(&met.stderr)
    );
    assert_eq!(
        fail_on(&["claims>2", "charges>120.10"]).status.code(),
        Some(0)
    );
    assert_eq!(fail_on(&["charges>120.09"]).status.code(), Some(1));
    assert_eq!(fail_on(&["review->*"]).status.code(), Some(0));
    let bad = fail_on(&["allow->paid"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    // The same policies on both sides change nothing.
    let same = run(&[
        "impact",
        "--base",
        s(&base),
        "--candidate",
        s(&base),
        "--fail-on",
        "any",
        s(&claims),
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert!(
        text(&same.stdout).starts_with("0 of 3 claims and 0 of 3 lines"),
        "{}",
        text(&same.stdout)
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

#[test]
fn git_revisions_are_read_without_a_checkout() {
    let (_, _, claims) = setup("git");
    let repo = temp_dir("impact", "git-repo");
    std::fs::create_dir_all(repo.join("policies")).unwrap_or_else(|e| panic!("{e}"));
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("policies/t.policy"), POLICY).unwrap_or_else(|e| panic!("{e}"));
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    std::fs::write(repo.join("policies/t.policy"), candidate_policy())
        .unwrap_or_else(|e| panic!("{e}"));
    git(&repo, &["commit", "-q", "-am", "candidate"]);
    // The working tree goes back to the base: the revisions, not the files
    // on disk, are compared.
    std::fs::write(repo.join("policies/t.policy"), POLICY).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&[
        "impact",
        "--repo",
        s(&repo),
        "--base",
        "HEAD~1",
        "--candidate",
        "HEAD",
        "--format",
        "json",
        s(&claims),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["changed_lines"], 2);
    assert!(
        report["base"]
            .as_str()
            .is_some_and(|b| b.starts_with("HEAD~1 (")),
        "{}",
        report["base"]
    );
    let unknown = run(&[
        "impact",
        "--repo",
        s(&repo),
        "--base",
        "no-such-rev",
        s(&claims),
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("neither an existing path nor a revision"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn markdown_has_the_matrix_and_the_rules() {
    let (base, cand, claims) = setup("markdown");
    let out = run(&[
        "impact",
        "--base",
        s(&base),
        "--candidate",
        s(&cand),
        "--format",
        "markdown",
        s(&claims),
    ]);
    let md = text(&out.stdout);
    assert!(md.starts_with("## Policy impact"), "{md}");
    assert!(md.contains("| allow | 1 | **1** |"), "{md}");
    assert!(md.contains("| t | Z | 1 | 0 | 0 | 1 | $100.10 |"), "{md}");
}

/// Debian's Chromium, where `.ci/run` installs it.
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

#[test]
fn the_html_page_renders_in_headless_chromium_with_its_figures() {
    let (base, cand, claims) = setup("html");
    let page = claims.with_file_name("impact.html");
    let out = run(&[
        "impact",
        "--base",
        s(&base),
        "--candidate",
        s(&cand),
        "--format",
        "html",
        "-o",
        s(&page),
        s(&claims),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{e}"));
    // Self-contained: nothing is fetched.
    for external in [
        "<script src",
        "<link",
        "http://",
        "https://",
        "@import",
        "url(",
    ] {
        let allowed = external == "http://" && html.matches(external).count() == 1;
        assert!(
            !html.contains(external) || allowed,
            "the page fetches {external}"
        );
    }
    let Some(chromium) = chromium() else {
        // CI installs Chromium (`.ci/run`); elsewhere the test says so.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test in Chromium"
        );
        eprintln!("chromium is not installed: the page was checked as text only");
        return;
    };
    let profile = claims.with_file_name("chromium-profile");
    let rendered = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run chromium: {e}"));
    let dom = text(&rendered.stdout);
    assert!(dom.contains("<b id=\"changed-lines\">2</b>"), "{dom}");
    assert!(dom.contains("<b id=\"charges\">$120.10</b>"), "{dom}");
    assert!(
        dom.contains("data-from=\"allow\" data-to=\"deny\">1</td>"),
        "{dom}"
    );
    assert!(dom.contains("<svg id=\"chart\""), "{dom}");
}

#[test]
fn claims_in_837p_are_read_with_the_payer_ids_the_policies_declare() {
    // The bundled policies, medicare-tpi declaring the X12 id of
    // examples/claims.837p's Medicare claim.
    let dir = temp_dir("impact", "x12");
    let copy = dir.join("policies");
    std::fs::create_dir_all(copy.join("lib")).unwrap_or_else(|e| panic!("{e}"));
    for sub in ["", "lib"] {
        let from = common::root("policies").join(sub);
        for entry in std::fs::read_dir(&from).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.extension().is_some_and(|e| e == "policy") {
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
                let text = text.replacen(
                    "payer medicare\n",
                    "payer medicare\n  payer-ids \"00882\"\n",
                    1,
                );
                let name = path.file_name().unwrap_or_else(|| panic!("no name"));
                std::fs::write(copy.join(sub).join(name), text).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    let out = run(&[
        "impact",
        "--base",
        s(&copy),
        "--candidate",
        s(&copy),
        "--format",
        "json",
        "examples/claims.837p",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["claims"], 4);
    // EX-1001 (payer id 00882) is decided under medicare-tpi, not `no_policy`.
    assert_eq!(report["claim_transitions"]["allow"]["allow"], 1, "{report}");
}

/// The report of `tests/data/impact/` (a policy `t` whose review threshold
/// drops from $500 to $300, which gains a rule Z denying 20553 and whose
/// rule K pends what it denied), run from
/// that directory with relative paths so that the sides' labels are the
/// same wherever the repository is.
fn fixture_report(format: &str) -> String {
    let out = bin()
        .current_dir(common::root("tests/data/impact"))
        .args([
            "impact",
            "--base",
            "base",
            "--candidate",
            "candidate",
            "--format",
            format,
            "claims.jsonl",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "--format {format}");
    text(&out.stdout)
}

#[test]
fn every_format_of_the_report_is_snapshot_tested() {
    // A allow -> deny (Z), B deny -> allow (A no longer takes the day's
    // session), D allow -> review (C's new threshold), F's line 2 denied by S
    // before and by S and Z after (its decision unchanged), G has no policy
    // on either side.
    insta::assert_snapshot!("terminal", fixture_report("terminal"));
    insta::assert_snapshot!("json", fixture_report("json"));
    insta::assert_snapshot!("markdown", fixture_report("markdown"));
    insta::assert_snapshot!("html", fixture_report("html"));
}

#[test]
fn payer_ids_map_837p_claims_to_the_policies_and_deciding_nothing_is_a_warning() {
    let impact = |extra: &[&str]| {
        let mut cmd = bin();
        cmd.args([
            "impact",
            "--base",
            "policies",
            "--candidate",
            "policies",
            "--format",
            "json",
        ]);
        cmd.args(extra);
        cmd.arg("examples/claims.837p");
        let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
        (report, text(&out.stderr))
    };
    // The bundled policies declare no X12 id: every claim is `no_policy` on
    // both sides, and the report of 0 changes says it compared nothing.
    let (report, stderr) = impact(&[]);
    assert_eq!(report["claim_transitions"]["error"]["error"], 4, "{report}");
    assert!(
        stderr.contains("warning: no claim was decided on either side: all 4 are error records")
            && stderr.contains("--payer-ids FILE"),
        "{stderr}"
    );
    let (report, stderr) = impact(&["--payer-ids", "examples/payer-ids.txt"]);
    assert_eq!(report["claim_transitions"]["allow"]["allow"], 1, "{report}");
    assert_eq!(report["line_transitions"]["allow"]["allow"], 2, "{report}");
    assert_eq!(report["changed_claims"], 0);
    assert!(!stderr.contains("warning"), "{stderr}");
    let missing = run(&[
        "impact",
        "--base",
        "policies",
        "--payer-ids",
        "no-such-file.txt",
        "examples/claims.837p",
    ]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
}

#[test]
fn no_progress_line_when_stderr_is_not_a_terminal() {
    // 30 copies of examples/claims.jsonl under other ids: 18,000 claims, long
    // enough (well past the line's first quarter second in a debug build)
    // that a progress line written to a pipe would show.
    let dir = temp_dir("impact", "progress");
    let sample = std::fs::read_to_string(common::root("examples/claims.jsonl"))
        .unwrap_or_else(|e| panic!("{e}"));
    let many: String = (0..30)
        .map(|k| sample.replace("\"CLM-", &format!("\"CLM-{k}-")))
        .collect();
    let claims = dir.join("claims.jsonl");
    std::fs::write(&claims, many).unwrap_or_else(|e| panic!("{e}"));
    let runs: [&[&str]; 3] = [
        &["eval", "-p", "policies"],
        &["eval", "-p", "policies", "--jobs", "2"],
        &["impact", "--base", "policies"],
    ];
    for args in runs {
        let out = bin()
            .args(args)
            .arg(&claims)
            .stdout(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert!(!stderr.contains('\r'), "{args:?}: {stderr:?}");
        assert!(!stderr.contains("% "), "{args:?}: {stderr:?}");
    }
}
