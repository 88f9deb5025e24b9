//! Cache hints: where data will be read soon, said early enough for memory to
//! deliver it while the processor does other work.

/// Starts loading the cache line that holds `value`, without waiting for it.
/// Only a hint: what the program computes does not change. A no-op where no
/// safe prefetch is available.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    safe_arch::prefetch_t0(value);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = value;
}
