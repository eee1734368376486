//! The naming rules of migration files: `VERSION_description.sql`, `.up.sql`, `.down.sql`.
//!
//! - At the top of the migrations folder, a **versioned** migration is
//!   `VERSION_description.sql`; `VERSION_description.up.sql` is an alias (what sqlx users
//!   have), and `VERSION_description.down.sql` is its optional down script.
//! - Under `seeds/`, a **seed** follows the same rule (with an optional `.down.sql`).
//! - Under `repeatable/`, a **repeatable** is `NAME.sql` (or `NAME.up.sql`); it has no version
//!   and no down script. Its name is the file stem.
//!
//! The version is the text before the first `_` (see [`Version::parse`]); the description is
//! everything after it up to the extension. The description (and a repeatable's name) may hold
//! any character a file name can (spaces and dots included) but must not be empty. The
//! extension must be lowercase `.sql`.
//!
//! Files that are not scripts are ignored ([`is_ignored`]): anything not ending in `.sql`
//! (a README, `.keep`, editor backups such as `x.sql~` or `x.sql.swp`) and hidden files
//! (`.x.sql`, emacs lock files `.#x.sql`).

use crate::{Kind, SourceErrorKind, Version};

/// Whether a script is an up or a down script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// `NAME.sql` or `NAME.up.sql`.
    Up,
    /// `NAME.down.sql`.
    Down,
}

/// The extension a script's file name ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suffix {
    /// `.sql`: an up script.
    Sql,
    /// `.up.sql`: an up script (alias of `.sql`).
    UpSql,
    /// `.down.sql`: a down script.
    DownSql,
}

impl Suffix {
    /// The suffix as written: `.sql`, `.up.sql` or `.down.sql`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Suffix::Sql => ".sql",
            Suffix::UpSql => ".up.sql",
            Suffix::DownSql => ".down.sql",
        }
    }

    /// Up for `.sql` and `.up.sql`, down for `.down.sql`.
    pub const fn direction(self) -> Direction {
        match self {
            Suffix::Sql | Suffix::UpSql => Direction::Up,
            Suffix::DownSql => Direction::Down,
        }
    }
}

/// A parsed script file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// The version; `None` for repeatables.
    pub version: Option<Version>,
    /// The description after the version's `_`, or a repeatable's name.
    pub name: String,
    /// Which extension the name ends with.
    pub suffix: Suffix,
}

impl FileName {
    /// Up or down.
    pub fn direction(&self) -> Direction {
        self.suffix.direction()
    }
}

/// Whether a file of a migrations folder is skipped without a word: hidden files and anything
/// whose name does not end in `.sql` (in any letter case).
pub fn is_ignored(file_name: &str) -> bool {
    file_name.starts_with('.') || !has_sql_extension(file_name)
}

/// Whether the name ends in `.sql` in any letter case (`.SQL` is a script with a bad name, not
/// a file to ignore).
pub fn has_sql_extension(file_name: &str) -> bool {
    let bytes = file_name.as_bytes();
    bytes.len() >= 4 && bytes[bytes.len() - 4..].eq_ignore_ascii_case(b".sql")
}

/// The naming rule for a kind of script, as error messages state it.
pub const fn rule(kind: Kind) -> &'static str {
    match kind {
        Kind::Versioned => "a migration is named VERSION_description.sql (or .up.sql, and .down.sql for its down script), like 0001_create_users.sql, where VERSION is one or more dot-separated unsigned integers",
        Kind::Seed => "a seed is named VERSION_description.sql (and .down.sql for its down script), like seeds/0001_demo_users.sql, where VERSION is one or more dot-separated unsigned integers",
        Kind::Repeatable => "a repeatable is named NAME.sql, like repeatable/refresh_views.sql",
    }
}

