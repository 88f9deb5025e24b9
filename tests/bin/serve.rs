//! `payer-rules serve` through the real binary: a server on a loopback port
//! (port 0, the bound address read from its stdout), talked to over HTTP.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

mod common;
#[path = "../../src/history/postgres/test_cluster.rs"]
mod pg_cluster;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{bin, root, run, text};

/// A running server, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = bin()
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("serve starts");
        let out = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server {
            child,
            url: addr.to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// Status, `X-Policy-Revision` and body.
struct Reply {
    status: u16,
    revision: Option<String>,
    retry_after: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("the request is answered");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let revision = header("x-policy-revision");
    let retry_after = header("retry-after");
    Reply {
        status: r.status().as_u16(),
        revision,
        retry_after,
        body: r
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .unwrap(),
    }
}

fn post(url: &str, body: &str, token: Option<&str>) -> Reply {
    let mut req = agent().post(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    reply(req.send(body))
}

fn get(url: &str, token: Option<&str>) -> Reply {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    reply(req.call())
}

fn example(n: usize) -> String {
    std::fs::read_to_string(root("examples/claims.jsonl"))
        .unwrap()
        .lines()
        .nth(n)
        .unwrap()
        .to_string()
}

/// The Medicare example claim CLM-0000016 (a TPI with its drug line, allowed
/// on its own) with another id and member.
fn session(id: &str, member: &str) -> String {
    example(16)
        .replace("CLM-0000016", id)
        .replace("MC-000020", member)
}

fn scratch(name: &str) -> PathBuf {
    common::temp_dir("serve", name)
}

/// A scratch directory for test `name` with a copy of the bundled policies
/// in its `policies/`, and a server on that copy that reloads only when told
/// or every `poll` seconds (`0`: never).
fn server_on_a_copy(name: &str, poll: &str) -> (PathBuf, Server) {
    let policies = scratch(name).join("policies");
    copy_policies(&policies);
    let s = Server::start(&[
        "--policies",
        policies.to_str().unwrap(),
        "--no-watch",
        "--poll",
        poll,
    ]);
    (policies, s)
}

/// `/v1/status` once `done` holds of it, asked every `every` ms for at most
/// `secs` seconds; the test fails with `what` and the status after that.
fn status_when(
    s: &Server,
    what: &str,
    secs: u64,
    every: u64,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let status = get(&s.url("/v1/status"), None).json();
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "{what}: {status}");
        std::thread::sleep(Duration::from_millis(every));
    }
}

