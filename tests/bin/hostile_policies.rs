//! Policies written by a hostile or careless author (issue 23): imports that
//! reach outside the policy tree, paths spelled several ways, files that are
//! not regular files, and set expressions built to exhaust the stack.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::text;

fn temp_dir(test: &str) -> PathBuf {
    common::temp_dir("hostile", test)
}

fn write(path: &Path, content: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// Runs the binary in `dir` with `stdin`, killing it after 60 s (a hang fails
/// the test instead of stalling the suite).
fn run_in(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    use std::io::Write as _;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payer-rules"));
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run payer-rules: {e}"));
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    // Output is read while the child runs (a full pipe must not stall it);
    // a child still running after 60 s is killed and the test fails.
    let pid = child.id();
    let (send, recv) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    match recv.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.unwrap_or_else(|e| panic!("payer-rules {args:?}: {e}")),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("payer-rules {args:?} did not finish within 60 s");
        }
    }
}

fn all_text(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

const HEADER: &str = "  payer tp\n  version \"1\"\n  effective 2024-01-01..\n  source \"x\"\n";

fn policy(imports: &str, id: &str, body: &str) -> String {
    format!("{imports}policy {id} \"t\" {{\n{HEADER}{body}}}\n")
}

const SECRET: &str = "topsecret123";

#[test]
fn an_import_of_proc_self_environ_never_prints_the_environment() {
    let dir = temp_dir("environ");
    write(
        &dir.join("p/env.policy"),
        &policy("import \"/proc/self/environ\"\n", "t", ""),
    );
    let env = [("MY_CI_SECRET", SECRET)];
    for format in ["human", "json", "github", "sarif"] {
        let out = run_in(&dir, &["check", "--format", format, "p"], "", &env);
        let all = all_text(&out);
        assert!(!all.contains(SECRET), "{format}: {all}");
        assert!(!all.contains("MY_CI_SECRET"), "{format}: {all}");
        assert!(all.contains("PR006"), "{format}: {all}");
        assert_eq!(out.status.code(), Some(1), "{format}: {all}");
    }
    for args in [
        &["eval", "-p", "p", "-"][..],
        &["explain", "-p", "p", "R1"][..],
    ] {
        let out = run_in(&dir, args, "", &env);
        let all = all_text(&out);
        assert!(!all.contains(SECRET), "{args:?}: {all}");
        assert!(all.contains("PR006"), "{args:?}: {all}");
    }
}

#[test]
fn imports_that_leave_the_tree_are_refused_unread() {
    let dir = temp_dir("outside");
    // A `*.policy` file outside the tree, whose text would show in a syntax error.
    write(&dir.join("secret.policy"), &format!("{SECRET} = yes\n"));
    write(
        &dir.join("outside/lib.policy"),
        &format!("{SECRET} = yes\n"),
    );
    let abs = dir.join("outside/lib.policy");
    write(
        &dir.join("p/a.policy"),
        &policy(
            &format!(
                "import \"../secret.policy\"\nimport \"{}\"\nimport \"lib/../../outside/lib.policy\"\n",
                arg(&abs)
            ),
            "a",
            "",
        ),
    );
    // A symlink inside the tree to a file outside it.
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("secret.policy"), dir.join("p/linked.policy"))
        .unwrap_or_else(|e| panic!("{e}"));
    for format in ["human", "json", "github", "sarif"] {
        let out = run_in(&dir, &["check", "--format", format, "p"], "", &[]);
        let all = all_text(&out);
        assert!(!all.contains(SECRET), "{format}: {all}");
        assert!(all.matches("PR006").count() >= 3, "{format}: {all}");
    }
    // Named on the command line, the file is the user's choice, and read.
    let out = run_in(
        &dir,
        &["check", "--format", "json", "secret.policy"],
        "",
        &[],
    );
    assert!(text(&out.stdout).contains("PR001"), "{}", all_text(&out));
}

const TPI_LIB: &str = "library l {\n  codes tpi = cpt 20552, 20553\n}\n";
const IMPOSTOR: &str = "library l-impostor {\n  codes tpi = cpt 99999\n}\n";
const CLAIM: &str = r#"{"id":"1","payer":"tp","patient":{"id":"P"},"diagnoses":["M79.18"],"lines":[{"date_of_service":"2024-05-01","procedure":"20553"}]}"#;

fn decision(out: &Output) -> String {
    let stdout = text(&out.stdout);
    let line = stdout.lines().next().unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {}", all_text(out)));
    v["decision"].as_str().unwrap_or_default().to_string()
}

