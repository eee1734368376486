//! `cargo trek repair`: accepts the current files of edited applied migrations as the truth and
//! clears migrations that failed halfway so the next run retries them; audited.

use crate::context::Context;
use crate::error::Error;
use crate::json;
use crate::output::{paint, style, Printer};
use crate::Exit;

/// Runs `repair`.
///
/// # Errors
/// A bad migrations folder, an unreachable database, or a history that cannot be written.
pub fn run(ctx: &Context, printer: &Printer) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let repaired = ctx
        .migrator(&migrations)
        .repair(&mut db.client)
        .map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&json::Repair {
            schema: json::RepairSchema,
            database: db.url,
            accepted: repaired.accepted,
            cleared: repaired.cleared,
        })?;
        return Ok(Exit::Success);
    }
    if repaired.is_empty() {
        printer.line(&format!("nothing to repair on {}", db.url))?;
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
