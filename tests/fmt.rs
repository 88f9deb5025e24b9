//! The formatter never changes meaning and is idempotent: over every policy file
//! of the repository (bundled policies and diagnostic fixtures that parse), and
//! over policies generated from the grammar with random layout and comments.
//! The docs' examples are covered in `tests/docs.rs`.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failing test stops at the value that surprised it (clippy.toml allows it inside #[test] functions; this covers their helpers)"
)]

use std::path::{Path, PathBuf};

use payer_rules::internal::parse;
use payer_rules::internal::{same_tree, without_spans};
use payer_rules::tooling::{format, FormatError};
use proptest::prelude::*;

/// Formats `text` and checks the result: it parses to the same tree (spans
/// aside), keeps every comment, and formatting it again changes nothing.
fn assert_formats(name: &str, text: &str) -> String {
    let once = format(text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
    let before = parse(text);
    let after = parse(&once);
    assert!(
        after.errors.is_empty(),
        "{name}: {:?}\n{once}",
        after.errors
    );
    assert!(
        same_tree(&before.file, &after.file),
        "{name}: the tree changed\n{}\n{}",
        without_spans(&before.file),
        without_spans(&after.file)
    );
    assert_eq!(comments(text), comments(&once), "{name}: comments differ");
    let twice = format(&once).unwrap_or_else(|e| panic!("{name} (formatted): {e}\n{once}"));
    assert_eq!(twice, once, "{name}: formatting is not idempotent");
    once
}

/// The `//` and `///` comments of a policy text, in order, trailing spaces
/// trimmed: a scan that skips strings.
fn comments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' | '\n' => break,
                    _ => {}
                }
            }
        } else if text[i..].starts_with("//") {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            out.push(text[i..end].trim_end().to_string());
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
        }
    }
    out
}

fn policy_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            policy_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "policy") {
            out.push(path);
        }
    }
}

#[test]
fn every_policy_file_formats_to_the_same_tree_and_is_stable() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    policy_files(&root.join("policies"), &mut files);
    policy_files(&root.join("tests/diagnostics"), &mut files);
    let (mut formatted, mut refused) = (0, 0);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
        let name = path.display().to_string();
        if parse(&text).errors.is_empty() {
            assert_formats(&name, &text);
            formatted += 1;
        } else {
            assert!(
                matches!(format(&text), Err(FormatError::Syntax(_))),
                "{name}: a file with syntax errors must be refused"
            );
            refused += 1;
        }
    }
    eprintln!("formatted {formatted} files, refused {refused} with syntax errors");
    assert!(formatted >= 30, "only {formatted} files formatted");
}

// ---------------------------------------------------------------- mutated policies

const MEDICARE: &str = include_str!("../policies/medicare-tpi.policy");
const EMBLEM: &str = include_str!("../policies/emblemhealth-tpi.policy");

/// Pieces spliced into the bundled policies, as in `tests/fuzz.rs`, weighted
/// towards layout and comments so that many mutants still parse.
const PIECES: &[&str] = &[
    " ",
    "\n",
    "\n\n\n",
    "\t",
    "// c\n",
    "\n// own\n",
    "//// four\n",
    "///",
    "//",
    "{",
    "}",
    "(",
    ")",
    ",",
    "-",
    "+",
    "..",
    "\"",
    "when",
    "require",
    "else",
    "deny",
    "and",
    "or",
    "not",
    "in",
    "tpi",
    "cpt 20552",
    "line.units",
    "1",
    "CO-50",
];

fn mutate(base: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut text: Vec<u8> = base.as_bytes().to_vec();
    for &(at, len, piece) in edits {
        let at = at % (text.len() + 1);
        let end = (at + len % 4).min(text.len());
        text.splice(at..end, PIECES[piece % PIECES.len()].bytes());
    }
    String::from_utf8_lossy(&text).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A mutant that parses formats to the same tree and is stable; one that does
    /// not is refused with its syntax errors, never formatted.
    #[test]
    fn mutated_policies_format_or_are_refused(
        which in 0usize..2,
        edits in proptest::collection::vec((0usize..6000, 0usize..8, 0usize..64), 1..5),
    ) {
        let base = if which == 0 { MEDICARE } else { EMBLEM };
        let text = mutate(base, &edits);
        if parse(&text).errors.is_empty() {
            assert_formats("mutant", &text);
        } else {
            prop_assert!(matches!(format(&text), Err(FormatError::Syntax(_))));
        }
    }
}

