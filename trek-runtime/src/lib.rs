//! trek: PostgreSQL migrations for Rust, with a workflow per environment.
//!
//! An application embeds its migrations folder with [`embed!`] and migrates its own database at
//! start-up with a [`Migrator`]. The engine keeps its history in its own schema (`trek` by
//! default: `trek.applied`, `trek.audit`, `trek.meta`), holds a session advisory lock for the
//! whole run so many instances can start at once, and applies each migration and its history
//! row in one transaction (one round trip).
//!
//! - [`Migrator`]: runs a [`Workflow`] ([`Migrator::run`] → [`Report`]), reports
//!   [`Migrator::status`], reverts with captured down scripts, repairs, baselines.
//! - [`Error`]: one error type whose variants a caller can match; a failed statement carries
//!   [`SqlFailure`] with SQLSTATE, message, detail, hint and the file, line and column.
//! - The model re-exported from `trek-core`: [`Migrations`], [`Migration`], [`Version`], ...
//! - [`postgres`]: the driver, re-exported so applications use the matching version.
//!
//! Beside the engine, in crates of their own that depend on it and never the other way round:
//! `trek-local-server` (a private PostgreSQL cluster per project, started on demand) and
//! `trek-testing` (`trek_testing::TestDb`: a fresh migrated database per test, cloned in
//! milliseconds from a template migrated once per migration set).
//!
//! ```no_run
//! static MIGRATIONS: trek::Migrations = trek::embed!("../examples/app/migrations");
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let url = std::env::var("DATABASE_URL")?;
//!     let mut client = trek::postgres::Client::connect(&url, trek::postgres::NoTls)?;
//!     let report = trek::Migrator::new(&MIGRATIONS)
//!         .workflow(trek::Workflow::Prod)
//!         .run(&mut client)?;
//!     for warning in &report.warnings {
//!         eprintln!("warning: {warning}");
//!     }
//!     Ok(())
//! }
//! ```
//!
//! The library logs through `tracing` and records through `metrics`
//! (`trek_migrations_applied_total`, `trek_migration_duration_seconds`,
//! `trek_migration_failures_total`, `trek_migrations_reverted_total`,
//! `trek_lock_wait_seconds`, and the gauge `trek_migrations_pending`, set by
//! [`Migrator::status`] and after [`Migrator::run`]); both are silent until the application
//! installs a subscriber or recorder. It never prints.
#![deny(missing_docs)]

mod apply;
mod asynchronous;
mod connect;
mod db_error;
pub mod drift;
mod dry_run;
mod dump;
mod error;
mod event;
pub mod fleet;
mod history;
pub mod lint;
mod lock;
mod migrator;
mod plan;
mod report;
mod reset;
mod schemas;
mod session;
mod snapshot;
mod sql;
mod stale;
mod status;
mod timestamp;
mod workflow;

pub use asynchronous::Pending;
pub use connect::{percent_encode, ConfigConnector, Connect};
pub use db_error::{describe as describe_postgres_error, error_chain, SqlFailure};
pub use dry_run::{DryRun, LockTaken, Outcome, Rewrite, Simulated, StatementRun};
pub use dump::{normalize as normalize_dump, DumpOptions, DEFAULT_DUMP_ARGS, HISTORY_MARKER};
pub use error::{Error, ErrorKind, Result, Script};
pub use event::Event;
pub use fleet::{Fleet, FleetReport, Target};
pub use history::{AppliedRow, AuditEntry, AuditSince, STORED_SCRIPT_LIMIT};
pub use lock::{default_lock_key, LockHolder};
pub use migrator::{Migrator, RepairReport, Revert};
pub use plan::view::{Divergence, Plan, PlannedScript, PlannedStep, StepAction, Undo};
pub use report::{PrefixTemplateUse, Report, Step, Warning};
pub use reset::ResetMode;
pub use snapshot::{OrphanSnapshot, SnapshotInfo, SnapshotStrategy, Snapshots, TemplateCopy};
pub use sql::{quote_ident, quote_literal};
pub use status::{State, Status, StatusEntry};
pub use timestamp::Timestamp;
pub use workflow::{TransactionMode, UnknownWorkflow, Workflow};

pub use postgres;
pub use trek_core::{
    split, Checksum, Directives, Down, Kind, Location, Migration, Migrations, SourceError,
    SourceErrors, Version,
};
pub use trek_macros::embed;

/// This trek's version, as recorded in the audit log and `trek.applied`.
pub const TREK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The layout of trek's own tables this trek writes (recorded in `trek.meta`); a database whose
/// layout is newer is refused ([`Error::NewerLayout`]).
pub const LAYOUT_VERSION: u32 = history::meta::LAYOUT_VERSION;

/// Items the `embed!` macro's expansion refers to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use std::borrow::Cow;
    pub use trek_core::{Checksum, Directives, Down, Kind, Migration, Migrations, Version};
}
