//! The database thread: the connection's own thread, running the jobs sent
//! to it in order (as the SQLite store's).

use super::*;

/// Work for the database thread.
pub(super) type Job = Box<dyn FnOnce(&mut Db) + Send>;

/// The database thread: jobs run in the order they are sent, on the one
/// connection, so a read sees every write sent before it.
pub(super) struct Worker {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub(super) fn start(mut db: Db) -> Result<Worker, StoreError> {
        let target = db.target.clone();
        let (tx, rx) = channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("history-pg".into())
            .spawn(move || {
                for job in rx {
                    job(&mut db);
                }
            })
            .map_err(|e| StoreError::Postgres {
                target,
                code: None,
                why: format!("cannot start the database thread: {e}"),
            })?;
        Ok(Worker {
            jobs: Some(tx),
            thread: Some(thread),
        })
    }

    /// Sends a job without waiting for it.
    pub(super) fn post(&self, job: impl FnOnce(&mut Db) + Send + 'static) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Box::new(job));
        }
    }

    /// Runs a job and waits for its answer; `None` when the thread is gone.
    pub(super) fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Db) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = sync_channel(1);
        self.post(move |db| {
            let _ = tx.send(job(db));
        });
        rx.recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the thread once its jobs are done; the
        // connection closes with it (the server rolls back a transaction
        // left open).
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
