//! What `fleet up` and `fleet status` print: the `--json` documents, built first, and the
//! human tables, drawn from them.

use std::collections::BTreeMap;
use std::time::Duration;

use trek::fleet::Outcome;
use trek::{FleetReport, Kind, Migrations, Plan, State, Status, Target};

use crate::context::Context;
use crate::error::Error;
use crate::fleet_config::Fleet as FleetConfig;
use crate::json as doc;
use crate::output::json::{millis, workflow};
use crate::output::Printer;

/// A target's error as `--json` shows it, with the migrations folder in its paths.
fn error_json(ctx: &Context, error: trek::Error) -> doc::Error {
    Error::Runtime {
        error: Box::new(error),
        migrations: ctx.migrations_display(),
    }
    .to_json()
    .error
}

fn target_fields(target: &Target) -> (String, String, Option<String>) {
    (
        target.name.clone(),
        target.server.clone(),
        target.schema.clone(),
    )
}

/// The document of a fleet run.
pub fn up(ctx: &Context, fleet: &FleetConfig, report: FleetReport) -> doc::FleetUp {
    let duration = report.duration;
    let targets = report
        .targets
        .into_iter()
        .map(|run| {
            let (name, server, tenant_schema) = target_fields(&run.target);
            let mut entry = doc::FleetTarget {
                name,
                server,
                tenant_schema,
                result: doc::FleetResult::Skipped,
                applied: Vec::new(),
                reverted: Vec::new(),
                undo: None,
                error: None,
                skipped_because: None,
                duration_ms: millis(run.duration),
            };
            match run.outcome {
                Outcome::Migrated(report) => {
                    entry.result = if report.is_noop() {
                        doc::FleetResult::UpToDate
                    } else {
                        doc::FleetResult::Migrated
                    };
                    entry.applied = report.applied.iter().map(ToString::to_string).collect();
                    entry.reverted = report.reverted.iter().map(ToString::to_string).collect();
                    entry.undo = report.plan.as_ref().and_then(undo);
                }
                Outcome::Failed(error) => {
                    entry.result = doc::FleetResult::Failed;
                    if let trek::Error::Migration { before, .. } = &error {
                        entry.applied = before.applied.iter().map(ToString::to_string).collect();
                    }
                    entry.error = Some(error_json(ctx, error));
                }
                Outcome::Skipped(why) => entry.skipped_because = Some(why),
                _ => {}
            }
            entry
        })
        .collect();
    document(fleet, false, targets, duration)
}

/// The document of `fleet up --dry-run`.
pub fn dry_run(
    ctx: &Context,
    fleet: &FleetConfig,
    plans: Vec<(Target, trek::Result<Plan>)>,
    duration: Duration,
) -> doc::FleetUp {
    let targets = plans
        .into_iter()
        .map(|(target, plan)| {
            let (name, server, tenant_schema) = target_fields(&target);
            let mut entry = doc::FleetTarget {
                name,
                server,
                tenant_schema,
                result: doc::FleetResult::UpToDate,
                applied: Vec::new(),
                reverted: Vec::new(),
                undo: None,
                error: None,
                skipped_because: None,
                duration_ms: 0,
            };
            match plan {
                Ok(plan) => {
                    entry.applied = plan.apply.iter().map(ToString::to_string).collect();
                    entry.undo = undo(&plan);
                    if !plan.apply.is_empty() || entry.undo.is_some() {
                        entry.result = doc::FleetResult::WouldApply;
                    }
                }
                Err(e) => {
                    entry.result = doc::FleetResult::Failed;
                    entry.error = Some(error_json(ctx, e));
                }
            }
            entry
        })
        .collect();
    document(fleet, true, targets, duration)
}

/// How a plan undoes edited migrations before applying, in words; `None` when it does not.
fn undo(plan: &Plan) -> Option<String> {
    let because = plan
        .divergence
        .as_ref()
        .map(|d| format!(" ({}: {})", d.label, d.reason))
        .unwrap_or_default();
    match &plan.undo {
        trek::Undo::Rewind { scripts } => Some(format!(
            "rewind {} with captured down scripts{because}",
            crate::output::human::plural(scripts.len(), "script")
        )),
        trek::Undo::Reset { reason, .. } => Some(format!("reset: {reason}")),
        trek::Undo::Restore { snapshot } => Some(format!(
            "restore snapshot #{} ({}){because}",
            snapshot.id, snapshot.label
        )),
        _ => None,
    }
}

