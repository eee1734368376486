//! Running scripts against the database with the right transaction control.
//!
//! A transactional script is sent as one simple-query message, `BEGIN; <timeouts>; <script>;
//! <history row>; <audit row>; COMMIT;`, so applying a migration costs one round trip and the
//! migration and its history row commit together or not at all. A `no_transaction` script is
//! sent statement by statement (PostgreSQL runs a multi-statement message as one implicit
//! transaction, which `CREATE INDEX CONCURRENTLY` refuses), and recorded afterwards; if a
//! statement fails, the script is recorded as `failed`.

use std::time::{Duration, Instant};

use postgres::Client;
use trek_core::{split::split, Directives, Kind, Migration};

use crate::db_error::SqlFailure;
use crate::error::{Error, Result, Script};
use crate::history::audit::{Action, AuditRecord};
use crate::history::down::{self, CapturedDown};
use crate::history::AppliedRow;
use crate::report::Step;
use crate::sql::{quote_ident, quote_literal, quote_nullable};
use crate::Workflow;

/// SQL for the time since the current transaction began, in milliseconds: the duration of
/// work that ran in the same transaction before it.
pub(crate) const TRANSACTION_MS_SQL: &str =
    "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint";

/// SQL for the time since the current message arrived, in milliseconds: the duration of the
/// script that ran before it in the same message.
const ELAPSED_MS_SQL: &str =
    "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::bigint";

/// The function (in trek's schema, created with its tables: layout 7) that records an applied
/// script: its `applied` row (replacing a repeatable's previous one) and, when `audit`, its
/// `audit` row, whose outcome is `failure` when `error` is given; it returns the duration
/// recorded (ms). One call per script, with
/// the plans of its `INSERT`s kept for the session, instead of two statements parsed and
/// planned at every script. It runs with the caller's rights, as the `INSERT`s would.
pub(crate) const RECORD_FUNCTION: &str = "\
DROP FUNCTION IF EXISTS {s}.record_apply(text, text, text, text, text, text, text, boolean,
    boolean, bigint, boolean, text, text, text, text, text, boolean);
CREATE FUNCTION {s}.record_apply(
    p_kind text, p_version text, p_name text, p_checksum text, p_up_sql text,
    p_down_sql text, p_down_path text, p_down_no_transaction boolean, p_down_irreversible boolean,
    p_duration_ms bigint, p_failed boolean, p_path text, p_workflow text, p_trek_version text,
    p_client text, p_error text, p_audit boolean
) RETURNS bigint LANGUAGE plpgsql AS $trek$
BEGIN
    IF p_kind = 'repeatable' THEN
        DELETE FROM {s}.applied WHERE kind = 'repeatable' AND name = p_name;
    END IF;
    INSERT INTO {s}.applied (kind, version, name, checksum, up_sql, down_sql, down_path,
                             down_no_transaction, down_irreversible, duration_ms, failed, path,
                             workflow, trek_version)
    VALUES (p_kind, p_version, p_name, p_checksum, p_up_sql, p_down_sql, p_down_path,
            p_down_no_transaction, p_down_irreversible, p_duration_ms, p_failed, p_path,
            p_workflow, p_trek_version);
    IF p_audit THEN
        INSERT INTO {s}.audit (action, kind, version, name, outcome, error, detail, duration_ms,
                               workflow, client, trek_version)
        VALUES ('apply', p_kind, p_version, p_name,
                CASE WHEN p_error IS NULL THEN 'success' ELSE 'failure' END, p_error, NULL,
                p_duration_ms, p_workflow, p_client, p_trek_version);
    END IF;
    RETURN p_duration_ms;
END
$trek$;";

/// Runs scripts and writes their history and audit rows.
#[derive(Debug, Clone)]
pub(crate) struct Executor<'a> {
    pub schema: &'a str,
    pub workflow: Option<Workflow>,
    pub client_label: &'a str,
    /// Statements that give the caller's session state back, sent right after each script and
    /// before trek records it, so a script's `SET ROLE` or `search_path` neither breaks trek's
    /// bookkeeping nor reaches the next script or the caller
    /// ([`crate::session::CallerSession::restore_sql`]); empty outside a run.
    pub restore_session: &'a str,
}

/// Where the script sits in the message sent, to map PostgreSQL's error position to the file.
struct Sent<'s> {
    path: &'s str,
    script: &'s str,
    char_offset: usize,
    /// When one statement of the script was sent alone: its byte offset in the script and its
    /// text.
    statement: Option<(usize, &'s str)>,
}

