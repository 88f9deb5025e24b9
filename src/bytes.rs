//! Byte-level helpers the per-claim paths share.

/// Byte equality of two short slices with a few word compares instead of a
/// call to `memcmp`: keys, patient and claim ids and fact names are compared
/// on every claim, and a call to `memcmp` cost more than reading them.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(s: &[u8], at: usize) -> Option<[u8; N]> {
        s.get(at..at + N)?.try_into().ok()
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Two overlapping words cover lengths from one word to two.
    match n {
        17..=32 => {
            word::<16>(a, 0) == word::<16>(b, 0) && word::<16>(a, n - 16) == word::<16>(b, n - 16)
        }
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_compares_bytes() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmno",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "conservative_therapy_weeks",
            "abcdefghijklmnopqrstuvwxyz012345",
            "abcdefghijklmnopqrstuvwxyz0123456",
            "diagnosis_pointers",
        ];
        for x in words {
            for y in words {
                assert_eq!(same(x.as_bytes(), y.as_bytes()), x == y, "{x} {y}");
            }
            for i in 0..x.len() {
                let mut changed = x.as_bytes().to_vec();
                changed[i] ^= 1;
                assert!(!same(x.as_bytes(), &changed), "{x} at {i}");
            }
        }
    }
}
