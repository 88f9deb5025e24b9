//! Name resolution: which code sets and rules a module sees, its own and those of
//! the libraries it imports (transitively), in policy order.

use std::collections::HashMap;

use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{CodeSetDecl, CodeSystem, Item, ModuleKind, RegionDecl, Rule, SetExpr};
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

/// A region visible in a module, with the unit (file) that defines it.
#[derive(Debug, Clone, Copy)]
pub struct RegionDef<'w> {
    /// The defining unit.
    pub unit: usize,
    /// The declaration.
    pub decl: &'w RegionDecl,
    /// For a region an import brought in: that import, in the module's own
    /// file (where a clash between two imported regions is reported).
    pub via: Option<Span>,
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
    /// Regions in the same order: imported ones first. Names are unique
    /// (a second region of one name is PR227 and left out).
    pub regions: Vec<RegionDef<'w>>,
    /// Paths of imports that brought nothing in: unreadable files and policies.
    /// Names defined there are unknown here.
    pub broken_imports: Vec<String>,
    /// What each visible set resolves to, computed once for all of them.
    facts: HashMap<&'w str, SetFacts>,
}

/// The deepest a code set may nest, counting each parenthesized or `+`/`-`
/// expression and each step through a named set (`codes b = a` is one deeper
/// than `a`). Deeper sets are PR213: everything that resolves a set recurses
/// this deep at most.
pub const MAX_SET_DEPTH: usize = 64;

/// What a named set resolves to.
#[derive(Debug, Clone, Copy)]
struct SetFacts {
    /// Its nesting depth ([`MAX_SET_DEPTH`]); `None` when it reaches a cycle.
    depth: Option<usize>,
    /// Its kind; `None` when mixed, circular or through an unknown name.
    kind: Option<SetKind>,
}

/// The kinds of a set's operands so far.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kinds {
    None,
    One(SetKind),
    Bad,
}

impl Kinds {
    fn add(self, kind: Option<SetKind>) -> Kinds {
        match (self, kind) {
            (Kinds::Bad, _) | (_, None) => Kinds::Bad,
            (Kinds::None, Some(k)) => Kinds::One(k),
            (Kinds::One(a), Some(b)) if a == b => Kinds::One(a),
            (Kinds::One(_), Some(_)) => Kinds::Bad,
        }
    }

    fn kind(self) -> Option<SetKind> {
        match self {
            Kinds::One(k) => Some(k),
            Kinds::None | Kinds::Bad => None,
        }
    }
}

/// One set expression apart from the sets it names: its depth without them,
/// its literals' kinds and its references with the depth each sits at.
struct Local<'e> {
    depth: usize,
    kinds: Kinds,
    refs: Vec<(&'e str, usize)>,
}

