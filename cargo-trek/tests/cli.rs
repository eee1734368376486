//! End-to-end tests of `cargo trek`: the real binary, in a throwaway package, against a real
//! PostgreSQL (a database per test from the `trek-tests` harness). Each test asserts what the
//! database holds afterwards, the exit status, and what was printed.

use serde_json::Value;
use trek_tests::cli::{Output, Project};
use trek_tests::TestDb;

fn project(label: &str) -> Project {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    Project::new(label)
}

/// A project with two migrations (each with a down script) and its own database.
fn migrated_project(label: &str) -> (Project, TestDb) {
    let p = project(label);
    p.two_migrations();
    let db = TestDb::new(&format!("cli_{label}"));
    (p, db)
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout))
}

fn applied(db: &TestDb) -> Vec<(String, Option<String>, String)> {
    db.client()
        .query(
            "SELECT kind, version, name FROM trek.applied ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

fn versions(db: &TestDb) -> Vec<String> {
    applied(db).into_iter().filter_map(|(_, v, _)| v).collect()
}

fn table_exists(db: &TestDb, table: &str) -> bool {
    db.client()
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .unwrap()
        .get(0)
}

fn column_exists(db: &TestDb, table: &str, column: &str) -> bool {
    db.client()
        .query_one(
            "SELECT count(*) > 0 FROM information_schema.columns \
             WHERE table_name = $1 AND column_name = $2",
            &[&table, &column],
        )
        .unwrap()
        .get(0)
}

// ---------------------------------------------------------------------------------------------
// init, new, verify, completions: no database

#[test]
fn init_writes_config_folder_and_build_script_and_is_idempotent() {
    let p = project("init");
    let out = p.trek(&["init"]).run();
    out.assert_code(0)
        .stdout_has("created Trek.toml")
        .stdout_has("created migrations/")
        .stdout_has("created build.rs");
    assert!(p.read("Trek.toml").contains("[env.dev]"));
    assert!(p
        .read("build.rs")
        .contains("println!(\"cargo:rerun-if-changed=migrations\");"));
    assert_eq!(p.list("migrations"), vec![".keep"]);

    let again = p.trek(&["init"]).run();
    again
        .assert_code(0)
        .stdout_has("kept Trek.toml")
        .stdout_has("kept build.rs");
    assert_eq!(p.read("build.rs").matches("rerun-if-changed").count(), 1);

    // The Trek.toml it writes is valid: verify reads it.
    p.trek(&["verify"]).run().assert_code(0);
}

#[test]
fn init_merges_into_an_existing_build_script() {
    let p = project("init_merge");
    p.file(
        "build.rs",
        "fn main() {\n    println!(\"cargo:rustc-env=BUILT_BY=me\");\n}\n",
    );
    let out = p.trek(&["init", "--json"]).run();
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["updated"], serde_json::json!(["build.rs"]));
    assert_eq!(
        p.read("build.rs"),
        "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n    \
         println!(\"cargo:rustc-env=BUILT_BY=me\");\n}\n"
    );
}

#[test]
fn new_scaffolds_with_timestamps_or_the_next_number_and_refuses_collisions() {
    let p = project("new");
    let out = p.trek(&["new", "Create users!", "--down"]).run();
    out.assert_code(0).stdout_has("_create_users.sql");
    let files = p.list("migrations");
    assert_eq!(files.len(), 2, "{files:?}");
    let version = files[0].split('_').next().unwrap();
    assert_eq!(version.len(), 14, "a UTC timestamp: {files:?}");
    assert!(files.contains(&format!("{version}_create_users.down.sql")));
    assert!(files.contains(&format!("{version}_create_users.sql")));

    // The same name again is refused, exit 2.
    p.trek(&["new", "create users"])
        .run()
        .assert_code(2)
        .stderr_has("already has the name `create_users`");

    // A folder of small sequential numbers gets the next one, with the same padding.
    let q = project("new_seq");
    q.file("migrations/0007_first.sql", "SELECT 1;");
    let out = q
        .trek(&["new", "add e-mail index", "--no-transaction", "--json"])
        .run();
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["version"], "0008");
    assert_eq!(doc["created"][0], "migrations/0008_add_e_mail_index.sql");
    assert!(q
        .read("migrations/0008_add_e_mail_index.sql")
        .starts_with("-- trek:no_transaction\n"));

    q.trek(&["new", "refresh views", "--repeatable"])
        .run()
        .assert_code(0)
        .stdout_has("migrations/repeatable/refresh_views.sql");
    q.trek(&["new", "demo users", "--seed"])
        .run()
        .assert_code(0)
        .stdout_has("migrations/seeds/0001_demo_users.sql");
    q.trek(&["new", "!!!"]).run().assert_code(2);
    q.trek(&["new", "x", "--repeatable", "--down"])
        .run()
        .assert_code(2);
}

#[test]
fn verify_passes_a_good_folder_and_names_every_bad_file() {
    let (p, _db) = migrated_project("verify");
    p.trek(&["verify"])
        .run()
        .assert_code(0)
        .stdout_has("ok migrations: 2 migrations");
    let doc = json(&p.trek(&["verify", "--json"]).run());
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["versioned"], 2);

    p.file("migrations/create_orders.sql", "CREATE TABLE orders ();")
        .file(
            "migrations/0003_bad.sql",
            "-- trek:no_such_thing\nSELECT 1;",
        );
    let out = p.trek(&["verify"]).run();
    out.assert_code(1)
        .stdout_has("migrations/create_orders.sql")
        .stdout_has("migrations/0003_bad.sql:1")
        .stderr_has("2 problems found in migrations");
    let out = p.trek(&["verify", "--json"]).run();
    out.assert_code(1);
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["problems"].as_array().map(Vec::len), Some(2));
}

#[test]
fn verify_warns_about_statements_that_cannot_run_in_a_transaction() {
    let (p, _db) = migrated_project("verify_no_txn");
    p.file(
        "migrations/0003_index.sql",
        "-- an index on a big table\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n",
    )
    .file(
        "migrations/0004_fine.sql",
        "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n",
    );
    p.trek(&["verify"])
        .run()
        .assert_code(0)
        .stdout_has("migrations/0003_index.sql:2: warning: CREATE INDEX CONCURRENTLY cannot run inside a transaction block")
        .stdout_has("-- trek:no_transaction");
    let doc = json(&p.trek(&["verify", "--json"]).run());
    assert_eq!(doc["ok"], true);
    let warnings = doc["warnings"].as_array().cloned().unwrap_or_default();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["path"], "migrations/0003_index.sql");
    assert_eq!(warnings[0]["line"], 2);
}

#[test]
fn completions_print_a_script() {
    let p = project("completions");
    p.trek(&["completions", "bash"])
        .run()
        .assert_code(0)
        .stdout_has("cargo-trek");
    p.trek(&["completions", "tcsh-or-so"]).run().assert_code(2);
}

#[test]
fn help_and_version_exit_0_and_usage_errors_exit_2() {
    let p = project("usage");
    p.trek(&["--help"])
        .run()
        .assert_code(0)
        .stdout_has("baseline");
    p.trek(&["--version"]).run().assert_code(0).stdout_has("0.");
    p.trek(&["frobnicate"])
        .run()
        .assert_code(2)
        .stderr_has("frobnicate");
    p.trek(&["down", "--to", "1", "--steps", "2"])
        .run()
        .assert_code(2);
    let out = p.trek(&["up", "--to", "not-a-version", "--json"]).run();
    out.assert_code(2);
    assert_eq!(json(&out)["error"]["kind"], "usage");
    // Run directly, without cargo's `trek` argument, it works the same.
    let direct = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-trek"))
        .args(["completions", "zsh"])
        .output()
        .unwrap();
    assert!(direct.status.success());
}

// ---------------------------------------------------------------------------------------------
// up, status, down against a database

