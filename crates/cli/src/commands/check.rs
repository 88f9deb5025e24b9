//! `payer-rules check`.

use crate::stdio::{errln, out, outln};
use std::path::PathBuf;

use super::report::{self, print_diagnostics, tally};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use payer_rules::Policies;
use payer_rules::{DiagCode, Severity};

/// How `check` writes its diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// miette reports on stderr, in colour on a terminal.
    Human,
    /// One JSON object per diagnostic per line (JSON Lines) on stdout.
    Json,
    /// GitHub Actions workflow commands (`::error file=...::...`) on stdout.
    Github,
    /// One SARIF 2.1.0 log on stdout.
    Sarif,
}

/// The options of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files, or directories searched for `*.policy` files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format. The summary line always goes to stderr.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 1 when there are warnings, not only errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Where the lint pages (`docs/lints/PR206.md`) are published, for SARIF
    /// `helpUri`: a URL ending in `/` under which `PR206.md` is found.
    /// Default: the `docs/lints/` folder of the source tree the binary was built from.
    #[arg(long, value_name = "URL")]
    pub docs_url: Option<String>,
}

/// Checks the files; prints the diagnostics in the chosen format and a summary
/// line on stderr.
pub fn run(args: &Args) -> u8 {
    let loaded = Policies::load(&args.paths);
    let diags = &loaded.diagnostics;
    match args.format {
        Format::Human => print_diagnostics(diags),
        Format::Json => out!("{}", report::json_lines(diags)),
        Format::Github => out!("{}", report::github(diags)),
        Format::Sarif => {
            let docs = args
                .docs_url
                .clone()
                .unwrap_or_else(report::default_docs_url);
            outln!("{}", report::sarif(diags, &docs));
        }
    }
    let files = loaded.workspace.units.len();
    errln!(
        "checked {files} file{}: {}",
        if files == 1 { "" } else { "s" },
        tally(diags)
    );
    let warnings = diags.iter().any(|d| d.severity == Severity::Warning);
    if diags.iter().any(|d| d.code == DiagCode::FileUnreadable) {
        EXIT_USAGE
    } else if loaded.has_errors() || (args.deny_warnings && warnings) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
