//! PR402: a code set a policy defines but no rule or region uses, directly or
//! through another set.
//!
//! Only policies are checked, and only the sets they define themselves: a
//! library's sets are there to be imported, and which policy uses which is not
//! the library's concern. A policy with errors is skipped: the rule that did
//! not parse, or the unknown name (PR103), may be the use.

use std::collections::HashSet;

use super::visit::{refs, rule_sets};
use super::{Lint, ModuleCx};
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{Item, ModuleKind};

/// See the module docs.
pub struct UnusedCodeSets;

impl Lint for UnusedCodeSets {
    fn code(&self) -> DiagCode {
        DiagCode::UnusedCodeSet
    }

    fn module(&self, cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
        if cx.module.kind != ModuleKind::Policy || !cx.clean {
            return;
        }
        // Names the policy's rules (its own and imported ones) name...
        let mut sets = Vec::new();
        for def in &cx.scope.rules {
            rule_sets(def.rule, &mut sets);
        }
        // ...and the regions it sees, which every line's region is read from.
        for def in &cx.scope.regions {
            sets.push(&def.decl.expr);
        }
        let mut names = Vec::new();
        for set in sets {
            refs(set, &mut names);
        }
        let mut pending: Vec<&str> = names.iter().map(|n| n.node.as_str()).collect();
        // ...and the sets those are made of.
        let mut used: HashSet<&str> = HashSet::new();
        while let Some(name) = pending.pop() {
            if !used.insert(name) {
                continue;
            }
            let Some(def) = cx.scope.sets.get(name) else {
                return; // an unknown name: maybe a misspelled use
            };
            let mut inner = Vec::new();
            refs(&def.decl.expr, &mut inner);
            pending.extend(inner.iter().map(|n| n.node.as_str()));
        }
        // Names in set definitions must resolve too, or a use may be hidden.
        for item in &cx.module.items {
            if let Item::Codes(decl) = item {
                let mut inner = Vec::new();
                refs(&decl.expr, &mut inner);
                if inner
                    .iter()
                    .any(|n| !cx.scope.sets.contains_key(n.node.as_str()))
                {
                    return;
                }
            }
        }
        for item in &cx.module.items {
            let Item::Codes(decl) = item else { continue };
            if used.contains(decl.name.node.as_str()) {
                continue;
            }
            diags.push(
                Diagnostic::new(
                    DiagCode::UnusedCodeSet,
                    cx.file,
                    decl.name.span,
                    format!("code set `{}` is never used", decl.name.node),
                )
                .with_label("no rule uses this set")
                .with_help(format!(
                    "use it in a rule (`when line.procedure in {}`), or remove it",
                    decl.name.node
                )),
            );
        }
    }
}
