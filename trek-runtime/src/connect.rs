//! Opening more sessions to the same server: what snapshots, restores and database resets need
//! beside the caller's own client.
//!
//! A `template` snapshot clones the database with `CREATE DATABASE … TEMPLATE`, which needs a
//! session on another database; `pg_dump` and `psql` are separate programs that need the
//! connection parameters; a team's own snapshot command needs the URL. The caller hands trek a
//! [`Connect`] with [`crate::Migrator::connector`]; [`ConfigConnector`] builds one from a
//! `postgres::Config` and the TLS connector the caller already uses.

use std::fmt;
use std::path::{Path, PathBuf};

use postgres::config::Host;
use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::{Client, Config, Socket};

/// How trek reaches other databases on the server the caller's client is connected to.
pub trait Connect: Send + Sync {
    /// Opens a session to `database` on the same server, as the same user.
    ///
    /// # Errors
    /// The driver's error when the session cannot be opened.
    fn connect(&self, database: &str) -> Result<Client, postgres::Error>;

    /// The environment that points libpq's client programs (`pg_dump`, `pg_restore`, `psql`)
    /// at `database`: `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, and `PGPASSWORD` and
    /// `PGSSLMODE` when there are any. Passed in the environment, never on a command line, so
    /// the password does not show in `ps`.
    fn client_env(&self, database: &str) -> Vec<(String, String)>;

    /// The URL of `database`, password included, for a team's own snapshot commands.
    fn url(&self, database: &str) -> String;

    /// The folder of the client programs to use (`pg_dump`, `pg_restore`, `psql`), when the
    /// caller names one; `None` (the default) lets trek look for them: `TREK_PG_BIN`,
    /// `/usr/lib/postgresql/<major>/bin`, `PATH`, `pg_config --bindir`.
    fn client_programs_dir(&self) -> Option<&Path> {
        None
    }
}

/// A [`Connect`] made from a driver configuration and a TLS connector (`postgres::NoTls`, or
/// the one the application uses for its own connections).
#[derive(Clone)]
pub struct ConfigConnector<T> {
    config: Config,
    tls: T,
    sslmode: Option<String>,
    programs: Option<PathBuf>,
}

impl<T> fmt::Debug for ConfigConnector<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigConnector")
            .field("hosts", &self.config.get_hosts())
            .field("user", &self.config.get_user())
            .finish_non_exhaustive()
    }
}

impl<T> ConfigConnector<T> {
    /// A connector for the server `config` points at, connecting through `tls`.
    pub fn new(config: Config, tls: T) -> Self {
        ConfigConnector {
            config,
            tls,
            sslmode: None,
            programs: None,
        }
    }

    /// Uses the client programs in `dir` (`pg_dump`, `pg_restore`, `psql`) instead of looking
    /// for them. They must be of the server's major version or newer, else the actions that
    /// need them fail with [`crate::Error::MissingClientPrograms`].
    pub fn client_programs(mut self, dir: impl Into<PathBuf>) -> Self {
        self.programs = Some(dir.into());
        self
    }

    /// The `sslmode` client programs get (`PGSSLMODE`), when it differs from what the driver
    /// configuration says (libpq's `verify-full`, which the driver does not know).
    pub fn client_sslmode(mut self, mode: impl Into<String>) -> Self {
        self.sslmode = Some(mode.into());
        self
    }
}

impl<T> Connect for ConfigConnector<T>
where
    T: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
    T::TlsConnect: Send,
    T::Stream: Send + Sync,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    fn connect(&self, database: &str) -> Result<Client, postgres::Error> {
        let mut config = self.config.clone();
        config.dbname(database);
        config.connect(self.tls.clone())
    }

    fn client_env(&self, database: &str) -> Vec<(String, String)> {
        let mut env = Vec::new();
        let hosts: Vec<String> = self.config.get_hosts().iter().map(host_text).collect();
        if !hosts.is_empty() {
            env.push(("PGHOST".to_owned(), hosts.join(",")));
        }
        let ports: Vec<String> = self
            .config
            .get_ports()
            .iter()
            .map(ToString::to_string)
            .collect();
        if !ports.is_empty() {
            env.push(("PGPORT".to_owned(), ports.join(",")));
        }
        if let Some(user) = self.config.get_user() {
            env.push(("PGUSER".to_owned(), user.to_owned()));
        }
        if let Some(password) = self.config.get_password() {
            env.push((
                "PGPASSWORD".to_owned(),
                String::from_utf8_lossy(password).into_owned(),
            ));
        }
        env.push(("PGDATABASE".to_owned(), database.to_owned()));
        let sslmode = self.sslmode.clone().unwrap_or_else(|| {
            match self.config.get_ssl_mode() {
                postgres::config::SslMode::Disable => "disable",
                postgres::config::SslMode::Require => "require",
                _ => "prefer",
            }
            .to_owned()
        });
        env.push(("PGSSLMODE".to_owned(), sslmode));
        if let Some(name) = self.config.get_application_name() {
            env.push(("PGAPPNAME".to_owned(), name.to_owned()));
        }
        env
    }

    fn client_programs_dir(&self) -> Option<&Path> {
        self.programs.as_deref()
    }

    fn url(&self, database: &str) -> String {
        let mut url = String::from("postgresql://");
        if let Some(user) = self.config.get_user() {
            url.push_str(&percent_encode(user));
            if let Some(password) = self.config.get_password() {
                url.push(':');
                url.push_str(&percent_encode(&String::from_utf8_lossy(password)));
            }
            url.push('@');
        }
        let ports = self.config.get_ports();
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let host = percent_encode(&host_text(host));
                match ports.get(i).or(ports.first()) {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                }
            })
            .collect();
        url.push_str(&hosts.join(","));
        url.push('/');
        url.push_str(&percent_encode(database));
        if let Some(mode) = &self.sslmode {
            url.push_str(&format!("?sslmode={}", percent_encode(mode)));
        }
        url
    }
}

fn host_text(host: &Host) -> String {
    match host {
        Host::Tcp(name) => name.clone(),
        #[cfg(unix)]
        Host::Unix(path) => path.display().to_string(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (letters, digits, `-._~`),
/// for a user, password, host or database name in a `postgres://` URL: `a b/é` →
/// `a%20b%2F%C3%A9`.
#[must_use]
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_environment_carry_the_same_server() {
        let config: Config = "postgres://app:p%40ss w@db.example.com:6543/app?sslmode=disable"
            .parse()
            .unwrap();
        let connector = ConfigConnector::new(config, postgres::NoTls);
        assert_eq!(
            connector.url("app_snap"),
            "postgresql://app:p%40ss%20w@db.example.com:6543/app_snap"
        );
        let env = connector.client_env("other");
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PGHOST"), Some("db.example.com"));
        assert_eq!(get("PGPORT"), Some("6543"));
        assert_eq!(get("PGUSER"), Some("app"));
        assert_eq!(get("PGPASSWORD"), Some("p@ss w"));
        assert_eq!(get("PGDATABASE"), Some("other"));
        assert_eq!(get("PGSSLMODE"), Some("disable"));
    }
}
