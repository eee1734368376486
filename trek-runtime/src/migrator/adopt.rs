//! Recording the migrations another tool applied, so trek carries on where it stopped.

use postgres::Client;
use trek_core::{Kind, Version};

use super::Migrator;
use crate::error::{Error, Result};
use crate::report::Report;

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
            let exec = self.executor(None);
            let failed = |e| Error::db("could not record the adopted migrations", e);
            let mut tx = guard.transaction().map_err(failed)?;
            for m in self.migrations.versioned().filter(|m| {
                m.version()
                    .is_some_and(|v| versions.contains(v) && !recorded.contains(&v))
            }) {
                report.applied.push(self.record_without_running(
                    &mut tx,
                    &exec,
                    m,
                    Some(detail),
                    "could not record the adopted migrations",
                )?);
            }
            tx.commit().map_err(failed)
        })?;
        Ok(report)
    }
}
