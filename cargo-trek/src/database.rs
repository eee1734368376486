//! Connecting to the database a command talks to: a URL (over TLS as its `sslmode` says, see
//! [`crate::tls`]), or the local server started on demand (plain TCP on the loopback); and
//! showing URLs without their passwords.
//!
//! Each [`Connection`] carries a [`ServerConnector`], which reaches the other databases of the
//! same server the same way (TLS options included): qa snapshots and database resets need
//! sessions on other databases, and `pg_dump`, `pg_restore` and `psql` need the parameters.
//! The password goes to those sessions and child processes only, never into any output.

use std::time::Duration;

use tokio_postgres_rustls::MakeRustlsConnect;
use trek::postgres::{Client, Config, NoTls};
use trek::{ConfigConnector, Connect};
use trek_local_server::LocalServer;

use crate::context::{Context, Database};
use crate::error::Error;
use crate::output::Printer;
use crate::tls::{Connector, Roots, SslMode, TlsOptions};

/// An open connection, with what to call it in messages.
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The URL with its password masked.
    pub url: String,
    /// The database's name (what `--allow-destructive` takes).
    pub name: String,
    /// Reaches other databases on the same server, as the client was connected.
    pub connector: ServerConnector,
}

/// A [`trek::Connect`] that opens sessions to other databases of the server a [`Connection`]
/// was made to, with the same user, password and TLS settings, and gives `pg_dump` and friends
/// the matching libpq environment (`PGSSLMODE`, and `PGSSLROOTCERT` for a `sslrootcert`
/// file).
#[derive(Clone)]
pub struct ServerConnector {
    inner: Inner,
    /// `PGSSLROOTCERT` / `sslrootcert` for libpq's client programs.
    rootcert: Option<String>,
    /// The client programs' folder (`pg_bin`), when configured.
    programs: Option<std::path::PathBuf>,
}

#[derive(Clone)]
enum Inner {
    Plain(ConfigConnector<NoTls>),
    Tls(ConfigConnector<MakeRustlsConnect>),
}

impl std::fmt::Debug for ServerConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // ConfigConnector's Debug shows the hosts and the user, never the password.
        let mut d = f.debug_struct("ServerConnector");
        match &self.inner {
            Inner::Plain(c) => d.field("plain", c),
            Inner::Tls(c) => d.field("tls", c),
        };
        d.field("rootcert", &self.rootcert)
            .field("programs", &self.programs)
            .finish()
    }
}

impl ServerConnector {
    /// The connector for the server `config` points at, reached through `connector` with the
    /// TLS `options` of the URL.
    pub fn new(config: &Config, connector: &Connector, options: &TlsOptions) -> ServerConnector {
        let sslmode = options.mode.name();
        let inner = match connector {
            Connector::Plain => {
                Inner::Plain(ConfigConnector::new(config.clone(), NoTls).client_sslmode(sslmode))
            }
            Connector::Tls(tls) => Inner::Tls(
                ConfigConnector::new(config.clone(), tls.clone()).client_sslmode(sslmode),
            ),
        };
        let rootcert = match (&options.roots, options.mode) {
            (_, SslMode::Disable | SslMode::Prefer | SslMode::Require) => None,
            (Roots::File(path), _) => Some(path.display().to_string()),
            // libpq (16 and later) names its built-in trust store `system`; it needs
            // verify-full, as here.
            (Roots::Builtin, SslMode::VerifyFull) => Some("system".to_owned()),
            (Roots::Builtin, SslMode::VerifyCa) => None,
        };
        ServerConnector {
            inner,
            rootcert,
            programs: None,
        }
    }

    /// Uses the client programs in `dir` (`pg_bin`) instead of looking for them.
    #[must_use]
    pub fn client_programs(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.programs = dir;
        self
    }

    fn connector(&self) -> &dyn Connect {
        match &self.inner {
            Inner::Plain(c) => c,
            Inner::Tls(c) => c,
        }
    }
}

