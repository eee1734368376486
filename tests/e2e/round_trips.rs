//! How many round trips a run costs, counted on the wire by a small proxy between trek and
//! PostgreSQL: every round trip ends with a `Query` ('Q') or `Sync` ('S') message from the
//! client, so counting those counts round trips.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use trek::postgres::{Client, NoTls};
use trek::{Migrations, Migrator};
use trek_tests::TestDb;

static FIXTURE_APP: Migrations = trek::embed!("fixtures/app/migrations");

/// A one-connection proxy that counts the client's round trips.
struct CountingProxy {
    port: u16,
    round_trips: Arc<AtomicUsize>,
}

impl CountingProxy {
    fn start(upstream: String) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let round_trips = Arc::new(AtomicUsize::new(0));
        let counter = round_trips.clone();
        thread::spawn(move || {
            let (client, _) = listener.accept().unwrap();
            let server = TcpStream::connect(upstream).unwrap();
            let (mut client_r, mut server_w) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut server_r, mut client_w) = (server, client);
            thread::spawn(move || {
                let _ = std::io::copy(&mut server_r, &mut client_w);
                let _ = client_w.shutdown(Shutdown::Both);
            });
            let mut buf = Vec::new();
            let mut chunk = [0u8; 16384];
            let mut started = false;
            while let Ok(n) = client_r.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                loop {
                    if !started {
                        if buf.len() < 8 {
                            break;
                        }
                        let len = u32::from_be_bytes(buf[0..4].try_into().unwrap()) as usize;
                        let code = u32::from_be_bytes(buf[4..8].try_into().unwrap());
                        if buf.len() < len {
                            break;
                        }
                        if code == 196_608 {
                            started = true;
                        }
                        buf.drain(..len);
                    } else {
                        if buf.len() < 5 {
                            break;
                        }
                        let len = u32::from_be_bytes(buf[1..5].try_into().unwrap()) as usize;
                        if buf.len() < len + 1 {
                            break;
                        }
                        if buf[0] == b'Q' || buf[0] == b'S' {
                            counter.fetch_add(1, Ordering::SeqCst);
                        }
                        buf.drain(..=len);
                    }
                }
                if server_w.write_all(&chunk[..n]).is_err() {
                    break;
                }
            }
            let _ = server_w.shutdown(Shutdown::Both);
        });
        CountingProxy { port, round_trips }
    }

    fn count(&self) -> usize {
        self.round_trips.load(Ordering::SeqCst)
    }
}

/// `host:port` and the URL through the proxy, for a database URL of the form
/// `postgres://user@host:port/db`.
fn through_proxy(url: &str) -> (String, impl Fn(u16) -> String + '_) {
    let rest = url.split_once("://").unwrap().1;
    let (userinfo, hostpart) = rest.split_once('@').unwrap();
    let (hostport, db) = hostpart.split_once('/').unwrap();
    (hostport.to_owned(), move |port| {
        format!("postgres://{userinfo}@127.0.0.1:{port}/{db}")
    })
}

#[test]
fn a_no_op_run_costs_three_round_trips_and_consecutive_migrations_share_one() {
    let db = TestDb::new("round_trips");
    let (upstream, proxied) = through_proxy(&db.url);
    if upstream.starts_with('/') || upstream.starts_with('%') {
        return; // a unix-socket TREK_TEST_DATABASE_URL: nothing to proxy
    }
    let proxy = CountingProxy::start(upstream);
    let mut client = Client::connect(&proxied(proxy.port), NoTls).unwrap();

    // The first run creates trek's tables (two extra round trips: create, re-read), reads what
    // the caller's session holds (one: a run with steps only), and applies four transactional
    // migrations in two messages (0001 to 0003 together, then 0005 alone after the
    // no_transaction 0004) and one no_transaction migration with two statements and a timeout
    // (provisional failed row, set, two statements, reset, record: six).
    let before = proxy.count();
    let report = Migrator::new(&FIXTURE_APP).run(&mut client).unwrap();
    assert_eq!(report.applied.len(), 5);
    let first_run = proxy.count() - before;
    assert_eq!(
        first_run,
        1 + 1 + 2 + 1 + 2 + 6 + 1,
        "lock, read, create+reread, session, 2 messages for 4 migrations, 6, unlock"
    );

    let before = proxy.count();
    let report = Migrator::new(&FIXTURE_APP).run(&mut client).unwrap();
    assert!(report.is_noop());
    assert_eq!(
        proxy.count() - before,
        3,
        "lock, one read of the history, unlock"
    );
}

#[test]
fn migrations_sent_together_each_record_their_own_time() {
    // Four transactional migrations go in one message; each sleeps 100 ms. PostgreSQL starts
    // every transaction of a message at the message's arrival, so a time taken from `now()`
    // would add up: 100, 200, 300, 400.
    let mut folder = crate::support::Folder::new("batch_times");
    for i in 1..=4 {
        folder = folder.file(
            &format!("{i}_s{i}.sql"),
            &format!("CREATE TABLE s{i} (id int);\nSELECT pg_sleep(0.1);\n"),
        );
    }
    let db = TestDb::new("batch_times");
    let mut client = db.client();
    let report = Migrator::new(&folder.read()).run(&mut client).unwrap();
    let recorded: Vec<i64> = client
        .query("SELECT duration_ms FROM trek.applied ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(recorded.len(), 4);
    for ms in &recorded {
        assert!((95..350).contains(ms), "each about 100 ms: {recorded:?}");
    }
    for step in &report.applied {
        let ms = step.duration.as_millis();
        assert!((95..350).contains(&ms), "reported: {:?}", report.applied);
    }
}
