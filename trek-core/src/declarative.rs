//! Scripts made only of declarations: statements PostgreSQL carries out without running any
//! code of the database's own in the session (no function, trigger or query the script or the
//! schema supplies), so they cannot change the session's settings, take advisory locks, create
//! temporary tables, prepare statements or listen.
//!
//! The engine ends every script by giving the session back as the caller had it (`RESET`, the
//! caller's settings again, locks and temporary tables released): a few statements per script.
//! A run of declarations (`CREATE TABLE`, `CREATE INDEX`, `CREATE TYPE`, `COMMENT ON`,
//! `GRANT`, `DROP` …) on a database without event triggers has nothing to give back, so it may
//! skip that. The test is deliberately narrow: a statement it does not know, or one that
//! evaluates expressions on existing rows (`ALTER TABLE … ADD COLUMN … DEFAULT`, `… USING`,
//! `… CHECK`), a query (`CREATE TABLE … AS`, `INSERT`, `SELECT`, `DO`, `CALL`) or an extension
//! script, is not a declaration. Index expressions and partition keys may only call
//! `IMMUTABLE` functions, which PostgreSQL trusts to have no side effects; so does this.

use crate::lex::{tokens, Token, TokenKind};
use crate::split::split;

/// Whether every statement of `sql` is a declaration (see the [module docs](self)); an empty or
/// comment-only script is.
pub fn is_declarative(sql: &str) -> bool {
    split(sql).iter().all(|statement| {
        let words: Vec<Token<'_>> = tokens(statement.text).filter(|t| !t.is_trivia()).collect();
        statement_is_declarative(&words)
    })
}

/// Objects whose `CREATE` runs no code of the database's own.
const CREATED: &[&str] = &[
    "TABLE",
    "TYPE",
    "DOMAIN",
    "SCHEMA",
    "SEQUENCE",
    "VIEW",
    "RECURSIVE",
    "FUNCTION",
    "PROCEDURE",
    "TRIGGER",
    "CONSTRAINT",
    "RULE",
    "POLICY",
    "CAST",
    "OPERATOR",
    "AGGREGATE",
    "COLLATION",
    "TEXT",
    "INDEX",
    "UNIQUE",
    "ROLE",
    "USER",
    "GROUP",
    "PUBLICATION",
    "STATISTICS",
];

/// Objects whose `ALTER` runs no code of the database's own (with the words of
/// [`EVALUATES`] left out).
const ALTERED: &[&str] = &[
    "TABLE",
    "INDEX",
    "SEQUENCE",
    "VIEW",
    "TYPE",
    "DOMAIN",
    "FUNCTION",
    "PROCEDURE",
    "SCHEMA",
    "TRIGGER",
    "POLICY",
    "ROLE",
    "DEFAULT",
];

/// Words that make an `ALTER` evaluate expressions or casts on existing rows: a column default
/// filled in, a `CHECK` validated, a type changed (with or without `USING`), a partition
/// attached (its rows checked), a constraint validated.
const EVALUATES: &[&str] = &[
    "DEFAULT",
    "CHECK",
    "USING",
    "TYPE",
    "GENERATED",
    "EXCLUDE",
    "ATTACH",
    "VALIDATE",
];

