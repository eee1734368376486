//! Fleets: one migration set across many databases (database-per-tenant, shards) or many
//! schemas of one database (schema-per-tenant), with bounded parallelism, a per-server cap, a
//! canary phase and resumable runs.
//!
//! Each target is migrated by its own [`Migrator`] run, under that target's own advisory lock:
//! a fleet run that was killed is finished by running it again (what was applied stays
//! applied, the rest is pending), and two fleet runs at once never migrate one target twice
//! (the second waits for the first's lock, then finds nothing to do).

mod schedule;
mod target;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use postgres::Client;

use crate::error::{Error, Result};
use crate::sql::quote_ident;
use crate::{Migrator, Plan, Report, Status};

pub use target::{tenant_history_schema, Target};

/// Opens a session to a target's database: given by the caller, who knows its TLS setup. Its
/// error becomes [`Error::Connect`] (so it must not contain a password).
pub type Open<'a> = dyn Fn(&Target) -> std::result::Result<Client, Box<dyn std::error::Error + Send + Sync>>
    + Sync
    + 'a;

type Configure<'m> = dyn Fn(Migrator<'m>, &Target) -> Migrator<'m> + Send + Sync + 'm;
type ProgressHook = dyn Fn(&Progress<'_>) + Send + Sync;

/// Runs one migration set across many targets.
///
/// ```no_run
/// fn migrate_tenants(migrations: &trek::Migrations, urls: &[String]) -> bool {
///     let targets: Vec<trek::Target> = urls
///         .iter()
///         .filter_map(|url| trek::Target::from_url(url).ok())
///         .collect();
///     let open = |t: &trek::Target| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
///         Ok(trek::postgres::Client::connect(&t.url, trek::postgres::NoTls)?)
///     };
///     let report = trek::Fleet::new(migrations).parallel(8).canary(1).up(&targets, &open);
///     report.is_success()
/// }
/// ```
pub struct Fleet<'m> {
    migrations: &'m crate::Migrations,
    parallel: usize,
    per_server: usize,
    canary: usize,
    fail_fast: bool,
    configure: Option<Box<Configure<'m>>>,
    progress: Option<Box<ProgressHook>>,
}

impl std::fmt::Debug for Fleet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("parallel", &self.parallel)
            .field("per_server", &self.per_server)
            .field("canary", &self.canary)
            .field("fail_fast", &self.fail_fast)
            .finish_non_exhaustive()
    }
}

/// The default number of targets migrated at once.
pub const DEFAULT_PARALLEL: usize = 4;
/// The default number of targets of one server migrated at once.
pub const DEFAULT_PER_SERVER: usize = 4;

impl<'m> Fleet<'m> {
    /// A fleet run of `migrations` with the defaults: [`DEFAULT_PARALLEL`] targets at once,
    /// [`DEFAULT_PER_SERVER`] per server, no canary, carrying on past failures, each target
    /// migrated by `Migrator::new(migrations)` (the prod workflow).
    pub fn new(migrations: &'m crate::Migrations) -> Self {
        Fleet {
            migrations,
            parallel: DEFAULT_PARALLEL,
            per_server: DEFAULT_PER_SERVER,
            canary: 0,
            fail_fast: false,
            configure: None,
            progress: None,
        }
    }

    /// How many targets are migrated at once (at least 1): one session each.
    #[must_use]
    pub fn parallel(mut self, n: usize) -> Self {
        self.parallel = n.max(1);
        self
    }

    /// How many targets of one server (the same [`Target::server`]) are migrated at once, so
    /// that a fleet of tenants on one server does not flood it with sessions and DDL.
    #[must_use]
    pub fn per_server(mut self, n: usize) -> Self {
        self.per_server = n.max(1);
        self
    }

    /// Migrates the first `k` targets first; the rest only when all of them succeeded.
    #[must_use]
    pub fn canary(mut self, k: usize) -> Self {
        self.canary = k;
        self
    }

    /// Starts no more targets once one has failed (by default the fleet carries on, and
    /// reports every failure at the end).
    #[must_use]
    pub fn fail_fast(mut self, yes: bool) -> Self {
        self.fail_fast = yes;
        self
    }

