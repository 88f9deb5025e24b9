//! The policy tree: what a file says, with a source span on every node.
//!
//! The tree is lowered from pest pairs by `super::parser` and knows nothing of
//! evaluation: names are unresolved, codes and dates are the text as written. The
//! checker gives them meaning.

use super::span::{Span, Spanned};

/// A name as written: a policy id, a code-set name, a rule id, a payer id.
pub type Ident = Spanned<String>;

/// One parsed file: its imports and the policy or library it defines.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// `import "path"` lines, in order.
    pub imports: Vec<Spanned<String>>,
    /// The module the file defines; `None` when its opening line did not parse.
    pub module: Option<Module>,
}

/// Whether a module is selected for claims (`policy`) or only imported (`library`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    /// Applies to claims of its payers within its effective dates.
    Policy,
    /// Holds code sets and rules that policies import.
    Library,
}

impl ModuleKind {
    /// The keyword that introduces this kind of module.
    pub fn keyword(self) -> &'static str {
        match self {
            ModuleKind::Policy => "policy",
            ModuleKind::Library => "library",
        }
    }
}

/// A `policy` or `library` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    /// Policy or library.
    pub kind: ModuleKind,
    /// Its id (`medicare-tpi`), used in decisions.
    pub id: Ident,
    /// The quoted title after the id.
    pub title: Option<Spanned<String>>,
    /// `///` lines before the module keyword.
    pub doc: Vec<String>,
    /// Header items (`payer`, `version`, `effective`, `source`) in source order.
    pub header: Vec<Header>,
    /// Code sets and rules in source order.
    pub items: Vec<Item>,
    /// The whole block.
    pub span: Span,
}

/// A header item of a module.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// What the item says.
    pub kind: HeaderKind,
    /// The whole item, keyword included.
    pub span: Span,
}

/// The header items a policy can carry.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderKind {
    /// `payer medicare, medicare-rr`: the payer ids the policy applies to.
    Payer(Vec<Ident>),
    /// `payer-ids "00882", "12202"`: the ids an X12 837P names the payer by
    /// (2010BB NM109), which map to this policy's first payer.
    PayerIds(Vec<Spanned<String>>),
    /// `version "2024.1"`.
    Version(Spanned<String>),
    /// `effective 2024-04-01..` or `effective 2017-03-01..2024-03-31` (both ends inclusive).
    Effective {
        /// First date of service covered, as written.
        from: Spanned<String>,
        /// Last date of service covered, as written; open-ended when absent.
        to: Option<Spanned<String>>,
    },
    /// `source "LCD L34211 ..."`: the citation of the payer document.
    Source(Spanned<String>),
}

impl HeaderKind {
    /// The keyword of the item, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            HeaderKind::Payer(_) => "payer",
            HeaderKind::PayerIds(_) => "payer-ids",
            HeaderKind::Version(_) => "version",
            HeaderKind::Effective { .. } => "effective",
            HeaderKind::Source(_) => "source",
        }
    }
}

/// A code set, a region or a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `codes NAME = ...`.
    Codes(CodeSetDecl),
    /// `region NAME = ...`.
    Region(RegionDecl),
    /// `rule ID "title" { ... }`.
    Rule(Rule),
}

/// `codes NAME = SET`: a named set of procedure or diagnosis codes.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeSetDecl {
    /// The set's name.
    pub name: Ident,
    /// `///` lines before it.
    pub doc: Vec<String>,
    /// What the set holds.
    pub expr: SetExpr,
    /// The whole declaration.
    pub span: Span,
}

/// `region NAME = SET`: a line whose procedure code is in SET is in region
/// NAME (`per region`, `line.region`). The regions a module sees share no
/// code, so a code is in one region or in none.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionDecl {
    /// The region's name, which `line.region` reads.
    pub name: Ident,
    /// `///` lines before it.
    pub doc: Vec<String>,
    /// The procedure codes of the region.
    pub expr: SetExpr,
    /// The whole declaration.
    pub span: Span,
}

/// A set expression: literals, references to named sets, union and difference.
#[derive(Debug, Clone, PartialEq)]
pub enum SetExpr {
    /// `cpt 20552, 20553` or `icd10 M79.1*, M60.80-M60.89`.
    Literal(CodeList),
    /// The name of another set.
    Ref(Ident),
    /// `a + b - c ...`, applied left to right. A flat list rather than nested
    /// binary nodes, so that a long expression is a long vector, not a deep
    /// tree that recursion over it would overflow the stack on.
    Chain {
        /// The first operand.
        first: Box<SetExpr>,
        /// Each further operand with the operation that applies it.
        rest: Vec<(SetOp, SetExpr)>,
        /// The whole expression.
        span: Span,
    },
}

