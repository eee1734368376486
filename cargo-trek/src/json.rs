//! The documents `cargo trek --json` prints: one type per command, for programs that read them.
//!
//! With `--json`, stdout carries exactly one JSON document. Every document is an object whose
//! first field, `"schema"`, names it and its version (`"trek.status/1"`); the version goes up
//! when a field is removed, renamed or changes meaning, not when one is added. A failed command
//! prints an [`ErrorDoc`] (`"trek.error/1"`) instead of its own document. Field names are
//! `snake_case`; a value that can be absent is `null`, never missing, unless its field says so.
//!
//! Deserialize the output with these types (they check the `"schema"`):
//!
//! ```no_run
//! use cargo_trek::json::Status;
//!
//! let out = std::process::Command::new("cargo")
//!     .args(["trek", "status", "--json"])
//!     .output()?;
//! let status: Status = serde_json::from_slice(&out.stdout)?;
//! for m in &status.migrations {
//!     println!("{} {}: {:?}", m.version.as_deref().unwrap_or("-"), m.name, m.state);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | command | document | schema |
//! |---|---|---|
//! | `status` | [`Status`] | `trek.status/1` |
//! | `up` | [`Up`] | `trek.up/1` |
//! | `up --dry-run` | [`DryRun`] | `trek.up.dry-run/1` |
//! | `down` | [`Down`] | `trek.down/1` |
//! | `reset` | [`Reset`] | `trek.reset/1` |
//! | `seed` | [`Seed`] | `trek.seed/1` |
//! | `baseline` | [`Baseline`] | `trek.baseline/1` |
//! | `import` | [`Import`] | `trek.import/1` |
//! | `verify` | [`Verify`] | `trek.verify/1` |
//! | `repair` | [`Repair`] | `trek.repair/1` |
//! | `audit` | [`Audit`] | `trek.audit/1` |
//! | `dump` | [`Dump`] | `trek.dump/1` |
//! | `drift` | [`Drift`] | `trek.drift/1` |
//! | `restore` | [`Restore`] | `trek.restore/1` |
//! | `snapshots [list]` | [`SnapshotsList`] | `trek.snapshots.list/1` |
//! | `snapshots prune` | [`SnapshotsPrune`] | `trek.snapshots.prune/1` |
//! | `lint` | [`Lint`] | `trek.lint/1` |
//! | `init` | [`Init`] | `trek.init/1` |
//! | `new` | [`New`] | `trek.new/1` |
//! | `db start` | [`DbStart`] | `trek.db.start/1` |
//! | `db stop` | [`DbStop`] | `trek.db.stop/1` |
//! | `db url` | [`DbUrl`] | `trek.db.url/1` |
//! | `db destroy` | [`DbDestroy`] | `trek.db.destroy/1` |
//! | `completions` | [`Completions`] | `trek.completions/1` |
//! | `watch` | [`Watch`], one per change, each on one line | `trek.watch/1` |
//! | `fleet up` | [`FleetUp`] | `trek.fleet.up/1` |
//! | `fleet status` | [`FleetStatus`] | `trek.fleet.status/1` |
//! | any, on failure | [`ErrorDoc`] | `trek.error/1` |

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares the `"schema"` value of one document: a unit type that serializes as the name and
/// refuses any other name when deserialized.
macro_rules! schema {
    ($(#[$doc:meta])* $type:ident = $name:literal) => {
        $(#[$doc])*
        #[doc = concat!("Serialized as `\"", $name, "\"`; deserializing anything else fails.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $type;

        impl $type {
            /// The name and version.
            pub const NAME: &'static str = $name;
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($name)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = String::deserialize(deserializer)?;
                if name == $name {
                    Ok($type)
                } else {
                    Err(serde::de::Error::custom(format_args!(
                        "expected the schema {:?}, found {name:?}",
                        $name
                    )))
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($name)
            }
        }
    };
}

schema!(
    /// The schema of [`Import`].
    ImportSchema = "trek.import/1"
);
schema!(
    /// The schema of [`FleetUp`].
    FleetUpSchema = "trek.fleet.up/1"
);
schema!(
    /// The schema of [`FleetStatus`].
    FleetStatusSchema = "trek.fleet.status/1"
);
schema!(
    /// The schema of [`Watch`].
    WatchSchema = "trek.watch/1"
);
schema!(
    /// The schema of [`Status`].
    StatusSchema = "trek.status/1"
);
schema!(
    /// The schema of [`Up`].
    UpSchema = "trek.up/1"
);
schema!(
    /// The schema of [`DryRun`].
    DryRunSchema = "trek.up.dry-run/1"
);
schema!(
    /// The schema of [`Down`].
    DownSchema = "trek.down/1"
);
schema!(
    /// The schema of [`Reset`].
    ResetSchema = "trek.reset/1"
);
schema!(
    /// The schema of [`Seed`].
    SeedSchema = "trek.seed/1"
);
schema!(
    /// The schema of [`Baseline`].
    BaselineSchema = "trek.baseline/1"
);
schema!(
    /// The schema of [`Verify`].
    VerifySchema = "trek.verify/1"
);
schema!(
    /// The schema of [`Repair`].
    RepairSchema = "trek.repair/1"
);
schema!(
    /// The schema of [`Audit`].
    AuditSchema = "trek.audit/1"
);
schema!(
    /// The schema of [`Dump`].
    DumpSchema = "trek.dump/1"
);
schema!(
    /// The schema of [`Drift`].
    DriftSchema = "trek.drift/1"
);
schema!(
    /// The schema of [`Restore`].
    RestoreSchema = "trek.restore/1"
);
schema!(
    /// The schema of [`SnapshotsList`].
    SnapshotsListSchema = "trek.snapshots.list/1"
);
schema!(
    /// The schema of [`SnapshotsPrune`].
    SnapshotsPruneSchema = "trek.snapshots.prune/1"
);
schema!(
    /// The schema of [`SnapshotsOrphans`].
    SnapshotsOrphansSchema = "trek.snapshots.orphans/1"
);
schema!(
    /// The schema of [`Lint`].
    LintSchema = "trek.lint/1"
);
schema!(
    /// The schema of [`Init`].
    InitSchema = "trek.init/1"
);
schema!(
    /// The schema of [`New`].
    NewSchema = "trek.new/1"
);
schema!(
    /// The schema of [`DbStart`].
    DbStartSchema = "trek.db.start/1"
);
schema!(
    /// The schema of [`DbStop`].
    DbStopSchema = "trek.db.stop/1"
);
schema!(
    /// The schema of [`DbUrl`].
    DbUrlSchema = "trek.db.url/1"
);
schema!(
    /// The schema of [`DbDestroy`].
    DbDestroySchema = "trek.db.destroy/1"
);
schema!(
    /// The schema of [`Completions`].
    CompletionsSchema = "trek.completions/1"
);
schema!(
    /// The schema of [`ErrorDoc`].
    ErrorSchema = "trek.error/1"
);

// ---------------------------------------------------------------------------------------------
// Values shared by several documents

/// What a script is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A versioned migration (`0001_create_users.sql`).
    Versioned,
    /// A repeatable script, re-run when it changes (`R__views.sql`).
    Repeatable,
    /// A seed (`S0001_demo.sql`), run by the dev and qa workflows.
    Seed,
}

/// A workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workflow {
    /// Rewinds edited migrations (or resets), runs seeds.
    Dev,
    /// Snapshots before applying; an edited migration restores a snapshot.
    Qa,
    /// Forward only, never seeds; destructive actions are refused.
    Prod,
}

