//! Check: names, types, codes and headers of a workspace -> diagnostics.
//!
//! The checker reads the tree and reports; it never changes it. A workspace with
//! no errors is safe to compile: the compiler relies on every name resolving and
//! every type fitting.

pub mod codes;
pub mod exprs;
pub mod lints;
mod measures;
mod payer_ids;
mod regions;
pub mod scope;
pub mod suggest;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::codes::icd10::{self, YearSet};
use crate::diagnostic::{DiagCode, Diagnostic, SourceFile};
use crate::syntax::ast::{
    Action, Check, CheckKind, HeaderKind, Item, Module, ModuleKind, Period, Rule, SetExpr, Verb,
};
use crate::syntax::{Span, Spanned, SyntaxError};
use crate::workspace::Workspace;
use exprs::ExprChecker;
use scope::{Scope, SetKind};

/// Checks every file of the workspace; diagnostics come sorted by file and position.
pub fn check_workspace(ws: &Workspace) -> Vec<Diagnostic> {
    check(ws).diagnostics
}

/// A workspace after the checker: its diagnostics, and each module's resolved
/// scope (its code sets and rules, imported ones included), which the compiler
/// consumes rather than resolving the names again.
#[derive(Debug)]
pub struct Checked<'w> {
    /// The files checked.
    pub ws: &'w Workspace,
    /// Errors and warnings, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The scope of each unit with a module, by unit index.
    scopes: Vec<Option<Scope<'w>>>,
}

impl<'w> Checked<'w> {
    /// True when any diagnostic is an error: such a workspace is not compiled.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The scope of unit `unit`, when it holds a module.
    pub fn scope(&self, unit: usize) -> Option<&Scope<'w>> {
        self.scopes.get(unit).and_then(Option::as_ref)
    }
}

/// Checks every file of a workspace: syntax errors, headers, names, types,
/// codes, and the lints.
pub fn check(ws: &Workspace) -> Checked<'_> {
    let mut diags = Vec::new();
    let mut scopes = Vec::with_capacity(ws.units.len());
    for (i, unit) in ws.units.iter().enumerate() {
        scopes.push(None);
        let from = diags.len();
        for err in &unit.syntax_errors {
            diags.push(
                Diagnostic::new(
                    if err.internal {
                        DiagCode::Internal
                    } else {
                        DiagCode::Syntax
                    },
                    &unit.file,
                    err.span,
                    err.message(),
                )
                .with_help(syntax_help(err)),
            );
        }
        let Some(module) = unit.module() else {
            continue;
        };
        // With syntax errors, a header line may be missing only because it did not parse.
        check_header(
            module,
            &unit.file,
            unit.syntax_errors.is_empty(),
            &mut diags,
        );
        let scope = Scope::build(ws, i, &mut diags);
        check_items(module, &scope, &unit.file, &mut diags);
        regions::check_overlaps(ws, &scope, &unit.file, &mut diags);
        let cx = lints::ModuleCx {
            module,
            scope: &scope,
            file: &unit.file,
            clean: !diags.iter().skip(from).any(Diagnostic::is_error),
        };
        lints::check_module(&cx, &mut diags);
        if let Some(slot) = scopes.last_mut() {
            *slot = Some(scope);
        }
    }
    check_duplicate_policies(ws, &mut diags);
    payer_ids::check_payer_id_owners(ws, &mut diags);
    lints::check_workspace(ws, &mut diags);
    sort(&mut diags);
    Checked {
        ws,
        diagnostics: diags,
        scopes,
    }
}

