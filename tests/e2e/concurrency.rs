//! Many application instances starting at once against one fresh database.

use std::process::{Command, Stdio};

use trek_tests::TestDb;

#[test]
fn eight_processes_starting_at_once_apply_each_migration_exactly_once() {
    let db = TestDb::new("eight_at_once");
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_trek-fixture-app"))
                .env("DATABASE_URL", &db.url)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start the fixture app")
        })
        .collect();
    let mut applied_lines = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "an instance failed: {stderr}");
        applied_lines += String::from_utf8_lossy(&out.stdout).lines().count();
    }
    assert_eq!(
        applied_lines, 5,
        "five migrations applied once in total across the instances"
    );
    let mut client = db.client();
    let per_version: Vec<(String, i64)> = client
        .query(
            "SELECT version, count(*) FROM trek.applied GROUP BY version ORDER BY version",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        per_version,
        ["0001", "0002", "0003", "0004", "0005"].map(|v| (v.to_owned(), 1))
    );
    let customers: i64 = client
        .query_one("SELECT count(*) FROM customers", &[])
        .unwrap()
        .get(0);
    assert_eq!(customers, 2, "the data migration ran exactly once");
    let audited: i64 = client
        .query_one(
            "SELECT count(*) FROM trek.audit WHERE action = 'apply'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(audited, 5);
}
