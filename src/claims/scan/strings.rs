//! String bodies for the scanner: how long the body at the start of the rest
//! of a line is, sixteen or eight bytes at a time, or that it holds an escape
//! or a control character and is serde_json's to read.

/// The length of the string body at the start of `rest` (up to its closing
/// quote), or `None` when it holds an escape or a control character (an escape
/// needs decoding, a control character is an error: both are serde_json's to
/// handle) or does not end.
#[inline]
pub(super) fn string_length(rest: &[u8]) -> Option<usize> {
    // Sixteen bytes at a time where SSE2 is there (always on x86_64): a claim's
    // strings are nearly all shorter, so one step finds the end.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if let Some(chunk) = rest.first_chunk::<16>() {
        return match stop_mask_16(chunk) {
            0 => string_length_16(rest),
            found => stop_at(rest, found.trailing_zeros() as usize),
        };
    }
    string_length_8(rest, 0)
}

/// Whether the byte where a string body stops is its closing quote.
#[inline(always)]
fn stop_at(rest: &[u8], end: usize) -> Option<usize> {
    (*rest.get(end)? == b'"').then_some(end)
}

/// A bit for each byte of `chunk` that stops a string body: a quote, a
/// backslash or a control character.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn stop_mask_16(chunk: &[u8; 16]) -> u32 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
    let bytes = load_unaligned_m128i(chunk);
    let quote = cmp_eq_mask_i8_m128i(bytes, splat(b'"'));
    let backslash = cmp_eq_mask_i8_m128i(bytes, splat(b'\\'));
    // A byte is at most 0x1f when the unsigned minimum with 0x1f leaves it as is.
    let control = cmp_eq_mask_i8_m128i(min_u8_m128i(bytes, splat(0x1f)), bytes);
    let stops = bitor_m128i(bitor_m128i(quote, backslash), control);
    // Sixteen mask bits (the sign bits of the sixteen bytes): never negative.
    move_mask_i8_m128i(stops) as u32
}

/// [`string_length`] of a body longer than its first sixteen bytes: kept out
/// of line, as it is rare.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(never)]
fn string_length_16(rest: &[u8]) -> Option<usize> {
    let mut at = 16;
    while let Some(chunk) = rest.get(at..).and_then(<[u8]>::first_chunk::<16>) {
        let found = stop_mask_16(chunk);
        if found != 0 {
            return stop_at(rest, at + found.trailing_zeros() as usize);
        }
        at += 16;
    }
    string_length_8(rest, at)
}

/// [`string_length`] from `at` (a position inside the body), eight bytes at a
/// time, then a byte at a time for the last few.
fn string_length_8(rest: &[u8], mut at: usize) -> Option<usize> {
    // A byte-by-byte loop was the scanner's largest cost.
    while let Some(chunk) = rest.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let found = crate::bytes::json_stops(u64::from_le_bytes(*chunk));
        if found != 0 {
            return stop_at(rest, at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    for (i, &b) in rest.get(at..)?.iter().enumerate() {
        match b {
            b'"' => return Some(at + i),
            b'\\' | 0..=0x1f => return None,
            _ => {}
        }
    }
    None
}
