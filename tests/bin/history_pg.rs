//! Claim history in PostgreSQL, through the built binary, on a throw-away
//! server (`src/history/postgres/test_cluster.rs`): three `eval` processes
//! on one database deciding one claim stream dealt round-robin by claim (so
//! each member's claims race across nodes), checked against one node given
//! the same claims in commit order; and a run killed mid-way and run again.
//! Without PostgreSQL these tests are skipped, except under `CI=true`.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use payer_rules::internal::read_claims_str;
use payer_rules::internal::ContentHash;
use payer_rules::InputFormat;

mod common;
#[path = "../../src/history/postgres/test_cluster.rs"]
mod pg_cluster;

use common::{bin, run, stream, text};

fn write(path: &Path, content: &str) -> String {
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{e}"));
    path.to_string_lossy().into_owned()
}

/// A claim's ledger key: its id and content hash (hex).
fn key(claim: &str) -> (String, String) {
    let claim = read_claims_str(claim, InputFormat::JsonLines)
        .remove(0)
        .unwrap_or_else(|e| panic!("{e}"));
    (claim.id.to_string(), ContentHash::of(&claim).hex())
}

/// Every claim version in arrival order, without its number (which depends
/// on the blocks each node took): patient, id, hash, status, replaces,
/// replaced_by, services, decision.
fn rows(cluster: &pg_cluster::Cluster, url: &str) -> Vec<Vec<String>> {
    let db = url
        .rsplit('/')
        .next()
        .and_then(|d| d.split('?').next())
        .unwrap_or_default();
    let out = cluster
        .psql(
            db,
            "SELECT patient, id, encode(hash, 'hex'), status, coalesce(replaces, ''),
                    coalesce(replaced_by, ''), services::text, coalesce(decision::text, '')
             FROM claims ORDER BY seq",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    out.lines()
        .map(|l| l.split('\u{1f}').map(str::to_string).collect())
        .collect()
}

/// A decision line without `record` (its position in its own input).
fn strip(line: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("record");
    }
    v
}

