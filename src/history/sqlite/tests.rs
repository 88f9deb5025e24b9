//! Opening the file: concurrent first opens, owner-only permissions, and
//! read-only opens.

use super::*;

/// A fresh, empty directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("payer-rules-sqlite-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Finding H2: two first opens of a fresh file at once used to fail now and
/// then with `database is locked` at once (the switch to WAL runs without the
/// busy handler); both must succeed.
#[test]
fn simultaneous_first_opens_of_a_fresh_file_both_succeed() {
    let dir = temp_dir("first-opens");
    for round in 0..150 {
        let path = dir.join(format!("h{round}.db"));
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let opens: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        SqliteHistory::open(&path, Duration::from_secs(30))
                            .map(drop)
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            opens.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in results {
            assert_eq!(r, Ok(()), "round {round}");
        }
    }
}

/// Finding S2: the history holds member ids; its files are the owner's only,
/// whatever the umask.
#[cfg(unix)]
#[test]
fn a_new_database_and_its_wal_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("mode");
    let path = dir.join("h.db");
    let store = SqliteHistory::open(&path, Duration::from_secs(5)).unwrap();
    for file in ["h.db", "h.db-wal", "h.db-shm"] {
        let meta = std::fs::metadata(dir.join(file)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
    }
    drop(store);
}

/// Finding H4: reading needs no write lock and migrates nothing; an older
/// schema is refused with a word on how to upgrade, and left as it was.
#[test]
fn a_read_only_open_takes_no_lock_and_refuses_an_old_schema() {
    let dir = temp_dir("read-only");
    let path = dir.join("h.db");
    drop(SqliteHistory::open(&path, Duration::from_secs(5)).unwrap());
    // Another connection holds the write lock: reading goes on.
    let writer = Connection::open(&path).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let reader = SqliteHistory::open_read_only(&path).unwrap();
    assert_eq!(reader.totals().unwrap(), (0, 0));
    assert!(reader.claims_in_order(None, None).unwrap().is_empty());
    drop(reader);
    writer
        .execute_batch("UPDATE schema_version SET version = 1; COMMIT")
        .unwrap();
    let refused = SqliteHistory::open_read_only(&path).unwrap_err();
    assert!(
        matches!(refused, StoreError::Outdated { found: 1, .. }),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("history import --db"),
        "{refused}"
    );
    let version: i64 = writer
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
}
