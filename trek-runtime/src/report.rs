//! What a run did, for the application to log or show.

use std::fmt;
use std::time::Duration;

use trek_core::Kind;

use crate::plan::view::Plan;
use crate::snapshot::SnapshotInfo;
use crate::Workflow;

/// The outcome of a successful run: what was applied or reverted, how long it took, and what
/// looked odd.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    /// The workflow that ran, when the action was a workflow run.
    pub workflow: Option<Workflow>,
    /// Scripts applied, in order.
    pub applied: Vec<Step>,
    /// Scripts reverted, in order (newest first).
    pub reverted: Vec<Step>,
    /// The plan the run followed, as first made: its [`Plan::undo`] says which path the run
    /// took to undo a divergence (rewind, reset, restore) and why.
    pub plan: Option<Plan>,
    /// qa snapshots taken during the run.
    pub snapshots: Vec<SnapshotInfo>,
    /// Things that did not stop the run but deserve a look.
    pub warnings: Vec<Warning>,
    /// Wall time of the whole run, lock wait included.
    pub duration: Duration,
    /// Time spent waiting for the advisory lock.
    pub lock_wait: Duration,
    /// The prefix template a reset copied ([`crate::ResetMode::Template`]), if one did.
    pub prefix_template: Option<PrefixTemplateUse>,
}

/// The prefix template a dev reset copied instead of applying the unchanged migrations again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrefixTemplateUse {
    /// The template database, `<database>__trek_prefix_<hash>`.
    pub name: String,
    /// How many migrations it holds.
    pub migrations: usize,
    /// Whether this run built it (then `build` is the time that took, migrations applied to it
    /// included); otherwise an earlier run had.
    pub built: bool,
    /// Time spent building it (zero when it was already there).
    pub build: Duration,
    /// Time spent replacing the database with a copy of it (the audit log carried across).
    pub copy: Duration,
    /// Whether the copy was one made ahead ([`crate::Migrator::prepare_prefix_copy`]), renamed
    /// into place, rather than made during the reset.
    pub ready_copy: bool,
}

impl Report {
    /// Whether the run changed nothing.
    pub fn is_noop(&self) -> bool {
        self.applied.is_empty()
            && self.reverted.is_empty()
            && self.plan.as_ref().is_none_or(|p| {
                !matches!(
                    p.undo,
                    crate::Undo::Reset { .. } | crate::Undo::Restore { .. }
                )
            })
    }
}

/// One script applied or reverted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Versioned migration, repeatable or seed.
    pub kind: Kind,
    /// The version as written in the file name; `None` for repeatables.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// Wall time including the round trip.
    pub duration: Duration,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) if self.kind == Kind::Versioned => write!(f, "{v} {}", self.name),
            Some(v) => write!(f, "{} {v} {}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Something odd that did not stop the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// An applied migration's file changed since it ran (prod warns; `--strict` refuses).
    Modified {
        /// `0002 add_email`.
        label: String,
        /// The checksum recorded when it ran.
        applied: String,
        /// The checksum of the file now.
        current: String,
    },
    /// The database has a migration this binary does not know (an older release during a
    /// rolling deploy, or a deleted file).
    Missing {
        /// `0009 from_the_future`.
        label: String,
    },
    /// Out-of-order migrations were applied because the run allowed it.
    AppliedOutOfOrder {
        /// The migration applied below the newest applied version.
        label: String,
    },
    /// The migrations folder the binary was built from has files the binary does not embed:
    /// the binary is stale (a file added without `cargo:rerun-if-changed`, or a build cache).
    StaleBinary {
        /// The folder at build time.
        dir: String,
        /// Files on disk that are not embedded.
        not_embedded: Vec<String>,
        /// Embedded files whose content on disk differs.
        changed: Vec<String>,
    },
    /// An applied migration is half-reverted (its non-transactional down failed halfway in
    /// an earlier revert) and the run did not finish or undo it.
    HalfReverted {
        /// The migration.
        label: String,
    },
    /// The advisory lock was not held at the end of the run although trek took it: the session
    /// changed under trek, which is what a transaction-pooling proxy (PgBouncer in
    /// `pool_mode=transaction`) does. Concurrent runs were not serialised.
    LockLost {
        /// The backend pid that took the lock.
        locked_by_pid: i32,
        /// The backend pid that first tried to release it.
        unlocked_by_pid: i32,
        /// Whether the lock is still held by `locked_by_pid` after trek's attempts to reach
        /// that session (see `LockGuard::release`): then the next run waits for it.
        still_held: bool,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Modified { label, applied, current } => write!(
                f,
                "{label} was edited after it was applied (applied {applied}, file now {current}); \
                 the database keeps the old version: restore the file, or accept it with `cargo trek repair`"
            ),
            Warning::Missing { label } => write!(
                f,
                "{label} is applied in the database but is not among this binary's migrations \
                 (an older release during a rolling deploy, or a deleted file)"
            ),
            Warning::AppliedOutOfOrder { label } => write!(
                f,
                "{label} was applied out of order (its version is older than the newest applied one)"
            ),
            Warning::StaleBinary { dir, not_embedded, changed } => {
                write!(f, "this binary is stale: the migrations folder {dir} has ")?;
                if !not_embedded.is_empty() {
                    write!(f, "files it does not embed ({})", not_embedded.join(", "))?;
                }
                if !changed.is_empty() {
                    if !not_embedded.is_empty() {
                        write!(f, " and ")?;
                    }
                    write!(f, "files that changed since it was built ({})", changed.join(", "))?;
                }
                write!(
                    f,
                    "; rebuild it, and add `println!(\"cargo:rerun-if-changed=migrations\")` to build.rs"
                )
            }
            Warning::HalfReverted { label } => write!(
                f,
                "{label} is half-reverted: its down script, which runs outside a transaction, \
                 failed halfway in an earlier revert, so part of it is undone and the run left it \
                 so; finish it with `cargo trek down` (it continues at the failing statement), or \
                 put back by hand what the down's first statements undid and run `cargo trek repair`"
            ),
            Warning::LockLost { locked_by_pid, unlocked_by_pid, .. } if locked_by_pid == unlocked_by_pid => write!(
                f,
                "trek's advisory lock was no longer held by backend {locked_by_pid} at the end of the \
                 run: something in the session released it (a script calling \
                 pg_advisory_unlock_all() or DISCARD ALL), so concurrent runs were not serialised"
            ),
            Warning::LockLost { locked_by_pid, unlocked_by_pid, still_held } => {
                write!(
                    f,
                    "trek's advisory lock was taken by backend {locked_by_pid} but released from backend \
                     {unlocked_by_pid}: a transaction-pooling proxy (PgBouncer pool_mode=transaction) is \
                     between trek and PostgreSQL, so concurrent runs are not serialised; "
                )?;
                if *still_held {
                    write!(
                        f,
                        "the lock stays held by backend {locked_by_pid} until that server session ends \
                         (the next run waits for it: SELECT pg_terminate_backend({locked_by_pid}) clears it); "
                    )?;
                } else {
                    write!(f, "trek reached that session again and released the lock; ")?;
                }
                write!(f, "migrate through a direct or session-pooled connection")
            }
        }
    }
}