/// How to fix a syntax error: the parser's own advice when it has some, else a
/// fix for a common slip (`&&`, `=`, a misspelled keyword, a missing `else`).
fn syntax_help(err: &SyntaxError) -> String {
    if let Some(help) = &err.help {
        return help.clone();
    }
    let found = err.found.as_deref().unwrap_or("");
    let expects = |what: &str| err.expected.iter().any(|e| e == what);
    match found {
        "&&" | "&" => return "join conditions with `and`".into(),
        "||" | "|" => return "join conditions with `or`".into(),
        "=" => return "compare with `==`, e.g. `claim.place_of_service == \"11\"`".into(),
        "!" => return "negate a condition with `not`".into(),
        _ => {}
    }
    // Every backticked word the parser would have taken: a near miss is a typo.
    let words: Vec<&str> = err
        .expected
        .iter()
        .flat_map(|e| e.split('`').skip(1).step_by(2))
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    if let Some(near) = suggest::closest(found, words.iter().copied()).filter(|near| *near != found)
    {
        return format!("did you mean `{near}`?");
    }
    if expects("`else`") && matches!(found, "deny" | "review" | "allow") {
        return format!("write `else` before the action: `else {found} CO-50`");
    }
    if expects("`else`") {
        return "end the check with `else` and an action, e.g. `require line.units <= 1 else deny CO-151`".into();
    }
    if expects("`days`") {
        return "write the period as `per day` or `per N days`, e.g. `limit tpi to 3 per 365 days`"
            .into();
    }
    if expects("a quoted string")
        && err.expected.len() == 1
        && !found.starts_with('"')
        && !found.is_empty()
    {
        return format!("put the text in double quotes: `\"{found}\"`");
    }
    if expects("`+`")
        && found
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return "separate codes with `,` and combine code sets with `+` or `-`: `cpt 20552, 20553`, `tpi + drugs`".into();
    }
    if expects("`codes`") || expects("a code set (`codes`)") {
        return "a module holds header lines (`payer`, `version`, `effective`, `source`), code sets (`codes`), regions (`region`) and rules (`rule`)"
            .into();
    }
    if expects("a condition") {
        return "write a condition, e.g. `line.procedure in tpi` or `line.units > 1`".into();
    }
    if err.expected.iter().any(|e| e.starts_with("a value")) {
        return "write a value here: a field such as `line.units`, a number such as `1`, a quoted string or a date".into();
    }
    "see docs/language.md for the form of each item".into()
}

/// Orders diagnostics by file, then position, then code.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.file.path.as_str(), a.span.start, a.code.code()).cmp(&(
            b.file.path.as_str(),
            b.span.start,
            b.code.code(),
        ))
    });
}

/// The ICD-10-CM years a module's code lists are checked against: those of its
/// `effective` dates, every year of the table for a library (it has no dates:
/// the policies that import it do) or for dates it cannot read.
#[derive(Clone, Debug)]
pub struct InForce {
    /// The table's years.
    pub years: YearSet,
    /// The policy's `effective` range as written (`2024-04-01..`), for
    /// messages; `None` for a library.
    pub dates: Option<String>,
}

impl InForce {
    /// The years of `module`'s `effective` header.
    pub fn of(module: &Module) -> InForce {
        let every = InForce {
            years: YearSet::ALL,
            dates: None,
        };
        let Some((from, to)) = module.header.iter().find_map(|item| match &item.kind {
            HeaderKind::Effective { from, to } => Some((from, to)),
            _ => None,
        }) else {
            return every;
        };
        let Some(start) = parse_date(&from.node) else {
            return every;
        };
        let end = match to {
            Some(to) => match parse_date(&to.node) {
                Some(end) => Some(end),
                None => return every,
            },
            None => None,
        };
        let years = icd10::years_between(start, end);
        if years.is_empty() {
            // Entirely before ICD-10-CM: no year to check against (the codes
            // are still checked to exist).
            return every;
        }
        InForce {
            years,
            dates: Some(format!(
                "{}..{}",
                from.node,
                to.as_ref().map(|t| t.node.as_str()).unwrap_or_default()
            )),
        }
    }
}

