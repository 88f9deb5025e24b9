//! Why a rule did what it did: the rule's trace, turned into text only for
//! `--explain`.

use super::*;

/// Why a rule did what it did; turned into text only for `--explain`, so the
/// hot path formats nothing.
#[derive(Debug, Clone, Copy)]
pub(super) enum Why {
    WhenFalse(usize),
    Required(usize),
    Always(usize),
    Limit {
        index: usize,
        total: u32,
        max: u32,
        from: Day,
        to: Day,
    },
    Interval {
        index: usize,
        earlier: u32,
        period: Period,
        from: Day,
        to: Day,
    },
}

impl Why {
    /// The check that fired, for a rule that fired.
    pub(super) fn check(self) -> Option<usize> {
        match self {
            Why::WhenFalse(_) => None,
            Why::Required(i) | Why::Always(i) => Some(i),
            Why::Limit { index, .. } | Why::Interval { index, .. } => Some(index),
        }
    }

    /// The trace's text (a limit of units, charges or dates has its own, see
    /// `LineCx::measured_detail`).
    pub(super) fn describe(self) -> String {
        match self {
            Why::WhenFalse(i) => format!("`when` #{} is false", i + 1),
            Why::Required(i) => format!("check #{}: the required condition is false", i + 1),
            Why::Always(i) => format!("check #{}: the rule applies", i + 1),
            Why::Limit {
                index,
                total,
                max,
                from,
                to,
            } => {
                format!(
                    "check #{}: {total} services from {} to {}, more than {max}",
                    index + 1,
                    from.date(),
                    to.date()
                )
            }
            Why::Interval {
                index,
                earlier,
                period,
                from,
                to,
            } => format!(
                "check #{}: {earlier} services from {} to {}, less than {period} ago",
                index + 1,
                from.date(),
                to.date()
            ),
        }
    }
}
