//! `trek-bench-testdb`: the time per test database with `trek_testing::TestDb` against
//! creating a database and applying every migration, at 10, 100, 150 and 500 migrations, in one
//! run.
//!
//! ```text
//! cargo run --release -p trek-bench --bin trek-bench-testdb -- [--rounds R]
//! ```
//!
//! For each size it writes that many migrations (a mix of tables, indexes, columns, functions
//! and views, like a real schema's history) to a temporary folder, builds the `TestDb` template
//! once (timed apart), then times R test databases each way, from nothing to a connection to
//! a database with every migration applied, and dropping it:
//!
//! - `TestDb` with `STRATEGY = FILE_COPY` (trek's default) and with `WAL_LOG`;
//! - `CREATE DATABASE`, `Migrator::run`, `DROP DATABASE` (what a test suite does without
//!   templates).
//!
//! It prints the medians and the ratio create+migrate / TestDb. The server is the one
//! `TestDb` uses: `TREK_TEST_DATABASE_URL`, `DATABASE_URL`, else the local server.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use trek::postgres::{Client, NoTls};
use trek_testing::{CloneStrategy, TestDb};

const SIZES: [usize; 4] = [10, 100, 150, 500];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trek-bench-testdb: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut rounds = 15;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => rounds = args.next().ok_or("--rounds takes a number")?.parse()?,
            other => return Err(format!("unknown argument {other}; use --rounds R").into()),
        }
    }
    let rounds = rounds.max(1);
    println!(
        "{:>10}  {:>14}  {:>16}  {:>15}  {:>15}  {:>7}",
        "migrations",
        "template build",
        "TestDb FILE_COPY",
        "TestDb WAL_LOG",
        "create+migrate",
        "ratio"
    );
    for size in SIZES {
        let folder = Folder::write(size)?;
        let migrations = trek_core::source::read_dir(&folder.0)?;
        let label = format!("trek-bench-testdb {size}");

        let started = Instant::now();
        let first = TestDb::builder(&migrations).label(&label).build()?;
        let build = started.elapsed();
        let template = first.template().to_owned();
        // `…/<name>` for the local server; a URL with options would need more care.
        let base = first
            .url()
            .strip_suffix(first.name())
            .ok_or("the test database's URL does not end with its name")?
            .to_owned();
        let admin_url = format!("{base}postgres");
        drop(first);

        // Interleaved, round by round, so load from elsewhere on the machine weighs on
        // every column alike. Create + migrate costs seconds at 500: fewer rounds there.
        let plain_rounds = if size >= 500 { rounds.min(5) } else { rounds };
        let mut admin = Client::connect(&admin_url, NoTls)?;
        let mut file_copy = Vec::new();
        let mut wal_log = Vec::new();
        let mut plain = Vec::new();
        for round in 0..rounds {
            for (strategy, times) in [
                (CloneStrategy::FileCopy, &mut file_copy),
                (CloneStrategy::WalLog, &mut wal_log),
            ] {
                let started = Instant::now();
                let db = TestDb::builder(&migrations)
                    .label(&label)
                    .strategy(strategy)
                    .build()?;
                drop(db.connect()?);
                drop(db);
                times.push(started.elapsed());
            }
            if round < plain_rounds {
                let name = format!("trek_bench_plain_{}_{round}", std::process::id());
                let started = Instant::now();
                admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
                {
                    let mut client = Client::connect(&format!("{base}{name}"), NoTls)?;
                    trek::Migrator::new(&migrations)
                        .workflow(trek::Workflow::Dev)
                        .seeds(false)
                        .run(&mut client)?;
                }
                admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))?;
                plain.push(started.elapsed());
            }
        }
        admin.batch_execute(&format!(
            "ALTER DATABASE \"{template}\" WITH IS_TEMPLATE false"
        ))?;
        admin.batch_execute(&format!("DROP DATABASE \"{template}\""))?;

        let (fc, wl, pl) = (
            median(&mut file_copy),
            median(&mut wal_log),
            median(&mut plain),
        );
        let best = fc.min(wl);
        println!(
            "{size:>10}  {:>14}  {:>16}  {:>15}  {:>15}  {:>6.1}x",
            ms(build),
            ms(fc),
            ms(wl),
            ms(pl),
            pl.as_secs_f64() / best.as_secs_f64()
        );
    }
    println!(
        "\nmedians over {rounds} databases per column ({} for create+migrate at 500); \
         each from nothing to a connected, migrated database, then dropped; \
         ratio = create+migrate / the faster TestDb strategy",
        rounds.min(5)
    );
    Ok(())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// `size` migrations in a temporary folder, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn write(size: usize) -> std::io::Result<Folder> {
        let dir =
            std::env::temp_dir().join(format!("trek-bench-testdb-{}-{size}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        write(&dir, 1, "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                        email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());")?;
        for v in 2..=size {
            let sql = match v % 5 {
                0 => format!(
                    "CREATE TABLE item_{v} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                     account_id bigint NOT NULL REFERENCES accounts (id), label text NOT NULL, \
                     created_at timestamptz NOT NULL DEFAULT now());"
                ),
                1 if v > 5 => format!("CREATE INDEX idx_{v} ON item_{} (created_at);", v - 1),
                2 => format!("ALTER TABLE accounts ADD COLUMN note_{v} text;"),
                3 => format!(
                    "CREATE FUNCTION label_{v}(a accounts) RETURNS text LANGUAGE sql STABLE \
                     AS $$ SELECT a.email || ' #{v}' $$;"
                ),
                _ => format!(
                    "CREATE VIEW recent_{v} AS SELECT id, email FROM accounts \
                     WHERE created_at > now() - interval '{v} days';"
                ),
            };
            write(&dir, v, &sql)?;
        }
        Ok(Folder(dir))
    }
}

fn write(dir: &Path, version: usize, sql: &str) -> std::io::Result<()> {
    fs::write(
        dir.join(format!("{version:04}_m{version}.sql")),
        format!("{sql}\n"),
    )
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