impl SetExpr {
    /// The operands in order, the first with no operation.
    pub fn terms(&self) -> impl Iterator<Item = (Option<SetOp>, &SetExpr)> {
        let (first, rest): (&SetExpr, &[(SetOp, SetExpr)]) = match self {
            SetExpr::Chain { first, rest, .. } => (first, rest),
            other => (other, &[]),
        };
        std::iter::once((None, first)).chain(rest.iter().map(|(op, e)| (Some(*op), e)))
    }

    /// The source span of the expression.
    pub fn span(&self) -> Span {
        match self {
            SetExpr::Literal(list) => list.span,
            SetExpr::Ref(name) => name.span,
            SetExpr::Chain { span, .. } => *span,
        }
    }
}

/// Set algebra operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// `+`: every code in either set.
    Union,
    /// `-`: the codes of the left set that are not in the right one.
    Difference,
}

/// The code system a literal list is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeSystem {
    /// AMA CPT (HCPCS Level I): `20552`, `0213T`.
    Cpt,
    /// HCPCS Level I or II: `J3301`, `20552`.
    Hcpcs,
    /// ICD-10-CM diagnoses: `M79.18`.
    Icd10,
}

impl CodeSystem {
    /// The keyword that introduces a list in this system.
    pub fn keyword(self) -> &'static str {
        match self {
            CodeSystem::Cpt => "cpt",
            CodeSystem::Hcpcs => "hcpcs",
            CodeSystem::Icd10 => "icd10",
        }
    }
}

/// A literal list of codes in one system.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeList {
    /// The system keyword.
    pub system: Spanned<CodeSystem>,
    /// The entries, in order.
    pub entries: Vec<Spanned<CodeEntry>>,
    /// The whole list.
    pub span: Span,
}

// One entry of a code list, as written: a code-list concept that the code sets
// (`crate::codes::set`) build from, so it lives with them.
pub use crate::codes::CodeEntry;

/// `rule ID "title" { when ...  checks... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The stable id that decisions name.
    pub id: Ident,
    /// The quoted title, used as the default message.
    pub title: Option<Spanned<String>>,
    /// `///` lines before it, shown by `--explain`.
    pub doc: Vec<String>,
    /// `when` conditions: the rule applies to a line when all hold.
    pub when: Vec<Expr>,
    /// What the rule checks, in order; the first that fails decides.
    pub checks: Vec<Check>,
    /// The whole rule.
    pub span: Span,
}

/// One check of a rule, with the action taken when it fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What is checked.
    pub kind: CheckKind,
    /// What happens when the check fails.
    pub action: Action,
    /// The whole check.
    pub span: Span,
}

/// The kinds of check.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// `require EXPR else ACTION`: fails when EXPR is false.
    Require(Expr),
    /// `limit SET [units|charges|dates] to N per PERIOD [per code] [per region]
    /// [per site] [bilateral as K] else ACTION`: fails when the services in
    /// SET within the period, this one included, would be more than N
    /// (lines), or their units, charges or distinct dates of service more than N.
    Limit {
        /// Which services count.
        set: SetExpr,
        /// The most allowed in the window.
        max: Spanned<LimitMax>,
        /// `units` or `charges`; lines when absent.
        measure: Option<Spanned<Measure>>,
        /// `bilateral as K`: the K of a units limit.
        bilateral: Option<Spanned<u32>>,
        /// The window: `day`, `D days`, `M months`, `calendar year` or
        /// `M months from first`; its span covers the words after `per`.
        period: Spanned<Period>,
        /// `per code`: only services with this line's procedure code count.
        per_code: bool,
        /// `per region`, where it is written: only services in this line's
        /// region count.
        per_region: Option<Span>,
        /// Whether only services at the same site count.
        scope: Option<Spanned<SiteScope>>,
        /// `with modifier "GP" or "GN"`: only services billed with one of
        /// these count.
        modifiers: Option<WithModifiers>,
    },
    /// `interval SET at least D days|months [per code] [per region] [per site] else ACTION`:
    /// fails when a service in SET was given less than D days (or months) before
    /// this one, and not on the same day.
    Interval {
        /// Which services count.
        set: SetExpr,
        /// The least time between two services: a rolling length (the
        /// checker refuses the others, PR310); its span covers the words
        /// after `least`.
        period: Spanned<Period>,
        /// `per code`: only services with this line's procedure code count.
        per_code: bool,
        /// `per region`, where it is written: only services in this line's
        /// region count.
        per_region: Option<Span>,
        /// Whether only services at the same site count.
        scope: Option<Spanned<SiteScope>>,
        /// `with modifier "GP" or "GN"`: only services billed with one of
        /// these count.
        modifiers: Option<WithModifiers>,
    },
    /// A bare action: fails whenever the rule applies.
    Always,
}

