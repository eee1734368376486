//! `trek.audit`: the append-only log of everything trek did to the database.

use postgres::types::Type;
use postgres::Client;

use super::applied::is_missing_relation;
use crate::error::{Error, Result};
use crate::sql::{quote_ident, quote_literal, quote_nullable};

/// The action names stored in `trek.audit.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// A migration, repeatable or seed was applied (or failed to apply).
    Apply,
    /// A migration or seed was reverted with its captured down script.
    Revert,
    /// Modified checksums were accepted or failed rows cleared.
    Repair,
    /// Migrations were recorded as applied without running them.
    Baseline,
    /// The managed schemas (or the database) were dropped and recreated.
    Reset,
    /// A qa snapshot was taken.
    Snapshot,
    /// A qa snapshot was restored.
    Restore,
    /// A dry run simulated the plan and rolled it back.
    DryRun,
}

impl Action {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Apply => "apply",
            Action::Revert => "revert",
            Action::Repair => "repair",
            Action::Baseline => "baseline",
            Action::Reset => "reset",
            Action::Snapshot => "snapshot",
            Action::Restore => "restore",
            Action::DryRun => "dry-run",
        }
    }
}

/// One row of `trek.audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEntry {
    /// Increases with time.
    pub id: i64,
    /// When (UTC, RFC 3339, milliseconds).
    pub at: String,
    /// `apply`, `revert`, `repair`, `baseline`, ...
    pub action: String,
    /// `versioned`, `repeatable` or `seed`, when the action was about one script.
    pub kind: Option<String>,
    /// The script's version.
    pub version: Option<String>,
    /// The script's name.
    pub name: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// The error, for failures.
    pub error: Option<String>,
    /// What was done, when the action needs explaining (a repair).
    pub detail: Option<String>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// The workflow that ran it.
    pub workflow: Option<String>,
    /// The database user.
    pub db_user: String,
    /// The client: host and process.
    pub client: Option<String>,
    /// The trek version that wrote the row.
    pub trek_version: String,
}

/// The values of one audit row; turned into an `INSERT` sent with the work it records.
#[derive(Debug, Clone)]
pub(crate) struct AuditRecord<'a> {
    pub action: Action,
    pub kind: Option<&'a str>,
    pub version: Option<&'a str>,
    pub name: Option<&'a str>,
    pub error: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// SQL expression for the duration in ms (a literal, or computed from the clock).
    pub duration_sql: String,
    pub workflow: Option<&'a str>,
    pub client: &'a str,
}

impl AuditRecord<'_> {
    /// The `INSERT` statement for this row.
    pub fn insert_sql(&self, schema: &str) -> String {
        format!(
            "INSERT INTO {s}.audit (action, kind, version, name, outcome, error, detail, duration_ms, workflow, client, trek_version) \
             VALUES ({action}, {kind}, {version}, {name}, {outcome}, {error}, {detail}, {duration}, {workflow}, {client}, {tv})",
            s = quote_ident(schema),
            action = quote_literal(self.action.as_str()),
            kind = quote_nullable(self.kind),
            version = quote_nullable(self.version),
            name = quote_nullable(self.name),
            outcome = quote_literal(if self.error.is_some() { "failure" } else { "success" }),
            error = quote_nullable(self.error),
            detail = quote_nullable(self.detail),
            duration = self.duration_sql,
            workflow = quote_nullable(self.workflow),
            client = quote_literal(self.client),
            tv = quote_literal(crate::TREK_VERSION),
        )
    }
}

/// The newest `limit` audit rows, newest first. Empty when trek's tables do not exist.
pub(crate) fn read(client: &mut Client, schema: &str, limit: i64) -> Result<Vec<AuditEntry>> {
    let s = quote_ident(schema);
    let sql = format!(
        "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), action, kind, version, name, \
                outcome, error, detail, duration_ms, workflow, db_user, client, trek_version \
         FROM {s}.audit ORDER BY id DESC LIMIT $1"
    );
    let rows = match client.query_typed(&sql, &[(&limit, Type::INT8)]) {
        Ok(rows) => rows,
        Err(e) if is_missing_relation(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::db("could not read trek's audit log", e)),
    };
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            action: r.get(2),
            kind: r.get(3),
            version: r.get(4),
            name: r.get(5),
            outcome: r.get(6),
            error: r.get(7),
            detail: r.get(8),
            duration_ms: r.get(9),
            workflow: r.get(10),
            db_user: r.get(11),
            client: r.get(12),
            trek_version: r.get(13),
        })
        .collect())
}
