//! Dry runs: the plan simulated inside a transaction that is always rolled back, watched so
//! the report can say what each migration touches, locks and rewrites, and how big that is.
//!
//! Before and after each migration trek reads `pg_class` (the file node and total size of
//! every relation outside PostgreSQL's schemas) and, after it, the relation locks its own
//! session holds: a relation whose file node changed was rewritten (its size before is the
//! estimated size of the change); one that appeared was created; one that vanished was dropped;
//! one locked above `RowExclusiveLock` was altered. Statements run one at a time so each one's
//! row count is known. `lock_timeout` and `statement_timeout` are short, so a dry run never
//! hangs a live system; it does take the locks it reports, for as long as it runs.
//! `no_transaction` migrations are not executed: they cannot run inside the transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use postgres::{Client, SimpleQueryMessage};
use trek_core::split::split;
use trek_core::Migration;

use crate::db_error::SqlFailure;
use crate::error::{Error, Result};
use crate::plan::view::{Plan, PlannedScript};

/// What a dry run found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DryRun {
    /// The plan that was simulated.
    pub plan: Plan,
    /// One entry per script of the plan that applies something, in order.
    pub scripts: Vec<Simulated>,
    /// Wall time of the whole simulation.
    pub duration: Duration,
}

impl DryRun {
    /// Whether any script takes an `AccessExclusiveLock` on a table that holds data.
    pub fn blocks_reads_on_data(&self) -> bool {
        self.scripts
            .iter()
            .any(|s| s.locks.iter().any(LockTaken::blocks_reads_on_data))
    }
}

/// One script as simulated.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Simulated {
    /// The script.
    pub script: PlannedScript,
    /// Whether it ran, and how it ended.
    pub outcome: Outcome,
    /// Its statements with their row counts.
    pub statements: Vec<StatementRun>,
    /// Relations it created (`public.orders`).
    pub created: Vec<String>,
    /// Relations it changed in place (locked above `RowExclusiveLock`).
    pub altered: Vec<String>,
    /// Relations it dropped.
    pub dropped: Vec<String>,
    /// Relations it rewrote, with their size before.
    pub rewritten: Vec<Rewrite>,
    /// The relation locks it took.
    pub locks: Vec<LockTaken>,
    /// What static analysis says of it ([`crate::lint`]), with the live sizes of the tables
    /// the findings concern: a rewrite of 10 rows is a note, of 10 million a warning.
    pub findings: Vec<crate::lint::Finding>,
    /// How long it ran.
    pub duration: Duration,
}

/// How a simulated script ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran, and was rolled back with the rest.
    Simulated,
    /// It was not executed; why.
    NotSimulated {
        /// Why (a `no_transaction` script, or one after a failure).
        reason: String,
    },
    /// It failed: the real run would fail here too (or the dry run's short timeouts hit).
    Failed {
        /// What PostgreSQL said, with file, line and column.
        error: String,
    },
}

/// One statement and the rows it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatementRun {
    /// The statement's first line, shortened.
    pub text: String,
    /// Rows inserted, updated, deleted or selected, when the statement reports a count.
    pub rows: Option<u64>,
    /// How long it ran.
    pub duration: Duration,
}

/// A relation whose file node changed: PostgreSQL wrote it anew.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rewrite {
    /// `public.orders`.
    pub relation: String,
    /// `table`, `index`, `materialized view`, ...
    pub kind: String,
    /// `pg_total_relation_size` before: the estimated size of the change, in bytes.
    pub size_before: i64,
}

/// A relation lock a script took.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockTaken {
    /// `public.orders`.
    pub relation: String,
    /// `table`, `index`, ...
    pub kind: String,
    /// `AccessExclusiveLock`, `ShareLock`, ...
    pub mode: String,
    /// Whether the relation held data before (a non-empty heap).
    pub holds_data: bool,
}

impl LockTaken {
    /// An `AccessExclusiveLock` on a table with data: reads and writes wait for it.
    pub fn blocks_reads_on_data(&self) -> bool {
        self.mode == "AccessExclusiveLock" && self.holds_data && self.kind == "table"
    }
}

/// What the dry run runs before the scripts, to undo what the plan undoes first.
#[derive(Debug, Clone)]
pub(crate) enum Undo {
    /// Nothing to undo.
    Nothing,
    /// This SQL (down scripts, schema drops) inside the transaction.
    Sql(String),
    /// The undo cannot be simulated; why. No script is simulated.
    Impossible(String),
}

