static MIGRATIONS: trek::Migrations = trek::embed!("fixtures/embed/invalid_utf8");

fn main() {}
