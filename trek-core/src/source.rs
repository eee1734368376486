//! Reading a migrations folder into a validated [`Migrations`] set.
//!
//! The folder's layout (DESIGN §2): versioned migrations at the top level, repeatables under
//! `repeatable/`, seeds under `seeds/`. Hidden files and folders and anything that is not a
//! `.sql` file are ignored (see [`crate::file_name`]). Any other folder that holds `.sql` files,
//! at any depth, is an error ([`SourceErrorKind::UnsupportedFolder`]): someone who nests
//! migrations expects them to run. A folder without `.sql` files (docs, fixtures) is ignored,
//! unless its own name ends in `.sql` ([`SourceErrorKind::FolderNamedLikeScript`]).
//! Symbolic links are followed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::file_name::{self, Direction, FileName, Suffix};
use crate::{
    directive, split, Checksum, Directives, Down, Kind, Migration, Migrations, SourceError,
    SourceErrorKind, SourceErrors, Version,
};

/// Reads `dir` (recursively for `repeatable/` and `seeds/`) into a validated, sorted set whose
/// `source_dir` is `dir` made absolute (canonicalised).
///
/// Every script's path in the set is relative to `dir`, with `/` separators; its checksum is
/// [`Checksum::of`] its raw bytes; each down script is attached to its up script.
///
/// # Errors
/// Every problem in the folder at once (bad names, equal versions, unknown directives, invalid
/// UTF-8, a down without an up, an empty script, a missing folder, ...), each naming its file
/// relative to `dir` (the folder itself, as given, for folder-level errors), sorted by path and
/// line.
pub fn read_dir(dir: &Path) -> Result<Migrations, SourceErrors> {
    let folder_error = |kind| SourceErrors(vec![SourceError::new(dir, kind)]);
    let root = match fs::canonicalize(dir) {
        Ok(root) => root,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(folder_error(SourceErrorKind::FolderNotFound))
        }
        Err(e) => {
            return Err(folder_error(SourceErrorKind::Io {
                message: e.to_string(),
            }))
        }
    };
    if !root.is_dir() {
        return Err(folder_error(SourceErrorKind::NotAFolder));
    }

    let mut reader = Reader::default();
    reader.walk(&root);
    reader.pair();
    let Reader {
        mut errors,
        scripts,
    } = reader;
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
        errors.dedup();
        return Err(SourceErrors(errors));
    }

    let mut downs: BTreeMap<(Kind, Vec<u64>), Down> = BTreeMap::new();
    let mut ups = Vec::new();
    for script in scripts {
        match script.file.direction() {
            Direction::Down => {
                let key = (script.kind, version_key(&script.file.version));
                downs.insert(
                    key,
                    Down::__new(
                        Cow::Owned(script.path),
                        Cow::Owned(script.sql),
                        script.directives,
                    ),
                );
            }
            Direction::Up => ups.push(script),
        }
    }
    let migrations = ups
        .into_iter()
        .map(|up| {
            let down = downs.remove(&(up.kind, version_key(&up.file.version)));
            Migration::__new(
                up.kind,
                up.file.version,
                Cow::Owned(up.file.name),
                Cow::Owned(up.path),
                Cow::Owned(up.sql),
                up.checksum,
                up.directives,
                down,
            )
        })
        .collect();
    Ok(Migrations::from_vec(
        migrations,
        Some(root.to_string_lossy().into_owned()),
    ))
}

/// One script read from the folder, not yet paired.
#[derive(Debug)]
struct Script {
    kind: Kind,
    file: FileName,
    /// Relative to the folder, `/`-separated.
    path: String,
    sql: String,
    checksum: Checksum,
    directives: Directives,
}

#[derive(Default)]
struct Reader {
    errors: Vec<SourceError>,
    scripts: Vec<Script>,
}