/// A migration's state in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Applied, and the file still has the checksum it was applied with.
    Applied,
    /// Not applied yet (for a repeatable: new, or changed since it last ran).
    Pending,
    /// Applied, but the file was edited since.
    Modified,
    /// Applied, but no file has this version any more.
    Missing,
    /// `out-of-order`: not applied, and older than the newest applied migration.
    OutOfOrder,
    /// A `no_transaction` migration that broke halfway.
    Failed,
    /// `half-reverted`: its down script (outside a transaction) failed halfway; the next
    /// revert continues at the failing statement.
    HalfReverted,
}

/// A script a plan applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedScript {
    /// What it is.
    pub kind: Kind,
    /// The version as written in the file name; `null` for repeatables.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The file, relative to the migrations folder.
    pub path: String,
}

/// Where the applied sequence first differs from the migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// The position in the applied sequence (0 = the first applied migration).
    pub position: usize,
    /// The applied item there: `0003 add_orders`, `seed 0001 demo`.
    pub label: String,
    /// Why it differs: `edited since it was applied`, `its file is gone`, ...
    pub reason: String,
}

/// How a run undoes what was applied after the divergence, in `"action"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum UndoAction {
    /// Nothing to undo.
    Nothing,
    /// dev: run the captured down scripts of these items, newest first.
    Rewind {
        /// The items, in the order they are reverted.
        scripts: Vec<String>,
    },
    /// dev: drop the managed schemas (or the database) and apply everything; with `reset =
    /// "template"`, copy the template of the unchanged prefix and apply the rest.
    Reset {
        /// Why a rewind is not possible.
        reason: String,
        /// How many migrations come from the prefix template's copy (absent when 0: the reset
        /// starts from nothing).
        #[serde(default, skip_serializing_if = "is_zero")]
        from_template: usize,
    },
    /// qa: restore this snapshot, then roll forward.
    Restore {
        /// The snapshot.
        snapshot: Snapshot,
    },
    /// The workflow cannot undo it: the run stops.
    Blocked {
        /// Why, and what to do.
        reason: String,
    },
}

/// The undo path of a plan: the action and its details, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undo {
    /// The action (`"action"`: `nothing`, `rewind`, `reset`, `restore` or `blocked`) and its
    /// fields, inline.
    #[serde(flatten)]
    pub action: UndoAction,
    /// The same, for people.
    pub message: String,
}

/// What a run of the workflow does: the divergence, how it is undone, what is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The workflow the plan is for.
    pub workflow: Workflow,
    /// Whether the run changes nothing.
    pub noop: bool,
    /// The first applied item that differs from the migrations, if any.
    pub divergence: Option<Divergence>,
    /// How the items after the divergence are undone.
    pub undo: Undo,
    /// Whether a qa snapshot is taken before applying.
    pub snapshot: bool,
    /// The scripts applied, in order.
    pub apply: Vec<PlannedScript>,
    /// Every step the run takes, in order, each with its reason.
    pub steps: Vec<PlanStep>,
}

