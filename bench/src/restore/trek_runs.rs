//! Measuring one snapshot strategy with trek's qa workflow, on a copy of the seed (0001
//! applied, `big` full):
//!
//! 1. a qa run of v2 takes a snapshot "before 0002", which holds `big`, and applies 0002. The
//!    snapshot time is the run's wall time minus the time trek reports applying 0002;
//! 2. a qa run of v3 (0002 edited) finds the divergence, restores that snapshot and applies the
//!    edited 0002. Its wall time is the restore time. The benchmark then checks that the plan
//!    was a restore of that snapshot, that `big` has all its rows and that `small` has the
//!    edited shape.

use std::error::Error;
use std::time::{Duration, Instant};

use trek::postgres::{Client, NoTls};
use trek::{Migrations, Migrator, Report, Snapshots, Undo, Workflow};

use crate::server::Server;
use crate::workload::{self, Workload, PREFIX};

/// What one strategy measured.
pub struct Measured {
    /// Wall time of the qa run that took the snapshot, minus applying 0002.
    pub snapshot: Duration,
    /// The snapshot's duration in trek's audit log.
    pub snapshot_audited: Option<Duration>,
    /// The snapshot's size, when the strategy knows it.
    pub snapshot_bytes: Option<i64>,
    /// Wall time of the qa run that restored the snapshot and applied the edited 0002.
    pub restore_run: Duration,
    /// The same minus applying the edited 0002.
    pub restore: Duration,
    /// The restore's duration in trek's audit log.
    pub restore_audited: Option<Duration>,
}

/// Runs the two qa runs with `snapshots` on a copy of the seed named after `name`, then drops
/// the copy and what its snapshots left on the server.
pub fn measure(
    server: &Server,
    load: &Workload,
    name: &str,
    snapshots: Snapshots,
) -> Result<Measured, Box<dyn Error>> {
    let database = format!("{PREFIX}_{name}");
    let url = workload::copy_seed(server, &database)?;
    let outcome = measure_on(server, load, &url, snapshots);
    server.drop_all(&database)?;
    outcome
}

fn measure_on(
    server: &Server,
    load: &Workload,
    url: &str,
    snapshots: Snapshots,
) -> Result<Measured, Box<dyn Error>> {
    let mut client = Client::connect(url, NoTls)?;

    let (report, wall) = timed_run(&qa(&load.v2, &snapshots, url)?, &mut client)?;
    let [taken] = report.snapshots.as_slice() else {
        return Err(format!(
            "the v2 run took {} snapshots, not 1",
            report.snapshots.len()
        )
        .into());
    };
    if taken.applied_count != 1 || report.applied.len() != 1 {
        return Err(format!("the v2 run took {taken} and applied {:?}", report.applied).into());
    }
    let (taken_id, snapshot_bytes) = (taken.id, taken.size_bytes);
    let snapshot = wall.saturating_sub(applying(&report));

    drop(client);
    server.settle()?;
    let mut client = Client::connect(url, NoTls)?;
    let v3 = qa(&load.v3, &snapshots, url)?;
    let (report, restore_run) = timed_run(&v3, &mut client)?;
    match report.plan.as_ref().map(|p| &p.undo) {
        Some(Undo::Restore { snapshot }) if snapshot.id == taken_id => {}
        other => return Err(format!("the v3 run did not restore #{taken_id}: {other:?}").into()),
    }
    if report.applied.len() != 1 || !report.snapshots.is_empty() {
        return Err(format!(
            "after the restore the v3 run applied {:?} and took {} snapshots",
            report.applied,
            report.snapshots.len()
        )
        .into());
    }
    load.verify(&mut client)?;
    let edited: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns \
             WHERE table_name = 'small' AND column_name = 'note'",
            &[],
        )?
        .get(0);
    if edited != 1 {
        return Err("after the restore, small does not have the edited shape".into());
    }
    let audit = v3.audit(&mut client, 50)?;
    let audited = |action: &str| {
        audit
            .iter()
            .find(|e| e.action == action)
            .and_then(|e| e.duration_ms)
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
    };
    Ok(Measured {
        snapshot,
        snapshot_audited: audited("snapshot"),
        snapshot_bytes,
        restore_run,
        restore: restore_run.saturating_sub(applying(&report)),
        restore_audited: audited("restore"),
    })
}

/// A qa migrator of `migrations` with `snapshots`, reaching the server through `url`.
fn qa<'m>(
    migrations: &'m Migrations,
    snapshots: &Snapshots,
    url: &str,
) -> Result<Migrator<'m>, Box<dyn Error>> {
    Ok(Migrator::new(migrations)
        .workflow(Workflow::Qa)
        .snapshots(snapshots.clone())
        .connector(trek::ConfigConnector::new(url.parse()?, NoTls)))
}

/// Runs `migrator` and times the call.
fn timed_run(
    migrator: &Migrator<'_>,
    client: &mut Client,
) -> Result<(Report, Duration), Box<dyn Error>> {
    let started = Instant::now();
    let report = migrator.run(client)?;
    Ok((report, started.elapsed()))
}

/// The time trek reports applying scripts in `report`.
fn applying(report: &Report) -> Duration {
    report.applied.iter().map(|s| s.duration).sum()
}
