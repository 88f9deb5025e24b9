//! The PostgreSQL history store: one history shared by several engine nodes
//! (processes, machines), each deciding any member's claims.
//!
//! It mirrors [`super::SqliteHistory`]: evaluation reads a per-member cache
//! (a [`MemoryHistory`]), every change goes to the cache at once and to the
//! database in the open transaction, the connection lives on a thread of its
//! own (writes are posted to it and sent while the engine decides the next
//! claims, a batch's rows in a few multi-row `INSERT`s), and a batch is one
//! transaction, whose answers the batch protocol releases after the commit.
//!
//! What SQLite does with one write lock per file, this store does per member:
//! a transaction takes `pg_advisory_xact_lock` on each of its members' keys
//! before reading their histories (a batch takes them all at once, sorted by
//! key, so two nodes with overlapping members cannot deadlock), and holds them
//! to its commit. A second node deciding a claim of the same member waits,
//! then reads what the first committed. Once the lock is held, the member's
//! highest `seq` tells whether the cached copy is still the last commit's; if
//! not, the member is loaded again. Claims of different members never wait
//! for each other. `docs/scaling.md` says why advisory locks rather than row
//! locks or serializable transactions.
//!
//! Claim numbers (`seq`, the arrival order) come from a sequence in blocks of
//! [`SEQ_BLOCK`]; a store takes a fresh block after each lock it takes, so the
//! numbers of a member's versions grow in commit order across nodes.
//!
//! Tables (created and migrated by the program, `schema_version`):
//!
//! - `claims(patient, payer, seq, id, hash, status, replaces, replaced_by,
//!   services, decision)`: one row per claim version, with its counted
//!   services (`jsonb`, `[[line, date, procedure, site], ...]`) and its
//!   decision (`jsonb`: policy, version, claim decision and each line's
//!   action and reasons), written together. `PARTITION BY HASH (patient)` in
//!   [`PARTITIONS`] partitions. Unique indexes keep one row per content of a
//!   claim id and at most one current version per claim id, whatever a
//!   caller does.
//! - `services`: a view of the counted services, one row per service.
//! - `claim_seq`: the sequence of `seq`; `schema_version(version)`.
//!
//! Rows carry a `payer` column: the history is per payer and member. Until
//! the library's history trait names the payer, every row is written with the
//! empty payer ([`NO_PAYER`]).
//!
//! The connection: one per store (a service process has one decider, so one
//! connection; the pool is bounded at one), made lazily and made again at the
//! next transaction after it broke; `connect_timeout` 10 s unless the URL
//! says otherwise; `lock_timeout` the store's lock wait, `statement_timeout`
//! a minute more, `idle_in_transaction_session_timeout` so that a stopped
//! node does not hold its members' locks forever. No TLS: connect over a Unix
//! socket (`postgres:///db?host=/run/postgresql`) or loopback with
//! `sslmode=disable`.

mod conn;
#[cfg(test)]
pub(crate) mod test_cluster;
#[cfg(test)]
mod tests;
mod worker;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::mpsc::{channel, sync_channel, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::NaiveDate;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::sqlite::{services_json, ClaimRow, ServiceJson, ServiceRow};
use super::{
    ContentHash, DecisionParts, HistoryStore, MemoryHistory, NewClaim, Service, Status, StoreError,
    StoredDecision, Transactional, Version, Window,
};
use crate::claims::validate::parse_date;
use crate::claims::{Action, ClaimDecision, Decision, Reason};
use crate::codes::CodeKey;
use conn::{Db, LoadedVersion, NewRow};
use worker::Worker;

/// The schema this program writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Hash partitions of `claims`. Fixed at creation: changing it means moving
/// every row.
pub const PARTITIONS: u32 = 16;

/// Claim numbers a store takes from the sequence at a time.
pub const SEQ_BLOCK: u64 = 64;

/// The payer written in every row until the history trait names one.
pub const NO_PAYER: &str = "";

/// Members kept in the cache before it is dropped at a commit.
const CACHE_MEMBERS: usize = 2_000_000;

/// How long to wait for a connection before failing (unless the URL sets
/// `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The lock key of a member: the same on every node (xxh3 of the payer's
/// length, the payer and the patient id), so all nodes lock one member with
/// one key. Two members sharing a key only wait for each other.
pub fn lock_key(payer: &str, patient: &str) -> i64 {
    let mut bytes = Vec::with_capacity(8 + payer.len() + patient.len());
    bytes.extend_from_slice(&(payer.len() as u64).to_le_bytes());
    bytes.extend_from_slice(payer.as_bytes());
    bytes.extend_from_slice(patient.as_bytes());
    i64::from_le_bytes(xxhash_rust::xxh3::xxh3_64(&bytes).to_le_bytes())
}

/// The URL's server and database, without its password, for messages.
fn describe(config: &postgres::Config) -> String {
    let user = config.get_user().unwrap_or("");
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config
        .get_ports()
        .first()
        .map_or(String::new(), |p| format!(":{p}"));
    let db = config.get_dbname().unwrap_or("");
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("postgres://{at}{}{port}/{db}", hosts.join(","))
}

/// The decision as a row keeps it: the claim answered with it supplies the
/// rest (id, payer, line numbers and codes).
#[derive(Serialize)]
struct DecisionOut<'a> {
    policy: &'a str,
    version: &'a str,
    decision: &'a str,
    lines: Vec<(&'a str, &'a [Reason])>,
}

