//! Splitting a SQL script into statements, the way PostgreSQL's lexer (and `psql`) sees them.
//!
//! The splitter knows single-quoted strings (`'…'` with `''`; `E'…'` with backslash escapes;
//! `B'…'`, `X'…'`, `N'…'` and `U&'…'` are plain strings to it), dollar-quoted strings (`$$…$$`,
//! `$tag$…$tag$`; `$1` is a parameter, and a `$` inside an identifier such as `a$b` does not
//! open a quote), quoted identifiers (`"…"` with `""`), `--` comments and nested `/* */`
//! comments. Like `psql`, it does not end a statement on a `;` inside parentheses (a
//! `CREATE RULE … DO ALSO (…; …)`), nor inside the `BEGIN … END` body of a SQL-standard
//! function or procedure (`CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC …; …; END`),
//! counting `CASE … END` inside that body.
//!
//! Limitation: plain `'…'` strings are read with `standard_conforming_strings = on`, the
//! PostgreSQL default since 9.1; a backslash only escapes in `E'…'` strings.

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement text, from its first non-blank, non-comment character up to and not
    /// including its terminating `;`, with trailing whitespace trimmed (a comment at its end or
    /// inside it is kept).
    pub text: &'a str,
    /// Byte offset of `text` in the script.
    pub offset: usize,
}

/// Splits `sql` on the `;` that end statements, ignoring `;` inside single-quoted strings
/// (`'…'`, `E'…'` with backslash escapes), dollar-quoted strings (`$$…$$`, `$tag$…$tag$`),
/// quoted identifiers (`"…"`), `--` comments and nested `/* */` comments, inside parentheses,
/// and inside `BEGIN ATOMIC … END` function bodies (see the [module docs](self)). Statements
/// that hold only whitespace and comments are dropped. An unterminated quote or comment runs to
/// the end. The last statement needs no `;`.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut state = Nesting::default();
    for token in Lexer::new(sql) {
        match token.kind {
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment => {}
            TokenKind::Semicolon if state.at_top() => {
                if let Some(s) = start.take() {
                    out.push(statement(sql, s, token.start));
                }
                state = Nesting::default();
            }
            kind => {
                start.get_or_insert(token.start);
                state.see(kind, &sql[token.start..token.end]);
            }
        }
    }
    if let Some(s) = start {
        out.push(statement(sql, s, sql.len()));
    }
    out
}

/// The transaction-control command a statement is (`BEGIN`, `START TRANSACTION`, `COMMIT`,
/// `END`, `ROLLBACK` without `TO`, `ABORT`, `COMMIT`/`ROLLBACK PREPARED`, `PREPARE
/// TRANSACTION`), upper-cased, or `None`. trek runs each transactional script inside its own
/// transaction, so such a statement would commit part of a migration without its history row.
/// `SAVEPOINT` and `ROLLBACK TO` are fine inside a transaction and are not reported.
pub fn transaction_control(statement: &str) -> Option<&'static str> {
    let mut words = statement
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase);
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

/// Whether `sql` holds at most one statement (comments and a final `;` aside).
pub fn is_single_statement(sql: &str) -> bool {
    split(sql).len() <= 1
}

fn statement(sql: &str, start: usize, end: usize) -> Statement<'_> {
    Statement {
        text: sql[start..end].trim_end(),
        offset: start,
    }
}

