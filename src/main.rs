//! The `payer-rules` binary: see `payer_rules::cli`.

// Evaluation allocates small, short-lived strings and vectors per claim; mimalloc
// serves them markedly faster than the system allocator (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    payer_rules::cli::run()
}
