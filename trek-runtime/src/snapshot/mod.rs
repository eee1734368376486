//! qa snapshots: taken before a run applies anything, restored when an applied migration
//! changes (DESIGN §5).
//!
//! Four strategies ([`SnapshotStrategy`]): `pg_dump` (a custom-format dump in a folder, restored
//! with `pg_restore` and `psql` in one transaction), `template` (`CREATE DATABASE … TEMPLATE`
//! on the same server, restored by cloning the snapshot and swapping names in one
//! transaction), `command` (the team's own commands) and `restore_point`
//! (`pg_create_restore_point`, restored by the team's point-in-time-recovery command).
//!
//! The catalogue, `trek.snapshots`, records for each snapshot the applied sequence it holds;
//! like the audit log it is carried across every restore ([`carry`]), so it survives the
//! restore it drives.

pub(crate) mod carry;
pub(crate) mod catalogue;
pub(crate) mod command;
pub(crate) mod pg_dump;
pub(crate) mod strategy;
pub(crate) mod template;
pub(crate) mod tools;

use std::fmt;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use postgres::Client;

use crate::connect::Connect;
use crate::error::{Error, Result};

/// How qa snapshots are taken and restored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotStrategy {
    /// `pg_dump --format=custom` into `dir` (one file per snapshot); restored by dropping the
    /// managed schemas and replaying the dump with `pg_restore` into `psql`, in one
    /// transaction, using the client programs that match the server's major version.
    PgDump {
        /// The folder the dumps go to (created when missing).
        dir: PathBuf,
    },
    /// `CREATE DATABASE <db>__trek_<id> TEMPLATE <db>` on the same server. Fast, but
    /// PostgreSQL needs the database free of other sessions while it is copied or swapped.
    Template,
    /// The team's own commands, run with `sh -c`. `{id}`, `{database}` and `{url}` in them are
    /// replaced by the snapshot id, the database name and its URL; the same values are in the
    /// environment as `TREK_SNAPSHOT_ID`, `TREK_DATABASE` and `TREK_DATABASE_URL`, beside
    /// libpq's `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` and `PGDATABASE`.
    Command {
        /// Takes snapshot `{id}`.
        snapshot: String,
        /// Restores snapshot `{id}` into the database.
        restore: String,
        /// Deletes snapshot `{id}` (pruning); without it pruning only forgets the entry.
        delete: Option<String>,
    },
    /// `pg_create_restore_point('<db>__trek_<id>')`, restored by the team's point-in-time
    /// recovery, given `{label}` (and `{lsn}`, `{database}`, `{url}`). Needs WAL archiving and
    /// a role allowed to create restore points.
    RestorePoint {
        /// Restores the cluster to restore point `{label}`.
        restore: String,
    },
}

impl SnapshotStrategy {
    /// `pg_dump`, `template`, `command` or `restore_point`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SnapshotStrategy::PgDump { .. } => "pg_dump",
            SnapshotStrategy::Template => "template",
            SnapshotStrategy::Command { .. } => "command",
            SnapshotStrategy::RestorePoint { .. } => "restore_point",
        }
    }
}

impl fmt::Display for SnapshotStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The server's `server_version_num` (`150014`), which decides what a copy or a dump replay
/// may use.
///
/// # Errors
/// [`Error::Database`] when it cannot be read.
pub(crate) fn server_version_num(client: &mut Client) -> Result<i32> {
    Ok(client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .map_err(|e| Error::db("could not read the server's version", e))?
        .get(0))
}

/// How the `template` strategy copies a database: `CREATE DATABASE … STRATEGY` (PostgreSQL
/// 15+) and `file_copy_method` (18+). Before 15 every copy is a file copy, whatever this says.
///
/// Measured on a 424 MB database on PostgreSQL 18 (`bench/README.md`): `wal_log` 2.0 s,
/// `file_copy` 0.6–1.0 s, `clone` 85 ms on XFS with reflinks but 1.2 s on ext4, which has none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TemplateCopy {
    /// `STRATEGY = FILE_COPY` (the default): the files are copied, between two checkpoints.
    #[default]
    FileCopy,
    /// `STRATEGY = WAL_LOG` (PostgreSQL's own default): block by block through the
    /// write-ahead log; no checkpoints, but slower for a database of any size.
    WalLog,
    /// `STRATEGY = FILE_COPY` with `file_copy_method = clone` (PostgreSQL 18+): the file
    /// system shares the blocks (`copy_file_range` on Linux; near-instant on Btrfs, XFS with
    /// reflinks, ZFS; APFS on macOS). A file copy on older servers.
    Clone,
}

