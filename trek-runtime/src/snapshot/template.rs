//! The `template` strategy: `CREATE DATABASE … TEMPLATE` on the same server.
//!
//! PostgreSQL copies a database only while no session is connected to it, so both taking and
//! restoring run from a session on the maintenance database with trek's own session on the
//! qa database closed ([`crate::Migrator`] does that). Restoring clones the snapshot into
//! `<db>__trek_restoring`, puts the carried rows into the clone, then swaps the names in one
//! transaction (`ALTER DATABASE … RENAME` twice): the database is either the old one or the
//! restored one, never a mix. Database-level settings (`ALTER DATABASE … SET`) and grants on
//! the database are not part of a copy.

use std::thread;
use std::time::{Duration, Instant};

use postgres::types::Type;
use postgres::Client;

use super::catalogue::object_name;
use super::TemplateCopy;
use crate::connect::Connect;
use crate::error::{Error, Result};
use crate::sql::quote_ident;

/// `CREATE DATABASE new TEMPLATE template`, copying as `copy` says on a server of
/// `version_num`: on 18+ with `SET file_copy_method` before it (a statement of its own:
/// `CREATE DATABASE` cannot share a query string) and `RESET` after.
fn create_copy(
    client: &mut Client,
    new: &str,
    template: &str,
    copy: TemplateCopy,
    version_num: i32,
) -> std::result::Result<(), postgres::Error> {
    let (set, clause) = copy.sql(version_num);
    if !set.is_empty() {
        client.batch_execute(set)?;
    }
    let created = client.batch_execute(&format!(
        "CREATE DATABASE {} TEMPLATE {}{clause}",
        quote_ident(new),
        quote_ident(template)
    ));
    if !set.is_empty() {
        client.batch_execute("RESET file_copy_method")?;
    }
    created
}

/// Copies `database` into `snapshot`; returns its size in bytes.
pub(crate) fn take(
    maintenance: &mut Client,
    database: &str,
    snapshot: &str,
    copy: TemplateCopy,
    terminate: bool,
) -> Result<i64> {
    let num = super::server_version_num(maintenance)?;
    with_database_free(maintenance, database, terminate, |client| {
        create_copy(client, snapshot, database, copy, num)
    })?;
    let row = maintenance
        .query_one("SELECT pg_database_size($1::text)", &[&snapshot])
        .map_err(|e| Error::db("could not read the snapshot's size", e))?;
    Ok(row.get(0))
}

/// The database a restore copies from, and how.
pub(crate) struct Source<'a> {
    /// The snapshot's (or template's) database.
    pub snapshot: &'a str,
    /// A copy of it made beforehand, taken instead of copying when it exists.
    pub ready: Option<&'a str>,
    /// How a copy is made.
    pub copy: TemplateCopy,
}

