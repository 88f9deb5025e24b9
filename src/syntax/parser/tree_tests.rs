//! Tests of the tree the parser builds from policy text.

use super::*;

const OK: &str = r#"
import "lib/common.policy"
/// A doc line.
policy p "Title" {
  payer a, b
  version "1"
  effective 2024-01-01..2024-12-31
  source "s"
  codes tpi = cpt 20552, 20553
  codes dx = icd10 M79.1*, M60.80-M60.89 + extra - icd10 M79.7
  /// Rule doc.
  rule R1 "title" {
    when line.procedure in tpi and not (line.units > 1)
    require some other line (other.procedure in hcpcs J*) else review CO-16
    limit tpi to 3 per 90 days per site or unsited else deny CO-151 rarc N640, N435 message "m"
    interval tpi at least 42 days per site else deny CO-151
  }
}
"#;

#[test]
fn a_full_file_parses_with_spans() {
    let parsed = parse(OK);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.file.imports.len(), 1);
    let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
    assert_eq!(module.doc, vec!["A doc line."]);
    assert_eq!(module.header.len(), 4);
    assert_eq!(module.items.len(), 3);
    let Item::Rule(rule) = &module.items[2] else {
        panic!("not a rule")
    };
    assert_eq!(rule.doc, vec!["Rule doc."]);
    assert_eq!(&OK[rule.span.start..rule.span.start + 4], "rule");
    assert_eq!(&OK[rule.id.span.start..rule.id.span.end], "R1");
    assert_eq!(rule.checks.len(), 3);
    let CheckKind::Limit {
        max, period, scope, ..
    } = &rule.checks[1].kind
    else {
        panic!("not a limit")
    };
    let Period::Rolling { length, unit } = &period.node else {
        panic!("{period:?}")
    };
    assert_eq!(
        (max.node, length.node, *unit, scope.as_ref().map(|s| s.node)),
        (
            LimitMax::Whole(3),
            90,
            TimeUnit::Days,
            Some(SiteScope::OrUnsited)
        )
    );
    assert_eq!(&OK[period.span.start..period.span.end], "90 days");
    assert_eq!(rule.checks[1].action.rarc.len(), 2);
}