/// The date of a header or literal, if valid.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn check_header(
    module: &Module,
    file: &Arc<SourceFile>,
    complete: bool,
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for item in &module.header {
        let keyword = item.kind.keyword();
        if let Some(first) = seen.get(keyword) {
            diags.push(
                Diagnostic::new(DiagCode::DuplicateHeader, file, item.span, format!("`{keyword}` is given twice"))
                    .with_related(*first, "first given here")
                    .with_help(match keyword {
                        "payer" => "list every payer in one line: `payer medicare, medicare-rr`",
                        "effective" => "a new effective range is a new version: put it in its own file with its own `version`",
                        _ => "keep one of them",
                    }),
            );
            continue;
        }
        seen.insert(keyword, item.span);
        if module.kind == ModuleKind::Library
            && matches!(
                item.kind,
                HeaderKind::Payer(_) | HeaderKind::PayerIds(_) | HeaderKind::Effective { .. }
            )
        {
            diags.push(
                Diagnostic::new(DiagCode::HeaderInLibrary, file, item.span, format!("a library cannot have `{keyword}`"))
                    .with_help("libraries are not selected for claims; give payers and dates in the policies that import it"),
            );
        }
        if let HeaderKind::Effective { from, to } = &item.kind {
            check_effective(from, to.as_ref(), file, diags);
        }
    }
    if module.kind == ModuleKind::Library || !complete {
        return;
    }
    let at = module.id.span;
    let missing: Vec<(&str, &str)> = [
        ("payer", "payer medicare"),
        ("version", "version \"2026.1\""),
        ("effective", "effective 2024-04-01.."),
    ]
    .into_iter()
    .filter(|(keyword, _)| !seen.contains_key(keyword))
    .collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|(k, _)| format!("`{k}`")).collect();
        let examples: Vec<String> = missing.iter().map(|(_, e)| format!("`{e}`")).collect();
        let (them, lines) = if missing.len() == 1 {
            ("it", "a line such as")
        } else {
            ("them", "lines such as")
        };
        diags.push(
            Diagnostic::new(
                DiagCode::MissingHeader,
                file,
                at,
                format!("policy `{}` has no {}", module.id.node, join_or(&names)),
            )
            .with_help(format!(
                "add {them} at the top of the policy: {lines} {}",
                examples.join(", ")
            )),
        );
    }
    if !seen.contains_key("source") {
        diags.push(
            Diagnostic::new(
                DiagCode::MissingSource,
                file,
                at,
                format!("policy `{}` does not cite its source", module.id.node),
            )
            .with_help("add `source \"...\"` naming the payer document (LCD, policy number, URL)"),
        );
    }
}

/// "`a`, `b` or `c`".
fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn check_effective(
    from: &Spanned<String>,
    to: Option<&Spanned<String>>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut date = |d: &Spanned<String>| {
        let parsed = parse_date(&d.node);
        if parsed.is_none() {
            diags.push(
                Diagnostic::new(
                    DiagCode::InvalidDate,
                    file,
                    d.span,
                    format!("`{}` is not a valid date", d.node),
                )
                .with_help("dates are YYYY-MM-DD with a real month and day"),
            );
        }
        parsed
    };
    let start = date(from);
    let end = to.and_then(&mut date);
    if let (Some(start), Some(end), Some(to)) = (start, end, to) {
        if end < start {
            diags.push(
                Diagnostic::new(
                    DiagCode::ReversedDates,
                    file,
                    from.span.join(to.span),
                    format!("the policy ends on {end}, before it starts on {start}"),
                )
                .with_help(
                    "write the first date of service covered, then `..`, then the last (inclusive)",
                ),
            );
        }
    }
}

fn check_items(
    module: &Module,
    scope: &Scope<'_>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let in_force = InForce::of(module);
    for item in &module.items {
        match item {
            Item::Codes(decl) => {
                check_set_literals(&decl.expr, &in_force, file, diags);
                ExprChecker::new(scope, file, diags).set(&decl.expr);
                if scope.is_circular(&decl.name.node) {
                    diags.push(
                        Diagnostic::new(
                            DiagCode::UnknownCodeSet,
                            file,
                            decl.name.span,
                            format!(
                                "code set `{}` is defined in terms of itself",
                                decl.name.node
                            ),
                        )
                        .with_help("a set can only use sets that do not use it"),
                    );
                }
            }
            Item::Region(decl) => {
                check_set_literals(&decl.expr, &in_force, file, diags);
                regions::check_decl(decl, scope, file, diags);
            }
            Item::Rule(rule) => check_rule(rule, scope, &in_force, file, diags),
        }
    }
}