fn document(
    fleet: &FleetConfig,
    dry_run: bool,
    targets: Vec<doc::FleetTarget>,
    duration: Duration,
) -> doc::FleetUp {
    let count = |result: doc::FleetResult| targets.iter().filter(|t| t.result == result).count();
    let counts = doc::FleetCounts {
        targets: targets.len(),
        migrated: count(doc::FleetResult::Migrated) + count(doc::FleetResult::WouldApply),
        up_to_date: count(doc::FleetResult::UpToDate),
        failed: count(doc::FleetResult::Failed),
        skipped: count(doc::FleetResult::Skipped),
    };
    doc::FleetUp {
        schema: doc::FleetUpSchema,
        fleet: fleet.name.clone(),
        workflow: workflow(fleet.workflow),
        dry_run,
        targets,
        counts,
        duration_ms: millis(duration),
    }
}

/// One line saying why a target failed: `0003 add_orders: migrations/0003_add_orders.sql:2:
/// relation "orders" already exists`, else the error's first line.
fn failure_line(error: &doc::Error) -> String {
    match (&error.migration, &error.sql) {
        (Some(migration), Some(sql)) => format!(
            "{migration}: {}{}: {}",
            sql.path,
            sql.line.map(|l| format!(":{l}")).unwrap_or_default(),
            sql.message
        ),
        _ => error.message.lines().next().unwrap_or_default().to_owned(),
    }
}

