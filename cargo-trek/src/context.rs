//! Resolving the configuration, once, into a [`Context`] every command reads.
//!
//! Each setting comes from the first source that has it:
//!
//! 1. flags (`--env`, `--database-url`);
//! 2. the environment (`TREK_ENV`, `DATABASE_URL`, `TREK_SCHEMA`, `TREK_MIGRATIONS`,
//!    `TREK_LOCK_TIMEOUT`, `TREK_TRANSACTION`);
//! 3. a `.env` file beside `Cargo.toml` (it never overrides the real environment);
//! 4. `Trek.toml` (`[env.NAME]`, then `[trek]`);
//! 5. the defaults: folder `migrations`, schema `trek`, the local server with the dev workflow.
//!
//! The environment is `--env`, else `TREK_ENV`, else `dev` when `Trek.toml` defines it, else
//! none. The database URL is `--database-url`; else the variable the environment's `url_env`
//! names (an environment that names its own variable is not redirected by `DATABASE_URL`);
//! else `DATABASE_URL`; else the environment's `url`; else the local server, on which the
//! database is `<package>_<environment>` (`<package>_dev` by default).
//!
//! The workflow is the environment's `workflow`, else its name when that is a workflow (`dev`,
//! `qa`, `prod`); with no environment it is `dev` on the local server and `prod` (forward
//! only) on a database given by URL, the safe choice for a URL trek knows nothing about.
//!
//! A qa environment takes snapshots as its `snapshot` table says, by default with `pg_dump`
//! into `<target dir>/trek/snapshots/<env>`; a relative `dir` is relative to the package.
//! `reset` (`schemas` or `database`) and `schemas` (the managed schemas, `[env.NAME]` then
//! `[trek]`; default all) say what a reset drops.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use trek::{
    Migrations, Migrator, SnapshotInfo, SnapshotStrategy, Snapshots, TransactionMode, Workflow,
};

use crate::cli::GlobalArgs;
use crate::config::{self, ConfigFile, ResetConfig, SnapshotSection, StrategyConfig};
use crate::error::Error;
use crate::project::Project;

/// The environment variables trek reads, captured once: the process environment first, then
/// the `.env` file beside `Cargo.toml`.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    process: BTreeMap<String, String>,
    dotenv: BTreeMap<String, String>,
}

impl Vars {
    /// The process environment and the `.env` file in `dir` (when there is one).
    ///
    /// # Errors
    /// [`Error::Config`] when `.env` exists but cannot be parsed.
    pub fn capture(dir: &Path) -> Result<Vars, Error> {
        let process = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let path = dir.join(".env");
        let mut dotenv = BTreeMap::new();
        if path.is_file() {
            let bad = |e: dotenvy::Error| Error::Config {
                path: Some(path.clone()),
                message: dotenv_error(&path, &e),
            };
            for item in dotenvy::from_path_iter(&path).map_err(bad)? {
                let (k, v) = item.map_err(bad)?;
                dotenv.insert(k, v);
            }
        }
        Ok(Vars { process, dotenv })
    }

    /// Variables given directly (tests).
    pub fn from_maps(process: BTreeMap<String, String>, dotenv: BTreeMap<String, String>) -> Self {
        Vars { process, dotenv }
    }

    /// The value of `name`, and where it came from.
    pub fn get(&self, name: &str) -> Option<(&str, VarSource)> {
        if let Some(v) = self.process.get(name) {
            return Some((v, VarSource::Process));
        }
        self.dotenv
            .get(name)
            .map(|v| (v.as_str(), VarSource::DotEnv))
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|(v, _)| v).filter(|v| !v.is_empty())
    }
}

