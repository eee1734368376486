static MIGRATIONS: trek::Migrations = trek::embed!("fixtures/embed/duplicate_version");

fn main() {}
