//! An application for the end-to-end tests of the qa workflow: reads the migrations folder
//! `TREK_MIGRATIONS` at run time and migrates `DATABASE_URL` with the qa workflow, taking
//! `pg_dump` snapshots into `TREK_SNAPSHOT_DIR`. Prints what it did; exits 1 with the error on
//! failure. The tests kill it at chosen points.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let result = (|| -> Result<trek::Report, String> {
        let url = var("DATABASE_URL")?;
        let dir = var("TREK_MIGRATIONS")?;
        let snapshots = var("TREK_SNAPSHOT_DIR")?;
        let migrations = trek_core::source::read_dir(dir.as_ref()).map_err(|e| e.to_string())?;
        let config: trek::postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
        let mut client = config
            .connect(trek::postgres::NoTls)
            .map_err(|e| e.to_string())?;
        trek::Migrator::new(&migrations)
            .workflow(trek::Workflow::Qa)
            .snapshots(trek::Snapshots::new(trek::SnapshotStrategy::PgDump {
                dir: snapshots.into(),
            }))
            .connector(trek::ConfigConnector::new(config, trek::postgres::NoTls))
            .run(&mut client)
            .map_err(|e| e.to_string())
    })();
    match result {
        Ok(report) => {
            if let Some(plan) = &report.plan {
                println!("{}", plan.undo);
            }
            for step in &report.applied {
                println!("applied {step}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
