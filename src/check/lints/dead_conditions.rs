//! PR403: a conjunction that no line can satisfy.
//!
//! The tests of one conjunction (the `when` lines of a rule taken together, a
//! `require` condition, each `and` inside an `or`, a `not` or a quantifier) are
//! grouped by the field they test, and each group is checked on its own:
//!
//! - code membership of a single-valued code field (`line.procedure in tpi and
//!   line.procedure in guidance`): the compiled sets, intersected, must keep a
//!   code; `not in` removes codes; a set that holds no code at all is found too;
//! - comparisons with constants (`line.units > 2 and line.units < 2`,
//!   `claim.place_of_service == "11" and claim.place_of_service == "22"`, dates,
//!   `in [...]` lists, facts): some value must pass every one; whole-number
//!   fields and dates only take whole values;
//! - `F exists and F is missing`.
//!
//! When the `when` lines cannot hold, the rule never applies; when a `require`
//! cannot hold, its check fails on every line the rule applies to.
//!
//! A file with errors is skipped: a malformed code or an unknown name would
//! make the sets guesswork.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::sets::SetResolver;
use super::visit::rules;
use super::{Lint, ModuleCx};
use crate::check::parse_date;
use crate::check::scope::SetKind;
use crate::codes::CodeSet;
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::fields::{self, Ty};
use crate::syntax::ast::{CheckKind, CompareOp, Expr, ExprKind, InOp, InTarget, Literal, Rule};

/// See the module docs.
pub struct DeadConditions;

impl Lint for DeadConditions {
    fn code(&self) -> DiagCode {
        DiagCode::DeadCondition
    }

    fn module(&self, cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
        if !cx.clean {
            return;
        }
        let mut sets = SetResolver::new(cx.scope);
        for rule in rules(cx.module) {
            check_rule(cx, &mut sets, rule, diags);
        }
    }
}

/// Where a conjunction sits, for the message.
#[derive(Clone, Copy)]
enum Place<'r> {
    When(&'r Rule),
    Require,
    Nested,
}

fn check_rule(
    cx: &ModuleCx<'_, '_>,
    sets: &mut SetResolver<'_, '_>,
    rule: &Rule,
    diags: &mut Vec<Diagnostic>,
) {
    let when: Vec<&Expr> = rule.when.iter().collect();
    if conjunction(cx, sets, &when, Place::When(rule), diags) {
        return; // the rule never applies: its checks do not matter
    }
    for check in &rule.checks {
        if let CheckKind::Require(cond) = &check.kind {
            conjunction(cx, sets, &[cond], Place::Require, diags);
        }
    }
}

/// Checks one conjunction and the conjunctions nested in it; true when this one
/// can never hold.
fn conjunction(
    cx: &ModuleCx<'_, '_>,
    sets: &mut SetResolver<'_, '_>,
    parts: &[&Expr],
    place: Place<'_>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut atoms = Vec::new();
    for p in parts {
        flatten(p, &mut atoms);
    }
    let mut groups: BTreeMap<String, Vec<(&Expr, Test)>> = BTreeMap::new();
    for atom in &atoms {
        if let Some((field, test)) = test_of(cx, sets, atom) {
            groups.entry(field).or_default().push((atom, test));
        }
    }
    let mut dead = false;
    for (field, tests) in &groups {
        if let Some(conflict) = first_conflict(field, tests) {
            diags.push(report(cx, place, conflict));
            dead = true;
            break;
        }
    }
    // Nested conjunctions: each `or` branch, the inside of `not` and quantifiers.
    for atom in &atoms {
        match &atom.kind {
            ExprKind::Or(branches) => {
                for b in branches {
                    conjunction(cx, sets, &[b], Place::Nested, diags);
                }
            }
            ExprKind::Not(inner) => {
                conjunction(cx, sets, &[inner], Place::Nested, diags);
            }
            ExprKind::Quantified { body, .. } => {
                conjunction(cx, sets, &[body], Place::Nested, diags);
            }
            _ => {}
        }
    }
    dead
}

fn flatten<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &expr.kind {
        ExprKind::And(parts) => parts.iter().for_each(|p| flatten(p, out)),
        _ => out.push(expr),
    }
}

/// A value a field is compared with.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    /// Numbers and dates (as days), exact: two literals a double could not
    /// tell apart are still two values.
    Num(Decimal),
    Text(String),
}

