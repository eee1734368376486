//! The data the restore benchmark moves around: migration 0001 fills a table `big` to about
//! `--size-mb` MB (heap and primary key), migration 0002 adds a small table, and an edited
//! 0002 is what forces the qa workflow to restore the snapshot taken before 0002.
//!
//! The three migration sets are three releases of one application: v1 has 0001, v2 adds 0002,
//! v3 edits 0002. They are written to folders and read with `trek_core::source::read_dir`,
//! as `trek::embed!` would read them at build time.

use std::error::Error;
use std::fs;
use std::path::Path;
use std::time::Duration;

use trek::postgres::{Client, NoTls};
use trek::{Migrations, Migrator, SnapshotStrategy, Snapshots, Workflow};

use crate::server::Server;

/// Every database the benchmark makes starts with this; the clean-up drops them all.
pub const PREFIX: &str = "trek_bench_restore";

/// The database migration 0001 is applied to once; every measurement starts from a copy.
pub const SEED: &str = "trek_bench_restore_seed";

/// Bytes a row of `big` takes on disk: a 272-byte heap tuple (header, bigint, 236-byte text)
/// and its line pointer, 29 to an 8 kB page, plus about 23 bytes in the primary key.
const BYTES_PER_ROW: u64 = 305;

const BIG: &str = "CREATE TABLE big (id bigint NOT NULL, payload text NOT NULL);\n\
INSERT INTO big SELECT g, md5(g::text) || repeat('x', 200) FROM generate_series(1, {rows}) g;\n\
ALTER TABLE big ADD PRIMARY KEY (id);\n";
const SMALL: &str = "CREATE TABLE small (id int PRIMARY KEY);\n";
const SMALL_EDITED: &str = "CREATE TABLE small (id int PRIMARY KEY, note text);\n";

/// The seed as made.
pub struct Seed {
    /// The time trek took to apply 0001.
    pub fill: Duration,
    /// The size of `big`, heap and index, in bytes.
    pub table_bytes: i64,
    /// The size of the database in bytes.
    pub database_bytes: i64,
}

/// The three releases' migrations and the number of rows in `big`.
pub struct Workload {
    pub rows: i64,
    /// 0001 only.
    pub v1: Migrations,
    /// 0001 and 0002.
    pub v2: Migrations,
    /// 0001 and the edited 0002.
    pub v3: Migrations,
}

impl Workload {
    /// Writes the migration folders under `work` and reads them back.
    pub fn write(work: &Path, size_mb: u64) -> Result<Workload, Box<dyn Error>> {
        let rows = i64::try_from((size_mb * 1024 * 1024 / BYTES_PER_ROW).max(1))?;
        let big = BIG.replace("{rows}", &rows.to_string());
        let read = |name: &str, files: &[(&str, &str)]| -> Result<Migrations, Box<dyn Error>> {
            let dir = work.join(name);
            fs::create_dir_all(&dir)?;
            for (file, sql) in files {
                fs::write(dir.join(file), sql)?;
            }
            Ok(trek_core::source::read_dir(&dir)?)
        };
        Ok(Workload {
            rows,
            v1: read("v1", &[("0001_big.sql", &big)])?,
            v2: read("v2", &[("0001_big.sql", &big), ("0002_small.sql", SMALL)])?,
            v3: read(
                "v3",
                &[("0001_big.sql", &big), ("0002_small.sql", SMALL_EDITED)],
            )?,
        })
    }

    /// Makes [`SEED`]: a qa run of v1 (its snapshot, of the empty database, is a `template`
    /// copy that is never used), then `VACUUM (FREEZE, ANALYZE)` so that every copy starts with
    /// its hint bits set and no measurement pays for setting them.
    pub fn seed(&self, server: &Server) -> Result<Seed, Box<dyn Error>> {
        let url = server.fresh_database(SEED)?;
        let mut client = Client::connect(&url, NoTls)?;
        let report = Migrator::new(&self.v1)
            .workflow(Workflow::Qa)
            .snapshots(Snapshots::new(SnapshotStrategy::Template))
            .connector(trek::ConfigConnector::new(url.parse()?, NoTls))
            .run(&mut client)?;
        if report.applied.len() != 1 {
            return Err(
                format!("seeding applied {} migrations, not 1", report.applied.len()).into(),
            );
        }
        client.batch_execute("VACUUM (FREEZE, ANALYZE) big")?;
        self.verify(&mut client)?;
        let sizes = client.query_one(
            "SELECT pg_total_relation_size('big'), pg_database_size(current_database())",
            &[],
        )?;
        Ok(Seed {
            fill: report.applied[0].duration,
            table_bytes: sizes.get(0),
            database_bytes: sizes.get(1),
        })
    }

    /// Fails unless `big` has all its rows.
    pub fn verify(&self, client: &mut Client) -> Result<(), Box<dyn Error>> {
        let count: i64 = client.query_one("SELECT count(*) FROM big", &[])?.get(0);
        if count != self.rows {
            return Err(format!("big has {count} rows, not {}", self.rows).into());
        }
        Ok(())
    }
}

/// Copies [`SEED`] into `name` (`STRATEGY FILE_COPY` where the server has it: a copy of the
/// files, not a WAL-logged one, since this is set-up, not a measurement).
pub fn copy_seed(server: &Server, name: &str) -> Result<String, Box<dyn Error>> {
    server.drop_database(name);
    let mut admin = server.admin()?;
    let sql = format!("CREATE DATABASE {name} TEMPLATE {SEED}");
    if admin
        .batch_execute(&format!("{sql} STRATEGY FILE_COPY"))
        .is_err()
    {
        admin.batch_execute(&sql)?;
    }
    drop(admin);
    server.settle()?;
    Ok(server.url(name))
}
