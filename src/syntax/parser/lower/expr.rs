//! Lowering expressions: conditions, values, count and sum windows,
//! literals and predicates, one method of [`Lower`] per grammar rule (the
//! rest of the file's rules are lowered in the parent module).

use super::*;

impl Lower {
    pub(super) fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr => match kids(pair).next() {
                Some(inner) => self.expr(inner),
                None => self.missing(span),
            },
            Rule::or_expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::or_expr;
                let mut parts: Vec<Expr> = kids(pair).map(|p| self.expr(p)).collect();
                if parts.len() == 1 {
                    return parts.remove(0);
                }
                let kind = if is_or {
                    ExprKind::Or(parts)
                } else {
                    ExprKind::And(parts)
                };
                Expr { kind, span }
            }
            Rule::not_expr => {
                let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
                let mut nots = Vec::new();
                let mut inner = None;
                for p in parts {
                    if p.as_rule() == Rule::not_op {
                        nots.push(self.span(&p));
                    } else {
                        inner = Some(self.expr(p));
                    }
                }
                let mut e = inner.unwrap_or_else(|| self.missing(span));
                for not_span in nots.into_iter().rev() {
                    let s = not_span.join(e.span);
                    e = Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span: s,
                    };
                }
                e
            }
            Rule::predicate => self.predicate(pair),
            Rule::quantifier | Rule::same_day_quantifier => {
                let over = if pair.as_rule() == Rule::quantifier {
                    Others::Lines
                } else {
                    Others::SameDayServices
                };
                let mut parts = kids(pair);
                let quant_pair = parts.next();
                let quant = match quant_pair.as_ref().map(|q| q.as_str()) {
                    Some("no") => Quant::No,
                    Some("every") => Quant::Every,
                    _ => Quant::Some,
                };
                let qspan = quant_pair.map(|q| self.span(&q)).unwrap_or(span);
                let body = parts
                    .next()
                    .map(|b| self.expr(b))
                    .unwrap_or_else(|| self.missing(span));
                Expr {
                    kind: ExprKind::Quantified {
                        quant: Spanned::new(quant, qspan),
                        over,
                        body: Box::new(body),
                    },
                    span,
                }
            }
            Rule::count | Rule::sum => {
                // The keyword's span: `count` or `sum` starts the pair.
                let sum = (pair.as_rule() == Rule::sum)
                    .then(|| Span::new(span.start, span.start + "sum".len()));
                let mut set = SetExpr::Ref(Spanned::new(String::new(), span));
                let mut window = Spanned::new(Window::SameDay, span);
                let parts: Vec<Pair<'_, Rule>> = kids(pair).collect();
                let (measure, _) = self.measure(parts.get(1..).unwrap_or_default());
                let bilateral = self.bilateral(&parts);
                // A limit's and an interval's `per ...`, read the same way.
                let (per_code, per_region, scope) = self.scopes(&parts);
                let modifiers = self.with_modifiers(&parts);
                for p in parts {
                    match p.as_rule() {
                        Rule::window => window = self.window(p),
                        Rule::measure
                        | Rule::bilateral
                        | Rule::code_scope
                        | Rule::region_scope
                        | Rule::site_scope
                        | Rule::modifier_scope => {}
                        _ => set = self.set_expr(p),
                    }
                }
                Expr {
                    kind: ExprKind::Count {
                        set,
                        window,
                        per_code,
                        per_region,
                        scope,
                        modifiers,
                        measure,
                        bilateral,
                        sum,
                    },
                    span,
                }
            }
            Rule::field => {
                let parts = kids(pair).map(|p| self.text(&p)).collect();
                Expr {
                    kind: ExprKind::Field(parts),
                    span,
                }
            }
            _ => Expr {
                kind: ExprKind::Literal(self.literal(pair)),
                span,
            },
        }
    }

    pub(super) fn window(&self, pair: Pair<'_, Rule>) -> Spanned<Window> {
        let span = self.span(&pair);
        let Some(inner) = kids(pair).next() else {
            return Spanned::new(Window::SameDay, span);
        };
        let within = match inner.as_rule() {
            Rule::within => true,
            Rule::in_period => false,
            _ => return Spanned::new(Window::SameDay, span),
        };
        let parts: Vec<Pair<'_, Rule>> = kids(inner).collect();
        let period = parts
            .iter()
            .find(|p| p.as_rule() == Rule::length)
            .map_or(Period::CalendarYear, |p| self.length(p.clone()).node);
        let before = parts.iter().any(|p| p.as_rule() == Rule::before);
        let window = if within {
            Window::Within { period, before }
        } else {
            Window::In { period, before }
        };
        Spanned::new(window, span)
    }

    pub(super) fn literal(&self, pair: Pair<'_, Rule>) -> Literal {
        match pair.as_rule() {
            Rule::date => Literal::Date(pair.as_str().to_string()),
            Rule::number => {
                let text = pair.as_str();
                match text.parse::<i64>() {
                    Ok(i) => Literal::Int(i),
                    Err(_) => Literal::Number(rust_decimal::Decimal::from_str_exact(text).ok()),
                }
            }
            Rule::string => Literal::Str(self.string(&pair).node),
            Rule::boolean => Literal::Bool(pair.as_str() == "true"),
            Rule::list => Literal::List(self.list_items(pair)),
            _ => Literal::Str(pair.as_str().to_string()),
        }
    }

    pub(super) fn list_items(&self, pair: Pair<'_, Rule>) -> Vec<Spanned<Literal>> {
        kids(pair)
            .map(|p| Spanned::new(self.literal(p.clone()), self.span(&p)))
            .collect()
    }

    pub(super) fn predicate(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let mut parts = kids(pair);
        let Some(first) = parts.next() else {
            return self.missing(span);
        };
        let lhs = self.expr(first);
        let Some(tail) = parts.next() else {
            return lhs;
        };
        let tail_rule = tail.as_rule();
        let tail_span = self.span(&tail);
        let mut tparts: Vec<Pair<'_, Rule>> = tail.into_inner().collect();
        let kind = match tail_rule {
            Rule::compare_tail => {
                let op_pair = tparts.remove(0);
                let op = match op_pair.as_str() {
                    "==" => CompareOp::Eq,
                    "!=" => CompareOp::Ne,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    _ => CompareOp::Ge,
                };
                let rhs = tparts
                    .pop()
                    .map(|p| self.expr(p))
                    .unwrap_or_else(|| self.missing(tail_span));
                ExprKind::Compare {
                    op: self.spanned(&op_pair, op),
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            Rule::in_tail => {
                let op_pair = tparts.remove(0);
                let words: Vec<&str> = op_pair.as_str().split_whitespace().collect();
                let op = match words.first().copied() {
                    Some("not") => InOp::NotIn,
                    Some("any") => InOp::AnyIn,
                    Some("all") => InOp::AllIn,
                    _ => InOp::In,
                };
                let target = match tparts.pop() {
                    Some(p) if p.as_rule() == Rule::list => {
                        let lspan = self.span(&p);
                        InTarget::List(self.list_items(p), lspan)
                    }
                    Some(p) => InTarget::Set(self.set_expr(p)),
                    None => InTarget::List(Vec::new(), tail_span),
                };
                ExprKind::In {
                    op: self.spanned(&op_pair, op),
                    lhs: Box::new(lhs),
                    rhs: target,
                }
            }
            Rule::has_tail => {
                let rhs = tparts
                    .into_iter()
                    .rfind(|p| !is_keyword(p.as_rule()))
                    .map(|p| self.expr(p))
                    .unwrap_or_else(|| self.missing(tail_span));
                ExprKind::Has {
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            _ => {
                let negated = tparts.iter().any(|p| p.as_rule() == Rule::kw_missing);
                ExprKind::Exists {
                    operand: Box::new(lhs),
                    negated,
                }
            }
        };
        Expr { kind, span }
    }
}