impl Connect for ServerConnector {
    fn client_programs_dir(&self) -> Option<&std::path::Path> {
        self.programs.as_deref()
    }

    fn connect(&self, database: &str) -> Result<Client, trek::postgres::Error> {
        self.connector().connect(database)
    }

    fn client_env(&self, database: &str) -> Vec<(String, String)> {
        let mut env = self.connector().client_env(database);
        if let Some(rootcert) = &self.rootcert {
            env.push(("PGSSLROOTCERT".to_owned(), rootcert.clone()));
        }
        env
    }

    fn url(&self, database: &str) -> String {
        let mut url = self.connector().url(database);
        if let Some(rootcert) = &self.rootcert {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("sslrootcert=");
            for byte in rootcert.bytes() {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/')
                {
                    url.push(char::from(byte));
                } else {
                    url.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        url
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.url)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How long to wait for a server that does not answer, unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the context's database; on the local server, starts the server and creates
/// the database when needed, and says so in one line on stderr.
///
/// # Errors
/// [`Error::Config`] for a URL that does not parse or a URL variable that is not set,
/// [`Error::LocalServer`] when the local server cannot start, [`Error::Connect`] when the
/// database cannot be reached.
pub fn connect(ctx: &Context, printer: &Printer) -> Result<Connection, Error> {
    let mut connection = connect_to(ctx, printer)?;
    connection.connector = connection.connector.client_programs(ctx.pg_bin.clone());
    Ok(connection)
}

/// [`connect`], before the client programs' folder is set.
fn connect_to(ctx: &Context, printer: &Printer) -> Result<Connection, Error> {
    match &ctx.database {
        Database::Url { url, source } => connect_url(url, source),
        Database::Missing { message } => Err(Error::Config {
            path: ctx.config_path.clone(),
            message: message.clone(),
        }),
        Database::Local { database } => {
            let (url, started) = local_url(ctx, database)?;
            printer.note(&format!(
                "no database configured: using the local server, {} ({}{})",
                mask(&url),
                if started { "started it" } else { "running" },
                if ctx.env.is_some() {
                    String::new()
                } else {
                    ", dev workflow".to_owned()
                }
            ));
            let (client, connector) = open_local(&url)?;
            Ok(Connection {
                client,
                url: mask(&url),
                name: database.clone(),
                connector,
            })
        }
    }
}

/// Connects to `url` (over TLS as its `sslmode` says); `source` says where the URL came from,
/// for messages.
///
/// # Errors
/// [`Error::Config`] for a URL that does not parse, [`Error::Connect`] when the database cannot
/// be reached.
pub fn connect_url(url: &str, source: &str) -> Result<Connection, Error> {
    let invalid = |message| Error::Config {
        path: None,
        message: format!("the database URL from {source} ({}) {message}", mask(url)),
    };
    let (mut config, tls) = parsed(url, source)?;
    let tls = tls.for_hosts(&config);
    config.ssl_mode(tls.postgres_mode());
    let name = config
        .get_dbname()
        .map(str::to_owned)
        .unwrap_or_else(|| config.get_user().unwrap_or("postgres").to_owned());
    tracing::info!(url = %mask(url), source = %source, sslmode = ?tls.mode, "connecting");
    let connector = tls.connector().map_err(invalid)?;
    let server = ServerConnector::new(&config, &connector, &tls);
    let client = open(&config, connector, &tls, url)?;
    Ok(Connection {
        client,
        url: mask(url),
        name,
        connector: server,
    })
}

/// A URL checked as [`connect_url`] checks it, and its TLS options.
fn parsed(url: &str, source: &str) -> Result<(Config, TlsOptions), Error> {
    let invalid = |message| Error::Config {
        path: None,
        message: format!("the database URL from {source} ({}) {message}", mask(url)),
    };
    if url.trim().is_empty() {
        return Err(Error::Config {
            path: None,
            message: format!(
                "the database URL from {source} is empty; give a URL like \
                 postgres://user@host:5432/dbname"
            ),
        });
    }
    let (rest, tls) = TlsOptions::take(url).map_err(invalid)?;
    let config = parse(&rest).map_err(invalid)?;
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        return Err(invalid(
            "names no host; give one, like postgres://user@localhost:5432/dbname".to_owned(),
        ));
    }
    Ok((config, tls))
}

/// The database a URL names and its server (`host:port` of its first host), checked as
/// [`connect_url`] checks it, without connecting.
///
/// # Errors
/// [`Error::Config`] for a URL that does not parse or names no host.
pub fn describe_url(url: &str, source: &str) -> Result<(String, String), Error> {
    let (config, _) = parsed(url, source)?;
    let database = config
        .get_dbname()
        .map(str::to_owned)
        .unwrap_or_else(|| config.get_user().unwrap_or("postgres").to_owned());
    let host = match config.get_hosts().first() {
        Some(trek::postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(trek::postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => config
            .get_hostaddrs()
            .first()
            .map_or_else(String::new, ToString::to_string),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    Ok((database, format!("{host}:{port}")))
}

/// `url` with its database replaced by `database` (percent-encoded), its other parts as
/// they were: `postgres://u@h:5432/control?sslmode=require` → `postgres://u@h:5432/t_1?sslmode=require`.
pub fn with_database(url: &str, database: &str) -> String {
    let encoded = trek::percent_encode(database);
    let (base, query) = match url.find('?') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    match base[authority_start..].find('/') {
        Some(slash) => format!("{}/{encoded}{query}", &base[..authority_start + slash]),
        None => format!("{base}/{encoded}{query}"),
    }
}

/// A new, empty database `name` for scratch work (drift): on the server of `scratch_url`
/// when given, else on the local server; any database of that name left by an earlier run is
/// replaced. Drop it with [`drop_scratch`].
///
/// # Errors
/// As [`connect_url`] and [`local_url`], or when the database cannot be created.
pub fn scratch(ctx: &Context, scratch_url: Option<&str>, name: &str) -> Result<Connection, Error> {
    let Some(url) = scratch_url else {
        let server = LocalServer::for_target_dir(&ctx.project.target_dir()?);
        let info = server.start().map_err(Error::LocalServer)?;
        let admin_url = info.url("postgres");
        let (mut admin, _) = open_local(&admin_url)?;
        recreate(&mut admin, name).map_err(|e| Error::connect(&admin_url, &e))?;
        let url = info.url(name);
        let (client, connector) = open_local(&url)?;
        return Ok(Connection {
            client,
            url: mask(&url),
            name: name.to_owned(),
            connector,
        });
    };
    let mut admin = connect_url(url, "scratch_url")?;
    recreate(&mut admin.client, name).map_err(|e| Error::connect(url, &e))?;
    let client =
        trek::Connect::connect(&admin.connector, name).map_err(|e| Error::connect(url, &e))?;
    Ok(Connection {
        client,
        url: format!("{} (database {name})", admin.url),
        name: name.to_owned(),
        connector: admin.connector,
    })
}

/// Drops a scratch database made by [`scratch`]; failures are logged, not returned.
pub fn drop_scratch(connection: Connection) {
    let Connection {
        client,
        name,
        connector,
        ..
    } = connection;
    drop(client);
    let dropped = trek::Connect::connect(&connector, "postgres").and_then(|mut admin| {
        admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            name.replace('"', "\"\"")
        ))
    });
    if let Err(e) = dropped {
        tracing::warn!(database = %name, error = %trek::describe_postgres_error(&e), "could not drop the scratch database");
    }
}

fn recreate(admin: &mut Client, name: &str) -> Result<(), trek::postgres::Error> {
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))?;
    admin.batch_execute(&format!("CREATE DATABASE {quoted}"))
}

/// Starts the local server when it is not running, creates `database` on it when missing,
/// and returns the database's URL and whether this call started the server.
///
/// # Errors
/// [`Error::LocalServer`] or [`Error::Connect`].
pub fn local_url(ctx: &Context, database: &str) -> Result<(String, bool), Error> {
    let server = LocalServer::for_target_dir(&ctx.project.target_dir()?);
    let info = server.start().map_err(Error::LocalServer)?;
    let admin_url = info.url("postgres");
    let (mut client, _) = open_local(&admin_url)?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
        .map_err(|e| Error::connect(&admin_url, &e))?
        .is_some();
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", database.replace('"', "\"\""));
        if let Err(e) = client.batch_execute(&sql) {
            // Another process may have created it meanwhile.
            let duplicate = e
                .as_db_error()
                .is_some_and(|db| db.code().code() == "42P04");
            if !duplicate {
                return Err(Error::connect(&admin_url, &e));
            }
        } else {
            tracing::info!(database, "created the database on the local server");
        }
    }
    Ok((info.url(database), info.started))
}

/// `url` (without `sslrootcert`, `verify-*`) as a driver configuration with trek's defaults.
fn parse(url: &str) -> Result<Config, String> {
    let mut config: Config = url
        .parse()
        // The driver's message is just "invalid connection string"; the cause says what is
        // wrong (an unknown option, a bad port) without quoting any value.
        .map_err(|e| {
            format!(
                "is not a valid PostgreSQL URL: {}",
                trek::describe_postgres_error(&e)
            )
        })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("cargo-trek");
    }
    Ok(config)
}

