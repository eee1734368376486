//! Prefix templates ([`crate::ResetMode::Template`]): a dev reset that keeps the unchanged
//! migrations before the first edited one by copying a database that holds just them.
//!
//! A prefix template is a database named `<database>__trek_prefix_<hash>`, where the hash
//! covers trek's schema and the kind, version and checksum of each migration of the prefix, so
//! a template is used only for exactly the files it was built from. It is built on first need
//! in a database of its own (never from the dev database, whose sessions and data are the
//! developer's): created empty (or as a copy of the longest shorter prefix template there is),
//! migrated by a nested dev run up to the prefix's last version, then renamed into place, so a
//! half-built template never carries the final name. The reset then copies it over the dev
//! database the way the `template` snapshot strategy restores (clone, carry the audit log
//! across, swap the names). [`Migrator::prepare_prefix_copy`] makes that copy ahead
//! (`<template>_r`), so the next reset only renames it into place; a build in progress is
//! `<template>_b`. A database keeps at most [`KEEP`] prefix templates; the others, and any
//! whose files changed, are dropped with their copies when a new one is built.

use std::time::{Duration, Instant};

use postgres::Client;
use sha2::{Digest, Sha256};

use super::Migrator;
use crate::connect::Connect;
use crate::error::{Error, Result};
use crate::history::sequence::SequenceKey;
use crate::report::PrefixTemplateUse;
use crate::reset::ResetMode;
use crate::sql::quote_ident;
use crate::Workflow;

/// How many prefix templates of one database are kept (the longest ones that still match the
/// migrations).
pub(crate) const KEEP: usize = 3;

/// Hex digits of the prefix hash in a template's name.
const HASH_HEX: usize = 12;

/// The bytes of the database's name kept in its templates' names: with `__trek_prefix_`, the
/// hash and a two-byte suffix (`_r`, `_b`) the longest name fits PostgreSQL's 63 bytes.
const BASE_BYTES: usize = 63 - "__trek_prefix_".len() - HASH_HEX - 2;

/// The start of every prefix template name of `database`: its name, shortened, and
/// `__trek_prefix_`.
pub(crate) fn name_start(database: &str) -> String {
    let mut base = database.to_owned();
    while base.len() > BASE_BYTES {
        base.pop();
    }
    format!("{base}__trek_prefix_")
}

/// The copy of `template` made ahead of the next reset ([`Migrator::prepare_prefix_copy`]).
pub(crate) fn ready_name(template: &str) -> String {
    format!("{template}_r")
}

/// The database a template is built in before it takes its name.
fn building_name(template: &str) -> String {
    format!("{template}_b")
}

/// The template names of every prefix of `prefix`: element `k` names the template holding its
/// first `k + 1` items.
pub(crate) fn names(database: &str, schema: &str, prefix: &[SequenceKey]) -> Vec<String> {
    let start = name_start(database);
    let mut hasher = Sha256::new();
    hasher.update(schema.as_bytes());
    hasher.update([0]);
    prefix
        .iter()
        .map(|key| {
            hasher.update(key.kind.to_string().as_bytes());
            hasher.update([0]);
            hasher.update(key.version.as_str().as_bytes());
            hasher.update([0]);
            hasher.update(key.checksum.as_str().as_bytes());
            hasher.update([b'\n']);
            let digest = hasher.clone().finalize();
            let hex: String = digest[..HASH_HEX / 2]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("{start}{hex}")
        })
        .collect()
}

/// Says in a migration's error that it failed in a prefix template being built, not in the
/// database itself, and what to do when the migrations need more than an empty database.
fn while_building(error: Error, database: &str, migrations: usize) -> Error {
    let note = format!(
        "this ran while building a prefix template (a new database holding the first \
         {migrations} migrations, for `reset = \"template\"`); {database} is untouched. If the \
         migrations need something {database} had before them, set `reset = \"schemas\"` for \
         this environment"
    );
    error.with_note(|before| match before {
        Some(before) => format!("{before}. {note}"),
        None => note,
    })
}

