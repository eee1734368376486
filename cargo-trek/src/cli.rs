//! The command line as clap sees it: raw flags, before any configuration is applied.
//!
//! Cargo runs a subcommand as `cargo-trek trek ARGS`, so the outer [`Cargo`] enum has one
//! variant, `trek`. Run directly as `cargo-trek ARGS`, [`crate::run`] inserts the `trek`.
//! [`crate::context`] turns these raw values into a resolved [`crate::context::Context`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use trek::{TransactionMode, Version};

/// `cargo`, as far as `cargo trek` is concerned.
#[derive(Debug, Parser)]
#[command(bin_name = "cargo", styles = clap::builder::styling::Styles::styled())]
pub enum Cargo {
    /// PostgreSQL migrations for Rust, with a workflow for each environment.
    Trek(Trek),
}

/// `cargo trek`.
#[derive(Debug, Args)]
#[command(
    version,
    about = "PostgreSQL migrations for Rust, with a workflow for each environment.",
    long_about = None,
    after_help = "Configuration: Trek.toml beside Cargo.toml, overridden by a .env file, the \
                  environment (DATABASE_URL, TREK_ENV, TREK_SCHEMA, TREK_MIGRATIONS, ...) and \
                  flags. With no database configured, trek uses its local server under \
                  target/trek/.\n\nExit status: 0 success, 1 the work failed or a check found \
                  a problem, 2 bad usage, input or configuration."
)]
pub struct Trek {
    /// Flags every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// The environment of Trek.toml to use ([env.NAME]); default `dev` when defined [env: TREK_ENV]
    #[arg(long, global = true, value_name = "NAME")]
    pub env: Option<String>,
    /// The database to use, overriding the configuration [env: DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Print one JSON document on stdout (errors too) instead of text for people
    #[arg(long, global = true)]
    pub json: bool,
    /// Say more on stderr (-v info, -vv debug, -vvv trace) [env: TREK_LOG]
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Print only what was asked for, and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour the output (NO_COLOR and CLICOLOR_FORCE are honoured with `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// The Cargo.toml of the package (default: the package of the current folder)
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// At exit, write trek's metrics to FILE in the Prometheus text format (written to
    /// FILE.tmp, then renamed: node_exporter's textfile collector convention)
    #[arg(long, global = true, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
    /// How logs are written on stderr: text for people, or JSON lines for log shippers
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Lines for people (the default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the output is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--transaction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransactionArg {
    /// Each migration and its history row commit together (the default)
    PerMigration,
    /// Every pending migration in one transaction
    All,
}

impl From<TransactionArg> for TransactionMode {
    fn from(arg: TransactionArg) -> Self {
        match arg {
            TransactionArg::PerMigration => TransactionMode::PerMigration,
            TransactionArg::All => TransactionMode::All,
        }
    }
}

fn parse_version(text: &str) -> Result<Version, String> {
    Version::parse(text).map_err(|e| format!("`{}` is not a version: {}", e.text, e.reason))
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set the package up for trek: Trek.toml, migrations/, the build.rs line
    Init,
    /// Create a migration (or a repeatable, or a seed) and print its path
    New(NewArgs),
    /// Show every migration with its state in the database
    Status(StatusArgs),
    /// Run the environment's workflow: apply pending migrations (dev rewinds edited ones, qa
    /// restores a snapshot)
    Up(UpArgs),
    /// Revert applied migrations with the down scripts captured when they were applied
    Down(DownArgs),
    /// Rebuild the database from nothing: drop the managed schemas (or the database) and
    /// apply every migration
    Reset(ResetArgs),
    /// Apply the pending seeds alone (dev and qa; never prod), once every migration is applied
    Seed,
    /// Write a schema dump fit to commit: the schema, then trek's history rows
    Dump(DumpArgs),
    /// Compare the schema the migrations make with the live database or a dump; exit 1 on drift
    Drift(DriftArgs),
    /// Replace the database's managed schemas and history with a dump (production's), then let
    /// the workflow roll forward
    Restore(RestoreArgs),
    /// The qa snapshot catalogue: list the snapshots (the default) or prune old ones
    Snapshots(SnapshotsArgs),
    /// Check the migrations folder offline: names, versions, directives, encoding
    Verify,
    /// Accept the current files of edited applied migrations and clear failed ones (audited);
    /// with --downs, replace captured down scripts with the files instead
    Repair(RepairArgs),
    /// Show the audit log, newest first
    Audit(AuditArgs),
    /// Check pending migrations for risky operations (squawk's rules), with file and line;
    /// exit 1 on a warning
    Lint(LintArgs),
    /// Adopt trek on an existing database: record migrations up to VERSION as applied
    Baseline(BaselineArgs),
    /// Convert another tool's migrations folder into trek's layout; with --history, record
    /// what that tool applied to the database
    Import(ImportArgs),
    /// Re-run the dev workflow on every change to the migrations folder or Trek.toml: rewind
    /// to the first edited migration, apply, then repeatables and seeds (Ctrl-C stops)
    Watch(WatchArgs),
    /// Migrate a fleet of databases or tenant schemas ([fleet.NAME] in Trek.toml): N at a
    /// time, canary first, resumable
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// Manage the local PostgreSQL server trek runs under target/trek/
    #[command(subcommand)]
    Db(DbCommand),
    /// Print a shell completion script for `cargo-trek`
    Completions(CompletionsArgs),
}

/// `new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// What the migration does, e.g. "create users" (becomes `create_users`)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Also create the down script (NAME.down.sql)
    #[arg(long, conflicts_with = "repeatable")]
    pub down: bool,
    /// Create a repeatable script (repeatable/NAME.sql), re-run whenever it changes
    #[arg(long, conflicts_with = "seed")]
    pub repeatable: bool,
    /// Create a seed (seeds/VERSION_NAME.sql): data for dev, never run in prod
    #[arg(long)]
    pub seed: bool,
    /// Mark the script `-- trek:no_transaction` (for CREATE INDEX CONCURRENTLY and the like)
    #[arg(long)]
    pub no_transaction: bool,
}

/// `repair`.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Replace the down scripts captured when migrations were applied with the `.down.sql`
    /// files as they are now (a rewind runs the captured text): the way out of a broken down
    #[arg(long)]
    pub downs: bool,
}

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Exit with status 1 unless every migration is applied and unmodified
    #[arg(long)]
    pub check: bool,
}

