//! The evaluation plan: what the evaluator runs. Names are resolved to indexes,
//! literals to values, code sets to intervals; nothing refers back to the tree.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};

use crate::claims::Reason;
use crate::codes::CodeKey;
pub use crate::codes::CodeSet;
pub use crate::codes::ModifierFilter;
use crate::days::Day;
use crate::fields::FieldId;
pub use crate::history::SiteScope;
pub use crate::number::Exact;
pub use crate::syntax::ast::{CompareOp, InOp, Quant, TimeUnit};
pub use rust_decimal::Decimal;

/// Index of a code set in [`Policy::sets`].
pub type SetId = usize;

/// A compiled policy: selected by payer and dates, then run line by line.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The policy id (`medicare-tpi`).
    pub id: Arc<str>,
    /// Its title.
    pub title: String,
    /// Its version string.
    pub version: Arc<str>,
    /// The payer ids it applies to.
    pub payers: Vec<String>,
    /// The ids X12 837P names its payer by (`payer-ids`), which map to the
    /// first of `payers`.
    pub payer_ids: Vec<String>,
    /// First date of service covered.
    pub effective_from: NaiveDate,
    /// Last date of service covered (inclusive), if any.
    pub effective_to: Option<NaiveDate>,
    /// The cited source.
    pub source: String,
    /// The file it was loaded from.
    pub path: String,
    /// Every code set a rule uses, named or inline; for each set counted
    /// `per region`, also its codes in each region (see `Regional`).
    pub sets: Vec<CodeSet>,
    /// The regions (`region NAME = SET`) of the policy and its imports, in
    /// policy order; no code is in two.
    pub regions: Vec<Region>,
    /// Rules in policy order (imported ones first).
    pub rules: Vec<Rule>,
    /// Which rules a procedure code can trigger.
    pub dispatch: super::dispatch::Dispatch,
    /// The facts the rules compare with literals and the kind each needs,
    /// by name: a claim whose fact is of no kind its policy compares it with
    /// is refused rather than decided as if the fact were missing.
    pub facts: Vec<super::facts::FactRead>,
}

impl Policy {
    /// True when the policy covers the date of service.
    pub fn covers(&self, date: NaiveDate) -> bool {
        date >= self.effective_from && self.effective_to.is_none_or(|end| date <= end)
    }

    /// The index of the region whose set holds `code` in
    /// [`Policy::regions`], or the number of regions when none does (the
    /// region "none", which [`Regional`] counts too).
    #[inline]
    pub fn region_of(&self, code: CodeKey) -> usize {
        self.regions
            .iter()
            .position(|r| self.sets.get(r.set).is_some_and(|s| s.contains(code)))
            .unwrap_or(self.regions.len())
    }
}

/// A region: a line whose procedure code is in its set is in it.
#[derive(Debug, Clone)]
pub struct Region {
    /// Its name, which `line.region` reads.
    pub name: Arc<str>,
    /// Its codes, in [`Policy::sets`].
    pub set: SetId,
}

/// A set counted `per region`, split by region: set `first + k` of
/// [`Policy::sets`] holds the counted set's codes in region `k`, and set
/// `first + n` (with `n` regions) its codes in no region. A count `per region`
/// counts the split of the line's own region, so the history is asked about
/// a code set as for any count and never learns what a region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regional {
    /// The split of region 0.
    pub first: SetId,
}

