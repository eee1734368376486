//! `cargo trek fleet`: 200 tenant databases and 500 tenant schemas on the test server, a set
//! of 20 migrations, `--parallel 8`. Each migration records itself in a `ledger` table, so
//! "applied exactly once" is checked in the data, beside trek's history and audit log.
//!
//! - databases: every tenant gets all 20 once; one tenant holding a conflicting table fails
//!   at that migration, by name, while the rest succeed; `fleet status` counts match what
//!   each database holds;
//! - schemas: `kill -9` in the middle of a run, then a re-run finishes the rest without
//!   applying anything twice; two runs at once migrate each tenant once between them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use trek_tests::cli::{Output, Project};
use trek_tests::TestDb;

const MIGRATIONS: usize = 20;

fn project(label: &str) -> Project {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    let p = Project::new(label);
    for n in 1..=MIGRATIONS {
        let sql = if n == 1 {
            "CREATE TABLE ledger (n int NOT NULL, at timestamptz NOT NULL DEFAULT now());\n\
             INSERT INTO ledger (n) VALUES (1);\n"
                .to_owned()
        } else {
            format!(
                "CREATE TABLE t_{n} (id bigint PRIMARY KEY, note text);\n\
                 INSERT INTO ledger (n) VALUES ({n});\n"
            )
        };
        p.file(&format!("migrations/{n:04}_step_{n}.sql"), &sql);
    }
    p
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout))
}

/// Databases `<prefix>_000` … made for the test, dropped when it ends (also on failure).
struct Tenants {
    prefix: String,
    names: Vec<String>,
}

