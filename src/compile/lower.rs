//! Lowering: the commonest condition shapes rewritten as direct tests.
//!
//! The general forms (`Compare`, `InSet`, `Has`, `Exists`, `Truthy`) read both
//! operands into run-time values and match on the pair, which is most of what a
//! condition costs. The shapes policies are made of (a procedure code in a set,
//! a line's diagnoses in a set, a count or a field against a literal, a fact
//! present or true) are known at compile time, so each becomes a variant that
//! reads its operand and tests it directly. A lowered condition decides exactly
//! what the general one does (tested against it on generated conditions and
//! claims in `eval`); a shape not listed here stays general.

use super::plan::{Cond, Const, Exact, InOp, Measure, Op, Program, Value};
use crate::fields::FieldId;

/// The condition with every lowerable part rewritten; see the module docs.
pub fn lower(cond: Cond) -> Cond {
    match cond {
        Cond::Or(parts) => Cond::Or(parts.into_iter().map(lower).collect()),
        Cond::And(parts) => Cond::And(parts.into_iter().map(lower).collect()),
        Cond::Not(inner) => Cond::Not(Box::new(lower(*inner))),
        Cond::Quantified(quant, body) => Cond::Quantified(quant, Box::new(lower(*body))),
        Cond::SameDay { none, body } => Cond::SameDay {
            none,
            body: Box::new(lower(*body)),
        },
        leaf => lower_leaf(leaf),
    }
}

/// The condition with its `and`, `or` and `not` made a [`Program`] of jumps
/// between its leaves (and so in every quantifier's body): evaluating a tree
/// was a call per node, each saving and restoring the registers of every
/// leaf's test; a program is one loop. A single leaf (`and` of one part
/// included) stays itself, which the evaluator tests in place.
pub fn flatten(cond: Cond) -> Cond {
    match cond {
        Cond::And(mut parts) | Cond::Or(mut parts) if parts.len() == 1 => match parts.pop() {
            Some(part) => flatten(part),
            None => Cond::Const(true),
        },
        Cond::And(_) | Cond::Or(_) | Cond::Not(_)
            if leaves(&cond) < usize::from(Program::FALSE) =>
        {
            let mut ops = Vec::with_capacity(leaves(&cond));
            emit(cond, Program::TRUE, Program::FALSE, &mut ops);
            Cond::Flat(Program {
                ops: ops.into_boxed_slice(),
            })
        }
        Cond::Quantified(quant, body) => Cond::Quantified(quant, Box::new(flatten(*body))),
        Cond::SameDay { none, body } => Cond::SameDay {
            none,
            body: Box::new(flatten(*body)),
        },
        other => other,
    }
}

/// How many ops `emit` makes of a condition.
fn leaves(cond: &Cond) -> usize {
    match cond {
        Cond::And(parts) | Cond::Or(parts) if !parts.is_empty() => parts.iter().map(leaves).sum(),
        Cond::Not(inner) => leaves(inner),
        _ => 1,
    }
}

/// Appends the ops of `cond`, which go to `on_true` when it holds and to
/// `on_false` when not: a part of an `and` goes on to the next part when it
/// holds, a part of an `or` when it does not, and a `not` swaps the two.
fn emit(cond: Cond, on_true: u16, on_false: u16, ops: &mut Vec<Op>) {
    // The op after the next `n`, which `flatten` has made sure fits.
    let after = |ops: &Vec<Op>, n: usize| u16::try_from(ops.len() + n).unwrap_or(Program::FALSE);
    let is_and = matches!(cond, Cond::And(_));
    match cond {
        Cond::And(parts) | Cond::Or(parts) if !parts.is_empty() => {
            let last = parts.len() - 1;
            for (i, part) in parts.into_iter().enumerate() {
                let next = match (i == last, is_and) {
                    (false, _) => after(ops, leaves(&part)),
                    (true, true) => on_true,
                    (true, false) => on_false,
                };
                let (holds, fails) = if is_and {
                    (next, on_false)
                } else {
                    (on_true, next)
                };
                emit(part, holds, fails, ops);
            }
        }
        Cond::Not(inner) => emit(*inner, on_false, on_true, ops),
        leaf => {
            let leaf = match leaf {
                // What `all` and `any` of nothing are.
                Cond::And(_) => Cond::Const(true),
                Cond::Or(_) => Cond::Const(false),
                Cond::Quantified(quant, body) => Cond::Quantified(quant, Box::new(flatten(*body))),
                Cond::SameDay { none, body } => Cond::SameDay {
                    none,
                    body: Box::new(flatten(*body)),
                },
                leaf => leaf,
            };
            ops.push(Op {
                leaf,
                on_true,
                on_false,
            });
        }
    }
}

