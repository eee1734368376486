//! `cargo trek import`: for each tool, a folder shaped like a real project of that tool (tens
//! of migrations, function bodies in dollar quotes, non-transactional ones, downs, empty downs)
//! is converted, applied by trek to a fresh database and compared with the same scripts
//! applied in order by psql; a database migrated part-way, with the history rows the tool
//! writes, is adopted with `import --history`, after which `up` applies only the rest. Then the
//! refusals: a dirty golang-migrate version, a failed Flyway row, a failed sqlx row, a version
//! the folder lacks, colliding versions, Go migrations, and `--dry-run` writing nothing.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use trek_tests::cli::{Output, Project};
use trek_tests::TestDb;

// ---------------------------------------------------------------------------------------------
// The fixture: one schema, written in each tool's format.

/// What a migration's down is in the source tool.
#[derive(Clone)]
enum Down {
    /// A down with statements.
    Sql(String),
    /// A down file or section with no statement (comments only).
    Empty,
    /// No down at all.
    Missing,
}

/// One migration of the fixture.
#[derive(Clone)]
struct Spec {
    name: String,
    up: String,
    down: Down,
    /// Needs to run outside a transaction.
    no_tx: bool,
    /// Holds a function body (goose wraps it in StatementBegin/End).
    body: bool,
}

fn spec(name: &str, up: &str, down: Down) -> Spec {
    Spec {
        name: name.to_owned(),
        up: up.to_owned(),
        down,
        no_tx: false,
        body: false,
    }
}

fn sql(text: &str) -> Down {
    Down::Sql(text.to_owned())
}

/// 30 migrations of a small shop: tables, a trigger function, an enum, concurrent indexes,
/// views, data with `;` and `$$` in strings, DO blocks, nested dollar quotes.
fn shop() -> Vec<Spec> {
    let mut specs = vec![
        spec(
            "create_users",
            "CREATE TABLE users (\n    id bigserial PRIMARY KEY,\n    email text NOT NULL UNIQUE,\n    created_at timestamptz NOT NULL DEFAULT now(),\n    updated_at timestamptz\n);\n",
            sql("DROP TABLE users;\n"),
        ),
        Spec {
            body: true,
            ..spec(
                "set_updated_at",
                "CREATE FUNCTION set_updated_at() RETURNS trigger\nLANGUAGE plpgsql AS $$\nBEGIN\n    NEW.updated_at := now();\n    RETURN NEW;\nEND;\n$$;\n\nCREATE TRIGGER users_updated_at BEFORE UPDATE ON users\n    FOR EACH ROW EXECUTE FUNCTION set_updated_at();\n",
                sql("DROP TRIGGER users_updated_at ON users;\nDROP FUNCTION set_updated_at();\n"),
            )
        },
        spec(
            "order_status",
            "CREATE TYPE order_status AS ENUM ('new', 'paid');\n",
            sql("DROP TYPE order_status;\n"),
        ),
        spec(
            "create_orders",
            "CREATE TABLE orders (\n    id bigserial PRIMARY KEY,\n    user_id bigint NOT NULL REFERENCES users (id),\n    status order_status NOT NULL DEFAULT 'new',\n    total numeric(12, 2) NOT NULL DEFAULT 0 CHECK (total >= 0)\n);\n",
            sql("DROP TABLE orders;\n"),
        ),
        Spec {
            no_tx: true,
            ..spec(
                "index_orders_user",
                "CREATE INDEX CONCURRENTLY orders_user_id ON orders (user_id);\n",
                sql("DROP INDEX CONCURRENTLY orders_user_id;\n"),
            )
        },
        spec(
            "order_status_shipped",
            "ALTER TYPE order_status ADD VALUE 'shipped';\n",
            Down::Empty,
        ),
        spec(
            "order_totals_view",
            "CREATE VIEW order_totals AS\n    SELECT user_id, sum(total) AS total, count(*) AS orders\n    FROM orders GROUP BY user_id;\n",
            sql("DROP VIEW order_totals;\n"),
        ),
        spec(
            "settings",
            "CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);\nINSERT INTO settings VALUES ('greeting', 'hello; world'), ('quote', 'it''s $$ not a body'), ('semi', E'a\\;b');\n",
            sql("DROP TABLE settings;\n"),
        ),
        Spec {
            body: true,
            ..spec(
                "audit_log",
                "DO $do$\nBEGIN\n    EXECUTE 'CREATE TABLE audit_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), what text NOT NULL)';\nEND\n$do$;\n",
                sql("DROP TABLE audit_log;\n"),
            )
        },
        Spec {
            body: true,
            ..spec(
                "order_count",
                "CREATE FUNCTION order_count(uid bigint) RETURNS bigint\nLANGUAGE sql STABLE AS $fn$\n    SELECT count(*) FROM orders WHERE user_id = uid;\n$fn$;\n",
                sql("DROP FUNCTION order_count(bigint);\n"),
            )
        },
        Spec {
            body: true,
            ..spec(
                "log_changes",
                "CREATE FUNCTION log_change() RETURNS trigger\nLANGUAGE plpgsql AS $outer$\nBEGIN\n    EXECUTE $q$INSERT INTO audit_log (what) VALUES ($1)$q$ USING TG_TABLE_NAME || ';' || TG_OP;\n    RETURN NULL;\nEND;\n$outer$;\nCREATE TRIGGER orders_log AFTER INSERT OR UPDATE ON orders\n    FOR EACH ROW EXECUTE FUNCTION log_change();\n",
                sql("DROP TRIGGER orders_log ON orders;\nDROP FUNCTION log_change();\n"),
            )
        },
        spec(
            "user_stats",
            "CREATE MATERIALIZED VIEW user_stats AS\n    SELECT u.id, count(o.id) AS orders FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id;\nCREATE UNIQUE INDEX user_stats_id ON user_stats (id);\n",
            sql("DROP MATERIALIZED VIEW user_stats;\n"),
        ),
        Spec {
            no_tx: true,
            ..spec(
                "index_orders_status",
                "-- Built without locking writes.\nCREATE INDEX CONCURRENTLY orders_status ON orders (status) WHERE status <> 'shipped';\n",
                sql("DROP INDEX CONCURRENTLY orders_status;\n"),
            )
        },
        spec(
            "users_name",
            "ALTER TABLE users ADD COLUMN name text;\nCOMMENT ON COLUMN users.name IS 'shown; never unique';\n",
            sql("ALTER TABLE users DROP COLUMN name;\n"),
        ),
    ];
    for i in 0..16 {
        let down = match i % 4 {
            0 => Down::Empty,
            1 => Down::Missing,
            _ => sql(&format!("DROP TABLE item_{i};\n")),
        };
        specs.push(spec(
            &format!("create_item_{i}"),
            &format!(
                "CREATE TABLE item_{i} (\n    id integer PRIMARY KEY,\n    name text NOT NULL DEFAULT 'item {i}',\n    price numeric(10, 2) NOT NULL DEFAULT 0\n);\nCOMMENT ON TABLE item_{i} IS 'item ''{i}''';\nCREATE INDEX item_{i}_name ON item_{i} (name);\n"
            ),
            down,
        ));
    }
    specs
}

