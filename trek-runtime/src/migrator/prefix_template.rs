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
//! across, swap the names). A database keeps at most [`KEEP`] prefix templates; the others,
//! and any whose files changed, are dropped when a new one is built.

use std::time::{Duration, Instant};

use postgres::Client;
use sha2::{Digest, Sha256};

use super::Migrator;
use crate::connect::Connect;
use crate::error::{Error, Result};
use crate::history::sequence::SequenceKey;
use crate::report::PrefixTemplateUse;
use crate::reset::ResetMode;
use crate::snapshot::catalogue::object_name;
use crate::sql::quote_ident;
use crate::Workflow;

/// How many prefix templates of one database are kept (the longest ones that still match the
/// migrations).
pub(crate) const KEEP: usize = 3;

/// The start of every prefix template name of `database` (its database part shortened as in
/// [`names`]).
fn name_start(database: &str) -> String {
    let full = object_name(database, &format!("prefix_{}", "0".repeat(HASH_HEX)));
    full[..full.len() - HASH_HEX].to_owned()
}

/// Hex digits of the prefix hash in a template's name.
const HASH_HEX: usize = 12;

/// The template names of every prefix of `prefix`: element `k` names the template holding its
/// first `k + 1` items.
pub(crate) fn names(database: &str, schema: &str, prefix: &[SequenceKey]) -> Vec<String> {
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
            object_name(database, &format!("prefix_{hex}"))
        })
        .collect()
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
        let wanted = names.last().cloned().unwrap_or_default();
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
        };
        if existing.contains(&wanted) {
            return Ok(used(false, Duration::ZERO));
        }
        let started = Instant::now();
        // The longest shorter prefix that has a template: the build starts from a copy of it.
        let from = names[..names.len() - 1]
            .iter()
            .rev()
            .find(|name| existing.contains(name));
        let building = object_name(database, &format!("prefix_building_{}", std::process::id()));
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
        run(&create, "create a prefix template", maintenance)?;
        tracing::info!(template = %wanted, migrations = prefix.len(), from = ?from, "building a prefix template");
        if let Err(e) = self.migrate_template(connector, &building, prefix) {
            let _ = maintenance.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ));
            return Err(e);
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

    /// Applies the migrations of `prefix` to the new database `building` with a nested dev
    /// run that stops at the prefix's last version (no repeatables, no seeds, no events).
    fn migrate_template(
        &self,
        connector: &dyn Connect,
        building: &str,
        prefix: &[SequenceKey],
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
        if report.applied.len() != prefix.len() {
            return Err(Error::Snapshot {
                message: format!(
                    "the prefix template was to hold {} migrations but {} were applied to it",
                    prefix.len(),
                    report.applied.len()
                ),
            });
        }
        Ok(())
    }

    /// Drops this database's prefix templates that no longer match the migrations (not in
    /// `current`, the names of the current prefixes) and all but the [`KEEP`] longest that do.
    fn prune_prefix_templates(
        &self,
        maintenance: &mut Client,
        existing: &[String],
        current: &[String],
    ) {
        let mut kept = 0;
        let mut doomed: Vec<&String> = existing.iter().filter(|n| !current.contains(n)).collect();
        // The newly built one is the last of `current`; it counts towards KEEP.
        for name in current.iter().rev() {
            if existing.contains(name) || Some(name) == current.last() {
                kept += 1;
                if kept > KEEP {
                    doomed.push(name);
                }
            }
        }
        for name in doomed {
            // Another run's build under way.
            if name.contains("__trek_prefix_building_") {
                continue;
            }
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
}
