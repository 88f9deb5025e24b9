//! Tests of the PostgreSQL store against a throw-away server: the schema and
//! its migrations, the per-member locks between two nodes, and a connection
//! that breaks. The ledger's cases, shared with the other stores, are in
//! `eval/ledger_tests.rs`.

use std::sync::mpsc;
use std::time::Instant;

use super::test_cluster::{cluster, database};
use super::*;
use crate::claims::{read_claims_str, Claim, InputFormat, Outcome};
use crate::eval::Engine;
use crate::policies::Policies;

const POLICY: &str = "policy t \"test\" {\n payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n codes tpi = cpt 20552, 20553\n rule D { when line.procedure in tpi limit tpi to 1 per 30 days else deny CO-97 }\n}\n";

fn engine(url: &str) -> Engine<PgHistory> {
    let policies = Policies::from_source("t.policy", POLICY)
        .policies
        .unwrap_or_default();
    let store = PgHistory::connect(url, Duration::from_secs(30)).unwrap();
    Engine::with_history(policies, store)
}

/// The database's name in its URL (`postgres://.../NAME?...`).
fn db_name(url: &str) -> &str {
    let path = url.rsplit('/').next().unwrap_or_default();
    path.split('?').next().unwrap_or_default()
}

fn claim(id: &str, patient: &str, date: &str) -> Claim {
    let text = format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"{patient}"}},"diagnoses":["M79.18"],"lines":[{{"date_of_service":"{date}","procedure":"20552"}}]}}"#
    );
    read_claims_str(&text, InputFormat::JsonLines)
        .remove(0)
        .unwrap()
}

fn decided(e: &mut Engine<PgHistory>, claims: &[Claim]) -> Result<Vec<String>, StoreError> {
    let mut batch = e.begin()?;
    batch.decide_all(
        claims
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, c)| (i + 1, Ok(c))),
    )?;
    Ok(batch
        .commit()?
        .iter()
        .map(|ev| match &ev.outcome {
            Outcome::Decision(d) => d.decision.as_str().to_string(),
            Outcome::Error(e) => e.error.kind.as_str().to_string(),
        })
        .collect())
}

#[test]
fn the_schema_is_created_once_partitioned_by_member_and_a_newer_one_refused() {
    let Some(url) = database("schema") else {
        return;
    };
    let db = db_name(&url);
    let cluster = cluster().unwrap();
    // Nothing there yet: a read-only open refuses it.
    let refused = PgHistory::connect_read_only(&url).unwrap_err();
    assert!(
        matches!(refused, StoreError::Outdated { found: 0, .. }),
        "{refused}"
    );
    // Two nodes starting at once: one creates the schema, the other finds it.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| PgHistory::connect(&url, Duration::from_secs(30)));
        let b = s.spawn(|| PgHistory::connect(&url, Duration::from_secs(30)));
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    assert_eq!(a.schema_version().unwrap(), SCHEMA_VERSION);
    drop((a, b));
    let partitions = cluster
        .psql(
            db,
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'claims'::regclass",
        )
        .unwrap();
    assert_eq!(partitions.trim(), PARTITIONS.to_string());
    let strategy = cluster
        .psql(
            db,
            "SELECT partstrat::text || ':' || pg_get_partkeydef('claims'::regclass) FROM pg_partitioned_table",
        )
        .unwrap();
    assert_eq!(strategy.trim(), "h:HASH (patient)");
    // A URL's password is never in a message.
    let bad = PgHistory::connect(
        &format!(
            "postgres://postgres:s3cret@127.0.0.1:{}/{db}_missing?sslmode=disable",
            cluster.port
        ),
        Duration::from_secs(5),
    )
    .unwrap_err()
    .to_string();
    assert!(!bad.contains("s3cret") && bad.contains("_missing"), "{bad}");
    // A newer schema is refused, and left as it was.
    cluster
        .psql(db, "UPDATE schema_version SET version = 99")
        .unwrap();
    let newer = PgHistory::connect(&url, Duration::from_secs(5)).unwrap_err();
    assert!(
        matches!(newer, StoreError::TooNew { found: 99, .. }),
        "{newer}"
    );
}

