//! Tests of several policies of one payer: every policy in effect on a line's
//! date applies to it, each line is decided by the versions in force on its
//! own date, and the decisions say which policy each reason comes from.

use super::*;

/// A policy of payer `p` with `rules` over the TPI codes.
fn policy(id: &str, version: &str, range: &str, rules: &str) -> String {
    format!(
        "policy {id} \"{id}\" {{\n payer p\n version \"{version}\"\n effective {range}\n source \"test\"\n codes tpi = cpt 20552, 20553\n{rules}\n}}\n"
    )
}

fn engine(files: &[(&str, String)]) -> Engine {
    Engine::new(support_tests::load_files(files, support_tests::no_errors))
}

/// Two policies of payer `p` in effect on the same dates, loaded in the
/// order opposite to their ids' (policy order is by id, not load order).
fn two_policies() -> Engine {
    engine(&[
        (
            "z.policy",
            policy(
                "z-units",
                "2",
                "2024-01-01..",
                "rule Z1 { when line.procedure in tpi require line.units <= 1 else review CO-151 }\n rule Z2 { when line.procedure in tpi deny CO-4 }",
            ),
        ),
        (
            "a.policy",
            policy(
                "a-dx",
                "7",
                "2024-06-01..",
                "rule A1 { when line.procedure in tpi require facts.relief >= 50 else deny CO-50 }",
            ),
        ),
    ])
}

fn claim(id: &str, lines: &[(&str, &str, u32)], extra: &str) -> Claim {
    let lines: Vec<String> = lines
        .iter()
        .map(|(date, code, units)| {
            format!(r#"{{"date_of_service":"{date}","procedure":"{code}","units":{units}}}"#)
        })
        .collect();
    let text = format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"P"}},"diagnoses":["M79.18"],"lines":[{}]{extra}}}"#,
        lines.join(",")
    );
    support_tests::read_claim(&text)
}

fn decided(outcome: Outcome) -> Decision {
    match outcome {
        Outcome::Decision(d) => d,
        Outcome::Error(e) => panic!("{e:?}"),
    }
}

/// Each line's reasons as `policy@version:rule`.
fn reasons(d: &Decision) -> Vec<Vec<String>> {
    d.lines
        .iter()
        .map(|l| {
            l.reasons
                .iter()
                .map(|r| format!("{}@{}:{}", r.policy, r.policy_version, r.rule))
                .collect()
        })
        .collect()
}

