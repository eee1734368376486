//! The one error type of the test harness.

/// Everything that can stop the harness from giving a test its database. The engine's errors
/// (a failing migration while a template is built, a version that is not one of the
/// migrations, a database stamped `prod`) come as they are in [`Error::Trek`]; the local
/// server's in [`Error::LocalServer`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine refused or failed: see the [`trek::Error`] inside.
    #[error(transparent)]
    Trek(#[from] trek::Error),

    /// trek's local PostgreSQL server, where test databases live when the environment names
    /// no server, could not be started.
    #[error("could not start trek's local PostgreSQL server for the test databases")]
    LocalServer(#[source] trek_local_server::LocalServerError),

    /// A query the harness runs failed (connecting, creating, copying or dropping a database,
    /// reading a database's environment stamp). The driver's error is the source;
    /// [`trek::error_chain`] prints both.
    #[error("{context}")]
    Database {
        /// What the harness was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: trek::postgres::Error,
    },

    /// The operating system refused what the harness needed (a thread to create the database
    /// on, for [`crate::TestDb::new_async`]).
    #[error("{context}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn db(context: impl Into<String>, source: trek::postgres::Error) -> Error {
        Error::Database {
            context: context.into(),
            source,
        }
    }
}

/// `Result` with the harness's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
