//! Tests of the calendar windows: `per calendar year` and `in calendar year`,
//! and periods anchored at the member's first service (`per 12 months from
//! first`, `in 12 months from first`), on their boundaries: the last day of a
//! year, a leap day, the first service of an anchored period, the day an
//! anchored period ends, and a history over several periods.

use super::*;

use crate::claims::{read_claims_str, InputFormat};

const HEADER: &str = "payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n codes tpi = cpt 20552, 20553\n codes visits = cpt 97810, 97811\n";

fn engine(rules: &str) -> Engine {
    support_tests::engine(HEADER, rules)
}

/// A claim of member `P` with one line per (date, code, site).
fn claim(id: &str, lines: &[(&str, &str, Option<&str>)]) -> String {
    let lines: Vec<String> = lines
        .iter()
        .map(|(date, code, site)| {
            let site = site.map_or(String::new(), |s| format!(r#","site":"{s}""#));
            format!(r#"{{"date_of_service":"{date}","procedure":"{code}"{site}}}"#)
        })
        .collect();
    format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"P"}},"diagnoses":["M79.18"],"lines":[{}]}}"#,
        lines.join(",")
    ) + "\n"
}

/// One line of its own claim on each date, all of code 20552.
fn claims(dates: &[&str]) -> String {
    dates
        .iter()
        .enumerate()
        .map(|(i, d)| claim(&format!("C{i}"), &[(d, "20552", None)]))
        .collect()
}

/// Each claim's lines' decisions and fired rules, e.g. `deny L` or `allow`.
fn decide(engine: &mut Engine, input: &str) -> Vec<Vec<String>> {
    read_claims_str(input, InputFormat::JsonLines)
        .into_iter()
        .enumerate()
        .map(|(i, c)| match c.map(|c| engine.evaluate(&c, i + 1)) {
            Ok(Outcome::Decision(d)) => d
                .lines
                .iter()
                .map(|l| {
                    let mut words = vec![l.decision.as_str().to_string()];
                    words.extend(l.reasons.iter().map(|r| r.rule.to_string()));
                    words.join(" ")
                })
                .collect(),
            other => panic!("claim {i}: {other:?}"),
        })
        .collect()
}

/// The one line of each one-line claim.
fn each(engine: &mut Engine, input: &str) -> Vec<String> {
    decide(engine, input)
        .into_iter()
        .map(|lines| lines.join(" | "))
        .collect()
}

/// Rules that say what `count(COUNTED)` is on each TPI line, as `n0` ..
/// `n4` (allow notes: they change no decision, so every line is history).
fn count_rules(counted: &str) -> String {
    (0..5)
        .map(|n| {
            format!(
                "rule n{n} {{ when line.procedure in tpi and count({counted}) == {n} allow }}\n"
            )
        })
        .collect()
}

/// The count each line saw, from the `n` rule that fired on it.
fn counts(engine: &mut Engine, input: &str) -> Vec<String> {
    each(engine, input)
        .into_iter()
        .map(|l| l.trim_start_matches("allow ").to_string())
        .collect()
}

#[test]
fn december_31_counts_in_its_year_and_january_1_starts_the_next() {
    let mut e = engine(
        "rule L { when line.procedure in tpi limit tpi to 2 per calendar year else deny CO-119 }",
    );
    let out = each(
        &mut e,
        &claims(&[
            "2025-01-01",
            "2025-12-31",
            "2025-12-31", // the third of 2025
            "2026-01-01", // the first of 2026
            "2026-12-31",
            "2026-12-31", // the third of 2026: 2026-01-01 and 2026-12-31 count
        ]),
    );
    assert_eq!(
        out,
        ["allow", "allow", "deny L", "allow", "allow", "deny L"]
    );
    // The same year as a count: earlier services only, the date of service
    // included.
    let mut e = engine(&count_rules("tpi in calendar year"));
    let out = counts(
        &mut e,
        &claims(&[
            "2024-12-31",
            "2025-01-01",
            "2025-06-30",
            "2025-12-31",
            "2025-12-31",
            "2026-01-01",
        ]),
    );
    assert_eq!(out, ["n0", "n0", "n1", "n2", "n3", "n0"]);
}

