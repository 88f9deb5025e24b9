//! Lowered conditions (`compile::lower`) against the general ones they replace:
//! generated conditions of every shape `lower` rewrites (and of the shapes next
//! to them that it must leave alone), decided on generated claims, lines and
//! history, must come out the same both ways.

use super::*;
use crate::codes::ModifierFilter;
use chrono::NaiveDate;

use crate::claims::{read_claims_str, InputFormat};
use crate::compile::lower::{flatten, lower, WHOLE_NUMBER_FIELDS};
use crate::compile::plan::{CompareOp, Const, CountWindow, Measure, SiteScope, TimeUnit};
use crate::fields::FieldId;

/// A small deterministic generator (xorshift): failures name the seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    fn flip(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

/// Fields besides `WHOLE_NUMBER_FIELDS`: codes, lists, a date and a charge,
/// which the lowering must leave to the general comparisons.
const OTHER_FIELDS: [FieldId; 6] = [
    FieldId::LineProcedure,
    FieldId::LineDiagnoses,
    FieldId::ClaimDiagnoses,
    FieldId::LineModifiers,
    FieldId::LineDate,
    FieldId::LineCharge,
];

const FACTS: [&str; 3] = ["relief_percent", "palpated", "absent"];

fn constant(g: &mut Gen) -> Const {
    match g.below(6) {
        0 | 1 => Const::Int(g.pick(&[-1, 0, 1, 2, 3, 50, 90, i64::MAX])),
        // Short literals (compared as doubles once lowered) and long ones
        // (left general).
        2 => Const::Number(crate::number::Exact::new(
            rust_decimal::Decimal::from_str_exact(g.pick(&[
                "0.5",
                "1.0",
                "49.5",
                "50.0",
                "49.50000000000000001",
                "100000000000000000000",
            ]))
            .unwrap_or_default(),
        )),
        3 => Const::Str(g.pick(&["50", "25", "20552", "LT"]).to_string()),
        4 => Const::Bool(g.flip()),
        _ => {
            Const::Date(NaiveDate::from_ymd_opt(2025, 3, g.pick(&[1, 10, 20])).unwrap_or_default())
        }
    }
}

fn value(g: &mut Gen, sets: usize) -> Value {
    match g.below(4) {
        0 | 1 => Value::Field {
            id: if g.flip() {
                g.pick(&WHOLE_NUMBER_FIELDS)
            } else {
                g.pick(&OTHER_FIELDS)
            },
            other: g.flip(),
        },
        2 => Value::Fact(g.pick(&FACTS).to_string()),
        _ => Value::Count(Count {
            set: g.below(sets),
            window: g.pick(&[
                CountWindow::SameDay,
                CountWindow::Within(Period {
                    length: 30,
                    unit: TimeUnit::Days,
                }),
                CountWindow::Before(Period {
                    length: 1,
                    unit: TimeUnit::Months,
                }),
                CountWindow::CalendarYear,
                CountWindow::FromFirst(Period {
                    length: 3,
                    unit: TimeUnit::Months,
                }),
            ]),
            matching: Match {
                per_code: g.flip(),
                per_region: None,
                scope: g.pick(&[None, Some(SiteScope::Strict), Some(SiteScope::OrUnsited)]),
                modifiers: g.pick(&[
                    ModifierFilter::ANY,
                    ModifierFilter::ANY,
                    ModifierFilter::of(["50"]).unwrap_or_default(),
                ]),
            },
            measure: g.pick(&[
                Measure::Lines,
                Measure::Lines,
                Measure::Units { bilateral: 1 },
                Measure::Units { bilateral: 2 },
                Measure::Charges,
            ]),
        }),
    }
}

