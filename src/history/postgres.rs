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
//!   services (`jsonb`, `[[line, date, procedure, site, units, modifier_50,
//!   charge, modifiers], ...]`, as SQLite keeps them; a row of schema 1 has
//!   the first four items and reads as 1 unit, no modifier 50, no charge; a
//!   row of schema 2, or of a line without modifiers, has no eighth item and
//!   reads as billed with none) and its
//!   decision (`jsonb`: policy, version, claim decision and each line's
//!   action and reasons), written together. `PARTITION BY HASH (patient)` in
//!   [`PARTITIONS`] partitions. Unique indexes keep one row per content of a
//!   claim id and at most one current version per claim id, whatever a
//!   caller does.
//! - `services`: a view of the counted services (with `units`,
//!   `modifier_50`, `charge` and `modifiers`), one row per service.
//! - `claim_seq`: the sequence of `seq`; `schema_version(version)`.
//!
//! Rows carry a `payer` column: the history is per payer and member (a
//! [`Member`]), and a member's identity, lock and cache entry are its payer
//! and member id.
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

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::sqlite::{
    load_services, push_service_rows, services_json, sort_service_rows, ClaimRow, LoadedService,
    ServiceRow,
};
use super::worker::Worker;
use super::{
    ContentHash, DecisionParts, HistoryStore, Member, MemoryHistory, NewClaim, Service, Status,
    StoreError, StoredDecision, Transactional, Version, Window,
};
use crate::claims::{Action, ClaimDecision, Decision, PolicyRef, Reason, ReasonParts};
use conn::{Db, LoadedVersion, NewRow};

/// The schema this program writes.
pub const SCHEMA_VERSION: i64 = 3;

/// Hash partitions of `claims`. Fixed at creation: changing it means moving
/// every row.
pub const PARTITIONS: u32 = 16;

/// Claim numbers a store takes from the sequence at a time.
pub const SEQ_BLOCK: u64 = 64;

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
    /// Every policy that applied, only when several did.
    #[serde(skip_serializing_if = "<[PolicyRef]>::is_empty")]
    policies: &'a [PolicyRef],
}

/// [`DecisionOut`], read back.
#[derive(Deserialize)]
struct DecisionIn {
    policy: String,
    version: String,
    decision: String,
    lines: Vec<(String, Vec<ReasonParts>)>,
    #[serde(default)]
    policies: Vec<PolicyRef>,
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
        policies: &d.policies,
    })
}

fn decode(json: &str) -> Option<DecisionParts> {
    let stored: DecisionIn = serde_json::from_str(json).ok()?;
    let decision = ClaimDecision::parse(&stored.decision)?;
    let policy: std::sync::Arc<str> = stored.policy.into();
    let version: std::sync::Arc<str> = stored.version.into();
    let mut lines = Vec::with_capacity(stored.lines.len());
    for (action, parts) in stored.lines {
        let action = Action::parse(&action)?;
        // A row written before reasons named their policy: they are all the
        // row's one policy's (as the SQLite store reads its old rows).
        let reasons = parts
            .into_iter()
            .map(|mut parts| {
                if parts.policy.is_empty() {
                    parts.policy = policy.clone();
                    parts.policy_version = version.clone();
                }
                Reason::new(parts)
            })
            .collect();
        lines.push((action, reasons));
    }
    Some(DecisionParts {
        policy,
        version,
        policies: stored.policies,
        decision,
        lines,
    })
}

/// A member as the store's maps key it: payer, a NUL, member id.
fn member_key(m: Member<'_>) -> String {
    let mut key = String::with_capacity(m.payer.len() + 1 + m.id.len());
    key.push_str(m.payer);
    key.push('\0');
    key.push_str(m.id);
    key
}