/// [`DecisionOut`], read back.
#[derive(Deserialize)]
struct DecisionIn {
    policy: String,
    version: String,
    decision: String,
    lines: Vec<(String, Vec<Reason>)>,
}

fn encode(d: &Decision) -> Result<String, serde_json::Error> {
    serde_json::to_string(&DecisionOut {
        policy: &d.policy,
        version: &d.policy_version,
        decision: d.decision.as_str(),
        lines: d
            .lines
            .iter()
            .map(|l| (l.decision.as_str(), l.reasons.as_slice()))
            .collect(),
    })
}

fn decode(json: &str) -> Option<DecisionParts> {
    let stored: DecisionIn = serde_json::from_str(json).ok()?;
    let decision = [
        ClaimDecision::Allow,
        ClaimDecision::Review,
        ClaimDecision::Deny,
        ClaimDecision::Partial,
        ClaimDecision::Void,
    ]
    .into_iter()
    .find(|d| d.as_str() == stored.decision)?;
    let mut lines = Vec::with_capacity(stored.lines.len());
    for (action, reasons) in stored.lines {
        let action = [Action::Allow, Action::Review, Action::Deny]
            .into_iter()
            .find(|a| a.as_str() == action)?;
        lines.push((action, reasons));
    }
    Some(DecisionParts {
        policy: stored.policy.into(),
        version: stored.version.into(),
        decision,
        lines,
    })
}

/// Claim history in PostgreSQL, shared by several nodes; see the module
/// documentation.
pub struct PgHistory {
    worker: Worker,
    target: String,
    cache: MemoryHistory,
    in_batch: bool,
    /// Per cached member: the highest `seq` of its rows this store has seen
    /// or written (0 for none), to tell a stale copy.
    known: FxHashMap<Box<str>, u64>,
    /// Members whose lock this transaction holds.
    locked: FxHashSet<Box<str>>,
    /// The claim numbers left in the current block: `next..end`.
    next_seq: u64,
    end_seq: u64,
    /// How many members were loaded again because another node had changed
    /// them since they were cached.
    pub reloads: u64,
}

impl std::fmt::Debug for PgHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgHistory")
            .field("target", &self.target)
            .field("in_batch", &self.in_batch)
            .finish_non_exhaustive()
    }
}

impl PgHistory {
    /// Connects to the database at `url` (`postgres://user@host:port/db`),
    /// creating or upgrading its schema; a transaction waits up to
    /// `lock_wait` for another node's lock on a member.
    pub fn connect(url: &str, lock_wait: Duration) -> Result<PgHistory, StoreError> {
        // Everything of the connection happens on the store's own thread,
        // outside any async runtime the caller runs in (the client blocks on
        // one of its own, which cannot nest in another).
        let store = PgHistory::start(PgHistory::db(url, lock_wait)?)?;
        store.call(|db| db.migrate())?;
        Ok(store)
    }

