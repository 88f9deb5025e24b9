//! The loaded, compiled policies and how a claim finds its policy.
//!
//! This is the front door of the library: load files, get diagnostics, and (when
//! there are no errors) a [`Policies`] to hand to an [`crate::Engine`].

use std::path::PathBuf;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::check::check;
use crate::claims::Claim;
use crate::compile::{compile_workspace, plan::Policy};
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::workspace::Workspace;

/// Compiled policies, indexed by payer.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    list: Vec<Policy>,
    by_payer: FxHashMap<String, Vec<usize>>,
}

/// What loading produced: the policies when there was no error, and every
/// diagnostic (warnings too).
#[derive(Debug)]
pub struct Loaded {
    /// `None` when any diagnostic is an error.
    pub policies: Option<Policies>,
    /// Errors and warnings, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The files read, for reporting.
    pub workspace: Workspace,
}

impl Loaded {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The policies, ready for an [`crate::Engine`]; an error when any
    /// diagnostic is an error or when no policy was found (libraries alone
    /// decide nothing). Warnings are dropped: read [`Loaded::diagnostics`]
    /// first to report them.
    pub fn into_result(self) -> Result<Policies, LoadError> {
        match self.policies {
            Some(policies) if !self.diagnostics.iter().any(Diagnostic::is_error) => {
                if policies.is_empty() {
                    Err(LoadError::NoPolicies(NoPolicies {
                        files: self.workspace.units.len(),
                    }))
                } else {
                    Ok(policies)
                }
            }
            _ => Err(LoadError::Invalid(InvalidPolicies {
                diagnostics: self
                    .diagnostics
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .collect(),
            })),
        }
    }
}

/// Why loaded policies cannot evaluate claims.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum LoadError {
    /// Some diagnostic is an error.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(InvalidPolicies),
    /// The files hold no policy.
    #[error(transparent)]
    #[diagnostic(transparent)]
    NoPolicies(NoPolicies),
}

/// The policies have errors: nothing can be evaluated until they are fixed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("the policies have {} error(s); nothing can be evaluated", diagnostics.len())]
#[diagnostic(
    code(payer_rules::load::invalid),
    help("fix the errors listed (`payer-rules check` shows them with their spans)")
)]
pub struct InvalidPolicies {
    /// The error diagnostics, sorted by file and position.
    #[related]
    pub diagnostics: Vec<Diagnostic>,
}

/// The files loaded hold no policy (libraries, or nothing at all).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("no policy found in the {files} file(s) loaded")]
#[diagnostic(
    code(payer_rules::load::no_policies),
    help("load a directory of `*.policy` files, or files whose module is `policy`, not only `library`")
)]
pub struct NoPolicies {
    /// How many files were read.
    pub files: usize,
}

/// No loaded policy applies to a claim: an error record of kind `no_policy`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(
    code(payer_rules::eval::no_policy),
    help(
        "load a policy of the claim's payer whose `effective` dates cover each line's date of service, \
         or check the claim's `payer` (for X12, the `--payer-ids` table)"
    )
)]
pub struct NoPolicy {
    /// What is missing, for the error record.
    pub message: String,
    /// The field to blame: `payer`, or a line's `date_of_service`.
    pub path: String,
}

impl Policies {
    /// Loads, checks and compiles policy files and directories of `*.policy` files.
    pub fn load(paths: &[PathBuf]) -> Loaded {
        Policies::load_within(paths, &[])
    }

    /// [`Policies::load`] with more directories (or files' directories) in the
    /// policy tree that imports may read from; they are not loaded themselves.
    pub fn load_within(paths: &[PathBuf], tree_too: &[PathBuf]) -> Loaded {
        let (ws, diags) = Workspace::load_within(paths, tree_too);
        Policies::from_workspace(ws, diags)
    }

    /// Loads, checks and compiles policy files given as text rather than read
    /// from disk: a bundle received over the network, or the files of a git
    /// revision. `files` maps each path to its text; `roots` names the files
    /// to load (imports are resolved among `files`), as [`Policies::load`]
    /// does for paths on disk.
    pub fn from_memory(
        files: &std::collections::HashMap<PathBuf, String>,
        roots: &[PathBuf],
    ) -> Loaded {
        let (ws, diags) = Workspace::from_memory(files, roots);
        Policies::from_workspace(ws, diags)
    }

    /// Loads one policy from text: for tests and documentation snippets.
    pub fn from_source(path: &str, text: &str) -> Loaded {
        let (ws, diags) = Workspace::single(path, text);
        Policies::from_workspace(ws, diags)
    }