/// What one atom says about its field.
#[derive(Debug, Clone)]
enum Test {
    /// `in SET` (`negated`: `not in SET`), with the set's text.
    Codes {
        set: Box<CodeSet>,
        negated: bool,
        name: String,
    },
    /// `OP constant`, with the field on the left.
    Compare(CompareOp, Val),
    /// `in [...]` (`negated`: `not in [...]`).
    OneOf(Vec<Val>, bool),
    /// `exists` (`true`) or `is missing` (`false`).
    Exists(bool),
}

/// A field path (`line.units`) and whether it only takes whole values.
fn field_of(expr: &Expr) -> Option<(String, Option<Ty>)> {
    let ExprKind::Field(parts) = &expr.kind else {
        return None;
    };
    let path: Vec<&str> = parts.iter().map(|p| p.node.as_str()).collect();
    let ty = match path.as_slice() {
        ["facts", _] => None,
        [record, name] => Some(fields::lookup(record, name)?.ty),
        _ => return None,
    };
    Some((path.join("."), ty))
}

fn value_of(lit: &Literal) -> Option<Val> {
    Some(match lit {
        Literal::Int(i) => Val::Num(Decimal::from(*i)),
        Literal::Number(n) => Val::Num((*n)?),
        Literal::Str(s) => Val::Text(s.clone()),
        Literal::Bool(b) => Val::Text(b.to_string()),
        Literal::Date(d) => Val::Num(Decimal::from(chrono::Datelike::num_days_from_ce(
            &parse_date(d)?,
        ))),
        _ => return None,
    })
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        other => other,
    }
}

/// Whether a value fits a field's type; facts take anything.
fn fits(ty: Option<Ty>, v: &Val) -> bool {
    matches!(
        (ty, v),
        (None, _)
            | (Some(Ty::Int | Ty::Number | Ty::Date), Val::Num(_))
            | (
                Some(Ty::Str | Ty::Procedure | Ty::Diagnosis | Ty::Bool),
                Val::Text(_)
            )
    )
}

fn test_of(
    cx: &ModuleCx<'_, '_>,
    sets: &mut SetResolver<'_, '_>,
    atom: &Expr,
) -> Option<(String, Test)> {
    match &atom.kind {
        ExprKind::Compare { op, lhs, rhs } => {
            let (field, lit, op) = match (&lhs.kind, &rhs.kind) {
                (ExprKind::Field(_), ExprKind::Literal(l)) => (lhs, l, op.node),
                (ExprKind::Literal(l), ExprKind::Field(_)) => (rhs, l, flip(op.node)),
                _ => return None,
            };
            let (path, ty) = field_of(field)?;
            let v = value_of(lit)?;
            // A procedure compared with one code is a test against a set of one.
            if let (Some(Ty::Procedure), Val::Text(code), CompareOp::Eq | CompareOp::Ne) =
                (ty, &v, op)
            {
                crate::codes::CodeKey::parse(code)?;
                let one = crate::syntax::ast::CodeEntry::Code(code.clone());
                let set = Box::new(CodeSet::from_entries([&one]));
                let negated = op == CompareOp::Ne;
                let name = format!("cpt {code}");
                return Some((key(&path, ty), Test::Codes { set, negated, name }));
            }
            if !fits(ty, &v) || (ty == Some(Ty::Bool) && op != CompareOp::Eq && op != CompareOp::Ne)
            {
                return None;
            }
            // Dates compare with dates only; a date literal against a number field is a type error.
            if matches!(lit, Literal::Date(_)) != (ty == Some(Ty::Date)) && ty.is_some() {
                return None;
            }
            Some((key(&path, ty), Test::Compare(op, v)))
        }
        ExprKind::In { op, lhs, rhs } => {
            let (path, ty) = field_of(lhs)?;
            let negated = match op.node {
                InOp::In => false,
                InOp::NotIn => true,
                InOp::AnyIn | InOp::AllIn => return None, // lists: elements may differ
            };
            match rhs {
                InTarget::Set(set) => {
                    if ty != Some(Ty::Procedure) && ty != Some(Ty::Diagnosis) {
                        return None;
                    }
                    let want = if ty == Some(Ty::Procedure) {
                        SetKind::Procedure
                    } else {
                        SetKind::Diagnosis
                    };
                    if cx.scope.kind_of(set) != Some(want) {
                        return None;
                    }
                    let codes = sets.resolve(set)?;
                    let name = cx
                        .file
                        .text
                        .get(set.span().start..set.span().end)?
                        .to_string();
                    Some((
                        key(&path, ty),
                        Test::Codes {
                            set: Box::new(codes),
                            negated,
                            name,
                        },
                    ))
                }
                InTarget::List(items, _) => {
                    let vals: Option<Vec<Val>> = items.iter().map(|i| value_of(&i.node)).collect();
                    let vals = vals?;
                    if !vals.iter().all(|v| fits(ty, v)) {
                        return None;
                    }
                    Some((key(&path, ty), Test::OneOf(vals, negated)))
                }
            }
        }
        ExprKind::Exists { operand, negated } => {
            let (path, ty) = field_of(operand)?;
            Some((key(&path, ty), Test::Exists(!negated)))
        }
        _ => None,
    }
}

