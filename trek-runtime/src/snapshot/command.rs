//! The `command` and `restore_point` strategies: the team's own tools do the work.
//!
//! A command is run with `sh -c` after replacing `{id}`, `{label}`, `{lsn}`, `{database}` and
//! `{url}`; the same values are in its environment (`TREK_SNAPSHOT_ID`,
//! `TREK_SNAPSHOT_LABEL`, `TREK_SNAPSHOT_LSN`, `TREK_DATABASE`, `TREK_DATABASE_URL`) beside
//! libpq's `PG*` variables. What trek logs and reports is the command as configured, never
//! with the URL filled in.

use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The values a command is given.
#[derive(Debug, Clone, Default)]
pub(crate) struct Values<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub lsn: &'a str,
    pub database: &'a str,
    pub url: &'a str,
}

/// Runs `template` with `values` filled in; `what` names it in errors.
pub(crate) fn run(
    template: &str,
    values: &Values<'_>,
    pg_env: &[(String, String)],
    what: &str,
) -> Result<()> {
    let command = template
        .replace("{id}", values.id)
        .replace("{label}", values.label)
        .replace("{lsn}", values.lsn)
        .replace("{database}", values.database)
        .replace("{url}", values.url);
    tracing::info!(
        command = template,
        id = values.id,
        "running the {what} command"
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .envs(pg_env.iter().map(|(k, v)| (k, v)))
        .env("TREK_SNAPSHOT_ID", values.id)
        .env("TREK_SNAPSHOT_LABEL", values.label)
        .env("TREK_SNAPSHOT_LSN", values.lsn)
        .env("TREK_DATABASE", values.database)
        .env("TREK_DATABASE_URL", values.url)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("could not run the {what} command `{template}`"), e))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut detail: String = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(5)
        .collect::<Vec<_>>()
        .join("; ");
    if !values.url.is_empty() {
        detail = detail.replace(values.url, "<url>");
    }
    for (name, value) in pg_env {
        if name == "PGPASSWORD" && !value.is_empty() {
            detail = detail.replace(value.as_str(), "***");
        }
    }
    Err(Error::Program {
        context: format!("the {what} command"),
        program: template.to_owned(),
        status: out.status.to_string(),
        output: detail,
    })
}
