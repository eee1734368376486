//! Seeds (test data for dev and qa, never prod) and repeatables (re-run when they change) on
//! real data.

use trek::postgres::{Client, Config, NoTls};
use trek::{
    ConfigConnector, Error, Kind, Migrations, Migrator, SnapshotStrategy, Snapshots, Undo, Workflow,
};
use trek_tests::TestDb;

use crate::support::{applied, table_exists, Folder};

fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// The applied sequence as labels: `versioned 1`, `seed 1`.
fn sequence(client: &mut Client) -> Vec<String> {
    applied(client)
        .into_iter()
        .filter(|(kind, ..)| kind != "repeatable")
        .map(|(kind, version, ..)| format!("{kind} {}", version.unwrap_or_default()))
        .collect()
}

fn dev(migrations: &Migrations) -> Migrator<'_> {
    Migrator::new(migrations).workflow(Workflow::Dev)
}

/// Migrations 1 and 2 and test data T1 on top of them.
fn folder_with_test_data(label: &str, seed_down: bool) -> Folder {
    let folder = Folder::new(label)
        .file("1_users.sql", "CREATE TABLE users (id int PRIMARY KEY, name text);\n")
        .file("2_orders.sql", "CREATE TABLE orders (id int, user_id int);\n")
        .file(
            "seeds/1_t1.sql",
            "INSERT INTO users VALUES (1, 'ada'), (2, 'grace');\nINSERT INTO orders VALUES (10, 1);\n",
        );
    if seed_down {
        folder.file(
            "seeds/1_t1.down.sql",
            "DELETE FROM orders WHERE id = 10;\nDELETE FROM users WHERE id IN (1, 2);\n",
        )
    } else {
        folder
    }
}

/// The test data is there exactly once, on the schema of migration 3.
fn assert_rebuilt_with_test_data(client: &mut Client) {
    assert_eq!(
        sequence(client),
        ["versioned 1", "versioned 2", "versioned 3", "seed 1"]
    );
    assert_eq!(count(client, "SELECT count(*) FROM users"), 2);
    assert_eq!(count(client, "SELECT count(*) FROM orders"), 1);
    assert_eq!(
        count(client, "SELECT count(*) FROM users WHERE email IS NULL"),
        2,
        "the seed ran after migration 3"
    );
}

#[test]
fn dev_backs_test_data_out_with_its_down_applies_the_new_migration_and_reapplies_it() {
    let folder = folder_with_test_data("t1-down", true);
    let db = TestDb::new("t1_down");
    let mut client = db.client();
    dev(&folder.read()).run(&mut client).unwrap();
    assert_eq!(
        sequence(&mut client),
        ["versioned 1", "versioned 2", "seed 1"]
    );

    let folder = folder.file("3_email.sql", "ALTER TABLE users ADD COLUMN email text;\n");
    let report = dev(&folder.read()).run(&mut client).unwrap();
    let plan = report.plan.as_ref().unwrap();
    assert_eq!(
        plan.divergence.as_ref().map(|d| d.reason.as_str()),
        Some("3 email is new and comes before it")
    );
    assert_eq!(
        plan.undo,
        Undo::Rewind {
            scripts: vec!["seed 1 t1".to_owned()]
        }
    );
    assert_rebuilt_with_test_data(&mut client);
}

#[test]
fn dev_resets_when_the_test_data_has_no_down() {
    let folder = folder_with_test_data("t1-reset", false);
    let db = TestDb::new("t1_reset");
    let mut client = db.client();
    dev(&folder.read()).run(&mut client).unwrap();
    let folder = folder.file("3_email.sql", "ALTER TABLE users ADD COLUMN email text;\n");
    let report = dev(&folder.read()).run(&mut client).unwrap();
    assert_eq!(
        report.plan.as_ref().map(|p| &p.undo),
        Some(&Undo::Reset {
            reason: "seed 1 t1 has no captured down script".to_owned(),
            from_template: 0,
        })
    );
    assert_rebuilt_with_test_data(&mut client);
}