#[test]
fn an_import_with_leading_dot_dots_loads_the_same_file_from_any_directory() {
    let dir = temp_dir("dotdot");
    write(&dir.join("lib/l.policy"), TPI_LIB);
    write(
        &dir.join("a/b/p.policy"),
        &policy(
            "import \"../../lib/l.policy\"\n",
            "t-p",
            "  rule R1 \"r\" {\n    when line.procedure in tpi\n    deny CO-1\n  }\n",
        ),
    );
    // An impostor where a wrong folding of `../../lib` would look.
    write(&dir.join("a/b/lib/l.policy"), IMPOSTOR);
    let b = dir.join("a/b");
    let runs: [(&Path, Vec<String>); 4] = [
        (&b, vec!["p.policy".into(), "../../lib".into()]),
        (&dir, vec!["a/b/p.policy".into(), "lib".into()]),
        (
            &b,
            vec![
                arg(&b.join("p.policy")).into(),
                arg(&dir.join("lib")).into(),
            ],
        ),
        (&dir, vec![".".into()]),
    ];
    for (cwd, policies) in runs {
        let mut args = vec!["eval", "-q"];
        for p in &policies {
            args.extend(["-p", p.as_str()]);
        }
        args.push("-");
        let out = run_in(cwd, &args, CLAIM, &[]);
        assert_eq!(decision(&out), "deny", "{policies:?}: {}", all_text(&out));
    }
}

