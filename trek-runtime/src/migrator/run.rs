//! The steps of a workflow run. A run is a sequence of steps, each under trek's advisory
//! lock: plan, then either finish the plan or do one thing that changes what the next plan
//! sees (a reset, a restore, a snapshot before one migration) and plan again. Steps that need
//! the database free of every session, trek's own included (`template` snapshots, database
//! resets, the team's restore commands), are handed back to [`Migrator::run`], which does
//! them between two locked steps with [`Migrator::exclusive`].

use std::time::Instant;

use postgres::Client;
use trek_core::Kind;

use super::Migrator;
use crate::error::{Error, Result};
use crate::history::audit::Action;
use crate::history::meta;
use crate::lock::LockGuard;
use crate::plan::Plan;
use crate::report::Report;
use crate::reset::ResetMode;
use crate::schemas;
use crate::snapshot::catalogue::{self, SnapshotRecord};
use crate::snapshot::{carry, command, template, SnapshotInfo, SnapshotStrategy};
use crate::sql::quote_ident;
use crate::{stale, Workflow};

/// What a run remembers between steps.
#[derive(Debug, Default)]
pub(super) struct RunState {
    /// The applied sequence a snapshot was taken for (or restored to) in this run: no second
    /// snapshot of the same state.
    snapshot_for: Option<Vec<String>>,
    /// Whether the reset asked for by [`Migrator::reset`] was done.
    reset_done: bool,
    /// The database's name.
    database: String,
    /// Whether the stale-binary check ran.
    checked_stale: bool,
}

/// What the run does after a step.
#[derive(Debug)]
pub(super) enum Next {
    /// The plan is carried out.
    Done,
    /// Plan again: the step changed what the plan sees.
    Again,
    /// Do this with trek's own session closed, then plan again.
    Exclusive(Exclusive),
}

/// Work that needs the database free of every session.
#[derive(Debug)]
pub(super) enum Exclusive {
    Snapshot {
        id: i64,
        label: String,
        applied: Vec<String>,
    },
    Restore(SnapshotRecord),
    ResetDatabase {
        reason: String,
    },
}

