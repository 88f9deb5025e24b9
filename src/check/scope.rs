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
    /// Paths of imports that brought nothing in: unreadable files and policies.
    /// Names defined there are unknown here.
    pub broken_imports: Vec<String>,
}

impl<'w> Scope<'w> {
    /// Resolves the scope of `unit`, reporting duplicates, cycles and imports of
    /// non-libraries that the unit itself causes.
    pub fn build(ws: &'w Workspace, unit: usize, diags: &mut Vec<Diagnostic>) -> Scope<'w> {
        let mut scope = Scope {
            unit,
            sets: HashMap::new(),
            rules: Vec::new(),
            broken_imports: Vec::new(),
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
        // Unit indices come from the loader, and `visited` has one flag per unit.
        let (Some(seen), Some(unit)) = (visited.get_mut(at), ws.units.get(at)) else {
            return;
        };
        *seen = true;
        stack.push(at);
        let path = |u: usize| ws.units.get(u).map_or("", |u| u.file.path.as_str());
        for (i, target) in unit.imports.iter().enumerate() {
            let written = unit.parsed.imports.get(i);
            let span = written.map(|s| s.span).unwrap_or_default();
            let Some(target) = *target else {
                // As the loader resolved it: relative to the importing file.
                let dir = std::path::Path::new(&unit.file.path)
                    .parent()
                    .unwrap_or(std::path::Path::new(""));
                self.broken_imports
                    .extend(written.map(|w| dir.join(&w.node).display().to_string()));
                continue;
            };
            let via_here = via.or(Some(span));
            if stack.contains(&target) {
                // Each file of a cycle reports it, at its own import that leads back.
                if let Some(own) = ws.units.get(target).filter(|_| target == self.unit) {
                    let first = stack.get(1).copied().unwrap_or(target);
                    let written = own
                        .imports
                        .iter()
                        .position(|t| *t == Some(first))
                        .and_then(|i| own.parsed.imports.get(i))
                        .map_or_else(|| path(first).to_owned(), |w| w.node.clone());
                    let chain: Vec<String> = stack
                        .iter()
                        .chain([&target])
                        .map(|&u| format!("`{}`", path(u)))
                        .collect();
                    diags.push(
                        Diagnostic::new(
                            DiagCode::ImportCycle,
                            &own.file,
                            via_here.unwrap_or_default(),
                            format!("importing `{written}` leads back to this file"),
                        )
                        .with_label(format!("cycle: {}", chain.join(" -> ")))
                        .with_help("files cannot import each other: move the shared code sets into a library that imports neither"),
                    );
                }
                continue;
            }
            if at == self.unit {
                if let Some(m) = ws.units.get(target).and_then(|u| u.module()) {
                    if m.kind == ModuleKind::Policy {
                        diags.push(
                            Diagnostic::new(
                                DiagCode::ImportNotLibrary,
                                &unit.file,
                                span,
                                format!("`{}` is a policy; only libraries can be imported", path(target)),
                            )
                            .with_help("move what both policies share into a `library` file and import that"),
                        );
                        self.broken_imports.push(path(target).to_owned());
                        continue;
                    }
                }
            }
            if visited.get(target) == Some(&false) {
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
        let Some(file) = ws.units.get(self.unit).map(|u| &u.file) else {
            return;
        };
        let first_path = ws
            .units
            .get(first_unit)
            .map_or("", |u| u.file.path.as_str());
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
        let help = match (what, first_unit == at, at == self.unit) {
            ("rule", _, _) => "give each rule its own id: decisions name rules by id",
            (_, true, _) => "rename one of the code sets, or merge them into one",
            (_, false, true) => "rename this code set, or remove it and use the imported one",
            (_, false, false) => "rename the code set in one of the two files",
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

    /// True when the code set `name` is defined, directly or through other sets,
    /// in terms of itself.
    pub fn is_circular(&self, name: &str) -> bool {
        let Some(def) = self.sets.get(name) else {
            return false;
        };
        let mut stack = vec![&def.decl.expr];
        let mut seen: Vec<&str> = Vec::new();
        while let Some(expr) = stack.pop() {
            match expr {
                SetExpr::Literal(_) => {}
                SetExpr::Binary { lhs, rhs, .. } => {
                    stack.push(lhs);
                    stack.push(rhs);
                }
                SetExpr::Ref(r) if r.node == name => return true,
                SetExpr::Ref(r) => {
                    if seen.contains(&r.node.as_str()) {
                        continue;
                    }
                    seen.push(r.node.as_str());
                    if let Some(d) = self.sets.get(r.node.as_str()) {
                        stack.push(&d.decl.expr);
                    }
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
