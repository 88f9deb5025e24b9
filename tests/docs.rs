//! The documentation's examples are tests.
//!
//! Every fenced block in `docs/*.md` and `docs/lints/*.md` whose info string
//! starts with `policy` is loaded and checked:
//!
//! - ```` ```policy ````: a whole file; it must load with no diagnostics.
//! - ```` ```policy-item ````: rules and `codes` lines; they are put into [`PRELUDE`]
//!   (a policy that defines the code sets the docs use) and must load with no
//!   diagnostics. A set the item defines itself replaces the prelude's.
//! - ```` ```policy-error ```` / ```` ```policy-item-error ````: the same, but
//!   the block must produce at least one error.
//!
//! Words after the tag refine the check:
//!
//! - `PR206` (any diagnostic code): the codes the block produces, exactly. A
//!   valid block may list warnings (`policy-item PR207`); an error block lists
//!   the errors it shows.
//! - `file=PATH`: the block is a file of a small in-memory project (one per doc
//!   file) so that `import` can be shown; it is loaded as the root, with the
//!   other `file=` blocks of the same doc file and the bundled libraries
//!   (`policies/lib/NAME.policy`) available to import. A later block with the same
//!   `file=` is the next version of that file: a tutorial grows a file step by step.
//! - `with=PATH`: another `file=` block of the same doc file loaded beside this
//!   one as a root too (as `payer-rules check` loads a directory), e.g. to show
//!   two policies of one payer.
//! - `prelude`: the block shows [`PRELUDE`] and must equal it.
//!
//! The prelude defines more sets than any one item uses; that they are unused
//! (PR402) is not the item's doing, so those warnings are left out. So are the
//! PR402 warnings of an item that only shows `codes` lines: the rules that would
//! use them are not part of the example.
//!
//! More tests keep `docs/language.md` in step with the code: the field table with
//! `FIELDS`, the diagnostic table with `DiagCode::ALL`, and the tables and worked
//! example that describe behaviour (missing values, site matching, windows) with
//! what the engine does on claims.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use payer_rules::internal::read_claims_str;
use payer_rules::internal::Workspace;
use payer_rules::internal::FIELDS;
use payer_rules::{Action, InputFormat};
use payer_rules::{DiagCode, Engine, Loaded, Outcome, Policies};

/// The policy `policy-item` blocks are wrapped in; `docs/language.md` shows it in
/// a ```` ```policy prelude ```` block. One `codes` declaration per line, so that an
/// item can replace one.
const PRELUDE: &str = r#"/// The code sets every `policy-item` example in the docs may use.
policy doc-example "Documentation examples" {
  payer example
  version "1"
  effective 2020-01-01..
  source "docs/language.md"

  codes tpi           = cpt 20552, 20553
  codes dry_needling  = cpt 20560, 20561
  codes drugs         = hcpcs J*
  codes guidance      = cpt 76942, 77002, 77021
  codes anesthesia    = cpt 00100-01999
  codes em_visits     = cpt 99202-99205, 99211-99215
  codes covered_dx    = icd10 G44.201, G44.209, G44.211, G44.219, G44.221, G44.229, M79.10, M79.11, M79.12, M79.18
  codes myofascial_dx = icd10 M60.80-M60.89, M62.830-M62.838, M79.1*, M79.7
}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Policy,
    Item,
    PolicyError,
    ItemError,
}

impl Kind {
    fn from_tag(tag: &str) -> Option<Kind> {
        match tag {
            "policy" => Some(Kind::Policy),
            "policy-item" => Some(Kind::Item),
            "policy-error" => Some(Kind::PolicyError),
            "policy-item-error" => Some(Kind::ItemError),
            _ => None,
        }
    }

    fn wants_error(self) -> bool {
        matches!(self, Kind::PolicyError | Kind::ItemError)
    }

    fn is_item(self) -> bool {
        matches!(self, Kind::Item | Kind::ItemError)
    }
}

/// One fenced example.
#[derive(Debug, Clone)]
struct Block {
    /// `docs/x.md:LINE` of the opening fence.
    at: String,
    kind: Kind,
    /// `file=PATH`.
    file: Option<String>,
    /// Diagnostic codes listed after the tag.
    codes: BTreeSet<String>,
    /// Tagged `prelude`.
    prelude: bool,
    /// `with=PATH`: more roots.
    with: Vec<String>,
    text: String,
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
}

fn markdown_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files
}

/// `docs/*.md`, then `docs/lints/*.md`.
fn doc_files() -> Vec<PathBuf> {
    let mut files = markdown_in(&docs_dir());
    files.extend(markdown_in(&docs_dir().join("lints")));
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn display_name(path: &Path) -> String {
    let relative = path.strip_prefix(docs_dir()).unwrap_or(path);
    format!("docs/{}", relative.to_string_lossy())
}

/// The `policy*` blocks of a markdown text. An info string that starts with
/// `policy` but is no known tag is an error, so a typo cannot skip an example.
fn extract(name: &str, text: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        // A fence may be indented (inside a list item); so is its body.
        let indent = line.len() - line.trim_start().len();
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let mut words = info.split_whitespace();
        let tag = words.next().unwrap_or("");
        let mut body = String::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            if inner.trim() == "```" {
                closed = true;
                break;
            }
            let unindented = inner
                .get(indent..)
                .filter(|_| inner[..indent].trim().is_empty());
            body.push_str(unindented.unwrap_or(inner.trim_start()));
            body.push('\n');
        }
        let at = format!("{name}:{}", i + 1);
        if !closed {
            return Err(format!("{at}: the block is never closed"));
        }
        if !tag.starts_with("policy") {
            continue;
        }
        let kind = Kind::from_tag(tag).ok_or_else(|| format!("{at}: unknown tag `{tag}`"))?;
        let mut block = Block {
            at,
            kind,
            file: None,
            codes: BTreeSet::new(),
            prelude: false,
            with: Vec::new(),
            text: body,
        };
        for word in words {
            if let Some(path) = word.strip_prefix("with=") {
                block.with.push(path.to_string());
            } else if let Some(path) = word.strip_prefix("file=") {
                block.file = Some(path.to_string());
            } else if word == "prelude" {
                block.prelude = true;
            } else if DiagCode::ALL.iter().any(|c| c.code() == word) {
                block.codes.insert(word.to_string());
            } else {
                return Err(format!("{}: unknown word `{word}` after `{tag}`", block.at));
            }
        }
        if !block.with.is_empty() && block.file.is_none() {
            return Err(format!("{}: `with=` needs `file=`", block.at));
        }
        if block.file.is_some() && kind.is_item() {
            return Err(format!(
                "{}: `file=` is for whole files, not items",
                block.at
            ));
        }
        blocks.push(block);
    }
    Ok(blocks)
}

