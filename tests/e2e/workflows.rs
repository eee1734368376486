//! The three workflows on real data: dev rewinds or resets, qa restores a snapshot and rolls
//! forward, prod only moves forward; the environment stamp guards prod databases.

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use trek::postgres::{Client, Config, NoTls};
use trek::{
    ConfigConnector, Error, Migrations, Migrator, ResetMode, SnapshotStrategy, Snapshots,
    TemplateCopy, Undo, Warning, Workflow,
};
use trek_tests::TestDb;

use crate::support::{applied_versions, table_exists, Folder};

fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

fn connector(db: &TestDb) -> ConfigConnector<NoTls> {
    let config: Config = db.url.parse().unwrap();
    ConfigConnector::new(config, NoTls)
}

fn dev(migrations: &Migrations) -> Migrator<'_> {
    Migrator::new(migrations).workflow(Workflow::Dev)
}

fn qa<'m>(migrations: &'m Migrations, strategy: &SnapshotStrategy, db: &TestDb) -> Migrator<'m> {
    Migrator::new(migrations)
        .workflow(Workflow::Qa)
        .snapshots(Snapshots::new(strategy.clone()))
        .connector(connector(db))
}

/// A qa migrator with all of `snapshots`' settings.
fn qa_with<'m>(migrations: &'m Migrations, snapshots: &Snapshots, db: &TestDb) -> Migrator<'m> {
    Migrator::new(migrations)
        .workflow(Workflow::Qa)
        .snapshots(snapshots.clone())
        .connector(connector(db))
}

fn actions(client: &mut Client) -> Vec<String> {
    client
        .query("SELECT action FROM trek.audit ORDER BY id", &[])
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect()
}

fn has_column(client: &mut Client, table: &str, column: &str) -> bool {
    client
        .query_one(
            "SELECT count(*) > 0 FROM information_schema.columns \
             WHERE table_name = $1 AND column_name = $2",
            &[&table, &column],
        )
        .unwrap()
        .get(0)
}

#[test]
fn dev_rewinds_only_as_far_as_the_edit_and_earlier_rows_survive() {
    let folder = Folder::new("rewind")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("1_a.down.sql", "DROP TABLE a;\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n")
        .file("2_b.down.sql", "DROP TABLE b;\n")
        .file("3_c.sql", "CREATE TABLE c (id int);\n")
        .file("3_c.down.sql", "DROP TABLE c;\n");
    let db = TestDb::new("rewind");
    let mut client = db.client();
    dev(&folder.read()).run(&mut client).unwrap();
    client
        .batch_execute("INSERT INTO a VALUES (1), (2); INSERT INTO b VALUES (1);")
        .unwrap();

    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int, note text);\n");
    let migrations = folder.read();
    let plan = dev(&migrations).plan(&mut client).unwrap();
    assert_eq!(
        plan.divergence.as_ref().map(|d| d.reason.as_str()),
        Some("edited since it was applied")
    );
    let report = dev(&migrations).run(&mut client).unwrap();
    let Some(Undo::Rewind { scripts }) = report.plan.as_ref().map(|p| &p.undo) else {
        panic!("expected a rewind: {:?}", report.plan);
    };
    assert_eq!(scripts, &["3 c", "2 b"]);
    assert_eq!(report.reverted.len(), 2);
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM a"),
        2,
        "rows of a survive"
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM b"), 0);
    assert!(has_column(&mut client, "b", "note"));
    assert!(table_exists(&mut client, "c"));
    assert_eq!(applied_versions(&mut client), ["1", "2", "3"]);
}

#[test]
fn dev_without_a_captured_down_resets_and_rebuilds_keeping_the_audit_log() {
    let folder = Folder::new("reset")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file(
            "2_b.sql",
            "CREATE SCHEMA app; CREATE TABLE app.b (id int);\n",
        )
        .file(
            "repeatable/v.sql",
            "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n",
        );
    let db = TestDb::new("reset");
    let mut client = db.client();
    dev(&folder.read()).run(&mut client).unwrap();
    client
        .batch_execute("INSERT INTO a VALUES (1); CREATE TABLE stray (id int);")
        .unwrap();
    let audited_before = count(&mut client, "SELECT count(*) FROM trek.audit");

    let folder = folder.file(
        "2_b.sql",
        "CREATE SCHEMA app; CREATE TABLE app.b (id int, note text);\n",
    );
    let report = dev(&folder.read()).run(&mut client).unwrap();
    let Some(Undo::Reset { reason, .. }) = report.plan.as_ref().map(|p| &p.undo) else {
        panic!("expected a reset: {:?}", report.plan);
    };
    assert_eq!(reason, "2 b has no captured down script");
    assert!(!table_exists(&mut client, "stray"), "the reset dropped it");
    assert_eq!(count(&mut client, "SELECT count(*) FROM a"), 0);
    assert!(has_column(&mut client, "b", "note"));
    assert!(table_exists(&mut client, "v"), "repeatables run again");
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    let audited_after = count(&mut client, "SELECT count(*) FROM trek.audit");
    assert!(audited_after > audited_before, "the audit log survives");
    assert!(actions(&mut client).contains(&"reset".to_owned()));
    // The reset recreated public as it was: the migrations could create their tables in it.
    assert!(dev(&folder.read()).run(&mut client).unwrap().is_noop());
}