impl Migrator<'_> {
    /// The template holding `prefix` (not empty), built when missing; on `maintenance`, a
    /// session on the maintenance database.
    ///
    /// # Errors
    /// The server refuses to create, rename or drop a database; a migration of the prefix
    /// fails in the template (the template is dropped, the dev database untouched).
    pub(super) fn prefix_template(
        &self,
        maintenance: &mut Client,
        connector: &dyn Connect,
        database: &str,
        prefix: &[SequenceKey],
    ) -> Result<PrefixTemplateUse> {
        let names = names(database, &self.schema, prefix);
        let Some(wanted) = names.last().cloned() else {
            return Err(Error::Snapshot {
                message: "internal error: a prefix template of no migration was asked for; \
                          please report it"
                    .to_owned(),
            });
        };
        let start = name_start(database);
        let existing: Vec<String> = maintenance
            .query(
                "SELECT datname::text FROM pg_database WHERE starts_with(datname::text, $1)",
                &[&start],
            )
            .map_err(|e| Error::db("could not list the prefix templates", e))?
            .into_iter()
            .map(|row| row.get(0))
            .collect();
        let used = |built: bool, build: Duration| PrefixTemplateUse {
            name: wanted.clone(),
            migrations: prefix.len(),
            built,
            build,
            copy: Duration::ZERO,
            ready_copy: false,
        };
        if existing.contains(&wanted) {
            return Ok(used(false, Duration::ZERO));
        }
        let started = Instant::now();
        // The longest shorter prefix that has a template: the build starts from a copy of it.
        let from = names[..names.len() - 1]
            .iter()
            .enumerate()
            .rev()
            .find(|(_, name)| existing.contains(name));
        // How many of the prefix's migrations the copy starts with.
        let held = from.map_or(0, |(i, _)| i + 1);
        let from = from.map(|(_, name)| name);
        let building = building_name(&wanted);
        let run = |sql: &str, what: &str, client: &mut Client| {
            client
                .batch_execute(sql)
                .map_err(|e| Error::db(format!("could not {what}"), e))
        };
        run(
            &format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ),
            "drop a leftover prefix template build",
            maintenance,
        )?;
        let create = match from {
            Some(from) => format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(&building),
                quote_ident(from)
            ),
            None => format!("CREATE DATABASE {}", quote_ident(&building)),
        };
        run(
            &create,
            &format!(
                "create the prefix template {building} (`reset = \"template\"` needs the right \
                 to create databases; `reset = \"schemas\"` resets without it)"
            ),
            maintenance,
        )?;
        tracing::info!(template = %wanted, migrations = prefix.len(), from = ?from, "building a prefix template");
        if let Err(e) = self.migrate_template(connector, &building, prefix, held) {
            let _ = maintenance.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ));
            return Err(while_building(e, database, prefix.len()));
        }
        let renamed = maintenance.batch_execute(&format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(&building),
            quote_ident(&wanted)
        ));
        if let Err(e) = renamed {
            // Another run built the same template meanwhile: use that one.
            let _ = maintenance.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ));
            if e.code() != Some(&postgres::error::SqlState::DUPLICATE_DATABASE) {
                return Err(Error::db("could not name the prefix template", e));
            }
        }
        let build = started.elapsed();
        self.prune_prefix_templates(maintenance, &existing, &names);
        Ok(used(true, build))
    }

    /// Applies the migrations of `prefix` after the first `held` (which the new database
    /// `building` already holds) with a nested dev run that stops at the prefix's last version
    /// (no repeatables, no seeds, no events).
    fn migrate_template(
        &self,
        connector: &dyn Connect,
        building: &str,
        prefix: &[SequenceKey],
        held: usize,
    ) -> Result<()> {
        let last = prefix.last().map(|k| k.version.clone());
        let mut nested = self.clone();
        nested.workflow = Workflow::Dev;
        nested.target = last;
        nested.seeds = false;
        nested.events = None;
        nested.reset_mode = ResetMode::Schemas;
        nested.snapshots = None;
        nested.baseline_dump = None;
        nested.allow_destructive_on = None;
        let mut client = connector
            .connect(building)
            .map_err(|e| Error::db(format!("could not connect to {building}"), e))?;
        let report = nested.run(&mut client)?;
        if report.applied.len() != prefix.len() - held || !report.reverted.is_empty() {
            return Err(Error::Snapshot {
                message: format!(
                    "internal error: the prefix template was to get {} more migrations but {} \
                     were applied to it and {} reverted; please report it",
                    prefix.len() - held,
                    report.applied.len(),
                    report.reverted.len()
                ),
            });
        }
        Ok(())
    }

    /// Drops this database's prefix templates that no longer match the migrations (not in
    /// `current`, the names of the current prefixes) and all but the [`KEEP`] longest that do,
    /// with their copies made ahead. Builds under way are left alone.
    fn prune_prefix_templates(
        &self,
        maintenance: &mut Client,
        existing: &[String],
        current: &[String],
    ) {
        // The newly built one is the last of `current`: it is kept.
        let kept: Vec<&String> = current
            .iter()
            .rev()
            .filter(|name| existing.contains(name) || Some(*name) == current.last())
            .take(KEEP)
            .collect();
        let doomed = existing.iter().filter(|name| {
            let template = name.strip_suffix("_r").unwrap_or(name);
            !name.ends_with("_b") && !kept.iter().any(|k| k.as_str() == template)
        });
        for name in doomed {
            match maintenance.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(name)
            )) {
                Ok(()) => tracing::info!(template = %name, "dropped a prefix template"),
                Err(e) => {
                    tracing::warn!(template = %name, error = %crate::db_error::describe(&e), "could not drop a prefix template")
                }
            }
        }
    }

    /// Makes a copy of the prefix `template` (the name a [`crate::PrefixTemplateUse`] reports)
    /// ready for the next reset, so that reset renames the copy into place instead of copying
    /// while the developer waits. `cargo trek watch` calls this between passes: `CREATE
    /// DATABASE` takes ~0.5 s even for a small database, which is more than replaying a
    /// hundred small migrations. Does nothing when the copy exists or the template is gone.
    /// Returns whether it made one.
    ///
    /// # Errors
    /// [`Error::Snapshot`] for a name that is not a prefix template's; no [`crate::Connect`]
    /// set; the server refuses to create the copy.
    pub fn prepare_prefix_copy(&self, template: &str) -> Result<bool> {
        if !template.contains("__trek_prefix_")
            || template.ends_with("_r")
            || template.ends_with("_b")
        {
            return Err(Error::Snapshot {
                message: format!("{template} is not the name of a prefix template"),
            });
        }
        let connector = self.connector_for("preparing a copy of a prefix template")?;
        let mut maintenance = crate::snapshot::connect_maintenance(connector)?;
        let ready = ready_name(template);
        let present: Vec<String> = maintenance
            .query(
                "SELECT datname::text FROM pg_database WHERE datname = ANY($1)",
                &[&vec![template.to_owned(), ready.clone()]],
            )
            .map_err(|e| Error::db("could not look for the prefix template", e))?
            .into_iter()
            .map(|row| row.get(0))
            .collect();
        if present.contains(&ready) || !present.iter().any(|n| n == template) {
            return Ok(false);
        }
        match maintenance.batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&ready),
            quote_ident(template)
        )) {
            Ok(()) => Ok(true),
            // Made meanwhile by another run.
            Err(e) if e.code() == Some(&postgres::error::SqlState::DUPLICATE_DATABASE) => Ok(false),
            Err(e) => Err(Error::db(
                format!("could not copy the prefix template {template}"),
                e,
            )),
        }
    }
}
