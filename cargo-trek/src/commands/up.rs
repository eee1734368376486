//! `cargo trek up`: runs the environment's workflow — prod applies pending migrations and
//! never rewinds; dev also rewinds edited ones (or resets the database when it cannot) and
//! runs seeds; qa snapshots the database first, and restores the snapshot taken before an
//! edited migration. The output says which path the run took and which snapshots it took.

use crate::cli::UpArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{dry_run, human, json, progress, Printer};
use crate::Exit;

/// Runs `up`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, or the runtime's refusal or failure
/// (a failed statement is shown with its file, line and column).
pub fn run(ctx: &Context, printer: &Printer, args: &UpArgs) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let mut migrator = super::migrator(ctx, &migrations, &db);
    if let Some(version) = &args.to {
        migrator = migrator.target(version.clone());
    }
    if args.strict {
        migrator = migrator.strict();
    }
    if args.allow_out_of_order {
        migrator = migrator.allow_out_of_order();
    }
    if let Some(mode) = args.transaction {
        migrator = migrator.transaction(mode.into());
    }
    if let Some(database) = &args.allow_destructive {
        migrator = migrator.allow_destructive_on(database.clone());
    }
    if args.terminate_sessions {
        migrator = migrator.terminate_sessions(true);
    }
    if args.dry_run {
        let dry = migrator
            .dry_run(&mut db.client)
            .map_err(super::runtime(ctx))?;
        if printer.json {
            printer.json(&dry_run::json(&dry, &db.url))?;
        } else {
            for line in dry_run::text(&dry, &db.url) {
                printer.line(&line)?;
            }
        }
        return Ok(Exit::Success);
    }
    tracing::info!(workflow = %ctx.workflow, database = %db.url, "running");
    let outcome = migrator.run(&mut db.client);
    progress::clear_progress();
    let report = outcome.map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::report::<crate::json::UpSchema>(&report, &db.url))?;
    } else {
        super::warnings(printer, &report.warnings);
        if !printer.quiet {
            if let Some(line) = report.plan.as_ref().and_then(human::path_taken) {
                printer.line(&line)?;
            }
            if let Some(used) = &report.prefix_template {
                printer.line(&human::prefix_template(used))?;
            }
            for snapshot in &report.snapshots {
                printer.line(&human::snapshot_taken(&ctx.show_snapshot(snapshot)))?;
            }
        }
        let lines = human::report(
            &report,
            "applied",
            &format!("{} ({} workflow)", db.url, ctx.workflow),
            "is up to date",
        );
        // `-q`: the outcome's one summary line, not a line per script.
        let skip = if printer.quiet {
            lines.len().saturating_sub(1)
        } else {
            0
        };
        for line in lines.iter().skip(skip) {
            printer.line(line)?;
        }
    }
    Ok(Exit::Success)
}
