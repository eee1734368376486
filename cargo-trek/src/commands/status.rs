//! `cargo trek status [--check]`: every migration with its state in the database.

use crate::cli::StatusArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{human, json, Printer};
use crate::Exit;

/// Runs `status`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, or a history that cannot be read.
pub fn run(ctx: &Context, printer: &Printer, args: &StatusArgs) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let status = ctx
        .migrator(&migrations)
        .status(&mut db.client)
        .map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::status(&status, &db.url))?;
    } else {
        for line in human::status(&status, &db.url) {
            printer.line(&line)?;
        }
    }
    if args.check && !status.is_up_to_date() {
        let counts: Vec<String> = [
            trek::State::Pending,
            trek::State::Modified,
            trek::State::OutOfOrder,
            trek::State::Missing,
            trek::State::Failed,
        ]
        .into_iter()
        .filter(|s| status.count(*s) > 0)
        .map(|s| format!("{} {s}", status.count(s)))
        .collect();
        return Ok(Exit::Problems {
            message: format!("the database is not up to date: {}", counts.join(", ")),
        });
    }
    Ok(Exit::Success)
}
