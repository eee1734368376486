//! `trek.snapshots`: the qa snapshot catalogue.

use postgres::Client;
use trek_core::Migration;

use super::SnapshotInfo;
use crate::error::{Error, Result};
use crate::history::applied::is_missing_relation;
use crate::history::AppliedRow;
use crate::sql::{quote_ident, quote_literal, quote_nullable};

/// A catalogue entry with the applied sequence the snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapshotRecord {
    pub info: SnapshotInfo,
    /// `kind:version:checksum` of each applied versioned migration and seed, in applied order.
    pub applied: Vec<String>,
}

/// The sequence key of an applied row.
pub(crate) fn row_key(row: &AppliedRow) -> String {
    format!(
        "{}:{}:{}",
        row.kind.as_str(),
        row.version.as_deref().unwrap_or_default(),
        row.checksum
    )
}

/// The sequence key a migration has once applied.
pub(crate) fn migration_key(m: &Migration) -> String {
    format!(
        "{}:{}:{}",
        m.kind().as_str(),
        m.version().map(|v| v.as_str()).unwrap_or_default(),
        m.checksum().as_str()
    )
}

/// Every catalogue entry, oldest first. Empty when the table does not exist yet.
pub(crate) fn read(client: &mut Client, schema: &str) -> Result<Vec<SnapshotRecord>> {
    let s = quote_ident(schema);
    let sql = format!(
        "SELECT id, to_char(taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                strategy, location, applied, label, size_bytes \
         FROM {s}.snapshots ORDER BY id"
    );
    let rows = match client.query_typed(&sql, &[]) {
        Ok(rows) => rows,
        Err(e) if is_missing_relation(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::db("could not read trek's snapshot catalogue", e)),
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let applied: Vec<String> = r.get(4);
            SnapshotRecord {
                info: SnapshotInfo {
                    id: r.get(0),
                    taken_at: r.get(1),
                    strategy: r.get(2),
                    location: r.get(3),
                    label: r.get(5),
                    applied_count: applied.len(),
                    size_bytes: r.get(6),
                },
                applied,
            }
        })
        .collect())
}

/// Reserves the id of the next snapshot.
pub(crate) fn next_id(client: &mut Client, schema: &str) -> Result<i64> {
    let table = quote_literal(&format!("{}.snapshots", quote_ident(schema)));
    let row = client
        .query_one(
            &format!("SELECT nextval(pg_get_serial_sequence({table}, 'id'))"),
            &[],
        )
        .map_err(|e| Error::db("could not reserve a snapshot id", e))?;
    Ok(row.get(0))
}

/// The `INSERT` (ending in `;\n`) that records a snapshot.
pub(crate) fn insert_sql(schema: &str, record: &SnapshotRecord, workflow: &str) -> String {
    let applied: Vec<String> = record.applied.iter().map(|k| quote_literal(k)).collect();
    format!(
        "INSERT INTO {s}.snapshots (id, strategy, location, applied, label, size_bytes, workflow) \
         OVERRIDING SYSTEM VALUE VALUES ({id}, {strategy}, {location}, ARRAY[{applied}]::text[], {label}, {size}, {workflow});\n",
        s = quote_ident(schema),
        id = record.info.id,
        strategy = quote_literal(&record.info.strategy),
        location = quote_literal(&record.info.location),
        applied = applied.join(", "),
        label = quote_literal(&record.info.label),
        size = record
            .info
            .size_bytes
            .map_or_else(|| "NULL".to_owned(), |n| n.to_string()),
        workflow = quote_nullable(Some(workflow)),
    )
}

/// The `DELETE` (ending in `;\n`) that forgets a snapshot.
pub(crate) fn delete_sql(schema: &str, id: i64) -> String {
    format!(
        "DELETE FROM {}.snapshots WHERE id = {id};\n",
        quote_ident(schema)
    )
}

/// A database or file name for snapshot `id` of `database`: `<database>__trek_<id>`, with the
/// database part shortened so the whole fits PostgreSQL's 63-byte identifiers.
pub(crate) fn object_name(database: &str, suffix: &str) -> String {
    let suffix = format!("__trek_{suffix}");
    let mut base = database.to_owned();
    while base.len() + suffix.len() > 63 {
        base.pop();
    }
    format!("{base}{suffix}")
}
