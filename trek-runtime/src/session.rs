//! The caller's session state, given back after every script: whatever a script changes in
//! the session (`SET search_path`, `SET ROLE`, `set_config(.., false)`, timeouts) must not
//! reach the next script or the application that handed trek its client.
//!
//! trek reads the settings the session had made itself (`pg_settings.source = 'session'`)
//! before the first step of a run ([`capture`]) and appends [`CallerSession::restore_sql`] to the
//! message that records each script: `RESET` of the role, the session authorization and every
//! setting, then the caller's own settings again. Settings made at connection time (URL
//! `options`, role defaults) come back with `RESET` itself. Advisory locks, temporary tables,
//! SQL-level prepared statements (`PREPARE`) and `LISTEN` channels a script leaves behind
//! end with it; the caller's own are kept.

use postgres::Client;

use crate::error::{Error, Result};
use crate::sql::{quote_ident, quote_literal};

/// What the session holds, in six columns, and whether the database has enabled event
/// triggers (a seventh): `names` and `settings`, the settings it made with
/// `SET`, in the order they must be given back (the session authorization first, since
/// setting it resets the role, then the rest by name; trek's own
/// `client_connection_check_interval` is left out: trek sets it again itself); `advisory`,
/// `temp_tables`, `prepared` (SQL `PREPARE` only) and `listening`.
const CAPTURE_SQL: &str = "\
    SELECT s.names, s.settings, \
      (SELECT array_agg(format('%s:%s:%s:%s', classid, objid, objsubid, mode)) FROM pg_locks \
       WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted), \
      (SELECT array_agg(oid::text) FROM pg_class \
       WHERE relnamespace = pg_my_temp_schema() AND relkind IN ('r', 'p')), \
      (SELECT array_agg(name) FROM pg_prepared_statements WHERE from_sql), \
      (SELECT array_agg(c) FROM pg_listening_channels() c), \
      EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtenabled <> 'D') \
    FROM (SELECT array_agg(name ORDER BY name <> 'session_authorization', name) AS names, \
                 array_agg(setting ORDER BY name <> 'session_authorization', name) AS settings \
          FROM pg_settings \
          WHERE source = 'session' AND name <> 'client_connection_check_interval') s";

/// Reads what the caller's session holds (one round trip), before the first step of a run
/// that has any: a run with nothing to do never asks.
///
/// # Errors
/// [`Error::Database`] when the query fails.
pub(crate) fn capture(client: &mut Client) -> Result<CallerSession> {
    // `query_typed`: one unnamed statement, parsed and run in one message, as a transaction
    // pooler needs (a named statement may be prepared in one server session and run in another).
    let rows = client
        .query_typed(CAPTURE_SQL, &[])
        .map_err(|e| Error::db("could not read the session's settings", e))?;
    Ok(rows
        .first()
        .map(|row| CallerSession::from_row(row, 0))
        .unwrap_or_default())
}

/// The settings the caller's session had made when trek took it, and the session advisory
/// locks (trek's own included), temporary tables, SQL-level prepared statements and `LISTEN`
/// channels it held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CallerSession {
    settings: Vec<(String, String)>,
    /// `classid:objid:objsubid:mode` of each advisory lock held.
    advisory: Vec<String>,
    /// The oids of its temporary tables.
    temp_tables: Vec<String>,
    /// The names of the statements it had prepared with SQL `PREPARE` (protocol-level
    /// statements, such as a driver's cache, are never touched).
    prepared: Vec<String>,
    /// The channels it was listening on.
    listening: Vec<String>,
    /// Whether the database has an enabled event trigger: then even a declaration runs code
    /// of the database's own ([`trek_core::declarative`]).
    pub event_triggers: bool,
}

impl CallerSession {
    /// From the seven columns of [`CAPTURE_SQL`], the first at `first`.
    fn from_row(row: &postgres::Row, first: usize) -> Self {
        let column = |i: usize| -> Vec<String> {
            row.get::<_, Option<Vec<String>>>(first + i)
                .unwrap_or_default()
        };
        CallerSession {
            settings: column(0).into_iter().zip(column(1)).collect(),
            advisory: column(2),
            temp_tables: column(3),
            prepared: column(4),
            listening: column(5),
            event_triggers: row.get::<_, Option<bool>>(first + 6).unwrap_or(true),
        }
    }

    /// Statements (each ending in `;\n`, outside any transaction) that put the session back
    /// as the caller had it, with trek's own dead-client check (PostgreSQL 14+) on again, and
    /// end what the script left ([`END_SCRIPT_FUNCTION`], in trek's schema `schema`). trek's
    /// advisory lock (`lock_key`) is never released here, even when it was not seen at capture
    /// time (behind a transaction-pooling proxy the capture may run in another server
    /// session).
    pub fn restore_sql(&self, schema: &str, lock_key: i64) -> String {
        let array = |items: &mut dyn Iterator<Item = &String>| {
            let quoted: Vec<String> = items.map(|k| quote_literal(k)).collect();
            format!("ARRAY[{}]::text[]", quoted.join(", "))
        };
        let trek_lock = advisory_id(lock_key);
        format!(
            "RESET SESSION AUTHORIZATION;\nRESET ROLE;\nRESET ALL;\n\
             SELECT {}.end_script({}, {}, {}, {}, {}, {});\n",
            quote_ident(schema),
            array(&mut self.settings.iter().map(|(n, _)| n)),
            array(&mut self.settings.iter().map(|(_, v)| v)),
            array(&mut self.advisory.iter().chain(std::iter::once(&trek_lock))),
            array(&mut self.temp_tables.iter()),
            array(&mut self.prepared.iter()),
            array(&mut self.listening.iter()),
        )
    }
}

