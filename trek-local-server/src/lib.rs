//! trek's **local server**: a private PostgreSQL cluster per project, made from the PostgreSQL
//! binaries on the machine, started on demand, reused while it runs.
//!
//! [`LocalServer`] owns one cluster under the project's cargo target directory:
//!
//! ```text
//! <target>/trek/local-server.lock    serialises start/stop/destroy between processes
//! <target>/trek/postgres/data/       the cluster (trek's settings in data/trek.conf)
//! <target>/trek/postgres/socket/     its unix socket
//! <target>/trek/postgres/server.log  its log
//! ```
//!
//! [`LocalServer::start`] finds `initdb`, `pg_ctl` and `postgres` with `trek-pg-binaries` (on
//! `PATH`, in `pg_config --bindir`, or in the newest `/usr/lib/postgresql/*/bin`; or in a folder
//! given with [`LocalServer::bin_dir`]), makes the cluster when
//! there is none, starts it when it is not running and returns a [`ServerInfo`] whose
//! [`url`](ServerInfo::url) any client takes. Many processes may call it at once (parallel test
//! binaries, several instances of an application): a file lock lets one of them start the
//! server and the others reuse it.
//!
//! The cluster is for development and tests, and is set up for that:
//!
//! - **Trust authentication**: user `postgres` connects without a password, and the server
//!   listens only on 127.0.0.1 and its own socket. Anyone who can open a connection on this
//!   machine is a superuser of it: keep nothing there you would not keep in `target/`.
//! - **No durability**: `fsync`, `synchronous_commit` and `full_page_writes` are off, which
//!   makes creating databases and running migrations several times faster. A crash of the
//!   machine (not of the server) may corrupt the cluster; [`LocalServer::destroy`] it and start
//!   again.
//! - **A private port**: a stable hash of the data directory's path into 20000..60000, moved to
//!   the next free port if that one is taken, and kept across restarts. Two projects get two
//!   servers. `max_connections` is 200, for parallel tests.
//!
//! **Run as root**, trek runs the server as the unprivileged `postgres` account (PostgreSQL
//! refuses to run as root), which owns the cluster's folder. That account must be able to
//! reach the folder: when a directory above `<target>/trek` is closed to it (a checkout under
//! a `0700` `/root`, say), the cluster lives in `<temp dir>/trek-<hash of the target
//! path>/postgres` instead. Likewise, when the socket's path would be longer than a unix socket
//! allows (about 100 bytes), the socket goes to `<temp dir>/trek-<hash>/socket`.
//!
//! ```no_run
//! use trek_local_server::LocalServer;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = LocalServer::for_manifest_dir(env!("CARGO_MANIFEST_DIR").as_ref());
//! let info = server.start()?;
//! let mut client = postgres::Client::connect(&info.url("postgres"), postgres::NoTls)?;
//! client.batch_execute("CREATE DATABASE app_dev")?;
//! # Ok(())
//! # }
//! ```
//!
//! The engine (`trek-runtime`) does not know this crate: `cargo trek`, the test harness
//! (`trek-testing`) and applications that want a server on demand use it beside the engine.
//! Unix only: on other systems the crate is empty.
#![cfg(unix)]
#![deny(missing_docs)]

mod account;
mod error;
mod port;

pub use error::LocalServerError;

use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tracing::{debug, info, warn};

use account::Account;
use trek_pg_binaries::{BinDir, Major, Search, SERVER_PROGRAMS};

/// The longest socket directory trek uses in place: a unix socket path (`<dir>/.s.PGSQL.NNNNN`)
/// must fit in 108 bytes with its terminating NUL, everywhere trek runs.
const MAX_SOCKET_DIR: usize = 107 - "/.s.PGSQL.65535".len();

/// How long `pg_ctl` waits for the server to start or stop, in seconds.
const PG_CTL_WAIT_SECONDS: &str = "120";

/// The file, in the data directory, that holds trek's settings; `postgresql.conf` includes it.
const SETTINGS_FILE: &str = "trek.conf";

/// The local PostgreSQL server of one project: a cluster under the project's cargo target
/// directory. Creating a `LocalServer` touches nothing; [`start`](Self::start) does the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalServer {
    target_dir: PathBuf,
    /// Where to look for PostgreSQL's programs.
    search: Search,
}

