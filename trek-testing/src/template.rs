//! Template databases: one per migration set (and target), migrated once, cloned per test.
//!
//! Names (all under PostgreSQL's 63 bytes):
//!
//! ```text
//! trek_template_<slot>_<sum>    a finished template: exists only once fully migrated
//! trek_building_<slot>_<sum>    a template being migrated (renamed when done)
//! trek_testdb_<slot>_<secs>_<pid>_<n>   a test's database
//! ```
//!
//! `<slot>` names what a template is *for*, and stays the same when a migration is edited:
//! the migrations folder (or the set's label), the target version, whether seeds run, trek's
//! schema. `<sum>` is the combined checksum of everything that goes into the template: every
//! script applied (kind, version, name, checksum, down script), trek's version and the layout
//! of its tables. An edit gives a new `<sum>`, so a new template; the builder of the new one
//! drops the slot's other templates (those not being cloned at that moment).
//!
//! Building is serialised across threads and processes by a session advisory lock on the
//! maintenance database, keyed by the template's name: the first caller builds under
//! `trek_building_…`, then renames it to `trek_template_…` (and marks it `IS_TEMPLATE`,
//! `ALLOW_CONNECTIONS false`); the others wait on the lock and find it done. A builder that
//! dies leaves only a `trek_building_…` database (its lock ends with its session), which the
//! next builder drops and redoes: a half-migrated template is never cloned.

use std::collections::HashSet;
use std::hash::Hasher as _;
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use trek::postgres::error::SqlState;
use trek::postgres::Client;
use trek::{
    describe_postgres_error, quote_ident, quote_literal, Checksum, Migrations, Migrator, Version,
    Workflow, LAYOUT_VERSION,
};

use crate::error::{Error, Result};
use crate::server::Server;

/// The schema of trek's tables unless [`crate::TestDbBuilder::schema`] says otherwise: the
/// engine's default.
pub(crate) const DEFAULT_SCHEMA: &str = "trek";

/// How long a test database may live before a later run of the same slot drops it as left
/// behind by a killed test process.
const STALE_TEST_DATABASE: Duration = Duration::from_secs(6 * 3600);

/// How `CREATE DATABASE … TEMPLATE` copies the template (PostgreSQL 15 and later; older
/// servers always copy files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CloneStrategy {
    /// `STRATEGY = FILE_COPY`: copies the template's files at the file-system level (with a
    /// checkpoint). Measured faster for the small databases tests use (see the README's
    /// numbers), so the default.
    #[default]
    FileCopy,
    /// `STRATEGY = WAL_LOG`: copies block by block through the write-ahead log (PostgreSQL's
    /// own default since 15), which wins for large templates.
    WalLog,
    /// Whatever the server does by default.
    ServerDefault,
}

impl CloneStrategy {
    /// The `STRATEGY` clause for a server of `version_num` (`server_version_num`).
    fn clause(self, version_num: i32) -> &'static str {
        if version_num < 150_000 {
            return "";
        }
        match self {
            CloneStrategy::FileCopy => " STRATEGY = FILE_COPY",
            CloneStrategy::WalLog => " STRATEGY = WAL_LOG",
            CloneStrategy::ServerDefault => "",
        }
    }
}

/// What a template holds: the scripts applied and how.
#[derive(Debug, Clone)]
pub(crate) struct Spec<'m> {
    pub migrations: &'m Migrations,
    /// Apply only up to this version (repeatables and seeds wait for a full run).
    pub target: Option<Version>,
    /// Whether seeds are applied.
    pub seeds: bool,
    /// The schema of trek's tables.
    pub schema: String,
    /// Names the slot instead of the migrations folder.
    pub label: Option<String>,
}

