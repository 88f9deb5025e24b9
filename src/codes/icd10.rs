//! The shipped ICD-10-CM table ([`EDITION`]): every header and billable code of
//! the fiscal years in [`YEARS`], with the years in which it is billable or a
//! header, and its CMS description.
//!
//! `build.rs` turns `data/icd10cm.tsv.gz` into a blob that is embedded with
//! `include_bytes!` and searched in place, so nothing is parsed at start-up:
//!
//! ```text
//! header   8 bytes   b"I10Y", u32 LE record count
//! records  16 bytes  u64 BE key, u8 billable years, u8 header years (bit i for
//!                    YEARS[i]), u32 LE text offset, u16 LE description length;
//!                    sorted by key
//! text     ...       per record the dotted code then its description (UTF-8)
//! ```
//!
//! Chapters and blocks (`A00-A09`) are groupings, not codes, and are not in the
//! table. Keep this file and `build.rs` in step.
//!
//! A date of service is read against one year of the table, [`table_year`]:
//! its own fiscal year when the table has it, else the next year the table has
//! (the gaps are named in `data/README.md`), the oldest for dates from
//! 2015-10-01 (when ICD-10-CM took effect) to the oldest year, the newest for
//! dates after it.

use std::ops::Range;
use std::sync::atomic::{AtomicU8, Ordering};

use chrono::{Datelike, NaiveDate};

use super::key::MAX_CODE_LEN;
use super::CodeKey;

include!(concat!(env!("OUT_DIR"), "/icd10cm_years.rs"));

/// The code sets this table holds, for messages.
pub const EDITION: &str = "the ICD-10-CM code sets of FY2019, FY2021, FY2025 and FY2026";

/// The day ICD-10-CM took effect in the United States: no ICD-10-CM code is
/// valid on a date of service before it (ICD-9-CM was in force).
pub const ICD10_START: NaiveDate = date(2015, 10, 1);

/// Whether a code may be reported on a claim.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Icd10Kind {
    /// A complete code that can be reported (`M79.18`).
    Billable,
    /// A category or subcategory that has more specific codes below it (`M79.1`)
    /// and cannot be reported itself.
    Header,
}

/// A set of the table's years: bit `i` stands for `YEARS[i]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct YearSet(pub u8);

impl YearSet {
    /// Every year of the table.
    pub const ALL: YearSet = YearSet(((1u16 << YEARS.len()) - 1) as u8);
    /// The newest year of the table alone.
    pub const NEWEST: YearSet = YearSet(1 << (YEARS.len() - 1));

    /// The set of one year, by its index in [`YEARS`].
    pub const fn one(index: usize) -> YearSet {
        YearSet(1 << index)
    }

    /// The years from index `from` to index `to`, both included.
    pub fn span(from: usize, to: usize) -> YearSet {
        YearSet((from..=to.min(YEARS.len() - 1)).fold(0, |s, i| s | 1 << i))
    }

    /// True when no year is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when the two sets share a year.
    pub const fn meets(self, other: YearSet) -> bool {
        self.0 & other.0 != 0
    }

    /// The years in both sets.
    pub const fn and(self, other: YearSet) -> YearSet {
        YearSet(self.0 & other.0)
    }

    /// True when every year of `self` is in `other`.
    pub const fn within(self, other: YearSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The fiscal years in the set, oldest first.
    pub fn years(self) -> impl Iterator<Item = u16> {
        YEARS
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, y)| y)
    }

    /// "FY2019, FY2021", or "no year".
    pub fn describe(self) -> String {
        let years: Vec<String> = self.years().map(|y| format!("FY{y}")).collect();
        if years.is_empty() {
            "no year".to_owned()
        } else {
            years.join(", ")
        }
    }
}

