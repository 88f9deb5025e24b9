//! Diagnostics: every problem a user can cause in a policy file, with a stable
//! code, a severity, the file and span, and a help line saying how to fix it.
//!
//! The codes live in one table ([`DiagCode`]) so that docs, tests and output
//! formats agree on them; a code, once published, keeps its meaning.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::syntax::Span;

/// A policy file's path (as given) and text.
#[derive(Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as the user gave it, for messages and `at` locations.
    pub path: String,
    /// The whole text.
    pub text: String,
}

impl SourceFile {
    /// A file from its path and text.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
        })
    }

    /// The text a span covers, as written; empty for a span outside the
    /// text (one never is: diagnostics quote what their span underlines).
    pub fn written(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// `path:line:column` of a span's start.
    pub fn location(&self, span: Span) -> String {
        let (line, col) = span.line_col(&self.text);
        format!("{}:{line}:{col}", self.path)
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a look; the policy still loads.
    Warning,
    /// The policy cannot be used until it is fixed.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! diag_codes {
    ($( $variant:ident = $code:literal, $sev:ident, $summary:literal; )*) => {
        /// Every diagnostic the tool can report. The code string is stable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum DiagCode { $( #[doc = $summary] $variant, )* }

        impl DiagCode {
            /// All codes, in table order.
            pub const ALL: &'static [DiagCode] = &[$(DiagCode::$variant,)*];

            /// The stable code, e.g. `PR206`.
            pub fn code(self) -> &'static str {
                match self { $(DiagCode::$variant => $code,)* }
            }

            /// The default severity.
            pub fn severity(self) -> Severity {
                match self { $(DiagCode::$variant => Severity::$sev,)* }
            }

            /// One line on what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(DiagCode::$variant => $summary,)* }
            }

            /// The code's name in PascalCase, e.g. `UnknownDiagnosis` (SARIF `rule.name`).
            pub fn name(self) -> &'static str {
                match self { $(DiagCode::$variant => stringify!($variant),)* }
            }
        }
    };
}

