//! Converting another tool's migrations folder into trek's layout.
//!
//! [`convert`] is pure: it takes the files of a folder ([`SourceFile`], read with
//! [`read_source`] or from anywhere else) and returns trek's files ([`Conversion::files`]),
//! with a line per migration saying where it came from and what changed on the way, and the
//! files it could not convert with why ([`Skipped`]). Nothing is written.
//!
//! | tool | what is read |
//! |---|---|
//! | sqlx | `VERSION_name.sql`, `VERSION_name.up.sql` + `.down.sql`; `-- no-transaction` on the first line |
//! | refinery | `V{n}__name.sql`, `U{n}__name.sql` (unversioned: a versioned trek migration), in subfolders too; a `-- refinery:noTransaction` line |
//! | diesel | `VERSION_name/up.sql`, `down.sql`, `metadata.toml` with `run_in_transaction = false`; the version loses its dashes, as diesel records it (`2024-01-01-120000` → `20240101120000`) |
//! | golang-migrate | `VERSION_name.up.sql` + `.down.sql`; a file that controls its own transaction or holds a statement PostgreSQL refuses in one becomes `no_transaction` (golang-migrate sends a file as one query) |
//! | goose | `VERSION_name.sql` with `-- +goose Up` / `Down`, `StatementBegin` / `StatementEnd`, `NO TRANSACTION`; `.go` migrations are reported as not importable |
//! | dbmate | `VERSION_name.sql` with `-- migrate:up` / `-- migrate:down`, each optionally `transaction:false` |
//! | Flyway | `V{version}__desc.sql` (`1_1` is `1.1`), `U{version}__desc.sql` undo (the down), `R__desc.sql` repeatables (`repeatable/desc.sql`), `.sql.conf` files with `executeInTransaction=false`; in subfolders too |
//!
//! Versions keep their text (leading zeros included) and their order; two migrations whose
//! versions compare equal in trek (`1` and `01`, Flyway's `1.1` and `1_1`, refinery's `V1` and
//! `U1`) are an error naming both. Every transaction opt-out becomes `-- trek:no_transaction`
//! at the top of the up script and of its down. A down that holds no statement becomes trek's
//! irreversible form: a down of comments only.
//!
//! ```
//! use trek_core::import::{convert, SourceFile, Tool};
//!
//! let files = [SourceFile::new(
//!     "20240101000000_create_users.sql",
//!     "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (c);\n\n-- migrate:down\nDROP INDEX i;\n",
//! )];
//! let conversion = convert(Tool::Dbmate, &files).expect("a dbmate folder");
//! let out = conversion.files();
//! assert_eq!(out[0].path, "20240101000000_create_users.sql");
//! assert!(out[0].contents.starts_with("-- trek:no_transaction\n"));
//! assert_eq!(out[1].path, "20240101000000_create_users.down.sql");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use walkdir::WalkDir;

use crate::{split, Kind, Version};

/// The tools whose folders [`convert`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// sqlx (`sqlx migrate`): simple and reversible migrations.
    Sqlx,
    /// refinery.
    Refinery,
    /// diesel (`diesel migration`).
    Diesel,
    /// golang-migrate (`migrate`).
    GolangMigrate,
    /// goose.
    Goose,
    /// dbmate.
    Dbmate,
    /// Flyway.
    Flyway,
}

impl Tool {
    /// Every tool, in the order the documentation lists them.
    pub const ALL: [Tool; 7] = [
        Tool::Sqlx,
        Tool::Refinery,
        Tool::Diesel,
        Tool::GolangMigrate,
        Tool::Goose,
        Tool::Dbmate,
        Tool::Flyway,
    ];

    /// The tool's name as `--from` takes it: `sqlx`, `refinery`, `diesel`, `golang-migrate`,
    /// `goose`, `dbmate`, `flyway`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::Diesel => "diesel",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Goose => "goose",
            Tool::Dbmate => "dbmate",
            Tool::Flyway => "flyway",
        }
    }

    /// Parses a name of [`Tool::as_str`] (any letter case; `migrate` for golang-migrate);
    /// `None` for anything else.
    pub fn parse(name: &str) -> Option<Tool> {
        let name = name.to_ascii_lowercase();
        if name == "migrate" {
            return Some(Tool::GolangMigrate);
        }
        Tool::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Where the tool keeps its migrations unless told otherwise, relative to the project:
    /// `db/migrations` for dbmate, `src/main/resources/db/migration` for Flyway,
    /// `migrations` for the others.
    pub const fn default_source(self) -> &'static str {
        match self {
            Tool::Dbmate => "db/migrations",
            Tool::Flyway => "src/main/resources/db/migration",
            _ => "migrations",
        }
    }

    /// The table the tool records applied migrations in, by default.
    pub const fn history_table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Refinery => "refinery_schema_history",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::GolangMigrate | Tool::Dbmate => "schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::Flyway => "flyway_schema_history",
        }
    }

    /// Whether the tool looks for migrations in subfolders too (refinery and Flyway do; diesel
    /// reads one folder per migration).
    const fn recursive(self) -> bool {
        matches!(self, Tool::Refinery | Tool::Flyway | Tool::Diesel)
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of the folder being imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path relative to the folder, with `/` separators.
    pub path: String,
    /// The bytes of the file.
    pub contents: Vec<u8>,
}

impl SourceFile {
    /// A file at `path` (relative, `/`-separated) holding `contents`.
    pub fn new(path: impl Into<String>, contents: impl Into<Vec<u8>>) -> SourceFile {
        SourceFile {
            path: path.into(),
            contents: contents.into(),
        }
    }
}

/// Reads every file under `dir` (hidden files and folders skipped, symbolic links followed),
/// sorted by path, for [`convert`].
///
/// # Errors
/// When the folder or a file in it cannot be read: the error's message names the file (or
/// folder) and says why.
pub fn read_source(dir: &Path) -> io::Result<Vec<SourceFile>> {
    let named = |path: &Path, e: io::Error| {
        io::Error::new(e.kind(), format!("could not read {}: {e}", path.display()))
    };
    let mut files = Vec::new();
    for entry in WalkDir::new(dir)
        .min_depth(1)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'))
    {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_owned();
            let cause = e
                .io_error()
                .map_or_else(|| e.to_string(), ToString::to_string);
            named(&path, io::Error::other(cause))
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        files.push(SourceFile {
            path: rel,
            contents: fs::read(entry.path()).map_err(|e| named(entry.path(), e))?,
        });
    }
    Ok(files)
}

