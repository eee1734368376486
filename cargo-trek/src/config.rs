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
//! [env.qa]
//! url_env = "QA_DATABASE_URL"
//! workflow = "qa"
//! snapshot = { strategy = "pg_dump", dir = "/var/backups/trek", keep = 10 }
//!
//! [env.prod]
//! url_env = "DATABASE_URL"    # the variable holding the URL, so secrets stay out of the file
//! workflow = "prod"
//! ```
//!
//! Unknown keys are errors that name the key, the file and the line. Combinations that make
//! no sense (a `snapshot` table outside a qa environment, a `command` strategy without its
//! commands) are errors that name the environment and the key.

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
    /// `[fleet.NAME]`: one table per fleet of databases or tenant schemas.
    #[serde(default)]
    pub fleet: BTreeMap<String, crate::fleet_config::FleetSection>,
}

/// `[trek]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [trek] table of settings")]
pub struct TrekSection {
    /// The migrations folder, relative to `Cargo.toml` (default `migrations`).
    pub migrations: Option<PathBuf>,
    /// The schema of trek's tables (default `trek`).
    pub schema: Option<String>,
    /// How long to wait for another run's advisory lock (`30s`, `10min`; default 10 minutes).
    pub lock_timeout: Option<String>,
    /// The advisory lock key (default: derived from the schema).
    pub lock_key: Option<i64>,
    /// The schemas a reset or a qa restore drops and rebuilds (default: every schema but
    /// PostgreSQL's and trek's).
    pub schemas: Option<Vec<String>>,
    /// The `pg_dump` options of `cargo trek dump` (default `--schema-only --no-owner
    /// --no-privileges`).
    pub dump_args: Option<Vec<String>>,
    /// A server where `cargo trek drift` builds its scratch database (default: the local
    /// server). Any database of it; a scratch database is created beside it.
    pub scratch_url: Option<String>,
    /// How pending migrations are grouped into transactions: `per-migration` (the default)
    /// or `all` (one transaction for the whole run).
    pub transaction: Option<String>,
    /// The folder of the client programs (`pg_dump`, `pg_restore`, `psql`), relative to
    /// `Cargo.toml`, instead of looking for them (`TREK_PG_BIN`, `PATH`, …).
    pub pg_bin: Option<PathBuf>,
}

/// `[env.NAME]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an environment's table, like [env.dev] with url and workflow"
)]
pub struct EnvSection {
    /// The database URL, written in the file.
    pub url: Option<String>,
    /// The name of the environment variable holding the database URL.
    pub url_env: Option<String>,
    /// `dev`, `qa` or `prod` (default: the environment's name when it is one of those).
    pub workflow: Option<String>,
    /// The schema of trek's tables for this environment, overriding `[trek]`.
    pub schema: Option<String>,
    /// The lock timeout for this environment, overriding `[trek]`.
    pub lock_timeout: Option<String>,
    /// qa only: how snapshots are taken and restored (default: `pg_dump` into
    /// `<target dir>/trek/snapshots/<env>`).
    pub snapshot: Option<SnapshotSection>,
    /// How a reset rebuilds the database: `schemas` (drop the managed schemas, the default) or
    /// `database` (drop and recreate the database).
    pub reset: Option<String>,
    /// The managed schemas for this environment, overriding `[trek]`.
    pub schemas: Option<Vec<String>>,
    /// Whether the dev and qa workflows run seeds (default true); `true` on a prod
    /// environment is an error: seeds never reach prod.
    pub seeds: Option<bool>,
    /// A schema dump (with trek's history rows, as `pg_dump` writes it) a reset rebuilds
    /// from instead of from nothing; relative to the package. dev and qa only.
    pub baseline: Option<PathBuf>,
    /// The transaction mode for this environment, overriding `[trek]`.
    pub transaction: Option<String>,
    /// The client programs' folder for this environment's server, overriding `[trek]`.
    pub pg_bin: Option<PathBuf>,
}