#[test]
fn qa_restores_the_snapshot_taken_before_the_test_data_and_rolls_forward() {
    let dumps = Folder::new("t1-qa-dumps");
    let folder = folder_with_test_data("t1-qa", false);
    let db = TestDb::new("t1_qa");
    let mut client = db.client();
    let config: Config = db.url.parse().unwrap();
    let qa = |m: &Migrations, client: &mut Client| {
        Migrator::new(m)
            .workflow(Workflow::Qa)
            .snapshots(
                Snapshots::new(SnapshotStrategy::PgDump {
                    dir: dumps.dir.clone(),
                })
                .each_migration(true),
            )
            .connector(ConfigConnector::new(config.clone(), NoTls))
            .run(client)
            .unwrap()
    };
    let migrations = folder.read();
    let report = qa(&migrations, &mut client);
    let labels: Vec<&str> = report.snapshots.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        ["before 1 users", "before 2 orders", "before seed 1 t1"]
    );

    let folder = folder.file("3_email.sql", "ALTER TABLE users ADD COLUMN email text;\n");
    let migrations = folder.read();
    let report = qa(&migrations, &mut client);
    let Some(Undo::Restore { snapshot }) = report.plan.as_ref().map(|p| &p.undo) else {
        panic!("expected a restore: {:?}", report.plan);
    };
    assert_eq!(snapshot.label, "before seed 1 t1");
    assert_rebuilt_with_test_data(&mut client);
}

#[test]
fn seeds_never_reach_prod_and_seed_applies_pending_seeds_alone() {
    let folder = folder_with_test_data("seed-cmd", false);
    let db = TestDb::new("seed_cmd");
    let mut client = db.client();
    let migrations = folder.read();
    Migrator::new(&migrations).run(&mut client).unwrap();
    assert_eq!(count(&mut client, "SELECT count(*) FROM users"), 0);
    let err = Migrator::new(&migrations).seed(&mut client).unwrap_err();
    assert!(matches!(err, Error::SeedsRefused { .. }), "{err}");
    assert!(err.to_string().contains("never reach prod"), "{err}");

    let db = TestDb::new("seed_cmd_dev");
    let mut client = db.client();
    let without_seeds = dev(&migrations).seeds(false);
    without_seeds.run(&mut client).unwrap();
    assert_eq!(sequence(&mut client), ["versioned 1", "versioned 2"]);
    let report = dev(&migrations).seed(&mut client).unwrap();
    assert_eq!(
        report.applied.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [Kind::Seed]
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM users"), 2);

    let folder = folder.file("3_email.sql", "ALTER TABLE users ADD COLUMN email text;\n");
    let err = dev(&folder.read()).seed(&mut client).unwrap_err();
    assert!(
        err.to_string().contains("3 email") && err.to_string().contains("cargo trek up"),
        "{err}"
    );
}

#[test]
fn a_repeatable_runs_when_its_content_changes_after_the_migrations_and_is_audited() {
    let folder = Folder::new("repeat")
        .file("1_t.sql", "CREATE TABLE t (id int);\n")
        .file(
            "repeatable/t_view.sql",
            "CREATE OR REPLACE VIEW t_view AS SELECT id FROM t;\n",
        );
    let db = TestDb::new("repeat");
    let mut client = db.client();
    let migrations = folder.read();
    Migrator::new(&migrations).run(&mut client).unwrap();
    assert!(Migrator::new(&migrations)
        .run(&mut client)
        .unwrap()
        .is_noop());

    // A later migration changes the table and the view follows it in the same change.
    let folder = folder
        .file("2_name.sql", "ALTER TABLE t ADD COLUMN name text;\n")
        .file(
            "repeatable/t_view.sql",
            "DROP VIEW IF EXISTS t_view;\nCREATE VIEW t_view AS SELECT id, name FROM t;\n",
        );
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    let steps: Vec<String> = report.applied.iter().map(ToString::to_string).collect();
    assert_eq!(
        steps,
        ["2 name", "repeatable t_view"],
        "after the migration"
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 't_view'"
        ),
        2
    );
    let runs = count(
        &mut client,
        "SELECT count(*) FROM trek.audit WHERE action = 'apply' AND kind = 'repeatable'",
    );
    assert_eq!(runs, 2, "each run is in the audit log");
    assert!(Migrator::new(&folder.read())
        .run(&mut client)
        .unwrap()
        .is_noop());
}

