//! The `--json` documents ([`crate::json`]) made from what the library returns.
//!
//! Every variant of the library's enums is mapped by name here, with no wildcard: the enums
//! the documents mirror are exhaustive, so a variant the library grows does not compile until
//! it is mapped. Engine errors are named by the engine (`trek::ErrorKind::as_str`).

use std::time::Duration;

use trek::{
    AuditEntry, Plan, PlannedScript, Report, SnapshotInfo, Status, StatusEntry, Step, Undo, Warning,
};

use crate::json as doc;

/// Milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A script's kind.
pub fn kind(kind: trek::Kind) -> doc::Kind {
    match kind {
        trek::Kind::Versioned => doc::Kind::Versioned,
        trek::Kind::Repeatable => doc::Kind::Repeatable,
        trek::Kind::Seed => doc::Kind::Seed,
    }
}

/// A workflow.
pub fn workflow(workflow: trek::Workflow) -> doc::Workflow {
    match workflow {
        trek::Workflow::Dev => doc::Workflow::Dev,
        trek::Workflow::Qa => doc::Workflow::Qa,
        trek::Workflow::Prod => doc::Workflow::Prod,
    }
}

/// A migration's state.
pub fn state(state: trek::State) -> doc::State {
    match state {
        trek::State::Applied => doc::State::Applied,
        trek::State::Pending => doc::State::Pending,
        trek::State::Modified => doc::State::Modified,
        trek::State::Missing => doc::State::Missing,
        trek::State::OutOfOrder => doc::State::OutOfOrder,
        trek::State::Failed => doc::State::Failed,
        trek::State::HalfReverted => doc::State::HalfReverted,
    }
}

/// A lint severity.
pub fn severity(severity: trek::lint::Severity) -> doc::Severity {
    match severity {
        trek::lint::Severity::Note => doc::Severity::Note,
        trek::lint::Severity::Warning => doc::Severity::Warning,
        trek::lint::Severity::Error => doc::Severity::Error,
    }
}

/// A status: every entry, the counts, whether `--check` would pass, and the plan. `diff` gives
/// the unified diff of a modified entry (applied script against the file), when known.
pub fn status(
    status: &Status,
    database: &str,
    diff: impl Fn(&StatusEntry) -> Option<String>,
) -> doc::Status {
    doc::Status {
        schema: doc::StatusSchema,
        database: database.to_owned(),
        initialized: status.initialized,
        stamp: status.stamp.clone(),
        up_to_date: status.is_up_to_date(),
        migrations: status.entries.iter().map(|e| entry(e, diff(e))).collect(),
        plan: plan(&status.plan),
        invalid_indexes: status.invalid_indexes.clone(),
    }
}

fn entry(e: &StatusEntry, diff: Option<String>) -> doc::StatusEntry {
    doc::StatusEntry {
        kind: kind(e.kind),
        version: e.version.clone(),
        name: e.name.clone(),
        path: e.path.clone(),
        state: state(e.state),
        applied_at: e.applied_at.clone(),
        duration_ms: e.duration_ms,
        applied_checksum: e.applied_checksum.clone(),
        file_checksum: e.file_checksum.clone(),
        diff,
        reverted_statements: e.reverted_statements,
    }
}

