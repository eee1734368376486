//! `TestDb` in async tests: `#[tokio::test]` of both flavours create their databases with
//! `TestDb::new_async` (or the blocking `TestDb::new`, which runs its work off the runtime's
//! thread) and query them with `tokio-postgres` and `sqlx`. 20 such tests run in parallel.

use trek_testing::TestDb;

use crate::SHOP;

/// Counts the applied migrations and inserts then counts `n` accounts, with tokio-postgres.
async fn with_tokio_postgres(db: &TestDb<'_>, n: usize) {
    let config: tokio_postgres::Config = db.url().parse().expect("a valid URL");
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("tokio-postgres connects");
    let driver = tokio::spawn(connection);
    let applied: i64 = client
        .query_one(
            "SELECT count(*) FROM trek.applied WHERE kind = 'versioned'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 150);
    for i in 0..n {
        client
            .execute(
                "INSERT INTO accounts (email) VALUES ($1)",
                &[&format!("tp{n}-{i}@example.com")],
            )
            .await
            .unwrap();
    }
    let accounts: i64 = client
        .query_one("SELECT count(*) FROM accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(accounts, n as i64, "only its own rows");
    drop(client);
    driver.await.unwrap().unwrap();
}

/// The same with sqlx, from the URL.
async fn with_sqlx(db: &TestDb<'_>, n: usize) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(db.url())
        .await
        .expect("sqlx connects");
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM trek.applied WHERE kind = 'versioned'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(applied, 150);
    for i in 0..n {
        sqlx::query("INSERT INTO accounts (email) VALUES ($1)")
            .bind(format!("sqlx{n}-{i}@example.com"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(accounts, n as i64, "only its own rows");
    conn.close().await.unwrap();
}

/// A database from `new_async`, used by both drivers, then dropped on the runtime's thread.
async fn a_test(n: usize) {
    let db = TestDb::new_async(&SHOP).await.expect("a test database");
    if n.is_multiple_of(2) {
        with_tokio_postgres(&db, n).await;
    } else {
        with_sqlx(&db, n).await;
    }
    let name = db.name().to_owned();
    let maintenance = trek_testing::url_with_database(db.url(), "postgres");
    drop(db);
    let (client, connection) = tokio_postgres::connect(&maintenance, tokio_postgres::NoTls)
        .await
        .expect("the server's postgres database");
    let driver = tokio::spawn(connection);
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the database is dropped with the value");
    drop(client);
    driver.await.unwrap().unwrap();
}

macro_rules! async_tests {
    ($flavour:literal: $($name:ident = $n:literal),*) => {$(
        #[tokio::test(flavor = $flavour)]
        async fn $name() {
            a_test($n).await;
        }
    )*};
}

async_tests!("current_thread":
    current_thread_0 = 0, current_thread_1 = 1, current_thread_2 = 2, current_thread_3 = 3,
    current_thread_4 = 4, current_thread_5 = 5, current_thread_6 = 6, current_thread_7 = 7,
    current_thread_8 = 8, current_thread_9 = 9);
async_tests!("multi_thread":
    multi_thread_10 = 10, multi_thread_11 = 11, multi_thread_12 = 12, multi_thread_13 = 13,
    multi_thread_14 = 14, multi_thread_15 = 15, multi_thread_16 = 16, multi_thread_17 = 17,
    multi_thread_18 = 18, multi_thread_19 = 19);

#[tokio::test(flavor = "current_thread")]
async fn the_blocking_constructor_works_inside_a_current_thread_runtime_too() {
    let db = TestDb::new(&SHOP).expect("a test database");
    with_tokio_postgres(&db, 3).await;
    let report = db
        .migrate_all()
        .expect("nothing to do, without a runtime panic");
    assert!(report.applied.is_empty());
}
