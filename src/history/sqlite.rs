//! The SQLite history store: claim history in one file that survives restarts.
//!
//! The file is opened in WAL mode with `synchronous = FULL`, so a committed
//! transaction survives a crash of the process or of the machine. The program
//! creates and migrates its schema itself (`schema_version` table): an older file
//! is upgraded when opened, a newer one is refused.
//!
//! Evaluation reads a per-patient cache (a [`MemoryHistory`]): a patient's
//! services and claims are loaded on first use, and every change is written
//! through to the cache and to the database inside the open transaction. Work is
//! done in batches: [`SqliteHistory::begin`] takes the write lock
//! (`BEGIN IMMEDIATE`, waiting while another process holds it) and drops the
//! cache if another connection committed since this one last looked
//! (`PRAGMA data_version`), so counts always see the other process's services;
//! [`SqliteHistory::commit`] makes the batch durable.
//!
//! Tables:
//!
//! - `claims(seq, patient, id, hash, status, replaces, replaced_by, services,
//!   decision)`: one row per version of a claim, in arrival order (`seq`, across
//!   runs and processes). A version's counted services are a JSON array in its
//!   row (`[[line, date, procedure, site], ...]`) and its decision the JSON it was
//!   answered with, so a claim's decision and history are one row, written
//!   together. At most one version of a claim id is current (`active`,
//!   `imported` or `void`); superseded ones are `replaced` or `voided`. The only
//!   index is on `patient`: rows are appended, so a batch of claims dirties few
//!   pages, which is what keeps commits cheap.
//! - `services`: a view of the counted services, one row per service, for
//!   people querying the file with `sqlite3`.
//! - `schema_version(version)`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};

use super::{ContentHash, HistoryStore, MemoryHistory, NewClaim, Query, Service, Status, Version};
use crate::claims::validate::parse_date;
use crate::codes::CodeKey;

/// The schema this program writes. Each entry of [`MIGRATIONS`] takes a file
/// from the version before it to its own.
pub const SCHEMA_VERSION: i64 = 2;

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
     CREATE INDEX claims_by_patient ON claims (patient);",
    // 2: the counted services as a relational view.
    "CREATE VIEW services AS
         SELECT c.patient AS patient, c.id AS claim, s.value ->> 0 AS line,
                s.value ->> 1 AS date, s.value ->> 2 AS procedure, s.value ->> 3 AS site
         FROM claims AS c, json_each(c.services) AS s
         WHERE c.status IN ('active', 'imported');",
];

/// Patients kept in the cache before it is dropped at a batch boundary.
const CACHE_PATIENTS: usize = 2_000_000;

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

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database `{path}`: {source}")]
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
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this program knows.
        supported: i64,
    },
    /// The file is a database, but not a history.
    #[error("`{path}` is not a payer-rules history database: {why}")]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What is missing.
        why: String,
    },
    /// A row this program cannot read.
    #[error("database `{path}`: unreadable row: {why}")]
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
}

