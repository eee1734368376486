//! The bad-input corpus of `cargo trek`: one table of cases, each a package (migrations folder,
//! `Trek.toml`, `.env`), a command line and variables that are wrong in one way. Every case must
//! exit 2 with a message on stderr that names what is wrong and where (the file, and the line
//! when there is one), print nothing on stdout (with `--json`: one JSON error document), never
//! panic, and apply nothing: the database it was pointed at has no user table and no applied
//! row afterwards. A few positive controls (a byte-order mark, CRLF line ends, a repeatable
//! named with a number) must be accepted and applied.
//!
//! Each case runs twice, once for people and once with `--json`, against a database of its
//! worker thread that is emptied between cases.

use std::path::Path;

use serde_json::Value;
use trek_tests::cli::{Output, Project};
use trek_tests::TestDb;

/// A file of a case's package.
#[derive(Clone, Copy)]
enum Entry {
    /// A text file.
    Text(&'static str),
    /// A file of raw bytes (invalid UTF-8, a byte-order mark).
    Bytes(&'static [u8]),
    /// A symbolic link to this target.
    Symlink(&'static str),
    /// An empty folder.
    Folder,
    /// A file nobody may read (`chmod 000`).
    Unreadable(&'static str),
}

use Entry::{Bytes, Folder, Symlink, Text, Unreadable};

/// What a case must do.
#[derive(Clone, Copy)]
enum Expect {
    /// Exit 2; stderr (and the JSON error's message) contains every fragment.
    Refused(&'static [&'static str]),
    /// Exit 0 and these tables exist afterwards: a positive control.
    Accepted(&'static [&'static str]),
}

use Expect::{Accepted, Refused};

/// A migration name of 277 letters: no file system takes a file name that long.
const LONG_NAME: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// One case of the corpus.
struct Case {
    /// A name for failure messages.
    name: &'static str,
    /// The package's files besides `Cargo.toml` and `src/lib.rs`. Unless `bare`, the package
    /// also has `migrations/9000_valid.sql`, a good migration that must not be applied.
    files: &'static [(&'static str, Entry)],
    /// The command line after `cargo trek`; `{url}` is the database's URL.
    args: &'static [&'static str],
    /// Variables for the run (`{url}` is the database's URL).
    env: &'static [(&'static str, &'static str)],
    /// Whether `DATABASE_URL` is the database's URL (unless `env` sets it): off when the case
    /// is about a URL from elsewhere, which `DATABASE_URL` would override.
    database_url: bool,
    /// No `migrations/9000_valid.sql`.
    bare: bool,
    /// What must happen.
    expect: Expect,
    /// Text that must appear nowhere in the output (a password).
    secret: Option<&'static str>,
}

const CASE: Case = Case {
    name: "",
    files: &[],
    args: &["up"],
    env: &[],
    database_url: true,
    bare: false,
    expect: Refused(&[]),
    secret: None,
};

const VALID: &str = "migrations/9000_valid.sql";

