//! Down scripts on real projects: a down follows its migration's `no_transaction`, a broken
//! captured down can be replaced from the file, a non-transactional down that fails halfway is
//! recorded and continued, a down without statements declares its migration irreversible, and
//! a failing down names its file.

use trek::postgres::Client;
use trek::{Error, Migrator, Revert, Script, State, Workflow};
use trek_tests::TestDb;

use crate::support::{applied_versions, audited, table_exists, Folder};

fn dev(migrations: &trek::Migrations) -> Migrator<'_> {
    Migrator::new(migrations).workflow(Workflow::Dev)
}

fn index_exists(client: &mut Client, index: &str) -> bool {
    table_exists(client, index)
}

fn reverted_statements(client: &mut Client, version: &str) -> Option<i32> {
    client
        .query_one(
            "SELECT reverted_statements FROM trek.applied WHERE version = $1",
            &[&version],
        )
        .unwrap()
        .get(0)
}

const TABLE: &str = "CREATE TABLE t (a int, b int);\n";
const INDEX: &str = "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n";

#[test]
fn the_down_of_a_no_transaction_migration_runs_outside_a_transaction_too() {
    let folder = Folder::new("down_inherits")
        .file("1_t.sql", TABLE)
        .file("1_t.down.sql", "DROP TABLE t;\n")
        .file("2_idx.sql", INDEX)
        // No directive of its own: it inherits the up's.
        .file("2_idx.down.sql", "DROP INDEX CONCURRENTLY t_a;\n")
        .file(
            "3_idx_b.sql",
            "CREATE TABLE u (id int);\n",
        )
        // A transactional migration whose down needs its own directive.
        .file(
            "3_idx_b.down.sql",
            "-- trek:no_transaction\nDROP TABLE u;\nDROP INDEX CONCURRENTLY IF EXISTS nothing_here;\n",
        );
    let db = TestDb::new("down_inherits");
    let mut client = db.client();
    let migrations = folder.read();
    dev(&migrations).run(&mut client).unwrap();
    assert!(index_exists(&mut client, "t_a"));

    let report = dev(&migrations)
        .revert(&mut client, Revert::Steps(2))
        .unwrap();
    assert_eq!(report.reverted.len(), 2);
    assert!(!index_exists(&mut client, "t_a"));
    assert!(!table_exists(&mut client, "u"));
    assert_eq!(applied_versions(&mut client), ["1"]);

    // The dev rewind runs the same down: edit the index migration and run again.
    dev(&migrations).run(&mut client).unwrap();
    let edited = folder.file(
        "2_idx.sql",
        "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a, b);\n",
    );
    let report = dev(&edited.read()).run(&mut client).unwrap();
    assert_eq!(report.reverted.len(), 2, "{report:?}");
    assert_eq!(applied_versions(&mut client), ["1", "2", "3"]);
    let columns: i16 = client
        .query_one(
            "SELECT indnatts FROM pg_index WHERE indexrelid = 't_a'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(columns, 2, "the edited index was built");
}

#[test]
fn a_broken_captured_down_is_replaced_from_the_file_and_the_error_says_how() {
    let folder = Folder::new("broken_down")
        .file("1_t.sql", TABLE)
        .file("1_t.down.sql", "DROP TABLE t;\n")
        .file("2_u.sql", "CREATE TABLE u (id int);\n")
        .file("2_u.down.sql", "DROP TABLE u_typo;\n");
    let db = TestDb::new("broken_down");
    let mut client = db.client();
    dev(&folder.read()).run(&mut client).unwrap();
    client.batch_execute("INSERT INTO t VALUES (1, 1)").unwrap();

    // Editing 2 makes dev rewind through its broken captured down.
    let folder = folder.file("2_u.sql", "CREATE TABLE u (id bigint);\n");
    let err = dev(&folder.read()).run(&mut client).unwrap_err();
    let Error::Migration {
        script, failure, ..
    } = &err
    else {
        panic!("expected the down's failure, got {err}");
    };
    assert_eq!(*script, Script::Down);
    assert_eq!(failure.path, "2_u.down.sql");
    assert_eq!(failure.location.as_ref().map(|l| l.line), Some(1));
    let text = err.to_string();
    assert!(text.contains("captured when 2 u was applied"), "{text}");
    assert!(text.contains("cargo trek repair --downs"), "{text}");
    assert!(text.contains("cargo trek reset"), "{text}");
    assert!(text.contains("data in this database is lost"), "{text}");
    assert!(text.contains("2 u stays applied"), "{text}");
    assert_eq!(applied_versions(&mut client), ["1", "2"]);

    // Fixing the file alone changes nothing: the captured text runs, and the error says the
    // file differs.
    let folder = folder.file("2_u.down.sql", "DROP TABLE u;\n");
    let err = dev(&folder.read()).run(&mut client).unwrap_err();
    assert!(
        err.to_string().contains("differs from the captured one"),
        "{err}"
    );

    // Refreshing the downs replaces it, audited. (`repair` would accept the edit of 2 instead;
    // `cargo-trek/tests/downs.rs` shows it naming the stale down.)
    let migrations = folder.read();
    let repaired = Migrator::new(&migrations)
        .refresh_downs(&mut client)
        .unwrap();
    assert_eq!(repaired.downs_refreshed, ["2 u"]);
    assert_eq!(
        audited(&mut client, "repair"),
        ["u success"],
        "one audited refresh"
    );
    assert!(Migrator::new(&migrations)
        .refresh_downs(&mut client)
        .unwrap()
        .is_empty());
    let report = dev(&migrations).run(&mut client).unwrap();
    assert_eq!(report.reverted.len(), 1);
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM t", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "the developer's data survived: no reset");
}

#[test]
fn a_no_transaction_down_that_fails_halfway_is_recorded_and_continued() {
    let folder = Folder::new("half_reverted")
        .file("1_t.sql", TABLE)
        .file("2_idx.sql", "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nCREATE INDEX CONCURRENTLY t_b ON t (b);\n")
        .file(
            "2_idx.down.sql",
            "DROP INDEX CONCURRENTLY t_a;\nDROP INDEX CONCURRENTLY t_a_typo;\n",
        );
    let db = TestDb::new("half_reverted");
    let mut client = db.client();
    let migrations = folder.read();
    dev(&migrations).run(&mut client).unwrap();

    let err = dev(&migrations)
        .revert(&mut client, Revert::Steps(1))
        .unwrap_err();
    let Error::Migration {
        marked_failed,
        failure,
        ..
    } = &err
    else {
        panic!("expected the down's failure, got {err}");
    };
    assert!(*marked_failed, "{err}");
    assert_eq!(failure.location.as_ref().map(|l| l.line), Some(2));
    let text = err.to_string();
    assert!(text.contains("half-reverted"), "{text}");
    assert!(text.contains("1 of its 2 statements ran"), "{text}");
    assert!(!text.contains("was not applied"), "{text}");
    assert!(!index_exists(&mut client, "t_a"), "the first statement ran");
    assert_eq!(reverted_statements(&mut client, "2"), Some(1));
    assert_eq!(audited(&mut client, "revert"), ["idx failure"]);
    let status = dev(&migrations).status(&mut client).unwrap();
    assert_eq!(status.count(State::HalfReverted), 1);
    assert!(!status.is_up_to_date());
    // A forward-only run refuses to go on top of it, and says how to finish it.
    let err = Migrator::new(&migrations)
        .workflow(Workflow::Prod)
        .run(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::HalfReverted { .. }), "{err}");
    assert!(err.to_string().contains("cargo trek down"), "{err}");

    // Fix the file (the statement that ran is unchanged) and refresh: the progress is kept,
    // and the next revert continues at the failing statement.
    let folder = folder.file(
        "2_idx.down.sql",
        "DROP INDEX CONCURRENTLY t_a;\nDROP INDEX CONCURRENTLY t_b;\n",
    );
    let migrations = folder.read();
    Migrator::new(&migrations)
        .refresh_downs(&mut client)
        .unwrap();
    assert_eq!(reverted_statements(&mut client, "2"), Some(1));
    dev(&migrations)
        .revert(&mut client, Revert::Steps(1))
        .unwrap();
    assert!(!index_exists(&mut client, "t_b"));
    assert_eq!(applied_versions(&mut client), ["1"]);
    assert_eq!(
        audited(&mut client, "revert"),
        ["idx failure", "idx success"]
    );
}

