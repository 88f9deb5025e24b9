//! `payer-rules history`: look at a member's stored history (per payer), or
//! seed the history from a file of paid claims.

use crate::stdio::{errln, outln};
use std::time::Duration;

use serde_json::json;

use super::eval::open_db;
use super::prior;
use super::{HistoryCommand, EXIT_FAILED, EXIT_OK, EXIT_STORE, EXIT_USAGE};
use payer_rules::Engine;
use payer_rules::Policies;
use payer_rules::{is_postgres_url, HistoryDb};

/// Runs a `history` subcommand.
pub fn run(command: HistoryCommand) -> u8 {
    match command {
        HistoryCommand::Show {
            db,
            patient,
            payer,
            json,
        } => show(&db, &patient, payer.as_deref(), json),
        HistoryCommand::Stats { db } => stats(&db),
        HistoryCommand::Import {
            db,
            files,
            payer_ids,
            batch,
            busy_timeout,
        } => match super::load_payer_ids(payer_ids.as_deref()) {
            Ok(payer_ids) => import(
                &db,
                &files,
                payer_ids,
                batch as usize,
                Duration::from_secs(busy_timeout),
            ),
            Err(code) => code,
        },
    }
}

/// Opens a database that must already exist for reading only (reading
/// commands create nothing, migrate nothing and take no lock, finding H4);
/// the exit status on failure.
fn open_existing(db: &std::path::Path) -> Result<HistoryDb, u8> {
    if !is_postgres_url(db) && !db.exists() {
        errln!("no history database at `{}`", db.display());
        return Err(EXIT_USAGE);
    }
    HistoryDb::open_read_only(db).map_err(|e| {
        errln!("cannot open the history database: {e}");
        EXIT_STORE
    })
}

