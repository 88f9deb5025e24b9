//! Code sets as sorted, disjoint, closed intervals of packed code keys.
//!
//! A single code is the interval `[k, k]`; a prefix `P*` is `[P, P.prefix_end()]`;
//! a range `LO-HI` is `[LO, HI.prefix_end()]` so that codes under HI count too.
//! Membership is a binary search; union and difference are linear merges.
//!
//! Lexical order alone would put CPT Category II/III codes (`0012F`, `0101T`)
//! inside the numeric range `00100-01999`. So codes are split by *shape*: which of
//! their first five characters are letters. A single code is of its own shape; a
//! range whose two ends have the same shape holds only codes of that shape;
//! prefixes and mixed-shape ranges hold every shape. Each shape keeps its own
//! interval list, which keeps union, difference and intersection exact (and a set
//! whose codes were all removed empty).

use crate::codes::CodeKey;

/// Number of shapes: one bit per letter among the first five characters.
pub(crate) const SHAPES: usize = 32;

/// The shape of a code: bit `i` is set when character `i` (of the first five) is a letter.
pub(crate) fn shape(key: u64) -> usize {
    // All five bytes at once (it runs for every history entry a count looks
    // at): a byte is a letter when it is below 0x80 and, lower-cased, within
    // `a..=z`. The additions set a byte's top bit without carrying into the
    // next byte, since every byte is at most 0x7f before them.
    const LOW7: u64 = 0x007f_7f7f_7f7f;
    const TOP: u64 = 0x0080_8080_8080;
    let first5 = key >> 24;
    let lower = (first5 | 0x0020_2020_2020) & LOW7;
    let at_least_a = lower + 0x001f_1f1f_1f1f;
    let past_z = lower + 0x0005_0505_0505;
    let letters = at_least_a & !past_z & !first5 & TOP;
    // Character i is byte 4 - i of `first5`, its flag at bit 8 * (4 - i) + 7.
    let bit = |from: u32, to: u32| ((letters >> from) & 1) << to;
    (bit(39, 0) | bit(31, 1) | bit(23, 2) | bit(15, 3) | bit(7, 4)) as usize
}

/// One entry of a code list, as written in a policy or a history query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeEntry {
    /// A single code.
    Code(String),
    /// `LO-HI`: every code from LO to HI, and the codes under HI.
    Range(String, String),
    /// `M79.1*`: every code that starts with the text.
    Prefix(String),
}

/// A set of codes; see the module docs.
///
/// Every shape's intervals are kept in one list, `starts` saying where each
/// shape's begin: membership, asked for every history entry a count looks at,
/// reads one allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSet {
    /// Shape `s` has `ranges[starts[s]..starts[s + 1]]`.
    starts: [u32; SHAPES + 1],
    ranges: Box<[(u64, u64)]>,
    /// For a set of a few single codes (`tpi = cpt 20552, 20553`, most sets
    /// a count looks at): the codes, searched directly; membership is then a
    /// few comparisons without working out the code's shape.
    points: Option<Points>,
}

/// At most [`Points::MAX`] codes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Points {
    keys: [u64; Points::MAX],
    len: usize,
}

impl Points {
    const MAX: usize = 16;

    /// The codes of a set made only of single codes, each in its own shape's
    /// list (set algebra can leave a single key in another shape's list; such a
    /// set takes the general path).
    fn of(starts: &[u32; SHAPES + 1], ranges: &[(u64, u64)]) -> Option<Points> {
        if ranges.len() > Points::MAX {
            return None;
        }
        let mut keys = [0; Points::MAX];
        for (s, bounds) in starts.windows(2).enumerate() {
            let &[start, end] = bounds else {
                return None;
            };
            let list = ranges.get(start as usize..end as usize)?;
            for &(lo, hi) in list {
                if lo != hi || shape(lo) != s {
                    return None;
                }
            }
        }
        for (key, &(lo, _)) in keys.iter_mut().zip(ranges) {
            *key = lo;
        }
        Some(Points {
            keys,
            len: ranges.len(),
        })
    }

    fn contains(&self, k: u64) -> bool {
        self.keys
            .get(..self.len)
            .is_some_and(|keys| keys.contains(&k))
    }
}

impl Default for CodeSet {
    fn default() -> CodeSet {
        CodeSet::from_shapes(std::iter::empty())
    }
}

