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

use super::plan::{Cond, Const, InOp, Value};
use crate::check::fields::FieldId;

/// The condition with every lowerable part rewritten; see the module docs.
pub fn lower(cond: Cond) -> Cond {
    match cond {
        Cond::Or(parts) => Cond::Or(parts.into_iter().map(lower).collect()),
        Cond::And(parts) => Cond::And(parts.into_iter().map(lower).collect()),
        Cond::Not(inner) => Cond::Not(Box::new(lower(*inner))),
        Cond::Quantified(quant, body) => Cond::Quantified(quant, Box::new(lower(*body))),
        leaf => lower_leaf(leaf),
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
        Cond::Compare(op, Value::Count(count), Value::Const(Const::Int(value))) => {
            Cond::CountCompare { op, count, value }
        }
        Cond::Compare(op, Value::Fact(name), Value::Const(Const::Int(i))) => Cond::FactCompare {
            op,
            name,
            // As the general comparison of a number with a whole number does.
            value: i as f64,
        },
        Cond::Compare(op, Value::Fact(name), Value::Const(Const::Number(value))) => {
            Cond::FactCompare { op, name, value }
        }
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