/// What is wrong with the `.env` file at `path`, for people: the line, and the variable when
/// the line names one, but never the line's text, which may hold a password (dotenvy's own
/// message quotes the whole line).
fn dotenv_error(path: &Path, error: &dotenvy::Error) -> String {
    let dotenvy::Error::LineParse(line, index) = error else {
        return error.to_string();
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.find(line.as_str()).unwrap_or(0);
    let line_no = text[..start].matches('\n').count() + 1;
    let key = line
        .trim_start()
        .trim_start_matches("export ")
        .split('=')
        .next()
        .map(str::trim)
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        });
    let what = match key {
        Some(key) if line.contains('=') => format!("the value of {key}"),
        _ => "the line".to_owned(),
    };
    format!(
        "line {line_no}: {what} cannot be parsed (at character {}): write NAME=VALUE, and close \
         every quote (the line is not shown, as it may hold a password)",
        index + 1
    )
}

/// Where a variable was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarSource {
    /// The process environment.
    Process,
    /// The `.env` file.
    DotEnv,
}

/// The database a command talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A database given by URL.
    Url {
        /// The URL, password included: never print it, print [`crate::database::mask`] of it.
        url: String,
        /// Where it came from (`--database-url`, `DATABASE_URL`, `Trek.toml [env.dev] url`).
        source: String,
    },
    /// The project's local server, started on demand.
    Local {
        /// The database on it, created on demand.
        database: String,
    },
    /// The configuration names a variable that is not set: an error once a command needs the
    /// database, but not for commands that do not (`verify`, `new`).
    Missing {
        /// What to tell the user.
        message: String,
    },
}

/// Everything a command needs to know, resolved once.
#[derive(Debug, Clone)]
pub struct Context {
    /// The package.
    pub project: Project,
    /// `Trek.toml`, when there is one.
    pub config_path: Option<PathBuf>,
    /// The environment's name, when one is selected.
    pub env: Option<String>,
    /// The workflow `up` runs.
    pub workflow: Workflow,
    /// The migrations folder (absolute).
    pub migrations_dir: PathBuf,
    /// The schema of trek's tables.
    pub schema: String,
    /// How long to wait for another run's lock, when configured.
    pub lock_timeout: Option<Duration>,
    /// The advisory lock key, when configured.
    pub lock_key: Option<i64>,
    /// The database.
    pub database: Database,
    /// The folder cargo trek was run from (paths are printed relative to it).
    pub cwd: PathBuf,
    /// The qa workflow's snapshot settings (`None` in the other workflows).
    pub snapshots: Option<Snapshots>,
    /// How a reset rebuilds the database (`reset` in `[env.NAME]`); `None` when not set: the
    /// schemas, or for `cargo trek watch` a prefix template.
    pub reset: Option<ResetConfig>,
    /// The schemas a reset or a restore drops and rebuilds, when narrowed (`schemas`);
    /// `None` means every schema but PostgreSQL's and trek's.
    pub schemas: Option<Vec<String>>,
    /// The schema dump a reset rebuilds from (`baseline`), absolute.
    pub baseline: Option<PathBuf>,
    /// Whether seeds run (`seeds`; default true, and prod never runs them).
    pub seeds: bool,
    /// The `pg_dump` options of `dump` (`dump_args`).
    pub dump_args: Option<Vec<String>>,
    /// Where drift builds its scratch database (`TREK_SCRATCH_URL`, else `scratch_url`).
    pub scratch_url: Option<String>,
    /// How pending migrations are grouped into transactions, when configured
    /// (`TREK_TRANSACTION`, else `transaction` in `[env.NAME]`, then `[trek]`); `up
    /// --transaction` overrides it.
    pub transaction: Option<TransactionMode>,
    /// The folder of the client programs for the environment's server (`pg_bin` in
    /// `[env.NAME]`, then `[trek]`), absolute; `None`: trek looks for them.
    pub pg_bin: Option<PathBuf>,
    /// The fleets of `Trek.toml` (`[fleet.NAME]`), each checked, or what is wrong with it
    /// (reported only by the commands that use that fleet).
    pub fleets: BTreeMap<String, Result<crate::fleet_config::Fleet, String>>,
}

