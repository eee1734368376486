static MIGRATIONS: trek::Migrations = trek::embed!("fixtures/embed/bad_file_name");

fn main() {}
