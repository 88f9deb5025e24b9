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

/// The bytes of `word` (eight, little-endian) that stop a JSON string body as
/// it is: a quote, a backslash or a control character. The result has the
/// high bit of flagged bytes set; it is non-zero exactly when `word` holds
/// such a byte, and its lowest flagged byte is always a true one (a flag can
/// be false only above a true one, through the borrow), so its
/// `trailing_zeros() / 8` is the first stop. The scanner finds string ends
/// with it and the writer asks whether a string needs escaping.
#[inline(always)]
pub(crate) fn json_stops(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The classic "has a zero byte" and "has a byte below n" tests.
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (word.wrapping_sub(ONES * 0x20) & !word))
        & HIGH
}

/// The high bit of each byte of `word` (eight, little-endian) that is not
/// below 10: in a word with `0` taken away from each byte, the bytes that
/// were not digits. Exact for each byte: the addition is made on seven
/// bits, so that no carry crosses into the next byte. Short numbers and
/// dates are read with it.
#[inline(always)]
pub(crate) fn over_nine(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    (((word & (ONES * 0x7f)) + ONES * 0x76) | word) & (ONES * 0x80)
}

/// Whether `s` can be written as a JSON string body as it is: no quote, no
/// backslash, no control character. Eight bytes at a time: the writer asks
/// this of four strings per decision, and a byte at a time cost about 45
/// instructions a string.
#[inline]
#[expect(
    clippy::indexing_slicing,
    reason = "`chunks_exact(8)`'s remainder is shorter than 8 bytes, so `..tail.len()` is within the 8-byte word; a hot path measured in docs/performance.md"
)]
pub(crate) fn plain_json(s: &[u8]) -> bool {
    let mut chunks = s.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        if json_stops(u64::from_le_bytes(word)) != 0 {
            return false;
        }
    }
    // The tail, padded with spaces, which need no escape.
    let mut word = [b' '; 8];
    let tail = chunks.remainder();
    word[..tail.len()].copy_from_slice(tail);
    json_stops(u64::from_le_bytes(word)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_json_is_false_exactly_for_a_quote_a_backslash_or_a_control() {
        let needs = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        let mut cases: Vec<Vec<u8>> = vec![b"".to_vec(), b"CLM-0000001".to_vec()];
        // Every special byte and some neighbours, at every position of strings
        // from 1 to 20 bytes (tail, whole words and both).
        for len in 1..=20 {
            for at in 0..len {
                for b in [
                    0u8, 0x1f, 0x20, 0x21, b'"', b'#', b'\\', b']', 0x7f, 0x80, 0xff,
                ] {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    cases.push(s);
                }
            }
        }
        for s in cases {
            assert_eq!(plain_json(&s), !needs(&s), "{s:?}");
        }
    }

    #[test]
    fn over_nine_flags_exactly_the_bytes_not_below_ten() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let word = u64::from(b) << (8 * at) | (0x0909_0909_0909_0909 & !(0xff << (8 * at)));
                let want = if b > 9 { 0x80 << (8 * at) } else { 0 };
                assert_eq!(over_nine(word), want, "byte {b} at {at}");
            }
        }
    }

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