impl Executor<'_> {
    /// Applies one script with its own transaction control (its own transaction, or none when
    /// it is `no_transaction`).
    pub fn apply(&self, client: &mut Client, m: &Migration) -> Result<Step> {
        if m.directives().no_transaction {
            self.apply_without_transaction(client, m)
        } else {
            self.apply_in_transaction(client, m)
        }
    }

    fn apply_in_transaction(&self, client: &mut Client, m: &Migration) -> Result<Step> {
        if m.sql().len() > crate::history::STORED_SCRIPT_LIMIT {
            return self.apply_large_in_transaction(client, m);
        }
        let started = Instant::now();
        let mut message = String::with_capacity(m.sql().len() * 2 + 1024);
        message.push_str("BEGIN;\n");
        message.push_str(&set_timeouts(m.directives(), Scope::Local));
        let char_offset = message.chars().count();
        message.push_str(m.sql());
        message.push_str("\n;\n");
        message.push_str(self.restore_session);
        message.push_str(&self.record_sql(m, false, ELAPSED_MS_SQL, None));
        message.push_str("COMMIT;");
        let sent = Sent {
            path: m.path(),
            script: m.sql(),
            char_offset,
            statement: None,
        };
        match client.batch_execute(&message) {
            Ok(()) => Ok(self.finished(m, started.elapsed())),
            Err(e) => Err(self.fail_in_transaction(client, m, &sent, e, started.elapsed(), true)),
        }
    }

    /// Applies consecutive transactional scripts ([`batchable`]), each in its own transaction
    /// as [`Executor::apply`] would, but several to a message: `BEGIN; script; end of script;
    /// record; COMMIT;` one after the other. A script whose `quiet` entry is true (a
    /// declaration, [`trek_core::declarative`], on a database without event triggers) skips
    /// the end of script: it cannot have changed the session. PostgreSQL commits each block as it reaches its
    /// `COMMIT` and stops at the first error, so what ran before a failure stays, as with one
    /// message per script, and a run of many small migrations costs one round trip per batch
    /// instead of one per script (the time between messages is most of what a small migration
    /// costs on a remote server).
    ///
    /// Returns the steps applied, in order, and the error of the first script that failed:
    /// the scripts committed before it are found in the history, and the failing one is run
    /// again alone (its transaction was rolled back), so its error is reported, located and
    /// recorded exactly as [`Executor::apply`] does. Durations are the database's
    /// (`trek.applied.duration_ms`).
    pub fn apply_batch(
        &self,
        client: &mut Client,
        scripts: &[&Migration],
        quiet: &[bool],
    ) -> (Vec<Step>, Result<()>) {
        debug_assert!(scripts.iter().all(|m| batchable(m)));
        let started = Instant::now();
        // Every transaction of one message starts, for PostgreSQL, when the message arrived
        // (`now()`), so a script's time runs from the later of that and the previous script's
        // record (its `applied_at`), not from `now()`, which would add up the scripts before it.
        let since_previous = format!(
            "(extract(epoch FROM clock_timestamp() - greatest(now(), \
             (SELECT applied_at FROM {}.applied ORDER BY id DESC LIMIT 1))) * 1000)::bigint",
            quote_ident(self.schema)
        );
        let mut message =
            String::with_capacity(scripts.iter().map(|m| m.sql().len() * 2 + 1024).sum());
        for (i, m) in scripts.iter().enumerate() {
            message.push_str("BEGIN;\n");
            message.push_str(&set_timeouts(m.directives(), Scope::Local));
            message.push_str(m.sql());
            message.push_str("\n;\n");
            if !quiet.get(i).copied().unwrap_or(false) {
                message.push_str(self.restore_session);
            }
            message.push_str(&self.record_sql(m, false, &since_previous, None));
            message.push_str("COMMIT;\n");
        }
        let sent = client.simple_query(&message);
        drop(message);
        match sent {
            Ok(replies) => {
                let durations: Vec<Option<u64>> = replies
                    .iter()
                    .filter_map(|reply| match reply {
                        postgres::SimpleQueryMessage::Row(row)
                            if row.columns().first().map(|c| c.name()) == Some("record_apply") =>
                        {
                            Some(row.get(0).and_then(|v| v.parse().ok()))
                        }
                        _ => None,
                    })
                    .collect();
                let share = started.elapsed() / scripts.len().max(1) as u32;
                let steps = scripts
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        let took = durations
                            .get(i)
                            .copied()
                            .flatten()
                            .map_or(share, Duration::from_millis);
                        self.finished(m, took)
                    })
                    .collect();
                (steps, Ok(()))
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK");
                let committed = match self.committed(client, scripts) {
                    Ok(committed) => committed,
                    // The connection is gone: which of them committed, the next run will see.
                    Err(_) => return (Vec::new(), Err(Error::db(sent_together(scripts), e))),
                };
                let mut steps: Vec<Step> = scripts
                    .iter()
                    .zip(&committed)
                    .map(|(m, took)| self.finished(m, *took))
                    .collect();
                let Some(failing) = scripts.get(committed.len()) else {
                    // Everything committed, and the error came after: say so.
                    return (steps, Err(Error::db(sent_together(scripts), e)));
                };
                match self.apply_in_transaction(client, failing) {
                    Ok(step) => steps.push(step),
                    Err(error) => return (steps, Err(error)),
                }
                let rest = &scripts[committed.len() + 1..];
                if rest.is_empty() {
                    return (steps, Ok(()));
                }
                let rest_quiet = quiet.get(committed.len() + 1..).unwrap_or_default();
                let (more, outcome) = self.apply_batch(client, rest, rest_quiet);
                steps.extend(more);
                (steps, outcome)
            }
        }
    }

    /// How many of `scripts` (from the first, in order) the history now holds as applied, with
    /// the duration it recorded for each.
    fn committed(&self, client: &mut Client, scripts: &[&Migration]) -> Result<Vec<Duration>> {
        let keys: Vec<String> = scripts.iter().map(|m| batch_key(m)).collect();
        let rows = client
            .query_typed(
                &format!(
                    "SELECT kind || ':' || version, duration_ms FROM {}.applied \
                     WHERE NOT failed AND kind || ':' || version = ANY($1)",
                    quote_ident(self.schema)
                ),
                &[(&keys, postgres::types::Type::TEXT_ARRAY)],
            )
            .map_err(|e| Error::db("could not read which migrations were applied", e))?;
        let recorded: std::collections::HashMap<String, i64> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(keys
            .iter()
            .map_while(|k| recorded.get(k))
            .map(|ms| Duration::from_millis(u64::try_from(*ms).unwrap_or(0)))
            .collect())
    }

    /// A script above [`crate::history::STORED_SCRIPT_LIMIT`] (a data migration), in its own
    /// transaction as any other, but sent one statement at a time, as `psql -1 -f` does: the
    /// server never parses the whole file at once, trek never copies it into one message, and
    /// memory stays near the file's size. The history row, without the body, commits with it.
    fn apply_large_in_transaction(&self, client: &mut Client, m: &Migration) -> Result<Step> {
        let started = Instant::now();
        let begin = format!("BEGIN;\n{}", set_timeouts(m.directives(), Scope::Local));
        client
            .batch_execute(&begin)
            .map_err(|e| Error::db(format!("could not start applying {}", m.label()), e))?;
        for statement in split(m.sql()) {
            if let Err(e) = client.batch_execute(statement.text) {
                let sent = Sent {
                    path: m.path(),
                    script: m.sql(),
                    char_offset: 0,
                    statement: Some((statement.offset, statement.text)),
                };
                return Err(self.fail_in_transaction(
                    client,
                    m,
                    &sent,
                    e,
                    started.elapsed(),
                    false,
                ));
            }
        }
        let mut message = String::from(self.restore_session);
        message.push_str(&self.record_sql(m, false, &duration_ms(started.elapsed()), None));
        message.push_str("COMMIT;");
        if let Err(e) = client.batch_execute(&message) {
            let _ = client.batch_execute("ROLLBACK");
            return Err(Error::db(
                format!("{} ran, but recording it failed", m.label()),
                e,
            ));
        }
        Ok(self.finished(m, started.elapsed()))
    }

    fn apply_without_transaction(&self, client: &mut Client, m: &Migration) -> Result<Step> {
        let started = Instant::now();
        // Recorded as failed before it starts: if trek dies halfway (killed, the connection
        // lost), the history says so, prod refuses to go on, and dev resets.
        let provisional = format!(
            "BEGIN;\n{}COMMIT;",
            self.record_call(m, true, "0", None, false)
        );
        client.batch_execute(&provisional).map_err(|e| {
            Error::db(
                format!("could not record that {} is starting", m.label()),
                e,
            )
        })?;
        let outcome = run_statements(client, m.path(), m.sql(), 0, m.directives(), None);
        let elapsed_ms = duration_ms(started.elapsed());
        let forget = self.provisional_delete_sql(m);
        match outcome {
            Ok(()) => {
                let message = format!(
                    "{}BEGIN;\n{forget}{}COMMIT;",
                    self.restore_session,
                    self.record_sql(m, false, &elapsed_ms, None),
                );
                client.batch_execute(&message).map_err(|e| {
                    Error::db(format!("{} ran, but recording it failed", m.label()), e)
                })?;
                Ok(self.finished(m, started.elapsed()))
            }
            Err(StatementError::Sql { mut failure, .. }) => {
                self.name_invalid_indexes(client, &mut failure);
                let text = failure.to_string();
                let message = format!(
                    "{}BEGIN;\n{forget}{}COMMIT;",
                    self.restore_session,
                    self.record_sql(m, true, &elapsed_ms, Some(&text)),
                );
                if let Err(record) = client.batch_execute(&message) {
                    let _ = client.batch_execute("ROLLBACK");
                    return Err(Error::db(
                        format!(
                            "{} failed ({}), and trek could not write the failure to its history \
                             (did the script change the role or the search_path?)",
                            m.label(),
                            failure.headline()
                        ),
                        record,
                    ));
                }
                metrics::counter!("trek_migration_failures_total", "kind" => m.kind().as_str())
                    .increment(1);
                Err(Error::Migration {
                    label: m.label(),
                    script: Script::Up,
                    failure,
                    marked_failed: true,
                    before: Box::default(),
                })
            }
            Err(StatementError::Other(e)) => Err(Error::db(format!("{} failed", m.label()), e)),
        }
    }

    /// Adds to the failure of a `no_transaction` script the INVALID indexes it left (a
    /// `CREATE INDEX CONCURRENTLY` that failed): they must be dropped before a retry, which an
    /// `IF NOT EXISTS` would otherwise skip.
    fn name_invalid_indexes(&self, client: &mut Client, failure: &mut SqlFailure) {
        let Ok(invalid) = crate::schemas::invalid_indexes(client, self.schema, None) else {
            return;
        };
        if invalid.is_empty() {
            return;
        }
        let note = format!(
            "INVALID index{} left behind: {}; drop {} (DROP INDEX CONCURRENTLY …) before running \
             the migration again, or an IF NOT EXISTS will skip it and it will enforce nothing",
            if invalid.len() == 1 { "" } else { "es" },
            invalid.join(", "),
            if invalid.len() == 1 { "it" } else { "them" },
        );
        failure.hint = Some(match failure.hint.take() {
            Some(hint) => format!("{hint}; {note}"),
            None => note,
        });
    }

    /// Applies every script in one transaction (`--transaction all`): all or nothing.
    pub fn apply_all(&self, client: &mut Client, scripts: &[&Migration]) -> Result<Vec<Step>> {
        if let Some(m) = scripts.iter().find(|m| m.directives().no_transaction) {
            return Err(Error::NoTransactionInBatch {
                path: m.path().to_owned(),
            });
        }
        let mut steps = Vec::with_capacity(scripts.len());
        for (i, m) in scripts.iter().enumerate() {
            let started = Instant::now();
            let mut message = String::with_capacity(m.sql().len() * 2 + 1024);
            if i == 0 {
                message.push_str("BEGIN;\n");
            }
            message.push_str(&set_timeouts(m.directives(), Scope::Local));
            let char_offset = message.chars().count();
            message.push_str(m.sql());
            message.push_str("\n;\n");
            message.push_str(&reset_timeouts(m.directives(), Scope::Local));
            message.push_str(self.restore_session);
            message.push_str(&self.record_sql(m, false, ELAPSED_MS_SQL, None));
            if i + 1 == scripts.len() {
                message.push_str("COMMIT;");
            }
            let sent = Sent {
                path: m.path(),
                script: m.sql(),
                char_offset,
                statement: None,
            };
            if let Err(e) = client.batch_execute(&message) {
                return Err(self.fail_in_transaction(
                    client,
                    m,
                    &sent,
                    e,
                    started.elapsed(),
                    false,
                ));
            }
            steps.push(step_of(m, started.elapsed()));
        }
        for (m, step) in scripts.iter().zip(&steps) {
            self.observe(m, step.duration);
        }
        Ok(steps)
    }

    /// Reverts an applied row with its captured down script, removing the row. A down that
    /// runs outside a transaction and fails after some of its statements ran leaves the row
    /// recorded as half-reverted (how many ran, and an audit row); the next revert goes on
    /// from the failing statement.
    pub fn revert(
        &self,
        client: &mut Client,
        row: &AppliedRow,
        down: &CapturedDown,
    ) -> Result<Step> {
        let started = Instant::now();
        let label = row.label();
        let path = down.display_path(&label);
        let directives = down_directives(&down.sql);
        let (start, rest) = down.remaining();
        let s = quote_ident(self.schema);
        let delete = format!("DELETE FROM {s}.applied WHERE id = {};\n", row.id);
        let subject = Subject::of_row(row);
        let audit = |duration_sql: &str, error: Option<&str>| {
            self.audit_sql(Action::Revert, &subject, duration_sql, error, None)
        };
        let note = |failure: &mut SqlFailure, ran: Option<usize>| {
            let mut note = format!(
                "this is the down script captured when {label} was applied{}",
                if down.path.is_some() {
                    ", not necessarily the file as it is now"
                } else {
                    ""
                }
            );
            if let Some(ran) = ran {
                let total = split(&down.sql).len();
                note.push_str(&format!(
                    "; it runs outside a transaction, and {ran} of its {total} statements ran and \
                     stay done: {label} is recorded as half-reverted, and the next `down` (or dev \
                     run) continues at the failing statement"
                ));
            }
            failure.note = Some(note);
        };
        let progress = |done: usize| {
            down::half_reverted_sql(self.schema, row.id, down.reverted_statements + done)
        };
        let result = if down.outside_transaction {
            match run_statements(
                client,
                &path,
                &down.sql,
                start,
                &directives,
                Some(&progress),
            ) {
                Ok(()) => {
                    let message = format!(
                        "{}BEGIN;\n{delete}{}COMMIT;",
                        self.restore_session,
                        audit(&duration_ms(started.elapsed()), None),
                    );
                    client.batch_execute(&message).map_err(|e| {
                        Error::db(format!("{label} was reverted, but recording it failed"), e)
                    })
                }
                Err(StatementError::Sql { mut failure, ran }) => {
                    let ran = down.reverted_statements + ran;
                    note(&mut failure, (ran > 0).then_some(ran));
                    let text = failure.to_string();
                    let mut message = format!("{}BEGIN;\n", self.restore_session);
                    if ran > 0 {
                        message.push_str(&down::half_reverted_sql(self.schema, row.id, ran));
                    }
                    message.push_str(&audit(&duration_ms(started.elapsed()), Some(&text)));
                    message.push_str("COMMIT;");
                    if let Err(record) = client.batch_execute(&message) {
                        let _ = client.batch_execute("ROLLBACK");
                        return Err(Error::db(
                            format!(
                                "the down script of {label} failed ({}), and trek could not write \
                                 the failure to its history",
                                failure.headline()
                            ),
                            record,
                        ));
                    }
                    Err(Error::Migration {
                        label: label.clone(),
                        script: Script::Down,
                        failure,
                        marked_failed: ran > 0,
                        before: Box::default(),
                    })
                }
                Err(StatementError::Other(e)) => {
                    Err(Error::db(format!("reverting {label} failed"), e))
                }
            }
        } else {
            let mut message = String::from("BEGIN;\n");
            message.push_str(&set_timeouts(&directives, Scope::Local));
            let char_offset = message.chars().count();
            message.push_str(rest);
            message.push_str("\n;\n");
            message.push_str(self.restore_session);
            message.push_str(&delete);
            message.push_str(&audit(ELAPSED_MS_SQL, None));
            message.push_str("COMMIT;");
            client.batch_execute(&message).map_err(|e| {
                let _ = client.batch_execute("ROLLBACK");
                match SqlFailure::from_error(
                    &e,
                    &path,
                    &down.sql,
                    start,
                    char_offset,
                    rest.chars().count(),
                ) {
                    Some(mut failure) => {
                        failure.explain_transaction_block(&down.sql);
                        if failure.location.is_none() {
                            // Replayed from where this revert started; located in the whole text.
                            failure.location =
                                self.replay_to_failure(client, rest, &directives).map(|at| {
                                    trek_core::Location::of_byte_offset(&down.sql, start + at)
                                });
                        }
                        failure.locate_named_object(&down.sql);
                        note(&mut failure, None);
                        let _ = client.batch_execute(&audit(
                            &duration_ms(started.elapsed()),
                            Some(&failure.to_string()),
                        ));
                        Error::Migration {
                            label: label.clone(),
                            script: Script::Down,
                            failure: Box::new(failure),
                            marked_failed: false,
                            before: Box::default(),
                        }
                    }
                    None => Error::db(format!("reverting {label} failed"), e),
                }
            })
        };
        result?;
        tracing::info!(script = %label, elapsed = ?started.elapsed(), "reverted");
        metrics::counter!("trek_migrations_reverted_total", "kind" => row.kind.as_str())
            .increment(1);
        Ok(Step {
            kind: row.kind,
            version: row.version.as_ref().map(ToString::to_string),
            name: row.name.clone(),
            duration: started.elapsed(),
        })
    }

    /// The statement that records `m` in `applied` and `audit` (for a repeatable, replacing its
    /// previous row), ending in `;\n`: a call of [`RECORD_FUNCTION`].
    fn record_sql(
        &self,
        m: &Migration,
        failed: bool,
        duration_sql: &str,
        error: Option<&str>,
    ) -> String {
        self.record_call(m, failed, duration_sql, error, true)
    }

    /// The `DELETE` of the provisional row a `no_transaction` script gets while it runs.
    fn provisional_delete_sql(&self, m: &Migration) -> String {
        let version = m.version().map(ToString::to_string);
        format!(
            "DELETE FROM {}.applied WHERE failed AND kind = {} AND name = {} AND version IS NOT DISTINCT FROM {};\n",
            quote_ident(self.schema),
            quote_literal(m.kind().as_str()),
            quote_literal(m.name()),
            quote_nullable(version.as_deref()),
        )
    }

    /// The call of [`RECORD_FUNCTION`] that records `m` in `applied` (and, when `audit`, in
    /// `audit`), ending in `;\n`.
    fn record_call(
        &self,
        m: &Migration,
        failed: bool,
        duration_sql: &str,
        error: Option<&str>,
        audit: bool,
    ) -> String {
        let version = m.version().map(ToString::to_string);
        format!(
            "SELECT {s}.record_apply({kind}, {version}, {name}, {checksum}, {up}, {down}, \
             {duration_sql}, {failed}, {path}, {workflow}, {tv}, {client}, {error}, {audit});\n",
            s = quote_ident(self.schema),
            kind = quote_literal(m.kind().as_str()),
            version = quote_nullable(version.as_deref()),
            name = quote_literal(m.name()),
            checksum = quote_literal(m.checksum().as_str()),
            up = if m.sql().len() > crate::history::STORED_SCRIPT_LIMIT {
                "NULL".to_owned()
            } else {
                quote_literal(m.sql())
            },
            down = down::values_sql(m),
            path = quote_literal(m.path()),
            workflow = quote_nullable(self.workflow.map(Workflow::as_str)),
            tv = quote_literal(crate::TREK_VERSION),
            client = quote_literal(self.client_label),
            error = quote_nullable(error),
        )
    }

    /// The `INSERT` of one audit row, ending in `;\n`.
    pub fn audit_sql(
        &self,
        action: Action,
        subject: &Subject<'_>,
        duration_sql: &str,
        error: Option<&str>,
        detail: Option<&str>,
    ) -> String {
        format!(
            "{};\n",
            AuditRecord {
                action,
                kind: Some(subject.kind.as_str()),
                version: subject.version,
                name: Some(subject.name),
                error,
                detail,
                workflow: self.workflow.map(Workflow::as_str),
                client: self.client_label,
            }
            .insert_sql(self.schema, duration_sql)
        )
    }

    /// Writes, with bind parameters, the audit row of an action on the database as a whole
    /// (a reset, snapshot or dry run) that took `duration`.
    ///
    /// # Errors
    /// [`Error::Database`] when the row cannot be written.
    pub fn record_event(
        &self,
        client: &mut impl postgres::GenericClient,
        action: Action,
        detail: &str,
        duration: Duration,
        error: Option<&str>,
    ) -> Result<()> {
        self.record(client, action, None, Some(detail), duration, error)
    }

    /// Writes, with bind parameters, the audit row of an action on one script that runs no
    /// SQL of its own (repair, baseline).
    ///
    /// # Errors
    /// [`Error::Database`] when the row cannot be written.
    pub fn record_action(
        &self,
        client: &mut impl postgres::GenericClient,
        action: Action,
        subject: &Subject<'_>,
        detail: Option<&str>,
    ) -> Result<()> {
        self.record(client, action, Some(subject), detail, Duration::ZERO, None)
    }

    fn record(
        &self,
        client: &mut impl postgres::GenericClient,
        action: Action,
        subject: Option<&Subject<'_>>,
        detail: Option<&str>,
        duration: Duration,
        error: Option<&str>,
    ) -> Result<()> {
        AuditRecord {
            action,
            kind: subject.map(|s| s.kind.as_str()),
            version: subject.and_then(|s| s.version),
            name: subject.map(|s| s.name),
            error,
            detail,
            workflow: self.workflow.map(Workflow::as_str),
            client: self.client_label,
        }
        .insert(
            client,
            self.schema,
            i64::try_from(duration.as_millis()).unwrap_or(i64::MAX),
        )
    }

    /// The `INSERT` (ending in `;\n`) of the audit row of an action on the database as a
    /// whole, for a script `psql` replays in the restore's own transaction, with the duration
    /// given as SQL (computed by the server when the row is written).
    pub fn event_sql_timed(
        &self,
        action: Action,
        detail: &str,
        duration_sql: &str,
        error: Option<&str>,
    ) -> String {
        format!(
            "{};\n",
            AuditRecord {
                action,
                kind: None,
                version: None,
                name: None,
                error,
                detail: Some(detail),
                workflow: self.workflow.map(Workflow::as_str),
                client: self.client_label,
            }
            .insert_sql(self.schema, duration_sql)
        )
    }

    /// Rolls back after a failed transactional message, records the failure in the audit log,
    /// and builds the error.
    /// For a failure PostgreSQL gave no position for, in a script sent as one message (it
    /// gives none for, e.g., `DROP TABLE` of a missing table or of one others depend on): runs
    /// the script again one statement at a time in a transaction that is then rolled back, as
    /// the failed run was, and returns the byte offset in `script` of the statement that fails.
    /// Only for a script alone in its transaction, whose run was rolled back whole.
    fn replay_to_failure(
        &self,
        client: &mut Client,
        script: &str,
        directives: &Directives,
    ) -> Option<usize> {
        let begin = format!("BEGIN;\n{}", set_timeouts(directives, Scope::Local));
        if client.batch_execute(&begin).is_err() {
            let _ = client.batch_execute("ROLLBACK");
            return None;
        }
        let failing = split(script)
            .into_iter()
            .find(|statement| client.batch_execute(statement.text).is_err())
            .map(|statement| statement.offset);
        let _ = client.batch_execute("ROLLBACK");
        // Whatever the replay left outside its transaction (a session advisory lock) ends too.
        if !self.restore_session.is_empty() {
            let _ = client.batch_execute(self.restore_session);
        }
        failing
    }

    fn fail_in_transaction(
        &self,
        client: &mut Client,
        m: &Migration,
        sent: &Sent<'_>,
        e: postgres::Error,
        elapsed: Duration,
        replay: bool,
    ) -> Error {
        let _ = client.batch_execute("ROLLBACK");
        metrics::counter!("trek_migration_failures_total", "kind" => m.kind().as_str())
            .increment(1);
        let (byte_offset, sent_text) = sent.statement.unwrap_or((0, sent.script));
        let Some(mut failure) = SqlFailure::from_error(
            &e,
            sent.path,
            sent.script,
            byte_offset,
            sent.char_offset,
            sent_text.chars().count(),
        ) else {
            return Error::db(format!("{} failed", m.label()), e);
        };
        failure.explain_transaction_block(sent.script);
        if sent.statement.is_some() && failure.location.is_none() {
            // Sent alone, the failing statement is known.
            failure.location = Some(trek_core::Location::of_byte_offset(
                sent.script,
                byte_offset,
            ));
        }
        if replay && failure.location.is_none() {
            failure.location = self
                .replay_to_failure(client, sent.script, m.directives())
                .map(|at| trek_core::Location::of_byte_offset(sent.script, at));
        }
        failure.locate_named_object(sent.script);
        let text = failure.to_string();
        tracing::error!(script = %m.label(), error = %text, "migration failed");
        if let Err(audit) = client.batch_execute(&self.audit_sql(
            Action::Apply,
            &Subject::of(m),
            &duration_ms(elapsed),
            Some(&text),
            None,
        )) {
            tracing::warn!(error = %crate::db_error::describe(&audit), "could not record the failure in trek's audit log");
        }
        Error::Migration {
            label: m.label(),
            script: Script::Up,
            failure: Box::new(failure),
            marked_failed: false,
            before: Box::default(),
        }
    }

    fn finished(&self, m: &Migration, elapsed: Duration) -> Step {
        self.observe(m, elapsed);
        step_of(m, elapsed)
    }

    fn observe(&self, m: &Migration, elapsed: Duration) {
        tracing::info!(script = %m.label(), kind = m.kind().as_str(), elapsed_ms = elapsed.as_millis() as u64, "applied");
        metrics::counter!("trek_migrations_applied_total", "kind" => m.kind().as_str())
            .increment(1);
        metrics::histogram!("trek_migration_duration_seconds", "kind" => m.kind().as_str())
            .record(elapsed.as_secs_f64());
    }
}