/// A file of trek's layout, with its path relative to the migrations folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// `VERSION_name.sql`, `VERSION_name.down.sql` or `repeatable/NAME.sql`.
    pub path: String,
    /// The script.
    pub contents: String,
}

/// One migration as converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// A versioned migration or a repeatable.
    pub kind: Kind,
    /// The version (`None` for repeatables).
    pub version: Option<Version>,
    /// The description (a repeatable's name).
    pub name: String,
    /// The files it came from, relative to the source folder.
    pub sources: Vec<String>,
    /// The up script.
    pub up: OutputFile,
    /// The down script, when the tool had one (an irreversible one when it held no statement).
    pub down: Option<OutputFile>,
    /// Whether both scripts say `-- trek:no_transaction`.
    pub no_transaction: bool,
    /// Whether the down holds no statement: trek refuses to revert the migration.
    pub irreversible: bool,
    /// What changed on the way, or what to check, for people.
    pub notes: Vec<String>,
}

/// A file that was not converted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file, relative to the source folder.
    pub path: String,
    /// Why it was not converted.
    pub reason: String,
}

/// The result of [`convert`]: the migrations in trek's order, and the files left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conversion {
    /// Versioned migrations in version order, then repeatables in name order.
    pub migrations: Vec<Converted>,
    /// Files that are not migrations trek can run, with why.
    pub skipped: Vec<Skipped>,
}

impl Conversion {
    /// Every file to write, in the order of [`Conversion::migrations`], each up before its down.
    pub fn files(&self) -> Vec<&OutputFile> {
        self.migrations
            .iter()
            .flat_map(|m| std::iter::once(&m.up).chain(m.down.as_ref()))
            .collect()
    }
}

/// A file that cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file, relative to the source folder.
    pub path: String,
    /// The 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path, line, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Every problem of a folder, one [`ImportError`] per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportErrors(pub Vec<ImportError>);

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// Converts the files of `tool`'s migrations folder into trek's layout.
///
/// # Errors
/// Every problem at once, each naming its file: two migrations whose versions collide in trek
/// (naming both), a file that is not UTF-8, a goose file without `-- +goose Up`, a dbmate file
/// without `-- migrate:up`, a down without its up, a version too large for trek.
pub fn convert(tool: Tool, files: &[SourceFile]) -> Result<Conversion, ImportErrors> {
    let mut state = State::default();
    let mut texts: Vec<(&str, String)> = Vec::new();
    for file in files {
        if file.path.split('/').any(|p| p.starts_with('.')) {
            continue;
        }
        if !tool.recursive() && file.path.contains('/') {
            continue;
        }
        match String::from_utf8(file.contents.clone()) {
            // A byte-order mark would hide a first-line annotation; trek's reader skips one too.
            Ok(text) => texts.push((
                &file.path,
                text.strip_prefix('\u{feff}')
                    .map_or(text.clone(), str::to_owned),
            )),
            Err(_) if !file.path.ends_with(".sql") => texts.push((&file.path, String::new())),
            Err(e) => state.error(
                &file.path,
                None,
                format!(
                    "not valid UTF-8 (at byte {}): trek reads scripts as UTF-8; convert the file",
                    e.utf8_error().valid_up_to()
                ),
            ),
        }
    }
    // Whatever order the caller gives, the result (and which file of two is reported) is the
    // same.
    texts.sort_by(|a, b| a.0.cmp(b.0));
    match tool {
        Tool::Sqlx => sqlx(&mut state, &texts),
        Tool::Refinery => refinery(&mut state, &texts),
        Tool::Diesel => diesel(&mut state, &texts),
        Tool::GolangMigrate => golang_migrate(&mut state, &texts),
        Tool::Goose => goose(&mut state, &texts),
        Tool::Dbmate => dbmate(&mut state, &texts),
        Tool::Flyway => flyway(&mut state, &texts),
    }
    state.finish(tool)
}

/// A migration read from the source, before it is written in trek's layout.
#[derive(Debug, Default)]
struct Parsed {
    version: Option<Version>,
    name: String,
    sources: Vec<String>,
    up: String,
    down: Option<String>,
    /// The up script opts out of the transaction.
    no_tx: bool,
    /// The down script alone opts out.
    down_no_tx: bool,
    /// golang-migrate, and Flyway without a `.conf`: infer `no_transaction` from the
    /// statements.
    infer: bool,
    notes: Vec<String>,
}

#[derive(Default)]
struct State {
    parsed: Vec<Parsed>,
    skipped: Vec<Skipped>,
    errors: Vec<ImportError>,
}

impl State {
    fn error(&mut self, path: &str, line: Option<usize>, message: String) {
        self.errors.push(ImportError {
            path: path.to_owned(),
            line,
            message,
        });
    }

    fn skip(&mut self, path: &str, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            path: path.to_owned(),
            reason: reason.into(),
        });
    }

    /// Parses the version text of `path`, or records why it is not a trek version.
    fn version(&mut self, path: &str, text: &str) -> Option<Version> {
        match Version::parse(text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(path, None, format!("{e}; rename the file"));
                None
            }
        }
    }

    fn finish(mut self, tool: Tool) -> Result<Conversion, ImportErrors> {
        // Collisions: equal versions (numerically), or repeatables of one name.
        let mut seen: BTreeMap<(bool, Vec<u64>, String), usize> = BTreeMap::new();
        let mut collisions = Vec::new();
        for (i, p) in self.parsed.iter().enumerate() {
            let key = match &p.version {
                Some(v) => (false, v.parts().to_vec(), String::new()),
                None => (true, Vec::new(), p.name.clone()),
            };
            if let Some(&j) = seen.get(&key) {
                let other = &self.parsed[j];
                let what = match &p.version {
                    Some(v) => format!(
                        "versions `{}` and `{}` are the same version in trek (versions compare as numbers)",
                        other.version.as_ref().map_or("", Version::as_str),
                        v
                    ),
                    None => format!("both are the repeatable `{}`", p.name),
                };
                let message = format!(
                    "collides with {}: {what}; renumber one of them before importing",
                    other.sources[0]
                );
                collisions.push(ImportError {
                    path: p.sources[0].clone(),
                    line: None,
                    message,
                });
            } else {
                seen.insert(key, i);
            }
        }
        self.errors.extend(collisions);
        if !self.errors.is_empty() {
            self.errors
                .sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
            return Err(ImportErrors(self.errors));
        }
        self.parsed.sort_by(|a, b| match (&a.version, &b.version) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.cmp(&b.name),
        });
        let migrations = self.parsed.into_iter().map(|p| write(tool, p)).collect();
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Conversion {
            migrations,
            skipped: self.skipped,
        })
    }
}

