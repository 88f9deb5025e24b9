//! Dates as day numbers, where count windows are computed and compared.
//!
//! A window's first day is the date of service less a period: with chrono's
//! calendar arithmetic that was a walk through years and ordinals per count
//! (`NaiveDate::add_days`); as day numbers it is a subtraction. A [`Day`]
//! saturates at chrono's earliest and latest dates exactly where the calendar
//! arithmetic it replaces did, so the windows are the same days.

use chrono::{Datelike, NaiveDate};

/// A date as its number of days from the common era (0001-01-01 is day 1),
/// chrono's `num_days_from_ce`: ordered as the dates are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

impl Day {
    /// The day of `NaiveDate::MIN`, where arithmetic saturates.
    pub const MIN: Day = Day(-95_746_129);
    /// The day of `NaiveDate::MAX`, where arithmetic saturates.
    pub const MAX: Day = Day(95_745_399);

    /// The day of a date.
    #[inline]
    pub fn of(date: NaiveDate) -> Day {
        Day(date.num_days_from_ce())
    }

    /// The date of this day (a day outside chrono's range, which no `Day`
    /// made here is, as the nearest end).
    pub fn date(self) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.0).unwrap_or(if self < Day::MIN {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
    }

    /// `days` days earlier, or [`Day::MIN`] when that is before it.
    #[inline]
    pub fn minus(self, days: u32) -> Day {
        let earlier = i64::from(self.0) - i64::from(days);
        Day(i32::try_from(earlier.max(i64::from(Day::MIN.0))).unwrap_or(Day::MIN.0))
    }

    /// `days` days later, or [`Day::MAX`] when that is after it.
    #[inline]
    pub fn plus(self, days: u32) -> Day {
        let later = i64::from(self.0) + i64::from(days);
        Day(i32::try_from(later.min(i64::from(Day::MAX.0))).unwrap_or(Day::MAX.0))
    }

    /// The day after, or [`Day::MAX`] for that.
    #[inline]
    pub fn succ(self) -> Day {
        Day(self.0.saturating_add(1).min(Day::MAX.0))
    }

    /// The day before, or [`Day::MIN`] for that.
    #[inline]
    pub fn pred(self) -> Day {
        Day(self.0.saturating_sub(1).max(Day::MIN.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn the_ends_are_chronos() {
        assert_eq!(Day::of(NaiveDate::MIN), Day::MIN);
        assert_eq!(Day::of(NaiveDate::MAX), Day::MAX);
        assert_eq!(Day::MIN.date(), NaiveDate::MIN);
        assert_eq!(Day::MAX.date(), NaiveDate::MAX);
        assert_eq!(Day(Day::MIN.0 - 1).date(), NaiveDate::MIN);
        assert_eq!(Day(Day::MAX.0 + 1).date(), NaiveDate::MAX);
    }

    #[test]
    fn arithmetic_on_days_is_calendar_arithmetic_on_dates() {
        let dates = [
            NaiveDate::MIN,
            NaiveDate::MAX,
            date("0001-01-01"),
            date("2000-02-29"),
            date("2024-03-01"),
            date("2024-12-31"),
            date("2025-01-01"),
        ];
        for d in dates {
            let day = Day::of(d);
            assert_eq!(day.date(), d);
            assert_eq!(
                day.succ().date(),
                d.succ_opt().unwrap_or(NaiveDate::MAX),
                "{d}"
            );
            assert_eq!(
                day.pred().date(),
                d.pred_opt().unwrap_or(NaiveDate::MIN),
                "{d}"
            );
            for n in (0..=800).chain([100_000, u32::MAX]) {
                let by_chrono = d
                    .checked_sub_days(chrono::Days::new(u64::from(n)))
                    .unwrap_or(NaiveDate::MIN);
                assert_eq!(day.minus(n).date(), by_chrono, "{d} - {n}");
                assert_eq!(day.minus(n), Day::of(by_chrono), "{d} - {n}");
                let later = d
                    .checked_add_days(chrono::Days::new(u64::from(n)))
                    .unwrap_or(NaiveDate::MAX);
                assert_eq!(day.plus(n), Day::of(later), "{d} + {n}");
            }
        }
        // Order is kept, across years and leap days.
        let mut d = date("1999-12-01");
        while d < date("2001-03-31") {
            let next = d.succ_opt().unwrap_or(d);
            assert_eq!(Day::of(next), Day::of(d).succ());
            assert!(Day::of(d) < Day::of(next));
            d = next;
        }
    }
}
