//! Comparing two schema dumps object by object: what `cargo trek drift` reports.
//!
//! `pg_dump` heads every object with a comment (`-- Name: users; Type: TABLE; Schema: public;
//! Owner: -`); the dump is cut there into objects keyed by kind, schema and name, and the two
//! sides are compared key by key. For a table, the columns are compared one by one, so the
//! report says which column differs. trek's own schema and history rows are left out: they
//! say what was applied, not what the schema is.

use std::collections::BTreeMap;
use std::fmt;

use crate::dump::HISTORY_MARKER;

/// One object of a dump.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    /// `table`, `view`, `function`, `index`, `constraint`, `type`, `extension`, ... (pg_dump's
    /// type, lower case).
    pub kind: String,
    /// The schema, or `-` for objects outside schemas (extensions).
    pub schema: String,
    /// The name as pg_dump gives it (`users`, `users users_pkey` for a constraint,
    /// `f(integer)` for a function).
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.schema == "-" {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}.{}", self.kind, self.schema, self.name)
        }
    }
}

/// How one object differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The migrations make it; the other side does not have it.
    Missing,
    /// The other side has it; the migrations do not make it.
    Extra,
    /// Both have it, differently; the details say how (a column each, for tables).
    Changed {
        /// What differs, one line each.
        details: Vec<String>,
    },
}

/// One differing object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectDiff {
    /// The object.
    pub object: ObjectKey,
    /// How it differs.
    pub change: Change,
}

impl fmt::Display for ObjectDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Change::Missing => write!(f, "{}: made by the migrations, missing", self.object),
            Change::Extra => write!(f, "{}: not made by the migrations", self.object),
            Change::Changed { details } => {
                write!(f, "{}: differs", self.object)?;
                if !details.is_empty() {
                    write!(f, " ({})", details.join("; "))?;
                }
                Ok(())
            }
        }
    }
}

/// The objects of a dump, keyed, with their SQL (comments and blank lines removed).
pub fn objects(dump: &str, trek_schema: &str) -> BTreeMap<ObjectKey, String> {
    let schema_part = dump.split(HISTORY_MARKER).next().unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut current: Option<ObjectKey> = None;
    let mut body = String::new();
    let mut finish = |key: Option<ObjectKey>, body: &mut String| {
        if let Some(key) = key {
            let skip = key.schema == trek_schema
                || (key.kind == "schema" && key.name == trek_schema)
                || key.kind.ends_with("data");
            if !skip {
                out.insert(key, body.trim().to_owned());
            }
        }
        body.clear();
    };
    for line in schema_part.lines() {
        if let Some(header) = line.strip_prefix("-- Name: ") {
            let key = parse_header(header);
            finish(current.take(), &mut body);
            current = key;
            continue;
        }
        if line.starts_with("-- Data for Name: ") || line == "-- PostgreSQL database dump complete"
        {
            finish(current.take(), &mut body);
            continue;
        }
        if current.is_some() && !line.starts_with("--") && !line.trim().is_empty() {
            if line.starts_with("SET ") || line.starts_with("SELECT pg_catalog.set_config") {
                continue;
            }
            body.push_str(&without_not_null_name(&without_null_default_cast(line)));
            body.push('\n');
        }
    }
    finish(current.take(), &mut body);
    out
}

/// `line` with a column default of `NULL::<type>` written `NULL`: the same default, stored
/// differently. A partition without a default whose parent has one is dumped with `DEFAULT
/// NULL` (so the partition does not take the parent's); replayed, that becomes a stored
/// `NULL::<type>` default, which `pg_dump` then writes out: without this, every database
/// restored from a dump (a qa `pg_dump` snapshot) would drift from the migrations.
fn without_null_default_cast(line: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = " DEFAULT NULL::";
    let Some(at) = line.find(MARK) else {
        return line.into();
    };
    let rest = &line[at + MARK.len()..];
    let (rest, end) = match rest.strip_suffix(',') {
        Some(r) => (r, ","),
        None => match rest.strip_suffix(';') {
            Some(r) => (r, ";"),
            None => (rest, ""),
        },
    };
    let not_null = if rest.ends_with(" NOT NULL") {
        " NOT NULL"
    } else {
        ""
    };
    format!("{} DEFAULT NULL{not_null}{end}", &line[..at]).into()
}