#[test]
fn dev_continues_a_half_reverted_down_instead_of_resetting() {
    let folder = Folder::new("half_reverted_dev")
        .file("1_t.sql", TABLE)
        .file("1_t.down.sql", "DROP TABLE t;\n")
        .file("2_idx.sql", INDEX)
        .file(
            "2_idx.down.sql",
            "DROP INDEX CONCURRENTLY t_a;\nDROP TABLE IF EXISTS must_exist_first;\nSELECT 1/count(*) FROM pg_class WHERE relname = 'gate';\n",
        );
    let db = TestDb::new("half_reverted_dev");
    let mut client = db.client();
    dev(&folder.read()).run(&mut client).unwrap();
    client.batch_execute("INSERT INTO t VALUES (7, 7)").unwrap();
    let edited = folder.file(
        "2_idx.sql",
        "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a, b);\n",
    );
    let migrations = edited.read();
    dev(&migrations).run(&mut client).unwrap_err();
    assert_eq!(reverted_statements(&mut client, "2"), Some(2));
    // What the down was waiting for is there now: dev goes on from the third statement.
    client.batch_execute("CREATE TABLE gate (id int)").unwrap();
    let report = dev(&migrations).run(&mut client).unwrap();
    assert_eq!(report.reverted.len(), 1);
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM t", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "no reset: the data stayed");
}