fn check_set_literals(
    expr: &SetExpr,
    in_force: &InForce,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    match expr {
        SetExpr::Literal(list) => codes::check_list(list, in_force, file, diags),
        SetExpr::Ref(_) => {}
        SetExpr::Chain { .. } => {
            for (_, term) in expr.terms() {
                check_set_literals(term, in_force, file, diags);
            }
        }
    }
}

/// Code lists written inside a rule (`line.procedure in cpt 20560, 20561`).
fn check_inline_sets(
    expr: &crate::syntax::ast::Expr,
    in_force: &InForce,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    use crate::syntax::ast::{ExprKind, InTarget};
    match &expr.kind {
        ExprKind::Or(parts) | ExprKind::And(parts) => parts
            .iter()
            .for_each(|p| check_inline_sets(p, in_force, file, diags)),
        ExprKind::Not(e) => check_inline_sets(e, in_force, file, diags),
        ExprKind::Compare { lhs, rhs, .. } | ExprKind::Has { lhs, rhs } => {
            check_inline_sets(lhs, in_force, file, diags);
            check_inline_sets(rhs, in_force, file, diags);
        }
        ExprKind::In { lhs, rhs, .. } => {
            check_inline_sets(lhs, in_force, file, diags);
            if let InTarget::Set(set) = rhs {
                check_set_literals(set, in_force, file, diags);
            }
        }
        ExprKind::Exists { operand, .. } => check_inline_sets(operand, in_force, file, diags),
        ExprKind::Quantified { body, .. } => check_inline_sets(body, in_force, file, diags),
        ExprKind::Count { set, .. } => check_set_literals(set, in_force, file, diags),
        ExprKind::Field(_) | ExprKind::Literal(_) => {}
    }
}

fn check_rule(
    rule: &Rule,
    scope: &Scope<'_>,
    in_force: &InForce,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    for cond in &rule.when {
        check_inline_sets(cond, in_force, file, diags);
        ExprChecker::new(scope, file, diags).condition(cond);
    }
    if rule.checks.is_empty() {
        diags.push(
            Diagnostic::new(DiagCode::RuleWithoutCheck, file, rule.id.span, format!("rule `{}` has no check or action", rule.id.node))
                .with_help("add `require CONDITION else deny CO-..`, a `limit`, an `interval`, or an action such as `deny CO-50`"),
        );
    }
    let mut always_at: Option<Span> = None;
    for check in &rule.checks {
        if let Some(at) = always_at {
            diags.push(
                Diagnostic::new(
                    DiagCode::UnreachableCheck,
                    file,
                    check.span,
                    "this check can never run".to_string(),
                )
                .with_related(at, "this action fires whenever the rule applies")
                .with_help(
                    "put checks before the bare action, or move the action into `require ... else`",
                ),
            );
        }
        match &check.kind {
            CheckKind::Require(cond) => {
                check_inline_sets(cond, in_force, file, diags);
                ExprChecker::new(scope, file, diags).condition(cond);
            }
            CheckKind::Limit {
                set,
                max,
                period,
                per_region,
                measure,
                bilateral,
                modifiers,
                ..
            } => {
                check_set_literals(set, in_force, file, diags);
                counted_set(set, scope, file, diags);
                diags.extend(regions::per_region(*per_region, scope, file));
                measures::with_modifiers(modifiers.as_ref(), file, diags);
                // The whole period is underlined and quoted, as it always was.
                if let Period::Rolling { length, .. } | Period::Anchored { length, .. } =
                    &period.node
                {
                    positive(
                        &Spanned::new(length.node, period.span),
                        "a window",
                        true,
                        file,
                        diags,
                    );
                }
                let measure = measure.as_ref().map(|m| m.node);
                measures::limit_max(max, measure, file, diags);
                if let Some(k) = bilateral {
                    measures::bilateral_clause(k, measure, "limit", file, diags);
                }
            }
            CheckKind::Interval {
                set,
                period,
                per_region,
                modifiers,
                ..
            } => {
                check_set_literals(set, in_force, file, diags);
                counted_set(set, scope, file, diags);
                diags.extend(regions::per_region(*per_region, scope, file));
                measures::with_modifiers(modifiers.as_ref(), file, diags);
                match &period.node {
                    Period::Rolling { length, .. } => {
                        positive(length, "an interval", true, file, diags);
                    }
                    Period::CalendarYear | Period::Anchored { .. } => {
                        calendar_interval(check, period, file, diags);
                    }
                }
            }
            CheckKind::Always => always_at = Some(check.span),
        }
        check_action(&check.action, file, diags);
    }
}