/// `line` with a column's `CONSTRAINT <name> NOT NULL` written `NOT NULL`. PostgreSQL 18 names
/// not-null constraints, and a partition made with `LIKE` keeps its parent's names, which
/// `pg_dump` writes out; restored, the partition's constraints take the default names, which
/// `pg_dump` leaves out, so a restored database would drift on a name no statement uses.
fn without_not_null_name(line: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = " CONSTRAINT ";
    let Some(at) = line.find(MARK) else {
        return line.into();
    };
    let rest = &line[at + MARK.len()..];
    // The name: a quoted identifier (`""` inside is a quote) or a plain one.
    let name_len = if let Some(quoted) = rest.strip_prefix('"') {
        let mut end = None;
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().is_some_and(|(_, n)| *n == '"') {
                    chars.next();
                    continue;
                }
                end = Some(i + 2);
                break;
            }
        }
        match end {
            Some(end) => end,
            None => return line.into(),
        }
    } else {
        rest.find(' ').unwrap_or(rest.len())
    };
    if !rest[name_len..].starts_with(" NOT NULL") {
        return line.into();
    }
    format!("{}{}", &line[..at], &rest[name_len..]).into()
}

/// `users; Type: TABLE; Schema: public; Owner: -` as a key.
fn parse_header(header: &str) -> Option<ObjectKey> {
    let (name, rest) = header.split_once("; Type: ")?;
    let (kind, rest) = rest.split_once("; Schema: ")?;
    let schema = rest.split_once(';').map_or(rest, |(s, _)| s);
    Some(ObjectKey {
        kind: kind.to_lowercase(),
        schema: schema.to_owned(),
        name: name.to_owned(),
    })
}

/// The objects that differ between the schema the migrations make (`expected`) and another
/// (`actual`), in key order.
pub fn compare(expected: &str, actual: &str, trek_schema: &str) -> Vec<ObjectDiff> {
    let expected = objects(expected, trek_schema);
    let actual = objects(actual, trek_schema);
    let mut diffs = Vec::new();
    for (key, sql) in &expected {
        match actual.get(key) {
            None => diffs.push(ObjectDiff {
                object: key.clone(),
                change: Change::Missing,
            }),
            Some(other) if other != sql => diffs.push(ObjectDiff {
                object: key.clone(),
                change: Change::Changed {
                    details: details(&key.kind, sql, other),
                },
            }),
            Some(_) => {}
        }
    }
    for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
        diffs.push(ObjectDiff {
            object: key.clone(),
            change: Change::Extra,
        });
    }
    diffs.sort_by(|a, b| a.object.cmp(&b.object));
    diffs
}