/// A general leaf: half of them in a shape `lower` rewrites, the others of
/// any shape (some of which it rewrites too).
fn leaf(g: &mut Gen, sets: usize) -> Cond {
    let op = g.pick(&CompareOp::ALL);
    let in_op = g.pick(&[InOp::In, InOp::NotIn, InOp::AnyIn, InOp::AllIn]);
    let other = g.flip();
    let fact = Value::Fact(g.pick(&FACTS).to_string());
    let whole = Value::Const(Const::Int(g.pick(&[-1, 0, 1, 2, 3, 50, i64::MAX])));
    if g.flip() {
        return match g.below(8) {
            0 => Cond::InSet(
                in_op,
                Value::Field {
                    id: g.pick(&[
                        FieldId::LineProcedure,
                        FieldId::LineDiagnoses,
                        FieldId::ClaimDiagnoses,
                    ]),
                    other,
                },
                g.below(sets),
            ),
            1 => Cond::Compare(
                op,
                Value::Field {
                    id: g.pick(&WHOLE_NUMBER_FIELDS),
                    other,
                },
                whole,
            ),
            2 => Cond::Compare(
                op,
                Value::Field {
                    id: FieldId::LineDate,
                    other,
                },
                Value::Field {
                    id: FieldId::LineDate,
                    other: g.flip(),
                },
            ),
            3 => match value(g, sets) {
                count @ Value::Count(_) => Cond::Compare(op, count, whole),
                _ => Cond::Compare(op, fact, whole),
            },
            4 => Cond::Compare(op, fact, Value::Const(constant(g))),
            5 => Cond::Exists(fact, g.flip()),
            6 => Cond::Truthy(fact),
            _ => Cond::Has(
                Value::Field {
                    id: FieldId::LineModifiers,
                    other,
                },
                Value::Const(Const::Str(g.pick(&["50", "25", "LT", "XS"]).to_string())),
            ),
        };
    }
    match g.below(7) {
        0 => Cond::InSet(in_op, value(g, sets), g.below(sets)),
        1 => Cond::Compare(op, value(g, sets), Value::Const(constant(g))),
        2 => Cond::Compare(
            op,
            Value::Field {
                id: FieldId::LineDate,
                other: g.flip(),
            },
            value(g, sets),
        ),
        3 => Cond::Exists(value(g, sets), g.flip()),
        4 => Cond::Truthy(value(g, sets)),
        5 => Cond::Has(value(g, sets), Value::Const(constant(g))),
        _ => Cond::Compare(op, Value::Const(constant(g)), value(g, sets)),
    }
}

fn cond(g: &mut Gen, sets: usize, depth: usize) -> Cond {
    if depth == 0 {
        return leaf(g, sets);
    }
    match g.below(6) {
        0 => Cond::And(
            (0..1 + g.below(3))
                .map(|_| cond(g, sets, depth - 1))
                .collect(),
        ),
        1 => Cond::Or(
            (0..1 + g.below(3))
                .map(|_| cond(g, sets, depth - 1))
                .collect(),
        ),
        2 => Cond::Not(Box::new(cond(g, sets, depth - 1))),
        // Over the claim's other lines, or (a third of them) over the
        // services of the same day, the history's included.
        3 if g.below(3) == 0 => Cond::SameDay {
            none: g.flip(),
            body: Box::new(cond(g, sets, depth - 1)),
        },
        3 => Cond::Quantified(
            g.pick(&[Quant::Some, Quant::No, Quant::Every]),
            Box::new(cond(g, sets, depth - 1)),
        ),
        _ => leaf(g, sets),
    }
}

