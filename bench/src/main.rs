//! `trek-bench`: how fast trek applies migrations, as a ratio to plain `psql` applying the same
//! statements on the same server in the same run.
//!
//! ```text
//! cargo run --release -p trek-bench -- [--migrations N] [--rounds R]
//! ```
//!
//! Each round generates N one-statement migrations (`CREATE TABLE bench_i (...)`), applies them
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

struct Options {
    migrations: usize,
    rounds: usize,
}

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
        rounds: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a positive number"))
        };
        match arg.as_str() {
            "--migrations" => options.migrations = number("--migrations")?,
            "--rounds" => options.rounds = number("--rounds")?.max(1),
            "--bench" => {} // passed by `cargo bench`-style runners
            other => {
                return Err(format!(
                    "unknown argument `{other}` (use --migrations N, --rounds R)"
                ))
            }
        }
    }
    Ok(options)
}

/// Where databases are created: a URL template whose database name is replaced.
struct Server {
    base: String,
}

impl Server {
    fn connect() -> Result<Server, Box<dyn Error>> {
        if let Ok(url) = std::env::var("TREK_BENCH_DATABASE_URL") {
            return Ok(Server { base: url });
        }
        let server = trek::LocalServer::for_manifest_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
        let info = server.start()?;
        Ok(Server {
            base: info.url("postgres"),
        })
    }

    fn url(&self, database: &str) -> String {
        match self.base.rfind('/') {
            Some(i)
                if self.base[..i].contains("://") && self.base[..i].rfind('/') != Some(i - 1) =>
            {
                let query = self.base[i..].find('?').map_or("", |q| &self.base[i + q..]);
                format!("{}/{database}{query}", &self.base[..i])
            }
            _ => format!("{}/{database}", self.base.trim_end_matches('/')),
        }
    }

    fn fresh_database(&self, name: &str) -> Result<String, Box<dyn Error>> {
        let mut admin = Client::connect(&self.url("postgres"), NoTls)?;
        // CREATE DATABASE cannot share a message (an implicit transaction) with another statement.
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(self.url(name))
    }

    fn drop_database(&self, name: &str) {
        if let Ok(mut admin) = Client::connect(&self.url("postgres"), NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn statement(i: usize) -> String {
    format!("CREATE TABLE bench_{i:05} (id bigint PRIMARY KEY, note text NOT NULL DEFAULT '')")
}

fn write_migrations(dir: &Path, count: usize) -> Result<(), Box<dyn Error>> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir)?;
    for i in 1..=count {
        fs::write(
            dir.join(format!("{i:05}_create_bench_{i:05}.sql")),
            format!("{};\n", statement(i)),
        )?;
    }
    Ok(())
}

fn write_psql_script(path: &Path, count: usize) -> Result<(), Box<dyn Error>> {
    let mut script = String::from("\\set ON_ERROR_STOP on\n");
    for i in 1..=count {
        script.push_str(&format!("BEGIN;\n{};\nCOMMIT;\n", statement(i)));
    }
    fs::write(path, script)?;
    Ok(())
}

fn time_trek(
    server: &Server,
    migrations: &trek::Migrations,
    count: usize,
) -> Result<Duration, Box<dyn Error>> {
    let url = server.fresh_database("trek_bench_trek")?;
    let started = Instant::now();
    let mut client = Client::connect(&url, NoTls)?;
    let report = trek::Migrator::new(migrations).run(&mut client)?;
    let elapsed = started.elapsed();
    if report.applied.len() != count {
        return Err(format!(
            "trek applied {} of {count} migrations",
            report.applied.len()
        )
        .into());
    }
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_%'",
            &[],
        )?
        .get(0);
    if tables != count as i64 {
        return Err(format!("trek made {tables} of {count} tables").into());
    }
    drop(client);
    server.drop_database("trek_bench_trek");
    Ok(elapsed)
}

fn time_psql(server: &Server, script: &Path, count: usize) -> Result<Duration, Box<dyn Error>> {
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
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_%'",
            &[],
        )?
        .get(0);
    if tables != count as i64 {
        return Err(format!("psql made {tables} of {count} tables").into());
    }
    drop(client);
    server.drop_database("trek_bench_psql");
    Ok(elapsed)
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
    write_migrations(&dir, options.migrations)?;
    let script = work.join("psql.sql");
    write_psql_script(&script, options.migrations)?;
    let migrations = trek_core::source::read_dir(&dir)?;

    println!(
        "applying {} one-statement migrations, {} round(s), trek vs psql (one transaction each)",
        options.migrations, options.rounds
    );
    let mut trek_times = Vec::new();
    let mut psql_times = Vec::new();
    for round in 1..=options.rounds {
        let t = time_trek(&server, &migrations, options.migrations)?;
        let p = time_psql(&server, &script, options.migrations)?;
        println!(
            "round {round}: trek {t:.2?}, psql {p:.2?}, ratio {:.3}",
            t.as_secs_f64() / p.as_secs_f64()
        );
        trek_times.push(t);
        psql_times.push(p);
    }
    let (t, p) = (median(trek_times), median(psql_times));
    println!(
        "median: trek {t:.2?} ({:.0} migrations/s), psql {p:.2?}; ratio trek/psql = {:.3}",
        options.migrations as f64 / t.as_secs_f64(),
        t.as_secs_f64() / p.as_secs_f64()
    );
    let _ = fs::remove_dir_all(&work);
    Ok(())
}
