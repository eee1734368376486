//! Schema dumps, drift between schemas, and restoring a database from a production dump.

use trek::postgres::{Client, Config, NoTls};
use trek::{drift, ConfigConnector, DumpOptions, Migrator, SnapshotStrategy, Snapshots, Workflow};
use trek_tests::TestDb;

use crate::support::{applied_versions, table_exists, Folder};

fn connector(db: &TestDb) -> ConfigConnector<NoTls> {
    let config: Config = db.url.parse().unwrap();
    ConfigConnector::new(config, NoTls)
}

fn dump(db: &TestDb, client: &mut Client, options: &DumpOptions) -> String {
    Migrator::new(&trek::Migrations::from_vec(Vec::new(), None))
        .connector(connector(db))
        .dump(client, options)
        .unwrap()
}

/// The schema alone, without trek's schema: what drift compares.
fn schema_only() -> DumpOptions {
    let mut options = DumpOptions::default();
    options.history = false;
    options.exclude_schemas = vec!["trek".to_owned()];
    options
}

fn qa<'m>(migrations: &'m trek::Migrations, snapshots: &Folder, db: &TestDb) -> Migrator<'m> {
    Migrator::new(migrations)
        .workflow(Workflow::Qa)
        .snapshots(Snapshots::new(SnapshotStrategy::PgDump {
            dir: snapshots.dir.clone(),
        }))
        .connector(connector(db))
}

fn migrations() -> Folder {
    Folder::new("dump")
        .file(
            "1_users.sql",
            "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);\n\
             CREATE INDEX users_email ON users (email);\n",
        )
        .file(
            "2_orders.sql",
            "CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users);\n",
        )
        .file(
            "repeatable/totals.sql",
            "CREATE OR REPLACE VIEW totals AS SELECT user_id, count(*) FROM orders GROUP BY user_id;\n",
        )
}

#[test]
fn dumping_twice_gives_identical_text_with_the_history() {
    let folder = migrations();
    let db = TestDb::new("dump_twice");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    let first = dump(&db, &mut client, &DumpOptions::default());
    let second = dump(&db, &mut client, &DumpOptions::default());
    assert_eq!(first, second);
    assert!(first.contains("CREATE TABLE public.users"), "{first}");
    assert!(first.contains(trek::HISTORY_MARKER));
    assert!(first.contains("COPY trek.applied"), "{first}");
    assert!(!first.contains("\\restrict"), "no random keys");
    assert!(!first.contains("Dumped by pg_dump version"));
}

#[test]
fn a_dump_leaves_the_applied_bodies_out_unless_asked_and_restores_either_way() {
    let folder = migrations();
    let db = TestDb::new("dump_bodies");
    let mut client = db.client();
    Migrator::new(&folder.read()).run(&mut client).unwrap();
    let lean = dump(&db, &mut client, &DumpOptions::default());
    assert!(
        !lean.contains("CREATE INDEX users_email ON users (email);\\n"),
        "{lean}"
    );
    let mut with_bodies = DumpOptions::default();
    with_bodies.bodies = true;
    let full = dump(&db, &mut client, &with_bodies);
    assert!(
        full.contains("CREATE INDEX users_email ON users (email);\\n"),
        "{full}"
    );
    assert!(lean.len() < full.len());

    // A qa database restored from the lean dump knows what is applied and rolls forward.
    let snapshots = Folder::new("dump_bodies_snapshots");
    let qa_db = TestDb::new("dump_bodies_qa");
    let mut qa_client = qa_db.client();
    let path = snapshots.dir.join("prod.sql");
    std::fs::write(&path, &lean).unwrap();
    let more = folder.file("3_more.sql", "CREATE TABLE more (id int);\n");
    let migrations = more.read();
    qa(&migrations, &snapshots, &qa_db)
        .restore_dump(&mut qa_client, &path)
        .unwrap();
    assert_eq!(applied_versions(&mut qa_client), ["1", "2"]);
    qa(&migrations, &snapshots, &qa_db)
        .run(&mut qa_client)
        .unwrap();
    assert_eq!(applied_versions(&mut qa_client), ["1", "2", "3"]);
    assert!(table_exists(&mut qa_client, "more"));
}