/// `up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Apply only up to and including this version (repeatables and seeds wait)
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub to: Option<Version>,
    /// Refuse to run when an applied migration was edited (prod otherwise warns)
    #[arg(long)]
    pub strict: bool,
    /// Apply pending migrations older than the newest applied one (prod otherwise refuses)
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// How pending migrations are grouped into transactions
    #[arg(long, value_enum, value_name = "MODE")]
    pub transaction: Option<TransactionArg>,
    /// Allow destructive actions on a database stamped prod; name the database
    #[arg(long, value_name = "DBNAME")]
    pub allow_destructive: Option<String>,
    /// qa: terminate other sessions on the database when a snapshot or restore needs it to
    /// itself (the template strategy); otherwise trek stops and names them
    #[arg(long)]
    pub terminate_sessions: bool,
    /// Simulate the plan in a transaction that is always rolled back, and report what each
    /// migration would touch, lock and rewrite
    #[arg(long)]
    pub dry_run: bool,
}

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Run the workflow once for the files as they are, and exit (0, or the status `up` would
    /// give)
    #[arg(long)]
    pub once: bool,
    /// How long the folder must stay quiet after a change before the workflow runs, in
    /// milliseconds (an editor's save is several file events)
    #[arg(long, value_name = "MS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub debounce: u64,
}

/// `dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Write the dump to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep the applied up scripts' text in the history rows (left out by default: the
    /// checksums say which text each migration had)
    #[arg(long)]
    pub bodies: bool,
}

/// `drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Compare with this dump (from `cargo trek dump`) instead of the environment's database
    #[arg(long, value_name = "FILE")]
    pub against: Option<PathBuf>,
}

/// `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The dump to restore (from `cargo trek dump`, or any plain pg_dump with trek's history)
    #[arg(long, value_name = "FILE", required = true)]
    pub from_dump: PathBuf,
    /// Allow restoring over a database stamped prod; name the database
    #[arg(long, value_name = "DBNAME")]
    pub allow_destructive: Option<String>,
}

/// `reset`.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Allow resetting a database stamped prod; name the database
    #[arg(long, value_name = "DBNAME")]
    pub allow_destructive: Option<String>,
}

/// `snapshots`.
#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    /// What to do (default: list)
    #[command(subcommand)]
    pub command: Option<SnapshotsCommand>,
}

/// `snapshots list | prune`.
#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// List the snapshots of the database, oldest first
    List(ListArgs),
    /// Delete all but the newest snapshots (their files or databases too)
    Prune(PruneArgs),
}

/// `snapshots list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// List leftover snapshots no catalogue knows instead (databases and dump files named as
    /// trek names this database's snapshots, e.g. after the database was recreated)
    #[arg(long)]
    pub orphans: bool,
}

/// `snapshots prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// How many of the newest snapshots to keep (default: the environment's `keep`)
    #[arg(long, value_name = "N", conflicts_with = "orphans")]
    pub keep: Option<usize>,
    /// Delete the leftover snapshots no catalogue knows instead (see `list --orphans`)
    #[arg(long)]
    pub orphans: bool,
}

