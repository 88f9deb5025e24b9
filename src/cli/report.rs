//! Printing diagnostics for people.

use std::io::IsTerminal;

use crate::diagnostic::{Diagnostic, Severity};

/// Prints diagnostics to stderr as miette reports (in colour on a terminal) and
/// a closing count.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    let colour = std::io::stderr().is_terminal();
    let theme = if colour {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    for d in diags {
        let mut out = String::new();
        if handler.render_report(&mut out, d).is_err() {
            out = format!("{}: {}", d.code.code(), d.message);
        }
        eprintln!("{out}");
    }
}

/// "2 errors, 1 warning".
pub fn tally(diags: &[Diagnostic]) -> String {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    format!(
        "{errors} error{}, {warnings} warning{}",
        plural(errors),
        plural(warnings)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
