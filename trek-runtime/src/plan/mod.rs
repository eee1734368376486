//! Planning: compare the desired sequence with the applied one and decide what to do.
//!
//! Pure: migrations and history rows in, a plan out; no database access (DESIGN §5).
//! [`view`] holds the plan as callers see it.

pub(crate) mod view;

use std::collections::HashMap;

use trek_core::{Kind, Migration, Migrations, Version};

use crate::error::{Error, Result};
use crate::history::AppliedRow;
use crate::report::Warning;
use crate::snapshot::catalogue::{self, SnapshotRecord};
use crate::status::{State, StatusEntry};
use crate::Workflow;

/// What a run will do, in order: undo (revert newest first, reset, or restore a snapshot),
/// take a snapshot (qa), apply, then run repeatables.
#[derive(Debug, Default)]
pub(crate) struct Plan<'m, 'r> {
    pub revert: Vec<&'r AppliedRow>,
    /// dev: reset instead of reverting, for this reason.
    pub reset: Option<String>,
    /// qa: restore this snapshot first.
    pub restore: Option<SnapshotRecord>,
    /// qa: take a snapshot before applying.
    pub snapshot: bool,
    pub apply: Vec<&'m Migration>,
    pub repeatables: Vec<&'m Migration>,
    pub warnings: Vec<Warning>,
}

impl Plan<'_, '_> {
    /// The plan as callers see it.
    pub fn view(&self, workflow: Workflow, analysis: &Analysis<'_, '_>) -> view::Plan {
        let undo = if let Some(reason) = &self.reset {
            view::Undo::Reset {
                reason: reason.clone(),
            }
        } else if let Some(record) = &self.restore {
            view::Undo::Restore {
                snapshot: record.info.clone(),
            }
        } else if !self.revert.is_empty() {
            view::Undo::Rewind {
                scripts: self.revert.iter().map(|r| r.label()).collect(),
            }
        } else {
            view::Undo::Nothing
        };
        let (seeds, versioned): (Vec<_>, Vec<_>) =
            self.apply.iter().partition(|m| m.kind() == Kind::Seed);
        let apply = versioned
            .iter()
            .chain(&self.repeatables)
            .chain(&seeds)
            .map(|m| view::PlannedScript {
                kind: m.kind(),
                version: m.version().map(ToString::to_string),
                name: m.name().to_owned(),
                path: m.path().to_owned(),
            })
            .collect();
        view::Plan {
            workflow,
            divergence: analysis.divergence_view(),
            undo,
            snapshot: self.snapshot,
            apply,
        }
    }

    /// Whether the plan changes nothing.
    #[cfg(test)]
    pub fn is_noop(&self) -> bool {
        self.revert.is_empty()
            && self.reset.is_none()
            && self.restore.is_none()
            && self.apply.is_empty()
            && self.repeatables.is_empty()
    }
}

/// Options that shape a plan.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanOptions {
    pub target: Option<Version>,
    pub allow_out_of_order: bool,
    pub strict: bool,
}

/// Whether two stored checksums say the script is unchanged. Checksums of different algorithms
/// cannot be compared and count as unchanged, so a future algorithm change never makes every
/// migration look edited.
pub(crate) fn same_checksum(applied: &str, file: &str) -> bool {
    let algorithm = |s: &str| s.split_once(':').map_or("", |(tag, _)| tag).to_owned();
    if algorithm(applied) != algorithm(file) {
        return true;
    }
    applied == file
}

type Key = (Kind, Version);

fn row_key(row: &AppliedRow) -> Option<Key> {
    let version = Version::parse(row.version.as_deref()?).ok()?;
    Some((row.kind, version))
}

fn migration_key(m: &Migration) -> Option<Key> {
    Some((m.kind(), m.version()?.clone()))
}

