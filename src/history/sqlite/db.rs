//! The connection and the SQL it runs: the schema and its migrations, loading
//! a member's rows, writing claim versions and their services, and the
//! compact decision form with its `texts`.

use super::*;

/// The connection and everything that runs SQL. It lives on the database thread
/// once the store is open.
pub(super) struct Db {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    /// The first error of a write that was posted without waiting; the commit
    /// reports it (and the batch is rolled back).
    pub(super) failed: Option<StoreError>,
}

/// A claim version as loaded for the cache.
pub(super) struct LoadedVersion {
    pub(super) seq: u64,
    pub(super) id: String,
    pub(super) hash: [u8; 16],
    pub(super) status: Status,
    pub(super) replaced_by: Option<String>,
    pub(super) services: Vec<LoadedService>,
    /// Stored before history was kept per payer (no payer in its row).
    pub(super) shared: bool,
}

/// A row to insert.
pub(super) struct NewRow {
    pub(super) seq: i64,
    pub(super) payer: String,
    pub(super) patient: String,
    pub(super) id: String,
    pub(super) hash: [u8; 16],
    pub(super) status: Status,
    pub(super) replaces: Option<String>,
    pub(super) services: String,
    pub(super) decision: Option<String>,
}

impl Db {
    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, why: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            why: why.into(),
        }
    }

    pub(super) fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// The schema version of a file opened read-only: 0 for a file without
    /// tables (nothing was ever stored).
    pub(super) fn stored_schema_version(&self) -> Result<i64, StoreError> {
        let count = |sql: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        if count(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        )? > 0
        {
            return self.schema_version();
        }
        if count("SELECT count(*) FROM sqlite_master WHERE type = 'table'")? > 0 {
            return Err(StoreError::Foreign {
                path: self.path.clone(),
                why: "it has tables but no `schema_version`".into(),
            });
        }
        Ok(0)
    }

    /// Creates the schema, or upgrades an older one, in one transaction.
    pub(super) fn migrate(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let result = self.migrate_locked();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.conn.execute_batch(end).map_err(|e| self.err(e));
        result.and(ended)
    }

    fn migrate_locked(&mut self) -> Result<(), StoreError> {
        let count = |sql: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        let has_version = count(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        )? > 0;
        let found = if has_version {
            self.schema_version()?
        } else {
            if count("SELECT count(*) FROM sqlite_master WHERE type = 'table'")? > 0 {
                return Err(StoreError::Foreign {
                    path: self.path.clone(),
                    why: "it has tables but no `schema_version`".into(),
                });
            }
            0
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let start = usize::try_from(found).map_err(|_| self.corrupt("negative schema version"))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
            self.conn.execute_batch(sql).map_err(|e| self.err(e))?;
            self.conn
                .execute("UPDATE schema_version SET version = ?1", [i as i64 + 1])
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    pub(super) fn data_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Takes the write lock; gives the data version and the next free seq.
    pub(super) fn begin(&mut self) -> Result<(i64, u64), StoreError> {
        self.failed = None;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let version = self.data_version()?;
        let next: i64 = self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) + 1 FROM claims", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        let next = u64::try_from(next).map_err(|_| self.corrupt("negative seq"))?;
        Ok((version, next))
    }

    pub(super) fn commit(&mut self) -> Result<(), StoreError> {
        if let Some(e) = self.failed.take() {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))
    }

    pub(super) fn rollback(&mut self) -> Result<(), StoreError> {
        self.failed = None;
        self.conn.execute_batch("ROLLBACK").map_err(|e| self.err(e))
    }

    /// Runs a write posted without waiting; keeps its error for the commit.
    pub(super) fn posted(&mut self, write: impl FnOnce(&mut Db) -> Result<(), StoreError>) {
        if self.failed.is_none() {
            if let Err(e) = write(self) {
                self.failed = Some(e);
            }
        }
    }

    /// A member id's counted services: of one payer (with the rows of no
    /// payer, which count for every payer) or, for `payer` `None`, of all.
    pub(super) fn services_of(
        &self,
        payer: Option<&str>,
        patient: &str,
    ) -> Result<Vec<ServiceRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, services, payer FROM claims
                 WHERE patient = ?1 AND (?2 IS NULL OR payer = ?2 OR payer IS NULL)
                   AND status IN ('active', 'imported')",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![patient, payer], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (claim, services, payer) = row.map_err(|e| self.err(e))?;
            push_service_rows(&mut out, &claim, payer.as_deref(), &services)
                .map_err(|what| self.corrupt(what))?;
        }
        sort_service_rows(&mut out);
        Ok(out)
    }

    /// Claim versions in arrival order: all, or a member id's (of one payer,
    /// with the rows of no payer, as [`Db::services_of`]).
    pub(super) fn claims_in_order(
        &self,
        payer: Option<&str>,
        patient: Option<&str>,
    ) -> Result<Vec<ClaimRow>, StoreError> {
        let sql = "SELECT seq, patient, id, hash, status, replaces, replaced_by, payer FROM claims
                   WHERE (?1 IS NULL OR patient = ?1)
                     AND (?2 IS NULL OR payer = ?2 OR payer IS NULL) AND id != ''
                   ORDER BY seq";
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![patient, payer], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, patient, id, hash, status, replaces, replaced_by, payer) =
                row.map_err(|e| self.err(e))?;
            let status =
                Status::parse(&status).ok_or_else(|| self.corrupt(format!("status `{status}`")))?;
            out.push(ClaimRow {
                seq: u64::try_from(seq).unwrap_or(0),
                payer,
                patient,
                id,
                hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
                status,
                replaces,
                replaced_by,
            });
        }
        Ok(out)
    }

    pub(super) fn totals(&self) -> Result<(u64, u64), StoreError> {
        let count = |sql: &str| -> Result<u64, StoreError> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| self.err(e))
        };
        Ok((
            count("SELECT count(*) FROM claims WHERE id != ''")?,
            count("SELECT count(*) FROM services")?,
        ))
    }

    /// A member's claim versions, their counted services parsed: the rows of
    /// its payer, and those stored before history was kept per payer (no
    /// payer), which count for it too.
    pub(super) fn load(&self, member: Member<'_>) -> Result<Vec<LoadedVersion>, StoreError> {
        let mut rows = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT seq, id, hash, status, replaced_by, services, payer IS NULL
                     FROM claims WHERE patient = ?1 AND (payer = ?2 OR payer IS NULL)",
                )
                .map_err(|e| self.err(e))?;
            let found = stmt
                .query_map([member.id, member.payer], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, bool>(6)?,
                    ))
                })
                .map_err(|e| self.err(e))?;
            for row in found {
                rows.push(row.map_err(|e| self.err(e))?);
            }
        }
        rows.sort_unstable_by_key(|r| r.0);
        let mut out = Vec::with_capacity(rows.len());
        for (seq, id, hash, status, replaced_by, services, shared) in rows {
            let hash: [u8; 16] = hash
                .as_slice()
                .try_into()
                .map_err(|_| self.corrupt(format!("hash of claim `{id}`")))?;
            let status =
                Status::parse(&status).ok_or_else(|| self.corrupt(format!("status `{status}`")))?;
            let seq = u64::try_from(seq).map_err(|_| self.corrupt("negative seq"))?;
            let list = if matches!(status, Status::Active | Status::Imported) {
                load_services(&services).map_err(|what| self.corrupt(what))?
            } else {
                Vec::new()
            };
            out.push(LoadedVersion {
                seq,
                id,
                hash,
                status,
                replaced_by,
                services: list,
                shared,
            });
        }
        Ok(out)
    }

    pub(super) fn insert(&mut self, row: NewRow) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO claims
                     (seq, patient, id, hash, status, replaces, services, decision, payer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    row.seq,
                    row.patient,
                    row.id,
                    &row.hash[..],
                    row.status.as_str(),
                    row.replaces,
                    row.services,
                    row.decision,
                    row.payer
                ])
            })
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Retires the current version of a member's claim `id`: at most one
    /// row of its payer's or of no payer (a claim of no payer is in every
    /// payer's ledger of the member, so another of the same id could not be
    /// stored beside it).
    pub(super) fn retire(
        &mut self,
        member: Member<'_>,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE claims SET status = ?1, replaced_by = ?2
                 WHERE patient = ?3 AND (payer = ?5 OR payer IS NULL) AND id = ?4
                   AND status IN ('active', 'imported', 'void')",
            )
            .and_then(|mut s| s.execute(params![status.as_str(), by, member.id, id, member.payer]))
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The id of a text, stored when new.
    pub(super) fn text_id(&mut self, text: &str) -> Result<i64, StoreError> {
        let found: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM texts WHERE text = ?1")
            .and_then(|mut s| s.query_row([text], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        if let Some(id) = found {
            return Ok(id);
        }
        self.conn
            .prepare_cached("INSERT INTO texts (text) VALUES (?1)")
            .and_then(|mut s| s.execute([text]))
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    fn text(&self, id: i64) -> Result<String, StoreError> {
        self.conn
            .prepare_cached("SELECT text FROM texts WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    fn decode(&self, text: &str) -> Result<DecisionParts, StoreError> {
        let bad = || self.corrupt(format!("decision `{text}`"));
        let value: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
        let id = |v: &serde_json::Value| v.as_i64().ok_or_else(bad);
        let item = |i: usize| value.get(i).ok_or_else(bad);
        let policy = self.text(id(item(0)?)?)?;
        let version = self.text(id(item(1)?)?)?;
        let decision = value
            .get(2)
            .and_then(serde_json::Value::as_str)
            .and_then(ClaimDecision::parse)
            .ok_or_else(bad)?;
        let mut lines = Vec::new();
        for line in item(3)?.as_array().ok_or_else(bad)? {
            let items = line.as_array().ok_or_else(bad)?;
            let (first, rest) = items.split_first().ok_or_else(bad)?;
            let action = first.as_str().and_then(Action::parse).ok_or_else(bad)?;
            let mut reasons = Vec::with_capacity(rest.len());
            for r in rest {
                let json = self.text(id(r)?)?;
                let mut parts: ReasonParts = serde_json::from_str(&json).map_err(|_| bad())?;
                // A row written before reasons named their policy: then one
                // policy decided every claim, the row's.
                if parts.policy.is_empty() {
                    parts.policy = policy.as_str().into();
                    parts.policy_version = version.as_str().into();
                }
                reasons.push(Reason::new(parts));
            }
            lines.push((action, reasons));
        }
        let mut policies = Vec::new();
        if let Some(list) = value.get(4) {
            for p in list.as_array().ok_or_else(bad)? {
                let pair = |i: usize| p.get(i).ok_or_else(bad).and_then(id);
                policies.push(PolicyRef {
                    id: self.text(pair(0)?)?.into(),
                    version: self.text(pair(1)?)?.into(),
                });
            }
        }
        Ok(DecisionParts {
            policy: policy.into(),
            version: version.into(),
            policies,
            decision,
            lines,
        })
    }

    /// The stored decision of the version numbered `seq`.
    pub(super) fn decision(&self, seq: u64) -> Result<Option<DecisionParts>, StoreError> {
        let seq = i64::try_from(seq).map_err(|_| self.corrupt("seq overflow"))?;
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT decision FROM claims WHERE seq = ?1")
            .and_then(|mut s| s.query_row([seq], |r| r.get(0)).optional())
            .map(Option::flatten)
            .map_err(|e| self.err(e))?;
        text.map(|t| self.decode(&t)).transpose()
    }
}
