//! A large book's services by procedure and mark (site and modifiers), for
//! counts in time logarithmic in the patient's history. A count scans its
//! window's services one by one, which is quickest for the few services
//! nearly every patient has; but one member with 100,000 claims made every
//! claim's counts scan tens of thousands of services (quadratic: 14 s). A
//! book past [`CodeIndex::FROM`] services also keeps, for each procedure and
//! mark it holds, the days of its services sorted: a count then looks at
//! each such list that it counts (a patient has few; whether a list counts
//! is known from its procedure and mark, `with modifier` included) and finds
//! its window's days by two binary searches.

use super::book::Entry;
use super::window::Counted;
use super::*;

/// The days of a book's services, by procedure and mark (see [`Marks`]).
#[derive(Debug, Default)]
pub(super) struct CodeIndex {
    /// (procedure, mark) and that pair's days; few pairs per patient (a
    /// patient bills few sites and few lists of modifiers, each list in
    /// the order billed), so a list searched in order. A count decides by a pair whether its
    /// services count (code, site and modifiers alike), never by a service.
    lists: Vec<((CodeKey, u32), Days)>,
}

/// One service of a pair: its day, and where it is among the book's
/// services (which keep their places while the book has an index: they are
/// appended, and the index is made again when some are taken out), so that a
/// same-day quantifier reads each service of a day (its units, its charge),
/// not only which pairs the day has.
type At = (Day, u32);

/// One pair's days: most sorted, the latest few not yet. Inserting each day
/// in its place moved half the list when claims came out of date order
/// (quadratic again); the latest days are gathered unsorted and merged in
/// once there are [`Days::RECENT`] of them.
#[derive(Debug, Default)]
struct Days {
    sorted: Vec<At>,
    recent: Vec<At>,
}

impl Days {
    const RECENT: usize = 128;

    fn add(&mut self, at: At) {
        if self.recent.is_empty() && self.sorted.last().is_none_or(|d| d.0 <= at.0) {
            self.sorted.push(at);
            return;
        }
        self.recent.push(at);
        if self.recent.len() >= Self::RECENT {
            self.recent.sort_unstable_by_key(|d| d.0);
            let mut merged = Vec::with_capacity(self.sorted.len() + self.recent.len());
            let (mut a, mut b) = (self.sorted.iter().peekable(), self.recent.iter().peekable());
            while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
                if x.0 <= y.0 {
                    merged.extend(a.next());
                } else {
                    merged.extend(b.next());
                }
            }
            merged.extend(a);
            merged.extend(b);
            self.sorted = merged;
            self.recent.clear();
        }
    }

    /// The earliest day on or after `from`.
    fn first(&self, from: Day) -> Option<Day> {
        let sorted = self
            .sorted
            .get(self.sorted.partition_point(|d| d.0 < from))
            .map(|d| d.0);
        let recent = self.recent.iter().map(|d| d.0).filter(|d| *d >= from).min();
        match (sorted, recent) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The services from day `from` to day `to`, both included.
    fn between(&self, from: Day, to: Day) -> (&[At], impl Iterator<Item = &At>) {
        let start = self.sorted.partition_point(|d| d.0 < from);
        let end = self.sorted.partition_point(|d| d.0 <= to);
        let sorted = self.sorted.get(start..end).unwrap_or_default();
        let recent = self.recent.iter().filter(move |d| d.0 >= from && d.0 <= to);
        (sorted, recent)
    }

    /// How many days are from `from` to `to`, both included.
    fn count(&self, from: Day, to: Day) -> usize {
        let (sorted, recent) = self.between(from, to);
        sorted.len() + recent.count()
    }
}

impl CodeIndex {
    /// The number of services from which a book keeps an index.
    pub(super) const FROM: usize = 256;

    /// The index of `services`.
    pub(super) fn of(services: &[Entry]) -> CodeIndex {
        let mut index = CodeIndex::default();
        for (at, e) in services.iter().enumerate() {
            index.add(e, at);
        }
        index
    }

    /// Adds one service, at place `at` among the book's services. A book
    /// of more than `u32::MAX` services is beyond memory; past it a service
    /// would be kept at place `u32::MAX`, which names no service there.
    pub(super) fn add(&mut self, e: &Entry, at: usize) {
        let key = (e.procedure, e.mark);
        let list = match self.lists.iter().position(|(k, _)| *k == key) {
            Some(list) => list,
            None => {
                self.lists.push((key, Days::default()));
                self.lists.len() - 1
            }
        };
        if let Some((_, days)) = self.lists.get_mut(list) {
            days.add((e.day, u32::try_from(at).unwrap_or(u32::MAX)));
        }
    }

    /// The days of the (procedure, mark) pairs `c` counts, the marks
    /// looked up in `marks`.
    #[inline]
    fn counted<'s>(
        &'s self,
        c: &'s Counted<'s>,
        marks: Option<&'s Marks>,
    ) -> impl Iterator<Item = &'s Days> {
        self.lists
            .iter()
            .filter(move |((procedure, mark), _)| c.counts(*procedure, *mark, marks))
            .map(|(_, days)| days)
    }

    /// What [`Window::first`] finds, from the index: the earliest day on or
    /// after `c.from` of a service `c` counts (`c.to` aside).
    pub(super) fn first(&self, c: &Counted<'_>, marks: Option<&Marks>) -> Option<Day> {
        self.counted(c, marks)
            .filter_map(|days| days.first(c.from))
            .min()
    }

    /// Calls `f` with the place among the book's services of each service
    /// `c` counts: what [`Window::units`] and [`Window::charges`] add up,
    /// found by a search in each counted pair's days rather than by reading
    /// the whole book.
    pub(super) fn each(&self, c: &Counted<'_>, marks: Option<&Marks>, mut f: impl FnMut(usize)) {
        for days in self.counted(c, marks) {
            let (sorted, recent) = days.between(c.from, c.to);
            sorted.iter().chain(recent).for_each(|d| f(d.1 as usize));
        }
    }

    /// Whether `test` holds for some service on day `day`, given by its
    /// place among the book's services: [`Window::any_on`] from the index,
    /// a search in each pair's days.
    pub(super) fn any_on(&self, day: Day, mut test: impl FnMut(usize) -> bool) -> bool {
        self.lists.iter().any(|(_, days)| {
            let (sorted, mut recent) = days.between(day, day);
            sorted.iter().any(|d| test(d.1 as usize)) || recent.any(|d| test(d.1 as usize))
        })
    }

    /// What [`Window::count`] counts, from the index.
    pub(super) fn count(&self, c: &Counted<'_>, marks: Option<&Marks>) -> usize {
        self.counted(c, marks)
            .map(|days| days.count(c.from, c.to))
            .sum()
    }
}
