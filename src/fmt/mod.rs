//! Format: policy text -> the same policy in the one canonical layout.
//!
//! The formatter reads the text with its own small lexer ([`lexer`]), because
//! `//` comments are not in the tree, and re-flows the tokens ([`printer`]):
//!
//! - 2 spaces per brace level; one header item, code set, `when` or check per line;
//!   `else ACTION` on the line after its check, 2 spaces further in;
//! - one space between tokens, none inside `( )` and `[ ]`, before `,`, after
//!   `count`, or inside `effective DATE..DATE`;
//! - `=` aligned across code sets declared one after another; code lists wrapped
//!   at 100 columns, continuation lines under the list's first entry;
//! - every `//` and `///` comment kept, at the end of its line or on a line of its
//!   own as it was; runs of blank lines collapsed to one; none at the start or
//!   end of a block.
//!
//! Formatting never changes meaning: [`format`] re-parses what it printed and
//! returns an error rather than text whose tree (spans aside) or comments differ
//! from the input's. It depends on [`crate::syntax`] only.

mod lexer;
mod printer;

use crate::syntax::{self, ast, SyntaxError};

/// Why a text was not formatted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The text does not parse; the caller reports the errors as diagnostics.
    #[error("the file has {} syntax error(s)", .0.len())]
    Syntax(Vec<SyntaxError>),
    /// The formatted text would not mean the same as the input: a bug in the
    /// formatter, caught before any file is written.
    #[error("formatting would change the file's meaning ({0}); the file is left as it is: please report this")]
    Unsafe(String),
}

/// Formats a policy or library file. Refuses text with syntax errors.
pub fn format(text: &str) -> Result<String, FormatError> {
    let before = syntax::parse(text);
    if !before.errors.is_empty() {
        return Err(FormatError::Syntax(before.errors));
    }
    let tokens = lexer::lex(text);
    let out = printer::print(&tokens);
    let after = syntax::parse(&out);
    if !after.errors.is_empty() {
        return Err(FormatError::Unsafe(format!(
            "the result does not parse: {}",
            after
                .errors
                .first()
                .map(|e| e.message())
                .unwrap_or_default()
        )));
    }
    if !same_tree(&before.file, &after.file) {
        return Err(FormatError::Unsafe(
            "the result parses to another tree".into(),
        ));
    }
    if comments(text) != comments(&out) {
        return Err(FormatError::Unsafe("a comment was lost or changed".into()));
    }
    Ok(out)
}

/// The `//` and `///` comments of a text, in order, without trailing spaces.
fn comments(text: &str) -> Vec<&str> {
    lexer::lex(text)
        .into_iter()
        .filter(|t| t.is_comment())
        .map(|t| t.text)
        .collect()
}

/// True when two trees are the same but for their spans: what formatting must
/// preserve.
pub fn same_tree(a: &ast::File, b: &ast::File) -> bool {
    without_spans(a) == without_spans(b)
}

