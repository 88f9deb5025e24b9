//! A service's modifiers as the history keeps them, and which of them a
//! count asks for (`with modifier "GP" or "GN"`): therapy thresholds are
//! per discipline, and the discipline is a modifier (GP, GO, GN), so a sum
//! over history has to tell the services it adds up by their modifiers.
//!
//! A modifier is two letters or digits (claim validation uppercases it), so
//! it packs into two bytes, and a line's four (the most `CLAIMS.md` and
//! 837P's SV101 allow) into one word, compared as numbers without an
//! allocation. The memory store interns each service's word with its site
//! (a mark, `history::memory::Marks`); the databases keep the modifiers as
//! JSON text.

use std::fmt;

/// One modifier packed: its two bytes, the first in the high byte; 0 for
/// none (no modifier has a NUL in it).
type Packed = u16;

/// Packs a modifier as written on a claim: `None` unless it is two ASCII
/// letters or digits. Lowercase letters are taken as uppercase, as claim
/// validation takes them.
fn pack(code: &str) -> Option<Packed> {
    match code.as_bytes() {
        [a, b] if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() => {
            Some((Packed::from(a.to_ascii_uppercase()) << 8) | Packed::from(b.to_ascii_uppercase()))
        }
        _ => None,
    }
}

/// The two characters of a packed modifier.
fn unpack(code: Packed) -> [u8; 2] {
    code.to_be_bytes()
}

/// The modifiers a line was billed with, as history keeps them: up to four,
/// in the order billed, two bytes each in one word (the first in the low
/// 16 bits). A service stored before history kept modifiers reads as
/// billed with none but its modifier 50, which the store kept apart (see
/// [`ModifierCodes::with_bilateral`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ModifierCodes(u64);

impl ModifierCodes {
    /// No modifiers.
    pub const NONE: ModifierCodes = ModifierCodes(0);

    /// The most a service keeps: a claim line's most.
    pub const MAX: usize = 4;

    /// The modifiers of a line, as validation leaves them (two letters or
    /// digits each, at most four); `None` when one is not a modifier or
    /// there are more than four (a stored row that says so is corrupt).
    pub fn of<'m>(codes: impl IntoIterator<Item = &'m str>) -> Option<ModifierCodes> {
        let mut word = 0u64;
        for (i, code) in codes.into_iter().enumerate() {
            if i >= Self::MAX {
                return None;
            }
            word |= u64::from(pack(code)?) << (16 * i);
        }
        Some(ModifierCodes(word))
    }

    /// The modifiers of a validated line: as [`ModifierCodes::of`], a
    /// modifier that does not pack (none does, after validation) left out.
    #[inline]
    pub fn of_line<'m>(codes: impl IntoIterator<Item = &'m str>) -> ModifierCodes {
        let mut word = 0u64;
        for (i, code) in codes.into_iter().take(Self::MAX).enumerate() {
            word |= u64::from(pack(code).unwrap_or(0)) << (16 * i);
        }
        ModifierCodes(word)
    }

    /// True when there are none.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The packed modifiers, in order.
    fn packed(self) -> impl Iterator<Item = Packed> {
        (0..Self::MAX)
            .map(move |i| (self.0 >> (16 * i)) as Packed)
            .filter(|c| *c != 0)
    }

    /// The modifiers, in order, as text.
    pub fn iter(self) -> impl Iterator<Item = String> {
        self.bytes()
            .map(|c| String::from_utf8_lossy(&c).into_owned())
    }

    /// The modifiers, in order, as their two ASCII bytes (for writing them
    /// without an allocation).
    pub fn bytes(self) -> impl Iterator<Item = [u8; 2]> {
        self.packed().map(unpack)
    }

    /// Whether modifier `code` is among them.
    pub fn has(self, code: &str) -> bool {
        pack(code).is_some_and(|c| self.packed().any(|m| m == c))
    }

    /// The same modifiers with `50` among them: what a service stored with
    /// the modifier-50 flag alone (before history kept the modifiers) was
    /// billed with, as far as history knows. Unchanged when 50 is there or
    /// there are four already.
    pub fn with_bilateral(self) -> ModifierCodes {
        let Some(free) = (0..Self::MAX).find(|i| (self.0 >> (16 * i)) & 0xffff == 0) else {
            return self;
        };
        if self.has("50") {
            return self;
        }
        ModifierCodes(self.0 | (u64::from(pack("50").unwrap_or(0)) << (16 * free)))
    }
}

/// `GP,KX`: the modifiers, comma-separated (empty for none).
impl fmt::Display for ModifierCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, code) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&code)?;
        }
        Ok(())
    }
}

/// Which services a count, a sum, a limit or an interval looks at by their
/// modifiers (the language's `with modifier "GP" or "GN"`): those billed
/// with at least one of up to [`ModifierFilter::MAX`] modifiers, or, for
/// [`ModifierFilter::ANY`] (no `with modifier`), every service. Kept by
/// value, so that the plans and counts holding it stay `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ModifierFilter([Packed; ModifierFilter::MAX]);