impl<'m> Spec<'m> {
    /// The migrator that builds the template, and that migrates test databases further.
    pub(crate) fn migrator(&self) -> Migrator<'m> {
        Migrator::new(self.migrations)
            .workflow(Workflow::Dev)
            .seeds(self.seeds)
            .schema(self.schema.clone())
            .client_label(format!("trek_testing pid {}", std::process::id()))
    }

    /// What the template is for: 10 hex digits.
    pub(crate) fn slot(&self) -> String {
        let source = self
            .label
            .clone()
            .or_else(|| self.migrations.source_dir().map(str::to_owned))
            .or_else(|| self.migrations.all().first().map(|m| m.path().to_owned()))
            .unwrap_or_default();
        let mut hasher = Fnv::default();
        for part in [
            source.as_str(),
            self.target.as_ref().map_or("*", Version::as_str),
            if self.seeds { "seeds" } else { "no seeds" },
        ] {
            hasher.write(part.as_bytes());
            hasher.write(&[0]);
        }
        // Another schema is another slot; the default one adds nothing, so the templates
        // made before the schema could be chosen keep their names.
        if self.schema != DEFAULT_SCHEMA {
            hasher.write(b"schema ");
            hasher.write(self.schema.as_bytes());
            hasher.write(&[0]);
        }
        format!("{:010x}", hasher.finish() & 0xff_ffff_ffff)
    }

    /// The combined checksum of what goes into the template: 16 hex digits.
    pub(crate) fn sum(&self) -> String {
        // The first line names the harness's own format (it stays `trek::testing 1`, its name
        // when it lived in the engine, so existing templates keep their names).
        let mut text = format!(
            "trek::testing 1\ntrek {}\nlayout {LAYOUT_VERSION}\nseeds {}\n",
            trek::TREK_VERSION,
            self.seeds
        );
        for m in self.scripts() {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                m.kind(),
                m.version().map_or("", Version::as_str),
                m.name(),
                m.checksum().as_str(),
                m.directives().no_transaction,
                m.down()
                    .map_or_else(String::new, |d| Checksum::of(d.sql().as_bytes())
                        .as_str()
                        .to_owned()),
            ));
        }
        let sum = Checksum::of(text.as_bytes());
        let hex = sum.as_str().rsplit(':').next().unwrap_or_default();
        hex.chars().take(16).collect()
    }

    /// The scripts the template applies, in order.
    fn scripts(&self) -> Vec<&trek::Migration> {
        match &self.target {
            Some(target) => self
                .migrations
                .versioned()
                .filter(|m| m.version().is_some_and(|v| v <= target))
                .collect(),
            None => self
                .migrations
                .versioned()
                .chain(self.migrations.repeatables())
                .chain(self.migrations.seeds().filter(|_| self.seeds))
                .collect(),
        }
    }
}

/// A template ready to clone on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    /// `trek_template_<slot>_<sum>`.
    pub name: String,
    /// `<slot>`.
    pub slot: String,
}

/// The templates this process knows are complete: `(server, template)`.
static READY: Mutex<Option<HashSet<(String, String)>>> = Mutex::new(None);

fn is_ready(server: &Server, name: &str) -> bool {
    READY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .is_some_and(|ready| ready.contains(&(server.key(), name.to_owned())))
}

fn set_ready(server: &Server, name: &str, ready: bool) {
    let mut guard = READY.lock().unwrap_or_else(PoisonError::into_inner);
    let set = guard.get_or_insert_with(HashSet::new);
    let key = (server.key(), name.to_owned());
    if ready {
        set.insert(key);
    } else {
        set.remove(&key);
    }
}

/// The template for `spec` on `server`, built when it does not exist yet.
pub(crate) fn ensure(server: &Server, spec: &Spec<'_>) -> Result<Template> {
    let slot = spec.slot();
    let sum = spec.sum();
    let template = Template {
        name: format!("trek_template_{slot}_{sum}"),
        slot,
    };
    if is_ready(server, &template.name) {
        return Ok(template);
    }
    let mut admin = server.maintenance()?;
    let result = ensure_with(server, &mut admin, spec, &template);
    server.put_back(admin);
    result?;
    set_ready(server, &template.name, true);
    Ok(template)
}

