//! The `payer-rules` binary: see `payer_rules::cli`.

fn main() -> std::process::ExitCode {
    payer_rules::cli::run()
}
