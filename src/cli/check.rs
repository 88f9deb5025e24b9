//! `payer-rules check`.

use std::path::PathBuf;

use super::report::{print_diagnostics, tally};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::diagnostic::DiagCode;
use crate::policies::Policies;

/// Checks the files; prints diagnostics and a summary line on stderr.
pub fn run(paths: &[PathBuf]) -> u8 {
    let loaded = Policies::load(paths);
    print_diagnostics(&loaded.diagnostics);
    let files = loaded.workspace.units.len();
    eprintln!(
        "checked {files} file{}: {}",
        if files == 1 { "" } else { "s" },
        tally(&loaded.diagnostics)
    );
    if loaded
        .diagnostics
        .iter()
        .any(|d| d.code == DiagCode::FileUnreadable)
    {
        EXIT_USAGE
    } else if loaded.has_errors() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
