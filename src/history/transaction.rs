//! Stores whose writes become durable together: what the batch protocol
//! ([`crate::Batch`]) needs of a history store.

use super::{HistoryStore, Member, SqliteHistory, StoreError};

/// A history store with transactions. A batch opens one with
/// [`Transactional::begin`], decides its claims (each stored as it is decided),
/// and either makes them all durable with [`Transactional::commit`] or none of
/// them with [`Transactional::rollback`]. Between `begin` and the end of the
/// transaction no other process changes what this store reads.
///
/// The in-memory store has no durability to wait for and no way to take back
/// what it stored, so it is not `Transactional`: an engine over it decides
/// with [`crate::Engine::evaluate`], each answer final as it is given.
pub trait Transactional: HistoryStore {
    /// Opens a transaction (taking the store's write lock).
    fn begin(&mut self) -> Result<(), Self::Error>;
    /// Loads these members' histories, in one trip where the store can: a
    /// batch calls it with its claims' members before deciding them.
    fn load_many(&mut self, members: &[Member<'_>]) -> Result<(), Self::Error>;
    /// Makes everything stored since `begin` durable; on an error, nothing of
    /// it is.
    fn commit(&mut self) -> Result<(), Self::Error>;
    /// Abandons the transaction: nothing stored since `begin` remains.
    fn rollback(&mut self) -> Result<(), Self::Error>;
}

impl Transactional for SqliteHistory {
    fn begin(&mut self) -> Result<(), StoreError> {
        SqliteHistory::begin(self)
    }

    fn load_many(&mut self, members: &[Member<'_>]) -> Result<(), StoreError> {
        SqliteHistory::prefetch(self, members)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        SqliteHistory::commit(self)
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        SqliteHistory::rollback(self)
    }
}
