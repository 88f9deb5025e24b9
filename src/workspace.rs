//! A workspace: the policy files to load and every file they import, parsed.
//!
//! Loading reads files (from disk, or from memory in tests and docs), parses each
//! once, and resolves `import` paths relative to the importing file. It reports
//! unreadable files and imports; everything else is the checker's job.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{DiagCode, Diagnostic, SourceFile};
use crate::syntax::{self, ast, Span};

/// One parsed file.
#[derive(Debug)]
pub struct Unit {
    /// Path and text.
    pub file: Arc<SourceFile>,
    /// The tree (with whatever parsed if there were syntax errors).
    pub parsed: ast::File,
    /// For each `import`, the index of the unit it names (`None`: unreadable).
    pub imports: Vec<Option<usize>>,
    /// True for files named by the user (not only reached through an import).
    pub root: bool,
    /// Syntax errors; the checker reports them.
    pub syntax_errors: Vec<syntax::SyntaxError>,
}

impl Unit {
    /// The module the file defines, if its opening line parsed.
    pub fn module(&self) -> Option<&ast::Module> {
        self.parsed.module.as_ref()
    }
}

/// Every file loaded, roots first in the order given, then imports.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The files.
    pub units: Vec<Unit>,
}

/// Where file text comes from.
enum Reader<'a> {
    Disk,
    Memory(&'a HashMap<PathBuf, String>),
}

impl Reader<'_> {
    fn read(&self, path: &Path) -> Result<String, String> {
        match self {
            Reader::Disk => std::fs::read_to_string(path).map_err(|e| e.to_string()),
            Reader::Memory(files) => files
                .get(path)
                .cloned()
                .ok_or_else(|| "no such file".to_string()),
        }
    }
}

/// The extension of policy and library files.
pub const EXTENSION: &str = "policy";

impl Workspace {
    /// Loads files and directories from disk: a directory contributes every
    /// `*.policy` file below it, in path order.
    pub fn load(paths: &[PathBuf]) -> (Workspace, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut files = Vec::new();
        for path in paths {
            if path.is_dir() {
                if let Err(e) = collect_policy_files(path, &mut files) {
                    diags.push(io_diagnostic(path, &e.to_string()));
                }
            } else {
                files.push(path.clone());
            }
        }
        let mut ws = Workspace::default();
        ws.add_roots(&files, &Reader::Disk, &mut diags);
        (ws, diags)
    }

    /// Loads in-memory files (`path -> text`); `roots` are the files named by the user.
    pub fn from_memory(
        files: &HashMap<PathBuf, String>,
        roots: &[PathBuf],
    ) -> (Workspace, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut ws = Workspace::default();
        ws.add_roots(roots, &Reader::Memory(files), &mut diags);
        (ws, diags)
    }

    /// Loads one in-memory file with no imports: the common case in tests.
    pub fn single(path: &str, text: &str) -> (Workspace, Vec<Diagnostic>) {
        let mut files = HashMap::new();
        files.insert(PathBuf::from(path), text.to_string());
        Workspace::from_memory(&files, &[PathBuf::from(path)])
    }

