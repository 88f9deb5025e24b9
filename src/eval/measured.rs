//! Limits, counts and sums of units, charges and dates on one line (`limit SET
//! units|charges|dates`, `count(SET units|dates ...)`, `sum(SET charges ...)`): what the
//! services of a window add up to, the history's and the claim's earlier
//! lines'. Out of the way of `line.rs`'s hot paths: a line of policies that
//! use none of them reaches none of this.

use super::line::{is_bilateral, LineCx};
use super::*;

/// What a limit of units, charges or dates added up on a line.
struct Measured {
    from: Day,
    to: Day,
    total: Total,
    fails: bool,
}

/// A total of units, of charges or of dates.
enum Total {
    Units(u64),
    Amount(Decimal),
    Dates(u64),
}

impl<'a> LineCx<'a> {
    /// Whether the line is within a limit of units, charges or dates
    /// ([`Cond::Within`]). Out of line, as the conditions' rarer leaves are.
    #[cold]
    #[inline(never)]
    pub(super) fn within(&self, limit: &LimitOf) -> bool {
        !self.limit_totals(limit).fails
    }

    /// The trace's text of a limit of units, charges or dates that failed: what
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
            Bound::Units { max, .. } | Bound::Dates(max) => max.to_string(),
            Bound::Charges(max) => max.to_string(),
        };
        Some(match m.total {
            Total::Units(total) => {
                format!("check #{n}: {total} units from {from} to {to}, more than {max}")
            }
            Total::Amount(total) => {
                format!("check #{n}: charges of {total} from {from} to {to}, more than {max}")
            }
            Total::Dates(total) => {
                format!("check #{n}: {total} dates of service from {from} to {to}, more than {max}")
            }
        })
    }

    /// What a limit of units, charges or dates adds up on this line: the services
    /// of its window and this line when its procedure is in the set.
    fn limit_totals(&self, limit: &LimitOf) -> Measured {
        let LimitOf { of, max } = *limit;
        let (counted, from, to) = self.span(&of);
        let looked_at = self.looked_at(counted, from, to, &of.matching);
        let this = self.counts_itself(&of);
        let (total, fails) = match max {
            Bound::Units { max, bilateral } => {
                let line = self.line;
                let own = if this {
                    weight(line.units, is_bilateral(line), bilateral)
                } else {
                    0
                };
                let total = self.units_summed(looked_at, bilateral).saturating_add(own);
                (Total::Units(total), total > u64::from(max))
            }
            Bound::Charges(max) => {
                let own = match self.line.charge {
                    Some(charge) if this => crate::number::decimal_of(charge),
                    _ => Decimal::ZERO,
                };
                let total = self.charges_summed(looked_at).saturating_add(own);
                (Total::Amount(total), total > max)
            }
            Bound::Dates(max) => {
                let total = self.dates_counted(looked_at, this.then_some(self.day));
                (Total::Dates(total), total > u64::from(max))
            }
        };
        Measured {
            from,
            to,
            total,
            fails,
        }
    }

    /// The units of the services `c` looks at, each weighing its units
    /// (`bilateral` times them with modifier 50): the history's and this
    /// claim's earlier lines'; 0 when there is nothing to add up.
    fn units_summed(&self, c: Option<Counted<'a>>, bilateral: u32) -> u64 {
        let Some(c) = c else {
            return 0;
        };
        let stored = self.window.units(&c, bilateral);
        self.earlier_in(&c)
            .fold(stored, |n, (s, _)| n.saturating_add(s.weight(bilateral)))
    }

    /// The charges of the services `c` looks at, added up exactly: the
    /// history's and this claim's earlier lines'; 0 when there is nothing
    /// to add up.
    fn charges_summed(&self, c: Option<Counted<'a>>) -> Decimal {
        let Some(c) = c else {
            return Decimal::ZERO;
        };
        let stored = self.window.charges(&c);
        self.earlier_in(&c)
            .filter_map(|(s, _)| s.charge())
            .fold(stored, |sum, c| {
                sum.saturating_add(crate::number::decimal_of(c))
            })
    }

    /// How many distinct dates of service the services `c` looks at have
    /// (the history's and this claim's earlier lines'), with `own` (the
    /// line's day, when a limit counts the line) among them.
    fn dates_counted(&self, c: Option<Counted<'a>>, own: Option<Day>) -> u64 {
        let mut days: SmallVec<[Day; 16]> = own.into_iter().collect();
        // Services come by day (a scan newest first, an index list in date
        // order): a day like the last one gathered is left out at once, so
        // the list holds about the distinct days, not every service.
        let mut add = |day: Day| {
            if days.last() != Some(&day) {
                days.push(day);
            }
        };
        if let Some(c) = c {
            self.window.days(&c, &mut add);
            self.earlier_in(&c).for_each(|(_, day)| add(day));
        }
        days.sort_unstable();
        days.dedup();
        u64::try_from(days.len()).unwrap_or(u64::MAX)
    }

    /// The value of a count of units or of dates (a whole number) or a sum
    /// of charges (an exact decimal).
    #[cold]
    #[inline(never)]
    pub(super) fn measured(&self, c: &Count) -> Val<'a> {
        let looked_at = || {
            let set = self.regional(c.set, c.matching.per_region);
            let (from, to) = self.reach(c.window, set, &c.matching);
            self.looked_at(set, from, to, &c.matching)
        };
        match c.measure {
            Measure::Lines => Val::Int(i64::from(self.count(c))),
            Measure::Units { bilateral } => Val::Int(
                i64::try_from(self.units_summed(looked_at(), bilateral)).unwrap_or(i64::MAX),
            ),
            Measure::Charges => Val::Sum(self.charges_summed(looked_at())),
            Measure::Dates => {
                Val::Int(i64::try_from(self.dates_counted(looked_at(), None)).unwrap_or(i64::MAX))
            }
        }
    }
}
