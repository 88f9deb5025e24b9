//! Types of conditions: fields exist, comparisons compare like with like, codes
//! meet sets of their own code system, conditions are true/false.

use std::sync::Arc;

use super::regions;
use super::scope::{Scope, SetKind, MAX_SET_DEPTH};
use super::suggest::closest;
use crate::diagnostic::{DiagCode, Diagnostic, SourceFile};
use crate::fields::{self, Ty, RECORDS};
use crate::syntax::ast::{
    CompareOp, Expr, ExprKind, InOp, InTarget, Literal, Measure, Others, Period, Quant, SetExpr,
    TimeUnit, Window,
};
use crate::syntax::{Span, Spanned};

/// Checks expressions of one file against a scope.
pub struct ExprChecker<'a, 'w> {
    /// Names visible to the module.
    pub scope: &'a Scope<'w>,
    /// The file the expressions are in.
    pub file: &'a Arc<SourceFile>,
    /// Where problems go.
    pub diags: &'a mut Vec<Diagnostic>,
    /// Inside a quantifier: where it is, and what its `other` ranges over.
    in_quantifier: Option<(Span, Others)>,
}

impl<'a, 'w> ExprChecker<'a, 'w> {
    /// A checker for one file.
    pub fn new(
        scope: &'a Scope<'w>,
        file: &'a Arc<SourceFile>,
        diags: &'a mut Vec<Diagnostic>,
    ) -> Self {
        ExprChecker {
            scope,
            file,
            diags,
            in_quantifier: None,
        }
    }

    fn push(&mut self, code: DiagCode, span: Span, message: String, help: impl Into<String>) {
        self.diags
            .push(Diagnostic::new(code, self.file, span, message).with_help(help));
    }

    /// Checks a condition: it must be true/false (or a documentation fact).
    pub fn condition(&mut self, expr: &Expr) {
        let ty = self.ty(expr);
        if !matches!(ty, Ty::Bool | Ty::Fact | Ty::Error) {
            let help = match (&expr.kind, ty) {
                (ExprKind::Count { sum: Some(_), .. }, _) => format!(
                    "compare the sum with an amount: `{} > 2410.00`",
                    self.source(expr.span)
                ),
                (ExprKind::Count { .. }, _) => format!(
                    "compare the count with a number: `{} >= 1`",
                    self.source(expr.span)
                ),
                (_, Ty::StrList | Ty::DiagnosisList) => {
                    format!(
                        "test what the list holds: `{} has ...` or `{} any in ...`",
                        self.source(expr.span),
                        self.source(expr.span)
                    )
                }
                (ExprKind::Field(_), _) => format!(
                    "compare it with something, e.g. `{} == ...`, or test it with `{} exists`",
                    self.source(expr.span),
                    self.source(expr.span)
                ),
                _ => "compare it with something, e.g. `line.units > 1`, or test it with `exists`"
                    .to_string(),
            };
            self.push(
                DiagCode::NotACondition,
                expr.span,
                format!("this is {}, not a condition", ty.name()),
                help,
            );
        }
    }

    /// The text under a span, for help lines that repeat the user's words.
    fn source(&self, span: Span) -> &str {
        self.file.written(span)
    }

    /// The kind of a set expression, reporting unknown names, mixed systems
    /// and sets nested too deeply (PR213).
    pub fn set(&mut self, expr: &SetExpr) -> Option<SetKind> {
        let kind = self.set_terms(expr)?;
        // `None`: circular, which is reported at the definition.
        let depth = self.scope.depth_of(expr)?;
        if depth > MAX_SET_DEPTH && self.scope.names_too_deep(expr) {
            // Reported once, where the first set too deep is defined.
            return None;
        }
        if depth > MAX_SET_DEPTH {
            self.push(
                DiagCode::SetTooDeep,
                expr.span(),
                format!(
                    "this code set nests {depth} levels deep, more than the {MAX_SET_DEPTH} allowed"
                ),
                "each parenthesized or `+`/`-` expression and each step through a named set \
                 (`codes b = a`) is a level: list the codes of a long chain of sets in fewer sets",
            );
            return None;
        }
        Some(kind)
    }

