//! Claim history: the services earlier claims left behind, which frequency
//! limits and intervals count, and the ledger of the claims they came from.
//!
//! A line decided allow or review becomes a service here; a denied line does not.
//! Prior history loaded with `--history` counts as allowed. The ledger keeps, per
//! member and claim id, every version of a claim (its content hash, status and
//! decision), so that a claim sent twice is answered from the ledger instead of
//! counting twice, and a replacement or void can take an earlier claim's services
//! out again.
//!
//! History is kept per [`Member`]: a payer and the member id it issued. A
//! payer's limits, intervals and counts see only its own earlier claims: a
//! member with an EmblemHealth session and a Medicare session on one day has
//! one session in each payer's history, and Medicare's "one session a day" is
//! not broken by the session Medicare never saw. The same id under two payers
//! is two histories (member ids are issued by payers, so two payers' members
//! may share one), and a claim is identified by (payer, member, claim id):
//! claim ids are assigned by providers, so two members' claims may share one.
//!
//! Three stores implement [`HistoryStore`]: [`MemoryHistory`] (one run),
//! [`SqliteHistory`] (a file that survives restarts, with `MemoryHistory` as its
//! per-member cache) and, with the `postgres` feature, `PgHistory` (a
//! PostgreSQL database several engine nodes share, the same cache per member).
//! [`HistoryDb`] is either durable one, as the command line's `--db` names it.

mod any;
mod book;
mod chunked;
mod code_index;
mod content_hash;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;
mod table;
#[cfg(test)]
mod tests;
mod transaction;
mod window;
mod worker;

use std::cell::RefCell;
use std::convert::Infallible;
use std::fmt;
use std::num::NonZeroU32;

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::claims::{Action, Claim, ClaimDecision, Decision, Reason, Text};
use crate::codes::CodeKey;
use crate::codes::CodeSet;
use crate::days::Day;
use crate::hint;

pub use crate::codes::{ModifierCodes, ModifierFilter};
pub use any::{is_postgres_url, HistoryDb};
#[cfg(test)]
pub use content_hash::canonical_bytes;
pub use content_hash::ContentHash;
pub use memory::MemoryHistory;
pub use sqlite::{SqliteHistory, StoreError};
pub use transaction::Transactional;
#[cfg(test)]
use window::site_matches;
pub use window::{counts_service, weight, Counted, Query, Service, SiteId, SiteScope, Window};

use book::{grow_by, replacer, Entry, PatientBook, Versions, NO_VERSION};
use code_index::CodeIndex;
use memory::{ArenaRef, Marks, Sites};

/// Whose history: a member id as the payer issued it, and that payer (the
/// claim's `payer`, the id that selects its policy; for 837P input, the payer
/// its X12 id maps to). Every question to a [`HistoryStore`] is about one
/// member: the same id under two payers is two members with two histories.
/// Borrowed from the claim, so asking costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Member<'a> {
    /// The payer whose history it is.
    pub payer: &'a str,
    /// The member id, as that payer issued it (the claim's `patient.id`).
    pub id: &'a str,
}

impl<'a> Member<'a> {
    /// The member `id` of `payer`.
    pub fn new(payer: &'a str, id: &'a str) -> Member<'a> {
        Member { payer, id }
    }

    /// The member a claim's history belongs to: its payer and patient id.
    #[inline]
    pub fn of(claim: &'a Claim) -> Member<'a> {
        Member {
            payer: &claim.payer,
            id: &claim.patient.id,
        }
    }
}

impl fmt::Display for Member<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "member `{}` of payer `{}`", self.id, self.payer)
    }
}

/// Where a version of a claim stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Evaluated; its allowed and reviewed lines count.
    Active,
    /// Imported as paid history; all its lines count. It has no decision.
    Imported,
    /// A void claim (frequency code 8); counts nothing.
    Void,
    /// Superseded by a replacement; its services were taken out.
    Replaced,
    /// Voided by a void claim; its services were taken out.
    Voided,
}

impl Status {
    /// The name kept in the database and shown by `history show`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Imported => "imported",
            Status::Void => "void",
            Status::Replaced => "replaced",
            Status::Voided => "voided",
        }
    }

    /// Reads a name written by [`Status::as_str`].
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "active" => Some(Status::Active),
            "imported" => Some(Status::Imported),
            "void" => Some(Status::Void),
            "replaced" => Some(Status::Replaced),
            "voided" => Some(Status::Voided),
            _ => None,
        }
    }

    /// True for the version that stands for its claim id now (at most one per
    /// id): active, imported or void, not superseded.
    pub fn is_current(self) -> bool {
        matches!(self, Status::Active | Status::Imported | Status::Void)
    }
}