/// One step of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    /// What the step does.
    pub action: StepAction,
    /// What it acts on: `0003 add_orders`, `before 0002 b` (a snapshot), `the database`.
    pub subject: String,
    /// Why the plan has it.
    pub reason: String,
}

/// The kind of a [`PlanStep`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepAction {
    /// Rebuild the database from nothing.
    Reset,
    /// Restore a qa snapshot.
    Restore,
    /// Run a captured down script.
    Revert,
    /// Take a qa snapshot.
    Snapshot,
    /// Apply a versioned migration or seed.
    Apply,
    /// Run a repeatable.
    RunRepeatable,
}

/// One entry of the qa snapshot catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Its id in the catalogue.
    pub id: i64,
    /// When it was taken (UTC, RFC 3339).
    pub taken_at: String,
    /// The strategy that took it (`pg_dump`, `template`, `command`, ...).
    pub strategy: String,
    /// Where it is: a file, a database name, or what the command printed.
    pub location: String,
    /// What it was taken before: `before 0002 add_email`.
    pub label: String,
    /// How many migrations were applied when it was taken.
    pub applied_count: usize,
    /// Its size, when known.
    pub size_bytes: Option<i64>,
}

/// One script applied or reverted by a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What it is.
    pub kind: Kind,
    /// The version; `null` for repeatables.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// Wall time including the round trip.
    pub duration_ms: u64,
}

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// An applied migration's file changed since it ran.
    Modified,
    /// The database has a migration the migrations folder does not.
    Missing,
    /// Out-of-order migrations were applied because the run allowed it.
    AppliedOutOfOrder,
    /// The binary does not embed every file of its migrations folder.
    StaleBinary,
    /// The advisory lock was not held at the end of the run (a transaction-pooling proxy).
    LockLost,
    /// An applied migration's down script failed halfway in an earlier revert.
    HalfReverted,
}

/// Something odd that did not stop the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// What it is about.
    pub kind: WarningKind,
    /// What happened and what to do, for people.
    pub message: String,
}

/// What a run did: the body of [`Up`], [`Down`], [`Reset`], [`Seed`] and [`Baseline`], which
/// differ in their `"schema"` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run<S> {
    /// The document's name and version.
    pub schema: S,
    /// The database, password masked.
    pub database: String,
    /// The workflow that ran, when the command ran one (`up`, `reset`, `seed`).
    pub workflow: Option<Workflow>,
    /// Scripts applied, in order.
    pub applied: Vec<Step>,
    /// Scripts reverted, newest first.
    pub reverted: Vec<Step>,
    /// The plan the run followed, as first made.
    pub plan: Option<Plan>,
    /// qa snapshots taken during the run.
    pub snapshots: Vec<Snapshot>,
    /// What did not stop the run but deserves a look.
    pub warnings: Vec<Warning>,
    /// Wall time of the whole run, lock wait included.
    pub duration_ms: u64,
    /// Time spent waiting for the advisory lock.
    pub lock_wait_ms: u64,
}

// ---------------------------------------------------------------------------------------------
// status

/// `cargo trek status --json`: every migration with its state, and the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `"trek.status/1"`.
    pub schema: StatusSchema,
    /// The database, password masked.
    pub database: String,
    /// Whether trek's tables exist in the database.
    pub initialized: bool,
    /// The workflow that first claimed the database (`dev`, `qa`, `prod`).
    pub stamp: Option<String>,
    /// Whether everything is applied and unmodified (what `status --check` demands).
    pub up_to_date: bool,
    /// One entry per migration file or applied row, in order.
    pub migrations: Vec<StatusEntry>,
    /// What `up` would do now.
    pub plan: Plan,
    /// INVALID indexes in the managed schemas (a failed `CREATE INDEX CONCURRENTLY`),
    /// schema-qualified; `status --check` fails while there are any.
    #[serde(default)]
    pub invalid_indexes: Vec<String>,
}

/// One migration in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    /// What it is.
    pub kind: Kind,
    /// The version (from the file, or the database for a missing one); `null` for repeatables.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The file, relative to the migrations folder; `null` when missing.
    pub path: Option<String>,
    /// Its state.
    pub state: State,
    /// When it was applied (UTC, RFC 3339).
    pub applied_at: Option<String>,
    /// How long applying took.
    pub duration_ms: Option<i64>,
    /// The checksum recorded when it was applied.
    pub applied_checksum: Option<String>,
    /// The checksum of the file now.
    pub file_checksum: Option<String>,
    /// For a modified entry whose applied script the database kept: the unified diff of the
    /// script as applied against the file. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// For a half-reverted entry: how many statements of its non-transactional down script
    /// ran and stay done. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverted_statements: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// up, down, reset, seed, baseline

/// `cargo trek up --json`.
pub type Up = Run<UpSchema>;
/// `cargo trek down --json`.
pub type Down = Run<DownSchema>;
/// `cargo trek reset --json`.
pub type Reset = Run<ResetSchema>;
/// `cargo trek seed --json`.
pub type Seed = Run<SeedSchema>;
/// `cargo trek baseline --json`.
pub type Baseline = Run<BaselineSchema>;