fn ensure_with(
    server: &Server,
    admin: &mut Client,
    spec: &Spec<'_>,
    template: &Template,
) -> Result<()> {
    if exists(admin, &template.name)? {
        sweep_stale_test_databases(admin, &template.slot, server.is_local());
        return Ok(());
    }
    let key = lock_key(&template.name);
    let wait = Instant::now();
    admin
        .execute("SELECT pg_advisory_lock($1)", &[&key])
        .map_err(|e| Error::db("could not take the template builders' advisory lock", e))?;
    tracing::debug!(template = %template.name, waited = ?wait.elapsed(), "holding the template lock");
    let built = if exists(admin, &template.name)? {
        Ok(())
    } else {
        build(server, admin, spec, template)
    };
    let unlocked = admin
        .execute("SELECT pg_advisory_unlock($1)", &[&key])
        .map_err(|e| Error::db("could not release the template builders' advisory lock", e));
    built?;
    unlocked?;
    sweep_stale_test_databases(admin, &template.slot, server.is_local());
    Ok(())
}

/// Migrates a new template under a temporary name, then renames it. Runs under the lock.
fn build(server: &Server, admin: &mut Client, spec: &Spec<'_>, template: &Template) -> Result<()> {
    let started = Instant::now();
    let building = template
        .name
        .replacen("trek_template_", "trek_building_", 1);
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&building)
        ))
        .map_err(|e| {
            Error::db(
                format!("could not drop the unfinished template {building}"),
                e,
            )
        })?;
    admin
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&building)))
        .map_err(|e| Error::db(format!("could not create the template {building}"), e))?;
    let migrated = server.connect(&building).and_then(|mut client| {
        let mut migrator = spec.migrator();
        if let Some(target) = &spec.target {
            migrator = migrator.target(target.clone());
        }
        Ok(migrator.run(&mut client)?)
    });
    if let Err(e) = migrated {
        // A failing migration: nothing to keep (the next attempt starts over anyway).
        let _ = retry_while_in_use(|| {
            admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ))
        });
        return Err(e);
    }
    retry_while_in_use(|| {
        admin.batch_execute(&format!(
            "BEGIN; \
             ALTER DATABASE {b} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false; \
             ALTER DATABASE {b} RENAME TO {t}; \
             COMMENT ON DATABASE {t} IS {comment}; \
             COMMIT",
            b = quote_ident(&building),
            t = quote_ident(&template.name),
            comment = quote_literal(&format!(
                "trek_testing template of {} ({} scripts{})",
                spec.label
                    .as_deref()
                    .or(spec.migrations.source_dir())
                    .unwrap_or("a migration set"),
                spec.scripts().len(),
                spec.target
                    .as_ref()
                    .map_or_else(String::new, |v| format!(", up to {v}")),
            )),
        ))
    })
    .map_err(|e| {
        let _ = admin.batch_execute("ROLLBACK");
        Error::db(
            format!("could not finish the template {}", template.name),
            e,
        )
    })?;
    tracing::info!(template = %template.name, scripts = spec.scripts().len(), took = ?started.elapsed(), "built a test template");
    drop_other_templates(admin, template);
    Ok(())
}

/// Drops the slot's templates other than `template` (made for an earlier version of the
/// migrations), each unless it is being cloned right now or someone is connected to it, and
/// the slot's unfinished templates that nobody is migrating (a builder killed halfway).
fn drop_other_templates(admin: &mut Client, template: &Template) {
    let pattern = format!("trek\\_%\\_{}\\_%", template.slot);
    let old: Vec<String> = match admin.query(
        "SELECT datname::text FROM pg_database \
         WHERE datname LIKE $1 AND datname <> $2 \
           AND (datname LIKE 'trek\\_template\\_%' OR datname LIKE 'trek\\_building\\_%')",
        &[&pattern, &template.name],
    ) {
        Ok(rows) => rows.into_iter().map(|r| r.get(0)).collect(),
        Err(e) => {
            tracing::warn!(error = %describe_postgres_error(&e), "could not list old test templates");
            return;
        }
    };
    if old.is_empty() {
        return;
    }
    let _ = admin.batch_execute("SET lock_timeout = '500ms'");
    for name in old {
        let ident = quote_ident(&name);
        let dropped = admin
            .batch_execute(&format!("ALTER DATABASE {ident} WITH IS_TEMPLATE false"))
            .and_then(|()| admin.batch_execute(&format!("DROP DATABASE {ident}")));
        match dropped {
            Ok(()) => tracing::info!(template = %name, "dropped an outdated test template"),
            Err(e) => {
                if name.starts_with("trek_template_") {
                    let _ = admin
                        .batch_execute(&format!("ALTER DATABASE {ident} WITH IS_TEMPLATE true"));
                }
                tracing::debug!(template = %name, error = %describe_postgres_error(&e), "kept an outdated test template in use");
            }
        }
    }
    let _ = admin.batch_execute("RESET lock_timeout");
}

