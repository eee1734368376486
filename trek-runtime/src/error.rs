//! The one error type of the trek runtime.

use std::fmt;
use std::time::Duration;

use crate::db_error::SqlFailure;
use crate::lock::LockHolder;

/// Everything that can stop a trek run. Match on the variant to react; `Display` says what went
/// wrong and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another process held trek's advisory lock for longer than the lock timeout.
    #[error("gave up waiting for trek's advisory lock (key {key}) after {waited:?}: {}{}",
            holder.as_ref().map_or_else(|| "the holder is unknown".to_owned(), ToString::to_string),
            if holder.as_ref().is_some_and(|h| h.stranded) { "" } else { "; wait for that run to finish, or raise the lock timeout" })]
    LockTimeout {
        /// The advisory lock key.
        key: i64,
        /// How long trek waited.
        waited: Duration,
        /// Who held the lock when trek gave up, when PostgreSQL says.
        holder: Option<Box<LockHolder>>,
    },

    /// A statement of a migration's up or down script failed; nothing of that script was kept
    /// (or, for a `no_transaction` up script, it is recorded as failed).
    #[error("{}:\n{failure}", migration_headline(label, *script, *marked_failed))]
    Migration {
        /// `0003 add_orders`.
        label: String,
        /// Whether the up or the down script failed.
        script: Script,
        /// What PostgreSQL said and where in the file.
        failure: Box<SqlFailure>,
        /// Whether the script ran outside a transaction and stopped halfway: an up script is
        /// now recorded as failed, a down script as half-reverted.
        marked_failed: bool,
        /// What the run had done before this script failed, and which stays done: the scripts
        /// applied (each committed on its own) and reverted, and the snapshots taken.
        before: Box<crate::Report>,
    },

    /// A query trek itself runs failed (connection lost, permission denied, ...). The
    /// driver's error is the [`source`](std::error::Error::source); [`crate::error_chain`]
    /// prints both.
    #[error("{context}")]
    Database {
        /// What trek was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: postgres::Error,
    },

    /// Pending migrations have versions older than the newest applied one.
    #[error("pending migrations are older than the newest applied one (out of order): {}; \
             renumber them, or allow out-of-order migrations (--allow-out-of-order)",
            versions.join(", "))]
    OutOfOrder {
        /// The out-of-order versions with their names.
        versions: Vec<String>,
    },

    /// Applied migrations were edited, and the run is strict.
    #[error("applied migrations were edited since they ran: {}; restore the files, or accept \
             the edits with `cargo trek repair`", migrations.join(", "))]
    Modified {
        /// The edited migrations.
        migrations: Vec<String>,
    },

    /// A `no_transaction` migration broke halfway in an earlier run.
    #[error(
        "{label} ({path}) failed or was interrupted halfway in an earlier run and may be \
             partly applied; finish or undo it by hand, then run `cargo trek repair` so trek \
             retries it"
    )]
    Failed {
        /// `0007 concurrent_index`.
        label: String,
        /// The script's path.
        path: String,
    },

    /// The run asked for one transaction, but a migration must run outside any.
    #[error(
        "--transaction all cannot include {path}: it is marked `-- trek:no_transaction`; \
             apply it on its own with the default per-migration mode"
    )]
    NoTransactionInBatch {
        /// The `no_transaction` script.
        path: String,
    },

    /// The database's history was written by a newer trek.
    #[error(
        "trek's tables in schema `{schema}` have layout version {found}, but this trek \
             knows up to {supported}; upgrade trek"
    )]
    NewerLayout {
        /// trek's schema.
        schema: String,
        /// The layout version found in `trek.meta`.
        found: u32,
        /// The newest layout this trek knows.
        supported: u32,
    },

    /// A row of trek's tables holds a value trek cannot read (edited by hand, or written by
    /// something else); nothing was changed.
    #[error(
        "trek's history is damaged: {table} row {row} has a {column} trek cannot read ({reason}); \
         fix or delete the row by hand, then run again"
    )]
    BadHistory {
        /// The table, schema-qualified: `trek.applied`.
        table: String,
        /// Which row: `id 7`, `key environment`.
        row: String,
        /// The column.
        column: String,
        /// What is wrong with the value.
        reason: String,
    },

    /// After undoing a divergence (a reset or a restore), the database still diverges from the
    /// migrations: the baseline dump or the snapshot holds history the migrations do not
    /// match. Nothing after the undo was applied.
    #[error(
        "after {undone}, the database still diverges from the migrations at {divergence}; \
         nothing more was applied. The baseline dump or snapshot records migrations these files \
         do not match: regenerate the dump (`cargo trek dump`) or restore the files"
    )]
    StillDiverges {
        /// What was done: `a reset to the baseline dump db/schema.sql`.
        undone: String,
        /// Where it still diverges, with why.
        divergence: String,
    },

    /// The database is stamped as production and the action would destroy something.
    #[error(
        "database `{database}` is stamped `{stamp}`; trek refuses to {action} on it. \
             If you really mean it, pass an override naming the database \
             (Migrator::allow_destructive_on(\"{database}\"), or --allow-destructive {database})"
    )]
    Protected {
        /// The database's name.
        database: String,
        /// Its stamp in `trek.meta`.
        stamp: String,
        /// What was refused.
        action: String,
    },

    /// `seed` was asked where it cannot run: the workflow runs no seeds, or more than seeds
    /// is pending.
    #[error("no seeds were applied: {reason}")]
    SeedsRefused {
        /// Why, and what to do.
        reason: String,
    },

    /// A revert needs a down script that was not captured when the migration was applied.
    #[error(
        "{label} has no down script recorded; nothing was reverted. Write the migration's \
             .down.sql before applying it next time, or reset the database"
    )]
    MissingDown {
        /// The migration without a down.
        label: String,
    },

    /// prod refuses to move forward while a migration is half-reverted: its non-transactional
    /// down failed (or was interrupted) halfway in an earlier `down`.
    #[error(
        "{label} is half-reverted: its down script, which runs outside a transaction, stopped \
         after {statements} of its statements in an earlier revert, so part of it is undone; prod \
         applies nothing on top of that. Finish it with `cargo trek down` (it continues at the \
         failing statement), or put back by hand what those statements undid and run `cargo trek \
         repair`"
    )]
    HalfReverted {
        /// The migration.
        label: String,
        /// How many statements of its down ran.
        statements: u32,
    },

    /// A revert reached a migration whose down script holds no statement (only comments, such
    /// as `-- Not reversible`): it was declared irreversible.
    #[error(
        "{label} cannot be reverted: its down script holds no statement, which declares it \
         irreversible; nothing was reverted. Revert to a version after it, or reset the database \
         (`cargo trek reset`, which loses its data)"
    )]
    Irreversible {
        /// The irreversible migration.
        label: String,
    },

    /// A version given to `--to`, `baseline` or `down` is not one of the migrations.
    #[error("version {version} is not one of the migrations{}", hint.as_deref().map_or(String::new(), |h| format!(" ({h})")))]
    UnknownVersion {
        /// The version asked for.
        version: String,
        /// Extra guidance.
        hint: Option<String>,
    },

    /// `baseline` was asked on a database that already has applied migrations.
    #[error(
        "cannot baseline: {applied} versioned migrations are already applied; baseline \
             adopts trek on a database trek has not touched"
    )]
    AlreadyApplied {
        /// How many versioned migrations are recorded.
        applied: usize,
    },

    /// qa: the database diverges from the migrations and no snapshot holds a state the
    /// migrations can roll forward from.
    #[error(
        "the database diverges from the migrations at {label} ({reason}), and none of its {count} \
         snapshot(s) holds a state the migrations can roll forward from (a snapshot qualifies \
         when what it had applied is a prefix of the migrations). Nothing was changed. Restore \
         the edited file, accept the edit with `cargo trek repair`, revert with `cargo trek down` \
         where down scripts were captured, or rebuild the database from a production dump with \
         `cargo trek restore --from-dump FILE`"
    )]
    NoSnapshot {
        /// The first differing applied item.
        label: String,
        /// Why it differs.
        reason: String,
        /// How many snapshots the catalogue has.
        count: usize,
    },

    /// A snapshot strategy needs the database to itself and other sessions are connected.
    #[error(
        "database `{database}` must be free of other sessions to be copied, and {} connected: \
         {}; close them, or let trek terminate them (--terminate-sessions, \
         Snapshots::terminate_sessions)",
        if sessions.len() == 1 { "1 session is".to_owned() } else { format!("{} sessions are", sessions.len()) },
        sessions.join("; ")
    )]
    DatabaseBusy {
        /// The database.
        database: String,
        /// The sessions connected to it.
        sessions: Vec<String>,
    },

    /// Reading or writing a file, or starting a program, failed.
    #[error("{context}")]
    Io {
        /// What trek was doing, with the path.
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A PostgreSQL client program (`pg_dump`, `pg_restore`, `psql`) or a team's snapshot
    /// command ran and failed.
    #[error("{context}: {program} failed ({status}){}", if output.is_empty() { String::new() } else { format!(": {output}") })]
    Program {
        /// What trek was doing.
        context: String,
        /// The program or command as configured (never with a password filled in).
        program: String,
        /// How it ended: `exit status: 1`.
        status: String,
        /// The first lines of its error output (passwords masked).
        output: String,
    },

    /// Taking, restoring or deleting a snapshot failed.
    #[error("{message}")]
    Snapshot {
        /// What failed and what to do.
        message: String,
    },

    /// The action needs sessions to other databases or client programs, and the migrator has
    /// no [`crate::Connect`].
    #[error(
        "{what} needs to reach the database server beyond the given client; \
         give the migrator a connector (Migrator::connector(trek::ConfigConnector::new(config, tls)))"
    )]
    NeedsConnector {
        /// The action.
        what: String,
    },

    /// The schema name given for trek's tables cannot be used as it is.
    #[error("trek's schema name {schema:?} cannot be used: {reason}")]
    BadSchemaName {
        /// The name.
        schema: String,
        /// Why.
        reason: String,
    },

    /// The server is older than the oldest PostgreSQL major trek supports (13).
    #[error(
        "the server runs PostgreSQL {version}, which trek does not support: trek needs \
             PostgreSQL 13 or later (13 to 18 are tested); upgrade the server"
    )]
    UnsupportedServer {
        /// The server's `server_version`.
        version: String,
    },

    /// A fleet target could not be reached (the caller's function that opens sessions
    /// failed).
    #[error("could not connect to {target}")]
    Connect {
        /// The target's name.
        target: String,
        /// Why, as the caller's function said (never with a password).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// No `pg_dump`, `pg_restore` and `psql` of the server's major or newer were found: the
    /// `pg_dump` snapshot strategy, dumps, drift and `restore` need them.
    #[error(
        "no pg_dump, pg_restore and psql of PostgreSQL {major} or newer were found (looked in \
         {places}); {hint}"
    )]
    MissingClientPrograms {
        /// The server's major version: `17`.
        major: String,
        /// Where trek looked, in order.
        places: String,
        /// What to do.
        hint: String,
    },
}