#[test]
fn a_calendar_year_holds_its_leap_day() {
    let mut e = engine(&count_rules("tpi in calendar year"));
    let out = counts(
        &mut e,
        &claims(&[
            "2028-01-01",
            "2028-02-29",
            "2028-03-01",
            "2028-12-31",
            "2029-02-28",
        ]),
    );
    assert_eq!(out, ["n0", "n1", "n2", "n3", "n0"]);
}

#[test]
fn the_first_service_is_the_anchor_and_its_period_ends_the_day_before_anchor_plus_12_months() {
    let limit = "rule L { when line.procedure in tpi limit tpi to 2 per 12 months from first else deny CO-119 }";
    let mut e = engine(limit);
    let out = each(
        &mut e,
        &claims(&[
            "2025-03-04", // the anchor: the first of its period
            "2025-09-01",
            "2026-03-03", // the day before anchor + 12 months: a third in the period
            "2026-03-04", // anchor + 12 months: the first of a new period
            "2026-03-05",
            "2026-03-06", // a third in the new period
        ]),
    );
    assert_eq!(
        out,
        ["allow", "allow", "deny L", "allow", "allow", "deny L"]
    );
    // Where a rolling 12 months differs: on 2026-03-05 it holds 2025-09-01
    // and 2026-03-04, so 2 + 1, while the anchored period that began on
    // 2026-03-04 holds 1 + 1.
    let rolling_2 =
        "rule R { when line.procedure in tpi limit tpi to 2 per 12 months else deny CO-119 }";
    let dates = claims(&["2025-03-04", "2025-09-01", "2026-03-04", "2026-03-05"]);
    assert_eq!(
        each(&mut engine(rolling_2), &dates),
        ["allow", "allow", "allow", "deny R"]
    );
    assert_eq!(
        each(&mut engine(limit), &dates),
        ["allow", "allow", "allow", "allow"]
    );
    let rolling =
        "rule R { when line.procedure in tpi limit tpi to 1 per 12 months else deny CO-119 }";
    let anchored = "rule A { when line.procedure in tpi limit tpi to 1 per 12 months from first else deny CO-119 }";
    let dates = claims(&["2025-06-01", "2026-06-01"]);
    assert_eq!(each(&mut engine(rolling), &dates), ["allow", "allow"]);
    assert_eq!(each(&mut engine(anchored), &dates), ["allow", "allow"]);
    let dates = claims(&["2025-06-01", "2026-05-31"]);
    assert_eq!(each(&mut engine(rolling), &dates), ["allow", "deny R"]);
    assert_eq!(each(&mut engine(anchored), &dates), ["allow", "deny A"]);
    let dates = claims(&["2025-06-01", "2026-05-31", "2026-06-02"]);
    // Rolling: 2026-05-31 was denied, so 2026-06-02 sees none; anchored
    // the same: a new period from 2026-06-02.
    assert_eq!(
        each(&mut engine(rolling), &dates),
        ["allow", "deny R", "allow"]
    );
    assert_eq!(
        each(&mut engine(anchored), &dates),
        ["allow", "deny A", "allow"]
    );
}

