//! Load and faults with real processes: many instances at once, `kill -9` at chosen points, a
//! server restart, a connection dropped while waiting. Nothing is ever lost or half-applied,
//! and the next run completes.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use trek::postgres::{Client, NoTls};
use trek_tests::TestDb;

use crate::support::{applied_versions, table_exists, Folder};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/app/migrations");

fn app(url: &str, migrations: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trek-test-app"));
    command
        .env("DATABASE_URL", url)
        .env("TREK_MIGRATIONS", migrations)
        .env("TREK_LOCK_TIMEOUT_MS", "60000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// Waits until `check` holds, for at most `limit`.
fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until a session of the database sleeps in `pg_sleep`: the point to kill at.
fn wait_for_sleep(watcher: &mut Client, app: &mut Child) {
    wait_for(
        "the migration to reach pg_sleep",
        Duration::from_secs(60),
        || {
            assert!(app.try_wait().unwrap().is_none(), "the app ended early");
            count(
                watcher,
                "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event = 'PgSleep'",
            ) > 0
        },
    );
}

/// Waits until no other session is connected to the watcher's database.
/// Waits for the killed run's session to end. PostgreSQL 14 and later notice the dead client
/// within a second (trek sets `client_connection_check_interval`); 13 has no such setting and
/// keeps the session, its transaction and trek's lock until the running statement ends, so on
/// 13 the test ends it as an operator would (`pg_terminate_backend`), as the README says.
fn wait_for_no_other_sessions(watcher: &mut Client) {
    if count(
        watcher,
        "SELECT current_setting('server_version_num')::int8",
    ) < 140_000
    {
        watcher
            .batch_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .unwrap();
    }
    wait_for("the killed session to end", Duration::from_secs(20), || {
        count(
            watcher,
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ) == 0
    });
}

fn advisory_locks(client: &mut Client) -> i64 {
    count(
        client,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
}

/// Starts `n` app processes at once and waits for all of them.
fn crowd(n: usize, url: &str, migrations: &std::path::Path) -> Vec<Output> {
    let children: Vec<Child> = (0..n)
        .map(|_| app(url, migrations).spawn().expect("start the app"))
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

fn assert_crowd_succeeded(outputs: &[Output], expected_applies: usize) {
    let mut applied = 0;
    for out in outputs {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "an instance failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        applied += stdout.lines().filter(|l| l.starts_with("applied ")).count();
        let waited: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("lock_wait_ms "))
            .and_then(|n| n.parse().ok())
            .expect("the app reports its lock wait");
        assert!(
            waited < 60_000,
            "waited {waited} ms, beyond the lock timeout"
        );
    }
    assert_eq!(
        applied, expected_applies,
        "each migration applied once in total"
    );
}

fn assert_each_once(client: &mut Client, versions: &[&str]) {
    let per_version: Vec<(String, i64)> = client
        .query(
            "SELECT version, count(*) FROM trek.applied GROUP BY version ORDER BY version",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected: Vec<(String, i64)> = versions.iter().map(|v| ((*v).to_owned(), 1)).collect();
    assert_eq!(per_version, expected);
    let audited = count(
        client,
        "SELECT count(*) FROM trek.audit WHERE action = 'apply' AND outcome = 'success'",
    );
    assert_eq!(audited, versions.len() as i64, "one audited apply each");
}

#[test]
fn sixteen_processes_on_a_fresh_database_apply_each_migration_once() {
    // The fixture set has a no_transaction migration with two CREATE INDEX CONCURRENTLY: the
    // waiters poll for the lock without holding a snapshot, so the index builds never wait
    // for them.
    let db = TestDb::new("sixteen_fresh");
    let outputs = crowd(16, &db.url, FIXTURE.as_ref());
    assert_crowd_succeeded(&outputs, 5);
    let mut client = db.client();
    assert_each_once(&mut client, &["0001", "0002", "0003", "0004", "0005"]);
    assert_eq!(count(&mut client, "SELECT count(*) FROM customers"), 2);
    let valid_indexes = count(
        &mut client,
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname IN ('orders_by_customer', 'orders_by_total') AND i.indisvalid",
    );
    assert_eq!(
        valid_indexes, 2,
        "both concurrent indexes were built and are valid"
    );
}

#[test]
fn eight_async_applications_of_each_tokio_flavour_apply_each_migration_once() {
    // `#[tokio::main]` binaries (multi-thread, current-thread) that migrate with
    // `Migrator::run_async`: the blocking driver never runs on the runtime's threads.
    for (flavour, binary) in [
        ("multi_thread", env!("CARGO_BIN_EXE_trek-async-app-mt")),
        ("current_thread", env!("CARGO_BIN_EXE_trek-async-app-ct")),
    ] {
        let db = TestDb::new(&format!("async_{flavour}"));
        let children: Vec<Child> = (0..8)
            .map(|_| {
                Command::new(binary)
                    .env("DATABASE_URL", &db.url)
                    .env("TREK_MIGRATIONS", FIXTURE)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("start the async app")
            })
            .collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        assert_crowd_succeeded(&outputs, 5);
        let mut client = db.client();
        assert_each_once(&mut client, &["0001", "0002", "0003", "0004", "0005"]);
        assert_eq!(
            count(&mut client, "SELECT count(*) FROM customers"),
            2,
            "{flavour}"
        );
    }
}

#[test]
fn sixteen_processes_with_pending_migrations_apply_only_those_once() {
    let first_two = Folder::new("sixteen-first");
    for name in [
        "0001_create_customers.sql",
        "0001_create_customers.down.sql",
        "0002_create_orders.sql",
    ] {
        std::fs::copy(PathBuf::from(FIXTURE).join(name), first_two.dir.join(name)).unwrap();
    }
    let db = TestDb::new("sixteen_pending");
    let out = app(&db.url, &first_two.dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs = crowd(16, &db.url, FIXTURE.as_ref());
    assert_crowd_succeeded(&outputs, 3);
    assert_each_once(&mut db.client(), &["0001", "0002", "0003", "0004", "0005"]);
}

#[test]
fn killed_in_a_transactional_migration_leaves_nothing_of_it_and_frees_the_lock() {
    let folder = Folder::new("kill-tx")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file(
            "2_b.sql",
            "CREATE TABLE b (id int);\nSELECT pg_sleep(60);\n",
        );
    let db = TestDb::new("kill_tx");
    let mut watcher = db.client();
    let mut child = app(&db.url, &folder.dir).spawn().unwrap();
    wait_for_sleep(&mut watcher, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    // The server notices the dead client within a second (client_connection_check_interval).
    wait_for_no_other_sessions(&mut watcher);
    assert!(
        !table_exists(&mut watcher, "b"),
        "nothing of the killed migration"
    );
    assert_eq!(applied_versions(&mut watcher), ["1"]);
    assert_eq!(advisory_locks(&mut watcher), 0, "the lock is free");

    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int);\n");
    let out = app(&db.url, &folder.dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(applied_versions(&mut watcher), ["1", "2"]);
}

/// Runs the app with `workflow` on a fresh database and kills it in the middle of a
/// `no_transaction` migration; returns the database and the folder.
fn killed_in_no_transaction(label: &str, workflow: &str) -> (TestDb, Folder) {
    let folder = Folder::new(label)
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file(
            "2_b.sql",
            "-- trek:no_transaction\nCREATE TABLE b (id int);\nSELECT pg_sleep(60);\nCREATE TABLE c (id int);\n",
        );
    let db = TestDb::new(label);
    let mut watcher = db.client();
    let mut child = app(&db.url, &folder.dir)
        .env("TREK_WORKFLOW", workflow)
        .spawn()
        .unwrap();
    wait_for_sleep(&mut watcher, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    wait_for_no_other_sessions(&mut watcher);
    assert!(
        table_exists(&mut watcher, "b"),
        "the first statement stays: it ran outside a transaction"
    );
    let failed = count(
        &mut watcher,
        "SELECT count(*) FROM trek.applied WHERE version = '2' AND failed",
    );
    assert_eq!(failed, 1, "the interrupted migration is recorded as failed");
    (db, folder)
}

#[test]
fn killed_in_a_no_transaction_migration_is_detected_and_prod_refuses_to_go_on() {
    let (db, folder) = killed_in_no_transaction("kill_notx_prod", "prod");
    let out = app(&db.url, &folder.dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 b (2_b.sql) failed or was interrupted halfway")
            && stderr.contains("cargo trek repair"),
        "{stderr}"
    );
    assert!(!table_exists(&mut db.client(), "c"), "prod changed nothing");
}

#[test]
fn killed_in_a_no_transaction_migration_dev_recovers_by_resetting() {
    let (db, folder) = killed_in_no_transaction("kill_notx_dev", "dev");
    let folder = folder.file(
        "2_b.sql",
        "-- trek:no_transaction\nCREATE TABLE b (id int);\nCREATE TABLE c (id int);\n",
    );
    let out = app(&db.url, &folder.dir)
        .env("TREK_WORKFLOW", "dev")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reset the database"));
    let mut client = db.client();
    assert!(table_exists(&mut client, "c"));
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM trek.applied WHERE failed"
        ),
        0
    );
}

#[test]
fn a_connection_dropped_while_waiting_for_the_lock_is_a_clear_error_and_changes_nothing() {
    let folder = Folder::new("drop-wait").file("1_a.sql", "CREATE TABLE a (id int);\n");
    let db = TestDb::new("drop_wait");
    let mut holder = db.client();
    holder
        .execute(
            "SELECT pg_advisory_lock($1)",
            &[&trek::default_lock_key("trek")],
        )
        .unwrap();
    let mut watcher = db.client();
    let mut child = app(&db.url, &folder.dir).spawn().unwrap();
    let holder_pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let waiter = || -> Option<i32> {
        let mut c = Client::connect(&db.url, NoTls).ok()?;
        c.query_opt(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND pid NOT IN (pg_backend_pid(), $1) AND query LIKE '%pg_try_advisory_lock%'",
            &[&holder_pid],
        )
        .ok()
        .flatten()
        .map(|r| r.get(0))
    };
    let mut pid = None;
    wait_for(
        "the app to wait for the lock",
        Duration::from_secs(30),
        || {
            assert!(child.try_wait().unwrap().is_none(), "the app ended early");
            pid = waiter();
            pid.is_some()
        },
    );
    watcher
        .execute("SELECT pg_terminate_backend($1)", &[&pid.unwrap()])
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not take trek's advisory lock"),
        "{stderr}"
    );
    assert!(!table_exists(&mut watcher, "a"));

    holder
        .batch_execute("SELECT pg_advisory_unlock_all()")
        .unwrap();
    let out = app(&db.url, &folder.dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(table_exists(&mut watcher, "a"));
}

#[test]
fn a_server_restart_mid_run_is_a_clear_error_and_the_next_run_completes() {
    // A server of its own, so restarting it disturbs no other test.
    let home = Folder::new("restart-server");
    let server = trek_local_server::LocalServer::for_target_dir(&home.dir);
    let info = server.start().unwrap();
    let url = info.url("postgres");
    let folder = Folder::new("restart")
        .file("1_a.sql", "CREATE TABLE a (id int);\n")
        .file(
            "2_b.sql",
            "CREATE TABLE b (id int);\nSELECT pg_sleep(60);\n",
        );
    let mut child = app(&url, &folder.dir).spawn().unwrap();
    {
        let mut watcher = Client::connect(&url, NoTls).unwrap();
        wait_for_sleep(&mut watcher, &mut child);
    }
    server.stop().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The two were sent in one message (each in its own transaction): with the server gone,
    // trek names both and says where to look.
    assert!(
        stderr.contains("applying 1 a, 2 b failed") && stderr.contains("cargo trek status"),
        "a clear error naming the migrations: {stderr}"
    );

    let info = server.start().unwrap();
    let url = info.url("postgres");
    let mut client = Client::connect(&url, NoTls).unwrap();
    assert_eq!(
        applied_versions(&mut client),
        ["1"],
        "the history is consistent"
    );
    assert!(!table_exists(&mut client, "b"));
    let folder = folder.file("2_b.sql", "CREATE TABLE b (id int);\n");
    let out = app(&url, &folder.dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(applied_versions(&mut client), ["1", "2"]);
    drop(client);
    server.destroy().unwrap();
}
