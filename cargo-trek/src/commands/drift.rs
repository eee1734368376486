//! `cargo trek drift [--against FILE]`: builds a scratch database from the migrations (on the
//! local server, or the server of `scratch_url`), dumps its schema, and compares it with the
//! environment's live database or with a dump. Reports each differing object (and, for a
//! table, each differing column), then the text diff. Exit 0 in sync, 1 on drift.

use std::fmt::Write as _;

use similar::TextDiff;
use trek::drift::{self, Change, ObjectDiff};
use trek::{DumpOptions, Migrator, Workflow};

use crate::cli::DriftArgs;
use crate::context::Context;
use crate::database;
use crate::error::Error;
use crate::json;
use crate::output::{paint, style, Printer};
use crate::Exit;

/// Runs `drift`.
///
/// # Errors
/// A bad migrations folder, a migration that fails on the scratch database, an unreachable
/// database, `pg_dump` missing, or an unreadable dump.
pub fn run(ctx: &Context, printer: &Printer, args: &DriftArgs) -> Result<Exit, Error> {
    let migrations = ctx.load_migrations()?;
    let mut options = super::dump::options(ctx);
    options.history = false;
    options.exclude_schemas = vec![ctx.schema.clone()];

    let (actual, against) = match &args.against {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    // A dump that is not there is bad input (exit 2).
                    Error::Usage {
                        message: format!(
                            "--against {}: no such file; give the path of a dump from \
                             `cargo trek dump`",
                            ctx.show_path(path)
                        ),
                    }
                } else {
                    Error::io("read", path)(e)
                }
            })?,
            ctx.show_path(path),
        ),
        None => {
            let mut db = database::connect(ctx, printer)?;
            let text = super::migrator(ctx, &migrations, &db)
                .dump(&mut db.client, &options)
                .map_err(super::runtime(ctx))?;
            (text, db.url.clone())
        }
    };
    let expected = scratch_schema(ctx, &migrations, &options)?;

    let diffs = drift::compare(&expected, &actual, &ctx.schema);
    let expected_text = canonical(&expected, &ctx.schema);
    let actual_text = canonical(&actual, &ctx.schema);
    let diff = TextDiff::from_lines(&expected_text, &actual_text)
        .unified_diff()
        .context_radius(3)
        .header("migrations", &against)
        .to_string();
    if printer.json {
        printer.json(&json::Drift {
            schema: json::DriftSchema,
            in_sync: diffs.is_empty(),
            against: against.clone(),
            objects: diffs.iter().map(object_json).collect(),
            diff,
        })?;
    } else if diffs.is_empty() {
        printer.line(&format!(
            "{} {against} has the schema the migrations make",
            paint(style::GOOD, "in sync:")
        ))?;
    } else {
        printer.line(&paint(
            style::BOLD,
            format!(
                "{against} differs from the schema the migrations make ({} object{}):",
                diffs.len(),
                if diffs.len() == 1 { "" } else { "s" }
            ),
        ))?;
        for d in &diffs {
            printer.line(&format!("  {}", paint(style::WARN, d)))?;
        }
        printer.line("")?;
        for line in diff.lines() {
            let painted = match line.chars().next() {
                Some('+') if !line.starts_with("+++") => paint(style::GOOD, line),
                Some('-') if !line.starts_with("---") => paint(style::ERROR, line),
                _ => line.to_owned(),
            };
            printer.line(&painted)?;
        }
    }
    if diffs.is_empty() {
        Ok(Exit::Success)
    } else {
        Ok(Exit::Problems {
            message: format!(
                "{against} drifts from the migrations: {} object(s) differ",
                diffs.len()
            ),
        })
    }
}

/// The schema the migrations make: applied to a scratch database (forward only: versioned
/// migrations and repeatables, no seeds), dumped, dropped.
fn scratch_schema(
    ctx: &Context,
    migrations: &trek::Migrations,
    options: &DumpOptions,
) -> Result<String, Error> {
    let name = format!(
        "trek_drift_{}_{}",
        crate::context::local_database_name(&ctx.project.name, Some("scratch")),
        std::process::id()
    );
    let mut scratch = database::scratch(ctx, ctx.scratch_url.as_deref(), &name)?;
    let migrator = Migrator::new(migrations)
        .workflow(Workflow::Prod)
        .schema(ctx.schema.clone())
        .connector(scratch.connector.clone());
    let built = migrator
        .run(&mut scratch.client)
        .and_then(|_| migrator.dump(&mut scratch.client, options))
        .map_err(super::runtime(ctx));
    database::drop_scratch(scratch);
    built
}

/// A dump as the objects drift compares, one after the other: what the text diff shows.
fn canonical(dump: &str, trek_schema: &str) -> String {
    let mut out = String::new();
    for (key, sql) in drift::objects(dump, trek_schema) {
        let _ = writeln!(out, "-- {key}\n{sql}\n");
    }
    out
}

fn object_json(d: &ObjectDiff) -> json::ObjectDiff {
    let (change, details) = match &d.change {
        Change::Missing => (json::Change::Missing, Vec::new()),
        Change::Extra => (json::Change::Extra, Vec::new()),
        Change::Changed { details } => (json::Change::Changed, details.clone()),
    };
    json::ObjectDiff {
        kind: d.object.kind.clone(),
        schema: d.object.schema.clone(),
        name: d.object.name.clone(),
        change,
        details,
    }
}
