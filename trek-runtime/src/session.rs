//! The caller's session state, given back after every script: whatever a script changes in
//! the session (`SET search_path`, `SET ROLE`, `set_config(.., false)`, timeouts) must not
//! reach the next script or the application that handed trek its client.
//!
//! trek reads the settings the session had made itself (`pg_settings.source = 'session'`)
//! with the history (no extra round trip) and appends [`CallerSession::restore_sql`] to the
//! message that records each script: `RESET` of the role, the session authorization and every
//! setting, then the caller's own settings again. Settings made at connection time (URL
//! `options`, role defaults) come back with `RESET` itself.

use crate::sql::quote_literal;

/// SQL (two columns, `names` and `settings`) for the settings the session made with `SET`,
/// in the order they must be given back: the session authorization first (setting it resets
/// the role), then the rest by name. trek's own `client_connection_check_interval` is left
/// out: trek sets it again itself.
pub(crate) const CAPTURE_SQL: &str = "\
    (SELECT array_agg(name ORDER BY name <> 'session_authorization', name) FROM pg_settings \
     WHERE source = 'session' AND name <> 'client_connection_check_interval') AS names, \
    (SELECT array_agg(setting ORDER BY name <> 'session_authorization', name) FROM pg_settings \
     WHERE source = 'session' AND name <> 'client_connection_check_interval') AS settings, \
    (SELECT array_agg(format('%s:%s:%s:%s', classid, objid, objsubid, mode)) FROM pg_locks \
     WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted) AS advisory, \
    (SELECT array_agg(oid::text) FROM pg_class \
     WHERE relnamespace = pg_my_temp_schema() AND relkind IN ('r', 'p')) AS temp_tables";

/// The settings the caller's session had made when trek took it, and the session advisory
/// locks (trek's own included) and temporary tables it held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CallerSession {
    settings: Vec<(String, String)>,
    /// `classid:objid:objsubid:mode` of each advisory lock held.
    advisory: Vec<String>,
    /// The oids of its temporary tables.
    temp_tables: Vec<String>,
}

impl CallerSession {
    /// From the captured columns.
    pub fn new(
        names: Vec<String>,
        settings: Vec<String>,
        advisory: Vec<String>,
        temp_tables: Vec<String>,
    ) -> Self {
        CallerSession {
            settings: names.into_iter().zip(settings).collect(),
            advisory,
            temp_tables,
        }
    }

    /// Statements (each ending in `;\n`, outside any transaction) that put the session back
    /// as the caller had it, with trek's own dead-client check (PostgreSQL 14+) on again.
    pub fn restore_sql(&self) -> String {
        let mut sql = String::from("RESET SESSION AUTHORIZATION;\nRESET ROLE;\nRESET ALL;\n");
        if !self.settings.is_empty() {
            let names: Vec<String> = self
                .settings
                .iter()
                .map(|(n, _)| quote_literal(n))
                .collect();
            let values: Vec<String> = self
                .settings
                .iter()
                .map(|(_, v)| quote_literal(v))
                .collect();
            sql.push_str(&format!(
                "SELECT set_config(n, v, false) FROM unnest(ARRAY[{}]::text[], ARRAY[{}]::text[]) \
                 AS s(n, v);\n",
                names.join(", "),
                values.join(", ")
            ));
        }
        sql.push_str(crate::lock::CHECK_INTERVAL_SQL);
        // Session advisory locks a script took (not the caller's, not trek's), and temporary
        // tables it created, end with it.
        let held: Vec<String> = self.advisory.iter().map(|k| quote_literal(k)).collect();
        sql.push_str(&format!(
            "DO $trek$ DECLARE l record; BEGIN \
               FOR l IN SELECT classid::bigint AS c, objid::bigint AS o, objsubid AS k, mode, \
                               (classid::bigint - CASE WHEN classid::bigint >= 2147483648 THEN 4294967296 ELSE 0 END)::int AS c4, \
                               (objid::bigint - CASE WHEN objid::bigint >= 2147483648 THEN 4294967296 ELSE 0 END)::int AS o4 \
                        FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' \
                          AND granted AND format('%s:%s:%s:%s', classid, objid, objsubid, mode) \
                              <> ALL (ARRAY[{}]::text[]) LOOP \
                 IF l.k = 1 AND l.mode = 'ExclusiveLock' THEN \
                   WHILE pg_advisory_unlock((l.c << 32) | l.o) LOOP END LOOP; \
                 ELSIF l.k = 1 THEN \
                   WHILE pg_advisory_unlock_shared((l.c << 32) | l.o) LOOP END LOOP; \
                 ELSIF l.mode = 'ExclusiveLock' THEN \
                   WHILE pg_advisory_unlock(l.c4, l.o4) LOOP END LOOP; \
                 ELSE \
                   WHILE pg_advisory_unlock_shared(l.c4, l.o4) LOOP END LOOP; \
                 END IF; \
               END LOOP; END $trek$;\n",
            held.join(", ")
        ));
        let temp: Vec<String> = self.temp_tables.iter().map(|o| quote_literal(o)).collect();
        sql.push_str(&format!(
            "DO $trek$ DECLARE t regclass; BEGIN \
               FOR t IN SELECT oid::regclass FROM pg_class \
                        WHERE relnamespace = pg_my_temp_schema() AND relkind IN ('r', 'p') \
                          AND oid::text <> ALL (ARRAY[{}]::text[]) LOOP \
                 EXECUTE format('DROP TABLE IF EXISTS %s CASCADE', t); \
               END LOOP; END $trek$;\n",
            temp.join(", ")
        ));
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_settings_come_back_in_order_after_a_reset() {
        let session = CallerSession::new(
            vec!["session_authorization".into(), "search_path".into()],
            vec!["app".into(), "it's, public".into()],
            Vec::new(),
            Vec::new(),
        );
        let sql = session.restore_sql();
        assert!(sql.starts_with("RESET SESSION AUTHORIZATION;\nRESET ROLE;\nRESET ALL;\n"));
        assert!(
            sql.contains("ARRAY[E'session_authorization', E'search_path']"),
            "{sql}"
        );
        assert!(
            sql.contains("'it''s, public'") || sql.contains("E'it\\'s, public'"),
            "{sql}"
        );
        let none = CallerSession::default().restore_sql();
        assert!(!none.contains("set_config(n"));
    }
}