/// A running local server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerInfo {
    /// The TCP port it listens on, on 127.0.0.1 (and the number in its socket's name).
    pub port: u16,
    /// The folder of its unix socket (`psql -h <socket_dir> -p <port>` connects through it).
    pub socket_dir: PathBuf,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Whether this call started it; `false` when it was already running and was reused.
    pub started: bool,
}

impl ServerInfo {
    /// The URL of `database` on this server as user `postgres`, over TCP on the loopback
    /// interface, where the server trusts every connection (no password):
    /// `postgres://postgres@127.0.0.1:PORT/DATABASE`. `psql`, `pg_dump` and the `postgres`
    /// crate all accept it. Characters other than letters, digits and `-._~` in the database
    /// name are percent-encoded.
    #[must_use]
    pub fn url(&self, database: &str) -> String {
        let mut url = format!("postgres://postgres@127.0.0.1:{}/", self.port);
        for byte in database.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                url.push(char::from(byte));
            } else {
                let _ = write!(url, "%{byte:02X}");
            }
        }
        url
    }
}

impl LocalServer {
    /// The local server of the project whose cargo target directory is `target_dir`: its
    /// cluster lives in `<target_dir>/trek/` (see the [module docs](self) for the exceptions).
    /// A relative path is taken against the current directory when the server is used.
    #[must_use]
    pub fn for_target_dir(target_dir: &Path) -> Self {
        Self {
            target_dir: target_dir.to_path_buf(),
            search: Search::new(),
        }
    }

