//! What the integration tests share: running the built binary and reading its
//! output. Each test file uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root (the core crate's directory), where `policies/`,
/// `examples/` and `tests/data/` are: these tests belong to the CLI crate
/// (`crates/cli`), which is two levels below it.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A path below the repository's root.
pub fn root(path: &str) -> PathBuf {
    Path::new(ROOT).join(path)
}

/// The built `payer-rules`, run from the repository's root.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payer-rules"));
    cmd.current_dir(ROOT);
    cmd
}

/// Runs `payer-rules ARGS` to the end.
pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run payer-rules: {e}"))
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Standard output as JSON Lines.
pub fn lines_json(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// A fresh, empty directory for one test of one test file (`suite`).
pub fn temp_dir(suite: &str, test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("payer-rules-{suite}-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// Runs `payer-rules ARGS` with `input` on its stdin. The binary may stop
/// reading early (a refused input): a failed write is not an error here.
pub fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run payer-rules: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = std::io::Write::write_all(&mut stdin, input.as_bytes());
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"))
}

/// A clean Medicare TPI claim: covered diagnosis, the drug on the claim.
pub fn tpi(id: &str, patient: &str, date: &str, site: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","payer":"medicare","patient":{{"id":"{patient}","birth_date":"1950-01-01"}},"diagnoses":["M79.18"],"facts":{{"relief_percent":80,"relief_weeks":10}},"lines":[{{"line":1,"date_of_service":"{date}","procedure":"20552","site":"{site}"}},{{"line":2,"date_of_service":"{date}","procedure":"J3301"}}]{extra}}}"#
    )
}

pub fn date(day: usize) -> String {
    let d = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i64::try_from(day).unwrap_or(0));
    d.format("%Y-%m-%d").to_string()
}

/// `n` Medicare claims over `patients` members, dates rising, with
/// resubmissions, replacements and voids of earlier claims mixed in.
/// Shared by `history_db.rs`, `history_pg.rs` and `scale_sim.rs`.
pub fn stream(n: usize, patients: usize, seed: u64, prefix: &str) -> Vec<String> {
    let mut rng = seed;
    let mut next = move |m: usize| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((rng >> 33) as usize) % m.max(1)
    };
    let sites = ["cervical", "lumbar", "thoracic", "scapular"];
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut made: Vec<(String, String, String, String)> = Vec::new();
    for i in 0..n {
        let day = 1 + (i * 600 / n.max(1)) + next(3);
        let date = date(day);
        let roll = next(100);
        if roll < 3 && !made.is_empty() {
            let (id, p, d, site) = made.get(next(made.len())).cloned().unwrap_or_default();
            out.push(tpi(&id, &p, &d, &site, ""));
            continue;
        }
        if roll < 5 && !made.is_empty() {
            let (id, p, _, site) = made.get(next(made.len())).cloned().unwrap_or_default();
            out.push(tpi(&id, &p, &date, &site, r#","frequency_code":"7""#));
            continue;
        }
        if roll < 6 && !made.is_empty() {
            let (id, p, d, site) = made.get(next(made.len())).cloned().unwrap_or_default();
            let extra = format!(r#","frequency_code":"8","replaces":"{id}""#);
            out.push(tpi(&format!("{prefix}V{i}"), &p, &d, &site, &extra));
            continue;
        }
        let id = format!("{prefix}{i:06}");
        let patient = format!("P{:05}", next(patients));
        let site = sites
            .get(next(sites.len()))
            .copied()
            .unwrap_or("lumbar")
            .to_string();
        out.push(tpi(&id, &patient, &date, &site, ""));
        made.push((id, patient, date, site));
    }
    out
}