#[test]
fn quantifiers_say_what_other_ranges_over() {
    let text = "policy p { rule R {\n  when some other line (other.procedure in tpi)\n  when no other service on same day (other.procedure in tpi)\n  require every other service  on\tsame day(other.site exists) else deny CO-1\n} }";
    let parsed = parse(text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
    let Item::Rule(rule) = &module.items[0] else {
        panic!("not a rule")
    };
    let CheckKind::Require(require) = &rule.checks[0].kind else {
        panic!("not a require")
    };
    let quantifiers: Vec<(Quant, Others, &str)> = rule
        .when
        .iter()
        .chain([require])
        .map(|e| match &e.kind {
            ExprKind::Quantified { quant, over, .. } => {
                (quant.node, *over, &text[e.span.start..e.span.end])
            }
            other => panic!("not a quantifier: {other:?}"),
        })
        .collect();
    assert_eq!(
        quantifiers,
        [
            (
                Quant::Some,
                Others::Lines,
                "some other line (other.procedure in tpi)"
            ),
            (
                Quant::No,
                Others::SameDayServices,
                "no other service on same day (other.procedure in tpi)"
            ),
            (
                Quant::Every,
                Others::SameDayServices,
                "every other service  on\tsame day(other.site exists)"
            ),
        ]
    );
    // `service` is a keyword now: not a name.
    let named = parse("policy p { codes service = cpt 20552 }");
    assert_eq!(named.errors.len(), 1, "{:?}", named.errors);
}

#[test]
fn several_broken_items_give_several_errors_and_keep_the_rest() {
    let text = "policy p {\n  payer a\n  rule A { when line.units > }\n  codes ok = cpt 20552\n  rule B { deny CO-1 rarc }\n  rule C { deny CO-1 }\n}\n";
    let parsed = parse(text);
    assert_eq!(parsed.errors.len(), 2, "{:?}", parsed.errors);
    assert!(
        parsed.errors[0].message().contains("found `}`"),
        "{}",
        parsed.errors[0].message()
    );
    let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
    assert_eq!(module.header.len(), 1);
    assert_eq!(module.items.len(), 2, "the code set and rule C survive");
}

#[test]
fn an_unclosed_module_is_reported_at_the_end() {
    let parsed = parse("policy p {\n  payer a\n");
    assert!(
        parsed
            .errors
            .iter()
            .any(|e| e.message().contains("has no closing `}`")),
        "{:?}",
        parsed.errors
    );
}

#[test]
fn keywords_are_not_names_but_may_start_them() {
    assert!(parse("policy p { codes rule = cpt 20552 }").errors.len() == 1);
    let parsed = parse("policy p { codes rules = cpt 20552 codes index = cpt 20553 }");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
}

#[test]
fn strings_unescape_and_braces_in_strings_do_not_confuse_recovery() {
    let parsed = parse("policy p \"a \\\"q\\\" {\" {\n  rule A { deny CO-1 message \"}\" }\n  rule B { when }\n}\n");
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
    assert_eq!(module.title.map(|t| t.node).as_deref(), Some("a \"q\" {"));
}

#[test]
fn months_and_per_code_are_read_on_limits_intervals_and_counts() {
    let item = parse_item(
        "rule X {\n  when count(tpi within 12 months before per code per site) >= 1\n  \
         limit tpi to 4 per 12 months per code per site or unsited else deny CO-151\n  \
         interval tpi at least 2 months per code else deny CO-151\n  \
         limit tpi to 1 per day per code else deny CO-151\n  \
         interval tpi at least 7 days else deny CO-151\n}",
    );
    let Ok(Item::Rule(rule)) = item else {
        panic!("{item:?}")
    };
    let ExprKind::Compare { lhs, .. } = &rule.when[0].kind else {
        panic!("{:?}", rule.when[0])
    };
    let ExprKind::Count {
        window,
        per_code,
        scope,
        ..
    } = &lhs.kind
    else {
        panic!("{lhs:?}")
    };
    let Window::Within {
        period: Period::Rolling { length, unit },
        before: true,
    } = &window.node
    else {
        panic!("{window:?}")
    };
    assert_eq!(
        (
            length.node,
            *unit,
            *per_code,
            scope.as_ref().map(|s| s.node)
        ),
        (12, TimeUnit::Months, true, Some(SiteScope::Strict))
    );
    let shapes: Vec<(u32, TimeUnit, bool, Option<SiteScope>)> = rule
        .checks
        .iter()
        .map(|c| match &c.kind {
            CheckKind::Limit {
                period,
                per_code,
                scope,
                ..
            }
            | CheckKind::Interval {
                period,
                per_code,
                scope,
                ..
            } => match &period.node {
                Period::Rolling { length, unit } => (
                    length.node,
                    *unit,
                    *per_code,
                    scope.as_ref().map(|s| s.node),
                ),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        shapes,
        [
            (12, TimeUnit::Months, true, Some(SiteScope::OrUnsited)),
            (2, TimeUnit::Months, true, None),
            (1, TimeUnit::Days, true, None),
            (7, TimeUnit::Days, false, None),
        ]
    );
}

#[test]
fn per_code_comes_before_per_site_and_code_is_a_keyword() {
    assert!(parse_item(
        "rule X { when line.procedure in tpi limit tpi to 1 per day per site per code else deny CO-1 }"
    )
    .is_err());
    assert!(parse_item("rule X { interval tpi at least 2 month else deny CO-1 }").is_err());
    assert!(parse("policy p { codes code = cpt 20552 }").errors.len() == 1);
    let parsed = parse("policy p { codes codes_x = cpt 20552 codes months_ago = cpt 20553 }");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
}

#[test]
fn parse_item_reads_one_rule() {
    let item = parse_item("rule X { when line.procedure in cpt 20560, 20561 deny CO-96 }");
    assert!(matches!(item, Ok(Item::Rule(_))), "{item:?}");
    assert!(parse_item("rule X {").is_err());
}

#[test]
fn calendar_and_anchored_periods_are_read_on_limits_intervals_and_counts() {
    let text = "rule X {\n  when count(tpi in calendar year per code) >= 1 and count(tpi in 12 months from first) >= 1\n  \
                limit tpi to 20 per calendar year per site else deny CO-119\n  \
                limit tpi to 20 per 12 months from first else deny CO-119\n  \
                limit tpi to 3 per 90 days from first per code else deny CO-119\n  \
                interval tpi at least calendar year else deny CO-151\n  \
                require count(tpi within calendar year) < 1 and count(tpi in 12 months before) < 1 else deny CO-151\n}";
    let Ok(Item::Rule(rule)) = parse_item(text) else {
        panic!("{text}")
    };
    let windows = |e: &Expr| -> Vec<Window> {
        let ExprKind::And(parts) = &e.kind else {
            panic!("{e:?}")
        };
        parts
            .iter()
            .map(|p| match &p.kind {
                ExprKind::Compare { lhs, .. } => match &lhs.kind {
                    ExprKind::Count { window, .. } => window.node.clone(),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let anchored = |n, unit| Period::Anchored {
        length: Spanned::new(n, Span::default()),
        unit,
    };
    // Spans aside: the lengths are compared by their numbers.
    let strip = |p: &Period| match p {
        Period::Rolling { length, unit } => Period::Rolling {
            length: Spanned::new(length.node, Span::default()),
            unit: *unit,
        },
        Period::Anchored { length, unit } => anchored(length.node, *unit),
        Period::CalendarYear => Period::CalendarYear,
    };
    let strip_window = |w: Window| match w {
        Window::Within { period, before } => Window::Within {
            period: strip(&period),
            before,
        },
        Window::In { period, before } => Window::In {
            period: strip(&period),
            before,
        },
        Window::SameDay => Window::SameDay,
    };
    let when: Vec<Window> = windows(&rule.when[0])
        .into_iter()
        .map(strip_window)
        .collect();
    assert_eq!(
        when,
        [
            Window::In {
                period: Period::CalendarYear,
                before: false
            },
            Window::In {
                period: anchored(12, TimeUnit::Months),
                before: false
            },
        ]
    );
    let periods: Vec<Period> = rule.checks[..4]
        .iter()
        .map(|c| match &c.kind {
            CheckKind::Limit { period, .. } | CheckKind::Interval { period, .. } => {
                strip(&period.node)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        periods,
        [
            Period::CalendarYear,
            anchored(12, TimeUnit::Months),
            anchored(90, TimeUnit::Days),
            Period::CalendarYear,
        ]
    );
    let CheckKind::Limit { period, .. } = &rule.checks[1].kind else {
        panic!("not a limit")
    };
    assert_eq!(
        &text[period.span.start..period.span.end],
        "12 months from first"
    );
    // The words each window does not take still parse, for the checker to name.
    let CheckKind::Require(cond) = &rule.checks[4].kind else {
        panic!("not a require")
    };
    let wrong: Vec<Window> = windows(cond).into_iter().map(strip_window).collect();
    assert_eq!(
        wrong,
        [
            Window::Within {
                period: Period::CalendarYear,
                before: false
            },
            Window::In {
                period: Period::Rolling {
                    length: Spanned::new(12, Span::default()),
                    unit: TimeUnit::Months
                },
                before: true
            },
        ]
    );
    // The new words are keywords: not names.
    for word in ["calendar", "year", "from", "first"] {
        assert!(
            parse_item(&format!("codes {word} = cpt 20552")).is_err(),
            "{word}"
        );
    }
    assert!(parse_item("codes years = cpt 20552").is_ok());
}

#[test]
fn regions_are_items_and_per_region_sits_between_per_code_and_per_site() {
    let text = "policy p {\n  /// Cervical or thoracic.\n  region cervical_thoracic = cpt 62320, 62321 + upper\n  \
                rule X {\n    when count(esi on same day per code per region per site) >= 1 and line.region == \"cervical_thoracic\"\n    \
                limit esi to 1 per day per region else deny CO-151\n    \
                interval esi at least 14 days per code per region per site or unsited else deny CO-151\n    \
                limit esi to 1 per day per code else deny CO-151\n  }\n}\n";
    let parsed = parse(text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
    let Item::Region(region) = &module.items[0] else {
        panic!("{:?}", module.items[0])
    };
    assert_eq!(region.name.node, "cervical_thoracic");
    assert_eq!(region.doc, vec!["Cervical or thoracic."]);
    assert_eq!(&text[region.span.start..region.span.start + 6], "region");
    assert!(matches!(region.expr, SetExpr::Chain { .. }));
    let Item::Rule(rule) = &module.items[1] else {
        panic!("not a rule")
    };
    let span_text = |s: Option<Span>| s.map(|s| &text[s.start..s.end]);
    let ExprKind::And(parts) = &rule.when[0].kind else {
        panic!("{:?}", rule.when[0])
    };
    let ExprKind::Compare { lhs, .. } = &parts[0].kind else {
        panic!("{:?}", parts[0])
    };
    let ExprKind::Count {
        per_code,
        per_region,
        scope,
        ..
    } = &lhs.kind
    else {
        panic!("{lhs:?}")
    };
    assert_eq!(
        (
            *per_code,
            span_text(*per_region),
            scope.as_ref().map(|s| s.node)
        ),
        (true, Some("per region"), Some(SiteScope::Strict))
    );
    let scopes: Vec<(bool, Option<&str>, Option<SiteScope>)> = rule
        .checks
        .iter()
        .map(|c| match &c.kind {
            CheckKind::Limit {
                per_code,
                per_region,
                scope,
                ..
            }
            | CheckKind::Interval {
                per_code,
                per_region,
                scope,
                ..
            } => (
                *per_code,
                span_text(*per_region),
                scope.as_ref().map(|s| s.node),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        scopes,
        [
            (false, Some("per region"), None),
            (true, Some("per region"), Some(SiteScope::OrUnsited)),
            (true, None, None),
        ]
    );
    // The order is fixed, and `region` is a keyword.
    for wrong in [
        "rule X { limit esi to 1 per day per region per code else deny CO-1 }",
        "rule X { limit esi to 1 per day per site per region else deny CO-1 }",
    ] {
        assert!(parse_item(wrong).is_err(), "{wrong}");
    }
    assert_eq!(
        parse("policy p { codes region = cpt 20552 }").errors.len(),
        1
    );
    let parsed = parse("policy p { codes regions = cpt 20552 region region_a = cpt 20553 }");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
}

#[test]
fn a_per_region_split_over_two_lines_does_not_start_an_item_when_recovering() {
    // A syntax error elsewhere makes the parser split the module at the
    // lines that start items: the `region` after `per` is not one.
    let text = "policy p {\n  rule A { when line.units > }\n  rule B {\n    limit esi to 1 per day per\n      region else deny CO-1\n  }\n  region r = cpt 62320\n}\n";
    let parsed = parse(text);
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    let module = parsed.file.module.unwrap_or_else(|| panic!("no module"));
    assert!(
        matches!(&module.items[..], [Item::Rule(b), Item::Region(r)] if b.id.node == "B" && r.name.node == "r"),
        "{:?}",
        module.items
    );
}

#[test]
fn units_charges_and_sums_are_read_on_limits_and_counts() {
    let item = parse_item(
        "rule X {\n  when count(tpi units within 30 days per code bilateral as 2) >= 4\n  \
         when sum(tpi charges within 12 months before per site) > 2410.00\n  \
         limit tpi units to 6 per 12 months per site bilateral as 1 else deny CO-151\n  \
         limit tpi charges to 2410.00 per 365 days per code else deny CO-119\n  \
         limit tpi to 99999999999 per day else deny CO-151\n  \
         limit tpi to 3 per day else deny CO-151\n}",
    );
    let Ok(Item::Rule(rule)) = item else {
        panic!("{item:?}")
    };
    let count = |e: &Expr| match &e.kind {
        ExprKind::Compare { lhs, .. } => match &lhs.kind {
            ExprKind::Count {
                measure,
                bilateral,
                sum,
                per_code,
                ..
            } => (
                measure.as_ref().map(|m| m.node),
                bilateral.as_ref().map(|k| k.node),
                sum.is_some(),
                *per_code,
            ),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(
        count(&rule.when[0]),
        (Some(Measure::Units), Some(2), false, true)
    );
    assert_eq!(
        count(&rule.when[1]),
        (Some(Measure::Charges), None, true, false)
    );
    let limits: Vec<(LimitMax, Option<Measure>, Option<u32>)> = rule
        .checks
        .iter()
        .map(|c| match &c.kind {
            CheckKind::Limit {
                max,
                measure,
                bilateral,
                ..
            } => (
                max.node,
                measure.as_ref().map(|m| m.node),
                bilateral.as_ref().map(|k| k.node),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let decimal = |t: &str| rust_decimal::Decimal::from_str_exact(t).ok();
    assert_eq!(
        limits,
        [
            (LimitMax::Whole(6), Some(Measure::Units), Some(1)),
            (
                LimitMax::Decimal(decimal("2410.00")),
                Some(Measure::Charges),
                None
            ),
            (LimitMax::Decimal(decimal("99999999999")), None, None),
            (LimitMax::Whole(3), None, None),
        ]
    );
    // The clause's span is the whole clause, the measure's its word.
    let CheckKind::Limit {
        bilateral: Some(k),
        measure: Some(m),
        ..
    } = &rule.checks[0].kind
    else {
        panic!("{:?}", rule.checks[0])
    };
    let text = "rule X {\n  when count(tpi units within 30 days per code bilateral as 2) >= 4\n  when sum(tpi charges within 12 months before per site) > 2410.00\n  limit tpi units to 6 per 12 months per site bilateral as 1 else deny CO-151\n";
    assert_eq!(&text[k.span.start..k.span.end], "bilateral as 1");
    assert_eq!(&text[m.span.start..m.span.end], "units");
}

#[test]
fn the_words_of_units_and_sums_are_keywords_but_line_units_is_a_field() {
    for name in ["units", "charges", "bilateral", "as", "sum"] {
        let parsed = parse(&format!("policy p {{ codes {name} = cpt 20552 }}"));
        assert_eq!(parsed.errors.len(), 1, "`{name}` is a keyword");
    }
    let parsed = parse(
        "policy p { codes units_of = cpt 20552 codes summary = cpt 20553 codes assets = cpt 20552\n \
         rule R { when line.units > 1 and facts.sum >= 2 deny CO-1 } }",
    );
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
}
