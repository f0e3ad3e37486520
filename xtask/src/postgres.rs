//! PostgreSQL for the test suite and the benchmarks: `cargo xtask test` runs
//! the store's tests against a real server with pgvector, in a fresh
//! database per run, and `cargo xtask bench` writes its recording and ingest
//! figures there.
//!
//! - `BIOAI_TEST_DATABASE_URL` set: used as is (the operator prepared it).
//! - Otherwise the server on 127.0.0.1:5432 (trust auth, role `postgres`):
//!   if it lacks the `vector` extension, pgvector is built from Debian's
//!   source package and installed (needs root; see DEVELOPERS.md), then a
//!   database `bioai_test_<pid>_<unix time>` is created, databases of runs
//!   older than an hour are dropped, and the URL is exported to the test
//!   processes as `BIOAI_TEST_DATABASE_URL`.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

const HOST: &str = "127.0.0.1";
const PORT: &str = "5432";
const ADMIN_USER: &str = "postgres";
/// Test databases carry this prefix (the store's tests derive theirs from it).
const PREFIX: &str = "bioai_test_";
/// Databases of runs older than this are dropped.
const STALE_AFTER_SECS: u64 = 3600;
/// Debian source packages from trixie (pgvector is not packaged for bookworm).
const SOURCES_FILE: &str = "/etc/apt/sources.list.d/bioai-trixie-src.sources";
const SOURCES: &str = "# Added by `cargo xtask test` (xtask/src/postgres.rs): Debian trixie source
# packages, to build pgvector against postgresql-server-dev-<major>.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

/// Makes PostgreSQL ready and exports `BIOAI_TEST_DATABASE_URL`.
pub fn prepare(root: &Path) -> Result<()> {
    if let Ok(url) = std::env::var("BIOAI_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        eprintln!("postgres: using BIOAI_TEST_DATABASE_URL");
        return Ok(());
    }
    psql("SELECT 1").with_context(|| {
        format!(
            "PostgreSQL is not reachable at {HOST}:{PORT} as `{ADMIN_USER}`; start it \
             (e.g. `pg_ctlcluster 15 main start`) or set BIOAI_TEST_DATABASE_URL"
        )
    })?;
    let available = psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")?;
    if available.trim() != "1" {
        let version = psql("SHOW server_version_num")?;
        let major = version
            .trim()
            .parse::<u32>()
            .map(|v| v / 10_000)
            .with_context(|| format!("unexpected server_version_num {version:?}"))?;
        install_pgvector(root, major)?;
        let available = psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")?;
        if available.trim() != "1" {
            bail!(
                "pgvector was built and installed but the server does not list `vector`; see DEVELOPERS.md"
            );
        }
    }
    drop_stale_databases()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let name = format!("{PREFIX}{}_{now}", std::process::id());
    psql(&format!("CREATE DATABASE \"{name}\""))?;
    let url = format!("postgres://{ADMIN_USER}@{HOST}:{PORT}/{name}");
    eprintln!("postgres: test database {name}");
    // SAFETY: xtask is single-threaded here; the variable is read by the
    // `cargo test` child processes it starts afterwards.
    unsafe { std::env::set_var("BIOAI_TEST_DATABASE_URL", &url) };
    Ok(())
}

/// Runs one statement with psql on the admin database; returns its output.
fn psql(sql: &str) -> Result<String> {
    let out = Command::new("psql")
        .args([
            "-X", "-q", "-A", "-t", "-h", HOST, "-p", PORT, "-U", ADMIN_USER, "-d", "postgres",
            "-c", sql,
        ])
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .context("cannot run `psql` (Debian: apt-get install postgresql-client)")?;
    if !out.status.success() {
        bail!(
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Drops test databases of earlier runs: those whose name carries a run time
/// older than [`STALE_AFTER_SECS`], and those without one that nobody uses.
fn drop_stale_databases() -> Result<()> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let list = psql(&format!(
        "SELECT d.datname, (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname)
         FROM pg_database d WHERE d.datname LIKE '{PREFIX}%'"
    ))?;
    for line in list.lines() {
        let Some((name, sessions)) = line.split_once('|') else {
            continue;
        };
        // bioai_test_<pid>_<unix time>[_...]: the second number is the run time.
        let run_time = name
            .trim_start_matches(PREFIX)
            .split('_')
            .filter_map(|p| p.parse::<u64>().ok())
            .find(|n| *n > 1_000_000_000);
        let stale = match run_time {
            Some(t) => now.saturating_sub(t) > STALE_AFTER_SECS,
            None => sessions.trim() == "0",
        };
        if stale {
            eprintln!("postgres: dropping old test database {name}");
            psql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
        }
    }
    Ok(())
}

/// Builds pgvector from Debian's source package and installs it into the
/// server's extension directory. Idempotent: the sources file, the packages
/// and the unpacked source are reused when present.
fn install_pgvector(root: &Path, major: u32) -> Result<()> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .context("running `id -u`")?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        bail!(
            "the PostgreSQL server lacks pgvector and installing it needs root; \
             follow DEVELOPERS.md (pgvector) or set BIOAI_TEST_DATABASE_URL to a server that has it"
        );
    }
    eprintln!("postgres: pgvector is missing; building it from Debian's source package");
    if !Path::new(SOURCES_FILE).is_file() {
        std::fs::write(SOURCES_FILE, SOURCES).with_context(|| format!("writing {SOURCES_FILE}"))?;
    }
    crate::run(Command::new("apt-get").args(["update", "-q"]))?;
    crate::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "-o", "DPkg::Lock::Timeout=600"])
            .arg(format!("postgresql-server-dev-{major}"))
            .args(["build-essential", "dpkg-dev"]),
    )?;
    let src_root = root.join("target/pgvector-src");
    std::fs::create_dir_all(&src_root)?;
    let unpacked = || -> Result<Option<std::path::PathBuf>> {
        for e in std::fs::read_dir(&src_root)? {
            let p = e?.path();
            let is_src = p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("pgvector-"));
            if is_src && p.join("Makefile").is_file() {
                return Ok(Some(p));
            }
        }
        Ok(None)
    };
    let dir = match unpacked()? {
        Some(d) => d,
        None => {
            crate::run(
                Command::new("apt-get")
                    .args(["source", "pgvector"])
                    .current_dir(&src_root),
            )?;
            unpacked()?.context("`apt-get source pgvector` produced no pgvector-* directory")?
        }
    };
    let pg_config = format!("PG_CONFIG=/usr/lib/postgresql/{major}/bin/pg_config");
    crate::run(Command::new("make").arg(&pg_config).current_dir(&dir))?;
    crate::run(
        Command::new("make")
            .arg("install")
            .arg(&pg_config)
            .current_dir(&dir),
    )?;
    Ok(())
}