    /// Checks and compiles a loaded workspace.
    pub fn from_workspace(ws: Workspace, mut diagnostics: Vec<Diagnostic>) -> Loaded {
        let compiled = {
            let checked = check(&ws);
            diagnostics.extend(checked.diagnostics.iter().cloned());
            crate::check::sort(&mut diagnostics);
            if diagnostics.iter().any(Diagnostic::is_error) {
                None
            } else {
                Some(compile_workspace(&checked))
            }
        };
        match compiled {
            None => Loaded {
                policies: None,
                diagnostics,
                workspace: ws,
            },
            Some(Ok(list)) => Loaded {
                policies: Some(Policies::new(list)),
                diagnostics,
                workspace: ws,
            },
            Some(Err(e)) => {
                // Where the policy's file is known, the diagnostic points at it.
                let file = ws
                    .units
                    .iter()
                    .find(|u| u.module().is_some_and(|m| m.id.node == e.policy))
                    .map_or_else(
                        || SourceFile::new(e.policy.clone(), String::new()),
                        |u| u.file.clone(),
                    );
                diagnostics.push(
                    Diagnostic::new(e.code, &file, e.span, e.to_string()).with_help(e.help()),
                );
                Loaded {
                    policies: None,
                    diagnostics,
                    workspace: ws,
                }
            }
        }
    }

    /// Indexes compiled policies by payer, each payer's in policy order:
    /// by id, then by start date (then load order), the order a line's
    /// policies run in and its reasons are listed in.
    pub fn new(list: Vec<Policy>) -> Policies {
        let mut by_payer: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (i, p) in list.iter().enumerate() {
            for payer in &p.payers {
                by_payer.entry(payer.clone()).or_default().push(i);
            }
        }
        for of_payer in by_payer.values_mut() {
            of_payer.sort_by_key(|&i| list.get(i).map(|p| (p.id.clone(), p.effective_from, i)));
        }
        Policies { list, by_payer }
    }

    /// Policy number `index` in load order (what [`Selection`] holds).
    pub fn get(&self, index: usize) -> Option<&Policy> {
        self.list.get(index)
    }

    /// The policies, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Policy> {
        self.list.iter()
    }

    /// The X12 payer ids the policies declare (`payer-ids`), each mapped to
    /// its policy's first payer: what an 837P's 2010BB NM109 is read as.
    /// The checker refuses an id declared for two payers (PR110); policies
    /// put together without it (`Policies::new`) keep the first loaded.
    pub fn payer_ids(&self) -> crate::x12::PayerIds {
        let mut ids = crate::x12::PayerIds::new();
        for p in &self.list {
            if let Some(payer) = p.payers.first() {
                for id in &p.payer_ids {
                    if ids.payer(id).is_none() {
                        ids.insert(id, payer);
                    }
                }
            }
        }
        ids
    }

    /// How many policies are loaded.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when none is loaded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The first of the policies that apply to a claim (see
    /// [`Policies::select_lines`]): the one its decision's `policy` names.
    pub fn select(&self, claim: &Claim) -> Result<&Policy, NoPolicy> {
        let mut selection = Selection::default();
        self.select_lines(claim, &mut selection)?;
        selection
            .applied()
            .first()
            .and_then(|&i| self.get(usize::from(i)))
            .ok_or_else(|| NoPolicy {
                message: format!("claim `{}` has no lines", claim.id),
                path: "lines".to_string(),
            })
    }

    /// The policies that apply to each line of a claim, into `out`: every
    /// policy of the claim's payer in effect on the line's date of service,
    /// one version per policy id (of two versions of one id in effect on the
    /// date, which PR404 warns about, the one that took effect last), in
    /// policy order (by id, then start date). On failure (no policy of the
    /// payer, or none in effect on some line's date), the message and the
    /// field path to blame.
    pub fn select_lines(&self, claim: &Claim, out: &mut Selection) -> Result<(), NoPolicy> {
        out.clear();
        let Some(candidates) = self.by_payer.get(claim.payer.as_str()) else {
            let mut payers: Vec<&str> = self.by_payer.keys().map(String::as_str).collect();
            payers.sort_unstable();
            return Err(NoPolicy {
                message: format!(
                    "no policy is loaded for payer `{}` (loaded payers: {})",
                    claim.payer,
                    payers.join(", ")
                ),
                path: "payer".to_string(),
            });
        };
        // The payers' lists hold indexes into `list` (`Policies::new`).
        let of_payer = || candidates.iter().filter_map(|&i| self.list.get(i));
        // The common case: the payer has one policy, in effect on every line.
        if let [only] = candidates.as_slice() {
            if let Some(p) = self.list.get(*only) {
                if claim.lines.iter().all(|l| p.covers(l.date_of_service)) {
                    out.applied.push(u16::try_from(*only).unwrap_or(u16::MAX));
                    return Ok(());
                }
            }
        }
        for (index, line) in claim.lines.iter().enumerate() {
            let start = out.each.len();
            let mut last: Option<&Policy> = None;
            for (&i, p) in candidates.iter().zip(of_payer()) {
                if !p.covers(line.date_of_service) {
                    continue;
                }
                let i = u16::try_from(i).unwrap_or(u16::MAX);
                // Versions of one id are next to each other, the later start
                // last: it replaces the earlier.
                match last {
                    Some(l) if l.id == p.id && out.each.len() > start => {
                        if let Some(slot) = out.each.last_mut() {
                            *slot = i;
                        }
                    }
                    _ => out.each.push(i),
                }
                last = Some(p);
            }
            if out.each.len() == start {
                out.clear();
                let spans: Vec<String> = of_payer()
                    .map(|p| {
                        let end = p.effective_to.map(|d| d.to_string()).unwrap_or_default();
                        format!("{} {}..{end}", p.id, p.effective_from)
                    })
                    .collect();
                return Err(NoPolicy {
                    message: format!(
                        "no `{}` policy is in effect on {} (policies: {})",
                        claim.payer,
                        line.date_of_service,
                        spans.join(", ")
                    ),
                    path: format!("lines[{index}].date_of_service"),
                });
            }
            out.ends
                .push(u16::try_from(out.each.len()).unwrap_or(u16::MAX));
        }
        // Every policy that applied, in policy order: the payer's list is in
        // that order.
        for &i in candidates {
            let Ok(i) = u16::try_from(i) else { continue };
            if out.each.contains(&i) {
                out.applied.push(i);
            }
        }
        Ok(())
    }
}

