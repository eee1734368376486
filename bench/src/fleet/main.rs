//! `trek-bench-fleet`: `cargo trek fleet up` over N tenant databases against running `cargo
//! trek up` for each database in turn, measured in the same run, as a ratio.
//!
//! ```text
//! cargo build --release -p cargo-trek -p trek-bench
//! target/release/trek-bench-fleet [--targets 200] [--migrations 20] [--parallel 8] [--rounds 3]
//! ```
//!
//! Each round makes two sets of N empty databases (`trek_bench_fleet_s_*` for the loop,
//! `trek_bench_fleet_f_*` for the fleet), then times, in alternating order: a shell-style loop
//! of `cargo trek up -q` with `DATABASE_URL` set to each database; `cargo trek fleet up
//! --parallel P`; and `cargo trek fleet up --parallel 1` (one process, one target at a time:
//! what a single process saves without parallelism). Every database is checked to hold all
//! migrations afterwards. Medians are printed. Everything it creates is dropped at the end.
//!
//! The `cargo-trek` binary is the one beside this benchmark. The server is trek's local
//! server, or `TREK_BENCH_DATABASE_URL`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
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

/// Drops every database the benchmark made, however it ends.
struct Cleanup<'a> {
    server: &'a Server,
    work: PathBuf,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if let Err(e) = drop_all(self.server) {
            eprintln!("trek-bench-fleet: could not drop the {PREFIX}* databases: {e}");
        }
        let _ = fs::remove_dir_all(&self.work);
    }
}

fn drop_all(server: &Server) -> Result<()> {
    let mut admin = server.admin()?;
    let names: Vec<String> = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)",
            &[&PREFIX],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for name in names {
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    }
    Ok(())
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
    drop_all(&server)?;
    let _cleanup = Cleanup {
        server: &server,
        work: work.clone(),
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
    let parallel = options.parallel.to_string();
    let (mut looped, mut fleet, mut fleet_one) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=options.rounds {
        let sequential = databases(&server, "s", options.targets)?;
        let parallel_set = databases(&server, "f", options.targets)?;
        let single_set = databases(&server, "o", options.targets)?;
        server.settle()?;
        let mut measured = [None, None, None];
        // Alternate the order, so neither side always runs on a warmer server.
        let order: [usize; 3] = if round % 2 == 1 { [0, 1, 2] } else { [2, 1, 0] };
        for which in order {
            let took = match which {
                0 => {
                    let started = Instant::now();
                    for url in &sequential {
                        trek(&cargo_trek, &work, &["trek", "up", "-q"], Some(url))?;
                    }
                    started.elapsed()
                }
                1 => timed(|| {
                    trek(
                        &cargo_trek,
                        &work,
                        &["trek", "fleet", "up", "f", "-q", "--parallel", &parallel],
                        None,
                    )
                })?,
                _ => timed(|| {
                    trek(
                        &cargo_trek,
                        &work,
                        &["trek", "fleet", "up", "o", "-q", "--parallel", "1"],
                        None,
                    )
                })?,
            };
            measured[which] = Some(took);
        }
        for urls in [&sequential, &parallel_set, &single_set] {
            verify(urls, options.migrations)?;
        }
        let [Some(l), Some(f), Some(o)] = measured else {
            return Err("a measurement is missing".into());
        };
        println!(
            "round {round}: loop of `cargo trek up` {}, fleet up --parallel {} {}, fleet up \
             --parallel 1 {}",
            secs(l),
            options.parallel,
            secs(f),
            secs(o)
        );
        looped.push(l);
        fleet.push(f);
        fleet_one.push(o);
        drop_all(&server)?;
    }
    let (l, f, o) = (median(&looped), median(&fleet), median(&fleet_one));
    println!("\nmedians of {} rounds:", options.rounds);
    println!("  loop of `cargo trek up` per database   {:>9}", secs(l));
    println!(
        "  cargo trek fleet up --parallel {:<3}     {:>9}   {:.2}x the loop's time ({:.1}x faster)",
        options.parallel,
        secs(f),
        f.as_secs_f64() / l.as_secs_f64(),
        l.as_secs_f64() / f.as_secs_f64()
    );
    println!(
        "  cargo trek fleet up --parallel 1       {:>9}   {:.2}x the loop's time ({:.1}x faster)",
        secs(o),
        o.as_secs_f64() / l.as_secs_f64(),
        l.as_secs_f64() / o.as_secs_f64()
    );
    Ok(())
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
        let sql = if n == 1 {
            "CREATE TABLE ledger (n int NOT NULL);\nINSERT INTO ledger VALUES (1);\n".to_owned()
        } else {
            format!(
                "CREATE TABLE t_{n} (id bigint PRIMARY KEY, note text);\n\
                 INSERT INTO ledger VALUES ({n});\n"
            )
        };
        fs::write(dir.join("migrations").join(format!("{n:04}_m{n}.sql")), sql)?;
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
