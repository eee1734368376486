//! A minimal application for the end-to-end tests: embeds `tests/fixtures/app/migrations` and
//! migrates `DATABASE_URL` with the prod workflow, exactly as a real service does at start-up.
//! Prints one line per applied migration; exits 1 with the error on failure.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

static MIGRATIONS: trek::Migrations = trek::embed!("fixtures/app/migrations");

fn main() -> ExitCode {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL is not set");
        return ExitCode::from(2);
    };
    let result = trek::postgres::Client::connect(&url, trek::postgres::NoTls)
        .map_err(|e| e.to_string())
        .and_then(|mut client| {
            trek::Migrator::new(&MIGRATIONS)
                .run(&mut client)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(report) => {
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