diag_codes! {
    Syntax              = "PR001", Error,   "the text does not follow the grammar";
    ImportNotFound      = "PR002", Error,   "an imported file cannot be read";
    ImportCycle         = "PR003", Error,   "files import each other in a cycle";
    ImportNotLibrary    = "PR004", Error,   "an imported file is a policy, not a library";
    FileUnreadable      = "PR005", Error,   "a policy file or directory cannot be read";
    ImportOutsideTree   = "PR006", Error,   "an import leaves the policy tree";
    DuplicateCodeSet    = "PR101", Error,   "two code sets have the same name";
    DuplicateRule       = "PR102", Error,   "two rules have the same id";
    UnknownCodeSet      = "PR103", Error,   "a code set name is not defined";
    UnknownField        = "PR104", Error,   "a field name is not known";
    MissingHeader       = "PR105", Error,   "a policy lacks a required header item";
    DuplicateHeader     = "PR106", Error,   "a header item is given twice";
    HeaderInLibrary     = "PR107", Error,   "a library has a header item only policies have";
    DuplicatePolicy     = "PR108", Error,   "two files define the same policy id and version";
    MissingSource       = "PR109", Warning, "a policy does not cite its source";
    PayerIdOfTwoPayers  = "PR110", Error,   "an X12 payer id is declared by policies of two different payers";
    InvalidDate         = "PR201", Error,   "a date is not a valid YYYY-MM-DD date";
    ReversedDates       = "PR202", Error,   "an effective range ends before it starts";
    MalformedProcedure  = "PR203", Error,   "a CPT or HCPCS code has the wrong shape";
    MalformedDiagnosis  = "PR204", Error,   "an ICD-10-CM code has the wrong shape";
    ReversedRange       = "PR205", Error,   "a code range ends before it starts";
    UnknownDiagnosis    = "PR206", Error,   "an ICD-10-CM code is in none of the shipped code sets (FY2019, FY2021, FY2025, FY2026)";
    HeaderDiagnosis     = "PR207", Warning, "an ICD-10-CM code is a non-billable header";
    MixedCodeSystems    = "PR208", Error,   "a set mixes procedure and diagnosis codes";
    InvalidCarc         = "PR209", Error,   "an action's group and reason code is missing or malformed";
    InvalidRarc         = "PR210", Error,   "a remark code is malformed";
    NumberOutOfRange    = "PR211", Error,   "a number is outside the range it must be in";
    TooManyRules        = "PR212", Error,   "a policy holds more rules than one policy can (65,536, its imports' included)";
    SetTooDeep          = "PR213", Error,   "a code set nests too deeply (more than 64 levels of sets and parentheses)";
    DiagnosisNotInForce = "PR214", Error,   "an ICD-10-CM code is billable in none of the years its policy is in force";
    LimitNotWhole       = "PR215", Error,   "a limit of lines, units or dates is not a whole number";
    OverlappingRegions  = "PR225", Error,   "two regions of a module hold the same procedure code";
    RegionNotProcedures = "PR226", Error,   "a region's set is not a set of procedure codes";
    DuplicateRegion     = "PR227", Error,   "two regions have the same name";
    TypeMismatch        = "PR301", Error,   "values of incompatible types are compared";
    NotACondition       = "PR302", Error,   "a value that is not true/false is used as a condition";
    WrongCodeSystem     = "PR303", Error,   "a code is tested against a set of another code system";
    OtherOutsideQuantifier = "PR304", Error, "`other.` is used outside a quantifier (`some/no/every other line (...)`, `some/no other service on same day (...)`)";
    NestedQuantifier    = "PR305", Error,   "quantifiers are nested (over other lines or over same-day services)";
    RuleWithoutCheck    = "PR306", Error,   "a rule has no check or action";
    UnreachableCheck    = "PR307", Error,   "a check follows a bare action and can never run";
    BilateralWithoutUnits = "PR308", Error, "`bilateral as` is given where no units are counted";
    MeasureMismatch     = "PR309", Error,   "`count` is asked for charges, or `sum` for lines, units or dates";
    CalendarInterval    = "PR310", Error,   "an interval is measured in a calendar year or an anchored period";
    WindowWord          = "PR311", Error,   "a count's window is written with the wrong word: `within` for a rolling length, `in` for a calendar year or an anchored period";
    SameDayField        = "PR314", Error,   "`other.` inside `some/no other service on same day (...)` reads a field the history does not keep";
    SameDayEvery        = "PR315", Error,   "`every other service on same day (...)`: only `some` and `no` range over same-day services";
    BadModifierFilter   = "PR316", Error,   "`with modifier` names something that is not a modifier, or more than 8 modifiers";
    NoRegions           = "PR312", Error,   "`per region`, `line.region` or `other.region` in a module that has no regions";
    UnknownRegion       = "PR313", Error,   "a region's name is compared with text that names no region";
    OverlappingCodes    = "PR401", Warning, "a code list names a code twice or covers it with two entries";
    UnusedCodeSet       = "PR402", Warning, "a policy's code set is never used";
    DeadCondition       = "PR403", Warning, "a condition can never hold: the rule never applies or its check always fails";
    OverlappingVersions = "PR404", Warning, "two versions of one policy are in effect on the same dates";
    ZeroLimit           = "PR405", Warning, "a limit of 0 denies every service it counts";
    RemarkCodes         = "PR406", Warning, "a reason code used against its X12 definition: no remark code where one is required, or CARC 16 asking for documentation";
    ChargesLimitOfZero  = "PR407", Warning, "a `charges` limit of 0 denies every service of the set billed above 0";
    LongAnchoredPeriod  = "PR408", Warning, "a period anchored at a first service is 10 years or longer: it is in effect never renewed";
    SameDayCondition    = "PR410", Warning, "a same-day quantifier's condition never tests `other.procedure`, or tests `other.date_of_service` (always the line's date)";
    CodesInNoRegion     = "PR409", Warning, "`per region` counts a set with codes in no region, which all count as one region of their own";
    Internal            = "PR901", Error,   "payer-rules met a state it should never reach: a bug, reported instead of a wrong result";
}

