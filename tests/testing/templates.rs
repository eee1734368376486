//! Templates: one per migration set, built once across threads and processes, replaced when a
//! migration is edited, rebuilt when gone, never used half-built.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread;

use trek::postgres::Client;
use trek::Migrations;
use trek_testing::TestDb;

/// A migrations folder in the temporary directory, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(label: &str) -> Folder {
        let dir = std::env::temp_dir().join(format!(
            "trek-testing-{label}-{}-{}",
            std::process::id(),
            unique()
        ));
        fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }

    fn file(&self, name: &str, sql: &str) -> &Folder {
        fs::write(self.0.join(name), sql).unwrap();
        self
    }

    fn read(&self) -> Migrations {
        trek_core::source::read_dir(&self.0).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Nanoseconds since the epoch: makes a script unique to this run.
fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Whether a database of that name exists on the server of `client`.
fn database_exists(client: &mut Client, name: &str) -> bool {
    client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .unwrap()
        .is_some()
}

/// The migration that records who built the template: every copy of one template holds the
/// same row.
const RECORD_BUILDER: &str =
    "CREATE TABLE built AS SELECT pg_backend_pid() AS pid, clock_timestamp()::text AS at;\n";

fn builder_of(db: &TestDb<'_>) -> (i32, String) {
    let row = db
        .connect()
        .unwrap()
        .query_one("SELECT pid, at FROM built", &[])
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn an_edited_migration_gets_a_new_template_and_the_old_one_is_dropped() {
    let folder = Folder::new("edited");
    folder
        .file("0001_create_plans.sql", "CREATE TABLE plans (id int);\n")
        .file(
            "0002_add_price.sql",
            "ALTER TABLE plans ADD COLUMN price int;\n",
        );
    let before = folder.read();
    let first = TestDb::builder(&before)
        .label("trek-tests edited migration")
        .build()
        .unwrap();
    let old_template = first.template().to_owned();
    drop(first);

    folder.file(
        "0002_add_price.sql",
        "ALTER TABLE plans ADD COLUMN price numeric(10, 2);\n",
    );
    let after = folder.read();
    let second = TestDb::builder(&after)
        .label("trek-tests edited migration")
        .build()
        .unwrap();
    assert_ne!(second.template(), old_template, "a new template");
    let mut client = second.connect().unwrap();
    let price_type: String = client
        .query_one(
            "SELECT data_type FROM information_schema.columns \
             WHERE table_name = 'plans' AND column_name = 'price'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        price_type, "numeric",
        "the edited migration, not the stale one"
    );
    assert!(
        !database_exists(&mut client, &old_template),
        "the old template was dropped"
    );
    assert!(database_exists(&mut client, second.template()));
}

#[test]
fn threads_using_a_new_set_at_once_build_its_template_once() {
    let folder = Folder::new("threads");
    folder.file("0001_record_builder.sql", RECORD_BUILDER).file(
        "0002_unique.sql",
        &format!("SELECT {}; -- unique to this run\n", unique()),
    );
    let set = folder.read();
    let barrier = Arc::new(Barrier::new(8));
    let builders: Vec<((i32, String), String)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let set = &set;
                scope.spawn(move || {
                    barrier.wait();
                    let db = TestDb::builder(set)
                        .label("trek-tests threads at once")
                        .build()
                        .unwrap();
                    (builder_of(&db), db.template().to_owned())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        builders.iter().all(|b| b == &builders[0]),
        "one builder, one template: {builders:?}"
    );
}

/// Run by `test_binaries_starting_at_once_build_a_template_once` in child processes; does
/// nothing on its own.
#[test]
#[ignore = "a child process of test_binaries_starting_at_once_build_a_template_once"]
#[allow(clippy::print_stdout)]
fn child_process_uses_the_template() {
    let Some(dir) = std::env::var_os("TREK_TESTING_CHILD_FOLDER") else {
        return;
    };
    let set = trek_core::source::read_dir(dir.as_ref()).unwrap();
    let db = TestDb::builder(&set)
        .label("trek-tests processes at once")
        .build()
        .unwrap();
    let (pid, at) = builder_of(&db);
    // On a line of its own: libtest has printed `test … ... ` before it.
    println!("\nbuilder {pid} {at} template {}", db.template());
}

#[test]
fn test_binaries_starting_at_once_build_a_template_once() {
    let folder = Folder::new("processes");
    folder.file("0001_record_builder.sql", RECORD_BUILDER).file(
        "0002_unique.sql",
        &format!("SELECT {}; -- unique to this run\n", unique()),
    );
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "templates::child_process_uses_the_template",
                    "--include-ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("TREK_TESTING_CHILD_FOLDER", &folder.0)
                .output_async()
        })
        .collect();
    let lines: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "a child failed: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            stdout
                .lines()
                .find(|l| l.starts_with("builder "))
                .unwrap_or_else(|| panic!("no builder line in {stdout}"))
                .to_owned()
        })
        .collect();
    assert!(
        lines.iter().all(|l| l == &lines[0]),
        "one builder across processes: {lines:?}"
    );
}

/// `Command::spawn` with captured output, named for what it is used for here.
trait OutputAsync {
    fn output_async(&mut self) -> std::process::Child;
}

impl OutputAsync for Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[test]
fn a_template_dropped_meanwhile_is_rebuilt_over_a_killed_builders_leftover() {
    let folder = Folder::new("rebuilt");
    folder.file("0001_create_notes.sql", "CREATE TABLE notes (body text);\n");
    let set = folder.read();
    let label = "trek-tests rebuilt template";
    let first = TestDb::builder(&set).label(label).build().unwrap();
    let template = first.template().to_owned();
    let building = template.replacen("trek_template_", "trek_building_", 1);
    let mut client = first.connect().unwrap();
    // Another process replaced the template, and a builder was killed halfway.
    client
        .batch_execute(&format!(
            "ALTER DATABASE \"{template}\" WITH IS_TEMPLATE false"
        ))
        .unwrap();
    client
        .batch_execute(&format!("DROP DATABASE \"{template}\""))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE \"{building}\""))
        .unwrap();
    let url = first.url().replace(first.name(), &building);
    Client::connect(&url, trek::postgres::NoTls)
        .unwrap()
        .batch_execute("CREATE TABLE half_built ()")
        .unwrap();

    // Another strategy, so no copy made ahead from the old template is handed out: this
    // one has to find the template gone and build it again.
    let second = TestDb::builder(&set)
        .label(label)
        .strategy(trek_testing::CloneStrategy::WalLog)
        .build()
        .unwrap();
    assert_eq!(second.template(), template);
    let mut copy = second.connect().unwrap();
    let tables: Vec<String> = copy
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tables,
        ["notes"],
        "migrated afresh, nothing of the leftover"
    );
    assert!(!database_exists(&mut client, &building));
}

#[test]
fn dropping_a_test_db_drops_its_database_and_keep_keeps_it() {
    let db = TestDb::new(&crate::SHOP).unwrap();
    let name = db.name().to_owned();
    let other = TestDb::new(&crate::SHOP).unwrap();
    let mut client = other.connect().unwrap();
    let _open = db.connect().unwrap(); // a connection left open does not stop the drop
    assert!(database_exists(&mut client, &name));
    drop(db);
    assert!(!database_exists(&mut client, &name));

    let kept = TestDb::new(&crate::SHOP).unwrap();
    let kept_name = kept.name().to_owned();
    let url = kept.keep();
    assert!(url.ends_with(&kept_name));
    assert!(database_exists(&mut client, &kept_name));
    client
        .batch_execute(&format!("DROP DATABASE \"{kept_name}\""))
        .unwrap();
}
