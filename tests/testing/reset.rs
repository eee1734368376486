//! The reset helpers, for harnesses that keep one database for many tests.

use trek_testing::{reset_database, reset_schemas, TestDb};

use crate::SHOP;

fn accounts(client: &mut trek::postgres::Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM accounts", &[])
        .unwrap()
        .get(0)
}

#[test]
fn reset_database_puts_a_kept_database_back_to_the_migrated_state() {
    let url = TestDb::new(&SHOP).unwrap().keep();
    let mut client = trek::postgres::Client::connect(&url, trek::postgres::NoTls).unwrap();
    client
        .batch_execute("INSERT INTO accounts (email) VALUES ('left@over'); CREATE TABLE junk ()")
        .unwrap();
    drop(client);

    reset_database(&url, &SHOP).unwrap();

    let mut client = trek::postgres::Client::connect(&url, trek::postgres::NoTls).unwrap();
    assert_eq!(accounts(&mut client), 0);
    let junk: bool = client
        .query_one("SELECT to_regclass('junk') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!junk);
    let applied: i64 = client
        .query_one("SELECT count(*) FROM trek.applied", &[])
        .unwrap()
        .get(0);
    assert_eq!(applied, 150);
    let name: String = client
        .query_one("SELECT current_database()::text", &[])
        .unwrap()
        .get(0);
    drop(client);
    let other = TestDb::new(&SHOP).unwrap();
    other
        .connect()
        .unwrap()
        .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .unwrap();
}

#[test]
fn reset_database_refuses_a_database_stamped_prod() {
    let db = TestDb::new(&SHOP).unwrap();
    let mut client = db.connect().unwrap();
    client
        .batch_execute(
            "UPDATE trek.meta SET value = 'prod' WHERE key = 'environment'; \
             INSERT INTO accounts (email) VALUES ('precious@data')",
        )
        .unwrap();
    let error = reset_database(db.url(), &SHOP).unwrap_err();
    assert!(
        matches!(
            error,
            trek_testing::Error::Trek(trek::Error::Protected { .. })
        ),
        "{error}"
    );
    assert_eq!(accounts(&mut client), 1, "nothing was touched");
}

#[test]
fn reset_database_reads_the_stamp_in_the_schema_it_was_given() {
    let db = TestDb::new(&SHOP).unwrap();
    let mut client = db.connect().unwrap();
    // trek's tables of another migration set, in their own schema, stamped prod.
    client
        .batch_execute(
            "CREATE SCHEMA billing_trek; \
             CREATE TABLE billing_trek.meta (key text PRIMARY KEY, value text NOT NULL); \
             INSERT INTO billing_trek.meta VALUES ('environment', 'prod'); \
             INSERT INTO accounts (email) VALUES ('precious@data')",
        )
        .unwrap();
    let error = TestDb::builder(&SHOP)
        .schema("billing_trek")
        .reset_database(db.url())
        .unwrap_err();
    assert!(
        matches!(error, trek_testing::Error::Trek(trek::Error::Protected { ref stamp, .. }) if stamp == "prod"),
        "{error}"
    );
    assert_eq!(accounts(&mut client), 1, "nothing was touched");
}

#[test]
fn reset_database_stops_when_the_stamp_cannot_be_read() {
    let db = TestDb::new(&SHOP).unwrap();
    let mut client = db.connect().unwrap();
    client
        .batch_execute(
            "ALTER TABLE trek.meta RENAME COLUMN value TO unreadable; \
             INSERT INTO accounts (email) VALUES ('precious@data')",
        )
        .unwrap();
    let error = reset_database(db.url(), &SHOP).unwrap_err();
    assert!(
        matches!(error, trek_testing::Error::Database { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("environment stamp"), "{error}");
    assert_eq!(accounts(&mut client), 1, "nothing was touched");
}

#[test]
fn test_db_reset_copies_the_template_again() {
    let mut db = TestDb::new(&SHOP).unwrap();
    db.connect()
        .unwrap()
        .batch_execute("INSERT INTO accounts (email) VALUES ('a@b')")
        .unwrap();
    db.reset().unwrap();
    assert_eq!(accounts(&mut db.connect().unwrap()), 0);
}

#[test]
fn reset_schemas_rebuilds_the_schema_in_place() {
    let db = TestDb::builder(&SHOP).up_to("0010").build().unwrap();
    let mut client = db.connect().unwrap();
    client
        .batch_execute("INSERT INTO accounts (email) VALUES ('a@b'); CREATE TABLE junk ()")
        .unwrap();
    let report = reset_schemas(&mut client, &SHOP).unwrap();
    assert_eq!(report.applied.len(), 150);
    assert_eq!(accounts(&mut client), 0);
    let junk: bool = client
        .query_one("SELECT to_regclass('junk') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!junk);
}