impl Tenants {
    fn create(count: usize) -> Tenants {
        let prefix = format!("trek_fleet_{}", std::process::id());
        let mut admin = trek_tests::admin_client();
        let names: Vec<String> = (0..count).map(|i| format!("{prefix}_{i:03}")).collect();
        for name in &names {
            for sql in [
                format!("DROP DATABASE IF EXISTS {name}"),
                format!("CREATE DATABASE {name}"),
            ] {
                admin
                    .batch_execute(&sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            }
        }
        Tenants { prefix, names }
    }

    fn client(&self, name: &str) -> trek::postgres::Client {
        trek::postgres::Client::connect(&trek_tests::server_url(name), trek::postgres::NoTls)
            .unwrap()
    }
}

impl Drop for Tenants {
    fn drop(&mut self) {
        let mut admin = trek_tests::admin_client();
        for name in &self.names {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The ledger's migration numbers, in order, and trek's applied versions, of one place.
fn ledger(client: &mut trek::postgres::Client, schema: &str) -> Vec<i32> {
    client
        .query(&format!("SELECT n FROM {schema}.ledger ORDER BY n"), &[])
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .unwrap_or_default()
}

fn all_once() -> Vec<i32> {
    (1..=i32::try_from(MIGRATIONS).unwrap()).collect()
}

#[test]
fn a_fleet_of_200_databases_applies_everything_once_and_reports_the_one_that_failed() {
    let tenants = Tenants::create(200);
    let p = project("fleet_dbs");
    // One tenant already has the table migration 0007 creates.
    let conflicted = tenants.names[117].clone();
    tenants
        .client(&conflicted)
        .batch_execute("CREATE TABLE t_7 (id int)")
        .unwrap();
    p.file(
        "Trek.toml",
        &format!(
            "[fleet.tenants]\nurl_env = \"CONTROL_URL\"\n\
             query = \"SELECT datname FROM pg_database WHERE datname LIKE '{}\\\\_%' ORDER BY 1\"\n",
            tenants.prefix
        ),
    );
    let run = |args: &[&str]| {
        p.trek(args)
            .env("CONTROL_URL", trek_tests::server_url("postgres"))
            .run()
    };

    let out = run(&["fleet", "up", "tenants", "--parallel", "8", "--json"]);
    out.assert_code(1);
    let doc = json(&out);
    assert_eq!(doc["counts"]["targets"], 200);
    assert_eq!(doc["counts"]["migrated"], 199);
    assert_eq!(doc["counts"]["failed"], 1);
    let failed: Vec<&Value> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["result"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], conflicted.as_str());
    assert_eq!(failed[0]["error"]["kind"], "migration_failed");
    assert_eq!(failed[0]["error"]["migration"], "0007 step_7");
    assert_eq!(
        failed[0]["error"]["sql"]["path"],
        "migrations/0007_step_7.sql"
    );
    assert_eq!(failed[0]["error"]["sql"]["line"], 1);
    assert_eq!(failed[0]["applied"].as_array().unwrap().len(), 6);

    // What each database holds: every migration once, the conflicted one up to 0006.
    for name in &tenants.names {
        let mut client = tenants.client(name);
        let expected: Vec<i32> = if *name == conflicted {
            (1..=6).collect()
        } else {
            all_once()
        };
        assert_eq!(ledger(&mut client, "public"), expected, "{name}");
        let applied: i64 = client
            .query_one("SELECT count(*) FROM trek.applied", &[])
            .unwrap()
            .get(0);
        assert_eq!(applied, expected.len() as i64, "{name}");
    }

    // The human table names the failure with its file and line.
    let out = run(&["fleet", "up", "tenants", "--parallel", "8"]);
    out.assert_code(1)
        .stdout_has(&format!(
            "{conflicted}  failed: 0007 step_7: migrations/0007_step_7.sql:1: relation \"t_7\" \
             already exists"
        ))
        .stdout_has("200 targets: 0 migrated, 199 up to date, 1 failed, 0 not started")
        .stderr_has(&format!("1 of 200 targets failed: {conflicted}"));

    // fleet status agrees with the databases.
    let out = run(&["fleet", "status", "tenants", "--json"]);
    out.assert_code(0);
    let status = json(&out);
    assert_eq!(status["latest"], "0020");
    assert_eq!(
        status["versions"],
        serde_json::json!([
            {"version": "0020", "targets": 199},
            {"version": "0006", "targets": 1},
        ])
    );
    assert_eq!(status["current"], 199);
    assert_eq!(status["behind"], 1);
    let behind: Vec<&Value> = status["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["pending"] != 0)
        .collect();
    assert_eq!(behind[0]["name"], conflicted.as_str());
    assert_eq!(behind[0]["pending"], 14);
    run(&["fleet", "status", "tenants", "--check"])
        .assert_code(1)
        .stdout_has(&format!("{conflicted} (14 pending, at 0006)"));

    // Fixed by hand, the fleet finishes: only the conflicted tenant has anything to do.
    tenants
        .client(&conflicted)
        .batch_execute("DROP TABLE t_7")
        .unwrap();
    let out = run(&["fleet", "up", "tenants", "--parallel", "8", "--json"]);
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["counts"]["migrated"], 1);
    assert_eq!(doc["counts"]["up_to_date"], 199);
    assert_eq!(
        ledger(&mut tenants.client(&conflicted), "public"),
        all_once()
    );
    run(&["fleet", "status", "tenants", "--check"]).assert_code(0);
}

/// A schema-per-tenant fleet of `count` schemas `tenant_000` … in `db`.
fn schema_fleet(p: &Project, db: &TestDb, count: usize) {
    let mut client = db.client();
    let create: String = (0..count)
        .map(|i| format!("CREATE SCHEMA tenant_{i:03};"))
        .collect();
    client.batch_execute(&create).unwrap();
    p.file(
        "Trek.toml",
        "[fleet.schemas]\nurl_env = \"APP_URL\"\n\
         schemas_query = \"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\\\_%' \
         ORDER BY 1\"\n",
    );
}

/// Per tenant schema: its ledger, and how many applies its audit log records.
fn tenant_state(db: &TestDb, count: usize) -> BTreeMap<String, (Vec<i32>, i64)> {
    let mut client = db.client();
    (0..count)
        .map(|i| {
            let tenant = format!("tenant_{i:03}");
            let applies: i64 = client
                .query_one(
                    &format!("SELECT count(*) FROM pg_namespace WHERE nspname = 'trek_{tenant}'"),
                    &[],
                )
                .map(|r| r.get::<_, i64>(0))
                .ok()
                .filter(|n| *n > 0)
                .map(|_| {
                    client
                        .query_one(
                            &format!(
                                "SELECT count(*) FROM trek_{tenant}.audit WHERE action = 'apply'"
                            ),
                            &[],
                        )
                        .unwrap()
                        .get(0)
                })
                .unwrap_or(0);
            (tenant.clone(), (ledger(&mut client, &tenant), applies))
        })
        .collect()
}

#[test]
fn a_schema_fleet_killed_mid_run_finishes_on_a_rerun_without_applying_anything_twice() {
    const TENANTS: usize = 500;
    let p = project("fleet_schemas");
    let db = TestDb::new("fleet_schemas");
    schema_fleet(&p, &db, TENANTS);

    let mut child = p
        .trek(&["fleet", "up", "schemas", "--parallel", "8"])
        .env("APP_URL", &db.url)
        .into_command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some tenants are done and most are not.
    let mut client = db.client();
    let started = Instant::now();
    loop {
        let done: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'trek\\_tenant\\_%'",
                &[],
            )
            .unwrap()
            .get(0);
        if done >= 40 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the fleet run made no progress"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // What the killed run had sent still finishes on the server (a statement, or a batch
    // of migrations, with their history rows); its sessions end once the server notices the
    // client is gone. Count what is applied after that.
    let started = Instant::now();
    loop {
        let sessions: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND application_name = 'cargo-trek'",
                &[],
            )
            .unwrap()
            .get(0);
        if sessions == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the killed run's sessions did not end"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let before = tenant_state(&db, TENANTS);
    let untouched = before.values().filter(|(l, _)| l.is_empty()).count();
    assert!(untouched > 0, "the kill came before the end");
    for (tenant, (ledger, applies)) in &before {
        // Each tenant is either untouched or holds a prefix of the migrations, each once.
        let n = i32::try_from(ledger.len()).unwrap();
        assert_eq!(*ledger, (1..=n).collect::<Vec<_>>(), "{tenant}");
        assert_eq!(*applies, i64::from(n), "{tenant}");
    }

    let out = p
        .trek(&["fleet", "up", "schemas", "--parallel", "8", "--json"])
        .env("APP_URL", &db.url)
        .run();
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["counts"]["failed"], 0);
    assert_eq!(doc["counts"]["targets"], TENANTS);
    let after = tenant_state(&db, TENANTS);
    for (tenant, (ledger, applies)) in &after {
        assert_eq!(*ledger, all_once(), "{tenant}");
        assert_eq!(
            *applies, MIGRATIONS as i64,
            "{tenant}: nothing applied twice"
        );
    }
    // The re-run applied exactly what the killed run had not.
    let reapplied: usize = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["applied"].as_array().unwrap().len())
        .sum();
    let had: usize = before.values().map(|(l, _)| l.len()).sum();
    assert_eq!(reapplied + had, TENANTS * MIGRATIONS);
    // Scripts ran in the tenant's schema; trek's tables are in trek_<tenant>.
    let mut client = db.client();
    let public_tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(public_tables, 0);