impl Regional {
    /// The set to count for a line in region `region` (of
    /// [`Policy::region_of`]).
    #[inline]
    pub fn set(self, region: usize) -> SetId {
        self.first + region
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The stable id decisions name.
    pub id: Arc<str>,
    /// The title (default message).
    pub title: String,
    /// Doc lines, for `--explain`.
    pub doc: Vec<String>,
    /// `path:line:col` of the rule, for decisions.
    pub at: Arc<str>,
    /// The rule's text as written, for `explain`.
    pub source: String,
    /// A set the line's procedure must be in for the rule to apply at all: taken
    /// from a `when line.procedure in SET`, so lines skip rules cheaply.
    pub trigger: Option<SetId>,
    /// The `when` conditions, all of which must hold.
    pub when: Vec<Cond>,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

/// A check and the action taken when it fails.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is checked.
    pub kind: CheckKind,
    /// What a failure does and says: the reason a line it fails on is given,
    /// made once here.
    pub reason: Reason,
}

/// Compiled check kinds.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// Fails when the condition is false.
    Require(Cond),
    /// Fails when the services `of` counts, this one included, exceed
    /// `max`.
    Limit {
        /// What is counted, and over which dates.
        of: Counting,
        /// Most allowed.
        max: u32,
    },
    /// Fails when a service of the set lies less than `period` before this one
    /// (and not on the same day).
    Interval {
        /// Counted services.
        set: SetId,
        /// Least time apart.
        period: Period,
        /// Which of the set's services count.
        matching: Match,
    },
    /// Fails whenever the rule applies.
    Always,
}

/// A limit of units, charges or dates (`limit SET units ...`, `limit SET charges
/// ...`): compiled as the `require` of [`Cond::Within`] it, not as a check
/// kind of its own, so that the check loop every rule runs, and the limits
/// of lines in it, are the code they were (a kind more, whose call gave
/// back a `Why`, cost every claim about 20 instructions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimitOf {
    /// What is counted, and over which dates.
    pub of: Counting,
    /// Most allowed, and of what.
    pub max: Bound,
}

/// What a limit counts, of lines ([`CheckKind::Limit`]) or of units or
/// charges (`LimitOf`) alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counting {
    /// Counted services.
    pub set: SetId,
    /// Which dates count: `CountWindow::Within` a rolling period,
    /// `CountWindow::CalendarYear` or `CountWindow::FromFirst`; the window
    /// ends on the date of service.
    pub window: CountWindow,
    /// Which of the set's services count (the line itself too, for its
    /// modifiers).
    pub matching: Match,
    /// True when every line the rule runs on is in `set` (the rule's
    /// trigger is a subset of it): the line counts itself without a search
    /// of the set (its modifiers are still looked at, with `with modifier`).
    pub counts_line: bool,
}

/// Which services of its set a limit, an interval or a count looks at,
/// besides their dates: the language's `per code`, `per region`, `per site
/// [or unsited]` and `with modifier`, one value that every form which
/// counts history carries and hands to the evaluator whole.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Only services with the line's own procedure code count.
    pub per_code: bool,
    /// `per region`: only services in the line's region count.
    pub per_region: Option<Regional>,
    /// Site matching.
    pub scope: Option<SiteScope>,
    /// `with modifier`: only services billed with one of these count;
    /// [`ModifierFilter::ANY`] without it.
    pub modifiers: ModifierFilter,
}

/// What a limit of units, charges or dates allows at most.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// So many units of service.
    Units {
        /// Most units allowed.
        max: u32,
        /// What a unit of a service with modifier 50 weighs (`bilateral as
        /// K`; 1 when not given).
        bilateral: u32,
    },
    /// Charges adding up to this amount at most, exactly.
    Charges(Decimal),
    /// So many distinct dates of service at most (sessions).
    Dates(u32),
}

/// As `explain` says it: `6 units`, `2410.00 in charges`.
impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Units { max, bilateral: 1 } => write!(f, "{max} units"),
            Bound::Units { max, bilateral } => write!(
                f,
                "{max} units (a line with modifier 50 weighing {bilateral} times its units)"
            ),
            Bound::Charges(max) => write!(f, "{max} in charges"),
            Bound::Dates(max) => write!(f, "{max} dates of service"),
        }
    }
}

/// What a count adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Services (lines): `count(...)`.
    Lines,
    /// Units of service: `count(SET units ...)`.
    Units {
        /// What a unit of a service with modifier 50 weighs.
        bilateral: u32,
    },
    /// Charges, exactly: `sum(SET charges ...)`.
    Charges,
    /// Distinct dates of service: `count(SET dates ...)`.
    Dates,
}

