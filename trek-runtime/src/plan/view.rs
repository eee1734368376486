//! The plan as callers see it: what a run will do, printed the same way by `status`, `up` and
//! the dry run.

use std::fmt;

use trek_core::Kind;

use crate::plan::{Planned, ResetHow, Step};
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
    /// Every step the run takes, in order, each with its reason: the same list the executor
    /// walks.
    pub steps: Vec<PlannedStep>,
}

/// One step of a plan, as callers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedStep {
    /// What the step does.
    pub action: StepAction,
    /// What it acts on: `0003 add_orders`, `seed 0001 demo`, `snapshot #4 (before 0002 b)`,
    /// `the database`.
    pub subject: String,
    /// Why the plan has it.
    pub reason: String,
}

impl fmt::Display for PlannedStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.action, self.subject, self.reason)
    }
}

/// The kind of a [`PlannedStep`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepAction {
    /// Rebuild the database from nothing.
    Reset,
    /// Restore a qa snapshot.
    Restore,
    /// Run a captured down script.
    Revert,
    /// Take a qa snapshot.
    Snapshot,
    /// Apply a versioned migration or seed.
    Apply,
    /// Run a repeatable.
    RunRepeatable,
}

impl StepAction {
    /// `reset`, `restore`, `revert`, `snapshot`, `apply` or `run-repeatable`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StepAction::Reset => "reset",
            StepAction::Restore => "restore",
            StepAction::Revert => "revert",
            StepAction::Snapshot => "snapshot",
            StepAction::Apply => "apply",
            StepAction::RunRepeatable => "run-repeatable",
        }
    }
}

impl fmt::Display for StepAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
pub enum Undo {
    /// Nothing to undo (no divergence, or prod, which never rewinds).
    Nothing,
    /// dev: run the captured down scripts of these items, newest first.
    Rewind {
        /// The items, in the order they are reverted.
        scripts: Vec<String>,
    },
    /// dev: drop the managed schemas (or the database) and apply everything; or, with
    /// [`crate::ResetMode::Template`], replace the database with a copy of the template of
    /// the unchanged prefix and apply the rest.
    Reset {
        /// Why a rewind is not possible.
        reason: String,
        /// How many migrations come from the prefix template's copy instead of being applied
        /// again (0: the reset starts from nothing).
        from_template: usize,
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
            Undo::Reset { reason, .. } => write!(f, "reset the database ({reason})"),
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

impl PlannedScript {
    /// The view of a migration file.
    pub(crate) fn of(m: &trek_core::Migration) -> Self {
        PlannedScript {
            kind: m.kind(),
            version: m.version().map(ToString::to_string),
            name: m.name().to_owned(),
            path: m.path().to_owned(),
        }
    }
}

impl crate::plan::Plan<'_> {
    /// The plan as callers see it.
    pub(crate) fn view(&self, workflow: Workflow) -> Plan {
        let mut undo = Undo::Nothing;
        let mut rewound = Vec::new();
        for planned in &self.steps {
            match &planned.step {
                Step::Reset { how } => {
                    undo = Undo::Reset {
                        reason: planned.reason.clone(),
                        from_template: match how {
                            ResetHow::FromTemplate { prefix } => prefix.len(),
                            _ => 0,
                        },
                    }
                }
                Step::Restore { snapshot } => {
                    undo = Undo::Restore {
                        snapshot: snapshot.info.clone(),
                    }
                }
                Step::Revert { row } => rewound.push(row.label()),
                _ => {}
            }
        }
        if !rewound.is_empty() {
            undo = Undo::Rewind { scripts: rewound };
        }
        Plan {
            workflow,
            divergence: self.divergence.clone(),
            undo,
            snapshot: self
                .steps
                .iter()
                .any(|p| matches!(p.step, Step::Snapshot { .. })),
            apply: self.scripts().map(PlannedScript::of).collect(),
            steps: self.steps.iter().flat_map(PlannedStep::of).collect(),
        }
    }
}

impl PlannedStep {
    /// The view of a step (a batch of migrations in one transaction is one per script).
    pub(crate) fn of(planned: &Planned<'_>) -> Vec<PlannedStep> {
        let one = |action, subject: String| {
            vec![PlannedStep {
                action,
                subject,
                reason: planned.reason.clone(),
            }]
        };
        match &planned.step {
            Step::Reset {
                how: ResetHow::FromTemplate { prefix },
            } => one(
                StepAction::Reset,
                format!(
                    "the database from the template of {} migration{}",
                    prefix.len(),
                    if prefix.len() == 1 { "" } else { "s" }
                ),
            ),
            Step::Reset { .. } => one(StepAction::Reset, "the database".to_owned()),
            Step::Restore { snapshot } => one(StepAction::Restore, snapshot.info.to_string()),
            Step::Revert { row } => one(StepAction::Revert, row.label()),
            Step::Snapshot { label, .. } => one(StepAction::Snapshot, label.clone()),
            Step::Apply { script } => one(StepAction::Apply, script.label()),
            Step::RunRepeatable { script } => one(StepAction::RunRepeatable, script.label()),
            Step::ApplyAll { scripts } => scripts
                .iter()
                .map(|m| PlannedStep {
                    action: StepAction::Apply,
                    subject: m.label(),
                    reason: planned.reason.clone(),
                })
                .collect(),
        }
    }
}