/// One code of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Icd10Code {
    /// The code as CMS prints it, with the dot (`M79.18`).
    pub code: &'static str,
    /// The packed code, for interval tests against policy code sets.
    pub key: CodeKey,
    /// Billable or header in the newest year that has the code.
    pub kind: Icd10Kind,
    /// The years in which the code is billable.
    pub billable: YearSet,
    /// The years in which the code is a header.
    pub header: YearSet,
    /// The CMS description (`Myalgia, other site`) of the newest year that has
    /// the code.
    pub description: &'static str,
}

impl Icd10Code {
    /// The years in which the code exists, billable or header.
    pub fn years(&self) -> YearSet {
        YearSet(self.billable.0 | self.header.0)
    }
}

/// How a date of service finds its year in the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Fit {
    /// The date's own fiscal year is in the table.
    Exact,
    /// The date's fiscal year is missing between two years of the table: the
    /// next year the table has is used.
    Gap,
    /// The date is on or after 2015-10-01 but before the oldest year of the
    /// table, which is used.
    BeforeOldest,
    /// The date is after the newest year of the table, which is used.
    AfterNewest,
}

impl Fit {
    const fn bit(self) -> u8 {
        match self {
            Fit::Exact => 0,
            Fit::Gap => 1,
            Fit::BeforeOldest => 2,
            Fit::AfterNewest => 4,
        }
    }
}

/// The year of the table that decides codes on a date of service.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TableYear {
    /// Its index in [`YEARS`].
    pub index: usize,
    /// Whether it is the date's own fiscal year.
    pub fit: Fit,
}

impl TableYear {
    /// The fiscal year of the table used (`2025`).
    pub fn year(self) -> u16 {
        YEARS.get(self.index).copied().unwrap_or_default()
    }

    /// This year alone, as a set.
    pub const fn set(self) -> YearSet {
        YearSet::one(self.index)
    }
}

/// A date in a `const` (a valid one; `NaiveDate::MIN` would show a typo here).
const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => NaiveDate::MIN,
    }
}

/// For each year of the table, the first and last day of its fiscal year
/// (October 1 of the year before to September 30).
#[expect(
    clippy::indexing_slicing,
    reason = "a const loop over `i < YEARS.len()`, the length of both arrays; a const block cannot use `get_mut`"
)]
const BOUNDS: [(NaiveDate, NaiveDate); YEARS.len()] = {
    let mut bounds = [(NaiveDate::MIN, NaiveDate::MIN); YEARS.len()];
    let mut i = 0;
    while i < YEARS.len() {
        let y = YEARS[i] as i32;
        bounds[i] = (date(y - 1, 10, 1), date(y, 9, 30));
        i += 1;
    }
    bounds
};

/// The fiscal year of a date: October 1 starts the next one (2021-10-01 is in
/// FY2022).
pub fn fiscal_year(d: NaiveDate) -> i32 {
    d.year() + i32::from(d.month() >= 10)
}

/// The year of the table that decides codes on `d`: `None` before 2015-10-01,
/// when no ICD-10-CM code was valid. A few comparisons: this is on the path of
/// every claim.
#[inline]
pub fn table_year(d: NaiveDate) -> Option<TableYear> {
    if d < ICD10_START {
        return None;
    }
    let newest = YEARS.len() - 1;
    let index = BOUNDS
        .iter()
        .position(|&(_, last)| d <= last)
        .unwrap_or(newest);
    let (first, last) = BOUNDS.get(index).copied()?;
    let fit = if d > last {
        Fit::AfterNewest
    } else if d >= first {
        Fit::Exact
    } else if index == 0 {
        Fit::BeforeOldest
    } else {
        Fit::Gap
    };
    Some(TableYear { index, fit })
}

/// The table years of the dates from `from` to `to` (both included; `None` for
/// no end): every year a policy in force on those dates is read against. Empty
/// when every date is before 2015-10-01.
pub fn years_between(from: NaiveDate, to: Option<NaiveDate>) -> YearSet {
    let first = table_year(from.max(ICD10_START)).map(|t| t.index);
    let last = match to {
        None => Some(YEARS.len() - 1),
        Some(to) => table_year(to).map(|t| t.index),
    };
    match (first, last) {
        (Some(a), Some(b)) if a <= b => YearSet::span(a, b),
        _ => YearSet::default(),
    }
}

