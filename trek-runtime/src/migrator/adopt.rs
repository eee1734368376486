//! Recording the migrations another tool applied, so trek carries on where it stopped.

use std::time::Duration;

use postgres::Client;
use trek_core::{Kind, Version};

use super::Migrator;
use crate::apply::Subject;
use crate::error::{Error, Result};
use crate::history::audit::Action;
use crate::history::down;
use crate::report::{Report, Step};
use crate::sql::quote_ident;

impl Migrator<'_> {
    /// Records exactly the versioned migrations of `versions` as applied without running them,
    /// each audited as `baseline` with `detail` (say where the list came from, such as
    /// `imported from goose_db_version`). Unlike [`Migrator::baseline`], the versions need not
    /// be every migration up to one: another tool may have applied some out of order. Versions
    /// trek already records are left as they are, so running it again records nothing.
    ///
    /// Returns the migrations recorded, in version order.
    ///
    /// # Errors
    /// [`Error::UnknownVersion`] when a version is not one of the migrations' (nothing is
    /// recorded), and database errors.
    pub fn adopt(&self, client: &mut Client, versions: &[Version], detail: &str) -> Result<Report> {
        if let Some(missing) = versions
            .iter()
            .find(|v| !self.migrations.versioned().any(|m| m.version() == Some(v)))
        {
            return Err(Error::UnknownVersion {
                version: missing.to_string(),
                hint: Some("every adopted version must be a migration of the folder".to_owned()),
            });
        }
        let mut report = Report::default();
        self.locked(client, &mut report, |guard, report| {
            let history = self.load_for_write(guard, None)?;
            let recorded: Vec<&Version> = history
                .rows
                .iter()
                .filter(|r| r.kind == Kind::Versioned && !r.failed)
                .filter_map(|r| r.version.as_ref())
                .collect();
            let s = quote_ident(&self.schema);
            let exec = self.executor(None);
            let failed = |e| Error::db("could not record the adopted migrations", e);
            let mut tx = guard.transaction().map_err(failed)?;
            for m in self.migrations.versioned().filter(|m| {
                m.version()
                    .is_some_and(|v| versions.contains(v) && !recorded.contains(&v))
            }) {
                let v = m.version().map(ToString::to_string);
                tx.execute(
                    &format!(
                        "INSERT INTO {s}.applied (kind, version, name, checksum, up_sql, {columns}, duration_ms, path, trek_version) \
                         VALUES ('versioned', $1, $2, $3, $4, {down}, 0, $5, $6)",
                        columns = down::COLUMNS,
                        down = down::values_sql(m),
                    ),
                    &[
                        &v,
                        &m.name(),
                        &m.checksum().as_str(),
                        &(m.sql().len() <= crate::history::STORED_SCRIPT_LIMIT).then(|| m.sql()),
                        &m.path(),
                        &crate::TREK_VERSION,
                    ],
                )
                .map_err(failed)?;
                exec.record_action(&mut tx, Action::Baseline, &Subject::of(m), Some(detail))?;
                report.applied.push(Step {
                    kind: Kind::Versioned,
                    version: v,
                    name: m.name().to_owned(),
                    duration: Duration::ZERO,
                });
            }
            tx.commit().map_err(failed)
        })?;
        Ok(report)
    }
}