/// A tool's folder: its files, and for each spec (in order) the version the tool records and
/// the version trek's file carries.
struct Folder {
    files: Vec<(String, String)>,
    /// The text the tool writes in its history table.
    recorded: Vec<String>,
}

fn timestamp(i: usize) -> String {
    format!("20240101{:02}{:02}00", 10 + i / 60, i % 60)
}

fn down_text(down: &Down, empty: &str) -> Option<String> {
    match down {
        Down::Sql(s) => Some(s.clone()),
        Down::Empty => Some(empty.to_owned()),
        Down::Missing => None,
    }
}

fn sqlx_folder(specs: &[Spec]) -> Folder {
    let mut files = Vec::new();
    let mut recorded = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let v = timestamp(i);
        let header = if s.no_tx { "-- no-transaction\n" } else { "" };
        match down_text(&s.down, "-- nothing to undo\n") {
            // A reversible migration, as `sqlx migrate add -r` makes.
            Some(down) => {
                files.push((
                    format!("{v}_{}.up.sql", s.name),
                    format!("{header}{}", s.up),
                ));
                files.push((
                    format!("{v}_{}.down.sql", s.name),
                    format!("{header}{down}"),
                ));
            }
            // A simple one.
            None => files.push((format!("{v}_{}.sql", s.name), format!("{header}{}", s.up))),
        }
        recorded.push(v);
    }
    Folder { files, recorded }
}

fn refinery_folder(specs: &[Spec]) -> Folder {
    let mut files = Vec::new();
    let mut recorded = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let n = i + 1;
        let prefix = if i == specs.len() - 1 { "U" } else { "V" };
        let header = if s.no_tx {
            "-- refinery:noTransaction\n"
        } else {
            ""
        };
        // Refinery finds migrations in subfolders too.
        let dir = if i < 10 { "" } else { "later/" };
        files.push((
            format!("{dir}{prefix}{n}__{}.sql", s.name),
            format!("{header}{}", s.up),
        ));
        recorded.push(n.to_string());
    }
    files.push(("mod.rs".to_owned(), "// embed_migrations!\n".to_owned()));
    Folder { files, recorded }
}

