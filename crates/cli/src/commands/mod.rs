//! The `payer-rules` command line: thin commands over the library.

mod check;
mod codes;
mod convert;
mod eval;
mod explain;
mod fmt;
mod history;
mod impact;
mod prior;
mod progress;
mod report;
mod serve;
mod test;
mod waiting;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use std::path::Path;
use std::sync::Arc;

use crate::stdio::errln;
use payer_rules::{InputFormat, PayerIds};

/// Exit status: the run found nothing wrong.
pub const EXIT_OK: u8 = 0;
/// Exit status: policy errors (or failed checks).
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage or an unreadable input.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the history database cannot be opened or failed.
pub const EXIT_STORE: u8 = 3;

/// A rule engine for medical claim editing: check payer policies, evaluate claims.
#[derive(Debug, Parser)]
#[command(name = "payer-rules", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, check and lint policy files; exit 1 on an error (or a warning
    /// with `--deny-warnings`), 2 when a path cannot be read.
    Check(check::Args),
    /// Evaluate claims against the policies; one JSON decision per claim on stdout.
    Eval {
        /// A policy file or a directory of `*.policy` files.
        #[arg(long, short = 'p', default_value = "policies")]
        policies: Vec<PathBuf>,
        /// Claims: JSON Lines, a JSON array or YAML; `-` or nothing reads stdin.
        input: Option<PathBuf>,
        /// Input format (auto, jsonl, json, yaml, x12); `auto` looks at the
        /// first character (an X12 interchange starts with `ISA`).
        #[arg(long, default_value = "auto")]
        format: InputFormat,
        /// X12 payer ids (2010BB NM109) and the policy payer each stands for:
        /// `ID PAYER` per line. An id not listed is its own payer.
        #[arg(long, value_name = "FILE")]
        payer_ids: Option<PathBuf>,
        /// Earlier claims that count as allowed history (same formats as the input).
        #[arg(long)]
        history: Vec<PathBuf>,
        /// Add each rule's evaluation trace to every line decision.
        #[arg(long)]
        explain: bool,
        /// Do not print the summary on stderr.
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Evaluate with N threads (JSON Lines input); the output is the same as with 1.
        #[arg(long, short = 'j', default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: u16,
        /// Keep the history in this SQLite file (created when missing), or in the
        /// PostgreSQL database of a `postgres://` URL: claims of earlier runs
        /// count, and decisions are written once stored.
        #[arg(long, value_name = "PATH|URL", env = "PAYER_RULES_DB")]
        db: Option<PathBuf>,
        /// With --db: claims per transaction.
        #[arg(long, default_value_t = 10000, value_parser = clap::value_parser!(u32).range(1..))]
        batch: u32,
        /// With --db: seconds to wait while another process holds the write lock
        /// (PostgreSQL: a member's lock).
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        busy_timeout: u64,
    },
    /// Convert claims between formats: X12 837P to JSON Lines (and error
    /// records), or any input to 837P; exit 1 when some records are invalid.
    Convert(convert::Args),
    /// Look at or seed the claim history kept in a database.
    History {
        /// What to do with the history.
        #[command(subcommand)]
        command: HistoryCommand,
    },
    /// Rewrite policy files in the canonical layout (comments kept).
    Fmt {
        /// Write nothing: show a diff of each file that is not formatted and exit 1.
        #[arg(long)]
        check: bool,
        /// Policy files, or directories searched for `*.policy` files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run the test cases (`*.cases.yaml`) beside policies; exit 1 on a failure.
    Test {
        /// Case files, policy files (their cases beside them) or directories.
        #[arg(default_value = "policies")]
        paths: Vec<PathBuf>,
        /// Report, per policy, how many cases make each rule fire and which rules
        /// no case exercises.
        #[arg(long)]
        coverage: bool,
        /// Exit 1 when a policy has less than this percentage of its rules
        /// exercised by its cases (0 to 100).
        #[arg(long, value_name = "N", value_parser = parse_percent)]
        min_coverage: Option<f64>,
    },
    /// Show what a rule is for, where it is and what it checks.
    Explain {
        /// The rule id (`M4`).
        rule: String,
        /// A policy file or a directory of `*.policy` files.
        #[arg(long, short = 'p', default_value = "policies")]
        policies: Vec<PathBuf>,
    },
    /// What a policy change does to real claims: replay claims against the
    /// base and the candidate policies (each with its own history) and report
    /// the decisions that change; exit 1 when a `--fail-on` condition holds.
    Impact {
        /// The policies before the change: a directory or file, or a git
        /// revision of the repository (`HEAD~1`, `main`).
        #[arg(long)]
        base: String,
        /// The policies after the change: a directory or file, or a git revision.
        #[arg(long, default_value = "policies")]
        candidate: String,
        /// Claims (JSON Lines, a JSON array, YAML or X12 837P); `-` reads stdin.
        #[arg(required = true)]
        claims: Vec<PathBuf>,
        /// X12 payer ids (837P 2010BB NM109) and the policy payer each stands
        /// for, as for `eval --payer-ids`: `ID PAYER` per line, over the ids
        /// both sides' policies declare. An id not listed is its own payer.
        #[arg(long, value_name = "FILE")]
        payer_ids: Option<PathBuf>,
        /// The git repository revisions are read from.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// The policy directory inside a revision.
        #[arg(long, default_value = "policies")]
        policies_dir: PathBuf,
        /// Paid claims loaded into both sides' histories first.
        #[arg(long)]
        history: Vec<PathBuf>,
        /// The report's format.
        #[arg(long, value_enum, default_value = "terminal")]
        format: impact::Format,
        /// Write the report to this file instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Exit 1 when this holds: `any`, `FROM->TO` (`allow->deny`, `*->deny`),
        /// `claims>N`, `lines>N` or `charges>X`; repeatable.
        #[arg(long, value_name = "CONDITION")]
        fail_on: Vec<impact::FailOn>,
    },
    /// Serve the engine over HTTP: /v1/claims/evaluate, /v1/claims/batch,
    /// /v1/check, reload on policy changes, /metrics (docs/service.md).
    Serve(serve::Args),
    /// Look up ICD-10-CM codes in the shipped FY2026 table.
    Codes {
        /// What to do with codes.
        #[command(subcommand)]
        command: CodesCommand,
    },
}

