//! `payer-rules fmt [--check] PATH...`: rewrites policy files in the canonical layout.

use crate::stdio::{errln, out};
use std::path::{Path, PathBuf};

use super::report::print_diagnostics;
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use payer_rules::internal::check_workspace;
use payer_rules::internal::{policy_text, read_policy_bytes, ReadError, Workspace, BOM};
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

/// A policy file's text as read: without its byte order mark and with LF line
/// endings, which the formatter works on, and what to put back when writing.
struct Read {
    text: String,
    bom: bool,
    crlf: bool,
}

impl Read {
    fn load(path: &Path) -> Result<Read, ReadError> {
        let bytes = read_policy_bytes(path)?;
        let bom = bytes.starts_with(BOM);
        let text = policy_text(bytes)?;
        // A file that uses CRLF keeps CRLF: fmt is about layout, not line endings.
        let crlf = text.contains("\r\n");
        let text = if crlf {
            text.replace("\r\n", "\n")
        } else {
            text
        };
        Ok(Read { text, bom, crlf })
    }

    /// `formatted` in the file's own line endings and byte order mark.
    fn restore(&self, formatted: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(formatted.len() + 3);
        if self.bom {
            out.extend_from_slice(BOM);
        }
        if self.crlf {
            out.extend_from_slice(formatted.replace('\n', "\r\n").as_bytes());
        } else {
            out.extend_from_slice(formatted.as_bytes());
        }
        out
    }
}

/// Replaces `file` with `bytes` all at once: the text goes to a temporary
/// file in the same directory, which is then renamed over the original (with
/// its permissions), so a full disk or a crash leaves the old file whole.
fn replace_file(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    // Through a symlink, the file it points to is replaced, not the link.
    let target = file.canonicalize()?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.fmt-{}.tmp", std::process::id()));
    let written = (|| {
        let permissions = std::fs::metadata(&target)?.permissions();
        let mut out = std::fs::File::create(&temp)?;
        out.write_all(bytes)?;
        out.sync_all()?;
        std::fs::set_permissions(&temp, permissions)?;
        std::fs::rename(&temp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Formats the files in place, or with `check` only shows what would change.
pub fn run(paths: &[PathBuf], check: bool) -> u8 {
    let mut unreadable = 0usize;
    let files = policy_files(paths, &mut unreadable);
    let (mut changed, mut broken, mut unwritten) = (0usize, 0usize, 0usize);
    for file in &files {
        let name = file.display().to_string();
        let read = match Read::load(file) {
            Ok(r) => r,
            Err(e) => {
                errln!("error: cannot read `{name}`: {}", e.message());
                errln!("  help: {}", e.help());
                unreadable += 1;
                continue;
            }
        };
        let text = &read.text;
        let formatted = match format(text) {
            Ok(f) => f,
            Err(FormatError::Syntax(_)) => {
                report_syntax_errors(&name, text);
                errln!("error: `{name}` has syntax errors: not formatted");
                broken += 1;
                continue;
            }
            // `Unsafe`, and any reason a later payer-rules adds: its message
            // says what happened.
            Err(e) => {
                errln!("error: `{name}`: {e}");
                broken += 1;
                continue;
            }
        };
        if &formatted == text {
            continue;
        }
        if check {
            changed += 1;
            out!("{}", unified_diff(&name, text, &formatted));
        } else if let Err(e) = replace_file(file, &read.restore(&formatted)) {
            errln!("error: cannot write `{name}` (left as it was): {e}");
            unwritten += 1;
        } else {
            changed += 1;
            errln!("formatted {name}");
        }
    }
    let total = files.len();
    let verb = if check {
        "need formatting"
    } else {
        "reformatted"
    };
    let failed = if unwritten > 0 {
        format!(", {unwritten} could not be written")
    } else {
        String::new()
    };
    errln!(
        "{total} file{}: {changed} {verb}, {broken} with errors{failed}",
        if total == 1 { "" } else { "s" }
    );
    if unreadable > 0 || unwritten > 0 {
        EXIT_USAGE
    } else if broken > 0 || (check && changed > 0) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
