//! The `payer-rules` binary: a thin shell over the `payer_rules` library. Each
//! subcommand lives in `commands/`; the library does the work.

mod commands;
mod stdio;

// Evaluation allocates small, short-lived strings and vectors per claim; mimalloc
// serves them markedly faster than the system allocator (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // The history only grows: faulting it in as transparent huge pages made the
    // kernel compact and clear 2 MiB at a time, twice the system time of small
    // pages, and no faster to read (docs/performance.md). A hint: if the kernel
    // refuses, nothing else changes.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    commands::run()
}
