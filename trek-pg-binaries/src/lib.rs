//! Finding PostgreSQL's programs on the machine, by major version: the one place trek looks for
//! `initdb`, `pg_ctl` and `postgres` (to run its local server) and for `pg_dump`, `pg_restore`
//! and `psql` (to take snapshots and dumps).
//!
//! A [`Search`] looks in these folders, in this order:
//!
//! 1. a folder the user gave ([`Search::folder`]);
//! 2. the folder in `TREK_PG_BIN` ([`BIN_DIR_VAR`]), when set: how a machine with several
//!    majors (or `scripts/pg-versions`) points trek at one;
//! 3. every folder on `PATH`;
//! 4. `pg_config --bindir`, when `pg_config` is on `PATH`;
//! 5. `/usr/lib/postgresql/<version>/bin`, newest version first (Debian and Ubuntu keep the
//!    programs there, off `PATH`).
//!
//! A folder counts when every program of the set asked for is an executable file in it. When
//! the first program is a symbolic link (`/usr/local/bin/initdb →
//! /usr/lib/postgresql/15/bin/initdb`), the folder it points into is used when the whole set is
//! there, so the programs run from where they were installed; a folder of links to a wrapper
//! (Debian's `pg_wrapper` on `/usr/bin`) is used as it is.
//!
//! - [`Search::find`]: the first folder holding the set, whatever its version ([`BinDir::major`]
//!   tells it).
//! - [`Search::find_major`]: the folder whose programs have a given [`Major`] version (looking
//!   in `/usr/lib/postgresql/<major>/bin` right after the user's folder), else the newest one
//!   newer than it, else none. The answer is kept for the rest of the process: each folder
//!   costs a `--version` run.
//!
//! ```no_run
//! use trek_pg_binaries::{Major, Search, CLIENT_PROGRAMS, SERVER_PROGRAMS};
//!
//! let server = Search::new().find(SERVER_PROGRAMS).expect("PostgreSQL is installed");
//! println!("initdb: {}", server.program("initdb").display());
//! let major = server.major().unwrap_or(Major::new(17));
//! let client = Search::new().find_major(CLIENT_PROGRAMS, major);
//! println!("pg_dump for PostgreSQL {major}: {:?}", client.map(|dir| dir.program("pg_dump")));
//! ```
#![deny(missing_docs)]

use std::collections::HashMap;
use std::env;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use tracing::debug;

/// The server's programs: what trek's local server runs.
pub const SERVER_PROGRAMS: &[&str] = &["initdb", "pg_ctl", "postgres"];

/// The client programs trek's snapshots and dumps run.
pub const CLIENT_PROGRAMS: &[&str] = &["pg_dump", "pg_restore", "psql"];

/// The environment variable naming a folder of PostgreSQL programs looked in before `PATH`.
pub const BIN_DIR_VAR: &str = "TREK_PG_BIN";

/// Where Debian and Ubuntu install each version of PostgreSQL (`<this>/<version>/bin`).
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// A PostgreSQL major version: `15` (10 and later), or `9.6` (before 10, when a major version
/// had two numbers). Ordered as versions are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Major {
    major: u32,
    /// The second number before PostgreSQL 10; 0 from 10 on.
    minor: u32,
}

impl Major {
    /// Major version `major` (10 or later).
    #[must_use]
    pub const fn new(major: u32) -> Self {
        Major { major, minor: 0 }
    }

    /// The major version of a server from its `server_version_num` setting (`150014` → `15`,
    /// `90624` → `9.6`); `None` for a number that is not a version.
    #[must_use]
    pub fn from_version_num(num: i32) -> Option<Self> {
        let num = u32::try_from(num).ok().filter(|n| *n >= 10_000)?;
        Some(if num >= 100_000 {
            Major::new(num / 10_000)
        } else {
            Major {
                major: num / 10_000,
                minor: num / 100 % 100,
            }
        })
    }

    /// The major version in what a program prints for `--version`:
    /// `pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)` → `15`, `17beta1` → `17`,
    /// `9.6.24` → `9.6`.
    #[must_use]
    pub fn from_version_output(text: &str) -> Option<Self> {
        let number = text.split(')').nth(1)?.split_whitespace().next()?;
        number.parse().ok()
    }
}

