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
//! - `claims(patient, id, hash, seq, status, replaces, replaced_by)`: one row per
//!   version of a claim, keyed by `(patient, id, hash)`; `seq` numbers versions
//!   in arrival order across runs and processes; at most one version of a claim
//!   is current (`active`, `imported` or `void`: a unique partial index).
//! - `decisions(seq, decision)`: the decision JSON a version was answered with,
//!   returned again when the same content is sent again.
//! - `services(patient, claim, line, date, procedure, site)`: the counted services,
//!   keyed by `(patient, claim, line)` (clustered by patient, so a patient loads
//!   with one range read); `claim` is empty for prior history without a claim.
//! - `meta(key, value)`: `next_seq`.

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
    // 1: the ledger, decisions and services.
    "CREATE TABLE schema_version (version INTEGER NOT NULL);
     INSERT INTO schema_version (version) VALUES (0);
     CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
     INSERT INTO meta (key, value) VALUES ('next_seq', 1);
     CREATE TABLE claims (
         patient TEXT NOT NULL,
         id TEXT NOT NULL,
         hash BLOB NOT NULL,
         seq INTEGER NOT NULL,
         status TEXT NOT NULL,
         replaces TEXT,
         replaced_by TEXT,
         PRIMARY KEY (patient, id, hash)
     ) WITHOUT ROWID;
     CREATE TABLE decisions (seq INTEGER PRIMARY KEY, decision TEXT NOT NULL);
     CREATE TABLE services (
         patient TEXT NOT NULL,
         claim TEXT NOT NULL,
         line INTEGER NOT NULL,
         date TEXT NOT NULL,
         procedure TEXT NOT NULL,
         site TEXT,
         PRIMARY KEY (patient, claim, line)
     ) WITHOUT ROWID;",
    // 2: at most one current version per claim, enforced by the database too.
    "CREATE UNIQUE INDEX claims_current ON claims (patient, id)
         WHERE status IN ('active', 'imported', 'void');",
];

/// Patients kept in the cache before it is dropped at a batch boundary.
const CACHE_PATIENTS: usize = 2_000_000;

/// How long to wait for another process's write lock (milliseconds); set when
/// a store is opened. SQLite's busy handler is a plain function, hence a static.
static BUSY_TIMEOUT_MS: AtomicU64 = AtomicU64::new(300_000);

