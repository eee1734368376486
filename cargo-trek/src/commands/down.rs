//! `cargo trek down [--to VERSION | --steps N]`: reverts applied migrations newest first, with
//! the down scripts captured when they were applied (default: one step).

use trek::Revert;

use crate::cli::DownArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{human, json, progress, Printer};
use crate::Exit;

/// Runs `down`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, a migration without a captured down
/// script (nothing is reverted), a database stamped prod without `--allow-destructive`, or a
/// failing down script.
pub fn run(ctx: &Context, printer: &Printer, args: &DownArgs) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let how = match (&args.to, args.steps) {
        (Some(version), _) => Revert::To(version.clone()),
        (None, steps) => Revert::Steps(steps.map_or(1, |n| n as usize)),
    };
    let mut migrator = ctx.migrator(&migrations);
    if let Some(database) = &args.allow_destructive {
        migrator = migrator.allow_destructive_on(database.clone());
    }
    let outcome = migrator.revert(&mut db.client, how);
    progress::clear_progress();
    let report = outcome.map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::report::<crate::json::DownSchema>(&report, &db.url))?;
    } else {
        super::warnings(printer, &report.warnings);
        for line in human::report(&report, "reverted", &db.url, "has nothing to revert") {
            printer.line(&line)?;
        }
    }
    Ok(Exit::Success)
}