impl DiagCode {
    /// The code for its text, e.g. `PR206`.
    pub fn from_code(code: &str) -> Option<DiagCode> {
        DiagCode::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// True for the lints: warnings about policies that load but are likely
    /// wrong (the `PR4xx` codes).
    pub fn is_lint(self) -> bool {
        self.code().starts_with("PR4")
    }
}

/// One problem found in a policy file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Which problem.
    pub code: DiagCode,
    /// Error or warning (the code's default unless raised).
    pub severity: Severity,
    /// What is wrong: lowercase, no trailing period, user text in backticks.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The file the span points into.
    pub file: Arc<SourceFile>,
    /// Where the problem is.
    pub span: Span,
    /// Text under the primary span.
    pub label: Option<String>,
    /// Other places in the same file that explain the problem.
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(
        code: DiagCode,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            help: None,
            file: Arc::clone(file),
            span,
            label: None,
            related: Vec::new(),
        }
    }

    /// Adds the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a label under the primary span.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a secondary span with its label.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column of the primary span.
    pub fn line_col(&self) -> (usize, usize) {
        self.span.line_col(&self.file.text)
    }

    /// Renders the diagnostic as miette's graphical report, without colours:
    /// what tests snapshot and what `check` prints when not on a terminal.
    pub fn render_plain(&self) -> String {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_width(100);
        let mut out = String::new();
        if handler.render_report(&mut out, self).is_err() {
            out = format!("{}: {}", self.code.code(), self.message);
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.file)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(self.label.clone(), self.span);
        let related = self
            .related
            .iter()
            .map(|(span, label)| LabeledSpan::new_with_span(Some(label.clone()), *span));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

// Named contents make miette print `path:line:col` above the snippet.
impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.path.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

// `check --format json` and the service's `/v1/check` write diagnostics with
// this one writer, so that the two never drift.

/// Where a diagnostic starts and ends: 1-based lines and columns (in
/// characters), the end column one past the last character. Every output
/// format (JSON here, GitHub and SARIF in the CLI) places a span with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First line, 1-based.
    pub line: usize,
    /// First column, 1-based, in characters.
    pub column: usize,
    /// Last line.
    pub end_line: usize,
    /// One past the last column.
    pub end_column: usize,
}

/// The region of `span` in `file`.
pub fn region(file: &SourceFile, span: Span) -> Region {
    let (line, column) = span.line_col(&file.text);
    let (end_line, end_column) = Span::new(span.end, span.end).line_col(&file.text);
    Region {
        line,
        column,
        end_line,
        end_column,
    }
}

/// One diagnostic as `--format json` writes it; fields in this order.
#[derive(serde::Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    help: Option<&'a str>,
    related: Vec<JsonRelated<'a>>,
}

/// Another place in the same file that explains the diagnostic.
#[derive(serde::Serialize)]
struct JsonRelated<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

/// One JSON object per diagnostic, one per line: `code`, `severity`, `file`,
/// `line`, `column`, `end_line`, `end_column`, `message`, `help` (or null) and
/// `related` (other places in the file, each with its position and `message`).
pub fn json_lines(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let r = region(&d.file, d.span);
        let related = d
            .related
            .iter()
            .map(|(span, label)| {
                let r = region(&d.file, *span);
                JsonRelated {
                    line: r.line,
                    column: r.column,
                    end_line: r.end_line,
                    end_column: r.end_column,
                    message: label,
                }
            })
            .collect();
        let value = JsonDiagnostic {
            code: d.code.code(),
            severity: d.severity.as_str(),
            file: &d.file.path,
            line: r.line,
            column: r.column,
            end_line: r.end_line,
            end_column: r.end_column,
            message: &d.message,
            help: d.help.as_deref(),
            related,
        };
        match serde_json::to_string(&value) {
            Ok(line) => out.push_str(&line),
            Err(e) => out.push_str(&serde_json::json!({ "error": e.to_string() }).to_string()),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for code in DiagCode::ALL {
            assert!(seen.insert(code.code()), "duplicate code {}", code.code());
            assert!(code.code().starts_with("PR") && code.code().len() == 5);
            assert!(!code.summary().ends_with('.'));
        }
    }

    #[test]
    fn renders_file_line_and_help() {
        let file = SourceFile::new("p.policy", "policy x {\n  bad\n}\n");
        let d = Diagnostic::new(
            DiagCode::Syntax,
            &file,
            Span::new(13, 16),
            "expected a rule, found `bad`",
        )
        .with_help("start a rule with `rule`");
        let out = d.render_plain();
        assert!(out.contains("PR001"), "{out}");
        assert!(out.contains("p.policy:2:3"), "{out}");
        assert!(out.contains("start a rule with `rule`"), "{out}");
    }
}