#[test]
fn dev_reset_can_drop_and_recreate_the_database() {
    let folder = Folder::new("resetdb").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("resetdb");
    let mut client = db.client();
    Migrator::new(&folder.read())
        .workflow(Workflow::Dev)
        .run(&mut client)
        .unwrap();
    client.batch_execute("INSERT INTO a VALUES (1)").unwrap();
    let report = Migrator::new(&folder.read())
        .workflow(Workflow::Dev)
        .reset_mode(ResetMode::Database)
        .connector(connector(&db))
        .reset(&mut client)
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    assert_eq!(count(&mut client, "SELECT count(*) FROM a"), 0);
    let actions = actions(&mut client);
    assert_eq!(actions, ["apply", "reset", "apply"], "carried across");
}

fn with_templates<'m>(migrations: &'m Migrations, db: &TestDb) -> Migrator<'m> {
    Migrator::new(migrations)
        .workflow(Workflow::Dev)
        .reset_mode(ResetMode::Template)
        .prefix_template_min(Duration::ZERO)
        .connector(connector(db))
}

fn prefix_templates(client: &mut Client, db: &TestDb) -> Vec<String> {
    client
        .query(
            "SELECT datname::text FROM pg_database WHERE starts_with(datname::text, $1) ORDER BY 1",
            &[&format!("{}__trek_prefix_", db.name)],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn dev_reset_with_prefix_templates_copies_the_unchanged_migrations_and_applies_the_rest() {
    let folder = Folder::new("prefix")
        .file(
            "1_a.sql",
            "CREATE TABLE a (id int);
INSERT INTO a VALUES (1), (2);\n",
        )
        .file("2_b.sql", "CREATE TABLE b (id int);\n")
        .file("3_c.sql", "CREATE TABLE c (id int);\n")
        .file(
            "repeatable/v.sql",
            "CREATE OR REPLACE VIEW v AS SELECT id FROM c;\n",
        );
    // A short name: the template's name keeps the database's whole name.
    let db = TestDb::new("pt");
    let mut client = db.client();
    with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap();
    client
        .batch_execute("INSERT INTO a VALUES (3); CREATE TABLE stray (id int);")
        .unwrap();

    // 3 edited, no down: 1 and 2 come from a template built now; 3 is applied again.
    let folder = folder.file("3_c.sql", "CREATE TABLE c (id int, note text);\n");
    let report = with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap();
    let Some(Undo::Reset {
        reason,
        from_template,
    }) = report.plan.as_ref().map(|p| &p.undo)
    else {
        panic!("expected a reset: {:?}", report.plan);
    };
    assert_eq!(*from_template, 2);
    assert_eq!(
        reason,
        "3 c has no captured down script; a copy of the template of the 2 unchanged migrations \
         before it"
    );
    let used = report.prefix_template.clone().expect("a template was used");
    assert!(used.built);
    assert_eq!(used.migrations, 2);
    let names: Vec<&str> = report.applied.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["c", "v"], "only the tail and the repeatables ran");
    assert_eq!(applied_versions(&mut client), ["1", "2", "3"]);
    assert!(has_column(&mut client, "c", "note"));
    assert!(table_exists(&mut client, "v"));
    assert!(
        !table_exists(&mut client, "stray"),
        "the database was replaced"
    );
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM a"),
        2,
        "the template's rows"
    );
    assert_eq!(prefix_templates(&mut client, &db), [used.name.as_str()]);
    // The audit log was carried across and records the reset; the template's own build is not
    // in it.
    assert_eq!(
        actions(&mut client),
        ["apply", "apply", "apply", "apply", "reset", "apply", "apply"]
    );
    let detail: String = client
        .query_one("SELECT detail FROM trek.audit WHERE action = 'reset'", &[])
        .unwrap()
        .get(0);
    assert!(
        detail.contains(&used.name) && detail.contains("built now"),
        "{detail}"
    );
    assert!(with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap()
        .is_noop());

    // Edited again: the same template, not built again.
    let folder = folder.file("3_c.sql", "CREATE TABLE c (id int, note text, n int);\n");
    let report = with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap();
    let again = report.prefix_template.expect("a template was used");
    assert_eq!(
        (again.name.as_str(), again.built),
        (used.name.as_str(), false)
    );
    assert!(!again.ready_copy);
    assert!(has_column(&mut client, "c", "n"));

    // A copy made ahead (what `watch` does between passes) is renamed into place by the next
    // reset; a second call while it exists does nothing.
    let migrations = folder.read();
    let migrator = with_templates(&migrations, &db);
    assert!(migrator.prepare_prefix_copy(&used.name).unwrap());
    assert!(!migrator.prepare_prefix_copy(&used.name).unwrap());
    assert!(
        migrator.prepare_prefix_copy(&db.name).is_err(),
        "not a template's name"
    );
    assert_eq!(
        prefix_templates(&mut client, &db).len(),
        2,
        "the template and its copy"
    );
    let folder = folder.file("3_c.sql", "CREATE TABLE c (id int, note text, m int);\n");
    let report = with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap();
    let ready = report.prefix_template.expect("a template was used");
    assert!(ready.ready_copy && !ready.built);
    assert!(has_column(&mut client, "c", "m"));
    assert_eq!(count(&mut client, "SELECT count(*) FROM a"), 2);
    assert_eq!(prefix_templates(&mut client, &db), [used.name.as_str()]);
    assert!(with_templates(&folder.read(), &db)
        .prepare_prefix_copy(&used.name)
        .unwrap());

    // 2 edited: a template of 1 migration; the one of 2 (and its copy) no longer matches and
    // is dropped.
    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int, x int);\n");
    let report = with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap();
    let shorter = report.prefix_template.expect("a template was used");
    assert_eq!((shorter.migrations, shorter.built), (1, true));
    assert_eq!(prefix_templates(&mut client, &db), [shorter.name.as_str()]);
    assert!(has_column(&mut client, "b", "x"));
    assert_eq!(applied_versions(&mut client), ["1", "2", "3"]);

    // 3 edited again: a template of 2 migrations, built from a copy of the one of 1.
    let folder = folder.file("3_c.sql", "CREATE TABLE c (id int, z int);\n");
    let report = with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap();
    let longer = report.prefix_template.expect("a template was used");
    assert_eq!((longer.migrations, longer.built), (2, true));
    assert_eq!(
        prefix_templates(&mut client, &db),
        [longer.name.as_str(), shorter.name.as_str()]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>(),
        "both match the migrations"
    );
    assert!(has_column(&mut client, "c", "z") && has_column(&mut client, "b", "x"));
    assert_eq!(count(&mut client, "SELECT count(*) FROM a"), 2);
    assert_eq!(applied_versions(&mut client), ["1", "2", "3"]);

    // With the default threshold (100 ms), these quick migrations are replayed, not copied.
    let folder = folder.file("3_c.sql", "CREATE TABLE c (id int, y int);\n");
    let report = Migrator::new(&folder.read())
        .workflow(Workflow::Dev)
        .reset_mode(ResetMode::Template)
        .connector(connector(&db))
        .run(&mut client)
        .unwrap();
    assert!(report.prefix_template.is_none());
    assert!(has_column(&mut client, "c", "y"));

    // The first edited: nothing unchanged before it, so a reset from nothing.
    let folder = folder.file("1_a.sql", "CREATE TABLE a (id int);\n");
    let report = with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap();
    assert!(report.prefix_template.is_none());
    assert!(matches!(
        report.plan.as_ref().map(|p| &p.undo),
        Some(Undo::Reset {
            from_template: 0,
            ..
        })
    ));
    assert_eq!(count(&mut client, "SELECT count(*) FROM a"), 0);
}

