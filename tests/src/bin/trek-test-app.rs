//! An application for the end-to-end tests that kill, restart and crowd trek: reads the
//! migrations folder `TREK_MIGRATIONS` at run time and migrates `DATABASE_URL` with the
//! workflow `TREK_WORKFLOW` (`prod` by default; `qa` takes `pg_dump` snapshots into
//! `TREK_SNAPSHOT_DIR`), waiting at most `TREK_LOCK_TIMEOUT_MS` for the lock. Prints the undo
//! path, one line per applied script and `lock_wait_ms N`; exits 1 with the error on failure.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let result = (|| -> Result<trek::Report, String> {
        let url = var("DATABASE_URL")?;
        let dir = var("TREK_MIGRATIONS")?;
        let workflow: trek::Workflow = var("TREK_WORKFLOW")
            .unwrap_or_else(|_| "prod".to_owned())
            .parse()
            .map_err(|e| format!("{e}"))?;
        let migrations = trek_core::source::read_dir(dir.as_ref()).map_err(|e| e.to_string())?;
        let config: trek::postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
        let mut client = config
            .connect(trek::postgres::NoTls)
            .map_err(|e| e.to_string())?;
        let mut migrator = trek::Migrator::new(&migrations)
            .workflow(workflow)
            .connector(trek::ConfigConnector::new(config, trek::postgres::NoTls));
        if let Ok(ms) = var("TREK_LOCK_TIMEOUT_MS") {
            let ms: u64 = ms
                .parse()
                .map_err(|e| format!("TREK_LOCK_TIMEOUT_MS: {e}"))?;
            migrator = migrator.lock_timeout(Duration::from_millis(ms));
        }
        if let Ok(dir) = var("TREK_SNAPSHOT_DIR") {
            migrator = migrator.snapshots(trek::Snapshots::new(trek::SnapshotStrategy::PgDump {
                dir: dir.into(),
            }));
        }
        migrator.run(&mut client).map_err(|e| e.to_string())
    })();
    match result {
        Ok(report) => {
            if let Some(plan) = &report.plan {
                println!("{}", plan.undo);
            }
            for step in &report.applied {
                println!("applied {step}");
            }
            println!("lock_wait_ms {}", report.lock_wait.as_millis());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
