//! Parallel evaluation of JSON Lines without changing results.
//!
//! History is per patient, so claims of different patients are independent.
//! A reader thread reads lines and sends each to the worker that owns its patient
//! (a hash of the patient id), so one patient's claims are decided by one worker
//! in arrival order, against a history only that worker holds. Workers parse,
//! evaluate and serialize; the caller's thread puts the outcomes back in input
//! order. The bytes written are the same as with one job.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};

use rustc_hash::FxHasher;

use super::{Engine, Evaluated};
use crate::claims::read::{parse_json_line, patient_of_line};
use crate::claims::Claim;
use crate::policies::Policies;

/// Batches in flight per worker; bounds memory whatever the input size.
const QUEUE: usize = 64;
/// Lines per batch: channels cost per message, so lines travel in batches.
const BATCH: usize = 256;

type Batch = Vec<(usize, Vec<u8>)>;

/// The worker that owns a patient.
pub fn shard(patient: &str, jobs: usize) -> usize {
    let mut h = FxHasher::default();
    patient.hash(&mut h);
    (h.finish() % jobs.max(1) as u64) as usize
}

/// One decided record on its way to the writer.
struct Done {
    record: usize,
    evaluated: Evaluated,
    /// The outcome's JSON line, serialized by the worker (in parallel).
    bytes: Vec<u8>,
}

/// Evaluates JSON Lines from `input` with `jobs` workers and writes one JSON line
/// per claim to `out`, in input order. `prior` claims are imported as paid
/// history; `on_outcome` sees every outcome in order (for summaries).
pub fn evaluate_lines<R, W>(
    policies: &Policies,
    prior: Vec<Claim>,
    explain: bool,
    jobs: usize,
    input: R,
    out: &mut W,
    mut on_outcome: impl FnMut(&Evaluated),
) -> io::Result<()>
where
    R: BufRead + Send,
    W: Write,
{
    let jobs = jobs.max(1);
    let mut priors: Vec<Vec<Claim>> = (0..jobs).map(|_| Vec::new()).collect();
    for claim in prior {
        let s = shard(&claim.patient.id, jobs);
        priors[s].push(claim);
    }
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = channel::<Vec<Done>>();
        let mut senders: Vec<SyncSender<Batch>> = Vec::with_capacity(jobs);
        for prior in priors {
            let (tx, rx) = sync_channel::<Batch>(QUEUE);
            senders.push(tx);
            let done = done_tx.clone();
            let policies = policies.clone();
            scope.spawn(move || worker(policies, prior, explain, rx, done));
        }
        drop(done_tx);
        let reader = scope.spawn(move || read_and_dispatch(input, &senders));
        let written = write_in_order(done_rx, out, &mut on_outcome);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader thread panicked")));
        written.and(read)
    })
}

fn worker(
    policies: Policies,
    prior: Vec<Claim>,
    explain: bool,
    rx: Receiver<Batch>,
    done: std::sync::mpsc::Sender<Vec<Done>>,
) {
    let mut engine = Engine::new(policies).explain(explain);
    for claim in &prior {
        let Ok(_) = engine.import(claim);
    }
    for batch in rx {
        let mut results = Vec::with_capacity(batch.len());
        for (record, line) in batch {
            let evaluated = match parse_json_line(&line, record) {
                Ok(claim) => {
                    let Ok(done) = engine.try_evaluate(&claim, record);
                    done
                }
                Err(e) => Evaluated::error(e),
            };
            let mut bytes = Vec::with_capacity(512);
            evaluated.append_line(&mut bytes);
            results.push(Done {
                record,
                evaluated,
                bytes,
            });
        }
        if done.send(results).is_err() {
            return;
        }
    }
}

fn read_and_dispatch<R: BufRead>(mut input: R, senders: &[SyncSender<Batch>]) -> io::Result<()> {
    let mut record = 0usize;
    let mut batches: Vec<Batch> = senders.iter().map(|_| Vec::with_capacity(BATCH)).collect();
    loop {
        let mut line = Vec::with_capacity(512);
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        record += 1;
        // A line without a readable patient is an error record; any worker will do.
        let s = patient_of_line(&line).map_or(0, |p| shard(&p, senders.len()));
        batches[s].push((record, line));
        if batches[s].len() == BATCH {
            let full = std::mem::replace(&mut batches[s], Vec::with_capacity(BATCH));
            if senders[s].send(full).is_err() {
                return Ok(());
            }
        }
    }
    for (s, batch) in batches.into_iter().enumerate() {
        if !batch.is_empty() && senders[s].send(batch).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

fn write_in_order<W: Write>(
    done: Receiver<Vec<Done>>,
    out: &mut W,
    on_outcome: &mut impl FnMut(&Evaluated),
) -> io::Result<()> {
    let mut next = 1usize;
    let mut pending: BTreeMap<usize, Done> = BTreeMap::new();
    for batch in done {
        pending.extend(batch.into_iter().map(|d| (d.record, d)));
        while let Some(d) = pending.remove(&next) {
            on_outcome(&d.evaluated);
            out.write_all(&d.bytes)?;
            next += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_in_range() {
        for jobs in 1..5 {
            for p in ["P1", "PAT-000123", ""] {
                let s = shard(p, jobs);
                assert!(s < jobs);
                assert_eq!(s, shard(p, jobs));
            }
        }
    }

    #[test]
    fn parallel_output_equals_sequential_output() {
        let policies = Policies::load(&["policies".into()])
            .policies
            .unwrap_or_default();
        let input = std::fs::read_to_string("examples/claims.jsonl").unwrap_or_default();
        assert!(input.lines().count() >= 500);
        let run = |jobs: usize| {
            let mut out = Vec::new();
            let mut n = 0;
            evaluate_lines(
                &policies,
                Vec::new(),
                false,
                jobs,
                input.as_bytes(),
                &mut out,
                |_| n += 1,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            (out, n)
        };
        let (one, n1) = run(1);
        assert_eq!(n1, input.lines().filter(|l| !l.trim().is_empty()).count());
        for jobs in [2, 3] {
            let (many, n) = run(jobs);
            assert_eq!(n, n1);
            assert!(one == many, "--jobs {jobs} differs from --jobs 1");
        }
    }
}
