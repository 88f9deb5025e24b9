//! PR401: a code list that names a code twice, lists a code a range or prefix of
//! the same list already covers, or has two ranges that overlap.
//!
//! Each literal list (`cpt ...`, `icd10 ...`) is checked on its own; the same
//! code in two sets, or in the two operands of `a + b`, is not reported.

use super::visit::{literals, module_sets};
use super::{Lint, ModuleCx};
use crate::codes::set::shape;
use crate::codes::CodeKey;
use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{CodeEntry, CodeList};
use crate::syntax::Span;

/// See the module docs.
pub struct OverlappingCodes;

impl Lint for OverlappingCodes {
    fn code(&self) -> DiagCode {
        DiagCode::OverlappingCodes
    }

    fn module(&self, cx: &ModuleCx<'_, '_>, diags: &mut Vec<Diagnostic>) {
        let mut lists = Vec::new();
        for set in module_sets(cx.module) {
            literals(set, &mut lists);
        }
        for list in lists {
            check_list(cx, list, diags);
        }
    }
}

/// The codes an entry covers: keys `lo..=hi` of one shape, or of every shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cover {
    lo: u64,
    hi: u64,
    /// `None`: every shape (prefixes, and ranges whose ends differ in shape).
    shape: Option<usize>,
    span: Span,
    range: bool,
}

impl Cover {
    fn of(entry: &CodeEntry, span: Span) -> Option<Cover> {
        Some(match entry {
            CodeEntry::Code(c) => {
                let k = CodeKey::parse(c)?.0;
                Cover {
                    lo: k,
                    hi: k,
                    shape: Some(shape(k)),
                    span,
                    range: false,
                }
            }
            CodeEntry::Prefix(p) => {
                let k = CodeKey::parse(p)?;
                Cover {
                    lo: k.0,
                    hi: k.prefix_end().0,
                    shape: None,
                    span,
                    range: false,
                }
            }
            CodeEntry::Range(lo, hi) => {
                let (l, h) = (CodeKey::parse(lo)?, CodeKey::parse(hi)?);
                if l > h {
                    return None; // PR205
                }
                let same = shape(l.0) == shape(h.0);
                Cover {
                    lo: l.0,
                    hi: h.prefix_end().0,
                    shape: same.then(|| shape(l.0)),
                    span,
                    range: true,
                }
            }
        })
    }

    fn same_codes(&self, other: &Cover) -> bool {
        (self.lo, self.hi, self.shape) == (other.lo, other.hi, other.shape)
    }

    fn shapes_meet(&self, other: &Cover) -> bool {
        self.shape.is_none() || other.shape.is_none() || self.shape == other.shape
    }

    fn overlaps(&self, other: &Cover) -> bool {
        self.lo <= other.hi && other.lo <= self.hi && self.shapes_meet(other)
    }

    /// Every code of `other` is in `self`.
    fn contains(&self, other: &Cover) -> bool {
        self.lo <= other.lo
            && other.hi <= self.hi
            && (self.shape.is_none() || self.shape == other.shape)
    }
}

enum Finding {
    Twice,
    Inside,
    Overlap,
}

fn check_list(cx: &ModuleCx<'_, '_>, list: &CodeList, diags: &mut Vec<Diagnostic>) {
    let covers: Vec<Cover> = list
        .entries
        .iter()
        .filter_map(|e| Cover::of(&e.node, e.span))
        .collect();
    let partners = overlapping_pairs(&covers);
    for ((j, b), partners) in covers.iter().enumerate().zip(&partners) {
        // The most telling reason to flag `b`: a repeat or a covered code, then
        // an overlap with an earlier entry. A covering entry is not flagged.
        let mut best: Option<(usize, Finding)> = None;
        for &i in partners {
            // Partners are indices into `covers`.
            let Some(a) = covers.get(i) else { continue };
            if a.same_codes(b) {
                if i < j {
                    best = Some((i, Finding::Twice));
                    break;
                }
            } else if a.contains(b) {
                best = Some((i, Finding::Inside));
                break;
            } else if !b.contains(a) && i < j && best.is_none() {
                best = Some((i, Finding::Overlap));
            }
        }
        let Some((i, finding)) = best else { continue };
        let Some(a) = covers.get(i) else { continue };
        let (at, other) = (cx.file.written(b.span), cx.file.written(a.span));
        let diag = match finding {
            Finding::Twice => Diagnostic::new(
                DiagCode::OverlappingCodes,
                cx.file,
                b.span,
                if at == other {
                    format!("`{at}` is listed twice")
                } else {
                    format!("`{at}` and `{other}` are the same codes")
                },
            )
            .with_label("listed again here")
            .with_related(a.span, "first listed here")
            .with_help(format!("remove the second `{at}`")),
            Finding::Inside => Diagnostic::new(
                DiagCode::OverlappingCodes,
                cx.file,
                b.span,
                format!("`{at}` is already in `{other}`"),
            )
            .with_label("already covered")
            .with_related(a.span, "this entry covers it")
            .with_help(format!("remove `{at}`: `{other}` includes it")),
            Finding::Overlap => {
                let help = match (merged(a, b, cx), a.range && b.range) {
                    (Some(m), true) => format!("merge the two ranges into one: `{m}`"),
                    _ => "narrow one of them so that each code is listed once".to_string(),
                };
                Diagnostic::new(
                    DiagCode::OverlappingCodes,
                    cx.file,
                    b.span,
                    format!("`{at}` overlaps `{other}`"),
                )
                .with_label("these codes are listed twice")
                .with_related(a.span, "overlaps this entry")
                .with_help(help)
            }
        };
        diags.push(diag);
    }
}

/// For each entry, the entries it shares codes with, in list order. A sweep over
/// the entries sorted by their first key: each entry meets only those still
/// open when it starts, so a list of disjoint codes costs `n log n`, not `n²`.
#[expect(
    clippy::indexing_slicing,
    reason = "`order` is a permutation of `0..covers.len()` and `open` holds entries of it, so every index is below `covers.len()`, the length of `covers` and of `partners`"
)]
fn overlapping_pairs(covers: &[Cover]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..covers.len()).collect();
    order.sort_by_key(|&i| (covers[i].lo, std::cmp::Reverse(covers[i].hi), i));
    let mut partners = vec![Vec::new(); covers.len()];
    let mut open: Vec<usize> = Vec::new();
    for &j in &order {
        let b = &covers[j];
        open.retain(|&i| covers[i].hi >= b.lo);
        for &i in &open {
            if covers[i].overlaps(b) {
                partners[i].push(j);
                partners[j].push(i);
            }
        }
        open.push(j);
    }
    for p in &mut partners {
        p.sort_unstable();
    }
    partners
}

/// `LO-HI` covering two overlapping ranges, from their written ends.
fn merged(a: &Cover, b: &Cover, cx: &ModuleCx<'_, '_>) -> Option<String> {
    let ends = |c: &Cover| -> Option<(String, String)> {
        let text = cx.file.text.get(c.span.start..c.span.end)?;
        let (lo, hi) = text.split_once('-')?;
        Some((lo.to_string(), hi.to_string()))
    };
    let (alo, ahi) = ends(a)?;
    let (blo, bhi) = ends(b)?;
    let lo = if a.lo <= b.lo { alo } else { blo };
    let hi = if a.hi >= b.hi { ahi } else { bhi };
    Some(format!("{lo}-{hi}"))
}
