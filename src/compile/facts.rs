//! The facts a policy's rules compare with a literal, and the kind of value
//! each comparison needs. The language lets a fact meet a value of any type
//! (a claim's fact types are known only at run time), and a comparison of a
//! fact of another type is false: a `relief_percent` sent as text `"51"`
//! made `facts.relief_percent >= 50` false and the line was denied, with
//! nothing to say why. The engine refuses such a claim instead, naming the
//! fact and the rule (see `Engine::try_evaluate`).

use std::sync::Arc;

use super::plan::{CheckKind, Cond, Const, Rule, Value};

/// What kind of value a fact is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactKind {
    /// A number (whole or not).
    Number,
    /// Text.
    Text,
    /// `true` / `false`.
    Bool,
    /// A date.
    Date,
}

impl FactKind {
    /// The kind's name in messages ("a number").
    pub fn noun(self) -> &'static str {
        match self {
            FactKind::Number => "a number",
            FactKind::Text => "text",
            FactKind::Bool => "true or false",
            FactKind::Date => "a date",
        }
    }

    fn of_const(c: &Const) -> FactKind {
        match c {
            Const::Int(_) | Const::Number(_) => FactKind::Number,
            Const::Str(_) => FactKind::Text,
            Const::Bool(_) => FactKind::Bool,
            Const::Date(_) => FactKind::Date,
        }
    }
}

/// One fact a rule compares with a literal of `kind`.
#[derive(Clone, Debug, PartialEq)]
pub struct FactRead {
    /// The fact's name (after `facts.`).
    pub name: String,
    /// The kind of the literal it is compared with.
    pub kind: FactKind,
    /// The first rule that does.
    pub rule: Arc<str>,
}

/// The facts `rules` compare with literals, sorted by name, with every kind
/// each is compared with (a fact compared with a number in one rule and with
/// text in another accepts both).
pub fn fact_reads(rules: &[Rule]) -> Vec<FactRead> {
    let mut reads: Vec<FactRead> = Vec::new();
    for rule in rules {
        let mut add = |name: &str, kind: FactKind| {
            if !reads.iter().any(|r| r.name == name && r.kind == kind) {
                reads.push(FactRead {
                    name: name.to_owned(),
                    kind,
                    rule: rule.id.clone(),
                });
            }
        };
        for cond in &rule.when {
            walk(cond, &mut add);
        }
        for check in &rule.checks {
            if let CheckKind::Require(cond) = &check.kind {
                walk(cond, &mut add);
            }
        }
    }
    reads.sort_by(|a, b| a.name.cmp(&b.name));
    reads
}

fn walk(cond: &Cond, add: &mut impl FnMut(&str, FactKind)) {
    match cond {
        Cond::Or(parts) | Cond::And(parts) => parts.iter().for_each(|c| walk(c, add)),
        Cond::Not(c) | Cond::Quantified(_, c) | Cond::SameDay { body: c, .. } => walk(c, add),
        Cond::Flat(program) => program.ops.iter().for_each(|op| walk(&op.leaf, add)),
        Cond::Compare(_, Value::Fact(name), Value::Const(c))
        | Cond::Compare(_, Value::Const(c), Value::Fact(name)) => add(name, FactKind::of_const(c)),
        Cond::InList(_, Value::Fact(name), items) => {
            for item in items {
                add(name, FactKind::of_const(item));
            }
        }
        Cond::FactCompare { name, .. } => add(name, FactKind::Number),
        Cond::Truthy(Value::Fact(name)) | Cond::FactTrue(name) => add(name, FactKind::Bool),
        _ => {}
    }
}