/// Drops the slot's test databases older than [`STALE_TEST_DATABASE`] that nobody is
/// connected to: left behind by test processes that were killed. Once per slot and process.
///
/// On the local server, a database whose process has exited (its pid is in its name, and
/// `/proc` says the process is gone) is dropped at once: copies made ahead that the process
/// never handed out, and databases of a test process that was killed.
fn sweep_stale_test_databases(admin: &mut Client, slot: &str, local: bool) {
    static SWEPT: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    {
        let mut swept = SWEPT.lock().unwrap_or_else(PoisonError::into_inner);
        if !swept
            .get_or_insert_with(HashSet::new)
            .insert(slot.to_owned())
        {
            return;
        }
    }
    let pattern = format!("trek\\_testdb\\_{slot}\\_%");
    let Ok(rows) = admin.query(
        "SELECT datname::text FROM pg_database WHERE datname LIKE $1",
        &[&pattern],
    ) else {
        return;
    };
    let now = unix_seconds();
    let _ = admin.batch_execute("SET lock_timeout = '200ms'");
    for row in rows {
        let name: String = row.get(0);
        let created = name
            .split('_')
            .nth(3)
            .and_then(|secs| u64::from_str_radix(secs, 16).ok());
        let exited = local
            && name
                .split('_')
                .nth(4)
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(process_exited);
        if exited
            || created.is_some_and(|at| now.saturating_sub(at) > STALE_TEST_DATABASE.as_secs())
        {
            match admin.batch_execute(&format!("DROP DATABASE IF EXISTS {}", quote_ident(&name))) {
                Ok(()) => tracing::info!(database = %name, "dropped a test database left behind"),
                Err(e) => {
                    tracing::debug!(database = %name, error = %describe_postgres_error(&e), "kept an old test database")
                }
            }
        }
    }
    let _ = admin.batch_execute("RESET lock_timeout");
}

/// Whether process `pid` of this machine has exited (`/proc` says so; without `/proc`,
/// never).
fn process_exited(pid: u32) -> bool {
    pid != std::process::id()
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether the finished template exists.
fn exists(admin: &mut Client, name: &str) -> Result<bool> {
    admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .map(|row| row.is_some())
        .map_err(|e| Error::db("could not look for the test template", e))
}

/// Creates `database` as a copy of `template` with `strategy`. Returns the driver's error so
/// the caller can tell a missing template (`3D000`) or a taken name (`42P04`) apart.
pub(crate) fn clone_into(
    admin: &mut Client,
    template: &str,
    database: &str,
    strategy: CloneStrategy,
) -> std::result::Result<(), trek::postgres::Error> {
    let version = server_version_num(admin)?;
    retry_while_in_use(|| {
        admin.batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {}{}",
            quote_ident(database),
            quote_ident(template),
            strategy.clause(version)
        ))
    })
}

/// `server_version_num` of the session's server.
fn server_version_num(admin: &mut Client) -> std::result::Result<i32, trek::postgres::Error> {
    let row = admin.query_one("SELECT current_setting('server_version_num')::int", &[])?;
    Ok(row.get(0))
}