impl FromStr for Major {
    type Err = UnknownMajor;

    /// Reads `15`, `15.14`, `17beta1` (→ `17`) or `9.6`, `9.6.24` (→ `9.6`): the form of a
    /// cluster's `PG_VERSION` file and of a version number.
    fn from_str(text: &str) -> Result<Self, UnknownMajor> {
        let unknown = || UnknownMajor {
            text: text.to_owned(),
        };
        let mut parts = text.trim().split(|c: char| !c.is_ascii_digit());
        let major: u32 = parts
            .next()
            .filter(|p| !p.is_empty())
            .and_then(|p| p.parse().ok())
            .ok_or_else(unknown)?;
        if major >= 10 {
            return Ok(Major::new(major));
        }
        let minor = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(unknown)?;
        Ok(Major { major, minor })
    }
}

impl fmt::Display for Major {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.major >= 10 {
            write!(f, "{}", self.major)
        } else {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

/// Text that is not a PostgreSQL version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMajor {
    /// The text.
    pub text: String,
}

impl fmt::Display for UnknownMajor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a PostgreSQL version", self.text)
    }
}

impl std::error::Error for UnknownMajor {}

/// A folder holding a set of PostgreSQL's programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinDir {
    dir: PathBuf,
    /// The set's first program: the one asked for its version.
    first: String,
}

impl BinDir {
    /// `dir` when it holds every program of `programs` (following a symbolic link of the first
    /// to the folder it points into, as a [`Search`] does); else `None`.
    #[must_use]
    pub fn at(dir: &Path, programs: &[&str]) -> Option<BinDir> {
        complete_dir(dir, programs)
    }

    /// The folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of program `name` in the folder.
    #[must_use]
    pub fn program(&self, name: &str) -> PathBuf {
        program_path(&self.dir, name)
    }

    /// The programs' major version, from the first program's `--version`; `None` when it
    /// cannot be told.
    #[must_use]
    pub fn major(&self) -> Option<Major> {
        let out = Command::new(self.program(&self.first))
            .arg("--version")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        Major::from_version_output(&String::from_utf8_lossy(&out.stdout))
    }
}

/// Where to look for PostgreSQL's programs: see the [crate docs](crate) for the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    folder: Option<PathBuf>,
    /// `TREK_PG_BIN`, read by [`Search::new`].
    env_folder: Option<PathBuf>,
}