/// `snapshot = { ... }` of a qa environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table like snapshot = { strategy = \"pg_dump\", keep = 10 }"
)]
pub struct SnapshotSection {
    /// `pg_dump` (the default), `template`, `command` or `restore_point`.
    pub strategy: Option<String>,
    /// `pg_dump`: the folder of the dumps, relative to `Cargo.toml` (default
    /// `<target dir>/trek/snapshots/<env>`).
    pub dir: Option<PathBuf>,
    /// How many snapshots to keep (default: all); older ones are deleted after a new one.
    pub keep: Option<usize>,
    /// Take a snapshot before each migration, not only before each run.
    pub each_migration: Option<bool>,
    /// Terminate other sessions when the strategy needs the database to itself (`template`).
    pub terminate_sessions: Option<bool>,
    /// `command`: takes snapshot `{id}` (run with `sh -c`).
    pub snapshot_command: Option<String>,
    /// `command`: restores snapshot `{id}`; `restore_point`: restores restore point `{label}`.
    pub restore_command: Option<String>,
    /// `command`: deletes snapshot `{id}` when pruning.
    pub delete_command: Option<String>,
    /// `template`: how the database is copied: `file_copy` (the default), `wal_log` or
    /// `clone` (PostgreSQL 18's `file_copy_method = clone`).
    pub copy: Option<String>,
}

/// A snapshot strategy as `Trek.toml` says it, checked; paths not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrategyConfig {
    /// `pg_dump`, into `dir` when given (relative to the package).
    PgDump {
        /// The folder, as written.
        dir: Option<PathBuf>,
    },
    /// `template`.
    Template {
        /// `copy`, when given.
        copy: Option<trek::TemplateCopy>,
    },
    /// `command`.
    Command {
        /// `snapshot_command`.
        snapshot: String,
        /// `restore_command`.
        restore: String,
        /// `delete_command`.
        delete: Option<String>,
    },
    /// `restore_point`.
    RestorePoint {
        /// `restore_command`.
        restore: String,
    },
}

/// `reset = "schemas" | "database" | "template"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResetConfig {
    /// Drop the managed schemas and rebuild them (the default).
    #[default]
    Schemas,
    /// Drop and recreate the whole database.
    Database,
    /// Replace the database with a copy of the template of the unchanged migrations before
    /// the edit, then apply the rest (what `cargo trek watch` uses unless `reset` is set).
    Template,
}

impl ResetConfig {
    /// Parses the value of `reset`.
    ///
    /// # Errors
    /// A message saying what is accepted.
    pub fn parse(text: &str) -> Result<ResetConfig, String> {
        match text {
            "schemas" => Ok(ResetConfig::Schemas),
            "database" => Ok(ResetConfig::Database),
            "template" => Ok(ResetConfig::Template),
            other => Err(format!(
                "`{other}` is not a reset mode: use \"schemas\" (drop the managed schemas), \
                 \"database\" (drop and recreate the database) or \"template\" (copy a \
                 template of the unchanged migrations, apply the rest)"
            )),
        }
    }
}

impl From<ResetConfig> for trek::ResetMode {
    fn from(mode: ResetConfig) -> Self {
        match mode {
            ResetConfig::Schemas => trek::ResetMode::Schemas,
            ResetConfig::Database => trek::ResetMode::Database,
            ResetConfig::Template => trek::ResetMode::Template,
        }
    }
}