/// Claim history in PostgreSQL, shared by several nodes; see the module
/// documentation.
pub struct PgHistory {
    worker: Worker<Db>,
    target: String,
    cache: MemoryHistory,
    in_batch: bool,
    /// Per cached member: the highest `seq` of its rows this store has seen
    /// or written (0 for none), to tell a stale copy.
    known: FxHashMap<String, u64>,
    /// Members whose lock this transaction holds.
    locked: FxHashSet<String>,
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
            worker: Worker::start(db, "history-pg").map_err(|e| StoreError::Postgres {
                target: target.clone(),
                code: None,
                why: format!("cannot start the database thread: {e}"),
            })?,
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
        if result.is_err() || self.cache.members() > CACHE_MEMBERS {
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
    pub fn prefetch(&mut self, members: &[Member<'_>]) -> Result<(), StoreError> {
        if !self.in_batch {
            let missing: Vec<Member<'_>> = members
                .iter()
                .copied()
                .filter(|m| !self.cache.has_member(*m))
                .collect();
            return self.reload(missing);
        }
        let mut new: Vec<(i64, Member<'_>)> = members
            .iter()
            .filter(|m| !self.locked.contains(&member_key(**m)))
            .map(|m| (lock_key(m.payer, m.id), *m))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        new.sort_unstable_by(|a, b| (a.0, a.1.payer, a.1.id).cmp(&(b.0, b.1.payer, b.1.id)));
        new.dedup();
        let mut keys: Vec<i64> = new.iter().map(|(k, _)| *k).collect();
        keys.dedup();
        let mut names: Vec<String> = new.iter().map(|(_, m)| m.id.to_owned()).collect();
        names.sort_unstable();
        names.dedup();
        let last = self.call(move |db| db.lock(keys, names))?;
        for (_, m) in &new {
            self.locked.insert(member_key(*m));
        }
        // Numbers taken before these locks could be lower than another
        // node's for these members: a fresh block.
        self.end_seq = self.next_seq;
        let last_seq: FxHashMap<(&str, &str), u64> = last
            .iter()
            .map(|(payer, patient, seq)| ((payer.as_str(), patient.as_str()), *seq))
            .collect();
        let mut stale = Vec::new();
        for (_, m) in &new {
            let now = last_seq.get(&(m.payer, m.id)).copied().unwrap_or(0);
            let cached = self.cache.has_member(*m);
            if cached && self.known.get(&member_key(*m)).copied().unwrap_or(0) == now {
                continue;
            }
            if cached {
                self.cache.forget_member(*m);
                self.reloads += 1;
            }
            stale.push(*m);
        }
        self.reload(stale)
    }

    /// Loads these members from the database into the cache (each emptied
    /// first by the caller when it was there).
    fn reload(&mut self, members: Vec<Member<'_>>) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let mut names: Vec<String> = members.iter().map(|m| m.id.to_owned()).collect();
        names.sort_unstable();
        names.dedup();
        let loaded = self.call(move |db| db.load(names))?;
        for m in &members {
            self.cache.touch(*m);
            self.known.insert(member_key(*m), 0);
        }
        let wanted: FxHashSet<(&str, &str)> = members.iter().map(|m| (m.payer, m.id)).collect();
        for v in loaded {
            if wanted.contains(&(v.payer.as_str(), v.patient.as_str())) {
                self.fill(v);
            }
        }
        Ok(())
    }

    fn fill(&mut self, v: LoadedVersion) {
        let member = Member::new(&v.payer, &v.patient);
        if let Some(known) = self.known.get_mut(&member_key(member)) {
            *known = (*known).max(v.seq);
        }
        if !v.id.is_empty() {
            let version = self.cache.loaded_version(
                ContentHash(v.hash),
                v.status,
                v.replaced_by.as_deref(),
                v.seq,
                false,
            );
            self.cache.add_loaded(member, &v.id, version);
        }
        if !v.services.is_empty() {
            let services: Vec<Service<'_>> =
                v.services.iter().map(LoadedService::service).collect();
            self.cache.add_loaded_services(member, &v.id, &services);
        }
    }

    /// Before a write of a member in a transaction: its lock, taken now if
    /// the member was loaded outside the transaction (a single claim decided
    /// without a batch). If another node changed the member in between, the
    /// claim was decided on an old copy: the write is refused (and the
    /// member loaded again for the next try).
    fn ensure_locked(&mut self, member: Member<'_>) -> Result<(), StoreError> {
        let key = member_key(member);
        if self.locked.contains(&key) {
            return Ok(());
        }
        let before = self.known.get(&key).copied();
        let had = self.cache.has_member(member);
        self.prefetch(&[member])?;
        let after = self.known.get(&key).copied();
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

    fn wrote(&mut self, member: Member<'_>, seq: i64) {
        let seq = u64::try_from(seq).unwrap_or(0);
        let known = self.known.entry(member_key(member)).or_insert(0);
        *known = (*known).max(seq);
    }

    fn store_claim(&mut self, claim: &NewClaim<'_>) -> Result<(), StoreError> {
        self.ensure_locked(claim.member)?;
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
            payer: claim.member.payer.to_owned(),
            patient: claim.member.id.to_owned(),
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
        self.wrote(claim.member, seq);
        Ok(())
    }

    fn retire_claim(
        &mut self,
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        self.ensure_locked(member)?;
        let (payer, p) = (member.payer.to_owned(), member.id.to_owned());
        let (i, b) = (id.to_owned(), by.to_owned());
        self.worker
            .post(move |db| db.posted(|db| db.retire(&payer, &p, &i, status, &b)));
        self.cache.retire_version(member, id, status, by);
        Ok(())
    }

    fn record_service(
        &mut self,
        member: Member<'_>,
        service: Service<'_>,
    ) -> Result<(), StoreError> {
        self.ensure_locked(member)?;
        // Prior history without claim identity: a row of its own, with no id.
        let seq = self.next_seq()?;
        let row = NewRow {
            payer: member.payer.to_owned(),
            patient: member.id.to_owned(),
            seq,
            id: String::new(),
            hash: [0; 16],
            status: Status::Imported,
            replaces: None,
            services: services_json(&[(1, service)]),
            decision: None,
        };
        self.worker.post(move |db| db.posted(|db| db.insert(row)));
        let _ = self.cache.record(member, service);
        self.wrote(member, seq);
        Ok(())
    }

    /// A member id's counted services, by date, straight from the
    /// database: of one payer, or with `payer` `None` of every payer.
    pub fn services_of(
        &self,
        payer: Option<&str>,
        patient: &str,
    ) -> Result<Vec<ServiceRow>, StoreError> {
        let (payer, patient) = (payer.map(str::to_owned), patient.to_owned());
        self.call(move |db| db.services_of(payer.as_deref(), &patient))
    }

    /// Every claim version, in arrival order (optionally one member id's,
    /// of one payer or of every payer).
    pub fn claims_in_order(
        &self,
        payer: Option<&str>,
        patient: Option<&str>,
    ) -> Result<Vec<ClaimRow>, StoreError> {
        let (payer, patient) = (payer.map(str::to_owned), patient.map(str::to_owned));
        self.call(move |db| db.claims_in_order(payer.as_deref(), patient.as_deref()))
    }

    /// Numbers of claim versions and of counted services, and the bytes the
    /// claims' partitions take on the server.
    pub fn totals(&self) -> Result<(u64, u64, u64), StoreError> {
        self.call(|db| db.totals())
    }
}

impl HistoryStore for PgHistory {
    type Error = StoreError;

    fn load(&mut self, member: Member<'_>) -> Result<(), StoreError> {
        if self.in_batch && !self.locked.contains(&member_key(member)) {
            return self.prefetch(&[member]);
        }
        if self.cache.has_member(member) {
            // Prefetches what the evaluation reads next (see `MemoryHistory`).
            let Ok(()) = self.cache.load(member);
            return Ok(());
        }
        self.reload(vec![member])
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
        let (payer, patient) = (member.payer.to_owned(), member.id.to_owned());
        let Some(json) = self.call(move |db| db.decision(&payer, &patient, seq))? else {
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
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        self.batched(|s| s.retire_claim(member, id, status, by))
    }
}

impl Transactional for PgHistory {
    fn begin(&mut self) -> Result<(), StoreError> {
        PgHistory::begin(self)
    }

    fn load_many(&mut self, members: &[Member<'_>]) -> Result<(), StoreError> {
        PgHistory::prefetch(self, members)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        PgHistory::commit(self)
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        PgHistory::rollback(self)
    }
}