#[test]
fn three_nodes_on_one_database_equal_one_node_in_commit_order() {
    let Some(cluster) = pg_cluster::cluster() else {
        return;
    };
    let (Some(shared), Some(single)) = (
        pg_cluster::database("three_nodes"),
        pg_cluster::database("three_nodes_single"),
    ) else {
        return;
    };
    let dir = common::temp_dir("pg", "three-nodes");
    const NODES: usize = 3;
    // 400 members over 9,000 claims, dealt round-robin by claim: most
    // members' claims are decided by all three nodes.
    let claims = stream(9000, 400, 21, "N");
    let inputs: Vec<String> = (0..NODES)
        .map(|node| {
            let mine: Vec<&str> = claims
                .iter()
                .skip(node)
                .step_by(NODES)
                .map(String::as_str)
                .collect();
            write(
                &dir.join(format!("node{node}.jsonl")),
                &(mine.join("\n") + "\n"),
            )
        })
        .collect();
    let children: Vec<Child> = inputs
        .iter()
        .map(|input| {
            bin()
                .args(["eval", "-q", "--batch", "50", "--db", &shared, input])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    // All outputs are read at once: a full pipe would stall a process.
    let waiting: Vec<_> = children
        .into_iter()
        .map(|c| std::thread::spawn(move || c.wait_with_output()))
        .collect();
    let outputs: Vec<std::process::Output> = waiting
        .into_iter()
        .map(|w| {
            w.join()
                .unwrap_or_else(|_| panic!("reader thread"))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for out in &outputs {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    // Each member's rows are in the order its claims were decided (the
    // member's lock orders them, and numbers taken after the lock grow), and
    // a claim that stored nothing changed nothing. So one node given the
    // stored claims in arrival order, then the claims that stored nothing,
    // stores the same history.
    let stored = rows(cluster, &shared);
    let by_key: HashMap<(String, String), &String> = claims.iter().map(|c| (key(c), c)).collect();
    let mut serial: Vec<String> = Vec::new();
    let mut left: HashMap<(String, String), usize> = HashMap::new();
    for row in &stored {
        let k = (row[1].clone(), row[2].clone());
        let claim = by_key
            .get(&k)
            .unwrap_or_else(|| panic!("a stored row of no claim sent: {row:?}"));
        serial.push((*claim).clone());
        *left.entry(k).or_default() += 1;
    }
    let mut rest = Vec::new();
    for c in &claims {
        let k = key(c);
        match left.get_mut(&k) {
            Some(n) if *n > 0 => *n -= 1,
            _ => rest.push(c.clone()),
        }
    }
    // Every claim version was stored once: the copies of a resubmitted
    // claim are all answered from the one row.
    assert_eq!(stored.len() + rest.len(), claims.len());
    let path = write(
        &dir.join("serial.jsonl"),
        &(serial
            .iter()
            .chain(&rest)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"),
    );
    let one = run(&["eval", "-q", "--db", &single, &path]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert!(
        rows(cluster, &single) == stored,
        "the shared history differs from one node's given the claims in commit order"
    );
    // Decisions: a stored claim (and each copy of it) is answered as the
    // single node answered it, byte for byte; a claim that stored nothing
    // is the same kind of error.
    let one_out = text(&one.stdout);
    let one_out: Vec<&str> = one_out.lines().collect();
    let serial_all: Vec<&String> = serial.iter().chain(&rest).collect();
    let mut want: HashMap<(String, String), serde_json::Value> = HashMap::new();
    for (claim, line) in serial_all.iter().zip(&one_out) {
        want.entry(key(claim)).or_insert_with(|| strip(line));
    }
    let stored_keys: std::collections::HashSet<(String, String)> = stored
        .iter()
        .map(|r| (r[1].clone(), r[2].clone()))
        .collect();
    for (node, out) in outputs.iter().enumerate() {
        let got = text(&out.stdout);
        let got: Vec<&str> = got.lines().collect();
        let mine: Vec<&String> = claims.iter().skip(node).step_by(NODES).collect();
        assert_eq!(got.len(), mine.len(), "node {node}");
        for (claim, line) in mine.iter().zip(&got) {
            let k = key(claim);
            let got = strip(line);
            let want = &want[&k];
            if stored_keys.contains(&k) && got.get("error").is_none() {
                assert_eq!(&got, want, "node {node}");
            } else {
                assert_eq!(
                    got["error"]["kind"], want["error"]["kind"],
                    "node {node}: {got} vs {want}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_node_killed_mid_way_and_run_again_equals_an_uninterrupted_run() {
    let Some(cluster) = pg_cluster::cluster() else {
        return;
    };
    let (Some(whole_db), Some(killed_db)) = (
        pg_cluster::database("whole"),
        pg_cluster::database("killed"),
    ) else {
        return;
    };
    let dir = common::temp_dir("pg", "kill");
    let n = 10_000;
    let input = write(
        &dir.join("claims.jsonl"),
        &(stream(n, 2000, 7, "K").join("\n") + "\n"),
    );
    let whole = run(&["eval", "-q", "--batch", "200", "--db", &whole_db, &input]);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole.stderr));
    assert_eq!(text(&whole.stdout).lines().count(), n);
    let mut child: Child = bin()
        .args(["eval", "-q", "--batch", "200", "--db", &killed_db, &input])
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
    // SIGKILL: no chance to commit or flush anything; the server rolls the
    // open transaction back when the connection drops.
    child.kill().unwrap_or_else(|e| panic!("{e}"));
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(!status.success(), "the run finished before it was killed");
    let committed = rows(cluster, &killed_db).len();
    assert!(
        committed >= 1 && committed < n,
        "killed mid-way: {committed} claims stored of {n}"
    );
    let rerun = run(&["eval", "-q", "--batch", "200", "--db", &killed_db, &input]);
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun.stderr));
    assert!(
        text(&rerun.stdout) == text(&whole.stdout),
        "the re-run's decisions differ from the uninterrupted run's"
    );
    assert!(
        rows(cluster, &killed_db) == rows(cluster, &whole_db),
        "the history differs from the uninterrupted run's"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Several policies of one payer applied to a claim (`tests/data/many-policies`):
/// its decision, stored in PostgreSQL, answers a resubmission byte for byte,
/// each reason's policy and the claim's `policies` included.
#[test]
fn a_stored_decision_of_several_policies_is_given_back_byte_for_byte() {
    let Some(_cluster) = pg_cluster::cluster() else {
        return;
    };
    let Some(db) = pg_cluster::database("many_policies") else {
        return;
    };
    let policies = common::root("tests/data/many-policies");
    let claims = common::root("tests/data/many-policies/claims.jsonl");
    let (policies, claims) = (
        policies.to_str().unwrap_or_default(),
        claims.to_str().unwrap_or_default(),
    );
    let first = run(&["eval", "--policies", policies, "--db", &db, claims]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("\"policies\":["),
        "several policies applied: {}",
        text(&first.stdout)
    );
    let again = run(&["eval", "--policies", policies, "--db", &db, claims]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("3 claims were sent before with the same content"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(text(&again.stdout), text(&first.stdout));
}
