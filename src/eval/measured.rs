//! Limits, counts and sums of units and charges on one line (`limit SET
//! units|charges`, `count(SET units ...)`, `sum(SET charges ...)`): what the
//! services of a window add up to, the history's and the claim's earlier
//! lines'. Out of the way of `line.rs`'s hot paths: a line of policies that
//! use none of them reaches none of this.

use super::line::{is_bilateral, LineCx};
use super::*;

/// The services a limit or count looks at: its set, window (days), code and
/// site scopes.
#[derive(Clone, Copy)]
pub(super) struct Span {
    set: usize,
    from: Day,
    to: Day,
    per_code: bool,
    scope: Option<crate::history::SiteScope>,
}

/// What a limit of units or charges added up on a line.
struct Measured {
    from: Day,
    to: Day,
    total: Total,
    fails: bool,
}

/// A total of units, or of charges.
enum Total {
    Units(u64),
    Amount(Decimal),
}

impl<'a> LineCx<'a> {
    /// Whether the line is within a limit of units or charges
    /// ([`Cond::Within`]). Out of line, as the conditions' rarer leaves are.
    #[cold]
    #[inline(never)]
    pub(super) fn within(&self, limit: &LimitOf) -> bool {
        !self.limit_totals(limit).fails
    }

    /// The trace's text of a limit of units or charges that failed: what
    /// its services added up to, from when to when, against its most;
    /// worked out again, only under `--explain`, rather than carried in a
    /// `Why` by every check of every rule.
    #[cold]
    #[inline(never)]
    pub(super) fn measured_detail(&self, limit: &LimitOf, index: usize) -> Option<String> {
        let m = self.limit_totals(limit);
        let (from, to) = (m.from.date(), m.to.date());
        let n = index + 1;
        let max = match limit.max {
            Bound::Units { max, .. } => max.to_string(),
            Bound::Charges(max) => max.to_string(),
        };
        Some(match m.total {
            Total::Units(total) => {
                format!("check #{n}: {total} units from {from} to {to}, more than {max}")
            }
            Total::Amount(total) => {
                format!("check #{n}: charges of {total} from {from} to {to}, more than {max}")
            }
        })
    }

    /// What a limit of units or charges adds up on this line: the services
    /// of its window and this line when its procedure is in the set.
    fn limit_totals(&self, limit: &LimitOf) -> Measured {
        let LimitOf {
            set,
            max,
            window,
            per_code,
            per_region,
            scope,
            counts_line,
        } = *limit;
        let counted = self.regional(set, per_region);
        let (from, to) = self.reach(window, counted, per_code, scope);
        let window = Span {
            set: counted,
            from,
            to,
            per_code,
            scope,
        };
        let this = self.counts_itself(set, counts_line);
        let (total, fails) = match max {
            Bound::Units { max, bilateral } => {
                let line = self.line;
                let own = if this {
                    weight(line.units, is_bilateral(line), bilateral)
                } else {
                    0
                };
                let total = self.units_summed(window, bilateral).saturating_add(own);
                (Total::Units(total), total > u64::from(max))
            }
            Bound::Charges(max) => {
                let own = match self.line.charge {
                    Some(charge) if this => crate::number::decimal_of(charge),
                    _ => Decimal::ZERO,
                };
                let total = self.charges_summed(window).saturating_add(own);
                (Total::Amount(total), total > max)
            }
        };
        Measured {
            from,
            to,
            total,
            fails,
        }
    }

    /// The units of the services `window` looks at, each weighing its units
    /// (`bilateral` times them with modifier 50): the history's and this
    /// claim's earlier lines'.
    fn units_summed(&self, window: Span, bilateral: u32) -> u64 {
        let Some((set, code, site)) = self.looked_at(window) else {
            return 0;
        };
        let Span {
            from, to, scope, ..
        } = window;
        let stored = self
            .window
            .units(from, to, set, code, scope, site, bilateral);
        self.earlier_in(window, set, code)
            .fold(stored, |n, s| n.saturating_add(s.weight(bilateral)))
    }

    /// The charges of the services `window` looks at, added up exactly: the
    /// history's and this claim's earlier lines'.
    fn charges_summed(&self, window: Span) -> Decimal {
        let Some((set, code, site)) = self.looked_at(window) else {
            return Decimal::ZERO;
        };
        let Span {
            from, to, scope, ..
        } = window;
        let stored = self.window.charges(from, to, set, code, scope, site);
        self.earlier_in(window, set, code)
            .filter_map(|s| s.charge())
            .fold(stored, |sum, c| {
                sum.saturating_add(crate::number::decimal_of(c))
            })
    }

    /// What a sum over `window` matches services with: its set, the line's
    /// code (`per code`) and site id (`per site`); `None` when there is
    /// nothing to add up (see [`LineCx::counted`]).
    fn looked_at(
        &self,
        window: Span,
    ) -> Option<(
        &'a crate::codes::CodeSet,
        Option<crate::codes::CodeKey>,
        SiteId,
    )> {
        if self.nothing_to_count() {
            return None;
        }
        let set = self.set(window.set)?;
        let code = window.per_code.then_some(self.line.procedure);
        let site = match window.scope {
            None => SiteId::NONE,
            Some(_) => self.site_id(),
        };
        Some((set, code, site))
    }

    /// This claim's earlier lines that `window` looks at.
    fn earlier_in(
        &self,
        window: Span,
        set: &'a crate::codes::CodeSet,
        code: Option<crate::codes::CodeKey>,
    ) -> impl Iterator<Item = &'a Service<'a>> + 'a {
        let Span {
            from, to, scope, ..
        } = window;
        let site = self.line.site.as_deref();
        self.earlier
            .iter()
            .zip(self.earlier_days)
            .filter(move |((_, s), &day)| {
                day >= from && day <= to && counts_service(set, code, scope, site, s)
            })
            .map(|((_, s), _)| s)
    }

    /// The value of a count of units (a whole number) or a sum of charges
    /// (an exact decimal).
    #[cold]
    #[inline(never)]
    pub(super) fn measured(&self, c: &Count) -> Val<'a> {
        let set = self.regional(c.set, c.per_region);
        let (from, to) = self.reach(c.window, set, c.per_code, c.scope);
        let window = Span {
            set,
            from,
            to,
            per_code: c.per_code,
            scope: c.scope,
        };
        match c.measure {
            Measure::Lines => Val::Int(i64::from(self.count(c))),
            Measure::Units { bilateral } => {
                Val::Int(i64::try_from(self.units_summed(window, bilateral)).unwrap_or(i64::MAX))
            }
            Measure::Charges => Val::Sum(self.charges_summed(window)),
        }
    }
}