    let out = p
        .trek(&["fleet", "status", "schemas", "--json"])
        .env("APP_URL", &db.url)
        .run();
    out.assert_code(0);
    let status = json(&out);
    assert_eq!(
        status["versions"],
        serde_json::json!([{"version": "0020", "targets": TENANTS}])
    );
    assert_eq!(status["current"], TENANTS);
}

#[test]
fn two_fleet_runs_at_once_migrate_each_tenant_once_between_them() {
    const TENANTS: usize = 60;
    let p = project("fleet_twice");
    let db = TestDb::new("fleet_twice");
    schema_fleet(&p, &db, TENANTS);
    let spawn = || {
        p.trek(&["fleet", "up", "schemas", "--parallel", "4", "--json"])
            .env("APP_URL", &db.url)
            .into_command()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let docs: Vec<Value> = [a, b]
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{out:?}");
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    for i in 0..TENANTS {
        let applied: Vec<usize> = docs
            .iter()
            .map(|d| d["targets"][i]["applied"].as_array().unwrap().len())
            .collect();
        let mut sorted = applied.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, MIGRATIONS], "tenant {i}: {applied:?}");
    }
    for (tenant, (ledger, applies)) in tenant_state(&db, TENANTS) {
        assert_eq!(ledger, all_once(), "{tenant}");
        assert_eq!(applies, MIGRATIONS as i64, "{tenant}");
    }
}

/// A fleet of `count` test databases given by `url_envs` (`TENANT_0`, …), the first ones
/// (`conflicted`) holding the table migration 0007 creates.
fn url_fleet(label: &str, count: usize, conflicted: &[usize]) -> (Project, Vec<TestDb>) {
    let p = project(label);
    let dbs: Vec<TestDb> = (0..count)
        .map(|i| TestDb::new(&format!("{label}_{i}")))
        .collect();
    for &i in conflicted {
        dbs[i]
            .client()
            .batch_execute("CREATE TABLE t_7 (id int)")
            .unwrap();
    }
    let vars: Vec<String> = (0..count).map(|i| format!("\"TENANT_{i}\"")).collect();
    p.file(
        "Trek.toml",
        &format!("[fleet.t]\nurl_envs = [{}]\n", vars.join(", ")),
    );
    (p, dbs)
}

