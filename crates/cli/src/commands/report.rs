//! Printing diagnostics: for people (miette), and as JSON Lines, GitHub workflow
//! commands or SARIF for machines.

use crate::stdio::errln;
use std::io::IsTerminal;

use serde_json::json;

use payer_rules::internal::{region, Span};
use payer_rules::{DiagCode, Diagnostic, Severity, SourceFile};

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
        errln!("{out}");
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

/// One JSON object per diagnostic, one per line (the library's writer, which
/// `payer-rules serve`'s `/v1/check` shares).
pub fn json_lines(diags: &[Diagnostic]) -> String {
    payer_rules::tooling::diagnostics_json_lines(diags)
}

/// GitHub Actions workflow commands, one line per diagnostic:
/// `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=PR206::message`,
/// with the help line after the message.
pub fn github(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let r = region(&d.file, d.span);
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            d.severity.as_str(),
            escape_property(&d.file.path),
            r.line,
            r.column,
            r.end_line,
            r.end_column,
            d.code.code(),
            escape_data(&message)
        ));
    }
    out
}

/// Workflow-command message text: `%`, CR and LF escaped.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow-command property values: as data, and `:` and `,` too.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The `docs/lints/` folder of the source tree this binary was built from, as a
/// `file:` URL ending in `/`.
pub fn default_docs_url() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lints");
    format!("file://{}/", encode_path(&dir.to_string_lossy()))
}

/// A path as a URI path: `\` as `/`, bytes outside the unreserved set and `/`
/// percent-encoded.
fn encode_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A file path as a SARIF artifact URI: relative paths stay relative (to the
/// directory `check` ran in); absolute ones become `file:` URLs.
fn artifact_uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    if path.starts_with('/') {
        format!("file://{}", encode_path(path))
    } else {
        encode_path(path)
    }
}

fn sarif_region(file: &SourceFile, span: Span) -> serde_json::Value {
    let r = region(file, span);
    json!({
        "startLine": r.line,
        "startColumn": r.column,
        "endLine": r.end_line,
        "endColumn": r.end_column,
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// One SARIF 2.1.0 log with one run: every code as a rule of the driver (its
/// help page under `docs_url`), every diagnostic as a result.
pub fn sarif(diags: &[Diagnostic], docs_url: &str) -> serde_json::Value {
    let base = if docs_url.ends_with('/') {
        docs_url.to_string()
    } else {
        format!("{docs_url}/")
    };
    let rules: Vec<serde_json::Value> = DiagCode::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.code(),
                "name": c.name(),
                "shortDescription": { "text": c.summary() },
                "helpUri": format!("{base}{}.md", c.code()),
                "help": { "text": format!("{}: see docs/lints/{}.md", c.summary(), c.code()) },
                "defaultConfiguration": { "level": level(c.severity()) },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let index = DiagCode::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let artifact = json!({ "uri": artifact_uri(&d.file.path) });
            let related: Vec<serde_json::Value> = d
                .related
                .iter()
                .enumerate()
                .map(|(i, (span, label))| {
                    json!({
                        "id": i,
                        "physicalLocation": {
                            "artifactLocation": artifact,
                            "region": sarif_region(&d.file, *span),
                        },
                        "message": { "text": label },
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code.code(),
                "ruleIndex": index,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": sarif_region(&d.file, d.span),
                    }
                }],
            });
            if let (false, Some(fields)) = (related.is_empty(), result.as_object_mut()) {
                fields.insert("relatedLocations".into(), serde_json::Value::Array(related));
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "payer-rules",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}