/// A database of schema 1 (services of four items) is upgraded in place:
/// its rows read as 1 unit, no modifier 50, no charge and no modifiers; a
/// claim stored after keeps its lines' units, modifiers and exact charges, in the
/// rows `history show` lists, in the `services` view and in a new node's
/// cache.
#[test]
fn a_schema_1_database_upgrades_and_keeps_units_modifiers_and_charges() {
    let Some(url) = database("units") else {
        return;
    };
    let db = db_name(&url);
    let cluster = cluster().unwrap();
    drop(PgHistory::connect(&url, Duration::from_secs(30)).unwrap());
    cluster
        .psql(
            db,
            "DROP VIEW services;
             CREATE VIEW services AS
                 SELECT c.patient, c.payer, c.id AS claim, (s.value ->> 0)::int AS line,
                        (s.value ->> 1)::date AS date, s.value ->> 2 AS procedure,
                        s.value ->> 3 AS site
                 FROM claims AS c, jsonb_array_elements(c.services) AS s
                 WHERE c.status IN ('active', 'imported');
             UPDATE schema_version SET version = 1;
             INSERT INTO claims (patient, payer, seq, id, hash, status, services)
                 VALUES ('P1', 'p', nextval('claim_seq'), 'OLD-1', decode(repeat('00', 16), 'hex'), 'imported',
                         '[[1,\"2025-01-02\",\"20552\",\"cervical\"]]');",
        )
        .unwrap();
    let refused = PgHistory::connect_read_only(&url).unwrap_err();
    assert!(
        matches!(refused, StoreError::Outdated { found: 1, .. }),
        "{refused}"
    );
    let mut e = engine(&url);
    assert_eq!(e.history().schema_version().unwrap(), SCHEMA_VERSION);
    let text = r#"{"id":"NEW-1","payer":"p","patient":{"id":"P1"},"diagnoses":["M79.18"],"lines":[{"date_of_service":"2025-03-04","procedure":"20553","units":3,"modifiers":["50","XS"],"charge":0.1},{"date_of_service":"2025-03-04","procedure":"J3301","charge":1234.07}]}"#;
    let new = read_claims_str(text, InputFormat::JsonLines)
        .remove(0)
        .unwrap();
    assert_eq!(decided(&mut e, &[new]).unwrap(), ["allow"]);
    let rows = e.history().services_of(Some("p"), "P1").unwrap();
    let got: Vec<(&str, u32, bool, Option<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r.procedure.as_str(),
                r.units,
                r.modifier_50,
                r.charge.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("20552", 1, false, None),
            ("20553", 3, true, Some("0.1")),
            ("J3301", 1, false, Some("1234.07"))
        ]
    );
    let view = cluster
        .psql(
            db,
            "SELECT procedure, units, modifier_50, coalesce(charge::text, '-') FROM services ORDER BY date, procedure",
        )
        .unwrap();
    assert_eq!(
        view.trim().replace('\x1f', " "),
        "20552 1 f -\n20553 3 t 0.1\nJ3301 1 f 1234.07"
    );
    // The modifiers (schema 3): in the rows, the view's `text[]` and below
    // in a new node's cache; the schema 1 row has none.
    let billed: Vec<String> = rows.iter().map(|r| r.modifiers.join(",")).collect();
    assert_eq!(billed, ["", "50,XS", ""]);
    let view = cluster
        .psql(
            db,
            "SELECT procedure || ':' || array_to_string(modifiers, ',') FROM services ORDER BY date, procedure",
        )
        .unwrap();
    assert_eq!(view.trim(), "20552:\n20553:50,XS\nJ3301:");
    drop(e);
    let mut node = PgHistory::connect(&url, Duration::from_secs(30)).unwrap();
    let member = Member::new("p", "P1");
    node.load(member).unwrap();
    let units: Vec<(u32, bool, Option<f64>)> = node
        .cache
        .services(member)
        .iter()
        .map(|s| (s.units(), s.bilateral(), s.charge()))
        .collect();
    assert_eq!(
        units,
        [
            (1, false, None),
            (3, true, Some(0.1)),
            (1, false, Some(1234.07))
        ]
    );
    let billed: Vec<String> = node
        .cache
        .services(member)
        .iter()
        .map(|s| s.modifiers().to_string())
        .collect();
    assert_eq!(billed, ["", "50,XS", ""]);
}

