//! Name resolution: which code sets and rules a module sees, its own and those of
//! the libraries it imports (transitively), in policy order.

use std::collections::HashMap;

use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{CodeSetDecl, CodeSystem, Item, ModuleKind, Rule, SetExpr};
use crate::syntax::Span;
use crate::workspace::Workspace;

/// A code set visible in a module, with the unit (file) that defines it.
#[derive(Debug, Clone, Copy)]
pub struct SetDef<'w> {
    /// The defining unit.
    pub unit: usize,
    /// The declaration.
    pub decl: &'w CodeSetDecl,
}

/// A rule of a module, with the unit (file) that defines it.
#[derive(Debug, Clone, Copy)]
pub struct RuleDef<'w> {
    /// The defining unit.
    pub unit: usize,
    /// The rule.
    pub rule: &'w Rule,
}

/// Whether a set holds procedure or diagnosis codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// CPT/HCPCS.
    Procedure,
    /// ICD-10-CM.
    Diagnosis,
}

impl SetKind {
    /// The kind of a literal list's system.
    pub fn of(system: CodeSystem) -> SetKind {
        match system {
            CodeSystem::Cpt | CodeSystem::Hcpcs => SetKind::Procedure,
            CodeSystem::Icd10 => SetKind::Diagnosis,
        }
    }

    /// For messages.
    pub fn name(self) -> &'static str {
        match self {
            SetKind::Procedure => "procedure (CPT/HCPCS)",
            SetKind::Diagnosis => "diagnosis (ICD-10-CM)",
        }
    }
}

/// Everything a module can name.
#[derive(Debug)]
pub struct Scope<'w> {
    /// The module's own unit.
    pub unit: usize,
    /// Code sets by name.
    pub sets: HashMap<&'w str, SetDef<'w>>,
    /// Rules in policy order: imported libraries' rules first, in import order.
    pub rules: Vec<RuleDef<'w>>,
}

