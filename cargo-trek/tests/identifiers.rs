//! Schema names from the configuration (trek's own `schema`, in `Trek.toml` or `TREK_SCHEMA`,
//! and the managed `schemas` a reset drops) with quotes, spaces, mixed case and SQL in them
//! work end to end (up, status, down, reset, dump) and cannot inject SQL: a sentinel table in
//! a schema trek does not manage survives every command, and trek's tables live in the schema
//! with exactly the configured name.

use trek_tests::cli::Project;
use trek_tests::TestDb;

/// `"…"` with `"` doubled.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn schemas(db: &TestDb) -> Vec<String> {
    let mut names: Vec<String> = db
        .client()
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' \
             AND nspname <> 'information_schema' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    names.sort();
    names
}

fn count(db: &TestDb, sql: &str, schema: &str) -> i64 {
    db.client().query_one(sql, &[&schema]).unwrap().get(0)
}

/// How many rows trek.applied has in the schema named exactly `schema`.
fn applied(db: &TestDb, schema: &str) -> i64 {
    db.client()
        .query_one(
            &format!("SELECT count(*) FROM {}.applied", quote_ident(schema)),
            &[],
        )
        .unwrap()
        .get(0)
}

#[track_caller]
fn sentinel_survives(db: &TestDb, after: &str) {
    let rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM keep.sentinel", &[])
        .unwrap_or_else(|e| panic!("after {after}, keep.sentinel is gone: {e}"))
        .get(0);
    assert_eq!(rows, 1, "after {after}");
}

/// Runs up, status, down, reset and dump with trek's schema `schema` and the managed schema
/// `managed`, given through Trek.toml or (`via_env`) TREK_SCHEMA.
fn round_trip(label: &str, schema: &str, managed: &str, via_env: bool) {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    let p = Project::new(label);
    let db = TestDb::new(&format!("ident_{label}"));
    db.client()
        .batch_execute(
            "CREATE SCHEMA keep; CREATE TABLE keep.sentinel (id int); \
             INSERT INTO keep.sentinel VALUES (1);",
        )
        .unwrap();
    let m = quote_ident(managed);
    let mut toml = format!("[trek]\nschemas = [{}]\n", toml_string(managed));
    if !via_env {
        toml.push_str(&format!("schema = {}\n", toml_string(schema)));
    }
    toml.push_str("\n[env.dev]\n");
    p.file("Trek.toml", &toml)
        .file(
            "migrations/0001_schema.sql",
            &format!("CREATE SCHEMA IF NOT EXISTS {m};\nCREATE TABLE {m}.users (id int);\n"),
        )
        .file(
            "migrations/0001_schema.down.sql",
            &format!("DROP SCHEMA {m} CASCADE;\n"),
        )
        .file(
            "migrations/0002_orders.sql",
            &format!("CREATE TABLE {m}.orders (id int);\n"),
        )
        .file(
            "migrations/0002_orders.down.sql",
            &format!("DROP TABLE {m}.orders;\n"),
        );
    let trek = |args: &[&str]| {
        let mut t = p.trek(args).env("DATABASE_URL", &db.url);
        if via_env {
            t = t.env("TREK_SCHEMA", schema);
        }
        t.run()
    };

    trek(&["up"])
        .assert_code(0)
        .stdout_has("applied 0002 orders");
    let mut expected = vec![
        "keep".to_owned(),
        managed.to_owned(),
        "public".to_owned(),
        schema.to_owned(),
    ];
    expected.sort();
    assert_eq!(schemas(&db), expected, "after up");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename IN \
             ('applied', 'audit', 'meta')",
            schema
        ),
        3,
        "trek's tables are in the schema named exactly {schema:?}"
    );
    assert_eq!(applied(&db, schema), 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            managed
        ),
        2
    );
    sentinel_survives(&db, "up");

    trek(&["status", "--check"])
        .assert_code(0)
        .stdout_has("0002")
        .stdout_has("applied");
    let out = trek(&["status", "--json"]);
    out.assert_code(0);
    serde_json::from_str::<serde_json::Value>(&out.stdout).expect("one JSON document");

    trek(&["down"])
        .assert_code(0)
        .stdout_has("reverted 0002 orders");
    assert_eq!(applied(&db, schema), 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            managed
        ),
        1
    );
    sentinel_survives(&db, "down");

    trek(&["reset"]).assert_code(0);
    assert_eq!(applied(&db, schema), 2);
    assert_eq!(schemas(&db), expected, "after reset");
    let resets: i64 = db
        .client()
        .query_one(
            &format!(
                "SELECT count(*) FROM {}.audit WHERE action = 'reset'",
                quote_ident(schema)
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(resets, 1, "the audit log survived the reset and records it");
    sentinel_survives(&db, "reset");

    let out = trek(&["dump"]);
    out.assert_code(0);
    assert!(out.stdout.contains("orders"), "{}", out.stdout);
    sentinel_survives(&db, "dump");
    assert_eq!(schemas(&db), expected, "after dump");
}

#[test]
fn a_schema_name_with_quotes_and_spaces_works_end_to_end() {
    round_trip(
        "quotes",
        "Odd \"Schema\" name",
        "App \"Data\" schema",
        false,
    );
}

#[test]
fn a_schema_name_with_a_space_works_end_to_end() {
    round_trip("space", "my schema", "app data", false);
}

#[test]
fn a_mixed_case_schema_name_from_trek_schema_works_end_to_end() {
    round_trip("mixed", "MixedCase", "AppData", true);
}

#[test]
fn schema_names_that_try_to_inject_sql_are_only_names() {
    round_trip(
        "inject",
        "trek; DROP TABLE keep.sentinel; --",
        "app\"; DROP TABLE keep.sentinel; --",
        false,
    );
    round_trip(
        "inject_env",
        "x\"; DROP SCHEMA keep CASCADE; --",
        "app'); DROP TABLE keep.sentinel; --",
        true,
    );
}