#[test]
fn a_prefix_template_that_cannot_be_built_leaves_the_database_untouched_and_says_why() {
    // The second migration needs a table made by hand before the migrations: an empty
    // database (what a template is built from) lacks it.
    let folder = Folder::new("prefixfail")
        .file("1_a.sql", "INSERT INTO handmade VALUES (1);\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n");
    let db = TestDb::new("ptfail");
    let mut client = db.client();
    client
        .batch_execute("CREATE TABLE handmade (id int)")
        .unwrap();
    with_templates(&folder.read(), &db)
        .run(&mut client)
        .unwrap();

    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int, note text);\n");
    let Err(error) = with_templates(&folder.read(), &db).run(&mut client) else {
        panic!("the template cannot be built");
    };
    let text = error.to_string();
    let Error::Migration { failure, .. } = &error else {
        panic!("a migration's error: {text}");
    };
    let note = failure.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("while building a prefix template")
            && note.contains(&format!("{} is untouched", db.name))
            && note.contains("reset = \"schemas\""),
        "{note}"
    );
    assert_eq!(failure.path, "1_a.sql");
    // Untouched: the hand-made table and its row, both migrations, no template left over.
    let mut client = db.client();
    assert_eq!(count(&mut client, "SELECT count(*) FROM handmade"), 1);
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    assert!(!has_column(&mut client, "b", "note"));
    let leftovers = count(
        &mut client,
        &format!(
            "SELECT count(*) FROM pg_database WHERE datname LIKE '{}%trek_prefix%'",
            &db.name[..20]
        ),
    );
    assert_eq!(leftovers, 0);
}

/// The qa story for one strategy: rows inserted before the snapshot survive the restore, the
/// edited migration is rolled forward, and the restore is in the audit log.
fn qa_restores_and_rolls_forward(strategy: SnapshotStrategy, label: &str) {
    qa_restores_and_rolls_forward_with(&Snapshots::new(strategy), label);
}

