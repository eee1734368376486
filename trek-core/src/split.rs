//! Splitting a SQL script into statements, the way PostgreSQL's lexer (and `psql`) sees them.
//!
//! The splitter reads the script's [tokens](crate::lex), so a `;` inside a string constant
//! (`'…'`, `E'…'`, `U&'…'`, `B'…'`, `X'…'`, `N'…'`, `$$…$$`, `$tag$…$tag$`), a quoted
//! identifier or a comment (`--`, nested `/* */`) ends nothing. Like `psql`, it does not end a
//! statement on a `;` inside parentheses (a `CREATE RULE … DO ALSO (…; …)`), nor inside the
//! `BEGIN … END` body of a SQL-standard function or procedure (`CREATE [OR REPLACE]
//! FUNCTION|PROCEDURE … BEGIN ATOMIC …; …; END`), counting `CASE … END` inside that body.
//!
//! Limitation: plain `'…'` strings are read with `standard_conforming_strings = on`, the
//! PostgreSQL default since 9.1; a backslash only escapes in `E'…'` strings.

use crate::lex::{tokens, Token, TokenKind};

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement text, from its first token that is not whitespace or a comment up to and
    /// not including its terminating `;`, with trailing whitespace trimmed (a comment at its
    /// end or inside it is kept).
    pub text: &'a str,
    /// Byte offset of `text` in the script.
    pub offset: usize,
}

/// Splits `sql` on the `;` that end statements: not the ones inside string constants, quoted
/// identifiers or comments, inside parentheses, or inside `BEGIN ATOMIC … END` function bodies
/// (see the [module docs](self)). Statements that hold only whitespace and comments are
/// dropped. An unterminated quote or comment runs to the end. The last statement needs no `;`.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut state = Nesting::default();
    for token in tokens(sql) {
        if token.is_trivia() {
            continue;
        }
        if token.is_symbol(";") && state.at_top() {
            if let Some(s) = start.take() {
                out.push(statement(sql, s, token.offset));
            }
            state = Nesting::default();
        } else {
            start.get_or_insert(token.offset);
            state.see(&token);
        }
    }
    if let Some(s) = start {
        out.push(statement(sql, s, sql.len()));
    }
    out
}

/// The statement from `start` up to `end`, without the whitespace (PostgreSQL's, the only kind
/// that is not part of a token) at its end.
fn statement(sql: &str, start: usize, end: usize) -> Statement<'_> {
    Statement {
        text: sql[start..end].trim_end_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']),
        offset: start,
    }
}

/// The transaction-control command a statement is (`BEGIN`, `START TRANSACTION`, `COMMIT`,
/// `END`, `ROLLBACK` without `TO`, `ABORT`, `COMMIT`/`ROLLBACK PREPARED`, `PREPARE
/// TRANSACTION`), upper-cased, or `None`. trek runs each transactional script inside its own
/// transaction, so such a statement would commit part of a migration without its history row.
/// `SAVEPOINT` and `ROLLBACK TO` are fine inside a transaction and are not reported.
pub fn transaction_control(statement: &str) -> Option<&'static str> {
    let mut words = tokens(statement)
        .filter(|t| !t.is_trivia())
        .take_while(|t| !t.is_symbol(";"))
        .map(|t| t.text.to_ascii_uppercase());
    let first = words.next()?;
    let second = words.next();
    match (first.as_str(), second.as_deref()) {
        (
            "BEGIN",
            None | Some("TRANSACTION" | "WORK" | "ISOLATION" | "READ" | "NOT" | "DEFERRABLE"),
        ) => Some("BEGIN"),
        ("START", Some("TRANSACTION")) => Some("START TRANSACTION"),
        ("COMMIT" | "END", _) => Some("COMMIT"),
        ("ROLLBACK", Some("TO")) => None,
        ("ROLLBACK" | "ABORT", _) => Some("ROLLBACK"),
        ("PREPARE", Some("TRANSACTION")) => Some("PREPARE TRANSACTION"),
        _ => None,
    }
}