/// A claim version row, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    /// Arrival order.
    pub seq: u64,
    /// The patient.
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
    conn: Connection,
    path: PathBuf,
    cache: MemoryHistory,
    in_batch: bool,
    data_version: i64,
    next_seq: u64,
    /// How many times another process's commit made this one drop its cache.
    pub cache_drops: u64,
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
    /// Opens (creating or upgrading) the history database at `path`; waits up to
    /// `busy_timeout` for another process's write lock.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<SqliteHistory, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        BUSY_TIMEOUT_MS.store(
            u64::try_from(busy_timeout.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        conn.busy_handler(Some(busy)).map_err(err)?;
        // WAL: readers do not block the writer; FULL: a commit is on disk before
        // its decisions are written out.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Foreign {
                path: path.to_owned(),
                why: format!("cannot switch it to WAL mode (journal mode `{mode}`)"),
            });
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 4096;",
        )
        .map_err(err)?;
        let mut store = SqliteHistory {
            conn,
            path: path.to_owned(),
            cache: MemoryHistory::new(),
            in_batch: false,
            data_version: 0,
            next_seq: 0,
            cache_drops: 0,
        };
        store.migrate()?;
        store.data_version = store.data_version()?;
        Ok(store)
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, why: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            why: why.into(),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Creates the schema, or upgrades an older one, in one transaction.
    fn migrate(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let result = self.migrate_locked();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.conn.execute_batch(end).map_err(|e| self.err(e));
        result.and(ended)
    }

    fn migrate_locked(&mut self) -> Result<(), StoreError> {
        let has_version: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| self.err(e))?
            > 0;
        let found = if has_version {
            self.schema_version()?
        } else {
            let tables: i64 = self
                .conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if tables > 0 {
                return Err(StoreError::Foreign {
                    path: self.path.clone(),
                    why: "it has tables but no `schema_version`".into(),
                });
            }
            0
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let start = usize::try_from(found).map_err(|_| self.corrupt("negative schema version"))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
            self.conn.execute_batch(sql).map_err(|e| self.err(e))?;
            self.conn
                .execute("UPDATE schema_version SET version = ?1", [i as i64 + 1])
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn data_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Starts a batch: takes the write lock (waiting for another process's batch
    /// to end) and drops the cache when another connection committed since.
    pub fn begin(&mut self) -> Result<(), StoreError> {
        if self.in_batch {
            return Ok(());
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        self.in_batch = true;
        let version = self.data_version()?;
        if version != self.data_version {
            self.data_version = version;
            if !self.cache.is_empty() {
                self.cache.clear();
                self.cache_drops += 1;
            }
        }
        let next: i64 = self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) + 1 FROM claims", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        self.next_seq = u64::try_from(next).map_err(|_| self.corrupt("negative next_seq"))?;
        Ok(())
    }

    /// Ends a batch: everything stored since [`SqliteHistory::begin`] becomes
    /// durable at once.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if !self.in_batch {
            return Ok(());
        }
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| self.err(e))?;
        self.in_batch = false;
        if self.cache.patients() > CACHE_PATIENTS {
            self.cache.clear();
        }
        Ok(())
    }

    /// Abandons the open batch: nothing of it reaches the file, and the cache,
    /// which already saw it, is dropped.
    pub fn rollback(&mut self) -> Result<(), StoreError> {
        if !self.in_batch {
            return Ok(());
        }
        self.in_batch = false;
        self.cache.clear();
        self.conn
            .execute_batch("ROLLBACK")
            .map_err(|e| self.err(e))
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

    fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// A patient's counted services, by date, straight from the file.
    pub fn services_of(&self, patient: &str) -> Result<Vec<ServiceRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, services FROM claims
                 WHERE patient = ?1 AND status IN ('active', 'imported')",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([patient], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (claim, services) = row.map_err(|e| self.err(e))?;
            for (line, date, procedure, site) in self.parse_services(&services)? {
                let date =
                    parse_date(&date).ok_or_else(|| self.corrupt(format!("date `{date}`")))?;
                out.push(ServiceRow {
                    claim: claim.clone(),
                    line,
                    date,
                    procedure,
                    site,
                });
            }
        }
        out.sort_by(|a, b| (a.date, &a.claim, a.line).cmp(&(b.date, &b.claim, b.line)));
        Ok(out)
    }

    fn parse_services(&self, json: &str) -> Result<Vec<ServiceJson>, StoreError> {
        serde_json::from_str(json).map_err(|e| self.corrupt(format!("services `{json}`: {e}")))
    }

    /// Every claim version, in arrival order (optionally one patient's).
    pub fn claims_in_order(&self, patient: Option<&str>) -> Result<Vec<ClaimRow>, StoreError> {
        let sql = "SELECT seq, patient, id, hash, status, replaces, replaced_by FROM claims
                   WHERE (?1 IS NULL OR patient = ?1) AND id != '' ORDER BY seq";
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([patient], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, patient, id, hash, status, replaces, replaced_by) =
                row.map_err(|e| self.err(e))?;
            let status =
                Status::parse(&status).ok_or_else(|| self.corrupt(format!("status `{status}`")))?;
            out.push(ClaimRow {
                seq: u64::try_from(seq).unwrap_or(0),
                patient,
                id,
                hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
                status,
                replaces,
                replaced_by,
            });
        }
        Ok(out)
    }

    /// Numbers of claim versions and of services in the file.
    pub fn totals(&self) -> Result<(u64, u64), StoreError> {
        let count = |sql: &str| -> Result<u64, StoreError> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| self.err(e))
        };
        Ok((
            count("SELECT count(*) FROM claims WHERE id != ''")?,
            count("SELECT count(*) FROM services")?,
        ))
    }

    fn load_patient(&mut self, patient: &str) -> Result<(), StoreError> {
        self.cache.touch(patient);
        let mut rows = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT seq, id, hash, status, replaces, replaced_by, services FROM claims
                     WHERE patient = ?1",
                )
                .map_err(|e| self.err(e))?;
            let found = stmt
                .query_map([patient], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                })
                .map_err(|e| self.err(e))?;
            for row in found {
                rows.push(row.map_err(|e| self.err(e))?);
            }
        }
        // The index returns rows in seq order within the patient.
        rows.sort_unstable_by_key(|r| r.0);
        for (seq, id, hash, status, replaces, replaced_by, services) in rows {
            let hash: [u8; 16] = hash
                .as_slice()
                .try_into()
                .map_err(|_| self.corrupt(format!("hash of claim `{id}`")))?;
            let status =
                Status::parse(&status).ok_or_else(|| self.corrupt(format!("status `{status}`")))?;
            let seq = u64::try_from(seq).map_err(|_| self.corrupt("negative seq"))?;
            if !id.is_empty() {
                let version = MemoryHistory::loaded_version(
                    ContentHash(hash),
                    status,
                    replaces,
                    replaced_by,
                    seq,
                );
                self.cache.add_loaded(patient, &id, version);
            }
            if !matches!(status, Status::Active | Status::Imported) {
                continue;
            }
            let parsed = self.parse_services(&services)?;
            let mut list = Vec::with_capacity(parsed.len());
            for (_, date, procedure, site) in &parsed {
                let date =
                    parse_date(date).ok_or_else(|| self.corrupt(format!("date `{date}`")))?;
                let procedure = CodeKey::parse(procedure)
                    .ok_or_else(|| self.corrupt(format!("procedure `{procedure}`")))?;
                list.push(Service {
                    date,
                    procedure,
                    site: site.as_deref(),
                });
            }
            self.cache.add_loaded_services(patient, &id, &list);
        }
        Ok(())
    }

    fn insert(
        &mut self,
        claim: &NewClaim<'_>,
        services: &[(u32, Service<'_>)],
    ) -> Result<u64, StoreError> {
        let seq = self.next_seq();
        let seq_sql = i64::try_from(seq).map_err(|_| self.corrupt("seq overflow"))?;
        let json = services_json(services);
        let path = &self.path;
        self.conn
            .prepare_cached(
                "INSERT INTO claims (seq, patient, id, hash, status, replaces, services, decision)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    seq_sql,
                    claim.patient,
                    claim.id,
                    &claim.hash.0[..],
                    claim.status.as_str(),
                    claim.replaces,
                    json,
                    claim.decision
                ])
            })
            .map_err(|source| StoreError::Sqlite {
                path: path.clone(),
                source,
            })?;
        Ok(seq)
    }

    fn store_claim(&mut self, claim: &NewClaim<'_>) -> Result<(), StoreError> {
        let counts = matches!(claim.status, Status::Active | Status::Imported);
        let seq = self.insert(claim, if counts { claim.services } else { &[] })?;
        self.cache.add_version(claim, seq, false);
        Ok(())
    }

    fn retire_claim(
        &mut self,
        patient: &str,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE claims SET status = ?1, replaced_by = ?2
                 WHERE patient = ?3 AND id = ?4 AND status IN ('active', 'imported', 'void')",
            )
            .and_then(|mut s| s.execute(params![status.as_str(), by, patient, id]))
            .map_err(|e| self.err(e))?;
        self.cache.retire_version(patient, id, status, by);
        Ok(())
    }

    fn record_service(&mut self, patient: &str, service: Service<'_>) -> Result<(), StoreError> {
        // Prior history without claim identity: a row of its own, with no id.
        let claim = NewClaim {
            patient,
            id: "",
            hash: ContentHash([0; 16]),
            status: Status::Imported,
            replaces: None,
            services: &[],
            decision: None,
        };
        self.insert(&claim, &[(1, service)])?;
        let _ = self.cache.record(patient, service);
        Ok(())
    }

    fn load_decision(&self, seq: u64) -> Result<Option<String>, StoreError> {
        let seq = i64::try_from(seq).map_err(|_| self.corrupt("seq overflow"))?;
        self.conn
            .prepare_cached("SELECT decision FROM claims WHERE seq = ?1")
            .and_then(|mut s| s.query_row([seq], |r| r.get(0)).optional())
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }
}

