//! Tests of the engine: policies evaluated on claims, line by line and with
//! the history the claims build.

use super::*;

use crate::claims::{read_claims_str, InputFormat};

const HEADER: &str = "payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n codes tpi = cpt 20552, 20553\n codes drugs = hcpcs J*\n";

fn engine(rules: &str) -> Engine {
    support_tests::engine(HEADER, rules)
}

#[test]
fn recycled_decisions_change_no_outcome() {
    // The bundled policies and claims, decided by an engine that gets
    // every outcome back and one that does not: the recycled lists come
    // with other lengths and reasons, and must leave nothing behind.
    let policies = Policies::load(&["policies".into()])
        .policies
        .unwrap_or_default();
    let input = std::fs::read_to_string("examples/claims.jsonl").unwrap_or_default();
    let claims = read_claims_str(&input, InputFormat::JsonLines);
    assert!(claims.len() >= 500);
    let (mut fresh, mut recycling) = (Engine::new(policies.clone()), Engine::new(policies));
    let mut decided_with_reasons = 0;
    for (i, claim) in claims.iter().enumerate() {
        let Ok(claim) = claim else { continue };
        let want = fresh.evaluate(claim, i + 1);
        let Ok(got) = recycling.try_evaluate(claim, i + 1);
        assert_eq!(got.outcome, want, "claim {}", i + 1);
        if let Outcome::Decision(d) = &want {
            decided_with_reasons += usize::from(d.lines.iter().any(|l| !l.reasons.is_empty()));
        }
        recycling.recycle(got);
    }
    assert!(decided_with_reasons > 100, "{decided_with_reasons}");
    assert!(!recycling.spare.lines.is_empty() && !recycling.spare.reasons.is_empty());
}

/// Evaluates claims given as JSON Lines; returns each line's fired rule ids.
fn fired(engine: &mut Engine, claims: &str) -> Vec<Vec<Vec<String>>> {
    read_claims_str(claims, InputFormat::JsonLines)
        .into_iter()
        .enumerate()
        .map(|(i, c)| match c.map(|c| engine.evaluate(&c, i + 1)) {
            Ok(Outcome::Decision(d)) => support_tests::rules_fired(&d),
            other => panic!("claim {i}: {other:?}"),
        })
        .collect()
}

fn claim(id: &str, lines: &[(&str, &str)]) -> String {
    let lines: Vec<String> = lines
        .iter()
        .map(|(date, code)| format!(r#"{{"date_of_service":"{date}","procedure":"{code}"}}"#))
        .collect();
    format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"P","birth_date":"1960-06-15"}},"diagnoses":["M79.18"],"place_of_service":"11","lines":[{}]}}"#,
        lines.join(",")
    ) + "\n"
}

#[test]
fn a_line_allowed_earlier_in_the_same_claim_is_history() {
    let mut e =
        engine("rule D { when line.procedure in tpi limit tpi to 1 per day else deny CO-97 }");
    let out = fired(
        &mut e,
        &claim(
            "C1",
            &[
                ("2025-01-01", "20552"),
                ("2025-01-01", "20553"),
                ("2025-01-02", "20553"),
            ],
        ),
    );
    assert_eq!(
        out[0],
        vec![Vec::<String>::new(), vec!["D".to_string()], vec![]]
    );
}

#[test]
fn a_denied_line_is_not_history() {
    let mut e = engine(
        "rule D { when line.procedure in tpi limit tpi to 1 per day else deny CO-97 }\n\
         rule X { when line.procedure in tpi and line.date_of_service == 2025-01-01 deny CO-50 }",
    );
    let out = fired(
        &mut e,
        &(claim("C1", &[("2025-01-01", "20552")]) + &claim("C2", &[("2025-01-01", "20553")])),
    );
    assert_eq!(out[0][0], vec!["X"]);
    assert_eq!(
        out[1][0],
        vec!["X"],
        "C1 was denied, so C2 is not a second session"
    );
}

#[test]
fn count_windows_include_or_exclude_the_date_of_service() {
    let mut e = engine(
        "rule W { when line.procedure in tpi and line.date_of_service == 2025-01-31 \
           require count(tpi within 30 days) == 2 else review CO-16 }\n\
         rule B { when line.procedure in tpi and line.date_of_service == 2025-01-31 \
           require count(tpi within 30 days before) == 2 else review CO-16 }\n\
         rule S { when line.procedure in tpi and line.date_of_service == 2025-01-31 \
           require count(tpi on same day) == 1 else review CO-16 }",
    );
    // History: 2025-01-01 (day -30), 2025-01-02 (day -29), 2025-01-31 (day 0, same day).
    let input = claim(
        "H",
        &[
            ("2025-01-01", "20552"),
            ("2025-01-02", "20552"),
            ("2025-01-31", "20552"),
        ],
    ) + &claim("C", &[("2025-01-31", "20553")]);
    let out = fired(&mut e, &input);
    // within 30 days = [01-02, 01-31]: 01-02 and 01-31 -> 2; before = [01-01, 01-30] -> 2; same day -> 1.
    assert_eq!(out[1][0], Vec::<String>::new());
}

