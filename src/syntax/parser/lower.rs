//! Lowering pest pairs to tree nodes, one method of [`Lower`] per grammar
//! rule.

use super::*;

mod expr;

// ------------------------------------------------------------------ lowering

/// Lowers pest pairs to tree nodes, one method per grammar rule. `offset` moves
/// spans when a piece of the file is parsed on its own.
pub(super) struct Lower {
    pub(super) offset: usize,
    /// Where the tree had a shape the grammar cannot produce (a limit without
    /// its number, an expression without its parts): each becomes an internal
    /// error (PR901), so that the placeholder put in its place is never
    /// compiled or evaluated.
    surprises: std::cell::RefCell<Vec<Span>>,
}

impl Lower {
    /// Lowers pairs of a text that starts `offset` bytes into its file.
    pub(super) fn new(offset: usize) -> Lower {
        Lower {
            offset,
            surprises: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The internal errors met while lowering, in source order.
    pub(super) fn surprises(&self) -> Vec<SyntaxError> {
        let mut spans = self.surprises.take();
        spans.sort_by_key(|s| s.start);
        spans.into_iter().map(SyntaxError::internal).collect()
    }

    /// A placeholder for a node the grammar guarantees and the pairs lack,
    /// with an internal error recorded at `span`.
    fn missing(&self, span: Span) -> Expr {
        self.surprises.borrow_mut().push(span);
        Expr {
            kind: ExprKind::Literal(Literal::Bool(true)),
            span,
        }
    }
}

fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}

/// The meaningful children of a pair: keywords are left out.
fn kids(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

/// `text` without trailing whitespace and `//` comments.
pub(super) fn without_trailing_trivia(text: &str) -> &str {
    let mut text = text.trim_end();
    loop {
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let Some(comment) = comment_start(&text[line_start..]) else {
            return text;
        };
        let cut = text[..line_start + comment].trim_end();
        if cut.is_empty() {
            return text;
        }
        text = cut;
    }
}

/// Where a `//` comment starts in one line, outside strings.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Lower {
    /// A pair's span without the whitespace and comments pest leaves at its end
    /// (it skips them before trying an optional or repeated part that is absent).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let len = without_trailing_trivia(s.as_str()).len();
        Span::new(s.start() + self.offset, s.start() + len + self.offset)
    }

    /// The span of an item from its keyword on: doc comments before it are left
    /// out, so locations point at `rule` / `codes`.
    fn item_span(&self, pair: &Pair<'_, Rule>) -> Span {
        let whole = self.span(pair);
        let start = pair
            .clone()
            .into_inner()
            .find(|p| p.as_rule() != Rule::doc)
            .map_or(whole.start, |p| p.as_span().start() + self.offset);
        Span::new(start, whole.end)
    }

    fn spanned<T>(&self, pair: &Pair<'_, Rule>, node: T) -> Spanned<T> {
        Spanned::new(node, self.span(pair))
    }

    fn text(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        self.spanned(pair, pair.as_str().to_string())
    }

    fn string(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        let inner = pair.as_str();
        let raw = inner.get(1..inner.len().saturating_sub(1)).unwrap_or("");
        self.spanned(pair, unescape(raw))
    }

    pub(super) fn file(&self, pair: Pair<'_, Rule>) -> File {
        let mut imports = Vec::new();
        let mut module = None;
        for p in kids(pair) {
            match p.as_rule() {
                Rule::import => imports.extend(kids(p).next().map(|s| self.string(&s))),
                Rule::module => module = Some(self.module(p)),
                _ => {}
            }
        }
        File { imports, module }
    }

