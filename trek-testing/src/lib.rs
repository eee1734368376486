//! trek's test harness: a fresh, migrated database per test, in milliseconds, however many
//! migrations there are.
//!
//! ```toml
//! [dependencies]
//! trek-runtime = "0.1"
//!
//! [dev-dependencies]
//! trek-testing = "0.1"
//! ```
//!
//! ```no_run
//! static MIGRATIONS: trek::Migrations = trek::embed!("../examples/app/migrations");
//!
//! #[test]
//! fn a_new_customer_has_no_orders() -> Result<(), Box<dyn std::error::Error>> {
//!     let db = trek_testing::TestDb::new(&MIGRATIONS)?;    // migrated, empty, its own
//!     let mut client = db.connect()?;
//!     client.execute("INSERT INTO customers (name) VALUES ($1)", &[&"Ada"])?;
//!     let orders: i64 = client.query_one("SELECT count(*) FROM orders", &[])?.get(0);
//!     assert_eq!(orders, 0);
//!     Ok(())
//! }                                                         // dropped: the database is gone
//! # fn main() {}
//! ```
//!
//! [`TestDb::new`] gives a database of its own to each test, so tests run in parallel and
//! assert what their database holds. It costs one `CREATE DATABASE … TEMPLATE`:
//!
//! - **Templates.** The first use of a migration set (in any test binary) creates a template
//!   database and applies every migration to it with the dev workflow (no seeds unless
//!   [`TestDbBuilder::seeds`]); every test database is a copy of it. The template is named after
//!   the combined checksum of the scripts (and trek's version and table layout), so an edited
//!   or added migration gives a new template, never a stale one; the builder of the new
//!   template drops the older ones of the same migrations folder that nobody is copying at
//!   that moment. Building is serialised across threads and processes by an advisory lock on
//!   the maintenance database, and a template gets its final name only once fully migrated, so
//!   parallel test binaries build it once and a killed builder never leaves a half-migrated
//!   template behind. Templates are marked `IS_TEMPLATE` and `ALLOW_CONNECTIONS false`.
//! - **Copies.** `CREATE DATABASE … TEMPLATE … STRATEGY = FILE_COPY` on PostgreSQL 15 and
//!   later: for the small databases of tests it measured faster than `WAL_LOG` (PostgreSQL's
//!   default; see the README's numbers). [`TestDbBuilder::strategy`] picks another.
//! - **Copies made ahead.** Once a test has taken its database, a background thread copies
//!   the template again (up to two copies per template and process), so the next test finds
//!   one ready and the `CREATE DATABASE` overlaps with the test before it instead of adding
//!   to it.
//! - **The server.** `TREK_TEST_DATABASE_URL`, else `DATABASE_URL` (any database of the
//!   server: test databases are created beside it, through sessions on its `postgres`
//!   database; the user needs `CREATEDB`), else the project's **local server**, started on
//!   demand (see [`trek_local_server::LocalServer`]). Which project: the one in `CARGO_MANIFEST_DIR`,
//!   which cargo sets when it runs a test binary, with its target directory
//!   (`CARGO_TARGET_DIR` when set), so tests use the same server as `cargo trek`; without it,
//!   `CARGO_TARGET_DIR`, else the target directory the test binary sits in. Connections are
//!   made without TLS.
//! - **Dropping.** Dropping a [`TestDb`] drops its database (`WITH (FORCE)`: connections
//!   left open are closed); [`TestDb::keep`] keeps it for a look after a failure. Databases
//!   a test process left (copies made ahead that it never handed out, or all of them when it
//!   was killed) are dropped by a later run: on the local server as soon as that process has
//!   exited, on other servers after six hours.
//!
//! Testing a migration's effect on data: [`TestDbBuilder::up_to`] gives a database migrated
//! up to a version (from a template of its own); insert rows, then [`TestDb::migrate_to`] or
//! [`TestDb::migrate_all`] and assert what the migration did to them.
//!
//! Harnesses that keep one database for many tests reset it between tests with
//! [`reset_database`] (drop it and copy the template again: as fast as a new [`TestDb`]) or
//! [`reset_schemas`] (in place, without other databases: drop the managed schemas and apply
//! every migration again, as slow as migrating).
//!
//! Errors are this crate's [`Error`]: the engine's ([`trek::Error`], e.g. a failing migration
//! with its file and line) inside [`Error::Trek`], the local server's inside
//! [`Error::LocalServer`]. The harness sits beside the engine: it depends on `trek-runtime` and
//! `trek-local-server`, which know nothing of it.
#![deny(missing_docs)]

