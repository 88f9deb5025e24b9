//! The SQLite history store: claim history in one file that survives restarts.
//!
//! The file is opened in WAL mode with `synchronous = FULL`, so a committed
//! transaction survives a crash of the process or of the machine. The program
//! creates and migrates its schema itself (`schema_version` table): an older file
//! is upgraded when opened, a newer one is refused.
//!
//! Evaluation reads a per-member cache (a [`MemoryHistory`]): a member's
//! services and claims are loaded on first use, and every change goes to the
//! cache at once and to the database in the open transaction. Work is done in
//! batches: [`SqliteHistory::begin`] takes the write lock (`BEGIN IMMEDIATE`,
//! waiting while another process holds it) and drops the cache if another
//! connection committed since this one last looked (`PRAGMA data_version`), so
//! counts always see the other process's services; [`SqliteHistory::prefetch`]
//! loads the batch's members in one trip; [`SqliteHistory::commit`] makes the
//! batch durable, all of it or nothing.
//!
//! The connection lives on a thread of its own: writes are posted to it and run
//! while the engine decides the next claims, reads wait for their answer, and
//! jobs run in the order they were sent, so a read sees every earlier write. A
//! failed write is reported by the commit, which then rolls the batch back.
//!
//! Tables:
//!
//! - `claims(seq, patient, id, hash, status, replaces, replaced_by, services,
//!   decision, payer)`: one row per version of a claim, in arrival order (`seq`,
//!   across runs and processes). History is per member: a row belongs to the
//!   member `patient` of payer `payer`, and a payer's claims see only that
//!   payer's rows. A row with no payer (NULL) was stored before history was kept
//!   per payer (schema 2 and older, whose rows did not record it): it counts for
//!   its member under every payer, as every row did then, so a file of one
//!   payer's claims decides after the upgrade exactly as before it. Retiring
//!   such a row (a replacement or void of a claim stored before the upgrade)
//!   drops the cache, since every payer's history of the member held it. A version's counted services are a JSON array in its
//!   row (`[[line, date, procedure, site, units, modifier_50, charge,
//!   modifiers], ...]`, the charge the exact decimal as a string, the
//!   modifiers an array left out when the line had none; a row stored before
//!   schema 4 has the first four items only, and its services read as 1 unit,
//!   no modifier 50 and no charge, which sums as 0; one stored before schema
//!   5 has no modifiers, and its services read as billed with none, which a
//!   count `with modifier` does not count) and its decision in a compact
//!   form, so a claim's decision and history are one row, written together. The
//!   decision is `[policy, version, "decision", [["action", reason, ...], ...]]`
//!   (and `[[policy, version], ...]` last when several policies applied) with
//!   numbers into `texts`; a reason's text names its policy (rows written
//!   before reasons did are read with the row's policy); with the claim that is answered with it (the same
//!   content: id, payer, lines, codes) it gives back the decision's JSON byte for
//!   byte, even after the policies changed. At most one version of a claim id
//!   is current (`active`, `imported` or `void`); superseded ones are
//!   `replaced` or `voided`. The only index is on `(patient, payer)`: rows are
//!   appended, so a batch of claims dirties few pages, which is what keeps
//!   commits cheap. The member id leads, so that `history show` finds a
//!   member's rows of every payer with it too.
//! - `services`: a view of the counted services (with their `payer`, `units`,
//!   `modifier_50`, `charge` and `modifiers`), one row per service, for people querying
//!   the file with `sqlite3`.
//! - `texts(id, text)`: policy ids, versions and reasons (as JSON), each once.
//! - `schema_version(version)`.

mod db;
mod open;
mod services;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashMap;

use super::worker::Worker;
use super::{
    ContentHash, DecisionParts, HistoryStore, Member, MemoryHistory, ModifierCodes, NewClaim,
    Service, Status, StoredDecision, Version, Window,
};
use crate::claims::validate::parse_date;
use crate::claims::{Action, ClaimDecision, Decision, PolicyRef, Reason, ReasonParts};
use crate::codes::CodeKey;
use db::{Db, LoadedVersion, NewRow};
pub(super) use services::{
    load_services, push_service_rows, services_json, sort_service_rows, LoadedService,
};