fn diesel_folder(specs: &[Spec]) -> Folder {
    let mut files = vec![
        (
            "00000000000000_diesel_initial_setup/up.sql".to_owned(),
            "-- This file was automatically created by Diesel to setup helper functions\n-- and other internal bookkeeping.\n\nCREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$\nBEGIN\n    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s\n                    FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);\nEND;\n$$ LANGUAGE plpgsql;\n\nCREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$\nBEGIN\n    IF (\n        NEW IS DISTINCT FROM OLD AND\n        NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at\n    ) THEN\n        NEW.updated_at := current_timestamp;\n    END IF;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n".to_owned(),
        ),
        (
            "00000000000000_diesel_initial_setup/down.sql".to_owned(),
            "DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);\nDROP FUNCTION IF EXISTS diesel_set_updated_at();\n".to_owned(),
        ),
        (".keep".to_owned(), String::new()),
    ];
    let mut recorded = vec!["00000000000000".to_owned()];
    for (i, s) in specs.iter().enumerate() {
        let dir = format!("2024-01-01-{:02}{:02}00_{}", 10 + i / 60, i % 60, s.name);
        files.push((format!("{dir}/up.sql"), s.up.clone()));
        if let Some(down) = down_text(&s.down, "-- This file should undo anything in `up.sql`\n") {
            files.push((format!("{dir}/down.sql"), down));
        }
        if s.no_tx {
            files.push((
                format!("{dir}/metadata.toml"),
                "run_in_transaction = false\n".to_owned(),
            ));
        }
        recorded.push(timestamp(i));
    }
    Folder { files, recorded }
}

fn golang_migrate_folder(specs: &[Spec]) -> Folder {
    let mut files = Vec::new();
    let mut recorded = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let v = format!("{:06}", i + 1);
        // golang-migrate users wrap multi-statement files in their own transaction.
        let up = if s.up.matches(';').count() > 1 && !s.body && !s.no_tx {
            format!("BEGIN;\n{}COMMIT;\n", s.up)
        } else {
            s.up.clone()
        };
        files.push((format!("{v}_{}.up.sql", s.name), up));
        if let Some(down) = down_text(&s.down, "") {
            files.push((format!("{v}_{}.down.sql", s.name), down));
        }
        recorded.push(v.trim_start_matches('0').to_owned());
    }
    Folder { files, recorded }
}

fn goose_folder(specs: &[Spec]) -> Folder {
    let mut files = Vec::new();
    let mut recorded = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let v = format!("{:05}", i + 1);
        let mut text = String::new();
        if s.no_tx {
            text.push_str("-- +goose NO TRANSACTION\n");
        }
        text.push_str("-- +goose Up\n");
        if s.body {
            text.push_str(&format!(
                "-- +goose StatementBegin\n{}-- +goose StatementEnd\n",
                s.up
            ));
        } else {
            text.push_str(&s.up);
        }
        match &s.down {
            Down::Sql(down) => text.push_str(&format!("\n-- +goose Down\n{down}")),
            Down::Empty => text.push_str("\n-- +goose Down\n-- +goose StatementBegin\nSELECT 'down SQL query';\n-- +goose StatementEnd\n"),
            Down::Missing => {}
        }
        files.push((format!("{v}_{}.sql", s.name), text));
        recorded.push(v.trim_start_matches('0').to_owned());
    }
    // A Go migration, which trek cannot import, and the program that embeds the folder.
    files.push((
        format!("{:05}_backfill_emails.go", specs.len() + 1),
        "package migrations\n\nimport (\n\t\"context\"\n\t\"database/sql\"\n\n\t\"github.com/pressly/goose/v3\"\n)\n\nfunc init() {\n\tgoose.AddMigrationContext(upBackfill, downBackfill)\n}\n\nfunc upBackfill(ctx context.Context, tx *sql.Tx) error {\n\t_, err := tx.ExecContext(ctx, \"UPDATE users SET email = lower(email)\")\n\treturn err\n}\n\nfunc downBackfill(ctx context.Context, tx *sql.Tx) error {\n\treturn nil\n}\n".to_owned(),
    ));
    files.push((
        "main.go".to_owned(),
        "package migrations\n\nimport \"embed\"\n\n//go:embed *.sql\nvar FS embed.FS\n".to_owned(),
    ));
    Folder { files, recorded }
}

fn dbmate_folder(specs: &[Spec]) -> Folder {
    let mut files = Vec::new();
    let mut recorded = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let v = timestamp(i);
        let option = if s.no_tx { " transaction:false" } else { "" };
        let down = match &s.down {
            Down::Sql(d) => d.clone(),
            _ => String::new(),
        };
        files.push((
            format!("{v}_{}.sql", s.name),
            format!(
                "-- migrate:up{option}\n{}\n-- migrate:down{option}\n{down}",
                s.up
            ),
        ));
        recorded.push(v);
    }
    files.push(("../schema.sql".to_owned(), String::new()));
    Folder { files, recorded }
}

