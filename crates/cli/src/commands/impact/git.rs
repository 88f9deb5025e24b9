//! Policy files of a git revision, read with `git` from the repository
//! without a checkout: `git rev-parse` names the commit, `git ls-tree` lists
//! the `*.policy` files under the policy directory and `git cat-file` reads
//! each one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `git -C repo ARGS` and returns its standard output.
fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "`git {}` failed: {}",
            args.join(" "),
            err.lines().next().unwrap_or("no message")
        ));
    }
    Ok(out.stdout)
}

/// The `*.policy` files under `dir` at revision `rev` of `repo`, by their
/// path in the repository, and the commit's short hash. A revision that is
/// not a commit, or that has no policy file under `dir`, is an error.
pub fn policy_files(
    repo: &Path,
    rev: &str,
    dir: &Path,
) -> Result<(HashMap<PathBuf, String>, String), String> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is neither a path nor a git revision"));
    }
    let commit = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| {
        format!(
            "`{rev}` is neither an existing path nor a revision of the git repository `{}`",
            repo.display()
        )
    })?;
    let commit = String::from_utf8_lossy(&commit).trim().to_string();
    let dir_text = dir.to_string_lossy();
    let listing = git(
        repo,
        &[
            "ls-tree",
            "-r",
            "-z",
            "--name-only",
            &commit,
            "--",
            &dir_text,
        ],
    )?;
    let mut files = HashMap::new();
    for name in listing.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        if !name.ends_with(".policy") {
            continue;
        }
        let blob = git(repo, &["cat-file", "blob", &format!("{commit}:{name}")])?;
        let text = String::from_utf8(blob)
            .map_err(|_| format!("`{name}` at `{rev}` is not UTF-8 text"))?;
        files.insert(PathBuf::from(name), text);
    }
    if files.is_empty() {
        return Err(format!(
            "no `*.policy` file under `{dir_text}` at `{rev}` (name the directory with --policies-dir)"
        ));
    }
    let short = commit.get(..12).unwrap_or(&commit).to_string();
    Ok((files, short))
}
