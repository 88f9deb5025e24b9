//! Paid claims as history (`eval --history`, `history import`): the files
//! opened before anything is stored, their claims read with their record
//! numbers, imported into the in-memory or the SQLite history, and what
//! happened reported on stderr by record number and escaped, capped claim id,
//! never a member id (findings H3, H5, S2).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;

use super::EXIT_USAGE;
use crate::stdio::errln;
use payer_rules::internal::for_log;
use payer_rules::{Claim, Engine, HistoryDb, Imported, InputFormat, Member, PayerIds, StoreError};

/// One history file, open and not read yet.
pub struct PriorInput {
    /// The name given on the command line.
    pub name: String,
    reader: Box<dyn BufRead + Send>,
}

/// A history file's valid claims, each with its record number.
pub struct PriorFile {
    /// The name given on the command line.
    pub name: String,
    /// The claims, with their 1-based record numbers.
    pub claims: Vec<(usize, Claim)>,
    /// Records skipped as invalid (each reported when read).
    pub invalid: usize,
}

/// What importing claims did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// Stored.
    pub imported: usize,
    /// The same content was already stored.
    pub present: usize,
    /// Other content was already stored under the id: skipped.
    pub conflicting: usize,
    /// Not valid claims: skipped.
    pub invalid: usize,
}

impl Counts {
    /// Adds another file's counts.
    pub fn add(&mut self, other: Counts) {
        self.imported += other.imported;
        self.present += other.present;
        self.conflicting += other.conflicting;
        self.invalid += other.invalid;
    }

    /// "3 imported, 1 already present, 0 conflicting, 0 invalid".
    pub fn line(&self) -> String {
        format!(
            "{} imported, {} already present, {} conflicting, {} invalid",
            self.imported, self.present, self.conflicting, self.invalid
        )
    }

    fn count(&mut self, imported: Imported, file: &str, record: usize, claim: &Claim) {
        match imported {
            Imported::Added => self.imported += 1,
            Imported::Present => self.present += 1,
            Imported::Conflict => {
                self.conflicting += 1;
                errln!(
                    "history `{file}`: skipped record {record} (claim id `{}`): other content is already stored under its id",
                    for_log(&claim.id)
                );
            }
        }
    }
}

/// Opens every file first, so that a missing one is reported before any
/// database is created or any claim stored (finding H5). `-` is stdin.
pub fn open_all(paths: &[PathBuf]) -> Result<Vec<PriorInput>, u8> {
    let mut opened = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        let reader: Box<dyn BufRead + Send> = if path.as_os_str() == "-" {
            Box::new(BufReader::new(std::io::stdin()))
        } else {
            match std::fs::File::open(path) {
                Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
                Err(e) => {
                    errln!("cannot read history `{name}`: {e}");
                    return Err(EXIT_USAGE);
                }
            }
        };
        opened.push(PriorInput { name, reader });
    }
    Ok(opened)
}

/// Reads a file's claims, X12 payer ids mapped by `payer_ids`; invalid
/// records are reported (escaped and capped, see `ClaimError`'s display) and
/// counted, and the reader's warnings printed.
pub fn read(input: PriorInput, payer_ids: Option<&Arc<PayerIds>>) -> PriorFile {
    let mut file = PriorFile {
        name: input.name,
        claims: Vec::new(),
        invalid: 0,
    };
    let mut reader = payer_rules::ClaimReader::new(input.reader, InputFormat::Auto)
        .with_payer_ids(payer_ids.cloned());
    while let Some(claim) = reader.next() {
        super::print_warnings(&mut reader);
        match claim {
            // Numbered as the reader numbers its error records (JSON Lines:
            // line numbers).
            Ok(claim) => file.claims.push((reader.record(), claim)),
            Err(e) => {
                file.invalid += 1;
                errln!("history `{}`: skipped {e}", file.name);
            }
        }
    }
    file
}

/// Imports a file into the in-memory history, reporting conflicts as
/// `--db` does (finding H3).
pub fn import_in_memory(engine: &mut Engine, file: &PriorFile) -> Counts {
    let mut counts = Counts {
        invalid: file.invalid,
        ..Counts::default()
    };
    for (record, claim) in &file.claims {
        let Ok(imported) = engine.import(claim);
        counts.count(imported, &file.name, *record, claim);
    }
    counts
}

/// Imports a file into a store, `batch` claims per transaction.
pub fn import_into(
    engine: &mut Engine<HistoryDb>,
    file: &PriorFile,
    batch: usize,
) -> Result<Counts, StoreError> {
    let mut counts = Counts {
        invalid: file.invalid,
        ..Counts::default()
    };
    for chunk in file.claims.chunks(batch.max(1)) {
        let mut batch = engine.begin()?;
        let members: Vec<Member<'_>> = chunk.iter().map(|(_, c)| Member::of(c)).collect();
        batch.load(&members)?;
        for (record, claim) in chunk {
            let imported = batch.import(claim)?;
            counts.count(imported, &file.name, *record, claim);
        }
        batch.commit()?;
    }
    Ok(counts)
}
