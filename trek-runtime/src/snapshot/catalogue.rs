//! `trek.snapshots`: the qa snapshot catalogue. Rows are parsed here, once, into typed
//! entries: the applied sequence each snapshot holds and where it is ([`Location`], which also
//! says which strategy took it).

use std::path::PathBuf;

use postgres::Client;

use super::SnapshotInfo;
use crate::error::{Error, Result};
use crate::history::applied::is_missing_relation;
use crate::history::sequence::SequenceKey;
use crate::sql::quote_ident;
use crate::timestamp::Timestamp;

/// Where a snapshot is, by the strategy that took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// `pg_dump`: a custom-format dump.
    File(PathBuf),
    /// `template`: a database on the same server.
    Database(String),
    /// `command`: the id the team's snapshot command was given, with the team's restore and
    /// delete commands as configured when it was taken (`None` for an entry written before
    /// trek recorded them).
    Command {
        id: String,
        restore: Option<String>,
        delete: Option<String>,
    },
    /// `restore_point`: the restore point's label and LSN, with the team's restore command as
    /// configured when it was taken.
    RestorePoint {
        label: String,
        lsn: String,
        restore: Option<String>,
    },
}

impl Location {
    /// The name of the strategy that took the snapshot, as stored.
    pub fn strategy(&self) -> &'static str {
        match self {
            Location::File(_) => "pg_dump",
            Location::Database(_) => "template",
            Location::Command { .. } => "command",
            Location::RestorePoint { .. } => "restore_point",
        }
    }

    /// The stored `location` text.
    pub fn text(&self) -> String {
        match self {
            Location::File(path) => path.display().to_string(),
            Location::Database(name) => name.clone(),
            Location::Command { id, .. } => id.clone(),
            Location::RestorePoint { label, lsn, .. } => format!("{label} {lsn}"),
        }
    }

    fn commands(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Location::Command {
                restore, delete, ..
            } => (restore.as_deref(), delete.as_deref()),
            Location::RestorePoint { restore, .. } => (restore.as_deref(), None),
            Location::File(_) | Location::Database(_) => (None, None),
        }
    }

    /// Parses a stored row's strategy, location and commands.
    fn parse(
        strategy: &str,
        location: String,
        restore: Option<String>,
        delete: Option<String>,
    ) -> Result<Location, String> {
        Ok(match strategy {
            "pg_dump" => Location::File(PathBuf::from(location)),
            "template" => Location::Database(location),
            "command" => Location::Command {
                id: location,
                restore,
                delete,
            },
            "restore_point" => {
                let (label, lsn) = location
                    .split_once(' ')
                    .ok_or_else(|| format!("{location:?} is not `label lsn`"))?;
                Location::RestorePoint {
                    label: label.to_owned(),
                    lsn: lsn.to_owned(),
                    restore,
                }
            }
            other => {
                return Err(format!(
                    "{other:?} is not pg_dump, template, command or restore_point"
                ))
            }
        })
    }
}

/// A catalogue entry: what callers see, what it holds and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapshotRecord {
    pub info: SnapshotInfo,
    /// The applied versioned migrations and seeds it holds, in applied order.
    pub applied: Vec<SequenceKey>,
    pub location: Location,
}

impl SnapshotRecord {
    /// An entry for a snapshot just taken.
    pub fn new(
        id: i64,
        label: &str,
        applied: Vec<SequenceKey>,
        location: Location,
        size_bytes: Option<i64>,
    ) -> Self {
        SnapshotRecord {
            info: SnapshotInfo {
                id,
                taken_at: String::new(),
                strategy: location.strategy().to_owned(),
                location: location.text(),
                label: label.to_owned(),
                applied_count: applied.len(),
                size_bytes,
            },
            applied,
            location,
        }
    }
}