#[test]
fn two_policies_in_effect_on_a_line_both_fire_in_policy_order() {
    let mut e = two_policies();
    let c = claim(
        "C1",
        &[("2024-07-01", "20552", 2), ("2024-07-01", "99213", 1)],
        r#","facts":{"relief":10}"#,
    );
    let d = decided(e.evaluate(&c, 1));
    assert_eq!(
        reasons(&d),
        [
            vec!["a-dx@7:A1", "z-units@2:Z1", "z-units@2:Z2"],
            Vec::<&str>::new()
        ]
    );
    // The most severe action of all of them.
    assert_eq!(d.lines[0].decision, Action::Deny);
    let listed: Vec<(&str, &str)> = d.policies.iter().map(|p| (&*p.id, &*p.version)).collect();
    assert_eq!(listed, [("a-dx", "7"), ("z-units", "2")]);
    assert_eq!((&*d.policy, &*d.policy_version), ("a-dx", "7"), "the first");
    let json = Evaluated {
        outcome: Outcome::Decision(d),
        replayed: false,
    }
    .json();
    assert!(
        json.contains(r#""policy":"a-dx","policy_version":"7","policies":[{"id":"a-dx","version":"7"},{"id":"z-units","version":"2"}],"decision":"partial""#),
        "{json}"
    );
}

#[test]
fn a_line_only_one_policy_covers_gets_that_one_and_no_policies_list() {
    let mut e = two_policies();
    // Before a-dx starts: z-units alone, as a single-policy payer.
    let c = claim("C1", &[("2024-05-31", "20552", 2)], "");
    let d = decided(e.evaluate(&c, 1));
    assert_eq!(reasons(&d), [vec!["z-units@2:Z1", "z-units@2:Z2"]]);
    assert!(d.policies.is_empty());
    assert_eq!(&*d.policy, "z-units");
    // Lines on both sides of a-dx's start: each line its own policies, and
    // the claim lists both.
    let c = claim(
        "C2",
        &[("2024-05-31", "20552", 1), ("2024-06-01", "20552", 1)],
        r#","facts":{"relief":10}"#,
    );
    let d = decided(e.evaluate(&c, 2));
    assert_eq!(
        reasons(&d),
        [vec!["z-units@2:Z2"], vec!["a-dx@7:A1", "z-units@2:Z2"]]
    );
    assert_eq!(d.policies.len(), 2);
}

#[test]
fn each_line_is_decided_by_the_version_in_force_on_its_date() {
    let v = |version: &str, range: &str, carc: &str| {
        policy(
            "t",
            version,
            range,
            &format!("rule R {{ when line.procedure in tpi deny {carc} }}"),
        )
    };
    let mut e = engine(&[
        ("old.policy", v("old", "2020-01-01..2024-05-31", "CO-1")),
        ("new.policy", v("new", "2024-06-01..", "CO-2")),
    ]);
    let c = claim(
        "C1",
        &[("2024-05-31", "20552", 1), ("2024-06-01", "20553", 1)],
        "",
    );
    let d = decided(e.evaluate(&c, 1));
    assert_eq!(reasons(&d), [vec!["t@old:R"], vec!["t@new:R"]]);
    let carcs: Vec<Option<&str>> = d
        .lines
        .iter()
        .map(|l| l.reasons[0].carc.as_deref())
        .collect();
    assert_eq!(carcs, [Some("CO-1"), Some("CO-2")]);
    // Both versions applied: listed by id, then start date.
    let listed: Vec<&str> = d.policies.iter().map(|p| &*p.version).collect();
    assert_eq!(listed, ["old", "new"]);
    assert_eq!(&*d.policy_version, "old");
}

#[test]
fn overlapping_versions_of_one_id_give_a_line_the_later_one_only() {
    let v = |version: &str, range: &str| {
        policy(
            "t",
            version,
            range,
            "rule R { when line.procedure in tpi deny CO-1 }",
        )
    };
    let mut e = engine(&[
        ("old.policy", v("old", "2020-01-01..")),
        ("new.policy", v("new", "2024-06-01..")),
    ]);
    let d = decided(e.evaluate(&claim("C1", &[("2024-07-01", "20552", 1)], ""), 1));
    assert_eq!(reasons(&d), [vec!["t@new:R"]]);
    assert!(d.policies.is_empty(), "one version applied");
}

#[test]
fn a_line_no_policy_covers_is_no_policy_at_its_date() {
    let mut e = two_policies();
    let c = claim(
        "C1",
        &[("2024-07-01", "20552", 1), ("2023-12-31", "20552", 1)],
        "",
    );
    let Outcome::Error(err) = e.evaluate(&c, 1) else {
        panic!("an error record");
    };
    assert_eq!(err.error.kind, ErrorKind::NoPolicy);
    assert_eq!(err.error.path.as_deref(), Some("lines[1].date_of_service"));
    assert!(
        err.error.message.contains("2023-12-31"),
        "{}",
        err.error.message
    );
}

#[test]
fn a_fact_mismatch_with_any_applied_policy_is_refused() {
    let mut e = two_policies();
    let c = claim(
        "C1",
        &[("2024-07-01", "20552", 1)],
        r#","facts":{"relief":"high"}"#,
    );
    let Outcome::Error(err) = e.evaluate(&c, 1) else {
        panic!("an error record");
    };
    assert!(err.error.message.contains("a-dx"), "{}", err.error.message);
}

#[test]
fn a_resubmission_is_answered_with_every_reasons_policy() {
    let mut e = two_policies();
    let c = claim(
        "C1",
        &[("2024-07-01", "20552", 2), ("2024-05-01", "20553", 1)],
        r#","facts":{"relief":10}"#,
    );
    let first = e.evaluate(&c, 1);
    let Ok(again) = e.try_evaluate(&c, 2);
    assert!(again.replayed);
    let want = Evaluated {
        outcome: first,
        replayed: false,
    };
    assert_eq!(again.json(), want.json());
    assert_eq!(again.outcome, want.outcome);
}

#[test]
fn traces_name_each_rules_policy_when_several_applied() {
    let mut e = two_policies().explain(true);
    let c = claim(
        "C1",
        &[("2024-07-01", "20552", 1)],
        r#","facts":{"relief":60}"#,
    );
    let d = decided(e.evaluate(&c, 1));
    let steps: Vec<String> = d.lines[0]
        .trace
        .iter()
        .flatten()
        .map(|s| format!("{}:{}", s.policy.as_deref().unwrap_or("-"), s.rule))
        .collect();
    assert_eq!(steps, ["a-dx:A1", "z-units:Z1", "z-units:Z2"]);
    // One policy: the steps do not name it (the decision does).
    let c = claim("C2", &[("2024-05-01", "20552", 1)], "");
    let d = decided(e.evaluate(&c, 2));
    assert!(d.lines[0]
        .trace
        .iter()
        .flatten()
        .all(|s| s.policy.is_none()));
}

#[test]
fn a_line_visits_only_the_rules_its_code_can_trigger_in_each_policy() {
    let e = two_policies();
    let code = crate::codes::CodeKey::parse("99213").unwrap_or_default();
    for p in e.policies().iter() {
        assert!(p.dispatch.rules_for(code).is_empty(), "{}", p.id);
    }
}
