//! `cargo trek import --from TOOL [--source DIR] [--history] [--dry-run]`: converts another
//! tool's migrations folder into trek's layout ([`trek_core::import::convert`]), and with
//! `--history` reads that tool's history table and records the migrations it applied as applied
//! in trek ([`trek::Migrator::adopt`], audited as `baseline`), so the next `up` applies exactly
//! what the other tool had not.
//!
//! The conversion writes into trek's migrations folder; a file already there with the same
//! text is left alone (running the import again changes nothing), one with other text is
//! refused. The history is refused when the other tool's own rules say the database is not in
//! a state to carry on from: a dirty golang-migrate version, a failed Flyway row, a sqlx row
//! with `success = false`, or a version the migrations folder lacks.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use trek::postgres::Client;
use trek::{quote_ident, Kind, Version};
use trek_core::import::{self, Conversion, Tool};

use crate::cli::ImportArgs;
use crate::context::Context;
use crate::database;
use crate::error::Error;
use crate::json;
use crate::output::human::{self, Table};
use crate::output::{style, Printer};
use crate::Exit;

/// One converted migration and whether its files are already in place.
struct Planned<'c> {
    migration: &'c import::Converted,
    unchanged: bool,
}

/// Runs `import`.
///
/// # Errors
/// [`Error::Usage`] (exit 2) for a folder that cannot be converted (every problem, each
/// naming its file), a source folder that is trek's migrations folder, or converted files that
/// would overwrite different ones; [`Error::Check`] (exit 1) when the other tool's history
/// cannot be followed; connection, I/O and database errors.
pub fn run(ctx: &Context, printer: &Printer, args: &ImportArgs) -> Result<Exit, Error> {
    let tool = Tool::from(args.from);
    let dest = &ctx.migrations_dir;
    let convert_folder = !args.history || args.source.is_some();
    let mut doc = json::Import {
        schema: json::ImportSchema,
        from: tool.as_str().to_owned(),
        dry_run: args.dry_run,
        source: None,
        migrations: ctx.migrations_display(),
        converted: Vec::new(),
        skipped: Vec::new(),
        history: None,
    };
    let mut lines = Vec::new();
    // The converted migrations' versions and names, for a dry run's history (the files are
    // not on disk then).
    let mut converted_versions: Option<Vec<(Version, String)>> = None;
    if convert_folder {
        let source = match &args.source {
            Some(dir) => ctx.cwd.join(dir),
            None => ctx.project.root.join(tool.default_source()),
        };
        let shown = ctx.show_path(&source);
        doc.source = Some(shown.clone());
        let conversion = convert(tool, &source, &shown, dest)?;
        let planned = plan(&conversion, dest, ctx)?;
        if !args.dry_run {
            write(&planned, dest)?;
            // What was written must be a valid trek folder.
            ctx.load_migrations()?;
        }
        lines.extend(conversion_lines(
            tool,
            &shown,
            ctx,
            &planned,
            &conversion,
            args.dry_run,
        ));
        converted_versions = Some(
            conversion
                .migrations
                .iter()
                .filter_map(|m| Some((m.version.clone()?, m.name.clone())))
                .collect(),
        );
        doc.converted = planned.iter().map(|p| converted_json(p)).collect();
        doc.skipped = conversion
            .skipped
            .iter()
            .map(|s| json::ImportSkipped {
                path: s.path.clone(),
                reason: s.reason.clone(),
            })
            .collect();
    }
    if args.history {
        let table = args
            .history_table
            .clone()
            .unwrap_or_else(|| tool.history_table().to_owned());
        // In a dry run the converted files are not on disk: match the history with them.
        let migrations = match (&converted_versions, args.dry_run) {
            (Some(_), true) => None,
            _ => Some(ctx.load_migrations()?),
        };
        let known: Vec<Version> = match (&migrations, &converted_versions) {
            (Some(m), _) => m.versioned().filter_map(|m| m.version().cloned()).collect(),
            (None, versions) => versions.iter().flatten().map(|(v, _)| v.clone()).collect(),
        };
        let mut db = database::connect(ctx, printer)?;
        let applied = read_history(tool, &mut db.client, &table, &known)?;
        check_known(tool, &table, &applied, &known)?;
        // Shown as the folder writes them (`00001`, not goose's `1`).
        let applied: Vec<Version> = applied
            .iter()
            .map(|v| known.iter().find(|k| *k == v).unwrap_or(v).clone())
            .collect();
        let detail = format!("imported from {tool}'s {table}");
        let recorded: Vec<json::Step> = match &migrations {
            Some(migrations) if !args.dry_run => {
                let report = ctx
                    .migrator(migrations)
                    .adopt(&mut db.client, &applied, &detail)
                    .map_err(super::runtime(ctx))?;
                report
                    .applied
                    .iter()
                    .map(crate::output::json::step)
                    .collect()
            }
            _ => {
                let done = trek_recorded(&mut db.client, &ctx.schema);
                applied
                    .iter()
                    .filter(|v| !done.contains(v.parts()))
                    .map(|v| json::Step {
                        kind: json::Kind::Versioned,
                        version: Some(v.to_string()),
                        name: migrations
                            .as_ref()
                            .and_then(|m| {
                                m.versioned()
                                    .find(|m| m.version() == Some(v))
                                    .map(|m| m.name().to_owned())
                            })
                            .or_else(|| {
                                converted_versions
                                    .iter()
                                    .flatten()
                                    .find_map(|(cv, name)| (cv == v).then(|| name.clone()))
                            })
                            .unwrap_or_default(),
                        duration_ms: 0,
                    })
                    .collect()
            }
        };
        lines.extend(history_lines(
            tool,
            &table,
            &db.url,
            &applied,
            &recorded,
            args.dry_run,
        ));
        doc.history = Some(json::ImportHistory {
            database: db.url.clone(),
            table,
            applied: applied.iter().map(ToString::to_string).collect(),
            recorded,
        });
    }
    if printer.json {
        printer.json(&doc)?;
    } else {
        for line in lines {
            printer.line(&line)?;
        }
    }
    Ok(Exit::Success)
}