/// For tables, which columns differ; otherwise nothing more than "differs".
fn details(kind: &str, expected: &str, actual: &str) -> Vec<String> {
    if kind != "table" {
        return Vec::new();
    }
    let columns = |sql: &str| -> BTreeMap<String, String> {
        sql.lines()
            .skip(1)
            .map(|l| l.trim().trim_end_matches(',').to_owned())
            .filter(|l| !l.is_empty() && !l.starts_with(')'))
            .filter_map(|l| {
                let (name, definition) = l.split_once(' ')?;
                Some((name.to_owned(), definition.to_owned()))
            })
            .collect()
    };
    let (want, have) = (columns(expected), columns(actual));
    let mut out = Vec::new();
    for (name, definition) in &want {
        match have.get(name) {
            None => out.push(format!("column {name} {definition} is missing")),
            Some(other) if other != definition => out.push(format!(
                "column {name} is {other}, the migrations make it {definition}"
            )),
            Some(_) => {}
        }
    }
    for (name, definition) in have.iter().filter(|(n, _)| !want.contains_key(*n)) {
        out.push(format!(
            "column {name} {definition} is not made by the migrations"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "--\n-- Name: users; Type: TABLE; Schema: public; Owner: -\n--\n\n\
        CREATE TABLE public.users (\n    id integer NOT NULL,\n    email text\n);\n\n\n\
        --\n-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -\n--\n\n\
        ALTER TABLE ONLY public.users\n    ADD CONSTRAINT users_pkey PRIMARY KEY (id);\n\n\
        --\n-- Name: applied; Type: TABLE; Schema: trek; Owner: -\n--\n\nCREATE TABLE trek.applied (\n    id bigint\n);\n";

    #[test]
    fn the_same_dump_has_no_drift() {
        assert!(compare(BASE, BASE, "trek").is_empty());
        let keys: Vec<String> = objects(BASE, "trek")
            .keys()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            keys,
            ["constraint public.users users_pkey", "table public.users"]
        );
    }

    #[test]
    fn a_column_added_by_hand_is_named() {
        let live = BASE.replace("    email text\n", "    email text,\n    nickname text\n");
        let diffs = compare(BASE, &live, "trek");
        assert_eq!(diffs.len(), 1);
        assert_eq!(
            diffs[0].to_string(),
            "table public.users: differs (column nickname text is not made by the migrations)"
        );
    }

    #[test]
    fn missing_and_extra_objects() {
        let live = BASE
            .replace("users_pkey", "users_key")
            .replace("PRIMARY KEY", "UNIQUE");
        let diffs: Vec<String> = compare(BASE, &live, "trek")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            diffs,
            [
                "constraint public.users users_key: not made by the migrations",
                "constraint public.users users_pkey: made by the migrations, missing",
            ]
        );
    }

    #[test]
    fn a_null_default_is_the_same_with_or_without_its_cast() {
        let table = |column: &str| {
            format!(
                "--\n-- Name: events_2024; Type: TABLE; Schema: public; Owner: -\n--\n\n\
                 CREATE TABLE public.events_2024 (\n    id bigint NOT NULL,\n{column}\n);\n"
            )
        };
        // As the migrations make it (LIKE, then ATTACH PARTITION) and as a pg_dump snapshot
        // restores it.
        let made = table("    created_at timestamp(3) without time zone DEFAULT NULL NOT NULL");
        let restored = table(
            "    created_at timestamp(3) without time zone DEFAULT NULL::timestamp without time zone NOT NULL",
        );
        assert!(compare(&made, &restored, "trek").is_empty());
        assert_eq!(
            without_null_default_cast("    n numeric(12,2) DEFAULT NULL::numeric,"),
            "    n numeric(12,2) DEFAULT NULL,"
        );
        assert_eq!(
            without_null_default_cast(
                "ALTER TABLE ONLY public.t ALTER COLUMN c SET DEFAULT NULL::text;"
            ),
            "ALTER TABLE ONLY public.t ALTER COLUMN c SET DEFAULT NULL;"
        );
        // A real default still differs.
        let other = table("    created_at timestamp(3) without time zone DEFAULT now() NOT NULL");
        assert_eq!(compare(&made, &other, "trek").len(), 1);
    }

    #[test]
    fn a_not_null_constraint_is_the_same_whatever_its_name() {
        assert_eq!(
            without_not_null_name(
                "    created_at timestamp(3) DEFAULT NULL CONSTRAINT events_created_at_not_null NOT NULL"
            ),
            "    created_at timestamp(3) DEFAULT NULL NOT NULL"
        );
        assert_eq!(
            without_not_null_name("    id bigint CONSTRAINT \"a \"\"b\" NOT NULL,"),
            "    id bigint NOT NULL,"
        );
        // Other named constraints keep their names.
        let check = "    n int CONSTRAINT positive CHECK ((n > 0))";
        assert_eq!(without_not_null_name(check), check);
    }
}
