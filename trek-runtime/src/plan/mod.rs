//! Planning: a goal in, typed steps out (DESIGN §5, "the plan is the program").
//!
//! Pure: the [`Goal`], the migrations, the typed history and the snapshot catalogue in; an
//! ordered list of [`Step`]s, each with its reason, out; no database access. The executor
//! (`crate::migrator::execute`) walks the list. [`analysis`] holds the comparison of the
//! desired and applied sequences; [`view`] the plan as callers see it.

pub(crate) mod analysis;
#[cfg(test)]
mod tests;
pub(crate) mod view;

use std::path::PathBuf;

use trek_core::{Kind, Migration, Migrations, Version};

pub(crate) use analysis::{analyze, Analysis};

use crate::error::{Error, Result};
use crate::history::sequence::{is_prefix, same_sequence, SequenceKey};
use crate::history::AppliedRow;
use crate::migrator::Revert;
use crate::report::Warning;
use crate::snapshot::catalogue::SnapshotRecord;
use crate::{TransactionMode, Workflow};

/// What the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Goal {
    /// Run the environment's workflow ([`crate::Migrator::run`], the dry run, status).
    Workflow,
    /// Rebuild the database from nothing, then apply everything ([`crate::Migrator::reset`]).
    Reset,
    /// Apply the pending seeds alone ([`crate::Migrator::seed`]).
    SeedsOnly,
    /// Revert with the captured down scripts ([`crate::Migrator::revert`]).
    Revert(Revert),
}

/// How a reset rebuilds the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResetHow {
    /// Drop and recreate the managed schemas, in one transaction.
    Schemas,
    /// Drop and recreate the database (needs it alone).
    Database,
    /// Replay the baseline schema dump, which brings history of its own: plan again after.
    Baseline(PathBuf),
    /// Replace the database with a copy of the template that holds this prefix of the desired
    /// sequence (built first when missing); the rest is applied after.
    FromTemplate { prefix: Vec<SequenceKey> },
}

/// The settings a plan depends on.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub workflow: Workflow,
    /// Apply up to and including this version; no repeatables or seeds.
    pub target: Option<Version>,
    /// Refuse modified migrations (prod).
    pub strict: bool,
    /// Apply out-of-order migrations (prod).
    pub allow_out_of_order: bool,
    /// Whether seeds run (dev and qa only, whatever this says).
    pub seeds: bool,
    pub transaction: TransactionMode,
    pub reset: ResetHow,
    /// dev: a reset keeps the unchanged prefix by copying a template of it
    /// ([`crate::ResetMode::Template`]) when applying that prefix took at least this long
    /// (by the times recorded in the history); `None`: never.
    pub prefix_template: Option<std::time::Duration>,
    /// qa: a snapshot before each migration instead of one before the run.
    pub snapshot_each_migration: bool,
}

impl Settings {
    /// Whether seeds are part of the desired sequence.
    pub fn runs_seeds(&self) -> bool {
        self.seeds && self.workflow.runs_seeds()
    }
}

/// What a plan is made from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a, 'm> {
    pub migrations: &'m Migrations,
    /// `trek.applied`, in applied order.
    pub history: &'a [AppliedRow],
    /// The snapshot catalogue, oldest first (qa).
    pub catalogue: &'a [SnapshotRecord],
    /// The applied sequence a snapshot was already taken of, or restored to, earlier in this
    /// run: no second snapshot of the same state.
    pub snapshot_taken_of: Option<&'a [SequenceKey]>,
}

