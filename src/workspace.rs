//! A workspace: the policy files to load and every file they import, parsed.
//!
//! Loading reads files (from disk, or from memory in tests and docs), parses each
//! once, and resolves `import` paths relative to the importing file. It reports
//! unreadable files and imports; everything else is the checker's job.

use std::collections::{HashMap, HashSet};
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

/// The largest policy file read: 8 MiB, far beyond any real policy (the bundled
/// ones are under 20 KiB), so that `/dev/zero` or a huge file cannot exhaust memory.
pub const MAX_POLICY_BYTES: u64 = 8 * 1024 * 1024;

/// Why a policy file's text could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The file system refused (missing file, no permission...).
    Io(String),
    /// A directory, FIFO, device or socket: reading it could block or never end.
    NotRegular(&'static str),
    /// Larger than `MAX_POLICY_BYTES` (8 MiB).
    TooLarge(u64),
    /// Not UTF-8; the offset of the first bad byte.
    NotUtf8(usize),
}

impl ReadError {
    /// What is wrong, after "cannot read `path`: ".
    pub fn message(&self) -> String {
        match self {
            ReadError::Io(e) => e.clone(),
            ReadError::NotRegular(kind) => format!("it is {kind}, not a regular file"),
            ReadError::TooLarge(size) => format!(
                "it is {size} bytes, more than the {MAX_POLICY_BYTES} bytes (8 MiB) a policy file may have"
            ),
            ReadError::NotUtf8(at) => format!("it is not valid UTF-8 (byte offset {at})"),
        }
    }

    /// How to fix it.
    pub fn help(&self) -> &'static str {
        match self {
            ReadError::Io(_) => {
                "check the path; `check` and `eval` take policy files or directories of `*.policy` files"
            }
            ReadError::NotRegular(_) => {
                "policy files must be regular files (a symlink to one is fine); remove or rename this one"
            }
            ReadError::TooLarge(_) => "split the policy into libraries, or check that this is the right file",
            ReadError::NotUtf8(_) => {
                "save the file as UTF-8; the byte offset says where the first invalid byte is"
            }
        }
    }
}

/// The text of a policy file on disk: only a regular file of at most
/// `MAX_POLICY_BYTES` (8 MiB), in UTF-8; a leading byte order mark is dropped.
///
/// The metadata is checked before the file is opened, so a FIFO or a device is
/// never opened (opening a FIFO blocks until a writer comes); the read is capped
/// as well, for a file that grows after the check.
pub fn read_policy_text(path: &Path) -> Result<String, ReadError> {
    policy_text(read_policy_bytes(path)?)
}

/// The bytes of a policy file, with the checks of [`read_policy_text`] but
/// before decoding: `fmt` keeps a byte order mark where it found one.
pub fn read_policy_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    use std::io::Read as _;
    let io = |e: std::io::Error| ReadError::Io(e.to_string());
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(file_kind(&meta.file_type())));
    }
    if meta.len() > MAX_POLICY_BYTES {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // The path may have been swapped between the two looks.
    let opened = file.metadata().map_err(io)?;
    if !opened.is_file() {
        return Err(ReadError::NotRegular(file_kind(&opened.file_type())));
    }
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > MAX_POLICY_BYTES {
        return Err(ReadError::TooLarge(len));
    }
    Ok(bytes)
}

/// Bytes as policy text: UTF-8, without a leading byte order mark (an editor's
/// marker, not a token).
pub fn policy_text(mut bytes: Vec<u8>) -> Result<String, ReadError> {
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8(e.utf8_error().valid_up_to()))
}

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// "a directory", "a FIFO"... for messages.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Where file text comes from.
enum Reader<'a> {
    Disk,
    Memory(&'a HashMap<PathBuf, String>),
}

impl Reader<'_> {
    fn read(&self, path: &Path) -> Result<String, ReadError> {
        match self {
            Reader::Disk => read_policy_text(path),
            Reader::Memory(files) => files
                .get(path)
                .cloned()
                .ok_or_else(|| ReadError::Io("no such file".to_string())),
        }
    }

    /// What makes two paths one file: on disk the canonical path (symlinks
    /// resolved, so two spellings or a link are one file); in memory the
    /// path with `.` and `..` folded.
    fn identity(&self, path: &Path) -> Result<PathBuf, ReadError> {
        match self {
            Reader::Disk => path
                .canonicalize()
                .map_err(|e| ReadError::Io(e.to_string())),
            Reader::Memory(_) => Ok(normalize(path)),
        }
    }

    /// The identity of a path that cannot be resolved, from its spelling alone.
    fn lexical(&self, path: &Path) -> PathBuf {
        match self {
            Reader::Disk => normalize(&std::env::current_dir().unwrap_or_default().join(path)),
            Reader::Memory(_) => normalize(path),
        }
    }

    /// The identity of the directory that holds `file`, for the policy tree.
    fn dir_identity(&self, file: &Path) -> Option<PathBuf> {
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        self.identity(dir).ok()
    }
}