/// The names an item defines with `codes NAME =`.
fn defined_sets(item: &str) -> BTreeSet<String> {
    item.lines()
        .filter_map(|l| l.trim_start().strip_prefix("codes "))
        .filter_map(|rest| rest.split('=').next())
        .map(|name| name.trim().to_string())
        .collect()
}

/// The prelude with the item put before its closing brace, less the prelude
/// sets the item defines itself.
fn wrap(item: &str) -> String {
    wrap_at(item).0
}

/// [`wrap`], and where the item starts in the text.
fn wrap_at(item: &str) -> (String, usize) {
    let own = defined_sets(item);
    let mut out = String::new();
    let body = PRELUDE.trim_end().strip_suffix('}').unwrap_or(PRELUDE);
    for line in body.lines() {
        let replaced = line
            .trim_start()
            .strip_prefix("codes ")
            .and_then(|rest| rest.split('=').next())
            .is_some_and(|name| own.contains(name.trim()));
        if !replaced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
    let at = out.len();
    out.push_str(item);
    out.push_str("}\n");
    (out, at)
}

/// Loads text that starts with (part of) the prelude, leaving out the warnings
/// that sets defined before `item_at` are unused.
fn load_with_prelude(text: &str, item_at: usize) -> Loaded {
    let mut loaded = Policies::from_source("example.policy", text);
    loaded
        .diagnostics
        .retain(|d| !(d.code == DiagCode::UnusedCodeSet && d.span.start < item_at));
    loaded
}

fn describe(loaded: &Loaded) -> String {
    let mut out = String::new();
    for d in &loaded.diagnostics {
        let _ = writeln!(out, "{}", d.render_plain());
    }
    out
}

/// Checks what loading a block produced against what the block promises.
fn verdict(block: &Block, loaded: &Loaded) -> Result<(), String> {
    let got: BTreeSet<String> = loaded
        .diagnostics
        .iter()
        .map(|d| d.code.code().to_string())
        .collect();
    let fail = |why: String| Err(format!("{}: {why}\n{}", block.at, describe(loaded)));
    if block.kind.wants_error() {
        if !loaded.has_errors() {
            return fail("the example should not load, but it has no error".into());
        }
        if !block.codes.is_empty() && got != block.codes {
            return fail(format!(
                "the example should report {:?}, but reports {got:?}",
                block.codes
            ));
        }
    } else {
        if loaded.has_errors() || loaded.policies.is_none() {
            return fail("the example does not load".into());
        }
        if got != block.codes {
            return fail(format!(
                "the example should report {:?}, but reports {got:?}",
                block.codes
            ));
        }
    }
    Ok(())
}

/// The bundled libraries, `policies/lib/*.policy`, under those paths: a `file=`
/// block may import them as a payer file in `policies/` does.
fn bundled_libraries() -> HashMap<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/lib");
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|e| e == "policy") {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            files.insert(PathBuf::from(format!("policies/lib/{name}")), read(&path));
        }
    }
    files
}

fn load_file_block(files: &HashMap<PathBuf, String>, path: &str, with: &[String]) -> Loaded {
    let roots: Vec<PathBuf> = std::iter::once(path)
        .chain(with.iter().map(String::as_str))
        .map(PathBuf::from)
        .collect();
    let (ws, diags) = Workspace::from_memory(files, &roots);
    Policies::from_workspace(ws, diags)
}

/// Checks every block of one doc file; returns the failures and the number of blocks.
fn check_doc(path: &Path) -> (Vec<String>, usize) {
    let name = display_name(path);
    let blocks = match extract(&name, &read(path)) {
        Ok(b) => b,
        Err(e) => return (vec![e], 0),
    };
    let mut failures = Vec::new();
    let mut files = bundled_libraries();
    // Every file of the doc is there from the start (in its first version), so
    // that files can import each other whatever their order on the page.
    for block in &blocks {
        if let Some(file) = &block.file {
            files
                .entry(PathBuf::from(file))
                .or_insert_with(|| block.text.clone());
        }
    }
    for block in &blocks {
        if let Some(file) = &block.file {
            // A later block with the same path is the file's next version.
            files.insert(PathBuf::from(file), block.text.clone());
        }
        if block.prelude && block.text.trim() != PRELUDE.trim() {
            failures.push(format!(
                "{}: the prelude block differs from PRELUDE in tests/docs.rs",
                block.at
            ));
        }
        let loaded = match (&block.file, block.kind.is_item()) {
            (Some(file), _) => load_file_block(&files, file, &block.with),
            (None, true) => {
                let (text, at) = wrap_at(&block.text);
                let sets_only = !block
                    .text
                    .lines()
                    .any(|l| l.trim_start().starts_with("rule "));
                load_with_prelude(&text, if sets_only { text.len() } else { at })
            }
            (None, false) if block.prelude => load_with_prelude(&block.text, block.text.len()),
            (None, false) => Policies::from_source("example.policy", &block.text),
        };
        if let Err(e) = verdict(block, &loaded) {
            failures.push(e);
        }
    }
    (failures, blocks.len())
}

