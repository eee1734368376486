//! The snapshot strategies behind one interface ([`Strategy`]): whether a strategy needs the
//! database to itself, and how it takes, restores and deletes a snapshot. The strategy that
//! restores or deletes a snapshot is the one that took it ([`of_entry`]), whatever the
//! configuration says today.

use std::path::PathBuf;

use postgres::Client;

use super::catalogue::{object_name, Location, SnapshotRecord as Entry};
use super::tools::ClientTools;
use super::{command, pg_dump, template, SnapshotStrategy};
use crate::connect::Connect;
use crate::error::{Error, Result};

/// What a strategy works with.
pub(crate) struct Context<'a> {
    /// Trek's own session on the database when the strategy works in place; a session on the
    /// maintenance database when it needs the database alone.
    pub client: &'a mut Client,
    /// How to reach the server beyond `client`, when the migrator has one.
    pub connector: Option<&'a dyn Connect>,
    /// The database's name.
    pub database: &'a str,
    /// End other sessions when the database must be free of them.
    pub terminate_sessions: bool,
    /// How the `template` strategy copies a database.
    pub template_copy: super::TemplateCopy,
    /// The schemas a `pg_dump` snapshot holds; empty for every one.
    pub dumped_schemas: &'a [String],
}

impl<'a> Context<'a> {
    fn connector(&self, what: &str) -> Result<&'a dyn Connect> {
        self.connector.ok_or_else(|| Error::NeedsConnector {
            what: what.to_owned(),
        })
    }
}

/// The name of a snapshot about to be taken: its catalogue id and a random token, so that
/// names never collide with leftovers of an earlier database of the same name (whose
/// catalogue counted from 1 too) or with another database's snapshots in a shared folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapshotName {
    pub id: i64,
    token: String,
}

impl SnapshotName {
    /// A name for snapshot `id` with a fresh random token (8 hex digits).
    pub fn new(id: i64) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_i64(id);
        hasher.write_u32(std::process::id());
        if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            hasher.write_u128(now.as_nanos());
        }
        SnapshotName {
            id,
            token: format!("{:08x}", hasher.finish() as u32),
        }
    }

    /// `<id>_<token>`: what the team's commands get as `{id}`.
    pub fn unique_id(&self) -> String {
        format!("{}_{}", self.id, self.token)
    }

    /// `<database>__trek_<id>_<token>`, within PostgreSQL's 63 bytes: a database, dump file or
    /// restore point label.
    pub fn object(&self, database: &str) -> String {
        object_name(database, &self.unique_id())
    }
}

/// A snapshot just taken.
#[derive(Debug)]
pub(crate) struct Taken {
    pub location: Location,
    pub size_bytes: Option<i64>,
}

/// What a restore puts into the restored database.
pub(crate) struct Carry<'a> {
    /// Statements run first in a strategy that replays into the live database in one
    /// transaction (`pg_dump`): dropping the managed schemas and trek's.
    pub drop_sql: &'a str,
    /// Statements (no transaction control) that carry the audit log and catalogue across and
    /// audit the restore, given SQL for the restore's duration in milliseconds.
    pub carry_sql: &'a dyn Fn(&str) -> String,
}

/// What deleting a snapshot did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Deletion {
    /// What the snapshot occupied is gone.
    Deleted,
    /// Nothing could be deleted, for this reason; the entry is only forgotten.
    Forgotten(String),
}

/// One way to take, restore and delete snapshots.
pub(crate) trait Strategy {
    /// Whether taking and restoring need the database free of every session, trek's own
    /// included: then [`Context::client`] is a session on the maintenance database.
    fn needs_database_alone(&self) -> bool;