fn version_key(version: &Option<Version>) -> Vec<u64> {
    version
        .as_ref()
        .map_or_else(Vec::new, |v| v.parts().to_vec())
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

impl Reader {
    fn error(&mut self, path: impl Into<PathBuf>, kind: SourceErrorKind) {
        self.errors.push(SourceError::new(path, kind));
    }

    fn walk(&mut self, root: &Path) {
        let mut files = Vec::new();
        let mut entries = WalkDir::new(root)
            .min_depth(1)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
        while let Some(entry) = entries.next() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().map_or_else(String::new, |p| relative(root, p));
                    let message = e
                        .io_error()
                        .map_or_else(|| e.to_string(), io::Error::to_string);
                    self.error(path, SourceErrorKind::Io { message });
                    continue;
                }
            };
            let rel = relative(root, entry.path());
            let kind = match (entry.depth(), rel.split('/').next()) {
                (1, _) if entry.file_type().is_file() => Kind::Versioned,
                (1, Some("repeatable")) if entry.file_type().is_dir() => continue,
                (1, Some("seeds")) if entry.file_type().is_dir() => continue,
                (2, Some("repeatable")) if entry.file_type().is_file() => Kind::Repeatable,
                (2, Some("seeds")) if entry.file_type().is_file() => Kind::Seed,
                _ if entry.file_type().is_dir() => {
                    entries.skip_current_dir();
                    if file_name::has_sql_extension(&entry.file_name().to_string_lossy()) {
                        self.error(rel, SourceErrorKind::FolderNamedLikeScript);
                        continue;
                    }
                    if holds_sql(entry.path()) {
                        self.error(rel, SourceErrorKind::UnsupportedFolder);
                    }
                    continue;
                }
                // Sockets, fifos and the like.
                _ => continue,
            };
            files.push((kind, entry.into_path(), rel));
        }
        for (script, errors) in read_all(files) {
            self.errors.extend(errors);
            self.scripts.extend(script);
        }
    }
}

/// Reads the scripts found, in their order: on several threads when there are many (opening
/// and reading small files is most of the time a run with nothing to do takes).
fn read_all(files: Vec<(Kind, PathBuf, String)>) -> Vec<(Option<Script>, Vec<SourceError>)> {
    const PER_THREAD: usize = 64;
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len() / PER_THREAD)
        .min(8);
    let read = |files: Vec<(Kind, PathBuf, String)>| {
        let mut scratch = Vec::new();
        files
            .into_iter()
            .map(|(kind, path, rel)| read_file(kind, &path, rel, &mut scratch))
            .collect::<Vec<_>>()
    };
    if threads <= 1 {
        return read(files);
    }
    let chunk = files.len().div_ceil(threads);
    let mut files = files;
    let mut chunks = Vec::with_capacity(threads);
    while files.len() > chunk {
        let rest = files.split_off(chunk);
        chunks.push(files);
        files = rest;
    }
    chunks.push(files);
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || read(chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Reads a whole file: a small one (most migrations) through `scratch` without asking its size
/// first, one system call less per file than [`fs::read`], into an allocation of its exact
/// size.
fn read_bytes(path: &Path, scratch: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    use std::io::Read;
    const FIRST: u64 = 16 * 1024;
    let mut file = fs::File::open(path)?;
    scratch.clear();
    (&mut file).take(FIRST).read_to_end(scratch)?;
    if (scratch.len() as u64) < FIRST {
        return Ok(scratch.as_slice().to_vec());
    }
    let size = file.metadata().map_or(0, |m| m.len());
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).max(scratch.len()) + 1);
    bytes.extend_from_slice(scratch);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads and checks one script: the script, or nothing when the file is not one (ignored),
/// and the errors found in it.
fn read_file(
    kind: Kind,
    path: &Path,
    rel: String,
    scratch: &mut Vec<u8>,
) -> (Option<Script>, Vec<SourceError>) {
    let mut errors = Vec::new();
    let script = read_script(kind, path, rel, scratch, &mut errors);
    (script, errors)
}