/// The kind of an [`Error`], for callers that branch on it or name it (the command line's exit
/// codes and `--json` `kind`), after ripgrep's `ErrorKind`. Stable names: [`ErrorKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::LockTimeout`].
    LockTimeout,
    /// [`Error::Migration`].
    MigrationFailed,
    /// [`Error::Database`].
    Database,
    /// [`Error::OutOfOrder`].
    OutOfOrder,
    /// [`Error::Modified`].
    Modified,
    /// [`Error::Failed`].
    FailedEarlier,
    /// [`Error::NoTransactionInBatch`].
    NoTransactionInBatch,
    /// [`Error::NewerLayout`].
    NewerLayout,
    /// [`Error::BadHistory`].
    BadHistory,
    /// [`Error::StillDiverges`].
    StillDiverges,
    /// [`Error::Protected`].
    Protected,
    /// [`Error::SeedsRefused`].
    SeedsRefused,
    /// [`Error::MissingDown`].
    MissingDown,
    /// [`Error::Irreversible`].
    Irreversible,
    /// [`Error::HalfReverted`].
    HalfReverted,
    /// [`Error::UnknownVersion`].
    UnknownVersion,
    /// [`Error::AlreadyApplied`].
    AlreadyApplied,
    /// [`Error::NoSnapshot`].
    NoSnapshot,
    /// [`Error::DatabaseBusy`].
    DatabaseBusy,
    /// [`Error::Io`].
    Io,
    /// [`Error::Program`].
    Program,
    /// [`Error::Snapshot`].
    Snapshot,
    /// [`Error::NeedsConnector`].
    NeedsConnector,
    /// [`Error::BadSchemaName`].
    BadSchemaName,
    /// [`Error::UnsupportedServer`].
    UnsupportedServer,
    /// [`Error::MissingClientPrograms`].
    MissingClientPrograms,
    /// [`Error::Connect`].
    Connect,
}

