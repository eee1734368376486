//! Carrying the audit log and the snapshot catalogue across a restore.
//!
//! A snapshot holds trek's tables as they were when it was taken. Before a restore trek reads
//! the current audit log and catalogue; the SQL from [`restore_sql`], run in the restored
//! database (in the restore's own transaction where the strategy allows), puts back the whole
//! audit log and catalogue, so neither loses anything, and the database's own environment
//! stamp.

use postgres::Client;

use crate::error::{Error, Result};
use crate::history::meta;
use crate::sql::{quote_ident, quote_literal};

/// The audit log and catalogue as JSON arrays of rows.
#[derive(Debug, Clone)]
pub(crate) struct Carried {
    audit: String,
    snapshots: String,
    stamp: Option<String>,
    pub audit_rows: i64,
}

/// Reads the rows to carry.
pub(crate) fn read(client: &mut Client, schema: &str) -> Result<Carried> {
    let s = quote_ident(schema);
    let row = client
        .query_one(
            &format!(
                "SELECT (SELECT coalesce(json_agg(a ORDER BY a.id), '[]')::text FROM {s}.audit a), \
                        (SELECT coalesce(json_agg(n ORDER BY n.id), '[]')::text FROM {s}.snapshots n), \
                        (SELECT count(*) FROM {s}.audit), \
                        (SELECT value FROM {s}.meta WHERE key = 'environment')"
            ),
            &[],
        )
        .map_err(|e| Error::db("could not read the audit log and snapshot catalogue to carry across the restore", e))?;
    Ok(Carried {
        audit: row.get(0),
        snapshots: row.get(1),
        audit_rows: row.get(2),
        stamp: row.get(3),
    })
}

/// Statements (each ending in `;\n`, no transaction control, every name qualified) that bring
/// trek's tables in the restored database to the current layout, replace its audit log and
/// catalogue with the carried ones, and keep the database's own environment stamp (a dump of
/// production restored into qa stays qa).
pub(crate) fn restore_sql(schema: &str, carried: &Carried) -> String {
    let s = quote_ident(schema);
    let mut sql = meta::upgrade_sql(schema);
    for (table, rows) in [("audit", &carried.audit), ("snapshots", &carried.snapshots)] {
        sql.push_str(&format!("DELETE FROM {s}.{table};\n"));
        sql.push_str(&format!(
            "INSERT INTO {s}.{table} OVERRIDING SYSTEM VALUE \
             SELECT * FROM json_populate_recordset(NULL::{s}.{table}, {rows});\n",
            rows = quote_literal(rows),
        ));
        let qualified = quote_literal(&format!("{s}.{table}"));
        sql.push_str(&format!(
            "SELECT setval(pg_get_serial_sequence({qualified}, 'id'), \
                    greatest((SELECT max(id) FROM {s}.{table}), \
                             (SELECT last_value FROM pg_sequences \
                              WHERE format('%I.%I', schemaname, sequencename) = pg_get_serial_sequence({qualified}, 'id')), 1));\n"
        ));
    }
    sql.push_str(&match &carried.stamp {
        Some(stamp) => format!(
            "INSERT INTO {s}.meta (key, value) VALUES ('environment', {}) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;\n",
            quote_literal(stamp)
        ),
        None => format!("DELETE FROM {s}.meta WHERE key = 'environment';\n"),
    });
    sql
}