/// What a statement is, upper-cased, when PostgreSQL refuses to run it inside a transaction
/// block (SQLSTATE 25001), so a migration holding it needs `-- trek:no_transaction`:
/// `CREATE INDEX CONCURRENTLY` (and `DROP INDEX`, `REINDEX … CONCURRENTLY`), `REINDEX
/// DATABASE`/`SYSTEM`, `VACUUM`, `CREATE`/`DROP DATABASE`, `CREATE`/`DROP TABLESPACE`, `ALTER
/// SYSTEM`, `CREATE`/`DROP SUBSCRIPTION`, `DISCARD ALL`; and `ALTER TYPE … ADD VALUE`, which
/// PostgreSQL refused in a transaction before version 12. From PostgreSQL's documentation of
/// each command ("cannot be executed inside a transaction block").
pub fn outside_transaction(statement: &str) -> Option<&'static str> {
    let words: Vec<String> = tokens(statement)
        .filter(|t| !t.is_trivia())
        .take_while(|t| !t.is_symbol(";"))
        .filter(|t| t.kind == TokenKind::Word)
        .take(12)
        .map(|t| t.text.to_ascii_uppercase())
        .collect();
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    let has = |word: &str| words.iter().any(|x| x == word);
    let concurrently = has("CONCURRENTLY");
    match (w(0), w(1)) {
        ("CREATE", "INDEX") | ("CREATE", "UNIQUE") if concurrently => {
            Some("CREATE INDEX CONCURRENTLY")
        }
        ("DROP", "INDEX") if concurrently => Some("DROP INDEX CONCURRENTLY"),
        ("REINDEX", _) if concurrently => Some("REINDEX CONCURRENTLY"),
        ("REINDEX", "DATABASE" | "SYSTEM") => Some("REINDEX DATABASE"),
        ("VACUUM", _) => Some("VACUUM"),
        ("CREATE" | "DROP", "DATABASE") => Some(if w(0) == "CREATE" {
            "CREATE DATABASE"
        } else {
            "DROP DATABASE"
        }),
        ("CREATE" | "DROP", "TABLESPACE") => Some(if w(0) == "CREATE" {
            "CREATE TABLESPACE"
        } else {
            "DROP TABLESPACE"
        }),
        ("CREATE" | "DROP", "SUBSCRIPTION") => Some(if w(0) == "CREATE" {
            "CREATE SUBSCRIPTION"
        } else {
            "DROP SUBSCRIPTION"
        }),
        ("ALTER", "SYSTEM") => Some("ALTER SYSTEM"),
        ("DISCARD", "ALL") => Some("DISCARD ALL"),
        ("ALTER", "TYPE") if has("ADD") && has("VALUE") => Some("ALTER TYPE … ADD VALUE"),
        _ => None,
    }
}

/// Whether `sql` holds at most one statement (comments and a final `;` aside).
pub fn is_single_statement(sql: &str) -> bool {
    split(sql).len() <= 1
}

/// What `psql` tracks to know whether a `;` ends the statement.
#[derive(Default)]
struct Nesting {
    parens: usize,
    begin_depth: usize,
    /// First letter of the statement's first four words when they are one of `create`, `or`,
    /// `replace`, `function`, `procedure` (0 otherwise), as psql's lexer keeps them.
    lead: [u8; 4],
    words: usize,
}

impl Nesting {
    fn at_top(&self) -> bool {
        self.parens == 0 && self.begin_depth == 0
    }

    fn see(&mut self, token: &Token<'_>) {
        if token.is_symbol("(") {
            self.parens += 1;
        } else if token.is_symbol(")") {
            self.parens = self.parens.saturating_sub(1);
        } else if token.kind == TokenKind::Word {
            self.word(token.text);
        }
    }