/// Fields whose value is a whole number or missing, never another type.
pub const WHOLE_NUMBER_FIELDS: [FieldId; 6] = [
    FieldId::LineUnits,
    FieldId::LineMuscles,
    FieldId::LineInjections,
    FieldId::LineNumber,
    FieldId::ClaimLineCount,
    FieldId::PatientAge,
];

fn lower_leaf(cond: Cond) -> Cond {
    match cond {
        Cond::InSet(
            op @ (InOp::In | InOp::NotIn),
            Value::Field {
                id: FieldId::LineProcedure,
                other,
            },
            set,
        ) => Cond::CodeIn {
            other,
            set,
            negated: op == InOp::NotIn,
        },
        Cond::InSet(op @ (InOp::AnyIn | InOp::AllIn), Value::Field { id, other }, set)
            if matches!(id, FieldId::LineDiagnoses | FieldId::ClaimDiagnoses) =>
        {
            Cond::DiagnosesIn {
                claim: id == FieldId::ClaimDiagnoses,
                other,
                set,
                all: op == InOp::AllIn,
            }
        }
        Cond::Compare(op, Value::Field { id, other }, Value::Const(Const::Int(value)))
            if WHOLE_NUMBER_FIELDS.contains(&id) =>
        {
            Cond::FieldCompare {
                op,
                field: id,
                other,
                value,
            }
        }
        Cond::Compare(
            op,
            Value::Field {
                id: FieldId::LineDate,
                other: left_other,
            },
            Value::Field {
                id: FieldId::LineDate,
                other: right_other,
            },
        ) => Cond::DatesCompare {
            op,
            left_other,
            right_other,
        },
        // A count of lines only: units and charges stay general.
        Cond::Compare(op, Value::Count(count), Value::Const(Const::Int(value)))
            if count.measure == Measure::Lines =>
        {
            Cond::CountCompare { op, count, value }
        }
        // A literal whose double decides comparisons with a fact exactly
        // (`crate::number`): a whole number a double holds, or a decimal
        // of at most 15 significant digits. A longer one stays general,
        // which compares it digit by digit.
        Cond::Compare(op, Value::Fact(name), Value::Const(Const::Int(i)))
            if i.unsigned_abs() <= 1 << 53 =>
        {
            Cond::FactCompare {
                op,
                name,
                value: i as f64,
            }
        }
        Cond::Compare(
            op,
            Value::Fact(name),
            Value::Const(Const::Number(Exact {
                float: Some(value), ..
            })),
        ) => Cond::FactCompare { op, name, value },
        Cond::Exists(Value::Fact(name), negated) => Cond::FactExists { name, negated },
        Cond::Truthy(Value::Fact(name)) => Cond::FactTrue(name),
        Cond::Has(
            Value::Field {
                id: FieldId::LineModifiers,
                other,
            },
            Value::Const(Const::Str(text)),
        ) => Cond::ModifiersHas { other, text },
        general => general,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(name: &str) -> Cond {
        Cond::FactTrue(name.to_string())
    }

    fn jumps(cond: Cond) -> Vec<(String, u16, u16)> {
        match flatten(cond) {
            Cond::Flat(p) => p
                .ops
                .iter()
                .map(|op| match &op.leaf {
                    Cond::FactTrue(n) => (n.clone(), op.on_true, op.on_false),
                    other => (format!("{other:?}"), op.on_true, op.on_false),
                })
                .collect(),
            other => panic!("not flattened: {other:?}"),
        }
    }

    #[test]
    fn and_or_not_become_jumps_between_leaves() {
        const T: u16 = Program::TRUE;
        const F: u16 = Program::FALSE;
        // (a and not b) or c
        let cond = Cond::Or(vec![
            Cond::And(vec![fact("a"), Cond::Not(Box::new(fact("b")))]),
            fact("c"),
        ]);
        let want = [("a", 1, 2), ("b", 2, T), ("c", T, F)];
        let got = jumps(cond);
        assert_eq!(
            got,
            want.map(|(n, t, f)| (n.to_string(), t, f)).to_vec(),
            "{got:?}"
        );
        // A lone leaf, or an `and` of one, is left for the evaluator to test
        // in place.
        assert!(matches!(
            flatten(Cond::And(vec![fact("a")])),
            Cond::FactTrue(_)
        ));
        // `and` and `or` of nothing are their constants.
        let empty = jumps(Cond::Not(Box::new(Cond::Or(Vec::new()))));
        assert_eq!(empty, vec![("Const(false)".to_string(), F, T)]);
    }
}
