//! `trek-bench-restore`: how long the qa workflow takes to snapshot a large database and to
//! restore it, per snapshot strategy, as a ratio to doing the same by hand in the same run.
//!
//! ```text
//! cargo run --release -p trek-bench --bin trek-bench-restore -- [--size-mb N] [--rounds R] \
//!     [--only pg_dump,template,command]
//! ```
//!
//! It fills a table to about N MB (default 1024) with migration 0001 in a seed database
//! ([`workload`]), then for each strategy, on a copy of the seed, times a qa run that takes the
//! snapshot before 0002 (which holds the table) and a qa run that, 0002 being edited, restores
//! that snapshot and rolls forward, checking that every row came back ([`trek_runs`]). The
//! baselines are `pg_dump -Fc` / `pg_restore` and `createdb -T` on the seed ([`baseline`]).
//! Each round (default 3) measures the baselines then each strategy; the table ([`table`])
//! shows the medians.
//!
//! Strategies: `pg_dump` (dumps in a temporary folder), `template` with each copy method
//! (`template`: `STRATEGY = FILE_COPY`, trek's default; `template_wal_log`; `template_clone`:
//! `file_copy_method = clone`, a plain file copy before PostgreSQL 18), and `command` with
//! `createdb -T <db> <db>__cmd_<id>` to snapshot and `dropdb --force <db> && createdb -T
//! <db>__cmd_<id> <db>` to restore. `restore_point` needs WAL archiving, a base backup and a
//! point-in-time recovery that restarts the server, so it is reported as not measured.
//!
//! The server is trek's local server, or `TREK_BENCH_DATABASE_URL` (the user needs CREATEDB).
//! Everything the benchmark makes (databases named `trek_bench_restore*`, the temporary
//! folder) is dropped at the end, also when it fails.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod baseline;
#[path = "../server.rs"]
mod server;
mod table;
mod trek_runs;
mod workload;

use std::error::Error;
use std::process::ExitCode;

use trek::{SnapshotStrategy, Snapshots, TemplateCopy};

use baseline::Programs;
use server::Server;
use trek_runs::Measured;
use workload::{Workload, PREFIX};

const RESTORE_POINT: &str = "restore_point: not measured. Its snapshot is \
    pg_create_restore_point() (instant); its restore is the team's point-in-time recovery, \
    which needs WAL archiving, a base backup and a restart of the whole cluster, none of which \
    the benchmark's server has.";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trek-bench-restore: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    size_mb: u64,
    rounds: usize,
    /// `--only pg_dump,template`: the strategies to measure (default all).
    only: Option<Vec<String>>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        size_mb: 1024,
        rounds: 3,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || {
            let text = args.next().unwrap_or_default();
            text.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{arg} needs a positive number, not `{text}`"))
        };
        match arg.as_str() {
            "--size-mb" => options.size_mb = number()? as u64,
            "--rounds" => options.rounds = number()?,
            "--only" => {
                let list = args.next().unwrap_or_default();
                options.only = Some(list.split(',').map(str::to_owned).collect());
            }
            "--bench" => {}
            other => {
                return Err(format!(
                    "unknown argument `{other}` (use --size-mb N, --rounds R, --only a,b)"
                ))
            }
        }
    }
    Ok(options)
}

fn run() -> Result<(), Box<dyn Error>> {
    let options = parse_options()?;
    let server = Server::connect()?;
    let programs = Programs::for_server(&mut server.admin()?)?;
    let work = std::env::temp_dir().join(format!("trek-bench-restore-{}", std::process::id()));
    server.drop_all(PREFIX)?; // leftovers of a run that was killed
    let _leftovers = server::Leftovers {
        server: &server,
        prefix: PREFIX,
        work: work.clone(),
        bench: "trek-bench-restore",
    };
    std::fs::create_dir_all(&work)?;

    let load = Workload::write(&work, options.size_mb)?;
    println!(
        "filling `big` with {} rows (about {} MB)...",
        load.rows, options.size_mb
    );
    let seed = load.seed(&server)?;
    table::print_seed(&load, &seed);

    let mut strategies = strategies(&programs, &work);
    if let Some(only) = &options.only {
        strategies.retain(|(name, _)| only.iter().any(|o| o == name));
    }
    let mut baselines = Vec::new();
    let mut measured: Vec<Vec<Measured>> = strategies.iter().map(|_| Vec::new()).collect();
    for round in 1..=options.rounds {
        let base = baseline::measure(&server, &programs, &load, &work)?;
        table::print_baseline(round, &base);
        baselines.push(base);
        for ((name, strategy), results) in strategies.iter().zip(&mut measured) {
            let m = trek_runs::measure(&server, &load, name, strategy.clone())?;
            table::print_measured(round, name, &m);
            results.push(m);
        }
    }
    let names: Vec<&str> = strategies.iter().map(|(name, _)| *name).collect();
    table::print(options.size_mb, &seed, &baselines, &names, &measured);
    println!("{RESTORE_POINT}");
    Ok(())
}

/// The strategies measured, with their names.
fn strategies(programs: &Programs, work: &std::path::Path) -> Vec<(&'static str, Snapshots)> {
    let createdb = programs.path("createdb").display().to_string();
    let dropdb = programs.path("dropdb").display().to_string();
    let template = |copy| Snapshots::new(SnapshotStrategy::Template).template_copy(copy);
    vec![
        (
            "pg_dump",
            Snapshots::new(SnapshotStrategy::PgDump {
                dir: work.join("snapshots"),
            }),
        ),
        ("template", template(TemplateCopy::FileCopy)),
        ("template_wal_log", template(TemplateCopy::WalLog)),
        ("template_clone", template(TemplateCopy::Clone)),
        (
            "command",
            Snapshots::new(SnapshotStrategy::Command {
                snapshot: format!("'{createdb}' -T '{{database}}' '{{database}}__cmd_{{id}}'"),
                restore: format!(
                    "'{dropdb}' --force '{{database}}' && \
                     '{createdb}' -T '{{database}}__cmd_{{id}}' '{{database}}'"
                ),
                delete: None,
            }),
        ),
    ]
}