/// `with modifier "GP" or "GN"` after a limit's, an interval's, a count's
/// or a sum's window: only services billed with at least one of the
/// modifiers count.
#[derive(Debug, Clone, PartialEq)]
pub struct WithModifiers {
    /// The modifiers, as written (the checker says whether each is one).
    pub codes: Vec<Spanned<String>>,
    /// The whole clause.
    pub span: Span,
}

/// The most a limit allows, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitMax {
    /// A whole number that fits 32 bits (`to 3`).
    Whole(u32),
    /// Any other number (`to 2410.50`, `to 99999999999`), exactly; `None`
    /// when it has more digits than a decimal of 28 significant digits
    /// holds.
    Decimal(Option<rust_decimal::Decimal>),
}

impl LimitMax {
    /// The value as a decimal, when it is one.
    pub fn decimal(self) -> Option<rust_decimal::Decimal> {
        match self {
            LimitMax::Whole(n) => Some(n.into()),
            LimitMax::Decimal(d) => d,
        }
    }
}

/// What a limit, `count` or `sum` adds up besides lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// `units`: each service weighs its units of service.
    Units,
    /// `charges`: the services' charges, as exact decimals.
    Charges,
    /// `dates`: the distinct dates of service of the services (sessions:
    /// two services on one date are one).
    Dates,
}

impl Measure {
    /// The keyword, as written in a policy.
    pub fn word(self) -> &'static str {
        match self {
            Measure::Units => "units",
            Measure::Charges => "charges",
            Measure::Dates => "dates",
        }
    }
}

/// The unit of a window's or an interval's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// `days`.
    Days,
    /// `months`: calendar months, counted back from the date of service (a day
    /// that the earlier month lacks becomes its last day: one month before
    /// 2025-03-31 is 2025-02-28).
    Months,
}

impl TimeUnit {
    /// The keyword, as written in a policy.
    pub fn word(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Months => "months",
        }
    }
}

/// How far back from the date of service a limit, an interval or a count
/// looks: one concept for all of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Period {
    /// `N days` or `N months` (`day` is `1 days`): the last N days or calendar
    /// months, rolling with the date of service. `length`'s span is the
    /// number (for `day`, the word).
    Rolling {
        /// How many units.
        length: Spanned<u32>,
        /// Days or calendar months.
        unit: TimeUnit,
    },
    /// `calendar year`: from January 1 of the date of service's year.
    CalendarYear,
    /// `N days|months from first`: periods of N units anchored at the
    /// member's first service that counts, each next one at the first
    /// service on or after the end of the one before.
    Anchored {
        /// How many units.
        length: Spanned<u32>,
        /// Days or calendar months.
        unit: TimeUnit,
    },
}

/// How history services are matched by anatomic site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteScope {
    /// `per site`: same site label; a missing site is a site of its own.
    Strict,
    /// `per site or unsited`: same site label, and a missing site on either side
    /// matches every site.
    OrUnsited,
}

/// What a failed check does to the line.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Deny, review or allow (with a note).
    pub verb: Spanned<Verb>,
    /// `CO-50`: claim adjustment group and reason code.
    pub carc: Option<Spanned<String>>,
    /// Remittance advice remark codes.
    pub rarc: Vec<Spanned<String>>,
    /// The message of the reason; the rule title when absent.
    pub message: Option<Spanned<String>>,
    /// The whole action.
    pub span: Span,
}

/// Action verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Allow, with a note in the reasons.
    Allow,
    /// Pend the line for a person.
    Review,
    /// Deny the line.
    Deny,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

