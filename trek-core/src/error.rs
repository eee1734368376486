//! Errors found while reading a migrations folder.

use std::fmt;
use std::path::PathBuf;

use crate::Kind;

/// One problem with one file of a migrations folder.
///
/// Displayed as `PATH: what is wrong` (and `PATH:LINE: …` when a line is known), where PATH is
/// relative to the migrations folder. Every message says what is wrong and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The file, relative to the migrations folder (the folder itself for folder-level errors).
    pub path: PathBuf,
    /// The 1-based line the problem is on, when it is about a line (a directive, a bad byte).
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: SourceErrorKind,
}

/// What is wrong with a file or folder.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// The migrations folder does not exist.
    FolderNotFound,
    /// The migrations path exists but is not a folder.
    NotAFolder,
    /// A file or folder could not be read.
    Io {
        /// The operating system's message.
        message: String,
    },
    /// A `.sql` file whose name does not follow the naming rule of its kind.
    BadFileName {
        /// The kind of script the file's place in the folder makes it.
        kind: Kind,
        /// What is wrong with the name.
        reason: String,
    },
    /// A folder other than `repeatable/` and `seeds/` that holds `.sql` files.
    UnsupportedFolder,
    /// A folder whose name ends in `.sql`, where a script is expected: it is not read, so the
    /// migration someone meant it to be would silently never run.
    FolderNamedLikeScript,
    /// Two scripts of the same kind (and direction) whose versions compare equal
    /// (`1_a.sql` and `01_b.sql`).
    DuplicateVersion {
        /// The version as written in this file's name.
        version: String,
        /// The other file with an equal version, relative to the migrations folder.
        other: PathBuf,
    },
    /// `NAME.sql` and `NAME.up.sql` for the same migration: `.up.sql` is an alias of `.sql`.
    UpAndUpAlias {
        /// The other file, relative to the migrations folder.
        other: PathBuf,
    },
    /// A `.down.sql` with no up script of the same version.
    DownWithoutUp {
        /// The version as written in the down script's name.
        version: String,
    },
    /// A `.down.sql` whose description differs from its up script's.
    DownNameMismatch {
        /// The up script of the same version.
        up: PathBuf,
        /// The file name the down script should have.
        expected: String,
    },
    /// A `.down.sql` under `repeatable/`: repeatables are never reverted.
    RepeatableDown,
    /// The file is not valid UTF-8.
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        byte_offset: usize,
    },
    /// The script holds no SQL statement, only blanks, comments and directives.
    EmptyScript,
    /// A transactional script contains its own transaction control (`BEGIN`, `COMMIT`, ...).
    TransactionControl {
        /// The command, upper-cased (`COMMIT`).
        command: String,
    },
    /// A `-- trek:` directive trek does not know.
    UnknownDirective {
        /// The directive's name as written (`-- trek:NAME`).
        name: String,
    },
    /// A known directive with a missing, extra or malformed argument.
    BadDirectiveArgument {
        /// The directive's name.
        directive: String,
        /// The argument as written, `None` when it is missing.
        argument: Option<String>,
        /// What the directive takes.
        expected: &'static str,
    },
    /// The same directive twice in one file.
    DuplicateDirective {
        /// The directive's name.
        directive: String,
        /// The line where it first appears.
        first_line: usize,
    },
    /// A `-- trek:` directive after the leading comment lines (after a statement).
    MisplacedDirective {
        /// The directive's name.
        directive: String,
    },
    /// `-- trek:run always` in a script that is not a repeatable.
    RunAlwaysNotRepeatable {
        /// The kind of the script it is in.
        kind: Kind,
    },
}

/// Every problem found in a folder, in path order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceErrors(pub Vec<SourceError>);

