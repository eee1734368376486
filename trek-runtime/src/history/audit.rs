//! `trek.audit`: the append-only log of everything trek did to the database.

use std::fmt;
use std::time::Duration;

use postgres::types::Type;
use postgres::Client;

use super::applied::is_missing_relation;
use crate::error::{Error, Result};
use crate::sql::{quote_ident, quote_literal, quote_nullable};

/// The action names stored in `trek.audit.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// A migration, repeatable or seed was applied (or failed to apply).
    Apply,
    /// A migration or seed was reverted with its captured down script.
    Revert,
    /// Modified checksums were accepted or failed rows cleared.
    Repair,
    /// Migrations were recorded as applied without running them.
    Baseline,
    /// The managed schemas (or the database) were dropped and recreated.
    Reset,
    /// A qa snapshot was taken.
    Snapshot,
    /// A qa snapshot was restored.
    Restore,
    /// A dry run simulated the plan and rolled it back.
    DryRun,
}

impl Action {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Apply => "apply",
            Action::Revert => "revert",
            Action::Repair => "repair",
            Action::Baseline => "baseline",
            Action::Reset => "reset",
            Action::Snapshot => "snapshot",
            Action::Restore => "restore",
            Action::DryRun => "dry-run",
        }
    }
}

/// One row of `trek.audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEntry {
    /// Increases with time.
    pub id: i64,
    /// When (UTC, RFC 3339, milliseconds).
    pub at: String,
    /// `apply`, `revert`, `repair`, `baseline`, ...
    pub action: String,
    /// `versioned`, `repeatable` or `seed`, when the action was about one script.
    pub kind: Option<String>,
    /// The script's version.
    pub version: Option<String>,
    /// The script's name.
    pub name: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// The error, for failures.
    pub error: Option<String>,
    /// What was done, when the action needs explaining (a repair).
    pub detail: Option<String>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// The workflow that ran it.
    pub workflow: Option<String>,
    /// The database user.
    pub db_user: String,
    /// The client: host and process.
    pub client: Option<String>,
    /// The trek version that wrote the row.
    pub trek_version: String,
}

/// The values of one audit row: written with bind parameters ([`AuditRecord::insert`]), or, in
/// the one-round-trip apply batch and the scripts `psql` replays, as an `INSERT` sent with the
/// work it records ([`AuditRecord::insert_sql`]).
#[derive(Debug, Clone)]
pub(crate) struct AuditRecord<'a> {
    pub action: Action,
    pub kind: Option<&'a str>,
    pub version: Option<&'a str>,
    pub name: Option<&'a str>,
    pub error: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub workflow: Option<&'a str>,
    pub client: &'a str,
}

impl AuditRecord<'_> {
    /// Writes this row with bind parameters; `duration_ms` as trek measured it.
    ///
    /// # Errors
    /// [`Error::Database`] when the row cannot be written.
    pub fn insert(
        &self,
        client: &mut impl postgres::GenericClient,
        schema: &str,
        duration_ms: i64,
    ) -> Result<()> {
        client
            .execute(
                &format!(
                    "INSERT INTO {}.audit (action, kind, version, name, outcome, error, detail, duration_ms, workflow, client, trek_version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    quote_ident(schema)
                ),
                &[
                    &self.action.as_str(),
                    &self.kind,
                    &self.version,
                    &self.name,
                    &if self.error.is_some() { "failure" } else { "success" },
                    &self.error,
                    &self.detail,
                    &duration_ms,
                    &self.workflow,
                    &self.client,
                    &crate::TREK_VERSION,
                ],
            )
            .map_err(|e| Error::db("could not write to trek's audit log", e))?;
        Ok(())
    }

    /// The `INSERT` statement for this row; `duration_sql` is an SQL expression for the
    /// duration in ms (a literal, or computed from the clock).
    pub fn insert_sql(&self, schema: &str, duration_sql: &str) -> String {
        format!(
            "INSERT INTO {s}.audit (action, kind, version, name, outcome, error, detail, duration_ms, workflow, client, trek_version) \
             VALUES ({action}, {kind}, {version}, {name}, {outcome}, {error}, {detail}, {duration}, {workflow}, {client}, {tv})",
            s = quote_ident(schema),
            action = quote_literal(self.action.as_str()),
            kind = quote_nullable(self.kind),
            version = quote_nullable(self.version),
            name = quote_nullable(self.name),
            outcome = quote_literal(if self.error.is_some() { "failure" } else { "success" }),
            error = quote_nullable(self.error),
            detail = quote_nullable(self.detail),
            duration = duration_sql,
            workflow = quote_nullable(self.workflow),
            client = quote_literal(self.client),
            tv = quote_literal(crate::TREK_VERSION),
        )
    }
}

/// Where a reading of the audit log starts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditSince {
    /// From this time on: RFC 3339 (`2026-11-20T08:00:00Z`, `2026-11-20T08:00:00+01:00`),
    /// UTC when it has no offset.
    Time(String),
    /// From this long ago on, by the database's clock.
    Ago(Duration),
}

impl AuditSince {
    /// Parses an RFC 3339 time (`2026-11-20T08:00:00Z`; a space for the `T`, fractional
    /// seconds and a missing offset, meaning UTC, are accepted; so is a date alone, meaning
    /// its midnight UTC) or a duration ago: a positive integer and a unit, `s`, `min` (or
    /// `m`), `h`, `d` or `w` (`30min`, `2h`, `7d`).
    ///
    /// # Errors
    /// A message saying what is accepted.
    pub fn parse(text: &str) -> std::result::Result<AuditSince, String> {
        let text = text.trim();
        if let Some(ago) = parse_ago(text) {
            return Ok(AuditSince::Ago(ago));
        }
        if let Some(time) = parse_rfc3339(text) {
            return Ok(AuditSince::Time(time));
        }
        Err(format!(
            "`{text}` is neither an RFC 3339 time (2026-11-20T08:00:00Z, 2026-11-20) nor a \
             duration ago (30min, 2h, 7d)"
        ))
    }
}

