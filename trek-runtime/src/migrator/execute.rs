//! The executor: walks the steps the planner returns for a goal, under trek's advisory lock.
//!
//! A step that needs the database free of every session, trek's own included (a `template` or
//! `command` snapshot or restore, a database reset), is done between two locked stretches;
//! when the lock is taken again, the history must be what the rest of the plan expects, or the
//! goal is planned again from what the database holds. The only other new plan is after a
//! reset to a baseline dump, which brings history the plan could not know; a plan made after
//! a reset or restore that would reset or restore again is refused ([`Error::StillDiverges`]). So a run ends, and
//! reports success only when every step was done.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use postgres::Client;
use trek_core::declarative::is_declarative;
use trek_core::{Kind, Migration};

use super::Migrator;
use crate::apply::Executor;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::history::applied::{self, AppliedRow, History};
use crate::history::audit::Action;
use crate::history::down::{self, CapturedDown};
use crate::history::meta;
use crate::history::sequence::{same_sequence, SequenceKey};
use crate::lock::LockGuard;
use crate::plan::view::PlannedStep;
use crate::plan::{self, Goal, Planned, ResetHow, Step};
use crate::report::Report;
use crate::snapshot::{carry, connect_maintenance, reconnect};
use crate::sql::quote_ident;
use crate::{schemas, stale, TransactionMode, Workflow};

/// What a run remembers between steps and plans.
#[derive(Debug, Default)]
struct Run<'m> {
    /// The steps still to do.
    steps: VecDeque<Planned<'m>>,
    /// The applied sequence the database holds once the steps done so far are done.
    holds: Vec<SequenceKey>,
    /// Whether `steps` and `holds` come from a plan (false: plan first).
    planned: bool,
    /// The applied sequence a snapshot was taken of, or restored to, in this run.
    snapshot_taken_of: Option<Vec<SequenceKey>>,
    /// What undid a divergence in this run, once something did.
    undone: Option<String>,
    /// Captured down scripts, read once for every revert of a plan.
    downs: HashMap<i64, Option<CapturedDown>>,
    /// Whether the stale-binary check ran.
    checked_stale: bool,
    /// What gives the caller's session back after each script, read before the first step.
    restore_session: Option<String>,
    /// Whether a script made only of declarations may skip giving the session back: the
    /// database had no enabled event trigger when the session was read, and every script run
    /// so far was a declaration too (any other may have created one).
    declarations_quiet: bool,
}

/// A step to do with trek's own session closed.
struct Alone<'m> {
    planned: Planned<'m>,
    database: String,
}

impl<'m> Migrator<'m> {
    /// Plans `goal` and carries the plan out.
    pub(super) fn carry_out(&self, client: &mut Client, goal: Goal) -> Result<Report> {
        let started = Instant::now();
        let mut report = Report {
            workflow: matches!(goal, Goal::Workflow | Goal::Reset | Goal::SeedsOnly)
                .then_some(self.workflow),
            ..Report::default()
        };
        let mut run = Run::default();
        loop {
            let alone = self
                .locked(client, &mut report, |guard, report| {
                    self.locked_stretch(guard, &goal, report, &mut run)
                })
                .map_err(|e| with_partial_report(e, &report))?;
            let Some(alone) = alone else { break };
            self.do_alone(client, alone, &mut report, &mut run)
                .map_err(|e| with_partial_report(e, &report))?;
        }
        report.duration = started.elapsed();
        for warning in &report.warnings {
            tracing::warn!("{warning}");
        }
        Ok(report)
    }