    /// Connects for reading only (`history show` and `stats`): nothing is
    /// created or migrated; a database of another schema version is refused.
    pub fn connect_read_only(url: &str) -> Result<PgHistory, StoreError> {
        let store = PgHistory::start(PgHistory::db(url, Duration::from_secs(30))?)?;
        let found = store.call(|db| db.stored_schema_version())?;
        let path = PathBuf::from(&store.target);
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path,
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::Outdated {
                path,
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    fn db(url: &str, lock_wait: Duration) -> Result<Db, StoreError> {
        let mut config = postgres::Config::from_str(url).map_err(|e| StoreError::Postgres {
            target: "postgres://…".into(),
            code: None,
            why: format!("cannot read the URL: {e}"),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("payer-rules");
        }
        let target = describe(&config);
        Ok(Db::new(config, target, lock_wait))
    }

    fn start(db: Db) -> Result<PgHistory, StoreError> {
        let target = db.target.clone();
        Ok(PgHistory {
            worker: Worker::start(db)?,
            target,
            cache: MemoryHistory::new(),
            in_batch: false,
            known: FxHashMap::default(),
            locked: FxHashSet::default(),
            next_seq: 0,
            end_seq: 0,
            reloads: 0,
        })
    }

    /// The server and database (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    fn stopped(&self) -> StoreError {
        StoreError::Postgres {
            target: self.target.clone(),
            code: None,
            why: "the database thread stopped".into(),
        }
    }

    /// Runs `job` on the database thread and waits for its result.
    fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Db) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.worker.call(job).unwrap_or_else(|| Err(self.stopped()))
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.call(|db| db.stored_schema_version())
    }

    /// Starts a transaction (connecting again if the connection broke). The
    /// members' locks are taken as their histories are loaded.
    pub fn begin(&mut self) -> Result<(), StoreError> {
        if self.in_batch {
            return Ok(());
        }
        self.call(|db| db.begin())?;
        self.in_batch = true;
        self.locked.clear();
        self.end_seq = self.next_seq;
        Ok(())
    }

