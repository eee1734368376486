//! trek behind a real PgBouncer in transaction mode, started by the test on a private port when
//! the `pgbouncer` binary is installed (`apt-get install pgbouncer`); skipped with a message
//! when it is not.
//!
//! The pool has two server connections handed out in turn (`server_round_robin = 1`), so
//! consecutive transactions of one client land in different server sessions, as they do on a
//! busy pooler: trek's session advisory lock is taken in one, the first unlock lands in the
//! other, and trek tries again until it reaches the first.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use trek::postgres::{Client, Config, NoTls};
use trek::{Error, Migrator, Warning};
use trek_tests::TestDb;

use crate::support::{table_exists, Folder};

/// A PgBouncer process in transaction mode in front of the test server, stopped on drop.
struct PgBouncer {
    child: Child,
    dir: PathBuf,
    port: u16,
    user: String,
}

impl PgBouncer {
    /// Starts one in front of the server of `url`; `None` (with a message) when the binary is
    /// not installed.
    fn start(url: &str) -> Option<PgBouncer> {
        let binary = [
            "/usr/sbin/pgbouncer",
            "/usr/bin/pgbouncer",
            "/usr/local/bin/pgbouncer",
        ]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())?;
        let config = Config::from_str(url).unwrap();
        let user = config.get_user().unwrap_or("postgres").to_owned();
        let host = match config.get_hosts().first() {
            Some(trek::postgres::config::Host::Tcp(h)) => h.clone(),
            other => panic!("the test server must be reached over TCP, not {other:?}"),
        };
        let server_port = config.get_ports().first().copied().unwrap_or(5432);
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("trek-pgbouncer-{}-{port}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        fs::write(dir.join("users.txt"), format!("\"{user}\" \"\"\n")).unwrap();
        fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host={host} port={server_port}\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {users}\npool_mode = transaction\n\
                 default_pool_size = 2\nserver_round_robin = 1\n\
                 ignore_startup_parameters = extra_float_digits,options\n\
                 logfile = {log}\n",
                users = dir.join("users.txt").display(),
                log = dir.join("pgbouncer.log").display(),
            ),
        )
        .unwrap();
        let mut cmd = Command::new(binary);
        cmd.arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // PgBouncer refuses to run as root, like PostgreSQL: run it as the server's account.
        if current_uid() == 0 {
            let (uid, gid) = account_ids("postgres");
            cmd.uid(uid).gid(gid);
        }
        let child = cmd.spawn().unwrap();
        let bouncer = PgBouncer {
            child,
            dir,
            port,
            user,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Client::connect(&bouncer.url("postgres"), NoTls).is_err() {
            assert!(
                Instant::now() < deadline,
                "PgBouncer did not start: {}",
                fs::read_to_string(bouncer.dir.join("pgbouncer.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(bouncer)
    }

    /// The URL of `database` through this PgBouncer.
    fn url(&self, database: &str) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{database}",
            self.user, self.port
        )
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn current_uid() -> u32 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn account_ids(name: &str) -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").unwrap();
    let fields: Vec<&str> = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
        .unwrap_or_else(|| panic!("no {name} account to run PgBouncer as"));
    (fields[2].parse().unwrap(), fields[3].parse().unwrap())
}

fn backend_pid(client: &mut Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0)
}

#[test]
fn behind_pgbouncer_in_transaction_mode_the_lost_lock_is_reported_and_then_named_stranded() {
    let db = TestDb::new("pgbouncer");
    let Some(bouncer) = PgBouncer::start(&db.url) else {
        #[allow(
            clippy::print_stderr,
            reason = "a skipped test says why in the test output"
        )]
        {
            eprintln!("skipped: pgbouncer is not installed (apt-get install pgbouncer)");
        }
        return;
    };
    let mut folder = Folder::new("pgbouncer").file("1_a.sql", "CREATE TABLE a (id int);\n");
    // Two server sessions, both idle, so that the pooler hands them out in turn.
    let mut first = Client::connect(&bouncer.url(&db.name), NoTls).unwrap();
    let mut second = Client::connect(&bouncer.url(&db.name), NoTls).unwrap();
    first.batch_execute("BEGIN").unwrap();
    second.batch_execute("BEGIN").unwrap();
    assert_ne!(backend_pid(&mut first), backend_pid(&mut second));
    first.batch_execute("COMMIT").unwrap();
    second.batch_execute("COMMIT").unwrap();

    // Whether the unlock lands in the other session depends on how many transactions the run
    // has: each run adds one migration, in turn transactional (one round trip) and not (a
    // provisional row, two statements, the record: four), so the count's parity changes from
    // one run to the next and the unlock lands in the other session within two runs.
    let mut pooled = Client::connect(&bouncer.url(&db.name), NoTls).unwrap();
    let mut direct = db.client();
    let mut lost = None;
    let mut runs = Vec::new();
    for n in 2..=7 {
        let sql = if n % 2 == 0 {
            format!("CREATE TABLE t{n} (id int);\n")
        } else {
            format!(
                "-- trek:no_transaction\nCREATE TABLE t{n} (id int);\nCREATE INDEX ON t{n} (id);\n"
            )
        };
        folder = folder.file(&format!("{n}_t.sql"), &sql);
        let report = Migrator::new(&folder.read()).run(&mut pooled).unwrap();
        assert!(table_exists(&mut direct, &format!("t{n}")));
        assert_eq!(
            advisory_holders(&mut direct),
            [] as [i32; 0],
            "the lock is free after every run"
        );
        lost = report.warnings.iter().find_map(|w| match w {
            Warning::LockLost {
                locked_by_pid,
                unlocked_by_pid,
                still_held,
            } => Some((*locked_by_pid, *unlocked_by_pid, *still_held, w.to_string())),
            _ => None,
        });
        runs.push(report.warnings);
        if lost.is_some() {
            break;
        }
    }
    let Some((locked_by, unlocked_by, still_held, text)) = lost else {
        panic!("expected a LockLost warning in one of the runs, got {runs:?}");
    };
    assert_ne!(locked_by, unlocked_by);
    assert!(
        !still_held,
        "trek reaches the locking session again and frees the lock"
    );
    assert!(text.contains("released the lock"), "{text}");

    // A client that goes away through the pooler right after taking trek's lock leaves it in
    // the pooled server session. A direct run finds it stranded, says so and how to clear it.
    let key = trek::default_lock_key("trek");
    let mut gone = Client::connect(&bouncer.url(&db.name), NoTls).unwrap();
    let stranded_pid: i32 = gone
        .query_typed(
            "SELECT pg_try_advisory_lock($1), pg_backend_pid()",
            &[(&key, trek::postgres::types::Type::INT8)],
        )
        .unwrap()[0]
        .get(1);
    drop(gone);
    assert_eq!(advisory_holders(&mut direct), [stranded_pid]);
    let folder = folder.file("9_c.sql", "CREATE TABLE c (id int);\n");
    let err = Migrator::new(&folder.read())
        .lock_timeout(Duration::from_millis(300))
        .run(&mut direct)
        .unwrap_err();
    let Error::LockTimeout { holder, .. } = &err else {
        panic!("expected a lock timeout, got {err}");
    };
    assert!(
        holder
            .as_ref()
            .is_some_and(|h| h.stranded && h.pid == stranded_pid),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("pg_terminate_backend({stranded_pid})")),
        "{err}"
    );
    assert!(!table_exists(&mut direct, "c"));
    direct
        .query_one("SELECT pg_terminate_backend($1)", &[&stranded_pid])
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let report = loop {
        match Migrator::new(&folder.read())
            .lock_timeout(Duration::from_millis(300))
            .run(&mut direct)
        {
            Ok(report) => break report,
            Err(Error::LockTimeout { .. }) if Instant::now() < deadline => {}
            Err(e) => panic!("{e}"),
        }
    };
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(table_exists(&mut direct, "c"));
}

/// The pids holding an advisory lock in the client's database.
fn advisory_holders(client: &mut Client) -> Vec<i32> {
    client
        .query(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect()
}
