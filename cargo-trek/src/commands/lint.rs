//! `cargo trek lint [--all] [--offline] [--small-table-rows N]`: checks the pending
//! migrations (every one with `--all`) for statements that lock, rewrite or break a live
//! database ([`trek::lint`], squawk's rules), with file, line and column; with the database
//! reachable, each finding shows the size of its table, and rewrite, scan and index-build
//! warnings on tables under `--small-table-rows` rows become notes. Exits 1 when a warning
//! (or an error) remains.

use trek::lint::{self, Finding, Severity};
use trek::{Migration, Migrations, State};

use crate::cli::LintArgs;
use crate::context::Context;
use crate::database;
use crate::error::Error;
use crate::output::{lint as render, Printer};
use crate::Exit;

/// The findings of one migration file.
#[derive(Debug)]
pub struct Checked<'m> {
    /// The migration.
    pub migration: &'m Migration,
    /// The script checked: the migration's up script or its down.
    pub sql: &'m str,
    /// How the script is named in findings: the migration's label, `… (down)` for a down.
    pub label: String,
    /// Whether the script is the migration's down.
    pub down: bool,
    /// Its path as people see it (`migrations/0003_widen.sql`).
    pub path: String,
    /// What the rules found, in file order.
    pub findings: Vec<Finding>,
}

/// Runs `lint`.
///
/// # Errors
/// A bad migrations folder or configuration, or a history or catalogue that cannot be read.
/// An unreachable database is not an error: every migration is checked, without sizes.
pub fn run(ctx: &Context, printer: &Printer, args: &LintArgs) -> Result<Exit, Error> {
    let migrations = ctx.load_migrations()?;
    let mut db = if args.offline {
        None
    } else {
        match database::connect(ctx, printer) {
            Ok(db) => Some(db),
            Err(Error::Config { path, message }) => return Err(Error::Config { path, message }),
            Err(e) => {
                printer.warn(&format!(
                    "{e}: checking every migration, without table sizes"
                ));
                None
            }
        }
    };
    let selected: Vec<&Migration> = match (&mut db, args.all) {
        (Some(db), false) => {
            let status = ctx
                .migrator(&migrations)
                .status(&mut db.client)
                .map_err(super::runtime(ctx))?;
            pending(&migrations, &status)
        }
        _ => migrations.all().iter().collect(),
    };
    let dir = ctx.migrations_display();
    let mut checked: Vec<Checked<'_>> = selected
        .into_iter()
        .flat_map(|migration| {
            let up = Checked {
                migration,
                sql: migration.sql(),
                label: migration.label(),
                down: false,
                path: format!("{dir}/{}", migration.path()),
                findings: lint::check(migration),
            };
            let down = migration.down().map(|down| Checked {
                migration,
                sql: down.sql(),
                label: format!("{} (down)", migration.label()),
                down: true,
                path: format!("{dir}/{}", down.path()),
                findings: lint::check_down(migration),
            });
            std::iter::once(up).chain(down)
        })
        .collect();
    if let Some(db) = &mut db {
        for file in &mut checked {
            lint::measure(&mut db.client, &mut file.findings, args.small_table_rows)
                .map_err(super::runtime(ctx))?;
        }
    }
    let database = db.as_ref().map(|db| db.url.as_str());
    if printer.json {
        printer.json(&render::json(&checked, database, args.small_table_rows))?;
    } else {
        for line in render::text(&checked, database) {
            printer.line(&line)?;
        }
    }
    let problems = checked
        .iter()
        .flat_map(|c| &c.findings)
        .filter(|f| f.severity >= Severity::Warning)
        .count();
    if problems > 0 {
        return Ok(Exit::Problems {
            message: format!(
                "lint found {} in {}",
                render::count(problems, "warning"),
                render::count(
                    checked
                        .iter()
                        .filter(|c| c.findings.iter().any(|f| f.severity >= Severity::Warning))
                        .count(),
                    "migration"
                )
            ),
        });
    }
    Ok(Exit::Success)
}

/// The migrations a run would apply: pending, out of order, or edited since applied (dev
/// and qa re-apply those), in status order.
fn pending<'m>(migrations: &'m Migrations, status: &trek::Status) -> Vec<&'m Migration> {
    status
        .entries
        .iter()
        .filter(|e| {
            matches!(
                e.state,
                State::Pending | State::OutOfOrder | State::Modified
            )
        })
        .filter_map(|e| {
            let path = e.path.as_deref()?;
            migrations.all().iter().find(|m| m.path() == path)
        })
        .collect()
}