fn statement_is_declarative(words: &[Token<'_>]) -> bool {
    let Some(first) = words.first() else {
        return true;
    };
    let keyword = |i: usize, k: &str| words.get(i).is_some_and(|t| t.is_keyword(k));
    let any_keyword = |from: usize, list: &[&str]| {
        words
            .iter()
            .skip(from)
            .any(|t| list.iter().any(|k| t.is_keyword(k)))
    };
    if first.is_keyword("CREATE") {
        let mut i = 1;
        if keyword(i, "OR") && keyword(i + 1, "REPLACE") {
            i += 2;
        }
        if keyword(i, "UNLOGGED") {
            i += 1;
        }
        let Some(object) = words.get(i) else {
            return false;
        };
        if !CREATED.iter().any(|k| object.is_keyword(k)) {
            // TEMP/TEMPORARY/LOCAL, MATERIALIZED VIEW, EXTENSION, EVENT TRIGGER, DATABASE,
            // SUBSCRIPTION, FOREIGN …: not declarations here.
            return false;
        }
        if object.is_keyword("TABLE") {
            // `CREATE TABLE … AS query` and `… EXECUTE`: a query runs.
            return !as_at_top_level(&words[i..]) && !any_keyword(i, &["EXECUTE"]);
        }
        return true;
    }
    if first.is_keyword("ALTER") {
        let Some(object) = words.get(1) else {
            return false;
        };
        if object.is_keyword("DEFAULT") {
            // ALTER DEFAULT PRIVILEGES
            return keyword(2, "PRIVILEGES");
        }
        return ALTERED.iter().any(|k| object.is_keyword(k)) && !any_keyword(2, EVALUATES);
    }
    ["COMMENT", "GRANT", "REVOKE", "DROP"]
        .iter()
        .any(|k| first.is_keyword(k))
}

/// Whether an `AS` stands outside every parenthesis (`CREATE TABLE t AS SELECT …`), not inside
/// a column list (`GENERATED ALWAYS AS IDENTITY`).
fn as_at_top_level(words: &[Token<'_>]) -> bool {
    let mut depth = 0usize;
    for t in words {
        match t.kind {
            TokenKind::Punctuation | TokenKind::Operator if t.text == "(" => depth += 1,
            TokenKind::Punctuation | TokenKind::Operator if t.text == ")" => {
                depth = depth.saturating_sub(1);
            }
            TokenKind::Word if depth == 0 && t.text.eq_ignore_ascii_case("AS") => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_declarative() {
        for sql in [
            "",
            "-- nothing\n",
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, a text DEFAULT now()::text CHECK (a <> ''))",
            "CREATE UNLOGGED TABLE t (id int); CREATE INDEX t_id ON t (lower(id::text)) WHERE id > 0",
            "create unique index concurrently if not exists t_a on t (a)",
            "CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TYPE pair AS (a int, b int)",
            "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT set_config('a.b', 'c', false)::int $$",
            "CREATE VIEW v AS SELECT 1; CREATE OR REPLACE RECURSIVE VIEW w (n) AS SELECT 1",
            "CREATE SCHEMA s; CREATE SEQUENCE s.q; CREATE DOMAIN d AS int CHECK (VALUE > 0)",
            "CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
            "COMMENT ON TABLE t IS 'x'; GRANT SELECT ON t TO public; REVOKE ALL ON t FROM public",
            "ALTER TABLE t ADD COLUMN b varchar(20) NOT NULL, ADD CONSTRAINT fk FOREIGN KEY (b) REFERENCES u (b)",
            "ALTER TABLE t RENAME COLUMN a TO b; ALTER INDEX i RENAME TO j; ALTER TYPE mood ADD VALUE 'glad'",
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO public",
            "DROP TABLE t CASCADE; DROP FUNCTION f()",
        ] {
            assert!(is_declarative(sql), "{sql}");
        }
    }

    #[test]
    fn anything_that_runs_code_or_queries_is_not() {
        for sql in [
            "SET search_path = x",
            "RESET ALL",
            "SELECT set_config('a', 'b', false)",
            "SELECT pg_advisory_lock(1)",
            "DO $$ BEGIN PERFORM 1; END $$",
            "CALL p()",
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "TRUNCATE t",
            "COPY t FROM stdin",
            "PREPARE p AS SELECT 1",
            "LISTEN c",
            "DISCARD ALL",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
            "CREATE TEMP TABLE t (id int)",
            "CREATE TEMPORARY VIEW v AS SELECT 1",
            "CREATE TABLE t AS SELECT 1",
            "CREATE TABLE t (a) AS VALUES (1)",
            "CREATE MATERIALIZED VIEW m AS SELECT 1",
            "REFRESH MATERIALIZED VIEW m",
            "CREATE EXTENSION pgcrypto",
            "ALTER EXTENSION pgcrypto UPDATE",
            "CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f()",
            "ALTER TABLE t ADD COLUMN b int DEFAULT f()",
            "ALTER TABLE t ALTER COLUMN a TYPE bigint",
            "ALTER TABLE t ALTER COLUMN a SET DATA TYPE text USING f(a)",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (f(a))",
            "ALTER TABLE t VALIDATE CONSTRAINT c",
            "ALTER TABLE p ATTACH PARTITION c FOR VALUES IN (1)",
            "ALTER DOMAIN d ADD CONSTRAINT c CHECK (f(VALUE))",
            "ANALYZE t",
            "VACUUM t",
            "LOCK TABLE t",
            "CREATE TABLE t (id int); SELECT 1",
        ] {
            assert!(!is_declarative(sql), "{sql}");
        }
    }
}
