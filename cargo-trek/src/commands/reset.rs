//! `cargo trek reset`: rebuilds the database from nothing — drops the managed schemas (or, with
//! `reset = "database"`, the whole database) and applies every migration, then repeatables and
//! the seeds of workflows that run them. trek's audit log survives. A database stamped prod
//! refuses unless named with `--allow-destructive`.

use crate::cli::ResetArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{human, json, paint, progress, style, Printer};
use crate::Exit;

/// Runs `reset`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, a database stamped prod (or a prod
/// environment) without `--allow-destructive`, or a failing migration.
pub fn run(ctx: &Context, printer: &Printer, args: &ResetArgs) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let mut migrator = super::migrator(ctx, &migrations, &db);
    if let Some(database) = &args.allow_destructive {
        migrator = migrator.allow_destructive_on(database.clone());
    }
    tracing::info!(database = %db.url, reset = ?ctx.reset, "resetting");
    let outcome = migrator.reset(&mut db.client);
    progress::clear_progress();
    let report = outcome.map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::report::<crate::json::ResetSchema>(&report, &db.url))?;
        return Ok(Exit::Success);
    }
    super::warnings(printer, &report.warnings);
    let what = match ctx.reset.unwrap_or_default() {
        // `cargo trek reset` starts from nothing: with prefix templates too, it drops the
        // schemas.
        crate::config::ResetConfig::Schemas | crate::config::ResetConfig::Template => {
            match &ctx.schemas {
                Some(schemas) => format!("dropped the schemas {}", schemas.join(", ")),
                None => "dropped every schema but trek's".to_owned(),
            }
        }
        crate::config::ResetConfig::Database => "dropped and recreated the database".to_owned(),
    };
    printer.line(&format!(
        "{} {} {}",
        paint(style::GOOD, "reset"),
        db.name,
        paint(style::DIM, format!("({what})"))
    ))?;
    for line in human::report(
        &report,
        "applied",
        &format!("{} ({} workflow)", db.url, ctx.workflow),
        "has no migrations to apply",
    ) {
        printer.line(&line)?;
    }
    Ok(Exit::Success)
}
