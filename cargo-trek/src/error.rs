//! The one error type of `cargo trek`: what went wrong, which exit status it means, and how it
//! is shown to people (text on stderr) and to machines (a [`json::ErrorDoc`] on stdout).

use std::io;
use std::path::PathBuf;

use trek::SourceErrors;
use trek_local_server::LocalServerError;

use crate::json;

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
            before,
            ..
        } => {
            let mut failure = (**failure).clone();
            failure.path = format!("{migrations}/{}", failure.path);
            let mut text = match (script, marked_failed) {
                (trek::Script::Down, false) => format!(
                    "the down script of {label} failed and {label} stays applied:\n{failure}"
                ),
                // The failure's note says what ran and that the next revert continues.
                (trek::Script::Down, true) => format!(
                    "the down script of {label} failed halfway and {label} is recorded as \
                     half-reverted:\n{failure}"
                ),
                (trek::Script::Up, _) => format!("{label} failed and was not applied:\n{failure}"),
            };
            if *marked_failed && *script == trek::Script::Up {
                text.push_str(
                    "\n  note: it ran outside a transaction and is now recorded as failed; \
                     finish or undo it by hand, then run `cargo trek repair`",
                );
            }
            for (what, steps) in [("reverted", &before.reverted), ("applied", &before.applied)] {
                if !steps.is_empty() {
                    let names: Vec<String> = steps.iter().map(ToString::to_string).collect();
                    text.push_str(&format!(
                        "\n  note: before it failed, the run {what} {} (committed, and {} so): {}",
                        if steps.len() == 1 {
                            "1 script".to_owned()
                        } else {
                            format!("{} scripts", steps.len())
                        },
                        if steps.len() == 1 { "stays" } else { "stay" },
                        names.join(", ")
                    ));
                }
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

    /// The kind of error, for `--json`.
    pub fn kind(&self) -> json::ErrorKind {
        use json::ErrorKind as K;
        match self {
            Error::Usage { .. } => K::Usage,
            Error::Project { .. } => K::Project,
            Error::Config { .. } => K::Config,
            Error::Source { .. } => K::Migrations,
            Error::Connect { .. } => K::Connect,
            Error::LocalServer(_) => K::LocalServer,
            Error::Runtime { error, .. } => K::Engine(error.kind().as_str().to_owned()),
            Error::Io { .. } => K::Io,
            Error::Output(_) => K::Output,
            Error::Check { .. } => K::CheckFailed,
        }
    }

    /// The message with its causes (`: cause` for each).
    pub fn chain(&self) -> String {
        trek::error_chain(self)
    }

    /// The problems of a bad migrations folder, each naming its file with the folder.
    pub fn problems(dir: &str, errors: &SourceErrors) -> Vec<json::Problem> {
        errors
            .iter()
            .map(|e| json::Problem {
                path: if e.path.is_relative() {
                    format!("{dir}/{}", e.path.display())
                } else {
                    e.path.display().to_string()
                },
                line: e.line,
                message: e.kind.to_string(),
            })
            .collect()
    }

    /// The error as the document `--json` prints.
    pub fn to_json(&self) -> json::ErrorDoc {
        let mut error = json::Error::new(self.kind(), self.chain(), self.exit_code());
        match self {
            Error::Config {
                path: Some(path), ..
            } => {
                error.file = Some(path.display().to_string());
            }
            Error::Source { dir, errors } => {
                error.problems = Some(Error::problems(dir, errors));
            }
            Error::Runtime {
                error: runtime,
                migrations,
            } => {
                if let trek::Error::Migration {
                    label,
                    script,
                    failure,
                    marked_failed,
                    before,
                    ..
                } = &**runtime
                {
                    error.migration = Some(label.clone());
                    error.applied_before =
                        Some(before.applied.iter().map(ToString::to_string).collect());
                    error.reverted_before =
                        Some(before.reverted.iter().map(ToString::to_string).collect());
                    error.script = Some(match script {
                        trek::Script::Down => json::ScriptKind::Down,
                        trek::Script::Up => json::ScriptKind::Up,
                    });
                    error.marked_failed = Some(*marked_failed);
                    error.sql = Some(json::SqlFailure {
                        code: failure.code.clone(),
                        message: failure.message.clone(),
                        detail: failure.detail.clone(),
                        hint: failure.hint.clone(),
                        path: format!("{migrations}/{}", failure.path),
                        line: failure.location.as_ref().map(|l| l.line),
                        column: failure.location.as_ref().map(|l| l.column),
                        line_text: failure.location.as_ref().map(|l| l.line_text.clone()),
                        note: failure.note.clone(),
                    });
                }
            }
            Error::Usage { .. }
            | Error::Project { .. }
            | Error::Config { path: None, .. }
            | Error::Connect { .. }
            | Error::LocalServer(_)
            | Error::Io { .. }
            | Error::Output(_)
            | Error::Check { .. } => {}
        }
        json::ErrorDoc {
            schema: json::ErrorSchema,
            error,
        }
    }
}
