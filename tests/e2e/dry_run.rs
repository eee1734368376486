//! Dry runs: what a migration would touch, lock and rewrite, with nothing left behind.

use trek::postgres::Client;
use trek::{Migrator, Outcome};
use trek_tests::TestDb;

use crate::support::{applied_versions, table_exists, Folder};

fn column_type(client: &mut Client, table: &str, column: &str) -> String {
    client
        .query_one(
            "SELECT data_type FROM information_schema.columns \
             WHERE table_name = $1 AND column_name = $2",
            &[&table, &column],
        )
        .unwrap()
        .get(0)
}

#[test]
fn a_dry_run_of_a_type_change_reports_the_rewrite_and_the_lock_and_changes_nothing() {
    let folder = Folder::new("dry-rewrite").file(
        "1_events.sql",
        "CREATE TABLE events (id int PRIMARY KEY, payload text);\n\
         INSERT INTO events SELECT g, md5(g::text) FROM generate_series(1, 200000) g;\n",
    );
    let db = TestDb::new("dry_rewrite");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    let folder = folder
        .file("2_bigint.sql", "ALTER TABLE events ALTER COLUMN id TYPE bigint;\n")
        .file("3_archive.sql", "CREATE TABLE archive (id bigint);\nINSERT INTO archive SELECT id FROM events WHERE id <= 10;\n")
        .file(
            "4_index.sql",
            "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY events_payload ON events (payload);\n",
        );
    let dry = Migrator::new(&folder.read()).dry_run(&mut client).unwrap();
    assert_eq!(dry.scripts.len(), 3);

    let rewrite = &dry.scripts[0];
    assert_eq!(rewrite.outcome, Outcome::Simulated);
    let events = rewrite
        .rewritten
        .iter()
        .find(|r| r.relation == "public.events")
        .unwrap_or_else(|| panic!("events not rewritten: {:?}", rewrite.rewritten));
    assert!(events.size_before > 1_000_000, "{}", events.size_before);
    assert!(rewrite
        .locks
        .iter()
        .any(|l| l.relation == "public.events" && l.mode == "AccessExclusiveLock" && l.holds_data));
    assert!(dry.blocks_reads_on_data());
    let finding = rewrite
        .findings
        .iter()
        .find(|f| f.rule.to_string() == "changing-column-type")
        .expect("the linter flags the type change");
    assert_eq!(
        finding.severity,
        trek::lint::Severity::Warning,
        "200,000 rows"
    );
    assert!(finding.size.is_some_and(|t| t.rows >= 100_000));
    assert!(rewrite.altered.contains(&"public.events".to_owned()));

    let create = &dry.scripts[1];
    assert_eq!(create.created, ["public.archive"]);
    assert_eq!(
        create.statements[1].rows,
        Some(10),
        "row counts per statement"
    );

    assert!(matches!(
        dry.scripts[2].outcome,
        Outcome::NotSimulated { ref reason } if reason.contains("no_transaction")
    ));

    // Nothing remains: the type, the tables and the history are as before.
    assert_eq!(column_type(&mut client, "events", "id"), "integer");
    assert!(!table_exists(&mut client, "archive"));
    assert_eq!(applied_versions(&mut client), ["1"]);
    let actions: Vec<String> = client
        .query("SELECT action FROM trek.audit ORDER BY id", &[])
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(actions, ["apply", "dry-run"], "only its audit row remains");
}

#[test]
fn a_failing_migration_is_reported_with_its_location_and_the_rest_is_not_simulated() {
    let folder = Folder::new("dry-fail")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file("2_b.sql", "CREATE TABLE b (id int);\nSELECT nope FROM a;\n")
        .file("3_c.sql", "CREATE TABLE c (id int);\n");
    let db = TestDb::new("dry_fail");
    let mut client = db.client();
    let dry = Migrator::new(&folder.read()).dry_run(&mut client).unwrap();
    assert_eq!(dry.scripts[0].created, ["public.a"]);
    assert!(
        matches!(dry.scripts[1].outcome, Outcome::Failed { ref error } if error.contains("2_b.sql:2:8")),
        "{:?}",
        dry.scripts[1].outcome
    );
    assert!(matches!(
        dry.scripts[2].outcome,
        Outcome::NotSimulated { .. }
    ));
    assert!(!table_exists(&mut client, "a"));
    let trek_exists: bool = client
        .query_one("SELECT to_regnamespace('trek') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(
        !trek_exists,
        "a dry run on a fresh database creates nothing"
    );
}
