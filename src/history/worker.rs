//! The database thread both persistent stores run their connection on: jobs
//! sent to it run in order on the one connection, so a read sees every write
//! sent before it, and writes run while the engine decides the next claims.

use std::sync::mpsc::{channel, sync_channel, Sender};
use std::thread::JoinHandle;

/// Work for the database thread.
type Job<Db> = Box<dyn FnOnce(&mut Db) + Send>;

/// The connection's own thread, running the jobs sent to it in order.
pub(super) struct Worker<Db: Send + 'static> {
    jobs: Option<Sender<Job<Db>>>,
    thread: Option<JoinHandle<()>>,
}

impl<Db: Send + 'static> Worker<Db> {
    /// Moves `db` onto a thread named `name`; the caller turns a thread that
    /// could not start into its store's error.
    pub(super) fn start(mut db: Db, name: &str) -> std::io::Result<Worker<Db>> {
        let (tx, rx) = channel::<Job<Db>>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                for job in rx {
                    job(&mut db);
                }
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

impl<Db: Send + 'static> Drop for Worker<Db> {
    fn drop(&mut self) {
        // Closing the channel ends the thread once its jobs are done; the
        // connection closes with it, and an open transaction is rolled back
        // (by SQLite, or by the PostgreSQL server when the session ends).
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