    /// Sets up each target's migrator (workflow, lock timeout, transaction mode, …): called
    /// with `Migrator::new(migrations)` and the target. For a schema target the fleet then
    /// sets trek's schema to [`tenant_history_schema`] of the schema this returns, and the
    /// managed schemas to the tenant's.
    #[must_use]
    pub fn configure(
        mut self,
        configure: impl Fn(Migrator<'m>, &Target) -> Migrator<'m> + Send + Sync + 'm,
    ) -> Self {
        self.configure = Some(Box::new(configure));
        self
    }

    /// Calls `hook` as each target starts and ends (on the thread that migrates it).
    #[must_use]
    pub fn on_progress(mut self, hook: impl Fn(&Progress<'_>) + Send + Sync + 'static) -> Self {
        self.progress = Some(Box::new(hook));
        self
    }

    /// Runs each target's workflow (`Migrator::run`): the canary targets first, then the rest,
    /// within the parallelism limits. Never fails as a whole: each target's outcome is in the
    /// report, in the order given.
    pub fn up(&self, targets: &[Target], open: &Open<'_>) -> FleetReport {
        self.each(targets, |target| {
            let mut client = connect(open, target)?;
            let migrator = self.migrator(target, &mut client)?;
            if let Some(schema) = &target.schema {
                // Checked before anything is created: a tenant whose history schema
                // cannot be named leaves no empty schema behind.
                migrator.check_schema()?;
                create_schema(&mut client, schema)?;
            }
            migrator.run(&mut client)
        })
        .map_outcomes(|r| match r {
            Ok(report) => Outcome::Migrated(Box::new(report)),
            Err(e) => Outcome::Failed(e),
        })
    }

    /// What a run would do on each target (`Migrator::plan`): reads each history, changes
    /// nothing, takes no lock. Failures (an unreachable target) are in the results.
    pub fn plan(&self, targets: &[Target], open: &Open<'_>) -> Vec<(Target, Result<Plan>)> {
        self.read_each(targets, open, |migrator, client| migrator.plan(client))
    }

    /// Each target's [`Status`] (`Migrator::status`): read-only, no lock.
    pub fn status(&self, targets: &[Target], open: &Open<'_>) -> Vec<(Target, Result<Status>)> {
        self.read_each(targets, open, |migrator, client| migrator.status(client))
    }

    fn read_each<T: Send>(
        &self,
        targets: &[Target],
        open: &Open<'_>,
        read: impl Fn(&Migrator<'m>, &mut Client) -> Result<T> + Sync,
    ) -> Vec<(Target, Result<T>)> {
        let results = self.schedule(
            targets,
            |target| {
                let mut client = connect(open, target)?;
                let migrator = self.migrator(target, &mut client)?;
                read(&migrator, &mut client)
            },
            |_| false,
        );
        targets
            .iter()
            .cloned()
            .zip(results)
            .map(|(t, r)| (t, r.unwrap_or_else(|| unreachable_result())))
            .collect()
    }

    /// Runs `work` on each of `targets` within the fleet's limits; starts no more once
    /// `stop` says so (`None` for those never started).
    fn schedule<R: Send>(
        &self,
        targets: &[Target],
        work: impl Fn(&Target) -> R + Sync,
        stop: impl Fn(&R) -> bool + Sync,
    ) -> Vec<Option<R>> {
        let servers: Vec<&str> = targets.iter().map(|t| t.server.as_str()).collect();
        let limits = schedule::Limits {
            parallel: self.parallel,
            per_server: self.per_server,
        };
        schedule::run(&servers, limits, |i| work(&targets[i]), stop)
    }

    /// The migrator of `target`, with the session set up for a schema target.
    fn migrator(&self, target: &Target, client: &mut Client) -> Result<Migrator<'m>> {
        let mut migrator = Migrator::new(self.migrations);
        if let Some(configure) = &self.configure {
            migrator = configure(migrator, target);
        }
        if let Some(schema) = &target.schema {
            client
                .batch_execute(&format!(
                    "SET search_path TO {}, public",
                    quote_ident(schema)
                ))
                .map_err(|e| Error::db(format!("could not set search_path to {schema}"), e))?;
            let history = tenant_history_schema(migrator.schema_name(), schema);
            migrator = migrator
                .schema(history)
                .managed_schemas(vec![schema.clone()])
                // A reset drops and recreates the tenant's schema, never the database.
                .reset_mode(crate::ResetMode::Schemas);
            migrator.tenant_schema = Some(schema.clone());
        }
        Ok(migrator)
    }

    /// Runs `work` on each target, canary first, within the limits, with progress.
    fn each(
        &self,
        targets: &[Target],
        work: impl Fn(&Target) -> Result<Report> + Sync,
    ) -> Runs<Result<Report>> {
        let started = Instant::now();
        let counts = Counts::default();
        let total = targets.len();
        let canary = self.canary.min(total);
        let run_part = |part: &[Target]| {
            self.schedule(
                part,
                |target| {
                    counts.running.fetch_add(1, Ordering::SeqCst);
                    self.report(&counts, total, target, None);
                    let began = Instant::now();
                    let result = work(target);
                    let took = began.elapsed();
                    counts.running.fetch_sub(1, Ordering::SeqCst);
                    counts.done.fetch_add(1, Ordering::SeqCst);
                    if result.is_err() {
                        counts.failed.fetch_add(1, Ordering::SeqCst);
                    }
                    self.report(&counts, total, target, Some((&result, took)));
                    (result, took)
                },
                |(result, _)| self.fail_fast && result.is_err(),
            )
        };
        let mut results = run_part(&targets[..canary]);
        // Any failure so far is a canary's: the rest never starts.
        let canary_failed = counts.failed.load(Ordering::SeqCst) > 0;
        if canary_failed {
            results.extend((canary..total).map(|_| None));
        } else {
            results.extend(run_part(&targets[canary..]));
        }
        let why_skipped = if canary_failed {
            Skip::CanaryFailed
        } else {
            Skip::FailFast
        };
        Runs {
            targets: targets.to_vec(),
            results,
            why_skipped,
            duration: started.elapsed(),
        }
    }

    fn report(
        &self,
        counts: &Counts,
        total: usize,
        target: &Target,
        finished: Option<(&Result<Report>, Duration)>,
    ) {
        if let Some(hook) = &self.progress {
            hook(&Progress {
                total,
                done: counts.done.load(Ordering::SeqCst),
                failed: counts.failed.load(Ordering::SeqCst),
                running: counts.running.load(Ordering::SeqCst),
                target,
                finished: finished.map(|(result, took)| (result.is_ok(), took)),
            });
        }
    }
}

/// Opens `target` with the caller's `open`.
fn connect(open: &Open<'_>, target: &Target) -> Result<Client> {
    open(target).map_err(|source| Error::Connect {
        target: target.name.clone(),
        source,
    })
}

/// What a read of a target that was never started says (a read never stops early).
fn unreachable_result<T>() -> Result<T> {
    Err(Error::Connect {
        target: String::new(),
        source: "not started".into(),
    })
}

/// `CREATE SCHEMA IF NOT EXISTS`, tolerating another run creating it at the same moment.
fn create_schema(client: &mut Client, schema: &str) -> Result<()> {
    match client.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {}",
        quote_ident(schema)
    )) {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => Ok(()),
        Err(e) => Err(Error::db(format!("could not create schema {schema}"), e)),
    }
}