/// The timeouts a dry run sets for itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
    /// Below this many rows, a lint finding about a table is a note.
    pub small_table_rows: u64,
}

#[derive(Debug, Clone)]
struct Relation {
    name: String,
    kind: String,
    filenode: u32,
    size: i64,
    heap: i64,
}

/// Simulates `scripts` in one transaction on `client`, rolled back at the end whatever
/// happens.
pub(crate) fn simulate(
    client: &mut Client,
    plan: Plan,
    scripts: &[&Migration],
    undo: Undo,
    limits: Limits,
) -> Result<DryRun> {
    let started = Instant::now();
    // Static analysis first, measured against the tables as they are now.
    let mut findings = Vec::with_capacity(scripts.len());
    for m in scripts {
        let mut found = crate::lint::check(m);
        crate::lint::measure(client, &mut found, limits.small_table_rows)?;
        findings.push(found);
    }
    client
        .batch_execute(&format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms';",
            limits.lock_timeout.as_millis(),
            limits.statement_timeout.as_millis()
        ))
        .map_err(|e| Error::db("could not start the dry run's transaction", e))?;
    let outcome = match undo {
        Undo::Nothing => simulate_in_transaction(client, scripts),
        Undo::Impossible(reason) => Ok(not_simulated(scripts, &reason)),
        Undo::Sql(sql) => match client.batch_execute(&sql) {
            Ok(()) => simulate_in_transaction(client, scripts),
            Err(e) => Ok(not_simulated(
                scripts,
                &format!(
                    "undoing what the plan undoes first failed: {}",
                    crate::db_error::describe(&e)
                ),
            )),
        },
    };
    let rollback = client.batch_execute("ROLLBACK");
    let mut simulated = outcome?;
    rollback.map_err(|e| Error::db("could not roll the dry run back", e))?;
    for (entry, found) in simulated.iter_mut().zip(findings) {
        entry.findings = found;
    }
    Ok(DryRun {
        plan,
        scripts: simulated,
        duration: started.elapsed(),
    })
}

/// Every script listed as not simulated, for `reason`.
fn not_simulated(scripts: &[&Migration], reason: &str) -> Vec<Simulated> {
    scripts
        .iter()
        .map(|m| {
            let mut entry = entry(m);
            entry.outcome = Outcome::NotSimulated {
                reason: reason.to_owned(),
            };
            entry
        })
        .collect()
}

fn entry(m: &Migration) -> Simulated {
    Simulated {
        script: PlannedScript {
            kind: m.kind(),
            version: m.version().map(ToString::to_string),
            name: m.name().to_owned(),
            path: m.path().to_owned(),
        },
        outcome: Outcome::Simulated,
        statements: Vec::new(),
        created: Vec::new(),
        altered: Vec::new(),
        dropped: Vec::new(),
        rewritten: Vec::new(),
        locks: Vec::new(),
        findings: Vec::new(),
        duration: Duration::ZERO,
    }
}

