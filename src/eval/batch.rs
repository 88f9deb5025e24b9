//! The batch protocol: decide claims in one transaction of a durable history
//! store, and release their answers only once the transaction has committed.
//!
//! This is what makes a durable history safe to answer from. A decision that
//! left the process before its claim was stored could be lost in a crash while
//! the billing engine acts on it, and the claim, sent again, would be decided
//! a second time against a history without it. So a [`Batch`] holds every
//! decision until [`Batch::commit`] returns, and a batch dropped without a
//! commit (an error, a panic, an early return) rolls its transaction back: its
//! claims were never stored and their decisions never given.

use super::{Engine, Evaluated, Imported, Lookahead};
use crate::claims::{Claim, ClaimError, ClaimSlot};
use crate::history::{Member, Transactional};

/// Claims decided in one transaction of the engine's history store, their
/// answers held until the commit. Made by [`Engine::begin`].
///
/// ```
/// # use std::time::Duration;
/// use payer_rules::{ClaimReader, Engine, InputFormat, Policies, SqliteHistory};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("payer-rules-batch-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let policies = Policies::load(&["policies".into()]).into_result()?;
/// let store = SqliteHistory::open(&dir.join("history.db"), Duration::from_secs(5))?;
/// let mut engine = Engine::with_history(policies, store);
///
/// let input = std::fs::read_to_string("examples/history/day1.jsonl")?;
/// let claims = ClaimReader::new(input.as_bytes(), InputFormat::Auto);
/// let mut batch = engine.begin()?;
/// batch.decide_all(claims.enumerate().map(|(i, claim)| (i + 1, claim)))?;
/// for answer in batch.commit()? {
///     println!("{}", answer.json());
/// }
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
#[must_use = "a batch that is dropped without `commit` rolls back and gives no answers"]
pub struct Batch<'e, H: Transactional> {
    engine: &'e mut Engine<H>,
    /// The answers so far, in the order the claims were given.
    held: Vec<Evaluated>,
    /// The transaction is still open: dropping the batch rolls it back.
    open: bool,
}

impl<H: Transactional> Engine<H> {
    /// Opens a batch: a transaction of the history store, in which claims are
    /// decided and stored, and whose answers are released by
    /// [`Batch::commit`]. Waits for another process's batch where the store
    /// says so.
    pub fn begin(&mut self) -> Result<Batch<'_, H>, H::Error> {
        self.history.begin()?;
        Ok(Batch {
            engine: self,
            held: Vec::new(),
            open: true,
        })
    }
}

impl<H: Transactional> Batch<'_, H> {
    /// Decides claims in input order: each `(record, claim)` is the claim's
    /// 1-based position in the input and the claim as read, or the error
    /// record of a claim that did not read, which is held in its place. The
    /// members of the claims are loaded first, in one trip to the store. A
    /// failing store is an `Err`; the batch should then be dropped (which
    /// rolls it back).
    pub fn decide_all<I>(&mut self, claims: I) -> Result<(), H::Error>
    where
        I: IntoIterator<Item = (usize, Result<Claim, ClaimError>)>,
    {
        let claims: Vec<(usize, Result<Claim, ClaimError>)> = claims.into_iter().collect();
        let members: Vec<Member<'_>> = claims
            .iter()
            .filter_map(|(_, c)| c.as_ref().ok().map(Member::of))
            .collect();
        self.engine.history.load_many(&members)?;
        self.held.reserve(claims.len());
        let mut claims = claims.into_iter();
        let mut ahead = Lookahead::new(|slot: &mut ClaimSlot| {
            let (record, read) = claims.next()?;
            slot.set(read);
            Some(record)
        });
        while let Some((record, claim)) = ahead.next(self.engine) {
            let evaluated = match claim {
                Ok(claim) => self.engine.try_evaluate(claim, record)?,
                Err(e) => Evaluated::error(e.clone()),
            };
            self.held.push(evaluated);
        }
        Ok(())
    }

    /// Loads these members' histories in one trip to the store, ahead of
    /// their claims ([`Batch::decide_all`] does it for its own claims).
    pub fn load(&mut self, members: &[Member<'_>]) -> Result<(), H::Error> {
        self.engine.history.load_many(members)
    }

    /// Decides one claim (`record`: its 1-based position in the input) and
    /// holds its answer.
    pub fn decide(&mut self, claim: &Claim, record: usize) -> Result<(), H::Error> {
        let evaluated = self.engine.try_evaluate(claim, record)?;
        self.held.push(evaluated);
        Ok(())
    }

    /// Holds the error record of a claim that could not be read, in its place
    /// among the answers.
    pub fn reject(&mut self, error: ClaimError) {
        self.held.push(Evaluated::error(error));
    }

    /// Stores a claim paid elsewhere (see [`Engine::import`]) in this batch's
    /// transaction.
    pub fn import(&mut self, claim: &Claim) -> Result<Imported, H::Error> {
        self.engine.import(claim)
    }

    /// Turns traces on or off for the claims this batch decides from now on
    /// (a service deciding several requests in one transaction honours each
    /// request's `explain`).
    pub fn set_explain(&mut self, on: bool) {
        self.engine.set_explain(on);
    }

    /// How many answers the batch holds.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True when the batch holds no answer yet.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Commits the transaction and releases the answers, in the order the
    /// claims were given. On an error nothing of the batch is stored and no
    /// answer is released. [`Engine::recycle`] takes the answers back once
    /// they are written, for the room of their lists.
    pub fn commit(mut self) -> Result<Vec<Evaluated>, H::Error> {
        // Whatever the commit does, the transaction is over: the store rolls
        // back a commit that fails.
        self.open = false;
        self.engine.history.commit()?;
        Ok(std::mem::take(&mut self.held))
    }

    /// Rolls the transaction back and drops the answers (what dropping the
    /// batch does, with the store's error reported).
    pub fn rollback(mut self) -> Result<(), H::Error> {
        self.open = false;
        self.engine.history.rollback()
    }
}

impl<H: Transactional> Drop for Batch<'_, H> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: the answers are dropped with the batch,
            // and a store that cannot roll back has failed already.
            let _ = self.engine.history.rollback();
        }
    }
}