#[test]
fn up_applies_everything_and_status_check_passes() {
    let (p, db) = migrated_project("up");
    let out = p.trek(&["up"]).env("DATABASE_URL", &db.url).run();
    out.assert_code(0)
        .stdout_has("applied 0001 create_users")
        .stdout_has("applied 0002 add_email")
        .stdout_has("(prod workflow)");
    assert_eq!(versions(&db), vec!["0001", "0002"]);
    assert!(column_exists(&db, "users", "email"));

    let status = p
        .trek(&["status", "--check"])
        .env("DATABASE_URL", &db.url)
        .run();
    status.assert_code(0).stdout_has("2 applied");
    let lines: Vec<&str> = status.stdout.lines().collect();
    assert_eq!(lines[0], "VERSION  NAME          STATE    APPLIED AT (UTC)");
    assert!(
        lines[1].starts_with("0001     create_users  applied  20"),
        "{lines:?}"
    );

    // Nothing to do the second time.
    p.trek(&["up"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(0)
        .stdout_has("is up to date");
}

#[test]
fn status_check_fails_with_pending_and_modified_migrations() {
    let (p, db) = migrated_project("status_check");
    p.trek(&["up", "--to", "0001"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(0);
    assert_eq!(versions(&db), vec!["0001"]);

    let out = p
        .trek(&["status", "--check"])
        .env("DATABASE_URL", &db.url)
        .run();
    out.assert_code(1)
        .stdout_has("pending")
        .stderr_has("not up to date: 1 pending");

    p.file(
        "migrations/0001_create_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    let out = p
        .trek(&["status", "--check", "--json"])
        .env("DATABASE_URL", &db.url)
        .run();
    out.assert_code(1);
    let doc = json(&out);
    assert_eq!(doc["up_to_date"], false);
    assert_eq!(doc["migrations"][0]["state"], "modified");
    assert_eq!(doc["migrations"][1]["state"], "pending");

    // prod warns about the edit and goes on; --strict refuses.
    p.trek(&["up", "--strict"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(1)
        .stderr_has("edited");
    assert_eq!(versions(&db), vec!["0001"]);
    p.trek(&["up"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(0)
        .stderr_has("warning: 0001 create_users was edited");
    assert_eq!(versions(&db), vec!["0001", "0002"]);
}

#[test]
fn up_json_is_one_document_with_the_steps() {
    let (p, db) = migrated_project("up_json");
    let out = p
        .trek(&["up", "--json", "--transaction", "all"])
        .env("DATABASE_URL", &db.url)
        .run();
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["workflow"], "prod");
    assert_eq!(doc["applied"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["applied"][1]["version"], "0002");
    assert_eq!(versions(&db), vec!["0001", "0002"]);
}

#[test]
fn a_failing_migration_points_at_the_line_and_exits_1() {
    let (p, db) = migrated_project("fail");
    p.file(
        "migrations/0003_orders.sql",
        "CREATE TABLE orders (\n    id int PRIMARY KEY,\n    total numerc NOT NULL\n);\n",
    );
    let out = p.trek(&["up"]).env("DATABASE_URL", &db.url).run();
    out.assert_code(1)
        .stderr_has("0003 orders failed and was not applied")
        .stderr_has("migrations/0003_orders.sql:3:")
        .stderr_has("ERROR 42704")
        .stderr_has("3 |     total numerc NOT NULL")
        .stderr_has("^");
    assert_eq!(versions(&db), vec!["0001", "0002"]);
    assert!(!table_exists(&db, "orders"));

    let out = p.trek(&["up", "--json"]).env("DATABASE_URL", &db.url).run();
    out.assert_code(1);
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "migration_failed");
    assert_eq!(doc["error"]["sql"]["code"], "42704");
    assert_eq!(doc["error"]["sql"]["line"], 3);
    assert_eq!(doc["error"]["sql"]["path"], "migrations/0003_orders.sql");
}

#[test]
fn down_reverts_with_the_captured_down_scripts() {
    let (p, db) = migrated_project("down");
    p.file(
        "migrations/0003_add_name.sql",
        "ALTER TABLE users ADD COLUMN name text;",
    )
    .file(
        "migrations/0003_add_name.down.sql",
        "ALTER TABLE users DROP COLUMN name;",
    );
    p.file("Trek.toml", &format!("[env.dev]\nurl = \"{}\"\n", db.url));
    p.trek(&["up"])
        .run()
        .assert_code(0)
        .stdout_has("(dev workflow)");
    assert_eq!(versions(&db), vec!["0001", "0002", "0003"]);

    // The file's down script changes after it was applied: the captured one runs.
    p.file("migrations/0003_add_name.down.sql", "SELECT 1/0;");
    p.trek(&["down"])
        .run()
        .assert_code(0)
        .stdout_has("reverted 0003 add_name");
    assert_eq!(versions(&db), vec!["0001", "0002"]);
    assert!(!column_exists(&db, "users", "name"));

    let out = p.trek(&["down", "--to", "0001", "--json"]).run();
    out.assert_code(0);
    assert_eq!(json(&out)["reverted"][0]["version"], "0002");
    assert_eq!(versions(&db), vec!["0001"]);

    p.trek(&["down", "--steps", "5"]).run().assert_code(0);
    assert!(versions(&db).is_empty());
    assert!(!table_exists(&db, "users"));
    p.trek(&["down"])
        .run()
        .assert_code(0)
        .stdout_has("has nothing to revert");
    // A version that is not applied is bad input.
    p.trek(&["down", "--to", "0002"]).run().assert_code(2);
}

#[test]
fn down_without_a_down_script_reverts_nothing_and_exits_1() {
    let p = project("down_missing");
    p.file("migrations/0001_t.sql", "CREATE TABLE t (id int);");
    let db = TestDb::new("cli_down_missing");
    p.trek(&["up"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(0);
    p.trek(&["down", "--allow-destructive", &db.name])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(1)
        .stderr_has("has no down script");
    assert_eq!(versions(&db), vec!["0001"]);
}

#[test]
fn a_prod_database_refuses_down_unless_named_with_allow_destructive() {
    let (p, db) = migrated_project("prod");
    p.file(
        "Trek.toml",
        "[env.prod]\nurl_env = \"PROD_DB\"\nworkflow = \"prod\"\n",
    );
    let run = |args: &[&str]| {
        p.trek(args)
            .env("PROD_DB", &db.url)
            .env("TREK_ENV", "prod")
            .run()
    };
    run(&["up"]).assert_code(0);

    run(&["down"]).assert_code(1).stderr_has("stamped `prod`");
    run(&["down", "--allow-destructive", "some_other_db"]).assert_code(1);
    assert_eq!(versions(&db), vec!["0001", "0002"]);
    run(&["down", "--allow-destructive", &db.name])
        .assert_code(0)
        .stdout_has("reverted 0002 add_email");
    assert_eq!(versions(&db), vec!["0001"]);
}

// ---------------------------------------------------------------------------------------------
// repair, audit, baseline

#[test]
fn repair_accepts_an_edited_migration_and_is_audited() {
    let (p, db) = migrated_project("repair");
    let url = db.url.clone();
    let run = |args: &[&str]| p.trek(args).env("DATABASE_URL", &url).run();
    run(&["up"]).assert_code(0);
    p.file(
        "migrations/0002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email text; -- reviewed\n",
    );
    run(&["status", "--check"])
        .assert_code(1)
        .stdout_has("modified");
    run(&["repair"])
        .assert_code(0)
        .stdout_has("accepted 0002 add_email");
    run(&["status", "--check"]).assert_code(0);
    run(&["repair"])
        .assert_code(0)
        .stdout_has("nothing to repair");

    let out = run(&["audit", "--json", "--limit", "10"]);
    out.assert_code(0);
    let doc = json(&out);
    let actions: Vec<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions.first(), Some(&"repair"), "{actions:?}");
    assert!(actions.contains(&"apply"));
    run(&["audit", "--limit", "1"])
        .assert_code(0)
        .stdout_has("ACTION")
        .stdout_has("repair");
}

#[test]
fn baseline_records_existing_migrations_without_running_them() {
    let (p, db) = migrated_project("baseline");
    // The database already has the schema of 0001 (made by hand, before trek).
    db.client()
        .batch_execute("CREATE TABLE users (id int PRIMARY KEY)")
        .unwrap();
    let url = db.url.clone();
    let run = |args: &[&str]| p.trek(args).env("DATABASE_URL", &url).run();
    run(&["baseline", "--to", "0009"])
        .assert_code(2)
        .stderr_has("0009");
    run(&["baseline", "--to", "0001"])
        .assert_code(0)
        .stdout_has("recorded 0001 create_users");
    assert_eq!(versions(&db), vec!["0001"]);
    // Running 0001 again would fail (the table exists): up applies only 0002.
    run(&["up"])
        .assert_code(0)
        .stdout_has("applied 0002 add_email");
    assert_eq!(versions(&db), vec!["0001", "0002"]);
    run(&["baseline", "--to", "0001"])
        .assert_code(1)
        .stderr_has("already applied");
    let audited: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM trek.audit WHERE action = 'baseline'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(audited, 1);
}

// ---------------------------------------------------------------------------------------------
// configuration

#[test]
fn trek_toml_environments_urls_and_precedence() {
    let (p, db) = migrated_project("config");
    let other = TestDb::new("cli_config_other");
    p.file(
        "Trek.toml",
        &format!(
            "[trek]\nschema = \"history\"\n\n[env.dev]\nurl = \"{}\"\nworkflow = \"dev\"\n\n\
             [env.qa]\nurl_env = \"QA_URL\"\nworkflow = \"prod\"\n",
            db.url
        ),
    );
    // The default environment is dev, with its url and its workflow; schema from [trek].
    p.trek(&["up"])
        .run()
        .assert_code(0)
        .stdout_has("(dev workflow)");
    let stamp: String = db
        .client()
        .query_one(
            "SELECT value FROM history.meta WHERE key = 'environment'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(stamp, "dev");

    // qa takes its URL from the variable its url_env names; missing, exit 2 naming it.
    p.trek(&["status", "--env", "qa"])
        .run()
        .assert_code(2)
        .stderr_has("QA_URL");
    p.trek(&["up", "--env", "qa"])
        .env("QA_URL", &other.url)
        .env("TREK_SCHEMA", "trek")
        .run()
        .assert_code(0)
        .stdout_has("(prod workflow)");
    assert_eq!(versions(&other), vec!["0001", "0002"]);

    // An unknown environment lists the known ones, exit 2.
    p.trek(&["status", "--env", "staging"])
        .run()
        .assert_code(2)
        .stderr_has("staging")
        .stderr_has("dev, qa");
    p.trek(&["status"])
        .env("TREK_ENV", "staging")
        .run()
        .assert_code(2)
        .stderr_has("TREK_ENV");
}

#[test]
fn dotenv_is_read_but_the_real_environment_wins() {
    let (p, db) = migrated_project("dotenv");
    let real = TestDb::new("cli_dotenv_real");
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    p.trek(&["up", "--to", "0001"]).run().assert_code(0);
    assert_eq!(versions(&db), vec!["0001"]);
    p.trek(&["up"])
        .env("DATABASE_URL", &real.url)
        .run()
        .assert_code(0);
    assert_eq!(versions(&real), vec!["0001", "0002"]);
    assert_eq!(versions(&db), vec!["0001"]);
    // --database-url beats both.
    p.trek(&["up", "--database-url", &db.url])
        .env("DATABASE_URL", &real.url)
        .run()
        .assert_code(0);
    assert_eq!(versions(&db), vec!["0001", "0002"]);
}

#[test]
fn a_malformed_trek_toml_exits_2_naming_the_file_and_line() {
    let (p, _db) = migrated_project("bad_toml");
    p.file(
        "Trek.toml",
        "[trek]\nmigrations = \"migrations\"\n[env.dev\n",
    );
    p.trek(&["verify"])
        .run()
        .assert_code(2)
        .stderr_has("Trek.toml")
        .stderr_has("line 3");

    p.file(
        "Trek.toml",
        "[trek]\nschema = \"trek\"\nmigratoins = \"db\"\n",
    );
    let out = p.trek(&["status", "--json"]).run();
    out.assert_code(2);
    let doc = json(&out);
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(message.contains("migratoins"), "{message}");
    assert!(message.contains("line 3"), "{message}");
    assert!(doc["error"]["file"]
        .as_str()
        .unwrap()
        .ends_with("Trek.toml"));
}

#[test]
fn an_unreachable_database_exits_1_and_never_shows_the_password() {
    let (p, _db) = migrated_project("unreachable");
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: nothing listens there
    let url = format!("postgres://app:s3cr3t-pw@127.0.0.1:{port}/app");
    let out = p.trek(&["status"]).env("DATABASE_URL", &url).run();
    out.assert_code(1)
        .stderr_has(&format!("postgres://app:***@127.0.0.1:{port}/app"))
        .never_shows("s3cr3t-pw");
    let out = p.trek(&["up", "--json", "--database-url", &url]).run();
    out.assert_code(1).never_shows("s3cr3t-pw");
    assert_eq!(json(&out)["error"]["kind"], "connect");
    // A URL that does not parse is bad configuration, and still masked.
    p.trek(&[
        "status",
        "--database-url",
        "postgres://u:hunter2@host:notaport/db",
    ])
    .run()
    .assert_code(2)
    .never_shows("hunter2");
}

#[test]
fn a_missing_migrations_folder_or_a_bad_file_name_exits_2() {
    let p = project("no_folder");
    let db = TestDb::new("cli_no_folder");
    p.trek(&["up"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(2)
        .stderr_has("does not exist");
    p.file("Trek.toml", "[trek]\nmigrations = \"db/migrations\"\n")
        .file("db/migrations/001-create.sql", "SELECT 1;");
    let out = p.trek(&["up"]).env("DATABASE_URL", &db.url).run();
    out.assert_code(2)
        .stderr_has("db/migrations/001-create.sql");
    // Nothing touched the database.
    assert!(!table_exists(&db, "trek.applied"));
}

#[test]
fn runs_from_a_subfolder_and_with_manifest_path() {
    let (p, db) = migrated_project("paths");
    p.file("src/deep/er/x.txt", "");
    p.trek(&["up"])
        .env("DATABASE_URL", &db.url)
        .current_dir(p.dir().join("src/deep/er"))
        .run()
        .assert_code(0);
    assert_eq!(versions(&db), vec!["0001", "0002"]);
    let manifest = p.dir().join("Cargo.toml");
    p.trek(&[
        "status",
        "--check",
        "--manifest-path",
        manifest.to_str().unwrap(),
    ])
    .env("DATABASE_URL", &db.url)
    .current_dir(std::env::temp_dir())
    .run()
    .assert_code(0);
    p.trek(&["status", "--manifest-path", "/nonexistent/Cargo.toml"])
        .run()
        .assert_code(2);
}

#[test]
fn a_closed_stdout_pipe_is_not_a_crash() {
    let (p, db) = migrated_project("pipe");
    let mut command = p
        .trek(&["status"])
        .env("DATABASE_URL", &db.url)
        .into_command();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// reset, the plan and diffs in status, qa snapshots

/// `url` with a password in it (the test server trusts local connections, so any password
/// works): what must never be printed.
fn with_password(url: &str, password: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((user, host)) if !user.contains(':') => {
                format!("{scheme}://{user}:{password}@{host}")
            }
            _ => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.client().query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn reset_drops_what_was_made_by_hand_and_reapplies_the_migrations() {
    let (p, db) = migrated_project("reset");
    p.file("Trek.toml", "[env.dev]\nurl_env = \"DEV_DB\"\n");
    let url = with_password(&db.url, "reset-s3cret");
    let run = |args: &[&str]| {
        let out = p.trek(args).env("DEV_DB", &url).run();
        out.never_shows("reset-s3cret");
        out
    };
    run(&["up"]).assert_code(0).stdout_has("(dev workflow)");
    db.client()
        .batch_execute(
            "CREATE TABLE scratch (x int); INSERT INTO users (id, email) VALUES (1, 'a@b.c');",
        )
        .unwrap();

    run(&["reset"])
        .assert_code(0)
        .stdout_has(&format!("reset {}", db.name))
        .stdout_has("applied 0001 create_users")
        .stdout_has("applied 0002 add_email");
    assert!(
        !table_exists(&db, "scratch"),
        "the table made by hand is gone"
    );
    assert!(column_exists(&db, "users", "email"));
    assert_eq!(count(&db, "SELECT count(*) FROM users"), 0);
    assert_eq!(versions(&db), vec!["0001", "0002"]);
    // The audit log survives the reset: the first run's applies are still there.
    assert!(
        count(
            &db,
            "SELECT count(*) FROM trek.audit WHERE action = 'apply'"
        ) >= 4
    );

    let out = run(&["reset", "--json"]);
    out.assert_code(0);
    assert_eq!(json(&out)["applied"].as_array().map(Vec::len), Some(2));
}

#[test]
fn reset_refuses_a_prod_database_and_leaves_its_data() {
    let (p, db) = migrated_project("reset_prod");
    p.file(
        "Trek.toml",
        "[env.prod]\nurl_env = \"PROD_DB\"\nworkflow = \"prod\"\n",
    );
    let run = |args: &[&str]| {
        p.trek(args)
            .env("PROD_DB", &db.url)
            .env("TREK_ENV", "prod")
            .run()
    };
    run(&["up"]).assert_code(0);
    db.client()
        .batch_execute("INSERT INTO users (id) VALUES (7)")
        .unwrap();
    run(&["reset"]).assert_code(1).stderr_has("stamped `prod`");
    run(&["reset", "--allow-destructive", "some_other_db"]).assert_code(1);
    let out = run(&["reset", "--json"]);
    out.assert_code(1);
    assert_eq!(json(&out)["error"]["kind"], "protected");
    assert_eq!(count(&db, "SELECT count(*) FROM users WHERE id = 7"), 1);
    assert_eq!(versions(&db), vec!["0001", "0002"]);
}

#[test]
fn status_shows_the_plan_and_the_diff_of_an_edited_migration() {
    let (p, db) = migrated_project("status_diff");
    let run = |args: &[&str]| p.trek(args).env("DATABASE_URL", &db.url).run();
    run(&["up"]).assert_code(0);
    run(&["status"])
        .assert_code(0)
        .stdout_has("plan: nothing to do (prod workflow)");

    p.file(
        "migrations/0002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email varchar(200);\n",
    );
    let out = run(&["status"]);
    out.assert_code(0)
        .stdout_has("plan (prod workflow):")
        .stdout_has("0002 add_email: edited since it was applied")
        .stdout_has("the prod workflow never rewinds")
        .stdout_has("0002 add_email was edited since it was applied:")
        .stdout_has("--- applied\n+++ migrations/0002_add_email.sql\n")
        .stdout_has("\n-ALTER TABLE users ADD COLUMN email text;\n")
        .stdout_has("\n+ALTER TABLE users ADD COLUMN email varchar(200);\n");

    // On a terminal (or with --color always), removed lines are red and added lines green.
    run(&["status", "--color", "always"])
        .assert_code(0)
        .stdout_has("\x1b[31m-ALTER TABLE users ADD COLUMN email text;")
        .stdout_has("\x1b[32m+ALTER TABLE users ADD COLUMN email varchar(200);");

    let out = run(&["status", "--json"]);
    out.assert_code(0);
    let doc = json(&out);
    let diff = doc["migrations"][1]["diff"].as_str().unwrap();
    assert!(
        diff.contains("-ALTER TABLE users ADD COLUMN email text;\n")
            && diff.contains("+ALTER TABLE users ADD COLUMN email varchar(200);\n"),
        "{diff}"
    );
    assert!(doc["migrations"][0].get("diff").is_none());
    assert_eq!(doc["plan"]["workflow"], "prod");
    assert_eq!(doc["plan"]["divergence"]["label"], "0002 add_email");

    // In dev, the plan is to rewind with the captured down script.
    p.file("Trek.toml", "[env.dev]\nurl_env = \"DEV_DB\"\n");
    let out = p.trek(&["status", "--json"]).env("DEV_DB", &db.url).run();
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["plan"]["workflow"], "dev");
    assert_eq!(doc["plan"]["undo"]["action"], "rewind");
    assert_eq!(doc["plan"]["apply"][0]["version"], "0002");
}

/// A project whose `qa` environment snapshots with pg_dump into `snaps/` beside Cargo.toml.
fn qa_project(label: &str) -> (Project, TestDb) {
    let (p, db) = migrated_project(label);
    p.file(
        "Trek.toml",
        "[env.qa]\nurl_env = \"QA_DB\"\nworkflow = \"qa\"\n\
         snapshot = { strategy = \"pg_dump\", dir = \"snaps\" }\n",
    );
    (p, db)
}

#[test]
fn qa_snapshots_before_applying_and_restores_after_an_edit() {
    let (p, db) = qa_project("qa");
    let url = with_password(&db.url, "qa-s3cret");
    let run = |args: &[&str]| {
        let out = p.trek(args).env("QA_DB", &url).env("TREK_ENV", "qa").run();
        out.never_shows("qa-s3cret");
        out
    };
    run(&["up", "--to", "0001"])
        .assert_code(0)
        .stdout_has("took snapshot #")
        .stdout_has("applied 0001 create_users");
    let out = run(&["snapshots", "list"]);
    out.assert_code(0)
        .stdout_has("ID")
        .stdout_has("STRATEGY")
        .stdout_has("pg_dump")
        .stdout_has("1 snapshot");
    assert_eq!(p.list("snaps").len(), 1, "{:?}", p.list("snaps"));

    // Data that the next snapshot holds.
    db.client()
        .batch_execute("INSERT INTO users (id) VALUES (42)")
        .unwrap();
    let out = run(&["up", "--json", "--terminate-sessions"]);
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["snapshots"].as_array().map(Vec::len), Some(1), "{doc}");
    assert_eq!(doc["plan"]["workflow"], "qa");
    let out = run(&["snapshots", "--json"]);
    out.assert_code(0);
    assert_eq!(json(&out)["snapshots"].as_array().map(Vec::len), Some(2));

    // Edit the applied 0002: qa restores the snapshot taken before it and rolls forward.
    db.client()
        .batch_execute("INSERT INTO users (id, email) VALUES (43, 'later')")
        .unwrap();
    p.file(
        "migrations/0002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email varchar(200);\n",
    );
    run(&["status"])
        .assert_code(0)
        .stdout_has("restore snapshot #");
    run(&["up"])
        .assert_code(0)
        .stdout_has("restored snapshot #")
        .stdout_has("before 0002 add_email")
        .stdout_has("applied 0002 add_email");
    assert_eq!(versions(&db), vec!["0001", "0002"]);
    let ids: Vec<i32> = db
        .client()
        .query("SELECT id FROM users ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![42], "the restore kept what the snapshot held");
    let kind: String = db
        .client()
        .query_one(
            "SELECT data_type FROM information_schema.columns \
             WHERE table_name = 'users' AND column_name = 'email'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(kind, "character varying");
}

#[test]
fn snapshots_list_and_prune_orphans_find_and_delete_only_leftovers_trek_named() {
    let (p, db) = qa_project("qa_orphans");
    let run = |args: &[&str]| p.trek(args).env("QA_DB", &db.url).run();
    run(&["up", "--env", "qa"]).assert_code(0);
    // A dump left by an earlier database of the same name, and files trek did not make.
    let leftover = format!("snaps/{}__trek_1_0a1b2c3d.dump", db.name);
    p.file(&leftover, "old").file("snaps/notes.txt", "mine");
    run(&["snapshots", "list", "--orphans", "--env", "qa"])
        .assert_code(0)
        .stdout_has(&format!("leftover {}", p.dir().join(&leftover).display()))
        .stdout_has("found 1 leftover snapshot");
    let doc = json(&run(&[
        "snapshots",
        "list",
        "--orphans",
        "--env",
        "qa",
        "--json",
    ]));
    assert_eq!(doc["schema"], "trek.snapshots.orphans/1");
    assert_eq!(doc["deleted"], false);
    assert_eq!(doc["orphans"].as_array().map(Vec::len), Some(1), "{doc}");
    let doc = json(&run(&[
        "snapshots",
        "prune",
        "--orphans",
        "--env",
        "qa",
        "--json",
    ]));
    assert_eq!(doc["deleted"], true);
    assert!(!p.dir().join(&leftover).exists());
    assert!(p.dir().join("snaps/notes.txt").exists());
    assert_eq!(
        p.list("snaps").len(),
        2,
        "the known dump and notes.txt stay"
    );
    run(&[
        "snapshots",
        "prune",
        "--orphans",
        "--keep",
        "1",
        "--env",
        "qa",
    ])
    .assert_code(2);
}

#[test]
fn snapshots_prune_deletes_the_older_ones_and_their_files() {
    let (p, db) = qa_project("qa_prune");
    let run = |args: &[&str]| p.trek(args).env("QA_DB", &db.url).run();
    run(&["up", "--env", "qa", "--to", "0001"]).assert_code(0);
    run(&["up", "--env", "qa"]).assert_code(0);
    let out = run(&["snapshots", "list", "--env", "qa", "--json"]);
    out.assert_code(0);
    let doc = json(&out);
    let list = doc["snapshots"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{doc}");
    let locations: Vec<String> = list
        .iter()
        .map(|s| s["location"].as_str().unwrap().to_owned())
        .collect();
    let newest = list
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .max()
        .unwrap();
    assert_eq!(p.list("snaps").len(), 2);

    // No --keep and no keep in Trek.toml: bad usage.
    run(&["snapshots", "prune", "--env", "qa"])
        .assert_code(2)
        .stderr_has("--keep");

    let out = run(&["snapshots", "prune", "--env", "qa", "--keep", "1"]);
    out.assert_code(0).stdout_has("deleted snapshot #");
    let out = run(&["snapshots", "--env", "qa", "--json"]);
    let doc = json(&out);
    let list = doc["snapshots"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{doc}");
    assert_eq!(list[0]["id"].as_i64(), Some(newest));
    assert_eq!(p.list("snaps").len(), 1, "{:?}", p.list("snaps"));
    let gone = locations
        .iter()
        .filter(|l| !std::path::Path::new(l.as_str()).exists())
        .count();
    assert_eq!(gone, 1, "{locations:?}");
}

#[test]
fn a_snapshot_table_outside_a_qa_environment_exits_2_naming_the_key() {
    let (p, db) = migrated_project("snapshot_prod");
    p.file(
        "Trek.toml",
        "[env.prod]\nurl_env = \"PROD_DB\"\nworkflow = \"prod\"\n\
         snapshot = { strategy = \"pg_dump\", keep = 3 }\n",
    );
    p.trek(&["up", "--env", "prod"])
        .env("PROD_DB", &db.url)
        .run()
        .assert_code(2)
        .stderr_has("[env.prod] snapshot")
        .stderr_has("qa");
    p.file(
        "Trek.toml",
        "[env.qa]\nworkflow = \"qa\"\nsnapshot = { strategy = \"command\" }\n",
    );
    p.trek(&["verify"])
        .run()
        .assert_code(2)
        .stderr_has("[env.qa] snapshot")
        .stderr_has("snapshot_command");
    assert!(!table_exists(&db, "trek.applied"));
}

// ---------------------------------------------------------------------------------------------
// the local server

#[test]
fn with_nothing_configured_the_local_server_is_used_and_said_so() {
    let p = project("local");
    p.trek(&["init"]).run().assert_code(0);
    p.trek(&["new", "create users"]).run().assert_code(0);
    let file = p
        .list("migrations")
        .into_iter()
        .find(|f| f.ends_with(".sql"))
        .unwrap();
    p.file(
        &format!("migrations/{file}"),
        "CREATE TABLE users (id int);\n",
    );

    let out = p.trek(&["up"]).run();
    out.assert_code(0)
        .stderr_has("using the local server")
        .stdout_has("create_users");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    p.trek(&["status", "--check"]).run().assert_code(0);

    let url = p.trek(&["db", "url"]).run();
    url.assert_code(0);
    let url = url.stdout.trim();
    assert!(
        url.ends_with(&format!("/{}", p.local_database(None))),
        "{url}"
    );
    let mut client = trek::postgres::Client::connect(url, trek::postgres::NoTls).unwrap();
    let n: i64 = client
        .query_one("SELECT count(*) FROM trek.applied", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // -q keeps the note off stderr.
    let quiet = p.trek(&["status", "-q"]).run();
    quiet.assert_code(0);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

#[test]
fn db_start_url_stop_destroy_manage_the_projects_own_server() {
    let p = project("db").with_own_target_dir();
    let out = p.trek(&["db", "start", "--json"]).run();
    out.assert_code(0);
    assert_eq!(json(&out)["running"], true);
    let url = p.trek(&["db", "url"]).run();
    url.assert_code(0);
    assert!(url
        .stdout
        .trim()
        .starts_with("postgres://postgres@127.0.0.1:"));
    p.trek(&["db", "start"])
        .run()
        .assert_code(0)
        .stdout_has("already running");
    p.trek(&["db", "stop"])
        .run()
        .assert_code(0)
        .stdout_has("stopped the local server");
    p.trek(&["db", "stop"])
        .run()
        .assert_code(0)
        .stdout_has("not running");
    p.trek(&["db", "destroy"]).run().assert_code(0);
    assert!(!p.dir().join("target/trek/postgres/data").exists());
}

// ---------------------------------------------------------------------------------------------
// TLS

/// A cluster of its own that accepts TCP only over TLS, with a certificate for `localhost`
/// signed by a CA of the test's making; destroyed on drop, also when the test fails.
struct TlsCluster {
    server: trek_local_server::LocalServer,
    dir: std::path::PathBuf,
    port: u16,
    ca_pem: std::path::PathBuf,
    ca_der: rustls::pki_types::CertificateDer<'static>,
}

impl TlsCluster {
    fn start() -> TlsCluster {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        use std::os::unix::fs::{MetadataExt, PermissionsExt};

        let dir = std::env::temp_dir().join(format!("trek-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let server = trek_local_server::LocalServer::for_target_dir(&dir);
        let mut cluster = TlsCluster {
            server,
            dir,
            port: 0,
            ca_pem: std::path::PathBuf::new(),
            ca_der: rustls::pki_types::CertificateDer::from(Vec::new()),
        };
        let info = cluster.server.start().unwrap();
        let data = &info.data_dir;

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "trek test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        // Named for localhost only, so that 127.0.0.1 is a name mismatch.
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();

        let owner = std::fs::metadata(data).unwrap();
        for (name, text, mode) in [
            ("server.crt", cert.pem(), 0o644),
            ("server.key", key.serialize_pem(), 0o600),
        ] {
            let path = data.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
        }
        // postgresql.conf, not trek.conf: trek rewrites that one at each start.
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        std::io::Write::write_all(
            &mut conf,
            b"\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        )
        .unwrap();
        let hba = data.join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(
            &hba,
            format!(
                "hostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n{rules}"
            ),
        )
        .unwrap();
        cluster.server.stop().unwrap();
        cluster.port = cluster.server.start().unwrap().port;

        cluster.ca_pem = cluster.dir.join("ca.pem");
        std::fs::write(&cluster.ca_pem, ca.pem()).unwrap();
        cluster.ca_der = ca.der().clone();
        cluster
    }

    /// The URL of database `postgres` on `host`, with a password the server ignores (trust)
    /// and the output must never show.
    fn url(&self, host: &str, query: &str) -> String {
        format!(
            "postgres://postgres:tls-s3cret@{host}:{}/postgres?{query}",
            self.port
        )
    }

    /// A client of the test's own, over TLS with full verification.
    fn client(&self) -> trek::postgres::Client {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        trek::postgres::Client::connect(
            &format!(
                "host=localhost hostaddr=127.0.0.1 port={} user=postgres dbname=postgres \
                 sslmode=require",
                self.port
            ),
            tokio_postgres_rustls::MakeRustlsConnect::new(config),
        )
        .unwrap()
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let _ = self.server.destroy();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn database_urls_connect_over_tls_as_their_sslmode_says() {
    let cluster = TlsCluster::start();
    let p = project("tls");
    p.file(
        "migrations/0001_create_users.sql",
        "CREATE TABLE users (id int);\n",
    );
    let ca = cluster.ca_pem.display().to_string();
    let run = |url: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database-url", url]);
        let out = p.trek(&all).run();
        out.never_shows("tls-s3cret");
        out
    };

    // The server refuses plain TCP.
    run(&cluster.url("127.0.0.1", "sslmode=disable"), &["up"])
        .assert_code(1)
        .stderr_has("pg_hba.conf rejects connection");
    // The CA is not one of the built-in roots.
    run(&cluster.url("127.0.0.1", "sslmode=verify-full"), &["up"])
        .assert_code(1)
        .stderr_has("the server's certificate is not trusted")
        .stderr_has("pass sslrootcert=PATH");
    // The certificate names localhost, not 127.0.0.1.
    run(
        &cluster.url(
            "127.0.0.1",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
        &["up"],
    )
    .assert_code(1)
    .stderr_has("the server's certificate is not for the host connected to")
    .stderr_has("sslmode=verify-ca");
    // Nothing was applied by the failures.
    let mut client = cluster.client();
    let trek_schema: bool = client
        .query_one("SELECT to_regnamespace('trek') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!trek_schema);

    // Encrypted, unverified.
    run(&cluster.url("127.0.0.1", "sslmode=require"), &["up"])
        .assert_code(0)
        .stdout_has("create_users");
    let applied: Vec<String> = client
        .query("SELECT version FROM trek.applied ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(applied, ["0001"]);

    // The chain only, then the chain and the name.
    p.file(
        "migrations/0002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    let out = run(
        &cluster.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")),
        &["status", "--json"],
    );
    out.assert_code(0);
    assert!(out.stdout.contains("0002"), "{}", out.stdout);
    run(
        &cluster.url(
            "localhost",
            &format!("hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}"),
        ),
        &["up"],
    )
    .assert_code(0)
    .stdout_has("add_email");
    let emails: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns \
             WHERE table_name = 'users' AND column_name = 'email'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(emails, 1);
}

#[test]
fn seed_applies_pending_seeds_alone_status_lists_them_apart_and_prod_refuses() {
    let (p, db) = migrated_project("seed");
    p.file(
        "migrations/seeds/0001_demo_users.sql",
        "INSERT INTO users (id, email) VALUES (1, 'ada@example.com');\n",
    )
    .file(
        "Trek.toml",
        "[env.dev]\nurl_env = \"DEV_DB\"\nseeds = false\n\
         [env.qa]\nurl_env = \"DEV_DB\"\nworkflow = \"dev\"\n\
         [env.prod]\nurl_env = \"DEV_DB\"\nworkflow = \"prod\"\n",
    );
    let run = |args: &[&str]| p.trek(args).env("DEV_DB", &db.url).run();
    run(&["up"]).assert_code(0);
    assert_eq!(count(&db, "SELECT count(*) FROM users"), 0, "seeds = false");
    run(&["seed", "--env", "prod"])
        .assert_code(1)
        .stderr_has("seeds never reach prod");
    run(&["status", "--env", "qa"])
        .assert_code(0)
        .stdout_has("seeds (test data, never in prod)")
        .stdout_has("demo_users  pending");
    run(&["seed", "--env", "qa"])
        .assert_code(0)
        .stdout_has("seeded seed 0001 demo_users");
    assert_eq!(count(&db, "SELECT count(*) FROM users"), 1);
    run(&["seed", "--env", "qa"])
        .assert_code(0)
        .stdout_has("has no pending seeds");
}

#[test]
fn a_prod_environment_with_seeds_on_is_a_configuration_error() {
    let (p, db) = migrated_project("seed_prod");
    p.file(
        "Trek.toml",
        "[env.prod]\nurl_env = \"DEV_DB\"\nworkflow = \"prod\"\nseeds = true\n",
    );
    p.trek(&["up", "--env", "prod"])
        .env("DEV_DB", &db.url)
        .run()
        .assert_code(2)
        .stderr_has("seeds never reach prod");
    assert!(!table_exists(&db, "users"), "nothing was applied");
}

#[test]
fn dump_is_deterministic_and_drift_names_a_column_added_by_hand() {
    let (p, db) = migrated_project("drift");
    p.file(
        "Trek.toml",
        "[env.prod]\nurl_env = \"PROD_DB\"\nworkflow = \"prod\"\n",
    );
    let url = with_password(&db.url, "drift-s3cret");
    let run = |args: &[&str]| {
        let out = p.trek(args).env("PROD_DB", &url).run();
        out.never_shows("drift-s3cret");
        out
    };
    run(&["up", "--env", "prod"]).assert_code(0);
    run(&["dump", "--env", "prod", "-o", "schema.sql"])
        .assert_code(0)
        .stdout_has("dumped");
    let first = std::fs::read_to_string(p.dir().join("schema.sql")).unwrap();
    let second = run(&["dump", "--env", "prod"]);
    second.assert_code(0);
    assert_eq!(
        second.stdout, first,
        "two dumps of the same schema are identical"
    );
    assert!(first.contains("COPY trek.applied"), "{first}");

    run(&["drift", "--env", "prod"])
        .assert_code(0)
        .stdout_has("in sync");
    run(&["drift", "--against", "schema.sql"])
        .assert_code(0)
        .stdout_has("in sync");

    db.client()
        .batch_execute("ALTER TABLE users ADD COLUMN nickname text")
        .unwrap();
    run(&["drift", "--env", "prod"])
        .assert_code(1)
        .stdout_has(
            "table public.users: differs (column nickname text is not made by the migrations)",
        )
        .stdout_has("+    nickname text");
    run(&["dump", "--env", "prod", "-o", "drifted.sql"]).assert_code(0);
    let out = run(&["drift", "--against", "drifted.sql", "--json"]);
    out.assert_code(1);
    let report = json(&out);
    assert_eq!(report["in_sync"], false);
    assert_eq!(report["objects"][0]["name"], "users");
    assert_eq!(
        report["objects"][0]["details"][0],
        "column nickname text is not made by the migrations"
    );
}

#[test]
fn restore_from_a_prod_dump_replaces_the_schema_keeps_the_stamp_and_up_rolls_forward() {
    let (p, prod) = migrated_project("restore_prod");
    p.file("Trek.toml", "[env.prod]\nurl_env = \"PROD_DB\"\nworkflow = \"prod\"\n[env.dev]\nurl_env = \"DEV_DB\"\nworkflow = \"dev\"\n");
    let dev = TestDb::new("cli_restore_dev");
    let run = |args: &[&str]| {
        p.trek(args)
            .env("PROD_DB", &prod.url)
            .env("DEV_DB", &dev.url)
            .run()
    };
    run(&["up", "--env", "prod"]).assert_code(0);
    prod.client()
        .batch_execute("CREATE TABLE made_in_prod (id int)")
        .unwrap();
    run(&["dump", "--env", "prod", "-o", "prod.sql"]).assert_code(0);
    run(&["up", "--env", "dev"]).assert_code(0);
    dev.client()
        .batch_execute("CREATE TABLE dev_only (id int)")
        .unwrap();
    p.file(
        "migrations/0003_notes.sql",
        "CREATE TABLE notes (id int);\n",
    );
    run(&["restore", "--env", "dev", "--from-dump", "prod.sql"])
        .assert_code(0)
        .stdout_has("restored")
        .stdout_has("cargo trek up --env dev");
    assert!(!table_exists(&dev, "dev_only"));
    assert!(table_exists(&dev, "made_in_prod"));
    assert_eq!(versions(&dev), vec!["0001", "0002"]);
    run(&["up", "--env", "dev"])
        .assert_code(0)
        .stdout_has("applied 0003 notes");
    assert!(table_exists(&dev, "notes"));
    let stamp: String = dev
        .client()
        .query_one("SELECT value FROM trek.meta WHERE key = 'environment'", &[])
        .unwrap()
        .get(0);
    assert_eq!(stamp, "dev");
    // The prod database refuses a restore unless named.
    run(&["restore", "--env", "prod", "--from-dump", "prod.sql"])
        .assert_code(1)
        .stderr_has("--allow-destructive");
}

#[test]
fn up_dry_run_reports_the_rewrite_and_changes_nothing() {
    let (p, db) = migrated_project("dry_run");
    p.file(
        "Trek.toml",
        "[env.prod]\nurl_env = \"PROD_DB\"\nworkflow = \"prod\"\n",
    );
    let run = |args: &[&str]| p.trek(args).env("PROD_DB", &db.url).run();
    run(&["up", "--env", "prod"]).assert_code(0);
    db.client()
        .batch_execute("INSERT INTO users (id) SELECT generate_series(1, 50000)")
        .unwrap();
    p.file(
        "migrations/0003_bigint.sql",
        "ALTER TABLE users ALTER COLUMN id TYPE bigint;\n",
    );
    run(&["up", "--env", "prod", "--dry-run"])
        .assert_code(0)
        .stdout_has("0003 bigint")
        .stdout_has("rewrites  public.users (table)")
        .stdout_has("AccessExclusiveLock on public.users (table): a table with data")
        .stdout_has("warning changing-column-type")
        .stdout_has("nothing was changed");
    let out = run(&["up", "--env", "prod", "--dry-run", "--json"]);
    out.assert_code(0);
    let report = json(&out);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["blocks_reads_on_data"], true);
    assert!(
        report["scripts"][0]["rewritten"][0]["size_before_bytes"]
            .as_i64()
            .unwrap()
            > 1_000_000
    );
    assert_eq!(versions(&db), vec!["0001", "0002"], "nothing applied");
    run(&["audit", "--env", "prod", "--limit", "2"])
        .assert_code(0)
        .stdout_has("dry-run");
}

// ---------------------------------------------------------------------------------------------
// lint, audit --since, --metrics-file, --log-format json, transaction = "all"

/// A project whose applied migrations made `big` (20,000 rows) and `small` (3 rows); 0002
/// renamed a column (a lint finding, but applied).
fn lint_project(label: &str) -> (Project, TestDb) {
    let p = project(label);
    p.file(
        "migrations/0001_tables.sql",
        "CREATE TABLE big (id int);\nINSERT INTO big SELECT generate_series(1, 20000);\n\
         CREATE TABLE small (id int);\nINSERT INTO small VALUES (1), (2), (3);\n",
    )
    .file(
        "migrations/0002_rename.sql",
        "ALTER TABLE small RENAME COLUMN id TO n;\n",
    );
    let db = TestDb::new(&format!("cli_{label}"));
    p.trek(&["up"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(0);
    (p, db)
}

#[test]
fn lint_reports_pending_risky_statements_with_file_line_rule_and_table_size() {
    let (p, db) = lint_project("lint");
    p.file(
        "migrations/0003_widen.sql",
        "-- Widen the keys.\nALTER TABLE big ALTER COLUMN id TYPE bigint;\n\
         ALTER TABLE small ALTER COLUMN n TYPE bigint;\n",
    )
    .file(
        "migrations/0004_index.sql",
        "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY big_id ON big (id);\n",
    )
    .file(
        "migrations/0005_drop.sql",
        "-- squawk-ignore-file ban-drop-column\nALTER TABLE big DROP COLUMN id;\n",
    );
    let run = |args: &[&str]| p.trek(args).env("DATABASE_URL", &db.url).run();

    let out = run(&["lint"]);
    out.assert_code(1)
        .stdout_has("warning[changing-column-type]: changing the type of big.id rewrites")
        .stdout_has("--> migrations/0003_widen.sql:2:17")
        .stdout_has(" 2 | ALTER TABLE big ALTER COLUMN id TYPE bigint;")
        .stdout_has("= big: ")
        .stdout_has("20000 rows, ")
        .stdout_has("note[changing-column-type]: changing the type of small.n")
        .stdout_has("--> migrations/0003_widen.sql:3:19")
        .stdout_has("= small: 3 rows, ")
        .stdout_has("= help: add a new column")
        .stdout_has("3 migrations checked, with table sizes from")
        .stdout_has("1 warning, 1 note")
        .stderr_has("lint found 1 warning in 1 migration");
    // Applied migrations are not checked, unless --all.
    out.never_shows("renaming-column")
        .never_shows("ban-drop-column");
    run(&["lint", "--all"])
        .assert_code(1)
        .stdout_has("warning[renaming-column]")
        .stdout_has("--> migrations/0002_rename.sql:1:19");

    let out = run(&["lint", "--json"]);
    out.assert_code(1);
    let doc = json(&out);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{doc:#}");
    assert_eq!(findings[0]["rule"], "changing-column-type");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(findings[0]["file"], "migrations/0003_widen.sql");
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(findings[0]["column"], 17);
    assert_eq!(findings[0]["table"], "big");
    assert_eq!(findings[0]["table_size"]["rows"], 20000);
    assert!(findings[0]["table_size"]["bytes"].as_u64().unwrap() > 100_000);
    assert_eq!(findings[1]["severity"], "note");
    assert_eq!(findings[1]["table_size"]["rows"], 3);
    assert!(findings[0]["help"].as_str().unwrap().contains("new column"));

    // A higher threshold makes the 20,000-row rewrite a note too: nothing to fail on.
    run(&["lint", "--small-table-rows", "100000"])
        .assert_code(0)
        .stdout_has("note[changing-column-type]: changing the type of big.id");
    // Offline: every migration, no sizes, every finding a warning.
    run(&["lint", "--offline"])
        .assert_code(1)
        .stdout_has("without table sizes")
        .stdout_has("warning[renaming-column]")
        .stdout_has("3 warnings");
    // Nothing was applied by linting.
    assert_eq!(versions(&db), vec!["0001", "0002"]);
}

#[test]
fn lint_flags_concurrently_in_a_transactional_migration_as_an_error_and_passes_clean_files() {
    let p = project("lint_clean");
    p.file(
        "migrations/0001_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE INDEX users_id ON users (id);\n",
    );
    p.trek(&["lint", "--offline"])
        .run()
        .assert_code(0)
        .stdout_has("1 migration checked, without table sizes: no findings");
    p.file(
        "migrations/0002_index.sql",
        "CREATE INDEX CONCURRENTLY users_id2 ON users (id);\n",
    );
    p.trek(&["lint", "--offline"])
        .run()
        .assert_code(1)
        .stdout_has("error[ban-concurrent-index-creation-in-transaction]")
        .stdout_has("= help: mark the migration -- trek:no_transaction");
}

#[test]
fn audit_since_filters_in_sql_and_rows_name_user_host_and_version_never_a_password() {
    let (p, db) = migrated_project("audit_since");
    let url = with_password(&db.url, "audit-s3cret");
    let run = |args: &[&str]| {
        let out = p.trek(args).env("DATABASE_URL", &url).run();
        out.never_shows("audit-s3cret");
        out
    };
    run(&["up"]).assert_code(0);
    // One old entry, ten days ago.
    db.client()
        .batch_execute(
            "UPDATE trek.audit SET at = now() - interval '10 days' \
             WHERE id = (SELECT min(id) FROM trek.audit)",
        )
        .unwrap();
    let entries = |args: &[&str]| {
        let out = run(args);
        out.assert_code(0);
        json(&out)["entries"].as_array().unwrap().clone()
    };
    let all = entries(&["audit", "--json"]);
    assert_eq!(all.len(), 2);
    assert_eq!(entries(&["audit", "--json", "--since", "7d"]).len(), 1);
    assert_eq!(entries(&["audit", "--json", "--since", "1h"]).len(), 1);
    assert_eq!(entries(&["audit", "--json", "--since", "30d"]).len(), 2);
    assert_eq!(
        entries(&["audit", "--json", "--since", "2000-01-01"]).len(),
        2
    );
    assert!(entries(&["audit", "--json", "--since", "2999-01-01T00:00:00Z"]).is_empty());
    run(&["audit", "--since", "yesterday"])
        .assert_code(2)
        .stderr_has("neither an RFC 3339 time");

    let newest = &all[0];
    assert_eq!(newest["action"], "apply");
    assert!(!newest["db_user"].as_str().unwrap().is_empty());
    let client = newest["client"].as_str().unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(client.starts_with(host.trim()), "{client}");
    assert!(
        client.contains(concat!("cargo-trek ", env!("CARGO_PKG_VERSION"))),
        "{client}"
    );
    assert_eq!(newest["trek_version"], env!("CARGO_PKG_VERSION"));
    run(&["audit", "--since", "1h"])
        .assert_code(0)
        .stdout_has("CLIENT")
        .stdout_has(host.trim());

    // Nothing in the audit table holds the password.
    let text: String = db
        .client()
        .query_one("SELECT string_agg(a::text, ' ') FROM trek.audit a", &[])
        .unwrap()
        .get(0);
    assert!(!text.contains("audit-s3cret"), "{text}");
    assert!(text.contains("0002"), "the rows were read: {text}");
}

/// Checks `text` is Prometheus text exposition: `# HELP`/`# TYPE` comments, and every other
/// line `name{labels} value` with a float value. Returns the samples.
fn prometheus_samples(text: &str) -> Vec<(String, f64)> {
    assert!(text.contains("# TYPE "), "no # TYPE lines:\n{text}");
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let word = comment.split_whitespace().next().unwrap_or_default();
            assert!(
                matches!(word, "HELP" | "TYPE"),
                "an unknown comment: {line}"
            );
            if word == "TYPE" {
                let kind = comment.split_whitespace().nth(2).unwrap_or_default();
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
            }
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not `name value`: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "a bad metric name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "unclosed labels: {line}");
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a float value: {line}"));
        samples.push((series.to_owned(), value));
    }
    samples
}

#[test]
fn metrics_file_is_prometheus_text_written_atomically_with_the_applied_count() {
    let (p, db) = migrated_project("metrics");
    let file = p.dir().join("m.prom");
    let out = p
        .trek(&["up", "--metrics-file", file.to_str().unwrap()])
        .env("DATABASE_URL", &db.url)
        .run();
    out.assert_code(0);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !p.dir().join("m.prom.tmp").exists(),
        "the temporary file was renamed"
    );
    let samples = prometheus_samples(&text);
    let value = |series: &str| {
        samples
            .iter()
            .find(|(s, _)| s == series)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
    };
    assert_eq!(
        value("trek_migrations_applied_total{kind=\"versioned\"}"),
        2.0
    );
    assert_eq!(
        value("trek_migration_failures_total{kind=\"versioned\"}"),
        0.0
    );
    assert_eq!(value("trek_migrations_pending"), 0.0);
    assert_eq!(
        value("trek_migration_duration_seconds_count{kind=\"versioned\"}"),
        2.0
    );
    assert!(text.contains("# TYPE trek_migration_duration_seconds histogram"));
    assert!(text.contains("# TYPE trek_migrations_applied_total counter"));

    // status sets the pending gauge.
    p.file("migrations/0003_more.sql", "CREATE TABLE more (id int);\n");
    p.trek(&["status", "--metrics-file", file.to_str().unwrap()])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(0);
    let samples = prometheus_samples(&std::fs::read_to_string(&file).unwrap());
    assert!(samples.contains(&("trek_migrations_pending".to_owned(), 1.0)));
}

#[test]
fn log_format_json_writes_one_json_object_per_line_on_stderr() {
    let (p, db) = migrated_project("log_json");
    let out = p
        .trek(&["up", "--log-format", "json"])
        .env("DATABASE_URL", &db.url)
        .run();
    out.assert_code(0).stdout_has("applied 0002 add_email");
    let events: Vec<Value> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!events.is_empty(), "JSON logs at info by default");
    assert!(events
        .iter()
        .all(|e| e["level"].is_string() && e["timestamp"].is_string() && e["message"].is_string()));
    assert!(events.iter().any(|e| e["message"] == "applied"));
    // Text stays the default, and logs nothing without -v.
    let (p, db) = migrated_project("log_text");
    let out = p.trek(&["up"]).env("DATABASE_URL", &db.url).run();
    out.assert_code(0);
    assert!(!out.stderr.contains('{'), "{}", out.stderr);
}

#[test]
fn transaction_all_leaves_nothing_of_the_first_two_when_the_third_fails() {
    let (p, db) = migrated_project("tx_all");
    p.file(
        "migrations/0003_broken.sql",
        "INSERT INTO nowhere VALUES (1);\n",
    );
    let out = p
        .trek(&["up", "--transaction", "all"])
        .env("DATABASE_URL", &db.url)
        .run();
    out.assert_code(1).stderr_has("nowhere");
    assert!(!table_exists(&db, "users"), "0001 was rolled back");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM trek.applied WHERE kind = 'versioned'"
        ),
        0
    );

    // The same from Trek.toml, per environment; the flag overrides it.
    p.file(
        "Trek.toml",
        "[trek]\ntransaction = \"per-migration\"\n[env.live]\nurl_env = \"LIVE_DB\"\n\
         workflow = \"prod\"\ntransaction = \"all\"\n",
    );
    let run = |args: &[&str]| {
        p.trek(args)
            .env("LIVE_DB", &db.url)
            .env("TREK_ENV", "live")
            .run()
    };
    run(&["up"]).assert_code(1);
    assert!(!table_exists(&db, "users"));
    assert!(versions(&db).is_empty());
    run(&["up", "--transaction", "per-migration"]).assert_code(1);
    assert!(
        table_exists(&db, "users"),
        "per migration: 0001 and 0002 stay"
    );
    assert_eq!(versions(&db), vec!["0001", "0002"]);
}

#[test]
fn transaction_all_in_trek_toml_refuses_a_no_transaction_migration_by_name() {
    let (p, db) = migrated_project("tx_all_refused");
    p.file(
        "migrations/0003_index.sql",
        "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n",
    )
    .file("Trek.toml", "[trek]\ntransaction = \"all\"\n");
    p.trek(&["up"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(2)
        .stderr_has("0003_index.sql")
        .stderr_has("no_transaction");
    assert!(!table_exists(&db, "users"), "nothing was applied");
    p.trek(&["up"])
        .env("DATABASE_URL", &db.url)
        .env("TREK_TRANSACTION", "per-migration")
        .run()
        .assert_code(0);
    assert_eq!(versions(&db), vec!["0001", "0002", "0003"]);
}

#[test]
fn a_partition_restored_from_a_pg_dump_snapshot_does_not_drift() {
    // A partition made with LIKE and ATTACH PARTITION has no default while its parent has
    // one; pg_dump writes it `DEFAULT NULL`, and the restored partition stores
    // `NULL::timestamp without time zone`: the same schema, which drift must not flag.
    let (p, db) = qa_project("qa_partition");
    p.remove("migrations/0001_create_users.sql")
        .remove("migrations/0001_create_users.down.sql")
        .remove("migrations/0002_add_email.sql")
        .remove("migrations/0002_add_email.down.sql")
        .file(
            "migrations/0001_events.sql",
            "CREATE TABLE events (id bigint NOT NULL, \
             created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP) \
             PARTITION BY RANGE (created_at);\n\
             CREATE TABLE events_2024 (LIKE events);\n\
             ALTER TABLE events ATTACH PARTITION events_2024 \
             FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n",
        )
        .file("migrations/0002_note.sql", "CREATE TABLE notes (id int);\n");
    let run = |args: &[&str]| {
        p.trek(args)
            .env("QA_DB", &db.url)
            .env("TREK_ENV", "qa")
            .run()
    };
    // Two runs: the second one's snapshot holds 0001.
    run(&["up", "--to", "0001"]).assert_code(0);
    run(&["up"]).assert_code(0);
    run(&["drift", "--env", "qa"])
        .assert_code(0)
        .stdout_has("in sync");
    // Editing 0002 restores the snapshot taken before it (pg_dump), then applies it again.
    p.file(
        "migrations/0002_note.sql",
        "CREATE TABLE notes (id int, body text);\n",
    );
    run(&["up", "--terminate-sessions"])
        .assert_code(0)
        .stdout_has("restored snapshot #");
    let stored: Vec<String> = db
        .client()
        .query(
            "SELECT c.relname || ' ' || pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d \
             JOIN pg_class c ON c.oid = d.adrelid ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        stored.contains(&"events_2024 NULL::timestamp without time zone".to_owned()),
        "pg_dump's doing: {stored:?}"
    );
    run(&["drift", "--env", "qa"])
        .assert_code(0)
        .stdout_has("in sync");
}

/// The server's major version, as trek reads it: `15`.
fn server_major(db: &TestDb) -> u32 {
    let num: i32 = db
        .client()
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .unwrap()
        .get(0);
    u32::try_from(num / 10_000).unwrap()
}

#[test]
fn pg_bin_names_the_client_programs_and_one_without_them_is_refused_before_anything_runs() {
    let (p, db) = qa_project("pg_bin");
    let major = server_major(&db);
    let qa = "[env.qa]\nurl_env = \"QA_DB\"\nworkflow = \"qa\"\n\
              snapshot = { strategy = \"pg_dump\", dir = \"snaps\" }\n";
    let run = |args: &[&str]| p.trek(args).env("QA_DB", &db.url).run();

    // A folder without the programs: the qa run takes no snapshot, so it applies nothing.
    p.file(
        "Trek.toml",
        &format!("[trek]\npg_bin = \"no-such-bin\"\n{qa}"),
    );
    let out = run(&["up", "--env", "qa", "--json"]);
    out.assert_code(1);
    let error = &json(&out)["error"];
    assert_eq!(error["kind"], "missing_client_programs", "{}", out.stdout);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("no-such-bin"), "{message}");
    assert!(
        message.contains(&format!("PostgreSQL {major} or newer")),
        "{message}"
    );
    assert!(
        applied(&db).is_empty(),
        "nothing is applied without a snapshot"
    );
    run(&["dump", "--env", "qa"])
        .assert_code(1)
        .stderr_has("no-such-bin");

    // A folder of links to the real programs: used, the run applies, the dump is written.
    let real = trek_pg_binaries::Search::new()
        .find_major(
            trek_pg_binaries::CLIENT_PROGRAMS,
            trek_pg_binaries::Major::new(major),
        )
        .expect("the suite's client programs");
    for program in trek_pg_binaries::CLIENT_PROGRAMS {
        p.symlink(
            &format!("bin/{program}"),
            real.program(program).to_str().unwrap(),
        );
    }
    p.file("Trek.toml", &format!("{qa}pg_bin = \"bin\"\n"));
    run(&["up", "--env", "qa"]).assert_code(0);
    assert_eq!(versions(&db), ["0001", "0002"]);
    assert_eq!(
        p.list("snaps").len(),
        1,
        "one snapshot, taken with bin/pg_dump"
    );
    run(&["dump", "--env", "qa"])
        .assert_code(0)
        .stdout_has("CREATE TABLE public.users");
}