    /// Under the lock: checks that the database may be changed, (re)plans when needed, and
    /// does steps until the plan is done or the next step needs the database alone.
    fn locked_stretch(
        &self,
        guard: &mut LockGuard<'_>,
        goal: &Goal,
        report: &mut Report,
        run: &mut Run<'m>,
    ) -> Result<Option<Alone<'m>>> {
        let database = guard.session.database.clone();
        // Running a workflow claims the database for it; a revert claims nothing.
        let stamp = (!matches!(goal, Goal::Revert(_))).then_some(self.workflow);
        let history = applied::load(guard, &self.schema)?;
        if run.restore_session.is_none() && !Self::tables_ready(&history, stamp) {
            // Creating or upgrading trek's tables is DDL, which may fire the database's event
            // triggers: read the caller's session before.
            self.read_session(guard, run)?;
        }
        let history = self.ensure_tables(guard, history, stamp)?;
        plan::check_protection(
            goal,
            self.workflow,
            history.meta.stamp,
            &database,
            self.allow_destructive_on.as_deref(),
        )?;
        if self.workflow == Workflow::Dev && !matches!(goal, Goal::Revert(_)) && !run.checked_stale
        {
            report.warnings.extend(stale::check(self.migrations));
            run.checked_stale = true;
        }
        if !run.planned || !same_sequence(&run.holds, &self.sequence_of(&history)) {
            self.make_plan(guard, goal, &history, report, run)?;
        }
        // What the caller's session holds, to give back after each script: read before the
        // first step, and only by a run that has steps.
        if run.restore_session.is_none() && !run.steps.is_empty() {
            self.read_session(guard, run)?;
        }
        while let Some(planned) = run.steps.pop_front() {
            if self.needs_database_alone(&planned.step)? {
                return Ok(Some(Alone { planned, database }));
            }
            let batch = self.batch_after(&planned, run);
            if !batch.is_empty() {
                self.apply_batch(guard, planned, batch, report, run)?;
                continue;
            }
            self.do_in_place(guard, &planned, report, run)?;
            if planned.step.needs_new_plan_after() {
                let history = applied::load(guard, &self.schema)?;
                self.make_plan(guard, goal, &history, report, run)?;
            }
        }
        Ok(None)
    }

    /// Reads what the caller's session holds, to give it back after each script.
    fn read_session(&self, client: &mut Client, run: &mut Run<'m>) -> Result<()> {
        let session = crate::session::capture(client)?;
        run.restore_session = Some(session.restore_sql(&self.schema, self.key()));
        run.declarations_quiet = !session.event_triggers;
        Ok(())
    }

    /// The applied sequence in `history`, as the plan counts it.
    fn sequence_of(&self, history: &History) -> Vec<SequenceKey> {
        let seeds = self.runs_seeds();
        history
            .rows
            .iter()
            .filter(|r| r.kind == Kind::Versioned || (seeds && r.kind == Kind::Seed))
            .filter_map(SequenceKey::of_row)
            .collect()
    }

    /// Plans `goal` (after an undo in this run: the workflow, which must not undo again).
    fn make_plan(
        &self,
        client: &mut Client,
        goal: &Goal,
        history: &History,
        report: &mut Report,
        run: &mut Run<'m>,
    ) -> Result<()> {
        let goal = match goal {
            Goal::Reset if run.undone.is_some() => &Goal::Workflow,
            other => other,
        };
        let catalogue = self.catalogue_for_plan(client)?;
        let plan = self.plan_goal(goal, history, &catalogue, run.snapshot_taken_of.as_deref())?;
        if let Some(undone) = &run.undone {
            if plan.steps.iter().any(|p| p.step.is_rebuild()) {
                return Err(Error::StillDiverges {
                    undone: undone.clone(),
                    divergence: plan
                        .divergence
                        .as_ref()
                        .map_or_else(|| "an applied migration".to_owned(), ToString::to_string),
                });
            }
        }
        let view = plan.view(self.workflow);
        self.emit(&Event::Planned { plan: &view });
        if report.plan.is_none() {
            report.plan = Some(view);
        }
        report.warnings.extend(plan.warnings.iter().cloned());
        run.holds = self.sequence_of(history);
        run.steps = plan.steps.into();
        run.planned = true;
        run.downs.clear();
        Ok(())
    }

    /// Whether `step` needs the database free of every session.
    fn needs_database_alone(&self, step: &Step<'_>) -> Result<bool> {
        Ok(match step {
            Step::Reset { how } => {
                matches!(how, ResetHow::Database | ResetHow::FromTemplate { .. })
            }
            Step::Snapshot { .. } => self.configured_strategy()?.needs_database_alone(),
            Step::Restore { snapshot } => self.entry_strategy(snapshot).needs_database_alone(),
            Step::Revert { .. }
            | Step::Apply { .. }
            | Step::ApplyAll { .. }
            | Step::RunRepeatable { .. } => false,
        })
    }

    /// Does a step under the lock, with trek's own session.
    fn do_in_place(
        &self,
        guard: &mut LockGuard<'_>,
        planned: &Planned<'m>,
        report: &mut Report,
        run: &mut Run<'m>,
    ) -> Result<()> {
        let view = self.started(planned, run);
        let started = Instant::now();
        let exec = Executor {
            restore_session: run.restore_session.as_deref().unwrap_or_default(),
            ..self.executor(Some(self.workflow))
        };
        match &planned.step {
            Step::Reset { how } => {
                match how {
                    ResetHow::Schemas => self.reset_schemas(guard, &planned.reason)?,
                    ResetHow::Baseline(dump) => {
                        self.reset_to_baseline(guard, dump, &planned.reason)?;
                    }
                    ResetHow::Database | ResetHow::FromTemplate { .. } => unreachable_alone()?,
                }
                run.undone = Some(match how {
                    ResetHow::Baseline(dump) => {
                        format!("a reset to the baseline dump {}", dump.display())
                    }
                    _ => "a reset".to_owned(),
                });
                run.snapshot_taken_of = None;
            }
            Step::Restore { snapshot } => {
                let carried = carry::read(guard, &self.schema)?;
                let (drop_sql, _) = self.replace_sql(guard)?;
                let database = guard.session.database.clone();
                self.restore_snapshot(guard, &carried, &drop_sql, &database, snapshot)?;
                run.undone = Some(format!("restoring snapshot #{}", snapshot.info.id));
                run.snapshot_taken_of = Some(snapshot.applied.clone());
            }
            Step::Revert { row } => {
                if run.downs.is_empty() {
                    let ids: Vec<i64> = std::iter::once(row.id)
                        .chain(run.steps.iter().filter_map(|p| match &p.step {
                            Step::Revert { row } => Some(row.id),
                            _ => None,
                        }))
                        .collect();
                    run.downs = down::read(guard, &self.schema, &ids)?;
                }
                let captured = run
                    .downs
                    .get(&row.id)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| Error::MissingDown { label: row.label() })?;
                let dev = report.workflow == Some(Workflow::Dev);
                run.declarations_quiet &= is_declarative(&captured.sql);
                let reverted = exec
                    .revert(guard, row, captured)
                    .map_err(|e| self.way_out_of_a_failed_down(e, row, captured, dev))?;
                report.reverted.push(reverted);
                run.undone.get_or_insert_with(|| "a rewind".to_owned());
            }
            Step::Snapshot { label, holds } => {
                let id = crate::snapshot::catalogue::next_id(guard, &self.schema)?;
                let database = guard.session.database.clone();
                let record = self.take_snapshot(guard, &database, id, label, holds)?;
                report
                    .snapshots
                    .push(self.record_snapshot(guard, record, started)?);
                run.snapshot_taken_of = Some(holds.clone());
                self.prune_to_keep(guard)?;
            }
            Step::Apply { script } | Step::RunRepeatable { script } => {
                run.declarations_quiet &= is_declarative(script.sql());
                report.applied.push(exec.apply(guard, script)?);
            }
            Step::ApplyAll { scripts } => {
                debug_assert_eq!(self.transaction, TransactionMode::All);
                run.declarations_quiet &= scripts.iter().all(|m| is_declarative(m.sql()));
                report.applied.extend(exec.apply_all(guard, scripts)?);
            }
        }
        advance(&planned.step, &mut run.holds);
        self.finished(&view, started);
        Ok(())
    }

    /// The steps that follow `planned` and can share its message (apply steps of scripts that
    /// are [`crate::apply::batchable`], up to [`BATCH_SCRIPTS`] scripts and [`BATCH_BYTES`] of
    /// SQL), taken off the plan; empty when `planned` goes alone.
    fn batch_after(&self, planned: &Planned<'m>, run: &mut Run<'m>) -> Vec<Planned<'m>> {
        let batchable = |p: &Planned<'m>| match &p.step {
            Step::Apply { script } if crate::apply::batchable(script) => Some(script.sql().len()),
            _ => None,
        };
        let Some(mut bytes) = batchable(planned) else {
            return Vec::new();
        };
        let mut batch = Vec::new();
        while batch.len() + 1 < BATCH_SCRIPTS {
            match run.steps.front().and_then(batchable) {
                Some(size) if bytes + size <= BATCH_BYTES => bytes += size,
                _ => break,
            }
            batch.extend(run.steps.pop_front());
        }
        batch
    }

    /// Applies `first` and the steps `rest` that follow it several to a message
    /// ([`Executor::apply_batch`]), announcing each as it would be alone.
    fn apply_batch(
        &self,
        guard: &mut LockGuard<'_>,
        first: Planned<'m>,
        rest: Vec<Planned<'m>>,
        report: &mut Report,
        run: &mut Run<'m>,
    ) -> Result<()> {
        let batch: Vec<Planned<'m>> = std::iter::once(first).chain(rest).collect();
        let scripts: Vec<&Migration> = batch
            .iter()
            .filter_map(|p| match &p.step {
                Step::Apply { script } => Some(*script),
                _ => None,
            })
            .collect();
        let exec = Executor {
            restore_session: run.restore_session.as_deref().unwrap_or_default(),
            ..self.executor(Some(self.workflow))
        };
        let quiet: Vec<bool> = scripts
            .iter()
            .map(|m| {
                run.declarations_quiet &= is_declarative(m.sql());
                run.declarations_quiet
            })
            .collect();
        let (steps, outcome) = exec.apply_batch(guard, &scripts, &quiet);
        for (i, (planned, step)) in batch.iter().zip(steps).enumerate() {
            let view = PlannedStep::of(planned);
            for shown in &view {
                self.emit(&Event::StepStarted {
                    step: shown,
                    remaining: run.steps.len() + batch.len() - i - 1,
                });
            }
            for shown in &view {
                self.emit(&Event::StepFinished {
                    step: shown,
                    duration: step.duration,
                });
            }
            report.applied.push(step);
            advance(&planned.step, &mut run.holds);
        }
        outcome
    }

    /// Adds to a failed down the ways out: when the file's down differs from the captured one,
    /// `cargo trek repair --downs` (which replaces the captured text); in dev, `cargo trek
    /// reset` and what it costs.
    fn way_out_of_a_failed_down(
        &self,
        error: Error,
        row: &AppliedRow,
        captured: &CapturedDown,
        dev: bool,
    ) -> Error {
        let Error::Migration { label, .. } = &error else {
            return error;
        };
        let mut ways = Vec::new();
        let on_disk = self
            .migrations
            .all()
            .iter()
            .find(|m| m.kind() == row.kind && m.version() == row.version.as_ref())
            .and_then(|m| m.down());
        match on_disk {
            Some(file) if file.sql() != captured.sql => ways.push(format!(
                "the down script on disk ({}) differs from the captured one: `cargo trek repair \
                 --downs` replaces the captured downs with the files (audited), then run again",
                file.path()
            )),
            _ => ways.push(format!(
                "fix the down script ({}), then `cargo trek repair --downs` to replace the \
                 captured one, and run again",
                captured.display_path(label)
            )),
        }
        if dev {
            ways.push(
                "or `cargo trek reset`, which drops the managed schemas with every row in them \
                 (the data in this database is lost) and applies every migration again"
                    .to_owned(),
            );
        }
        let ways = ways.join("; ");
        error.with_note(|note| match note {
            Some(note) => format!("{note}. To go on: {ways}"),
            None => format!("to go on: {ways}"),
        })
    }

    /// Does a step with trek's own session closed, then reconnects; the next locked stretch
    /// checks that the database holds what the rest of the plan expects.
    fn do_alone(
        &self,
        client: &mut Client,
        alone: Alone<'m>,
        report: &mut Report,
        run: &mut Run<'m>,
    ) -> Result<()> {
        let Alone { planned, database } = alone;
        let view = self.started(&planned, run);
        let started = Instant::now();
        match &planned.step {
            Step::Snapshot { label, holds } => {
                let id = crate::snapshot::catalogue::next_id(client, &self.schema)?;
                let record = self.with_session_closed(client, &database, |maintenance| {
                    self.take_snapshot(maintenance, &database, id, label, holds)
                })?;
                report
                    .snapshots
                    .push(self.record_snapshot(client, record, started)?);
                run.snapshot_taken_of = Some(holds.clone());
                self.locked(client, report, |guard, _| self.prune_to_keep(guard))?;
            }
            Step::Restore { snapshot } => {
                let carried = carry::read(client, &self.schema)?;
                self.with_session_closed(client, &database, |maintenance| {
                    self.restore_snapshot(maintenance, &carried, "", &database, snapshot)
                })?;
                run.undone = Some(format!("restoring snapshot #{}", snapshot.info.id));
                run.snapshot_taken_of = Some(snapshot.applied.clone());
            }
            Step::Reset {
                how: ResetHow::FromTemplate { prefix },
            } => {
                let carried = carry::read(client, &self.schema)?;
                let connector = self.connector_for("a reset from a prefix template")?;
                let used = self.with_session_closed(client, &database, |maintenance| {
                    let mut used =
                        self.prefix_template(maintenance, connector, &database, prefix)?;
                    let copying = Instant::now();
                    let detail = format!(
                        "replaced the database with a copy of the prefix template {} ({} \
                         migrations{}) because {}",
                        used.name,
                        used.migrations,
                        if used.built { ", built now" } else { "" },
                        planned.reason
                    );
                    let carry_sql = || {
                        format!(
                            "{}{}",
                            carry::restore_sql(&self.schema, &carried),
                            self.executor(Some(self.workflow)).event_sql_timed(
                                Action::Reset,
                                &detail,
                                &started.elapsed().as_millis().to_string(),
                                None,
                            )
                        )
                    };
                    let ready = super::prefix_template::ready_name(&used.name);
                    used.ready_copy = crate::snapshot::template::restore(
                        maintenance,
                        connector,
                        &database,
                        &crate::snapshot::template::Source {
                            snapshot: &used.name,
                            ready: Some(&ready),
                            // A prefix template is small: PostgreSQL's default copy, which
                            // needs no checkpoint.
                            copy: crate::TemplateCopy::WalLog,
                        },
                        &carry_sql,
                        true,
                    )?;
                    used.copy = copying.elapsed();
                    Ok(used)
                })?;
                tracing::info!(template = %used.name, migrations = used.migrations, built = used.built, "reset from a prefix template");
                report.prefix_template = Some(used);
                run.undone = Some("a reset from a prefix template".to_owned());
                run.snapshot_taken_of = None;
            }
            Step::Reset { .. } => {
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
                let failed =
                    |e| Error::db("could not carry the audit log into the new database", e);
                let mut tx = client.transaction().map_err(failed)?;
                tx.batch_execute(&carry::restore_sql(&self.schema, &carried))
                    .map_err(failed)?;
                self.executor(Some(self.workflow)).record_event(
                    &mut tx,
                    Action::Reset,
                    &format!(
                        "dropped and recreated the database because {}",
                        planned.reason
                    ),
                    started.elapsed(),
                    None,
                )?;
                tx.commit().map_err(failed)?;
                run.undone = Some("a reset".to_owned());
                run.snapshot_taken_of = None;
            }
            Step::Revert { .. }
            | Step::Apply { .. }
            | Step::ApplyAll { .. }
            | Step::RunRepeatable { .. } => unreachable_alone()?,
        }
        advance(&planned.step, &mut run.holds);
        self.finished(&view, started);
        Ok(())
    }

    /// Drops the managed schemas and empties trek's history, in one transaction, audited.
    fn reset_schemas(&self, client: &mut Client, reason: &str) -> Result<()> {
        let started = Instant::now();
        let schemas = schemas::managed(
            client,
            &self.schema,
            self.managed_schemas.as_deref(),
            self.tenant_schema.as_deref(),
        )?;
        let detail = format!("dropped {} because {reason}", schemas::names(&schemas));
        tracing::info!(schemas = %schemas::names(&schemas), reason, "resetting the database");
        let failed = |e| Error::db("could not reset the database", e);
        let mut tx = client.transaction().map_err(failed)?;
        // The drops name schemas only (quoted identifiers); no values travel in them.
        tx.batch_execute(&schemas::drop_sql(&schemas))
            .map_err(failed)?;
        tx.execute(
            &format!("DELETE FROM {}.applied", quote_ident(&self.schema)),
            &[],
        )
        .map_err(failed)?;
        self.executor(Some(self.workflow)).record_event(
            &mut tx,
            Action::Reset,
            &detail,
            started.elapsed(),
            None,
        )?;
        tx.commit().map_err(failed)
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
        let maintenance = connect_maintenance(connector)?;
        drop(std::mem::replace(client, maintenance));
        let outcome = work(client);
        match reconnect(connector, database) {
            Ok(own) => *client = own,
            Err(e) if outcome.is_ok() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "could not reconnect after a failed step");
            }
        }
        outcome
    }

    /// Announces a step; returns its view for [`Migrator::finished`].
    fn started(&self, planned: &Planned<'_>, run: &Run<'_>) -> Vec<PlannedStep> {
        let view = PlannedStep::of(planned);
        for step in &view {
            self.emit(&Event::StepStarted {
                step,
                remaining: run.steps.len(),
            });
        }
        view
    }

    /// Announces that a step is done.
    fn finished(&self, view: &[PlannedStep], started: Instant) {
        for step in view {
            self.emit(&Event::StepFinished {
                step,
                duration: started.elapsed(),
            });
        }
    }

    fn emit(&self, event: &Event<'_>) {
        if let Some(hook) = &self.events {
            hook.call(event);
        }
    }
}

