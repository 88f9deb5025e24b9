//! Compile: a checked workspace -> evaluation plans, one per policy.
//!
//! Runs only on a workspace the checker passed, so names resolve and types fit;
//! where the tree still surprises it (a bug, not a user error) it yields an
//! internal error instead of panicking.

pub mod dispatch;
pub mod facts;
pub mod lower;
pub mod plan;

use std::collections::HashMap;
use std::sync::Arc;

use crate::check::parse_date;
use crate::check::scope::{Scope, MAX_SET_DEPTH};
use crate::check::Checked;
use crate::claims::{Action, Reason, ReasonParts};
pub use crate::codes::CodeSet;
use crate::diagnostic::DiagCode;
use crate::fields;
use crate::number::Exact;
use crate::syntax::ast::{
    self, CheckKind as AstCheck, ExprKind, HeaderKind, InTarget, Literal, ModuleKind, Others,
    Period as AstPeriod, SetExpr, SetOp, Verb, Window,
};
use crate::syntax::Span;
use crate::workspace::Workspace;
use plan::*;

/// Why a checked policy did not compile: a compiler bug (the checked tree had
/// a shape the compiler does not expect, [`DiagCode::Internal`]) or a policy
/// past a limit of the plan ([`DiagCode::TooManyRules`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    /// The policy being compiled.
    pub policy: String,
    /// The diagnostic code to report it with.
    pub code: DiagCode,
    /// Where in the policy's file, when known (else the file's start).
    pub span: Span,
    /// What went wrong.
    pub message: String,
}

impl CompileError {
    /// A state the checker should have ruled out: a bug in payer-rules.
    fn internal(policy: &str, message: impl std::fmt::Display) -> CompileError {
        CompileError {
            policy: policy.to_string(),
            code: DiagCode::Internal,
            span: Span::default(),
            message: format!("internal error while compiling `{policy}`: {message}"),
        }
    }

    /// How to fix it, for the diagnostic.
    pub fn help(&self) -> String {
        match self.code {
            DiagCode::TooManyRules => format!(
                "split the policy (with its imports) into policies of at most {MAX_RULES} rules"
            ),
            _ => "this is a bug in payer-rules: please report it with the policy file".to_string(),
        }
    }
}

/// The most rules one policy may hold, its imported libraries' included: the
/// dispatcher indexes rules with 16-bit numbers.
pub const MAX_RULES: usize = u16::MAX as usize + 1;

/// Compiles every policy (not library) named as a root of the workspace, or every
/// policy when `roots_only` is false.
pub fn compile_workspace(checked: &Checked<'_>) -> Result<Vec<Policy>, CompileError> {
    let ws = checked.ws;
    let mut out = Vec::new();
    for (i, unit) in ws.units.iter().enumerate() {
        let Some(module) = unit.module() else {
            continue;
        };
        if module.kind != ModuleKind::Policy {
            continue;
        }
        let Some(scope) = checked.scope(i) else {
            return Err(CompileError::internal(
                &module.id.node,
                "the checker left no scope for this policy",
            ));
        };
        within_rule_index(&module.id.node, module.id.span, scope.rules.len())?;
        out.push(Compiler::new(ws, scope, module.id.node.clone()).policy(module, i)?);
    }
    Ok(out)
}