/// Reads and converts the source folder.
fn convert(tool: Tool, source: &Path, shown: &str, dest: &Path) -> Result<Conversion, Error> {
    if !source.is_dir() {
        return Err(Error::Usage {
            message: format!(
                "{shown} is not a folder: pass the {tool} migrations folder with --source DIR"
            ),
        });
    }
    if let (Ok(a), Ok(b)) = (fs::canonicalize(source), fs::canonicalize(dest)) {
        if a == b {
            return Err(Error::Usage {
                message: format!(
                    "{shown} is trek's migrations folder too: move the {tool} folder aside \
                     first (`mv {shown} {shown}.{tool}`), then run `cargo trek import --from \
                     {tool} --source {shown}.{tool}`"
                ),
            });
        }
    }
    let files = import::read_source(source).map_err(|e| Error::Usage {
        message: format!(
            "{e}; make it readable, or move it out of {} if it is not a migration",
            source.display()
        ),
    })?;
    import::convert(tool, &files).map_err(|errors| Error::Usage {
        message: format!(
            "the {tool} folder {shown} cannot be imported ({} problem{}):\n{}",
            errors.0.len(),
            if errors.0.len() == 1 { "" } else { "s" },
            errors
                .0
                .iter()
                .map(|e| format!("  {shown}/{e}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    })
}

/// Checks the destination: files already there must hold the same text, and no other script
/// may have a converted version.
fn plan<'c>(
    conversion: &'c Conversion,
    dest: &Path,
    ctx: &Context,
) -> Result<Vec<Planned<'c>>, Error> {
    let mut problems = Vec::new();
    let mut planned = Vec::new();
    let ours: BTreeSet<&str> = conversion.files().iter().map(|f| f.path.as_str()).collect();
    // Other scripts at the top of the folder that take a converted version.
    let mut taken: Vec<(Vec<u64>, String)> = Vec::new();
    if let Ok(entries) = fs::read_dir(dest) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if ours.contains(name.as_str()) || trek_core::file_name::is_ignored(&name) {
                continue;
            }
            if let Ok(parsed) = trek_core::file_name::parse(&name, Kind::Versioned) {
                if let Some(v) = parsed.version {
                    taken.push((v.parts().to_vec(), name));
                }
            }
        }
    }
    for m in &conversion.migrations {
        let mut unchanged = true;
        for file in std::iter::once(&m.up).chain(m.down.as_ref()) {
            let path = dest.join(&file.path);
            match fs::read(&path) {
                Ok(bytes) if bytes == file.contents.as_bytes() => {}
                Ok(_) => {
                    unchanged = false;
                    problems.push(format!(
                        "  {} exists and differs from what {} converts to: move it away, \
                         then import again",
                        ctx.show_path(&path),
                        m.sources.join(" + ")
                    ));
                }
                Err(_) => unchanged = false,
            }
        }
        if let Some(v) = &m.version {
            for (parts, name) in &taken {
                if parts.as_slice() == v.parts() {
                    problems.push(format!(
                        "  {} has version {v}, which {} takes: renumber one of them",
                        ctx.show_path(&dest.join(name)),
                        m.sources[0]
                    ));
                }
            }
        }
        planned.push(Planned {
            migration: m,
            unchanged,
        });
    }
    if problems.is_empty() {
        Ok(planned)
    } else {
        Err(Error::Usage {
            message: format!(
                "the import would overwrite the migrations folder {}:\n{}\n                 (if you edited converted files after an earlier import, leave out --source:                  `--history` alone adopts the history against the folder as it is)",
                ctx.migrations_display(),
                problems.join("\n")
            ),
        })
    }
}

fn write(planned: &[Planned<'_>], dest: &Path) -> Result<(), Error> {
    for p in planned.iter().filter(|p| !p.unchanged) {
        for file in std::iter::once(&p.migration.up).chain(p.migration.down.as_ref()) {
            let path: PathBuf = dest.join(&file.path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
            }
            fs::write(&path, &file.contents).map_err(Error::io("write", &path))?;
        }
    }
    Ok(())
}

fn converted_json(p: &Planned<'_>) -> json::ImportedMigration {
    let m = p.migration;
    json::ImportedMigration {
        kind: crate::output::json::kind(m.kind),
        version: m.version.as_ref().map(ToString::to_string),
        name: m.name.clone(),
        sources: m.sources.clone(),
        files: std::iter::once(&m.up)
            .chain(m.down.as_ref())
            .map(|f| f.path.clone())
            .collect(),
        unchanged: p.unchanged,
        no_transaction: m.no_transaction,
        irreversible: m.irreversible,
        notes: m.notes.clone(),
    }
}

fn conversion_lines(
    tool: Tool,
    shown: &str,
    ctx: &Context,
    planned: &[Planned<'_>],
    conversion: &Conversion,
    dry_run: bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    let written = planned.iter().filter(|p| !p.unchanged).count();
    lines.push(format!(
        "{} {} from {tool} ({shown}) into {}{}",
        if dry_run { "would import" } else { "imported" },
        human::plural(planned.len(), "migration"),
        ctx.migrations_display(),
        match planned.len() - written {
            0 => String::new(),
            n => format!(" ({n} already there, unchanged)"),
        }
    ));
    if !planned.is_empty() {
        let mut table = Table::new(&["VERSION", "TREK FILE", "DOWN", "FROM", "NOTES"]);
        for p in planned {
            let m = p.migration;
            let down = match (&m.down, m.irreversible) {
                (None, _) => "none",
                (Some(_), true) => "irreversible",
                (Some(_), false) => "yes",
            };
            table.row(vec![
                (
                    m.version
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), ToString::to_string),
                    style::BOLD,
                ),
                (m.up.path.clone(), style::PLAIN),
                (down.to_owned(), style::PLAIN),
                (m.sources.join(" + "), style::PLAIN),
                (m.notes.join("; "), style::PLAIN),
            ]);
        }
        lines.extend(table.render());
    }
    if !conversion.skipped.is_empty() {
        lines.push(format!("not imported ({}):", conversion.skipped.len()));
        for s in &conversion.skipped {
            lines.push(format!("  {shown}/{}: {}", s.path, s.reason));
        }
    }
    lines
}

fn history_lines(
    tool: Tool,
    table: &str,
    database: &str,
    applied: &[Version],
    recorded: &[json::Step],
    dry_run: bool,
) -> Vec<String> {
    let mut lines = vec![format!(
        "{tool}'s {table} in {database} has {} applied",
        human::plural(applied.len(), "migration")
    )];
    if recorded.is_empty() {
        lines.push("trek already records every one of them: nothing to record".to_owned());
        return lines;
    }
    lines.push(format!(
        "{} {} as applied (audited as baseline):",
        if dry_run { "would record" } else { "recorded" },
        human::plural(recorded.len(), "migration")
    ));
    for step in recorded {
        lines.push(format!(
            "  {} {}",
            step.version.as_deref().unwrap_or("-"),
            step.name
        ));
    }
    lines
}

/// The versions trek already records (versioned, not failed); empty when trek's tables do
/// not exist.
fn trek_recorded(client: &mut Client, schema: &str) -> BTreeSet<Vec<u64>> {
    let sql = format!(
        "SELECT version FROM {}.applied WHERE kind = 'versioned' AND NOT failed",
        quote_ident(schema)
    );
    // A dry run must not abort on a database without trek's tables: a failed query is empty.
    client
        .query(&sql, &[])
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r.get::<_, Option<String>>(0))
                .filter_map(|v| Version::parse(&v).ok())
                .map(|v| v.parts().to_vec())
                .collect()
        })
        .unwrap_or_default()
}