/// `history` subcommands.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// List a member's counted services and claims, per payer: history is kept
    /// per payer and member, so the same member id under two payers is two
    /// histories.
    Show {
        /// The history database: a SQLite file or a `postgres://` URL.
        #[arg(long, value_name = "PATH|URL", env = "PAYER_RULES_DB")]
        db: PathBuf,
        /// The member id (the claims' `patient.id`).
        #[arg(long)]
        patient: String,
        /// Only this payer's history of the member (with the rows stored before
        /// history was kept per payer, which count under every payer); without
        /// it, every payer's, each under its own heading.
        #[arg(long)]
        payer: Option<String>,
        /// JSON Lines: one object per service, then one per claim version.
        #[arg(long)]
        json: bool,
    },
    /// Count the claim versions and services in a database, and its size.
    Stats {
        /// The history database: a SQLite file or a `postgres://` URL.
        #[arg(long, value_name = "PATH|URL", env = "PAYER_RULES_DB")]
        db: PathBuf,
    },
    /// Store paid claims (JSON Lines, a JSON array or YAML) as history: all their
    /// lines count as allowed; importing the same claims again changes nothing.
    Import {
        /// The history database (created when missing): a SQLite file or a
        /// `postgres://` URL.
        #[arg(long, value_name = "PATH|URL", env = "PAYER_RULES_DB")]
        db: PathBuf,
        /// Files of paid claims; `-` reads stdin.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// X12 payer ids and their policy payers, as for `eval --payer-ids`.
        #[arg(long, value_name = "FILE")]
        payer_ids: Option<PathBuf>,
        /// Claims per transaction.
        #[arg(long, default_value_t = 10000, value_parser = clap::value_parser!(u32).range(1..))]
        batch: u32,
        /// Seconds to wait while another process holds the write lock.
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        busy_timeout: u64,
    },
}

/// `codes` subcommands.
#[derive(Debug, Subcommand)]
pub enum CodesCommand {
    /// Show a code: its kind, description and billable children.
    Lookup {
        /// ICD-10-CM codes, with or without the dot.
        #[arg(required = true)]
        codes: Vec<String>,
    },
}

/// A percentage from 0 to 100.
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(n) if (0.0..=100.0).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

/// Reads a `--payer-ids` file; exit status 2 when it cannot be read or parsed.
fn load_payer_ids(path: Option<&Path>) -> Result<Option<Arc<PayerIds>>, u8> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        errln!("cannot read payer ids `{}`: {e}", path.display());
        EXIT_USAGE
    })?;
    PayerIds::parse(&text)
        .map(|ids| Some(Arc::new(ids)))
        .map_err(|e| {
            errln!("payer ids `{}`: {e}", path.display());
            EXIT_USAGE
        })
}

/// Prints a reader's warnings on stderr.
fn print_warnings<R: std::io::BufRead>(reader: &mut payer_rules::ClaimReader<R>) {
    for warning in reader.take_warnings() {
        errln!("warning: {warning}");
    }
}

/// Runs the command line and returns the exit status.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Eval {
            policies,
            input,
            format,
            payer_ids,
            history,
            explain,
            quiet,
            jobs,
            db,
            batch,
            busy_timeout,
        } => match load_payer_ids(payer_ids.as_deref()) {
            Err(code) => code,
            Ok(payer_ids) => eval::run(&eval::Options {
                policies,
                input,
                format,
                payer_ids,
                history,
                explain,
                quiet,
                jobs: usize::from(jobs),
                db,
                batch: batch as usize,
                busy_timeout: std::time::Duration::from_secs(busy_timeout),
            }),
        },
        Command::Convert(args) => convert::run(&args),
        Command::History { command } => history::run(command),
        Command::Fmt { check, paths } => fmt::run(&paths, check),
        Command::Test {
            paths,
            coverage,
            min_coverage,
        } => test::run(&test::Options {
            paths,
            coverage,
            min_coverage,
        }),
        Command::Explain { rule, policies } => explain::run(&policies, &rule),
        Command::Impact {
            base,
            candidate,
            claims,
            payer_ids,
            repo,
            policies_dir,
            history,
            format,
            output,
            fail_on,
        } => match load_payer_ids(payer_ids.as_deref()) {
            Err(code) => code,
            Ok(payer_ids) => impact::run(&impact::Options {
                base,
                candidate,
                repo,
                policies_dir,
                claims,
                payer_ids,
                history,
                format,
                output,
                fail_on,
            }),
        },
        Command::Serve(args) => serve::run(&args),
        Command::Codes {
            command: CodesCommand::Lookup { codes },
        } => codes::lookup(&codes),
    };
    // stdout flushed, and a lost message on stderr counted (see `stdio`).
    ExitCode::from(crate::stdio::finish(code))
}