/// Parses the file name (not the path) of a script of `kind`.
///
/// # Errors
/// [`SourceErrorKind::BadFileName`] when the name breaks the rule of its kind, and
/// [`SourceErrorKind::RepeatableDown`] for a `.down.sql` repeatable.
pub fn parse(file_name: &str, kind: Kind) -> Result<FileName, SourceErrorKind> {
    let bad = |reason: String| SourceErrorKind::BadFileName { kind, reason };
    let (stem, suffix) = if let Some(stem) = file_name.strip_suffix(".down.sql") {
        (stem, Suffix::DownSql)
    } else if let Some(stem) = file_name.strip_suffix(".up.sql") {
        (stem, Suffix::UpSql)
    } else if let Some(stem) = file_name.strip_suffix(".sql") {
        (stem, Suffix::Sql)
    } else {
        return Err(bad("the extension must be lowercase `.sql`".to_owned()));
    };
    if kind == Kind::Repeatable {
        if suffix == Suffix::DownSql {
            return Err(SourceErrorKind::RepeatableDown);
        }
        if stem.is_empty() {
            return Err(bad("the name before the extension is empty".to_owned()));
        }
        return Ok(FileName {
            version: None,
            name: stem.to_owned(),
            suffix,
        });
    }
    let Some((version, description)) = stem.split_once('_') else {
        return Err(bad(format!(
            "`{stem}` has no `_` between the version and the description"
        )));
    };
    if version.is_empty() {
        return Err(bad("the name must start with a version".to_owned()));
    }
    let version = Version::parse(version)
        .map_err(|e| bad(format!("`{}` is not a version ({})", e.text, e.reason)))?;
    if description.is_empty() {
        return Err(bad("the description after the `_` is empty".to_owned()));
    }
    Ok(FileName {
        version: Some(version),
        name: description.to_owned(),
        suffix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(name: &str, kind: Kind) -> FileName {
        match parse(name, kind) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{name}: {e}"),
        }
    }

    fn reason(name: &str, kind: Kind) -> String {
        match parse(name, kind) {
            Err(SourceErrorKind::BadFileName { reason, .. }) => reason,
            other => panic!("{name}: expected a bad name, got {other:?}"),
        }
    }

    #[test]
    fn versioned_names_have_a_version_and_a_description() {
        let f = ok("0003_create_users.sql", Kind::Versioned);
        assert_eq!(f.version.as_ref().map(Version::as_str), Some("0003"));
        assert_eq!(f.name, "create_users");
        assert_eq!(f.suffix, Suffix::Sql);
        assert_eq!(f.direction(), Direction::Up);
    }

    #[test]
    fn up_sql_is_an_alias_and_down_sql_is_a_down() {
        let up = ok("2.1_add email.up.sql", Kind::Versioned);
        assert_eq!(up.suffix, Suffix::UpSql);
        assert_eq!(up.direction(), Direction::Up);
        assert_eq!(up.name, "add email");
        let down = ok("20261121093000_create.users.down.sql", Kind::Seed);
        assert_eq!(down.direction(), Direction::Down);
        assert_eq!(down.name, "create.users");
        assert_eq!(
            down.version.map(|v| v.parts().to_vec()),
            Some(vec![20261121093000])
        );
    }

    #[test]
    fn the_description_is_everything_after_the_first_underscore() {
        assert_eq!(ok("1__init.sql", Kind::Versioned).name, "_init");
        assert_eq!(ok("1_a_b_c.sql", Kind::Versioned).name, "a_b_c");
    }

    #[test]
    fn bad_versioned_names_say_why() {
        assert!(reason("0001.sql", Kind::Versioned).contains("no `_`"));
        assert!(reason("_x.sql", Kind::Versioned).contains("start with a version"));
        assert!(reason("V1__init.sql", Kind::Versioned).contains("`V1` is not a version"));
        assert!(reason("1..2_x.sql", Kind::Versioned).contains("empty component"));
        assert!(reason("1_.sql", Kind::Versioned).contains("description"));
        assert!(reason("1_.down.sql", Kind::Seed).contains("description"));
        assert!(reason("1_x.SQL", Kind::Versioned).contains("lowercase"));
        assert!(reason("99999999999999999999999_x.sql", Kind::Versioned).contains("too large"));
    }

    #[test]
    fn repeatables_are_named_by_their_stem_and_have_no_down() {
        let r = ok("refresh_views.sql", Kind::Repeatable);
        assert_eq!(r.version, None);
        assert_eq!(r.name, "refresh_views");
        assert_eq!(ok("01_views.up.sql", Kind::Repeatable).name, "01_views");
        assert_eq!(
            parse("views.down.sql", Kind::Repeatable),
            Err(SourceErrorKind::RepeatableDown)
        );
        assert!(reason(".sql", Kind::Repeatable).contains("empty"));
    }

    #[test]
    fn non_scripts_and_hidden_files_are_ignored() {
        for name in [
            "README.md",
            ".keep",
            "0001_a.sql~",
            ".0001_a.sql.swp",
            "0001_a.sql.swp",
            ".#0001_a.sql",
            "#0001_a.sql#",
            ".hidden.sql",
            "sql",
        ] {
            assert!(is_ignored(name), "{name}");
        }
        for name in ["0001_a.sql", "x.SQL", "a.up.sql"] {
            assert!(!is_ignored(name), "{name}");
        }
    }

    #[test]
    fn every_rule_names_an_example() {
        for kind in [Kind::Versioned, Kind::Repeatable, Kind::Seed] {
            assert!(rule(kind).contains(".sql"));
        }
    }
}
