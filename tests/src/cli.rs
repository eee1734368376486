//! Driving the real `cargo-trek` binary: a throwaway Cargo package per test and a command
//! builder that runs the binary in it with a clean environment.
//!
//! ```no_run
//! let project = trek_tests::cli::Project::new("status");
//! project.file("migrations/0001_users.sql", "CREATE TABLE users (id int);");
//! let db = trek_tests::TestDb::new("cli_status");
//! let out = project.trek(&["up"]).env("DATABASE_URL", &db.url).run();
//! out.assert_code(0);
//! ```

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Variables the binary reads that must not leak in from the environment running the tests.
const CLEARED: &[&str] = &[
    "DATABASE_URL",
    "TREK_ENV",
    "TREK_SCHEMA",
    "TREK_MIGRATIONS",
    "TREK_LOCK_TIMEOUT",
    "TREK_LOG",
    "CLICOLOR_FORCE",
    "CLICOLOR",
    "RUST_LOG",
];

static BINARY: OnceLock<PathBuf> = OnceLock::new();

/// Tells the harness where the binary is: integration tests of the `cargo-trek` package pass
/// `env!("CARGO_BIN_EXE_cargo-trek")`. Without it, [`binary`] builds the binary with cargo.
pub fn use_binary(path: impl Into<PathBuf>) {
    let _ = BINARY.set(path.into());
}

/// The `cargo-trek` executable: the one given to [`use_binary`], else built once per process
/// with `cargo build -p cargo-trek` (into the same target directory as the tests).
///
/// # Panics
/// When cargo cannot build it.
pub fn binary() -> &'static Path {
    BINARY.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let output = Command::new(cargo)
            .args(["build", "-q", "-p", "cargo-trek", "--bin", "cargo-trek"])
            .args(["--message-format", "json-render-diagnostics"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("could not run cargo build: {e}"));
        assert!(output.status.success(), "cargo build -p cargo-trek failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| l.contains("\"executable\":\"") && l.contains("cargo-trek"))
            .filter_map(|l| {
                let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
                let end = start + l[start..].find('"')?;
                Some(PathBuf::from(&l[start..end]))
            })
            .next_back()
            .unwrap_or_else(|| panic!("cargo build did not say where cargo-trek is"))
    })
}

/// The cargo target directory of the test harness's local server, so a project that uses the
/// local server shares it instead of making a cluster of its own.
fn shared_target_dir() -> PathBuf {
    trek_local_server::LocalServer::for_manifest_dir(env!("CARGO_MANIFEST_DIR").as_ref())
        .target_dir()
        .to_path_buf()
}

/// A Cargo package in a temporary folder, removed (with its local-server database) on drop.
#[derive(Debug)]
pub struct Project {
    dir: PathBuf,
    name: String,
    target_dir: Option<PathBuf>,
}

impl Project {
    /// A package named `cli_<label>_<pid>_<n>` with a `Cargo.toml` (its own `[workspace]`) and an
    /// empty `src/lib.rs`; no `Trek.toml`, no migrations.
    ///
    /// # Panics
    /// When the folder cannot be written.
    #[must_use]
    pub fn new(label: &str) -> Project {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("cli_{label}_{}_{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("trek-{name}"));
        let _ = fs::remove_dir_all(&dir);
        let project = Project {
            dir,
            name,
            target_dir: None,
        };
        project.file(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
                project.name
            ),
        );
        project.file("src/lib.rs", "");
        project
    }

    /// Gives the project a cargo target directory of its own (a local server of its own), for
    /// tests that stop or destroy it.
    #[must_use]
    pub fn with_own_target_dir(mut self) -> Project {
        self.target_dir = Some(self.dir.join("target"));
        self
    }

    /// The package's folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The package's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of the project's database on the local server for `env` (`dev` by default).
    #[must_use]
    pub fn local_database(&self, env: Option<&str>) -> String {
        format!("{}_{}", self.name, env.unwrap_or("dev"))
    }

