//! The plan past one database (`docs/scaling.md`, "Past one database"),
//! simulated with the built binary: claims keyed by (payer, member) are
//! split by a stable hash into `P` partitions, as a Kafka-protocol topic
//! would hold them; a consumer group of worker nodes owns the partitions,
//! each partition's history in a SQLite file of its own; the merged output
//! equals one node's over the whole file. Then a rebalance: the partitions
//! move to new owners with their history files, and the last claims of each
//! moved partition are delivered again (at-least-once): still equal, the
//! redelivered claims answered from the ledger and nothing counted twice.
//!
//! A worker here is a sequence of `eval` processes, one per partition it
//! owns, each on that partition's file; the workers run concurrently.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

use common::{root, run, stream, text};

/// Partitions of the topic: fixed for the topic's life, since a claim's
/// partition (and so its history's home) is its key's hash modulo `P`.
const P: usize = 8;

/// The partition of a claim: FNV-1a (64-bit) of `payer NUL member`, modulo
/// [`P`]. Stable across processes and builds, unlike `std`'s `RandomState`.
fn partition(claim: &str) -> usize {
    let v: serde_json::Value =
        serde_json::from_str(claim).unwrap_or_else(|e| panic!("{e}: {claim}"));
    let payer = v.get("payer").and_then(|p| p.as_str()).unwrap_or_default();
    let member = v
        .get("patient")
        .and_then(|p| p.get("id"))
        .and_then(|m| m.as_str())
        .unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in payer.bytes().chain([0]).chain(member.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    usize::try_from(hash % P as u64).unwrap_or(0)
}

/// The claim stream: the generator's Medicare claims over 300 members (with
/// resubmissions, replacements and voids), the examples' claims of several
/// payers mixed in.
fn claims() -> Vec<String> {
    let generated = stream(3000, 300, 5, "S");
    let examples =
        std::fs::read_to_string(root("examples/claims.jsonl")).unwrap_or_else(|e| panic!("{e}"));
    let mut examples = examples.lines().filter(|l| !l.trim().is_empty());
    let mut out = Vec::new();
    for (i, claim) in generated.into_iter().enumerate() {
        out.push(claim);
        if i % 5 == 0 {
            if let Some(e) = examples.next() {
                out.push(e.to_string());
            }
        }
    }
    out
}

/// A partition's deliveries: (position in the whole stream, claim), in the
/// stream's order (one partition is one ordered log).
type Log = Vec<(usize, String)>;

fn split(claims: &[String], range: std::ops::Range<usize>) -> BTreeMap<usize, Log> {
    let mut logs: BTreeMap<usize, Log> = (0..P).map(|p| (p, Vec::new())).collect();
    for i in range {
        let claim = &claims[i];
        logs.entry(partition(claim))
            .or_default()
            .push((i, claim.clone()));
    }
    logs
}

/// The worker directory that holds partition `p`'s history while `worker`
/// owns it.
fn history(dir: &Path, worker: usize, p: usize) -> PathBuf {
    dir.join(format!("worker{worker}"))
        .join(format!("p{p}.sqlite"))
}

/// Runs `workers` concurrently; worker `w` decides the logs of the
/// partitions `owner(p) == w`, one `eval` per partition on that partition's
/// history file. Each partition's output lines, in its log's order.
fn consume(
    dir: &Path,
    tag: &str,
    workers: usize,
    owner: fn(usize) -> usize,
    logs: &BTreeMap<usize, Log>,
) -> BTreeMap<usize, Vec<String>> {
    let threads: Vec<_> = (0..workers)
        .map(|w| {
            let mine: Vec<(usize, Log)> = logs
                .iter()
                .filter(|(p, _)| owner(**p) == w)
                .map(|(p, log)| (*p, log.clone()))
                .collect();
            let dir = dir.to_path_buf();
            let tag = tag.to_string();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                for (p, log) in mine {
                    let db = history(&dir, w, p);
                    std::fs::create_dir_all(db.parent().unwrap_or(&dir))
                        .unwrap_or_else(|e| panic!("{e}"));
                    let input = dir.join(format!("{tag}-p{p}.jsonl"));
                    let body: String = log.iter().map(|(_, c)| format!("{c}\n")).collect();
                    std::fs::write(&input, body).unwrap_or_else(|e| panic!("{e}"));
                    let (db, input) = (db.to_string_lossy(), input.to_string_lossy());
                    let o = run(&["eval", "-q", "--db", &db, &input]);
                    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
                    let lines: Vec<String> = text(&o.stdout).lines().map(strip).collect();
                    assert_eq!(lines.len(), log.len(), "partition {p}");
                    out.push((p, lines));
                }
                out
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_else(|_| panic!("worker thread")))
        .collect()
}

/// An output line without `record` (an error's position in its own
/// input, which differs between a partition's file and the whole stream).
fn strip(line: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    if let Some(o) = v.as_object_mut() {
        o.remove("record");
    }
    v.to_string()
}

/// Puts each partition's output back at its claims' positions.
fn merge(
    into: &mut [Option<String>],
    logs: &BTreeMap<usize, Log>,
    outs: &BTreeMap<usize, Vec<String>>,
) {
    for (p, log) in logs {
        for ((i, _), line) in log.iter().zip(&outs[p]) {
            assert!(into[*i].is_none(), "claim {i} decided twice");
            into[*i] = Some(line.clone());
        }
    }
}

/// One node over the whole stream: its output lines and stored claim count.
fn single(dir: &Path, claims: &[String]) -> (Vec<String>, i64) {
    let input = dir.join("all.jsonl");
    std::fs::write(&input, claims.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let db = dir.join("single.sqlite");
    let o = run(&[
        "eval",
        "-q",
        "--db",
        &db.to_string_lossy(),
        &input.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines: Vec<String> = text(&o.stdout).lines().map(strip).collect();
    assert_eq!(lines.len(), claims.len());
    (lines, stored(&db))
}

/// Claim versions stored in a SQLite history.
fn stored(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap_or_else(|e| panic!("{e}"));
    conn.query_row("SELECT count(*) FROM claims", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{}: {e}", db.display()))
}

fn compare(merged: &[Option<String>], want: &[String]) {
    for (i, (got, want)) in merged.iter().zip(want).enumerate() {
        let got = got
            .as_deref()
            .unwrap_or_else(|| panic!("claim {i} never decided"));
        assert_eq!(got, want, "claim {i}: partitioned vs single node");
    }
}

#[test]
fn three_workers_over_eight_partitions_equal_one_node() {
    let dir = common::temp_dir("scale", "three-workers");
    let claims = claims();
    let (want, want_stored) = single(&dir, &claims);
    let logs = split(&claims, 0..claims.len());
    assert!(
        logs.values().all(|l| !l.is_empty()),
        "every partition has claims"
    );
    let outs = consume(&dir, "all", 3, |p| p % 3, &logs);
    let mut merged = vec![None; claims.len()];
    merge(&mut merged, &logs, &outs);
    compare(&merged, &want);
    let total: i64 = (0..P).map(|p| stored(&history(&dir, p % 3, p))).sum();
    assert_eq!(total, want_stored, "claim versions stored");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_rebalance_with_history_handed_over_and_redelivery_equals_one_node() {
    let dir = common::temp_dir("scale", "rebalance");
    let claims = claims();
    let (want, want_stored) = single(&dir, &claims);
    let half = claims.len() / 2;
    let mut merged = vec![None; claims.len()];

    // Before: two workers.
    let before: fn(usize) -> usize = |p| p % 2;
    let after: fn(usize) -> usize = |p| p % 3;
    let first = split(&claims, 0..half);
    let first_out = consume(&dir, "first", 2, before, &first);
    merge(&mut merged, &first, &first_out);

    // The rebalance: every old owner has finished (committed its history
    // and, in a real group, its offsets) before its partitions' files go to
    // their new owners.
    let moved: Vec<usize> = (0..P).filter(|p| before(*p) != after(*p)).collect();
    assert!(!moved.is_empty());
    for p in 0..P {
        let (from, to) = (history(&dir, before(p), p), history(&dir, after(p), p));
        if from != to {
            std::fs::create_dir_all(to.parent().unwrap_or(&dir)).unwrap_or_else(|e| panic!("{e}"));
            std::fs::rename(&from, &to).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    // After: three workers. A moved partition's last committed offset was
    // lost with its old owner, so its last few claims come again first.
    const AGAIN: usize = 5;
    let second = split(&claims, half..claims.len());
    let mut delivered = second.clone();
    let mut redelivered: BTreeMap<usize, Log> = BTreeMap::new();
    for p in &moved {
        let old = &first[p];
        let again: Log = old[old.len().saturating_sub(AGAIN)..].to_vec();
        let log = delivered.entry(*p).or_default();
        log.splice(0..0, again.clone());
        redelivered.insert(*p, again);
    }
    let second_out = consume(&dir, "second", 3, after, &delivered);
    let mut redelivered_count = 0;
    let mut rest: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (p, lines) in &second_out {
        let again = redelivered.get(p).map_or(0, Vec::len);
        // A redelivered claim is answered as it was the first time: from
        // the ledger when it stored something, the same error otherwise.
        for ((i, _), line) in redelivered.get(p).into_iter().flatten().zip(lines) {
            assert_eq!(
                Some(line),
                merged[*i].as_ref(),
                "redelivered claim {i} of partition {p}"
            );
            redelivered_count += 1;
        }
        rest.insert(*p, lines[again..].to_vec());
    }
    assert_eq!(redelivered_count, moved.len() * AGAIN);
    merge(&mut merged, &second, &rest);
    compare(&merged, &want);
    let total: i64 = (0..P).map(|p| stored(&history(&dir, after(p), p))).sum();
    assert_eq!(
        total, want_stored,
        "claim versions stored: none twice, none lost"
    );

    // The control: a new owner that reads before the history arrives (an
    // empty file for the first moved partition) decides differently, so the
    // handover is what the equality above rests on.
    let p = moved[0];
    let stale = dir.join("stale");
    let log: BTreeMap<usize, Log> = [(p, second[&p].clone())].into_iter().collect();
    let stale_out = consume(&stale, "stale", 1, |_| 0, &log);
    assert_ne!(
        stale_out[&p], rest[&p],
        "partition {p} decided the same without its history: the test cannot fail"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