/// Connects through `connector`; a failure in the TLS layer says what to do about it.
fn open(
    config: &Config,
    connector: Connector,
    tls: &TlsOptions,
    url: &str,
) -> Result<Client, Error> {
    connector.connect(config).map_err(|e| match tls.advice(&e) {
        Some(advice) => Error::Connect {
            url: mask(url),
            message: advice,
        },
        None => Error::connect(url, &e),
    })
}

/// Connects to the local server, which listens only on the loopback: plain TCP.
fn open_local(url: &str) -> Result<(Client, ServerConnector), Error> {
    let tls = TlsOptions::plain();
    let mut config = parse(url).map_err(|message| Error::Config {
        path: None,
        message: format!("the local server's URL {message}"),
    })?;
    config.ssl_mode(tls.postgres_mode());
    let connector = ServerConnector::new(&config, &Connector::Plain, &tls);
    Ok((open(&config, Connector::Plain, &tls, url)?, connector))
}

/// `url` with its password replaced by `***`, in both URL (`postgres://user:pw@host/db`,
/// `?password=pw`) and key-value (`password=pw host=...`) forms.
pub fn mask(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let (scheme, rest) = url.split_at(scheme_end + 3);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let authority = match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => format!("{}:***{}", &userinfo[..colon], &authority[at..]),
                    None => authority.to_owned(),
                }
            }
            None => authority.to_owned(),
        };
        let tail = mask_query(tail);
        format!("{scheme}{authority}{tail}")
    } else {
        mask_key_value(url)
    }
}

