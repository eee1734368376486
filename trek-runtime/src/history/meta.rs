//! Creating and upgrading trek's tables, and reading the environment stamp.

use postgres::Client;

use crate::error::{Error, Result};
use crate::sql::{quote_ident, quote_literal};

/// The layout of trek's tables this trek writes. Each step in [`UPGRADES`] moves one layout up.
pub const LAYOUT_VERSION: u32 = 7;

/// SQL that takes an empty schema (or one at layout `n`) to layout `n + 1`; index `n`.
const UPGRADES: &[&str] = &[
    // 0 → 1: the first layout.
    "CREATE TABLE IF NOT EXISTS {s}.meta (
        key text PRIMARY KEY,
        value text NOT NULL
    );
    CREATE TABLE IF NOT EXISTS {s}.applied (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('versioned', 'repeatable', 'seed')),
        version text,
        name text NOT NULL,
        checksum text NOT NULL,
        up_sql text NOT NULL,
        down_sql text,
        applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        duration_ms bigint NOT NULL DEFAULT 0,
        failed boolean NOT NULL DEFAULT false,
        path text,
        workflow text,
        trek_version text
    );
    CREATE TABLE IF NOT EXISTS {s}.audit (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        action text NOT NULL,
        kind text,
        version text,
        name text,
        outcome text NOT NULL,
        error text,
        detail text,
        duration_ms bigint,
        workflow text,
        db_user text NOT NULL DEFAULT current_user,
        client text,
        trek_version text NOT NULL
    );",
    // 1 → 2: the qa snapshot catalogue. Like the audit log, it is carried across every
    // restore, so it always describes every snapshot that exists.
    "CREATE TABLE IF NOT EXISTS {s}.snapshots (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        taken_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        strategy text NOT NULL,
        location text NOT NULL,
        applied text[] NOT NULL,
        label text NOT NULL,
        size_bytes bigint,
        workflow text
    );",
    // 2 → 3: the restore and delete commands of a `command` or `restore_point` snapshot, as
    // configured when it was taken, so it is restored and pruned by the strategy that made it
    // whatever the configuration says later.
    "ALTER TABLE {s}.snapshots ADD COLUMN IF NOT EXISTS restore_command text;
    ALTER TABLE {s}.snapshots ADD COLUMN IF NOT EXISTS delete_command text;",
    // 3 → 4: what trek knows of a captured down script besides its text (history/down.rs):
    // the file it came from, whether it runs outside a transaction (its own directive or its
    // up's), whether it holds no statement (irreversible), and how many of its statements ran
    // before it failed halfway.
    "ALTER TABLE {s}.applied ADD COLUMN IF NOT EXISTS down_path text;
    ALTER TABLE {s}.applied ADD COLUMN IF NOT EXISTS down_no_transaction boolean;
    ALTER TABLE {s}.applied ADD COLUMN IF NOT EXISTS down_irreversible boolean NOT NULL DEFAULT false;
    ALTER TABLE {s}.applied ADD COLUMN IF NOT EXISTS reverted_statements integer;",
    // 4 → 5: an up script above `STORED_SCRIPT_LIMIT` is recorded by its checksum alone
    // (`up_sql` NULL), and dumps leave the bodies out.
    "ALTER TABLE {s}.applied ALTER COLUMN up_sql DROP NOT NULL;",
    // 5 → 6: a first function that ended what a script left in its session, replaced (and
    // dropped) by layout 7.
    "-- end_script_session, dropped by layout 7",
    // 6 → 7: one function that ends what a script left in its session (session.rs), one that
    // records an applied script and its audit row (apply.rs): called once per script, with
    // their query plans kept for the session.
    "{end_script}\n{record_apply}",
];

/// The state of trek's schema as read at the start of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Layout version found; `None` when trek's tables do not exist yet.
    pub layout: Option<u32>,
    /// The workflow that first claimed this database.
    pub stamp: Option<crate::Workflow>,
}

/// Creates trek's schema and tables, or upgrades them to [`LAYOUT_VERSION`], in one
/// transaction, and stamps the database with `stamp` when it has no stamp yet.
/// Call with trek's advisory lock held.
pub(crate) fn ensure(
    client: &mut Client,
    schema: &str,
    found: Option<u32>,
    stamp: Option<&str>,
) -> Result<()> {
    let s = quote_ident(schema);
    let from = found.unwrap_or(0);
    if from > LAYOUT_VERSION {
        return Err(Error::NewerLayout {
            schema: schema.to_owned(),
            found: from,
            supported: LAYOUT_VERSION,
        });
    }
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(&steps_sql(schema, from));
    if let Some(stamp) = stamp {
        sql.push_str(&format!(
            "INSERT INTO {s}.meta (key, value) VALUES ('environment', {})
               ON CONFLICT (key) DO NOTHING;\n",
            quote_literal(stamp)
        ));
    }
    sql.push_str("COMMIT;");
    client.batch_execute(&sql).map_err(|e| {
        let _ = client.batch_execute("ROLLBACK");
        Error::db(
            format!("could not create trek's tables in schema `{schema}`"),
            e,
        )
    })?;
    tracing::info!(schema, from, to = LAYOUT_VERSION, "trek's tables are ready");
    Ok(())
}

/// Statements (each ending in `;\n`) that take trek's schema from layout `from` to
/// [`LAYOUT_VERSION`] and record it.
fn steps_sql(schema: &str, from: u32) -> String {
    let s = quote_ident(schema);
    let mut sql = format!("CREATE SCHEMA IF NOT EXISTS {s};\n");
    for step in UPGRADES.iter().skip(from as usize) {
        let step = step
            .replace("{end_script}", crate::session::END_SCRIPT_FUNCTION)
            .replace("{record_apply}", crate::apply::RECORD_FUNCTION);
        sql.push_str(&step.replace("{s}", &s));
        sql.push('\n');
    }
    sql.push_str(&format!(
        "INSERT INTO {s}.meta (key, value) VALUES ('layout_version', {layout})
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;\n",
        layout = quote_literal(&LAYOUT_VERSION.to_string()),
    ));
    sql
}

/// Statements that bring trek's tables, at whatever layout, to [`LAYOUT_VERSION`]: every
/// step is idempotent, so all of them run. For a restored database, whose layout is that of
/// the snapshot.
pub(crate) fn upgrade_sql(schema: &str) -> String {
    steps_sql(schema, 0)
}

/// Parses the stored layout version.
pub(crate) fn parse_layout(value: Option<&str>) -> Option<u32> {
    value.map(|v| v.trim().parse().unwrap_or(u32::MAX))
}
