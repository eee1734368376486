//! The runtime against a real PostgreSQL: applying, history, errors, locks, workflows.

use std::time::Duration;

use trek::{Error, Kind, Migrations, Migrator, State, TransactionMode, Warning, Workflow};
use trek_tests::TestDb;

use crate::support::{applied, applied_versions, table_exists, Folder};

static FIXTURE_APP: Migrations = trek::embed!("fixtures/app/migrations");

#[test]
fn embedded_migrations_apply_and_a_second_run_changes_nothing() {
    let db = TestDb::new("embed_apply");
    let mut client = db.client();
    let report = Migrator::new(&FIXTURE_APP).run(&mut client).unwrap();
    assert_eq!(report.applied.len(), 5);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(
        applied_versions(&mut client),
        ["0001", "0002", "0003", "0004", "0005"]
    );

    // The plpgsql body with `;` in dollar quotes works: the trigger fires.
    client
        .batch_execute("INSERT INTO orders (customer_id, total_cents) VALUES (1, 500)")
        .unwrap();
    let event: String = client
        .query_one("SELECT event FROM order_events", &[])
        .unwrap()
        .get(0);
    assert_eq!(event, "created; logged");
    // Both concurrent indexes of the no_transaction file exist and are valid.
    let valid: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname IN ('orders_by_customer', 'orders_by_total') AND i.indisvalid",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(valid, 2);
    let names: Vec<String> = client
        .query("SELECT name FROM customers ORDER BY id", &[])
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["first; customer", "second's"]);

    let again = Migrator::new(&FIXTURE_APP).run(&mut client).unwrap();
    assert!(again.is_noop());
    assert_eq!(applied(&mut client).len(), 5);
}

#[test]
fn history_rows_keep_script_down_checksum_and_duration() {
    let db = TestDb::new("history_rows");
    let mut client = db.client();
    Migrator::new(&FIXTURE_APP).run(&mut client).unwrap();
    let row = client
        .query_one(
            "SELECT kind, version, name, checksum, up_sql, down_sql, duration_ms >= 0, failed, applied_at <= now() \
             FROM trek.applied WHERE version = '0001'",
            &[],
        )
        .unwrap();
    let first = &FIXTURE_APP.all()[0];
    assert_eq!(row.get::<_, String>(0), "versioned");
    assert_eq!(row.get::<_, String>(2), "create_customers");
    assert_eq!(row.get::<_, String>(3), first.checksum().as_str());
    assert!(row.get::<_, String>(3).starts_with("sha256:"));
    assert_eq!(row.get::<_, String>(4), first.sql());
    assert_eq!(
        row.get::<_, Option<String>>(5).as_deref(),
        Some("DROP TABLE customers;\n")
    );
    assert!(row.get::<_, bool>(6));
    assert!(!row.get::<_, bool>(7));
    let ids_increase: bool = client
        .query_one(
            "SELECT bool_and(prev < id) FROM (SELECT id, lag(id) OVER (ORDER BY version) AS prev FROM trek.applied) t WHERE prev IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ids_increase);
    let stamp: String = client
        .query_one("SELECT value FROM trek.meta WHERE key = 'environment'", &[])
        .unwrap()
        .get(0);
    assert_eq!(stamp, "prod");
}

#[test]
fn every_apply_is_audited_with_who_and_which_trek() {
    let db = TestDb::new("audit_apply");
    let mut client = db.client();
    Migrator::new(&FIXTURE_APP)
        .client_label("e2e-test")
        .run(&mut client)
        .unwrap();
    let rows = client
        .query(
            "SELECT action, kind, version, outcome, workflow, db_user = current_user, client, trek_version \
             FROM trek.audit ORDER BY id",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        assert_eq!(row.get::<_, String>(0), "apply");
        assert_eq!(row.get::<_, String>(1), "versioned");
        assert_eq!(row.get::<_, String>(3), "success");
        assert_eq!(row.get::<_, String>(4), "prod");
        assert!(row.get::<_, bool>(5));
        assert_eq!(row.get::<_, String>(6), "e2e-test");
        assert_eq!(row.get::<_, String>(7), trek::TREK_VERSION);
    }
    let entries = Migrator::new(&FIXTURE_APP).audit(&mut client, 2).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].version.as_deref(), Some("0005"));
}

