//! Finding PostgreSQL's server programs: on `PATH`, in `pg_config --bindir`, or in the newest
//! `/usr/lib/postgresql/<version>/bin` (Debian and Ubuntu keep them there, off `PATH`).

use std::env;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tracing::debug;

/// The folder holding `initdb`, `pg_ctl` and `postgres`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Binaries {
    pub(super) dir: PathBuf,
}

impl Binaries {
    /// The first folder, in trek's search order, that holds all three programs.
    pub(super) fn find() -> Option<Self> {
        let on_path = env::var_os("PATH")
            .map(|path| env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default();
        let found = on_path
            .into_iter()
            .chain(pg_config_bindir())
            .chain(debian_bindirs())
            .find_map(|dir| complete_dir(&dir));
        debug!(dir = ?found, "PostgreSQL binaries");
        found.map(|dir| Self { dir })
    }

    pub(super) fn initdb(&self) -> PathBuf {
        self.dir.join("initdb")
    }

    pub(super) fn pg_ctl(&self) -> PathBuf {
        self.dir.join("pg_ctl")
    }

    /// The major version of these binaries (`15`, or `9.6` before 10), from
    /// `pg_ctl --version`; `None` when it cannot be told.
    pub(super) fn major_version(&self) -> Option<String> {
        let out = Command::new(self.pg_ctl())
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        major_version(&String::from_utf8_lossy(&out.stdout))
    }
}

/// The real folder of `dir/initdb` (following a symbolic link such as
/// `/usr/local/bin/initdb → /usr/lib/postgresql/15/bin/initdb`), when `pg_ctl` and `postgres`
/// are beside it.
fn complete_dir(dir: &Path) -> Option<PathBuf> {
    let initdb = dir.join("initdb");
    if !is_executable(&initdb) {
        return None;
    }
    let real = fs::canonicalize(&initdb).ok()?.parent()?.to_path_buf();
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|program| is_executable(&real.join(program)))
        .then_some(real)
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `pg_config --bindir`, when `pg_config` is on `PATH` and answers.
pub(crate) fn pg_config_bindir() -> Option<PathBuf> {
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
    let Ok(entries) = fs::read_dir("/usr/lib/postgresql") else {
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

/// The major version in `pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)`: `15`; `9.6` for
/// `9.6.24`.
fn major_version(version_line: &str) -> Option<String> {
    let number = version_line.split(')').nth(1)?.split_whitespace().next()?;
    let mut parts = number.split(|c: char| !c.is_ascii_digit());
    let first = parts.next().filter(|p| !p.is_empty())?;
    if first.parse::<u32>().ok()? >= 10 {
        Some(first.to_owned())
    } else {
        Some(format!("{first}.{}", parts.next()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_version_is_read_from_pg_ctl_version_output() {
        assert_eq!(
            major_version("pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n").as_deref(),
            Some("15")
        );
        assert_eq!(
            major_version("pg_ctl (PostgreSQL) 17beta1\n").as_deref(),
            Some("17")
        );
        assert_eq!(
            major_version("pg_ctl (PostgreSQL) 9.6.24\n").as_deref(),
            Some("9.6")
        );
        assert_eq!(major_version("garbage"), None);
    }
}