/// Runs `work` again while PostgreSQL says a database it needs has sessions (a session that
/// just closed can linger for a few milliseconds), for up to 10 seconds.
fn retry_while_in_use(
    mut work: impl FnMut() -> std::result::Result<(), trek::postgres::Error>,
) -> std::result::Result<(), trek::postgres::Error> {
    let started = Instant::now();
    loop {
        match work() {
            Err(e)
                if e.code() == Some(&SqlState::OBJECT_IN_USE)
                    && started.elapsed() < Duration::from_secs(10) =>
            {
                thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Whether `e` says the template does not exist (dropped by a builder of a newer one).
pub(crate) fn is_missing(e: &trek::postgres::Error) -> bool {
    e.code() == Some(&SqlState::INVALID_CATALOG_NAME)
}

/// Forgets that `template` is complete, so the next use checks (and rebuilds) it.
pub(crate) fn forget(server: &Server, template: &str) {
    set_ready(server, template, false);
}

/// The advisory lock key of a template's builders.
fn lock_key(name: &str) -> i64 {
    let mut hasher = Fnv::default();
    // Unchanged since the harness lived in the engine, so builders of every version share it.
    hasher.write(b"trek::testing template ");
    hasher.write(name.as_bytes());
    i64::from_ne_bytes(hasher.finish().to_ne_bytes())
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// FNV-1a, 64 bits: a hash that is the same in every process and build (unlike std's).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use trek::{Directives, Kind, Migration};

    use super::*;

    fn migration(version: &str, sql: &'static str) -> Migration {
        Migration::__new(
            Kind::Versioned,
            Some(Version::parse(version).unwrap()),
            Cow::Owned(format!("m{version}")),
            Cow::Owned(format!("{version}_m{version}.sql")),
            Cow::Borrowed(sql),
            Checksum::of(sql.as_bytes()),
            Directives::NONE,
            None,
        )
    }

    fn spec(migrations: &Migrations) -> Spec<'_> {
        Spec {
            migrations,
            target: None,
            seeds: false,
            schema: DEFAULT_SCHEMA.to_owned(),
            label: None,
        }
    }

    #[test]
    fn an_edit_changes_the_sum_but_not_the_slot() {
        let before = Migrations::from_vec(
            vec![
                migration("1", "CREATE TABLE a ()"),
                migration("2", "CREATE TABLE b ()"),
            ],
            Some("/app/migrations".into()),
        );
        let after = Migrations::from_vec(
            vec![
                migration("1", "CREATE TABLE a ()"),
                migration("2", "CREATE TABLE bb ()"),
            ],
            Some("/app/migrations".into()),
        );
        assert_eq!(spec(&before).slot(), spec(&after).slot());
        assert_ne!(spec(&before).sum(), spec(&after).sum());
        assert_eq!(spec(&before).sum(), spec(&before.clone()).sum());
        assert_eq!(spec(&before).slot().len(), 10);
        assert_eq!(spec(&before).sum().len(), 16);
    }

    #[test]
    fn a_target_is_its_own_slot_and_covers_only_the_scripts_up_to_it() {
        let set = Migrations::from_vec(
            vec![
                migration("1", "CREATE TABLE a ()"),
                migration("2", "CREATE TABLE b ()"),
            ],
            None,
        );
        let edited = Migrations::from_vec(
            vec![
                migration("1", "CREATE TABLE a ()"),
                migration("2", "CREATE TABLE c ()"),
            ],
            None,
        );
        let up_to = |m| Spec {
            target: Some(Version::parse("1").unwrap()),
            ..spec(m)
        };
        assert_ne!(up_to(&set).slot(), spec(&set).slot());
        assert_eq!(up_to(&set).sum(), up_to(&edited).sum(), "2 is not in it");
        assert_eq!(up_to(&set).scripts().len(), 1);
    }

    #[test]
    fn names_fit_in_63_bytes() {
        // Seconds in hex until 2106, a Linux pid (at most 4194304), a million databases.
        let name = format!(
            "trek_testdb_{}_{:x}_{}_{}",
            "f".repeat(10),
            u32::MAX,
            4_194_304,
            999_999
        );
        assert!(name.len() <= 63, "{} bytes", name.len());
        assert!(format!("trek_template_{}_{}", "f".repeat(10), "f".repeat(16)).len() <= 63);
    }

    #[test]
    fn the_strategy_clause_needs_postgresql_15() {
        assert_eq!(CloneStrategy::FileCopy.clause(140_010), "");
        assert_eq!(
            CloneStrategy::FileCopy.clause(150_018),
            " STRATEGY = FILE_COPY"
        );
        assert_eq!(CloneStrategy::WalLog.clause(160_000), " STRATEGY = WAL_LOG");
        assert_eq!(CloneStrategy::ServerDefault.clause(170_000), "");
    }
}