/// The function (in trek's schema, created with its tables: layout 7) that ends what a script
/// left in its session, after the `RESET`s of [`CallerSession::restore_sql`]: it gives the
/// caller's own settings back (`setting_names`/`setting_values`, in order), turns trek's
/// dead-client check on again (PostgreSQL 14+), and ends the session advisory locks the
/// script took (however many times), its temporary tables, the statements it `PREPARE`d and
/// the channels it `LISTEN`s to; whatever is in the arrays given (what the caller held, and
/// trek's own lock) stays. PL/pgSQL compiles a function once per session and keeps the plans
/// of its queries, where a `DO` block or separate statements are parsed and planned at every
/// script: this keeps the end of a script to one statement and a fraction of a millisecond.
/// The temporary tables are only looked for when the session has a temporary schema.
pub(crate) const END_SCRIPT_FUNCTION: &str = "\
DROP FUNCTION IF EXISTS {s}.end_script_session(text[], text[], text[], text[]);
CREATE OR REPLACE FUNCTION {s}.end_script(
    setting_names text[], setting_values text[],
    held_locks text[], temp_tables text[], prepared text[], listening text[]
) RETURNS void LANGUAGE plpgsql AS $trek$
DECLARE
    l record;
    t regclass;
    n text;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(setting_names), 0) LOOP
        PERFORM set_config(setting_names[i], setting_values[i], false);
    END LOOP;
    IF current_setting('server_version_num')::int >= 140000 THEN
        PERFORM set_config('client_connection_check_interval', '1000', false);
    END IF;
    FOR l IN SELECT classid::bigint AS c, objid::bigint AS o, objsubid AS k, mode,
                    (classid::bigint - CASE WHEN classid::bigint >= 2147483648 THEN 4294967296 ELSE 0 END)::int AS c4,
                    (objid::bigint - CASE WHEN objid::bigint >= 2147483648 THEN 4294967296 ELSE 0 END)::int AS o4
             FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted
               AND format('%s:%s:%s:%s', classid, objid, objsubid, mode) <> ALL (held_locks) LOOP
        IF l.k = 1 AND l.mode = 'ExclusiveLock' THEN
            WHILE pg_advisory_unlock((l.c << 32) | l.o) LOOP END LOOP;
        ELSIF l.k = 1 THEN
            WHILE pg_advisory_unlock_shared((l.c << 32) | l.o) LOOP END LOOP;
        ELSIF l.mode = 'ExclusiveLock' THEN
            WHILE pg_advisory_unlock(l.c4, l.o4) LOOP END LOOP;
        ELSE
            WHILE pg_advisory_unlock_shared(l.c4, l.o4) LOOP END LOOP;
        END IF;
    END LOOP;
    IF pg_my_temp_schema() <> 0 THEN
        FOR t IN SELECT oid::regclass FROM pg_class
                 WHERE relnamespace = pg_my_temp_schema() AND relkind IN ('r', 'p')
                   AND oid::text <> ALL (temp_tables) LOOP
            EXECUTE format('DROP TABLE IF EXISTS %s CASCADE', t);
        END LOOP;
    END IF;
    FOR n IN SELECT name FROM pg_prepared_statements
             WHERE from_sql AND name <> ALL (prepared) LOOP
        EXECUTE format('DEALLOCATE %I', n);
    END LOOP;
    FOR n IN SELECT c FROM pg_listening_channels() c WHERE c <> ALL (listening) LOOP
        EXECUTE format('UNLISTEN %I', n);
    END LOOP;
END
$trek$;";

/// A bigint session advisory lock as `pg_locks` shows it (`classid:objid:objsubid:mode`): the
/// high 32 bits in `classid`, the low ones in `objid`, `objsubid` 1.
fn advisory_id(key: i64) -> String {
    let bits = key as u64;
    format!("{}:{}:1:ExclusiveLock", bits >> 32, bits & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_settings_come_back_in_order_after_a_reset() {
        let session = CallerSession {
            settings: vec![
                ("session_authorization".into(), "app".into()),
                ("search_path".into(), "it's, public".into()),
            ],
            ..CallerSession::default()
        };
        let sql = session.restore_sql("trek", 1);
        assert!(sql.starts_with("RESET SESSION AUTHORIZATION;\nRESET ROLE;\nRESET ALL;\n"));
        assert!(
            sql.contains("ARRAY[E'session_authorization', E'search_path']"),
            "{sql}"
        );
        assert!(
            sql.contains("'it''s, public'") || sql.contains("E'it\\'s, public'"),
            "{sql}"
        );
        let none = CallerSession::default().restore_sql("trek", 1);
        assert!(
            none.contains(
                "SELECT \"trek\".end_script(ARRAY[]::text[], ARRAY[]::text[], \
                 ARRAY[E'0:1:1:ExclusiveLock']::text[]"
            ),
            "{none}"
        );
    }

    #[test]
    fn a_bigint_lock_key_reads_as_pg_locks_shows_it() {
        assert_eq!(advisory_id(1), "0:1:1:ExclusiveLock");
        assert_eq!(advisory_id(-1), "4294967295:4294967295:1:ExclusiveLock");
        assert_eq!(advisory_id(0x0000_0002_0000_0003), "2:3:1:ExclusiveLock");
    }
}