impl fmt::Display for AuditSince {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditSince::Time(time) => f.write_str(time),
            AuditSince::Ago(ago) => write!(f, "{}s ago", ago.as_secs()),
        }
    }
}

fn parse_ago(text: &str) -> Option<Duration> {
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(digits);
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(seconds)?))
}

/// `text` as a full RFC 3339 time, or `None` when it is not one.
fn parse_rfc3339(text: &str) -> Option<String> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let in_range =
        |s: &str, lo: u32, hi: u32| s.parse::<u32>().is_ok_and(|v| (lo..=hi).contains(&v));
    let date = text.get(..10)?;
    let (y, m, d) = (date.get(..4)?, date.get(5..7)?, date.get(8..10)?);
    if !(digits(y, 4)
        && &date[4..5] == "-"
        && in_range(m, 1, 12)
        && &date[7..8] == "-"
        && in_range(d, 1, 31))
    {
        return None;
    }
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (hms, fraction) = clock
        .split_once('.')
        .map_or((clock, None), |(a, b)| (a, Some(b)));
    let mut parts = hms.split(':');
    let (h, mi, s) = (parts.next()?, parts.next()?, parts.next().unwrap_or("00"));
    if parts.next().is_some()
        || !(digits(h, 2) && in_range(h, 0, 23))
        || !(digits(mi, 2) && in_range(mi, 0, 59))
        || !(digits(s, 2) && in_range(s, 0, 60))
        || fraction
            .is_some_and(|f| !(1..=9).contains(&f.len()) || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let offset_ok = match offset {
        "" | "Z" | "z" => true,
        o => {
            let (oh, om) = o[1..].split_once(':')?;
            digits(oh, 2) && in_range(oh, 0, 23) && digits(om, 2) && in_range(om, 0, 59)
        }
    };
    if !offset_ok {
        return None;
    }
    let offset = if offset.is_empty() || offset == "z" {
        "Z"
    } else {
        offset
    };
    Some(format!("{date}T{clock}{offset}"))
}

/// The newest `limit` audit rows at or after `since` (all of them with `None`), newest
/// first. Empty when trek's tables do not exist. The filter runs in SQL.
pub(crate) fn read(
    client: &mut Client,
    schema: &str,
    limit: i64,
    since: Option<&AuditSince>,
) -> Result<Vec<AuditEntry>> {
    let s = quote_ident(schema);
    let sql = format!(
        "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), action, kind, version, name, \
                outcome, error, detail, duration_ms, workflow, db_user, client, trek_version \
         FROM {s}.audit \
         WHERE ($2::text IS NULL OR at >= $2::text::timestamptz) \
           AND ($3::float8 IS NULL OR at >= now() - make_interval(secs => $3::float8)) \
         ORDER BY id DESC LIMIT $1"
    );
    let time = match since {
        Some(AuditSince::Time(time)) => Some(time.as_str()),
        _ => None,
    };
    let ago = match since {
        Some(AuditSince::Ago(ago)) => Some(ago.as_secs_f64()),
        _ => None,
    };
    let rows = match client.query_typed(
        &sql,
        &[
            (&limit, Type::INT8),
            (&time, Type::TEXT),
            (&ago, Type::FLOAT8),
        ],
    ) {
        Ok(rows) => rows,
        Err(e) if is_missing_relation(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::db("could not read trek's audit log", e)),
    };
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            action: r.get(2),
            kind: r.get(3),
            version: r.get(4),
            name: r.get(5),
            outcome: r.get(6),
            error: r.get(7),
            detail: r.get(8),
            duration_ms: r.get(9),
            workflow: r.get(10),
            db_user: r.get(11),
            client: r.get(12),
            trek_version: r.get(13),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_ago() {
        let ago = |t: &str| match AuditSince::parse(t) {
            Ok(AuditSince::Ago(d)) => d.as_secs(),
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(ago("30s"), 30);
        assert_eq!(ago("15min"), 900);
        assert_eq!(ago("15m"), 900);
        assert_eq!(ago("2h"), 7200);
        assert_eq!(ago("7d"), 604_800);
        assert_eq!(ago("1w"), 604_800);
        for bad in ["0h", "h", "2", "2y", "-2h", "99999999999999999999d", ""] {
            assert!(AuditSince::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn since_takes_an_rfc3339_time_utc_by_default() {
        let time = |t: &str| match AuditSince::parse(t) {
            Ok(AuditSince::Time(s)) => s,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(time("2026-11-20T08:00:00Z"), "2026-11-20T08:00:00Z");
        assert_eq!(
            time("2026-11-20 08:00:00.123+01:00"),
            "2026-11-20T08:00:00.123+01:00"
        );
        assert_eq!(time("2026-11-20T08:00"), "2026-11-20T08:00Z");
        assert_eq!(time("2026-11-20"), "2026-11-20T00:00:00Z");
        for bad in [
            "2026-13-01",
            "2026-11-20X08:00:00",
            "2026-11-20T25:00:00Z",
            "2026-11-20T08:00:00+1",
            "yesterday",
            "2026-11-20T08:00:00.Z",
        ] {
            assert!(AuditSince::parse(bad).is_err(), "{bad}");
        }
    }
}
