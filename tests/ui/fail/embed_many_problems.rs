// Every problem in the folder is reported at once.
static MIGRATIONS: trek::Migrations = trek::embed!("fixtures/embed/many_problems");

fn main() {}
