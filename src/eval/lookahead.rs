//! Reading claims a few ahead of the one being decided.

use super::Engine;
use crate::claims::{Claim, ClaimError, ClaimSlot};
use crate::history::{HistoryStore, Member};

/// Claims read three ahead of the one being decided, so that the history can
/// fetch the data of their patients meanwhile (`HistoryStore::prefetch`): at a
/// million claims, finding a patient's book and lists were cache misses that
/// the evaluation waited for. Reading ahead does not delay decisions, which
/// are written in blocks.
///
/// Claims are read into a ring of four [`ClaimSlot`]s, one for the claim being
/// decided and one for each claim ahead, and lent where they lie: claims are
/// a few hundred bytes, and moving each out of a queue and into the caller was
/// a twentieth of the run's copying. A slot is filled again once its claim is
/// done with, so its lines keep their room instead of being freed and
/// allocated again per claim.
pub struct Lookahead<F: FnMut(&mut ClaimSlot) -> Option<usize>, W = fn() -> bool> {
    /// Reads the next record into a slot and returns its record number;
    /// `None` at the end.
    fill: F,
    /// Whether a record can be read ahead without waiting for the input: a
    /// claim streamed alone is decided before the next one arrives.
    ahead: W,
    slots: [(usize, ClaimSlot); LOOKAHEAD_SLOTS],
    /// The slot of the oldest record not done with.
    front: usize,
    /// How many slots from `front` hold records.
    held: usize,
    /// The front slot was lent by the last `next`: it is done with.
    lent: bool,
    /// `fill` said the input has ended.
    ended: bool,
}

/// The claim being decided and the three read ahead of it.
const LOOKAHEAD_SLOTS: usize = 4;

/// Reading ahead never waits for anything but the input itself.
fn always() -> bool {
    true
}

impl<F: FnMut(&mut ClaimSlot) -> Option<usize>> Lookahead<F> {
    /// Records filled in input order by `fill`, which reads the next into the
    /// slot given and returns its record number (1-based), or `None` at the
    /// end of the input.
    pub fn new(fill: F) -> Self {
        Lookahead {
            fill,
            ahead: always,
            slots: Default::default(),
            front: 0,
            held: 0,
            lent: false,
            ended: false,
        }
    }

    /// Reads ahead only while `ahead` says the next record is there without
    /// waiting for the input (a stream of claims one at a time, finding H1);
    /// the claim to decide next is always read.
    pub fn reading_ahead_while<V: FnMut() -> bool>(self, ahead: V) -> Lookahead<F, V> {
        Lookahead {
            fill: self.fill,
            ahead,
            slots: self.slots,
            front: self.front,
            held: self.held,
            lent: self.lent,
            ended: self.ended,
        }
    }
}

impl<F: FnMut(&mut ClaimSlot) -> Option<usize>, W: FnMut() -> bool> Lookahead<F, W> {
    /// Records read and not lent yet: when none, the next [`Lookahead::next`]
    /// reads the input.
    pub fn read_ahead(&self) -> usize {
        self.held.saturating_sub(usize::from(self.lent))
    }

    /// The next claim; before it is lent, the engine's history is asked to
    /// prefetch the members of the three after it.
    pub fn next<H: HistoryStore>(
        &mut self,
        engine: &Engine<H>,
    ) -> Option<(usize, Result<&Claim, &ClaimError>)> {
        if std::mem::take(&mut self.lent) {
            self.front = (self.front + 1) % LOOKAHEAD_SLOTS;
            self.held -= 1;
        }
        while self.held < LOOKAHEAD_SLOTS && !self.ended {
            if self.held > 0 && !(self.ahead)() {
                break;
            }
            // Every index is taken modulo the ring's length: always a slot.
            let Some((record, slot)) = self
                .slots
                .get_mut((self.front + self.held) % LOOKAHEAD_SLOTS)
            else {
                break;
            };
            match (self.fill)(slot) {
                Some(read) => {
                    *record = read;
                    self.held += 1;
                }
                None => self.ended = true,
            }
        }
        for k in 1..self.held {
            if let Some(Ok(claim)) = self
                .slots
                .get((self.front + k) % LOOKAHEAD_SLOTS)
                .map(|(_, slot)| slot.get())
            {
                engine.history.prefetch(Member::of(claim), k);
            }
        }
        if self.held == 0 {
            return None;
        }
        let (record, slot) = self.slots.get(self.front % LOOKAHEAD_SLOTS)?;
        self.lent = true;
        Some((*record, slot.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{read_claims_str, InputFormat};
    use crate::policies::Policies;

    #[test]
    fn every_record_is_lent_once_in_order() {
        let text = include_str!("../../examples/claims.jsonl");
        let all = read_claims_str(text, InputFormat::JsonLines);
        assert!(all.iter().any(Result::is_err) && all.iter().any(Result::is_ok));
        let engine = Engine::new(Policies::default());
        // Fewer records than slots, as many, and more; records numbered from
        // 10 to see that the numbers given are the ones lent.
        for n in [0, 1, 3, 4, 5, 9, all.len()] {
            let mut given = all.iter().take(n).cloned().enumerate();
            let mut fills = 0;
            let mut ahead = Lookahead::new(|slot: &mut ClaimSlot| {
                fills += 1;
                let (i, read) = given.next()?;
                slot.set(read);
                Some(i + 10)
            });
            let mut lent = Vec::new();
            while let Some((record, read)) = ahead.next(&engine) {
                lent.push((record, read.cloned().map_err(Clone::clone)));
            }
            assert!(ahead.next(&engine).is_none());
            let want: Vec<_> = all
                .iter()
                .take(n)
                .cloned()
                .enumerate()
                .map(|(i, r)| (i + 10, r))
                .collect();
            assert_eq!(lent, want, "{n} records");
            drop(ahead);
            // Once the input has ended, it is not asked again.
            assert_eq!(fills, n + 1, "{n} records");
        }
    }

    #[test]
    fn nothing_is_read_ahead_while_the_input_would_wait() {
        let text = include_str!("../../examples/claims.jsonl");
        let all = read_claims_str(text, InputFormat::JsonLines);
        let engine = Engine::new(Policies::default());
        let fills = std::cell::Cell::new(0);
        let mut given = all.iter().take(6).cloned().enumerate();
        let mut ahead = Lookahead::new(|slot: &mut ClaimSlot| {
            fills.set(fills.get() + 1);
            let (i, read) = given.next()?;
            slot.set(read);
            Some(i + 1)
        })
        .reading_ahead_while(|| false);
        for want in 1..=6 {
            let (record, _) = ahead.next(&engine).unwrap();
            assert_eq!(record, want);
            // The claim lent is the only one read: it is decided before the
            // next is waited for.
            assert_eq!(fills.get(), want);
            assert_eq!(ahead.read_ahead(), 0);
        }
        assert!(ahead.next(&engine).is_none());
    }
}
