const DIR: &str = "migrations";

static FROM_A_CONST: trek::Migrations = trek::embed!(DIR);
static NOT_A_STRING: trek::Migrations = trek::embed!(42);
static TWO_PATHS: trek::Migrations = trek::embed!("a", "b");

fn main() {}
