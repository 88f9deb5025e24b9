//! The connection and the SQL it runs: the schema and its migrations, the
//! per-member locks, loading members' rows, writing claim versions (a batch
//! of them in one statement), and reading what `history show` lists.

use super::*;

/// The connection and everything that runs SQL. It lives on the database
/// thread once the store is open.
pub(super) struct Db {
    pub(super) config: postgres::Config,
    /// The server and database, for messages (no password).
    pub(super) target: String,
    /// `None` until connected, and again after the connection broke: the
    /// next transaction connects anew.
    client: Option<Client>,
    /// Prepared statements of the current connection, by their SQL.
    statements: FxHashMap<&'static str, Statement>,
    /// The first error of a write that was posted without waiting; the commit
    /// reports it (and the transaction is rolled back).
    pub(super) failed: Option<StoreError>,
    /// Rows stored but not sent yet: they go in one statement, before the
    /// next read, retirement or commit.
    pending: Vec<NewRow>,
    /// Session settings run after each connect (`SET lock_timeout ...`).
    session: String,
}

/// A claim version as loaded for the cache.
pub(super) struct LoadedVersion {
    pub(super) payer: String,
    pub(super) patient: String,
    pub(super) seq: u64,
    pub(super) id: String,
    pub(super) hash: [u8; 16],
    pub(super) status: Status,
    pub(super) replaced_by: Option<String>,
    pub(super) services: Vec<LoadedService>,
}

/// A row to insert.
pub(super) struct NewRow {
    pub(super) payer: String,
    pub(super) patient: String,
    pub(super) seq: i64,
    pub(super) id: String,
    pub(super) hash: [u8; 16],
    pub(super) status: Status,
    pub(super) replaces: Option<String>,
    pub(super) services: String,
    pub(super) decision: Option<String>,
}

/// Rows sent in one `INSERT` at most: a batch's rows go in a few statements
/// instead of one round trip each.
const FLUSH_ROWS: usize = 512;

/// The lock key of schema migrations (`pg_advisory_xact_lock`), so that
/// nodes starting together migrate one after the other. Any fixed number
/// unlikely to be a member's key: "payer-rules" in ASCII.
const MIGRATION_LOCK: i64 = 0x7061_7965_722d_7275;

/// The error of a PostgreSQL call: the server's message and SQLSTATE when it
/// answered, the client's (connection refused, closed) when not.
pub(super) fn pg_error(target: &str, e: &postgres::Error) -> StoreError {
    let why = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut why = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let more = s.to_string();
                if !why.contains(&more) {
                    why.push_str(": ");
                    why.push_str(&more);
                }
                source = s.source();
            }
            why
        }
    };
    StoreError::Postgres {
        target: target.to_owned(),
        code: e.code().map(|c| c.code().to_owned()),
        why,
    }
}

impl Db {
    /// A store over `config`, not connected yet. `lock_wait` bounds how long
    /// a transaction waits for another node's lock on a member.
    pub(super) fn new(config: postgres::Config, target: String, lock_wait: Duration) -> Db {
        let ms = lock_wait.as_millis().max(1);
        // A statement may wait for a lock, then work: its bound is the lock's
        // plus a minute. A session idle inside a transaction (a node stopped,
        // not killed) is ended, so its locks do not hold other nodes forever.
        let session = format!(
            "SET lock_timeout = {ms}; SET statement_timeout = {}; \
             SET idle_in_transaction_session_timeout = {};",
            ms + 60_000,
            ms.max(60_000)
        );
        Db {
            config,
            target,
            client: None,
            statements: FxHashMap::default(),
            failed: None,
            pending: Vec::new(),
            session,
        }
    }

    fn corrupt(&self, why: impl Into<String>) -> StoreError {
        StoreError::Postgres {
            target: self.target.clone(),
            code: None,
            why: format!("unreadable row: {}", why.into()),
        }
    }