impl SnapshotSection {
    /// The strategy this table describes, checked: the keys a strategy needs are there, and
    /// no key of another strategy is.
    ///
    /// # Errors
    /// A message naming the key, to follow `[env.NAME] snapshot: `.
    pub fn strategy(&self) -> Result<StrategyConfig, String> {
        let strategy = self.strategy.as_deref().unwrap_or("pg_dump");
        let given = |key: &str| match key {
            "dir" => self.dir.is_some(),
            "snapshot_command" => self.snapshot_command.is_some(),
            "restore_command" => self.restore_command.is_some(),
            "delete_command" => self.delete_command.is_some(),
            "copy" => self.copy.is_some(),
            _ => false,
        };
        let allowed: &[&str] = match strategy {
            "pg_dump" => &["dir"],
            "template" => &["copy"],
            "command" => &["snapshot_command", "restore_command", "delete_command"],
            "restore_point" => &["restore_command"],
            other => {
                return Err(format!(
                    "strategy: `{other}` is not a snapshot strategy: use \"pg_dump\", \
                     \"template\", \"command\" or \"restore_point\""
                ))
            }
        };
        for key in [
            "dir",
            "snapshot_command",
            "restore_command",
            "delete_command",
            "copy",
        ] {
            if given(key) && !allowed.contains(&key) {
                return Err(format!(
                    "`{key}` does not apply to strategy \"{strategy}\"{}",
                    match key {
                        "dir" => " (only pg_dump writes files)",
                        "copy" => " (only template copies a database)",
                        "snapshot_command" | "delete_command" =>
                            " (only strategy \"command\" runs it)",
                        _ => " (only strategies \"command\" and \"restore_point\" run it)",
                    }
                ));
            }
        }
        let required = |key: &str, value: &Option<String>| -> Result<String, String> {
            match value.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => Ok(text.to_owned()),
                Some(_) => Err(format!("`{key}` is empty")),
                None => Err(format!(
                    "strategy \"{strategy}\" needs `{key}`: the shell command that {}",
                    match key {
                        "snapshot_command" => "takes snapshot {id}",
                        _ if strategy == "restore_point" => {
                            "restores the cluster to restore point {label}"
                        }
                        _ => "restores snapshot {id}",
                    }
                )),
            }
        };
        if self.keep == Some(0) {
            return Err(
                "`keep` is 0, which would delete the snapshot just taken: keep at least 1, \
                 or leave it out to keep every snapshot"
                    .to_owned(),
            );
        }
        Ok(match strategy {
            "pg_dump" => StrategyConfig::PgDump {
                dir: self.dir.clone(),
            },
            "template" => StrategyConfig::Template {
                copy: self
                    .copy
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| format!("copy: {e}"))?,
            },
            "command" => StrategyConfig::Command {
                snapshot: required("snapshot_command", &self.snapshot_command)?,
                restore: required("restore_command", &self.restore_command)?,
                delete: match &self.delete_command {
                    Some(_) => Some(required("delete_command", &self.delete_command)?),
                    None => None,
                },
            },
            _ => StrategyConfig::RestorePoint {
                restore: required("restore_command", &self.restore_command)?,
            },
        })
    }
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
            // A TOML error quotes the line it is about, which may hold a URL's password.
            message: crate::database::mask_urls_in(&message),
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
    if toml
        .trek
        .migrations
        .as_ref()
        .is_some_and(|m| m.as_os_str().is_empty())
    {
        return Err(
            "[trek] migrations: the path is empty; name the folder, relative to Cargo.toml \
             (default \"migrations\")"
                .to_owned(),
        );
    }
    if let Some(timeout) = &toml.trek.lock_timeout {
        parse_duration(timeout).map_err(|e| format!("[trek] lock_timeout: {e}"))?;
    }
    if let Some(schema) = &toml.trek.schema {
        check_schema(schema).map_err(|e| format!("[trek] schema: {e}"))?;
    }
    if let Some(schemas) = &toml.trek.schemas {
        check_schemas(schemas).map_err(|e| format!("[trek] schemas: {e}"))?;
    }
    if let Some(mode) = &toml.trek.transaction {
        mode.parse::<trek::TransactionMode>()
            .map_err(|e| format!("[trek] transaction: {e}"))?;
    }
    for (name, env) in &toml.env {
        if let Some(mode) = &env.transaction {
            mode.parse::<trek::TransactionMode>()
                .map_err(|e| format!("[env.{name}] transaction: {e}"))?;
        }
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
        let workflow = match &env.workflow {
            Some(workflow) => {
                Some(check_workflow(workflow).map_err(|e| format!("[env.{name}] workflow: {e}"))?)
            }
            None => name.parse::<trek::Workflow>().ok(),
        };
        if let Some(reset) = &env.reset {
            ResetConfig::parse(reset).map_err(|e| format!("[env.{name}] reset: {e}"))?;
        }
        if let Some(schemas) = &env.schemas {
            check_schemas(schemas).map_err(|e| format!("[env.{name}] schemas: {e}"))?;
        }
        // Checked here, whichever environment is selected: a prod environment that would run
        // seeds or reset from a dump is wrong in the file, not only when it is used.
        if workflow == Some(trek::Workflow::Prod) {
            if env.seeds == Some(true) {
                return Err(format!(
                    "[env.{name}] seeds = true: seeds never reach prod; remove the key"
                ));
            }
            if env.baseline.is_some() {
                return Err(format!(
                    "[env.{name}] baseline: a prod environment never resets, so it has no \
                     baseline dump; remove the key"
                ));
            }
        }
        if let Some(snapshot) = &env.snapshot {
            match workflow {
                Some(trek::Workflow::Qa) => {}
                Some(other) => {
                    return Err(format!(
                        "[env.{name}] snapshot: only the qa workflow takes snapshots, and this \
                         environment's workflow is {other}; remove `snapshot` or set \
                         workflow = \"qa\""
                    ))
                }
                None => {
                    return Err(format!(
                        "[env.{name}] snapshot: only the qa workflow takes snapshots, and this \
                         environment has no workflow; add workflow = \"qa\""
                    ))
                }
            }
            snapshot
                .strategy()
                .map_err(|e| format!("[env.{name}] snapshot: {e}"))?;
        }
    }
    Ok(toml)
}

