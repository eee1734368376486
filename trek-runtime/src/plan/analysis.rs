//! The comparison at the heart of planning (DESIGN §5): the desired sequence (versioned
//! migrations, then seeds where the workflow runs them) against the applied one, position by
//! position, and the repeatables against their last runs. Pure.

use std::collections::HashMap;

use trek_core::{Kind, Migration, Migrations, Version};

use super::view;
use crate::history::sequence::SequenceKey;
use crate::history::AppliedRow;
use crate::status::{State, StatusEntry};

/// A versioned migration's or seed's identity, borrowed (no copy per comparison).
type Key<'a> = (Kind, &'a Version);

fn row_key(row: &AppliedRow) -> Option<Key<'_>> {
    Some((row.kind, row.version.as_ref()?))
}

fn migration_key(m: &Migration) -> Option<Key<'_>> {
    Some((m.kind(), m.version()?))
}

/// Whether the applied row's checksum says its file changed since.
fn edited(row: &AppliedRow, m: &Migration) -> bool {
    m.checksum().differs_from(&row.checksum)
}

/// The comparison of the desired and applied sequences.
#[derive(Debug)]
pub(crate) struct Analysis<'m, 'r> {
    /// Versioned migrations and (when the workflow runs them) seeds, in desired order.
    pub desired: Vec<&'m Migration>,
    /// Applied versioned migrations and seeds, in applied order.
    pub sequence: Vec<&'r AppliedRow>,
    /// The first position where the two sequences differ, if any, and why.
    pub divergence: Option<(usize, String)>,
    /// Desired items not applied, in desired order.
    pub pending: Vec<&'m Migration>,
    /// Pending versioned migrations older than the newest applied versioned migration.
    pub out_of_order: Vec<&'m Migration>,
    /// Applied rows whose file changed.
    pub modified: Vec<(&'r AppliedRow, &'m Migration)>,
    /// Applied rows with no file.
    pub missing: Vec<&'r AppliedRow>,
    /// Applied rows marked failed, with their file when it still exists.
    pub failed: Vec<(&'r AppliedRow, Option<&'m Migration>)>,
    /// Repeatables that are new, changed or failed since they last ran.
    pub repeatables_due: Vec<&'m Migration>,
    /// Repeatables marked `run always`.
    pub repeatables_always: Vec<&'m Migration>,
    /// Every repeatable, in name order (what runs after a reset or restore).
    pub repeatables_all: Vec<&'m Migration>,
    /// The last run of each repeatable, by name.
    last_repeatable: HashMap<&'r str, &'r AppliedRow>,
}

/// Compares `migrations` with the applied `rows` (in applied order); seeds are part of the
/// desired sequence when `runs_seeds`.
pub(crate) fn analyze<'m, 'r>(
    migrations: &'m Migrations,
    rows: &'r [AppliedRow],
    runs_seeds: bool,
) -> Analysis<'m, 'r> {
    let mut desired: Vec<&Migration> = migrations.versioned().collect();
    if runs_seeds {
        desired.extend(migrations.seeds());
    }
    let sequence: Vec<&AppliedRow> = rows
        .iter()
        .filter(|r| match r.kind {
            Kind::Versioned => true,
            Kind::Seed => runs_seeds,
            Kind::Repeatable => false,
        })
        .collect();

    let by_key: HashMap<Key, &Migration> = migrations
        .all()
        .iter()
        .filter_map(|m| Some((migration_key(m)?, m)))
        .collect();
    let file_of = |row: &AppliedRow| row_key(row).and_then(|k| by_key.get(&k).copied());

    let divergence = sequence.iter().enumerate().find_map(|(i, row)| {
        let wanted = desired.get(i).copied();
        let matches = wanted
            .is_some_and(|m| migration_key(m) == row_key(row) && !row.failed && !edited(row, m));
        if matches {
            return None;
        }
        let reason = match (file_of(row), wanted) {
            _ if row.failed => "it failed halfway".to_owned(),
            (Some(m), _) if edited(row, m) => "edited since it was applied".to_owned(),
            (None, _) => "its file is gone".to_owned(),
            (Some(_), Some(w)) => format!("{} is new and comes before it", w.label()),
            (Some(_), None) => "it is no longer part of this workflow".to_owned(),
        };
        Some((i, reason))
    });

    let mut modified = Vec::new();
    let mut missing = Vec::new();
    let mut failed = Vec::new();
    for row in &sequence {
        let file = file_of(row);
        if row.failed {
            failed.push((*row, file));
        }
        match file {
            Some(m) if edited(row, m) => modified.push((*row, m)),
            Some(_) => {}
            None => missing.push(*row),
        }
    }

    let applied_keys: HashMap<Key, &AppliedRow> = sequence
        .iter()
        .filter_map(|r| Some((row_key(r)?, *r)))
        .collect();
    let newest_applied = sequence
        .iter()
        .filter(|r| r.kind == Kind::Versioned)
        .filter_map(|r| r.version.as_ref())
        .max();
    let pending: Vec<&Migration> = desired
        .iter()
        .copied()
        .filter(|m| migration_key(m).is_none_or(|k| !applied_keys.contains_key(&k)))
        .collect();
    let out_of_order = pending
        .iter()
        .copied()
        .filter(|m| {
            m.kind() == Kind::Versioned
                && newest_applied.is_some_and(|newest| m.version().is_some_and(|v| v < newest))
        })
        .collect();

    let last_repeatable: HashMap<&str, &AppliedRow> = rows
        .iter()
        .filter(|r| r.kind == Kind::Repeatable)
        .map(|r| (r.name.as_str(), r))
        .collect();
    let repeatables_due = migrations
        .repeatables()
        .filter(|m| {
            last_repeatable
                .get(m.name())
                .is_none_or(|r| r.failed || edited(r, m))
        })
        .collect();
    let repeatables_always = migrations
        .repeatables()
        .filter(|m| m.directives().run_always)
        .collect();

    Analysis {
        desired,
        sequence,
        divergence,
        pending,
        out_of_order,
        modified,
        missing,
        failed,
        repeatables_due,
        repeatables_always,
        repeatables_all: migrations.repeatables().collect(),
        last_repeatable,
    }
}