impl TemplateCopy {
    /// `file_copy`, `wal_log` or `clone`.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateCopy::FileCopy => "file_copy",
            TemplateCopy::WalLog => "wal_log",
            TemplateCopy::Clone => "clone",
        }
    }

    /// What a session on a server of `server_version_num` runs before `CREATE DATABASE`
    /// (`SET file_copy_method`), and the clause that ends the statement.
    pub(crate) fn sql(self, server_version_num: i32) -> (&'static str, &'static str) {
        if server_version_num < 150_000 {
            return ("", "");
        }
        match self {
            TemplateCopy::FileCopy if server_version_num >= 180_000 => {
                ("SET file_copy_method = copy; ", " STRATEGY = FILE_COPY")
            }
            TemplateCopy::Clone if server_version_num >= 180_000 => {
                ("SET file_copy_method = clone; ", " STRATEGY = FILE_COPY")
            }
            TemplateCopy::FileCopy | TemplateCopy::Clone => ("", " STRATEGY = FILE_COPY"),
            TemplateCopy::WalLog => ("", " STRATEGY = WAL_LOG"),
        }
    }
}

impl std::str::FromStr for TemplateCopy {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "file_copy" => Ok(TemplateCopy::FileCopy),
            "wal_log" => Ok(TemplateCopy::WalLog),
            "clone" => Ok(TemplateCopy::Clone),
            other => Err(format!(
                "unknown copy method `{other}`: use file_copy, wal_log or clone"
            )),
        }
    }
}

/// The qa workflow's snapshot settings ([`crate::Migrator::snapshots`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshots {
    /// How snapshots are taken and restored.
    pub strategy: SnapshotStrategy,
    /// How many snapshots to keep; older ones are deleted after a new one is taken.
    pub keep: Option<usize>,
    /// Take a snapshot before each migration, not only before each run.
    pub each_migration: bool,
    /// Terminate other sessions on the database when a strategy needs it to itself
    /// (`template`), instead of stopping with an error that names them.
    pub terminate_sessions: bool,
    /// How the `template` strategy copies the database.
    pub template_copy: TemplateCopy,
}

impl Snapshots {
    /// Settings with `strategy`, keeping every snapshot, one per run, never terminating
    /// sessions.
    pub fn new(strategy: SnapshotStrategy) -> Self {
        Snapshots {
            strategy,
            keep: None,
            each_migration: false,
            terminate_sessions: false,
            template_copy: TemplateCopy::default(),
        }
    }

    /// How the `template` strategy copies the database (default [`TemplateCopy::FileCopy`]).
    pub fn template_copy(mut self, copy: TemplateCopy) -> Self {
        self.template_copy = copy;
        self
    }

    /// Keep only the newest `keep` snapshots.
    pub fn keep(mut self, keep: usize) -> Self {
        self.keep = Some(keep);
        self
    }

    /// Take a snapshot before each migration.
    pub fn each_migration(mut self, yes: bool) -> Self {
        self.each_migration = yes;
        self
    }

    /// Terminate other sessions when the strategy needs the database to itself.
    pub fn terminate_sessions(mut self, yes: bool) -> Self {
        self.terminate_sessions = yes;
        self
    }
}

/// One entry of the snapshot catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotInfo {
    /// The snapshot's id, increasing with time.
    pub id: i64,
    /// When it was taken (UTC, RFC 3339).
    pub taken_at: String,
    /// The strategy that took it.
    pub strategy: String,
    /// Where it is: a file, a database, a restore point label, or the id the team's command
    /// was given.
    pub location: String,
    /// What the database held: `before 0003 add_orders`, `before seed 0001 demo`.
    pub label: String,
    /// How many versioned migrations and seeds were applied when it was taken.
    pub applied_count: usize,
    /// Its size in bytes, when known.
    pub size_bytes: Option<i64>,
}

impl fmt::Display for SnapshotInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "snapshot #{} ({}, {}, taken {})",
            self.id, self.label, self.strategy, self.taken_at
        )
    }
}

/// A leftover snapshot no catalogue knows: a database or a dump file named as trek names
/// snapshots of this database (`<database>__trek_<id>[_<token>]`, or the `__trek_restoring`
/// and `__trek_replaced` databases of an interrupted template restore), that the catalogue does
/// not list, for instance because the database was dropped and recreated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrphanSnapshot {
    /// `template` (a database) or `pg_dump` (a file).
    pub strategy: String,
    /// The database's name or the file's path.
    pub location: String,
}

