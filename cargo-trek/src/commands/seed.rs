//! `cargo trek seed`: applies the pending seeds alone, in the workflows that run seeds (dev and
//! qa; never prod), when every migration is applied. qa takes its snapshot first.

use crate::context::Context;
use crate::error::Error;
use crate::output::{human, json, progress, Printer};
use crate::Exit;

/// Runs `seed`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, a workflow without seeds, pending
/// migrations or a diverging database (`up` applies seeds after them), or a failing seed.
pub fn run(ctx: &Context, printer: &Printer) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let outcome = super::migrator(ctx, &migrations, &db).seed(&mut db.client);
    progress::clear_progress();
    let report = outcome.map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::report::<crate::json::SeedSchema>(&report, &db.url))?;
        return Ok(Exit::Success);
    }
    super::warnings(printer, &report.warnings);
    for snapshot in &report.snapshots {
        printer.note(&format!("took {}", ctx.show_snapshot(snapshot)));
    }
    for line in human::report(
        &report,
        "seeded",
        &format!("{} ({} workflow)", db.url, ctx.workflow),
        "has no pending seeds",
    ) {
        printer.line(&line)?;
    }
    Ok(Exit::Success)
}
