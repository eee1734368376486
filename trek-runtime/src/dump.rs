//! Schema dumps fit to commit: `pg_dump` of the schema, then trek's history rows, with the
//! lines that change from run to run removed, so two dumps of the same schema are
//! byte-identical.
//!
//! A dump is two `pg_dump` runs, concatenated: the schema (`--schema-only --no-owner
//! --no-privileges` by default) and the data of `trek.applied` and `trek.meta`, so a database
//! restored from it knows what is applied. The version banners and the random `\restrict` /
//! `\unrestrict` keys newer `pg_dump` releases write are dropped; `pg_dump` already orders
//! objects by kind and name.

use std::process::Command;

use crate::error::{Error, Result};
use crate::snapshot::pg_dump::pattern;
use crate::snapshot::tools::ClientTools;

/// The `pg_dump` options of the schema part when none are given.
pub const DEFAULT_DUMP_ARGS: &[&str] = &["--schema-only", "--no-owner", "--no-privileges"];

/// The line that separates the schema from trek's history rows in a dump.
pub const HISTORY_MARKER: &str = "-- trek: the history rows of the schema above";

/// What a schema dump holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpOptions {
    /// The `pg_dump` options of the schema part (default [`DEFAULT_DUMP_ARGS`]).
    pub args: Vec<String>,
    /// Whether trek's history rows follow the schema (default true).
    pub history: bool,
    /// Schemas left out (drift leaves out trek's own, whose history always differs).
    pub exclude_schemas: Vec<String>,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            args: DEFAULT_DUMP_ARGS.iter().map(|a| (*a).to_owned()).collect(),
            history: true,
            exclude_schemas: Vec::new(),
        }
    }
}

/// Runs `pg_dump` as `options` say, with the client `env`, and returns the normalised text.
pub(crate) fn dump(
    tools: &ClientTools,
    env: &[(String, String)],
    trek_schema: &str,
    options: &DumpOptions,
) -> Result<String> {
    let mut schema = Command::new(tools.program("pg_dump"));
    schema.args(&options.args);
    for excluded in &options.exclude_schemas {
        schema.arg(format!("--exclude-schema={}", pattern(excluded)));
    }
    let mut text = normalize(&run(&mut schema, env)?);
    if options.history {
        let mut history = Command::new(tools.program("pg_dump"));
        history.args(["--data-only", "--no-owner", "--no-privileges"]);
        for table in ["applied", "meta"] {
            history.arg(format!(
                "--table={}.{}",
                pattern(trek_schema),
                pattern(table)
            ));
        }
        text.push_str(HISTORY_MARKER);
        text.push_str("\n\n");
        text.push_str(&normalize(&run(&mut history, env)?));
    }
    Ok(text)
}

/// `text` without the lines that change from one `pg_dump` run to the next.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let volatile = line.starts_with("\\restrict ")
            || line.starts_with("\\unrestrict ")
            || line.starts_with("-- Dumped from database version")
            || line.starts_with("-- Dumped by pg_dump version")
            || line.starts_with("-- Started on")
            || line.starts_with("-- Completed on");
        if !volatile {
            out.push_str(line);
            out.push('\n');
        }
    }
    // Dropping a line can leave runs of blank lines; keep at most two in a row.
    while out.contains("\n\n\n\n") {
        out = out.replace("\n\n\n\n", "\n\n\n");
    }
    out
}

fn run(command: &mut Command, env: &[(String, String)]) -> Result<String> {
    let out = crate::snapshot::pg_dump::run(command, env, "could not dump the schema", "pg_dump")?;
    String::from_utf8(out).map_err(|_| Error::Snapshot {
        message: "pg_dump wrote text that is not UTF-8".to_owned(),
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_lines_are_dropped() {
        let text = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n-- Dumped from database version 15.1\n-- Dumped by pg_dump version 15.1\n\nSET x = 1;\n\\unrestrict abc\n";
        assert_eq!(
            normalize(text),
            "--\n-- PostgreSQL database dump\n--\n\n\nSET x = 1;\n"
        );
    }
}