    /// `head`: imports and a module's opening line, for recovery.
    pub(super) fn head(&self, pair: Pair<'_, Rule>) -> (Vec<Spanned<String>>, Module) {
        let span = self.span(&pair);
        let mut imports = Vec::new();
        let mut module = empty_module(span);
        let mut module_start = None;
        for p in kids(pair) {
            match p.as_rule() {
                Rule::import => imports.extend(kids(p).next().map(|s| self.string(&s))),
                Rule::doc => {
                    module_start.get_or_insert(self.span(&p).start);
                    module.doc.push(doc_text(p.as_str()));
                }
                Rule::module_kind => {
                    module_start.get_or_insert(self.span(&p).start);
                    module.kind = module_kind(p);
                }
                Rule::name => module.id = self.text(&p),
                Rule::string => module.title = Some(self.string(&p)),
                _ => {}
            }
        }
        module.span = Span::new(module_start.unwrap_or(span.start), span.end);
        (imports, module)
    }

    fn module(&self, pair: Pair<'_, Rule>) -> Module {
        let span = self.span(&pair);
        let mut module = empty_module(span);
        for p in kids(pair) {
            match p.as_rule() {
                Rule::doc => module.doc.push(doc_text(p.as_str())),
                Rule::module_kind => module.kind = module_kind(p),
                Rule::name => module.id = self.text(&p),
                Rule::string => module.title = Some(self.string(&p)),
                _ => match self.module_item(p) {
                    Piece::Header(h) => module.header.push(h),
                    Piece::Item(i) => module.items.push(i),
                },
            }
        }
        module
    }