impl Search {
    /// The usual places: `TREK_PG_BIN` when set, `PATH`, `pg_config --bindir`,
    /// `/usr/lib/postgresql/*/bin`.
    #[must_use]
    pub fn new() -> Self {
        Search {
            folder: None,
            env_folder: env::var_os(BIN_DIR_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }

    /// The folder `TREK_PG_BIN` names, when it was set as this search was made.
    #[must_use]
    pub fn env_folder(&self) -> Option<&Path> {
        self.env_folder.as_deref()
    }

    /// Looks in `dir` first.
    #[must_use]
    pub fn folder(mut self, dir: impl Into<PathBuf>) -> Self {
        self.folder = Some(dir.into());
        self
    }

    /// Where this search looks, in words, for error messages.
    #[must_use]
    pub fn places(&self) -> String {
        let mut places: Vec<String> = self
            .folder
            .iter()
            .map(|dir| dir.display().to_string())
            .collect();
        if let Some(dir) = &self.env_folder {
            places.push(format!("{BIN_DIR_VAR} ({})", dir.display()));
        }
        places.push(format!(
            "PATH, `pg_config --bindir` and {DEBIAN_ROOT}/*/bin"
        ));
        places.join(", ")
    }

    /// The folders looked in, in order (they need not exist).
    #[must_use]
    pub fn candidates(&self) -> Vec<PathBuf> {
        let on_path = env::var_os("PATH")
            .map(|path| env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default();
        self.folder
            .iter()
            .chain(&self.env_folder)
            .cloned()
            .chain(on_path)
            .chain(pg_config_bindir())
            .chain(debian_bindirs())
            .collect()
    }

    /// The first folder that holds every program of `programs` (e.g. [`SERVER_PROGRAMS`]),
    /// whatever their version.
    #[must_use]
    pub fn find(&self, programs: &[&str]) -> Option<BinDir> {
        let found = first_complete(self.candidates(), programs);
        debug!(dir = ?found.as_ref().map(BinDir::dir), ?programs, "PostgreSQL programs");
        found
    }

    /// The folder whose `programs` (e.g. [`CLIENT_PROGRAMS`]) are of version `major`, else
    /// the newest folder newer than `major`, else `None`. `/usr/lib/postgresql/<major>/bin` is
    /// looked in right after the user's folder. The answer is kept for the rest of the process
    /// (per folder given, set of programs and version).
    #[must_use]
    pub fn find_major(&self, programs: &[&str], major: Major) -> Option<BinDir> {
        type Key = (Option<PathBuf>, Option<PathBuf>, Vec<String>, Major);
        static FOUND: Mutex<Option<HashMap<Key, BinDir>>> = Mutex::new(None);
        let key = (
            self.folder.clone(),
            self.env_folder.clone(),
            programs.iter().map(|p| (*p).to_owned()).collect(),
            major,
        );
        let cached = FOUND
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|found| found.get(&key).cloned());
        if cached.is_some() {
            return cached;
        }
        let versioned = Path::new(DEBIAN_ROOT).join(major.to_string()).join("bin");
        let given = self.folder.iter().chain(&self.env_folder).count();
        let candidates = self
            .folder
            .iter()
            .chain(&self.env_folder)
            .cloned()
            .chain([versioned])
            .chain(self.candidates().into_iter().skip(given));
        let found = closest(candidates, programs, major, BinDir::major)?;
        debug!(dir = %found.dir.display(), ?programs, %major, "PostgreSQL programs");
        FOUND
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(HashMap::new)
            .insert(key, found.clone());
        Some(found)
    }
}

/// The first of `candidates` that holds `programs`.
fn first_complete(
    candidates: impl IntoIterator<Item = PathBuf>,
    programs: &[&str],
) -> Option<BinDir> {
    candidates
        .into_iter()
        .find_map(|dir| complete_dir(&dir, programs))
}

/// Among `candidates` holding `programs`, the first of version `major`, else the newest
/// newer one. `version_of` tells a folder's version; each folder is asked once.
fn closest(
    candidates: impl IntoIterator<Item = PathBuf>,
    programs: &[&str],
    major: Major,
    version_of: impl Fn(&BinDir) -> Option<Major>,
) -> Option<BinDir> {
    let mut seen = Vec::new();
    let mut newer: Option<(Major, BinDir)> = None;
    for dir in candidates {
        let Some(found) = complete_dir(&dir, programs) else {
            continue;
        };
        if seen.contains(&found.dir) {
            continue;
        }
        seen.push(found.dir.clone());
        let Some(version) = version_of(&found) else {
            continue;
        };
        if version == major {
            return Some(found);
        }
        if version > major && newer.as_ref().is_none_or(|(v, _)| version > *v) {
            newer = Some((version, found));
        }
    }
    newer.map(|(_, dir)| dir)
}

/// `dir` as a [`BinDir`] of `programs` when they are all in it: the real folder of the first
/// program (following a symbolic link) when the whole set is there, else `dir` itself.
fn complete_dir(dir: &Path, programs: &[&str]) -> Option<BinDir> {
    let first = programs.first()?;
    let first_path = program_path(dir, first);
    if !is_executable(&first_path) {
        return None;
    }
    let holds_all = |d: &Path| programs.iter().all(|p| is_executable(&program_path(d, p)));
    let real = fs::canonicalize(&first_path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let dir = match real {
        Some(real) if holds_all(&real) => real,
        _ if holds_all(dir) => dir.to_path_buf(),
        _ => return None,
    };
    Some(BinDir {
        dir,
        first: (*first).to_owned(),
    })
}

/// `dir/name`, with the platform's executable suffix.
fn program_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{}", env::consts::EXE_SUFFIX))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// `pg_config --bindir`, when `pg_config` is on `PATH` and answers.
fn pg_config_bindir() -> Option<PathBuf> {
    let out = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !dir.trim().is_empty()).then(|| PathBuf::from(dir.trim()))
}

/// `/usr/lib/postgresql/*/bin`, newest version first.
fn debian_bindirs() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(DEBIAN_ROOT) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let key = name
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            Some((key, e.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{symlink, PermissionsExt};

    use super::*;

    /// A temporary folder, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                env::temp_dir().join(format!("trek-pg-binaries-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        /// A folder `name` with `programs`, each a script that prints `version` for
        /// `--version`.
        fn bin(&self, name: &str, programs: &[&str], version: &str) -> PathBuf {
            let dir = self.0.join(name);
            fs::create_dir_all(&dir).unwrap();
            for program in programs {
                let path = dir.join(program);
                fs::write(
                    &path,
                    format!("#!/bin/sh\necho '{program} (PostgreSQL) {version}'\n"),
                )
                .unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
            }
            dir
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn major_versions_are_read_from_version_output() {
        let read = |text| Major::from_version_output(text).map(|m| m.to_string());
        assert_eq!(
            read("pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n").as_deref(),
            Some("15")
        );
        assert_eq!(read("pg_ctl (PostgreSQL) 17beta1\n").as_deref(), Some("17"));
        assert_eq!(read("pg_ctl (PostgreSQL) 9.6.24\n").as_deref(), Some("9.6"));
        assert_eq!(read("garbage"), None);
    }

    #[test]
    fn major_versions_are_read_from_pg_version_and_server_version_num() {
        assert_eq!("15\n".parse(), Ok(Major::new(15)));
        assert_eq!(
            "9.6".parse::<Major>().map(|m| m.to_string()).as_deref(),
            Ok("9.6")
        );
        assert!("nine".parse::<Major>().is_err());
        assert!(
            "9".parse::<Major>().is_err(),
            "before 10 a major has two numbers"
        );
        assert_eq!(Major::from_version_num(150_014), Some(Major::new(15)));
        assert_eq!(Major::from_version_num(90_624), "9.6".parse().ok());
        assert_eq!(Major::from_version_num(-1), None);
    }

    #[test]
    fn major_versions_order_as_versions() {
        let v96: Major = "9.6".parse().unwrap();
        let v95: Major = "9.5".parse().unwrap();
        assert!(v95 < v96 && v96 < Major::new(10) && Major::new(10) < Major::new(15));
    }

    #[test]
    fn a_folder_counts_only_with_every_program_executable() {
        let scratch = Scratch::new("complete");
        let full = scratch.bin("full", SERVER_PROGRAMS, "15.2");
        let partial = scratch.bin("partial", &["initdb", "pg_ctl"], "15.2");
        let plain = scratch.bin("plain", SERVER_PROGRAMS, "15.2");
        fs::set_permissions(plain.join("postgres"), fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(complete_dir(&partial, SERVER_PROGRAMS), None);
        assert_eq!(complete_dir(&plain, SERVER_PROGRAMS), None);
        let found = first_complete([partial, plain, full.clone()], SERVER_PROGRAMS).unwrap();
        assert_eq!(found.dir(), fs::canonicalize(&full).unwrap());
        assert_eq!(found.major(), Some(Major::new(15)));
        assert_eq!(found.program("pg_ctl"), found.dir().join("pg_ctl"));
    }

    #[test]
    fn a_link_leads_to_the_real_folder_and_a_folder_of_wrappers_is_kept() {
        let scratch = Scratch::new("links");
        let real = scratch.bin("lib/15/bin", SERVER_PROGRAMS, "15.2");
        let linked = scratch.0.join("local-bin");
        fs::create_dir_all(&linked).unwrap();
        symlink(real.join("initdb"), linked.join("initdb")).unwrap();
        assert_eq!(
            complete_dir(&linked, SERVER_PROGRAMS).map(|b| b.dir),
            Some(fs::canonicalize(&real).unwrap()),
            "initdb's own folder, where pg_ctl and postgres are"
        );
        // Debian's /usr/bin: every client program a link to one wrapper elsewhere.
        let wrapper = scratch.bin("share", &["pg_wrapper"], "15.2");
        let usr_bin = scratch.0.join("usr-bin");
        fs::create_dir_all(&usr_bin).unwrap();
        for program in CLIENT_PROGRAMS {
            symlink(wrapper.join("pg_wrapper"), usr_bin.join(program)).unwrap();
        }
        let found = complete_dir(&usr_bin, CLIENT_PROGRAMS).unwrap();
        assert_eq!(found.dir(), usr_bin);
        assert_eq!(found.major(), Some(Major::new(15)));
    }

    #[test]
    fn the_matching_version_wins_else_the_newest_newer_one() {
        let scratch = Scratch::new("closest");
        let v14 = scratch.bin("14", CLIENT_PROGRAMS, "14.9");
        let v15 = scratch.bin("15", CLIENT_PROGRAMS, "15.4");
        let v16 = scratch.bin("16", CLIENT_PROGRAMS, "16.1");
        let v17 = scratch.bin("17", CLIENT_PROGRAMS, "17.0");
        let all = || [v14.clone(), v17.clone(), v16.clone(), v15.clone()];
        let pick = |major, candidates: [PathBuf; 4]| {
            closest(
                candidates,
                CLIENT_PROGRAMS,
                Major::new(major),
                BinDir::major,
            )
            .map(|b| b.dir().file_name().unwrap().to_string_lossy().into_owned())
        };
        assert_eq!(pick(15, all()).as_deref(), Some("15"));
        assert_eq!(
            pick(13, all()).as_deref(),
            Some("17"),
            "no 13: the newest newer one"
        );
        assert_eq!(
            pick(18, all()),
            None,
            "older programs cannot serve a newer server"
        );
    }

    #[test]
    fn each_folder_is_asked_its_version_once() {
        let scratch = Scratch::new("once");
        let v15 = scratch.bin("15", CLIENT_PROGRAMS, "15.4");
        let asked = std::cell::Cell::new(0);
        let found = closest(
            [v15.clone(), v15.clone(), v15],
            CLIENT_PROGRAMS,
            Major::new(16),
            |b| {
                asked.set(asked.get() + 1);
                b.major()
            },
        );
        assert_eq!(found, None);
        assert_eq!(asked.get(), 1);
    }

    #[test]
    fn trek_pg_bin_comes_after_the_users_folder_and_before_path() {
        let scratch = Scratch::new("env");
        let mine = scratch.bin("mine", CLIENT_PROGRAMS, "99.1");
        let named = scratch.bin("named", CLIENT_PROGRAMS, "17.2");
        // As `Search::new` makes it when TREK_PG_BIN is set (tests share the environment).
        let search = Search {
            folder: None,
            env_folder: Some(named.clone()),
        };
        assert_eq!(search.candidates().first(), Some(&named));
        assert!(
            search.places().starts_with("TREK_PG_BIN ("),
            "{}",
            search.places()
        );
        assert_eq!(
            search
                .find_major(CLIENT_PROGRAMS, Major::new(17))
                .map(|b| b.dir),
            Some(fs::canonicalize(&named).unwrap()),
            "before /usr/lib/postgresql/17/bin"
        );
        let both = search.clone().folder(&mine);
        assert_eq!(both.candidates()[..2], [mine.clone(), named.clone()]);
        assert_eq!(
            BinDir::at(&named, CLIENT_PROGRAMS).and_then(|b| b.major()),
            Some(Major::new(17))
        );
        assert_eq!(BinDir::at(&named, SERVER_PROGRAMS), None);
    }

    #[test]
    fn the_users_folder_is_looked_in_first_and_named_in_messages() {
        let scratch = Scratch::new("user");
        let mine = scratch.bin("mine", CLIENT_PROGRAMS, "99.1");
        let search = Search::new().folder(&mine);
        assert_eq!(search.candidates().first(), Some(&mine));
        assert!(search.places().starts_with(&mine.display().to_string()));
        assert_eq!(
            search.find(CLIENT_PROGRAMS).map(|b| b.dir),
            Some(fs::canonicalize(&mine).unwrap())
        );
        let found = search.find_major(CLIENT_PROGRAMS, Major::new(99)).unwrap();
        assert_eq!(found.dir(), fs::canonicalize(&mine).unwrap());
        // Kept for the process: the folder's programs are not asked again.
        fs::remove_dir_all(&mine).unwrap();
        assert_eq!(
            search
                .find_major(CLIENT_PROGRAMS, Major::new(99))
                .map(|b| b.dir),
            Some(found.dir)
        );
    }
}