impl ErrorKind {
    /// A short, stable name: `lock_timeout`, `migration_failed`, `database`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::LockTimeout => "lock_timeout",
            ErrorKind::MigrationFailed => "migration_failed",
            ErrorKind::Database => "database",
            ErrorKind::OutOfOrder => "out_of_order",
            ErrorKind::Modified => "modified",
            ErrorKind::FailedEarlier => "failed_earlier",
            ErrorKind::NoTransactionInBatch => "no_transaction_in_batch",
            ErrorKind::NewerLayout => "newer_layout",
            ErrorKind::BadHistory => "bad_history",
            ErrorKind::StillDiverges => "still_diverges",
            ErrorKind::Protected => "protected",
            ErrorKind::SeedsRefused => "seeds_refused",
            ErrorKind::MissingDown => "missing_down",
            ErrorKind::Irreversible => "irreversible",
            ErrorKind::HalfReverted => "half_reverted",
            ErrorKind::UnknownVersion => "unknown_version",
            ErrorKind::AlreadyApplied => "already_applied",
            ErrorKind::NoSnapshot => "no_snapshot",
            ErrorKind::DatabaseBusy => "database_busy",
            ErrorKind::Io => "io",
            ErrorKind::Program => "program",
            ErrorKind::Snapshot => "snapshot",
            ErrorKind::NeedsConnector => "needs_connector",
            ErrorKind::BadSchemaName => "bad_schema_name",
            ErrorKind::UnsupportedServer => "unsupported_server",
            ErrorKind::MissingClientPrograms => "missing_client_programs",
            ErrorKind::Connect => "connect",
        }
    }

    /// Whether the error is the caller's input asking for what cannot be done (a version
    /// that is not a migration's, one transaction over a `no_transaction` migration, a
    /// schema name PostgreSQL would change), rather than work that failed.
    pub const fn is_bad_input(self) -> bool {
        matches!(
            self,
            ErrorKind::UnknownVersion | ErrorKind::NoTransactionInBatch | ErrorKind::BadSchemaName
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which script of a migration failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    /// The up script (applying).
    Up,
    /// The captured down script (reverting).
    Down,
}

impl Error {
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::LockTimeout { .. } => ErrorKind::LockTimeout,
            Error::Migration { .. } => ErrorKind::MigrationFailed,
            Error::Database { .. } => ErrorKind::Database,
            Error::OutOfOrder { .. } => ErrorKind::OutOfOrder,
            Error::Modified { .. } => ErrorKind::Modified,
            Error::Failed { .. } => ErrorKind::FailedEarlier,
            Error::NoTransactionInBatch { .. } => ErrorKind::NoTransactionInBatch,
            Error::NewerLayout { .. } => ErrorKind::NewerLayout,
            Error::BadHistory { .. } => ErrorKind::BadHistory,
            Error::StillDiverges { .. } => ErrorKind::StillDiverges,
            Error::Protected { .. } => ErrorKind::Protected,
            Error::SeedsRefused { .. } => ErrorKind::SeedsRefused,
            Error::MissingDown { .. } => ErrorKind::MissingDown,
            Error::Irreversible { .. } => ErrorKind::Irreversible,
            Error::HalfReverted { .. } => ErrorKind::HalfReverted,
            Error::UnknownVersion { .. } => ErrorKind::UnknownVersion,
            Error::AlreadyApplied { .. } => ErrorKind::AlreadyApplied,
            Error::NoSnapshot { .. } => ErrorKind::NoSnapshot,
            Error::DatabaseBusy { .. } => ErrorKind::DatabaseBusy,
            Error::Io { .. } => ErrorKind::Io,
            Error::Program { .. } => ErrorKind::Program,
            Error::Snapshot { .. } => ErrorKind::Snapshot,
            Error::NeedsConnector { .. } => ErrorKind::NeedsConnector,
            Error::BadSchemaName { .. } => ErrorKind::BadSchemaName,
            Error::UnsupportedServer { .. } => ErrorKind::UnsupportedServer,
            Error::MissingClientPrograms { .. } => ErrorKind::MissingClientPrograms,
            Error::Connect { .. } => ErrorKind::Connect,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A migration's error with trek's words added to its failure's note (so `hint` stays
    /// PostgreSQL's own): `note` is given the note so far, if any, and returns the new one.
    /// Any other error is returned as it is.
    pub(crate) fn with_note(mut self, note: impl FnOnce(Option<String>) -> String) -> Error {
        if let Error::Migration { failure, .. } = &mut self {
            failure.note = Some(note(failure.note.take()));
        }
        self
    }

    pub(crate) fn db(context: impl Into<String>, source: postgres::Error) -> Error {
        Error::Database {
            context: context.into(),
            source,
        }
    }
}

/// The first line of [`Error::Migration`].
fn migration_headline(label: &str, script: Script, halfway: bool) -> String {
    match (script, halfway) {
        (Script::Up, false) => format!("{label} failed and was not applied"),
        (Script::Up, true) => format!(
            "{label} failed halfway (it runs outside a transaction: the statements before the \
             failing one stay applied, and it is recorded as failed until repaired)"
        ),
        (Script::Down, false) => format!(
            "the down script of {label} failed and nothing of it was kept: {label} stays applied"
        ),
        (Script::Down, true) => format!(
            "the down script of {label} failed halfway (it runs outside a transaction: the \
             statements before the failing one stay done): {label} is recorded as half-reverted"
        ),
    }
}

/// `Result` with trek's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
