//! The output of every command, human and `--json`, pinned with insta snapshots
//! (`tests/snapshots/`). Each scenario drives the real binary through a sequence of commands in
//! a throwaway package with its own database, colour off, and pins what each step printed
//! (exit status, stdout and stderr) with what changes from run to run (times, durations, URLs
//! and ports, temporary paths, sizes, host names, versions) blanked out. Every `--json`
//! document is also read back into its type from `cargo_trek::json`.
//!
//! After a deliberate change of the output: `INSTA_UPDATE=always cargo test -p cargo-trek
//! --test output`, then read the diff of the `.snap` files before committing them.

use cargo_trek::json;
use serde::de::DeserializeOwned;
use trek_tests::cli::{Output, Project};
use trek_tests::TestDb;

fn project(label: &str) -> Project {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    Project::new(label)
}

/// `text` as a regex that matches it literally.
fn literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '/' || c == '-' {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// One scenario: the package, its databases, and the filters that blank out what varies.
struct Scenario {
    project: Project,
    env: Vec<(String, String)>,
    settings: insta::Settings,
}

impl Scenario {
    fn new(label: &str) -> Scenario {
        Scenario::of(project(label))
    }

    fn of(project: Project) -> Scenario {
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_path("snapshots");
        settings.set_omit_expression(true);
        // Most specific first: each filter sees what the ones before it left.
        let dir = project.dir().to_string_lossy().into_owned();
        let canonical = std::fs::canonicalize(project.dir())
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_else(|_| dir.clone());
        settings.add_filter(&literal(&canonical), "[project]");
        settings.add_filter(&literal(&dir), "[project]");
        settings.add_filter(r"postgres(ql)?://[\w.~%@:/*-]*\w", "[url]");
        settings.add_filter(r"trek_test_\w+", "[db]");
        settings.add_filter(&literal(project.name()), "[package]");
        settings.add_filter(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?",
            "[time]",
        );
        settings.add_filter(r#""(duration_ms|lock_wait_ms)": \d+"#, r#""$1": "[ms]""#);
        settings.add_filter(
            r#""(size_bytes|bytes|size_before_bytes)": \d+"#,
            r#""$1": "[bytes]""#,
        );
        settings.add_filter(r#""(client|db_user)": "[^"]*""#, r#""$1": "[client]""#);
        settings.add_filter(
            r#""trek_version": "[^"]*""#,
            r#""trek_version": "[version]""#,
        );
        settings.add_filter(r"\(\d+ ms\)", "([ms])");
        settings.add_filter(r"in \d+ ms", "in [ms]");
        settings.add_filter(r"\d+(\.\d)? (B|KiB|MiB|GiB)\b", "[size]");
        settings.add_filter(r"\(\d+ bytes\)", "([size])");
        Scenario {
            project,
            env: Vec::new(),
            settings,
        }
    }

    /// Sets a variable for every command of the scenario.
    fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Blanks out `pattern` (a regex) in what follows.
    fn filter(&mut self, pattern: &str, replacement: &str) {
        self.settings.add_filter(pattern, replacement);
    }

    /// Runs `cargo trek ARGS --color never` and returns what it printed.
    fn run(&self, args: &[&str]) -> Output {
        let mut trek = self.project.trek(args).arg("--color").arg("never");
        for (k, v) in &self.env {
            trek = trek.env(k, v);
        }
        trek.run()
    }

    /// Runs `args` and pins its exit status, stdout and stderr as the snapshot `name`.
    #[track_caller]
    fn pin(&self, name: &str, args: &[&str]) -> Output {
        let out = self.run(args);
        pin_output(&self.settings, name, args, &out);
        out
    }

    /// [`Scenario::pin`] for a table whose column widths change from run to run (a column of
    /// durations or sizes): runs of spaces are pinned as two.
    #[track_caller]
    fn pin_table(&self, name: &str, args: &[&str]) -> Output {
        let out = self.run(args);
        let mut settings = self.settings.clone();
        settings.add_filter(r"(\S) {2,}", "$1  ");
        pin_output(&settings, name, args, &out);
        out
    }

    /// Runs `args` (which include `--json`), pins the output as [`Scenario::pin`] does, and
    /// reads the document into `T`.
    #[track_caller]
    fn pin_json<T: DeserializeOwned>(&self, name: &str, args: &[&str]) -> T {
        let out = self.pin(name, args);
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "`cargo trek {}` printed no {} ({e}):\n{}",
                args.join(" "),
                std::any::type_name::<T>(),
                out.stdout
            )
        })
    }
}

