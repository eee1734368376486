//! The statement splitter against the server's own parser: every statement the splitter cuts
//! from a corpus of valid SQL must parse on its own as exactly one statement. A cut inside a
//! statement leaves a fragment that does not parse; two statements left together are refused
//! ("cannot insert multiple commands into a prepared statement"). Both are SQLSTATE 42601, so
//! any disagreement fails the test, naming the file and the statement.
//!
//! The corpus: the SQL scripts of PostgreSQL's own extensions on this machine (real DDL, `$$`
//! function bodies, comments; found with `pg_config --sharedir` or under
//! `/usr/share/postgresql/*/extension`), and generated cases for each lexical rule.

use std::path::PathBuf;

use trek::postgres::error::SqlState;
use trek_tests::TestDb;

/// Scripts built from each lexical rule the splitter must get right.
fn generated() -> Vec<(String, String)> {
    let pieces = [
        "SELECT 1",
        "SELECT 'it''s; not the end'",
        "SELECT E'a\\';b'",
        "SELECT $$;$$",
        "SELECT $tag$ $$ ; $tag$",
        "SELECT 1 -- a comment; with a semicolon\n",
        "SELECT 1 -- ended by a lone CR; here\r",
        "SELECT /* outer /* inner; */ still a comment; */ 2",
        "SELECT \"semi;colon\" FROM (SELECT 1 AS \"semi;colon\") s",
        "SELECT U&\"d\\0061te\" FROM (SELECT 1 AS date) s",
        "SELECT date'2024-01-01'",
        "SELECT 'line one\n;line two'",
        "SELECT 'a'\n'b'",
        "SELECT 1000 + .5 + 1e5",
        "SELECT 1::text",
        "CREATE FUNCTION f_atomic() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
        "CREATE FUNCTION f_body() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$",
        "DO $$ BEGIN PERFORM 1; END $$",
    ];
    let mut out = Vec::new();
    for separator in ["\n", "\r\n", "\r", " "] {
        let script: String = pieces.iter().map(|p| format!("{p};{separator}")).collect();
        out.push((
            format!("generated, {separator:?} between statements"),
            script,
        ));
    }
    out
}

/// The extension scripts of the PostgreSQL on this machine, with the lines only `psql` reads
/// (`\echo … \quit`) dropped and the placeholders `CREATE EXTENSION` fills in filled in.
fn extension_scripts() -> Vec<(String, String)> {
    let mut dirs: Vec<PathBuf> = std::process::Command::new("pg_config")
        .arg("--sharedir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("extension"))
        .into_iter()
        .collect();
    if let Ok(entries) = std::fs::read_dir("/usr/share/postgresql") {
        dirs.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("extension")),
        );
    }
    let Some(dir) = dirs.into_iter().find(|d| d.is_dir()) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.extension().is_some_and(|e| e == "sql"));
    files.sort();
    files
        .into_iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(&f).ok()?;
            let sql: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with('\\'))
                .map(|l| format!("{l}\n"))
                .collect();
            let sql = sql
                .replace("@extschema@", "public")
                .replace("@extowner@", "postgres")
                .replace("MODULE_PATHNAME", "$libdir/none");
            Some((f.display().to_string(), sql))
        })
        .collect()
}

#[test]
#[allow(clippy::print_stderr)] // says what was checked, and when the extension scripts are missing
fn every_statement_the_splitter_cuts_parses_on_its_own_as_exactly_one() {
    let db = TestDb::new("splitter");
    let mut client = db.client();
    let extensions = extension_scripts();
    if extensions.is_empty() {
        eprintln!("no PostgreSQL extension scripts found: checking the generated cases only");
    }
    let mut checked = 0;
    let mut disagreements = Vec::new();
    // `BEGIN ATOMIC` bodies came with PostgreSQL 14: an older server refuses them whole.
    let num: i32 = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .unwrap()
        .get(0);
    for (name, sql) in generated().into_iter().chain(extensions.iter().cloned()) {
        for statement in trek_core::split::split(&sql) {
            if num < 140_000 && statement.text.contains("BEGIN ATOMIC") {
                continue;
            }
            checked += 1;
            if let Err(e) = client.prepare(statement.text) {
                if e.code() == Some(&SqlState::SYNTAX_ERROR) {
                    let message = e
                        .as_db_error()
                        .map_or_else(String::new, |d| d.message().to_owned());
                    let start: String = statement.text.chars().take(100).collect();
                    disagreements.push(format!(
                        "{name} at byte {}: {message}: {start}",
                        statement.offset
                    ));
                }
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {checked} statements do not parse on their own:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    if !extensions.is_empty() {
        assert!(checked > 1000, "only {checked} statements checked");
    }
    eprintln!("{checked} statements checked against the server's parser");
}
