//! Code sets as sorted, disjoint, closed intervals of packed code keys.
//!
//! A single code is the interval `[k, k]`; a range `LO-HI` is `[LO, HI.prefix_end()]`
//! so that codes under HI count too; a prefix `P*` is `[P, P.prefix_end()]`.
//! Membership is a binary search; union and difference are linear merges.

use crate::codes::CodeKey;
use crate::syntax::ast::CodeEntry;

/// A set of codes; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeSet {
    ranges: Vec<(u64, u64)>,
}

impl CodeSet {
    /// The set of the given entries; entries that do not pack are skipped (the
    /// checker has rejected them already).
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a CodeEntry>) -> CodeSet {
        let mut ranges = Vec::new();
        for entry in entries {
            let range = match entry {
                CodeEntry::Code(c) => CodeKey::parse(c).map(|k| (k.0, k.0)),
                CodeEntry::Range(lo, hi) => CodeKey::parse(lo)
                    .zip(CodeKey::parse(hi))
                    .map(|(l, h)| (l.0, h.prefix_end().0)),
                CodeEntry::Prefix(p) => CodeKey::parse(p).map(|k| (k.0, k.prefix_end().0)),
            };
            ranges.extend(range);
        }
        CodeSet::normalized(ranges)
    }

    fn normalized(mut ranges: Vec<(u64, u64)>) -> CodeSet {
        ranges.retain(|(lo, hi)| lo <= hi);
        ranges.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        CodeSet { ranges: out }
    }

    /// True when the code is in the set.
    pub fn contains(&self, key: CodeKey) -> bool {
        let k = key.0;
        // The last interval starting at or before k is the only candidate.
        let idx = self.ranges.partition_point(|(lo, _)| *lo <= k);
        idx > 0 && self.ranges[idx - 1].1 >= k
    }

    /// Every code in either set.
    pub fn union(&self, other: &CodeSet) -> CodeSet {
        CodeSet::normalized(self.ranges.iter().chain(&other.ranges).copied().collect())
    }

    /// The codes of `self` not in `other`.
    pub fn difference(&self, other: &CodeSet) -> CodeSet {
        let mut out = Vec::new();
        for &(lo, hi) in &self.ranges {
            let mut start = lo;
            let mut open = true;
            for &(olo, ohi) in &other.ranges {
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
        CodeSet::normalized(out)
    }

    /// True when no code is in the set.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The intervals, for tests and tooling.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn adjacent_and_overlapping_ranges_merge() {
        let s = set(&[
            code("20552"),
            code("20553"),
            CodeEntry::Range("20550".into(), "20552".into()),
        ]);
        // 20553 starts right after the codes under 20552, so all merge into one.
        assert_eq!(s.ranges().len(), 1, "{:?}", s.ranges());
        let t = set(&[
            CodeEntry::Range("00100".into(), "00500".into()),
            CodeEntry::Range("00400".into(), "00900".into()),
        ]);
        assert_eq!(t.ranges().len(), 1);
    }
}
