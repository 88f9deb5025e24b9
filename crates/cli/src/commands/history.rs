//! `payer-rules history`: look at a patient's stored history, or seed the history
//! from a file of paid claims.

use std::time::Duration;

use serde_json::json;

use super::eval::{import_into, open_db};
use super::{HistoryCommand, EXIT_FAILED, EXIT_OK, EXIT_STORE, EXIT_USAGE};
use payer_rules::Engine;
use payer_rules::InputFormat;
use payer_rules::Policies;
use payer_rules::SqliteHistory;

/// Runs a `history` subcommand.
pub fn run(command: HistoryCommand) -> u8 {
    match command {
        HistoryCommand::Show { db, patient, json } => show(&db, &patient, json),
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

/// Opens a database that must already exist (reading commands do not create
/// one); the exit status on failure.
fn open_existing(db: &std::path::Path) -> Result<SqliteHistory, u8> {
    if !db.exists() {
        eprintln!("no history database at `{}`", db.display());
        return Err(EXIT_USAGE);
    }
    open_db(db, Duration::from_secs(30))
}

fn stats(db: &std::path::Path) -> u8 {
    let store = match open_existing(db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (claims, services) = match store.totals() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read the history: {e}");
            return EXIT_STORE;
        }
    };
    drop(store);
    // Closing the last connection checkpoints the WAL into the file.
    let bytes = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    let per_million = if services > 0 {
        bytes as f64 / services as f64
    } else {
        0.0
    };
    println!(
        "{}: {claims} claim versions, {services} counted services, {bytes} bytes ({:.1} MB per million services)",
        db.display(),
        per_million
    );
    EXIT_OK
}

fn show(db: &std::path::Path, patient: &str, as_json: bool) -> u8 {
    let store = match open_existing(db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (services, claims) = match store
        .services_of(patient)
        .and_then(|s| Ok((s, store.claims_in_order(Some(patient))?)))
    {
        Ok(found) => found,
        Err(e) => {
            eprintln!("cannot read the history: {e}");
            return EXIT_STORE;
        }
    };
    if as_json {
        for s in &services {
            println!(
                "{}",
                json!({"patient": patient, "date": s.date, "procedure": s.procedure,
                       "site": s.site, "claim": s.claim, "line": s.line})
            );
        }
        for c in &claims {
            println!(
                "{}",
                json!({"patient": patient, "claim": c.id, "seq": c.seq, "status": c.status.as_str(),
                       "replaces": c.replaces, "replaced_by": c.replaced_by, "hash": c.hash})
            );
        }
    } else {
        println!(
            "patient {patient}: {} counted service{}, {} claim version{}",
            services.len(),
            if services.len() == 1 { "" } else { "s" },
            claims.len(),
            if claims.len() == 1 { "" } else { "s" }
        );
        if !services.is_empty() {
            println!("services (date, procedure, site, claim, line):");
            for s in &services {
                let claim = if s.claim.is_empty() {
                    "(prior history)"
                } else {
                    &s.claim
                };
                println!(
                    "  {}  {:<5}  {:<16} {claim} line {}",
                    s.date,
                    s.procedure,
                    s.site.as_deref().unwrap_or("-"),
                    s.line
                );
            }
        }
        if !claims.is_empty() {
            println!("claims (arrival order):");
            for c in &claims {
                let mut note = String::new();
                if let Some(t) = &c.replaces {
                    note.push_str(&format!(", acts on {t}"));
                }
                if let Some(by) = &c.replaced_by {
                    note.push_str(&format!(", by {by}"));
                }
                println!("  #{:<8} {:<20} {}{note}", c.seq, c.id, c.status.as_str());
            }
        }
    }
    if services.is_empty() && claims.is_empty() {
        eprintln!("no history for patient `{patient}`");
        return EXIT_FAILED;
    }
    EXIT_OK
}

fn import(
    db: &std::path::Path,
    files: &[std::path::PathBuf],
    payer_ids: Option<std::sync::Arc<payer_rules::PayerIds>>,
    batch: usize,
    busy: Duration,
) -> u8 {
    let store = match open_db(db, busy) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut engine = Engine::with_history(Policies::default(), store);
    let mut invalid = 0usize;
    let mut totals = (0usize, 0usize, 0usize);
    for path in files {
        let reader: Box<dyn std::io::BufRead + Send> = if path.as_os_str() == "-" {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        } else {
            match std::fs::File::open(path) {
                Ok(f) => Box::new(std::io::BufReader::with_capacity(1 << 16, f)),
                Err(e) => {
                    eprintln!("cannot read `{}`: {e}", path.display());
                    return EXIT_USAGE;
                }
            }
        };
        let mut claims = Vec::new();
        let mut read = super::claim_reader(reader, InputFormat::Auto, payer_ids.as_ref());
        while let Some(claim) = read.next() {
            super::print_warnings(&mut read);
            match claim {
                Ok(c) => claims.push(c),
                Err(e) => {
                    invalid += 1;
                    eprintln!("`{}`: skipped {e}", path.display());
                }
            }
        }
        let source = path.display().to_string();
        match import_into(&mut engine, &claims, batch, &source) {
            Ok((a, p, c)) => {
                totals.0 += a;
                totals.1 += p;
                totals.2 += c;
            }
            Err(e) => {
                eprintln!("cannot import `{source}`: {e}");
                return EXIT_STORE;
            }
        }
    }
    eprintln!(
        "imported {} claims into `{}`; {} were already there, {} conflicted with stored claims, {} were invalid",
        totals.0,
        db.display(),
        totals.1,
        totals.2,
        invalid
    );
    if totals.2 > 0 || invalid > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
