//! [`Migrator`]: the entry point that runs a workflow, reports status, reverts, repairs and
//! baselines. Each action is a [`Goal`] handed to the pure planner (`crate::plan`); [`execute`]
//! walks the steps it returns; [`snapshots`] holds the qa snapshot operations.

mod adopt;
mod execute;
mod prefix_template;
mod snapshots;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::Client;
use trek_core::{Kind, Migrations, Version};

use crate::apply::{Executor, Subject};
use crate::connect::Connect;
use crate::error::{Error, Result};
use crate::event::{Event, EventHook};
use crate::history::applied::{self, AppliedRow, History};
use crate::history::audit::{self, Action, AuditEntry};
use crate::history::down;
use crate::history::meta;
use crate::lock::{default_lock_key, LockGuard, Release};
use crate::plan::{self, analyze, Goal, Input, ResetHow, Settings, Step as PlanStep};
use crate::report::{Report, Step, Warning};
use crate::reset::ResetMode;
use crate::snapshot::catalogue::SnapshotRecord;
use crate::snapshot::{SnapshotInfo, Snapshots};
use crate::sql::quote_ident;
use crate::status::Status;
use crate::{TransactionMode, Workflow};

/// How far `revert` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revert {
    /// Revert the newest `n` applied versioned migrations and seeds.
    Steps(usize),
    /// Revert everything applied after this version (it stays applied).
    To(Version),
}

/// [`Migrator::prefix_template_min`]'s default.
const DEFAULT_PREFIX_TEMPLATE_MIN: Duration = Duration::from_millis(100);

/// Runs trek's workflows against one database.
///
/// Built from a set of migrations (usually a `static` made by [`crate::embed!`]) and configured
/// with builder methods; every method that writes takes trek's advisory lock for its whole
/// duration and releases it on every path.
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    workflow: Workflow,
    schema: String,
    lock_key: Option<i64>,
    lock_timeout: Duration,
    transaction: TransactionMode,
    target: Option<Version>,
    strict: bool,
    allow_out_of_order: bool,
    allow_destructive_on: Option<String>,
    client_label: String,
    snapshots: Option<Snapshots>,
    connector: Option<SharedConnector>,
    reset_mode: ResetMode,
    prefix_template_min: Duration,
    managed_schemas: Option<Vec<String>>,
    /// A fleet's tenant schema: the only managed schema, recreated by a reset.
    pub(crate) tenant_schema: Option<String>,
    terminate_sessions: bool,
    seeds: bool,
    baseline_dump: Option<PathBuf>,
    dry_run_limits: crate::dry_run::Limits,
    events: Option<EventHook>,
}

/// The caller's [`Connect`], shared between clones of a migrator.
#[derive(Clone)]
struct SharedConnector(Arc<dyn Connect>);

impl fmt::Debug for SharedConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Connect")
    }
}

impl<'m> Migrator<'m> {
    /// A migrator for `migrations` with the defaults: the prod workflow, schema `trek`,
    /// per-migration transactions, a lock key derived from the schema and a 10-minute lock
    /// timeout.
    pub fn new(migrations: &'m Migrations) -> Self {
        Migrator {
            migrations,
            workflow: Workflow::Prod,
            schema: "trek".to_owned(),
            lock_key: None,
            lock_timeout: Duration::from_secs(600),
            transaction: TransactionMode::PerMigration,
            target: None,
            strict: false,
            allow_out_of_order: false,
            allow_destructive_on: None,
            client_label: default_client_label(),
            snapshots: None,
            connector: None,
            reset_mode: ResetMode::Schemas,
            prefix_template_min: DEFAULT_PREFIX_TEMPLATE_MIN,
            managed_schemas: None,
            tenant_schema: None,
            terminate_sessions: false,
            seeds: true,
            baseline_dump: None,
            dry_run_limits: crate::dry_run::Limits {
                lock_timeout: Duration::from_secs(2),
                statement_timeout: Duration::from_secs(60),
                small_table_rows: 10_000,
            },
            events: None,
        }
    }

