//! The managed schemas: what a dev reset and a qa restore drop and rebuild.
//!
//! By default every schema of the database except PostgreSQL's own (`pg_*`,
//! `information_schema`) and trek's is managed; [`crate::Migrator::managed_schemas`] narrows
//! that to a list. A reset drops them with `CASCADE` (extensions installed in them go too, and
//! the migrations install them again) and recreates only `public`, with its owner and grants,
//! because that is the one schema a new database has: the result is the database as `CREATE
//! DATABASE` made it, and the migrations create every other schema themselves. A fleet's
//! tenant schema is recreated the same way ([`crate::Fleet`]): it is the tenant's `public`.

use postgres::types::Type;
use postgres::Client;

use crate::error::{Error, Result};
use crate::sql::{quote_ident, quote_literal};

/// A managed schema as it was before a reset, with what is needed to recreate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManagedSchema {
    pub name: String,
    pub owner: String,
    /// `(grantee, privilege)` pairs; grantee `PUBLIC` or a quoted role name.
    pub grants: Vec<(String, String)>,
    /// Its comment (`public` has `standard public schema`; drift would see it gone).
    pub comment: Option<String>,
    /// Whether a reset creates it again, empty (`public`, and a fleet's tenant schema).
    pub recreate: bool,
}

/// The INVALID indexes in the managed schemas (`only`, else every schema but PostgreSQL's and
/// `trek_schema`), schema-qualified: what a `CREATE INDEX CONCURRENTLY` that failed leaves
/// behind. PostgreSQL keeps maintaining such an index but never uses it, and a later `CREATE
/// INDEX … IF NOT EXISTS` of the same name skips it, so a unique one enforces nothing.
///
/// # Errors
/// [`Error::Database`] when the catalogue cannot be read.
pub(crate) fn invalid_indexes(
    client: &mut Client,
    trek_schema: &str,
    only: Option<&[String]>,
) -> Result<Vec<String>> {
    let only: Vec<String> = only.map(<[String]>::to_vec).unwrap_or_default();
    let filter = !only.is_empty();
    let rows = client
        .query_typed(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid \
               AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
               AND n.nspname <> $1 AND (NOT $2 OR n.nspname = ANY($3)) \
             ORDER BY 1",
            &[
                (&trek_schema, Type::TEXT),
                (&filter, Type::BOOL),
                (&only, Type::TEXT_ARRAY),
            ],
        )
        .map_err(|e| Error::db("could not look for invalid indexes", e))?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// Reads the managed schemas: `only` when given (those of them that exist), else every schema
/// but PostgreSQL's and `trek_schema`.
pub(crate) fn managed(
    client: &mut Client,
    trek_schema: &str,
    only: Option<&[String]>,
    recreated: Option<&str>,
) -> Result<Vec<ManagedSchema>> {
    let only: Vec<String> = only.map(<[String]>::to_vec).unwrap_or_default();
    let filter = !only.is_empty();
    let rows = client
        .query_typed(
            "SELECT n.nspname::text, pg_get_userbyid(n.nspowner)::text, \
                    coalesce((SELECT array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' \
                                    ELSE quote_ident(pg_get_userbyid(a.grantee)) END \
                                    || ' ' || a.privilege_type) \
                              FROM aclexplode(n.nspacl) a), '{}')::text[], \
                    obj_description(n.oid, 'pg_namespace') \
             FROM pg_namespace n \
             WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
               AND n.nspname <> $1 AND (NOT $2 OR n.nspname = ANY($3)) \
             ORDER BY 1",
            &[
                (&trek_schema, Type::TEXT),
                (&filter, Type::BOOL),
                (&only, Type::TEXT_ARRAY),
            ],
        )
        .map_err(|e| Error::db("could not list the schemas to reset", e))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let grants: Vec<String> = row.get(2);
            let name: String = row.get(0);
            ManagedSchema {
                recreate: name == "public" || recreated == Some(name.as_str()),
                name,
                owner: row.get(1),
                grants: grants
                    .into_iter()
                    .filter_map(|g| {
                        let (grantee, privilege) = g.rsplit_once(' ')?;
                        Some((grantee.to_owned(), privilege.to_owned()))
                    })
                    .collect(),
                comment: row.get(3),
            }
        })
        .collect())
}

/// Statements (each ending in `;\n`) that drop `schemas` and recreate `public` as it was.
/// Run them inside a transaction.
pub(crate) fn drop_sql(schemas: &[ManagedSchema]) -> String {
    let mut sql = String::new();
    for schema in schemas {
        sql.push_str(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE;\n",
            quote_ident(&schema.name)
        ));
    }
    for schema in schemas.iter().filter(|s| s.recreate) {
        let name = quote_ident(&schema.name);
        sql.push_str(&format!("CREATE SCHEMA {name};\n"));
        // Giving the schema back to its owner needs membership in that role; when the
        // current user lacks it, the schema stays the current user's.
        sql.push_str(&format!(
            "DO $trek$ BEGIN EXECUTE format('ALTER SCHEMA %I OWNER TO %I', {schema_name}, {owner}); \
             EXCEPTION WHEN insufficient_privilege THEN NULL; END $trek$;\n",
            schema_name = quote_literal(&schema.name),
            owner = quote_literal(&schema.owner)
        ));
        if let Some(comment) = &schema.comment {
            sql.push_str(&format!(
                "COMMENT ON SCHEMA {name} IS {};\n",
                quote_literal(comment)
            ));
        }
        for (grantee, privilege) in &schema.grants {
            if privilege
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == ' ')
            {
                sql.push_str(&format!(
                    "GRANT {privilege} ON SCHEMA {name} TO {grantee};\n"
                ));
            }
        }
    }
    sql
}

/// The names, for messages: `public, billing`.
pub(crate) fn names(schemas: &[ManagedSchema]) -> String {
    if schemas.is_empty() {
        return "no schemas".to_owned();
    }
    schemas
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