fn flyway_version(i: usize) -> String {
    // A dotted version written with `_`, as Flyway allows.
    if i == 3 {
        "3_1".to_owned()
    } else {
        (i + 1).to_string()
    }
}

fn flyway_folder(specs: &[Spec]) -> Folder {
    let mut files = Vec::new();
    let mut recorded = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let v = flyway_version(i);
        let name = format!("V{v}__{}.sql", s.name);
        files.push((name.clone(), s.up.clone()));
        if s.no_tx {
            files.push((
                format!("{name}.conf"),
                "executeInTransaction=false\n".to_owned(),
            ));
        }
        if let Down::Sql(down) = &s.down {
            files.push((format!("U{v}__{}.sql", s.name), down.clone()));
        }
        recorded.push(v.replace('_', "."));
    }
    files.push((
        "R__order_summary.sql".to_owned(),
        "CREATE OR REPLACE VIEW order_summary AS\n    SELECT status, count(*) AS orders FROM orders GROUP BY status;\n".to_owned(),
    ));
    files.push(("afterMigrate.sql".to_owned(), "ANALYZE;\n".to_owned()));
    Folder { files, recorded }
}

// ---------------------------------------------------------------------------------------------
// Databases.

fn psql() -> PathBuf {
    trek_pg_binaries::Search::new()
        .find(&["psql"])
        .map_or_else(|| PathBuf::from("psql"), |dir| dir.program("psql"))
}

/// Applies `scripts` in order with psql, each statement on its own (autocommit), stopping at
/// the first error.
fn apply_with_psql(db: &TestDb, scripts: &[String]) {
    let out = Command::new(psql())
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &db.url,
            "-f",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(scripts.concat().as_bytes())?;
            child.wait_with_output()
        })
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The public schema as the catalogue describes it: columns, constraints, indexes, views,
/// functions, triggers, enum labels and comments; the tools' history tables left out.
fn catalogue(db: &TestDb) -> Vec<String> {
    let history = "('_sqlx_migrations', 'refinery_schema_history', '__diesel_schema_migrations', 'schema_migrations', 'goose_db_version', 'flyway_schema_history')";
    let queries = [
        format!("SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(column_default, '-') || ' ' || is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN {history}"),
        format!("SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND conrelid::regclass::text NOT IN {history}"),
        format!("SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT IN {history}"),
        "SELECT 'view ' || viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public'".to_owned(),
        "SELECT 'matview ' || matviewname || ' ' || definition FROM pg_matviews WHERE schemaname = 'public'".to_owned(),
        "SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'".to_owned(),
        "SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT tgisinternal".to_owned(),
        "SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid GROUP BY t.typname".to_owned(),
        format!("SELECT 'comment ' || c.relname || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '-') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm') AND c.relname NOT IN {history}"),
        "SELECT 'data ' || key || '=' || value FROM settings".to_owned(),
    ];
    let mut client = db.client();
    let mut lines: Vec<String> = queries
        .iter()
        .flat_map(|q| {
            client
                .query(q.as_str(), &[])
                .unwrap_or_else(|e| panic!("{q}: {e}"))
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    lines
}

/// Asserts two catalogues are equal, showing only the lines that differ.
fn same_schema(actual: &[String], expected: &[String], what: &str) {
    let extra: Vec<&String> = actual.iter().filter(|l| !expected.contains(l)).collect();
    let missing: Vec<&String> = expected.iter().filter(|l| !actual.contains(l)).collect();
    assert!(
        extra.is_empty() && missing.is_empty() && actual.len() == expected.len(),
        "{what}:\nonly in trek's: {extra:#?}\nonly in psql's: {missing:#?}"
    );
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout))
}

fn project(label: &str, db: &TestDb, folder: &str, files: &[(String, String)]) -> Project {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    let p = Project::new(label);
    p.file("Trek.toml", &format!("[env.dev]\nurl = \"{}\"\n", db.url));
    for (path, text) in files {
        p.file(&format!("{folder}/{path}"), text);
    }
    p
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.client().query_one(sql, &[]).expect(sql).get(0)
}

