//! What the async test applications share: migrate `DATABASE_URL` with the migrations folder
//! `TREK_MIGRATIONS` through `Migrator::run_async`, from inside a tokio runtime, and print one
//! line per applied script.

use std::process::ExitCode;

/// Migrates, prints what it applied, and says how it went as an exit code.
pub async fn migrate() -> ExitCode {
    match run().await {
        Ok(report) => {
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

async fn run() -> Result<trek::Report, String> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let config: trek::postgres::Config = var("DATABASE_URL")?
        .parse()
        .map_err(|e| format!("DATABASE_URL: {e}"))?;
    let migrations =
        trek_core::source::read_dir(var("TREK_MIGRATIONS")?.as_ref()).map_err(|e| e.to_string())?;
    // `run_async` needs 'static migrations, as `trek::embed!` makes them; a folder read at
    // run time lives as long as the process.
    let migrations: &'static trek::Migrations = Box::leak(Box::new(migrations));
    trek::Migrator::new(migrations)
        .run_async(config, trek::postgres::NoTls)
        .await
        .map_err(|e| e.to_string())
}
