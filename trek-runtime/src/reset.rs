//! Resets: the dev workflow's way back from a divergence it cannot rewind, and `cargo trek
//! reset`.

use std::str::FromStr;

/// How a reset rebuilds the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResetMode {
    /// Drop the managed schemas (see [`crate::Migrator::managed_schemas`]) and recreate
    /// `public`, in one transaction; trek's own schema stays, with its audit log and an empty
    /// history. The default: it needs no other database and no privilege beyond owning the
    /// schemas.
    #[default]
    Schemas,
    /// Drop and recreate the whole database (`DROP DATABASE … WITH (FORCE)`, which ends other
    /// sessions), carrying the audit log across. Needs a [`crate::Connect`] and the right to
    /// create databases.
    Database,
    /// Like [`ResetMode::Database`], but the new database is a copy (`CREATE DATABASE …
    /// TEMPLATE`) of a *prefix template*: a database holding the migrations before the first
    /// edited one, so only the changed tail is applied again. The template is built on first
    /// need (from a shorter prefix template when one exists), named
    /// `<database>__trek_prefix_<hash of the prefix's versions and checksums>`, and kept for
    /// the next reset; `cargo trek watch` uses this mode. When nothing before the edit is
    /// unchanged, or for `cargo trek reset`, it resets as [`ResetMode::Schemas`] does. Needs a
    /// [`crate::Connect`] and the right to create databases. The idea is the one of
    /// `trek::testing`'s template databases and of PostgreSQL's template databases
    /// (<https://www.postgresql.org/docs/current/manage-ag-templatedbs.html>).
    Template,
}

impl ResetMode {
    /// `schemas`, `database` or `template`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ResetMode::Schemas => "schemas",
            ResetMode::Database => "database",
            ResetMode::Template => "template",
        }
    }
}

impl FromStr for ResetMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "schemas" => Ok(ResetMode::Schemas),
            "database" => Ok(ResetMode::Database),
            "template" => Ok(ResetMode::Template),
            other => Err(format!(
                "`{other}` is not a reset mode: use `schemas`, `database` or `template`"
            )),
        }
    }
}
