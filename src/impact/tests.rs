//! Replays of small policies over hand-written claims.

use super::*;
use crate::claims::{read_claims_str, InputFormat};

fn policies(rules: &str) -> Policies {
    let text = format!(
        "policy t {{ payer p version \"1\" effective 2024-01-01.. source \"s\"\n codes tpi = cpt 20552, 20553\n{rules}\n}}"
    );
    let loaded = Policies::from_source("t.policy", &text);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.into_result().unwrap_or_else(|e| panic!("{e}"))
}

fn claim(id: &str, patient: &str, date: &str, code: &str, charge: &str) -> String {
    format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"{patient}"}},"diagnoses":["M79.18"],"lines":[{{"date_of_service":"{date}","procedure":"{code}","charge":{charge}}}]}}"#
    )
}

fn replay(base: &str, candidate: &str, claims: &[String]) -> Impact {
    replay_sets(policies(base), policies(candidate), claims)
}

/// The impact of `claims` (JSON Lines) replayed under two policy sets.
fn replay_sets(base: Policies, candidate: Policies, claims: &[String]) -> Impact {
    let mut replay = Replay::new(base, candidate);
    let text = claims.join("\n");
    for (i, c) in read_claims_str(&text, InputFormat::JsonLines)
        .into_iter()
        .enumerate()
    {
        replay.add(i + 1, c.as_ref());
    }
    replay.finish()
}

/// Each example's claim id and its line's decisions before and after.
fn shown(examples: &[Example]) -> Vec<(&str, &str, &str)> {
    examples
        .iter()
        .map(|e| (e.claim.as_str(), e.before, e.after))
        .collect()
}

#[test]
fn a_new_rule_flips_its_lines_and_moves_their_charges() {
    let claims = [
        claim("A", "P1", "2024-05-01", "20553", "100.10"),
        claim("B", "P2", "2024-05-01", "20552", "80"),
        claim("C", "P3", "2024-05-02", "20553", "0.2"),
    ];
    let impact = replay(
        "",
        "rule R1 \"no 20553\" {\n when line.procedure in (cpt 20553)\n deny CO-50 rarc N115\n }",
        &claims,
    );
    assert_eq!((impact.claims, impact.lines), (3, 3));
    assert_eq!((impact.changed_claims, impact.changed_lines), (2, 2));
    assert_eq!(impact.lines_between("allow", "deny"), 2);
    assert_eq!(impact.line_transitions["allow"]["allow"], 1);
    assert_eq!(impact.claim_transitions["allow"]["deny"], 2);
    assert_eq!(impact.charges_moved.text(), "100.30");
    let r1 = &impact.by_rule[0];
    assert_eq!(
        (r1.rule.as_str(), r1.newly_fires, r1.stops_firing),
        ("R1", 2, 0)
    );
    assert_eq!(r1.charges.text(), "100.30");
    assert!(r1.text_before.is_none());
    assert!(r1
        .text_after
        .as_deref()
        .is_some_and(|t| t.contains("20553")));
    let ids: Vec<&str> = r1.examples.iter().map(|e| e.claim.as_str()).collect();
    assert_eq!(ids, ["A", "C"]);
    assert_eq!(impact.by_procedure[0].key, "20553");
    assert_eq!(impact.by_payer[0].claims, 2);
    // Each group shows its changed lines, both decisions.
    assert_eq!(
        shown(&impact.by_payer[0].examples),
        [("A", "allow", "deny"), ("C", "allow", "deny")]
    );
    assert_eq!(impact.by_procedure[0].examples.len(), 2);
}