impl CodeSet {
    /// The set of the given entries; entries that do not pack are skipped (the
    /// checker has rejected them already).
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a CodeEntry>) -> CodeSet {
        let mut raw: Vec<Vec<(u64, u64)>> = vec![Vec::new(); SHAPES];
        let mut all = |range: (u64, u64)| raw.iter_mut().for_each(|r| r.push(range));
        let mut shaped = Vec::new();
        for entry in entries {
            match entry {
                // A single code has one shape: it is found only in that shape's list.
                CodeEntry::Code(c) => {
                    if let Some(k) = CodeKey::parse(c) {
                        shaped.push((shape(k.0), (k.0, k.0)));
                    }
                }
                CodeEntry::Prefix(p) => CodeKey::parse(p)
                    .into_iter()
                    .for_each(|k| all((k.0, k.prefix_end().0))),
                CodeEntry::Range(lo, hi) => {
                    if let (Some(l), Some(h)) = (CodeKey::parse(lo), CodeKey::parse(hi)) {
                        let range = (l.0, h.prefix_end().0);
                        if shape(l.0) == shape(h.0) {
                            shaped.push((shape(l.0), range));
                        } else {
                            all(range);
                        }
                    }
                }
            }
        }
        for (s, range) in shaped {
            // `shape` is below SHAPES, so the list is always there.
            if let Some(list) = raw.get_mut(s) {
                list.push(range);
            }
        }
        CodeSet::from_shapes(raw.into_iter().map(normalized))
    }

    /// The set of each shape's normalized intervals, shapes in order (missing
    /// shapes are empty).
    fn from_shapes(shapes: impl IntoIterator<Item = Vec<(u64, u64)>>) -> CodeSet {
        let mut starts = [0u32; SHAPES + 1];
        let mut ranges = Vec::new();
        let mut shapes = shapes.into_iter();
        let len = |r: &Vec<(u64, u64)>| u32::try_from(r.len()).unwrap_or(u32::MAX);
        for start in starts.iter_mut().take(SHAPES) {
            *start = len(&ranges);
            ranges.extend(shapes.next().unwrap_or_default());
        }
        starts[SHAPES] = len(&ranges);
        let points = Points::of(&starts, &ranges);
        CodeSet {
            starts,
            ranges: ranges.into_boxed_slice(),
            points,
        }
    }

    /// Applies `op` shape by shape.
    fn zip_shapes(
        &self,
        other: &CodeSet,
        op: impl Fn(&[(u64, u64)], &[(u64, u64)]) -> Vec<(u64, u64)>,
    ) -> CodeSet {
        CodeSet::from_shapes((0..SHAPES).map(|s| op(self.shape_ranges(s), other.shape_ranges(s))))
    }

    /// True when the code is in the set.
    pub fn contains(&self, key: CodeKey) -> bool {
        if let Some(points) = &self.points {
            return points.contains(key.0);
        }
        self.contains_shaped(shape(key.0), key.0)
    }

    /// Membership of a key taken as a code of shape `shape` (for index building,
    /// where keys are interval bounds rather than codes).
    pub(crate) fn contains_shaped(&self, shape: usize, k: u64) -> bool {
        let ranges = self.shape_ranges(shape);
        // The last interval starting at or before k is the only candidate.
        let idx = ranges.partition_point(|(lo, _)| *lo <= k);
        idx.checked_sub(1)
            .and_then(|i| ranges.get(i))
            .is_some_and(|&(_, hi)| hi >= k)
    }

    /// The intervals of one shape.
    pub(crate) fn shape_ranges(&self, shape: usize) -> &[(u64, u64)] {
        let at = |s: usize| self.starts.get(s).map_or(0, |&i| i as usize);
        self.ranges
            .get(at(shape)..at(shape + 1))
            .unwrap_or_default()
    }

    /// Every code in either set.
    pub fn union(&self, other: &CodeSet) -> CodeSet {
        self.zip_shapes(other, |a, b| {
            normalized(a.iter().chain(b).copied().collect())
        })
    }

    /// The codes of `self` not in `other`.
    pub fn difference(&self, other: &CodeSet) -> CodeSet {
        self.zip_shapes(other, difference)
    }

    /// The codes in both sets.
    pub fn intersection(&self, other: &CodeSet) -> CodeSet {
        self.zip_shapes(other, intersection)
    }

    /// The smallest procedure code (five characters of the shape of a CPT or
    /// HCPCS code, see [`crate::codes::procedure::shape`]) in the set, to name
    /// one in a message; `None` when the set holds none. A set can hold keys
    /// that are no such code (`cpt 62320-62323` holds every longer code under
    /// its ends too): a set that holds only those holds no procedure code.
    pub fn first_procedure_code(&self) -> Option<CodeKey> {
        // The five characters of a key are its top 40 bits.
        const TAIL: u32 = 24;
        let mut best: Option<u64> = None;
        for &(lo, hi) in self.ranges.iter() {
            // The first five-character prefix at or after `lo` whose code is
            // whole (nothing after its fifth character) and in the interval.
            let mut at = (lo >> TAIL) + u64::from(lo & ((1 << TAIL) - 1) != 0);
            // Each step skips a prefix that is no code; a few hundred reach
            // any code an interval of procedure codes starts near.
            for _ in 0..4096 {
                let Some(next) = next_alphanumeric(at) else {
                    break;
                };
                let key = next << TAIL;
                if key > hi || best.is_some_and(|b| key >= b) {
                    break;
                }
                let code = CodeKey(key);
                if crate::codes::procedure::shape(&code.as_string()).is_some()
                    && self.contains(code)
                {
                    best = Some(key);
                    break;
                }
                at = next + 1;
            }
        }
        best.map(CodeKey)
    }

    /// True when no code is in the set.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The intervals of codes whose first five characters have no letter (plain
    /// CPT codes), for tests and tooling.
    pub fn numeric_ranges(&self) -> &[(u64, u64)] {
        self.shape_ranges(0)
    }
}