impl<'e> Local<'e> {
    fn of(expr: &'e SetExpr) -> Local<'e> {
        let mut local = Local {
            depth: 0,
            kinds: Kinds::None,
            refs: Vec::new(),
        };
        local.walk(expr, 1);
        local
    }

    /// Recursion here follows parentheses only (a `+`/`-` chain is a list),
    /// which the parser bounds.
    fn walk(&mut self, expr: &'e SetExpr, level: usize) {
        self.depth = self.depth.max(level);
        match expr {
            SetExpr::Literal(list) => {
                self.kinds = self.kinds.add(Some(SetKind::of(list.system.node)))
            }
            SetExpr::Ref(name) => self.refs.push((name.node.as_str(), level)),
            SetExpr::Chain { .. } => {
                for (_, term) in expr.terms() {
                    self.walk(term, level + 1);
                }
            }
        }
    }
}

/// The facts of every set, by a depth-first walk over names with an explicit
/// stack (a chain of thousands of sets must not recurse), each set once.
fn set_facts<'w>(sets: &HashMap<&'w str, SetDef<'w>>) -> HashMap<&'w str, SetFacts> {
    let locals: HashMap<&'w str, Local<'w>> = sets
        .iter()
        .map(|(&name, def)| (name, Local::of(&def.decl.expr)))
        .collect();
    // `None`: on the stack, its facts not known yet.
    let mut facts: HashMap<&'w str, Option<SetFacts>> = HashMap::new();
    let mut names: Vec<&'w str> = sets.keys().copied().collect();
    names.sort_unstable();
    for start in names {
        if facts.contains_key(start) {
            continue;
        }
        facts.insert(start, None);
        let mut stack: Vec<(&'w str, usize)> = vec![(start, 0)];
        while let Some((name, next)) = stack.last_mut() {
            let Some(local) = locals.get(*name) else {
                stack.pop();
                continue;
            };
            if let Some(&(r, _)) = local.refs.get(*next) {
                *next += 1;
                if locals.contains_key(r) && !facts.contains_key(r) {
                    facts.insert(r, None);
                    stack.push((r, 0));
                }
                continue;
            }
            let mut depth = Some(local.depth);
            let mut kinds = local.kinds;
            for &(r, at) in &local.refs {
                match facts.get(r) {
                    Some(Some(f)) => {
                        depth = depth.zip(f.depth).map(|(d, e)| d.max(at + e));
                        kinds = kinds.add(f.kind);
                    }
                    // On the stack: a cycle.
                    Some(None) => {
                        depth = None;
                        kinds = Kinds::Bad;
                    }
                    // Unknown: the checker reports it.
                    None => kinds = Kinds::Bad,
                }
            }
            let name = *name;
            facts.insert(
                name,
                Some(SetFacts {
                    depth,
                    kind: kinds.kind(),
                }),
            );
            stack.pop();
        }
    }
    facts
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

impl<'w> Scope<'w> {
    /// Resolves the scope of `unit`, reporting duplicates, cycles and imports of
    /// non-libraries that the unit itself causes.
    pub fn build(ws: &'w Workspace, unit: usize, diags: &mut Vec<Diagnostic>) -> Scope<'w> {
        let mut scope = Scope {
            unit,
            sets: HashMap::new(),
            rules: Vec::new(),
            regions: Vec::new(),
            broken_imports: Vec::new(),
            facts: HashMap::new(),
        };
        let mut visited = vec![false; ws.units.len()];
        let mut stack = Vec::new();
        scope.visit(ws, unit, None, &mut visited, &mut stack, diags);
        scope.facts = set_facts(&scope.sets);
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
            // The item's kind and name, and where that name was first defined.
            let (what, name, first) = match item {
                Item::Codes(decl) => (
                    "code set",
                    &decl.name,
                    self.sets
                        .get(decl.name.node.as_str())
                        .map(|f| (f.unit, f.decl.name.span)),
                ),
                Item::Region(decl) => (
                    "region",
                    &decl.name,
                    self.region(&decl.name.node)
                        .map(|f| (f.unit, f.decl.name.span)),
                ),
                Item::Rule(rule) => (
                    "rule",
                    &rule.id,
                    self.rules
                        .iter()
                        .find(|r| r.rule.id.node == rule.id.node)
                        .map(|f| (f.unit, f.rule.id.span)),
                ),
            };
            if let Some((first_unit, first_span)) = first {
                self.duplicate(
                    ws, at, via, first_unit, first_span, name.span, what, &name.node, diags,
                );
                continue;
            }
            match item {
                Item::Codes(decl) => {
                    self.sets
                        .insert(decl.name.node.as_str(), SetDef { unit: at, decl });
                }
                Item::Region(decl) => self.regions.push(RegionDef {
                    unit: at,
                    decl,
                    via,
                }),
                Item::Rule(rule) => self.rules.push(RuleDef { unit: at, rule }),
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
        let code = match what {
            "rule" => DiagCode::DuplicateRule,
            "region" => DiagCode::DuplicateRegion,
            _ => DiagCode::DuplicateCodeSet,
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
            ("region", _, _) => {
                "give each region its own name (`line.region` reads it), or merge the two into one region"
            }
            (_, true, _) => "rename one of the code sets, or merge them into one",
            (_, false, true) => "rename this code set, or remove it and use the imported one",
            (_, false, false) => "rename the code set in one of the two files",
        };
        diags.push(diag.with_help(help));
    }

    /// The kind of codes a set expression holds, resolving names; `None` when a
    /// name is unknown, the definition is circular, or the operands disagree.
    pub fn kind_of(&self, expr: &SetExpr) -> Option<SetKind> {
        let local = Local::of(expr);
        local
            .refs
            .iter()
            .fold(local.kinds, |k, (r, _)| {
                k.add(self.facts.get(r).and_then(|f| f.kind))
            })
            .kind()
    }

    /// How deep a set expression nests, through the sets it names (see
    /// [`MAX_SET_DEPTH`]); `None` when it reaches a circular definition.
    /// Unknown names count as one level.
    pub fn depth_of(&self, expr: &SetExpr) -> Option<usize> {
        let local = Local::of(expr);
        local
            .refs
            .iter()
            .try_fold(local.depth, |d, (r, at)| match self.facts.get(r) {
                Some(f) => f.depth.map(|e| d.max(at + e)),
                None => Some(d),
            })
    }

    /// True when a set that `expr` names is itself deeper than
    /// [`MAX_SET_DEPTH`]: its definition reports it, so uses need not.
    pub fn names_too_deep(&self, expr: &SetExpr) -> bool {
        Local::of(expr).refs.iter().any(|(r, _)| {
            self.facts
                .get(r)
                .and_then(|f| f.depth)
                .is_some_and(|d| d > MAX_SET_DEPTH)
        })
    }

    /// True when the code set `name` is defined, directly or through other sets,
    /// in terms of itself.
    pub fn is_circular(&self, name: &str) -> bool {
        // Only a set that reaches a cycle can be on one.
        if self.facts.get(name).is_none_or(|f| f.depth.is_some()) {
            return false;
        }
        let Some(def) = self.sets.get(name) else {
            return false;
        };
        let mut stack = vec![&def.decl.expr];
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        while let Some(expr) = stack.pop() {
            match expr {
                SetExpr::Literal(_) => {}
                SetExpr::Chain { .. } => stack.extend(expr.terms().map(|(_, t)| t)),
                SetExpr::Ref(r) if r.node == name => return true,
                SetExpr::Ref(r) => {
                    if !seen.insert(r.node.as_str()) {
                        continue;
                    }
                    if let Some(d) = self.sets.get(r.node.as_str()) {
                        stack.push(&d.decl.expr);
                    }
                }
            }
        }
        false
    }

    /// The visible region named `name`.
    pub fn region(&self, name: &str) -> Option<&RegionDef<'w>> {
        self.regions.iter().find(|r| r.decl.name.node == name)
    }

    /// Names of the visible code sets, for suggestions.
    pub fn set_names(&self) -> impl Iterator<Item = &str> {
        self.sets.keys().copied()
    }
}
