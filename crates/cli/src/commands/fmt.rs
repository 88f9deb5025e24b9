//! `payer-rules fmt [--check] PATH...`: rewrites policy files in the canonical layout.

use crate::stdio::{errln, out};
use std::path::{Path, PathBuf};

use super::report::print_diagnostics;
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use payer_rules::internal::check_workspace;
use payer_rules::internal::Workspace;
use payer_rules::tooling::{format, FormatError};
use payer_rules::DiagCode;

/// The files named by `paths`: a file itself, or every `*.policy` file below a
/// directory, in path order. Unreadable paths are reported and counted.
fn policy_files(paths: &[PathBuf], unreadable: &mut usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            if let Err(e) = walk(path, &mut out) {
                errln!("error: cannot read `{}`: {e}", path.display());
                *unreadable += 1;
            }
        } else {
            out.push(path.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    out.extend(payer_rules::internal::files_below(
        dir,
        &payer_rules::internal::is_policy_file,
    )?);
    Ok(())
}

/// A unified diff of a file and its formatted text.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(path, &format!("{path} (formatted)"))
        .to_string()
}

/// Prints a file's syntax errors as `check` would.
fn report_syntax_errors(path: &str, text: &str) {
    let (ws, _) = Workspace::single(path, text);
    let diags: Vec<_> = check_workspace(&ws)
        .into_iter()
        .filter(|d| d.code == DiagCode::Syntax)
        .collect();
    print_diagnostics(&diags);
}

/// Formats the files in place, or with `check` only shows what would change.
pub fn run(paths: &[PathBuf], check: bool) -> u8 {
    let mut unreadable = 0usize;
    let files = policy_files(paths, &mut unreadable);
    let (mut changed, mut broken) = (0usize, 0usize);
    for file in &files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                errln!("error: cannot read `{name}`: {e}");
                unreadable += 1;
                continue;
            }
        };
        let formatted = match format(&text) {
            Ok(f) => f,
            Err(FormatError::Syntax(_)) => {
                report_syntax_errors(&name, &text);
                errln!("error: `{name}` has syntax errors: not formatted");
                broken += 1;
                continue;
            }
            Err(e @ FormatError::Unsafe(_)) => {
                errln!("error: `{name}`: {e}");
                broken += 1;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        if check {
            out!("{}", unified_diff(&name, &text, &formatted));
        } else if let Err(e) = std::fs::write(file, &formatted) {
            errln!("error: cannot write `{name}`: {e}");
            unreadable += 1;
        } else {
            errln!("formatted {name}");
        }
    }
    let total = files.len();
    let verb = if check {
        "need formatting"
    } else {
        "reformatted"
    };
    errln!(
        "{total} file{}: {changed} {verb}, {broken} with errors",
        if total == 1 { "" } else { "s" }
    );
    if unreadable > 0 {
        EXIT_USAGE
    } else if broken > 0 || (check && changed > 0) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