#[test]
fn every_policy_example_in_the_docs_is_valid() {
    let mut failures = Vec::new();
    let mut counts = BTreeMap::new();
    for path in doc_files() {
        let (f, n) = check_doc(&path);
        failures.extend(f);
        counts.insert(display_name(&path), n);
    }
    for doc in ["docs/language.md", "docs/tutorial.md"] {
        assert!(
            counts.get(doc).is_some_and(|n| *n > 0),
            "{doc} has no policy examples: {counts:?}"
        );
    }
    eprintln!("policy examples checked: {counts:?}");
    assert!(
        failures.is_empty(),
        "{} example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The rows of the markdown table between `<!-- NAME:start -->` and `<!-- NAME:end -->`,
/// as trimmed cells, header and separator rows left out.
fn table(doc: &str, name: &str) -> Vec<Vec<String>> {
    let start = format!("<!-- {name}:start -->");
    let end = format!("<!-- {name}:end -->");
    let from = doc
        .find(&start)
        .unwrap_or_else(|| panic!("docs/language.md has no `{start}`"));
    let to = doc[from..]
        .find(&end)
        .map(|i| from + i)
        .unwrap_or_else(|| panic!("docs/language.md has no `{end}`"));
    doc[from + start.len()..to]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        })
        .skip(1) // the header
        .filter(|cells| {
            !cells
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        })
        .collect()
}

fn unquote(cell: &str) -> String {
    cell.trim_matches('`').to_string()
}

#[test]
fn the_field_table_lists_every_field() {
    let doc = read(&docs_dir().join("language.md"));
    let rows = table(&doc, "fields");
    let documented: BTreeMap<String, (String, String)> = rows
        .iter()
        .map(|cells| {
            let cell = |i: usize| cells.get(i).cloned().unwrap_or_default();
            (unquote(&cell(0)), (cell(1), cell(2)))
        })
        .collect();
    assert_eq!(
        documented.len(),
        rows.len(),
        "a field is listed twice: {rows:?}"
    );
    let expected: BTreeMap<String, (String, String)> = FIELDS
        .iter()
        .map(|f| {
            let ty = f.ty.name();
            let ty = ty
                .strip_prefix("a ")
                .or_else(|| ty.strip_prefix("an "))
                .unwrap_or(ty);
            let optional = if f.optional { "yes" } else { "no" };
            (
                format!("{}.{}", f.record, f.name),
                (ty.to_string(), optional.to_string()),
            )
        })
        .collect();
    let listed: Vec<&String> = documented.keys().collect();
    let fields: Vec<&String> = expected.keys().collect();
    assert_eq!(
        listed, fields,
        "the field table of docs/language.md does not list exactly the fields of FIELDS"
    );
    for (path, want) in &expected {
        assert_eq!(
            &documented[path], want,
            "`{path}`: (type, optional) in docs/language.md vs FIELDS"
        );
    }
}

#[test]
fn the_diagnostic_table_lists_every_code() {
    let doc = read(&docs_dir().join("language.md"));
    let documented: Vec<(String, String)> = table(&doc, "diagnostics")
        .iter()
        .map(|cells| {
            (
                unquote(&cells[0]),
                cells.get(1).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = DiagCode::ALL
        .iter()
        .map(|c| (c.code().to_string(), c.severity().as_str().to_string()))
        .collect();
    assert_eq!(
        documented, expected,
        "the diagnostic table of docs/language.md vs DiagCode::ALL (code, severity, in order)"
    );
}

#[test]
fn the_keyword_list_is_the_grammars() {
    // The words `grammar/policy.pest`'s `keyword` rule reserves, against the
    // block after "may not be a keyword:" in docs/language.md.
    let grammar = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/policy.pest"));
    let rule = grammar
        .split("\nkeyword = @{")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .unwrap_or_else(|| panic!("no `keyword` rule in grammar/policy.pest"));
    let mut reserved: Vec<&str> = rule.split('"').skip(1).step_by(2).collect();
    let doc = read(&docs_dir().join("language.md"));
    let block = doc
        .split("may not be a keyword:")
        .nth(1)
        .and_then(|rest| rest.split("```text").nth(1))
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("no keyword block in docs/language.md"));
    let mut documented: Vec<&str> = block.split_whitespace().collect();
    reserved.sort_unstable();
    documented.sort_unstable();
    assert_eq!(
        documented, reserved,
        "docs/language.md's keyword list vs grammar/policy.pest's `keyword` rule"
    );
}

#[test]
fn wrapping_replaces_the_sets_an_item_defines() {
    let wrapped = wrap("codes tpi = cpt 20553\n");
    assert_eq!(wrapped.matches("codes tpi").count(), 1, "{wrapped}");
    assert!(wrapped.contains("codes drugs"), "{wrapped}");
    let loaded = load_with_prelude(&wrapped, wrapped.len());
    assert!(loaded.diagnostics.is_empty(), "{}", describe(&loaded));
}

#[test]
fn extraction_sees_tags_words_and_other_blocks() {
    let md = "text\n```policy-item PR207\ncodes x = icd10 M79.1\n```\n```json\n{}\n```\n```policy file=a/b.policy\nlibrary b { }\n```\n";
    let blocks = extract("t.md", md).unwrap_or_default();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].kind, Kind::Item);
    assert!(blocks[0].codes.contains("PR207"));
    assert_eq!(blocks[0].at, "t.md:2");
    assert_eq!(blocks[1].file.as_deref(), Some("a/b.policy"));
    assert!(
        extract("t.md", "```polcy\nx\n```\n").is_ok(),
        "not a policy tag: ignored"
    );
    assert!(
        extract("t.md", "```policy-items\nx\n```\n").is_err(),
        "a typo in a policy tag is an error"
    );
    assert!(extract("t.md", "```policy PR999\nx\n```\n").is_err());
    let indented = extract(
        "t.md",
        "- item:\n\n  ```policy-item\n  rule A {\n    deny CO-50\n  }\n  ```\n",
    )
    .unwrap_or_default();
    assert_eq!(
        indented.len(),
        1,
        "a fence inside a list item is an example too"
    );
    assert_eq!(indented[0].text, "rule A {\n  deny CO-50\n}\n");
}

