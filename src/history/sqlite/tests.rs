//! Opening the file: concurrent first opens, owner-only permissions, and
//! read-only opens.

use super::*;
use crate::history::SiteId;

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

/// A claim's services with their units, modifier 50 and charge, stored and
/// read back from the file: by a new store's cache and by `history show`.
#[test]
fn units_modifiers_and_charges_survive_the_file() {
    let dir = temp_dir("units");
    let path = dir.join("h.db");
    let member = Member::new("medicare", "P1");
    let date = NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
    let code = CodeKey::parse("20552").unwrap();
    let billed = |m: &[&str]| crate::history::ModifierCodes::of(m.iter().copied()).unwrap();
    let two = Service::new(date, code, Some("knee"))
        .with_units(2, true)
        .with_charge(Some(0.1))
        .with_modifiers(billed(&["50", "XS"]));
    let cents = Service::new(date, code, None)
        .with_charge(Some(1234.07))
        .with_modifiers(billed(&["GP"]));
    let plain = Service::new(date, code, None);
    let services = [(1, two), (2, cents), (3, plain)];
    {
        let mut store = SqliteHistory::open(&path, Duration::from_secs(5)).unwrap();
        store
            .store(NewClaim {
                member,
                id: "C1",
                hash: ContentHash([1; 16]),
                status: Status::Imported,
                replaces: None,
                services: &services,
                decision: None,
                kept: None,
            })
            .unwrap();
    }
    let mut store = SqliteHistory::open(&path, Duration::from_secs(5)).unwrap();
    store.load(member).unwrap();
    let mut loaded = store.cache.services(member);
    loaded.sort_by_key(|s| s.charge().map(|c| c.to_bits()));
    let mut want = vec![plain, two, cents];
    want.sort_by_key(|s| s.charge().map(|c| c.to_bits()));
    assert_eq!(loaded, want);
    let rows = store.services_of(Some("medicare"), "P1").unwrap();
    let got: Vec<(u32, u32, bool, Option<&str>, String)> = rows
        .iter()
        .map(|r| {
            let m = r.modifiers.join(",");
            (r.line, r.units, r.modifier_50, r.charge.as_deref(), m)
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, 2, true, Some("0.1"), "50,XS".into()),
            (2, 1, false, Some("1234.07"), "GP".into()),
            (3, 1, false, None, String::new())
        ]
    );
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let view: Vec<(i64, i64, Option<String>, String)> = conn
        .prepare("SELECT units, modifier_50, charge, modifiers FROM services ORDER BY line")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        view,
        [
            (2, 1, Some("0.1".into()), r#"["50","XS"]"#.into()),
            (1, 0, Some("1234.07".into()), r#"["GP"]"#.into()),
            (1, 0, None, "[]".into())
        ]
    );
}

/// A file of an older schema, as that schema wrote it: a current file whose
/// `services` view is made again as `view` (that schema's), whose version is
/// set back to `version`, with the claim rows of `rows` (an INSERT). The
/// read-only open refuses it as outdated, naming `version`; the writable
/// open, returned, upgrades it.
fn file_of_schema(test: &str, version: i64, view: &str, rows: &str) -> (PathBuf, SqliteHistory) {
    let path = temp_dir(test).join("h.db");
    drop(SqliteHistory::open(&path, Duration::from_secs(5)).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "DROP VIEW services; {view}; UPDATE schema_version SET version = {version}; {rows};"
        ))
        .unwrap();
    }
    let refused = SqliteHistory::open_read_only(&path).unwrap_err();
    assert!(
        matches!(refused, StoreError::Outdated { found, .. } if found == version),
        "{refused}"
    );
    let store = SqliteHistory::open(&path, Duration::from_secs(5)).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    (path, store)
}

/// What a count of 20552 on 2025-03-04 looks at, of the services billed
/// as `modifiers` lets through.
fn on_2025_03_04(
    tpi: &crate::codes::CodeSet,
    modifiers: crate::history::ModifierFilter,
) -> crate::history::Counted<'_> {
    let day = crate::days::Day::of(NaiveDate::from_ymd_opt(2025, 3, 4).unwrap());
    crate::history::Counted {
        modifiers,
        from: day,
        to: day,
        set: tpi,
        code: None,
        scope: None,
        site: SiteId::NONE,
    }
}