fn fleet_run(p: &Project, dbs: &[TestDb], args: &[&str]) -> Output {
    let mut trek = p.trek(args);
    for (i, db) in dbs.iter().enumerate() {
        trek = trek.env(&format!("TENANT_{i}"), &db.url);
    }
    trek.run()
}

fn has_history(db: &TestDb) -> bool {
    db.client()
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'trek'",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0)
        > 0
}

#[test]
fn a_failed_canary_starts_nothing_more_and_fail_fast_stops_at_the_first_failure() {
    let (p, dbs) = url_fleet("fleet_canary", 5, &[0]);
    let out = fleet_run(&p, &dbs, &["fleet", "up", "t", "--canary", "1", "--json"]);
    out.assert_code(1);
    let doc = json(&out);
    assert_eq!(doc["counts"]["failed"], 1);
    assert_eq!(doc["counts"]["skipped"], 4);
    assert_eq!(
        doc["targets"][1]["skipped_because"],
        "a canary target failed"
    );
    assert!(
        dbs[1..].iter().all(|db| !has_history(db)),
        "nothing ran after the canary"
    );
    fleet_run(&p, &dbs, &["fleet", "up", "t", "--canary", "1"])
        .assert_code(1)
        .stdout_has("not started: a canary target failed")
        .stderr_has("1 of 5 targets failed")
        .stderr_has("; 4 not started");

    // The canary fixed, it passes and the rest run.
    dbs[0].client().batch_execute("DROP TABLE t_7").unwrap();
    let out = fleet_run(&p, &dbs, &["fleet", "up", "t", "--canary", "1", "--json"]);
    out.assert_code(0);
    assert_eq!(json(&out)["counts"]["migrated"], 5);

    // --fail-fast, one at a time: the second fails, the rest never start.
    let (p, dbs) = url_fleet("fleet_fail_fast", 4, &[1]);
    let out = fleet_run(
        &p,
        &dbs,
        &[
            "fleet",
            "up",
            "t",
            "--fail-fast",
            "--parallel",
            "1",
            "--json",
        ],
    );
    out.assert_code(1);
    let doc = json(&out);
    let results: Vec<&str> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["migrated", "failed", "skipped", "skipped"]);
    assert_eq!(
        doc["targets"][2]["skipped_because"],
        "--fail-fast: a target failed"
    );
    assert!(!has_history(&dbs[2]) && !has_history(&dbs[3]));

    // --dry-run changes nothing and says what each would apply.
    let out = fleet_run(&p, &dbs, &["fleet", "up", "t", "--dry-run", "--json"]);
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["targets"][0]["result"], "up_to_date");
    assert_eq!(doc["targets"][1]["result"], "would_apply");
    assert_eq!(doc["targets"][1]["applied"][0], "0007 step_7");
    assert_eq!(
        doc["targets"][2]["applied"].as_array().unwrap().len(),
        MIGRATIONS
    );
    assert!(!has_history(&dbs[2]), "a dry run creates nothing");
}