/// What an audit row is about.
#[derive(Debug, Clone)]
pub(crate) struct Subject<'a> {
    pub kind: Kind,
    pub version: Option<&'a str>,
    pub name: &'a str,
}

impl<'a> Subject<'a> {
    pub fn of_row(row: &'a AppliedRow) -> Self {
        Subject {
            kind: row.kind,
            version: row.version.as_ref().map(trek_core::Version::as_str),
            name: &row.name,
        }
    }

    pub fn of(m: &'a Migration) -> Self {
        Subject {
            kind: m.kind(),
            version: m.version().map(trek_core::Version::as_str),
            name: m.name(),
        }
    }
}

/// Whether `m` may share a message with other scripts ([`Executor::apply_batch`]): a
/// versioned migration or seed that runs in its own transaction and is stored with its text
/// (a data migration above [`crate::history::STORED_SCRIPT_LIMIT`] is sent statement by
/// statement; a repeatable's previous row is replaced, so whether it ran cannot be read back
/// from the history as simply).
pub(crate) fn batchable(m: &Migration) -> bool {
    !m.directives().no_transaction
        && m.kind() != Kind::Repeatable
        && m.version().is_some()
        && m.sql().len() <= crate::history::STORED_SCRIPT_LIMIT
}

/// What failed when a message of several scripts failed and trek could not ask the database
/// which of them committed (the connection was lost): their labels, and where to look.
fn sent_together(scripts: &[&Migration]) -> String {
    let labels: Vec<String> = scripts.iter().map(|m| m.label()).collect();
    let named = match labels.as_slice() {
        [one] => one.clone(),
        [first, .., last] if labels.len() > 4 => {
            format!("{first} … {last} ({} migrations)", labels.len())
        }
        _ => labels.join(", "),
    };
    format!(
        "applying {named} failed; they were sent together, each in its own transaction, so \
         those before the failing one are applied: trek's status (`cargo trek status`) shows which"
    )
}

