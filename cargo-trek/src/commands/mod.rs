//! One module per command; each exposes `run(ctx, printer, args) -> Result<Exit, Error>`.

pub mod audit;
pub mod baseline;
pub mod completions;
pub mod db;
pub mod down;
pub mod drift;
pub mod dump;
pub mod fleet;
pub mod import;
pub mod init;
pub mod lint;
pub mod new;
pub mod repair;
pub mod reset;
pub mod restore;
pub mod seed;
pub mod snapshots;
pub mod status;
pub mod up;
pub mod verify;
pub mod watch;

use trek::{Migrations, Migrator};

use crate::context::Context;
use crate::database::{self, Connection};
use crate::error::Error;
use crate::output::Printer;

/// What the database commands start from: the migrations read from disk (checked first, so a
/// bad folder is reported without touching the database) and an open connection.
fn prepare(ctx: &Context, printer: &Printer) -> Result<(Migrations, Connection), Error> {
    let migrations = ctx.load_migrations()?;
    let connection = database::connect(ctx, printer)?;
    Ok((migrations, connection))
}

/// The context's migrator, able to reach the other databases of `db`'s server (what
/// snapshots, restores and resets need).
fn migrator<'m>(ctx: &Context, migrations: &'m Migrations, db: &Connection) -> Migrator<'m> {
    ctx.migrator(migrations).connector(db.connector.clone())
}

/// Wraps a runtime error with what makes it readable here.
fn runtime(ctx: &Context) -> impl Fn(trek::Error) -> Error + '_ {
    move |error| Error::Runtime {
        error: Box::new(error),
        migrations: ctx.migrations_display(),
    }
}

/// Prints a run's warnings (people only: `--json` carries them in the document).
fn warnings(printer: &Printer, warnings: &[trek::Warning]) {
    for warning in warnings {
        printer.warn(&warning.to_string());
    }
}
