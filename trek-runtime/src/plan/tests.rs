//! The planner's matrix: every workflow × every kind of divergence × each way of undoing it,
//! with no database. Each case renders the plan as one line per step.

use std::borrow::Cow;
use std::path::PathBuf;

use trek_core::{Checksum, Directives, Down, Kind, Migration, Migrations, Version};

use super::*;
use crate::snapshot::catalogue::{Location, SnapshotRecord};
use crate::timestamp::Timestamp;

fn script(kind: Kind, version: Option<&str>, name: &str, sql: &str, down: bool) -> Migration {
    let dir = match kind {
        Kind::Versioned => "",
        Kind::Repeatable => "repeatable/",
        Kind::Seed => "seeds/",
    };
    let stem = version.map_or_else(|| name.to_owned(), |v| format!("{v}_{name}"));
    let directives = Directives {
        no_transaction: sql.contains("CONCURRENTLY"),
        run_always: sql.contains("always"),
        ..Directives::default()
    };
    Migration::__new(
        kind,
        version.map(|v| Version::parse(v).unwrap()),
        Cow::Owned(name.to_owned()),
        Cow::Owned(format!("{dir}{stem}.sql")),
        Cow::Owned(sql.to_owned()),
        Checksum::of(sql.as_bytes()),
        directives,
        down.then(|| {
            Down::__new(
                Cow::Owned(format!("{dir}{stem}.down.sql")),
                Cow::Owned("SELECT 1;".to_owned()),
                Directives::default(),
            )
        }),
    )
}

/// Versioned migration `version`, named `m<version>`, with a down.
fn v(version: &str, sql: &str) -> Migration {
    script(
        Kind::Versioned,
        Some(version),
        &format!("m{version}"),
        sql,
        true,
    )
}

fn seed(version: &str, down: bool) -> Migration {
    script(Kind::Seed, Some(version), "demo", "insert", down)
}

fn repeatable(name: &str, sql: &str) -> Migration {
    script(Kind::Repeatable, None, name, sql, false)
}

fn row(id: i64, m: &Migration) -> AppliedRow {
    AppliedRow {
        id,
        kind: m.kind(),
        version: m.version().cloned(),
        name: m.name().to_owned(),
        checksum: m.checksum().clone(),
        has_down: m.down().is_some_and(|d| !d.is_irreversible()),
        irreversible: m.down().is_some_and(trek_core::Down::is_irreversible),
        reverted_statements: 0,
        applied_at: Timestamp::from_unix_ms(0),
        duration_ms: 0,
        failed: false,
    }
}

/// The history of `applied`, in that order.
fn history(applied: &[&Migration]) -> Vec<AppliedRow> {
    applied
        .iter()
        .enumerate()
        .map(|(i, m)| row(i as i64 + 1, m))
        .collect()
}

fn set(items: Vec<Migration>) -> Migrations {
    Migrations::from_vec(items, None)
}

fn settings(workflow: Workflow) -> Settings {
    Settings {
        workflow,
        target: None,
        strict: false,
        allow_out_of_order: false,
        seeds: true,
        transaction: TransactionMode::PerMigration,
        reset: ResetHow::Schemas,
        prefix_template: None,
        snapshot_each_migration: false,
    }
}

fn snapshot(id: i64, holds: &[&Migration]) -> SnapshotRecord {
    SnapshotRecord::new(
        id,
        &format!("snapshot {id}"),
        holds.iter().filter_map(|m| SequenceKey::of(m)).collect(),
        Location::File(PathBuf::from(format!("/tmp/{id}.dump"))),
        None,
    )
}

/// Plans `goal` with no snapshot taken earlier in the run.
fn plan_of<'m>(
    goal: &Goal,
    settings: &Settings,
    migrations: &'m Migrations,
    rows: &[AppliedRow],
    catalogue: &[SnapshotRecord],
) -> Result<Plan<'m>> {
    plan(
        goal,
        settings,
        Input {
            migrations,
            history: rows,
            catalogue,
            snapshot_taken_of: None,
        },
    )
}