/// The comparison of the desired and applied sequences.
#[derive(Debug)]
pub(crate) struct Analysis<'m, 'r> {
    /// Versioned migrations and (when the workflow runs them) seeds, in desired order.
    pub desired: Vec<&'m Migration>,
    /// Applied versioned migrations and seeds, in applied order.
    pub sequence: Vec<&'r AppliedRow>,
    /// The first position where the two sequences differ, if any.
    pub divergence: Option<usize>,
    /// Why the applied item at the divergence point differs.
    pub divergence_reason: Option<String>,
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
    /// Repeatables that are new or changed since they last ran.
    pub repeatables_due: Vec<&'m Migration>,
    /// Repeatables marked `run always`.
    pub repeatables_always: Vec<&'m Migration>,
    /// Every repeatable, in name order (what runs after a reset or restore).
    pub repeatables_all: Vec<&'m Migration>,
}

/// Compares `migrations` with the applied `rows` (in applied order) for `workflow`.
#[cfg(test)]
pub(crate) fn analyze<'m, 'r>(
    migrations: &'m Migrations,
    rows: &'r [AppliedRow],
    workflow: Workflow,
) -> Analysis<'m, 'r> {
    analyze_with(migrations, rows, workflow.runs_seeds())
}

/// Compares `migrations` with the applied `rows` (in applied order); seeds are part of the
/// desired sequence when `runs_seeds`.
pub(crate) fn analyze_with<'m, 'r>(
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
    let applied_keys: HashMap<Key, &AppliedRow> = sequence
        .iter()
        .filter_map(|r| Some((row_key(r)?, *r)))
        .collect();

    let mut divergence = None;
    let mut divergence_reason = None;
    for (i, row) in sequence.iter().enumerate() {
        let wanted = desired.get(i);
        let matches = wanted.is_some_and(|m| {
            migration_key(m) == row_key(row)
                && !row.failed
                && same_checksum(&row.checksum, m.checksum().as_str())
        });
        if !matches {
            divergence = Some(i);
            let file = row_key(row).and_then(|k| by_key.get(&k).copied());
            divergence_reason = Some(match (file, wanted) {
                _ if row.failed => "it failed halfway".to_owned(),
                (Some(m), _) if !same_checksum(&row.checksum, m.checksum().as_str()) => {
                    "edited since it was applied".to_owned()
                }
                (None, _) => "its file is gone".to_owned(),
                (Some(_), Some(w)) => format!("{} is new and comes before it", w.label()),
                (Some(_), None) => "it is no longer part of this workflow".to_owned(),
            });
            break;
        }
    }

    let mut modified = Vec::new();
    let mut missing = Vec::new();
    let mut failed = Vec::new();
    for row in &sequence {
        let file = row_key(row).and_then(|k| by_key.get(&k).copied());
        if row.failed {
            failed.push((*row, file));
        }
        match file {
            Some(m) if !same_checksum(&row.checksum, m.checksum().as_str()) => {
                modified.push((*row, m));
            }
            Some(_) => {}
            None => missing.push(*row),
        }
    }

    let newest_applied = sequence
        .iter()
        .filter(|r| r.kind == Kind::Versioned)
        .filter_map(|r| row_key(r).map(|(_, v)| v))
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
                && newest_applied
                    .as_ref()
                    .is_some_and(|newest| m.version().is_some_and(|v| v < newest))
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
                .is_none_or(|r| r.failed || r.checksum != m.checksum().as_str())
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
        divergence_reason,
        pending,
        out_of_order,
        modified,
        missing,
        failed,
        repeatables_due,
        repeatables_always,
        repeatables_all: migrations.repeatables().collect(),
    }
}

/// Whether two sequence keys (`kind:version:checksum`) name the same script with the same
/// content; checksums of different algorithms count as the same, as in [`same_checksum`].
fn same_key(a: &str, b: &str) -> bool {
    let split = |k: &str| {
        let mut parts = k.splitn(3, ':');
        let kind = parts.next().unwrap_or_default().to_owned();
        let version = parts.next().unwrap_or_default().to_owned();
        (kind, version, parts.next().unwrap_or_default().to_owned())
    };
    let (ka, va, ca) = split(a);
    let (kb, vb, cb) = split(b);
    let same_version = match (Version::parse(&va), Version::parse(&vb)) {
        (Ok(x), Ok(y)) => x == y,
        _ => va == vb,
    };
    ka == kb && same_version && same_checksum(&ca, &cb)
}