fn stats(db: &std::path::Path) -> u8 {
    let store = match open_existing(db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let HistoryDb::Postgres(pg) = &store {
        return match pg.totals() {
            Ok((claims, services, bytes)) => {
                outln!(
                    "{}: {claims} claim versions, {services} counted services, {bytes} bytes in the claims' partitions",
                    pg.target()
                );
                EXIT_OK
            }
            Err(e) => {
                errln!("cannot read the history: {e}");
                EXIT_STORE
            }
        };
    }
    let (claims, services) = match store.totals() {
        Ok(t) => t,
        Err(e) => {
            errln!("cannot read the history: {e}");
            return EXIT_STORE;
        }
    };
    drop(store);
    // The file and its write-ahead log: committed claims not yet copied into
    // the file are in the log (finding H4).
    let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let wal = size(std::path::Path::new(&wal));
    let bytes = size(db) + wal;
    let per_million = if services > 0 {
        bytes as f64 / services as f64
    } else {
        0.0
    };
    let in_wal = if wal > 0 {
        format!(", {wal} of them in the write-ahead log")
    } else {
        String::new()
    };
    outln!(
        "{}: {claims} claim versions, {services} counted services, {bytes} bytes{in_wal} ({:.1} MB per million services)",
        db.display(),
        per_million
    );
    EXIT_OK
}

fn show(db: &std::path::Path, patient: &str, payer: Option<&str>, as_json: bool) -> u8 {
    let store = match open_existing(db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (services, claims) = match store
        .services_of(payer, patient)
        .and_then(|s| Ok((s, store.claims_in_order(payer, Some(patient))?)))
    {
        Ok(found) => found,
        Err(e) => {
            errln!("cannot read the history: {e}");
            return EXIT_STORE;
        }
    };
    if as_json {
        for s in &services {
            outln!(
                "{}",
                json!({"patient": patient, "payer": s.payer, "date": s.date,
                       "procedure": s.procedure, "site": s.site, "claim": s.claim, "line": s.line,
                       "units": s.units, "modifier_50": s.modifier_50, "charge": s.charge,
                       "modifiers": s.modifiers})
            );
        }
        for c in &claims {
            outln!(
                "{}",
                json!({"patient": patient, "payer": c.payer, "claim": c.id, "seq": c.seq,
                       "status": c.status.as_str(), "replaces": c.replaces,
                       "replaced_by": c.replaced_by, "hash": c.hash})
            );
        }
    } else {
        // One section per payer, the rows stored before history was kept per
        // payer (no payer) first: they are the oldest.
        let mut payers: Vec<Option<&str>> = services
            .iter()
            .map(|s| s.payer.as_deref())
            .chain(claims.iter().map(|c| c.payer.as_deref()))
            .collect();
        payers.sort_unstable();
        payers.dedup();
        for (i, section) in payers.into_iter().enumerate() {
            if i > 0 {
                outln!();
            }
            let services: Vec<_> = services
                .iter()
                .filter(|s| s.payer.as_deref() == section)
                .collect();
            let claims: Vec<_> = claims
                .iter()
                .filter(|c| c.payer.as_deref() == section)
                .collect();
            show_section(patient, section, &services, &claims);
        }
    }
    if services.is_empty() && claims.is_empty() {
        match payer {
            Some(payer) => errln!("no history for patient `{patient}` under payer `{payer}`"),
            None => errln!("no history for patient `{patient}`"),
        }
        return EXIT_FAILED;
    }
    EXIT_OK
}

/// One payer's history of a member (`payer` `None`: the rows stored before
/// history was kept per payer), as text.
fn show_section(
    patient: &str,
    payer: Option<&str>,
    services: &[&payer_rules::store::ServiceRow],
    claims: &[&payer_rules::store::ClaimRow],
) {
    let whose = match payer {
        Some(payer) => format!("payer {payer}"),
        None => "stored before history was per payer (counts under every payer)".to_owned(),
    };
    outln!(
        "patient {patient}, {whose}: {} counted service{}, {} claim version{}",
        services.len(),
        if services.len() == 1 { "" } else { "s" },
        claims.len(),
        if claims.len() == 1 { "" } else { "s" }
    );
    if !services.is_empty() {
        outln!("services (date, procedure, site, claim, line):");
        for s in services {
            let claim = if s.claim.is_empty() {
                "(prior history)"
            } else {
                &s.claim
            };
            let billed = if s.modifiers.is_empty() {
                String::new()
            } else {
                format!(", modifiers {}", s.modifiers.join(","))
            };
            outln!(
                "  {}  {:<5}  {:<16} {claim} line {}{billed}",
                s.date,
                s.procedure,
                s.site.as_deref().unwrap_or("-"),
                s.line
            );
        }
    }
    if !claims.is_empty() {
        outln!("claims (arrival order):");
        for c in claims {
            let mut note = String::new();
            if let Some(t) = &c.replaces {
                note.push_str(&format!(", acts on {t}"));
            }
            if let Some(by) = &c.replaced_by {
                note.push_str(&format!(", by {by}"));
            }
            outln!("  #{:<8} {:<20} {}{note}", c.seq, c.id, c.status.as_str());
        }
    }
}

fn import(
    db: &std::path::Path,
    files: &[std::path::PathBuf],
    payer_ids: Option<std::sync::Arc<payer_rules::PayerIds>>,
    batch: usize,
    busy: Duration,
) -> u8 {
    // Every file open before the database is: a missing one leaves nothing
    // behind (finding H5).
    let inputs = match prior::open_all(files) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let store = match open_db(db, busy) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut engine = Engine::with_history(Policies::default(), store);
    let mut totals = prior::Counts::default();
    for input in inputs {
        let file = prior::read(input, payer_ids.as_ref());
        // A line per file as it is done, so that what was stored before a
        // failure is known.
        match prior::import_into(&mut engine, &file, batch) {
            Ok(counts) => {
                errln!("`{}`: {}", file.name, counts.line());
                totals.add(counts);
            }
            Err(e) => {
                errln!("cannot import `{}`: {e}", file.name);
                if files.len() > 1 {
                    errln!("before it: {}", totals.line());
                }
                return EXIT_STORE;
            }
        }
    }
    errln!(
        "imported {} claims into `{}`; {} were already there, {} conflicted with stored claims, {} were invalid",
        totals.imported,
        db.display(),
        totals.present,
        totals.conflicting,
        totals.invalid
    );
    if totals.conflicting > 0 || totals.invalid > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
