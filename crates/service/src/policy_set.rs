//! The active policy set and the reloads that replace it: loaded and checked
//! off the request path, swapped atomically, never replaced by a broken set.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use payer_rules::{Diagnostic, PayerIds, Policies, Severity};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{metrics, revision};

/// One loaded, checked, error-free set of policies and its revision.
#[derive(Debug)]
pub struct PolicySet {
    /// The content hash of the files ([`revision::of`]).
    pub revision: Arc<str>,
    /// The compiled policies.
    pub policies: Policies,
    /// Seconds since the epoch when it became active.
    pub loaded_at: u64,
    /// Its warnings (a set with errors never becomes active).
    pub warnings: Vec<Diagnostic>,
    /// The X12 payer ids an 837P body is read with: `serve --payer-ids` over
    /// the ids these policies declare, as `eval` combines them; `None` when
    /// neither maps one.
    pub payer_ids: Option<Arc<PayerIds>>,
}

/// What the last reload attempt did, for `/v1/status`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReloadAttempt {
    /// `success`, `unchanged` or `failure`.
    pub result: &'static str,
    /// The revision of the files tried.
    pub revision: String,
    /// Seconds since the epoch.
    pub at: u64,
    /// `check --format json` objects of its errors and warnings.
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: Vec<serde_json::Value>,
}

/// The active set, shared by the handlers and the decider.
pub struct Shared {
    /// Where the policies are read from.
    pub paths: Vec<PathBuf>,
    /// The `--payer-ids` table, combined with each set's declared ids.
    file_ids: Option<PayerIds>,
    current: ArcSwap<PolicySet>,
    last: Mutex<Option<ReloadAttempt>>,
    /// One reload at a time: a trigger during a reload waits for it.
    reloading: tokio::sync::Mutex<()>,
    /// False once shutdown has begun.
    pub ready: AtomicBool,
}

/// Why the first load failed: the service does not start without policies.
#[derive(Debug)]
pub struct FirstLoadFailed {
    /// The diagnostics as `check --format json` lines.
    pub diagnostics: String,
    /// What to say.
    pub message: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The payer ids of a set, as `eval` has them: a `--payer-ids` table over
/// the ids the policies declare (the file's entry wins for an id both map).
fn payer_ids(file: Option<&PayerIds>, policies: &Policies) -> Option<Arc<PayerIds>> {
    let ids = policies.payer_ids().under(file);
    (!ids.is_empty()).then(|| Arc::new(ids))
}

/// Loads the policies of `paths`: the set, or the diagnostics (with the
/// revision tried) when it has errors or no policy.
fn load(
    paths: &[PathBuf],
    file_ids: Option<&PayerIds>,
) -> Result<PolicySet, (String, Vec<Diagnostic>, String)> {
    let revision = revision::of(paths);
    let loaded = Policies::load(paths);
    let has_errors = loaded.has_errors();
    match loaded.policies {
        Some(policies) if !has_errors && !policies.is_empty() => Ok(PolicySet {
            revision: revision.into(),
            payer_ids: payer_ids(file_ids, &policies),
            policies,
            loaded_at: now(),
            warnings: loaded.diagnostics,
        }),
        Some(_) if !has_errors => Err((
            revision,
            loaded.diagnostics,
            "no policy found in the policy paths".into(),
        )),
        _ => Err((
            revision,
            loaded.diagnostics,
            "the policies have errors".into(),
        )),
    }
}

/// Diagnostics as the JSON objects `check --format json` writes.
pub fn diagnostics_json(diags: &[Diagnostic]) -> Vec<serde_json::Value> {
    payer_rules::tooling::diagnostics_json_lines(diags)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

impl Shared {
    /// Loads the first set; the service starts only on a set without errors.
    /// `file_ids` is the `--payer-ids` table.
    pub fn load(
        paths: Vec<PathBuf>,
        file_ids: Option<PayerIds>,
    ) -> Result<Shared, FirstLoadFailed> {
        match load(&paths, file_ids.as_ref()) {
            Ok(set) => {
                metrics::policy_loaded(&set.revision, None);
                Ok(Shared {
                    paths,
                    file_ids,
                    current: ArcSwap::from_pointee(set),
                    last: Mutex::new(None),
                    reloading: tokio::sync::Mutex::new(()),
                    ready: AtomicBool::new(true),
                })
            }
            Err((_, diags, message)) => Err(FirstLoadFailed {
                diagnostics: payer_rules::tooling::diagnostics_json_lines(&diags),
                message,
            }),
        }
    }

    /// The active set; a request keeps the snapshot it took for its whole
    /// life, whatever reloads happen meanwhile.
    pub fn current(&self) -> Arc<PolicySet> {
        self.current.load_full()
    }

    /// The last reload attempt.
    pub fn last_attempt(&self) -> Option<ReloadAttempt> {
        self.last.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// True until shutdown begins.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Loads the policies again on a blocking thread and swaps them in when
    /// they have no errors; a broken set leaves the active one answering.
    pub async fn reload(self: &Arc<Shared>, trigger: &'static str) -> ReloadAttempt {
        let _one = self.reloading.lock().await;
        let paths = self.paths.clone();
        let file_ids = self.file_ids.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&paths, file_ids.as_ref())).await;
        let attempt = match loaded {
            Ok(Ok(set)) => {
                let old = self.current();
                let unchanged = old.revision == set.revision;
                let attempt = ReloadAttempt {
                    result: if unchanged { "unchanged" } else { "success" },
                    revision: set.revision.to_string(),
                    at: now(),
                    diagnostics: diagnostics_json(&set.warnings),
                };
                if !unchanged {
                    metrics::policy_loaded(&set.revision, Some(&old.revision));
                    tracing::info!(revision = %set.revision, previous = %old.revision, trigger, "policies reloaded");
                    self.current.store(Arc::new(set));
                }
                attempt
            }
            Ok(Err((revision, diags, message))) => {
                let errors = diags
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                tracing::warn!(%revision, errors, trigger, "{message}; the active policies keep answering");
                ReloadAttempt {
                    result: "failure",
                    revision,
                    at: now(),
                    diagnostics: diagnostics_json(&diags),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the policy load stopped");
                ReloadAttempt {
                    result: "failure",
                    revision: String::new(),
                    at: now(),
                    diagnostics: Vec::new(),
                }
            }
        };
        metrics::reload(attempt.result);
        if let Ok(mut last) = self.last.lock() {
            *last = Some(attempt.clone());
        }
        attempt
    }
}