#[test]
fn each_side_keeps_its_own_history() {
    // The candidate denies claim A (units), so claim B on the same day is no
    // longer the second session: B goes from deny to allow.
    let base = "rule S \"one a day\" {\n when line.procedure in tpi\n limit tpi to 1 per day\n else deny CO-119 rarc N640\n }";
    let candidate = format!(
        "{base}\n rule Z \"no 20553\" {{\n when line.procedure in (cpt 20553)\n deny CO-50 rarc N115\n }}"
    );
    let claims = [
        claim("A", "P1", "2024-05-01", "20553", "10"),
        claim("B", "P1", "2024-05-01", "20552", "20"),
    ];
    let impact = replay(base, &candidate, &claims);
    assert_eq!(impact.lines_between("allow", "deny"), 1, "{impact:#?}");
    assert_eq!(impact.lines_between("deny", "allow"), 1, "{impact:#?}");
    assert_eq!(impact.charges_moved.text(), "30.00");
    let rules: Vec<(&str, usize, usize)> = impact
        .by_rule
        .iter()
        .map(|r| (r.rule.as_str(), r.newly_fires, r.stops_firing))
        .collect();
    assert_eq!(rules, [("S", 0, 1), ("Z", 1, 0)]);
}

#[test]
fn unchanged_claims_are_counted_not_listed() {
    let claims = [claim("A", "P1", "2024-05-01", "20553", "10")];
    let impact = replay("", "", &claims);
    assert_eq!((impact.claims, impact.changed_claims), (1, 0));
    assert!(impact.by_rule.is_empty() && impact.by_payer.is_empty());
    assert_eq!(impact.claim_transitions["allow"]["allow"], 1);
    assert_eq!(impact.charges_moved.text(), "0.00");
}

#[test]
fn a_claim_the_candidate_has_no_policy_for_is_an_error_line() {
    let claims = [claim("A", "P1", "2024-05-01", "20553", "10")];
    let impact = replay_sets(policies(""), Policies::default(), &claims);
    assert_eq!(impact.lines_between("allow", "error"), 1);
    assert_eq!(impact.claim_transitions["allow"]["error"], 1);
}

/// A rule that pends TPI lines billed above $300.
const PEND: &str = "rule C \"high charge\" {\n when line.procedure in tpi and line.charge > 300\n review CO-252 rarc N706\n }";
/// A rule that denies TPI lines billed above $300.
const DENY: &str =
    "rule D \"too high\" {\n when line.procedure in tpi and line.charge > 300\n deny CO-45\n }";

/// The `(newly_fires, stops_firing, charges)` of each rule in the report.
fn rules(impact: &Impact) -> Vec<(&str, usize, usize, String)> {
    impact
        .by_rule
        .iter()
        .map(|r| {
            (
                r.rule.as_str(),
                r.newly_fires,
                r.stops_firing,
                r.charges.text(),
            )
        })
        .collect()
}

#[test]
fn allow_to_review_when_a_rule_newly_pends() {
    let claims = [
        claim("A", "P1", "2024-05-01", "20552", "400"),
        claim("B", "P2", "2024-05-01", "20552", "200"),
    ];
    let impact = replay("", PEND, &claims);
    assert_eq!(impact.lines_between("allow", "review"), 1, "{impact:#?}");
    assert_eq!(impact.lines_between("*", "*"), 1);
    assert_eq!(impact.line_transitions["allow"]["allow"], 1);
    assert_eq!(impact.claim_transitions["allow"]["review"], 1);
    assert_eq!((impact.changed_claims, impact.changed_lines), (1, 1));
    assert_eq!(impact.charges_moved.text(), "400.00");
    assert_eq!(rules(&impact), [("C", 1, 0, "400.00".to_string())]);
}

#[test]
fn review_to_allow_when_a_rule_stops_pending() {
    let claims = [claim("A", "P1", "2024-05-01", "20552", "400")];
    let impact = replay(PEND, "", &claims);
    assert_eq!(impact.lines_between("review", "allow"), 1, "{impact:#?}");
    assert_eq!(impact.claim_transitions["review"]["allow"], 1);
    assert_eq!(impact.charges_moved.text(), "400.00");
    assert_eq!(rules(&impact), [("C", 0, 1, "400.00".to_string())]);
    let c = &impact.by_rule[0];
    assert!(c.text_before.is_some() && c.text_after.is_none());
}

