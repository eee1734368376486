//! Errors found while reading a migrations folder.

use std::fmt;
use std::path::PathBuf;

/// One problem with one file of a migrations folder.
///
/// Displayed as `PATH: what is wrong` (and `PATH:LINE: …` when a line is known), where PATH is
/// relative to the migrations folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The file, relative to the migrations folder (the folder itself for folder-level errors).
    pub path: PathBuf,
    /// The 1-based line the problem is on, when it is about a line (a directive).
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: SourceErrorKind,
}

/// What is wrong with a file. TODO(core helper): fill in the variants.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// Placeholder.
    Todo,
}

/// Every problem found in a folder, in path order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceErrors(pub Vec<SourceError>);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}
impl std::error::Error for SourceError {}
impl fmt::Display for SourceErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}
impl std::error::Error for SourceErrors {}
