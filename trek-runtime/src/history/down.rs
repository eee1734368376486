//! Captured down scripts: what trek stores of a migration's down when it applies it, and reads
//! back to revert it.
//!
//! A rewind runs the down **as it was when the migration was applied** (DESIGN §4), so it
//! matches the database rather than today's file. Beside the text, `trek.applied` keeps (layout
//! 4) the file it came from (`down_path`), whether it runs outside a transaction
//! (`down_no_transaction`: its own `-- trek:no_transaction`, or its up's), whether it holds no
//! statement at all (`down_irreversible`: the migration cannot be reverted), and, after a
//! non-transactional down failed halfway, how many of its statements already ran
//! (`reverted_statements`: the next revert continues after them).

use std::collections::HashMap;

use postgres::types::Type;
use postgres::Client;
use trek_core::{split, Kind, Migration};

use crate::error::{Error, Result};
use crate::sql::{quote_ident, quote_literal};

/// The `trek.applied` columns that record a migration's down, in the order of [`values_sql`].
pub(crate) const COLUMNS: &str = "down_sql, down_path, down_no_transaction, down_irreversible";

/// The SQL values of [`COLUMNS`] for `m`'s down (all `NULL`/`false` when it has none).
pub(crate) fn values_sql(m: &Migration) -> String {
    match m.down() {
        Some(down) => format!(
            "{}, {}, {}, {}",
            quote_literal(down.sql()),
            quote_literal(down.path()),
            m.down_outside_transaction(),
            down.is_irreversible()
        ),
        None => "NULL, NULL, NULL, false".to_owned(),
    }
}

/// A down script as captured when its migration was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CapturedDown {
    /// The text, as it was when the migration was applied.
    pub sql: String,
    /// The file it came from, relative to the migrations folder; `None` for rows written by a
    /// trek older than layout 4.
    pub path: Option<String>,
    /// Whether it runs statement by statement outside a transaction.
    pub outside_transaction: bool,
    /// How many of its statements ran before it failed halfway in an earlier revert (0 when
    /// it never did); the next revert starts after them.
    pub reverted_statements: usize,
}

impl CapturedDown {
    /// The part still to run: the statements after the first [`Self::reverted_statements`],
    /// and the byte offset where that part starts in [`Self::sql`].
    pub fn remaining(&self) -> (usize, &str) {
        if self.reverted_statements == 0 {
            return (0, &self.sql);
        }
        match split::split(&self.sql).get(self.reverted_statements) {
            Some(statement) => (statement.offset, &self.sql[statement.offset..]),
            None => (self.sql.len(), ""),
        }
    }

    /// How the error of a failed revert names the file: the down's path, or the migration's
    /// label for rows captured by an older trek.
    pub fn display_path(&self, label: &str) -> String {
        self.path
            .clone()
            .unwrap_or_else(|| format!("{label} (captured down script)"))
    }
}

/// Reads the captured downs of the given rows; a row without one maps to `None`.
///
/// # Errors
/// [`Error::Database`] when the query fails.
pub(crate) fn read(
    client: &mut Client,
    schema: &str,
    ids: &[i64],
) -> Result<HashMap<i64, Option<CapturedDown>>> {
    let s = quote_ident(schema);
    let rows = client
        .query_typed(
            &format!(
                "SELECT id, down_sql, down_path, down_no_transaction, \
                        coalesce(reverted_statements, 0) \
                 FROM {s}.applied WHERE id = ANY($1)"
            ),
            &[(&ids, Type::INT8_ARRAY)],
        )
        .map_err(|e| Error::db("could not read captured down scripts", e))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let down = r.get::<_, Option<String>>(1).map(|sql| {
                // Rows from before layout 4 say nothing: the down's own directive decides,
                // as it did then.
                let outside_transaction = r.get::<_, Option<bool>>(3).unwrap_or_else(|| {
                    trek_core::directive::parse(&sql, Kind::Versioned)
                        .is_ok_and(|d| d.no_transaction)
                });
                CapturedDown {
                    path: r.get(2),
                    outside_transaction,
                    reverted_statements: usize::try_from(r.get::<_, i32>(4)).unwrap_or(0),
                    sql,
                }
            });
            (id, down)
        })
        .collect())
}

/// The statement that records a down failed halfway: `ran` of its statements are done.
pub(crate) fn half_reverted_sql(schema: &str, id: i64, ran: usize) -> String {
    format!(
        "UPDATE {}.applied SET reverted_statements = {ran} WHERE id = {id};\n",
        quote_ident(schema)
    )
}

/// The statement that replaces row `id`'s captured down with `m`'s down as it is now,
/// keeping where a half-reverted down stopped only when the statements before that point are
/// unchanged.
pub(crate) fn refresh_sql(schema: &str, id: i64, m: &Migration, keep_progress: bool) -> String {
    let s = quote_ident(schema);
    let values = values_sql(m);
    let progress = if keep_progress {
        "reverted_statements"
    } else {
        "NULL"
    };
    format!(
        "UPDATE {s}.applied SET ({COLUMNS}, reverted_statements) = ({values}, {progress}) \
         WHERE id = {id};\n"
    )
}

/// Whether the statements a half-reverted down already ran are the same in `new`: then the
/// revert can go on from the same point with the refreshed text.
pub(crate) fn same_prefix(old: &CapturedDown, new: &str) -> bool {
    let n = old.reverted_statements;
    if n == 0 {
        return true;
    }
    let before: Vec<&str> = split::split(&old.sql)
        .iter()
        .take(n)
        .map(|s| s.text)
        .collect();
    let after: Vec<&str> = split::split(new).iter().take(n).map(|s| s.text).collect();
    before == after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(sql: &str, ran: usize) -> CapturedDown {
        CapturedDown {
            sql: sql.to_owned(),
            path: Some("2_idx.down.sql".to_owned()),
            outside_transaction: true,
            reverted_statements: ran,
        }
    }

    #[test]
    fn a_half_reverted_down_continues_after_the_statements_that_ran() {
        let down = captured(
            "DROP INDEX CONCURRENTLY a;\nDROP INDEX CONCURRENTLY b;\n",
            1,
        );
        let (offset, rest) = down.remaining();
        assert_eq!(rest, "DROP INDEX CONCURRENTLY b;\n");
        assert_eq!(&down.sql[offset..], rest);
        assert_eq!(captured("SELECT 1;", 0).remaining(), (0, "SELECT 1;"));
        assert_eq!(captured("SELECT 1;", 3).remaining().1, "");
    }

    #[test]
    fn a_refresh_keeps_the_progress_only_when_what_ran_is_unchanged() {
        let down = captured("DROP INDEX a;\nDROP INDEX typo;\n", 1);
        assert!(same_prefix(&down, "DROP INDEX a;\nDROP INDEX b;\n"));
        assert!(!same_prefix(
            &down,
            "DROP INDEX IF EXISTS a;\nDROP INDEX b;\n"
        ));
        assert!(same_prefix(&captured("x;", 0), "anything"));
    }
}