/// [`qa_restores_and_rolls_forward`] with more settings than the strategy.
fn qa_restores_and_rolls_forward_with(snapshots: &Snapshots, label: &str) {
    let folder = Folder::new(label).file(
        "1_accounts.sql",
        "CREATE TABLE accounts (id int PRIMARY KEY, name text);\n",
    );
    let db = TestDb::new(label);
    let mut client = db.client();
    let report = qa_with(&folder.read(), snapshots, &db)
        .run(&mut client)
        .unwrap();
    assert_eq!(report.snapshots.len(), 1, "a snapshot before applying");
    client
        .batch_execute("INSERT INTO accounts VALUES (1, 'kept'), (2, 'kept too')")
        .unwrap();

    let folder = folder.file("2_orders.sql", "CREATE TABLE orders (id int);\n");
    let report = qa_with(&folder.read(), snapshots, &db)
        .run(&mut client)
        .unwrap();
    assert_eq!(report.snapshots.len(), 1);
    assert_eq!(report.snapshots[0].label, "before 2 orders");
    client
        .batch_execute(
            "INSERT INTO accounts VALUES (3, 'after the snapshot'); INSERT INTO orders VALUES (1);",
        )
        .unwrap();
    assert!(qa_with(&folder.read(), snapshots, &db)
        .run(&mut client)
        .unwrap()
        .is_noop());

    let folder = folder.file(
        "2_orders.sql",
        "CREATE TABLE orders (id int, total numeric NOT NULL DEFAULT 0);\n",
    );
    let report = qa_with(&folder.read(), snapshots, &db)
        .run(&mut client)
        .unwrap();
    let Some(Undo::Restore { snapshot }) = report.plan.as_ref().map(|p| &p.undo) else {
        panic!("expected a restore: {:?}", report.plan);
    };
    assert_eq!(snapshot.label, "before 2 orders");
    assert_eq!(report.applied.len(), 1);
    let names: Vec<String> = client
        .query("SELECT name FROM accounts ORDER BY id", &[])
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        names,
        ["kept", "kept too"],
        "rows from before the snapshot survive"
    );
    assert!(has_column(&mut client, "orders", "total"), "rolled forward");
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    let actions = actions(&mut client);
    assert_eq!(
        actions,
        ["snapshot", "apply", "snapshot", "apply", "restore", "apply"],
        "the audit log is carried across the restore and records it"
    );
    let restore_ms = count(
        &mut client,
        "SELECT duration_ms FROM trek.audit WHERE action = 'restore'",
    );
    assert!(
        restore_ms > 0,
        "the restore's audit row says how long it took"
    );
    let catalogue = qa_with(&folder.read(), snapshots, &db)
        .list_snapshots(&mut client)
        .unwrap();
    assert_eq!(
        catalogue.len(),
        2,
        "the catalogue survives the restore it drove"
    );
    assert!(qa_with(&folder.read(), snapshots, &db)
        .run(&mut client)
        .unwrap()
        .is_noop());

    let pruned = qa_with(&folder.read(), snapshots, &db)
        .prune_snapshots(&mut client, 1)
        .unwrap();
    assert_eq!(pruned.len(), 1);
    assert_eq!(pruned[0].label, catalogue[0].label);
    assert_eq!(
        qa_with(&folder.read(), snapshots, &db)
            .list_snapshots(&mut client)
            .unwrap()
            .len(),
        1
    );
    qa_with(&folder.read(), snapshots, &db)
        .prune_snapshots(&mut client, 0)
        .unwrap();
}

#[test]
fn qa_restores_a_pg_dump_snapshot_and_rolls_forward() {
    let dir = Folder::new("qa-dumps");
    qa_restores_and_rolls_forward(
        SnapshotStrategy::PgDump {
            dir: dir.dir.clone(),
        },
        "qa_dump",
    );
    let dumps = std::fs::read_dir(&dir.dir).unwrap().count();
    assert_eq!(dumps, 0, "pruning deleted the dumps");
}

#[test]
fn qa_restores_a_template_snapshot_and_rolls_forward() {
    qa_restores_and_rolls_forward(SnapshotStrategy::Template, "qa_template");
}

#[test]
fn qa_template_snapshots_copy_with_each_method_the_server_has() {
    // WAL_LOG and clone (a file copy before PostgreSQL 15 and 18): the same story.
    for (copy, label) in [
        (TemplateCopy::WalLog, "qa_template_wal_log"),
        (TemplateCopy::Clone, "qa_template_clone"),
    ] {
        qa_restores_and_rolls_forward_with(
            &Snapshots::new(SnapshotStrategy::Template).template_copy(copy),
            label,
        );
    }
}

/// PostgreSQL's client program `name`, as a string for a command line.
fn client_program(name: &str) -> String {
    crate::support::client_program(name).display().to_string()
}

#[test]
fn qa_restores_a_snapshot_taken_by_the_teams_own_commands_and_rolls_forward() {
    let (createdb, dropdb) = (client_program("createdb"), client_program("dropdb"));
    qa_restores_and_rolls_forward(
        SnapshotStrategy::Command {
            snapshot: format!("{createdb} -T {{database}} {{database}}__cmd_{{id}}"),
            restore: format!(
                "{dropdb} --force {{database}} && {createdb} -T {{database}}__cmd_{{id}} {{database}}"
            ),
            delete: Some(format!("{dropdb} --force {{database}}__cmd_{{id}}")),
        },
        "qa_command",
    );
}