#[test]
fn a_run_always_repeatable_follows_every_run_that_applied_something() {
    let folder = Folder::new("always")
        .file("1_t.sql", "CREATE TABLE t (id int);\n")
        .file(
            "repeatable/t_view.sql",
            "-- trek:run always\nCREATE OR REPLACE VIEW t_view AS SELECT id FROM t;\n",
        );
    let db = TestDb::new("always");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert!(Migrator::new(&folder.read())
        .run(&mut client)
        .unwrap()
        .is_noop());
    // This migration must drop the view to change the column; the unchanged repeatable
    // brings it back because it runs after every run that applied something.
    let folder = folder.file(
        "2_bigint.sql",
        "DROP VIEW t_view;\nALTER TABLE t ALTER COLUMN id TYPE bigint;\n",
    );
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert_eq!(report.applied.len(), 2);
    assert!(table_exists(&mut client, "t_view"));
    let runs = count(
        &mut client,
        "SELECT count(*) FROM trek.audit WHERE kind = 'repeatable'",
    );
    assert_eq!(runs, 2);
}

#[test]
fn a_failing_repeatable_fails_the_run_with_file_line_and_column() {
    let folder = Folder::new("repeat-fail")
        .file("1_t.sql", "CREATE TABLE t (id int);\n")
        .file(
            "repeatable/broken.sql",
            "CREATE OR REPLACE VIEW broken AS\n  SELECT nope FROM t;\n",
        );
    let db = TestDb::new("repeat_fail");
    let mut client = db.client();
    let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("repeatable/broken.sql:2:10"), "{text}");
    assert!(
        table_exists(&mut client, "t"),
        "the migration before it stays"
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM trek.applied WHERE kind = 'repeatable'"
        ),
        0
    );
}

#[test]
fn a_repeatable_recorded_with_another_checksum_algorithm_is_not_rerun_in_any_workflow() {
    let folder = Folder::new("repeat_algorithm")
        .file("1_t.sql", "CREATE TABLE t (id int);\n")
        .file(
            "repeatable/t_view.sql",
            "CREATE OR REPLACE VIEW t_view AS SELECT id FROM t;\n",
        );
    let db = TestDb::new("repeat_algorithm");
    let mut client = db.client();
    let migrations = folder.read();
    dev(&migrations).run(&mut client).unwrap();
    // As a later trek with another algorithm would have recorded both.
    client
        .batch_execute("UPDATE trek.applied SET checksum = 'sha512:' || repeat('ab', 64)")
        .unwrap();
    for workflow in [Workflow::Dev, Workflow::Prod] {
        let report = Migrator::new(&migrations)
            .workflow(workflow)
            .allow_destructive_on(db.name.clone())
            .run(&mut client)
            .unwrap();
        assert!(report.is_noop(), "{workflow}: {:?}", report.applied);
    }
    let status = Migrator::new(&migrations).status(&mut client).unwrap();
    assert!(status.is_up_to_date(), "{:?}", status.entries);
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM trek.audit WHERE action = 'apply' AND kind = 'repeatable'"
        ),
        1,
        "the repeatable ran once, when it was new"
    );
}

#[test]
fn a_history_row_trek_cannot_read_stops_the_run_naming_the_row_and_changes_nothing() {
    let folder = Folder::new("bad_row").file("1_t.sql", "CREATE TABLE t (id int);\n");
    let db = TestDb::new("bad_row");
    let mut client = db.client();
    let migrations = folder.read();
    Migrator::new(&migrations).run(&mut client).unwrap();
    let folder = folder.file("2_u.sql", "CREATE TABLE u (id int);\n");
    for (column, value) in [("version", "'one'"), ("checksum", "'no-tag'")] {
        client
            .batch_execute(&format!("UPDATE trek.applied SET {column} = {value}"))
            .unwrap();
        let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
        assert!(
            matches!(&err, Error::BadHistory { column: c, row, .. } if c == column && row == "id 1"),
            "{err}"
        );
        assert!(err.to_string().contains("trek.applied row id 1"), "{err}");
        assert!(!table_exists(&mut client, "u"), "nothing was applied");
        client
            .batch_execute("UPDATE trek.applied SET version = '1', checksum = 'sha256:00'")
            .unwrap();
    }
    client
        .batch_execute("UPDATE trek.meta SET value = 'staging' WHERE key = 'environment'")
        .unwrap();
    let err = Migrator::new(&folder.read())
        .status(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::BadHistory { .. }), "{err}");
}