impl SourceError {
    /// An error about a whole file (no line).
    pub fn new(path: impl Into<PathBuf>, kind: SourceErrorKind) -> SourceError {
        SourceError {
            path: path.into(),
            line: None,
            kind,
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl fmt::Display for SourceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceErrorKind::FolderNotFound => f.write_str(
                "the migrations folder does not exist; create it (`cargo trek init` does) or point trek at the right folder",
            ),
            SourceErrorKind::NotAFolder => f.write_str(
                "this is not a folder; point trek at the folder that holds the migrations",
            ),
            SourceErrorKind::Io { message } => {
                write!(f, "cannot be read ({message}); check that it exists and is readable")
            }
            SourceErrorKind::BadFileName { kind, reason } => {
                write!(f, "bad file name: {reason}; {}", crate::file_name::rule(*kind))
            }
            SourceErrorKind::UnsupportedFolder => f.write_str(
                "this folder holds .sql files, but trek only reads the top level of the migrations folder, `repeatable/` and `seeds/`; move the scripts to one of those",
            ),
            SourceErrorKind::FolderNamedLikeScript => f.write_str(
                "this is a folder, not a script, but its name ends in `.sql`; a migration is a file: replace the folder with the file, or rename it",
            ),
            SourceErrorKind::DuplicateVersion { version, other } => write!(
                f,
                "version {version} is used by {} too (versions compare as numbers, so `01` equals `1`); give one of them another version",
                other.display()
            ),
            SourceErrorKind::UpAndUpAlias { other } => write!(
                f,
                "{} is the same migration (`.up.sql` is an alias of `.sql`); keep only one of the two files",
                other.display()
            ),
            SourceErrorKind::DownWithoutUp { version } => write!(
                f,
                "down script for version {version}, but no up script has that version; add the up script, or rename or delete this file"
            ),
            SourceErrorKind::DownNameMismatch { up, expected } => write!(
                f,
                "the description differs from its up script {}; rename this file to {expected}",
                up.display()
            ),
            SourceErrorKind::RepeatableDown => f.write_str(
                "repeatables have no down script (they are re-applied when they change, never reverted); delete this file, or make the script a versioned migration",
            ),
            SourceErrorKind::InvalidUtf8 { byte_offset } => write!(
                f,
                "the file is not valid UTF-8 (first bad byte at offset {byte_offset}); save it as UTF-8"
            ),
            SourceErrorKind::EmptyScript => f.write_str(
                "the script has no SQL statement; write its SQL (an empty migration would be recorded as applied, and filling it in later would look like an edit), or delete the file",
            ),
            SourceErrorKind::TransactionControl { command } => write!(
                f,
                "`{command}` controls the transaction, but trek already runs this script in a transaction with its history row; remove it, or mark the file `-- trek:no_transaction` and manage transactions yourself"
            ),
            SourceErrorKind::UnknownDirective { name } => write!(
                f,
                "unknown directive `-- trek:{name}`; the directives are `no_transaction`, `lock_timeout DURATION`, `statement_timeout DURATION` and `run always` (a plain comment must not start with `trek:`)"
            ),
            SourceErrorKind::BadDirectiveArgument {
                directive,
                argument,
                expected,
            } => match argument {
                Some(argument) => write!(
                    f,
                    "`-- trek:{directive}` does not take `{argument}`; it takes {expected}"
                ),
                None => write!(f, "`-- trek:{directive}` needs an argument: {expected}"),
            },
            SourceErrorKind::DuplicateDirective {
                directive,
                first_line,
            } => write!(
                f,
                "`-- trek:{directive}` is repeated (first on line {first_line}); keep one"
            ),
            SourceErrorKind::MisplacedDirective { directive } => write!(
                f,
                "`-- trek:{directive}` comes after the start of the script; directives must be in the leading `--` comment lines, before the first statement, so move it to the top of the file"
            ),
            SourceErrorKind::RunAlwaysNotRepeatable { kind } => write!(
                f,
                "`-- trek:run always` is only for repeatables, and this is a {kind} script; remove the directive, or move the script to `repeatable/`"
            ),
        }
    }
}

impl std::error::Error for SourceError {}

impl fmt::Display for SourceErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceErrors {}

impl SourceErrors {
    /// The errors, in path order.
    pub fn iter(&self) -> std::slice::Iter<'_, SourceError> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a SourceErrors {
    type Item = &'a SourceError;
    type IntoIter = std::slice::Iter<'a, SourceError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
