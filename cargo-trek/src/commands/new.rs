//! `cargo trek new NAME`: scaffolds a migration, its down script, a repeatable or a seed, and
//! prints the paths.
//!
//! Versions (DESIGN §2): a UTC timestamp `YYYYMMDDHHMMSS`, or, when the folder already uses
//! small sequential numbers (`0001`, `0002`), the next one with the same zero padding. A
//! timestamp is never older than the newest one in the folder (two `new`s in one second, or a
//! clock behind a colleague's, still sort in creation order). The name is lower-cased, with
//! every run of other characters than ASCII letters and digits turned into one `_`. A file that
//! exists, or a migration of the same kind with the same name, is refused.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use trek::{Kind, Version};
use trek_core::file_name;

use crate::cli::NewArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output::{paint, style, Printer};
use crate::Exit;

/// The longest file name (bytes) common file systems (ext4, APFS, NTFS) accept.
const MAX_FILE_NAME: usize = 255;

/// Runs `new`.
///
/// # Errors
/// [`Error::Usage`] for a name with no letters or digits or one that collides,
/// [`Error::Io`] when a file cannot be written.
pub fn run(ctx: &Context, printer: &Printer, args: &NewArgs) -> Result<Exit, Error> {
    let name = normalize(&args.name).ok_or_else(|| Error::Usage {
        message: format!(
            "`{}` has no letters or digits to name a migration with",
            args.name
        ),
    })?;
    let kind = if args.repeatable {
        Kind::Repeatable
    } else if args.seed {
        Kind::Seed
    } else {
        Kind::Versioned
    };
    let dir = match kind {
        Kind::Versioned => ctx.migrations_dir.clone(),
        Kind::Repeatable => ctx.migrations_dir.join("repeatable"),
        Kind::Seed => ctx.migrations_dir.join("seeds"),
    };
    let existing = scan(&dir, kind);
    if let Some(same) = existing.iter().find(|s| s.name == name) {
        return Err(Error::Usage {
            message: format!(
                "{} already has the name `{name}`; choose another name",
                ctx.show_path(&dir.join(&same.file))
            ),
        });
    }

    let version = match kind {
        Kind::Repeatable => None,
        Kind::Versioned => Some(next_version(&existing, None, now_utc())),
        Kind::Seed => {
            // An empty seeds folder follows the style of the migrations.
            let style_of = scan(&ctx.migrations_dir, Kind::Versioned);
            Some(next_version(&existing, Some(&style_of), now_utc()))
        }
    };
    let stem = match &version {
        Some(v) => format!("{v}_{name}"),
        None => name.clone(),
    };
    // The longest file name it writes (`.down.sql`) must fit the file system's limit, or
    // writing it fails as an I/O error after the folder was made.
    let longest = stem.len() + ".down.sql".len();
    if longest > MAX_FILE_NAME {
        return Err(Error::Usage {
            message: format!(
                "the name `{name}` makes a file name of {longest} bytes, and file systems allow \
                 {MAX_FILE_NAME}: shorten it to at most {} bytes",
                name.len() - (longest - MAX_FILE_NAME)
            ),
        });
    }
    let up = dir.join(format!("{stem}.sql"));
    let down =
        (args.down && kind != Kind::Repeatable).then(|| dir.join(format!("{stem}.down.sql")));
    for path in std::iter::once(&up).chain(down.as_ref()) {
        if path.exists() {
            return Err(Error::Usage {
                message: format!("{} already exists", ctx.show_path(path)),
            });
        }
    }

    fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
    let title = args.name.trim();
    let mut text = String::new();
    if args.no_transaction {
        text.push_str("-- trek:no_transaction\n");
    }
    text.push_str(&format!("-- {title}\n"));
    text.push_str(match (kind, args.no_transaction) {
        (Kind::Repeatable, _) => {
            "-- Re-run whenever this file changes: write it so it can run again \
             (CREATE OR REPLACE, DROP ... IF EXISTS).\n"
        }
        (_, true) => {
            "-- Runs outside a transaction, one statement at a time (CREATE INDEX \
             CONCURRENTLY, ...).\n"
        }
        (Kind::Seed, false) => "-- Data for dev; never runs in prod.\n",
        (_, false) => "-- Runs in one transaction with its history row.\n",
    });
    text.push('\n');
    write_new(&up, &text)?;
    if let Some(down) = &down {
        let mut text = String::new();
        if args.no_transaction {
            // The down would inherit it; saying it keeps the file self-explanatory.
            text.push_str("-- trek:no_transaction\n");
        }
        text.push_str(&format!(
            "-- Revert: {title}\n-- Undoes {}; trek keeps a copy when the migration is applied.\n\
             -- With no statement at all, the migration is irreversible: `down` refuses it and dev\n\
             -- resets instead.\n\n",
            up.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        write_new(down, &text)?;
    }

    let created: Vec<String> = std::iter::once(&up)
        .chain(down.as_ref())
        .map(|p| ctx.show_path(p))
        .collect();
    if printer.json {
        printer.json(&crate::json::New {
            schema: crate::json::NewSchema,
            kind: crate::output::json::kind(kind),
            version,
            name,
            created,
        })?;
    } else {
        for path in &created {
            printer.line(&format!("{} {path}", paint(style::GOOD, "created")))?;
        }
    }
    Ok(Exit::Success)
}

fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(Error::io("create", path))?;
    file.write_all(text.as_bytes())
        .map_err(Error::io("write", path))
}

/// `"Create users!"` → `create_users`; `None` when nothing is left.
pub fn normalize(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    (!out.is_empty()).then_some(out)
}

/// A script already in the folder.
#[derive(Debug, Clone)]
struct Existing {
    file: PathBuf,
    version: Option<Version>,
    name: String,
}

fn scan(dir: &Path, kind: Kind) -> Vec<Existing> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            if file_name::is_ignored(&file) {
                return None;
            }
            let parsed = file_name::parse(&file, kind).ok()?;
            Some(Existing {
                file: PathBuf::from(file),
                version: parsed.version,
                name: parsed.name,
            })
        })
        .collect()
}

