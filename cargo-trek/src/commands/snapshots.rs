//! `cargo trek snapshots [list | prune [--keep N]]`: the qa snapshot catalogue. `list` (the
//! default) shows every snapshot, oldest first; `prune` deletes all but the newest N (the
//! environment's `keep` unless `--keep` says), files and snapshot databases included.

use trek::Workflow;

use crate::cli::{SnapshotsArgs, SnapshotsCommand};
use crate::context::Context;
use crate::error::Error;
use crate::json as doc;
use crate::output::{human, json, paint, style, Printer};
use crate::Exit;

/// Runs `snapshots`.
///
/// # Errors
/// `prune` without `--keep` in an environment without `keep` (exit 2); a bad migrations
/// folder, an unreachable database, or a snapshot that cannot be deleted.
pub fn run(ctx: &Context, printer: &Printer, args: &SnapshotsArgs) -> Result<Exit, Error> {
    match &args.command {
        Some(SnapshotsCommand::List(list)) if list.orphans => return orphans(ctx, printer, false),
        Some(SnapshotsCommand::Prune(prune)) if prune.orphans => {
            return orphans(ctx, printer, true)
        }
        _ => {}
    }
    let keep = match &args.command {
        Some(SnapshotsCommand::Prune(prune)) => {
            let hint = match (ctx.workflow, ctx.env.as_deref()) {
                (Workflow::Qa, Some(env)) => {
                    format!(", or set keep in the snapshot table of [env.{env}] in Trek.toml")
                }
                _ => String::new(),
            };
            Some(
                prune
                    .keep
                    .or(ctx.snapshot_keep())
                    .ok_or_else(|| Error::Usage {
                        message: format!(
                            "how many snapshots should prune keep? pass --keep N{hint}"
                        ),
                    })?,
            )
        }
        Some(SnapshotsCommand::List(_)) | None => None,
    };
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    if ctx.workflow != Workflow::Qa {
        printer.note(&format!(
            "the {} workflow takes no snapshots; only a qa environment does",
            ctx.workflow
        ));
    }
    let migrator = super::migrator(ctx, &migrations, &db);
    match keep {
        None => {
            let list = migrator
                .list_snapshots(&mut db.client)
                .map_err(super::runtime(ctx))?;
            if printer.json {
                printer.json(&doc::SnapshotsList {
                    schema: doc::SnapshotsListSchema,
                    database: db.url.clone(),
                    snapshots: list.iter().map(json::snapshot).collect(),
                })?;
            } else {
                let list: Vec<_> = list.iter().map(|s| ctx.show_snapshot(s)).collect();
                for line in human::snapshots(&list, &db.url) {
                    printer.line(&line)?;
                }
            }
        }
        Some(keep) => {
            let deleted = migrator
                .prune_snapshots(&mut db.client, keep)
                .map_err(super::runtime(ctx))?;
            if printer.json {
                printer.json(&doc::SnapshotsPrune {
                    schema: doc::SnapshotsPruneSchema,
                    database: db.url.clone(),
                    keep,
                    deleted: deleted.iter().map(json::snapshot).collect(),
                })?;
            } else {
                for s in deleted.iter().map(|s| ctx.show_snapshot(s)) {
                    printer.line(&format!(
                        "{} snapshot #{} ({}, {}) {}",
                        paint(style::GOOD, "deleted"),
                        s.id,
                        s.label,
                        s.strategy,
                        paint(style::DIM, format!("at {}", s.location))
                    ))?;
                }
                printer.line(&paint(
                    style::BOLD,
                    format!(
                        "deleted {} on {}, keeping the newest {keep}",
                        human::plural(deleted.len(), "snapshot"),
                        db.url
                    ),
                ))?;
            }
        }
    }
    Ok(Exit::Success)
}

/// `snapshots list --orphans` and `snapshots prune --orphans`: leftover snapshots no catalogue
/// knows (databases and dump files named as trek names this database's snapshots).
fn orphans(ctx: &Context, printer: &Printer, delete: bool) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let migrator = super::migrator(ctx, &migrations, &db);
    let found = if delete {
        migrator.prune_orphan_snapshots(&mut db.client)
    } else {
        migrator.orphan_snapshots(&mut db.client)
    }
    .map_err(super::runtime(ctx))?;
    if printer.json {
        printer.json(&doc::SnapshotsOrphans {
            schema: doc::SnapshotsOrphansSchema,
            database: db.url.clone(),
            deleted: delete,
            orphans: found
                .iter()
                .map(|o| doc::Orphan {
                    strategy: o.strategy.clone(),
                    location: o.location.clone(),
                })
                .collect(),
        })?;
        return Ok(Exit::Success);
    }
    for orphan in &found {
        printer.line(&format!(
            "{} {} {}",
            if delete {
                paint(style::GOOD, "deleted")
            } else {
                paint(style::WARN, "leftover")
            },
            orphan.location,
            paint(style::DIM, format!("({})", orphan.strategy))
        ))?;
    }
    printer.line(&paint(
        style::BOLD,
        format!(
            "{} {} no catalogue knows on {}{}",
            if delete { "deleted" } else { "found" },
            human::plural(found.len(), "leftover snapshot"),
            db.url,
            if !delete && !found.is_empty() {
                "; delete them with `cargo trek snapshots prune --orphans`"
            } else {
                ""
            }
        ),
    ))?;
    Ok(Exit::Success)
}