#[test]
fn a_failing_migration_keeps_the_earlier_ones_and_names_file_line_and_column() {
    let folder = Folder::new("failing")
        .file("1_one.sql", "CREATE TABLE one (id int);\n")
        .file("2_two.sql", "CREATE TABLE two (id int);\n")
        .file(
            "3_three.sql",
            "-- the third migration\nCREATE TABLE three (id int);\nINSERT INTO three\n  SELECT id FROM nowhere;\n",
        )
        .file("4_four.sql", "CREATE TABLE four (id int);\n")
        .file("5_five.sql", "CREATE TABLE five (id int);\n");
    let set = folder.read();
    let db = TestDb::new("failing");
    let mut client = db.client();
    let err = Migrator::new(&set).run(&mut client).unwrap_err();
    let Error::Migration {
        label,
        script,
        failure,
        marked_failed,
        ..
    } = &err
    else {
        panic!("expected a migration error, got {err}");
    };
    assert_eq!(label, "3 three");
    assert_eq!(*script, trek::Script::Up);
    assert!(!marked_failed);
    assert_eq!(failure.path, "3_three.sql");
    assert_eq!(failure.code, "42P01");
    let location = failure.location.as_ref().expect("a location");
    assert_eq!((location.line, location.column), (4, 18));
    assert_eq!(location.line_text, "  SELECT id FROM nowhere;");
    let shown = err.to_string();
    assert!(shown.contains("3_three.sql:4:18"), "{shown}");
    assert!(
        shown.contains("relation \"nowhere\" does not exist"),
        "{shown}"
    );

    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    assert!(table_exists(&mut client, "two"));
    assert!(
        !table_exists(&mut client, "three"),
        "the failed migration must be rolled back"
    );
    assert!(!table_exists(&mut client, "four"));
    let failure_audited: i64 = client
        .query_one(
            "SELECT count(*) FROM trek.audit WHERE version = '3' AND outcome = 'failure' AND error LIKE '%nowhere%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(failure_audited, 1);
    // The lock was released although the run failed, on a connection that stays open.
    let locks: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(locks, 0);
}

#[test]
fn a_failing_no_transaction_migration_is_marked_failed_until_repaired() {
    let folder = Folder::new("no_tx_fail")
        .file("1_base.sql", "CREATE TABLE items (id int, code text);\n")
        .file(
            "2_indexes.sql",
            "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY items_by_id ON items (id);\nCREATE INDEX CONCURRENTLY items_by_code ON items (cod);\n",
        );
    let db = TestDb::new("no_tx_fail");
    let mut client = db.client();
    let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
    let Error::Migration {
        failure,
        marked_failed,
        ..
    } = &err
    else {
        panic!("expected a migration error, got {err}");
    };
    assert!(*marked_failed);
    assert_eq!(
        failure.location.as_ref().map(|l| (l.line, l.column)),
        Some((3, 1)) // no position from PostgreSQL: the failing statement
    );
    assert_eq!(
        applied(&mut client)[1],
        ("versioned".into(), Some("2".into()), "indexes".into(), true)
    );
    assert!(
        table_exists(&mut client, "items_by_id"),
        "the first statement ran and stays"
    );

    // prod refuses to go on until an operator resolves it.
    let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
    assert!(matches!(err, Error::Failed { .. }), "{err}");
    let status = Migrator::new(&folder.read()).status(&mut client).unwrap();
    assert_eq!(status.entries[1].state, State::Failed);

    // Fix the file, repair (drops the failed row), and the next run retries it.
    let folder = folder.file(
        "2_indexes.sql",
        "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS items_by_id ON items (id);\nCREATE INDEX CONCURRENTLY items_by_code ON items (code);\n",
    );
    let repaired = Migrator::new(&folder.read()).repair(&mut client).unwrap();
    assert_eq!(repaired.cleared, ["2 indexes"]);
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert_eq!(report.applied.len(), 1);
    assert!(table_exists(&mut client, "items_by_code"));
    assert_eq!(applied(&mut client).iter().filter(|r| r.3).count(), 0);
}

#[test]
fn transaction_all_is_all_or_nothing() {
    let folder = Folder::new("tx_all")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n")
        .file(
            "3_c.sql",
            "CREATE TABLE c (id int REFERENCES missing (id));\n",
        );
    let db = TestDb::new("tx_all");
    let mut client = db.client();
    let err = Migrator::new(&folder.read())
        .transaction(TransactionMode::All)
        .run(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::Migration { .. }), "{err}");
    assert!(applied_versions(&mut client).is_empty());
    assert!(!table_exists(&mut client, "a"));

    let folder = folder.file("3_c.sql", "CREATE TABLE c (id int);\n");
    let report = Migrator::new(&folder.read())
        .transaction(TransactionMode::All)
        .run(&mut client)
        .unwrap();
    assert_eq!(report.applied.len(), 3);
    assert_eq!(applied_versions(&mut client), ["1", "2", "3"]);

    let with_no_tx = folder.file(
        "4_d.sql",
        "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY c_id ON c (id);\n",
    );
    let err = Migrator::new(&with_no_tx.read())
        .transaction(TransactionMode::All)
        .run(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::NoTransactionInBatch { .. }), "{err}");
}