/// The policies that apply to each line of a claim, as indexes into the
/// loaded policies ([`Policies::get`]); filled by [`Policies::select_lines`]
/// and kept for its room between claims.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Per line, where its policies end in `each` (its start is the end of
    /// the line before). Empty when one policy applies to every line.
    ends: SmallVec<[u16; 8]>,
    /// The lines' policies, line after line, each line's in policy order.
    each: SmallVec<[u16; 8]>,
    /// Every policy that applied to some line, in policy order.
    applied: SmallVec<[u16; 4]>,
}

impl Selection {
    fn clear(&mut self) {
        self.ends.clear();
        self.each.clear();
        self.applied.clear();
    }

    /// Every policy that applied to some line, in policy order (by id, then
    /// start date): the decision's `policies`.
    pub fn applied(&self) -> &[u16] {
        &self.applied
    }

    /// The policies of line `index` (its position in the claim), in policy order.
    pub fn line(&self, index: usize) -> &[u16] {
        if self.ends.is_empty() {
            return &self.applied;
        }
        let start = match index.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(index).copied().unwrap_or(0);
        self.each
            .get(usize::from(start)..usize::from(end))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn imported_code_sets_and_rules_compile_into_the_policy_first() {
        let mut files = HashMap::new();
        files.insert(
            PathBuf::from("p/shared/base.policy"),
            "library base {\n codes tpi = cpt 20552, 20553\n rule B1 { when line.procedure in tpi and line.units > 1 deny CO-151 }\n}".to_string(),
        );
        files.insert(
            PathBuf::from("p/payer.policy"),
            "import \"shared/base.policy\"\npolicy acme { payer x version \"1\" effective 2024-01-01.. source \"s\"\n rule P1 { when line.procedure in tpi deny CO-50 }\n}".to_string(),
        );
        let (ws, diags) = Workspace::from_memory(&files, &[PathBuf::from("p/payer.policy")]);
        let loaded = Policies::from_workspace(ws, diags);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let policies = loaded.policies.unwrap_or_default();
        assert_eq!(policies.len(), 1, "a library is not a selectable policy");
        let p = policies
            .iter()
            .next()
            .unwrap_or_else(|| panic!("no policy"));
        let ids: Vec<&str> = p.rules.iter().map(|r| &*r.id).collect();
        assert_eq!(ids, ["B1", "P1"]);
        assert!(
            p.rules[0].at.starts_with("p/shared/base.policy:3:"),
            "{}",
            p.rules[0].at
        );
    }

    #[test]
    fn an_x12_payer_id_stands_for_the_first_loaded_policys_payer() {
        let policy = |payer: &str| {
            let text = format!(
                "policy {payer}-tpi {{ payer {payer} payer-ids \"00882\", \"{payer}\" version \"1\" effective 2024-01-01.. source \"s\" }}"
            );
            let loaded = Policies::from_source("x.policy", &text);
            assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
            loaded.policies.unwrap_or_default().list
        };
        // Put together without the checker, which refuses the clash (PR110).
        for (first, second) in [("medicare", "aetna"), ("aetna", "medicare")] {
            let both = Policies::new([policy(first), policy(second)].concat());
            let ids = both.payer_ids();
            assert_eq!(ids.payer("00882"), Some(first));
            assert_eq!(ids.payer(second), Some(second));
        }
    }

    #[test]
    fn a_policy_with_errors_does_not_compile() {
        let loaded = Policies::from_source("x.policy", "policy x { payer a }");
        assert!(loaded.has_errors());
        assert!(loaded.policies.is_none());
    }
}