impl Context {
    /// Resolves flags, variables and `Trek.toml` into a context.
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown environment (the message lists the known ones), a
    /// workflow that cannot be determined, or a variable with an invalid value.
    pub fn resolve(
        flags: &GlobalArgs,
        project: Project,
        file: ConfigFile,
        vars: &Vars,
        cwd: PathBuf,
    ) -> Result<Context, Error> {
        let toml = &file.toml;
        let config_error = |message: String| Error::Config {
            path: file.path.clone(),
            message,
        };
        let env_name = match flags
            .env
            .clone()
            .or_else(|| vars.value("TREK_ENV").map(str::to_owned))
        {
            Some(name) => {
                if !toml.env.contains_key(&name) {
                    let known: Vec<&str> = toml.env.keys().map(String::as_str).collect();
                    let how = if flags.env.is_some() {
                        "--env"
                    } else {
                        "TREK_ENV"
                    };
                    let message = if file.path.is_none() {
                        format!(
                            "{how} names environment `{name}`, but there is no Trek.toml to \
                             define it; create one with an [env.{name}] table (`cargo trek init` \
                             writes one)"
                        )
                    } else if known.is_empty() {
                        format!(
                            "{how} names environment `{name}`, but Trek.toml defines no \
                             environments; add an [env.{name}] table"
                        )
                    } else {
                        format!(
                            "{how} names environment `{name}`, which Trek.toml does not define; \
                             the environments are: {}",
                            known.join(", ")
                        )
                    };
                    return Err(Error::Config {
                        path: None,
                        message,
                    });
                }
                Some(name)
            }
            None if toml.env.contains_key("dev") => Some("dev".to_owned()),
            None => None,
        };
        let env = env_name.as_ref().and_then(|name| toml.env.get(name));

        let database = if let Some(url) = &flags.database_url {
            Database::Url {
                url: url.clone(),
                source: "--database-url".to_owned(),
            }
        } else if let Some(var) = env.and_then(|e| e.url_env.as_deref()) {
            let name = env_name.as_deref().unwrap_or_default();
            match vars.value(var) {
                Some(url) => Database::Url {
                    url: url.to_owned(),
                    source: var.to_owned(),
                },
                None => Database::Missing {
                    message: format!(
                        "environment `{name}` takes its database URL from the variable {var} \
                         (url_env in Trek.toml), which is not set"
                    ),
                },
            }
        } else if let Some(url) = vars.value("DATABASE_URL") {
            Database::Url {
                url: url.to_owned(),
                source: "DATABASE_URL".to_owned(),
            }
        } else if let Some(url) = env.and_then(|e| e.url.as_deref()) {
            Database::Url {
                url: url.to_owned(),
                source: format!(
                    "Trek.toml [env.{}] url",
                    env_name.as_deref().unwrap_or_default()
                ),
            }
        } else {
            Database::Local {
                database: local_database_name(&project.name, env_name.as_deref()),
            }
        };

        let workflow = match (env.and_then(|e| e.workflow.as_deref()), env_name.as_deref()) {
            (Some(w), Some(name)) => config::check_workflow(w)
                .map_err(|e| config_error(format!("[env.{name}] workflow: {e}")))?,
            (None, Some(name)) => name.parse::<Workflow>().map_err(|_| {
                config_error(format!(
                    "[env.{name}] has no workflow; add workflow = \"dev\", \"qa\" or \"prod\""
                ))
            })?,
            _ => match database {
                Database::Local { .. } => Workflow::Dev,
                _ => Workflow::Prod,
            },
        };

        let migrations = vars
            .value("TREK_MIGRATIONS")
            .map(PathBuf::from)
            .or_else(|| toml.trek.migrations.clone())
            .unwrap_or_else(|| PathBuf::from("migrations"));
        let migrations_dir = project.root.join(migrations);

        let schema = vars
            .value("TREK_SCHEMA")
            .map(str::to_owned)
            .or_else(|| env.and_then(|e| e.schema.clone()))
            .or_else(|| toml.trek.schema.clone())
            .unwrap_or_else(|| "trek".to_owned());
        if let Some(from_env) = vars.value("TREK_SCHEMA") {
            config::check_schema(from_env).map_err(|e| Error::Config {
                path: None,
                message: format!("TREK_SCHEMA: {e}"),
            })?;
        }

        let lock_timeout = match vars.value("TREK_LOCK_TIMEOUT") {
            Some(text) => Some(config::parse_duration(text).map_err(|e| Error::Config {
                path: None,
                message: format!("TREK_LOCK_TIMEOUT: {e}"),
            })?),
            None => env
                .and_then(|e| e.lock_timeout.as_deref())
                .or(toml.trek.lock_timeout.as_deref())
                .map(config::parse_duration)
                .transpose()
                .map_err(config_error)?,
        };

        let snapshots = match (workflow, env) {
            (Workflow::Qa, env) => Some(
                snapshots(
                    &project,
                    env_name.as_deref().unwrap_or("qa"),
                    env.and_then(|e| e.snapshot.as_ref()),
                )
                .map_err(config_error)?,
            ),
            _ => None,
        };
        let reset = env
            .and_then(|e| e.reset.as_deref())
            .map(ResetConfig::parse)
            .transpose()
            .map_err(config_error)?;
        let schemas = env
            .and_then(|e| e.schemas.clone())
            .or_else(|| toml.trek.schemas.clone());
        let baseline = env
            .and_then(|e| e.baseline.as_ref())
            .map(|path| project.root.join(path));
        let seeds = env.and_then(|e| e.seeds);
        if seeds == Some(true) && workflow == Workflow::Prod {
            return Err(config_error(format!(
                "[env.{}] seeds = true: seeds never reach prod; remove the key",
                env_name.as_deref().unwrap_or_default()
            )));
        }
        let seeds = seeds.unwrap_or(true);
        if baseline.is_some() && workflow == Workflow::Prod {
            return Err(config_error(format!(
                "[env.{}] baseline: a prod environment never resets, so it has no baseline dump",
                env_name.as_deref().unwrap_or_default()
            )));
        }

        let transaction = match vars.value("TREK_TRANSACTION") {
            Some(text) => Some(text.parse::<TransactionMode>().map_err(|e| Error::Config {
                path: None,
                message: format!("TREK_TRANSACTION: {e}"),
            })?),
            None => env
                .and_then(|e| e.transaction.as_deref())
                .or(toml.trek.transaction.as_deref())
                .map(str::parse::<TransactionMode>)
                .transpose()
                .map_err(config_error)?,
        };

        let pg_bin = env
            .and_then(|e| e.pg_bin.as_ref())
            .or(toml.trek.pg_bin.as_ref())
            .map(|dir| project.root.join(dir));

        let fleets = toml
            .fleet
            .iter()
            .map(|(name, section)| {
                let lookup = |var: &str| vars.value(var).map(str::to_owned);
                (name.clone(), section.resolve(name, &project.root, &lookup))
            })
            .collect();

        Ok(Context {
            project,
            config_path: file.path,
            env: env_name,
            workflow,
            migrations_dir,
            schema,
            lock_timeout,
            lock_key: toml.trek.lock_key,
            database,
            cwd,
            snapshots,
            reset,
            schemas,
            baseline,
            seeds,
            dump_args: toml.trek.dump_args.clone(),
            scratch_url: vars
                .value("TREK_SCRATCH_URL")
                .map(str::to_owned)
                .or_else(|| toml.trek.scratch_url.clone()),
            transaction,
            pg_bin,
            fleets,
        })
    }