mod error;
mod ready;
mod server;
mod template;

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use trek::postgres::error::SqlState;
use trek::postgres::{Client, Config};
use trek::{quote_ident, Migrations, Migrator, Report, Version};

pub use error::{Error, Result};
pub use server::{with_database as url_with_database, DATABASE_URL_VAR, TEST_DATABASE_URL_VAR};
pub use template::CloneStrategy;

use server::Server;
use template::{Spec, Template, DEFAULT_SCHEMA};

/// A database that exists for one test: a copy of the migrations' template, dropped (`WITH
/// (FORCE)`) when the value is dropped. See the [module docs](self).
pub struct TestDb<'m> {
    spec: Spec<'m>,
    server: Arc<Server>,
    template: Template,
    strategy: CloneStrategy,
    name: String,
    url: String,
    keep: bool,
}

impl fmt::Debug for TestDb<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDb")
            .field("name", &self.name)
            .field("template", &self.template.name)
            .finish_non_exhaustive()
    }
}

impl<'m> TestDb<'m> {
    /// A new database with every migration of `migrations` applied (and repeatables; seeds
    /// only with [`TestDbBuilder::seeds`]), its own for as long as the value lives.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached (or the local server cannot be started), a migration
    /// fails while the template is built (the error names it, with file and line), or the
    /// database cannot be created.
    pub fn new(migrations: &'m Migrations) -> Result<TestDb<'m>> {
        TestDb::builder(migrations).build()
    }

    /// The database's [`postgres::Config`](trek::postgres::Config), for what takes the
    /// blocking driver's configuration ([`Migrator::run_async`], `postgres::Config::connect`).
    /// Async drivers take [`TestDb::url`]: `db.url().parse::<tokio_postgres::Config>()`,
    /// `sqlx::PgConnection::connect(db.url())`, `diesel_async::AsyncPgConnection::establish(db.url())`.
    ///
    /// # Panics
    /// Never: the URL is one trek made.
    #[must_use]
    pub fn config(&self) -> Config {
        Config::from_str(&self.url).expect("trek builds valid URLs")
    }

    /// A builder for a test database of `migrations` with options: only up to a version,
    /// seeds, another server, another copy strategy.
    #[must_use]
    pub fn builder(migrations: &'m Migrations) -> TestDbBuilder<'m> {
        TestDbBuilder {
            migrations,
            up_to: None,
            seeds: false,
            schema: DEFAULT_SCHEMA.to_owned(),
            label: None,
            server_url: None,
            strategy: CloneStrategy::default(),
        }
    }

    /// The database's URL (no password for the local server; the password of the URL given
    /// in the environment otherwise).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name: `trek_testdb_<slot>_<time>_<pid>_<n>`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of the template it was copied from: `trek_template_<slot>_<checksum>`.
    #[must_use]
    pub fn template(&self) -> &str {
        &self.template.name
    }

    /// A new connection to the database (without TLS).
    ///
    /// # Errors
    ///
    /// When the server refuses the connection.
    pub fn connect(&self) -> Result<Client> {
        self.server.connect(&self.name)
    }

    /// A [`Migrator`] for this database's migrations, configured as the template was built
    /// (dev workflow, seeds as chosen): for [`Migrator::status`], [`Migrator::revert`] and
    /// the rest, on a client from [`TestDb::connect`].
    #[must_use]
    pub fn migrator(&self) -> Migrator<'m> {
        self.spec.migrator()
    }

    /// Applies the pending migrations up to and including `version` (repeatables and seeds
    /// wait for [`TestDb::migrate_all`]), and reports what ran.
    ///
    /// # Errors
    ///
    /// [`trek::Error::UnknownVersion`] when `version` is not one of the migrations; a
    /// failing migration ([`trek::Error::Migration`], with file and line); the database
    /// cannot be reached.
    pub fn migrate_to(&self, version: &str) -> Result<Report> {
        let version = parse_version(version)?;
        off_async(|| {
            let mut client = self.connect()?;
            Ok(self.migrator().target(version).run(&mut client)?)
        })
    }

    /// Applies every pending migration, then the repeatables (and seeds when chosen).
    ///
    /// # Errors
    ///
    /// A failing migration ([`trek::Error::Migration`]); the database cannot be reached.
    pub fn migrate_all(&self) -> Result<Report> {
        off_async(|| {
            let mut client = self.connect()?;
            Ok(self.migrator().run(&mut client)?)
        })
    }

    /// Puts the database back as it was created (a new copy of the template under the same
    /// name), ending the connections to it.
    ///
    /// # Errors
    ///
    /// When the database cannot be dropped or copied again.
    pub fn reset(&mut self) -> Result<()> {
        off_async(|| self.reset_here())
    }

    fn reset_here(&mut self) -> Result<()> {
        let mut admin = self.server.maintenance()?;
        let result = admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.name)
            ))
            .map_err(|e| Error::db(format!("could not drop {}", self.name), e));
        self.server.put_back(admin);
        result?;
        let name = self.name.clone();
        let template = copy(
            &self.server,
            &self.spec,
            &self.template,
            &name,
            self.strategy,
        )?;
        self.template = template;
        Ok(())
    }

    /// Keeps the database after the value is gone (for a look at it after a failure) and
    /// returns its URL.
    #[must_use]
    pub fn keep(mut self) -> String {
        self.keep = true;
        tracing::info!(database = %self.name, "keeping the test database");
        self.url.clone()
    }
}

