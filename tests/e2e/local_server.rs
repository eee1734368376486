//! trek's local server: made, started, reused, shared between threads, stopped, destroyed.

use std::path::Path;
use std::sync::Barrier;

use trek::postgres::{Client, NoTls};
use trek_local_server::LocalServer;
use trek_tests::TestDb;

/// A local server of its own (not the one the other tests share), under cargo's scratch
/// directory for this test binary.
fn private_server(name: &str) -> LocalServer {
    let server = LocalServer::for_target_dir(&Path::new(env!("CARGO_TARGET_TMPDIR")).join(name));
    server.destroy().expect("remove what an earlier run left");
    server
}

fn query_i64(url: &str, sql: &str) -> i64 {
    let mut client = Client::connect(url, NoTls).expect("connect");
    client.query_one(sql, &[]).expect("query").get(0)
}

#[test]
fn the_local_server_is_made_started_reused_stopped_restarted_and_destroyed() {
    let server = private_server("local-server-lifecycle");
    assert_eq!(server.status().unwrap(), None, "no cluster yet");

    let first = server.start().expect("cold start");
    assert!(first.started, "the first start starts it");
    assert!(
        first.data_dir.join("PG_VERSION").is_file(),
        "initdb made the cluster"
    );
    assert!((20_000..60_000).contains(&first.port));

    let again = server.start().expect("warm start");
    assert!(!again.started, "a running server is reused");
    assert_eq!(again.port, first.port);
    assert_eq!(server.status().unwrap().map(|s| s.port), Some(first.port));

    // A database can be made and used, through the URL trek gives.
    let mut admin = Client::connect(&first.url("postgres"), NoTls).unwrap();
    admin
        .batch_execute("CREATE DATABASE lifecycle_app")
        .unwrap();
    let mut app = Client::connect(&first.url("lifecycle_app"), NoTls).unwrap();
    app.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL);
         INSERT INTO t VALUES (1, 'héllo'), (2, 'world');",
    )
    .unwrap();
    let rows: Vec<(i32, String)> = app
        .query("SELECT id, upper(name) FROM t ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, [(1, "HÉLLO".to_owned()), (2, "WORLD".to_owned())]);
    let max_connections = query_i64(
        &first.url("lifecycle_app"),
        "SELECT current_setting('max_connections')::bigint",
    );
    assert_eq!(max_connections, 200);
    drop(app);
    drop(admin);

    server.stop().expect("stop");
    assert_eq!(server.status().unwrap(), None, "stopped");
    server
        .stop()
        .expect("stopping a stopped server does nothing");

    let restarted = server.start().expect("restart");
    assert!(restarted.started);
    assert_eq!(
        restarted.port, first.port,
        "the port is kept across restarts"
    );
    let kept = query_i64(&restarted.url("lifecycle_app"), "SELECT count(*) FROM t");
    assert_eq!(kept, 2, "the data survives a restart");

    server.destroy().expect("destroy");
    assert_eq!(server.status().unwrap(), None);
    assert!(!restarted.data_dir.exists(), "the cluster is gone");
}

#[test]
fn four_threads_starting_a_cold_server_at_once_share_one_server() {
    let server = private_server("local-server-race");
    let barrier = Barrier::new(4);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    server.start()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let infos: Vec<_> = results
        .into_iter()
        .map(|r| r.expect("every thread's start succeeds"))
        .collect();
    assert_eq!(
        infos.iter().filter(|i| i.started).count(),
        1,
        "exactly one thread started it, the others reused it"
    );
    assert!(infos.iter().all(|i| i.port == infos[0].port));
    assert_eq!(
        query_i64(&infos[0].url("postgres"), "SELECT (40 + 2)::bigint"),
        42
    );
    server.destroy().expect("destroy");
}

#[test]
fn the_shared_test_server_gives_each_test_its_own_database() {
    let a = TestDb::new("local_server_a");
    let b = TestDb::new("local_server_b");
    assert_ne!(a.name, b.name);
    a.client()
        .batch_execute("CREATE TABLE only_in_a (x int); INSERT INTO only_in_a VALUES (7);")
        .unwrap();
    let current: String = a
        .client()
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    assert_eq!(current, a.name);
    assert_eq!(query_i64(&a.url, "SELECT sum(x) FROM only_in_a"), 7);
    let in_b = query_i64(
        &b.url,
        "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'",
    );
    assert_eq!(in_b, 0, "databases are separate");

    let name = a.name.clone();
    let _open = a.client();
    drop(a);
    let left = query_i64(
        &b.url,
        &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
    );
    assert_eq!(
        left, 0,
        "a dropped TestDb drops its database, open connections or not"
    );
}