fn ms(ms: u64) -> String {
    if ms >= 1_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

/// `: a, b, c` for up to 5 names, then `and N more`.
pub fn names(names: &[&str]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = names.iter().take(5).copied().collect();
    let more = names.len().saturating_sub(shown.len());
    format!(
        ": {}{}",
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// Prints a fleet run: the document with `--json`, else a table of the targets.
///
/// # Errors
/// [`Error::Output`] when stdout cannot be written.
pub fn print_up(printer: &Printer, doc: &doc::FleetUp) -> Result<(), Error> {
    if printer.json {
        return printer.json(doc);
    }
    let width = doc
        .targets
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    printer.line(&format!(
        "fleet {} ({}{}): {} targets in {}",
        doc.fleet,
        match doc.workflow {
            doc::Workflow::Dev => "dev",
            doc::Workflow::Qa => "qa",
            doc::Workflow::Prod => "prod",
        },
        if doc.dry_run { ", dry run" } else { "" },
        doc.counts.targets,
        ms(doc.duration_ms)
    ))?;
    for t in &doc.targets {
        let result = match t.result {
            doc::FleetResult::Migrated => format!(
                "applied {}{}",
                t.applied.len(),
                if t.reverted.is_empty() {
                    String::new()
                } else {
                    format!(", reverted {}", t.reverted.len())
                }
            ),
            doc::FleetResult::WouldApply => format!(
                "would apply {}{}",
                t.applied.len(),
                match (t.applied.first(), t.applied.last()) {
                    (Some(first), Some(last)) if t.applied.len() > 1 => {
                        format!(" ({first} … {last})")
                    }
                    (Some(first), _) => format!(" ({first})"),
                    _ => String::new(),
                }
            ),
            doc::FleetResult::UpToDate => "up to date".to_owned(),
            doc::FleetResult::Failed => format!(
                "failed{}: {}",
                if t.applied.is_empty() {
                    String::new()
                } else {
                    format!(" after applying {}", t.applied.len())
                },
                t.error.as_ref().map(failure_line).unwrap_or_default()
            ),
            doc::FleetResult::Skipped => format!(
                "not started: {}",
                t.skipped_because.as_deref().unwrap_or_default()
            ),
        };
        let result = match &t.undo {
            Some(undo) => format!("{undo}; {result}"),
            None => result,
        };
        let time = if t.result == doc::FleetResult::Skipped || doc.dry_run {
            String::new()
        } else {
            format!("  ({})", ms(t.duration_ms))
        };
        printer.line(&format!("  {:<width$}  {result}{time}", t.name))?;
    }
    let c = &doc.counts;
    printer.line(&format!(
        "{} targets: {} {}, {} up to date, {} failed, {} not started",
        c.targets,
        c.migrated,
        if doc.dry_run {
            "would apply"
        } else {
            "migrated"
        },
        c.up_to_date,
        c.failed,
        c.skipped
    ))
}

/// The document of `fleet status`.
pub fn status(
    ctx: &Context,
    fleet: &FleetConfig,
    migrations: &Migrations,
    statuses: Vec<(Target, trek::Result<Status>)>,
) -> doc::FleetStatus {
    let latest = migrations
        .versioned()
        .last()
        .and_then(|m| m.version())
        .map(ToString::to_string);
    let label = |e: &trek::StatusEntry| match &e.version {
        Some(v) => format!("{v} {}", e.name),
        None => e.name.clone(),
    };
    let targets: Vec<doc::FleetTargetStatus> = statuses
        .into_iter()
        .map(|(target, status)| {
            let (name, server, tenant_schema) = target_fields(&target);
            let mut entry = doc::FleetTargetStatus {
                name,
                server,
                tenant_schema,
                version: None,
                pending: 0,
                failed: Vec::new(),
                modified: Vec::new(),
                error: None,
            };
            match status {
                Ok(status) => {
                    let versioned = || status.entries.iter().filter(|e| e.kind == Kind::Versioned);
                    entry.version = versioned()
                        .filter(|e| matches!(e.state, State::Applied | State::Modified))
                        .filter_map(|e| e.version.clone())
                        .next_back();
                    entry.pending = versioned()
                        .filter(|e| matches!(e.state, State::Pending | State::OutOfOrder))
                        .count();
                    entry.failed = versioned()
                        .filter(|e| e.state == State::Failed)
                        .map(label)
                        .collect();
                    entry.modified = versioned()
                        .filter(|e| e.state == State::Modified)
                        .map(label)
                        .collect();
                }
                Err(e) => entry.error = Some(error_json(ctx, e)),
            }
            entry
        })
        .collect();
    let mut versions: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for t in targets.iter().filter(|t| t.error.is_none()) {
        *versions.entry(t.version.clone()).or_default() += 1;
    }
    let mut versions: Vec<doc::FleetVersionCount> = versions
        .into_iter()
        .map(|(version, targets)| doc::FleetVersionCount { version, targets })
        .collect();
    // Newest first, by the folder's order (versions compare as trek compares them).
    let order = |v: &Option<String>| {
        v.as_ref().and_then(|v| {
            migrations
                .versioned()
                .position(|m| m.version().is_some_and(|mv| mv.to_string() == *v))
        })
    };
    versions.sort_by_key(|v| std::cmp::Reverse(order(&v.version)));
    let count =
        |pick: &dyn Fn(&doc::FleetTargetStatus) -> bool| targets.iter().filter(|t| pick(t)).count();
    doc::FleetStatus {
        schema: doc::FleetStatusSchema,
        fleet: fleet.name.clone(),
        latest,
        versions,
        current: count(&|t| {
            t.error.is_none() && t.pending == 0 && t.failed.is_empty() && t.modified.is_empty()
        }),
        behind: count(&|t| t.error.is_none() && t.pending > 0),
        failed: count(&|t| !t.failed.is_empty()),
        modified: count(&|t| !t.modified.is_empty()),
        unreachable: count(&|t| t.error.is_some()),
        targets,
    }
}

/// Prints `fleet status`: the document with `--json`, else the summary.
///
/// # Errors
/// [`Error::Output`] when stdout cannot be written.
pub fn print_status(printer: &Printer, doc: &doc::FleetStatus) -> Result<(), Error> {
    if printer.json {
        return printer.json(doc);
    }
    printer.line(&format!(
        "fleet {}: {} targets; newest migration {}",
        doc.fleet,
        doc.targets.len(),
        doc.latest.as_deref().unwrap_or("(none)")
    ))?;
    printer.line("  version      targets")?;
    for v in &doc.versions {
        printer.line(&format!(
            "  {:<12} {:>7}{}",
            v.version.as_deref().unwrap_or("none"),
            v.targets,
            if v.version == doc.latest {
                "  (current)"
            } else {
                ""
            }
        ))?;
    }
    let list = |pick: &dyn Fn(&doc::FleetTargetStatus) -> Option<String>| -> Vec<String> {
        doc.targets.iter().filter_map(pick).collect()
    };
    let sections: [(&str, Vec<String>); 4] = [
        (
            "behind",
            list(&|t| {
                (t.error.is_none() && t.pending > 0).then(|| {
                    format!(
                        "{} ({} pending, at {})",
                        t.name,
                        t.pending,
                        t.version.as_deref().unwrap_or("none")
                    )
                })
            }),
        ),
        (
            "failed migrations",
            list(&|t| {
                (!t.failed.is_empty()).then(|| format!("{}: {}", t.name, t.failed.join(", ")))
            }),
        ),
        (
            "edited migrations",
            list(&|t| {
                (!t.modified.is_empty()).then(|| format!("{}: {}", t.name, t.modified.join(", ")))
            }),
        ),
        (
            "unreachable",
            list(&|t| {
                t.error.as_ref().map(|e| {
                    format!(
                        "{}: {}",
                        t.name,
                        e.message.lines().next().unwrap_or_default()
                    )
                })
            }),
        ),
    ];
    for (title, lines) in sections {
        if lines.is_empty() {
            continue;
        }
        printer.line(&format!("{title} ({}):", lines.len()))?;
        for line in lines.iter().take(20) {
            printer.line(&format!("  {line}"))?;
        }
        if lines.len() > 20 {
            printer.line(&format!("  … and {} more", lines.len() - 20))?;
        }
    }
    printer.line(&format!(
        "{} current, {} behind, {} with failed migrations, {} with edited ones, {} unreachable",
        doc.current, doc.behind, doc.failed, doc.modified, doc.unreachable
    ))
}