// ------------------------------------------------------------------ behaviour
//
// Some of the page's claims are about what the engine does, not only about what
// loads: the missing-value table, the site-matching table and the worked window
// example are replayed here.

/// A policy of `rules` on the prelude's code sets.
fn engine(rules: &str) -> Engine {
    let (text, at) = wrap_at(rules);
    let loaded = load_with_prelude(&text, at);
    assert!(loaded.diagnostics.is_empty(), "{}", describe(&loaded));
    Engine::new(loaded.policies.unwrap_or_default())
}

/// A one-line claim of payer `example` on the given date, as JSON.
fn claim_json(id: &str, patient: &str, date: &str, code: &str, extra_line: &str) -> String {
    format!(
        r#"{{"id":"{id}","payer":"example","patient":{patient},"diagnoses":["M79.18"],"lines":[{{"date_of_service":"{date}","procedure":"{code}"{extra_line}}}]}}"#
    )
}

fn read_one(json: &str) -> payer_rules::Claim {
    match read_claims_str(json, InputFormat::JsonLines).pop() {
        Some(Ok(claim)) => claim,
        other => panic!("bad test claim {json}: {other:?}"),
    }
}

/// The decision and the fired rule ids of a claim's first line.
fn decide(engine: &mut Engine, json: &str) -> (Action, Vec<String>) {
    match engine.evaluate(&read_one(json), 1) {
        Outcome::Decision(d) => {
            let line = &d.lines[0];
            (
                line.decision,
                line.reasons.iter().map(|r| r.rule.to_string()).collect(),
            )
        }
        other => panic!("no decision for {json}: {other:?}"),
    }
}

/// The decision of a TPI (20553) on `date` under `rule`, after one TPI of the
/// same patient on `earlier`.
fn after_one_tpi(rule: &str, patient: &str, earlier: &str, date: &str) -> Action {
    let mut e = engine(rule);
    e.record_prior(&read_one(&claim_json("H", patient, earlier, "20553", "")));
    decide(&mut e, &claim_json("C", patient, date, "20553", "")).0
}

fn truth(cell: &str) -> bool {
    match cell.trim_matches('*') {
        "true" => true,
        "false" => false,
        other => panic!("not true/false: {other}"),
    }
}

#[test]
fn the_missing_value_table_is_what_the_engine_does() {
    let doc = read(&docs_dir().join("language.md"));
    let rows = table(&doc, "missing");
    assert!(rows.len() >= 4, "{rows:?}");
    let rules: String = rows
        .iter()
        .enumerate()
        .map(|(i, r)| format!("rule R{i} {{ when {} allow }}\n", unquote(&r[0])))
        .collect();
    let mut e = engine(&rules);
    let patients = [
        r#"{"id":"F1","sex":"F"}"#,
        r#"{"id":"M1","sex":"M"}"#,
        r#"{"id":"X1"}"#,
    ];
    for (column, patient) in patients.iter().enumerate() {
        let (_, fired) = decide(&mut e, &claim_json("C", patient, "2025-01-02", "20552", ""));
        for (i, row) in rows.iter().enumerate() {
            let want = truth(&row[column + 1]);
            assert_eq!(
                fired.contains(&format!("R{i}")),
                want,
                "`{}` for patient {patient}",
                row[0]
            );
        }
    }
}

