//! An application that migrates its own database at start-up.
//!
//! Its migrations are compiled into the binary by `trek::embed!`. With `DATABASE_URL` set it
//! migrates that database; with nothing configured it starts trek's local PostgreSQL server for
//! this workspace (under `target/trek/`) and migrates a database there, so
//! `cargo run -p trek-example-app` works on a fresh clone.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::process::ExitCode;

use trek::postgres::{Client, NoTls};

/// Every migration of `examples/app/migrations`, checked and checksummed at compile time.
static MIGRATIONS: trek::Migrations = trek::embed!();

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let server = trek_local_server::LocalServer::for_manifest_dir(
                env!("CARGO_MANIFEST_DIR").as_ref(),
            );
            let info = server.start()?;
            let url = info.url("trek_example");
            create_database_if_missing(&info.url("postgres"), "trek_example")?;
            println!(
                "using trek's local PostgreSQL server on port {} (set DATABASE_URL to use another database)",
                info.port
            );
            url
        }
    };
    let mut client = Client::connect(&url, NoTls)?;

    let report = trek::Migrator::new(&MIGRATIONS)
        .workflow(trek::Workflow::Prod)
        .run(&mut client)?;

    for warning in &report.warnings {
        println!("warning: {warning}");
    }
    if report.applied.is_empty() {
        println!(
            "database is up to date ({} migrations embedded)",
            MIGRATIONS.versioned().count()
        );
    }
    for step in &report.applied {
        println!("applied {step} in {:.1?}", step.duration);
    }

    let accounts: i64 = client
        .query_one("SELECT count(*) FROM accounts", &[])?
        .get(0);
    let indexes: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'projects' AND indexname LIKE 'projects_by_%'",
            &[],
        )?
        .get(0);
    println!("the app is running: {accounts} accounts, {indexes} concurrent indexes on projects");
    Ok(())
}

/// Creates `name` on the server of `admin_url` unless it exists (a fresh clone's first run).
fn create_database_if_missing(admin_url: &str, name: &str) -> Result<(), Box<dyn Error>> {
    let mut admin = Client::connect(admin_url, NoTls)?;
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?
        .is_some();
    if !exists {
        // Identifiers cannot be bind parameters; `name` is a constant of this program.
        admin.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
    }
    Ok(())
}