/// One version of a claim in the ledger: a claim id has one per distinct content
/// that was stored under it (an original, then its replacements).
#[derive(Debug, Clone)]
pub struct Version {
    /// The content hash of this version.
    pub hash: ContentHash,
    /// Where it stands.
    pub status: Status,
    /// Arrival order: versions are numbered as they are stored, across runs and
    /// processes for a database.
    pub seq: u64,
    /// Where the stored decision (compact form) is in the memory store's arena.
    decision: Option<ArenaRef>,
    /// Marks the services this version put in its member's history
    /// ([`Entry::version`]), to take them out again.
    tag: u32,
    /// Loaded from a row stored before history was kept per payer (a
    /// database of schema 2 or older), which counts under every payer of its
    /// member (see [`SqliteHistory`]): retiring it changes what every payer's
    /// history of the member holds. In room the struct had as padding.
    pub(crate) shared: bool,
    /// For a replaced or voided version, the claim that did it: its index
    /// in the store's list of those names plus one, 0 for none (see
    /// [`HistoryStore::replaced_by`]). Few versions are ever replaced, and
    /// a name of their own made every version 88 bytes instead of 48 in
    /// the patients' claim lists, which grow with each claim.
    replaced_by: u32,
}

/// A stored decision as a store gives it back. Either way, the claim that is
/// answered with it (the same content, so the same id, payer, lines and codes)
/// supplies the rest of the decision.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredDecision {
    /// The engine's compact form (see [`NewClaim::kept`]).
    Kept(Vec<u8>),
    /// The decision without what the claim gives back.
    Parts(DecisionParts),
}

/// A decision without its claim's id, payer, line numbers and codes.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionParts {
    /// The policy that decided it.
    pub policy: std::sync::Arc<str>,
    /// Its version.
    pub version: std::sync::Arc<str>,
    /// Every policy that applied, when several did (see
    /// [`crate::claims::Decision::policies`]); empty otherwise.
    pub policies: Vec<crate::claims::PolicyRef>,
    /// The claim decision.
    pub decision: ClaimDecision,
    /// Per claim line (none for a void): its decision and reasons.
    pub lines: Vec<(Action, Vec<Reason>)>,
}

/// A claim version to store.
#[derive(Debug, Clone, Copy)]
pub struct NewClaim<'a> {
    /// The member (payer and member id).
    pub member: Member<'a>,
    /// The claim id.
    pub id: &'a str,
    /// Its content hash.
    pub hash: ContentHash,
    /// `Active`, `Imported` or `Void`.
    pub status: Status,
    /// For a replacement or void: the claim it acts on.
    pub replaces: Option<&'a str>,
    /// The services it puts in the history, each with its claim line number.
    pub services: &'a [(u32, Service<'a>)],
    /// The decision to answer a resubmission with; `None` when imported. Its
    /// traces, if any, are not kept.
    pub decision: Option<&'a Decision>,
    /// The same decision in the engine's compact form (policy, line actions and
    /// the rule checks that fired, a few bytes), which a store that keeps
    /// decisions in memory keeps instead of the JSON.
    pub kept: Option<&'a [u8]>,
}

/// Where services and the claim ledger are kept between claims.
///
/// Everything is kept per [`Member`] (payer and member id): a store answers
/// about a member from that member's own services and claims only.
///
/// A store may load a member's history lazily: [`HistoryStore::load`] is called
/// for a member before any other method is asked about that member. Changes
/// take effect at once for later calls; a store with transactions (SQLite) makes
/// them durable when its transaction commits.
pub trait HistoryStore {
    /// What can go wrong in the store (`Infallible` in memory).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Makes a member's history and claims available.
    fn load(&mut self, member: Member<'_>) -> Result<(), Self::Error>;
    /// A hint that a claim of this member will be decided `ahead` claims
    /// after the current one (1 to 3): a store may start fetching what it
    /// will read. Changes nothing.
    fn prefetch(&self, _member: Member<'_>, _ahead: usize) {}
    /// The member's counted services, for the counts of one claim; see
    /// [`Window`].
    fn window(&self, member: Member<'_>) -> Window<'_>;
    /// How many services match the query.
    fn count(&self, query: &Query<'_>) -> u32 {
        let window = self.window(query.member);
        window.count(&query.in_window(&window))
    }
    /// Records a service of a member that belongs to no claim in the ledger
    /// (prior history given without claim identity).
    fn record(&mut self, member: Member<'_>, service: Service<'_>) -> Result<(), Self::Error>;
    /// The versions stored under a member's claim id, in arrival order.
    fn versions(&self, member: Member<'_>, id: &str) -> &[Version];
    /// For a version the store gave (from [`HistoryStore::versions`]) that
    /// was replaced or voided: the claim that did it.
    fn replaced_by(&self, version: &Version) -> Option<&str>;
    /// The stored decision of a version; `None` for an imported one.
    fn decision(
        &mut self,
        member: Member<'_>,
        id: &str,
        hash: ContentHash,
    ) -> Result<Option<StoredDecision>, Self::Error>;
    /// Stores a claim version and its services.
    fn store(&mut self, claim: NewClaim<'_>) -> Result<(), Self::Error>;
    /// Marks the current version of a claim `Replaced` or `Voided` by claim `by`
    /// and takes its services out of the history.
    fn retire(
        &mut self,
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), Self::Error>;
}