    /// Commits: everything stored since [`PgHistory::begin`] becomes durable
    /// at once (or, when a write failed, nothing does), and the members'
    /// locks are released.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if !self.in_batch {
            return Ok(());
        }
        self.in_batch = false;
        self.locked.clear();
        let result = self.call(|db| db.commit());
        // A failed commit may have left the cache ahead of the database; a
        // cache past its bound is dropped between batches.
        if result.is_err() || self.cache.patients() > CACHE_MEMBERS {
            self.forget();
        }
        result
    }

    /// Abandons the transaction: nothing of it reaches the database, and the
    /// cache, which already saw it, is dropped.
    pub fn rollback(&mut self) -> Result<(), StoreError> {
        if !self.in_batch {
            return Ok(());
        }
        self.in_batch = false;
        self.locked.clear();
        self.forget();
        self.call(|db| db.rollback())
    }

    /// Drops the cache (a transaction that did not commit may be in it).
    fn forget(&mut self) {
        self.cache.clear();
        self.known.clear();
    }

    /// Runs `f` in a transaction of its own when none is open.
    fn batched<T>(
        &mut self,
        f: impl FnOnce(&mut PgHistory) -> Result<T, StoreError>,
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

    /// Loads these members' histories: in a transaction, first takes their
    /// locks (those not held yet, sorted by key, in one statement), then
    /// loads in one query the members not cached or whose cached copy is
    /// older than the last commit.
    pub fn prefetch(&mut self, patients: &[&str]) -> Result<(), StoreError> {
        if !self.in_batch {
            let missing: Vec<&str> = patients
                .iter()
                .copied()
                .filter(|p| !self.cache.has_patient(p))
                .collect();
            return self.reload(missing);
        }
        let mut new: Vec<(i64, &str)> = patients
            .iter()
            .filter(|p| !self.locked.contains(**p))
            .map(|p| (lock_key(NO_PAYER, p), *p))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        new.sort_unstable();
        new.dedup();
        let keys: Vec<i64> = new.iter().map(|(k, _)| *k).collect();
        let names: Vec<String> = new.iter().map(|(_, p)| (*p).to_owned()).collect();
        let last = self.call(move |db| db.lock(keys, names))?;
        for (_, p) in &new {
            self.locked.insert((*p).into());
        }
        // Numbers taken before these locks could be lower than another
        // node's for these members: a fresh block.
        self.end_seq = self.next_seq;
        let mut last_seq: FxHashMap<&str, u64> = FxHashMap::default();
        for (payer, patient, seq) in &last {
            if payer == NO_PAYER {
                last_seq.insert(patient.as_str(), *seq);
            }
        }
        let mut stale = Vec::new();
        for (_, p) in &new {
            let now = last_seq.get(p).copied().unwrap_or(0);
            let cached = self.cache.has_patient(p);
            if cached && self.known.get(*p).copied().unwrap_or(0) == now {
                continue;
            }
            if cached {
                self.cache.forget_patient(p);
                self.reloads += 1;
            }
            stale.push(*p);
        }
        self.reload(stale)
    }

    /// Loads these members from the database into the cache (each emptied
    /// first by the caller when it was there).
    fn reload(&mut self, patients: Vec<&str>) -> Result<(), StoreError> {
        if patients.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = patients.iter().map(|p| (*p).to_owned()).collect();
        let loaded = self.call(move |db| db.load(names))?;
        for p in &patients {
            self.cache.touch(p);
            self.known.insert((*p).into(), 0);
        }
        let wanted: FxHashSet<&str> = patients.iter().copied().collect();
        for v in loaded {
            if v.payer == NO_PAYER && wanted.contains(v.patient.as_str()) {
                self.fill(v);
            }
        }
        Ok(())
    }

    fn fill(&mut self, v: LoadedVersion) {
        let patient = v.patient.as_str();
        if let Some(known) = self.known.get_mut(patient) {
            *known = (*known).max(v.seq);
        }
        if !v.id.is_empty() {
            let version = self.cache.loaded_version(
                ContentHash(v.hash),
                v.status,
                v.replaced_by.as_deref(),
                v.seq,
            );
            self.cache.add_loaded(patient, &v.id, version);
        }
        if !v.services.is_empty() {
            let services: Vec<Service<'_>> = v
                .services
                .iter()
                .map(|(date, procedure, site)| Service {
                    date: *date,
                    procedure: *procedure,
                    site: site.as_deref(),
                })
                .collect();
            self.cache.add_loaded_services(patient, &v.id, &services);
        }
    }

    /// Before a write of a member in a transaction: its lock, taken now if
    /// the member was loaded outside the transaction (a single claim decided
    /// without a batch). If another node changed the member in between, the
    /// claim was decided on an old copy: the write is refused (and the
    /// member loaded again for the next try).
    fn ensure_locked(&mut self, patient: &str) -> Result<(), StoreError> {
        if self.locked.contains(patient) {
            return Ok(());
        }
        let before = self.known.get(patient).copied();
        let had = self.cache.has_patient(patient);
        self.prefetch(&[patient])?;
        let after = self.known.get(patient).copied();
        if had && before != after {
            return Err(StoreError::Postgres {
                target: self.target.clone(),
                code: None,
                why: "another node changed this member's history while the claim was decided; \
                      send it again"
                    .into(),
            });
        }
        Ok(())
    }

    fn next_seq(&mut self) -> Result<i64, StoreError> {
        if self.next_seq >= self.end_seq {
            let first = self.call(|db| db.next_block())?;
            self.next_seq = first;
            self.end_seq = first.saturating_add(SEQ_BLOCK);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        i64::try_from(seq).map_err(|_| StoreError::Postgres {
            target: self.target.clone(),
            code: None,
            why: "seq overflow".into(),
        })
    }

    fn wrote(&mut self, patient: &str, seq: i64) {
        let seq = u64::try_from(seq).unwrap_or(0);
        match self.known.get_mut(patient) {
            Some(known) => *known = (*known).max(seq),
            None => {
                self.known.insert(patient.into(), seq);
            }
        }
    }

    fn store_claim(&mut self, claim: &NewClaim<'_>) -> Result<(), StoreError> {
        self.ensure_locked(claim.patient)?;
        let counts = matches!(claim.status, Status::Active | Status::Imported);
        let decision = match claim.decision {
            Some(d) => Some(encode(d).map_err(|e| StoreError::Postgres {
                target: self.target.clone(),
                code: None,
                why: format!("cannot write the decision: {e}"),
            })?),
            None => None,
        };
        let seq = self.next_seq()?;
        let row = NewRow {
            payer: NO_PAYER.to_owned(),
            patient: claim.patient.to_owned(),
            seq,
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
        self.wrote(claim.patient, seq);
        Ok(())
    }

    fn retire_claim(
        &mut self,
        patient: &str,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        self.ensure_locked(patient)?;
        let (p, i, b) = (patient.to_owned(), id.to_owned(), by.to_owned());
        self.worker
            .post(move |db| db.posted(|db| db.retire(NO_PAYER, &p, &i, status, &b)));
        self.cache.retire_version(patient, id, status, by);
        Ok(())
    }

    fn record_service(&mut self, patient: &str, service: Service<'_>) -> Result<(), StoreError> {
        self.ensure_locked(patient)?;
        // Prior history without claim identity: a row of its own, with no id.
        let seq = self.next_seq()?;
        let row = NewRow {
            payer: NO_PAYER.to_owned(),
            patient: patient.to_owned(),
            seq,
            id: String::new(),
            hash: [0; 16],
            status: Status::Imported,
            replaces: None,
            services: services_json(&[(1, service)]),
            decision: None,
        };
        self.worker.post(move |db| db.posted(|db| db.insert(row)));
        let _ = self.cache.record(patient, service);
        self.wrote(patient, seq);
        Ok(())
    }

    /// A member's counted services, by date, straight from the database.
    pub fn services_of(&self, patient: &str) -> Result<Vec<ServiceRow>, StoreError> {
        let patient = patient.to_owned();
        self.call(move |db| db.services_of(NO_PAYER, &patient))
    }

    /// Every claim version, in arrival order (optionally one member's).
    pub fn claims_in_order(&self, patient: Option<&str>) -> Result<Vec<ClaimRow>, StoreError> {
        let patient = patient.map(str::to_owned);
        self.call(move |db| db.claims_in_order(NO_PAYER, patient.as_deref()))
    }

    /// Numbers of claim versions and of counted services, and the bytes the
    /// claims' partitions take on the server.
    pub fn totals(&self) -> Result<(u64, u64, u64), StoreError> {
        self.call(|db| db.totals())
    }
}

impl HistoryStore for PgHistory {
    type Error = StoreError;

    fn load(&mut self, patient: &str) -> Result<(), StoreError> {
        if self.in_batch && !self.locked.contains(patient) {
            return self.prefetch(&[patient]);
        }
        if self.cache.has_patient(patient) {
            // Prefetches what the evaluation reads next (see `MemoryHistory`).
            let Ok(()) = self.cache.load(patient);
            return Ok(());
        }
        self.reload(vec![patient])
    }

    fn prefetch(&self, patient: &str, ahead: usize) {
        self.cache.prefetch(patient, ahead);
    }

    fn window(&self, patient: &str) -> Window<'_> {
        self.cache.window(patient)
    }

    fn record(&mut self, patient: &str, service: Service<'_>) -> Result<(), StoreError> {
        self.load(patient)?;
        self.batched(|s| s.record_service(patient, service))
    }

    fn versions(&self, patient: &str, id: &str) -> &[Version] {
        self.cache.versions(patient, id)
    }

    fn replaced_by(&self, version: &Version) -> Option<&str> {
        self.cache.replaced_by(version)
    }

    fn decision(
        &mut self,
        patient: &str,
        id: &str,
        hash: ContentHash,
    ) -> Result<Option<StoredDecision>, StoreError> {
        let Some(seq) = self
            .cache
            .versions(patient, id)
            .iter()
            .find(|v| v.hash == hash)
            .map(|v| v.seq)
        else {
            return Ok(None);
        };
        let owned = patient.to_owned();
        let Some(json) = self.call(move |db| db.decision(NO_PAYER, &owned, seq))? else {
            return Ok(None);
        };
        match decode(&json) {
            Some(parts) => Ok(Some(StoredDecision::Parts(parts))),
            None => Err(StoreError::Postgres {
                target: self.target.clone(),
                code: None,
                why: format!("unreadable row: decision `{json}`"),
            }),
        }
    }

    fn store(&mut self, claim: NewClaim<'_>) -> Result<(), StoreError> {
        self.batched(|s| s.store_claim(&claim))
    }

    fn retire(
        &mut self,
        patient: &str,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        self.batched(|s| s.retire_claim(patient, id, status, by))
    }
}

impl Transactional for PgHistory {
    fn begin(&mut self) -> Result<(), StoreError> {
        PgHistory::begin(self)
    }

    fn load_many(&mut self, members: &[&str]) -> Result<(), StoreError> {
        PgHistory::prefetch(self, members)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        PgHistory::commit(self)
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        PgHistory::rollback(self)
    }
}