fn claim_json(g: &mut Gen, id: usize) -> String {
    let codes = ["20552", "20553", "J3301", "76942", "99213"];
    let lines: Vec<String> = (0..1 + g.below(3))
        .map(|i| {
            let mut fields = vec![
                format!("\"line\":{}", i + 1),
                format!(
                    "\"date_of_service\":\"2025-03-{:02}\"",
                    g.pick(&[1, 10, 20])
                ),
                format!("\"procedure\":\"{}\"", g.pick(&codes)),
                format!("\"units\":{}", 1 + g.below(3)),
            ];
            if g.flip() {
                fields.push(format!("\"muscles\":{}", g.below(5)));
            }
            if g.flip() {
                fields.push(format!("\"injections\":{}", g.below(6)));
            }
            if g.flip() {
                fields.push(format!("\"site\":\"{}\"", g.pick(&["neck", "back"])));
            }
            if g.flip() {
                fields.push(format!(
                    "\"modifiers\":{}",
                    g.pick(&["[\"50\"]", "[\"25\",\"LT\"]", "[]"])
                ));
            }
            if g.flip() {
                fields.push(format!(
                    "\"charge\":{}",
                    g.pick(&["0.1", "0.2", "182.5", "2410"])
                ));
            }
            fields.push(format!(
                "\"diagnosis_pointers\":{}",
                g.pick(&["[1]", "[2]", "[1,2]"])
            ));
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    let facts = [
        "",
        "\"relief_percent\":60",
        "\"relief_percent\":50.0",
        "\"relief_percent\":49.5",
        "\"relief_percent\":49.50000000000000001",
        "\"relief_percent\":\"high\"",
        "\"palpated\":true",
        "\"palpated\":false,\"relief_percent\":49",
    ];
    format!(
        r#"{{"id":"C{id}","payer":"p","patient":{{"id":"P","birth_date":"1960-03-10"}},"diagnoses":["{}","{}"],"lines":[{}],"facts":{{{}}}}}"#,
        g.pick(&["M79.18", "G44.209", "M54.2"]),
        g.pick(&["M79.18", "Z00.00"]),
        lines.join(","),
        g.pick(&facts),
    ) + "\n"
}

#[test]
fn lowered_conditions_decide_what_the_general_ones_do() {
    let mut engine = {
        let text = "policy t \"test\" {\n payer p\n version \"1\"\n effective 2024-01-01..\n \
                    source \"test\"\n codes tpi = cpt 20552, 20553\n codes drugs = hcpcs J*\n \
                    rule A { when line.procedure in tpi and count(drugs on same day) >= 0 deny CO-1 }\n}\n";
        let loaded = Policies::from_source("t.policy", text);
        Engine::new(loaded.policies.unwrap_or_default())
    };
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    // History for the counts: earlier services of the same patient.
    let prior: String = (0..8).map(|i| claim_json(&mut g, 1000 + i)).collect();
    for claim in read_claims_str(&prior, InputFormat::JsonLines)
        .into_iter()
        .flatten()
    {
        engine.record_prior(&claim);
    }
    let text: String = (0..60).map(|i| claim_json(&mut g, i)).collect();
    let claims: Vec<Claim> = read_claims_str(&text, InputFormat::JsonLines)
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(claims.len(), 60, "every generated claim is valid");
    let Some(policy) = engine.policies().iter().next() else {
        panic!("the test policy compiles");
    };
    let sets = policy.sets.len();
    assert_eq!(sets, 2);
    let (mut lowered, mut true_seen, mut false_seen) = (0, 0, 0);
    for case in 0..3000 {
        let general = cond(&mut g, sets, 2);
        let low = lower(general.clone());
        lowered += usize::from(format!("{general:?}") != format!("{low:?}"));
        let claim = &claims[case % claims.len()];
        for (index, line) in claim.lines.iter().enumerate() {
            let day = Day::of(line.date_of_service);
            let cx = LineCx {
                claim,
                line,
                index,
                policy,
                day,
                window: engine.history().window(Member::of(claim)),
                site: std::cell::Cell::new(None),
                region: std::cell::Cell::new(None),
                earlier: &[],
                earlier_days: &[],
            };
            // Outside a quantifier, and with another line as `other`.
            let others = [None, claim.lines.get((index + 1) % claim.lines.len())];
            for other in others {
                let want = cx.cond(&general, other);
                assert_eq!(
                    cx.cond(&low, other),
                    want,
                    "case {case}, line {index}, other {}\ngeneral: {general:?}\nlowered: {low:?}\nclaim: {claim:?}",
                    other.is_some()
                );
                // Flattened, as the compiler gives them, lowered or not.
                for tree in [&general, &low] {
                    let flat = flatten(tree.clone());
                    assert_eq!(
                        cx.cond(&flat, other),
                        want,
                        "case {case}, line {index}, other {}\ntree: {tree:?}\nflat: {flat:?}\nclaim: {claim:?}",
                        other.is_some()
                    );
                }
                if want {
                    true_seen += 1;
                } else {
                    false_seen += 1;
                }
            }
        }
    }
    // The generator reaches what it is meant to: lowered shapes, and both answers.
    assert!(lowered > 1500, "{lowered} of 3000 conditions lowered");
    assert!(
        true_seen > 1000 && false_seen > 1000,
        "{true_seen} true, {false_seen} false"
    );
}

#[test]
fn the_bundled_policies_are_made_of_lowered_conditions() {
    fn general_leaves(cond: &Cond, out: &mut Vec<String>) {
        match cond {
            Cond::Or(parts) | Cond::And(parts) => {
                parts.iter().for_each(|p| general_leaves(p, out));
            }
            Cond::Not(inner) | Cond::Quantified(_, inner) | Cond::SameDay { body: inner, .. } => {
                general_leaves(inner, out)
            }
            Cond::Flat(program) => program
                .ops
                .iter()
                .for_each(|op| general_leaves(&op.leaf, out)),
            Cond::Compare(..)
            | Cond::InSet(..)
            | Cond::InList(..)
            | Cond::Has(..)
            | Cond::Exists(..)
            | Cond::Truthy(_) => out.push(format!("{cond:?}")),
            _ => {}
        }
    }
    let Some(policies) = Policies::load(&["policies".into()]).policies else {
        panic!("the bundled policies load");
    };
    let mut general = Vec::new();
    let mut conditions = 0;
    for policy in policies.iter() {
        for rule in &policy.rules {
            let checks = rule.checks.iter().filter_map(|c| match &c.kind {
                CheckKind::Require(cond) => Some(cond),
                _ => None,
            });
            for cond in rule.when.iter().chain(checks) {
                conditions += 1;
                general_leaves(cond, &mut general);
            }
        }
    }
    assert!(conditions > 40, "{conditions}");
    // The general leaves left, and why they may stay: shapes `lower` has no
    // direct form for, each reached only on the lines its rule's trigger
    // (`line.procedure in SET`, the rule's first condition) lets through, never
    // on a TPI claim's hot path. medicare-acupuncture A6 tests the rendering
    // provider's taxonomy against a literal list (acupuncture and dry needling
    // lines); bcbsa-esi B5 asks whether the line has a site (epidural lines).
    let allowed = [
        r#"InList(In, Field { id: ProviderTaxonomy, other: false }, [Str("111N00000X"), Str("225100000X"), Str("171100000X")])"#,
        r#"Exists(Field { id: LineSite, other: false }, false)"#,
    ];
    general.retain(|leaf| !allowed.contains(&leaf.as_str()));
    assert_eq!(general, Vec::<String>::new());
}

#[test]
fn flattened_deep_conditions_decide_what_their_trees_do() {
    let engine = {
        let text = "policy t \"test\" {\n payer p\n version \"1\"\n effective 2024-01-01..\n \
                    source \"test\"\n codes tpi = cpt 20552, 20553\n codes drugs = hcpcs J*\n \
                    rule A { when line.procedure in tpi deny CO-1 }\n}\n";
        let loaded = Policies::from_source("t.policy", text);
        Engine::new(loaded.policies.unwrap_or_default())
    };
    let Some(policy) = engine.policies().iter().next() else {
        panic!("the test policy compiles");
    };
    let mut g = Gen(0x2545_f491_4f6c_dd1d);
    let text: String = (0..20).map(|i| claim_json(&mut g, i)).collect();
    let claims: Vec<Claim> = read_claims_str(&text, InputFormat::JsonLines)
        .into_iter()
        .flatten()
        .collect();
    // Empty `and` and `or` among generated ones, at any depth.
    fn with_empties(g: &mut Gen, c: Cond) -> Cond {
        match c {
            Cond::And(mut parts) | Cond::Or(mut parts) if g.below(4) == 0 => {
                parts.clear();
                if g.flip() {
                    Cond::And(parts)
                } else {
                    Cond::Or(parts)
                }
            }
            Cond::And(parts) => Cond::And(parts.into_iter().map(|p| with_empties(g, p)).collect()),
            Cond::Or(parts) => Cond::Or(parts.into_iter().map(|p| with_empties(g, p)).collect()),
            Cond::Not(inner) => Cond::Not(Box::new(with_empties(g, *inner))),
            other => other,
        }
    }
    let (mut flat_seen, mut true_seen, mut false_seen) = (0, 0, 0);
    for case in 0..2000 {
        let deep = cond(&mut g, policy.sets.len(), 5);
        let tree = lower(with_empties(&mut g, deep));
        let flat = flatten(tree.clone());
        flat_seen += usize::from(matches!(flat, Cond::Flat(_)));
        let claim = &claims[case % claims.len()];
        for (index, line) in claim.lines.iter().enumerate() {
            let cx = LineCx {
                claim,
                line,
                index,
                policy,
                day: Day::of(line.date_of_service),
                window: engine.history().window(Member::of(claim)),
                site: std::cell::Cell::new(None),
                region: std::cell::Cell::new(None),
                earlier: &[],
                earlier_days: &[],
            };
            let others = [None, claim.lines.get((index + 1) % claim.lines.len())];
            for other in others {
                let want = cx.cond(&tree, other);
                assert_eq!(
                    cx.cond(&flat, other),
                    want,
                    "case {case}, line {index}\ntree: {tree:?}\nflat: {flat:?}\nclaim: {claim:?}"
                );
                if want {
                    true_seen += 1;
                } else {
                    false_seen += 1;
                }
            }
        }
    }
    assert!(flat_seen > 800, "{flat_seen} of 2000 flattened");
    assert!(
        true_seen > 500 && false_seen > 500,
        "{true_seen} true, {false_seen} false"
    );
}