/// The group key: the path, with the field's kind of values.
fn key(path: &str, ty: Option<Ty>) -> String {
    let whole = matches!(ty, Some(Ty::Int | Ty::Date));
    format!("{}{path}", if whole { "#" } else { "" })
}

/// Atoms that cannot hold together: the one that closed the door, and the
/// earlier ones it conflicts with.
struct Conflict<'e> {
    field: String,
    at: &'e Expr,
    with: Vec<&'e Expr>,
    why: Why,
}

enum Why {
    /// A set that holds no code on its own.
    EmptySet(String),
    /// Sets with no code in common; `removed`: a `not in` took the last codes.
    NoCommonCode { removed: bool },
    /// Comparisons no value passes.
    NoValue,
    /// `exists` with `is missing`.
    ExistsAndMissing,
}

fn first_conflict<'e>(field: &str, tests: &[(&'e Expr, Test)]) -> Option<Conflict<'e>> {
    let path = field.trim_start_matches('#').to_string();
    // Codes: `in` sets first, then `not in`.
    let mut codes: Option<(CodeSet, Vec<&Expr>)> = None;
    let ordered = tests
        .iter()
        .filter(|(_, t)| matches!(t, Test::Codes { negated: false, .. }))
        .chain(
            tests
                .iter()
                .filter(|(_, t)| matches!(t, Test::Codes { negated: true, .. })),
        );
    for (atom, test) in ordered {
        let Test::Codes { set, negated, name } = test else {
            continue;
        };
        if !negated && set.is_empty() {
            return Some(Conflict {
                field: path,
                at: atom,
                with: Vec::new(),
                why: Why::EmptySet(name.clone()),
            });
        }
        // The codes still possible, and the tests that narrowed them.
        let now = match (&codes, negated) {
            (None, false) => (**set).clone(),
            (None, true) => continue, // `not in` alone leaves codes over
            (Some((have, _)), false) => have.intersection(set),
            (Some((have, _)), true) => have.difference(set),
        };
        let mut atoms = codes.take().map(|(_, a)| a).unwrap_or_default();
        if now.is_empty() {
            return Some(Conflict {
                field: path,
                at: atom,
                with: atoms,
                why: Why::NoCommonCode { removed: *negated },
            });
        }
        atoms.push(atom);
        codes = Some((now, atoms));
    }
    // Values.
    let whole = field.starts_with('#');
    let mut values = Values::default();
    for (atom, test) in tests {
        let conflict = match test {
            Test::Codes { .. } => continue,
            Test::Exists(present) => {
                let clash = values
                    .exists
                    .as_ref()
                    .filter(|(p, _)| p != present)
                    .map(|(_, e)| *e);
                values.exists.get_or_insert((*present, atom));
                clash.map(|e| (vec![e], Why::ExistsAndMissing))
            }
            Test::Compare(..) | Test::OneOf(..) => {
                values.add(test, atom, whole);
                (!values.feasible(whole)).then(|| (values.atoms(atom), Why::NoValue))
            }
        };
        if let Some((with, why)) = conflict {
            return Some(Conflict {
                field: path,
                at: atom,
                with,
                why,
            });
        }
    }
    None
}