// ---------------------------------------------------------------- generated policies

/// Separators between tokens: the layout and comments the formatter must cope with.
const GAPS: &[&str] = &[
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\n    ",
    "\n\n",
    "\n\n\n  ",
    " // note\n",
    "\n// own line\n",
    "\n\n  //// four slashes\n\n",
];

/// The first gaps hold neither a comment nor a blank line.
const PLAIN_GAPS: usize = 7;

/// A policy as its tokens, to be joined with random gaps.
#[derive(Debug, Clone, Default)]
struct Tokens(Vec<String>);

impl Tokens {
    fn push(&mut self, t: impl Into<String>) -> &mut Self {
        self.0.push(t.into());
        self
    }

    fn extend(&mut self, other: Tokens) -> &mut Self {
        self.0.extend(other.0);
        self
    }

    /// Joins the tokens with the gaps chosen (cycled); a doc comment gets a line
    /// break after it, as it must.
    fn join(&self, gaps: &[usize]) -> String {
        let mut out = String::new();
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                let prev = &self.0[i - 1];
                let gap = GAPS[gaps.get(i % gaps.len().max(1)).copied().unwrap_or(0) % GAPS.len()];
                if prev.starts_with("///") {
                    out.push('\n');
                } else if t.starts_with("///") {
                    out.push_str(if gap.contains('\n') { gap } else { "\n" });
                } else {
                    out.push_str(gap);
                }
            }
            out.push_str(t);
        }
        out.push('\n');
        out
    }
}

/// Tokens separated by single spaces; a quoted string (which may hold spaces
/// and `\"`) is one token.
fn toks(words: &str) -> Tokens {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in words.chars() {
        if quoted {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
        } else if c == ' ' {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            quoted = c == '"';
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    Tokens(out)
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("tpi".to_string()),
        Just("drugs".to_string()),
        Just("covered_dx".to_string()),
        Just("a-b".to_string()),
        Just("x1".to_string()),
        Just("long_code_set_name".to_string()),
    ]
}

fn code_list() -> impl Strategy<Value = Tokens> {
    let entry = prop_oneof![
        Just("20552"),
        Just("20553"),
        Just("J*"),
        Just("M79.1*"),
        Just("M60.80-M60.89"),
        Just("G44.201"),
        Just("00100-01999"),
    ];
    (
        prop_oneof![Just("cpt"), Just("hcpcs"), Just("icd10")],
        proptest::collection::vec(entry, 1..30),
    )
        .prop_map(|(system, entries)| {
            let mut t = Tokens::default();
            t.push(system);
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    t.push(",");
                }
                t.push(*e);
            }
            t
        })
}

fn set_term() -> impl Strategy<Value = Tokens> {
    prop_oneof![
        code_list(),
        name().prop_map(|n| toks(&n)),
        (code_list(), name()).prop_map(|(l, n)| {
            let mut t = toks("(");
            t.extend(l).push("-").push(n).push(")");
            t
        }),
    ]
}

fn set_expr() -> impl Strategy<Value = Tokens> {
    proptest::collection::vec((set_term(), prop_oneof![Just("+"), Just("-")]), 1..4).prop_map(
        |terms| {
            let mut t = Tokens::default();
            for (i, (term, op)) in terms.into_iter().enumerate() {
                if i > 0 {
                    t.push(op);
                }
                t.extend(term);
            }
            t
        },
    )
}

