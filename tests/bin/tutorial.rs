//! `docs/tutorial.md` is replayed step by step.
//!
//! The page is read from top to bottom in a fresh scratch directory that holds a
//! copy of the bundled libraries (`policies/lib/`):
//!
//! - a fenced block with `file=PATH` after its tag (```` ```policy file=... ````,
//!   ```` ```yaml file=... ````, ```` ```json file=... ````) is written to PATH,
//!   replacing the file's earlier version;
//! - a ```` ```sh ```` block holds one `payer-rules ...` command, which is run with
//!   the built binary in the scratch directory, or one `cp -r FROM TO`, which
//!   the test performs (a copy of a policy tree, to compare two versions with
//!   `impact`) and which prints nothing, so no output block follows it;
//! - the next block, ```` ```text ```` or ```` ```json ```` without `file=`, is what
//!   the command must print (standard output, then standard error). Text is
//!   compared line by line, trailing spaces aside; JSON is compared as a value, so
//!   the page may spread one line of output over several.
//!
//! ```` ```bash ```` blocks are instructions for the reader and are not run.
//! (`tests/docs.rs` checks the ```` ```policy ```` blocks as it does everywhere.)

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug)]
struct Block {
    /// `docs/tutorial.md:LINE` of the opening fence.
    at: String,
    tag: String,
    file: Option<String>,
    body: String,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut words = info.split_whitespace();
        let tag = words.next().unwrap_or("").to_string();
        let file = words
            .find_map(|w| w.strip_prefix("file="))
            .map(str::to_string);
        let mut body = String::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            if inner == "```" {
                closed = true;
                break;
            }
            body.push_str(inner);
            body.push('\n');
        }
        assert!(
            closed,
            "docs/tutorial.md:{}: the block is never closed",
            i + 1
        );
        out.push(Block {
            at: format!("docs/tutorial.md:{}", i + 1),
            tag,
            file,
            body,
        });
    }
    out
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payer-rules-tutorial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lib = dir.join("policies/lib");
    std::fs::create_dir_all(&lib).unwrap_or_else(|e| panic!("{e}"));
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/lib");
    for entry in std::fs::read_dir(&bundled).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, lib.join(name)).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    dir
}

/// `cp -r from to`: `to` must not exist yet.
fn copy_tree(from: &Path, to: &Path) {
    assert!(!to.exists(), "cp -r: {} exists", to.display());
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let Some(name) = path.file_name() else {
            continue;
        };
        if path.is_dir() {
            copy_tree(&path, &to.join(name));
        } else {
            std::fs::copy(&path, to.join(name)).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// Runs `payer-rules ARGS` in `dir`; stdout then stderr.
fn run(dir: &Path, command: &str) -> String {
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(
        args.first(),
        Some(&"payer-rules"),
        "not a payer-rules command: {command}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_payer-rules"))
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command}: {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Lines without trailing spaces, without trailing empty lines.
fn normalize(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    lines[..end].join("\n")
}

fn as_json(text: &str) -> Result<serde_json::Value, String> {
    let values: Vec<serde_json::Value> = serde_json::Deserializer::from_str(text)
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not JSON: {e}"))?;
    Ok(match <[serde_json::Value; 1]>::try_from(values) {
        Ok([one]) => one,
        Err(many) => serde_json::Value::Array(many),
    })
}

#[test]
fn the_tutorial_replays() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/tutorial.md");
    let text = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{e}"));
    let dir = scratch();
    let blocks = blocks(&text);
    let mut failures = Vec::new();
    let (mut files, mut commands) = (0, 0);
    let mut i = 0;
    while i < blocks.len() {
        let block = &blocks[i];
        i += 1;
        if let Some(file) = &block.file {
            let path = dir.join(file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            std::fs::write(&path, &block.body).unwrap_or_else(|e| panic!("{e}"));
            files += 1;
            continue;
        }
        if block.tag != "sh" {
            continue;
        }
        let command: Vec<&str> = block
            .body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let [command] = command[..] else {
            failures.push(format!(
                "{}: a `sh` block holds exactly one command",
                block.at
            ));
            continue;
        };
        commands += 1;
        if let Some(paths) = command.strip_prefix("cp -r ") {
            match paths.split_whitespace().collect::<Vec<_>>()[..] {
                [from, to] => copy_tree(&dir.join(from), &dir.join(to)),
                _ => failures.push(format!("{}: `cp -r FROM TO`", block.at)),
            }
            continue;
        }
        let actual = run(&dir, command);
        let Some(shown) = blocks.get(i).filter(|b| b.file.is_none()) else {
            failures.push(format!(
                "{}: `{command}` is not followed by its output",
                block.at
            ));
            continue;
        };
        i += 1;
        match shown.tag.as_str() {
            "text" => {
                if normalize(&shown.body) != normalize(&actual) {
                    failures.push(format!(
                        "{}: `{command}` prints something else. It printed:\n{actual}",
                        shown.at
                    ));
                }
            }
            "json" => match (as_json(&shown.body), as_json(&actual)) {
                (Ok(want), Ok(got)) if want == got => {}
                (Ok(_), Ok(got)) => failures.push(format!(
                    "{}: `{command}` prints another decision. It printed:\n{}",
                    shown.at,
                    serde_json::to_string_pretty(&got).unwrap_or_default()
                )),
                (want, got) => failures.push(format!(
                    "{}: `{command}`: {want:?} / {got:?}; it printed:\n{actual}",
                    shown.at
                )),
            },
            other => failures.push(format!(
                "{}: the output of `{command}` is shown in a `{other}` block; use `text` or `json`",
                shown.at
            )),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} step(s) of docs/tutorial.md do not replay:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        files >= 5 && commands >= 6,
        "{files} files, {commands} commands"
    );
}