    fn set_terms(&mut self, expr: &SetExpr) -> Option<SetKind> {
        match expr {
            SetExpr::Literal(list) => Some(SetKind::of(list.system.node)),
            SetExpr::Ref(name) => {
                if !self.scope.sets.contains_key(name.node.as_str()) {
                    let help = match (closest(&name.node, self.scope.set_names()), self.scope.broken_imports.as_slice()) {
                        (Some(near), _) => format!("did you mean `{near}`?"),
                        (None, []) => {
                            format!("define it with `codes {} = cpt ...` or import the library that has it", name.node)
                        }
                        (None, broken) => format!(
                            "it may be defined in {}, which could not be imported: fix the import first",
                            broken.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")
                        ),
                    };
                    self.push(
                        DiagCode::UnknownCodeSet,
                        name.span,
                        format!("unknown code set `{}`", name.node),
                        help,
                    );
                    return None;
                }
                self.scope.kind_of(expr)
            }
            SetExpr::Chain { first, rest, .. } => {
                // Left to right, stopping at the first operand in error.
                let l = self.set_terms(first)?;
                for (_, term) in rest {
                    let r = self.set_terms(term)?;
                    if l != r {
                        self.push(
                            DiagCode::MixedCodeSystems,
                            first.span().join(term.span()),
                            format!("this combines a {} set with a {} set", l.name(), r.name()),
                            "union and difference need sets of the same code system",
                        );
                        return None;
                    }
                }
                Some(l)
            }
        }
    }

    /// The type of an expression; errors are reported once and yield `Ty::Error`.
    pub fn ty(&mut self, expr: &Expr) -> Ty {
        match &expr.kind {
            ExprKind::Or(parts) | ExprKind::And(parts) => {
                for p in parts {
                    self.condition(p);
                }
                Ty::Bool
            }
            ExprKind::Not(inner) => {
                self.condition(inner);
                Ty::Bool
            }
            ExprKind::Compare { op, lhs, rhs } => {
                let l = self.ty(lhs);
                let r = self.ty(rhs);
                self.compare(op, l, r, lhs, rhs);
                self.region_names(lhs, rhs);
                self.region_names(rhs, lhs);
                Ty::Bool
            }
            ExprKind::In { op, lhs, rhs } => {
                let l = self.ty(lhs);
                self.membership(op, l, lhs, rhs);
                if let (true, InTarget::List(items, _)) = (regions::is_region_field(lhs), rhs) {
                    for item in items {
                        if let Literal::Str(text) = &item.node {
                            self.diags.extend(regions::unknown_region(
                                self.scope, self.file, text, item.span,
                            ));
                        }
                    }
                }
                Ty::Bool
            }
            ExprKind::Has { lhs, rhs } => {
                let l = self.ty(lhs);
                let r = self.ty(rhs);
                let ok = match l {
                    Ty::StrList => matches!(r, Ty::Str | Ty::Fact | Ty::Error),
                    Ty::DiagnosisList => matches!(r, Ty::Str | Ty::Diagnosis | Ty::Error),
                    Ty::Error => true,
                    _ => false,
                };
                if !ok {
                    self.push(
                        DiagCode::TypeMismatch,
                        expr.span,
                        format!("`has` looks for {} in {}", r.name(), l.name()),
                        "`has` takes a list on the left and one value on the right: `line.modifiers has \"50\"`",
                    );
                }
                Ty::Bool
            }
            ExprKind::Exists { operand, .. } => {
                self.ty(operand);
                Ty::Bool
            }
            ExprKind::Quantified { body, quant, over } => {
                if let Some((outer, outer_over)) = self.in_quantifier {
                    let (message, help) = if (*over, outer_over) == (Others::Lines, Others::Lines) {
                        (
                            "a quantifier over other lines cannot sit inside another",
                            "combine the conditions on `other.` in one quantifier",
                        )
                    } else {
                        (
                            "a quantifier cannot sit inside another: `other.` would name two things",
                            "write the two quantifiers side by side, joined with `and` or `or`",
                        )
                    };
                    self.diags.push(
                        Diagnostic::new(DiagCode::NestedQuantifier, self.file, quant.span, message)
                            .with_related(outer, "inside this one")
                            .with_help(help),
                    );
                }
                if *over == Others::SameDayServices && quant.node == Quant::Every {
                    self.push(
                        DiagCode::SameDayEvery,
                        quant.span,
                        "`every` does not range over same-day services".into(),
                        "say what no service may be: `no other service on same day (not ...)`, \
                         or what one must be: `some other service on same day (...)`",
                    );
                }
                let outer = self.in_quantifier;
                self.in_quantifier = Some((quant.span, *over));
                self.condition(body);
                self.in_quantifier = outer;
                Ty::Bool
            }
            ExprKind::Count {
                set,
                window,
                per_region,
                measure,
                bilateral,
                sum,
                modifiers,
                ..
            } => {
                self.diags
                    .extend(regions::per_region(*per_region, self.scope, self.file));
                super::measures::with_modifiers(modifiers.as_ref(), self.file, self.diags);
                let keyword = if sum.is_some() { "sum" } else { "count" };
                if let Some(kind) = self.set(set) {
                    if kind != SetKind::Procedure {
                        self.push(
                            DiagCode::WrongCodeSystem,
                            set.span(),
                            format!("`{keyword}` counts services, but this is a diagnosis set"),
                            "count a set of procedure codes (`cpt` or `hcpcs`)",
                        );
                    }
                }
                self.window(window);
                let measured = measure.as_ref().map(|m| m.node);
                if let Some(k) = bilateral {
                    super::measures::bilateral_clause(k, measured, keyword, self.file, self.diags);
                }
                self.measure(*sum, measure.as_ref(), set)
            }
            ExprKind::Field(parts) => self.field(parts, expr.span),
            ExprKind::Literal(lit) => self.literal(lit, expr.span),
        }
    }