fn operand() -> impl Strategy<Value = Tokens> {
    prop_oneof![
        Just(toks("line.units")),
        Just(toks("line.procedure")),
        Just(toks("facts.relief_percent")),
        Just(toks("1")),
        Just(toks("-1.5")),
        Just(toks("\"50\"")),
        Just(toks("2025-01-01")),
        Just(toks("true")),
        Just(toks("count ( tpi within 364 days before )")),
        Just(toks("count ( drugs on same day per site or unsited )")),
        Just(toks(
            "count ( tpi units within 30 days per code bilateral as 2 )"
        )),
        Just(toks(
            "sum ( drugs charges within 12 months before per site )"
        )),
        Just(toks("count ( tpi in calendar year per code )")),
        Just(toks("count ( tpi in 12 months from first per site )")),
        Just(toks("count ( tpi within 2 months per code per region )")),
        Just(toks("sum ( tpi charges in calendar year per region )")),
        Just(toks(
            "count ( tpi dates within 12 months per site with modifier \"59\" )"
        )),
        Just(toks("line.region")),
    ]
}

fn predicate() -> impl Strategy<Value = Tokens> {
    prop_oneof![
        (
            operand(),
            prop_oneof![Just("=="), Just("!="), Just("<="), Just(">"), Just("<")],
            operand()
        )
            .prop_map(|(a, op, b)| {
                let mut t = a;
                t.push(op).extend(b);
                t
            }),
        (
            operand(),
            prop_oneof![Just("in"), Just("not in"), Just("any in"), Just("all in")],
            set_term()
        )
            .prop_map(|(a, op, set)| {
                let mut t = a;
                t.extend(toks(op)).extend(set);
                t
            }),
        operand().prop_map(|a| {
            let mut t = a;
            t.extend(toks("in [ \"59\" , \"XS\" , 2 ]"));
            t
        }),
        operand().prop_map(|a| {
            let mut t = a;
            t.extend(toks("is missing"));
            t
        }),
        operand().prop_map(|a| {
            let mut t = a;
            t.push("exists");
            t
        }),
        Just(toks("line.modifiers has \"50\"")),
    ]
}

fn expr() -> impl Strategy<Value = Tokens> {
    predicate().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop_oneof![Just("and"), Just("or")],
                inner.clone()
            )
                .prop_map(|(a, op, b)| {
                    let mut t = a;
                    t.push(op).extend(b);
                    t
                }),
            inner.clone().prop_map(|a| {
                let mut t = toks("not (");
                t.extend(a).push(")");
                t
            }),
            (
                prop_oneof![Just("some"), Just("no"), Just("every")],
                prop_oneof![Just("other line ("), Just("other service on same day (")],
                inner
            )
                .prop_map(|(q, over, a)| {
                    let mut t = toks(q);
                    t.extend(toks(over)).extend(a).push(")");
                    t
                }),
        ]
    })
}

fn action() -> impl Strategy<Value = Tokens> {
    (
        prop_oneof![Just("deny"), Just("review"), Just("allow")],
        prop_oneof![Just(""), Just("CO-50"), Just("PR-B15")],
        prop_oneof![Just(""), Just("rarc N115"), Just("rarc N115 , N640 , M80")],
        prop_oneof![
            Just(""),
            Just("message \"no \\\"pointed\\\" dx // not a comment\"")
        ],
    )
        .prop_map(|(verb, carc, rarc, message)| {
            let mut t = toks(verb);
            for part in [carc, rarc, message] {
                if !part.is_empty() {
                    t.extend(toks(part));
                }
            }
            t
        })
}

