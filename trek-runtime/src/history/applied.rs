//! Reading `trek.applied`, the current state of the database. Rows are parsed here, once,
//! into typed values; a row that does not parse is an error naming the row.

use postgres::Client;
use trek_core::{Checksum, Kind, Version};

use super::meta::{parse_layout, Meta};
use crate::error::{Error, Result};
use crate::sql::quote_ident;
use crate::timestamp::Timestamp;
use crate::Workflow;

/// One row of `trek.applied`: something applied to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRow {
    /// Increases in the order things were applied.
    pub id: i64,
    /// Versioned migration, repeatable or seed.
    pub kind: Kind,
    /// The version from the file name; `None` for repeatables.
    pub version: Option<Version>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The checksum of the up script when it was applied.
    pub checksum: Checksum,
    /// Whether a down script that can revert it was captured when it was applied.
    pub has_down: bool,
    /// Whether its captured down holds no statement: it cannot be reverted (`down` refuses,
    /// dev resets).
    pub irreversible: bool,
    /// After its non-transactional down failed halfway: how many of the down's statements ran
    /// (they stay done); the next revert continues after them. 0 otherwise.
    pub reverted_statements: u32,
    /// When it was applied.
    pub applied_at: Timestamp,
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
///
/// # Errors
/// [`Error::Database`] when the query fails; [`Error::BadHistory`] naming the row (or the
/// meta key) whose value trek cannot read.
pub(crate) fn load(client: &mut Client, schema: &str) -> Result<History> {
    match load_with(client, schema, DOWN_COLUMNS) {
        // Tables of a layout before 4, not upgraded yet (status reads without upgrading).
        Err(Error::Database { source, .. })
            if source.code() == Some(&postgres::error::SqlState::UNDEFINED_COLUMN) =>
        {
            load_with(client, schema, DOWN_COLUMNS_BEFORE_LAYOUT_4)
        }
        other => other,
    }
}

/// What the history reads of each row's captured down: whether one can revert it, whether it
/// is irreversible, how many of its statements ran.
const DOWN_COLUMNS: &str = "a.down_sql IS NOT NULL AND NOT a.down_irreversible, \
     a.down_irreversible, coalesce(a.reverted_statements, 0)";

/// [`DOWN_COLUMNS`] for tables of a layout before 4, which knew none of it.
const DOWN_COLUMNS_BEFORE_LAYOUT_4: &str = "a.down_sql IS NOT NULL, false, 0";

fn load_with(client: &mut Client, schema: &str, down_columns: &str) -> Result<History> {
    let s = quote_ident(schema);
    let sql = format!(
        "SELECT m.layout, m.stamp, a.id, a.kind, a.version, a.name, a.checksum, \
                {down_columns}, \
                (extract(epoch FROM a.applied_at) * 1000)::bigint, \
                a.duration_ms, a.failed \
         FROM (SELECT (SELECT value FROM {s}.meta WHERE key = 'layout_version') AS layout, \
                      (SELECT value FROM {s}.meta WHERE key = 'environment') AS stamp) m \
         LEFT JOIN {s}.applied a ON true \
         ORDER BY a.id",
    );
    let rows = match client.query_typed(&sql, &[]) {
        Ok(rows) => rows,
        Err(e) if is_missing_relation(&e) => {
            return Ok(History {
                meta: Meta::default(),
                rows: Vec::new(),
            })
        }
        Err(e) => return Err(Error::db("could not read trek's history", e)),
    };
    let mut meta = Meta::default();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        meta.layout = parse_layout(row.get::<_, Option<&str>>(0)).or(Some(0));
        meta.stamp = parse_stamp(schema, row.get::<_, Option<&str>>(1))?;
        let Some(id) = row.get::<_, Option<i64>>(2) else {
            continue;
        };
        out.push(parse_row(
            schema,
            RawRow {
                id,
                kind: row.get(3),
                version: row.get(4),
                name: row.get(5),
                checksum: row.get(6),
                has_down: row.get(7),
                irreversible: row.get(8),
                reverted_statements: row.get(9),
                applied_at_ms: row.get(10),
                duration_ms: row.get(11),
                failed: row.get(12),
            },
        )?);
    }
    Ok(History { meta, rows: out })
}

