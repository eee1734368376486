//! A database password never leaves the process: every command that talks to a database is run
//! with a URL that carries one (as `--database-url`, through an environment's `url_env`, in a
//! key-value string, as `?password=`), with trace logs (`-vvv`) and with `--json`, and the
//! password must appear nowhere: not on stdout or stderr, not in trek's tables (audit,
//! history, stamp, snapshot catalogue), not in a dump, not in the error of a failed
//! connection.
//!
//! The role is created with the password on the test server, so the URLs work on a server
//! that checks passwords; the local server trusts the loopback, where any password works.

use std::sync::atomic::{AtomicUsize, Ordering};

use trek_tests::cli::{Output, Project};
use trek_tests::TestDb;

const PASSWORD: &str = "s3cr3t-PW";

/// A login role with [`PASSWORD`], dropped on drop.
struct Role {
    name: String,
    admin: TestDb,
}

impl Role {
    fn new() -> Role {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "trek_secret_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let admin = TestDb::new("secrets_admin");
        admin
            .client()
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {name}; \
                 CREATE ROLE {name} LOGIN SUPERUSER PASSWORD '{PASSWORD}'"
            ))
            .unwrap();
        Role { name, admin }
    }

    /// `url` (`postgres://user@host:port/db?...`) as this role, with the password.
    fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let host = rest.split_once('@').map_or(rest, |(_, host)| host);
        format!("{scheme}://{}:{PASSWORD}@{host}", self.name)
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.admin.client().batch_execute(&format!(
            "DROP OWNED BY {0}; DROP ROLE IF EXISTS {0}",
            self.name
        ));
    }
}

/// Fails when the password is anywhere in the output, or the command panicked.
#[track_caller]
fn clean(what: &str, out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !stream.contains(PASSWORD),
            "{what}: the output shows the password\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout,
            out.stderr
        );
        assert!(
            !stream.contains("panicked"),
            "{what}: it panicked\n--- stderr\n{}",
            out.stderr
        );
    }
}