/// A service as kept in a row's `services` JSON: line, date, procedure, site.
type ServiceJson = (u32, String, String, Option<String>);

/// `[[line, "date", "procedure", "site" or null], ...]`, written by hand: this
/// is on the path of every claim.
fn services_json(services: &[(u32, Service<'_>)]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(2 + services.len() * 40);
    out.push('[');
    for (i, (line, s)) in services.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "[{line},\"{}\",\"{}\",",
            s.date.format("%Y-%m-%d"),
            s.procedure
        );
        match s.site {
            None => out.push_str("null"),
            Some(site) => out.push_str(&serde_json::to_string(site).unwrap_or_default()),
        }
        out.push(']');
    }
    out.push(']');
    out
}

impl HistoryStore for SqliteHistory {
    type Error = StoreError;

    fn load(&mut self, patient: &str) -> Result<(), StoreError> {
        if self.cache.has_patient(patient) {
            return Ok(());
        }
        self.load_patient(patient)
    }

    fn count(&self, query: &Query<'_>) -> u32 {
        self.cache.count(query)
    }

    fn record(&mut self, patient: &str, service: Service<'_>) -> Result<(), StoreError> {
        self.load(patient)?;
        self.batched(|s| s.record_service(patient, service))
    }

    fn versions(&self, patient: &str, id: &str) -> &[Version] {
        self.cache.versions(patient, id)
    }

    fn decision(
        &mut self,
        patient: &str,
        id: &str,
        hash: ContentHash,
    ) -> Result<Option<String>, StoreError> {
        let Some(seq) = self
            .cache
            .versions(patient, id)
            .iter()
            .find(|v| v.hash == hash)
            .map(|v| v.seq)
        else {
            return Ok(None);
        };
        self.load_decision(seq)
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
