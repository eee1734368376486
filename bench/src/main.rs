//! `trek-bench`: how fast trek applies migrations, as a ratio to plain `psql` applying the same
//! statements on the same server in the same run.
//!
//! ```text
//! cargo run --release -p trek-bench -- [--migrations N] [--rounds R]
//! ```
//!
//! Each round generates N one-statement migrations (by default `CREATE TYPE bench_i AS ENUM
//! (...)`; `--statement SQL` with `{i}` picks another), applies them
//! with trek's prod workflow to a fresh database, and runs the same statements through
//! `psql -f` (one `BEGIN; …; COMMIT;` per statement, one psql process) into another fresh
//! database. It reports the median of each and the ratio trek / psql: below 1.0 means trek is
//! faster. The database is trek's local server, or `TREK_BENCH_DATABASE_URL` (a URL whose
//! database name is replaced per run; the user needs CREATEDB).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use trek::postgres::{Client, NoTls};

mod server;
use server::Server;

struct Options {
    migrations: usize,
    rounds: usize,
    /// The statement of migration `i`, with `{i}` standing for its zero-padded number.
    statement: String,
}

/// The default statement: catalog-only DDL. Statements that create relation files
/// (`CREATE TABLE`) spend most of their time in the kernel creating files (1.5–4.5 ms each on
/// the development VM, varying run to run), which drowns the tool's own cost in noise; pass
/// `--statement 'CREATE TABLE bench_{i} (id bigint)'` to measure that case.
const DEFAULT_STATEMENT: &str = "CREATE TYPE bench_{i} AS ENUM ('draft', 'live')";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trek-bench: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause:?}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        migrations: 2000,
        rounds: 5,
        statement: DEFAULT_STATEMENT.to_owned(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = |args: &mut dyn Iterator<Item = String>| {
            args.next().ok_or_else(|| format!("{arg} needs a value"))
        };
        let number = |text: String| {
            text.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{arg} needs a positive number, not `{text}`"))
        };
        match arg.as_str() {
            "--migrations" => options.migrations = number(value(&mut args)?)?,
            "--rounds" => options.rounds = number(value(&mut args)?)?,
            "--statement" => {
                options.statement = value(&mut args)?;
                if !options.statement.contains("{i}") {
                    return Err("--statement needs a SQL statement containing {i}".to_owned());
                }
            }
            "--bench" => {} // passed by `cargo bench`-style runners
            other => {
                return Err(format!(
                    "unknown argument `{other}` (use --migrations N, --rounds R, --statement SQL)"
                ))
            }
        }
    }
    Ok(options)
}

fn statement(template: &str, i: usize) -> String {
    template.replace("{i}", &format!("{i:05}"))
}

fn write_migrations(dir: &Path, template: &str, count: usize) -> Result<(), Box<dyn Error>> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir)?;
    for i in 1..=count {
        fs::write(
            dir.join(format!("{i:05}_bench_{i:05}.sql")),
            format!("{};\n", statement(template, i)),
        )?;
    }
    Ok(())
}

fn write_psql_script(path: &Path, template: &str, count: usize) -> Result<(), Box<dyn Error>> {
    let mut script = String::from("\\set ON_ERROR_STOP on\n");
    for i in 1..=count {
        script.push_str(&format!("BEGIN;\n{};\nCOMMIT;\n", statement(template, i)));
    }
    fs::write(path, script)?;
    Ok(())
}

/// Tables in the `public` schema: both tools must leave the same number behind.
fn public_tables(client: &mut Client) -> Result<i64, Box<dyn Error>> {
    Ok(client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )?
        .get(0))
}

/// Applies the migrations with trek's prod workflow to a fresh database; returns the time
/// from connecting to the end of the run, and the tables left behind.
fn time_trek(
    server: &Server,
    migrations: &trek::Migrations,
    count: usize,
) -> Result<(Duration, i64), Box<dyn Error>> {
    let url = server.fresh_database("trek_bench_trek")?;
    let started = Instant::now();
    let mut client = Client::connect(&url, NoTls)?;
    let report = trek::Migrator::new(migrations).run(&mut client)?;
    let elapsed = started.elapsed();
    if report.applied.len() != count {
        let applied = report.applied.len();
        return Err(format!("trek applied {applied} of {count} migrations").into());
    }
    let tables = public_tables(&mut client)?;
    drop(client);
    server.drop_database("trek_bench_trek");
    Ok((elapsed, tables))
}

/// Runs the same statements through one `psql -f` into a fresh database; returns the time of
/// the psql process, and the tables left behind.
fn time_psql(server: &Server, script: &Path) -> Result<(Duration, i64), Box<dyn Error>> {
    let url = server.fresh_database("trek_bench_psql")?;
    let started = Instant::now();
    let status = Command::new("psql")
        .args(["-X", "-q", "-f"])
        .arg(script)
        .arg(&url)
        .status()
        .map_err(|e| format!("could not run psql: {e}"))?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(format!("psql failed: {status}").into());
    }
    let mut client = Client::connect(&url, NoTls)?;
    let tables = public_tables(&mut client)?;
    drop(client);
    server.drop_database("trek_bench_psql");
    Ok((elapsed, tables))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn run() -> Result<(), Box<dyn Error>> {
    let options = parse_options()?;
    let server = Server::connect()?;
    let work: PathBuf = std::env::temp_dir().join(format!("trek-bench-{}", std::process::id()));
    let dir = work.join("migrations");
    write_migrations(&dir, &options.statement, options.migrations)?;
    let script = work.join("psql.sql");
    write_psql_script(&script, &options.statement, options.migrations)?;
    let migrations = trek_core::source::read_dir(&dir)?;

    println!(
        "applying {} one-statement migrations ({}), {} round(s), trek vs psql (one transaction each)",
        options.migrations, options.statement, options.rounds
    );
    let mut trek_times = Vec::new();
    let mut psql_times = Vec::new();
    let mut ratios = Vec::new();
    for round in 1..=options.rounds {
        // Alternate which tool goes first, so neither always runs on a warmer server.
        let ((t, trek_tables), (p, psql_tables)) = if round % 2 == 1 {
            let t = time_trek(&server, &migrations, options.migrations)?;
            (t, time_psql(&server, &script)?)
        } else {
            let p = time_psql(&server, &script)?;
            (time_trek(&server, &migrations, options.migrations)?, p)
        };
        if trek_tables != psql_tables {
            return Err(format!("trek left {trek_tables} tables, psql {psql_tables}").into());
        }
        let ratio = t.as_secs_f64() / p.as_secs_f64();
        println!("round {round}: trek {t:.2?}, psql {p:.2?}, ratio {ratio:.3}");
        trek_times.push(t);
        psql_times.push(p);
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    let (t, p) = (median(trek_times), median(psql_times));
    println!(
        "median: trek {t:.2?} ({:.0} migrations/s), psql {p:.2?}; ratio trek/psql = {:.3} \
         (median of per-round ratios {:.3})",
        options.migrations as f64 / t.as_secs_f64(),
        t.as_secs_f64() / p.as_secs_f64(),
        ratios[ratios.len() / 2]
    );
    let _ = fs::remove_dir_all(&work);
    Ok(())
}