/// Whether a script holds no statement (empty, or comments only).
fn is_empty(sql: &str) -> bool {
    split::split(sql).is_empty()
}

/// The first statement that controls the transaction or cannot run inside one.
fn needs_no_transaction(sql: &str) -> Option<&'static str> {
    split::split(sql).iter().find_map(|s| {
        split::transaction_control(s.text)
            .or_else(|| split::outside_transaction(s.text).filter(|w| !w.starts_with("ALTER TYPE")))
    })
}

/// Writes one parsed migration in trek's layout.
fn write(tool: Tool, mut p: Parsed) -> Converted {
    let mut up = tidy(&p.up);
    // golang-migrate sends a file as one query, so a file PostgreSQL could not run in a
    // transaction ran as sent; elsewhere, a script that runs its own transaction cannot run in
    // trek's either.
    let needs = |sql: &str| {
        if p.infer {
            needs_no_transaction(sql)
        } else {
            split::split(sql)
                .iter()
                .find_map(|s| split::transaction_control(s.text))
        }
    };
    let why = |what: &str| {
        if p.infer && tool == Tool::Flyway {
            format!("it holds {what}, which Flyway runs outside a transaction by itself")
        } else if p.infer {
            format!("it holds {what}, which golang-migrate ran as sent")
        } else {
            format!("it runs its own {what}")
        }
    };
    if !p.no_tx {
        if let Some(what) = needs(&up) {
            p.no_tx = true;
            p.notes.push(format!("no_transaction: {}", why(what)));
        }
    }
    if !p.no_tx && !p.down_no_tx {
        if let Some(what) = p.down.as_deref().and_then(needs) {
            p.down_no_tx = true;
            p.notes.push(format!("down no_transaction: {}", why(what)));
        }
    }
    if is_empty(&up) {
        p.notes
            .push("the up script held no statement: trek runs `SELECT;` in its place".to_owned());
        up.push_str("SELECT;\n");
    }
    // A file with CRLF line ends gets them on every line trek writes too.
    let crlf = p.up.contains("\r\n");
    let directive = "-- trek:no_transaction\n";
    let (kind, path) = match &p.version {
        Some(v) => (Kind::Versioned, format!("{v}_{}", p.name)),
        None => (Kind::Repeatable, format!("repeatable/{}", p.name)),
    };
    let up_text = if p.no_tx {
        format!("{directive}{up}")
    } else {
        up
    };
    let mut irreversible = false;
    let down = p.down.take().map(|down| {
        let mut text = tidy(&down);
        if is_empty(&text) {
            irreversible = true;
            text = format!(
                "-- Not reversible: the {tool} down script held no statement.\n{}",
                text.trim_end()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| format!("{l}\n"))
                    .collect::<String>()
            );
        }
        let text = if (p.no_tx || p.down_no_tx) && !irreversible {
            format!("{directive}{text}")
        } else {
            text
        };
        OutputFile {
            path: format!("{path}.down.sql"),
            contents: line_ends(&text, crlf),
        }
    });
    Converted {
        kind,
        version: p.version,
        name: p.name,
        sources: p.sources,
        up: OutputFile {
            path: format!("{path}.sql"),
            contents: line_ends(&up_text, crlf),
        },
        down,
        no_transaction: p.no_tx,
        irreversible,
        notes: p.notes,
    }
}

/// `text` with every line ending in `\r\n` when `crlf`, else as it is.
fn line_ends(text: &str, crlf: bool) -> String {
    if crlf {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text.to_owned()
    }
}

/// The script without the blank lines around it, ending in one newline (empty when blank).
fn tidy(sql: &str) -> String {
    let body = sql.trim_start_matches(['\n', '\r']).trim_end();
    if body.is_empty() {
        String::new()
    } else {
        format!("{body}\n")
    }
}

/// The stem of a file name without `suffix`, when it ends with it.
fn strip<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    name.strip_suffix(suffix)
}

/// `VERSION_name` → (`VERSION`, `name`) when VERSION is all digits.
fn digits_and_name(stem: &str) -> Option<(&str, &str)> {
    let (version, name) = stem.split_once('_')?;
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())).then_some((version, name))
}

fn name_or_default(name: &str) -> String {
    if name.is_empty() {
        "migration".to_owned()
    } else {
        name.to_owned()
    }
}

/// Pairs up and down files keyed by version: `(version text, name, up, down)`.
type Pairs<'a> = BTreeMap<Vec<u64>, PairEntry<'a>>;

#[derive(Default)]
struct PairEntry<'a> {
    version: Option<Version>,
    name: String,
    up: Vec<(&'a str, &'a str)>,
    down: Vec<(&'a str, &'a str)>,
}