// ---------------------------------------------------------------------------------------------
// watch

/// `cargo trek watch --json`: one document per pass of the dev workflow (the first when the
/// watch starts, then one per change), each on its own line. A failed pass is a document too,
/// with `"outcome"` `failed` or `invalid` and the [`Error`]; the watch goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    /// `"trek.watch/1"`.
    pub schema: WatchSchema,
    /// The pass, counted from 1 (the pass run when the watch starts).
    pub pass: u64,
    /// The files whose change started the pass, relative to the package (empty for the first
    /// pass), sorted.
    pub changed: Vec<String>,
    /// How the pass ended.
    pub outcome: WatchOutcome,
    /// How what diverged was undone: `none`, `down_scripts` (the captured down scripts),
    /// `template` (a copy of the prefix template, then the rest) or `reset` (the database was
    /// rebuilt from nothing).
    pub path: WatchPath,
    /// The prefix template the pass copied (`path` is `template`); `null` otherwise.
    pub template: Option<PrefixTemplate>,
    /// The database, password masked; `null` when the pass did not get that far.
    pub database: Option<String>,
    /// Scripts applied, in order (on failure: see `error.applied_before`).
    pub applied: Vec<Step>,
    /// Scripts reverted, newest first.
    pub reverted: Vec<Step>,
    /// The plan the run followed; `null` when the pass did not run the workflow.
    pub plan: Option<Plan>,
    /// What did not stop the run but deserves a look.
    pub warnings: Vec<Warning>,
    /// The time the workflow took, lock wait included.
    pub run_ms: u64,
    /// The time the whole pass took: reading the folder (and `Trek.toml` when it changed),
    /// connecting when needed, and the workflow.
    pub duration_ms: u64,
    /// What went wrong (`failed`, `invalid`), as in [`ErrorDoc`]; `null` otherwise.
    pub error: Option<Error>,
}

/// How a [`Watch`] pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchOutcome {
    /// The workflow ran and changed the database.
    Applied,
    /// The workflow ran; the database already matched the files.
    UpToDate,
    /// The workflow failed (a script's error, a lost connection); the watch goes on.
    Failed,
    /// The migrations folder, `Trek.toml` or `.env` is invalid: nothing ran; the watch goes on.
    Invalid,
}

/// How a [`Watch`] pass undid what diverged from the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchPath {
    /// Nothing to undo (or the pass did not run the workflow).
    None,
    /// The captured down scripts of the edited migration and those after it.
    DownScripts,
    /// A reset: the managed schemas (or the database) dropped and rebuilt.
    Reset,
    /// A reset that copied the template of the unchanged migrations before the edit, then
    /// applied the rest (see `template`).
    Template,
}

/// The prefix template a [`Watch`] pass (or a run) copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixTemplate {
    /// The template database, `<database>__trek_prefix_<hash>`.
    pub name: String,
    /// How many migrations it holds.
    pub migrations: usize,
    /// Whether this pass built it.
    pub built: bool,
    /// Time spent building it (0 when it was already there).
    pub build_ms: u64,
    /// Time spent replacing the database with a copy of it.
    pub copy_ms: u64,
    /// Whether the copy was made ahead, between passes, and only renamed into place.
    pub ready_copy: bool,
}

/// Whether a count is zero (serde's `skip_serializing_if`).
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

// ---------------------------------------------------------------------------------------------
// up --dry-run

/// `cargo trek up --dry-run --json`: the plan, and per script what it would touch, lock and
/// rewrite (everything ran in a transaction that was rolled back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    /// `"trek.up.dry-run/1"`.
    pub schema: DryRunSchema,
    /// The database, password masked.
    pub database: String,
    /// Always `true`.
    pub dry_run: bool,
    /// What the run would do.
    pub plan: Plan,
    /// Wall time of the simulation.
    pub duration_ms: u64,
    /// Whether a script takes an `AccessExclusiveLock` on a table with data.
    pub blocks_reads_on_data: bool,
    /// One per script of the plan.
    pub scripts: Vec<SimulatedScript>,
}

/// How a simulated script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It ran, and was rolled back.
    Simulated,
    /// It was not executed (`detail` says why).
    NotSimulated,
    /// It failed (`detail` has PostgreSQL's error).
    Failed,
}

/// One script of a [`DryRun`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulatedScript {
    /// What it is.
    pub kind: Kind,
    /// The version; `null` for repeatables.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The file, relative to the migrations folder.
    pub path: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it was not simulated, or how it failed.
    pub detail: Option<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// Its statements, with the rows each touched.
    pub statements: Vec<StatementRun>,
    /// Relations it creates.
    pub created: Vec<String>,
    /// Relations it alters.
    pub altered: Vec<String>,
    /// Relations it drops.
    pub dropped: Vec<String>,
    /// Relations it rewrites.
    pub rewritten: Vec<Rewrite>,
    /// What lint says about it.
    pub findings: Vec<DryRunFinding>,
    /// The locks it takes.
    pub locks: Vec<LockTaken>,
}