impl Migrator<'_> {
    /// One locked step of a run.
    pub(super) fn step(
        &self,
        guard: &mut LockGuard<'_>,
        report: &mut Report,
        state: &mut RunState,
    ) -> Result<Next> {
        let database = guard.session.database.clone();
        state.database.clone_from(&database);
        if self.force_reset
            && self.workflow == Workflow::Prod
            && self.allow_destructive_on.as_deref() != Some(database.as_str())
        {
            return Err(Error::Protected {
                database,
                stamp: "prod".to_owned(),
                action: "reset it (the environment's workflow is prod)".to_owned(),
            });
        }
        let history = self.load_for_write(guard, Some(self.workflow))?;
        if self.workflow.is_destructive() || self.force_reset {
            let action = if self.force_reset {
                "reset it".to_owned()
            } else {
                format!("run the {} workflow", self.workflow)
            };
            self.check_protection(&history, &database, &action)?;
        }
        if self.workflow == Workflow::Dev && !state.checked_stale {
            report.warnings.extend(stale::check(self.migrations));
            state.checked_stale = true;
        }
        let snapshots = if self.workflow == Workflow::Qa {
            catalogue::read(guard, &self.schema)?
        } else {
            Vec::new()
        };
        let analysis = self.analyze(&history.rows);
        let mut plan = if self.force_reset && !state.reset_done {
            analysis.plan_reset(&self.options, "a reset was asked for")
        } else {
            match self.workflow {
                Workflow::Prod => analysis.plan_prod(&self.options)?,
                Workflow::Dev => analysis.plan_dev(&self.options)?,
                Workflow::Qa => analysis.plan_qa(&self.options, &snapshots)?,
            }
        };
        if self.seeds_only {
            plan = seeds_only(plan, analysis.divergence_view())?;
        }
        if report.plan.is_none() {
            report.plan = Some(plan.view(self.workflow, &analysis));
        }

        if let Some(reason) = plan.reset.take() {
            state.reset_done = true;
            state.snapshot_for = None;
            if let Some(dump) = &self.baseline_dump {
                self.reset_to_baseline(guard, dump, &reason)?;
                return Ok(Next::Again);
            }
            return match self.reset_mode {
                ResetMode::Schemas => {
                    self.reset_schemas(guard, &reason)?;
                    Ok(Next::Again)
                }
                ResetMode::Database => Ok(Next::Exclusive(Exclusive::ResetDatabase { reason })),
            };
        }
        if let Some(record) = plan.restore.take() {
            let settings = self.snapshot_settings()?;
            state.snapshot_for = Some(record.applied.clone());
            if matches!(settings.strategy, SnapshotStrategy::PgDump { .. }) {
                self.restore_in_place(guard, &record)?;
                return Ok(Next::Again);
            }
            return Ok(Next::Exclusive(Exclusive::Restore(record)));
        }
        if plan.snapshot {
            let settings = self.snapshot_settings()?;
            let current: Vec<String> = analysis
                .sequence
                .iter()
                .map(|r| catalogue::row_key(r))
                .collect();
            if state.snapshot_for.as_ref() != Some(&current) {
                let label = snapshot_label(&plan);
                let id = catalogue::next_id(guard, &self.schema)?;
                if matches!(
                    settings.strategy,
                    SnapshotStrategy::Template | SnapshotStrategy::Command { .. }
                ) {
                    return Ok(Next::Exclusive(Exclusive::Snapshot {
                        id,
                        label,
                        applied: current,
                    }));
                }
                let info = self.take_in_place(guard, id, &label, &current)?;
                report.snapshots.push(info);
                state.snapshot_for = Some(current);
                self.prune_to_keep(guard)?;
            }
            if settings.each_migration {
                return self.apply_one(guard, plan, report);
            }
        }
        self.execute(guard, plan, report)?;
        Ok(Next::Done)
    }

    /// Applies the next versioned migration of `plan` (or, when only seeds are left, the
    /// repeatables and the next seed): one migration per snapshot.
    fn apply_one(
        &self,
        client: &mut Client,
        plan: Plan<'_, '_>,
        report: &mut Report,
    ) -> Result<Next> {
        let (seeds, versioned): (Vec<_>, Vec<_>) = plan
            .apply
            .iter()
            .copied()
            .partition(|m| m.kind() == Kind::Seed);
        let (step, more) = if let Some(first) = versioned.first() {
            let more = versioned.len() > 1 || !seeds.is_empty() || !plan.repeatables.is_empty();
            (
                Plan {
                    apply: vec![*first],
                    ..Plan::default()
                },
                more,
            )
        } else if let Some(first) = seeds.first() {
            (
                Plan {
                    apply: vec![*first],
                    repeatables: plan.repeatables.clone(),
                    ..Plan::default()
                },
                seeds.len() > 1,
            )
        } else {
            (plan, false)
        };
        self.execute(client, step, report)?;
        Ok(if more { Next::Again } else { Next::Done })
    }

    /// Drops the managed schemas and empties trek's history, in one transaction, audited.
    fn reset_schemas(&self, client: &mut Client, reason: &str) -> Result<()> {
        let started = Instant::now();
        let schemas = schemas::managed(client, &self.schema, self.managed_schemas.as_deref())?;
        let detail = format!("dropped {} because {reason}", schemas::names(&schemas));
        tracing::info!(schemas = %schemas::names(&schemas), reason, "resetting the database");
        let sql = format!(
            "BEGIN;\n{}DELETE FROM {}.applied;\n{}COMMIT;",
            schemas::drop_sql(&schemas),
            quote_ident(&self.schema),
            self.executor(Some(self.workflow)).event_sql(
                Action::Reset,
                &detail,
                started.elapsed().as_millis(),
                None
            )
        );
        client
            .batch_execute(&sql)
            .map_err(|e| Error::db("could not reset the database", e))
    }

    /// Does `op` with trek's own session closed, then reconnects.
    pub(super) fn exclusive(
        &self,
        client: &mut Client,
        op: Exclusive,
        report: &mut Report,
        state: &mut RunState,
    ) -> Result<()> {
        let database = state.database.clone();
        let started = Instant::now();
        match op {
            Exclusive::Snapshot { id, label, applied } => {
                let settings = self.snapshot_settings()?;
                let connector = self.connector_for("taking a snapshot")?;
                let (location, size_bytes) = match &settings.strategy {
                    SnapshotStrategy::Template => {
                        let name = catalogue::object_name(&database, &id.to_string());
                        let terminate = self.terminate_sessions || settings.terminate_sessions;
                        let size = self.with_session_closed(client, &database, |maintenance| {
                            template::take(maintenance, &database, &name, terminate)
                        })?;
                        (name, Some(size))
                    }
                    SnapshotStrategy::Command { snapshot, .. } => {
                        let url = connector.url(&database);
                        let env = connector.client_env(&database);
                        let id_text = id.to_string();
                        self.with_session_closed(client, &database, |_| {
                            command::run(
                                snapshot,
                                &command::Values {
                                    id: &id_text,
                                    label: &label,
                                    database: &database,
                                    url: &url,
                                    ..command::Values::default()
                                },
                                &env,
                                "snapshot",
                            )
                        })?;
                        (id_text, None)
                    }
                    other => {
                        return Err(Error::Snapshot {
                            message: format!("the {other} strategy takes snapshots in place"),
                        })
                    }
                };
                let info = self.record_snapshot(
                    client,
                    SnapshotRecord {
                        info: SnapshotInfo {
                            id,
                            taken_at: String::new(),
                            strategy: settings.strategy.as_str().to_owned(),
                            location,
                            label,
                            applied_count: applied.len(),
                            size_bytes,
                        },
                        applied: applied.clone(),
                    },
                    started,
                )?;
                report.snapshots.push(info);
                state.snapshot_for = Some(applied);
                self.locked(client, report, |guard, _| self.prune_to_keep(guard))?;
            }
            Exclusive::Restore(record) => {
                let settings = self.snapshot_settings()?;
                let connector = self.connector_for("restoring a snapshot")?;
                let carried = carry::read(client, &self.schema)?;
                let carry_sql = |elapsed: u128| {
                    format!(
                        "{}{}",
                        carry::restore_sql(&self.schema, &carried),
                        self.executor(Some(self.workflow)).event_sql(
                            Action::Restore,
                            &restore_detail(&record, carried.audit_rows),
                            elapsed,
                            None
                        )
                    )
                };
                match &settings.strategy {
                    SnapshotStrategy::Template => {
                        let terminate = self.terminate_sessions || settings.terminate_sessions;
                        let sql = || carry_sql(started.elapsed().as_millis());
                        self.with_session_closed(client, &database, |maintenance| {
                            template::restore(
                                maintenance,
                                connector,
                                &database,
                                &record.info.location,
                                &sql,
                                terminate,
                            )
                        })?;
                    }
                    SnapshotStrategy::Command { restore, .. }
                    | SnapshotStrategy::RestorePoint { restore } => {
                        let url = connector.url(&database);
                        let env = connector.client_env(&database);
                        let (label, lsn) = record
                            .info
                            .location
                            .split_once(' ')
                            .unwrap_or((record.info.location.as_str(), ""));
                        let id_text = record.info.id.to_string();
                        self.with_session_closed(client, &database, |_| {
                            command::run(
                                restore,
                                &command::Values {
                                    id: &id_text,
                                    label,
                                    lsn,
                                    database: &database,
                                    url: &url,
                                },
                                &env,
                                "restore",
                            )
                        })?;
                        client
                            .batch_execute(&format!(
                                "BEGIN;\n{}COMMIT;",
                                carry_sql(started.elapsed().as_millis())
                            ))
                            .map_err(|e| {
                                Error::db(
                                    "the restore command ran, but carrying the audit log across failed",
                                    e,
                                )
                            })?;
                    }
                    SnapshotStrategy::PgDump { .. } => {
                        return Err(Error::Snapshot {
                            message: "pg_dump snapshots are restored in place".to_owned(),
                        })
                    }
                }
                tracing::info!(snapshot = %record.info, "restored");
            }
            Exclusive::ResetDatabase { reason } => {
                let carried = carry::read(client, &self.schema)?;
                self.with_session_closed(client, &database, |maintenance| {
                    let db = quote_ident(&database);
                    maintenance
                        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
                        .and_then(|()| maintenance.batch_execute(&format!("CREATE DATABASE {db}")))
                        .map_err(|e| {
                            Error::db(format!("could not drop and recreate {database}"), e)
                        })
                })?;
                meta::ensure(client, &self.schema, None, Some(self.workflow.as_str()))?;
                let sql = format!(
                    "BEGIN;\n{}{}COMMIT;",
                    carry::restore_sql(&self.schema, &carried),
                    self.executor(Some(self.workflow)).event_sql(
                        Action::Reset,
                        &format!("dropped and recreated the database because {reason}"),
                        started.elapsed().as_millis(),
                        None
                    )
                );
                client.batch_execute(&sql).map_err(|e| {
                    Error::db("could not carry the audit log into the new database", e)
                })?;
            }
        }
        Ok(())
    }

    /// Runs `work` on a session to the maintenance database with trek's own session on
    /// `database` closed, then points `client` at `database` again (whatever `work` did).
    fn with_session_closed<T>(
        &self,
        client: &mut Client,
        database: &str,
        work: impl FnOnce(&mut Client) -> Result<T>,
    ) -> Result<T> {
        let connector = self.connector_for("this snapshot strategy")?;
        let maintenance = super::snapshots::connect_maintenance(connector)?;
        drop(std::mem::replace(client, maintenance));
        let outcome = work(client);
        match super::snapshots::reconnect(connector, database) {
            Ok(own) => *client = own,
            Err(e) if outcome.is_ok() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "could not reconnect after a failed step");
            }
        }
        outcome
    }
}