/// Every catalogue entry, oldest first. Empty when the table does not exist yet.
///
/// # Errors
/// [`Error::Database`], or [`Error::BadHistory`] naming an entry trek cannot read.
pub(crate) fn read(client: &mut Client, schema: &str) -> Result<Vec<SnapshotRecord>> {
    let s = quote_ident(schema);
    let sql = format!(
        "SELECT id, (extract(epoch FROM taken_at) * 1000)::bigint, strategy, location, applied, \
                label, size_bytes, restore_command, delete_command \
         FROM {s}.snapshots ORDER BY id"
    );
    let rows = match client.query_typed(&sql, &[]) {
        Ok(rows) => rows,
        Err(e) if is_missing_relation(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::db("could not read trek's snapshot catalogue", e)),
    };
    rows.into_iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let bad = |column: &str, reason: String| Error::BadHistory {
                table: format!("{schema}.snapshots"),
                row: format!("id {id}"),
                column: column.to_owned(),
                reason,
            };
            let strategy: &str = r.get(2);
            let location = Location::parse(strategy, r.get(3), r.get(7), r.get(8))
                .map_err(|e| bad("strategy", e))?;
            let applied = r
                .get::<_, Vec<&str>>(4)
                .into_iter()
                .map(SequenceKey::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad("applied", e))?;
            Ok(SnapshotRecord {
                info: SnapshotInfo {
                    id,
                    taken_at: Timestamp::from_unix_ms(r.get(1)).to_string(),
                    strategy: location.strategy().to_owned(),
                    location: location.text(),
                    label: r.get(5),
                    applied_count: applied.len(),
                    size_bytes: r.get(6),
                },
                applied,
                location,
            })
        })
        .collect()
}

/// Reserves the id of the next snapshot.
pub(crate) fn next_id(client: &mut Client, schema: &str) -> Result<i64> {
    let table = format!("{}.snapshots", quote_ident(schema));
    let row = client
        .query_one(
            "SELECT nextval(pg_get_serial_sequence($1, 'id'))",
            &[&table],
        )
        .map_err(|e| Error::db("could not reserve a snapshot id", e))?;
    Ok(row.get(0))
}

/// Records a snapshot, with bind parameters; returns when the catalogue says it was taken.
///
/// # Errors
/// [`Error::Database`] when the row cannot be written.
pub(crate) fn insert(
    client: &mut impl postgres::GenericClient,
    schema: &str,
    record: &SnapshotRecord,
    workflow: &str,
) -> Result<Timestamp> {
    let applied: Vec<String> = record.applied.iter().map(ToString::to_string).collect();
    let (restore, delete) = record.location.commands();
    let row = client
        .query_one(
            &format!(
                "INSERT INTO {}.snapshots (id, strategy, location, applied, label, size_bytes, workflow, restore_command, delete_command) \
                 OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 RETURNING (extract(epoch FROM taken_at) * 1000)::bigint",
                quote_ident(schema)
            ),
            &[
                &record.info.id,
                &record.location.strategy(),
                &record.location.text(),
                &applied,
                &record.info.label,
                &record.info.size_bytes,
                &workflow,
                &restore,
                &delete,
            ],
        )
        .map_err(|e| Error::db("could not record the snapshot in the catalogue", e))?;
    Ok(Timestamp::from_unix_ms(row.get(0)))
}

/// Forgets snapshot `id`.
///
/// # Errors
/// [`Error::Database`] when the row cannot be deleted.
pub(crate) fn forget(client: &mut Client, schema: &str, id: i64) -> Result<()> {
    client
        .execute(
            &format!(
                "DELETE FROM {}.snapshots WHERE id = $1",
                quote_ident(schema)
            ),
            &[&id],
        )
        .map_err(|e| Error::db("could not remove a snapshot from the catalogue", e))?;
    Ok(())
}

/// A database or file name for snapshot `id` of `database`: `<database>__trek_<id>`, with the
/// database part shortened so the whole fits PostgreSQL's 63-byte identifiers.
pub(crate) fn object_name(database: &str, suffix: &str) -> String {
    let suffix = format!("__trek_{suffix}");
    let mut base = database.to_owned();
    while base.len() + suffix.len() > 63 {
        base.pop();
    }
    format!("{base}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_round_trip_through_their_stored_form() {
        for location in [
            Location::File(PathBuf::from("/var/backups/app__trek_3.dump")),
            Location::Database("app__trek_3".to_owned()),
            Location::Command {
                id: "3".to_owned(),
                restore: Some("restore {id}".to_owned()),
                delete: None,
            },
            Location::RestorePoint {
                label: "app__trek_3".to_owned(),
                lsn: "0/3000060".to_owned(),
                restore: Some("pitr {label}".to_owned()),
            },
        ] {
            let (restore, delete) = location.commands();
            let parsed = Location::parse(
                location.strategy(),
                location.text(),
                restore.map(str::to_owned),
                delete.map(str::to_owned),
            )
            .unwrap();
            assert_eq!(parsed, location);
        }
        assert!(Location::parse("zfs", "x".to_owned(), None, None).is_err());
        assert!(Location::parse("restore_point", "x".to_owned(), None, None).is_err());
    }
}
