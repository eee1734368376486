//! `cargo trek verify`: checks the migrations folder offline — everything `trek-core` checks
//! (names, equal versions, downs without ups, directives, UTF-8, empty scripts) — and exits 1
//! with every problem when there is one.

use trek::Kind;

use crate::context::Context;
use crate::error::Error;
use crate::json;
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
        Err(Error::Source { errors, .. }) => {
            let message = format!("{} found in {dir}", plural(errors.0.len(), "problem"));
            if printer.json {
                printer.json(&json::Verify {
                    schema: json::VerifySchema,
                    ok: false,
                    problems: Error::problems(&dir, &errors),
                    migrations: dir,
                    versioned: None,
                    repeatable: None,
                    seeds: None,
                    scripts: Vec::new(),
                    warnings: Vec::new(),
                })?;
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
    let warnings = outside_transaction_warnings(&migrations, &dir);
    if printer.json {
        printer.json(&json::Verify {
            schema: json::VerifySchema,
            ok: true,
            warnings,
            migrations: dir,
            versioned: Some(count(Kind::Versioned)),
            repeatable: Some(count(Kind::Repeatable)),
            seeds: Some(count(Kind::Seed)),
            scripts: migrations
                .all()
                .iter()
                .map(|m| json::VerifiedScript {
                    kind: crate::output::json::kind(m.kind()),
                    version: m.version().map(|v| v.as_str().to_owned()),
                    name: m.name().to_owned(),
                    path: m.path().to_owned(),
                    checksum: m.checksum().as_str().to_owned(),
                    down: m.down().map(|d| d.path().to_owned()),
                    no_transaction: m.directives().no_transaction,
                })
                .collect(),
            problems: Vec::new(),
        })?;
    } else {
        for w in &warnings {
            printer.line(&format!(
                "{}:{}: {} {}",
                paint(style::BOLD, &w.path),
                w.line.unwrap_or(1),
                paint(style::WARN, "warning:"),
                w.message
            ))?;
        }
        let irreversible = migrations
            .all()
            .iter()
            .filter(|m| m.down().is_some_and(trek::Down::is_irreversible))
            .count();
        let irreversible = if irreversible > 0 {
            format!(", {irreversible} of them irreversible")
        } else {
            String::new()
        };
        printer.line(&format!(
            "{} {dir}: {}, {} ({downs} with a down script{irreversible}), {}",
            paint(style::GOOD, "ok"),
            plural(count(Kind::Versioned), "migration"),
            plural(count(Kind::Repeatable), "repeatable"),
            plural(count(Kind::Seed), "seed"),
        ))?;
    }
    Ok(Exit::Success)
}

/// Statements PostgreSQL refuses inside a transaction block (`CREATE INDEX CONCURRENTLY`,
/// `VACUUM`, ...) in up or down scripts that trek runs in one: `up` would fail with SQLSTATE
/// 25001.
fn outside_transaction_warnings(migrations: &trek::Migrations, dir: &str) -> Vec<json::Problem> {
    let scripts = migrations.all().iter().flat_map(|m| {
        std::iter::once((m.path(), m.sql(), m.directives().no_transaction)).chain(
            m.down()
                .map(|d| (d.path(), d.sql(), m.down_outside_transaction())),
        )
    });
    let mut out = Vec::new();
    for (path, sql, no_transaction) in scripts {
        if no_transaction {
            continue;
        }
        for statement in trek::split::split(sql) {
            if let Some(what) = trek::split::outside_transaction(statement.text) {
                out.push(json::Problem {
                    path: format!("{dir}/{path}"),
                    line: Some(trek::Location::of_byte_offset(sql, statement.offset).line),
                    message: format!(
                        "{what} cannot run inside a transaction block, and this file runs in \
                         one: put `-- trek:no_transaction` on its first line"
                    ),
                });
            }
        }
    }
    out
}