impl<'m, 'r> Analysis<'m, 'r> {
    /// The prod column of DESIGN §5: never rewind; refuse failed and (unless allowed)
    /// out-of-order migrations; warn about modified (refuse when strict) and missing ones.
    pub fn plan_prod(&self, options: &PlanOptions) -> Result<Plan<'m, 'r>> {
        if let Some((row, file)) = self.failed.first() {
            return Err(Error::Failed {
                label: row.label(),
                path: file.map_or_else(|| "its file is gone".to_owned(), |m| m.path().to_owned()),
            });
        }
        if !self.out_of_order.is_empty() && !options.allow_out_of_order {
            return Err(Error::OutOfOrder {
                versions: self.out_of_order.iter().map(|m| m.label()).collect(),
            });
        }
        if options.strict && !self.modified.is_empty() {
            return Err(Error::Modified {
                migrations: self.modified.iter().map(|(r, _)| r.label()).collect(),
            });
        }
        let mut warnings: Vec<Warning> = self
            .modified
            .iter()
            .map(|(row, m)| Warning::Modified {
                label: row.label(),
                applied: row.checksum.clone(),
                current: m.checksum().to_string(),
            })
            .collect();
        warnings.extend(
            self.missing
                .iter()
                .map(|row| Warning::Missing { label: row.label() }),
        );
        let apply = self.pending_up_to(options.target.as_ref());
        warnings.extend(
            apply
                .iter()
                .filter(|m| self.out_of_order.iter().any(|o| std::ptr::eq(*o, **m)))
                .map(|m| Warning::AppliedOutOfOrder { label: m.label() }),
        );
        let repeatables = self.repeatables_for(&apply, options);
        Ok(Plan {
            apply,
            repeatables,
            warnings,
            ..Plan::default()
        })
    }

    /// The dev column of DESIGN §5: rewind to the divergence point with captured down scripts,
    /// then apply the rest of the desired sequence, repeatables and seeds.
    pub fn plan_dev(&self, options: &PlanOptions) -> Result<Plan<'m, 'r>> {
        let Some(at) = self.divergence else {
            let apply = self.pending_up_to(options.target.as_ref());
            let repeatables = self.repeatables_for(&apply, options);
            return Ok(Plan {
                apply,
                repeatables,
                ..Plan::default()
            });
        };
        let undo: Vec<&AppliedRow> = self.sequence[at..].iter().rev().copied().collect();
        if let Some(row) = undo.iter().find(|r| !r.has_down || r.failed) {
            let reason = format!(
                "{} {}",
                row.label(),
                if row.failed {
                    "failed halfway"
                } else {
                    "has no captured down script"
                }
            );
            return Ok(self.plan_reset(options, &reason));
        }
        let apply: Vec<&Migration> = self.desired[at.min(self.desired.len())..]
            .iter()
            .copied()
            .filter(|m| within_target(m, options.target.as_ref()))
            .collect();
        let repeatables = self.repeatables_for(&apply, options);
        Ok(Plan {
            revert: undo,
            apply,
            repeatables,
            ..Plan::default()
        })
    }

    /// A reset for `reason`, then everything the workflow applies.
    pub fn plan_reset(&self, options: &PlanOptions, reason: &str) -> Plan<'m, 'r> {
        Plan {
            reset: Some(reason.to_owned()),
            ..self.rebuild_from(0, options)
        }
    }