/// At most this many scripts share a message ([`Executor::apply_batch`]): the progress shown
/// moves at least this often, and a failure re-runs at most one script.
const BATCH_SCRIPTS: usize = 50;

/// At most this much SQL (bytes) shares a message.
const BATCH_BYTES: usize = 1 << 20;

/// A failed script's error, with what the run did before it (which stays done).
fn with_partial_report(mut error: Error, report: &Report) -> Error {
    if let Error::Migration { before, .. } = &mut error {
        **before = report.clone();
    }
    error
}

/// The applied sequence after `step`.
fn advance(step: &Step<'_>, holds: &mut Vec<SequenceKey>) {
    match step {
        Step::Reset {
            how: ResetHow::FromTemplate { prefix },
        } => holds.clone_from(prefix),
        Step::Reset { .. } => holds.clear(),
        Step::Restore { snapshot } => holds.clone_from(&snapshot.applied),
        Step::Revert { row } => {
            if let Some(key) = SequenceKey::of_row(row) {
                if let Some(i) = holds.iter().rposition(|k| k.same_script(&key)) {
                    holds.remove(i);
                }
            }
        }
        Step::Apply { script } => holds.extend(SequenceKey::of(script)),
        Step::ApplyAll { scripts } => {
            holds.extend(scripts.iter().filter_map(|m| SequenceKey::of(m)))
        }
        Step::Snapshot { .. } | Step::RunRepeatable { .. } => {}
    }
}

/// A step was routed to the wrong place: an error, never a panic.
fn unreachable_alone() -> Result<()> {
    Err(Error::Snapshot {
        message: "internal error: a step was run with the wrong session; please report it"
            .to_owned(),
    })
}