/// Checks a workflow name; the message says which exist.
///
/// # Errors
/// When `name` is not a workflow this trek runs.
pub fn check_workflow(name: &str) -> Result<trek::Workflow, String> {
    name.parse::<trek::Workflow>().map_err(|e| e.to_string())
}

/// Checks a schema name: not empty, at most 63 bytes (PostgreSQL would silently cut a longer
/// name short, and trek would then look for a schema that does not exist), no NUL, and not in
/// the `pg_` namespace PostgreSQL reserves for itself. Any other character is fine: trek
/// quotes every identifier.
///
/// # Errors
/// A message saying what is wrong.
pub fn check_schema(schema: &str) -> Result<(), String> {
    if schema.is_empty() {
        Err("the schema name is empty".to_owned())
    } else if schema.len() > 63 {
        Err(format!(
            "`{schema}` is {} bytes long, and PostgreSQL names are at most 63 bytes; choose a \
             shorter name",
            schema.len()
        ))
    } else if schema.contains('\0') {
        Err("the schema name contains a NUL character".to_owned())
    } else if schema.starts_with("pg_") {
        Err(format!(
            "`{schema}` starts with `pg_`, which PostgreSQL reserves for its own schemas; \
             choose another name"
        ))
    } else {
        Ok(())
    }
}