#[test]
fn an_anchor_on_a_leap_day_ends_its_year_on_february_28() {
    // 2029 has no February 29: the period of an anchor on 2028-02-29 runs to
    // 2029-02-28, and 2029-03-01 starts the next (section 12's months).
    let limit = "rule L { when line.procedure in tpi limit tpi to 1 per 12 months from first else deny CO-119 }";
    for (second, want) in [
        ("2029-02-27", "deny L"),
        ("2029-02-28", "deny L"),
        ("2029-03-01", "allow"),
    ] {
        let out = each(&mut engine(limit), &claims(&["2028-02-29", second]));
        assert_eq!(out, ["allow", want], "second TPI on {second}");
    }
    // A month from the 31st: a period anchored on 2028-01-31 holds the
    // whole of February, the leap day too, and ends on 2028-02-29.
    let month = "rule M { when line.procedure in tpi limit tpi to 1 per 1 months from first else deny CO-119 }";
    for (second, want) in [
        ("2028-02-28", "deny M"),
        ("2028-02-29", "deny M"),
        ("2028-03-01", "allow"),
    ] {
        let out = each(&mut engine(month), &claims(&["2028-01-31", second]));
        assert_eq!(out, ["allow", want], "second TPI on {second}");
    }
    // A window across the leap day: anchored on 2028-02-01, 1 month runs
    // to 2028-02-29.
    let mut e = engine(&count_rules("tpi in 1 months from first"));
    let out = counts(
        &mut e,
        &claims(&["2028-02-01", "2028-02-28", "2028-02-29", "2028-03-01"]),
    );
    assert_eq!(out, ["n0", "n1", "n2", "n0"]);
}

#[test]
fn a_history_over_several_anchored_periods_counts_from_the_anchor_of_each() {
    let mut e = engine(&count_rules("tpi in 12 months from first"));
    let out = counts(
        &mut e,
        &claims(&[
            "2024-01-10", // anchor 1
            "2024-06-01",
            "2025-01-09", // the last day of period 1
            "2025-01-10", // anchor 2: on anchor 1 + 12 months
            "2025-03-01",
            "2026-05-01", // anchor 3: period 2 ended 2026-01-09 with no service since
            "2026-05-02",
            "2027-04-30", // the last day of period 3
            "2027-05-01", // period 3 has ended: this line would start period 4
            "2024-03-01", // late: a claim dated in period 1
        ]),
    );
    assert_eq!(
        out,
        ["n0", "n1", "n2", "n0", "n1", "n0", "n1", "n2", "n0", "n1"]
    );
    // A service dated after the line (a claim sent late) does not count nor
    // move the anchor: the 2024-03-01 claim counted only 2024-01-10.
}

#[test]
fn an_anchored_limit_renews_period_after_period() {
    let mut e = engine(
        "rule L { when line.procedure in tpi limit tpi to 2 per 6 months from first else deny CO-119 }",
    );
    let out = each(
        &mut e,
        &claims(&[
            "2024-01-15", // period 2024-01-15 .. 2024-07-14
            "2024-02-01",
            "2024-07-14", // denied: a third
            "2024-07-15", // period 2024-07-15 .. 2025-01-14
            "2025-01-14",
            "2025-01-14", // denied: a third
            "2025-03-01", // period 2025-03-01 .. 2025-08-31
        ]),
    );
    assert_eq!(
        out,
        ["allow", "allow", "deny L", "allow", "allow", "deny L", "allow"]
    );
}

#[test]
fn a_denied_line_is_no_anchor() {
    // The first 20552 is denied by another rule: it is not history, so the
    // first allowed service anchors the period.
    let mut e = engine(
        "rule X { when line.procedure in tpi and line.date_of_service == 2025-01-01 deny CO-50 }\n\
         rule L { when line.procedure in tpi limit tpi to 1 per 12 months from first else deny CO-119 }",
    );
    let out = each(
        &mut e,
        &claims(&["2025-01-01", "2025-02-01", "2026-01-15", "2026-02-01"]),
    );
    assert_eq!(out, ["deny X", "allow", "deny L", "allow"]);
}

#[test]
fn earlier_lines_of_the_claim_anchor_and_count() {
    let mut e = engine(
        "rule L { when line.procedure in tpi limit tpi to 2 per 12 months from first else deny CO-119 }",
    );
    let out = decide(
        &mut e,
        &(claim("H", &[("2025-05-01", "20552", None)])
            + &claim(
                "C",
                &[
                    // Before the history's service: the claim's own first line
                    // is the anchor for the lines after it.
                    ("2025-01-10", "20552", None),
                    ("2025-06-01", "20553", None),
                    ("2026-01-09", "20552", None),
                    ("2026-01-10", "20552", None),
                ],
            )),
    );
    assert_eq!(out[0], ["allow"]);
    // 2025-01-10 anchors (the history's 2025-05-01 is later): 2025-06-01 is
    // the third in the period (01-10, 05-01, 06-01), 2026-01-09 too (06-01
    // was denied), 2026-01-10 starts a period.
    assert_eq!(out[1], ["allow", "deny L", "deny L", "allow"]);
}