#[test]
fn a_down_without_statements_declares_the_migration_irreversible() {
    let folder = Folder::new("irreversible")
        .file("1_t.sql", TABLE)
        .file(
            "1_t.down.sql",
            "-- Not reversible: the data cannot come back.\n",
        )
        .file("2_u.sql", "CREATE TABLE u (id int);\n")
        .file("2_u.down.sql", "DROP TABLE u;\n");
    let db = TestDb::new("irreversible");
    let mut client = db.client();
    let migrations = folder.read();
    dev(&migrations).run(&mut client).unwrap();
    let irreversible: bool = client
        .query_one(
            "SELECT down_irreversible FROM trek.applied WHERE version = '1'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(irreversible);

    // `down` through it refuses before reverting anything.
    let err = dev(&migrations)
        .revert(&mut client, Revert::Steps(2))
        .unwrap_err();
    assert!(matches!(err, Error::Irreversible { .. }), "{err}");
    assert!(err.to_string().contains("1 t cannot be reverted"), "{err}");
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    dev(&migrations)
        .revert(&mut client, Revert::Steps(1))
        .unwrap();
    assert_eq!(applied_versions(&mut client), ["1"]);

    // dev resets instead of rewinding through it, and says why.
    dev(&migrations).run(&mut client).unwrap();
    let edited = folder.file("1_t.sql", "CREATE TABLE t (a int, b int, c int);\n");
    let report = dev(&edited.read()).run(&mut client).unwrap();
    let plan = report.plan.expect("a plan");
    let reasons: Vec<&str> = plan.steps.iter().map(|s| s.reason.as_str()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("irreversible")),
        "{reasons:?}"
    );
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
}