/// A rule's text with its first line's indentation, dedented, for `explain`.
fn source_text(text: &str, span: crate::syntax::Span) -> String {
    let line_start = text
        .get(..span.start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let start = if text
        .get(line_start..span.start)
        .is_some_and(|p| p.trim().is_empty())
    {
        line_start
    } else {
        span.start
    };
    let body = text.get(start..span.end).unwrap_or_default();
    let indent = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.lines()
        .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

struct Compiler<'a, 'w> {
    ws: &'w Workspace,
    scope: &'a Scope<'w>,
    policy: String,
    /// The policy's id and version as its reasons name them: one copy each,
    /// shared by every reason and the policy.
    id: Arc<str>,
    version: Arc<str>,
    sets: Vec<CodeSet>,
    named: HashMap<String, SetId>,
    /// Named sets' codes, each computed once: a set used twice by each of a
    /// chain of sets must not be recomputed twice per step.
    values: HashMap<String, CodeSet>,
    /// True while compiling the body of a same-day quantifier, whose
    /// `other.` may read only what the history keeps.
    same_day: bool,
    /// The policy's regions, compiled before its rules.
    regions: Vec<Region>,
    /// Each set counted `per region`, split by region once (by its id).
    regional: HashMap<SetId, Regional>,
}

impl<'a, 'w> Compiler<'a, 'w> {
    fn new(ws: &'w Workspace, scope: &'a Scope<'w>, policy: String) -> Self {
        Compiler {
            ws,
            scope,
            id: policy.as_str().into(),
            version: "".into(),
            policy,
            sets: Vec::new(),
            named: HashMap::new(),
            values: HashMap::new(),
            same_day: false,
            regions: Vec::new(),
            regional: HashMap::new(),
        }
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, CompileError> {
        Err(CompileError::internal(&self.policy, message.into()))
    }

    fn policy(mut self, module: &ast::Module, unit: usize) -> Result<Policy, CompileError> {
        let mut version = String::new();
        let mut payers = Vec::new();
        let mut source = String::new();
        let mut from = None;
        let mut payer_ids = Vec::new();
        let mut to = None;
        for h in &module.header {
            match &h.kind {
                HeaderKind::Payer(ps) => payers = ps.iter().map(|p| p.node.clone()).collect(),
                HeaderKind::PayerIds(ids) => {
                    payer_ids = ids.iter().map(|i| i.node.clone()).collect()
                }
                HeaderKind::Version(v) => version = v.node.clone(),
                HeaderKind::Source(s) => source = s.node.clone(),
                HeaderKind::Effective { from: f, to: t } => {
                    from = parse_date(&f.node);
                    to = t.as_ref().and_then(|t| parse_date(&t.node));
                }
            }
        }
        let Some(effective_from) = from else {
            return self.err("no effective date");
        };
        self.version = version.into();
        for def in &self.scope.regions {
            let set = self.set(&def.decl.expr)?;
            self.regions.push(Region {
                name: def.decl.name.node.as_str().into(),
                set,
            });
        }
        let mut rules = Vec::new();
        for def in &self.scope.rules {
            let Some(file) = self.ws.units.get(def.unit).map(|u| &u.file) else {
                return self.err("a rule's file is not in the workspace");
            };
            let mut rule = self.rule(def.rule, file.location(def.rule.span))?;
            rule.source = source_text(&file.text, def.rule.span);
            rules.push(rule);
        }
        let Some(path) = self.ws.units.get(unit).map(|u| u.file.path.clone()) else {
            return self.err("the policy's file is not in the workspace");
        };
        let Ok(triggers) = rules
            .iter()
            .map(|r: &Rule| r.trigger.map(|t| self.sets.get(t).ok_or(t)).transpose())
            .collect::<Result<Vec<_>, _>>()
        else {
            return self.err("a rule's trigger names an unknown code set");
        };
        let dispatch = dispatch::Dispatch::new(&triggers);
        Ok(Policy {
            id: self.id.clone(),
            title: module
                .title
                .as_ref()
                .map(|t| t.node.clone())
                .unwrap_or_default(),
            version: self.version.clone(),
            payers,
            payer_ids,
            effective_from,
            effective_to: to,
            source,
            path,
            dispatch,
            sets: self.sets,
            regions: self.regions,
            facts: facts::fact_reads(&rules),
            rules,
        })
    }

    fn rule(&mut self, rule: &ast::Rule, at: String) -> Result<Rule, CompileError> {
        let title = rule
            .title
            .as_ref()
            .map(|t| t.node.clone())
            .unwrap_or_else(|| rule.id.node.clone());
        let mut when = rule
            .when
            .iter()
            .map(|e| self.cond(e))
            .collect::<Result<Vec<_>, _>>()?;
        let trigger = rule.when.iter().find_map(|e| self.trigger(e)).transpose()?;
        // The rule index already tests the trigger: drop that test from `when`.
        if let Some(t) = trigger {
            let sets = &self.sets;
            let is_trigger = |c: &Cond| match c {
                Cond::InSet(
                    InOp::In,
                    Value::Field {
                        id: fields::FieldId::LineProcedure,
                        other: false,
                    },
                    s,
                ) => sets.get(*s).is_some_and(|a| sets.get(t) == Some(a)),
                _ => false,
            };
            for cond in &mut when {
                match cond {
                    Cond::And(parts) => parts.retain(|p| !is_trigger(p)),
                    c if is_trigger(c) => *c = Cond::Const(true),
                    _ => {}
                }
            }
            when.retain(|c| {
                !matches!(c, Cond::Const(true)) && !matches!(c, Cond::And(p) if p.is_empty())
            });
        }
        // After the trigger is found: it is looked for in the general form.
        let when = when
            .into_iter()
            .map(|c| lower::flatten(lower::lower(c)))
            .collect();
        let id: Arc<str> = rule.id.node.as_str().into();
        let at: Arc<str> = at.into();
        let mut checks = Vec::new();
        for check in &rule.checks {
            let kind = match &check.kind {
                AstCheck::Require(e) => {
                    CheckKind::Require(lower::flatten(lower::lower(self.cond(e)?)))
                }
                AstCheck::Limit {
                    set,
                    max,
                    period,
                    per_code,
                    per_region,
                    scope,
                    modifiers,
                    measure,
                    bilateral,
                } => {
                    let set = self.set(set)?;
                    let matching = self.matching(set, *per_code, *per_region, scope, modifiers)?;
                    let k = bilateral.as_ref().map_or(1, |k| k.node);
                    let window = period_window(&period.node);
                    let counts_line =
                        trigger.is_some_and(|t| match (self.sets.get(t), self.sets.get(set)) {
                            (Some(t), Some(s)) => t.difference(s).is_empty(),
                            _ => false,
                        });
                    // A limit of units, charges or dates (`Ok`), or of lines (`Err`, its most).
                    let bound = match (measure.as_ref().map(|m| m.node), max.node) {
                        (Some(ast::Measure::Charges), max) => match max.decimal() {
                            Some(amount) => Ok(Bound::Charges(amount)),
                            None => return self.err("an amount out of range"),
                        },
                        (_, ast::LimitMax::Decimal(_)) => {
                            return self
                                .err("a limit of lines, units or dates that is not a whole number")
                        }
                        (Some(ast::Measure::Units), ast::LimitMax::Whole(max)) => {
                            Ok(Bound::Units { max, bilateral: k })
                        }
                        (Some(ast::Measure::Dates), ast::LimitMax::Whole(max)) => {
                            Ok(Bound::Dates(max))
                        }
                        (None, ast::LimitMax::Whole(max)) => Err(max),
                    };
                    let of = Counting {
                        set,
                        window,
                        matching,
                        counts_line,
                    };
                    match bound {
                        Ok(max) => CheckKind::Require(Cond::Within(Box::new(LimitOf { of, max }))),
                        Err(max) => CheckKind::Limit { of, max },
                    }
                }
                AstCheck::Interval {
                    set,
                    period,
                    per_code,
                    per_region,
                    scope,
                    modifiers,
                } => {
                    // The checker refuses the others (PR310).
                    let AstPeriod::Rolling { length, unit } = &period.node else {
                        return self.err("an interval of a calendar or anchored period");
                    };
                    let set = self.set(set)?;
                    CheckKind::Interval {
                        set,
                        period: Period {
                            length: length.node,
                            unit: *unit,
                        },
                        matching: self.matching(set, *per_code, *per_region, scope, modifiers)?,
                    }
                }
                AstCheck::Always => CheckKind::Always,
            };
            let a = &check.action;
            let reason = Reason::new(ReasonParts {
                rule: id.clone(),
                action: match a.verb.node {
                    Verb::Allow => Action::Allow,
                    Verb::Review => Action::Review,
                    Verb::Deny => Action::Deny,
                },
                carc: a.carc.as_ref().map(|c| c.node.as_str().into()),
                rarc: a.rarc.iter().map(|r| r.node.clone()).collect(),
                message: a
                    .message
                    .as_ref()
                    .map_or(title.as_str(), |m| m.node.as_str())
                    .into(),
                at: at.clone(),
                policy: self.id.clone(),
                policy_version: self.version.clone(),
            });
            checks.push(Check { kind, reason });
        }
        Ok(Rule {
            id,
            title,
            doc: rule.doc.clone(),
            at,
            source: String::new(),
            trigger,
            when,
            checks,
        })
    }

    /// `line.procedure in SET` as a top-level conjunct gives the rule's trigger.
    fn trigger(&mut self, expr: &ast::Expr) -> Option<Result<SetId, CompileError>> {
        match &expr.kind {
            ExprKind::And(parts) => parts.iter().find_map(|p| self.trigger(p)),
            ExprKind::In {
                op,
                lhs,
                rhs: InTarget::Set(set),
            } if op.node == ast::InOp::In && lhs.field() == Some(("line", "procedure")) => {
                Some(self.set(set))
            }
            _ => None,
        }
    }

    fn set(&mut self, expr: &SetExpr) -> Result<SetId, CompileError> {
        if let SetExpr::Ref(name) = expr {
            if let Some(&id) = self.named.get(&name.node) {
                return Ok(id);
            }
        }
        let set = self.set_value(expr, 0)?;
        self.sets.push(set);
        let id = self.sets.len() - 1;
        if let SetExpr::Ref(name) = expr {
            self.named.insert(name.node.clone(), id);
        }
        Ok(id)
    }

    /// For a count of set `set` with `per region` (written at `at`): the set
    /// split by region (see [`Regional`]), made once per set.
    fn regional(&mut self, set: SetId, at: Option<Span>) -> Result<Option<Regional>, CompileError> {
        if at.is_none() {
            return Ok(None);
        }
        if let Some(known) = self.regional.get(&set) {
            return Ok(Some(*known));
        }
        let Some(counted) = self.sets.get(set).cloned() else {
            return self.err("a count `per region` of an unknown code set");
        };
        let mut in_none = counted.clone();
        let mut splits = Vec::with_capacity(self.regions.len() + 1);
        for region in &self.regions {
            let Some(codes) = self.sets.get(region.set) else {
                return self.err(format!("region `{}` has no code set", region.name));
            };
            splits.push(counted.intersection(codes));
            in_none = in_none.difference(codes);
        }
        splits.push(in_none);
        let regional = Regional {
            first: self.sets.len(),
        };
        self.sets.extend(splits);
        self.regional.insert(set, regional);
        Ok(Some(regional))
    }

    fn set_value(&mut self, expr: &SetExpr, depth: usize) -> Result<CodeSet, CompileError> {
        // The checker refuses deeper sets (PR213), so this never fires.
        if depth > MAX_SET_DEPTH {
            return self.err("code sets nest too deeply");
        }
        match expr {
            SetExpr::Literal(list) => {
                Ok(CodeSet::from_entries(list.entries.iter().map(|e| &e.node)))
            }
            SetExpr::Ref(name) => {
                if let Some(known) = self.values.get(&name.node) {
                    return Ok(known.clone());
                }
                let Some(def) = self.scope.sets.get(name.node.as_str()) else {
                    return self.err(format!("unknown code set `{}`", name.node));
                };
                let value = self.set_value(&def.decl.expr, depth + 1)?;
                self.values.insert(name.node.clone(), value.clone());
                Ok(value)
            }
            SetExpr::Chain { first, rest, .. } => {
                let mut acc = self.set_value(first, depth + 1)?;
                for (op, term) in rest {
                    let r = self.set_value(term, depth + 1)?;
                    acc = match op {
                        SetOp::Union => acc.union(&r),
                        SetOp::Difference => acc.difference(&r),
                    };
                }
                Ok(acc)
            }
        }
    }

    fn cond(&mut self, expr: &ast::Expr) -> Result<Cond, CompileError> {
        Ok(match &expr.kind {
            ExprKind::Or(parts) => Cond::Or(
                parts
                    .iter()
                    .map(|p| self.cond(p))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::And(parts) => Cond::And(
                parts
                    .iter()
                    .map(|p| self.cond(p))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Not(inner) => Cond::Not(Box::new(self.cond(inner)?)),
            ExprKind::Compare { op, lhs, rhs } => {
                Cond::Compare(op.node, self.value(lhs)?, self.value(rhs)?)
            }
            ExprKind::In { op, lhs, rhs } => match rhs {
                InTarget::Set(set) => Cond::InSet(op.node, self.value(lhs)?, self.set(set)?),
                InTarget::List(items, _) => {
                    let consts = items
                        .iter()
                        .map(|i| self.constant(&i.node))
                        .collect::<Result<_, _>>()?;
                    Cond::InList(op.node, self.value(lhs)?, consts)
                }
            },
            ExprKind::Has { lhs, rhs } => Cond::Has(self.value(lhs)?, self.value(rhs)?),
            ExprKind::Exists { operand, negated } => Cond::Exists(self.value(operand)?, *negated),
            ExprKind::Quantified {
                quant,
                over: Others::Lines,
                body,
            } => Cond::Quantified(quant.node, Box::new(self.cond(body)?)),
            ExprKind::Quantified {
                quant,
                over: Others::SameDayServices,
                body,
            } => {
                let none = match quant.node {
                    Quant::Some => false,
                    Quant::No => true,
                    // The checker refuses it (PR315).
                    Quant::Every => {
                        return self.err("`every` over same-day services");
                    }
                };
                // The evaluator reads a stored service as a line that has
                // only these fields (the checker's PR314).
                let outer = std::mem::replace(&mut self.same_day, true);
                let body = self.cond(body);
                self.same_day = outer;
                Cond::SameDay {
                    none,
                    body: Box::new(body?),
                }
            }
            ExprKind::Literal(Literal::Bool(b)) => Cond::Const(*b),
            ExprKind::Field(_) => Cond::Truthy(self.value(expr)?),
            _ => return self.err("a value where a condition belongs"),
        })
    }

    fn value(&mut self, expr: &ast::Expr) -> Result<Value, CompileError> {
        Ok(match &expr.kind {
            ExprKind::Field(parts) => {
                let Some(record) = parts.first().map(|p| p.node.as_str()) else {
                    return self.err("a field without a name");
                };
                let name = parts.get(1).map(|p| p.node.as_str()).unwrap_or("");
                if record == "facts" {
                    Value::Fact(name.to_string())
                } else {
                    match fields::lookup(record, name) {
                        Some(def)
                            if self.same_day
                                && record == "other"
                                && !fields::HISTORY_FIELDS.contains(&def.id) =>
                        {
                            return self.err(format!(
                                "`other.{name}` of a same-day service, which the history does not keep"
                            ));
                        }
                        Some(def) => Value::Field {
                            id: def.id,
                            other: record == "other",
                        },
                        None => return self.err(format!("unknown field `{record}.{name}`")),
                    }
                }
            }
            ExprKind::Literal(lit) => Value::Const(self.constant(lit)?),
            ExprKind::Count {
                set,
                window,
                per_code,
                per_region,
                scope,
                modifiers,
                measure,
                bilateral,
                sum,
            } => {
                let measure = match (sum, measure.as_ref().map(|m| m.node)) {
                    (Some(_), Some(ast::Measure::Charges)) => Measure::Charges,
                    (None, Some(ast::Measure::Units)) => Measure::Units {
                        bilateral: bilateral.as_ref().map_or(1, |k| k.node),
                    },
                    (None, None) => Measure::Lines,
                    (None, Some(ast::Measure::Dates)) => Measure::Dates,
                    _ => {
                        return self.err("a `count` of charges or a `sum` of lines, units or dates")
                    }
                };
                // The checker refuses the other combinations (PR311).
                let window = match &window.node {
                    Window::SameDay => CountWindow::SameDay,
                    Window::Within {
                        period: AstPeriod::Rolling { length, unit },
                        before: true,
                    } => CountWindow::Before(Period {
                        length: length.node,
                        unit: *unit,
                    }),
                    Window::Within {
                        period: period @ AstPeriod::Rolling { .. },
                        before: false,
                    }
                    | Window::In {
                        period: period @ (AstPeriod::CalendarYear | AstPeriod::Anchored { .. }),
                        before: false,
                    } => period_window(period),
                    Window::Within { .. } | Window::In { .. } => {
                        return self.err("a count window written with the wrong word")
                    }
                };
                let set = self.set(set)?;
                Value::Count(Count {
                    set,
                    window,
                    matching: self.matching(set, *per_code, *per_region, scope, modifiers)?,
                    measure,
                })
            }
            _ => return self.err("a condition where a value belongs"),
        })
    }

    /// Which services of `set` a limit, an interval or a count looks at:
    /// its `per code`, `per region` (the set's split by region), site scope
    /// and `with modifier` (every service without one; the checker refuses
    /// a clause that makes no filter, PR316).
    fn matching(
        &mut self,
        set: SetId,
        per_code: bool,
        per_region: Option<Span>,
        scope: &Option<crate::syntax::Spanned<ast::SiteScope>>,
        modifiers: &Option<ast::WithModifiers>,
    ) -> Result<Match, CompileError> {
        let modifiers = match modifiers {
            None => ModifierFilter::ANY,
            Some(clause) => {
                match ModifierFilter::of(clause.codes.iter().map(|c| c.node.as_str())) {
                    Some(filter) => filter,
                    None => return self.err("a `with modifier` the checker would have refused"),
                }
            }
        };
        Ok(Match {
            per_code,
            per_region: self.regional(set, per_region)?,
            scope: scope.as_ref().map(|s| site_scope(s.node)),
            modifiers,
        })
    }

    fn constant(&self, lit: &Literal) -> Result<Const, CompileError> {
        Ok(match lit {
            Literal::Int(i) => Const::Int(*i),
            Literal::Number(Some(n)) => Const::Number(Exact::new(*n)),
            Literal::Number(None) => return self.err("a number out of range"),
            Literal::Str(s) => Const::Str(s.clone()),
            Literal::Bool(b) => Const::Bool(*b),
            Literal::Date(d) => match parse_date(d) {
                Some(date) => Const::Date(date),
                None => return self.err(format!("invalid date `{d}`")),
            },
            Literal::List(_) => return self.err("a nested list"),
        })
    }
}

/// Refuses a policy whose rules (its imports' included) the dispatcher could
/// not all index: a rule past the index would never be dispatched.
fn within_rule_index(policy: &str, span: Span, rules: usize) -> Result<(), CompileError> {
    if rules <= MAX_RULES {
        return Ok(());
    }
    Err(CompileError {
        policy: policy.to_string(),
        code: DiagCode::TooManyRules,
        span,
        message: format!(
            "policy `{policy}` has {rules} rules with its imports, more than the {MAX_RULES} one policy can hold"
        ),
    })
}

/// The dates a limit's period covers, as the plan counts them: a rolling
/// length, the calendar year, or a period anchored at the first service.
/// A count's `within` and `in` windows read the same periods.
fn period_window(period: &AstPeriod) -> CountWindow {
    match period {
        AstPeriod::Rolling { length, unit } => CountWindow::Within(Period {
            length: length.node,
            unit: *unit,
        }),
        AstPeriod::CalendarYear => CountWindow::CalendarYear,
        AstPeriod::Anchored { length, unit } => CountWindow::FromFirst(Period {
            length: length.node,
            unit: *unit,
        }),
    }
}

/// The history's site matching for the language's `per site [or unsited]`.
fn site_scope(scope: ast::SiteScope) -> crate::history::SiteScope {
    match scope {
        ast::SiteScope::Strict => crate::history::SiteScope::Strict,
        ast::SiteScope::OrUnsited => crate::history::SiteScope::OrUnsited,
    }
}

#[cfg(test)]
mod tests;