/// Converts `folder`, applies it with trek to a fresh database and compares it with psql's;
/// then adopts a database `done` migrations into the tool's history and rolls it forward.
fn round_trip(
    tool: &str,
    folder: &Folder,
    specs: &[Spec],
    extra_reference: &[String],
    done: usize,
    write_history: impl Fn(&TestDb, &[String]),
) {
    let fresh = TestDb::new(&format!("import_{tool}"));
    let p = project(&format!("import_{tool}"), &fresh, "old", &folder.files);

    let out = p.trek(&["import", "--from", tool, "--source", "old"]).run();
    out.assert_code(0).stdout_has("imported");
    // Running it again changes nothing.
    p.trek(&["import", "--from", tool, "--source", "old"])
        .run()
        .assert_code(0)
        .stdout_has("already there, unchanged");
    p.trek(&["verify"]).run().assert_code(0);
    p.trek(&["up"]).run().assert_code(0);

    let mut ups: Vec<String> = specs.iter().map(|s| s.up.clone()).collect();
    let reference = TestDb::new(&format!("import_{tool}_ref"));
    let mut all = extra_reference.to_vec();
    all.extend(ups.iter().cloned());
    apply_with_psql(&reference, &all);
    let expected = catalogue(&reference);
    assert!(expected.len() > 100, "{expected:#?}");
    same_schema(
        &catalogue(&fresh),
        &expected,
        &format!("{tool}: trek's schema differs from psql's"),
    );

    // Part-way by the tool's own rules, then adopted.
    let partial = TestDb::new(&format!("import_{tool}_part"));
    let mut first: Vec<String> = extra_reference.to_vec();
    first.extend(ups.drain(..done));
    apply_with_psql(&partial, &first);
    write_history(&partial, &folder.recorded[..done + extra_reference.len()]);
    let out = p
        .trek(&[
            "import",
            "--from",
            tool,
            "--history",
            "--json",
            "--database-url",
            &partial.url,
        ])
        .run();
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["schema"], "trek.import/1");
    let recorded = doc["history"]["recorded"]
        .as_array()
        .expect("recorded")
        .len();
    assert_eq!(recorded, done + extra_reference.len(), "{}", out.stdout);
    assert_eq!(
        count(&partial, "SELECT count(*) FROM trek.audit WHERE action = 'baseline' AND detail LIKE 'imported from %'"),
        i64::try_from(recorded).unwrap()
    );
    let out = p
        .trek(&["up", "--json", "--database-url", &partial.url])
        .run();
    out.assert_code(0);
    let applied: Vec<String> = json(&out)["applied"]
        .as_array()
        .expect("applied")
        .iter()
        .filter(|s| s["kind"] == "versioned")
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    let rest: Vec<String> = specs[done..].iter().map(|s| s.name.clone()).collect();
    assert_eq!(applied, rest, "{tool}: up after the adoption");
    same_schema(
        &catalogue(&partial),
        &expected,
        &format!("{tool}: the adopted database differs"),
    );
    // Nothing left, and adopting again records nothing.
    let out = p
        .trek(&[
            "import",
            "--from",
            tool,
            "--history",
            "--database-url",
            &partial.url,
        ])
        .run();
    out.assert_code(0).stdout_has("nothing to record");
}

