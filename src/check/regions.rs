//! Regions (`region NAME = SET`): each is a set of procedure codes (PR226),
//! and the regions a module sees, its own and its imports', share no code
//! (PR225), so that a code is in one region or in none. Where regions are
//! used (`per region`, `line.region`) the module must have some (PR312), and a
//! region's name compared with text must name one (PR313): see
//! [`super::exprs`].

use std::sync::Arc;

use super::exprs::ExprChecker;
use super::lints::sets::SetResolver;
use super::scope::{Scope, SetKind};
use super::suggest::closest;
use crate::codes::CodeSet;
use crate::diagnostic::{DiagCode, Diagnostic, SourceFile};
use crate::syntax::ast::{Expr, RegionDecl};
use crate::syntax::Span;
use crate::workspace::Workspace;

/// Checks a region the module declares: its set is known and holds
/// procedure codes.
pub(super) fn check_decl(
    decl: &RegionDecl,
    scope: &Scope<'_>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let kind = ExprChecker::new(scope, file, diags).set(&decl.expr);
    if kind == Some(SetKind::Diagnosis) {
        diags.push(
            Diagnostic::new(
                DiagCode::RegionNotProcedures,
                file,
                decl.expr.span(),
                format!(
                    "region `{}` is a set of diagnosis codes, but a line's region comes from its procedure code",
                    decl.name.node
                ),
            )
            .with_help(format!(
                "list procedure codes (`cpt` or `hcpcs`), e.g. `region {} = cpt 62322, 62323, 64483, 64484`",
                decl.name.node
            )),
        );
    }
}

/// Reports, in the module's own file, the regions it sees that share a code:
/// at the later region when the module declares it, at the import that
/// brought it in when two imported files clash. Two regions of one imported
/// file are that file's to report.
pub(super) fn check_overlaps(
    ws: &Workspace,
    scope: &Scope<'_>,
    file: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    if scope.regions.len() < 2 {
        return;
    }
    let mut resolver = SetResolver::new(scope);
    // Only procedure sets: a diagnosis set is PR226 already.
    let sets: Vec<Option<CodeSet>> = scope
        .regions
        .iter()
        .map(|r| {
            (scope.kind_of(&r.decl.expr) == Some(SetKind::Procedure))
                .then(|| resolver.resolve(&r.decl.expr))
                .flatten()
        })
        .collect();
    let path = |unit: usize| ws.units.get(unit).map_or("", |u| u.file.path.as_str());
    for (j, (b, b_set)) in scope.regions.iter().zip(&sets).enumerate() {
        let Some(b_set) = b_set else { continue };
        for (a, a_set) in scope.regions.iter().zip(&sets).take(j) {
            let Some(a_set) = a_set else { continue };
            let Some(code) = a_set.intersection(b_set).first_procedure_code() else {
                continue;
            };
            let (an, bn) = (&a.decl.name.node, &b.decl.name.node);
            let code = code.as_string();
            let diag = if b.unit == scope.unit {
                let d = Diagnostic::new(
                    DiagCode::OverlappingRegions,
                    file,
                    b.decl.name.span,
                    format!("regions `{an}` and `{bn}` both hold `{code}`"),
                );
                if a.unit == scope.unit {
                    d.with_related(a.decl.name.span, format!("region `{an}` is defined here"))
                } else {
                    d.with_label(format!("region `{an}` is defined in `{}`", path(a.unit)))
                }
            } else if a.unit != b.unit {
                let Some(via) = b.via else { continue };
                Diagnostic::new(
                    DiagCode::OverlappingRegions,
                    file,
                    via,
                    format!(
                        "this import brings region `{bn}`, which shares `{code}` with region `{an}` of `{}`",
                        path(a.unit)
                    ),
                )
                .with_label("imported here")
            } else {
                continue;
            };
            diags.push(diag.with_help(
                "a code is in one region at most, so that a line has one region: remove the shared codes from one of the two",
            ));
        }
    }
}

/// PR312 for `what` (`per region`, `line.region`) at `span`, in a module
/// that has no regions.
pub(super) fn no_regions(file: &Arc<SourceFile>, span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        DiagCode::NoRegions,
        file,
        span,
        format!("`{what}` needs regions, and this module has none"),
    )
    .with_help(
        "declare the regions the procedure codes fall in, e.g. `region lumbar_sacral = cpt 62322, 62323, 64483, 64484`, or import the library that has them",
    )
}

/// PR312 for a `per region` (at `at`, when written) in a module without
/// regions: of a limit, an interval or a count.
pub(super) fn per_region(
    at: Option<Span>,
    scope: &Scope<'_>,
    file: &Arc<SourceFile>,
) -> Option<Diagnostic> {
    at.filter(|_| scope.regions.is_empty())
        .map(|at| no_regions(file, at, "per region"))
}

/// True for `line.region` and `other.region`.
pub(super) fn is_region_field(expr: &Expr) -> bool {
    matches!(expr.field(), Some(("line" | "other", "region")))
}

/// PR313 when `text` (at `span`), compared with a region field, names no
/// region the scope sees (which has some: without, PR312 says so).
pub(super) fn unknown_region(
    scope: &Scope<'_>,
    file: &Arc<SourceFile>,
    text: &str,
    span: Span,
) -> Option<Diagnostic> {
    if scope.regions.is_empty() || scope.region(text).is_some() {
        return None;
    }
    let names = scope.regions.iter().map(|r| r.decl.name.node.as_str());
    // A near spelling, else the one region whose name holds the text (a
    // region is often named for two parts of the spine: `lumbar` for
    // `lumbar_sacral`).
    let mut holding = names.clone().filter(|n| n.contains(text));
    let near = closest(text, names.clone())
        .or_else(|| holding.next().filter(|_| holding.next().is_none()));
    let help = match near {
        Some(near) => format!("did you mean `\"{near}\"`?"),
        None => format!(
            "the regions are {}",
            names
                .map(|n| format!("`\"{n}\"`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Some(
        Diagnostic::new(
            DiagCode::UnknownRegion,
            file,
            span,
            format!("no region is named `{text}`: this never matches a line's region"),
        )
        .with_help(help),
    )
}
