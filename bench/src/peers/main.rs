//! `trek-bench-peers`: trek's common operations as whole processes, side by side with the
//! baselines measured in the same run: `psql` always, the `sqlx` and `refinery` CLIs when they
//! are on `PATH` (skipped with a message otherwise; `bench/README.md` says how to install
//! them). Several alternating rounds, medians, peak RSS (from `/usr/bin/time`, when present).
//!
//! ```text
//! cargo build --release -p cargo-trek -p trek-bench
//! target/release/trek-bench-peers [--rounds N] [--migrations N] [--data-mb N] [--only noop,fresh,data]
//! ```
//!
//! Rows:
//! - **noop**: `cargo trek up` with nothing to do, N applied one-line migrations, vs `sqlx
//!   migrate run` (and `refinery migrate`) on the same folder, already applied.
//! - **fresh**: `up` of N one-statement migrations on a new database (the `CREATE DATABASE`
//!   included) vs `psql -f` of the same statements (`BEGIN; stmt; COMMIT;` each), `sqlx
//!   database create && sqlx migrate run`, `refinery migrate`.
//! - **data**: one data migration of `--data-mb` MB (multi-row `INSERT`s) vs `psql -1 -f`; time
//!   and peak memory; then the size of `cargo trek dump` afterwards (with and without
//!   `--bodies`).
//!
//! The `cargo-trek` binary is the one beside this benchmark (build both with `--release`). The
//! server is trek's local server, or `TREK_BENCH_DATABASE_URL`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[path = "../server.rs"]
mod server;
use server::Server;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

struct Options {
    rounds: usize,
    migrations: usize,
    data_mb: usize,
    only: Vec<String>,
}

/// One whole-process measurement: wall time and peak resident memory (KiB), when known.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    peak_kib: Option<u64>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trek-bench-peers: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_options() -> Result<Options> {
    let mut options = Options {
        rounds: 7,
        migrations: 2000,
        data_mb: 45,
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => options.rounds = value()?.parse()?,
            "--migrations" => options.migrations = value()?.parse()?,
            "--data-mb" => options.data_mb = value()?.parse()?,
            "--only" => options.only = value()?.split(',').map(str::to_owned).collect(),
            "--bench" => {}
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    Ok(options)
}

