//! Down scripts through the command line: `new --down --no-transaction` writes a down that
//! works, `verify` and `lint` check downs like ups, `repair --downs` replaces broken captured
//! downs, a half-reverted migration shows in `status` and `down` continues it, and a
//! comment-only down makes its migration irreversible.

use serde_json::Value;
use trek_tests::cli::{Output, Project};
use trek_tests::TestDb;

fn project(label: &str) -> (Project, TestDb) {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    let p = Project::new(label);
    let db = TestDb::new(&format!("cli_{label}"));
    p.file("Trek.toml", &format!("[env.dev]\nurl = \"{}\"\n", db.url));
    (p, db)
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout))
}

fn versions(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT version FROM trek.applied WHERE kind = 'versioned' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn relation_exists(db: &TestDb, name: &str) -> bool {
    db.client()
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .unwrap()
        .get(0)
}

fn audit(db: &TestDb, action: &str) -> Vec<(String, String)> {
    db.client()
        .query(
            "SELECT outcome, coalesce(detail, '') FROM trek.audit WHERE action = $1 ORDER BY id",
            &[&action],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[test]
fn new_with_down_and_no_transaction_writes_a_down_that_reverts_a_concurrent_index() {
    let (p, db) = project("down_new_nt");
    p.file("migrations/0001_t.sql", "CREATE TABLE t (a int);\n");
    p.trek(&["new", "idx", "--down", "--no-transaction"])
        .run()
        .assert_code(0);
    let files = p.list("migrations");
    let up = files
        .iter()
        .find(|f| f.ends_with("_idx.sql"))
        .unwrap()
        .clone();
    let down = files
        .iter()
        .find(|f| f.ends_with("_idx.down.sql"))
        .unwrap()
        .clone();
    let down_text = p.read(&format!("migrations/{down}"));
    assert!(
        down_text.starts_with("-- trek:no_transaction\n"),
        "{down_text}"
    );
    let up_text = p.read(&format!("migrations/{up}"));
    p.file(
        &format!("migrations/{up}"),
        &format!("{up_text}CREATE INDEX CONCURRENTLY t_a ON t (a);\n"),
    );
    p.file(
        &format!("migrations/{down}"),
        &format!("{down_text}DROP INDEX CONCURRENTLY t_a;\n"),
    );
    p.trek(&["verify"]).run().assert_code(0);
    p.trek(&["up"]).run().assert_code(0);
    assert!(relation_exists(&db, "t_a"));
    p.trek(&["down"])
        .run()
        .assert_code(0)
        .stdout_has("reverted");
    assert!(!relation_exists(&db, "t_a"));
    assert_eq!(versions(&db), ["0001"]);

    // Without the directive in the down, it inherits the up's and works the same.
    p.file(
        &format!("migrations/{down}"),
        "DROP INDEX CONCURRENTLY t_a;\n",
    );
    p.trek(&["up"]).run().assert_code(0);
    p.trek(&["down"]).run().assert_code(0);
    assert!(!relation_exists(&db, "t_a"));
}

#[test]
fn verify_and_lint_check_down_scripts_like_up_scripts() {
    let (p, _db) = project("down_verify");
    p.file("migrations/0001_t.sql", "CREATE TABLE t (a int);\n")
        .file("migrations/0001_t.down.sql", "DROP TABLE t;\n")
        .file("migrations/0002_idx.sql", "CREATE INDEX t_a ON t (a);\n")
        // A transactional migration whose down needs no transaction: found offline.
        .file(
            "migrations/0002_idx.down.sql",
            "DROP INDEX CONCURRENTLY t_a;\n",
        );
    p.trek(&["verify"])
        .run()
        .assert_code(0)
        .stdout_has("migrations/0002_idx.down.sql:1: warning:");
    let out = p.trek(&["lint", "--offline", "--json"]).run();
    out.assert_code(1);
    let doc = json(&out);
    let findings = doc["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["file"] == "migrations/0002_idx.down.sql"
                && f["migration"] == "0002 idx (down)"),
        "{doc}"
    );
    assert!(
        !findings
            .iter()
            .any(|f| f["file"] == "migrations/0001_t.down.sql"),
        "dropping what the up created is what a down is for: {doc}"
    );

    // BEGIN/COMMIT in a down that runs in trek's transaction is an error, with its line.
    p.file(
        "migrations/0002_idx.down.sql",
        "BEGIN;\nDROP INDEX t_a;\nCOMMIT;\n",
    );
    p.trek(&["verify"])
        .run()
        .assert_code(1)
        .stdout_has("migrations/0002_idx.down.sql:1:")
        .stdout_has("migrations/0002_idx.down.sql:3:");
}

#[test]
fn repair_downs_replaces_a_broken_captured_down_and_down_then_works() {
    let (p, db) = project("down_refresh");
    p.file("migrations/0001_t.sql", "CREATE TABLE t (a int);\n")
        .file("migrations/0001_t.down.sql", "DROP TABLE t_typo;\n");
    p.trek(&["up"]).run().assert_code(0);
    let out = p.trek(&["down"]).run();
    out.assert_code(1)
        .stderr_has("migrations/0001_t.down.sql:1:1: ERROR 42P01")
        .stderr_has("captured when 0001 t was applied")
        .stderr_has("cargo trek repair --downs");
    assert_eq!(versions(&db), ["0001"]);

    p.file("migrations/0001_t.down.sql", "DROP TABLE t;\n");
    p.trek(&["repair"])
        .run()
        .assert_code(0)
        .stdout_has("nothing to repair")
        .stdout_has("the down files of 0001 t differ")
        .stdout_has("`cargo trek repair --downs` replaces them");
    let out = p.trek(&["repair", "--downs", "--json"]).run();
    out.assert_code(0);
    assert_eq!(json(&out)["downs_refreshed"][0], "0001 t");
    assert_eq!(
        audit(&db, "repair"),
        [(
            "success".to_owned(),
            "replaced the captured down script with 0001_t.down.sql".to_owned()
        )]
    );
    p.trek(&["repair", "--downs"])
        .run()
        .assert_code(0)
        .stdout_has("every captured down script matches its file");
    p.trek(&["down"]).run().assert_code(0);
    assert!(versions(&db).is_empty());
    assert!(!relation_exists(&db, "t"));
}

#[test]
fn a_half_reverted_migration_shows_in_status_and_down_continues_it() {
    let (p, db) = project("down_half");
    p.file("migrations/0001_t.sql", "CREATE TABLE t (a int, b int);\n")
        .file(
            "migrations/0002_idx.sql",
            "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n",
        )
        .file(
            "migrations/0002_idx.down.sql",
            "DROP INDEX CONCURRENTLY t_a;\nDROP INDEX CONCURRENTLY t_a_typo;\n",
        );
    p.trek(&["up"]).run().assert_code(0);
    p.trek(&["down"])
        .run()
        .assert_code(1)
        .stderr_has("failed halfway")
        .stderr_has("half-reverted")
        .stderr_has("migrations/0002_idx.down.sql:2:");
    assert!(!relation_exists(&db, "t_a"));
    let out = p.trek(&["status", "--json"]).run();
    let doc = json(&out);
    assert_eq!(doc["migrations"][1]["state"], "half-reverted", "{doc}");
    assert_eq!(doc["migrations"][1]["reverted_statements"], 1, "{doc}");
    assert!(
        doc["migrations"][0].get("reverted_statements").is_none(),
        "{doc}"
    );
    p.trek(&["status", "--check"]).run().assert_code(1);
    p.trek(&["status"]).run().stdout_has("1 half-reverted");

    // The object the second statement needs exists now: `down` continues at it, and does not
    // fail on the first statement, which already ran.
    db.client()
        .batch_execute("CREATE INDEX t_a_typo ON t (b)")
        .unwrap();
    p.trek(&["down"]).run().assert_code(0);
    assert_eq!(versions(&db), ["0001"]);
    assert!(!relation_exists(&db, "t_a_typo"));
}

#[test]
fn comment_only_downs_verify_apply_and_down_refuses_them_by_name() {
    let (p, db) = project("down_irreversible");
    p.file("migrations/0001_t.sql", "CREATE TABLE t (a int);\n")
        .file("migrations/0001_t.down.sql", "-- Not reversible\n")
        .file("migrations/0002_u.sql", "CREATE TABLE u (a int);\n")
        .file("migrations/0002_u.down.sql", "DROP TABLE u;\n");
    p.trek(&["verify"])
        .run()
        .assert_code(0)
        .stdout_has("2 with a down script, 1 of them irreversible");
    p.trek(&["up"]).run().assert_code(0);
    let out = p.trek(&["down", "--steps", "2", "--json"]).run();
    out.assert_code(1);
    assert_eq!(json(&out)["error"]["kind"], "irreversible");
    assert_eq!(versions(&db), ["0001", "0002"]);
    p.trek(&["down", "--steps", "2"])
        .run()
        .assert_code(1)
        .stderr_has("0001 t cannot be reverted");
    p.trek(&["down"]).run().assert_code(0);
    assert_eq!(versions(&db), ["0001"]);
}
