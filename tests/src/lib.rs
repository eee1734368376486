//! Shared harness for the end-to-end tests: a real PostgreSQL, and a fresh database per test.
//!
//! The server is `TREK_TEST_DATABASE_URL` when set (any database of it; each test gets its own
//! beside it), else this workspace's [`trek_local_server::LocalServer`], started on first use and reused by
//! every test binary and process. A [`TestDb`] is a database that exists for one test and is
//! dropped with it, so tests run in parallel and assert what their database holds.
//!
//! The harness panics on failure, with what went wrong: it runs only inside tests.
#![deny(missing_docs)]

pub mod cli;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use trek::postgres::{error::SqlState, Client, NoTls};

/// The environment variable naming a server to test against instead of the local server.
pub const DATABASE_URL_VAR: &str = "TREK_TEST_DATABASE_URL";

/// The URL of `database` on the test server: `TREK_TEST_DATABASE_URL` with its database
/// replaced, else the local server of this workspace, started on first use.
///
/// # Panics
///
/// When the local server cannot be started (the message says why and what to do).
#[must_use]
pub fn server_url(database: &str) -> String {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => trek_testing::url_with_database(&url, database),
        _ => local_server().url(database),
    }
}

/// This workspace's local server, started once per process.
fn local_server() -> &'static trek_local_server::ServerInfo {
    static SERVER: OnceLock<Result<trek_local_server::ServerInfo, String>> = OnceLock::new();
    let started = SERVER.get_or_init(|| {
        trek_local_server::LocalServer::for_manifest_dir(env!("CARGO_MANIFEST_DIR").as_ref())
            .start()
            .map_err(|e| {
                let mut message = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    message = format!("{message}: {cause}");
                    source = cause.source();
                }
                message
            })
    });
    match started {
        Ok(info) => info,
        Err(message) => panic!(
            "the end-to-end tests need PostgreSQL, and trek's local server did not start: \
             {message}\n(or set {DATABASE_URL_VAR} to a server of your own)"
        ),
    }
}

/// A database that exists for one test: created empty by [`TestDb::new`], dropped (with
/// `WITH (FORCE)`, closing connections left open) when the value is dropped, with the prefix
/// templates trek made of it (`<name>__trek_prefix_*`).
#[derive(Debug)]
pub struct TestDb {
    /// Its name: `trek_test_<label>_<pid>_<n>`.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl TestDb {
    /// Creates a fresh, empty database named after `label` (lower-cased; anything but letters,
    /// digits and `_` becomes `_`; shortened to fit PostgreSQL's 63 bytes), unique to this
    /// process.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or the database cannot be created.
    #[must_use]
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let mut admin = admin_client();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = database_name(label, std::process::id(), n);
            match admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")) {
                Ok(()) => {
                    let url = server_url(&name);
                    return Self { name, url };
                }
                // Left over by an earlier run whose process had the same id: take another.
                Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => {}
                Err(e) => panic!("could not create test database {name}: {}", describe(&e)),
            }
        }
    }

    /// A new connection to this database.
    ///
    /// # Panics
    ///
    /// When it cannot connect.
    #[must_use]
    pub fn client(&self) -> Client {
        Client::connect(&self.url, NoTls)
            .unwrap_or_else(|e| panic!("could not connect to {}: {}", self.name, describe(&e)))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&server_url("postgres"), NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
            // trek shortens the database part of a template's name to fit 63 bytes.
            let templates = admin
                .query(
                    "SELECT datname::text FROM pg_database WHERE strpos(datname, '__trek_prefix_') > 0",
                    &[],
                )
                .unwrap_or_default();
            for row in templates {
                let name: String = row.get(0);
                let base = name.split("__trek_prefix_").next().unwrap_or_default();
                if base.len() < 8 || !self.name.starts_with(base) {
                    continue;
                }
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// A connection to the server's `postgres` database, to create and drop test databases.
///
/// # Panics
///
/// When it cannot connect.
#[must_use]
pub fn admin_client() -> Client {
    let url = server_url("postgres");
    Client::connect(&url, NoTls)
        .unwrap_or_else(|e| panic!("could not connect to {url}: {}", describe(&e)))
}

/// What PostgreSQL said (since postgres 0.19.12 an error's `Display` is just "db error").
fn describe(e: &trek::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// `trek_test_<label>_<pid>_<n>`, sanitised, with the label shortened so the whole fits in
/// PostgreSQL's 63-byte identifiers.
fn database_name(label: &str, pid: u32, n: usize) -> String {
    let suffix = format!("_{pid}_{n}");
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(63 - "trek_test_".len() - suffix.len())
        .collect();
    format!("trek_test_{label}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_sanitised_and_fit_in_63_bytes() {
        assert_eq!(
            database_name("Lock-Wait", 42, 3),
            "trek_test_lock_wait_42_3"
        );
        let long = database_name(&"é".repeat(100), 4_194_304, 123_456);
        assert_eq!(long.len(), 63);
        assert!(long.starts_with("trek_test____"));
        assert!(long.ends_with("_4194304_123456"));
    }
}
