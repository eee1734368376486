//! Reading `trek.applied`, the current state of the database.

use postgres::Client;
use trek_core::Kind;

use super::meta::{parse_layout, Meta};
use crate::error::{Error, Result};
use crate::sql::quote_ident;

/// One row of `trek.applied`: something applied to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRow {
    /// Increases in the order things were applied.
    pub id: i64,
    /// Versioned migration, repeatable or seed.
    pub kind: Kind,
    /// The version as written in the file name; `None` for repeatables.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The checksum of the up script when it was applied.
    pub checksum: String,
    /// Whether a down script was captured when it was applied.
    pub has_down: bool,
    /// When it was applied (UTC, RFC 3339).
    pub applied_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// Whether a `no_transaction` migration broke halfway.
    pub failed: bool,
}

impl AppliedRow {
    /// A short label for messages: `0003 add_orders`, `seed 0001 demo`, `repeatable views`.
    pub fn label(&self) -> String {
        match (&self.version, self.kind) {
            (Some(v), Kind::Versioned) => format!("{v} {}", self.name),
            (Some(v), kind) => format!("{kind} {v} {}", self.name),
            (None, kind) => format!("{kind} {}", self.name),
        }
    }
}

/// The history as read in one round trip: trek's meta and every applied row in applied order.
#[derive(Debug, Clone)]
pub(crate) struct History {
    pub meta: Meta,
    pub rows: Vec<AppliedRow>,
}

/// Reads meta and `applied` in one query. When trek's tables do not exist yet, returns an
/// empty history with `meta.layout == None`.
pub(crate) fn load(client: &mut Client, schema: &str) -> Result<History> {
    let s = quote_ident(schema);
    let sql = format!(
        "SELECT m.layout, m.stamp, a.id, a.kind, a.version, a.name, a.checksum, \
                a.down_sql IS NOT NULL, \
                to_char(a.applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                a.duration_ms, a.failed \
         FROM (SELECT (SELECT value FROM {s}.meta WHERE key = 'layout_version') AS layout, \
                      (SELECT value FROM {s}.meta WHERE key = 'environment') AS stamp) m \
         LEFT JOIN {s}.applied a ON true \
         ORDER BY a.id"
    );
    let rows = match client.query_typed(&sql, &[]) {
        Ok(rows) => rows,
        Err(e) if is_missing_relation(&e) => {
            return Ok(History {
                meta: Meta {
                    layout: None,
                    stamp: None,
                },
                rows: Vec::new(),
            })
        }
        Err(e) => return Err(Error::db("could not read trek's history", e)),
    };
    let mut meta = Meta {
        layout: None,
        stamp: None,
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        meta.layout = parse_layout(row.get::<_, Option<&str>>(0)).or(Some(0));
        meta.stamp = row.get::<_, Option<String>>(1);
        let Some(id) = row.get::<_, Option<i64>>(2) else {
            continue;
        };
        let kind_text: String = row.get(3);
        out.push(AppliedRow {
            id,
            kind: Kind::from_db(&kind_text).unwrap_or(Kind::Versioned),
            version: row.get(4),
            name: row.get(5),
            checksum: row.get(6),
            has_down: row.get(7),
            applied_at: row.get::<_, Option<String>>(8).unwrap_or_default(),
            duration_ms: row.get(9),
            failed: row.get(10),
        });
    }
    Ok(History { meta, rows: out })
}

/// Reads the captured down scripts of the given rows.
pub(crate) fn down_scripts(
    client: &mut Client,
    schema: &str,
    ids: &[i64],
) -> Result<Vec<(i64, Option<String>)>> {
    let s = quote_ident(schema);
    let rows = client
        .query_typed(
            &format!("SELECT id, down_sql FROM {s}.applied WHERE id = ANY($1) ORDER BY id DESC"),
            &[(&ids, postgres::types::Type::INT8_ARRAY)],
        )
        .map_err(|e| Error::db("could not read captured down scripts", e))?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Reads the up scripts, as applied, of the given rows.
pub(crate) fn up_scripts(
    client: &mut Client,
    schema: &str,
    ids: &[i64],
) -> Result<Vec<(i64, String)>> {
    let s = quote_ident(schema);
    let rows = client
        .query_typed(
            &format!("SELECT id, up_sql FROM {s}.applied WHERE id = ANY($1)"),
            &[(&ids, postgres::types::Type::INT8_ARRAY)],
        )
        .map_err(|e| Error::db("could not read the applied scripts", e))?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Whether the error says trek's tables (or schema) do not exist.
pub(crate) fn is_missing_relation(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == postgres::error::SqlState::UNDEFINED_TABLE
            || *c == postgres::error::SqlState::INVALID_SCHEMA_NAME
    })
}