/// The fits other than [`Fit::Exact`] met since the process started, one bit
/// each: for the summary of a batch, which names each once.
static FITS_SEEN: AtomicU8 = AtomicU8::new(0);

/// Records that a date of service was read with `fit` (nothing for an exact
/// one). A load and, the first time only, a store: cheap on the claim path.
#[inline]
pub fn note_fit(fit: Fit) {
    let bit = fit.bit();
    if bit != 0 && FITS_SEEN.load(Ordering::Relaxed) & bit == 0 {
        FITS_SEEN.fetch_or(bit, Ordering::Relaxed);
    }
}

/// The fits other than [`Fit::Exact`] that [`note_fit`] recorded, in the order
/// gap, before the oldest year, after the newest.
pub fn fits_seen() -> Vec<Fit> {
    let seen = FITS_SEEN.load(Ordering::Relaxed);
    [Fit::Gap, Fit::BeforeOldest, Fit::AfterNewest]
        .into_iter()
        .filter(|f| seen & f.bit() != 0)
        .collect()
}

/// What a batch's summary says, once, about dates read with `fit`: which
/// dates, and which year's code set was used. `None` for [`Fit::Exact`].
pub fn fit_note(fit: Fit) -> Option<String> {
    let shipped = YearSet::ALL.describe();
    let (&oldest, &newest) = (YEARS.first()?, YEARS.last()?);
    Some(match fit {
        Fit::Exact => return None,
        Fit::Gap => {
            let gaps: Vec<String> = (oldest..newest)
                .filter(|y| !YEARS.contains(y))
                .map(|y| format!("FY{y}"))
                .collect();
            format!(
                "ICD-10-CM: dates of service in {}, whose code sets are not shipped, were checked against the next shipped year (shipped: {shipped})",
                gaps.join(", ")
            )
        }
        Fit::BeforeOldest => format!(
            "ICD-10-CM: dates of service from {ICD10_START} to {}-09-30 were checked against FY{oldest}, the oldest shipped code set (shipped: {shipped})",
            oldest - 1
        ),
        Fit::AfterNewest => format!(
            "ICD-10-CM: dates of service after {newest}-09-30 were checked against FY{newest}, the newest shipped code set (shipped: {shipped})"
        ),
    })
}

macro_rules! blob {
    () => {
        include_bytes!(concat!(env!("OUT_DIR"), "/icd10cm.bin"))
    };
}

static BLOB: &[u8] = blob!();

const HEADER: usize = 8;
const RECORD: usize = 16;

/// Number of records, read from the blob header at compile time; the asserts
/// turn a blob that does not match this reader into a build error.
const COUNT: usize = {
    let b: &[u8] = blob!();
    assert!(b.len() >= HEADER, "icd10cm.bin: truncated header");
    assert!(
        matches!(b, [b'I', b'1', b'0', b'Y', ..]),
        "icd10cm.bin: bad magic"
    );
    let n = match b {
        [_, _, _, _, n0, n1, n2, n3, ..] => u32::from_le_bytes([*n0, *n1, *n2, *n3]) as usize,
        _ => 0, // ruled out by the header assert above
    };
    assert!(
        b.len() >= HEADER + n * RECORD,
        "icd10cm.bin: truncated records"
    );
    assert!(
        !YEARS.is_empty() && YEARS.len() <= 8,
        "icd10cm.bin: 1 to 8 years"
    );
    n
};

/// Where the text area starts.
const TEXT: usize = HEADER + COUNT * RECORD;

/// Number of codes (headers and billable, of any year) in the table.
pub fn len() -> usize {
    COUNT
}

