//! What `payer-rules serve` is told: where to listen, the policies, the
//! history, the limits and who may call.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use payer_rules::PayerIds;

/// The service's configuration; [`Config::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port (the bound address is
    /// printed on stdout as `listening on http://ADDR`).
    pub addr: SocketAddr,
    /// Policy files or directories.
    pub policies: Vec<PathBuf>,
    /// X12 payer ids (837P 2010BB NM109) and the policy payer each stands
    /// for, as `eval --payer-ids` reads them: the ids the policies declare
    /// (`payer-ids`) fill in those this table lacks, and a reload reads them
    /// from the new policies.
    pub payer_ids: Option<PayerIds>,
    /// The history: a SQLite file (the CLI's format) or a `postgres://` URL;
    /// in memory when `None`.
    pub db: Option<PathBuf>,
    /// How long to wait for another process's write lock on `db`.
    pub busy_timeout: Duration,
    /// Watch the policy directories and reload on a change.
    pub watch: bool,
    /// How often the policy files are hashed to catch changes the watcher
    /// missed; `None` turns the poll off.
    pub poll: Option<Duration>,
    /// How long the watcher waits for changes to settle.
    pub debounce: Duration,
    /// Bearer tokens accepted on the API; no authentication when empty
    /// (allowed only on a loopback address).
    pub tokens: Vec<String>,
    /// Bearer tokens accepted on reload and history (and the API).
    pub admin_tokens: Vec<String>,
    /// Serve `GET /v1/members/{payer}/{member}/history` (member data).
    pub history_api: bool,
    /// Log each decision (claim id, payer, decision, rule ids, revision) as a
    /// `decision` event after its commit.
    pub decision_log: bool,
    /// Serve the playground page at `/playground`.
    pub playground: bool,
    /// Largest request body of one claim, `/v1/check` and the playground.
    pub max_body: usize,
    /// Largest request body of `/v1/claims/batch`.
    pub max_batch_body: usize,
    /// Claims per `/v1/claims/batch` request at most.
    pub max_batch_claims: usize,
    /// Lines per claim at most.
    pub max_lines: usize,
    /// How long a request may wait for its answer.
    pub request_timeout: Duration,
    /// Jobs (requests or batch chunks) waiting for the decider at most; a
    /// single claim past it gets 503 with `Retry-After`.
    pub queue: usize,
    /// Claims decided in one transaction at most.
    pub group: usize,
    /// How long in-flight requests get to finish after SIGTERM.
    pub grace: Duration,
    /// How long after SIGTERM the service still accepts requests while
    /// `/health/ready` answers 503, so that a load balancer polling it stops
    /// sending before connections are refused.
    pub drain_delay: Duration,
}

impl Config {
    /// The defaults: loopback port 8080, `policies/`, history in memory.
    pub fn new() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            policies: vec![PathBuf::from("policies")],
            payer_ids: None,
            db: None,
            busy_timeout: Duration::from_secs(30),
            watch: true,
            debounce: Duration::from_millis(200),
            poll: Some(Duration::from_secs(30)),
            tokens: Vec::new(),
            admin_tokens: Vec::new(),
            history_api: false,
            decision_log: false,
            playground: true,
            max_body: 1 << 20,
            max_batch_body: 64 << 20,
            max_batch_claims: 100_000,
            max_lines: 1_000,
            request_timeout: Duration::from_secs(30),
            queue: 4_096,
            group: 1_000,
            grace: Duration::from_secs(10),
            drain_delay: Duration::ZERO,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}