/// The smallest five characters (packed in the low 40 bits, as the top of
/// a [`CodeKey`]) at or after `at` that are all ASCII digits or capital
/// letters; `None` past `ZZZZZ`.
fn next_alphanumeric(at: u64) -> Option<u64> {
    if at > 0xff_ffff_ffff {
        return None;
    }
    let mut b: [u8; 5] = [0; 5];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = (at >> (8 * (4 - i))) as u8;
    }
    // The first position that is no digit or capital: raise it to the next
    // one that is (carrying into the positions before it past `Z`), and set
    // every later position to `0`, the smallest.
    if let Some(bad) = b
        .iter()
        .position(|c| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
    {
        let mut i = bad;
        let mut c = b.get(i).copied().unwrap_or(0);
        loop {
            let raised = match c {
                0..=b'/' => Some(b'0'),
                b':'..=b'@' => Some(b'A'),
                // The next character after a digit or capital one; past `Z`,
                // carry.
                b'0'..=b'8' | b'A'..=b'Y' if i < bad => Some(c + 1),
                b'9' if i < bad => Some(b'A'),
                _ => None,
            };
            match raised {
                Some(r) => {
                    if let Some(slot) = b.get_mut(i) {
                        *slot = r;
                    }
                    break;
                }
                None => {
                    i = i.checked_sub(1)?;
                    c = b.get(i).copied().unwrap_or(0);
                }
            }
        }
        for slot in b.iter_mut().skip(i + 1) {
            *slot = b'0';
        }
    }
    Some(b.iter().fold(0u64, |acc, &c| (acc << 8) | u64::from(c)))
}