    /// The connection, made when there is none or the last one broke.
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            self.statements.clear();
            let mut client = self
                .config
                .connect(NoTls)
                .map_err(|e| pg_error(&self.target, &e))?;
            client
                .batch_execute(&self.session)
                .map_err(|e| pg_error(&self.target, &e))?;
            self.client = Some(client);
        }
        match self.client.as_mut() {
            Some(client) => Ok(client),
            None => Err(StoreError::Postgres {
                target: self.target.clone(),
                code: None,
                why: "not connected".into(),
            }),
        }
    }

    /// A prepared statement of the current connection.
    fn statement(&mut self, sql: &'static str) -> Result<(Statement, &mut Client), StoreError> {
        let target = self.target.clone();
        self.client()?;
        let Some(client) = self.client.as_mut() else {
            return Err(StoreError::Postgres {
                target,
                code: None,
                why: "not connected".into(),
            });
        };
        if let Some(found) = self.statements.get(sql) {
            return Ok((found.clone(), client));
        }
        let prepared = client.prepare(sql).map_err(|e| pg_error(&target, &e))?;
        self.statements.insert(sql, prepared.clone());
        Ok((prepared, client))
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let target = self.target.clone();
        let (statement, client) = self.statement(sql)?;
        client
            .query(&statement, params)
            .map_err(|e| pg_error(&target, &e))
    }

    fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let target = self.target.clone();
        let (statement, client) = self.statement(sql)?;
        client
            .execute(&statement, params)
            .map_err(|e| pg_error(&target, &e))
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let target = self.target.clone();
        self.client()?
            .batch_execute(sql)
            .map_err(|e| pg_error(&target, &e))
    }

    /// The schema version: 0 when the database has no `schema_version`
    /// table and no table of ours; `Foreign` when it has `claims` but no
    /// version.
    pub(super) fn stored_schema_version(&mut self) -> Result<i64, StoreError> {
        let found = self.query(
            "SELECT to_regclass('schema_version') IS NOT NULL, to_regclass('claims') IS NOT NULL",
            &[],
        )?;
        let (versioned, claims) = found
            .first()
            .map(|r| (r.get::<_, bool>(0), r.get::<_, bool>(1)))
            .unwrap_or((false, false));
        if versioned {
            let rows = self.query("SELECT version FROM schema_version", &[])?;
            return rows
                .first()
                .map(|r| i64::from(r.get::<_, i32>(0)))
                .ok_or_else(|| self.corrupt("`schema_version` is empty"));
        }
        if claims {
            return Err(StoreError::Foreign {
                path: PathBuf::from(&self.target),
                why: "it has a `claims` table but no `schema_version`".into(),
            });
        }
        Ok(0)
    }

    /// Creates the schema, or upgrades an older one, in one transaction
    /// under a lock of its own: nodes starting together wait for the first.
    pub(super) fn migrate(&mut self) -> Result<(), StoreError> {
        self.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK});"
        ))?;
        let result = self.migrate_locked();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.batch(end);
        result.and(ended)
    }

    fn migrate_locked(&mut self) -> Result<(), StoreError> {
        let found = self.stored_schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: PathBuf::from(&self.target),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let start = usize::try_from(found).map_err(|_| self.corrupt("negative schema version"))?;
        for (i, sql) in migrations().iter().enumerate().skip(start) {
            self.batch(sql)?;
            self.batch(&format!("UPDATE schema_version SET version = {}", i + 1))?;
        }
        Ok(())
    }

    /// Opens a transaction (connecting first when needed).
    pub(super) fn begin(&mut self) -> Result<(), StoreError> {
        self.failed = None;
        self.pending.clear();
        self.batch("BEGIN")
    }

    /// Flushes the rows not sent yet, then commits; on any error, rolls back.
    pub(super) fn commit(&mut self) -> Result<(), StoreError> {
        let flushed = self.flush();
        if let Some(e) = self.failed.take().or(flushed.err()) {
            let _ = self.rollback();
            return Err(e);
        }
        self.batch("COMMIT")
    }

    pub(super) fn rollback(&mut self) -> Result<(), StoreError> {
        self.failed = None;
        self.pending.clear();
        if self.client.as_ref().is_none_or(Client::is_closed) {
            // The server rolled back when the connection broke.
            self.client = None;
            return Ok(());
        }
        self.batch("ROLLBACK")
    }

    /// Runs a write posted without waiting; keeps its error for the commit.
    pub(super) fn posted(&mut self, write: impl FnOnce(&mut Db) -> Result<(), StoreError>) {
        if self.failed.is_none() {
            if let Err(e) = write(self) {
                self.failed = Some(e);
            }
        }
    }

    /// Takes the transaction-level locks of these members' keys, in the
    /// order given (sorted by the caller: two nodes locking overlapping
    /// members in the same order cannot deadlock), then gives the highest
    /// `seq` of each member's rows (members without rows are left out).
    /// The highest seq is read after the lock is held, so it is the last
    /// commit's: a member whose cached copy has another is reloaded.
    pub(super) fn lock(
        &mut self,
        keys: Vec<i64>,
        patients: Vec<String>,
    ) -> Result<Vec<(String, String, u64)>, StoreError> {
        self.flush()?;
        // A function scan of the array runs its rows in array order.
        self.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) AS t(k)",
            &[&keys],
        )?;
        let rows = self.query(
            "SELECT payer, patient, max(seq) FROM claims WHERE patient = ANY($1)
             GROUP BY payer, patient",
            &[&patients],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: i64 = row.get(2);
            let seq = u64::try_from(seq).map_err(|_| self.corrupt("negative seq"))?;
            out.push((row.get(0), row.get(1), seq));
        }
        Ok(out)
    }

    /// The first number of a fresh block of [`SEQ_BLOCK`] claim numbers.
    pub(super) fn next_block(&mut self) -> Result<u64, StoreError> {
        let rows = self.query("SELECT nextval('claim_seq')", &[])?;
        let first: i64 = rows
            .first()
            .map(|r| r.get(0))
            .ok_or_else(|| self.corrupt("nextval gave no row"))?;
        u64::try_from(first).map_err(|_| self.corrupt("negative seq"))
    }

    /// These patients' rows (every payer's), in arrival order.
    pub(super) fn load(&mut self, patients: Vec<String>) -> Result<Vec<LoadedVersion>, StoreError> {
        self.flush()?;
        let rows = self.query(
            "SELECT payer, patient, seq, id, hash, status, replaced_by, services::text
             FROM claims WHERE patient = ANY($1) ORDER BY seq",
            &[&patients],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.get(3);
            let hash: Vec<u8> = row.get(4);
            let hash: [u8; 16] = hash
                .as_slice()
                .try_into()
                .map_err(|_| self.corrupt(format!("hash of claim `{id}`")))?;
            let status: String = row.get(5);
            let status =
                Status::parse(&status).ok_or_else(|| self.corrupt(format!("status `{status}`")))?;
            let seq: i64 = row.get(2);
            let seq = u64::try_from(seq).map_err(|_| self.corrupt("negative seq"))?;
            let services = if matches!(status, Status::Active | Status::Imported) {
                let json: String = row.get(7);
                load_services(&json).map_err(|what| self.corrupt(what))?
            } else {
                Vec::new()
            };
            out.push(LoadedVersion {
                payer: row.get(0),
                patient: row.get(1),
                seq,
                id,
                hash,
                status,
                replaced_by: row.get(6),
                services,
            });
        }
        Ok(out)
    }

    /// Queues a row; sends the queue when it is long.
    pub(super) fn insert(&mut self, row: NewRow) -> Result<(), StoreError> {
        self.pending.push(row);
        if self.pending.len() >= FLUSH_ROWS {
            return self.flush();
        }
        Ok(())
    }

    /// Sends the queued rows in one statement.
    pub(super) fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        let n = rows.len();
        let mut payer = Vec::with_capacity(n);
        let mut patient = Vec::with_capacity(n);
        let mut seq = Vec::with_capacity(n);
        let mut id = Vec::with_capacity(n);
        let mut hash = Vec::with_capacity(n);
        let mut status = Vec::with_capacity(n);
        let mut replaces = Vec::with_capacity(n);
        let mut services = Vec::with_capacity(n);
        let mut decision = Vec::with_capacity(n);
        for row in rows {
            payer.push(row.payer);
            patient.push(row.patient);
            seq.push(row.seq);
            id.push(row.id);
            hash.push(row.hash.to_vec());
            status.push(row.status.as_str());
            replaces.push(row.replaces);
            services.push(row.services);
            decision.push(row.decision);
        }
        self.execute(
            "INSERT INTO claims (patient, payer, seq, id, hash, status, replaces, services, decision)
             SELECT patient, payer, seq, id, hash, status, replaces, services::jsonb, decision::jsonb
             FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::bytea[], $6::text[],
                         $7::text[], $8::text[], $9::text[])
                  AS t(patient, payer, seq, id, hash, status, replaces, services, decision)",
            &[
                &patient, &payer, &seq, &id, &hash, &status, &replaces, &services, &decision,
            ],
        )
        .map(|_| ())
    }

    pub(super) fn retire(
        &mut self,
        payer: &str,
        patient: &str,
        id: &str,
        status: Status,
        by: &str,
    ) -> Result<(), StoreError> {
        // The version retired may be among the queued rows.
        self.flush()?;
        self.execute(
            "UPDATE claims SET status = $1, replaced_by = $2
             WHERE patient = $3 AND payer = $4 AND id = $5
               AND status IN ('active', 'imported', 'void')",
            &[&status.as_str(), &by, &patient, &payer, &id],
        )
        .map(|_| ())
    }

    /// The stored decision (JSON) of a member's version numbered `seq`.
    pub(super) fn decision(
        &mut self,
        payer: &str,
        patient: &str,
        seq: u64,
    ) -> Result<Option<String>, StoreError> {
        self.flush()?;
        let seq = i64::try_from(seq).map_err(|_| self.corrupt("seq overflow"))?;
        let rows = self.query(
            "SELECT decision::text FROM claims WHERE patient = $1 AND payer = $2 AND seq = $3",
            &[&patient, &payer, &seq],
        )?;
        Ok(rows.first().and_then(|r| r.get::<_, Option<String>>(0)))
    }

    pub(super) fn services_of(
        &mut self,
        payer: Option<&str>,
        patient: &str,
    ) -> Result<Vec<ServiceRow>, StoreError> {
        let rows = self.query(
            "SELECT id, services::text, payer FROM claims
             WHERE patient = $1 AND ($2::text IS NULL OR payer = $2)
               AND status IN ('active', 'imported')",
            &[&patient, &payer],
        )?;
        let mut out = Vec::new();
        for row in rows {
            let claim: String = row.get(0);
            let json: String = row.get(1);
            let row_payer: String = row.get(2);
            push_service_rows(&mut out, &claim, Some(&row_payer), &json)
                .map_err(|what| self.corrupt(what))?;
        }
        sort_service_rows(&mut out);
        Ok(out)
    }

    pub(super) fn claims_in_order(
        &mut self,
        payer: Option<&str>,
        patient: Option<&str>,
    ) -> Result<Vec<ClaimRow>, StoreError> {
        let rows = self.query(
            "SELECT seq, patient, id, hash, status, replaces, replaced_by, payer FROM claims
             WHERE ($1::text IS NULL OR patient = $1) AND ($2::text IS NULL OR payer = $2)
               AND id <> ''
             ORDER BY seq",
            &[&patient, &payer],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: i64 = row.get(0);
            let hash: Vec<u8> = row.get(3);
            let status: String = row.get(4);
            let status =
                Status::parse(&status).ok_or_else(|| self.corrupt(format!("status `{status}`")))?;
            out.push(ClaimRow {
                seq: u64::try_from(seq).unwrap_or(0),
                payer: Some(row.get(7)),
                patient: row.get(1),
                id: row.get(2),
                hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
                status,
                replaces: row.get(5),
                replaced_by: row.get(6),
            });
        }
        Ok(out)
    }

    /// Claim versions, counted services, and the bytes of the claims'
    /// partitions with their indexes and TOAST.
    pub(super) fn totals(&mut self) -> Result<(u64, u64, u64), StoreError> {
        let rows = self.query(
            "SELECT (SELECT count(*) FROM claims WHERE id <> ''),
                    (SELECT count(*) FROM services),
                    (SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)::int8
                     FROM pg_inherits WHERE inhparent = 'claims'::regclass)",
            &[],
        )?;
        let get = |i: usize| -> u64 {
            rows.first()
                .map(|r| u64::try_from(r.get::<_, i64>(i)).unwrap_or(0))
                .unwrap_or(0)
        };
        Ok((get(0), get(1), get(2)))
    }
}