#[derive(Default)]
struct Counts {
    done: AtomicUsize,
    failed: AtomicUsize,
    running: AtomicUsize,
}

#[derive(Clone, Copy)]
enum Skip {
    CanaryFailed,
    FailFast,
}

struct Runs<R> {
    targets: Vec<Target>,
    results: Vec<Option<(R, Duration)>>,
    why_skipped: Skip,
    duration: Duration,
}

impl<R> Runs<R> {
    fn map_outcomes(self, outcome: impl Fn(R) -> Outcome) -> FleetReport {
        let why = match self.why_skipped {
            Skip::CanaryFailed => "a canary target failed",
            Skip::FailFast => "--fail-fast: a target failed",
        };
        FleetReport {
            targets: self
                .targets
                .into_iter()
                .zip(self.results)
                .map(|(target, result)| match result {
                    Some((r, took)) => TargetRun {
                        target,
                        outcome: outcome(r),
                        duration: took,
                    },
                    None => TargetRun {
                        target,
                        outcome: Outcome::Skipped(why.to_owned()),
                        duration: Duration::ZERO,
                    },
                })
                .collect(),
            duration: self.duration,
        }
    }
}

/// Where a fleet run is, given to [`Fleet::on_progress`] as each target starts and ends.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Progress<'a> {
    /// Targets in the run.
    pub total: usize,
    /// Targets finished, failed ones included.
    pub done: usize,
    /// Targets that failed so far.
    pub failed: usize,
    /// Targets being migrated now.
    pub running: usize,
    /// The target that started or ended.
    pub target: &'a Target,
    /// `None` when it started; when it ended, whether it succeeded and how long it took.
    pub finished: Option<(bool, Duration)>,
}

/// What a fleet run did, per target in the order given.
#[derive(Debug)]
#[non_exhaustive]
pub struct FleetReport {
    /// One entry per target.
    pub targets: Vec<TargetRun>,
    /// Wall time of the whole run.
    pub duration: Duration,
}

impl FleetReport {
    /// How many targets failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }

    /// How many targets were never started (a canary failed, or `fail_fast`).
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }

    /// How many targets applied or undid something.
    pub fn migrated(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Migrated(r) if !r.is_noop()))
    }

    /// How many targets had nothing to do.
    pub fn up_to_date(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Migrated(r) if r.is_noop()))
    }

    /// Whether every target succeeded.
    pub fn is_success(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0
    }

    fn count(&self, pick: impl Fn(&Outcome) -> bool) -> usize {
        self.targets.iter().filter(|t| pick(&t.outcome)).count()
    }
}

/// One target of a fleet run.
#[derive(Debug)]
#[non_exhaustive]
pub struct TargetRun {
    /// The target.
    pub target: Target,
    /// What happened.
    pub outcome: Outcome,
    /// How long its run took, connecting included; zero when skipped.
    pub duration: Duration,
}

/// What happened to one target.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// The workflow ran: the report says what it applied (nothing when up to date).
    Migrated(Box<Report>),
    /// It failed: a migration's error has the file and line; the target keeps what was
    /// applied before it.
    Failed(Error),
    /// Never started, and why.
    Skipped(String),
}