/// Polls every millisecond, so a waiting process gets the lock between two
/// batches of another (SQLite's default handler backs off to 100 ms sleeps and
/// can starve behind a busy writer).
fn busy(count: i32) -> bool {
    let limit = BUSY_TIMEOUT_MS.load(Ordering::Relaxed);
    if u64::try_from(count).unwrap_or(0) >= limit {
        return false;
    }
    std::thread::sleep(Duration::from_millis(1));
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
            "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA foreign_keys = OFF;",
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
            .query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
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
        let next = i64::try_from(self.next_seq).map_err(|_| self.corrupt("seq overflow"))?;
        self.conn
            .execute("UPDATE meta SET value = ?1 WHERE key = 'next_seq'", [next])
            .map_err(|e| self.err(e))?;
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
                "SELECT claim, line, date, procedure, site FROM services WHERE patient = ?1
                 ORDER BY date, claim, line",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([patient], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (claim, line, date, procedure, site) = row.map_err(|e| self.err(e))?;
            let date = parse_date(&date).ok_or_else(|| self.corrupt(format!("date `{date}`")))?;
            out.push(ServiceRow {
                claim,
                line: u32::try_from(line).unwrap_or(0),
                date,
                procedure,
                site,
            });
        }
        Ok(out)
    }

    /// Every claim version, in arrival order (optionally one patient's).
    pub fn claims_in_order(&self, patient: Option<&str>) -> Result<Vec<ClaimRow>, StoreError> {
        let sql = "SELECT seq, patient, id, hash, status, replaces, replaced_by FROM claims
                   WHERE ?1 IS NULL OR patient = ?1 ORDER BY seq";
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
            count("SELECT count(*) FROM claims")?,
            count("SELECT count(*) FROM services")?,
        ))
    }

    fn load_patient(&mut self, patient: &str) -> Result<(), StoreError> {
        self.cache.touch(patient);
        let mut versions = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id, hash, seq, status, replaces, replaced_by FROM claims
                     WHERE patient = ?1",
                )
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([patient], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                versions.push(row.map_err(|e| self.err(e))?);
            }
        }
        for (id, hash, seq, status, replaces, replaced_by) in versions {
            let hash: [u8; 16] = hash
                .as_slice()
                .try_into()
                .map_err(|_| self.corrupt(format!("hash of claim `{id}`")))?;
            let status =
                Status::parse(&status).ok_or_else(|| self.corrupt(format!("status `{status}`")))?;
            let seq = u64::try_from(seq).map_err(|_| self.corrupt("negative seq"))?;
            let version = MemoryHistory::loaded_version(
                ContentHash(hash),
                status,
                replaces,
                replaced_by,
                seq,
            );
            self.cache.add_loaded(patient, &id, version);
        }
        let mut rows = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT claim, date, procedure, site FROM services WHERE patient = ?1",
                )
                .map_err(|e| self.err(e))?;
            let found = stmt
                .query_map([patient], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .map_err(|e| self.err(e))?;
            for row in found {
                rows.push(row.map_err(|e| self.err(e))?);
            }
        }
        // Rows come in key order, so one claim's services are together.
        let mut start = 0;
        while start < rows.len() {
            let claim = rows[start].0.clone();
            let end = rows[start..]
                .iter()
                .position(|r| r.0 != claim)
                .map_or(rows.len(), |n| start + n);
            let mut services = Vec::with_capacity(end - start);
            for (_, date, procedure, site) in &rows[start..end] {
                let date =
                    parse_date(date).ok_or_else(|| self.corrupt(format!("date `{date}`")))?;
                let procedure = CodeKey::parse(procedure)
                    .ok_or_else(|| self.corrupt(format!("procedure `{procedure}`")))?;
                services.push(Service {
                    date,
                    procedure,
                    site: site.as_deref(),
                });
            }
            self.cache.add_loaded_services(patient, &claim, &services);
            start = end;
        }
        Ok(())
    }

    fn store_claim(&mut self, claim: &NewClaim<'_>) -> Result<(), StoreError> {
        let seq = self.next_seq();
        let seq_sql = i64::try_from(seq).map_err(|_| self.corrupt("seq overflow"))?;
        let path = &self.path;
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "INSERT INTO claims (patient, id, hash, seq, status, replaces)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            stmt.execute(params![
                claim.patient,
                claim.id,
                &claim.hash.0[..],
                seq_sql,
                claim.status.as_str(),
                claim.replaces
            ])
            .map_err(err)?;
        }
        if let Some(decision) = claim.decision {
            let mut stmt = self
                .conn
                .prepare_cached("INSERT INTO decisions (seq, decision) VALUES (?1, ?2)")
                .map_err(err)?;
            stmt.execute(params![seq_sql, decision]).map_err(err)?;
        }
        if matches!(claim.status, Status::Active | Status::Imported) && !claim.services.is_empty()
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "INSERT INTO services (patient, claim, line, date, procedure, site)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            let mut date_text = String::with_capacity(10);
            for (line, s) in claim.services {
                date_text.clear();
                use std::fmt::Write;
                let _ = write!(date_text, "{}", s.date.format("%Y-%m-%d"));
                stmt.execute(params![
                    claim.patient,
                    claim.id,
                    line,
                    date_text,
                    s.procedure.as_string(),
                    s.site
                ])
                .map_err(err)?;
            }
        }
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
        let path = &self.path;
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        self.conn
            .prepare_cached(
                "UPDATE claims SET status = ?1, replaced_by = ?2
                 WHERE patient = ?3 AND id = ?4 AND status IN ('active', 'imported', 'void')",
            )
            .and_then(|mut s| s.execute(params![status.as_str(), by, patient, id]))
            .map_err(err)?;
        self.conn
            .prepare_cached("DELETE FROM services WHERE patient = ?1 AND claim = ?2")
            .and_then(|mut s| s.execute(params![patient, id]))
            .map_err(err)?;
        self.cache.retire_version(patient, id, status, by);
        Ok(())
    }

    fn record_service(&mut self, patient: &str, service: Service<'_>) -> Result<(), StoreError> {
        let date = service.date.format("%Y-%m-%d").to_string();
        self.conn
            .prepare_cached(
                "INSERT INTO services (patient, claim, line, date, procedure, site)
                 VALUES (?1, '', (SELECT coalesce(max(line), 0) + 1 FROM services
                                  WHERE patient = ?1 AND claim = ''), ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    patient,
                    date,
                    service.procedure.as_string(),
                    service.site
                ])
            })
            .map_err(|e| self.err(e))?;
        let _ = self.cache.record(patient, service);
        Ok(())
    }

    fn load_decision(&self, seq: u64) -> Result<Option<String>, StoreError> {
        let seq = i64::try_from(seq).map_err(|_| self.corrupt("seq overflow"))?;
        self.conn
            .prepare_cached("SELECT decision FROM decisions WHERE seq = ?1")
            .and_then(|mut s| s.query_row([seq], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }
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