    /// The migrations folder as people see it: relative to the package when inside it.
    pub fn migrations_display(&self) -> String {
        self.project.display_path(&self.migrations_dir)
    }

    /// `path` as people should see it: relative to the current folder when inside it.
    pub fn show_path(&self, path: &Path) -> String {
        path.strip_prefix(&self.cwd)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.display().to_string())
    }

    /// `snapshot` as people should see it: a dump file's location relative to the current
    /// folder when inside it.
    pub fn show_snapshot(&self, snapshot: &SnapshotInfo) -> SnapshotInfo {
        let mut shown = snapshot.clone();
        let path = Path::new(&snapshot.location);
        if path.is_absolute() {
            shown.location = self.show_path(path);
        }
        shown
    }

    /// Reads and checks the migrations folder.
    ///
    /// # Errors
    /// [`Error::Source`] with every problem in the folder.
    pub fn load_migrations(&self) -> Result<Migrations, Error> {
        trek_core::source::read_dir(&self.migrations_dir).map_err(|errors| Error::Source {
            dir: self.migrations_display(),
            errors,
        })
    }

    /// A migrator for `migrations` configured from this context.
    pub fn migrator<'m>(&self, migrations: &'m Migrations) -> Migrator<'m> {
        let mut migrator = Migrator::new(migrations)
            .workflow(self.workflow)
            .schema(self.schema.clone())
            .client_label(client_label())
            .on_event(crate::output::progress::on_event);
        if let Some(timeout) = self.lock_timeout {
            migrator = migrator.lock_timeout(timeout);
        }
        if let Some(key) = self.lock_key {
            migrator = migrator.lock_key(key);
        }
        if let Some(snapshots) = &self.snapshots {
            migrator = migrator.snapshots(snapshots.clone());
        }
        migrator = migrator.reset_mode(self.reset.unwrap_or_default().into());
        if let Some(schemas) = &self.schemas {
            migrator = migrator.managed_schemas(schemas.clone());
        }
        if let Some(baseline) = &self.baseline {
            migrator = migrator.baseline_dump(baseline.clone());
        }
        if let Some(mode) = self.transaction {
            migrator = migrator.transaction(mode);
        }
        migrator.seeds(self.seeds)
    }

    /// How many snapshots the environment keeps (`keep` in its `snapshot` table).
    pub fn snapshot_keep(&self) -> Option<usize> {
        self.snapshots.as_ref().and_then(|s| s.keep)
    }
}

