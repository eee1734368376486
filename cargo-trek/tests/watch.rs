//! `cargo trek watch` against a real database: the binary runs in the background with
//! `--json`, the test edits, adds, renames and deletes migrations, breaks one and fixes it, and
//! waits for the document of each pass before checking what the database holds. Also `--once`
//! (its human output pinned), Ctrl-C, and the refusals: an environment whose workflow is not
//! dev, and a database stamped prod.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cargo_trek::json;
use trek_tests::cli::Project;
use trek_tests::TestDb;

fn project(label: &str) -> (Project, TestDb) {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    let p = Project::new(label);
    let db = TestDb::new(&format!("cli_{label}"));
    p.file("Trek.toml", &format!("[env.dev]\nurl = \"{}\"\n", db.url));
    (p, db)
}

/// The versioned migrations applied, in order, as `version name`.
fn applied(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT version || ' ' || name FROM trek.applied WHERE kind = 'versioned' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn columns(db: &TestDb, table: &str) -> Vec<String> {
    db.client()
        .query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn exists(db: &TestDb, table: &str) -> bool {
    db.client()
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .unwrap()
        .get(0)
}

/// `cargo trek watch --json` running in the background, its documents read line by line.
struct Watching {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Watching {
    fn start(p: &Project, args: &[&str]) -> Watching {
        let mut command = p.trek(args).into_command();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("cargo-trek starts");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Watching {
            child,
            lines,
            stderr,
        }
    }

    /// The next document, within 60 s.
    #[track_caller]
    fn next(&self) -> json::Watch {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| {
                panic!(
                    "no document from `watch` ({e}); its stderr:\n{}",
                    self.stderr.lock().unwrap()
                )
            });
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a trek.watch/1 document ({e}):\n{line}"))
    }

    /// Sends SIGINT (Ctrl-C) and returns the exit status and stderr.
    fn interrupt(mut self) -> (Option<i32>, String) {
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.child.wait().unwrap().code();
        let stderr = self.stderr.lock().unwrap().clone();
        (code, stderr)
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn names(steps: &[json::Step]) -> Vec<String> {
    steps
        .iter()
        .map(|s| format!("{} {}", s.version.as_deref().unwrap_or("-"), s.name))
        .collect()
}

#[test]
fn watch_follows_edits_additions_renames_deletions_and_a_fixed_syntax_error() {
    let (p, db) = project("watch_e2e");
    // 0001 takes 0.1 s: enough for a reset to copy a template of it rather than replay it.
    p.file(
        "migrations/0001_a.sql",
        "CREATE TABLE a (x int);\nSELECT pg_sleep(0.1);\n",
    )
    .file("migrations/0001_a.down.sql", "DROP TABLE a;\n")
    .file("migrations/0002_b.sql", "CREATE TABLE b (x int);\n")
    .file("migrations/0002_b.down.sql", "DROP TABLE b;\n");
    let w = Watching::start(&p, &["watch", "--json"]);

    // The first pass applies what is there.
    let doc = w.next();
    assert_eq!(doc.pass, 1);
    assert_eq!(doc.outcome, json::WatchOutcome::Applied, "{doc:?}");
    assert!(doc.changed.is_empty());
    assert_eq!(names(&doc.applied), ["0001 a", "0002 b"]);
    assert_eq!(applied(&db), ["0001 a", "0002 b"]);

    // Editing the newest: rewound with its captured down, applied again.
    p.file("migrations/0002_b.sql", "CREATE TABLE b (x int, y int);\n");
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::Applied, "{doc:?}");
    assert_eq!(doc.changed, ["migrations/0002_b.sql"]);
    assert_eq!(doc.path, json::WatchPath::DownScripts);
    assert_eq!(names(&doc.reverted), ["0002 b"]);
    assert_eq!(names(&doc.applied), ["0002 b"]);
    assert!(doc.error.is_none());
    assert_eq!(columns(&db, "b"), ["x", "y"]);

    // Adding one: applied, nothing undone.
    p.file("migrations/0003_c.sql", "CREATE TABLE c (x int);\n");
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::Applied, "{doc:?}");
    assert_eq!(doc.path, json::WatchPath::None);
    assert!(doc.reverted.is_empty());
    assert_eq!(names(&doc.applied), ["0003 c"]);
    assert_eq!(applied(&db), ["0001 a", "0002 b", "0003 c"]);
    assert!(exists(&db, "c"));

    // Renaming it: a migration is known by its version and text, so the database already
    // matches (the history keeps the name it was applied with).
    std::fs::rename(
        p.dir().join("migrations/0003_c.sql"),
        p.dir().join("migrations/0003_cee.sql"),
    )
    .unwrap();
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::UpToDate, "{doc:?}");
    assert_eq!(
        doc.changed,
        ["migrations/0003_c.sql", "migrations/0003_cee.sql"]
    );
    assert!(doc.applied.is_empty() && doc.reverted.is_empty());
    assert_eq!(applied(&db), ["0001 a", "0002 b", "0003 c"]);
    assert!(exists(&db, "c"));

    // Deleting it: it is undone and gone. It has no down script, so the database is replaced
    // with a copy of a template of the two migrations before it, built now.
    p.remove("migrations/0003_cee.sql");
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::Applied, "{doc:?}");
    assert_eq!(doc.path, json::WatchPath::Template);
    let template = doc.template.clone().expect("the template copied");
    assert_eq!((template.migrations, template.built), (2, true));
    assert!(doc.applied.is_empty(), "{doc:?}");
    assert_eq!(applied(&db), ["0001 a", "0002 b"]);
    assert!(!exists(&db, "c"));
    assert_eq!(columns(&db, "b"), ["x", "y"]);

    // A syntax error: reported with the file, line and column; the watch goes on.
    p.file(
        "migrations/0003_d.sql",
        "CREATE TABLE d (x int);\nCREATE TABLE e (x int;\n",
    );
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::Failed, "{doc:?}");
    let error = doc.error.expect("the error");
    let sql = error.sql.expect("the SQL failure");
    assert_eq!(sql.path, "migrations/0003_d.sql");
    assert_eq!(sql.line, Some(2));
    assert_eq!(sql.line_text.as_deref(), Some("CREATE TABLE e (x int;"));
    assert_eq!(sql.code, "42601");
    assert!(error.message.contains("0003 d failed"), "{}", error.message);
    assert_eq!(applied(&db), ["0001 a", "0002 b"]);
    assert!(!exists(&db, "d"));

    // Fixed: applied.
    p.file(
        "migrations/0003_d.sql",
        "CREATE TABLE d (x int);\nCREATE TABLE e (x int);\n",
    );
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::Applied, "{doc:?}");
    assert_eq!(names(&doc.applied), ["0003 d"]);
    assert!(exists(&db, "d") && exists(&db, "e"));

    // A folder made invalid: said, nothing runs, the watch goes on.
    p.file("migrations/0004_x.sql", "CREATE TABLE x ();\n")
        .file("migrations/0004_y.sql", "CREATE TABLE y ();\n");
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::Invalid, "{doc:?}");
    let error = doc.error.expect("the error");
    assert!(error.problems.is_some(), "{error:?}");
    p.remove("migrations/0004_y.sql");
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::Applied, "{doc:?}");
    assert_eq!(names(&doc.applied), ["0004 x"]);

    // Trek.toml made invalid, then fixed.
    let config = p.read("Trek.toml");
    p.file("Trek.toml", "[env.dev\n");
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::Invalid, "{doc:?}");
    assert_eq!(doc.changed, ["Trek.toml"]);
    let error = doc.error.unwrap();
    assert_eq!(error.kind, json::ErrorKind::Config);
    assert!(
        error.message.starts_with("Trek.toml: "),
        "{}",
        error.message
    );
    p.file("Trek.toml", &config);
    let doc = w.next();
    assert_eq!(doc.outcome, json::WatchOutcome::UpToDate, "{doc:?}");

    // Ctrl-C: a clean exit.
    let (code, stderr) = w.interrupt();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn watch_once_runs_one_pass_and_exits_like_up() {
    let (p, db) = project("watch_once");
    p.file("migrations/0001_a.sql", "CREATE TABLE a (x int);\n")
        .file("migrations/0001_a.down.sql", "DROP TABLE a;\n");
    let out = p.trek(&["watch", "--once", "--color", "never"]).run();
    out.assert_code(0);
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.add_filter(r"postgres(ql)?://[\w.~%@:/*-]*\w", "[url]");
    settings.add_filter(r"\(\d+ ms\)", "([ms])");
    settings.add_filter(r"in \d+ ms", "in [ms]");
    let first = out.stdout.clone();
    assert_eq!(applied(&db), ["0001 a"]);

    p.file("migrations/0001_a.sql", "CREATE TABLE a (x int, y int);\n");
    let out = p.trek(&["watch", "--once", "--color", "never"]).run();
    out.assert_code(0);
    settings.bind(|| {
        insta::assert_snapshot!(
            "watch_once",
            format!("--- first pass\n{first}--- after an edit\n{}", out.stdout)
        );
    });
    assert_eq!(columns(&db, "a"), ["x", "y"]);

    // A failing pass exits as `up` does: 1, the error located.
    p.file("migrations/0002_b.sql", "CREATE TABLE b (x int;\n");
    p.trek(&["watch", "--once"])
        .run()
        .assert_code(1)
        .stderr_has("migrations/0002_b.sql:1:")
        .stderr_has("CREATE TABLE b (x int;");
    // A bad folder: 2.
    p.file("migrations/0002_b.sql", "CREATE TABLE b (x int);\n")
        .file("migrations/0002_c.sql", "CREATE TABLE c (x int);\n");
    p.trek(&["watch", "--once", "--json"]).run().assert_code(2);
    p.remove("migrations/0002_c.sql");
    let out = p.trek(&["watch", "--once", "--json"]).run();
    out.assert_code(0);
    let doc: json::Watch = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(names(&doc.applied), ["0002 b"]);
}

