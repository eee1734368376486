//! Failure paths: whatever fails, the run rolls back what is open, records the failure (the
//! history marker and an audit row), releases trek's advisory lock, names the file and line,
//! and hands the caller's client back idle and usable.

use trek::postgres::Client;
use trek::{Error, Migrator, Revert, Script, Workflow};
use trek_tests::TestDb;

use crate::support::{applied_versions, audited, table_exists, Folder};

/// The client's backend pid, to look at its session from another one afterwards.
fn pid(client: &mut Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0)
}

/// Asserts, from a second session, that no advisory lock is held in the database and that the
/// client's session is idle (not in a transaction, open or aborted); and that the client still
/// runs queries.
fn assert_clean(db: &TestDb, client: &mut Client, client_pid: i32) {
    let mut other = db.client();
    let locks: i64 = other
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(locks, 0, "trek's advisory lock is released");
    let state: String = other
        .query_one(
            "SELECT state FROM pg_stat_activity WHERE pid = $1",
            &[&client_pid],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        state, "idle",
        "the client is handed back outside any transaction"
    );
    client.batch_execute("SELECT 1").unwrap();
}

#[test]
fn a_failure_inside_a_no_transaction_scripts_own_transaction_is_rolled_back_recorded_and_frees_the_lock(
) {
    let folder = Folder::new("own_txn")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file(
            "2_x.sql",
            "-- trek:no_transaction\nBEGIN;\nCREATE TABLE x (id int);\nSELECT 1/0;\nCOMMIT;\n",
        );
    let db = TestDb::new("own_txn");
    let mut client = db.client();
    let client_pid = pid(&mut client);
    let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
    let Error::Migration {
        label,
        script,
        failure,
        marked_failed,
        ..
    } = &err
    else {
        panic!("expected the migration's own error, got {err}");
    };
    assert_eq!(
        (label.as_str(), *script, *marked_failed),
        ("2 x", Script::Up, true)
    );
    assert_eq!(failure.code, "22012");
    assert_eq!(failure.path, "2_x.sql");
    assert_eq!(
        failure.location.as_ref().map(|l| l.line),
        Some(4),
        "{failure}"
    );
    assert_clean(&db, &mut client, client_pid);
    assert!(table_exists(&mut client, "a"));
    assert!(
        !table_exists(&mut client, "x"),
        "the script's own transaction is rolled back"
    );
    let failed: bool = client
        .query_one("SELECT failed FROM trek.applied WHERE version = '2'", &[])
        .unwrap()
        .get(0);
    assert!(failed, "the history marks it failed");
    assert_eq!(audited(&mut client, "apply"), ["a success", "x failure"]);
}

#[test]
fn every_failing_script_leaves_the_lock_free_and_the_client_idle() {
    // A transactional migration, a seed, a repeatable, and a down script with its own
    // transaction: each fails in its own run.
    let folder = Folder::new("fail_kinds")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file(
            "1_a.down.sql",
            "-- trek:no_transaction\nBEGIN;\nDROP TABLE a;\nSELECT 1/0;\nCOMMIT;\n",
        );
    let db = TestDb::new("fail_kinds");
    let mut client = db.client();
    let client_pid = pid(&mut client);
    fn dev(m: &trek::Migrations) -> Migrator<'_> {
        Migrator::new(m).workflow(Workflow::Dev)
    }
    dev(&folder.read()).run(&mut client).unwrap();

    let cases = [
        (
            "2_b.sql",
            "CREATE TABLE b (id int);\nSELECT * FROM nowhere;\n",
        ),
        ("seeds/1_s.sql", "INSERT INTO nowhere VALUES (1);\n"),
        (
            "repeatable/v.sql",
            "CREATE VIEW v AS SELECT * FROM nowhere;\n",
        ),
    ];
    for (file, sql) in cases {
        let folder = Folder::new("fail_kinds_case")
            .file("1_a.sql", "CREATE TABLE a (id int);\n")
            .file(
                "1_a.down.sql",
                "-- trek:no_transaction\nBEGIN;\nDROP TABLE a;\nSELECT 1/0;\nCOMMIT;\n",
            )
            .file(file, sql);
        let err = dev(&folder.read()).run(&mut client).unwrap_err();
        assert!(matches!(err, Error::Migration { .. }), "{file}: {err}");
        assert_clean(&db, &mut client, client_pid);
        assert!(!table_exists(&mut client, "b"), "{file}");
    }

    let err = dev(&folder.read())
        .revert(&mut client, Revert::Steps(1))
        .unwrap_err();
    let Error::Migration {
        script, failure, ..
    } = &err
    else {
        panic!("expected the down script's error, got {err}");
    };
    assert_eq!(*script, Script::Down);
    assert_eq!(
        failure.location.as_ref().map(|l| l.line),
        Some(4),
        "{failure}"
    );
    assert!(
        err.to_string().starts_with("the down script of 1 a failed"),
        "{err}"
    );
    assert_clean(&db, &mut client, client_pid);
    assert!(
        table_exists(&mut client, "a"),
        "the down's own transaction is rolled back"
    );
    assert_eq!(
        audited(&mut client, "revert"),
        [" failure".replace(' ', "a ")]
    );
}