/// The snapshot settings of qa environment `env` from its `snapshot` table (all defaults when
/// there is none).
fn snapshots(
    project: &Project,
    env: &str,
    section: Option<&SnapshotSection>,
) -> Result<Snapshots, String> {
    let default = SnapshotSection::default();
    let section = section.unwrap_or(&default);
    let strategy_config = section
        .strategy()
        .map_err(|e| format!("[env.{env}] snapshot: {e}"))?;
    let copy = match &strategy_config {
        StrategyConfig::Template { copy } => *copy,
        _ => None,
    };
    let strategy = match strategy_config {
        StrategyConfig::PgDump { dir } => SnapshotStrategy::PgDump {
            dir: match dir {
                Some(dir) => project.root.join(dir),
                None => {
                    default_snapshot_dir(&project.target_dir().map_err(|e| e.to_string())?, env)
                }
            },
        },
        StrategyConfig::Template { .. } => SnapshotStrategy::Template,
        StrategyConfig::Command {
            snapshot,
            restore,
            delete,
        } => SnapshotStrategy::Command {
            snapshot,
            restore,
            delete,
        },
        StrategyConfig::RestorePoint { restore } => SnapshotStrategy::RestorePoint { restore },
    };
    let mut snapshots = Snapshots::new(strategy)
        .each_migration(section.each_migration.unwrap_or(false))
        .terminate_sessions(section.terminate_sessions.unwrap_or(false));
    if let Some(keep) = section.keep {
        snapshots = snapshots.keep(keep);
    }
    if let Some(copy) = copy {
        snapshots = snapshots.template_copy(copy);
    }
    Ok(snapshots)
}

/// Where `pg_dump` snapshots of environment `env` go by default:
/// `<target dir>/trek/snapshots/<env>`.
pub fn default_snapshot_dir(target_dir: &Path, env: &str) -> PathBuf {
    let env: String = env
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    target_dir.join("trek").join("snapshots").join(env)
}

