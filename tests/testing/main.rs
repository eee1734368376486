//! Tests of `trek_testing`, the public test-database API: each test gets a `TestDb`, a copy of
//! a template migrated once per migration set.
//!
//! `parallel` runs 40 tests over the 150 migrations of `fixtures/testing/migrations` at once;
//! `data` tests a migration's effect on existing rows; `templates` covers how templates are
//! built, replaced and shared across threads and processes; `reset` the reset helpers;
//! `asynchronous` 20 `#[tokio::test]`s of both flavours with `tokio-postgres` and `sqlx`.

mod asynchronous;
mod data;
mod parallel;
mod reset;
mod templates;

use trek::Migrations;

/// 150 migrations of a shop's schema (`fixtures/testing/generate.py` wrote them).
pub(crate) static SHOP: Migrations = trek::embed!("fixtures/testing/migrations");