    pub(super) fn module_item(&self, pair: Pair<'_, Rule>) -> Piece {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::codes_decl => Piece::Item(Item::Codes(self.codes_decl(pair))),
            Rule::region_decl => Piece::Item(Item::Region(self.region_decl(pair))),
            Rule::rule_decl => Piece::Item(Item::Rule(self.rule_decl(pair))),
            _ => Piece::Header(Header {
                kind: self.header_kind(pair),
                span,
            }),
        }
    }

    fn header_kind(&self, pair: Pair<'_, Rule>) -> HeaderKind {
        let rule = pair.as_rule();
        let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
        match rule {
            Rule::payer_decl => HeaderKind::Payer(parts.iter().map(|p| self.text(p)).collect()),
            Rule::payer_ids_decl => {
                HeaderKind::PayerIds(parts.iter().map(|p| self.string(p)).collect())
            }
            Rule::version_decl => HeaderKind::Version(self.first_string(&parts)),
            Rule::source_decl => HeaderKind::Source(self.first_string(&parts)),
            _ => {
                let mut dates = parts.iter().map(|p| self.text(p));
                let from = dates.next().unwrap_or_default_spanned();
                HeaderKind::Effective {
                    from,
                    to: dates.next(),
                }
            }
        }
    }

    fn first_string(&self, parts: &[Pair<'_, Rule>]) -> Spanned<String> {
        parts
            .first()
            .map(|p| self.string(p))
            .unwrap_or_else(|| Spanned::new(String::new(), Span::default()))
    }

    fn codes_decl(&self, pair: Pair<'_, Rule>) -> CodeSetDecl {
        let span = self.item_span(&pair);
        let mut doc = Vec::new();
        let mut name = Spanned::new(String::new(), span);
        let mut expr = None;
        for p in kids(pair) {
            match p.as_rule() {
                Rule::doc => doc.push(doc_text(p.as_str())),
                Rule::name => name = self.text(&p),
                _ => expr = Some(self.set_expr(p)),
            }
        }
        let expr = expr.unwrap_or_else(|| SetExpr::Ref(name.clone()));
        CodeSetDecl {
            name,
            doc,
            expr,
            span,
        }
    }

    /// `region NAME = SET`, read as a code set is.
    fn region_decl(&self, pair: Pair<'_, Rule>) -> RegionDecl {
        let CodeSetDecl {
            name,
            doc,
            expr,
            span,
        } = self.codes_decl(pair);
        RegionDecl {
            name,
            doc,
            expr,
            span,
        }
    }

    /// `set_expr` or any `set_term` (a list, a name, a parenthesized expression).
    fn set_expr(&self, pair: Pair<'_, Rule>) -> SetExpr {
        match pair.as_rule() {
            Rule::code_list => SetExpr::Literal(self.code_list(pair)),
            Rule::set_name => {
                let name = kids(pair).next();
                SetExpr::Ref(
                    name.map(|n| self.text(&n))
                        .unwrap_or_else(|| Spanned::new(String::new(), Span::default())),
                )
            }
            _ => {
                let mut parts = kids(pair);
                let Some(first) = parts.next() else {
                    return SetExpr::Ref(Spanned::new(String::new(), Span::default()));
                };
                let first = self.set_expr(first);
                let mut span = first.span();
                let mut rest = Vec::new();
                while let (Some(op), Some(rhs)) = (parts.next(), parts.next()) {
                    let rhs = self.set_expr(rhs);
                    let op = if op.as_str() == "+" {
                        SetOp::Union
                    } else {
                        SetOp::Difference
                    };
                    span = span.join(rhs.span());
                    rest.push((op, rhs));
                }
                if rest.is_empty() {
                    return first;
                }
                SetExpr::Chain {
                    first: Box::new(first),
                    rest,
                    span,
                }
            }
        }
    }

    fn code_list(&self, pair: Pair<'_, Rule>) -> CodeList {
        let span = self.span(&pair);
        let mut system = Spanned::new(CodeSystem::Cpt, span);
        let mut entries = Vec::new();
        for p in kids(pair) {
            match p.as_rule() {
                Rule::code_system => {
                    let s = match p.as_str() {
                        "hcpcs" => CodeSystem::Hcpcs,
                        "icd10" => CodeSystem::Icd10,
                        _ => CodeSystem::Cpt,
                    };
                    system = self.spanned(&p, s);
                }
                Rule::code_range => {
                    let mut ends = kids(p.clone()).map(|c| c.as_str().to_string());
                    let lo = ends.next().unwrap_or_default();
                    let hi = ends.next().unwrap_or_default();
                    entries.push(self.spanned(&p, CodeEntry::Range(lo, hi)));
                }
                Rule::code_prefix => {
                    let text = p.as_str().trim_end_matches('*').to_string();
                    entries.push(self.spanned(&p, CodeEntry::Prefix(text)));
                }
                _ => entries.push(self.spanned(&p, CodeEntry::Code(p.as_str().to_string()))),
            }
        }
        CodeList {
            system,
            entries,
            span,
        }
    }

    fn rule_decl(&self, pair: Pair<'_, Rule>) -> Rule_ {
        let span = self.item_span(&pair);
        let mut rule = Rule_ {
            id: Spanned::new(String::new(), span),
            title: None,
            doc: Vec::new(),
            when: Vec::new(),
            checks: Vec::new(),
            span,
        };
        for p in kids(pair) {
            match p.as_rule() {
                Rule::doc => rule.doc.push(doc_text(p.as_str())),
                Rule::name => rule.id = self.text(&p),
                Rule::string => rule.title = Some(self.string(&p)),
                Rule::when_clause => rule.when.extend(kids(p).next().map(|e| self.expr(e))),
                _ => rule.checks.push(self.check(p)),
            }
        }
        rule
    }

    fn check(&self, pair: Pair<'_, Rule>) -> Check {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        if rule == Rule::action {
            return Check {
                kind: CheckKind::Always,
                action: self.action(pair),
                span,
            };
        }
        let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
        let action = parts
            .iter()
            .rev()
            .find(|p| p.as_rule() == Rule::action)
            .map(|p| self.action(p.clone()))
            .unwrap_or_else(|| self.empty_action(span));
        // A check the grammar could not have produced (a limit without its
        // number, say) is an internal error, with a placeholder in its place.
        let unconditional = || CheckKind::Require(self.missing(span));
        let kind = match (rule, parts.as_slice()) {
            (Rule::require_check, parts) => match parts.first() {
                Some(p) => CheckKind::Require(self.expr(p.clone())),
                None => unconditional(),
            },
            (Rule::limit_check, [set, rest @ ..]) => {
                let (measure, rest) = self.measure(rest);
                match rest {
                    [max, period, rest @ ..] => {
                        let set = self.set_expr(set.clone());
                        let max = self.limit_max(max);
                        let period = self.period(period.clone());
                        let (per_code, per_region, scope) = self.scopes(rest);
                        CheckKind::Limit {
                            set,
                            max,
                            measure,
                            bilateral: self.bilateral(rest),
                            period,
                            per_code,
                            per_region,
                            scope,
                            modifiers: self.with_modifiers(rest),
                        }
                    }
                    _ => unconditional(),
                }
            }
            (Rule::limit_check, _) => unconditional(),
            (_, [set, length, rest @ ..]) => {
                let set = self.set_expr(set.clone());
                let period = self.length(length.clone());
                let (per_code, per_region, scope) = self.scopes(rest);
                CheckKind::Interval {
                    set,
                    period,
                    per_code,
                    per_region,
                    scope,
                    modifiers: self.with_modifiers(rest),
                }
            }
            _ => unconditional(),
        };
        Check { kind, action, span }
    }

    fn integer(&self, pair: &Pair<'_, Rule>) -> Spanned<u32> {
        // The grammar admits only digits; an overflowing number saturates and the
        // checker reports it as out of range.
        self.spanned(pair, pair.as_str().parse::<u32>().unwrap_or(u32::MAX))
    }

    /// A limit's most: a whole number that fits 32 bits, else the decimal
    /// written (the grammar admits digits with an optional fraction).
    fn limit_max(&self, pair: &Pair<'_, Rule>) -> Spanned<LimitMax> {
        let text = pair.as_str();
        let max = match text.parse::<u32>() {
            Ok(n) => LimitMax::Whole(n),
            Err(_) => LimitMax::Decimal(rust_decimal::Decimal::from_str_exact(text).ok()),
        };
        self.spanned(pair, max)
    }

    /// The optional `units`, `charges` or `dates` first among `parts`, and
    /// the parts after it.
    fn measure<'p, 'i>(
        &self,
        parts: &'p [Pair<'i, Rule>],
    ) -> (Option<Spanned<Measure>>, &'p [Pair<'i, Rule>]) {
        match parts.split_first() {
            Some((p, rest)) if p.as_rule() == Rule::measure => {
                let measure = if p.as_str().starts_with("charges") {
                    Measure::Charges
                } else if p.as_str().starts_with("dates") {
                    Measure::Dates
                } else {
                    Measure::Units
                };
                (Some(self.spanned(p, measure)), rest)
            }
            _ => (None, parts),
        }
    }

    /// The K of a `bilateral as K` among `parts`, spanning the clause.
    fn bilateral(&self, parts: &[Pair<'_, Rule>]) -> Option<Spanned<u32>> {
        let clause = parts.iter().find(|p| p.as_rule() == Rule::bilateral)?;
        let k = kids(clause.clone())
            .next()
            .map_or(u32::MAX, |n| self.integer(&n).node);
        Some(self.spanned(clause, k))
    }

    /// A limit's `day` or length, spanning the words after `per`.
    fn period(&self, pair: Pair<'_, Rule>) -> Spanned<Period> {
        let span = self.span(&pair);
        match kids(pair).next() {
            Some(length) => Spanned::new(self.length(length).node, span),
            // `per day`: one day, the word its span.
            None => Spanned::new(
                Period::Rolling {
                    length: Spanned::new(1, span),
                    unit: TimeUnit::Days,
                },
                span,
            ),
        }
    }

    /// `calendar year` or `N days|months [from first]` (a `length` pair).
    fn length(&self, pair: Pair<'_, Rule>) -> Spanned<Period> {
        let span = self.span(&pair);
        let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
        let period = match parts.as_slice() {
            [n, rest @ ..] if n.as_rule() == Rule::integer => {
                let length = self.integer(n);
                let unit = rest.first().map_or(TimeUnit::Days, time_unit);
                if rest.iter().any(|p| p.as_rule() == Rule::from_first) {
                    Period::Anchored { length, unit }
                } else {
                    Period::Rolling { length, unit }
                }
            }
            _ => Period::CalendarYear,
        };
        Spanned::new(period, span)
    }

    /// The optional `per code`, `per region` and `per site [or unsited]`
    /// after a window.
    fn scopes(&self, parts: &[Pair<'_, Rule>]) -> (bool, Option<Span>, Option<Spanned<SiteScope>>) {
        let per_code = parts.iter().any(|p| p.as_rule() == Rule::code_scope);
        let per_region = parts
            .iter()
            .find(|p| p.as_rule() == Rule::region_scope)
            .map(|p| self.span(p));
        let scope = parts
            .iter()
            .find(|p| p.as_rule() == Rule::site_scope)
            .map(|p| self.site_scope(p.clone()));
        (per_code, per_region, scope)
    }

    /// A `with modifier "A" or "B"` among a count's or a check's parts.
    fn with_modifiers(&self, parts: &[Pair<'_, Rule>]) -> Option<WithModifiers> {
        let clause = parts.iter().find(|p| p.as_rule() == Rule::modifier_scope)?;
        Some(WithModifiers {
            codes: kids(clause.clone())
                .filter(|p| p.as_rule() == Rule::string)
                .map(|p| self.string(&p))
                .collect(),
            span: self.span(clause),
        })
    }

    fn site_scope(&self, pair: Pair<'_, Rule>) -> Spanned<SiteScope> {
        let unsited = kids(pair.clone()).any(|p| p.as_rule() == Rule::unsited);
        self.spanned(
            &pair,
            if unsited {
                SiteScope::OrUnsited
            } else {
                SiteScope::Strict
            },
        )
    }

    fn empty_action(&self, span: Span) -> Action {
        Action {
            verb: Spanned::new(Verb::Deny, span),
            carc: None,
            rarc: Vec::new(),
            message: None,
            span,
        }
    }

    fn action(&self, pair: Pair<'_, Rule>) -> Action {
        let span = self.span(&pair);
        let mut action = self.empty_action(span);
        for p in kids(pair) {
            match p.as_rule() {
                Rule::verb => {
                    let verb = match p.as_str() {
                        "allow" => Verb::Allow,
                        "review" => Verb::Review,
                        _ => Verb::Deny,
                    };
                    action.verb = self.spanned(&p, verb);
                }
                Rule::carc => action.carc = Some(self.text(&p)),
                Rule::rarc_list => action.rarc = kids(p).map(|r| self.text(&r)).collect(),
                Rule::message => action.message = kids(p).next().map(|s| self.string(&s)),
                _ => {}
            }
        }
        action
    }
}

// `Rule` is taken by pest's generated enum in this module.
use crate::syntax::ast::Rule as Rule_;

/// `days` or `months` (a `time_unit` pair; anything else reads as days).
fn time_unit(pair: &Pair<'_, Rule>) -> TimeUnit {
    if pair.as_rule() == Rule::time_unit && pair.as_str().starts_with("months") {
        TimeUnit::Months
    } else {
        TimeUnit::Days
    }
}

/// A module with nothing parsed into it yet.
fn empty_module(span: Span) -> Module {
    Module {
        kind: ModuleKind::Policy,
        id: Spanned::new(String::new(), span),
        title: None,
        doc: Vec::new(),
        header: Vec::new(),
        items: Vec::new(),
        span,
    }
}

fn module_kind(pair: Pair<'_, Rule>) -> ModuleKind {
    if pair.as_str() == "library" {
        ModuleKind::Library
    } else {
        ModuleKind::Policy
    }
}

fn doc_text(raw: &str) -> String {
    let text = raw.trim_start_matches("///");
    text.strip_prefix(' ')
        .unwrap_or(text)
        .trim_end()
        .to_string()
}

trait OrDefaultSpanned {
    fn unwrap_or_default_spanned(self) -> Spanned<String>;
}

impl OrDefaultSpanned for Option<Spanned<String>> {
    fn unwrap_or_default_spanned(self) -> Spanned<String> {
        self.unwrap_or_else(|| Spanned::new(String::new(), Span::default()))
    }
}