/// A length of time: so many days or calendar months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// How many units.
    pub length: u32,
    /// Days or months.
    pub unit: TimeUnit,
}

impl Period {
    /// The date `self` before `date` (`date - length units`); a day the earlier
    /// month lacks becomes its last day. Saturates at the earliest date.
    pub fn before(self, date: NaiveDate) -> NaiveDate {
        let earlier = match self.unit {
            // Whole days, without going through a `TimeDelta`'s seconds.
            TimeUnit::Days => date.checked_sub_days(chrono::Days::new(u64::from(self.length))),
            TimeUnit::Months => date.checked_sub_months(chrono::Months::new(self.length)),
        };
        earlier.unwrap_or(NaiveDate::MIN)
    }

    /// [`Period::before`] of `date`, whose day is `day`, as a day: a
    /// subtraction for days; months stay calendar arithmetic, their lengths
    /// differ.
    #[inline]
    pub fn before_day(self, date: NaiveDate, day: Day) -> Day {
        match self.unit {
            TimeUnit::Days => day.minus(self.length),
            TimeUnit::Months => Day::of(self.before(date)),
        }
    }

    /// The first day of the next period of a period anchored on `anchor`
    /// (`P from first`): the first date whose own rolling window of `self`
    /// (`within P`, which starts the day after [`Period::before`]) no longer
    /// holds the anchor. For days, `anchor + length`; for months, the same
    /// day of the month `length` months later, or, when that month is too
    /// short for it, the first day of the month after (an anchor on
    /// 2028-02-29 with 12 months: 2029-03-01; on 2025-01-31 with 1 month:
    /// 2025-03-01). Saturates at the latest date.
    pub fn after_anchor(self, anchor: Day) -> Day {
        match self.unit {
            TimeUnit::Days => anchor.plus(self.length),
            TimeUnit::Months => {
                let date = anchor.date();
                match date.checked_add_months(chrono::Months::new(self.length)) {
                    // chrono keeps the day or takes the month's last one.
                    Some(later) if later.day() == date.day() => Day::of(later),
                    Some(later) => Day::of(later).succ(),
                    None => Day::MAX,
                }
            }
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.length, self.unit.word())
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    /// A constant.
    Const(bool),
    /// Any holds.
    Or(Vec<Cond>),
    /// All hold.
    And(Vec<Cond>),
    /// Does not hold.
    Not(Box<Cond>),
    /// A comparison; false when a side is missing or the types differ at run time.
    Compare(CompareOp, Value, Value),
    /// Membership of a code (or list of codes) in a set.
    InSet(InOp, Value, SetId),
    /// Membership of a value in a literal list.
    InList(InOp, Value, Vec<Const>),
    /// A list contains a value.
    Has(Value, Value),
    /// The value is present (`exists`), or absent when negated (`is missing`).
    Exists(Value, bool),
    /// A quantifier over the claim's other lines.
    Quantified(Quant, Box<Cond>),
    /// `some other service on same day (...)`, or `no ...` when `none`: a
    /// quantifier over the claim's other lines on the line's date of service
    /// and the member's services of earlier claims on that date, whose body
    /// reads of `other` only what the history keeps
    /// (`crate::fields::HISTORY_FIELDS`).
    SameDay {
        /// True for `no`: no such service.
        none: bool,
        /// The condition on the other service.
        body: Box<Cond>,
    },
    /// A fact used as a condition: true only when it is the boolean `true`.
    Truthy(Value),
    /// The line is within a limit of units, charges or dates (`LimitOf`): what
    /// its window's services add up to, this line's included, is not more
    /// than the limit allows.
    Within(Box<LimitOf>),
    // The forms below are what `lower` makes of the commonest shapes above:
    // the same test, read straight from the claim instead of through `Val`.
    /// `line.procedure in SET` (`other.procedure` when `other`); `not in` when
    /// `negated`.
    CodeIn {
        /// True for `other.procedure`.
        other: bool,
        /// The set.
        set: SetId,
        /// True for `not in`.
        negated: bool,
    },
    /// `line.diagnoses any in SET` (`all in` when `all`), or the same of
    /// `claim.diagnoses` when `claim`.
    DiagnosesIn {
        /// True for `claim.diagnoses`.
        claim: bool,
        /// True for `other.diagnoses`.
        other: bool,
        /// The set.
        set: SetId,
        /// True for `all in`.
        all: bool,
    },
    /// A whole-number field compared with a whole-number literal
    /// (`line.units <= 1`); false when the field is missing.
    FieldCompare {
        /// The comparison.
        op: CompareOp,
        /// A field whose value is a whole number or missing.
        field: FieldId,
        /// True for `other.X`.
        other: bool,
        /// The literal.
        value: i64,
    },
    /// Two lines' dates of service compared
    /// (`other.date_of_service == line.date_of_service`).
    DatesCompare {
        /// The comparison.
        op: CompareOp,
        /// True when the left side is `other.date_of_service`.
        left_other: bool,
        /// True when the right side is `other.date_of_service`.
        right_other: bool,
    },
    /// A history count compared with a whole-number literal (`count(...) >= 1`).
    CountCompare {
        /// The comparison.
        op: CompareOp,
        /// The count.
        count: Count,
        /// The literal.
        value: i64,
    },
    /// A fact compared with a number literal (`facts.relief_percent >= 50`)
    /// whose nearest double decides the comparison exactly: a whole number
    /// up to 2^53, or one with a fraction and at most 15 significant digits
    /// (see `crate::number`); false unless the fact is a number.
    FactCompare {
        /// The comparison.
        op: CompareOp,
        /// The fact's name.
        name: String,
        /// The literal's nearest double (`Exact::float`).
        value: f64,
    },
    /// `facts.X exists`, or `is missing` when `negated`.
    FactExists {
        /// The fact's name.
        name: String,
        /// True for `is missing`.
        negated: bool,
    },
    /// `facts.X` as a condition: true only when it is the boolean `true`.
    FactTrue(String),
    /// `line.modifiers has "X"` (`other.modifiers` when `other`).
    ModifiersHas {
        /// True for `other.modifiers`.
        other: bool,
        /// The modifier.
        text: String,
    },
    /// `and`, `or` and `not` over leaves, flattened into jumps by
    /// `lower::flatten`: decided in one loop rather than a call per node.
    Flat(Program),
}

/// A condition's leaves in order, each saying where to go on true and on
/// false; see [`Cond::Flat`].
#[derive(Debug, Clone)]
pub struct Program {
    /// The leaves; the first is tested first.
    pub ops: Box<[Op]>,
}

/// One leaf of a [`Program`].
#[derive(Debug, Clone)]
pub struct Op {
    /// A condition without `and`, `or`, `not` or `Flat` at its top.
    pub leaf: Cond,
    /// The next op when the leaf holds, or [`Program::TRUE`] or [`Program::FALSE`].
    pub on_true: u16,
    /// The next op when it does not.
    pub on_false: u16,
}

impl Program {
    /// The target that ends the program with true.
    pub const TRUE: u16 = u16::MAX;
    /// The target that ends the program with false.
    pub const FALSE: u16 = u16::MAX - 1;
}

/// A compiled value.
#[derive(Debug, Clone)]
pub enum Value {
    /// A field of the current line (or of the other line when `other`).
    Field {
        /// Which field.
        id: FieldId,
        /// True for `other.X`.
        other: bool,
    },
    /// A documentation fact.
    Fact(String),
    /// A literal.
    Const(Const),
    /// A count of history services.
    Count(Count),
}

/// Literal values.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    /// A whole number.
    Int(i64),
    /// A number with a fraction, or a whole number beyond 64 bits: exact.
    Number(Exact),
    /// Text.
    Str(String),
    /// True/false.
    Bool(bool),
    /// A date.
    Date(NaiveDate),
}

