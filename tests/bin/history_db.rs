//! Claim history in a database, through the built binary: runs on several days,
//! resubmissions, replacements and voids, a run killed mid-way and run again,
//! two processes on one file, schema upgrades, `history show` and `import`.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use payer_rules::internal::read_claims_str;
use payer_rules::internal::ContentHash;
use payer_rules::InputFormat;

mod common;

use common::{bin, lines_json, run, text, tpi};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    common::temp_dir("db", name)
}

fn write(path: &Path, content: &str) -> String {
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{e}"));
    path.to_string_lossy().into_owned()
}

fn s(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Every row of the claims table, in arrival order.
fn db_rows(db: &Path) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(db).unwrap_or_else(|e| panic!("{e}"));
    let mut stmt = conn
        .prepare(
            "SELECT seq, patient, id, hex(hash), status, coalesce(replaces, ''),
                    coalesce(replaced_by, ''), services, coalesce(decision, '')
             FROM claims ORDER BY seq",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = stmt
        .query_map([], |r| {
            (0..9)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Integer(n) => n.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                })
                .collect::<Result<Vec<String>, _>>()
        })
        .unwrap_or_else(|e| panic!("{e}"));
    rows.map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect()
}

#[test]
fn a_day_1_session_counts_on_day_2_and_a_resubmitted_day_counts_once() {
    let dir = temp_dir("two-days");
    let db = s(&dir.join("history.db"));
    let day1 = write(
        &dir.join("day1.jsonl"),
        &(tpi("D1-A", "PAT-1", "2026-03-04", "cervical", "") + "\n"),
    );
    let day2 = write(
        &dir.join("day2.jsonl"),
        &(tpi("D2-A", "PAT-1", "2026-03-04", "lumbar", "") + "\n"),
    );
    let one = run(&["eval", "-q", "--db", &db, &day1]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert_eq!(lines_json(&one)[0]["decision"], "allow");
    // Day 2 alone, in memory: nothing to count.
    let alone = run(&["eval", "-q", &day2]);
    assert_eq!(lines_json(&alone)[0]["decision"], "allow");
    // Day 2 with the database: the day-1 session makes it the second of the day.
    let two = run(&["eval", "-q", "--db", &db, &day2]);
    let d = &lines_json(&two)[0];
    assert_eq!(d["decision"], "partial", "{d}");
    assert_eq!(d["lines"][0]["reasons"][0]["rule"], "M3", "{d}");
    // Day 1 sent again: the stored decision, and nothing counted twice.
    let again = run(&["eval", "--db", &db, &day1]);
    assert_eq!(text(&again.stdout), text(&one.stdout));
    assert!(
        text(&again.stderr).contains("1 claim was sent before"),
        "{}",
        text(&again.stderr)
    );
    let show = run(&["history", "show", "--db", &db, "--patient", "PAT-1"]);
    let listing = text(&show.stdout);
    assert_eq!(show.status.code(), Some(0), "{}", text(&show.stderr));
    assert!(
        listing.starts_with("patient PAT-1, payer medicare: 3 counted services, 2 claim versions"),
        "{listing}"
    );
    assert!(listing.contains("2026-03-04  20552  cervical"), "{listing}");
}

#[test]
fn replacements_voids_and_conflicts_across_runs() {
    let dir = temp_dir("replace");
    let db = s(&dir.join("history.db"));
    let eval = |name: &str, claims: &[String]| {
        let path = write(&dir.join(name), &(claims.join("\n") + "\n"));
        let out = run(&["eval", "-q", "--db", &db, &path]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        lines_json(&out)
    };
    let first = eval("a.jsonl", &[tpi("C1", "P", "2026-03-04", "cervical", "")]);
    assert_eq!(first[0]["decision"], "allow");
    // Another claim the same day is over the daily limit...
    let second = eval("b.jsonl", &[tpi("C2", "P", "2026-03-04", "lumbar", "")]);
    assert_eq!(second[0]["decision"], "partial");
    // ... C2 replaced by a corrected claim for another day: C2's service leaves.
    let moved = tpi(
        "C2",
        "P",
        "2026-05-01",
        "lumbar",
        r#","frequency_code":"7""#,
    );
    let third = eval("c.jsonl", std::slice::from_ref(&moved));
    assert_eq!(third[0]["decision"], "allow", "{}", third[0]);
    // C1 voided: a new claim on 2026-03-04 is now the only session that day.
    let void = tpi(
        "V1",
        "P",
        "2026-03-04",
        "cervical",
        r#","frequency_code":"8","replaces":"C1""#,
    );
    let fourth = eval(
        "d.jsonl",
        &[
            void.clone(),
            tpi("C3", "P", "2026-03-04", "cervical", ""),
            tpi("C3", "P", "2026-03-05", "cervical", ""),
        ],
    );
    assert_eq!(fourth[0]["decision"], "void");
    assert_eq!(fourth[0]["lines"], serde_json::json!([]));
    assert_eq!(fourth[1]["decision"], "allow", "{}", fourth[1]);
    assert_eq!(fourth[2]["error"]["kind"], "conflict", "{}", fourth[2]);
    assert_eq!(fourth[2]["error"]["path"], "id");
    // Everything again: answered from the store, nothing changes.
    let before = db_rows(&dir.join("history.db"));
    let replay = eval("e.jsonl", &[moved, void]);
    assert_eq!(replay[0], third[0]);
    assert_eq!(replay[1], fourth[0]);
    assert_eq!(db_rows(&dir.join("history.db")), before);
    let statuses: Vec<(String, String)> = before
        .iter()
        .map(|r| (r[2].clone(), r[4].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("C1", "voided"),
            ("C2", "replaced"),
            ("C2", "active"),
            ("V1", "void"),
            ("C3", "active")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[test]
fn a_run_killed_mid_way_and_run_again_equals_an_uninterrupted_run() {
    let dir = temp_dir("kill");
    let n = 20_000;
    let input = write(
        &dir.join("claims.jsonl"),
        &(common::stream(n, 3000, 7, "K").join("\n") + "\n"),
    );
    let whole_db = dir.join("whole.db");
    let whole = run(&[
        "eval",
        "-q",
        "--batch",
        "200",
        "--db",
        &s(&whole_db),
        &input,
    ]);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole.stderr));
    assert_eq!(text(&whole.stdout).lines().count(), n);

    let killed_db = dir.join("killed.db");
    let mut child: Child = bin()
        .args([
            "eval",
            "-q",
            "--batch",
            "200",
            "--db",
            &s(&killed_db),
            &input,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut seen = 0;
    for line in BufReader::new(stdout).lines() {
        line.unwrap_or_else(|e| panic!("{e}"));
        seen += 1;
        if seen == n / 5 {
            break;
        }
    }
    // Child::kill is SIGKILL on Unix: no chance to commit or flush anything.
    child.kill().unwrap_or_else(|e| panic!("{e}"));
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(!status.success(), "the run finished before it was killed");
    let committed = db_rows(&killed_db).len();
    assert!(
        committed >= seen.min(1) && committed < n,
        "killed mid-way: {committed} claims stored of {n}"
    );

    let rerun = run(&[
        "eval",
        "-q",
        "--batch",
        "200",
        "--db",
        &s(&killed_db),
        &input,
    ]);
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun.stderr));
    assert!(
        text(&rerun.stdout) == text(&whole.stdout),
        "the re-run's decisions differ from the uninterrupted run's"
    );
    assert!(
        db_rows(&killed_db) == db_rows(&whole_db),
        "the history differs from the uninterrupted run's"
    );
}

#[test]
fn two_processes_on_one_database_equal_one_process_in_commit_order() {
    let dir = temp_dir("two-processes");
    // Both halves share patients, so each process must see the other's services.
    let a = common::stream(6000, 600, 11, "A");
    let b = common::stream(6000, 600, 12, "B");
    let path_a = write(&dir.join("a.jsonl"), &(a.join("\n") + "\n"));
    let path_b = write(&dir.join("b.jsonl"), &(b.join("\n") + "\n"));
    let shared = dir.join("shared.db");
    // The file exists, as after a first day (two processes creating one file at
    // the same moment also give one history, but the second waits for the first
    // to finish).
    let empty = write(&dir.join("empty.jsonl"), "");
    let created = run(&["history", "import", "--db", &s(&shared), &empty]);
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let start = |input: &str| {
        bin()
            .args(["eval", "--batch", "100", "--db", &s(&shared), input])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let (pa, pb) = (start(&path_a), start(&path_b));
    // Both outputs are read at once: a full pipe would stall one process.
    let wait = |p: Child| std::thread::spawn(move || p.wait_with_output());
    let (wa, wb) = (wait(pa), wait(pb));
    let out_a = wa
        .join()
        .unwrap_or_else(|_| panic!("reader thread"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out_b = wb
        .join()
        .unwrap_or_else(|_| panic!("reader thread"))
        .unwrap_or_else(|e| panic!("{e}"));
    for out in [&out_a, &out_b] {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(!err.contains("locked"), "{err}");
    }
    // The batches went in some serial order. Every stored claim version has an
    // arrival number; replays, conflicts and errors store nothing and change
    // nothing, and their answers depend only on their own half's claims (ids
    // differ by prefix). So feeding each process's claims up to the one that
    // stored each row, row after row, gives one input in commit order.
    let rows = db_rows(&shared);
    let keys = |input: &[String]| -> Vec<(String, String)> {
        input
            .iter()
            .map(|c| {
                let claim = read_claims_str(c, InputFormat::JsonLines)
                    .remove(0)
                    .unwrap_or_else(|e| panic!("{e}"));
                (
                    claim.id.to_string(),
                    ContentHash::of(&claim).hex().to_uppercase(),
                )
            })
            .collect()
    };
    let (keys_a, keys_b) = (keys(&a), keys(&b));
    let (mut next_a, mut next_b) = (0usize, 0usize);
    let mut order: Vec<(char, usize)> = Vec::new();
    let mut switches = 0;
    for row in &rows {
        let (keys, next, tag) = if row[2].starts_with('A') {
            (&keys_a, &mut next_a, 'A')
        } else {
            (&keys_b, &mut next_b, 'B')
        };
        if order.last().is_some_and(|(t, _)| *t != tag) {
            switches += 1;
        }
        while *next < keys.len() {
            let here = *next;
            *next += 1;
            order.push((tag, here));
            if keys[here].0 == row[2] && keys[here].1 == row[3] {
                break;
            }
        }
    }
    order.extend((next_a..a.len()).map(|i| ('A', i)));
    order.extend((next_b..b.len()).map(|i| ('B', i)));
    assert_eq!(order.len(), a.len() + b.len());
    let serial: Vec<String> = order
        .iter()
        .map(|(t, i)| {
            if *t == 'A' {
                a[*i].clone()
            } else {
                b[*i].clone()
            }
        })
        .collect();
    let single_db = dir.join("single.db");
    let path_serial = write(&dir.join("serial.jsonl"), &(serial.join("\n") + "\n"));
    let single = run(&["eval", "-q", "--db", &s(&single_db), &path_serial]);
    assert_eq!(single.status.code(), Some(0), "{}", text(&single.stderr));
    assert!(
        db_rows(&single_db) == rows,
        "the shared history differs from one process given both inputs in commit order"
    );
    // Each process's decisions are the single run's for the same claims.
    let single_out = text(&single.stdout);
    let single_out: Vec<&str> = single_out.lines().collect();
    let mut want_a = HashMap::new();
    let mut want_b = HashMap::new();
    for ((t, i), line) in order.iter().zip(&single_out) {
        if *t == 'A' {
            want_a.insert(*i, *line);
        } else {
            want_b.insert(*i, *line);
        }
    }
    let outs_a = text(&out_a.stdout);
    let outs_b = text(&out_b.stdout);
    let outs_a: Vec<&str> = outs_a.lines().collect();
    let outs_b: Vec<&str> = outs_b.lines().collect();
    assert_eq!((outs_a.len(), outs_b.len()), (a.len(), b.len()));
    // Error records carry their position in their own input; the rest is equal.
    let same = |got: &str, want: Option<&&str>| {
        let strip = |l: &str| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("record");
            }
            v
        };
        want.is_some_and(|w| strip(got) == strip(w))
    };
    for (i, line) in outs_a.iter().enumerate() {
        assert!(same(line, want_a.get(&i)), "A's claim {i}: {line}");
    }
    for (i, line) in outs_b.iter().enumerate() {
        assert!(same(line, want_b.get(&i)), "B's claim {i}: {line}");
    }
    eprintln!("the two processes took turns {switches} times");
    let reloads =
        text(&out_a.stderr).contains("reloaded") || text(&out_b.stderr).contains("reloaded");
    eprintln!("a process reloaded its cache after the other's commit: {reloads}");
}

#[test]
fn an_older_database_is_upgraded_and_a_newer_one_refused() {
    let dir = temp_dir("schema");
    let db = dir.join("old.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
        // Schema version 1, as the first release wrote it, with one claim.
        conn.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version (version) VALUES (1);
             CREATE TABLE claims (
                 seq INTEGER PRIMARY KEY, patient TEXT NOT NULL, id TEXT NOT NULL,
                 hash BLOB NOT NULL, status TEXT NOT NULL, replaces TEXT, replaced_by TEXT,
                 services TEXT NOT NULL, decision TEXT);
             CREATE INDEX claims_by_patient ON claims (patient);
             CREATE TABLE texts (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
             INSERT INTO claims VALUES (1, 'PAT-1', 'OLD-1', zeroblob(16), 'imported', NULL, NULL,
                 '[[1,\"2026-03-04\",\"20552\",\"cervical\"]]', NULL);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let input = write(
        &dir.join("c.jsonl"),
        &(tpi("NEW-1", "PAT-1", "2026-03-04", "lumbar", "") + "\n"),
    );
    let out = run(&["eval", "-q", "--db", &s(&db), &input]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        lines_json(&out)[0]["decision"],
        "partial",
        "the old file's service counts"
    );
    let conn = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
    let version: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(version, 5);
    let services: i64 = conn
        .query_row(
            "SELECT count(*) FROM services WHERE patient = 'PAT-1'",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        services, 2,
        "the view added by version 2 lists the services (NEW-1's TPI line was denied)"
    );
    conn.execute("UPDATE schema_version SET version = 99", [])
        .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    let newer = run(&["eval", "-q", "--db", &s(&db), &input]);
    assert_eq!(newer.status.code(), Some(3));
    assert!(newer.stdout.is_empty());
    let err = text(&newer.stderr);
    assert!(
        err.contains("schema version 99, newer than the 5 this payer-rules understands"),
        "{err}"
    );
    let foreign = dir.join("foreign.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE t (x)")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let out = run(&["eval", "-q", "--db", &s(&foreign), &input]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("not a payer-rules history database"));
}

#[test]
fn jobs_with_a_database_is_refused_with_a_reason() {
    let dir = temp_dir("jobs");
    let out = run(&[
        "eval",
        "--jobs",
        "2",
        "--db",
        &s(&dir.join("h.db")),
        "examples/claims.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--jobs works with in-memory history only"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.join("h.db").exists());
}

/// A paid-history file in `dir`: three cervical TPIs of PAT-9 in 2025, then
/// the `extra` lines.
fn paid_history(dir: &Path, extra: &[&str]) -> String {
    let mut lines = vec![
        tpi("H1", "PAT-9", "2025-01-02", "cervical", ""),
        tpi("H2", "PAT-9", "2025-03-01", "cervical", ""),
        tpi("H3", "PAT-9", "2025-05-01", "cervical", ""),
    ];
    lines.extend(extra.iter().map(|l| l.to_string()));
    write(&dir.join("paid.jsonl"), &lines.join("\n"))
}

#[test]
fn history_import_seeds_the_history_once() {
    let dir = temp_dir("import");
    let db = s(&dir.join("h.db"));
    let paid = paid_history(&dir, &["{\"id\": \"broken\"}"]);
    let first = run(&["history", "import", "--db", &db, &paid]);
    assert_eq!(first.status.code(), Some(1), "one record is invalid");
    assert!(
        text(&first.stderr).contains("imported 3 claims"),
        "{}",
        text(&first.stderr)
    );
    let again = run(&["history", "import", "--db", &db, &paid]);
    assert!(
        text(&again.stderr).contains("imported 0 claims")
            && text(&again.stderr).contains("3 were already there"),
        "{}",
        text(&again.stderr)
    );
    let show = run(&[
        "history",
        "show",
        "--db",
        &db,
        "--patient",
        "PAT-9",
        "--json",
    ]);
    let rows: Vec<serde_json::Value> = text(&show.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(rows.iter().filter(|r| r.get("date").is_some()).count(), 6);
    assert_eq!(rows.iter().filter(|r| r["status"] == "imported").count(), 3);
    // The fourth session within 12 months is over Medicare's limit of 3.
    let input = write(
        &dir.join("c.jsonl"),
        &(tpi("N1", "PAT-9", "2025-07-01", "cervical", "") + "\n"),
    );
    let out = run(&["eval", "-q", "--db", &db, &input]);
    let d = &lines_json(&out)[0];
    assert_eq!(d["lines"][0]["reasons"][0]["rule"], "M4", "{d}");
    let unknown = run(&["history", "show", "--db", &db, "--patient", "NOBODY"]);
    assert_eq!(unknown.status.code(), Some(1));
    let mut child = bin()
        .args(["history", "import", "--db", &db, "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(tpi("H4", "PAT-9", "2024-01-01", "lumbar", "").as_bytes());
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn the_readme_two_day_run_is_what_the_binary_does() {
    let dir = temp_dir("readme");
    let db = s(&dir.join("history.db"));
    let day1 = run(&["eval", "-q", "--db", &db, "examples/history/day1.jsonl"]);
    assert_eq!(day1.status.code(), Some(0), "{}", text(&day1.stderr));
    assert!(lines_json(&day1).iter().all(|d| d["decision"] == "allow"));
    let day2 = run(&["eval", "--db", &db, "examples/history/day2.jsonl"]);
    let decisions: Vec<serde_json::Value> = lines_json(&day2);
    let kinds: Vec<&str> = decisions
        .iter()
        .map(|d| d["decision"].as_str().unwrap_or("error"))
        .collect();
    assert_eq!(kinds, ["partial", "allow", "void", "allow"]);
    assert_eq!(decisions[0]["lines"][0]["reasons"][0]["rule"], "M3");
    assert_eq!(
        text(&day1.stdout).lines().nth(1),
        text(&day2.stdout).lines().nth(1)
    );
    let readme = std::fs::read_to_string(common::root("README.md")).unwrap_or_default();
    for line in text(&day2.stdout).lines() {
        let d: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        if d["decision"] == "void" || d["decision"] == "partial" {
            assert!(
                readme.contains(line.split("\"decision\"").nth(1).unwrap_or("?")),
                "{line}"
            );
        }
    }
    assert!(
        text(&day2.stderr).contains("1 claim was sent before with the same content"),
        "{}",
        text(&day2.stderr)
    );
    let show = run(&["history", "show", "--db", &db, "--patient", "PAT-7"]);
    let block = readme
        .split("$ payer-rules history show --db history.db --patient PAT-7\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_default();
    assert_eq!(
        text(&show.stdout),
        block,
        "the README's `history show` block"
    );
}

#[test]
fn eval_history_files_are_imported_into_the_database_once() {
    let dir = temp_dir("eval-history");
    let db = s(&dir.join("h.db"));
    let paid = paid_history(&dir, &[]);
    let input = write(
        &dir.join("c.jsonl"),
        &(tpi("N1", "PAT-9", "2025-07-01", "cervical", "") + "\n"),
    );
    for _ in 0..2 {
        // The second run imports nothing new and answers N1 from the store.
        let out = run(&["eval", "-q", "--db", &db, "--history", &paid, &input]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let d = &lines_json(&out)[0];
        assert_eq!(d["lines"][0]["reasons"][0]["rule"], "M4", "{d}");
    }
    let stats = run(&["history", "stats", "--db", &db]);
    assert!(
        text(&stats.stdout).contains("4 claim versions, 7 counted services"),
        "{}",
        text(&stats.stdout)
    );
}

/// The "reasons by rule" part of `eval`'s summary.
fn reasons_by_rule(stderr: &[u8]) -> String {
    text(stderr)
        .lines()
        .skip_while(|l| !l.starts_with("reasons by rule"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_replayed_run_summarizes_its_reasons_like_the_first() {
    let dir = temp_dir("replayed-summary");
    let db = s(&dir.join("history.db"));
    let first = run(&["eval", "--db", &db, "examples/claims.jsonl"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let again = run(&["eval", "--db", &db, "examples/claims.jsonl"]);
    assert_eq!(text(&again.stdout), text(&first.stdout));
    let reasons = reasons_by_rule(&first.stderr);
    assert!(reasons.lines().count() > 10, "{reasons}");
    // Replayed decisions carry texts rebuilt from the store, not the policy's
    // shared ones; they must still add up under one line per rule and action.
    assert_eq!(reasons_by_rule(&again.stderr), reasons);
}

/// Finding H1: claims streamed one at a time are answered (and, with `--db`,
/// committed) one at a time, before the input ends, whatever `--batch` says.
#[test]
fn claims_streamed_slowly_are_answered_before_the_input_ends() {
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = temp_dir("stream");
    let db = dir.join("s.db");
    let db_arg = s(&db);
    for with_db in [true, false] {
        let mut args = vec!["eval", "-q", "--batch", "1000"];
        if with_db {
            args.extend(["--db", db_arg.as_str()]);
        }
        args.push("-");
        let mut child = bin()
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("stdin"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("stdout"));
        let (tx, rx) = mpsc::channel();
        let lines = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        for (i, id) in ["S1", "S2", "S3"].iter().enumerate() {
            let claim = tpi(id, &format!("PS{i}"), "2026-03-04", "scapular", "");
            writeln!(stdin, "{claim}").unwrap_or_else(|e| panic!("{e}"));
            stdin.flush().unwrap_or_else(|e| panic!("{e}"));
            let line = rx
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("no decision for {id} (db: {with_db}): {e}"));
            assert!(line.contains(&format!("\"id\":\"{id}\"")), "{line}");
            if with_db {
                // Committed before it was written, the input still open.
                let conn = rusqlite::Connection::open_with_flags(
                    &db,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap_or_else(|e| panic!("{e}"));
                let n: i64 = conn
                    .query_row("SELECT count(*) FROM claims", [], |r| r.get(0))
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(n, i as i64 + 1);
            }
        }
        drop(stdin);
        let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
        assert!(status.success());
        let _ = lines.join();
    }
}

/// Finding H3 and S2: in-memory `--history` reports a conflicting record as
/// `--db` does, by record number and escaped id, never the patient's id.
#[test]
fn in_memory_history_reports_conflicts_by_record_without_member_ids() {
    let dir = temp_dir("h3");
    let first = tpi(
        "EVIL\\u001b]0;x\\u0007",
        "PT-SECRET",
        "2026-03-04",
        "scapular",
        "",
    );
    let other = tpi(
        "EVIL\\u001b]0;x\\u0007",
        "PT-SECRET",
        "2026-03-05",
        "scapular",
        "",
    );
    let history = write(&dir.join("h.jsonl"), &format!("{first}\n{other}\n"));
    let claims = write(
        &dir.join("c.jsonl"),
        &format!("{}\n", tpi("C1", "PT-2", "2026-03-04", "scapular", "")),
    );
    let db = s(&dir.join("h.db"));
    for extra in [&[][..], &["--db", db.as_str()][..]] {
        let mut args = vec!["eval", "--history", history.as_str()];
        args.extend(extra);
        args.push(claims.as_str());
        let out = run(&args);
        let err = text(&out.stderr);
        assert!(
            err.contains("history `") && err.contains("skipped record 2 (claim id `EVIL\\u{1b}]0;x\\u{7}`): other content is already stored"),
            "{extra:?}: {err}"
        );
        assert!(
            err.contains("history: 1 imported, 0 already present, 1 conflicting"),
            "{extra:?}: {err}"
        );
        assert!(
            !err.contains("PT-SECRET") && !err.contains('\u{1b}'),
            "{err}"
        );
    }
}

/// Finding H5: every file is checked before the database is created, and
/// each file's import is reported before a later one fails.
#[test]
fn history_import_checks_every_file_first_and_reports_each() {
    let dir = temp_dir("h5");
    let good = write(
        &dir.join("good.jsonl"),
        &format!("{}\n", tpi("G1", "P1", "2026-03-04", "scapular", "")),
    );
    let db = dir.join("h.db");
    let out = run(&[
        "history",
        "import",
        "--db",
        &s(&db),
        "/nonexistent/missing.jsonl",
        &good,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!db.exists(), "a database was left behind");
    let out = run(&["history", "import", "--db", &s(&db), &good, &good]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(err.matches(&format!("`{good}`: ")).count(), 2, "{err}");
    assert!(
        err.contains("1 imported, 0 already present")
            && err.contains("0 imported, 1 already present"),
        "{err}"
    );
}

/// Finding H4: `history stats` and `show` need no write lock, do not upgrade
/// an older file, and count the write-ahead log in the size.
#[test]
fn history_stats_and_show_read_without_a_lock_or_a_migration() {
    let dir = temp_dir("h4");
    let db = dir.join("h.db");
    let good = write(
        &dir.join("good.jsonl"),
        &format!("{}\n", tpi("G1", "P1", "2026-03-04", "scapular", "")),
    );
    assert!(run(&["history", "import", "--db", &s(&db), &good])
        .status
        .success());
    // Another process holds the write lock, with its log not checkpointed.
    let writer = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
    writer
        .execute_batch("PRAGMA wal_autocheckpoint = 0; INSERT INTO texts (text) VALUES (hex(randomblob(20000))); BEGIN IMMEDIATE")
        .unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let out = run(&["history", "stats", "--db", &s(&db)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let wal = size(&dir.join("h.db-wal"));
    assert!(wal > 0);
    let stats = text(&out.stdout);
    assert!(
        stats.contains(&format!(
            "{} bytes, {wal} of them in the write-ahead log",
            size(&db) + wal
        )),
        "{stats}"
    );
    let out = run(&["history", "show", "--db", &s(&db), "--patient", "P1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // An older schema is refused, not upgraded.
    writer
        .execute_batch("UPDATE schema_version SET version = 1; COMMIT")
        .unwrap_or_else(|e| panic!("{e}"));
    let out = run(&["history", "stats", "--db", &s(&db)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("to upgrade it"),
        "{}",
        text(&out.stderr)
    );
    let version: i64 = writer
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(version, 1);
}

/// An EmblemHealth TPI claim: one session of 20552 with its drug.
fn emblem(id: &str, patient: &str, date: &str, site: &str) -> String {
    format!(
        r#"{{"id":"{id}","payer":"emblemhealth","patient":{{"id":"{patient}","birth_date":"1950-01-01"}},"diagnoses":["M79.18"],"lines":[{{"line":1,"date_of_service":"{date}","procedure":"20552","site":"{site}"}},{{"line":2,"date_of_service":"{date}","procedure":"J3301"}}]}}"#
    )
}

/// Issue 25: history is per payer and member. A member with an EmblemHealth
/// session and a Medicare session on one day had the second denied for
/// "already had a session today" (Medicare M3), although Medicare never saw
/// the first. In memory, with `--jobs 2`, with `--db` and with the first
/// claim given as `--history`, each payer now counts its own claims only;
/// Medicare's second session of the day is still denied.
#[test]
fn each_payer_counts_only_its_own_claims_of_a_member() {
    let dir = temp_dir("per-payer");
    let db = s(&dir.join("h.db"));
    let input = write(
        &dir.join("c.jsonl"),
        &[
            emblem("EH-1", "PAT-2", "2026-03-04", "cervical"),
            tpi("MC-1", "PAT-2", "2026-03-04", "lumbar", ""),
            tpi("MC-2", "PAT-2", "2026-03-04", "scapular", ""),
            // The same claim id of the same member under the other payer is
            // another claim: neither a replay nor a conflict.
            tpi("EH-1", "PAT-2", "2026-03-05", "cervical", ""),
        ]
        .join("\n"),
    );
    let want = ["allow", "allow", "partial", "allow"];
    let mut outputs = Vec::new();
    for args in [
        vec!["eval", "-q", input.as_str()],
        vec!["eval", "-q", "--jobs", "2", input.as_str()],
        vec!["eval", "-q", "--db", db.as_str(), input.as_str()],
    ] {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let got: Vec<String> = lines_json(&out)
            .iter()
            .map(|d| d["decision"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(got, want, "{args:?}: {}", text(&out.stdout));
        let d = &lines_json(&out)[2];
        assert_eq!(d["lines"][0]["reasons"][0]["rule"], "M3", "{d}");
        outputs.push(text(&out.stdout));
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]), "byte-identical");
    // Prior history of one payer counts for that payer only.
    let paid = write(
        &dir.join("paid.jsonl"),
        &emblem("H-1", "PAT-3", "2026-03-04", "cervical"),
    );
    let claims = write(
        &dir.join("d.jsonl"),
        &[
            tpi("MC-3", "PAT-3", "2026-03-04", "lumbar", ""),
            emblem("EH-3", "PAT-3", "2026-03-04", "lumbar"),
        ]
        .join("\n"),
    );
    let out = run(&["eval", "-q", "--history", &paid, &claims]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows = lines_json(&out);
    assert_eq!(rows[0]["decision"], "allow", "{}", rows[0]);
    assert_eq!(rows[1]["decision"], "partial", "{}", rows[1]);
    assert_eq!(
        rows[1]["lines"][0]["reasons"][0]["rule"], "E1",
        "{}",
        rows[1]
    );
    // `history show` lists each payer's history under its own heading, or
    // one payer's with `--payer`.
    let show = run(&["history", "show", "--db", &db, "--patient", "PAT-2"]);
    assert_eq!(show.status.code(), Some(0), "{}", text(&show.stderr));
    let listing = text(&show.stdout);
    assert!(
        listing.starts_with(
            "patient PAT-2, payer emblemhealth: 2 counted services, 1 claim version\n"
        ),
        "{listing}"
    );
    assert!(
        listing.contains("\npatient PAT-2, payer medicare: 5 counted services, 3 claim versions\n"),
        "{listing}"
    );
    let medicare = run(&[
        "history",
        "show",
        "--db",
        &db,
        "--patient",
        "PAT-2",
        "--payer",
        "medicare",
        "--json",
    ]);
    let rows: Vec<serde_json::Value> = text(&medicare.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(rows.len(), 8, "{}", text(&medicare.stdout));
    assert!(rows.iter().all(|r| r["payer"] == "medicare"), "{rows:?}");
    let nobody = run(&[
        "history",
        "show",
        "--db",
        &db,
        "--patient",
        "PAT-2",
        "--payer",
        "aetna",
    ]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(
        text(&nobody.stderr).contains("no history for patient `PAT-2` under payer `aetna`"),
        "{}",
        text(&nobody.stderr)
    );
}

/// Turns a file of the current schema back into what schema 2 wrote: the same rows
/// without their payer.
fn downgrade_to_schema_2(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap_or_else(|e| panic!("{e}"));
    conn.execute_batch(
        "DROP VIEW services;
         DROP INDEX claims_by_member;
         ALTER TABLE claims DROP COLUMN payer;
         CREATE INDEX claims_by_patient ON claims (patient);
         CREATE VIEW services AS
             SELECT c.patient AS patient, c.id AS claim, s.value ->> 0 AS line,
                    s.value ->> 1 AS date, s.value ->> 2 AS procedure, s.value ->> 3 AS site
             FROM claims AS c, json_each(c.services) AS s
             WHERE c.status IN ('active', 'imported');
         UPDATE schema_version SET version = 2;",
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// A file written before history was kept per payer (schema 2: its rows have
/// no payer) is upgraded in place when opened, and decides single-payer
/// claims exactly as a file that never needed the upgrade: replays,
/// replacements, voids and counts of its rows included.
#[test]
fn a_schema_2_database_upgrades_and_decides_as_before() {
    let dir = temp_dir("schema-2");
    let day1 = "examples/history/day1.jsonl";
    let day2 = "examples/history/day2.jsonl";
    let mut outputs = Vec::new();
    for old in [false, true] {
        let db = dir.join(format!("h-{old}.db"));
        let one = run(&["eval", "-q", "--db", &s(&db), day1]);
        assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
        if old {
            downgrade_to_schema_2(&db);
            // Read-only commands refuse it until it is upgraded.
            let show = run(&["history", "show", "--db", &s(&db), "--patient", "PAT-7"]);
            assert_eq!(show.status.code(), Some(3), "{}", text(&show.stderr));
        }
        let two = run(&["eval", "-q", "--db", &s(&db), day2]);
        assert_eq!(two.status.code(), Some(0), "{}", text(&two.stderr));
        let show = run(&["history", "show", "--db", &s(&db), "--patient", "PAT-7"]);
        assert_eq!(show.status.code(), Some(0), "{}", text(&show.stderr));
        outputs.push((text(&two.stdout), text(&show.stdout)));
        let conn = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
        let version: i64 = conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(version, 5);
        let no_payer: i64 = conn
            .query_row("SELECT count(*) FROM claims WHERE payer IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(no_payer, if old { 2 } else { 0 }, "day 1's rows");
    }
    assert_eq!(outputs[0].0, outputs[1].0, "day 2 decides as before");
    // `history show` tells the rows of no payer apart.
    let old = &outputs[1].1;
    assert!(
        old.starts_with(
            "patient PAT-7, stored before history was per payer (counts under every payer): \
             0 counted services, 1 claim version\n"
        ),
        "{old}"
    );
    assert!(
        old.contains("\npatient PAT-7, payer medicare: 2 counted services, 3 claim versions\n"),
        "{old}"
    );
}

/// A row of no payer counts under every payer of its member, as every row
/// did before the upgrade; once a replacement or void under one payer takes
/// it out, no payer's history counts it: the cache, which held it in every
/// payer's book of the member, is dropped and loaded again.
#[test]
fn a_row_stored_before_the_upgrade_counts_under_every_payer_until_it_is_voided() {
    let dir = temp_dir("no-payer");
    let db = dir.join("h.db");
    let first = write(
        &dir.join("a.jsonl"),
        &tpi("OLD-1", "PAT-4", "2026-03-04", "cervical", ""),
    );
    let one = run(&["eval", "-q", "--db", &s(&db), &first]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    downgrade_to_schema_2(&db);
    let input = write(
        &dir.join("b.jsonl"),
        &[
            // OLD-1's session counts for EmblemHealth too: the second today.
            emblem("EH-1", "PAT-4", "2026-03-04", "lumbar"),
            // Medicare voids OLD-1 ...
            tpi(
                "V-1",
                "PAT-4",
                "2026-03-04",
                "cervical",
                r#","frequency_code":"8","replaces":"OLD-1""#,
            ),
            // ... so EmblemHealth's next session of the day is its first.
            emblem("EH-2", "PAT-4", "2026-03-04", "scapular"),
        ]
        .join("\n"),
    );
    let out = run(&["eval", "-q", "--db", &s(&db), &input]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows = lines_json(&out);
    let decisions: Vec<&str> = rows
        .iter()
        .map(|d| d["decision"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        decisions,
        ["partial", "void", "allow"],
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        rows[0]["lines"][0]["reasons"][0]["rule"], "E1",
        "{}",
        rows[0]
    );
}

/// A policy of a units limit (modifier 50 counting both sides) and a charges
/// limit, for the tests of units and charges through the binary.
const UNITS_POLICY: &str = r#"policy acme-units "units and charges" {
  payer acme
  version "1"
  effective 2025-01-01..
  source "tests: a units limit and a charges limit"

  codes tpi     = cpt 20552, 20553
  codes therapy = cpt 97110, 97140

  rule U6 "at most 6 TPI units in 12 months" {
    when line.procedure in tpi
    limit tpi units to 6 per 12 months bilateral as 2 else deny CO-151 rarc N362
  }

  rule K1 "therapy charges up to 2410.00 in 12 months" {
    when line.procedure in therapy
    limit therapy charges to 2410.00 per 12 months else deny CO-119 rarc N640
  }
}
"#;

/// A claim of member M1 of `acme`: its lines' inner fields.
fn acme(id: &str, lines: &[&str]) -> String {
    let lines: Vec<String> = lines.iter().map(|l| format!("{{{l}}}")).collect();
    format!(
        r#"{{"id":"{id}","payer":"acme","patient":{{"id":"M1"}},"diagnoses":["M79.18"],"lines":[{}]}}"#,
        lines.join(",")
    ) + "\n"
}

/// The rules that fired on each line of each decision.
fn fired_rules(out: &std::process::Output) -> Vec<Vec<Vec<String>>> {
    lines_json(out)
        .iter()
        .map(|d| {
            d["lines"]
                .as_array()
                .unwrap_or_else(|| panic!("{d}"))
                .iter()
                .map(|l| {
                    l["reasons"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| r["rule"].as_str().unwrap_or("?").to_string())
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// Units, modifier 50 and exact charges through `eval --db`: day 1's
/// services count on day 2 with their units and charges; a file turned back
/// into schema 3 (services of four items) is upgraded when opened, and its
/// services then count as 1 unit without a charge, as documented.
#[test]
fn units_and_charges_count_across_runs_and_a_schema_3_file_reads_one_unit_and_no_charge() {
    let dir = temp_dir("units");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap_or_else(|e| panic!("{e}"));
    write(&policies.join("acme.policy"), UNITS_POLICY);
    let day1 = write(
        &dir.join("day1.jsonl"),
        &[
            // 2 units with modifier 50, counting 4.
            acme("A", &[r#""date_of_service":"2025-03-03","procedure":"20552","units":2,"modifiers":["50"]"#]),
            acme("B", &[r#""date_of_service":"2025-03-03","procedure":"97110","charge":702.72"#]),
            acme("C", &[r#""date_of_service":"2025-03-04","procedure":"97140","charge":1444.96"#]),
        ]
        .concat(),
    );
    let day2 = write(
        &dir.join("day2.jsonl"),
        &[
            // 4 + 2: reached; then 4 + 2 + 1: one over.
            acme(
                "D",
                &[r#""date_of_service":"2025-04-01","procedure":"20553","units":2"#],
            ),
            acme(
                "E",
                &[r#""date_of_service":"2025-04-02","procedure":"20553","units":1"#],
            ),
            // 702.72 + 1444.96 + 262.32 = 2410.00 exactly (2410.0000000000005
            // as doubles), then a cent over.
            acme(
                "F",
                &[r#""date_of_service":"2025-04-01","procedure":"97110","charge":262.32"#],
            ),
            acme(
                "G",
                &[r#""date_of_service":"2025-04-02","procedure":"97140","charge":0.01"#],
            ),
        ]
        .concat(),
    );
    let pol = s(&policies);
    let eval = |db: &str, input: &str| {
        let out = run(&["eval", "-q", "--policies", &pol, "--db", db, input]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        fired_rules(&out)
    };
    let none: Vec<Vec<Vec<String>>> = vec![vec![vec![]]; 3];
    let want_day2: Vec<Vec<Vec<String>>> = [&[][..], &["U6"], &[], &["K1"]]
        .iter()
        .map(|r| vec![r.iter().map(|s| s.to_string()).collect()])
        .collect();
    // A file that kept units and charges all along.
    let db = s(&dir.join("new.db"));
    assert_eq!(eval(&db, &day1), none);
    assert_eq!(eval(&db, &day2), want_day2);
    // The same day 1 in a file turned back into schema 3.
    let old = dir.join("old.db");
    assert_eq!(eval(&s(&old), &day1), none);
    {
        let conn = rusqlite::Connection::open(&old).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(
            "UPDATE claims SET services = (
                 SELECT json_group_array(json_array(value ->> 0, value ->> 1, value ->> 2, value ->> 3))
                 FROM json_each(claims.services));
             DROP VIEW services;
             CREATE VIEW services AS
                 SELECT c.payer AS payer, c.patient AS patient, c.id AS claim,
                        s.value ->> 0 AS line, s.value ->> 1 AS date,
                        s.value ->> 2 AS procedure, s.value ->> 3 AS site
                 FROM claims AS c, json_each(c.services) AS s
                 WHERE c.status IN ('active', 'imported');
             UPDATE schema_version SET version = 3;",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let show = run(&["history", "show", "--db", &s(&old), "--patient", "M1"]);
    assert_eq!(
        show.status.code(),
        Some(3),
        "read-only commands refuse schema 3"
    );
    // Day 1's TPI counts 1 unit now, its therapy nothing: D, E and F pass,
    // and G (0 + 262.32 + 0.01) too.
    let passes: Vec<Vec<Vec<String>>> = vec![vec![vec![]]; 4];
    assert_eq!(eval(&s(&old), &day2), passes);
    let conn = rusqlite::Connection::open(&old).unwrap_or_else(|e| panic!("{e}"));
    let version: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(version, 5);
    drop(conn);
    let show = run(&[
        "history",
        "show",
        "--db",
        &s(&old),
        "--patient",
        "M1",
        "--json",
    ]);
    let services: Vec<(String, u64, bool, Option<String>)> = lines_json(&show)
        .iter()
        .filter(|r| r.get("date").is_some())
        .map(|r| {
            (
                r["claim"].as_str().unwrap_or("?").to_string(),
                r["units"].as_u64().unwrap_or(0),
                r["modifier_50"].as_bool().unwrap_or(true),
                r["charge"].as_str().map(str::to_string),
            )
        })
        .collect();
    let row =
        |c: &str, u: u64, m: bool, ch: Option<&str>| (c.to_string(), u, m, ch.map(str::to_string));
    assert_eq!(
        services,
        [
            row("A", 1, false, None),
            row("B", 1, false, None),
            row("C", 1, false, None),
            row("D", 2, false, None),
            row("F", 1, false, Some("262.32")),
            row("E", 1, false, None),
            row("G", 1, false, Some("0.01")),
        ]
    );
}

/// The modifiers a line was billed with reach the history file, from JSON
/// and from 837P alike (SV101's modifiers): the Medicare therapy sums are
/// kept per discipline across runs, `history show` lists each service's
/// modifiers (text and `--json`), and `explain` says which modifiers a limit
/// counts.
#[test]
fn modifiers_reach_the_history_from_json_and_837p_and_history_show_lists_them() {
    let dir = temp_dir("modifiers");
    let therapy = |id: &str, date: &str, code: &str, modifier: &str, charge: &str| {
        format!(
            r#"{{"id":"{id}","payer":"medicare","patient":{{"id":"M1"}},"diagnoses":["M54.50"],"lines":[{{"line":1,"date_of_service":"{date}","procedure":"{code}","modifiers":["{modifier}"],"charge":{charge}}}]}}"#
        )
    };
    // 2,000.00 of PT, then 400.00 of OT (its own sum: allowed), then
    // 400.00 of SLP (PT and SLP together 2,400.00, past $2,330: K1 pends).
    let first = [therapy("T1", "2024-03-04", "97110", "GP", "2000.00")];
    let later = [
        therapy("T2", "2024-04-01", "97530", "GO", "400.00"),
        therapy("T3", "2024-05-01", "92507", "GN", "400.00"),
    ];
    let json = |claims: &[String]| claims.join("\n") + "\n";
    let x12 = |claims: &[String]| {
        let read: Vec<payer_rules::Claim> = read_claims_str(&json(claims), InputFormat::JsonLines)
            .into_iter()
            .map(|c| c.unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let bytes = payer_rules::internal::write_837p(&read, Vec::new(), None)
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"))
    };
    for (format, first_text, later_text) in [
        ("json", json(&first), json(&later)),
        ("837p", x12(&first), x12(&later)),
    ] {
        let db = dir.join(format!("{format}.db"));
        let first_path = write(&dir.join(format!("first.{format}")), &first_text);
        let later_path = write(&dir.join(format!("later.{format}")), &later_text);
        let one = run(&["eval", "-q", "--db", &s(&db), &first_path]);
        assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
        let two = run(&["eval", "-q", "--db", &s(&db), &later_path]);
        assert_eq!(two.status.code(), Some(0), "{}", text(&two.stderr));
        let decided: Vec<(String, String)> = lines_json(&two)
            .iter()
            .map(|d| {
                let rules: Vec<&str> = d["lines"][0]["reasons"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["rule"].as_str())
                    .collect();
                (
                    d["decision"].as_str().unwrap_or("?").to_string(),
                    rules.join(","),
                )
            })
            .collect();
        let want = [("allow", ""), ("review", "K1")].map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(decided, want, "{format}");
        let show = run(&[
            "history",
            "show",
            "--db",
            &s(&db),
            "--patient",
            "M1",
            "--json",
        ]);
        assert_eq!(show.status.code(), Some(0), "{}", text(&show.stderr));
        let billed: Vec<String> = lines_json(&show)
            .iter()
            .filter(|r| r.get("date").is_some())
            .map(|r| r["modifiers"].to_string())
            .collect();
        assert_eq!(billed, [r#"["GP"]"#, r#"["GO"]"#, r#"["GN"]"#], "{format}");
        let show = run(&["history", "show", "--db", &s(&db), "--patient", "M1"]);
        let shown = text(&show.stdout);
        assert!(
            shown.contains("T2 line 1, modifiers GO"),
            "{format}: {shown}"
        );
    }
    let explain = run(&["explain", "--policies", "policies", "K3"]);
    assert_eq!(explain.status.code(), Some(0), "{}", text(&explain.stderr));
    assert!(
        text(&explain.stdout)
            .contains(r#"per calendar year with modifier "GO", this service included"#),
        "{}",
        text(&explain.stdout)
    );
}