/// The schema this program writes. Each entry of [`MIGRATIONS`] takes a file
/// from the version before it to its own.
pub const SCHEMA_VERSION: i64 = 5;

/// Migration `i` takes schema version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the claim versions, their services and decisions.
    "CREATE TABLE schema_version (version INTEGER NOT NULL);
     INSERT INTO schema_version (version) VALUES (0);
     CREATE TABLE claims (
         seq INTEGER PRIMARY KEY,
         patient TEXT NOT NULL,
         id TEXT NOT NULL,
         hash BLOB NOT NULL,
         status TEXT NOT NULL,
         replaces TEXT,
         replaced_by TEXT,
         services TEXT NOT NULL,
         decision TEXT
     );
     CREATE INDEX claims_by_patient ON claims (patient);
     CREATE TABLE texts (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);",
    // 2: the counted services as a relational view.
    "CREATE VIEW services AS
         SELECT c.patient AS patient, c.id AS claim, s.value ->> 0 AS line,
                s.value ->> 1 AS date, s.value ->> 2 AS procedure, s.value ->> 3 AS site
         FROM claims AS c, json_each(c.services) AS s
         WHERE c.status IN ('active', 'imported');",
    // 3: history per payer and member. Rows stored before keep no payer
    // (NULL): they count under every payer of their member (module docs).
    "ALTER TABLE claims ADD COLUMN payer TEXT;
     DROP INDEX claims_by_patient;
     CREATE INDEX claims_by_member ON claims (patient, payer);
     DROP VIEW services;
     CREATE VIEW services AS
         SELECT c.payer AS payer, c.patient AS patient, c.id AS claim, s.value ->> 0 AS line,
                s.value ->> 1 AS date, s.value ->> 2 AS procedure, s.value ->> 3 AS site
         FROM claims AS c, json_each(c.services) AS s
         WHERE c.status IN ('active', 'imported');",
    // 4: each service's units, modifier 50 and charge, as three more items
    // of its `services` entry. Rows stored before keep their four items
    // and read as 1 unit, no modifier 50 and no charge (module docs).
    "DROP VIEW services;
     CREATE VIEW services AS
         SELECT c.payer AS payer, c.patient AS patient, c.id AS claim, s.value ->> 0 AS line,
                s.value ->> 1 AS date, s.value ->> 2 AS procedure, s.value ->> 3 AS site,
                coalesce(s.value ->> 4, 1) AS units, coalesce(s.value ->> 5, 0) AS modifier_50,
                s.value ->> 6 AS charge
         FROM claims AS c, json_each(c.services) AS s
         WHERE c.status IN ('active', 'imported');",
    // 5: each service's modifiers, as an eighth item of its `services`
    // entry when the line had any (a JSON array); rows stored before read
    // as billed with none (module docs).
    "DROP VIEW services;
     CREATE VIEW services AS
         SELECT c.payer AS payer, c.patient AS patient, c.id AS claim, s.value ->> 0 AS line,
                s.value ->> 1 AS date, s.value ->> 2 AS procedure, s.value ->> 3 AS site,
                coalesce(s.value ->> 4, 1) AS units, coalesce(s.value ->> 5, 0) AS modifier_50,
                s.value ->> 6 AS charge, coalesce(s.value -> 7, '[]') AS modifiers
         FROM claims AS c, json_each(c.services) AS s
         WHERE c.status IN ('active', 'imported');",
];

/// Members kept in the cache before it is dropped at a batch boundary.
const CACHE_MEMBERS: usize = 2_000_000;

/// How long to wait for another process's write lock (milliseconds); set when
/// a store is opened. SQLite's busy handler is a plain function, hence a static.
static BUSY_TIMEOUT_MS: AtomicU64 = AtomicU64::new(300_000);

/// Polls every 100 microseconds, so a waiting process gets the lock in the
/// short gap between two batches of another (SQLite's default handler backs off
/// to 100 ms sleeps and starves behind a busy writer).
fn busy(count: i32) -> bool {
    let limit = BUSY_TIMEOUT_MS.load(Ordering::Relaxed).saturating_mul(10);
    if u64::try_from(count).unwrap_or(0) >= limit {
        return false;
    }
    std::thread::sleep(Duration::from_micros(100));
    true
}

