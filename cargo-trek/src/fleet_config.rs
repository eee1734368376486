//! `[fleet.NAME]` in `Trek.toml`: where a fleet's targets come from and how it runs.
//!
//! ```toml
//! [fleet.tenants]
//! url_env = "CONTROL_DATABASE_URL"                  # the control database
//! query = "SELECT url FROM tenants ORDER BY id"     # each row: a URL, or a database name there
//! parallel = 8                                      # targets at once (default 4)
//! per_server = 4                                    # of one server at once (default 4)
//! canary = 1                                        # run these first; the rest only if they pass
//!
//! [fleet.schemas]
//! url_env = "APP_DATABASE_URL"
//! schemas_query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'"
//! ```
//!
//! One source of targets per fleet: `urls`, `url_envs`, `urls_file`, `query`, `schemas` or
//! `schemas_query` (the last three with `url` or `url_env`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{check_schema, check_workflow, parse_duration};

/// `[fleet.NAME]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a fleet's table, like [fleet.tenants] with urls, query or schemas"
)]
pub struct FleetSection {
    /// `prod` (the default) or `dev`.
    pub workflow: Option<String>,
    /// The targets' URLs, written in the file.
    pub urls: Option<Vec<String>>,
    /// The names of the environment variables holding the targets' URLs.
    pub url_envs: Option<Vec<String>>,
    /// A file of URLs, one per line (`#` starts a comment), relative to `Cargo.toml`.
    pub urls_file: Option<PathBuf>,
    /// The control database (`query`) or the tenants' database (`schemas`, `schemas_query`).
    pub url: Option<String>,
    /// The variable holding `url`.
    pub url_env: Option<String>,
    /// A query on the control database; the first column of each row is a target: a URL, or
    /// the name of a database on the control database's server.
    pub query: Option<String>,
    /// Tenant schemas of the database at `url`.
    pub schemas: Option<Vec<String>>,
    /// A query on the database at `url` whose first column names the tenant schemas.
    pub schemas_query: Option<String>,
    /// How many targets are migrated at once (default 4).
    pub parallel: Option<usize>,
    /// How many targets of one server are migrated at once (default 4).
    pub per_server: Option<usize>,
    /// How many targets go first, the rest only if they all succeed (default 0).
    pub canary: Option<usize>,
    /// How long each target waits for another run's lock (default: `[trek]`'s).
    pub lock_timeout: Option<String>,
}

/// Where a fleet's targets come from, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// URLs, each with where it came from (for messages).
    Urls(Vec<Url>),
    /// A file of URLs (absolute path).
    File(PathBuf),
    /// The rows of `query` on the database `at`.
    Query {
        /// The control database.
        at: Url,
        /// The query.
        query: String,
    },
    /// Tenant schemas of the database `at`.
    Schemas {
        /// The database.
        at: Url,
        /// The schemas.
        schemas: Vec<String>,
    },
    /// Tenant schemas named by the rows of `query` on the database `at`.
    SchemasQuery {
        /// The database.
        at: Url,
        /// The query.
        query: String,
    },
}

/// A database URL, or why there is none (a variable that is not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The URL, or the message saying which variable is missing.
    pub url: Result<String, String>,
    /// Where it came from: `Trek.toml [fleet.tenants] urls[2]`, `TENANT_A_URL`.
    pub source: String,
}

/// A fleet, checked, with `[trek]`'s settings folded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// Its name.
    pub name: String,
    /// The workflow each target runs.
    pub workflow: trek::Workflow,
    /// Where its targets come from.
    pub source: Source,
    /// Targets at once.
    pub parallel: usize,
    /// Targets of one server at once.
    pub per_server: usize,
    /// Canary targets.
    pub canary: usize,
    /// How long each target waits for another run's lock, when set.
    pub lock_timeout: Option<Duration>,
}

