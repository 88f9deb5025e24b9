//! Counts `with modifier`: sums of charges per therapy discipline (GP and
//! GN together, GO apart), the line itself counted only when it carries one
//! of the modifiers, the claim's earlier lines, `count(...)` and `interval`
//! with the clause, a large history (counted from its index), and a
//! history file opened again.

use super::units_tests::{claim, each_line, engine, fired, line, policies};
use super::*;

/// The KX threshold per discipline, at $100: PT and SLP together, OT apart.
const DISCIPLINES: &str = "\
    rule PT { when line.procedure in therapy and (line.modifiers has \"GP\" or line.modifiers has \"GN\") \
      limit therapy charges to 100 per calendar year with modifier \"GP\" or \"GN\" else review OA-133 }\n\
    rule OT { when line.procedure in therapy and line.modifiers has \"GO\" \
      limit therapy charges to 100 per calendar year with modifier \"GO\" else review OA-133 }";

#[test]
fn each_discipline_sums_its_own_charges() {
    let mut e = engine(DISCIPLINES);
    let got = each_line(
        &mut e,
        &[
            line("2025-01-10", "97110", r#""charge":60,"modifiers":["GP"]"#),
            // OT's sum is its own: 60 of OT, not 120 of therapy.
            line("2025-01-11", "97110", r#""charge":60,"modifiers":["GO"]"#),
            // SLP adds to PT's: 60 + 50 is over 100.
            line("2025-01-12", "97140", r#""charge":50,"modifiers":["GN"]"#),
            // OT reaches 100 exactly, and then a cent more.
            line(
                "2025-01-13",
                "97140",
                r#""charge":40,"modifiers":["GO","KX"]"#,
            ),
            line("2025-01-14", "97140", r#""charge":0.01,"modifiers":["GO"]"#),
            // A line without a discipline is decided by neither rule.
            line("2025-01-15", "97110", r#""charge":500"#),
            // PT's 110 (a reviewed line counts) and 40 more.
            line("2025-01-16", "97110", r#""charge":40,"modifiers":["GP"]"#),
        ],
    );
    let want: [&[&str]; 7] = [&[], &[], &["PT"], &[], &["OT"], &[], &["PT"]];
    assert_eq!(got, want);
}

#[test]
fn a_limit_with_modifier_counts_the_line_only_when_it_carries_one() {
    // The limit applies to every therapy line but counts GO services: a GP
    // line of 150 is not among them, so OT's 0 is not exceeded.
    let mut e = engine(
        "rule OT { when line.procedure in therapy limit therapy charges to 100 per calendar year with modifier \"GO\" else review OA-133 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2025-02-01", "97110", r#""charge":150,"modifiers":["GP"]"#),
            line("2025-02-02", "97110", r#""charge":90,"modifiers":["GO"]"#),
            // 90 of OT, and this GP line adds nothing, nor one without
            // modifiers: neither is counted, in history or on the line.
            line("2025-02-03", "97110", r#""charge":150,"modifiers":["GP"]"#),
            line("2025-02-03", "97140", r#""charge":500"#),
            line("2025-02-04", "97110", r#""charge":10,"modifiers":["GO"]"#),
            line("2025-02-05", "97110", r#""charge":0.01,"modifiers":["GO"]"#),
        ],
    );
    let want: [&[&str]; 6] = [&[], &[], &[], &[], &[], &["OT"]];
    assert_eq!(got, want);
}

#[test]
fn the_claims_earlier_lines_count_by_their_modifiers() {
    let mut e = engine(DISCIPLINES);
    let claims = [
        // 80 of PT, then 30 of OT: two sums, neither over.
        claim(
            "A",
            &[
                &line("2025-03-01", "97110", r#""charge":80,"modifiers":["GP"]"#),
                &line("2025-03-01", "97140", r#""charge":30,"modifiers":["GO"]"#),
            ],
        ),
        // 80 + 30 of PT on one claim: the second line is over.
        claim(
            "B",
            &[
                &line("2025-03-02", "97140", r#""charge":5,"modifiers":["GO"]"#),
                &line("2025-03-02", "97110", r#""charge":30,"modifiers":["GP"]"#),
            ],
        ),
    ];
    let want = vec![vec![vec![], vec![]], vec![vec![], vec!["PT".to_string()]]];
    assert_eq!(fired(&mut e, &claims), want);
}

#[test]
fn counts_and_intervals_take_the_clause_too() {
    let mut e = engine(
        "rule C { when line.procedure in tpi and count(tpi within 30 days before with modifier \"59\" or \"XS\") >= 1 review CO-252 rarc N706 }\n\
         rule I { when line.procedure in tpi interval tpi at least 7 days with modifier \"XS\" else deny CO-151 rarc N362 }\n\
         rule S { when line.procedure in therapy and sum(therapy charges in calendar year with modifier \"GO\") > 50 review OA-133 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2025-04-01", "20552", ""),
            // The TPI of April 1 had no 59 or XS: nothing counted.
            line("2025-04-03", "20552", r#""modifiers":["XS"]"#),
            // The XS TPI of April 3 counts for both, within 7 days.
            line("2025-04-05", "20553", ""),
            line("2025-04-30", "20552", r#""modifiers":["59"]"#),
            line("2025-05-01", "97110", r#""charge":60,"modifiers":["GP"]"#),
            line("2025-05-02", "97110", r#""charge":60,"modifiers":["GO"]"#),
            line("2025-05-03", "97110", r#""charge":1,"modifiers":["GP"]"#),
        ],
    );
    // The last line: 60 of GO before it, over 50 (its own is not summed).
    let want: [&[&str]; 7] = [&[], &[], &["C", "I"], &["C"], &[], &[], &["S"]];
    assert_eq!(got, want);
}

#[test]
fn a_large_history_counts_by_modifier_from_its_index() {
    // 300 services (a book of 256 or more keeps an index by procedure and
    // mark, a mark being a site and modifiers): 150 of PT at 1.00 and 150
    // of OT at 0.50, alternating, through 2024.
    let mut e = engine(DISCIPLINES);
    let history: Vec<String> = (0..300)
        .map(|i| {
            let date =
                chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(i / 2);
            let (m, charge) = if i % 2 == 0 {
                ("GP", "1")
            } else {
                ("GO", "0.5")
            };
            claim(
                &format!("H{i}"),
                &[&line(
                    &date.to_string(),
                    "97110",
                    &format!(r#""charge":{charge},"modifiers":["{m}"]"#),
                )],
            )
        })
        .collect();
    let quiet = fired(&mut e, &history);
    // PT passes 100 at its 101st service; OT never reaches 100 (75.00).
    let pt_fired = quiet
        .iter()
        .flatten()
        .filter(|l| l.contains(&"PT".to_string()))
        .count();
    assert_eq!(pt_fired, 50);
    assert!(quiet
        .iter()
        .flatten()
        .all(|l| !l.contains(&"OT".to_string())));
    // OT's 75.00 (reviewed lines count) plus 25.00 is 100: reached; a cent
    // more is over. PT's sum is its own.
    let got = each_line(
        &mut e,
        &[
            line("2024-12-01", "97110", r#""charge":25,"modifiers":["GO"]"#),
            line("2024-12-02", "97110", r#""charge":0.01,"modifiers":["GO"]"#),
        ],
    );
    let want: [&[&str]; 2] = [&[], &["OT"]];
    assert_eq!(got, want);
}

#[test]
fn modifiers_stored_in_a_file_count_after_it_is_opened_again() {
    let dir = support_tests::fresh_dir("modifiers");
    let path = dir.join("h.db");
    let open = || {
        crate::history::SqliteHistory::open(&path, std::time::Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut e = Engine::with_history(policies(DISCIPLINES), open());
    let first = [claim(
        "A",
        &[
            &line(
                "2025-01-10",
                "97110",
                r#""charge":90,"modifiers":["GP","KX"]"#,
            ),
            &line("2025-01-10", "97140", r#""charge":90,"modifiers":["GO"]"#),
        ],
    )];
    let none: Vec<Vec<Vec<String>>> = vec![vec![vec![], vec![]]];
    assert_eq!(fired(&mut e, &first), none);
    drop(e);
    let mut e = Engine::with_history(policies(DISCIPLINES), open());
    let got = each_line(
        &mut e,
        &[
            line("2025-02-10", "97140", r#""charge":10,"modifiers":["GN"]"#),
            line(
                "2025-02-11",
                "97110",
                r#""charge":10.01,"modifiers":["GO"]"#,
            ),
        ],
    );
    let want: [&[&str]; 2] = [&[], &["OT"]];
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_anchored_period_starts_at_the_first_service_billed_with_the_modifiers() {
    // Once per 12 months from the first OT service: a PT service before it
    // neither anchors the period nor counts.
    let mut e = engine(
        "rule OT1 { when line.procedure in therapy limit therapy to 1 per 12 months from first with modifier \"GO\" else deny CO-119 rarc N640 }",
    );
    let got = each_line(
        &mut e,
        &[
            line("2025-01-10", "97110", r#""modifiers":["GP"]"#),
            // The first OT service anchors 2025-03-01 to 2026-02-28.
            line("2025-03-01", "97110", r#""modifiers":["GO"]"#),
            line("2025-06-01", "97110", r#""modifiers":["GO"]"#),
            // Had the PT service anchored, its period would have ended on
            // 2026-01-09 and this line started another.
            line("2026-02-28", "97140", r#""modifiers":["GO"]"#),
            line("2026-03-01", "97140", r#""modifiers":["GO"]"#),
        ],
    );
    let want: [&[&str]; 5] = [&[], &[], &["OT1"], &["OT1"], &[]];
    assert_eq!(got, want);
    // On one claim: a PT line first, then two OT lines of a new period;
    // the first OT line anchors it, the second is over.
    let claims = [claim(
        "N",
        &[
            &line("2027-05-01", "97110", r#""modifiers":["GP"]"#),
            &line("2027-05-01", "97110", r#""modifiers":["GO"]"#),
            &line("2027-05-02", "97140", r#""modifiers":["GO","KX"]"#),
        ],
    )];
    let want = vec![vec![vec![], vec![], vec!["OT1".to_string()]]];
    assert_eq!(fired(&mut e, &claims), want);
}