#[test]
fn a_column_added_by_hand_is_reported_by_name_and_an_in_sync_database_is_not() {
    let folder = migrations();
    let scratch = TestDb::new("drift_scratch");
    let live = TestDb::new("drift_live");
    let (mut s, mut l) = (scratch.client(), live.client());
    Migrator::new(&folder.read()).run(&mut s).unwrap();
    Migrator::new(&folder.read()).run(&mut l).unwrap();
    let expected = dump(&scratch, &mut s, &schema_only());
    assert!(drift::compare(&expected, &dump(&live, &mut l, &schema_only()), "trek").is_empty());

    l.batch_execute("ALTER TABLE users ADD COLUMN nickname text; DROP INDEX users_email;")
        .unwrap();
    let diffs: Vec<String> =
        drift::compare(&expected, &dump(&live, &mut l, &schema_only()), "trek")
            .iter()
            .map(ToString::to_string)
            .collect();
    assert_eq!(
        diffs,
        [
            "index public.users_email: made by the migrations, missing",
            "table public.users: differs (column nickname text is not made by the migrations)",
        ]
    );
    // Against a committed dump (with trek's history in it) the same objects are reported.
    let committed = dump(&live, &mut l, &DumpOptions::default());
    assert_eq!(drift::compare(&expected, &committed, "trek").len(), 2);
}

#[test]
fn qa_restored_from_a_prod_dump_takes_prod_schema_and_history_and_rolls_forward() {
    let folder = migrations();
    let prod = TestDb::new("restore_prod");
    let mut p = prod.client();
    Migrator::new(&folder.read()).run(&mut p).unwrap();
    p.batch_execute("CREATE TABLE made_in_prod (id int)")
        .unwrap();
    let dumps = Folder::new("restore-dump-file");
    let file = dumps.dir.join("prod.sql");
    std::fs::write(&file, dump(&prod, &mut p, &DumpOptions::default())).unwrap();

    let snapshots = Folder::new("restore-snapshots");
    let qa_db = TestDb::new("restore_qa");
    let mut q = qa_db.client();
    let only_first = Folder::new("restore-first").file(
        "1_users.sql",
        "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);\n\
         CREATE INDEX users_email ON users (email);\n",
    );
    qa(&only_first.read(), &snapshots, &qa_db)
        .run(&mut q)
        .unwrap();
    q.batch_execute("CREATE TABLE qa_only (id int)").unwrap();

    let report = qa(&folder.read(), &snapshots, &qa_db)
        .restore_dump(&mut q, &file)
        .unwrap();
    assert!(report.applied.is_empty());
    assert!(!table_exists(&mut q, "qa_only"), "loses what prod lacks");
    assert!(table_exists(&mut q, "made_in_prod"), "gains what prod has");
    assert_eq!(applied_versions(&mut q), ["1", "2"], "knows prod's history");
    let stamp: String = q
        .query_one("SELECT value FROM trek.meta WHERE key = 'environment'", &[])
        .unwrap()
        .get(0);
    assert_eq!(stamp, "qa", "keeps its own stamp");
    let restores: i64 = q
        .query_one(
            "SELECT count(*) FROM trek.audit WHERE action = 'restore'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(restores, 1);

    let folder = folder.file("3_notes.sql", "CREATE TABLE notes (id int);\n");
    let report = qa(&folder.read(), &snapshots, &qa_db).run(&mut q).unwrap();
    let applied: Vec<String> = report.applied.iter().map(ToString::to_string).collect();
    assert_eq!(applied, ["3 notes"]);
    assert!(table_exists(&mut q, "notes"));
}