impl FleetSection {
    /// Checks the table and resolves it: `lookup` reads environment variables, `root` is the
    /// package (for `urls_file`).
    ///
    /// # Errors
    /// A message naming the fleet and the key.
    pub fn resolve(
        &self,
        name: &str,
        root: &std::path::Path,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Fleet, String> {
        let at = |key: &str| format!("[fleet.{name}] {key}");
        let workflow = match self.workflow.as_deref() {
            None => trek::Workflow::Prod,
            Some(w) => match check_workflow(w).map_err(|e| format!("{}: {e}", at("workflow")))? {
                trek::Workflow::Qa => {
                    return Err(format!(
                        "{}: a fleet runs \"prod\" or \"dev\"; a qa fleet would need snapshots \
                         per target, which trek does not take for fleets",
                        at("workflow")
                    ))
                }
                w => w,
            },
        };
        let given: Vec<&str> = [
            ("urls", self.urls.is_some()),
            ("url_envs", self.url_envs.is_some()),
            ("urls_file", self.urls_file.is_some()),
            ("query", self.query.is_some()),
            ("schemas", self.schemas.is_some()),
            ("schemas_query", self.schemas_query.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect();
        let source_key = match given.as_slice() {
            [one] => *one,
            [] => {
                return Err(format!(
                    "[fleet.{name}] names no targets: give one of urls, url_envs, urls_file, \
                     query (with url or url_env), schemas or schemas_query (with url or url_env)"
                ))
            }
            many => {
                return Err(format!(
                    "[fleet.{name}] gives its targets {} ways ({}): keep one",
                    many.len(),
                    many.join(", ")
                ))
            }
        };
        let needs_database = matches!(source_key, "query" | "schemas" | "schemas_query");
        let database = match (&self.url, &self.url_env) {
            (Some(_), Some(_)) => {
                return Err(format!("[fleet.{name}] has both url and url_env: keep one"))
            }
            (Some(url), None) => Some(Url {
                url: Ok(url.clone()),
                source: format!("Trek.toml {}", at("url")),
            }),
            (None, Some(var)) => Some(Url {
                url: lookup(var).ok_or_else(|| {
                    format!(
                        "fleet `{name}` takes its database URL from the variable {var} \
                         (url_env in Trek.toml), which is not set"
                    )
                }),
                source: var.clone(),
            }),
            (None, None) => None,
        };
        let database = match (needs_database, database) {
            (true, Some(database)) => Some(database),
            (true, None) => {
                return Err(format!(
                    "{} needs the database it runs on: add url or url_env",
                    at(source_key)
                ))
            }
            (false, Some(_)) => {
                return Err(format!(
                    "[fleet.{name}] url and url_env name the database of query, schemas or \
                     schemas_query; with {source_key} they mean nothing: remove them"
                ))
            }
            (false, None) => None,
        };
        let text = |key: &str, value: &Option<String>| -> Result<String, String> {
            match value.as_deref().map(str::trim) {
                Some(q) if !q.is_empty() => Ok(q.to_owned()),
                _ => Err(format!("{} is empty", at(key))),
            }
        };
        let source = match (source_key, database) {
            ("urls", _) => {
                let urls = self.urls.clone().unwrap_or_default();
                if urls.is_empty() {
                    return Err(format!("{} is empty", at("urls")));
                }
                Source::Urls(
                    urls.into_iter()
                        .enumerate()
                        .map(|(i, url)| Url {
                            url: Ok(url),
                            source: format!("Trek.toml {}[{i}]", at("urls")),
                        })
                        .collect(),
                )
            }
            ("url_envs", _) => {
                let vars = self.url_envs.clone().unwrap_or_default();
                if vars.is_empty() {
                    return Err(format!("{} is empty", at("url_envs")));
                }
                Source::Urls(
                    vars.into_iter()
                        .map(|var| Url {
                            url: lookup(&var).ok_or_else(|| {
                                format!(
                                    "fleet `{name}` takes a target's URL from the variable \
                                     {var} (url_envs in Trek.toml), which is not set"
                                )
                            }),
                            source: var,
                        })
                        .collect(),
                )
            }
            ("urls_file", _) => Source::File(root.join(self.urls_file.clone().unwrap_or_default())),
            ("query", Some(at)) => Source::Query {
                at,
                query: text("query", &self.query)?,
            },
            ("schemas", Some(at)) => {
                let schemas = self.schemas.clone().unwrap_or_default();
                if schemas.is_empty() {
                    return Err(format!("{} is empty", at_key(name, "schemas")));
                }
                for schema in &schemas {
                    check_schema(schema)
                        .map_err(|e| format!("{}: {e}", at_key(name, "schemas")))?;
                }
                Source::Schemas { at, schemas }
            }
            (_, Some(at)) => Source::SchemasQuery {
                at,
                query: text("schemas_query", &self.schemas_query)?,
            },
            (_, None) => unreachable_source(name)?,
        };
        let positive = |key: &str, value: Option<usize>, default: usize| match value {
            Some(0) => Err(format!("{} is 0: give at least 1", at(key))),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        Ok(Fleet {
            name: name.to_owned(),
            workflow,
            source,
            parallel: positive("parallel", self.parallel, trek::fleet::DEFAULT_PARALLEL)?,
            per_server: positive(
                "per_server",
                self.per_server,
                trek::fleet::DEFAULT_PER_SERVER,
            )?,
            canary: self.canary.unwrap_or(0),
            lock_timeout: self
                .lock_timeout
                .as_deref()
                .map(parse_duration)
                .transpose()
                .map_err(|e| format!("{}: {e}", at("lock_timeout")))?,
        })
    }
}

fn at_key(name: &str, key: &str) -> String {
    format!("[fleet.{name}] {key}")
}

/// Never reached: a source that needs a database was checked to have one.
fn unreachable_source(name: &str) -> Result<Source, String> {
    Err(format!("[fleet.{name}] needs url or url_env"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<Fleet, String> {
        let toml = crate::config::parse(text)?;
        let (name, section) = toml.fleet.iter().next().unwrap();
        section.resolve(name, std::path::Path::new("/p"), &|var| {
            (var == "SET").then(|| "postgres://h/db".to_owned())
        })
    }

    #[test]
    fn each_source_resolves_and_defaults_apply() {
        let fleet =
            resolve("[fleet.t]\nurls = [\"postgres://h/a\", \"postgres://h/b\"]\n").unwrap();
        assert_eq!(fleet.workflow, trek::Workflow::Prod);
        assert_eq!((fleet.parallel, fleet.per_server, fleet.canary), (4, 4, 0));
        let Source::Urls(urls) = &fleet.source else {
            panic!("{fleet:?}")
        };
        assert_eq!(urls[1].source, "Trek.toml [fleet.t] urls[1]");

        let fleet = resolve("[fleet.t]\nurl_envs = [\"SET\", \"UNSET\"]\n").unwrap();
        let Source::Urls(urls) = &fleet.source else {
            panic!("{fleet:?}")
        };
        assert_eq!(urls[0].url, Ok("postgres://h/db".to_owned()));
        assert!(urls[1].url.as_ref().unwrap_err().contains("UNSET"));

        let fleet = resolve("[fleet.t]\nurls_file = \"tenants.txt\"\nparallel = 8\n").unwrap();
        assert_eq!(fleet.source, Source::File(PathBuf::from("/p/tenants.txt")));
        assert_eq!(fleet.parallel, 8);

        let fleet =
            resolve("[fleet.t]\nurl_env = \"SET\"\nquery = \"SELECT url FROM tenants\"\n").unwrap();
        assert!(matches!(fleet.source, Source::Query { .. }));
        let fleet = resolve(
            "[fleet.t]\nurl = \"postgres://h/app\"\nschemas = [\"a\", \"b\"]\nworkflow = \"dev\"\n",
        )
        .unwrap();
        assert_eq!(fleet.workflow, trek::Workflow::Dev);
        assert!(matches!(fleet.source, Source::Schemas { .. }));
    }

    #[test]
    fn bad_fleets_are_refused_naming_the_key() {
        for (text, expected) in [
            ("[fleet.t]\n", "names no targets"),
            ("[fleet.t]\nurls = []\n", "[fleet.t] urls is empty"),
            (
                "[fleet.t]\nurls = [\"postgres://h/a\"]\nschemas = [\"a\"]\nurl = \"postgres://h/a\"\n",
                "2 ways (urls, schemas)",
            ),
            ("[fleet.t]\nquery = \"SELECT 1\"\n", "[fleet.t] query needs the database"),
            (
                "[fleet.t]\nurls = [\"postgres://h/a\"]\nurl = \"postgres://h/a\"\n",
                "with urls they mean nothing",
            ),
            ("[fleet.t]\nurls = [\"postgres://h/a\"]\nworkflow = \"qa\"\n", "a qa fleet"),
            ("[fleet.t]\nurls = [\"postgres://h/a\"]\nparallel = 0\n", "parallel is 0"),
            (
                "[fleet.t]\nurl = \"postgres://h/a\"\nschemas = [\"pg_x\"]\n",
                "[fleet.t] schemas",
            ),
            ("[fleet.t]\nurls = [\"postgres://h/a\"]\nlock_timeout = \"soon\"\n", "lock_timeout"),
        ] {
            let err = resolve(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let err = crate::config::parse("[fleet.t]\nurlz = []\n").unwrap_err();
        assert!(err.contains("urlz"), "{err}");
    }
}