/// What can go wrong with the database. Each variant is a `miette`
/// diagnostic with its own code (`payer_rules::history::...`), so that a
/// program embedding the store reports it as the command line does.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite said no.
    #[error("database `{path}`: {source}")]
    #[diagnostic(code(payer_rules::history::sqlite))]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer payer-rules.
    #[error(
        "database `{path}` has schema version {found}, newer than the {supported} this payer-rules \
         understands; open it with a newer payer-rules"
    )]
    #[diagnostic(code(payer_rules::history::too_new))]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this program knows.
        supported: i64,
    },
    /// The file was written by an older payer-rules, and the command only
    /// reads it (a read-only open does not migrate).
    #[error(
        "database `{path}` has schema version {found}, older than the {supported} this payer-rules \
         reads; run `payer-rules eval --db` or `payer-rules history import --db` on it once to upgrade it"
    )]
    #[diagnostic(code(payer_rules::history::outdated))]
    Outdated {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The version this program reads.
        supported: i64,
    },
    /// The file could not be created.
    #[error("database `{path}`: cannot create the file: {source}")]
    #[diagnostic(
        code(payer_rules::history::create),
        help("check that the directory exists and is writable")
    )]
    Create {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is a database, but not a history.
    #[error("`{path}` is not a payer-rules history database: {why}")]
    #[diagnostic(
        code(payer_rules::history::foreign),
        help("give `--db` a new file or database, or one payer-rules created")
    )]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What is missing.
        why: String,
    },
    /// The database thread could not start or ended early.
    #[error("database `{path}`: the database thread stopped: {why}")]
    #[diagnostic(code(payer_rules::history::stopped))]
    Stopped {
        /// The database file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// PostgreSQL said no or could not be reached (the PostgreSQL history
    /// store, `PgHistory`). The service answers 503 with `Retry-After`;
    /// the store reconnects at the next transaction.
    #[error("database `{target}`: {why}")]
    #[diagnostic(code(payer_rules::history::postgres))]
    Postgres {
        /// The server and database, without a password.
        target: String,
        /// The SQLSTATE code, when the server gave one (`40P01` a deadlock,
        /// `55P03` a lock wait past `lock_timeout`, `57014` a statement past
        /// `statement_timeout`).
        code: Option<String>,
        /// What went wrong.
        why: String,
    },
    /// A row this program cannot read.
    #[error("database `{path}`: unreadable row: {why}")]
    #[diagnostic(code(payer_rules::history::corrupt))]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

/// A service row, as `history show` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    /// The payer whose history it is in; `None` for a row stored before
    /// history was kept per payer, which counts under every payer.
    pub payer: Option<String>,
    /// The claim it came from; empty for prior history without a claim.
    pub claim: String,
    /// The claim's line number.
    pub line: u32,
    /// Date of service.
    pub date: NaiveDate,
    /// Procedure code.
    pub procedure: String,
    /// Anatomic site.
    pub site: Option<String>,
    /// Units of service (1 for a row stored before history kept units).
    pub units: u32,
    /// Whether the line carried modifier 50 (false for a row stored before
    /// history kept it).
    pub modifier_50: bool,
    /// The charge, the exact decimal as stored; `None` when the line had
    /// none or the row was stored before history kept charges.
    pub charge: Option<String>,
    /// The modifiers billed, in order (none for a row stored before
    /// history kept them).
    pub modifiers: Vec<String>,
}

/// A claim version row, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    /// Arrival order.
    pub seq: u64,
    /// The payer whose history it is in; `None` for a row stored before
    /// history was kept per payer, which counts under every payer.
    pub payer: Option<String>,
    /// The member id.
    pub patient: String,
    /// The claim id.
    pub id: String,
    /// The content hash, hex.
    pub hash: String,
    /// Where it stands.
    pub status: Status,
    /// The claim it replaced or voided.
    pub replaces: Option<String>,
    /// The claim that replaced or voided it.
    pub replaced_by: Option<String>,
}