/// `text` with the password of every URL in it masked, and every `password=` value: for
/// messages that quote what the user wrote (a TOML error shows the line it is about, which may
/// be `url = "postgres://app:pw@db/app"`).
pub fn mask_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |p| p + 1);
        let after = &rest[i + 3..];
        let end = i
            + 3
            + after
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`'))
                .unwrap_or(after.len());
        out.push_str(&rest[..start]);
        out.push_str(&mask(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    mask_key_value(&out)
}

fn mask_query(tail: &str) -> String {
    let Some(q) = tail.find('?') else {
        return tail.to_owned();
    };
    let (path, query) = tail.split_at(q + 1);
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => param.to_owned(),
        })
        .collect();
    format!("{path}{}", params.join("&"))
}

fn mask_key_value(conninfo: &str) -> String {
    let mut out = String::new();
    let mut rest = conninfo;
    while let Some(pos) = find_password_key(rest) {
        out.push_str(&rest[..pos]);
        out.push_str("password=***");
        let after = &rest[pos..];
        let after = &after[after.find('=').map_or(after.len(), |i| i + 1)..];
        let after = after.trim_start();
        let value_len = if let Some(quoted) = after.strip_prefix('\'') {
            // Unterminated: mask everything after it.
            let mut len = after.len();
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == '\\' {
                    chars.next();
                } else if c == '\'' {
                    len = i + 2;
                    break;
                }
            }
            len
        } else {
            after.find(char::is_whitespace).unwrap_or(after.len())
        };
        rest = &after[value_len.min(after.len())..];
    }
    out.push_str(rest);
    out
}

fn find_password_key(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("password") {
        let at = from + i;
        let boundary = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let after = lower[at + "password".len()..].trim_start();
        if boundary && after.starts_with('=') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> ServerConnector {
        let (rest, tls) = TlsOptions::take(url).unwrap();
        let config = parse(&rest).unwrap();
        let tls = tls.for_hosts(&config);
        let connector = tls.connector().unwrap();
        ServerConnector::new(&config, &connector, &tls)
    }

    fn get<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_server_connector_reaches_other_databases_like_the_url() {
        let c = server("postgres://app:s3cret@db.example.com:6543/app?sslmode=require");
        let env = c.client_env("app__trek_1");
        assert_eq!(get(&env, "PGHOST"), Some("db.example.com"));
        assert_eq!(get(&env, "PGPORT"), Some("6543"));
        assert_eq!(get(&env, "PGDATABASE"), Some("app__trek_1"));
        assert_eq!(get(&env, "PGPASSWORD"), Some("s3cret"));
        assert_eq!(get(&env, "PGSSLMODE"), Some("require"));
        assert_eq!(get(&env, "PGSSLROOTCERT"), None);
        assert_eq!(
            c.url("other"),
            "postgresql://app:s3cret@db.example.com:6543/other?sslmode=require"
        );
        // Debug never shows the password.
        assert!(!format!("{c:?}").contains("s3cret"), "{c:?}");

        let c = server("postgres://app@db/app?sslmode=verify-full");
        let env = c.client_env("app");
        assert_eq!(get(&env, "PGSSLMODE"), Some("verify-full"));
        assert_eq!(get(&env, "PGSSLROOTCERT"), Some("system"));
        assert_eq!(
            c.url("app"),
            "postgresql://app@db:5432/app?sslmode=verify-full&sslrootcert=system"
        );

        let c = server("postgres://app@db/app?sslmode=disable");
        assert_eq!(get(&c.client_env("app"), "PGSSLMODE"), Some("disable"));
    }

    #[test]
    fn masks_url_passwords() {
        assert_eq!(
            mask("postgres://app:s3cret@db.example.com:5432/app"),
            "postgres://app:***@db.example.com:5432/app"
        );
        assert_eq!(
            mask("postgresql://app:p%40ss@h/db?sslmode=disable&password=x"),
            "postgresql://app:***@h/db?sslmode=disable&password=***"
        );
        assert_eq!(mask("postgres://app@h/db"), "postgres://app@h/db");
        assert_eq!(mask("postgres://h/db"), "postgres://h/db");
        assert_eq!(mask("postgres://u:a@b@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn masks_urls_inside_messages() {
        assert_eq!(
            mask_urls_in("2 | url = \"postgres://app:s3cret@db/app\n  |       ^ unterminated"),
            "2 | url = \"postgres://app:***@db/app\n  |       ^ unterminated"
        );
        assert_eq!(
            mask_urls_in("a postgresql://u:p@h/d?password=x and host=h password=y"),
            "a postgresql://u:***@h/d?password=*** and host=h password=***"
        );
        assert_eq!(mask_urls_in("no url here"), "no url here");
    }

    #[test]
    fn masks_key_value_passwords() {
        assert_eq!(
            mask("host=h user=u password=secret dbname=d"),
            "host=h user=u password=*** dbname=d"
        );
        assert_eq!(
            mask("host=h password = 'my \\' secret' dbname=d"),
            "host=h password=*** dbname=d"
        );
        assert_eq!(mask("host=h dbname=d"), "host=h dbname=d");
    }
}