#[test]
fn a_template_snapshot_names_the_sessions_in_the_way_and_can_end_them() {
    let folder = Folder::new("busy").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("busy");
    let mut client = db.client();
    let mut other = db.client();
    let migrations = folder.read();
    let qa = |terminate: bool| {
        Migrator::new(&migrations)
            .workflow(Workflow::Qa)
            .snapshots(Snapshots::new(SnapshotStrategy::Template).terminate_sessions(terminate))
            .connector(connector(&db))
    };
    let err = qa(false).run(&mut client).unwrap_err();
    assert!(
        matches!(err, Error::DatabaseBusy { ref sessions, .. } if sessions.len() == 1),
        "{err}"
    );
    assert!(!table_exists(&mut client, "a"), "nothing was applied");
    qa(true).run(&mut client).unwrap();
    assert!(table_exists(&mut client, "a"));
    assert!(
        other.batch_execute("SELECT 1").is_err(),
        "the other session was ended"
    );
    let snapshots: i64 = count(
        &mut client,
        &format!(
            "SELECT count(*) FROM pg_database WHERE datname LIKE '{}\\_\\_trek\\_%'",
            db.name
        ),
    );
    assert_eq!(snapshots, 1);
    qa(false).prune_snapshots(&mut client, 0).unwrap();
}

#[test]
fn qa_without_a_usable_snapshot_stops_and_changes_nothing() {
    let dir = Folder::new("qa-none-dumps");
    let folder = Folder::new("qa-none").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("qa_none");
    let mut client = db.client();
    let strategy = SnapshotStrategy::PgDump {
        dir: dir.dir.clone(),
    };
    qa(&folder.read(), &strategy, &db).run(&mut client).unwrap();
    client
        .batch_execute("INSERT INTO a VALUES (1); DELETE FROM trek.snapshots;")
        .unwrap();
    let folder = folder.file("1_a.sql", "CREATE TABLE a (id bigint);\n");
    let plan = qa(&folder.read(), &strategy, &db)
        .plan(&mut client)
        .unwrap();
    assert!(matches!(plan.undo, Undo::Blocked { .. }), "{:?}", plan.undo);
    let err = qa(&folder.read(), &strategy, &db)
        .run(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::NoSnapshot { count: 0, .. }), "{err}");
    assert!(err.to_string().contains("cargo trek repair"), "{err}");
    assert_eq!(count(&mut client, "SELECT count(*) FROM a"), 1);
}

#[test]
fn prod_with_an_edited_migration_warns_changes_nothing_and_strict_refuses() {
    let folder = Folder::new("prod-edit").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("prod_edit");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    client.batch_execute("INSERT INTO a VALUES (1)").unwrap();
    let checksum = |client: &mut Client| -> String {
        client
            .query_one("SELECT checksum FROM trek.applied", &[])
            .unwrap()
            .get(0)
    };
    let before = checksum(&mut client);
    let folder = folder.file("1_a.sql", "CREATE TABLE a (id bigint);\n");
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    assert!(matches!(
        report.warnings.as_slice(),
        [Warning::Modified { .. }]
    ));
    assert!(report.is_noop());
    assert_eq!(
        report.plan.as_ref().map(|p| &p.undo),
        Some(&Undo::Nothing),
        "prod never rewinds"
    );
    let err = Migrator::new(&folder.read())
        .strict()
        .run(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::Modified { .. }), "{err}");
    assert_eq!(checksum(&mut client), before);
    assert_eq!(count(&mut client, "SELECT count(*) FROM a"), 1);
}

#[test]
fn a_prod_stamped_database_refuses_reset_dev_and_qa_and_is_left_untouched() {
    let dir = Folder::new("guard-dumps");
    let folder = Folder::new("guard")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("1_a.down.sql", "DROP TABLE a;\n");
    let db = TestDb::new("guard");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    client.batch_execute("INSERT INTO a VALUES (1)").unwrap();
    let edited = folder.file("1_a.sql", "CREATE TABLE a (id bigint);\n");
    let migrations = edited.read();
    let refusals = [
        Migrator::new(&migrations)
            .workflow(Workflow::Dev)
            .reset(&mut client),
        Migrator::new(&migrations).reset(&mut client),
        Migrator::new(&migrations)
            .workflow(Workflow::Dev)
            .run(&mut client),
        Migrator::new(&migrations)
            .workflow(Workflow::Qa)
            .snapshots(Snapshots::new(SnapshotStrategy::PgDump {
                dir: dir.dir.clone(),
            }))
            .connector(connector(&db))
            .run(&mut client),
    ];
    for refusal in refusals {
        let err = refusal.unwrap_err();
        assert!(matches!(err, Error::Protected { .. }), "{err}");
    }
    assert_eq!(count(&mut client, "SELECT count(*) FROM a"), 1);
    assert_eq!(
        actions(&mut client),
        ["apply"],
        "nothing else happened to the database"
    );
}