/// Versions of fewer digits than a timestamp in one component are "small sequential numbers".
const TIMESTAMP_DIGITS: usize = 14;

fn sequential_max(existing: &[Existing]) -> Option<(u64, usize)> {
    let versions: Vec<&Version> = existing.iter().filter_map(|e| e.version.as_ref()).collect();
    if versions.is_empty()
        || !versions
            .iter()
            .all(|v| v.parts().len() == 1 && v.as_str().len() < TIMESTAMP_DIGITS)
    {
        return None;
    }
    let newest = versions.iter().max()?;
    Some((newest.parts()[0], newest.as_str().len()))
}

fn next_version(existing: &[Existing], fallback_style: Option<&[Existing]>, now: u64) -> String {
    if let Some((max, width)) = sequential_max(existing) {
        return format!("{:0width$}", max + 1);
    }
    let has_versions = existing.iter().any(|e| e.version.is_some());
    if !has_versions {
        if let Some((_, width)) = fallback_style.and_then(sequential_max) {
            return format!("{:0width$}", 1);
        }
    }
    // A timestamp, after the newest timestamp already there.
    let newest = existing
        .iter()
        .filter_map(|e| e.version.as_ref())
        .filter(|v| v.parts().len() == 1 && v.as_str().len() == TIMESTAMP_DIGITS)
        .map(|v| v.parts()[0])
        .max();
    let mut seconds = now;
    if let Some(newest) = newest.and_then(parse_timestamp) {
        if newest >= seconds {
            seconds = newest + 1;
        }
    }
    format_timestamp(seconds)
}

fn now_utc() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seconds since the epoch as `YYYYMMDDHHMMSS` (UTC).
fn format_timestamp(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rem = seconds % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// `YYYYMMDDHHMMSS` as seconds since the epoch, when it is a valid time.
fn parse_timestamp(ts: u64) -> Option<u64> {
    let (date, time) = (ts / 1_000_000, ts % 1_000_000);
    let (y, m, d) = (date / 10_000, date / 100 % 100, date % 100);
    let (hh, mm, ss) = (time / 10_000, time / 100 % 100, time % 100);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let days = days_from_civil(i64::try_from(y).ok()?, m, d);
    let days = u64::try_from(days).ok()?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u64, d: u64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400) as u64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i64 - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(versions: &[&str]) -> Vec<Existing> {
        versions
            .iter()
            .map(|v| Existing {
                file: PathBuf::from(format!("{v}_x.sql")),
                version: Some(Version::parse(v).unwrap()),
                name: format!("x{v}"),
            })
            .collect()
    }

    #[test]
    fn names_are_normalized() {
        assert_eq!(normalize("Create users").as_deref(), Some("create_users"));
        assert_eq!(
            normalize("  add e-mail, index!! ").as_deref(),
            Some("add_e_mail_index")
        );
        assert_eq!(normalize("v2 API"), Some("v2_api".to_owned()));
        assert_eq!(normalize("!!!"), None);
    }

    #[test]
    fn timestamps_round_trip() {
        // 2026-11-21 09:30:00 UTC
        let t = parse_timestamp(20_261_121_093_000).unwrap();
        assert_eq!(format_timestamp(t), "20261121093000");
        assert_eq!(format_timestamp(0), "19700101000000");
        assert_eq!(format_timestamp(t + 60), "20261121093100");
        assert_eq!(parse_timestamp(20_261_399_000_000), None);
    }

    #[test]
    fn sequential_folders_get_the_next_number_with_the_same_padding() {
        let now = parse_timestamp(20_261_121_093_000).unwrap();
        assert_eq!(
            next_version(&existing(&["0001", "0002"]), None, now),
            "0003"
        );
        assert_eq!(next_version(&existing(&["7", "9"]), None, now), "10");
        assert_eq!(next_version(&existing(&["0099"]), None, now), "0100");
        assert_eq!(next_version(&[], Some(&existing(&["001"])), now), "001");
    }

    #[test]
    fn timestamps_follow_the_newest_one() {
        let now = parse_timestamp(20_261_121_093_000).unwrap();
        assert_eq!(next_version(&[], None, now), "20261121093000");
        assert_eq!(
            next_version(&existing(&["20261121093000"]), None, now),
            "20261121093001"
        );
        assert_eq!(
            next_version(&existing(&["20240101000000"]), None, now),
            "20261121093000"
        );
        assert_eq!(
            next_version(&existing(&["20261121093059"]), None, now),
            "20261121093100"
        );
    }
}