fn run() -> Result<()> {
    let options = parse_options()?;
    let server = Server::connect()?;
    let work = std::env::temp_dir().join(format!("trek-bench-peers-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work)?;
    let tools = Tools::find()?;
    println!(
        "trek-bench-peers: {} rounds, load average {}",
        options.rounds,
        load_average()
    );
    for (name, tool) in [("sqlx", &tools.sqlx), ("refinery", &tools.refinery)] {
        if tool.is_none() {
            println!("  {name}: not on PATH, skipped (see bench/README.md to install it)");
        }
    }
    let wanted = |row: &str| options.only.is_empty() || options.only.iter().any(|o| o == row);
    if wanted("noop") {
        noop(&server, &tools, &work, &options)?;
    }
    if wanted("fresh") {
        fresh(&server, &tools, &work, &options)?;
    }
    if wanted("data") {
        data(&server, &tools, &work, &options)?;
    }
    let _ = fs::remove_dir_all(&work);
    Ok(())
}

/// The programs compared.
struct Tools {
    cargo_trek: PathBuf,
    sqlx: Option<PathBuf>,
    refinery: Option<PathBuf>,
    time: Option<PathBuf>,
}

impl Tools {
    fn find() -> Result<Tools> {
        let here = std::env::current_exe()?;
        let cargo_trek = here
            .parent()
            .map(|d| d.join("cargo-trek"))
            .filter(|p| p.is_file())
            .ok_or(
                "cargo-trek is not beside this benchmark: cargo build --release -p cargo-trek",
            )?;
        Ok(Tools {
            cargo_trek,
            sqlx: on_path("sqlx"),
            refinery: on_path("refinery"),
            time: Some(PathBuf::from("/usr/bin/time")).filter(|p| p.is_file()),
        })
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Runs `command` to the end as a whole process, measuring it; fails when it fails.
fn measure(
    tools: &Tools,
    program: &Path,
    args: &[&str],
    dir: &Path,
    env: &[(&str, &str)],
) -> Result<Sample> {
    let report = dir.join(".peak-kib");
    let mut command = match &tools.time {
        Some(time) => {
            let mut c = Command::new(time);
            c.arg("-f").arg("%M").arg("-o").arg(&report).arg(program);
            c
        }
        None => Command::new(program),
    };
    command
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let started = Instant::now();
    let out = command.output()?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{} {} failed: {}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let peak_kib = fs::read_to_string(&report)
        .ok()
        .and_then(|t| t.trim().lines().last()?.trim().parse().ok());
    Ok(Sample { wall, peak_kib })
}

fn median(mut samples: Vec<Sample>) -> Sample {
    samples.sort_by_key(|s| s.wall);
    let wall = samples[samples.len() / 2].wall;
    let mut peaks: Vec<u64> = samples.iter().filter_map(|s| s.peak_kib).collect();
    peaks.sort_unstable();
    Sample {
        wall,
        peak_kib: peaks.get(peaks.len() / 2).copied(),
    }
}

fn show(label: &str, s: Sample, baseline: Option<Sample>) {
    let peak = s
        .peak_kib
        .map_or_else(String::new, |k| format!("{:.1} MiB", k as f64 / 1024.0));
    let ratio = baseline.map_or_else(String::new, |b| {
        format!("{:.2}×", s.wall.as_secs_f64() / b.wall.as_secs_f64())
    });
    println!(
        "  {label:<44} {:>10.1} ms {peak:>11} {ratio:>8}",
        s.wall.as_secs_f64() * 1000.0
    );
}

/// A Cargo package with a migrations folder of `count` one-line migrations, laid out so
/// trek, sqlx (`<version>_<name>.sql`) and refinery (`V<version>__<name>.sql` in a folder of
/// its own) read the same statements.
fn package(dir: &Path, count: usize, statement: impl Fn(usize) -> String) -> Result<()> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("migrations"))?;
    fs::create_dir_all(dir.join("refinery"))?;
    fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"bench-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    for i in 1..=count {
        let sql = format!("{};\n", statement(i));
        fs::write(
            dir.join("migrations").join(format!("{i:05}_m{i}.sql")),
            &sql,
        )?;
        fs::write(dir.join("refinery").join(format!("V{i}__m{i}.sql")), &sql)?;
    }
    Ok(())
}

fn refinery_config(dir: &Path, url: &str) -> Result<PathBuf> {
    let config: trek::postgres::Config = url.parse()?;
    let host = match config.get_hosts().first() {
        Some(trek::postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let path = dir.join("refinery.toml");
    fs::write(
        &path,
        format!(
            "[main]\ndb_type = \"Postgres\"\ndb_host = \"{host}\"\ndb_port = \"{}\"\ndb_user = \"{}\"\ndb_pass = \"{}\"\ndb_name = \"{}\"\n",
            config.get_ports().first().copied().unwrap_or(5432),
            config.get_user().unwrap_or("postgres"),
            config.get_password().map(String::from_utf8_lossy).unwrap_or_default(),
            config.get_dbname().unwrap_or("postgres"),
        ),
    )?;
    Ok(path)
}

fn noop(server: &Server, tools: &Tools, work: &Path, options: &Options) -> Result<()> {
    let n = options.migrations;
    println!("\nnoop: `up` with nothing to do, {n} applied one-line migrations");
    let dir = work.join("noop");
    package(&dir, n, |i| format!("CREATE TYPE e{i} AS ENUM ('a')"))?;
    let trek_url = server.fresh_database("trek_bench_noop_trek")?;
    let trek = |s: &Path| {
        measure(
            tools,
            &tools.cargo_trek,
            &["trek", "up", "-q"],
            s,
            &[("DATABASE_URL", &trek_url)],
        )
    };
    trek(&dir)?;
    let sqlx_url = server.fresh_database("trek_bench_noop_sqlx")?;
    let sqlx = |s: &Path| -> Result<Option<Sample>> {
        match &tools.sqlx {
            Some(p) => Ok(Some(measure(
                tools,
                p,
                &["migrate", "run", "--source", "migrations"],
                s,
                &[("DATABASE_URL", &sqlx_url)],
            )?)),
            None => Ok(None),
        }
    };
    sqlx(&dir)?;
    let refinery_url = server.fresh_database("trek_bench_noop_refinery")?;
    let config = refinery_config(&dir, &refinery_url)?;
    let refinery = |s: &Path| -> Result<Option<Sample>> {
        match &tools.refinery {
            Some(p) => Ok(Some(measure(
                tools,
                p,
                &[
                    "migrate",
                    "-c",
                    config.to_str().unwrap_or_default(),
                    "-p",
                    "refinery",
                ],
                s,
                &[],
            )?)),
            None => Ok(None),
        }
    };
    refinery(&dir)?;
    let (mut t, mut s, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..options.rounds {
        t.push(trek(&dir)?);
        if let Some(x) = sqlx(&dir)? {
            s.push(x);
        }
        if let Some(x) = refinery(&dir)? {
            r.push(x);
        }
    }
    let sqlx = (!s.is_empty()).then(|| median(s));
    show("cargo trek up", median(t), sqlx);
    if let Some(sqlx) = sqlx {
        show("sqlx migrate run", sqlx, None);
    }
    if !r.is_empty() {
        show("refinery migrate", median(r), None);
    }
    for name in [
        "trek_bench_noop_trek",
        "trek_bench_noop_sqlx",
        "trek_bench_noop_refinery",
    ] {
        server.drop_database(name);
    }
    Ok(())
}

fn fresh(server: &Server, tools: &Tools, work: &Path, options: &Options) -> Result<()> {
    let n = options.migrations;
    println!("\nfresh: `up` of {n} one-statement migrations on a new database (CREATE DATABASE included)");
    let dir = work.join("fresh");
    let statement = |i: usize| format!("CREATE TYPE e{i} AS ENUM ('a')");
    package(&dir, n, statement)?;
    let mut script = String::from("\\set ON_ERROR_STOP on\n");
    for i in 1..=n {
        script.push_str(&format!("BEGIN;\n{};\nCOMMIT;\n", statement(i)));
    }
    fs::write(dir.join("all.sql"), script)?;
    let name = "trek_bench_fresh";
    let url = server.url(name);
    let admin = server.url("postgres");
    let create = |tools: &Tools| -> Result<Sample> {
        server.drop_database(name);
        server.settle()?;
        measure(
            tools,
            Path::new("psql"),
            &["-X", "-q", "-c", &format!("CREATE DATABASE {name}"), &admin],
            &dir,
            &[],
        )
    };
    let (mut t, mut p, mut s, mut r) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..options.rounds {
        let c = create(tools)?;
        let run = measure(
            tools,
            &tools.cargo_trek,
            &["trek", "up", "-q"],
            &dir,
            &[("DATABASE_URL", &url)],
        )?;
        t.push(Sample {
            wall: c.wall + run.wall,
            peak_kib: run.peak_kib,
        });
        let c = create(tools)?;
        let run = measure(
            tools,
            Path::new("psql"),
            &["-X", "-q", "-f", "all.sql", &url],
            &dir,
            &[],
        )?;
        p.push(Sample {
            wall: c.wall + run.wall,
            peak_kib: run.peak_kib,
        });
        if let Some(sqlx) = &tools.sqlx {
            server.drop_database(name);
            server.settle()?;
            let c = measure(
                tools,
                sqlx,
                &["database", "create"],
                &dir,
                &[("DATABASE_URL", &url)],
            )?;
            let run = measure(
                tools,
                sqlx,
                &["migrate", "run", "--source", "migrations"],
                &dir,
                &[("DATABASE_URL", &url)],
            )?;
            s.push(Sample {
                wall: c.wall + run.wall,
                peak_kib: run.peak_kib,
            });
        }
        if let Some(refinery) = &tools.refinery {
            let c = create(tools)?;
            let config = refinery_config(&dir, &url)?;
            let run = measure(
                tools,
                refinery,
                &[
                    "migrate",
                    "-c",
                    config.to_str().unwrap_or_default(),
                    "-p",
                    "refinery",
                ],
                &dir,
                &[],
            )?;
            r.push(Sample {
                wall: c.wall + run.wall,
                peak_kib: run.peak_kib,
            });
        }
    }
    let psql = median(p);
    show("createdb + cargo trek up", median(t), Some(psql));
    show("createdb + psql -f (BEGIN/stmt/COMMIT each)", psql, None);
    if !s.is_empty() {
        show("sqlx database create + migrate run", median(s), Some(psql));
    }
    if !r.is_empty() {
        show("createdb + refinery migrate", median(r), Some(psql));
    }
    server.drop_database(name);
    Ok(())
}

fn data(server: &Server, tools: &Tools, work: &Path, options: &Options) -> Result<()> {
    let mb = options.data_mb;
    println!("\ndata: one {mb} MB data migration (multi-row INSERTs), then `cargo trek dump`");
    let dir = work.join("data");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("migrations"))?;
    fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"bench-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    let table = "CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);\n";
    fs::write(dir.join("migrations/00001_events.sql"), table)?;
    let mut body = String::with_capacity(mb << 20);
    let mut id = 0u64;
    while body.len() < mb << 20 {
        body.push_str("INSERT INTO events (id, payload) VALUES\n");
        for row in 0..1000 {
            id += 1;
            body.push_str(&format!(
                "({id}, 'event {id}: {}'){}\n",
                "x".repeat(80),
                if row == 999 { ";" } else { "," }
            ));
        }
    }
    fs::write(dir.join("migrations/00002_backfill.sql"), &body)?;
    fs::write(dir.join("table.sql"), table)?;
    fs::write(dir.join("backfill.sql"), &body)?;
    let file_mib = body.len() as f64 / f64::from(1 << 20);
    drop(body);
    println!("  the migration is {file_mib:.1} MiB, {id} rows");
    let name = "trek_bench_data";
    let url = server.url(name);
    let (mut t, mut p) = (Vec::new(), Vec::new());
    for _ in 0..options.rounds.min(5) {
        server.fresh_database(name)?;
        t.push(measure(
            tools,
            &tools.cargo_trek,
            &["trek", "up", "-q"],
            &dir,
            &[("DATABASE_URL", &url)],
        )?);
        server.fresh_database(name)?;
        measure(
            tools,
            Path::new("psql"),
            &["-X", "-q", "-f", "table.sql", &url],
            &dir,
            &[],
        )?;
        p.push(measure(
            tools,
            Path::new("psql"),
            &["-X", "-q", "-1", "-f", "backfill.sql", &url],
            &dir,
            &[],
        )?);
    }
    let psql = median(p);
    show(
        "cargo trek up (the table, then the data)",
        median(t),
        Some(psql),
    );
    show("psql -1 -f (the data only)", psql, None);
    server.fresh_database(name)?;
    measure(
        tools,
        &tools.cargo_trek,
        &["trek", "up", "-q"],
        &dir,
        &[("DATABASE_URL", &url)],
    )?;
    for (label, args) in [
        ("cargo trek dump", vec!["trek", "dump", "-o", "dump.sql"]),
        (
            "cargo trek dump --bodies",
            vec!["trek", "dump", "--bodies", "-o", "dump.sql"],
        ),
    ] {
        measure(
            tools,
            &tools.cargo_trek,
            &args,
            &dir,
            &[("DATABASE_URL", &url)],
        )?;
        let bytes = fs::metadata(dir.join("dump.sql"))?.len();
        println!("  {label:<44} {:>10.1} KiB", bytes as f64 / 1024.0);
    }
    server.drop_database(name);
    Ok(())
}
