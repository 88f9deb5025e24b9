//! Reload triggers: a debounced watcher on the policy directories (editors
//! save by rename, Kubernetes swaps a `..data` symlink: the directory is
//! watched, not the files) and SIGHUP.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use tokio::sync::mpsc;

use crate::policy_set::Shared;

/// The watcher; reloading stops when it is dropped.
pub type Watcher = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// Watches the policy paths and reloads after each settled change.
pub fn policies(shared: &Arc<Shared>, debounce: Duration) -> notify::Result<Watcher> {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let mut debouncer = new_debouncer(debounce, None, move |events: DebounceEventResult| {
        // Reading the policies (the reload itself) raises access events:
        // only changes count, or every reload would trigger the next.
        let changed = events.is_ok_and(|events| {
            events.iter().any(|e| {
                !matches!(
                    e.event.kind,
                    notify::EventKind::Access(_) | notify::EventKind::Other
                )
            })
        });
        if changed {
            // A reload already queued covers this change too.
            let _ = tx.try_send(());
        }
    })?;
    for path in &shared.paths {
        if path.is_dir() {
            debouncer.watch(path, RecursiveMode::Recursive)?;
        } else {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            debouncer.watch(dir, RecursiveMode::NonRecursive)?;
        }
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            shared.reload("watch").await;
        }
    });
    Ok(debouncer)
}

/// Reloads on each SIGHUP.
pub fn hangup(shared: &Arc<Shared>) -> std::io::Result<()> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let shared = shared.clone();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            shared.reload("sighup").await;
        }
    });
    Ok(())
}

/// Every `every`, hashes the policy files and reloads when the revision
/// differs from the active one: covers what the watcher misses (network
/// filesystems, some container mounts).
pub fn poll(shared: &Arc<Shared>, every: Duration) {
    let shared = shared.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let paths = shared.paths.clone();
            let Ok(revision) =
                tokio::task::spawn_blocking(move || crate::revision::of(&paths)).await
            else {
                continue;
            };
            // A failed set stays failed until its files change again: the
            // last attempt's revision is not retried.
            let tried = shared.last_attempt().map(|a| a.revision);
            if *shared.current().revision != *revision
                && tried.as_deref() != Some(revision.as_str())
            {
                shared.reload("poll").await;
            }
        }
    });
}
