//! `Trek.toml`: the file's model, read and checked, before flags and the environment apply.
//!
//! ```toml
//! [trek]
//! migrations = "migrations"   # the folder, relative to Cargo.toml
//! schema = "trek"             # where trek keeps its tables
//! lock_timeout = "10min"      # how long to wait for another run's lock
//!
//! [env.dev]
//! url = "postgres://localhost/app_dev"
//! workflow = "dev"
//!
//! [env.prod]
//! url_env = "DATABASE_URL"    # the variable holding the URL, so secrets stay out of the file
//! workflow = "prod"
//! ```
//!
//! Unknown keys are errors that name the key, the file and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;

/// The file name, beside the package's `Cargo.toml`.
pub const FILE_NAME: &str = "Trek.toml";

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrekToml {
    /// `[trek]`: settings for every environment.
    #[serde(default)]
    pub trek: TrekSection,
    /// `[env.NAME]`: one table per environment.
    #[serde(default)]
    pub env: BTreeMap<String, EnvSection>,
}

/// `[trek]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrekSection {
    /// The migrations folder, relative to `Cargo.toml` (default `migrations`).
    pub migrations: Option<PathBuf>,
    /// The schema of trek's tables (default `trek`).
    pub schema: Option<String>,
    /// How long to wait for another run's advisory lock (`30s`, `10min`; default 10 minutes).
    pub lock_timeout: Option<String>,
    /// The advisory lock key (default: derived from the schema).
    pub lock_key: Option<i64>,
}

/// `[env.NAME]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSection {
    /// The database URL, written in the file.
    pub url: Option<String>,
    /// The name of the environment variable holding the database URL.
    pub url_env: Option<String>,
    /// `dev` or `prod` (default: the environment's name when it is one of those).
    pub workflow: Option<String>,
    /// The schema of trek's tables for this environment, overriding `[trek]`.
    pub schema: Option<String>,
    /// The lock timeout for this environment, overriding `[trek]`.
    pub lock_timeout: Option<String>,
}

/// A `Trek.toml` as read: its path (when it exists) and its content.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// The file, when it exists.
    pub path: Option<PathBuf>,
    /// What it says (all defaults when there is no file).
    pub toml: TrekToml,
}

impl ConfigFile {
    /// Reads `Trek.toml` in `dir`; no file means every default.
    ///
    /// # Errors
    /// [`Error::Config`] when the file cannot be read, is not TOML, has an unknown key or a
    /// value of the wrong type (the message names the file, the line and the key), or a
    /// setting is invalid (a lock timeout that is not a duration, an environment with both
    /// `url` and `url_env`).
    pub fn load(dir: &Path) -> Result<ConfigFile, Error> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => {
                return Err(Error::Config {
                    path: Some(path),
                    message: format!("could not be read: {e}"),
                })
            }
        };
        let toml = parse(&text).map_err(|message| Error::Config {
            path: Some(path.clone()),
            message,
        })?;
        Ok(ConfigFile {
            path: Some(path),
            toml,
        })
    }
}

/// Parses and checks the text of a `Trek.toml`.
///
/// # Errors
/// A message naming the line and the problem.
pub fn parse(text: &str) -> Result<TrekToml, String> {
    let toml: TrekToml = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
    if let Some(timeout) = &toml.trek.lock_timeout {
        parse_duration(timeout).map_err(|e| format!("[trek] lock_timeout: {e}"))?;
    }
    if let Some(schema) = &toml.trek.schema {
        check_schema(schema).map_err(|e| format!("[trek] schema: {e}"))?;
    }
    for (name, env) in &toml.env {
        if env.url.is_some() && env.url_env.is_some() {
            return Err(format!(
                "[env.{name}] has both `url` and `url_env`; keep one"
            ));
        }
        if let Some(timeout) = &env.lock_timeout {
            parse_duration(timeout).map_err(|e| format!("[env.{name}] lock_timeout: {e}"))?;
        }
        if let Some(schema) = &env.schema {
            check_schema(schema).map_err(|e| format!("[env.{name}] schema: {e}"))?;
        }
        if let Some(workflow) = &env.workflow {
            check_workflow(workflow).map_err(|e| format!("[env.{name}] workflow: {e}"))?;
        }
    }
    Ok(toml)
}

/// Checks a workflow name; the message says which exist.
///
/// # Errors
/// When `name` is not a workflow this trek runs.
pub fn check_workflow(name: &str) -> Result<trek::Workflow, String> {
    match name.parse::<trek::Workflow>() {
        Ok(workflow) => Ok(workflow),
        Err(_) if name == "qa" => Err(
            "the qa workflow is not available in this version of trek; use `dev` or `prod`"
                .to_owned(),
        ),
        Err(e) => Err(e.to_string()),
    }
}

fn check_schema(schema: &str) -> Result<(), String> {
    if schema.is_empty() {
        Err("the schema name is empty".to_owned())
    } else {
        Ok(())
    }
}

/// Parses a duration as people write it: `500ms`, `30s`, `5min` (or `5m`), `2h`, or a bare
/// number of seconds.
///
/// # Errors
/// A message saying what is accepted.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || {
        format!("`{text}` is not a duration: write a whole number and a unit, like 500ms, 30s, 5min or 1h")
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" | "sec" | "secs" => Duration::from_secs(n),
        "m" | "min" | "mins" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(bad()),
    };
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("[trek]\nschema = \"trek\"\nmigratoins = \"db\"\n").unwrap_err();
        assert!(err.contains("migratoins"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_key_in_env_is_an_error() {
        let err = parse("[env.dev]\nurl = \"postgres://x/y\"\nworkflw = \"dev\"\n").unwrap_err();
        assert!(err.contains("workflw") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn full_example_parses() {
        let toml = parse(
            "[trek]\nmigrations = \"db/migrations\"\nschema = \"trek\"\nlock_timeout = \"30s\"\n\
             [env.dev]\nurl = \"postgres://localhost/app_dev\"\nworkflow = \"dev\"\n\
             [env.prod]\nurl_env = \"DATABASE_URL\"\nworkflow = \"prod\"\n",
        )
        .unwrap();
        assert_eq!(toml.env.len(), 2);
        assert_eq!(
            toml.trek.migrations.as_deref(),
            Some(Path::new("db/migrations"))
        );
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse("[trek]\nlock_timeout = \"soon\"\n").is_err());
        assert!(parse("[env.x]\nworkflow = \"staging\"\n").is_err());
        assert!(parse("[env.x]\nurl = \"a\"\nurl_env = \"B\"\n").is_err());
        assert!(parse("[trek]\nschema = 3\n").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5min"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("12"), Ok(Duration::from_secs(12)));
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("s").is_err());
    }
}