#[test]
fn watch_refuses_a_workflow_other_than_dev() {
    let (p, db) = project("watch_qa");
    p.file(
        "Trek.toml",
        &format!(
            "[env.dev]\nurl = \"{0}\"\n\n[env.staging]\nurl = \"{0}\"\nworkflow = \"qa\"\n",
            db.url
        ),
    )
    .file("migrations/0001_a.sql", "CREATE TABLE a (x int);\n");
    p.trek(&["watch", "--env", "staging"])
        .run()
        .assert_code(2)
        .stderr_has("the environment `staging` (Trek.toml)")
        .stderr_has("runs the qa workflow; `cargo trek watch` runs only the dev workflow");
    assert!(!exists(&db, "a"));
}

#[test]
fn watch_refuses_a_database_stamped_prod() {
    let (p, db) = project("watch_prod");
    p.file(
        "Trek.toml",
        &format!(
            "[env.dev]\nurl = \"{0}\"\n\n[env.prod]\nurl = \"{0}\"\nworkflow = \"prod\"\n",
            db.url
        ),
    )
    .file("migrations/0001_a.sql", "CREATE TABLE a (x int);\n");
    p.trek(&["up", "--env", "prod"]).run().assert_code(0);
    p.file("migrations/0001_a.sql", "CREATE TABLE a (x int, y int);\n");
    let out = p.trek(&["watch", "--json"]).run();
    out.assert_code(2);
    let doc: json::ErrorDoc = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        doc.error.message.contains("is stamped prod"),
        "{}",
        doc.error.message
    );
    p.trek(&["watch"])
        .run()
        .assert_code(2)
        .stderr_has("is stamped prod; `cargo trek watch` never runs on it");
    assert_eq!(columns(&db, "a"), ["x"]);
}