#[test]
fn one_file_under_two_spellings_or_a_link_is_one_file() {
    let dir = temp_dir("identity");
    write(&dir.join("policies/lib/l.policy"), TPI_LIB);
    write(
        &dir.join("policies/t.policy"),
        &policy("import \"lib/l.policy\"\n", "t", ""),
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink("..", dir.join("policies/lib/up")).unwrap_or_else(|e| panic!("{e}"));
    let abs = dir.join("policies");
    for paths in [vec!["policies", "./policies/"], vec!["policies", arg(&abs)]] {
        let mut args = vec!["check"];
        args.extend(&paths);
        let out = run_in(&dir, &args, "", &[]);
        let all = all_text(&out);
        assert!(
            !all.contains("PR108") && !all.contains("PR101"),
            "{paths:?}: {all}"
        );
        assert!(
            all.contains("checked 2 files: 0 errors"),
            "{paths:?}: {all}"
        );
        assert_eq!(out.status.code(), Some(0), "{paths:?}: {all}");
    }
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_huge_files_are_refused_without_blocking() {
    let dir = temp_dir("special");
    write(&dir.join("p/t.policy"), &policy("", "t", ""));
    let fifo = dir.join("p/f.policy");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo failed");
    let out = run_in(&dir, &["check", "p"], "", &[]);
    let all = all_text(&out);
    assert!(all.contains("PR005") && all.contains("FIFO"), "{all}");
    assert_eq!(out.status.code(), Some(2), "{all}");

    // Named directly, and imported from inside the tree.
    let out = run_in(&dir, &["check", "/dev/zero"], "", &[]);
    assert!(all_text(&out).contains("a device"), "{}", all_text(&out));
    std::fs::remove_file(dir.join("p/t.policy")).unwrap_or_else(|e| panic!("{e}"));
    write(
        &dir.join("q/t.policy"),
        &policy("import \"f.policy\"\n", "t", ""),
    );
    std::fs::rename(&fifo, dir.join("q/f.policy")).unwrap_or_else(|e| panic!("{e}"));
    let out = run_in(&dir, &["check", "q/t.policy"], "", &[]);
    assert!(all_text(&out).contains("PR002"), "{}", all_text(&out));

    let big = dir.join("big.policy");
    let file = std::fs::File::create(&big).unwrap_or_else(|e| panic!("{e}"));
    file.set_len(8 * 1024 * 1024 + 1)
        .unwrap_or_else(|e| panic!("{e}"));
    let out = run_in(&dir, &["check", "big.policy"], "", &[]);
    let all = all_text(&out);
    assert!(
        all.contains("8388609 bytes") && all.contains("8388608"),
        "{all}"
    );
}

#[test]
fn long_set_expressions_and_long_chains_of_sets_neither_crash_nor_hang() {
    let dir = temp_dir("sets");
    let terms = vec!["tpi"; 20_000].join(" + ");
    write(
        &dir.join("u.policy"),
        &policy(
            "",
            "t",
            &format!(
                "  codes tpi = cpt 20552\n  codes x = {terms}\n  rule R {{\n    when line.procedure in x\n    deny CO-1\n  }}\n"
            ),
        ),
    );
    let out = run_in(&dir, &["check", "u.policy"], "", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let out = run_in(&dir, &["fmt", "--check", "u.policy"], "", &[]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        all_text(&out)
    );

    let mut chain = String::from("  codes s0 = cpt 20552\n");
    for i in 1..=3000 {
        chain.push_str(&format!("  codes s{i} = s{}\n", i - 1));
    }
    chain.push_str("  rule R {\n    when line.procedure in s3000\n    deny CO-1\n  }\n");
    write(&dir.join("c.policy"), &policy("", "t", &chain));
    let start = Instant::now();
    let out = run_in(&dir, &["check", "--format", "json", "c.policy"], "", &[]);
    let took = start.elapsed();
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("PR213").count(), 1, "{}", all_text(&out));
    assert!(
        !stdout.contains("PR901") && !stdout.contains("PR005"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// `policies/medicare-tpi.policy` with every line's indentation removed: a
/// file `fmt` rewrites.
fn unformatted() -> String {
    let text = std::fs::read_to_string(common::root("policies/medicare-tpi.policy"))
        .unwrap_or_else(|e| panic!("{e}"));
    text.lines()
        .map(|l| format!("{}\n", l.trim_start()))
        .collect()
}

#[cfg(unix)]
#[test]
fn fmt_that_cannot_write_leaves_the_policy_whole_and_fails() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir("fmt-write");
    let file = dir.join("m.policy");
    let original = unformatted();
    write(&file, &original);
    // A file size limit of 512 bytes makes every write past it fail (EFBIG),
    // as a full disk would; the signal it would raise is ignored.
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec '{}' fmt m.policy",
        env!("CARGO_BIN_EXE_payer-rules")
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let all = all_text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("could not be written"), "{all}");
    assert!(all.contains("0 reformatted"), "{all}");
    let after = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after, original, "the policy was changed by a failed write");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");

    // A write that succeeds keeps the file's permissions.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = run_in(&dir, &["fmt", "m.policy"], "", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let mode = std::fs::metadata(&file)
        .unwrap_or_else(|e| panic!("{e}"))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    assert_ne!(std::fs::read_to_string(&file).unwrap_or_default(), original);
}

#[test]
fn crlf_and_bom_policies_format_and_check_like_any_other() {
    let dir = temp_dir("crlf");
    let formatted = std::fs::read_to_string(common::root("policies/medicare-tpi.policy"))
        .unwrap_or_else(|e| panic!("{e}"));
    let crlf = formatted.replace('\n', "\r\n");
    write(&dir.join("crlf.policy"), &crlf);
    let out = run_in(&dir, &["fmt", "--check", "crlf.policy"], "", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    assert!(out.stdout.is_empty(), "{}", all_text(&out));

    // Unformatted CRLF: `fmt` fixes the layout and keeps CRLF.
    write(
        &dir.join("crlf.policy"),
        &unformatted().replace('\n', "\r\n"),
    );
    let out = run_in(&dir, &["fmt", "crlf.policy"], "", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let after = std::fs::read_to_string(dir.join("crlf.policy")).unwrap_or_default();
    assert_eq!(after, crlf);

    // A byte order mark is skipped by `check` and kept by `fmt`.
    write(&dir.join("bom.policy"), &format!("\u{feff}{formatted}"));
    let out = run_in(&dir, &["check", "bom.policy"], "", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let out = run_in(&dir, &["fmt", "--check", "bom.policy"], "", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
}

#[test]
fn invalid_utf8_is_reported_with_its_offset_and_how_to_fix_it() {
    let dir = temp_dir("utf8");
    std::fs::write(
        dir.join("bad.policy"),
        b"policy t \"t\" {\n  payer tp\xff\n}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for args in [
        &["check", "bad.policy"][..],
        &["fmt", "--check", "bad.policy"][..],
    ] {
        let out = run_in(&dir, args, "", &[]);
        let all = all_text(&out);
        assert!(all.contains("byte offset 25"), "{args:?}: {all}");
        assert!(all.contains("save the file as UTF-8"), "{args:?}: {all}");
        assert!(!all.contains("check the path"), "{args:?}: {all}");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
    }
}

#[test]
fn a_case_file_with_no_cases_is_no_cases_found() {
    let dir = temp_dir("no-cases");
    write(&dir.join("t.policy"), &policy("", "t", ""));
    write(&dir.join("t.cases.yaml"), "cases: []\n");
    let out = run_in(&dir, &["test", "."], "", &[]);
    let all = all_text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("has no cases"), "{all}");
}