/// The `--` comments of `sql` that are outside strings, quoted identifiers and block comments,
/// as (byte offset of the `--`, text after the `--` up to the end of the line).
pub(crate) fn line_comments(sql: &str) -> impl Iterator<Item = (usize, &str)> {
    Lexer::new(sql)
        .filter(|t| t.kind == TokenKind::LineComment)
        .map(move |t| {
            (
                t.start,
                sql[t.start + 2..t.end].trim_end_matches(['\n', '\r']),
            )
        })
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

    fn see(&mut self, kind: TokenKind, text: &str) {
        match kind {
            TokenKind::OpenParen => self.parens += 1,
            TokenKind::CloseParen => self.parens = self.parens.saturating_sub(1),
            TokenKind::Word => self.word(text),
            _ => {}
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Whitespace,
    LineComment,
    BlockComment,
    /// Any kind of single-quoted or dollar-quoted string.
    String,
    QuotedIdent,
    /// An identifier or keyword.
    Word,
    OpenParen,
    CloseParen,
    Semicolon,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

/// A lexer just fine enough to find statement boundaries. Every token starts and ends on a
/// char boundary: every byte it decides on is ASCII, and bytes >= 0x80 belong to words.
struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

impl<'a> Lexer<'a> {
    fn new(sql: &'a str) -> Self {
        Lexer {
            bytes: sql.as_bytes(),
            pos: 0,
        }
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// End of a quoted run opened at `open` (the quote byte), where a doubled quote escapes
    /// it and, when `backslash`, a backslash escapes the next byte.
    fn quoted(&self, open: usize, quote: u8, backslash: bool) -> usize {
        let mut i = open + 1;
        while let Some(b) = self.at(i) {
            if backslash && b == b'\\' {
                i += 2;
            } else if b == quote {
                if self.at(i + 1) == Some(quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i += 1;
            }
        }
        self.bytes.len()
    }

    /// The end of the `$tag$` opening at `open`, when there is one.
    fn dollar_tag(&self, open: usize) -> Option<usize> {
        let mut i = open + 1;
        match self.at(i) {
            Some(b'$') => return Some(i + 1),
            Some(b) if is_ident_start(b) => {}
            _ => return None,
        }
        while let Some(b) = self.at(i) {
            if b == b'$' {
                return Some(i + 1);
            }
            if !(is_ident_start(b) || b.is_ascii_digit()) {
                return None;
            }
            i += 1;
        }
        None
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let start = self.pos;
        let b = self.at(start)?;
        let next = self.at(start + 1);
        let end = match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => {
                let mut i = start + 1;
                while matches!(
                    self.at(i),
                    Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
                ) {
                    i += 1;
                }
                (TokenKind::Whitespace, i)
            }
            b'-' if next == Some(b'-') => {
                let end = self.bytes[start..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(self.bytes.len(), |i| start + i + 1);
                (TokenKind::LineComment, end)
            }
            b'/' if next == Some(b'*') => {
                let mut depth = 1usize;
                let mut i = start + 2;
                let mut end = self.bytes.len();
                while i < self.bytes.len() {
                    match (self.bytes[i], self.at(i + 1)) {
                        (b'/', Some(b'*')) => {
                            depth += 1;
                            i += 2;
                        }
                        (b'*', Some(b'/')) => {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                end = i;
                                break;
                            }
                        }
                        _ => i += 1,
                    }
                }
                (TokenKind::BlockComment, end)
            }
            b'\'' => (TokenKind::String, self.quoted(start, b'\'', false)),
            b'"' => (TokenKind::QuotedIdent, self.quoted(start, b'"', false)),
            b'$' => match self.dollar_tag(start) {
                Some(tag_end) => {
                    let tag = &self.bytes[start..tag_end];
                    let end = self.bytes[tag_end..]
                        .windows(tag.len())
                        .position(|w| w == tag)
                        .map_or(self.bytes.len(), |i| tag_end + i + tag.len());
                    (TokenKind::String, end)
                }
                None => {
                    let mut i = start + 1;
                    while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                        i += 1;
                    }
                    (TokenKind::Other, i)
                }
            },
            b'(' => (TokenKind::OpenParen, start + 1),
            b')' => (TokenKind::CloseParen, start + 1),
            b';' => (TokenKind::Semicolon, start + 1),
            b if is_ident_start(b) => {
                if (b == b'e' || b == b'E') && next == Some(b'\'') {
                    (TokenKind::String, self.quoted(start + 1, b'\'', true))
                } else {
                    let mut i = start + 1;
                    while self.at(i).is_some_and(is_ident_char) {
                        i += 1;
                    }
                    (TokenKind::Word, i)
                }
            }
            b if b.is_ascii_digit() => {
                // A number, with whatever identifier characters PostgreSQL would reject after
                // it, so that `1$$` never opens a dollar quote mid-token.
                let mut i = start + 1;
                while self.at(i).is_some_and(|c| is_ident_char(c) || c == b'.') {
                    i += 1;
                }
                (TokenKind::Other, i)
            }
            _ => (TokenKind::Other, start + 1),
        };
        let (kind, end) = end;
        let end = end.min(self.bytes.len());
        self.pos = end;
        Some(Token { kind, start, end })
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

    #[test]
    fn line_comments_skip_strings() {
        let found: Vec<_> = line_comments("select '-- no' -- yes\n/* -- no */ --last").collect();
        assert_eq!(found, [(15, " yes"), (34, "last")]);
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