fn read_script(
    kind: Kind,
    path: &Path,
    rel: String,
    scratch: &mut Vec<u8>,
    errors: &mut Vec<SourceError>,
) -> Option<Script> {
    let name = path.file_name().unwrap_or_default();
    let Some(name) = name.to_str() else {
        if file_name::has_sql_extension(&name.to_string_lossy()) {
            errors.push(SourceError::new(
                rel,
                SourceErrorKind::BadFileName {
                    kind,
                    reason: "the name is not valid UTF-8".to_owned(),
                },
            ));
        }
        return None;
    };
    if file_name::is_ignored(name) {
        return None;
    }
    let file = match file_name::parse(name, kind) {
        Ok(file) => file,
        Err(e) => {
            errors.push(SourceError::new(rel, e));
            return None;
        }
    };
    let bytes = match read_bytes(path, scratch) {
        Ok(bytes) => bytes,
        Err(e) => {
            errors.push(SourceError::new(
                rel,
                SourceErrorKind::Io {
                    message: e.to_string(),
                },
            ));
            return None;
        }
    };
    let checksum = Checksum::of(&bytes);
    let sql = match String::from_utf8(bytes) {
        Ok(sql) => sql,
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            errors.push(SourceError {
                path: rel.into(),
                line: Some(line),
                kind: SourceErrorKind::InvalidUtf8 { byte_offset: at },
            });
            return None;
        }
    };
    let directives = match directive::parse(&sql, kind) {
        Ok(directives) => directives,
        Err(found) => {
            for e in found {
                errors.push(SourceError {
                    path: PathBuf::from(&rel),
                    line: Some(e.line),
                    kind: e.kind,
                });
            }
            Directives::NONE
        }
    };
    // What runs is the script without its byte-order mark (`Migration::sql`): check that,
    // so a file of a BOM and blank lines is empty and `\u{feff}BEGIN;` is a BEGIN.
    let body = sql.strip_prefix('\u{feff}').unwrap_or(&sql);
    let statements = split::split(body);
    // A down that holds no statement marks its migration irreversible; an empty up is a
    // mistake.
    if statements.is_empty() && file.direction() == Direction::Up {
        errors.push(SourceError::new(&rel, SourceErrorKind::EmptyScript));
    }
    // A down's transaction follows its up's too: checked once they are paired.
    if !directives.no_transaction && file.direction() == Direction::Up {
        errors.extend(transaction_control(&rel, &sql));
    }
    Some(Script {
        kind,
        file,
        path: rel,
        sql,
        checksum,
        directives,
    })
}

impl Reader {
    /// Finds equal versions, `.sql`/`.up.sql` twins, and downs without an up (or with another
    /// description than their up).
    fn pair(&mut self) {
        self.scripts.sort_by(|a, b| a.path.cmp(&b.path));
        let mut first: BTreeMap<(Kind, Direction, Vec<u64>, &str), usize> = BTreeMap::new();
        let mut problems = Vec::new();
        for (i, script) in self.scripts.iter().enumerate() {
            // Repeatables are keyed by name, the others by version.
            let (version, name) = match script.kind {
                Kind::Repeatable => (Vec::new(), script.file.name.as_str()),
                _ => (version_key(&script.file.version), ""),
            };
            let key = (script.kind, script.file.direction(), version, name);
            match first.get(&key) {
                None => {
                    first.insert(key, i);
                }
                Some(&j) => {
                    let other = &self.scripts[j];
                    let twins = other.file.name == script.file.name
                        && other.file.suffix != script.file.suffix
                        && script.file.direction() == Direction::Up;
                    let kind = if twins {
                        SourceErrorKind::UpAndUpAlias {
                            other: other.path.clone().into(),
                        }
                    } else {
                        SourceErrorKind::DuplicateVersion {
                            version: script
                                .file
                                .version
                                .as_ref()
                                .map_or_else(String::new, |v| v.as_str().to_owned()),
                            other: other.path.clone().into(),
                        }
                    };
                    problems.push(SourceError::new(&script.path, kind));
                }
            }
        }
        for script in &self.scripts {
            if script.file.direction() != Direction::Down {
                continue;
            }
            let version = version_key(&script.file.version);
            let up = first
                .get(&(script.kind, Direction::Up, version, ""))
                .map(|&j| &self.scripts[j]);
            let version_text = script
                .file
                .version
                .as_ref()
                .map_or_else(String::new, |v| v.as_str().to_owned());
            match up {
                None => problems.push(SourceError::new(
                    &script.path,
                    SourceErrorKind::DownWithoutUp {
                        version: version_text,
                    },
                )),
                Some(up) if up.file.name != script.file.name => {
                    let up_name = up.path.rsplit('/').next().unwrap_or(&up.path);
                    let stem = up_name
                        .strip_suffix(up.file.suffix.as_str())
                        .unwrap_or(up_name);
                    problems.push(SourceError::new(
                        &script.path,
                        SourceErrorKind::DownNameMismatch {
                            up: up.path.clone().into(),
                            expected: format!("{stem}{}", Suffix::DownSql.as_str()),
                        },
                    ))
                }
                Some(up) => {
                    if !up.directives.no_transaction && !script.directives.no_transaction {
                        problems.extend(transaction_control(&script.path, &script.sql));
                    }
                }
            }
        }
        self.errors.extend(problems);
    }
}

