//! `cargo trek restore --from-dump FILE`: replaces the database's managed schemas and trek's
//! history with a dump (production's, from `cargo trek dump`), in one transaction, so the
//! environment's workflow then rolls forward what production does not have yet. The database
//! keeps its own environment stamp and audit log; a database stamped prod refuses unless named
//! with `--allow-destructive`.

use crate::cli::RestoreArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{human, paint, style, Printer};
use crate::Exit;

/// Runs `restore`.
///
/// # Errors
/// A missing dump, an unreachable database, a protected database, or a dump that does not
/// replay (nothing changes).
pub fn run(ctx: &Context, printer: &Printer, args: &RestoreArgs) -> Result<Exit, Error> {
    // A dump that is not there is bad input (exit 2), found before connecting.
    match std::fs::metadata(&args.from_dump) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Usage {
                message: format!(
                    "--from-dump {}: no such file; give the path of a dump from `cargo trek dump`",
                    ctx.show_path(&args.from_dump)
                ),
            })
        }
        other => {
            other.map_err(Error::io("read", &args.from_dump))?;
        }
    }
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let mut migrator = super::migrator(ctx, &migrations, &db);
    if let Some(database) = &args.allow_destructive {
        migrator = migrator.allow_destructive_on(database.clone());
    }
    let dump = std::path::absolute(&args.from_dump).map_err(Error::io("read", &args.from_dump))?;
    migrator
        .restore_dump(&mut db.client, &dump)
        .map_err(super::runtime(ctx))?;
    let status = migrator
        .status(&mut db.client)
        .map_err(super::runtime(ctx))?;
    let pending = status.plan.apply.len();
    if printer.json {
        printer.json(&crate::json::Restore {
            schema: crate::json::RestoreSchema,
            database: db.url.clone(),
            restored_from: ctx.show_path(&args.from_dump),
            pending,
        })?;
    } else {
        printer.line(&format!(
            "{} {} {}",
            paint(style::GOOD, "restored"),
            db.url,
            paint(
                style::DIM,
                format!("from {}", ctx.show_path(&args.from_dump))
            )
        ))?;
        for line in human::plan(&status.plan) {
            printer.line(&line)?;
        }
        if !status.plan.is_noop() {
            printer.line(&format!(
                "run `cargo trek up{}` to roll forward",
                ctx.env
                    .as_deref()
                    .map_or_else(String::new, |e| format!(" --env {e}"))
            ))?;
        }
    }
    Ok(Exit::Success)
}