/// Pins the exit status, stdout and stderr of `cargo trek ARGS` as the snapshot `name`.
#[track_caller]
fn pin_output(settings: &insta::Settings, name: &str, args: &[&str], out: &Output) {
    let text = format!(
        "$ cargo trek {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.code
            .map_or_else(|| "signal".to_owned(), |c| c.to_string()),
        out.stdout,
        out.stderr
    );
    settings.bind(|| insta::assert_snapshot!(name, text));
}

// ---------------------------------------------------------------------------------------------
// No database: init, new, verify, lint --offline, completions, usage errors

#[test]
fn offline_commands() {
    let s = Scenario::new("out_offline");
    s.pin("init", &["init"]);
    s.pin("init_again", &["init"]);
    let fresh = Scenario::new("out_offline_json");
    let doc: json::Init = fresh.pin_json("init_json", &["init", "--json"]);
    assert_eq!(doc.created.len(), 3);

    s.project.file(
        "migrations/0001_create_users.sql",
        "CREATE TABLE users (id int);\n",
    );
    s.pin("new", &["new", "add email"]);
    let doc: json::New = s.pin_json("new_json", &["new", "index users", "--down", "--json"]);
    assert_eq!(doc.version.as_deref(), Some("0003"));
    assert_eq!(doc.kind, json::Kind::Versioned);
    s.pin("new_seed", &["new", "demo users", "--seed"]);
    s.pin("new_repeatable", &["new", "user views", "--repeatable"]);

    // What new scaffolds has no SQL yet (the down it wrote has none either: that is an
    // irreversible migration, not a problem).
    s.pin("verify_problems", &["verify"]);
    let doc: json::Verify = s.pin_json("verify_problems_json", &["verify", "--json"]);
    assert!(!doc.ok);
    assert_eq!(doc.problems.len(), 4, "{doc:?}");
    for (path, sql) in [
        (
            "0002_add_email.sql",
            "ALTER TABLE users ADD COLUMN email text;\n",
        ),
        (
            "0003_index_users.sql",
            "CREATE INDEX users_email ON users (email);\n",
        ),
        ("0003_index_users.down.sql", "DROP INDEX users_email;\n"),
        (
            "seeds/0001_demo_users.sql",
            "INSERT INTO users VALUES (1, 'a@b.c');\n",
        ),
        (
            "repeatable/user_views.sql",
            "CREATE OR REPLACE VIEW v AS SELECT 1;\n",
        ),
    ] {
        s.project.file(&format!("migrations/{path}"), sql);
    }
    s.pin("verify", &["verify"]);
    let doc: json::Verify = s.pin_json("verify_json", &["verify", "--json"]);
    assert!(doc.ok);
    assert_eq!(doc.versioned, Some(3));
    s.project
        .file("migrations/0004 no underscore.sql", "SELECT 1;\n");
    s.project.file("migrations/0002_same.sql", "SELECT 1;\n");
    let doc: json::ErrorDoc = s.pin_json("error_migrations_json", &["status", "--json"]);
    assert_eq!(doc.error.kind, json::ErrorKind::Migrations);
    s.pin("error_migrations", &["status"]);

    s.pin("error_usage", &["up", "--to", "not-a-version"]);
    let doc: json::ErrorDoc = s.pin_json(
        "error_usage_json",
        &["up", "--to", "not-a-version", "--json"],
    );
    assert_eq!(doc.error.kind, json::ErrorKind::Usage);
    assert_eq!(doc.error.exit_code, 2);

    let lint = Scenario::new("out_lint_offline");
    lint.project
        .file(
            "migrations/0001_users.sql",
            "CREATE TABLE users (id int);\n",
        )
        .file(
            "migrations/0002_widen.sql",
            "ALTER TABLE users ALTER COLUMN id TYPE bigint;\n\
             CREATE INDEX users_id ON users (id);\n",
        );
    lint.pin("lint_offline", &["lint", "--offline"]);
    let doc: json::Lint = lint.pin_json("lint_offline_json", &["lint", "--offline", "--json"]);
    assert_eq!(doc.database, None);
    assert!(doc
        .findings
        .iter()
        .any(|f| f.severity == json::Severity::Warning));

    let mut c = Scenario::new("out_completions");
    // The script is clap's; pin the document around it.
    c.filter(r#""script": "(\\.|[^"\\])*""#, r#""script": "[script]""#);
    let doc: json::Completions = c.pin_json("completions_json", &["completions", "bash", "--json"]);
    assert!(doc.script.contains("cargo-trek"));
}

// ---------------------------------------------------------------------------------------------
// The dev workflow: status, up, the dry run, rewind, down, repair, seed, reset, audit, a
// failing migration

#[test]
fn dev_workflow() {
    let mut s = Scenario::new("out_dev");
    let db = TestDb::new("out_dev");
    s.env("DEV_DB", &db.url);
    s.project.two_migrations();
    s.project
        .file("Trek.toml", "[env.dev]\nurl_env = \"DEV_DB\"\n");
    s.project.file(
        "migrations/repeatable/answer.sql",
        "CREATE OR REPLACE VIEW answer AS SELECT 42 AS n;\n",
    );

    s.pin("status_empty", &["status"]);
    let doc: json::Status = s.pin_json("status_empty_json", &["status", "--json"]);
    assert!(!doc.initialized);
    assert_eq!(doc.migrations.len(), 3);
    assert!(doc
        .migrations
        .iter()
        .all(|m| m.state == json::State::Pending));

    // The dry run's statement table ends in a column of durations.
    s.filter(r"(?m)^(  (CREATE|ALTER|DROP|INSERT)\b.*?)\d+$", "$1[ms]");
    s.pin("up_dry_run", &["up", "--dry-run"]);
    let doc: json::DryRun = s.pin_json("up_dry_run_json", &["up", "--dry-run", "--json"]);
    assert!(doc.dry_run);
    assert_eq!(doc.scripts.len(), 3);

    s.pin("up_to", &["up", "--to", "0001"]);
    let doc: json::Up = s.pin_json("up_json", &["up", "--json"]);
    assert_eq!(doc.workflow, Some(json::Workflow::Dev));
    let applied: Vec<_> = doc.applied.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(applied, ["add_email", "answer"]);
    s.pin("up_nothing", &["up"]);

    s.pin("status_applied", &["status"]);
    let doc: json::Status = s.pin_json("status_applied_json", &["status", "--json"]);
    assert!(doc.up_to_date);
    assert_eq!(doc.stamp.as_deref(), Some("dev"));
    assert!(doc.plan.noop);

    // An edited migration: status shows the rewind and the diff; up rewinds it.
    s.project.file(
        "migrations/0002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email varchar(200);\n",
    );
    s.pin("status_edited", &["status"]);
    let doc: json::Status = s.pin_json("status_edited_json", &["status", "--json"]);
    assert_eq!(doc.migrations[1].state, json::State::Modified);
    assert!(doc.migrations[1].diff.is_some());
    assert!(matches!(
        doc.plan.undo.action,
        json::UndoAction::Rewind { .. }
    ));
    s.pin("up_rewind", &["up"]);

    s.pin("down", &["down"]);
    let doc: json::Down = s.pin_json("down_json", &["down", "--json"]);
    assert_eq!(doc.reverted[0].version.as_deref(), Some("0001"));
    s.pin("up_again", &["up", "-q"]);

    // repair accepts an edit.
    s.pin("repair_nothing", &["repair"]);
    s.project.file(
        "migrations/0002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email varchar(300);\n",
    );
    s.pin("repair", &["repair"]);
    s.project.file(
        "migrations/0002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email varchar(400);\n",
    );
    let doc: json::Repair = s.pin_json("repair_json", &["repair", "--json"]);
    assert_eq!(doc.accepted, ["0002 add_email"]);

    // seeds added after the migrations ran.
    s.project.file(
        "migrations/seeds/0001_demo_users.sql",
        "INSERT INTO users (id, email) VALUES (1, 'ada@example.com');\n",
    );
    s.pin("seed", &["seed"]);
    s.project.file(
        "migrations/seeds/0002_more_users.sql",
        "INSERT INTO users (id, email) VALUES (2, 'grace@example.com');\n",
    );
    let doc: json::Seed = s.pin_json("seed_json", &["seed", "--json"]);
    assert_eq!(doc.applied.len(), 1);
    s.pin("seed_nothing", &["seed"]);

    s.pin("reset", &["reset"]);
    let doc: json::Reset = s.pin_json("reset_json", &["reset", "--json"]);
    assert_eq!(doc.applied.len(), 5);

    // A failing migration: the error, for people and for programs.
    s.project.file(
        "migrations/0003_broken.sql",
        "CREATE TABLE notes (id int);\nINSERT INTO notes VALUES ('not a number');\n",
    );
    s.pin("error_migration_failed", &["up"]);
    let doc: json::ErrorDoc = s.pin_json("error_migration_failed_json", &["up", "--json"]);
    assert_eq!(
        doc.error.kind,
        json::ErrorKind::Engine("migration_failed".to_owned())
    );
    assert_eq!(doc.error.sql.as_ref().map(|s| s.line), Some(Some(2)));
    s.project.remove("migrations/0003_broken.sql");

    // The audit log of all that: its durations change the width of the table's columns.
    let mut audit = Scenario::new("out_dev_audit");
    audit.env("DEV_DB", &db.url);
    audit.project.two_migrations();
    audit
        .project
        .file("Trek.toml", "[env.dev]\nurl_env = \"DEV_DB\"\n");
    let doc: json::Audit = audit.pin_json("audit_json", &["audit", "--limit", "3", "--json"]);
    audit.filter(r"\S+ pid \d+ \(cargo-trek [^)]*\)", "[client]");
    audit.filter(r"(success|failure) +\d+ +", "$1  [ms]  ");
    audit.pin_table("audit", &["audit", "--limit", "6"]);
    assert_eq!(doc.entries.len(), 3);
    assert!(doc.entries.windows(2).all(|w| w[0].id > w[1].id));
    let newest = &doc.entries[0];
    assert_eq!(
        (newest.action.as_str(), newest.outcome.as_str()),
        ("apply", "failure")
    );
    assert_eq!(newest.version.as_deref(), Some("0003"));
    assert!(newest.error.as_deref().is_some_and(|e| e.contains("22P02")));
    assert_eq!(doc.entries[2].name.as_deref(), Some("add_email"));
}

// ---------------------------------------------------------------------------------------------
// The prod workflow: baseline, the dry run of a rewrite, dump, drift, restore, lint

#[test]
fn prod_workflow() {
    let mut s = Scenario::new("out_prod");
    let prod = TestDb::new("out_prod");
    let dev = TestDb::new("out_prod_dev");
    s.env("PROD_DB", &prod.url);
    s.env("DEV_DB", &dev.url);
    s.project.two_migrations();
    s.project.file(
        "Trek.toml",
        "[env.prod]\nurl_env = \"PROD_DB\"\nworkflow = \"prod\"\n\
         [env.dev]\nurl_env = \"DEV_DB\"\nworkflow = \"dev\"\n",
    );

    // A database made by hand before trek: baseline records 0001.
    prod.client()
        .batch_execute("CREATE TABLE users (id int PRIMARY KEY)")
        .unwrap();
    dev.client()
        .batch_execute("CREATE TABLE users (id int PRIMARY KEY)")
        .unwrap();
    s.pin("baseline", &["baseline", "--env", "prod", "--to", "0001"]);
    let doc: json::Baseline = s.pin_json(
        "baseline_json",
        &["baseline", "--env", "dev", "--to", "0001", "--json"],
    );
    assert_eq!(doc.applied.len(), 1);
    let doc: json::ErrorDoc = s.pin_json(
        "error_already_applied_json",
        &["baseline", "--env", "prod", "--to", "0001", "--json"],
    );
    assert_eq!(
        doc.error.kind,
        json::ErrorKind::Engine("already_applied".to_owned())
    );
    s.pin("up_prod", &["up", "--env", "prod"]);
    prod.client()
        .batch_execute("INSERT INTO users (id) SELECT generate_series(1, 20000); ANALYZE users")
        .unwrap();

    // The dry run of a rewrite of a table with data.
    s.project.file(
        "migrations/0003_bigint.sql",
        "ALTER TABLE users ALTER COLUMN id TYPE bigint;\n",
    );
    s.filter(r"(?m)^(  (CREATE|ALTER|DROP|INSERT)\b.*?)\d+$", "$1[ms]");
    s.pin("up_dry_run_prod", &["up", "--env", "prod", "--dry-run"]);
    let doc: json::DryRun = s.pin_json(
        "up_dry_run_prod_json",
        &["up", "--env", "prod", "--dry-run", "--json"],
    );
    assert!(doc.blocks_reads_on_data);

    // lint with the table sizes.
    s.pin("lint", &["lint", "--env", "prod"]);
    let doc: json::Lint = s.pin_json("lint_json", &["lint", "--env", "prod", "--json"]);
    assert!(doc.database.is_some());
    assert_eq!(doc.findings[0].rule, "changing-column-type");
    s.project.remove("migrations/0003_bigint.sql");

    // dump and drift.
    s.pin("dump", &["dump", "--env", "prod", "-o", "schema.sql"]);
    let doc: json::Dump = s.pin_json(
        "dump_file_json",
        &["dump", "--env", "prod", "-o", "schema.sql", "--json"],
    );
    assert_eq!(doc.file.as_deref(), Some("schema.sql"));
    let mut with_text = Scenario::new("out_prod_dump");
    with_text.env("PROD_DB", &prod.url);
    with_text.project.two_migrations();
    with_text.project.file(
        "Trek.toml",
        "[env.prod]\nurl_env = \"PROD_DB\"\nworkflow = \"prod\"\n",
    );
    with_text.filter(r#""dump": "(\\.|[^"\\])*""#, r#""dump": "[dump]""#);
    let doc: json::Dump =
        with_text.pin_json("dump_stdout_json", &["dump", "--env", "prod", "--json"]);
    assert!(doc.dump.is_some_and(|d| d.contains("CREATE TABLE")));

    s.pin("drift_in_sync", &["drift", "--env", "prod"]);
    let doc: json::Drift = s.pin_json("drift_in_sync_json", &["drift", "--env", "prod", "--json"]);
    assert!(doc.in_sync);
    prod.client()
        .batch_execute("ALTER TABLE users ADD COLUMN nickname text")
        .unwrap();
    // Where a hunk starts in a dump depends on the preamble of the pg_dump that wrote it
    // (each major adds settings), not on the schema.
    s.filter(r"@@ -\d+(,\d+)? \+\d+(,\d+)? @@", "@@ [lines] @@");
    s.pin("drift", &["drift", "--env", "prod"]);
    let doc: json::Drift = s.pin_json("drift_json", &["drift", "--env", "prod", "--json"]);
    assert_eq!(doc.objects[0].change, json::Change::Changed);

    // restore the prod dump into dev (which has 0001 only, from the baseline); 0003 is new.
    s.project.file(
        "migrations/0003_notes.sql",
        "CREATE TABLE notes (id int);\n",
    );
    s.pin(
        "restore",
        &["restore", "--env", "dev", "--from-dump", "schema.sql"],
    );
    let doc: json::Restore = s.pin_json(
        "restore_json",
        &[
            "restore",
            "--env",
            "dev",
            "--from-dump",
            "schema.sql",
            "--json",
        ],
    );
    assert_eq!(doc.pending, 1);
    let doc: json::ErrorDoc = s.pin_json(
        "error_protected_json",
        &[
            "restore",
            "--env",
            "prod",
            "--from-dump",
            "schema.sql",
            "--json",
        ],
    );
    assert_eq!(
        doc.error.kind,
        json::ErrorKind::Engine("protected".to_owned())
    );
    s.pin(
        "error_protected",
        &["restore", "--env", "prod", "--from-dump", "schema.sql"],
    );
}

// ---------------------------------------------------------------------------------------------
// The qa workflow: snapshots taken, listed, restored and pruned

#[test]
fn qa_snapshots() {
    let mut s = Scenario::new("out_qa");
    let db = TestDb::new("out_qa");
    s.env("QA_DB", &db.url);
    s.env("TREK_ENV", "qa");
    s.project.two_migrations();
    s.project.file(
        "Trek.toml",
        "[env.qa]\nurl_env = \"QA_DB\"\nworkflow = \"qa\"\n\
         snapshot = { strategy = \"pg_dump\", dir = \"snaps\" }\n",
    );
    // Snapshot files are named after when they were taken; their sizes change the table.
    s.filter(r"snaps/[^\s\x22)]+", "snaps/[file]");

    s.pin("qa_up_to", &["up", "--to", "0001"]);
    let doc: json::Up = s.pin_json("qa_up_json", &["up", "--json"]);
    assert_eq!(doc.snapshots.len(), 1);
    s.pin_table("snapshots_list", &["snapshots"]);
    let doc: json::SnapshotsList = s.pin_json("snapshots_list_json", &["snapshots", "--json"]);
    assert_eq!(doc.snapshots.len(), 2);

    s.project.file(
        "migrations/0002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email varchar(200);\n",
    );
    s.pin("qa_status_restore", &["status"]);
    s.pin("qa_up_restore", &["up"]);
    s.project.file(
        "migrations/0003_notes.sql",
        "CREATE TABLE notes (id int);\n",
    );
    s.pin("qa_up_third_snapshot", &["up"]);

    s.pin("snapshots_prune", &["snapshots", "prune", "--keep", "2"]);
    let doc: json::SnapshotsPrune = s.pin_json(
        "snapshots_prune_json",
        &["snapshots", "prune", "--keep", "1", "--json"],
    );
    assert_eq!(doc.deleted.len(), 1);
    s.pin("error_prune_usage", &["snapshots", "prune"]);
}

// ---------------------------------------------------------------------------------------------
// The local server: db start, url, stop, destroy

#[test]
fn local_server_commands() {
    let s = Scenario::of(project("out_db").with_own_target_dir());
    let doc: json::DbStart = s.pin_json("db_start_json", &["db", "start", "--json"]);
    assert!(doc.started);
    s.pin("db_start_running", &["db", "start"]);
    s.pin("db_url", &["db", "url"]);
    let doc: json::DbUrl = s.pin_json("db_url_json", &["db", "url", "--json"]);
    assert!(!doc.started);
    s.pin("db_stop", &["db", "stop"]);
    let doc: json::DbStop = s.pin_json("db_stop_not_running_json", &["db", "stop", "--json"]);
    assert!(!doc.stopped);
    s.pin("db_stop_not_running", &["db", "stop"]);
    s.pin("db_start", &["db", "start"]);
    let doc: json::DbStop = s.pin_json("db_stop_json", &["db", "stop", "--json"]);
    assert!(doc.stopped);
    let doc: json::DbDestroy = s.pin_json("db_destroy_json", &["db", "destroy", "--json"]);
    assert!(doc.destroyed);
    s.pin("db_destroy", &["db", "destroy"]);
}

// ---------------------------------------------------------------------------------------------
// import: a goose folder converted, then goose's history adopted

#[test]
fn import_commands() {
    let mut s = Scenario::new("out_import");
    let db = TestDb::new("out_import");
    s.env("DEV_DB", &db.url);
    s.project
        .file("Trek.toml", "[env.dev]\nurl_env = \"DEV_DB\"\n")
        .file(
            "db/migrations/00001_create_users.sql",
            "-- +goose Up\nCREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);\n\n-- +goose Down\nDROP TABLE users;\n",
        )
        .file(
            "db/migrations/00002_index_email.sql",
            "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n\n-- +goose Down\nDROP INDEX CONCURRENTLY users_email;\n",
        )
        .file(
            "db/migrations/00003_lowercase_emails.sql",
            "-- +goose Up\nUPDATE users SET email = lower(email);\n\n-- +goose Down\n",
        )
        .file(
            "db/migrations/00004_backfill.go",
            "package migrations\n",
        );
    s.pin(
        "import_dry_run",
        &[
            "import",
            "--from",
            "goose",
            "--source",
            "db/migrations",
            "--dry-run",
        ],
    );
    let doc: json::Import = s.pin_json(
        "import_json",
        &[
            "import",
            "--from",
            "goose",
            "--source",
            "db/migrations",
            "--json",
        ],
    );
    assert_eq!(doc.converted.len(), 3);
    assert_eq!(doc.skipped.len(), 1);

    db.client()
        .batch_execute(
            "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);\
             CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());\
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true);",
        )
        .unwrap();
    s.pin(
        "import_history",
        &["import", "--from", "goose", "--history"],
    );
    let doc: json::Import = s.pin_json(
        "import_history_json",
        &["import", "--from", "goose", "--history", "--json"],
    );
    assert!(doc.history.is_some_and(|h| h.recorded.is_empty()));
    s.pin(
        "error_import_no_history_table",
        &["import", "--from", "dbmate", "--history"],
    );
}

// ---------------------------------------------------------------------------------------------
// fleet up, fleet status

#[test]
fn fleet_commands() {
    let mut s = Scenario::new("out_fleet");
    s.project.file(
        "migrations/0001_create_users.sql",
        "CREATE TABLE users (id int PRIMARY KEY);\n",
    );
    s.project.file(
        "migrations/0002_create_orders.sql",
        "CREATE TABLE orders (id int PRIMARY KEY);\n",
    );
    let dbs: Vec<TestDb> = ["a", "b", "c"]
        .iter()
        .map(|n| TestDb::new(&format!("out_fleet_{n}")))
        .collect();
    // The second tenant already has the table 0002 creates.
    dbs[1]
        .client()
        .batch_execute("CREATE TABLE orders (id int)")
        .unwrap();
    s.project.file(
        "Trek.toml",
        "[fleet.tenants]\nurl_envs = [\"TENANT_A\", \"TENANT_B\", \"TENANT_C\"]\n",
    );
    for (var, db) in ["TENANT_A", "TENANT_B", "TENANT_C"].iter().zip(&dbs) {
        s.env(var, &db.url);
    }
    s.filter(r#""server": "[^"]*""#, r#""server": "[server]""#);
    s.filter(r"in \d+\.\d s", "in [ms]");
    s.filter(r"\(\d+\.\d s\)", "([ms])");

    s.pin_table("fleet_up_dry_run", &["fleet", "up", "tenants", "--dry-run"]);
    let doc: json::FleetUp = s.pin_json(
        "fleet_up_dry_run_json",
        &["fleet", "up", "tenants", "--dry-run", "--json"],
    );
    assert_eq!(doc.counts.migrated, 3);
    s.pin_table("fleet_up", &["fleet", "up", "tenants"]);
    let doc: json::FleetUp = s.pin_json("fleet_up_json", &["fleet", "up", "tenants", "--json"]);
    assert_eq!((doc.counts.up_to_date, doc.counts.failed), (2, 1));
    s.pin_table("fleet_status", &["fleet", "status", "tenants"]);
    let doc: json::FleetStatus = s.pin_json(
        "fleet_status_json",
        &["fleet", "status", "tenants", "--json"],
    );
    assert_eq!((doc.current, doc.behind), (2, 1));
}
