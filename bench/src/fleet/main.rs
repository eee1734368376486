//! `trek-bench-fleet`: `cargo trek fleet up` over N tenant databases against running `cargo
//! trek up` for each database in turn, measured in the same run, as a ratio.
//!
//! ```text
//! cargo build --release -p cargo-trek -p trek-bench
//! target/release/trek-bench-fleet [--targets 200] [--migrations 20] [--parallel 8] [--rounds 3]
//! ```
//!
//! Each round makes three sets of N empty databases (`trek_bench_fleet_s_*` for the loop,
//! `_f_*` and `_o_*` for the fleets), then times, in alternating order: a shell-style loop of
//! `cargo trek up -q` with `DATABASE_URL` set to each database; `cargo trek fleet up
//! --parallel P`; and `cargo trek fleet up --parallel 1` (one process, one target at a time:
//! what a single process saves without parallelism). Then the everyday case: one new
//! migration on every (now up-to-date) database, timed the same three ways. Every database is
//! checked to hold each migration once afterwards. Medians are printed. Everything it creates
//! is dropped at the end.
//!
//! The `cargo-trek` binary is the one beside this benchmark. The server is trek's local
//! server, or `TREK_BENCH_DATABASE_URL`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

// Shared with the other benchmarks; this one makes its databases in bulk, without settling
// after each as `fresh_database` does.
#[allow(dead_code)]
#[path = "../server.rs"]
mod server;
use server::Server;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const PREFIX: &str = "trek_bench_fleet_";