/// One statement of a simulated script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRun {
    /// The statement, shortened.
    pub text: String,
    /// The rows it touched, when PostgreSQL says.
    pub rows: Option<u64>,
    /// Wall time.
    pub duration_ms: u64,
}

/// A relation a script rewrites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rewrite {
    /// `public.users`.
    pub relation: String,
    /// `table`, `index`, ...
    pub kind: String,
    /// Its size before the script.
    pub size_before_bytes: i64,
}

/// A lint finding in a [`SimulatedScript`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunFinding {
    /// The rule (`changing-column-type`).
    pub rule: String,
    /// How bad it is.
    pub severity: Severity,
    /// The line in the file, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do instead.
    pub help: String,
    /// The table it is about, when there is one.
    pub table: Option<String>,
    /// The table's rows, when measured.
    pub rows: Option<u64>,
    /// The table's size, when measured.
    pub bytes: Option<u64>,
}

/// A lock a script takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockTaken {
    /// `public.users`.
    pub relation: String,
    /// `table`, `index`, ...
    pub kind: String,
    /// `AccessExclusiveLock`, ...
    pub mode: String,
    /// Whether the relation holds rows.
    pub holds_data: bool,
    /// Whether reads and writes wait on it while the script runs.
    pub blocks_reads_on_data: bool,
}

// ---------------------------------------------------------------------------------------------
// verify, repair, audit

/// `cargo trek verify --json`: the migrations folder, checked offline. `ok` says whether it has
/// no problems; then the counts and scripts are filled, else `problems` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verify {
    /// `"trek.verify/1"`.
    pub schema: VerifySchema,
    /// Whether the folder has no problems.
    pub ok: bool,
    /// The folder, as given in messages.
    pub migrations: String,
    /// How many versioned migrations (`null` when the folder has problems).
    pub versioned: Option<usize>,
    /// How many repeatables (`null` when the folder has problems).
    pub repeatable: Option<usize>,
    /// How many seeds (`null` when the folder has problems).
    pub seeds: Option<usize>,
    /// Every script (empty when the folder has problems).
    pub scripts: Vec<VerifiedScript>,
    /// Every problem (empty when `ok`).
    pub problems: Vec<Problem>,
    /// Statements PostgreSQL refuses inside a transaction block in files that run in one
    /// (they need `-- trek:no_transaction`). Warnings: `ok` stays true.
    #[serde(default)]
    pub warnings: Vec<Problem>,
}

/// One script of [`Verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedScript {
    /// What it is.
    pub kind: Kind,
    /// The version; `null` for repeatables.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The file, relative to the migrations folder.
    pub path: String,
    /// Its checksum (`sha256:...`).
    pub checksum: String,
    /// Its down script, relative to the folder.
    pub down: Option<String>,
    /// Whether it runs outside a transaction.
    pub no_transaction: bool,
}

/// A problem in the migrations folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The file, with the folder.
    pub path: String,
    /// The line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// `cargo trek repair --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    /// `"trek.repair/1"`.
    pub schema: RepairSchema,
    /// The database, password masked.
    pub database: String,
    /// Edited migrations whose file was accepted as applied.
    pub accepted: Vec<String>,
    /// Migrations that failed halfway, cleared so the next run retries them.
    pub cleared: Vec<String>,
    /// With `--downs`: applied migrations and seeds whose captured down script was replaced by
    /// the file's.
    pub downs_refreshed: Vec<String>,
    /// Without `--downs`: applied migrations and seeds whose down file differs from the
    /// captured down (left as they are; `repair --downs` replaces them).
    pub stale_downs: Vec<String>,
}

/// `cargo trek audit --json`: the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// `"trek.audit/1"`.
    pub schema: AuditSchema,
    /// The database, password masked.
    pub database: String,
    /// The entries, newest first.
    pub entries: Vec<AuditEntry>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its id.
    pub id: i64,
    /// When (UTC, RFC 3339).
    pub at: String,
    /// What: `apply`, `revert`, `reset`, `restore`, `repair`, `baseline`, `dry-run`, ...
    pub action: String,
    /// The script's kind, for a script.
    pub kind: Option<String>,
    /// The script's version.
    pub version: Option<String>,
    /// The script's name.
    pub name: Option<String>,
    /// `ok` or `failed`.
    pub outcome: String,
    /// The error of a failure.
    pub error: Option<String>,
    /// More about it.
    pub detail: Option<String>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// The workflow that ran.
    pub workflow: Option<String>,
    /// The database user.
    pub db_user: String,
    /// The client: `user@host`.
    pub client: Option<String>,
    /// The trek that wrote it.
    pub trek_version: String,
}

// ---------------------------------------------------------------------------------------------
// dump, drift, restore, snapshots

/// `cargo trek dump --json`: the dump in `dump`, or, with `-o FILE`, where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dump {
    /// `"trek.dump/1"`.
    pub schema: DumpSchema,
    /// The database, password masked.
    pub database: String,
    /// The file written (`-o`); `null` when the dump is in `dump`.
    pub file: Option<String>,
    /// The dump's size.
    pub bytes: usize,
    /// The dump itself; `null` when it was written to `file`.
    pub dump: Option<String>,
}