#[test]
fn a_failed_run_says_what_it_applied_and_reverted_before_the_failure() {
    let folder = Folder::new("partial")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n")
        .file("2_b.down.sql", "DROP TABLE b;\n")
        .file("3_c.sql", "SELECT * FROM nowhere;\n");
    let db = TestDb::new("partial");
    let mut client = db.client();
    let err = Migrator::new(&folder.read())
        .workflow(Workflow::Dev)
        .run(&mut client)
        .unwrap_err();
    let Error::Migration { label, before, .. } = &err else {
        panic!("expected the migration's error, got {err}");
    };
    assert_eq!(label, "3 c");
    let applied: Vec<String> = before.applied.iter().map(ToString::to_string).collect();
    assert_eq!(applied, ["1 a", "2 b"], "committed before the failure");
    assert!(table_exists(&mut client, "a") && table_exists(&mut client, "b"));

    // The dev workflow rewinds an edited migration, then fails re-applying it: the revert
    // stays done and is reported.
    let folder = folder
        .remove("3_c.sql")
        .file("2_b.sql", "CREATE TABLE b (id int REFERENCES nowhere);\n");
    let err = Migrator::new(&folder.read())
        .workflow(Workflow::Dev)
        .run(&mut client)
        .unwrap_err();
    let Error::Migration { label, before, .. } = &err else {
        panic!("expected the migration's error, got {err}");
    };
    assert_eq!(label, "2 b");
    let reverted: Vec<String> = before.reverted.iter().map(ToString::to_string).collect();
    assert_eq!(reverted, ["2 b"]);
    assert!(before.applied.is_empty());
    assert!(!table_exists(&mut client, "b"));
}

#[test]
fn a_statement_after_a_comment_ended_by_a_lone_carriage_return_is_applied() {
    let folder = Folder::new("cr").file(
        "1_cr.sql",
        "-- trek:no_transaction\rCREATE TABLE cr1 (id int); -- note\rCREATE TABLE cr2 (id int);\n",
    );
    let db = TestDb::new("cr");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert!(table_exists(&mut client, "cr1"));
    assert!(
        table_exists(&mut client, "cr2"),
        "PostgreSQL ends a -- comment at CR"
    );
}