/// One thing the executor does.
#[derive(Debug, Clone)]
pub(crate) enum Step<'m> {
    /// Rebuild the database from nothing (dev, `reset`).
    Reset { how: ResetHow },
    /// Restore a qa snapshot.
    Restore { snapshot: Box<SnapshotRecord> },
    /// Run an applied item's captured down script and forget it.
    Revert { row: Box<AppliedRow> },
    /// Take a qa snapshot of the database as it is at this point of the plan.
    Snapshot {
        /// `before 0003 add_orders`.
        label: String,
        /// The applied sequence the snapshot holds.
        holds: Vec<SequenceKey>,
    },
    /// Apply a versioned migration or seed in its own transaction (or none).
    Apply { script: &'m Migration },
    /// Apply versioned migrations in one transaction (`--transaction all`).
    ApplyAll { scripts: Vec<&'m Migration> },
    /// Run a repeatable.
    RunRepeatable { script: &'m Migration },
}

impl Step<'_> {
    /// Whether the database holds history the plan cannot know after this step, so the
    /// executor must read it and plan the rest again.
    pub fn needs_new_plan_after(&self) -> bool {
        matches!(
            self,
            Step::Reset {
                how: ResetHow::Baseline(_)
            }
        )
    }

    /// Whether the step rebuilds the database (a reset or a restore): a plan made after one
    /// must not need another, or the run would go round in circles.
    pub fn is_rebuild(&self) -> bool {
        matches!(self, Step::Reset { .. } | Step::Restore { .. })
    }
}

/// A step with the reason it is in the plan.
#[derive(Debug, Clone)]
pub(crate) struct Planned<'m> {
    pub step: Step<'m>,
    pub reason: String,
}

/// What the executor will do, in order, and what looked odd while planning.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan<'m> {
    pub steps: Vec<Planned<'m>>,
    pub warnings: Vec<Warning>,
    /// Where the applied sequence left the desired one, and why.
    pub divergence: Option<view::Divergence>,
}

impl<'m> Plan<'m> {
    /// The scripts the plan runs, in order.
    pub fn scripts(&self) -> impl Iterator<Item = &'m Migration> + '_ {
        self.steps.iter().flat_map(|p| match &p.step {
            Step::Apply { script } | Step::RunRepeatable { script } => vec![*script],
            Step::ApplyAll { scripts } => scripts.clone(),
            _ => Vec::new(),
        })
    }