/// A `BEGIN`, `COMMIT`, … in a script that runs inside trek's transaction, one error each.
fn transaction_control(path: &str, sql: &str) -> Vec<SourceError> {
    let body = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    split::split(body)
        .iter()
        .filter_map(|statement| {
            let command = split::transaction_control(statement.text)?;
            Some(SourceError {
                path: PathBuf::from(path),
                line: Some(body[..statement.offset].matches('\n').count() + 1),
                kind: SourceErrorKind::TransactionControl {
                    command: command.to_owned(),
                },
            })
        })
        .collect()
}

/// Whether a folder holds a `.sql` file (not hidden), at any depth.
fn holds_sql(dir: &Path) -> bool {
    WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()))
        .filter_map(Result::ok)
        .any(|e| {
            e.file_type().is_file() && !file_name::is_ignored(&e.file_name().to_string_lossy())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh folder under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "trek-core-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        fn with(files: &[(&str, &[u8])]) -> TempDir {
            let dir = TempDir::new();
            for (path, content) in files {
                let path = dir.0.join(path);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).expect("create dir");
                }
                fs::write(path, content).expect("write file");
            }
            dir
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn errors(files: &[(&str, &[u8])]) -> Vec<String> {
        let dir = TempDir::with(files);
        match read_dir(&dir.0) {
            Ok(set) => panic!("expected errors, got {set:?}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    fn kinds(files: &[(&str, &[u8])]) -> Vec<(String, Option<usize>, SourceErrorKind)> {
        let dir = TempDir::with(files);
        match read_dir(&dir.0) {
            Ok(set) => panic!("expected errors, got {set:?}"),
            Err(e) => {
                e.0.into_iter()
                    .map(|e| (e.path.to_string_lossy().into_owned(), e.line, e.kind))
                    .collect()
            }
        }
    }

    #[test]
    fn reads_a_good_folder() {
        let dir = TempDir::with(&[
            ("10_ten.sql", b"select 10;"),
            ("2_two.up.sql", b"\xEF\xBB\xBFselect 2;\r\n"),
            ("2_two.down.sql", b"-- trek:no_transaction\nselect -2;"),
            ("1.1_one_one.sql", b"-- trek:lock_timeout 5s\nselect 1.1;"),
            ("README.md", b"# migrations"),
            (".keep", b""),
            ("1.1_one_one.sql~", b"backup"),
            (".1.1_one_one.sql.swp", b"swap"),
            ("docs/notes.txt", b"not sql"),
            (".git/x.sql", b"hidden folder"),
            (
                "repeatable/views.sql",
                b"-- trek:run always\ncreate view v as select 1;",
            ),
            ("repeatable/a_funcs.sql", b"select 'a';"),
            ("seeds/0001_demo.sql", b"insert into t values (1);"),
            ("seeds/0001_demo.down.sql", b"delete from t;"),
        ]);
        let set = read_dir(&dir.0).expect("valid folder");
        let labels: Vec<_> = set.all().iter().map(|m| m.path()).collect();
        assert_eq!(
            labels,
            [
                "1.1_one_one.sql",
                "2_two.up.sql",
                "10_ten.sql",
                "repeatable/a_funcs.sql",
                "repeatable/views.sql",
                "seeds/0001_demo.sql",
            ]
        );
        assert_eq!(set.versioned().count(), 3);
        assert_eq!(set.repeatables().count(), 2);
        assert_eq!(set.seeds().count(), 1);

        let two = &set.all()[1];
        assert_eq!(two.kind(), Kind::Versioned);
        assert_eq!(two.name(), "two");
        assert_eq!(two.version().map(Version::as_str), Some("2"));
        assert_eq!(two.sql(), "select 2;\r\n");
        assert_eq!(two.checksum(), &Checksum::of(b"select 2;\n"));
        let down = two.down().expect("down attached");
        assert_eq!(down.path(), "2_two.down.sql");
        assert!(down.directives().no_transaction);
        assert_eq!(
            set.all()[0].directives().lock_timeout.as_deref(),
            Some("5s")
        );

        let views = &set.all()[4];
        assert_eq!(views.version(), None);
        assert_eq!(views.name(), "views");
        assert!(views.directives().run_always);
        assert!(set.all()[5].down().is_some());

        let source = set.source_dir().expect("source dir");
        assert!(Path::new(source).is_absolute());
        assert_eq!(Path::new(source), fs::canonicalize(&dir.0).expect("canon"));
    }

    #[test]
    fn an_empty_folder_is_an_empty_set() {
        let dir = TempDir::new();
        assert!(read_dir(&dir.0).expect("valid").is_empty());
    }

    #[test]
    fn a_missing_folder_is_one_error() {
        let dir = TempDir::new();
        let missing = dir.0.join("nope");
        let e = read_dir(&missing).expect_err("missing");
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].kind, SourceErrorKind::FolderNotFound);
        assert_eq!(e.0[0].path, missing);
        let file = dir.0.join("file.sql");
        fs::write(&file, "x").expect("write");
        assert_eq!(
            read_dir(&file).expect_err("file").0[0].kind,
            SourceErrorKind::NotAFolder
        );
    }

    #[test]
    fn a_down_without_statements_marks_the_migration_irreversible() {
        let dir = TempDir::with(&[
            ("1_x.sql", b"CREATE TABLE x (id int);"),
            ("1_x.down.sql", b"-- Not reversible\n"),
            ("2_y.sql", b"CREATE TABLE y (id int);"),
            ("2_y.down.sql", b"DROP TABLE y;"),
        ]);
        let set = read_dir(&dir.0).expect("a comment-only down is valid");
        let downs: Vec<bool> = set
            .versioned()
            .map(|m| m.down().expect("down").is_irreversible())
            .collect();
        assert_eq!(downs, [true, false]);
        // An up without statements is still a mistake.
        assert_eq!(
            kinds(&[
                ("1_x.sql", b"-- nothing\n"),
                ("1_x.down.sql", b"-- nothing\n")
            ])
            .into_iter()
            .map(|(p, _, k)| (p, k))
            .collect::<Vec<_>>(),
            [("1_x.sql".to_owned(), SourceErrorKind::EmptyScript)]
        );
    }

    #[test]
    fn a_down_inherits_its_ups_no_transaction() {
        let dir = TempDir::with(&[
            (
                "1_x.sql",
                b"-- trek:no_transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
            ),
            ("1_x.down.sql", b"BEGIN;\nDROP INDEX i;\nCOMMIT;\n"),
            ("2_y.sql", b"CREATE TABLE y (id int);"),
            (
                "2_y.down.sql",
                b"-- trek:no_transaction\nDROP INDEX CONCURRENTLY j;",
            ),
            ("3_z.sql", b"CREATE TABLE z (id int);"),
        ]);
        let set = read_dir(&dir.0).expect("valid");
        let outside: Vec<bool> = set
            .versioned()
            .map(Migration::down_outside_transaction)
            .collect();
        assert_eq!(outside, [true, true, false]);
        // In a down that runs in trek's transaction, BEGIN is an error, as in an up.
        assert_eq!(
            kinds(&[
                ("1_x.sql", b"CREATE TABLE x (id int);"),
                ("1_x.down.sql", b"\nBEGIN;\nDROP TABLE x;\nCOMMIT;\n"),
            ])
            .into_iter()
            .map(|(p, l, _)| (p, l))
            .collect::<Vec<_>>(),
            [
                ("1_x.down.sql".to_owned(), Some(2)),
                ("1_x.down.sql".to_owned(), Some(4))
            ]
        );
    }

    #[test]
    fn equal_versions_are_an_error_naming_the_other_file() {
        assert_eq!(
            errors(&[("1_a.sql", b"select 1;"), ("01_b.sql", b"select 1;")]),
            ["1_a.sql: version 1 is used by 01_b.sql too (versions compare as numbers, so `01` equals `1`); give one of them another version"]
        );
    }

    #[test]
    fn every_error_is_reported_in_path_order() {
        let found = kinds(&[
            ("1_a.sql", b"select 1;"),
            ("1_a.up.sql", b"select 1;"),
            ("2.sql", b"select 2;"),
            ("3_c.down.sql", b"select 3;"),
            ("4_d.sql", b"select 4;"),
            ("4_e.down.sql", b"select 4;"),
            ("5_bad.sql", b"select 1;\n\xFF"),
            (
                "6_dir.sql",
                b"-- trek:nope\nselect 1;\n-- trek:no_transaction\n",
            ),
            ("7_empty.sql", b"-- nothing here\n"),
            ("nested/8_x.sql", b"select 8;"),
            ("repeatable/v.down.sql", b"select 1;"),
            ("repeatable/w.sql", b"select 1;"),
            ("repeatable/w.up.sql", b"select 1;"),
            ("seeds/1_s.sql", b"-- trek:run always\nselect 1;"),
            ("seeds/deeper/x.sql", b"select 1;"),
            ("9_folder.sql/readme.txt", b"not a script"),
            ("repeatable/views.sql/x.txt", b"not a script"),
        ]);
        let summary: Vec<_> = found
            .iter()
            .map(|(path, line, kind)| {
                let name = format!("{kind:?}");
                let name = name.split([' ', '{', '(']).next().unwrap_or("").to_owned();
                (path.as_str(), *line, name)
            })
            .collect();
        let want = [
            ("1_a.up.sql", None, "UpAndUpAlias"),
            ("2.sql", None, "BadFileName"),
            ("3_c.down.sql", None, "DownWithoutUp"),
            ("4_e.down.sql", None, "DownNameMismatch"),
            ("5_bad.sql", Some(2), "InvalidUtf8"),
            ("6_dir.sql", Some(1), "UnknownDirective"),
            ("6_dir.sql", Some(3), "MisplacedDirective"),
            ("7_empty.sql", None, "EmptyScript"),
            ("9_folder.sql", None, "FolderNamedLikeScript"),
            ("nested", None, "UnsupportedFolder"),
            ("repeatable/v.down.sql", None, "RepeatableDown"),
            ("repeatable/views.sql", None, "FolderNamedLikeScript"),
            ("repeatable/w.up.sql", None, "UpAndUpAlias"),
            ("seeds/1_s.sql", Some(1), "RunAlwaysNotRepeatable"),
            ("seeds/deeper", None, "UnsupportedFolder"),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(p, l, k)| (*p, *l, (*k).to_owned()))
            .collect();
        assert_eq!(summary, want);
        assert!(found.iter().any(|(_, _, k)| *k
            == SourceErrorKind::DownNameMismatch {
                up: "4_d.sql".into(),
                expected: "4_d.down.sql".into()
            }));
        assert!(found
            .iter()
            .any(|(_, _, k)| *k == SourceErrorKind::InvalidUtf8 { byte_offset: 10 }));
    }

    #[test]
    fn transaction_control_is_an_error_unless_the_script_runs_outside_a_transaction() {
        let found = kinds(&[(
            "1_a.sql",
            b"CREATE TABLE a (id int);\nCOMMIT;\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\n",
        )]);
        assert_eq!(
            found,
            [(
                "1_a.sql".to_owned(),
                Some(2),
                SourceErrorKind::TransactionControl {
                    command: "COMMIT".to_owned()
                }
            )]
        );
        let dir = TempDir::with(&[(
            "1_a.sql",
            b"-- trek:no_transaction\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n",
        )]);
        assert!(read_dir(&dir.0).is_ok());
    }

    #[test]
    fn seeds_and_migrations_have_separate_versions() {
        let dir = TempDir::with(&[("1_a.sql", b"select 1;"), ("seeds/1_a.sql", b"select 1;")]);
        let set = read_dir(&dir.0).expect("valid");
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn carriage_return_line_endings_are_line_endings() {
        // PostgreSQL ends a `--` comment at CR as well as LF: a CR-only file is not empty,
        // and its directive header is read.
        let dir = TempDir::with(&[
            ("1_cr.sql", b"-- header\rCREATE TABLE a (id int);\r"),
            (
                "2_cr.sql",
                b"-- trek:no_transaction\rCREATE INDEX CONCURRENTLY i ON a (id);\r",
            ),
        ]);
        let set = read_dir(&dir.0).expect("valid");
        assert_eq!(set.len(), 2);
        assert!(set.all()[1].directives().no_transaction);
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_an_empty_script_or_a_begin() {
        let found = kinds(&[
            ("1_bom_only.sql", b"\xEF\xBB\xBF\r\n\r\n"),
            (
                "2_bom_begin.sql",
                b"\xEF\xBB\xBFBEGIN;\r\nCREATE TABLE t (id int);\r\n",
            ),
        ]);
        assert_eq!(
            found,
            [
                (
                    "1_bom_only.sql".to_owned(),
                    None,
                    SourceErrorKind::EmptyScript
                ),
                (
                    "2_bom_begin.sql".to_owned(),
                    Some(1),
                    SourceErrorKind::TransactionControl {
                        command: "BEGIN".to_owned()
                    }
                ),
            ]
        );
    }

    #[test]
    fn messages_name_the_file_line_and_fix() {
        let messages = errors(&[
            ("0001.sql", b"select 1;"),
            ("2_b.sql", b"-- trek:lock_timeout forever\nselect 1;"),
        ]);
        assert_eq!(messages.len(), 2);
        assert!(messages[0].starts_with("0001.sql: bad file name: `0001` has no `_`"));
        assert!(messages[0].contains("like 0001_create_users.sql"));
        assert!(
            messages[1].starts_with("2_b.sql:1: `-- trek:lock_timeout` does not take `forever`")
        );
        let all = SourceErrors(vec![
            SourceError::new("a.sql", SourceErrorKind::EmptyScript),
            SourceError::new("b.sql", SourceErrorKind::EmptyScript),
        ])
        .to_string();
        assert_eq!(all.lines().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_names_are_errors_when_they_look_like_scripts() {
        use std::os::unix::ffi::OsStrExt;
        let dir = TempDir::new();
        let name = std::ffi::OsStr::from_bytes(b"1_\xFF.sql");
        if fs::write(dir.0.join(name), "select 1;").is_err() {
            return; // the file system refuses such names
        }
        let e = read_dir(&dir.0).expect_err("bad name");
        assert!(matches!(e.0[0].kind, SourceErrorKind::BadFileName { .. }));
    }
}