/// Claim history in a SQLite file; see the module documentation.
pub struct SqliteHistory {
    worker: Worker<Db>,
    path: PathBuf,
    cache: MemoryHistory,
    in_batch: bool,
    data_version: i64,
    next_seq: u64,
    /// How many times another process's commit made this one drop its cache.
    pub cache_drops: u64,
    /// Ids of texts by the text (policy ids, versions, reasons as JSON).
    text_ids: FxHashMap<Box<str>, i64>,
    /// Ids of reasons by the identity of the plan's strings they are made of,
    /// so that a reason is not serialized again for each claim.
    reason_ids: FxHashMap<[usize; 8], i64>,
}

impl std::fmt::Debug for SqliteHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteHistory")
            .field("path", &self.path)
            .field("in_batch", &self.in_batch)
            .finish_non_exhaustive()
    }
}

impl SqliteHistory {
    fn stopped(&self) -> StoreError {
        StoreError::Stopped {
            path: self.path.clone(),
            why: "it ended early".into(),
        }
    }

    /// Runs `job` on the database thread and waits for its result.
    fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Db) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.worker.call(job).unwrap_or_else(|| Err(self.stopped()))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.call(|db| db.schema_version())
    }

    /// Starts a batch: takes the write lock (waiting for another process's batch
    /// to end) and drops the cache when another connection committed since.
    pub fn begin(&mut self) -> Result<(), StoreError> {
        if self.in_batch {
            return Ok(());
        }
        let (version, next) = self.call(|db| db.begin())?;
        self.in_batch = true;
        if version != self.data_version {
            self.data_version = version;
            if !self.cache.is_empty() {
                self.cache.clear();
                self.cache_drops += 1;
            }
        }
        self.next_seq = next;
        Ok(())
    }

    /// Ends a batch: everything stored since [`SqliteHistory::begin`] becomes
    /// durable at once (or, when a write failed, nothing does).
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if !self.in_batch {
            return Ok(());
        }
        self.in_batch = false;
        let result = self.call(|db| db.commit());
        if result.is_err() {
            self.forget();
        } else if self.cache.members() > CACHE_MEMBERS {
            self.cache.clear();
        }
        result
    }

    /// Abandons the open batch: nothing of it reaches the file, and the cache,
    /// which already saw it, is dropped.
    pub fn rollback(&mut self) -> Result<(), StoreError> {
        if !self.in_batch {
            return Ok(());
        }
        self.in_batch = false;
        self.forget();
        self.call(|db| db.rollback())
    }

    /// Drops what the cache and the text ids may hold of a batch that did not
    /// commit.
    fn forget(&mut self) {
        self.cache.clear();
        self.text_ids.clear();
        self.reason_ids.clear();
    }

    /// Runs `f` in a batch of its own when none is open.
    fn batched<T>(
        &mut self,
        f: impl FnOnce(&mut SqliteHistory) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.in_batch {
            return f(self);
        }
        self.begin()?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.rollback();
                Err(e)
            }
        }
    }

    fn next_seq(&mut self) -> Result<i64, StoreError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        i64::try_from(seq).map_err(|_| StoreError::Corrupt {
            path: self.path.clone(),
            why: "seq overflow".into(),
        })
    }

    /// Loads, in one trip to the database, the members of `members` not in the
    /// cache: a batch calls it with its claims' members before deciding them.
    pub fn prefetch(&mut self, members: &[Member<'_>]) -> Result<(), StoreError> {
        let mut missing: Vec<(String, String)> = members
            .iter()
            .filter(|m| !self.cache.has_member(**m))
            .map(|m| (m.payer.to_owned(), m.id.to_owned()))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let loaded = self.call(move |db| {
            missing
                .into_iter()
                .map(|m| db.load(Member::new(&m.0, &m.1)).map(|v| (m, v)))
                .collect::<Result<Vec<_>, _>>()
        })?;
        for ((payer, id), versions) in loaded {
            self.fill(Member::new(&payer, &id), versions);
        }
        Ok(())
    }

    /// Loads a member's rows into the cache, from the file.
    fn load_member(&mut self, member: Member<'_>) -> Result<(), StoreError> {
        let (payer, id) = (member.payer.to_owned(), member.id.to_owned());
        let versions = self.call(move |db| db.load(Member::new(&payer, &id)))?;
        self.fill(member, versions);
        Ok(())
    }

    fn fill(&mut self, member: Member<'_>, versions: Vec<LoadedVersion>) {
        self.cache.touch(member);
        for v in versions {
            if !v.id.is_empty() {
                let version = self.cache.loaded_version(
                    ContentHash(v.hash),
                    v.status,
                    v.replaced_by.as_deref(),
                    v.seq,
                    v.shared,
                );
                self.cache.add_loaded(member, &v.id, version);
            }
            if !v.services.is_empty() {
                let services: Vec<Service<'_>> =
                    v.services.iter().map(LoadedService::service).collect();
                self.cache.add_loaded_services(member, &v.id, &services);
            }
        }
    }

    /// A member id's counted services, by date, straight from the file: of
    /// one payer (its own rows and those stored before history was kept per
    /// payer, which count for it too), or with `payer` `None` of every payer.
    pub fn services_of(
        &self,
        payer: Option<&str>,
        patient: &str,
    ) -> Result<Vec<ServiceRow>, StoreError> {
        let (payer, patient) = (payer.map(str::to_owned), patient.to_owned());
        self.call(move |db| db.services_of(payer.as_deref(), &patient))
    }

    /// Every claim version, in arrival order (optionally one member id's, of
    /// every payer or, with `payer`, of the rows that payer's history holds,
    /// as [`SqliteHistory::services_of`]).
    pub fn claims_in_order(
        &self,
        payer: Option<&str>,
        patient: Option<&str>,
    ) -> Result<Vec<ClaimRow>, StoreError> {
        let (payer, patient) = (payer.map(str::to_owned), patient.map(str::to_owned));
        self.call(move |db| db.claims_in_order(payer.as_deref(), patient.as_deref()))
    }

    /// Numbers of claim versions and of services in the file.
    pub fn totals(&self) -> Result<(u64, u64), StoreError> {
        self.call(|db| db.totals())
    }

    fn text_id(&mut self, text: &str) -> Result<i64, StoreError> {
        if let Some(&id) = self.text_ids.get(text) {
            return Ok(id);
        }
        let owned = text.to_owned();
        let id = self.call(move |db| db.text_id(&owned))?;
        self.text_ids.insert(text.into(), id);
        Ok(id)
    }

    fn reason_id(&mut self, reason: &Reason) -> Result<i64, StoreError> {
        let key = [
            reason.rule.as_ptr() as usize,
            reason.message.as_ptr() as usize,
            reason.at.as_ptr() as usize,
            reason.carc.as_ref().map_or(0, |c| c.as_ptr() as usize),
            reason.rarc.as_ptr() as usize,
            usize::from(reason.action as u8),
            reason.policy.as_ptr() as usize,
            reason.policy_version.as_ptr() as usize,
        ];
        if let Some(&id) = self.reason_ids.get(&key) {
            return Ok(id);
        }
        let text = serde_json::to_string(reason).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            why: e.to_string(),
        })?;
        let id = self.text_id(&text)?;
        self.reason_ids.insert(key, id);
        Ok(id)
    }

    /// `[policy, version, "decision", [["action", reason, ...], ...]]`, and
    /// when several policies applied `[[policy, version], ...]` after them.
    fn encode(&mut self, d: &Decision) -> Result<String, StoreError> {
        use std::fmt::Write;
        let policy = self.text_id(&d.policy)?;
        let version = self.text_id(&d.policy_version)?;
        let mut out = String::with_capacity(32 + 12 * d.lines.len());
        let _ = write!(out, "[{policy},{version},\"{}\",[", d.decision.as_str());
        for (i, line) in d.lines.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "[\"{}\"", line.decision.as_str());
            for r in &line.reasons {
                let id = self.reason_id(r)?;
                let _ = write!(out, ",{id}");
            }
            out.push(']');
        }
        out.push(']');
        for (i, p) in d.policies.iter().enumerate() {
            let (id, version) = (self.text_id(&p.id)?, self.text_id(&p.version)?);
            let _ = write!(out, "{}[{id},{version}]", if i == 0 { ",[" } else { "," });
        }
        if !d.policies.is_empty() {
            out.push(']');
        }
        out.push(']');
        Ok(out)
    }

    fn store_claim(&mut self, claim: &NewClaim<'_>) -> Result<(), StoreError> {
        let counts = matches!(claim.status, Status::Active | Status::Imported);
        let decision = match claim.decision {
            Some(d) => Some(self.encode(d)?),
            None => None,
        };
        let seq = self.next_seq()?;
        let row = NewRow {
            seq,
            payer: claim.member.payer.to_owned(),
            patient: claim.member.id.to_owned(),
            id: claim.id.to_owned(),
            hash: claim.hash.0,
            status: claim.status,
            replaces: claim.replaces.map(str::to_owned),
            services: services_json(if counts { claim.services } else { &[] }),
            decision,
        };
        self.worker.post(move |db| db.posted(|db| db.insert(row)));
        self.cache
            .add_version(claim, u64::try_from(seq).unwrap_or(0), false);
        Ok(())
    }

    fn retire_claim(
        &mut self,
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        let (payer, patient) = (member.payer.to_owned(), member.id.to_owned());
        let (i, b) = (id.to_owned(), by.to_owned());
        self.worker.post(move |db| {
            db.posted(|db| db.retire(Member::new(&payer, &patient), &i, status, &b))
        });
        if self.cache.retire_version(member, id, status, by) {
            // A row stored before history was kept per payer is in every
            // payer's history of its member, and so in each of their books
            // in the cache: they are dropped, and this member's loaded again
            // (after the retirement, which the database thread ran first).
            // Rare: only replacements and voids of such claims.
            self.cache.clear();
            self.load_member(member)?;
        }
        Ok(())
    }

    fn record_service(
        &mut self,
        member: Member<'_>,
        service: Service<'_>,
    ) -> Result<(), StoreError> {
        // Prior history without claim identity: a row of its own, with no id.
        let seq = self.next_seq()?;
        let row = NewRow {
            seq,
            payer: member.payer.to_owned(),
            patient: member.id.to_owned(),
            id: String::new(),
            hash: [0; 16],
            status: Status::Imported,
            replaces: None,
            services: services_json(&[(1, service)]),
            decision: None,
        };
        self.worker.post(move |db| db.posted(|db| db.insert(row)));
        let _ = self.cache.record(member, service);
        Ok(())
    }
}