/// How an object differs in [`Drift`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The migrations make it; the database (or dump) does not have it.
    Missing,
    /// The database has it; the migrations do not make it.
    Extra,
    /// Both have it, differently (`details` says how).
    Changed,
}

/// One differing object of [`Drift`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDiff {
    /// `table`, `index`, `function`, ...
    pub kind: String,
    /// Its PostgreSQL schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// How it differs.
    pub change: Change,
    /// What differs, one line each (a column each, for tables).
    pub details: Vec<String>,
}

/// `cargo trek drift --json`: the schema the migrations make against the database or a dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// `"trek.drift/1"`.
    pub schema: DriftSchema,
    /// Whether nothing differs.
    pub in_sync: bool,
    /// What was compared with the migrations: the database (password masked) or the dump.
    pub against: String,
    /// Every differing object.
    pub objects: Vec<ObjectDiff>,
    /// The unified diff, migrations first.
    pub diff: String,
}

/// `cargo trek restore --from-dump FILE --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restore {
    /// `"trek.restore/1"`.
    pub schema: RestoreSchema,
    /// The database, password masked.
    pub database: String,
    /// The dump.
    pub restored_from: String,
    /// How many scripts `up` would apply now.
    pub pending: usize,
}

/// `cargo trek snapshots [list] --json`: the catalogue, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotsList {
    /// `"trek.snapshots.list/1"`.
    pub schema: SnapshotsListSchema,
    /// The database, password masked.
    pub database: String,
    /// The snapshots, oldest first.
    pub snapshots: Vec<Snapshot>,
}

/// `cargo trek snapshots list --orphans --json` and `snapshots prune --orphans --json`:
/// leftover snapshots no catalogue knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotsOrphans {
    /// `"trek.snapshots.orphans/1"`.
    pub schema: SnapshotsOrphansSchema,
    /// The database, password masked.
    pub database: String,
    /// Whether they were deleted (`prune --orphans`) or only listed.
    pub deleted: bool,
    /// The leftovers.
    pub orphans: Vec<Orphan>,
}

/// One leftover snapshot of [`SnapshotsOrphans`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    /// `template` (a database) or `pg_dump` (a file).
    pub strategy: String,
    /// The database's name or the file's path.
    pub location: String,
}

/// `cargo trek snapshots prune --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotsPrune {
    /// `"trek.snapshots.prune/1"`.
    pub schema: SnapshotsPruneSchema,
    /// The database, password masked.
    pub database: String,
    /// How many were kept.
    pub keep: usize,
    /// The snapshots deleted.
    pub deleted: Vec<Snapshot>,
}

// ---------------------------------------------------------------------------------------------
// lint

/// How bad a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing (a risky statement on a small table).
    Note,
    /// Locks, rewrites or breaks a live database: exit 1.
    Warning,
    /// Fails outright: exit 1.
    Error,
}

/// `cargo trek lint --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lint {
    /// `"trek.lint/1"`.
    pub schema: LintSchema,
    /// The database the table sizes come from; `null` without one.
    pub database: Option<String>,
    /// Tables under this many rows make rewrite, scan and index warnings notes.
    pub small_table_rows: u64,
    /// The files checked.
    pub checked: Vec<String>,
    /// Every finding, in file order.
    pub findings: Vec<LintFinding>,
}

/// One finding of [`Lint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    /// The file, with the folder.
    pub file: String,
    /// The migration: `0003 widen`.
    pub migration: String,
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
    /// The rule (`changing-column-type`).
    pub rule: String,
    /// How bad it is.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// What to do instead.
    pub help: String,
    /// The table it is about.
    pub table: Option<String>,
    /// The table's size, when measured.
    pub table_size: Option<TableSize>,
}

/// A table's size as lint measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSize {
    /// Whether the table exists yet.
    pub exists: bool,
    /// Its rows.
    pub rows: u64,
    /// Whether `rows` is the planner's estimate.
    pub rows_estimated: bool,
    /// Its size on disk.
    pub bytes: u64,
}

// ---------------------------------------------------------------------------------------------
// init, new, db, completions

/// `cargo trek init --json`: what it created, updated, and left as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Init {
    /// `"trek.init/1"`.
    pub schema: InitSchema,
    /// Paths created.
    pub created: Vec<String>,
    /// Paths changed (an existing `build.rs`).
    pub updated: Vec<String>,
    /// Paths already as they should be.
    pub unchanged: Vec<String>,
    /// Whether the package depends on `trek-runtime` yet.
    pub depends_on_trek: bool,
}

/// `cargo trek new NAME --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct New {
    /// `"trek.new/1"`.
    pub schema: NewSchema,
    /// What was scaffolded.
    pub kind: Kind,
    /// Its version; `null` for a repeatable.
    pub version: Option<String>,
    /// The normalized name.
    pub name: String,
    /// The files created: the script, then its down script.
    pub created: Vec<String>,
}

/// `cargo trek db start --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbStart {
    /// `"trek.db.start/1"`.
    pub schema: DbStartSchema,
    /// Always `true`.
    pub running: bool,
    /// Whether this command started it (`false`: it was running).
    pub started: bool,
    /// The URL of the project's database.
    pub url: String,
}

