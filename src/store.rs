//! What implementing a [`crate::HistoryStore`] takes: the services a store
//! keeps, the claim versions of its ledger and the decisions stored with them.
//! A store usually keeps a [`crate::MemoryHistory`] as its cache and lends its
//! [`Window`]s, as [`crate::SqliteHistory`] does; the engine asks the questions
//! and makes every decision.

/// The rows `history show` lists, as [`crate::SqliteHistory`] reads them.
pub use crate::history::sqlite::{ClaimRow, ServiceRow};
pub use crate::history::{
    ContentHash, DecisionParts, Member, ModifierCodes, ModifierFilter, NewClaim, Query, Service,
    SiteId, SiteScope, Status, StoredDecision, Version, Window,
};