/// The directories imports may read from: those named by the user and those
/// holding the files named by the user, as identities ([`Reader::identity`]).
#[derive(Debug, Default)]
struct Tree {
    roots: Vec<PathBuf>,
    /// Every path is inside (an in-memory project, which can read nothing else).
    everything: bool,
}

impl Tree {
    /// True when `id` lies below one of the roots (never through `..`).
    fn contains(&self, id: &Path) -> bool {
        self.everything
            || self.roots.iter().any(|root| {
                id.strip_prefix(root).is_ok_and(|rest| {
                    !rest
                        .components()
                        .any(|c| matches!(c, Component::ParentDir | Component::RootDir))
                })
            })
    }

    /// The roots for a message.
    fn describe(&self) -> String {
        let names: Vec<String> = self
            .roots
            .iter()
            .map(|r| {
                if r.as_os_str().is_empty() {
                    "`.`".to_string()
                } else {
                    format!("`{}`", r.display())
                }
            })
            .collect();
        names.join(", ")
    }
}

/// The extension of policy and library files.
pub const EXTENSION: &str = "policy";

impl Workspace {
    /// Loads files and directories from disk: a directory contributes every
    /// `*.policy` file below it, in path order.
    ///
    /// The policy tree is the directories named and the directories of the
    /// files named, after symlinks: an import, or a file found in a
    /// directory, that resolves outside it is refused (`PR006`) unread.
    pub fn load(paths: &[PathBuf]) -> (Workspace, Vec<Diagnostic>) {
        Workspace::load_within(paths, &[])
    }

    /// [`Workspace::load`] with more directories in the policy tree, loaded
    /// only when imported: `test` runs a case file's policy within every
    /// path named on its command line.
    pub fn load_within(paths: &[PathBuf], tree_too: &[PathBuf]) -> (Workspace, Vec<Diagnostic>) {
        let reader = Reader::Disk;
        let mut diags = Vec::new();
        let mut files = Vec::new();
        let mut tree = Tree::default();
        for dir in tree_too {
            let id = if dir.is_dir() {
                reader.identity(dir).ok()
            } else {
                reader.dir_identity(dir)
            };
            tree.roots.extend(id);
        }
        for path in paths {
            if path.is_dir() {
                if let Ok(id) = reader.identity(path) {
                    tree.roots.push(id);
                }
                match collect_policy_files(path) {
                    Ok(found) => files.extend(found.into_iter().map(|f| (f, false))),
                    Err(e) => diags.push(io_diagnostic(path, &ReadError::Io(e.to_string()))),
                }
            } else {
                if let Some(id) = reader.dir_identity(path) {
                    tree.roots.push(id);
                }
                files.push((path.clone(), true));
            }
        }
        let mut ws = Workspace::default();
        ws.add_roots(&files, &reader, &tree, &mut diags);
        (ws, diags)
    }

    /// Loads in-memory files (`path -> text`); `roots` are the files named by the user.
    pub fn from_memory(
        files: &HashMap<PathBuf, String>,
        roots: &[PathBuf],
    ) -> (Workspace, Vec<Diagnostic>) {
        let reader = Reader::Memory(files);
        let mut diags = Vec::new();
        // An in-memory project is its own sandbox: it reads nothing else.
        let tree = Tree {
            roots: Vec::new(),
            everything: true,
        };
        let named: Vec<(PathBuf, bool)> = roots.iter().map(|r| (r.clone(), true)).collect();
        let mut ws = Workspace::default();
        ws.add_roots(&named, &reader, &tree, &mut diags);
        (ws, diags)
    }

    /// Loads one in-memory file with no imports: the common case in tests.
    pub fn single(path: &str, text: &str) -> (Workspace, Vec<Diagnostic>) {
        let mut files = HashMap::new();
        files.insert(PathBuf::from(path), text.to_string());
        Workspace::from_memory(&files, &[PathBuf::from(path)])
    }