#[test]
fn prod_warns_about_edited_and_unknown_migrations_and_refuses_out_of_order() {
    let folder = Folder::new("prod_rules")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("3_c.sql", "CREATE TABLE c (id int);\n");
    let db = TestDb::new("prod_rules");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();

    // An older release (without 3) starts during a rolling deploy: tolerated with a warning.
    let older = Folder::new("prod_rules_old").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let report = Migrator::new(&older.read()).run(&mut client).unwrap();
    assert_eq!(
        report.warnings,
        vec![Warning::Missing {
            label: "3 c".into()
        }]
    );

    // Someone edits an applied migration: warning, or an error when strict.
    let folder = folder.file("1_a.sql", "CREATE TABLE a (id bigint);\n");
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert!(
        matches!(report.warnings.as_slice(), [Warning::Modified { label, .. }] if label == "1 a")
    );
    let err = Migrator::new(&folder.read())
        .strict()
        .run(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::Modified { .. }), "{err}");

    // A migration merged late with an older version: refused unless allowed.
    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int);\n");
    let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
    assert!(
        matches!(&err, Error::OutOfOrder { versions } if versions == &["2 b".to_owned()]),
        "{err}"
    );
    assert!(!table_exists(&mut client, "b"));
    let report = Migrator::new(&folder.read())
        .allow_out_of_order()
        .run(&mut client)
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    assert!(table_exists(&mut client, "b"));

    // repair accepts the edit.
    let repaired = Migrator::new(&folder.read()).repair(&mut client).unwrap();
    assert_eq!(repaired.accepted, ["1 a"]);
    let status = Migrator::new(&folder.read()).status(&mut client).unwrap();
    assert!(status.is_up_to_date(), "{status:?}");
    let repairs: i64 = client
        .query_one(
            "SELECT count(*) FROM trek.audit WHERE action = 'repair'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(repairs, 1);
}

#[test]
fn repeatables_rerun_when_changed_and_seeds_never_run_in_prod() {
    let folder = Folder::new("repeatables")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file(
            "repeatable/a_view.sql",
            "CREATE OR REPLACE VIEW a_view AS SELECT id FROM a;\n",
        )
        .file("seeds/1_demo.sql", "INSERT INTO a VALUES (1);\n");
    let db = TestDb::new("repeatables");
    let mut client = db.client();
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert_eq!(
        report.applied.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [Kind::Versioned, Kind::Repeatable]
    );
    let rows: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0, "seeds never run in prod");

    assert!(Migrator::new(&folder.read())
        .run(&mut client)
        .unwrap()
        .is_noop());
    let folder = folder.file(
        "repeatable/a_view.sql",
        "CREATE OR REPLACE VIEW a_view AS SELECT id, id * 2 AS twice FROM a;\n",
    );
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert_eq!(report.applied.len(), 1);
    let columns: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'a_view'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(columns, 2);
    let repeatable_rows: i64 = client
        .query_one(
            "SELECT count(*) FROM trek.applied WHERE kind = 'repeatable'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(repeatable_rows, 1, "one current row per repeatable");
}

