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
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert((t.url.clone(), t.schema.clone())));
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

/// The URLs of a file, one per line; blank lines and `#` comments are skipped.
fn from_file(path: &Path) -> Result<Vec<Target>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read the fleet's URL file",
        path: path.to_owned(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#')
        })
        .map(|(i, line)| database_target(line.trim(), &format!("{}:{}", path.display(), i + 1)))
        .collect()
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
    let messages = connection
        .client
        .simple_query(query)
        .map_err(|e| Error::Config {
            path: None,
            message: format!(
                "[fleet.{fleet}] {key} failed on {}: {}",
                connection.url,
                trek::describe_postgres_error(&e)
            ),
        })?;
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
