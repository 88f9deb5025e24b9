//! `payer-rules serve`: the options, read into the service's `Config`; the
//! service itself is the `payer-rules-service` library.

use crate::stdio::errln;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use payer_rules_service::{Config, ServeError, Tokens};

use super::{EXIT_FAILED, EXIT_OK, EXIT_STORE, EXIT_USAGE};

/// What `serve` was asked to do.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen; port 0 picks a free one (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// A policy file or a directory of `*.policy` files (watched for changes).
    #[arg(long, short = 'p', default_value = "policies")]
    pub policies: Vec<PathBuf>,
    /// X12 payer ids (2010BB NM109) and the policy payer each stands for, as
    /// for `eval --payer-ids`: an 837P body's payers are read with these,
    /// over the ids the policies declare (`payer-ids`). Read at start.
    #[arg(long, value_name = "FILE")]
    pub payer_ids: Option<PathBuf>,
    /// Keep the history in this SQLite file (the format of `eval --db`), or in
    /// the PostgreSQL database of a `postgres://` URL, which several `serve`
    /// processes may share; in memory without it.
    #[arg(long, value_name = "PATH|URL", env = "PAYER_RULES_DB")]
    pub db: Option<PathBuf>,
    /// With --db: seconds to wait while another process holds the write lock
    /// (PostgreSQL: a member's lock).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub busy_timeout: u64,
    /// Do not watch the policy directories (SIGHUP and POST /v1/reload still reload).
    #[arg(long)]
    pub no_watch: bool,
    /// Seconds between content-hash polls of the policy files (what the
    /// watcher misses); 0 turns the poll off.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub poll: u64,
    /// A file of bearer tokens for the API, one per line (or PAYER_RULES_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// A file of bearer tokens for reload and history, one per line (or
    /// PAYER_RULES_ADMIN_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Serve GET /v1/members/{payer}/{member}/history (member data; admin token).
    #[arg(long)]
    pub history_api: bool,
    /// Log each decision after its commit (claim id, payer, decision, rule
    /// ids and policy revision only) as a `decision` event of the JSON log.
    #[arg(long)]
    pub decision_log: bool,
    /// Do not serve the playground page.
    #[arg(long)]
    pub no_playground: bool,
    /// Largest body of one claim, /v1/check and the playground, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body: usize,
    /// Largest body of /v1/claims/batch, in bytes.
    #[arg(long, default_value_t = 64 << 20)]
    pub max_batch_body: usize,
    /// Claims per /v1/claims/batch request at most.
    #[arg(long, default_value_t = 100_000)]
    pub max_batch_claims: usize,
    /// Lines per claim at most.
    #[arg(long, default_value_t = 1_000)]
    pub max_lines: usize,
    /// Seconds a request may wait for its answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout: u64,
    /// Requests waiting for the engine at most; past it, 503 with Retry-After.
    #[arg(long, default_value_t = 4096)]
    pub queue: usize,
    /// Claims per transaction at most.
    #[arg(long, default_value_t = 1000)]
    pub group: usize,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub grace: u64,
    /// Seconds after SIGTERM during which requests are still accepted while
    /// /health/ready answers 503 (for a load balancer to stop sending).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub drain_delay: u64,
}

/// Tokens of a file (one per line, blank lines and `#` comments skipped) or
/// of an environment variable.
fn tokens(file: Option<&Path>, var: &str) -> Result<Vec<String>, u8> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            errln!("cannot read the token file `{}`: {e}", path.display());
            EXIT_USAGE
        })?,
        None => std::env::var(var).unwrap_or_default(),
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Runs the service until SIGTERM.
pub fn run(args: &Args) -> u8 {
    let tokens = match (
        tokens(args.token_file.as_deref(), "PAYER_RULES_TOKEN"),
        tokens(args.admin_token_file.as_deref(), "PAYER_RULES_ADMIN_TOKEN"),
    ) {
        (Ok(api), Ok(admin)) => Tokens { api, admin },
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let payer_ids = match super::load_payer_ids(args.payer_ids.as_deref()) {
        Ok(ids) => ids.map(std::sync::Arc::unwrap_or_clone),
        Err(code) => return code,
    };
    let mut config = Config::new();
    config.addr = args.addr;
    config.policies.clone_from(&args.policies);
    config.payer_ids = payer_ids;
    config.db.clone_from(&args.db);
    config.busy_timeout = Duration::from_secs(args.busy_timeout);
    config.watch = !args.no_watch;
    config.poll = Some(Duration::from_secs(args.poll));
    config.history_api = args.history_api;
    config.decision_log = args.decision_log;
    config.playground = !args.no_playground;
    config.max_body = args.max_body;
    config.max_batch_body = args.max_batch_body;
    config.max_batch_claims = args.max_batch_claims;
    config.max_lines = args.max_lines;
    config.request_timeout = Duration::from_secs(args.request_timeout);
    config.queue = args.queue;
    config.group = args.group;
    config.grace = Duration::from_secs(args.grace);
    config.drain_delay = Duration::from_secs(args.drain_delay);
    match payer_rules_service::run(config, tokens) {
        Ok(()) => EXIT_OK,
        Err(ServeError::Policies {
            diagnostics,
            message,
        }) => {
            for line in diagnostics.lines() {
                errln!("{line}");
            }
            errln!("{message}; the service did not start");
            EXIT_FAILED
        }
        Err(e @ ServeError::Store(_)) => {
            errln!("{e}");
            EXIT_STORE
        }
        Err(e) => {
            errln!("{e}");
            EXIT_USAGE
        }
    }
}
