//! Services and the windows counts look at: a service as the store is given
//! it, a count's query, a member's services for one claim's counts, and the
//! rules of what a count counts (codes, sites).

use super::*;
use rust_decimal::Decimal;

/// How a count matches earlier services by anatomic site (the language's
/// `per site` and `per site or unsited`; a store knows nothing of the
/// language, so the compiler maps its words to this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteScope {
    /// Same site label; a missing site is a site of its own.
    Strict,
    /// Same site label, and a missing site on either side matches every site.
    OrUnsited,
}

/// One counted service of a member, as the store is given it: the date,
/// procedure, site and modifiers counts match on (see
/// [`Service::with_modifiers`]), and the units, modifier 50 and charge that
/// counts of units and sums of charges add up (see [`Service::with_units`],
/// [`Service::with_charge`]).
///
/// Units, modifier 50 and charge are kept as a store's book keeps them (a
/// packed word, a double with NaN for none) and the date as its day number
/// too, so that storing a service copies them rather than converting them:
/// a claim's services are built and stored on the path of every claim. The
/// book interns the site and the modifiers together (a mark).
#[derive(Debug, Clone, Copy)]
pub struct Service<'a> {
    /// The procedure code.
    pub procedure: CodeKey,
    /// The anatomic site, if the line gave one.
    pub site: Option<&'a str>,
    /// The date of service, as its day number.
    pub(super) day: Day,
    /// The units (at most [`MAX_UNITS`]) and, in the top bit, modifier 50.
    pub(super) units: u32,
    /// The charge; NaN for none (a claim's charge is a finite number).
    pub(super) charge: f64,
    /// The modifiers billed (see [`Service::with_modifiers`]).
    pub(super) modifiers: ModifierCodes,
}

impl<'a> Service<'a> {
    /// A service of one unit, without modifier 50 or a charge (as a
    /// service stored before history kept them reads).
    pub fn new(date: NaiveDate, procedure: CodeKey, site: Option<&'a str>) -> Service<'a> {
        Service::on(Day::of(date), procedure, site)
    }

    /// [`Service::new`] of a date already made a day number.
    #[inline]
    pub fn on(day: Day, procedure: CodeKey, site: Option<&'a str>) -> Service<'a> {
        Service {
            procedure,
            site,
            day,
            units: 1,
            charge: f64::NAN,
            modifiers: ModifierCodes::NONE,
        }
    }

    /// The same service of `units` units (at least 1 on a claim; a store
    /// keeps at most `MAX_UNITS`, and more count as that many), with
    /// modifier 50 when `bilateral`.
    #[inline]
    pub fn with_units(mut self, units: u32, bilateral: bool) -> Service<'a> {
        self.units = units.min(MAX_UNITS) | if bilateral { BILATERAL } else { 0 };
        self
    }

    /// The same service with its billed amount: a claim's double, standing
    /// for the shortest decimal that reads back as it (`crate::number`),
    /// which is what the databases keep as text and what sums add up
    /// exactly. `None` (or NaN) for none; a claim's charge is a finite
    /// number, and an infinite one would sum as the largest amount.
    #[inline]
    pub fn with_charge(mut self, charge: Option<f64>) -> Service<'a> {
        self.charge = charge.unwrap_or(f64::NAN);
        self
    }

    /// The same service billed with `modifiers` (what `with modifier`
    /// looks at; modifier 50 is also kept apart, by
    /// [`Service::with_units`]).
    #[inline]
    pub fn with_modifiers(mut self, modifiers: ModifierCodes) -> Service<'a> {
        self.modifiers = modifiers;
        self
    }

    /// The modifiers billed: none for a service stored before history kept
    /// them.
    #[inline]
    pub fn modifiers(&self) -> ModifierCodes {
        self.modifiers
    }

    /// The date of service.
    pub fn date(&self) -> NaiveDate {
        self.day.date()
    }

    /// The date of service as a day number.
    #[inline]
    pub fn day(&self) -> Day {
        self.day
    }

    /// Units of service: 1 for a service stored before history kept units.
    #[inline]
    pub fn units(&self) -> u32 {
        self.units & !BILATERAL
    }

    /// Whether the line carried modifier `50` (bilateral procedure); false
    /// for a service stored before history kept modifiers.
    #[inline]
    pub fn bilateral(&self) -> bool {
        self.units & BILATERAL != 0
    }

    /// The charge, if the line had one; `None` too for a service stored
    /// before history kept charges (it sums as 0).
    #[inline]
    pub fn charge(&self) -> Option<f64> {
        (!self.charge.is_nan()).then_some(self.charge)
    }

    /// What the service weighs in a count of units: its units, times
    /// `bilateral` when it carried modifier 50 (the language's
    /// `bilateral as K`; 1 counts units as billed).
    #[inline]
    pub fn weight(&self, bilateral: u32) -> u64 {
        weight(self.units(), self.bilateral(), bilateral)
    }
}