impl ModifierFilter {
    /// Every service, whatever its modifiers.
    pub const ANY: ModifierFilter = ModifierFilter([0; ModifierFilter::MAX]);

    /// The most modifiers one filter names.
    pub const MAX: usize = 8;

    /// Services billed with any of `codes`; `None` when a code is not a
    /// modifier (two letters or digits), there are none, or there are more
    /// than [`ModifierFilter::MAX`] different ones (the checker says which).
    pub fn of<'m>(codes: impl IntoIterator<Item = &'m str>) -> Option<ModifierFilter> {
        let mut filter = [0; Self::MAX];
        let mut n = 0;
        for code in codes {
            let packed = pack(code)?;
            if filter.get(..n).is_some_and(|seen| seen.contains(&packed)) {
                continue;
            }
            *filter.get_mut(n)? = packed;
            n += 1;
        }
        (n > 0).then_some(ModifierFilter(filter))
    }

    /// True for [`ModifierFilter::ANY`].
    #[inline]
    pub fn is_any(self) -> bool {
        self.0[0] == 0
    }

    /// Whether a service billed with `billed` is one the filter looks at.
    #[inline]
    pub fn admits(self, billed: ModifierCodes) -> bool {
        self.is_any() || billed.packed().any(|c| self.0.contains(&c))
    }

    /// The modifiers named, as text (none for `ANY`).
    pub fn iter(self) -> impl Iterator<Item = String> {
        self.0
            .into_iter()
            .filter(|c| *c != 0)
            .map(|c| String::from_utf8_lossy(&unpack(c)).into_owned())
    }
}

/// As written in a policy: `"GP" or "GN"` (empty for `ANY`).
impl fmt::Display for ModifierFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, code) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            write!(f, "\"{code}\"")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_up_to_four_modifiers_in_order_uppercased() {
        let codes = ModifierCodes::of(["gp", "KX", "59", "XU"]).unwrap();
        assert_eq!(codes.iter().collect::<Vec<_>>(), ["GP", "KX", "59", "XU"]);
        assert_eq!(codes.to_string(), "GP,KX,59,XU");
        assert_eq!(ModifierCodes::of(["GP", "KX", "59", "XU", "50"]), None);
        assert_eq!(ModifierCodes::of(["G"]), None);
        assert_eq!(ModifierCodes::of(["G-"]), None);
        assert_eq!(ModifierCodes::of([]), Some(ModifierCodes::NONE));
        assert!(ModifierCodes::NONE.is_empty());
        assert_eq!(ModifierCodes::NONE.to_string(), "");
        assert!(codes.has("KX") && codes.has("kx") && !codes.has("50"));
        assert_eq!(codes.bytes().next(), Some(*b"GP"));
    }

    #[test]
    fn with_bilateral_adds_50_where_there_is_room() {
        let of = |m: &[&str]| ModifierCodes::of(m.iter().copied()).unwrap();
        assert_eq!(ModifierCodes::NONE.with_bilateral(), of(&["50"]));
        assert_eq!(of(&["GP"]).with_bilateral(), of(&["GP", "50"]));
        assert_eq!(of(&["50", "XS"]).with_bilateral(), of(&["50", "XS"]));
        let full = of(&["GP", "KX", "59", "XU"]);
        assert_eq!(full.with_bilateral(), full);
    }

    #[test]
    fn a_filter_admits_a_service_billed_with_any_of_its_modifiers() {
        let pt_slp = ModifierFilter::of(["GP", "GN"]).unwrap();
        let billed = |m: &[&str]| ModifierCodes::of(m.iter().copied()).unwrap();
        assert!(pt_slp.admits(billed(&["GP"])));
        assert!(pt_slp.admits(billed(&["KX", "GN"])));
        assert!(!pt_slp.admits(billed(&["GO", "KX"])));
        assert!(!pt_slp.admits(ModifierCodes::NONE));
        assert!(ModifierFilter::ANY.admits(ModifierCodes::NONE));
        assert!(ModifierFilter::ANY.admits(billed(&["GO"])));
        assert_eq!(pt_slp.to_string(), "\"GP\" or \"GN\"");
    }

    #[test]
    fn a_filter_names_one_to_eight_different_modifiers() {
        assert_eq!(ModifierFilter::of([]), None);
        assert_eq!(ModifierFilter::of(["GPX"]), None);
        let nine = ["59", "XE", "XS", "XP", "XU", "GP", "GO", "GN", "KX"];
        assert_eq!(ModifierFilter::of(nine), None);
        let repeated = ModifierFilter::of(["GP", "GP", "gp"]).unwrap();
        assert_eq!(repeated.iter().collect::<Vec<_>>(), ["GP"]);
        assert!(ModifierFilter::of(nine[..8].iter().copied()).is_some());
    }
}