#[test]
fn the_site_matching_table_is_what_the_engine_does() {
    let doc = read(&docs_dir().join("language.md"));
    let rows = table(&doc, "sites");
    assert_eq!(rows.len(), 5, "{rows:?}");
    let mut e = engine(
        "rule N { when count(tpi within 30 days) >= 1 allow }\n\
         rule S { when count(tpi within 30 days per site) >= 1 allow }\n\
         rule U { when count(tpi within 30 days per site or unsited) >= 1 allow }\n",
    );
    let site = |cell: &str| match unquote(cell).as_str() {
        "missing" => String::new(),
        label => format!(r#","site":"{label}""#),
    };
    for (i, row) in rows.iter().enumerate() {
        let patient = format!(r#"{{"id":"S{i}"}}"#);
        e.record_prior(&read_one(&claim_json(
            "H",
            &patient,
            "2025-01-01",
            "20553",
            &site(&row[1]),
        )));
        let (_, fired) = decide(
            &mut e,
            &claim_json("C", &patient, "2025-01-10", "20552", &site(&row[0])),
        );
        for (rule, cell) in ["N", "S", "U"].iter().zip(&row[2..5]) {
            let want = cell == "counts";
            assert_eq!(
                fired.contains(&rule.to_string()),
                want,
                "row {row:?}, rule {rule}"
            );
        }
    }
}

#[test]
fn the_region_matching_table_is_what_the_engine_does() {
    let doc = read(&docs_dir().join("language.md"));
    let rows = table(&doc, "regions");
    assert_eq!(rows.len(), 5, "{rows:?}");
    let (text, at) = wrap_at(
        "codes esi = cpt 62320, 62321, 62322, 62323, 64479, 64480, 64483, 64484\n\
         region cervical_thoracic = cpt 62320, 62321, 64479, 64480\n\
         region lumbar_sacral = cpt 62322, 62323, 64483, 64484\n\
         rule N { when count((esi + tpi) within 30 days) >= 1 allow }\n\
         rule R { when count((esi + tpi) within 30 days per region) >= 1 allow }\n",
    );
    let loaded = load_with_prelude(&text, at);
    // The TPI codes are in no region on purpose: the lint says so.
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.code()).collect();
    assert_eq!(codes, ["PR409"], "{}", describe(&loaded));
    let mut e = Engine::new(loaded.policies.unwrap_or_default());
    for (i, row) in rows.iter().enumerate() {
        let patient = format!(r#"{{"id":"R{i}"}}"#);
        e.record_prior(&read_one(&claim_json(
            "H",
            &patient,
            "2025-01-01",
            &unquote(&row[1]),
            "",
        )));
        let (_, fired) = decide(
            &mut e,
            &claim_json("C", &patient, "2025-01-10", &unquote(&row[0]), ""),
        );
        for (rule, cell) in ["N", "R"].iter().zip(&row[2..4]) {
            let want = cell == "counts";
            assert_eq!(
                fired.contains(&rule.to_string()),
                want,
                "row {row:?}, rule {rule}"
            );
        }
    }
}

#[test]
fn the_region_example_is_what_the_engine_does() {
    let rule = "rule ESI1 \"one epidural injection per day in each spinal region\" {\n  when line.procedure in esi\n  limit esi to 1 per day per region\n    else deny CO-151 rarc N640\n}\n";
    let doc = read(&docs_dir().join("language.md"));
    assert!(
        doc.contains(rule),
        "the region example's rule ESI1 is no longer in docs/language.md"
    );
    let regions = "codes esi = cpt 62320, 62321, 62322, 62323, 64479, 64480, 64483, 64484\n\
                   region cervical_thoracic = cpt 62320, 62321, 64479, 64480\n\
                   region lumbar_sacral = cpt 62322, 62323, 64483, 64484\n";
    let mut e = engine(&format!("{regions}{rule}"));
    // Two lines of one claim on one day: the second's decision.
    let second = |e: &mut Engine, patient: &str, first: &str, then: &str| {
        let json = format!(
            r#"{{"id":"C","payer":"example","patient":{{"id":"{patient}"}},"diagnoses":["M54.16"],"lines":[{{"date_of_service":"2025-03-03","procedure":"{first}"}},{{"date_of_service":"2025-03-03","procedure":"{then}"}}]}}"#
        );
        match e.evaluate(&read_one(&json), 1) {
            Outcome::Decision(d) => (d.lines[0].decision, d.lines[1].decision),
            other => panic!("no decision for {json}: {other:?}"),
        }
    };
    assert_eq!(
        second(&mut e, "A", "62321", "62323"),
        (Action::Allow, Action::Allow),
        "a cervical and a lumbar injection"
    );
    assert_eq!(
        second(&mut e, "B", "62321", "64479"),
        (Action::Allow, Action::Deny),
        "two cervical injections"
    );
}

#[test]
fn the_worked_window_example_is_what_the_engine_does() {
    let rule = "rule M4 \"no more than 3 TPI sessions in a rolling 12 months\" {\n  when line.procedure in tpi\n  limit tpi to 3 per 365 days\n    else deny CO-151 rarc N640\n}\n";
    let doc = read(&docs_dir().join("language.md"));
    assert!(
        doc.contains(rule),
        "the worked example's rule M4 is no longer in docs/language.md"
    );
    let patient = r#"{"id":"W"}"#;
    let history = |e: &mut Engine, dates: &[&str]| {
        for d in dates {
            e.record_prior(&read_one(&claim_json("H", patient, d, "20553", "")));
        }
    };
    let mut e = engine(rule);
    history(&mut e, &["2025-03-01", "2025-03-02", "2025-09-01"]);
    assert_eq!(
        decide(&mut e, &claim_json("C", patient, "2026-03-01", "20553", "")).0,
        Action::Allow
    );

    let mut e = engine(rule);
    history(
        &mut e,
        &["2025-03-01", "2025-03-02", "2025-09-01", "2025-12-01"],
    );
    assert_eq!(
        decide(&mut e, &claim_json("C", patient, "2026-03-01", "20553", "")).0,
        Action::Deny
    );

    // `interval tpi at least 42 days` on 2026-03-01: 2026-01-18 is fine, 2026-01-19 is not.
    let interval =
        "rule M5 { when line.procedure in tpi interval tpi at least 42 days else deny CO-151 }\n";
    for (earlier, want) in [
        ("2026-01-18", Action::Allow),
        ("2026-01-19", Action::Deny),
        ("2026-03-01", Action::Allow),
    ] {
        assert_eq!(
            after_one_tpi(interval, patient, earlier, "2026-03-01"),
            want,
            "earlier TPI on {earlier}"
        );
    }
}

#[test]
fn the_add_on_table_is_what_the_engine_does() {
    let add_on = "rule ADD1 \"64484 is billed with 64483 on the same day\" {\n  when line.procedure in tfesi_addon\n  require some other service on same day (other.procedure in tfesi_primary)\n    else deny CO-B15 rarc N122 message \"add-on 64484 without its primary code 64483\"\n}\n";
    let doc = read(&docs_dir().join("language.md"));
    assert!(
        doc.contains(add_on),
        "the add-on example's rule ADD1 is no longer in docs/language.md"
    );
    let rules = format!(
        "codes tfesi_primary = cpt 64483\ncodes tfesi_addon = cpt 64484\n{add_on}\
         rule D {{ when line.procedure in tfesi_primary and line.units > 1 deny CO-151 rarc N362 }}\n"
    );
    // A claim of `lines` (`(date, code, units)`) for the row's patient;
    // `extra` adds claim fields.
    let claim = |id: &str, patient: &str, payer: &str, extra: &str, lines: &[(&str, &str, u32)]| {
        let lines: Vec<String> = lines
            .iter()
            .map(|(date, code, units)| {
                format!(r#"{{"date_of_service":"{date}","procedure":"{code}","units":{units}}}"#)
            })
            .collect();
        read_one(&format!(
            r#"{{"id":"{id}","payer":"{payer}","patient":{{"id":"{patient}"}},"diagnoses":["M54.50"]{extra},"lines":[{}]}}"#,
            lines.join(",")
        ))
    };
    // The decision of the line of `claim` whose procedure is `code`.
    let line_of =
        |e: &mut Engine, claim: &payer_rules::Claim, code: &str| match e.evaluate(claim, 1) {
            Outcome::Decision(d) => d
                .lines
                .iter()
                .find(|l| l.procedure.as_string() == code)
                .map(|l| l.decision)
                .unwrap_or_else(|| panic!("no {code} line in {d:?}")),
            other => panic!("no decision for {claim:?}: {other:?}"),
        };
    const DAY: &str = "2025-03-10";
    let add_on_alone = [(DAY, "64484", 1)];
    let rows = table(&doc, "addon");
    assert_eq!(rows.len(), 12, "{rows:?}");
    for (i, row) in rows.iter().enumerate() {
        let want = match row[1].as_str() {
            "allowed" => Action::Allow,
            "denied" => Action::Deny,
            other => panic!("not allowed/denied: {other}"),
        };
        let p = format!("ADD{i}");
        let mut e = engine(&rules);
        let earlier = |e: &mut Engine, date: &str, units: u32| {
            let h = claim("H", &p, "example", "", &[(date, "64483", units)]);
            line_of(e, &h, "64483")
        };
        // The 64484's decision on a claim of `lines` for the row's patient.
        let add_on_in = |e: &mut Engine, lines: &[(&str, &str, u32)]| {
            line_of(e, &claim("C", &p, "example", "", lines), "64484")
        };
        let got = match row[0].as_str() {
            "on this claim, a line before the 64484" => {
                add_on_in(&mut e, &[(DAY, "64483", 1), (DAY, "64484", 1)])
            }
            "on this claim, a line after the 64484" => {
                add_on_in(&mut e, &[(DAY, "64484", 1), (DAY, "64483", 1)])
            }
            "on this claim, a line another rule denies" => {
                let c = claim(
                    "C",
                    &p,
                    "example",
                    "",
                    &[(DAY, "64483", 2), (DAY, "64484", 1)],
                );
                assert_eq!(line_of(&mut engine(&rules), &c, "64483"), Action::Deny);
                line_of(&mut e, &c, "64484")
            }
            "on an earlier claim, dated 2025-03-10" => {
                assert_eq!(earlier(&mut e, DAY, 1), Action::Allow);
                add_on_in(&mut e, &add_on_alone)
            }
            "on an earlier claim, dated 2025-03-09" => {
                earlier(&mut e, "2025-03-09", 1);
                add_on_in(&mut e, &add_on_alone)
            }
            "on an earlier claim, dated 2025-03-11" => {
                earlier(&mut e, "2025-03-11", 1);
                add_on_in(&mut e, &add_on_alone)
            }
            "on an earlier claim of another payer, dated 2025-03-10" => {
                e.record_prior(&claim("H", &p, "other", "", &[(DAY, "64483", 1)]));
                add_on_in(&mut e, &add_on_alone)
            }
            "on an earlier claim that denied it, dated 2025-03-10" => {
                assert_eq!(earlier(&mut e, DAY, 2), Action::Deny);
                add_on_in(&mut e, &add_on_alone)
            }
            "on an earlier claim, dated 2025-03-10, since replaced by a claim without it" => {
                earlier(&mut e, DAY, 1);
                let r = claim(
                    "R",
                    &p,
                    "example",
                    r#","frequency_code":"7","replaces":"H""#,
                    &[(DAY, "99213", 1)],
                );
                assert_eq!(line_of(&mut e, &r, "99213"), Action::Allow);
                add_on_in(&mut e, &add_on_alone)
            }
            "on an earlier claim, dated 2025-03-10, since voided" => {
                earlier(&mut e, DAY, 1);
                let v = claim(
                    "V",
                    &p,
                    "example",
                    r#","frequency_code":"8","replaces":"H""#,
                    &[(DAY, "64483", 1)],
                );
                assert!(matches!(e.evaluate(&v, 1), Outcome::Decision(_)));
                add_on_in(&mut e, &add_on_alone)
            }
            "on a later claim, dated 2025-03-10" => {
                let first = add_on_in(&mut e, &add_on_alone);
                assert_eq!(earlier(&mut e, DAY, 1), Action::Allow);
                // Sent again once the primary is in, it is allowed (the
                // paragraph after the table).
                let again = claim(
                    "C2",
                    &p,
                    "example",
                    r#","frequency_code":"7","replaces":"C""#,
                    &add_on_alone,
                );
                assert_eq!(line_of(&mut e, &again, "64484"), Action::Allow);
                first
            }
            "nowhere" => add_on_in(&mut e, &add_on_alone),
            other => panic!("the add-on table has a row the test does not know: {other}"),
        };
        assert_eq!(got, want, "{}", row[0]);
    }
}

#[test]
fn the_same_day_field_examples_are_what_the_engine_does() {
    let tpi9 = "rule TPI9 \"a TPI on the day of a large drug line\" {\n  when line.procedure in tpi\n  when some other service on same day (other.procedure in drugs and (other.units > 10 or other.charge > 250.00))\n  review CO-252 rarc N706 message \"a drug line of more than 10 units or $250.00 on the TPI's date\"\n}\n";
    let esi5 = "codes tfesi_first = cpt 64479, 64483\ncodes tfesi_addon = cpt 64480, 64484\n\nregion cervical_thoracic = cpt 62320, 62321, 64479, 64480\nregion lumbar_sacral     = cpt 62322, 62323, 64483, 64484\n\n/// CPT: 64480 and 64484 are each additional level, reported with the first\n/// level of their own region, 64479 and 64483; the first level may be on\n/// this claim or on another claim for the date (see ESI2 for this claim's\n/// lines only).\nrule ESI5 \"an add-on level needs the first level of its own region that day\" {\n  when line.procedure in tfesi_addon\n  require some other service on same day (other.procedure in tfesi_first and other.region == line.region)\n    else deny CO-B15 rarc N122\n}\n";
    let doc = read(&docs_dir().join("language.md"));
    for (name, text) in [("TPI9", tpi9), ("ESI5", esi5)] {
        assert!(
            doc.contains(text),
            "the same-day example {name} is no longer in docs/language.md as the test has it"
        );
    }
    const DAY: &str = "2025-03-10";
    // The first line's decision when `other` (code, extra fields) is on the
    // same claim, and when it is on an earlier claim of the member.
    let both_ways = |e: &mut Engine, patient: &str, code: &str, other: (&str, &str)| {
        let line = |code: &str, extra: &str| {
            format!(r#"{{"date_of_service":"{DAY}","procedure":"{code}"{extra}}}"#)
        };
        let claim = |patient: &str, lines: &[String]| {
            format!(
                r#"{{"id":"C","payer":"example","patient":{{"id":"{patient}"}},"diagnoses":["M79.18"],"lines":[{}]}}"#,
                lines.join(",")
            )
        };
        let same = decide(
            e,
            &claim(
                &format!("{patient}-same"),
                &[line(code, ""), line(other.0, other.1)],
            ),
        )
        .0;
        let earlier = format!("{patient}-earlier");
        let h = claim(&earlier, &[line(other.0, other.1)]).replace(r#""id":"C""#, r#""id":"H""#);
        assert_eq!(decide(e, &h).0, Action::Allow, "the earlier claim");
        let later = decide(e, &claim(&earlier, &[line(code, "")])).0;
        [same, later]
    };
    let mut e = engine(tpi9);
    for (n, (extra, want)) in [
        (r#","units":10,"charge":250.00"#, Action::Allow),
        (r#","units":11,"charge":250.00"#, Action::Review),
        (r#","units":10,"charge":250.01"#, Action::Review),
        (r#","units":10"#, Action::Allow),
        (r#","units":11"#, Action::Review),
    ]
    .into_iter()
    .enumerate()
    {
        let got = both_ways(&mut e, &format!("T{n}"), "20552", ("J3301", extra));
        assert_eq!(got, [want, want], "TPI9 with a J3301 of {extra}");
    }
    let mut e = engine(esi5);
    for (n, (primary, want)) in [
        ("64483", Action::Allow),
        ("64479", Action::Deny),
        ("20552", Action::Deny),
    ]
    .into_iter()
    .enumerate()
    {
        let got = both_ways(&mut e, &format!("E{n}"), "64484", (primary, ""));
        assert_eq!(got, [want, want], "ESI5: 64484 with {primary}");
    }
}

/// `fmt` over every example of the docs: a block that parses (as a file, or as
/// an item put into the prelude) formats to the same tree, spans aside, and
/// formatting the result changes nothing. Error examples that do not parse are
/// refused.
#[test]
fn every_policy_example_in_the_docs_formats_to_the_same_tree_and_is_stable() {
    use payer_rules::internal::parse;
    use payer_rules::internal::same_tree;
    use payer_rules::tooling::{format, FormatError};

    let mut failures = Vec::new();
    let mut formatted = 0;
    for path in doc_files() {
        let name = display_name(&path);
        let blocks = extract(&name, &read(&path)).unwrap_or_else(|e| panic!("{e}"));
        for block in blocks {
            let text = if block.kind.is_item() {
                wrap(&block.text)
            } else {
                block.text.clone()
            };
            let before = parse(&text);
            let once = match format(&text) {
                Ok(once) => once,
                Err(FormatError::Syntax(_)) if !before.errors.is_empty() => continue,
                Err(e) => {
                    failures.push(format!("{}: {e}", block.at));
                    continue;
                }
            };
            formatted += 1;
            if !same_tree(&before.file, &parse(&once).file) {
                failures.push(format!("{}: the tree changed:\n{once}", block.at));
            }
            match format(&once) {
                Ok(twice) if twice == once => {}
                Ok(twice) => failures.push(format!(
                    "{}: not idempotent:\n{once}\n---\n{twice}",
                    block.at
                )),
                Err(e) => failures.push(format!("{}: formatted text fails: {e}", block.at)),
            }
        }
    }
    eprintln!("doc examples formatted: {formatted}");
    assert!(formatted >= 40, "only {formatted} doc examples formatted");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_month_window_examples_are_what_the_engine_does() {
    let doc = read(&docs_dir().join("language.md"));
    for said in [
        "`per 12 months` on 2028-03-01 starts on\n2027-03-02",
        "`interval tpi at least 2 months` on 2025-03-31 fails for a TPI from 2025-02-01 to\n2025-03-30 and passes for one on 2025-01-31",
    ] {
        assert!(doc.contains(said), "docs/language.md no longer says: {said}");
    }
    let replay =
        |rule: &str, earlier: &str, date: &str| after_one_tpi(rule, r#"{"id":"W"}"#, earlier, date);
    let limit =
        "rule L { when line.procedure in tpi limit tpi to 1 per 12 months else deny CO-151 }\n";
    assert_eq!(replay(limit, "2027-03-01", "2028-03-01"), Action::Allow);
    assert_eq!(replay(limit, "2027-03-02", "2028-03-01"), Action::Deny);
    assert_eq!(replay(limit, "2025-03-01", "2026-03-01"), Action::Allow);
    assert_eq!(replay(limit, "2025-03-02", "2026-03-01"), Action::Deny);
    let interval =
        "rule I { when line.procedure in tpi interval tpi at least 2 months else deny CO-151 }\n";
    for (earlier, want) in [
        ("2025-01-31", Action::Allow),
        ("2025-02-01", Action::Deny),
        ("2025-03-30", Action::Deny),
        ("2025-03-31", Action::Allow),
    ] {
        assert_eq!(
            replay(interval, earlier, "2025-03-31"),
            want,
            "earlier TPI on {earlier}"
        );
    }
}

#[test]
fn the_calendar_year_and_anchored_period_examples_are_what_the_engine_does() {
    let doc = read(&docs_dir().join("language.md"));
    // The words as the page says them, line breaks and emphasis aside.
    let flat = |text: &str| {
        text.replace("**", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let page = flat(&doc);
    for said in [
        "a service on December 31 counts in its year, and January 1 starts the next one",
        "An anchor on 2028-02-29 with `12 months` holds 2028-02-29 .. 2029-02-28",
        "and 2029-03-01 may start the next period",
        "one on 2025-01-31 with `1 months` holds 2025-01-31 .. 2025-02-28",
        "one on 2025-03-31 with `6 months` holds up to 2025-09-30",
        "one on 2025-03-04 with `12 months` holds up to 2026-03-03",
        "a TPI on 2026-03-03, the day before 2025-03-04 + 12 months, is still in its period; one on 2026-03-04 starts a new period",
    ] {
        assert!(page.contains(said), "docs/language.md no longer says: {said}");
    }
    let replay =
        |rule: &str, earlier: &str, date: &str| after_one_tpi(rule, r#"{"id":"Y"}"#, earlier, date);
    let year =
        "rule Y { when line.procedure in tpi limit tpi to 1 per calendar year else deny CO-119 rarc N640 }\n";
    assert_eq!(replay(year, "2025-12-31", "2025-12-31"), Action::Deny);
    assert_eq!(replay(year, "2025-12-31", "2026-01-01"), Action::Allow);
    assert_eq!(replay(year, "2025-01-01", "2025-12-31"), Action::Deny);
    let anchored = |months: u32| {
        format!(
            "rule F {{ when line.procedure in tpi limit tpi to 1 per {months} months from first else deny CO-119 rarc N640 }}\n"
        )
    };
    for (months, anchor, last, next) in [
        (12, "2028-02-29", "2029-02-28", "2029-03-01"),
        (1, "2025-01-31", "2025-02-28", "2025-03-01"),
        (6, "2025-03-31", "2025-09-30", "2025-10-01"),
        (12, "2025-03-04", "2026-03-03", "2026-03-04"),
    ] {
        let rule = anchored(months);
        assert_eq!(replay(&rule, anchor, last), Action::Deny, "{anchor} {last}");
        assert_eq!(
            replay(&rule, anchor, next),
            Action::Allow,
            "{anchor} {next}"
        );
    }
}

#[test]
fn every_lint_has_a_page_that_shows_it() {
    use payer_rules::internal::LINT_CODES;
    let dir = docs_dir().join("lints");
    let index = read(&dir.join("README.md"));
    let mut failures = Vec::new();
    // Every lint has a page; so does every other code, for SARIF's `helpUri`.
    for code in LINT_CODES.iter().chain(DiagCode::ALL) {
        if !dir.join(format!("{}.md", code.code())).exists() {
            failures.push(format!("{}: no docs/lints/{}.md", code.code(), code.code()));
        }
    }
    for page in markdown_in(&dir) {
        let name = display_name(&page);
        let stem = page
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if stem == "README" {
            continue;
        }
        let Some(code) = DiagCode::from_code(&stem) else {
            failures.push(format!("{name}: not named after a diagnostic code"));
            continue;
        };
        let text = read(&page);
        if !text.starts_with(&format!("# {stem}: ")) {
            failures.push(format!("{name}: the title is not `# {stem}: ...`"));
        }
        let severity = format!("**Severity:** {}", code.severity().as_str());
        if !text.contains(&severity) {
            failures.push(format!("{name}: does not say `{severity}`"));
        }
        // A file that cannot be read cannot be shown in a policy block.
        // Nor can 65,536 rules, or a bug that no valid policy reaches.
        let showable = !matches!(
            code,
            DiagCode::FileUnreadable | DiagCode::TooManyRules | DiagCode::Internal
        );
        match extract(&name, &text) {
            Ok(blocks) if !showable || blocks.iter().any(|b| b.codes.contains(&stem)) => {}
            Ok(_) => failures.push(format!("{name}: no example block lists `{stem}`")),
            Err(e) => failures.push(e),
        }
        if !index.contains(&format!("({stem}.md)")) {
            failures.push(format!("docs/lints/README.md: no link to {stem}.md"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
