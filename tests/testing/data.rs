//! Testing a migration's effect on real data: a database migrated up to the version before it,
//! rows inserted, then the migration applied.

use trek_testing::TestDb;

use crate::SHOP;

#[test]
fn migrate_to_applies_a_data_migration_to_the_rows_already_there() {
    let db = TestDb::builder(&SHOP).up_to("0099").build().unwrap();
    let mut client = db.connect().unwrap();
    for name in ["Ada Lovelace", "Grace Brewster Hopper", "Plato"] {
        client
            .execute("INSERT INTO customers (full_name) VALUES ($1)", &[&name])
            .unwrap();
    }
    let report = db.migrate_to("0100").unwrap();
    assert_eq!(report.applied.len(), 1, "only 0100 ran");

    let names: Vec<(String, Option<String>)> = client
        .query(
            "SELECT first_name, last_name FROM customers ORDER BY id",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        names,
        [
            ("Ada".to_owned(), Some("Lovelace".to_owned())),
            ("Grace".to_owned(), Some("Brewster Hopper".to_owned())),
            ("Plato".to_owned(), None),
        ]
    );

    let rest = db.migrate_all().unwrap();
    assert_eq!(rest.applied.len(), 50, "0101..0150");
    let customers: i64 = client
        .query_one("SELECT count(*) FROM customers", &[])
        .unwrap()
        .get(0);
    assert_eq!(customers, 3, "the rows survive the later migrations");
}

#[test]
fn a_database_up_to_a_version_has_only_the_migrations_up_to_it() {
    let db = TestDb::builder(&SHOP).up_to("0099").build().unwrap();
    let mut client = db.connect().unwrap();
    let newest: String = client
        .query_one("SELECT max(version) FROM trek.applied", &[])
        .unwrap()
        .get(0);
    assert_eq!(newest, "0099");
    let has_first_name: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_name = 'customers' AND column_name = 'first_name')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!has_first_name, "0100 is not applied");
    let full = TestDb::new(&SHOP).unwrap();
    assert_ne!(db.template(), full.template(), "a template of its own");
}

#[test]
fn up_to_a_version_that_is_not_a_migration_is_an_error() {
    let error = TestDb::builder(&SHOP).up_to("9999").build().unwrap_err();
    assert!(
        matches!(error, trek_testing::Error::Trek(trek::Error::UnknownVersion { ref version, .. }) if version == "9999"),
        "{error}"
    );
}

#[test]
fn the_captured_down_scripts_revert_a_test_database() {
    let db = TestDb::new(&SHOP).unwrap();
    let mut client = db.connect().unwrap();
    db.migrator()
        .revert(
            &mut client,
            trek::Revert::To(trek::Version::parse("0099").unwrap()),
        )
        .unwrap();
    let newest: String = client
        .query_one("SELECT max(version) FROM trek.applied", &[])
        .unwrap()
        .get(0);
    assert_eq!(newest, "0099");
}
