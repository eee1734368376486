//! The qa snapshot operations that run under trek's lock: taking `pg_dump` and
//! `restore_point` snapshots, restoring `pg_dump` ones, recording and pruning the catalogue;
//! and the sessions to other databases the other strategies use.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use postgres::Client;

use super::Migrator;
use crate::connect::Connect;
use crate::error::{Error, Result};
use crate::history::audit::Action;
use crate::plan::view;
use crate::plan::Analysis;
use crate::schemas;
use crate::snapshot::catalogue::{self, SnapshotRecord};
use crate::snapshot::tools::ClientTools;
use crate::snapshot::{
    carry, command, pg_dump, template, SnapshotInfo, SnapshotStrategy, Snapshots,
};
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
        self.connector
            .as_ref()
            .map(|c| c.0.as_ref())
            .ok_or_else(|| Error::NeedsConnector {
                what: what.to_owned(),
            })
    }

    /// The catalogue when the workflow uses it (qa), for planning.
    pub(super) fn catalogue_for_plan(&self, client: &mut Client) -> Result<Vec<SnapshotRecord>> {
        if self.workflow == Workflow::Qa {
            catalogue::read(client, &self.schema)
        } else {
            Ok(Vec::new())
        }
    }

    /// The plan as callers see it; a refused plan is [`view::Undo::Blocked`].
    pub(super) fn plan_view(
        &self,
        analysis: &Analysis<'_, '_>,
        snapshots: &[SnapshotRecord],
    ) -> view::Plan {
        let planned = match self.workflow {
            Workflow::Prod => analysis.plan_prod(&self.options),
            Workflow::Dev => analysis.plan_dev(&self.options),
            Workflow::Qa => analysis.plan_qa(&self.options, snapshots),
        };
        match planned {
            Ok(plan) => plan.view(self.workflow, analysis),
            Err(e) => {
                let mut view = crate::plan::Plan {
                    apply: analysis.pending.clone(),
                    ..crate::plan::Plan::default()
                }
                .view(self.workflow, analysis);
                view.undo = view::Undo::Blocked {
                    reason: e.to_string(),
                };
                view
            }
        }
    }

    /// Takes a `pg_dump` or `restore_point` snapshot while holding the lock, and records it.
    pub(super) fn take_in_place(
        &self,
        client: &mut Client,
        id: i64,
        label: &str,
        applied: &[String],
    ) -> Result<SnapshotInfo> {
        let started = Instant::now();
        let settings = self.snapshot_settings()?;
        let database = current_database(client)?;
        let name = catalogue::object_name(&database, &id.to_string());
        let (location, size_bytes) = match &settings.strategy {
            SnapshotStrategy::PgDump { dir } => {
                let connector = self.connector_for("a pg_dump snapshot")?;
                let tools = ClientTools::for_server(client)?;
                let schemas = self.dumped_schemas();
                let (file, size) = pg_dump::take(
                    &tools,
                    &connector.client_env(&database),
                    dir,
                    &name,
                    &schemas,
                )?;
                (file.display().to_string(), Some(size))
            }
            SnapshotStrategy::RestorePoint { .. } => {
                let row = client
                    .query_one("SELECT pg_create_restore_point($1)::text", &[&name])
                    .map_err(|e| Error::db("could not create a restore point", e))?;
                let lsn: String = row.get(0);
                (format!("{name} {lsn}"), None)
            }
            other => {
                return Err(Error::Snapshot {
                    message: format!("the {other} strategy needs the database to itself"),
                })
            }
        };
        self.record_snapshot(
            client,
            SnapshotRecord {
                info: SnapshotInfo {
                    id,
                    taken_at: String::new(),
                    strategy: settings.strategy.as_str().to_owned(),
                    location,
                    label: label.to_owned(),
                    applied_count: applied.len(),
                    size_bytes,
                },
                applied: applied.to_vec(),
            },
            started,
        )
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
        let sql = format!(
            "BEGIN;\n{}{}COMMIT;",
            catalogue::insert_sql(&self.schema, &record, self.workflow.as_str()),
            self.executor(Some(self.workflow)).event_sql(
                Action::Snapshot,
                &detail,
                started.elapsed().as_millis(),
                None
            )
        );
        client
            .batch_execute(&sql)
            .map_err(|e| Error::db("could not record the snapshot in the catalogue", e))?;
        tracing::info!(snapshot = record.info.id, label = %record.info.label, "took a snapshot");
        let id = record.info.id;
        Ok(catalogue::read(client, &self.schema)?
            .into_iter()
            .find(|r| r.info.id == id)
            .map_or(record.info, |r| r.info))
    }

    /// Restores a `pg_dump` snapshot in one transaction while holding the lock.
    pub(super) fn restore_in_place(
        &self,
        client: &mut Client,
        record: &SnapshotRecord,
    ) -> Result<()> {
        tracing::info!(snapshot = %record.info, "restoring");
        self.replay(
            client,
            pg_dump::Dump::Custom(Path::new(&record.info.location)),
            Action::Restore,
            |_, carried| super::run::restore_detail(record, carried),
        )
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

    /// Replaces the managed schemas and trek's history with a plain dump, in one transaction,
    /// keeping the audit log, the catalogue and the environment stamp; audited as `action`.
    pub(super) fn replay_dump(
        &self,
        client: &mut Client,
        dump: &Path,
        action: Action,
        why: &str,
    ) -> Result<()> {
        tracing::info!(dump = %dump.display(), why, "replaying a schema dump");
        self.replay(client, pg_dump::Dump::Plain(dump), action, |managed, _| {
            format!("rebuilt {managed} {why}")
        })
    }

    /// Drops the managed schemas and trek's and replays `dump` in one transaction (psql's),
    /// then carries the audit log, the catalogue and the environment stamp back and writes
    /// the audit row of `action`, whose detail `detail` makes from the managed schemas' names
    /// and the number of audit rows carried. The server times the transaction.
    fn replay(
        &self,
        client: &mut Client,
        dump: pg_dump::Dump<'_>,
        action: Action,
        detail: impl FnOnce(&str, i64) -> String,
    ) -> Result<()> {
        let connector = self.connector_for("replaying a dump")?;
        let database = current_database(client)?;
        let tools = ClientTools::for_server(client)?;
        let carried = carry::read(client, &self.schema)?;
        let managed = schemas::managed(client, &self.schema, self.managed_schemas.as_deref())?;
        let mut prelude = schemas::drop_sql(&managed);
        prelude.push_str(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE;\n",
            quote_ident(&self.schema)
        ));
        let mut postlude = carry::restore_sql(&self.schema, &carried);
        postlude.push_str(&self.executor(Some(self.workflow)).event_sql_timed(
            action,
            &detail(&schemas::names(&managed), carried.audit_rows),
            crate::apply::TRANSACTION_MS_SQL,
            None,
        ));
        pg_dump::restore(
            &tools,
            &connector.client_env(&database),
            dump,
            &prelude,
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
    pub(super) fn prune_to_keep(&self, client: &mut Client) -> Result<()> {
        if let Some(keep) = self.snapshots.as_ref().and_then(|s| s.keep) {
            self.prune(client, keep)?;
        }
        Ok(())
    }

    /// Deletes all but the newest `keep` snapshots and forgets them.
    pub(super) fn prune(&self, client: &mut Client, keep: usize) -> Result<Vec<SnapshotInfo>> {
        let records = catalogue::read(client, &self.schema)?;
        let database = current_database(client)?;
        let excess = records.len().saturating_sub(keep);
        let mut deleted = Vec::new();
        for record in records.into_iter().take(excess) {
            self.delete_snapshot(&database, &record)?;
            client
                .batch_execute(&catalogue::delete_sql(&self.schema, record.info.id))
                .map_err(|e| Error::db("could not remove a snapshot from the catalogue", e))?;
            tracing::info!(snapshot = %record.info, "pruned");
            deleted.push(record.info);
        }
        Ok(deleted)
    }

    /// Deletes what a snapshot occupies, by the strategy that took it.
    fn delete_snapshot(&self, database: &str, record: &SnapshotRecord) -> Result<()> {
        match record.info.strategy.as_str() {
            "pg_dump" => pg_dump::delete(Path::new(&record.info.location)),
            "template" => {
                let connector = self.connector_for("deleting a template snapshot")?;
                let mut maintenance = connect_maintenance(connector)?;
                template::delete(&mut maintenance, &record.info.location)
            }
            "command" => match self.snapshots.as_ref().map(|s| &s.strategy) {
                Some(SnapshotStrategy::Command {
                    delete: Some(delete),
                    ..
                }) => {
                    let connector = self.connector_for("deleting a snapshot")?;
                    let id = record.info.id.to_string();
                    let url = connector.url(database);
                    command::run(
                        delete,
                        &command::Values {
                            id: &id,
                            label: &record.info.label,
                            database,
                            url: &url,
                            ..command::Values::default()
                        },
                        &connector.client_env(database),
                        "delete",
                    )
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// The name of the database `client` is connected to.
pub(super) fn current_database(client: &mut Client) -> Result<String> {
    client
        .query_one("SELECT current_database()::text", &[])
        .map(|row| row.get(0))
        .map_err(|e| Error::db("could not read the database's name", e))
}

/// A session on the maintenance database (`postgres`, else `template1`).
pub(super) fn connect_maintenance(connector: &dyn Connect) -> Result<Client> {
    connector
        .connect("postgres")
        .or_else(|_| connector.connect("template1"))
        .map_err(|e| {
            Error::db(
                "could not connect to the maintenance database (postgres or template1)",
                e,
            )
        })
}

/// A new session on `database`, retried for a minute while the server comes back (a
/// point-in-time recovery restarts it).
pub(super) fn reconnect(connector: &dyn Connect, database: &str) -> Result<Client> {
    let started = Instant::now();
    loop {
        match connector.connect(database) {
            Ok(client) => return Ok(client),
            Err(e) if started.elapsed() > Duration::from_secs(60) => {
                return Err(Error::db(format!("could not reconnect to {database}"), e))
            }
            Err(_) => thread::sleep(Duration::from_millis(250)),
        }
    }
}
