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
        Some(SnapshotsCommand::List) | None => None,
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