    /// Takes snapshot `name`, described by `label`.
    fn take(&self, cx: &mut Context<'_>, name: &SnapshotName, label: &str) -> Result<Taken>;

    /// Restores the snapshot `entry` over the database.
    fn restore(&self, cx: &mut Context<'_>, entry: &Entry, carry: &Carry<'_>) -> Result<()>;

    /// Deletes what the snapshot `entry` occupies.
    fn delete(&self, cx: &mut Context<'_>, entry: &Entry) -> Result<Deletion>;
}

/// The configured strategy, for taking snapshots.
pub(crate) fn configured(strategy: &SnapshotStrategy) -> Box<dyn Strategy> {
    match strategy {
        SnapshotStrategy::PgDump { dir } => Box::new(PgDump { dir: dir.clone() }),
        SnapshotStrategy::Template => Box::new(Template),
        SnapshotStrategy::Command {
            snapshot,
            restore,
            delete,
        } => Box::new(TeamCommand {
            snapshot: Some(snapshot.clone()),
            restore: Some(restore.clone()),
            delete: delete.clone(),
        }),
        SnapshotStrategy::RestorePoint { restore } => Box::new(RestorePoint {
            restore: Some(restore.clone()),
        }),
    }
}

/// The strategy that took the snapshot at `location`, for restoring or deleting it. An entry
/// from before trek recorded the team's commands uses today's commands when today's strategy
/// is the same.
pub(crate) fn of_entry(location: &Location, today: Option<&SnapshotStrategy>) -> Box<dyn Strategy> {
    match location {
        Location::File(file) => Box::new(PgDump {
            dir: file.parent().map(PathBuf::from).unwrap_or_default(),
        }),
        Location::Database(_) => Box::new(Template),
        Location::Command {
            restore, delete, ..
        } => {
            let (today_restore, today_delete) = match today {
                Some(SnapshotStrategy::Command {
                    restore, delete, ..
                }) => (Some(restore.clone()), delete.clone()),
                _ => (None, None),
            };
            let recorded = restore.is_some();
            Box::new(TeamCommand {
                snapshot: None,
                restore: restore.clone().or(today_restore),
                delete: if recorded {
                    delete.clone()
                } else {
                    today_delete
                },
            })
        }
        Location::RestorePoint { restore, .. } => Box::new(RestorePoint {
            restore: restore.clone().or_else(|| match today {
                Some(SnapshotStrategy::RestorePoint { restore }) => Some(restore.clone()),
                _ => None,
            }),
        }),
    }
}

impl Location {
    /// A `pg_dump` snapshot's file.
    fn file(&self) -> Result<&std::path::Path> {
        match self {
            Location::File(file) => Ok(file),
            other => Err(other.not_of("pg_dump")),
        }
    }

    /// A `template` snapshot's database.
    fn database(&self) -> Result<&str> {
        match self {
            Location::Database(name) => Ok(name),
            other => Err(other.not_of("template")),
        }
    }

    /// A `command` snapshot's id.
    fn command_id(&self) -> Result<&str> {
        match self {
            Location::Command { id, .. } => Ok(id),
            other => Err(other.not_of("command")),
        }
    }

    /// A `restore_point` snapshot's label and LSN.
    fn restore_point(&self) -> Result<(&str, &str)> {
        match self {
            Location::RestorePoint { label, lsn, .. } => Ok((label, lsn)),
            other => Err(other.not_of("restore_point")),
        }
    }

    fn not_of(&self, strategy: &str) -> Error {
        Error::Snapshot {
            message: format!(
                "internal error: a {strategy} snapshot cannot be at a {} location; please report it",
                self.strategy()
            ),
        }
    }
}

/// `pg_dump`: a custom-format dump in a folder, restored in place in one transaction.
struct PgDump {
    dir: PathBuf,
}

impl Strategy for PgDump {
    fn needs_database_alone(&self) -> bool {
        false
    }

    fn take(&self, cx: &mut Context<'_>, name: &SnapshotName, _label: &str) -> Result<Taken> {
        let connector = cx.connector("a pg_dump snapshot")?;
        let tools = ClientTools::for_server(cx.client, connector.client_programs_dir())?;
        let name = name.object(cx.database);
        let (file, size) = pg_dump::take(
            &tools,
            &connector.client_env(cx.database),
            &self.dir,
            &name,
            cx.dumped_schemas,
        )?;
        Ok(Taken {
            location: Location::File(file),
            size_bytes: Some(size),
        })
    }

    fn restore(&self, cx: &mut Context<'_>, entry: &Entry, carry: &Carry<'_>) -> Result<()> {
        let file = entry.location.file()?;
        let connector = cx.connector("restoring a pg_dump snapshot")?;
        let tools = ClientTools::for_server(cx.client, connector.client_programs_dir())?;
        pg_dump::restore(
            &tools,
            &connector.client_env(cx.database),
            pg_dump::Dump::Custom(file),
            carry.drop_sql,
            &(carry.carry_sql)(crate::apply::TRANSACTION_MS_SQL),
        )
    }

    fn delete(&self, _cx: &mut Context<'_>, entry: &Entry) -> Result<Deletion> {
        let file = entry.location.file()?;
        pg_dump::delete(file)?;
        Ok(Deletion::Deleted)
    }
}

/// `template`: `CREATE DATABASE … TEMPLATE` on the same server.
struct Template;

impl Strategy for Template {
    fn needs_database_alone(&self) -> bool {
        true
    }

    fn take(&self, cx: &mut Context<'_>, name: &SnapshotName, _label: &str) -> Result<Taken> {
        let name = name.object(cx.database);
        let size = template::take(
            cx.client,
            cx.database,
            &name,
            cx.template_copy,
            cx.terminate_sessions,
        )?;
        Ok(Taken {
            location: Location::Database(name),
            size_bytes: Some(size),
        })
    }

    fn restore(&self, cx: &mut Context<'_>, entry: &Entry, carry: &Carry<'_>) -> Result<()> {
        let snapshot = entry.location.database()?;
        let connector = cx.connector("restoring a template snapshot")?;
        let started = std::time::Instant::now();
        let carry_sql = || (carry.carry_sql)(&started.elapsed().as_millis().to_string());
        template::restore(
            cx.client,
            connector,
            cx.database,
            &template::Source {
                snapshot,
                ready: None,
                copy: cx.template_copy,
            },
            &carry_sql,
            cx.terminate_sessions,
        )
        .map(|_| ())
    }

    fn delete(&self, cx: &mut Context<'_>, entry: &Entry) -> Result<Deletion> {
        let snapshot = entry.location.database()?;
        let connector = cx.connector("deleting a template snapshot")?;
        let mut maintenance = super::connect_maintenance(connector)?;
        template::delete(&mut maintenance, snapshot)?;
        Ok(Deletion::Deleted)
    }
}

/// `command`: the team's own snapshot, restore and delete commands.
struct TeamCommand {
    snapshot: Option<String>,
    restore: Option<String>,
    delete: Option<String>,
}

impl Strategy for TeamCommand {
    fn needs_database_alone(&self) -> bool {
        true
    }

    fn take(&self, cx: &mut Context<'_>, name: &SnapshotName, label: &str) -> Result<Taken> {
        let connector = cx.connector("taking a snapshot")?;
        let Some(snapshot) = &self.snapshot else {
            return Err(Error::Snapshot {
                message: "no snapshot command is configured".to_owned(),
            });
        };
        let id = name.unique_id();
        command::run(
            snapshot,
            &command::Values {
                id: &id,
                label,
                database: cx.database,
                url: &connector.url(cx.database),
                ..command::Values::default()
            },
            &connector.client_env(cx.database),
            "snapshot",
        )?;
        Ok(Taken {
            location: Location::Command {
                id,
                restore: self.restore.clone(),
                delete: self.delete.clone(),
            },
            size_bytes: None,
        })
    }

    fn restore(&self, cx: &mut Context<'_>, entry: &Entry, carry: &Carry<'_>) -> Result<()> {
        let id = entry.location.command_id()?;
        run_restore_command(
            cx,
            self.restore.as_deref(),
            id,
            &entry.info.label,
            "",
            carry,
        )
    }

    fn delete(&self, cx: &mut Context<'_>, entry: &Entry) -> Result<Deletion> {
        let id = entry.location.command_id()?;
        let Some(delete) = &self.delete else {
            return Ok(Deletion::Forgotten(
                "no delete command was configured when it was taken".to_owned(),
            ));
        };
        let connector = cx.connector("deleting a snapshot")?;
        command::run(
            delete,
            &command::Values {
                id,
                label: &entry.info.label,
                database: cx.database,
                url: &connector.url(cx.database),
                ..command::Values::default()
            },
            &connector.client_env(cx.database),
            "delete",
        )?;
        Ok(Deletion::Deleted)
    }
}

/// `restore_point`: `pg_create_restore_point`, restored by the team's point-in-time recovery.
struct RestorePoint {
    restore: Option<String>,
}

impl Strategy for RestorePoint {
    fn needs_database_alone(&self) -> bool {
        false
    }

    fn take(&self, cx: &mut Context<'_>, name: &SnapshotName, _label: &str) -> Result<Taken> {
        let label = name.object(cx.database);
        let row = cx
            .client
            .query_one("SELECT pg_create_restore_point($1)::text", &[&label])
            .map_err(|e| Error::db("could not create a restore point", e))?;
        Ok(Taken {
            location: Location::RestorePoint {
                label,
                lsn: row.get(0),
                restore: self.restore.clone(),
            },
            size_bytes: None,
        })
    }

    fn restore(&self, cx: &mut Context<'_>, entry: &Entry, carry: &Carry<'_>) -> Result<()> {
        let (label, lsn) = entry.location.restore_point()?;
        run_restore_command(
            cx,
            self.restore.as_deref(),
            &entry.info.id.to_string(),
            label,
            lsn,
            carry,
        )
    }

    fn delete(&self, _cx: &mut Context<'_>, entry: &Entry) -> Result<Deletion> {
        let (label, _) = entry.location.restore_point()?;
        Ok(Deletion::Forgotten(format!(
            "restore point {label} cannot be deleted: it lasts as long as the WAL archive keeps it"
        )))
    }
}

/// Runs the team's restore command, then carries trek's tables into the restored database
/// from a new session (a point-in-time recovery restarts the server).
fn run_restore_command(
    cx: &mut Context<'_>,
    restore: Option<&str>,
    id: &str,
    label: &str,
    lsn: &str,
    carry: &Carry<'_>,
) -> Result<()> {
    let Some(restore) = restore else {
        return Err(Error::Snapshot {
            message: "no restore command was recorded with this snapshot, and none is configured: \
                      configure the strategy that took it"
                .to_owned(),
        });
    };
    let connector = cx.connector("restoring a snapshot")?;
    let started = std::time::Instant::now();
    command::run(
        restore,
        &command::Values {
            id,
            label,
            lsn,
            database: cx.database,
            url: &connector.url(cx.database),
        },
        &connector.client_env(cx.database),
        "restore",
    )?;
    let mut restored = super::reconnect(connector, cx.database)?;
    restored
        .batch_execute(&format!(
            "BEGIN;\n{}COMMIT;",
            (carry.carry_sql)(&started.elapsed().as_millis().to_string())
        ))
        .map_err(|e| {
            Error::db(
                "the restore command ran, but carrying the audit log across failed",
                e,
            )
        })
}