/// The schema's migrations: entry `i` takes version `i` to `i + 1`.
fn migrations() -> Vec<String> {
    // 1: claim versions with their services and decisions, hash-partitioned
    // by patient so that a member's rows are in one partition (and, later,
    // on one server: the same key a Citus table would be distributed on).
    let mut first = String::from(
        "CREATE TABLE schema_version (version integer NOT NULL);
         INSERT INTO schema_version (version) VALUES (0);
         CREATE SEQUENCE claim_seq INCREMENT BY 64;
         CREATE TABLE claims (
             patient text NOT NULL,
             payer text NOT NULL,
             seq bigint NOT NULL,
             id text NOT NULL,
             hash bytea NOT NULL,
             status text NOT NULL,
             replaces text,
             replaced_by text,
             services jsonb NOT NULL,
             decision jsonb,
             PRIMARY KEY (patient, payer, seq)
         ) PARTITION BY HASH (patient);
         CREATE UNIQUE INDEX claims_one_per_content ON claims (patient, payer, id, hash)
             WHERE id <> '';
         CREATE UNIQUE INDEX claims_one_current ON claims (patient, payer, id)
             WHERE id <> '' AND status IN ('active', 'imported', 'void');
         CREATE VIEW services AS
             SELECT c.patient, c.payer, c.id AS claim, (s.value ->> 0)::int AS line,
                    (s.value ->> 1)::date AS date, s.value ->> 2 AS procedure,
                    s.value ->> 3 AS site
             FROM claims AS c, jsonb_array_elements(c.services) AS s
             WHERE c.status IN ('active', 'imported');",
    );
    for i in 0..PARTITIONS {
        first.push_str(&format!(
            "CREATE TABLE claims_p{i:02} PARTITION OF claims \
             FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {i});"
        ));
    }
    // 2: each service's units, modifier 50 and charge, as three more items
    // of its `services` entry; rows stored before keep four items and read
    // as 1 unit, no modifier 50 and no charge. A view may gain columns at
    // its end in place.
    let second = "CREATE OR REPLACE VIEW services AS
             SELECT c.patient, c.payer, c.id AS claim, (s.value ->> 0)::int AS line,
                    (s.value ->> 1)::date AS date, s.value ->> 2 AS procedure,
                    s.value ->> 3 AS site,
                    coalesce((s.value ->> 4)::int, 1) AS units,
                    coalesce((s.value ->> 5)::boolean, false) AS modifier_50,
                    (s.value ->> 6)::numeric AS charge
             FROM claims AS c, jsonb_array_elements(c.services) AS s
             WHERE c.status IN ('active', 'imported');"
        .to_string();
    // 3: each service's modifiers, as an eighth item of its `services`
    // entry when the line had any; rows stored before read as billed with
    // none (`with modifier` counts none of them).
    let third = "CREATE OR REPLACE VIEW services AS
             SELECT c.patient, c.payer, c.id AS claim, (s.value ->> 0)::int AS line,
                    (s.value ->> 1)::date AS date, s.value ->> 2 AS procedure,
                    s.value ->> 3 AS site,
                    coalesce((s.value ->> 4)::int, 1) AS units,
                    coalesce((s.value ->> 5)::boolean, false) AS modifier_50,
                    (s.value ->> 6)::numeric AS charge,
                    ARRAY(SELECT jsonb_array_elements_text(coalesce(s.value -> 7, '[]'::jsonb)))
                        AS modifiers
             FROM claims AS c, jsonb_array_elements(c.services) AS s
             WHERE c.status IN ('active', 'imported');"
        .to_string();
    vec![first, second, third]
}
