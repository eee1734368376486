//! PostgreSQL's client programs (`pg_dump`, `pg_restore`, `psql`) in the version that matches
//! the server: a `pg_dump` older than the server refuses to dump it, and a newer one writes
//! dumps an older `pg_restore` cannot read.
//!
//! Searched in `/usr/lib/postgresql/<major>/bin` (Debian, Ubuntu), `pg_config --bindir`, then
//! `PATH`; the first folder whose `pg_dump --version` has the server's major version wins,
//! else the newest one that is not older than the server.

use std::collections::HashMap;
use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use postgres::Client;

use crate::error::{Error, Result};

/// A folder holding `pg_dump`, `pg_restore` and `psql`.
#[derive(Debug, Clone)]
pub(crate) struct ClientTools {
    dir: PathBuf,
}

impl ClientTools {
    /// The client programs for the server `client` is connected to.
    pub fn for_server(client: &mut Client) -> Result<ClientTools> {
        let row = client
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .map_err(|e| Error::db("could not read the server's version", e))?;
        let num: i32 = row.get(0);
        let major = u32::try_from(num / 10000).unwrap_or(0);
        Self::for_major(major)
    }

    /// The programs for server major version `major`, looked up once per process (each
    /// candidate folder costs a `pg_dump --version`).
    fn for_major(major: u32) -> Result<ClientTools> {
        static FOUND: Mutex<Option<HashMap<u32, PathBuf>>> = Mutex::new(None);
        let cached = FOUND
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|found| found.get(&major).cloned());
        if let Some(dir) = cached {
            return Ok(ClientTools { dir });
        }
        let tools = Self::search(major)?;
        FOUND
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(HashMap::new)
            .insert(major, tools.dir.clone());
        Ok(tools)
    }

    fn search(major: u32) -> Result<ClientTools> {
        let mut candidates = vec![PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"))];
        #[cfg(unix)]
        candidates.extend(crate::local_server::binaries::pg_config_bindir());
        if let Some(path) = env::var_os("PATH") {
            candidates.extend(env::split_paths(&path));
        }
        let mut newer: Option<(u32, PathBuf)> = None;
        for dir in candidates {
            let Some(found) = version_of(&dir) else {
                continue;
            };
            if found == major {
                return Ok(ClientTools { dir });
            }
            if found > major && newer.as_ref().is_none_or(|(v, _)| found > *v) {
                newer = Some((found, dir));
            }
        }
        newer
            .map(|(_, dir)| ClientTools { dir })
            .ok_or_else(|| Error::Snapshot {
                message: format!(
                    "no pg_dump, pg_restore and psql of PostgreSQL {major} or newer were found \
                     (looked in /usr/lib/postgresql/{major}/bin, pg_config --bindir and PATH); \
                     install the PostgreSQL {major} client (postgresql-client-{major})"
                ),
            })
    }

    /// The path of one of the programs.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The major version of the `pg_dump` in `dir`, when `pg_restore` and `psql` are beside it.
fn version_of(dir: &Path) -> Option<u32> {
    if !["pg_dump", "pg_restore", "psql"]
        .iter()
        .all(|p| dir.join(p).is_file())
    {
        return None;
    }
    let out = Command::new(dir.join("pg_dump"))
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let number = text.split(')').nth(1)?.split_whitespace().next()?;
    number
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}