/// A history count: services in `set` with dates in a window around the date of
/// service.
#[derive(Debug, Clone, Copy)]
pub struct Count {
    /// Counted services.
    pub set: SetId,
    /// Which dates count.
    pub window: CountWindow,
    /// Which of the set's services count.
    pub matching: Match,
    /// What is added up: services, their units, charges or dates.
    pub measure: Measure,
}

/// The dates a `count` or a `limit` looks at, for a date of service `DOS`:
/// one concept for every form that counts or sums history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountWindow {
    /// `on same day`: `DOS`.
    SameDay,
    /// `within P` (a limit's `per P`): from the day after `DOS - P` to `DOS`.
    Within(Period),
    /// `within P before`: from `DOS - P` to the day before `DOS`.
    Before(Period),
    /// `in calendar year` (a limit's `per calendar year`): from January 1
    /// of `DOS`'s year to `DOS`.
    CalendarYear,
    /// `in P from first` (a limit's `per P from first`): from the anchor of
    /// the anchored period `DOS` is in to `DOS`. The anchor is the first
    /// counted service; each service on or after
    /// [`Period::after_anchor`] of an anchor starts the next period, anchored
    /// on it. The evaluator finds the anchor in the member's services (see
    /// `eval::line`); with no period that holds `DOS`, `DOS` starts one.
    FromFirst(Period),
}