fn simulate_in_transaction(client: &mut Client, scripts: &[&Migration]) -> Result<Vec<Simulated>> {
    let mut out = Vec::with_capacity(scripts.len());
    let mut failed = false;
    let mut held = locks(client)?;
    for m in scripts {
        let mut entry = entry(m);
        if failed {
            entry.outcome = Outcome::NotSimulated {
                reason: "an earlier script failed".to_owned(),
            };
            out.push(entry);
            continue;
        }
        if m.directives().no_transaction {
            entry.outcome = Outcome::NotSimulated {
                reason: "it runs outside a transaction (-- trek:no_transaction), so it cannot \
                         be rolled back"
                    .to_owned(),
            };
            out.push(entry);
            continue;
        }
        let started = Instant::now();
        let before = relations(client)?;
        client
            .batch_execute("SAVEPOINT trek_dry_run")
            .map_err(|e| Error::db("could not set a savepoint", e))?;
        for statement in split(m.sql()) {
            let statement_started = Instant::now();
            match client.simple_query(statement.text) {
                Ok(messages) => entry.statements.push(StatementRun {
                    text: shorten(statement.text),
                    rows: messages.iter().rev().find_map(|msg| match msg {
                        SimpleQueryMessage::CommandComplete(n) => Some(*n),
                        _ => None,
                    }),
                    duration: statement_started.elapsed(),
                }),
                Err(e) => {
                    let error = SqlFailure::from_error(
                        &e,
                        m.path(),
                        m.sql(),
                        statement.offset,
                        0,
                        statement.text.chars().count(),
                    )
                    .map_or_else(|| crate::db_error::describe(&e), |f| f.to_string());
                    entry.outcome = Outcome::Failed { error };
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            client
                .batch_execute("ROLLBACK TO SAVEPOINT trek_dry_run")
                .map_err(|e| Error::db("could not roll back to the savepoint", e))?;
            entry.duration = started.elapsed();
            out.push(entry);
            continue;
        }
        let after = relations(client)?;
        let now_held = locks(client)?;
        compare(&before, &after, &held, &now_held, &mut entry);
        held = now_held;
        entry.duration = started.elapsed();
        out.push(entry);
    }
    Ok(out)
}

fn compare(
    before: &BTreeMap<u32, Relation>,
    after: &BTreeMap<u32, Relation>,
    held: &BTreeSet<(u32, String)>,
    now_held: &BTreeSet<(u32, String)>,
    entry: &mut Simulated,
) {
    for (oid, rel) in after {
        match before.get(oid) {
            None => entry.created.push(rel.name.clone()),
            Some(old) if old.filenode != rel.filenode && old.filenode != 0 => {
                entry.rewritten.push(Rewrite {
                    relation: old.name.clone(),
                    kind: old.kind.clone(),
                    size_before: old.size,
                });
            }
            Some(_) => {}
        }
    }
    for (oid, rel) in before {
        if !after.contains_key(oid) {
            entry.dropped.push(rel.name.clone());
        }
    }
    let mut altered = BTreeSet::new();
    for (oid, mode) in now_held.difference(held) {
        let Some(rel) = before.get(oid).or_else(|| after.get(oid)) else {
            continue;
        };
        entry.locks.push(LockTaken {
            relation: rel.name.clone(),
            kind: rel.kind.clone(),
            mode: mode.clone(),
            holds_data: before.get(oid).is_some_and(|r| r.heap > 0),
        });
        let ddl = !matches!(
            mode.as_str(),
            "AccessShareLock" | "RowShareLock" | "RowExclusiveLock"
        );
        if ddl && before.contains_key(oid) && after.contains_key(oid) {
            altered.insert(rel.name.clone());
        }
    }
    entry.altered = altered.into_iter().collect();
    entry
        .locks
        .sort_by(|a, b| a.relation.cmp(&b.relation).then(a.mode.cmp(&b.mode)));
}

/// Every relation outside PostgreSQL's own schemas.
fn relations(client: &mut Client) -> Result<BTreeMap<u32, Relation>> {
    let rows = client
        .query(
            "SELECT c.oid, format('%I.%I', n.nspname, c.relname), c.relkind::text, \
                    c.relfilenode, \
                    CASE WHEN c.relkind IN ('r', 'm', 'i', 't', 'S') THEN pg_total_relation_size(c.oid) ELSE 0 END, \
                    CASE WHEN c.relkind IN ('r', 'm', 't') THEN pg_relation_size(c.oid) ELSE 0 END \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'",
            &[],
        )
        .map_err(|e| Error::db("could not read the relations for the dry run", e))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let oid: u32 = r.get(0);
            let kind: String = r.get(2);
            (
                oid,
                Relation {
                    name: r.get(1),
                    kind: kind_name(&kind).to_owned(),
                    filenode: r.get(3),
                    size: r.get(4),
                    heap: r.get(5),
                },
            )
        })
        .collect())
}

/// The relation locks this session holds, outside PostgreSQL's catalogs.
fn locks(client: &mut Client) -> Result<BTreeSet<(u32, String)>> {
    let rows = client
        .query(
            "SELECT l.relation, l.mode FROM pg_locks l \
             JOIN pg_class c ON c.oid = l.relation \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .map_err(|e| Error::db("could not read the dry run's locks", e))?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

fn kind_name(relkind: &str) -> &'static str {
    match relkind {
        "r" => "table",
        "p" => "partitioned table",
        "i" | "I" => "index",
        "S" => "sequence",
        "v" => "view",
        "m" => "materialized view",
        "t" => "TOAST table",
        "f" => "foreign table",
        "c" => "type",
        _ => "relation",
    }
}

/// The first line of a statement, at most 80 characters.
fn shorten(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() > 80 || text.lines().count() > 1 {
        let cut: String = line.chars().take(77).collect();
        format!("{cut}...")
    } else {
        line.to_owned()
    }
}