/// The local server's database for a package and environment: `<package>_<env>`, lower case,
/// with anything but letters and digits turned into `_`.
pub fn local_database_name(package: &str, env: Option<&str>) -> String {
    let raw = format!("{package}_{}", env.unwrap_or("dev"));
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// How `cargo trek` names itself in the audit log: `host pid N (cargo-trek VERSION)`.
pub fn client_label() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!(
        "{host} pid {} (cargo-trek {})",
        std::process::id(),
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Project {
        Project::given(
            "demo-app",
            Path::new("/p"),
            Path::new("/p/target"),
            None,
            true,
        )
    }

    fn file(text: &str) -> ConfigFile {
        ConfigFile {
            path: Some(PathBuf::from("/p/Trek.toml")),
            toml: config::parse(text).unwrap(),
        }
    }

    fn vars(process: &[(&str, &str)], dotenv: &[(&str, &str)]) -> Vars {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        Vars::from_maps(map(process), map(dotenv))
    }

    fn resolve(flags: &GlobalArgs, text: &str, vars: &Vars) -> Result<Context, Error> {
        Context::resolve(flags, project(), file(text), vars, PathBuf::from("/p"))
    }

    #[test]
    fn the_transaction_mode_comes_from_the_variable_the_environment_or_trek() {
        let text = "[trek]\ntransaction = \"all\"\n[env.dev]\n[env.prod]\ntransaction = \"per-migration\"\n";
        let dev = resolve(&GlobalArgs::default(), text, &vars(&[], &[])).unwrap();
        assert_eq!(dev.transaction, Some(TransactionMode::All));
        let prod = GlobalArgs {
            env: Some("prod".to_owned()),
            ..GlobalArgs::default()
        };
        let ctx = resolve(&prod, text, &vars(&[], &[])).unwrap();
        assert_eq!(ctx.transaction, Some(TransactionMode::PerMigration));
        let ctx = resolve(&prod, text, &vars(&[("TREK_TRANSACTION", "all")], &[])).unwrap();
        assert_eq!(ctx.transaction, Some(TransactionMode::All));
        let e = resolve(&prod, text, &vars(&[("TREK_TRANSACTION", "x")], &[])).unwrap_err();
        assert!(e.to_string().contains("TREK_TRANSACTION"), "{e}");
        let none = resolve(&GlobalArgs::default(), "", &vars(&[], &[])).unwrap();
        assert_eq!(none.transaction, None);
    }

    #[test]
    fn nothing_configured_is_the_local_server_with_dev() {
        let ctx = resolve(&GlobalArgs::default(), "", &Vars::default()).unwrap();
        assert_eq!(
            ctx.database,
            Database::Local {
                database: "demo_app_dev".to_owned()
            }
        );
        assert_eq!(ctx.workflow, Workflow::Dev);
        assert_eq!(ctx.schema, "trek");
        assert_eq!(ctx.migrations_dir, PathBuf::from("/p/migrations"));
    }

    #[test]
    fn a_bare_database_url_runs_prod() {
        let v = vars(&[], &[("DATABASE_URL", "postgres://h/db")]);
        let ctx = resolve(&GlobalArgs::default(), "", &v).unwrap();
        assert_eq!(ctx.workflow, Workflow::Prod);
        assert!(matches!(ctx.database, Database::Url { ref url, .. } if url == "postgres://h/db"));
    }

    #[test]
    fn precedence_flag_then_env_then_dotenv_then_file() {
        let text = "[trek]\nschema = \"file\"\n[env.dev]\nurl = \"postgres://file/db\"\n";
        let flags = GlobalArgs {
            database_url: Some("postgres://flag/db".to_owned()),
            ..GlobalArgs::default()
        };
        let v = vars(
            &[
                ("DATABASE_URL", "postgres://env/db"),
                ("TREK_SCHEMA", "env"),
            ],
            &[
                ("DATABASE_URL", "postgres://dotenv/db"),
                ("TREK_SCHEMA", "dotenv"),
            ],
        );
        let url = |ctx: &Context| match &ctx.database {
            Database::Url { url, .. } => url.clone(),
            other => panic!("{other:?}"),
        };
        let ctx = resolve(&flags, text, &v).unwrap();
        assert_eq!(url(&ctx), "postgres://flag/db");
        assert_eq!(ctx.schema, "env");
        let ctx = resolve(&GlobalArgs::default(), text, &v).unwrap();
        assert_eq!(url(&ctx), "postgres://env/db");
        let v = vars(
            &[],
            &[
                ("DATABASE_URL", "postgres://dotenv/db"),
                ("TREK_SCHEMA", "dotenv"),
            ],
        );
        let ctx = resolve(&GlobalArgs::default(), text, &v).unwrap();
        assert_eq!(url(&ctx), "postgres://dotenv/db");
        assert_eq!(ctx.schema, "dotenv");
        let ctx = resolve(&GlobalArgs::default(), text, &Vars::default()).unwrap();
        assert_eq!(url(&ctx), "postgres://file/db");
        assert_eq!(ctx.schema, "file");
        assert_eq!(ctx.workflow, Workflow::Dev);
    }

    #[test]
    fn url_env_wins_over_database_url_and_missing_is_deferred() {
        let text = "[env.qa]\nurl_env = \"QA_URL\"\nworkflow = \"prod\"\n";
        let flags = GlobalArgs {
            env: Some("qa".to_owned()),
            ..GlobalArgs::default()
        };
        let v = vars(
            &[
                ("DATABASE_URL", "postgres://dev/db"),
                ("QA_URL", "postgres://qa/db"),
            ],
            &[],
        );
        let ctx = resolve(&flags, text, &v).unwrap();
        assert!(matches!(ctx.database, Database::Url { ref url, .. } if url == "postgres://qa/db"));
        let ctx = resolve(&flags, text, &Vars::default()).unwrap();
        assert!(
            matches!(ctx.database, Database::Missing { ref message } if message.contains("QA_URL"))
        );
    }

    #[test]
    fn a_schema_from_the_environment_is_checked_like_one_from_the_file() {
        let v = vars(&[("TREK_SCHEMA", "pg_mine")], &[]);
        let err = resolve(&GlobalArgs::default(), "", &v).unwrap_err();
        assert!(err.to_string().starts_with("TREK_SCHEMA: "), "{err}");
        assert_eq!(err.exit_code(), 2);
        let v = vars(&[("TREK_SCHEMA", "Odd \"Schema\" name")], &[]);
        let ctx = resolve(&GlobalArgs::default(), "", &v).unwrap();
        assert_eq!(ctx.schema, "Odd \"Schema\" name");
    }

    #[test]
    fn unknown_environment_lists_the_known_ones() {
        let text = "[env.dev]\n[env.prod]\nurl_env = \"DATABASE_URL\"\n";
        let v = vars(&[("TREK_ENV", "staging")], &[]);
        let err = resolve(&GlobalArgs::default(), text, &v).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("staging") && message.contains("dev, prod"),
            "{message}"
        );
        assert_eq!(err.exit_code(), 2);
    }

    fn pg_dump_dir(ctx: &Context) -> PathBuf {
        match &ctx.snapshots.as_ref().unwrap().strategy {
            SnapshotStrategy::PgDump { dir } => dir.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_qa_environment_snapshots_with_pg_dump_by_default() {
        let flags = GlobalArgs {
            env: Some("qa".to_owned()),
            ..GlobalArgs::default()
        };
        let ctx = resolve(&flags, "[env.qa]\nworkflow = \"qa\"\n", &Vars::default()).unwrap();
        assert_eq!(ctx.workflow, Workflow::Qa);
        assert_eq!(
            pg_dump_dir(&ctx),
            PathBuf::from("/p/target/trek/snapshots/qa")
        );
        let snapshots = ctx.snapshots.as_ref().unwrap();
        assert_eq!(snapshots.keep, None);
        assert!(!snapshots.each_migration && !snapshots.terminate_sessions);

        // A relative dir is relative to the package; an absolute one stays.
        let ctx = resolve(
            &flags,
            "[env.qa]\nsnapshot = { dir = \"snaps\", keep = 4, each_migration = true }\n",
            &Vars::default(),
        )
        .unwrap();
        assert_eq!(pg_dump_dir(&ctx), PathBuf::from("/p/snaps"));
        assert_eq!(ctx.snapshot_keep(), Some(4));
        assert!(ctx.snapshots.as_ref().unwrap().each_migration);
        let ctx = resolve(
            &flags,
            "[env.qa]\nsnapshot = { dir = \"/var/backups/trek\" }\n",
            &Vars::default(),
        )
        .unwrap();
        assert_eq!(pg_dump_dir(&ctx), PathBuf::from("/var/backups/trek"));

        let ctx = resolve(
            &flags,
            "[env.qa]\nsnapshot = { strategy = \"command\", snapshot_command = \"s {id}\", \
             restore_command = \"r {id}\", terminate_sessions = true }\n",
            &Vars::default(),
        )
        .unwrap();
        let snapshots = ctx.snapshots.as_ref().unwrap();
        assert!(snapshots.terminate_sessions);
        assert_eq!(
            snapshots.strategy,
            SnapshotStrategy::Command {
                snapshot: "s {id}".to_owned(),
                restore: "r {id}".to_owned(),
                delete: None
            }
        );
    }

    #[test]
    fn other_workflows_take_no_snapshots_and_reset_settings_resolve() {
        let text = "[trek]\nschemas = [\"public\", \"app\"]\n\
                    [env.dev]\nreset = \"database\"\n\
                    [env.other]\nworkflow = \"dev\"\nschemas = [\"app\"]\n";
        let ctx = resolve(&GlobalArgs::default(), text, &Vars::default()).unwrap();
        assert!(ctx.snapshots.is_none());
        assert_eq!(ctx.reset, Some(ResetConfig::Database));
        assert_eq!(
            ctx.schemas,
            Some(vec!["public".to_owned(), "app".to_owned()])
        );
        let flags = GlobalArgs {
            env: Some("other".to_owned()),
            ..GlobalArgs::default()
        };
        let ctx = resolve(&flags, text, &Vars::default()).unwrap();
        assert_eq!(ctx.reset, None);
        assert_eq!(ctx.schemas, Some(vec!["app".to_owned()]));
        let ctx = resolve(&GlobalArgs::default(), "", &Vars::default()).unwrap();
        assert_eq!(ctx.schemas, None);
        assert_eq!(ctx.reset, None);
    }

    #[test]
    fn environment_without_workflow_needs_a_workflow_name() {
        let flags = GlobalArgs {
            env: Some("staging".to_owned()),
            ..GlobalArgs::default()
        };
        assert!(resolve(
            &flags,
            "[env.staging]\nurl = \"postgres://x/y\"\n",
            &Vars::default()
        )
        .is_err());
        let ctx = resolve(
            &flags,
            "[env.staging]\nworkflow = \"prod\"\n",
            &Vars::default(),
        )
        .unwrap();
        assert_eq!(ctx.workflow, Workflow::Prod);
        assert_eq!(
            ctx.database,
            Database::Local {
                database: "demo_app_staging".to_owned()
            }
        );
    }

    #[test]
    fn a_baseline_dump_is_resolved_against_the_package_and_refused_in_prod() {
        let flags = GlobalArgs {
            env: Some("dev".to_owned()),
            ..GlobalArgs::default()
        };
        let ctx = resolve(
            &flags,
            "[env.dev]\nbaseline = \"db/schema.sql\"\n",
            &Vars::default(),
        )
        .unwrap();
        assert_eq!(ctx.baseline, Some(PathBuf::from("/p/db/schema.sql")));
        // A prod environment with a baseline is refused when the file is read.
        let err = config::parse("[env.prod]\nbaseline = \"db/schema.sql\"\n").unwrap_err();
        assert!(err.contains("baseline"), "{err}");
    }

    #[test]
    fn seeds_can_be_switched_off_but_never_on_in_prod() {
        let flags = |env: &str| GlobalArgs {
            env: Some(env.to_owned()),
            ..GlobalArgs::default()
        };
        let ctx = resolve(
            &flags("dev"),
            "[env.dev]\nseeds = false\n",
            &Vars::default(),
        )
        .unwrap();
        assert!(!ctx.seeds);
        // A prod environment with seeds on is refused when the file is read.
        let err = config::parse("[env.prod]\nseeds = true\n").unwrap_err();
        assert!(err.contains("seeds never reach prod"), "{err}");
    }
}