impl Drop for TestDb<'_> {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let dropped = off_async(|| {
            let mut admin = self.server.maintenance()?;
            let result = admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&self.name)
                ))
                .map_err(|e| Error::db(format!("could not drop {}", self.name), e));
            self.server.put_back(admin);
            result
        });
        if let Err(e) = dropped {
            tracing::warn!(database = %self.name, error = %e, "could not drop the test database");
        }
    }
}

impl TestDb<'static> {
    /// [`TestDb::new`] for async tests (`#[tokio::test]`, either flavour, or any other
    /// runtime): the database is made on a thread of its own and the future resolves to it,
    /// so the executor's thread is never blocked. Connect with `tokio-postgres`
    /// ([`TestDb::config`]), `sqlx` or `diesel-async` ([`TestDb::url`]); [`TestDb::connect`]
    /// gives the blocking client, which must not be used on an executor thread. Dropping the
    /// value drops the database from a thread of its own too.
    ///
    /// # Errors
    /// As [`TestDb::new`].
    pub fn new_async(migrations: &'static Migrations) -> trek::Pending<Result<TestDb<'static>>> {
        TestDb::builder(migrations).build_async()
    }
}

impl TestDbBuilder<'static> {
    /// [`TestDbBuilder::build`] for async tests: see [`TestDb::new_async`].
    ///
    /// # Errors
    /// As [`TestDbBuilder::build`].
    pub fn build_async(self) -> trek::Pending<Result<TestDb<'static>>> {
        trek::Pending::on_thread("trek-testdb", move || self.build_here()).unwrap_or_else(|e| {
            trek::Pending::ready(Err(Error::Io {
                context: "could not start a thread to create the test database".to_owned(),
                source: e,
            }))
        })
    }
}

/// Options for a [`TestDb`]; [`TestDbBuilder::build`] makes it.
#[derive(Debug, Clone)]
pub struct TestDbBuilder<'m> {
    migrations: &'m Migrations,
    up_to: Option<String>,
    seeds: bool,
    schema: String,
    label: Option<String>,
    server_url: Option<String>,
    strategy: CloneStrategy,
}

impl<'m> TestDbBuilder<'m> {
    /// Migrate only up to and including `version` (repeatables and seeds wait for a full
    /// run): the database as it was before the migrations after it. The copy comes from a
    /// template of its own, built once like the full one.
    #[must_use]
    pub fn up_to(mut self, version: &str) -> Self {
        self.up_to = Some(version.to_owned());
        self
    }

    /// Apply the seeds too (default: no seeds, so tests see only the rows they insert).
    #[must_use]
    pub fn seeds(mut self, yes: bool) -> Self {
        self.seeds = yes;
        self
    }