/// `cargo trek db stop --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbStop {
    /// `"trek.db.stop/1"`.
    pub schema: DbStopSchema,
    /// Always `false`.
    pub running: bool,
    /// Whether this command stopped it (`false`: it was not running).
    pub stopped: bool,
}

/// `cargo trek db url --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbUrl {
    /// `"trek.db.url/1"`.
    pub schema: DbUrlSchema,
    /// The URL of the project's database.
    pub url: String,
    /// The database's name.
    pub database: String,
    /// Whether this command started the server.
    pub started: bool,
}

/// `cargo trek db destroy --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbDestroy {
    /// `"trek.db.destroy/1"`.
    pub schema: DbDestroySchema,
    /// Always `true`.
    pub destroyed: bool,
}

/// `cargo trek completions SHELL --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completions {
    /// `"trek.completions/1"`.
    pub schema: CompletionsSchema,
    /// The shell.
    pub shell: String,
    /// The completion script.
    pub script: String,
}

// ---------------------------------------------------------------------------------------------
// fleets

/// `cargo trek fleet up --json`: one entry per target, in the fleet's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetUp {
    /// `"trek.fleet.up/1"`.
    pub schema: FleetUpSchema,
    /// The fleet's name.
    pub fleet: String,
    /// The workflow each target ran.
    pub workflow: Workflow,
    /// Whether nothing was changed (`--dry-run`): then each target's `result` is
    /// `would_apply` or `up_to_date`.
    pub dry_run: bool,
    /// Every target.
    pub targets: Vec<FleetTarget>,
    /// How many targets ended each way.
    pub counts: FleetCounts,
    /// Wall time of the whole run.
    pub duration_ms: u64,
}

/// One target of [`FleetUp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetTarget {
    /// The database's name, or `database.schema` for a tenant schema.
    pub name: String,
    /// Its server, `host:port`.
    pub server: String,
    /// The tenant schema, for a schema target.
    pub tenant_schema: Option<String>,
    /// How it ended.
    pub result: FleetResult,
    /// What it applied (or, with `--dry-run`, would apply): `0003 add_orders`.
    pub applied: Vec<String>,
    /// What it reverted (dev fleets).
    pub reverted: Vec<String>,
    /// How it undid (or, with `--dry-run`, would undo) edited migrations first, in dev:
    /// `rewind 2 scripts with their captured downs`, `reset: 0001 users was edited …`.
    pub undo: Option<String>,
    /// Why it failed (`failed`): as [`ErrorDoc`]'s `error`, with the file and line of a
    /// failed migration in `sql`.
    pub error: Option<Error>,
    /// Why it was not started (`skipped`).
    pub skipped_because: Option<String>,
    /// How long it took, connecting included.
    pub duration_ms: u64,
}

/// How a target of [`FleetUp`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetResult {
    /// It applied (or reverted) something.
    Migrated,
    /// It had nothing to do.
    UpToDate,
    /// It failed; it keeps what it applied before the failure.
    Failed,
    /// It was never started: a canary failed, or `--fail-fast` stopped the run.
    Skipped,
    /// `--dry-run`: it has something to apply.
    WouldApply,
}

/// The counts of [`FleetUp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetCounts {
    /// Targets in the fleet.
    pub targets: usize,
    /// Targets that applied something (with `--dry-run`: would).
    pub migrated: usize,
    /// Targets with nothing to do.
    pub up_to_date: usize,
    /// Targets that failed.
    pub failed: usize,
    /// Targets never started.
    pub skipped: usize,
}

/// `cargo trek fleet status --json`: each target's version, and the fleet's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetStatus {
    /// `"trek.fleet.status/1"`.
    pub schema: FleetStatusSchema,
    /// The fleet's name.
    pub fleet: String,
    /// The newest migration's version in the folder.
    pub latest: Option<String>,
    /// How many targets are at each version (their newest applied migration; `null`: none),
    /// newest first.
    pub versions: Vec<FleetVersionCount>,
    /// Every target.
    pub targets: Vec<FleetTargetStatus>,
    /// Targets with every migration applied and unedited.
    pub current: usize,
    /// Targets with migrations pending.
    pub behind: usize,
    /// Targets with a failed (half-applied `no_transaction`) migration.
    pub failed: usize,
    /// Targets with an applied migration whose file was edited since.
    pub modified: usize,
    /// Targets that could not be read.
    pub unreachable: usize,
}

/// One line of [`FleetStatus::versions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetVersionCount {
    /// The version; `null` for targets with nothing applied.
    pub version: Option<String>,
    /// How many targets are at it.
    pub targets: usize,
}

/// One target of [`FleetStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetTargetStatus {
    /// The database's name, or `database.schema`.
    pub name: String,
    /// Its server, `host:port`.
    pub server: String,
    /// The tenant schema, for a schema target.
    pub tenant_schema: Option<String>,
    /// Its newest applied migration's version.
    pub version: Option<String>,
    /// How many migrations are pending.
    pub pending: usize,
    /// Failed migrations: `0004 backfill`.
    pub failed: Vec<String>,
    /// Applied migrations whose files were edited since.
    pub modified: Vec<String>,
    /// Why it could not be read.
    pub error: Option<Error>,
}

// ---------------------------------------------------------------------------------------------
// errors

