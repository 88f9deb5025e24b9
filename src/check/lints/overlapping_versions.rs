//! PR404: two versions of one policy (the same policy id) that share a payer
//! id and are in effect on some of the same dates.
//!
//! Different policies of one payer may overlap: every one in effect on a
//! line's date applies to it. Versions of one policy may not, but the engine
//! still decides: of the versions in effect on a line's date, it takes the one
//! that took effect last (`Policies::select_lines`). So an overlap is a
//! warning, reported at the later-starting version, which wins. When both
//! start on the same day nothing decides between them but the order the files
//! were read in, and the warning is raised to an error.

use chrono::NaiveDate;

use super::Lint;
use crate::check::parse_date;
use crate::diagnostic::{DiagCode, Diagnostic, Severity};
use crate::syntax::ast::{HeaderKind, ModuleKind};
use crate::syntax::Span;
use crate::workspace::Workspace;

/// See the module docs.
pub struct OverlappingVersions;

struct Dated {
    unit: usize,
    id: String,
    version: String,
    payers: Vec<String>,
    from: NaiveDate,
    to: Option<NaiveDate>,
    /// The `effective` line.
    span: Span,
}

impl Dated {
    fn range(&self) -> String {
        format!(
            "{}..{}",
            self.from,
            self.to.map(|d| d.to_string()).unwrap_or_default()
        )
    }

    fn end(&self) -> NaiveDate {
        self.to.unwrap_or(NaiveDate::MAX)
    }
}

fn dated(ws: &Workspace) -> Vec<Dated> {
    let mut out = Vec::new();
    for (unit, u) in ws.units.iter().enumerate() {
        let Some(module) = u.module() else { continue };
        if module.kind != ModuleKind::Policy {
            continue;
        }
        let mut d = Dated {
            unit,
            id: module.id.node.clone(),
            version: String::new(),
            payers: Vec::new(),
            from: NaiveDate::MIN,
            to: None,
            span: module.id.span,
        };
        let mut valid = false;
        for h in &module.header {
            match &h.kind {
                HeaderKind::Payer(ps) => d.payers = ps.iter().map(|p| p.node.clone()).collect(),
                HeaderKind::Version(v) => d.version = v.node.clone(),
                HeaderKind::Effective { from, to } => {
                    let end = match to {
                        Some(t) => parse_date(&t.node).map(Some),
                        None => Some(None),
                    };
                    if let (Some(f), Some(t)) = (parse_date(&from.node), end) {
                        valid = t.is_none_or(|t| f <= t);
                        (d.from, d.to) = (f, t);
                        d.span = h.span;
                    }
                }
                HeaderKind::Source(_) | HeaderKind::PayerIds(_) => {}
            }
        }
        if valid {
            out.push(d);
        }
    }
    out
}

impl Lint for OverlappingVersions {
    fn code(&self) -> DiagCode {
        DiagCode::OverlappingVersions
    }

    fn workspace(&self, ws: &Workspace, diags: &mut Vec<Diagnostic>) {
        let all = dated(ws);
        for (j, b) in all.iter().enumerate() {
            for (i, a) in all.iter().enumerate() {
                // Each pair once, reported at the later start (the one that wins);
                // on the same start, at the file read later.
                let later = (b.from, j) > (a.from, i);
                if i == j || !later || a.id != b.id || a.version == b.version {
                    continue; // the same id and version is PR108
                }
                let Some(payer) = b.payers.iter().find(|p| a.payers.contains(p)) else {
                    continue;
                };
                if !(a.from <= b.end() && b.from <= a.end()) {
                    continue;
                }
                let last = a.end().min(b.end());
                let until = if last == NaiveDate::MAX {
                    "on".to_string()
                } else {
                    format!("to {last}")
                };
                // `dated` takes its unit indices from `ws.units`.
                let (Some(a_unit), Some(b_unit)) = (ws.units.get(a.unit), ws.units.get(b.unit))
                else {
                    continue;
                };
                let other = &a_unit.file.path;
                let mut d = Diagnostic::new(
                    DiagCode::OverlappingVersions,
                    &b_unit.file,
                    b.span,
                    format!(
                        "versions `{}` and `{}` (`{other}`, {}) of policy `{}` both apply to payer `{payer}` from {} {until}",
                        b.version,
                        a.version,
                        a.range(),
                        b.id,
                        b.from
                    ),
                );
                if a.from == b.from {
                    d.severity = Severity::Error;
                    d = d
                        .with_label("both start on this date: which version a line gets depends on the order the files are read")
                        .with_help("give the versions different start dates, or end one before the other starts");
                } else {
                    let day_before = b.from.pred_opt().unwrap_or(b.from);
                    d = d
                        .with_label(format!("from {}, lines get version `{}`: it started later", b.from, b.version))
                        .with_help(format!(
                            "end the earlier version the day before this one starts: `effective {}..{day_before}` in `{other}`",
                            a.from
                        ));
                }
                diags.push(d);
            }
        }
    }
}
