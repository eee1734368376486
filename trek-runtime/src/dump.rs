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
    /// Whether the history rows keep the applied up scripts' text (`up_sql`; default false:
    /// a dump fit to commit holds the schema and which migrations made it, not every
    /// migration's body again; the checksums say which text each one had).
    pub bodies: bool,
    /// Schemas left out (drift leaves out trek's own, whose history always differs).
    pub exclude_schemas: Vec<String>,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            args: DEFAULT_DUMP_ARGS.iter().map(|a| (*a).to_owned()).collect(),
            history: true,
            bodies: false,
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
        let rows = normalize(&run(&mut history, env)?);
        if options.bodies {
            text.push_str(&rows);
        } else {
            text.push_str(&without_column(&rows, "applied", "up_sql"));
        }
    }
    Ok(text)
}

/// `pg_dump --data-only` text with every value of `column` in the `COPY` of `table` (in any
/// schema) replaced by `\N` (NULL). In `COPY`'s text format a value never holds a raw tab or
/// line end (they are escaped), so fields split on tabs.
fn without_column(text: &str, table: &str, column: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut field: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if let Some(index) = field {
            if bare == "\\." {
                field = None;
            } else {
                let mut values: Vec<&str> = bare.split('\t').collect();
                if let Some(value) = values.get_mut(index) {
                    *value = "\\N";
                }
                out.push_str(&values.join("\t"));
                out.push('\n');
                continue;
            }
        } else if let Some(columns) = copy_columns(bare, table) {
            field = columns.iter().position(|c| *c == column);
        }
        out.push_str(line);
    }
    out
}

/// The column names of a `COPY <schema>.<table> (a, b, …) FROM stdin;` line of `table`.
fn copy_columns<'t>(line: &'t str, table: &str) -> Option<Vec<&'t str>> {
    let rest = line.strip_prefix("COPY ")?.strip_suffix(" FROM stdin;")?;
    let (name, columns) = rest.split_once(" (")?;
    let unquoted = name.rsplit('.').next()?.trim_matches('"');
    if unquoted != table {
        return None;
    }
    Some(
        columns
            .strip_suffix(')')?
            .split(", ")
            .map(|c| c.trim_matches('"'))
            .collect(),
    )
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
    fn the_bodies_of_applied_scripts_are_left_out_of_the_history() {
        let text = "COPY trek.applied (id, kind, up_sql, down_sql) FROM stdin;\n\
                    1\tversioned\tCREATE TABLE a (id int);\\n\tDROP TABLE a;\n\
                    2\tversioned\tSELECT '\\t';\t\\N\n\
                    \\.\n\nCOPY trek.meta (key, value) FROM stdin;\nlayout_version\t5\n\\.\n";
        assert_eq!(
            without_column(text, "applied", "up_sql"),
            "COPY trek.applied (id, kind, up_sql, down_sql) FROM stdin;\n\
             1\tversioned\t\\N\tDROP TABLE a;\n\
             2\tversioned\t\\N\t\\N\n\
             \\.\n\nCOPY trek.meta (key, value) FROM stdin;\nlayout_version\t5\n\\.\n"
        );
        let quoted = "COPY \"my schema\".applied (id, up_sql) FROM stdin;\n1\tx\n\\.\n";
        assert_eq!(
            without_column(quoted, "applied", "up_sql"),
            "COPY \"my schema\".applied (id, up_sql) FROM stdin;\n1\t\\N\n\\.\n"
        );
    }

    #[test]
    fn volatile_lines_are_dropped() {
        let text = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n-- Dumped from database version 15.1\n-- Dumped by pg_dump version 15.1\n\nSET x = 1;\n\\unrestrict abc\n";
        assert_eq!(
            normalize(text),
            "--\n-- PostgreSQL database dump\n--\n\n\nSET x = 1;\n"
        );
    }
}