    /// The type of a `count` (`sum` when `sum` is its keyword's span) of
    /// `measure`: a whole number of lines, units or dates, an exact amount
    /// of charges; a `count` of charges or a `sum` of anything else is PR309.
    fn measure(
        &mut self,
        sum: Option<Span>,
        measure: Option<&Spanned<Measure>>,
        set: &SetExpr,
    ) -> Ty {
        let (at, message, help) = match (sum, measure) {
            (Some(_), Some(m)) if m.node == Measure::Charges => return Ty::Number,
            (None, None) => return Ty::Int,
            (None, Some(m)) if matches!(m.node, Measure::Units | Measure::Dates) => return Ty::Int,
            (Some(at), _) => {
                let counted = measure.map_or("lines", |m| m.node.word());
                (
                    measure.map_or(at, |m| m.span),
                    format!("`sum` adds up charges, not {counted}"),
                    format!(
                        "write `sum({set} charges ...)` for the amounts billed, or `count({set}{} ...)` for the {counted}",
                        match counted {
                            "units" => " units",
                            "dates" => " dates",
                            _ => "",
                        },
                        set = self.source(set.span())
                    ),
                )
            }
            // A count of charges.
            (None, Some(m)) => (
                m.span,
                "`count` counts lines, units or dates, not charges".to_string(),
                format!(
                    "add up the amounts billed with `sum({} charges ...)`",
                    self.source(set.span())
                ),
            ),
        };
        self.push(DiagCode::MeasureMismatch, at, message, help);
        Ty::Error
    }

