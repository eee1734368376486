//! One member of a fleet: a database, or a tenant's schema in a database.

use std::fmt;

/// A database (database-per-tenant, shards) or a schema in a database (schema-per-tenant)
/// that a [`crate::Fleet`] migrates.
///
/// A schema target's scripts run with `search_path` set to the schema, then `public`, and its
/// history lives in a schema of its own, [`tenant_history_schema`] (`trek_<schema>`), which
/// also keys its advisory lock: tenants of one database migrate side by side, each under its
/// own lock.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// What reports call it: the database's name, or `database.schema`.
    pub name: String,
    /// The server it is on (`host:port`): at most [`crate::Fleet::per_server`] targets of one
    /// server run at once.
    pub server: String,
    /// How to reach the database, password included: never shown ([`fmt::Debug`] leaves it
    /// out).
    pub url: String,
    /// The tenant's schema, for a schema-per-tenant target.
    pub schema: Option<String>,
}

impl Target {
    /// The database at `url`, named `name`, on server `server` (`host:port`).
    pub fn new(name: impl Into<String>, server: impl Into<String>, url: impl Into<String>) -> Self {
        Target {
            name: name.into(),
            server: server.into(),
            url: url.into(),
            schema: None,
        }
    }

    /// The database a libpq URL names (`postgres://user:pw@host:5432/app_tenant_7`), named by
    /// its database and keyed by its first host and port.
    ///
    /// # Errors
    /// The driver's message when the URL does not parse.
    pub fn from_url(url: &str) -> Result<Target, String> {
        let config: postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(host)) => host.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let database = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres")
            .to_owned();
        Ok(Target::new(database, format!("{host}:{port}"), url))
    }

    /// The tenant schema `schema` of this target's database: named `database.schema`.
    #[must_use]
    pub fn in_schema(mut self, schema: impl Into<String>) -> Self {
        let schema = schema.into();
        if self.schema.is_none() {
            self.name = format!("{}.{schema}", self.name);
        }
        self.schema = Some(schema);
        self
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("server", &self.server)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// The schema of trek's tables for tenant schema `tenant`: `<trek_schema>_<tenant>`
/// (`trek_acme` for tenant `acme` and trek's default schema `trek`).
#[must_use]
pub fn tenant_history_schema(trek_schema: &str, tenant: &str) -> String {
    format!("{trek_schema}_{tenant}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_its_database_and_server_and_debug_hides_it() {
        let target = Target::from_url("postgres://app:s3cret@db.internal:6432/tenant_7").unwrap();
        assert_eq!(target.name, "tenant_7");
        assert_eq!(target.server, "db.internal:6432");
        let shown = format!("{target:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let tenant = target.in_schema("acme");
        assert_eq!(tenant.name, "tenant_7.acme");
        assert_eq!(tenant_history_schema("trek", "acme"), "trek_acme");
        assert!(Target::from_url("postgres://[::1").is_err());
    }
}
