//! `cargo trek status [--check]`: every migration with its state in the database, then the
//! plan (what `up` would do now) and, for each migration edited since it was applied, a
//! unified diff of the script as applied against the file.

use trek::{Migrations, State, StatusEntry};

use crate::cli::StatusArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{human, json, paint, style, Printer};
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
    let diff_of = |entry: &StatusEntry| edit(ctx, &migrations, entry);
    if printer.json {
        printer.json(&json::status(&status, &db.url, |e| {
            diff_of(e).map(|(_, applied, file, path)| human::unified_diff(&applied, &file, &path))
        }))?;
    } else {
        for line in human::status(&status, &db.url) {
            printer.line(&line)?;
        }
        if !status.entries.is_empty() {
            printer.line("")?;
            for line in human::plan(&status.plan) {
                printer.line(&line)?;
            }
        }
        for entry in &status.entries {
            let Some((label, applied, file, path)) = diff_of(entry) else {
                if entry.state == State::Modified && entry.applied_sql.is_none() {
                    printer.line("")?;
                    printer.line(&format!(
                        "{} {}",
                        paint(style::BOLD, entry.label()),
                        paint(
                            style::DIM,
                            "was edited since it was applied; no diff: the database keeps \
                             scripts over 1 MiB (or from a dump) by checksum only"
                        )
                    ))?;
                }
                continue;
            };
            printer.line("")?;
            printer.line(&format!(
                "{} {}",
                paint(style::BOLD, label),
                paint(style::DIM, "was edited since it was applied:")
            ))?;
            for line in human::diff(&applied, &file, &path) {
                printer.line(&line)?;
            }
        }
    }
    for index in &status.invalid_indexes {
        printer.warn(&format!(
            "index {index} is INVALID (a CREATE INDEX CONCURRENTLY that failed): PostgreSQL never \
             uses it and a unique one enforces nothing; drop it (DROP INDEX CONCURRENTLY {index}) \
             and run the migration that creates it again"
        ));
    }
    if args.check && !status.is_up_to_date() {
        let mut counts: Vec<String> = [
            State::Pending,
            State::Modified,
            State::OutOfOrder,
            State::Missing,
            State::Failed,
            State::HalfReverted,
        ]
        .into_iter()
        .filter(|s| status.count(*s) > 0)
        .map(|s| format!("{} {s}", status.count(s)))
        .collect();
        if !status.invalid_indexes.is_empty() {
            counts.push(format!(
                "{} invalid index(es)",
                status.invalid_indexes.len()
            ));
        }
        return Ok(Exit::Problems {
            message: format!("the database is not up to date: {}", counts.join(", ")),
        });
    }
    Ok(Exit::Success)
}

/// For a modified entry whose applied script the database kept: its label, the script as
/// applied, the file now, and the file's path as people see it.
fn edit(
    ctx: &Context,
    migrations: &Migrations,
    entry: &StatusEntry,
) -> Option<(String, String, String, String)> {
    if entry.state != State::Modified {
        return None;
    }
    let applied = entry.applied_sql.as_deref()?;
    let path = entry.path.as_deref()?;
    let migration = migrations.all().iter().find(|m| m.path() == path)?;
    let shown = format!("{}/{path}", ctx.migrations_display());
    Some((
        migration.label(),
        applied.to_owned(),
        migration.sql().to_owned(),
        shown,
    ))
}