    fn add_roots(&mut self, roots: &[PathBuf], reader: &Reader<'_>, diags: &mut Vec<Diagnostic>) {
        let mut index: HashMap<PathBuf, usize> = HashMap::new();
        for root in roots {
            let key = normalize(root);
            // `index` holds indexes into `units`.
            if let Some(unit) = index.get(&key).and_then(|&i| self.units.get_mut(i)) {
                unit.root = true;
                continue;
            }
            match reader.read(root) {
                Ok(text) => {
                    let i = self.push(root, text, true);
                    index.insert(key, i);
                }
                Err(e) => diags.push(io_diagnostic(root, &e)),
            }
        }
        // Breadth-first over imports; `units` grows while we walk it.
        let mut next = 0;
        while let Some(unit) = self.units.get(next) {
            let importer = Arc::clone(&unit.file);
            let base = PathBuf::from(&importer.path);
            let dir = base.parent().map(Path::to_path_buf).unwrap_or_default();
            let imports: Vec<(String, Span)> = unit
                .parsed
                .imports
                .iter()
                .map(|s| (s.node.clone(), s.span))
                .collect();
            let mut resolved = Vec::new();
            for (target, span) in imports {
                let path = normalize(&dir.join(&target));
                if let Some(&i) = index.get(&path) {
                    resolved.push(Some(i));
                    continue;
                }
                match reader.read(&path) {
                    Ok(text) => {
                        let i = self.push(&path, text, false);
                        index.insert(path, i);
                        resolved.push(Some(i));
                    }
                    Err(e) => {
                        diags.push(
                            Diagnostic::new(
                                DiagCode::ImportNotFound,
                                &importer,
                                span,
                                format!("cannot read imported file `{}`: {e}", path.display()),
                            )
                            .with_help(
                                "import paths are relative to the importing file's directory",
                            ),
                        );
                        resolved.push(None);
                    }
                }
            }
            if let Some(unit) = self.units.get_mut(next) {
                unit.imports = resolved;
            }
            next += 1;
        }
    }

    fn push(&mut self, path: &Path, text: String, root: bool) -> usize {
        let parsed = syntax::parse(&text);
        let file = SourceFile::new(path.display().to_string(), text);
        self.units.push(Unit {
            file,
            parsed: parsed.file,
            imports: Vec::new(),
            root,
            syntax_errors: parsed.errors,
        });
        self.units.len() - 1
    }
}

fn io_diagnostic(path: &Path, error: &str) -> Diagnostic {
    let file = SourceFile::new(path.display().to_string(), String::new());
    Diagnostic::new(
        DiagCode::FileUnreadable,
        &file,
        Span::default(),
        format!("cannot read `{}`: {error}", path.display()),
    )
    .with_help(
        "check the path; `check` and `eval` take policy files or directories of `*.policy` files",
    )
}

/// Every file below `dir` (recursively, in path order) that `keep` accepts: how
/// `check`, `fmt` and `test` find policy and case files in a directory.
pub fn files_below(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    fn walk(
        dir: &Path,
        keep: &dyn Fn(&Path) -> bool,
        out: &mut Vec<PathBuf>,
    ) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, keep, out)?;
            } else if keep(&path) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, keep, &mut out)?;
    Ok(out)
}

/// True for a `*.policy` file.
pub fn is_policy_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == EXTENSION)
}

fn collect_policy_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    out.extend(files_below(dir, &is_policy_file)?);
    Ok(())
}

/// Removes `.` and folds `dir/..` without touching the file system, so the same
/// file reached by two paths is loaded once.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_dots() {
        assert_eq!(
            normalize(Path::new("a/./b/../c.policy")),
            PathBuf::from("a/c.policy")
        );
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    }

    #[test]
    fn imports_resolve_relative_to_the_importer() {
        let mut files = HashMap::new();
        files.insert(
            PathBuf::from("p/a.policy"),
            "import \"lib/b.policy\"\npolicy a { }".to_string(),
        );
        files.insert(PathBuf::from("p/lib/b.policy"), "library b { }".to_string());
        let (ws, diags) = Workspace::from_memory(&files, &[PathBuf::from("p/a.policy")]);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(ws.units.len(), 2);
        assert_eq!(ws.units[0].imports, vec![Some(1)]);
        assert!(!ws.units[1].root);
    }

    #[test]
    fn a_missing_import_is_reported_at_its_span() {
        let (ws, diags) = Workspace::single("a.policy", "import \"nope.policy\"\npolicy a { }");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, DiagCode::ImportNotFound);
        assert_eq!(diags[0].span, Span::new(7, 20));
        assert_eq!(ws.units[0].imports, vec![None]);
    }
}