    /// Reads the root files (`true`: named by the user, so never refused as
    /// outside the tree), then their imports breadth-first.
    fn add_roots(
        &mut self,
        roots: &[(PathBuf, bool)],
        reader: &Reader<'_>,
        tree: &Tree,
        diags: &mut Vec<Diagnostic>,
    ) {
        // File identity -> index into `units`.
        let mut index: HashMap<PathBuf, usize> = HashMap::new();
        for (root, named) in roots {
            let key = match reader.identity(root) {
                Ok(key) => key,
                Err(e) => {
                    diags.push(io_diagnostic(root, &e));
                    continue;
                }
            };
            if let Some(unit) = index.get(&key).and_then(|&i| self.units.get_mut(i)) {
                unit.root = true;
                continue;
            }
            let inside = tree.contains(&key) && is_policy_file(&key);
            if !(*named || inside) {
                diags.push(outside_diagnostic(root, &key, tree));
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
                let refuse = |why: String, help: String| {
                    Diagnostic::new(DiagCode::ImportOutsideTree, &importer, span, why)
                        .with_help(help)
                };
                if !is_policy_file(&path) {
                    diags.push(refuse(
                        format!("import `{target}` does not name a `*.policy` file"),
                        "an import names a library file: a path ending in `.policy`".to_string(),
                    ));
                    resolved.push(None);
                    continue;
                }
                // A path that cannot be resolved is judged as written, so
                // that the message never tells whether a file outside exists.
                let key = reader.identity(&path);
                let judged = key.clone().unwrap_or_else(|_| reader.lexical(&path));
                if !tree.contains(&judged) || !is_policy_file(&judged) {
                    diags.push(refuse(
                        format!(
                            "import `{target}` resolves to `{}`, outside the policy tree",
                            judged.display()
                        ),
                        format!(
                            "imports may only read `*.policy` files below the directories being loaded ({}); \
                             load a directory that holds both files, or copy the library into the tree",
                            tree.describe()
                        ),
                    ));
                    resolved.push(None);
                    continue;
                }
                let key = match key {
                    Ok(key) => key,
                    Err(e) => {
                        diags.push(import_unreadable(&importer, span, &path, &e));
                        resolved.push(None);
                        continue;
                    }
                };
                if let Some(&i) = index.get(&key) {
                    resolved.push(Some(i));
                    continue;
                }
                match reader.read(&path) {
                    Ok(text) => {
                        let i = self.push(&path, text, false);
                        index.insert(key, i);
                        resolved.push(Some(i));
                    }
                    Err(e) => {
                        diags.push(import_unreadable(&importer, span, &path, &e));
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

fn io_diagnostic(path: &Path, error: &ReadError) -> Diagnostic {
    // The file's text is never attached: it was not read as a policy.
    let file = SourceFile::new(path.display().to_string(), String::new());
    Diagnostic::new(
        DiagCode::FileUnreadable,
        &file,
        Span::default(),
        format!("cannot read `{}`: {}", path.display(), error.message()),
    )
    .with_help(error.help())
}

fn import_unreadable(
    importer: &Arc<SourceFile>,
    span: Span,
    path: &Path,
    error: &ReadError,
) -> Diagnostic {
    let help = match error {
        ReadError::Io(_) => "import paths are relative to the importing file's directory",
        other => other.help(),
    };
    Diagnostic::new(
        DiagCode::ImportNotFound,
        importer,
        span,
        format!(
            "cannot read imported file `{}`: {}",
            path.display(),
            error.message()
        ),
    )
    .with_help(help)
}

/// A file found in a directory that resolves outside the policy tree (a
/// symlink out of it), or to a file that is not `*.policy`.
fn outside_diagnostic(path: &Path, id: &Path, tree: &Tree) -> Diagnostic {
    let file = SourceFile::new(path.display().to_string(), String::new());
    Diagnostic::new(
        DiagCode::ImportOutsideTree,
        &file,
        Span::default(),
        format!(
            "`{}` resolves to `{}`, outside the policy tree",
            path.display(),
            id.display()
        ),
    )
    .with_help(format!(
        "policy files found in a directory must resolve to `*.policy` files below it ({}); \
         remove the symlink, or name the file on the command line",
        tree.describe()
    ))
}

/// Every file below `dir` (recursively, in path order) that `keep` accepts: how
/// `check`, `fmt` and `test` find policy and case files in a directory.
///
/// A directory is walked once: a symlink to a directory already walked, or to
/// one that holds the directory being walked (a link to `..`), is not
/// followed, so a link cannot make the walk loop or list a file twice.
pub fn files_below(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    fn walk(
        dir: &Path,
        keep: &dyn Fn(&Path) -> bool,
        seen: &mut HashSet<PathBuf>,
        out: &mut Vec<PathBuf>,
    ) -> std::io::Result<()> {
        let here = dir.canonicalize()?;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                let Ok(target) = path.canonicalize() else {
                    continue;
                };
                if here.starts_with(&target) || !seen.insert(target) {
                    continue;
                }
                walk(&path, keep, seen, out)?;
            } else if keep(&path) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    seen.insert(dir.canonicalize()?);
    walk(dir, keep, &mut seen, &mut out)?;
    Ok(out)
}

/// True for a `*.policy` file.
pub fn is_policy_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == EXTENSION)
}

fn collect_policy_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    files_below(dir, &is_policy_file)
}

/// Removes `.` and folds `dir/..` without touching the file system: a `..`
/// cancels the name before it, never another `..` (`../../x` stays as it is)
/// and never the root (`/..` is `/`).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::ParentDir | Component::CurDir) | None => out.push(".."),
            },
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
        // P1: a `..` never cancels another `..`.
        assert_eq!(normalize(Path::new("../../x")), PathBuf::from("../../x"));
        assert_eq!(
            normalize(Path::new("a/../../../lib/x.policy")),
            PathBuf::from("../../lib/x.policy")
        );
        assert_eq!(normalize(Path::new("/a/../../x")), PathBuf::from("/x"));
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