/// A migrations folder shaped like a large real project: 29 blocks of 10 migrations, each block
/// a table with a column, a concurrent index (its down inheriting `no_transaction`), an enum,
/// a trigger function with semicolons in its body, a data migration (irreversible, a
/// comment-only down, in the first 9 blocks), a view, a unique concurrent index (its down with
/// its own directive), a constraint added `NOT VALID` and validated, and a comment.
fn large_project(blocks: usize) -> Folder {
    let mut folder = Folder::new("large_project");
    for b in 0..blocks {
        let t = format!("t_{b}");
        let n = |k: usize| format!("{:04}", b * 10 + k);
        let scripts: [(&str, String, String); 10] = [
            (
                "create",
                format!("CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);\n"),
                format!("DROP TABLE {t};\n"),
            ),
            (
                "email",
                format!("ALTER TABLE {t} ADD COLUMN email text;\n"),
                format!("ALTER TABLE {t} DROP COLUMN email;\n"),
            ),
            (
                "email_index",
                format!("-- trek:no_transaction\nCREATE INDEX CONCURRENTLY {t}_email ON {t} (email);\n"),
                format!("DROP INDEX CONCURRENTLY {t}_email;\n"),
            ),
            (
                "status",
                format!("CREATE TYPE {t}_status AS ENUM ('new', 'done');\nALTER TABLE {t} ADD COLUMN status {t}_status NOT NULL DEFAULT 'new';\n"),
                format!("ALTER TABLE {t} DROP COLUMN status;\nDROP TYPE {t}_status;\n"),
            ),
            (
                "trigger",
                format!("CREATE FUNCTION {t}_trim() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.name := trim(NEW.name);\n  RETURN NEW;\nEND;\n$$;\nCREATE TRIGGER {t}_trim BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION {t}_trim();\n"),
                format!("DROP TRIGGER {t}_trim ON {t};\nDROP FUNCTION {t}_trim();\n"),
            ),
            (
                "backfill",
                format!("INSERT INTO {t} (name, email) SELECT ' n' || g, 'e' || g || '@example.com' FROM generate_series(1, 20) g;\n"),
                if b < 9 {
                    "-- Not reversible: the rows may have changed since.\n".to_owned()
                } else {
                    format!("DELETE FROM {t};\n")
                },
            ),
            (
                "names_view",
                format!("CREATE VIEW {t}_names AS SELECT id, name FROM {t};\n"),
                format!("DROP VIEW {t}_names;\n"),
            ),
            (
                "name_key",
                format!("-- trek:no_transaction\nCREATE UNIQUE INDEX CONCURRENTLY {t}_name_key ON {t} (name);\n"),
                format!("-- trek:no_transaction\nDROP INDEX CONCURRENTLY {t}_name_key;\n"),
            ),
            (
                "name_check",
                format!("ALTER TABLE {t} ADD CONSTRAINT {t}_name_len CHECK (length(name) < 100) NOT VALID;\nALTER TABLE {t} VALIDATE CONSTRAINT {t}_name_len;\n"),
                format!("ALTER TABLE {t} DROP CONSTRAINT {t}_name_len;\n"),
            ),
            (
                "comment",
                format!("COMMENT ON TABLE {t} IS 'block {b}';\n"),
                format!("COMMENT ON TABLE {t} IS NULL;\n"),
            ),
        ];
        for (k, (name, up, down)) in scripts.into_iter().enumerate() {
            let stem = format!("{}_{t}_{name}", n(k + 1));
            folder = folder
                .file(&format!("{stem}.sql"), &up)
                .file(&format!("{stem}.down.sql"), &down);
        }
    }
    folder
}

/// The public schema as the catalogue describes it, one sorted line per object.
fn schema_of(client: &mut Client) -> String {
    client
        .query_one(
            "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
               SELECT format('column %s.%s %s %s %s', table_name, column_name, data_type,
                             is_nullable, column_default)
               FROM information_schema.columns WHERE table_schema = 'public'
               UNION ALL SELECT format('index %s valid=%s', pg_get_indexdef(i.indexrelid), i.indisvalid)
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relnamespace = 'public'::regnamespace
               UNION ALL SELECT format('constraint %s %s', conname, pg_get_constraintdef(oid))
               FROM pg_constraint WHERE connamespace = 'public'::regnamespace
               UNION ALL SELECT format('view %s %s', viewname, definition)
               FROM pg_views WHERE schemaname = 'public'
               UNION ALL SELECT format('function %s %s', proname, prosrc)
               FROM pg_proc WHERE pronamespace = 'public'::regnamespace
               UNION ALL SELECT format('trigger %s', pg_get_triggerdef(oid))
               FROM pg_trigger WHERE NOT tgisinternal
               UNION ALL SELECT format('enum %s %s %s', t.typname, e.enumsortorder, e.enumlabel)
               FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
               UNION ALL SELECT format('comment %s %s', relname, obj_description(oid, 'pg_class'))
               FROM pg_class WHERE relnamespace = 'public'::regnamespace
                 AND obj_description(oid, 'pg_class') IS NOT NULL
             ) s(x)",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn a_large_project_goes_down_twenty_steps_and_up_again_to_the_schema_of_a_fresh_build() {
    let folder = large_project(29);
    let migrations = folder.read();
    assert_eq!(migrations.versioned().count(), 290);
    let irreversible = migrations
        .versioned()
        .filter(|m| m.down().is_some_and(trek::Down::is_irreversible))
        .count();
    assert_eq!(irreversible, 9);

    let fresh = TestDb::new("large_fresh");
    let mut fresh_client = fresh.client();
    dev(&migrations).run(&mut fresh_client).unwrap();
    let expected = schema_of(&mut fresh_client);

    let db = TestDb::new("large_cycle");
    let mut client = db.client();
    dev(&migrations).run(&mut client).unwrap();
    let report = dev(&migrations)
        .revert(&mut client, Revert::Steps(20))
        .unwrap();
    assert_eq!(report.reverted.len(), 20);
    assert_eq!(applied_versions(&mut client).len(), 270);
    assert!(!table_exists(&mut client, "t_28"));
    assert!(!table_exists(&mut client, "t_27"));
    let report = dev(&migrations).run(&mut client).unwrap();
    assert_eq!(report.applied.len(), 20);
    assert_eq!(schema_of(&mut client), expected);

    // Going down through an irreversible migration is refused before anything is reverted.
    let err = dev(&migrations)
        .revert(&mut client, Revert::Steps(290 - 85))
        .unwrap_err();
    assert!(matches!(err, Error::Irreversible { .. }), "{err}");
    assert_eq!(applied_versions(&mut client).len(), 290);
}

