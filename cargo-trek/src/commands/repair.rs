//! `cargo trek repair`: accepts the current files of edited applied migrations as the truth and
//! clears migrations that failed halfway so the next run retries them; with `--downs`, replaces
//! the captured down scripts with the files instead. Audited.

use crate::cli::RepairArgs;
use crate::context::Context;
use crate::error::Error;
use crate::json;
use crate::output::{paint, style, Printer};
use crate::Exit;

/// Runs `repair`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, or a history that cannot be written.
pub fn run(ctx: &Context, args: &RepairArgs, printer: &Printer) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let migrator = ctx.migrator(&migrations);
    let repaired = if args.downs {
        migrator.refresh_downs(&mut db.client)
    } else {
        migrator.repair(&mut db.client)
    }
    .map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::Repair {
            schema: json::RepairSchema,
            database: db.url,
            accepted: repaired.accepted,
            cleared: repaired.cleared,
            downs_refreshed: repaired.downs_refreshed,
            stale_downs: repaired.stale_downs,
        })?;
        return Ok(Exit::Success);
    }
    if repaired.is_empty() {
        let what = if args.downs {
            "every captured down script matches its file"
        } else {
            "nothing to repair"
        };
        printer.line(&format!("{what} on {}", db.url))?;
    }
    if !repaired.stale_downs.is_empty() {
        printer.line(&format!(
            "{} the down files of {} differ from the down scripts captured when they were \
             applied (a rewind runs the captured ones); `cargo trek repair --downs` replaces them",
            paint(style::WARN, "note:"),
            repaired.stale_downs.join(", ")
        ))?;
    }
    for label in &repaired.downs_refreshed {
        printer.line(&format!(
            "{} {label} {}",
            paint(style::GOOD, "refreshed"),
            paint(style::DIM, "(the captured down script is now the file's)")
        ))?;
    }
    for label in &repaired.accepted {
        printer.line(&format!(
            "{} {label} {}",
            paint(style::GOOD, "accepted"),
            paint(style::DIM, "(recorded the edited file's checksum)")
        ))?;
    }
    for label in &repaired.cleared {
        printer.line(&format!(
            "{} {label} {}",
            paint(style::GOOD, " cleared"),
            paint(style::DIM, "(failed earlier; the next run retries it)")
        ))?;
    }
    Ok(Exit::Success)
}