/// The billable and header years of record `i`, without reading the rest of
/// it (empty past the end).
fn years_at(i: usize) -> (YearSet, YearSet) {
    if i >= COUNT {
        return (YearSet(0), YearSet(0));
    }
    let at = HEADER + i * RECORD + 8;
    match BLOB.get(at..at + 2) {
        Some(&[b, h]) => (YearSet(b), YearSet(h)),
        _ => (YearSet(0), YearSet(0)),
    }
}

/// Whether record `i` is billable in one of `years`.
fn is_billable_at(i: usize, years: YearSet) -> bool {
    years_at(i).0.meets(years)
}

/// The packed key of record `i`; zero, which no code packs to, past the end.
fn key_at(i: usize) -> u64 {
    if i >= COUNT {
        return 0;
    }
    let at = HEADER + i * RECORD;
    BLOB.get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Record `i`, or `None` past the end (or for a blob this reader does not know).
fn record(i: usize) -> Option<Icd10Code> {
    if i >= COUNT {
        return None;
    }
    let at = HEADER + i * RECORD;
    let &[k0, k1, k2, k3, k4, k5, k6, k7, billable, header, o0, o1, o2, o3, d0, d1] =
        BLOB.get(at..at + RECORD)?
    else {
        return None;
    };
    let key = CodeKey(u64::from_be_bytes([k0, k1, k2, k3, k4, k5, k6, k7]));
    // The newest year that has the code says what it is now.
    let kind = if billable > header {
        Icd10Kind::Billable
    } else {
        Icd10Kind::Header
    };
    let code_len = key.len() + usize::from(key.len() > 3);
    let start = TEXT + u32::from_le_bytes([o0, o1, o2, o3]) as usize;
    let mid = start + code_len;
    let end = mid + usize::from(u16::from_le_bytes([d0, d1]));
    Some(Icd10Code {
        code: std::str::from_utf8(BLOB.get(start..mid)?).ok()?,
        key,
        kind,
        billable: YearSet(billable),
        header: YearSet(header),
        description: std::str::from_utf8(BLOB.get(mid..end)?).ok()?,
    })
}

/// The records of `key`'s category, the first three characters (`build.rs`
/// indexes them), or `None` for a key no code of the table can start like.
#[inline]
fn prefix_range(key: u64) -> Option<Range<usize>> {
    let [a, b, c, ..] = key.to_be_bytes();
    if !a.is_ascii_uppercase() {
        return None;
    }
    let digit = |x: u8| match x {
        b'0'..=b'9' => Some(usize::from(x - b'0')),
        b'A'..=b'Z' => Some(usize::from(x - b'A' + 10)),
        _ => None,
    };
    let p = (usize::from(a - b'A') * 36 + digit(b)?) * 36 + digit(c)?;
    let start = *PREFIX_STARTS.get(p)? as usize;
    let end = *PREFIX_STARTS.get(p + 1)? as usize;
    Some(start..end.max(start))
}

/// The record index of `key`, when the table has it.
#[inline]
fn find(key: u64) -> Option<usize> {
    let Range { start, end } = prefix_range(key)?;
    let (mut lo, mut hi) = (start, end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if key_at(mid) < key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    (lo < end && key_at(lo) == key).then_some(lo)
}

/// The years in which the code `key` is billable and those in which it is a
/// header; both empty for a code of no year. What a claim's diagnosis is
/// checked with: a binary search of its category's records, remembered in
/// `RECENT`.
#[inline]
pub fn years_of(key: CodeKey) -> (YearSet, YearSet) {
    // The key, never zero for a code, says whether the slot holds this code.
    RECENT.with(|recent| {
        let Some(cell) = recent.get(recent_slot(key)) else {
            return search_years(key);
        };
        let (stored, billable, header) = cell.get();
        if stored == key.0 && stored != 0 {
            return (YearSet(billable), YearSet(header));
        }
        let years = search_years(key);
        cell.set((key.0, years.0 .0, years.1 .0));
        years
    })
}

/// [`years_of`] without the cache.
fn search_years(key: CodeKey) -> (YearSet, YearSet) {
    find(key.0).map_or((YearSet(0), YearSet(0)), years_at)
}

/// The slot of `RECENT` a key is kept in: its bits spread over the slots
/// (Fibonacci hashing).
fn recent_slot(key: CodeKey) -> usize {
    (key.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - RECENT_BITS)) as usize
}

/// Log2 of the slots of `RECENT`.
const RECENT_BITS: u32 = 8;

thread_local! {
    /// The years of the codes looked up lately on this thread, one code per
    /// slot (the last one that hashed there). Claims repeat a few hundred
    /// diagnosis codes, and the binary search of a category (branches no
    /// predictor learns) was 2% of `eval`'s time at a million claims; a hit
    /// is one multiplication and one compare. 4 KiB per thread; the table
    /// never changes, so an entry is never stale.
    static RECENT: [std::cell::Cell<(u64, u8, u8)>; 1 << RECENT_BITS] =
        const { [const { std::cell::Cell::new((0, 0, 0)) }; 1 << RECENT_BITS] };
}

/// The first record index whose key does not satisfy `before` (binary search;
/// `before` must hold for a prefix of the sorted records).
fn partition_point(before: impl Fn(u64) -> bool) -> usize {
    let (mut lo, mut hi) = (0, COUNT);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(key_at(mid)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Looks a code up by its text, with or without the dot and in any case
/// (`M79.18`, `m7918`). Text that is not [well formed](is_well_formed), including
/// text with surrounding whitespace, finds nothing.
pub fn lookup(text: &str) -> Option<Icd10Code> {
    if !is_well_formed(text) {
        return None;
    }
    CodeKey::parse(text).and_then(lookup_key)
}

/// Looks a code up by its packed key.
pub fn lookup_key(key: CodeKey) -> Option<Icd10Code> {
    find(key.0).and_then(record)
}

/// Every code (header or billable) with `lo <= key <= hi`, in key order. Use
/// `hi.prefix_end()` to include the codes that extend `hi`: the range
/// `M60.80-M60.89` is `in_range(M6080, M6089.prefix_end())`.
pub fn in_range(lo: CodeKey, hi: CodeKey) -> impl Iterator<Item = Icd10Code> {
    indices(lo, hi).filter_map(record)
}

/// The record indices with `lo <= key <= hi`.
fn indices(lo: CodeKey, hi: CodeKey) -> Range<usize> {
    let start = partition_point(|k| k < lo.0);
    let end = partition_point(|k| k <= hi.0).max(start);
    start..end
}

/// The codes billable in the newest year that start with `key` and are longer
/// than it, in key order: for `M79.1` these are `M79.10`, `M79.11`, `M79.12`
/// and `M79.18`. Empty for a billable leaf and for a key that is not a prefix
/// of any code.
pub fn billable_descendants(key: CodeKey) -> impl Iterator<Item = Icd10Code> {
    billable_descendants_in(key, YearSet::NEWEST)
}

/// The codes billable in one of `years` that start with `key` and are longer
/// than it, in key order.
pub fn billable_descendants_in(key: CodeKey, years: YearSet) -> impl Iterator<Item = Icd10Code> {
    in_range(key, key.prefix_end()).filter(move |c| c.billable.meets(years) && c.key != key)
}

/// True when `text` has the shape of an ICD-10-CM code: a letter, then two
/// letters or digits (the category, `M79`; the second character is a letter in
/// FY2026 category `QA0`), then up to four letters or digits, optionally after a
/// single dot right after the category (`M79.18` or `M7918`; a dot must be
/// followed by something). 3 to 7 characters without the dot, either case,
/// nothing else (no spaces). Says nothing about whether the code exists; see
/// [`lookup`].
pub fn is_well_formed(text: &str) -> bool {
    let [first, second, third, rest @ ..] = text.as_bytes() else {
        return false;
    };
    let tail = match rest {
        [b'.', tail @ ..] if !tail.is_empty() => tail,
        [b'.', ..] => return false,
        tail => tail,
    };
    first.is_ascii_alphabetic()
        && second.is_ascii_alphanumeric()
        && third.is_ascii_alphanumeric()
        && tail.len() <= 4
        && tail.iter().all(u8::is_ascii_alphanumeric)
}

/// Up to `n` billable codes close to `text`, best first, for "did you mean"
/// suggestions when `text` is not a billable code. Candidates are the billable
/// codes sharing the longest prefix with `text` (dots, case and other
/// punctuation ignored). They are ranked by the edit distance from `text` to the
/// closest start of the candidate (so a header with a typo still finds the codes
/// below it), then by the edit distance to the whole candidate, then by
/// closeness in code order; swapping look-alike characters (`O`/`0`, `I`/`1`,
/// `S`/`5`, ...) costs half an edit; candidates are billable in the newest
/// year. `M79.19` gives `M79.18`, `M79.12`,
/// `M79.11`, `M79.10`; the header `M79.1` gives its billable codes; the typo
/// `M7O.1` gives `M70.10`, `M70.11`, `M70.12`. A billable `text` comes first.
///
/// The cost grows with the number of candidates (release build): a few
/// microseconds when the category is shared, about 0.5 ms when only the first
/// letter is (`S`), about 2 ms when not even that is and the whole table
/// competes (`7M9.18`).
pub fn nearest(text: &str, n: usize) -> Vec<Icd10Code> {
    nearest_in(text, n, YearSet::NEWEST)
}

/// [`nearest`] among the codes billable in one of `years`.
pub fn nearest_in(text: &str, n: usize, years: YearSet) -> Vec<Icd10Code> {
    let query: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase())
        .take(MAX_CODE_LEN)
        .collect();
    if n == 0 || query.is_empty() {
        return Vec::new();
    }

    // The longest prefix of the query that still has billable codes below it.
    let candidates = (1..=query.len())
        .rev()
        .filter_map(|len| query.get(..len))
        .map(|prefix| {
            let prefix = CodeKey(pack(prefix));
            indices(prefix, prefix.prefix_end())
        })
        .find(|range| range.clone().any(|i| is_billable_at(i, years)))
        .unwrap_or(0..COUNT); // nothing shares even the first character

    // Where the query sits in code order, reading a look-alike letter in the
    // category's digit positions as its digit (`M7O` as `M70`): the last
    // tie-break.
    let mut anchor = query.clone();
    for b in anchor.iter_mut().skip(1).take(2) {
        *b = look_alike(*b);
    }
    let anchor = pack(&anchor);

    let mut distance = Distance::new(&query);
    let mut scored: Vec<((u8, u8, u64), usize)> = candidates
        .filter(|&i| is_billable_at(i, years))
        .map(|i| {
            let key = key_at(i);
            let bytes = key.to_be_bytes();
            // A key is at most 8 characters, so the `get` always succeeds.
            let code = bytes.get(..CodeKey(key).len()).unwrap_or(&bytes);
            let (to_start, to_whole) = distance.to(code);
            ((to_start, to_whole, key.abs_diff(anchor)), i)
        })
        .collect();
    // Records are sorted, so the index breaks the remaining ties by key.
    if scored.len() > n {
        scored.select_nth_unstable(n - 1);
        scored.truncate(n);
    }
    scored.sort_unstable();
    scored.into_iter().filter_map(|(_, i)| record(i)).collect()
}

/// Packs at most [`MAX_CODE_LEN`] upper-case alphanumeric bytes like
/// [`CodeKey::parse`] (zero for none).
fn pack(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .take(MAX_CODE_LEN)
        .enumerate()
        .fold(0, |key, (i, &b)| key | u64::from(b) << (8 * (7 - i)))
}

/// Each byte mapped to the digit it is easily mistaken for (`O`, `Q` and `D`
/// to `0`, `I` and `L` to `1`, `Z` to `2`, `S` to `5`, `G` to `6`, `B` to `8`),
/// other bytes to themselves.
const fn look_alike(b: u8) -> u8 {
    match b {
        b'O' | b'Q' | b'D' => b'0',
        b'I' | b'L' => b'1',
        b'Z' => b'2',
        b'S' => b'5',
        b'G' => b'6',
        b'B' => b'8',
        other => other,
    }
}

/// Levenshtein distances in half steps from a fixed query to candidate codes:
/// insertions, deletions and substitutions cost 2, a look-alike substitution 1.
/// Rows are kept per candidate character, so a candidate that shares its first
/// characters with the previous one (sorted codes mostly do) only computes the
/// rows after them. Only the first [`MAX_CODE_LEN`] bytes of either side count.
struct Distance {
    query: Vec<u8>,
    /// `rows[j][i]`: distance from `query[..i]` to the first `j` characters
    /// of the last candidate.
    rows: [[u8; MAX_CODE_LEN + 1]; MAX_CODE_LEN + 1],
    /// `to_start[j]`: the smallest `rows[..=j][query.len()]`.
    to_start: [u8; MAX_CODE_LEN + 1],
    last: [u8; MAX_CODE_LEN],
    /// How many leading rows are valid for `last`.
    valid: usize,
}

impl Distance {
    fn new(query: &[u8]) -> Distance {
        let query: Vec<u8> = query.iter().take(MAX_CODE_LEN).copied().collect();
        let mut rows = [[0u8; MAX_CODE_LEN + 1]; MAX_CODE_LEN + 1];
        for (i, cell) in rows[0].iter_mut().enumerate() {
            *cell = 2 * i as u8;
        }
        let mut to_start = [0u8; MAX_CODE_LEN + 1];
        // `query.len() <= MAX_CODE_LEN`, so the `get` always succeeds.
        to_start[0] = rows[0].get(query.len()).copied().unwrap_or(0);
        Distance {
            query,
            rows,
            to_start,
            last: [0; MAX_CODE_LEN],
            valid: 0,
        }
    }

    /// The distances from the query to the closest prefix of `code` and to all
    /// of it.
    #[expect(
        clippy::indexing_slicing,
        reason = "`code` and `self.query` are cut to MAX_CODE_LEN and `self.valid` is an earlier `code.len()`, so `j + 1`, `i + 1`, `q` and `code.len()` are at most MAX_CODE_LEN, within the `MAX_CODE_LEN + 1` rows and columns (and `next` is never empty)"
    )]
    fn to(&mut self, code: &[u8]) -> (u8, u8) {
        let code = &code[..code.len().min(MAX_CODE_LEN)];
        let shared = code
            .iter()
            .zip(&self.last[..self.valid])
            .take_while(|(a, b)| a == b)
            .count();
        let q = self.query.len();
        for (j, &c) in code.iter().enumerate().skip(shared) {
            let (done, next) = self.rows.split_at_mut(j + 1);
            let (old, new) = (&done[j], &mut next[0]);
            new[0] = old[0] + 2;
            for (i, &x) in self.query.iter().enumerate() {
                let sub = if x == c {
                    0
                } else if look_alike(x) == look_alike(c) {
                    1
                } else {
                    2
                };
                new[i + 1] = (old[i] + sub).min(old[i + 1] + 2).min(new[i] + 2);
            }
            self.to_start[j + 1] = self.to_start[j].min(new[q]);
            self.last[j] = c;
        }
        self.valid = code.len();
        (self.to_start[code.len()], self.rows[code.len()][q])
    }
}

/// The two distances of [`Distance::to`] for one pair.
#[cfg(test)]
fn edit_distance(a: &[u8], b: &[u8]) -> (u8, u8) {
    Distance::new(a).to(b)
}

#[cfg(test)]
mod tests;
