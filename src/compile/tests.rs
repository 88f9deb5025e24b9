//! Tests of compiling checked policies into plans: triggers, limits, regions,
//! named sets and the rule index bound.

use super::*;

#[test]
fn a_policy_past_the_rule_index_is_refused_with_pr212() {
    // 65,537 rules take half a minute to check in a debug build, so the
    // limit is tested where it is decided (the CLI shows the diagnostic
    // on a generated file: `docs/lints/PR212.md`).
    assert_eq!(within_rule_index("p", Span::default(), MAX_RULES), Ok(()));
    let err = within_rule_index("p", Span::new(7, 8), MAX_RULES + 1)
        .err()
        .unwrap_or_else(|| panic!("65,537 rules were accepted"));
    assert_eq!(err.code, DiagCode::TooManyRules);
    assert_eq!(err.span, Span::new(7, 8));
    assert!(err.message.contains("65537 rules"), "{}", err.message);
    // Every index the dispatcher can hold is a u16.
    assert_eq!(u16::try_from(MAX_RULES - 1), Ok(u16::MAX));
}

use crate::policies::Policies;

fn compile(rules: &str) -> crate::compile::plan::Policy {
    let text = format!(
        "policy t {{ payer p version \"1\" effective 2024-01-01.. source \"s\"\n codes tpi = cpt 20552, 20553\n codes g = cpt 76942\n{rules}\n}}"
    );
    let loaded = Policies::from_source("t.policy", &text);
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    loaded
        .policies
        .and_then(|p| p.iter().next().cloned())
        .unwrap_or_else(|| panic!("{errors:?}"))
}

#[test]
fn a_procedure_membership_in_when_becomes_the_trigger() {
    let p = compile(
        "rule A { when line.units > 1 and line.procedure in tpi deny CO-1 }\n\
         rule B { when line.procedure in g or line.procedure in tpi deny CO-1 }\n\
         rule C { when line.procedure not in tpi deny CO-1 }",
    );
    let tpi = p.rules[0].trigger.map(|s| &p.sets[s]);
    assert!(
        tpi.is_some_and(|s| s.contains(crate::codes::CodeKey::parse("20553").unwrap_or_default()))
    );
    assert!(
        p.rules[1].trigger.is_none(),
        "a disjunction cannot narrow the rule"
    );
    assert!(
        p.rules[2].trigger.is_none(),
        "`not in` cannot narrow the rule"
    );
}

#[test]
fn a_limit_counts_the_line_without_a_search_only_when_its_trigger_is_in_the_set() {
    use crate::compile::plan::CheckKind;
    let p = compile(
        "codes one = cpt 20552
         rule A { when line.procedure in tpi limit tpi to 1 per day else deny CO-97 }
         rule B { when line.procedure in one limit tpi to 1 per day else deny CO-97 }
         rule C { when line.procedure in tpi limit one to 1 per day else deny CO-97 }
         rule D { when line.units > 1 limit tpi to 1 per day else deny CO-97 }",
    );
    let counts_line: Vec<bool> = p
        .rules
        .iter()
        .map(|r| {
            matches!(
                r.checks[0].kind,
                CheckKind::Limit {
                    of: Counting {
                        counts_line: true,
                        ..
                    },
                    ..
                }
            )
        })
        .collect();
    assert_eq!(counts_line, [true, true, false, false]);
}

#[test]
fn a_set_counted_per_region_is_split_once_by_region() {
    use crate::codes::CodeKey;
    use crate::compile::plan::CheckKind;
    let p = compile(
        "codes esi = cpt 62320, 62321, 62322, 77003
         region upper = cpt 62320, 62321
         region lower = cpt 62322, 62323
         rule A { when line.procedure in esi limit esi to 1 per day per region else deny CO-1 }
         rule B { when line.procedure in esi interval esi at least 9 days per region else deny CO-1 }
         rule C { when line.procedure in esi interval esi at least 9 days else deny CO-1 }",
    );
    let regional: Vec<Option<Regional>> = p
        .rules
        .iter()
        .map(|r| match r.checks[0].kind {
            CheckKind::Limit { of, .. } => of.matching.per_region,
            CheckKind::Interval { matching, .. } => matching.per_region,
            _ => None,
        })
        .collect();
    assert_eq!(regional[0], regional[1], "one split of `esi` for both");
    assert_eq!(regional[2], None);
    let Some(split) = regional[0] else {
        panic!("no split")
    };
    let codes = |region: usize| -> Vec<String> {
        ["62320", "62321", "62322", "62323", "77003"]
            .into_iter()
            .filter(|c| p.sets[split.set(region)].contains(CodeKey::from(*c)))
            .map(String::from)
            .collect()
    };
    assert_eq!(codes(0), ["62320", "62321"]);
    assert_eq!(codes(1), ["62322"], "62323 is not counted");
    assert_eq!(codes(2), ["77003"], "in no region");
    let region_of = |c: &str| p.region_of(CodeKey::from(c));
    assert_eq!(
        (region_of("62321"), region_of("62323"), region_of("77003")),
        (0, 1, 2)
    );
    assert_eq!(&*p.regions[1].name, "lower");
}

#[test]
fn named_sets_compile_once_and_rules_keep_their_location() {
    let p = compile("rule A { when line.procedure in tpi limit tpi to 1 per day else deny CO-97 }");
    assert_eq!(p.sets.len(), 1, "the `when` and the `limit` share the set");
    assert_eq!(&*p.rules[0].at, "t.policy:4:1");
    assert_eq!(&*p.rules[0].checks[0].reason.message, "A");
}