#[test]
fn month_windows_count_calendar_months() {
    // 12 months before 2028-03-01 is 2027-03-01: the window starts 2027-03-02
    // and spans 366 days, because it holds 2028-02-29.
    let limit =
        "rule L { when line.procedure in tpi limit tpi to 1 per 12 months else deny CO-151 }";
    for (earlier, fires) in [("2027-03-01", false), ("2027-03-02", true)] {
        let mut e = engine(limit);
        let out = fired(
            &mut e,
            &(claim("H", &[(earlier, "20552")]) + &claim("C", &[("2028-03-01", "20552")])),
        );
        assert_eq!(out[1][0] == vec!["L"], fires, "earlier TPI on {earlier}");
    }
    // One month before 2025-03-31 is 2025-02-28 (the 31st does not exist).
    let interval =
        "rule I { when line.procedure in tpi interval tpi at least 1 months else deny CO-151 }";
    for (earlier, fires) in [
        ("2025-02-28", false),
        ("2025-03-01", true),
        ("2025-03-31", false),
    ] {
        let mut e = engine(interval);
        let out = fired(
            &mut e,
            &(claim("H", &[(earlier, "20552")]) + &claim("C", &[("2025-03-31", "20552")])),
        );
        assert_eq!(out[1][0] == vec!["I"], fires, "earlier TPI on {earlier}");
    }
    // `within 2 months before` on 2025-05-15: 2025-03-15 .. 2025-05-14.
    let count =
        "rule K { when line.procedure in tpi and count(tpi within 2 months before) >= 1 allow }";
    for (earlier, fires) in [
        ("2025-03-14", false),
        ("2025-03-15", true),
        ("2025-05-14", true),
        ("2025-05-15", false),
    ] {
        let mut e = engine(count);
        let out = fired(
            &mut e,
            &(claim("H", &[(earlier, "20552")]) + &claim("C", &[("2025-05-15", "20552")])),
        );
        assert_eq!(out[1][0] == vec!["K"], fires, "earlier TPI on {earlier}");
    }
}

#[test]
fn per_code_counts_only_services_of_the_lines_own_code() {
    let mut e = engine(
        "rule U { when line.procedure in tpi limit tpi to 1 per day per code else deny CO-151 }\n\
         rule W { when line.procedure in tpi interval tpi at least 30 days per code else deny CO-151 }\n\
         rule K { when line.procedure in tpi and count(tpi within 30 days per code) >= 1 allow }",
    );
    let out = fired(
        &mut e,
        &(claim(
            "A",
            &[
                ("2025-01-01", "20552"),
                ("2025-01-01", "20553"),
                ("2025-01-01", "20553"),
            ],
        ) + &claim("B", &[("2025-01-20", "20552")])),
    );
    assert_eq!(
        out[0],
        vec![
            Vec::<String>::new(),
            vec![],
            vec!["U".to_string(), "K".to_string()]
        ],
        "20552 and 20553 are counted apart; the second 20553 is over"
    );
    assert_eq!(out[1][0], vec!["W", "K"]);
}