#[test]
fn per_code_and_per_site_anchor_each_code_and_site_on_its_own() {
    let mut e = engine(
        "rule C { when line.procedure in tpi limit tpi to 1 per 12 months from first per code else deny CO-119 }\n\
         rule S { when line.procedure in tpi limit tpi to 1 per 12 months from first per site else deny CO-119 }",
    );
    let out = decide(
        &mut e,
        &[
            claim("A", &[("2025-01-10", "20552", Some("neck"))]),
            // Another code at another site: a first service for both rules.
            claim("B", &[("2025-06-01", "20553", Some("back"))]),
            // 20552 again, at the back: per code its period (from 2025-01-10)
            // ended; per site the back's period runs from 2025-06-01.
            claim("C", &[("2026-02-01", "20552", Some("back"))]),
            // 20553 at the neck: the 20553 period (2025-06-01) runs; the
            // neck's (2025-01-10) ended.
            claim("D", &[("2026-02-01", "20553", Some("neck"))]),
        ]
        .concat(),
    );
    assert_eq!(
        out,
        [vec!["allow"], vec!["allow"], vec!["deny S"], vec!["deny C"]]
    );
}

#[test]
fn an_anchored_window_counts_only_the_set() {
    // A visit is no TPI: it neither anchors nor counts.
    let mut e = engine(&count_rules("tpi in 12 months from first"));
    let out = counts(
        &mut e,
        &[
            claim("V", &[("2024-02-01", "97810", None)]),
            claim("A", &[("2025-03-01", "20552", None)]),
            claim("B", &[("2025-04-01", "20552", None)]),
        ]
        .concat(),
    );
    assert_eq!(out, ["allow", "n0", "n1"]);
}

#[test]
fn an_anchored_window_of_a_long_history_is_the_same_from_the_index() {
    // Past 256 services a book counts from its index: the anchors found
    // there are those a scan finds. One service every 5 days for four years
    // (292 services) and 10-day anchored periods: each line sees the
    // services of its period so far.
    let mut input = String::new();
    let mut dates = Vec::new();
    let mut d = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    for _ in 0..292 {
        dates.push(d);
        d = d + chrono::Days::new(5);
    }
    for (i, d) in dates.iter().enumerate() {
        input += &claim(&format!("C{i}"), &[(&d.to_string(), "20552", None)]);
    }
    let mut e = engine(&count_rules("tpi in 12 days from first"));
    let out = counts(&mut e, &input);
    // Periods of 12 days anchored every 15 days: 0, 1, 2, then again.
    let want: Vec<String> = (0..292).map(|i| format!("n{}", i % 3)).collect();
    assert_eq!(out, want);
}

#[test]
fn the_trace_of_an_anchored_limit_names_the_period() {
    let mut e = engine(
        "rule L { when line.procedure in tpi limit tpi to 1 per 12 months from first else deny CO-119 }",
    )
    .explain(true);
    let input = claims(&["2025-03-04", "2026-03-03"]);
    let details: Vec<String> = read_claims_str(&input, InputFormat::JsonLines)
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| match c.map(|c| e.evaluate(&c, i + 1)) {
            Ok(Outcome::Decision(d)) => d.lines.first().and_then(|l| {
                l.trace
                    .as_ref()
                    .and_then(|t| t.first())
                    .and_then(|s| s.detail.clone())
            }),
            _ => None,
        })
        .collect();
    assert_eq!(
        details,
        ["check #1: 2 services from 2025-03-04 to 2026-03-03, more than 1"]
    );
}