impl<'w> Scope<'w> {
    /// Resolves the scope of `unit`, reporting duplicates, cycles and imports of
    /// non-libraries that the unit itself causes.
    pub fn build(ws: &'w Workspace, unit: usize, diags: &mut Vec<Diagnostic>) -> Scope<'w> {
        let mut scope = Scope {
            unit,
            sets: HashMap::new(),
            rules: Vec::new(),
        };
        let mut visited = vec![false; ws.units.len()];
        let mut stack = Vec::new();
        scope.visit(ws, unit, None, &mut visited, &mut stack, diags);
        scope
    }

    /// `via`: the span of the import in the checked unit that brought `at` in.
    fn visit(
        &mut self,
        ws: &'w Workspace,
        at: usize,
        via: Option<Span>,
        visited: &mut [bool],
        stack: &mut Vec<usize>,
        diags: &mut Vec<Diagnostic>,
    ) {
        visited[at] = true;
        stack.push(at);
        let unit = &ws.units[at];
        for (i, target) in unit.imports.iter().enumerate() {
            let Some(target) = *target else { continue };
            let span = unit
                .parsed
                .imports
                .get(i)
                .map(|s| s.span)
                .unwrap_or_default();
            let via_here = via.or(Some(span));
            if stack.contains(&target) {
                // Report a cycle through this file, at this file's import that
                // leads into it; other cycles are reported by their own files.
                if target == self.unit {
                    let own = via_here.unwrap_or(span);
                    let here = &ws.units[self.unit].file;
                    let message = if at == self.unit {
                        format!("`{}` imports itself", here.path)
                    } else {
                        format!(
                            "this import leads back to this file (through `{}`)",
                            unit.file.path
                        )
                    };
                    diags.push(
                        Diagnostic::new(DiagCode::ImportCycle, here, own, message).with_help(
                            "move what both files share into a library that imports neither",
                        ),
                    );
                }
                continue;
            }
            if at == self.unit {
                if let Some(m) = ws.units[target].module() {
                    if m.kind == ModuleKind::Policy {
                        diags.push(
                            Diagnostic::new(
                                DiagCode::ImportNotLibrary,
                                &unit.file,
                                span,
                                format!("`{}` is a policy; only libraries can be imported", ws.units[target].file.path),
                            )
                            .with_help("move what both policies share into a `library` file and import that"),
                        );
                        continue;
                    }
                }
            }
            if !visited[target] {
                self.visit(ws, target, via_here, visited, stack, diags);
            }
        }
        stack.pop();
        let Some(module) = unit.module() else { return };
        for item in &module.items {
            match item {
                Item::Codes(decl) => {
                    if let Some(first) = self.sets.get(decl.name.node.as_str()) {
                        self.duplicate(
                            ws,
                            at,
                            via,
                            first.unit,
                            first.decl.name.span,
                            decl.name.span,
                            "code set",
                            &decl.name.node,
                            diags,
                        );
                        continue;
                    }
                    self.sets
                        .insert(decl.name.node.as_str(), SetDef { unit: at, decl });
                }
                Item::Rule(rule) => {
                    if let Some(first) = self.rules.iter().find(|r| r.rule.id.node == rule.id.node)
                    {
                        let (fu, fs) = (first.unit, first.rule.id.span);
                        self.duplicate(
                            ws,
                            at,
                            via,
                            fu,
                            fs,
                            rule.id.span,
                            "rule",
                            &rule.id.node,
                            diags,
                        );
                        continue;
                    }
                    self.rules.push(RuleDef { unit: at, rule });
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn duplicate(
        &self,
        ws: &Workspace,
        at: usize,
        via: Option<Span>,
        first_unit: usize,
        first_span: Span,
        span: Span,
        what: &str,
        name: &str,
        diags: &mut Vec<Diagnostic>,
    ) {
        let code = if what == "rule" {
            DiagCode::DuplicateRule
        } else {
            DiagCode::DuplicateCodeSet
        };
        let file = &ws.units[self.unit].file;
        let first_path = &ws.units[first_unit].file.path;
        let diag = if at == self.unit {
            let d = Diagnostic::new(
                code,
                file,
                span,
                format!("{what} `{name}` is defined twice"),
            )
            .with_label("defined again here");
            if first_unit == self.unit {
                d.with_related(first_span, "first defined here")
            } else {
                d.with_label(format!("already defined in `{first_path}`"))
            }
        } else if let Some(via) = via {
            Diagnostic::new(
                code,
                file,
                via,
                format!("this import defines {what} `{name}`, which `{first_path}` defines too"),
            )
            .with_label("imported here")
        } else {
            return;
        };
        let help = if what == "rule" {
            "give each rule its own id: decisions name rules by id"
        } else {
            "rename one of the code sets, or remove the copy and use the imported one"
        };
        diags.push(diag.with_help(help));
    }

    /// The kind of codes a set expression holds, resolving names; `None` when a
    /// name is unknown, the definition is circular, or the operands disagree.
    pub fn kind_of(&self, expr: &SetExpr) -> Option<SetKind> {
        self.kind_inner(expr, &mut Vec::new())
    }

    fn kind_inner(&self, expr: &SetExpr, seen: &mut Vec<String>) -> Option<SetKind> {
        match expr {
            SetExpr::Literal(list) => Some(SetKind::of(list.system.node)),
            SetExpr::Ref(name) => {
                if seen.contains(&name.node) {
                    return None;
                }
                let def = self.sets.get(name.node.as_str())?;
                seen.push(name.node.clone());
                let kind = self.kind_inner(&def.decl.expr, seen);
                seen.pop();
                kind
            }
            SetExpr::Binary { lhs, rhs, .. } => {
                let l = self.kind_inner(lhs, seen)?;
                let r = self.kind_inner(rhs, seen)?;
                (l == r).then_some(l)
            }
        }
    }

    /// True when a named set is defined in terms of itself, directly or through
    /// other sets.
    pub fn is_cyclic(&self, name: &str) -> bool {
        fn refs<'e>(expr: &'e SetExpr, out: &mut Vec<&'e str>) {
            match expr {
                SetExpr::Literal(_) => {}
                SetExpr::Ref(n) => out.push(&n.node),
                SetExpr::Binary { lhs, rhs, .. } => {
                    refs(lhs, out);
                    refs(rhs, out);
                }
            }
        }
        let mut todo = vec![name];
        let mut seen: Vec<&str> = Vec::new();
        while let Some(current) = todo.pop() {
            let Some(def) = self.sets.get(current) else {
                continue;
            };
            let mut next = Vec::new();
            refs(&def.decl.expr, &mut next);
            for n in next {
                if n == name {
                    return true;
                }
                if !seen.contains(&n) {
                    seen.push(n);
                    todo.push(n);
                }
            }
        }
        false
    }

    /// Names of the visible code sets, for suggestions.
    pub fn set_names(&self) -> impl Iterator<Item = &str> {
        self.sets.keys().copied()
    }
}
