//! The one error type of the local server.

use std::io;
use std::path::PathBuf;

/// Everything that can stop trek from starting, finding or stopping its local server. Match on
/// the variant to react; `Display` says what went wrong and what to do about it, and the cause
/// (an I/O error) is reachable through [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalServerError {
    /// `initdb`, `pg_ctl` and `postgres` were found nowhere trek looks.
    #[error(
        "PostgreSQL's binaries were not found (looked in {looked_in}): install PostgreSQL \
         (apt-get install postgresql), or point trek at a server of your own with DATABASE_URL"
    )]
    BinariesNotFound {
        /// Where trek looked, in words: `PATH, `pg_config --bindir` and
        /// /usr/lib/postgresql/*/bin`, after the folder given when there was one.
        looked_in: String,
    },

    /// trek runs as root, and PostgreSQL refuses to: the unprivileged account to run it as does
    /// not exist.
    #[error(
        "running as root, and PostgreSQL refuses to run as root, but there is no `{user}` user \
         in /etc/passwd to run it as: create one (useradd --system --user-group {user}), or run \
         as an ordinary user"
    )]
    NoServerAccount {
        /// The account trek looked for.
        user: String,
    },

    /// A file-system operation on the server's folder failed.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What trek was doing: `create`, `read`, `lock`, ...
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// A PostgreSQL program could not be run at all.
    #[error("could not run {}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// A PostgreSQL program (`initdb`, `pg_ctl`) ran and failed.
    #[error(
        "{} failed ({status}); the server's log is {}:\n{output}",
        program.display(),
        log.display()
    )]
    CommandFailed {
        /// The program.
        program: PathBuf,
        /// How it exited.
        status: String,
        /// What it printed, followed by the end of the server's log when there is one.
        output: String,
        /// The server's log file.
        log: PathBuf,
    },

    /// Every port trek tried on 127.0.0.1 was taken.
    #[error(
        "no free TCP port on 127.0.0.1 from {first} on ({tried} tried) for the local server: \
         free one, or point trek at a server of your own with DATABASE_URL"
    )]
    NoFreePort {
        /// The first port tried.
        first: u16,
        /// How many ports were tried.
        tried: u16,
    },

    /// The cluster on disk was made by another major version of PostgreSQL than the binaries
    /// found.
    #[error(
        "the local server's cluster {} was made by PostgreSQL {cluster}, but the binaries in {} \
         are PostgreSQL {binaries}: delete the folder (it holds only throwaway data), or install \
         PostgreSQL {cluster}",
        data_dir.display(),
        bin_dir.display()
    )]
    VersionMismatch {
        /// The cluster's data directory.
        data_dir: PathBuf,
        /// The cluster's major version (`PG_VERSION`).
        cluster: String,
        /// The binaries' major version.
        binaries: String,
        /// Where the binaries are.
        bin_dir: PathBuf,
    },

    /// The server's folder belongs to another user than the one the server must run as (it was
    /// made by a run as another user).
    #[error(
        "the local server's folder {} belongs to uid {owner}, but the server runs as uid \
         {expected}: delete the folder (it holds only throwaway data) and start again",
        path.display()
    )]
    WrongOwner {
        /// The folder.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The uid the server runs as.
        expected: u32,
    },

    /// A folder trek uses in the shared temporary directory was not made by trek (a symbolic
    /// link, another owner, or writable by others).
    #[error(
        "{} is not safe for the local server (it must be a folder owned by uid {expected} that \
         others cannot write to): remove it and start again",
        path.display()
    )]
    UnsafeTempDir {
        /// The folder.
        path: PathBuf,
        /// The uid it must belong to.
        expected: u32,
    },
}

impl LocalServerError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
