//! A throw-away PostgreSQL cluster for tests: `initdb` into a temporary
//! directory, the server on a free loopback port with its socket in that
//! directory, and a watchdog shell that stops the server and removes the
//! directory once the test process has ended (a cluster shared by a test
//! binary's tests is in a static, which is never dropped).
//!
//! PostgreSQL refuses to run as root: as root the cluster belongs to the
//! `postgres` user (Debian's package makes it) or else `nobody`, and its
//! commands run through `runuser`. Each test asks for a database of its own
//! ([`database`]). Without PostgreSQL the tests that need it are skipped with
//! a message, unless `CI=true`, where they fail (as the browser tests do).
//!
//! This file uses only `std`: the library's unit tests and the integration
//! tests (`#[path]`) both include it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running cluster.
pub struct Cluster {
    /// The loopback port it listens on.
    pub port: u16,
    /// Its directory (data, socket, log).
    pub dir: PathBuf,
    bindir: PathBuf,
    /// The user running it, when the tests run as root.
    user: Option<String>,
    /// Commits wait for their WAL write ([`private`] clusters).
    durable: bool,
    watchdog: Mutex<Child>,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The watchdog: starts the server, then waits for the test process to
/// end; stops the server (restarted or not) and removes the directory.
const WATCHDOG: &str = r#"
parent=$1; bindir=$2; dir=$3; options=$4
"$bindir/pg_ctl" -D "$dir/data" -o "$options" -l "$dir/log" -w start >/dev/null 2>&1
while [ -d "/proc/$parent" ]; do sleep 0.2; done
"$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
rm -rf "$dir"
"#;

/// The server's options: loopback only, the socket in the cluster's
/// directory, no fsync (a test cluster survives no machine crash anyway).
/// `durable` keeps `synchronous_commit` on: a commit is acknowledged after
/// its WAL reached the operating system, so it survives the server's
/// processes being killed (`stop`), which a restart test needs; off, an
/// acknowledged commit can vanish with the server's memory.
fn options(port: u16, dir: &Path, durable: bool) -> String {
    let sync = if durable { "on" } else { "off" };
    format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit={sync} \
         -c full_page_writes=off -c max_connections=200",
        dir.display()
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// PostgreSQL's programs: `PG_BINDIR`, `pg_config --bindir`, or the newest
/// `/usr/lib/postgresql/*/bin`.
fn bindir() -> Option<PathBuf> {
    let has_initdb = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("PG_BINDIR").map(PathBuf::from) {
        return has_initdb(&dir).then_some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_initdb(&dir) {
            return Some(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| has_initdb(d))
        .collect();
    found.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

/// `program args` as `user` (through `runuser` when root).
fn command(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn start() -> Result<Cluster, String> {
    start_with(false)
}

fn start_with(durable: bool) -> Result<Cluster, String> {
    let bindir = bindir().ok_or_else(|| {
        "PostgreSQL is not installed (no initdb and postgres; apt-get install postgresql, or set \
         PG_BINDIR)"
            .to_string()
    })?;
    let user = if is_root() {
        let has = |u: &str| {
            Command::new("id")
                .arg(u)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        Some(
            if has("postgres") {
                "postgres"
            } else {
                "nobody"
            }
            .to_string(),
        )
    } else {
        None
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("payer-rules-pg-{}-{stamp}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if let Some(user) = &user {
        let ok = Command::new("chown")
            .arg(user)
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!("cannot give {} to {user}", dir.display()));
        }
    }
    let init = command(user.as_deref(), &bindir.join("initdb"))
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        .args(["--locale", "C"])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !init.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let mut watchdog = match &user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--", "sh", "-c", WATCHDOG, "watchdog"]);
            c
        }
        None => {
            let mut c = Command::new("sh");
            c.args(["-c", WATCHDOG, "watchdog"]);
            c
        }
    };
    let child = watchdog
        .arg(std::process::id().to_string())
        .arg(&bindir)
        .arg(&dir)
        .arg(options(port, &dir, durable))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    let cluster = Cluster {
        port,
        dir,
        bindir,
        user,
        durable,
        watchdog: Mutex::new(child),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if cluster.psql("postgres", "SELECT 1").is_ok() {
            return Ok(cluster);
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(cluster.dir.join("log")).unwrap_or_default();
            return Err(format!("postgres did not start: {log}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Cluster {
    /// Runs SQL with `psql` in database `db`; its output (unaligned, fields
    /// separated by U+001F), or why it failed.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bindir.join("psql"))
            .args([
                "-X",
                "-A",
                "-t",
                "-F",
                "\x1f",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// Stops the server at once (`immediate`: a crash, as far as clients
    /// see), to test what a node does while the database is down.
    pub fn stop(&self) -> Result<(), String> {
        self.pg_ctl(&["stop", "-m", "immediate", "-w"])
    }

    /// Starts the server again after [`Cluster::stop`], on the same port.
    pub fn restart(&self) -> Result<(), String> {
        let log = self.dir.join("log");
        self.pg_ctl(&[
            "start",
            "-w",
            "-o",
            &options(self.port, &self.dir, self.durable),
            "-l",
            &log.to_string_lossy(),
        ])
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let mut c = command(self.user.as_deref(), &self.bindir.join("pg_ctl"));
        c.arg("-D").arg(self.dir.join("data")).args(args);
        let out = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

/// A private cluster (not the shared one), for a test that stops and
/// restarts its server without disturbing the other tests; `durable`
/// (acknowledged commits survive [`Cluster::stop`]). Stopped and removed when
/// dropped (or, at the latest, when the test process ends). `None` as for
/// [`cluster`].
pub fn private() -> Option<Cluster> {
    match start_with(true) {
        Ok(c) => Some(c),
        Err(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and no PostgreSQL for the tests: {why}"
            );
            eprintln!("skipped: {why}");
            None
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The watchdog only waits for the test process; the server goes now.
        let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
        if let Ok(mut watchdog) = self.watchdog.lock() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The shared cluster of this test process, started on first use; `None`
/// (with a message) when PostgreSQL is missing outside CI. Under `CI=true`
/// a missing PostgreSQL fails the test.
pub fn cluster() -> Option<&'static Cluster> {
    match CLUSTER.get_or_init(start) {
        Ok(c) => Some(c),
        Err(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and no PostgreSQL for the tests: {why}"
            );
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// A fresh, empty database on the shared cluster: its URL.
pub fn database(hint: &str) -> Option<String> {
    let cluster = cluster()?;
    let clean: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let name = format!("t{}_{clean}", DATABASES.fetch_add(1, Ordering::SeqCst));
    if let Err(e) = cluster.psql("postgres", &format!("CREATE DATABASE {name}")) {
        panic!("cannot create database {name}: {e}");
    }
    Some(cluster.url(&name))
}