fn normalized(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.retain(|(lo, hi)| lo <= hi);
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Both lists are sorted and disjoint (normalized): a linear merge.
fn intersection(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(&(alo, ahi)), Some(&(blo, bhi))) = (a.get(i), b.get(j)) {
        let lo = alo.max(blo);
        let hi = ahi.min(bhi);
        if lo <= hi {
            out.push((lo, hi));
        }
        if ahi < bhi {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn difference(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(lo, hi) in a {
        let mut start = lo;
        let mut open = true;
        for &(olo, ohi) in b {
            if ohi < start || olo > hi {
                continue;
            }
            if olo > start {
                out.push((start, olo - 1));
            }
            if ohi >= hi {
                open = false;
                break;
            }
            start = ohi + 1;
        }
        if open {
            out.push((start, hi));
        }
    }
    normalized(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_procedure_code_of_a_set_is_a_whole_five_character_code() {
        let set = |entries: &[CodeEntry]| CodeSet::from_entries(entries.iter());
        let code = |c: &str| CodeEntry::Code(c.into());
        let range = |a: &str, b: &str| CodeEntry::Range(a.into(), b.into());
        let first = |s: &CodeSet| s.first_procedure_code().map(CodeKey::as_string);
        let singles = set(&[code("62320"), code("62321"), code("62322"), code("62323")]);
        let ranged = set(&[range("62320", "62323")]);
        assert_eq!(first(&ranged), Some("62320".into()));
        // The range less its four codes holds only longer keys: no code.
        assert_eq!(first(&ranged.difference(&singles)), None);
        // Past the 9s, the next codes are letters: 6232A is no procedure
        // shape, 62330 is.
        let wide = set(&[range("62329", "62335")]);
        let gone = set(&[code("62329")]);
        assert_eq!(first(&wide.difference(&gone)), Some("62330".into()));
        assert_eq!(
            first(&set(&[CodeEntry::Prefix("J33".into())])),
            Some("J3300".into())
        );
        assert_eq!(
            first(&set(&[code("0213T"), code("99213")])),
            Some("0213T".into())
        );
        assert_eq!(first(&CodeSet::default()), None);
    }

    #[test]
    fn next_alphanumeric_raises_the_first_bad_character_and_carries() {
        let pack = |t: &[u8; 5]| t.iter().fold(0u64, |a, &c| (a << 8) | u64::from(c));
        let unpack = |k: u64| -> String {
            (0..5)
                .map(|i| char::from((k >> (8 * (4 - i))) as u8))
                .collect()
        };
        let next = |t: &[u8; 5]| next_alphanumeric(pack(t)).map(unpack);
        assert_eq!(next(b"62320"), Some("62320".into()));
        assert_eq!(next(b"6232:"), Some("6232A".into()));
        assert_eq!(next(b"6232["), Some("62330".into()));
        assert_eq!(next(b"629Z["), Some("62A00".into()));
        assert_eq!(next(b"6232\0"), Some("62320".into()));
        assert_eq!(next(b"ZZZZ["), None);
    }

    #[test]
    fn shape_marks_exactly_the_letters_among_the_first_five_bytes() {
        // Every byte value in every position, against the plain definition.
        for position in 0..8 {
            for byte in 0..=255u8 {
                let k = u64::from(byte) << (8 * (7 - position));
                let bytes = k.to_be_bytes();
                let want = (0..5)
                    .filter(|&i| bytes[i].is_ascii_alphabetic())
                    .fold(0, |m, i| m | (1 << i));
                assert_eq!(shape(k), want, "byte {byte:#04x} at {position}");
            }
        }
        let mut k = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            // xorshift: whole keys, every byte at once.
            k ^= k << 13;
            k ^= k >> 7;
            k ^= k << 17;
            let bytes = k.to_be_bytes();
            let want = (0..5)
                .filter(|&i| bytes[i].is_ascii_alphabetic())
                .fold(0, |m, i| m | (1 << i));
            assert_eq!(shape(k), want, "{k:#018x}");
        }
        assert_eq!(shape(key("J3301").0), 1);
        assert_eq!(shape(key("0012F").0), 1 << 4);
        assert_eq!(shape(key("M79.18").0), 1);
    }

    #[test]
    fn a_set_of_single_codes_answers_as_the_interval_lists_do() {
        let codes = ["20552", "20553", "0012F", "J3301", "M79.18", "G44.209"];
        let entries: Vec<CodeEntry> = codes.iter().map(|c| CodeEntry::Code((*c).into())).collect();
        let set = CodeSet::from_entries(&entries);
        assert!(set.points.is_some());
        let probes = [
            "20552", "20551", "20554", "0012F", "0012G", "J3301", "J3300", "M7918", "M79.1",
            "G44209", "A",
        ];
        for p in probes {
            let k = key(p);
            assert_eq!(set.contains(k), set.contains_shaped(shape(k.0), k.0), "{p}");
        }
        assert!(!set.contains(CodeKey(0)) && !set.contains(CodeKey(u64::MAX)));
        // A prefix or a range takes the general path.
        let mixed = set.union(&CodeSet::from_entries(&[CodeEntry::Prefix("J".into())]));
        assert!(mixed.points.is_none());
        assert!(mixed.contains(key("J9999")) && mixed.contains(key("20552")));
    }

    #[test]
    fn shapes_given_or_not_each_find_their_own_intervals() {
        let set = CodeSet::from_entries(&[
            CodeEntry::Code("20552".into()),
            CodeEntry::Code("0012F".into()),
            CodeEntry::Code("J3301".into()),
        ]);
        for s in 0..SHAPES {
            let want = usize::from(s == 0 || s == 1 || s == 1 << 4);
            assert_eq!(set.shape_ranges(s).len(), want, "shape {s}");
        }
        assert!(set.contains(key("0012F")) && !set.contains(key("0012G")));
        assert!(CodeSet::default().is_empty());
        assert_eq!(CodeSet::default(), CodeSet::from_entries(&[]));
    }

    fn key(s: &str) -> CodeKey {
        CodeKey::parse(s).unwrap_or_default()
    }

    fn set(entries: &[CodeEntry]) -> CodeSet {
        CodeSet::from_entries(entries)
    }

    fn code(s: &str) -> CodeEntry {
        CodeEntry::Code(s.into())
    }

    #[test]
    fn singles_ranges_and_prefixes() {
        let s = set(&[
            code("20552"),
            CodeEntry::Range("00100".into(), "01999".into()),
            CodeEntry::Prefix("J".into()),
        ]);
        assert!(s.contains(key("20552")));
        assert!(!s.contains(key("20553")));
        assert!(s.contains(key("00100")) && s.contains(key("01999")) && s.contains(key("01000")));
        assert!(!s.contains(key("02000")));
        assert!(s.contains(key("J3301")));
        assert!(!s.contains(key("K0001")));
    }

    #[test]
    fn a_range_includes_the_codes_under_its_end() {
        let s = set(&[CodeEntry::Range("M60.80".into(), "M60.89".into())]);
        assert!(s.contains(key("M60.811")));
        assert!(s.contains(key("M60.89")));
        assert!(!s.contains(key("M60.9")));
        assert!(!s.contains(key("M60.8")));
    }

    #[test]
    fn union_and_difference() {
        let a = set(&[CodeEntry::Prefix("M79.1".into())]);
        let b = set(&[code("M79.11"), code("M79.7")]);
        let u = a.union(&b);
        assert!(u.contains(key("M79.7")) && u.contains(key("M79.18")));
        let d = a.difference(&b);
        assert!(d.contains(key("M79.10")) && d.contains(key("M79.12")) && d.contains(key("M79.1")));
        assert!(!d.contains(key("M79.11")));
        assert!(a.difference(&a).is_empty());
    }

    #[test]
    fn intersection_keeps_the_common_codes() {
        let a = set(&[CodeEntry::Prefix("M79.1".into()), code("M79.7")]);
        let b = set(&[code("M79.11"), code("M79.7"), code("M60.80")]);
        let i = a.intersection(&b);
        assert!(i.contains(key("M79.11")) && i.contains(key("M79.7")));
        assert!(!i.contains(key("M79.12")) && !i.contains(key("M60.80")));
        assert_eq!(i, b.intersection(&a));
        let tpi = set(&[code("20552"), code("20553")]);
        let guidance = set(&[code("76942"), code("77002")]);
        assert!(tpi.intersection(&guidance).is_empty());
        let numeric = set(&[CodeEntry::Range("00100".into(), "01999".into())]);
        let iii = set(&[CodeEntry::Range("0001T".into(), "0999T".into())]);
        assert!(numeric.intersection(&iii).is_empty(), "shapes keep apart");
    }

    #[test]
    fn adjacent_and_overlapping_ranges_merge() {
        let s = set(&[
            code("20552"),
            code("20553"),
            CodeEntry::Range("20550".into(), "20552".into()),
        ]);
        // 20553 starts right after the codes under 20552, so all merge into one.
        assert_eq!(s.numeric_ranges().len(), 1, "{:?}", s.numeric_ranges());
        let t = set(&[
            CodeEntry::Range("00100".into(), "00500".into()),
            CodeEntry::Range("00400".into(), "00900".into()),
        ]);
        assert_eq!(t.numeric_ranges().len(), 1);
    }

    #[test]
    fn a_numeric_range_holds_no_category_ii_or_iii_codes() {
        let s = set(&[CodeEntry::Range("00100".into(), "01999".into())]);
        assert!(s.contains(key("01992")));
        assert!(!s.contains(key("0012F")));
        assert!(!s.contains(key("0101T")));
        let iii = set(&[CodeEntry::Range("0001T".into(), "0999T".into())]);
        assert!(iii.contains(key("0213T")));
        assert!(!iii.contains(key("00100")));
        let both = s.union(&iii).difference(&set(&[code("0213T")]));
        assert!(
            both.contains(key("00500"))
                && both.contains(key("0101T"))
                && !both.contains(key("0213T"))
        );
    }

    #[test]
    fn a_prefix_or_a_single_code_holds_every_shape() {
        let s = set(&[CodeEntry::Prefix("0".into()), code("M1A.0")]);
        assert!(s.contains(key("0012F")) && s.contains(key("00100")));
        assert!(s.contains(key("M1A.0")) && !s.contains(key("M1A.00")));
    }

    #[test]
    fn removing_every_code_leaves_an_empty_set() {
        let tpi = set(&[code("20552"), code("20553")]);
        let range = set(&[CodeEntry::Range("20550".into(), "20553".into())]);
        assert!(tpi.difference(&range).is_empty());
        assert!(!tpi.intersection(&range).is_empty());
        let iii = set(&[CodeEntry::Range("0001T".into(), "0999T".into())]);
        assert!(set(&[code("0213T")]).difference(&iii).is_empty());
        assert!(set(&[code("00150")]).intersection(&iii).is_empty());
    }
}