/// PR310: `interval ... at least calendar year` or `... from first`. An
/// interval is the time since the latest earlier service, which a calendar
/// year or an anchored period does not measure; the limit of one per period
/// says what such a rule means.
fn calendar_interval(
    check: &Check,
    period: &Spanned<Period>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let CheckKind::Interval { set, .. } = &check.kind else {
        return;
    };
    let written = file.written(period.span);
    let set = file.written(set.span());
    let help = match &period.node {
        Period::Anchored { length, unit } => format!(
            "for at most one service per anchored period write `limit {set} to 1 per {written}`; for time since the last service, `interval {set} at least {} {}`",
            length.node,
            unit.word()
        ),
        _ => format!(
            "for at most one service per calendar year write `limit {set} to 1 per calendar year`; for time since the last service, `interval {set} at least 12 months`"
        ),
    };
    diags.push(
        Diagnostic::new(
            DiagCode::CalendarInterval,
            file,
            period.span,
            format!("an interval cannot be `{written}`"),
        )
        .with_label("an interval is a length of time since the last service")
        .with_help(help),
    );
}

fn counted_set(
    set: &SetExpr,
    scope: &Scope<'_>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut cx = ExprChecker::new(scope, file, diags);
    if cx.set(set) == Some(SetKind::Diagnosis) {
        diags.push(
            Diagnostic::new(
                DiagCode::WrongCodeSystem,
                file,
                set.span(),
                "limits count services, but this is a diagnosis set".to_string(),
            )
            .with_help("limit a set of procedure codes (`cpt` or `hcpcs`)"),
        );
    }
}

/// The most a limit, a limit's period or an interval may be (PR211).
pub(crate) const MOST_LENGTH: u32 = 100_000;
/// The longest a count's window may be (PR211), in days.
pub(crate) const MOST_WINDOW_DAYS: u32 = 36_600;
/// The longest a count's window may be (PR211), in months.
pub(crate) const MOST_WINDOW_MONTHS: u32 = 1_200;

/// A count or a length from 1 to 100000. `period`: the span covers a number
/// and its unit (`3 months`, `day`). The message quotes the text as written,
/// so it names the unit used and a number too large for any integer type.
fn positive(
    n: &Spanned<u32>,
    what: &str,
    period: bool,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    if n.node == 0 || n.node > MOST_LENGTH {
        let mut end = n.span.end;
        // An interval's span is its number alone: take in the unit after it.
        let digits_only = file
            .text
            .get(n.span.start..end)
            .is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit()));
        if period && digits_only {
            let rest = file.text.get(end..).unwrap_or("");
            let word = rest.trim_start();
            if word.starts_with(char::is_alphabetic) {
                let len = word
                    .find(|c: char| !c.is_alphabetic())
                    .unwrap_or(word.len());
                end += rest.len() - word.len() + len;
            }
        }
        let written = file.text.get(n.span.start..end).unwrap_or("");
        let help = if period {
            "write a length from 1 to 100000 days or months, e.g. `per 12 months`"
        } else {
            "write a whole number from 1 to 100000"
        };
        diags.push(
            Diagnostic::new(
                DiagCode::NumberOutOfRange,
                file,
                n.span,
                format!("{what} of `{written}` is out of range"),
            )
            .with_help(help),
        );
    }
}