    /// Calls `hook` with each [`Event`] of a run: the plan as made, then each step as it
    /// starts and finishes. For progress displays; the hook runs on the migrating thread, so
    /// keep it short.
    pub fn on_event(mut self, hook: impl Fn(&Event<'_>) + Send + Sync + 'static) -> Self {
        self.events = Some(EventHook::new(hook));
        self
    }

    /// The `lock_timeout` and `statement_timeout` of [`Migrator::dry_run`] (default 2 s and
    /// 60 s), so a dry run never hangs a live system.
    pub fn dry_run_timeouts(mut self, lock_timeout: Duration, statement_timeout: Duration) -> Self {
        self.dry_run_limits.lock_timeout = lock_timeout;
        self.dry_run_limits.statement_timeout = statement_timeout;
        self
    }

    /// Simulates what [`Migrator::run`] would apply, inside a transaction that is always
    /// rolled back, and reports per script its statements and row counts, the relations it
    /// creates, alters, drops and rewrites (with their size before), the locks it takes and
    /// its time (see [`crate::DryRun`]). A plan that would undo something first (a dev rewind
    /// or reset, a qa restore) is simulated from the current state: the report lists the
    /// undo in its plan and what applying on top of the current schema would do. Nothing
    /// remains afterwards but a `dry-run` row in the audit log (none when trek's tables do not
    /// exist yet: a dry run creates nothing).
    ///
    /// # Errors
    /// The plan is refused (as [`Migrator::run`] would refuse it), the lock timed out, or the
    /// database could not be reached. A failing migration is not an error: it is reported.
    pub fn dry_run(&self, client: &mut Client) -> Result<crate::DryRun> {
        self.check_target()?;
        let mut report = Report::default();
        self.locked(client, &mut report, |guard, _| {
            let started = Instant::now();
            let history = applied::load(guard, &self.schema)?;
            let catalogue = self.catalogue_for_plan(guard)?;
            let plan = self.plan_goal(&Goal::Workflow, &history, &catalogue, None)?;
            let view = plan.view(self.workflow);
            let scripts: Vec<_> = plan.scripts().collect();
            let undo = self.undo_for_dry_run(guard, &plan)?;
            let dry_run =
                crate::dry_run::simulate(guard, view, &scripts, undo, self.dry_run_limits)?;
            if history.meta.layout.is_some() {
                let simulated = dry_run
                    .scripts
                    .iter()
                    .filter(|s| s.outcome == crate::Outcome::Simulated)
                    .count();
                let failed = dry_run.scripts.iter().find_map(|s| match &s.outcome {
                    crate::Outcome::Failed { error } => Some(error.clone()),
                    _ => None,
                });
                self.executor(Some(self.workflow)).record_event(
                    &mut **guard,
                    Action::DryRun,
                    &format!(
                        "simulated {simulated} of {} script(s) and rolled back",
                        dry_run.scripts.len()
                    ),
                    started.elapsed(),
                    failed.as_deref(),
                )?;
            }
            Ok(dry_run)
        })
    }

    /// Whether the dev and qa workflows run seeds (default true). Prod never runs seeds,
    /// whatever this says.
    pub fn seeds(mut self, yes: bool) -> Self {
        self.seeds = yes;
        self
    }

    /// Whether seeds are part of the desired sequence.
    fn runs_seeds(&self) -> bool {
        self.settings().runs_seeds()
    }

    /// What the planner needs to know of this migrator's configuration.
    fn settings(&self) -> Settings {
        Settings {
            workflow: self.workflow,
            target: self.target.clone(),
            strict: self.strict,
            allow_out_of_order: self.allow_out_of_order,
            seeds: self.seeds,
            transaction: self.transaction,
            reset: match (&self.baseline_dump, self.reset_mode) {
                (Some(dump), _) => ResetHow::Baseline(dump.clone()),
                (None, ResetMode::Schemas | ResetMode::Template) => ResetHow::Schemas,
                (None, ResetMode::Database) => ResetHow::Database,
            },
            prefix_template: (self.baseline_dump.is_none()
                && self.reset_mode == ResetMode::Template)
                .then_some(self.prefix_template_min),
            snapshot_each_migration: self.snapshots.as_ref().is_some_and(|s| s.each_migration),
        }
    }

    /// Plans `goal` against `history` and the snapshot `catalogue`.
    fn plan_goal(
        &self,
        goal: &Goal,
        history: &History,
        catalogue: &[SnapshotRecord],
        snapshot_taken_of: Option<&[crate::history::sequence::SequenceKey]>,
    ) -> Result<plan::Plan<'m>> {
        plan::plan(
            goal,
            &self.settings(),
            Input {
                migrations: self.migrations,
                history: &history.rows,
                catalogue,
                snapshot_taken_of,
            },
        )
    }

    /// A schema dump a reset rebuilds from instead of from nothing: a plain SQL dump of
    /// production's schema that carries trek's history rows (what `cargo trek dump` writes).
    /// The reset drops the managed schemas and trek's, replays the dump in one transaction, and
    /// the run then applies only what the dump lacks, so developers work against production's
    /// real schema. Needs a [`Connect`] (the dump is replayed with `psql`).
    pub fn baseline_dump(mut self, path: impl Into<PathBuf>) -> Self {
        self.baseline_dump = Some(path.into());
        self
    }

    /// The qa workflow's snapshots: how they are taken and restored, how many are kept. The qa
    /// workflow refuses to run without them.
    pub fn snapshots(mut self, snapshots: Snapshots) -> Self {
        self.snapshots = Some(snapshots);
        self
    }

    /// How trek reaches the server beyond the client it is given: sessions to other databases
    /// (`template` snapshots, database resets) and the connection parameters of client
    /// programs (`pg_dump`, `psql`) and snapshot commands.
    pub fn connector(mut self, connector: impl Connect + 'static) -> Self {
        self.connector = Some(SharedConnector(Arc::new(connector)));
        self
    }

