//! The `--json` documents: one per command, stable field names, `snake_case`.

use serde_json::{json, Value};
use trek::{AuditEntry, Report, Status, StatusEntry, Step, Warning};

/// A status: every entry, the counts, and whether `--check` would pass.
pub fn status(status: &Status, database: &str) -> Value {
    json!({
        "database": database,
        "initialized": status.initialized,
        "stamp": status.stamp,
        "up_to_date": status.is_up_to_date(),
        "migrations": status.entries.iter().map(entry).collect::<Vec<_>>(),
    })
}

fn entry(e: &StatusEntry) -> Value {
    json!({
        "kind": e.kind.as_str(),
        "version": e.version,
        "name": e.name,
        "path": e.path,
        "state": e.state.as_str(),
        "applied_at": e.applied_at,
        "duration_ms": e.duration_ms,
        "applied_checksum": e.applied_checksum,
        "file_checksum": e.file_checksum,
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