/// A plan: the divergence, the undo path with a `message` for people, the snapshot, the
/// scripts.
pub fn plan(plan: &Plan) -> doc::Plan {
    let action = match &plan.undo {
        Undo::Nothing => doc::UndoAction::Nothing,
        Undo::Rewind { scripts } => doc::UndoAction::Rewind {
            scripts: scripts.clone(),
        },
        Undo::Reset {
            reason,
            from_template,
        } => doc::UndoAction::Reset {
            reason: reason.clone(),
            from_template: *from_template,
        },
        Undo::Restore { snapshot: s } => doc::UndoAction::Restore {
            snapshot: snapshot(s),
        },
        Undo::Blocked { reason } => doc::UndoAction::Blocked {
            reason: reason.clone(),
        },
    };
    doc::Plan {
        workflow: workflow(plan.workflow),
        noop: plan.is_noop(),
        divergence: plan.divergence.as_ref().map(|d| doc::Divergence {
            position: d.position,
            label: d.label.clone(),
            reason: d.reason.clone(),
        }),
        undo: doc::Undo {
            action,
            message: plan.undo.to_string(),
        },
        snapshot: plan.snapshot,
        apply: plan.apply.iter().map(planned).collect(),
        steps: plan
            .steps
            .iter()
            .map(|s| doc::PlanStep {
                action: match s.action {
                    trek::StepAction::Reset => doc::StepAction::Reset,
                    trek::StepAction::Restore => doc::StepAction::Restore,
                    trek::StepAction::Revert => doc::StepAction::Revert,
                    trek::StepAction::Snapshot => doc::StepAction::Snapshot,
                    trek::StepAction::Apply => doc::StepAction::Apply,
                    trek::StepAction::RunRepeatable => doc::StepAction::RunRepeatable,
                },
                subject: s.subject.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
    }
}

fn planned(p: &PlannedScript) -> doc::PlannedScript {
    doc::PlannedScript {
        kind: kind(p.kind),
        version: p.version.clone(),
        name: p.name.clone(),
        path: p.path.clone(),
    }
}

/// One entry of the snapshot catalogue.
pub fn snapshot(s: &SnapshotInfo) -> doc::Snapshot {
    doc::Snapshot {
        id: s.id,
        taken_at: s.taken_at.clone(),
        strategy: s.strategy.clone(),
        location: s.location.clone(),
        label: s.label.clone(),
        applied_count: s.applied_count,
        size_bytes: s.size_bytes,
    }
}

/// A step applied or reverted.
pub fn step(s: &Step) -> doc::Step {
    doc::Step {
        kind: kind(s.kind),
        version: s.version.clone(),
        name: s.name.clone(),
        duration_ms: millis(s.duration),
    }
}

/// A warning: a stable kind and the message.
pub fn warning(w: &Warning) -> doc::Warning {
    let kind = match w {
        Warning::Modified { .. } => doc::WarningKind::Modified,
        Warning::Missing { .. } => doc::WarningKind::Missing,
        Warning::AppliedOutOfOrder { .. } => doc::WarningKind::AppliedOutOfOrder,
        Warning::StaleBinary { .. } => doc::WarningKind::StaleBinary,
        Warning::LockLost { .. } => doc::WarningKind::LockLost,
        Warning::HalfReverted { .. } => doc::WarningKind::HalfReverted,
    };
    doc::Warning {
        kind,
        message: w.to_string(),
    }
}

/// A run's report, under the schema `S` of the command that ran it.
pub fn report<S: Default>(report: &Report, database: &str) -> doc::Run<S> {
    doc::Run {
        schema: S::default(),
        database: database.to_owned(),
        workflow: report.workflow.map(workflow),
        applied: report.applied.iter().map(step).collect(),
        reverted: report.reverted.iter().map(step).collect(),
        plan: report.plan.as_ref().map(plan),
        snapshots: report.snapshots.iter().map(snapshot).collect(),
        warnings: report.warnings.iter().map(warning).collect(),
        duration_ms: millis(report.duration),
        lock_wait_ms: millis(report.lock_wait),
    }
}

/// Audit log entries.
pub fn audit(entries: &[AuditEntry], database: &str) -> doc::Audit {
    doc::Audit {
        schema: doc::AuditSchema,
        database: database.to_owned(),
        entries: entries
            .iter()
            .map(|e| doc::AuditEntry {
                id: e.id,
                at: e.at.clone(),
                action: e.action.clone(),
                kind: e.kind.clone(),
                version: e.version.clone(),
                name: e.name.clone(),
                outcome: e.outcome.clone(),
                error: e.error.clone(),
                detail: e.detail.clone(),
                duration_ms: e.duration_ms,
                workflow: e.workflow.clone(),
                db_user: e.db_user.clone(),
                client: e.client.clone(),
                trek_version: e.trek_version.clone(),
            })
            .collect(),
    }
}
