//! The `--json` documents: one per command, stable field names, `snake_case`.

use serde_json::{json, Value};
use trek::{
    AuditEntry, Plan, PlannedScript, Report, SnapshotInfo, Status, StatusEntry, Step, Undo, Warning,
};

/// A status: every entry, the counts, whether `--check` would pass, and the plan. `diff` gives
/// the unified diff of a modified entry (applied script against the file), when known.
pub fn status(
    status: &Status,
    database: &str,
    diff: impl Fn(&StatusEntry) -> Option<String>,
) -> Value {
    json!({
        "database": database,
        "initialized": status.initialized,
        "stamp": status.stamp,
        "up_to_date": status.is_up_to_date(),
        "migrations": status.entries.iter().map(|e| entry(e, diff(e))).collect::<Vec<_>>(),
        "plan": plan(&status.plan),
    })
}

fn entry(e: &StatusEntry, diff: Option<String>) -> Value {
    let mut value = json!({
        "kind": e.kind.as_str(),
        "version": e.version,
        "name": e.name,
        "path": e.path,
        "state": e.state.as_str(),
        "applied_at": e.applied_at,
        "duration_ms": e.duration_ms,
        "applied_checksum": e.applied_checksum,
        "file_checksum": e.file_checksum,
    });
    if let Some(diff) = diff {
        value["diff"] = json!(diff);
    }
    value
}

/// A plan: the divergence, the undo path (`action`: `nothing`, `rewind`, `reset`, `restore`
/// or `blocked`, with its details and a `message` for people), the snapshot, the scripts.
pub fn plan(plan: &Plan) -> Value {
    let mut undo = match &plan.undo {
        Undo::Nothing => json!({ "action": "nothing" }),
        Undo::Rewind { scripts } => json!({ "action": "rewind", "scripts": scripts }),
        Undo::Reset { reason } => json!({ "action": "reset", "reason": reason }),
        Undo::Restore { snapshot: s } => json!({ "action": "restore", "snapshot": snapshot(s) }),
        Undo::Blocked { reason } => json!({ "action": "blocked", "reason": reason }),
        _ => json!({ "action": "other" }),
    };
    undo["message"] = json!(plan.undo.to_string());
    json!({
        "workflow": plan.workflow.as_str(),
        "noop": plan.is_noop(),
        "divergence": plan.divergence.as_ref().map(|d| json!({
            "position": d.position,
            "label": d.label,
            "reason": d.reason,
        })),
        "undo": undo,
        "snapshot": plan.snapshot,
        "apply": plan.apply.iter().map(planned).collect::<Vec<_>>(),
    })
}

fn planned(p: &PlannedScript) -> Value {
    json!({
        "kind": p.kind.as_str(),
        "version": p.version,
        "name": p.name,
        "path": p.path,
    })
}

/// One entry of the snapshot catalogue.
pub fn snapshot(s: &SnapshotInfo) -> Value {
    json!({
        "id": s.id,
        "taken_at": s.taken_at,
        "strategy": s.strategy,
        "location": s.location,
        "label": s.label,
        "applied_count": s.applied_count,
        "size_bytes": s.size_bytes,
    })
}

/// A step applied or reverted.
pub fn step(s: &Step) -> Value {
    json!({
        "kind": s.kind.as_str(),
        "version": s.version,
        "name": s.name,
        "duration_ms": u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
    })
}

/// A warning: a stable kind and the message.
pub fn warning(w: &Warning) -> Value {
    let kind = match w {
        Warning::Modified { .. } => "modified",
        Warning::Missing { .. } => "missing",
        Warning::AppliedOutOfOrder { .. } => "applied_out_of_order",
        Warning::StaleBinary { .. } => "stale_binary",
        Warning::LockLost { .. } => "lock_lost",
        _ => "other",
    };
    json!({ "kind": kind, "message": w.to_string() })
}

/// A run's report.
pub fn report(report: &Report, database: &str) -> Value {
    json!({
        "database": database,
        "workflow": report.workflow.map(|w| w.as_str()),
        "applied": report.applied.iter().map(step).collect::<Vec<_>>(),
        "reverted": report.reverted.iter().map(step).collect::<Vec<_>>(),
        "plan": report.plan.as_ref().map(plan),
        "snapshots": report.snapshots.iter().map(snapshot).collect::<Vec<_>>(),
        "warnings": report.warnings.iter().map(warning).collect::<Vec<_>>(),
        "duration_ms": u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX),
        "lock_wait_ms": u64::try_from(report.lock_wait.as_millis()).unwrap_or(u64::MAX),
    })
}

/// Audit log entries.
pub fn audit(entries: &[AuditEntry], database: &str) -> Value {
    json!({
        "database": database,
        "entries": entries.iter().map(|e| json!({
            "id": e.id,
            "at": e.at,
            "action": e.action,
            "kind": e.kind,
            "version": e.version,
            "name": e.name,
            "outcome": e.outcome,
            "error": e.error,
            "detail": e.detail,
            "duration_ms": e.duration_ms,
            "workflow": e.workflow,
            "db_user": e.db_user,
            "client": e.client,
            "trek_version": e.trek_version,
        })).collect::<Vec<_>>(),
    })
}