#[test]
fn a_qa_run_killed_during_a_restore_leaves_the_old_database_and_the_next_run_finishes() {
    // Each row's CHECK sleeps, so replaying the dump takes seconds: time to kill trek.
    // A table dumped after it holds more than the pipes and sockets buffer, so trek is still
    // streaming the dump, with COMMIT unsent, while the server sleeps.
    let slow = "CREATE FUNCTION slow_ok(int) RETURNS boolean LANGUAGE sql \
                AS 'SELECT pg_sleep(0.1) IS NOT NULL';\n\
                CREATE TABLE a_slow (id int CHECK (slow_ok(id)));\n\
                INSERT INTO a_slow SELECT generate_series(1, 40);\n\
                CREATE TABLE z_big (id int, filler text);\n\
                INSERT INTO z_big SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 20000) g;\n";
    let dumps = Folder::new("kill-dumps");
    let folder = Folder::new("kill").file("1_slow.sql", slow);
    let db = TestDb::new("kill_restore");
    let run_app = |folder: &Folder| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_trek-test-app"));
        command
            .env("DATABASE_URL", &db.url)
            .env("TREK_MIGRATIONS", &folder.dir)
            .env("TREK_SNAPSHOT_DIR", &dumps.dir)
            .env("TREK_WORKFLOW", "qa")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let out = run_app(&folder).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The snapshot before 2 holds the slow rows.
    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int);\n");
    let out = run_app(&folder).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db.client()
        .batch_execute("INSERT INTO b VALUES (7)")
        .unwrap();

    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int, note text);\n");
    let mut app = run_app(&folder).spawn().unwrap();
    let started = Instant::now();
    let mut watcher = db.client();
    loop {
        let restoring: bool = watcher
            .query_one(
                "SELECT count(*) > 0 FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event = 'PgSleep'",
                &[],
            )
            .unwrap()
            .get(0);
        if restoring {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the restore never started"
        );
        assert!(
            app.try_wait().unwrap().is_none(),
            "the app ended before the restore"
        );
        thread::sleep(Duration::from_millis(20));
    }
    app.kill().unwrap();
    app.wait().unwrap();

    // The restore's transaction is rolled back once its session notices: wait for it.
    let started = Instant::now();
    while count(
        &mut watcher,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid()",
    ) > 0
    {
        if started.elapsed() > Duration::from_secs(30) {
            let sessions: Vec<String> = watcher
                .query(
                    "SELECT format('%s %s %s %s', application_name, state, wait_event, left(query, 80)) \
                     FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    &[],
                )
                .unwrap()
                .into_iter()
                .map(|r| r.get(0))
                .collect();
            panic!("the restore session lingers: {sessions:?}");
        }
        thread::sleep(Duration::from_millis(50));
    }
    // Either untouched (killed before trek sent COMMIT: psql saw the end of its input and the
    // server rolled back) or fully restored (psql had COMMIT buffered), never a mix.
    if table_exists(&mut watcher, "b") {
        assert_eq!(count(&mut watcher, "SELECT count(*) FROM b"), 1);
        assert!(!has_column(&mut watcher, "b", "note"));
        assert_eq!(applied_versions(&mut watcher), ["1", "2"]);
        assert!(!actions(&mut watcher).contains(&"restore".to_owned()));
    } else {
        assert_eq!(applied_versions(&mut watcher), ["1"]);
        assert!(actions(&mut watcher).contains(&"restore".to_owned()));
    }
    assert_eq!(count(&mut watcher, "SELECT count(*) FROM a_slow"), 40);
    assert_eq!(count(&mut watcher, "SELECT count(*) FROM z_big"), 20_000);

    let out = run_app(&folder).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut client = db.client();
    assert!(
        has_column(&mut client, "b", "note"),
        "the next run finished the job"
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM a_slow"), 40);
    assert!(actions(&mut client).contains(&"restore".to_owned()));
}

/// `pg_dump` of the server's major version: Debian's folder, else `PATH`.
/// Migrates a database of its own (production) with `folder` and dumps it as a plain SQL
/// file carrying trek's history; returns the folder holding `schema.sql` (removed on drop) and
/// the file.
fn production_dump(folder: &Folder, label: &str) -> (Folder, std::path::PathBuf) {
    let prod = TestDb::new(&format!("{label}_prod"));
    Migrator::new(&folder.read())
        .run(&mut prod.client())
        .unwrap();
    let dumps = Folder::new(&format!("{label}-dump-file"));
    let dump = dumps.dir.join("schema.sql");
    let out = Command::new(pg_dump())
        .args(["--no-owner", "--no-privileges", "--file"])
        .arg(&dump)
        .arg(&prod.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dumps, dump)
}

fn pg_dump() -> std::path::PathBuf {
    crate::support::client_program("pg_dump")
}