#[test]
fn missing_facts_fail_comparisons_and_exists_tells_them_apart() {
    let mut e = engine(
        "rule F { when line.procedure in tpi \
           require facts.relief exists else review CO-16 \
           require facts.relief >= 50 else deny CO-50 }",
    );
    let with = |facts: &str| {
        format!(
            // An id per variant: one claim id with other content would be a
            // conflict in the ledger.
            r#"{{"id":"C{}","payer":"p","patient":{{"id":"Q"}},"diagnoses":["M79.18"],"facts":{facts},"lines":[{{"date_of_service":"2025-01-01","procedure":"20552"}}]}}"#,
            facts.len()
        ) + "\n"
    };
    assert_eq!(fired(&mut e, &with("{}"))[0][0], vec!["F"]);
    let e2 = &mut engine(
        "rule F { when line.procedure in tpi require facts.relief >= 50 else deny CO-50 }",
    );
    assert_eq!(
        fired(e2, &with("{}"))[0][0],
        vec!["F"],
        "a missing fact fails the comparison"
    );
    assert!(fired(e2, &with(r#"{"relief":50}"#))[0][0].is_empty());
}

/// The outcome of one claim given as a JSON line.
fn outcome(engine: &mut Engine, line: &str) -> Outcome {
    match read_claims_str(line, InputFormat::JsonLines)
        .into_iter()
        .next()
    {
        Some(Ok(claim)) => engine.evaluate(&claim, 1),
        other => panic!("not a claim: {other:?}"),
    }
}

#[test]
fn a_fact_of_another_kind_than_the_policy_compares_is_an_invalid_claim() {
    let mut e = engine(
        "rule F { when line.procedure in tpi require facts.relief >= 50 else deny CO-50 }\n\
         rule G { when line.procedure in tpi require facts.note != \"x\" or facts.relief >= 0 else deny CO-50 }",
    );
    let with = |id: &str, facts: &str| {
        format!(
            r#"{{"id":"{id}","payer":"p","patient":{{"id":"Q"}},"diagnoses":["M79.18"],"facts":{facts},"lines":[{{"date_of_service":"2025-01-01","procedure":"20552"}}]}}"#
        )
    };
    // Text where a rule compares with a number: refused, not denied (C5).
    let Outcome::Error(err) = outcome(&mut e, &with("C1", r#"{"relief":"51"}"#)) else {
        panic!("decided")
    };
    assert_eq!(err.error.path.as_deref(), Some("facts.relief"));
    assert_eq!(
        err.error.message,
        "fact `relief` is text (`51`), but rule F of policy `t` compares it with a number"
    );
    assert!(matches!(
        outcome(
            &mut e,
            &with("C2", r#"{"relief":51,"note":"y","other":"z"}"#)
        ),
        Outcome::Decision(_)
    ));
    let Outcome::Error(err) = outcome(&mut e, &with("C3", r#"{"relief":51,"note":true}"#)) else {
        panic!("decided")
    };
    assert_eq!(err.error.path.as_deref(), Some("facts.note"));
}

#[test]
fn whole_number_facts_compare_exactly() {
    let mut e = engine(
        "rule F { when line.procedure in tpi require facts.n == 9007199254740993 else deny CO-50 }\n\
         rule G { when line.procedure in tpi require facts.n < 9007199254740993.5 else deny CO-50 }",
    );
    let with = |id: &str, n: &str| {
        format!(
            r#"{{"id":"{id}","payer":"p","patient":{{"id":"Q"}},"diagnoses":["M79.18"],"facts":{{"n":{n}}},"lines":[{{"date_of_service":"2025-01-01","procedure":"20552"}}]}}"#
        ) + "\n"
    };
    assert_eq!(
        fired(&mut e, &with("C1", "9007199254740992"))[0][0],
        vec!["F"]
    );
    assert!(fired(&mut e, &with("C2", "9007199254740993"))[0][0].is_empty());
}

#[test]
fn quantifiers_look_at_the_other_lines_only() {
    let mut e = engine(
        "rule S { when line.procedure in tpi require some other line (other.procedure in drugs) else review CO-16 }\n\
         rule N { when line.procedure in tpi require no other line (other.procedure in tpi) else deny CO-97 }\n\
         rule E { when line.procedure in drugs require every other line (other.date_of_service == line.date_of_service) else review CO-16 }",
    );
    let out = fired(
        &mut e,
        &(claim("A", &[("2025-01-01", "20552"), ("2025-01-01", "J3301")])
            + &claim("B", &[("2025-02-01", "20552")])
            + &claim("C", &[("2025-03-01", "J3301"), ("2025-03-02", "20552")])),
    );
    assert_eq!(out[0], vec![Vec::<String>::new(), vec![]]);
    assert_eq!(out[1][0], vec!["S"]);
    assert_eq!(out[2][0], vec!["E"]);
}

#[test]
fn lists_ages_and_modifiers() {
    let mut e = engine(
        "rule P { when line.procedure in tpi and claim.place_of_service not in [\"11\", \"22\"] deny CO-58 }\n\
         rule A { when line.procedure in tpi and patient.age < 65 review CO-16 }",
    );
    // Born 1960-06-15: 64 on 2025-06-14, 65 on 2025-06-15.
    let out = fired(
        &mut e,
        &(claim("A", &[("2025-06-14", "20552")]) + &claim("B", &[("2025-06-15", "20552")])),
    );
    assert_eq!(out[0][0], vec!["A"]);
    assert!(out[1][0].is_empty());
}

#[test]
fn line_takes_the_most_severe_action_and_the_claim_is_partial() {
    let mut e = engine(
        "rule R { when line.procedure in tpi review CO-16 }\n\
         rule D { when line.procedure in tpi and line.units > 1 deny CO-151 }",
    );
    let input = r#"{"id":"C","payer":"p","patient":{"id":"Z"},"diagnoses":["M79.18"],"lines":[{"date_of_service":"2025-01-01","procedure":"20552","units":2},{"date_of_service":"2025-01-01","procedure":"J3301"}]}"#;
    let claim = support_tests::read_claim(input);
    let Outcome::Decision(d) = e.evaluate(&claim, 1) else {
        panic!("no decision")
    };
    assert_eq!(d.lines[0].decision, Action::Deny);
    assert_eq!(
        d.lines[0]
            .reasons
            .iter()
            .map(|r| &*r.rule)
            .collect::<Vec<_>>(),
        ["R", "D"]
    );
    assert_eq!(d.decision, ClaimDecision::Partial);
}

#[test]
fn the_latest_version_in_effect_is_chosen() {
    let v = |version: &str, range: &str, carc: &str| {
        format!(
            "policy t \"t\" {{ payer p version \"{version}\" effective {range} source \"s\" codes tpi = cpt 20552 \
             rule R {{ when line.procedure in tpi deny {carc} }} }}"
        )
    };
    let mut files = std::collections::HashMap::new();
    files.insert(
        std::path::PathBuf::from("a.policy"),
        v("old", "2020-01-01..2024-12-31", "CO-1"),
    );
    files.insert(
        std::path::PathBuf::from("b.policy"),
        v("new", "2024-06-01..", "CO-2"),
    );
    let roots = [
        std::path::PathBuf::from("a.policy"),
        std::path::PathBuf::from("b.policy"),
    ];
    let (ws, diags) = crate::workspace::Workspace::from_memory(&files, &roots);
    let loaded = Policies::from_workspace(ws, diags);
    let mut e = Engine::new(loaded.policies.unwrap_or_default());
    let version = |e: &mut Engine, date: &str| {
        let c =
            // An id per date: one id with other content would be a conflict.
            read_claims_str(&claim(date, &[(date, "20552")]), InputFormat::JsonLines)
                .remove(0);
        match c.map(|c| e.evaluate(&c, 1)) {
            Ok(Outcome::Decision(d)) => d.policy_version.to_string(),
            other => format!("{other:?}"),
        }
    };
    assert_eq!(version(&mut e, "2024-05-31"), "old");
    assert_eq!(
        version(&mut e, "2024-06-01"),
        "new",
        "both cover it; the later start wins"
    );
    assert_eq!(version(&mut e, "2024-12-31"), "new");
    assert_eq!(version(&mut e, "2025-01-01"), "new");
    assert!(version(&mut e, "2019-12-31").contains("NoPolicy"));
}

#[test]
fn numbers_in_rules_compare_exactly_at_their_boundaries() {
    // Each rule fires when its boundary holds. As doubles, every literal
    // below but the first two read as the very number the claim sends
    // (`2.50000000000000001` is the double 2.5; `18446744073709551617`
    // was the double 2^64), so `>=` held and `==` was true.
    let mut e = engine(
        "rule AT { when facts.dose_mg >= 2.5 require false else deny CO-16 }\n\
         rule CHARGE { when line.charge >= 100.10 require false else deny CO-16 }\n\
         rule ABOVE { when facts.dose_mg >= 2.50000000000000001 require false else deny CO-16 }\n\
         rule CENTS { when line.charge == 100.100000000000000001 require false else deny CO-16 }\n\
         rule POINT3 { when facts.ratio == 0.3 require false else deny CO-16 }\n\
         rule BIG { when facts.count == 18446744073709551617 require false else deny CO-16 }",
    );
    let claim = |facts: &str, charge: &str| {
        format!(
            r#"{{"id":"C{charge}","payer":"p","patient":{{"id":"P","birth_date":"1960-06-15"}},"diagnoses":["M79.18"],"facts":{{{facts}}},"lines":[{{"date_of_service":"2025-03-04","procedure":"20552","charge":{charge}}}]}}"#
        ) + "\n"
    };
    let mut rules = |facts: &str, charge: &str| {
        let got = fired(&mut e, &claim(facts, charge));
        got.into_iter().flatten().flatten().collect::<Vec<String>>()
    };
    assert_eq!(
        rules(
            r#""dose_mg":2.5,"ratio":0.3,"count":18446744073709551616"#,
            "100.10"
        ),
        ["AT", "CHARGE", "POINT3"]
    );
    // 0.1 + 0.2 as a double: not 0.3; a dose of more digits than a double
    // holds is the double it reads as, 2.5.
    assert_eq!(
        rules(
            r#""dose_mg":2.5000000000000001,"ratio":0.30000000000000004"#,
            "100.09"
        ),
        ["AT"]
    );
}