fn check_schemas(schemas: &[String]) -> Result<(), String> {
    if schemas.is_empty() {
        return Err(
            "the list is empty; name the schemas a reset may drop, or leave `schemas` out to \
             manage every schema"
                .to_owned(),
        );
    }
    for (i, schema) in schemas.iter().enumerate() {
        check_schema(schema)?;
        if schemas[..i].contains(schema) {
            return Err(format!("`{schema}` is listed twice"));
        }
    }
    Ok(())
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

    fn qa_env(snapshot: &str) -> Result<TrekToml, String> {
        parse(&format!(
            "[env.qa]\nurl_env = \"QA_URL\"\nworkflow = \"qa\"\nsnapshot = {{ {snapshot} }}\n"
        ))
    }

    fn strategy(toml: &TrekToml, env: &str) -> StrategyConfig {
        toml.env[env].snapshot.as_ref().unwrap().strategy().unwrap()
    }

    #[test]
    fn qa_is_a_workflow() {
        let toml = parse("[env.qa]\nworkflow = \"qa\"\n").unwrap();
        assert!(toml.env["qa"].snapshot.is_none());
        assert_eq!(check_workflow("qa"), Ok(trek::Workflow::Qa));
    }

    #[test]
    fn snapshot_strategies_parse() {
        let toml = qa_env("strategy = \"pg_dump\", dir = \"snaps\", keep = 3").unwrap();
        assert_eq!(
            strategy(&toml, "qa"),
            StrategyConfig::PgDump {
                dir: Some(PathBuf::from("snaps"))
            }
        );
        let snapshot = toml.env["qa"].snapshot.as_ref().unwrap();
        assert_eq!(snapshot.keep, Some(3));

        // pg_dump is the default strategy.
        let toml = qa_env("keep = 2, each_migration = true, terminate_sessions = true").unwrap();
        assert_eq!(strategy(&toml, "qa"), StrategyConfig::PgDump { dir: None });

        let toml = qa_env("strategy = \"template\"").unwrap();
        assert_eq!(
            strategy(&toml, "qa"),
            StrategyConfig::Template { copy: None }
        );
        let toml = qa_env("strategy = \"template\", copy = \"clone\"").unwrap();
        assert_eq!(
            strategy(&toml, "qa"),
            StrategyConfig::Template {
                copy: Some(trek::TemplateCopy::Clone)
            }
        );
        let err = qa_env("strategy = \"template\", copy = \"reflink\"").unwrap_err();
        assert!(err.contains("file_copy, wal_log or clone"), "{err}");
        let err = qa_env("copy = \"clone\"").unwrap_err();
        assert!(err.contains("only template copies"), "{err}");

        let toml = qa_env(
            "strategy = \"command\", snapshot_command = \"snap {id}\", \
             restore_command = \"restore {id}\", delete_command = \"rm {id}\"",
        )
        .unwrap();
        assert_eq!(
            strategy(&toml, "qa"),
            StrategyConfig::Command {
                snapshot: "snap {id}".to_owned(),
                restore: "restore {id}".to_owned(),
                delete: Some("rm {id}".to_owned()),
            }
        );

        let toml =
            qa_env("strategy = \"restore_point\", restore_command = \"pitr {label}\"").unwrap();
        assert_eq!(
            strategy(&toml, "qa"),
            StrategyConfig::RestorePoint {
                restore: "pitr {label}".to_owned()
            }
        );

        // An environment named qa is the qa workflow without saying so.
        assert!(parse("[env.qa]\nsnapshot = { strategy = \"template\" }\n").is_ok());
    }

    #[test]
    fn bad_snapshot_tables_name_the_environment_and_the_key() {
        let err = |snapshot: &str| qa_env(snapshot).unwrap_err();
        let e = err("strategy = \"zfs\"");
        assert!(
            e.contains("[env.qa] snapshot: strategy") && e.contains("zfs"),
            "{e}"
        );
        let e = err("strategy = \"command\", restore_command = \"r\"");
        assert!(
            e.contains("[env.qa] snapshot") && e.contains("snapshot_command"),
            "{e}"
        );
        let e = err("strategy = \"command\", snapshot_command = \"s\"");
        assert!(e.contains("restore_command"), "{e}");
        let e = err("strategy = \"restore_point\"");
        assert!(e.contains("restore_command"), "{e}");
        let e =
            err("strategy = \"restore_point\", restore_command = \"r\", snapshot_command = \"s\"");
        assert!(e.contains("`snapshot_command` does not apply"), "{e}");
        let e = err("strategy = \"template\", dir = \"x\"");
        assert!(e.contains("`dir` does not apply"), "{e}");
        let e = err("restore_command = \"r\"");
        assert!(
            e.contains("`restore_command` does not apply to strategy \"pg_dump\""),
            "{e}"
        );
        let e = err("keep = 0");
        assert!(e.contains("`keep`"), "{e}");
        let e = err("strategy = \"command\", snapshot_command = \" \", restore_command = \"r\"");
        assert!(e.contains("`snapshot_command` is empty"), "{e}");
        // Unknown keys and wrong types are TOML errors naming the key and the line.
        let e = err("stratgy = \"pg_dump\"");
        assert!(e.contains("stratgy") && e.contains("line 4"), "{e}");
        let e = err("keep = \"ten\"");
        assert!(e.contains("line 4"), "{e}");
    }

    #[test]
    fn a_snapshot_outside_qa_is_an_error() {
        let e = parse("[env.prod]\nworkflow = \"prod\"\nsnapshot = { keep = 1 }\n").unwrap_err();
        assert!(
            e.contains("[env.prod] snapshot") && e.contains("workflow is prod"),
            "{e}"
        );
        // The environment's name counts as its workflow.
        let e = parse("[env.dev]\nsnapshot = { keep = 1 }\n").unwrap_err();
        assert!(e.contains("[env.dev] snapshot"), "{e}");
        let e = parse("[env.staging]\n[env.staging.snapshot]\nkeep = 1\n").unwrap_err();
        assert!(
            e.contains("[env.staging] snapshot") && e.contains("no workflow"),
            "{e}"
        );
    }

    #[test]
    fn reset_and_schemas() {
        let toml = parse(
            "[trek]\nschemas = [\"public\", \"app\"]\n[env.dev]\nreset = \"database\"\n\
             schemas = [\"app\"]\n",
        )
        .unwrap();
        assert_eq!(
            toml.trek.schemas,
            Some(vec!["public".to_owned(), "app".to_owned()])
        );
        assert_eq!(toml.env["dev"].reset.as_deref(), Some("database"));
        assert_eq!(ResetConfig::parse("schemas"), Ok(ResetConfig::Schemas));
        let e = parse("[env.dev]\nreset = \"everything\"\n").unwrap_err();
        assert!(
            e.contains("[env.dev] reset") && e.contains("everything"),
            "{e}"
        );
        let e = parse("[trek]\nschemas = []\n").unwrap_err();
        assert!(e.contains("[trek] schemas"), "{e}");
        let e = parse("[env.dev]\nschemas = [\"a\", \"a\"]\n").unwrap_err();
        assert!(
            e.contains("[env.dev] schemas") && e.contains("twice"),
            "{e}"
        );
        let e = parse("[env.dev]\nschemas = [\"\"]\n").unwrap_err();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn schema_names_postgresql_would_cut_or_refuse_are_errors() {
        assert!(check_schema("Odd \"Schema\" name; DROP TABLE x; --").is_ok());
        assert!(check_schema(&"s".repeat(63)).is_ok());
        let e = parse(&format!("[trek]\nschema = \"{}\"\n", "s".repeat(64))).unwrap_err();
        assert!(e.contains("[trek] schema") && e.contains("63 bytes"), "{e}");
        let e = parse("[env.dev]\nschema = \"pg_trek\"\n").unwrap_err();
        assert!(e.contains("[env.dev] schema") && e.contains("pg_"), "{e}");
        assert!(check_schema("a\0b").is_err());
    }

    #[test]
    fn an_empty_migrations_path_is_an_error() {
        let e = parse("[trek]\nmigrations = \"\"\n").unwrap_err();
        assert!(e.contains("[trek] migrations"), "{e}");
    }

    #[test]
    fn a_prod_environment_with_seeds_or_a_baseline_is_an_error_whichever_is_selected() {
        let e = parse("[env.dev]\n[env.prod]\nseeds = true\n").unwrap_err();
        assert!(
            e.contains("[env.prod] seeds") && e.contains("never reach prod"),
            "{e}"
        );
        let e = parse("[env.live]\nworkflow = \"prod\"\nbaseline = \"db.sql\"\n").unwrap_err();
        assert!(e.contains("[env.live] baseline"), "{e}");
        assert!(parse("[env.prod]\nseeds = false\n").is_ok());
        assert!(parse("[env.dev]\nseeds = true\nbaseline = \"db.sql\"\n").is_ok());
    }

    #[test]
    fn the_transaction_mode_is_checked_in_trek_and_per_environment() {
        assert!(parse(
            "[trek]\ntransaction = \"all\"\n[env.dev]\ntransaction = \"per-migration\"\n"
        )
        .is_ok());
        let e = parse("[trek]\ntransaction = \"one\"\n").unwrap_err();
        assert!(
            e.contains("[trek] transaction") && e.contains("per-migration"),
            "{e}"
        );
        let e = parse("[env.prod]\ntransaction = \"each\"\n").unwrap_err();
        assert!(
            e.contains("[env.prod] transaction") && e.contains("`each`"),
            "{e}"
        );
    }

    #[test]
    fn a_section_of_the_wrong_type_says_what_is_expected() {
        let e = parse("[env]\ndev = 3\n").unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("an environment's table") && !e.contains("struct"),
            "{e}"
        );
        let e = parse("trek = \"x\"\n").unwrap_err();
        assert!(
            e.contains("the [trek] table") && !e.contains("struct"),
            "{e}"
        );
        let e = parse("[env.qa]\nsnapshot = 1\n").unwrap_err();
        assert!(e.contains("snapshot = {") && !e.contains("struct"), "{e}");
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
