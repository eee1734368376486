//! The state of every migration against one database, for `status`.

use std::fmt;

use trek_core::Kind;

/// What a migration's state is in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Applied, and the file still has the checksum it was applied with.
    Applied,
    /// Not applied yet (for a repeatable: new, or changed since it last ran).
    Pending,
    /// Applied, but the file was edited since.
    Modified,
    /// Applied, but no file has this version any more.
    Missing,
    /// Not applied, and older than the newest applied migration.
    OutOfOrder,
    /// A `no_transaction` migration that broke halfway.
    Failed,
    /// Applied, but its down script (run outside a transaction) failed halfway: the
    /// statements before the failing one are undone; the next `down` or dev run continues.
    HalfReverted,
}

impl State {
    /// `applied`, `pending`, `modified`, `missing`, `out-of-order`, `failed` or
    /// `half-reverted`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Modified => "modified",
            State::Missing => "missing",
            State::OutOfOrder => "out-of-order",
            State::Failed => "failed",
            State::HalfReverted => "half-reverted",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a status: a migration file, an applied row, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusEntry {
    /// Versioned migration, repeatable or seed.
    pub kind: Kind,
    /// The version as written in the file name (or in the database, for a missing one).
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The file, relative to the migrations folder; `None` when missing.
    pub path: Option<String>,
    /// The state.
    pub state: State,
    /// When it was applied (UTC, RFC 3339).
    pub applied_at: Option<String>,
    /// How long applying took.
    pub duration_ms: Option<i64>,
    /// The checksum recorded when applied.
    pub applied_checksum: Option<String>,
    /// The checksum of the file now.
    pub file_checksum: Option<String>,
    /// The up script as it was applied, for a [`State::Modified`] entry (to show the edit);
    /// `None` too when the script was recorded by its checksum alone (bigger than
    /// [`crate::STORED_SCRIPT_LIMIT`]).
    pub applied_sql: Option<String>,
    /// For a [`State::HalfReverted`] entry: how many statements of its non-transactional down
    /// script ran and stay done (the next revert continues after them); `None` otherwise.
    pub reverted_statements: Option<u32>,
}

impl StatusEntry {
    /// A short label for messages: `0003 add_email`, `seed 0001 demo`, `repeatable views`
    /// (as [`crate::Migration::label`]).
    pub fn label(&self) -> String {
        match (&self.version, self.kind) {
            (Some(v), Kind::Versioned) => format!("{v} {}", self.name),
            (Some(v), kind) => format!("{kind} {v} {}", self.name),
            (None, kind) => format!("{kind} {}", self.name),
        }
    }
}

/// Every migration with its state, in order: versioned by version, repeatables by name, seeds
/// by version.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// One entry per migration file or applied row.
    pub entries: Vec<StatusEntry>,
    /// Whether trek's tables exist in the database.
    pub initialized: bool,
    /// The workflow that first claimed the database.
    pub stamp: Option<String>,
    /// What a run of the workflow would do now.
    pub plan: crate::Plan,
    /// INVALID indexes in the managed schemas, schema-qualified: left by a `CREATE INDEX
    /// CONCURRENTLY` that failed; PostgreSQL never uses them (a unique one enforces nothing).
    pub invalid_indexes: Vec<String>,
}

impl Status {
    /// Whether everything is applied and unmodified, and no index is INVALID: what `status
    /// --check` demands.
    pub fn is_up_to_date(&self) -> bool {
        self.entries.iter().all(|e| e.state == State::Applied) && self.invalid_indexes.is_empty()
    }

    /// How many entries are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }
}