impl Expr {
    /// The record and name of a field read as `record.name` (`line.procedure`,
    /// `other.region`); `None` for any other expression.
    pub fn field(&self) -> Option<(&str, &str)> {
        match &self.kind {
            ExprKind::Field(parts) => match parts.as_slice() {
                [record, name] => Some((record.node.as_str(), name.node.as_str())),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Expression forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `a or b or ...`.
    Or(Vec<Expr>),
    /// `a and b and ...`.
    And(Vec<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// `a OP b` for `== != < <= > >=`.
    Compare {
        /// The operator.
        op: Spanned<CompareOp>,
        /// Left side.
        lhs: Box<Expr>,
        /// Right side.
        rhs: Box<Expr>,
    },
    /// `a in SET`, `a not in SET`, `list any in SET`, `list all in SET`.
    In {
        /// The operator.
        op: Spanned<InOp>,
        /// The value or list tested.
        lhs: Box<Expr>,
        /// A named or literal code set, or a literal list.
        rhs: InTarget,
    },
    /// `list has value`.
    Has {
        /// The list.
        lhs: Box<Expr>,
        /// The value looked for.
        rhs: Box<Expr>,
    },
    /// `a exists` or `a is missing`.
    Exists {
        /// The value tested.
        operand: Box<Expr>,
        /// True for `is missing`.
        negated: bool,
    },
    /// `some|no|every other line (EXPR)`, where `other.` names the other line,
    /// or `some|no other service on same day (EXPR)`, where it names another
    /// service on the line's date (see [`Others`]).
    Quantified {
        /// The quantifier.
        quant: Spanned<Quant>,
        /// What `other` ranges over.
        over: Others,
        /// The condition on the other line or service.
        body: Box<Expr>,
    },
    /// `count(SET [units] WINDOW [per code] [per region] [per site]
    /// [bilateral as K])`: services (or their units) in history;
    /// `sum(SET charges WINDOW ...)`: their charges.
    Count {
        /// Which services count.
        set: SetExpr,
        /// Which dates count.
        window: Spanned<Window>,
        /// `per code`: only services with this line's procedure code count.
        per_code: bool,
        /// `per region`, where it is written: only services in this line's
        /// region count.
        per_region: Option<Span>,
        /// Whether only the same site counts.
        scope: Option<Spanned<SiteScope>>,
        /// `with modifier "GP" or "GN"`: only services billed with one of
        /// these count.
        modifiers: Option<WithModifiers>,
        /// `units` or `charges`; lines when absent.
        measure: Option<Spanned<Measure>>,
        /// `bilateral as K`: the K of a count of units.
        bilateral: Option<Spanned<u32>>,
        /// True for `sum(...)`, false for `count(...)`; the span of the
        /// keyword, for messages.
        sum: Option<Span>,
    },
    /// `line.units`, `facts.relief_percent`.
    Field(Vec<Ident>),
    /// A literal value.
    Literal(Literal),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// Every comparison operator.
    pub const ALL: [CompareOp; 6] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
    ];

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// Membership operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InOp {
    /// `in`: the value is a member.
    In,
    /// `not in`: the value is not a member.
    NotIn,
    /// `any in`: some element of the list is a member.
    AnyIn,
    /// `all in`: every element of the list is a member.
    AllIn,
}

impl InOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            InOp::In => "in",
            InOp::NotIn => "not in",
            InOp::AnyIn => "any in",
            InOp::AllIn => "all in",
        }
    }
}

/// The right side of a membership test.
#[derive(Debug, Clone, PartialEq)]
pub enum InTarget {
    /// A code set (named or literal).
    Set(SetExpr),
    /// A literal list of values: `["11", "22"]`.
    List(Vec<Spanned<Literal>>, Span),
}

/// Quantifiers over the other lines of the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    /// At least one other line satisfies the condition.
    Some,
    /// No other line does.
    No,
    /// Every other line does.
    Every,
}

/// What a quantifier's `other` ranges over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Others {
    /// `other line`: every other line of the claim, whatever its date.
    Lines,
    /// `other service on same day`: the claim's other lines on the line's
    /// date of service and the member's services on that date from earlier
    /// claims (the history), of which `other.` reads only what the history
    /// keeps.
    SameDayServices,
}

impl Others {
    /// The words after `some other`, as written.
    pub fn words(self) -> &'static str {
        match self {
            Others::Lines => "line",
            Others::SameDayServices => "service on same day",
        }
    }
}

/// Which history dates a `count` looks at, relative to the line's date of service.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// `on same day`: the date of service itself.
    SameDay,
    /// `within D days`: `[DOS - (D-1), DOS]`; with `before`: `[DOS - D, DOS - 1]`.
    /// In months, `DOS - D` is the date D calendar months before. Written
    /// with a calendar or anchored period, the checker's PR311.
    Within {
        /// The window's length.
        period: Period,
        /// Whether the window ends the day before the date of service.
        before: bool,
    },
    /// `in calendar year`, `in M months from first`: the calendar year or
    /// anchored period the date of service is in, up to it. Written with a
    /// rolling length or `before`, the checker's PR311.
    In {
        /// The calendar year or the anchored period.
        period: Period,
        /// `before`, which `in` does not take.
        before: bool,
    },
}

/// Literal values.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A whole number.
    Int(i64),
    /// A number with a fraction, or a whole number beyond 64 bits: the
    /// decimal written, exactly; `None` when it has more digits than a
    /// decimal of 28 significant digits holds (the checker's `PR211`).
    Number(Option<rust_decimal::Decimal>),
    /// A quoted string.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// A `YYYY-MM-DD` date, as written.
    Date(String),
    /// `[a, b, ...]`.
    List(Vec<Spanned<Literal>>),
}
