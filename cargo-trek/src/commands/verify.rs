//! `cargo trek verify`: checks the migrations folder offline — everything `trek-core` checks
//! (names, equal versions, downs without ups, directives, UTF-8, empty scripts) — and exits 1
//! with every problem when there is one.

use serde_json::json;
use trek::Kind;

use crate::context::Context;
use crate::error::Error;
use crate::output::human::plural;
use crate::output::{paint, style, Printer};
use crate::Exit;

/// Runs `verify`.
///
/// # Errors
/// [`Error::Output`] only: problems in the folder are this command's result (exit 1).
pub fn run(ctx: &Context, printer: &Printer) -> Result<Exit, Error> {
    let dir = ctx.migrations_display();
    let migrations = match ctx.load_migrations() {
        Ok(migrations) => migrations,
        Err(error @ Error::Source { .. }) => {
            let Error::Source { errors, .. } = &error else {
                return Err(error);
            };
            let message = format!("{} found in {dir}", plural(errors.0.len(), "problem"));
            if printer.json {
                let mut doc = error.to_json();
                let problems = doc["error"]["problems"].take();
                printer.json(&json!({
                    "ok": false,
                    "migrations": dir,
                    "problems": problems,
                }))?;
            } else {
                for e in errors.iter() {
                    let path = if e.path.is_relative() {
                        format!("{dir}/{}", e.path.display())
                    } else {
                        e.path.display().to_string()
                    };
                    let at = e.line.map(|l| format!(":{l}")).unwrap_or_default();
                    printer.line(&format!(
                        "{}{at}: {} {}",
                        paint(style::BOLD, path),
                        paint(style::ERROR, "error:"),
                        e.kind
                    ))?;
                }
            }
            return Ok(Exit::Problems { message });
        }
        Err(other) => return Err(other),
    };
    let count = |kind: Kind| migrations.all().iter().filter(|m| m.kind() == kind).count();
    let downs = migrations
        .all()
        .iter()
        .filter(|m| m.down().is_some())
        .count();
    if printer.json {
        printer.json(&json!({
            "ok": true,
            "migrations": dir,
            "versioned": count(Kind::Versioned),
            "repeatable": count(Kind::Repeatable),
            "seeds": count(Kind::Seed),
            "scripts": migrations.all().iter().map(|m| json!({
                "kind": m.kind().as_str(),
                "version": m.version().map(|v| v.as_str()),
                "name": m.name(),
                "path": m.path(),
                "checksum": m.checksum().as_str(),
                "down": m.down().map(|d| d.path()),
                "no_transaction": m.directives().no_transaction,
            })).collect::<Vec<_>>(),
        }))?;
    } else {
        printer.line(&format!(
            "{} {dir}: {}, {} ({} with a down script), {}",
            paint(style::GOOD, "ok"),
            plural(count(Kind::Versioned), "migration"),
            plural(count(Kind::Repeatable), "repeatable"),
            downs,
            plural(count(Kind::Seed), "seed"),
        ))?;
    }
    Ok(Exit::Success)
}