/// Restores `source.snapshot` over `database`: clones it (or takes `source.ready` when that
/// exists), runs the SQL `carry_sql` makes in the clone (in one transaction; it is made once
/// the clone exists, so it can time the restore), then swaps the clone in. Returns whether
/// the ready copy was used.
pub(crate) fn restore(
    maintenance: &mut Client,
    connector: &dyn Connect,
    database: &str,
    source: &Source<'_>,
    carry_sql: &dyn Fn() -> String,
    terminate: bool,
) -> Result<bool> {
    let Source {
        snapshot,
        ready,
        copy,
    } = *source;
    let restoring = object_name(database, "restoring");
    let old = object_name(database, "replaced");
    let exists = maintenance
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&snapshot])
        .map_err(|e| Error::db("could not look for the snapshot's database", e))?
        .is_some();
    if !exists {
        return Err(Error::Snapshot {
            message: format!("the snapshot's database {snapshot} is gone"),
        });
    }
    for leftover in [&restoring, &old] {
        maintenance
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(leftover)
            ))
            .map_err(|e| Error::db(format!("could not drop the leftover {leftover}"), e))?;
    }
    // A copy made ahead is renamed into place: no copying while someone waits.
    let took_ready = match ready {
        Some(ready) => maintenance
            .batch_execute(&format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(ready),
                quote_ident(&restoring)
            ))
            .is_ok(),
        None => false,
    };
    if !took_ready {
        let num = super::server_version_num(maintenance)?;
        create_copy(maintenance, &restoring, snapshot, copy, num)
            .map_err(|e| Error::db(format!("could not copy the snapshot {snapshot}"), e))?;
    }
    {
        let mut clone = connector
            .connect(&restoring)
            .map_err(|e| Error::db(format!("could not connect to {restoring}"), e))?;
        clone
            .batch_execute(&format!("BEGIN;\n{}COMMIT;", carry_sql()))
            .map_err(|e| Error::db("could not carry the audit log into the restored copy", e))?;
    }
    with_database_free(maintenance, database, terminate, |client| {
        client.batch_execute(&format!(
            "BEGIN; ALTER DATABASE {db} RENAME TO {old}; ALTER DATABASE {new} RENAME TO {db}; COMMIT;",
            db = quote_ident(database),
            old = quote_ident(&old),
            new = quote_ident(&restoring),
        ))
    })?;
    if let Err(e) = maintenance.batch_execute(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(&old)
    )) {
        tracing::warn!(database = %old, error = %crate::db_error::describe(&e), "could not drop the replaced database; the next restore drops it");
    }
    Ok(took_ready)
}

/// Drops a snapshot's database.
pub(crate) fn delete(maintenance: &mut Client, snapshot: &str) -> Result<()> {
    maintenance
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(snapshot)
        ))
        .map_err(|e| Error::db(format!("could not drop the snapshot {snapshot}"), e))
}

/// Runs `work` once no other session is connected to `database`: waits a moment for sessions
/// that are closing (trek's own), then terminates the rest when allowed, else fails naming
/// them. Retries `work` when a session connected in between.
fn with_database_free(
    maintenance: &mut Client,
    database: &str,
    terminate: bool,
    mut work: impl FnMut(&mut Client) -> Result<(), postgres::Error>,
) -> Result<()> {
    let started = Instant::now();
    loop {
        let sessions = sessions(maintenance, database)?;
        if !sessions.is_empty() {
            if started.elapsed() < Duration::from_secs(2) {
                thread::sleep(Duration::from_millis(5));
                continue;
            }
            if !terminate {
                return Err(Error::DatabaseBusy {
                    database: database.to_owned(),
                    sessions: sessions.into_iter().map(|(_, text)| text).collect(),
                });
            }
            for (pid, text) in &sessions {
                tracing::warn!(database, session = %text, "terminating a session so the database can be copied");
                maintenance
                    .execute("SELECT pg_terminate_backend($1)", &[pid])
                    .map_err(|e| Error::db("could not terminate a session", e))?;
            }
            thread::sleep(Duration::from_millis(100));
        }
        match work(maintenance) {
            Ok(()) => return Ok(()),
            Err(e) if is_busy(&e) && started.elapsed() < Duration::from_secs(30) => {
                let _ = maintenance.batch_execute("ROLLBACK");
                thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                let _ = maintenance.batch_execute("ROLLBACK");
                return Err(Error::db(
                    format!("PostgreSQL refused to copy {database}"),
                    e,
                ));
            }
        }
    }
}

/// Other sessions on `database`: pid and a description.
fn sessions(client: &mut Client, database: &str) -> Result<Vec<(i32, String)>> {
    let rows = client
        .query_typed(
            "SELECT pid, format('pid %s (%s) from %s since %s', pid, \
                    coalesce(nullif(application_name, ''), 'no application name'), \
                    coalesce(client_addr::text, 'a local socket'), \
                    to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')) \
             FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[(&database, Type::TEXT)],
        )
        .map_err(|e| Error::db("could not list the sessions on the database", e))?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Whether PostgreSQL refused because another session is connected.
fn is_busy(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::OBJECT_IN_USE)
}
