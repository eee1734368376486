//! 40 tests over 150 migrations, each with its own `TestDb`, run in parallel: each sees the
//! whole schema and only the rows it inserted.

use trek_testing::TestDb;

use crate::SHOP;

/// Inserts `n` accounts tagged with the test's number and checks the database holds exactly
/// those, with every migration applied.
fn sees_only_its_own_rows(test: usize) {
    let db = TestDb::new(&SHOP).expect("a test database");
    let mut client = db.connect().expect("a connection");
    let applied: i64 = client
        .query_one(
            "SELECT count(*) FROM trek.applied WHERE kind = 'versioned'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(applied, 150, "every migration is applied");
    let rows = test % 7 + 1;
    for i in 0..rows {
        client
            .execute(
                "INSERT INTO accounts (email) VALUES ($1)",
                &[&format!("test{test}-{i}@example.com")],
            )
            .unwrap();
    }
    client
        .execute(
            "INSERT INTO item_145 (account_id, label) SELECT id, email FROM accounts",
            &[],
        )
        .unwrap();
    let emails: Vec<String> = client
        .query("SELECT email FROM accounts ORDER BY id", &[])
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<String> = (0..rows)
        .map(|i| format!("test{test}-{i}@example.com"))
        .collect();
    assert_eq!(emails, expected, "no other test's rows are here");
    let items: i64 = client
        .query_one("SELECT count(*) FROM item_145", &[])
        .unwrap()
        .get(0);
    assert_eq!(items, i64::try_from(rows).unwrap());
}

macro_rules! isolated_tests {
    ($($name:ident = $n:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                sees_only_its_own_rows($n);
            }
        )*
    };
}

isolated_tests! {
    isolated_01 = 1, isolated_02 = 2, isolated_03 = 3, isolated_04 = 4, isolated_05 = 5,
    isolated_06 = 6, isolated_07 = 7, isolated_08 = 8, isolated_09 = 9, isolated_10 = 10,
    isolated_11 = 11, isolated_12 = 12, isolated_13 = 13, isolated_14 = 14, isolated_15 = 15,
    isolated_16 = 16, isolated_17 = 17, isolated_18 = 18, isolated_19 = 19, isolated_20 = 20,
    isolated_21 = 21, isolated_22 = 22, isolated_23 = 23, isolated_24 = 24, isolated_25 = 25,
    isolated_26 = 26, isolated_27 = 27, isolated_28 = 28, isolated_29 = 29, isolated_30 = 30,
    isolated_31 = 31, isolated_32 = 32, isolated_33 = 33, isolated_34 = 34, isolated_35 = 35,
    isolated_36 = 36, isolated_37 = 37, isolated_38 = 38, isolated_39 = 39, isolated_40 = 40,
}
