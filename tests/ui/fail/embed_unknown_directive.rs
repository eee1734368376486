static MIGRATIONS: trek::Migrations = trek::embed!("fixtures/embed/unknown_directive");

fn main() {}