#[test]
fn dev_rewinds_an_edited_migration_with_captured_downs_and_runs_seeds() {
    let folder = Folder::new("dev_rewind")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("1_a.down.sql", "DROP TABLE a;\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n")
        .file("2_b.down.sql", "DROP TABLE b;\n")
        .file("seeds/1_demo.sql", "INSERT INTO a VALUES (1);\n")
        .file("seeds/1_demo.down.sql", "DELETE FROM a;\n")
        .file(
            "repeatable/a_count.sql",
            "CREATE OR REPLACE VIEW a_count AS SELECT count(*) FROM a;\n",
        );
    let db = TestDb::new("dev_rewind");
    let mut client = db.client();
    let report = Migrator::new(&folder.read())
        .workflow(Workflow::Dev)
        .run(&mut client)
        .unwrap();
    assert_eq!(
        report.applied.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [
            Kind::Versioned,
            Kind::Versioned,
            Kind::Repeatable,
            Kind::Seed
        ],
        "versioned migrations, then repeatables, then seeds"
    );
    let seeded: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .unwrap()
        .get(0);
    assert_eq!(seeded, 1);

    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int, label text);\n");
    let report = Migrator::new(&folder.read())
        .workflow(Workflow::Dev)
        .run(&mut client)
        .unwrap();
    assert_eq!(
        report.reverted.len(),
        2,
        "the seed and migration 2 are rewound"
    );
    assert_eq!(report.applied.len(), 2);
    let columns: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'b'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(columns, 2);
    let seeded: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .unwrap()
        .get(0);
    assert_eq!(seeded, 1, "the seed ran again after its down");
    let reverts: i64 = client
        .query_one(
            "SELECT count(*) FROM trek.audit WHERE action = 'revert'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(reverts, 2);
}

#[test]
fn a_prod_database_refuses_the_dev_workflow_without_an_override() {
    let folder = Folder::new("protected")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("1_a.down.sql", "DROP TABLE a;\n");
    let db = TestDb::new("protected");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    let err = Migrator::new(&folder.read())
        .workflow(Workflow::Dev)
        .run(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::Protected { .. }), "{err}");
    let err = Migrator::new(&folder.read())
        .revert(&mut client, trek::Revert::Steps(1))
        .unwrap_err();
    assert!(matches!(err, Error::Protected { .. }), "{err}");
    assert!(table_exists(&mut client, "a"));
    let report = Migrator::new(&folder.read())
        .allow_destructive_on(db.name.clone())
        .revert(&mut client, trek::Revert::Steps(1))
        .unwrap();
    assert_eq!(report.reverted.len(), 1);
    assert!(!table_exists(&mut client, "a"));
}

#[test]
fn dev_warns_when_the_binary_is_older_than_its_migrations_folder() {
    let folder = Folder::new("stale").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let built = folder.read();
    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int);\n");
    let db = TestDb::new("stale");
    let mut client = db.client();
    let report = Migrator::new(&built)
        .workflow(Workflow::Dev)
        .run(&mut client)
        .unwrap();
    assert!(
        matches!(report.warnings.as_slice(), [Warning::StaleBinary { not_embedded, .. }] if not_embedded == &["2_b.sql".to_owned()]),
        "{:?}",
        report.warnings
    );
    drop(folder);
}