    /// What applies after the database was brought back to the first `applied` items of the
    /// desired sequence (by a reset or a restore): the rest of the sequence, then every
    /// repeatable (skipped with a target, as always).
    fn rebuild_from(&self, applied: usize, options: &PlanOptions) -> Plan<'m, 'r> {
        let apply = self.desired[applied.min(self.desired.len())..]
            .iter()
            .copied()
            .filter(|m| within_target(m, options.target.as_ref()))
            .collect();
        let repeatables = if options.target.is_some() {
            Vec::new()
        } else {
            self.repeatables_all.clone()
        };
        Plan {
            apply,
            repeatables,
            ..Plan::default()
        }
    }

    /// The qa column of DESIGN §5: with a divergence, restore the newest snapshot whose applied
    /// sequence is a prefix of the desired one and roll forward; otherwise snapshot, then apply.
    pub fn plan_qa(
        &self,
        options: &PlanOptions,
        snapshots: &[SnapshotRecord],
    ) -> Result<Plan<'m, 'r>> {
        let Some(at) = self.divergence else {
            let mut plan = self.plan_dev(options)?;
            plan.snapshot = !plan.apply.is_empty() || !plan.repeatables.is_empty();
            return Ok(plan);
        };
        let desired: Vec<String> = self
            .desired
            .iter()
            .map(|m| catalogue::migration_key(m))
            .collect();
        let usable = snapshots.iter().rev().find(|s| {
            s.applied.len() <= desired.len()
                && s.applied
                    .iter()
                    .zip(&desired)
                    .all(|(taken, wanted)| same_key(taken, wanted))
        });
        let Some(record) = usable else {
            return Err(Error::NoSnapshot {
                label: self.sequence[at].label(),
                reason: self.divergence_reason.clone().unwrap_or_default(),
                count: snapshots.len(),
            });
        };
        Ok(Plan {
            restore: Some(record.clone()),
            ..self.rebuild_from(record.applied.len(), options)
        })
    }

    /// The divergence as callers see it.
    pub fn divergence_view(&self) -> Option<view::Divergence> {
        let at = self.divergence?;
        Some(view::Divergence {
            position: at,
            label: self.sequence[at].label(),
            reason: self.divergence_reason.clone().unwrap_or_default(),
        })
    }