/// What any command prints with `--json` when it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDoc {
    /// `"trek.error/1"`.
    pub schema: ErrorSchema,
    /// The error.
    pub error: Error,
}

/// A failure, in [`ErrorDoc`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The message with its causes, for people.
    pub message: String,
    /// The exit status: 1 the work failed, 2 bad usage, input or configuration.
    pub exit_code: u8,
    /// The configuration file at fault (`config`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Every problem of the migrations folder (`migrations`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<Problem>>,
    /// The migration that failed (`migration_failed`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<String>,
    /// What the run applied before the failure, committed and staying applied: `0001 a`,
    /// `seed 0001 demo` (`migration_failed`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_before: Option<Vec<String>>,
    /// What the run reverted before the failure, staying reverted (`migration_failed`).
    /// Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverted_before: Option<Vec<String>>,
    /// Which of its scripts failed: `up` (applying) or `down` (reverting)
    /// (`migration_failed`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<ScriptKind>,
    /// Whether the failed migration ran outside a transaction and is now recorded as failed
    /// (`migration_failed`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked_failed: Option<bool>,
    /// What PostgreSQL said (`migration_failed`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<SqlFailure>,
}

impl Error {
    /// An error with no details beyond its kind, message and exit status.
    pub fn new(kind: ErrorKind, message: String, exit_code: u8) -> Error {
        Error {
            kind,
            message,
            exit_code,
            file: None,
            problems: None,
            migration: None,
            applied_before: None,
            reverted_before: None,
            script: None,
            marked_failed: None,
            sql: None,
        }
    }
}

/// Which script of a migration failed, in [`Error::script`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptKind {
    /// The up script, applying.
    Up,
    /// The captured down script, reverting.
    Down,
}

/// The kind of a failure, stable for scripts to match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad command line.
    Usage,
    /// No Cargo package found.
    Project,
    /// Bad `Trek.toml`, `.env`, variable or URL.
    Config,
    /// The migrations folder has problems.
    Migrations,
    /// The database could not be reached.
    Connect,
    /// The local server could not be started, stopped or destroyed.
    LocalServer,
    /// A file could not be read or written.
    Io,
    /// The output could not be written.
    Output,
    /// A check (`status --check`, `lint`, `drift`) found problems.
    CheckFailed,
    /// A failure of the engine, named by `trek::ErrorKind::as_str`: `migration_failed`,
    /// `lock_timeout`, `out_of_order`, `protected`, `no_snapshot`, `database`, ...
    #[serde(untagged)]
    Engine(String),
}

/// A failed statement, in [`Error::sql`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlFailure {
    /// The SQLSTATE.
    pub code: String,
    /// PostgreSQL's message.
    pub message: String,
    /// PostgreSQL's detail.
    pub detail: Option<String>,
    /// PostgreSQL's hint.
    pub hint: Option<String>,
    /// The file, with the folder.
    pub path: String,
    /// The line of the failing statement, from 1.
    pub line: Option<usize>,
    /// The column, from 1.
    pub column: Option<usize>,
    /// That line's text.
    pub line_text: Option<String>,
    /// What trek adds about the text that ran (a down script is the one captured when its
    /// migration was applied; how much of a half-reverted down ran); absent when nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// import

/// `cargo trek import --json`: what was converted, what could not be, and what was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// `"trek.import/1"`.
    pub schema: ImportSchema,
    /// The tool: `sqlx`, `refinery`, `diesel`, `golang-migrate`, `goose`, `dbmate`, `flyway`.
    pub from: String,
    /// Whether nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// The folder converted; `null` when only the history was imported.
    pub source: Option<String>,
    /// trek's migrations folder.
    pub migrations: String,
    /// The migrations converted, in trek's order (empty when only the history was imported).
    pub converted: Vec<ImportedMigration>,
    /// Files that could not be converted, with why.
    pub skipped: Vec<ImportSkipped>,
    /// The history adopted (`--history`); `null` otherwise.
    pub history: Option<ImportHistory>,
}

/// One converted migration of [`Import`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedMigration {
    /// A versioned migration or a repeatable.
    pub kind: Kind,
    /// The version; `null` for a repeatable.
    pub version: Option<String>,
    /// The description, or a repeatable's name.
    pub name: String,
    /// The files it came from, relative to the source folder.
    pub sources: Vec<String>,
    /// The files written (or that would be), relative to the migrations folder: the up, then
    /// the down.
    pub files: Vec<String>,
    /// Whether the files were already there with the same text (nothing written).
    pub unchanged: bool,
    /// Whether both scripts run outside a transaction.
    pub no_transaction: bool,
    /// Whether the down holds no statement (trek refuses to revert it).
    pub irreversible: bool,
    /// What changed on the way, or what to check.
    pub notes: Vec<String>,
}

/// A file [`Import`] could not convert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSkipped {
    /// The file, relative to the source folder.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// The history part of [`Import`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportHistory {
    /// The database, password masked.
    pub database: String,
    /// The table read.
    pub table: String,
    /// Every version the other tool applied, in trek's order.
    pub applied: Vec<String>,
    /// The migrations recorded now (or that would be); those already recorded are left out.
    pub recorded: Vec<Step>,
}