impl CountWindow {
    /// The first and last dates counted (both inclusive); for
    /// [`CountWindow::FromFirst`], those of a date of service that starts a
    /// period (the anchor found in the history moves the first back).
    pub fn dates(self, dos: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            CountWindow::SameDay | CountWindow::FromFirst(_) => (dos, dos),
            CountWindow::Within(p) => (p.before(dos).succ_opt().unwrap_or(dos), dos),
            CountWindow::Before(p) => (p.before(dos), dos.pred_opt().unwrap_or(NaiveDate::MIN)),
            CountWindow::CalendarYear => (dos.with_ordinal0(0).unwrap_or(dos), dos),
        }
    }

    /// [`CountWindow::dates`] as days, for a date of service `dos` whose day
    /// is `day`.
    #[inline]
    pub fn days(self, dos: NaiveDate, day: Day) -> (Day, Day) {
        match self {
            CountWindow::SameDay | CountWindow::FromFirst(_) => (day, day),
            CountWindow::Within(p) => (p.before_day(dos, day).succ(), day),
            CountWindow::Before(p) => (p.before_day(dos, day), day.pred()),
            CountWindow::CalendarYear => (day.minus(dos.ordinal0()), day),
        }
    }
}

/// A limit's window as the policy says it after `per`: `365 days`,
/// `calendar year`, `12 months from first` (`explain` shows it).
impl std::fmt::Display for CountWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CountWindow::SameDay => f.write_str("day"),
            CountWindow::Within(p) => write!(f, "{p}"),
            CountWindow::Before(p) => write!(f, "{p} before"),
            CountWindow::CalendarYear => f.write_str("calendar year"),
            CountWindow::FromFirst(p) => write!(f, "{p} from first"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_of_days_before_a_date_is_whole_days_and_saturates() {
        // Against chrono's signed-duration arithmetic, which it replaces.
        let by_delta = |date: NaiveDate, days: u32| {
            date.checked_sub_signed(chrono::Duration::days(i64::from(days)))
                .unwrap_or(NaiveDate::MIN)
        };
        let dates = [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default(),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
        ];
        for date in dates {
            for length in (0..=800).chain([u32::MAX]) {
                let period = Period {
                    length,
                    unit: TimeUnit::Days,
                };
                assert_eq!(
                    period.before(date),
                    by_delta(date, length),
                    "{date} {length}"
                );
            }
        }
    }

    #[test]
    fn windows_in_days_are_the_windows_in_dates() {
        let dates = [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default(),
            NaiveDate::from_ymd_opt(2024, 3, 31).unwrap_or_default(),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default(),
        ];
        for dos in dates {
            let day = Day::of(dos);
            for length in [
                0,
                1,
                2,
                11,
                12,
                13,
                30,
                42,
                364,
                365,
                366,
                100_000,
                u32::MAX,
            ] {
                for unit in [TimeUnit::Days, TimeUnit::Months] {
                    let p = Period { length, unit };
                    assert_eq!(p.before_day(dos, day), Day::of(p.before(dos)), "{dos} {p}");
                    for window in [
                        CountWindow::SameDay,
                        CountWindow::Within(p),
                        CountWindow::Before(p),
                        CountWindow::CalendarYear,
                        CountWindow::FromFirst(p),
                    ] {
                        let (from, to) = window.dates(dos);
                        assert_eq!(
                            window.days(dos, day),
                            (Day::of(from), Day::of(to)),
                            "{dos} {window:?}"
                        );
                    }
                }
            }
        }
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn an_anchored_period_ends_where_its_dates_rolling_window_loses_the_anchor() {
        // `P from first` and `within P` agree: a date is in the period of
        // anchor A exactly when A is in the date's rolling window of P.
        let anchors = [
            "2024-01-31",
            "2024-02-29",
            "2025-01-31",
            "2025-03-31",
            "2025-08-31",
            "2025-12-31",
            "2027-02-28",
            "2028-02-29",
            "2028-03-01",
        ];
        for anchor in anchors.map(date) {
            let a = Day::of(anchor);
            for (length, unit) in [
                (1, TimeUnit::Months),
                (2, TimeUnit::Months),
                (6, TimeUnit::Months),
                (12, TimeUnit::Months),
                (13, TimeUnit::Months),
                (48, TimeUnit::Months),
                (1, TimeUnit::Days),
                (90, TimeUnit::Days),
                (365, TimeUnit::Days),
            ] {
                let p = Period { length, unit };
                let end = p.after_anchor(a);
                assert!(end > a, "{anchor} {p}");
                let mut x = a;
                while x <= end.plus(3) {
                    let (from, _) = CountWindow::Within(p).days(x.date(), x);
                    assert_eq!(
                        x < end,
                        from <= a,
                        "anchor {anchor}, {p}, date {}",
                        x.date()
                    );
                    x = x.succ();
                }
            }
        }
        let months = |n| Period {
            length: n,
            unit: TimeUnit::Months,
        };
        let next = |anchor: &str, p: Period| p.after_anchor(Day::of(date(anchor))).date();
        // A day the later month has: that day.
        assert_eq!(next("2025-03-04", months(12)), date("2026-03-04"));
        assert_eq!(next("2024-02-29", months(48)), date("2028-02-29"));
        // A day it lacks: the first of the month after.
        assert_eq!(next("2028-02-29", months(12)), date("2029-03-01"));
        assert_eq!(next("2025-01-31", months(1)), date("2025-03-01"));
        assert_eq!(next("2025-03-31", months(6)), date("2025-10-01"));
        assert_eq!(next("2025-12-31", months(2)), date("2026-03-01"));
        // Past the last date: never.
        assert_eq!(
            months(100_000).after_anchor(Day::of(NaiveDate::MAX)),
            Day::MAX
        );
        assert_eq!(
            Period {
                length: u32::MAX,
                unit: TimeUnit::Days
            }
            .after_anchor(Day(0)),
            Day::MAX
        );
    }

    #[test]
    fn a_calendar_year_window_starts_on_january_1() {
        for (dos, first) in [
            ("2025-12-31", "2025-01-01"),
            ("2026-01-01", "2026-01-01"),
            ("2028-02-29", "2028-01-01"),
            ("2028-12-31", "2028-01-01"),
        ] {
            let dos = date(dos);
            assert_eq!(CountWindow::CalendarYear.dates(dos), (date(first), dos));
            assert_eq!(
                CountWindow::CalendarYear.days(dos, Day::of(dos)),
                (Day::of(date(first)), Day::of(dos))
            );
        }
    }
}