#[test]
fn a_history_of_layout_3_is_read_upgraded_and_its_captured_downs_still_run() {
    let folder = Folder::new("layout_3")
        .file("1_t.sql", TABLE)
        .file("1_t.down.sql", "DROP TABLE t;\n")
        .file("2_idx.sql", INDEX)
        .file(
            "2_idx.down.sql",
            "-- trek:no_transaction\nDROP INDEX CONCURRENTLY t_a;\n",
        );
    let db = TestDb::new("layout_3");
    let mut client = db.client();
    let migrations = folder.read();
    dev(&migrations).run(&mut client).unwrap();
    // What a trek of layout 3 left: no down columns.
    client
        .batch_execute(
            "ALTER TABLE trek.applied DROP COLUMN down_path, DROP COLUMN down_no_transaction, \
             DROP COLUMN down_irreversible, DROP COLUMN reverted_statements; \
             UPDATE trek.meta SET value = '3' WHERE key = 'layout_version'",
        )
        .unwrap();
    let status = dev(&migrations).status(&mut client).unwrap();
    assert!(status.is_up_to_date(), "{:?}", status.entries);
    dev(&migrations)
        .revert(&mut client, Revert::Steps(1))
        .unwrap();
    assert!(!index_exists(&mut client, "t_a"));
    let layout: String = client
        .query_one(
            "SELECT value FROM trek.meta WHERE key = 'layout_version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(layout, trek::LAYOUT_VERSION.to_string());
    assert_eq!(applied_versions(&mut client), ["1"]);
}

#[test]
fn a_no_transaction_down_records_each_statement_so_an_interrupted_one_is_half_reverted() {
    // The down's second statement waits on a lock another session holds; its connection is
    // then cut, as a killed trek's would be.
    let folder = Folder::new("down_killed")
        .file("1_t.sql", TABLE)
        .file(
            "2_k.sql",
            "CREATE TABLE k1 (id int);\nCREATE TABLE k2 (id int);\n",
        )
        .file(
            "2_k.down.sql",
            "-- trek:no_transaction\nDROP TABLE k1;\nALTER TABLE k2 ADD COLUMN x int;\nDROP TABLE k2;\n",
        );
    let db = TestDb::new("down_killed");
    let mut client = db.client();
    let migrations = folder.read();
    dev(&migrations).run(&mut client).unwrap();
    let mut blocker = db.client();
    blocker
        .batch_execute("BEGIN; SELECT count(*) FROM k2")
        .unwrap();
    let url = db.url.clone();
    let reverting = std::thread::spawn(move || {
        let migrations = Folder::new("down_killed_copy")
            .file("1_t.sql", TABLE)
            .file(
                "2_k.sql",
                "CREATE TABLE k1 (id int);\nCREATE TABLE k2 (id int);\n",
            )
            .file(
                "2_k.down.sql",
                "-- trek:no_transaction\nDROP TABLE k1;\nALTER TABLE k2 ADD COLUMN x int;\nDROP TABLE k2;\n",
            );
        let mut client = trek::postgres::Client::connect(&url, trek::postgres::NoTls).unwrap();
        let m = migrations.read();
        dev(&m)
            .revert(&mut client, Revert::Steps(1))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let mut watcher = db.client();
    let started = std::time::Instant::now();
    let pid: i32 = loop {
        let row = watcher
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND pid <> pg_backend_pid() AND query LIKE '%ALTER TABLE k2%'",
                &[],
            )
            .unwrap();
        if let Some(row) = row {
            break row.get(0);
        }
        if reverting.is_finished() || started.elapsed().as_secs() >= 30 {
            panic!("the down never reached ALTER TABLE: {:?}", reverting.join());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    watcher
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    assert!(
        reverting.join().unwrap().is_err(),
        "the revert's session was cut"
    );
    blocker.batch_execute("ROLLBACK").unwrap();

    assert!(!table_exists(&mut client, "k1"), "the first statement ran");
    assert_eq!(reverted_statements(&mut client, "2"), Some(1));
    let status = dev(&migrations).status(&mut client).unwrap();
    assert_eq!(status.count(State::HalfReverted), 1);
    // prod refuses to go on top of it; `repair` clears the mark once it is put back.
    let err = Migrator::new(&migrations)
        .workflow(Workflow::Prod)
        .allow_destructive_on(&db.name)
        .run(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::HalfReverted { .. }), "{err}");
    // dev continues the down (from the ALTER TABLE), then applies 2 again.
    let report = dev(&migrations).run(&mut client).unwrap();
    assert_eq!(report.reverted.len(), 1, "{report:?}");
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    assert!(table_exists(&mut client, "k1") && table_exists(&mut client, "k2"));
    assert_eq!(reverted_statements(&mut client, "2"), None);
}

#[test]
fn repair_clears_a_half_reverted_mark_and_a_missing_down_file_keeps_the_captured_down() {
    let folder = Folder::new("down_repair").file("1_t.sql", TABLE).file(
        "1_t.down.sql",
        "-- trek:no_transaction\nALTER TABLE t DROP COLUMN b;\nDROP TABLE nope;\n",
    );
    let db = TestDb::new("down_repair");
    let mut client = db.client();
    let migrations = folder.read();
    dev(&migrations).run(&mut client).unwrap();
    dev(&migrations)
        .revert(&mut client, Revert::Steps(1))
        .unwrap_err();
    assert_eq!(reverted_statements(&mut client, "1"), Some(1));
    // Put back by hand what the first statement undid, then repair.
    client
        .batch_execute("ALTER TABLE t ADD COLUMN b int")
        .unwrap();
    let repaired = Migrator::new(&migrations).repair(&mut client).unwrap();
    assert_eq!(repaired.cleared, ["1 t"]);
    assert_eq!(reverted_statements(&mut client, "1"), None);
    assert!(dev(&migrations)
        .status(&mut client)
        .unwrap()
        .is_up_to_date());

    // A down file moved away: refreshing keeps the captured down.
    let moved = folder.remove("1_t.down.sql");
    let migrations = moved.read();
    let refreshed = Migrator::new(&migrations)
        .refresh_downs(&mut client)
        .unwrap();
    assert!(refreshed.downs_refreshed.is_empty());
    let kept: Option<String> = client
        .query_one("SELECT down_sql FROM trek.applied WHERE version = '1'", &[])
        .unwrap()
        .get(0);
    assert!(kept.is_some_and(|d| d.contains("DROP COLUMN b")));
}

#[test]
fn an_error_postgres_gives_no_position_for_points_at_the_statement_that_failed() {
    for (script, line) in [
        (
            "CREATE TABLE r (id int);\nCREATE TABLE r_old AS SELECT * FROM r;\nDROP TABLE r;\nCREATE VIEW v2 AS SELECT 1;\nDROP TABLE r;\n",
            5,
        ),
        ("SELECT 1;\n\nCREATE TABLE s (id int);\nDROP TABLE s;\nDROP TABLE s;\n", 5),
        (
            "CREATE TABLE d (id int);\nCREATE VIEW dv AS SELECT * FROM d;\nDROP TABLE d;\n",
            3,
        ),
    ] {
        let folder = Folder::new("no_position").file("1_x.sql", script);
        let db = TestDb::new("no_position");
        let mut client = db.client();
        let err = Migrator::new(&folder.read()).run(&mut client).unwrap_err();
        let Error::Migration { failure, .. } = &err else {
            panic!("expected the script's failure, got {err}");
        };
        assert_eq!(
            failure.location.as_ref().map(|l| l.line),
            Some(line),
            "{script}: {failure}"
        );
        assert!(!table_exists(&mut client, "r_old"), "nothing of the replay stays");
    }
}
