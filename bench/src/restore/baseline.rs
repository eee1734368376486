//! The baselines: what a person would type to snapshot and restore the seed without trek, timed
//! the same way (wall time of the programs, after the same checkpoint and `sync`).
//!
//! - `pg_dump -Fc` of the seed into a file, then `pg_restore -d` into a fresh, empty database
//!   (and the same with `-Z1`, the compression level trek's `pg_dump` strategy uses);
//! - `createdb -T seed copy`, then `createdb -T copy restored` (the server's default copy
//!   strategy, as trek's `CREATE DATABASE … TEMPLATE`), and for comparison the same with
//!   `--strategy=file_copy`, and `dropdb --force` + `createdb -T` (replacing a database, as a
//!   restore must).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trek::postgres::{Client, NoTls};
use trek::Connect;

use crate::server::Server;
use crate::workload::{Workload, PREFIX, SEED};

/// PostgreSQL's client programs as trek picks them: `pg_dump` and `pg_restore` of the server's
/// major (`TREK_PG_BIN` first, then `/usr/lib/postgresql/<major>/bin`, `PATH`…), and
/// `createdb` and `dropdb` (which send SQL any server takes) from the first folder that has
/// them.
pub struct Programs {
    dump: Option<PathBuf>,
    other: Option<PathBuf>,
}

impl Programs {
    pub fn for_server(client: &mut Client) -> Result<Programs, Box<dyn Error>> {
        let num: i32 = client
            .query_one("SELECT current_setting('server_version_num')::int", &[])?
            .get(0);
        let major = trek_pg_binaries::Major::from_version_num(num)
            .ok_or_else(|| format!("{num} is not a PostgreSQL version"))?;
        let search = trek_pg_binaries::Search::new();
        let dump = search
            .find_major(&["pg_dump", "pg_restore"], major)
            .ok_or_else(|| format!("no pg_dump of PostgreSQL {major} or newer was found"))?;
        Ok(Programs {
            dump: Some(dump.dir().to_owned()),
            other: search
                .find(&["createdb", "dropdb"])
                .map(|dir| dir.dir().to_owned()),
        })
    }

    /// The program's path (its bare name when it is looked up on `PATH`).
    pub fn path(&self, name: &str) -> PathBuf {
        let dir = if name.starts_with("pg_") {
            &self.dump
        } else {
            &self.other
        };
        dir.as_ref()
            .map_or_else(|| PathBuf::from(name), |d| d.join(name))
    }

    /// Runs `name args` with libpq's environment for `database`; returns its wall time.
    pub fn run(
        &self,
        server: &Server,
        database: &str,
        name: &str,
        args: &[&str],
    ) -> Result<Duration, Box<dyn Error>> {
        let env =
            trek::ConfigConnector::new(server.url(database).parse()?, NoTls).client_env(database);
        let started = Instant::now();
        let out = Command::new(self.path(name))
            .args(args)
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run {name}: {e}"))?;
        let elapsed = started.elapsed();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(format!("{name} {args:?} failed ({}): {stderr}", out.status).into());
        }
        Ok(elapsed)
    }
}

/// The baselines' times in one round.
pub struct Baseline {
    /// `pg_dump -Fc` (default compression).
    pub dump: Dump,
    /// `pg_dump -Fc -Z1`: the compression trek's `pg_dump` strategy uses.
    pub dump_z1: Dump,
    /// `createdb -T seed copy`.
    pub copy: Duration,
    /// `createdb -T copy restored`.
    pub copy_restore: Duration,
    /// `dropdb --force restored` then `createdb -T copy restored`: replacing a database, as a
    /// restore over the qa database must (and as the `command` strategy here does).
    pub replace: Duration,
    /// `createdb --strategy=file_copy -T seed`, when the server has copy strategies (15+).
    pub file_copy: Option<Duration>,
}

/// A dump and its restore into a fresh database.
pub struct Dump {
    pub dump: Duration,
    pub bytes: u64,
    pub restore: Duration,
}

/// Measures the baselines on the seed; `dir` receives the dumps.
pub fn measure(
    server: &Server,
    programs: &Programs,
    load: &Workload,
    dir: &Path,
) -> Result<Baseline, Box<dyn Error>> {
    let [copy, restored, file_copy] =
        ["copy", "restored", "file_copy"].map(|n| format!("{PREFIX}_base_{n}"));
    let dump = dump_and_restore(server, programs, load, dir, &[])?;
    let dump_z1 = dump_and_restore(server, programs, load, dir, &["-Z1"])?;

    server.settle()?;
    let copy_time = programs.run(server, "postgres", "createdb", &["-T", SEED, &copy])?;
    server.settle()?;
    let copy_restore = programs.run(server, "postgres", "createdb", &["-T", &copy, &restored])?;
    check(server, load, &restored)?;
    server.settle()?;
    let replace = programs.run(server, "postgres", "dropdb", &["--force", &restored])?
        + programs.run(server, "postgres", "createdb", &["-T", &copy, &restored])?;
    check(server, load, &restored)?;
    server.drop_database(&restored);
    server.drop_database(&copy);

    server.settle()?;
    let file_copy_time = programs
        .run(
            server,
            "postgres",
            "createdb",
            &["--strategy=file_copy", "-T", SEED, &file_copy],
        )
        .ok();
    server.drop_all(&file_copy)?;
    Ok(Baseline {
        dump,
        dump_z1,
        copy: copy_time,
        copy_restore,
        replace,
        file_copy: file_copy_time,
    })
}

/// `pg_dump -Fc <extra>` of the seed, then `pg_restore` of it into a fresh database.
fn dump_and_restore(
    server: &Server,
    programs: &Programs,
    load: &Workload,
    dir: &Path,
    extra: &[&str],
) -> Result<Dump, Box<dyn Error>> {
    let restored = format!("{PREFIX}_base_restored");
    let file = dir.join("baseline.dump");
    let file_arg = format!("--file={}", file.display());
    let mut args = vec!["-Fc", &file_arg];
    args.extend(extra);

    server.settle()?;
    let dump = programs.run(server, SEED, "pg_dump", &args)?;
    let bytes = std::fs::metadata(&file)?.len();
    server.fresh_database(&restored)?;
    let restore = programs.run(
        server,
        &restored,
        "pg_restore",
        &[
            "--exit-on-error",
            &format!("--dbname={restored}"),
            &file.display().to_string(),
        ],
    )?;
    check(server, load, &restored)?;
    server.drop_database(&restored);
    std::fs::remove_file(&file)?;
    Ok(Dump {
        dump,
        bytes,
        restore,
    })
}

/// Fails unless `database` has all of `big`.
fn check(server: &Server, load: &Workload, database: &str) -> Result<(), Box<dyn Error>> {
    load.verify(&mut Client::connect(&server.url(database), NoTls)?)
}