fn copy_policies(to: &Path) {
    for entry in walk(&root("policies")) {
        let rel = entry.strip_prefix(root("policies")).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&entry, dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn every_endpoint_and_its_error_statuses() {
    let s = Server::start(&["--max-body", "4096", "--max-lines", "2", "--no-watch"]);
    // A decision: 200, the CLI's bytes, the revision.
    let claim = session("E-1", "E-M");
    let r = post(&s.url("/v1/claims/evaluate"), &claim, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let revision = r.revision.clone().unwrap();
    assert_eq!(revision.len(), 32);
    // Pretty-printed JSON is one claim too; sent again it is the stored answer.
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&claim).unwrap())
            .unwrap();
    let again = post(&s.url("/v1/claims/evaluate"), &pretty, None);
    assert_eq!(again.status, 200);
    assert_eq!(again.body, r.body);
    // ?explain=true adds traces.
    let explained = post(
        &s.url("/v1/claims/evaluate?explain=true"),
        &session("EXP-1", "EXP-M"),
        None,
    );
    assert_eq!(explained.status, 200);
    assert!(explained.body.contains("\"trace\""), "{}", explained.body);
    // 422 invalid claim with kind, message and path.
    let bad = post(
        &s.url("/v1/claims/evaluate"),
        &claim
            .replace("E-1", "E-2")
            .replacen("\"units\":1", "\"units\":0", 1),
        None,
    );
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["error"]["kind"], "invalid_claim");
    assert_eq!(bad.json()["error"]["path"], "lines[0].units");
    // 422 no policy.
    let none = post(
        &s.url("/v1/claims/evaluate"),
        &session("NP-1", "NP-M").replace("\"medicare\"", "\"nobody\""),
        None,
    );
    assert_eq!(none.status, 422);
    assert_eq!(none.json()["error"]["kind"], "no_policy");
    assert_eq!(none.json()["error"]["path"], "payer");
    // 409 conflict: the same id with other content.
    let first = post(
        &s.url("/v1/claims/evaluate"),
        &session("CF-1", "CF-M"),
        None,
    );
    assert_eq!(first.status, 200);
    let other = session("CF-1", "CF-M").replace("\"charge\":12.0", "\"charge\":13.0");
    let conflict = post(&s.url("/v1/claims/evaluate"), &other, None);
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_eq!(conflict.json()["error"]["kind"], "conflict");
    // Lines per claim past the limit: an invalid claim at `lines`.
    let many = post(&s.url("/v1/claims/evaluate"), &example(2), None);
    assert_eq!(many.status, 422);
    assert_eq!(many.json()["error"]["path"], "lines");
    // 413 body too large.
    let big = format!("{{\"id\":\"{}\"}}", "x".repeat(5000));
    let large = post(&s.url("/v1/claims/evaluate"), &big, None);
    assert_eq!(large.status, 413);
    assert_eq!(large.json()["error"]["kind"], "too_large");
    assert_eq!(large.json()["error"]["path"], "body");
    // 400: two claims in one request.
    let two = post(
        &s.url("/v1/claims/evaluate"),
        &format!("{claim},{claim}"),
        None,
    );
    assert_eq!(two.status, 400);
    assert_eq!(two.json()["error"]["kind"], "invalid_request");
    // Check: diagnostics as `check --format json`.
    let checked = post(&s.url("/v1/check?file=x.policy"), "policy broken {", None);
    assert_eq!(checked.status, 200);
    let diag: serde_json::Value =
        serde_json::from_str(checked.body.lines().next().unwrap()).unwrap();
    assert_eq!(diag["file"], "x.policy");
    assert!(diag["code"].as_str().unwrap().starts_with("PR"));
    let medicare = std::fs::read_to_string(root("policies/medicare-tpi.policy")).unwrap();
    let clean = post(&s.url("/v1/check"), &medicare, None);
    assert_eq!(
        clean.status, 413,
        "the policy is larger than --max-body 4096"
    );
    // Policies and rules.
    let policies = get(&s.url("/v1/policies"), None).json();
    assert_eq!(policies["revision"], revision.as_str());
    assert!(policies["policies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == "medicare-tpi"));
    let rule = get(&s.url("/v1/rules/M3"), None);
    assert_eq!(rule.status, 200);
    assert_eq!(rule.json()[0]["policies"][0], "medicare-tpi");
    assert_eq!(get(&s.url("/v1/rules/NOPE"), None).status, 404);
    // History is off unless enabled.
    let h = get(&s.url("/v1/members/medicare/EXP-M/history"), None);
    assert_eq!(h.status, 404);
    // A second session on the day: M3 denies (a reason for the metrics).
    let denied = post(&s.url("/v1/claims/evaluate"), &session("E-3", "E-M"), None);
    assert_eq!(denied.json()["lines"][0]["reasons"][0]["rule"], "M3");
    // Status, probes, metrics (no member or claim id), unknown path.
    let status = get(&s.url("/v1/status"), None).json();
    assert_eq!(status["revision"], revision.as_str());
    assert_eq!(status["store"], "memory");
    assert_eq!(get(&s.url("/health/live"), None).status, 200);
    assert_eq!(get(&s.url("/health/ready"), None).status, 200);
    let metrics = get(&s.url("/metrics"), None).body;
    assert!(
        metrics.contains("payer_rules_claims_total{payer=\"medicare\""),
        "{metrics}"
    );
    assert!(metrics.contains("payer_rules_line_reasons_total"));
    assert!(metrics.contains("payer_rules_evaluate_duration_seconds_bucket"));
    assert!(metrics.contains("payer_rules_batch_commit_duration_seconds_bucket"));
    assert!(metrics.contains("payer_rules_engine_queue_depth"));
    // The revision loaded at start is the active one.
    assert!(
        metrics.contains(&format!(
            "payer_rules_policy_info{{revision=\"{revision}\"}} 1\n"
        )),
        "{metrics}"
    );
    assert!(!metrics.contains("EXP-M") && !metrics.contains("CF-1") && !metrics.contains("MC-0"));
    assert_eq!(
        get(&s.url("/nope"), None).json()["error"]["kind"],
        "not_found"
    );
    // Every error is JSON: a bad query, a wrong method.
    let q = post(&s.url("/v1/claims/evaluate?explain=maybe"), &claim, None);
    assert_eq!(q.status, 400);
    assert_eq!(q.json()["error"]["path"], "query");
    let m = get(&s.url("/v1/claims/evaluate"), None);
    assert_eq!(m.status, 405);
    assert_eq!(m.json()["error"]["kind"], "method_not_allowed");
    // The playground page.
    let page = get(&s.url("/playground"), None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("medicare-tpi") && !page.body.contains("https://"));
    // The API description, snapshotted.
    let api = get(&s.url("/v1/openapi.json"), None).json();
    insta::assert_json_snapshot!("openapi", api);
}

#[test]
fn batch_is_byte_identical_to_eval() {
    let claims = std::fs::read_to_string(root("examples/claims.jsonl")).unwrap();
    let eval = run(&["eval", "-q", "examples/claims.jsonl"]);
    assert!(eval.status.success());
    let s = Server::start(&["--no-watch"]);
    let r = post(&s.url("/v1/claims/batch"), &claims, None);
    assert_eq!(r.status, 200);
    assert!(r.revision.is_some());
    assert_eq!(r.body, text(&eval.stdout));
    // The same with SQLite on both sides (each its own fresh file).
    let dir = scratch("batch");
    let db_eval = dir.join("eval.db");
    let eval_db = run(&[
        "eval",
        "-q",
        "--db",
        db_eval.to_str().unwrap(),
        "examples/claims.jsonl",
    ]);
    let db = dir.join("serve.db");
    let s = Server::start(&["--no-watch", "--db", db.to_str().unwrap()]);
    let r = post(&s.url("/v1/claims/batch"), &claims, None);
    assert_eq!(r.body, text(&eval_db.stdout));
    // Records are numbered as eval numbers them: a JSON Lines record by its
    // line, blank lines counted (the engine's no_policy names it too).
    let gaps = format!(
        "{}\n\n{}\n",
        session("GAP-1", "GAP-M"),
        session("GAP-2", "GAP-N").replace("\"medicare\"", "\"nobody\"")
    );
    let eval = common::run_stdin(&["eval", "-q"], &gaps);
    assert!(text(&eval.stdout).contains("\"record\":3"));
    let s = Server::start(&["--no-watch"]);
    assert_eq!(
        post(&s.url("/v1/claims/batch"), &gaps, None).body,
        text(&eval.stdout)
    );
    // Past the claims limit: 413.
    let s = Server::start(&["--no-watch", "--max-batch-claims", "10"]);
    let r = post(&s.url("/v1/claims/batch"), &claims, None);
    assert_eq!(r.status, 413);
}

/// An 837P body is read as `eval` reads it: X12 payer ids (2010BB NM109)
/// name policy payers through `--payer-ids`, so the batch decides what
/// `eval --payer-ids` decides (without the ids every claim is `no_policy`).
#[test]
fn an_837p_batch_is_decided_as_eval_decides_it() {
    let eval = run(&[
        "eval",
        "-q",
        "--payer-ids",
        "examples/payer-ids.txt",
        "examples/claims.837p",
    ]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let expected = text(&eval.stdout);
    let decided = expected
        .lines()
        .filter(|l| l.contains("\"decision\""))
        .count();
    assert!(
        decided >= 3,
        "eval decides the example's claims: {expected}"
    );
    let x12 = std::fs::read_to_string(root("examples/claims.837p")).unwrap();
    let s = Server::start(&["--no-watch", "--payer-ids", "examples/payer-ids.txt"]);
    let r = post(&s.url("/v1/claims/batch"), &x12, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, expected);
    // One claim per request: an interchange of several is refused.
    let several = post(&s.url("/v1/claims/evaluate"), &x12, None);
    assert_eq!(several.status, 400, "{}", several.body);
    // A payer-ids file that cannot be read stops the start (exit 2).
    let out = run(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--payer-ids",
        "no-such-file",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// The payer ids a policy declares (`payer-ids`) are the active set's: an
/// 837P naming an id no policy declares is `no_policy` until a reload brings
/// a policy that declares it, then decided as `eval` decides it.
#[test]
fn payer_ids_declared_by_the_policies_follow_a_reload() {
    let (policies, s) = server_on_a_copy("payer-ids", "0");
    let p = policies.to_str().unwrap();
    let x12 = std::fs::read_to_string(root("tests/data/x12/unmapped-payer.837")).unwrap();
    let before = post(&s.url("/v1/claims/evaluate"), &x12, None);
    assert_eq!(before.status, 422, "{}", before.body);
    assert_eq!(before.json()["error"]["kind"], "no_policy");
    assert!(before.body.contains("77777"), "{}", before.body);
    let file = policies.join("medicare-tpi.policy");
    let original = std::fs::read_to_string(&file).unwrap();
    assert!(original.contains("\n  payer medicare\n"));
    std::fs::write(
        &file,
        original.replace(
            "\n  payer medicare\n",
            "\n  payer medicare\n  payer-ids \"77777\"\n",
        ),
    )
    .unwrap();
    let reload = post(&s.url("/v1/reload"), "", None);
    assert_eq!(reload.status, 200, "{}", reload.body);
    let eval = run(&["eval", "-q", "-p", p, "tests/data/x12/unmapped-payer.837"]);
    let expected = text(&eval.stdout);
    assert!(expected.contains("\"payer\":\"medicare\""), "{expected}");
    let after = post(&s.url("/v1/claims/evaluate"), &x12, None);
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.revision.as_deref(), reload.json()["active"].as_str());
    assert_eq!(format!("{}\n", after.body), expected);
    // The batch endpoint reads it the same way (the stored decision, sent again).
    let batch = post(&s.url("/v1/claims/batch"), &x12, None);
    assert_eq!(batch.body, expected);
}

#[test]
fn eval_and_serve_take_turns_on_one_file() {
    let dir = scratch("turns");
    let db = dir.join("h.db");
    let db = db.to_str().unwrap();
    let s = Server::start(&["--no-watch", "--db", db, "--history-api"]);
    let r = post(
        &s.url("/v1/claims/evaluate"),
        &session("TURN-1", "TURN-M"),
        None,
    );
    assert_eq!(r.json()["decision"], "allow");
    // A retry is answered from the store and counted once.
    let again = post(
        &s.url("/v1/claims/evaluate"),
        &session("TURN-1", "TURN-M"),
        None,
    );
    assert_eq!(again.body, r.body);
    let history = get(&s.url("/v1/members/medicare/TURN-M/history"), None).json();
    let rows = history["rows"].as_array().unwrap();
    assert_eq!(
        rows.iter().filter(|r| r.get("procedure").is_some()).count(),
        2,
        "two lines counted once: {rows:?}"
    );
    assert_eq!(rows.iter().filter(|r| r.get("seq").is_some()).count(), 1);
    assert_eq!(s.terminate().code(), Some(0));
    // eval --db on the same file sees the session.
    let input = dir.join("second.jsonl");
    std::fs::write(&input, session("TURN-2", "TURN-M")).unwrap();
    let out = run(&["eval", "-q", "--db", db, input.to_str().unwrap()]);
    assert!(text(&out.stdout).contains("M3"), "{}", text(&out.stdout));
    // And the service, again, sees eval's claim.
    let s = Server::start(&["--no-watch", "--db", db]);
    let r = post(
        &s.url("/v1/claims/evaluate"),
        &session("TURN-2", "TURN-M"),
        None,
    );
    assert_eq!(r.body.trim(), text(&out.stdout).trim());
}

#[test]
fn concurrent_clients_on_one_member_never_exceed_the_limit() {
    let dir = scratch("concurrent");
    let db = dir.join("h.db");
    let s = Arc::new(Server::start(&["--no-watch", "--db", db.to_str().unwrap()]));
    let allowed = Arc::new(Mutex::new(0));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            let allowed = allowed.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    let r = post(
                        &s.url("/v1/claims/evaluate"),
                        &session(&format!("C-{t}-{i}"), "ONE-MEMBER"),
                        None,
                    );
                    assert_eq!(r.status, 200, "{}", r.body);
                    if r.json()["lines"][0]["decision"] == "allow" {
                        *allowed.lock().unwrap() += 1;
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // One TPI session per day (Medicare M3): exactly one of 40 is allowed.
    assert_eq!(*allowed.lock().unwrap(), 1);
}

#[test]
fn reload_good_broken_fixed() {
    let dir = scratch("reload");
    let policies = dir.join("policies");
    copy_policies(&policies);
    let p = policies.to_str().unwrap();
    let s = Server::start(&["--policies", p, "--history-api"]);
    let url = |path: &str| s.url(path);
    let first = post(&url("/v1/claims/evaluate"), &session("R-1", "R-M1"), None);
    let rev1 = first.revision.clone().unwrap();
    // A good change: a new revision.
    let file = policies.join("medicare-tpi.policy");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{original}\n// a comment\n")).unwrap();
    let r = post(&url("/v1/reload"), "", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let rev2 = r.json()["active"].as_str().unwrap().to_string();
    assert_ne!(rev1, rev2);
    let d = post(&url("/v1/claims/evaluate"), &session("R-2", "R-M2"), None);
    assert_eq!(d.revision.as_deref(), Some(rev2.as_str()));
    // The gauge follows: the new revision is 1, the one before 0.
    let metrics = get(&url("/metrics"), None).body;
    assert!(
        metrics.contains(&format!(
            "payer_rules_policy_info{{revision=\"{rev2}\"}} 1\n"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "payer_rules_policy_info{{revision=\"{rev1}\"}} 0\n"
        )),
        "{metrics}"
    );
    // A broken change: 422, the old set keeps answering, status and metrics say so.
    std::fs::write(&file, format!("{original}\nrule {{ broken\n")).unwrap();
    let r = post(&url("/v1/reload"), "", None);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["active"], rev2.as_str());
    let d = post(&url("/v1/claims/evaluate"), &session("R-3", "R-M3"), None);
    assert_eq!(d.status, 200);
    assert_eq!(d.revision.as_deref(), Some(rev2.as_str()));
    let status = get(&url("/v1/status"), None).json();
    assert_eq!(status["last_reload"]["result"], "failure");
    assert!(!status["last_reload"]["diagnostics"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(get(&url("/metrics"), None)
        .body
        .contains("payer_rules_policy_reloads_total{result=\"failure\"}"));
    // Fixed, picked up by the directory watcher (no request).
    std::fs::write(&file, &original).unwrap();
    status_when(&s, "the watcher did not reload", 20, 100, |status| {
        status["revision"] == rev1.as_str()
    });
    // SIGHUP reloads too (same files: unchanged).
    let pid = s.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    let d = post(&url("/v1/claims/evaluate"), &session("R-4", "R-M4"), None);
    assert_eq!(d.revision.as_deref(), Some(rev1.as_str()));
}

/// SIGHUP alone reloads: no watcher, no poll, a changed policy file, and the
/// revision moves only once the signal is sent.
#[test]
fn sighup_reloads_a_changed_policy() {
    let (policies, s) = server_on_a_copy("sighup", "0");
    let before = get(&s.url("/v1/status"), None).json()["revision"].clone();
    let file = policies.join("medicare-tpi.policy");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{original}\n// changed, then SIGHUP\n")).unwrap();
    // Nothing else reloads: the change is not seen without the signal.
    std::thread::sleep(Duration::from_millis(300));
    let status = get(&s.url("/v1/status"), None).json();
    assert_eq!(status["revision"], before, "{status}");
    assert!(status["last_reload"].is_null(), "{status}");
    std::process::Command::new("kill")
        .args(["-HUP", &s.child.id().to_string()])
        .status()
        .unwrap();
    let status = status_when(&s, "SIGHUP did not reload", 20, 50, |status| {
        status["revision"] != before
    });
    assert_eq!(status["last_reload"]["result"], "success", "{status}");
    assert_eq!(status["last_reload"]["revision"], status["revision"]);
    // Decisions name the new revision; the process lives on.
    let d = post(
        &s.url("/v1/claims/evaluate"),
        &session("HUP-1", "HUP-M"),
        None,
    );
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.revision.as_deref(), status["revision"].as_str());
}

/// The version of `medicare-tpi` a Medicare decision names: in `policies` when
/// several Medicare policies applied (the bundled set has more than one), else
/// the decision's own `policy_version`.
fn tpi_version(d: &serde_json::Value) -> String {
    d["policies"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == "medicare-tpi"))
        .map(|p| p["version"].to_string())
        .unwrap_or_else(|| d["policy_version"].to_string())
}

/// A request is decided under the policies it started with: a batch of three
/// chunks is in flight (its first chunk waits for the SQLite write lock
/// another connection holds, the others wait in the queue) when a reload
/// swaps in a new policy version; released, every decision of the batch has
/// the old version and the old revision, and the next request the new one.
/// The lock orders the steps: no timing decides the outcome.
#[test]
fn a_batch_in_flight_finishes_under_the_policies_it_started_with() {
    let dir = scratch("in-flight");
    let policies = dir.join("policies");
    copy_policies(&policies);
    let db = dir.join("h.db");
    let s = Server::start(&[
        "--policies",
        policies.to_str().unwrap(),
        "--no-watch",
        "--poll",
        "0",
        "--db",
        db.to_str().unwrap(),
        "--group",
        "512",
    ]);
    let first = post(
        &s.url("/v1/claims/evaluate"),
        &session("IF-0", "IF-M0"),
        None,
    );
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(tpi_version(&first.json()), "\"2024.1\"");
    let old = first.revision.clone().unwrap();
    // Another process holds the write lock: the decider waits on it.
    let lock = rusqlite::Connection::open(&db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let claims = 1200;
    let batch: String = (1..=claims)
        .map(|i| format!("{}\n", session(&format!("IF-{i}"), &format!("IF-M{i}"))))
        .collect();
    let url = s.url("/v1/claims/batch");
    let sender = std::thread::spawn(move || post(&url, &batch, None));
    // The batch has started: chunks wait behind the one the decider holds.
    status_when(&s, "the batch did not queue", 30, 20, |status| {
        status["queue_depth"].as_u64().unwrap() >= 1
    });
    // A reload swaps a new version in while the batch waits.
    let file = policies.join("medicare-tpi.policy");
    let original = std::fs::read_to_string(&file).unwrap();
    assert!(original.contains("version \"2024.1\""));
    std::fs::write(
        &file,
        original.replace("version \"2024.1\"", "version \"2024.1-reloaded\""),
    )
    .unwrap();
    let reload = post(&s.url("/v1/reload"), "", None);
    assert_eq!(reload.status, 200, "{}", reload.body);
    let new = reload.json()["active"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    lock.execute_batch("ROLLBACK").unwrap();
    let r = sender.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.revision.as_deref(), Some(old.as_str()));
    let versions: Vec<String> = r
        .body
        .lines()
        .map(|l| tpi_version(&serde_json::from_str::<serde_json::Value>(l).unwrap()))
        .collect();
    assert_eq!(versions.len(), claims);
    assert!(
        versions.iter().all(|v| v == "\"2024.1\""),
        "a decision of the batch under the reloaded set: {:?}",
        versions.iter().filter(|v| *v != "\"2024.1\"").count()
    );
    // The next request is decided under the new set.
    let after = post(
        &s.url("/v1/claims/evaluate"),
        &session("IF-NEW", "IF-MNEW"),
        None,
    );
    assert_eq!(after.revision.as_deref(), Some(new.as_str()));
    assert_eq!(tpi_version(&after.json()), "\"2024.1-reloaded\"");
}

#[test]
fn sigterm_with_requests_in_flight_loses_none() {
    let dir = scratch("sigterm");
    let db = dir.join("h.db");
    let db = db.to_str().unwrap().to_string();
    let s = Server::start(&["--no-watch", "--db", &db]);
    let url = s.url("/v1/claims/evaluate");
    let answered = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let url = url.clone();
            let answered = answered.clone();
            std::thread::spawn(move || {
                for i in 0..400 {
                    let claim = session(&format!("S-{t}-{i}"), &format!("SM-{t}-{i}"));
                    match agent().post(&url).send(&claim) {
                        Ok(mut r) => {
                            let status = r.status().as_u16();
                            let body = r.body_mut().read_to_string().unwrap_or_default();
                            // Either answered in full after its commit, or
                            // refused as the service drains.
                            assert!(status == 200 || status == 503, "{status} {body}");
                            if status == 200 {
                                answered.lock().unwrap().push((claim, body));
                            }
                        }
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(s.terminate().code(), Some(0));
    for t in threads {
        t.join().unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(!answered.is_empty());
    // Every answered claim is in the file: sent again, each gets its stored
    // decision (and its session counts once).
    let s = Server::start(&["--no-watch", "--db", &db]);
    let all: String = answered.iter().map(|(c, _)| format!("{c}\n")).collect();
    let expected: String = answered.iter().map(|(_, b)| format!("{b}\n")).collect();
    let r = post(&s.url("/v1/claims/batch"), &all, None);
    assert_eq!(r.body, expected);
}

/// A request whose answer does not come within `--request-timeout` (the
/// store is locked by another process) gets 503 `timeout` with
/// `Retry-After`; once the lock is gone the same claim is decided.
#[test]
fn a_request_past_its_time_limit_is_503_timeout() {
    let dir = scratch("timeout");
    let db = dir.join("h.db");
    let s = Server::start(&[
        "--no-watch",
        "--db",
        db.to_str().unwrap(),
        "--request-timeout",
        "1",
    ]);
    let first = post(
        &s.url("/v1/claims/evaluate"),
        &session("TO-0", "TO-M0"),
        None,
    );
    assert_eq!(first.status, 200, "{}", first.body);
    let lock = rusqlite::Connection::open(&db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let late = post(
        &s.url("/v1/claims/evaluate"),
        &session("TO-1", "TO-M1"),
        None,
    );
    assert_eq!(late.status, 503, "{}", late.body);
    assert_eq!(late.json()["error"]["kind"], "timeout");
    assert!(late.retry_after.is_some());
    lock.execute_batch("COMMIT").unwrap();
    drop(lock);
    let again = post(
        &s.url("/v1/claims/evaluate"),
        &session("TO-1", "TO-M1"),
        None,
    );
    assert_eq!(again.status, 200, "{}", again.body);
}

/// With `--drain-delay`, SIGTERM makes `/health/ready` answer 503 while the
/// service still answers requests; after the delay it stops and exits 0.
#[test]
fn ready_is_503_while_draining_and_requests_are_still_answered() {
    let s = Server::start(&["--no-watch", "--drain-delay", "3"]);
    assert_eq!(get(&s.url("/health/ready"), None).status, 200);
    let pid = s.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    let mut unready = None;
    while started.elapsed() < Duration::from_secs(2) {
        let r = get(&s.url("/health/ready"), None);
        if r.status == 503 {
            unready = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let unready = unready.unwrap_or_else(|| panic!("/health/ready never answered 503"));
    assert!(unready.body.contains("shutting down"), "{}", unready.body);
    // Still accepted and decided while draining.
    let r = post(
        &s.url("/v1/claims/evaluate"),
        &session("DRAIN-1", "DM-1"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(get(&s.url("/health/live"), None).status == 200);
    let mut s = s;
    assert_eq!(s.child.wait().unwrap().code(), Some(0));
}

#[test]
fn tokens_are_required_before_any_handler() {
    let dir = scratch("auth");
    let api = dir.join("api");
    let admin = dir.join("admin");
    std::fs::write(&api, "# api\napi-token\n").unwrap();
    std::fs::write(&admin, "admin-token\n").unwrap();
    let s = Server::start(&[
        "--no-watch",
        "--token-file",
        api.to_str().unwrap(),
        "--admin-token-file",
        admin.to_str().unwrap(),
        "--history-api",
    ]);
    let claim = session("A-1", "A-M");
    let r = post(&s.url("/v1/claims/evaluate"), &claim, None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["kind"], "unauthorized");
    assert_eq!(
        post(&s.url("/v1/claims/evaluate"), &claim, Some("wrong")).status,
        401
    );
    // 401 comes first: an invalid claim is not even read.
    assert_eq!(post(&s.url("/v1/claims/evaluate"), "{}", None).status, 401);
    assert_eq!(
        post(&s.url("/v1/claims/evaluate"), &claim, Some("api-token")).status,
        200
    );
    assert_eq!(get(&s.url("/metrics"), None).status, 401);
    assert_eq!(
        post(&s.url("/v1/reload"), "", Some("api-token")).status,
        401
    );
    assert_eq!(
        get(
            &s.url("/v1/members/medicare/A-M/history"),
            Some("api-token")
        )
        .status,
        401
    );
    assert_eq!(
        post(&s.url("/v1/reload"), "", Some("admin-token")).status,
        200
    );
    assert_eq!(
        post(&s.url("/v1/claims/evaluate"), &claim, Some("admin-token")).status,
        200
    );
    assert_eq!(get(&s.url("/health/ready"), None).status, 200);
    // Beyond loopback without tokens the service refuses to start.
    let out = run(&["serve", "--addr", "0.0.0.0:0", "--no-watch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a loopback address"));
}

#[test]
fn overload_is_503_with_retry_after() {
    let dir = scratch("overload");
    let db = dir.join("h.db");
    let s = Arc::new(Server::start(&[
        "--no-watch",
        "--queue",
        "1",
        "--group",
        "1",
        "--db",
        db.to_str().unwrap(),
    ]));
    let saw = Arc::new(Mutex::new(None::<(u16, Option<String>, String)>));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            let saw = saw.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let r = post(
                        &s.url("/v1/claims/evaluate"),
                        &session(&format!("O-{t}-{i}"), &format!("OM-{t}-{i}")),
                        None,
                    );
                    if r.status == 503 {
                        *saw.lock().unwrap() =
                            Some((r.status, r.retry_after.clone(), r.body.clone()));
                        return;
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (status, retry, body) = saw.lock().unwrap().clone().expect("a full queue gives 503");
    assert_eq!(status, 503);
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(body.contains("\"overloaded\""));
}

/// The playground in headless Chromium: the page checks the policy as it
/// loads and evaluates the example claim (`?autorun`); the DOM shows the
/// decision table and the diagnostics. Skipped when Chromium is missing.
#[test]
fn playground_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        // CI installs Chromium (`.ci/run`): there the page must be tested.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the playground in Chromium"
        );
        eprintln!("no /usr/bin/chromium: skipped");
        return;
    }
    let s = Server::start(&["--no-watch"]);
    let page = s.url("/playground?autorun=1");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=5000",
    ];
    let profile = scratch("chromium");
    let dom = std::process::Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    let dom = text(&dom.stdout);
    assert!(dom.contains("data-testid=\"decision\">allow<"), "{dom}");
    assert!(dom.contains("data-testid=\"line-1\""), "{dom}");
    assert!(dom.contains("no diagnostics"), "{dom}");
    // The page's own check: evaluate, then a broken policy typed in gets its
    // diagnostic from /v1/check.
    let selftest = std::process::Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(s.url("/playground?selftest=1"))
        .output()
        .unwrap();
    let dom = text(&selftest.stdout);
    assert!(
        dom.contains("selftest ok: decision=allow rows=2 diagnostic=PR"),
        "{dom}"
    );
}

/// The playground as a user drives it: `node --test tests/browser/` runs
/// playwright-core (npm, `tests/browser/package-lock.json`) against Debian's
/// Chromium and this build's binary: both editors filled, Evaluate clicked,
/// the decision and a denied line's rule, CARC and `at` link compared with
/// `eval`, a syntax error typed and its diagnostic awaited, screenshots kept
/// under `target/browser/`. Skipped when node, Chromium or the npm package
/// is missing, unless CI is set (`.ci/run` installs them).
#[test]
fn the_playground_in_chromium_with_playwright() {
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = if !node {
        Some("no node on PATH".to_string())
    } else if !root("tests/browser/node_modules/playwright-core").is_dir() {
        Some("no tests/browser/node_modules (npm ci --prefix tests/browser)".to_string())
    } else if !chromium.exists() {
        Some(format!("no Chromium at {}", chromium.display()))
    } else {
        None
    };
    if let Some(why) = missing {
        // CI installs node, npm's playwright-core and Chromium (`.ci/run`).
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: {why}"
        );
        eprintln!("{why}: skipped");
        return;
    }
    let shots = root("target/browser");
    let names = ["playground-decision.png", "playground-diagnostic.png"];
    for name in names {
        let _ = std::fs::remove_file(shots.join(name));
    }
    let out = std::process::Command::new("node")
        .args(["--test", "tests/browser/"])
        .current_dir(common::ROOT)
        .env("PAYER_RULES_BIN", env!("CARGO_BIN_EXE_payer-rules"))
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOT_DIR", &shots)
        .output()
        .unwrap();
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{report}");
    // Ran, not skipped: node's summary.
    assert!(
        report.contains("# pass 1")
            && report.contains("# fail 0")
            && report.contains("# skipped 0"),
        "{report}"
    );
    for name in names {
        let size = std::fs::metadata(shots.join(name)).map_or(0, |m| m.len());
        assert!(size > 0, "no screenshot {name}: {report}");
    }
}

#[test]
fn the_poll_catches_what_no_watcher_saw() {
    let (policies, s) = server_on_a_copy("poll", "1");
    let before = get(&s.url("/v1/status"), None).json()["revision"].clone();
    let file = policies.join("aetna-tpi.policy");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\n// polled\n")).unwrap();
    let status = status_when(&s, "the poll did not reload", 20, 100, |status| {
        status["revision"] != before
    });
    assert_eq!(status["last_reload"]["result"], "success");
}

#[test]
fn the_decision_log_holds_ids_decisions_and_rules_only() {
    let mut child = bin()
        .arg("serve")
        .args(["--addr", "127.0.0.1:0", "--decision-log", "--no-watch"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let out = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let claim = session("LOG-1", "MEMBER-SECRET-42");
    let r = post(&format!("{url}/v1/claims/evaluate"), &claim, None);
    assert_eq!(r.status, 200, "{}", r.body);
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let log = text(&out.stderr);
    let entry = log
        .lines()
        .find(|l| l.contains("\"target\":\"decision\""))
        .unwrap_or_else(|| panic!("no decision event in {log}"));
    assert!(entry.contains("\"claim\":\"LOG-1\""), "{entry}");
    assert!(entry.contains("\"payer\":\"medicare\""), "{entry}");
    assert!(entry.contains("\"decision\":\"allow\""), "{entry}");
    assert!(entry.contains("\"revision\""), "{entry}");
    assert!(
        !log.contains("MEMBER-SECRET-42"),
        "a member id reached the log: {log}"
    );
}

/// Three `serve` processes on one PostgreSQL history, eight clients each
/// sending one member's sessions to all three: the members' locks keep the
/// limit across processes (issue 21).
#[test]
fn three_serve_processes_on_one_postgres_never_exceed_the_limit() {
    let Some(db) = pg_cluster::database("serve_three") else {
        return;
    };
    let servers: Vec<Arc<Server>> = (0..3)
        .map(|_| Arc::new(Server::start(&["--no-watch", "--db", &db, "--history-api"])))
        .collect();
    let allowed = Arc::new(Mutex::new(0));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let servers = servers.clone();
            let allowed = allowed.clone();
            std::thread::spawn(move || {
                for i in 0..6 {
                    let s = &servers[(t + i) % servers.len()];
                    let r = post(
                        &s.url("/v1/claims/evaluate"),
                        &session(&format!("C-{t}-{i}"), "ONE-MEMBER"),
                        None,
                    );
                    assert_eq!(r.status, 200, "{}", r.body);
                    if r.json()["lines"][0]["decision"] == "allow" {
                        *allowed.lock().unwrap() += 1;
                    }
                    // The same claim sent to another process: the ledger's
                    // answer, not a second session.
                    let other = &servers[(t + i + 1) % servers.len()];
                    let again = post(
                        &other.url("/v1/claims/evaluate"),
                        &session(&format!("C-{t}-{i}"), "ONE-MEMBER"),
                        None,
                    );
                    assert_eq!(again.status, 200, "{}", again.body);
                    assert_eq!(again.json(), r.json());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // One TPI session per day (Medicare M3): exactly one of 48 is allowed.
    assert_eq!(*allowed.lock().unwrap(), 1);
    let h = get(
        &servers[0].url("/v1/members/medicare/ONE-MEMBER/history"),
        None,
    );
    assert_eq!(h.status, 200, "{}", h.body);
    let rows = h.json()["rows"].as_array().unwrap().clone();
    let claims = rows.iter().filter(|r| r.get("seq").is_some()).count();
    assert_eq!(claims, 48, "{}", h.body);
}

/// The database ends the service's connection (as a restart does): the
/// requests of that moment get 503 with `Retry-After`, and the service
/// connects again without a restart.
#[test]
fn postgres_going_away_is_503_and_the_service_recovers() {
    let Some(db) = pg_cluster::database("serve_503") else {
        return;
    };
    let cluster = pg_cluster::cluster().unwrap();
    let name = db.rsplit('/').next().unwrap().split('?').next().unwrap();
    let s = Server::start(&["--no-watch", "--db", &db]);
    let first = post(
        &s.url("/v1/claims/evaluate"),
        &session("G-1", "M-503"),
        None,
    );
    assert_eq!(first.status, 200, "{}", first.body);
    cluster
        .psql(
            "postgres",
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut unavailable = 0;
    let answered = loop {
        let r = post(
            &s.url("/v1/claims/evaluate"),
            &session("G-2", "M-503"),
            None,
        );
        if r.status == 200 {
            break r;
        }
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(r.retry_after.is_some(), "{}", r.body);
        assert_eq!(r.json()["error"]["kind"], "store_failed", "{}", r.body);
        unavailable += 1;
        assert!(unavailable < 3, "no recovery: {}", r.body);
    };
    // The first session of the day still counts: the second is over the limit.
    assert_ne!(
        answered.json()["lines"][0]["decision"],
        "allow",
        "{}",
        answered.body
    );
    eprintln!("503 answers before the service reconnected: {unavailable}");
}

/// The PostgreSQL server restarts under load: clients keep sending claims
/// while a private cluster (the shared one serves other tests) is stopped at
/// once (a crash, as clients see it) and started again. Requests of the
/// outage get 503 `store_failed` with `Retry-After`; the same `serve`
/// process answers 200 again once the server is back; every claim retried
/// until answered is stored once: each member's history holds each of its
/// claims once and its one session of the day was allowed once.
#[test]
fn postgres_restarting_under_load_is_503_then_200_from_the_same_process() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let Some(cluster) = pg_cluster::private() else {
        return;
    };
    cluster.psql("postgres", "CREATE DATABASE restart").unwrap();
    let db = cluster.url("restart");
    let s = Arc::new(Server::start(&["--no-watch", "--db", &db, "--history-api"]));
    const CLIENTS: usize = 4;
    let done = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let (s, done) = (s.clone(), done.clone());
            let (answered, unavailable) = (answered.clone(), unavailable.clone());
            std::thread::spawn(move || {
                let member = format!("M-RESTART-{t}");
                let mut sent = 0;
                let mut allowed = 0;
                while !done.load(Ordering::SeqCst) {
                    let claim = session(&format!("R-{t}-{sent}"), &member);
                    let deadline = Instant::now() + Duration::from_secs(60);
                    // At-least-once: a claim is sent again until answered.
                    let r = loop {
                        let r = post(&s.url("/v1/claims/evaluate"), &claim, None);
                        if r.status == 200 {
                            break r;
                        }
                        assert_eq!(r.status, 503, "{}", r.body);
                        assert!(r.retry_after.is_some(), "{}", r.body);
                        assert_eq!(r.json()["error"]["kind"], "store_failed", "{}", r.body);
                        unavailable.fetch_add(1, Ordering::SeqCst);
                        assert!(Instant::now() < deadline, "no recovery: {}", r.body);
                        std::thread::sleep(Duration::from_millis(50));
                    };
                    if r.json()["lines"][0]["decision"] == "allow" {
                        allowed += 1;
                    }
                    sent += 1;
                    answered.fetch_add(1, Ordering::SeqCst);
                }
                (member, sent, allowed)
            })
        })
        .collect();
    let wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while answered.load(Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "the clients stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for(20);
    cluster.stop().unwrap();
    let at_stop = answered.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1500));
    let during = unavailable.load(Ordering::SeqCst);
    cluster.restart().unwrap();
    // Answers after the restart, from the same process.
    wait_for(at_stop + 40);
    done.store(true, Ordering::SeqCst);
    let results: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(during > 0, "no request saw the outage");
    let mut s = Arc::try_unwrap(s).unwrap_or_else(|_| panic!("a client holds the server"));
    assert!(
        s.child.try_wait().unwrap().is_none(),
        "the service exited: recovered only by a restart"
    );
    for (member, sent, allowed) in &results {
        // One TPI session per day (Medicare M3): the first claim only.
        assert_eq!(*allowed, 1, "{member}: sessions allowed");
        let h = get(
            &s.url(&format!("/v1/members/medicare/{member}/history")),
            None,
        );
        assert_eq!(h.status, 200, "{}", h.body);
        let rows = h.json()["rows"].as_array().unwrap().clone();
        let ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.get("seq").is_some())
            .filter_map(|r| r["claim"].as_str())
            .collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{member}: a claim stored twice");
        assert_eq!(ids.len(), *sent, "{member}: claims stored vs answered");
    }
    eprintln!(
        "503 answers during the outage: {}, claims answered: {}",
        unavailable.load(Ordering::SeqCst),
        answered.load(Ordering::SeqCst)
    );
    assert_eq!(s.terminate().code(), Some(0));
}