    fn pending_up_to(&self, target: Option<&Version>) -> Vec<&'m Migration> {
        self.pending
            .iter()
            .copied()
            .filter(|m| within_target(m, target))
            .collect()
    }

    fn repeatables_for(
        &self,
        apply: &[&'m Migration],
        options: &PlanOptions,
    ) -> Vec<&'m Migration> {
        if options.target.is_some() {
            return Vec::new();
        }
        let mut out = self.repeatables_due.clone();
        if !apply.is_empty() {
            for m in &self.repeatables_always {
                if !out.iter().any(|o| std::ptr::eq(*o, *m)) {
                    out.push(m);
                }
            }
            out.sort_by(|a, b| a.name().cmp(b.name()));
        }
        out
    }

    /// One status entry per migration file and applied row.
    pub fn status_entries(
        &self,
        migrations: &'m Migrations,
        rows: &'r [AppliedRow],
    ) -> Vec<StatusEntry> {
        let applied: HashMap<Key, &AppliedRow> = self
            .sequence
            .iter()
            .filter_map(|r| Some((row_key(r)?, *r)))
            .collect();
        let last_repeatable: HashMap<&str, &AppliedRow> = rows
            .iter()
            .filter(|r| r.kind == Kind::Repeatable)
            .map(|r| (r.name.as_str(), r))
            .collect();
        let mut entries = Vec::new();
        let file_entry = |m: &Migration, row: Option<&AppliedRow>, state: State| StatusEntry {
            kind: m.kind(),
            version: m.version().map(ToString::to_string),
            name: m.name().to_owned(),
            path: Some(m.path().to_owned()),
            state,
            applied_at: row.map(|r| r.applied_at.clone()),
            duration_ms: row.map(|r| r.duration_ms),
            applied_checksum: row.map(|r| r.checksum.clone()),
            file_checksum: Some(m.checksum().to_string()),
            applied_sql: None,
        };
        for m in &self.desired {
            let row = migration_key(m).and_then(|k| applied.get(&k).copied());
            let state = match row {
                Some(r) if r.failed => State::Failed,
                Some(r) if !same_checksum(&r.checksum, m.checksum().as_str()) => State::Modified,
                Some(_) => State::Applied,
                None if self.out_of_order.iter().any(|o| std::ptr::eq(*o, *m)) => State::OutOfOrder,
                None => State::Pending,
            };
            entries.push(file_entry(m, row, state));
        }
        for row in &self.missing {
            entries.push(StatusEntry {
                kind: row.kind,
                version: row.version.clone(),
                name: row.name.clone(),
                path: None,
                state: State::Missing,
                applied_at: Some(row.applied_at.clone()),
                duration_ms: Some(row.duration_ms),
                applied_checksum: Some(row.checksum.clone()),
                file_checksum: None,
                applied_sql: None,
            });
        }
        for m in migrations.repeatables() {
            let row = last_repeatable.get(m.name()).copied();
            let state = match row {
                Some(r) if r.failed => State::Failed,
                Some(r) if r.checksum == m.checksum().as_str() => State::Applied,
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

fn within_target(m: &Migration, target: Option<&Version>) -> bool {
    match target {
        None => true,
        Some(target) => m.kind() == Kind::Versioned && m.version().is_some_and(|v| v <= target),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use trek_core::{Checksum, Directives, Down};

    use super::*;

    fn script(kind: Kind, version: Option<&str>, name: &str, sql: &str, down: bool) -> Migration {
        let dir = match kind {
            Kind::Versioned => "",
            Kind::Repeatable => "repeatable/",
            Kind::Seed => "seeds/",
        };
        let stem = version.map_or_else(|| name.to_owned(), |v| format!("{v}_{name}"));
        Migration::__new(
            kind,
            version.map(|v| Version::parse(v).unwrap()),
            Cow::Owned(name.to_owned()),
            Cow::Owned(format!("{dir}{stem}.sql")),
            Cow::Owned(sql.to_owned()),
            Checksum::of(sql.as_bytes()),
            Directives::default(),
            down.then(|| {
                Down::__new(
                    Cow::Owned(format!("{dir}{stem}.down.sql")),
                    Cow::Owned("SELECT 1;".to_owned()),
                    Directives::default(),
                )
            }),
        )
    }

    fn v(version: &str, sql: &str) -> Migration {
        script(
            Kind::Versioned,
            Some(version),
            &format!("m{version}"),
            sql,
            true,
        )
    }

    fn row(id: i64, m: &Migration) -> AppliedRow {
        AppliedRow {
            id,
            kind: m.kind(),
            version: m.version().map(ToString::to_string),
            name: m.name().to_owned(),
            checksum: m.checksum().to_string(),
            has_down: m.down().is_some(),
            applied_at: String::new(),
            duration_ms: 0,
            failed: false,
        }
    }

    fn set(items: Vec<Migration>) -> Migrations {
        Migrations::from_vec(items, None)
    }

    fn versions(ms: &[&Migration]) -> Vec<String> {
        ms.iter()
            .map(|m| m.version().unwrap().to_string())
            .collect()
    }

    #[test]
    fn fresh_database_applies_everything_in_version_order() {
        let set = set(vec![v("10", "a"), v("2", "b"), v("1.1", "c"), v("1", "d")]);
        let plan = analyze(&set, &[], Workflow::Prod)
            .plan_prod(&PlanOptions::default())
            .unwrap();
        assert_eq!(versions(&plan.apply), ["1", "1.1", "2", "10"]);
        assert!(plan.revert.is_empty() && plan.warnings.is_empty());
    }

    #[test]
    fn up_to_date_database_has_nothing_to_do() {
        let set = set(vec![v("1", "a"), v("2", "b")]);
        let rows: Vec<_> = set
            .all()
            .iter()
            .enumerate()
            .map(|(i, m)| row(i as i64 + 1, m))
            .collect();
        let analysis = analyze(&set, &rows, Workflow::Prod);
        assert_eq!(analysis.divergence, None);
        let plan = analysis.plan_prod(&PlanOptions::default()).unwrap();
        assert!(plan.apply.is_empty() && plan.warnings.is_empty());
    }

    #[test]
    fn prod_refuses_out_of_order_unless_allowed() {
        let set = set(vec![v("1", "a"), v("2", "b"), v("3", "c")]);
        let rows = vec![row(1, &set.all()[0]), row(2, &set.all()[2])];
        let analysis = analyze(&set, &rows, Workflow::Prod);
        assert!(matches!(
            analysis.plan_prod(&PlanOptions::default()),
            Err(Error::OutOfOrder { .. })
        ));
        let plan = analysis
            .plan_prod(&PlanOptions {
                allow_out_of_order: true,
                ..PlanOptions::default()
            })
            .unwrap();
        assert_eq!(versions(&plan.apply), ["2"]);
        assert!(matches!(
            plan.warnings[0],
            Warning::AppliedOutOfOrder { .. }
        ));
    }

    #[test]
    fn prod_warns_on_modified_and_refuses_when_strict() {
        let set = set(vec![v("1", "edited"), v("2", "b")]);
        let mut first = row(1, &set.all()[0]);
        first.checksum = Checksum::of(b"original").to_string();
        let rows = vec![first];
        let analysis = analyze(&set, &rows, Workflow::Prod);
        let plan = analysis.plan_prod(&PlanOptions::default()).unwrap();
        assert_eq!(versions(&plan.apply), ["2"]);
        assert!(matches!(plan.warnings[0], Warning::Modified { .. }));
        let strict = PlanOptions {
            strict: true,
            ..PlanOptions::default()
        };
        assert!(matches!(
            analysis.plan_prod(&strict),
            Err(Error::Modified { .. })
        ));
    }

    #[test]
    fn prod_tolerates_migrations_unknown_to_the_binary() {
        let newer = set(vec![v("1", "a"), v("2", "b")]);
        let rows = vec![row(1, &newer.all()[0]), row(2, &newer.all()[1])];
        let older = set(vec![v("1", "a")]);
        let plan = analyze(&older, &rows, Workflow::Prod)
            .plan_prod(&PlanOptions::default())
            .unwrap();
        assert!(plan.apply.is_empty());
        assert_eq!(
            plan.warnings,
            vec![Warning::Missing {
                label: "2 m2".to_owned()
            }]
        );
    }

    #[test]
    fn prod_refuses_a_migration_that_failed_halfway() {
        let set = set(vec![v("1", "a")]);
        let mut failed = row(1, &set.all()[0]);
        failed.failed = true;
        let rows = vec![failed];
        let err = analyze(&set, &rows, Workflow::Prod)
            .plan_prod(&PlanOptions::default())
            .unwrap_err();
        assert!(
            matches!(err, Error::Failed { ref path, .. } if path == "1_m1.sql"),
            "{err}"
        );
    }

    #[test]
    fn prod_never_runs_seeds_and_runs_changed_repeatables() {
        let seed = script(Kind::Seed, Some("1"), "demo", "insert", false);
        let view = script(Kind::Repeatable, None, "views", "create view v2", false);
        let set = set(vec![v("1", "a"), seed, view]);
        let mut old_view = row(2, &set.repeatables().next().unwrap().clone());
        old_view.checksum = Checksum::of(b"create view v1").to_string();
        let rows = vec![row(1, &set.all()[0]), old_view];
        let plan = analyze(&set, &rows, Workflow::Prod)
            .plan_prod(&PlanOptions::default())
            .unwrap();
        assert!(plan.apply.is_empty());
        assert_eq!(plan.repeatables.len(), 1);
        assert_eq!(plan.repeatables[0].name(), "views");
    }

    #[test]
    fn target_stops_at_the_version_and_skips_repeatables() {
        let view = script(Kind::Repeatable, None, "views", "x", false);
        let set = set(vec![v("1", "a"), v("2", "b"), v("3", "c"), view]);
        let options = PlanOptions {
            target: Some(Version::parse("2").unwrap()),
            ..PlanOptions::default()
        };
        let plan = analyze(&set, &[], Workflow::Prod)
            .plan_prod(&options)
            .unwrap();
        assert_eq!(versions(&plan.apply), ["1", "2"]);
        assert!(plan.repeatables.is_empty());
    }

    #[test]
    fn dev_rewinds_to_the_first_edited_migration_with_captured_downs() {
        let set = set(vec![v("1", "a"), v("2", "edited"), v("3", "c")]);
        let mut second = row(2, &set.all()[1]);
        second.checksum = Checksum::of(b"b").to_string();
        let rows = vec![row(1, &set.all()[0]), second, row(3, &set.all()[2])];
        let analysis = analyze(&set, &rows, Workflow::Dev);
        assert_eq!(analysis.divergence, Some(1));
        let plan = analysis.plan_dev(&PlanOptions::default()).unwrap();
        assert_eq!(plan.revert.iter().map(|r| r.id).collect::<Vec<_>>(), [3, 2]);
        assert_eq!(versions(&plan.apply), ["2", "3"]);
    }

    #[test]
    fn dev_without_captured_downs_asks_for_a_reset() {
        let set = set(vec![v("1", "a"), v("2", "edited")]);
        let mut second = row(2, &set.all()[1]);
        second.checksum = Checksum::of(b"b").to_string();
        second.has_down = false;
        let rows = vec![row(1, &set.all()[0]), second];
        let plan = analyze(&set, &rows, Workflow::Dev)
            .plan_dev(&PlanOptions::default())
            .unwrap();
        assert_eq!(
            plan.reset.as_deref(),
            Some("2 m2 has no captured down script")
        );
        assert!(plan.revert.is_empty());
        assert_eq!(versions(&plan.apply), ["1", "2"]);
    }

    fn record(id: i64, applied: &[&Migration]) -> SnapshotRecord {
        SnapshotRecord {
            info: crate::snapshot::SnapshotInfo {
                id,
                taken_at: String::new(),
                strategy: "pg_dump".to_owned(),
                location: String::new(),
                label: String::new(),
                applied_count: applied.len(),
                size_bytes: None,
            },
            applied: applied
                .iter()
                .map(|m| catalogue::migration_key(m))
                .collect(),
        }
    }

    #[test]
    fn qa_restores_the_newest_snapshot_that_is_a_prefix() {
        let original = v("2", "b");
        let set = set(vec![v("1", "a"), v("2", "edited"), v("3", "c")]);
        let first = &set.all()[0];
        let mut second = row(2, &set.all()[1]);
        second.checksum = original.checksum().to_string();
        let rows = vec![row(1, first), second, row(3, &set.all()[2])];
        let snapshots = vec![
            record(1, &[]),
            record(2, &[first]),
            record(3, &[first, &original]),
        ];
        let analysis = analyze(&set, &rows, Workflow::Qa);
        assert_eq!(analysis.divergence, Some(1));
        let plan = analysis
            .plan_qa(&PlanOptions::default(), &snapshots)
            .unwrap();
        assert_eq!(plan.restore.as_ref().map(|r| r.info.id), Some(2));
        assert_eq!(versions(&plan.apply), ["2", "3"]);
        let view = plan.view(Workflow::Qa, &analysis);
        assert_eq!(
            view.divergence.unwrap().reason,
            "edited since it was applied"
        );

        let err = analysis
            .plan_qa(&PlanOptions::default(), &snapshots[2..])
            .unwrap_err();
        assert!(matches!(err, Error::NoSnapshot { count: 1, .. }), "{err}");
    }

    #[test]
    fn qa_snapshots_before_applying_and_not_when_up_to_date() {
        let set = set(vec![v("1", "a"), v("2", "b")]);
        let rows = vec![row(1, &set.all()[0])];
        let plan = analyze(&set, &rows, Workflow::Qa)
            .plan_qa(&PlanOptions::default(), &[])
            .unwrap();
        assert!(plan.snapshot);
        assert_eq!(versions(&plan.apply), ["2"]);
        let rows = vec![row(1, &set.all()[0]), row(2, &set.all()[1])];
        let plan = analyze(&set, &rows, Workflow::Qa)
            .plan_qa(&PlanOptions::default(), &[])
            .unwrap();
        assert!(!plan.snapshot && plan.is_noop());
    }

    #[test]
    fn a_seed_applied_before_a_new_migration_is_the_divergence_point() {
        let seed = script(Kind::Seed, Some("1"), "t1", "insert", false);
        let before = set(vec![v("1", "a"), v("2", "b"), seed.clone()]);
        let rows = vec![
            row(1, &before.all()[0]),
            row(2, &before.all()[1]),
            row(3, &seed),
        ];
        let after = set(vec![v("1", "a"), v("2", "b"), v("3", "c"), seed]);
        let analysis = analyze(&after, &rows, Workflow::Dev);
        assert_eq!(analysis.divergence, Some(2));
        assert_eq!(
            analysis.divergence_reason.as_deref(),
            Some("3 m3 is new and comes before it")
        );
        let plan = analysis.plan_dev(&PlanOptions::default()).unwrap();
        assert!(plan.reset.is_some(), "the seed has no down: reset");
    }

    #[test]
    fn dev_applies_seeds_after_migrations_and_rewinds_seeds_for_a_new_migration() {
        let seed = script(Kind::Seed, Some("1"), "demo", "insert", true);
        let set_before = set(vec![v("1", "a"), seed.clone()]);
        let plan = analyze(&set_before, &[], Workflow::Dev)
            .plan_dev(&PlanOptions::default())
            .unwrap();
        assert_eq!(
            plan.apply.iter().map(|m| m.kind()).collect::<Vec<_>>(),
            [Kind::Versioned, Kind::Seed]
        );

        let rows = vec![row(1, &set_before.all()[0]), row(2, &seed)];
        let set_after = set(vec![v("1", "a"), v("2", "b"), seed]);
        let plan = analyze(&set_after, &rows, Workflow::Dev)
            .plan_dev(&PlanOptions::default())
            .unwrap();
        assert_eq!(plan.revert.iter().map(|r| r.id).collect::<Vec<_>>(), [2]);
        assert_eq!(plan.apply.len(), 2);
        assert_eq!(plan.apply[0].version().unwrap().as_str(), "2");
        assert_eq!(plan.apply[1].kind(), Kind::Seed);
    }

    #[test]
    fn status_reports_every_state() {
        let set = set(vec![
            v("1", "a"),
            v("2", "edited"),
            v("3", "c"),
            v("5", "e"),
        ]);
        let mut second = row(2, &set.all()[1]);
        second.checksum = Checksum::of(b"b").to_string();
        let gone = v("4", "d");
        let rows = vec![row(1, &set.all()[0]), second, row(3, &gone)];
        let analysis = analyze(&set, &rows, Workflow::Prod);
        let states: Vec<_> = analysis
            .status_entries(&set, &rows)
            .into_iter()
            .map(|e| (e.version.unwrap(), e.state))
            .collect();
        assert_eq!(
            states,
            [
                ("1".to_owned(), State::Applied),
                ("2".to_owned(), State::Modified),
                ("3".to_owned(), State::OutOfOrder),
                ("4".to_owned(), State::Missing),
                ("5".to_owned(), State::Pending),
            ]
        );
    }

    #[test]
    fn checksums_of_different_algorithms_are_not_compared() {
        assert!(same_checksum("sha256:aa", "sha256:aa"));
        assert!(!same_checksum("sha256:aa", "sha256:bb"));
        assert!(same_checksum("sha512:aa", "sha256:bb"));
    }
}