/// `schema.table` or `table`, quoted.
fn quoted_table(table: &str) -> String {
    table
        .split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

/// A refusal: what the other tool's history says that trek cannot follow.
fn refuse(message: String) -> Error {
    Error::Check { message }
}

/// Reads the versions `tool` applied from its history table, in trek's order.
fn read_history(
    tool: Tool,
    client: &mut Client,
    table: &str,
    known: &[Version],
) -> Result<Vec<Version>, Error> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&quoted_table(table)],
        )
        .map_err(|e| db_error(tool, table, &e))?
        .get(0);
    if !exists {
        return Err(refuse(format!(
            "the database has no table {table}: was it migrated with {tool}? Pass \
             --history-table SCHEMA.TABLE when the history lives elsewhere"
        )));
    }
    let t = quoted_table(table);
    let query = |client: &mut Client, sql: &str| {
        client
            .query(sql, &[])
            .map_err(|e| db_error(tool, table, &e))
    };
    let parse = |text: &str| {
        Version::parse(&text.replace('_', ".")).map_err(|e| {
            refuse(format!(
                "{table} records version `{text}`, which is not a trek version ({})",
                e.reason
            ))
        })
    };
    let mut applied: Vec<Version> = Vec::new();
    match tool {
        Tool::Sqlx => {
            for row in query(
                client,
                &format!("SELECT version::text, description, success FROM {t} ORDER BY version"),
            )? {
                let (version, description, success): (String, String, bool) =
                    (row.get(0), row.get(1), row.get(2));
                if !success {
                    return Err(refuse(format!(
                        "{table} records version {version} ({description}) as failed \
                         (success = false): sqlx would refuse to go on too. Finish or undo it by \
                         hand, delete its row (or run `sqlx migrate run` to success), then import \
                         the history again"
                    )));
                }
                applied.push(parse(&version)?);
            }
        }
        Tool::Refinery | Tool::Diesel | Tool::Dbmate => {
            for row in query(client, &format!("SELECT version::text FROM {t}"))? {
                applied.push(parse(&row.get::<_, String>(0))?);
            }
        }
        Tool::GolangMigrate => {
            let rows = query(client, &format!("SELECT version::text, dirty FROM {t}"))?;
            if rows.len() > 1 {
                return Err(refuse(format!(
                    "{table} has {} rows; golang-migrate keeps one (the current version). Is \
                     this dbmate's table? Then import with --from dbmate",
                    rows.len()
                )));
            }
            if let Some(row) = rows.first() {
                let (version, dirty): (String, bool) = (row.get(0), row.get(1));
                if dirty {
                    return Err(refuse(format!(
                        "{table} says version {version} is dirty: golang-migrate failed halfway \
                         through it and would refuse to go on too. Finish or undo it by hand, \
                         then `migrate force VERSION` (the last version fully applied), and \
                         import the history again"
                    )));
                }
                let current = parse(&version)?;
                if !known.contains(&current) {
                    return Err(missing(tool, table, &[&current]));
                }
                // golang-migrate records only the current version: every one up to it is in.
                applied.extend(known.iter().filter(|v| **v <= current).cloned());
            }
        }
        Tool::Goose => {
            // The newest row of each version says whether it is applied (older goose wrote a
            // row with is_applied = false for a down; newer goose deletes the row).
            let rows = query(
                client,
                &format!(
                    "SELECT DISTINCT ON (version_id) version_id::text, is_applied FROM {t} \
                     ORDER BY version_id, id DESC"
                ),
            )?;
            for row in rows {
                let (version, is_applied): (String, bool) = (row.get(0), row.get(1));
                // Version 0 is the row goose writes when it creates its table.
                if is_applied && version != "0" {
                    applied.push(parse(&version)?);
                }
            }
        }
        Tool::Flyway => {
            let rows = query(
                client,
                &format!(
                    "SELECT installed_rank, version, coalesce(script, ''), type, success FROM {t} \
                     ORDER BY installed_rank"
                ),
            )?;
            for row in rows {
                let (rank, version, script, kind, success): (
                    i32,
                    Option<String>,
                    String,
                    String,
                    bool,
                ) = (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
                if !success {
                    return Err(refuse(format!(
                        "{table} records {script} (installed_rank {rank}) as failed: Flyway \
                         would refuse to go on too. Finish or undo it by hand, run `flyway \
                         repair`, then import the history again"
                    )));
                }
                let Some(version) = version else {
                    // Repeatables and the schema-creation marker: trek runs repeatables
                    // again on the next `up`.
                    continue;
                };
                let v = parse(&version)?;
                match kind.as_str() {
                    "BASELINE" => {
                        applied.extend(known.iter().filter(|k| **k <= v).cloned());
                    }
                    "UNDO_SQL" | "UNDO_SCRIPT" | "DELETE" => applied.retain(|a| *a != v),
                    _ => applied.push(v),
                }
            }
        }
    }
    applied.sort();
    applied.dedup();
    Ok(applied)
}