#[test]
fn a_target_that_cannot_be_reached_fails_alone_and_never_shows_its_password() {
    let (p, dbs) = url_fleet("fleet_unreachable", 2, &[]);
    let mut trek = p.trek(&["fleet", "up", "t", "--json"]);
    trek = trek.env("TENANT_0", &dbs[0].url).env(
        "TENANT_1",
        "postgres://app:fleet-s3cret@127.0.0.1:1/tenant_gone?connect_timeout=2",
    );
    let out = trek.run();
    out.assert_code(1).never_shows("fleet-s3cret");
    let doc = json(&out);
    assert_eq!(doc["targets"][0]["result"], "migrated");
    assert_eq!(doc["targets"][1]["result"], "failed");
    assert_eq!(doc["targets"][1]["name"], "tenant_gone");
    assert_eq!(doc["targets"][1]["error"]["kind"], "connect");
    let message = doc["targets"][1]["error"]["message"].as_str().unwrap();
    assert_eq!(
        message.matches("could not connect to postgres").count(),
        1,
        "said once: {message}"
    );

    // One database reached by two URLs is one target.
    let same = format!(
        "{}{}application_name=again",
        dbs[0].url,
        if dbs[0].url.contains('?') { '&' } else { '?' }
    );
    let out = p
        .trek(&["fleet", "up", "t", "--json"])
        .env("TENANT_0", &dbs[0].url)
        .env("TENANT_1", &same)
        .run();
    out.assert_code(0);
    assert_eq!(json(&out)["counts"]["targets"], 1);

    // A variable that is not set is a configuration error before anything runs.
    let out = p
        .trek(&["fleet", "up", "t"])
        .env("TENANT_0", &dbs[0].url)
        .run();
    out.assert_code(2)
        .stderr_has("fleet `t` takes a target's URL from the variable TENANT_1");
    // An unknown fleet names the ones there are.
    p.trek(&["fleet", "status", "nope"])
        .run()
        .assert_code(2)
        .stderr_has("there is no fleet `nope`; the fleets are: t");
}

#[test]
fn a_dev_fleet_of_schemas_resets_each_tenant_in_its_own_schema() {
    let p = project("fleet_dev");
    // One migration, no down script: an edit makes the dev workflow reset.
    for n in 2..=MIGRATIONS {
        p.remove(&format!("migrations/{n:04}_step_{n}.sql"));
    }
    let db = TestDb::new("fleet_dev");
    let long = "t".repeat(60);
    p.file(
        "Trek.toml",
        &format!(
            "[fleet.dev]\nurl_env = \"APP_URL\"\nworkflow = \"dev\"\n\
             schemas = [\"acme\", \"Big Co\", \"{long}\"]\n"
        ),
    );
    let run = |args: &[&str]| p.trek(args).env("APP_URL", &db.url).run();
    let out = run(&["fleet", "up", "dev", "--json"]);
    out.assert_code(1);
    let doc = json(&out);
    assert_eq!(doc["counts"]["migrated"], 2);
    // A tenant whose history schema would be longer than 63 bytes fails alone, and leaves
    // no empty schema behind.
    assert_eq!(doc["targets"][2]["error"]["kind"], "bad_schema_name");
    let mut client = db.client();
    let count = |client: &mut trek::postgres::Client, sql: &str| -> i64 {
        client.query_one(sql, &[]).unwrap().get(0)
    };
    assert_eq!(
        count(
            &mut client,
            &format!("SELECT count(*) FROM pg_namespace WHERE nspname = '{long}'")
        ),
        0
    );
    client
        .batch_execute("INSERT INTO acme.ledger (n) VALUES (99); INSERT INTO \"Big Co\".ledger (n) VALUES (99)")
        .unwrap();

    // Edited: each tenant is reset in its own schema, which is made again; nothing lands in
    // public.
    p.file(
        "migrations/0001_step_1.sql",
        "CREATE TABLE ledger (n bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());\n\
         INSERT INTO ledger (n) VALUES (1);\n",
    );
    p.file(
        "Trek.toml",
        "[fleet.dev]\nurl_env = \"APP_URL\"\nworkflow = \"dev\"\nschemas = [\"acme\", \"Big Co\"]\n",
    );
    let out = run(&["fleet", "up", "dev", "--dry-run", "--json"]);
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["targets"][0]["result"], "would_apply");
    assert!(
        doc["targets"][0]["undo"]
            .as_str()
            .unwrap()
            .starts_with("reset"),
        "{doc}"
    );
    let out = run(&["fleet", "up", "dev", "--json"]);
    out.assert_code(0);
    let doc = json(&out);
    assert_eq!(doc["counts"]["migrated"], 2);
    for tenant in ["acme", "Big Co"] {
        let ledger: Vec<i64> = client
            .query(&format!("SELECT n FROM \"{tenant}\".ledger"), &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(ledger, [1], "{tenant}: reset and applied again, as bigint");
    }
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        0
    );

    // A broken fleet stops only the commands that use it.
    p.file("Trek.toml", "[fleet.dev]\nurls = []\n");
    p.trek(&["status"])
        .env("DATABASE_URL", &db.url)
        .run()
        .assert_code(0);
    run(&["fleet", "status", "dev"])
        .assert_code(2)
        .stderr_has("[fleet.dev] urls is empty");
}