#[test]
fn baseline_records_without_running_and_down_uses_captured_scripts() {
    let folder = Folder::new("baseline")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n")
        .file("3_c.sql", "CREATE TABLE c (id int);\n")
        .file("3_c.down.sql", "DROP TABLE c;\n");
    let db = TestDb::new("baseline");
    let mut client = db.client();
    client
        .batch_execute("CREATE TABLE a (id int); CREATE TABLE b (id int);")
        .unwrap();
    let report = Migrator::new(&folder.read())
        .baseline(&mut client, &trek::Version::parse("2").unwrap())
        .unwrap();
    assert_eq!(report.applied.len(), 2);
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert_eq!(report.applied.len(), 1);
    assert!(table_exists(&mut client, "c"));

    // The down captured at apply time is used even if the file changes or disappears.
    let folder = folder.remove("3_c.down.sql");
    let report = Migrator::new(&folder.read())
        .allow_destructive_on(db.name.clone())
        .revert(&mut client, trek::Revert::Steps(1))
        .unwrap();
    assert_eq!(report.reverted.len(), 1);
    assert!(!table_exists(&mut client, "c"));
    // 2 has no captured down: nothing is reverted and the error says so.
    let err = Migrator::new(&folder.read())
        .allow_destructive_on(db.name.clone())
        .revert(&mut client, trek::Revert::Steps(1))
        .unwrap_err();
    assert!(matches!(err, Error::MissingDown { .. }), "{err}");
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
}

#[test]
fn waiting_for_the_lock_names_the_holder_and_times_out() {
    let folder = Folder::new("lock_wait").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("lock_wait");
    let mut holder = db.client();
    let holder_pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    holder
        .query_one(
            "SELECT pg_advisory_lock($1)",
            &[&trek::default_lock_key("trek")],
        )
        .unwrap();
    let mut client = db.client();
    let err = Migrator::new(&folder.read())
        .lock_timeout(Duration::from_millis(300))
        .run(&mut client)
        .unwrap_err();
    let Error::LockTimeout {
        holder: Some(who), ..
    } = &err
    else {
        panic!("expected a lock timeout naming the holder, got {err}");
    };
    assert_eq!(who.pid, holder_pid);
    assert!(!table_exists(&mut client, "a"));

    // Another schema has another key: it does not wait.
    let report = Migrator::new(&folder.read())
        .schema("other_trek")
        .lock_timeout(Duration::from_millis(300))
        .run(&mut client)
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    let in_other: i64 = client
        .query_one("SELECT count(*) FROM other_trek.applied", &[])
        .unwrap()
        .get(0);
    assert_eq!(in_other, 1);
}

#[test]
fn per_file_timeouts_apply_to_their_file_only() {
    let folder = Folder::new("timeouts").file(
        "1_slow.sql",
        "-- trek:statement_timeout 100ms\nCREATE TABLE slow (id int);\nSELECT pg_sleep(2);\n",
    );
    let db = TestDb::new("timeouts");
    let mut client = db.client();
    let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
    let Error::Migration { failure, .. } = &err else {
        panic!("expected the statement timeout to cancel the migration, got {err}");
    };
    assert_eq!(failure.code, "57014", "{err}");
    assert!(!table_exists(&mut client, "slow"));

    // Outside a transaction the timeout is set for the file and reset afterwards.
    let folder = Folder::new("timeouts_no_tx")
        .file(
            "1_fast.sql",
            "-- trek:no_transaction\n-- trek:lock_timeout 1500ms\nCREATE TABLE fast (id int);\n",
        )
        .file("2_after.sql", "CREATE TABLE after_fast (lock_timeout text DEFAULT current_setting('lock_timeout'));\nINSERT INTO after_fast DEFAULT VALUES;\n");
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    let seen: String = client
        .query_one("SELECT lock_timeout FROM after_fast", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        seen, "0",
        "the next migration runs with the session's own lock_timeout"
    );
    let session: String = client.query_one("SHOW lock_timeout", &[]).unwrap().get(0);
    assert_eq!(session, "0");
}