/// The tree's debug form with every `Span { start: N, end: M }` replaced by `Span`.
pub fn without_spans(file: &ast::File) -> String {
    const OPEN: &str = "Span { start: ";
    let debug = format!("{file:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        match span_tail(after) {
            Some(len) => {
                out.push_str("Span");
                rest = &after[len..];
            }
            None => {
                out.push_str(OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The length of `N, end: M }` at the start of `text`, if it is there.
fn span_tail(text: &str) -> Option<usize> {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(text);
    let rest = text[n..].strip_prefix(", end: ")?;
    let m = digits(rest);
    let rest = rest[m..].strip_prefix(" }")?;
    (n > 0 && m > 0).then_some(text.len() - rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        format(text).unwrap_or_else(|e| panic!("{e}: {e:?}"))
    }

    fn check_stable(text: &str) -> String {
        let once = fmt(text);
        assert_eq!(fmt(&once), once, "not idempotent:\n{once}");
        once
    }

    #[test]
    fn spans_are_erased_and_nothing_else() {
        let a = syntax::parse("policy p { codes a = cpt 1 }").file;
        let b = syntax::parse("policy   p {\n  codes a =  cpt 1\n}\n").file;
        let c = syntax::parse("policy p { codes a = cpt 2 }").file;
        assert!(same_tree(&a, &b));
        assert!(!same_tree(&a, &c));
        assert!(!without_spans(&a).contains("start:"));
    }

    #[test]
    fn a_messy_policy_gets_the_canonical_layout() {
        let text = "\n\n// top\n\n\n/// Doc.\npolicy p \"t\" {   payer a ,b version \"1\"\neffective 2024-01-01 .. 2024-12-31 source \"s\"\n\n\n\ncodes tpi=cpt 20552,20553\n   codes long_name = icd10 M79.1*\n/// Rule doc.\nrule R1 \"x\" { when line.procedure in tpi and not(line.units>1) require count (tpi within 30 days before)<=2 else deny CO-50 rarc N115,N640 message \"m\" limit tpi to 1 per day per site else review CO-16\n  deny CO-4 }\n\n\n}\n\n";
        let want = "// top

/// Doc.
policy p \"t\" {
  payer a, b
  version \"1\"
  effective 2024-01-01..2024-12-31
  source \"s\"

  codes tpi       = cpt 20552, 20553
  codes long_name = icd10 M79.1*
  /// Rule doc.
  rule R1 \"x\" {
    when line.procedure in tpi and not (line.units > 1)
    require count(tpi within 30 days before) <= 2
      else deny CO-50 rarc N115, N640 message \"m\"
    limit tpi to 1 per day per site
      else review CO-16
    deny CO-4
  }
}
";
        assert_eq!(check_stable(text), want);
    }

    #[test]
    fn comments_stay_at_the_end_of_their_line_or_on_their_own() {
        let text = "policy p { // after the brace\n  // before payer\n  payer a // after payer\n  rule R {\n    when line.units > 1 // why\n      and line.units < 9\n    // before the check\n    require line.units != 3 // after the check\n      // before else\n      else // after else\n        deny CO-1\n    // last in the rule\n  } // after the rule\n  // last in the module\n} // after the module\n// after everything\n";
        let want = "policy p { // after the brace
  // before payer
  payer a // after payer
  rule R {
    when line.units > 1 // why
      and line.units < 9
    // before the check
    require line.units != 3 // after the check
      // before else
      else // after else
        deny CO-1
    // last in the rule
  } // after the rule
  // last in the module
} // after the module
// after everything
";
        assert_eq!(check_stable(text), want);
    }

    #[test]
    fn long_code_lists_wrap_under_their_first_entry() {
        let codes: Vec<String> = (0..30).map(|i| format!("M79.{i:02}")).collect();
        let text = format!(
            "policy p {{\n  codes a = cpt 1\n  codes dx = icd10 {}\n  rule R {{ when line.diagnoses any in icd10 {} deny CO-1 }}\n}}\n",
            codes.join(", "),
            codes.join(",")
        );
        let out = check_stable(&text);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.iter().all(|l| l.len() <= printer::WIDTH), "{out}");
        assert!(
            lines[2].starts_with("  codes dx = icd10 M79.00, M79.01,"),
            "{out}"
        );
        assert!(lines[3].starts_with("                   M79."), "{out}");
        let when = lines.iter().position(|l| l.contains("when")).unwrap_or(0);
        let col = lines[when].find("M79.00").unwrap_or(0);
        assert_eq!(
            lines[when + 1].len() - lines[when + 1].trim_start().len(),
            col
        );
    }

    #[test]
    fn comments_inside_a_code_list_keep_the_alignment() {
        let text = "policy p {\n  codes dx = icd10 G44.201, // cluster\n    // myalgia\n    M79.10, M79.11\n}\n";
        let want = "policy p {
  codes dx = icd10 G44.201, // cluster
                   // myalgia
                   M79.10, M79.11
}
";
        assert_eq!(check_stable(text), want);
    }

    #[test]
    fn groups_of_code_sets_align_until_a_blank_line() {
        let text = "library l {\n  codes a = cpt 1\n  /// doc\n  codes bbb = cpt 2\n\n  codes cc = cpt 3\n  codes d = cpt 4 - a\n}\n";
        let want = "library l {
  codes a   = cpt 1
  /// doc
  codes bbb = cpt 2

  codes cc = cpt 3
  codes d  = cpt 4 - a
}
";
        assert_eq!(check_stable(text), want);
    }

    #[test]
    fn regions_align_among_themselves_and_start_their_own_lines() {
        let text = "policy p { codes esi = cpt 62320-62323 codes esi_addons = cpt 64480, 64484\n region cervical_thoracic = cpt 62320, 62321 region lumbar_sacral=cpt 62322, 62323\n rule R { when line.region == \"lumbar_sacral\" limit esi to 1 per day per code per region per site else deny CO-151 } }";
        let want = "policy p {
  codes esi        = cpt 62320-62323
  codes esi_addons = cpt 64480, 64484
  region cervical_thoracic = cpt 62320, 62321
  region lumbar_sacral     = cpt 62322, 62323
  rule R {
    when line.region == \"lumbar_sacral\"
    limit esi to 1 per day per code per region per site
      else deny CO-151
  }
}
";
        assert_eq!(check_stable(text), want);
    }

    /// `with modifier` keeps its place after the per-scopes and before
    /// `bilateral as`, in limits, intervals, counts and sums alike, with
    /// single spaces around each `or`.
    #[test]
    fn with_modifier_clauses_keep_their_place_and_spacing() {
        let text = "policy p { codes therapy = cpt 97110, 97140\n rule R { when sum( therapy charges in calendar year per code  with   modifier \"GP\"  or\"GN\" ) >= 2410.00 and count(therapy units within 30 days before per site with modifier \"GO\" bilateral as 2)>1 limit therapy charges to 2410.00 per calendar year with modifier \"GP\" or \"GN\" else review OA-133 interval therapy at least 2 days per code per region per site or unsited with modifier \"GO\"\n else deny CO-151 } }";
        let want = "policy p {
  codes therapy = cpt 97110, 97140
  rule R {
    when sum(therapy charges in calendar year per code with modifier \"GP\" or \"GN\") >= 2410.00 and count(therapy units within 30 days before per site with modifier \"GO\" bilateral as 2) > 1
    limit therapy charges to 2410.00 per calendar year with modifier \"GP\" or \"GN\"
      else review OA-133
    interval therapy at least 2 days per code per region per site or unsited with modifier \"GO\"
      else deny CO-151
  }
}
";
        let once = check_stable(text);
        assert_eq!(once, want);
        assert!(same_tree(
            &syntax::parse(text).file,
            &syntax::parse(&once).file
        ));
    }

    #[test]
    fn imports_literals_and_quantifiers() {
        let text = "import \"a.policy\"\nimport   \"b.policy\"\npolicy p { rule R { when line.modifiers any in [ \"59\" ,\"XS\" ] or some other line(other.procedure in cpt 1-2,3*) when facts.x == -1.5 or line.procedure in (tpi -drugs) allow } }";
        let want = "import \"a.policy\"
import \"b.policy\"
policy p {
  rule R {
    when line.modifiers any in [\"59\", \"XS\"] or some other line (other.procedure in cpt 1-2, 3*)
    when facts.x == -1.5 or line.procedure in (tpi - drugs)
    allow
  }
}
";
        assert_eq!(check_stable(text), want);
    }

    #[test]
    fn crlf_and_tabs_become_plain_lines() {
        let text = "policy p {\r\n\tpayer a // x \r\n\r\n\r\n\tsource \"a\tb\"\r\n}\r\n";
        assert_eq!(
            check_stable(text),
            "policy p {\n  payer a // x\n\n  source \"a\tb\"\n}\n"
        );
    }

    #[test]
    fn empty_blocks_and_bare_rules() {
        assert_eq!(
            check_stable("library l{rule R{}}"),
            "library l {\n  rule R {\n  }\n}\n"
        );
    }

    #[test]
    fn syntax_errors_are_refused() {
        let err = format("policy p {\n  rule R { when }\n}\n");
        assert!(matches!(err, Err(FormatError::Syntax(e)) if e.len() == 1));
    }
}
