//! The one error type of `cargo trek`: what went wrong, which exit status it means, and how it
//! is shown to people (text on stderr) and to machines (`{"error": {...}}` on stdout).

use std::io;
use std::path::PathBuf;

use serde_json::{json, Value};
use trek::SourceErrors;
use trek_local_server::LocalServerError;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: the work failed, or a check found a problem.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage, bad input or bad configuration.
pub const EXIT_USAGE: u8 = 2;

/// Everything that stops a command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The command line asks for something that cannot be done (a name that collides, ...).
    #[error("{message}")]
    Usage {
        /// What is wrong and what to do.
        message: String,
    },

    /// The Cargo package could not be found.
    #[error("{message}")]
    Project {
        /// What is wrong and what to do.
        message: String,
    },

    /// `Trek.toml`, `.env`, a variable or a URL is invalid.
    #[error("{}{message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Config {
        /// The file at fault, when it is a file.
        path: Option<PathBuf>,
        /// What is wrong; for TOML errors, with the line and column.
        message: String,
    },

    /// The migrations folder has problems.
    #[error("the migrations folder {dir} has {} problem{}:\n{}", errors.0.len(), if errors.0.len() == 1 { "" } else { "s" }, prefixed(dir, errors))]
    Source {
        /// The folder as given in messages.
        dir: String,
        /// Every problem, each naming its file relative to the folder.
        errors: SourceErrors,
    },

    /// The database could not be reached.
    #[error("could not connect to {url}: {message}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// Why.
        message: String,
    },

    /// The local server could not be started, stopped or destroyed.
    #[error("the local server")]
    LocalServer(#[source] LocalServerError),

    /// The runtime stopped.
    #[error("{}", runtime_message(error, migrations))]
    Runtime {
        /// The runtime's error (its message is this error's message, so it is not a source).
        error: Box<trek::Error>,
        /// The migrations folder as shown in messages, to make SQL failures point at files.
        migrations: String,
    },

    /// A file could not be read or written.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What trek was doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// Writing the output failed (a closed pipe is not reported: `cargo trek status | head`).
    #[error("could not write the output")]
    Output(#[source] io::Error),

    /// A check (`status --check`) found problems; the output already said which.
    #[error("{message}")]
    Check {
        /// The summary.
        message: String,
    },
}

fn prefixed(dir: &str, errors: &SourceErrors) -> String {
    errors
        .iter()
        .map(|e| {
            let mut e = e.clone();
            if e.path.is_relative() {
                e.path = PathBuf::from(dir).join(&e.path);
            }
            format!("  {e}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn runtime_message(error: &trek::Error, migrations: &str) -> String {
    match error {
        trek::Error::Migration {
            label,
            script,
            failure,
            marked_failed,
            ..
        } => {
            let mut failure = (**failure).clone();
            failure.path = format!("{migrations}/{}", failure.path);
            let mut text = match script {
                trek::Script::Down => format!(
                    "the down script of {label} failed and {label} stays applied:\n{failure}"
                ),
                _ => format!("{label} failed and was not applied:\n{failure}"),
            };
            if *marked_failed {
                text.push_str(
                    "\n  note: it ran outside a transaction and is now recorded as failed; \
                     finish or undo it by hand, then run `cargo trek repair`",
                );
            }
            text
        }
        other => trek::error_chain(other),
    }
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    /// A failed connection to `url` (masked here).
    pub fn connect(url: &str, error: &trek::postgres::Error) -> Error {
        Error::Connect {
            url: crate::database::mask(url),
            message: trek::describe_postgres_error(error),
        }
    }

    /// The exit status this error means.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. }
            | Error::Project { .. }
            | Error::Config { .. }
            | Error::Source { .. } => EXIT_USAGE,
            // A version that is not a migration's, or `--transaction all` over a
            // `no_transaction` migration: the command line asks for what cannot be done.
            Error::Runtime { error, .. } if error.kind().is_bad_input() => EXIT_USAGE,
            Error::Connect { .. }
            | Error::LocalServer(_)
            | Error::Runtime { .. }
            | Error::Io { .. }
            | Error::Output(_)
            | Error::Check { .. } => EXIT_FAILED,
        }
    }

    /// A short, stable name for the kind of error, for `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage { .. } => "usage",
            Error::Project { .. } => "project",
            Error::Config { .. } => "config",
            Error::Source { .. } => "migrations",
            Error::Connect { .. } => "connect",
            Error::LocalServer(_) => "local_server",
            Error::Runtime { error, .. } => error.kind().as_str(),
            Error::Io { .. } => "io",
            Error::Output(_) => "output",
            Error::Check { .. } => "check_failed",
        }
    }

    /// The message with its causes (`: cause` for each).
    pub fn chain(&self) -> String {
        trek::error_chain(self)
    }

    /// The error as the JSON document `--json` prints.
    pub fn to_json(&self) -> Value {
        let mut error = json!({
            "kind": self.kind(),
            "message": self.chain(),
            "exit_code": self.exit_code(),
        });
        match self {
            Error::Config {
                path: Some(path), ..
            } => {
                error["file"] = json!(path.display().to_string());
            }
            Error::Source { dir, errors } => {
                error["problems"] = errors
                    .iter()
                    .map(|e| {
                        json!({
                            "path": if e.path.is_relative() { format!("{dir}/{}", e.path.display()) } else { e.path.display().to_string() },
                            "line": e.line,
                            "message": e.kind.to_string(),
                        })
                    })
                    .collect();
            }
            Error::Runtime {
                error: runtime,
                migrations,
            } => {
                let trek::Error::Migration {
                    label,
                    script,
                    failure,
                    marked_failed,
                    ..
                } = &**runtime
                else {
                    return json!({ "error": error });
                };
                error["migration"] = json!(label);
                error["script"] = json!(match script {
                    trek::Script::Down => "down",
                    _ => "up",
                });
                error["marked_failed"] = json!(marked_failed);
                error["sql"] = json!({
                    "code": failure.code,
                    "message": failure.message,
                    "detail": failure.detail,
                    "hint": failure.hint,
                    "path": format!("{migrations}/{}", failure.path),
                    "line": failure.location.as_ref().map(|l| l.line),
                    "column": failure.location.as_ref().map(|l| l.column),
                    "line_text": failure.location.as_ref().map(|l| l.line_text.clone()),
                });
            }
            _ => {}
        }
        json!({ "error": error })
    }
}