/// Plans and renders one line per step: `apply 2 m2`, `revert 3 m3`, `snapshot [1] before 2
/// m2`, `restore #2`, `reset schemas`, `repeatable views`.
fn steps(
    goal: &Goal,
    settings: &Settings,
    migrations: &Migrations,
    rows: &[AppliedRow],
    catalogue: &[SnapshotRecord],
) -> Result<Vec<String>> {
    Ok(render(&plan_of(
        goal, settings, migrations, rows, catalogue,
    )?))
}

fn render(plan: &Plan<'_>) -> Vec<String> {
    plan.steps
        .iter()
        .map(|p| match &p.step {
            Step::Reset { how } => format!(
                "reset {}",
                match how {
                    ResetHow::Schemas => "schemas".to_owned(),
                    ResetHow::Database => "database".to_owned(),
                    ResetHow::Baseline(_) => "baseline".to_owned(),
                    ResetHow::FromTemplate { prefix } => format!("template [{}]", prefix.len()),
                }
            ),
            Step::Restore { snapshot } => format!("restore #{}", snapshot.info.id),
            Step::Revert { row } => format!("revert {}", row.label()),
            Step::Snapshot { label, holds } => {
                let versions: Vec<String> = holds.iter().map(|k| k.version.to_string()).collect();
                format!("snapshot [{}] {label}", versions.join(","))
            }
            Step::Apply { script } => format!("apply {}", script.label()),
            Step::ApplyAll { scripts } => format!(
                "apply-all {}",
                scripts
                    .iter()
                    .map(|m| m.label())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Step::RunRepeatable { script } => script.label(),
        })
        .collect()
}

fn run(workflow: Workflow, migrations: &Migrations, rows: &[AppliedRow]) -> Result<Vec<String>> {
    qa_or(workflow, migrations, rows, &[])
}

/// Runs `workflow` with the snapshot `catalogue`.
fn qa_or(
    workflow: Workflow,
    migrations: &Migrations,
    rows: &[AppliedRow],
    catalogue: &[SnapshotRecord],
) -> Result<Vec<String>> {
    steps(
        &Goal::Workflow,
        &settings(workflow),
        migrations,
        rows,
        catalogue,
    )
}

const ALL: [Workflow; 3] = [Workflow::Dev, Workflow::Qa, Workflow::Prod];

// --- no divergence -----------------------------------------------------------------------------

#[test]
fn a_fresh_database_gets_everything_in_version_order_in_every_workflow() {
    let set = set(vec![v("10", "a"), v("2", "b"), v("1.1", "c"), v("1", "d")]);
    for workflow in ALL {
        let mut expected = vec!["apply 1 m1", "apply 1.1 m1.1", "apply 2 m2", "apply 10 m10"];
        if workflow == Workflow::Qa {
            expected.insert(0, "snapshot [] before 1 m1");
        }
        assert_eq!(run(workflow, &set, &[]).unwrap(), expected, "{workflow}");
    }
}

#[test]
fn an_up_to_date_database_has_no_steps_in_any_workflow() {
    let set = set(vec![v("1", "a"), v("2", "b")]);
    let rows = history(&set.all().iter().collect::<Vec<_>>());
    for workflow in ALL {
        let plan = plan_of(&Goal::Workflow, &settings(workflow), &set, &rows, &[]).unwrap();
        assert!(plan.is_noop() && plan.divergence.is_none(), "{workflow}");
    }
}

#[test]
fn qa_snapshots_once_per_run_or_before_each_migration() {
    let set = set(vec![v("1", "a"), v("2", "b"), v("3", "c")]);
    let rows = history(&[&set.all()[0]]);
    assert_eq!(
        run(Workflow::Qa, &set, &rows).unwrap(),
        ["snapshot [1] before 2 m2", "apply 2 m2", "apply 3 m3"]
    );
    let each = Settings {
        snapshot_each_migration: true,
        ..settings(Workflow::Qa)
    };
    assert_eq!(
        steps(&Goal::Workflow, &each, &set, &rows, &[]).unwrap(),
        [
            "snapshot [1] before 2 m2",
            "apply 2 m2",
            "snapshot [1,2] before 3 m3",
            "apply 3 m3"
        ]
    );
}

#[test]
fn qa_takes_no_second_snapshot_of_a_state_it_already_took_in_this_run() {
    let set = set(vec![v("1", "a"), v("2", "b")]);
    let rows = history(&[&set.all()[0]]);
    let taken: Vec<SequenceKey> = SequenceKey::of(&set.all()[0]).into_iter().collect();
    let plan = plan(
        &Goal::Workflow,
        &settings(Workflow::Qa),
        Input {
            migrations: &set,
            history: &rows,
            catalogue: &[],
            snapshot_taken_of: Some(&taken),
        },
    )
    .unwrap();
    assert_eq!(render(&plan), ["apply 2 m2"]);
}

// --- an edited migration -----------------------------------------------------------------------

/// 1, 2, 3 applied; 2 edited since.
fn edited_second() -> (Migrations, Migration, Vec<AppliedRow>) {
    let original = v("2", "b");
    let set = set(vec![v("1", "a"), v("2", "edited"), v("3", "c")]);
    let rows = history(&[&set.all()[0], &original, &set.all()[2]]);
    (set, original, rows)
}

#[test]
fn an_edited_migration_in_prod_warns_and_strict_refuses() {
    let (set, _, rows) = edited_second();
    let plan = plan_of(&Goal::Workflow, &settings(Workflow::Prod), &set, &rows, &[]).unwrap();
    assert!(plan.steps.is_empty());
    assert!(matches!(plan.warnings[..], [Warning::Modified { .. }]));
    let strict = Settings {
        strict: true,
        ..settings(Workflow::Prod)
    };
    assert!(matches!(
        steps(&Goal::Workflow, &strict, &set, &rows, &[]),
        Err(Error::Modified { .. })
    ));
}

#[test]
fn an_edited_migration_in_dev_is_rewound_with_captured_downs() {
    let (set, _, rows) = edited_second();
    assert_eq!(
        run(Workflow::Dev, &set, &rows).unwrap(),
        ["revert 3 m3", "revert 2 m2", "apply 2 m2", "apply 3 m3"]
    );
}

#[test]
fn an_edited_migration_in_dev_without_a_down_resets_each_way() {
    let (set, _, mut rows) = edited_second();
    rows[2].has_down = false;
    for (how, rendered) in [
        (ResetHow::Schemas, "reset schemas"),
        (ResetHow::Database, "reset database"),
        (
            ResetHow::Baseline(PathBuf::from("schema.sql")),
            "reset baseline",
        ),
    ] {
        let dev = Settings {
            reset: how,
            ..settings(Workflow::Dev)
        };
        let plan = plan_of(&Goal::Workflow, &dev, &set, &rows, &[]).unwrap();
        assert_eq!(
            render(&plan),
            [rendered, "apply 1 m1", "apply 2 m2", "apply 3 m3"]
        );
        assert_eq!(plan.steps[0].reason, "3 m3 has no captured down script");
        assert_eq!(
            plan.steps[0].step.needs_new_plan_after(),
            rendered == "reset baseline"
        );
    }
}

#[test]
fn with_prefix_templates_a_dev_reset_keeps_the_unchanged_prefix() {
    // 0002 is edited and 0003 has no down: the first migration comes from its template.
    let (set, _, mut rows) = edited_second();
    rows[2].has_down = false;
    let dev = Settings {
        prefix_template: Some(std::time::Duration::ZERO),
        ..settings(Workflow::Dev)
    };
    let plan = plan_of(&Goal::Workflow, &dev, &set, &rows, &[]).unwrap();
    assert_eq!(
        render(&plan),
        ["reset template [1]", "apply 2 m2", "apply 3 m3"]
    );
    assert_eq!(
        plan.steps[0].reason,
        "3 m3 has no captured down script; a copy of the template of the 1 unchanged migration \
         before it"
    );
    assert!(plan.steps[0].step.is_rebuild());
    assert!(!plan.steps[0].step.needs_new_plan_after());

    // The prefix took less to apply than the threshold: a reset from nothing costs less.
    let mut quick = rows.clone();
    quick[0].duration_ms = 40;
    let slow_only = Settings {
        prefix_template: Some(std::time::Duration::from_millis(100)),
        ..settings(Workflow::Dev)
    };
    let plan = plan_of(&Goal::Workflow, &slow_only, &set, &quick, &[]).unwrap();
    assert_eq!(render(&plan)[0], "reset schemas");
    quick[0].duration_ms = 100;
    let plan = plan_of(&Goal::Workflow, &slow_only, &set, &quick, &[]).unwrap();
    assert_eq!(render(&plan)[0], "reset template [1]");

    // Nothing unchanged before the divergence, or an explicit reset: from nothing.
    let mut first_edited = rows.clone();
    first_edited[0].checksum = Checksum::of(b"-- before");
    let plan = plan_of(&Goal::Workflow, &dev, &set, &first_edited, &[]).unwrap();
    assert_eq!(render(&plan)[0], "reset schemas");
    let plan = plan_of(&Goal::Reset, &dev, &set, &rows, &[]).unwrap();
    assert_eq!(render(&plan)[0], "reset schemas");
}

#[test]
fn an_edited_migration_in_qa_restores_the_newest_prefix_snapshot() {
    let (set, original, rows) = edited_second();
    let first = &set.all()[0];
    let catalogue = vec![
        snapshot(1, &[]),
        snapshot(2, &[first]),
        snapshot(3, &[first, &original]),
    ];
    let qa = settings(Workflow::Qa);
    assert_eq!(
        steps(&Goal::Workflow, &qa, &set, &rows, &catalogue).unwrap(),
        ["restore #2", "apply 2 m2", "apply 3 m3"]
    );
    let each = Settings {
        snapshot_each_migration: true,
        ..qa.clone()
    };
    assert_eq!(
        steps(&Goal::Workflow, &each, &set, &rows, &catalogue).unwrap(),
        [
            "restore #2",
            "apply 2 m2",
            "snapshot [1,2] before 3 m3",
            "apply 3 m3"
        ]
    );
    let err = steps(&Goal::Workflow, &qa, &set, &rows, &catalogue[2..]).unwrap_err();
    assert!(
        matches!(err, Error::NoSnapshot { count: 1, ref reason, .. } if reason == "edited since it was applied"),
        "{err}"
    );
}

#[test]
fn a_snapshot_checksum_of_another_algorithm_still_counts_as_a_prefix() {
    let (set, _, rows) = edited_second();
    let mut old = snapshot(4, &[&set.all()[0]]);
    old.applied[0].checksum = Checksum::parse_stored("sha512:00").unwrap();
    assert_eq!(
        qa_or(Workflow::Qa, &set, &rows, &[old]).unwrap(),
        ["restore #4", "apply 2 m2", "apply 3 m3"]
    );
}

// --- a missing file ----------------------------------------------------------------------------

#[test]
fn a_migration_whose_file_is_gone_per_workflow() {
    let newer = set(vec![v("1", "a"), v("2", "b"), v("3", "c")]);
    let rows = history(&newer.all().iter().collect::<Vec<_>>());
    let older = set(vec![v("1", "a"), v("2", "b")]);
    let plan = plan_of(
        &Goal::Workflow,
        &settings(Workflow::Prod),
        &older,
        &rows,
        &[],
    )
    .unwrap();
    assert!(plan.steps.is_empty());
    assert_eq!(
        plan.warnings,
        [Warning::Missing {
            label: "3 m3".to_owned()
        }]
    );
    assert_eq!(run(Workflow::Dev, &older, &rows).unwrap(), ["revert 3 m3"]);
    let catalogue = [snapshot(1, &[&newer.all()[0], &newer.all()[1]])];
    assert_eq!(
        qa_or(Workflow::Qa, &older, &rows, &catalogue).unwrap(),
        ["restore #1"]
    );
}

// --- out of order ------------------------------------------------------------------------------

#[test]
fn a_migration_older_than_the_newest_applied_one_per_workflow() {
    let set = set(vec![v("1", "a"), v("2", "b"), v("3", "c")]);
    let rows = history(&[&set.all()[0], &set.all()[2]]);
    assert!(matches!(
        run(Workflow::Prod, &set, &rows),
        Err(Error::OutOfOrder { .. })
    ));
    let allowed = Settings {
        allow_out_of_order: true,
        ..settings(Workflow::Prod)
    };
    let plan = plan_of(&Goal::Workflow, &allowed, &set, &rows, &[]).unwrap();
    assert_eq!(render(&plan), ["apply 2 m2"]);
    assert!(matches!(
        plan.warnings[..],
        [Warning::AppliedOutOfOrder { .. }]
    ));
    assert_eq!(
        run(Workflow::Dev, &set, &rows).unwrap(),
        ["revert 3 m3", "apply 2 m2", "apply 3 m3"]
    );
    let divergence = plan_of(&Goal::Workflow, &settings(Workflow::Dev), &set, &rows, &[])
        .unwrap()
        .divergence
        .unwrap();
    assert_eq!(divergence.reason, "2 m2 is new and comes before it");
}

// --- failed halfway ----------------------------------------------------------------------------

#[test]
fn a_migration_that_failed_halfway_per_workflow() {
    let set = set(vec![v("1", "a"), v("2", "b")]);
    let mut rows = history(&[&set.all()[0], &set.all()[1]]);
    rows[1].failed = true;
    let err = run(Workflow::Prod, &set, &rows).unwrap_err();
    assert!(
        matches!(err, Error::Failed { ref path, .. } if path == "2_m2.sql"),
        "{err}"
    );
    assert_eq!(
        run(Workflow::Dev, &set, &rows).unwrap(),
        ["reset schemas", "apply 1 m1", "apply 2 m2"]
    );
    let catalogue = [snapshot(1, &[&set.all()[0]])];
    assert_eq!(
        qa_or(Workflow::Qa, &set, &rows, &catalogue).unwrap(),
        ["restore #1", "apply 2 m2"]
    );
}

// --- a seed applied before a new migration ---------------------------------------------------

#[test]
fn a_seed_applied_before_a_new_migration_per_workflow() {
    for seed_has_down in [true, false] {
        let seed = seed("1", seed_has_down);
        let rows = history(&[&v("1", "a"), &v("2", "b"), &seed]);
        let after = set(vec![v("1", "a"), v("2", "b"), v("3", "c"), seed.clone()]);
        let dev = run(Workflow::Dev, &after, &rows).unwrap();
        if seed_has_down {
            assert_eq!(
                dev,
                ["revert seed 1 demo", "apply 3 m3", "apply seed 1 demo"]
            );
        } else {
            assert_eq!(
                dev,
                [
                    "reset schemas",
                    "apply 1 m1",
                    "apply 2 m2",
                    "apply 3 m3",
                    "apply seed 1 demo"
                ]
            );
        }
        let catalogue = [snapshot(5, &[&after.all()[0], &after.all()[1]])];
        let each = Settings {
            snapshot_each_migration: true,
            ..settings(Workflow::Qa)
        };
        assert_eq!(
            steps(&Goal::Workflow, &each, &after, &rows, &catalogue).unwrap(),
            [
                "restore #5",
                "apply 3 m3",
                "snapshot [1,2,3] before seed 1 demo",
                "apply seed 1 demo"
            ]
        );
        // prod never runs seeds: the seed is not part of its sequence.
        assert_eq!(run(Workflow::Prod, &after, &rows).unwrap(), ["apply 3 m3"]);
    }
}

#[test]
fn seeds_switched_off_are_outside_the_sequence() {
    let seed = seed("1", false);
    let set = set(vec![v("1", "a"), seed]);
    let off = Settings {
        seeds: false,
        ..settings(Workflow::Dev)
    };
    assert_eq!(
        steps(&Goal::Workflow, &off, &set, &[], &[]).unwrap(),
        ["apply 1 m1"]
    );
}

// --- a target ----------------------------------------------------------------------------------

#[test]
fn a_target_stops_at_its_version_and_skips_repeatables_and_seeds() {
    let set = set(vec![
        v("1", "a"),
        v("2", "b"),
        v("3", "c"),
        repeatable("views", "x"),
        seed("1", true),
    ]);
    for workflow in ALL {
        let to_two = Settings {
            target: Some(Version::parse("2").unwrap()),
            ..settings(workflow)
        };
        let mut expected = vec!["apply 1 m1", "apply 2 m2"];
        if workflow == Workflow::Qa {
            expected.insert(0, "snapshot [] before 1 m1");
        }
        assert_eq!(
            steps(&Goal::Workflow, &to_two, &set, &[], &[]).unwrap(),
            expected,
            "{workflow}"
        );
    }
}

// --- repeatables -------------------------------------------------------------------------------

#[test]
fn repeatables_run_when_new_changed_or_failed_and_run_always_ones_with_a_change() {
    let set = set(vec![
        v("1", "a"),
        v("2", "b"),
        repeatable("a_changed", "new"),
        repeatable("b_same", "same"),
        repeatable("c_always", "always"),
        repeatable("d_failed", "f"),
    ]);
    let mut changed = row(3, &repeatable("a_changed", "old"));
    changed.checksum = Checksum::of(b"old");
    let mut failed = row(6, &set.repeatables().nth(3).unwrap().clone());
    failed.failed = true;
    let mut rows = history(&[&set.all()[0]]);
    rows.extend([
        changed,
        row(4, set.repeatables().nth(1).unwrap()),
        row(5, set.repeatables().nth(2).unwrap()),
        failed,
    ]);
    for workflow in ALL {
        let mut expected = vec![
            "apply 2 m2",
            "repeatable a_changed",
            "repeatable c_always",
            "repeatable d_failed",
        ];
        if workflow == Workflow::Qa {
            expected.insert(0, "snapshot [1] before 2 m2");
        }
        assert_eq!(run(workflow, &set, &rows).unwrap(), expected, "{workflow}");
    }
    // With nothing to apply, a run-always repeatable does not run.
    let rows: Vec<_> = rows
        .into_iter()
        .chain(std::iter::once(row(7, &set.all()[1])))
        .collect();
    assert_eq!(
        run(Workflow::Prod, &set, &rows).unwrap(),
        ["repeatable a_changed", "repeatable d_failed"]
    );
}

#[test]
fn a_repeatable_whose_stored_checksum_carries_another_algorithm_is_not_rerun() {
    let set = set(vec![repeatable("views", "create view v")]);
    let mut ran = row(1, &set.all()[0]);
    ran.checksum = Checksum::parse_stored("sha512:0123abcd").unwrap();
    for workflow in ALL {
        assert_eq!(
            run(workflow, &set, &[ran.clone()]).unwrap(),
            Vec::<String>::new()
        );
    }
    let rows = [ran];
    let analysis = analyze(&set, &rows, true);
    let entries = analysis.status_entries(&set);
    assert_eq!(entries[0].state, crate::State::Applied);
}

// --- goals -------------------------------------------------------------------------------------

#[test]
fn a_reset_rebuilds_everything_in_every_destructive_workflow() {
    let set = set(vec![
        v("1", "a"),
        repeatable("views", "x"),
        seed("1", false),
    ]);
    let rows = history(&[&set.all()[0]]);
    assert_eq!(
        steps(&Goal::Reset, &settings(Workflow::Dev), &set, &rows, &[]).unwrap(),
        [
            "reset schemas",
            "apply 1 m1",
            "repeatable views",
            "apply seed 1 demo"
        ]
    );
    assert_eq!(
        steps(&Goal::Reset, &settings(Workflow::Qa), &set, &rows, &[]).unwrap(),
        [
            "reset schemas",
            "snapshot [] before 1 m1",
            "apply 1 m1",
            "repeatable views",
            "apply seed 1 demo"
        ]
    );
}

#[test]
fn seeds_only_applies_seeds_alone_or_refuses_naming_why() {
    let set = set(vec![
        v("1", "a"),
        v("2", "b"),
        repeatable("views", "x"),
        seed("1", false),
    ]);
    let rows = history(&[&set.all()[0], &set.all()[1]]);
    assert_eq!(
        steps(&Goal::SeedsOnly, &settings(Workflow::Dev), &set, &rows, &[]).unwrap(),
        ["apply seed 1 demo"]
    );
    assert_eq!(
        steps(&Goal::SeedsOnly, &settings(Workflow::Qa), &set, &rows, &[]).unwrap(),
        ["snapshot [1,2] before seed 1 demo", "apply seed 1 demo"]
    );
    let pending = history(&[&set.all()[0]]);
    let mut edited = rows.clone();
    edited[1].checksum = Checksum::of(b"old");
    for (rows, why) in [
        (&pending, "migrations are pending (2 m2)"),
        (&edited, "diverges from the migrations at 2 m2"),
    ] {
        let err = steps(&Goal::SeedsOnly, &settings(Workflow::Dev), &set, rows, &[]).unwrap_err();
        assert!(err.to_string().contains(why), "{err}");
    }
}

#[test]
fn a_revert_goes_newest_first_and_needs_every_down() {
    let set = set(vec![v("1", "a"), v("2", "b"), v("3", "c")]);
    let rows = history(&set.all().iter().collect::<Vec<_>>());
    let dev = settings(Workflow::Dev);
    let revert = |how| steps(&Goal::Revert(how), &dev, &set, &rows, &[]);
    assert_eq!(
        revert(Revert::Steps(2)).unwrap(),
        ["revert 3 m3", "revert 2 m2"]
    );
    assert_eq!(revert(Revert::Steps(9)).unwrap().len(), 3);
    assert_eq!(
        revert(Revert::To(Version::parse("1").unwrap())).unwrap(),
        ["revert 3 m3", "revert 2 m2"]
    );
    assert!(matches!(
        revert(Revert::To(Version::parse("7").unwrap())),
        Err(Error::UnknownVersion { .. })
    ));
    let mut no_down = rows.clone();
    no_down[2].has_down = false;
    assert!(matches!(
        steps(&Goal::Revert(Revert::Steps(1)), &dev, &set, &no_down, &[]),
        Err(Error::MissingDown { .. })
    ));
    // A down without statements: refused by name, before anything is reverted.
    let mut irreversible = rows.clone();
    irreversible[1].has_down = false;
    irreversible[1].irreversible = true;
    assert!(matches!(
        steps(
            &Goal::Revert(Revert::Steps(2)),
            &dev,
            &set,
            &irreversible,
            &[]
        ),
        Err(Error::Irreversible { .. })
    ));
    assert_eq!(
        steps(
            &Goal::Revert(Revert::Steps(1)),
            &dev,
            &set,
            &irreversible,
            &[]
        )
        .unwrap(),
        ["revert 3 m3"]
    );
    // A half-reverted row is reverted again (its down goes on where it stopped).
    let mut half = rows.clone();
    half[2].reverted_statements = 1;
    assert_eq!(
        steps(&Goal::Revert(Revert::Steps(1)), &dev, &set, &half, &[]).unwrap(),
        ["revert 3 m3"]
    );
}

#[test]
fn an_irreversible_migration_in_dev_resets_and_says_why() {
    let (set, _, mut rows) = edited_second();
    rows[1].has_down = false;
    rows[1].irreversible = true;
    let plan = plan_of(&Goal::Workflow, &settings(Workflow::Dev), &set, &rows, &[]).unwrap();
    assert_eq!(
        render(&plan),
        ["reset schemas", "apply 1 m1", "apply 2 m2", "apply 3 m3"]
    );
    assert_eq!(
        plan.steps[0].reason,
        "2 m2 cannot be reverted (its down script holds no statement: irreversible)"
    );
}

#[test]
fn one_transaction_for_all_is_one_step_and_refuses_a_no_transaction_migration() {
    let all = |workflow| Settings {
        transaction: TransactionMode::All,
        ..settings(workflow)
    };
    let set_ok = set(vec![v("1", "a"), v("2", "b"), repeatable("views", "x")]);
    assert_eq!(
        steps(&Goal::Workflow, &all(Workflow::Prod), &set_ok, &[], &[]).unwrap(),
        ["apply-all 1 m1,2 m2", "repeatable views"]
    );
    let set_bad = set(vec![
        v("1", "a"),
        v("2", "CREATE INDEX CONCURRENTLY i ON t (c)"),
    ]);
    assert!(matches!(
        steps(&Goal::Workflow, &all(Workflow::Dev), &set_bad, &[], &[]),
        Err(Error::NoTransactionInBatch { ref path }) if path == "2_m2.sql"
    ));
}

#[test]
fn a_database_stamped_prod_refuses_every_destructive_goal_without_the_override() {
    let stamped = Some(Workflow::Prod);
    for (goal, workflow, refused) in [
        (Goal::Workflow, Workflow::Prod, false),
        (Goal::Workflow, Workflow::Dev, true),
        (Goal::Workflow, Workflow::Qa, true),
        (Goal::SeedsOnly, Workflow::Dev, true),
        (Goal::Reset, Workflow::Dev, true),
        (Goal::Revert(Revert::Steps(1)), Workflow::Prod, true),
    ] {
        let outcome = check_protection(&goal, workflow, stamped, "app", None);
        assert_eq!(outcome.is_err(), refused, "{goal:?} {workflow}");
        assert!(check_protection(&goal, workflow, stamped, "app", Some("app")).is_ok());
        assert_eq!(
            check_protection(&goal, workflow, stamped, "app", Some("other")).is_err(),
            refused
        );
        assert!(
            check_protection(&goal, workflow, Some(Workflow::Dev), "app", None).is_ok()
                || goal == Goal::Reset && workflow == Workflow::Prod
        );
    }
    // A reset under the prod workflow is refused even on an unstamped database.
    assert!(check_protection(&Goal::Reset, Workflow::Prod, None, "app", None).is_err());
}

#[test]
fn the_view_shows_the_same_steps_with_their_reasons() {
    let (set, _, rows) = edited_second();
    let plan = plan_of(&Goal::Workflow, &settings(Workflow::Dev), &set, &rows, &[]).unwrap();
    let view = plan.view(Workflow::Dev);
    assert_eq!(
        view.undo,
        view::Undo::Rewind {
            scripts: vec!["3 m3".to_owned(), "2 m2".to_owned()]
        }
    );
    let listed: Vec<String> = view
        .steps
        .iter()
        .map(|s| format!("{} {}", s.action, s.subject))
        .collect();
    assert_eq!(
        listed,
        ["revert 3 m3", "revert 2 m2", "apply 2 m2", "apply 3 m3"]
    );
    assert_eq!(view.apply.len(), 2);
    assert_eq!(
        view.divergence.unwrap().reason,
        "edited since it was applied"
    );
}
