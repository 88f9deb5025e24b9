//! Which rules a line can trigger, found by its procedure code in one lookup.
//!
//! Most rules start with `when line.procedure in SET` (their *trigger*). The
//! index cuts the code space, shape by shape, at every bound of every trigger
//! set; within one segment the same rules apply to every code, so each segment
//! keeps the ordered list of rules a line of that code visits (rules without a
//! trigger included). A line then visits only the rules that can apply to it.

use rustc_hash::FxHashMap;

use crate::codes::set::{shape, CodeSet, SHAPES};
use crate::codes::CodeKey;

/// The rule index of one policy; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Dispatch {
    /// Per shape: segment starts, sorted, with the index of their rule list.
    segments: Vec<Vec<(u64, u32)>>,
    /// Distinct rule lists (rule indexes in policy order).
    lists: Vec<Box<[u16]>>,
    /// The rules of a code below every segment: those without a trigger.
    untriggered: Box<[u16]>,
}

impl Dispatch {
    /// Builds the index from each rule's trigger set (`None`: no trigger).
    pub fn new(triggers: &[Option<&CodeSet>]) -> Dispatch {
        let untriggered: Box<[u16]> = triggers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_none())
            .filter_map(|(i, _)| u16::try_from(i).ok())
            .collect();
        let mut lists: Vec<Box<[u16]>> = Vec::new();
        let mut list_ids: FxHashMap<Box<[u16]>, u32> = FxHashMap::default();
        let mut segments = Vec::with_capacity(SHAPES);
        for s in 0..SHAPES {
            let mut bounds: Vec<u64> = triggers
                .iter()
                .flatten()
                .flat_map(|set| set.shape_ranges(s).iter())
                .flat_map(|&(lo, hi)| [Some(lo), hi.checked_add(1)])
                .flatten()
                .collect();
            bounds.sort_unstable();
            bounds.dedup();
            let mut shape_segments = Vec::with_capacity(bounds.len());
            for start in bounds {
                let list: Box<[u16]> = triggers
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.is_none_or(|set| set.contains_shaped(s, start)))
                    .filter_map(|(i, _)| u16::try_from(i).ok())
                    .collect();
                let next = u32::try_from(lists.len()).unwrap_or(u32::MAX);
                let id = *list_ids.entry(list.clone()).or_insert_with(|| {
                    lists.push(list);
                    next
                });
                shape_segments.push((start, id));
            }
            segments.push(shape_segments);
        }
        Dispatch {
            segments,
            lists,
            untriggered,
        }
    }

    /// The rules a line with this procedure code visits, in policy order.
    #[expect(
        clippy::indexing_slicing,
        reason = "`new` pushes one segment list per shape (SHAPES) and `shape` is below SHAPES; `i = idx - 1` is below the list's length because `partition_point` is at most it; every line's dispatch, measured in docs/performance.md"
    )]
    pub fn rules_for(&self, code: CodeKey) -> &[u16] {
        let segments = &self.segments[shape(code.0)];
        let idx = segments.partition_point(|(start, _)| *start <= code.0);
        match idx.checked_sub(1).map(|i| segments[i].1) {
            Some(list) => self.lists.get(list as usize).map_or(&[], |l| l),
            None => &self.untriggered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::CodeEntry;

    fn set(entries: &[CodeEntry]) -> CodeSet {
        CodeSet::from_entries(entries)
    }

    #[test]
    fn a_code_visits_its_triggered_rules_and_the_untriggered_ones_in_order() {
        let tpi = set(&[
            CodeEntry::Code("20552".into()),
            CodeEntry::Code("20553".into()),
        ]);
        let anesthesia = set(&[CodeEntry::Range("00100".into(), "01999".into())]);
        let drugs = set(&[CodeEntry::Prefix("J".into())]);
        let d = Dispatch::new(&[
            Some(&tpi),
            None,
            Some(&anesthesia),
            Some(&tpi),
            Some(&drugs),
        ]);
        let k = |s: &str| CodeKey::parse(s).unwrap_or_default();
        assert_eq!(d.rules_for(k("20553")), [0, 1, 3]);
        assert_eq!(d.rules_for(k("20552")), [0, 1, 3]);
        assert_eq!(d.rules_for(k("01992")), [1, 2]);
        assert_eq!(d.rules_for(k("00099")), [1]);
        assert_eq!(
            d.rules_for(k("0012F")),
            [1],
            "a Category II code is not in the numeric range"
        );
        assert_eq!(d.rules_for(k("J3301")), [1, 4]);
        assert_eq!(d.rules_for(k("99213")), [1]);
    }

    #[test]
    fn the_index_agrees_with_the_sets_on_every_code_around_the_bounds() {
        let a = set(&[
            CodeEntry::Range("20550".into(), "20553".into()),
            CodeEntry::Prefix("J1".into()),
        ]);
        let b = set(&[
            CodeEntry::Code("20553".into()),
            CodeEntry::Range("J0100".into(), "J1500".into()),
        ]);
        let triggers = [Some(&a), Some(&b), None];
        let d = Dispatch::new(&triggers);
        for code in [
            "20549", "20550", "20552", "20553", "20554", "J0099", "J0100", "J0999", "J1000",
            "J1500", "J1501", "J1999", "J2000",
        ] {
            let key = CodeKey::parse(code).unwrap_or_default();
            let want: Vec<u16> = (0..3u16)
                .filter(|&i| triggers[i as usize].is_none_or(|s| s.contains(key)))
                .collect();
            assert_eq!(d.rules_for(key), want.as_slice(), "{code}");
        }
    }
}