/// `kind:version`, as [`Executor::committed`] finds a script in the history.
fn batch_key(m: &Migration) -> String {
    format!(
        "{}:{}",
        m.kind().as_str(),
        m.version().map(ToString::to_string).unwrap_or_default()
    )
}

fn step_of(m: &Migration, elapsed: Duration) -> Step {
    Step {
        kind: m.kind(),
        version: m.version().map(ToString::to_string),
        name: m.name().to_owned(),
        duration: elapsed,
    }
}

fn duration_ms(d: Duration) -> String {
    d.as_millis().to_string()
}

#[derive(Clone, Copy)]
enum Scope {
    Local,
    Session,
}

fn set_timeouts(d: &Directives, scope: Scope) -> String {
    let kw = match scope {
        Scope::Local => "SET LOCAL",
        Scope::Session => "SET",
    };
    let mut sql = String::new();
    if let Some(t) = &d.lock_timeout {
        sql.push_str(&format!("{kw} lock_timeout = {};\n", quote_literal(t)));
    }
    if let Some(t) = &d.statement_timeout {
        sql.push_str(&format!("{kw} statement_timeout = {};\n", quote_literal(t)));
    }
    sql
}

fn reset_timeouts(d: &Directives, scope: Scope) -> String {
    let mut sql = String::new();
    for (set, name) in [
        (d.lock_timeout.is_some(), "lock_timeout"),
        (d.statement_timeout.is_some(), "statement_timeout"),
    ] {
        if set {
            sql.push_str(&match scope {
                Scope::Local => format!("SET LOCAL {name} TO DEFAULT;\n"),
                Scope::Session => format!("RESET {name};\n"),
            });
        }
    }
    sql
}