fn missing(tool: Tool, table: &str, versions: &[&Version]) -> Error {
    let (what, which) = match versions {
        [one] => ("version", one.to_string()),
        _ => (
            "versions",
            versions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
    };
    refuse(format!(
        "{table} says {tool} applied {what} {which}, which the migrations folder does not \
         have: import the folder that has them (a Go or Java migration cannot be imported: write \
         it as SQL under its version), or delete the row if the migration is gone for good"
    ))
}

/// Every applied version must be a migration of the folder.
fn check_known(
    tool: Tool,
    table: &str,
    applied: &[Version],
    known: &[Version],
) -> Result<(), Error> {
    let unknown: Vec<&Version> = applied.iter().filter(|v| !known.contains(v)).collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(missing(tool, table, &unknown))
    }
}

fn db_error(tool: Tool, table: &str, e: &trek::postgres::Error) -> Error {
    // A table of that name with other columns is most likely another tool's: golang-migrate and
    // dbmate both write `schema_migrations`.
    let others: Vec<&str> = Tool::ALL
        .iter()
        .filter(|t| **t != tool && t.history_table() == tool.history_table())
        .map(|t| t.as_str())
        .collect();
    let hint = if e.code() == Some(&trek::postgres::error::SqlState::UNDEFINED_COLUMN)
        && !others.is_empty()
    {
        format!(
            "; {} writes a table of that name too: is this its history (--from {})?",
            others.join(", "),
            others[0]
        )
    } else {
        String::new()
    };
    refuse(format!(
        "could not read {table} as {tool} writes it: {}{hint}",
        trek::describe_postgres_error(e)
    ))
}