    /// How a dev reset rebuilds the database (default: drop and recreate the managed schemas).
    pub fn reset_mode(mut self, mode: ResetMode) -> Self {
        self.reset_mode = mode;
        self
    }

    /// With [`ResetMode::Template`]: a reset copies the prefix template only when applying the
    /// unchanged migrations took at least this long, by the times the history recorded
    /// (default 100 ms); below it, a reset from nothing and a replay cost less than copying a
    /// database (`CREATE DATABASE` alone takes 0.3–0.6 s on a small machine).
    pub fn prefix_template_min(mut self, least: Duration) -> Self {
        self.prefix_template_min = least;
        self
    }

    /// The schemas a reset or restore drops and rebuilds (default: every schema but
    /// PostgreSQL's own and trek's).
    pub fn managed_schemas(mut self, schemas: Vec<String>) -> Self {
        self.managed_schemas = Some(schemas).filter(|s| !s.is_empty());
        self
    }

    /// Terminate other sessions when a snapshot strategy needs the database to itself, instead
    /// of stopping with an error that names them.
    pub fn terminate_sessions(mut self, yes: bool) -> Self {
        self.terminate_sessions = yes;
        self
    }

    /// The workflow [`Migrator::run`] follows (default [`Workflow::Prod`]).
    pub fn workflow(mut self, workflow: Workflow) -> Self {
        self.workflow = workflow;
        self
    }

    /// The schema holding trek's tables (default `trek`).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The schema of trek's tables this migrator uses.
    pub fn schema_name(&self) -> &str {
        &self.schema
    }

    /// The advisory lock key (default: derived from the schema, see
    /// [`crate::default_lock_key`]).
    pub fn lock_key(mut self, key: i64) -> Self {
        self.lock_key = Some(key);
        self
    }

    /// How long to wait for another run's lock before giving up (default 10 minutes).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How pending migrations are grouped into transactions (default per migration).
    pub fn transaction(mut self, mode: TransactionMode) -> Self {
        self.transaction = mode;
        self
    }

    /// Apply only up to and including this version; repeatables and seeds are skipped.
    pub fn target(mut self, version: Version) -> Self {
        self.target = Some(version);
        self
    }

    /// Refuse to run when an applied migration was edited (prod otherwise warns).
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Apply pending migrations older than the newest applied one (prod otherwise refuses).
    pub fn allow_out_of_order(mut self) -> Self {
        self.allow_out_of_order = true;
        self
    }

    /// Allow destructive actions (dev and qa workflows, reset, revert) on a database stamped `prod`, naming
    /// the database so the override cannot apply to another one by accident.
    pub fn allow_destructive_on(mut self, database: impl Into<String>) -> Self {
        self.allow_destructive_on = Some(database.into());
        self
    }

    /// How this client is named in the audit log (default `host pid N (program)`).
    pub fn client_label(mut self, label: impl Into<String>) -> Self {
        self.client_label = label.into();
        self
    }

    /// Whether a [`Connect`](crate::Connect) was set with [`Migrator::connector`].
    pub(crate) fn has_connector(&self) -> bool {
        self.connector.is_some()
    }

    fn key(&self) -> i64 {
        self.lock_key
            .unwrap_or_else(|| default_lock_key(&self.schema))
    }