fn execute(db: &TestDb, sql: &str) {
    db.client()
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn values(rows: impl Iterator<Item = String>) -> String {
    rows.collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// One round trip per tool.

#[test]
fn sqlx_folders_and_history_import() {
    let specs = shop();
    let folder = sqlx_folder(&specs);
    round_trip("sqlx", &folder, &specs, &[], 17, |db, versions| {
        execute(db, "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)");
        let rows = values(versions.iter().enumerate().map(|(i, v)| {
            format!(
                "({v}, '{}', true, '\\x00', 1)",
                specs[i].name.replace('_', " ")
            )
        }));
        execute(db, &format!("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES {rows}"));
    });
}

#[test]
fn refinery_folders_and_history_import() {
    let specs = shop();
    let folder = refinery_folder(&specs);
    round_trip("refinery", &folder, &specs, &[], 12, |db, versions| {
        execute(db, "CREATE TABLE refinery_schema_history (version INT4 PRIMARY KEY, name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255))");
        let rows = values(versions.iter().enumerate().map(|(i, v)| {
            format!(
                "({v}, '{}', '2024-01-01T00:00:00+00:00', '{i}')",
                specs[i].name
            )
        }));
        execute(
            db,
            &format!("INSERT INTO refinery_schema_history VALUES {rows}"),
        );
    });
}

#[test]
fn diesel_folders_and_history_import() {
    let specs = shop();
    let folder = diesel_folder(&specs);
    let setup = folder.files[0].1.clone();
    round_trip("diesel", &folder, &specs, &[setup], 20, |db, versions| {
        execute(db, "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
        let rows = values(versions.iter().map(|v| format!("('{v}')")));
        execute(
            db,
            &format!("INSERT INTO __diesel_schema_migrations (version) VALUES {rows}"),
        );
    });
}

#[test]
fn golang_migrate_folders_and_history_import() {
    let specs = shop();
    let folder = golang_migrate_folder(&specs);
    round_trip("golang-migrate", &folder, &specs, &[], 9, |db, versions| {
        execute(db, "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)");
        let last = versions.last().expect("a version");
        execute(
            db,
            &format!("INSERT INTO schema_migrations VALUES ({last}, false)"),
        );
    });
}

#[test]
fn goose_folders_and_history_import() {
    let specs = shop();
    let folder = goose_folder(&specs);
    round_trip("goose", &folder, &specs, &[], 15, |db, versions| {
        execute(db, "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL DEFAULT now(), PRIMARY KEY (id))");
        execute(
            db,
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true)",
        );
        let rows = values(versions.iter().map(|v| format!("({v}, true)")));
        execute(
            db,
            &format!("INSERT INTO goose_db_version (version_id, is_applied) VALUES {rows}"),
        );
        // An older goose recorded a down as a row with is_applied = false, and the up again.
        let last = versions.last().expect("a version");
        execute(db, &format!("INSERT INTO goose_db_version (version_id, is_applied) VALUES ({last}, false), ({last}, true)"));
    });
}

#[test]
fn dbmate_folders_and_history_import() {
    let specs = shop();
    let mut folder = dbmate_folder(&specs);
    folder.files.retain(|(p, _)| !p.starts_with(".."));
    round_trip("dbmate", &folder, &specs, &[], 22, |db, versions| {
        execute(
            db,
            "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)",
        );
        let rows = values(versions.iter().map(|v| format!("('{v}')")));
        execute(
            db,
            &format!("INSERT INTO schema_migrations (version) VALUES {rows}"),
        );
    });
}

#[test]
fn flyway_folders_and_history_import() {
    let specs = shop();
    let folder = flyway_folder(&specs);
    let reference_specs = specs.clone();
    // The repeatable runs after the migrations, in the reference as in trek.
    let fresh = TestDb::new("import_flyway_r");
    let p = project("import_flyway_r", &fresh, "sql", &folder.files);
    let out = p
        .trek(&["import", "--from", "flyway", "--source", "sql", "--json"])
        .run();
    out.assert_code(0);
    let doc = json(&out);
    let skipped: Vec<&str> = doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["afterMigrate.sql"]);
    assert!(p
        .read("migrations/3.1_create_orders.sql")
        .contains("CREATE TABLE orders"));
    assert!(p
        .read("migrations/repeatable/order_summary.sql")
        .contains("order_summary"));
    assert!(p
        .read("migrations/5_index_orders_user.down.sql")
        .starts_with("-- trek:no_transaction\n"));
    drop(p);
    // The repeatable is not among the reference scripts: leave it out of the round trip.
    let mut folder = folder;
    folder.files.retain(|(path, _)| !path.starts_with("R__"));
    round_trip(
        "flyway",
        &folder,
        &reference_specs,
        &[],
        14,
        |db, versions| {
            execute(db, "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL)");
            let rows = values(versions.iter().enumerate().map(|(i, v)| {
                format!(
                    "({}, '{v}', '{}', 'SQL', 'V{}__{}.sql', 12345, 'app', 7, true)",
                    i + 1,
                    specs[i].name.replace('_', " "),
                    flyway_version(i),
                    specs[i].name
                )
            }));
            execute(db, &format!("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES {rows}"));
        },
    );
}

// ---------------------------------------------------------------------------------------------
// What the conversion writes.

#[test]
fn transaction_opt_outs_and_empty_downs_become_trek_directives_and_irreversible_downs() {
    let specs = shop();
    let db = TestDb::new("import_shape");
    let p = project(
        "import_shape",
        &db,
        "db/migrations",
        &goose_folder(&specs).files,
    );
    let out = p
        .trek(&["import", "--from", "goose", "--source", "db/migrations"])
        .run();
    out.assert_code(0)
        .stdout_has("imported 30 migrations from goose")
        .stdout_has("00005_index_orders_user.sql")
        .stdout_has("not imported (1):")
        .stdout_has("00031_backfill_emails.go: a Go migration");
    let up = p.read("migrations/00005_index_orders_user.sql");
    assert!(
        up.starts_with("-- trek:no_transaction\nCREATE INDEX CONCURRENTLY"),
        "{up}"
    );
    assert!(!up.contains("+goose"), "{up}");
    let down = p.read("migrations/00005_index_orders_user.down.sql");
    assert!(
        down.starts_with("-- trek:no_transaction\nDROP INDEX CONCURRENTLY"),
        "{down}"
    );
    // goose's placeholder down (a SELECT) is a statement: kept.
    assert!(p
        .read("migrations/00006_order_status_shipped.down.sql")
        .contains("SELECT 'down SQL query'"));
    // No Down section: no down file.
    assert!(!p
        .list("migrations")
        .iter()
        .any(|f| f == "00016_create_item_1.down.sql"));

    // dbmate's empty down section: trek's irreversible form.
    let d = project(
        "import_shape_dbmate",
        &db,
        "db/migrations",
        &dbmate_folder(&specs).files,
    );
    d.trek(&["import", "--from", "dbmate"]).run().assert_code(0);
    let down = d.read(&format!(
        "migrations/{}_order_status_shipped.down.sql",
        timestamp(5)
    ));
    assert!(down.starts_with("-- Not reversible"), "{down}");
    let out = d.trek(&["verify", "--json"]).run();
    out.assert_code(0);

    // golang-migrate: a file with its own BEGIN/COMMIT, or a concurrent index, runs outside
    // trek's transaction.
    let g = project(
        "import_shape_gm",
        &db,
        "migrations-gm",
        &golang_migrate_folder(&specs).files,
    );
    g.trek(&[
        "import",
        "--from",
        "golang-migrate",
        "--source",
        "migrations-gm",
    ])
    .run()
    .assert_code(0)
    .stdout_has("no_transaction: it holds BEGIN");
    assert!(g
        .read("migrations/000008_settings.sql")
        .starts_with("-- trek:no_transaction\nBEGIN;"));
    assert!(g
        .read("migrations/000005_index_orders_user.sql")
        .starts_with("-- trek:no_transaction\n"));
    assert!(!g
        .read("migrations/000003_order_status.sql")
        .contains("trek:"));
}

#[test]
fn dry_run_writes_nothing_and_records_nothing() {
    let specs = shop();
    let db = TestDb::new("import_dry");
    let folder = dbmate_folder(&specs);
    let p = project("import_dry", &db, "db/migrations", &folder.files);
    execute(
        &db,
        "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)",
    );
    execute(
        &db,
        &format!(
            "INSERT INTO schema_migrations VALUES ('{}'), ('{}')",
            folder.recorded[0], folder.recorded[1]
        ),
    );
    let out = p
        .trek(&[
            "import",
            "--from",
            "dbmate",
            "--history",
            "--source",
            "db/migrations",
            "--dry-run",
        ])
        .run();
    out.assert_code(0)
        .stdout_has("would import 30 migrations")
        .stdout_has("would record 2 migrations");
    // The migrations it would record are named, though their files are not written yet.
    let out = p
        .trek(&[
            "import",
            "--from",
            "dbmate",
            "--history",
            "--source",
            "db/migrations",
            "--dry-run",
            "--json",
        ])
        .run();
    out.assert_code(0);
    assert!(!out.stdout.contains("\"name\": \"\""), "{}", out.stdout);
    assert!(
        p.list("migrations").is_empty(),
        "{:?}",
        p.list("migrations")
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'trek'"
        ),
        0
    );

    // The same without --dry-run: the folder and the history in one command.
    let first: Vec<String> = specs[..2].iter().map(|s| s.up.clone()).collect();
    apply_with_psql(&db, &first);
    p.trek(&[
        "import",
        "--from",
        "dbmate",
        "--history",
        "--source",
        "db/migrations",
    ])
    .run()
    .assert_code(0)
    .stdout_has("imported 30 migrations")
    .stdout_has("recorded 2 migrations");
    // Every dbmate file has a down section: 30 ups, 30 downs (the empty ones irreversible).
    assert_eq!(p.list("migrations").len(), 60);
    let out = p.trek(&["up", "--json"]).run();
    out.assert_code(0);
    assert_eq!(json(&out)["applied"].as_array().map(Vec::len), Some(28));
}

