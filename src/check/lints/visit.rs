//! Walks over the tree that several lints share.

use crate::syntax::ast::{
    Check, CheckKind, CodeList, Expr, ExprKind, Ident, InTarget, Item, LimitMax, Measure, Module,
    Rule, SetExpr,
};
use crate::syntax::Spanned;

/// One `limit` check of a module, as the lints on its most read it.
pub struct LimitCheck<'m> {
    /// The check, for its action.
    pub check: &'m Check,
    /// What it counts.
    pub set: &'m SetExpr,
    /// Its most, where written.
    pub max: &'m Spanned<LimitMax>,
    /// `units` or `charges`; lines when `None`.
    pub measure: Option<Measure>,
    /// True with `with modifier`: the line then counts itself only when
    /// billed with one of the modifiers, so a limit of 0 does not fail on
    /// every line of the set.
    pub with_modifiers: bool,
}

/// Every `limit` check of the module's rules.
pub fn limits<'m>(module: &'m Module) -> impl Iterator<Item = LimitCheck<'m>> {
    rules(module)
        .flat_map(|rule| rule.checks.iter())
        .filter_map(|check| match &check.kind {
            CheckKind::Limit {
                set,
                max,
                measure,
                modifiers,
                ..
            } => Some(LimitCheck {
                check,
                set,
                max,
                measure: measure.as_ref().map(|m| m.node),
                with_modifiers: modifiers.is_some(),
            }),
            _ => None,
        })
}

/// Every set expression a rule writes: in `when` and `require` conditions,
/// `count(...)`, `limit` and `interval`.
pub fn rule_sets<'e>(rule: &'e Rule, out: &mut Vec<&'e SetExpr>) {
    for cond in rule_conditions(rule) {
        expr_sets(cond, out);
    }
    for check in &rule.checks {
        if let CheckKind::Limit { set, .. } | CheckKind::Interval { set, .. } = &check.kind {
            out.push(set);
        }
    }
}

/// Every set expression inside a condition: of `in SET` and `count(...)`.
pub fn expr_sets<'e>(expr: &'e Expr, out: &mut Vec<&'e SetExpr>) {
    walk(expr, &mut |e| match &e.kind {
        ExprKind::In {
            rhs: InTarget::Set(set),
            ..
        }
        | ExprKind::Count { set, .. } => out.push(set),
        _ => {}
    });
}

/// Every condition a rule writes: its `when` clauses and `require` checks.
pub fn rule_conditions(rule: &Rule) -> impl Iterator<Item = &Expr> {
    rule.when
        .iter()
        .chain(rule.checks.iter().filter_map(|check| match &check.kind {
            CheckKind::Require(cond) => Some(cond),
            _ => None,
        }))
}

/// Calls `f` on `expr` and on each expression inside it, outer first.
pub fn walk<'e>(expr: &'e Expr, f: &mut impl FnMut(&'e Expr)) {
    f(expr);
    match &expr.kind {
        ExprKind::Or(parts) | ExprKind::And(parts) => parts.iter().for_each(|p| walk(p, f)),
        ExprKind::Not(inner) => walk(inner, f),
        ExprKind::Compare { lhs, rhs, .. } | ExprKind::Has { lhs, rhs } => {
            walk(lhs, f);
            walk(rhs, f);
        }
        ExprKind::In { lhs, .. } => walk(lhs, f),
        ExprKind::Exists { operand, .. } => walk(operand, f),
        ExprKind::Quantified { body, .. } => walk(body, f),
        ExprKind::Count { .. } | ExprKind::Field(_) | ExprKind::Literal(_) => {}
    }
}

/// Every set expression a module writes: its `codes` and `region`
/// declarations and its rules.
pub fn module_sets(module: &Module) -> Vec<&SetExpr> {
    let mut out = Vec::new();
    for item in &module.items {
        match item {
            Item::Codes(decl) => out.push(&decl.expr),
            Item::Region(decl) => out.push(&decl.expr),
            Item::Rule(rule) => rule_sets(rule, &mut out),
        }
    }
    out
}

/// The literal code lists of a set expression.
pub fn literals<'e>(set: &'e SetExpr, out: &mut Vec<&'e CodeList>) {
    match set {
        SetExpr::Literal(list) => out.push(list),
        SetExpr::Ref(_) => {}
        SetExpr::Chain { .. } => {
            for (_, term) in set.terms() {
                literals(term, out);
            }
        }
    }
}

/// The names a set expression refers to.
pub fn refs<'e>(set: &'e SetExpr, out: &mut Vec<&'e Ident>) {
    match set {
        SetExpr::Literal(_) => {}
        SetExpr::Ref(name) => out.push(name),
        SetExpr::Chain { .. } => {
            for (_, term) in set.terms() {
                refs(term, out);
            }
        }
    }
}

/// The rules of a module, in source order.
pub fn rules(module: &Module) -> impl Iterator<Item = &Rule> {
    module.items.iter().filter_map(|item| match item {
        Item::Rule(rule) => Some(rule),
        Item::Codes(_) | Item::Region(_) => None,
    })
}