    /// Whether the plan changes nothing.
    #[cfg(test)]
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Refuses a goal that would destroy something on a database stamped `prod`, unless the
/// operator named `database` in `allow_destructive_on`; and a reset under the prod workflow.
///
/// # Errors
/// [`Error::Protected`].
pub(crate) fn check_protection(
    goal: &Goal,
    workflow: Workflow,
    stamp: Option<Workflow>,
    database: &str,
    allow_destructive_on: Option<&str>,
) -> Result<()> {
    let allowed = allow_destructive_on == Some(database);
    let refuse = |action: String| Error::Protected {
        database: database.to_owned(),
        stamp: "prod".to_owned(),
        action,
    };
    if allowed {
        return Ok(());
    }
    if *goal == Goal::Reset && workflow == Workflow::Prod {
        return Err(refuse(
            "reset it (the environment's workflow is prod)".to_owned(),
        ));
    }
    let action = match goal {
        Goal::Reset => "reset it".to_owned(),
        Goal::Revert(_) => "revert migrations".to_owned(),
        Goal::Workflow | Goal::SeedsOnly if workflow.is_destructive() => {
            format!("run the {workflow} workflow")
        }
        Goal::Workflow | Goal::SeedsOnly => return Ok(()),
    };
    match stamp {
        Some(Workflow::Prod) => Err(refuse(action)),
        _ => Ok(()),
    }
}

/// Plans `goal`: the ordered steps that take the database from `input.history` to what the
/// goal asks, each with its reason.
///
/// # Errors
/// The workflow refuses (prod: failed, out of order, strict and modified; qa: no usable
/// snapshot), [`Error::SeedsRefused`], [`Error::NoTransactionInBatch`], and for a revert
/// [`Error::UnknownVersion`] and [`Error::MissingDown`].
pub(crate) fn plan<'m>(goal: &Goal, settings: &Settings, input: Input<'_, 'm>) -> Result<Plan<'m>> {
    if let Goal::Revert(how) = goal {
        return plan_revert(how, input.history);
    }
    let analysis = analyze(input.migrations, input.history, settings.runs_seeds());
    let mut intent = match (goal, settings.workflow) {
        (Goal::Reset, _) => Intent::rebuild(
            &analysis,
            Undo::Reset("a reset was asked for".to_owned(), 0),
            0,
            settings,
        ),
        (_, Workflow::Prod) => Intent::prod(&analysis, settings)?,
        (_, Workflow::Dev) => Intent::dev(&analysis, settings),
        (_, Workflow::Qa) => Intent::qa(&analysis, settings, input.catalogue)?,
    };
    if *goal == Goal::SeedsOnly {
        intent = intent.seeds_only(&analysis)?;
    }
    let mut plan = intent.lay_out(&analysis, settings, input.snapshot_taken_of)?;
    plan.divergence = analysis.divergence_view();
    // A half-reverted migration the plan neither reverts nor rebuilds stays so: say it.
    for row in input.history.iter().filter(|r| r.reverted_statements > 0) {
        let undone = plan.steps.iter().any(|p| {
            p.step.is_rebuild() || matches!(&p.step, Step::Revert { row: r } if r.id == row.id)
        });
        if !undone {
            plan.warnings
                .push(Warning::HalfReverted { label: row.label() });
        }
    }
    Ok(plan)
}

/// How a plan undoes the applied items after the divergence point.
#[derive(Debug)]
enum Undo<'r> {
    Nothing,
    /// dev: the captured downs of these rows, newest first.
    Rewind(Vec<&'r AppliedRow>),
    /// A reset, for this reason, keeping the first this many items of the desired sequence
    /// when a prefix template can hold them (0: from nothing).
    Reset(String, usize),
    /// qa: this snapshot.
    Restore(&'r SnapshotRecord),
}

/// What a plan does before it is laid out as steps: the undo, then the scripts.
#[derive(Debug)]
struct Intent<'m, 'r> {
    undo: Undo<'r>,
    /// Versioned migrations and seeds, in desired order.
    apply: Vec<&'m Migration>,
    repeatables: Vec<(&'m Migration, &'static str)>,
    warnings: Vec<Warning>,
}

impl<'m, 'r> Intent<'m, 'r> {
    /// The prod column of DESIGN §5: never rewind; refuse failed and (unless allowed)
    /// out-of-order migrations; warn about modified (refuse when strict) and missing ones.
    fn prod(analysis: &Analysis<'m, 'r>, settings: &Settings) -> Result<Self> {
        if let Some(row) = analysis.sequence.iter().find(|r| r.reverted_statements > 0) {
            return Err(Error::HalfReverted {
                label: row.label(),
                statements: row.reverted_statements,
            });
        }
        if let Some((row, file)) = analysis.failed.first() {
            return Err(Error::Failed {
                label: row.label(),
                path: file.map_or_else(|| "its file is gone".to_owned(), |m| m.path().to_owned()),
            });
        }
        if !analysis.out_of_order.is_empty() && !settings.allow_out_of_order {
            return Err(Error::OutOfOrder {
                versions: analysis.out_of_order.iter().map(|m| m.label()).collect(),
            });
        }
        if settings.strict && !analysis.modified.is_empty() {
            return Err(Error::Modified {
                migrations: analysis.modified.iter().map(|(r, _)| r.label()).collect(),
            });
        }
        let mut warnings: Vec<Warning> = analysis
            .modified
            .iter()
            .map(|(row, m)| Warning::Modified {
                label: row.label(),
                applied: row.checksum.to_string(),
                current: m.checksum().to_string(),
            })
            .collect();
        warnings.extend(
            analysis
                .missing
                .iter()
                .map(|row| Warning::Missing { label: row.label() }),
        );
        let apply = within_target(&analysis.pending, settings.target.as_ref());
        warnings.extend(
            apply
                .iter()
                .filter(|m| analysis.out_of_order.iter().any(|o| std::ptr::eq(*o, **m)))
                .map(|m| Warning::AppliedOutOfOrder { label: m.label() }),
        );
        let repeatables = repeatables_for(analysis, &apply, settings);
        Ok(Intent {
            undo: Undo::Nothing,
            apply,
            repeatables,
            warnings,
        })
    }

    /// The dev column of DESIGN §5: rewind to the divergence point with captured down
    /// scripts (a reset when one is missing), then apply the rest of the desired sequence,
    /// repeatables and seeds.
    fn dev(analysis: &Analysis<'m, 'r>, settings: &Settings) -> Self {
        // A half-reverted item is where the database stopped matching the migrations: the
        // rewind finishes its down and applies it again.
        let half = analysis
            .sequence
            .iter()
            .position(|r| r.reverted_statements > 0);
        let divergence = match (analysis.divergence.as_ref().map(|(at, _)| *at), half) {
            (Some(a), Some(h)) => Some(a.min(h)),
            (a, h) => a.or(h),
        };
        let Some(at) = divergence else {
            let apply = within_target(&analysis.pending, settings.target.as_ref());
            let repeatables = repeatables_for(analysis, &apply, settings);
            return Intent {
                undo: Undo::Nothing,
                apply,
                repeatables,
                warnings: Vec::new(),
            };
        };
        let undo: Vec<&AppliedRow> = analysis.sequence[at..].iter().rev().copied().collect();
        if let Some(row) = undo.iter().find(|r| !r.has_down || r.failed) {
            let reason = format!(
                "{} {}",
                row.label(),
                if row.failed {
                    "failed halfway"
                } else if row.irreversible {
                    "cannot be reverted (its down script holds no statement: irreversible)"
                } else {
                    "has no captured down script"
                }
            );
            // With prefix templates, the unchanged versioned migrations before the divergence
            // come back as a copy of their template (seeds come after every migration).
            let keep = match settings.prefix_template {
                Some(least) => {
                    let keep = at.min(analysis.versioned_desired());
                    let took: i64 = analysis.sequence[..keep]
                        .iter()
                        .map(|r| r.duration_ms.max(0))
                        .sum();
                    // Below the threshold, replaying the prefix costs less than a copy.
                    if u128::from(took.unsigned_abs()) >= least.as_millis() {
                        keep
                    } else {
                        0
                    }
                }
                None => 0,
            };
            return Intent::rebuild(analysis, Undo::Reset(reason, keep), keep, settings);
        }
        let apply = within_target(
            &analysis.desired[at.min(analysis.desired.len())..],
            settings.target.as_ref(),
        );
        let repeatables = repeatables_for(analysis, &apply, settings);
        Intent {
            undo: Undo::Rewind(undo),
            apply,
            repeatables,
            warnings: Vec::new(),
        }
    }

    /// The qa column of DESIGN §5: with a divergence, restore the newest snapshot whose
    /// applied sequence is a prefix of the desired one and roll forward.
    fn qa(
        analysis: &Analysis<'m, 'r>,
        settings: &Settings,
        catalogue: &'r [SnapshotRecord],
    ) -> Result<Self> {
        let Some((at, reason)) = &analysis.divergence else {
            return Ok(Intent::dev(analysis, settings));
        };
        let desired = analysis.desired_keys();
        let Some(record) = catalogue
            .iter()
            .rev()
            .find(|s| is_prefix(&s.applied, &desired))
        else {
            return Err(Error::NoSnapshot {
                label: analysis.sequence[*at].label(),
                reason: reason.clone(),
                count: catalogue.len(),
            });
        };
        Ok(Intent::rebuild(
            analysis,
            Undo::Restore(record),
            record.applied.len(),
            settings,
        ))
    }

    /// `undo`, which leaves the first `kept` items of the desired sequence applied, then the
    /// rest of the sequence and every repeatable (none with a target).
    fn rebuild(
        analysis: &Analysis<'m, 'r>,
        undo: Undo<'r>,
        kept: usize,
        settings: &Settings,
    ) -> Self {
        let apply = within_target(
            &analysis.desired[kept.min(analysis.desired.len())..],
            settings.target.as_ref(),
        );
        let repeatables = if settings.target.is_some() {
            Vec::new()
        } else {
            analysis
                .repeatables_all
                .iter()
                .map(|m| (*m, "every repeatable runs after a rebuild"))
                .collect()
        };
        Intent {
            undo,
            apply,
            repeatables,
            warnings: Vec::new(),
        }
    }

    /// The seeds alone; refused when the plan has more to do than seeds.
    fn seeds_only(mut self, analysis: &Analysis<'m, 'r>) -> Result<Self> {
        let pending: Vec<String> = self
            .apply
            .iter()
            .filter(|m| m.kind() == Kind::Versioned)
            .map(|m| m.label())
            .collect();
        let reason = if !matches!(self.undo, Undo::Nothing) {
            Some(match analysis.divergence_view() {
                Some(at) => format!("the database diverges from the migrations at {at}"),
                None => "the database diverges from the migrations".to_owned(),
            })
        } else if !pending.is_empty() {
            Some(format!("migrations are pending ({})", pending.join(", ")))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::SeedsRefused {
                reason: format!(
                    "{reason}; run the workflow (`cargo trek up`), which applies seeds after the migrations"
                ),
            });
        }
        self.repeatables.clear();
        Ok(self)
    }

    /// The intent as ordered steps: the undo, then versioned migrations, repeatables and
    /// seeds, with qa snapshots where the workflow takes them.
    fn lay_out(
        self,
        analysis: &Analysis<'m, 'r>,
        settings: &Settings,
        snapshot_taken_of: Option<&[SequenceKey]>,
    ) -> Result<Plan<'m>> {
        let mut steps = Vec::new();
        let mut holds = analysis.sequence_keys();
        let mut snapshotted: Option<Vec<SequenceKey>> = snapshot_taken_of.map(<[_]>::to_vec);
        match self.undo {
            Undo::Nothing => {}
            Undo::Rewind(rows) => {
                let at = holds.len() - rows.len();
                holds.truncate(at);
                for row in rows {
                    steps.push(Planned {
                        reason: "rewinding to the divergence point with the down script captured when it was applied"
                            .to_owned(),
                        step: Step::Revert {
                            row: Box::new(row.clone()),
                        },
                    });
                }
            }
            Undo::Reset(reason, 0) => {
                holds.clear();
                snapshotted = None;
                steps.push(Planned {
                    step: Step::Reset {
                        how: settings.reset.clone(),
                    },
                    reason,
                });
            }
            Undo::Reset(reason, keep) => {
                let prefix = analysis.desired_keys()[..keep].to_vec();
                holds.clone_from(&prefix);
                snapshotted = None;
                steps.push(Planned {
                    step: Step::Reset {
                        how: ResetHow::FromTemplate { prefix },
                    },
                    reason: format!(
                        "{reason}; a copy of the template of the {keep} unchanged migration{s} \
                         before it",
                        s = if keep == 1 { "" } else { "s" }
                    ),
                });
            }
            Undo::Restore(record) => {
                holds.clone_from(&record.applied);
                snapshotted = Some(record.applied.clone());
                steps.push(Planned {
                    reason: format!(
                        "the newest snapshot that holds a prefix of the migrations ({} applied)",
                        record.applied.len()
                    ),
                    step: Step::Restore {
                        snapshot: Box::new(record.clone()),
                    },
                });
            }
        }

        let (seeds, versioned): (Vec<_>, Vec<_>) =
            self.apply.iter().partition(|m| m.kind() == Kind::Seed);
        let takes_snapshots = settings.workflow == Workflow::Qa;
        let each = takes_snapshots && settings.snapshot_each_migration;
        if settings.transaction == TransactionMode::All && !versioned.is_empty() {
            if let Some(m) = versioned
                .iter()
                .find(|m: &&&Migration| m.directives().no_transaction)
            {
                return Err(Error::NoTransactionInBatch {
                    path: m.path().to_owned(),
                });
            }
        }
        // The units a snapshot may come before: each versioned migration (or all of them in
        // one transaction), then the repeatables with the first seed, then each other seed.
        let mut units: Vec<Vec<Planned<'m>>> = Vec::new();
        let apply_reason = |m: &Migration| {
            if m.kind() == Kind::Seed {
                "pending seed".to_owned()
            } else {
                "pending".to_owned()
            }
        };
        if settings.transaction == TransactionMode::All && !versioned.is_empty() && !each {
            units.push(vec![Planned {
                reason: "pending; every pending migration in one transaction (--transaction all)"
                    .to_owned(),
                step: Step::ApplyAll {
                    scripts: versioned.clone(),
                },
            }]);
        } else {
            for m in &versioned {
                units.push(vec![Planned {
                    reason: apply_reason(m),
                    step: Step::Apply { script: m },
                }]);
            }
        }
        let mut tail: Vec<Planned<'m>> = self
            .repeatables
            .iter()
            .map(|(m, why)| Planned {
                reason: (*why).to_owned(),
                step: Step::RunRepeatable { script: m },
            })
            .collect();
        let mut seeds = seeds.into_iter();
        if let Some(first) = seeds.next() {
            tail.push(Planned {
                reason: apply_reason(first),
                step: Step::Apply { script: first },
            });
        }
        if !tail.is_empty() {
            units.push(tail);
        }
        for m in seeds {
            units.push(vec![Planned {
                reason: apply_reason(m),
                step: Step::Apply { script: m },
            }]);
        }

        let mut first = true;
        for unit in units {
            if takes_snapshots
                && (each || first)
                && snapshotted
                    .as_deref()
                    .is_none_or(|s| !same_sequence(s, &holds))
            {
                steps.push(Planned {
                    reason: if each {
                        "qa takes a snapshot before each migration".to_owned()
                    } else {
                        "qa takes a snapshot before a run applies anything".to_owned()
                    },
                    step: Step::Snapshot {
                        label: snapshot_label(&unit),
                        holds: holds.clone(),
                    },
                });
                snapshotted = Some(holds.clone());
            }
            first = false;
            for planned in unit {
                match &planned.step {
                    Step::Apply { script } => holds.extend(SequenceKey::of(script)),
                    Step::ApplyAll { scripts } => {
                        holds.extend(scripts.iter().filter_map(|m| SequenceKey::of(m)));
                    }
                    _ => {}
                }
                steps.push(planned);
            }
        }
        Ok(Plan {
            steps,
            warnings: self.warnings,
            divergence: None,
        })
    }
}

