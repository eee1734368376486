//! The server the benchmarks create their databases on: trek's local server (under the cargo
//! target directory), or `TREK_BENCH_DATABASE_URL` (a URL whose database name is replaced per
//! database; the user needs CREATEDB). Shared by `trek-bench` and `trek-bench-restore`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

use trek::postgres::{Client, NoTls};

/// Where databases are created: a URL template whose database name is replaced.
pub struct Server {
    base: String,
}

impl Server {
    /// `TREK_BENCH_DATABASE_URL`, else trek's local server (started when it is not running).
    pub fn connect() -> Result<Server, Box<dyn Error>> {
        if let Ok(url) = std::env::var("TREK_BENCH_DATABASE_URL") {
            return Ok(Server { base: url });
        }
        let server =
            trek_local_server::LocalServer::for_manifest_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
        let info = server.start()?;
        Ok(Server {
            base: info.url("postgres"),
        })
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
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

    /// A session on the maintenance database.
    pub fn admin(&self) -> Result<Client, Box<dyn Error>> {
        Ok(Client::connect(&self.url("postgres"), NoTls)?)
    }

    /// Drops and creates `name`, then lets the machine settle ([`Server::settle`]).
    pub fn fresh_database(&self, name: &str) -> Result<String, Box<dyn Error>> {
        let mut admin = self.admin()?;
        // CREATE DATABASE cannot share a message (an implicit transaction) with another statement.
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        drop(admin);
        self.settle()?;
        Ok(self.url(name))
    }

    /// A checkpoint and `sync`, so that the dirty pages of the previous measurement are not
    /// written back during the next one.
    pub fn settle(&self) -> Result<(), Box<dyn Error>> {
        self.admin()?.batch_execute("CHECKPOINT")?;
        let _ = Command::new("sync").status();
        Ok(())
    }

    /// Drops every database whose name starts with `prefix`, with their prefix templates.
    // Used by the restore and fleet benchmarks, not by every binary that includes this file.
    #[allow(dead_code)]
    pub fn drop_all(&self, prefix: &str) -> Result<(), Box<dyn Error>> {
        let rows = self.admin()?.query(
            "SELECT datname::text FROM pg_database WHERE starts_with(datname::text, $1)",
            &[&prefix],
        )?;
        for row in rows {
            let name: String = row.get(0);
            self.drop_database(&format!("\"{name}\""));
        }
        Ok(())
    }

    /// Drops `name` and the prefix templates trek made of it (`name__trek_prefix_*`).
    pub fn drop_database(&self, name: &str) {
        if let Ok(mut admin) = self.admin() {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            let templates = admin
                .query(
                    "SELECT datname::text FROM pg_database WHERE starts_with(datname::text, $1)",
                    &[&format!("{name}__trek_prefix_")],
                )
                .unwrap_or_default();
            for row in templates {
                let template: String = row.get(0);
                let _ = admin.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{template}\" WITH (FORCE)"
                ));
            }
        }
    }
}

/// Drops what a benchmark made (its databases named `prefix*`, its work folder) however the
/// benchmark ends.
// Used by the restore and fleet benchmarks, not by every binary that includes this file.
#[allow(dead_code)]
pub struct Leftovers<'a> {
    /// The server the databases are on.
    pub server: &'a Server,
    /// What their names start with.
    pub prefix: &'static str,
    /// The work folder.
    pub work: PathBuf,
    /// The benchmark's name, for the message when dropping fails.
    pub bench: &'static str,
}

impl Drop for Leftovers<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.server.drop_all(self.prefix) {
            eprintln!(
                "{}: could not drop the {}* databases: {e}",
                self.bench, self.prefix
            );
        }
        let _ = std::fs::remove_dir_all(&self.work);
    }
}