#[test]
fn review_to_deny_when_a_deny_joins_the_review() {
    // C pends the line on both sides; D's deny is more severe.
    let claims = [claim("A", "P1", "2024-05-01", "20552", "400")];
    let impact = replay(PEND, &format!("{PEND}\n{DENY}"), &claims);
    assert_eq!(impact.lines_between("review", "deny"), 1, "{impact:#?}");
    assert_eq!(impact.claim_transitions["review"]["deny"], 1);
    assert_eq!(impact.changed_lines, 1);
    // C fires before and after: only D's firing changed.
    assert_eq!(rules(&impact), [("D", 1, 0, "400.00".to_string())]);
    let e = &impact.by_rule[0].examples[0];
    assert_eq!((e.before, e.after), ("review", "deny"));
    assert_eq!(
        (e.rules_before.clone(), e.rules_after.clone()),
        (
            vec!["C".to_string()],
            vec!["C".to_string(), "D".to_string()]
        )
    );
}

#[test]
fn error_to_allow_when_the_candidate_brings_a_policy_for_the_payer() {
    let claims = [claim("A", "P1", "2024-05-01", "20553", "10.5")];
    let impact = replay_sets(Policies::default(), policies(""), &claims);
    assert_eq!(impact.lines_between("error", "allow"), 1, "{impact:#?}");
    assert_eq!(impact.claim_transitions["error"]["allow"], 1);
    assert_eq!((impact.changed_claims, impact.changed_lines), (1, 1));
    assert_eq!(impact.charges_moved.text(), "10.50");
    // No rule fired on either side: the change is the policy itself.
    assert!(impact.by_rule.is_empty());
    assert_eq!(impact.by_policy[0].key, "t");
}

#[test]
fn a_claim_goes_partial_when_one_of_its_lines_is_denied() {
    let two_lines = r#"{"id":"A","payer":"p","patient":{"id":"P1"},"diagnoses":["M79.18"],"lines":[{"date_of_service":"2024-05-01","procedure":"20552","charge":50},{"date_of_service":"2024-05-02","procedure":"20553","charge":60}]}"#;
    let impact = replay(
        "",
        "rule Z \"no 20553\" {\n when line.procedure in (cpt 20553)\n deny CO-50 rarc N115\n }",
        &[two_lines.to_string()],
    );
    assert_eq!(
        impact.claim_transitions["allow"]["partial"], 1,
        "{impact:#?}"
    );
    assert_eq!(impact.line_transitions["allow"]["allow"], 1);
    assert_eq!(impact.lines_between("allow", "deny"), 1);
    assert_eq!((impact.changed_claims, impact.changed_lines), (1, 1));
    assert_eq!(impact.charges_moved.text(), "60.00");
    assert_eq!(impact.by_procedure[0].key, "20553");
}

#[test]
fn a_rule_newly_firing_on_a_line_already_denied_moves_no_money() {
    // Claim F's second line is denied by S (the day's second session) on
    // both sides; the candidate's Z fires on it too. Only A's line changes
    // decision, and only its charge is Z's.
    let base = "rule S \"one a day\" {\n when line.procedure in tpi\n limit tpi to 1 per day\n else deny CO-119 rarc N640\n }";
    let candidate = format!(
        "{base}\n rule Z \"no 20553\" {{\n when line.procedure in (cpt 20553)\n deny CO-50 rarc N115\n }}"
    );
    let two_lines = r#"{"id":"F","payer":"p","patient":{"id":"P5"},"diagnoses":["M79.18"],"lines":[{"date_of_service":"2024-05-01","procedure":"20552","charge":50},{"date_of_service":"2024-05-01","procedure":"20553","charge":60}]}"#;
    let claims = [
        two_lines.to_string(),
        claim("A", "P1", "2024-05-01", "20553", "100.10"),
    ];
    let impact = replay(base, &candidate, &claims);
    assert_eq!(impact.changed_lines, 1, "{impact:#?}");
    assert_eq!(impact.line_transitions["deny"]["deny"], 1);
    assert_eq!(impact.charges_moved.text(), "100.10");
    let z = &impact.by_rule[0];
    assert_eq!(
        (z.rule.as_str(), z.newly_fires, z.changed_lines),
        ("Z", 2, 1)
    );
    assert_eq!(z.charges.text(), "100.10");
    // The line whose decision changed comes first, though it came later.
    let examples = shown(&z.examples);
    assert_eq!(examples, [("A", "allow", "deny"), ("F", "deny", "deny")]);
}