    /// Looks for `initdb`, `pg_ctl` and `postgres` in `dir` first, before `PATH`,
    /// `pg_config --bindir` and `/usr/lib/postgresql/*/bin`.
    #[must_use]
    pub fn bin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.search = self.search.folder(dir);
        self
    }

    /// The local server of the cargo package in `manifest_dir`: the target directory is
    /// `$CARGO_TARGET_DIR` when set (relative to the workspace root when relative), else
    /// `<workspace root>/target`. The workspace root is the topmost directory above
    /// `manifest_dir` (or itself) with a `Cargo.lock` or a `Cargo.toml` holding `[workspace]`.
    ///
    /// This reads `Cargo.toml` files and the environment but never runs cargo; a caller that
    /// has `cargo metadata` (or a `target-dir` set in `.cargo/config.toml`) should use
    /// [`for_target_dir`](Self::for_target_dir) with its `target_directory`.
    #[must_use]
    pub fn for_manifest_dir(manifest_dir: &Path) -> Self {
        let root = workspace_root(manifest_dir);
        Self::for_target_dir(&target_dir_for(&root, env::var_os("CARGO_TARGET_DIR")))
    }

    /// The cargo target directory this server belongs to.
    #[must_use]
    pub fn target_dir(&self) -> &Path {
        &self.target_dir
    }

    /// Starts the server, making its cluster first when there is none, or finds it running and
    /// reuses it ([`ServerInfo::started`] says which). Safe to call from many threads and
    /// processes at once: they take turns on a file lock in `<target>/trek/`.
    ///
    /// # Errors
    ///
    /// When PostgreSQL's binaries are not found, when run as root and there is no `postgres`
    /// account, when the folder cannot be made, or when `initdb` or `pg_ctl` fails (the error
    /// carries its output and the end of the server's log).
    pub fn start(&self) -> Result<ServerInfo, LocalServerError> {
        let layout = self.layout()?;
        let _lock = layout.lock()?;
        if let Some(info) = layout.running() {
            debug!(port = info.port, data_dir = %info.data_dir.display(), "reusing the running local server");
            return Ok(info);
        }
        let binaries = layout.binaries()?;
        layout.prepare_dirs()?;
        if layout.data_dir.join("PG_VERSION").is_file() {
            layout.check_version(&binaries)?;
        } else {
            layout.init(&binaries)?;
        }
        let port = layout.launch(&binaries)?;
        info!(port, data_dir = %layout.data_dir.display(), "started the local PostgreSQL server");
        Ok(layout.info(port, true))
    }

    /// The running server, or `None` when it is not running (or was never made).
    ///
    /// # Errors
    ///
    /// When run as root and there is no `postgres` account, or the target directory's path
    /// cannot be made absolute.
    pub fn status(&self) -> Result<Option<ServerInfo>, LocalServerError> {
        Ok(self.layout()?.running())
    }

    /// Stops the server (`pg_ctl stop -m fast`: open connections are closed). Does nothing when
    /// it is not running.
    ///
    /// # Errors
    ///
    /// When the lock file cannot be taken or `pg_ctl stop` fails.
    pub fn stop(&self) -> Result<(), LocalServerError> {
        let layout = self.layout()?;
        let _lock = layout.lock()?;
        layout.stop()
    }

    /// Stops the server and deletes its cluster (every database in it). The next
    /// [`start`](Self::start) makes a new one.
    ///
    /// # Errors
    ///
    /// When the server cannot be stopped or its folder cannot be removed.
    pub fn destroy(&self) -> Result<(), LocalServerError> {
        let layout = self.layout()?;
        let _lock = layout.lock()?;
        layout.stop()?;
        for dir in [&layout.cluster_dir, &layout.socket_dir] {
            match fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(LocalServerError::io("remove", dir)(e));
                }
                _ => {}
            }
        }
        if layout.uses_temp_dir() {
            // Only when empty: another cluster's socket may live there too.
            let _ = fs::remove_dir(&layout.temp_dir);
        }
        info!(dir = %layout.cluster_dir.display(), "destroyed the local PostgreSQL server");
        Ok(())
    }

    /// Where everything is, and who runs the server.
    fn layout(&self) -> Result<Layout, LocalServerError> {
        let target = std::path::absolute(&self.target_dir)
            .map_err(LocalServerError::io("resolve", &self.target_dir))?;
        let trek_dir = target.join("trek");
        let temp_dir = short_temp_dir(&target);
        let (run_as, server_uid) = if account::effective_uid() == Some(0) {
            let account = account::lookup(account::SERVER_ACCOUNT).ok_or_else(|| {
                LocalServerError::NoServerAccount {
                    user: account::SERVER_ACCOUNT.to_owned(),
                }
            })?;
            let uid = account.uid;
            (RunAs::Account(account), Some(uid))
        } else {
            (RunAs::CurrentUser, account::effective_uid())
        };
        // Binaries named by TREK_PG_BIN get a cluster of their own major (`postgres-17`), so
        // switching majors never meets, or reuses, a cluster of another one.
        let cluster_name = self
            .search
            .env_folder()
            .and_then(|dir| BinDir::at(dir, SERVER_PROGRAMS))
            .and_then(|bin| bin.major())
            .map_or_else(
                || "postgres".to_owned(),
                |major| format!("postgres-{major}"),
            );
        let cluster_dir = match &run_as {
            RunAs::Account(account) if !account::can_reach(&trek_dir, account) => {
                temp_dir.join(&cluster_name)
            }
            _ => trek_dir.join(&cluster_name),
        };
        let mut socket_dir = cluster_dir.join("socket");
        if socket_dir.as_os_str().len() > MAX_SOCKET_DIR {
            socket_dir = temp_dir.join("socket");
        }
        Ok(Layout {
            data_dir: cluster_dir.join("data"),
            log_file: cluster_dir.join("server.log"),
            trek_dir,
            cluster_dir,
            socket_dir,
            temp_dir,
            run_as,
            server_uid,
            search: self.search.clone(),
        })
    }
}

/// Who runs PostgreSQL's programs.
#[derive(Debug)]
enum RunAs {
    /// This process's user.
    CurrentUser,
    /// An unprivileged account, because this process runs as root.
    Account(Account),
}

/// The paths of one local server and who runs it.
#[derive(Debug)]
struct Layout {
    /// `<target>/trek`: the lock file.
    trek_dir: PathBuf,
    /// `<target>/trek/postgres`, or `<temp_dir>/postgres`.
    cluster_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    /// `<temp>/trek-<hash of the target path>`, used only for what does not fit elsewhere.
    temp_dir: PathBuf,
    run_as: RunAs,
    /// The uid the server runs as, when known.
    server_uid: Option<u32>,
    /// Where to look for PostgreSQL's programs.
    search: Search,
}

impl Layout {
    fn uses_temp_dir(&self) -> bool {
        self.cluster_dir.starts_with(&self.temp_dir) || self.socket_dir.starts_with(&self.temp_dir)
    }

    /// The folder of `initdb`, `pg_ctl` and `postgres`.
    fn binaries(&self) -> Result<BinDir, LocalServerError> {
        self.search
            .find(SERVER_PROGRAMS)
            .ok_or_else(|| LocalServerError::BinariesNotFound {
                looked_in: self.search.places(),
            })
    }