    /// Checks a window's words (PR311) and length (days or months).
    pub fn window(&mut self, window: &Spanned<Window>) {
        let (period, before, within) = match &window.node {
            Window::SameDay => return,
            Window::Within { period, before } => (period, *before, true),
            Window::In { period, before } => (period, *before, false),
        };
        let rolling = matches!(period, Period::Rolling { .. });
        if within != rolling || (!within && before) {
            self.window_word(window, period, before, within);
            return;
        }
        if let Period::Rolling { length, unit } | Period::Anchored { length, unit } = period {
            let days = length.node;
            let most = match unit {
                TimeUnit::Days => super::MOST_WINDOW_DAYS,
                TimeUnit::Months => super::MOST_WINDOW_MONTHS,
            };
            if days == 0 || days > most {
                self.push(
                    DiagCode::NumberOutOfRange,
                    window.span,
                    format!(
                        "a window of `{}` is out of range",
                        // The number as written and its unit: `within N days [before]`.
                        self.source(window.span)
                            .split_whitespace()
                            .skip(1)
                            .take(2)
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    "a window is 1 to 36600 days (1 to 1200 months) long",
                );
            }
        }
    }

    /// PR311: `within` with a calendar year or an anchored period, `in` with
    /// a rolling length, or `in ... before`.
    fn window_word(
        &mut self,
        window: &Spanned<Window>,
        period: &Period,
        before: bool,
        within: bool,
    ) {
        // The words after `within`/`in` as written, `before` left out.
        let length = self
            .source(window.span)
            .split_whitespace()
            .skip(1)
            .filter(|w| *w != "before")
            .collect::<Vec<_>>()
            .join(" ");
        let (message, help) = match (period, within) {
            (Period::Rolling { .. }, _) => (
                format!("`in {length}` is not a calendar window"),
                format!(
                    "for the last {length}, rolling, write `within {length}`{}; for periods anchored at the member's first service, `in {length} from first`",
                    if before { " before" } else { "" }
                ),
            ),
            (_, true) => (
                format!("`within` takes a number of days or months, not `{length}`"),
                format!("write `in {length}`: the {} the date of service is in, up to it", match period {
                    Period::CalendarYear => "calendar year",
                    _ => "anchored period",
                }),
            ),
            (_, false) => (
                format!("`in {length}` does not take `before`"),
                format!(
                    "write `in {length}`: it counts the period's earlier services up to the date of service (the line itself never counts)"
                ),
            ),
        };
        self.push(DiagCode::WindowWord, window.span, message, help);
    }

    fn literal(&mut self, lit: &Literal, span: Span) -> Ty {
        match lit {
            Literal::Int(_) => Ty::Int,
            Literal::Number(Some(_)) => Ty::Number,
            Literal::Number(None) => {
                self.push(
                    DiagCode::NumberOutOfRange,
                    span,
                    "this number is out of range".into(),
                    "numbers compare exactly, as decimals of at most 28 significant digits (up to 79228162514264337593543950335)",
                );
                Ty::Error
            }
            Literal::Str(_) => Ty::Str,
            Literal::Bool(_) => Ty::Bool,
            Literal::Date(text) => {
                if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() {
                    self.push(
                        DiagCode::InvalidDate,
                        span,
                        format!("`{text}` is not a valid date"),
                        "dates are YYYY-MM-DD with a real month and day",
                    );
                    return Ty::Error;
                }
                Ty::Date
            }
            Literal::List(_) => {
                self.push(
                    DiagCode::TypeMismatch,
                    span,
                    "a list can only follow `in` or `not in`".into(),
                    "write `claim.place_of_service in [\"11\", \"22\"]`",
                );
                Ty::Error
            }
        }
    }

    fn field(&mut self, parts: &[Spanned<String>], span: Span) -> Ty {
        // The parser gives a field at least one part.
        let Some(first) = parts.first() else {
            return Ty::Error;
        };
        let record = first.node.as_str();
        if !RECORDS.contains(&record) {
            let help = match closest(record, RECORDS.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "fields start with one of {}",
                    RECORDS
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.push(
                DiagCode::UnknownField,
                first.span,
                format!("unknown record `{record}`"),
                help,
            );
            return Ty::Error;
        }
        if record == "other" && self.in_quantifier.is_none() {
            self.push(
                DiagCode::OtherOutsideQuantifier,
                span,
                "`other.` only has a meaning inside `some/no/every other line (...)` or `some/no other service on same day (...)`".into(),
                "wrap the condition: `some other line (other.procedure in drugs)`",
            );
            return Ty::Error;
        }
        if record == "facts" {
            if parts.len() != 2 {
                self.push(
                    DiagCode::UnknownField,
                    span,
                    "a fact is named `facts.NAME`".into(),
                    "write one name after `facts.`",
                );
                return Ty::Error;
            }
            return Ty::Fact;
        }
        let name = parts.get(1).map(|p| p.node.as_str()).unwrap_or("");
        match fields::lookup(record, name) {
            Some(def)
                if record == "other"
                    && parts.len() == 2
                    && matches!(self.in_quantifier, Some((_, Others::SameDayServices)))
                    && !fields::HISTORY_FIELDS.contains(&def.id) =>
            {
                let kept = "the history does not keep it";
                self.push(
                    DiagCode::SameDayField,
                    span,
                    format!("a same-day quantifier cannot read `other.{name}`: {kept}"),
                    format!(
                        "the services it looks at include earlier claims', of which the history keeps only {}; \
                         to test `{name}` of this claim's lines, use `some other line (... and other.date_of_service == line.date_of_service)`",
                        history_field_names()
                    ),
                );
                Ty::Error
            }
            Some(def) if parts.len() == 2 && def.id == fields::FieldId::LineRegion => {
                if self.scope.regions.is_empty() {
                    self.diags.push(regions::no_regions(
                        self.file,
                        span,
                        &format!("{record}.{name}"),
                    ));
                    return Ty::Error;
                }
                def.ty
            }
            Some(def) if parts.len() == 2 => def.ty,
            Some(_) => {
                let rest: Vec<&str> = parts.iter().skip(2).map(|p| p.node.as_str()).collect();
                self.push(
                    DiagCode::UnknownField,
                    span,
                    format!("`{record}.{name}` has no fields"),
                    format!(
                        "remove `.{}`: `{record}.{name}` is {}",
                        rest.join("."),
                        def_name(record, name)
                    ),
                );
                Ty::Error
            }
            None => {
                let help = match closest(name, fields::names_of(record)) {
                    Some(near) => format!("did you mean `{record}.{near}`?"),
                    None => format!(
                        "`{record}` has {}",
                        fields::names_of(record)
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let at = parts.get(1).map_or(span, |p| p.span);
                self.push(
                    DiagCode::UnknownField,
                    at,
                    format!("`{record}` has no field `{name}`"),
                    help,
                );
                Ty::Error
            }
        }
    }

    /// PR313 when `field` is `line.region` or `other.region` and `other` is
    /// text that names no region.
    fn region_names(&mut self, field: &Expr, other: &Expr) {
        if let (true, ExprKind::Literal(Literal::Str(text))) =
            (regions::is_region_field(field), &other.kind)
        {
            self.diags.extend(regions::unknown_region(
                self.scope, self.file, text, other.span,
            ));
        }
    }

    fn compare(&mut self, op: &Spanned<CompareOp>, l: Ty, r: Ty, lhs: &Expr, rhs: &Expr) {
        use Ty::*;
        let ordered = !matches!(op.node, CompareOp::Eq | CompareOp::Ne);
        let ok = match (l, r) {
            (Error, _) | (_, Error) => return,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Fact, Fact) => true,
            (Fact, other) | (other, Fact) => matches!(other, Int | Number | Str | Bool | Date),
            (Str, Str) | (Date, Date) => true,
            (Bool, Bool) => !ordered,
            (Procedure | Diagnosis, Str) | (Str, Procedure | Diagnosis) => !ordered,
            (Procedure, Procedure) | (Diagnosis, Diagnosis) => !ordered,
            _ => false,
        };
        if ok {
            return;
        }
        let span = lhs.span.join(rhs.span);
        let (message, help) = if let Some(help) = self.compare_hint(op, l, r, lhs, rhs) {
            (
                format!("cannot compare {} with {}", l.name(), r.name()),
                help,
            )
        } else if ordered
            && matches!(
                (l, r),
                (Bool, Bool) | (Procedure | Diagnosis, Str) | (Str, Procedure | Diagnosis)
            )
        {
            (
                format!("`{}` does not order {}", op.node.symbol(), l.name()),
                "use `==` or `!=`; for codes, use `in` with a code set".to_string(),
            )
        } else {
            (
                format!("cannot compare {} with {}", l.name(), r.name()),
                format!(
                    "both sides of `{}` must be of one type, e.g. a number with a number",
                    op.node.symbol()
                ),
            )
        };
        self.push(DiagCode::TypeMismatch, span, message, help);
    }

    /// A fix for the usual mismatches: a list compared with one value (meant
    /// `has`), a number written in quotes.
    fn compare_hint(
        &self,
        op: &Spanned<CompareOp>,
        l: Ty,
        r: Ty,
        lhs: &Expr,
        rhs: &Expr,
    ) -> Option<String> {
        let list = matches!(l, Ty::StrList | Ty::DiagnosisList);
        if list && op.node == CompareOp::Eq && !matches!(r, Ty::StrList | Ty::DiagnosisList) {
            return Some(format!(
                "to test whether the list holds the value, write `{} has {}`",
                self.source(lhs.span),
                self.source(rhs.span)
            ));
        }
        if list && op.node == CompareOp::Ne {
            return Some(format!(
                "to test that the list lacks the value, write `not {} has {}`",
                self.source(lhs.span),
                self.source(rhs.span)
            ));
        }
        let quoted_number = |ty: Ty, e: &Expr| match &e.kind {
            ExprKind::Literal(Literal::Str(text))
                if ty == Ty::Str && text.parse::<f64>().is_ok() =>
            {
                Some(text.clone())
            }
            _ => None,
        };
        let number = if l.is_numeric() {
            quoted_number(r, rhs)
        } else if r.is_numeric() {
            quoted_number(l, lhs)
        } else {
            None
        };
        number.map(|n| format!("remove the quotes: `{n}` is a number, `\"{n}\"` is text"))
    }

    fn membership(&mut self, op: &Spanned<InOp>, l: Ty, lhs: &Expr, rhs: &InTarget) {
        let is_list = matches!(l, Ty::DiagnosisList | Ty::StrList);
        let quantified = matches!(op.node, InOp::AnyIn | InOp::AllIn);
        if l != Ty::Error && is_list != quantified {
            let (msg, help) = if is_list {
                (
                    format!(
                        "`{}` tests one value, but this is {}",
                        op.node.symbol(),
                        l.name()
                    ),
                    "use `any in` or `all in` for a list",
                )
            } else {
                (
                    format!(
                        "`{}` needs a list on the left, but this is {}",
                        op.node.symbol(),
                        l.name()
                    ),
                    "use `in` for one value",
                )
            };
            self.push(DiagCode::TypeMismatch, op.span, msg, help);
        }
        match rhs {
            InTarget::Set(set) => {
                let Some(kind) = self.set(set) else { return };
                let want = match l {
                    Ty::Procedure => Some(SetKind::Procedure),
                    Ty::Diagnosis | Ty::DiagnosisList => Some(SetKind::Diagnosis),
                    Ty::Fact | Ty::Str | Ty::Error => return,
                    _ => None,
                };
                match want {
                    Some(want) if want != kind => self.push(
                        DiagCode::WrongCodeSystem,
                        set.span(),
                        format!("{} is tested against a {} set", l.name(), kind.name()),
                        match want {
                            SetKind::Procedure => "use a set of `cpt` or `hcpcs` codes here",
                            SetKind::Diagnosis => "use a set of `icd10` codes here",
                        },
                    ),
                    Some(_) => {}
                    None => self.push(
                        DiagCode::TypeMismatch,
                        lhs.span,
                        format!("{} cannot be a member of a code set", l.name()),
                        "code sets hold procedure or diagnosis codes",
                    ),
                }
            }
            InTarget::List(items, _) => {
                for item in items {
                    let t = self.literal(&item.node, item.span);
                    let ok = match (l, t) {
                        (Ty::Error, _) | (_, Ty::Error) | (Ty::Fact, _) => true,
                        (a, b) if a.is_numeric() && b.is_numeric() => true,
                        (
                            Ty::Str
                            | Ty::StrList
                            | Ty::Procedure
                            | Ty::Diagnosis
                            | Ty::DiagnosisList,
                            Ty::Str,
                        ) => true,
                        (a, b) => a == b,
                    };
                    if !ok {
                        let text_tested = matches!(
                            l,
                            Ty::Str
                                | Ty::StrList
                                | Ty::Procedure
                                | Ty::Diagnosis
                                | Ty::DiagnosisList
                        );
                        let help = if text_tested && t.is_numeric() {
                            format!("write it in quotes: `\"{}\"`", self.source(item.span))
                        } else {
                            format!("list items must be {}, like the value tested", l.name())
                        };
                        self.push(
                            DiagCode::TypeMismatch,
                            item.span,
                            format!(
                                "this list item is {}, but the value tested is {}",
                                t.name(),
                                l.name()
                            ),
                            help,
                        );
                    }
                }
            }
        }
    }
}

/// `other.procedure`, `other.site`, ...: the fields of a same-day service.
fn history_field_names() -> String {
    let names: Vec<String> = fields::FIELDS
        .iter()
        .filter(|f| f.record == "line" && fields::HISTORY_FIELDS.contains(&f.id))
        .map(|f| format!("`other.{}`", f.name))
        .collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// "a date", "a whole number": what a field holds, for help lines.
fn def_name(record: &str, name: &str) -> &'static str {
    fields::lookup(record, name).map_or("a value", |d| d.ty.name())
}
