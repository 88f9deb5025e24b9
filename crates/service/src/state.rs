//! What every handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::decider::Decider;
use crate::policy_set::Shared;

/// The service's state, behind one `Arc`.
pub struct AppState {
    /// The configuration it started with.
    pub config: Config,
    /// The active policies and the reload status.
    pub shared: Arc<Shared>,
    /// The engine's thread.
    pub decider: Decider,
    /// The Prometheus recorder, when it could be installed.
    pub metrics: Option<PrometheusHandle>,
}

/// The handlers' state extractor.
pub type St = axum::extract::State<Arc<AppState>>;