/// A file of schema 3 (services of four items: line, date, procedure,
/// site) is upgraded in place when opened for writing; its services read as
/// 1 unit, no modifiers and no charge, in the cache, in `history show`'s
/// rows and in the `services` view, and sum as 0.
#[test]
fn a_schema_3_file_upgrades_and_its_services_read_as_one_unit_without_a_charge() {
    let (path, mut store) = file_of_schema(
        "schema-3",
        3,
        "CREATE VIEW services AS
             SELECT c.payer AS payer, c.patient AS patient, c.id AS claim,
                    s.value ->> 0 AS line, s.value ->> 1 AS date,
                    s.value ->> 2 AS procedure, s.value ->> 3 AS site
             FROM claims AS c, json_each(c.services) AS s
             WHERE c.status IN ('active', 'imported')",
        "INSERT INTO claims (seq, patient, id, hash, status, services, payer)
             VALUES (1, 'P1', 'OLD-1', zeroblob(16), 'imported',
                     '[[1,\"2025-03-04\",\"20552\",\"cervical\"]]', 'medicare')",
    );
    let member = Member::new("medicare", "P1");
    store.load(member).unwrap();
    let date = NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
    let code = CodeKey::parse("20552").unwrap();
    assert_eq!(
        store.cache.services(member),
        [Service::new(date, code, Some("cervical"))]
    );
    let window = store.window(member);
    let tpi = crate::codes::CodeSet::from_entries(&[crate::codes::CodeEntry::Code("20552".into())]);
    let c = on_2025_03_04(&tpi, crate::history::ModifierFilter::ANY);
    assert_eq!(window.units(&c, 2), 1);
    assert_eq!(window.charges(&c), rust_decimal::Decimal::ZERO);
    let rows = store.services_of(None, "P1").unwrap();
    let got: Vec<(u32, bool, Option<&str>)> = rows
        .iter()
        .map(|r| (r.units, r.modifier_50, r.charge.as_deref()))
        .collect();
    assert_eq!(got, [(1, false, None)]);
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let view: (i64, i64, Option<String>, String) = conn
        .query_row(
            "SELECT units, modifier_50, charge, modifiers FROM services",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(view, (1, 0, None, "[]".into()));
}

/// A file of schema 4 (services of seven items, without their modifiers)
/// is upgraded in place when opened for writing; a service that carried
/// modifier 50 reads as billed with 50 alone, one that did not as billed
/// with none: `with modifier "50"` counts the first, `with modifier "GP"`
/// neither, and the view lists no modifiers for either.
#[test]
fn a_schema_4_file_upgrades_and_its_services_read_as_billed_with_50_at_most() {
    // Schema 4's view is what migration 4 made.
    let (path, mut store) = file_of_schema(
        "schema-4",
        4,
        MIGRATIONS[3]
            .trim_start_matches("DROP VIEW services;")
            .trim_end_matches(';'),
        "INSERT INTO claims (seq, patient, id, hash, status, services, payer)
             VALUES (1, 'P1', 'OLD-1', zeroblob(16), 'imported',
                     '[[1,\"2025-03-04\",\"20552\",\"cervical\",2,true,\"10\"],
                       [2,\"2025-03-04\",\"20552\",null,1,false,null]]', 'medicare')",
    );
    let member = Member::new("medicare", "P1");
    store.load(member).unwrap();
    let mut billed: Vec<String> = store
        .cache
        .services(member)
        .iter()
        .map(|s| s.modifiers().to_string())
        .collect();
    billed.sort();
    assert_eq!(billed, ["", "50"]);
    let window = store.window(member);
    let tpi = crate::codes::CodeSet::from_entries(&[crate::codes::CodeEntry::Code("20552".into())]);
    let counted = |modifiers| on_2025_03_04(&tpi, modifiers);
    let filter = |m: &str| crate::history::ModifierFilter::of([m]).unwrap();
    assert_eq!(
        window.count(&counted(crate::history::ModifierFilter::ANY)),
        2
    );
    assert_eq!(window.count(&counted(filter("50"))), 1);
    assert_eq!(window.count(&counted(filter("GP"))), 0);
    let rows = store.services_of(None, "P1").unwrap();
    assert!(rows.iter().all(|r| r.modifiers.is_empty()), "{rows:?}");
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let view: Vec<String> = conn
        .prepare("SELECT modifiers FROM services ORDER BY line")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(view, ["[]", "[]"]);
}

/// A row whose modifiers are not modifiers (one letter, or five of them)
/// is refused as corrupt, by the cache and by `history show`'s rows alike,
/// naming the modifiers.
#[test]
fn a_row_with_modifiers_that_are_not_is_corrupt_for_the_cache_and_history_show() {
    for (n, modifiers) in [r#"["G"]"#, r#"["GP","GO","GN","KX","59"]"#]
        .into_iter()
        .enumerate()
    {
        let dir = temp_dir(&format!("corrupt-modifiers-{n}"));
        let path = dir.join("h.db");
        drop(SqliteHistory::open(&path, Duration::from_secs(5)).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute(
                "INSERT INTO claims (seq, patient, id, hash, status, services, payer)
                 VALUES (1, 'P1', 'C-1', zeroblob(16), 'imported', ?1, 'medicare')",
                [format!(
                    r#"[[1,"2025-03-04","97110",null,1,false,null,{modifiers}]]"#
                )],
            )
            .unwrap();
        }
        let mut store = SqliteHistory::open(&path, Duration::from_secs(5)).unwrap();
        let loaded = store.load(Member::new("medicare", "P1")).unwrap_err();
        assert!(loaded.to_string().contains("modifiers"), "{loaded}");
        let shown = store.services_of(None, "P1").unwrap_err();
        assert!(shown.to_string().contains("modifiers"), "{shown}");
    }
}