#[test]
fn a_statement_that_cannot_run_in_a_transaction_is_named_with_its_line_and_the_directive_it_needs()
{
    for (sql, line, what) in [
        (
            "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n",
            2,
            "CREATE INDEX CONCURRENTLY",
        ),
        ("CREATE TABLE t (id int);\n\nVACUUM t;\n", 3, "VACUUM"),
        (
            "CREATE TABLE t (id int);\nCREATE DATABASE trek_never_made;\n",
            2,
            "CREATE DATABASE",
        ),
    ] {
        let folder = Folder::new("no_txn_hint").file("1_t.sql", sql);
        let db = TestDb::new("no_txn_hint");
        let mut client = db.client();
        let client_pid = pid(&mut client);
        let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
        let Error::Migration { failure, .. } = &err else {
            panic!("expected the migration's error, got {err}");
        };
        assert_eq!(failure.code, "25001", "{what}");
        assert_eq!(
            failure.location.as_ref().map(|l| l.line),
            Some(line),
            "{what}"
        );
        let hint = failure.hint.as_deref().unwrap_or_default();
        assert!(
            hint.contains(what) && hint.contains("-- trek:no_transaction"),
            "{what}: {hint}"
        );
        assert_clean(&db, &mut client, client_pid);
        assert!(!table_exists(&mut client, "t"), "nothing of the file stays");
    }
}