/// A row as the database returns it, before parsing.
struct RawRow<'a> {
    id: i64,
    kind: &'a str,
    version: Option<&'a str>,
    name: String,
    checksum: &'a str,
    has_down: bool,
    irreversible: bool,
    reverted_statements: i32,
    applied_at_ms: i64,
    duration_ms: i64,
    failed: bool,
}

/// Parses one row; the error names the row and the column.
fn parse_row(schema: &str, raw: RawRow<'_>) -> Result<AppliedRow> {
    let bad = |column: &str, reason: String| Error::BadHistory {
        table: format!("{schema}.applied"),
        row: format!("id {}", raw.id),
        column: column.to_owned(),
        reason,
    };
    let kind = Kind::from_db(raw.kind).ok_or_else(|| {
        bad(
            "kind",
            format!("{:?} is not versioned, repeatable or seed", raw.kind),
        )
    })?;
    let version = match (kind, raw.version) {
        (Kind::Repeatable, _) => None,
        (_, None) => return Err(bad("version", format!("a {kind} needs a version"))),
        (_, Some(text)) => {
            Some(Version::parse(text).map_err(|e| bad("version", format!("{text:?}: {e}")))?)
        }
    };
    let checksum = Checksum::parse_stored(raw.checksum).map_err(|e| bad("checksum", e))?;
    Ok(AppliedRow {
        id: raw.id,
        kind,
        version,
        name: raw.name,
        checksum,
        has_down: raw.has_down,
        irreversible: raw.irreversible,
        reverted_statements: u32::try_from(raw.reverted_statements).unwrap_or(0),
        applied_at: Timestamp::from_unix_ms(raw.applied_at_ms),
        duration_ms: raw.duration_ms,
        failed: raw.failed,
    })
}

/// Parses the environment stamp of `trek.meta`.
fn parse_stamp(schema: &str, value: Option<&str>) -> Result<Option<Workflow>> {
    value
        .map(|text| {
            text.parse()
                .map_err(|e: crate::workflow::UnknownWorkflow| Error::BadHistory {
                    table: format!("{schema}.meta"),
                    row: "key environment".to_owned(),
                    column: "value".to_owned(),
                    reason: e.to_string(),
                })
        })
        .transpose()
}

/// Reads the up scripts, as applied, of the given rows (`None` for a script recorded by its
/// checksum alone: see [`crate::history::STORED_SCRIPT_LIMIT`]).
pub(crate) fn up_scripts(
    client: &mut Client,
    schema: &str,
    ids: &[i64],
) -> Result<Vec<(i64, Option<String>)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(kind: &'a str, version: Option<&'a str>, checksum: &'a str) -> RawRow<'a> {
        RawRow {
            id: 7,
            kind,
            version,
            name: "x".to_owned(),
            checksum,
            has_down: false,
            irreversible: false,
            reverted_statements: 0,
            applied_at_ms: 0,
            duration_ms: 0,
            failed: false,
        }
    }

    #[test]
    fn a_good_row_is_parsed_into_typed_values() {
        let row = parse_row("trek", raw("versioned", Some("0002"), "sha256:ab")).unwrap();
        assert_eq!(row.version, Some(Version::parse("2").unwrap()));
        assert_eq!(row.checksum.algorithm(), "sha256");
        assert_eq!(row.applied_at.to_string(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn a_row_that_does_not_parse_is_an_error_naming_the_row_and_column() {
        for (raw, column) in [
            (raw("migration", Some("1"), "sha256:ab"), "kind"),
            (raw("versioned", Some("one"), "sha256:ab"), "version"),
            (raw("seed", None, "sha256:ab"), "version"),
            (raw("versioned", Some("1"), "ab"), "checksum"),
        ] {
            let err = parse_row("trek", raw).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(&err, Error::BadHistory { column: c, row, .. } if c == column && row == "id 7"),
                "{text}"
            );
            assert!(
                text.contains("trek.applied") && text.contains("id 7"),
                "{text}"
            );
        }
    }

    #[test]
    fn an_unknown_stamp_is_an_error() {
        assert_eq!(parse_stamp("trek", Some("qa")).unwrap(), Some(Workflow::Qa));
        assert_eq!(parse_stamp("trek", None).unwrap(), None);
        assert!(matches!(
            parse_stamp("trek", Some("staging")),
            Err(Error::BadHistory { .. })
        ));
    }
}