/// Two nodes, one member: the second node's batch waits for the first's
/// lock, then counts the first's session (the limit allows one in 30 days);
/// a batch of another member does not wait.
#[test]
fn a_second_node_waits_for_the_members_lock_and_sees_the_first_nodes_claim() {
    let Some(url) = database("two_nodes") else {
        return;
    };
    let mut a = engine(&url);
    let mut b = engine(&url);
    let mut c = engine(&url);
    // B has cached P (empty) before A stores anything: a stale copy to drop.
    assert_eq!(
        decided(&mut b, &[claim("Q0", "Q", "2025-01-01")]).unwrap(),
        ["allow"]
    );
    b.history_mut().prefetch(&[Member::new("p", "P")]).unwrap();
    let mut batch = a.begin().unwrap();
    batch
        .decide_all([(1, Ok(claim("C1", "P", "2025-01-01")))])
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let started = Instant::now();
            let got = decided(&mut b, &[claim("C2", "P", "2025-01-10")]).unwrap();
            tx.send((got, started.elapsed())).unwrap();
        });
        // Another member goes through while A holds P.
        let started = Instant::now();
        assert_eq!(
            decided(&mut c, &[claim("R1", "R", "2025-01-01")]).unwrap(),
            ["allow"]
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(400));
        assert!(rx.try_recv().is_err(), "B decided while A held the lock");
        let answers = batch.commit().unwrap();
        assert_eq!(answers.len(), 1);
        let (got, waited) = rx.recv().unwrap();
        assert_eq!(got, ["deny"], "B counted A's session");
        assert!(waited >= Duration::from_millis(350), "{waited:?}");
    });
    assert!(
        b.history().reloads >= 1
            || b.history()
                .known
                .contains_key(&member_key(Member::new("p", "P")))
    );
    // A, whose copy of P is now stale (B stored C2), reloads it: C2 is a
    // resubmission to A as well.
    assert_eq!(
        decided(&mut a, &[claim("C2", "P", "2025-01-10")]).unwrap(),
        ["deny"]
    );
    let claims = a.history().claims_in_order(None, Some("P")).unwrap();
    assert_eq!(claims.len(), 2);
    assert!(claims[0].seq < claims[1].seq, "seq follows commit order");
}

/// Overlapping members in opposite orders in two nodes' batches: the sorted
/// locks make one wait for the other instead of a deadlock.
#[test]
fn batches_with_overlapping_members_do_not_deadlock() {
    let Some(url) = database("overlap") else {
        return;
    };
    let mut nodes: Vec<Engine<PgHistory>> = (0..3).map(|_| engine(&url)).collect();
    std::thread::scope(|s| {
        for (n, e) in nodes.iter_mut().enumerate() {
            s.spawn(move || {
                for round in 0..20 {
                    let mut members: Vec<String> = (0..8).map(|m| format!("M{m}")).collect();
                    if (n + round) % 2 == 1 {
                        members.reverse();
                    }
                    let claims: Vec<Claim> = members
                        .iter()
                        .map(|m| claim(&format!("{m}-{n}-{round}"), m, "2025-01-01"))
                        .collect();
                    decided(e, &claims).unwrap();
                }
            });
        }
    });
    // One session per member in 30 days: exactly one allow per member.
    let rows = nodes[0].history().claims_in_order(None, None).unwrap();
    assert_eq!(rows.len(), 3 * 20 * 8);
    for m in 0..8 {
        let services = nodes[0]
            .history()
            .services_of(None, &format!("M{m}"))
            .unwrap();
        assert_eq!(services.len(), 1, "member M{m}: {services:?}");
    }
}

/// A connection the server ends (a restart, as the node sees it) fails the
/// batch with a store error; the next batch connects again.
#[test]
fn a_broken_connection_fails_a_batch_and_the_next_one_reconnects() {
    let Some(url) = database("reconnect") else {
        return;
    };
    let db = db_name(&url);
    let mut e = engine(&url);
    assert_eq!(
        decided(&mut e, &[claim("C1", "P", "2025-01-01")]).unwrap(),
        ["allow"]
    );
    cluster()
        .unwrap()
        .psql(
            "postgres",
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{db}' AND pid <> pg_backend_pid()"
            ),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut failures = 0;
    let got = loop {
        match decided(&mut e, &[claim("C2", "P", "2025-01-10")]) {
            Ok(got) => break got,
            Err(err) => {
                assert!(matches!(err, StoreError::Postgres { .. }), "{err}");
                failures += 1;
                assert!(failures < 3, "{err}");
            }
        }
    };
    assert_eq!(got, ["deny"], "C1 survived, C2 counted against it once");
    assert_eq!(
        decided(&mut e, &[claim("C2", "P", "2025-01-10")]).unwrap(),
        ["deny"]
    );
    assert_eq!(e.history().services_of(None, "P").unwrap().len(), 1);
}
