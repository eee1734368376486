//! The plan as callers see it: what a run will do, printed the same way by `status`, `up` and
//! the dry run.

use std::fmt;

use trek_core::Kind;

use crate::snapshot::SnapshotInfo;
use crate::Workflow;

/// What a run of the workflow does to the database: where the applied sequence leaves the
/// desired one, how that is undone, and what is applied after.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// The workflow the plan is for.
    pub workflow: Workflow,
    /// The first applied item that differs from the migrations, when one does.
    pub divergence: Option<Divergence>,
    /// How the applied items after the divergence point are undone.
    pub undo: Undo,
    /// Whether a qa snapshot is taken before applying.
    pub snapshot: bool,
    /// The scripts applied, in order: versioned migrations, repeatables, seeds.
    pub apply: Vec<PlannedScript>,
}

impl Plan {
    /// Whether the run changes nothing.
    pub fn is_noop(&self) -> bool {
        matches!(self.undo, Undo::Nothing) && self.apply.is_empty()
    }
}

/// Where the applied sequence first differs from the desired one (DESIGN §5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Divergence {
    /// The position in the applied sequence (0 = the first applied migration).
    pub position: usize,
    /// The applied item at that position: `0003 add_orders`, `seed 0001 demo`.
    pub label: String,
    /// Why it differs: `edited since it was applied`, `its file is gone`, ...
    pub reason: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.label, self.reason)
    }
}

/// How a run undoes the applied items after the divergence point.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Undo {
    /// Nothing to undo (no divergence, or prod, which never rewinds).
    Nothing,
    /// dev: run the captured down scripts of these items, newest first.
    Rewind {
        /// The items, in the order they are reverted.
        scripts: Vec<String>,
    },
    /// dev: drop the managed schemas (or the database) and apply everything.
    Reset {
        /// Why a rewind is not possible.
        reason: String,
    },
    /// qa: restore this snapshot, then roll forward.
    Restore {
        /// The snapshot.
        snapshot: SnapshotInfo,
    },
    /// The workflow cannot undo it (qa without a usable snapshot): the run stops.
    Blocked {
        /// Why, and what the operator can do.
        reason: String,
    },
}

impl fmt::Display for Undo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undo::Nothing => f.write_str("nothing to undo"),
            Undo::Rewind { scripts } => write!(
                f,
                "rewind with the captured down scripts of {}",
                scripts.join(", ")
            ),
            Undo::Reset { reason } => write!(f, "reset the database ({reason})"),
            Undo::Restore { snapshot } => write!(f, "restore {snapshot}"),
            Undo::Blocked { reason } => write!(f, "cannot undo: {reason}"),
        }
    }
}

/// A script the plan applies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedScript {
    /// Versioned migration, repeatable or seed.
    pub kind: Kind,
    /// The version as written in the file name; `None` for repeatables.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The file, relative to the migrations folder.
    pub path: String,
}

impl fmt::Display for PlannedScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.version, self.kind) {
            (Some(v), Kind::Versioned) => write!(f, "{v} {}", self.name),
            (Some(v), kind) => write!(f, "{kind} {v} {}", self.name),
            (None, kind) => write!(f, "{kind} {}", self.name),
        }
    }
}