const CARC_GROUPS: [&str; 5] = ["CO", "PR", "OA", "PI", "CR"];

fn check_action(action: &Action, file: &Arc<SourceFile>, diags: &mut Vec<Diagnostic>) {
    match &action.carc {
        None if action.verb.node != Verb::Allow => diags.push(
            Diagnostic::new(
                DiagCode::InvalidCarc,
                file,
                action.verb.span,
                "a denial or review needs a group and reason code".to_string(),
            )
            .with_help("add one after the verb, e.g. `deny CO-50 rarc N115`"),
        ),
        None => {}
        Some(carc) => {
            let ok = carc_ok(&carc.node);
            if !ok {
                let upper = carc.node.to_ascii_uppercase();
                let help = if upper != carc.node && carc_ok(&upper) {
                    format!("group and reason codes are written in capitals: `{upper}`")
                } else {
                    "write a group (`CO`, `PR`, `OA`, `PI` or `CR`), a dash and the CARC: `CO-50`, `CO-B15`".to_string()
                };
                diags.push(
                    Diagnostic::new(
                        DiagCode::InvalidCarc,
                        file,
                        carc.span,
                        format!("`{}` is not a group and reason code", carc.node),
                    )
                    .with_help(help),
                );
            }
        }
    }
    for rarc in &action.rarc {
        let text = rarc.node.as_str();
        if !rarc_ok(text) {
            let upper = text.to_ascii_uppercase();
            let help = if upper != text && rarc_ok(&upper) {
                format!("remark codes are written in capitals: `{upper}`")
            } else {
                "remark codes are 1-2 capital letters and 1-4 digits: `N115`, `M80`, `MA130`"
                    .to_string()
            };
            diags.push(
                Diagnostic::new(
                    DiagCode::InvalidRarc,
                    file,
                    rarc.span,
                    format!("`{text}` is not a remark code"),
                )
                .with_help(help),
            );
        }
    }
}

/// `CO-50`: a group, a dash and a reason code of 1-3 capitals or digits.
fn carc_ok(text: &str) -> bool {
    let (group, reason) = text.split_once('-').unwrap_or(("", ""));
    CARC_GROUPS.contains(&group)
        && (1..=3).contains(&reason.len())
        && reason
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// `N115`: 1-2 capitals and 1-4 digits.
fn rarc_ok(text: &str) -> bool {
    let letters = text.chars().take_while(char::is_ascii_uppercase).count();
    let digits = &text[letters..];
    (1..=2).contains(&letters)
        && (1..=4).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
}

fn check_duplicate_policies(ws: &Workspace, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(String, String), (usize, Span)> = HashMap::new();
    for (i, unit) in ws.units.iter().enumerate() {
        let Some(module) = unit.module() else {
            continue;
        };
        if module.kind != ModuleKind::Policy {
            continue;
        }
        let version = module
            .header
            .iter()
            .find_map(|h| match &h.kind {
                HeaderKind::Version(v) => Some(v.node.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let key = (module.id.node.clone(), version.clone());
        if let Some((first, _)) = seen.get(&key) {
            diags.push(
                Diagnostic::new(
                    DiagCode::DuplicatePolicy,
                    &unit.file,
                    module.id.span,
                    format!(
                        "policy `{}` version \"{version}\" is also defined in `{}`",
                        module.id.node,
                        ws.units.get(*first).map_or("", |u| u.file.path.as_str())
                    ),
                )
                .with_help("give the new version its own `version`, or remove one of the files"),
            );
        } else {
            seen.insert(key, (i, module.id.span));
        }
    }
}

#[cfg(test)]
mod tests;
