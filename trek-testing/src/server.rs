//! The server test databases live on: `TREK_TEST_DATABASE_URL`, else `DATABASE_URL`, else the
//! project's local server; and a small pool of sessions on its maintenance database.

use std::env;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use trek::postgres::{Client, Config, NoTls};
use trek_local_server::{LocalServer, ServerInfo};

use crate::error::{Error, Result};

/// The variable naming the server for tests, read first.
pub const TEST_DATABASE_URL_VAR: &str = "TREK_TEST_DATABASE_URL";

/// The variable read when [`TEST_DATABASE_URL_VAR`] is not set.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";

/// The database that sessions creating and dropping databases connect to (and where the
/// template builders' advisory lock lives: advisory locks are per database).
pub(crate) const MAINTENANCE_DATABASE: &str = "postgres";

/// How many idle maintenance sessions a process keeps per server.
const POOL_SIZE: usize = 8;

/// One PostgreSQL server, reached as one user.
pub(crate) struct Server {
    /// How to write the URL of one of its databases.
    base: Base,
    /// Idle sessions on the maintenance database.
    pool: Mutex<Vec<Client>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: show none of it.
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
enum Base {
    /// A URL or `key=value` string given by the environment or the caller.
    Given(String),
    /// The local server.
    Local(ServerInfo),
}

impl Server {
    /// Whether this is the project's local server, so a test database named after a process
    /// id was made on this machine.
    pub(crate) fn is_local(&self) -> bool {
        matches!(self.base, Base::Local(_))
    }

    /// The server the environment names, else the local server (started when it is not
    /// running). One value per process and URL, shared by every test database.
    pub(crate) fn from_env() -> Result<Arc<Server>> {
        for var in [TEST_DATABASE_URL_VAR, DATABASE_URL_VAR] {
            if let Some(url) = env::var(var).ok().filter(|u| !u.trim().is_empty()) {
                return Server::given(&url, var);
            }
        }
        Server::local()
    }

    /// The server of `url` (any database of it).
    pub(crate) fn given(url: &str, what: &str) -> Result<Arc<Server>> {
        Config::from_str(url).map_err(|e| {
            Error::db(
                format!("{what} is not a connection string the postgres driver accepts"),
                e,
            )
        })?;
        Ok(shared(Base::Given(url.to_owned())))
    }

    /// The local server of the project the test binary belongs to.
    fn local() -> Result<Arc<Server>> {
        static LOCAL: Mutex<Option<ServerInfo>> = Mutex::new(None);
        let mut cached = LOCAL.lock().unwrap_or_else(PoisonError::into_inner);
        let info = match cached.as_ref() {
            Some(info) => info.clone(),
            None => {
                let info = local_server().start().map_err(Error::LocalServer)?;
                *cached = Some(info.clone());
                info
            }
        };
        Ok(shared(Base::Local(info)))
    }

    /// The URL of `database` on this server.
    pub(crate) fn url(&self, database: &str) -> String {
        match &self.base {
            Base::Local(info) => info.url(database),
            Base::Given(url) => with_database(url, database),
        }
    }

    /// A new session on `database`.
    pub(crate) fn connect(&self, database: &str) -> Result<Client> {
        Client::connect(&self.url(database), NoTls)
            .map_err(|e| Error::db(format!("could not connect to database {database}"), e))
    }

    /// A session on the maintenance database, from the pool when one is idle; give it back
    /// with [`Server::put_back`].
    pub(crate) fn maintenance(&self) -> Result<Client> {
        let idle = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(client) if !client.is_closed() => Ok(client),
            _ => self.connect(MAINTENANCE_DATABASE),
        }
    }

    /// Returns a maintenance session to the pool (it is closed when the pool is full or the
    /// session broke).
    pub(crate) fn put_back(&self, client: Client) {
        if client.is_closed() {
            return;
        }
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < POOL_SIZE {
            pool.push(client);
        }
    }