impl fmt::Display for OrphanSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.location, self.strategy)
    }
}

/// Whether `name` (a database name, or a file name without `.dump`/`.dump.partial`) is one
/// trek gives a snapshot of `database`: the database's name (cut short to fit PostgreSQL's 63
/// bytes, as [`catalogue::object_name`] does), `__trek_`, then `<id>`, `<id>_<8 hex digits>`,
/// `restoring` or `replaced`. Nothing else is ever treated as trek's.
pub(crate) fn is_snapshot_name_of(database: &str, name: &str) -> bool {
    let Some((base, suffix)) = name.rsplit_once("__trek_") else {
        return false;
    };
    let ours = match suffix.split_once('_') {
        None => {
            suffix == "restoring"
                || suffix == "replaced"
                || (!suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()))
        }
        Some((id, token)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && token.len() == 8
                && token.bytes().all(|b| b.is_ascii_hexdigit())
        }
    };
    ours && !base.is_empty()
        && database.starts_with(base)
        && (base.len() == database.len() || name.len() >= 62)
}

/// A session on the maintenance database (`postgres`, else `template1`).
pub(crate) fn connect_maintenance(connector: &dyn Connect) -> Result<Client> {
    connector
        .connect("postgres")
        .or_else(|_| connector.connect("template1"))
        .map_err(|e| {
            Error::db(
                "could not connect to the maintenance database (postgres or template1)",
                e,
            )
        })
}

/// A new session on `database`, retried for a minute while the server comes back (a
/// point-in-time recovery restarts it).
pub(crate) fn reconnect(connector: &dyn Connect, database: &str) -> Result<Client> {
    let started = Instant::now();
    loop {
        match connector.connect(database) {
            Ok(client) => return Ok(client),
            Err(e) if started.elapsed() > Duration::from_secs(60) => {
                return Err(Error::db(format!("could not reconnect to {database}"), e))
            }
            Err(_) => thread::sleep(Duration::from_millis(250)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_snapshot_name_of, TemplateCopy};

    #[test]
    fn template_copies_use_what_each_major_has() {
        // Before 15: no STRATEGY, every copy is a file copy.
        assert_eq!(TemplateCopy::WalLog.sql(140_010), ("", ""));
        assert_eq!(TemplateCopy::Clone.sql(130_020), ("", ""));
        // 15 to 17: STRATEGY, no file_copy_method.
        assert_eq!(
            TemplateCopy::FileCopy.sql(150_014),
            ("", " STRATEGY = FILE_COPY")
        );
        assert_eq!(
            TemplateCopy::Clone.sql(170_000),
            ("", " STRATEGY = FILE_COPY")
        );
        assert_eq!(
            TemplateCopy::WalLog.sql(160_000),
            ("", " STRATEGY = WAL_LOG")
        );
        // 18: file_copy_method, set each time (a server may default to clone).
        assert_eq!(
            TemplateCopy::Clone.sql(180_001),
            ("SET file_copy_method = clone; ", " STRATEGY = FILE_COPY")
        );
        assert_eq!(
            TemplateCopy::FileCopy.sql(180_001),
            ("SET file_copy_method = copy; ", " STRATEGY = FILE_COPY")
        );
        assert_eq!("clone".parse(), Ok(TemplateCopy::Clone));
        assert!("reflink".parse::<TemplateCopy>().is_err());
    }

    #[test]
    fn only_names_trek_gives_snapshots_of_this_database_are_its() {
        for name in [
            "app__trek_3",
            "app__trek_12_0a1b2c3d",
            "app__trek_restoring",
            "app__trek_replaced",
        ] {
            assert!(is_snapshot_name_of("app", name), "{name}");
        }
        for name in [
            "app",
            "app__trek_",
            "app__trek_x",
            "app__trek_3_xyz",
            "app__trek_3_0a1b2c3d9",
            "app2__trek_3",
            "ap__trek_3",
            "other__trek_3",
            "app_backup",
        ] {
            assert!(!is_snapshot_name_of("app", name), "{name}");
        }
        // A long database name is cut short to fit 63 bytes.
        let long = "d".repeat(63);
        let name = super::catalogue::object_name(&long, "7_0a1b2c3d");
        assert!(is_snapshot_name_of(&long, &name), "{name}");
    }
}