/// Equal when every field is, a missing charge equal to a missing charge.
impl PartialEq for Service<'_> {
    fn eq(&self, other: &Service<'_>) -> bool {
        self.procedure == other.procedure
            && self.site == other.site
            && self.day == other.day
            && self.units == other.units
            && self.charge() == other.charge()
            && self.modifiers == other.modifiers
    }
}

/// The units a store keeps per service: a line of more units (validation
/// allows up to `u32::MAX`) counts as this many; the top bit of the stored
/// word is the modifier-50 flag.
pub const MAX_UNITS: u32 = (1 << 31) - 1;

/// The bit of modifier 50 in a service's units word.
pub(super) const BILATERAL: u32 = 1 << 31;

/// `units`, times `k` when `bilateral`: a service's weight in a units count.
#[inline]
pub fn weight(units: u32, bilateral: bool, k: u32) -> u64 {
    u64::from(units) * if bilateral { u64::from(k) } else { 1 }
}

/// Which services a count looks at.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The member (payer and member id) whose services are counted.
    pub member: Member<'a>,
    /// First date counted (inclusive).
    pub from: NaiveDate,
    /// Last date counted (inclusive).
    pub to: NaiveDate,
    /// The procedures counted.
    pub set: &'a CodeSet,
    /// When given, only services with exactly this procedure code count
    /// (`per code`).
    pub code: Option<CodeKey>,
    /// Site matching, against `site`.
    pub scope: Option<SiteScope>,
    /// The site of the line being decided.
    pub site: Option<&'a str>,
    /// Only services billed with one of these modifiers count (`with
    /// modifier`); [`ModifierFilter::ANY`] for every service.
    pub modifiers: ModifierFilter,
}

impl<'a> Query<'a> {
    /// True when `service` is one this query counts (window, set, code,
    /// site, modifiers).
    pub fn matches(&self, service: &Service<'_>) -> bool {
        service.date() >= self.from
            && service.date() <= self.to
            && counts_service(self.set, self.code, self.scope, self.site, service)
            && self.modifiers.admits(service.modifiers)
    }

    /// What the query counts among `window`'s services (the member's), as
    /// the window looks them up: days for dates, the site's id for its name.
    pub fn in_window(&self, window: &Window<'_>) -> Counted<'a> {
        Counted {
            from: Day::of(self.from),
            to: Day::of(self.to),
            set: self.set,
            code: self.code,
            scope: self.scope,
            site: match self.scope {
                Some(_) => window.site(self.site),
                None => SiteId::NONE,
            },
            modifiers: self.modifiers,
        }
    }
}

/// Whether a count of `set` (only procedure `code`, when given; at a site
/// matching `site` under `scope`) counts `service`, its window and its
/// modifiers aside (a count `with modifier` also asks
/// [`ModifierFilter::admits`]): the
/// rule of [`Query::matches`] and of the evaluator's count of a claim's
/// earlier lines, which compares days instead of dates.
#[inline]
pub fn counts_service(
    set: &CodeSet,
    code: Option<CodeKey>,
    scope: Option<SiteScope>,
    site: Option<&str>,
    service: &Service<'_>,
) -> bool {
    set.contains(service.procedure)
        && code.is_none_or(|c| c == service.procedure)
        && site_matches(scope, site, service.site)
}

/// A member's counted services, as a store lends them to the counts of one
/// claim: the member's book is found once per claim rather than once per
/// count, and days are compared as numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window<'a> {
    /// The services, by day.
    pub(super) entries: &'a [Entry],
    /// The entries by procedure and mark (site and modifiers), when the patient has many.
    pub(super) index: Option<&'a CodeIndex>,
    /// The store's sites and modifiers, which `entries` hold by mark.
    pub(super) marks: Option<&'a Marks>,
}