fn check() -> impl Strategy<Value = Tokens> {
    let scope = prop_oneof![
        Just(""),
        Just("per site"),
        Just("per site or unsited"),
        Just("per region"),
        Just("per code per region per site"),
    ];
    prop_oneof![
        (expr(), action()).prop_map(|(e, a)| {
            let mut t = toks("require");
            t.extend(e).push("else").extend(a);
            t
        }),
        (
            set_term(),
            prop_oneof![
                Just(("", "3", "")),
                Just(("units", "6", "")),
                Just(("units", "6", "bilateral as 2")),
                Just(("charges", "2410.00", "")),
                Just(("dates", "4", "")),
            ],
            prop_oneof![
                Just("per day"),
                Just("per 365 days"),
                Just("per calendar year"),
                Just("per 12 months from first"),
            ],
            scope.clone(),
            action()
        )
            .prop_map(|(set, (measure, max, bilateral), period, scope, a)| {
                let mut t = toks("limit");
                t.extend(set);
                if !measure.is_empty() {
                    t.push(measure);
                }
                t.extend(toks(&format!("to {max} {period}")));
                if !scope.is_empty() {
                    t.extend(toks(scope));
                }
                if !bilateral.is_empty() {
                    t.extend(toks(bilateral));
                }
                t.push("else").extend(a);
                t
            }),
        (set_term(), scope, action()).prop_map(|(set, scope, a)| {
            let mut t = toks("interval");
            t.extend(set).extend(toks("at least 42 days"));
            if !scope.is_empty() {
                t.extend(toks(scope));
            }
            t.push("else").extend(a);
            t
        }),
        action(),
    ]
}

fn doc() -> impl Strategy<Value = Tokens> {
    prop_oneof![
        Just(Tokens::default()),
        Just(Tokens(vec!["/// One doc line.".into()])),
        Just(Tokens(vec![
            "/// First.".into(),
            "///second, unspaced".into()
        ])),
    ]
}

fn rule(id: usize) -> impl Strategy<Value = Tokens> {
    (
        doc(),
        prop_oneof![Just(""), Just("\"a title { with a brace\"")],
        proptest::collection::vec(expr(), 0..3),
        proptest::collection::vec(check(), 0..3),
    )
        .prop_map(move |(doc, title, whens, checks)| {
            let mut t = doc;
            t.push("rule").push(format!("R{id}"));
            if !title.is_empty() {
                t.push(title);
            }
            t.push("{");
            for w in whens {
                t.push("when").extend(w);
            }
            for c in checks {
                t.extend(c);
            }
            t.push("}");
            t
        })
}

/// A code set or, now and then, a region.
fn codes_decl() -> impl Strategy<Value = Tokens> {
    (
        doc(),
        prop_oneof![3 => Just("codes"), 1 => Just("region")],
        name(),
        set_expr(),
    )
        .prop_map(|(doc, keyword, name, set)| {
            let mut t = doc;
            t.push(keyword).push(name).push("=").extend(set);
            t
        })
}

fn policy() -> impl Strategy<Value = Tokens> {
    (
        any::<bool>(),
        proptest::collection::vec(codes_decl(), 0..6),
        proptest::collection::vec(rule(0), 0..2),
        proptest::collection::vec(rule(1), 0..2),
        any::<bool>(),
    )
        .prop_map(|(library, codes, rules_a, rules_b, imports)| {
            let mut t = Tokens::default();
            if imports {
                t.extend(toks("import \"lib/a.policy\" import \"b.policy\""));
            }
            t.push("/// The module.");
            if library {
                t.extend(toks("library lib \"A library\" {"));
                t.extend(toks("version \"1\" source \"s\""));
            } else {
                t.extend(toks("policy p-1 {"));
                t.extend(toks(
                    "payer medicare , medicare-rr version \"2024.1\" effective 2024-04-01 .. 2025-01-01 source \"CMS\"",
                ));
            }
            for c in codes {
                t.extend(c);
            }
            for r in rules_a.into_iter().chain(rules_b) {
                t.extend(r);
            }
            t.push("}");
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_format_to_the_same_tree_and_are_stable(
        policy in policy(),
        gaps in proptest::collection::vec(0usize..64, 1..40),
    ) {
        let text = policy.join(&gaps);
        let parsed = parse(&text);
        prop_assert!(parsed.errors.is_empty(), "the generator made an invalid policy: {:?}\n{text}", parsed.errors);
        assert_formats("generated", &text);
        // Without comments and blank lines, the layout of the input does not matter.
        let plain: Vec<usize> = gaps.iter().map(|g| g % PLAIN_GAPS).collect();
        let canonical = format(&policy.join(&[0])).ok();
        prop_assert!(canonical.is_some());
        prop_assert_eq!(format(&policy.join(&plain)).ok(), canonical);
    }
}
