//! `cargo trek dump [-o FILE]`: a schema dump fit to commit. `pg_dump` (the client of the
//! server's major version) of the schema, `--schema-only --no-owner --no-privileges` unless
//! `dump_args` in `Trek.toml` says otherwise, then trek's history rows, so a database restored
//! from it (`cargo trek restore --from-dump`) knows what is applied; the applied scripts' text
//! is left out unless `--bodies`. Two dumps of the same schema are byte-identical.

use std::fs;

use trek::DumpOptions;

use crate::cli::DumpArgs;
use crate::context::Context;
use crate::error::Error;
use crate::json;
use crate::output::{paint, style, Printer};
use crate::Exit;

/// Runs `dump`.
///
/// # Errors
/// An unreachable database, `pg_dump` missing or failing, or a file that cannot be written.
pub fn run(ctx: &Context, printer: &Printer, args: &DumpArgs) -> Result<Exit, Error> {
    let (migrations, mut db) = super::prepare(ctx, printer)?;
    let mut options = options(ctx);
    options.bodies = args.bodies;
    let text = super::migrator(ctx, &migrations, &db)
        .dump(&mut db.client, &options)
        .map_err(super::runtime(ctx))?;
    match &args.output {
        Some(path) => {
            fs::write(path, &text).map_err(Error::io("write", path))?;
            if printer.json {
                printer.json(&json::Dump {
                    schema: json::DumpSchema,
                    database: db.url.clone(),
                    file: Some(ctx.show_path(path)),
                    bytes: text.len(),
                    dump: None,
                })?;
            } else {
                printer.line(&format!(
                    "{} {} {}",
                    paint(style::GOOD, "dumped"),
                    db.url,
                    paint(
                        style::DIM,
                        format!("to {} ({} bytes)", ctx.show_path(path), text.len())
                    )
                ))?;
            }
        }
        None if printer.json => printer.json(&json::Dump {
            schema: json::DumpSchema,
            database: db.url.clone(),
            file: None,
            bytes: text.len(),
            dump: Some(text),
        })?,
        None => printer.raw_stdout(&text)?,
    }
    Ok(Exit::Success)
}

/// The dump options `Trek.toml` asks for.
pub fn options(ctx: &Context) -> DumpOptions {
    let mut options = DumpOptions::default();
    if let Some(args) = &ctx.dump_args {
        options.args.clone_from(args);
    }
    options
}