/// Every row of trek's tables in `db`, as text: none may hold the password.
#[track_caller]
fn tables_are_clean(db: &TestDb) {
    let mut client = db.client();
    for table in ["audit", "applied", "meta", "snapshots"] {
        let exists: bool = client
            .query_one(
                "SELECT to_regclass($1) IS NOT NULL",
                &[&format!("trek.{table}")],
            )
            .unwrap()
            .get(0);
        if !exists {
            continue;
        }
        let rows: Vec<String> = client
            .query(&format!("SELECT t::text FROM trek.{table} t"), &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(
            !rows.is_empty() || table == "snapshots",
            "trek.{table} is empty"
        );
        for row in rows {
            assert!(
                !row.contains(PASSWORD),
                "trek.{table} holds the password: {row}"
            );
        }
    }
}

fn project() -> Project {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    let p = Project::new("secrets");
    p.file(
        "Trek.toml",
        "[env.dev]\nurl_env = \"APP_DATABASE_URL\"\n\n\
         [env.qa]\nsnapshot = { strategy = \"pg_dump\", dir = \"snapshots\", keep = 3 }\n",
    )
    .file(
        "migrations/0001_users.sql",
        "CREATE TABLE users (id int PRIMARY KEY, name text);\n",
    )
    .file("migrations/0001_users.down.sql", "DROP TABLE users;\n")
    .file(
        "migrations/0002_orders.sql",
        "CREATE TABLE orders (id int PRIMARY KEY);\n",
    )
    .file("migrations/0002_orders.down.sql", "DROP TABLE orders;\n")
    .file(
        "migrations/seeds/0001_demo.sql",
        "INSERT INTO orders VALUES (1);\n",
    )
    .file(
        "migrations/seeds/0001_demo.down.sql",
        "DELETE FROM orders WHERE id = 1;\n",
    );
    p
}

#[test]
fn no_command_shows_or_stores_the_database_password() {
    let p = project();
    let role = Role::new();
    let dev = TestDb::new("secrets_dev");
    let qa = TestDb::new("secrets_qa");
    let dev_url = role.url(&dev.url);
    let qa_url = role.url(&qa.url);
    let scratch_url = role.url(&trek_tests::server_url("postgres"));

    // (arguments, the exit status of the first run)
    let dev_commands: &[(&[&str], i32)] = &[
        (&["verify"], 0),
        (&["status"], 0),
        (&["baseline", "--to", "0001"], 0),
        (&["up", "--dry-run"], 0),
        (&["up"], 0),
        (&["seed"], 0),
        (&["status", "--check"], 0),
        (&["audit"], 0),
        (&["repair"], 0),
        (&["dump", "-o", "schema.sql"], 0),
        // The baseline skipped 0001, so the database lacks `users`: drift, exit 1.
        (&["drift"], 1),
        (&["down"], 0),
        (&["reset"], 0),
    ];
    for (args, code) in dev_commands {
        for (i, extra) in [&["-vvv"][..], &["--json", "-vvv"][..]].iter().enumerate() {
            let what = format!("{} {}", args.join(" "), extra.join(" "));
            // The URL comes through the environment's url_env variable for people, and as
            // --database-url for machines.
            let mut all: Vec<&str> = args.to_vec();
            all.extend_from_slice(extra);
            if i == 1 {
                all.extend_from_slice(&["--database-url", &dev_url]);
            }
            let out = p
                .trek(&all)
                .env("APP_DATABASE_URL", &dev_url)
                .env("TREK_SCRATCH_URL", &scratch_url)
                .run();
            clean(&what, &out);
            if i == 0 {
                out.assert_code(*code);
            }
        }
    }
    let dump = p.read("schema.sql");
    assert!(dump.contains("CREATE TABLE public.orders"), "{dump}");
    assert!(!dump.contains(PASSWORD), "the dump holds the password");
    tables_are_clean(&dev);

    // qa: snapshots with pg_dump (given the password through its environment), the
    // catalogue, a restore from the dump.
    let qa_commands: &[(&[&str], i32)] = &[
        (&["up", "--env", "qa"], 0),
        (&["snapshots", "--env", "qa"], 0),
        (&["snapshots", "list", "--env", "qa"], 0),
        (&["restore", "--env", "qa", "--from-dump", "schema.sql"], 0),
        (&["up", "--env", "qa"], 0),
        (&["status", "--env", "qa"], 0),
        (&["audit", "--env", "qa"], 0),
    ];
    for (args, code) in qa_commands {
        for (i, extra) in [&["-vvv"][..], &["--json", "-vvv"][..]].iter().enumerate() {
            let what = format!("{} {}", args.join(" "), extra.join(" "));
            let mut all: Vec<&str> = args.to_vec();
            all.extend_from_slice(extra);
            all.extend_from_slice(&["--database-url", &qa_url]);
            let out = p.trek(&all).run();
            clean(&what, &out);
            if i == 0 {
                out.assert_code(*code);
            }
        }
    }
    let snapshots: i64 = qa
        .client()
        .query_one("SELECT count(*) FROM trek.snapshots", &[])
        .unwrap()
        .get(0);
    assert!(snapshots > 0, "qa took no snapshot");
    tables_are_clean(&qa);

    // The same password in a key-value string and as ?password=.
    let (host, port) = host_and_port(&dev.url);
    let key_value = format!(
        "host={host} port={port} user={} password={PASSWORD} dbname={}",
        role.name, dev.name
    );
    let query = format!(
        "postgres://{}@{host}:{port}/{}?password={PASSWORD}",
        role.name, dev.name
    );
    for url in [&key_value, &query] {
        for extra in [&["-vvv"][..], &["--json", "-vvv"][..]] {
            let mut all = vec!["status"];
            all.extend_from_slice(extra);
            all.extend_from_slice(&["--database-url", url]);
            let out = p.trek(&all).run();
            clean(
                &format!("status with {}", url.replace(PASSWORD, "***")),
                &out,
            );
            out.assert_code(0);
        }
    }
}

#[test]
fn a_failed_connection_masks_the_password() {
    let p = project();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: nothing listens there
    let url = format!("postgres://app:{PASSWORD}@127.0.0.1:{port}/app");
    let key_value = format!("host=127.0.0.1 port={port} user=app password={PASSWORD} dbname=app");
    for url in [&url, &key_value] {
        for command in [
            &["status"][..],
            &["up"],
            &["audit"],
            &["snapshots", "--env", "qa"],
        ] {
            for extra in [&["-vvv"][..], &["--json", "-vvv"][..]] {
                let mut all = command.to_vec();
                all.extend_from_slice(extra);
                all.extend_from_slice(&["--database-url", url]);
                let out = p.trek(&all).run();
                clean(&all.join(" ").replace(PASSWORD, "***"), &out);
                out.assert_code(1);
                assert!(
                    out.stderr.contains("could not connect") || out.stdout.contains("connect"),
                    "{}",
                    out.stderr
                );
            }
        }
        // Through the environment's variable too.
        let out = p.trek(&["up", "-vvv"]).env("APP_DATABASE_URL", url).run();
        clean("up with APP_DATABASE_URL", &out);
        out.assert_code(1);
    }
}

/// The host and port of `postgres://user@host:port/db`.
fn host_and_port(url: &str) -> (String, String) {
    let rest = url.split_once("://").unwrap().1;
    let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap();
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "5432"));
    (host.to_owned(), port.to_owned())
}