#[test]
fn a_schema_name_postgres_would_cut_short_is_refused_before_anything_happens() {
    let folder = Folder::new("long-schema").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("long_schema");
    let mut client = db.client();
    let long = "a".repeat(80);
    for result in [
        Migrator::new(&folder.read())
            .schema(long.clone())
            .workflow(Workflow::Dev)
            .run(&mut client)
            .map(|_| ()),
        Migrator::new(&folder.read())
            .schema(long.clone())
            .workflow(Workflow::Dev)
            .reset(&mut client)
            .map(|_| ()),
        Migrator::new(&folder.read())
            .schema("pg_trek")
            .status(&mut client)
            .map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::BadSchemaName { .. }), "{err}");
    }
    assert!(!table_exists(&mut client, "a"));
}

#[test]
fn odd_schema_names_are_quoted_everywhere_and_cannot_inject() {
    let folder = Folder::new("odd-schema")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("1_a.down.sql", "DROP TABLE a;\n");
    let db = TestDb::new("odd_schema");
    let mut client = db.client();
    client
        .batch_execute("CREATE SCHEMA keep; CREATE TABLE keep.sentinel (id int)")
        .unwrap();
    let migrations = folder.read();
    for schema in [
        "Odd \"Schema\" name",
        "x; DROP TABLE sentinel; --",
        "MixedCase",
    ] {
        let migrator = Migrator::new(&migrations)
            .schema(schema)
            .workflow(Workflow::Dev)
            .managed_schemas(vec!["public".to_owned()]);
        migrator.run(&mut client).unwrap();
        migrator.status(&mut client).unwrap();
        migrator
            .revert(&mut client, trek::Revert::Steps(1))
            .unwrap();
        migrator.reset(&mut client).unwrap();
        migrator
            .revert(&mut client, trek::Revert::Steps(1))
            .unwrap();
        let in_schema: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'applied'",
                &[&schema],
            )
            .unwrap()
            .get(0);
        assert_eq!(in_schema, 1, "trek's tables are in {schema:?}");
    }
    assert!(
        table_exists(&mut client, "keep.sentinel"),
        "nothing was injected"
    );
}

#[test]
fn a_script_over_a_mebibyte_runs_statement_by_statement_and_is_recorded_by_checksum_only() {
    // 1.2 MiB of multi-row INSERTs, the shape of a data migration.
    let mut body = String::from("CREATE TABLE big (id int PRIMARY KEY, note text);\n");
    let mut id = 0;
    while body.len() <= trek::STORED_SCRIPT_LIMIT + (200 << 10) {
        body.push_str("INSERT INTO big VALUES\n");
        for row in 0..500 {
            id += 1;
            body.push_str(&format!(
                "({id}, '{}'){}\n",
                "n".repeat(40),
                if row == 499 { ";" } else { "," }
            ));
        }
    }
    let folder = Folder::new("big_script").file("1_big.sql", &body);
    let db = TestDb::new("big_script");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    let rows: i64 = client
        .query_one("SELECT count(*) FROM big", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, id);
    let (stored, checksum): (Option<String>, String) = {
        let row = client
            .query_one("SELECT up_sql, checksum FROM trek.applied", &[])
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(stored.is_none(), "the body is not stored twice");
    assert_eq!(checksum, folder.read().all()[0].checksum().to_string());

    // Edited: status says modified, without a diff to show.
    let edited = folder.file("1_big.sql", &format!("{body}-- edited\n"));
    let status = Migrator::new(&edited.read()).status(&mut client).unwrap();
    assert_eq!(status.count(trek::State::Modified), 1);
    assert!(status.entries[0].applied_sql.is_none());

    // A failure names its exact statement, and nothing of the script stays.
    let failing = Folder::new("big_script_failing").file(
        "1_big.sql",
        &format!("{body}INSERT INTO big VALUES (1, 'duplicate');\n"),
    );
    let db = TestDb::new("big_script_failing");
    let mut client = db.client();
    let err = Migrator::new(&failing.read()).run(&mut client).unwrap_err();
    let trek::Error::Migration { failure, .. } = &err else {
        panic!("expected the script's failure, got {err}");
    };
    assert_eq!(failure.code, "23505");
    assert_eq!(
        failure.location.as_ref().map(|l| l.line),
        Some(body.lines().count() + 1),
        "{failure}"
    );
    assert!(!table_exists(&mut client, "big"), "rolled back whole");
}