/// `down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Revert everything applied after this version (it stays applied)
    #[arg(long, value_name = "VERSION", conflicts_with = "steps", value_parser = parse_version)]
    pub to: Option<Version>,
    /// Revert this many of the newest applied migrations (default 1)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: Option<u32>,
    /// Allow reverting on a database stamped prod; name the database
    #[arg(long, value_name = "DBNAME")]
    pub allow_destructive: Option<String>,
}

/// `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// How many entries to show
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Only entries since TIME: an RFC 3339 time (`2026-11-20T08:00:00Z`, `2026-11-20`) or a
    /// duration ago (`30min`, `2h`, `7d`)
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<trek::AuditSince>,
}

fn parse_since(text: &str) -> Result<trek::AuditSince, String> {
    trek::AuditSince::parse(text)
}

/// `lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Check every migration, not only the pending ones
    #[arg(long)]
    pub all: bool,
    /// Do not connect to the database: check every migration, without table sizes
    #[arg(long)]
    pub offline: bool,
    /// Tables with fewer rows than this make a rewrite, scan or index-build warning a note
    #[arg(long, value_name = "ROWS", default_value_t = 10_000)]
    pub small_table_rows: u64,
}

/// `baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The newest migration the database already has
    #[arg(long, value_name = "VERSION", required = true, value_parser = parse_version)]
    pub to: Version,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tool the migrations come from
    #[arg(long, value_enum, value_name = "TOOL", required = true)]
    pub from: ToolArg,
    /// The tool's migrations folder (default: the tool's usual one, such as `migrations` or
    /// dbmate's `db/migrations`); converted into trek's migrations folder
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// Also read the tool's history table in the database and record the migrations it applied
    /// as applied in trek (audited); without --source, the folder is not converted again
    #[arg(long)]
    pub history: bool,
    /// The tool's history table when it is not the tool's default (`schema.table` allowed)
    #[arg(long, value_name = "TABLE", requires = "history")]
    pub history_table: Option<String>,
    /// Say what would be written and recorded, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `import --from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ToolArg {
    /// sqlx: VERSION_name.sql, or .up.sql and .down.sql
    Sqlx,
    /// refinery: V1__name.sql, U2__name.sql
    Refinery,
    /// diesel: VERSION_name/up.sql, down.sql, metadata.toml
    Diesel,
    /// golang-migrate: VERSION_name.up.sql, .down.sql
    GolangMigrate,
    /// goose: VERSION_name.sql with -- +goose Up / Down
    Goose,
    /// dbmate: VERSION_name.sql with -- migrate:up / down
    Dbmate,
    /// Flyway: V1_1__desc.sql, U1_1__desc.sql (undo), R__desc.sql
    Flyway,
}

impl From<ToolArg> for trek_core::import::Tool {
    fn from(arg: ToolArg) -> Self {
        use trek_core::import::Tool;
        match arg {
            ToolArg::Sqlx => Tool::Sqlx,
            ToolArg::Refinery => Tool::Refinery,
            ToolArg::Diesel => Tool::Diesel,
            ToolArg::GolangMigrate => Tool::GolangMigrate,
            ToolArg::Goose => Tool::Goose,
            ToolArg::Dbmate => Tool::Dbmate,
            ToolArg::Flyway => Tool::Flyway,
        }
    }
}

/// `fleet`.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Run the fleet's workflow on every target: the canary targets first, then the rest, N
    /// at a time; exit 1 if any target failed
    Up(FleetUpArgs),
    /// Summarise the fleet: how many targets are at each version, which are behind, failed
    /// or have edited migrations
    Status(FleetStatusArgs),
}

/// `fleet up`.
#[derive(Debug, Args)]
pub struct FleetUpArgs {
    /// The fleet, as named in Trek.toml ([fleet.NAME])
    #[arg(value_name = "NAME")]
    pub name: String,
    /// How many targets to migrate at once (default: the fleet's `parallel`, else 4)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,
    /// How many targets of one server to migrate at once (default: `per_server`, else 4)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub per_server: Option<u32>,
    /// Migrate the first K targets first, and the rest only if they all succeed
    #[arg(long, value_name = "K")]
    pub canary: Option<u32>,
    /// Start no more targets once one has failed
    #[arg(long)]
    pub fail_fast: bool,
    /// Say what each target would apply; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `fleet status`.
#[derive(Debug, Args)]
pub struct FleetStatusArgs {
    /// The fleet, as named in Trek.toml ([fleet.NAME])
    #[arg(value_name = "NAME")]
    pub name: String,
    /// How many targets to read at once (default: the fleet's `parallel`, else 4)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,
    /// Exit 1 unless every target has every migration applied, unedited
    #[arg(long)]
    pub check: bool,
}

/// `db`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Start the local server (creating it on first use)
    Start,
    /// Stop the local server
    Stop,
    /// Print the URL of the package's database on the local server, starting it if needed
    Url,
    /// Stop the local server and delete it with all its databases
    Destroy,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