    fn word(&mut self, word: &str) {
        let is = |k: &str| word.eq_ignore_ascii_case(k);
        if self.words < self.lead.len()
            && (is("create") || is("or") || is("replace") || is("function") || is("procedure"))
        {
            self.lead[self.words] = word.as_bytes()[0].to_ascii_lowercase();
        }
        self.words += 1;
        let l = self.lead;
        let routine = l[0] == b'c'
            && (l[1] == b'f'
                || l[1] == b'p'
                || (l[1] == b'o' && l[2] == b'r' && (l[3] == b'f' || l[3] == b'p')));
        if routine && self.parens == 0 {
            if is("begin") {
                self.begin_depth += 1;
            } else if is("case") {
                if self.begin_depth >= 1 {
                    self.begin_depth += 1;
                }
            } else if is("end") {
                self.begin_depth = self.begin_depth.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn transaction_control_statements_are_recognised() {
        for (sql, expected) in [
            ("BEGIN", Some("BEGIN")),
            (
                "begin transaction isolation level serializable",
                Some("BEGIN"),
            ),
            ("START TRANSACTION", Some("START TRANSACTION")),
            ("commit", Some("COMMIT")),
            ("END", Some("COMMIT")),
            ("ROLLBACK", Some("ROLLBACK")),
            ("abort", Some("ROLLBACK")),
            ("PREPARE TRANSACTION 'x'", Some("PREPARE TRANSACTION")),
            ("ROLLBACK TO SAVEPOINT a", None),
            ("SAVEPOINT a", None),
            ("CREATE TABLE commit_log (id int)", None),
            ("COMMENT ON TABLE t IS 'x'", None),
        ] {
            assert_eq!(transaction_control(sql), expected, "{sql}");
        }
    }

    #[test]
    fn transaction_control_skips_comments() {
        assert_eq!(transaction_control("BEGIN -- the batch\n"), Some("BEGIN"));
        assert_eq!(
            transaction_control("/* done */ COMMIT/**/;"),
            Some("COMMIT")
        );
        assert_eq!(
            transaction_control("ROLLBACK /* partly */ TO SAVEPOINT a"),
            None
        );
    }

    #[test]
    fn a_word_ending_in_a_string_prefix_letter_is_not_a_prefix() {
        // `date'…\'` is a plain string: the backslash does not escape its quote.
        assert_eq!(
            texts(r"select date'2024-01-01', name'C:\'; select 2"),
            [r"select date'2024-01-01', name'C:\'", "select 2"]
        );
        for word in ["type", "pub", "tax", "menu", "an"] {
            let sql = format!(r"select {word}'\'; select 2");
            assert_eq!(split(&sql).len(), 2, "{sql}");
        }
        assert_eq!(
            texts(r"select e'\'; ', b'1', x'f', n'a'; select 2"),
            [r"select e'\'; ', b'1', x'f', n'a'", "select 2"]
        );
    }

    #[test]
    fn unicode_quoted_identifiers_and_strings() {
        assert_eq!(
            texts(r#"select U&"a;\0061", u&'b;\0062' UESCAPE '!'; select 2"#),
            [r#"select U&"a;\0061", u&'b;\0062' UESCAPE '!'"#, "select 2"]
        );
    }

    #[test]
    fn a_string_continued_on_the_next_line_keeps_its_escapes() {
        assert_eq!(
            texts("select E'a'\n'\\'; still'; select 2"),
            ["select E'a'\n'\\'; still'", "select 2"]
        );
        assert_eq!(
            texts("select 'a' -- c\n'b;'; select 2"),
            ["select 'a' -- c\n'b;'", "select 2"]
        );
    }

    #[test]
    fn doubled_quotes_and_dashes_inside_strings() {
        assert_eq!(
            texts("select 'it''s -- no; comment'; select '--'; select 3"),
            ["select 'it''s -- no; comment'", "select '--'", "select 3"]
        );
    }

    #[test]
    fn a_number_ends_before_a_dollar_quote() {
        // `1$$` is the number 1 and a dollar quote, as PostgreSQL reads it.
        assert_eq!(
            texts("select 1$$;$$; select 2"),
            ["select 1$$;$$", "select 2"]
        );
        assert_eq!(
            texts("select 1e5, .5, 1_000, 0x1F, 1..2, a::int, $1::text; select 2"),
            [
                "select 1e5, .5, 1_000, 0x1F, 1..2, a::int, $1::text",
                "select 2"
            ]
        );
    }

    #[test]
    fn whitespace_is_what_postgresql_skips() {
        // A no-break space is part of a word to PostgreSQL, so the statement keeps it.
        assert_eq!(texts("select a\u{a0};"), ["select a\u{a0}"]);
        assert_eq!(texts("select 1 -- c  \t\n;"), ["select 1 -- c"]);
    }

    #[test]
    fn splits_on_semicolons_and_drops_empty_statements() {
        assert_eq!(texts("select 1; select 2;"), ["select 1", "select 2"]);
        assert_eq!(texts(";;  ; select 1 ;;"), ["select 1"]);
        assert_eq!(texts(""), Vec::<&str>::new());
        assert_eq!(
            texts("  -- only a comment\n/* and this */\n"),
            Vec::<&str>::new()
        );
        assert_eq!(texts("select 1"), ["select 1"]);
    }

    #[test]
    fn offsets_point_at_the_first_significant_character() {
        let sql = "-- header\n  /* c */ select 1;\n\n  select 2 -- trailing\n;";
        let statements = split(sql);
        assert_eq!(statements.len(), 2);
        for s in &statements {
            assert_eq!(&sql[s.offset..s.offset + s.text.len()], s.text);
        }
        assert_eq!(statements[0].text, "select 1");
        assert_eq!(statements[1].text, "select 2 -- trailing");
    }

    #[test]
    fn semicolons_inside_strings_are_not_boundaries() {
        assert_eq!(
            texts("select 'a;b', 'it''s;'; select 2"),
            ["select 'a;b', 'it''s;'", "select 2"]
        );
        assert_eq!(
            texts(r"select E'\';', e'x\\'; select 2"),
            [r"select E'\';', e'x\\'", "select 2"]
        );
        assert_eq!(
            texts(r"select 'a\'; select 2"),
            [r"select 'a\'", "select 2"],
            "a backslash does not escape in a standard string"
        );
        assert_eq!(
            texts(r#"select 1 as "a;""b"; select 2"#),
            [r#"select 1 as "a;""b""#, "select 2"]
        );
        assert_eq!(
            texts("select U&'d\\0061t;a', X'1;', B'1;'; select 2"),
            ["select U&'d\\0061t;a', X'1;', B'1;'", "select 2"]
        );
    }

    #[test]
    fn dollar_quotes_with_and_without_tags() {
        assert_eq!(
            texts("select $$a;b$$; select $fn$ $$;$$ ; $fn$; select 3"),
            ["select $$a;b$$", "select $fn$ $$;$$ ; $fn$", "select 3"]
        );
        assert_eq!(
            texts("prepare p as select $1; select $2;"),
            ["prepare p as select $1", "select $2"]
        );
        assert_eq!(
            texts("select a$b$c; select 2"),
            ["select a$b$c", "select 2"]
        );
        assert_eq!(
            texts("select $Tag$ ; $tag$ ; $Tag$; select 2"),
            ["select $Tag$ ; $tag$ ; $Tag$", "select 2"]
        );
        assert_eq!(texts("select $é$;$é$; x"), ["select $é$;$é$", "x"]);
    }

    #[test]
    fn comments_hide_semicolons() {
        assert_eq!(
            texts("select 1 -- a; b\n; select /* x; /* nested; */ still; */ 2;"),
            ["select 1 -- a; b", "select /* x; /* nested; */ still; */ 2"]
        );
        assert_eq!(
            texts("select 1 - -2; select 2"),
            ["select 1 - -2", "select 2"]
        );
    }

    #[test]
    fn unterminated_quotes_and_comments_run_to_the_end() {
        assert_eq!(texts("select 'abc; select 2"), ["select 'abc; select 2"]);
        assert_eq!(texts("select $$abc; select 2"), ["select $$abc; select 2"]);
        assert_eq!(texts("select 1; /* abc; select 2"), ["select 1"]);
        assert_eq!(texts("select E'\\"), ["select E'\\"]);
        assert_eq!(texts("$"), ["$"]);
    }

    #[test]
    fn semicolons_inside_parentheses_do_not_end_a_statement() {
        let sql = "create rule r as on insert to t do also (insert into a values (1); delete from b); select 2";
        assert_eq!(split(sql).len(), 2);
    }

    #[test]
    fn sql_standard_function_bodies_are_one_statement() {
        let sql = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n\
                   BEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN a > 1 THEN 2 ELSE 3 END;\nEND;\n\
                   create or replace procedure p() begin atomic insert into t values (1); end;\n\
                   select 'begin'; begin; select 1; end;";
        assert_eq!(
            texts(sql),
            [
                "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN a > 1 THEN 2 ELSE 3 END;\nEND",
                "create or replace procedure p() begin atomic insert into t values (1); end",
                "select 'begin'",
                "begin",
                "select 1",
                "end",
            ]
        );
    }

    #[test]
    fn real_world_corpus() {
        let sql = r#"
-- trek:no_transaction
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now(); -- keep it fresh;
  IF NEW.name = ';' THEN RAISE EXCEPTION 'no; semicolons'; END IF;
  RETURN NEW;
END;
$$;

CREATE FUNCTION g() RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE s text := $q$;$q$;
BEGIN RETURN s || E'\';' ; END;
$fn$;

/* a /* nested */ comment; with semicolons; */
CREATE INDEX CONCURRENTLY users_email ON users (email);
CREATE INDEX CONCURRENTLY users_name ON users (name);
COMMENT ON TABLE users IS 'People; who log in';
"#;
        let statements = split(sql);
        assert_eq!(statements.len(), 5, "{statements:#?}");
        assert!(statements[0].text.starts_with("CREATE OR REPLACE FUNCTION"));
        assert!(statements[0].text.ends_with("$$"));
        assert!(statements[1].text.ends_with("$fn$"));
        assert_eq!(
            statements[2].text,
            "CREATE INDEX CONCURRENTLY users_email ON users (email)"
        );
        assert_eq!(
            statements[3].text,
            "CREATE INDEX CONCURRENTLY users_name ON users (name)"
        );
        assert_eq!(
            statements[4].text,
            "COMMENT ON TABLE users IS 'People; who log in'"
        );
        for s in &statements {
            assert_eq!(&sql[s.offset..s.offset + s.text.len()], s.text);
        }
    }

    #[test]
    fn single_statement() {
        assert!(is_single_statement("select 1;"));
        assert!(is_single_statement("-- nothing"));
        assert!(!is_single_statement("select 1; select 2"));
    }

    /// A fragment of a statement: text that holds no statement boundary.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_][a-z0-9_]{0,6}".prop_map(|s| s),
            Just("1".to_owned()),
            Just("$1".to_owned()),
            Just("a$b".to_owned()),
            "[a-z ;$'\"]{0,8}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
            "[a-z ;\\\\'$]{0,8}"
                .prop_map(|s| format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))),
            "[a-z ;'\"]{0,8}".prop_map(|s| format!("$${s}$$")),
            ("[a-z_]{1,4}", "[a-z ;'$\"]{0,8}").prop_map(|(tag, body)| {
                let body = body.replace('$', "");
                format!("${tag}${body}${tag}$")
            }),
            "[a-z ;'$]{0,8}".prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
            "[a-z ;'\"$]{0,8}".prop_map(|s| format!("-- {s}\n")),
            "[a-z ;'\"$]{0,8}".prop_map(|s| format!("/* {s} /* {s} */ */")),
            "[a-z ;'\"]{0,8}".prop_map(|s| format!("(x, '{}')", s.replace('\'', "''"))),
            Just("é".to_owned()),
        ]
    }

    fn statement_text() -> impl Strategy<Value = String> {
        // Starts with a word so that the statement is never comment-only, and its text never
        // starts with a comment.
        ("[a-z]{1,6}", proptest::collection::vec(fragment(), 0..6)).prop_map(|(head, frags)| {
            let mut s = head;
            for f in frags {
                s.push(' ');
                s.push_str(&f);
            }
            // A trailing line comment keeps its newline, so the `;` after it is not part of
            // the comment; the splitter trims it off.
            s
        })
    }

    proptest! {
        #[test]
        fn split_returns_the_statements_that_were_joined(
            statements in proptest::collection::vec(statement_text(), 0..6),
            separators in proptest::collection::vec(
                prop_oneof![Just(";"), Just(";\n"), Just(" ;\n\n"), Just(";-- c;\n"), Just("; /* ; */ ")],
                6,
            ),
            final_semicolon in any::<bool>(),
        ) {
            let mut sql = String::new();
            for (i, s) in statements.iter().enumerate() {
                sql.push_str(s);
                if i + 1 < statements.len() || final_semicolon {
                    sql.push_str(separators[i]);
                }
            }
            let got = split(&sql);
            let got_texts: Vec<&str> = got.iter().map(|s| s.text).collect();
            let want: Vec<&str> = statements.iter().map(|s| s.trim_end()).collect();
            prop_assert_eq!(&got_texts, &want, "sql: {:?}", sql);
            for s in &got {
                prop_assert_eq!(&sql[s.offset..s.offset + s.text.len()], s.text);
            }
        }

        #[test]
        fn split_never_panics(sql in "\\PC{0,64}") {
            for s in split(&sql) {
                prop_assert!(sql[s.offset..].starts_with(s.text));
            }
        }

        #[test]
        fn split_never_panics_on_sql_characters(sql in "[a-z$'\"();\\-/*\\\\ \n]{0,64}") {
            for s in split(&sql) {
                prop_assert!(sql[s.offset..].starts_with(s.text));
                prop_assert!(!s.text.is_empty());
            }
        }
    }
}

#[cfg(test)]
mod outside_a_transaction {
    use super::outside_transaction;

    #[test]
    fn statements_postgresql_refuses_in_a_transaction_block_are_named() {
        for (sql, what) in [
            (
                "CREATE INDEX CONCURRENTLY i ON t (c)",
                Some("CREATE INDEX CONCURRENTLY"),
            ),
            (
                "create unique index concurrently if not exists i on t (c);",
                Some("CREATE INDEX CONCURRENTLY"),
            ),
            (
                "DROP INDEX CONCURRENTLY IF EXISTS i",
                Some("DROP INDEX CONCURRENTLY"),
            ),
            (
                "REINDEX (VERBOSE) TABLE CONCURRENTLY t",
                Some("REINDEX CONCURRENTLY"),
            ),
            ("REINDEX DATABASE app", Some("REINDEX DATABASE")),
            ("VACUUM (ANALYZE) t", Some("VACUUM")),
            ("-- why\nvacuum", Some("VACUUM")),
            ("CREATE DATABASE other", Some("CREATE DATABASE")),
            ("DROP TABLESPACE fast", Some("DROP TABLESPACE")),
            ("ALTER SYSTEM SET work_mem = '64MB'", Some("ALTER SYSTEM")),
            ("DISCARD ALL", Some("DISCARD ALL")),
            (
                "ALTER TYPE mood ADD VALUE 'meh'",
                Some("ALTER TYPE … ADD VALUE"),
            ),
            ("CREATE INDEX i ON t (c)", None),
            ("REINDEX TABLE t", None),
            ("ANALYZE t", None),
            ("SELECT 'VACUUM'", None),
            ("COMMENT ON TABLE t IS 'CREATE INDEX CONCURRENTLY'", None),
        ] {
            assert_eq!(outside_transaction(sql), what, "{sql}");
        }
    }
}

#[cfg(test)]
mod line_endings {
    use super::split;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn a_comment_ends_at_a_lone_carriage_return_as_in_postgresql() {
        assert_eq!(
            texts("CREATE TABLE cr1 (id int); -- note\rCREATE TABLE cr2 (id int);\n"),
            ["CREATE TABLE cr1 (id int)", "CREATE TABLE cr2 (id int)"]
        );
    }

    #[test]
    fn carriage_return_only_line_endings_split_like_line_feeds() {
        let cr = "-- first\rCREATE TABLE a (id int);\r-- second\rCREATE TABLE b (id int);\r";
        let lf = cr.replace('\r', "\n");
        let crlf = cr.replace('\r', "\r\n");
        assert_eq!(texts(cr).len(), 2, "{:?}", texts(cr));
        assert_eq!(texts(cr), texts(&lf));
        assert_eq!(texts(&crlf), texts(&lf));
    }
}
