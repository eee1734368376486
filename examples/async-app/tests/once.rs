//! The example as a newcomer runs it: nothing configured, so it starts trek's local server,
//! migrates its database with `Migrator::run_async` inside `#[tokio::main]`, and answers
//! `GET /notes` from the migrated table (`--once`: one request to itself, then it exits).

use std::process::Command;

#[test]
fn the_async_example_migrates_itself_and_serves_the_migrated_table() {
    for run in ["first", "second"] {
        let out = Command::new(env!("CARGO_BIN_EXE_trek-example-async-app"))
            .arg("--once")
            .env_remove("DATABASE_URL")
            .output()
            .expect("the example starts");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{run} run failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("GET /notes → "), "{stdout}");
        assert!(stdout.contains("- welcome to trek"), "{stdout}");
        if run == "second" {
            assert!(stdout.contains("database is up to date"), "{stdout}");
        }
    }
}
