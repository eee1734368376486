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
}

impl ResetMode {
    /// `schemas` or `database`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ResetMode::Schemas => "schemas",
            ResetMode::Database => "database",
        }
    }
}

impl FromStr for ResetMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "schemas" => Ok(ResetMode::Schemas),
            "database" => Ok(ResetMode::Database),
            other => Err(format!(
                "`{other}` is not a reset mode: use `schemas` or `database`"
            )),
        }
    }
}