impl HistoryStore for SqliteHistory {
    type Error = StoreError;

    fn load(&mut self, member: Member<'_>) -> Result<(), StoreError> {
        if self.cache.has_member(member) {
            // Prefetches what the evaluation reads next (see `MemoryHistory`).
            let Ok(()) = self.cache.load(member);
            return Ok(());
        }
        self.load_member(member)
    }

    fn prefetch(&self, member: Member<'_>, ahead: usize) {
        self.cache.prefetch(member, ahead);
    }

    fn window(&self, member: Member<'_>) -> Window<'_> {
        self.cache.window(member)
    }

    fn record(&mut self, member: Member<'_>, service: Service<'_>) -> Result<(), StoreError> {
        self.load(member)?;
        self.batched(|s| s.record_service(member, service))
    }

    fn versions(&self, member: Member<'_>, id: &str) -> &[Version] {
        self.cache.versions(member, id)
    }

    fn replaced_by(&self, version: &Version) -> Option<&str> {
        self.cache.replaced_by(version)
    }

    fn decision(
        &mut self,
        member: Member<'_>,
        id: &str,
        hash: ContentHash,
    ) -> Result<Option<StoredDecision>, StoreError> {
        let Some(seq) = self.cache.version_of(member, id, hash).map(|v| v.seq) else {
            return Ok(None);
        };
        Ok(self
            .call(move |db| db.decision(seq))?
            .map(StoredDecision::Parts))
    }

    fn store(&mut self, claim: NewClaim<'_>) -> Result<(), StoreError> {
        self.batched(|s| s.store_claim(&claim))
    }

    fn retire(
        &mut self,
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        self.batched(|s| s.retire_claim(member, id, status, by))
    }
}

#[cfg(test)]
mod tests;
