//! A fleet's targets, from its source in `Trek.toml`: URLs, a file of URLs, a query on a
//! control database, or tenant schemas of one database.

use std::path::Path;

use trek::Target;

use crate::database::{self, describe_url, with_database};
use crate::error::Error;
use crate::fleet_config::{Fleet, Source, Url};

/// The fleet's targets, in order, without duplicates.
///
/// # Errors
/// [`Error::Config`] for a URL that does not parse (naming where it came from), a variable
/// that is not set, a file that cannot be read (with the line of a bad URL), a query that
/// fails, or a fleet with no targets; [`Error::Connect`] when the control database cannot be
/// reached.
pub fn resolve(fleet: &Fleet, trek_schema: &str) -> Result<Vec<Target>, Error> {
    let config = |message: String| Error::Config {
        path: None,
        message,
    };
    let mut targets = match &fleet.source {
        Source::Urls(urls) => urls
            .iter()
            .map(|url| database_target(url_of(url)?, &url.source))
            .collect::<Result<Vec<_>, _>>()?,
        Source::File(path) => from_file(path)?,
        Source::Query { at, query } => {
            let control = url_of(at)?;
            rows(control, &at.source, query, &fleet.name, "query")?
                .into_iter()
                .map(|(row, value)| {
                    let source = format!("row {row} of [fleet.{}] query", fleet.name);
                    if value.contains("://") {
                        database_target(&value, &source)
                    } else {
                        database_target(&with_database(control, &value), &source)
                    }
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        Source::Schemas { at, schemas } => {
            let base = database_target(url_of(at)?, &at.source)?;
            let history_prefix = format!("{trek_schema}_");
            if let Some(bad) = schemas
                .iter()
                .find(|s| *s == trek_schema || s.starts_with(&history_prefix))
            {
                return Err(config(format!(
                    "[fleet.{}] schemas: `{bad}` cannot be a tenant: schemas named \
                     {trek_schema} or {trek_schema}_… hold trek's history (tenant x keeps \
                     its history in {trek_schema}_x)",
                    fleet.name
                )));
            }
            schemas
                .iter()
                .map(|schema| base.clone().in_schema(schema.clone()))
                .collect()
        }
        Source::SchemasQuery { at, query } => {
            let url = url_of(at)?;
            let base = database_target(url, &at.source)?;
            let history_prefix = format!("{trek_schema}_");
            let mut tenants = Vec::new();
            for (row, schema) in rows(url, &at.source, query, &fleet.name, "schemas_query")? {
                // trek's own history schemas (trek, trek_<tenant>) are never tenants.
                if schema == trek_schema || schema.starts_with(&history_prefix) {
                    continue;
                }
                crate::config::check_schema(&schema).map_err(|e| {
                    config(format!(
                        "row {row} of [fleet.{}] schemas_query: {e}",
                        fleet.name
                    ))
                })?;
                tenants.push(base.clone().in_schema(schema));
            }
            tenants
        }
    };
    // One database reached by two URLs (other options, another user) is one target.
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert((t.server.clone(), t.name.clone())));
    // Same-named databases of different servers (shards) are told apart by their server.
    let mut count = std::collections::HashMap::new();
    for t in &targets {
        *count.entry(t.name.clone()).or_insert(0) += 1;
    }
    for t in &mut targets {
        if count[&t.name] > 1 {
            t.name = format!("{}/{}", t.server, t.name);
        }
    }
    if targets.is_empty() {
        return Err(config(format!(
            "fleet `{}` has no targets: its {} gave none",
            fleet.name,
            match fleet.source {
                Source::Urls(_) => "URLs",
                Source::File(_) => "file",
                Source::Query { .. } => "query",
                Source::Schemas { .. } => "schemas",
                Source::SchemasQuery { .. } => "schemas_query",
            }
        )));
    }
    Ok(targets)
}

fn url_of(url: &Url) -> Result<&str, Error> {
    url.url.as_deref().map_err(|message| Error::Config {
        path: None,
        message: message.clone(),
    })
}

/// The target of the database at `url`.
fn database_target(url: &str, source: &str) -> Result<Target, Error> {
    let (database, server) = describe_url(url, source)?;
    Ok(Target::new(database, server, url))
}

/// The URLs of a file, one per line; blank lines and `#` comments (a line's, or after
/// blanks at its end) are skipped.
fn from_file(path: &Path) -> Result<Vec<Target>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read the fleet's URL file",
        path: path.to_owned(),
        source,
    })?;
    text.lines()
        .enumerate()
        .map(|(i, line)| (i, without_comment(line)))
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| database_target(line, &format!("{}:{}", path.display(), i + 1)))
        .collect()
}

/// A line of a URL file without its comment: `#` at its start, or after a blank.
fn without_comment(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('#') {
        return "";
    }
    match line.find([' ', '\t']) {
        Some(blank) if line[blank..].trim_start().starts_with('#') => line[..blank].trim_end(),
        _ => line,
    }
}

/// The first column of each row of `query` on the database at `url`, with the row number
/// (from 1); rows with a NULL or empty value are skipped.
fn rows(
    url: &str,
    source: &str,
    query: &str,
    fleet: &str,
    key: &str,
) -> Result<Vec<(usize, String)>, Error> {
    let mut connection = database::connect_url(url, source)?;
    let shown = connection.url.clone();
    let failed = |e: trek::postgres::Error| Error::Config {
        path: None,
        message: format!(
            "[fleet.{fleet}] {key} failed on {shown}: {}",
            trek::describe_postgres_error(&e)
        ),
    };
    // Listing targets never writes: the query runs in a read-only transaction, rolled back.
    let mut tx = connection
        .client
        .build_transaction()
        .read_only(true)
        .start()
        .map_err(failed)?;
    let messages = tx.simple_query(query).map_err(failed)?;
    drop(tx);
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            trek::postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
            _ => None,
        })
        .enumerate()
        .filter_map(|(i, value)| Some((i + 1, value.filter(|v| !v.trim().is_empty())?)))
        .map(|(i, value)| (i, value.trim().to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::without_comment;

    #[test]
    fn comments_of_a_url_file_are_left_out() {
        assert_eq!(without_comment("  # all tenants"), "");
        assert_eq!(
            without_comment("postgres://h/t1   # eu-1"),
            "postgres://h/t1"
        );
        assert_eq!(without_comment("postgres://h/t1\t#eu"), "postgres://h/t1");
        // A `#` inside the URL (a percent-encoding would be better, but it is not a comment).
        assert_eq!(
            without_comment("postgres://u:p#w@h/t1"),
            "postgres://u:p#w@h/t1"
        );
        assert_eq!(without_comment(""), "");
    }
}