#[test]
fn decided_counts_the_claims_each_side_decided() {
    let claims = [
        claim("A", "P1", "2024-05-01", "20553", "10"),
        claim("B", "P2", "2024-05-01", "20553", "10").replace("\"payer\":\"p\"", "\"payer\":\"q\""),
    ];
    assert_eq!(replay("", "", &claims).decided(), (1, 1));
    assert_eq!(
        replay_sets(Policies::default(), policies(""), &claims).decided(),
        (0, 1)
    );
}

#[test]
fn a_rule_whose_action_or_codes_change_is_listed_with_its_lines() {
    let claims = [
        claim("A", "P1", "2024-05-01", "20553", "100.10"),
        claim("B", "P2", "2024-05-01", "20552", "80"),
    ];
    let rule = |action: &str| {
        format!("rule R1 \"no 20553\" {{\n when line.procedure in (cpt 20553)\n {action}\n }}")
    };
    // deny -> review: the rule fires on the same line on both sides, and the
    // line's decision changes with it.
    let impact = replay(
        &rule("deny CO-50 rarc N115"),
        &rule("review CO-252 rarc N706"),
        &claims,
    );
    assert_eq!(impact.lines_between("deny", "review"), 1);
    assert_eq!(impact.by_rule.len(), 1);
    let r1 = &impact.by_rule[0];
    assert_eq!(
        (r1.newly_fires, r1.stops_firing, r1.changes_outcome),
        (0, 0, 1)
    );
    assert_eq!((r1.changed_lines, r1.lines()), (1, 1));
    assert_eq!(r1.charges.text(), "100.10");
    assert!(r1
        .text_before
        .as_deref()
        .is_some_and(|t| t.contains("deny")));
    assert!(r1
        .text_after
        .as_deref()
        .is_some_and(|t| t.contains("review")));
    assert_eq!(shown(&r1.examples), [("A", "deny", "review")]);
    let outcomes: Vec<(&str, &str, &str)> = r1.examples[0]
        .outcomes
        .iter()
        .map(|o| (o.rule.as_str(), o.before.as_str(), o.after.as_str()))
        .collect();
    assert_eq!(outcomes, [("R1", "deny CO-50 N115", "review CO-252 N706")]);

    // Only the remark code changes: the remittance differs, the decision
    // does not, so the line is listed under the rule and moves no money.
    let impact = replay(
        &rule("deny CO-50 rarc N115"),
        &rule("deny CO-50 rarc N130"),
        &claims,
    );
    assert_eq!((impact.changed_lines, impact.changed_claims), (0, 0));
    let r1 = &impact.by_rule[0];
    assert_eq!((r1.changes_outcome, r1.changed_lines), (1, 0));
    assert_eq!(r1.charges.text(), "0.00");
    assert_eq!(r1.examples.len(), 1);

    // Only the message changes: not an outcome, nothing to report.
    let message = |m: &str| {
        format!(
            "rule R1 \"no 20553\" {{\n when line.procedure in (cpt 20553)\n deny CO-50 rarc N115 message \"{m}\"\n }}"
        )
    };
    let impact = replay(&message("one"), &message("two"), &claims);
    assert!(impact.by_rule.is_empty());

    // The same remark codes in another order: the same remittance.
    let impact = replay(
        &rule("deny CO-50 rarc N115, N130"),
        &rule("deny CO-50 rarc N130, N115"),
        &claims,
    );
    assert!(impact.by_rule.is_empty());
}
