//! Opening the file: for writing (created owner-only, switched to WAL, the
//! schema migrated) or for reading only (no lock taken, nothing changed).

use super::*;

use std::time::Instant;

use rusqlite::OpenFlags;

/// How long to sleep between two tries of a step that SQLite refused with
/// `SQLITE_BUSY` without calling the busy handler.
const RETRY_PAUSE: Duration = Duration::from_millis(2);

/// True for the errors another connection's lock causes.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Runs `step` until it does not fail with `SQLITE_BUSY` or `deadline` has
/// passed. SQLite skips the busy handler where waiting could deadlock (two
/// connections both upgrading a read lock, as two first opens switching a new
/// file to WAL do, finding H2), and reports busy at once; trying again once
/// the other has finished succeeds.
pub(super) fn retry_busy<T, E>(
    deadline: Instant,
    busy: impl Fn(&E) -> bool,
    mut step: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    loop {
        match step() {
            Err(e) if busy(&e) && Instant::now() < deadline => std::thread::sleep(RETRY_PAUSE),
            done => return done,
        }
    }
}

/// True for a store error that is SQLite's busy.
fn store_busy(e: &StoreError) -> bool {
    matches!(e, StoreError::Sqlite { source, .. } if is_busy(source))
}

/// Creates the file readable and writable by its owner only, when it does
/// not exist yet (finding S2: the history holds member ids and services, and
/// SQLite would create it after the umask, often world-readable). SQLite
/// gives the `-wal` and `-shm` files the database's permissions.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl SqliteHistory {
    /// Opens (creating or upgrading) the history database at `path`; waits up to
    /// `busy_timeout` for another process's write lock. A file it creates is
    /// readable by its owner only.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<SqliteHistory, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let deadline = Instant::now() + busy_timeout;
        create_private(path).map_err(|source| StoreError::Create {
            path: path.to_owned(),
            source,
        })?;
        let conn = Connection::open(path).map_err(err)?;
        // The busy handler first: every statement below may meet another
        // process's lock.
        BUSY_TIMEOUT_MS.store(
            u64::try_from(busy_timeout.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        conn.busy_handler(Some(busy)).map_err(err)?;
        // WAL: readers do not block the writer; FULL: a commit is on disk before
        // its decisions are written out.
        let mode: String = retry_busy(deadline, is_busy, || {
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        })
        .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Foreign {
                path: path.to_owned(),
                why: format!("cannot switch it to WAL mode (journal mode `{mode}`)"),
            });
        }
        // Checkpoints every ~100 MB of WAL rather than every 4 MB: pages written
        // by many batches are copied back once.
        retry_busy(deadline, is_busy, || {
            conn.execute_batch(
                "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 25000;",
            )
        })
        .map_err(err)?;
        let mut db = Db {
            conn,
            path: path.to_owned(),
            failed: None,
        };
        retry_busy(deadline, store_busy, || db.migrate())?;
        let data_version = retry_busy(deadline, store_busy, || db.data_version())?;
        SqliteHistory::start(db, data_version)
    }

    /// Opens an existing history database for reading only (`history show`
    /// and `stats`, finding H4): no write lock is taken and nothing is
    /// migrated, so it works on read-only media and beside a running `eval`.
    /// A file of an older schema is refused with a word on how to upgrade
    /// it; a store opened this way cannot begin a batch.
    pub fn open_read_only(path: &Path) -> Result<SqliteHistory, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
        conn.busy_handler(Some(busy)).map_err(err)?;
        let db = Db {
            conn,
            path: path.to_owned(),
            failed: None,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let found = retry_busy(deadline, store_busy, || db.stored_schema_version())?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::Outdated {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let data_version = retry_busy(deadline, store_busy, || db.data_version())?;
        SqliteHistory::start(db, data_version)
    }

    /// The store over an open connection, its thread started.
    fn start(db: Db, data_version: i64) -> Result<SqliteHistory, StoreError> {
        let path = db.path.clone();
        Ok(SqliteHistory {
            worker: Worker::start(db, "history-db").map_err(|e| StoreError::Stopped {
                path: path.clone(),
                why: e.to_string(),
            })?,
            path,
            cache: MemoryHistory::new(),
            in_batch: false,
            data_version,
            next_seq: 0,
            cache_drops: 0,
            text_ids: FxHashMap::default(),
            reason_ids: FxHashMap::default(),
        })
    }
}