impl<'m> Analysis<'m, '_> {
    /// The applied sequence's keys, in applied order.
    pub fn sequence_keys(&self) -> Vec<SequenceKey> {
        self.sequence
            .iter()
            .filter_map(|r| SequenceKey::of_row(r))
            .collect()
    }

    /// How many of the desired items are versioned migrations (they come first).
    pub fn versioned_desired(&self) -> usize {
        self.desired
            .iter()
            .take_while(|m| m.kind() == Kind::Versioned)
            .count()
    }

    /// The desired sequence's keys, in desired order.
    pub fn desired_keys(&self) -> Vec<SequenceKey> {
        self.desired
            .iter()
            .filter_map(|m| SequenceKey::of(m))
            .collect()
    }

    /// The divergence as callers see it.
    pub fn divergence_view(&self) -> Option<view::Divergence> {
        let (at, reason) = self.divergence.as_ref()?;
        Some(view::Divergence {
            position: *at,
            label: self.sequence[*at].label(),
            reason: reason.clone(),
        })
    }

    /// One status entry per migration file and applied row.
    pub fn status_entries(&self, migrations: &'m Migrations) -> Vec<StatusEntry> {
        let applied: HashMap<Key, &AppliedRow> = self
            .sequence
            .iter()
            .filter_map(|r| Some((row_key(r)?, *r)))
            .collect();
        let mut entries = Vec::new();
        for m in &self.desired {
            let row = migration_key(m).and_then(|k| applied.get(&k).copied());
            let state = match row {
                Some(r) if r.failed => State::Failed,
                Some(r) if r.reverted_statements > 0 => State::HalfReverted,
                Some(r) if edited(r, m) => State::Modified,
                Some(_) => State::Applied,
                None if self.out_of_order.iter().any(|o| std::ptr::eq(*o, *m)) => State::OutOfOrder,
                None => State::Pending,
            };
            entries.push(file_entry(m, row, state));
        }
        for row in &self.missing {
            entries.push(StatusEntry {
                kind: row.kind,
                version: row.version.as_ref().map(ToString::to_string),
                name: row.name.clone(),
                path: None,
                state: State::Missing,
                applied_at: Some(row.applied_at.to_string()),
                duration_ms: Some(row.duration_ms),
                applied_checksum: Some(row.checksum.to_string()),
                file_checksum: None,
                applied_sql: None,
                reverted_statements: (row.reverted_statements > 0)
                    .then_some(row.reverted_statements),
            });
        }
        for m in migrations.repeatables() {
            let row = self.last_repeatable.get(m.name()).copied();
            let state = match row {
                Some(r) if r.failed => State::Failed,
                Some(r) if !edited(r, m) => State::Applied,
                _ => State::Pending,
            };
            entries.push(file_entry(m, row, state));
        }
        let rank = |e: &StatusEntry| match e.kind {
            Kind::Versioned => 0,
            Kind::Repeatable => 1,
            Kind::Seed => 2,
        };
        entries.sort_by(|a, b| {
            rank(a).cmp(&rank(b)).then_with(|| {
                let va = a.version.as_deref().and_then(|v| Version::parse(v).ok());
                let vb = b.version.as_deref().and_then(|v| Version::parse(v).ok());
                va.cmp(&vb).then_with(|| a.name.cmp(&b.name))
            })
        });
        entries
    }
}

fn file_entry(m: &Migration, row: Option<&AppliedRow>, state: State) -> StatusEntry {
    StatusEntry {
        kind: m.kind(),
        version: m.version().map(ToString::to_string),
        name: m.name().to_owned(),
        path: Some(m.path().to_owned()),
        state,
        applied_at: row.map(|r| r.applied_at.to_string()),
        duration_ms: row.map(|r| r.duration_ms),
        applied_checksum: row.map(|r| r.checksum.to_string()),
        file_checksum: Some(m.checksum().to_string()),
        applied_sql: None,
        reverted_statements: row.map(|r| r.reverted_statements).filter(|n| *n > 0),
    }
}