    fn executor(&self, workflow: Option<Workflow>) -> Executor<'_> {
        Executor {
            schema: &self.schema,
            workflow,
            client_label: &self.client_label,
            restore_session: "",
        }
    }

    /// Runs the workflow: plans against the history and applies (and, in dev, rewinds).
    ///
    /// A no-op run on an up-to-date database costs three round trips: lock, one read of the
    /// history, unlock. A run with steps reads what the caller's session holds once more, and
    /// each transactional migration costs one round trip.
    ///
    /// # Errors
    /// See [`Error`]: the lock timed out, a migration failed (everything before it stays
    /// applied), the plan was refused (out of order, strict and modified, failed earlier,
    /// protected database), or the database could not be reached.
    pub fn run(&self, client: &mut Client) -> Result<Report> {
        self.check_target()?;
        let report = self.carry_out(client, Goal::Workflow)?;
        // What is left after a successful run: the migrations past the target, if any.
        let left = self
            .migrations
            .versioned()
            .filter(|m| self.target.as_ref().is_some_and(|t| m.version() > Some(t)))
            .count();
        metrics::gauge!("trek_migrations_pending").set(left as f64);
        Ok(report)
    }

    /// Rebuilds the database from nothing: drops the managed schemas (or the database, per
    /// [`Migrator::reset_mode`]) and applies every migration, repeatable and (in dev and qa)
    /// seed. The audit log is kept and records the reset.
    ///
    /// # Errors
    /// [`Error::Protected`] on a database stamped prod (or with the prod workflow) without
    /// [`Migrator::allow_destructive_on`]; otherwise as [`Migrator::run`].
    pub fn reset(&self, client: &mut Client) -> Result<Report> {
        self.check_target()?;
        self.carry_out(client, Goal::Reset)
    }

    /// Applies the pending seeds alone (in dev and qa; qa takes its snapshot first), when the
    /// database is otherwise up to date.
    ///
    /// # Errors
    /// [`Error::SeedsRefused`] when the workflow runs no seeds, or when migrations are pending
    /// or the database diverges (run the workflow instead: it applies seeds too); otherwise as
    /// [`Migrator::run`].
    pub fn seed(&self, client: &mut Client) -> Result<Report> {
        if !self.runs_seeds() {
            return Err(Error::SeedsRefused {
                reason: format!(
                    "the {} workflow runs no seeds{}",
                    self.workflow,
                    if self.workflow == Workflow::Prod {
                        " (seeds never reach prod)"
                    } else {
                        " (seeds are switched off for this environment)"
                    }
                ),
            });
        }
        self.check_target()?;
        self.carry_out(client, Goal::SeedsOnly)
    }

    /// A schema dump of the database fit to commit (see [`crate::DumpOptions`]): `pg_dump`
    /// of the schema with the lines that change from run to run removed, then trek's history
    /// rows. Needs a [`Connect`]; uses the client programs of the server's major version.
    ///
    /// # Errors
    /// [`Error::NeedsConnector`]; [`Error::MissingClientPrograms`] when no `pg_dump` fits the
    /// server; [`Error::Program`] when it fails.
    pub fn dump(&self, client: &mut Client, options: &crate::DumpOptions) -> Result<String> {
        let connector = self.connector_for("a schema dump")?;
        let database = snapshots::current_database(client)?;
        let tools = crate::snapshot::tools::ClientTools::for_server(
            client,
            connector.client_programs_dir(),
        )?;
        crate::dump::dump(
            &tools,
            &connector.client_env(&database),
            &self.schema,
            options,
        )
    }

    /// Replaces the managed schemas with a plain schema dump that carries trek's history rows
    /// (what [`Migrator::dump`] writes, of production usually), in one transaction: the
    /// database then knows what the dump's database had applied, and the next run of the
    /// workflow rolls forward what it lacks. The database keeps its own environment stamp,
    /// audit log and snapshot catalogue; the restore is audited.
    ///
    /// # Errors
    /// [`Error::Protected`] on a database stamped prod without
    /// [`Migrator::allow_destructive_on`]; [`Error::Snapshot`] when the dump cannot be replayed
    /// (nothing changes).
    pub fn restore_dump(&self, client: &mut Client, dump: &std::path::Path) -> Result<Report> {
        let mut report = Report::default();
        self.locked(client, &mut report, |guard, _| {
            let database = guard.session.database.clone();
            let history = self.load_for_write(guard, Some(self.workflow))?;
            if history.meta.stamp == Some(Workflow::Prod)
                && self.allow_destructive_on.as_deref() != Some(database.as_str())
            {
                return Err(Error::Protected {
                    database,
                    stamp: "prod".to_owned(),
                    action: "restore a dump".to_owned(),
                });
            }
            self.replay_dump(
                guard,
                dump,
                Action::Restore,
                &format!("from the dump {}", dump.display()),
            )
        })?;
        Ok(report)
    }

    /// What [`Migrator::run`] would do now. Read-only: takes no lock and creates nothing. A plan
    /// the workflow refuses (prod with out-of-order migrations, qa without a usable snapshot)
    /// comes back with [`crate::Undo::Blocked`] saying why.
    ///
    /// # Errors
    /// When the history cannot be read.
    pub fn plan(&self, client: &mut Client) -> Result<crate::Plan> {
        self.check_schema()?;
        let history = applied::load(client, &self.schema)?;
        let catalogue = self.catalogue_for_plan(client)?;
        Ok(self.plan_view(&history, &catalogue))
    }

    /// The snapshot catalogue, oldest first.
    ///
    /// # Errors
    /// When the catalogue cannot be read.
    pub fn list_snapshots(&self, client: &mut Client) -> Result<Vec<SnapshotInfo>> {
        Ok(crate::snapshot::catalogue::read(client, &self.schema)?
            .into_iter()
            .map(|r| r.info)
            .collect())
    }

    /// Deletes all but the newest `keep` snapshots (their dumps, databases or, with a
    /// `delete` command, whatever the team's command keeps) and forgets them. Returns the
    /// deleted ones.
    ///
    /// # Errors
    /// When the catalogue cannot be read, or a snapshot cannot be deleted (the ones before it
    /// stay deleted).
    pub fn prune_snapshots(&self, client: &mut Client, keep: usize) -> Result<Vec<SnapshotInfo>> {
        let mut report = Report::default();
        self.locked(client, &mut report, |guard, _| self.prune(guard, keep))
    }

    /// Leftover snapshots of this database that no catalogue entry knows (a database dropped
    /// and recreated leaves its snapshots behind): databases named as trek names template
    /// snapshots of it, and dump files so named in the configured `pg_dump` folder. Never
    /// anything trek did not name. Read-only.
    ///
    /// # Errors
    /// When the catalogue, the server's databases or the dump folder cannot be read.
    pub fn orphan_snapshots(&self, client: &mut Client) -> Result<Vec<crate::OrphanSnapshot>> {
        self.check_schema()?;
        self.orphans(client)
    }

    /// Deletes the leftovers [`Migrator::orphan_snapshots`] lists; returns them.
    ///
    /// # Errors
    /// As [`Migrator::orphan_snapshots`], or when one cannot be deleted (the ones before it
    /// stay deleted); [`Error::NeedsConnector`] for a leftover database.
    pub fn prune_orphan_snapshots(
        &self,
        client: &mut Client,
    ) -> Result<Vec<crate::OrphanSnapshot>> {
        self.locked(client, &mut Report::default(), |guard, _| {
            self.prune_orphans(guard)
        })
    }

    /// Runs `work` holding trek's advisory lock and releases it on every path (the guard rolls
    /// back first when it must); then records the lock wait, the duration and, when the session
    /// changed under the lock, [`Warning::LockLost`] in `report`.
    fn locked<T>(
        &self,
        client: &mut Client,
        report: &mut Report,
        work: impl FnOnce(&mut LockGuard<'_>, &mut Report) -> Result<T>,
    ) -> Result<T> {
        let started = Instant::now();
        self.check_schema()?;
        let (mut guard, lock_wait) = LockGuard::acquire(client, self.key(), self.lock_timeout)?;
        report.lock_wait += lock_wait;
        let outcome = work(&mut guard, report);
        if outcome.is_err() {
            // Whatever failed may have left a transaction open or aborted, where the unlock
            // itself would fail and the session would keep the lock: roll it back first.
            let _ = guard.batch_execute("ROLLBACK");
        }
        let released = guard.release();
        let value = outcome?;
        self.check_release(released?, report);
        report.duration = started.elapsed();
        Ok(value)
    }

    /// The state of every migration in the database. Read-only: takes no lock and creates
    /// nothing.
    ///
    /// # Errors
    /// When the history cannot be read.
    pub fn status(&self, client: &mut Client) -> Result<Status> {
        self.check_schema()?;
        let history = applied::load(client, &self.schema)?;
        let catalogue = self.catalogue_for_plan(client)?;
        let analysis = analyze(self.migrations, &history.rows, self.runs_seeds());
        let mut entries = analysis.status_entries(self.migrations);
        let modified: Vec<i64> = analysis.modified.iter().map(|(r, _)| r.id).collect();
        if !modified.is_empty() {
            let scripts = applied::up_scripts(client, &self.schema, &modified)?;
            for (row, _) in &analysis.modified {
                let Some(sql) = scripts
                    .iter()
                    .find(|(id, _)| *id == row.id)
                    .and_then(|(_, s)| s.as_ref())
                else {
                    continue;
                };
                let version = row.version.as_ref().map(ToString::to_string);
                if let Some(entry) = entries.iter_mut().find(|e| {
                    e.kind == row.kind && e.version == version && e.state == crate::State::Modified
                }) {
                    entry.applied_sql = Some(sql.clone());
                }
            }
        }
        let pending = entries
            .iter()
            .filter(|e| e.kind == Kind::Versioned)
            .filter(|e| matches!(e.state, crate::State::Pending | crate::State::OutOfOrder))
            .count();
        metrics::gauge!("trek_migrations_pending").set(pending as f64);
        let invalid_indexes =
            crate::schemas::invalid_indexes(client, &self.schema, self.managed_schemas.as_deref())?;
        Ok(Status {
            entries,
            invalid_indexes,
            initialized: history.meta.layout.is_some(),
            stamp: history.meta.stamp.map(|w| w.as_str().to_owned()),
            plan: self.plan_view(&history, &catalogue),
        })
    }

    /// Reverts applied versioned migrations and seeds newest first with the down scripts
    /// captured when they were applied. Checks that every one has a captured down before
    /// reverting anything.
    ///
    /// # Errors
    /// [`Error::MissingDown`], [`Error::UnknownVersion`], [`Error::Protected`] on a database
    /// stamped prod without the override, or a failing down script (the ones before it stay
    /// reverted).
    pub fn revert(&self, client: &mut Client, how: Revert) -> Result<Report> {
        self.carry_out(client, Goal::Revert(how))
    }

    /// Accepts the current files as the truth: records the current checksum (and script) of
    /// every modified applied migration, removes the rows of migrations that failed halfway so
    /// the next run retries them, and clears the mark of half-reverted migrations (once what
    /// their down's first statements undid was put back by hand). Every change is audited as
    /// `repair`.
    ///
    /// # Errors
    /// When the database cannot be reached or written.
    pub fn repair(&self, client: &mut Client) -> Result<RepairReport> {
        self.locked(client, &mut Report::default(), |guard, _| {
            let history = self.load_for_write(guard, None)?;
            let analysis = analyze(self.migrations, &history.rows, true);
            let s = quote_ident(&self.schema);
            let exec = self.executor(None);
            let failed = |e| Error::db("could not repair trek's history", e);
            let stale_downs: Vec<String> = self
                .stale_downs(guard, &history)?
                .iter()
                .map(|s| s.row.label())
                .collect();
            let mut tx = guard.transaction().map_err(failed)?;
            let mut repaired = RepairReport::default();
            for (row, m) in &analysis.modified {
                if row.failed {
                    continue;
                }
                tx.execute(
                    &format!(
                        "UPDATE {s}.applied SET checksum = $1, up_sql = $2, path = $3 WHERE id = $4"
                    ),
                    &[
                        &m.checksum().as_str(),
                        &(m.sql().len() <= crate::history::STORED_SCRIPT_LIMIT).then(|| m.sql()),
                        &m.path(),
                        &row.id,
                    ],
                )
                .map_err(failed)?;
                exec.record_action(
                    &mut tx,
                    Action::Repair,
                    &Subject::of_row(row),
                    Some("accepted the edited file's checksum"),
                )?;
                repaired.accepted.push(row.label());
            }
            repaired.stale_downs = stale_downs;
            for row in history.rows.iter().filter(|r| r.reverted_statements > 0) {
                tx.execute(
                    &format!("UPDATE {s}.applied SET reverted_statements = NULL WHERE id = $1"),
                    &[&row.id],
                )
                .map_err(failed)?;
                exec.record_action(
                    &mut tx,
                    Action::Repair,
                    &Subject::of_row(row),
                    Some("cleared the half-reverted mark: what the down's first statements undid was put back by hand"),
                )?;
                repaired.cleared.push(row.label());
            }
            for row in history.rows.iter().filter(|r| r.failed) {
                tx.execute(
                    &format!("DELETE FROM {s}.applied WHERE id = $1"),
                    &[&row.id],
                )
                .map_err(failed)?;
                exec.record_action(
                    &mut tx,
                    Action::Repair,
                    &Subject::of_row(row),
                    Some("removed the failed row; the next run retries it"),
                )?;
                repaired.cleared.push(row.label());
            }
            tx.commit().map_err(failed)?;
            Ok(repaired)
        })
    }

    /// Replaces the captured down script of every applied migration and seed whose down file
    /// now differs from what was captured when it was applied (added or edited; a captured
    /// down whose file is gone is kept), so a
    /// rewind or `down` runs the fixed file. Each replacement is audited as `repair`. A
    /// half-reverted migration keeps its place in the down (the next revert goes on from the
    /// failing statement) when the statements that already ran are unchanged in the file, and
    /// starts the new down from the top otherwise.
    ///
    /// A captured down is the down as it was when the migration was applied (DESIGN §4): this
    /// is the way out when that text is broken. `cargo trek repair --downs` calls it.
    ///
    /// # Errors
    /// When the database cannot be reached or written.
    pub fn refresh_downs(&self, client: &mut Client) -> Result<RepairReport> {
        self.locked(client, &mut Report::default(), |guard, _| {
            let history = self.load_for_write(guard, None)?;
            let stale = self.stale_downs(guard, &history)?;
            let exec = self.executor(None);
            let failed = |e| Error::db("could not refresh the captured down scripts", e);
            let mut tx = guard.transaction().map_err(failed)?;
            let mut repaired = RepairReport::default();
            for StaleDown {
                row,
                migration: m,
                file,
                captured: old,
            } in stale
            {
                let keep = old.as_ref().is_some_and(|old| {
                    old.reverted_statements > 0 && down::same_prefix(old, file.sql())
                });
                tx.batch_execute(&down::refresh_sql(&self.schema, row.id, m, keep))
                    .map_err(failed)?;
                let detail = format!("replaced the captured down script with {}", file.path());
                exec.record_action(
                    &mut tx,
                    Action::Repair,
                    &Subject::of_row(row),
                    Some(&detail),
                )?;
                repaired.downs_refreshed.push(row.label());
            }
            tx.commit().map_err(failed)?;
            Ok(repaired)
        })
    }

    /// The applied migrations and seeds whose down file differs from the captured down
    /// (added, edited or removed since they were applied), in applied order.
    fn stale_downs<'h>(
        &self,
        client: &mut Client,
        history: &'h History,
    ) -> Result<Vec<StaleDown<'h, 'm>>> {
        let rows: Vec<(&AppliedRow, &'m trek_core::Migration)> = history
            .rows
            .iter()
            .filter(|r| r.kind != Kind::Repeatable && !r.failed)
            .filter_map(|r| {
                let m = self
                    .migrations
                    .all()
                    .iter()
                    .find(|m| m.kind() == r.kind && m.version() == r.version.as_ref())?;
                Some((r, m))
            })
            .collect();
        let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
        let mut captured = down::read(client, &self.schema, &ids)?;
        Ok(rows
            .into_iter()
            .filter_map(|(row, migration)| {
                let old = captured.remove(&row.id).flatten();
                // A down file that is gone says nothing about the captured text: keep it (a
                // moved file must not cost the only way back).
                let file = migration.down()?;
                let same = old.as_ref().map(|d| d.sql.as_str()) == Some(file.sql());
                (!same).then_some(StaleDown {
                    row,
                    migration,
                    file,
                    captured: old,
                })
            })
            .collect())
    }

    /// Adopts trek on an existing database: records every versioned migration up to and
    /// including `version` as applied without running it, audited as `baseline`.
    ///
    /// # Errors
    /// [`Error::UnknownVersion`] when `version` is not a migration's version,
    /// [`Error::AlreadyApplied`] when versioned migrations are already recorded.
    pub fn baseline(&self, client: &mut Client, version: &Version) -> Result<Report> {
        if !self
            .migrations
            .versioned()
            .any(|m| m.version() == Some(version))
        {
            return Err(Error::UnknownVersion {
                version: version.to_string(),
                hint: Some(
                    "baseline to the version of the newest migration the database already has"
                        .to_owned(),
                ),
            });
        }
        let mut report = Report::default();
        self.locked(client, &mut report, |guard, report| {
            let history = self.load_for_write(guard, None)?;
            let applied = history
                .rows
                .iter()
                .filter(|r| r.kind == Kind::Versioned)
                .count();
            if applied > 0 {
                return Err(Error::AlreadyApplied { applied });
            }
            let exec = self.executor(None);
            let failed = |e| Error::db("could not record the baseline", e);
            let mut tx = guard.transaction().map_err(failed)?;
            for m in self
                .migrations
                .versioned()
                .filter(|m| m.version().is_some_and(|v| v <= version))
            {
                report.applied.push(self.record_without_running(
                    &mut tx,
                    &exec,
                    m,
                    None,
                    "could not record the baseline",
                )?);
            }
            tx.commit().map_err(failed)
        })?;
        Ok(report)
    }

    /// Records `m` as applied without running it, with its `baseline` audit row (`detail` says
    /// where the decision came from; `context` heads a database error): what `baseline` and
    /// `adopt` do for each migration.
    ///
    /// # Errors
    /// [`Error::Database`] when a row cannot be written.
    fn record_without_running(
        &self,
        tx: &mut postgres::Transaction<'_>,
        exec: &crate::apply::Executor<'_>,
        m: &trek_core::Migration,
        detail: Option<&str>,
        context: &str,
    ) -> Result<Step> {
        let v = m.version().map(ToString::to_string);
        tx.execute(
            &format!(
                "INSERT INTO {s}.applied (kind, version, name, checksum, up_sql, {columns}, duration_ms, path, trek_version) \
                 VALUES ('versioned', $1, $2, $3, $4, {down}, 0, $5, $6)",
                s = quote_ident(&self.schema),
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
        .map_err(|e| Error::db(context, e))?;
        exec.record_action(tx, Action::Baseline, &Subject::of(m), detail)?;
        Ok(Step {
            kind: Kind::Versioned,
            version: v,
            name: m.name().to_owned(),
            duration: Duration::ZERO,
        })
    }

    /// What a dry run runs before the scripts to undo what the plan undoes: the captured down
    /// scripts of a rewind, the schema drops of a reset; or why it cannot.
    fn undo_for_dry_run(
        &self,
        client: &mut Client,
        plan: &plan::Plan<'_>,
    ) -> Result<crate::dry_run::Undo> {
        use crate::dry_run::Undo;
        let mut reverted = Vec::new();
        for planned in &plan.steps {
            match &planned.step {
                PlanStep::Restore { snapshot } => {
                    return Ok(Undo::Impossible(format!(
                        "the plan restores snapshot #{} first, which a dry run cannot simulate",
                        snapshot.info.id
                    )))
                }
                PlanStep::Reset {
                    how: ResetHow::Database | ResetHow::Baseline(_) | ResetHow::FromTemplate { .. },
                } => {
                    return Ok(Undo::Impossible(
                        "the plan drops the database, copies a template or replays a dump first, which a dry run cannot simulate"
                            .to_owned(),
                    ))
                }
                PlanStep::Reset {
                    how: ResetHow::Schemas,
                } => {
                    let schemas = crate::schemas::managed(
                        client,
                        &self.schema,
                        self.managed_schemas.as_deref(),
                        self.tenant_schema.as_deref(),
                    )?;
                    return Ok(Undo::Sql(format!(
                        "{}DELETE FROM {}.applied;\n",
                        crate::schemas::drop_sql(&schemas),
                        quote_ident(&self.schema)
                    )));
                }
                PlanStep::Revert { row } => reverted.push(row),
                _ => {}
            }
        }
        if reverted.is_empty() {
            return Ok(Undo::Nothing);
        }
        let ids: Vec<i64> = reverted.iter().map(|r| r.id).collect();
        let downs = down::read(client, &self.schema, &ids)?;
        let mut sql = String::new();
        for row in reverted {
            let Some(down) = downs.get(&row.id).and_then(Option::as_ref) else {
                return Ok(Undo::Impossible(format!(
                    "{} has no captured down script",
                    row.label()
                )));
            };
            if down.outside_transaction {
                return Ok(Undo::Impossible(format!(
                    "the down script of {} runs outside a transaction",
                    row.label()
                )));
            }
            sql.push_str(down.remaining().1);
            sql.push_str("\n;\n");
            sql.push_str(&format!(
                "DELETE FROM {}.applied WHERE id = {};\n",
                quote_ident(&self.schema),
                row.id
            ));
        }
        Ok(Undo::Sql(sql))
    }

    /// The newest `limit` rows of the audit log, newest first.
    ///
    /// # Errors
    /// When the audit log cannot be read.
    pub fn audit(&self, client: &mut Client, limit: usize) -> Result<Vec<AuditEntry>> {
        self.audit_since(client, limit, None)
    }

    /// The newest `limit` rows of the audit log written at or after `since` (filtered in
    /// SQL), newest first.
    ///
    /// # Errors
    /// When the audit log cannot be read.
    pub fn audit_since(
        &self,
        client: &mut Client,
        limit: usize,
        since: Option<&crate::AuditSince>,
    ) -> Result<Vec<AuditEntry>> {
        audit::read(
            client,
            &self.schema,
            i64::try_from(limit).unwrap_or(i64::MAX),
            since,
        )
    }

    /// Reads the history, creating or upgrading trek's tables when needed.
    fn load_for_write(&self, client: &mut Client, stamp: Option<Workflow>) -> Result<History> {
        let history = applied::load(client, &self.schema)?;
        self.ensure_tables(client, history, stamp)
    }

    /// Whether trek's tables, as `history` found them, are at the current layout and stamped
    /// (when `stamp` is given): nothing for [`Migrator::ensure_tables`] to do.
    fn tables_ready(history: &History, stamp: Option<Workflow>) -> bool {
        history.meta.layout == Some(meta::LAYOUT_VERSION)
            && (history.meta.stamp.is_some() || stamp.is_none())
    }

    /// `history`, after creating or upgrading trek's tables and stamping the database when
    /// they are not ready ([`Migrator::tables_ready`]); then read again.
    fn ensure_tables(
        &self,
        client: &mut Client,
        history: History,
        stamp: Option<Workflow>,
    ) -> Result<History> {
        if Self::tables_ready(&history, stamp) {
            return Ok(history);
        }
        meta::ensure(
            client,
            &self.schema,
            history.meta.layout,
            stamp.map(Workflow::as_str),
        )?;
        applied::load(client, &self.schema)
    }

    /// Refuses schema names PostgreSQL would change or refuse: longer than 63 bytes (the
    /// server cuts them short, and trek would then look for a schema that is not there),
    /// empty, with a NUL, or starting with `pg_` (reserved).
    pub(crate) fn check_schema(&self) -> Result<()> {
        let reason = if self.schema.is_empty() {
            Some("it is empty")
        } else if self.schema.len() > 63 {
            Some("it is longer than 63 bytes, and PostgreSQL would cut it short")
        } else if self.schema.contains('\0') {
            Some("it contains a NUL character")
        } else if self.schema.starts_with("pg_") {
            Some("names starting with pg_ are reserved by PostgreSQL")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::BadSchemaName {
                schema: self.schema.clone(),
                reason: reason.to_owned(),
            }),
            None => Ok(()),
        }
    }

    fn check_target(&self) -> Result<()> {
        if let Some(target) = &self.target {
            if !self
                .migrations
                .versioned()
                .any(|m| m.version() == Some(target))
            {
                return Err(Error::UnknownVersion {
                    version: target.to_string(),
                    hint: None,
                });
            }
        }
        Ok(())
    }

    fn check_release(&self, release: Release, report: &mut Report) {
        if !release.held || release.locked_by_pid != release.unlocked_by_pid {
            report.warnings.push(Warning::LockLost {
                locked_by_pid: release.locked_by_pid,
                unlocked_by_pid: release.unlocked_by_pid,
                still_held: release.still_held,
            });
        }
    }
}

/// What [`Migrator::repair`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// Modified migrations whose current checksum was accepted.
    pub accepted: Vec<String>,
    /// Failed rows removed so the next run retries them.
    pub cleared: Vec<String>,
    /// Applied migrations and seeds whose captured down script was replaced by the file's
    /// ([`Migrator::refresh_downs`]).
    pub downs_refreshed: Vec<String>,
    /// Applied migrations and seeds whose down file differs from the captured down, left as
    /// they are by [`Migrator::repair`] ([`Migrator::refresh_downs`] replaces them).
    pub stale_downs: Vec<String>,
}

/// An applied migration whose down file differs from its captured down.
struct StaleDown<'h, 'm> {
    row: &'h AppliedRow,
    migration: &'m trek_core::Migration,
    /// The migration's down file as it is now.
    file: &'m trek_core::Down,
    captured: Option<down::CapturedDown>,
}

impl RepairReport {
    /// Whether nothing needed repair.
    pub fn is_empty(&self) -> bool {
        self.accepted.is_empty() && self.cleared.is_empty() && self.downs_refreshed.is_empty()
    }
}

fn default_client_label() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    format!("{host} pid {} ({program})", std::process::id())
}