enum StatementError {
    /// A statement failed on the server; the first `ran` statements stay done (those after
    /// a `BEGIN` of the script's own that was still open are rolled back with it).
    Sql {
        failure: Box<SqlFailure>,
        ran: usize,
    },
    Other(postgres::Error),
}

/// Runs a script statement by statement outside any transaction, from byte `start` of `sql`
/// (a half-reverted down goes on where it stopped), with its timeouts set for the session and
/// reset afterwards. Error locations are in `sql` as a whole. After each statement that stays
/// done, `progress(done)` (when given) is SQL sent at once to record it: a down that is killed
/// halfway is then found half-reverted, not applied.
fn run_statements(
    client: &mut Client,
    path: &str,
    sql: &str,
    start: usize,
    directives: &Directives,
    progress: Option<&dyn Fn(usize) -> String>,
) -> Result<(), StatementError> {
    let set = set_timeouts(directives, Scope::Session);
    if !set.is_empty() {
        client.batch_execute(&set).map_err(StatementError::Other)?;
    }
    let mut outcome = Ok(());
    // How many statements stay done whatever happens next: everything outside the script's
    // own transaction blocks, and each block once it ends.
    let mut done = 0;
    let mut in_block = false;
    for (i, statement) in split(&sql[start..]).into_iter().enumerate() {
        let offset = start + statement.offset;
        let ran = done;
        let result = client.batch_execute(statement.text);
        if result.is_ok() {
            let before = done;
            match trek_core::split::transaction_control(statement.text) {
                Some("BEGIN" | "START TRANSACTION") => in_block = true,
                Some(_) => {
                    in_block = false;
                    done = i + 1;
                }
                None if !in_block => done = i + 1,
                None => {}
            }
            if let (Some(progress), true) = (progress, done > before) {
                if let Err(e) = client.batch_execute(&progress(done)) {
                    tracing::warn!(error = %crate::db_error::describe(&e), "could not record how far the script got");
                }
            }
        }
        if let Err(e) = result {
            outcome = Err(
                match SqlFailure::from_error(
                    &e,
                    path,
                    sql,
                    offset,
                    0,
                    statement.text.chars().count(),
                ) {
                    Some(mut failure) => {
                        // Without a position from PostgreSQL, point at the failing statement.
                        if failure.location.is_none() {
                            failure.location =
                                Some(trek_core::Location::of_byte_offset(sql, offset));
                        }
                        StatementError::Sql {
                            failure: Box::new(failure),
                            ran,
                        }
                    }
                    None => StatementError::Other(e),
                },
            );
            // A script may open its own transaction (`BEGIN` in a `no_transaction` file); a
            // failure leaves it aborted, where trek could record nothing and not even release
            // its lock. Roll back whatever is open (a harmless notice when nothing is).
            let _ = client.batch_execute("ROLLBACK");
            break;
        }
    }
    let reset = reset_timeouts(directives, Scope::Session);
    if !reset.is_empty() {
        let _ = client.batch_execute(&reset);
    }
    outcome
}

/// The directives of a captured down script.
fn down_directives(sql: &str) -> Directives {
    // The down was validated when it was read; a script captured by an older trek that no
    // longer parses runs with no directives.
    trek_core::directive::parse(sql, Kind::Versioned).unwrap_or_default()
}
