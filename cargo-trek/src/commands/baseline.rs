//! `cargo trek baseline --to VERSION`: adopts trek on an existing database by recording every
//! migration up to VERSION as applied without running it (audited as `baseline`).

use crate::cli::BaselineArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{human, json, Printer};
use crate::Exit;

/// Runs `baseline`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, a VERSION that is not a migration's
/// (exit 2), or a database that already has applied migrations.
pub fn run(ctx: &Context, printer: &Printer, args: &BaselineArgs) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let report = ctx
        .migrator(&migrations)
        .baseline(&mut db.client, &args.to)
        .map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::report::<crate::json::BaselineSchema>(
            &report, &db.url,
        ))?;
    } else {
        for line in human::report(&report, "recorded", &db.url, "has nothing to record") {
            printer.line(&line)?;
        }
    }
    Ok(Exit::Success)
}