// ---------------------------------------------------------------------------------------------
// Refusals.

#[test]
fn histories_trek_cannot_follow_are_refused_by_name() {
    let specs: Vec<Spec> = shop().into_iter().take(4).collect();
    let db = TestDb::new("import_refuse");

    // A dirty golang-migrate version.
    let g = project(
        "import_refuse_gm",
        &db,
        "old",
        &golang_migrate_folder(&specs).files,
    );
    g.trek(&["import", "--from", "golang-migrate", "--source", "old"])
        .run()
        .assert_code(0);
    execute(&db, "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (3, true)");
    g.trek(&["import", "--from", "golang-migrate", "--history"])
        .run()
        .assert_code(1)
        .stderr_has("schema_migrations says version 3 is dirty")
        .stderr_has("migrate force");
    // A version the folder lacks.
    execute(
        &db,
        "UPDATE schema_migrations SET version = 7, dirty = false",
    );
    g.trek(&["import", "--from", "golang-migrate", "--history"])
        .run()
        .assert_code(1)
        .stderr_has("applied version 7, which the migrations folder does not have");
    execute(&db, "DROP TABLE schema_migrations");

    // A failed sqlx migration.
    let s = project("import_refuse_sqlx", &db, "old", &sqlx_folder(&specs).files);
    s.trek(&["import", "--from", "sqlx", "--source", "old"])
        .run()
        .assert_code(0);
    execute(&db, "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)");
    execute(&db, &format!("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ({}, 'create users', true, '\\x00', 1), ({}, 'set updated at', false, '\\x00', 1)", timestamp(0), timestamp(1)));
    let out = s
        .trek(&["import", "--from", "sqlx", "--history", "--json"])
        .run();
    out.assert_code(1);
    let error = json(&out);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "version {} (set updated at) as failed",
                timestamp(1)
            )),
        "{}",
        out.stdout
    );

    // A failed Flyway row.
    let f = project(
        "import_refuse_flyway",
        &db,
        "sql",
        &flyway_folder(&specs).files,
    );
    f.trek(&["import", "--from", "flyway", "--source", "sql"])
        .run()
        .assert_code(0);
    execute(&db, "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL)");
    execute(&db, "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES (1, '1', 'create users', 'SQL', 'V1__create_users.sql', 1, 'app', 1, true), (2, '2', 'set updated at', 'SQL', 'V2__set_updated_at.sql', 1, 'app', 1, false)");
    f.trek(&["import", "--from", "flyway", "--history"])
        .run()
        .assert_code(1)
        .stderr_has("V2__set_updated_at.sql (installed_rank 2) as failed")
        .stderr_has("flyway repair");
    // No history table at all.
    f.trek(&["import", "--from", "goose", "--history"])
        .run()
        .assert_code(1)
        .stderr_has("the database has no table goose_db_version");
    // Nothing was recorded by any of them.
    assert_eq!(count(&db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'trek' AND EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'trek' AND tablename = 'applied')"), 0);
}

