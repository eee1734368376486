//! The qa snapshot operations of a run (taking, restoring, recording, pruning), each through
//! the strategy that owns it ([`crate::snapshot::strategy`]), and replaying plain dumps
//! (baselines, `restore --from-dump`).

use std::path::Path;
use std::time::Instant;

use postgres::Client;

use super::Migrator;
use crate::connect::Connect;
use crate::error::{Error, Result};
use crate::history::applied::History;
use crate::history::audit::Action;
use crate::history::sequence::SequenceKey;
use crate::lock::LockGuard;
use crate::plan::{analyze, view, Goal};
use crate::schemas;
use crate::snapshot::catalogue::{self, SnapshotRecord};
use crate::snapshot::strategy::{self, Carry, Context, Deletion, Strategy};
use crate::snapshot::tools::ClientTools;
use crate::snapshot::{carry, pg_dump, template, SnapshotInfo, Snapshots};
use crate::sql::quote_ident;
use crate::Workflow;

impl Migrator<'_> {
    /// The snapshot settings, which the qa workflow cannot do without.
    pub(super) fn snapshot_settings(&self) -> Result<&Snapshots> {
        self.snapshots.as_ref().ok_or_else(|| Error::Snapshot {
            message: "the qa workflow takes snapshots, and none are configured: give the \
                      migrator Snapshots (Migrator::snapshots), or `snapshot = { strategy = \
                      \"pg_dump\", dir = \"...\" }` in the environment of Trek.toml"
                .to_owned(),
        })
    }

    /// The caller's connector, needed for `what`.
    pub(super) fn connector_for(&self, what: &str) -> Result<&dyn Connect> {
        self.connector_ref().ok_or_else(|| Error::NeedsConnector {
            what: what.to_owned(),
        })
    }

    fn connector_ref(&self) -> Option<&dyn Connect> {
        self.connector.as_ref().map(|c| c.0.as_ref())
    }

    /// The catalogue when the workflow uses it (qa), for planning.
    pub(super) fn catalogue_for_plan(&self, client: &mut Client) -> Result<Vec<SnapshotRecord>> {
        if self.workflow == Workflow::Qa {
            catalogue::read(client, &self.schema)
        } else {
            Ok(Vec::new())
        }
    }

    /// What a run of the workflow would do, as callers see it; a refused plan is
    /// [`view::Undo::Blocked`] saying why.
    pub(super) fn plan_view(&self, history: &History, catalogue: &[SnapshotRecord]) -> view::Plan {
        match self.plan_goal(&Goal::Workflow, history, catalogue, None) {
            Ok(plan) => plan.view(self.workflow),
            Err(e) => {
                let analysis = analyze(self.migrations, &history.rows, self.runs_seeds());
                let mut view = crate::plan::Plan {
                    divergence: analysis.divergence_view(),
                    ..crate::plan::Plan::default()
                }
                .view(self.workflow);
                view.apply = analysis
                    .pending
                    .iter()
                    .map(|m| view::PlannedScript::of(m))
                    .collect();
                view.undo = view::Undo::Blocked {
                    reason: e.to_string(),
                };
                view
            }
        }
    }

    /// The context a strategy works in, on `client`.
    pub(super) fn strategy_context<'a>(
        &'a self,
        client: &'a mut Client,
        database: &'a str,
        dumped_schemas: &'a [String],
    ) -> Context<'a> {
        Context {
            client,
            connector: self.connector_ref(),
            database,
            terminate_sessions: self.terminate_sessions
                || self
                    .snapshots
                    .as_ref()
                    .is_some_and(|s| s.terminate_sessions),
            template_copy: self
                .snapshots
                .as_ref()
                .map(|s| s.template_copy)
                .unwrap_or_default(),
            dumped_schemas,
        }
    }

    /// The configured strategy, for taking snapshots.
    pub(super) fn configured_strategy(&self) -> Result<Box<dyn Strategy>> {
        Ok(strategy::configured(&self.snapshot_settings()?.strategy))
    }

    /// The strategy that took `entry`, for restoring or deleting it.
    pub(super) fn entry_strategy(&self, entry: &SnapshotRecord) -> Box<dyn Strategy> {
        strategy::of_entry(
            &entry.location,
            self.snapshots.as_ref().map(|s| &s.strategy),
        )
    }

    /// Takes snapshot `id` with the configured strategy on `client` (trek's own session, or
    /// the maintenance session when the strategy needs the database alone).
    pub(super) fn take_snapshot(
        &self,
        client: &mut Client,
        database: &str,
        id: i64,
        label: &str,
        holds: &[SequenceKey],
    ) -> Result<SnapshotRecord> {
        let strategy = self.configured_strategy()?;
        let dumped = self.dumped_schemas();
        let taken = strategy.take(
            &mut self.strategy_context(client, database, &dumped),
            &strategy::SnapshotName::new(id),
            label,
        )?;
        Ok(SnapshotRecord::new(
            id,
            label,
            holds.to_vec(),
            taken.location,
            taken.size_bytes,
        ))
    }

    /// Restores `entry` with the strategy that took it, carrying trek's audit log and
    /// catalogue across (read beforehand through `own`, trek's session on the database) and
    /// auditing the restore. `client` is `own` for a strategy that works in place, else the
    /// maintenance session.
    pub(super) fn restore_snapshot(
        &self,
        client: &mut Client,
        carried: &carry::Carried,
        drop_sql: &str,
        database: &str,
        entry: &SnapshotRecord,
    ) -> Result<()> {
        tracing::info!(snapshot = %entry.info, "restoring");
        let detail = restore_detail(entry, carried.audit_rows);
        let carry_sql = |duration_sql: &str| {
            format!(
                "{}{}",
                carry::restore_sql(&self.schema, carried),
                self.executor(Some(self.workflow)).event_sql_timed(
                    Action::Restore,
                    &detail,
                    duration_sql,
                    None
                )
            )
        };
        let dumped = self.dumped_schemas();
        self.entry_strategy(entry).restore(
            &mut self.strategy_context(client, database, &dumped),
            entry,
            &Carry {
                drop_sql,
                carry_sql: &carry_sql,
            },
        )?;
        tracing::info!(snapshot = %entry.info, "restored");
        Ok(())
    }

    /// The statements that drop the managed schemas and trek's, before a dump is replayed.
    pub(super) fn replace_sql(&self, client: &mut Client) -> Result<(String, String)> {
        let managed = schemas::managed(
            client,
            &self.schema,
            self.managed_schemas.as_deref(),
            self.tenant_schema.as_deref(),
        )?;
        let mut sql = schemas::drop_sql(&managed);
        sql.push_str(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE;\n",
            quote_ident(&self.schema)
        ));
        Ok((sql, schemas::names(&managed)))
    }

    /// Adds a snapshot to the catalogue and the audit log; returns it as recorded.
    pub(super) fn record_snapshot(
        &self,
        client: &mut Client,
        record: SnapshotRecord,
        started: Instant,
    ) -> Result<SnapshotInfo> {
        let detail = format!(
            "took snapshot #{} ({}) with {}: {}",
            record.info.id, record.info.label, record.info.strategy, record.info.location
        );
        let mut tx = client
            .transaction()
            .map_err(|e| Error::db("could not record the snapshot in the catalogue", e))?;
        let taken_at = catalogue::insert(&mut tx, &self.schema, &record, self.workflow.as_str())?;
        self.executor(Some(self.workflow)).record_event(
            &mut tx,
            Action::Snapshot,
            &detail,
            started.elapsed(),
            None,
        )?;
        tx.commit()
            .map_err(|e| Error::db("could not record the snapshot in the catalogue", e))?;
        tracing::info!(snapshot = record.info.id, label = %record.info.label, "took a snapshot");
        Ok(SnapshotInfo {
            taken_at: taken_at.to_string(),
            ..record.info
        })
    }

    /// Resets to the baseline schema dump: drops the managed schemas and trek's, replays the
    /// dump (which carries trek's history rows) and carries the audit log and catalogue back,
    /// in one transaction.
    pub(super) fn reset_to_baseline(
        &self,
        client: &mut Client,
        dump: &Path,
        reason: &str,
    ) -> Result<()> {
        self.replay_dump(
            client,
            dump,
            Action::Reset,
            &format!(
                "from the baseline schema dump {} because {reason}",
                dump.display()
            ),
        )
    }

    /// Replaces the managed schemas and trek's history with a plain dump, in one transaction
    /// (psql's), keeping the audit log, the catalogue and the environment stamp; audited as
    /// `action`. The server times the transaction.
    pub(super) fn replay_dump(
        &self,
        client: &mut Client,
        dump: &Path,
        action: Action,
        why: &str,
    ) -> Result<()> {
        tracing::info!(dump = %dump.display(), why, "replaying a schema dump");
        let connector = self.connector_for("replaying a dump")?;
        let database = current_database(client)?;
        let tools = ClientTools::for_server(client, connector.client_programs_dir())?;
        let carried = carry::read(client, &self.schema)?;
        let (drop_sql, managed) = self.replace_sql(client)?;
        let mut postlude = carry::restore_sql(&self.schema, &carried);
        postlude.push_str(&self.executor(Some(self.workflow)).event_sql_timed(
            action,
            &format!("rebuilt {managed} {why}"),
            crate::apply::TRANSACTION_MS_SQL,
            None,
        ));
        pg_dump::restore(
            &tools,
            &connector.client_env(&database),
            pg_dump::Dump::Plain(dump),
            &drop_sql,
            &postlude,
        )
    }

    /// The schemas a `pg_dump` snapshot holds: every one when no managed schemas are
    /// configured, else those and trek's.
    fn dumped_schemas(&self) -> Vec<String> {
        match &self.managed_schemas {
            Some(list) => list
                .iter()
                .cloned()
                .chain(std::iter::once(self.schema.clone()))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Prunes to the configured `keep`, when there is one.
    pub(super) fn prune_to_keep(&self, guard: &mut LockGuard<'_>) -> Result<()> {
        if let Some(keep) = self.snapshots.as_ref().and_then(|s| s.keep) {
            self.prune(guard, keep)?;
        }
        Ok(())
    }

    /// Deletes all but the newest `keep` snapshots, each through the strategy that took it,
    /// and forgets them.
    pub(super) fn prune(
        &self,
        guard: &mut LockGuard<'_>,
        keep: usize,
    ) -> Result<Vec<SnapshotInfo>> {
        let database = guard.session.database.clone();
        let client: &mut Client = guard;
        let records = catalogue::read(client, &self.schema)?;
        let excess = records.len().saturating_sub(keep);
        let mut deleted = Vec::new();
        for record in records.into_iter().take(excess) {
            let strategy = self.entry_strategy(&record);
            let deletion =
                strategy.delete(&mut self.strategy_context(client, &database, &[]), &record)?;
            if let Deletion::Forgotten(why) = &deletion {
                tracing::info!(snapshot = %record.info, why, "forgetting a snapshot trek cannot delete");
            }
            catalogue::forget(client, &self.schema, record.info.id)?;
            tracing::info!(snapshot = %record.info, "pruned");
            deleted.push(record.info);
        }
        Ok(deleted)
    }
}

impl Migrator<'_> {
    /// Leftover snapshots of this database that no catalogue entry knows: databases named as
    /// trek names template snapshots of it, and dump files so named in the configured
    /// `pg_dump` folder (restore points and the team's own snapshots cannot be listed).
    pub(super) fn orphans(&self, client: &mut Client) -> Result<Vec<crate::OrphanSnapshot>> {
        use crate::snapshot::is_snapshot_name_of;
        let database = current_database(client)?;
        let known: Vec<String> = catalogue::read(client, &self.schema)?
            .into_iter()
            .map(|r| r.info.location)
            .collect();
        let mut out = Vec::new();
        let rows = client
            .query("SELECT datname::text FROM pg_database ORDER BY 1", &[])
            .map_err(|e| Error::db("could not list the server's databases", e))?;
        for name in rows.into_iter().map(|r| r.get::<_, String>(0)) {
            if name != database && is_snapshot_name_of(&database, &name) && !known.contains(&name) {
                out.push(crate::OrphanSnapshot {
                    strategy: "template".to_owned(),
                    location: name,
                });
            }
        }
        if let Some(crate::SnapshotStrategy::PgDump { dir }) =
            self.snapshots.as_ref().map(|s| &s.strategy)
        {
            let mut files: Vec<_> = match std::fs::read_dir(dir) {
                Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(Error::io(format!("could not list {}", dir.display()), e)),
            };
            files.sort();
            for path in files {
                let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let stem = file
                    .strip_suffix(".dump")
                    .or_else(|| file.strip_suffix(".dump.partial"));
                let location = path.display().to_string();
                if stem.is_some_and(|stem| is_snapshot_name_of(&database, stem))
                    && !known.contains(&location)
                {
                    out.push(crate::OrphanSnapshot {
                        strategy: "pg_dump".to_owned(),
                        location,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Deletes the leftovers [`Migrator::orphans`] finds.
    pub(super) fn prune_orphans(&self, client: &mut Client) -> Result<Vec<crate::OrphanSnapshot>> {
        let orphans = self.orphans(client)?;
        // One session on the maintenance database for all the leftover databases.
        let mut maintenance = None;
        for orphan in &orphans {
            match orphan.strategy.as_str() {
                "template" => {
                    let session = match &mut maintenance {
                        Some(session) => session,
                        None => maintenance.insert(crate::snapshot::connect_maintenance(
                            self.connector_for("deleting a leftover snapshot database")?,
                        )?),
                    };
                    template::delete(session, &orphan.location)?;
                }
                _ => pg_dump::delete(Path::new(&orphan.location))?,
            }
            tracing::info!(orphan = %orphan, "deleted a leftover snapshot");
        }
        Ok(orphans)
    }
}

/// The name of the database `client` is connected to.
pub(super) fn current_database(client: &mut Client) -> Result<String> {
    client
        .query_one("SELECT current_database()::text", &[])
        .map(|row| row.get(0))
        .map_err(|e| Error::db("could not read the database's name", e))
}

/// The audit detail of a restore.
fn restore_detail(record: &SnapshotRecord, carried: i64) -> String {
    format!(
        "restored snapshot #{} ({}, {}) and carried {carried} audit rows across",
        record.info.id, record.info.label, record.info.strategy
    )
}