/// `SHOW name` on `client`.
fn show(client: &mut Client, name: &str) -> String {
    client
        .query_one(&format!("SHOW {name}"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn what_a_script_changes_in_the_session_reaches_neither_the_next_script_nor_the_caller() {
    let role = format!("trek_test_role_{}", std::process::id());
    let folder = Folder::new("session")
        .file(
            "1_other.sql",
            "CREATE SCHEMA other;\nSET search_path TO other;\nCREATE TABLE t1 (id int);\n",
        )
        .file("2_t2.sql", "CREATE TABLE t2 (id int);\n")
        .file(
            "3_settings.sql",
            "SELECT set_config('statement_timeout', '1234', false);\nSET application_name = 'changed';\nSET work_mem = '7MB';\n",
        )
        .file(
            "4_role.sql",
            &format!(
                "DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n\
                 GRANT {role} TO current_user;\nSET ROLE {role};\n"
            ),
        )
        .file(
            "5_nt.sql",
            "-- trek:no_transaction\nSET search_path TO other;\nSET lock_timeout = '3s';\n",
        )
        .file("6_t6.sql", "CREATE TABLE t6 (id int);\n");
    let db = TestDb::new("session");
    let mut client = db.client();
    // The caller's own settings, which it must get back.
    client
        .batch_execute("SET application_name = 'my app'; SET statement_timeout = '45s'")
        .unwrap();
    let before_path = show(&mut client, "search_path");
    let before_user: String = client
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);

    Migrator::new(&folder.read()).run(&mut client).unwrap();

    // Every script started from the caller's session: t2 and t6 are in public.
    let schema_of = |client: &mut Client, table: &str| -> String {
        client
            .query_one(
                "SELECT table_schema::text FROM information_schema.tables WHERE table_name = $1",
                &[&table],
            )
            .unwrap()
            .get(0)
    };
    assert_eq!(schema_of(&mut client, "t1"), "other");
    assert_eq!(schema_of(&mut client, "t2"), "public");
    assert_eq!(schema_of(&mut client, "t6"), "public");
    // The caller's client is as it was handed over.
    assert_eq!(show(&mut client, "search_path"), before_path);
    assert_eq!(show(&mut client, "application_name"), "my app");
    assert_eq!(show(&mut client, "statement_timeout"), "45s");
    assert_eq!(show(&mut client, "work_mem"), "4MB");
    assert_eq!(show(&mut client, "lock_timeout"), "0");
    let after_user: String = client
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(after_user, before_user, "the script's SET ROLE is gone");
    // trek's bookkeeping ran as the caller, whatever role the script took.
    let recorded: i64 = client
        .query_one("SELECT count(*) FROM trek.applied", &[])
        .unwrap()
        .get(0);
    assert_eq!(recorded, 6);
    let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
}

#[test]
fn a_failed_concurrent_index_is_named_in_the_failure_and_keeps_status_from_passing() {
    let folder = Folder::new("invalid_index")
        .file(
            "1_t.sql",
            "CREATE TABLE t (email text);\nINSERT INTO t VALUES ('a'), ('a');\n",
        )
        .file(
            "2_key.sql",
            "-- trek:no_transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_email_key ON t (email);\n",
        );
    let db = TestDb::new("invalid_index");
    let mut client = db.client();
    let client_pid = pid(&mut client);
    let migrations = folder.read();
    let dev = Migrator::new(&migrations).workflow(Workflow::Dev);
    let err = dev.run(&mut client).unwrap_err();
    let Error::Migration { failure, .. } = &err else {
        panic!("expected the migration's error, got {err}");
    };
    assert_eq!(failure.code, "23505");
    let hint = failure.hint.as_deref().unwrap_or_default();
    assert!(
        hint.contains("public.t_email_key") && hint.contains("DROP INDEX"),
        "{hint}"
    );
    assert_clean(&db, &mut client, client_pid);

    let status = dev.status(&mut client).unwrap();
    assert_eq!(status.invalid_indexes, ["public.t_email_key"]);
    assert!(
        !status.is_up_to_date(),
        "status --check fails on an INVALID index"
    );

    // Fixed as the note says: the data, then the index dropped, then repair and up.
    client
        .batch_execute(
            "DELETE FROM t WHERE ctid <> (SELECT min(ctid) FROM t); DROP INDEX t_email_key",
        )
        .unwrap();
    Migrator::new(&migrations).repair(&mut client).unwrap();
    dev.run(&mut client).unwrap();
    let status = dev.status(&mut client).unwrap();
    assert!(status.invalid_indexes.is_empty());
    assert!(status.is_up_to_date(), "{:?}", status.entries);
    assert!(
        client.batch_execute("INSERT INTO t VALUES ('a')").is_err(),
        "the unique index is valid and enforced"
    );
}

#[test]
fn a_stranded_lock_is_named_as_stranded_with_how_to_clear_it() {
    let folder = Folder::new("stranded").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("stranded");
    let key = trek::default_lock_key("trek");
    // What a transaction-pooling proxy leaves: a server session that ran trek's lock query and
    // went idle, holding the lock, with no run going on.
    let mut pooled = db.client();
    let pooled_pid = pid(&mut pooled);
    pooled
        .query_typed(
            "SELECT pg_try_advisory_lock($1), pg_backend_pid()",
            &[(&key, trek::postgres::types::Type::INT8)],
        )
        .unwrap();
    let mut client = db.client();
    let err = Migrator::new(&folder.read())
        .lock_timeout(std::time::Duration::from_millis(300))
        .run(&mut client)
        .unwrap_err();
    let Error::LockTimeout { holder, .. } = &err else {
        panic!("expected a lock timeout, got {err}");
    };
    assert!(
        holder
            .as_ref()
            .is_some_and(|h| h.stranded && h.pid == pooled_pid),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("stranded"), "{text}");
    assert!(
        text.contains(&format!("pg_terminate_backend({pooled_pid})")),
        "{text}"
    );
    assert!(!text.contains("wait for that run to finish"), "{text}");

    // A holder that is doing something else is a run in progress: wait for it.
    pooled.batch_execute("SELECT 1").unwrap();
    let err = Migrator::new(&folder.read())
        .lock_timeout(std::time::Duration::from_millis(300))
        .run(&mut client)
        .unwrap_err();
    assert!(
        err.to_string().contains("wait for that run to finish"),
        "{err}"
    );
    drop(pooled);
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert!(table_exists(&mut client, "a"));
}

#[test]
fn advisory_locks_and_temporary_tables_a_script_takes_end_with_it_and_the_callers_stay() {
    let folder = Folder::new("session_objects")
        .file(
            "1_locks.sql",
            "SELECT pg_advisory_lock(4242);\nSELECT pg_advisory_lock(4242);\nSELECT pg_advisory_lock_shared(1, -5);\n\
             CREATE TEMP TABLE scratch (id int);\nCREATE TABLE kept (id int);\n",
        )
        .file(
            "2_nt.sql",
            "-- trek:no_transaction\nSELECT pg_advisory_lock(4343);\nCREATE TEMP TABLE scratch2 (id int);\n",
        )
        .file("3_after.sql", "CREATE TABLE after_them (id int);\n");
    let db = TestDb::new("session_objects");
    let mut client = db.client();
    let client_pid = pid(&mut client);
    client
        .batch_execute("SELECT pg_advisory_lock(777); CREATE TEMP TABLE mine (id int)")
        .unwrap();
    Migrator::new(&folder.read()).run(&mut client).unwrap();

    let mut other = db.client();
    let held: Vec<i64> = other
        .query(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 ORDER BY 1",
            &[&client_pid],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(held, [777], "only the caller's own advisory lock is left");
    let temp: Vec<String> = client
        .query(
            "SELECT relname::text FROM pg_class WHERE relnamespace = pg_my_temp_schema() \
             AND relkind = 'r' ORDER BY 1",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        temp,
        ["mine"],
        "the scripts' temporary tables are gone, the caller's stays"
    );
    assert!(table_exists(&mut client, "kept") && table_exists(&mut client, "after_them"));
}

#[test]
fn prepared_statements_and_listens_a_script_leaves_end_with_it_and_the_callers_stay() {
    let folder = Folder::new("session_prepared")
        .file(
            "1_prepare.sql",
            "PREPARE script_stmt (int) AS SELECT $1 + 1;\nLISTEN script_channel;\nCREATE TABLE p1 (id int);\n",
        )
        .file(
            "2_nt.sql",
            "-- trek:no_transaction\nPREPARE script_stmt (int) AS SELECT $1 + 2;\nLISTEN \"Script Channel\";\n",
        )
        .file("3_after.sql", "CREATE TABLE p3 (id int);\n");
    let db = TestDb::new("session_prepared");
    let mut client = db.client();
    client
        .batch_execute("PREPARE mine (int) AS SELECT $1; LISTEN my_channel")
        .unwrap();
    // A statement the driver prepared at protocol level, held across the run.
    let driver_statement = client.prepare("SELECT count(*) FROM pg_class").unwrap();
    // Both scripts prepare the same name: the second would fail if the first's were kept.
    Migrator::new(&folder.read()).run(&mut client).unwrap();

    let prepared: Vec<String> = client
        .query(
            "SELECT name::text FROM pg_prepared_statements WHERE from_sql ORDER BY 1",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        prepared,
        ["mine"],
        "only the caller's prepared statement is left"
    );
    let listening: Vec<String> = client
        .query(
            "SELECT c::text FROM pg_listening_channels() c ORDER BY 1",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        listening,
        ["my_channel"],
        "only the caller's LISTEN is left"
    );
    client.query(&driver_statement, &[]).unwrap();
    assert!(table_exists(&mut client, "p1") && table_exists(&mut client, "p3"));
}

#[test]
fn a_failure_among_migrations_sent_together_is_exact_and_those_before_it_stay_applied() {
    // Consecutive transactional migrations share a message, each in its own transaction: the
    // one that fails is named with its line and column as if it had been sent alone, recorded
    // once in the audit log, and the ones before it are applied and reported.
    let mut folder = Folder::new("batch-failure");
    for n in 1..=7 {
        let sql = if n == 5 {
            "CREATE TABLE t5 (id int);\n\nINSERT INTO t5 VALUES (1 / 0);\n".to_owned()
        } else {
            format!("CREATE TABLE t{n} (id int);\n")
        };
        folder = folder.file(&format!("{n}_t{n}.sql"), &sql);
    }
    let db = TestDb::new("batch_failure");
    let mut client = db.client();
    let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
    let Error::Migration {
        label,
        failure,
        before,
        marked_failed,
        ..
    } = &err
    else {
        panic!("expected the migration's own error, got {err}");
    };
    assert_eq!((label.as_str(), *marked_failed), ("5 t5", false));
    assert_eq!(failure.code, "22012");
    assert_eq!(failure.path, "5_t5.sql");
    assert_eq!(
        failure.location.as_ref().map(|l| (l.line, l.column)),
        Some((3, 1)),
        "{failure}"
    );
    let applied: Vec<String> = before.applied.iter().map(ToString::to_string).collect();
    assert_eq!(applied, ["1 t1", "2 t2", "3 t3", "4 t4"]);
    assert_eq!(applied_versions(&mut client), ["1", "2", "3", "4"]);
    assert!(table_exists(&mut client, "t4"));
    assert!(!table_exists(&mut client, "t5"), "rolled back");
    assert!(!table_exists(&mut client, "t6"), "never ran");
    assert_eq!(
        audited(&mut client, "apply"),
        [
            "t1 success",
            "t2 success",
            "t3 success",
            "t4 success",
            "t5 failure"
        ]
    );

    // Fixed, the rest goes in one run; each keeps its own duration and audit row.
    let folder = folder.file("5_t5.sql", "CREATE TABLE t5 (id int);\n");
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    let applied: Vec<String> = report.applied.iter().map(ToString::to_string).collect();
    assert_eq!(applied, ["5 t5", "6 t6", "7 t7"]);
    assert_eq!(
        applied_versions(&mut client),
        ["1", "2", "3", "4", "5", "6", "7"]
    );
    assert_eq!(audited(&mut client, "apply").len(), 8);
}

#[test]
fn declarations_leave_nothing_in_the_session_even_with_event_triggers() {
    // Declarations (CREATE TABLE, CREATE INDEX, …) skip giving the session back, since they run
    // no code of the database's own; an event trigger is such code. One that exists before the
    // run, and one a DO block creates during it, both set a setting at every DDL command: it
    // reaches neither the next script nor the caller.
    let event_function = "CREATE FUNCTION mark() RETURNS event_trigger LANGUAGE plpgsql AS \
                          $$ BEGIN PERFORM set_config('application_name', 'from ' || tg_tag, false); END $$";
    for (name, before_run, scripts) in [
        (
            "before",
            format!("{event_function}; CREATE EVENT TRIGGER mark ON ddl_command_end EXECUTE FUNCTION mark()"),
            vec![
                ("1_a.sql", "CREATE TABLE a (id int);\n".to_owned()),
                ("2_b.sql", "CREATE TABLE b (id int);\n".to_owned()),
            ],
        ),
        (
            "during",
            String::new(),
            vec![
                ("1_a.sql", "CREATE TABLE a (id int);\n".to_owned()),
                (
                    "2_trigger.sql",
                    format!(
                        "{event_function};\nDO $$ BEGIN EXECUTE 'CREATE EVENT TRIGGER mark ON ddl_command_end EXECUTE FUNCTION mark()'; END $$;\n"
                    ),
                ),
                ("3_b.sql", "CREATE TABLE b (id int);\n".to_owned()),
                ("4_c.sql", "CREATE TABLE c (id int);\n".to_owned()),
            ],
        ),
    ] {
        let mut folder = Folder::new(&format!("event-trigger-{name}"));
        for (file, sql) in &scripts {
            folder = folder.file(file, sql);
        }
        let db = TestDb::new(&format!("event_trigger_{name}"));
        let mut client = db.client();
        if !before_run.is_empty() {
            client.batch_execute(&before_run).unwrap();
        }
        client.batch_execute("SET application_name = 'my app'").unwrap();
        Migrator::new(&folder.read()).run(&mut client).unwrap();
        assert_eq!(
            show(&mut client, "application_name"),
            "my app",
            "{name}: the caller gets its own setting back"
        );
        assert!(table_exists(&mut client, "b"));
        // The trigger did run (it set the setting during the run): the test tests something.
        client.batch_execute("CREATE TABLE probe (id int)").unwrap();
        assert_eq!(show(&mut client, "application_name"), "from CREATE TABLE");
    }
}