    /// The schema of trek's tables in the test databases (default `trek`, as
    /// [`Migrator::schema`]); [`reset_database`](Self::reset_database) reads the environment
    /// stamp there.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Names the migration set for its templates (default: the folder `embed!` read it from,
    /// else the path of its first script). Templates of one name replace each other when the
    /// migrations change; give two sets built in code two names.
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The server to use instead of the environment's (any database of it; a URL or a
    /// `key=value` string).
    #[must_use]
    pub fn server(mut self, url: impl Into<String>) -> Self {
        self.server_url = Some(url.into());
        self
    }

    /// How databases are copied from the template (default [`CloneStrategy::FileCopy`]).
    #[must_use]
    pub fn strategy(mut self, strategy: CloneStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Creates the test database, building the template first when this is the first use
    /// of these migrations.
    ///
    /// # Errors
    ///
    /// As [`TestDb::new`]; [`trek::Error::UnknownVersion`] when [`up_to`](Self::up_to)
    /// names no migration.
    pub fn build(self) -> Result<TestDb<'m>> {
        off_async(|| self.build_here())
    }

    fn build_here(self) -> Result<TestDb<'m>> {
        let (spec, server) = self.resolve()?;
        let ready = template::ensure(&server, &spec)?;
        let (name, template) = match ready::take(&server, &ready, self.strategy, next_name) {
            Some(name) => (name, ready),
            None => {
                let name = next_name(&spec.slot());
                let template = copy(&server, &spec, &ready, &name, self.strategy)?;
                (name, template)
            }
        };
        let url = server.url(&name);
        Ok(TestDb {
            spec,
            server,
            template,
            strategy: self.strategy,
            name,
            url,
            keep: false,
        })
    }

    /// Resets the existing database `url` names to the state a [`TestDb`] of these options
    /// starts in: drops it (`WITH (FORCE)`: its sessions end) and copies the template again
    /// under its name, on the server of `url` (the builder's [`server`](Self::server) and the
    /// environment are not used). For harnesses that keep one database for many tests; as
    /// fast as a new [`TestDb`].
    ///
    /// # Errors
    ///
    /// [`trek::Error::Protected`] when the database is stamped `prod` by trek (in the
    /// builder's [`schema`](Self::schema)); an error when its stamp cannot be read; otherwise
    /// as [`TestDb::new`].
    pub fn reset_database(self, url: &str) -> Result<()> {
        off_async(|| self.reset_database_here(url))
    }

    fn reset_database_here(self, url: &str) -> Result<()> {
        let server = Server::given(url, "the URL of the database to reset")?;
        let config = Config::from_str(url)
            .map_err(|e| Error::db("the URL of the database to reset is not valid", e))?;
        let database = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres")
            .to_owned();
        refuse_prod(&server, &database, &self.schema)?;
        let spec = self.spec()?;
        let template = template::ensure(&server, &spec)?;
        let mut admin = server.maintenance()?;
        let dropped = admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&database)
            ))
            .map_err(|e| Error::db(format!("could not drop {database} to reset it"), e));
        server.put_back(admin);
        dropped?;
        copy(&server, &spec, &template, &database, self.strategy)?;
        tracing::info!(database, template = %template.name, "reset the database from the test template");
        Ok(())
    }

    fn spec(&self) -> Result<Spec<'m>> {
        Ok(Spec {
            migrations: self.migrations,
            target: self.up_to.as_deref().map(parse_version).transpose()?,
            seeds: self.seeds,
            schema: self.schema.clone(),
            label: self.label.clone(),
        })
    }

    fn resolve(&self) -> Result<(Spec<'m>, Arc<Server>)> {
        let spec = self.spec()?;
        if let Some(target) = &spec.target {
            if !spec
                .migrations
                .versioned()
                .any(|m| m.version() == Some(target))
            {
                return Err(trek::Error::UnknownVersion {
                    version: target.to_string(),
                    hint: Some("TestDbBuilder::up_to takes the version of a migration".to_owned()),
                }
                .into());
            }
        }
        let server = match &self.server_url {
            Some(url) => Server::given(url, "the test server's URL")?,
            None => Server::from_env()?,
        };
        Ok((spec, server))
    }
}

/// Resets the database `url` names to the migrated state of `migrations` from their test
/// template: `TestDb::builder(migrations).reset_database(url)`. See
/// [`TestDbBuilder::reset_database`].
///
/// # Errors
///
/// As [`TestDbBuilder::reset_database`].
pub fn reset_database(url: &str, migrations: &Migrations) -> Result<()> {
    TestDb::builder(migrations).reset_database(url)
}