/// sqlx and golang-migrate: `VERSION_name.up.sql` + `.down.sql` (and for sqlx, `VERSION_name.sql`).
fn up_down_pairs<'a>(tool: Tool, state: &mut State, texts: &'a [(&'a str, String)]) -> Pairs<'a> {
    let mut pairs: Pairs<'a> = BTreeMap::new();
    for (path, text) in texts {
        let path: &str = path;
        let rule = match tool {
            Tool::Sqlx => "sqlx names migrations VERSION_name.sql, or .up.sql and .down.sql",
            _ => "golang-migrate names migrations VERSION_name.up.sql and VERSION_name.down.sql",
        };
        let (stem, down) = if let Some(stem) = strip(path, ".down.sql") {
            (stem, true)
        } else if let Some(stem) = strip(path, ".up.sql") {
            (stem, false)
        } else if let Some(stem) = strip(path, ".sql").filter(|_| tool == Tool::Sqlx) {
            (stem, false)
        } else {
            state.skip(path, format!("not a migration ({rule})"));
            continue;
        };
        let Some((version, name)) = digits_and_name(stem) else {
            state.skip(path, format!("not a migration ({rule})"));
            continue;
        };
        let Some(v) = state.version(path, version) else {
            continue;
        };
        let entry = pairs.entry(v.parts().to_vec()).or_default();
        if down {
            entry.down.push((path, text));
        } else {
            entry.up.push((path, text));
            if entry.version.is_none() {
                entry.version = Some(v);
                entry.name = name_or_default(name);
            }
        }
    }
    pairs
}

fn sqlx(state: &mut State, texts: &[(&str, String)]) {
    for (_, entry) in up_down_pairs(Tool::Sqlx, state, texts) {
        if let Some(mut p) = pair(state, entry, |sql| {
            // sqlx: `-- no-transaction` as the first line.
            match sql.strip_prefix("-- no-transaction") {
                Some(rest) if rest.is_empty() || rest.starts_with(['\n', '\r']) => {
                    (true, rest.trim_start_matches(['\r', '\n']).to_owned())
                }
                _ => (false, sql.to_owned()),
            }
        }) {
            if p.no_tx {
                p.notes.push("no_transaction: -- no-transaction".to_owned());
            } else if p.down_no_tx {
                p.notes
                    .push("down no_transaction: -- no-transaction".to_owned());
            }
            state.parsed.push(p);
        }
    }
}

fn golang_migrate(state: &mut State, texts: &[(&str, String)]) {
    for (_, entry) in up_down_pairs(Tool::GolangMigrate, state, texts) {
        if let Some(mut p) = pair(state, entry, |sql| (false, sql.to_owned())) {
            p.infer = true;
            state.parsed.push(p);
        }
    }
}

/// Checks one version's files: one up, at most one down. `read` strips the tool's
/// transaction opt-out and says whether it was there.
fn pair(
    state: &mut State,
    entry: PairEntry<'_>,
    read: impl Fn(&str) -> (bool, String),
) -> Option<Parsed> {
    let Some(&(up_path, up_sql)) = entry.up.first() else {
        for (path, _) in &entry.down {
            state.error(
                path,
                None,
                "a down script without its up script: add the up script or delete this file"
                    .to_owned(),
            );
        }
        return None;
    };
    for (path, _) in entry.up.iter().skip(1).chain(entry.down.iter().skip(1)) {
        state.error(
            path,
            None,
            format!("collides with {up_path}: two migrations of one version; renumber one of them before importing"),
        );
    }
    let (no_tx, up) = read(up_sql);
    let mut sources = vec![up_path.to_owned()];
    let (down_no_tx, down) = match entry.down.first() {
        Some(&(path, sql)) => {
            sources.push(path.to_owned());
            let (no_tx, sql) = read(sql);
            (no_tx, Some(sql))
        }
        None => (false, None),
    };
    Some(Parsed {
        version: entry.version,
        name: entry.name,
        sources,
        up,
        down,
        no_tx,
        down_no_tx,
        ..Parsed::default()
    })
}

fn refinery(state: &mut State, texts: &[(&str, String)]) {
    for (path, text) in texts {
        let file = path.rsplit('/').next().unwrap_or(path);
        if file.ends_with(".rs") && (file.starts_with('V') || file.starts_with('U')) {
            state.skip(
                path,
                "a Rust migration: refinery runs it as compiled code; rewrite it as SQL",
            );
            continue;
        }
        let parsed = strip(file, ".sql").and_then(|stem| {
            let prefix = stem.chars().next()?;
            let (version, name) = stem[1..].split_once("__")?;
            (matches!(prefix, 'V' | 'U')
                && !version.is_empty()
                && version.bytes().all(|b| b.is_ascii_digit())
                && !name.is_empty())
            .then_some((prefix, version, name))
        });
        let Some((prefix, version, name)) = parsed else {
            state.skip(
                path,
                "not a migration (refinery names migrations V{n}__name.sql or U{n}__name.sql)",
            );
            continue;
        };
        let Some(version) = state.version(path, version) else {
            continue;
        };
        let no_tx = text.lines().any(|l| {
            let l = l.trim_end();
            l.starts_with("--")
                && l.trim_start_matches('-').trim_start() == "refinery:noTransaction"
        });
        let mut notes = Vec::new();
        if no_tx {
            notes.push("no_transaction: refinery:noTransaction".to_owned());
        }
        if prefix == 'U' {
            notes.push("unversioned in refinery: trek applies it in version order".to_owned());
        }
        state.parsed.push(Parsed {
            version: Some(version),
            name: name.to_owned(),
            sources: vec![(*path).to_owned()],
            up: text.clone(),
            no_tx,
            notes,
            ..Parsed::default()
        });
    }
}

fn diesel(state: &mut State, texts: &[(&str, String)]) {
    let mut dirs: BTreeMap<&str, BTreeMap<&str, (&str, &str)>> = BTreeMap::new();
    for (path, text) in texts {
        match path.split_once('/') {
            Some((dir, file)) if !file.contains('/') => {
                dirs.entry(dir).or_default().insert(file, (path, text));
            }
            Some(_) => state.skip(
                path,
                "not a migration (diesel reads MIGRATIONS/VERSION_name/up.sql)",
            ),
            None => state.skip(
                path,
                "not a migration (diesel reads one folder per migration: VERSION_name/up.sql)",
            ),
        }
    }
    for (dir, files) in dirs {
        let Some(&(up_path, up)) = files.get("up.sql") else {
            for (_, (path, _)) in files {
                state.skip(path, "not in a migration folder (no up.sql beside it)");
            }
            continue;
        };
        let Some((raw, name)) = dir.split_once('_') else {
            state.skip(
                dir,
                "not a migration (diesel names a migration's folder VERSION_name)",
            );
            continue;
        };
        // diesel records the version without its dashes (`2024-01-01-120000` → `20240101120000`).
        let version_text: String = raw.chars().filter(|&c| c != '-').collect();
        if version_text.is_empty() || !version_text.bytes().all(|b| b.is_ascii_digit()) {
            state.skip(
                dir,
                "not a migration (diesel names a migration's folder VERSION_name)",
            );
            continue;
        }
        let Some(version) = state.version(up_path, &version_text) else {
            continue;
        };
        let mut sources = vec![up_path.to_owned()];
        let down = files.get("down.sql").map(|&(path, sql)| {
            sources.push(path.to_owned());
            sql.to_owned()
        });
        let mut no_tx = false;
        let mut notes = Vec::new();
        if let Some(&(path, metadata)) = files.get("metadata.toml") {
            sources.push(path.to_owned());
            match metadata.parse::<toml::Table>() {
                Ok(table) => match table.get("run_in_transaction") {
                    None => {}
                    Some(toml::Value::Boolean(value)) => no_tx = !value,
                    Some(other) => state.error(
                        path,
                        None,
                        format!(
                            "run_in_transaction is {other}, not true or false, and diesel \
                             would refuse it: fix metadata.toml"
                        ),
                    ),
                },
                Err(e) => state.error(
                    path,
                    e.span().map(|span| {
                        metadata[..span.start.min(metadata.len())]
                            .matches('\n')
                            .count()
                            + 1
                    }),
                    format!(
                        "not valid TOML ({}), and diesel would refuse it: fix metadata.toml",
                        e.message()
                    ),
                ),
            }
            if no_tx {
                notes.push("no_transaction: run_in_transaction = false".to_owned());
            }
        }
        for (file, (path, _)) in &files {
            if !matches!(*file, "up.sql" | "down.sql" | "metadata.toml") {
                state.skip(
                    path,
                    "not part of a diesel migration (up.sql, down.sql, metadata.toml)",
                );
            }
        }
        if raw != version.as_str() {
            notes.push(format!(
                "version {version}: diesel's `{raw}` without dashes, as diesel records it"
            ));
        }
        state.parsed.push(Parsed {
            version: Some(version),
            name: name_or_default(name),
            sources,
            up: up.to_owned(),
            down,
            no_tx,
            notes,
            ..Parsed::default()
        });
    }
}

/// goose: `-- +goose Up`, `-- +goose Down`, `StatementBegin`/`End`, `NO TRANSACTION`.
fn goose(state: &mut State, texts: &[(&str, String)]) {
    for (path, text) in texts {
        if let Some(stem) = strip(path, ".go") {
            if digits_and_name(stem).is_some() {
                state.skip(path, "a Go migration: goose runs it as compiled Go code; rewrite it as SQL (its version stays unknown to trek)");
            }
            continue;
        }
        let Some((version, name)) = strip(path, ".sql").and_then(digits_and_name) else {
            state.skip(
                path,
                "not a migration (goose names migrations VERSION_name.sql)",
            );
            continue;
        };
        let Some(version) = state.version(path, version) else {
            continue;
        };
        let mut up = String::new();
        let mut down: Option<String> = None;
        let mut section = 0; // 0 before Up, 1 Up, 2 Down
        let mut no_tx = false;
        let mut notes = Vec::new();
        let mut up_line = None;
        // The line of a `StatementBegin` not ended yet.
        let mut open: Option<usize> = None;
        let unclosed = |state: &mut State, open: &mut Option<usize>| {
            if let Some(at) = open.take() {
                state.error(
                    path,
                    Some(at),
                    "`-- +goose StatementBegin` without its `-- +goose StatementEnd`: goose would \
                     refuse this file too; end the statement"
                        .to_owned(),
                );
            }
        };
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let annotation = line
                .trim()
                .strip_prefix("--")
                .map(str::trim_start)
                .and_then(|l| l.strip_prefix("+goose"))
                .map(|a| a.trim().to_ascii_lowercase());
            match annotation.as_deref() {
                Some("up") => {
                    unclosed(state, &mut open);
                    section = 1;
                    up_line.get_or_insert(i + 1);
                }
                Some("down") if section == 0 => {
                    state.error(
                        path,
                        Some(i + 1),
                        "`-- +goose Down` before `-- +goose Up`: goose would refuse this file \
                         too; put the up statements first"
                            .to_owned(),
                    );
                    section = 2;
                }
                Some("down") => {
                    unclosed(state, &mut open);
                    section = 2;
                    down.get_or_insert_with(String::new);
                }
                Some("statementbegin") => {
                    unclosed(state, &mut open);
                    open = Some(i + 1);
                }
                Some("statementend") if open.is_none() => {
                    state.error(
                        path,
                        Some(i + 1),
                        "`-- +goose StatementEnd` without a `-- +goose StatementBegin` before \
                         it: goose would refuse this file too"
                            .to_owned(),
                    );
                }
                Some("statementend") => open = None,
                Some("no transaction") => {
                    no_tx = true;
                    notes.push("no_transaction: +goose NO TRANSACTION".to_owned());
                }
                Some(a) if a.starts_with("envsub") => {
                    if a == "envsub on" {
                        notes.push("goose substituted ${VAR} from the environment in it; trek does not: check the script".to_owned());
                    }
                }
                Some(other) => {
                    state.error(
                        path,
                        Some(i + 1),
                        format!("unknown goose annotation `+goose {other}`: remove it or rewrite the file"),
                    );
                }
                None => match section {
                    1 => up.push_str(line),
                    2 => down.get_or_insert_with(String::new).push_str(line),
                    _ => {}
                },
            }
        }
        unclosed(state, &mut open);
        if up_line.is_none() {
            state.error(
                path,
                None,
                "no `-- +goose Up` annotation: goose would refuse this file too; add it above the up statements".to_owned(),
            );
            continue;
        }
        state.parsed.push(Parsed {
            version: Some(version),
            name: name_or_default(name),
            sources: vec![(*path).to_owned()],
            up,
            down,
            no_tx,
            notes,
            ..Parsed::default()
        });
    }
}

/// dbmate: `-- migrate:up [transaction:false]`, `-- migrate:down [transaction:false]`.
fn dbmate(state: &mut State, texts: &[(&str, String)]) {
    for (path, text) in texts {
        let Some((version, name)) = strip(path, ".sql").and_then(digits_and_name) else {
            state.skip(
                path,
                "not a migration (dbmate names migrations VERSION_name.sql)",
            );
            continue;
        };
        let Some(version) = state.version(path, version) else {
            continue;
        };
        let mut up = None::<String>;
        let mut down = None::<String>;
        let mut section = 0;
        let (mut no_tx, mut down_no_tx) = (false, false);
        let mut notes = Vec::new();
        for line in text.split_inclusive('\n') {
            let marker = line
                .trim()
                .strip_prefix("--")
                .map(str::trim_start)
                .and_then(|l| l.strip_prefix("migrate:"));
            match marker {
                Some(rest) if rest.starts_with("up") || rest.starts_with("down") => {
                    let is_up = rest.starts_with("up");
                    let off = rest
                        .split_whitespace()
                        .any(|o| o.eq_ignore_ascii_case("transaction:false"));
                    if is_up {
                        section = 1;
                        up.get_or_insert_with(String::new);
                        no_tx |= off;
                    } else {
                        section = 2;
                        down.get_or_insert_with(String::new);
                        down_no_tx |= off;
                    }
                }
                _ => match section {
                    1 => up.get_or_insert_with(String::new).push_str(line),
                    2 => down.get_or_insert_with(String::new).push_str(line),
                    _ => {}
                },
            }
        }
        if no_tx {
            notes.push("no_transaction: migrate:up transaction:false".to_owned());
        } else if down_no_tx {
            notes.push("down no_transaction: migrate:down transaction:false".to_owned());
        }
        let Some(up) = up else {
            state.error(
                path,
                None,
                "no `-- migrate:up` line: dbmate would refuse this file too; add it above the up statements".to_owned(),
            );
            continue;
        };
        state.parsed.push(Parsed {
            version: Some(version),
            name: name_or_default(name),
            sources: vec![(*path).to_owned()],
            up,
            down,
            no_tx,
            down_no_tx,
            notes,
            ..Parsed::default()
        });
    }
}

/// Flyway: `V`, `U` (undo), `R__` (repeatable), `.sql.conf` script configuration.
fn flyway(state: &mut State, texts: &[(&str, String)]) {
    let confs: BTreeMap<&str, &str> = texts
        .iter()
        .filter_map(|(p, t)| Some((strip(p, ".conf")?, t.as_str())))
        .collect();
    let no_tx_conf = |path: &str| {
        confs.get(path).is_some_and(|conf| {
            conf.lines().any(|l| {
                let mut kv = l.splitn(2, '=');
                kv.next().map(str::trim) == Some("executeInTransaction")
                    && kv.next().map(str::trim) == Some("false")
            })
        })
    };
    let mut undos: BTreeMap<Vec<u64>, (&str, &str, bool)> = BTreeMap::new();
    let mut start = state.parsed.len();
    for (path, text) in texts {
        let path: &str = path;
        if path.ends_with(".sql.conf") {
            continue;
        }
        let file = path.rsplit('/').next().unwrap_or(path);
        let Some(stem) = strip(file, ".sql") else {
            state.skip(path, "not an SQL migration (Flyway's Java migrations and other files cannot be imported)");
            continue;
        };
        let Some((head, desc)) = stem.split_once("__") else {
            state.skip(path, "a Flyway callback or not a migration (Flyway names migrations V{version}__desc.sql, U… undo, R__desc.sql)");
            continue;
        };
        let notes_for = |text: &str| {
            let mut notes = Vec::new();
            if text.contains("${") {
                notes.push("holds `${…}`, which Flyway replaces with placeholders; trek does not: check the script".to_owned());
            }
            notes
        };
        let prefix = head.chars().next().unwrap_or(' ');
        let version_text = head.get(1..).unwrap_or("").replace('_', ".");
        if prefix == 'R' && version_text.is_empty() {
            if desc.is_empty() {
                state.skip(path, "a repeatable without a description");
                continue;
            }
            let no_tx = no_tx_conf(path);
            let mut notes = notes_for(text);
            if no_tx {
                notes.push("no_transaction: executeInTransaction=false".to_owned());
            }
            notes.push(
                "repeatable: trek runs it after the migrations whenever it changes, as Flyway does"
                    .to_owned(),
            );
            state.parsed.push(Parsed {
                name: desc.to_owned(),
                sources: vec![path.to_owned()],
                up: text.clone(),
                no_tx,
                infer: !confs.contains_key(path),
                notes,
                ..Parsed::default()
            });
            continue;
        }
        if !matches!(prefix, 'V' | 'U' | 'B') || version_text.is_empty() {
            state.skip(path, "a Flyway callback or not a migration (Flyway names migrations V{version}__desc.sql, U… undo, R__desc.sql)");
            continue;
        }
        if prefix == 'B' {
            state.skip(path, "a Flyway baseline migration: trek does not run one in place of the migrations before it; adopt the history instead (`import --history`)");
            continue;
        }
        let Some(version) = state.version(path, &version_text) else {
            continue;
        };
        if prefix == 'U' {
            let no_tx = no_tx_conf(path);
            if let Some((other, _, _)) = undos.insert(version.parts().to_vec(), (path, text, no_tx))
            {
                state.error(
                    path,
                    None,
                    format!("collides with {other}: two undo scripts of version {version}"),
                );
            }
            continue;
        }
        let no_tx = no_tx_conf(path);
        let mut notes = notes_for(text);
        let mut sources = vec![path.to_owned()];
        if confs.contains_key(path) {
            sources.push(format!("{path}.conf"));
        }
        if no_tx {
            notes.push("no_transaction: executeInTransaction=false".to_owned());
        }
        state.parsed.push(Parsed {
            version: Some(version),
            name: if desc.is_empty() {
                "migration".to_owned()
            } else {
                desc.to_owned()
            },
            sources,
            up: text.clone(),
            no_tx,
            // Flyway runs a script holding such a statement outside a transaction by itself,
            // unless its `.conf` says otherwise.
            infer: !confs.contains_key(path),
            notes,
            ..Parsed::default()
        });
    }
    while start < state.parsed.len() {
        let p = &mut state.parsed[start];
        start += 1;
        let Some(v) = &p.version else { continue };
        if let Some((path, text, no_tx)) = undos.remove(v.parts()) {
            p.sources.push(path.to_owned());
            p.down = Some(text.to_owned());
            p.down_no_tx = no_tx;
        }
    }
    for (_, (path, _, _)) in undos {
        state.error(
            path,
            None,
            "an undo script without its versioned migration: add the migration or delete this file"
                .to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<SourceFile> {
        list.iter().map(|(p, t)| SourceFile::new(*p, *t)).collect()
    }

    fn ok(tool: Tool, list: &[(&str, &str)]) -> Conversion {
        let conversion = convert(tool, &files(list)).unwrap_or_else(|e| panic!("{e}"));
        valid_trek_folder(&conversion);
        conversion
    }

    fn err(tool: Tool, list: &[(&str, &str)]) -> Vec<String> {
        match convert(tool, &files(list)) {
            Ok(c) => panic!("expected errors, got {c:?}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    /// What was converted is a folder trek reads without a problem.
    fn valid_trek_folder(conversion: &Conversion) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "trek-import-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        for f in conversion.files() {
            let path = dir.join(&f.path);
            fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            fs::write(&path, &f.contents).expect("write");
        }
        if !conversion.migrations.is_empty() {
            let read = crate::source::read_dir(&dir);
            let _ = fs::remove_dir_all(&dir);
            let set = read.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(set.len(), conversion.migrations.len());
        }
    }

    fn file<'c>(c: &'c Conversion, path: &str) -> &'c str {
        c.files()
            .into_iter()
            .find(|f| f.path == path)
            .map(|f| f.contents.as_str())
            .unwrap_or_else(|| panic!("no {path} in {:?}", c.files()))
    }

    #[test]
    fn tools_parse_by_name() {
        for tool in Tool::ALL {
            assert_eq!(Tool::parse(tool.as_str()), Some(tool));
        }
        assert_eq!(Tool::parse("migrate"), Some(Tool::GolangMigrate));
        assert_eq!(Tool::parse("Flyway"), Some(Tool::Flyway));
        assert_eq!(Tool::parse("liquibase"), None);
    }

    #[test]
    fn sqlx_simple_reversible_and_no_transaction() {
        let c = ok(
            Tool::Sqlx,
            &[
                ("20240101000000_users.sql", "CREATE TABLE users (id int);\n"),
                (
                    "20240102000000_idx.up.sql",
                    "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON users (id);\n",
                ),
                ("20240102000000_idx.down.sql", "DROP INDEX i;\n"),
                ("README.md", "notes"),
            ],
        );
        assert_eq!(c.migrations.len(), 2);
        assert_eq!(
            file(&c, "20240101000000_users.sql"),
            "CREATE TABLE users (id int);\n"
        );
        assert_eq!(
            file(&c, "20240102000000_idx.sql"),
            "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY i ON users (id);\n"
        );
        assert_eq!(
            file(&c, "20240102000000_idx.down.sql"),
            "-- trek:no_transaction\nDROP INDEX i;\n"
        );
        assert_eq!(c.skipped.len(), 1);
        assert!(c.skipped[0].reason.contains("sqlx names migrations"));
    }

    #[test]
    fn diesel_versions_lose_their_dashes_and_metadata_opts_out() {
        let c = ok(
            Tool::Diesel,
            &[
                (
                    "00000000000000_diesel_initial_setup/up.sql",
                    "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n",
                ),
                (
                    "00000000000000_diesel_initial_setup/down.sql",
                    "DROP FUNCTION f();\n",
                ),
                (
                    "2024-01-01-120000_idx/up.sql",
                    "CREATE INDEX CONCURRENTLY i ON t (c);\n",
                ),
                (
                    "2024-01-01-120000_idx/down.sql",
                    "-- This file should undo anything in `up.sql`\n",
                ),
                (
                    "2024-01-01-120000_idx/metadata.toml",
                    "# diesel\nrun_in_transaction = false\n",
                ),
                ("2024-01-02-120000_plain/up.sql", "SELECT 1;\n"),
                (".keep", ""),
            ],
        );
        let versions: Vec<&str> = c
            .migrations
            .iter()
            .filter_map(|m| m.version.as_ref().map(Version::as_str))
            .collect();
        assert_eq!(
            versions,
            ["00000000000000", "20240101120000", "20240102120000"]
        );
        let idx = &c.migrations[1];
        assert!(idx.no_transaction && idx.irreversible);
        assert!(idx.up.contents.starts_with("-- trek:no_transaction\n"));
        assert!(file(&c, "20240101120000_idx.down.sql").starts_with("-- Not reversible"));
        assert!(c.migrations[2].down.is_none());
        assert!(idx.notes.iter().any(|n| n.contains("2024-01-01-120000")));
    }

    #[test]
    fn goose_annotations() {
        let c = ok(
            Tool::Goose,
            &[
                ("00001_fn.sql", "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP FUNCTION f();\n"),
                ("00002_idx.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- +goose Down\nDROP INDEX CONCURRENTLY i;\n"),
                ("00003_data.sql", "-- +goose Up\nINSERT INTO t VALUES (1);\n-- +goose Down\n"),
                ("00004_backfill.go", "package migrations\n"),
            ],
        );
        assert_eq!(
            file(&c, "00001_fn.sql"),
            "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\n"
        );
        assert_eq!(file(&c, "00001_fn.down.sql"), "DROP FUNCTION f();\n");
        assert!(file(&c, "00002_idx.down.sql").starts_with("-- trek:no_transaction\n"));
        assert!(c.migrations[2].irreversible);
        assert_eq!(c.skipped[0].path, "00004_backfill.go");
        assert!(c.skipped[0].reason.contains("Go migration"));
        let e = err(Tool::Goose, &[("1_a.sql", "CREATE TABLE a ();\n")]);
        assert!(e[0].starts_with("1_a.sql: no `-- +goose Up`"), "{e:?}");
        let e = err(
            Tool::Goose,
            &[("1_a.sql", "-- +goose Up\n-- +goose Sideways\nSELECT 1;\n")],
        );
        assert!(
            e[0].starts_with("1_a.sql:2: unknown goose annotation"),
            "{e:?}"
        );
    }

    #[test]
    fn dbmate_sections_and_transaction_options() {
        let c = ok(
            Tool::Dbmate,
            &[(
                "20240101000000_a.sql",
                "-- migrate:up\nCREATE INDEX i ON t (c);\n\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\n",
            )],
        );
        let m = &c.migrations[0];
        assert!(!m.no_transaction);
        assert_eq!(m.up.contents, "CREATE INDEX i ON t (c);\n");
        assert_eq!(
            file(&c, "20240101000000_a.down.sql"),
            "-- trek:no_transaction\nDROP INDEX CONCURRENTLY i;\n"
        );
        assert!(err(Tool::Dbmate, &[("1_a.sql", "SELECT 1;\n")])[0].contains("no `-- migrate:up`"));
    }

    #[test]
    fn flyway_runs_a_script_postgres_refuses_in_a_transaction_outside_one_unless_configured() {
        let c = ok(
            Tool::Flyway,
            &[
                ("V1__Users.sql", "CREATE TABLE users (id int);\n"),
                (
                    "V2__Index.sql",
                    "CREATE INDEX CONCURRENTLY i ON users (id);\n",
                ),
                ("U2__Index.sql", "DROP INDEX CONCURRENTLY i;\n"),
                ("V3__Vacuum.sql", "VACUUM users;\n"),
                ("V3__Vacuum.sql.conf", "executeInTransaction=true\n"),
            ],
        );
        assert_eq!(
            file(&c, "2_Index.sql"),
            "-- trek:no_transaction\nCREATE INDEX CONCURRENTLY i ON users (id);\n"
        );
        assert!(c.migrations[1]
            .notes
            .iter()
            .any(|n| n.contains("which Flyway runs outside a transaction by itself")));
        assert!(!c.migrations[0].no_transaction);
        // Its `.conf` decides.
        assert!(!c.migrations[2].no_transaction);
    }

    #[test]
    fn goose_and_diesel_files_their_tools_would_refuse_are_errors() {
        let errors = err(
            Tool::Goose,
            &[
                (
                    "00001_a.sql",
                    "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n",
                ),
                ("00002_b.sql", "-- +goose Down\nDROP TABLE b;\n-- +goose Up\nCREATE TABLE b (id int);\n"),
                ("00003_c.sql", "-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n"),
            ],
        );
        assert!(
            errors.iter().any(|e| e.contains("00001_a.sql:2")
                && e.contains("without its `-- +goose StatementEnd`")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("00002_b.sql:1") && e.contains("before `-- +goose Up`")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.contains("00003_c.sql:3")
                && e.contains("without a `-- +goose StatementBegin`")),
            "{errors:?}"
        );
        let errors = err(
            Tool::Diesel,
            &[
                ("2024-01-01-120000_a/up.sql", "CREATE TABLE a (id int);\n"),
                (
                    "2024-01-01-120000_a/metadata.toml",
                    "run_in_transaction = \"nope\"\n",
                ),
                ("2024-01-02-120000_b/up.sql", "CREATE TABLE b (id int);\n"),
                (
                    "2024-01-02-120000_b/metadata.toml",
                    "run_in_transaction = fals\n",
                ),
            ],
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("_a/metadata.toml") && e.contains("not true or false")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("_b/metadata.toml") && e.contains("not valid TOML")),
            "{errors:?}"
        );
    }

    #[test]
    #[cfg(unix)]
    fn an_unreadable_file_is_named() {
        let dir =
            std::env::temp_dir().join(format!("trek-import-unreadable-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(dir.join("nowhere.sql"), dir.join("00002_b.sql")).unwrap();
        let e = read_source(&dir).unwrap_err();
        assert!(e.to_string().contains("00002_b.sql"), "{e}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn flyway_versions_undos_repeatables_and_configuration() {
        let c = ok(
            Tool::Flyway,
            &[
                ("V1__Create_users.sql", "CREATE TABLE users (id int);\n"),
                ("U1__Create_users.sql", "DROP TABLE users;\n"),
                (
                    "V1_1__Index.sql",
                    "CREATE INDEX CONCURRENTLY i ON users (id);\n",
                ),
                ("V1_1__Index.sql.conf", "executeInTransaction=false\n"),
                ("R__Views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;\n"),
                ("beforeMigrate.sql", "SELECT 1;\n"),
                ("db/V2__Later.sql", "SELECT ${schema};\n"),
                ("V3__Java.java", "class V3__Java {}\n"),
            ],
        );
        let paths: Vec<&str> = c.files().iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "1_Create_users.sql",
                "1_Create_users.down.sql",
                "1.1_Index.sql",
                "2_Later.sql",
                "repeatable/Views.sql"
            ]
        );
        assert!(c.migrations[1].no_transaction);
        assert!(c.migrations[2].notes[0].contains("placeholders"));
        assert_eq!(c.migrations[3].kind, Kind::Repeatable);
        let skipped: Vec<&str> = c.skipped.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(skipped, ["V3__Java.java", "beforeMigrate.sql"]);
        let e = err(
            Tool::Flyway,
            &[
                ("V1.1__a.sql", "SELECT 1;\n"),
                ("V1_1__b.sql", "SELECT 1;\n"),
            ],
        );
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("V1_1__b.sql: collides with V1.1__a.sql"),
            "{e:?}"
        );
        let e = err(Tool::Flyway, &[("U4__x.sql", "SELECT 1;\n")]);
        assert!(e[0].contains("an undo script without its versioned migration"));
    }

    #[test]
    fn refinery_versioned_unversioned_and_no_transaction() {
        let c = ok(
            Tool::Refinery,
            &[
                ("V1__init.sql", "CREATE TABLE a (id int);\n"),
                (
                    "nested/U2__idx.sql",
                    "-- refinery:noTransaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n",
                ),
                (
                    "V3__code.rs",
                    "fn migration() -> String { String::new() }\n",
                ),
            ],
        );
        assert_eq!(c.migrations.len(), 2);
        assert!(c.migrations[1].no_transaction);
        assert!(c.migrations[1]
            .notes
            .iter()
            .any(|n| n.contains("unversioned")));
        assert!(c.skipped[0].reason.contains("Rust migration"));
        let e = err(
            Tool::Refinery,
            &[("V2__a.sql", "SELECT 1;\n"), ("U02__b.sql", "SELECT 1;\n")],
        );
        assert!(
            e[0].starts_with("V2__a.sql: collides with U02__b.sql"),
            "{e:?}"
        );
    }

    #[test]
    fn golang_migrate_infers_what_ran_outside_a_transaction() {
        let c = ok(
            Tool::GolangMigrate,
            &[
                (
                    "000001_a.up.sql",
                    "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n",
                ),
                ("000001_a.down.sql", ""),
                ("000002_b.up.sql", "CREATE INDEX b ON a (id);\n"),
                ("000002_b.down.sql", "DROP INDEX CONCURRENTLY b;\n"),
                ("000003_c.up.sql", "ALTER TYPE t ADD VALUE 'x';\n"),
            ],
        );
        assert!(c.migrations[0].no_transaction && c.migrations[0].irreversible);
        assert!(!c.migrations[1].no_transaction);
        assert_eq!(
            file(&c, "000002_b.down.sql"),
            "-- trek:no_transaction\nDROP INDEX CONCURRENTLY b;\n"
        );
        assert!(!c.migrations[2].no_transaction);
        let e = err(Tool::GolangMigrate, &[("000009_x.down.sql", "SELECT 1;\n")]);
        assert!(e[0].contains("a down script without its up script"));
    }

    #[test]
    fn a_script_running_its_own_transaction_opts_out() {
        let c = ok(
            Tool::Dbmate,
            &[("1_a.sql", "-- migrate:up\nBEGIN;\nSELECT 1;\nCOMMIT;\n")],
        );
        assert!(c.migrations[0].no_transaction);
        assert!(c.migrations[0].notes[0].contains("its own BEGIN"));
    }

    #[test]
    fn byte_order_marks_and_crlf_line_endings_do_not_hide_annotations() {
        let c = ok(
            Tool::Goose,
            &[(
                "1_a.sql",
                "\u{feff}-- +goose NO TRANSACTION\r\n-- +goose Up\r\nCREATE INDEX CONCURRENTLY i ON t (c);\r\n-- +goose Down\r\nDROP INDEX i;\r\n",
            )],
        );
        assert!(c.migrations[0].no_transaction);
        // Every line of what it writes keeps the file's CRLF, the directive and the last too.
        for file in c.files() {
            assert!(
                !file.contents.replace("\r\n", "").contains('\n'),
                "{file:?}"
            );
        }
        let c = ok(
            Tool::Sqlx,
            &[("1_a.sql", "\u{feff}-- no-transaction\r\nVACUUM t;\r\n")],
        );
        assert!(c.migrations[0].no_transaction);
    }

    #[test]
    fn non_utf8_scripts_and_bad_versions_are_errors() {
        let e =
            convert(Tool::Sqlx, &[SourceFile::new("1_a.sql", vec![0xff, 0xfe])]).expect_err("bad");
        assert!(e.to_string().contains("not valid UTF-8"));
        let e = err(
            Tool::Dbmate,
            &[(
                "99999999999999999999999_a.sql",
                "-- migrate:up\nSELECT 1;\n",
            )],
        );
        assert!(e[0].contains("too large"), "{e:?}");
    }
}
