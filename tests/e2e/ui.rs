//! `trek::embed!` at compile time: one trybuild case per compile error under `ui/fail/`, and a
//! passing case under `ui/pass/` that embeds a good folder and checks what it got.
//!
//! trybuild compiles each case inside its own generated crate,
//! `<target>/tests/trybuild/trek-tests/`, so `CARGO_MANIFEST_DIR` (which `embed!` resolves
//! against) is that folder, not `tests/`. To give the cases a stable relative path that prints
//! the same on every machine, the test links `<that folder>/fixtures` to `tests/fixtures`
//! first; the cases then write `trek::embed!("fixtures/embed/<case>")`.

use std::path::{Path, PathBuf};
use std::process::Command;

#[cfg(unix)]
#[test]
fn embed_checks_the_folder_at_compile_time() {
    link_fixtures();
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}

/// Makes `<target>/tests/trybuild/trek-tests/fixtures` point at this crate's `fixtures/`.
#[cfg(unix)]
fn link_fixtures() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = target_dir(manifest_dir)
        .join("tests")
        .join("trybuild")
        .join(env!("CARGO_PKG_NAME"));
    std::fs::create_dir_all(&project).expect("create the trybuild project folder");
    let link = project.join("fixtures");
    let fixtures = manifest_dir.join("fixtures");
    if std::fs::read_link(&link).ok().as_deref() == Some(fixtures.as_path()) {
        return;
    }
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&fixtures, &link).expect("link the fixtures for trybuild");
}

/// The target directory, as `cargo metadata` (and so trybuild) sees it.
fn target_dir(manifest_dir: &Path) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version=1", "--no-deps", "--offline"])
        .current_dir(manifest_dir)
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata failed");
    let json = String::from_utf8(output.stdout).expect("cargo metadata prints UTF-8");
    json_string_field(&json, "target_directory")
        .expect("cargo metadata has target_directory")
        .into()
}

/// The value of the first `"field":"..."` in `json` (enough for cargo metadata's paths).
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":\"");
    let start = json.find(&key)? + key.len();
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}
