//! Limits and counts of units, and sums of charges, on their boundaries: a
//! units limit reached exactly and exceeded by one, modifier 50 weighing
//! its units once or twice, a charge threshold reached exactly and exceeded
//! by a cent with amounts whose sum as doubles is off, the claim's own
//! earlier lines, `per code` and `per site`, and a history file read again.

use super::*;

const HEADER: &str = "payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n codes tpi = cpt 20552, 20553\n codes drugs = hcpcs J*\n codes therapy = cpt 97110, 97140\n";

pub(super) fn policies(rules: &str) -> Policies {
    support_tests::load_policy(HEADER, rules, support_tests::unused_sets)
}

pub(super) fn engine(rules: &str) -> Engine {
    Engine::new(policies(rules))
}

/// A claim of patient P; each line is the inside of a line object.
pub(super) fn claim(id: &str, lines: &[&str]) -> String {
    let lines: Vec<String> = lines.iter().map(|l| format!("{{{l}}}")).collect();
    format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"P"}},"diagnoses":["M79.18"],"lines":[{}]}}"#,
        lines.join(",")
    )
}

/// A line on `date` of `code` with more fields (`"units":3`, ...).
pub(super) fn line(date: &str, code: &str, more: &str) -> String {
    let sep = if more.is_empty() { "" } else { "," };
    format!(r#""date_of_service":"{date}","procedure":"{code}"{sep}{more}"#)
}

/// Decides each claim in turn; per claim, per line, the rules that fired.
pub(super) fn fired<H: HistoryStore>(
    e: &mut Engine<H>,
    claims: &[String],
) -> Vec<Vec<Vec<String>>> {
    claims
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let claim = support_tests::read_claim(text);
            match e.try_evaluate(&claim, i + 1).map(|ev| ev.outcome) {
                Ok(Outcome::Decision(d)) => support_tests::rules_fired(&d),
                _ => panic!("claim {i} was not decided"),
            }
        })
        .collect()
}

/// One claim of one line each: the rules that fired on each.
pub(super) fn each_line<H: HistoryStore>(e: &mut Engine<H>, lines: &[String]) -> Vec<Vec<String>> {
    let claims: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| claim(&format!("C{i}"), &[l]))
        .collect();
    fired(e, &claims).into_iter().flatten().collect()
}

const UNITS: &str =
    "rule U { when line.procedure in tpi limit tpi units to 6 per 12 months else deny CO-151 rarc N362 }";

