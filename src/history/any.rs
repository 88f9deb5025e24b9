//! One type over the durable stores, a SQLite file or a PostgreSQL database,
//! chosen by what the command line's `--db` names: a URL
//! (`postgres://...`) is a PostgreSQL database, anything else a file.

use std::path::Path;
use std::time::Duration;

#[cfg(feature = "postgres")]
use super::postgres::PgHistory;
use super::sqlite::{ClaimRow, ServiceRow};
use super::{
    ContentHash, HistoryStore, Member, NewClaim, Service, SqliteHistory, Status, StoreError,
    StoredDecision, Transactional, Version, Window,
};

/// A durable history: SQLite or PostgreSQL.
#[derive(Debug)]
#[non_exhaustive]
pub enum HistoryDb {
    /// A SQLite file ([`SqliteHistory`]).
    Sqlite(SqliteHistory),
    /// A PostgreSQL database shared by several nodes (`PgHistory`).
    #[cfg(feature = "postgres")]
    Postgres(PgHistory),
}

/// Runs `$e` on whichever store `$db` is, as `$s`.
macro_rules! each {
    ($db:expr, $s:ident => $e:expr) => {
        match $db {
            HistoryDb::Sqlite($s) => $e,
            #[cfg(feature = "postgres")]
            HistoryDb::Postgres($s) => $e,
        }
    };
}

/// True when `target` is a PostgreSQL URL (`postgres://` or
/// `postgresql://`) rather than a file.
pub fn is_postgres_url(target: &Path) -> bool {
    target
        .to_str()
        .is_some_and(|t| t.starts_with("postgres://") || t.starts_with("postgresql://"))
}

/// The error of a PostgreSQL URL in a build without the `postgres` feature.
#[cfg(not(feature = "postgres"))]
fn no_postgres() -> StoreError {
    StoreError::Postgres {
        target: "postgres://…".into(),
        code: None,
        why: "this build of payer-rules has no PostgreSQL support (cargo feature `postgres`)"
            .into(),
    }
}

impl HistoryDb {
    /// Opens the history `target` names for deciding claims: a PostgreSQL URL
    /// is connected to (its schema created or upgraded; a transaction waits
    /// up to `lock_wait` for another node's lock on a member), a path is a
    /// SQLite file opened as [`SqliteHistory::open`] does.
    pub fn open(target: &Path, lock_wait: Duration) -> Result<HistoryDb, StoreError> {
        if is_postgres_url(target) {
            #[cfg(feature = "postgres")]
            return PgHistory::connect(&target.to_string_lossy(), lock_wait)
                .map(HistoryDb::Postgres);
            #[cfg(not(feature = "postgres"))]
            return Err(no_postgres());
        }
        SqliteHistory::open(target, lock_wait).map(HistoryDb::Sqlite)
    }

    /// Opens an existing history for reading only (see
    /// [`SqliteHistory::open_read_only`]).
    pub fn open_read_only(target: &Path) -> Result<HistoryDb, StoreError> {
        if is_postgres_url(target) {
            #[cfg(feature = "postgres")]
            return PgHistory::connect_read_only(&target.to_string_lossy())
                .map(HistoryDb::Postgres);
            #[cfg(not(feature = "postgres"))]
            return Err(no_postgres());
        }
        SqliteHistory::open_read_only(target).map(HistoryDb::Sqlite)
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            HistoryDb::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            HistoryDb::Postgres(_) => "postgres",
        }
    }

    /// A member id's counted services, by date: of one payer, or with
    /// `payer` `None` of every payer (see [`SqliteHistory::services_of`]).
    pub fn services_of(
        &self,
        payer: Option<&str>,
        patient: &str,
    ) -> Result<Vec<ServiceRow>, StoreError> {
        each!(self, s => s.services_of(payer, patient))
    }

    /// Every claim version, in arrival order (optionally one member id's, of
    /// one payer or of every payer).
    pub fn claims_in_order(
        &self,
        payer: Option<&str>,
        patient: Option<&str>,
    ) -> Result<Vec<ClaimRow>, StoreError> {
        each!(self, s => s.claims_in_order(payer, patient))
    }

    /// Numbers of claim versions and of counted services.
    pub fn totals(&self) -> Result<(u64, u64), StoreError> {
        match self {
            HistoryDb::Sqlite(s) => s.totals(),
            #[cfg(feature = "postgres")]
            HistoryDb::Postgres(s) => s.totals().map(|(claims, services, _)| (claims, services)),
        }
    }
}

impl HistoryStore for HistoryDb {
    type Error = StoreError;

    fn load(&mut self, member: Member<'_>) -> Result<(), StoreError> {
        each!(self, s => s.load(member))
    }

    fn prefetch(&self, member: Member<'_>, ahead: usize) {
        each!(self, s => HistoryStore::prefetch(s, member, ahead))
    }

    fn window(&self, member: Member<'_>) -> Window<'_> {
        each!(self, s => s.window(member))
    }

    fn record(&mut self, member: Member<'_>, service: Service<'_>) -> Result<(), StoreError> {
        each!(self, s => s.record(member, service))
    }

    fn versions(&self, member: Member<'_>, id: &str) -> &[Version] {
        each!(self, s => s.versions(member, id))
    }

    fn replaced_by(&self, version: &Version) -> Option<&str> {
        each!(self, s => s.replaced_by(version))
    }

    fn decision(
        &mut self,
        member: Member<'_>,
        id: &str,
        hash: ContentHash,
    ) -> Result<Option<StoredDecision>, StoreError> {
        each!(self, s => s.decision(member, id, hash))
    }

    fn store(&mut self, claim: NewClaim<'_>) -> Result<(), StoreError> {
        each!(self, s => s.store(claim))
    }

    fn retire(
        &mut self,
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        each!(self, s => s.retire(member, id, status, by))
    }
}

impl Transactional for HistoryDb {
    fn begin(&mut self) -> Result<(), StoreError> {
        each!(self, s => Transactional::begin(s))
    }

    fn load_many(&mut self, members: &[Member<'_>]) -> Result<(), StoreError> {
        each!(self, s => s.load_many(members))
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        each!(self, s => Transactional::commit(s))
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        each!(self, s => Transactional::rollback(s))
    }
}
