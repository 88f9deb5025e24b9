//! `payer-rules serve`: the payer-rules engine as an HTTP service.
//!
//! A library, so that the `payer-rules` binary stays one program (its
//! `serve` subcommand calls [`run`]) and the core library gains no async or
//! HTTP dependency. The pieces:
//!
//! | module | holds |
//! |---|---|
//! | `config` | [`Config`]: address, policies, history, limits, tokens |
//! | `policy_set` | the active policies behind an `ArcSwap`, reloads that never swap in a broken set |
//! | `revision` | the policy revision: a content hash of the files |
//! | `watch` | reload triggers: the debounced directory watcher and SIGHUP |
//! | `decider` | the one thread owning the engine and its store: claims in arrival order, one transaction per group, answers after the commit |
//! | `routes` | the handlers; `body` reads bodies under limits |
//! | `auth` | bearer tokens, constant-time |
//! | `metrics` | the Prometheus names and labels |
//! | `openapi` | `/v1/openapi.json` |
//!
//! `docs/service.md` documents the API, the configuration and deployment.

#![deny(missing_docs)]

mod app;
mod auth;
mod body;
mod config;
mod decider;
mod error;
mod metrics;
mod openapi;
mod policy_set;
mod revision;
mod routes;
mod state;
mod watch;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use payer_rules::HistoryDb;
use tokio::net::TcpListener;

pub use auth::Tokens;
pub use config::Config;

/// Why the service did not start or stopped badly.
#[derive(Debug)]
pub enum ServeError {
    /// The first policy load failed: the diagnostics (`check --format json`
    /// lines) and a message.
    Policies {
        /// The diagnostics as JSON Lines.
        diagnostics: String,
        /// What to say.
        message: String,
    },
    /// The history database could not be opened.
    Store(String),
    /// Listening, the runtime or the watcher failed.
    Io(String),
    /// No token was configured for an address beyond loopback.
    Unprotected(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Policies { message, .. } => write!(f, "{message}"),
            ServeError::Store(m) => write!(f, "cannot open the history database: {m}"),
            ServeError::Io(m) => write!(f, "{m}"),
            ServeError::Unprotected(m) => write!(f, "{m}"),
        }
    }
}

/// Runs the service until SIGTERM or SIGINT: builds the runtime, loads the
/// policies, opens the history, listens, prints `listening on http://ADDR`
/// on stdout, and on the signal drains (unready, no new connections,
/// in-flight requests finish, the last group commits, the store closes).
pub fn run(config: Config, tokens: Tokens) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("serve")
        .build()
        .map_err(|e| ServeError::Io(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(config, tokens))
}

/// Logs as JSON Lines on stderr (`RUST_LOG` filters; default `info`).
/// Messages name no member and no claim.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn serve(config: Config, tokens: Tokens) -> Result<(), ServeError> {
    init_logs();
    if tokens.is_off() && !config.addr.ip().is_loopback() {
        return Err(ServeError::Unprotected(format!(
            "{} is not a loopback address: give bearer tokens (--token-file or PAYER_RULES_TOKEN) \
             or listen on 127.0.0.1 behind a proxy",
            config.addr
        )));
    }
    // The recorder first: what loading the policies records (the active
    // revision's `payer_rules_policy_info`) is lost without one.
    let metrics = metrics::install();
    let shared = Arc::new(
        policy_set::Shared::load(config.policies.clone(), config.payer_ids.clone()).map_err(
            |e| ServeError::Policies {
                diagnostics: e.diagnostics,
                message: e.message,
            },
        )?,
    );
    let store = match &config.db {
        Some(path) => Some(
            HistoryDb::open(path, config.busy_timeout)
                .map_err(|e| ServeError::Store(e.to_string()))?,
        ),
        None => None,
    };
    let decider = decider::Decider::start(
        shared.clone(),
        store,
        config.queue,
        config.group,
        config.decision_log,
    )
    .map_err(|e| ServeError::Io(format!("cannot start the decider: {e}")))?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| ServeError::Io(format!("cannot listen on {}: {e}", config.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Io(e.to_string()))?;
    let _watcher = if config.watch {
        Some(
            watch::policies(&shared, config.debounce)
                .map_err(|e| ServeError::Io(format!("cannot watch the policies: {e}")))?,
        )
    } else {
        None
    };
    if let Some(every) = config.poll.filter(|d| !d.is_zero()) {
        watch::poll(&shared, every);
    }
    watch::hangup(&shared).map_err(|e| ServeError::Io(e.to_string()))?;
    let grace = config.grace;
    let drain_delay = config.drain_delay;
    let state = Arc::new(state::AppState {
        config,
        shared: shared.clone(),
        decider,
        metrics,
    });
    let app = app::router(state.clone(), Arc::new(tokens));
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_rx.changed().await;
    });
    let mut server = tokio::spawn(std::future::IntoFuture::into_future(server));
    tracing::info!(%addr, revision = %shared.current().revision, store = state.decider.store, "listening");
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    }
    let stopped_early = tokio::select! {
        () = terminated() => false,
        _ = &mut server => true,
    };
    // Unready first (a load balancer stops sending; for `drain_delay` the
    // service still accepts, so that one polling `/health/ready` sees the
    // 503 before connections are refused), then no new connections, then
    // in-flight requests get `grace` to finish.
    shared.ready.store(false, Ordering::SeqCst);
    tracing::info!("shutting down");
    if !stopped_early && !drain_delay.is_zero() {
        tokio::time::sleep(drain_delay).await;
    }
    let _ = stop_tx.send(true);
    if !stopped_early && tokio::time::timeout(grace, &mut server).await.is_err() {
        tracing::warn!("in-flight requests did not finish within the grace period");
        server.abort();
    }
    // What was queued is decided and committed, then the store closes.
    state.decider.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM or SIGINT.
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the service runs until killed.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
