//! PostgreSQL's client programs (`pg_dump`, `pg_restore`, `psql`) in the version that matches
//! the server: a `pg_dump` older than the server refuses to dump it, and a newer one writes
//! dumps an older `pg_restore` cannot read.
//!
//! Found by `trek-pg-binaries` (the finder trek's local server uses too), looked up once per
//! process: the first folder whose `pg_dump --version` has the server's major version wins,
//! else the newest one that is not older than the server.

use std::path::{Path, PathBuf};

use postgres::Client;
use trek_pg_binaries::{BinDir, Major, Search, CLIENT_PROGRAMS};

use crate::error::{Error, Result};

/// A folder holding `pg_dump`, `pg_restore` and `psql`.
#[derive(Debug, Clone)]
pub(crate) struct ClientTools {
    dir: BinDir,
    /// The server's `server_version_num`.
    server_version_num: i32,
}

impl ClientTools {
    /// The client programs for the server `client` is connected to: those in `given` (the
    /// caller's folder, [`crate::Connect::client_programs_dir`]) when it names one, else the
    /// ones a search finds.
    ///
    /// # Errors
    /// [`Error::MissingClientPrograms`] when none fit: the given folder lacks one of them or
    /// holds an older major than the server's, or the search found none.
    pub fn for_server(client: &mut Client, given: Option<&Path>) -> Result<ClientTools> {
        let num = super::server_version_num(client)?;
        let major = Major::from_version_num(num).ok_or_else(|| Error::Snapshot {
            message: format!("the server's version number {num} is not a PostgreSQL version"),
        })?;
        if let Some(given) = given {
            let dir = BinDir::at(given, CLIENT_PROGRAMS)
                .filter(|dir| dir.major().is_some_and(|found| found >= major))
                .ok_or_else(|| Error::MissingClientPrograms {
                    major: major.to_string(),
                    places: format!(
                        "{}, the folder given to trek{}",
                        given.display(),
                        if given.is_dir() {
                            ""
                        } else {
                            ", which does not exist"
                        }
                    ),
                    hint: "point pg_bin (Trek.toml) or ConfigConnector::client_programs at a \
                           folder that has them, or leave it out to let trek look for them \
                           (TREK_PG_BIN, PATH, /usr/lib/postgresql)"
                        .to_owned(),
                })?;
            return Ok(ClientTools {
                dir,
                server_version_num: num,
            });
        }
        let search = Search::new();
        let dir = search.find_major(CLIENT_PROGRAMS, major).ok_or_else(|| {
            Error::MissingClientPrograms {
                major: major.to_string(),
                places: format!("/usr/lib/postgresql/{major}/bin, {}", search.places()),
                hint: format!(
                    "set TREK_PG_BIN (or pg_bin in Trek.toml) to a folder that has them, or \
                     install PostgreSQL {major}'s client programs (Debian and Ubuntu: \
                     postgresql-client-{major} from apt.postgresql.org; macOS: `brew install \
                     postgresql@{major}`)"
                ),
            }
        })?;
        Ok(ClientTools {
            dir,
            server_version_num: num,
        })
    }

    /// The `server_version_num` of the server they were picked for.
    pub fn server_version_num(&self) -> i32 {
        self.server_version_num
    }

    /// The path of one of the programs.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.program(name)
    }
}