/// The corpus.
const CASES: &[Case] = &[
    // -----------------------------------------------------------------------------------------
    // The migrations folder
    Case {
        name: "a name without a version",
        files: &[("migrations/create_users.sql", Text("CREATE TABLE bad (id int);"))],
        expect: Refused(&["migrations/create_users.sql", "bad file name", "VERSION_description"]),
        ..CASE
    },
    Case {
        name: "a version that is not numbers",
        files: &[("migrations/1.x_users.sql", Text("CREATE TABLE bad (id int);"))],
        expect: Refused(&["migrations/1.x_users.sql", "`1.x` is not a version"]),
        ..CASE
    },
    Case {
        name: "a version too large",
        files: &[(
            "migrations/99999999999999999999999_x.sql",
            Text("CREATE TABLE bad (id int);"),
        )],
        expect: Refused(&["migrations/99999999999999999999999_x.sql", "too large"]),
        ..CASE
    },
    Case {
        name: "an empty description",
        files: &[("migrations/1_.sql", Text("CREATE TABLE bad (id int);"))],
        expect: Refused(&["migrations/1_.sql", "description"]),
        ..CASE
    },
    Case {
        name: "an upper-case extension",
        files: &[("migrations/1_users.SQL", Text("CREATE TABLE bad (id int);"))],
        expect: Refused(&["migrations/1_users.SQL", "lowercase"]),
        ..CASE
    },
    Case {
        name: "versions that compare equal",
        files: &[
            ("migrations/1_a.sql", Text("CREATE TABLE bad_a (id int);")),
            ("migrations/01_b.sql", Text("CREATE TABLE bad_b (id int);")),
        ],
        expect: Refused(&["migrations/1_a.sql", "01_b.sql", "version 1 is used by"]),
        ..CASE
    },
    Case {
        name: "a script and its .up.sql alias",
        files: &[
            ("migrations/2_a.sql", Text("CREATE TABLE bad_a (id int);")),
            ("migrations/2_a.up.sql", Text("CREATE TABLE bad_b (id int);")),
        ],
        expect: Refused(&["migrations/2_a.up.sql", "alias"]),
        ..CASE
    },
    Case {
        name: "a down without an up",
        files: &[("migrations/3_c.down.sql", Text("DROP TABLE c;"))],
        expect: Refused(&["migrations/3_c.down.sql", "no up script has that version"]),
        ..CASE
    },
    Case {
        name: "a down named differently from its up",
        files: &[
            ("migrations/4_d.sql", Text("CREATE TABLE bad (id int);")),
            ("migrations/4_e.down.sql", Text("DROP TABLE bad;")),
        ],
        expect: Refused(&["migrations/4_e.down.sql", "rename this file to 4_d.down.sql"]),
        ..CASE
    },
    Case {
        name: "an unknown directive",
        files: &[(
            "migrations/1_a.sql",
            Text("-- trek:no_transactoin\nCREATE TABLE bad (id int);\n"),
        )],
        expect: Refused(&["migrations/1_a.sql:1:", "unknown directive `-- trek:no_transactoin`"]),
        ..CASE
    },
    Case {
        name: "a directive after the first statement",
        files: &[(
            "migrations/1_a.sql",
            Text("CREATE TABLE bad (id int);\n\n-- trek:no_transaction\nCREATE TABLE bad2 (id int);\n"),
        )],
        expect: Refused(&["migrations/1_a.sql:3:", "comes after the start of the script"]),
        ..CASE
    },
    Case {
        name: "a directive twice",
        files: &[(
            "migrations/1_a.sql",
            Text("-- trek:lock_timeout 5s\n-- trek:lock_timeout 10s\nCREATE TABLE bad (id int);\n"),
        )],
        expect: Refused(&["migrations/1_a.sql:2:", "repeated (first on line 1)"]),
        ..CASE
    },
    Case {
        name: "a directive with a bad argument",
        files: &[(
            "migrations/1_a.sql",
            Text("-- trek:statement_timeout soon\nCREATE TABLE bad (id int);\n"),
        )],
        expect: Refused(&["migrations/1_a.sql:1:", "does not take `soon`"]),
        ..CASE
    },
    Case {
        name: "run always outside a repeatable",
        files: &[(
            "migrations/1_a.sql",
            Text("-- trek:run always\nCREATE TABLE bad (id int);\n"),
        )],
        expect: Refused(&["migrations/1_a.sql:1:", "only for repeatables"]),
        ..CASE
    },
    Case {
        name: "invalid UTF-8 on line 2",
        files: &[("migrations/1_a.sql", Bytes(b"CREATE TABLE bad (id int);\nSELECT '\xff';\n"))],
        expect: Refused(&["migrations/1_a.sql:2:", "not valid UTF-8"]),
        ..CASE
    },
    Case {
        name: "an empty file",
        files: &[("migrations/1_a.sql", Text(""))],
        expect: Refused(&["migrations/1_a.sql", "has no SQL statement"]),
        ..CASE
    },
    Case {
        name: "a file of comments only",
        files: &[(
            "migrations/1_a.sql",
            Text("-- Adds users.\n-- trek:no_transaction\n/* TODO */\n"),
        )],
        expect: Refused(&["migrations/1_a.sql", "has no SQL statement"]),
        ..CASE
    },
    Case {
        name: "a byte-order mark and blank lines only",
        files: &[("migrations/1_a.sql", Bytes(b"\xef\xbb\xbf\r\n\r\n"))],
        expect: Refused(&["migrations/1_a.sql", "has no SQL statement"]),
        ..CASE
    },
    Case {
        name: "a symbolic link to itself",
        files: &[("migrations/loop.sql", Symlink("loop.sql"))],
        expect: Refused(&["migrations/loop.sql", "cannot be read"]),
        ..CASE
    },
    Case {
        name: "a symbolic link to the folder itself",
        files: &[("migrations/again", Symlink("."))],
        expect: Refused(&["migrations/again", "cannot be read", "loop"]),
        ..CASE
    },
    Case {
        name: "a symbolic link to nothing",
        files: &[("migrations/2_gone.sql", Symlink("nowhere.sql"))],
        expect: Refused(&["migrations/2_gone.sql", "cannot be read"]),
        ..CASE
    },
    Case {
        name: "a folder named like a script",
        files: &[("migrations/3_folder.sql", Folder)],
        expect: Refused(&["migrations/3_folder.sql", "is a folder, not a script"]),
        ..CASE
    },
    Case {
        // Skipped when the tests run as root (CI's containers): root reads any file.
        name: "a file nobody may read",
        files: &[("migrations/1_secret.sql", Unreadable("CREATE TABLE bad (id int);"))],
        expect: Refused(&["migrations/1_secret.sql", "cannot be read", "Permission denied"]),
        ..CASE
    },
    Case {
        name: "BEGIN and COMMIT in a transactional migration",
        files: &[(
            "migrations/1_a.sql",
            Text("BEGIN;\nCREATE TABLE bad (id int);\nCOMMIT;\n"),
        )],
        expect: Refused(&[
            "migrations/1_a.sql:1:",
            "`BEGIN` controls the transaction",
            "migrations/1_a.sql:3:",
            "`COMMIT`",
        ]),
        ..CASE
    },
    Case {
        name: "a down script for a repeatable",
        files: &[
            ("migrations/repeatable/views.sql", Text("CREATE VIEW bad AS SELECT 1;")),
            ("migrations/repeatable/views.down.sql", Text("DROP VIEW bad;")),
        ],
        expect: Refused(&["migrations/repeatable/views.down.sql", "repeatables have no down"]),
        ..CASE
    },
    Case {
        name: "a seed without a version",
        files: &[("migrations/seeds/demo.sql", Text("CREATE TABLE bad (id int);"))],
        expect: Refused(&["migrations/seeds/demo.sql", "a seed is named VERSION_description"]),
        ..CASE
    },
    Case {
        name: "scripts in a folder trek does not read",
        files: &[("migrations/2026/1_a.sql", Text("CREATE TABLE bad (id int);"))],
        expect: Refused(&["migrations/2026", "only reads the top level"]),
        ..CASE
    },
    Case {
        name: "no migrations folder",
        bare: true,
        expect: Refused(&["migrations", "does not exist"]),
        ..CASE
    },
    Case {
        name: "a migrations path that is a file",
        env: &[("TREK_MIGRATIONS", "src/lib.rs"), ("DATABASE_URL", "{url}")],
        expect: Refused(&["src/lib.rs", "not a folder"]),
        ..CASE
    },
    Case {
        name: "every problem at once",
        files: &[
            ("migrations/create_users.sql", Text("CREATE TABLE bad (id int);")),
            ("migrations/3_c.down.sql", Text("DROP TABLE c;")),
            ("migrations/5_e.sql", Text("")),
        ],
        expect: Refused(&[
            "has 3 problems",
            "migrations/create_users.sql",
            "migrations/3_c.down.sql",
            "migrations/5_e.sql",
        ]),
        ..CASE
    },
    // Positive controls: what other tools trip on, trek accepts.
    Case {
        name: "a byte-order mark (accepted)",
        files: &[(
            "migrations/1_bom.sql",
            Bytes(b"\xef\xbb\xbf-- trek:lock_timeout 5s\nCREATE TABLE bom (id int);\n"),
        )],
        bare: true,
        expect: Accepted(&["bom"]),
        ..CASE
    },
    Case {
        name: "CRLF line ends (accepted)",
        files: &[
            (
                "migrations/1_crlf.sql",
                Text("-- trek:no_transaction\r\nCREATE TABLE crlf (id int);\r\nCREATE INDEX CONCURRENTLY crlf_id ON crlf (id);\r\n"),
            ),
            ("migrations/1_crlf.down.sql", Text("DROP TABLE crlf;\r\n")),
        ],
        bare: true,
        expect: Accepted(&["crlf"]),
        ..CASE
    },
    Case {
        // Repeatables have no version, and a number in front of the name orders them: the
        // name is `01_views`, run in name order.
        name: "a repeatable named with a number (accepted)",
        files: &[
            ("migrations/1_base.sql", Text("CREATE TABLE base (id int);")),
            ("migrations/repeatable/01_views.sql", Text("CREATE OR REPLACE VIEW views AS SELECT 1 AS one;")),
        ],
        bare: true,
        expect: Accepted(&["base", "views"]),
        ..CASE
    },
    // -----------------------------------------------------------------------------------------
    // Fleets ([fleet.NAME]); the case's database is the fleet's one target.
    Case {
        name: "a fleet with no targets",
        files: &[("Trek.toml", Text("[fleet.t]\nparallel = 2\n"))],
        args: &["fleet", "up", "t"],
        expect: Refused(&["Trek.toml", "[fleet.t] names no targets", "urls, url_envs"]),
        ..CASE
    },
    Case {
        name: "a fleet given its targets two ways",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_envs = [\"DATABASE_URL\"]\nurls_file = \"t.txt\"\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["[fleet.t] gives its targets 2 ways (url_envs, urls_file)"]),
        ..CASE
    },
    Case {
        name: "a fleet's URL file with a line that is not a URL",
        files: &[
            ("Trek.toml", Text("[fleet.t]\nurls_file = \"tenants.txt\"\n")),
            ("tenants.txt", Text("# tenants\npostgres://app@db.internal/t1\nnot a url\n")),
        ],
        args: &["fleet", "up", "t"],
        expect: Refused(&["tenants.txt:3", "not a valid PostgreSQL URL"]),
        ..CASE
    },
    Case {
        name: "a fleet's URL with a password and a bad port",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurls = [\"postgres://app:fl33t-PW@db.internal:99999/t\"]\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["[fleet.t] urls[0]", "postgres://app:***@db.internal:99999/t"]),
        secret: Some("fl33t-PW"),
        ..CASE
    },
    Case {
        name: "a fleet query that fails",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_env = \"DATABASE_URL\"\nquery = \"SELEC datname FROM pg_database\"\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["[fleet.t] query failed", "syntax error"]),
        ..CASE
    },
    Case {
        name: "a fleet schemas_query naming a schema PostgreSQL reserves",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_env = \"DATABASE_URL\"\nschemas_query = \"SELECT 'pg_tenant'\"\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["row 1 of [fleet.t] schemas_query", "pg_"]),
        ..CASE
    },
    Case {
        name: "a fleet query that names no targets",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_env = \"DATABASE_URL\"\nquery = \"SELECT 'x' WHERE false\"\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["fleet `t` has no targets: its query gave none"]),
        ..CASE
    },
    Case {
        name: "a qa fleet",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_envs = [\"DATABASE_URL\"]\nworkflow = \"qa\"\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["[fleet.t] workflow", "a qa fleet"]),
        ..CASE
    },
    Case {
        name: "a fleet with parallel = 0",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_envs = [\"DATABASE_URL\"]\nparallel = 0\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["[fleet.t] parallel is 0"]),
        ..CASE
    },
    Case {
        name: "a fleet with an unknown key",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_envs = [\"DATABASE_URL\"]\nparalel = 4\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["Trek.toml", "line 3", "paralel"]),
        ..CASE
    },
    Case {
        name: "a fleet that is not defined",
        files: &[("Trek.toml", Text("[fleet.tenants]\nurl_envs = [\"DATABASE_URL\"]\n"))],
        args: &["fleet", "up", "tenant"],
        expect: Refused(&["there is no fleet `tenant`; the fleets are: tenants"]),
        ..CASE
    },
    Case {
        name: "a fleet query that writes (it runs read-only)",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_env = \"DATABASE_URL\"\nquery = \"CREATE TABLE sneaky (x int)\"\n"),
        )],
        args: &["fleet", "up", "t", "--dry-run"],
        expect: Refused(&["[fleet.t] query failed", "read-only transaction"]),
        ..CASE
    },
    Case {
        name: "a tenant schema named like trek's history schemas",
        files: &[(
            "Trek.toml",
            Text("[fleet.t]\nurl_env = \"DATABASE_URL\"\nschemas = [\"acme\", \"trek_acme\"]\n"),
        )],
        args: &["fleet", "up", "t"],
        expect: Refused(&["[fleet.t] schemas: `trek_acme` cannot be a tenant"]),
        ..CASE
    },
    Case {
        name: "a fleet given --database-url",
        files: &[("Trek.toml", Text("[fleet.t]\nurl_envs = [\"DATABASE_URL\"]\n"))],
        args: &["fleet", "up", "t", "--database-url", "{url}"],
        expect: Refused(&["--database-url does not apply"]),
        ..CASE
    },
    Case {
        name: "--parallel 0",
        files: &[("Trek.toml", Text("[fleet.t]\nurl_envs = [\"DATABASE_URL\"]\n"))],
        args: &["fleet", "up", "t", "--parallel", "0"],
        expect: Refused(&["--parallel"]),
        ..CASE
    },
    // -----------------------------------------------------------------------------------------
    // Trek.toml
    Case {
        name: "a table that is not closed",
        files: &[("Trek.toml", Text("[trek]\nschema = \"trek\"\n[env.dev\n"))],
        expect: Refused(&["Trek.toml", "line 3"]),
        ..CASE
    },
    Case {
        name: "a string that is not closed, on a line with a password",
        files: &[(
            "Trek.toml",
            Text("[env.dev]\nurl = \"postgres://app:s3cr3t-PW@db.internal/app\nworkflow = \"dev\"\n"),
        )],
        expect: Refused(&["Trek.toml", "line 2", "postgres://app:***@db.internal/app"]),
        secret: Some("s3cr3t-PW"),
        ..CASE
    },
    Case {
        name: "a key twice",
        files: &[("Trek.toml", Text("[trek]\nschema = \"a\"\nschema = \"b\"\n"))],
        expect: Refused(&["Trek.toml", "line 3", "duplicate key"]),
        ..CASE
    },
    Case {
        name: "an unknown top-level key",
        files: &[("Trek.toml", Text("colour = true\n"))],
        expect: Refused(&["Trek.toml", "line 1", "unknown field `colour`"]),
        ..CASE
    },
    Case {
        name: "an unknown key in [trek]",
        files: &[("Trek.toml", Text("[trek]\nmigratoins = \"db\"\n"))],
        expect: Refused(&["Trek.toml", "line 2", "unknown field `migratoins`"]),
        ..CASE
    },
    Case {
        name: "an unknown key in [env.dev]",
        files: &[("Trek.toml", Text("[env.dev]\nworkflow = \"dev\"\nurll = \"x\"\n"))],
        expect: Refused(&["Trek.toml", "line 3", "unknown field `urll`"]),
        ..CASE
    },
    Case {
        name: "an unknown key in snapshot = {...}",
        files: &[(
            "Trek.toml",
            Text("[env.qa]\nworkflow = \"qa\"\nsnapshot = { strategy = \"pg_dump\", kep = 3 }\n"),
        )],
        args: &["up", "--env", "qa"],
        expect: Refused(&["Trek.toml", "line 3", "unknown field `kep`"]),
        ..CASE
    },
    Case {
        name: "a number where a duration string goes",
        files: &[("Trek.toml", Text("[trek]\nlock_timeout = 5\n"))],
        expect: Refused(&["Trek.toml", "line 2", "expected a string"]),
        ..CASE
    },
    Case {
        name: "a string where a list goes",
        files: &[("Trek.toml", Text("[trek]\nschemas = \"public\"\n"))],
        expect: Refused(&["Trek.toml", "line 2", "expected a sequence"]),
        ..CASE
    },
    Case {
        name: "a number where an environment's table goes",
        files: &[("Trek.toml", Text("[env]\ndev = 3\n"))],
        expect: Refused(&["Trek.toml", "line 2", "expected an environment's table"]),
        ..CASE
    },
    Case {
        name: "a string where a lock key goes",
        files: &[("Trek.toml", Text("[trek]\nlock_key = \"abc\"\n"))],
        expect: Refused(&["Trek.toml", "line 2", "expected i64"]),
        ..CASE
    },
    Case {
        name: "a file that is not UTF-8",
        files: &[("Trek.toml", Bytes(b"[trek]\nschema = \"\xff\"\n"))],
        expect: Refused(&["Trek.toml", "UTF-8"]),
        ..CASE
    },
    Case {
        name: "an unknown environment with --env",
        files: &[("Trek.toml", Text("[env.dev]\n[env.prod]\n"))],
        args: &["up", "--env", "staging"],
        expect: Refused(&["--env", "`staging`", "the environments are: dev, prod"]),
        ..CASE
    },
    Case {
        name: "an unknown environment with TREK_ENV",
        files: &[("Trek.toml", Text("[env.dev]\n"))],
        env: &[("TREK_ENV", "Dev"), ("DATABASE_URL", "{url}")],
        expect: Refused(&["TREK_ENV", "`Dev`", "the environments are: dev"]),
        ..CASE
    },
    Case {
        name: "an environment without a Trek.toml",
        args: &["up", "--env", "qa"],
        expect: Refused(&["--env", "`qa`", "there is no Trek.toml"]),
        ..CASE
    },
    Case {
        name: "a prod environment with seeds on",
        files: &[("Trek.toml", Text("[env.prod]\nseeds = true\n"))],
        args: &["up", "--env", "prod"],
        expect: Refused(&["Trek.toml", "[env.prod] seeds = true", "never reach prod"]),
        ..CASE
    },
    Case {
        name: "a prod environment with seeds on, another one selected",
        files: &[("Trek.toml", Text("[env.dev]\n[env.live]\nworkflow = \"prod\"\nseeds = true\n"))],
        expect: Refused(&["Trek.toml", "[env.live] seeds = true"]),
        ..CASE
    },
    Case {
        name: "a prod environment with a baseline dump",
        files: &[("Trek.toml", Text("[env.prod]\nbaseline = \"schema.sql\"\n"))],
        args: &["up", "--env", "prod"],
        expect: Refused(&["Trek.toml", "[env.prod] baseline"]),
        ..CASE
    },
    Case {
        name: "a snapshot table outside qa",
        files: &[("Trek.toml", Text("[env.dev]\nsnapshot = { keep = 2 }\n"))],
        expect: Refused(&["Trek.toml", "[env.dev] snapshot", "only the qa workflow"]),
        ..CASE
    },
    Case {
        name: "an unknown snapshot strategy",
        files: &[("Trek.toml", Text("[env.qa]\nsnapshot = { strategy = \"zfs\" }\n"))],
        args: &["up", "--env", "qa"],
        expect: Refused(&["Trek.toml", "[env.qa] snapshot", "zfs"]),
        ..CASE
    },
    Case {
        name: "url and url_env both",
        files: &[("Trek.toml", Text("[env.dev]\nurl = \"postgres://h/db\"\nurl_env = \"DEV_URL\"\n"))],
        expect: Refused(&["Trek.toml", "[env.dev]", "both `url` and `url_env`"]),
        ..CASE
    },
    Case {
        name: "a url_env variable that is not set",
        files: &[("Trek.toml", Text("[env.prod]\nurl_env = \"PROD_DATABASE_URL\"\n"))],
        args: &["up", "--env", "prod"],
        expect: Refused(&["Trek.toml", "PROD_DATABASE_URL", "not set"]),
        ..CASE
    },
    Case {
        name: "a lock timeout that is not a duration",
        files: &[("Trek.toml", Text("[trek]\nlock_timeout = \"soon\"\n"))],
        expect: Refused(&["Trek.toml", "[trek] lock_timeout", "`soon` is not a duration"]),
        ..CASE
    },
    Case {
        name: "a lock timeout that is not a duration, from TREK_LOCK_TIMEOUT",
        env: &[("TREK_LOCK_TIMEOUT", "1.5s"), ("DATABASE_URL", "{url}")],
        expect: Refused(&["TREK_LOCK_TIMEOUT", "`1.5s` is not a duration"]),
        ..CASE
    },
    Case {
        name: "an unknown workflow",
        files: &[("Trek.toml", Text("[env.dev]\nworkflow = \"staging\"\n"))],
        expect: Refused(&["Trek.toml", "[env.dev] workflow", "`staging` is not a workflow"]),
        ..CASE
    },
    Case {
        name: "an environment with no workflow",
        files: &[("Trek.toml", Text("[env.staging]\nurl = \"postgres://h/db\"\n"))],
        args: &["up", "--env", "staging"],
        expect: Refused(&["Trek.toml", "[env.staging] has no workflow"]),
        ..CASE
    },
    Case {
        name: "an unknown reset mode",
        files: &[("Trek.toml", Text("[env.dev]\nreset = \"everything\"\n"))],
        expect: Refused(&["Trek.toml", "[env.dev] reset", "`everything` is not a reset mode"]),
        ..CASE
    },
    Case {
        name: "an empty schema name",
        files: &[("Trek.toml", Text("[trek]\nschema = \"\"\n"))],
        expect: Refused(&["Trek.toml", "[trek] schema", "empty"]),
        ..CASE
    },
    Case {
        name: "a schema name PostgreSQL would cut short",
        files: &[(
            "Trek.toml",
            Text("[env.dev]\nschema = \"a_schema_name_that_goes_on_and_on_past_sixty_three_bytes_of_text\"\n"),
        )],
        expect: Refused(&["Trek.toml", "[env.dev] schema", "at most 63 bytes"]),
        ..CASE
    },
    Case {
        name: "a schema name PostgreSQL reserves, from TREK_SCHEMA",
        env: &[("TREK_SCHEMA", "pg_trek"), ("DATABASE_URL", "{url}")],
        expect: Refused(&["TREK_SCHEMA", "`pg_trek`", "reserves"]),
        ..CASE
    },
    Case {
        name: "a managed schema listed twice",
        files: &[("Trek.toml", Text("[trek]\nschemas = [\"app\", \"app\"]\n"))],
        expect: Refused(&["Trek.toml", "[trek] schemas", "listed twice"]),
        ..CASE
    },
    Case {
        name: "an empty migrations path",
        files: &[("Trek.toml", Text("[trek]\nmigrations = \"\"\n"))],
        expect: Refused(&["Trek.toml", "[trek] migrations", "empty"]),
        ..CASE
    },
    Case {
        name: "a .env line that does not parse, holding a password",
        files: &[(".env", Text("TREK_ENV=dev\nDATABASE_URL=\"postgres://app:s3cr3t-PW@db/app\n"))],
        expect: Refused(&[".env", "line 2", "DATABASE_URL", "cannot be parsed"]),
        secret: Some("s3cr3t-PW"),
        ..CASE
    },
    // -----------------------------------------------------------------------------------------
    // Database URLs
    Case {
        name: "a URL that is not a URL",
        args: &["up", "--database-url", "not a url"],
        expect: Refused(&["--database-url", "not a valid PostgreSQL URL"]),
        ..CASE
    },
    Case {
        name: "a URL with another scheme",
        args: &["up", "--database-url", "mysql://app:s3cr3t-PW@127.0.0.1/app"],
        expect: Refused(&["mysql://app:***@127.0.0.1/app", "not a valid PostgreSQL URL"]),
        secret: Some("s3cr3t-PW"),
        ..CASE
    },
    Case {
        name: "an unknown sslmode",
        args: &["up", "--database-url", "{url}?sslmode=sometimes"],
        expect: Refused(&["--database-url", "sslmode=sometimes", "verify-full"]),
        ..CASE
    },
    Case {
        name: "a sslrootcert file that does not exist",
        args: &["up", "--database-url", "{url}?sslmode=verify-full&sslrootcert=/nonexistent/trek-root.pem"],
        expect: Refused(&["sslrootcert=/nonexistent/trek-root.pem", "cannot be read"]),
        ..CASE
    },
    Case {
        name: "an unknown URL option",
        args: &["up", "--database-url", "{url}?frob=1"],
        expect: Refused(&["not a valid PostgreSQL URL", "unknown option `frob`"]),
        ..CASE
    },
    Case {
        name: "a port out of range, with a password",
        args: &["up", "--database-url", "postgres://app:s3cr3t-PW@127.0.0.1:99999/app"],
        expect: Refused(&["postgres://app:***@127.0.0.1:99999/app", "`port`"]),
        secret: Some("s3cr3t-PW"),
        ..CASE
    },
    Case {
        name: "an empty URL",
        args: &["up", "--database-url", ""],
        expect: Refused(&["--database-url", "is empty"]),
        ..CASE
    },
    Case {
        name: "a URL without a host",
        args: &["up", "--database-url", "postgres:///app"],
        expect: Refused(&["postgres:///app", "names no host"]),
        ..CASE
    },
    Case {
        name: "a bad URL in DATABASE_URL",
        env: &[("DATABASE_URL", "postgres://app:s3cr3t-PW@h:port/app")],
        expect: Refused(&["DATABASE_URL", "postgres://app:***@h:port/app"]),
        secret: Some("s3cr3t-PW"),
        ..CASE
    },
    Case {
        name: "a bad URL in Trek.toml",
        files: &[("Trek.toml", Text("[env.dev]\nurl = \"postgres://app@db/app?sslmode=maybe\"\n"))],
        database_url: false,
        expect: Refused(&["Trek.toml [env.dev] url", "sslmode=maybe"]),
        ..CASE
    },
    // -----------------------------------------------------------------------------------------
    // The command line
    Case {
        name: "an unknown subcommand",
        args: &["frobnicate"],
        expect: Refused(&["unrecognized subcommand 'frobnicate'"]),
        ..CASE
    },
    Case {
        name: "an unknown flag",
        args: &["up", "--frob"],
        expect: Refused(&["unexpected argument '--frob'"]),
        ..CASE
    },
    Case {
        name: "down --steps 0",
        args: &["down", "--steps", "0"],
        expect: Refused(&["'0'", "--steps"]),
        ..CASE
    },
    Case {
        name: "down --to and --steps",
        args: &["down", "--to", "1", "--steps", "2"],
        expect: Refused(&["--to", "--steps", "cannot be used with"]),
        ..CASE
    },
    Case {
        name: "down --to a version that does not parse",
        args: &["down", "--to", "x.y.z-bad"],
        expect: Refused(&["`x.y.z-bad` is not a version"]),
        ..CASE
    },
    Case {
        name: "down --to a version that is not a migration's",
        args: &["down", "--to", "7"],
        expect: Refused(&["version 7 is not one of the migrations"]),
        ..CASE
    },
    Case {
        name: "up --to a version that does not parse",
        args: &["up", "--to", "notaversion"],
        expect: Refused(&["`notaversion` is not a version"]),
        ..CASE
    },
    Case {
        name: "up --to a version that is not a migration's",
        args: &["up", "--to", "7"],
        expect: Refused(&["version 7 is not one of the migrations"]),
        ..CASE
    },
    Case {
        name: "up --transaction all over a no_transaction migration",
        files: &[(
            "migrations/1_index.sql",
            Text("-- trek:no_transaction\nCREATE TABLE bad (id int);\n"),
        )],
        args: &["up", "--transaction", "all"],
        expect: Refused(&["--transaction all", "1_index.sql", "no_transaction"]),
        ..CASE
    },
    Case {
        name: "up --transaction with an unknown mode",
        args: &["up", "--transaction", "some"],
        expect: Refused(&["'some'", "per-migration, all"]),
        ..CASE
    },
    Case {
        name: "baseline without --to",
        args: &["baseline"],
        expect: Refused(&["--to <VERSION>"]),
        ..CASE
    },
    Case {
        name: "baseline --to a version that is not a migration's",
        args: &["baseline", "--to", "7"],
        expect: Refused(&["version 7 is not one of the migrations"]),
        ..CASE
    },
    Case {
        name: "new with an empty name",
        args: &["new", ""],
        expect: Refused(&["no letters or digits"]),
        ..CASE
    },
    Case {
        name: "new with a name of punctuation",
        args: &["new", "!!! ???"],
        expect: Refused(&["`!!! ???`", "no letters or digits"]),
        ..CASE
    },
    Case {
        name: "new with a name too long for a file name",
        args: &["new", LONG_NAME],
        expect: Refused(&["file systems allow 255", "shorten it"]),
        ..CASE
    },
    Case {
        name: "new --down --repeatable",
        args: &["new", "views", "--down", "--repeatable"],
        expect: Refused(&["'--down'", "'--repeatable'"]),
        ..CASE
    },
    Case {
        name: "--color purple",
        args: &["--color", "purple", "status"],
        expect: Refused(&["'purple'", "auto, always, never"]),
        ..CASE
    },
    Case {
        name: "snapshots prune without --keep outside qa",
        args: &["snapshots", "prune"],
        expect: Refused(&["--keep"]),
        ..CASE
    },
    Case {
        name: "audit --limit that is not a number",
        args: &["audit", "--limit", "ten"],
        expect: Refused(&["'ten'", "--limit"]),
        ..CASE
    },
    Case {
        name: "restore from a dump that does not exist",
        args: &["restore", "--from-dump", "/nonexistent/trek-dump.sql"],
        expect: Refused(&["--from-dump", "/nonexistent/trek-dump.sql", "no such file"]),
        ..CASE
    },
    Case {
        name: "drift against a dump that does not exist",
        args: &["drift", "--against", "/nonexistent/trek-dump.sql"],
        expect: Refused(&["--against", "/nonexistent/trek-dump.sql", "no such file"]),
        ..CASE
    },
    Case {
        name: "a manifest that does not exist",
        args: &["up", "--manifest-path", "/nonexistent/Cargo.toml"],
        expect: Refused(&["/nonexistent/Cargo.toml"]),
        ..CASE
    },
];

#[test]
fn every_bad_input_exits_2_names_the_problem_and_applies_nothing() {
    trek_tests::cli::use_binary(env!("CARGO_BIN_EXE_cargo-trek"));
    let refused = CASES
        .iter()
        .filter(|c| matches!(c.expect, Refused(_)))
        .count();
    assert!(refused >= 40, "the corpus has {refused} bad inputs");

    // A few workers, each with a database of its own, emptied between cases.
    let workers = 4;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    let db = TestDb::new(&format!("bad_input_{w}"));
                    CASES
                        .iter()
                        .skip(w)
                        .step_by(workers)
                        .filter_map(|case| run_case(case, &db).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec!["a worker panicked".to_owned()])
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}

/// Runs one case, for people and with `--json`, and checks everything it must do.
fn run_case(case: &Case, db: &TestDb) -> Result<(), String> {
    let project = Project::new("bad_input");
    if !case.bare {
        project.file(VALID, "CREATE TABLE valid (id int);\n");
    }
    for (path, entry) in case.files {
        match entry {
            Text(text) => {
                project.file(path, text);
            }
            Bytes(bytes) => {
                project.file_bytes(path, bytes);
            }
            Symlink(target) => {
                project.symlink(path, target);
            }
            Folder => std::fs::create_dir_all(project.dir().join(path))
                .map_err(|e| format!("{}: mkdir {path}: {e}", case.name))?,
            Unreadable(text) => {
                project.file(path, text);
                let full = project.dir().join(path);
                set_mode(&full, 0o000);
                if std::fs::read(&full).is_ok() {
                    // Root (CI's containers) reads any file: nothing to test here.
                    return Ok(());
                }
            }
        }
    }
    let before = snapshot_of_files(project.dir());

    let result = run_and_check(case, db, &project, &before);
    empty(db);
    // Unreadable files are given back so that the project can be removed.
    for (path, entry) in case.files {
        if matches!(entry, Unreadable(_)) {
            set_mode(&project.dir().join(path), 0o644);
        }
    }
    result
}

/// Runs the case's command for people, then with `--json`, and checks the outputs, the
/// database and the package's files.
fn run_and_check(
    case: &Case,
    db: &TestDb,
    project: &Project,
    before: &[(String, u64)],
) -> Result<(), String> {
    let mut first = None;
    for json in [false, true] {
        let args: Vec<String> = case.args.iter().map(|a| fill(a, &db.url)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut trek = project.trek(&args);
        if json {
            trek = trek.arg("--json");
        }
        if case.database_url && !case.env.iter().any(|(k, _)| *k == "DATABASE_URL") {
            trek = trek.env("DATABASE_URL", &db.url);
        }
        for (key, value) in case.env {
            trek = trek.env(key, fill(value, &db.url));
        }
        let out = trek.run();
        check_output(case, json, &out).map_err(|e| describe(case, json, &out, &e))?;
        first.get_or_insert(out);
    }
    let out = first.expect("ran twice");
    check_database(case, db).map_err(|e| describe(case, false, &out, &e))?;
    let after = snapshot_of_files(project.dir());
    if matches!(case.expect, Refused(_)) && after != before {
        return Err(describe(
            case,
            false,
            &out,
            &format!("the package's files changed:\nbefore {before:?}\nafter  {after:?}"),
        ));
    }
    Ok(())
}

/// `{url}` in `text` replaced by the database's URL (a `?` after it becomes `&` when the URL
/// has options already).
fn fill(text: &str, url: &str) -> String {
    if url.contains('?') {
        text.replace("{url}?", &format!("{url}&"))
            .replace("{url}", url)
    } else {
        text.replace("{url}", url)
    }
}

fn check_output(case: &Case, json: bool, out: &Output) -> Result<(), String> {
    for stream in [&out.stdout, &out.stderr] {
        if stream.contains("panicked") || stream.contains("RUST_BACKTRACE") {
            return Err("it panicked".to_owned());
        }
    }
    if let Some(secret) = case.secret {
        if out.stdout.contains(secret) || out.stderr.contains(secret) {
            return Err(format!("the output shows the password {secret:?}"));
        }
    }
    match case.expect {
        Accepted(_) => {
            if out.code != Some(0) {
                return Err(format!("exit status {:?}, not 0", out.code));
            }
        }
        Refused(fragments) => {
            if out.code != Some(2) {
                return Err(format!("exit status {:?}, not 2", out.code));
            }
            let message = if json {
                if !out.stderr.trim().is_empty() {
                    return Err("with --json, stderr is not empty".to_owned());
                }
                let doc: Value = serde_json::from_str(&out.stdout)
                    .map_err(|e| format!("stdout is not one JSON document: {e}"))?;
                let error = &doc["error"];
                if error["exit_code"] != 2 {
                    return Err(format!(
                        "the JSON error's exit_code is {}",
                        error["exit_code"]
                    ));
                }
                error["message"]
                    .as_str()
                    .ok_or("the JSON error has no message")?
                    .to_owned()
            } else {
                if !out.stdout.is_empty() {
                    return Err("stdout is not empty".to_owned());
                }
                out.stderr.clone()
            };
            for fragment in fragments {
                if !message.contains(fragment) {
                    return Err(format!("the message lacks {fragment:?}"));
                }
            }
        }
    }
    Ok(())
}

/// Checks what the database holds: nothing but trek's (empty) history for a refused case; the
/// expected tables for an accepted one.
fn check_database(case: &Case, db: &TestDb) -> Result<(), String> {
    let mut client = db.client();
    let tables: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'v', 'p') AND n.nspname NOT IN ('pg_catalog', \
             'information_schema', 'trek') AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1",
            &[],
        )
        .map_err(|e| format!("listing tables: {e}"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let has_history: bool = client
        .query_one("SELECT to_regclass('trek.applied') IS NOT NULL", &[])
        .map_err(|e| e.to_string())?
        .get(0);
    let applied: i64 = if has_history {
        client
            .query_one("SELECT count(*) FROM trek.applied", &[])
            .map_err(|e| e.to_string())?
            .get(0)
    } else {
        0
    };
    match case.expect {
        Refused(_) => {
            if !tables.is_empty() || applied != 0 {
                return Err(format!(
                    "something was applied: tables {tables:?}, {applied} row(s) in trek.applied"
                ));
            }
        }
        Accepted(expected) => {
            for table in expected {
                if !tables.iter().any(|t| t == table) {
                    return Err(format!("table {table} is missing: tables {tables:?}"));
                }
            }
        }
    }
    Ok(())
}

/// Drops everything a case may have made, so the next case starts from an empty database.
fn empty(db: &TestDb) {
    db.client()
        .batch_execute(
            "DROP SCHEMA IF EXISTS trek CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;",
        )
        .unwrap_or_else(|e| panic!("emptying {}: {e}", db.name));
}

/// Every path under the package (but `target/`), with its size: what a refused command must
/// leave as it was.
fn snapshot_of_files(dir: &Path) -> Vec<(String, u64)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            if rel == "target" {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path);
            let is_dir = meta.as_ref().is_ok_and(std::fs::Metadata::is_dir);
            out.push((
                rel,
                meta.map_or(0, |m| if m.is_dir() { 0 } else { m.len() }),
            ));
            if is_dir {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn describe(case: &Case, json: bool, out: &Output, problem: &str) -> String {
    format!(
        "case {:?} (cargo trek {}{}): {problem}\n--- stdout\n{}--- stderr\n{}",
        case.name,
        case.args.join(" "),
        if json { " --json" } else { "" },
        out.stdout,
        out.stderr
    )
}