#[test]
fn folders_trek_cannot_follow_are_refused_naming_the_files() {
    let db = TestDb::new("import_bad_folder");
    // Flyway's `1.1` and `1_1` are one version.
    let p = project(
        "import_collide",
        &db,
        "sql",
        &[
            (
                "V1__a.sql".to_owned(),
                "CREATE TABLE a (id int);\n".to_owned(),
            ),
            (
                "V1.1__b.sql".to_owned(),
                "CREATE TABLE b (id int);\n".to_owned(),
            ),
            (
                "nested/V1_1__c.sql".to_owned(),
                "CREATE TABLE c (id int);\n".to_owned(),
            ),
        ],
    );
    p.trek(&["import", "--from", "flyway", "--source", "sql"])
        .run()
        .assert_code(2)
        .stderr_has("sql/nested/V1_1__c.sql: collides with V1.1__b.sql");
    assert!(p.list("migrations").is_empty());

    // refinery's V2 and U2; goose without an Up annotation.
    let r = project(
        "import_collide_refinery",
        &db,
        "migrations-refinery",
        &[
            ("V2__a.sql".to_owned(), "SELECT 1;\n".to_owned()),
            ("U2__b.sql".to_owned(), "SELECT 1;\n".to_owned()),
        ],
    );
    r.trek(&[
        "import",
        "--from",
        "refinery",
        "--source",
        "migrations-refinery",
    ])
    .run()
    .assert_code(2)
    .stderr_has("V2__a.sql: collides with U2__b.sql")
    .stderr_has("renumber one of them");
    let g = project(
        "import_goose_no_up",
        &db,
        "old",
        &[(
            "001_a.sql".to_owned(),
            "CREATE TABLE a (id int);\n".to_owned(),
        )],
    );
    g.trek(&["import", "--from", "goose", "--source", "old"])
        .run()
        .assert_code(2)
        .stderr_has("old/001_a.sql: no `-- +goose Up` annotation");

    // The source folder is trek's own; a converted file would overwrite another.
    let s = project(
        "import_same_folder",
        &db,
        "migrations",
        &[("1_a.up.sql".to_owned(), "SELECT 1;\n".to_owned())],
    );
    s.trek(&["import", "--from", "sqlx"])
        .run()
        .assert_code(2)
        .stderr_has("is trek's migrations folder too: move the sqlx folder aside");
    s.file("old/1_a.up.sql", "SELECT 2;\n");
    s.trek(&["import", "--from", "sqlx", "--source", "old"])
        .run()
        .assert_code(2)
        .stderr_has("has version 1, which 1_a.up.sql takes");
}
