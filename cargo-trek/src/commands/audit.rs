//! `cargo trek audit [--limit N] [--since TIME]`: the audit log, newest first.

use crate::cli::AuditArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{human, json, Printer};
use crate::Exit;

/// Runs `audit`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, or an audit log that cannot be read.
pub fn run(ctx: &Context, printer: &Printer, args: &AuditArgs) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let entries = ctx
        .migrator(&migrations)
        .audit_since(&mut db.client, args.limit, args.since.as_ref())
        .map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::audit(&entries, &db.url))?;
    } else {
        for line in human::audit(&entries) {
            printer.line(&line)?;
        }
    }
    Ok(Exit::Success)
}