    /// A key naming the server in process-wide caches.
    pub(crate) fn key(&self) -> String {
        self.url(MAINTENANCE_DATABASE)
    }
}

/// One [`Server`] per URL and process, so the pool is shared.
fn shared(base: Base) -> Arc<Server> {
    static SERVERS: OnceLock<Mutex<Vec<Arc<Server>>>> = OnceLock::new();
    let server = Server {
        base,
        pool: Mutex::new(Vec::new()),
    };
    let key = server.key();
    let mut servers = SERVERS
        .get_or_init(|| Mutex::new(Vec::new()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = servers.iter().find(|s| s.key() == key) {
        return Arc::clone(known);
    }
    let server = Arc::new(server);
    servers.push(Arc::clone(&server));
    server
}

/// The local server of the project this process belongs to, found at run time:
///
/// 1. `CARGO_MANIFEST_DIR` (cargo sets it when it runs a test binary): that package's
///    workspace, and its target directory (`CARGO_TARGET_DIR` when set);
/// 2. else `CARGO_TARGET_DIR`;
/// 3. else the target directory the running binary sits in (`<target>/<profile>/deps/`);
/// 4. else `./target`.
pub(crate) fn local_server() -> LocalServer {
    if let Some(dir) = env::var_os("CARGO_MANIFEST_DIR") {
        return LocalServer::for_manifest_dir(Path::new(&dir));
    }
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR") {
        return LocalServer::for_target_dir(Path::new(&dir));
    }
    if let Some(target) = env::current_exe()
        .ok()
        .as_deref()
        .and_then(target_of_binary)
    {
        return LocalServer::for_target_dir(&target);
    }
    LocalServer::for_target_dir(Path::new("target"))
}

/// `<target>` for a binary at `<target>/<profile>/deps/<name>` or `<target>/<profile>/<name>`.
fn target_of_binary(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    let profile = if dir.file_name()? == "deps" {
        dir.parent()?
    } else {
        dir
    };
    let target = profile.parent()?;
    target
        .join(".rustc_info.json")
        .is_file()
        .then(|| target.to_path_buf())
        .or_else(|| {
            target
                .join("CACHEDIR.TAG")
                .is_file()
                .then(|| target.to_path_buf())
        })
}

/// `url` with its database replaced by `database`: the path of a `postgres://` URL, or a
/// `dbname=` appended to a `key=value` string (the last one wins).
pub fn with_database(url: &str, database: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        let quoted = database.replace('\\', "\\\\").replace('\'', "\\'");
        return format!("{} dbname='{quoted}'", url.trim_end());
    };
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = scheme_end + 3;
    let server = match base.get(authority_start..).and_then(|rest| rest.find('/')) {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    let encoded = trek::percent_encode(database);
    match query {
        Some(query) => format!("{server}/{encoded}?{query}"),
        None => format!("{server}/{encoded}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/old", "new"),
            "postgres://u:p@h:5432/new"
        );
        assert_eq!(
            with_database("postgres://u@h/old?sslmode=disable", "new"),
            "postgres://u@h/new?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:1", "new"),
            "postgres://u@h:1/new"
        );
        assert_eq!(
            with_database("postgresql://h?host=/run/pg", "a b"),
            "postgresql://h/a%20b?host=/run/pg"
        );
        assert_eq!(
            with_database("host=h user=u dbname=old", "new"),
            "host=h user=u dbname=old dbname='new'"
        );
    }

    #[test]
    fn a_test_binary_finds_its_target_directory() {
        let dir = std::env::temp_dir().join(format!("trek-testing-target-{}", std::process::id()));
        let deps = dir.join("debug").join("deps");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::write(dir.join("CACHEDIR.TAG"), "").unwrap();
        assert_eq!(target_of_binary(&deps.join("e2e-0123")), Some(dir.clone()));
        assert_eq!(
            target_of_binary(&dir.join("debug").join("app")),
            Some(dir.clone())
        );
        assert_eq!(target_of_binary(Path::new("/usr/bin/true")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
