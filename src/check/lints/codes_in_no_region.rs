//! PR409: `per region` on a set that holds codes in no region. A line whose
//! code is in no region is in a region of its own ("none", as a missing site
//! is under `per site`), so such codes all count together: a limit "per
//! region" of them is a limit on all of them, which is rarely what a policy
//! that names regions means. Usually a region lacks a code.
//!
//! Only modules without errors that have regions are looked at (without,
//! `per region` is the error PR312; a region that is dropped as a duplicate
//! or is not a procedure set would make codes look regionless).

use super::sets::SetResolver;
use super::visit::{rule_conditions, rules, walk};
use super::{Lint, ModuleCx};
use crate::codes::CodeSet;
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{CheckKind, ExprKind, SetExpr};
use crate::syntax::Span;

/// See the module docs.
pub struct CodesInNoRegion;

impl Lint for CodesInNoRegion {
    fn code(&self) -> DiagCode {
        DiagCode::CodesInNoRegion
    }

    fn module(&self, cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
        if !cx.clean || cx.scope.regions.is_empty() {
            return;
        }
        let mut counted: Vec<(&SetExpr, Span)> = Vec::new();
        for rule in rules(cx.module) {
            for cond in rule_conditions(rule) {
                walk(cond, &mut |e| {
                    if let ExprKind::Count {
                        set,
                        per_region: Some(at),
                        ..
                    } = &e.kind
                    {
                        counted.push((set, *at));
                    }
                });
            }
            for check in &rule.checks {
                if let CheckKind::Limit {
                    set,
                    per_region: Some(at),
                    ..
                }
                | CheckKind::Interval {
                    set,
                    per_region: Some(at),
                    ..
                } = &check.kind
                {
                    counted.push((set, *at));
                }
            }
        }
        if counted.is_empty() {
            return;
        }
        let mut resolver = SetResolver::new(cx.scope);
        let mut regions = CodeSet::default();
        for def in &cx.scope.regions {
            let Some(set) = resolver.resolve(&def.decl.expr) else {
                return; // an unresolved region: its codes are unknown
            };
            regions = regions.union(&set);
        }
        for (set, at) in counted {
            let Some(codes) = resolver.resolve(set) else {
                continue;
            };
            let Some(code) = codes.difference(&regions).first_procedure_code() else {
                continue;
            };
            let names: Vec<String> = cx
                .scope
                .regions
                .iter()
                .map(|r| format!("`{}`", r.decl.name.node))
                .collect();
            diags.push(
                Diagnostic::new(
                    DiagCode::CodesInNoRegion,
                    cx.file,
                    at,
                    format!(
                        "`{}` holds codes in no region (`{}`), which all count as one region of their own",
                        cx.file.written(set.span()),
                        code.as_string()
                    ),
                )
                .with_label(format!("the regions are {}", names.join(", ")))
                .with_help(
                    "add the codes to the region they belong to, or count a set whose codes all are in regions",
                ),
            );
        }
    }
}