    fn info(&self, port: u16, started: bool) -> ServerInfo {
        ServerInfo {
            port,
            socket_dir: self.socket_dir.clone(),
            data_dir: self.data_dir.clone(),
            started,
        }
    }

    /// Takes the lock that serialises starting, stopping and destroying; released on drop.
    fn lock(&self) -> Result<File, LocalServerError> {
        self.create_shared_dir(&self.trek_dir)?;
        let path = self.trek_dir.join("local-server.lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(LocalServerError::io("open", &path))?;
        // `File::lock` (stable since Rust 1.89, the workspace's `rust-version`).
        file.lock().map_err(LocalServerError::io("lock", &path))?;
        Ok(file)
    }

    /// The server, when its `postmaster.pid` names a live process that is ready and accepts
    /// connections on its port.
    fn running(&self) -> Option<ServerInfo> {
        let text = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        let postmaster = Postmaster::parse(&text)?;
        if !postmaster.ready {
            return None;
        }
        if Path::new("/proc/self").exists()
            && !Path::new("/proc").join(postmaster.pid.to_string()).exists()
        {
            debug!(pid = postmaster.pid, "stale postmaster.pid");
            return None;
        }
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, postmaster.port));
        TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
        Some(self.info(postmaster.port, false))
    }

    /// Creates `dir` and its missing parents; as root, with mode 0755 so the server's account
    /// can pass through them.
    fn create_shared_dir(&self, dir: &Path) -> Result<(), LocalServerError> {
        let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
        fs::create_dir_all(dir).map_err(LocalServerError::io("create", dir))?;
        if matches!(self.run_as, RunAs::Account(_)) {
            for d in missing {
                fs::set_permissions(d, fs::Permissions::from_mode(0o755))
                    .map_err(LocalServerError::io("set the permissions of", d))?;
            }
        }
        Ok(())
    }

    /// Creates the cluster's folder and socket folder, private to the server's account.
    fn prepare_dirs(&self) -> Result<(), LocalServerError> {
        if self.uses_temp_dir() {
            self.prepare_temp_dir()?;
        }
        for dir in [&self.cluster_dir, &self.socket_dir] {
            self.create_private_dir(dir)?;
        }
        if let (Ok(meta), Some(expected)) = (fs::metadata(&self.data_dir), self.server_uid) {
            if meta.uid() != expected {
                return Err(LocalServerError::WrongOwner {
                    path: self.data_dir.clone(),
                    owner: meta.uid(),
                    expected,
                });
            }
        }
        Ok(())
    }

    /// `<temp>/trek-<hash>`: made by this user, and refused when someone else made it (the
    /// temporary directory is shared) or others can write to it.
    fn prepare_temp_dir(&self) -> Result<(), LocalServerError> {
        let dir = &self.temp_dir;
        let mode = if matches!(self.run_as, RunAs::Account(_)) {
            0o755
        } else {
            0o700
        };
        match fs::DirBuilder::new().mode(mode).create(dir) {
            Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(mode))
                .map_err(LocalServerError::io("set the permissions of", dir))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(LocalServerError::io("create", dir)(e)),
        }
        let meta = fs::symlink_metadata(dir).map_err(LocalServerError::io("inspect", dir))?;
        let me = account::effective_uid().unwrap_or_else(|| meta.uid());
        if !meta.is_dir() || meta.uid() != me || meta.mode() & 0o022 != 0 {
            return Err(LocalServerError::UnsafeTempDir {
                path: dir.clone(),
                expected: me,
            });
        }
        Ok(())
    }

    /// Creates `dir` (mode 0700) owned by the server's account.
    fn create_private_dir(&self, dir: &Path) -> Result<(), LocalServerError> {
        if let Some(parent) = dir.parent() {
            self.create_shared_dir(parent)?;
        }
        match fs::create_dir(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(LocalServerError::io("create", dir)(e));
            }
            _ => {}
        }
        let meta = fs::symlink_metadata(dir).map_err(LocalServerError::io("inspect", dir))?;
        match &self.run_as {
            RunAs::Account(account) => {
                std::os::unix::fs::lchown(dir, Some(account.uid), Some(account.gid))
                    .map_err(LocalServerError::io("change the owner of", dir))?;
            }
            RunAs::CurrentUser => {
                if let Some(expected) = self.server_uid.filter(|&uid| uid != meta.uid()) {
                    return Err(LocalServerError::WrongOwner {
                        path: dir.to_path_buf(),
                        owner: meta.uid(),
                        expected,
                    });
                }
            }
        }
        if meta.mode() & 0o777 != 0o700 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(LocalServerError::io("set the permissions of", dir))?;
        }
        Ok(())
    }

    /// Makes the cluster with `initdb`: superuser `postgres`, trust authentication, UTF-8,
    /// locale `C.UTF-8` (or `C` where that locale does not exist).
    fn init(&self, binaries: &BinDir) -> Result<(), LocalServerError> {
        if self.data_dir.exists() {
            // A cluster whose initdb was interrupted: it holds nothing.
            warn!(dir = %self.data_dir.display(), "removing an incomplete cluster");
            fs::remove_dir_all(&self.data_dir)
                .map_err(LocalServerError::io("remove", &self.data_dir))?;
        }
        info!(dir = %self.data_dir.display(), "creating the local PostgreSQL cluster");
        let mut result = Ok(());
        for locale in ["C.UTF-8", "C"] {
            let mut cmd = self.command(&binaries.program("initdb"));
            cmd.arg("-D")
                .arg(&self.data_dir)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
                .arg(format!("--locale={locale}"));
            result = self.run(cmd, None);
            if result.is_ok() {
                break;
            }
            debug!(locale, "initdb failed; trying the next locale");
            let _ = fs::remove_dir_all(&self.data_dir);
        }
        result?;
        let conf = self.data_dir.join("postgresql.conf");
        OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut f| {
                f.write_all(
                    b"\n# trek's settings for its local server, rewritten at each start.\n\
                      include_if_exists = 'trek.conf'\n",
                )
            })
            .map_err(LocalServerError::io("write", &conf))
    }

    /// Refuses a cluster made by another major version than `binaries`.
    fn check_version(&self, binaries: &BinDir) -> Result<(), LocalServerError> {
        let path = self.data_dir.join("PG_VERSION");
        let cluster = fs::read_to_string(&path).map_err(LocalServerError::io("read", &path))?;
        let cluster = cluster.trim();
        match binaries.major() {
            Some(found) if cluster.parse::<Major>() != Ok(found) => {
                Err(LocalServerError::VersionMismatch {
                    data_dir: self.data_dir.clone(),
                    cluster: cluster.to_owned(),
                    binaries: found.to_string(),
                    bin_dir: binaries.dir().to_path_buf(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Starts the server on a free port (the one it had before when free) and returns it.
    fn launch(&self, binaries: &BinDir) -> Result<u16, LocalServerError> {
        let settings = self.data_dir.join(SETTINGS_FILE);
        let first = fs::read_to_string(&settings)
            .ok()
            .and_then(|text| remembered_port(&text))
            .unwrap_or_else(|| port::preferred(&self.data_dir));
        let mut free = port::candidates(first).filter(|&p| port::is_free(p));
        let mut taken_while_starting = 0;
        loop {
            let port = free.next().ok_or(LocalServerError::NoFreePort {
                first,
                tried: port::TRIES,
            })?;
            self.write_settings(&settings, port)?;
            let log_offset = fs::metadata(&self.log_file).map_or(0, |m| m.len());
            let mut cmd = self.command(&binaries.program("pg_ctl"));
            cmd.arg("start")
                .args(["-w", "-t", PG_CTL_WAIT_SECONDS, "-D"])
                .arg(&self.data_dir)
                .arg("-l")
                .arg(&self.log_file);
            match self.run(cmd, Some(log_offset)) {
                Ok(()) => return Ok(port),
                Err(LocalServerError::CommandFailed { output, .. })
                    if taken_while_starting < 3 && output.contains("could not bind") =>
                {
                    // Another program took the port between the check and the start.
                    taken_while_starting += 1;
                    warn!(
                        port,
                        "the port was taken while the server started; trying another"
                    );
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes `trek.conf`: the port, the socket, loopback only, 200 connections, no durability.
    fn write_settings(&self, path: &Path, port: u16) -> Result<(), LocalServerError> {
        let socket_dir = self.socket_dir.to_string_lossy().replace('\'', "''");
        let text = format!(
            "# Written by trek at each start of its local server: edits are overwritten.\n\
             port = {port}\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket_dir}'\n\
             max_connections = 200\n\
             # A throwaway development cluster: speed over durability.\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n"
        );
        fs::write(path, text).map_err(LocalServerError::io("write", path))?;
        if let RunAs::Account(account) = &self.run_as {
            std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid))
                .map_err(LocalServerError::io("change the owner of", path))?;
        }
        Ok(())
    }

    fn stop(&self) -> Result<(), LocalServerError> {
        if self.running().is_none() {
            return Ok(());
        }
        let binaries = self.binaries()?;
        let mut cmd = self.command(&binaries.program("pg_ctl"));
        cmd.arg("stop")
            .args(["-m", "fast", "-w", "-t", PG_CTL_WAIT_SECONDS, "-D"])
            .arg(&self.data_dir);
        self.run(cmd, None)?;
        info!(data_dir = %self.data_dir.display(), "stopped the local PostgreSQL server");
        Ok(())
    }

    /// A command for one of PostgreSQL's programs, run as the server's account, without the
    /// `PG*` variables of the environment (which would redirect it).
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.stdin(Stdio::null());
        match &self.run_as {
            RunAs::CurrentUser => {
                for (key, _) in env::vars_os() {
                    if key.as_bytes().starts_with(b"PG") {
                        cmd.env_remove(key);
                    }
                }
            }
            RunAs::Account(account) => {
                cmd.env_clear()
                    .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                    .env("HOME", &account.home)
                    .env("USER", &account.name)
                    .env("LOGNAME", &account.name)
                    .current_dir(&self.cluster_dir)
                    .uid(account.uid)
                    .gid(account.gid);
            }
        }
        cmd
    }

    /// Runs `cmd`; on failure, the error carries its output and, when `log_offset` is given, what
    /// the server logged since that offset.
    fn run(&self, mut cmd: Command, log_offset: Option<u64>) -> Result<(), LocalServerError> {
        let program = PathBuf::from(cmd.get_program());
        debug!(command = ?cmd, "running");
        let out = cmd.output().map_err(|source| LocalServerError::Spawn {
            program: program.clone(),
            source,
        })?;
        if out.status.success() {
            return Ok(());
        }
        let mut output = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !stdout.trim().is_empty() {
            output = format!("{}\n{output}", stdout.trim());
        }
        if let Some(offset) = log_offset {
            let logged = self.log_since(offset);
            if !logged.trim().is_empty() {
                output = format!("{output}\nserver log:\n{}", logged.trim());
            }
        }
        Err(LocalServerError::CommandFailed {
            program,
            status: out.status.to_string(),
            output,
            log: self.log_file.clone(),
        })
    }

    /// The end (at most 4 KiB) of what the server logged after `offset`.
    fn log_since(&self, offset: u64) -> String {
        let Ok(mut file) = File::open(&self.log_file) else {
            return String::new();
        };
        let len = file.metadata().map_or(0, |m| m.len());
        let start = offset.max(len.saturating_sub(4096));
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
            return String::new();
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// What `postmaster.pid` says about a server: its process, port and state.
#[derive(Debug, PartialEq, Eq)]
struct Postmaster {
    pid: u32,
    port: u16,
    /// `ready` or `standby` (or, before PostgreSQL 10, no state at all): accepting connections.
    ready: bool,
}

impl Postmaster {
    /// Parses `postmaster.pid`: pid, data directory, start time, port, socket directory, listen
    /// address, shared memory key, state.
    fn parse(text: &str) -> Option<Self> {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        Some(Self {
            pid: lines.first()?.parse().ok()?,
            port: lines.get(3)?.parse().ok()?,
            ready: lines
                .get(7)
                .is_none_or(|state| matches!(*state, "ready" | "standby")),
        })
    }
}

/// The port in `trek.conf`.
fn remembered_port(settings: &str) -> Option<u16> {
    settings.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "port").then(|| value.trim().parse().ok())?
    })
}

/// `<temp>/trek-<hash of target>`, or `/tmp/trek-<hash>` when the temporary directory's path is
/// too long for a socket inside it.
fn short_temp_dir(target: &Path) -> PathBuf {
    let name = format!(
        "trek-{:016x}",
        port::stable_hash(target.as_os_str().as_bytes())
    );
    let dir = env::temp_dir().join(&name);
    if dir.join("socket").as_os_str().len() <= MAX_SOCKET_DIR {
        dir
    } else {
        Path::new("/tmp").join(name)
    }
}

/// The topmost directory from `manifest_dir` up with a `Cargo.lock` or a workspace
/// `Cargo.toml`; `manifest_dir` when there is none.
fn workspace_root(manifest_dir: &Path) -> PathBuf {
    let manifest_dir = std::path::absolute(manifest_dir).unwrap_or_else(|_| manifest_dir.into());
    manifest_dir
        .ancestors()
        .filter(|dir| {
            dir.join("Cargo.lock").is_file() || is_workspace_manifest(&dir.join("Cargo.toml"))
        })
        .last()
        .map_or_else(|| manifest_dir.clone(), Path::to_path_buf)
}

fn is_workspace_manifest(path: &Path) -> bool {
    fs::read_to_string(path).is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
}

/// `$CARGO_TARGET_DIR` (`env_value`), relative to `root` when relative; else `<root>/target`.
fn target_dir_for(root: &Path, env_value: Option<OsString>) -> PathBuf {
    match env_value.filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_is_tcp_loopback_as_postgres_with_the_name_encoded() {
        let info = ServerInfo {
            port: 34567,
            socket_dir: PathBuf::from("/s"),
            data_dir: PathBuf::from("/d"),
            started: false,
        };
        assert_eq!(
            info.url("app_dev"),
            "postgres://postgres@127.0.0.1:34567/app_dev"
        );
        assert_eq!(
            info.url("a b/é"),
            "postgres://postgres@127.0.0.1:34567/a%20b%2F%C3%A9"
        );
    }

    #[test]
    fn postmaster_pid_gives_pid_port_and_readiness() {
        let ready =
            "4242\n/t/trek/postgres/data\n1700000000\n34567\n/t/s\n127.0.0.1\n  1 2\nready   \n";
        assert_eq!(
            Postmaster::parse(ready),
            Some(Postmaster {
                pid: 4242,
                port: 34567,
                ready: true
            })
        );
        let starting = ready.replace("ready", "starting");
        assert_eq!(Postmaster::parse(&starting).map(|p| p.ready), Some(false));
        assert_eq!(Postmaster::parse("4242\n/d\n"), None);
    }

    #[test]
    fn the_port_is_remembered_in_trek_conf() {
        assert_eq!(
            remembered_port("# c\nport = 34567\nmax_connections = 200\n"),
            Some(34567)
        );
        assert_eq!(remembered_port("max_connections = 200\n"), None);
    }

    #[test]
    fn socket_dirs_that_fit_are_kept_and_temp_dirs_are_short() {
        assert_eq!(MAX_SOCKET_DIR, 92);
        let long = Path::new("/home").join("x".repeat(200));
        let dir = short_temp_dir(&long);
        assert!(dir.join("socket").as_os_str().len() <= MAX_SOCKET_DIR);
        assert_eq!(dir, short_temp_dir(&long), "stable");
        assert_ne!(dir, short_temp_dir(Path::new("/elsewhere/target")));
    }

    #[test]
    fn target_dir_is_cargo_target_dir_against_the_root_or_target() {
        let root = Path::new("/w");
        assert_eq!(target_dir_for(root, None), Path::new("/w/target"));
        assert_eq!(
            target_dir_for(root, Some("".into())),
            Path::new("/w/target")
        );
        assert_eq!(
            target_dir_for(root, Some("out".into())),
            Path::new("/w/out")
        );
        assert_eq!(target_dir_for(root, Some("/t".into())), Path::new("/t"));
    }

    #[test]
    fn workspace_root_is_the_topmost_workspace_or_lock_file() {
        let base = env::temp_dir().join(format!("trek-unit-root-{}", std::process::id()));
        let member = base.join("ws/crates/app");
        fs::create_dir_all(&member).unwrap();
        fs::write(
            base.join("ws/Cargo.toml"),
            "[workspace]\nmembers = [\"crates/app\"]\n",
        )
        .unwrap();
        fs::write(member.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
        assert_eq!(workspace_root(&member), base.join("ws"));
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_package_outside_any_workspace_is_its_own_root() {
        let base = env::temp_dir().join(format!("trek-unit-lone-{}", std::process::id()));
        fs::create_dir_all(&base).unwrap();
        fs::write(base.join("Cargo.toml"), "[package]\nname = \"lone\"\n").unwrap();
        // /tmp has no Cargo.lock above it on a sane machine.
        assert_eq!(workspace_root(&base), base);
        fs::remove_dir_all(&base).unwrap();
    }
}