/// A site as a [`Window`] knows it: 0 for none, `u32::MAX` for one never
/// recorded, which matches no stored site; found once per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteId(u32);

impl SiteId {
    /// No site: what a count that does not match sites is given.
    pub const NONE: SiteId = SiteId(0);
}

impl Window<'_> {
    /// True when the member has no services to count.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True when the window counts from a large book's index (for tests
    /// that mean to go through it).
    #[cfg(test)]
    pub fn indexed(&self) -> bool {
        self.index.is_some()
    }

    /// The id of a line's site, for [`Window::count`].
    pub fn site(&self, site: Option<&str>) -> SiteId {
        SiteId(match (site, self.marks) {
            (Some(s), Some(marks)) => marks.sites.id(s).unwrap_or(u32::MAX),
            (Some(_), None) => u32::MAX,
            (None, _) => 0,
        })
    }

    /// Calls `f` with each service `c` counts: what [`Window::count`]
    /// counts, for the sums of units and charges. A book with an index
    /// finds them in the days of the (procedure, mark) pairs `c` counts;
    /// others are read from the window's end back to its start, as counts
    /// are.
    fn each(&self, c: &Counted<'_>, mut f: impl FnMut(&Entry)) {
        let marks = self.marks;
        if let Some(index) = self.index {
            let entries = self.entries;
            index.each(c, marks, |at| {
                if let Some(e) = entries.get(at) {
                    f(e);
                }
            });
            return;
        }
        for e in self.up_to(c.to).iter().rev() {
            if e.day < c.from {
                break;
            }
            if c.counts(e.procedure, e.mark, marks) {
                f(e);
            }
        }
    }

    /// Calls `f` with the date of service (its day) of each service `c`
    /// counts, in no particular order and once per service: what a count of
    /// distinct dates (`dates`) gathers.
    pub fn days(&self, c: &Counted<'_>, mut f: impl FnMut(Day)) {
        self.each(c, |e| f(e.day));
    }

    /// The units of the services `c` counts, each weighing its units, times
    /// `bilateral` when it carried modifier 50.
    pub fn units(&self, c: &Counted<'_>, bilateral: u32) -> u64 {
        let mut total = 0u64;
        self.each(c, |e| {
            total = total.saturating_add(weight(e.units(), e.bilateral(), bilateral));
        });
        total
    }

    /// The charges of the services `c` counts, added up exactly as
    /// decimals; a service without a charge adds 0. Saturates at the
    /// decimal's largest value.
    pub fn charges(&self, c: &Counted<'_>) -> Decimal {
        let mut total = Decimal::ZERO;
        self.each(c, |e| {
            if let Some(charge) = e.charge() {
                total = total.saturating_add(crate::number::decimal_of(charge));
            }
        });
        total
    }

    /// How many services `c` counts. Inlined: a line's counts call it with
    /// a `Counted` built in place, which then needs no copy in memory.
    #[inline]
    pub fn count(&self, c: &Counted<'_>) -> u32 {
        let marks = self.marks;
        if let Some(index) = self.index {
            return u32::try_from(index.count(c, marks)).unwrap_or(u32::MAX);
        }
        // The scan runs back from the window's end and stops at the first
        // service before the window.
        let mut n = 0usize;
        for e in self.up_to(c.to).iter().rev() {
            if e.day < c.from {
                break;
            }
            n += usize::from(c.counts(e.procedure, e.mark, marks));
        }
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The services dated on or before day `to`, by day. Every window ends
    /// on or just before the line's date, usually after the member's latest
    /// service: the end is then the list's, found without a search, and
    /// services after it (a claim older than others of the member, or the
    /// same day) are cut by a binary search rather than one by one.
    #[inline]
    fn up_to(&self, to: Day) -> &[Entry] {
        let all = self.entries;
        if all.last().is_none_or(|e| e.day <= to) {
            all
        } else {
            all.get(..all.partition_point(|e| e.day <= to))
                .unwrap_or_default()
        }
    }

    /// The day of the earliest service `c` counts, if any: where an
    /// anchored period (`12 months from first`) starts. A search for the
    /// window's start and a scan to the first service that counts, or, for
    /// a book with an index, a search in each procedure and mark it counts.
    pub fn first(&self, c: &Counted<'_>) -> Option<Day> {
        let marks = self.marks;
        if let Some(index) = self.index {
            return index.first(c, marks).filter(|d| *d <= c.to);
        }
        // Without an index the services are in date order.
        let all = self.entries;
        let start = all.partition_point(|e| e.day < c.from);
        all.get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|e| e.day <= c.to)
            .find(|e| c.counts(e.procedure, e.mark, marks))
            .map(|e| e.day)
    }
}