/// What the comparisons so far allow, with the atom behind each constraint.
#[derive(Default)]
struct Values<'e> {
    lo: Option<(Decimal, bool, &'e Expr)>,
    hi: Option<(Decimal, bool, &'e Expr)>,
    /// Allowed values: an `==` or an `in [...]`, intersected.
    only: Option<(Vec<Val>, Vec<&'e Expr>)>,
    not: Vec<(Val, &'e Expr)>,
    exists: Option<(bool, &'e Expr)>,
}

impl<'e> Values<'e> {
    fn add(&mut self, test: &Test, atom: &'e Expr, whole: bool) {
        match test {
            Test::Compare(op, v) => match (op, v) {
                (CompareOp::Eq, v) => self.allow(vec![v.clone()], atom),
                (CompareOp::Ne, v) => self.not.push((v.clone(), atom)),
                (op, Val::Num(n)) => {
                    let (n, strict) = (*n, matches!(op, CompareOp::Lt | CompareOp::Gt));
                    // Whole values: `> 2` is `>= 3`, `< 2.5` is `<= 2`.
                    let (n, strict) = match (whole, op) {
                        (true, CompareOp::Gt | CompareOp::Ge) => {
                            let next = n.floor().checked_add(Decimal::ONE).unwrap_or(Decimal::MAX);
                            (if strict { next } else { n.ceil() }, false)
                        }
                        (true, _) => {
                            let prev = n.ceil().checked_sub(Decimal::ONE).unwrap_or(Decimal::MIN);
                            (if strict { prev } else { n.floor() }, false)
                        }
                        _ => (n, strict),
                    };
                    let lower = matches!(op, CompareOp::Gt | CompareOp::Ge);
                    let slot = if lower { &mut self.lo } else { &mut self.hi };
                    let tighter = match slot {
                        None => true,
                        Some((m, s, _)) if lower => n > *m || (n == *m && strict && !*s),
                        Some((m, s, _)) => n < *m || (n == *m && strict && !*s),
                    };
                    if tighter {
                        *slot = Some((n, strict, atom));
                    }
                }
                _ => {}
            },
            Test::OneOf(vals, false) => self.allow(vals.clone(), atom),
            Test::OneOf(vals, true) => self.not.extend(vals.iter().map(|v| (v.clone(), atom))),
            _ => {}
        }
    }

    fn allow(&mut self, vals: Vec<Val>, atom: &'e Expr) {
        match &mut self.only {
            None => self.only = Some((vals, vec![atom])),
            Some((have, atoms)) => {
                have.retain(|v| vals.contains(v));
                atoms.push(atom);
            }
        }
    }

    fn passes(&self, v: &Val, whole: bool) -> bool {
        if self.not.iter().any(|(n, _)| n == v) {
            return false;
        }
        let Val::Num(n) = v else {
            return self.lo.is_none() && self.hi.is_none();
        };
        if whole && !n.fract().is_zero() {
            return false;
        }
        let above = self
            .lo
            .is_none_or(|(m, s, _)| if s { *n > m } else { *n >= m });
        let below = self
            .hi
            .is_none_or(|(m, s, _)| if s { *n < m } else { *n <= m });
        above && below
    }

    fn feasible(&self, whole: bool) -> bool {
        if let Some((vals, _)) = &self.only {
            return vals.iter().any(|v| self.passes(v, whole));
        }
        match (self.lo, self.hi) {
            (Some((l, ls, _)), Some((h, hs, _))) => {
                if l > h || (l == h && (ls || hs)) {
                    return false;
                }
                // One value left, and `!=` excludes it.
                !(l == h && self.not.iter().any(|(v, _)| *v == Val::Num(l)))
            }
            _ => true,
        }
    }

    /// The atoms behind the current constraints, less `at`.
    fn atoms(&self, at: &'e Expr) -> Vec<&'e Expr> {
        let mut out: Vec<&Expr> = Vec::new();
        let mut add = |e: &'e Expr| {
            if !std::ptr::eq(e, at) && !out.iter().any(|o| std::ptr::eq(*o, e)) {
                out.push(e);
            }
        };
        if let Some((_, _, e)) = self.lo {
            add(e);
        }
        if let Some((_, _, e)) = self.hi {
            add(e);
        }
        if let Some((_, atoms)) = &self.only {
            atoms.iter().for_each(|e| add(e));
        }
        self.not.iter().for_each(|(_, e)| add(e));
        out
    }
}

fn report(cx: &ModuleCx<'_, '_>, place: Place<'_>, c: Conflict<'_>) -> Diagnostic {
    let field = &c.field;
    // Every test of the conjunction, quoted, for the message.
    let tests = || -> Vec<String> {
        c.with
            .iter()
            .chain([&c.at])
            .map(|e| format!("`{}`", cx.file.written(e.span)))
            .collect()
    };
    let (why, help) = match &c.why {
        Why::EmptySet(name) => (
            format!("`{name}` holds no code"),
            format!("check how `{name}` is defined: nothing is left in it"),
        ),
        Why::NoCommonCode { removed } => {
            let all = tests();
            let help = if *removed {
                "`not in` removes every code the other tests leave: check which codes each set holds"
            } else {
                "the sets share no code: to accept a code of either set, join the tests with `or`"
            };
            (
                format!("no code of `{field}` passes {}", join_and(&all)),
                help.to_string(),
            )
        }
        Why::NoValue => {
            let all = tests();
            (
                format!("no value of `{field}` passes {}", join_and(&all)),
                "check the constants and the comparison signs, or join the tests with `or`"
                    .to_string(),
            )
        }
        Why::ExistsAndMissing => (
            format!("`{field}` cannot both exist and be missing"),
            "keep one of the two tests".to_string(),
        ),
    };
    let (message, label) = match place {
        Place::When(rule) => (
            format!("rule `{}` can never apply: {why}", rule.id.node),
            "no line passes this together with the rest of `when`",
        ),
        Place::Require => (
            format!("this requirement can never hold: {why}"),
            "so this check fails on every line the rule applies to",
        ),
        Place::Nested => (
            format!("this condition can never hold: {why}"),
            "no line passes this together with the rest of the condition",
        ),
    };
    let mut d = Diagnostic::new(DiagCode::DeadCondition, cx.file, c.at.span, message)
        .with_label(label)
        .with_help(help);
    for e in c.with {
        d = d.with_related(e.span, "conflicts with this");
    }
    d
}

/// "`a`, `b` and `c`".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::DiagCode;

    /// Whether `when CONDITION` makes PR403, in a policy with `tpi`, `drugs`, `dx`.
    fn dead(condition: &str) -> bool {
        let text = format!(
            "policy t {{ payer p version \"1\" effective 2024-01-01.. source \"s\"\n codes tpi = cpt 20552, 20553\n codes drugs = hcpcs J*\n codes dx = icd10 M79.18\n rule A {{ when {condition} deny CO-1 }}\n rule B {{ when line.procedure in drugs and line.diagnoses any in dx deny CO-1 }}\n rule C {{ when line.procedure in tpi deny CO-1 }}\n}}"
        );
        !super::super::tests::lint_messages(&text, DiagCode::DeadCondition).is_empty()
    }

    #[test]
    fn contradictions_are_found() {
        for c in [
            "line.procedure in tpi and line.procedure in drugs",
            "line.procedure in tpi and line.procedure not in (tpi + drugs)",
            "line.procedure in (tpi - cpt 20552, 20553)",
            "line.procedure in tpi and line.procedure == \"J3301\"",
            "line.units > 2 and line.units < 2",
            "line.units > 1 and line.units < 2",
            "line.units >= 3 and 2 >= line.units",
            "line.units == 1 and line.units == 2",
            "line.units == 1 and line.units != 1",
            "line.units >= 1 and line.units <= 1 and line.units != 1",
            "line.charge > 10.5 and line.charge < 10",
            "claim.place_of_service in [\"11\", \"22\"] and claim.place_of_service == \"21\"",
            "claim.place_of_service in [\"11\"] and claim.place_of_service not in [\"11\", \"22\"]",
            "patient.sex == \"F\" and patient.sex == \"M\"",
            "line.date_of_service < 2024-01-01 and line.date_of_service > 2024-12-31",
            "facts.relief_percent >= 50 and facts.relief_percent < 10",
            // As doubles both literals were 50: exact, nothing is in between.
            "facts.relief_percent >= 50.000000000000000001 and facts.relief_percent <= 50",
            "line.site exists and line.site is missing",
            "line.procedure in tpi and (line.units > 3 and line.units < 3 or line.site exists)",
            "line.procedure in tpi and not (line.units > 3 and line.units < 3)",
            "some other line (other.procedure in tpi and other.procedure in drugs)",
        ] {
            assert!(dead(c), "not found: {c}");
        }
    }

    #[test]
    fn satisfiable_conditions_are_left_alone() {
        for c in [
            "line.procedure in tpi",
            "line.procedure in tpi and line.procedure in cpt 20552",
            "line.procedure in tpi and line.procedure not in cpt 20552",
            "line.procedure in tpi or line.procedure in drugs",
            "line.units >= 2 and line.units <= 2",
            "line.units > 1 and line.units < 3",
            "facts.relief_percent > 1 and facts.relief_percent < 2",
            "line.charge > 10 and line.charge < 10.5",
            "line.units != 1 and line.units != 2",
            "claim.place_of_service in [\"11\", \"22\"] and claim.place_of_service != \"11\"",
            "line.diagnoses any in dx and line.diagnoses any in icd10 M79.7",
            "line.procedure in tpi and some other line (other.procedure in drugs)",
        ] {
            assert!(!dead(c), "wrongly found: {c}");
        }
    }
}