#[test]
fn a_reset_with_a_baseline_dump_rebuilds_from_it_and_applies_only_what_it_lacks() {
    let folder = Folder::new("baseline-dump")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n");
    let (_dumps, dump) = production_dump(&folder, "baseline");

    let folder = folder.file("3_c.sql", "CREATE TABLE c (id int);\n");
    let db = TestDb::new("baseline_dev");
    let mut client = db.client();
    client.batch_execute("CREATE TABLE stray (id int)").unwrap();
    let report = dev(&folder.read())
        .baseline_dump(&dump)
        .connector(connector(&db))
        .reset(&mut client)
        .unwrap();
    let applied: Vec<String> = report.applied.iter().map(ToString::to_string).collect();
    assert_eq!(applied, ["3 c"], "only what the dump lacks");
    assert_eq!(applied_versions(&mut client), ["1", "2", "3"]);
    assert!(!table_exists(&mut client, "stray"));
    assert!(table_exists(&mut client, "b"));
    let stamp: String = client
        .query_one("SELECT value FROM trek.meta WHERE key = 'environment'", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        stamp, "dev",
        "the database keeps its own stamp, not the dump's"
    );
    assert_eq!(
        actions(&mut client),
        ["reset", "apply"],
        "its own audit log, not production's"
    );
}

/// A command strategy whose commands leave a marker file named `<what>-<id>` in `dir`.
fn marking_commands(dir: &std::path::Path, delete: Option<&str>) -> SnapshotStrategy {
    let d = dir.display();
    SnapshotStrategy::Command {
        snapshot: format!("touch {d}/taken-{{id}}"),
        restore: format!("touch {d}/restored-{{id}}"),
        delete: delete.map(|what| format!("touch {d}/{what}-{{id}}")),
    }
}

#[test]
fn a_pruned_command_snapshot_is_deleted_by_the_command_recorded_when_it_was_taken() {
    let folder = Folder::new("prune_command")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n");
    let marks = Folder::new("prune_command_marks");
    let db = TestDb::new("prune_command");
    let mut client = db.client();
    let set = folder.read();
    let taken_with = marking_commands(&marks.dir, Some("deleted-by-its-own"));
    qa(&set, &taken_with, &db).run(&mut client).unwrap();
    // The team's command got a unique id (`<catalogue id>_<token>`), recorded as the location.
    let first: String = client
        .query_one("SELECT location FROM trek.snapshots", &[])
        .unwrap()
        .get(0);
    assert!(first.starts_with("1_"), "{first}");
    assert!(marks.dir.join(format!("taken-{first}")).exists());
    // A snapshot whose strategy had no delete command.
    let folder = folder.file("3_c.sql", "CREATE TABLE c (id int);\n");
    let set = folder.read();
    qa(&set, &marking_commands(&marks.dir, None), &db)
        .run(&mut client)
        .unwrap();
    assert_eq!(count(&mut client, "SELECT count(*) FROM trek.snapshots"), 2);

    // Today the team's delete command is another one.
    let today = marking_commands(&marks.dir, Some("deleted-by-today"));
    let pruned = qa(&set, &today, &db)
        .prune_snapshots(&mut client, 0)
        .unwrap();
    assert_eq!(pruned.len(), 2);
    assert!(marks
        .dir
        .join(format!("deleted-by-its-own-{first}"))
        .exists());
    let second = &pruned[1].location;
    assert!(
        !marks
            .dir
            .join(format!("deleted-by-today-{second}"))
            .exists(),
        "a snapshot taken without a delete command is only forgotten"
    );
    assert!(!marks.dir.join(format!("deleted-by-today-{first}")).exists());
    assert_eq!(count(&mut client, "SELECT count(*) FROM trek.snapshots"), 0);
}

#[test]
fn a_pruned_restore_point_is_forgotten_by_its_own_strategy_whatever_is_configured_today() {
    let folder = Folder::new("prune_restore_point").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let marks = Folder::new("prune_restore_point_marks");
    let db = TestDb::new("prune_restore_point");
    let mut client = db.client();
    let set = folder.read();
    let restore_point = SnapshotStrategy::RestorePoint {
        restore: "true".to_owned(),
    };
    qa(&set, &restore_point, &db).run(&mut client).unwrap();
    let (strategy, location): (String, String) = client
        .query_one("SELECT strategy, location FROM trek.snapshots", &[])
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(strategy, "restore_point");
    assert!(location.contains(' '), "label and LSN: {location}");

    // Today the environment uses commands with a delete command: it must not run for the
    // restore point.
    let today = marking_commands(&marks.dir, Some("deleted"));
    let pruned = qa(&set, &today, &db)
        .prune_snapshots(&mut client, 0)
        .unwrap();
    assert_eq!(pruned.len(), 1);
    assert_eq!(pruned[0].strategy, "restore_point");
    assert_eq!(std::fs::read_dir(&marks.dir).unwrap().count(), 0);
    assert_eq!(count(&mut client, "SELECT count(*) FROM trek.snapshots"), 0);
    assert!(table_exists(&mut client, "a"));
}