/// Which of a member's services a count, a sum or an anchored period's
/// search looks at ([`Window::count`], [`Window::units`],
/// [`Window::charges`], [`Window::first`]).
#[derive(Debug, Clone, Copy)]
pub struct Counted<'a> {
    /// First day looked at (inclusive).
    pub from: Day,
    /// Last day looked at (inclusive).
    pub to: Day,
    /// The procedures counted.
    pub set: &'a CodeSet,
    /// When given, only services with exactly this procedure code count
    /// (`per code`).
    pub code: Option<CodeKey>,
    /// Site matching, against `site`.
    pub scope: Option<SiteScope>,
    /// The site of the line being decided, of [`Window::site`]
    /// ([`SiteId::NONE`] when `scope` is `None`).
    pub site: SiteId,
    /// Only services billed with one of these modifiers count (`with
    /// modifier`); [`ModifierFilter::ANY`] for every service.
    pub modifiers: ModifierFilter,
}

impl Counted<'_> {
    /// Whether a stored service of `procedure` with mark `mark` (its site
    /// and modifiers, of `marks`) counts, its day aside: [`counts_service`]
    /// and [`ModifierFilter::admits`] on ids. The code is compared first
    /// (an equality, where membership is a search); the mark is looked up
    /// only by a count that matches sites or modifiers.
    #[inline(always)]
    pub(super) fn counts(&self, procedure: CodeKey, mark: u32, marks: Option<&Marks>) -> bool {
        if !(self.code.is_none_or(|c| c == procedure) && self.set.contains(procedure)) {
            return false;
        }
        if self.scope.is_none() && self.modifiers.is_any() {
            return true;
        }
        let (at, billed) = marks.map_or((0, ModifierCodes::NONE), |m| m.of(mark));
        let site = self.site.0;
        let sited = match self.scope {
            None => true,
            Some(SiteScope::Strict) => at == site,
            Some(SiteScope::OrUnsited) => site == 0 || at == 0 || at == site,
        };
        sited && self.modifiers.admits(billed)
    }
}

impl<'a> Window<'a> {
    /// Whether some service on day `day` meets `test` (stopping at the
    /// first that does): what a same-day quantifier asks of the services of
    /// earlier claims. Each service of the day is given, with its units,
    /// modifier 50, charge and modifiers (what `other.units`, `other.charge`
    /// and `other.modifiers` read):
    /// a book with an index finds the day in each (procedure, mark) pair's
    /// days (see `code_index.rs`), so that a member with 100,000 services is
    /// not scanned service by service; others are in date order and are
    /// scanned back from the day's last service.
    pub fn any_on(&self, day: Day, mut test: impl FnMut(&Service<'a>) -> bool) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let marks = self.marks;
        // Made only for a service of the day: most days have none.
        let service = |e: &Entry| e.service(marks);
        if let Some(index) = self.index {
            let entries = self.entries;
            return index.any_on(day, |at| entries.get(at).is_some_and(|e| test(&service(e))));
        }
        // As in `count`: the scan runs back from the day's last service.
        self.up_to(day)
            .iter()
            .rev()
            .take_while(|e| e.day == day)
            .any(|e| test(&service(e)))
    }
}

/// Site matching as the language defines it (see `SiteScope`).
pub fn site_matches(
    scope: Option<SiteScope>,
    current: Option<&str>,
    earlier: Option<&str>,
) -> bool {
    match scope {
        None => true,
        Some(SiteScope::Strict) => current == earlier,
        Some(SiteScope::OrUnsited) => current.is_none() || earlier.is_none() || current == earlier,
    }
}