/// What a snapshot taken before `unit` holds: `before 0003 add_orders`.
fn snapshot_label(unit: &[Planned<'_>]) -> String {
    let next = unit.iter().find_map(|p| match &p.step {
        Step::Apply { script } | Step::RunRepeatable { script } => Some(*script),
        Step::ApplyAll { scripts } => scripts.first().copied(),
        _ => None,
    });
    next.map_or_else(
        || "before the run".to_owned(),
        |m| format!("before {}", m.label()),
    )
}

/// A revert: the newest `Steps(n)` applied versioned migrations and seeds, or everything
/// applied after `To(version)`, newest first, each with a captured down script.
fn plan_revert<'m>(how: &Revert, history: &[AppliedRow]) -> Result<Plan<'m>> {
    let sequence: Vec<&AppliedRow> = history
        .iter()
        .filter(|r| r.kind != Kind::Repeatable)
        .collect();
    let count = match how {
        Revert::Steps(n) => (*n).min(sequence.len()),
        Revert::To(version) => match sequence
            .iter()
            .position(|r| r.version.as_ref() == Some(version))
        {
            Some(i) => sequence.len() - i - 1,
            None => {
                return Err(Error::UnknownVersion {
                    version: version.to_string(),
                    hint: Some("it is not applied".to_owned()),
                })
            }
        },
    };
    let undo = &sequence[sequence.len() - count..];
    if let Some(row) = undo.iter().find(|r| !r.has_down) {
        return Err(if row.irreversible {
            Error::Irreversible { label: row.label() }
        } else {
            Error::MissingDown { label: row.label() }
        });
    }
    Ok(Plan {
        steps: undo
            .iter()
            .rev()
            .map(|row| Planned {
                reason: "asked for".to_owned(),
                step: Step::Revert {
                    row: Box::new((*row).clone()),
                },
            })
            .collect(),
        ..Plan::default()
    })
}

fn within_target<'m>(scripts: &[&'m Migration], target: Option<&Version>) -> Vec<&'m Migration> {
    scripts
        .iter()
        .copied()
        .filter(|m| match target {
            None => true,
            Some(target) => m.kind() == Kind::Versioned && m.version().is_some_and(|v| v <= target),
        })
        .collect()
}

/// The repeatables a run that applies `apply` runs: the due ones, and the `run always` ones
/// when it applies anything; none with a target.
fn repeatables_for<'m>(
    analysis: &Analysis<'m, '_>,
    apply: &[&'m Migration],
    settings: &Settings,
) -> Vec<(&'m Migration, &'static str)> {
    if settings.target.is_some() {
        return Vec::new();
    }
    let mut out: Vec<(&Migration, &str)> = analysis
        .repeatables_due
        .iter()
        .map(|m| (*m, "new or changed since it last ran"))
        .collect();
    if !apply.is_empty() {
        for m in &analysis.repeatables_always {
            if !out.iter().any(|(o, _)| std::ptr::eq(*o, *m)) {
                out.push((m, "marked `run always`, and the run applies something"));
            }
        }
        out.sort_by(|a, b| a.0.name().cmp(b.0.name()));
    }
    out
}