#[test]
fn a_units_limit_reached_exactly_passes_and_one_more_unit_fails() {
    let mut e = engine(UNITS);
    let got = each_line(
        &mut e,
        &[
            line("2025-01-10", "20552", r#""units":2"#),
            line("2025-02-10", "20553", r#""units":3"#),
            // 2 + 3 + 1 = 6: reached, not exceeded.
            line("2025-03-10", "20552", ""),
            // 6 + 1 = 7: one over.
            line("2025-03-11", "20552", ""),
            // The denied line is not history: still 6 + 1.
            line("2025-03-12", "20553", r#""units":1"#),
            // A J-code is not in the set: it neither counts nor is limited.
            line("2025-03-12", "J3301", r#""units":40"#),
            // 12 months on the first service has left the window: 3 + 1 + 2.
            line("2026-01-10", "20552", r#""units":2"#),
            line("2026-01-10", "20552", r#""units":1"#),
        ],
    );
    let want: [&[&str]; 8] = [&[], &[], &[], &["U"], &["U"], &[], &[], &["U"]];
    assert_eq!(got, want);
}

#[test]
fn a_line_over_the_units_limit_on_its_own_fails_and_earlier_lines_of_its_claim_count() {
    let mut e = engine(UNITS);
    let got = fired(
        &mut e,
        &[
            claim("A", &[&line("2025-01-10", "20552", r#""units":7"#)]),
            claim(
                "B",
                &[
                    &line("2025-02-10", "20552", r#""units":4"#),
                    &line("2025-02-10", "20553", r#""units":2"#),
                    &line("2025-02-10", "20553", r#""units":1"#),
                ],
            ),
        ],
    );
    let want: [&[&[&str]]; 2] = [&[&["U"]], &[&[], &[], &["U"]]];
    assert_eq!(got, want);
}

#[test]
fn modifier_50_weighs_its_units_as_the_bilateral_clause_says() {
    // 2 units with modifier 50, then 1 more with it, then 1 without.
    let lines = [
        line("2025-01-10", "20552", r#""units":2,"modifiers":["50"]"#),
        line("2025-01-11", "20552", r#""units":1,"modifiers":["50"]"#),
        line("2025-01-12", "20552", r#""units":1"#),
    ];
    let limit = |max: u32, clause: &str| {
        format!(
            "rule B {{ when line.procedure in tpi limit tpi units to {max} per 365 days{clause} else deny CO-151 rarc N362 }}"
        )
    };
    // As 2: 4, then 4 + 2 = 6, then 6 + 1 = 7.
    let mut e = engine(&limit(6, " bilateral as 2"));
    let want: [&[&str]; 3] = [&[], &[], &["B"]];
    assert_eq!(each_line(&mut e, &lines), want, "as 2, limit 6");
    let mut e = engine(&limit(5, " bilateral as 2"));
    let want: [&[&str]; 3] = [&[], &["B"], &[]];
    assert_eq!(each_line(&mut e, &lines), want, "as 2, limit 5");
    // As 1, and without the clause: units as billed, 2, 3, 4.
    for clause in [" bilateral as 1", ""] {
        let mut e = engine(&limit(4, clause));
        let want: [&[&str]; 3] = [&[], &[], &[]];
        assert_eq!(each_line(&mut e, &lines), want, "{clause:?}, limit 4");
        let mut e = engine(&limit(3, clause));
        let want: [&[&str]; 3] = [&[], &[], &["B"]];
        assert_eq!(each_line(&mut e, &lines), want, "{clause:?}, limit 3");
    }
}

#[test]
fn a_count_of_units_weighs_earlier_services_as_the_limit_does() {
    let mut e = engine(
        "rule C2 { when line.procedure in tpi and count(tpi units within 30 days bilateral as 2) >= 5 deny CO-151 rarc N362 }\n\
         rule C1 { when line.procedure in tpi and count(tpi units within 30 days) == 3 deny CO-151 rarc N362 }\n\
         rule CL { when line.procedure in tpi and count(tpi within 30 days) == 2 deny CO-151 rarc N362 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2025-01-10", "20552", r#""units":2,"modifiers":["50"]"#),
            line("2025-01-11", "20552", r#""units":1"#),
            // Earlier: 2 lines, 3 units as billed, 5 with modifier 50 as 2.
            line("2025-01-12", "20552", r#""units":1"#),
        ],
    );
    let want: [&[&str]; 3] = [&[], &[], &["C2", "C1", "CL"]];
    assert_eq!(got, want);
}

#[test]
fn units_per_code_and_per_site() {
    let mut e = engine(
        "rule PC { when line.procedure in tpi limit tpi units to 3 per day per code else deny CO-151 rarc N362 }\n\
         rule PS { when line.procedure in tpi limit tpi units to 4 per day per site else deny CO-151 rarc N362 }",
    );
    let got = fired(
        &mut e,
        &[claim(
            "A",
            &[
                &line("2025-01-10", "20552", r#""units":2,"site":"neck""#),
                &line("2025-01-10", "20553", r#""units":2,"site":"neck""#),
                // 20552: 2 + 2 = 4 over 3; at the neck: 2 + 2 + 2 = 6 over 4.
                &line("2025-01-10", "20552", r#""units":2,"site":"neck""#),
                // Another site: 20553 is 2 + 1 = 3, the back 1.
                &line("2025-01-10", "20553", r#""units":1,"site":"back""#),
            ],
        )],
    );
    let want: [&[&[&str]]; 1] = [&[&[], &[], &["PC", "PS"], &[]]];
    assert_eq!(got, want);
}

/// 702.72 + 1444.96 + 262.32 is 2410.00; added as doubles it is
/// 2410.0000000000005, over the threshold.
const THERAPY: [&str; 3] = ["702.72", "1444.96", "262.32"];

#[test]
fn a_charge_threshold_reached_exactly_passes_and_a_cent_over_fails() {
    let doubles: f64 = THERAPY.iter().filter_map(|c| c.parse::<f64>().ok()).sum();
    assert!(doubles > 2410.0, "doubles drift over: {doubles}");
    let rule = "rule K { when line.procedure in therapy limit therapy charges to 2410.00 per 12 months else deny CO-119 rarc N640 }";
    let mut e = engine(rule);
    let got = each_line(
        &mut e,
        &[
            line(
                "2025-01-10",
                "97110",
                &format!(r#""charge":{}"#, THERAPY[0]),
            ),
            line(
                "2025-02-10",
                "97140",
                &format!(r#""charge":{}"#, THERAPY[1]),
            ),
            // Exactly 2410.00.
            line(
                "2025-03-10",
                "97110",
                &format!(r#""charge":{}"#, THERAPY[2]),
            ),
            // A line without a charge adds nothing.
            line("2025-03-11", "97110", ""),
            // A cent over.
            line("2025-03-12", "97110", r#""charge":0.01"#),
            // A line of another set is neither added nor limited.
            line("2025-03-12", "J3301", r#""charge":99999"#),
        ],
    );
    let want: [&[&str]; 6] = [&[], &[], &[], &[], &["K"], &[]];
    assert_eq!(got, want);
    // The tenths a double gets wrong: 0.1 + 0.2 + 0.3 is 0.6.
    let mut e = engine(
        "rule K { when line.procedure in therapy limit therapy charges to 0.6 per day else deny CO-119 rarc N640 }",
    );
    let got = fired(
        &mut e,
        &[
            claim("A", &[&line("2025-01-10", "97110", r#""charge":0.1"#)]),
            claim(
                "B",
                &[
                    &line("2025-01-10", "97110", r#""charge":0.2"#),
                    &line("2025-01-10", "97140", r#""charge":0.3"#),
                    &line("2025-01-10", "97140", r#""charge":0.01"#),
                ],
            ),
        ],
    );
    let want: [&[&[&str]]; 2] = [&[&[]], &[&[], &[], &["K"]]];
    assert_eq!(got, want);
}

#[test]
fn a_sum_of_charges_compares_exactly() {
    let mut e = engine(
        // Reviews: a reviewed line is history, so the sums go on growing.
        "rule EQ { when line.procedure in therapy and sum(therapy charges within 30 days before) == 0.3 review CO-119 rarc N640 }\n\
         rule GT { when line.procedure in therapy and sum(therapy charges within 30 days before) > 0.3 review CO-119 rarc N640 }\n\
         rule KX { when line.procedure in therapy and sum(therapy charges within 30 days per code) >= 2410 review CO-119 rarc N640 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2025-01-10", "97110", r#""charge":0.1"#),
            line("2025-01-11", "97110", r#""charge":0.2"#),
            // Earlier: 0.1 + 0.2, exactly 0.3.
            line("2025-01-12", "97110", r#""charge":2409.7"#),
            // Earlier: 2410.00 of 97110; none of 97140 before this line.
            line("2025-01-13", "97140", r#""charge":5"#),
            line("2025-01-14", "97110", r#""charge":1"#),
        ],
    );
    let want: [&[&str]; 5] = [&[], &[], &["EQ"], &["GT"], &["GT", "KX"]];
    assert_eq!(got, want);
}

/// Decides each claim in turn (under `--explain`); the traces' texts of the
/// limits that failed, what they added up.
fn failed_limits(e: &mut Engine, claims: &[String]) -> Vec<String> {
    let mut details = Vec::new();
    for (i, t) in claims.iter().enumerate() {
        let c = support_tests::read_claim(t);
        if let Outcome::Decision(d) = e.evaluate(&c, i + 1) {
            for l in &d.lines {
                for step in l.trace.iter().flatten() {
                    details.extend(step.detail.clone().filter(|d| d.contains("more than")));
                }
            }
        }
    }
    details
}

#[test]
fn the_trace_says_what_a_limit_of_units_or_charges_added_up() {
    let mut e = engine(&format!(
        "{UNITS}\n rule K {{ when line.procedure in therapy limit therapy charges to 2410.00 per 12 months else deny CO-119 rarc N640 }}"
    ))
    .explain(true);
    let text = [
        claim("A", &[&line("2025-01-10", "20552", r#""units":6"#)]),
        claim("B", &[&line("2025-01-11", "20552", r#""units":1"#)]),
        claim("C", &[&line("2025-01-11", "97110", r#""charge":2410.01"#)]),
    ];
    let details = failed_limits(&mut e, &text);
    assert_eq!(
        details,
        [
            "check #1: 7 units from 2024-01-12 to 2025-01-11, more than 6",
            "check #1: charges of 2410.01 from 2024-01-12 to 2025-01-11, more than 2410.00",
        ]
    );
}

#[test]
fn units_and_charges_stored_in_a_file_count_after_it_is_opened_again() {
    let dir = support_tests::fresh_dir("units");
    let path = dir.join("h.db");
    let rules = format!(
        "{UNITS}\n rule K {{ when line.procedure in therapy limit therapy charges to 0.6 per 12 months else deny CO-119 rarc N640 }}"
    );
    let open = || {
        crate::history::SqliteHistory::open(&path, std::time::Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let first = [
        claim(
            "A",
            &[
                &line("2025-01-10", "20552", r#""units":2,"modifiers":["50"]"#),
                &line("2025-01-10", "97110", r#""charge":0.1"#),
            ],
        ),
        claim("B", &[&line("2025-01-11", "97140", r#""charge":0.2"#)]),
    ];
    let mut e = Engine::with_history(policies(&rules), open());
    let none: Vec<Vec<Vec<String>>> = vec![vec![vec![], vec![]], vec![vec![]]];
    assert_eq!(fired(&mut e, &first), none);
    drop(e);
    let mut e = Engine::with_history(policies(&rules), open());
    let got = each_line(
        &mut e,
        &[
            line("2025-02-10", "20553", r#""units":4"#),
            line("2025-02-11", "97110", r#""charge":0.3"#),
            line("2025-02-12", "20553", r#""units":1"#),
            line("2025-02-12", "97110", r#""charge":0.01"#),
        ],
    );
    let want: [&[&str]; 4] = [&[], &[], &["U"], &["K"]];
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn units_and_charges_take_calendar_years_and_anchored_periods() {
    // The KX threshold's calendar year: December 31 counts in its year,
    // January 1 starts again at 0.
    let mut e = engine(
        "rule K { when line.procedure in therapy limit therapy charges to 2410.00 per calendar year else deny CO-119 rarc N640 }\n\
         rule S { when line.procedure in therapy and sum(therapy charges in calendar year) >= 2410.00 review CO-119 rarc N640 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2024-01-01", "97110", r#""charge":2000"#),
            line("2024-12-31", "97140", r#""charge":410"#),
            line("2024-12-31", "97110", r#""charge":0.01"#),
            line("2025-01-01", "97110", r#""charge":2410"#),
        ],
    );
    let want: [&[&str]; 4] = [&[], &[], &["K", "S"], &[]];
    assert_eq!(got, want);
    // Units in 12 months from the first service: the anchor's period ends
    // on 2025-02-28 for an anchor on 2024-02-29.
    let mut e = engine(
        "rule A { when line.procedure in tpi limit tpi units to 4 per 12 months from first else deny CO-151 rarc N362 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2024-02-29", "20552", r#""units":3"#),
            line("2025-02-28", "20552", r#""units":2"#),
            line("2025-03-01", "20552", r#""units":4"#),
        ],
    );
    let want: [&[&str]; 3] = [&[], &["A"], &[]];
    assert_eq!(got, want);
}

#[test]
fn a_limit_of_dates_counts_sessions_not_lines() {
    // Two dates of TPI in 30 days at most: a second line on a date already
    // counted is the same session; a third date is over.
    let mut e = engine(
        "rule D { when line.procedure in tpi limit tpi dates to 2 per 30 days else deny CO-151 rarc N640 }\n\
         rule C { when line.procedure in therapy and count(tpi dates within 30 days) >= 2 review CO-252 rarc N706 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2025-01-01", "20552", ""),
            // Another claim, the same date: one session still.
            line("2025-01-01", "20553", ""),
            line("2025-01-05", "20552", ""),
            // A third date: over (and, denied, not history).
            line("2025-01-10", "20552", ""),
            // Two dates of TPI in the 30 days (January 1 and 5).
            line("2025-01-10", "97110", ""),
            // 30 days on, January 1 has left the window: one date.
            line("2025-01-31", "97140", ""),
        ],
    );
    let want: [&[&str]; 6] = [&[], &[], &[], &["D"], &["C"], &[]];
    assert_eq!(got, want);
    // On one claim: two lines of one date are one session; a line of the
    // next date is a second; a third date is over. A limit of lines would
    // have stopped the second line.
    let claims = [claim(
        "S",
        &[
            &line("2025-03-01", "20552", ""),
            &line("2025-03-01", "20553", ""),
            &line("2025-03-02", "20552", ""),
            &line("2025-03-03", "20552", ""),
        ],
    )];
    let want = vec![vec![vec![], vec![], vec![], vec!["D".to_string()]]];
    assert_eq!(fired(&mut e, &claims), want);
}

#[test]
fn a_limit_of_dates_says_how_many_dates_it_counted() {
    let mut e = engine(
        "rule D { when line.procedure in tpi limit tpi dates to 1 per 30 days else deny CO-151 rarc N640 }",
    )
    .explain(true);
    let text = [
        claim("A", &[&line("2025-01-01", "20552", "")]),
        claim("B", &[&line("2025-01-02", "20552", "")]),
    ];
    let details = failed_limits(&mut e, &text);
    assert_eq!(
        details,
        ["check #1: 2 dates of service from 2024-12-04 to 2025-01-02, more than 1"]
    );
}

#[test]
fn dates_take_the_scopes_and_windows_lines_take() {
    // Per site: a date counts for a site where a service of that site (or,
    // with `or unsited`, one without a site) was given on it.
    let mut e = engine(
        "rule D { when line.procedure in tpi limit tpi dates to 1 per 30 days per site else deny CO-151 rarc N640 }\n\
         rule B { when line.procedure in therapy and count(tpi dates within 30 days before) >= 2 review CO-252 rarc N706 }\n\
         rule S { when line.procedure in therapy and count(tpi dates on same day) >= 1 review CO-252 rarc N706 }",
    );
    let site = |s: &str| format!(r#""site":"{s}""#);
    let got = each_line(
        &mut e,
        &[
            line("2025-05-01", "20552", &site("neck")),
            // Another site, the same date: its own date, its own count.
            line("2025-05-01", "20552", &site("back")),
            // The neck again on the same date: still one date there.
            line("2025-05-01", "20553", &site("neck")),
            // The neck on another date: two dates there.
            line("2025-05-03", "20552", &site("neck")),
            // `before` leaves today out: May 1 only (May 3's line was
            // denied, not history). On the same day: none on May 4.
            line("2025-05-04", "97110", ""),
            line("2025-05-04", "20552", &site("hip")),
            // Before May 5: May 1 and May 4; on May 5 itself, none.
            line("2025-05-05", "97110", ""),
            // On the same day: the hip's TPI of May 4.
            line("2025-05-04", "97140", ""),
        ],
    );
    let want: [&[&str]; 8] = [&[], &[], &[], &["D"], &[], &[], &["B"], &["S"]];
    assert_eq!(got, want);
}

#[test]
fn a_limit_of_dates_with_modifier_counts_the_line_date_only_when_it_carries_one() {
    let mut e = engine(
        "rule D { when line.procedure in tpi limit tpi dates to 1 per 30 days with modifier \"59\" else deny CO-151 rarc N640 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2025-06-01", "20552", r#""modifiers":["59"]"#),
            // Without 59: its date is not counted, and June 1's is the one.
            line("2025-06-02", "20552", ""),
            // With 59 on another date: two dates billed with 59.
            line("2025-06-03", "20552", r#""modifiers":["59"]"#),
        ],
    );
    let want: [&[&str]; 3] = [&[], &[], &["D"]];
    assert_eq!(got, want);
}

#[test]
fn a_large_history_counts_its_dates_from_the_index() {
    // 300 TPI services (a book of 256 or more counts from its index), three
    // a day at two sites, over 100 days of 2024: 100 dates.
    let mut e = engine(
        "rule D { when line.procedure in tpi limit tpi dates to 100 per calendar year else deny CO-151 rarc N640 }\n\
         rule C { when line.procedure in therapy and count(tpi dates in calendar year) == 100 review CO-252 rarc N706 }",
    );
    let history: Vec<String> = (0..300)
        .map(|i| {
            let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default()
                + chrono::Days::new(i / 3);
            let site = if i % 3 == 0 { "neck" } else { "back" };
            claim(
                &format!("H{i}"),
                &[&line(
                    &date.to_string(),
                    "20552",
                    &format!(r#""site":"{site}""#),
                )],
            )
        })
        .collect();
    let quiet = fired(&mut e, &history);
    assert!(quiet.iter().flatten().all(Vec::is_empty), "{quiet:?}");
    let got = each_line(
        &mut e,
        &[
            line("2024-12-01", "97110", ""),
            // One of the 100 dates again: still 100.
            line("2024-04-09", "20553", ""),
            // A 101st date.
            line("2024-12-02", "20552", ""),
        ],
    );
    let want: [&[&str]; 3] = [&["C"], &[], &["D"]];
    assert_eq!(got, want);
}
