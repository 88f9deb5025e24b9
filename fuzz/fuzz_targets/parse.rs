//! The parser alone: any text yields a tree and syntax errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Policy files are UTF-8 text; the loader rejects anything else before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = payer_rules::internal::parse(text);
});
