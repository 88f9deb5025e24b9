//! Code sets as the compiler will see them, resolved through a module's scope:
//! what the lints that reason about codes compare.

use std::collections::HashMap;

use crate::check::scope::Scope;
use crate::codes::CodeKey;
use crate::codes::CodeSet;
use crate::syntax::ast::{CodeEntry, SetExpr, SetOp};

/// Resolves set expressions of one scope, each named set once.
pub struct SetResolver<'a, 'w> {
    scope: &'a Scope<'w>,
    named: HashMap<String, Option<CodeSet>>,
}

impl<'a, 'w> SetResolver<'a, 'w> {
    /// A resolver for the names of `scope`.
    pub fn new(scope: &'a Scope<'w>) -> Self {
        SetResolver {
            scope,
            named: HashMap::new(),
        }
    }

    /// The codes of a set expression; `None` when a name is unknown or
    /// circular, a code does not pack or a range is reversed (the checker
    /// reports those).
    pub fn resolve(&mut self, expr: &SetExpr) -> Option<CodeSet> {
        self.value(expr, 0)
    }

    fn value(&mut self, expr: &SetExpr, depth: usize) -> Option<CodeSet> {
        if depth > 64 {
            return None;
        }
        match expr {
            SetExpr::Literal(list) => {
                let packs = |c: &str| CodeKey::parse(c).is_some();
                let ok = list.entries.iter().all(|e| match &e.node {
                    CodeEntry::Code(c) | CodeEntry::Prefix(c) => packs(c),
                    CodeEntry::Range(lo, hi) => CodeKey::parse(lo)
                        .zip(CodeKey::parse(hi))
                        .is_some_and(|(l, h)| l <= h),
                });
                ok.then(|| CodeSet::from_entries(list.entries.iter().map(|e| &e.node)))
            }
            SetExpr::Ref(name) => {
                if let Some(known) = self.named.get(&name.node) {
                    return known.clone();
                }
                let def = self.scope.sets.get(name.node.as_str())?;
                if self.scope.is_circular(&name.node) {
                    self.named.insert(name.node.clone(), None);
                    return None;
                }
                let value = self.value(&def.decl.expr, depth + 1);
                self.named.insert(name.node.clone(), value.clone());
                value
            }
            SetExpr::Chain { first, rest, .. } => {
                let mut acc = self.value(first, depth + 1)?;
                for (op, term) in rest {
                    let r = self.value(term, depth + 1)?;
                    acc = match op {
                        SetOp::Union => acc.union(&r),
                        SetOp::Difference => acc.difference(&r),
                    };
                }
                Some(acc)
            }
        }
    }
}