    /// Writes `text` to `path` (relative to the package), making folders as needed.
    ///
    /// # Panics
    /// When it cannot.
    pub fn file(&self, path: &str, text: &str) -> &Project {
        let path = self.dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// Writes the two migrations most command-line tests start from, each with a down script:
    /// `0001_create_users` (a `users` table) and `0002_add_email` (its `email` column).
    ///
    /// # Panics
    /// When the files cannot be written.
    pub fn two_migrations(&self) -> &Project {
        self.file(
            "migrations/0001_create_users.sql",
            "CREATE TABLE users (id int PRIMARY KEY);\n",
        )
        .file(
            "migrations/0001_create_users.down.sql",
            "DROP TABLE users;\n",
        )
        .file(
            "migrations/0002_add_email.sql",
            "ALTER TABLE users ADD COLUMN email text;\n",
        )
        .file(
            "migrations/0002_add_email.down.sql",
            "ALTER TABLE users DROP COLUMN email;\n",
        )
    }

    /// Writes `bytes` to `path` (relative to the package), making folders as needed: for files
    /// that are not valid UTF-8.
    ///
    /// # Panics
    /// When it cannot.
    pub fn file_bytes(&self, path: &str, bytes: &[u8]) -> &Project {
        let path = self.dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// Makes `path` (relative to the package) a symbolic link to `target` (taken as is:
    /// relative to the link's folder, or absolute), making folders as needed.
    ///
    /// # Panics
    /// When it cannot.
    #[cfg(unix)]
    pub fn symlink(&self, path: &str, target: &str) -> &Project {
        let path = self.dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        std::os::unix::fs::symlink(target, &path)
            .unwrap_or_else(|e| panic!("symlink {} -> {target}: {e}", path.display()));
        self
    }

    /// Reads a file of the package.
    ///
    /// # Panics
    /// When it cannot.
    #[must_use]
    pub fn read(&self, path: &str) -> String {
        let path = self.dir.join(path);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Removes a file of the package.
    ///
    /// # Panics
    /// When it cannot.
    pub fn remove(&self, path: &str) -> &Project {
        let path = self.dir.join(path);
        fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
        self
    }

    /// The names of the files in a folder of the package, sorted.
    #[must_use]
    pub fn list(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.join(dir))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// `cargo trek ARGS` in the package's folder, run as cargo runs it (`cargo-trek trek ARGS`),
    /// with the variables trek reads cleared and `NO_COLOR` set.
    #[must_use]
    pub fn trek(&self, args: &[&str]) -> Trek {
        let mut command = Command::new(binary());
        command.arg("trek").args(args).current_dir(&self.dir);
        for var in CLEARED {
            command.env_remove(var);
        }
        command.env("NO_COLOR", "1");
        command.env(
            "CARGO_TARGET_DIR",
            self.target_dir.clone().unwrap_or_else(shared_target_dir),
        );
        Trek { command }
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        match &self.target_dir {
            Some(target) => {
                let _ = trek_local_server::LocalServer::for_target_dir(target).destroy();
            }
            None => {
                let url = crate::server_url("postgres");
                if let Ok(mut admin) = trek::postgres::Client::connect(&url, trek::postgres::NoTls)
                {
                    for env in ["dev", "test", "prod"] {
                        let _ = admin.batch_execute(&format!(
                            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                            self.local_database(Some(env))
                        ));
                    }
                }
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A `cargo trek` command about to run.
#[derive(Debug)]
pub struct Trek {
    command: Command,
}

impl Trek {
    /// Sets an environment variable for the run.
    #[must_use]
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Trek {
        self.command.env(key, value);
        self
    }

    /// Adds an argument after those given to [`Project::trek`].
    #[must_use]
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Trek {
        self.command.arg(arg);
        self
    }

    /// Runs in `dir` instead of the package's folder.
    #[must_use]
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Trek {
        self.command.current_dir(dir);
        self
    }

    /// The command, to spawn it by hand.
    #[must_use]
    pub fn into_command(self) -> Command {
        self.command
    }

    /// Runs to completion.
    ///
    /// # Panics
    /// When the binary cannot be started.
    #[must_use]
    pub fn run(mut self) -> Output {
        let output = self
            .command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", binary().display()));
        Output {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// What a run printed and how it exited.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit status (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl Output {
    /// Asserts the exit status, showing both streams when it differs.
    ///
    /// # Panics
    /// When the status differs.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit status {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that stdout contains `text`.
    ///
    /// # Panics
    /// When it does not.
    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Output {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that stderr contains `text`.
    ///
    /// # Panics
    /// When it does not.
    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Output {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that neither stream contains `text` (a password, say).
    ///
    /// # Panics
    /// When one does.
    #[track_caller]
    pub fn never_shows(&self, text: &str) -> &Output {
        assert!(
            !self.stdout.contains(text) && !self.stderr.contains(text),
            "the output shows {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}
