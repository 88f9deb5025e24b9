//! The members' lookup table: member-id hashes to book indexes, by linear
//! probing over 8-byte entries. A table of its own rather than
//! `hashbrown`'s, so that the cache line a lookup will read is known from the
//! hash alone and can be prefetched claims before the lookup
//! (`MemoryHistory::prefetch`).

use crate::hint;

/// Hashes to `u32` indexes; the caller says which index is the one it wants
/// (the table keeps no keys, only 32 bits of their hash).
#[derive(Debug, Default)]
pub(super) struct Table {
    /// 0 for an empty entry; else the hash's high 32 bits (its tag, made odd
    /// so that it is never 0) above the index.
    entries: Vec<u64>,
    len: usize,
}

fn tag(hash: u64) -> u64 {
    (hash >> 32) | 1
}

impl Table {
    /// Where the probe for `tag` starts: the tag picks the entry, so that
    /// growing needs no hashes but the entries' own. Its lowest bit, always
    /// set, is left out.
    fn start(&self, tag: u64) -> usize {
        ((tag >> 1) as usize) & (self.entries.len().wrapping_sub(1))
    }

    /// The indexes stored under `hash`'s tag, in probe order: usually the one
    /// wanted, now and then another key with the same 32 bits.
    pub(super) fn candidates(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let tag = tag(hash);
        let mask = self.entries.len().wrapping_sub(1);
        let mut at = self.start(tag);
        let mut left = self.entries.len();
        std::iter::from_fn(move || loop {
            if left == 0 {
                return None;
            }
            left -= 1;
            let entry = *self.entries.get(at)?;
            at = (at + 1) & mask;
            if entry == 0 {
                left = 0;
                return None;
            }
            if entry >> 32 == tag {
                return Some(entry as u32);
            }
        })
    }

    /// The first index under `hash` that `is` accepts.
    pub(super) fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        self.candidates(hash).find(|&i| is(i))
    }

    /// Adds an index under `hash` (not already present: the caller looked).
    pub(super) fn insert(&mut self, hash: u64, index: u32) {
        // At most half full: probes stay short and mostly within one line.
        if (self.len + 1) * 2 > self.entries.len() {
            let room = (self.entries.len() * 2).max(16);
            let old = std::mem::replace(&mut self.entries, vec![0; room]);
            self.len = 0;
            for entry in old.into_iter().filter(|&e| e != 0) {
                self.place(entry);
            }
        }
        self.place((tag(hash) << 32) | u64::from(index));
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "`at` is masked by `entries.len() - 1`, and `insert` keeps `entries.len()` a power \
                  of two (16 or more): `at < entries.len()`"
    )]
    fn place(&mut self, entry: u64) {
        let mask = self.entries.len() - 1;
        let mut at = self.start(entry >> 32);
        while self.entries[at] != 0 {
            at = (at + 1) & mask;
        }
        self.entries[at] = entry;
        self.len += 1;
    }

    /// Starts loading the line a lookup of `hash` reads first.
    pub(super) fn prefetch(&self, hash: u64) {
        if let Some(entry) = self.entries.get(self.start(tag(hash))) {
            hint::prefetch(entry);
        }
    }

    /// Empties the table, keeping its room.
    pub(super) fn clear(&mut self) {
        self.entries.iter_mut().for_each(|e| *e = 0);
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_index_against_a_map_through_growth_and_shared_tags() {
        let mut table = Table::default();
        let mut reference = std::collections::HashMap::new();
        // Hashes with equal high halves share a tag: the caller's check tells
        // them apart, as a patient id comparison does.
        let hash = |k: u64| {
            let h = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            if k % 7 == 0 {
                h & 0xffff_ffff
            } else {
                h
            }
        };
        for k in 0..5000u64 {
            assert_eq!(table.find(hash(k), |i| i == k as u32), None, "{k} before");
            table.insert(hash(k), k as u32);
            reference.insert(k, k as u32);
            if k % 97 == 0 {
                for j in 0..=k {
                    assert_eq!(table.find(hash(j), |i| i == j as u32), Some(j as u32));
                }
            }
        }
        for (k, v) in &reference {
            assert_eq!(table.find(hash(*k), |i| i == *v), Some(*v));
            table.prefetch(hash(*k));
        }
        assert_eq!(table.find(hash(99_999), |i| i == 99_999), None);
        table.clear();
        assert_eq!(table.find(hash(1), |i| i == 1), None);
    }
}