/// The seeds of `plan` alone; refused when the plan has more to do than seeds.
fn seeds_only<'m, 'r>(
    mut plan: Plan<'m, 'r>,
    divergence: Option<crate::Divergence>,
) -> Result<Plan<'m, 'r>> {
    let pending: Vec<String> = plan
        .apply
        .iter()
        .filter(|m| m.kind() == Kind::Versioned)
        .map(|m| m.label())
        .collect();
    let reason = if plan.reset.is_some() || plan.restore.is_some() || !plan.revert.is_empty() {
        Some(match divergence {
            Some(at) => format!("the database diverges from the migrations at {at}"),
            None => "the database diverges from the migrations".to_owned(),
        })
    } else if !pending.is_empty() {
        Some(format!("migrations are pending ({})", pending.join(", ")))
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(Error::SeedsRefused {
            reason: format!("{reason}; run the workflow (`cargo trek up`), which applies seeds after the migrations"),
        });
    }
    plan.repeatables.clear();
    plan.snapshot = plan.snapshot && !plan.apply.is_empty();
    Ok(plan)
}

/// What a snapshot taken now holds: `before 0003 add_orders`.
fn snapshot_label(plan: &Plan<'_, '_>) -> String {
    let next = plan
        .apply
        .iter()
        .find(|m| m.kind() == Kind::Versioned)
        .or(plan.repeatables.first())
        .or(plan.apply.first());
    next.map_or_else(
        || "before the run".to_owned(),
        |m| format!("before {}", m.label()),
    )
}

/// The audit detail of a restore.
pub(super) fn restore_detail(record: &SnapshotRecord, carried: i64) -> String {
    format!(
        "restored snapshot #{} ({}, {}) and carried {carried} audit rows across",
        record.info.id, record.info.label, record.info.strategy
    )
}