#[test]
fn a_baseline_dump_that_still_diverges_stops_after_one_reset_instead_of_going_round() {
    // Production applied 2 b as it was; the branch has edited it since, with no down script.
    let folder = Folder::new("baseline-diverges")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\n");
    let (_dumps, dump) = production_dump(&folder, "baseline_diverges");

    let folder = folder.file("2_b.sql", "CREATE TABLE b (id bigint);\n");
    let db = TestDb::new("baseline_diverges_dev");
    let mut client = db.client();
    let err = dev(&folder.read())
        .baseline_dump(&dump)
        .connector(connector(&db))
        .reset(&mut client)
        .unwrap_err();
    assert!(
        matches!(&err, Error::StillDiverges { divergence, .. } if divergence.contains("2 b")),
        "{err}"
    );
    assert!(err.to_string().contains("schema.sql"), "{err}");
    // One reset happened and was audited; nothing was applied after it.
    assert_eq!(actions(&mut client), ["reset"]);
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
}

#[test]
fn a_recreated_qa_database_takes_snapshots_again_without_colliding_with_leftovers() {
    let folder = Folder::new("recreated_qa").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("recreated_qa");
    let template = SnapshotStrategy::Template;
    let set = folder.read();
    {
        let mut client = db.client();
        qa(&set, &template, &db).run(&mut client).unwrap();
    }
    let first: String = db
        .client()
        .query_one("SELECT location FROM trek.snapshots", &[])
        .unwrap()
        .get(0);
    // An everyday operation: drop and recreate the database; the snapshot database stays.
    let mut maintenance = Client::connect(&trek_tests::server_url("postgres"), NoTls).unwrap();
    maintenance
        .batch_execute(&format!("DROP DATABASE \"{}\" WITH (FORCE)", db.name))
        .unwrap();
    maintenance
        .batch_execute(&format!("CREATE DATABASE \"{}\"", db.name))
        .unwrap();
    let mut client = db.client();
    let report = qa(&set, &template, &db).run(&mut client).unwrap();
    assert_eq!(report.snapshots.len(), 1);
    assert_ne!(
        report.snapshots[0].location, first,
        "a new name, not the leftover's"
    );
    assert!(
        first.starts_with(&format!("{}__trek_1_", db.name)),
        "{first}"
    );
    let leftover: i64 = maintenance
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&first],
        )
        .unwrap()
        .get(0);
    assert_eq!(leftover, 1, "the leftover is untouched");

    // The leftover is an orphan: no catalogue knows it. A database trek did not name is not.
    let unrelated = format!("{}_backup", db.name);
    maintenance
        .batch_execute(&format!("CREATE DATABASE \"{unrelated}\""))
        .unwrap();
    let migrator = qa(&set, &template, &db);
    let orphans: Vec<String> = migrator
        .orphan_snapshots(&mut client)
        .unwrap()
        .into_iter()
        .map(|o| o.location)
        .collect();
    assert_eq!(orphans, std::slice::from_ref(&first));
    let pruned = migrator.prune_orphan_snapshots(&mut client).unwrap();
    assert_eq!(pruned.len(), 1);
    let names = vec![
        first.clone(),
        unrelated.clone(),
        report.snapshots[0].location.clone(),
    ];
    let left: i64 = maintenance
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = ANY($1)",
            &[&names],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        left, 2,
        "the orphan is gone; the unrelated database and the known snapshot stay"
    );
    assert!(migrator.orphan_snapshots(&mut client).unwrap().is_empty());
    maintenance
        .batch_execute(&format!("DROP DATABASE \"{unrelated}\""))
        .unwrap();
    migrator.prune_snapshots(&mut client, 0).unwrap();
}

#[test]
fn leftover_dump_files_no_catalogue_knows_are_orphans_and_nothing_else_is() {
    let folder = Folder::new("orphan_dumps").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let dumps = Folder::new("orphan_dumps_dir");
    let db = TestDb::new("orphan_dumps");
    let mut client = db.client();
    let set = folder.read();
    let strategy = SnapshotStrategy::PgDump {
        dir: dumps.dir.clone(),
    };
    let migrator = qa(&set, &strategy, &db);
    migrator.run(&mut client).unwrap();
    let leftover = dumps.dir.join(format!("{}__trek_9_0a1b2c3d.dump", db.name));
    std::fs::write(&leftover, b"old").unwrap();
    std::fs::write(dumps.dir.join("notes.txt"), b"mine").unwrap();
    std::fs::write(dumps.dir.join("other__trek_1.dump"), b"theirs").unwrap();
    let orphans = migrator.orphan_snapshots(&mut client).unwrap();
    assert_eq!(orphans.len(), 1, "{orphans:?}");
    assert_eq!(orphans[0].location, leftover.display().to_string());
    migrator.prune_orphan_snapshots(&mut client).unwrap();
    assert!(!leftover.exists());
    assert!(dumps.dir.join("notes.txt").exists());
    assert!(dumps.dir.join("other__trek_1.dump").exists());
    assert_eq!(
        migrator.list_snapshots(&mut client).unwrap().len(),
        1,
        "the known dump stays"
    );
}