struct Options {
    targets: usize,
    migrations: usize,
    parallel: usize,
    rounds: usize,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trek-bench-fleet: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_options() -> Result<Options> {
    let mut options = Options {
        targets: 200,
        migrations: 20,
        parallel: 8,
        rounds: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || -> Result<usize> {
            let text = args.next().unwrap_or_default();
            text.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{arg} needs a positive number, not `{text}`").into())
        };
        match arg.as_str() {
            "--targets" => options.targets = number()?,
            "--migrations" => options.migrations = number()?,
            "--parallel" => options.parallel = number()?,
            "--rounds" => options.rounds = number()?,
            "--bench" => {}
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    Ok(options)
}

fn run() -> Result<()> {
    let options = parse_options()?;
    let server = Server::connect()?;
    let cargo_trek = std::env::current_exe()?
        .parent()
        .map(|d| d.join("cargo-trek"))
        .filter(|p| p.is_file())
        .ok_or("cargo-trek is not beside this benchmark: cargo build --release -p cargo-trek")?;
    let work = std::env::temp_dir().join(format!("trek-bench-fleet-{}", std::process::id()));
    server.drop_all(PREFIX)?;
    let _leftovers = server::Leftovers {
        server: &server,
        prefix: PREFIX,
        work: work.clone(),
        bench: "trek-bench-fleet",
    };
    package(&work, &server, &options)?;
    println!(
        "trek-bench-fleet: {} databases, {} migrations each, --parallel {}, {} rounds, {} cores",
        options.targets,
        options.migrations,
        options.parallel,
        options.rounds,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let mut fresh = Rows::default();
    let mut routine = Rows::default();
    for round in 1..=options.rounds {
        let sets = [
            databases(&server, "s", options.targets)?,
            databases(&server, "f", options.targets)?,
            databases(&server, "o", options.targets)?,
        ];
        server.settle()?;
        let took = measure_round(&cargo_trek, &work, &sets, round, options.parallel)?;
        for urls in &sets {
            verify(urls, options.migrations)?;
        }
        fresh.push(round, "fresh", took, options.parallel);
        // The everyday case: every tenant up to date, one new migration.
        let extra = options.migrations + 1;
        let path = work
            .join("migrations")
            .join(format!("{extra:04}_m{extra}.sql"));
        fs::write(&path, migration(extra))?;
        server.settle()?;
        let took = measure_round(&cargo_trek, &work, &sets, round, options.parallel)?;
        for urls in &sets {
            verify(urls, extra)?;
        }
        fs::remove_file(&path)?;
        routine.push(round, "one new migration", took, options.parallel);
        server.drop_all(PREFIX)?;
    }
    println!("\nmedians of {} rounds:", options.rounds);
    fresh.print(
        &format!(
            "{} empty databases, {} migrations",
            options.targets, options.migrations
        ),
        options.parallel,
    );
    routine.print(
        &format!("{} up-to-date databases, 1 new migration", options.targets),
        options.parallel,
    );
    Ok(())
}

/// One round's three times: the loop of `cargo trek up`, `fleet up --parallel P`, `fleet up
/// --parallel 1`, each on its own set of databases, in an order that alternates per round.
fn measure_round(
    cargo_trek: &Path,
    work: &Path,
    sets: &[Vec<String>; 3],
    round: usize,
    parallel: usize,
) -> Result<[Duration; 3]> {
    let parallel = parallel.to_string();
    let mut measured = [Duration::ZERO; 3];
    // Alternate the order, so that no side always runs on a warmer server.
    let order: [usize; 3] = if round % 2 == 1 { [0, 1, 2] } else { [2, 1, 0] };
    for which in order {
        measured[which] = match which {
            0 => timed(|| {
                for url in &sets[0] {
                    trek(cargo_trek, work, &["trek", "up", "-q"], Some(url))?;
                }
                Ok(())
            })?,
            1 => timed(|| {
                trek(
                    cargo_trek,
                    work,
                    &["trek", "fleet", "up", "f", "-q", "--parallel", &parallel],
                    None,
                )
            })?,
            _ => timed(|| {
                trek(
                    cargo_trek,
                    work,
                    &["trek", "fleet", "up", "o", "-q", "--parallel", "1"],
                    None,
                )
            })?,
        };
    }
    Ok(measured)
}

/// The times of one scenario, per round.
#[derive(Default)]
struct Rows {
    looped: Vec<Duration>,
    fleet: Vec<Duration>,
    fleet_one: Vec<Duration>,
}

impl Rows {
    fn push(&mut self, round: usize, what: &str, [l, f, o]: [Duration; 3], parallel: usize) {
        println!(
            "round {round}, {what}: loop of `cargo trek up` {}, fleet up --parallel {parallel} \
             {}, fleet up --parallel 1 {}",
            secs(l),
            secs(f),
            secs(o)
        );
        self.looped.push(l);
        self.fleet.push(f);
        self.fleet_one.push(o);
    }

    fn print(&self, title: &str, parallel: usize) {
        let (l, f, o) = (
            median(&self.looped),
            median(&self.fleet),
            median(&self.fleet_one),
        );
        println!("{title}:");
        println!("  loop of `cargo trek up` per database   {:>9}", secs(l));
        for (label, t) in [
            (format!("cargo trek fleet up --parallel {parallel}"), f),
            ("cargo trek fleet up --parallel 1".to_owned(), o),
        ] {
            println!(
                "  {label:<38} {:>9}   {:.2}x the loop's time ({:.1}x faster)",
                secs(t),
                t.as_secs_f64() / l.as_secs_f64(),
                l.as_secs_f64() / t.as_secs_f64()
            );
        }
    }
}

/// The package: `migrations` migrations, each a table and a ledger row, and a `Trek.toml`
/// with fleets `f` and `o` (the databases `trek_bench_fleet_f_*` and `_o_*`).
fn package(dir: &Path, server: &Server, options: &Options) -> Result<()> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("migrations"))?;
    fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"bench-fleet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    for n in 1..=options.migrations {
        fs::write(
            dir.join("migrations").join(format!("{n:04}_m{n}.sql")),
            migration(n),
        )?;
    }
    let control = server.url("postgres");
    let fleet = |set: &str| {
        format!(
            "[fleet.{set}]\nurl = \"{control}\"\n\
             query = \"SELECT datname FROM pg_database WHERE datname LIKE \
             '{PREFIX}{set}\\\\_%' ORDER BY 1\"\n"
        )
    };
    fs::write(
        dir.join("Trek.toml"),
        format!("{}\n{}", fleet("f"), fleet("o")),
    )?;
    Ok(())
}

/// Migration `n`: a table and a row in the ledger (migration 1 makes the ledger).
fn migration(n: usize) -> String {
    if n == 1 {
        "CREATE TABLE ledger (n int NOT NULL);\nINSERT INTO ledger VALUES (1);\n".to_owned()
    } else {
        format!(
            "CREATE TABLE t_{n} (id bigint PRIMARY KEY, note text);\n\
             INSERT INTO ledger VALUES ({n});\n"
        )
    }
}

/// `count` fresh databases of set `set`; their URLs.
fn databases(server: &Server, set: &str, count: usize) -> Result<Vec<String>> {
    let mut admin = server.admin()?;
    (0..count)
        .map(|i| {
            let name = format!("{PREFIX}{set}_{i:03}");
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
            admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
            Ok(server.url(&name))
        })
        .collect()
}

/// Runs `cargo-trek ARGS` in the package, with `DATABASE_URL` when given.
fn trek(cargo_trek: &Path, dir: &Path, args: &[&str], url: Option<&String>) -> Result<()> {
    let mut command = Command::new(cargo_trek);
    command
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(url) = url {
        command.env("DATABASE_URL", url);
    }
    let out = command.output()?;
    if !out.status.success() {
        return Err(format!(
            "cargo trek {} failed: {}",
            args[1..].join(" "),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

fn timed(f: impl FnOnce() -> Result<()>) -> Result<Duration> {
    let started = Instant::now();
    f()?;
    Ok(started.elapsed())
}

/// Every database holds each migration once.
fn verify(urls: &[String], migrations: usize) -> Result<()> {
    for url in urls {
        let mut client = trek::postgres::Client::connect(url, trek::postgres::NoTls)?;
        let row = client.query_one(
            "SELECT (SELECT count(*) FROM ledger), (SELECT count(DISTINCT n) FROM ledger), \
             (SELECT count(*) FROM trek.applied)",
            &[],
        )?;
        let (rows, distinct, applied): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        let want = i64::try_from(migrations)?;
        if (rows, distinct, applied) != (want, want, want) {
            return Err(format!(
                "{url}: ledger {rows} rows ({distinct} distinct), {applied} applied; expected \
                 {want} each"
            )
            .into());
        }
    }
    Ok(())
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
