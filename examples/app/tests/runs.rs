//! The README's first command as a newcomer runs it: nothing configured, so the example starts
//! trek's local server and migrates its database; run again, it has nothing to do.

use std::process::Command;

#[test]
fn the_example_migrates_itself_with_nothing_configured() {
    for run in ["first", "second"] {
        let out = Command::new(env!("CARGO_BIN_EXE_trek-example-app"))
            .env_remove("DATABASE_URL")
            .output()
            .expect("the example starts");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{run} run failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("the app is running:"), "{stdout}");
        if run == "second" {
            assert!(stdout.contains("database is up to date"), "{stdout}");
        }
    }
}