/// Resets the database of `client` in place: drops its managed schemas and applies every
/// migration and repeatable again (no seeds), with the dev workflow ([`Migrator::reset`]).
/// Needs no other database and keeps every session, but costs as much as migrating; prefer
/// [`reset_database`] where the database may be dropped.
///
/// # Errors
///
/// [`trek::Error::Protected`] on a database stamped `prod`; otherwise as [`Migrator::reset`].
pub fn reset_schemas(client: &mut Client, migrations: &Migrations) -> Result<Report> {
    Ok(Migrator::new(migrations)
        .workflow(trek::Workflow::Dev)
        .seeds(false)
        .client_label(format!("trek_testing pid {}", std::process::id()))
        .reset(client)?)
}

/// Runs `work` on a thread of its own and waits for it. The blocking `postgres` client panics
/// on a thread that runs an async executor ("Cannot start a runtime from within a runtime"),
/// as in a `#[tokio::test]`; on its own thread it runs, and waiting for that thread cannot
/// deadlock even a current-thread runtime, since the thread needs nothing from it. Starting a
/// thread costs tens of microseconds, next to the milliseconds of a `CREATE DATABASE`.
fn off_async<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Copies `template` into `name`; when a builder of a newer template dropped it meanwhile,
/// builds it again (once). Returns the template used.
fn copy(
    server: &Server,
    spec: &Spec<'_>,
    template: &Template,
    name: &str,
    strategy: CloneStrategy,
) -> Result<Template> {
    let clone = |template: &Template| {
        let mut admin = server.maintenance()?;
        let result = template::clone_into(&mut admin, &template.name, name, strategy);
        server.put_back(admin);
        Ok::<_, Error>(result)
    };
    let mut template = template.clone();
    let mut result = clone(&template)?;
    if matches!(&result, Err(e) if template::is_missing(e)) {
        tracing::debug!(template = %template.name, "the template is gone; building it again");
        template::forget(server, &template.name);
        template = template::ensure(server, spec)?;
        result = clone(&template)?;
    }
    result.map_err(|e| {
        let why = if e.code() == Some(&SqlState::DUPLICATE_DATABASE) {
            format!("could not create the test database {name}: it exists")
        } else {
            format!("could not copy the template {} into {name}", template.name)
        };
        Error::db(why, e)
    })?;
    Ok(template)
}

/// `trek_testdb_<slot>_<seconds, hex>_<pid>_<n>`: unique per process and time, and datable
/// by the sweep of databases left behind.
fn next_name(slot: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "trek_testdb_{slot}_{:x}_{}_{}",
        template::unix_seconds(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn parse_version(text: &str) -> Result<Version> {
    Version::parse(text).map_err(|e| {
        trek::Error::UnknownVersion {
            version: text.to_owned(),
            hint: Some(e.reason.to_owned()),
        }
        .into()
    })
}

/// Refuses to drop a database trek stamped `prod` (in `schema`, where trek's tables are).
fn refuse_prod(server: &Server, database: &str, schema: &str) -> Result<()> {
    let mut client = match server.connect(database) {
        Ok(client) => client,
        Err(Error::Database { source, .. })
            if source.code() == Some(&SqlState::INVALID_CATALOG_NAME) =>
        {
            return Ok(()); // it does not exist (yet): nothing to protect
        }
        Err(e) => return Err(e),
    };
    let stamp = match client.query_opt(
        &format!(
            "SELECT value FROM {}.meta WHERE key = 'environment'",
            quote_ident(schema)
        ),
        &[],
    ) {
        Ok(row) => row.map(|row| row.get::<_, String>(0)),
        // No trek tables (or schema) there: trek never stamped it.
        Err(e)
            if e.code() == Some(&SqlState::UNDEFINED_TABLE)
                || e.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
        {
            None
        }
        Err(e) => {
            return Err(Error::db(
                format!(
                    "could not read the environment stamp of {database} (in {schema}.meta), so \
                     it was not reset"
                ),
                e,
            ))
        }
    };
    match stamp {
        Some(stamp) if stamp == "prod" => Err(trek::Error::Protected {
            database: database.to_owned(),
            stamp,
            action: "reset it from a test template".to_owned(),
        }
        .into()),
        _ => Ok(()),
    }
}
